/* SPDX-License-Identifier: Apache-2.0 */
/* Running a pod: the executor's process tree.
 *
 *   P  actool: prepares everything that can fail early, keeps the pod's
 *      directory locked, relays output, signals and reports, cleans up.
 *   M  the metadata service (forked from P), listening inside the pod's
 *      network namespace.
 *   I  the pod's init: PID 1 of the pod's PID namespace, also in its IPC,
 *      UTS and network namespaces; reaps orphans, forwards signals and
 *      reports each app's exit to P.
 *   S  one supervisor per app (forked from I): its own mount namespace and
 *      root; runs pre-start, the app and post-stop in turn.
 *
 * Children talk to P over one "report" pipe in lines shorter than PIPE_BUF
 * (so writes from several processes never interleave): "N w|i MESSAGE" for a
 * note, "E INDEX MESSAGE" for an app that could not start, "X INDEX STATUS"
 * for an app that ended.  When P dies, I and M die with it
 * (PR_SET_PDEATHSIG), and with I the whole PID namespace; `actool gc` then
 * removes what is left on disk and in the cgroup tree. */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/abi.h"
#include "common/array.h"
#include "appc/ace.h"
#include "ace/internal.h"
#include "ace/pod.h"
#include "ace/rootfs.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "appc/store.h"
#include "appc/schema.h"
#include "common/macros.h"
#include "common/workqueue.h"

#define REPORT_LINE_MAX 3800 /* below PIPE_BUF with room for the prefix */
#define SPEC_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const int forwarded_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
#define N_FORWARDED (ARRAY_SIZE(forwarded_signals))

struct app_plan {
  const struct appc_runtime_app *ra;
  struct appc_store_tree *tree; /* NULL in build mode */
  bool tree_shifted;            /* --private-users: a copy owned by the pod's ids */
  const char *lower;            /* the root's lower layer: the tree's rootfs */
  char *manifest_json;
  struct appc_image_manifest *manifest;
  struct ace_security *sec;
  char *dir; /* DIR/pods/UUID/apps/NAME */
  struct ace_rootfs_volume *vols;
  size_t n_vols;
  char **vol_strings; /* owned strings behind vols (targets, sources) */
  size_t n_vol_strings;
  struct ace_listen listen;     /* socket-activated ports, bound by P */
  struct ace_rootfs_host *host; /* what its root is made from, opened by P */
  int out[2], errp[2];          /* output pipes when the pod has several apps */
  bool in_v2;                   /* its S was cloned into its v2 cgroup (start_supervisor) */
  int cg_leaf;                  /* I: that cgroup, opened before I leaves the host's tree */
  char *line[2];                /* partial output lines */
  size_t line_len[2];
};

struct pod_run {
  struct appc_store *s;
  const struct appc_pod_manifest *pod;
  const struct appc_ace_options *o;
  struct ace_notes notes;
  char uuid[APPC_UUID_LEN + 1];
  char *hostname;
  char *pod_json;
  struct ace_pod_dir dir;
  struct app_plan *apps;
  size_t n_apps;
  uint64_t allowed_caps;   /* beyond the default set (appc_ace_options.allow_caps) */
  unsigned security_flags; /* ACE_SECURITY_* */
  struct ace_cgroup *cg;
  struct ace_device *devices; /* --device */
  size_t n_devices;
  struct ace_userns *userns; /* --private-users */
  struct ace_net *net;       /* --net=default */
  int netns_fd, listen_fd;
  struct appc_wq *netns_maker; /* making the pod's network namespace (start_netns) */
  struct netns_job {
    int netns_fd, listen_fd;
    int port; /* the metadata service's socket's, in every network mode */
  } netns_job;
  char token[ACE_TOKEN_LEN + 1];
  char metadata_url[128];
  pid_t parent, init_pid;
  bool pod_emptied; /* I reported every process of the pod gone ("D") */
  bool init_reaped;
  char *meta_wire; /* the pod as the metadata service gets it (holds the key) */
  size_t meta_wire_len;
  int meta_conn;    /* the registration with the store's metadata service */
  bool meta_served; /* the service took the pod */
  int report[2];
  int init_ready[2], init_go[2]; /* I's handshake with P (tell_parent) */
  int init_closed[2];            /* ends when I has closed the host's descriptors (keep_only) */
  int host_mnt;                  /* I: the host's mount namespace, for each S to return to */
  int sigfd;
  sigset_t old_mask;
  bool mask_set;
  struct sigaction old_sigpipe;
  bool sigpipe_set;
  bool output_broken[2]; /* actool's stdout, stderr: their reader is gone */
  struct appc_ace_pod_info info;
  bool failed;            /* an app failed: status holds the first failure */
  int kill_signal;        /* the second interrupt, which killed the pod at once */
  bool start_error_shown; /* the first "E" report was shown as it came */
  int status;
  char *start_error; /* first "E" report */
  char *setup_error; /* build mode: why the app's command never started ("S" report) */
};

/* ---- notes ------------------------------------------------------------------- */

static void note_to_user(void *data, enum ace_note_level level, const char *msg)
{
  const struct appc_ace_options *o = data;

  if (o->notify != NULL)
    o->notify(o->notify_data, level == ACE_NOTE_WARN, msg);
}

/* In a child: notes travel to P over the report pipe. */
static void report_line(int fd, const char *kind, const char *msg)
{
  char line[REPORT_LINE_MAX + 64];
  int n = snprintf(line, sizeof line, "%s %.*s\n", kind, REPORT_LINE_MAX, msg);

  if (n < 0)
    return;
  if ((size_t) n >= sizeof line)
    n = (int) sizeof line - 1;
  for (char *p = line + strlen(kind) + 1; p < line + n - 1; p++)
    if (*p == '\n')
      *p = ' ';
  line[n - 1] = '\n';
  while (write(fd, line, (size_t) n) < 0 && errno == EINTR)
    ;
}

static void note_to_report(void *data, enum ace_note_level level, const char *msg)
{
  report_line(*(int *) data, level == ACE_NOTE_WARN ? "N w" : "N i", msg);
}

/* ERR of app APP: "E" (an error) or, SETUP, "S": the app could not be set
 * up, its command never ran. */
static void report_error_kind(int fd, size_t app, bool setup, appc_error_t *err)
{
  char kind[32];

  snprintf(kind, sizeof kind, "%c %zu", setup ? 'S' : 'E', app);
  report_line(fd, kind, (*err)->msg);
  appc_error_release(err);
}

static void report_error(int fd, size_t app, appc_error_t *err)
{
  report_error_kind(fd, app, false, err);
}

/* ---- preparing the apps (in P) --------------------------------------------- */

static const struct appc_volume *find_volume(const struct appc_pod_manifest *pod, const char *name)
{
  for (size_t i = 0; i < pod->n_volumes; i++)
    if (strcmp(pod->volumes[i].name, name) == 0)
      return &pod->volumes[i];
  return NULL;
}

static char *keep(struct app_plan *a, char *s)
{
  if (s == NULL)
    return NULL;
  if (APPC_ARRAY_EXTEND(a->vol_strings, a->n_vol_strings, 1) < 0) {
    free(s);
    return NULL;
  }
  a->vol_strings[a->n_vol_strings++] = s;
  return s;
}

/* The mode of the empty volume V: octal digits only (as rkt's
 * strconv.ParseUint(mode, 8, 32)), 0 to 07777.  The schema takes any
 * string, as the reference's does (docs/conformance.md). */
static int empty_volume_mode(const struct appc_volume *v, mode_t *mode, appc_error_t *err)
{
  const char *s = v->mode != NULL ? v->mode : "0755";
  unsigned long m = 0;
  size_t i = 0;

  for (; s[i] >= '0' && s[i] <= '7' && m <= 07777; i++)
    m = m * 8 + (unsigned long) (s[i] - '0');
  if (i == 0 || s[i] != '\0' || m > 07777)
    return appc_error_make(
        err, 0, "volume \"%s\": mode \"%s\" is not an octal file mode (0 to 7777)", v->name, s);
  *mode = (mode_t) m;
  return 0;
}

/* The owner (FIELD "uid" or "gid", ID unless !HAS) of the empty volume V
 * as the host sees it, *OUT: an id of the pod's (0 to COUNT - 1 with
 * --private-users, whose range it must not leave), never -1, which chown
 * takes for "unchanged". */
static int empty_volume_owner(const struct pod_run *r, const struct appc_volume *v,
                              const char *field, bool has, int64_t id, uint32_t *out,
                              appc_error_t *err)
{
  int64_t count = r->userns != NULL ? (int64_t) r->userns->range.count : (int64_t) UINT32_MAX;

  if (!has)
    id = 0;
  if (id < 0 || id >= count) {
    if (r->userns != NULL)
      return appc_error_make(err, 0,
                             "volume \"%s\": %s %" PRId64 " is not an id of the pod's user "
                             "namespace (0 to %" PRId64 ", --private-users)",
                             v->name, field, id, count - 1);
    return appc_error_make(err, 0,
                           "volume \"%s\": %s %" PRId64 " is not a valid id (0 to %" PRId64 ")",
                           v->name, field, id, count - 1);
  }
  *out = r->userns != NULL ? r->userns->range.base + (uint32_t) id : (uint32_t) id;
  return 0;
}

/* Make the directory of an empty volume once per pod, with its mode and
 * owner; returns its path. */
static char *empty_volume_dir(struct pod_run *r, struct app_plan *a, const struct appc_volume *v,
                              appc_error_t *err)
{
  char *path = NULL;
  struct stat st;
  mode_t mode = 0;
  uint32_t uid = 0, gid = 0;

  if (empty_volume_mode(v, &mode, err) < 0 ||
      empty_volume_owner(r, v, "uid", v->has_uid, v->uid, &uid, err) < 0 ||
      empty_volume_owner(r, v, "gid", v->has_gid, v->gid, &gid, err) < 0)
    return NULL;
  if (asprintf(&path, "%s/volumes/%s", r->dir.path, v->name) < 0 || keep(a, path) == NULL) {
    appc_error_make(err, ENOMEM, "volume %s", v->name);
    return NULL;
  }
  if (stat(path, &st) == 0)
    return path;
  /* volumes/ is made with the pod's first empty volume: most pods have none. */
  if ((mkdirat(r->dir.fd, "volumes", 0755) < 0 && errno != EEXIST) || mkdir(path, 0700) < 0 ||
      chown(path, (uid_t) uid, (gid_t) gid) < 0 || chmod(path, mode) < 0) {
    appc_error_make(err, errno, "volume \"%s\": %s", v->name, path);
    return NULL;
  }
  return path;
}

static int add_volume(struct pod_run *r, struct app_plan *a, const struct appc_volume *v,
                      const char *target, bool mount_point_ro, appc_error_t *err)
{
  struct ace_rootfs_volume *nv;

  if (APPC_ARRAY_EXTEND(a->vols, a->n_vols, 1) < 0)
    return appc_error_make(err, ENOMEM, "volumes");
  nv = &a->vols[a->n_vols];
  *nv = (struct ace_rootfs_volume){
      .volume = v->name,
      .target = target,
      .host = strcmp(v->kind, "host") == 0,
      .read_only = v->read_only == APPC_TRUE || mount_point_ro,
      .recursive = v->recursive != APPC_FALSE,
  };
  nv->source = nv->host ? v->source : empty_volume_dir(r, a, v, err);
  if (nv->source == NULL)
    return -1;
  a->n_vols++;
  return 0;
}

/* Volumes for mount points no volume satisfies: an empty volume each, as rkt
 * does, with a warning (they vanish with the pod). */
static const struct appc_volume *implicit_volume(struct pod_run *r, const char *name)
{
  static const char empty_kind[] = "empty";
  struct appc_volume *v = calloc(1, sizeof *v);

  (void) r;
  if (v == NULL)
    return NULL;
  v->name = (char *) name;
  v->kind = (char *) empty_kind;
  v->source = (char *) "";
  v->read_only = APPC_UNSET;
  v->recursive = APPC_UNSET;
  return v;
}

static bool path_within(const char *outer, const char *inner)
{
  size_t n = strlen(outer);

  if (strcmp(outer, "/") == 0)
    return true;
  return strncmp(outer, inner, n) == 0 && (inner[n] == '/' || inner[n] == '\0');
}

/* Targets in the order where '/' sorts first: whatever lies within a
 * target then comes right after it ("/a", "/a/x", "/a-b"). */
static int compare_targets(const void *x, const void *y)
{
  const unsigned char *a =
      (const unsigned char *) (*(const struct ace_rootfs_volume *const *) x)->target;
  const unsigned char *b =
      (const unsigned char *) (*(const struct ace_rootfs_volume *const *) y)->target;

  for (; *a != '\0' && *a == *b; a++, b++)
    ;
  int ca = *a == '/' ? 1 : *a == '\0' ? 0 : *a + 1;
  int cb = *b == '/' ? 1 : *b == '\0' ? 0 : *b + 1;
  return ca - cb;
}

/* No two mounts of the app nest: sorted, each target is compared with the
 * one before it alone (an image may list thousands of mount points). */
static int check_overlaps(const struct app_plan *a, appc_error_t *err)
{
  cleanup_free const struct ace_rootfs_volume **v = calloc(a->n_vols + 1, sizeof *v);

  if (v == NULL)
    return appc_error_make(err, ENOMEM, "app %s: mounts", a->ra->name);
  for (size_t i = 0; i < a->n_vols; i++)
    v[i] = &a->vols[i];
  qsort(v, a->n_vols, sizeof *v, compare_targets);
  for (size_t i = 1; i < a->n_vols; i++)
    if (path_within(v[i - 1]->target, v[i]->target))
      return appc_error_make(err, 0,
                             "app %s: the mounts of volumes \"%s\" (%s) and \"%s\" (%s) "
                             "overlap",
                             a->ra->name, v[i - 1]->volume, v[i - 1]->target, v[i]->volume,
                             v[i]->target);
  return 0;
}

/* Canonical absolute target: no "." or ".." components, no repeated '/'. */
static char *clean_target(const char *path, appc_error_t *err)
{
  char *out = malloc(strlen(path) + 2);
  size_t n = 0;
  const char *p = path;

  if (out == NULL)
    return NULL;
  if (appc_path_has_dot_component(path)) {
    free(out);
    appc_error_make(err, 0, "mount target \"%s\" has a \".\" or \"..\" component", path);
    return NULL;
  }
  while (*p != '\0') {
    const char *e;
    while (*p == '/')
      p++;
    e = strchrnul(p, '/');
    if (e == p)
      break;
    out[n++] = '/';
    memcpy(out + n, p, (size_t) (e - p));
    n += (size_t) (e - p);
    p = e;
  }
  if (n == 0)
    out[n++] = '/';
  out[n] = '\0';
  return out;
}

static int plan_volumes(struct pod_run *r, struct app_plan *a, appc_error_t *err)
{
  const struct appc_runtime_app *ra = a->ra;
  const struct appc_app *app = ra->app;

  if (ra->n_mounts > 0) {
    for (size_t j = 0; j < ra->n_mounts; j++) {
      const struct appc_mount *m = &ra->mounts[j];
      const struct appc_volume *v = m->app_volume ? m->app_volume : find_volume(r->pod, m->volume);
      char *target = keep(a, clean_target(m->path, err));
      if (target == NULL)
        return *err ? appc_error_prefix(err, "app %s", ra->name)
                    : appc_error_make(err, ENOMEM, "mounts");
      if (add_volume(r, a, v, target, false, err) < 0)
        return -1;
    }
    return check_overlaps(a, err);
  }
  for (size_t j = 0; app != NULL && j < app->n_mount_points; j++) {
    const struct appc_mount_point *mp = &app->mount_points[j];
    const struct appc_volume *v = find_volume(r->pod, mp->name);
    bool implicit = v == NULL;
    char *target = keep(a, clean_target(mp->path, err));
    int rc;

    if (target == NULL)
      return *err ? appc_error_prefix(err, "app %s", ra->name)
                  : appc_error_make(err, ENOMEM, "mounts");
    if (implicit) {
      ace_note(&r->notes, ACE_NOTE_WARN,
               "app %s: no volume for mount point \"%s\" (%s): using an empty volume, removed "
               "with the pod",
               ra->name, mp->name, mp->path);
      if ((v = implicit_volume(r, mp->name)) == NULL)
        return appc_error_make(err, ENOMEM, "volumes");
    }
    rc = add_volume(r, a, v, target, mp->read_only, err);
    if (implicit)
      free((void *) v);
    if (rc < 0)
      return -1;
  }
  return check_overlaps(a, err);
}

/* Isolators nobody here enforces are reported (the spec requires it). */
static void report_ignored(struct pod_run *r, const char *scope, const struct appc_isolator_list *l,
                           bool pod)
{
  for (size_t i = 0; i < l->len; i++) {
    const struct appc_isolator *iso = &l->items[i];
    switch (iso->kind) {
    case APPC_ISOLATOR_OOM_SCORE_ADJ:
      /* Enforced per app (ace/security.c); at pod level, ace_sysctl_check
       * reports it. */
      break;
    case APPC_ISOLATOR_UNKNOWN:
      /* At pod level, ace_sysctl_check reports these; block and network
       * bandwidth, ace_cgroup_apply (once, in its words). */
      if (pod)
        break;
      ace_note(&r->notes, ACE_NOTE_WARN, "%s: isolator %s ignored: not supported by actool", scope,
               iso->name != NULL ? iso->name : "(unnamed)");
      break;
    default:
      break;
    }
  }
}

/* --private-users came with version 4 of the options. */
static const char *private_users(const struct appc_ace_options *o)
{
  return o->version >= 4 ? o->private_users : NULL;
}

/* Build mode came with version 3 of the options. */
static bool build_mode(const struct appc_ace_options *o)
{
  return o->version >= 3 && o->rootfs_dir != NULL;
}

/* --private-users: the tree as the pod's ids own it, an idmapped mount of
 * the cached tree (made by the app's supervisor) where its file system
 * allows one, else (or when asked) the store's copy with shifted owners. */
static int shift_tree(struct pod_run *r, struct app_plan *a, appc_error_t *err)
{
  enum appc_ace_ownership how = r->o->private_users_ownership;
  struct appc_store_render_options ro = {.version = APPC_STORE_RENDER_OPTIONS_VERSION,
                                         .id_base = r->userns->range.base,
                                         .id_count = r->userns->range.count};
  struct appc_store_tree *shifted = NULL;

  if (how != APPC_ACE_OWNERSHIP_COPY &&
      ace_userns_idmap_works(r->userns->userns_fd, a->tree->rootfs))
    return 0;
  if (how == APPC_ACE_OWNERSHIP_MAP)
    /* Tagged: a command line adds how to copy the tree instead. */
    return appc_error_tag(err, EOPNOTSUPP, "%s: the file system gives no idmapped mounts",
                          a->tree->rootfs);
  if (appc_store_tree_acquire(r->s, a->ra->image.id, &ro, &shifted, err) < 0)
    return -1;
  appc_store_tree_release(a->tree);
  a->tree = shifted;
  a->tree_shifted = true;
  ace_note(&r->notes, ACE_NOTE_INFO, "app %s: the image's tree copied with shifted owners: %s",
           a->ra->name, shifted->rootfs);
  return 0;
}

static int prepare_app(struct pod_run *r, size_t i, appc_error_t *err)
{
  struct app_plan *a = &r->apps[i];
  const struct appc_runtime_app *ra = &r->pod->apps[i];
  size_t len;
  char scope[128];

  a->ra = ra;
  a->out[0] = a->out[1] = a->errp[0] = a->errp[1] = -1;
  if (build_mode(r->o)) {
    a->lower = r->o->rootfs_dir;
    if ((a->manifest_json = strdup(r->o->image_manifest)) == NULL)
      return appc_error_make(err, ENOMEM, "app %s", ra->name);
    len = strlen(a->manifest_json);
  } else if (appc_store_tree_acquire(r->s, ra->image.id, NULL, &a->tree, err) < 0 ||
             appc_store_read_manifest(r->s, ra->image.id, &a->manifest_json, &len, err) < 0) {
    return appc_error_prefix(err, "app %s", ra->name);
  } else if (r->userns != NULL && shift_tree(r, a, err) < 0) {
    return appc_error_prefix(err, "app %s", ra->name);
  }
  if (a->tree != NULL)
    a->lower = a->tree->rootfs;
  if (appc_image_manifest_parse(a->manifest_json, len, &a->manifest, err) < 0)
    return appc_error_prefix(err, "app %s", ra->name);
  /* Every app gets its security settings, the default ones when it has no
   * app section of its own: never a process with the executor's privileges. */
  if (ace_security_prepare(ra->app, ra->name, r->security_flags, &r->notes, &a->sec, err) < 0 ||
      ace_security_check_caps(a->sec, r->allowed_caps, ra->name, err) < 0)
    return -1;
  if (asprintf(&a->dir, "%s/apps/%s", r->dir.path, ra->name) < 0) {
    a->dir = NULL;
    return appc_error_make(err, ENOMEM, "app %s", ra->name);
  }
  if (mkdir(a->dir, 0700) < 0)
    return appc_error_make(err, errno, "%s", a->dir);
  if (plan_volumes(r, a, err) < 0)
    return -1;
  snprintf(scope, sizeof scope, "app %s", ra->name);
  if (ra->app != NULL)
    report_ignored(r, scope, &ra->app->isolators, false);
  if (r->n_apps > 1 && (pipe2(a->out, O_CLOEXEC) < 0 || pipe2(a->errp, O_CLOEXEC) < 0))
    return appc_error_make(err, errno, "app %s: output pipes", ra->name);
  return 0;
}

/* Close both ends of A's output pipes, those it has. */
static void close_output_pipes(struct app_plan *a)
{
  for (int k = 0; k < 2; k++) {
    if (a->out[k] >= 0)
      close(a->out[k]);
    if (a->errp[k] >= 0)
      close(a->errp[k]);
    a->out[k] = a->errp[k] = -1;
  }
}

static void release_app(struct app_plan *a)
{
  if (a->tree != NULL)
    appc_store_tree_release(a->tree);
  free(a->manifest_json);
  if (a->manifest != NULL)
    appc_image_manifest_free(a->manifest);
  ace_security_free(a->sec);
  ace_listen_clear(&a->listen);
  ace_rootfs_host_free(a->host);
  a->host = NULL;
  free(a->dir);
  free(a->vols);
  for (size_t i = 0; i < a->n_vol_strings; i++)
    free(a->vol_strings[i]);
  free(a->vol_strings);
  close_output_pipes(a);
  for (int k = 0; k < 2; k++)
    free(a->line[k]);
}

/* ---- the pod's network and the metadata service ------------------------ */

static int loopback_up(appc_error_t *err)
{
  cleanup_close int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};

  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
    return appc_error_make(err, errno, "the pod's loopback interface");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
    return appc_error_make(err, errno, "the pod's loopback interface");
  return 0;
}

static int listen_loopback(int *port, appc_error_t *err)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 64) < 0 ||
      getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
    int e = errno;
    if (fd >= 0)
      close(fd);
    return appc_error_make(err, e, "the metadata service's socket");
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

/* The port APP_PORT of one of the pod's apps, as PROTO and PORT. */
static bool find_app_port(const struct pod_run *r, const char *name, struct ace_port_map *out)
{
  for (size_t i = 0; i < r->n_apps; i++) {
    const struct appc_app *app = r->pod->apps[i].app;
    for (size_t k = 0; app != NULL && k < app->n_ports; k++)
      if (app->ports[k].name != NULL && strcmp(app->ports[k].name, name) == 0 &&
          (strcmp(app->ports[k].protocol, "tcp") == 0 ||
           strcmp(app->ports[k].protocol, "udp") == 0)) {
        snprintf(out->proto, sizeof out->proto, "%s", app->ports[k].protocol);
        out->pod_port = (unsigned short) app->ports[k].port;
        return true;
      }
  }
  return false;
}

static int add_port_map(const struct pod_run *r, const char *name, unsigned long host_port,
                        struct ace_port_map *maps, size_t *n, appc_error_t *err)
{
  if (host_port == 0 || host_port > 65535)
    return appc_error_tag(err, EINVAL, "port %s: host port %lu is not from 1 to 65535", name,
                          host_port);
  if (!find_app_port(r, name, &maps[*n]))
    return appc_error_make(err, ENOENT,
                           "port %s: no app of the pod has a tcp or udp port of "
                           "that name",
                           name);
  maps[*n].host_port = (unsigned short) host_port;
  for (size_t i = 0; i < *n; i++)
    if (maps[i].host_port == maps[*n].host_port && strcmp(maps[i].proto, maps[*n].proto) == 0)
      return appc_error_make(err, EEXIST, "port %s: host port %lu/%s is published twice", name,
                             host_port, maps[i].proto);
  (*n)++;
  return 0;
}

/* --net=default: the published ports (the pod manifest's, then
 * --publish's), an address and the bridge. */
static int prepare_default_net(struct pod_run *r, appc_error_t *err)
{
  size_t want = r->pod->n_ports + r->o->n_publish, n = 0;
  cleanup_free struct ace_port_map *maps = calloc(want + 1, sizeof *maps);

  if (maps == NULL)
    return appc_error_make(err, ENOMEM, "ports");
  for (size_t i = 0; i < r->pod->n_ports; i++) {
    const struct appc_exposed_port *p = &r->pod->ports[i];
    if (p->name != NULL &&
        add_port_map(r, p->name, (unsigned long) p->host_port, maps, &n, err) < 0)
      return appc_error_prefix(err, "ports");
  }
  for (size_t i = 0; i < r->o->n_publish; i++) {
    const char *spec = r->o->publish[i];
    char name[128];
    unsigned long port;
    if (ace_publish_parse(spec, name, &port, err) < 0)
      return -1;
    if (add_port_map(r, name, port, maps, &n, err) < 0)
      return appc_error_prefix(err, "published port \"%s\"", spec);
  }
  return ace_net_prepare(r->s, r->uuid, maps, n, &r->net, err);
}

/* The pod manifest's ports forward host ports on the default network
 * alone: elsewhere they are ignored, as docker discards published ports
 * with the host's network, but not without a word (--publish is refused). */
static void warn_unpublished_ports(struct pod_run *r)
{
  for (size_t i = 0; i < r->pod->n_ports; i++)
    if (r->pod->ports[i].name != NULL)
      ace_note(&r->notes, ACE_NOTE_WARN,
               "ports: port %s (host port %u) is published only with --net=default: ignored",
               r->pod->ports[i].name, (unsigned) r->pod->ports[i].host_port);
}

/* In the calling thread: a new network namespace with loopback up, kept by
 * J->netns_fd, and the metadata service's socket inside it.  The thread
 * returns to the network namespace it was in. */
static int make_pod_netns(void *data, unsigned worker, appc_error_t *err)
{
  struct netns_job *j = data;
  /* thread-self: /proc/self is the main thread's, and this may be another */
  cleanup_close int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  int rc = 0;

  (void) worker;
  if (host < 0 || unshare(CLONE_NEWNET) < 0)
    return appc_error_make(err, errno, "a network namespace for the pod");
  j->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (j->netns_fd < 0)
    rc = appc_error_make(err, errno, "the pod's network namespace");
  else if (loopback_up(err) < 0 || (j->listen_fd = listen_loopback(&j->port, err)) < 0)
    rc = -1;
  if (setns(host, CLONE_NEWNET) < 0 && rc == 0)
    rc = appc_error_make(err, errno, "back to the host's network namespace");
  return rc;
}

/* The kernel takes 0.3 to 0.4 ms to make a network namespace: a thread of
 * P's makes the pod's while P does its bookkeeping (setup_network takes
 * it).  Not for the host's network, nor with --private-users, where the
 * namespace is the user namespace's own.  Where no thread can be had, the
 * work is done here. */
static int start_netns(struct pod_run *r, appc_error_t *err)
{
  const struct appc_wq_options one = {.threads = APPC_WQ_OTHER_CPUS, .max_threads = 1};

  r->netns_job = (struct netns_job){.netns_fd = -1, .listen_fd = -1};
  if (r->o->net == APPC_ACE_NET_HOST || private_users(r->o) != NULL)
    return 0;
  if (appc_wq_new(&r->netns_maker, &one, err) < 0)
    return -1;
  (void) appc_wq_submit(r->netns_maker, make_pod_netns, &r->netns_job);
  return 0;
}

/* Wait for start_netns's thread; its descriptors become R's. */
static int take_netns(struct pod_run *r, appc_error_t *err)
{
  int rc = appc_wq_wait(r->netns_maker, err);

  appc_wq_free(r->netns_maker);
  r->netns_maker = NULL;
  r->netns_fd = r->netns_job.netns_fd;
  r->listen_fd = r->netns_job.listen_fd;
  r->netns_job.netns_fd = r->netns_job.listen_fd = -1;
  return rc;
}

/* In the namespace of NETNS_FD: FN(R), then back to the host's. */
static int in_netns(struct pod_run *r, int netns_fd, int (*fn)(struct pod_run *, appc_error_t *),
                    appc_error_t *err)
{
  cleanup_close int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

  if (host < 0 || setns(netns_fd, CLONE_NEWNET) < 0)
    return appc_error_make(err, errno, "the pod's network namespace");
  int rc = fn(r, err);
  if (setns(host, CLONE_NEWNET) < 0 && rc == 0)
    rc = appc_error_make(err, errno, "back to the host's network namespace");
  return rc;
}

static int enter_default_net(struct pod_run *r, appc_error_t *err)
{
  return ace_net_enter_pod(r->net, err);
}

/* With --private-users: the user namespace's network namespace, loopback
 * up and the metadata service's socket in it. */
static int userns_netns(struct pod_run *r, appc_error_t *err)
{
  r->netns_fd = fcntl(r->userns->netns_fd, F_DUPFD_CLOEXEC, 0);
  if (r->netns_fd < 0)
    return appc_error_make(err, errno, "the pod's network namespace");
  if (loopback_up(err) < 0)
    return -1;
  r->listen_fd = listen_loopback(&r->netns_job.port, err);
  return r->listen_fd < 0 ? -1 : 0;
}

/* The pod's network: its namespace (R->netns_fd) with loopback up, the
 * metadata service's socket (R->listen_fd), the default network's end in
 * it.  P itself stays in the host's. */
static int setup_network(struct pod_run *r, appc_error_t *err)
{
  int port;

  if (r->o->net == APPC_ACE_NET_HOST) {
    r->listen_fd = listen_loopback(&r->netns_job.port, err);
    if (r->listen_fd < 0)
      return -1;
  } else if (r->userns != NULL) {
    if (in_netns(r, r->userns->netns_fd, userns_netns, err) < 0)
      return -1;
  } else if (take_netns(r, err) < 0) {
    return -1;
  }
  port = r->netns_job.port;
  if (r->net != NULL && in_netns(r, r->netns_fd, enter_default_net, err) < 0)
    return -1;
  if (r->net != NULL && ace_net_attach(r->net, r->netns_fd, &r->notes, err) < 0)
    return appc_error_prefix(err, "pod %s: the default network", r->uuid);
  snprintf(r->metadata_url, sizeof r->metadata_url, "http://127.0.0.1:%d/%s", port, r->token);
  return 0;
}

/* What the store's metadata service serves for the pod, in its wire form. */
static int encode_metadata(struct pod_run *r, appc_error_t *err)
{
  cleanup_free struct ace_metadata_app *apps = calloc(r->n_apps + 1, sizeof *apps);

  if (apps == NULL)
    return appc_error_make(err, ENOMEM, "metadata");
  for (size_t i = 0; i < r->n_apps; i++)
    apps[i] = (struct ace_metadata_app){.name = r->apps[i].ra->name,
                                        .image_id = r->apps[i].ra->image.id,
                                        .image_manifest_json = r->apps[i].manifest_json,
                                        .image_manifest = r->apps[i].manifest,
                                        .pod_app_annotations = &r->apps[i].ra->annotations};
  struct ace_metadata_pod mp = {.uuid = r->uuid,
                                .pod_manifest_json = r->pod_json,
                                .annotations = &r->pod->annotations,
                                .apps = apps,
                                .n_apps = r->n_apps};
  return ace_metadata_wire_encode(&mp, r->token, &r->meta_wire, &r->meta_wire_len, err);
}

/* The pod's socket (P keeps it, so an app's request waits in its backlog
 * whenever no service answers) goes to the store's metadata service, which
 * is started if none runs. */
static int register_metadata(struct pod_run *r, appc_error_t *err)
{
  if (r->meta_wire == NULL && encode_metadata(r, err) < 0)
    return -1;
  r->meta_served = false;
  r->meta_conn =
      ace_mds_register(r->dir.pods_fd, r->meta_wire, r->meta_wire_len, r->listen_fd, err);
  return r->meta_conn < 0 ? -1 : 0;
}

/* No service will answer the pod: its socket closes, so that an app's
 * request is refused at once instead of waiting in the backlog for ever. */
static void no_metadata(struct pod_run *r)
{
  if (r->listen_fd >= 0) {
    close(r->listen_fd);
    r->listen_fd = -1;
  }
}

#define METADATA_RESTARTS_MAX 10
/* The registration's connection turned readable: the service took the pod,
 * refused it, retired before taking it, or ended after. */
static void watch_metadata(struct pod_run *r, unsigned *restarts)
{
  cleanup_error appc_error_t err = NULL;
  enum ace_mds_event ev = ace_mds_read(r->meta_conn, &r->meta_served, &err);

  if (ev == ACE_MDS_SERVING)
    return;
  close(r->meta_conn);
  r->meta_conn = -1;
  if (ev == ACE_MDS_REFUSED) {
    note_to_user((void *) r->o, ACE_NOTE_WARN, err->msg);
    no_metadata(r);
    return;
  }
  if (++*restarts > METADATA_RESTARTS_MAX) {
    note_to_user((void *) r->o, ACE_NOTE_WARN, "the metadata service keeps ending: not restarted");
    no_metadata(r);
    return;
  }
  if (ev == ACE_MDS_ENDED)
    note_to_user((void *) r->o, ACE_NOTE_WARN, "the metadata service ended: restarting it");
  if (register_metadata(r, &err) < 0) {
    note_to_user((void *) r->o, ACE_NOTE_WARN, err->msg);
    no_metadata(r);
  }
}

/* ---- the app supervisor (S) -------------------------------------------------- */

struct proc_ctx {
  char *const *env;
  const char *cwd;
  const struct ace_security *sec;
  const struct ace_identity *id;
  const struct ace_listen *listen; /* the app's sockets: for the app, not its handlers */
  int report;
  size_t app;
};

static void unblock_all_signals(void)
{
  sigset_t none;

  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The command CMD (LEN words) as an argv and the path PATH finds it at. */
static int command_argv(const struct proc_ctx *c, char *const *cmd, size_t len, char ***argv,
                        char **path, appc_error_t *err)
{
  *argv = calloc(len + 1, sizeof **argv);
  if (*argv == NULL)
    return appc_error_make(err, ENOMEM, "exec");
  memcpy(*argv, cmd, len * sizeof **argv);
  return ace_exec_lookup((*argv)[0], c->env, path, err);
}

/* Nothing of an app allowed CAP_SYS_PTRACE runs before I has closed its
 * descriptors of the host's directories (keep_only, once every supervisor
 * is forked): the app could open them through /proc/1/fd meanwhile (I is
 * not dumpable, which stops any other app).  The pipe ends when I and
 * every supervisor have closed its write end; I never lends such an S its
 * memory (lends_memory), which would stop I until the app's execve. */
static void await_init_closed(struct pod_run *r, size_t i)
{
  char c;

  if (ace_security_may_trace(r->apps[i].sec))
    while (read(r->init_closed[0], &c, 1) < 0 && errno == EINTR)
      ;
  close(r->init_closed[0]);
}

/* The line the exec shim reports a failed execve of PATH with: the
 * report's "E APP" kind, PATH on one line, then the reason. */
static char *exec_failure_prefix(const struct proc_ctx *c, const char *path)
{
  char *prefix = NULL;

  if (asprintf(&prefix, "E %zu %.*s: ", c->app, REPORT_LINE_MAX, path) < 0)
    return NULL;
  for (char *p = prefix; *p != '\0'; p++)
    if (*p == '\n')
      *p = ' ';
  return prefix;
}

/* Become the command: the app's user, cwd and isolators, then the exec
 * shim's execve, which starts it. */
static void __attribute__((noreturn))
exec_command(const struct proc_ctx *c, const char *path, char **argv)
{
  appc_error_t e = NULL;
  char **env = (char **) c->env;
  unsigned first = 3 + (c->listen != NULL ? (unsigned) c->listen->n : 0);
  struct ace_exec x;
  char *prefix;

  unblock_all_signals();
  signal(SIGPIPE, SIG_DFL); /* P ignores it; an ignored signal stays so across execve */
  /* Nothing of actool's but the standard streams (and the app's
   * socket-activated ports) reaches the app. */
  if (ace_listen_pass(c->listen, c->env, &env, &e) == 0) {
    close_range(first, UINT_MAX, CLOSE_RANGE_CLOEXEC);
    if ((prefix = exec_failure_prefix(c, path)) == NULL)
      appc_error_make(&e, ENOMEM, "%s", path);
    else if (ace_chdir_in_root(c->cwd, &e) == 0 &&
             ace_exec_prepare(&x, path, argv, c->report, (int) first, prefix, "\n", &e) == 0 &&
             ace_security_enter(c->sec, c->id, &e) == 0)
      ace_exec_run(&x, env, &e);
  }
  report_error(c->report, c->app, &e);
  _exit(errno == ENOENT ? 127 : 126);
}

/* The status of a command that could not be run, as a shell gives it:
 * 127 when it is not found, 126 when it cannot be executed. */
static int not_run_status(const appc_error_t err)
{
  int e = err != NULL ? err->errnum : 0;

  return e == ENOENT ? 127 : e == EACCES ? 126 : 1;
}

/* Fork and exec the command CMD (LEN words) as the app's user, with its
 * isolators. */
static pid_t spawn(const struct proc_ctx *c, char *const *cmd, size_t len, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char **argv = NULL;
  pid_t pid;

  if (command_argv(c, cmd, len, &argv, &path, err) < 0)
    return -1;
  pid = fork();
  if (pid < 0)
    return appc_error_make(err, errno, "fork");
  if (pid == 0)
    exec_command(c, path, argv);
  return pid;
}

static bool has_handler(const struct appc_app *app, const char *name)
{
  for (size_t i = 0; app != NULL && i < app->n_event_handlers; i++)
    if (strcmp(app->event_handlers[i].name, name) == 0 && app->event_handlers[i].exec.len > 0)
      return true;
  return false;
}

static int status_code(int wstatus)
{
  if (WIFEXITED(wstatus))
    return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus))
    return 128 + WTERMSIG(wstatus);
  return 1;
}

/* Wait for PID, forwarding the signals that reach S from I (not those the
 * terminal sent the whole process group: the app got those itself), with
 * TERM_AS for SIGTERM (systemd's is SIGRTMIN+3: its SIGTERM re-executes
 * it).  TIMEOUT_MS (negative: none) after the start, PID is killed
 * (SIGKILL) and *TIMED_OUT set. */
static int wait_until(pid_t pid, int sigfd, int term_as, long long timeout_ms, bool *timed_out)
{
  int64_t deadline = timeout_ms >= 0 ? appc_monotonic_ms() + timeout_ms : -1;

  for (;;) {
    struct signalfd_siginfo si;
    int wstatus;
    pid_t w = waitpid(pid, &wstatus, WNOHANG);

    if (w == pid)
      return status_code(wstatus);
    if (w < 0 && errno != EINTR)
      return 1;
    if (deadline >= 0 && appc_wait_readable(sigfd, deadline) == 0) {
      kill(pid, SIGKILL);
      *timed_out = true;
      while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
      return status_code(wstatus);
    }
    if (read(sigfd, &si, sizeof si) != sizeof si)
      continue;
    if (si.ssi_signo != SIGCHLD && si.ssi_code != SI_KERNEL)
      kill(pid, si.ssi_signo == SIGTERM ? term_as : (int) si.ssi_signo);
  }
}

static int wait_translating(pid_t pid, int sigfd, int term_as)
{
  return wait_until(pid, sigfd, term_as, -1, NULL);
}

static int wait_forwarding(pid_t pid, int sigfd)
{
  return wait_translating(pid, sigfd, SIGTERM);
}

/* post_stop_timeout_ms came with version 7 of the options. */
static long long post_stop_timeout(const struct pod_run *r)
{
  long long ms = r->o->version >= 7 ? r->o->post_stop_timeout_ms : 0;

  return ms == 0 ? APPC_ACE_POST_STOP_TIMEOUT_MS : ms;
}

/* Run APP's NAME handlers in turn, each within TIMEOUT_MS (negative:
 * no limit); the first to fail (-its status) ends the run. */
static int run_handler(const struct proc_ctx *c, const struct appc_app *app, const char *name,
                       int sigfd, long long timeout_ms, appc_error_t *err)
{
  for (size_t i = 0; i < app->n_event_handlers; i++) {
    const struct appc_event_handler *h = &app->event_handlers[i];
    bool timed_out = false;
    pid_t pid;
    int st;
    if (strcmp(h->name, name) != 0 || h->exec.len == 0)
      continue;
    if ((pid = spawn(c, h->exec.items, h->exec.len, err)) < 0)
      return appc_error_prefix(err, "%s handler", name);
    st = wait_until(pid, sigfd, SIGTERM, timeout_ms, &timed_out);
    if (timed_out) {
      appc_error_make(err, 0, "the %s handler %s did not end within %lld ms: killed", name,
                      h->exec.items[0], timeout_ms);
      return -st;
    }
    if (st != 0) {
      appc_error_make(err, 0, "the %s handler %s failed with status %d", name, h->exec.items[0],
                      st);
      return -st;
    }
  }
  return 0;
}

static int supervisor_signals(void)
{
  sigset_t set;

  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < N_FORWARDED; i++)
    sigaddset(&set, forwarded_signals[i]);
  return signalfd(-1, &set, SFD_CLOEXEC);
}

static char *const default_exec[] = {(char *) "/sbin/init", NULL};

/* The init's side: its mount namespace (where "/" is the app's root) to
 * its supervisor. */
static int hand_over_root(int sock, const char *exe, appc_error_t *err)
{
  cleanup_close int mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
  cleanup_free char *real = realpath(exe, NULL);
  const char *name = real != NULL ? strrchr(real, '/') + 1 : "";
  char kind = strcmp(name, "systemd") == 0 ? 's' : 'i';

  if (mnt < 0 || appc_send_fd(sock, mnt) < 0 || send(sock, &kind, 1, MSG_NOSIGNAL) != 1)
    return appc_error_make(err, errno, "handing the app's root to its supervisor");
  close(sock);
  return 0;
}

/* An app whose command is an init system (by its name: init, as the
 * default /sbin/init, or systemd) runs as PID 1 of a PID namespace of its
 * own, as systemd-nspawn's --boot runs it: busybox's refuses to run
 * otherwise, and an init reaps what its services leave. */
static bool runs_an_init(const struct appc_app *app)
{
  const char *exe = app != NULL && app->exec.len > 0 ? app->exec.items[0] : default_exec[0];
  const char *slash = strrchr(exe, '/');
  const char *name = slash != NULL ? slash + 1 : exe;

  return strcmp(name, "init") == 0 || strcmp(name, "systemd") == 0;
}

/* An init in a user namespace of its own mounts what it needs (systemd:
 * /run, /dev/shm...): that takes a mount namespace its user namespace owns.
 * The root built so far comes along, its mounts locked together (nothing of
 * it can be unmounted to reveal what is beneath). */
static int own_mount_namespace(appc_error_t *err)
{
  if (unshare(CLONE_NEWNS) < 0)
    return appc_error_make(err, errno, "a mount namespace for the init's user namespace");
  return 0;
}

/* What app I's root is made of.  INIT_SYSTEM: S is an init's supervisor's
 * child (supervise). */
static struct ace_rootfs_spec rootfs_spec(const struct pod_run *r, size_t i, bool init_system)
{
  const struct app_plan *a = &r->apps[i];

  return (struct ace_rootfs_spec){
      .app_name = a->ra->name,
      .lower = a->lower,
      .overlay_dir = build_mode(r->o) ? r->o->changes_dir : NULL,
      .app_dir = a->dir,
      .read_only = a->ra->read_only_root_fs,
      .hostname = r->hostname,
      .host_net = r->o->net == APPC_ACE_NET_HOST,
      .console = r->n_apps == 1 && isatty(STDIN_FILENO),
      .volumes = a->vols,
      .n_volumes = a->n_vols,
      .devices = r->devices,
      .n_devices = r->n_devices,
      .userns_fd = r->userns != NULL ? r->userns->userns_fd : -1,
      .id_base = r->userns != NULL ? r->userns->range.base : 0,
      .init_system = init_system,
      .lower_shifted = a->tree_shifted,
      .etc_dir = r->dir.state_path,
  };
}

/* S: set the app up and run it; exits with the app's status.  MNT_REPORT
 * >= 0: S is an init's supervisor's child, PID 1 of the app's own PID
 * namespace: it hands its mount namespace over that socket once the
 * app's root is built (the post-stop handlers run there) and always
 * becomes the app. */
static void __attribute__((noreturn))
supervise(struct pod_run *r, size_t i, int sigfd, int mnt_report)
{
  struct app_plan *a = &r->apps[i];
  const struct appc_app *app = a->ra->app;
  int report = r->report[1];
  struct ace_notes notes = {.fn = note_to_report, .data = &report};
  struct ace_identity id = {0};
  char **env = NULL;
  appc_error_t err = NULL;
  struct ace_rootfs_spec spec = rootfs_spec(r, i, mnt_report >= 0);
  int status = 1;

  /* Before the app's root hides the host's /proc; inherited by the app and
   * its handlers, which S forks. */
  if (ace_cgroup_enter(r->cg, i, a->in_v2, &err) < 0 || ace_security_oom_adjust(a->sec, &err) < 0 ||
      ace_rootfs_enter(&spec, a->host, &notes, &err) < 0 ||
      (mnt_report >= 0 &&
       hand_over_root(mnt_report,
                      app != NULL && app->exec.len > 0 ? app->exec.items[0] : default_exec[0],
                      &err) < 0) ||
      (spec.userns_fd >= 0 && ace_userns_join(spec.userns_fd, &err) < 0) ||
      (spec.userns_fd >= 0 && mnt_report >= 0 && own_mount_namespace(&err) < 0))
    goto fail;
  ace_close_dirs();
  await_init_closed(r, i);
  if (app == NULL) {
    struct stat st;
    if (stat(default_exec[0], &st) < 0) {
      appc_error_make(&err, 0, "the image has no app and no /sbin/init to run");
      goto fail;
    }
  }
  {
    static const struct appc_app no_app = {0};
    const struct appc_app *eff = app != NULL ? app : &no_app;
    const char *cwd =
        eff->working_directory && eff->working_directory[0] ? eff->working_directory : "/";
    struct proc_ctx c = {.cwd = cwd, .sec = a->sec, .id = &id, .report = report, .app = i};
    bool own = app != NULL && app->exec.len > 0;
    char *const *argv = own ? app->exec.items : default_exec;
    size_t argc = own ? app->exec.len : 1;
    pid_t pid;
    int pre, post;

    if (ace_identity_resolve("/", app, &id, &err) < 0 ||
        ace_env_build(eff, a->ra->name, r->metadata_url, id.home, r->o->env, &env, &err) < 0)
      goto fail;
    c.env = env;
    if (ace_chdir_in_root(cwd, &err) < 0)
      goto fail;
    if (app != NULL && (pre = run_handler(&c, app, "pre-start", sigfd, -1, &err)) < 0) {
      status = -pre;
      goto fail;
    }
    /* With nothing to run after it, S becomes the app: I waits for it and
     * forwards it signals as it would to S, and a fork is saved. */
    c.listen = &a->listen;
    if (mnt_report >= 0 || !has_handler(app, "post-stop")) {
      cleanup_free char *path = NULL;
      cleanup_free char **args = NULL;
      if (command_argv(&c, argv, argc, &args, &path, &err) < 0) {
        status = not_run_status(err);
        goto fail;
      }
      exec_command(&c, path, args);
    }
    pid = spawn(&c, argv, argc, &err);
    c.listen = NULL;
    if (pid < 0) {
      status = not_run_status(err);
      goto fail;
    }
    status = wait_forwarding(pid, sigfd);
    if (app != NULL &&
        (post = run_handler(&c, app, "post-stop", sigfd, post_stop_timeout(r), &err)) < 0) {
      report_error(report, i, &err);
      /* The app's own failure comes first; else the handler's is the app's. */
      if (status == 0)
        status = post < -1 ? -post : 1;
    }
  }
  _exit(status);

fail:
  /* status 1: set-up failed before the command (or a pre-start handler)
   * was tried, as opposed to 126/127, a command that could not be run */
  report_error_kind(report, i, status == 1, &err);
  _exit(status != 0 ? status : 1);
}

/* Let go of the host side of every app but ALL_BUT (SIZE_MAX: of all):
 * what P opened for the apps' roots (device nodes, volumes) is, in a
 * supervisor, for its own app only; the supervisor of an init, which stays
 * beside the pod's apps, keeps none of it, nor does P once I has its copy. */
static void free_hosts(struct pod_run *r, size_t all_but)
{
  for (size_t j = 0; j < r->n_apps; j++)
    if (j != all_but) {
      ace_rootfs_host_free(r->apps[j].host);
      r->apps[j].host = NULL;
    }
}

/* The post-stop handlers of an init, run by its supervisor in the app's
 * root (the mount namespace MNT) once the init and its PID namespace are
 * gone; *STATUS becomes the handler's failure if the init succeeded. */
static void post_stop_in(struct pod_run *r, size_t i, int mnt, int sigfd, int *status)
{
  const struct appc_app *app = r->apps[i].ra->app;
  struct ace_identity id = {0};
  char **env = NULL;
  appc_error_t err = NULL;
  const char *cwd =
      app->working_directory && app->working_directory[0] ? app->working_directory : "/";
  struct proc_ctx c = {
      .cwd = cwd, .sec = r->apps[i].sec, .id = &id, .report = r->report[1], .app = i};
  int post = 0;

  if (setns(mnt, CLONE_NEWNS) < 0)
    appc_error_make(&err, errno, "post-stop: the app's root");
  else if ((r->userns == NULL || ace_userns_join(r->userns->userns_fd, &err) == 0) &&
           ace_identity_resolve("/", app, &id, &err) == 0 &&
           ace_env_build(app, r->apps[i].ra->name, r->metadata_url, id.home, r->o->env, &env,
                         &err) == 0) {
    c.env = env;
    post = run_handler(&c, app, "post-stop", sigfd, post_stop_timeout(r), &err);
  }
  if (err != NULL) {
    report_error(r->report[1], i, &err);
    if (*status == 0)
      *status = post < -1 ? -post : 1;
  }
}

/* S of an init: a PID namespace for the app, whose PID 1 is a second
 * supervisor (supervise) that becomes the init; this one waits for it,
 * forwarding signals, then runs the post-stop handlers in its root. */
/* I needs nothing of the host's file system once the pod runs; but as
 * PID 1 its /proc/1/root and /proc/1/cwd are in every app's /proc, and
 * through them the host's tree to an app that may trace it
 * (CAP_SYS_PTRACE), or to a supervisor following a link an app made.
 * Before any app starts, I moves to a mount namespace of its own whose
 * only mount is an empty, read-only tmpfs, where ".." leads nowhere; each
 * supervisor returns to the host's (R->host_mnt) to build its app's root.
 * An init's supervisor does the same once the init has its root. */
static int confine_to_empty_root(appc_error_t *err)
{
  if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return appc_error_make(err, errno, "a mount namespace of its own");
  /* (/proc exists on every host; I no longer reads it) */
  if (mount("actool-init", "/proc", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "size=4k,nr_inodes=1,mode=0500") < 0 ||
      chdir("/proc") < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 ||
      chdir("/") < 0)
    return appc_error_make(err, errno, "an empty root");
  return 0;
}

static void __attribute__((noreturn)) init_supervisor(struct pod_run *r, size_t i, int sigfd)
{
  appc_error_t err = NULL;
  int sv[2], status;

  if (ace_cgroup_enter(r->cg, i, r->apps[i].in_v2, &err) < 0)
    goto fail;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    appc_error_make(&err, errno, "socketpair");
    goto fail;
  }
  /* clone, not unshare: this process's later children (the post-stop
   * handlers) stay in the pod's PID namespace, not in the init's dead one. */
  long pid = syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0) {
    appc_error_make(&err, errno, "a PID namespace for the init");
    goto fail;
  }
  if (pid == 0) {
    close(sv[0]);
    supervise(r, i, sigfd, sv[1]);
  }
  close(sv[1]);
  /* Seen in the /proc of the pod's other apps, this process keeps nothing
   * of the host's open, nor the host's root. */
  free_hosts(r, SIZE_MAX);
  ace_close_dirs();
  if (confine_to_empty_root(&err) < 0) {
    appc_error_prefix(&err, "the init's supervisor");
    kill((pid_t) pid, SIGKILL);
    goto fail;
  }
  /* The init's root and kind, once it has them (signals wait meanwhile in
   * the signalfd); nothing when it failed before. */
  char kind = 'i';
  int mnt = appc_recv_fd(sv[0], 0);
  if (mnt >= 0 && recv(sv[0], &kind, 1, 0) != 1)
    kind = 'i';
  status = wait_translating((pid_t) pid, sigfd, kind == 's' ? SIGRTMIN + 3 : SIGTERM);
  /* Only reboot(2) kills a PID namespace's init with SIGINT (power-off or
   * halt; it cannot get it otherwise unless it handles it): a clean end. */
  if (status == 128 + SIGINT)
    status = 0;
  if (mnt >= 0 && has_handler(r->apps[i].ra->app, "post-stop"))
    post_stop_in(r, i, mnt, sigfd, &status);
  _exit(status);
fail:
  report_error(r->report[1], i, &err);
  _exit(1);
}

/* I must not outlive P.  PR_SET_PDEATHSIG only covers a death of P after
 * the flag is set, and getppid() cannot tell whether P already died (P is
 * outside the pod's PID namespace: it reads 0).  So I sets the flag and
 * tells P, and waits for P's go (await_go) before it starts the supervisors,
 * which enter the cgroups P makes meanwhile: P answers only once it has
 * read I's word, which proves P was alive after the flag was set, and a P
 * that died earlier never answers (I reads EOF: nobody else holds the write
 * end). */
static bool tell_parent(struct pod_run *r)
{
  char c = 'r';
  bool ok;

  close(r->init_ready[0]);
  close(r->init_go[1]);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  ok = write(r->init_ready[1], &c, 1) == 1;
  close(r->init_ready[1]);
  return ok;
}

/* I: P's go, the pod's cgroups made (see tell_parent). */
static bool await_go(struct pod_run *r)
{
  char c;
  bool ok = read(r->init_go[0], &c, 1) == 1;

  close(r->init_go[0]);
  return ok;
}

/* P's side of the handshake, once the cgroups are made: the go, if I said
 * it will not outlive P. */
static void release_init(struct pod_run *r)
{
  char c;

  /* When I is gone, P hears of it from the report pipe. */
  if (read(r->init_ready[0], &c, 1) == 1)
    (void) !write(r->init_go[1], "g", 1);
  close(r->init_ready[0]);
  close(r->init_go[1]);
  r->init_ready[0] = r->init_go[1] = -1;
}

static void __attribute__((noreturn)) supervisor(struct pod_run *r, size_t i)
{
  struct app_plan *a = &r->apps[i];
  int sigfd = supervisor_signals();

  /* First: another app that may trace (CAP_SYS_PTRACE) could look into
   * this process's descriptors. */
  free_hosts(r, i);

  close(r->init_closed[1]); /* (await_init_closed) */
  /* Until it pivots, S's root is the host's: only a process that may trace
   * others reaches its /proc/PID/root (the app's execve makes it dumpable
   * again). */
  prctl(PR_SET_DUMPABLE, 0);
  /* I has left the host's tree (confine_to_empty_root); S builds the app's root
   * from it */
  if (setns(r->host_mnt, CLONE_NEWNS) < 0) {
    appc_error_t err = NULL;
    appc_error_make(&err, errno, "the host's mount namespace");
    report_error(r->report[1], i, &err);
    _exit(1);
  }
  close(r->host_mnt);

  if (r->n_apps > 1) {
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(a->out[1], STDOUT_FILENO) < 0 ||
        dup2(a->errp[1], STDERR_FILENO) < 0)
      _exit(1);
  }
  if (sigfd < 0) {
    appc_error_t err = NULL;
    appc_error_make(&err, errno, "signalfd");
    report_error(r->report[1], i, &err);
    _exit(1);
  }
  if (!build_mode(r->o) && runs_an_init(a->ra->app))
    init_supervisor(r, i, sigfd);
  supervise(r, i, sigfd, -1);
}

/* ---- the pod's init (I) ------------------------------------------------------- */

static void report_exit(int fd, size_t app, int status)
{
  char kind[32], msg[16];

  snprintf(kind, sizeof kind, "X %zu", app);
  snprintf(msg, sizeof msg, "%d", status);
  report_line(fd, kind, msg);
}

/* Whether I lends S its memory (vfork) rather than copying it (fork): when
 * S ends by becoming the app (one app, no handler, no init), so that I,
 * stopped until then, has nothing to do meanwhile.  Copying I's page tables
 * and the copy-on-write faults that follow are most of what starting S
 * costs.  S writes nothing of I's that I reads: it keeps what it makes in
 * its own frames and allocations, and its descriptors are its own. */
static bool lends_memory(const struct pod_run *r, size_t i)
{
  const struct appc_app *app = r->apps[i].ra->app;

  /* (an app that may trace waits for I: await_init_closed) */
  return r->n_apps == 1 && (build_mode(r->o) || !runs_an_init(app)) &&
         !has_handler(app, "pre-start") && !has_handler(app, "post-stop") &&
         !ace_security_may_trace(r->apps[i].sec);
}

/* Apart, so that no variable of I's main loop lives across vfork.  Where
 * the pod has a v2 cgroup for the app, S starts in it (a fork, then: a
 * clone into a cgroup cannot lend memory) and never takes the kernel's
 * global threadgroup lock to move there (ace_cgroup_enter). */
static pid_t __attribute__((noinline)) start_supervisor(struct pod_run *r, size_t i)
{
  struct app_plan *a = &r->apps[i];
  pid_t pid = ace_cgroup_fork(a->cg_leaf);

  a->in_v2 = pid >= 0; /* S's copy too: it is the child */
  if (pid < 0)
    pid = lends_memory(r, i) ? vfork() : fork();
  if (pid == 0)
    supervisor(r, i);
  return pid;
}

/* Every app is gone: what they left behind ends now (PID 1's kill(-1)
 * reaches every other process of its namespace) and is reaped, and P hears
 * that the pod is empty ("D").  P then takes the pod down while I's own
 * exit (its memory, its PID namespace) runs beside it, instead of after. */
static void __attribute__((noreturn)) empty_pod(struct pod_run *r)
{
  kill(-1, SIGKILL);
  while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
    ;
  report_line(r->report[1], "D", "");
  _exit(0);
}

/* I, its supervisors started, closes every descriptor but the report
 * pipe A and its signalfd B: those of the host's directories (the store,
 * the pod's) would lead an app that may trace I through /proc/1/fd. */
static void keep_only(int a, int b)
{
  int keep[] = {a, b};

  appc_close_fds_except(0, keep, 2);
}

/* Tests only: I waits test_init_delay_ms before its set-up and again
 * before closing the host's descriptors (keep_only), widening the windows
 * that a kill of actool and an app that may trace would hit. */
static void test_delay(const struct pod_run *r)
{
  unsigned ms = r->o->test_init_delay_ms;

  if (ms > 0)
    nanosleep(&(struct timespec){.tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000},
              NULL);
}

void ace_hide_command_line(const char *name)
{
  size_t name_len = strlen(name);
  char stat[1024];
  unsigned long start = 0, end = 0;
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, stat, sizeof stat - 1) : -1;
  const char *p;

  if (fd >= 0)
    close(fd);
  if (n <= 0)
    return;
  stat[n] = '\0';
  if ((p = strrchr(stat, ')')) == NULL)
    return;
  for (int field = 2; field < 48 && p != NULL; field++) /* to the space before field 48 */
    p = strchr(p + 1, ' ');
  /* argv[0] starts the area: anything else and nothing is touched */
  if (p == NULL || sscanf(p, " %lu %lu", &start, &end) != 2 || end <= start ||
      start != (unsigned long) program_invocation_name)
    return;
  memset((void *) start, 0, end - start);
  memcpy((void *) start, name, end - start - 1 < name_len ? end - start - 1 : name_len);
}

static void __attribute__((noreturn)) pod_init(struct pod_run *r)
{
  cleanup_free pid_t *pids = calloc(r->n_apps, sizeof *pids);
  size_t running = 0;
  appc_error_t err = NULL;
  int sigfd = supervisor_signals();

  /* Until it is confined, only a process that may trace others reaches
   * /proc/1 (its root is the host's). */
  prctl(PR_SET_DUMPABLE, 0);
  /* A session of its own, without the operator's controlling terminal, as
   * runc's init: an app in the terminal's session could type into it
   * (TIOCSTI), read what the operator types next, or signal the shell's
   * jobs.  The apps still get the terminal as their standard streams; its
   * signals reach them through P (forward_signal). */
  (void) setsid();
  /* Every app sees I as its PID 1, and anyone may read /proc/1/cmdline.  A
   * supervisor that stays (an init's, one with post-stop handlers)
   * inherits the name. */
  ace_hide_command_line("actool-pod-init");
  /* The pod's lock is P's alone: were I to keep it, a pod whose P died
   * would still look running, and gc would leave it.  So is P's hold on the
   * store's runtime directory: an init that outlives P while it ends would
   * keep gc from removing that directory. */
  close(r->dir.lock_fd);
  close(r->dir.runtime_fd);
  /* So is the socket that keeps the pod's published ports: they must go
   * with P, not with the last of the pod's processes. */
  ace_net_close_in_child(r->net);
  close(r->report[0]);
  if (r->meta_conn >= 0)
    close(r->meta_conn);
  test_delay(r);
  if (!tell_parent(r) || pids == NULL || sigfd < 0)
    _exit(1);
  /* Only P keeps the metadata service's socket (and hands it to M). */
  close(r->listen_fd);
  if ((r->netns_fd >= 0 && setns(r->netns_fd, CLONE_NEWNET) < 0) ||
      (r->userns != NULL && (setns(r->userns->utsns_fd, CLONE_NEWUTS) < 0 ||
                             setns(r->userns->ipcns_fd, CLONE_NEWIPC) < 0)) ||
      sethostname(r->hostname, strlen(r->hostname)) < 0) {
    appc_error_make(&err, errno, "pod %s: namespaces", r->uuid);
    report_line(r->report[1], "E -", err->msg);
    _exit(1);
  }
  if (ace_sysctl_apply(&r->pod->isolators, &err) < 0) {
    report_line(r->report[1], "E -", err->msg);
    _exit(1);
  }
  /* I confines itself while P makes the cgroups, keeping what it needs of
   * the host's tree: its mount namespace (for the supervisors) and the
   * root of the v2 hierarchy (to open the apps' cgroups once made). */
  int cg_root = r->cg != NULL ? ace_cgroup_v2_root(r->cg) : -1;
  if ((r->host_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0 ||
      confine_to_empty_root(&err) < 0) {
    if (err == NULL)
      appc_error_make(&err, errno, "/proc/self/ns/mnt");
    appc_error_prefix(&err, "the pod's init");
    report_line(r->report[1], "E -", err->msg);
    _exit(1);
  }
  if (!await_go(r))
    _exit(1); /* P is gone or gave up */
  for (size_t i = 0; i < r->n_apps; i++)
    r->apps[i].cg_leaf = r->cg != NULL ? ace_cgroup_leaf_v2(r->cg, cg_root, i) : -1;
  if (cg_root >= 0)
    close(cg_root);
  if (pipe2(r->init_closed, O_CLOEXEC) < 0) {
    appc_error_make(&err, errno, "the pod's init: pipe");
    report_line(r->report[1], "E -", err->msg);
    _exit(1);
  }
  for (size_t i = 0; i < r->n_apps; i++) {
    pids[i] = start_supervisor(r, i);
    if (pids[i] > 0)
      running++;
    else
      report_exit(r->report[1], i, 1);
  }
  test_delay(r);
  keep_only(r->report[1], sigfd);
  while (running > 0) {
    struct signalfd_siginfo si;
    int wstatus;
    pid_t w;

    if (read(sigfd, &si, sizeof si) != sizeof si)
      continue;
    if (si.ssi_signo != SIGCHLD) {
      if (si.ssi_code != SI_KERNEL)
        for (size_t i = 0; i < r->n_apps; i++)
          if (pids[i] > 0)
            kill(pids[i], (int) si.ssi_signo);
      continue;
    }
    /* As PID 1, I inherits every orphan of the pod: reap them all. */
    while ((w = waitpid(-1, &wstatus, WNOHANG)) > 0)
      for (size_t i = 0; i < r->n_apps; i++)
        if (pids[i] == w) {
          report_exit(r->report[1], i, status_code(wstatus));
          pids[i] = 0;
          running--;
        }
  }
  empty_pod(r);
}

static pid_t clone_pod_init(struct pod_run *r, appc_error_t *err)
{
  /* A raw clone() without a new stack behaves like fork() but can create
   * the namespaces at once; P is single-threaded, so nothing is lost by
   * skipping glibc's fork handlers. */
  long pid;

  if (pipe2(r->init_ready, O_CLOEXEC) < 0 || pipe2(r->init_go, O_CLOEXEC) < 0)
    return appc_error_make(err, errno, "pipe");
  /* With --private-users, I joins the UTS and IPC namespaces the pod's user
   * namespace owns instead. */
  unsigned long own = r->userns != NULL ? 0 : CLONE_NEWIPC | CLONE_NEWUTS;
  pid = syscall(SYS_clone, CLONE_NEWPID | own | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    return appc_error_make(err, errno, "clone (pod namespaces)");
  if (pid == 0)
    pod_init(r);
  close(r->init_ready[1]);
  close(r->init_go[0]);
  r->init_ready[1] = r->init_go[0] = -1;
  return (pid_t) pid;
}

/* ---- P: relaying ----------------------------------------------------------------- */

/* The state names the pod's init, for gc to end it should it outlive P. */
static bool keeps_exited(const struct pod_run *r);

static void record_init(struct pod_run *r)
{
  appc_error_t ignored = NULL;

  if (ace_proc_start_time(r->init_pid, &r->info.init_start) < 0)
    return;
  r->info.init_pid = r->init_pid;
  ace_pod_state_write(&r->dir, &r->info, r->metadata_url, &ignored);
  appc_error_release(&ignored);
}

static void record_exit(struct pod_run *r, size_t app, int status)
{
  appc_error_t ignored = NULL;

  if (app >= r->n_apps || r->info.apps[app].exited)
    return;
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  r->info.apps[app].exited = true;
  r->info.apps[app].status = status;
  r->info.apps[app].finished_ns = (int64_t) now.tv_sec * 1000000000 + now.tv_nsec;
  /* A SIGKILL from the OOM killer would otherwise look like any other. */
  if (status == 128 + SIGKILL && r->cg != NULL && ace_cgroup_oom_kills(r->cg, app) > 0)
    ace_note(&r->notes, ACE_NOTE_WARN,
             "app %s: killed by the kernel's OOM killer (out of memory in its cgroup)",
             r->info.apps[app].name);
  /* What the app left in its cgroup ends with it, as a container's
   * processes end with its main one (and a systemd unit's with its main
   * process, rkt's apps).  Not only tidiness: an app whose supervisor was
   * killed (by an operator, the OOM killer) would otherwise run on, shown
   * exited, out of stop's reach. */
  ace_cgroup_kill_app(r->cg, app);
  if (status != 0 && !r->failed) {
    r->failed = true;
    r->status = status;
  }
  /* The last exit of a pod that is not kept: its directory goes at once, so
   * the state is not written again (ext4 flushes a file renamed over
   * another). */
  bool running = false;
  for (size_t i = 0; i < r->n_apps; i++)
    running = running || !r->info.apps[i].exited;
  if (running || keeps_exited(r))
    ace_pod_state_write(&r->dir, &r->info, r->metadata_url, &ignored);
  appc_error_release(&ignored);
}

static void handle_report(struct pod_run *r, char *line)
{
  char *rest;
  unsigned long idx;

  if (strcmp(line, "D ") == 0) {
    r->pod_emptied = true;
  } else if (strncmp(line, "N ", 2) == 0 && (line[2] == 'w' || line[2] == 'i') && line[3] == ' ') {
    note_to_user((void *) r->o, line[2] == 'w' ? ACE_NOTE_WARN : ACE_NOTE_INFO, line + 4);
  } else if (strncmp(line, "E - ", 4) == 0) {
    if (r->start_error == NULL)
      r->start_error = strdup(line + 4);
  } else if (line[0] == 'S' && build_mode(r->o)) {
    /* the caller's error (appc_ace_run's), not a note: the command never ran */
    idx = strtoul(line + 2, &rest, 10);
    if (*rest == ' ' && r->setup_error == NULL)
      r->setup_error = strdup(rest + 1);
  } else if (line[0] == 'E' || line[0] == 'S' || line[0] == 'X') {
    idx = strtoul(line + 2, &rest, 10);
    if (*rest != ' ' || idx >= r->n_apps)
      return;
    if (line[0] == 'X') {
      record_exit(r, idx, atoi(rest + 1));
    } else {
      cleanup_free char *msg = NULL;
      if (asprintf(&msg, "app %s: %s", r->apps[idx].ra->name, rest + 1) >= 0) {
        if (strncmp(rest + 1, "app ", 4) == 0) /* already named */
          note_to_user((void *) r->o, ACE_NOTE_WARN, rest + 1);
        else
          note_to_user((void *) r->o, ACE_NOTE_WARN, msg);
      }
      if (r->start_error == NULL) {
        r->start_error = strdup(rest + 1);
        r->start_error_shown = true;
      }
    }
  }
}

/* Read what FD has, handing each complete line to the callback. */
static bool read_lines(int fd, char **buf, size_t *len, void (*line_fn)(void *, char *, size_t),
                       void *data)
{
  char chunk[4096];
  ssize_t n = read(fd, chunk, sizeof chunk);
  char *start, *nl;

  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return true;
  if (n <= 0) {
    if (*len > 0)
      line_fn(data, *buf, *len);
    *len = 0;
    return false;
  }
  if (APPC_ARRAY_EXTEND(*buf, *len, (size_t) n + 1) < 0)
    return false;
  memcpy(*buf + *len, chunk, (size_t) n);
  *len += (size_t) n;
  start = *buf;
  while ((nl = memchr(start, '\n', *len - (size_t) (start - *buf))) != NULL) {
    line_fn(data, start, (size_t) (nl - start) + 1);
    start = nl + 1;
  }
  *len -= (size_t) (start - *buf);
  memmove(*buf, start, *len);
  /* A line longer than a page is passed on in pieces. */
  if (*len > 64 * 1024) {
    line_fn(data, *buf, *len);
    *len = 0;
  }
  return true;
}

static void report_line_fn(void *data, char *line, size_t len)
{
  char copy[REPORT_LINE_MAX + 128];
  size_t n = len < sizeof copy - 1 ? len : sizeof copy - 1;

  memcpy(copy, line, n);
  copy[n] = '\0';
  if (n > 0 && copy[n - 1] == '\n')
    copy[n - 1] = '\0';
  handle_report(data, copy);
}

struct output_ctx {
  const char *name;
  int fd;
  bool broken; /* set when FD's reader is gone (EPIPE) */
};

static void output_line_fn(void *data, char *line, size_t len)
{
  struct output_ctx *c = data;
  char prefix[128];
  int n = snprintf(prefix, sizeof prefix, "%s: ", c->name);
  if (c->broken)
    return;
  if (appc_write_all(c->fd, prefix, (size_t) n) < 0 || appc_write_all(c->fd, line, len) < 0 ||
      ((len == 0 || line[len - 1] != '\n') && appc_write_all(c->fd, "\n", 1) < 0))
    c->broken = errno == EPIPE;
}

static void forward_signal(struct pod_run *r, const struct signalfd_siginfo *si, int *interrupts)
{
  int sig = (int) si->ssi_signo;

  if (sig == SIGINT || sig == SIGTERM) {
    /* `actool stop` again while the pod stops: that stop waits as the
     * first (ace/stop.c); its own second SIGTERM is a plain one. */
    if (sig == SIGTERM && si->ssi_code == SI_QUEUE && si->ssi_int == ACE_STOP_REQUEST &&
        si->ssi_uid == getuid() && *interrupts > 0)
      return;
    /* A second interrupt means "now": the pod is killed without post-stop. */
    if (++*interrupts > 1) {
      r->kill_signal = sig;
      kill(r->init_pid, SIGKILL);
      return;
    }
  }
  /* The terminal's signals too: the pod is a session of its own
   * (pod_init), out of the terminal's reach. */
  kill(r->init_pid, sig);
}

static void relay(struct pod_run *r)
{
  struct pollfd *fds = calloc(4 + 2 * r->n_apps, sizeof *fds);
  char *report_buf = NULL;
  size_t report_len = 0;
  bool init_alive = true;
  int interrupts = 0;
  unsigned meta_restarts = 0;

  if (fds == NULL)
    return;
  for (;;) {
    size_t n = 0;
    fds[n++] = (struct pollfd){.fd = r->sigfd, .events = POLLIN};
    fds[n++] = (struct pollfd){.fd = r->report[0], .events = POLLIN};
    for (size_t i = 0; i < r->n_apps; i++) {
      fds[n++] = (struct pollfd){.fd = r->apps[i].out[0], .events = POLLIN};
      fds[n++] = (struct pollfd){.fd = r->apps[i].errp[0], .events = POLLIN};
    }
    bool open_fds = false;
    for (size_t k = 1; k < n; k++)
      open_fds = open_fds || fds[k].fd >= 0;
    /* Once the pod is empty, I's exit is not waited for here. */
    if ((!init_alive || r->pod_emptied) && !open_fds)
      break;
    /* Watched while the pod runs, not waited for. */
    size_t meta = n;
    fds[n++] =
        (struct pollfd){.fd = init_alive && !r->pod_emptied ? r->meta_conn : -1, .events = POLLIN};
    if (poll(fds, n, -1) < 0 && errno != EINTR)
      break;
    if (fds[meta].revents != 0)
      watch_metadata(r, &meta_restarts);
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      if (read(r->sigfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) {
          int wstatus;
          pid_t w;
          while ((w = waitpid(-1, &wstatus, WNOHANG)) > 0)
            if (w == r->init_pid) {
              init_alive = false;
              r->init_reaped = true;
            }
        } else if (init_alive) {
          forward_signal(r, &si, &interrupts);
        }
      }
    }
    if ((fds[1].revents & (POLLIN | POLLHUP)) &&
        (!read_lines(r->report[0], &report_buf, &report_len, report_line_fn, r) ||
         r->pod_emptied)) {
      close(r->report[0]); /* I's last word ("D") or its end */
      r->report[0] = -1;
    }
    for (size_t i = 0; i < r->n_apps; i++)
      for (int k = 0; k < 2; k++) {
        int *fd = k == 0 ? &r->apps[i].out[0] : &r->apps[i].errp[0];
        struct output_ctx c = {.name = r->apps[i].ra->name, .fd = k == 0 ? 1 : 2};
        if ((fds[2 + 2 * i + (size_t) k].revents & (POLLIN | POLLHUP)) &&
            !read_lines(*fd, &r->apps[i].line[k], &r->apps[i].line_len[k], output_line_fn, &c)) {
          close(*fd);
          *fd = -1;
        }
        /* Nobody reads actool's stream any more (`| head`): the apps'
         * pipes to it close too, so that the apps' writes fail as they
         * would in a shell pipeline, and the pod ends as its apps do. */
        r->output_broken[k] = r->output_broken[k] || c.broken;
        if (r->output_broken[k] && *fd >= 0) {
          close(*fd);
          *fd = -1;
        }
      }
  }
  free(report_buf);
  free(fds);
}

/* ---- P: setup and teardown ------------------------------------------------- */

static int block_signals(struct pod_run *r, appc_error_t *err)
{
  sigset_t set;

  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (size_t i = 0; i < N_FORWARDED; i++)
    sigaddset(&set, forwarded_signals[i]);
  if (sigprocmask(SIG_BLOCK, &set, &r->old_mask) < 0)
    return appc_error_make(err, errno, "sigprocmask");
  r->mask_set = true;
  /* A closed stdout (`actool run ... | head`) must not kill P and abandon
   * the pod: P's writes fail with EPIPE instead (the apps get the default
   * back, exec_command). */
  if (sigaction(SIGPIPE, &(struct sigaction){.sa_handler = SIG_IGN}, &r->old_sigpipe) < 0)
    return appc_error_make(err, errno, "sigaction");
  r->sigpipe_set = true;
  r->sigfd = signalfd(-1, &set, SFD_CLOEXEC);
  if (r->sigfd < 0)
    return appc_error_make(err, errno, "signalfd");
  return 0;
}

static int save_uuid(const char *path, const char *uuid, appc_error_t *err)
{
  char line[APPC_UUID_LEN + 2];
  int n = snprintf(line, sizeof line, "%s\n", uuid);

  if (appc_atomic_write_at(AT_FDCWD, path, line, (size_t) n, 0644, 0, err) < 0)
    return appc_error_prefix(err, "the pod's UUID");
  return 0;
}

/* A value of the image's os-release as status shows it: one line of at
 * most 128 bytes, control characters (a newline would make a line of
 * status's own, an escape sequence would reach the terminal) as '?'. */
static char *os_release_field(const char *v)
{
  size_t n = strnlen(v, 128);
  char *out = malloc(n + 1);

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    out[i] = (unsigned char) v[i] < 0x20 || v[i] == 0x7f ? '?' : v[i];
  out[n] = '\0';
  return out;
}

/* The image's os-release, read inside its tree (where /etc/os-release is
 * commonly a symlink to ../usr/lib/os-release), never on another mount:
 * NAME and VERSION_ID. */
static void read_os_release(const char *rootfs, struct appc_ace_app_info *app)
{
  static const char *const places[] = {"etc/os-release", "usr/lib/os-release"};
  cleanup_close int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct appc_kv_list kv = {0};
  appc_error_t ignored = NULL;
  int fd = -1;

  /* O_PATH: the image's file is looked at before it is opened; a device
   * node the image ships there is never opened on the host (its driver
   * would answer: a watchdog, a tape). */
  for (size_t i = 0; root >= 0 && fd < 0 && i < ARRAY_SIZE(places); i++)
    fd = appc_open_in_root(root, places[i], O_PATH);
  if (fd < 0)
    return;
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      ace_env_file_parse(path, &kv, NULL, &ignored) == 0)
    for (size_t i = 0; i < kv.len; i++) {
      char **slot = strcmp(kv.items[i].name, "NAME") == 0         ? &app->os_name
                    : strcmp(kv.items[i].name, "VERSION_ID") == 0 ? &app->os_version
                                                                  : NULL;
      if (slot != NULL && *slot == NULL)
        *slot = os_release_field(kv.items[i].value);
    }
  appc_error_release(&ignored);
  appc_kv_list_clear(&kv);
  close(fd);
}

static int fill_info(struct pod_run *r, appc_error_t *err)
{
  struct appc_ace_pod_info *in = &r->info;

  snprintf(in->uuid, sizeof in->uuid, "%s", r->uuid);
  in->state = APPC_ACE_POD_RUNNING;
  in->status = -1;
  in->pid = getpid();
  clock_gettime(CLOCK_REALTIME, &in->started);
  if (r->net != NULL) {
    char addr[64];
    ace_net_address(r->net, addr);
    in->address = strdup(addr);
    in->published = ace_net_published(r->net);
    if (in->address == NULL || in->published == NULL)
      return appc_error_make(err, ENOMEM, "pod state");
  }
  in->net = strdup(r->o->net == APPC_ACE_NET_HOST      ? "host"
                   : r->o->net == APPC_ACE_NET_DEFAULT ? "default"
                                                       : "private");
  in->hostname = strdup(r->hostname);
  in->no_seccomp = (r->security_flags & ACE_SECURITY_NO_SECCOMP) != 0;
  in->apps = calloc(r->n_apps, sizeof *in->apps);
  if (in->net == NULL || in->hostname == NULL || in->apps == NULL)
    return appc_error_make(err, ENOMEM, "pod state");
  for (size_t i = 0; i < r->n_apps; i++) {
    in->apps[i].name = strdup(r->pod->apps[i].name);
    in->apps[i].image_id = strdup(r->pod->apps[i].image.id);
    in->n_apps++;
    read_os_release(r->apps[i].lower, &in->apps[i]);
    if (in->apps[i].name == NULL || in->apps[i].image_id == NULL)
      return appc_error_make(err, ENOMEM, "pod state");
  }
  return ace_pod_state_write(&r->dir, in, r->metadata_url, err);
}

static int make_user_namespace(struct pod_run *r, appc_error_t *err)
{
  struct ace_userns_range want;

  if (ace_userns_parse(private_users(r->o), &want, err) < 0 ||
      ace_userns_create(&want, r->uuid, r->o->net != APPC_ACE_NET_HOST, &r->userns, err) < 0)
    return -1;
  ace_note(&r->notes, ACE_NOTE_INFO,
           "pod %s: root in the pod is uid and gid %" PRIu32 " on the host (%" PRIu32 " ids)",
           r->uuid, r->userns->range.base, r->userns->range.count);
  return 0;
}

static int parse_devices(struct pod_run *r, appc_error_t *err)
{
  size_t n = r->o->version >= 4 ? r->o->n_devices : 0;

  if (n == 0)
    return 0;
  if ((r->devices = calloc(n, sizeof *r->devices)) == NULL)
    return appc_error_make(err, ENOMEM, "devices");
  for (; r->n_devices < n; r->n_devices++)
    if (ace_device_parse(r->o->devices[r->n_devices], &r->devices[r->n_devices], err) < 0)
      return -1;
  return ace_device_check_unique(r->devices, r->n_devices, err);
}

static int prepare(struct pod_run *r, appc_error_t *err)
{
  cleanup_free const char **names = calloc(r->n_apps, sizeof *names);
  size_t len;

  if (names == NULL)
    return appc_error_make(err, ENOMEM, "pod");
  if (ace_sysctl_check(&r->pod->isolators, &r->notes, err) < 0)
    return -1;
  if (r->pod->isolators.len > 0) {
    for (size_t i = 0; i < r->pod->isolators.len; i++)
      if (r->pod->isolators.items[i].kind == APPC_ISOLATOR_UNIX_SYSCTL &&
          r->o->net == APPC_ACE_NET_HOST)
        return appc_error_make(err, 0,
                               "isolators: os/unix/sysctl needs the pod's own network "
                               "namespace; in the host's it would change the host");
  }
  if (ace_uuid_new(r->uuid, err) < 0 || ace_metadata_token(r->token, err) < 0)
    return -1;
  if (r->o->hostname != NULL && ace_hostname_check(r->o->hostname, err) < 0)
    return -1;
  if (r->o->hostname != NULL)
    r->hostname = strdup(r->o->hostname);
  else if (asprintf(&r->hostname, "actool-%s", r->uuid) < 0)
    r->hostname = NULL;
  if (r->hostname == NULL)
    return appc_error_make(err, ENOMEM, "hostname");
  cleanup_free char *pods = appc_store_area_path(r->s, APPC_STORE_AREA_PODS);
  cleanup_free char *key_path = NULL;
  if (pods == NULL || asprintf(&key_path, "%s/" ACE_HMAC_KEY_NAME, pods) < 0) {
    key_path = NULL;
    return appc_error_make(err, ENOMEM, "hmac key");
  }
  if (ace_pod_dir_create(r->s, r->uuid, &r->dir, err) < 0 ||
      ace_metadata_key_check_at(r->dir.pods_fd, ACE_HMAC_KEY_NAME, key_path, err) < 0)
    return -1;
  if (appc_pod_manifest_serialize(r->pod, 0, &r->pod_json, &len, err) < 0 ||
      ace_pod_dir_write(&r->dir, "pod", r->pod_json, len, err) < 0)
    return -1;
  if (parse_devices(r, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_apps; i++)
    names[i] = r->pod->apps[i].name;
  /* Made by make_cgroups once I is on its way. */
  if (ace_cgroup_plan(NULL, r->uuid, names, r->n_apps, &r->cg, err) < 0)
    return -1;
  /* One app that is no init: in the pod's own cgroup (ace_cgroup_single). */
  if (r->n_apps == 1 && (build_mode(r->o) || !runs_an_init(r->pod->apps[0].app)))
    ace_cgroup_single(r->cg, &r->pod->isolators);
  report_ignored(r, "pod", &r->pod->isolators, true);
  if (private_users(r->o) != NULL && make_user_namespace(r, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_apps; i++)
    if (prepare_app(r, i, err) < 0)
      return -1;
  /* While start_netns's thread makes the network namespace, which
   * setup_network waits for.  (Whether S runs an init plays no part in the
   * host side.) */
  for (size_t i = 0; i < r->n_apps; i++) {
    struct ace_rootfs_spec spec = rootfs_spec(r, i, false);
    if (ace_rootfs_host_open(&spec, &r->apps[i].host, err) < 0)
      return -1;
  }
  if (r->o->net == APPC_ACE_NET_DEFAULT && prepare_default_net(r, err) < 0)
    return -1;
  if (r->o->net != APPC_ACE_NET_DEFAULT)
    warn_unpublished_ports(r);
  if (fill_info(r, err) < 0 || setup_network(r, err) < 0)
    return -1;
  for (size_t i = 0; i < r->n_apps; i++)
    if (ace_listen_open(r->pod->apps[i].app, r->pod->apps[i].name, r->netns_fd, &r->apps[i].listen,
                        err) < 0)
      return -1;
  if (r->o->uuid_file != NULL && save_uuid(r->o->uuid_file, r->uuid, err) < 0)
    return -1;
  return 0;
}

/* The pod's cgroups and what the isolators set in them. */
static int make_cgroups(struct pod_run *r, appc_error_t *err)
{
  if (ace_cgroup_make(r->cg, r->devices, r->n_devices, err) < 0)
    return -1;
  if (ace_cgroup_apply(r->cg, -1, &r->pod->isolators, &r->notes, err) < 0)
    return appc_error_prefix(err, "pod");
  for (size_t i = 0; i < r->n_apps; i++) {
    const struct appc_runtime_app *ra = &r->pod->apps[i];
    if (ra->app != NULL &&
        ace_cgroup_apply(r->cg, (long) i, &ra->app->isolators, &r->notes, err) < 0)
      return appc_error_prefix(err, "app %s", ra->name);
    /* An init makes its own cgroups beneath its own: with --private-users
     * its root is not the host's, so they are handed to it. */
    if (r->userns != NULL && !build_mode(r->o) && runs_an_init(ra->app) &&
        ace_cgroup_delegate(r->cg, i, r->userns->range.base, r->userns->range.base, err) < 0)
      return appc_error_prefix(err, "app %s", ra->name);
  }
  return 0;
}

/* I is cloned and starts the supervisors: the cgroups are made meanwhile,
 * then the supervisors go; what else P has to do is done while they start
 * the apps. */
static int start_pod(struct pod_run *r, appc_error_t *err)
{
  appc_error_t late = NULL;

  if (make_cgroups(r, err) < 0)
    return -1;
  release_init(r);
  record_init(r);
  /* The apps do not wait for M to take the pod: its socket listens already
   * (P made it), so an app's first request is accepted by the kernel at
   * once and answered as soon as M serves.  Registered after the go, the
   * registration (and the start of a service when none runs) is not on the
   * apps' way; it fails as M's refusal does, with a warning, the pod
   * running without the service. */
  if (register_metadata(r, &late) < 0) {
    note_to_user((void *) r->o, ACE_NOTE_WARN, late->msg);
    no_metadata(r);
  }
  appc_error_release(&late);
  return 0;
}

/* start_pod failed: the pod ends with its init (SIGKILL ends every process
 * of its PID namespace), and nothing of it is kept. */
static void abort_pod(struct pod_run *r)
{
  kill(r->init_pid, SIGKILL);
  while (waitpid(r->init_pid, NULL, 0) < 0 && errno == EINTR)
    ;
  r->init_pid = 0;
}

/* Build mode: every process of the pod is gone, so nothing writes to the
 * app's upper layer any more; it goes into the rootfs. */
static int commit_changes(struct pod_run *r, appc_error_t *err)
{
  return ace_commit_changes(r->o->changes_dir, r->o->rootfs_dir, err);
}

/* Build mode: the command of the pod's one app, for messages. */
static const char *build_command(const struct pod_run *r)
{
  const struct appc_app *app = r->apps[0].ra->app;

  return app != NULL && app->exec.len > 0 ? app->exec.items[0] : "the command";
}

/* keep_exited came with version 2 of the options. */
static bool keeps_exited(const struct pod_run *r)
{
  return r->o->version >= 2 && r->o->keep_exited && r->init_pid > 0;
}

/* The status a foreground run exits with: the first failing app's, else
 * 0; 1 (run's failure) when an app never started or never reported. */
static int pod_exit_status(const struct pod_run *r)
{
  if (r->failed)
    return r->status;
  if (r->start_error != NULL)
    return 1;
  for (size_t i = 0; i < r->n_apps; i++)
    if (!r->info.apps[i].exited)
      return 1;
  return 0;
}

/* The pod ended: its state says when and with what status, and the
 * directory stays. */
static int keep_exited_pod(struct pod_run *r, appc_error_t *err)
{
  clock_gettime(CLOCK_REALTIME, &r->info.finished);
  r->info.status = pod_exit_status(r);
  if (ace_pod_state_write(&r->dir, &r->info, r->metadata_url, err) < 0) {
    appc_error_t ignored = NULL;
    ace_pod_dir_remove(&r->dir, &ignored);
    appc_error_release(&ignored);
    return -1;
  }
  return ace_pod_dir_keep(&r->dir, err);
}

#define METADATA_RELEASE_MS 100
/* The service lets the pod's socket go when P's end of the registration
 * closes.  That socket holds the pod's network namespace, whose end takes
 * the pod's veth pair with it: with a pair, P half-closes and waits (a
 * moment) for the service to close its end.  False when it did not in
 * time (it may be stopped): the pair must then be deleted by P.  With
 * SWEEP, P's last word asks the service to remove what the pod set aside;
 * *SWEEP turns false when it could not be said. */
static bool release_metadata(struct pod_run *r, bool *sweep)
{
  bool released = true;

  if (r->meta_conn < 0) {
    *sweep = false;
    return true;
  }
  if (*sweep && send(r->meta_conn, "R", 1, MSG_NOSIGNAL) != 1)
    *sweep = false;
  if (r->net != NULL) {
    char buf[64];
    int64_t deadline = appc_monotonic_ms() + METADATA_RELEASE_MS;
    ssize_t n = -1;
    shutdown(r->meta_conn, SHUT_WR);
    while (appc_wait_readable(r->meta_conn, deadline) > 0 &&
           (n = read(r->meta_conn, buf, sizeof buf)) > 0)
      ; /* a late 'K' */
    released = n == 0;
  }
  close(r->meta_conn);
  r->meta_conn = -1;
  return released;
}

/* What the apps wrote (DIR/pods/UUID) is set aside for the metadata service
 * to remove once run has returned: on a file system that discards freed
 * blocks as it frees them, that removal was a tenth of a short pod's run.
 * Kept pods keep their log there, and without a service nobody would. */
static bool set_aside(struct pod_run *r)
{
  appc_error_t ignored = NULL;
  bool aside = r->dir.fd >= 0 && r->meta_conn >= 0 && !keeps_exited(r) &&
               ace_pod_dir_set_aside(&r->dir, &ignored) == 0;

  appc_error_release(&ignored);
  return aside;
}

static void teardown(struct pod_run *r)
{
  appc_error_t ignored = NULL;

  /* Every app is gone; what entered the pod and is still there ends with
   * the cgroups. */
  if (r->cg != NULL && ace_cgroup_destroy(r->cg, &ignored) < 0)
    note_to_user((void *) r->o, ACE_NOTE_WARN, ignored->msg);
  r->cg = NULL;
  appc_error_release(&ignored);
  bool aside = set_aside(r), swept = aside;
  /* The service stops serving the pod. */
  bool released = release_metadata(r, &swept);
  if (aside && !swept)
    ace_pods_sweep(r->dir.pods_fd);
  if (r->meta_wire != NULL)
    explicit_bzero(r->meta_wire, r->meta_wire_len);
  free(r->meta_wire);
  ace_net_release(r->net, !released);
  r->net = NULL;
  ace_userns_release(r->userns); /* every process of the pod is gone */
  r->userns = NULL;
  for (size_t i = 0; r->apps != NULL && i < r->n_apps; i++)
    release_app(&r->apps[i]);
  free(r->apps);
  if (r->dir.state_fd >= 0 &&
      (keeps_exited(r) ? keep_exited_pod(r, &ignored) : ace_pod_dir_remove(&r->dir, &ignored)) < 0)
    note_to_user((void *) r->o, ACE_NOTE_WARN, ignored->msg);
  appc_error_release(&ignored);
  ace_pod_dir_close(&r->dir);
  for (int k = 0; k < 2; k++) {
    if (r->report[k] >= 0)
      close(r->report[k]);
    if (r->init_ready[k] >= 0)
      close(r->init_ready[k]);
    if (r->init_go[k] >= 0)
      close(r->init_go[k]);
  }
  if (r->netns_maker != NULL) /* prepare failed before it took the namespace */
    (void) take_netns(r, &ignored);
  appc_error_release(&ignored);
  if (r->netns_fd >= 0)
    close(r->netns_fd);
  if (r->listen_fd >= 0)
    close(r->listen_fd);
  /* I's own exit ran beside the rest (empty_pod). */
  if (r->pod_emptied && !r->init_reaped)
    while (waitpid(r->init_pid, NULL, 0) < 0 && errno == EINTR)
      ;
  if (r->sigfd >= 0)
    close(r->sigfd);
  if (r->mask_set)
    sigprocmask(SIG_SETMASK, &r->old_mask, NULL);
  if (r->sigpipe_set)
    sigaction(SIGPIPE, &r->old_sigpipe, NULL);
  appc_ace_pod_info_clear(&r->info);
  for (size_t i = 0; i < r->n_devices; i++)
    ace_device_clear(&r->devices[i]);
  free(r->devices);
  free(r->hostname);
  free(r->pod_json);
  free(r->start_error);
  free(r->setup_error);
}

static int run_pod(struct appc_store *s, const struct appc_pod_manifest *pod,
                   const struct appc_ace_options *opts, int *status, appc_error_t *err)
{
  struct pod_run r = {
      .s = s,
      .pod = pod,
      .o = opts,
      .notes = {.fn = note_to_user, .data = (void *) opts},
      .n_apps = pod->n_apps,
      .netns_fd = -1,
      .listen_fd = -1,
      .meta_conn = -1,
      .report = {-1, -1},
      .init_ready = {-1, -1},
      .init_go = {-1, -1},
      .sigfd = -1,
      .parent = getpid(),
      .dir = ACE_POD_DIR_INIT,
  };
  int ret = -1;

  *status = 1;
  if (ace_options_check(opts, err) < 0)
    return -1;
  if (geteuid() != 0)
    return appc_error_make(err, EPERM, "running a pod needs root");
  if (opts->net == APPC_ACE_NET_DEFAULT && opts->version < 3)
    return appc_error_tag(err, EINVAL, "net APPC_ACE_NET_DEFAULT came with options version 3");
  if (opts->version >= 3 && opts->n_publish > 0 && opts->net != APPC_ACE_NET_DEFAULT)
    return appc_error_tag(err, EINVAL,
                          "publish needs net APPC_ACE_NET_DEFAULT (the pod's own network on "
                          "the bridge)");
  if (build_mode(opts) && opts->version >= 4 && opts->n_devices > 0)
    return appc_error_tag(err, EINVAL, "build mode: no devices (an image cannot keep one)");
  if (build_mode(opts) && private_users(opts) != NULL)
    return appc_error_tag(err, EINVAL,
                          "build mode: no private_users (the layout's files keep their owners)");
  if (build_mode(opts) &&
      (pod->n_apps != 1 || opts->changes_dir == NULL || opts->image_manifest == NULL))
    return appc_error_tag(err, EINVAL,
                          "build mode: one app, a directory for its changes and its manifest");
  if (build_mode(opts) && (opts->rootfs_dir[0] != '/' || opts->changes_dir[0] != '/'))
    return appc_error_tag(err, EINVAL, "build mode: %s: not an absolute path",
                          opts->rootfs_dir[0] != '/' ? opts->rootfs_dir : opts->changes_dir);
  if (opts->version >= 5 &&
      ace_caps_parse(opts->allow_caps, opts->n_allow_caps, &r.allowed_caps, err) < 0)
    return -1;
  if (opts->version >= 6 && opts->no_seccomp)
    r.security_flags |= ACE_SECURITY_NO_SECCOMP;
  /* Not trusted to be what appc_ace_reify made: its names become paths. */
  if (ace_pod_check(pod, err) < 0)
    return -1;
  r.apps = calloc(pod->n_apps, sizeof *r.apps);
  if (r.apps == NULL) {
    appc_error_make(err, ENOMEM, "pod");
    goto out;
  }
  for (size_t i = 0; i < pod->n_apps; i++)
    r.apps[i].out[0] = r.apps[i].out[1] = r.apps[i].errp[0] = r.apps[i].errp[1] = -1;
  if (pipe2(r.report, O_CLOEXEC) < 0) {
    appc_error_make(err, errno, "pipe");
    goto out;
  }
  if (start_netns(&r, err) < 0 || block_signals(&r, err) < 0 || prepare(&r, err) < 0)
    goto out;
  /* Before the clone: the callback may redirect the output that the pod's
   * processes inherit (run --detach: to the pod's log). */
  if (opts->started != NULL)
    opts->started(opts->started_data, r.uuid);
  if ((r.init_pid = clone_pod_init(&r, err)) < 0)
    goto out;
  /* I has its own: P's would keep the apps' overlays alive after the pod. */
  free_hosts(&r, SIZE_MAX);
  if (start_pod(&r, err) < 0) {
    abort_pod(&r);
    goto out;
  }
  close(r.report[1]);
  r.report[1] = -1;
  for (size_t i = 0; i < r.n_apps; i++) {
    close(r.apps[i].out[1]);
    close(r.apps[i].errp[1]);
    r.apps[i].out[1] = r.apps[i].errp[1] = -1;
  }
  relay(&r);
  /* Apps that the second interrupt killed end as if by that signal. */
  for (size_t i = 0; r.kill_signal != 0 && i < r.n_apps; i++)
    record_exit(&r, i, 128 + r.kill_signal);
  if (r.setup_error != NULL) {
    appc_error_make(err, 0, "%s did not start: %s", build_command(&r), r.setup_error);
    goto out;
  }
  if (r.start_error != NULL && !r.failed) {
    if (r.start_error_shown) { /* not twice */
      *status = 1;
      ret = 0;
    } else {
      appc_error_make(err, 0, "%s", r.start_error);
    }
    goto out;
  }
  for (size_t i = 0; i < r.n_apps; i++)
    if (!r.info.apps[i].exited) {
      appc_error_make(err, 0, "pod %s: its init ended before app %s", r.uuid, r.apps[i].ra->name);
      goto out;
    }
  *status = r.failed ? r.status : 0;
  ret = 0;
  if (build_mode(opts) && commit_changes(&r, err) < 0)
    ret = -1;
out:
  teardown(&r);
  return ret;
}

int appc_ace_run(struct appc_store *s, const struct appc_pod_manifest *pod,
                 const struct appc_ace_options *opts, int *status, appc_error_t *err)
{
  static const struct appc_ace_options defaults = {0};

  return run_pod(s, pod, opts != NULL ? opts : &defaults, status, err);
}
