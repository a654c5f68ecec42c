/* SPDX-License-Identifier: Apache-2.0 */
/* patch-manifest: apply command-line changes to an image manifest, with the
 * parsing rules and verdicts of the reference's actool/manifest.go. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/abi.h"
#include "common/array.h"
#include "common/cleanup.h"
#include "common/hashmap.h"
#include "schema/internal.h"
#include "appc/schema.h"
#include "common/macros.h"
#include "common/utf8.h"

static bool given(const char *s)
{
  return s != NULL && *s != '\0';
}

/* ---- "k=v,k=v" parameters, read the way the reference reads them:
 * through a URL query string (url.ParseQuery), keys unescaped. */

struct param {
  char *key;
  char *value;
};

struct params {
  struct param *items;
  size_t len;
};

static const char *param_key_at(const void *list, size_t i)
{
  return ((const struct param *) list)[i].key;
}

static void params_clear(struct params *ps)
{
  for (size_t i = 0; i < ps->len; i++) {
    free(ps->items[i].key);
    free(ps->items[i].value);
  }
  free(ps->items);
  ps->items = NULL;
  ps->len = 0;
}

#define cleanup_params __attribute__((cleanup(params_clear)))

/* url.QueryEscape. */
static char *query_escape(const char *s)
{
  char *out = malloc(3 * strlen(s) + 1), *o = out;

  if (out == NULL)
    return NULL;
  for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
        strchr("-_.~", *p) != NULL)
      *o++ = (char) *p;
    else if (*p == ' ')
      *o++ = '+';
    else
      o += sprintf(o, "%%%02X", *p);
  }
  *o = '\0';
  return out;
}

static int params_add(struct params *ps, const char *seg, size_t len, appc_error_t *err)
{
  const char *eq = memchr(seg, '=', len);
  size_t klen = eq != NULL ? (size_t) (eq - seg) : len;
  if (APPC_ARRAY_EXTEND(ps->items, ps->len, 1) < 0)
    return appc_error_make(err, ENOMEM, "parsing parameters");
  struct param *p = &ps->items[ps->len++];
  *p = (struct param){NULL, NULL};
  if (appc_query_unescape(seg, klen, &p->key, err) < 0)
    return appc_error_prefix(err, "parameter \"%.*s\"", (int) klen, seg);
  if (eq == NULL)
    p->value = strdup("");
  else if (appc_query_unescape(eq + 1, len - klen - 1, &p->value, err) < 0)
    return appc_error_prefix(err, "parameter \"%.*s\"", (int) len, seg);
  return p->value == NULL ? appc_error_make(err, ENOMEM, "parsing parameters") : 0;
}

/* url.ParseQuery over Q; any error fails the whole parse, as the reference
 * returns it. */
static int parse_query(const char *q, struct params *ps, appc_error_t *err)
{
  while (*q != '\0') {
    const char *amp = strchr(q, '&');
    size_t len = amp != NULL ? (size_t) (amp - q) : strlen(q);
    if (memchr(q, ';', len) != NULL)
      return appc_error_make(err, 0, "invalid semicolon separator in \"%.*s\"", (int) len, q);
    if (len > 0 && params_add(ps, q, len, err) < 0)
      return -1;
    q += len + (amp != NULL ? 1 : 0);
  }
  size_t earlier;
  ssize_t i = appc_first_repeat(ps->len, param_key_at, ps->items, &earlier);
  if (i < 0)
    return appc_error_make(err, ENOMEM, "parameters");
  if ((size_t) i < ps->len)
    return appc_error_make(err, 0, "parameter %s given more than once", ps->items[i].key);
  return 0;
}

/* "name=" + SPEC split on ',' into k=v pairs (common.MakeQueryString): each
 * part needs a '=', values are taken verbatim. */
static int parse_params(const char *spec, struct params *ps, appc_error_t *err)
{
  cleanup_free char *s = NULL;
  cleanup_free char *query = NULL;
  size_t qlen = 0;

  if (asprintf(&s, "name=%s", spec) < 0 || (query = calloc(3 * strlen(s) + 2, 1)) == NULL)
    return appc_error_make(err, ENOMEM, "parsing parameters");
  for (char *part = s, *next; part != NULL; part = next) {
    next = strchr(part, ',');
    if (next != NULL)
      *next++ = '\0';
    char *eq = strchr(part, '=');
    if (eq == NULL)
      return appc_error_make(err, 0, "malformed \"%s\": \"%s\" has no value", spec, part);
    *eq = '\0';
    cleanup_free char *value = query_escape(eq + 1);
    if (value == NULL)
      return appc_error_make(err, ENOMEM, "parsing parameters");
    qlen += (size_t) sprintf(query + qlen, "%s%s=%s", qlen > 0 ? "&" : "", part, value);
  }
  return parse_query(query, ps, err);
}

/* strconv.ParseBool */
static int parse_bool(const char *s, bool *out, appc_error_t *err)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};

  for (size_t i = 0; i < 6; i++) {
    if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
      *out = strcmp(s, yes[i]) == 0;
      return 0;
    }
  }
  return appc_error_make(err, 0, "invalid boolean \"%s\"", s);
}

/* strconv.ParseUint(s, 10, 16) */
static int parse_u16(const char *s, uint64_t *out, appc_error_t *err)
{
  uint64_t v = 0;

  if (*s == '\0')
    return appc_error_make(err, 0, "invalid number \"\"");
  for (const char *p = s; *p != '\0'; p++) {
    if (*p < '0' || *p > '9' || (v = v * 10 + (uint64_t) (*p - '0')) > 65535)
      return appc_error_make(err, 0, "invalid 16-bit number \"%s\"", s);
  }
  *out = v;
  return 0;
}

/* ---- individual options */

static char *dup_or_fail(const char *s, appc_error_t *err)
{
  char *d = strdup(s);
  if (d == NULL)
    appc_error_make(err, ENOMEM, "patching manifest");
  return d;
}

static int split_list(const char *s, char sep, struct appc_string_list *l, appc_error_t *err)
{
  appc_string_list_clear(l);
  for (const char *p = s;; p++) {
    const char *end = strchr(p, sep);
    size_t n = end != NULL ? (size_t) (end - p) : strlen(p);
    if (APPC_ARRAY_EXTEND(l->items, l->len, 1) < 0)
      return appc_error_make(err, ENOMEM, "patching manifest");
    if ((l->items[l->len] = strndup(p, n)) == NULL)
      return appc_error_make(err, ENOMEM, "patching manifest");
    l->len++;
    if (end == NULL)
      return 0;
    p = end;
  }
}

static int patch_gids(struct appc_app *app, const char *spec, appc_error_t *err)
{
  cleanup_free int64_t *gids = NULL;
  size_t n = 0;

  for (const char *p = spec;; p++) {
    const char *end = strchr(p, ',');
    size_t len = end != NULL ? (size_t) (end - p) : strlen(p);
    cleanup_free char *g = strndup(p, len);
    char *stop;
    if (g == NULL || APPC_ARRAY_EXTEND(gids, n, 1) < 0)
      return appc_error_make(err, ENOMEM, "patching manifest");
    errno = 0;
    gids[n++] = strtoll(g, &stop, 10);
    /* strconv.Atoi: optional sign and digits only. */
    if (errno != 0 || *g == '\0' || *stop != '\0' || strchr(" \t\n\v\f\r", *g) != NULL ||
        ((*g == '+' || *g == '-') && (g[1] < '0' || g[1] > '9')))
      return appc_error_make(err, 0, "invalid supplementary group \"%s\"", g);
    if (end == NULL)
      break;
    p = end;
  }
  free(app->supplementary_gids);
  app->supplementary_gids = steal_pointer(&gids);
  app->n_supplementary_gids = n;
  return 0;
}

/* Replace every isolator of kinds A and B with NAME {"set": [...], ...}. */
static int replace_set(struct appc_app *app, const char *name, const char *set,
                       const char *errno_name, enum appc_isolator_kind a, enum appc_isolator_kind b,
                       appc_error_t *err)
{
  struct appc_string_list l = {NULL, 0};
  struct json_object *value = json_object_new_object();
  struct appc_isolator iso = {0};
  int r = split_list(set, ',', &l, err);

  if (r == 0 && (value == NULL || appc_jput(value, "set", appc_jstring_list(&l)) < 0 ||
                 (errno_name != NULL && appc_jput_string(value, "errno", errno_name) < 0)))
    r = appc_error_make(err, ENOMEM, "patching manifest");
  if (r == 0)
    r = appc_isolator_set(&iso, name,
                          json_object_to_json_string_ext(value, JSON_C_TO_STRING_PLAIN |
                                                                    JSON_C_TO_STRING_NOSLASHESCAPE),
                          err);
  if (r == 0) {
    appc_isolator_list_remove_kind(&app->isolators, a);
    appc_isolator_list_remove_kind(&app->isolators, b);
    r = appc_isolator_list_append(&app->isolators, &iso, err);
  }
  appc_isolator_clear(&iso);
  appc_string_list_clear(&l);
  json_object_put(value);
  return r;
}

static int patch_caps(struct appc_app *app, const struct appc_manifest_patch *p, appc_error_t *err)
{
  bool retain = given(p->capability);

  if (retain && given(p->revoke_capability))
    return appc_error_make(err, 0, "conflicting capabilities isolators provided");
  return replace_set(
      app, retain ? "os/linux/capabilities-retain-set" : "os/linux/capabilities-remove-set",
      retain ? p->capability : p->revoke_capability, NULL, APPC_ISOLATOR_CAPABILITIES_RETAIN,
      APPC_ISOLATOR_CAPABILITIES_REMOVE, err);
}

static int patch_seccomp(struct appc_app *app, const struct appc_manifest_patch *p,
                         appc_error_t *err)
{
  struct appc_string_list args = {NULL, 0};
  const char *mode = "", *errno_name = "";
  int r = split_list(p->seccomp_mode, ',', &args, err);

  for (size_t i = 0; r == 0 && i < args.len; i++) {
    char *eq = strchr(args.items[i], '=');
    if (eq == NULL)
      mode = args.items[i];
    else if (strchr(eq + 1, '=') != NULL)
      r = appc_error_make(err, 0, "cannot parse seccomp-mode argument: %s", args.items[i]);
    else if (strncmp(args.items[i], "errno=", 6) == 0 && eq == args.items[i] + 5)
      errno_name = eq + 1;
    else
      r = appc_error_make(err, 0, "invalid seccomp-mode optional argument: %s", args.items[i]);
  }
  if (r == 0 && strcmp(mode, "retain") != 0 && strcmp(mode, "remove") != 0)
    r = appc_error_make(err, 0, "unknown seccomp mode \"%s\"", mode);
  if (r == 0)
    r = replace_set(app,
                    strcmp(mode, "retain") == 0 ? "os/linux/seccomp-retain-set"
                                                : "os/linux/seccomp-remove-set",
                    p->seccomp_set != NULL ? p->seccomp_set : "", errno_name,
                    APPC_ISOLATOR_SECCOMP_RETAIN, APPC_ISOLATOR_SECCOMP_REMOVE, err);
  appc_string_list_clear(&args);
  return r < 0 ? appc_error_prefix(err, "cannot parse seccomp isolator") : 0;
}

static const char *param(const struct params *ps, const char *key)
{
  for (size_t i = 0; i < ps->len; i++) {
    if (strcmp(ps->items[i].key, key) == 0)
      return ps->items[i].value;
  }
  return NULL;
}

static int check_keys(const struct params *ps, const char *const *keys, const char *what,
                      appc_error_t *err)
{
  for (size_t i = 0; i < ps->len; i++) {
    bool known = false;
    for (const char *const *k = keys; *k != NULL; k++)
      known = known || strcmp(ps->items[i].key, *k) == 0;
    if (!known)
      return appc_error_make(err, 0, "unknown %s parameter \"%s\"", what, ps->items[i].key);
  }
  return 0;
}

static int add_mount(struct appc_app *app, const char *spec, appc_error_t *err)
{
  static const char *const keys[] = {"name", "path", "readOnly", NULL};
  cleanup_params struct params ps = {NULL, 0};
  struct appc_mount_point mp = {NULL, NULL, false};
  const char *ro, *path;
  struct appc_mount_point *items;

  if (parse_params(spec, &ps, err) < 0 || check_keys(&ps, keys, "mountpoint", err) < 0 ||
      appc_validate_acname(param(&ps, "name"), err) < 0)
    return -1;
  if ((ro = param(&ps, "readOnly")) != NULL && parse_bool(ro, &mp.read_only, err) < 0)
    return -1;
  if ((path = param(&ps, "path")) == NULL || *path == '\0')
    return appc_error_make(err, 0, "path must be set");
  if (APPC_ARRAY_EXTEND(app->mount_points, app->n_mount_points, 1) < 0)
    return appc_error_make(err, ENOMEM, "patching manifest");
  items = app->mount_points;
  if ((mp.name = dup_or_fail(param(&ps, "name"), err)) == NULL ||
      (mp.path = dup_or_fail(path, err)) == NULL) {
    free(mp.name);
    return -1;
  }
  items[app->n_mount_points++] = mp;
  return 0;
}

static int add_port(struct appc_app *app, const char *spec, appc_error_t *err)
{
  static const char *const keys[] = {"name", "protocol", "port", "count", "socketActivated", NULL};
  cleanup_params struct params ps = {NULL, 0};
  struct appc_port pt = {0};
  const char *v;
  struct appc_port *items;

  if (parse_params(spec, &ps, err) < 0 || check_keys(&ps, keys, "port", err) < 0 ||
      appc_validate_acname(param(&ps, "name"), err) < 0)
    return -1;
  if (((v = param(&ps, "port")) != NULL && parse_u16(v, &pt.port, err) < 0) ||
      ((v = param(&ps, "count")) != NULL && parse_u16(v, &pt.count, err) < 0) ||
      ((v = param(&ps, "socketActivated")) != NULL &&
       parse_bool(v, &pt.socket_activated, err) < 0) ||
      appc_validate_port_range(pt.port, pt.count, err) < 0)
    return -1;
  /* A count left out stays 0 (written "count":0), as in the reference's
   * types.PortFromString; only decoding a manifest turns 0 into 1. */
  if (APPC_ARRAY_EXTEND(app->ports, app->n_ports, 1) < 0)
    return appc_error_make(err, ENOMEM, "patching manifest");
  items = app->ports;
  v = param(&ps, "protocol");
  if ((pt.name = dup_or_fail(param(&ps, "name"), err)) == NULL ||
      (pt.protocol = dup_or_fail(v != NULL ? v : "", err)) == NULL) {
    free(pt.name);
    return -1;
  }
  items[app->n_ports++] = pt;
  return 0;
}

/* The value JSON the reference builds by pasting text: resources get
 * { "k": "v", ... } from the parameters, no-new-privileges and oom-score-adj
 * take the single word after the name verbatim. */
static int isolator_value(const char *spec, const char *name, const struct params *ps, char **out,
                          appc_error_t *err)
{
  enum appc_isolator_kind kind = appc_isolator_kind_from_name(name);
  size_t len = 0;

  if (kind == APPC_ISOLATOR_NO_NEW_PRIVILEGES || kind == APPC_ISOLATOR_OOM_SCORE_ADJ) {
    const char *comma = strchr(spec, ',');
    if (comma == NULL || strchr(comma + 1, ',') != NULL)
      return appc_error_make(err, 0, "isolator %s: invalid format", name);
    *out = strdup(comma + 1);
    return *out == NULL ? appc_error_make(err, ENOMEM, "patching manifest") : 0;
  }
  if (kind < APPC_ISOLATOR_RESOURCE_CPU || kind > APPC_ISOLATOR_RESOURCE_NETWORK_BANDWIDTH)
    return appc_error_make(err, 0, "isolator %s is not supported for patching", name);
  for (size_t i = 0; i < ps->len; i++)
    len += strlen(ps->items[i].key) + strlen(ps->items[i].value) + 8;
  if ((*out = malloc(len + 8)) == NULL)
    return appc_error_make(err, ENOMEM, "patching manifest");
  len = (size_t) sprintf(*out, "{ ");
  for (size_t i = 0; i < ps->len; i++) {
    if (strcmp(ps->items[i].key, "name") != 0)
      len += (size_t) sprintf(*out + len, "%s\"%s\": \"%s\"", len > 2 ? ", " : "", ps->items[i].key,
                              ps->items[i].value);
  }
  sprintf(*out + len, " }");
  return 0;
}

static int add_isolator(struct appc_app *app, const char *spec, appc_error_t *err)
{
  cleanup_params struct params ps = {NULL, 0};
  cleanup_free char *query = NULL;
  cleanup_free char *value = NULL;
  struct appc_isolator iso = {0};
  const char *name;
  int r;

  /* Here the reference turns ',' into '&' without escaping anything. */
  if (asprintf(&query, "name=%s", spec) < 0)
    return appc_error_make(err, ENOMEM, "patching manifest");
  for (char *p = query; *p != '\0'; p++)
    *p = *p == ',' ? '&' : *p;
  if (parse_query(query, &ps, err) < 0)
    return -1;
  name = param(&ps, "name");
  if (appc_validate_acidentifier(name, err) < 0 || isolator_value(spec, name, &ps, &value, err) < 0)
    return -1;
  r = appc_isolator_set(&iso, name, value, err);
  if (r == 0)
    r = appc_isolator_list_append(&app->isolators, &iso, err);
  appc_isolator_clear(&iso);
  return r;
}

/* Apply FN to every ':'-separated item of LIST. */
static int each_item(struct appc_app *app, const char *list, const char *what,
                     int (*fn)(struct appc_app *, const char *, appc_error_t *), appc_error_t *err)
{
  struct appc_string_list items = {NULL, 0};
  int r = split_list(list, ':', &items, err);

  for (size_t i = 0; r == 0 && i < items.len; i++) {
    r = fn(app, items.items[i], err);
    if (r < 0)
      appc_error_prefix(err, "cannot parse %s \"%s\"", what, items.items[i]);
  }
  appc_string_list_clear(&items);
  return r;
}

static bool needs_app(const struct appc_manifest_patch *p)
{
  return given(p->user) || given(p->group) || given(p->supplementary_groups) ||
         given(p->capability) || given(p->revoke_capability) || given(p->mounts) ||
         given(p->ports) || given(p->isolators);
}

static int replace_string(char **field, const char *value, appc_error_t *err)
{
  char *d = dup_or_fail(value, err);
  if (d == NULL)
    return -1;
  free(*field);
  *field = d;
  return 0;
}

static int patch_app(struct appc_app *app, const struct appc_manifest_patch *p, appc_error_t *err)
{
  if (given(p->user) && replace_string(&app->user, p->user, err) < 0)
    return -1;
  if (given(p->group) && replace_string(&app->group, p->group, err) < 0)
    return -1;
  if (given(p->supplementary_groups) && patch_gids(app, p->supplementary_groups, err) < 0)
    return -1;
  if ((given(p->capability) || given(p->revoke_capability)) && patch_caps(app, p, err) < 0)
    return -1;
  if (given(p->mounts) && each_item(app, p->mounts, "mount point", add_mount, err) < 0)
    return -1;
  if (given(p->ports) && each_item(app, p->ports, "port", add_port, err) < 0)
    return -1;
  if (given(p->seccomp_mode) && patch_seccomp(app, p, err) < 0)
    return -1;
  if (given(p->isolators) && each_item(app, p->isolators, "isolator", add_isolator, err) < 0)
    return -1;
  return 0;
}

/* Every value must be UTF-8, as every string of a parsed manifest is:
 * a value that is not could only be written with its bytes replaced (Go
 * writes "\ufffd"), silently changing what was asked for. */
static int check_utf8(const struct appc_manifest_patch *p, appc_error_t *err)
{
  /* Named as the struct's fields: the library knows no flags. */
#define FIELD(f) #f, p->f
  const struct {
    const char *field;
    const char *value;
  } values[] = {
      {FIELD(name)},
      {FIELD(exec)},
      {FIELD(user)},
      {FIELD(group)},
      {FIELD(supplementary_groups)},
      {FIELD(capability)},
      {FIELD(revoke_capability)},
      {FIELD(mounts)},
      {FIELD(ports)},
      {FIELD(isolators)},
      {FIELD(seccomp_mode)},
      {FIELD(seccomp_set)},
  };
#undef FIELD

  for (size_t i = 0; i < ARRAY_SIZE(values); i++)
    if (values[i].value != NULL && !appc_utf8_valid(values[i].value))
      return appc_error_make(err, 0, "%s: the value is not valid UTF-8", values[i].field);
  return 0;
}

int appc_image_manifest_patch(struct appc_image_manifest *m, const struct appc_manifest_patch *p,
                              appc_error_t *err)
{
  static const struct appc_manifest_patch none = {0};

  if (APPC_ABI_CHECK(p, appc_manifest_patch, APPC_MANIFEST_PATCH_VERSION, err) < 0)
    return -1;
  if (p == NULL)
    p = &none;
  if (check_utf8(p, err) < 0)
    return -1;
  if (given(p->name)) {
    if (appc_validate_acidentifier(p->name, err) < 0)
      return appc_error_prefix(err, "name");
    if (replace_string(&m->name, p->name, err) < 0)
      return -1;
  }
  if (given(p->exec)) {
    if (m->app == NULL && (m->app = calloc(1, sizeof *m->app)) == NULL)
      return appc_error_make(err, ENOMEM, "patching manifest");
    if (split_list(p->exec, ' ', &m->app->exec, err) < 0)
      return -1;
  }
  if (m->app == NULL && (needs_app(p) || given(p->seccomp_mode)))
    return appc_error_make(err, 0, "no app in the supplied manifest and no exec command provided");
  if (!given(p->seccomp_mode) && given(p->seccomp_set))
    return appc_error_make(err, 0, "seccomp_set specified without seccomp_mode");
  if (m->app != NULL && patch_app(m->app, p, err) < 0)
    return -1;
  /* The reference validates the manifest again when writing it out. */
  return m->app != NULL ? appc_app_validate(m->app, "app", err) : 0;
}
