/* SPDX-License-Identifier: Apache-2.0 */
/* Writing: text as Go's encoding/json writes it, json.Marshal or
 * json.MarshalIndent(v, "", "    ") (which is json.Indent over the compact
 * text, so empty arrays and objects stay "[]" and "{}").  The manifests are
 * written straight from their structures; json-c trees built elsewhere
 * (the metadata service's) go through appc_json_render(). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "schema/json.h"
#include "appc/schema.h"
#include "common/utf8.h"

/* ------------------------------------------------------------------------
 * The buffer and the layout.
 */

static void jw_put(struct appc_jw *w, const char *s, size_t n)
{
  if (w->failed)
    return;
  if (w->cap - w->len < n + 1) {
    if (w->s == NULL)
      w->cap = 256; /* the first allocation: a small manifest's worth */
    if (APPC_ARRAY_RESERVE(w->s, w->cap, w->len + n + 1) < 0) {
      w->failed = true;
      return;
    }
  }
  memcpy(w->s + w->len, s, n);
  w->len += n;
  w->s[w->len] = '\0';
}

static void jw_puts(struct appc_jw *w, const char *s)
{
  jw_put(w, s, strlen(s));
}

void appc_jw_init(struct appc_jw *w, int flags)
{
  *w = (struct appc_jw){.pretty = (flags & APPC_JSON_PRETTY) != 0, .first = true};
}

int appc_jw_finish(struct appc_jw *w, char **out, size_t *out_len, const char *what,
                   appc_error_t *err)
{
  if (w->failed || w->s == NULL) {
    free(w->s);
    return appc_error_make(err, ENOMEM, "%s", what);
  }
  *out = w->s;
  if (out_len != NULL)
    *out_len = w->len;
  return 0;
}

/* Before an array element or an object key: the comma and, indented, the
 * line break that json.Indent puts there. */
static void jw_item(struct appc_jw *w)
{
  if (!w->first)
    jw_put(w, ",", 1);
  if (w->pretty) {
    jw_put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
      jw_put(w, "    ", 4);
  }
  w->first = false;
}

/* Before a value: nothing after its key or at the top level. */
static void jw_value(struct appc_jw *w)
{
  if (w->after_key)
    w->after_key = false;
  else if (w->depth > 0)
    jw_item(w);
}

static void jw_open(struct appc_jw *w, const char *bracket)
{
  jw_value(w);
  jw_put(w, bracket, 1);
  w->depth++;
  w->first = true;
}

static void jw_close(struct appc_jw *w, const char *bracket)
{
  w->depth--;
  if (!w->first && w->pretty) {
    jw_put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
      jw_put(w, "    ", 4);
  }
  jw_put(w, bracket, 1);
  w->first = false; /* the container was an item of its parent */
}

void appc_jw_begin_object(struct appc_jw *w)
{
  jw_open(w, "{");
}

void appc_jw_end_object(struct appc_jw *w)
{
  jw_close(w, "}");
}

void appc_jw_begin_array(struct appc_jw *w)
{
  jw_open(w, "[");
}

void appc_jw_end_array(struct appc_jw *w)
{
  jw_close(w, "]");
}

/* ------------------------------------------------------------------------
 * Strings.
 */

/* A string as Go's encodeState.string with HTML escaping (Go 1.19): the
 * short escapes \" \\ \n \r \t, \u00xx for other control characters and for
 * < > &, \u2028 and \u2029, and \ufffd for bytes that are not UTF-8. */
static void jw_quote(struct appc_jw *w, const char *str, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) str;
  size_t start = 0, i = 0;

  jw_put(w, "\"", 1);
  while (i < n) {
    unsigned char c = s[i];
    const char *esc = NULL;
    char u[7];
    size_t step = 1;

    if (c < 0x80) {
      if (c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&') {
        i++;
        continue;
      }
      if (c == '"')
        esc = "\\\"";
      else if (c == '\\')
        esc = "\\\\";
      else if (c == '\n')
        esc = "\\n";
      else if (c == '\r')
        esc = "\\r";
      else if (c == '\t')
        esc = "\\t";
      else {
        memcpy(u, "\\u00", 4);
        u[4] = hex[c >> 4];
        u[5] = hex[c & 0xf];
        u[6] = '\0';
        esc = u;
      }
    } else {
      step = appc_utf8_len(s + i, n - i);
      if (step == 0) {
        esc = "\\ufffd";
        step = 1;
      } else if (step == 3 && c == 0xe2 && s[i + 1] == 0x80 && (s[i + 2] & 0xfe) == 0xa8) {
        esc = s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
      } else {
        i += step;
        continue;
      }
    }
    jw_put(w, str + start, i - start);
    jw_puts(w, esc);
    i += step;
    start = i;
  }
  jw_put(w, str + start, n - start);
  jw_put(w, "\"", 1);
}

/* A string kept in its source form (in an isolator value, which the
 * reference holds as a json.RawMessage): written as it was, with only the
 * HTML escaping (< > &) of Go's compact().  Unlike compact(), U+2028 and
 * U+2029 stay as they are: a quantity reads its raw text, and "\u2028" in
 * place of the character it trims would make the value invalid when read
 * back (docs/conformance.md).  RAW holds the text between the quotes. */
static void jw_raw_quote(struct appc_jw *w, const char *raw, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) raw;
  size_t start = 0, i = 0;

  jw_put(w, "\"", 1);
  for (; i < n; i++) {
    char u[7] = "\\u00";
    if (s[i] != '<' && s[i] != '>' && s[i] != '&')
      continue;
    u[4] = hex[s[i] >> 4];
    u[5] = hex[s[i] & 0xf];
    jw_put(w, raw + start, i - start);
    jw_put(w, u, 6);
    start = i + 1;
  }
  jw_put(w, raw + start, i - start);
  jw_put(w, "\"", 1);
}

void appc_jw_key(struct appc_jw *w, const char *key)
{
  jw_item(w);
  jw_quote(w, key, strlen(key));
  jw_puts(w, w->pretty ? ": " : ":");
  w->after_key = true;
}

/* ------------------------------------------------------------------------
 * Values.
 */

void appc_jw_string(struct appc_jw *w, const char *s)
{
  jw_value(w);
  jw_quote(w, s, strlen(s));
}

void appc_jw_int(struct appc_jw *w, int64_t n)
{
  char text[24];

  jw_value(w);
  jw_put(w, text, (size_t) snprintf(text, sizeof text, "%" PRId64, n));
}

void appc_jw_uint(struct appc_jw *w, uint64_t n)
{
  char text[24];

  jw_value(w);
  jw_put(w, text, (size_t) snprintf(text, sizeof text, "%" PRIu64, n));
}

void appc_jw_bool(struct appc_jw *w, bool b)
{
  jw_value(w);
  jw_puts(w, b ? "true" : "false");
}

void appc_jw_null(struct appc_jw *w)
{
  jw_value(w);
  jw_puts(w, "null");
}

void appc_jw_field_string(struct appc_jw *w, const char *key, const char *s)
{
  if (s == NULL)
    return; /* absent optional value: omitted */
  appc_jw_key(w, key);
  appc_jw_string(w, s);
}

/* S's LEN bytes into OUT, without their leading zeros when they are a
 * number. */
static void append_number(char **out, const char *s, size_t len)
{
  bool digits = len > 0;
  for (size_t i = 0; i < len; i++)
    digits = digits && s[i] >= '0' && s[i] <= '9';
  while (digits && len > 1 && *s == '0') {
    s++;
    len--;
  }
  memcpy(*out, s, len);
  *out += len;
}

void appc_jw_field_semver(struct appc_jw *w, const char *key, const char *s)
{
  if (s == NULL)
    return;
  size_t n = strlen(s);
  cleanup_free char *norm = malloc(n + 1);
  const char *plus = strchr(s, '+');
  size_t core = plus != NULL ? (size_t) (plus - s) : n;
  const char *dash = memchr(s, '-', core);
  const char *end = dash != NULL ? dash : s + core, *p = s;
  char *o = norm;

  if (norm == NULL) {
    appc_jw_field_string(w, key, s); /* the writer reports ENOMEM on its own */
    return;
  }
  for (int i = 0; i < 3; i++) {
    const char *dot = i < 2 ? memchr(p, '.', (size_t) (end - p)) : NULL;
    const char *stop = dot != NULL ? dot : end;
    append_number(&o, p, (size_t) (stop - p));
    if (dot == NULL)
      break;
    *o++ = '.';
    p = dot + 1;
  }
  if (dash != NULL && dash + 1 < s + core) {
    memcpy(o, dash, (size_t) (s + core - dash));
    o += s + core - dash;
  }
  if (plus != NULL && plus[1] != '\0') {
    memcpy(o, plus, strlen(plus));
    o += strlen(plus);
  }
  *o = '\0';
  appc_jw_field_string(w, key, norm);
}

void appc_jw_array(struct appc_jw *w, const void *items, size_t n, size_t size,
                   appc_jw_elem_fn elem)
{
  if (items == NULL) {
    appc_jw_null(w);
    return;
  }
  appc_jw_begin_array(w);
  for (size_t i = 0; i < n; i++)
    elem(w, (const char *) items + i * size);
  appc_jw_end_array(w);
}

void appc_jw_field_array(struct appc_jw *w, const char *key, const void *items, size_t n,
                         size_t size, appc_jw_elem_fn elem)
{
  if (n == 0)
    return;
  appc_jw_key(w, key);
  appc_jw_array(w, items, n, size, elem);
}

static void string_elem(struct appc_jw *w, const void *elem)
{
  appc_jw_string(w, *(char *const *) elem);
}

void appc_jw_string_list(struct appc_jw *w, const struct appc_string_list *l)
{
  appc_jw_array(w, l->items, l->len, sizeof *l->items, string_elem);
}

static void kv_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_kv *kv = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", kv->name);
  appc_jw_field_string(w, "value", kv->value);
  appc_jw_end_object(w);
}

void appc_jw_kv_list(struct appc_jw *w, const struct appc_kv_list *l)
{
  appc_jw_array(w, l->items, l->len, sizeof *l->items, kv_elem);
}

void appc_jw_field_kv_list(struct appc_jw *w, const char *key, const struct appc_kv_list *l)
{
  appc_jw_field_array(w, key, l->items, l->len, sizeof *l->items, kv_elem);
}

/* Written as a json-c object was built from it, should a caller's list
 * repeat a name (a parsed map does not): an entry with a NULL value is left
 * out, and a repeated name keeps the place of its first entry and the value
 * of its last. */
void appc_jw_string_map(struct appc_jw *w, const struct appc_kv_list *l)
{
  appc_jw_begin_object(w);
  for (size_t i = 0; i < l->len; i++) {
    const struct appc_kv *kv = &l->items[i], *last = kv;
    bool seen = kv->value == NULL;
    for (size_t j = 0; j < l->len && !seen; j++) {
      if (l->items[j].value == NULL || strcmp(l->items[j].name, kv->name) != 0)
        continue;
      if (j < i)
        seen = true;
      else
        last = &l->items[j];
    }
    if (!seen)
      appc_jw_field_string(w, kv->name, last->value);
  }
  appc_jw_end_object(w);
}

void appc_jw_field_string_map(struct appc_jw *w, const char *key, const struct appc_kv_list *l)
{
  if (l->len == 0)
    return;
  appc_jw_key(w, key);
  appc_jw_string_map(w, l);
}

/* ------------------------------------------------------------------------
 * Parsed values, kept as their source.
 */

/* A key holding U+0000 cannot be a C string: it is written as it was. */
static void jw_raw_key(struct appc_jw *w, const struct appc_jnode *m)
{
  if (!m->key_nul) {
    appc_jw_key(w, m->key);
    return;
  }
  jw_item(w);
  jw_raw_quote(w, m->key_src + 1, m->key_src_len - 2);
  jw_puts(w, w->pretty ? ": " : ":");
  w->after_key = true;
}

void appc_jw_raw(struct appc_jw *w, const struct appc_jnode *v)
{
  switch (v->kind) {
  case APPC_JNULL:
    appc_jw_null(w);
    return;
  case APPC_JBOOL:
    appc_jw_bool(w, v->boolean);
    return;
  case APPC_JNUMBER:
    jw_value(w);
    jw_put(w, v->text, v->len);
    return;
  case APPC_JSTRING:
    jw_value(w);
    jw_raw_quote(w, v->src + 1, v->src_len - 2);
    return;
  case APPC_JARRAY:
    appc_jw_begin_array(w);
    for (const struct appc_jnode *m = v->first; m != NULL; m = m->next)
      appc_jw_raw(w, m);
    appc_jw_end_array(w);
    return;
  case APPC_JOBJECT:
    appc_jw_begin_object(w);
    for (const struct appc_jnode *m = v->first; m != NULL; m = m->next) {
      jw_raw_key(w, m);
      appc_jw_raw(w, m);
    }
    appc_jw_end_object(w);
    return;
  }
}

/* ------------------------------------------------------------------------
 * json-c trees.
 */

static void jw_jsonc(struct appc_jw *w, struct json_object *v)
{
  switch (json_object_get_type(v)) {
  case json_type_null:
    appc_jw_null(w);
    return;
  case json_type_boolean:
    appc_jw_bool(w, json_object_get_boolean(v));
    return;
  case json_type_int:
  case json_type_double:
    jw_value(w);
    jw_puts(w, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    return;
  case json_type_string:
    jw_value(w);
    jw_quote(w, json_object_get_string(v), (size_t) json_object_get_string_len(v));
    return;
  case json_type_array:
    appc_jw_begin_array(w);
    for (size_t i = 0; i < json_object_array_length(v); i++)
      jw_jsonc(w, json_object_array_get_idx(v, i));
    appc_jw_end_array(w);
    return;
  case json_type_object:
    appc_jw_begin_object(w);
    json_object_object_foreach(v, key, val)
    {
      appc_jw_key(w, key);
      jw_jsonc(w, val);
    }
    appc_jw_end_object(w);
    return;
  }
}

int appc_json_render(struct json_object *obj, int flags, char **out, size_t *out_len,
                     appc_error_t *err)
{
  struct appc_jw w;

  appc_jw_init(&w, flags);
  jw_jsonc(&w, obj);
  return appc_jw_finish(&w, out, out_len, "serialising manifest", err);
}

int appc_jput(struct json_object *obj, const char *key, struct json_object *val)
{
  if (val == NULL)
    return -1;
  if (json_object_object_add(obj, key, val) < 0) {
    json_object_put(val);
    return -1;
  }
  return 0;
}

int appc_jput_string(struct json_object *obj, const char *key, const char *s)
{
  if (s == NULL)
    return 0; /* absent optional value: omitted */
  return appc_jput(obj, key, json_object_new_string(s));
}

struct json_object *appc_jstring_list(const struct appc_string_list *l)
{
  struct json_object *a = json_object_new_array();

  for (size_t i = 0; a != NULL && i < l->len; i++) {
    if (json_object_array_add(a, json_object_new_string(l->items[i])) < 0) {
      json_object_put(a);
      a = NULL;
    }
  }
  return a;
}

struct json_object *appc_jkv_list(const struct appc_kv_list *l)
{
  struct json_object *a = json_object_new_array();

  for (size_t i = 0; a != NULL && i < l->len; i++) {
    struct json_object *o = json_object_new_object();
    if (o == NULL || appc_jput_string(o, "name", l->items[i].name) < 0 ||
        appc_jput_string(o, "value", l->items[i].value) < 0 || json_object_array_add(a, o) < 0) {
      json_object_put(o);
      json_object_put(a);
      a = NULL;
    }
  }
  return a;
}
