/* SPDX-License-Identifier: Apache-2.0 */
/* Writing: Go's json.Marshal and json.MarshalIndent output. */
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
 * Serialising.
 */

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

int appc_jput_list(struct json_object *obj, const char *key, const void *items,
                   struct json_object *val)
{
  if (items != NULL)
    return appc_jput(obj, key, val);
  json_object_put(val);
  return json_object_object_add(obj, key, NULL) < 0 ? -1 : 0;
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

struct json_object *appc_jstring_map(const struct appc_kv_list *l)
{
  struct json_object *o = json_object_new_object();

  for (size_t i = 0; o != NULL && i < l->len; i++) {
    if (appc_jput_string(o, l->items[i].name, l->items[i].value) < 0) {
      json_object_put(o);
      o = NULL;
    }
  }
  return o;
}

/* Output as Go's encoding/json writes it: json.Marshal, or json.MarshalIndent
 * with an empty prefix and four spaces (which is json.Indent over the
 * compact text, so empty arrays and objects stay "[]" and "{}"). */

struct jbuf {
  char *s;
  size_t len, cap;
  bool oom;
};

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
  if (b->oom)
    return;
  if (b->cap - b->len < n + 1) {
    size_t cap = b->cap != 0 ? b->cap : 256;
    while (cap - b->len < n + 1)
      cap *= 2;
    char *p = realloc(b->s, cap);
    if (p == NULL) {
      b->oom = true;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void jb_puts(struct jbuf *b, const char *s)
{
  jb_put(b, s, strlen(s));
}

static void jb_newline(struct jbuf *b, int depth)
{
  jb_put(b, "\n", 1);
  for (int i = 0; i < depth; i++)
    jb_put(b, "    ", 4);
}

/* A string as Go's encodeState.string with HTML escaping (Go 1.19): the
 * short escapes \" \\ \n \r \t, \u00xx for other control characters and for
 * < > &, \u2028 and \u2029, and \ufffd for bytes that are not UTF-8. */
static void jb_string(struct jbuf *b, const char *str, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) str;
  size_t start = 0, i = 0;

  jb_put(b, "\"", 1);
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
    jb_put(b, str + start, i - start);
    jb_puts(b, esc);
    i += step;
    start = i;
  }
  jb_put(b, str + start, n - start);
  jb_put(b, "\"", 1);
}

/* A string kept in its source form (in an isolator value, which the
 * reference holds as a json.RawMessage): written as it was, with only the
 * HTML escaping (< > &) of Go's compact().  Unlike compact(), U+2028 and
 * U+2029 stay as they are: a quantity reads its raw text, and "\u2028" in
 * place of the character it trims would make the value invalid when read
 * back (docs/conformance.md).  RAW holds the text between the quotes. */
static void jb_raw_string(struct jbuf *b, const char *raw, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) raw;
  size_t start = 0, i = 0;

  jb_put(b, "\"", 1);
  for (; i < n; i++) {
    char u[7] = "\\u00";
    if (s[i] != '<' && s[i] != '>' && s[i] != '&')
      continue;
    u[4] = hex[s[i] >> 4];
    u[5] = hex[s[i] & 0xf];
    jb_put(b, raw + start, i - start);
    jb_put(b, u, 6);
    start = i + 1;
  }
  jb_put(b, raw + start, i - start);
  jb_put(b, "\"", 1);
}

/* An object key.  One holding U+0000 is kept as its source text behind a
 * 0xFF byte (see scan_member()) and written back as that text. */
static void jb_key(struct jbuf *b, const char *key)
{
  if ((unsigned char) key[0] == 0xff)
    jb_raw_string(b, key + 1, strlen(key + 1));
  else
    jb_string(b, key, strlen(key));
}

static void jb_value(struct jbuf *b, struct json_object *v, int flags, int depth)
{
  bool pretty = (flags & APPC_JSON_PRETTY) != 0;
  size_t n = 0;

  switch (json_object_get_type(v)) {
  case json_type_null:
    jb_puts(b, "null");
    return;
  case json_type_boolean:
    jb_puts(b, json_object_get_boolean(v) ? "true" : "false");
    return;
  case json_type_int:
  case json_type_double:
    /* int64 and uint64 in decimal; a number kept from a manifest (in an
     * isolator value) as it was written, like Go's json.RawMessage. */
    jb_puts(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    return;
  case json_type_string:
    if (appc_jraw_string(v) != NULL)
      jb_raw_string(b, appc_jraw_string(v) + 1, strlen(appc_jraw_string(v)) - 2);
    else if (flags & APPC_JSON_RAW)
      /* Parsed from source without escapes: nothing but < > & to escape. */
      jb_raw_string(b, json_object_get_string(v), (size_t) json_object_get_string_len(v));
    else
      jb_string(b, json_object_get_string(v), (size_t) json_object_get_string_len(v));
    return;
  case json_type_array:
    n = json_object_array_length(v);
    jb_put(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
      if (i > 0)
        jb_put(b, ",", 1);
      if (pretty)
        jb_newline(b, depth + 1);
      jb_value(b, json_object_array_get_idx(v, i), flags, depth + 1);
    }
    if (pretty && n > 0)
      jb_newline(b, depth);
    jb_put(b, "]", 1);
    return;
  case json_type_object:
    jb_put(b, "{", 1);
    json_object_object_foreach(v, key, val)
    {
      if (n++ > 0)
        jb_put(b, ",", 1);
      if (pretty)
        jb_newline(b, depth + 1);
      jb_key(b, key);
      jb_puts(b, pretty ? ": " : ":");
      jb_value(b, val, flags, depth + 1);
    }
    if (pretty && n > 0)
      jb_newline(b, depth);
    jb_put(b, "}", 1);
    return;
  }
}

int appc_json_render(struct json_object *obj, int flags, char **out, size_t *out_len,
                     appc_error_t *err)
{
  struct jbuf b = {NULL, 0, 0, false};

  jb_value(&b, obj, flags, 0);
  if (b.oom || b.s == NULL) {
    free(b.s);
    return appc_error_make(err, ENOMEM, "serialising manifest");
  }
  *out = b.s;
  if (out_len != NULL)
    *out_len = b.len;
  return 0;
}
