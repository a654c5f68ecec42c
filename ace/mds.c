/* SPDX-License-Identifier: Apache-2.0 */
/* One metadata service (M) for every pod of a store, as rkt's
 * metadata-service: a process started by the first pod that needs one,
 * listening on the Unix socket metadata-2.sock in the store's pods directory
 * (mode 0700: root's alone), serving each registered pod on the pod's own
 * socket (made by P inside the pod's network namespace and handed over)
 * from a thread of its own, started when a first connection waits (most
 * pods never ask), and retiring after IDLE_MS without a pod.
 * Only the first pod pays for loading libmicrohttpd, GnuTLS and libcrypto:
 * with a service of its own, every pod paid some 6 ms of a 2-core machine.
 *
 * Registration: P connects and sends the pod's listening socket, then a
 * memfd holding the pod's wire form (ace_metadata_wire_encode), and keeps
 * the connection open for the pod's life.  M answers 'K' once it serves the
 * pod, or 'E' and the reason before closing; it stops serving the pod when
 * P's end closes (the pod ended, or P died).  P's last word may be 'R': the
 * pod's directory was set aside, and M removes it (ace_pods_sweep), so that
 * the removal is not part of the pod's end; M reads it after a refusal too
 * (a short pod may end before M has taken it).  A service that dies shows as
 * an end of file after 'K', and P starts another (docs/executor.md).
 *
 * Starting one: under an exclusive lock on metadata.lock, P makes the
 * socket (bound and listening, so that its own connection is queued at
 * once) and forks the service off in a session of its own.  Retiring: M
 * unlinks its socket under the same lock, then takes what was already
 * queued, so a pod that connected meanwhile is served; one that connected
 * to a socket about to close gets an end of file without 'K' and simply
 * registers again.  metadata.lock holds the service's PID. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ace/internal.h"
#include "ace/pod.h"
#include "common/cleanup.h"
#include "common/fs.h"

/* The registration's wire form has a version of its own in the name: 2
 * since the HMAC key left it.  A service an older actool started (after an
 * upgrade, while its pods run) keeps its own socket and retires with them. */
#define SOCK_NAME "metadata-2.sock"
#define LOCK_NAME "metadata.lock"
#define IDLE_MS 30000u
#define WIRE_MAX (64u << 20) /* manifests are bounded far below this */
#define PEER_TIMEOUT_S 5     /* a registration's descriptors arrive at once */
#define BACKOFF_MS 100       /* out of descriptors: how long a socket is not polled */

/* The socket's address: through the directory's descriptor, so that a long
 * store path does not overflow sun_path. */
static socklen_t sock_addr(int pods_fd, struct sockaddr_un *sa)
{
  *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
  snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/" SOCK_NAME, pods_fd);
  return (socklen_t) sizeof *sa;
}

/* A connection to the running service, or -1 with errno (ENOENT or
 * ECONNREFUSED: none runs). */
static int connect_service(int pods_fd)
{
  struct sockaddr_un sa;
  socklen_t len = sock_addr(pods_fd, &sa);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return -1;
  if (connect(fd, (struct sockaddr *) &sa, len) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static int lock_service(int pods_fd, appc_error_t *err)
{
  int fd = appc_lock_at(pods_fd, LOCK_NAME, err);

  if (fd < 0)
    appc_error_prefix(err, "metadata service");
  return fd;
}

/* Every signal as a new process would have it, but SIGPIPE: a pod's client
 * that goes away must not kill the service. */
static void reset_signals(void)
{
  sigset_t none;

  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      signal(sig, sig == SIGPIPE ? SIG_IGN : SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Keep only the descriptors KEEP (each above 2) of those P had, and
 * /dev/null as the standard streams. */
static int keep_only(int *keep, size_t n)
{
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);

  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
    return -1;
  appc_close_fds_except(3, keep, n);
  return 0;
}

/* Removes what pods set aside (ace_pods_sweep) when the service asks, with
 * only the capabilities that takes: apps leave files and directories of
 * any owner and mode, which the service, with none, could not remove.  It
 * reads nothing but REQUESTS, whose end of file (the service's end) ends
 * it, and at a low priority, beside the pods that start meanwhile. */
static void __attribute__((noreturn)) sweeper(int pods_fd, int requests)
{
  int keep[] = {pods_fd, requests};
  const uint64_t caps = (UINT64_C(1) << CAP_DAC_OVERRIDE) | (UINT64_C(1) << CAP_DAC_READ_SEARCH) |
                        (UINT64_C(1) << CAP_FOWNER);
  char buf[64];

  if (keep_only(keep, 2) < 0 || ace_security_keep_only(caps, &(appc_error_t){0}) < 0)
    _exit(1);
  prctl(PR_SET_NAME, "actool-sweep", 0, 0, 0);
  (void) !nice(10);
  for (;;) {
    ssize_t n = read(requests, buf, sizeof buf);
    if (n == 0)
      _exit(0);
    if (n < 0 && errno != EINTR)
      _exit(1);
    if (n > 0)
      ace_pods_sweep(pods_fd);
  }
}

/* Every pod costs the service descriptors (its registration, its server's,
 * its apps' connections): it takes as many as it may, not the soft limit
 * of whichever `run` started it (often 1024). */
static void raise_nofile(void)
{
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void) setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* In the child forked by P: a grandchild in a session of its own, with
 * nothing of P's but the pods directory and CTL, becomes the service. */
static void __attribute__((noreturn)) daemonize(int pods_fd, int ctl)
{
  pid_t pid;

  if (setsid() < 0)
    _exit(1);
  pid = fork();
  if (pid != 0)
    _exit(pid < 0);
  reset_signals();
  raise_nofile();
  ace_hide_command_line("actool-mds"); /* the sweeper's too */
  int sweep[2];
  if (chdir("/") < 0 || pipe2(sweep, O_CLOEXEC) < 0)
    _exit(1);
  pid = fork();
  if (pid < 0)
    _exit(1);
  if (pid == 0) {
    close(sweep[1]);
    sweeper(pods_fd, sweep[0]);
  }
  close(sweep[0]);
  int keep[] = {pods_fd, ctl, sweep[1]};
  /* It answers HTTP from the pods' apps: root's files (the lock) are its by
   * owner, and it needs no capability. */
  if (keep_only(keep, 3) < 0 || fcntl(sweep[1], F_SETFL, O_NONBLOCK) < 0 ||
      ace_security_drop_all(&(appc_error_t){0}) < 0)
    _exit(1);
  prctl(PR_SET_NAME, "actool-mds", 0, 0, 0);
  ace_mds_main(pods_fd, ctl, sweep[1], IDLE_MS);
}

/* Under the lock: a service another P started meanwhile, else a new one. */
static int start_service(int pods_fd, appc_error_t *err)
{
  cleanup_close int lock = lock_service(pods_fd, err);
  cleanup_close int ctl = -1;
  struct sockaddr_un sa;
  socklen_t len = sock_addr(pods_fd, &sa);
  int conn, wstatus;
  pid_t pid;

  if (lock < 0)
    return -1;
  if ((conn = connect_service(pods_fd)) >= 0)
    return conn;
  if (unlinkat(pods_fd, SOCK_NAME, 0) < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "metadata service: removing a stale %s", SOCK_NAME);
  ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ctl < 0 || bind(ctl, (struct sockaddr *) &sa, len) < 0 || listen(ctl, 128) < 0)
    return appc_error_make(err, errno, "metadata service: %s", SOCK_NAME);
  pid = fork();
  if (pid < 0)
    return appc_error_make(err, errno, "metadata service: fork");
  if (pid == 0)
    daemonize(pods_fd, ctl);
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
    ;
  if ((conn = connect_service(pods_fd)) < 0)
    return appc_error_make(err, errno, "metadata service: connecting to %s", SOCK_NAME);
  return conn;
}

/* The wire form in a memfd, read from its start: whatever its size, one
 * descriptor. */
static int wire_memfd(const char *wire, size_t len, appc_error_t *err)
{
  cleanup_close int fd = memfd_create("actool-pod", MFD_CLOEXEC);

  if (fd < 0 || appc_write_all(fd, wire, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "metadata service: the pod's registration");
  return steal_fd(&fd);
}

int ace_mds_register(int pods_fd, const char *wire, size_t len, int listen_fd, appc_error_t *err)
{
  cleanup_close int conn = connect_service(pods_fd);
  cleanup_close int mfd = -1;

  if (conn < 0 && errno != ENOENT && errno != ECONNREFUSED)
    return appc_error_make(err, errno, "metadata service: connecting to %s", SOCK_NAME);
  if (conn < 0 && (conn = start_service(pods_fd, err)) < 0)
    return -1;
  if ((mfd = wire_memfd(wire, len, err)) < 0)
    return -1;
  if (appc_send_fd(conn, listen_fd) < 0 || appc_send_fd(conn, mfd) < 0)
    return appc_error_make(err, errno, "metadata service: registering the pod");
  return steal_fd(&conn);
}

enum ace_mds_event ace_mds_read(int conn, bool *served, appc_error_t *err)
{
  char buf[512];
  ssize_t n = recv(conn, buf, sizeof buf - 1, MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return ACE_MDS_SERVING;
  if (n > 0 && buf[0] == 'K' && !*served) {
    *served = true;
    return ACE_MDS_SERVING;
  }
  if (n > 0 && buf[0] == 'E') {
    buf[n] = '\0';
    appc_error_make(err, 0, "metadata service: %s", buf + 1);
    return ACE_MDS_REFUSED;
  }
  if (n > 0) {
    appc_error_make(err, EPROTO, "metadata service: an unexpected answer");
    return ACE_MDS_REFUSED;
  }
  return *served ? ACE_MDS_ENDED : ACE_MDS_RETIRED;
}

/* ---- the service ---------------------------------------------------------- */

struct registration {
  int conn, listen_fd;
  struct ace_metadata_server *srv;
  bool serving; /* its thread serves LISTEN_FD (wake) */
};

struct service {
  int pods_fd, ctl;
  int sweep_fd; /* to the sweeper; -1 once it is gone */
  /* Out of descriptors: what needs one (CTL, the pods' sockets not served
   * yet) stays readable, and is not polled till then rather than spun on. */
  int64_t starved_until;
  struct stat sock; /* the socket file it listens on, to remove only its own */
  struct registration *regs;
  size_t n, cap;
  /* The store's HMAC key (pods/hmac.key), read by the service alone: no
   * process of a pod, which actool's clone makes, holds it. */
  unsigned char key[ACE_HMAC_KEY_LEN];
  bool key_loaded;
};

/* The store's key, read (or made) on the first registration. */
static int load_key(struct service *sv, appc_error_t *err)
{
  char link[64], dir[PATH_MAX - 16], path[PATH_MAX];

  if (sv->key_loaded)
    return 0;
  snprintf(link, sizeof link, "/proc/self/fd/%d", sv->pods_fd);
  ssize_t n = readlink(link, dir, sizeof dir - 1);
  snprintf(path, sizeof path, "%.*s/" ACE_HMAC_KEY_NAME, n > 0 ? (int) n : 4, n > 0 ? dir : "pods");
  if (ace_metadata_key_at(sv->pods_fd, ACE_HMAC_KEY_NAME, path, sv->key, err) < 0)
    return -1;
  sv->key_loaded = true;
  return 0;
}

static void refuse(int conn, const appc_error_t *err)
{
  char msg[512];
  int n = snprintf(msg, sizeof msg, "E%s", *err != NULL ? (*err)->msg : "refused");

  (void) !send(conn, msg, n > 0 && (size_t) n < sizeof msg ? (size_t) n : sizeof msg - 1,
               MSG_NOSIGNAL);
}

/* P's last word before it closes: 'R', its pod's directory was set aside
 * (ace_pod_dir_set_aside) for the service to remove, off the pod's end. */
static bool asks_sweep(int conn)
{
  char c;

  return recv(conn, &c, 1, MSG_DONTWAIT) == 1 && c == 'R';
}

/* A full pipe means a sweep is asked already. */
static void ask_sweep(const struct service *sv)
{
  if (sv->sweep_fd >= 0)
    (void) !write(sv->sweep_fd, "s", 1);
}

/* Serve the pod P registers on CONN; false when it was refused. */
static bool take(struct service *sv, int conn)
{
  struct ucred cred;
  socklen_t cl = sizeof cred;
  struct timeval tv = {.tv_sec = PEER_TIMEOUT_S};
  cleanup_close int lfd = -1, mfd = -1;
  cleanup_free char *wire = NULL;
  appc_error_t err = NULL;
  size_t len = 0;
  struct ace_metadata_server *srv = NULL;

  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || cred.uid != geteuid())
    return false;
  setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if ((lfd = appc_recv_fd(conn, 0)) < 0 || (mfd = appc_recv_fd(conn, 0)) < 0) {
    appc_error_make(&err, errno, "registration: its descriptors");
  } else if (sv->n == sv->cap) {
    size_t cap = sv->cap ? 2 * sv->cap : 8;
    struct registration *r = realloc(sv->regs, cap * sizeof *r);
    if (r == NULL)
      appc_error_make(&err, ENOMEM, "registration");
    else
      sv->regs = r, sv->cap = cap;
  }
  if (err == NULL && load_key(sv, &err) == 0 &&
      appc_read_fd(mfd, "registration", WIRE_MAX, &wire, &len, &err) == 0)
    ace_metadata_server_load(wire, len, sv->key, &srv, &err);
  if (err != NULL || send(conn, "K", 1, MSG_NOSIGNAL) != 1) {
    refuse(conn, &err);
    appc_error_release(&err);
    ace_metadata_server_stop(srv);
    /* A pod that ended before its answer (the 'K' met a closed peer) said
     * its last word already: queued behind its descriptors, it would go
     * unread with the connection, leaving its directory set aside. */
    if (asks_sweep(conn))
      ask_sweep(sv);
    return false;
  }
  sv->regs[sv->n++] = (struct registration){conn, steal_fd(&lfd), srv, false};
  return true;
}

/* Whether the process is out of descriptors (EMFILE, or ENFILE for the
 * system): what failed then may work once some are free again. */
static bool out_of_fds(void)
{
  int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

  if (fd >= 0) {
    close(fd);
    return false;
  }
  return errno == EMFILE || errno == ENFILE;
}

/* A connection waits on the pod's socket: serve the pod from now on.  Most
 * pods never ask, and a thread, the key and MHD's set-up for each took CPU
 * from the pod's start on a small machine.  On failure the registration
 * ends: P sees the service end and registers the pod again; but out of
 * descriptors it waits a while and tries again, rather than spending P's
 * restarts (or spinning on a socket that stays readable). */
static bool wake(struct service *sv, size_t i)
{
  appc_error_t err = NULL;

  if (ace_metadata_server_serve(sv->regs[i].srv, sv->regs[i].listen_fd, &err) < 0) {
    appc_error_release(&err);
    if (!out_of_fds())
      return false;
    sv->starved_until = appc_monotonic_ms() + BACKOFF_MS;
    return true;
  }
  sv->regs[i].serving = true;
  return true;
}

/* Whether a connection was there to take. */
static bool accept_one(struct service *sv)
{
  int conn = accept4(sv->ctl, NULL, NULL, SOCK_CLOEXEC);

  if (conn >= 0 && !take(sv, conn))
    close(conn);
  if (conn < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM))
    sv->starved_until = appc_monotonic_ms() + BACKOFF_MS;
  return conn >= 0 || errno == EINTR || errno == ECONNABORTED;
}

/* Whether the service is out of descriptors now; *TIMEOUT shrinks to when
 * it tries again. */
static bool starved(const struct service *sv, int *timeout)
{
  int64_t left = sv->starved_until - appc_monotonic_ms();

  if (left <= 0)
    return false;
  if (*timeout < 0 || left < *timeout)
    *timeout = (int) left;
  return true;
}

static void drop(struct service *sv, size_t i)
{
  ace_metadata_server_stop(sv->regs[i].srv);
  close(sv->regs[i].listen_fd);
  close(sv->regs[i].conn);
  sv->regs[i] = sv->regs[--sv->n];
}

/* No pod for a while: no new connection can reach the socket once it is
 * unlinked; those queued before are still taken. */
static void retire(struct service *sv)
{
  appc_error_t err = NULL;
  int lock = lock_service(sv->pods_fd, &err);
  struct stat st;

  if (fstatat(sv->pods_fd, SOCK_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      st.st_dev == sv->sock.st_dev && st.st_ino == sv->sock.st_ino)
    unlinkat(sv->pods_fd, SOCK_NAME, 0);
  if (lock >= 0)
    close(lock);
  appc_error_release(&err);
  if (fcntl(sv->ctl, F_SETFL, O_NONBLOCK) == 0)
    while (accept_one(sv))
      ;
  close(sv->ctl);
  sv->ctl = -1;
}

static void record_pid(int pods_fd)
{
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
  cleanup_close int fd = openat(pods_fd, LOCK_NAME, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);

  if (fd >= 0 && ftruncate(fd, 0) == 0)
    (void) !write(fd, pid, (size_t) n);
}

void ace_mds_main(int pods_fd, int ctl, int sweep_fd, unsigned idle_ms)
{
  struct service sv = {.pods_fd = pods_fd, .ctl = ctl, .sweep_fd = sweep_fd};
  struct pollfd *fds = NULL;

  if (fstatat(pods_fd, SOCK_NAME, &sv.sock, AT_SYMLINK_NOFOLLOW) < 0)
    _exit(1);
  record_pid(pods_fd);
  /* What pods set aside while no service ran (it was killed) goes too. */
  ask_sweep(&sv);
  while (sv.ctl >= 0 || sv.n > 0) {
    size_t n = 0;
    int timeout = sv.n == 0 ? (int) idle_ms : -1;
    bool starving = starved(&sv, &timeout);
    struct pollfd *f = realloc(fds, (2 * sv.n + 2) * sizeof *fds);
    if (f == NULL)
      _exit(1);
    fds = f;
    for (size_t i = 0; i < sv.n; i++)
      fds[n++] = (struct pollfd){.fd = sv.regs[i].conn, .events = POLLIN};
    /* fds[sv.n + i]: registration i's socket until its thread serves it. */
    for (size_t i = 0; i < sv.n; i++)
      fds[n++] = (struct pollfd){.fd = sv.regs[i].serving || starving ? -1 : sv.regs[i].listen_fd,
                                 .events = POLLIN};
    size_t ctl_at = n;
    if (sv.ctl >= 0)
      fds[n++] = (struct pollfd){.fd = starving ? -1 : sv.ctl, .events = POLLIN};
    /* No event asked: the pipe reports POLLERR once the sweeper is gone. */
    fds[n] = (struct pollfd){.fd = sv.sweep_fd};
    int r = poll(fds, n + 1, timeout);
    if (r < 0 && errno != EINTR)
      _exit(1);
    if (r == 0 && starving)
      continue; /* try again */
    if (r == 0) {
      retire(&sv);
      continue;
    }
    if (sv.sweep_fd >= 0 && fds[n].revents != 0) {
      /* It died (killed, or out of memory): this service takes no new
       * pod, so that the next one starts a service with a sweeper, which
       * removes what was set aside meanwhile. */
      close(sv.sweep_fd);
      sv.sweep_fd = -1;
      if (sv.ctl >= 0)
        retire(&sv);
      continue; /* retire may have taken registrations that FDS lacks */
    }
    for (size_t i = 0; i < sv.n; i++)
      if (fds[sv.n + i].revents != 0 && !wake(&sv, i))
        fds[i].revents |= POLLHUP;
    /* Backwards: drop moves the last registration into the hole. */
    bool sweep = false;
    for (size_t i = sv.n; r > 0 && i-- > 0;)
      if (fds[i].revents != 0) {
        sweep |= asks_sweep(sv.regs[i].conn);
        drop(&sv, i);
      }
    /* After the drops: a pod's end is what the sweep waited for. */
    if (sweep)
      ask_sweep(&sv);
    if (r > 0 && sv.ctl >= 0 && (fds[ctl_at].revents & POLLIN))
      accept_one(&sv);
  }
  _exit(0);
}
