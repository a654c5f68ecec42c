/* SPDX-License-Identifier: Apache-2.0 */
/* Files: write_all, whole-file reads under a limit, atomic replacement. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"

int appc_write_all(int fd, const void *buf, size_t len)
{
  const unsigned char *p = buf;

  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

/* ---- reading ---- */

int appc_read_fd(int fd, const char *what, size_t max, char **out, size_t *len, appc_error_t *err)
{
  struct stat st;
  cleanup_free char *buf = NULL;
  size_t used = 0, cap;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s", what);
  if (S_ISREG(st.st_mode) && st.st_size > 0 && (unsigned long long) st.st_size > max)
    return appc_error_make(err, EFBIG, "%s: larger than the limit of %zu bytes", what, max);
  /* A regular file's size is known (one byte more tells that it grew);
   * anything else grows the buffer as it comes. */
  cap = S_ISREG(st.st_mode) ? (size_t) st.st_size + 1 : 4096;
  for (;;) {
    if (used == cap) {
      size_t grown = cap > max / 2 ? max + 1 : cap * 2;
      char *p;
      if (grown <= cap)
        break; /* used == max + 1: over the limit */
      p = realloc(buf, grown + 1);
      if (p == NULL)
        return appc_error_make(err, ENOMEM, "%s", what);
      buf = p;
      cap = grown;
    } else if (buf == NULL && (buf = malloc(cap + 1)) == NULL) {
      return appc_error_make(err, ENOMEM, "%s", what);
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "%s", what);
    if (n == 0)
      break;
    used += (size_t) n;
    if (used > max)
      break;
  }
  if (used > max)
    return appc_error_make(err, EFBIG, "%s: larger than the limit of %zu bytes", what, max);
  buf[used] = '\0';
  *out = steal_pointer(&buf);
  if (len != NULL)
    *len = used;
  return 0;
}

int appc_read_file_at(int dirfd, const char *name, size_t max, unsigned flags, char **out,
                      size_t *len, appc_error_t *err)
{
  /* O_NONBLOCK when only a regular file will do: opening a FIFO must not
   * wait for a writer before it is refused. */
  int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | (flags & APPC_READ_NOFOLLOW ? O_NOFOLLOW : 0) |
               (flags & APPC_READ_REGULAR ? O_NONBLOCK : 0);
  cleanup_close int fd = openat(dirfd, name, oflags);
  struct stat st;

  if (fd < 0)
    return appc_error_make(err, errno, "%s", name);
  if (flags & APPC_READ_REGULAR) {
    if (fstat(fd, &st) < 0)
      return appc_error_make(err, errno, "%s", name);
    if (!S_ISREG(st.st_mode))
      return appc_error_make(err, EINVAL, "%s: not a regular file", name);
  }
  return appc_read_fd(fd, name, max, out, len, err);
}

/* ---- atomic replacement ---- */

/* The directory holding NAME, opened, and NAME's last component in *BASE. */
static int open_parent(int dirfd, const char *name, const char **base, appc_error_t *err)
{
  const char *slash = strrchr(name, '/');
  cleanup_free char *dir = NULL;
  int fd;

  *base = slash != NULL ? slash + 1 : name;
  if (**base == '\0')
    return appc_error_make(err, EISDIR, "%s: names a directory, not a file", name);
  if (slash == NULL)
    dir = strdup(".");
  else if (slash == name)
    dir = strdup("/");
  else
    dir = strndup(name, (size_t) (slash - name));
  if (dir == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "%s: its directory", name);
  return fd;
}

/* Create a new hidden temporary for BASE in DIRFD; its name in TMP. */
static int create_temp(int dirfd, const char *base, char *tmp, size_t size, mode_t mode, int access)
{
  for (int attempt = 0; attempt < 16; attempt++) {
    unsigned long long r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t) sizeof r)
      r = (unsigned long long) getpid() << 32 ^ (unsigned long long) attempt;
    if (snprintf(tmp, size, ".%.200s.tmp-%016llx", base, r) >= (int) size) {
      errno = ENAMETOOLONG;
      return -1;
    }
    int fd = openat(dirfd, tmp, access | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EEXIST)
      return fd;
  }
  return -1;
}

int appc_tmpfile_at(int dirfd)
{
  char tmp[64];
  int fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
    return fd;
  fd = create_temp(dirfd, "tmpfile", tmp, sizeof tmp, 0600, O_RDWR);
  if (fd >= 0)
    (void) unlinkat(dirfd, tmp, 0);
  return fd;
}

static long long copy_by_reads(int in, int out, long long done)
{
  char buf[128 * 1024];

  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -1 : done;
    if (appc_write_all(out, buf, (size_t) n) < 0)
      return -1;
    done += n;
  }
}

long long appc_copy_fd(int in, int out)
{
  long long done = 0;

  for (;;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
    if (n > 0) {
      done += n;
      continue;
    }
    if (n == 0)
      return done;
    if (errno == EINTR)
      continue;
    /* Not between these two (pipes, other file systems, old kernels):
     * nothing was copied by this call, so reading goes on from here. */
    if (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
      return copy_by_reads(in, out, done);
    return -1;
  }
}

/* Write the temporary's content: DATA, MODE whatever the umask, and with
 * DURABLE its blocks on disk before it takes the name. */
static int fill_temp(int fd, const void *data, size_t len, mode_t mode, unsigned flags)
{
  if (fchmod(fd, mode) < 0 || appc_write_all(fd, data, len) < 0)
    return -1;
  if ((flags & APPC_WRITE_DURABLE) && fsync(fd) < 0)
    return -1;
  return 0;
}

int appc_atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         unsigned flags, appc_error_t *err)
{
  const char *base;
  cleanup_close int parent = open_parent(dirfd, name, &base, err);
  cleanup_close int fd = -1;
  char tmp[256];
  int e;

  if (parent < 0)
    return -1;
  fd = create_temp(parent, base, tmp, sizeof tmp, mode, O_WRONLY);
  if (fd < 0)
    return appc_error_make(err, errno, "%s: cannot create a temporary file beside it", name);
  if (fill_temp(fd, data, len, mode, flags) < 0 || close(steal_fd(&fd)) < 0)
    goto fail;
  if (flags & APPC_WRITE_NOREPLACE) {
    if (linkat(parent, tmp, parent, base, 0) < 0)
      goto fail;
    (void) unlinkat(parent, tmp, 0);
  } else if (renameat(parent, tmp, parent, base) < 0) {
    goto fail;
  }
  if ((flags & APPC_WRITE_DURABLE) && fsync(parent) < 0)
    return appc_error_make(err, errno, "%s: syncing its directory", name);
  return 0;

fail:
  e = errno;
  (void) unlinkat(parent, tmp, 0);
  return appc_error_make(err, e, "%s", name);
}
