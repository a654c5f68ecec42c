/* SPDX-License-Identifier: Apache-2.0 */
/* Scanning: the JSON grammar of Go's encoding/json and the tree it builds. */
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
 *  - the source text of a string written with escapes (appc_jraw_string()), which
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
  bool keep_raw; /* keep the source text of every string, see appc_jraw_string() */
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
size_t appc_utf8_len(const unsigned char *p, size_t avail)
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
    size_t n = appc_utf8_len(p + i, len - i);
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
    size_t k = appc_utf8_len(sc->s + sc->pos, sc->len - sc->pos);
    if (k == 0)
      return scan_error(sc, err, "invalid UTF-8 in string");
    memcpy(out + w, sc->s + sc->pos, k);
    w += k;
    sc->pos += k;
  }
  return scan_error(sc, err, "unterminated string");
}

/* A string value; one written with escapes keeps its source text (quotes
 * included) as its json-c serialisation, see appc_jraw_string(). */
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
