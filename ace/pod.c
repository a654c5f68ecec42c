/* SPDX-License-Identifier: Apache-2.0 */
/* The pods of a store: DIR/pods/UUID/, one directory per pod that runs or
 * whose actool died without cleaning up.
 *
 * A pod directory is made under a temporary name with its `lock` already
 * held (flock, exclusive) by the actool that runs it, then renamed into
 * place, so every visible pod either has a live owner or is abandoned: a
 * free lock is how list tells them apart and how gc knows it may remove one.
 * Removal renames the directory away first, so it never looks half gone. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/array.h"
#include "appc/ace.h"
#include "ace/internal.h"
#include "ace/pod.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "appc/store.h"
#include "appc/types.h"

#define POD_LOCK "lock"
#define POD_STATE "state.json"
#define STATE_MAX (1 << 20)
#define LEFTOVER_AGE 60 /* seconds */

int ace_pod_dir_create(struct appc_store *s, const char *uuid, struct ace_pod_dir *out,
                       appc_error_t *err)
{
  char tmp[64];
  cleanup_close int pods = -1;
  cleanup_close int fd = -1;
  cleanup_close int lock = -1;
  cleanup_free char *base = appc_store_area_path(s, APPC_STORE_AREA_PODS);

  *out = (struct ace_pod_dir){.fd = -1, .lock_fd = -1, .pods_fd = -1};
  if (base == NULL)
    return appc_error_make(err, ENOMEM, "%s", uuid);
  if ((pods = appc_store_area_open(s, APPC_STORE_AREA_PODS, true, err)) < 0)
    return -1;
  snprintf(tmp, sizeof tmp, ".creating-%s", uuid);
  if (mkdirat(pods, tmp, 0700) < 0)
    return appc_error_make(err, errno, "%s/%s", base, tmp);
  fd = openat(pods, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0)
    lock = openat(fd, POD_LOCK, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0 || mkdirat(fd, "apps", 0700) < 0 ||
      renameat(pods, tmp, pods, uuid) < 0) {
    int e = errno;
    appc_remove_tree(pods, tmp, &(appc_error_t){NULL});
    return appc_error_make(err, e, "%s/%s", base, uuid);
  }
  if (asprintf(&out->path, "%s/%s", base, uuid) < 0) {
    out->path = NULL;
    appc_remove_tree(pods, uuid, &(appc_error_t){NULL});
    return appc_error_make(err, ENOMEM, "%s", uuid);
  }
  snprintf(out->uuid, sizeof out->uuid, "%s", uuid);
  out->pods_fd = steal_fd(&pods);
  out->fd = steal_fd(&fd);
  out->lock_fd = steal_fd(&lock);
  return 0;
}

int ace_pod_dir_write(struct ace_pod_dir *d, const char *name, const char *data, size_t len,
                      appc_error_t *err)
{
  /* The state of a running pod need not survive a crash of the machine
   * (the pod does not either), so not durable: the rename alone keeps
   * readers from ever seeing half a file. */
  if (appc_atomic_write_at(d->fd, name, data, len, 0600, 0, err) < 0)
    return appc_error_prefix(err, "%s", d->path);
  return 0;
}

int ace_pod_dir_remove(struct ace_pod_dir *d, appc_error_t *err)
{
  char gone[64];
  int r = 0;

  if (d->fd < 0)
    return 0;
  snprintf(gone, sizeof gone, ".removing-%s", d->uuid);
  if (renameat(d->pods_fd, d->uuid, d->pods_fd, gone) < 0)
    r = appc_error_make(err, errno, "%s", d->path);
  else
    r = appc_remove_tree(d->pods_fd, gone, err);
  ace_pod_dir_close(d);
  return r;
}

int ace_pod_dir_keep(struct ace_pod_dir *d, appc_error_t *err)
{
  static const char *const bulky[] = {"apps", "volumes"};
  int r = 0;

  for (size_t i = 0; r == 0 && i < sizeof bulky / sizeof bulky[0]; i++)
    if (faccessat(d->fd, bulky[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
      r = appc_remove_tree(d->fd, bulky[i], err);
  if (r < 0)
    appc_error_prefix(err, "%s", d->path);
  ace_pod_dir_close(d);
  return r;
}

void ace_pod_dir_close(struct ace_pod_dir *d)
{
  if (d->fd >= 0)
    close(d->fd);
  if (d->lock_fd >= 0)
    close(d->lock_fd);
  if (d->pods_fd >= 0)
    close(d->pods_fd);
  free(d->path);
  *d = (struct ace_pod_dir){.fd = -1, .lock_fd = -1, .pods_fd = -1};
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
  if (a->os_name != NULL)
    json_object_object_add(o, "osName", json_object_new_string(a->os_name));
  if (a->os_version != NULL)
    json_object_object_add(o, "osVersion", json_object_new_string(a->os_version));
  return o;
}

int ace_pod_state_write(struct ace_pod_dir *d, const struct appc_ace_pod_info *info,
                        appc_error_t *err)
{
  struct json_object *o = json_object_new_object();
  struct json_object *apps = json_object_new_array();
  const char *text;
  int r;

  if (o == NULL || apps == NULL) {
    json_object_put(o);
    json_object_put(apps);
    return appc_error_make(err, ENOMEM, "%s/%s", d->path, POD_STATE);
  }
  json_object_object_add(o, "uuid", json_object_new_string(info->uuid));
  json_object_object_add(o, "pid", json_object_new_int64(info->pid));
  if (info->init_pid > 0) {
    json_object_object_add(o, "initPid", json_object_new_int64(info->init_pid));
    json_object_object_add(o, "initStart", json_object_new_int64((int64_t) info->init_start));
  }
  json_object_object_add(o, "started", json_object_new_int64(info->started.tv_sec));
  json_object_object_add(o, "startedNsec", json_object_new_int64(info->started.tv_nsec));
  if (info->finished.tv_sec != 0) {
    json_object_object_add(o, "finished", json_object_new_int64(info->finished.tv_sec));
    json_object_object_add(o, "finishedNsec", json_object_new_int64(info->finished.tv_nsec));
  }
  json_object_object_add(o, "net", json_object_new_string(info->net));
  json_object_object_add(o, "hostname", json_object_new_string(info->hostname));
  if (info->address != NULL)
    json_object_object_add(o, "address", json_object_new_string(info->address));
  if (info->published != NULL)
    json_object_object_add(o, "published", json_object_new_string(info->published));
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
    app->os_name = json_string_dup(a, "osName");
    app->os_version = json_string_dup(a, "osVersion");
  }
  return 0;
}

/* Fill OUT from DIRFD/state.json (written by the pod's actool). */
static int read_state(int dirfd, const char *path, struct appc_ace_pod_info *out, appc_error_t *err)
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
    out->init_pid = json_int(o, "initPid") > 0 ? (pid_t) json_int(o, "initPid") : 0;
    out->init_start = out->init_pid > 0 ? (unsigned long long) json_int(o, "initStart") : 0;
    out->started.tv_sec = json_int(o, "started");
    out->started.tv_nsec = json_int(o, "startedNsec");
    if (json_int(o, "finished") > 0) {
      out->finished.tv_sec = json_int(o, "finished");
      out->finished.tv_nsec = json_int(o, "finishedNsec") > 0 ? json_int(o, "finishedNsec") : 0;
    }
    out->net = json_string_dup(o, "net");
    out->hostname = json_string_dup(o, "hostname");
    out->address = json_string_dup(o, "address");
    out->published = json_string_dup(o, "published");
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

static bool is_uuid(const char *s)
{
  appc_error_t e = NULL;
  bool ok = appc_validate_uuid(s, &e) == 0 && strlen(s) == APPC_UUID_LEN;

  appc_error_release(&e);
  return ok;
}

/* Is the pod at DIRFD's lock free?  *LOCK_FD keeps it held when true. */
static int lock_if_abandoned(int dirfd, bool *abandoned, int *lock_fd)
{
  int fd = openat(dirfd, POD_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

  *abandoned = false;
  if (fd < 0)
    return -1;
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
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

  if (asprintf(&path, "%s/%s", base, uuid) < 0)
    return appc_error_make(err, ENOMEM, "%s", uuid);
  fd = openat(pods, uuid, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || lock_if_abandoned(fd, &abandoned, &lock) < 0)
    return appc_error_make(err, errno, "%s", path);
  memset(out, 0, sizeof *out);
  snprintf(out->uuid, sizeof out->uuid, "%s", uuid);
  out->state = abandoned ? APPC_ACE_POD_ABANDONED : APPC_ACE_POD_RUNNING;
  if (read_state(fd, path, out, err) < 0) {
    appc_ace_pod_info_clear(out);
    return -1;
  }
  /* Nobody holds the lock of an exited pod either: its state says it ended. */
  out->state = !abandoned                  ? APPC_ACE_POD_RUNNING
               : out->finished.tv_sec != 0 ? APPC_ACE_POD_EXITED
                                           : APPC_ACE_POD_ABANDONED;
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
  if ((pods = appc_store_area_open(s, APPC_STORE_AREA_PODS, false, err)) < 0)
    return errno == ENOENT && *err == NULL ? 0 : -1;
  c.pods = pods;
  if ((c.base = appc_store_area_path(s, APPC_STORE_AREA_PODS)) == NULL)
    return appc_error_make(err, ENOMEM, "listing pods");
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

  if (appc_ace_list(s, &all, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (strncmp(all[i].uuid, uuid, strlen(uuid)) == 0) {
      match++;
      found = i;
    }
  if (match != 1 || uuid[0] == '\0') {
    appc_ace_pod_infos_free(all, n);
    return appc_error_make(err, 0, "pod \"%s\": %s", uuid,
                           match == 0 ? "no such pod (exited pods are removed)"
                                      : "ambiguous UUID prefix");
  }
  *out = all[found];
  memset(&all[found], 0, sizeof all[found]);
  appc_ace_pod_infos_free(all, n);
  return 0;
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

int ace_proc_start_time(pid_t pid, unsigned long long *out)
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
  /* The command name may hold anything but ends at the last ')'; the start
   * time is field 22, the 20th after it. */
  if ((p = strrchr(buf, ')')) == NULL)
    return -1;
  for (int field = 2; field < 22; field++)
    if ((p = strchr(p + 1, ' ')) == NULL)
      return -1;
  return sscanf(p, " %llu", out) == 1 ? 0 : -1;
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
  int pods;
  const char *base;
  void (*removed)(void *data, const char *uuid);
  void *data;
  struct appc_ace_gc_report *report;
};

/* Leftovers of a pod being created or removed when its actool died. */
static bool is_leftover(const char *name)
{
  return (strncmp(name, ".creating-", 10) == 0 && is_uuid(name + 10)) ||
         (strncmp(name, ".removing-", 10) == 0 && is_uuid(name + 10));
}

/* A pod whose directory is gone (gc removed it, or it ended): its network
 * lease is a leftover. */
static bool pod_is_gone(void *data, const char *uuid)
{
  const struct gc_ctx *c = data;

  return faccessat(c->pods, uuid, F_OK, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT;
}

static int gc_one(const char *name, void *data, appc_error_t *err)
{
  struct gc_ctx *c = data;
  const char *uuid = is_leftover(name) ? name + 10 : name;
  cleanup_close int fd = -1;
  cleanup_close int lock = -1;
  bool abandoned = false;
  char gone[64];

  if (!is_uuid(uuid))
    return 0;
  fd = openat(c->pods, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "%s/%s", c->base, name);
  if (lock_if_abandoned(fd, &abandoned, &lock) < 0) {
    struct stat st;
    if (errno != ENOENT)
      return appc_error_make(err, errno, "%s/%s/%s", c->base, name, POD_LOCK);
    /* No lock file: a pod whose creator died before making it, or one being
     * made right now; only the first kind is old. */
    if (fstat(fd, &st) < 0 || time(NULL) - st.st_mtime < LEFTOVER_AGE)
      return 0;
  } else if (!abandoned) {
    if (!is_leftover(name))
      c->report->running++;
    return 0;
  } else {
    struct appc_ace_pod_info info = {0};
    appc_error_t ignored = NULL;
    if (read_state(fd, c->base, &info, &ignored) == 0)
      end_survivor(&info);
    appc_error_release(&ignored);
    appc_ace_pod_info_clear(&info);
  }
  if (ace_cgroup_remove_pod(NULL, uuid, err) < 0)
    return appc_error_prefix(err, "pod %s", uuid);
  snprintf(gone, sizeof gone, ".removing-%s", uuid);
  if (strcmp(name, gone) != 0 && renameat(c->pods, name, c->pods, gone) < 0)
    return appc_error_make(err, errno, "%s/%s", c->base, name);
  if (appc_remove_tree(c->pods, gone, err) < 0)
    return -1;
  c->report->removed++;
  if (c->removed != NULL && !is_leftover(name))
    c->removed(c->data, uuid);
  return 0;
}

int appc_ace_gc(struct appc_store *s, void (*removed)(void *data, const char *uuid), void *data,
                struct appc_ace_gc_report *report, appc_error_t *err)
{
  struct appc_ace_gc_report ignored;
  cleanup_free char *base = NULL;
  cleanup_close int pods = -1;
  struct gc_ctx c = {
      .s = s, .removed = removed, .data = data, .report = report ? report : &ignored};

  memset(c.report, 0, sizeof *c.report);
  if ((pods = appc_store_area_open(s, APPC_STORE_AREA_PODS, false, err)) < 0)
    return errno == ENOENT && *err == NULL ? 0 : -1;
  if ((base = appc_store_area_path(s, APPC_STORE_AREA_PODS)) == NULL)
    return appc_error_make(err, ENOMEM, "pods");
  c.pods = pods;
  c.base = base;
  if (appc_store_each_entry(s, pods, base, gc_one, &c, err) < 0)
    return -1;
  return ace_net_gc(s, pod_is_gone, &c, err) < 0 ? -1 : ace_userns_gc(err);
}
