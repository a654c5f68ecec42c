/* SPDX-License-Identifier: Apache-2.0 */
/* The pods of a store: RUNTIME/UUID/ (ace_pods_runtime_open), one state
 * directory per pod that runs, was kept when it exited, or whose actool died
 * without cleaning up; beside it DIR/pods/UUID/, what its apps write.
 *
 * A state directory is made under a temporary name with its `lock` already
 * held (flock, exclusive) by the actool that runs it, then renamed into
 * place, so every visible pod either has a live owner or is abandoned: a
 * free lock is how list tells them apart and how gc knows it may remove one.
 * Removal renames the directory away first, so it never looks half gone. */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/magic.h>

#include <json-c/json.h>

#include "common/error.h"
#include "common/array.h"
#include "appc/ace.h"
#include "ace/internal.h"
#include "ace/pod.h"
#include "common/abi.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "appc/store.h"
#include "appc/types.h"

#define POD_LOCK "lock"
#define POD_STATE "state.json"
#define POD_MANIFEST "pod"
#define STATE_MAX (1 << 20)
#define LEFTOVER_AGE 60 /* seconds */
#define POD_CREATING ".creating-"

static bool is_uuid(const char *s)
{
  appc_error_t e = NULL;
  bool ok = appc_validate_uuid(s, &e) == 0 && strlen(s) == APPC_UUID_LEN;

  appc_error_release(&e);
  return ok;
}

/* ---- the runtime directory ------------------------------------------------- */

int ace_runtime_root_open(appc_error_t *err)
{
  struct statfs sf;
  cleanup_close int fd = -1;

  if (mkdir(ACE_RUNTIME_ROOT, 0700) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, "%s", ACE_RUNTIME_ROOT);
  if (statfs(ACE_RUNTIME_ROOT, &sf) < 0)
    return appc_error_make(err, errno, "%s", ACE_RUNTIME_ROOT);
  if (sf.f_type != TMPFS_MAGIC) {
    /* Under a lock on the directory beneath, so that two actools never
     * stack two tmpfs: the second finds the first's. */
    cleanup_close int under =
        open(ACE_RUNTIME_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (under < 0 || flock(under, LOCK_EX) < 0 || statfs(ACE_RUNTIME_ROOT, &sf) < 0)
      return appc_error_make(err, errno, "%s", ACE_RUNTIME_ROOT);
    if (sf.f_type != TMPFS_MAGIC && mount("tmpfs", ACE_RUNTIME_ROOT, "tmpfs",
                                          MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") < 0)
      return appc_error_make(err, errno, "%s: cannot mount a tmpfs for the pods' state",
                             ACE_RUNTIME_ROOT);
  }
  fd = open(ACE_RUNTIME_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", ACE_RUNTIME_ROOT);
  return steal_fd(&fd);
}

/* The store directory's identity: device, inode, and birth time where the
 * file system keeps one (an inode number is soon reused). */
static int runtime_key_of(const char *path, char key[ACE_RUNTIME_KEY_MAX], appc_error_t *err)
{
  struct statx st;

  if (statx(AT_FDCWD, path, 0, STATX_INO | STATX_BTIME, &st) < 0)
    return appc_error_make(err, errno, "%s", path);
  snprintf(key, ACE_RUNTIME_KEY_MAX, "%x.%x-%llx-%llx.%x", st.stx_dev_major, st.stx_dev_minor,
           (unsigned long long) st.stx_ino,
           (st.stx_mask & STATX_BTIME) ? (unsigned long long) st.stx_btime.tv_sec : 0ull,
           (st.stx_mask & STATX_BTIME) ? st.stx_btime.tv_nsec : 0u);
  return 0;
}

int ace_runtime_key(struct appc_store *s, char key[ACE_RUNTIME_KEY_MAX], appc_error_t *err)
{
  return runtime_key_of(appc_store_path(s), key, err);
}

/* Whether NAME is a runtime directory's key (ace_runtime_key's form). */
static bool is_runtime_key(const char *name)
{
  unsigned a, b, d;
  unsigned long long ino, sec;
  int end = 0;

  return sscanf(name, "%x.%x-%llx-%llx.%x%n", &a, &b, &ino, &sec, &d, &end) == 5 &&
         name[end] == '\0';
}

/* KEY's directory is new: it names its store, for whoever looks. */
static void name_store(int fd, struct appc_store *s)
{
  appc_error_t ignored = NULL;
  const char *path = appc_store_path(s);
  cleanup_free char *abs = realpath(path, NULL);
  cleanup_free char *line = NULL;

  if (asprintf(&line, "%s\n", abs != NULL ? abs : path) >= 0)
    appc_atomic_write_at(fd, "store", line, strlen(line), 0600, 0, &ignored);
  else
    line = NULL;
  appc_error_release(&ignored);
}

/* Nothing there, or not ours to read (an unprivileged user): no pods,
 * which is ENOENT without an error; anything else is one. */
static int runtime_open_failed(bool create, const char *dir, appc_error_t *err)
{
  if (!create && (errno == ENOENT || errno == EACCES)) {
    errno = ENOENT;
    return -1;
  }
  return appc_error_make(err, errno, "%s", dir);
}

int ace_pods_runtime_open(struct appc_store *s, bool create, char **path, appc_error_t *err)
{
  char key[ACE_RUNTIME_KEY_MAX];
  cleanup_free char *dir = NULL;
  cleanup_close int root = -1;
  int fd;
  bool made = false;

  *path = NULL;
  if (ace_runtime_key(s, key, err) < 0)
    return -1;
  if (asprintf(&dir, "%s/%s", ACE_RUNTIME_ROOT, key) < 0) {
    dir = NULL;
    return appc_error_make(err, ENOMEM, "%s", ACE_RUNTIME_ROOT);
  }
  if (!create) {
    root = open(ACE_RUNTIME_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (root < 0)
      return runtime_open_failed(create, ACE_RUNTIME_ROOT, err);
  } else if ((root = ace_runtime_root_open(err)) < 0) {
    return -1;
  } else if (mkdirat(root, key, 0700) == 0) {
    made = true;
  } else if (errno != EEXIST) {
    return appc_error_make(err, errno, "%s", dir);
  }
  fd = openat(root, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return runtime_open_failed(create, dir, err);
  if (made)
    name_store(fd, s);
  *path = steal_pointer(&dir);
  return fd;
}

/* ---- a pod's directories ---------------------------------------------------- */

/* Undo a half-made directory; the error that stopped its making is the one
 * reported. */
static void remove_quietly(int dirfd, const char *name)
{
  appc_error_t ignored = NULL;

  appc_remove_tree(dirfd, name, &ignored);
  appc_error_release(&ignored);
}

/* RUNTIME/UUID: made under a temporary name with its lock held, then renamed
 * into place. */
static int make_state_dir(struct appc_store *s, const char *uuid, struct ace_pod_dir *out,
                          appc_error_t *err)
{
  char tmp[64];
  cleanup_free char *base = NULL;
  cleanup_close int run = -1;
  cleanup_close int fd = -1;
  cleanup_close int lock = -1;

  snprintf(tmp, sizeof tmp, "%s%s", POD_CREATING, uuid);
  /* RUNTIME held shared from before the pod's directory is made: gc
   * removes a runtime directory without pods only holding it exclusively
   * (remove_runtime_if_unused), and one it removed just before is made
   * again. */
  for (int attempt = 0;; attempt++) {
    if ((run = ace_pods_runtime_open(s, true, &base, err)) < 0)
      return -1;
    while (flock(run, LOCK_SH) < 0)
      if (errno != EINTR)
        return appc_error_make(err, errno, "%s: lock", base);
    if (mkdirat(run, tmp, 0700) == 0)
      break;
    if (errno != ENOENT || attempt == 3)
      return appc_error_make(err, errno, "%s/%s", base, tmp);
    close(steal_fd(&run));
    free(steal_pointer(&base));
  }
  fd = openat(run, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0)
    lock = openat(fd, POD_LOCK, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0 ||
      renameat(run, tmp, run, uuid) < 0) {
    int e = errno;
    remove_quietly(run, tmp);
    return appc_error_make(err, e, "%s/%s", base, uuid);
  }
  if (asprintf(&out->state_path, "%s/%s", base, uuid) < 0) {
    out->state_path = NULL;
    remove_quietly(run, uuid);
    return appc_error_make(err, ENOMEM, "%s", uuid);
  }
  out->runtime_fd = steal_fd(&run);
  out->state_fd = steal_fd(&fd);
  out->lock_fd = steal_fd(&lock);
  return 0;
}

/* DIR/pods/UUID/apps: made once the state directory holds the lock, so
 * that gc never takes it for a leftover. */
static int make_data_dir(struct appc_store *s, const char *uuid, struct ace_pod_dir *out,
                         appc_error_t *err)
{
  cleanup_free char *base = appc_store_area_path(s, APPC_STORE_AREA_PODS);

  if (base == NULL || asprintf(&out->path, "%s/%s", base, uuid) < 0) {
    out->path = NULL;
    return appc_error_make(err, ENOMEM, "%s", uuid);
  }
  if ((out->pods_fd = appc_store_area_open(s, APPC_STORE_AREA_PODS, true, err)) < 0)
    return -1;
  if (mkdirat(out->pods_fd, uuid, 0700) < 0)
    return appc_error_make(err, errno, "%s", out->path);
  out->fd = openat(out->pods_fd, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (out->fd < 0 || mkdirat(out->fd, "apps", 0700) < 0) {
    int e = errno;
    remove_quietly(out->pods_fd, uuid);
    return appc_error_make(err, e, "%s", out->path);
  }
  return 0;
}

/* Remove RUNTIME/UUID, renamed away first so that it never looks half
 * gone. */
static int remove_state_dir(int run, const char *base, const char *name, const char *uuid,
                            appc_error_t *err)
{
  char gone[64];

  snprintf(gone, sizeof gone, "%s%s", ACE_REMOVING, uuid);
  if (strcmp(name, gone) != 0 && renameat(run, name, run, gone) < 0)
    return appc_error_make(err, errno, "%s/%s", base, name);
  return appc_remove_tree(run, gone, err);
}

int ace_pod_dir_create(struct appc_store *s, const char *uuid, struct ace_pod_dir *out,
                       appc_error_t *err)
{
  *out = ACE_POD_DIR_INIT;
  snprintf(out->uuid, sizeof out->uuid, "%s", uuid);
  if (make_state_dir(s, uuid, out, err) < 0) {
    ace_pod_dir_close(out);
    return -1;
  }
  if (make_data_dir(s, uuid, out, err) < 0) {
    appc_error_t ignored = NULL;
    remove_state_dir(out->runtime_fd, out->state_path, uuid, uuid, &ignored);
    appc_error_release(&ignored);
    ace_pod_dir_close(out);
    return -1;
  }
  return 0;
}

int ace_pod_dir_write(struct ace_pod_dir *d, const char *name, const char *data, size_t len,
                      appc_error_t *err)
{
  /* The state of a running pod need not survive a crash of the machine
   * (the pod does not either), so not durable: the rename alone keeps
   * readers from ever seeing half a file. */
  if (appc_atomic_write_at(d->state_fd, name, data, len, 0600, 0, err) < 0)
    return appc_error_prefix(err, "%s", d->state_path);
  return 0;
}

int ace_pod_dir_remove(struct ace_pod_dir *d, appc_error_t *err)
{
  int r = 0;

  /* What the apps wrote first: a data directory without its state is a
   * leftover gc removes, never a pod. */
  if (d->fd >= 0)
    r = appc_remove_tree(d->pods_fd, d->uuid, err);
  if (r == 0 && d->state_fd >= 0)
    r = remove_state_dir(d->runtime_fd, d->state_path, d->uuid, d->uuid, err);
  ace_pod_dir_close(d);
  return r;
}

int ace_pod_dir_set_aside(struct ace_pod_dir *d, appc_error_t *err)
{
  char gone[64];

  snprintf(gone, sizeof gone, "%s%s", ACE_REMOVING, d->uuid);
  if (d->fd < 0)
    return 0;
  if (renameat(d->pods_fd, d->uuid, d->pods_fd, gone) < 0)
    return appc_error_make(err, errno, "%s", d->path);
  close(d->fd);
  d->fd = -1;
  return 0;
}

/* The UUID in NAME when NAME is PREFIX followed by a UUID, else NULL. */
static const char *uuid_after(const char *name, const char *prefix)
{
  size_t n = strlen(prefix);

  return strncmp(name, prefix, n) == 0 && is_uuid(name + n) ? name + n : NULL;
}

static bool is_set_aside(const char *name)
{
  return uuid_after(name, ACE_REMOVING) != NULL;
}

void ace_pods_sweep(int pods_fd)
{
  DIR *d = appc_dir_stream(pods_fd);
  struct dirent *de;

  if (d == NULL)
    return;
  while ((de = readdir(d)) != NULL)
    if (is_set_aside(de->d_name)) {
      appc_error_t ignored = NULL;
      appc_remove_tree(pods_fd, de->d_name, &ignored);
      appc_error_release(&ignored);
    }
  closedir(d);
}

int ace_pod_dir_keep(struct ace_pod_dir *d, appc_error_t *err)
{
  static const char *const bulky[] = {"apps", "volumes"};
  int r = 0;

  for (size_t i = 0; r == 0 && d->fd >= 0 && i < sizeof bulky / sizeof bulky[0]; i++)
    if (faccessat(d->fd, bulky[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
      r = appc_remove_tree(d->fd, bulky[i], err);
  if (r < 0)
    appc_error_prefix(err, "%s", d->path);
  /* Nor need its apps' /etc layers stay with its state. */
  if (r == 0 && d->state_fd >= 0 &&
      faccessat(d->state_fd, ACE_POD_ETC_LAYERS, F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
      appc_remove_tree(d->state_fd, ACE_POD_ETC_LAYERS, err) < 0)
    r = appc_error_prefix(err, "%s", d->state_path);
  /* Only a log is kept there. */
  if (r == 0 && d->fd >= 0 && unlinkat(d->pods_fd, d->uuid, AT_REMOVEDIR) < 0 &&
      errno != ENOTEMPTY && errno != EEXIST)
    r = appc_error_make(err, errno, "%s", d->path);
  ace_pod_dir_close(d);
  return r;
}

void ace_pod_dir_close(struct ace_pod_dir *d)
{
  int fds[] = {d->fd, d->pods_fd, d->state_fd, d->runtime_fd, d->lock_fd};

  for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] >= 0)
      close(fds[i]);
  free(d->path);
  free(d->state_path);
  *d = ACE_POD_DIR_INIT;
}

/* ---- state.json ------------------------------------------------------------ */

static struct json_object *app_state_json(const struct appc_ace_app_info *a)
{
  struct json_object *o = json_object_new_object();

  if (o == NULL)
    return NULL;
  json_object_object_add(o, "name", json_object_new_string(a->name));
  json_object_object_add(o, "imageID", json_object_new_string(a->image_id));
  json_object_object_add(o, "exited", json_object_new_boolean(a->exited));
  if (a->exited)
    json_object_object_add(o, "status", json_object_new_int(a->status));
  if (a->exited && a->finished_ns > 0)
    json_object_object_add(o, "finishedNs", json_object_new_int64(a->finished_ns));
  if (a->os_name != NULL)
    json_object_object_add(o, "osName", json_object_new_string(a->os_name));
  if (a->os_version != NULL)
    json_object_object_add(o, "osVersion", json_object_new_string(a->os_version));
  return o;
}

int ace_pod_state_write(struct ace_pod_dir *d, const struct appc_ace_pod_info *info,
                        const char *metadata_url, appc_error_t *err)
{
  struct json_object *o = json_object_new_object();
  struct json_object *apps = json_object_new_array();
  const char *text;
  int r;

  if (o == NULL || apps == NULL) {
    json_object_put(o);
    json_object_put(apps);
    return appc_error_make(err, ENOMEM, "%s/%s", d->state_path, POD_STATE);
  }
  json_object_object_add(o, "uuid", json_object_new_string(info->uuid));
  json_object_object_add(o, "pid", json_object_new_int64(info->pid));
  if (info->pid > 0) {
    if (d->owner_pid != info->pid && ace_proc_start_time(info->pid, &d->owner_start) == 0)
      d->owner_pid = info->pid;
    if (d->owner_pid == info->pid)
      json_object_object_add(o, "pidStart", json_object_new_int64((int64_t) d->owner_start));
  }
  if (info->init_pid > 0) {
    json_object_object_add(o, "initPid", json_object_new_int64(info->init_pid));
    json_object_object_add(o, "initStart", json_object_new_int64((int64_t) info->init_start));
  }
  json_object_object_add(o, "started", json_object_new_int64(info->started.tv_sec));
  json_object_object_add(o, "startedNsec", json_object_new_int64(info->started.tv_nsec));
  if (info->finished.tv_sec != 0) {
    json_object_object_add(o, "finished", json_object_new_int64(info->finished.tv_sec));
    json_object_object_add(o, "finishedNsec", json_object_new_int64(info->finished.tv_nsec));
    if (info->status >= 0)
      json_object_object_add(o, "status", json_object_new_int(info->status));
  }
  json_object_object_add(o, "net", json_object_new_string(info->net));
  json_object_object_add(o, "hostname", json_object_new_string(info->hostname));
  if (info->address != NULL)
    json_object_object_add(o, "address", json_object_new_string(info->address));
  if (info->published != NULL)
    json_object_object_add(o, "published", json_object_new_string(info->published));
  if (info->no_seccomp)
    json_object_object_add(o, "noSeccomp", json_object_new_boolean(true));
  if (metadata_url != NULL && metadata_url[0] != '\0')
    json_object_object_add(o, "metadataURL", json_object_new_string(metadata_url));
  for (size_t i = 0; i < info->n_apps; i++)
    json_object_array_add(apps, app_state_json(&info->apps[i]));
  json_object_object_add(o, "apps", apps);
  text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  r = ace_pod_dir_write(d, POD_STATE, text, strlen(text), err);
  json_object_put(o);
  return r;
}

static char *json_string_dup(struct json_object *o, const char *key)
{
  struct json_object *v;

  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return strdup(json_object_get_string(v));
}

static int64_t json_int(struct json_object *o, const char *key)
{
  struct json_object *v;

  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
    return -1;
  return json_object_get_int64(v);
}

static int parse_apps(struct json_object *arr, struct appc_ace_pod_info *out)
{
  size_t n = json_object_array_length(arr);

  out->apps = calloc(n > 0 ? n : 1, sizeof *out->apps);
  if (out->apps == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    struct json_object *a = json_object_array_get_idx(arr, i);
    struct json_object *v;
    struct appc_ace_app_info *app = &out->apps[out->n_apps++];

    app->name = json_string_dup(a, "name");
    app->image_id = json_string_dup(a, "imageID");
    if (app->name == NULL || app->image_id == NULL)
      return -1;
    app->exited = json_object_object_get_ex(a, "exited", &v) && json_object_get_boolean(v);
    app->status = (int) json_int(a, "status");
    app->finished_ns = app->exited && json_int(a, "finishedNs") > 0 ? json_int(a, "finishedNs") : 0;
    app->os_name = json_string_dup(a, "osName");
    app->os_version = json_string_dup(a, "osVersion");
  }
  return 0;
}

/* Fill OUT from DIRFD/state.json (written by the pod's actool), and, when
 * PID_START is not NULL, that actool's start time (0 when not recorded). */
static int read_state(int dirfd, const char *path, struct appc_ace_pod_info *out,
                      unsigned long long *pid_start, appc_error_t *err)
{
  cleanup_free char *text = NULL;
  struct json_object *o, *apps;
  size_t len;
  int r = -1;

  if (appc_read_file_at(dirfd, POD_STATE, STATE_MAX, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &text,
                        &len, err) < 0)
    return appc_error_prefix(err, "%s", path);
  o = json_tokener_parse(text);
  if (o != NULL && json_object_is_type(o, json_type_object) &&
      json_object_object_get_ex(o, "apps", &apps) && json_object_is_type(apps, json_type_array)) {
    out->pid = (pid_t) json_int(o, "pid");
    if (pid_start != NULL)
      *pid_start = json_int(o, "pidStart") > 0 ? (unsigned long long) json_int(o, "pidStart") : 0;
    out->init_pid = json_int(o, "initPid") > 0 ? (pid_t) json_int(o, "initPid") : 0;
    out->init_start = out->init_pid > 0 ? (unsigned long long) json_int(o, "initStart") : 0;
    out->started.tv_sec = json_int(o, "started");
    out->started.tv_nsec = json_int(o, "startedNsec");
    if (json_int(o, "finished") > 0) {
      out->finished.tv_sec = json_int(o, "finished");
      out->finished.tv_nsec = json_int(o, "finishedNsec") > 0 ? json_int(o, "finishedNsec") : 0;
      int64_t status = json_int(o, "status");
      out->status = status >= 0 && status <= 255 ? (int) status : -1;
    }
    out->net = json_string_dup(o, "net");
    out->hostname = json_string_dup(o, "hostname");
    out->address = json_string_dup(o, "address");
    out->published = json_string_dup(o, "published");
    struct json_object *flag;
    out->no_seccomp = json_object_object_get_ex(o, "noSeccomp", &flag) &&
                      json_object_is_type(flag, json_type_boolean) && json_object_get_boolean(flag);
    if (out->net != NULL && out->hostname != NULL && parse_apps(apps, out) == 0)
      r = 0;
  }
  json_object_put(o);
  if (r < 0)
    appc_error_make(err, 0, "%s/%s: not a pod state written by actool", path, POD_STATE);
  return r;
}

void appc_ace_pod_info_clear(struct appc_ace_pod_info *p)
{
  for (size_t i = 0; i < p->n_apps; i++) {
    free(p->apps[i].name);
    free(p->apps[i].image_id);
    free(p->apps[i].os_name);
    free(p->apps[i].os_version);
  }
  free(p->apps);
  free(p->net);
  free(p->hostname);
  free(p->address);
  free(p->published);
  memset(p, 0, sizeof *p);
}

void appc_ace_pod_infos_free(struct appc_ace_pod_info *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    appc_ace_pod_info_clear(&p[i]);
  free(p);
}

/* ---- finding pods ------------------------------------------------------------ */

/* How a pod's lock is tried: to look (status, list, whether it is dead),
 * shared, so that those who look never take each other for the pod's
 * actool, which holds it exclusively; to take the pod over (gc),
 * exclusively, so that only one does. */
enum pod_lock_mode { POD_LOOK = LOCK_SH, POD_TAKE = LOCK_EX };

/* Is the pod at DIRFD's lock free of its actool?  *LOCK_FD keeps it held
 * (in MODE) when true. */
static int lock_if_abandoned(int dirfd, enum pod_lock_mode mode, bool *abandoned, int *lock_fd)
{
  int fd = openat(dirfd, POD_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

  *abandoned = false;
  if (fd < 0)
    return -1;
  if (flock(fd, (int) mode | LOCK_NB) == 0) {
    *abandoned = true;
    *lock_fd = fd;
    return 0;
  }
  close(fd);
  return errno == EWOULDBLOCK ? 0 : -1;
}

static int pod_info_at(int pods, const char *base, const char *uuid, struct appc_ace_pod_info *out,
                       appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  cleanup_close int lock = -1;
  bool abandoned;
  unsigned long long pid_start = 0;

  if (asprintf(&path, "%s/%s", base, uuid) < 0)
    return appc_error_make(err, ENOMEM, "%s", uuid);
  fd = openat(pods, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || lock_if_abandoned(fd, POD_LOOK, &abandoned, &lock) < 0)
    return appc_error_make(err, errno, "%s", path);
  memset(out, 0, sizeof *out);
  snprintf(out->uuid, sizeof out->uuid, "%s", uuid);
  out->state = abandoned ? APPC_ACE_POD_ABANDONED : APPC_ACE_POD_RUNNING;
  out->status = -1;
  if (read_state(fd, path, out, &pid_start, err) < 0) {
    /* Its actool was killed before it wrote any state: abandoned, all
     * else unknown (gc removes it). */
    bool unwritten = abandoned && *err != NULL && (*err)->errnum == ENOENT;
    appc_ace_pod_info_clear(out);
    if (!unwritten)
      return -1;
    appc_error_release(err);
    memset(out, 0, sizeof *out);
    snprintf(out->uuid, sizeof out->uuid, "%s", uuid);
    out->state = APPC_ACE_POD_ABANDONED;
    out->status = -1;
    return 0;
  }
  /* The lock held, but not by the pod's actool, which has ended (a gc
   * taking the pod over holds it): the pod is not running, and its
   * actool's PID may be another process's, which stop must not signal. */
  if (!abandoned && pid_start != 0 && !ace_proc_alive(out->pid, pid_start))
    abandoned = true;
  /* Nobody holds the lock of an exited pod either: its state says it ended. */
  out->state = !abandoned                  ? APPC_ACE_POD_RUNNING
               : out->finished.tv_sec != 0 ? APPC_ACE_POD_EXITED
                                           : APPC_ACE_POD_ABANDONED;
  /* Its actool has ended (or was killed): its PID may be another's now;
   * 0, as docker and podman show a stopped container's. */
  if (abandoned)
    out->pid = 0;
  /* Nor are its ports published any more (its own table went with its
   * actool), as docker shows a stopped container's ports: none. */
  if (abandoned && out->published != NULL)
    out->published[0] = '\0';
  snprintf(out->uuid, sizeof out->uuid, "%s", uuid);
  return 0;
}

struct list_ctx {
  int pods;
  char *base;
  struct appc_ace_pod_info *items;
  size_t n, cap;
};

static int list_one(const char *name, void *data, appc_error_t *err)
{
  struct list_ctx *c = data;
  appc_error_t ignored = NULL;

  if (!is_uuid(name))
    return 0;
  if (APPC_ARRAY_RESERVE(c->items, c->cap, c->n + 1) < 0)
    return appc_error_make(err, ENOMEM, "listing pods");
  /* A pod that vanished or whose state is unreadable (being created or
   * removed right now) is not listed. */
  if (pod_info_at(c->pods, c->base, name, &c->items[c->n], &ignored) == 0)
    c->n++;
  appc_error_release(&ignored);
  return 0;
}

static int by_start(const void *a, const void *b)
{
  const struct appc_ace_pod_info *x = a, *y = b;

  if (x->started.tv_sec != y->started.tv_sec)
    return x->started.tv_sec < y->started.tv_sec ? -1 : 1;
  if (x->started.tv_nsec != y->started.tv_nsec)
    return x->started.tv_nsec < y->started.tv_nsec ? -1 : 1;
  return strcmp(x->uuid, y->uuid);
}

int appc_ace_list(struct appc_store *s, struct appc_ace_pod_info **out, size_t *n,
                  appc_error_t *err)
{
  struct list_ctx c = {.pods = -1};
  cleanup_close int pods = -1;

  *out = NULL;
  *n = 0;
  if ((pods = ace_pods_runtime_open(s, false, &c.base, err)) < 0)
    return errno == ENOENT && *err == NULL ? 0 : -1;
  c.pods = pods;
  int r = appc_store_each_entry(s, pods, c.base, list_one, &c, err);
  free(c.base);
  if (r < 0) {
    appc_ace_pod_infos_free(c.items, c.n);
    return -1;
  }
  if (c.n > 1)
    qsort(c.items, c.n, sizeof *c.items, by_start);
  *out = c.items;
  *n = c.n;
  return 0;
}

int appc_ace_status(struct appc_store *s, const char *uuid, struct appc_ace_pod_info *out,
                    appc_error_t *err)
{
  struct appc_ace_pod_info *all = NULL;
  size_t n = 0, match = 0, found = 0;

  if (uuid[0] == '\0')
    return appc_error_make(err, 0, "pod \"\": no such pod (an empty UUID names none)");
  if (appc_ace_list(s, &all, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (strncmp(all[i].uuid, uuid, strlen(uuid)) == 0) {
      match++;
      found = i;
    }
  if (match != 1) {
    appc_ace_pod_infos_free(all, n);
    return appc_error_make(err, 0, "pod \"%s\": %s", uuid,
                           match == 0 ? "no such pod (`actool list` lists the pods there are)"
                                      : "ambiguous UUID prefix");
  }
  *out = all[found];
  memset(&all[found], 0, sizeof all[found]);
  appc_ace_pod_infos_free(all, n);
  return 0;
}

/* Read the file NAME (at most MAX bytes) of pod UUID's runtime directory;
 * BASE is that directory's parent, for messages. */
static int read_pod_file(struct appc_store *s, const char *uuid, const char *name, size_t max,
                         char **base, char **text, size_t *len, appc_error_t *err)
{
  cleanup_close int pods = -1;
  cleanup_close int fd = -1;

  if (!is_uuid(uuid))
    return appc_error_tag(err, EINVAL, "pod \"%s\": not a full UUID", uuid);
  if ((pods = ace_pods_runtime_open(s, false, base, err)) < 0)
    return *err != NULL ? -1 : appc_error_make(err, ENOENT, "pod %s: no such pod", uuid);
  fd = openat(pods, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return appc_error_make(err, errno, "pod %s", uuid);
  if (appc_read_file_at(fd, name, max, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, text, len, err) < 0)
    return appc_error_prefix(err, "pod %s: %s/%s", uuid, *base, uuid);
  return 0;
}

int appc_ace_pod_manifest(struct appc_store *s, const char *uuid, struct appc_pod_manifest **out,
                          appc_error_t *err)
{
  cleanup_free char *base = NULL;
  cleanup_free char *text = NULL;
  size_t len = 0;

  *out = NULL;
  if (read_pod_file(s, uuid, POD_MANIFEST, 1 << 20, &base, &text, &len, err) < 0)
    return -1;
  if (appc_pod_manifest_parse(text, len, out, err) < 0)
    return appc_error_prefix(err, "pod %s: %s/%s", uuid, base, uuid);
  return 0;
}

int ace_pod_metadata_url(struct appc_store *s, const char *uuid, char **out, appc_error_t *err)
{
  cleanup_free char *base = NULL;
  cleanup_free char *text = NULL;
  size_t len = 0;

  *out = NULL;
  if (read_pod_file(s, uuid, POD_STATE, STATE_MAX, &base, &text, &len, err) < 0)
    return -1;
  struct json_object *o = json_tokener_parse(text);
  *out = json_string_dup(o, "metadataURL");
  json_object_put(o);
  if (*out == NULL)
    *out = strdup("");
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "pod %s", uuid);
}

/* ---- gc -------------------------------------------------------------------- */

int ace_proc_children(pid_t pid, pid_t *out, size_t max)
{
  char path[64];
  cleanup_free char *list = NULL;
  appc_error_t ignored = NULL;
  size_t n = 0;

  snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int) pid, (int) pid);
  if (appc_read_file_at(AT_FDCWD, path, 1 << 16, 0, &list, NULL, &ignored) < 0) {
    appc_error_release(&ignored);
    return -1;
  }
  for (char *p = list; n < max;) {
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p)
      break;
    if (v > 0)
      out[n++] = (pid_t) v;
    p = end;
  }
  return (int) n;
}

/* PID's state letter (field 3 of /proc/PID/stat) and start time (field 22). */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
  char path[64], buf[1024];
  cleanup_close int fd = -1;
  ssize_t n;
  char *p;

  snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || (n = read(fd, buf, sizeof buf - 1)) <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name may hold anything but ends at the last ')'; the state
   * follows it, and the start time is the 20th field after it. */
  if ((p = strrchr(buf, ')')) == NULL || sscanf(p + 1, " %c", state) != 1)
    return -1;
  for (int field = 2; field < 22; field++)
    if ((p = strchr(p + 1, ' ')) == NULL)
      return -1;
  return sscanf(p, " %llu", start) == 1 ? 0 : -1;
}

int ace_proc_start_time(pid_t pid, unsigned long long *out)
{
  char state;
  return proc_stat(pid, &state, out);
}

/* Whether PID, a zombie thread-group leader, has threads still running
 * (its main thread called pthread_exit): the process has not ended. */
static bool has_other_threads(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int) pid);
  DIR *d = opendir(path);
  struct dirent *e;
  bool others = false;

  while (d != NULL && !others && (e = readdir(d)) != NULL)
    others = e->d_name[0] != '.' && atoi(e->d_name) != pid;
  if (d != NULL)
    closedir(d);
  return others;
}

bool ace_proc_alive(pid_t pid, unsigned long long start)
{
  char state;
  unsigned long long now;
  if (pid <= 0 || proc_stat(pid, &state, &now) < 0 || now != start || state == 'X')
    return false;
  return state != 'Z' || has_other_threads(pid);
}

/* The init of a pod whose actool died, if it survived (ace/run.c makes it
 * die with actool; an actool of an older version did not always): killing
 * it ends the pod's PID namespace, every app with it.  The pidfd pins the
 * process, so the start time read after opening it proves it is the pod's
 * init and not a reuse of its pid. */
static void end_survivor(const struct appc_ace_pod_info *info)
{
  unsigned long long start;
  int pfd;

  if (info->init_pid <= 0)
    return;
  pfd = (int) syscall(SYS_pidfd_open, info->init_pid, 0);
  if (pfd < 0)
    return;
  if (ace_proc_start_time(info->init_pid, &start) == 0 && start == info->init_start &&
      syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0) == 0) {
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    while (poll(&p, 1, 5000) < 0 && errno == EINTR)
      ;
  }
  close(pfd);
}

struct gc_ctx {
  struct appc_store *s;
  int pods;         /* RUNTIME */
  const char *base; /* its path */
  int data;         /* DIR/pods */
  const char *data_base;
  void (*removed)(void *data, const char *uuid);
  void *data_arg;
  struct appc_ace_gc_report *report;
  appc_error_t first;   /* the first pod that could not be removed */
  double grace_seconds; /* exited pods younger than this are kept */
};

/* A pod that could not be removed is reported, and the others are still
 * collected, and the network and user namespaces after them: a tree an
 * app made that one removal cannot take must not keep every later pod. */
static int keep_going(struct gc_ctx *c, int r, appc_error_t *err)
{
  if (r == 0)
    return 0;
  if (c->first == NULL)
    c->first = steal_pointer(err);
  else
    appc_error_release(err);
  return 0;
}

static int gc_one(const char *name, void *data, appc_error_t *err);
static int gc_data_one(const char *name, void *data, appc_error_t *err);

static int gc_one_on(const char *name, void *data, appc_error_t *err)
{
  return keep_going(data, gc_one(name, data, err), err);
}

static int gc_data_one_on(const char *name, void *data, appc_error_t *err)
{
  return keep_going(data, gc_data_one(name, data, err), err);
}

/* The UUID of a leftover of a pod being created or removed when its actool
 * died, else NULL. */
static const char *leftover_uuid(const char *name)
{
  const char *uuid = uuid_after(name, POD_CREATING);

  return uuid != NULL ? uuid : uuid_after(name, ACE_REMOVING);
}

static bool is_leftover(const char *name)
{
  return leftover_uuid(name) != NULL;
}

/* Has RUNTIME a state directory for UUID, under any of its names? */
static bool has_state(int pods, const char *uuid)
{
  static const char *const prefixes[] = {"", POD_CREATING, ACE_REMOVING};
  char name[64];

  if (pods < 0)
    return false;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    snprintf(name, sizeof name, "%s%s", prefixes[i], uuid);
    if (faccessat(pods, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
      return true;
  }
  return false;
}

bool ace_pod_has_state(int root, const char *key, const char *uuid)
{
  cleanup_close int pods = -1;

  if (strchr(key, '/') != NULL || key[0] == '.' || !is_uuid(uuid))
    return false;
  pods = openat(root, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  return pods < 0 ? errno != ENOENT : has_state(pods, uuid);
}

bool ace_pod_is_dead(int root, const char *key, const char *uuid)
{
  static const char *const prefixes[] = {"", POD_CREATING, ACE_REMOVING};
  cleanup_close int pods = -1;
  char name[64];

  if (!ace_pod_has_state(root, key, uuid))
    return true;
  pods = openat(root, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (pods < 0)
    return false;
  for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
    cleanup_close int fd = -1;
    cleanup_close int lock = -1;
    bool abandoned = false;
    snprintf(name, sizeof name, "%s%s", prefixes[i], uuid);
    fd = openat(pods, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ENOENT)
      continue;
    /* No lock yet (or any more): being made or removed, not known dead. */
    if (fd < 0 || lock_if_abandoned(fd, POD_LOOK, &abandoned, &lock) < 0 || !abandoned)
      return false;
  }
  return true;
}

static int remove_data_dir(const struct gc_ctx *c, const char *uuid, appc_error_t *err)
{
  if (c->data < 0 || (faccessat(c->data, uuid, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT))
    return 0;
  return appc_remove_tree(c->data, uuid, err);
}

/* The pod at FD's lock taken over for gc, where its actool has ended but
 * the lock is held all the same: by those who look at the pod (status,
 * list), for a moment each, or by another gc.  Tried again for 200 ms. */
static int take_when_owner_ended(int fd, const char *base, bool *abandoned, int *lock)
{
  struct appc_ace_pod_info info = {0};
  appc_error_t ignored = NULL;
  unsigned long long pid_start = 0;
  bool ended = read_state(fd, base, &info, &pid_start, &ignored) == 0 && pid_start != 0 &&
               !ace_proc_alive(info.pid, pid_start);

  appc_error_release(&ignored);
  appc_ace_pod_info_clear(&info);
  for (int i = 0; ended && !*abandoned && i < 40; i++) {
    struct timespec step = {0, 5 * 1000 * 1000};
    nanosleep(&step, NULL);
    if (lock_if_abandoned(fd, POD_TAKE, abandoned, lock) < 0)
      return -1;
  }
  return ended ? 1 : 0;
}

/* An exited pod that ended less than GRACE seconds ago (gc --grace). */
static bool ended_within(const struct appc_ace_pod_info *info, double grace)
{
  struct timespec now;

  if (info->finished.tv_sec == 0 || grace <= 0 || clock_gettime(CLOCK_REALTIME, &now) < 0)
    return false;
  double age = (double) (now.tv_sec - info->finished.tv_sec) +
               (double) (now.tv_nsec - info->finished.tv_nsec) / 1e9;
  return age < grace;
}

static int gc_one(const char *name, void *data, appc_error_t *err)
{
  struct gc_ctx *c = data;
  const char *left = leftover_uuid(name);
  const char *uuid = left != NULL ? left : name;
  cleanup_close int fd = -1;
  cleanup_close int lock = -1;
  bool abandoned = false;

  if (!is_uuid(uuid))
    return 0;
  fd = openat(c->pods, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "%s/%s", c->base, name);
  if (lock_if_abandoned(fd, POD_TAKE, &abandoned, &lock) < 0) {
    struct stat st;
    if (errno != ENOENT)
      return appc_error_make(err, errno, "%s/%s/%s", c->base, name, POD_LOCK);
    /* No lock file: a pod whose creator died before making it, or one being
     * made right now; only the first kind is old. */
    if (fstat(fd, &st) < 0 || time(NULL) - st.st_mtime < LEFTOVER_AGE)
      return 0;
  } else if (!abandoned && take_when_owner_ended(fd, c->base, &abandoned, &lock) != 0) {
    if (!abandoned)
      return 0; /* another gc has it, or someone looks too long: the next gc */
  } else if (!abandoned) {
    if (!is_leftover(name))
      c->report->running++;
    return 0;
  }
  if (abandoned) {
    struct appc_ace_pod_info info = {0};
    appc_error_t ignored = NULL;
    bool young = false;
    if (read_state(fd, c->base, &info, NULL, &ignored) == 0) {
      young = !is_leftover(name) && ended_within(&info, c->grace_seconds);
      end_survivor(&info);
    }
    appc_error_release(&ignored);
    appc_ace_pod_info_clear(&info);
    if (young) {
      c->report->kept++;
      return 0;
    }
  }
  if (ace_cgroup_remove_pod(NULL, uuid, err) < 0)
    return appc_error_prefix(err, "pod %s", uuid);
  if (remove_data_dir(c, uuid, err) < 0 || remove_state_dir(c->pods, c->base, name, uuid, err) < 0)
    return -1;
  c->report->removed++;
  if (c->removed != NULL && !is_leftover(name))
    c->removed(c->data_arg, uuid);
  return 0;
}

/* DIR/pods/UUID without a state directory: what the apps of a pod wrote
 * before the machine restarted (the state was on a tmpfs), or before its
 * actool died between the two removals.  A directory that holds a lock is
 * a pod of an older actool, which kept its state there: only when that lock
 * is free. */
static int gc_data_one(const char *name, void *data, appc_error_t *err)
{
  struct gc_ctx *c = data;
  cleanup_close int fd = -1;
  cleanup_close int lock = -1;
  bool abandoned = true;
  struct stat st;

  /* Set aside by a pod's end and left by its sweeper (the metadata service
   * removes them at once): an old one is a leftover. */
  if (is_set_aside(name)) {
    if (fstatat(c->data, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
        time(NULL) - st.st_mtime < LEFTOVER_AGE)
      return 0;
    return appc_remove_tree(c->data, name, err);
  }
  if (!is_uuid(name) || has_state(c->pods, name))
    return 0;
  fd = openat(c->data, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "%s/%s", c->data_base, name);
  if (lock_if_abandoned(fd, POD_TAKE, &abandoned, &lock) < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "%s/%s/%s", c->data_base, name, POD_LOCK);
  if (!abandoned)
    return 0;
  if (ace_cgroup_remove_pod(NULL, name, err) < 0)
    return appc_error_prefix(err, "pod %s", name);
  return appc_remove_tree(c->data, name, err);
}

static bool holds_only_store(int dir)
{
  DIR *d = appc_dir_stream(dir);
  struct dirent *e;
  bool only = d != NULL;

  while (only && (e = readdir(d)) != NULL)
    only = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
           strcmp(e->d_name, "store") == 0;
  if (d != NULL)
    closedir(d);
  return only;
}

/* The store's runtime directory once it holds no pod (only the file that
 * names its store): removed, so that stores' directories do not pile up in
 * /run/actool.  Only when no one holds it (make_state_dir holds it shared
 * while it makes a pod's directory there, and the pod's actool while it
 * runs). */
static void remove_runtime_if_unused(struct appc_store *s)
{
  char key[ACE_RUNTIME_KEY_MAX];
  cleanup_close int root = open(ACE_RUNTIME_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_close int run = -1;
  appc_error_t ignored = NULL;

  if (root < 0 || ace_runtime_key(s, key, &ignored) < 0 ||
      (run = openat(root, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0 ||
      flock(run, LOCK_EX | LOCK_NB) < 0) {
    appc_error_release(&ignored);
    return;
  }
  if (!holds_only_store(run))
    return;
  unlinkat(run, "store", 0);
  unlinkat(root, key, AT_REMOVEDIR);
}

/* The runtime directory KEY of ROOT when its store is gone (the path its
 * `store` file names no longer is the directory KEY names: removed, or
 * made anew) and it holds no pod: no gc of that store will ever remove
 * it.  Held exclusively, as remove_runtime_if_unused holds it. */
static void remove_runtime_if_orphaned(int root, const char *key)
{
  cleanup_close int run = openat(root, key, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_free char *path = NULL;
  char now[ACE_RUNTIME_KEY_MAX];
  appc_error_t ignored = NULL;
  size_t len = 0;

  if (run < 0 || flock(run, LOCK_EX | LOCK_NB) < 0 || !holds_only_store(run) ||
      appc_read_file_at(run, "store", PATH_MAX + 1, 0, &path, &len, &ignored) < 0) {
    appc_error_release(&ignored);
    return;
  }
  while (len > 0 && path[len - 1] == '\n')
    path[--len] = '\0';
  if (len == 0 || path[0] != '/' || memchr(path, '\0', len) != NULL)
    return;
  if (runtime_key_of(path, now, &ignored) == 0 && strcmp(now, key) == 0)
    return; /* the store is there: its own gc decides */
  appc_error_release(&ignored);
  unlinkat(run, "store", 0);
  unlinkat(root, key, AT_REMOVEDIR);
}

/* Every store's runtime directory whose store is gone and that holds no
 * pod (remove_runtime_if_orphaned): a store removed with rm -rf leaves one,
 * which only this finds. */
static void remove_orphaned_runtimes(void)
{
  cleanup_close int root = open(ACE_RUNTIME_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  DIR *d = root >= 0 ? appc_dir_stream(root) : NULL;
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL)
    if (is_runtime_key(e->d_name))
      remove_runtime_if_orphaned(root, e->d_name);
  closedir(d);
}

int appc_ace_gc(struct appc_store *s, void (*removed)(void *data, const char *uuid), void *data,
                struct appc_ace_gc_report *report, appc_error_t *err)
{
  const struct appc_ace_gc_options o = {
      .version = APPC_ACE_GC_OPTIONS_VERSION, .removed = removed, .data = data};
  return appc_ace_gc_with(s, &o, report, err);
}

static int gc_store(struct appc_store *s, const struct appc_ace_gc_options *opts,
                    struct appc_ace_gc_report *report, appc_error_t *err)
{
  struct appc_ace_gc_report ignored;
  cleanup_free char *base = NULL;
  cleanup_free char *data_base = appc_store_area_path(s, APPC_STORE_AREA_PODS);
  cleanup_close int pods = -1;
  cleanup_close int data_fd = -1;
  struct gc_ctx c = {.s = s,
                     .removed = opts->removed,
                     .data_arg = opts->data,
                     .report = report ? report : &ignored,
                     .pods = -1,
                     .data = -1,
                     .grace_seconds = opts->grace_seconds};

  memset(c.report, 0, sizeof *c.report);
  if (data_base == NULL)
    return appc_error_make(err, ENOMEM, "pods");
  if ((pods = ace_pods_runtime_open(s, false, &base, err)) < 0 && *err != NULL)
    return -1;
  if ((data_fd = appc_store_area_open(s, APPC_STORE_AREA_PODS, false, err)) < 0 && *err != NULL)
    return -1;
  c.pods = pods;
  c.base = base;
  c.data = data_fd;
  c.data_base = data_base;
  if (pods >= 0 && appc_store_each_entry(s, pods, base, gc_one_on, &c, err) < 0)
    return -1;
  if (data_fd >= 0 && appc_store_each_entry(s, data_fd, data_base, gc_data_one_on, &c, err) < 0)
    return -1;
  if (ace_net_gc(s, err) < 0 || ace_userns_gc(err) < 0) {
    appc_error_release(&c.first);
    return -1;
  }
  if (c.first != NULL) {
    *err = c.first;
    return -1;
  }
  remove_runtime_if_unused(s);
  remove_orphaned_runtimes();
  return 0;
}

int appc_ace_gc_with(struct appc_store *s, const struct appc_ace_gc_options *opts,
                     struct appc_ace_gc_report *report, appc_error_t *err)
{
  static const struct appc_ace_gc_options none = {.version = APPC_ACE_GC_OPTIONS_VERSION};

  if (APPC_ABI_CHECK(opts, appc_ace_gc_options, APPC_ACE_GC_OPTIONS_VERSION, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &none;
  if (!(opts->grace_seconds >= 0))
    return appc_error_make(err, EINVAL, "gc: a grace period of %g seconds", opts->grace_seconds);
  return gc_store(s, opts, report, err);
}
