/* SPDX-License-Identifier: Apache-2.0 */
/* A pod manifest from `actool run`'s command line: images with per-app
 * overrides, volumes and mounts in the reference's "key=value,..." syntax,
 * environment assignments. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/abi.h"
#include "common/array.h"
#include "appc/ace.h"
#include "ace/internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "schema/json.h"
#include "appc/schema.h"
#include "appc/types.h"
#include "common/utf8.h"

static int kv_append(struct appc_kv_list *l, const char *name, size_t name_len, const char *value)
{
  if (APPC_ARRAY_EXTEND(l->items, l->len, 1) < 0)
    return -1;
  struct appc_kv *items = l->items;
  items[l->len].name = strndup(name, name_len);
  items[l->len].value = strdup(value);
  if (items[l->len].name == NULL || items[l->len].value == NULL) {
    free(items[l->len].name);
    free(items[l->len].value);
    return -1;
  }
  l->len++;
  return 0;
}

int appc_ace_env_add(struct appc_kv_list *env, const char *assignment, appc_error_t *err)
{
  const char *eq = strchr(assignment, '=');
  cleanup_free char *name = NULL;

  if (eq == NULL)
    return appc_error_make(err, 0, "environment \"%s\": not KEY=VALUE", assignment);
  name = strndup(assignment, (size_t) (eq - assignment));
  if (name == NULL)
    return appc_error_make(err, ENOMEM, "environment");
  if (appc_validate_env_name(name, err) < 0)
    return appc_error_prefix(err, "environment");
  /* the pod manifest holds it as a JSON string */
  if (!appc_utf8_valid(eq + 1))
    return appc_error_make(err, 0, "environment %s: the value is not valid UTF-8", name);
  /* A later assignment of the same name wins, as in a shell. */
  for (size_t i = 0; i < env->len; i++)
    if (strcmp(env->items[i].name, name) == 0) {
      char *v = strdup(eq + 1);
      if (v == NULL)
        return appc_error_make(err, ENOMEM, "environment");
      free(env->items[i].value);
      env->items[i].value = v;
      return 0;
    }
  if (kv_append(env, assignment, (size_t) (eq - assignment), eq + 1) < 0)
    return appc_error_make(err, ENOMEM, "environment");
  return 0;
}

struct notify_bridge {
  appc_ace_notify_fn fn;
  void *data;
};

static void bridge_note(void *data, enum ace_note_level level, const char *msg)
{
  const struct notify_bridge *b = data;

  if (b->fn != NULL)
    b->fn(b->data, level == ACE_NOTE_WARN, msg);
}

int appc_ace_env_file(const char *path, struct appc_kv_list *env, appc_ace_notify_fn notify,
                      void *notify_data, appc_error_t *err)
{
  struct appc_kv_list parsed = {0};
  struct notify_bridge b = {notify, notify_data};
  struct ace_notes notes = {.fn = bridge_note, .data = &b};
  int r = ace_env_file_parse(path, &parsed, &notes, err);

  for (size_t i = 0; r == 0 && i < parsed.len; i++) {
    cleanup_free char *a = NULL;
    if (asprintf(&a, "%s=%s", parsed.items[i].name, parsed.items[i].value) < 0) {
      a = NULL;
      r = appc_error_make(err, ENOMEM, "%s", path);
    } else {
      if ((r = appc_ace_env_add(env, a, err)) < 0)
        appc_error_prefix(err, "%s", path);
    }
  }
  appc_kv_list_clear(&parsed);
  return r;
}

/* ---- "key=value,..." options ------------------------------------------------ */

/* Split S at commas into key=value pairs; the first item may be a bare
 * value standing for FIRST_KEY ("NAME,kind=host" for --volume). */
static int parse_pairs(const char *s, const char *first_key, struct appc_kv_list *out,
                       const char *what, appc_error_t *err)
{
  cleanup_free char *copy = strdup(s);
  char *save = NULL;
  bool first = true;

  if (copy == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    int r;
    if (eq == NULL && first && first_key != NULL)
      r = kv_append(out, first_key, strlen(first_key), tok);
    else if (eq == NULL || eq == tok)
      return appc_error_make(err, 0, "%s \"%s\": \"%s\" is not KEY=VALUE", what, s, tok);
    else
      r = kv_append(out, tok, (size_t) (eq - tok), eq + 1);
    if (r < 0)
      return appc_error_make(err, ENOMEM, "%s", what);
    for (size_t i = 0; i + 1 < out->len; i++)
      if (strcmp(out->items[i].name, out->items[out->len - 1].name) == 0)
        return appc_error_make(err, 0, "%s \"%s\": \"%s\" is given twice", what, s,
                               out->items[i].name);
    first = false;
  }
  return 0;
}

static int parse_bool(const char *v, enum appc_tristate *out)
{
  if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
    *out = APPC_TRUE;
  else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
    *out = APPC_FALSE;
  else
    return -1;
  return 0;
}

static int parse_id(const char *v, int64_t *out)
{
  char *end;
  long long n;

  errno = 0;
  n = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || n < 0 || n > 4294967294LL)
    return -1;
  *out = n;
  return 0;
}

static int volume_field(struct appc_volume *v, const struct appc_kv *kv, const char *s,
                        appc_error_t *err)
{
  const char *k = kv->name, *val = kv->value;
  int bad = 0;

  if (strcmp(k, "name") == 0)
    bad = (v->name = strdup(val)) == NULL;
  else if (strcmp(k, "kind") == 0)
    bad = (v->kind = strdup(val)) == NULL;
  else if (strcmp(k, "source") == 0)
    bad = (v->source = strdup(val)) == NULL;
  else if (strcmp(k, "readOnly") == 0)
    bad = parse_bool(val, &v->read_only);
  else if (strcmp(k, "recursive") == 0)
    bad = parse_bool(val, &v->recursive);
  else if (strcmp(k, "mode") == 0)
    bad = (v->mode = strdup(val)) == NULL;
  else if (strcmp(k, "uid") == 0)
    bad = parse_id(val, &v->uid) < 0 || !(v->has_uid = true);
  else if (strcmp(k, "gid") == 0)
    bad = parse_id(val, &v->gid) < 0 || !(v->has_gid = true);
  else
    return appc_error_make(err, 0, "volume \"%s\": unknown parameter \"%s\"", s, k);
  if (bad)
    return appc_error_make(err, 0, "volume \"%s\": bad value \"%s\" for %s", s, val, k);
  return 0;
}

static void volume_clear(struct appc_volume *v)
{
  free(v->name);
  free(v->kind);
  free(v->source);
  free(v->mode);
  memset(v, 0, sizeof *v);
}

int appc_ace_volume_parse(const char *s, struct appc_volume *v, appc_error_t *err)
{
  struct appc_kv_list kv = {0};
  int r = parse_pairs(s, "name", &kv, "volume", err);

  *v = (struct appc_volume){.read_only = APPC_UNSET, .recursive = APPC_UNSET};
  for (size_t i = 0; r == 0 && i < kv.len; i++)
    r = volume_field(v, &kv.items[i], s, err);
  appc_kv_list_clear(&kv);
  if (r == 0 && (v->name == NULL || v->kind == NULL))
    r = appc_error_make(err, 0, "volume \"%s\": needs a name and kind=host|empty", s);
  /* The name is the pod's volumes/NAME: "../x" would be a directory of
   * the host's, made and mounted into the pod. */
  if (r == 0 && appc_validate_acname(v->name, err) < 0)
    r = appc_error_prefix(err, "volume \"%s\": name", s);
  if (r == 0 && v->source == NULL && (v->source = strdup("")) == NULL)
    r = appc_error_make(err, ENOMEM, "volume");
  if (r == 0 && strcmp(v->kind, "empty") == 0) {
    /* The defaults the reference gives empty volumes. */
    if (v->mode == NULL && (v->mode = strdup("0755")) == NULL)
      r = appc_error_make(err, ENOMEM, "volume");
    v->has_uid = v->has_gid = true;
  }
  if (r == 0 && appc_validate_volume(v, "volume", err) < 0)
    r = appc_error_prefix(err, "\"%s\"", s);
  if (r < 0)
    volume_clear(v);
  return r;
}

static int parse_mount(const char *s, struct appc_mount *m, appc_error_t *err)
{
  struct appc_kv_list kv = {0};
  int r = parse_pairs(s, NULL, &kv, "mount", err);

  memset(m, 0, sizeof *m);
  for (size_t i = 0; r == 0 && i < kv.len; i++) {
    char **slot = strcmp(kv.items[i].name, "volume") == 0   ? &m->volume
                  : strcmp(kv.items[i].name, "target") == 0 ? &m->path
                                                            : NULL;
    if (slot == NULL)
      r = appc_error_make(err, 0, "mount \"%s\": unknown parameter \"%s\"", s, kv.items[i].name);
    else if ((*slot = strdup(kv.items[i].value)) == NULL)
      r = appc_error_make(err, ENOMEM, "mount");
  }
  appc_kv_list_clear(&kv);
  if (r == 0 && (m->volume == NULL || m->path == NULL))
    r = appc_error_make(err, 0, "mount \"%s\": needs volume=NAME,target=PATH", s);
  if (r == 0 && appc_validate_acname(m->volume, err) < 0)
    r = appc_error_prefix(err, "mount \"%s\": volume", s);
  if (r < 0) {
    free(m->volume);
    free(m->path);
    memset(m, 0, sizeof *m);
  }
  return r;
}

int ace_publish_parse(const char *spec, char name[128], unsigned long *port, appc_error_t *err)
{
  const char *colon = strrchr(spec, ':');
  char *end = NULL;

  *port = colon != NULL ? strtoul(colon + 1, &end, 10) : 0;
  if (colon == NULL || colon == spec || colon - spec >= 128 || colon[1] == '\0' || *end != '\0' ||
      colon[1] < '0' || colon[1] > '9')
    return appc_error_tag(err, EINVAL, "published port \"%s\": not NAME:HOSTPORT", spec);
  if (*port == 0 || *port > 65535)
    return appc_error_tag(err, EINVAL, "published port \"%s\": host port %s is not from 1 to 65535",
                          spec, colon + 1);
  snprintf(name, 128, "%.*s", (int) (colon - spec), spec);
  return 0;
}

static int check_app_request(const struct appc_ace_app_request *q, appc_error_t *err)
{
  struct appc_kv_list env = {0};
  int r = 0;

  for (size_t i = 0; r == 0 && i < q->n_mounts; i++) {
    struct appc_mount m;
    if ((r = parse_mount(q->mounts[i], &m, err)) == 0) {
      free(m.volume);
      free(m.path);
    }
  }
  for (size_t i = 0; r == 0 && i < q->n_env; i++)
    r = appc_ace_env_add(&env, q->env[i], err);
  appc_kv_list_clear(&env);
  return r;
}

/* What sethostname() takes (HOST_NAME_MAX) and RFC 1123 allows: checked
 * before anything is made, rather than failing in the pod's init. */
#define HOSTNAME_MAX 64
#define HOSTNAME_LABEL_MAX 63
static bool valid_hostname(const char *h)
{
  size_t len = strlen(h), label = 0;

  if (len == 0 || len > HOSTNAME_MAX)
    return false;
  for (size_t i = 0; i <= len; i++) {
    char c = h[i];
    if (c == '.' || c == '\0') {
      if (label == 0 || label > HOSTNAME_LABEL_MAX || h[i - 1] == '-')
        return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c == '-' && label > 0)) {
      label++;
    } else {
      return false;
    }
  }
  return true;
}

int ace_hostname_check(const char *h, appc_error_t *err)
{
  if (valid_hostname(h))
    return 0;
  return appc_error_make(err, 0,
                         "hostname \"%s\": not a host name (RFC 1123: labels of letters, "
                         "digits and '-', not at either end, joined by '.'; %d characters "
                         "at most)",
                         h, HOSTNAME_MAX);
}

char *ace_hostname_of_app(const char *app_name)
{
  /* an AC Name (letters, digits, '-' between them) is one label */
  size_t n = strnlen(app_name, HOSTNAME_LABEL_MAX);
  while (n > 0 && app_name[n - 1] == '-')
    n--;
  char *h = n > 0 ? strndup(app_name, n) : strdup("app");
  if (h != NULL && !valid_hostname(h)) {
    free(h);
    h = strdup("app");
  }
  return h;
}

int ace_options_check(const struct appc_ace_options *o, appc_error_t *err)
{
  static const struct appc_abi_member members[] = {
      APPC_ABI_MEMBER(appc_ace_options, keep_exited, 2),
      APPC_ABI_MEMBER(appc_ace_options, rootfs_dir, 3),
      APPC_ABI_MEMBER(appc_ace_options, changes_dir, 3),
      APPC_ABI_MEMBER(appc_ace_options, image_manifest, 3),
      APPC_ABI_MEMBER(appc_ace_options, publish, 3),
      APPC_ABI_MEMBER(appc_ace_options, n_publish, 3),
      APPC_ABI_MEMBER(appc_ace_options, devices, 4),
      APPC_ABI_MEMBER(appc_ace_options, n_devices, 4),
      APPC_ABI_MEMBER(appc_ace_options, private_users, 4),
      APPC_ABI_MEMBER(appc_ace_options, private_users_ownership, 4),
      APPC_ABI_MEMBER(appc_ace_options, allow_caps, 5),
      APPC_ABI_MEMBER(appc_ace_options, n_allow_caps, 5),
      APPC_ABI_MEMBER(appc_ace_options, no_seccomp, 6),
      APPC_ABI_MEMBER(appc_ace_options, post_stop_timeout_ms, 7),
  };
  return APPC_ABI_CHECK_MEMBERS(o, appc_ace_options, APPC_ACE_OPTIONS_VERSION, members, err);
}

int appc_ace_check_syntax(const struct appc_ace_options *o, const struct appc_ace_app_request *apps,
                          size_t n_apps, const char *const *volumes, size_t n_volumes,
                          appc_error_t *err)
{
  struct ace_userns_range range;

  for (size_t i = 0; i < n_volumes; i++) {
    struct appc_volume v;
    if (appc_ace_volume_parse(volumes[i], &v, err) < 0)
      return -1;
    volume_clear(&v);
  }
  for (size_t i = 0; i < n_apps; i++)
    if (check_app_request(&apps[i], err) < 0)
      return -1;
  if (o == NULL)
    return 0;
  if (ace_options_check(o, err) < 0)
    return -1;
  for (size_t i = 0; o->version >= 3 && i < o->n_publish; i++) {
    char name[128];
    unsigned long port;
    if (ace_publish_parse(o->publish[i], name, &port, err) < 0)
      return -1;
  }
  for (size_t i = 0; o->version >= 4 && i < o->n_devices; i++)
    if (ace_device_check_syntax(o->devices[i], err) < 0)
      return -1;
  uint64_t caps;
  if (o->version >= 5 && ace_caps_parse(o->allow_caps, o->n_allow_caps, &caps, err) < 0)
    return -1;
  if (o->version >= 4 && o->private_users != NULL &&
      ace_userns_parse(o->private_users, &range, err) < 0)
    return -1;
  if (o->hostname != NULL && ace_hostname_check(o->hostname, err) < 0)
    return -1;
  return 0;
}

/* ---- building the pod ---------------------------------------------------------- */

static int set_string(char **slot, const char *value, appc_error_t *err)
{
  char *v = strdup(value);

  if (v == NULL)
    return appc_error_make(err, ENOMEM, "%s", value);
  free(*slot);
  *slot = v;
  return 0;
}

/* --exec replaces the image's command; arguments after "--" are appended
 * to it (rkt's behaviour). */
static int override_exec(struct appc_app *app, const struct appc_ace_app_request *q,
                         appc_error_t *err)
{
  struct appc_string_list *e = &app->exec;
  size_t keep = q->exec != NULL ? 0 : e->len;
  char **items;

  /* Drop the replaced words before shrinking the array that holds them. */
  for (size_t i = keep; i < e->len; i++)
    free(e->items[i]);
  e->len = keep;
  if (APPC_ARRAY_EXTEND(e->items, keep, 1 + q->n_args + 1) < 0)
    return appc_error_make(err, ENOMEM, "exec");
  items = e->items;
  if (q->exec != NULL && (items[e->len++] = strdup(q->exec)) == NULL)
    return appc_error_make(err, ENOMEM, "exec");
  for (size_t i = 0; i < q->n_args; i++)
    if ((items[e->len++] = strdup(q->args[i])) == NULL)
      return appc_error_make(err, ENOMEM, "exec");
  items[e->len] = NULL;
  if (e->len == 0)
    /* ENOEXEC: a command line adds how to give one. */
    return appc_error_tag(err, ENOEXEC, "app %s: no command to run (the image has none)",
                          q->image_id);
  return 0;
}

static int apply_overrides(struct appc_runtime_app *ra, const struct appc_ace_app_request *q,
                           const struct appc_kv_list *env, appc_error_t *err)
{
  bool any = q->exec != NULL || q->n_args > 0 || q->user != NULL || q->group != NULL ||
             q->n_env > 0 || (env != NULL && env->len > 0);

  if (!any)
    return 0;
  if (ra->app == NULL) {
    /* An image without an app, given a command: a fresh app running as
     * root, as an image author would write one. */
    ra->app = calloc(1, sizeof *ra->app);
    if (ra->app == NULL || (ra->app->user = strdup("0")) == NULL ||
        (ra->app->group = strdup("0")) == NULL || (ra->app->working_directory = strdup("")) == NULL)
      return appc_error_make(err, ENOMEM, "app");
  }
  if ((q->exec != NULL || q->n_args > 0) && override_exec(ra->app, q, err) < 0)
    return -1;
  if (q->user != NULL && set_string(&ra->app->user, q->user, err) < 0)
    return -1;
  if (q->group != NULL && set_string(&ra->app->group, q->group, err) < 0)
    return -1;
  for (size_t i = 0; env != NULL && i < env->len; i++) {
    cleanup_free char *a = NULL;
    if (asprintf(&a, "%s=%s", env->items[i].name, env->items[i].value) < 0) {
      a = NULL;
      return appc_error_make(err, ENOMEM, "environment");
    }
    if (appc_ace_env_add(&ra->app->environment, a, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < q->n_env; i++)
    if (appc_ace_env_add(&ra->app->environment, q->env[i], err) < 0)
      return -1;
  return 0;
}

static int build_app(struct appc_runtime_app *ra, const struct appc_ace_app_request *q,
                     appc_error_t *err)
{
  ra->read_only_root_fs = false;
  if ((ra->image.id = strdup(q->image_id)) == NULL)
    return appc_error_make(err, ENOMEM, "apps");
  if (q->name != NULL && (ra->name = strdup(q->name)) == NULL)
    return appc_error_make(err, ENOMEM, "apps");
  if (q->n_mounts > 0 && (ra->mounts = calloc(q->n_mounts, sizeof *ra->mounts)) == NULL)
    return appc_error_make(err, ENOMEM, "apps");
  for (size_t j = 0; j < q->n_mounts; j++) {
    if (parse_mount(q->mounts[j], &ra->mounts[j], err) < 0)
      return -1;
    ra->n_mounts++;
  }
  return 0;
}

int appc_ace_pod_build(struct appc_store *s, const struct appc_ace_app_request *apps, size_t n,
                       const char *const *volumes, size_t n_volumes, const struct appc_kv_list *env,
                       struct appc_pod_manifest **out, appc_error_t *err)
{
  struct appc_pod_manifest *pod = calloc(1, sizeof *pod);
  int r = 0;

  *out = NULL;
  if (pod == NULL || (pod->ac_kind = strdup("PodManifest")) == NULL ||
      (pod->ac_version = strdup("0.8.11")) == NULL ||
      (pod->apps = calloc(n > 0 ? n : 1, sizeof *pod->apps)) == NULL ||
      (pod->volumes = calloc(n_volumes + 1, sizeof *pod->volumes)) == NULL) {
    appc_pod_manifest_free(pod);
    return appc_error_make(err, ENOMEM, "pod");
  }
  for (size_t i = 0; r == 0 && i < n_volumes; i++) {
    r = appc_ace_volume_parse(volumes[i], &pod->volumes[i], err);
    if (r == 0)
      pod->n_volumes++;
    for (size_t j = 0; r == 0 && j + 1 < pod->n_volumes; j++)
      if (strcmp(pod->volumes[j].name, pod->volumes[i].name) == 0)
        r = appc_error_make(err, 0, "volumes: \"%s\" is given twice", pod->volumes[i].name);
  }
  for (size_t i = 0; r == 0 && i < n; i++) {
    pod->n_apps++;
    r = build_app(&pod->apps[i], &apps[i], err);
  }
  if (r == 0)
    r = appc_ace_reify(s, pod, err);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = apply_overrides(&pod->apps[i], &apps[i], env, err);
  if (r < 0) {
    appc_pod_manifest_free(pod);
    return -1;
  }
  *out = pod;
  return 0;
}
