/* SPDX-License-Identifier: Apache-2.0 */
/* Decoding: Go-style decoders with JSON paths over the parsed tree. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/suggest.h"
#include "schema/json.h"
/* The public declarations of appc_kv_list_clear and appc_string_list_clear,
 * which the shared library exports. */
#include "appc/schema.h"
#include "appc/types.h"

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

const char *appc_jtype_name(const struct appc_jnode *v)
{
  switch (v != NULL ? v->kind : APPC_JNULL) {
  case APPC_JNULL:
    return "null";
  case APPC_JBOOL:
    return "bool";
  case APPC_JNUMBER:
    return "number";
  case APPC_JOBJECT:
    return "object";
  case APPC_JARRAY:
    return "array";
  case APPC_JSTRING:
    return "string";
  }
  return "value";
}

static int type_error(struct appc_jctx *c, const struct appc_jnode *v, const char *want)
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

/* KEY of the current object is none of FIELDS: tell c->unknown its path
 * and the field it is likely a typo of. */
static void report_unknown(struct appc_jctx *c, const char *key, const struct appc_jfield *fields,
                           size_t n_fields)
{
  struct appc_suggest s;
  size_t mark = appc_jpath_key(c, key);

  appc_suggest_init(&s, key);
  for (size_t i = 0; i < n_fields; i++)
    appc_suggest_add(&s, fields[i].name);
  c->unknown(c->unknown_data, c->path, appc_suggest_best(&s));
  appc_jpath_restore(c, mark);
}

int appc_jdecode_object(struct appc_jctx *c, const struct appc_jnode *v,
                        const struct appc_jfield *fields, size_t n_fields, void *target)
{
  if (v == NULL)
    return 0; /* null leaves a struct as it is */
  if (v->kind != APPC_JOBJECT)
    return type_error(c, v, "an object");
  for (const struct appc_jnode *m = v->first; m != NULL; m = m->next) {
    /* A key holding U+0000 matches no field name. */
    const struct appc_jfield *f = m->key_nul ? NULL : find_field(fields, n_fields, m->key);
    if (f == NULL) {
      /* Unknown fields are ignored, as in Go, but may be reported. */
      if (c->unknown != NULL && !m->key_nul)
        report_unknown(c, m->key, fields, n_fields);
      continue;
    }
    size_t mark = appc_jpath_key(c, f->name);
    int r = f->decode(c, appc_jvalue(m), (char *) target + f->offset);
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

int appc_jdecode_array(struct appc_jctx *c, const struct appc_jnode *v, void **items, size_t *len,
                       size_t elem_size, appc_jdecode_fn decode, appc_jfree_fn free_elem)
{
  size_t n;

  appc_jfree_array(items, len, elem_size, free_elem);
  if (v == NULL)
    return 0;
  if (v->kind != APPC_JARRAY)
    return type_error(c, v, "an array");
  n = v->len;
  /* Even an empty array gets storage: [] is not Go's nil slice. */
  *items = calloc(n > 0 ? n : 1, elem_size);
  if (*items == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  const struct appc_jnode *m = v->first;
  for (size_t i = 0; i < n; i++, m = m->next) {
    size_t mark = appc_jpath_index(c, i);
    /* Count the element before decoding so a failure still frees it. */
    *len = i + 1;
    if (decode(c, appc_jvalue(m), (char *) *items + i * elem_size) < 0)
      return -1;
    appc_jpath_restore(c, mark);
  }
  return 0;
}

/* Copy the string V into *OUT, refusing embedded NULs (see conformance.md). */
static int take_string(struct appc_jctx *c, const struct appc_jnode *v, char **out)
{
  char *copy;

  if (v->nul)
    return appc_jerr(c, "strings must not contain U+0000");
  copy = strdup(v->text);
  if (copy == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  free(*out);
  *out = copy;
  return 0;
}

int appc_jdecode_string(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  char **out = target;

  if (v == NULL) {
    /* null leaves a string as it is; an unset one reads as "". */
    if (*out == NULL && (*out = strdup("")) == NULL)
      return appc_error_make(c->err, ENOMEM, "%s", c->path);
    return 0;
  }
  if (v->kind != APPC_JSTRING)
    return type_error(c, v, "a string");
  return take_string(c, v, out);
}

int appc_jdecode_bool(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  if (v == NULL)
    return 0;
  if (v->kind != APPC_JBOOL)
    return type_error(c, v, "a boolean");
  *(bool *) target = v->boolean;
  return 0;
}

/* Does the number literal S[0..N) have Go's int or uint syntax and fit
 * int64 (negative) or uint64?  Others are not integers to Go's decoder. */
static bool int_literal_fits(const char *s, size_t n)
{
  bool neg = s[0] == '-';
  size_t digits = n - (neg ? 1 : 0);
  const char *limit = neg ? "9223372036854775808" : "18446744073709551615";
  size_t limit_len = strlen(limit);

  if (strpbrk(s, ".eE") != NULL)
    return false;
  if (digits != limit_len)
    return digits < limit_len;
  return memcmp(s + (neg ? 1 : 0), limit, limit_len) <= 0;
}

/* The literal of the integer V. */
static int integer_text(struct appc_jctx *c, const struct appc_jnode *v, const char **text)
{
  if (v->kind != APPC_JNUMBER)
    return type_error(c, v, "an integer");
  if (!int_literal_fits(v->text, v->len))
    return appc_jerr(c, "%s is not an integer or is out of range", v->text);
  *text = v->text;
  return 0;
}

int appc_jdecode_int64(struct appc_jctx *c, const struct appc_jnode *v, void *target)
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

int appc_jdecode_uint64(struct appc_jctx *c, const struct appc_jnode *v, void *target)
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

int appc_jdecode_checked(struct appc_jctx *c, const struct appc_jnode *v, char **target,
                         int (*validate)(const char *, appc_error_t *))
{
  cleanup_free char *s = NULL;

  /* These types validate even a null: Go calls their UnmarshalJSON with it. */
  if (v == NULL)
    s = strdup("");
  else if (v->kind != APPC_JSTRING)
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

int appc_jdecode_acidentifier(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_acidentifier);
}

int appc_jdecode_acname(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_acname);
}

int appc_jdecode_semver(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_semver);
}

int appc_jdecode_hash(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_hash);
}

int appc_jdecode_ackind(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_checked(c, v, target, appc_validate_ackind);
}

static void free_string_elem(void *elem)
{
  free(*(char **) elem);
}

static int decode_string_elem(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_string(c, v, target);
}

int appc_jdecode_string_list(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_string_list *l = target;
  return appc_jdecode_array(c, v, (void **) &l->items, &l->len, sizeof(char *), decode_string_elem,
                            free_string_elem);
}

static int decode_int64_elem(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  return appc_jdecode_int64(c, v, target);
}

int appc_jdecode_int64_list(struct appc_jctx *c, const struct appc_jnode *v, int64_t **items,
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
int appc_jdecode_string_map(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_kv_list *l = target;
  size_t n = 0;

  appc_kv_list_clear(l);
  if (v == NULL)
    return 0;
  if (v->kind != APPC_JOBJECT)
    return type_error(c, v, "an object");
  l->items = calloc(v->len + 1, sizeof *l->items);
  if (l->items == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  for (const struct appc_jnode *m = v->first; m != NULL; m = m->next) {
    if (m->key_nul)
      return appc_jerr(c, "keys must not contain U+0000");
    size_t mark = appc_jpath_key(c, m->key);
    struct appc_kv *kv = &l->items[n];
    l->len = ++n;
    kv->name = strdup(m->key);
    if (kv->name == NULL)
      return appc_error_make(c->err, ENOMEM, "%s", c->path);
    if (appc_jdecode_string(c, appc_jvalue(m), &kv->value) < 0)
      return -1;
    appc_jpath_restore(c, mark);
  }
  if (kv_sort_unique(l) < 0)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  return 0;
}

static int decode_label_elem(struct appc_jctx *c, const struct appc_jnode *v, void *target)
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

static int decode_env_elem(struct appc_jctx *c, const struct appc_jnode *v, void *target)
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

static int decode_kv_list(struct appc_jctx *c, const struct appc_jnode *v, struct appc_kv_list *l,
                          appc_jdecode_fn elem)
{
  return appc_jdecode_array(c, v, (void **) &l->items, &l->len, sizeof *l->items, elem, kv_clear);
}

int appc_jdecode_labels(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  if (decode_kv_list(c, v, target, decode_label_elem) < 0)
    return -1;
  return appc_validate_labels(target, c->path, c->err);
}

int appc_jdecode_annotations(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  if (decode_kv_list(c, v, target, decode_label_elem) < 0)
    return -1;
  return appc_validate_annotations(target, c->path, c->err);
}

int appc_jdecode_environment(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  if (decode_kv_list(c, v, target, decode_env_elem) < 0)
    return -1;
  return appc_validate_environment(target, c->path, c->err);
}

char *appc_jraw_scalar(const struct appc_jnode *v, bool *escaped)
{
  *escaped = v != NULL && v->kind == APPC_JSTRING && v->escaped;
  if (v == NULL)
    return NULL;
  /* Go hands the raw bytes between the quotes to the quantity parser. */
  if (v->kind == APPC_JSTRING)
    return strndup(v->src + 1, v->src_len - 2);
  if (v->kind == APPC_JNUMBER)
    return strdup(v->text);
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
  cleanup_jtree struct appc_jtree *tree = NULL;

  if (appc_json_parse(text, len, &tree, c->err) < 0)
    return -1;
  return decode(c, tree->root, target);
}
