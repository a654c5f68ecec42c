/* SPDX-License-Identifier: Apache-2.0 */
/* Per-process cost of short commands, for bench/run.
 *
 *   spawn-loop RUNS LOOPS -- CMD [ARG...] [-- CMD [ARG...]]...
 *
 * Starts each command LOOPS x RUNS times with posix_spawn (stdout and stderr
 * to /dev/null), the commands taking turns so that load from elsewhere on the
 * machine hits all alike, and waits for each before the next.  For every
 * command it prints one line: its index, then the median over the RUNS blocks
 * of LOOPS starts of the mean time per process, in seconds.
 *
 * A shell loop would measure the same thing, but the shell's fork copies a
 * large process and disturbs the caches on every iteration, which weighs
 * more on a larger program than on /bin/true; posix_spawn (vfork and exec)
 * keeps the spawner's own cost small and even.  Every command must exit 0. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#define MAX_CMDS 16

extern char **environ;

static double now_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static int run_once(char **argv, const posix_spawn_file_actions_t *fa, double *elapsed)
{
  pid_t pid;
  int status, r;
  double start = now_seconds();

  r = posix_spawn(&pid, argv[0], fa, NULL, argv, environ);
  if (r != 0) {
    fprintf(stderr, "spawn-loop: %s: %s\n", argv[0], strerror(r));
    return -1;
  }
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("spawn-loop: waitpid");
      return -1;
    }
  }
  *elapsed = now_seconds() - start;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "spawn-loop: %s failed (status %d)\n", argv[0], status);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  char **cmds[MAX_CMDS];
  int ncmds = 0;
  long runs = argc > 2 ? strtol(argv[1], NULL, 10) : 0;
  long loops = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
  posix_spawn_file_actions_t fa;
  double *block; /* [cmd][run]: mean seconds per process */

  if (argc < 5 || runs <= 0 || loops <= 0 || strcmp(argv[3], "--") != 0) {
    fprintf(stderr, "usage: spawn-loop RUNS LOOPS -- CMD [ARG...] [-- CMD [ARG...]]...\n");
    return 2;
  }
  for (int i = 3; i < argc; i++) {
    if (strcmp(argv[i], "--") != 0)
      continue;
    argv[i] = NULL; /* ends the previous command's argv */
    if (i + 1 >= argc || strcmp(argv[i + 1], "--") == 0 || ncmds == MAX_CMDS) {
      fprintf(stderr, "spawn-loop: an empty command, or more than %d\n", MAX_CMDS);
      return 2;
    }
    cmds[ncmds++] = argv + i + 1;
  }
  block = calloc((size_t) ncmds * (size_t) runs, sizeof *block);
  if (block == NULL)
    return 1;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  for (long r = 0; r < runs; r++) {
    for (long l = 0; l < loops; l++) {
      for (int c = 0; c < ncmds; c++) {
        double t;
        if (run_once(cmds[c], &fa, &t) < 0)
          return 1;
        block[c * runs + r] += t / (double) loops;
      }
    }
  }
  for (int c = 0; c < ncmds; c++) {
    double *b = block + c * runs;
    qsort(b, (size_t) runs, sizeof *b, cmp_double);
    printf("%d %.9f\n", c, runs % 2 ? b[runs / 2] : (b[runs / 2 - 1] + b[runs / 2]) / 2);
  }
  posix_spawn_file_actions_destroy(&fa);
  free(block);
  return 0;
}
