/* SPDX-License-Identifier: Apache-2.0 */
/* JSON layer of the schema module: syntax check, json-c parsing, Go-style
 * decoding helpers with JSON paths, and serialisation helpers. */
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
 * Parsing.  The text is checked against Go's encoding/json grammar (json-c's
 * own tokener is more lenient: raw control characters in strings, "1.",
 * NaN, comments, ...) and the json-c tree is built in the same linear pass,
 * so that the tree keeps what Go's decoder sees:
 *  - every member of an object, in document order, a repeated key included
 *    (json-c's tokener keeps only the last one), since Go decodes and
 *    validates each occurrence;
 *  - the source text of a string written with escapes (raw_string()), which
 *    Go hands unchanged to json.RawMessage and Quantity.UnmarshalJSON;
 *  - the literal of a number whose json-c form would differ: integers
 *    beyond 64 bits and non-integers become json-c "double_s" objects, and
 *    "-0" keeps its sign for the unsigned fields that must reject it.
 * The scan also validates UTF-8 and bounds the nesting depth (below Go's
 * limit, see APPC_JSON_MAX_DEPTH).
 */

#define STR_(x) #x
#define STR(x) STR_(x)

struct scan {
  const unsigned char *s;
  size_t len;
  size_t pos;
  int depth;
  bool keep_raw; /* keep the source text of every string, see raw_string() */
  /* Decoded text, used as a stack: the key of each object member being
   * parsed stays here while its value is parsed.  Decoded text is never
   * longer than its source, so LEN + 1 bytes always suffice. */
  char *buf;
  size_t buf_len;
};

static int scan_error(struct scan *sc, appc_error_t *err, const char *what)
{
  size_t line = 1, col = 1;

  for (size_t i = 0; i < sc->pos && i < sc->len; i++) {
    if (sc->s[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return appc_error_make(err, 0, "invalid JSON at line %zu, column %zu: %s", line, col, what);
}

static int scan_nomem(appc_error_t *err)
{
  return appc_error_make(err, ENOMEM, "parsing JSON");
}

static void scan_space(struct scan *sc)
{
  while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' || sc->s[sc->pos] == '\t' ||
                               sc->s[sc->pos] == '\r' || sc->s[sc->pos] == '\n'))
    sc->pos++;
}

static bool scan_digit(struct scan *sc)
{
  return sc->pos < sc->len && sc->s[sc->pos] >= '0' && sc->s[sc->pos] <= '9';
}

/* Length of the UTF-8 sequence at P (1..4), or 0 if it is not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included). */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
  unsigned char c = p[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf;

  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4;
  else
    return 0;
  if (c == 0xe0)
    lo = 0xa0;
  else if (c == 0xed)
    hi = 0x9f;
  else if (c == 0xf0)
    lo = 0x90;
  else if (c == 0xf4)
    hi = 0x8f;
  if (avail < n || p[1] < lo || p[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++) {
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  }
  return n;
}

bool appc_utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t len = strlen(s);

  for (size_t i = 0; i < len;) {
    size_t n = utf8_len(p + i, len - i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

static int hex_digit(unsigned char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
    return (c | 0x20) - 'a' + 10;
  return -1;
}

/* The code unit of the \uXXXX escape at S[AT] (AT + 6 <= LEN), or -1. */
static long escape_u4(const unsigned char *s, size_t len, size_t at)
{
  long v = 0;

  if (at + 6 > len || s[at] != '\\' || s[at + 1] != 'u')
    return -1;
  for (size_t i = 2; i < 6; i++) {
    int d = hex_digit(s[at + i]);
    if (d < 0)
      return -1;
    v = v << 4 | d;
  }
  return v;
}

static size_t utf8_put(char *out, unsigned long cp)
{
  if (cp < 0x80) {
    out[0] = (char) cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (char) (0xc0 | cp >> 6);
    out[1] = (char) (0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (char) (0xe0 | cp >> 12);
    out[1] = (char) (0x80 | (cp >> 6 & 0x3f));
    out[2] = (char) (0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (char) (0xf0 | cp >> 18);
  out[1] = (char) (0x80 | (cp >> 12 & 0x3f));
  out[2] = (char) (0x80 | (cp >> 6 & 0x3f));
  out[3] = (char) (0x80 | (cp & 0x3f));
  return 4;
}

/* Scan the string at the current position and push its decoded text (NUL
 * terminated, but it may hold NULs) on SC->buf at offset *OFF, *N bytes;
 * *ESCAPED tells whether the source used escapes.  The caller pops it by
 * restoring SC->buf_len to *OFF. */
static int scan_string(struct scan *sc, appc_error_t *err, size_t *off, size_t *n, bool *escaped)
{
  char *out = sc->buf + sc->buf_len;
  size_t w = 0;

  *escaped = false;
  sc->pos++; /* opening quote */
  while (sc->pos < sc->len) {
    unsigned char c = sc->s[sc->pos];
    if (c == '"') {
      sc->pos++;
      out[w] = '\0';
      *off = sc->buf_len;
      *n = w;
      sc->buf_len += w + 1;
      return 0;
    }
    if (c < 0x20)
      return scan_error(sc, err, "control character in string");
    if (c == '\\') {
      unsigned char e = sc->pos + 1 < sc->len ? sc->s[sc->pos + 1] : 0;
      static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
      const char *p;
      *escaped = true;
      if (e == 'u') {
        long cp = escape_u4(sc->s, sc->len, sc->pos);
        if (cp < 0)
          return scan_error(sc, err, "invalid \\u escape in string");
        sc->pos += 6;
        /* As Go's unquote: a surrogate pair makes one code point; any
         * other surrogate becomes U+FFFD. */
        if (cp >= 0xd800 && cp <= 0xdfff) {
          long lo = cp < 0xdc00 ? escape_u4(sc->s, sc->len, sc->pos) : -1;
          if (lo >= 0xdc00 && lo <= 0xdfff) {
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            sc->pos += 6;
          } else {
            cp = 0xfffd;
          }
        }
        w += utf8_put(out + w, (unsigned long) cp);
      } else if (e != 0 && (p = strchr(from, e)) != NULL) {
        out[w++] = to[p - from];
        sc->pos += 2;
      } else {
        return scan_error(sc, err, "invalid escape in string");
      }
      continue;
    }
    size_t k = utf8_len(sc->s + sc->pos, sc->len - sc->pos);
    if (k == 0)
      return scan_error(sc, err, "invalid UTF-8 in string");
    memcpy(out + w, sc->s + sc->pos, k);
    w += k;
    sc->pos += k;
  }
  return scan_error(sc, err, "unterminated string");
}

/* A string value; one written with escapes keeps its source text (quotes
 * included) as its json-c serialisation, see raw_string(). */
static int scan_string_value(struct scan *sc, appc_error_t *err, struct json_object **out)
{
  size_t start = sc->pos, off, n;
  bool escaped;
  struct json_object *o;

  if (scan_string(sc, err, &off, &n, &escaped) < 0)
    return -1;
  sc->buf_len = off;
  if (n > INT32_MAX)
    return appc_error_make(err, 0, "invalid JSON: string too long");
  o = json_object_new_string_len(sc->buf + off, (int) n);
  if (o == NULL)
    return scan_nomem(err);
  if (escaped || sc->keep_raw) {
    char *raw = strndup((const char *) sc->s + start, sc->pos - start);
    if (raw == NULL) {
      json_object_put(o);
      return scan_nomem(err);
    }
    json_object_set_serializer(o, json_object_userdata_to_json_string, raw,
                               json_object_free_userdata);
  }
  *out = o;
  return 0;
}

/* Does the integer literal S[0..N) fit int64 (negative) or uint64? */
static bool int_literal_fits(const unsigned char *s, size_t n)
{
  bool neg = s[0] == '-';
  size_t digits = n - (neg ? 1 : 0);
  const char *limit = neg ? "9223372036854775808" : "18446744073709551615";
  size_t limit_len = strlen(limit);

  if (digits != limit_len)
    return digits < limit_len;
  return memcmp(s + (neg ? 1 : 0), limit, limit_len) <= 0;
}

static int scan_number(struct scan *sc, appc_error_t *err, struct json_object **out)
{
  size_t start = sc->pos;
  bool integer = true;
  char *text;
  struct json_object *o;

  if (sc->s[sc->pos] == '-')
    sc->pos++;
  if (!scan_digit(sc))
    return scan_error(sc, err, "invalid number");
  if (sc->s[sc->pos] == '0')
    sc->pos++;
  else
    while (scan_digit(sc))
      sc->pos++;
  if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
    integer = false;
    sc->pos++;
    if (!scan_digit(sc))
      return scan_error(sc, err, "invalid number: digit expected after '.'");
    while (scan_digit(sc))
      sc->pos++;
  }
  if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
    integer = false;
    sc->pos++;
    if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
      sc->pos++;
    if (!scan_digit(sc))
      return scan_error(sc, err, "invalid number: digit expected in exponent");
    while (scan_digit(sc))
      sc->pos++;
  }
  /* The literal, NUL-terminated, on top of the stack (not pushed). */
  text = sc->buf + sc->buf_len;
  memcpy(text, sc->s + start, sc->pos - start);
  text[sc->pos - start] = '\0';
  if (integer && int_literal_fits(sc->s + start, sc->pos - start)) {
    if (text[0] == '-') {
      long long v = strtoll(text, NULL, 10);
      o = json_object_new_int64(v);
      /* "-0": Go's ParseUint rejects it, so keep the sign visible. */
      if (o != NULL && v == 0) {
        char *lit = strdup(text);
        if (lit == NULL) {
          json_object_put(o);
          return scan_nomem(err);
        }
        json_object_set_serializer(o, json_object_userdata_to_json_string, lit,
                                   json_object_free_userdata);
      }
    } else {
      unsigned long long v = strtoull(text, NULL, 10);
      o = v <= INT64_MAX ? json_object_new_int64((int64_t) v) : json_object_new_uint64(v);
    }
  } else {
    /* Not an integer for Go's int and uint fields; a quantity still reads
     * the literal, which json_object_to_json_string() gives back. */
    o = json_object_new_double_s(strtod(text, NULL), text);
  }
  if (o == NULL)
    return scan_nomem(err);
  *out = o;
  return 0;
}

static int scan_literal(struct scan *sc, appc_error_t *err, const char *word,
                        struct json_object **out)
{
  size_t n = strlen(word);

  if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
    return scan_error(sc, err, "invalid character");
  sc->pos += n;
  if (word[0] == 'n') {
    *out = NULL; /* json-c's null */
    return 0;
  }
  *out = json_object_new_boolean(word[0] == 't');
  return *out == NULL ? scan_nomem(err) : 0;
}

static int scan_value(struct scan *sc, appc_error_t *err, struct json_object **out);

/* An object member: KEY (decoded, on the stack) then VALUE, added without
 * looking for an earlier member of the same name. */
static int scan_member(struct scan *sc, appc_error_t *err, struct json_object *obj)
{
  size_t off, n;
  bool escaped;
  const char *key;
  struct json_object *val = NULL;

  if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
    return scan_error(sc, err, "object key expected");
  size_t start = sc->pos;
  if (scan_string(sc, err, &off, &n, &escaped) < 0)
    return -1;
  key = sc->buf + off;
  if (strlen(key) != n) {
    /* A key holding U+0000 cannot be a C string: keep its source text
     * behind a 0xFF byte, which valid UTF-8 never has, so that it matches
     * no field and maps can refuse it (see appc_jdecode_string_map). */
    size_t raw = sc->pos - start - 2;
    sc->buf[off] = '\xff';
    memcpy(sc->buf + off + 1, sc->s + start + 1, raw);
    sc->buf[off + 1 + raw] = '\0';
    sc->buf_len = off + raw + 2;
  }
  scan_space(sc);
  if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
    return scan_error(sc, err, "':' expected after object key");
  sc->pos++;
  if (scan_value(sc, err, &val) < 0)
    return -1;
  sc->buf_len = off;
  if (json_object_object_add_ex(obj, key, val, JSON_C_OBJECT_ADD_KEY_IS_NEW) < 0) {
    json_object_put(val);
    return scan_nomem(err);
  }
  return 0;
}

static int scan_container(struct scan *sc, appc_error_t *err, bool object, struct json_object **out)
{
  char close = object ? '}' : ']';
  struct json_object *c;

  if (++sc->depth > APPC_JSON_MAX_DEPTH)
    return scan_error(sc, err,
                      "arrays and objects nested deeper than " STR(
                          APPC_JSON_MAX_DEPTH) " levels (actool's nesting limit; Go's "
                                               "encoding/json allows 10000)");
  c = object ? json_object_new_object() : json_object_new_array_ext(4);
  if (c == NULL)
    return scan_nomem(err);
  sc->pos++;
  scan_space(sc);
  if (sc->pos < sc->len && sc->s[sc->pos] == close) {
    sc->pos++;
    sc->depth--;
    *out = c;
    return 0;
  }
  for (;;) {
    scan_space(sc);
    if (object) {
      if (scan_member(sc, err, c) < 0)
        goto fail;
    } else {
      struct json_object *v = NULL;
      if (scan_value(sc, err, &v) < 0)
        goto fail;
      if (json_object_array_add(c, v) < 0) {
        json_object_put(v);
        scan_nomem(err);
        goto fail;
      }
    }
    scan_space(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
      sc->pos++;
      continue;
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
      sc->pos++;
      sc->depth--;
      *out = c;
      return 0;
    }
    scan_error(sc, err, object ? "',' or '}' expected" : "',' or ']' expected");
    goto fail;
  }
fail:
  json_object_put(c);
  return -1;
}

static int scan_value(struct scan *sc, appc_error_t *err, struct json_object **out)
{
  scan_space(sc);
  if (sc->pos >= sc->len)
    return scan_error(sc, err, "unexpected end of input");
  switch (sc->s[sc->pos]) {
  case '{':
    return scan_container(sc, err, true, out);
  case '[':
    return scan_container(sc, err, false, out);
  case '"':
    return scan_string_value(sc, err, out);
  case 't':
    return scan_literal(sc, err, "true", out);
  case 'f':
    return scan_literal(sc, err, "false", out);
  case 'n':
    return scan_literal(sc, err, "null", out);
  default:
    if (sc->s[sc->pos] == '-' || scan_digit(sc))
      return scan_number(sc, err, out);
    return scan_error(sc, err, "invalid character");
  }
}

/* Parse BUF[0..LEN) as one JSON value with nothing after it but space. */
static int parse_text(const char *buf, size_t len, bool keep_raw, struct json_object **out,
                      appc_error_t *err)
{
  struct scan sc = {.s = (const unsigned char *) buf, .len = len, .keep_raw = keep_raw};
  struct json_object *v = NULL;
  int r;

  if (len > INT32_MAX)
    return appc_error_make(err, 0, "invalid JSON: document too large");
  sc.buf = malloc(len + 1);
  if (sc.buf == NULL)
    return scan_nomem(err);
  r = scan_value(&sc, err, &v);
  if (r == 0) {
    scan_space(&sc);
    if (sc.pos < len)
      r = scan_error(&sc, err, "invalid character after top-level value");
  }
  free(sc.buf);
  if (r < 0) {
    json_object_put(v);
    return -1;
  }
  *out = v;
  return 0;
}

int appc_json_parse_value(const char *text, struct json_object **out, appc_error_t *err)
{
  return parse_text(text, strlen(text), false, out, err);
}

int appc_json_parse_raw_value(const char *text, struct json_object **out, appc_error_t *err)
{
  return parse_text(text, strlen(text), true, out, err);
}

int appc_json_parse(const char *buf, size_t len, struct json_object **out, appc_error_t *err)
{
  struct json_object *v = NULL;
  size_t i = 0;

  while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
    i++;
  if (i < len && buf[i] != '{') {
    /* A syntax error first, as Go reports it, else the type. */
    struct scan sc = {.s = (const unsigned char *) buf, .len = len, .pos = i};
    int r;
    if ((sc.buf = malloc(len + 1)) == NULL)
      return scan_nomem(err);
    r = scan_value(&sc, err, &v);
    free(sc.buf);
    json_object_put(v);
    return r < 0 ? -1 : appc_error_make(err, 0, "manifest must be a JSON object");
  }
  if (parse_text(buf, len, false, &v, err) < 0)
    return -1;
  *out = v;
  return 0;
}

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
static const char *raw_string(struct json_object *v)
{
  if (!json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_userdata(v);
}

char *appc_jraw_scalar(struct json_object *v, bool *escaped)
{
  const char *raw = raw_string(v);

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
      step = utf8_len(s + i, n - i);
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
    if (raw_string(v) != NULL)
      jb_raw_string(b, raw_string(v) + 1, strlen(raw_string(v)) - 2);
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
