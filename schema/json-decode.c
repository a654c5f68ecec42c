/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding: Go-style decoders with JSON paths over the parsed tree. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "schema/json.h"
#include "schema/schema.h"
#include "schema/types.h"

/* ------------------------------------------------------------------------
 * JSON paths.
 */

static size_t jpath_vappend(struct appc_jctx *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static size_t jpath_vappend(struct appc_jctx *c, const char *fmt, va_list ap)
{
  size_t mark = c->len;
  int n;

  if (c->len >= sizeof c->path - 1)
    return mark;
  n = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, ap);
  if (n < 0)
    c->path[c->len] = '\0';
  else if ((size_t) n >= sizeof c->path - c->len)
    c->len = sizeof c->path - 1; /* truncated: still a useful prefix */
  else
    c->len += (size_t) n;
  return mark;
}

size_t appc_jpath_add(struct appc_jctx *c, const char *fmt, ...)
{
  va_list ap;
  size_t mark;

  va_start(ap, fmt);
  mark = jpath_vappend(c, fmt, ap);
  va_end(ap);
  return mark;
}

size_t appc_jpath_key(struct appc_jctx *c, const char *key)
{
  return appc_jpath_add(c, c->len == 0 ? "%s" : ".%s", key);
}

size_t appc_jpath_index(struct appc_jctx *c, size_t index)
{
  return appc_jpath_add(c, "[%zu]", index);
}

void appc_jpath_restore(struct appc_jctx *c, size_t mark)
{
  c->len = mark;
  c->path[mark] = '\0';
}

static int jerr_v(struct appc_jctx *c, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static int jerr_v(struct appc_jctx *c, const char *fmt, va_list ap)
{
  cleanup_free char *msg = NULL;

  if (vasprintf(&msg, fmt, ap) < 0)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  if (c->len == 0)
    return appc_error_make(c->err, 0, "%s", msg);
  return appc_error_make(c->err, 0, "%s: %s", c->path, msg);
}

int appc_jerr(struct appc_jctx *c, const char *fmt, ...)
{
  va_list ap;
  int r;

  va_start(ap, fmt);
  r = jerr_v(c, fmt, ap);
  va_end(ap);
  return r;
}

int appc_jerr_at(struct appc_jctx *c, const char *key, const char *fmt, ...)
{
  size_t mark = appc_jpath_key(c, key);
  va_list ap;
  int r;

  va_start(ap, fmt);
  r = jerr_v(c, fmt, ap);
  va_end(ap);
  appc_jpath_restore(c, mark);
  return r;
}

int appc_jfail(struct appc_jctx *c)
{
  if (c->len == 0)
    return -1;
  return appc_error_prefix(c->err, "%s", c->path);
}

/* ------------------------------------------------------------------------
 * Decoding.
 */

const char *appc_jtype_name(struct json_object *v)
{
  switch (json_object_get_type(v)) {
  case json_type_null:
    return "null";
  case json_type_boolean:
    return "bool";
  case json_type_double:
  case json_type_int:
    return "number";
  case json_type_object:
    return "object";
  case json_type_array:
    return "array";
  case json_type_string:
    return "string";
  }
  return "value";
}

static int type_error(struct appc_jctx *c, struct json_object *v, const char *want)
{
  return appc_jerr(c, "expected %s, got %s", want, appc_jtype_name(v));
}

/* Go's case folding for field names (encoding/json fold.go): ASCII letters
 * fold, and the key may use U+017F for 's' and U+212A (Kelvin) for 'k'. */
static bool fold_equal(const char *field, const char *key)
{
  const unsigned char *k = (const unsigned char *) key;

  for (const char *f = field; *f != '\0'; f++) {
    char lf = (char) (*f | 0x20);
    if (*k < 0x80) {
      if (*k == (unsigned char) *f)
        k++;
      else if (lf >= 'a' && lf <= 'z' && (*k | 0x20) == lf)
        k++;
      else
        return false;
    } else if (lf == 's' && k[0] == 0xc5 && k[1] == 0xbf) {
      k += 2;
    } else if (lf == 'k' && k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa) {
      k += 3;
    } else {
      return false;
    }
  }
  return *k == '\0';
}

static const struct appc_jfield *find_field(const struct appc_jfield *fields, size_t n,
                                            const char *key)
{
  for (size_t i = 0; i < n; i++) {
    if (strcmp(fields[i].name, key) == 0)
      return &fields[i];
  }
  for (size_t i = 0; i < n; i++) {
    if (fold_equal(fields[i].name, key))
      return &fields[i];
  }
  return NULL;
}

int appc_jdecode_object(struct appc_jctx *c, struct json_object *v,
                        const struct appc_jfield *fields, size_t n_fields, void *target)
{
  if (v == NULL)
    return 0; /* null leaves a struct as it is */
  if (!json_object_is_type(v, json_type_object))
    return type_error(c, v, "an object");
  json_object_object_foreach(v, key, val)
  {
    const struct appc_jfield *f = find_field(fields, n_fields, key);
    if (f == NULL)
      continue; /* unknown fields are ignored, as in Go */
    size_t mark = appc_jpath_key(c, f->name);
    int r = f->decode(c, val, (char *) target + f->offset);
    if (r < 0)
      return r;
    appc_jpath_restore(c, mark);
  }
  return 0;
}

void appc_jfree_array(void **items, size_t *len, size_t elem_size, appc_jfree_fn free_elem)
{
  if (free_elem != NULL) {
    for (size_t i = 0; i < *len; i++)
      free_elem((char *) *items + i * elem_size);
  }
  free(*items);
  *items = NULL;
  *len = 0;
}

int appc_jdecode_array(struct appc_jctx *c, struct json_object *v, void **items, size_t *len,
                       size_t elem_size, appc_jdecode_fn decode, appc_jfree_fn free_elem)
{
  size_t n;

  appc_jfree_array(items, len, elem_size, free_elem);
  if (v == NULL)
    return 0;
  if (!json_object_is_type(v, json_type_array))
    return type_error(c, v, "an array");
  n = json_object_array_length(v);
  /* Even an empty array gets storage: [] is not Go's nil slice. */
  *items = calloc(n > 0 ? n : 1, elem_size);
  if (*items == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  for (size_t i = 0; i < n; i++) {
    size_t mark = appc_jpath_index(c, i);
    /* Count the element before decoding so a failure still frees it. */
    *len = i + 1;
    if (decode(c, json_object_array_get_idx(v, i), (char *) *items + i * elem_size) < 0)
      return -1;
    appc_jpath_restore(c, mark);
  }
  return 0;
}

/* Copy the string V into *OUT, refusing embedded NULs (see conformance.md). */
static int take_string(struct appc_jctx *c, struct json_object *v, char **out)
{
  const char *s = json_object_get_string(v);
  size_t len = (size_t) json_object_get_string_len(v);
  char *copy;

  if (strlen(s) != len)
    return appc_jerr(c, "strings must not contain U+0000");
  copy = strdup(s);
  if (copy == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  free(*out);
  *out = copy;
  return 0;
}

int appc_jdecode_string(struct appc_jctx *c, struct json_object *v, void *target)
{
  char **out = target;

  if (v == NULL) {
    /* null leaves a string as it is; an unset one reads as "". */
    if (*out == NULL && (*out = strdup("")) == NULL)
      return appc_error_make(c->err, ENOMEM, "%s", c->path);
    return 0;
  }
  if (!json_object_is_type(v, json_type_string))
    return type_error(c, v, "a string");
  return take_string(c, v, out);
}

int appc_jdecode_bool(struct appc_jctx *c, struct json_object *v, void *target)
{
  if (v == NULL)
    return 0;
  if (!json_object_is_type(v, json_type_boolean))
    return type_error(c, v, "a boolean");
  *(bool *) target = json_object_get_boolean(v);
  return 0;
}

/* The integer literal of V (json-c keeps integers that fit 64 bits). */
static int integer_text(struct appc_jctx *c, struct json_object *v, const char **text)
{
  if (json_object_is_type(v, json_type_double))
    return appc_jerr(c, "%s is not an integer or is out of range", json_object_to_json_string(v));
  if (!json_object_is_type(v, json_type_int))
    return type_error(c, v, "an integer");
  *text = json_object_to_json_string(v);
  return 0;
}

int appc_jdecode_int64(struct appc_jctx *c, struct json_object *v, void *target)
{
  const char *text;
  char *end;
  long long n;

  if (v == NULL)
    return 0;
  if (integer_text(c, v, &text) < 0)
    return -1;
  errno = 0;
  n = strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0')
    return appc_jerr(c, "%s is out of range for a 64-bit integer", text);
  *(int64_t *) target = n;
  return 0;
}

int appc_jdecode_uint64(struct appc_jctx *c, struct json_object *v, void *target)
{
  const char *text;
  char *end;
  unsigned long long n;

  if (v == NULL)
    return 0;
  if (integer_text(c, v, &text) < 0)
    return -1;
  if (text[0] == '-')
    return appc_jerr(c, "%s must not be negative", text);
  errno = 0;
  n = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0')
    return appc_jerr(c, "%s is out of range for a 64-bit unsigned integer", text);
  *(uint64_t *) target = n;
  return 0;
}

int appc_jdecode_checked(struct appc_jctx *c, struct json_object *v, char **target,
                         int (*validate)(const char *, appc_error_t *))
{
  cleanup_free char *s = NULL;

  /* These types validate even a null: Go calls their UnmarshalJSON with it. */
  if (v == NULL)
    s = strdup("");
  else if (!json_object_is_type(v, json_type_string))
    return type_error(c, v, "a string");
  else if (take_string(c, v, &s) < 0)
    return -1;
  if (s == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  if (validate(s, c->err) < 0)
    return appc_jfail(c);
  free(*target);
  *target = steal_pointer(&s);
  return 0;
}

int appc_jdecode_acidentifier(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_acidentifier);
}

int appc_jdecode_acname(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_acname);
}

int appc_jdecode_semver(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_semver);
}

int appc_jdecode_hash(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_hash);
}

int appc_jdecode_ackind(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_ackind);
}

static void free_string_elem(void *elem)
{
  free(*(char **) elem);
}

static int decode_string_elem(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_string(c, v, target);
}

int appc_jdecode_string_list(struct appc_jctx *c, struct json_object *v, void *target)
{
  struct appc_string_list *l = target;
  return appc_jdecode_array(c, v, (void **) &l->items, &l->len, sizeof(char *), decode_string_elem,
                            free_string_elem);
}

static int decode_int64_elem(struct appc_jctx *c, struct json_object *v, void *target)
{
  return appc_jdecode_int64(c, v, target);
}

int appc_jdecode_int64_list(struct appc_jctx *c, struct json_object *v, int64_t **items,
                            size_t *len)
{
  return appc_jdecode_array(c, v, (void **) items, len, sizeof(int64_t), decode_int64_elem, NULL);
}

static void kv_clear(void *elem)
{
  struct appc_kv *kv = elem;
  free(kv->name);
  free(kv->value);
  kv->name = kv->value = NULL;
}

void appc_kv_list_clear(struct appc_kv_list *l)
{
  appc_jfree_array((void **) &l->items, &l->len, sizeof *l->items, kv_clear);
}

void appc_string_list_clear(struct appc_string_list *l)
{
  appc_jfree_array((void **) &l->items, &l->len, sizeof *l->items, free_string_elem);
}

/* Order pointers into one array of appc_kv by name, then by position. */
static int kvp_cmp(const void *a, const void *b)
{
  const struct appc_kv *x = *(const struct appc_kv *const *) a;
  const struct appc_kv *y = *(const struct appc_kv *const *) b;
  int r = strcmp(x->name, y->name);

  return r != 0 ? r : x < y ? -1 : x > y;
}

/* Sort L by name and keep only the last of the entries sharing a name. */
static int kv_sort_unique(struct appc_kv_list *l)
{
  cleanup_free struct appc_kv **order = malloc((l->len + 1) * sizeof *order);
  struct appc_kv *items = calloc(l->len + 1, sizeof *items);
  size_t n = 0;

  if (order == NULL || items == NULL) {
    free(items);
    return -1;
  }
  for (size_t i = 0; i < l->len; i++)
    order[i] = &l->items[i];
  qsort(order, l->len, sizeof *order, kvp_cmp);
  for (size_t i = 0; i < l->len; i++) {
    if (i + 1 < l->len && strcmp(order[i]->name, order[i + 1]->name) == 0)
      kv_clear(order[i]); /* replaced by a later key */
    else
      items[n++] = *order[i];
  }
  free(l->items);
  l->items = items;
  l->len = n;
  return 0;
}

/* Go map[string]string: later keys replace earlier ones, null values read as
 * "", and the map has no order (we keep it sorted, as Go serialises it). */
int appc_jdecode_string_map(struct appc_jctx *c, struct json_object *v, void *target)
{
  struct appc_kv_list *l = target;
  size_t n = 0;

  appc_kv_list_clear(l);
  if (v == NULL)
    return 0;
  if (!json_object_is_type(v, json_type_object))
    return type_error(c, v, "an object");
  l->items = calloc((size_t) json_object_object_length(v) + 1, sizeof *l->items);
  if (l->items == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  json_object_object_foreach(v, key, val)
  {
    if ((unsigned char) key[0] == 0xff) /* see scan_member() */
      return appc_jerr(c, "keys must not contain U+0000");
    size_t mark = appc_jpath_key(c, key);
    struct appc_kv *kv = &l->items[n];
    l->len = ++n;
    kv->name = strdup(key);
    if (kv->name == NULL)
      return appc_error_make(c->err, ENOMEM, "%s", c->path);
    if (appc_jdecode_string(c, val, &kv->value) < 0)
      return -1;
    appc_jpath_restore(c, mark);
  }
  if (kv_sort_unique(l) < 0)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  return 0;
}

static int decode_label_elem(struct appc_jctx *c, struct json_object *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acidentifier, offsetof(struct appc_kv, name)},
      {"value", appc_jdecode_string, offsetof(struct appc_kv, value)},
  };
  struct appc_kv *kv = target;

  if (appc_jdecode_fields(c, v, fields, kv) < 0)
    return -1;
  return kv->value == NULL ? appc_jdecode_string(c, NULL, &kv->value) : 0;
}

static int decode_env_elem(struct appc_jctx *c, struct json_object *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_string, offsetof(struct appc_kv, name)},
      {"value", appc_jdecode_string, offsetof(struct appc_kv, value)},
  };
  struct appc_kv *kv = target;

  if (appc_jdecode_fields(c, v, fields, kv) < 0)
    return -1;
  if (kv->name == NULL && appc_jdecode_string(c, NULL, &kv->name) < 0)
    return -1;
  return kv->value == NULL ? appc_jdecode_string(c, NULL, &kv->value) : 0;
}

static int decode_kv_list(struct appc_jctx *c, struct json_object *v, struct appc_kv_list *l,
                          appc_jdecode_fn elem)
{
  return appc_jdecode_array(c, v, (void **) &l->items, &l->len, sizeof *l->items, elem, kv_clear);
}

int appc_jdecode_labels(struct appc_jctx *c, struct json_object *v, void *target)
{
  if (decode_kv_list(c, v, target, decode_label_elem) < 0)
    return -1;
  return appc_validate_labels(target, c->path, c->err);
}

int appc_jdecode_annotations(struct appc_jctx *c, struct json_object *v, void *target)
{
  if (decode_kv_list(c, v, target, decode_label_elem) < 0)
    return -1;
  return appc_validate_annotations(target, c->path, c->err);
}

int appc_jdecode_environment(struct appc_jctx *c, struct json_object *v, void *target)
{
  if (decode_kv_list(c, v, target, decode_env_elem) < 0)
    return -1;
  return appc_validate_environment(target, c->path, c->err);
}

/* The source text of a string written with escapes, quotes included, as the
 * parser keeps it (scan_string_value()); NULL for any other value. */
const char *appc_jraw_string(struct json_object *v)
{
  if (!json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_userdata(v);
}

char *appc_jraw_scalar(struct json_object *v, bool *escaped)
{
  const char *raw = appc_jraw_string(v);

  /* A string parsed by appc_json_parse_raw_value() keeps its source even
   * without escapes. */
  *escaped = raw != NULL && strchr(raw, '\\') != NULL;
  /* Go hands the raw bytes between the quotes to the quantity parser. */
  if (raw != NULL)
    return strndup(raw + 1, strlen(raw) - 2);
  if (json_object_is_type(v, json_type_string))
    return strdup(json_object_get_string(v));
  if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
    return strdup(json_object_to_json_string(v));
  return NULL;
}

char *appc_strdup_or_null(const char *s)
{
  return s != NULL ? strdup(s) : NULL;
}

int appc_string_list_dup(struct appc_string_list *dst, const struct appc_string_list *src)
{
  dst->items = NULL;
  dst->len = 0;
  if (src->items == NULL)
    return 0;
  dst->items = calloc(src->len > 0 ? src->len : 1, sizeof *dst->items);
  if (dst->items == NULL)
    return -1;
  for (size_t i = 0; i < src->len; i++) {
    dst->len = i + 1;
    dst->items[i] = strdup(src->items[i]);
    if (dst->items[i] == NULL)
      return -1;
  }
  return 0;
}

int appc_jdecode_text(struct appc_jctx *c, const char *text, size_t len, appc_jdecode_fn decode,
                      void *target)
{
  cleanup_json struct json_object *root = NULL;

  if (appc_json_parse(text, len, &root, c->err) < 0)
    return -1;
  return decode(c, root, target);
}
