/* SPDX-License-Identifier: Apache-2.0 */
/* A main() for the fuzz targets without libFuzzer: run the target once on
 * each file named, or on each file of each directory named, so that `make
 * check` replays the seeds and the regression inputs under every build.
 * Prints how many inputs ran; a broken property aborts. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void) argc;
  (void) argv;
  return 0;
}

static unsigned long runs;

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  unsigned char *buf = NULL;
  size_t cap = 0, n = 0, got;

  if (f == NULL) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  do {
    if (cap - n < 65536) {
      cap = cap * 2 + 65536;
      buf = realloc(buf, cap);
      if (buf == NULL)
        abort();
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  LLVMFuzzerTestOneInput(buf, n);
  free(buf);
  runs++;
  return 0;
}

static int run_path(const char *path)
{
  struct stat st;
  struct dirent **names;
  int n, r = 0;

  if (stat(path, &st) < 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return run_file(path);
  n = scandir(path, &names, NULL, alphasort);
  if (n < 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  for (int i = 0; i < n; i++) {
    char sub[4096];
    if (names[i]->d_name[0] != '.' && r == 0) {
      snprintf(sub, sizeof sub, "%s/%s", path, names[i]->d_name);
      r = run_path(sub);
    }
    free(names[i]);
  }
  free(names);
  return r;
}

int main(int argc, char **argv)
{
  LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++)
    if (run_path(argv[i]) < 0)
      return 1;
  printf("%lu inputs\n", runs);
  return 0;
}
