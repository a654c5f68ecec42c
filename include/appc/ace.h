/* SPDX-License-Identifier: Apache-2.0 */
/* libappc executor (ACE): runs a pod of apps from the store's rendered trees
 * in Linux namespaces, as the appc spec's ace.md, pods.md and OS-SPEC say.
 * Needs root.  docs/executor.md describes the process model, the pod
 * directories and what is enforced.  Nothing here prints or exits. */
#ifndef APPC_ACE_H
#define APPC_ACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <appc/error.h>
#include <appc/manifest.h>
#include <appc/store.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define APPC_UUID_LEN 36

enum appc_ace_net {
  APPC_ACE_NET_PRIVATE, /* a new network namespace with loopback up */
  APPC_ACE_NET_HOST,    /* the host's network */
  APPC_ACE_NET_DEFAULT, /* (options version 3) a namespace of its own on the bridge actool0,
                           with NAT to the outside and published ports (docs/executor.md) */
};

/* Something the user should know: WARN always, INFO with --debug. */
typedef void (*appc_ace_notify_fn)(void *data, bool warn, const char *msg);

#define APPC_ACE_OPTIONS_VERSION 7
struct appc_ace_options {
  unsigned version; /* 0, or APPC_ACE_OPTIONS_VERSION (<appc/appc.h>) */
  enum appc_ace_net net;
  const char *hostname;           /* NULL: "actool-" + the pod's UUID */
  const char *uuid_file;          /* NULL, or where to save the UUID */
  const struct appc_kv_list *env; /* --env-file then --set-env, for every app; may be NULL */
  appc_ace_notify_fn notify;      /* may be NULL */
  void *notify_data;
  /* Called once with the pod's UUID, before any app starts; may be NULL. */
  void (*started)(void *data, const char *uuid);
  void *started_data;
  /* Tests only (0 otherwise): the pod's init waits this long before its
   * set-up, which widens the window in which a kill of actool must still
   * take the pod with it, and again before it closes its descriptors of
   * the host's directories, which an app that may trace must not see. */
  unsigned test_init_delay_ms;
  /* (version 2) When the pod ends, keep its directory as an exited pod (its
   * manifest, state with the apps' exit statuses, and any log file put
   * there), listed until `gc` removes it; its apps' file systems go. */
  bool keep_exited;
  /* (version 3) Build mode, for `layout run` (<appc/layout.h>): the pod's
   * only app has as its root an overlay of ROOTFS_DIR (not its image's
   * tree: the image is not looked up in the store, and IMAGE_MANIFEST, the
   * JSON text of its manifest, stands for it) whose upper layer is made in
   * CHANGES_DIR, an empty directory on ROOTFS_DIR's file system.  When the
   * pod ends, what the app changed is moved into ROOTFS_DIR, failed or
   * not, except what the executor provided: the mount points it made,
   * /etc/hostname, and /etc/hosts, /etc/resolv.conf and /etc/os-release
   * where ROOTFS_DIR had none (as `docker build` keeps none of them).
   * ROOTFS_DIR must not change while the pod runs.  Both paths are
   * absolute (the pod's processes change directory). */
  const char *rootfs_dir;
  const char *changes_dir;
  const char *image_manifest;
  /* (version 3) With APPC_ACE_NET_DEFAULT: "NAME:HOSTPORT", host port
   * HOSTPORT forwarded to the app port NAME (rkt's --port), besides the
   * pod manifest's ports. */
  const char *const *publish;
  size_t n_publish;
  /* (version 4) Host devices for every app of the pod,
   * "HOSTPATH[:PODPATH][:ACCESS]" as docker's --device: the host's
   * character or block device HOSTPATH (symlinks followed) appears at
   * PODPATH (default HOSTPATH; under /dev/), and the devices cgroup lets
   * the apps do ACCESS (r, w, m; default rwm) with it.  Not in build mode. */
  const char *const *devices;
  size_t n_devices;
  /* (version 4) NULL, or a user namespace for the pod: root in the pod is
   * host uid and gid BASE, as "UID:COUNT" gives it, or a range of 65536
   * no other pod on the host holds ("" or "auto").  The store's tree is
   * shared through an idmapped mount, or a copy with shifted owners
   * (private_users_ownership; docs/executor.md).  Not in build mode. */
  const char *private_users;
  /* (version 4) With private_users, how the image's tree gets the pod's
   * owners: AUTO maps them (an idmapped mount) where the tree's file
   * system allows it, else copies; MAP and COPY insist. */
  enum appc_ace_ownership {
    APPC_ACE_OWNERSHIP_AUTO,
    APPC_ACE_OWNERSHIP_MAP,
    APPC_ACE_OWNERSHIP_COPY,
  } private_users_ownership;
  /* (version 5) Capabilities beyond the ACE's default set ("CAP_NET_ADMIN",
   * "all", or comma lists of them) that an app may retain when its isolators ask for them
   * (os/linux/capabilities-retain-set): the operator's consent, as
   * docker's --cap-add is.  Any other such request fails the pod, naming
   * the capability, since an image that keeps CAP_SYS_ADMIN, say, is root
   * on the host. */
  const char *const *allow_caps;
  size_t n_allow_caps;
  /* (version 6) No seccomp filter: neither the default one that apps
   * without a seccomp isolator get (docs/executor.md) nor those of the
   * isolators (rkt's --insecure-options=seccomp). */
  bool no_seccomp;
  /* (version 7) How long each post-stop handler may run before it is
   * killed (SIGKILL), which fails it: 0 for APPC_ACE_POST_STOP_TIMEOUT_MS,
   * negative for no limit.  A handler that never ended would keep the pod,
   * and a foreground run, from ever ending. */
  long long post_stop_timeout_ms;
};
#define APPC_ACE_POST_STOP_TIMEOUT_MS 30000

/* Complete POD for running ("reify" it): every app gets its image ID (from
 * the image name and labels when only those are given), its name (the last
 * element of the image name when absent; names must be unique) and the
 * image's app (when the pod gives none); mounts are checked against volumes.
 * Errors name the pod manifest field. */
int appc_ace_reify(struct appc_store *s, struct appc_pod_manifest *pod, appc_error_t *err);

/* ---- a pod from a command line ---------------------------------------------- */

struct appc_ace_app_request {
  const char *image_id;    /* resolved by the caller */
  const char *name;        /* the app's name in the pod; NULL: from the image name */
  const char *exec;        /* replaces the image's command; NULL: keep it */
  const char *const *args; /* appended to the command */
  size_t n_args;
  const char *user, *group;  /* NULL: the image's */
  const char *const *mounts; /* "volume=NAME,target=PATH" */
  size_t n_mounts;
  const char *const *env; /* "KEY=VALUE" added to (or replacing in) the app's environment */
  size_t n_env;
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
/* A reified pod of APPS with VOLUMES; ENV (may be NULL: --env-file and
 * --set-env for the whole pod) goes into every app's environment, before
 * the app's own ENV, so that the more specific setting wins.  VOLUMES are
 * ("NAME,kind=host|empty[,source=PATH]
 * [,readOnly=BOOL][,recursive=BOOL][,mode=M,uid=N,gid=N]", the reference's
 * syntax).  Errors name the volume, mount or environment assignment and the
 * rule. */
int appc_ace_pod_build(struct appc_store *s, const struct appc_ace_app_request *apps, size_t n,
                       const char *const *volumes, size_t n_volumes, const struct appc_kv_list *env,
                       struct appc_pod_manifest **out, appc_error_t *err);
int appc_ace_volume_parse(const char *s, struct appc_volume *v, appc_error_t *err);
/* The command line's values checked before anything is looked up, fetched
 * or made: VOLUMES, each app's mounts and environment, and O's published
 * ports, devices (not whether the host has them), user id range and host
 * name (O may
 * be NULL).  The error names the value and the rule, as appc_ace_pod_build
 * and appc_ace_run would later. */
int appc_ace_check_syntax(const struct appc_ace_options *o, const struct appc_ace_app_request *apps,
                          size_t n_apps, const char *const *volumes, size_t n_volumes,
                          appc_error_t *err);
/* --set-env KEY=VALUE and --env-file FILE (systemd's EnvironmentFile syntax),
 * appended to ENV; a later value of a name replaces the earlier one. */
int appc_ace_env_add(struct appc_kv_list *env, const char *assignment, appc_error_t *err);
/* Lines systemd would skip are skipped, with a warning to NOTIFY (may be
 * NULL). */
int appc_ace_env_file(const char *path, struct appc_kv_list *env, appc_ace_notify_fn notify,
                      void *notify_data, appc_error_t *err);

/* Run the reified POD to the end.  *STATUS is the exit status of the first
 * app that failed (128 + N when killed by signal N), else 0.  While the pod
 * runs, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are blocked in
 * the caller and forwarded to the apps; a second SIGINT or SIGTERM kills the
 * pod at once.  A refusal of OPTS names the field of struct appc_ace_options
 * and the rule.  POD is checked as appc_ace_reify leaves it (a caller may
 * have built or changed it): names of apps, volumes, mounts and mount points
 * that are no AC Names are refused, naming the field, before anything is
 * made (they become paths of the pod's directory). */
int appc_ace_run(struct appc_store *s, const struct appc_pod_manifest *pod,
                 const struct appc_ace_options *opts, int *status, appc_error_t *err);

/* ---- pods on this host (DIR/pods) ---------------------------------------- */

enum appc_ace_pod_state {
  APPC_ACE_POD_RUNNING,   /* its actool is alive */
  APPC_ACE_POD_ABANDONED, /* its actool died (killed): gc cleans it up */
  APPC_ACE_POD_EXITED,    /* ended, kept (keep_exited) until gc removes it */
};

struct appc_ace_app_info {
  char *name;
  char *image_id;
  bool exited; /* false in an abandoned pod: its end is unknown */
  int status;  /* when exited */
  /* NAME and VERSION_ID of the image's os-release (/etc/os-release, else
   * /usr/lib/os-release); NULL when it has none or does not say. */
  char *os_name;
  char *os_version;
  __extension__ union { /* within the space reserved in soname 0's first release, on every ABI */
    struct {
      /* When the app ended (CLOCK_REALTIME, nanoseconds since the epoch),
       * as its pod's actool learnt it; 0 while it runs, or when not known
       * (abandoned, or recorded by an older release). */
      int64_t finished_ns;
    };
    void *reserved[2]; /* zero; taken by members of later releases (<appc/appc.h>) */
  };
};

struct appc_ace_pod_info {
  char uuid[APPC_UUID_LEN + 1];
  enum appc_ace_pod_state state;
  pid_t pid; /* of the actool that runs it; 0 once it does not (exited, abandoned) */
  /* The pod's init (0 until it runs) and its start time (clock ticks after
   * boot, /proc/PID/stat), so that gc ends the right process. */
  pid_t init_pid;
  unsigned long long init_start;
  struct timespec started;
  char *net; /* "private" or "host" */
  char *hostname;
  struct appc_ace_app_info *apps;
  size_t n_apps;
  struct timespec finished; /* an exited pod's end; zero otherwise */
  /* --net=default: the pod's address, and its published ports as
   * "HOSTPORT:PORT/PROTO" separated by spaces ("" when none, or when the
   * pod no longer runs); NULL otherwise. */
  char *address;
  char *published;
  /* Run with --insecure-options=seccomp (appc_ace_options.no_seccomp):
   * `enter` then loads no filter either. */
  bool no_seccomp;
  __extension__ union { /* within the space reserved in soname 0's first release, on every ABI */
    struct {
      /* An exited pod's exit status, as `run` gives it: the first failing
       * app's (in the order they ended), else 0; 1 when the pod could not
       * start all its apps.  -1 while it runs, or when not known
       * (abandoned). */
      int status;
    };
    void *reserved[1]; /* zero; taken by members of later releases (<appc/appc.h>) */
  };
};
void appc_ace_pod_info_clear(struct appc_ace_pod_info *p);
void appc_ace_pod_infos_free(struct appc_ace_pod_info *p, size_t n);

/* The pods of the store at DIR, oldest first. */
int appc_ace_list(struct appc_store *s, struct appc_ace_pod_info **out, size_t *n,
                  appc_error_t *err);
/* One pod by UUID or unique prefix of one. */
int appc_ace_status(struct appc_store *s, const char *uuid, struct appc_ace_pod_info *out,
                    appc_error_t *err);

/* The reified pod manifest of the pod UUID (a full one, as list and status
 * give it), running or kept: what its apps run.  Free with
 * appc_pod_manifest_free. */
int appc_ace_pod_manifest(struct appc_store *s, const char *uuid, struct appc_pod_manifest **out,
                          appc_error_t *err);

/* Stop the running pod UUID (or unique prefix): SIGTERM to every app (their
 * post-stop handlers run), and after GRACE_SECONDS, if the pod still runs,
 * it is killed at once (no post-stop); returns once the pod is gone.
 * GRACE_SECONDS 0: killed at once.  A pod that has exited already (kept by
 * keep_exited) is stopped: 0.  STOPPED, if not NULL, receives what
 * the pod was (clear it). */
int appc_ace_stop(struct appc_store *s, const char *uuid, double grace_seconds,
                  struct appc_ace_pod_info *stopped, appc_error_t *err);

/* Run ARGV (NULL: /bin/sh) in the app APP_NAME (NULL: the pod's only app)
 * of the running pod UUID, as the app runs: its namespaces, cgroups and
 * root, its user and groups, capabilities, no_new_privs and seccomp filter,
 * its environment and working directory; the standard streams are the
 * caller's.  *STATUS receives the command's exit status (128+N for signal
 * N).  An error when the command could not be started. */
int appc_ace_enter(struct appc_store *s, const char *uuid, const char *app_name, char *const *argv,
                   int *status, appc_error_t *err);

#define APPC_ACE_ENTER_OPTIONS_VERSION 1
struct appc_ace_enter_options {
  unsigned version;  /* 0, or APPC_ACE_ENTER_OPTIONS_VERSION (<appc/appc.h>) */
  const char *app;   /* NULL: the pod's only app */
  char *const *argv; /* NULL: /bin/sh */
  /* The command's standard streams are a pseudo-terminal of the pod's
   * (the command its session leader, owning it), relayed to and from
   * IN_FD and OUT_FD until the command ends; IN_FD, when a terminal, is in
   * raw mode meanwhile and its window size follows.  Else the command has
   * the caller's standard streams, in a session of its own. */
  bool tty;
  int in_fd, out_fd;
  void *reserved[4]; /* zero; taken by members of later releases */
};
/* appc_ace_enter with OPTS (NULL: as appc_ace_enter with no app and no
 * ARGV). */
int appc_ace_enter_with(struct appc_store *s, const char *uuid,
                        const struct appc_ace_enter_options *opts, int *status, appc_error_t *err);

struct appc_ace_gc_report {
  size_t removed;    /* abandoned and exited pods cleaned up */
  size_t running;    /* pods left alone because they still run */
  size_t kept;       /* exited pods kept: they ended within the grace period */
  void *reserved[3]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
/* Clean up abandoned pods: their processes (the pod's init, if it survived,
 * is killed and with it the pod's PID namespace), cgroups and
 * directories; and exited pods (kept by run --detach).  REMOVED, when not
 * NULL, is called with each UUID. */
int appc_ace_gc(struct appc_store *s, void (*removed)(void *data, const char *uuid), void *data,
                struct appc_ace_gc_report *report, appc_error_t *err);

#define APPC_ACE_GC_OPTIONS_VERSION 1
struct appc_ace_gc_options {
  unsigned version; /* 0, or APPC_ACE_GC_OPTIONS_VERSION (<appc/appc.h>) */
  /* Exited pods that ended less than this long ago (seconds) are kept, as
   * rkt's `gc --grace` keeps them, so that their status can still be read;
   * 0: every exited pod goes.  Abandoned pods always go. */
  double grace_seconds;
  void (*removed)(void *data, const char *uuid); /* NULL, or called with each UUID */
  void *data;
  void *reserved[4]; /* zero; taken by members of later releases */
};
/* appc_ace_gc with OPTS (NULL: as appc_ace_gc without a callback). */
int appc_ace_gc_with(struct appc_store *s, const struct appc_ace_gc_options *opts,
                     struct appc_ace_gc_report *report, appc_error_t *err);

/* ---- how an app would run (runtime bundles, <appc/oci.h>) ------------------- */

/* How a rule compares a system call's argument: libseccomp's (and the
 * runtime spec's SCMP_CMP_...) operators, with their numbers. */
enum appc_ace_syscall_op {
  APPC_ACE_SYSCALL_ARG_END = 0, /* ends a rule's args */
  APPC_ACE_SYSCALL_ARG_NE = 1,
  APPC_ACE_SYSCALL_ARG_LT = 2,
  APPC_ACE_SYSCALL_ARG_LE = 3,
  APPC_ACE_SYSCALL_ARG_EQ = 4,
  APPC_ACE_SYSCALL_ARG_GE = 5,
  APPC_ACE_SYSCALL_ARG_GT = 6,
  APPC_ACE_SYSCALL_ARG_MASKED_EQ = 7, /* (argument & value) == value_two */
};

/* A condition on a system call's argument INDEX (0-5). */
struct appc_ace_syscall_arg {
  unsigned index;
  enum appc_ace_syscall_op op;
  uint64_t value;     /* compared with; MASKED_EQ: the mask */
  uint64_t value_two; /* MASKED_EQ: what the masked argument must be */
  void *reserved[2];  /* zero; taken by members of later releases (<appc/appc.h>) */
};

/* A system call of an app's seccomp filter. */
struct appc_ace_syscall_rule {
  char *name;
  bool allow; /* else blocked: */
  int errnum; /* the errno it returns; 0: the process is killed (SIGSYS) */
  /* NULL: any call of NAME; else the rule is for the calls whose arguments
   * meet every condition, up to the one whose op is
   * APPC_ACE_SYSCALL_ARG_END (the default filter's clone with
   * CLONE_NEWUSER, socket of AF_VSOCK: docs/executor.md).  The rules of one
   * NAME with conditions cover every call of it. */
  struct appc_ace_syscall_arg *args;
  void *reserved[1]; /* zero; taken by members of later releases (<appc/appc.h>) */
};

/* The limits of a block device's I/O, reads and writes alike. */
struct appc_ace_block_limit {
  unsigned major, minor; /* the device; 0:0 ends a list */
  int64_t bps;           /* bytes per second (resource/block-bandwidth); -1: none */
  int64_t iops;          /* operations per second (resource/block-iops); -1: none */
  void *reserved[2];     /* zero; taken by members of later releases (<appc/appc.h>) */
};

/* What `actool run` would give the app of an image, computed by the code
 * it runs with, for a runtime that is not this executor. */
struct appc_ace_app_plan {
  char *app_name; /* in a pod: the last element of the image name */
  char **argv;    /* the app's exec, or /sbin/init; NULL-terminated */
  char **env;     /* "NAME=VALUE", NULL-terminated: the ACE's (PATH, container, HOME),
                     the app's, EXTRA's, then AC_APP_NAME, which none replaces (no
                     AC_METADATA_URL) */
  char *cwd;      /* "/" when the app names none */
  uid_t uid;      /* the app's user and group resolved in the rootfs */
  gid_t gid;
  gid_t *groups; /* supplementary */
  size_t n_groups;
  uint64_t caps;     /* bit N: capability N kept (bounding set; and effective and
                        permitted for uid 0; the inheritable set is always empty) */
  bool no_new_privs; /* os/linux/no-new-privileges */
  bool has_oom_score_adj;
  int oom_score_adj;
  bool seccomp;               /* a filter: */
  bool seccomp_default_allow; /* what calls without a rule get: allowed, or */
  int seccomp_default_errno;  /* ... this errno (0: the process is killed) */
  struct appc_ace_syscall_rule *syscall_rules;
  size_t n_syscall_rules;
  int64_t memory_limit; /* bytes; -1: none */
  int64_t cpu_quota;    /* microseconds of CPU per cpu_period; -1: none */
  int64_t cpu_period;
  int64_t cpu_shares;   /* -1: none */
  __extension__ union { /* within the space reserved in soname 0's first release, on every ABI */
    struct {
      /* The host name: the app name cut to 63 characters (a host name's
       * label), which sethostname() always takes. */
      char *hostname;
      int64_t memory_request; /* bytes (resource/memory's request: a soft limit); -1: none */
      /* NULL, or resource/block-bandwidth and resource/block-iops on each
       * of the host's block devices (whole disks, as /sys/block lists them
       * when the plan is made), ended by 0:0. */
      struct appc_ace_block_limit *block_limits;
    };
    void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
  };
};

/* The plan of the image IMAGE_ID's app, its user and group looked up in
 * ROOTFS (the image rendered), EXTRA_ENV (may be NULL) added to its
 * environment as --set-env adds it.  Refused as appc_ace_run refuses the
 * app: a working directory the image lacks, capabilities beyond the ACE's
 * default set or a negative os/linux/oom-score-adj (no operator's
 * consent here: appc_ace_app_plan_with takes it).  Errors name the
 * manifest field. */
int appc_ace_app_plan(struct appc_store *s, const char *image_id, const char *rootfs,
                      const struct appc_kv_list *extra_env, struct appc_ace_app_plan *out,
                      appc_error_t *err);

#define APPC_ACE_PLAN_OPTIONS_VERSION 1
struct appc_ace_plan_options {
  unsigned version;               /* 0, or APPC_ACE_PLAN_OPTIONS_VERSION (<appc/appc.h>) */
  const struct appc_kv_list *env; /* added to the app's environment, as --set-env; may be NULL */
  /* The operator's consent, as appc_ace_options.allow_caps gives it to
   * appc_ace_run (--caps-allow): capabilities beyond the ACE's default set
   * that the app may retain; CAP_SYS_RESOURCE also lets its
   * os/linux/oom-score-adj be negative. */
  const char *const *allow_caps;
  size_t n_allow_caps;
  void *reserved[4]; /* zero; taken by members of later releases */
};
/* appc_ace_app_plan with OPTS (NULL: as appc_ace_app_plan without an
 * environment). */
int appc_ace_app_plan_with(struct appc_store *s, const char *image_id, const char *rootfs,
                           const struct appc_ace_plan_options *opts, struct appc_ace_app_plan *out,
                           appc_error_t *err);
void appc_ace_app_plan_clear(struct appc_ace_app_plan *p);

/* Put in ROOTFS, an image's tree rendered for another runtime, the /etc
 * files the executor gives an app of a pod with its own network: /etc/hostname
 * (HOSTNAME, replacing the image's), and, where the image has none,
 * /etc/hosts (localhost, and HOSTNAME at 127.0.1.1), /etc/resolv.conf (the
 * host's, if it has one) and an empty /etc/os-release.  Paths are resolved
 * inside ROOTFS (its symlinks never lead out). */
int appc_ace_provide_etc(const char *rootfs, const char *hostname, appc_error_t *err);

/* Build mode: finish the move of an app's changes into ROOTFS_DIR that a
 * run killed half-way through left (SIGKILL, a crash), as the run would
 * have done it; CHANGES_DIR and ROOTFS_DIR are the run's
 * appc_ace_options.changes_dir and rootfs_dir.  Nothing to do (0) when the
 * move had not begun (CHANGES_DIR, if any, holds no mark of it): ROOTFS_DIR
 * is as it was before the run.  The caller then removes CHANGES_DIR. */
int appc_ace_commit_resume(const char *changes_dir, const char *rootfs_dir, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
