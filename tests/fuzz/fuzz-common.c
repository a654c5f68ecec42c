/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the fuzz targets (see fuzz.h). */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "appc/discovery.h"
#include "tests/fuzz/fuzz.h"

void fuzz_fail(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fputs("fuzz: property broken: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);

  if (s == NULL)
    abort();
  if (size > 0)
    memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

int fuzz_memfd(const uint8_t *data, size_t size, char path[64])
{
  int fd = memfd_create("fuzz-input", MFD_CLOEXEC);
  size_t done = 0;

  if (fd < 0)
    fuzz_fail("memfd_create: %m");
  while (done < size) {
    ssize_t n = write(fd, data + done, size - done);
    if (n <= 0)
      fuzz_fail("writing the memfd: %m");
    done += (size_t) n;
  }
  if (lseek(fd, 0, SEEK_SET) != 0)
    fuzz_fail("lseek: %m");
  snprintf(path, 64, "/proc/self/fd/%d", fd);
  return fd;
}

static char scratch[64];

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
  (void) st;
  (void) type;
  if (ftw->level > 0)
    remove(path);
  return 0;
}

void fuzz_empty_dir(const char *dir)
{
  /* Directories the target made unwritable are made writable first. */
  nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_scratch(void)
{
  fuzz_empty_dir(scratch);
  rmdir(scratch);
}

const char *fuzz_scratch_dir(void)
{
  if (scratch[0] == '\0') {
    const char *tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%.40s/actool-fuzz.XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(scratch) == NULL)
      fuzz_fail("mkdtemp %s: %m", scratch);
    atexit(remove_scratch);
  }
  return scratch;
}

void fuzz_write_file(const char *dir, const char *name, const uint8_t *data, size_t size)
{
  char path[4096];
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "wb");
  if (f == NULL)
    fuzz_fail("creating %s: %m", path);
  if (size > 0 && fwrite(data, 1, size, f) != size)
    fuzz_fail("writing %s: %m", path);
  if (fclose(f) != 0)
    fuzz_fail("closing %s: %m", path);
}

size_t fuzz_split(const uint8_t *data, size_t size, char sep, char **pieces, size_t max, char **buf)
{
  char *copy = fuzz_strndup(data, size);
  size_t n = 0;
  char *p = copy;

  while (n < max) {
    char *end = memchr(p, sep, (size_t) (copy + size - p));
    pieces[n++] = p;
    if (end == NULL)
      break;
    *end = '\0';
    p = end + 1;
  }
  *buf = copy;
  return n;
}

void fuzz_check_metas(const struct appc_discovery_metas *m, const char *what)
{
  for (size_t i = 0; i < m->n; i++) {
    const struct appc_discovery_meta *e = &m->v[i];
    if (e->rel == NULL || e->prefix == NULL || e->url == NULL)
      fuzz_fail("%s %zu has a NULL member", what, i);
    if (strcmp(e->rel, "ac-discovery") != 0 && strcmp(e->rel, "ac-discovery-pubkeys") != 0)
      fuzz_fail("%s %zu has rel \"%s\"", what, i, e->rel);
  }
}

int fuzz_count_entries(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;

  if (d == NULL)
    fuzz_fail("opendir %s: %m", dir);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
      n++;
  closedir(d);
  return n;
}
