/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of ace/pod.c's reading of processes: a process is known by its
 * PID and start time, and one that was killed but not yet waited for (a
 * zombie) has ended, so that its pod, its user id range and its lock are
 * taken for what they are: left behind. */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ace/internal.h"
#include "tests/unit/test-util.h"

/* PID's state letter, from /proc/PID/stat. */
static char state_of(pid_t pid)
{
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  assert_non_null(p);
  return p[2];
}

/* Wait (1 s at most) until /proc shows PID's leader a zombie. */
static void await_zombie(pid_t pid)
{
  for (int i = 0; i < 500 && state_of(pid) != 'Z'; i++) {
    struct timespec step = {0, 2 * 1000 * 1000};
    nanosleep(&step, NULL);
  }
  assert_int_equal(state_of(pid), 'Z');
}

static void test_self_is_alive(void **state)
{
  unsigned long long start = 0;
  (void) state;

  assert_int_equal(ace_proc_start_time(getpid(), &start), 0);
  assert_true(start > 0);
  assert_true(ace_proc_alive(getpid(), start));
  /* the same PID with another start time: another process */
  assert_false(ace_proc_alive(getpid(), start + 1));
  assert_false(ace_proc_alive(0, start));
  assert_false(ace_proc_alive(-1, start));
}

static void test_zombie_has_ended(void **state)
{
  unsigned long long start = 0;
  (void) state;

  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  assert_int_equal(ace_proc_start_time(child, &start), 0);
  assert_true(ace_proc_alive(child, start));
  assert_int_equal(kill(child, SIGKILL), 0);
  /* not waited for: a zombie, which keeps its PID and start time */
  await_zombie(child);
  unsigned long long still = 0;
  assert_int_equal(ace_proc_start_time(child, &still), 0);
  assert_true(still == start);
  assert_false(ace_proc_alive(child, start));
  assert_int_equal(waitpid(child, NULL, 0), child);
  assert_false(ace_proc_alive(child, start));
}

static void *wait_forever(void *arg)
{
  (void) arg;
  for (;;)
    pause();
  return NULL;
}

/* A process whose main thread has exited (pthread_exit) while another
 * runs: /proc shows its leader a zombie, but the process has not ended. */
static void test_leader_gone_threads_running(void **state)
{
  unsigned long long start = 0;
  (void) state;

  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    pthread_t t;
    if (pthread_create(&t, NULL, wait_forever, NULL) != 0)
      _exit(1);
    pthread_exit(NULL);
  }
  assert_int_equal(ace_proc_start_time(child, &start), 0);
  await_zombie(child);
  assert_true(ace_proc_alive(child, start));
  assert_int_equal(kill(child, SIGKILL), 0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  assert_false(ace_proc_alive(child, start));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_self_is_alive),
      cmocka_unit_test(test_zombie_has_ended),
      cmocka_unit_test(test_leader_gone_threads_running),
  };
  return cmocka_run_group_tests_name("ace-proc", tests, NULL, NULL);
}
