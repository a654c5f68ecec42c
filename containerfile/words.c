/* SPDX-License-Identifier: Apache-2.0 */
/* Words of an instruction as the Containerfile builders read them (the
 * "shell-like" rules Docker's documentation gives for ENV, ARG, LABEL,
 * COPY, WORKDIR...): blanks split words unless quoted; '...' is literal;
 * "..." expands variables and takes the escape character before " $ and
 * itself; the escape character outside quotes makes the next character
 * literal; $NAME, ${NAME}, ${NAME:-WORD} (WORD when NAME is unset or empty)
 * and ${NAME:+WORD} (WORD when it is set and not empty) expand, WORD
 * expanded in turn.  An unset variable is empty, as in a shell. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "containerfile/internal.h"

/* ${...} nested deeper than this is refused (recursion bound). */
#define MAX_NESTING 16

struct out {
  char *buf; /* the word being made */
  size_t len, cap;
  bool started; /* "" is a word, nothing is not */
  char **words;
  size_t n, words_cap;
  size_t total;  /* bytes of every word so far */
  size_t *left;  /* what the whole Containerfile may still expand to; may be NULL */
  bool too_long; /* TOTAL would pass CF_MAX_BYTES, or *LEFT run out */
};

struct lexer {
  const char *s;
  size_t i;
  char esc;
  bool split;  /* words are split at blanks, those of unquoted values too */
  bool quoted; /* inside "..." */
  const struct cf_vars *vars;
  const char *where;
  appc_error_t *err;
};

void cf_words_free(char **words, size_t n)
{
  for (size_t i = 0; i < n; i++)
    free(words[i]);
  free(words);
}

/* Each expansion pastes a value in whole: "$A$A..." on every line would
 * grow a Containerfile's words a thousandfold per line.  What one
 * instruction's words may hold in all is what a Containerfile may. */
static int put(struct out *o, const char *s, size_t n)
{
  if (n > CF_MAX_BYTES - o->total || (o->left != NULL && n > *o->left)) {
    o->too_long = true;
    return -1;
  }
  o->total += n;
  if (o->left != NULL)
    *o->left -= n;
  if (APPC_ARRAY_RESERVE(o->buf, o->cap, o->len + n + 1) < 0)
    return -1;
  memcpy(o->buf + o->len, s, n);
  o->len += n;
  o->buf[o->len] = '\0';
  o->started = true;
  return 0;
}

static int end_word(struct out *o)
{
  if (!o->started)
    return 0;
  if (APPC_ARRAY_RESERVE(o->words, o->words_cap, o->n + 2) < 0)
    return -1;
  o->words[o->n] = o->buf != NULL ? o->buf : strdup("");
  if (o->words[o->n] == NULL)
    return -1;
  o->words[++o->n] = NULL;
  o->buf = NULL;
  o->len = o->cap = 0;
  o->started = false;
  return 0;
}

/* A variable's VALUE into the word; at the top (DEPTH 0) of an unquoted
 * word in split mode its blanks split words, as the builders do. */
static int put_value(const struct lexer *x, struct out *o, const char *value, unsigned depth)
{
  if (!x->split || x->quoted || depth > 0)
    return put(o, value, strlen(value));
  for (const char *p = value; *p != '\0'; p++) {
    int r = *p == ' ' || *p == '\t' ? end_word(o) : put(o, p, 1);
    if (r < 0)
      return -1;
  }
  return 0;
}

static const char *lookup(const struct cf_vars *v, const char *name, size_t len)
{
  const struct appc_kv_list *lists[] = {v->env, v->args};

  for (size_t l = 0; l < 2; l++)
    for (size_t i = 0; lists[l] != NULL && i < lists[l]->len; i++)
      if (strlen(lists[l]->items[i].name) == len &&
          strncmp(lists[l]->items[i].name, name, len) == 0)
        return lists[l]->items[i].value;
  return NULL;
}

static bool name_start(char c)
{
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_char(char c)
{
  return name_start(c) || (c >= '0' && c <= '9');
}

static int expand(struct lexer *x, struct out *o, unsigned depth);

/* ${NAME...}: X is past "${". */
static int expand_braced(struct lexer *x, struct out *o, unsigned depth)
{
  const char *name = x->s + x->i;
  size_t len = 0;

  while (name_char(name[len]))
    len++;
  x->i += len;
  const char *value = lookup(x->vars, name, len);
  char c = x->s[x->i];
  if (len == 0 || (c != '}' && c != ':'))
    return appc_error_make(x->err, 0, "%s: a bad variable reference (${%.*s...)", x->where,
                           (int) (len < 40 ? len : 40), name);
  if (c == '}') {
    x->i++;
    return value != NULL && put_value(x, o, value, depth) < 0 ? -1 : 0;
  }
  char op = x->s[x->i + 1];
  if (op != '-' && op != '+')
    return appc_error_make(x->err, 0, "%s: ${%.*s:%c...}: only :- and :+ are known", x->where,
                           (int) (len < 40 ? len : 40), name, op ? op : ' ');
  x->i += 2;
  bool set = value != NULL && value[0] != '\0';
  bool use_word = op == '-' ? !set : set;
  /* WORD, up to the matching '}', expanded into a scratch word */
  struct out word = {0};
  int r = 0;
  while (r == 0 && x->s[x->i] != '}' && x->s[x->i] != '\0')
    r = expand(x, &word, depth + 1);
  if (r == 0 && x->s[x->i] != '}')
    r = appc_error_make(x->err, 0, "%s: ${%.*s: no closing '}'", x->where,
                        (int) (len < 40 ? len : 40), name);
  if (r == 0) {
    x->i++;
    const char *put_what = use_word ? (word.buf != NULL ? word.buf : "") : op == '-' ? value : "";
    if (put_value(x, o, put_what, depth) < 0)
      r = -1;
  }
  free(word.buf);
  return r;
}

/* A '$' at X: a variable, or a plain '$'. */
static int dollar(struct lexer *x, struct out *o, unsigned depth)
{
  const char *p = x->s + x->i + 1;

  if (depth > MAX_NESTING)
    return appc_error_make(x->err, 0, "%s: variables nested more than %d deep", x->where,
                           MAX_NESTING);
  if (*p == '{') {
    x->i += 2;
    return expand_braced(x, o, depth);
  }
  if (!name_start(*p)) {
    x->i++;
    return put(o, "$", 1);
  }
  size_t len = 0;
  while (name_char(p[len]))
    len++;
  x->i += 1 + len;
  const char *value = lookup(x->vars, p, len);
  return value != NULL && put_value(x, o, value, depth) < 0 ? -1 : 0;
}

/* One element at X: a character, an escape, a quoted string, a variable.
 * Blanks are the caller's. */
static int expand(struct lexer *x, struct out *o, unsigned depth)
{
  char c = x->s[x->i];

  if (c == x->esc && x->s[x->i + 1] != '\0') {
    x->i += 2;
    return put(o, x->s + x->i - 1, 1);
  }
  if (c == '\'') {
    const char *end = strchr(x->s + x->i + 1, '\'');
    if (end == NULL)
      return appc_error_make(x->err, 0, "%s: a ' without its closing '", x->where);
    size_t n = (size_t) (end - (x->s + x->i + 1));
    int r = put(o, x->s + x->i + 1, n);
    x->i += n + 2;
    return r;
  }
  if (c == '"') {
    x->i++;
    o->started = true;
    x->quoted = true;
    while (x->s[x->i] != '"') {
      char d = x->s[x->i];
      int r;
      if (d == '\0')
        return appc_error_make(x->err, 0, "%s: a \" without its closing \"", x->where);
      if (d == x->esc &&
          (x->s[x->i + 1] == '"' || x->s[x->i + 1] == '$' || x->s[x->i + 1] == x->esc)) {
        r = put(o, x->s + x->i + 1, 1);
        x->i += 2;
      } else if (d == '$') {
        r = dollar(x, o, depth);
      } else {
        r = put(o, x->s + x->i, 1);
        x->i++;
      }
      if (r < 0)
        return r;
    }
    x->i++;
    x->quoted = false;
    return 0;
  }
  if (c == '$')
    return dollar(x, o, depth);
  x->i++;
  return put(o, x->s + x->i - 1, 1);
}

int cf_words(const char *text, char escape, const struct cf_vars *vars, bool split,
             const char *where, char ***out, size_t *n, appc_error_t *err)
{
  struct lexer x = {
      .s = text, .esc = escape, .split = split, .vars = vars, .where = where, .err = err};
  struct out o = {.left = vars != NULL ? vars->left : NULL};
  int r = 0;

  *out = NULL;
  *n = 0;
  while (r == 0 && text[x.i] != '\0') {
    char c = text[x.i];
    if (split && (c == ' ' || c == '\t')) {
      x.i++;
      if (end_word(&o) < 0)
        r = appc_error_make(err, ENOMEM, "%s", where);
      continue;
    }
    r = expand(&x, &o, 0);
    if (r < 0 && *err == NULL && o.too_long)
      r = appc_error_make(err, 0,
                          "%s: variables expand to more than %d bytes in one instruction, or "
                          "%d in the whole Containerfile",
                          where, CF_MAX_BYTES, CF_EXPANDED_MAX);
    if (r < 0 && (*err == NULL))
      r = appc_error_make(err, ENOMEM, "%s", where);
  }
  if (r == 0 && !split)
    o.started = true; /* the one word, even empty */
  if (r == 0 && end_word(&o) < 0)
    r = appc_error_make(err, ENOMEM, "%s", where);
  free(o.buf);
  if (r < 0) {
    cf_words_free(o.words, o.n);
    return -1;
  }
  *out = o.words;
  *n = o.n;
  return 0;
}

int cf_split_raw(const char *text, char escape, char ***out, size_t *n)
{
  struct out o = {0};
  char quote = 0;

  *out = NULL;
  *n = 0;
  for (size_t i = 0; text[i] != '\0'; i++) {
    char c = text[i];
    int r = 0;
    if (quote == 0 && (c == ' ' || c == '\t')) {
      r = end_word(&o);
    } else if (c == escape && quote != '\'' && text[i + 1] != '\0') {
      r = put(&o, text + i, 2);
      i++;
    } else {
      if (quote == 0 && (c == '\'' || c == '"'))
        quote = c;
      else if (c == quote)
        quote = 0;
      r = put(&o, text + i, 1);
    }
    if (r < 0) {
      free(o.buf);
      cf_words_free(o.words, o.n);
      return -1;
    }
  }
  if (end_word(&o) < 0) {
    free(o.buf);
    cf_words_free(o.words, o.n);
    return -1;
  }
  *out = o.words;
  *n = o.n;
  return 0;
}
