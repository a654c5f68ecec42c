/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for a lock another process holds: see common/lockwait.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/lockwait.h"

/* How often appc_flock_until tries the lock again: a wait that ends is
 * seen within this, and the polls cost nothing worth counting. */
#define LOCK_POLL_NS (50 * 1000 * 1000)

/* Does the /proc/locks LINE hold (not wait for: "-> ") a lock on ST's
 * file?  Its PID then, else 0.  Fields: "N: FLOCK ADVISORY WRITE PID
 * MAJ:MIN:INODE START END", the device numbers in hex. */
static pid_t lock_line_holder(const char *line, const struct stat *st)
{
  unsigned maj, min;
  unsigned long long ino;
  long pid;

  if (strstr(line, "->") != NULL ||
      sscanf(line, "%*d: %*s %*s %*s %ld %x:%x:%llu", &pid, &maj, &min, &ino) != 4)
    return 0;
  if (pid <= 0 || ino != (unsigned long long) st->st_ino || maj != major(st->st_dev) ||
      min != minor(st->st_dev))
    return 0;
  return (pid_t) pid;
}

/* PID's command name (/proc/PID/comm) in NAME, "" when unreadable. */
static void process_name(pid_t pid, char *name, size_t size)
{
  char path[64];
  cleanup_close int fd = -1;
  ssize_t n = -1;

  snprintf(path, sizeof path, "/proc/%ld/comm", (long) pid);
  if (size == 0)
    return;
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
    n = appc_read_in_full(fd, name, size - 1);
  if (n < 0)
    n = 0;
  name[n] = '\0';
  name[strcspn(name, "\n")] = '\0';
}

pid_t appc_lock_holder(int fd, char *name, size_t size, unsigned *others)
{
  struct stat st;
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  size_t cap = 0;
  pid_t holder = 0, self = getpid();

  *others = 0;
  if (size > 0)
    name[0] = '\0';
  if (fstat(fd, &st) < 0 || (f = fopen("/proc/locks", "re")) == NULL)
    return 0;
  while (getline(&line, &cap, f) > 0) {
    pid_t pid = lock_line_holder(line, &st);
    if (pid == 0 || pid == self || pid == holder)
      continue;
    if (holder == 0)
      holder = pid;
    else
      ++*others;
  }
  if (holder != 0)
    process_name(holder, name, size);
  return holder;
}

/* The notice that this process waits for WHAT, held by another. */
static void notice_wait(int fd, const struct appc_callbacks *cb, const char *what)
{
  char name[32], more[48] = "";
  unsigned others;
  pid_t pid = appc_lock_holder(fd, name, sizeof name, &others);

  if (pid == 0) {
    appc_cb_notice(cb, "waiting for %s, held by another process", what);
    return;
  }
  if (others > 0)
    snprintf(more, sizeof more, " and %u other%s", others, others == 1 ? "" : "s");
  appc_cb_notice(cb, "waiting for %s, held by process %ld%s%s%s%s", what, (long) pid,
                 name[0] != '\0' ? " (" : "", name, name[0] != '\0' ? ")" : "", more);
}

static void __attribute__((format(printf, 3, 0)))
notice_waitv(int fd, const struct appc_callbacks *cb, const char *fmt, va_list ap)
{
  cleanup_free char *what = NULL;

  if (vasprintf(&what, fmt, ap) < 0)
    what = NULL;
  notice_wait(fd, cb, what != NULL ? what : "a lock");
}

int appc_flock_noting(int fd, int op, const struct appc_callbacks *cb, const char *fmt, ...)
{
  va_list ap;

  if (appc_flock(fd, op | LOCK_NB) == 0)
    return 0;
  if (errno != EWOULDBLOCK)
    return -1;
  va_start(ap, fmt);
  notice_waitv(fd, cb, fmt, ap);
  va_end(ap);
  /* A cancelling signal's handler interrupts the wait (actool's take no
   * SA_RESTART): the wait may be long, so it ends there. */
  while (flock(fd, op) < 0) {
    if (errno != EINTR)
      return -1;
    if (appc_cb_cancelled(cb)) {
      errno = ECANCELED;
      return -1;
    }
  }
  return 0;
}

int appc_flock_until(int fd, int op, const struct appc_callbacks *cb,
                     bool (*expired)(const void *arg), const void *arg, const char *fmt, ...)
{
  va_list ap;

  for (bool waiting = false;; waiting = true) {
    if (appc_flock(fd, op | LOCK_NB) == 0)
      return 0;
    if (errno != EWOULDBLOCK)
      return -1;
    if (!waiting) {
      va_start(ap, fmt);
      notice_waitv(fd, cb, fmt, ap);
      va_end(ap);
    }
    if (appc_cb_cancelled(cb) || (expired != NULL && expired(arg))) {
      errno = appc_cb_cancelled(cb) ? ECANCELED : ETIMEDOUT;
      return -1;
    }
    nanosleep(&(struct timespec){.tv_nsec = LOCK_POLL_NS}, NULL);
  }
}
