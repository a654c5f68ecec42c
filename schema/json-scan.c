/* SPDX-License-Identifier: Apache-2.0 */
/* Scanning: the JSON grammar of Go's encoding/json and the tree it builds. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schema/json.h"
#include "common/utf8.h"

/* ------------------------------------------------------------------------
 * Parsing.  The text is checked against Go's encoding/json grammar (json-c's
 * tokener is more lenient: raw control characters in strings, "1.", NaN,
 * comments, ...) and a tree of struct appc_jnode is built in the same linear
 * pass.  It keeps what Go's decoder sees: every member of an object in
 * document order, a repeated key included (Go decodes and validates each
 * occurrence, where a json-c object keeps one per key), and the source text
 * of every value, which Go hands unchanged to json.RawMessage and
 * Quantity.UnmarshalJSON.  The scan also validates UTF-8 and bounds the
 * nesting depth (below Go's limit, see APPC_JSON_MAX_DEPTH).
 *
 * Nodes and decoded text go in one arena per tree.  Decoded text is never
 * longer than its source: a string's, NUL included, fits in its span less
 * one quote, and a number literal's NUL in the delimiter after it (or one
 * byte past the end), so one block of LEN + 1 bytes holds it all.
 */

#define STR_(x) #x
#define STR(x) STR_(x)

struct scan {
  const unsigned char *s;
  size_t len;
  size_t pos;
  int depth;
  struct appc_jtree *tree;
  char *text; /* decoded text, LEN + 1 bytes (see above) */
  size_t text_used;
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

/* ---- the arena: every node and text of a tree, released at once */

struct appc_jchunk {
  struct appc_jchunk *next;
  size_t size, used;
  max_align_t mem[];
};

static void *arena_alloc(struct appc_jtree *t, size_t n)
{
  struct appc_jchunk *c = t->chunks;
  void *p;

  n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  if (c == NULL || c->size - c->used < n) {
    size_t size = c != NULL ? c->size * 2 : 0;
    if (size < n)
      size = n;
    if ((c = malloc(sizeof *c + size)) == NULL)
      return NULL;
    c->next = t->chunks;
    c->size = size;
    c->used = 0;
    t->chunks = c;
  }
  p = (char *) c->mem + c->used;
  c->used += n;
  return p;
}

/* A tree whose first chunk holds FIRST bytes, the tree itself included. */
static struct appc_jtree *tree_new(size_t first)
{
  struct appc_jtree head = {NULL, NULL}, *t;

  if (arena_alloc(&head, first) == NULL)
    return NULL;
  head.chunks->used = 0;
  t = arena_alloc(&head, sizeof *t);
  *t = head;
  return t;
}

void appc_jtree_free(struct appc_jtree *t)
{
  struct appc_jchunk *c = t != NULL ? t->chunks : NULL;

  /* The tree lives in its oldest chunk, the last one freed. */
  while (c != NULL) {
    struct appc_jchunk *next = c->next;
    free(c);
    c = next;
  }
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

/* Scan the string at the current position and store its decoded text (NUL
 * terminated, but it may hold NULs: *NUL says so) in the text block, *N
 * bytes at *OUT; *ESCAPED tells whether the source used escapes. */
static int scan_string(struct scan *sc, appc_error_t *err, const char **text, size_t *n,
                       bool *escaped, bool *nul)
{
  char *out = sc->text + sc->text_used;
  size_t w = 0;

  *escaped = *nul = false;
  sc->pos++; /* opening quote */
  while (sc->pos < sc->len) {
    unsigned char c = sc->s[sc->pos];
    if (c == '"') {
      sc->pos++;
      out[w] = '\0';
      *text = out;
      *n = w;
      sc->text_used += w + 1;
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
        *nul |= cp == 0;
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

static struct appc_jnode *new_node(struct scan *sc, enum appc_jkind kind)
{
  struct appc_jnode *n = arena_alloc(sc->tree, sizeof *n);

  if (n != NULL)
    *n = (struct appc_jnode){.kind = kind, .src = (const char *) sc->s + sc->pos};
  return n;
}

static int scan_string_value(struct scan *sc, appc_error_t *err, struct appc_jnode *n)
{
  return scan_string(sc, err, &n->text, &n->len, &n->escaped, &n->nul);
}

static int scan_number(struct scan *sc, appc_error_t *err, struct appc_jnode *n)
{
  size_t start = sc->pos;
  char *text;

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
    sc->pos++;
    if (!scan_digit(sc))
      return scan_error(sc, err, "invalid number: digit expected after '.'");
    while (scan_digit(sc))
      sc->pos++;
  }
  if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' || sc->s[sc->pos] == 'E')) {
    sc->pos++;
    if (sc->pos < sc->len && (sc->s[sc->pos] == '+' || sc->s[sc->pos] == '-'))
      sc->pos++;
    if (!scan_digit(sc))
      return scan_error(sc, err, "invalid number: digit expected in exponent");
    while (scan_digit(sc))
      sc->pos++;
  }
  /* The literal, NUL-terminated: decoders read it as Go reads the bytes. */
  n->len = sc->pos - start;
  text = sc->text + sc->text_used;
  memcpy(text, sc->s + start, n->len);
  text[n->len] = '\0';
  sc->text_used += n->len + 1;
  n->text = text;
  return 0;
}

static int scan_literal(struct scan *sc, appc_error_t *err, const char *word, struct appc_jnode *n)
{
  size_t len = strlen(word);

  if (sc->len - sc->pos < len || memcmp(sc->s + sc->pos, word, len) != 0)
    return scan_error(sc, err, "invalid character");
  sc->pos += len;
  n->boolean = word[0] == 't';
  return 0;
}

static int scan_value(struct scan *sc, appc_error_t *err, struct appc_jnode **out);

/* An object member: its key, then its value, whose node it is. */
static int scan_member(struct scan *sc, appc_error_t *err, struct appc_jnode **out)
{
  const char *key, *key_src = (const char *) sc->s + sc->pos;
  size_t n;
  bool escaped, nul;

  if (sc->pos >= sc->len || sc->s[sc->pos] != '"')
    return scan_error(sc, err, "object key expected");
  if (scan_string(sc, err, &key, &n, &escaped, &nul) < 0)
    return -1;
  size_t key_src_len = (size_t) ((const char *) sc->s + sc->pos - key_src);
  scan_space(sc);
  if (sc->pos >= sc->len || sc->s[sc->pos] != ':')
    return scan_error(sc, err, "':' expected after object key");
  sc->pos++;
  if (scan_value(sc, err, out) < 0)
    return -1;
  (*out)->key = key;
  (*out)->key_nul = nul;
  (*out)->key_src = key_src;
  (*out)->key_src_len = key_src_len;
  return 0;
}

static int scan_container(struct scan *sc, appc_error_t *err, bool object, struct appc_jnode *n)
{
  char close = object ? '}' : ']';
  struct appc_jnode **tail = &n->first;

  if (++sc->depth > APPC_JSON_MAX_DEPTH)
    return scan_error(sc, err,
                      "arrays and objects nested deeper than " STR(
                          APPC_JSON_MAX_DEPTH) " levels (actool's nesting limit; Go's "
                                               "encoding/json allows 10000)");
  sc->pos++;
  scan_space(sc);
  if (sc->pos < sc->len && sc->s[sc->pos] == close) {
    sc->pos++;
    sc->depth--;
    return 0;
  }
  for (;;) {
    scan_space(sc);
    if ((object ? scan_member : scan_value)(sc, err, tail) < 0)
      return -1;
    tail = &(*tail)->next;
    n->len++;
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

/* The kind of value that starts with C, or -1 if none does. */
static int value_kind(unsigned char c)
{
  switch (c) {
  case '{':
    return APPC_JOBJECT;
  case '[':
    return APPC_JARRAY;
  case '"':
    return APPC_JSTRING;
  case 't':
  case 'f':
    return APPC_JBOOL;
  case 'n':
    return APPC_JNULL;
  default:
    return c == '-' || (c >= '0' && c <= '9') ? APPC_JNUMBER : -1;
  }
}

static int scan_value(struct scan *sc, appc_error_t *err, struct appc_jnode **out)
{
  struct appc_jnode *n;
  int kind, r;

  scan_space(sc);
  if (sc->pos >= sc->len)
    return scan_error(sc, err, "unexpected end of input");
  if ((kind = value_kind(sc->s[sc->pos])) < 0)
    return scan_error(sc, err, "invalid character");
  if ((n = new_node(sc, (enum appc_jkind) kind)) == NULL)
    return scan_nomem(err);
  switch (n->kind) {
  case APPC_JOBJECT:
  case APPC_JARRAY:
    r = scan_container(sc, err, n->kind == APPC_JOBJECT, n);
    break;
  case APPC_JSTRING:
    r = scan_string_value(sc, err, n);
    break;
  case APPC_JNUMBER:
    r = scan_number(sc, err, n);
    break;
  default:
    r = scan_literal(sc, err,
                     sc->s[sc->pos] == 't'   ? "true"
                     : sc->s[sc->pos] == 'f' ? "false"
                                             : "null",
                     n);
    break;
  }
  n->src_len = (size_t) ((const char *) sc->s + sc->pos - n->src);
  *out = n;
  return r;
}

/* Parse BUF[0..LEN) from POS as one JSON value; with WHOLE, nothing but
 * space may follow it. */
static int parse_text(const char *buf, size_t len, size_t pos, bool whole, struct appc_jtree **out,
                      appc_error_t *err)
{
  struct scan sc = {.s = (const unsigned char *) buf, .len = len, .pos = pos};
  struct appc_jnode *root = NULL;

  if (len > INT32_MAX)
    return appc_error_make(err, 0, "invalid JSON: document too large");
  /* Room for the text and, in most documents, every node. */
  if ((sc.tree = tree_new(len + 1 + 8 * len + 1024)) == NULL ||
      (sc.text = arena_alloc(sc.tree, len + 1)) == NULL) {
    appc_jtree_free(sc.tree);
    return scan_nomem(err);
  }
  if (scan_value(&sc, err, &root) < 0)
    goto fail;
  scan_space(&sc);
  if (whole && sc.pos < len) {
    scan_error(&sc, err, "invalid character after top-level value");
    goto fail;
  }
  sc.tree->root = root;
  *out = sc.tree;
  return 0;
fail:
  appc_jtree_free(sc.tree);
  return -1;
}

int appc_json_parse_value(const char *text, struct appc_jtree **out, appc_error_t *err)
{
  return parse_text(text, strlen(text), 0, true, out, err);
}

int appc_json_parse(const char *buf, size_t len, struct appc_jtree **out, appc_error_t *err)
{
  size_t i = 0;

  while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
    i++;
  if (i < len && buf[i] != '{') {
    /* A syntax error first, as Go reports it, else the type. */
    struct appc_jtree *t = NULL;
    if (parse_text(buf, len, i, false, &t, err) < 0)
      return -1;
    appc_jtree_free(t);
    return appc_error_make(err, 0, "manifest must be a JSON object");
  }
  return parse_text(buf, len, 0, true, out, err);
}
