/* SPDX-License-Identifier: Apache-2.0 */
/* --private-users: a user namespace per pod, root in the pod an
 * unprivileged range of host uids and gids.
 *
 * Ranges are leased host-wide (several stores share the host's ids), in
 * LEASE_DIR: a file BASE-COUNT per range in use, holding the UUID of its
 * pod and the PID and start time of the actool that runs it.  A lease
 * whose actool is gone is stale (the pod's processes die with it: its init
 * has PR_SET_PDEATHSIG) and is taken over or removed by `gc`.  Leases are
 * made under LEASE_DIR/lock, so two pods starting at once never share a
 * range.
 *
 * The namespace is made by a helper process that unshares it, then the
 * pod's UTS and IPC namespaces and, for a pod with a network of its own,
 * its network namespace, all owned by it (so that root in the pod may set
 * its hostname, bind low ports and configure its interfaces); P writes
 * the maps, keeps descriptors of the namespaces and lets the helper go.
 * The pod's init joins them instead of making its own.
 * The descriptor serves twice: the store's tree is given to the pod
 * through an idmapped mount of it (the shared tree is never chowned), and
 * each app's supervisor joins the namespace once its root is built. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ace/internal.h"
#include "ace/pod.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"

#define LEASE_DIR ACE_RUNTIME_ROOT "/private-users"
#define AUTO_FIRST 0x80000u   /* systemd-nspawn's pool starts here too */
#define AUTO_LAST 0x6fff0000u /* and ends here */
#define AUTO_COUNT 0x10000u   /* 65536: every uid a Debian image uses */

int ace_userns_parse(const char *spec, struct ace_userns_range *out, appc_error_t *err)
{
  unsigned long long base, count;
  char *end;

  out->base = 0;
  out->count = 0; /* auto */
  if (spec == NULL || spec[0] == '\0' || strcmp(spec, "auto") == 0)
    return 0;
  errno = 0;
  base = strtoull(spec, &end, 10);
  if (errno != 0 || end == spec || *end != ':' || spec[0] == '-')
    goto bad;
  const char *c = end + 1;
  count = strtoull(c, &end, 10);
  if (errno != 0 || end == c || *end != '\0' || c[0] == '-')
    goto bad;
  if (base == 0)
    return appc_error_tag(err, EINVAL,
                          "user id range \"%s\": uid 0 cannot start the range (root in the pod "
                          "would be root on the host)",
                          spec);
  if (count == 0 || count > UINT32_MAX || base > UINT32_MAX - 1 ||
      base + count - 1 > UINT32_MAX - 1)
    return appc_error_tag(err, EINVAL,
                          "user id range \"%s\": the range must be 1 or more ids between 1 and "
                          "4294967294",
                          spec);
  out->base = (uint32_t) base;
  out->count = (uint32_t) count;
  return 0;
bad:
  return appc_error_tag(err, EINVAL, "user id range \"%s\": not UID:COUNT (or auto)", spec);
}

/* ---- leases ------------------------------------------------------------------ */

struct lease {
  uint32_t base, count;
  char uuid[64];
  long pid;
  unsigned long long start;
};

static bool read_lease(int dirfd, const char *name, struct lease *l)
{
  char buf[256];
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  char end;

  if (n <= 0 || sscanf(name, "%" SCNu32 "-%" SCNu32 "%c", &l->base, &l->count, &end) != 2)
    return false;
  buf[n] = '\0';
  return sscanf(buf, "%63s %ld %llu", l->uuid, &l->pid, &l->start) == 3;
}

/* The lease's actool is alive: its PID runs with the start time recorded,
 * and is no zombie (killed, its parent not waiting yet). */
static bool lease_alive(const struct lease *l)
{
  return l->pid > 0 && l->pid <= INT_MAX && ace_proc_alive((pid_t) l->pid, l->start);
}

static bool overlaps(uint32_t a, uint32_t an, uint32_t b, uint32_t bn)
{
  return (uint64_t) a < (uint64_t) b + bn && (uint64_t) b < (uint64_t) a + an;
}

/* Open (making it) the lease directory and take its lock. */
static int lock_leases(int *dirfd, int *lockfd, appc_error_t *err)
{
  cleanup_close int root = ace_runtime_root_open(err);

  if (root < 0)
    return -1;
  if ((mkdirat(root, "private-users", 0700) < 0 && errno != EEXIST) ||
      (*dirfd = openat(root, "private-users", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", LEASE_DIR);
  *lockfd = appc_lock_at(*dirfd, "lock", err);
  return *lockfd < 0 ? appc_error_prefix(err, "%s", LEASE_DIR) : 0;
}

/* Walk the leases: stale ones are removed, live ones handed to FN. */
static void each_live_lease(int dirfd, void (*fn)(void *, const struct lease *), void *data)
{
  DIR *d = fdopendir(fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  struct dirent *e;

  while (d != NULL && (e = readdir(d)) != NULL) {
    struct lease l;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        strcmp(e->d_name, "lock") == 0)
      continue;
    /* Under the lock nothing is half written: a temporary (".NAME.tmp-")
     * is what an actool killed while writing its lease left. */
    if (e->d_name[0] == '.' || !read_lease(dirfd, e->d_name, &l) || !lease_alive(&l)) {
      unlinkat(dirfd, e->d_name, 0);
      continue;
    }
    fn(data, &l);
  }
  if (d != NULL)
    closedir(d);
}

struct taken {
  struct lease *v;
  size_t n, cap;
  bool oom;
};

static void collect_lease(void *data, const struct lease *l)
{
  struct taken *t = data;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    struct lease *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL) {
      t->oom = true;
      return;
    }
    t->v = v;
    t->cap = cap;
  }
  t->v[t->n++] = *l;
}

static const struct lease *first_overlap(const struct taken *t, uint32_t base, uint32_t count)
{
  for (size_t i = 0; i < t->n; i++)
    if (overlaps(base, count, t->v[i].base, t->v[i].count))
      return &t->v[i];
  return NULL;
}

static int take_range(struct ace_userns *u, const struct ace_userns_range *want, const char *uuid,
                      appc_error_t *err)
{
  cleanup_close int dirfd = -1, lockfd = -1;
  struct taken t = {0};
  unsigned long long start;
  char name[64], text[160];
  int r = -1;

  if (lock_leases(&dirfd, &lockfd, err) < 0)
    return -1;
  each_live_lease(dirfd, collect_lease, &t);
  if (t.oom) {
    appc_error_make(err, ENOMEM, "user namespace leases");
    goto out;
  }
  if (want->count > 0) {
    const struct lease *o = first_overlap(&t, want->base, want->count);
    if (o != NULL) {
      appc_error_make(err, EBUSY,
                      "user id range \"%" PRIu32 ":%" PRIu32 "\": ids %" PRIu32 "-%" PRIu32
                      " are pod %s's",
                      want->base, want->count, o->base, o->base + (o->count - 1), o->uuid);
      goto out;
    }
    u->range = *want;
  } else {
    uint32_t b = AUTO_FIRST;
    while (b <= AUTO_LAST && first_overlap(&t, b, AUTO_COUNT) != NULL)
      b += AUTO_COUNT;
    if (b > AUTO_LAST) {
      appc_error_make(err, EBUSY, "private_users: every range of %u ids is in use", AUTO_COUNT);
      goto out;
    }
    u->range = (struct ace_userns_range){b, AUTO_COUNT};
  }
  if (ace_proc_start_time(getpid(), &start) < 0) {
    appc_error_make(err, errno, "/proc/self/stat");
    goto out;
  }
  snprintf(name, sizeof name, "%" PRIu32 "-%" PRIu32, u->range.base, u->range.count);
  snprintf(text, sizeof text, "%s %ld %llu\n", uuid, (long) getpid(), start);
  if (appc_atomic_write_at(dirfd, name, text, strlen(text), 0644, 0, err) < 0)
    goto out;
  snprintf(u->lease, sizeof u->lease, "%s/%s", LEASE_DIR, name);
  r = 0;
out:
  free(t.v);
  return r;
}

static void no_lease(void *data, const struct lease *l)
{
  (void) data;
  (void) l;
}

int ace_userns_gc(appc_error_t *err)
{
  cleanup_close int dirfd = -1, lockfd = -1;
  struct stat st;

  /* None yet, or not this user's to see (only root's pods have ranges). */
  if (stat(LEASE_DIR, &st) < 0)
    return errno == ENOENT || errno == EACCES ? 0 : appc_error_make(err, errno, "%s", LEASE_DIR);
  if (lock_leases(&dirfd, &lockfd, err) < 0)
    return -1;
  each_live_lease(dirfd, no_lease, NULL);
  return 0;
}

/* ---- the namespace --------------------------------------------------------------- */

static int write_map(pid_t pid, const char *file, const struct ace_userns_range *r,
                     appc_error_t *err)
{
  char path[64], text[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
  snprintf(text, sizeof text, "0 %" PRIu32 " %" PRIu32 "\n", r->base, r->count);
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
    return appc_error_make(err, errno, "%s: \"0 %" PRIu32 " %" PRIu32 "\"", path, r->base,
                           r->count);
  return 0;
}

/* The helper: unshare the user namespace, wait for its maps, unshare the
 * network namespace (when asked), say so and wait to be let go. */
static void __attribute__((noreturn)) helper(int to_parent, int from_parent, bool new_net)
{
  char c = 'u';

  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (unshare(CLONE_NEWUSER) < 0 || write(to_parent, &c, 1) != 1 || read(from_parent, &c, 1) != 1)
    _exit(1);
  c = 'n';
  if (unshare(CLONE_NEWUTS | CLONE_NEWIPC | (new_net ? CLONE_NEWNET : 0)) < 0 ||
      write(to_parent, &c, 1) != 1)
    _exit(2);
  (void) !read(from_parent, &c, 1); /* EOF: P has what it needs */
  _exit(0);
}

static int open_ns(pid_t pid, const char *name, appc_error_t *err)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) pid, name);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  return fd;
}

static int make_namespaces(struct ace_userns *u, bool new_net, appc_error_t *err)
{
  int up[2] = {-1, -1}, down[2] = {-1, -1};
  char c;
  int r = -1;

  if (pipe2(up, O_CLOEXEC) < 0 || pipe2(down, O_CLOEXEC) < 0) {
    appc_error_make(err, errno, "pipe");
    goto out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    appc_error_make(err, errno, "fork");
    goto out;
  }
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    helper(up[1], down[0], new_net);
  }
  close(up[1]);
  close(down[0]);
  up[1] = down[0] = -1;
  if (read(up[0], &c, 1) != 1) {
    appc_error_make(err, 0,
                    "a user namespace could not be made (does the kernel allow them? "
                    "user.max_user_namespaces)");
  } else if (write_map(pid, "uid_map", &u->range, err) == 0 &&
             write_map(pid, "gid_map", &u->range, err) == 0) {
    if (write(down[1], &c, 1) != 1 || read(up[0], &c, 1) != 1)
      appc_error_make(err, 0, "the pod's namespaces inside the user namespace could not be made");
    else if ((u->userns_fd = open_ns(pid, "user", err)) >= 0 &&
             (u->utsns_fd = open_ns(pid, "uts", err)) >= 0 &&
             (u->ipcns_fd = open_ns(pid, "ipc", err)) >= 0 &&
             (!new_net || (u->netns_fd = open_ns(pid, "net", err)) >= 0))
      r = 0;
  }
  close(down[1]);
  down[1] = -1;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
out:
  for (int k = 0; k < 2; k++) {
    if (up[k] >= 0)
      close(up[k]);
    if (down[k] >= 0)
      close(down[k]);
  }
  return r;
}

int ace_userns_create(const struct ace_userns_range *want, const char *uuid, bool new_net,
                      struct ace_userns **out, appc_error_t *err)
{
  struct ace_userns *u = calloc(1, sizeof *u);

  *out = NULL;
  if (u == NULL)
    return appc_error_make(err, ENOMEM, "user namespace");
  u->userns_fd = u->netns_fd = u->utsns_fd = u->ipcns_fd = -1;
  if (take_range(u, want, uuid, err) < 0 || make_namespaces(u, new_net, err) < 0) {
    ace_userns_release(u);
    return appc_error_prefix(err, "user namespace");
  }
  *out = u;
  return 0;
}

void ace_userns_release(struct ace_userns *u)
{
  if (u == NULL)
    return;
  if (u->userns_fd >= 0)
    close(u->userns_fd);
  if (u->netns_fd >= 0)
    close(u->netns_fd);
  if (u->utsns_fd >= 0)
    close(u->utsns_fd);
  if (u->ipcns_fd >= 0)
    close(u->ipcns_fd);
  if (u->lease[0] != '\0')
    unlink(u->lease);
  free(u);
}

int ace_userns_join(int userns_fd, appc_error_t *err)
{
  /* Host root's ids are not mapped inside: become the pod's root, which
   * the namespace's creator (host root) gave every capability there. */
  if (setns(userns_fd, CLONE_NEWUSER) < 0)
    return appc_error_make(err, errno, "joining the pod's user namespace");
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(0, NULL) < 0)
    return appc_error_make(err, errno, "becoming root of the pod's user namespace");
  return 0;
}

/* A detached clone of PATH's mount, idmapped through USERNS_FD, with the
 * further mount attributes ATTRS: its descriptor, or -1. */
static int idmapped_clone(int userns_fd, const char *path, uint64_t attrs, appc_error_t *err)
{
  struct mount_attr attr = {
      .attr_set = MOUNT_ATTR_IDMAP | attrs,
      .userns_fd = (uint64_t) userns_fd,
  };
  int fd = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);

  if (fd < 0)
    return appc_error_make(err, errno, "%s: cannot clone the mount", path);
  if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e,
                           "%s: cannot make an idmapped mount of it (its file system must "
                           "support idmapped mounts: ext4, xfs, btrfs, tmpfs since Linux 6.3)",
                           path);
  }
  return fd;
}

int ace_userns_idmapped_tree(int userns_fd, const char *path, const char *target, appc_error_t *err)
{
  cleanup_close int fd = idmapped_clone(userns_fd, path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV, err);

  if (fd < 0)
    return -1;
  if (mkdir(target, 0700) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, "%s", target);
  if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return appc_error_make(err, errno, "%s: cannot attach the idmapped mount", target);
  return 0;
}

bool ace_userns_idmap_works(int userns_fd, const char *path)
{
  /* A detached mount, never attached: closing it undoes it. */
  cleanup_close int fd = idmapped_clone(userns_fd, path, 0, NULL);
  return fd >= 0;
}
