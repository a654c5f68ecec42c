/* SPDX-License-Identifier: Apache-2.0 */
/* Files: write_all, whole-file reads under a limit, atomic replacement. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"

/* Write LEN bytes at OFFSET, or at the file position when OFFSET is -1,
 * through short writes and EINTR: a short write (a disk filling up) goes
 * on until one fails with the reason in errno. */
static int write_loop(int fd, const void *buf, size_t len, off_t offset)
{
  const unsigned char *p = buf;

  while (len > 0) {
    ssize_t n = offset < 0 ? write(fd, p, len) : pwrite(fd, p, len, offset);
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
    if (offset >= 0)
      offset += n;
  }
  return 0;
}

int appc_write_all(int fd, const void *buf, size_t len)
{
  return write_loop(fd, buf, len, -1);
}

int appc_pwrite_all(int fd, const void *buf, size_t len, off_t offset)
{
  return offset < 0 ? (errno = EINVAL, -1) : write_loop(fd, buf, len, offset);
}

/* ---- reading ---- */

ssize_t appc_read_in_full(int fd, void *buf, size_t len)
{
  size_t have = 0;

  while (have < len) {
    ssize_t n = read(fd, (char *) buf + have, len - have);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    have += (size_t) n;
  }
  return (ssize_t) have;
}

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

int appc_open_file_at(int dirfd, const char *name, unsigned flags, appc_error_t *err)
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
    if (!S_ISREG(st.st_mode)) {
      /* EINVAL tells callers what failed (as appc_error_tag would, which
       * actool, linking this file, cannot reach); the message says it all. */
      bool first = err != NULL && *err == NULL;
      appc_error_make(err, 0, "%s: not a regular file", name);
      if (first && *err != NULL)
        (*err)->errnum = EINVAL;
      return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
      return appc_error_make(err, errno, "%s", name);
  }
  return steal_fd(&fd);
}

int appc_read_file_at(int dirfd, const char *name, size_t max, unsigned flags, char **out,
                      size_t *len, appc_error_t *err)
{
  cleanup_close int fd = appc_open_file_at(dirfd, name, flags, err);

  if (fd < 0)
    return -1;
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
  struct appc_tempfile t = APPC_TEMPFILE_INIT;

  if (appc_tempfile_open(&t, dirfd, "tmpfile", 0600) < 0)
    return -1;
  if (t.name[0] != '\0')
    (void) unlinkat(dirfd, t.name, 0);
  return t.fd;
}

/* Add N to what REPORT has seen copied and tell it: -1 (ECANCELED) when
 * its caller wants the copy to stop. */
static int copy_step(const struct appc_copy_report *report, long long *done, ssize_t n)
{
  *done += n;
  if (report == NULL)
    return 0;
  appc_cb_progress(report->cb, report->op, report->what, (uint64_t) *done, report->total);
  if (appc_cb_cancelled(report->cb)) {
    errno = ECANCELED;
    return -1;
  }
  return 0;
}

static long long copy_by_reads(int in, int out, long long done,
                               const struct appc_copy_report *report)
{
  char buf[128 * 1024];

  for (;;) {
    ssize_t n = read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -1 : done;
    if (appc_write_all(out, buf, (size_t) n) < 0 || copy_step(report, &done, n) < 0)
      return -1;
  }
}

long long appc_copy_fd(int in, int out, const struct appc_copy_report *report)
{
  /* Steps small enough for progress lines when they are reported. */
  size_t step = report != NULL ? 16u << 20 : 1u << 30;
  long long done = 0;

  for (;;) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, step, 0);
    if (n > 0) {
      if (copy_step(report, &done, n) < 0)
        return -1;
      continue;
    }
    if (n == 0)
      return done;
    if (errno == EINTR)
      continue;
    /* Not between these two (pipes, other file systems, old kernels):
     * nothing was copied by this call, so reading goes on from here. */
    if (errno == EXDEV || errno == EINVAL || errno == EOPNOTSUPP || errno == ENOSYS)
      return copy_by_reads(in, out, done, report);
    return -1;
  }
}

/* ---- copying a file's data, holes kept ---- */

#define FILE_COPY_BUF (256 * 1024)
#define OFF_MAX ((off_t) INT64_MAX)

static int copy_range_rw(struct appc_file_copier *b, int src, int dst, off_t off, off_t end)
{
  if (b->buf == NULL && (b->buf = malloc(FILE_COPY_BUF)) == NULL)
    return -1;
  while (off < end) {
    size_t want = end - off > FILE_COPY_BUF ? FILE_COPY_BUF : (size_t) (end - off);
    ssize_t n = pread(src, b->buf, want, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break; /* the file shrank meanwhile: copy what there is */
    if (appc_pwrite_all(dst, b->buf, (size_t) n, off) < 0)
      return -1;
    off += n;
  }
  return 0;
}

static bool cfr_unsupported(int e)
{
  return e == EXDEV || e == EINVAL || e == ENOSYS || e == EOPNOTSUPP;
}

/* Copy bytes [OFF, END) of SRC to the same offsets of DST. */
static int copy_file_range_at(struct appc_file_copier *b, int src, int dst, off_t off, off_t end)
{
  while (off < end && !b->no_cfr) {
    loff_t in = off, out = off;
    ssize_t n = copy_file_range(src, &in, dst, &out, (size_t) (end - off), 0);
    if (n > 0) {
      off += n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && !cfr_unsupported(errno))
      return -1;
    if (n < 0)
      b->no_cfr = true;
    break; /* 0: EOF, or a file system that cannot say; read to make sure */
  }
  return off < end ? copy_range_rw(b, src, dst, off, end) : 0;
}

/* A file with fewer blocks than its size has holes (or is compressed, or
 * inline): copy its data extents only, so that the copy is as sparse. */
static int copy_sparse(struct appc_file_copier *b, int src, int dst, off_t size)
{
  off_t off = 0;

  while (off < size) {
    off_t data = lseek(src, off, SEEK_DATA);
    if (data < 0 && errno == ENXIO)
      break;
    if (data < 0)
      return -1;
    off_t hole = lseek(src, data, SEEK_HOLE);
    if (hole < 0)
      return -1;
    if (hole > size)
      hole = size;
    if (copy_file_range_at(b, src, dst, data, hole) < 0)
      return -1;
    off = hole;
  }
  /* The size it had, or what is left of it if it shrank meanwhile. */
  struct stat now;
  if (fstat(src, &now) == 0 && now.st_size < size)
    size = now.st_size;
  return ftruncate(dst, size);
}

int appc_file_copy_data(struct appc_file_copier *b, int src, int dst, const struct stat *st)
{
  if ((off_t) st->st_blocks * 512 < st->st_size) {
    int r = copy_sparse(b, src, dst, st->st_size);
    if (r == 0 || (errno != EINVAL && errno != EOPNOTSUPP))
      return r; /* else SEEK_DATA is not supported: copy it all */
  }
  /* To the end of the file, not of ST's size: a file of /proc says 0 and
   * has content, and one that grew is copied whole. */
  return copy_file_range_at(b, src, dst, 0, OFF_MAX);
}

void appc_file_copier_clear(struct appc_file_copier *c)
{
  free(c->buf);
  *c = (struct appc_file_copier) APPC_FILE_COPIER_INIT;
}

int appc_atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         unsigned flags, appc_error_t *err)
{
  const char *base;
  cleanup_close int parent = open_parent(dirfd, name, &base, err);
  struct appc_tempfile t = APPC_TEMPFILE_INIT;

  if (parent < 0)
    return -1;
  if (appc_tempfile_open(&t, parent, base, mode) < 0)
    return appc_error_make(err, errno, "%s: cannot create a temporary file beside it", name);
  /* MODE whatever the umask */
  if (fchmod(t.fd, mode) < 0 || appc_write_all(t.fd, data, len) < 0 ||
      appc_tempfile_install(&t, base, flags) < 0) {
    appc_error_make(err, errno, "%s", name);
    appc_tempfile_discard(&t);
    return -1;
  }
  appc_tempfile_discard(&t);
  return 0;
}

/* ---- files that take their name when complete ---- */

static void tempfile_named(struct appc_tempfile *t, const char *name)
{
  if (name == NULL)
    t->name[0] = '\0';
  if (t->named != NULL)
    t->named(name, t->data);
}

int appc_tempfile_open(struct appc_tempfile *t, int dirfd, const char *base, mode_t mode)
{
  t->dirfd = dirfd;
  t->name[0] = '\0';
  t->fd = openat(dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
  if (t->fd >= 0)
    return 0;
  /* Not every file system has O_TMPFILE (EOPNOTSUPP; EISDIR on old kernels). */
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
    return -1;
  t->fd = create_temp(dirfd, base, t->name, sizeof t->name, mode, O_RDWR);
  if (t->fd < 0) {
    t->name[0] = '\0';
    return -1;
  }
  tempfile_named(t, t->name);
  return 0;
}

/* Link the unnamed file to NAME.  Through /proc, which works without the
 * CAP_DAC_READ_SEARCH that AT_EMPTY_PATH would need. */
static int link_unnamed(struct appc_tempfile *t, const char *name)
{
  char proc[64];

  snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
  return linkat(AT_FDCWD, proc, t->dirfd, name, AT_SYMLINK_FOLLOW);
}

/* An unnamed file that is to replace NAME needs a name to rename from; it
 * has one for an instant. */
static int name_unnamed(struct appc_tempfile *t, const char *name)
{
  for (int attempt = 0; attempt < 16; attempt++) {
    unsigned long long r;
    if (getrandom(&r, sizeof r, 0) != (ssize_t) sizeof r)
      r = (unsigned long long) getpid() << 32 ^ (unsigned long long) attempt;
    if (snprintf(t->name, sizeof t->name, ".%.200s.tmp-%016llx", name, r) >= (int) sizeof t->name) {
      t->name[0] = '\0';
      errno = ENAMETOOLONG;
      return -1;
    }
    if (link_unnamed(t, t->name) == 0) {
      tempfile_named(t, t->name);
      return 0;
    }
    if (errno != EEXIST)
      break;
  }
  t->name[0] = '\0';
  return -1;
}

/* Rename the hidden name to NAME; without replacing, by RENAME_NOREPLACE or,
 * where the file system lacks it, by link(2), which refuses to clobber. */
static int rename_named(struct appc_tempfile *t, const char *name, bool replace)
{
  if (renameat2(t->dirfd, t->name, t->dirfd, name, replace ? 0 : RENAME_NOREPLACE) == 0)
    return 0;
  if (replace || errno != EINVAL)
    return -1;
  if (linkat(t->dirfd, t->name, t->dirfd, name, 0) < 0)
    return -1;
  (void) unlinkat(t->dirfd, t->name, 0);
  return 0;
}

int appc_tempfile_install(struct appc_tempfile *t, const char *name, unsigned flags)
{
  bool replace = !(flags & APPC_WRITE_NOREPLACE);

  if ((flags & APPC_WRITE_DURABLE) && fsync(t->fd) < 0)
    return -1;
  /* The last moment to back out: after this the file has its name. */
  if (appc_cb_cancelled(t->cb)) {
    errno = ECANCELED;
    return -1;
  }
  if (t->name[0] == '\0') {
    if (!replace) {
      if (link_unnamed(t, name) < 0)
        return -1;
      goto done;
    }
    if (name_unnamed(t, name) < 0)
      return -1;
  }
  if (rename_named(t, name, replace) < 0)
    return -1;
  tempfile_named(t, NULL);
done:
  if ((flags & APPC_WRITE_DURABLE) && fsync(t->dirfd) < 0)
    return -1;
  return 0;
}

void appc_tempfile_discard(struct appc_tempfile *t)
{
  int e = errno;

  if (t->name[0] != '\0' && t->dirfd >= 0) {
    (void) unlinkat(t->dirfd, t->name, 0);
    tempfile_named(t, NULL);
  }
  if (t->fd >= 0)
    close(t->fd);
  t->fd = -1;
  errno = e;
}

DIR *appc_dir_stream(int dir_fd)
{
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

  if (d == NULL && fd >= 0) {
    int e = errno;
    close(fd);
    errno = e;
  }
  return d;
}

bool appc_dir_is_empty(int parent_fd, const char *name)
{
  int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;
  bool empty = dir != NULL;

  if (dir == NULL && fd >= 0)
    close(fd);
  while (dir != NULL && (de = readdir(dir)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
      empty = false;
      break;
    }
  if (dir != NULL)
    closedir(dir);
  return empty;
}

int appc_open_in_root(int root_fd, const char *path, int flags)
{
  struct open_how how = {
      .flags = (unsigned long long) (flags | O_CLOEXEC),
      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
  };

  while (*path == '/')
    path++;
  if (*path == '\0')
    path = ".";
  return (int) syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

static bool is_dot_or_dotdot(const char *name)
{
  return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

int appc_mkdirs_in_root_noting(int root_fd, const char *path, mode_t mode,
                               int (*made)(const char *path, void *data), void *data)
{
  cleanup_free char *walk = strdup(path);
  int fd;

  if (walk == NULL)
    return -1;
  for (size_t n = strlen(walk); n > 0 && walk[n - 1] == '/'; n--)
    walk[n - 1] = '\0';
  if ((fd = appc_open_in_root(root_fd, walk, O_RDONLY | O_DIRECTORY)) >= 0 || errno != ENOENT)
    return fd;
  char *slash = strrchr(walk, '/');
  const char *name = slash != NULL ? slash + 1 : walk;
  if (slash != NULL)
    *slash = '\0';
  cleanup_close int parent =
      appc_mkdirs_in_root_noting(root_fd, slash != NULL ? walk : "", mode, made, data);
  if (parent < 0)
    return -1;
  /* "." and "..": resolved again from the root, which they cannot leave */
  if (is_dot_or_dotdot(name))
    return appc_open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY);
  if (mkdirat(parent, name, mode) < 0) {
    if (errno != EEXIST)
      return -1;
  } else if (made != NULL) {
    if (slash != NULL)
      *slash = '/';
    if (made(walk, data) < 0) {
      /* unnoted, it could not be undone: it goes now */
      int saved = errno;
      (void) unlinkat(parent, name, AT_REMOVEDIR);
      errno = saved;
      return -1;
    }
  }
  return openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int appc_mkdirs_in_root(int root_fd, const char *path, mode_t mode)
{
  return appc_mkdirs_in_root_noting(root_fd, path, mode, NULL, NULL);
}

int appc_flock(int fd, int op)
{
  int r;

  while ((r = flock(fd, op)) < 0 && errno == EINTR)
    ;
  return r;
}

int appc_lock_at(int dirfd, const char *name, appc_error_t *err)
{
  int fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

  if (fd < 0)
    return appc_error_make(err, errno, "%s", name);
  if (appc_flock(fd, LOCK_EX) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e, "%s: locking it", name);
  }
  return fd;
}

/* ---- descriptors over Unix sockets ------------------------------------------------------ */

int appc_send_fd(int sock, int fd)
{
  char byte = 'f';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl = {0};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : -1;
}

int appc_recv_fd(int sock, int flags)
{
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
  } ctl;
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
  int fd;

  ssize_t n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  if (n == 0) /* the other end is gone */
    errno = EPIPE;
  if (n != 1)
    return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
      c->cmsg_len != CMSG_LEN(sizeof(int))) {
    errno = EBADMSG;
    return -1;
  }
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

char *appc_mkdtemp(const char *dir, const char *prefix, const char **used)
{
  char *path = NULL;

  if (dir == NULL || *dir == '\0')
    dir = getenv("TMPDIR");
  if (dir == NULL || *dir == '\0')
    dir = "/tmp";
  if (used != NULL)
    *used = dir;
  if (asprintf(&path, "%s/%s-XXXXXX", dir, prefix) < 0) {
    errno = ENOMEM;
    return NULL;
  }
  if (mkdtemp(path) == NULL) {
    int e = errno;
    free(path);
    errno = e;
    return NULL;
  }
  return path;
}

int appc_dir_reopen_in_mount(int dir_fd, int mount_fd)
{
  union {
    struct file_handle fh;
    char room[sizeof(struct file_handle) + MAX_HANDLE_SZ];
  } h = {.fh.handle_bytes = MAX_HANDLE_SZ};
  struct stat dir, mount;
  int mount_id;

  if (fstat(dir_fd, &dir) < 0 || fstat(mount_fd, &mount) < 0)
    return -1;
  /* a handle means something on its own file system only */
  if (dir.st_dev != mount.st_dev) {
    errno = EXDEV;
    return -1;
  }
  if (name_to_handle_at(dir_fd, "", &h.fh, &mount_id, AT_EMPTY_PATH) < 0)
    return -1;
  return open_by_handle_at(mount_fd, &h.fh, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

bool appc_same_mount(int a, int b)
{
  struct statx sa, sb;

  return statx(a, "", AT_EMPTY_PATH, STATX_MNT_ID, &sa) == 0 &&
         statx(b, "", AT_EMPTY_PATH, STATX_MNT_ID, &sb) == 0 && (sa.stx_mask & STATX_MNT_ID) &&
         (sb.stx_mask & STATX_MNT_ID) && sa.stx_mnt_id == sb.stx_mnt_id;
}

int64_t appc_monotonic_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int appc_wait_readable(int fd, int64_t deadline)
{
  for (;;) {
    int64_t left = deadline - appc_monotonic_ms();
    if (left <= 0)
      return 0;
    int r = poll(&(struct pollfd){.fd = fd, .events = POLLIN}, 1,
                 left > INT32_MAX ? INT32_MAX : (int) left);
    if (r != 0 && !(r < 0 && errno == EINTR))
      return r > 0 ? 1 : -1;
  }
}

static int compare_ints(const void *a, const void *b)
{
  int x = *(const int *) a, y = *(const int *) b;

  return (x > y) - (x < y);
}

void appc_close_fds_except(unsigned first, int *keep, size_t n)
{
  qsort(keep, n, sizeof *keep, compare_ints);
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < 0 || (unsigned) keep[i] < first)
      continue;
    if ((unsigned) keep[i] > first)
      close_range(first, (unsigned) keep[i] - 1, 0);
    first = (unsigned) keep[i] + 1;
  }
  close_range(first, ~0u, 0);
}

bool appc_path_has_dot_component(const char *path)
{
  for (const char *p = path; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return true;
    p += n + (p[n] == '/');
  }
  return false;
}

int appc_dir_chain_find(int dir_fd, const struct stat *at, size_t n)
{
  int fd = openat(dir_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  int found = -1;

  while (fd >= 0 && found < 0) {
    struct stat here, up;
    if (fstat(fd, &here) < 0)
      break;
    for (size_t i = 0; i < n && found < 0; i++)
      if (here.st_dev == at[i].st_dev && here.st_ino == at[i].st_ino)
        found = (int) i;
    int parent = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    /* the root is its own parent */
    if (parent >= 0 &&
        (fstat(parent, &up) < 0 || (up.st_dev == here.st_dev && up.st_ino == here.st_ino))) {
      close(parent);
      parent = -1;
    }
    close(fd);
    fd = parent;
  }
  if (fd >= 0)
    close(fd);
  return found;
}

bool appc_dir_is_or_above(int dir_fd, const struct stat *at)
{
  return appc_dir_chain_find(dir_fd, at, 1) >= 0;
}
