/* SPDX-License-Identifier: Apache-2.0 */
/* Internal interfaces of the executor (ace/), shared by its modules.
 *
 * Process model (docs/executor.md): actool (P) prepares everything that can
 * fail early in the host's namespaces, registers the pod with the store's
 * metadata service (M, mds.c), then clones the pod's init (I, PID 1 of the pod's PID namespace,
 * also in its IPC, UTS and network namespaces).  I forks one supervisor (S) per app: S enters its
 * own mount namespace, builds the app's root filesystem, pivots into it and runs pre-start, the app
 * and post-stop.  Functions marked "child" run in I or S, after fork: they must not rely on state
 * of P other than what fork copied. */
#ifndef APPC_ACE_INTERNAL_H
#define APPC_ACE_INTERNAL_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "appc/error.h"
#include "appc/manifest.h"

/* How the executor tells the user what it did with an isolator or a volume
 * (the spec requires saying which isolators were enforced or ignored).
 * LEVEL is ACE_NOTE_INFO (shown with --debug) or ACE_NOTE_WARN (always). */
enum ace_note_level { ACE_NOTE_INFO, ACE_NOTE_WARN };
typedef void (*ace_note_fn)(void *data, enum ace_note_level level, const char *msg);
struct ace_notes {
  ace_note_fn fn; /* may be NULL */
  void *data;
};
void ace_note(const struct ace_notes *n, enum ace_note_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- run.c ---------------------------------------------------------------- */

/* A process forked from actool that lives on (the pod's init, the metadata
 * service) would show actool's command line, host paths and --set-env
 * values, to whoever reads /proc/PID/cmdline (anyone): its own copy of the
 * argument strings (from /proc/self/stat's arg_start and arg_end, fields 48
 * and 49, checked against argv[0]) is cleared but for NAME. */
void ace_hide_command_line(const char *name);

/* ---- pty.c: a pseudo-terminal for an entered command (enter --tty) ---------- */

struct winsize;
/* Is SIG one that asks an entered command to end (SIGTERM, SIGHUP, SIGINT,
 * SIGQUIT)?  Passed on with a SIGCONT, as a shell's kill of a stopped job,
 * and with a terminal, enter's leave begins (pty.c). */
bool ace_signal_ends_command(int sig);
/* In the pod (its root and user namespace joined): a new pseudo-terminal
 * of its devpts, the slave its opener's alone (0600) and SIZE (may be
 * NULL) set. */
int ace_pty_open(const struct winsize *size, int *master, int *slave, appc_error_t *err);
/* Child, still privileged: SLAVE as the controlling terminal of a new
 * session (taken back from a session of the pod that took it first, where
 * root of the host may), then OWNER's (mode 0620), and as the standard
 * streams. */
int ace_pty_become_controlled(int slave, uid_t owner, appc_error_t *err);
/* The window size of the caller's terminal (IN, else OUT); false if neither
 * is a terminal with one. */
bool ace_pty_caller_size(int in, int out, struct winsize *ws);
/* The caller's side: relay IN to MASTER and MASTER to OUT (IN in raw mode
 * meanwhile when a terminal, its size passed on) until HELPER exits, whose
 * status (128+N for signal N) goes to *STATUS; SIGNALS are taken (with
 * SIGCHLD and SIGWINCH) and passed on to HELPER, but for SIGTSTP, which
 * stops the caller alone (its terminal restored meanwhile).  Leaves them
 * and SIGPIPE blocked.  Closes MASTER (early when OUT is gone, which hangs
 * the terminal up).  -1 (HELPER not waited for) when it could not relay. */
int ace_pty_relay(int master, int in, int out, pid_t helper, const sigset_t *signals, int *status,
                  appc_error_t *err);

/* ---- identity.c: user, group and supplementary groups (spec: aci.md "app") */

struct ace_identity {
  uid_t uid;
  gid_t gid;
  gid_t *groups; /* supplementary GIDs, as given by the app */
  size_t n_groups;
  char *home; /* HOME: the user's home directory in ROOT/etc/passwd, else "/" */
};
/* Resolve USER and GROUP as the spec says, inside the tree at ROOT ("/" once
 * the caller has pivoted into the app's root): an absolute path means the
 * owner (uid or gid) of that path in ROOT; anything else is looked up in
 * ROOT/etc/passwd or ROOT/etc/group first (a name may be all digits), then
 * used as a number.  Lookups never leave ROOT (symlinks are resolved inside
 * it).  APP NULL (an image without an app) runs as root.  Errors name the
 * field and rule, e.g.
 * `app.user: "www" is not in /etc/passwd and is not a number`. */
int ace_identity_resolve(const char *root, const struct appc_app *app, struct ace_identity *out,
                         appc_error_t *err);
void ace_identity_clear(struct ace_identity *id);

/* ---- sockets.c: socket activation ----------------------------------------- */

/* The sockets of an app's socket-activated ports (app.ports with
 * socketActivated), in port order, a port with a count giving one per
 * number; NAMES holds their ports' names ':'-separated (LISTEN_FDNAMES). */
struct ace_listen {
  int *fds;
  size_t n;
  char *names;
};
/* P: bind (and for tcp listen on) every socket-activated port of APP on all
 * addresses, in the network namespace NETNS_FD (-1: the host's).  Only tcp
 * and udp ports can be; errors name the app and the port. */
int ace_listen_open(const struct appc_app *app, const char *app_name, int netns_fd,
                    struct ace_listen *out, appc_error_t *err);
void ace_listen_clear(struct ace_listen *l);
/* Child, just before execve: L's sockets at descriptors 3, 4, ... (kept
 * across execve) and *NEW_ENV, ENV with LISTEN_FDS, LISTEN_PID (this
 * process) and LISTEN_FDNAMES, as sd_listen_fds(3) reads them.  L NULL or
 * empty: *NEW_ENV is ENV. */
int ace_listen_pass(const struct ace_listen *l, char *const *env, char ***new_env,
                    appc_error_t *err);

/* ---- env.c: the app's environment --------------------------------------- */

/* Parse an environment file like systemd's EnvironmentFile=: KEY=VALUE lines,
 * blank lines and lines starting with # or ; ignored, values optionally in
 * single or double quotes, a trailing backslash continues a line.  An entry
 * whose KEY is not a valid environment variable name ("export X=1") or a
 * line without '=' is skipped with a warning to NOTES (may be NULL), as
 * systemd does; later entries replace earlier ones.  Appends to OUT.  Errors
 * (an open quote, a NUL byte) name FILE:LINE. */
int ace_env_file_parse(const char *path, struct appc_kv_list *out, const struct ace_notes *notes,
                       appc_error_t *err);

/* Build the NULL-terminated KEY=VALUE array for an app's processes, in order
 * of precedence (later wins): PATH (the spec's value), AC_APP_NAME,
 * AC_METADATA_URL, container=actool and HOME (the identity's; none when
 * NULL), then the app's environment, then EXTRA (--env-file, then
 * --set-env).  Free with ace_env_free. */
int ace_env_build(const struct appc_app *app, const char *app_name, const char *metadata_url,
                  const char *home, const struct appc_kv_list *extra, char ***out,
                  appc_error_t *err);
void ace_env_free(char **env);
/* Look NAME up in ENV (KEY=VALUE array); NULL when absent. */
const char *ace_env_get(char *const *env, const char *name);

/* Search FILE on the PATH given in ENV like execvp (a FILE with a slash is used
 * as it is); the result is malloc'd.  Fails with ENOENT / EACCES, naming FILE. */
int ace_exec_lookup(const char *file, char *const *env, char **out, appc_error_t *err);

/* ---- exec.c --------------------------------------------------------------- */

/* A pod's command, ready to start through the exec shim (ace/exec-shim.c):
 * never by the caller's own execve, while the caller's /proc/self/exe is
 * the host's actool binary.  Prepared before the command's seccomp filter
 * is loaded (what it takes, memfd_create, write, fcntl, calloc, may be
 * blocked after), run after; the process is lost either way. */
struct ace_exec {
  int memfd;  /* the shim, sealed */
  int report; /* REPORT's copy the shim writes a failure to, or -1 */
  char report_arg[16];
  char **argv; /* the shim's */
};
/* PATH and ARGV (NULL-terminated) to run; a failure of their execve is
 * written to REPORT (-1: none; its copy is made at or above MIN_FD, and
 * closed by the command's execve) as PREFIX, the reason, SUFFIX. */
int ace_exec_prepare(struct ace_exec *x, const char *path, char *const *argv, int report,
                     int min_fd, const char *prefix, const char *suffix, appc_error_t *err);
/* Returns only when the shim could not be started, with ERR set. */
void ace_exec_run(const struct ace_exec *x, char *const *env, appc_error_t *err);

/* ---- reify.c -------------------------------------------------------------- */

/* The app name an image gets in a pod: the last element of its name, made
 * an AC Name. */
char *ace_app_name_from_image(const char *image);
/* What appc_ace_run takes of a reified POD before it makes anything: the
 * names of apps, volumes, mounts and mount points are AC Names (they become
 * path components of the pod's directory), app names are unique, volumes
 * are valid, and each mount has its volume and an absolute path.  The
 * library's caller may have built POD by hand. */
int ace_pod_check(const struct appc_pod_manifest *pod, appc_error_t *err);

/* ---- pod.c ---------------------------------------------------------------- */

/* PID's start time in clock ticks after boot (/proc/PID/stat field 22). */
int ace_proc_start_time(pid_t pid, unsigned long long *out);
/* Whether PID is the process that started at START and has not ended: a
 * zombie (killed, not yet reaped by its parent) has ended. */
bool ace_proc_alive(pid_t pid, unsigned long long start);
/* PID's children (/proc/PID/task/PID/children), at most MAX into OUT; how
 * many, or -1 when they cannot be read. */
int ace_proc_children(pid_t pid, pid_t *out, size_t max);

/* ---- stop.c --------------------------------------------------------------- */

/* The value `actool stop` queues with its SIGTERM (SI_QUEUE): a graceful stop
 * request, which P (run.c) forwards as the first interrupt and otherwise
 * ignores, so that stopping a pod that is stopping already waits as the first
 * stop does rather than counting as the second interrupt that kills it. */
#define ACE_STOP_REQUEST 0x61637374 /* "acst" */

/* ---- uuid.c --------------------------------------------------------------- */

/* A random (version 4) RFC 4122 UUID in canonical lower-case form. */
int ace_uuid_new(char out[37], appc_error_t *err);

/* ---- security.c: capabilities, no_new_privs, seccomp (libcap, libseccomp) */

struct ace_security;
/* Compute an app's security settings from its isolators (capabilities
 * retain/remove over the spec's default 14, no-new-privileges, seccomp
 * retain/remove with errno; without one, the default filter of
 * docs/executor.md), checking every name (unknown capability or
 * syscall: an error naming app.isolators[i]).  APP NULL (an image without
 * an app, running /sbin/init) gets the defaults, as an app without
 * isolators.  Done in P, before any namespace exists.  Notes report each
 * isolator as enforced. */
enum {
  /* --insecure-options=seccomp: no default filter, seccomp isolators
   * ignored (rkt's meaning). */
  ACE_SECURITY_NO_SECCOMP = 1 << 0,
};
int ace_security_prepare(const struct appc_app *app, const char *app_name, unsigned flags,
                         const struct ace_notes *notes, struct ace_security **out,
                         appc_error_t *err);
void ace_security_free(struct ace_security *sec);
/* SEC's capabilities beyond the ACE's default set that ALLOWED (a mask;
 * see ace_caps_parse) does not allow: refused, naming the app, the first
 * one and the option that allows it. */
int ace_security_check_caps(const struct ace_security *sec, uint64_t allowed, const char *app_name,
                            appc_error_t *err);
/* Whether SEC keeps CAP_SYS_PTRACE: the app may then open what processes
 * of its PID namespace have open (/proc/PID/fd), the pod's init's included. */
bool ace_security_may_trace(const struct ace_security *sec);
/* NAMES ("CAP_SYS_ADMIN", "all", or comma lists of them) as a mask. */
int ace_caps_parse(const char *const *names, size_t n, uint64_t *mask, appc_error_t *err);
/* Child, right before execve: drop the bounding set, set no_new_privs, load
 * the seccomp filter, switch to ID (setgroups, setgid, setuid) and set the
 * permitted/effective/inheritable capabilities (empty for a non-root uid).
 * The seccomp filter always lets through what this sequence and execve need. */
int ace_security_enter(const struct ace_security *sec, const struct ace_identity *id,
                       appc_error_t *err);
/* Whether SEC's seccomp filter lets the system call NAME through (what the
 * app's isolator decides; the default filter blocks none that asks this). */
bool ace_security_allows(const struct ace_security *sec, const char *name);
/* The supervisor, while it still sees the host's /proc: the app's
 * os/linux/oom-score-adj for itself, inherited by the app and its handlers. */
int ace_security_oom_adjust(const struct ace_security *sec, appc_error_t *err);
/* A process that needs no privilege (the metadata service, which parses
 * what the pods' apps send): every capability dropped, bounding set
 * included, and no_new_privs. */
int ace_security_drop_all(appc_error_t *err);
/* The same but for CAPS (a mask of 1 << CAP_*), which stay permitted and
 * effective. */
int ace_security_keep_only(uint64_t caps, appc_error_t *err);

/* Fill PLAN's capabilities, no-new-privileges, OOM score and seccomp
 * fields (<appc/ace.h>) with what SEC enforces. */
struct appc_ace_app_plan;
int ace_security_describe(const struct ace_security *sec, struct appc_ace_app_plan *plan,
                          appc_error_t *err);

/* os/unix/sysctl of the pod: only keys under net. are accepted (namespaced
 * to the pod's network); others are an error naming the key.  Applied by I
 * (child) inside the pod's network namespace, writing /proc/sys/net/...
 * The check, done in P, also notes every pod isolator that is not a
 * resource or a sysctl as ignored (app-scope only, or unknown). */
int ace_sysctl_check(const struct appc_isolator_list *pod_isolators, const struct ace_notes *notes,
                     appc_error_t *err);
int ace_sysctl_apply(const struct appc_isolator_list *pod_isolators, appc_error_t *err);

/* ---- device.c: the device nodes a pod may use ------------------------------ */

#define ACE_DEV_MKNOD 1u /* BPF_DEVCG_ACC_MKNOD, READ, WRITE */
#define ACE_DEV_READ 2u
#define ACE_DEV_WRITE 4u
#define ACE_DEV_ALL 7u
#define ACE_DEV_RULE_MAX 64

/* What a devices cgroup allows: TYPE 'c', 'b' or 'a' (both), MAJOR and
 * MINOR (-1: any) and ACCESS (ACE_DEV_* bits). */
struct ace_device_rule {
  char type;
  int64_t major, minor;
  unsigned access;
};

/* A host device in the pod (--device): the host's node (symlinks
 * followed), where it appears in the pod's /dev, and what the pod may do. */
struct ace_device {
  char *host_path;
  char *pod_path;
  struct ace_device_rule rule;
};
/* Parse SPEC, "HOSTPATH[:PODPATH][:ACCESS]" (ACCESS: r, w, m, default rwm;
 * PODPATH: HOSTPATH), checking that HOSTPATH is a character or block
 * device and PODPATH a plain path under /dev/ that is not one of the
 * executor's own nodes.  Errors name --device=SPEC and the rule broken. */
int ace_device_parse(const char *spec, struct ace_device *out, appc_error_t *err);
/* What ace_device_parse says of SPEC without looking at the host. */
int ace_device_check_syntax(const char *spec, appc_error_t *err);
void ace_device_clear(struct ace_device *d);
/* Whether FD (the mount cloned of D's host path) is the node D's rule was
 * made of: the path is looked up twice, and what it names may have been
 * swapped in between (a symlink turned to a host file). */
int ace_device_check_opened(const struct ace_device *d, int fd, appc_error_t *err);
/* No two devices at one pod path, nor one beneath another. */
int ace_device_check_unique(const struct ace_device *devices, size_t n, appc_error_t *err);
/* The executor's default rules (its /dev) followed by those of DEVICES,
 * malloc'd into *OUT; their count (0 with *OUT NULL: out of memory). */
size_t ace_device_rules(const struct ace_device *devices, size_t n, struct ace_device_rule **out);
/* RULE as the v1 controller's devices.allow reads it: "c 1:3 rwm". */
void ace_device_rule_format(const struct ace_device_rule *rule, char out[ACE_DEV_RULE_MAX]);
/* Load a BPF_PROG_TYPE_CGROUP_DEVICE program allowing exactly RULES; its
 * descriptor.  Attach it to a cgroup v2 directory with ace_device_bpf_attach
 * (BPF_F_ALLOW_MULTI: the host's programs on the ancestors still apply). */
int ace_device_bpf_load(const struct ace_device_rule *rules, size_t n, appc_error_t *err);
int ace_device_bpf_attach(int prog_fd, int cgroup_fd, appc_error_t *err);

/* ---- userns.c: --private-users ---------------------------------------------- */

/* Host ids BASE .. BASE + COUNT - 1 are the pod's 0 .. COUNT - 1; COUNT 0
 * asks for a range of 65536 chosen among those no pod holds. */
struct ace_userns_range {
  uint32_t base, count;
};
struct ace_userns {
  struct ace_userns_range range;
  int userns_fd;
  int netns_fd;           /* a network namespace the user namespace owns, or -1 */
  int utsns_fd, ipcns_fd; /* the pod's UTS and IPC namespaces, which it owns */
  char lease[PATH_MAX];   /* the lease file, removed on release */
};
/* SPEC: NULL, "" or "auto" (COUNT 0), or "UID:COUNT". */
int ace_userns_parse(const char *spec, struct ace_userns_range *out, appc_error_t *err);

/* HOST must be a host name sethostname() takes (RFC 1123, 64 bytes): the
 * error names it and the rule. */
int ace_hostname_check(const char *host, appc_error_t *err);
/* The host name of a pod of the one app APP_NAME (an AC Name) for a
 * runtime that is not this executor: APP_NAME cut to a label's 63
 * characters, always one ace_hostname_check takes; NULL: out of memory. */
char *ace_hostname_of_app(const char *app_name);
/* Lease the range (refusing one that overlaps a live pod's) for pod UUID,
 * make the user namespace with its maps, and UTS, IPC and (with NEW_NET)
 * network namespaces it owns. */
int ace_userns_create(const struct ace_userns_range *want, const char *uuid, bool new_net,
                      struct ace_userns **out, appc_error_t *err);
/* Close the descriptors and give the range back. */
void ace_userns_release(struct ace_userns *u);
/* Remove the leases of pods whose actool is gone (gc). */
int ace_userns_gc(appc_error_t *err);
/* Child: join the namespace and become its root (ids 0). */
int ace_userns_join(int userns_fd, appc_error_t *err);
/* Can PATH's file system give an idmapped mount of USERNS_FD's mapping? */
bool ace_userns_idmap_works(int userns_fd, const char *path);
/* Attach at TARGET (made when missing) a read-only, nodev mount of PATH
 * whose owners are shifted as USERNS_FD maps them. */
int ace_userns_idmapped_tree(int userns_fd, const char *path, const char *target,
                             appc_error_t *err);

/* ---- cgroup.c: resource/memory and resource/cpu (cgroup v2 or v1) ---------- */

struct ace_cgroup;
/* Create the pod's cgroup (actool/UUID) and one per app (actool/UUID/APP)
 * wherever the host has the memory, cpu, cpuacct, pids, blkio/io, devices
 * or freezer controllers: the unified (v2) hierarchy for those it has,
 * else their v1 hierarchies (detected from /proc/self/mountinfo and
 * /proc/cgroups, never assumed).  The pod's pids.max is PIDS_LIMIT (4096)
 * and its devices are those of the app's /dev and DEVICES (--device) only:
 * the v1 controller's lists, or on v2 a BPF device program.  ROOT overrides
 * "/sys/fs/cgroup" for tests (NULL: the default). */
int ace_cgroup_create(const char *root, const char *uuid, const char *const *apps, size_t n_apps,
                      const struct ace_device *devices, size_t n_devices, struct ace_cgroup **out,
                      appc_error_t *err);
/* ace_cgroup_create in two steps, so that the pod's processes can start
 * while the cgroups are made: the plan (paths only, nothing made; a copy of
 * it can enter them once they are), then the directories and limits. */
int ace_cgroup_plan(const char *root, const char *uuid, const char *const *apps, size_t n_apps,
                    struct ace_cgroup **out, appc_error_t *err);
/* A plan of one app: its processes in the pod's own directory (actool/UUID),
 * not one beneath, which spares a directory in every hierarchy at each end
 * of the pod.  Only when none of POD_ISOLATORS sets a cgroup's files (the
 * pod's and the app's would write the same ones), and never for an init (it
 * is delegated its cgroup, which must not be the pod's): the caller's to
 * know.  True when the plan is so.  Before ace_cgroup_make. */
bool ace_cgroup_single(struct ace_cgroup *cg, const struct appc_isolator_list *pod_isolators);
int ace_cgroup_make(struct ace_cgroup *cg, const struct ace_device *devices, size_t n_devices,
                    appc_error_t *err);
/* Apply resource/memory (limit; request as a soft limit) and resource/cpu
 * (limit as a CFS quota; request as a weight/shares) from ISOLATORS to the pod
 * (APP = -1) or to app APP.  Pod limits bound app limits (the hierarchy does
 * it).  Other isolators are left to their owners; notes say what was set. */
int ace_cgroup_apply(struct ace_cgroup *cg, long app, const struct appc_isolator_list *isolators,
                     const struct ace_notes *notes, appc_error_t *err);
/* How many processes the kernel's OOM killer ended in app APP's memory
 * cgroup (-1: unknown, e.g. no memory controller). */
int64_t ace_cgroup_oom_kills(const struct ace_cgroup *cg, size_t app);
/* The v2 hierarchy's root directory (O_PATH), opened by the pod's init
 * before it leaves the host's tree; -1 when there is none. */
int ace_cgroup_v2_root(const struct ace_cgroup *cg);
/* App APP's v2 cgroup beneath ROOT (ace_cgroup_v2_root), opened for
 * ace_cgroup_fork ahead of it once the cgroups are made; -1 when there is
 * none. */
int ace_cgroup_leaf_v2(const struct ace_cgroup *cg, int root, size_t app);
/* fork(2) by a process of one thread, the child starting in the v2 cgroup
 * LEAF (ace_cgroup_leaf_v2; clone3's CLONE_INTO_CGROUP); -1 where that
 * cannot be (LEAF -1, an older kernel), and nothing forked. */
pid_t ace_cgroup_fork(int leaf);
/* SIGKILL what runs in app APP's cgroup (and below it, on v2) in a pod of
 * several apps (nothing for one: the pod's end takes its remains). */
void ace_cgroup_kill_app(const struct ace_cgroup *cg, size_t app);
/* Child of one thread: move the calling process into app APP's cgroups, by
 * path (the host's root must still be the caller's).  IN_V2: it was cloned
 * into the v2 one (ace_cgroup_fork), which is left as it is. */
int ace_cgroup_enter(const struct ace_cgroup *cg, size_t app, bool in_v2, appc_error_t *err);
/* Hand app APP's cgroups in the hierarchies an init may write (those
 * without controllers, v2) to UID:GID, the owner of the init's root in its
 * user namespace (--private-users), as systemd delegates a subtree: the
 * directory and the files that move processes. */
int ace_cgroup_delegate(const struct ace_cgroup *cg, size_t app, uid_t uid, gid_t gid,
                        appc_error_t *err);
/* Kill what is left in the pod's cgroups and remove them; frees CG. */
int ace_cgroup_destroy(struct ace_cgroup *cg, appc_error_t *err);
/* What the resource isolators of ISOLATORS set, as ace_cgroup_apply
 * writes it, into PLAN: a memory limit and request in bytes, a CPU quota
 * per period (in microseconds) and CPU shares, each -1 when not set, and
 * block I/O limits on the host's block devices.  WHO names the app in
 * messages and NOTES. */
int ace_cgroup_limits(const struct appc_isolator_list *isolators, const char *who,
                      const struct ace_notes *notes, struct appc_ace_app_plan *plan,
                      appc_error_t *err);
/* Move the calling process, of one thread, into app APP's cgroups of the
 * running pod UUID (actool enter), wherever the pod has them. */
int ace_cgroup_join(const char *root, const char *uuid, const char *app, appc_error_t *err);
/* The same for a pod known only by UUID (gc after actool was killed). */
int ace_cgroup_remove_pod(const char *root, const char *uuid, appc_error_t *err);
void ace_cgroup_free(struct ace_cgroup *cg);

/* ---- podspec.c: --publish ---------------------------------------------------- */

/* SPEC, "NAME:HOSTPORT" (--publish): NAME (at most 127 bytes) into NAME,
 * the host port, 1 to 65535, into *PORT. */
int ace_publish_parse(const char *spec, char name[128], unsigned long *port, appc_error_t *err);

/* APPC_ABI_CHECK of O (may be NULL), and every member its version does not
 * cover zero (common/abi.h). */
struct appc_ace_options;
int ace_options_check(const struct appc_ace_options *o, appc_error_t *err);

/* ---- net.c: the default network (bridge, veth, NAT, published ports) ---- */

/* A published port: host PORT to the pod's port (TCP or UDP). */
struct ace_port_map {
  char proto[4]; /* "tcp" or "udp" */
  unsigned short host_port, pod_port;
};
struct ace_net;
struct appc_store;
/* In P, in the host's namespace: an address for the pod UUID (a lease in
 * /run/actool/net, host-wide like the bridge), the bridge and the nftables
 * table made if missing. */
int ace_net_prepare(struct appc_store *s, const char *uuid, const struct ace_port_map *ports,
                    size_t n_ports, struct ace_net **out, appc_error_t *err);
/* In P, while it is in the pod's new network namespace: a netlink socket
 * there. */
int ace_net_enter_pod(struct ace_net *n, appc_error_t *err);
/* Back in the host's: the veth pair (eth0 in NETNS_FD), eth0's address and
 * default route, the published ports (the pod's own nftables table, which
 * lives as long as P's socket that made it).  What could not be done but
 * need not stop the pod (the conntrack entries of a UDP port's flows, on a
 * kernel without ctnetlink) is a warning to NOTES. */
int ace_net_attach(struct ace_net *n, int netns_fd, const struct ace_notes *notes,
                   appc_error_t *err);
/* The pod's address, as text (INET_ADDRSTRLEN bytes). */
void ace_net_address(const struct ace_net *n, char *out);
/* Its published ports, "HOSTPORT:PORT/PROTO ..." (malloc'ed; NULL: no memory). */
char *ace_net_published(const struct ace_net *n);
/* In a process P forks (P's descriptors still open in it): the socket that
 * keeps the pod's own table (its published ports) closed, since the table
 * must go when P does, however P ends.  N may be NULL. */
void ace_net_close_in_child(const struct ace_net *n);
/* The pod ended: its ports and lease go (the bridge and table with the
 * last lease); N is freed.  N may be NULL.  The veth pair goes with the
 * pod's network namespace when its last holder lets it go (the kernel
 * unregisters the devices of a namespace in the background); DELETE_LINK_NOW
 * deletes it at once, for when something may hold the namespace longer.
 * That waits for the kernel's unregistering (RCU grace periods: some 25 ms
 * on a 2-core virtual machine). */
void ace_net_release(struct ace_net *n, bool delete_link_now);
/* gc: undo the leases of pods that are gone, whichever store's (the
 * bridge, the table and the addresses are the host's), and those an older
 * actool kept in S's net/. */
int ace_net_gc(struct appc_store *s, appc_error_t *err);

/* ---- commit.c: build mode's changes into the rootfs ---------------------- */

/* Move what an app changed, its overlay's upper layer CHANGES_DIR/upper,
 * into ROOTFS (its lower layer, on the same file system), less what the
 * executor made for it (appc_ace_options.rootfs_dir says what).  Marked in
 * CHANGES_DIR while under way, for appc_ace_commit_resume. */
int ace_commit_changes(const char *changes_dir, const char *rootfs, appc_error_t *err);

/* The directory TO's xattrs made those of the directory FROM, less
 * overlayfs's own (trusted.overlay.*): FROM's set, those it lacks removed.
 * 0, or -1 with errno. */
int ace_copy_dir_xattrs(int from, int to);

/* ---- metadata.c: the metadata service (libmicrohttpd) ------------------- */

struct ace_metadata_app {
  const char *name;                /* app name in the pod */
  const char *image_id;            /* sha512-... */
  const char *image_manifest_json; /* the image's manifest as stored */
  const struct appc_image_manifest *image_manifest;
  const struct appc_kv_list *pod_app_annotations; /* apps[i].annotations */
};
struct ace_metadata_pod {
  const char *uuid;
  const char *pod_manifest_json; /* the reified pod manifest */
  const struct appc_kv_list *annotations;
  const struct ace_metadata_app *apps;
  size_t n_apps;
  /* ACE_HMAC_KEY_LEN bytes, for ace_metadata_serve; never in the wire
   * form (the shared service reads the store's key itself). */
  const unsigned char *hmac_key;
};
#define ACE_HMAC_KEY_LEN 64
#define ACE_HMAC_KEY_NAME "hmac.key" /* in the store's pods/ */
#define ACE_TOKEN_LEN 64             /* 256 random bits, in hex */

/* Load the host's HMAC key from PATH (mode 0600), creating it from
 * getrandom() the first time (temporary file, fsync, rename). */
int ace_metadata_key(const char *path, unsigned char key[ACE_HMAC_KEY_LEN], appc_error_t *err);
/* The same for NAME in DIRFD, named PATH in errors. */
int ace_metadata_key_at(int dirfd, const char *name, const char *path,
                        unsigned char key[ACE_HMAC_KEY_LEN], appc_error_t *err);
/* Whether NAME in DIRFD (PATH in errors), when it exists, would be loaded
 * (owner, mode, size, no symlink), without reading it: actool checks what
 * only the metadata service reads, so that a bad key fails the run. */
int ace_metadata_key_check_at(int dirfd, const char *name, const char *path, appc_error_t *err);
/* A fresh random token for the URL's path. */
int ace_metadata_token(char out[ACE_TOKEN_LEN + 1], appc_error_t *err);
/* Serve the spec's endpoints under /TOKEN/acMetadata/v1/ on LISTEN_FD (bound
 * and listening) until STOP_FD becomes readable or reaches EOF; requests
 * without the token get 404 / 403.  Once serving, one byte is written to
 * READY_FD (unless -1).  Runs in the metadata process M. */
int ace_metadata_serve(int listen_fd, const char *token, const struct ace_metadata_pod *pod,
                       int stop_fd, int ready_fd, appc_error_t *err);

/* The wire form of a pod's service (JSON, without the HMAC key), made by P
 * for the shared service (mds.c). */
int ace_metadata_wire_encode(const struct ace_metadata_pod *pod, const char *token, char **out,
                             size_t *len, appc_error_t *err);
/* WIRE decoded as the service decodes it and encoded again (for the fuzz
 * target: what decodes must encode to the same thing again). */
int ace_metadata_wire_normalize(const char *wire, size_t len, char **out, size_t *out_len,
                                appc_error_t *err);
/* What a pod may send to sign and verify: PER_SECOND bytes of bodies a
 * second (not 0), BURST at once, each at most 2^40 (by default 1 MiB and
 * 16 MiB: docs/executor.md, "Metadata service").  Only before any server
 * starts; for the fuzz target, which sends more than any pod should. */
void ace_metadata_set_budget(size_t per_second, size_t burst);
/* Serve the pod WIRE describes, signing with KEY (ACE_HMAC_KEY_LEN bytes),
 * on LISTEN_FD from a thread of this process
 * until ace_metadata_server_stop, which leaves LISTEN_FD open.  In two
 * steps when wanted: load (WIRE decoded, the libraries loaded: every error
 * a registration can meet), then serve (the key set up, the thread started),
 * which the shared service does only once a connection is waiting, since
 * most pods never ask. */
struct ace_metadata_server;
int ace_metadata_server_start(int listen_fd, const char *wire, size_t len, const unsigned char *key,
                              struct ace_metadata_server **out, appc_error_t *err);
int ace_metadata_server_load(const char *wire, size_t len, const unsigned char *key,
                             struct ace_metadata_server **out, appc_error_t *err);
int ace_metadata_server_serve(struct ace_metadata_server *srv, int listen_fd, appc_error_t *err);
void ace_metadata_server_stop(struct ace_metadata_server *srv);

/* ---- mds.c: one metadata service for every pod of a store --------------- */

/* Have the store's metadata service (the socket metadata-2.sock in the pods
 * directory PODS_FD) serve the pod WIRE describes on LISTEN_FD, starting
 * the service when none runs.  Returns the registration's connection: the
 * service serves the pod while it stays open, and it turns readable when
 * the service ends.  ace_mds_ended tells how. */
int ace_mds_register(int pods_fd, const char *wire, size_t len, int listen_fd, appc_error_t *err);
/* What CONN (from ace_mds_register) turning readable means; *SERVED (false
 * at first) records the service's acceptance. */
enum ace_mds_event {
  ACE_MDS_SERVING, /* nothing to do: it took the pod */
  ACE_MDS_ENDED,   /* it served the pod, then died: register again (a new one starts) */
  ACE_MDS_RETIRED, /* it retired before taking the pod: register again */
  ACE_MDS_REFUSED, /* it refused the pod: the reason is in *ERR */
};
enum ace_mds_event ace_mds_read(int conn, bool *served, appc_error_t *err);
/* The service itself, for the unit tests: serve on CTL (listening) and
 * retire after IDLE_MS without pods; a byte on SWEEP_FD (-1: none) asks its
 * sweeper to remove what pods set aside (ace_pods_sweep).  Never returns. */
void ace_mds_main(int pods_fd, int ctl, int sweep_fd, unsigned idle_ms) __attribute__((noreturn));

#endif
