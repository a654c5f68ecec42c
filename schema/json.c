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
 * Syntax check.  json-c alone is more lenient than Go (raw control
 * characters in strings, "1.", NaN, comments, ...), so the grammar is checked
 * here first; the scan also validates UTF-8 and bounds the nesting depth, and
 * notes integer literals that json-c would clamp silently.
 */

struct scan {
  const unsigned char *s;
  size_t len;
  size_t pos;
  int depth;
  size_t *wide_ints; /* offsets just past integer literals out of 64-bit range */
  size_t n_wide_ints;
};

static void scan_release(struct scan *sc)
{
  free(sc->wide_ints);
}

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

static void scan_space(struct scan *sc)
{
  while (sc->pos < sc->len && strchr(" \t\r\n", sc->s[sc->pos]) != NULL && sc->s[sc->pos] != 0)
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

static int scan_string(struct scan *sc, appc_error_t *err)
{
  sc->pos++; /* opening quote */
  while (sc->pos < sc->len) {
    unsigned char c = sc->s[sc->pos];
    if (c == '"') {
      sc->pos++;
      return 0;
    }
    if (c < 0x20)
      return scan_error(sc, err, "control character in string");
    if (c == '\\') {
      unsigned char e = sc->pos + 1 < sc->len ? sc->s[sc->pos + 1] : 0;
      if (e == 'u') {
        for (size_t i = 2; i < 6; i++) {
          if (sc->pos + i >= sc->len ||
              strchr("0123456789abcdefABCDEF", sc->s[sc->pos + i]) == NULL ||
              sc->s[sc->pos + i] == 0)
            return scan_error(sc, err, "invalid \\u escape in string");
        }
        sc->pos += 6;
      } else if (e != 0 && strchr("\"\\/bfnrt", e) != NULL) {
        sc->pos += 2;
      } else {
        return scan_error(sc, err, "invalid escape in string");
      }
      continue;
    }
    size_t n = utf8_len(sc->s + sc->pos, sc->len - sc->pos);
    if (n == 0)
      return scan_error(sc, err, "invalid UTF-8 in string");
    sc->pos += n;
  }
  return scan_error(sc, err, "unterminated string");
}

/* Does the integer literal S[0..N) fit json-c's int64 / uint64 storage? */
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

static int scan_number(struct scan *sc, appc_error_t *err)
{
  size_t start = sc->pos;
  bool integer = true;

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
  if (integer && !int_literal_fits(sc->s + start, sc->pos - start)) {
    size_t *n = realloc(sc->wide_ints, (sc->n_wide_ints + 1) * sizeof *n);
    if (n == NULL)
      return appc_error_make(err, ENOMEM, "parsing JSON");
    sc->wide_ints = n;
    sc->wide_ints[sc->n_wide_ints++] = sc->pos;
  }
  return 0;
}

static int scan_literal(struct scan *sc, appc_error_t *err, const char *word)
{
  size_t n = strlen(word);

  if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
    return scan_error(sc, err, "invalid character");
  sc->pos += n;
  return 0;
}

static int scan_value(struct scan *sc, appc_error_t *err);

static int scan_container(struct scan *sc, appc_error_t *err, bool object)
{
  char close = object ? '}' : ']';

  if (++sc->depth > APPC_JSON_MAX_DEPTH)
    return scan_error(sc, err, "nested too deeply");
  sc->pos++;
  scan_space(sc);
  if (sc->pos < sc->len && sc->s[sc->pos] == close) {
    sc->pos++;
    sc->depth--;
    return 0;
  }
  for (;;) {
    scan_space(sc);
    if (object) {
      if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
        return scan_error(sc, err, "object key expected");
      if (scan_string(sc, err) < 0)
        return -1;
      scan_space(sc);
      if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
        return scan_error(sc, err, "':' expected after object key");
      sc->pos++;
    }
    if (scan_value(sc, err) < 0)
      return -1;
    scan_space(sc);
    if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
      sc->pos++;
      continue;
    }
    if (sc->pos < sc->len && sc->s[sc->pos] == close) {
      sc->pos++;
      sc->depth--;
      return 0;
    }
    return scan_error(sc, err, object ? "',' or '}' expected" : "',' or ']' expected");
  }
}

static int scan_value(struct scan *sc, appc_error_t *err)
{
  scan_space(sc);
  if (sc->pos >= sc->len)
    return scan_error(sc, err, "unexpected end of input");
  switch (sc->s[sc->pos]) {
  case '{':
    return scan_container(sc, err, true);
  case '[':
    return scan_container(sc, err, false);
  case '"':
    return scan_string(sc, err);
  case 't':
    return scan_literal(sc, err, "true");
  case 'f':
    return scan_literal(sc, err, "false");
  case 'n':
    return scan_literal(sc, err, "null");
  default:
    if (sc->s[sc->pos] == '-' || scan_digit(sc))
      return scan_number(sc, err);
    return scan_error(sc, err, "invalid character");
  }
}

/* json-c clamps integers beyond 64 bits; turning them into "N.0" keeps them
 * out of integer fields (where Go rejects them as overflowing) while a
 * quantity still reads the same number. */
static char *widen_ints(const char *buf, size_t len, const struct scan *sc, size_t *out_len)
{
  char *out = malloc(len + 2 * sc->n_wide_ints + 1);
  size_t from = 0, to = 0;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < sc->n_wide_ints; i++) {
    size_t n = sc->wide_ints[i] - from;
    memcpy(out + to, buf + from, n);
    to += n;
    memcpy(out + to, ".0", 2);
    to += 2;
    from = sc->wide_ints[i];
  }
  memcpy(out + to, buf + from, len - from);
  to += len - from;
  out[to] = '\0';
  *out_len = to;
  return out;
}

static int tokenize(const char *buf, size_t len, struct json_object **out, appc_error_t *err)
{
  /* json-c counts a level per value, so give it room beyond our own limit. */
  struct json_tokener *tok = json_tokener_new_ex(2 * APPC_JSON_MAX_DEPTH + 2);
  struct json_object *obj;
  enum json_tokener_error jerr;

  if (tok == NULL)
    return appc_error_make(err, ENOMEM, "parsing JSON");
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
  obj = json_tokener_parse_ex(tok, buf, (int) len);
  jerr = json_tokener_get_error(tok);
  json_tokener_free(tok);
  if (obj == NULL || jerr != json_tokener_success) {
    json_object_put(obj);
    return appc_error_make(err, 0, "invalid JSON: %s", json_tokener_error_desc(jerr));
  }
  *out = obj;
  return 0;
}

int appc_json_parse_value(const char *text, struct json_object **out, appc_error_t *err)
{
  struct scan sc = {.s = (const unsigned char *) text, .len = strlen(text)};
  int r = scan_value(&sc, err);

  if (r == 0) {
    scan_space(&sc);
    if (sc.pos < sc.len)
      r = scan_error(&sc, err, "invalid character after top-level value");
  }
  if (r == 0 && sc.n_wide_ints > 0)
    r = appc_error_make(err, 0, "invalid JSON: integer out of 64-bit range");
  scan_release(&sc);
  /* Passing the NUL too lets json-c finish a bare number. */
  return r < 0 ? -1 : tokenize(text, sc.len + 1, out, err);
}

int appc_json_parse(const char *buf, size_t len, struct json_object **out, appc_error_t *err)
{
  struct scan sc = {.s = (const unsigned char *) buf, .len = len};
  cleanup_free char *widened = NULL;
  int r;

  if (len > INT32_MAX)
    return appc_error_make(err, 0, "invalid JSON: document too large");
  scan_space(&sc);
  if (sc.pos < len && buf[sc.pos] != '{') {
    r = scan_value(&sc, err);
    scan_release(&sc);
    return r < 0 ? -1 : appc_error_make(err, 0, "manifest must be a JSON object");
  }
  r = scan_value(&sc, err);
  if (r == 0) {
    scan_space(&sc);
    if (sc.pos < len)
      r = scan_error(&sc, err, "invalid character after top-level value");
  }
  if (r == 0 && sc.n_wide_ints > 0) {
    widened = widen_ints(buf, len, &sc, &len);
    if (widened == NULL)
      r = appc_error_make(err, ENOMEM, "parsing JSON");
    buf = widened;
  }
  scan_release(&sc);
  if (r < 0)
    return -1;
  return tokenize(buf, len, out, err);
}

/* ------------------------------------------------------------------------
 * JSON paths.
 */

static size_t jpath_append(struct appc_jctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t jpath_append(struct appc_jctx *c, const char *fmt, ...)
{
  size_t mark = c->len;
  va_list ap;
  int n;

  if (c->len >= sizeof c->path - 1)
    return mark;
  va_start(ap, fmt);
  n = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, ap);
  va_end(ap);
  if (n < 0)
    c->path[c->len] = '\0';
  else if ((size_t) n >= sizeof c->path - c->len)
    c->len = sizeof c->path - 1; /* truncated: still a useful prefix */
  else
    c->len += (size_t) n;
  return mark;
}

size_t appc_jpath_key(struct appc_jctx *c, const char *key)
{
  return jpath_append(c, c->len == 0 ? "%s" : ".%s", key);
}

size_t appc_jpath_index(struct appc_jctx *c, size_t index)
{
  return jpath_append(c, "[%zu]", index);
}

void appc_jpath_restore(struct appc_jctx *c, size_t mark)
{
  c->len = mark;
  c->path[mark] = '\0';
}

int appc_jerr(struct appc_jctx *c, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;
  int r;

  va_start(ap, fmt);
  r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (r < 0)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  if (c->len == 0)
    return appc_error_make(c->err, 0, "%s", msg);
  return appc_error_make(c->err, 0, "%s: %s", c->path, msg);
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
  if (n == 0)
    return 0;
  *items = calloc(n, elem_size);
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

static int kv_cmp(const void *a, const void *b)
{
  return strcmp(((const struct appc_kv *) a)->name, ((const struct appc_kv *) b)->name);
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
  qsort(l->items, l->len, sizeof *l->items, kv_cmp);
  return 0;
}

static int decode_label_elem(struct appc_jctx *c, struct json_object *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acidentifier, offsetof(struct appc_kv, name)},
      {"value", appc_jdecode_string, offsetof(struct appc_kv, value)},
  };
  struct appc_kv *kv = target;

  if (appc_jdecode_object(c, v, fields, 2, kv) < 0)
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

  if (appc_jdecode_object(c, v, fields, 2, kv) < 0)
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

char *appc_jraw_scalar(struct json_object *v, bool *escaped)
{
  *escaped = false;
  if (json_object_is_type(v, json_type_string)) {
    const char *s = json_object_get_string(v);
    size_t len = (size_t) json_object_get_string_len(v);
    /* Go hands the raw bytes between the quotes to the quantity parser:
     * characters that JSON must escape arrive as backslash sequences. */
    for (size_t i = 0; i < len; i++) {
      if ((unsigned char) s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
        *escaped = true;
    }
    return strdup(s);
  }
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
  if (src->len == 0)
    return 0;
  dst->items = calloc(src->len, sizeof *dst->items);
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

int appc_json_render(struct json_object *obj, int flags, char **out, size_t *out_len,
                     appc_error_t *err)
{
  int jflags = JSON_C_TO_STRING_NOSLASHESCAPE;
  size_t len;
  const char *text;

  jflags |= (flags & APPC_JSON_PRETTY) ? (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED)
                                       : JSON_C_TO_STRING_PLAIN;
  text = json_object_to_json_string_length(obj, jflags, &len);
  if (text == NULL)
    return appc_error_make(err, ENOMEM, "serialising manifest");
  *out = strndup(text, len);
  if (*out == NULL)
    return appc_error_make(err, ENOMEM, "serialising manifest");
  if (out_len != NULL)
    *out_len = len;
  return 0;
}
