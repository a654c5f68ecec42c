/* SPDX-License-Identifier: Apache-2.0 */
/* Stopping a running pod from another process (`actool stop`).  The pod's
 * actool (P) already does the work for an interrupt: the first SIGTERM is
 * forwarded to every app, which may exit cleanly (post-stop handlers run);
 * a second one kills the pod at once.  Stopping is sending those two,
 * GRACE apart, and waiting for P to have cleaned up.  The first is marked a
 * stop request (ACE_STOP_REQUEST), which P never counts as the second: a
 * stop while another is under way waits as the first does.  P is held by a
 * pidfd, so that a PID reused meanwhile is never signalled. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ace/internal.h"
#include "appc/ace.h"
#include "common/cleanup.h"
#include "common/fs.h"

/* After the second SIGTERM, P removes the pod: this long at most. */
#define STOP_CLEANUP_MS 30000

static int pidfd_of(pid_t pid)
{
  return (int) syscall(SYS_pidfd_open, pid, 0);
}

/* SIGTERM to PIDFD's process: a plain one (the second interrupt), or with
 * REQUEST queued as a stop request (SI_QUEUE, as sigqueue sends it). */
static int send_term(int pidfd, bool request)
{
  siginfo_t si = {.si_signo = SIGTERM, .si_code = SI_QUEUE};

  si.si_pid = getpid();
  si.si_uid = getuid();
  si.si_value.sival_int = ACE_STOP_REQUEST;
  return (int) syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, request ? &si : NULL, 0);
}

/* Wait up to MS for the process behind PIDFD to end; true when it did. */
static bool wait_exit(int pidfd, long long ms)
{
  return appc_wait_readable(pidfd, appc_monotonic_ms() + ms) > 0;
}

static void kill_pid(pid_t pid)
{
  cleanup_close int fd = pidfd_of(pid);

  if (fd >= 0)
    (void) syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
}

/* Is PID still a supervisor (the pod's actool, P, forked and not exec'd:
 * the same executable), rather than an app it became? */
static bool is_supervisor(pid_t pid, pid_t actool)
{
  char a[64], b[64];
  struct stat sa, sb;

  snprintf(a, sizeof a, "/proc/%d/exe", (int) pid);
  snprintf(b, sizeof b, "/proc/%d/exe", (int) actool);
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The supervisors whose apps --force has killed, so that a later round
 * leaves alone what they run next (their post-stop handlers). */
#define MAX_SUPERVISORS 256
struct killed_apps {
  pid_t pid[MAX_SUPERVISORS];
  unsigned long long start[MAX_SUPERVISORS];
  size_t n;
};

static bool was_killed(const struct killed_apps *k, pid_t pid, unsigned long long start)
{
  for (size_t i = 0; i < k->n; i++)
    if (k->pid[i] == pid && k->start[i] == start)
      return true;
  return false;
}

/* --force: SIGKILL to every app, whose supervisors then run the post-stop
 * handlers.  The pod's init (verified by its start time) has one
 * supervisor per app as its children; a supervisor's children are its
 * app, and a supervisor without any became its app (no post-stop handler
 * to run), or has not started it yet: a pod just started, whose init
 * forks its supervisors one after another, takes more than one round,
 * each killing the apps of supervisors not in KILLED, which it adds. */
static int kill_apps(const struct appc_ace_pod_info *info, struct killed_apps *killed,
                     appc_error_t *err)
{
  unsigned long long start = 0;
  pid_t sup[MAX_SUPERVISORS], app[256];
  cleanup_close int init = info->init_pid > 0 ? pidfd_of(info->init_pid) : -1;

  if (init < 0 || ace_proc_start_time(info->init_pid, &start) < 0 || start != info->init_start)
    return appc_error_make(err, 0, "pod %s: its init is not running", info->uuid);
  int n = ace_proc_children(info->init_pid, sup, MAX_SUPERVISORS);
  for (int i = 0; i < n; i++) {
    unsigned long long sup_start = 0;
    if (ace_proc_start_time(sup[i], &sup_start) < 0 || was_killed(killed, sup[i], sup_start))
      continue;
    bool supervises = is_supervisor(sup[i], info->pid);
    int k = supervises ? ace_proc_children(sup[i], app, sizeof app / sizeof app[0]) : 0;
    if (supervises && k == 0)
      continue; /* its app not started yet: the next round */
    if (k <= 0)
      kill_pid(sup[i]);
    for (int j = 0; j < k; j++)
      kill_pid(app[j]);
    if (killed->n < MAX_SUPERVISORS) {
      killed->pid[killed->n] = sup[i];
      killed->start[killed->n++] = sup_start;
    }
  }
  return 0;
}

/* kill_apps until the pod's actool (PIDFD) has ended, 5 s at most: a
 * supervisor forked after a round would start its app (the init's children
 * are not all supervisors while it sets the pod up, so their number does
 * not tell when all have been seen). */
static int kill_all_apps(const struct appc_ace_pod_info *info, int pidfd, appc_error_t *err)
{
  struct killed_apps killed = {.n = 0};
  long long deadline = appc_monotonic_ms() + 5000;
  appc_error_t ended = NULL;

  if (kill_apps(info, &killed, err) < 0)
    return -1;
  /* (an init gone meanwhile: the pod is ending) */
  while (!wait_exit(pidfd, 20) && appc_monotonic_ms() < deadline &&
         kill_apps(info, &killed, &ended) == 0)
    ;
  appc_error_release(&ended);
  return 0;
}

/* The last resort: the pod's init, PID 1 of the pod's PID namespace, killed
 * (and with it every process of the pod), once the pidfd taken on it is
 * known to be that process (its start time). */
static int kill_init(const struct appc_ace_pod_info *info, appc_error_t *err)
{
  unsigned long long start = 0;
  cleanup_close int fd = info->init_pid > 0 ? pidfd_of(info->init_pid) : -1;

  if (fd < 0 || ace_proc_start_time(info->init_pid, &start) < 0 || start != info->init_start)
    return appc_error_make(err, 0, "pod %s: its init is not running", info->uuid);
  if (syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
    return appc_error_make(err, errno, "pod %s: SIGKILL to its init", info->uuid);
  return 0;
}

/* INFO's pod read again, for what its actool has recorded since: its init
 * (a pod just started has none yet).  False when it does not run any more. */
static bool reread(struct appc_store *s, struct appc_ace_pod_info *info)
{
  struct appc_ace_pod_info again = {0};
  appc_error_t ignored = NULL;

  if (appc_ace_status(s, info->uuid, &again, &ignored) < 0 || again.state != APPC_ACE_POD_RUNNING ||
      again.pid != info->pid) {
    appc_error_release(&ignored);
    appc_ace_pod_info_clear(&again);
    return false;
  }
  appc_ace_pod_info_clear(info);
  *info = again;
  return true;
}

/* --force of a pod still starting: its init, for kill_apps, once it runs
 * (5 s at most, as enter waits for one); false when it does not come. */
static bool await_init(struct appc_store *s, struct appc_ace_pod_info *info, int pidfd)
{
  long long deadline = appc_monotonic_ms() + 5000;

  while (info->init_pid <= 0 && appc_monotonic_ms() < deadline) {
    if (wait_exit(pidfd, 10) || !reread(s, info))
      return false;
  }
  return info->init_pid > 0;
}

/* Once the pod's actool has ended: whether it stopped the pod, or died
 * first (a SIGKILL, the OOM killer), leaving it to gc. */
static int check_ended(struct appc_store *s, const char *uuid, appc_error_t *err)
{
  struct appc_ace_pod_info after = {0};
  appc_error_t ignored = NULL;
  bool died =
      appc_ace_status(s, uuid, &after, &ignored) == 0 && after.state == APPC_ACE_POD_ABANDONED;

  appc_error_release(&ignored);
  appc_ace_pod_info_clear(&after);
  if (died)
    return appc_error_make(err, 0,
                           "pod %s: its actool died before the pod stopped: `actool gc` cleans "
                           "it up",
                           uuid);
  return 0;
}

int appc_ace_stop(struct appc_store *s, const char *uuid, double grace_seconds,
                  struct appc_ace_pod_info *stopped, appc_error_t *err)
{
  struct appc_ace_pod_info info = {0};
  cleanup_close int pidfd = -1;

  if (appc_ace_status(s, uuid, &info, err) < 0)
    return -1;
  /* Stopped already: done, as docker and podman answer */
  if (info.state == APPC_ACE_POD_EXITED) {
    if (stopped != NULL)
      *stopped = info;
    else
      appc_ace_pod_info_clear(&info);
    return 0;
  }
  if (info.state != APPC_ACE_POD_RUNNING) {
    appc_error_make(err, 0, "pod %s: not running (its actool died): `actool gc` cleans it up",
                    info.uuid);
    appc_ace_pod_info_clear(&info);
    return -1;
  }
  pidfd = pidfd_of(info.pid);
  /* The pod may have ended between the listing and now; read again once
   * the pidfd holds its actool (the state's start time proves it is). */
  if (pidfd < 0 || !reread(s, &info)) {
    appc_error_make(err, 0, "pod %s: not running any more", info.uuid);
    appc_ace_pod_info_clear(&info);
    return -1;
  }
  if (grace_seconds <= 0 && await_init(s, &info, pidfd)) {
    if (kill_all_apps(&info, pidfd, err) < 0) {
      appc_ace_pod_info_clear(&info);
      return -1;
    }
  } else if (grace_seconds <= 0) {
    /* no init after 5 s: the pod's actool interrupted (a plain SIGTERM,
     * which a second one, or its init's SIGKILL below, follows) */
    (void) send_term(pidfd, false);
  } else if (send_term(pidfd, true) < 0 && errno != ESRCH) {
    appc_error_make(err, errno, "pod %s: SIGTERM to its actool (pid %d)", info.uuid,
                    (int) info.pid);
    appc_ace_pod_info_clear(&info);
    return -1;
  }
  if (!wait_exit(pidfd, grace_seconds > 0 ? (long long) (grace_seconds * 1000) : STOP_CLEANUP_MS)) {
    /* the second SIGTERM kills the pod at once; after --force, its init */
    if (grace_seconds > 0)
      (void) send_term(pidfd, false);
    else {
      appc_error_t ignored = NULL;
      (void) reread(s, &info);
      (void) kill_init(&info, &ignored);
      appc_error_release(&ignored);
    }
    if (!wait_exit(pidfd, STOP_CLEANUP_MS)) {
      appc_error_make(err, 0, "pod %s: its actool (pid %d) did not end", info.uuid, (int) info.pid);
      appc_ace_pod_info_clear(&info);
      return -1;
    }
  }
  if (check_ended(s, info.uuid, err) < 0) {
    appc_ace_pod_info_clear(&info);
    return -1;
  }
  if (stopped != NULL)
    *stopped = info;
  else
    appc_ace_pod_info_clear(&info);
  return 0;
}
