/* SPDX-License-Identifier: Apache-2.0 */
/* A process in a running app (`actool enter`), as nsenter with the app's
 * context: the app is found among the children of the pod's init by its
 * root file system (the overlay whose upper layer is the app's), and the
 * new process joins its cgroups (found as the executor made them) and namespaces (IPC, UTS,
 * network, PID, cgroup, mount: all the pod's and the app's), takes its root, and runs as the app
 * runs: its user and groups, capabilities, no_new_privs and seccomp filter rebuilt from the pod's
 * manifest, its environment and working directory. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ace/internal.h"
#include "ace/pod.h"
#include "ace/rootfs.h"
#include "appc/ace.h"
#include "appc/schema.h"
#include "appc/store.h"
#include "common/abi.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"

static const struct appc_runtime_app *
pick_app(const struct appc_pod_manifest *pod, const char *uuid, const char *name, appc_error_t *err)
{
  if (name == NULL && pod->n_apps != 1) {
    appc_error_tag(err, ENOTUNIQ, "pod %s has %zu apps: say which", uuid, pod->n_apps);
    return NULL;
  }
  for (size_t i = 0; i < pod->n_apps; i++)
    if (name == NULL || strcmp(pod->apps[i].name, name) == 0)
      return &pod->apps[i];
  appc_error_make(err, 0, "pod %s: no app named \"%s\"", uuid, name);
  return NULL;
}

/* PATH as overlayfs shows it among a mount's options in mountinfo
 * (seq_show_option): ',', '=', whitespace and '\\' as \OOO.  Malloc'ed. */
static char *mountinfo_option(const char *path)
{
  char *out = malloc(4 * strlen(path) + 1), *o = out;

  if (out == NULL)
    return NULL;
  for (const unsigned char *p = (const unsigned char *) path; *p != '\0'; p++) {
    if (strchr(",= \t\n\\", *p) != NULL)
      o += sprintf(o, "\\%03o", *p);
    else
      *o++ = (char) *p;
  }
  *o = '\0';
  return out;
}

/* Does process PID run in the app whose overlay's upper layer is UPPER (as
 * mountinfo_option shows it)? */
static bool runs_in(pid_t pid, const char *upper)
{
  char path[64];
  cleanup_free char *info = NULL;
  appc_error_t ignored = NULL;

  snprintf(path, sizeof path, "/proc/%d/mountinfo", (int) pid);
  if (appc_read_file_at(AT_FDCWD, path, 1 << 20, 0, &info, NULL, &ignored) < 0) {
    appc_error_release(&ignored);
    return false;
  }
  /* the root mount: " / / " in the mount point field */
  for (char *line = info; line != NULL && *line != '\0';) {
    char *next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    char *opts = strstr(line, "upperdir=");
    if (strstr(line, " / / ") != NULL && opts != NULL &&
        strncmp(opts + 9, upper, strlen(upper)) == 0 &&
        (opts[9 + strlen(upper)] == ',' || opts[9 + strlen(upper)] == '\0'))
      return true;
    line = next;
  }
  return false;
}

/* A process of the app: a child of the pod's init (the app's supervisor,
 * or the app itself) whose root is the app's overlay. */
static pid_t find_app_process(pid_t init, const char *upper)
{
  pid_t children[256];
  int n = ace_proc_children(init, children, sizeof children / sizeof children[0]);

  for (int i = 0; i < n; i++)
    if (runs_in(children[i], upper))
      return children[i];
  /* An init's supervisor stays outside; its child, the init, is inside. */
  for (int i = 0; i < n; i++) {
    pid_t grandchildren[16];
    int m = ace_proc_children(children[i], grandchildren, 16);
    for (int k = 0; k < m; k++)
      if (runs_in(grandchildren[k], upper))
        return grandchildren[k];
  }
  return -1;
}

/* How long enter waits for an app of a running pod to have its root: a pod
 * just started (`run --detach` returns once the pod's directory exists)
 * may still be building it. */
#define APP_START_WAIT_MS 5000

#define APP_START_STEP_MS 10

static void sleep_step(void)
{
  const struct timespec step = {.tv_nsec = APP_START_STEP_MS * 1000 * 1000};
  nanosleep(&step, NULL);
}

/* The status of the pod UUID into INFO, waiting while it runs but has not
 * recorded its init yet. */
static int await_pod_init(struct appc_store *s, const char *uuid, struct appc_ace_pod_info *info,
                          appc_error_t *err)
{
  if (appc_ace_status(s, uuid, info, err) < 0)
    return -1;
  for (int waited = 0;
       info->state == APPC_ACE_POD_RUNNING && info->init_pid <= 0 && waited < APP_START_WAIT_MS;
       waited += APP_START_STEP_MS) {
    sleep_step();
    appc_ace_pod_info_clear(info);
    if (appc_ace_status(s, uuid, info, err) < 0)
      return -1;
  }
  return 0;
}

/* find_app_process, waiting while the pod's init (INIT) lives and the app
 * may still be starting. */
static pid_t await_app_process(pid_t init, const char *upper)
{
  pid_t pid;

  for (int waited = 0; (pid = find_app_process(init, upper)) < 0; waited += APP_START_STEP_MS) {
    if (waited >= APP_START_WAIT_MS || (kill(init, 0) < 0 && errno == ESRCH))
      return -1;
    sleep_step();
  }
  return pid;
}

static const char *const namespaces[] = {"ipc", "uts", "net", "pid", "cgroup", "mnt"};
#define N_NAMESPACES (sizeof namespaces / sizeof namespaces[0])
#define PID_NAMESPACE 3 /* namespaces[3] */

/* The child: join, then fork the command (a new PID namespace applies to
 * children only) and wait for it.  Exits with its status. */
/* TARGET's user namespace when it is not ours (--private-users), or -1. */
static int other_user_namespace(pid_t target)
{
  char path[64];
  struct stat mine, its;

  snprintf(path, sizeof path, "/proc/%d/ns/user", (int) target);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &its) < 0 || stat("/proc/self/ns/user", &mine) < 0 ||
      (its.st_ino == mine.st_ino && its.st_dev == mine.st_dev)) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

/* The signals enter passes on to the command, as a shell's foreground job
 * gets them from the terminal (the command is in a session of its own),
 * and the terminal's stop (Ctrl-Z) and continue. */
static const int forwarded_signals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                        SIGUSR1, SIGUSR2, SIGTSTP, SIGCONT};

/* Those, and SIGCHLD, to be blocked and waited for. */
static void forwarding_set(sigset_t *set)
{
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded_signals / sizeof forwarded_signals[0]; i++)
    sigaddset(set, forwarded_signals[i]);
}

/* How the signals go on: the caller passes each to the helper, and stops
 * with it on Ctrl-Z, so that its shell sees the job stopped; the helper
 * passes each to the command's process group (the command and what it
 * runs, as a terminal signals its foreground job), a stop as SIGSTOP,
 * which no process there can ignore: a stopped enter leaves no process of
 * its own reading the operator's terminal. */
enum forward_to { TO_HELPER, TO_COMMAND_GROUP };

/* Wait for PID, passing on to it the signals of SET (blocked by the
 * caller); its exit status (128+N for signal N). */
static int wait_forwarding(pid_t pid, const sigset_t *set, enum forward_to to)
{
  int wstatus = 0;
  pid_t w;

  while ((w = waitpid(pid, &wstatus, WNOHANG)) == 0 || (w < 0 && errno == EINTR)) {
    int sig = sigwaitinfo(set, NULL);
    if (sig <= 0 || sig == SIGCHLD)
      continue;
    if (to == TO_HELPER) {
      (void) kill(pid, sig);
      if (sig == SIGTSTP)
        (void) raise(SIGSTOP);
    } else {
      (void) kill(-pid, sig == SIGTSTP ? SIGSTOP : sig);
      /* as a shell's kill of a stopped job: a stopped group (Ctrl-Z, or a
       * SIGSTOP from the app) must take the signal meant to end it */
      if (ace_signal_ends_command(sig))
        (void) kill(-pid, SIGCONT);
    }
  }
  if (w < 0)
    return 1;
  return WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
}

/* Child: ERR's message to the parent through REPORT, and exit with CODE. */
static void __attribute__((noreturn)) child_fail(int report, appc_error_t *err, int code)
{
  const char *msg = err != NULL && *err != NULL ? (*err)->msg : "failed";

  (void) appc_write_all(report, msg, strlen(msg));
  _exit(code);
}

/* What the helper (the child of the caller) needs to enter the app. */
struct enter_request {
  pid_t target; /* a process of the app */
  const char *uuid;
  const struct appc_runtime_app *ra;
  const struct ace_security *sec;
  const char *metadata_url;
  char *const *argv;
  int report;   /* the write end of the report pipe */
  int tty_sock; /* with a pseudo-terminal: where its master goes; else -1 */
  struct winsize size;
  bool has_size;
  pid_t caller;
  sigset_t caller_mask;
};

/* Helper, with a pseudo-terminal: open it in the pod and hand its master
 * to the caller; the slave into *SLAVE. */
static int hand_over_pty(const struct enter_request *q, int *slave, appc_error_t *err)
{
  int master;

  if (ace_pty_open(q->has_size ? &q->size : NULL, &master, slave, err) < 0)
    return -1;
  int r = appc_send_fd(q->tty_sock, master);
  int e = errno;
  close(master);
  close(q->tty_sock);
  if (r < 0) {
    close(*slave);
    return appc_error_make(err, e, "handing over the pod's pseudo-terminal");
  }
  return 0;
}

/* The command's process, once it has the app's credentials (which clear
 * a parent-death signal): a SIGHUP when its helper ends before it, as a
 * hang-up, so that a SIGKILL of enter's processes, which pass on no
 * signal, does not leave it running.  Not when the app's seccomp filter
 * blocks the calls this takes (the command then outlives a killed helper).
 * PARENT: its parent as it sees the helper (0: outside its PID namespace);
 * another now means the helper is gone already. */
static int end_with_helper(const struct ace_security *sec, pid_t parent, appc_error_t *err)
{
  if (!ace_security_allows(sec, "prctl") || !ace_security_allows(sec, "getppid"))
    return 0;
  if (prctl(PR_SET_PDEATHSIG, SIGHUP, 0, 0, 0) < 0)
    return appc_error_make(err, errno, "setting the command's parent-death signal");
  if (getppid() != parent)
    return appc_error_make(err, ESRCH, "the helper of enter is gone");
  return 0;
}

/* The command's process, after fork: its terminal or process group, its
 * directory, credentials and mask, then execve.  Never returns. */
static void __attribute__((noreturn))
exec_command(const struct enter_request *q, const char *exe, char **env, const char *cwd,
             const struct ace_identity *id, int slave, pid_t parent)
{
  appc_error_t err = NULL;
  cleanup_free char *prefix = NULL;
  struct ace_exec x;

  if (slave >= 0) {
    /* its session's leader, the terminal its controlling one */
    (void) ace_pty_become_controlled(slave, id->uid, &err);
  } else {
    /* a process group of its own, which the signals go to (wait_forwarding) */
    (void) setpgid(0, 0);
  }
  /* started by the exec shim, as an app is (ace/exec-shim.c) */
  if (err == NULL && asprintf(&prefix, "%s: ", exe) < 0)
    appc_error_make(&err, ENOMEM, "%s", exe);
  if (err == NULL && ace_chdir_in_root(cwd, &err) == 0 &&
      ace_exec_prepare(&x, exe, q->argv, q->report, 3, prefix, "", &err) == 0 &&
      ace_security_enter(q->sec, id, &err) == 0 && end_with_helper(q->sec, parent, &err) == 0 &&
      sigprocmask(SIG_SETMASK, &q->caller_mask, NULL) == 0)
    ace_exec_run(&x, env, &err);
  child_fail(q->report, &err, errno == ENOENT ? 127 : 126);
}

static void __attribute__((noreturn)) enter_child(const struct enter_request *q)
{
  int ns[N_NAMESPACES], root = -1, userns, slave = -1;
  appc_error_t err = NULL;
  char path[64];
  struct ace_identity id = {0};
  char **env = NULL;
  cleanup_free char *exe = NULL;
  const pid_t target = q->target;
  const struct appc_runtime_app *ra = q->ra;

  /* Nothing of the caller's but the standard streams goes into the pod,
   * and no process there may look into this one or the command before the
   * command's execve: the app could open a descriptor of theirs through
   * /proc/PID/fd (a directory of the host's: runc's CVE-2016-9962). */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int keep[] = {q->report, q->tty_sock};
  appc_close_fds_except(3, keep, q->tty_sock >= 0 ? 2 : 1);
  /* Without the operator's controlling terminal, as the app runs: in the
   * terminal's session the command (and an app tracing it) could type
   * into it (TIOCSTI) and signal the shell's jobs.  The terminal's signals
   * reach it through the caller and this process (wait_forwarding). */
  (void) setsid();
  /* Before the host's /proc is left: the command inherits it. */
  if (ace_security_oom_adjust(q->sec, &err) < 0)
    goto fail;
  for (size_t i = 0; i < N_NAMESPACES; i++) {
    snprintf(path, sizeof path, "/proc/%d/ns/%s", (int) target, namespaces[i]);
    ns[i] = open(path, O_RDONLY | O_CLOEXEC);
  }
  userns = other_user_namespace(target);
  snprintf(path, sizeof path, "/proc/%d/root", (int) target);
  root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0 || ace_cgroup_join(NULL, q->uuid, ra->name, &err) < 0) {
    if (err == NULL)
      appc_error_make(&err, errno, "%s", path);
    goto fail;
  }
  for (size_t i = 0; i < N_NAMESPACES; i++)
    if (ns[i] >= 0 && setns(ns[i], 0) < 0) {
      appc_error_make(&err, errno, "joining the app's %s namespace", namespaces[i]);
      goto fail;
    }
  if (fchdir(root) < 0 || chroot(".") < 0) {
    appc_error_make(&err, errno, "the app's root");
    goto fail;
  }
  /* Last: once in a user namespace of its own (--private-users) the
   * command has no power over the namespaces above. */
  if (userns >= 0 && ace_userns_join(userns, &err) < 0)
    goto fail;
  static const struct appc_app no_app = {0};
  const struct appc_app *app = ra->app != NULL ? ra->app : &no_app;
  const char *cwd =
      app->working_directory && app->working_directory[0] ? app->working_directory : "/";
  if (ace_identity_resolve("/", ra->app, &id, &err) < 0 ||
      ace_env_build(app, ra->name, q->metadata_url, id.home, NULL, &env, &err) < 0)
    goto fail;
  /* As a shell: 127 for a command not found, 126 for one it cannot run. */
  if (ace_exec_lookup(q->argv[0], env, &exe, &err) < 0)
    child_fail(q->report, &err, err->errnum == ENOENT ? 127 : 126);
  /* After the user namespace: the terminal is the pod's, owned as the pod
   * sees its users. */
  if (q->tty_sock >= 0 && hand_over_pty(q, &slave, &err) < 0)
    goto fail;
  /* The caller killed (SIGKILL, where it cannot pass on its signals):
   * the command gets a SIGTERM from here, as from the terminal. */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0 || getppid() != q->caller) {
    appc_error_make(&err, ESRCH, "the caller of enter is gone");
    goto fail;
  }
  sigset_t set;
  forwarding_set(&set);
  /* the helper as the command sees it: known here, since the helper may be
   * killed before the command looks */
  const pid_t helper = ns[PID_NAMESPACE] >= 0 ? 0 : getpid();
  pid_t pid = fork();
  if (pid == 0)
    exec_command(q, exe, env, cwd, &id, slave, helper);
  if (pid < 0) {
    appc_error_make(&err, errno, "fork");
    goto fail;
  }
  if (slave >= 0)
    close(slave); /* the command's session holds it: its end hangs up the terminal */
  else
    (void) setpgid(pid, pid); /* (either may come first) */
  close(q->report);           /* the command's copy tells of its failure to exec */
  _exit(wait_forwarding(pid, &set, TO_COMMAND_GROUP));
fail:
  child_fail(q->report, &err, 125);
}

/* What the child reported, if anything: the reason the command did not run. */
static int read_report(int fd, appc_error_t *err)
{
  char msg[1024];
  size_t got = 0;
  ssize_t n;

  while (got < sizeof msg - 1 && (n = read(fd, msg + got, sizeof msg - 1 - got)) != 0) {
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      break;
    got += (size_t) n;
  }
  if (got == 0)
    return 0;
  msg[got] = '\0';
  return appc_error_make(err, 0, "%s", msg);
}

static char *const shell[] = {(char *) "/bin/sh", NULL};

/* Fork the helper for Q (completed here), and wait for it, relaying the
 * pod's terminal with OPTS->tty; its exit status into *STATUS.  -1 when
 * the command did not start (the helper's report). */
static int start_helper(struct enter_request *q, const struct appc_ace_enter_options *opts,
                        int *status, appc_error_t *err)
{
  int report[2], tty_sock[2] = {-1, -1}, r;

  if (pipe2(report, O_CLOEXEC) < 0)
    return appc_error_make(err, errno, "pipe");
  if (opts->tty && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, tty_sock) < 0) {
    close(report[0]);
    close(report[1]);
    return appc_error_make(err, errno, "socketpair");
  }
  /* Blocked from the fork on: the caller and the child pass them on
   * (wait_forwarding); the caller's mask comes back at the end. */
  sigset_t set;
  forwarding_set(&set);
  fflush(NULL);
  q->caller = getpid();
  q->report = report[1];
  q->tty_sock = tty_sock[1];
  sigprocmask(SIG_BLOCK, &set, &q->caller_mask);
  pid_t child = fork();
  if (child == 0) {
    close(report[0]);
    if (tty_sock[0] >= 0)
      close(tty_sock[0]);
    enter_child(q);
  }
  close(report[1]);
  if (tty_sock[1] >= 0)
    close(tty_sock[1]);
  if (child < 0) {
    r = appc_error_make(err, errno, "fork");
  } else {
    r = read_report(report[0], err);
    /* the helper handed the terminal over before the command started */
    int master = r == 0 && opts->tty ? appc_recv_fd(tty_sock[0], MSG_DONTWAIT) : -1;
    /* (with no relay, the command's terminal hangs up) */
    if (master >= 0)
      r = ace_pty_relay(master, opts->in_fd, opts->out_fd, child, &set, status, err);
    if (master < 0 || r < 0)
      *status = wait_forwarding(child, &set, TO_HELPER);
  }
  close(report[0]);
  if (tty_sock[0] >= 0)
    close(tty_sock[0]);
  sigprocmask(SIG_SETMASK, &q->caller_mask, NULL);
  return r;
}

int appc_ace_enter_with(struct appc_store *s, const char *uuid,
                        const struct appc_ace_enter_options *opts, int *status, appc_error_t *err)
{
  static const struct appc_ace_enter_options plain = {.in_fd = STDIN_FILENO,
                                                      .out_fd = STDOUT_FILENO};
  struct appc_ace_pod_info info = {0};
  struct appc_pod_manifest *pod = NULL;
  struct ace_security *sec = NULL;
  cleanup_free char *upper_path = NULL;
  cleanup_free char *upper = NULL;
  cleanup_free char *pods = NULL;
  cleanup_free char *pods_given = NULL;
  cleanup_free char *metadata_url = NULL;
  int r = -1;

  *status = 1;
  if (APPC_ABI_CHECK(opts, appc_ace_enter_options, APPC_ACE_ENTER_OPTIONS_VERSION, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &plain;
  const char *app_name = opts->app;
  if (geteuid() != 0)
    return appc_error_make(err, EPERM, "entering a pod needs root");
  if (await_pod_init(s, uuid, &info, err) < 0)
    return -1;
  if (info.state != APPC_ACE_POD_RUNNING || info.init_pid <= 0) {
    appc_error_make(err, 0, "pod %s: not running", info.uuid);
    goto out;
  }
  const struct appc_runtime_app *ra = NULL;
  if (appc_ace_pod_manifest(s, info.uuid, &pod, err) < 0 ||
      ace_pod_metadata_url(s, info.uuid, &metadata_url, err) < 0 ||
      (ra = pick_app(pod, info.uuid, app_name, err)) == NULL)
    goto out;
  /* as the kernel shows the overlay's upper layer: the store reached
   * through a symlink too */
  pods_given = appc_store_area_path(s, APPC_STORE_AREA_PODS);
  pods = pods_given != NULL ? realpath(pods_given, NULL) : NULL;
  if (pods == NULL || asprintf(&upper_path, "%s/%s/apps/%s/upper", pods, info.uuid, ra->name) < 0 ||
      (upper = mountinfo_option(upper_path)) == NULL) {
    appc_error_make(err, ENOMEM, "pod %s", info.uuid);
    goto out;
  }
  for (size_t i = 0; i < info.n_apps; i++)
    if (info.apps[i].exited && strcmp(info.apps[i].name, ra->name) == 0) {
      appc_error_make(err, 0, "pod %s: app %s is not running (it exited with status %d)", info.uuid,
                      ra->name, info.apps[i].status);
      goto out;
    }
  pid_t target = await_app_process(info.init_pid, upper);
  if (target < 0) {
    appc_error_make(err, 0, "pod %s: app %s is not running", info.uuid, ra->name);
    goto out;
  }
  struct ace_notes quiet = {0};
  if (ace_security_prepare(ra->app, ra->name, info.no_seccomp ? ACE_SECURITY_NO_SECCOMP : 0, &quiet,
                           &sec, err) < 0)
    goto out;
  struct enter_request q = {
      .target = target,
      .uuid = info.uuid,
      .ra = ra,
      .sec = sec,
      .metadata_url = metadata_url,
      .argv = opts->argv != NULL && opts->argv[0] != NULL ? opts->argv : shell,
      .tty_sock = -1,
  };
  if (opts->tty)
    q.has_size = ace_pty_caller_size(opts->in_fd, opts->out_fd, &q.size);
  r = start_helper(&q, opts, status, err);
  if (r < 0)
    appc_error_prefix(err, "pod %s: app %s", info.uuid, ra->name);
out:
  ace_security_free(sec);
  if (pod != NULL)
    appc_pod_manifest_free(pod);
  appc_ace_pod_info_clear(&info);
  return r;
}

int appc_ace_enter(struct appc_store *s, const char *uuid, const char *app_name, char *const *argv,
                   int *status, appc_error_t *err)
{
  const struct appc_ace_enter_options o = {.version = APPC_ACE_ENTER_OPTIONS_VERSION,
                                           .app = app_name,
                                           .argv = argv,
                                           .in_fd = STDIN_FILENO,
                                           .out_fd = STDOUT_FILENO};

  return appc_ace_enter_with(s, uuid, &o, status, err);
}
