/* SPDX-License-Identifier: Apache-2.0 */
/* Scratch directories for cmocka unit tests: one per test, removed by the
 * teardown even when a failing assertion jumped over the test's own
 * scratch_remove().  Define SCRATCH_PREFIX ("test-aci", ...) before
 * including. */
#ifndef APPC_TESTS_TEST_SCRATCH_H
#define APPC_TESTS_TEST_SCRATCH_H

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/test-util.h"

static char *current_scratch;

static inline char *scratch_new(void)
{
  const char *tmp = getenv("TMPDIR");
  char *dir = NULL;
  assert_true(asprintf(&dir, "%s/" SCRATCH_PREFIX "-XXXXXX", tmp != NULL ? tmp : "/tmp") > 0);
  assert_non_null(mkdtemp(dir));
  current_scratch = dir;
  return dir;
}

static inline int scratch_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static inline void scratch_remove(char *dir)
{
  if (dir == NULL)
    return;
  nftw(dir, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
  if (dir == current_scratch)
    current_scratch = NULL;
  free(dir);
}

static inline char *path_join(const char *dir, const char *rel)
{
  char *p = NULL;
  assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
  return p;
}

/* DIR/REL and its missing parents (mode 0755). */
static inline void mkdirs(const char *dir, const char *rel)
{
  char *p = path_join(dir, rel);
  for (char *s = p + strlen(dir) + 1; *s != '\0'; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
      fail_msg("mkdir %s: %s", p, strerror(errno));
    *s = '/';
  }
  if (mkdir(p, 0755) < 0 && errno != EEXIST)
    fail_msg("mkdir %s: %s", p, strerror(errno));
  free(p);
}

/* DIR/REL holding LEN bytes of DATA, its directories created. */
static inline void write_file(const char *dir, const char *rel, const void *data, size_t len)
{
  const char *slash = strrchr(rel, '/');
  if (slash != NULL) {
    char *parent = strndup(rel, (size_t) (slash - rel));
    assert_non_null(parent);
    mkdirs(dir, parent);
    free(parent);
  }
  char *p = path_join(dir, rel);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  assert_int_equal(fclose(f), 0);
  free(p);
}

/* Entries in DIR, "." and ".." aside. */
static inline int count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  int n = 0;
  assert_non_null(d);
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      n++;
  }
  closedir(d);
  return n;
}

#endif
