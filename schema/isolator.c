/* SPDX-License-Identifier: Apache-2.0 */
/* Isolators: decoding, validation and serialisation. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "schema/internal.h"
#include "appc/isolator.h"
#include "appc/types.h"
#include "common/macros.h"

static const struct {
  const char *name;
  enum appc_isolator_kind kind;
  bool multiple; /* may appear more than once in an app */
} kinds[] = {
    {"resource/cpu", APPC_ISOLATOR_RESOURCE_CPU, true},
    {"resource/memory", APPC_ISOLATOR_RESOURCE_MEMORY, true},
    {"resource/block-bandwidth", APPC_ISOLATOR_RESOURCE_BLOCK_BANDWIDTH, true},
    {"resource/block-iops", APPC_ISOLATOR_RESOURCE_BLOCK_IOPS, true},
    {"resource/network-bandwidth", APPC_ISOLATOR_RESOURCE_NETWORK_BANDWIDTH, true},
    {"os/linux/capabilities-retain-set", APPC_ISOLATOR_CAPABILITIES_RETAIN, true},
    {"os/linux/capabilities-remove-set", APPC_ISOLATOR_CAPABILITIES_REMOVE, true},
    {"os/linux/seccomp-retain-set", APPC_ISOLATOR_SECCOMP_RETAIN, false},
    {"os/linux/seccomp-remove-set", APPC_ISOLATOR_SECCOMP_REMOVE, false},
    {"os/linux/no-new-privileges", APPC_ISOLATOR_NO_NEW_PRIVILEGES, true},
    {"os/linux/selinux-context", APPC_ISOLATOR_SELINUX_CONTEXT, false},
    {"os/linux/oom-score-adj", APPC_ISOLATOR_OOM_SCORE_ADJ, false},
    {"os/linux/cpu-shares", APPC_ISOLATOR_CPU_SHARES, false},
    {"os/unix/sysctl", APPC_ISOLATOR_UNIX_SYSCTL, false},
};

#define N_KINDS (ARRAY_SIZE(kinds))

const char *appc_isolator_kind_name(enum appc_isolator_kind kind)
{
  for (size_t i = 0; i < N_KINDS; i++) {
    if (kinds[i].kind == kind)
      return kinds[i].name;
  }
  return NULL;
}

enum appc_isolator_kind appc_isolator_kind_from_name(const char *name)
{
  for (size_t i = 0; name != NULL && i < N_KINDS; i++) {
    if (strcmp(kinds[i].name, name) == 0)
      return kinds[i].kind;
  }
  return APPC_ISOLATOR_UNKNOWN;
}

static bool multiple_allowed(enum appc_isolator_kind kind)
{
  for (size_t i = 0; i < N_KINDS; i++) {
    if (kinds[i].kind == kind)
      return kinds[i].multiple;
  }
  return true;
}

void appc_isolator_clear(struct appc_isolator *iso)
{
  free(iso->name);
  free(iso->value_json);
  free(iso->request);
  free(iso->limit);
  appc_string_list_clear(&iso->set);
  free(iso->errno_name);
  free(iso->selinux_user);
  free(iso->selinux_role);
  free(iso->selinux_type);
  free(iso->selinux_level);
  appc_kv_list_clear(&iso->sysctl);
  memset(iso, 0, sizeof *iso);
}

void appc_isolator_free_elem(void *elem)
{
  appc_isolator_clear(elem);
}

/* ---- typed values */

/* A resource quantity is read from the raw JSON, as the reference's
 * Quantity.UnmarshalJSON does: strings and numbers alike. */
static int decode_quantity(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  char **out = target;
  bool escaped;
  cleanup_free char *raw = NULL;

  if (v == NULL) {
    free(*out);
    *out = NULL; /* a null pointer in Go: no quantity */
    return 0;
  }
  raw = appc_jraw_scalar(v, &escaped);
  if (raw == NULL)
    return appc_jerr(c, "expected a quantity string or number, got %s", appc_jtype_name(v));
  if (escaped)
    return appc_jerr(c, "a quantity must not contain escaped characters");
  if (appc_validate_quantity(raw, c->err) < 0)
    return appc_jfail(c);
  free(*out);
  *out = steal_pointer(&raw);
  return 0;
}

static int decode_resource(struct appc_jctx *c, const struct appc_jnode *v,
                           struct appc_isolator *iso)
{
  static const struct appc_jfield fields[] = {
      {"default", appc_jdecode_bool, offsetof(struct appc_isolator, resource_default)},
      {"request", decode_quantity, offsetof(struct appc_isolator, request)},
      {"limit", decode_quantity, offsetof(struct appc_isolator, limit)},
  };
  bool want_default =
      iso->kind != APPC_ISOLATOR_RESOURCE_CPU && iso->kind != APPC_ISOLATOR_RESOURCE_MEMORY;

  if (appc_jdecode_fields(c, v, fields, iso) < 0)
    return -1;
  if (iso->resource_default != want_default)
    return appc_jerr_at(c, "default", "must be %s for %s", want_default ? "true" : "false",
                        iso->name);
  if (want_default && iso->request != NULL)
    return appc_jerr_at(c, "request", "must not be set for %s (got \"%s\")", iso->name,
                        iso->request);
  return 0;
}

/* ace.md: the sets list capabilities (capabilities(7)).  The reference takes
 * any string; an unknown name can only be a typo, so we refuse it
 * (docs/conformance.md). */
static int check_capability_names(struct appc_jctx *c, const struct appc_isolator *iso)
{
  size_t mark = appc_jpath_key(c, "set");

  for (size_t i = 0; i < iso->set.len; i++) {
    if (appc_is_linux_capability(iso->set.items[i]))
      continue;
    appc_jpath_index(c, i);
    return appc_jerr(c, "\"%s\" is not a Linux capability name (see capabilities(7))",
                     iso->set.items[i]);
  }
  appc_jpath_restore(c, mark);
  return 0;
}

static int decode_set(struct appc_jctx *c, const struct appc_jnode *v, struct appc_isolator *iso,
                      bool seccomp)
{
  static const struct appc_jfield fields[] = {
      {"set", appc_jdecode_string_list, offsetof(struct appc_isolator, set)},
      {"errno", appc_jdecode_string, offsetof(struct appc_isolator, errno_name)},
  };

  if (appc_jdecode_object(c, v, fields, seccomp ? 2 : 1, iso) < 0)
    return -1;
  if (iso->set.len == 0)
    return appc_jerr_at(c, "set", "must be a non-empty list");
  if (!seccomp)
    return check_capability_names(c, iso);
  if (iso->errno_name == NULL && appc_jdecode_string(c, NULL, &iso->errno_name) < 0)
    return -1;
  if (appc_validate_seccomp_errno(iso->errno_name, c->err) < 0) {
    appc_jpath_key(c, "errno");
    return appc_jfail(c);
  }
  return 0;
}

static int decode_int_range(struct appc_jctx *c, const struct appc_jnode *v,
                            struct appc_isolator *iso, int64_t min, int64_t max)
{
  if (v == NULL || v->kind != APPC_JNUMBER)
    return appc_jerr(c, "expected an integer, got %s", appc_jtype_name(v));
  if (appc_jdecode_int64(c, v, &iso->number) < 0)
    return -1;
  if (iso->number < min || iso->number > max)
    return appc_jerr(c, "%s must be between %lld and %lld, got %lld", iso->name, (long long) min,
                     (long long) max, (long long) iso->number);
  return 0;
}

static int decode_selinux(struct appc_jctx *c, const struct appc_jnode *v,
                          struct appc_isolator *iso)
{
  static const struct appc_jfield fields[] = {
      {"user", appc_jdecode_string, offsetof(struct appc_isolator, selinux_user)},
      {"role", appc_jdecode_string, offsetof(struct appc_isolator, selinux_role)},
      {"type", appc_jdecode_string, offsetof(struct appc_isolator, selinux_type)},
      {"level", appc_jdecode_string, offsetof(struct appc_isolator, selinux_level)},
  };
  char **parts[] = {&iso->selinux_user, &iso->selinux_role, &iso->selinux_type,
                    &iso->selinux_level};

  if (appc_jdecode_fields(c, v, fields, iso) < 0)
    return -1;
  for (size_t i = 0; i < 4; i++) {
    if (*parts[i] == NULL && appc_jdecode_string(c, NULL, parts[i]) < 0)
      return -1;
    /* user, role and type are single SELinux words; level may hold ':'. */
    if (**parts[i] == '\0')
      return appc_jerr_at(c, fields[i].name, "must be set (non-empty)");
    if (i < 3 && strchr(*parts[i], ':') != NULL)
      return appc_jerr_at(c, fields[i].name, "\"%s\" must not contain ':'", *parts[i]);
  }
  return 0;
}

static int decode_value(struct appc_jctx *c, const struct appc_jnode *v, struct appc_isolator *iso)
{
  switch (iso->kind) {
  case APPC_ISOLATOR_CAPABILITIES_RETAIN:
  case APPC_ISOLATOR_CAPABILITIES_REMOVE:
    return decode_set(c, v, iso, false);
  case APPC_ISOLATOR_SECCOMP_RETAIN:
  case APPC_ISOLATOR_SECCOMP_REMOVE:
    return decode_set(c, v, iso, true);
  case APPC_ISOLATOR_NO_NEW_PRIVILEGES:
    if (v == NULL || v->kind != APPC_JBOOL)
      return appc_jerr(c, "expected a boolean, got %s", appc_jtype_name(v));
    return appc_jdecode_bool(c, v, &iso->flag);
  case APPC_ISOLATOR_SELINUX_CONTEXT:
    return decode_selinux(c, v, iso);
  case APPC_ISOLATOR_OOM_SCORE_ADJ:
    return decode_int_range(c, v, iso, -1000, 1000);
  case APPC_ISOLATOR_CPU_SHARES:
    return decode_int_range(c, v, iso, 2, 262144);
  case APPC_ISOLATOR_UNIX_SYSCTL:
    return appc_jdecode_string_map(c, v, &iso->sysctl);
  case APPC_ISOLATOR_UNKNOWN:
    return 0;
  default:
    return decode_resource(c, v, iso);
  }
}

/* ---- one isolator */

struct isolator_json {
  char *name;
  const struct appc_jnode *value;
};

static int keep_raw(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  (void) c;
  *(const struct appc_jnode **) target = v;
  return 0;
}

/* Fill ISO (zeroed) from its name and value (NULL for none, or null). */
static int isolator_fill(struct appc_jctx *c, struct appc_isolator *iso, const char *name,
                         const struct appc_jnode *value)
{
  iso->kind = appc_isolator_kind_from_name(name);
  if (name != NULL && (iso->name = strdup(name)) == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  /* Kept as the reference's json.RawMessage: strings as they were written,
   * compacted (and a key holding U+0000 stays readable). */
  if (value != NULL) {
    struct appc_jw w;
    appc_jw_init(&w, 0);
    appc_jw_raw(&w, value);
    if (appc_jw_finish(&w, &iso->value_json, NULL, c->path, c->err) < 0)
      return -1;
  }
  if (iso->kind == APPC_ISOLATOR_UNKNOWN)
    return 0;
  /* The reference dereferences a missing value and crashes; say why. */
  size_t mark = appc_jpath_key(c, "value");
  if (value == NULL)
    return appc_jerr(c, "must be set for isolator %s", name);
  if (decode_value(c, value, iso) < 0)
    return -1;
  appc_jpath_restore(c, mark);
  return 0;
}

int appc_jdecode_isolator(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acidentifier, offsetof(struct isolator_json, name)},
      {"value", keep_raw, offsetof(struct isolator_json, value)},
  };
  struct isolator_json raw = {NULL, NULL};
  int r = appc_jdecode_fields(c, v, fields, &raw);

  if (r == 0)
    r = isolator_fill(c, target, raw.name, raw.value);
  free(raw.name);
  return r;
}

int appc_jdecode_isolators(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_isolator_list *l = target;
  return appc_jdecode_array(c, v, (void **) &l->items, &l->len, sizeof *l->items,
                            appc_jdecode_isolator, appc_isolator_free_elem);
}

int appc_isolator_set(struct appc_isolator *iso, const char *name, const char *value_json,
                      appc_error_t *err)
{
  cleanup_jtree struct appc_jtree *value = NULL;
  struct appc_jctx c = {.err = err};
  struct appc_isolator fresh = {0};

  if (name == NULL)
    return appc_error_make(err, 0, "isolator name: must be set");
  if (appc_validate_acidentifier(name, err) < 0)
    return appc_error_prefix(err, "isolator name");
  if (value_json != NULL && appc_json_parse_value(value_json, &value, err) < 0)
    return appc_error_prefix(err, "isolator %s: value", name);
  appc_jpath_key(&c, name);
  /* A null value is no value, as in a manifest. */
  if (isolator_fill(&c, &fresh, name, value != NULL ? appc_jvalue(value->root) : NULL) < 0) {
    appc_isolator_clear(&fresh);
    return -1;
  }
  appc_isolator_clear(iso);
  *iso = fresh;
  return 0;
}

/* ---- lists */

int appc_isolator_list_append(struct appc_isolator_list *l, const struct appc_isolator *iso,
                              appc_error_t *err)
{
  if (APPC_ARRAY_EXTEND(l->items, l->len, 1) < 0)
    return appc_error_make(err, ENOMEM, "adding isolator");
  memset(&l->items[l->len], 0, sizeof *l->items);
  if (appc_isolator_set(&l->items[l->len], iso->name, iso->value_json, err) < 0)
    return -1;
  l->len++;
  return 0;
}

void appc_isolator_list_remove_kind(struct appc_isolator_list *l, enum appc_isolator_kind kind)
{
  size_t kept = 0;

  for (size_t i = 0; i < l->len; i++) {
    if (l->items[i].kind == kind && kind != APPC_ISOLATOR_UNKNOWN)
      appc_isolator_clear(&l->items[i]);
    else
      l->items[kept++] = l->items[i];
  }
  l->len = kept;
}

void appc_isolator_list_clear(struct appc_isolator_list *l)
{
  appc_jfree_array((void **) &l->items, &l->len, sizeof *l->items, appc_isolator_free_elem);
}

/* The kinds enum appc_isolator_kind has (the last one, plus one). */
#define ISOLATOR_KINDS (APPC_ISOLATOR_UNIX_SYSCTL + 1)

/* ace.md: a seccomp retain set "cannot be used in conjunction with" a remove
 * set, and likewise for capabilities (the reference only checks seccomp). */
static bool conflicts(enum appc_isolator_kind a, enum appc_isolator_kind b)
{
  return (a == APPC_ISOLATOR_SECCOMP_RETAIN && b == APPC_ISOLATOR_SECCOMP_REMOVE) ||
         (a == APPC_ISOLATOR_SECCOMP_REMOVE && b == APPC_ISOLATOR_SECCOMP_RETAIN) ||
         (a == APPC_ISOLATOR_CAPABILITIES_RETAIN && b == APPC_ISOLATOR_CAPABILITIES_REMOVE) ||
         (a == APPC_ISOLATOR_CAPABILITIES_REMOVE && b == APPC_ISOLATOR_CAPABILITIES_RETAIN);
}

int appc_isolators_validate(const struct appc_isolator_list *l, const char *path, appc_error_t *err)
{
  /* where each kind was first met: one pass, whatever the list's length */
  size_t first[ISOLATOR_KINDS];
  bool seen[ISOLATOR_KINDS] = {false};

  for (size_t i = 0; i < l->len; i++) {
    const struct appc_isolator *iso = &l->items[i];
    const char *name = iso->name != NULL ? iso->name : "";

    if (iso->kind == APPC_ISOLATOR_UNKNOWN || (unsigned) iso->kind >= ISOLATOR_KINDS)
      return appc_error_make(err, 0, "%s[%zu].name: unknown isolator \"%s\"", path, i, name);
    /* the earliest conflict or repeat, as a scan of every pair in order finds it */
    size_t j = i;
    for (unsigned k = 0; k < ISOLATOR_KINDS; k++)
      if (seen[k] && first[k] < j &&
          ((k == (unsigned) iso->kind && !multiple_allowed(iso->kind)) ||
           conflicts((enum appc_isolator_kind) k, iso->kind)))
        j = first[k];
    if (j < i && l->items[j].kind == iso->kind)
      return appc_error_make(err, 0,
                             "%s[%zu].name: only one \"%s\" isolator is allowed (also %s[%zu])",
                             path, i, name, path, j);
    if (j < i)
      return appc_error_make(err, 0, "%s[%zu].name: \"%s\" conflicts with \"%s\" at %s[%zu]", path,
                             i, name, l->items[j].name, path, j);
    if (!seen[iso->kind]) {
      seen[iso->kind] = true;
      first[iso->kind] = i;
    }
  }
  return 0;
}

/* ---- serialising */

/* The value kept as text, or null when the isolator has none (as the
 * reference writes a nil json.RawMessage). */
static void write_value(struct appc_jw *w, const char *value_json)
{
  cleanup_jtree struct appc_jtree *value = NULL;
  cleanup_error appc_error_t err = NULL;

  if (value_json == NULL)
    appc_jw_null(w);
  else if (appc_json_parse_value(value_json, &value, &err) == 0)
    appc_jw_raw(w, value->root);
  else
    w->failed = true; /* not from appc_isolator_set(): cannot be written */
}

static void isolator_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_isolator *iso = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", iso->name);
  appc_jw_key(w, "value");
  write_value(w, iso->value_json);
  appc_jw_end_object(w);
}

void appc_jw_isolators(struct appc_jw *w, const struct appc_isolator_list *l)
{
  appc_jw_array(w, l->items, l->len, sizeof *l->items, isolator_elem);
}
