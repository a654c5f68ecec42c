/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/fs: write_all, whole-file reads, atomic writes,
 * files that take their name when complete. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define SCRATCH_PREFIX "test-common-fs"
#include "tests/unit/test-scratch.h"

#include "appc/callbacks.h"
#include "common/cleanup.h"
#include "common/callbacks.h"
#include "common/fs.h"
#include "common/lockwait.h"

/* openat is wrapped (-Wl,--wrap=openat) so that a test can take O_TMPFILE
 * away, as file systems without it do. */
static bool no_o_tmpfile;
int __real_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
  va_list ap;
  va_start(ap, flags);
  mode_t mode = (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
  va_end(ap);
  if (no_o_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
    errno = EOPNOTSUPP;
    return -1;
  }
  return __real_openat(dirfd, path, flags, mode);
}

static int teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

/* The entries of DIR (but . and ..), counted. */
static int entries(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

/* A child writing LEN bytes of DATA with appc_write_all into a pipe whose
 * read end is *READ_FD; the child's pid.  It exits 0 when all was written. */
static pid_t pipe_writer(const void *data, size_t len, int *read_fd)
{
  int p[2];
  pid_t pid;

  assert_int_equal(pipe(p), 0);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    _exit(appc_write_all(p[1], data, len) == 0 ? 0 : 1);
  }
  close(p[1]);
  *read_fd = p[0];
  return pid;
}

static void test_write_all_pipe(void **state)
{
  static char buf[200000], data[200000];
  size_t got = 0;
  int fd;
  (void) state;

  memset(data, 'x', sizeof data);
  /* More than a pipe holds: written in parts while we read. */
  pid_t pid = pipe_writer(data, sizeof data, &fd);
  for (ssize_t n; (n = read(fd, buf + got, sizeof buf - got)) > 0;)
    got += (size_t) n;
  close(fd);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(got, sizeof data);
  assert_int_equal(appc_write_all(-1, "x", 1), -1);
  assert_int_equal(errno, EBADF);
}

/* The names a stream of DFD reads, sorted, space-separated. */
static char *stream_names(int dfd)
{
  DIR *d = appc_dir_stream(dfd);
  char *names[8], *out = calloc(1, 256);
  size_t n = 0;
  struct dirent *e;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && n < 8)
      names[n++] = strdup(e->d_name);
  closedir(d);
  for (size_t i = 0; i < n; i++)
    for (size_t k = i + 1; k < n; k++)
      if (strcmp(names[k], names[i]) < 0) {
        char *t = names[i];
        names[i] = names[k];
        names[k] = t;
      }
  for (size_t i = 0; i < n; i++) {
    strcat(out, i > 0 ? " " : "");
    strcat(out, names[i]);
    free(names[i]);
  }
  return out;
}

static void test_dir_stream(void **state)
{
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  (void) state;

  write_file(dir, "b", "", 0);
  write_file(dir, "a", "", 0);
  char *first = stream_names(dfd);
  /* each stream starts afresh, and the caller's descriptor stays open */
  char *again = stream_names(dfd);
  assert_string_equal(first, "a b");
  assert_string_equal(again, "a b");
  assert_true(fcntl(dfd, F_GETFD) >= 0);
  free(first);
  free(again);
  errno = 0;
  assert_null(appc_dir_stream(-1));
  assert_int_equal(errno, EBADF);
  scratch_remove(dir);
}

static void test_read_limits(void **state)
{
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  cleanup_free char *text = NULL;
  appc_error_t err = NULL;
  size_t len = 0;
  (void) state;

  write_file(dir, "ten", "0123456789", 10);
  assert_ok(appc_read_file_at(dfd, "ten", 10, 0, &text, &len, &err), &err);
  assert_int_equal(len, 10);
  assert_string_equal(text, "0123456789"); /* NUL-terminated */
  assert_error_contains(appc_read_file_at(dfd, "ten", 9, 0, &text, &len, &err), &err,
                        "ten: larger than the limit of 9 bytes");
  write_file(dir, "empty", "", 0);
  free(text);
  text = NULL;
  assert_ok(appc_read_file_at(dfd, "empty", 0, 0, &text, &len, &err), &err);
  assert_int_equal(len, 0);
  assert_string_equal(text, "");
  assert_error_contains(appc_read_file_at(dfd, "missing", 10, 0, &text, &len, &err), &err,
                        "missing: No such file or directory");
  /* Symlinks and directories when refused. */
  assert_int_equal(symlinkat("ten", dfd, "link"), 0);
  assert_error_contains(appc_read_file_at(dfd, "link", 10, APPC_READ_NOFOLLOW, &text, &len, &err),
                        &err, "link");
  assert_int_equal(mkdirat(dfd, "sub", 0755), 0);
  assert_error_contains(appc_read_file_at(dfd, "sub", 10, APPC_READ_REGULAR, &text, &len, &err),
                        &err, "sub: not a regular file");
  /* A FIFO without a writer is refused, not waited on. */
  assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
  assert_error_contains(appc_read_file_at(dfd, "fifo", 10, APPC_READ_REGULAR, &text, &len, &err),
                        &err, "fifo: not a regular file");
  /* A file whose size stat cannot tell (procfs says 0). */
  free(text);
  text = NULL;
  assert_ok(appc_read_file_at(AT_FDCWD, "/proc/self/status", 1 << 20, 0, &text, &len, &err), &err);
  assert_true(len > 0 && strstr(text, "Name:") != NULL);
}

static void test_read_pipe_limit(void **state)
{
  static char data[100000];
  int fd;
  cleanup_free char *text = NULL;
  appc_error_t err = NULL;
  size_t len = 0;
  (void) state;

  memset(data, 'y', sizeof data);
  for (int over = 0; over <= 1; over++) {
    pid_t pid = pipe_writer(data, sizeof data, &fd);
    if (over) {
      assert_error_contains(appc_read_fd(fd, "pipe", sizeof data - 1, &text, &len, &err), &err,
                            "pipe: larger than the limit of 99999 bytes");
    } else {
      assert_ok(appc_read_fd(fd, "pipe", sizeof data, &text, &len, &err), &err);
      assert_int_equal(len, sizeof data);
      free(steal_pointer(&text));
    }
    close(fd);
    waitpid(pid, NULL, 0);
  }
}

/* More than a pipe holds arrives in parts: read in full all the same, and
 * at its end as much as there was. */
static void test_read_in_full_pipe(void **state)
{
  static char data[200000], buf[200001];
  int fd;
  (void) state;

  memset(data, 'z', sizeof data);
  pid_t pid = pipe_writer(data, sizeof data, &fd);
  assert_int_equal(appc_read_in_full(fd, buf, 1000), 1000);
  assert_int_equal(appc_read_in_full(fd, buf + 1000, sizeof buf - 1000), sizeof data - 1000);
  assert_memory_equal(buf, data, sizeof data);
  assert_int_equal(appc_read_in_full(fd, buf, 10), 0);
  close(fd);
  waitpid(pid, NULL, 0);
  assert_int_equal(appc_read_in_full(-1, buf, 10), -1);
  assert_int_equal(errno, EBADF);
}

static void test_atomic_write(void **state)
{
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  cleanup_free char *text = NULL;
  appc_error_t err = NULL;
  struct stat st;
  mode_t old = umask(077);
  (void) state;

  assert_ok(appc_atomic_write_at(dfd, "f", "one", 3, 0644, APPC_WRITE_DURABLE, &err), &err);
  assert_ok(appc_atomic_write_at(dfd, "f", "two!", 4, 0640, 0, &err), &err);
  umask(old);
  assert_ok(appc_read_file_at(dfd, "f", 100, 0, &text, NULL, &err), &err);
  assert_string_equal(text, "two!");
  assert_int_equal(fstatat(dfd, "f", &st, 0), 0);
  assert_int_equal(st.st_mode & 07777, 0640); /* the umask does not apply */
  assert_int_equal(entries(dir), 1);          /* no temporary left */

  /* A path with directories, relative to the current directory. */
  mkdirs(dir, "a/b");
  cleanup_free char *path = path_join(dir, "a/b/c");
  assert_ok(appc_atomic_write_at(AT_FDCWD, path, "c", 1, 0600, APPC_WRITE_DURABLE, &err), &err);
  cleanup_free char *sub = path_join(dir, "a/b");
  assert_int_equal(entries(sub), 1);

  /* NOREPLACE: the first writer wins, the second gets EEXIST. */
  assert_ok(appc_atomic_write_at(dfd, "key", "k1", 2, 0600, APPC_WRITE_NOREPLACE, &err), &err);
  assert_int_equal(appc_atomic_write_at(dfd, "key", "k2", 2, 0600, APPC_WRITE_NOREPLACE, &err), -1);
  assert_int_equal(err->errnum, EEXIST);
  appc_error_release(&err);
  free(steal_pointer(&text));
  assert_ok(appc_read_file_at(dfd, "key", 100, 0, &text, NULL, &err), &err);
  assert_string_equal(text, "k1");

  /* A failure leaves no temporary: NAME is a non-empty directory. */
  mkdirs(dir, "full/x");
  assert_error_contains(appc_atomic_write_at(dfd, "full", "z", 1, 0644, 0, &err), &err, "full");
  assert_int_equal(entries(dir), 4); /* f, a, key and full: no temporary */
  assert_error_contains(appc_atomic_write_at(dfd, "nodir/x", "z", 1, 0644, 0, &err), &err,
                        "nodir/x: its directory");
  assert_error_contains(appc_atomic_write_at(dfd, "dir/", "z", 1, 0644, 0, &err), &err,
                        "names a directory");
}

/* An unnamed file: readable and writable, never seen in its directory. */
static void test_tmpfile(void **state)
{
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  cleanup_close int fd = appc_tmpfile_at(dfd);
  char buf[8] = {0};
  (void) state;

  assert_true(fd >= 0);
  assert_int_equal(appc_write_all(fd, "bytes", 5), 0);
  assert_int_equal(pread(fd, buf, sizeof buf, 0), 5);
  assert_string_equal(buf, "bytes");
  assert_int_equal(entries(dir), 0);
  assert_int_equal(appc_tmpfile_at(-1), -1);
  assert_int_equal(errno, EBADF);
}

/* What a tempfile told of its hidden names. */
struct naming {
  int appeared, went;
  char last[256];
};

static void note_name(const char *name, void *data)
{
  struct naming *n = data;

  if (name == NULL) {
    n->went++;
    return;
  }
  n->appeared++;
  snprintf(n->last, sizeof n->last, "%s", name);
}

static char *read_back(int dfd, const char *name)
{
  char *text = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_read_file_at(dfd, name, 100, 0, &text, NULL, &err), &err);
  return text;
}

static bool always_cancelled(void *data)
{
  (void) data;
  return true;
}

/* A file that takes its name when complete, with O_TMPFILE and without. */
static void check_tempfile(bool without_o_tmpfile)
{
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  struct naming n = {0};
  struct appc_tempfile t = APPC_TEMPFILE_INIT;
  struct stat st;

  no_o_tmpfile = without_o_tmpfile;
  t.named = note_name;
  t.data = &n;
  /* complete: it takes the name; until then nothing but a hidden name */
  assert_int_equal(appc_tempfile_open(&t, dfd, "out", 0640), 0);
  assert_int_equal(entries(dir), without_o_tmpfile ? 1 : 0);
  assert_int_equal(n.appeared, without_o_tmpfile ? 1 : 0);
  if (without_o_tmpfile)
    assert_true(strncmp(n.last, ".out.tmp-", 9) == 0);
  assert_int_equal(appc_write_all(t.fd, "one", 3), 0);
  assert_int_equal(appc_tempfile_install(&t, "out", APPC_WRITE_DURABLE | APPC_WRITE_NOREPLACE), 0);
  assert_int_equal(entries(dir), 1);
  assert_int_equal(n.appeared, n.went);
  appc_tempfile_discard(&t);
  assert_int_equal(entries(dir), 1); /* discarding an installed file leaves it */
  cleanup_free char *one = read_back(dfd, "out");
  assert_string_equal(one, "one");
  assert_int_equal(fstatat(dfd, "out", &st, 0), 0);
  assert_int_equal(st.st_mode & 0777, 0640 & ~umask(umask(0)));

  /* without replacing: EEXIST, the old file kept, and nothing left */
  assert_int_equal(appc_tempfile_open(&t, dfd, "out", 0644), 0);
  assert_int_equal(appc_write_all(t.fd, "two", 3), 0);
  assert_int_equal(appc_tempfile_install(&t, "out", APPC_WRITE_NOREPLACE), -1);
  assert_int_equal(errno, EEXIST);
  appc_tempfile_discard(&t);
  assert_int_equal(entries(dir), 1);
  assert_int_equal(n.appeared, n.went);
  cleanup_free char *still = read_back(dfd, "out");
  assert_string_equal(still, "one");

  /* replacing: by rename, from its hidden name, which an unnamed file has
   * for an instant */
  assert_int_equal(appc_tempfile_open(&t, dfd, "out", 0644), 0);
  assert_int_equal(appc_write_all(t.fd, "three", 5), 0);
  int before = n.appeared;
  assert_int_equal(appc_tempfile_install(&t, "out", 0), 0);
  assert_int_equal(n.appeared, before + (without_o_tmpfile ? 0 : 1));
  assert_int_equal(n.appeared, n.went);
  appc_tempfile_discard(&t);
  cleanup_free char *three = read_back(dfd, "out");
  assert_string_equal(three, "three");
  assert_int_equal(entries(dir), 1);

  /* discarded before completion: nothing left */
  assert_int_equal(appc_tempfile_open(&t, dfd, "other", 0644), 0);
  appc_tempfile_discard(&t);
  assert_int_equal(entries(dir), 1);
  assert_int_equal(n.appeared, n.went);

  /* cancelled at the last moment (after the fsync): ECANCELED, no name */
  const struct appc_callbacks cancel = {.cancelled = always_cancelled};
  assert_int_equal(appc_tempfile_open(&t, dfd, "late", 0644), 0);
  assert_int_equal(appc_write_all(t.fd, "four", 4), 0);
  t.cb = &cancel;
  assert_int_equal(appc_tempfile_install(&t, "late", APPC_WRITE_DURABLE | APPC_WRITE_NOREPLACE),
                   -1);
  assert_int_equal(errno, ECANCELED);
  appc_tempfile_discard(&t);
  t.cb = NULL;
  assert_int_equal(entries(dir), 1);
  assert_int_equal(n.appeared, n.went);

  /* the atomic writer and the unnamed files go the same way */
  appc_error_t err = NULL;
  assert_ok(appc_atomic_write_at(dfd, "f", "x", 1, 0600, APPC_WRITE_DURABLE, &err), &err);
  cleanup_close int fd = appc_tmpfile_at(dfd);
  assert_true(fd >= 0);
  assert_int_equal(entries(dir), 2);
  no_o_tmpfile = false;
}

static void test_tempfile(void **state)
{
  (void) state;
  check_tempfile(false);
}

static void test_tempfile_without_o_tmpfile(void **state)
{
  (void) state;
  check_tempfile(true);
}

/* A copy holds exactly what was there from the source's offset on, from a
 * file (copy_file_range) and from a pipe (reads and writes). */
static void test_copy_fd(void **state)
{
  static char data[300000], back[300000];
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  cleanup_close int src = appc_tmpfile_at(dfd);
  cleanup_close int dst = appc_tmpfile_at(dfd);
  cleanup_close int dst2 = appc_tmpfile_at(dfd);
  int status, rfd;
  (void) state;

  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (char) (i * 7 + i / 251);
  assert_int_equal(appc_write_all(src, data, sizeof data), 0);
  assert_int_equal(lseek(src, 1000, SEEK_SET), 1000);
  assert_true(appc_copy_fd(src, dst, NULL) == (long long) sizeof data - 1000);
  assert_int_equal(pread(dst, back, sizeof back, 0), (ssize_t) sizeof data - 1000);
  assert_memory_equal(back, data + 1000, sizeof data - 1000);

  pid_t pid = pipe_writer(data, sizeof data, &rfd);
  assert_true(appc_copy_fd(rfd, dst2, NULL) == (long long) sizeof data);
  close(rfd);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_int_equal(pread(dst2, back, sizeof back, 0), (ssize_t) sizeof data);
  assert_memory_equal(back, data, sizeof data);
  /* A source that cannot be read is an error, not an empty copy. */
  assert_int_equal(appc_copy_fd(-1, dst2, NULL), -1);
}

struct copy_seen {
  unsigned calls;
  uint64_t done, total;
  unsigned cancel_after; /* cancelled once this many steps are reported */
};

static void copy_progress(void *data, const char *what, uint64_t done, uint64_t total)
{
  struct copy_seen *c = data;

  assert_string_equal(what, "copied");
  assert_true(done > c->done);
  c->calls++;
  c->done = done;
  c->total = total;
}

static bool copy_cancelled(void *data)
{
  const struct copy_seen *c = data;
  return c->cancel_after != 0 && c->calls >= c->cancel_after;
}

/* A reported copy tells each step's running count and the total it was
 * given, and stops with ECANCELED when its caller asks, from a file and
 * from a pipe alike. */
static void test_copy_fd_report(void **state)
{
  static char data[300000];
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  cleanup_close int src = appc_tmpfile_at(dfd);
  cleanup_close int dst = appc_tmpfile_at(dfd);
  struct copy_seen seen = {0};
  const struct appc_callbacks cb = {
      .data = &seen, .progress = copy_progress, .cancelled = copy_cancelled};
  const struct appc_copy_report report = {&cb, APPC_PROGRESS_EXPORT, "copied", sizeof data};
  int status, rfd;
  (void) state;

  memset(data, 'x', sizeof data);
  assert_int_equal(appc_write_all(src, data, sizeof data), 0);
  assert_int_equal(lseek(src, 0, SEEK_SET), 0);
  assert_true(appc_copy_fd(src, dst, &report) == (long long) sizeof data);
  assert_true(seen.calls >= 1);
  assert_true(seen.done == sizeof data);
  assert_true(seen.total == sizeof data);

  /* from a pipe: reads of at most 128 KiB, so more than one step */
  seen = (struct copy_seen){.cancel_after = 1};
  pid_t pid = pipe_writer(data, sizeof data, &rfd);
  errno = 0;
  assert_int_equal(appc_copy_fd(rfd, dst, &report), -1);
  assert_int_equal(errno, ECANCELED);
  assert_int_equal(seen.calls, 1);
  close(rfd);
  assert_int_equal(waitpid(pid, &status, 0), pid);

  /* from a file: cancelled after its first step */
  seen = (struct copy_seen){.cancel_after = 1};
  assert_int_equal(lseek(src, 0, SEEK_SET), 0);
  assert_int_equal(appc_copy_fd(src, dst, &report), -1);
  assert_int_equal(errno, ECANCELED);
  assert_int_equal(seen.calls, 1);
}

/* A descriptor handed over a socket is the same open file, close-on-exec;
 * a message without one, or none at all, is told apart. */
static void test_send_recv_fd(void **state)
{
  int sv[2], p[2];
  struct stat a, b;
  char c;
  (void) state;

  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(appc_recv_fd(sv[1], MSG_DONTWAIT), -1);
  assert_int_equal(errno, EAGAIN);
  assert_int_equal(appc_send_fd(sv[0], p[1]), 0);
  int got = appc_recv_fd(sv[1], 0);
  assert_true(got >= 0 && got != p[1]);
  assert_int_equal(fstat(got, &a), 0);
  assert_int_equal(fstat(p[1], &b), 0);
  assert_true(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
  assert_int_equal(fcntl(got, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  assert_int_equal(write(got, "x", 1), 1);
  assert_int_equal(read(p[0], &c, 1), 1);
  assert_int_equal(c, 'x');
  assert_int_equal(send(sv[0], "y", 1, 0), 1);
  assert_int_equal(appc_recv_fd(sv[1], 0), -1);
  assert_int_equal(errno, EBADMSG);
  close(got);
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);
}

/* appc_lock_at makes its file 0600 and holds an exclusive lock until the
 * descriptor is closed. */
static void test_lock_at(void **state)
{
  char *dir = scratch_new();
  cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  appc_error_t err = NULL;
  struct stat st;
  (void) state;

  int fd = appc_lock_at(dfd, "lock", &err);
  assert_ok(fd < 0 ? -1 : 0, &err);
  assert_int_equal(fstatat(dfd, "lock", &st, 0), 0);
  assert_int_equal(st.st_mode & 07777, 0600);
  int other = openat(dfd, "lock", O_RDWR | O_CLOEXEC);
  assert_true(other >= 0);
  assert_int_equal(flock(other, LOCK_EX | LOCK_NB), -1);
  assert_int_equal(errno, EWOULDBLOCK);
  close(fd);
  assert_int_equal(appc_flock(other, LOCK_EX | LOCK_NB), 0);
  close(other);
  assert_int_equal(mkdirat(dfd, "adir", 0700), 0);
  assert_int_equal(appc_lock_at(dfd, "adir", &err), -1);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, "adir"));
  appc_error_release(&err);
}

/* What the notice and log callbacks were given. */
struct said {
  int notices, logs;
  char last[1200];
};

static void said_notice(void *data, const char *msg)
{
  struct said *s = data;
  s->notices++;
  snprintf(s->last, sizeof s->last, "%s", msg);
}

static void said_log(void *data, const char *msg)
{
  struct said *s = data;
  s->logs++;
  snprintf(s->last, sizeof s->last, "%s", msg);
}

/* A child named "lockholder" holding PATH's lock (flock, exclusive) for
 * HOLD_MS milliseconds, from when this returns its PID; it makes
 * PATH.released just before its exit lets the lock go. */
static pid_t hold_lock(const char *path, int hold_ms)
{
  int ready[2];
  char c = 0;

  assert_int_equal(pipe(ready), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(path, O_RDWR);
    (void) prctl(PR_SET_NAME, "lockholder");
    if (fd < 0 || flock(fd, LOCK_EX) < 0 || write(ready[1], &c, 1) != 1)
      _exit(1);
    usleep((useconds_t) hold_ms * 1000);
    char released[1100];
    snprintf(released, sizeof released, "%s.released", path);
    _exit(open(released, O_WRONLY | O_CREAT | O_CLOEXEC, 0600) < 0 ? 1 : 0);
  }
  close(ready[1]);
  assert_int_equal(read(ready[0], &c, 1), 1);
  close(ready[0]);
  return pid;
}

/* A free lock is taken without a word; one another process holds is
 * announced once, naming it and its holder (pid and name from
 * /proc/locks), then waited for. */
static void test_flock_noting(void **state)
{
  char *dir = scratch_new(), path[1024], want[1200];
  struct said said = {0};
  struct appc_callbacks cb = {.data = &said, .notice = said_notice, .log = said_log};
  int status;
  (void) state;

  snprintf(path, sizeof path, "%s/lock", dir);
  cleanup_close int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  assert_int_equal(appc_flock_noting(fd, LOCK_SH, &cb, "the lock (%s)", path), 0);
  assert_int_equal(said.notices + said.logs, 0);
  assert_int_equal(flock(fd, LOCK_UN), 0);

  pid_t pid = hold_lock(path, 300);
  char name[32];
  unsigned others = 9;
  assert_int_equal(appc_lock_holder(fd, name, sizeof name, &others), pid);
  assert_string_equal(name, "lockholder");
  assert_int_equal(others, 0);
  assert_int_equal(appc_flock_noting(fd, LOCK_EX, &cb, "the lock (%s)", path), 0);
  snprintf(want, sizeof want, "waiting for the lock (%s), held by process %ld (lockholder)", path,
           (long) pid);
  assert_int_equal(said.notices, 1);
  assert_int_equal(said.logs, 0);
  assert_string_equal(said.last, want);
  /* it waited: the holder had let the lock go (its exit closes its
   * files before it can be waited for, so the marker tells, not waitpid) */
  snprintf(want, sizeof want, "%s.released", path);
  assert_int_equal(access(want, F_OK), 0);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(flock(fd, LOCK_UN), 0);
}

/* Without a notice callback the line goes to log. */
static void test_notice_without_member(void **state)
{
  struct said said = {0};
  struct appc_callbacks cb = {.data = &said, .log = said_log};
  (void) state;

  appc_cb_notice(&cb, "waiting for %s", "x");
  assert_int_equal(said.logs, 1);
  assert_string_equal(said.last, "waiting for x");
  appc_cb_notice(NULL, "nothing to call");
  cb.log = NULL;
  appc_cb_notice(&cb, "nothing to call");
  assert_int_equal(said.logs, 1);
}

/* In a child: descriptors 5, 6, 7 and 9; from 6 up, keep 9 and 6 (given
 * unsorted, with a -1): 5 (below FIRST), 6 and 9 stay, 7 and any above 9
 * are closed. */
static void test_close_fds_except(void **state)
{
  (void) state;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int keep[] = {9, 6, -1};
    unsigned open_mask = 0;
    for (int fd = 5; fd <= 9; fd++)
      if (fd != 8 && dup2(0, fd) != fd)
        _exit(100);
    appc_close_fds_except(6, keep, 3);
    for (int fd = 5; fd <= 12; fd++)
      if (fcntl(fd, F_GETFD) >= 0)
        open_mask |= 1u << fd;
    _exit(open_mask == ((1u << 5) | (1u << 6) | (1u << 9)) ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_all_pipe),
      cmocka_unit_test_teardown(test_read_limits, teardown),
      cmocka_unit_test_teardown(test_dir_stream, teardown),
      cmocka_unit_test(test_read_pipe_limit),
      cmocka_unit_test(test_read_in_full_pipe),
      cmocka_unit_test_teardown(test_atomic_write, teardown),
      cmocka_unit_test_teardown(test_tmpfile, teardown),
      cmocka_unit_test_teardown(test_tempfile, teardown),
      cmocka_unit_test_teardown(test_tempfile_without_o_tmpfile, teardown),
      cmocka_unit_test_teardown(test_copy_fd, teardown),
      cmocka_unit_test_teardown(test_copy_fd_report, teardown),
      cmocka_unit_test(test_send_recv_fd),
      cmocka_unit_test(test_close_fds_except),
      cmocka_unit_test_teardown(test_lock_at, teardown),
      cmocka_unit_test_teardown(test_flock_noting, teardown),
      cmocka_unit_test(test_notice_without_member),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
