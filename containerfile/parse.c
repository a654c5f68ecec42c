/* SPDX-License-Identifier: Apache-2.0 */
/* A Containerfile's text into instructions, as Docker's and Buildah's
 * parsers read it: parser directives (`# escape=`) before anything else,
 * comment lines dropped (also inside a continued instruction), a line
 * ending in the escape character continued on the next, keywords in any
 * case, leading `--flag=value` words of FROM, RUN, COPY and ADD, and the
 * exec form (a JSON array of strings) of RUN, CMD, ENTRYPOINT, VOLUME, COPY
 * and ADD.  Variables are expanded later, when the instruction runs: ENV
 * and ARG change them as the file goes on. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <json-c/json.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "containerfile/internal.h"

struct keyword {
  const char *name;
  enum cf_kind kind;
  bool exec_form; /* may be a JSON array */
  bool flags;     /* may start with --flags */
};

static const struct keyword keywords[] = {
    {"FROM", CF_FROM, false, true},
    {"RUN", CF_RUN, true, true},
    {"COPY", CF_COPY, true, true},
    {"ADD", CF_ADD, true, true},
    {"ENV", CF_ENV, false, false},
    {"ARG", CF_ARG, false, false},
    {"WORKDIR", CF_WORKDIR, false, false},
    {"USER", CF_USER, false, false},
    {"ENTRYPOINT", CF_ENTRYPOINT, true, false},
    {"CMD", CF_CMD, true, false},
    {"EXPOSE", CF_EXPOSE, false, false},
    {"VOLUME", CF_VOLUME, true, false},
    {"LABEL", CF_LABEL, false, false},
    {"MAINTAINER", CF_MAINTAINER, false, false},
};

/* Known, and refused rather than skipped: an image built without them
 * would not be the one the file describes. */
static const char *const refused[] = {"ONBUILD", "HEALTHCHECK", "SHELL", "STOPSIGNAL"};

struct parser {
  const char *path;
  struct cf_file *f;
  bool directives; /* still at the top, where parser directives are */
  bool seen_from;
  appc_error_t *err;
};

void cf_file_clear(struct cf_file *f)
{
  for (size_t i = 0; i < f->len; i++) {
    struct cf_instr *in = &f->items[i];
    free(in->args);
    cf_words_free(in->words, in->n_words);
    cf_words_free(in->flags, in->n_flags);
  }
  free(f->items);
  memset(f, 0, sizeof *f);
}

static int __attribute__((format(printf, 3, 4)))
fail(struct parser *p, unsigned line, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  appc_error_makev(p->err, 0, fmt, ap);
  va_end(ap);
  return appc_error_prefix(p->err, "%s:%u", p->path, line);
}

/* A growing text (an instruction's lines joined). */
struct text {
  char *buf;
  size_t len, cap;
};

static int text_set(struct text *t, size_t len, const char *s, size_t n)
{
  if (APPC_ARRAY_RESERVE(t->buf, t->cap, len + n + 1) < 0)
    return -1;
  memcpy(t->buf + len, s, n);
  t->len = len + n;
  t->buf[t->len] = '\0';
  return 0;
}

/* ---- parser directives ---- */

/* "# NAME=VALUE" at the top of the file; false when LINE is a plain
 * comment.  Unknown directives are comments, as Docker has them. */
static int directive(struct parser *p, const char *line, unsigned n, bool *was)
{
  const char *s = line + 1 + strspn(line + 1, " \t");
  size_t name_len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
  const char *v = s + name_len + strspn(s + name_len, " \t");

  *was = false;
  if (name_len == 0 || *v != '=')
    return 0;
  v += 1 + strspn(v + 1, " \t");
  if ((name_len == 6 && strncasecmp(s, "syntax", 6) == 0) ||
      (name_len == 5 && strncasecmp(s, "check", 5) == 0)) {
    *was = true; /* BuildKit's front end and its checks: nothing to do here */
    return 0;
  }
  if (name_len == 6 && strncasecmp(s, "escape", 6) == 0) {
    size_t vlen = strcspn(v, " \t\r");
    if (vlen != 1 || (v[0] != '\\' && v[0] != '`'))
      return fail(p, n, "escape directive: the escape character is '\\' or '`', not \"%.20s\"", v);
    p->f->escape = v[0];
    *was = true;
  }
  return 0;
}

/* ---- instructions ---- */

static const struct keyword *find_keyword(const char *word, size_t len)
{
  for (size_t i = 0; i < sizeof keywords / sizeof *keywords; i++)
    if (strlen(keywords[i].name) == len && strncasecmp(keywords[i].name, word, len) == 0)
      return &keywords[i];
  return NULL;
}

static bool is_refused(const char *word, size_t len)
{
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++)
    if (strlen(refused[i]) == len && strncasecmp(refused[i], word, len) == 0)
      return true;
  return false;
}

/* The JSON array A's strings as IN's words, exec form; nothing (the shell
 * form) when one is no string.  A string holding a NUL ("\u0000") is
 * refused: an argument cannot hold one, and cut there it would be another. */
static int array_words(struct parser *p, struct cf_instr *in, json_object *a)
{
  size_t n = json_object_array_length(a);

  for (size_t i = 0; i < n; i++)
    if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string))
      return 0;
  for (size_t i = 0; i < n; i++) {
    json_object *v = json_object_array_get_idx(a, i);
    if ((size_t) json_object_get_string_len(v) != strlen(json_object_get_string(v)))
      return fail(p, in->line, "%s: argument %zu of the exec form holds a NUL (\\u0000)",
                  in->keyword, i + 1);
  }
  in->words = calloc(n + 1, sizeof *in->words);
  for (size_t i = 0; in->words != NULL && i < n; i++, in->n_words++)
    if ((in->words[i] = strdup(json_object_get_string(json_object_array_get_idx(a, i)))) == NULL)
      break;
  if (in->words == NULL || in->n_words != n)
    return appc_error_make(p->err, ENOMEM, "%s", p->path);
  in->json = true;
  return 0;
}

/* TEXT, when it is one JSON array of strings and nothing else, read as Go's
 * decoder reads it (strict: no single quotes, trailing commas or
 * comments): IN's words, exec form.  Anything else is the shell form, as
 * Docker falls back to. */
static int exec_form(struct parser *p, struct cf_instr *in, const char *text)
{
  json_tokener *tok = json_tokener_new();
  json_object *a = NULL;
  int r = 0;

  if (tok == NULL)
    return appc_error_make(p->err, ENOMEM, "%s", p->path);
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  a = json_tokener_parse_ex(tok, text, (int) strlen(text));
  /* strict: characters after the array are an error too */
  if (json_tokener_get_error(tok) == json_tokener_success &&
      json_object_is_type(a, json_type_array))
    r = array_words(p, in, a);
  json_object_put(a);
  json_tokener_free(tok);
  return r;
}

/* Whether the shell form ARGS holds a heredoc as BuildKit finds one: a
 * word (as written, unquoted) that is [N]<<[-]WORD, WORD without '<'.  Its
 * body lines would otherwise be read as instructions. */
static int has_heredoc(const char *args, char escape, bool *found)
{
  char **raw = NULL;
  size_t n = 0;

  *found = false;
  if (cf_split_raw(args, escape, &raw, &n) < 0)
    return -1;
  for (size_t i = 0; !*found && i < n; i++) {
    const char *w = raw[i] + strspn(raw[i], "0123456789");
    if (strncmp(w, "<<", 2) == 0) {
      w += 2 + (w[2] == '-');
      *found = *w != '\0' && strchr(w, '<') == NULL;
    }
  }
  cf_words_free(raw, n);
  return 0;
}

/* Leading --NAME[=VALUE] words of ARGS into IN's flags; *REST after them. */
static int take_flags(struct cf_instr *in, const char *args, const char **rest)
{
  size_t cap = 0;

  while (strncmp(args, "--", 2) == 0) {
    size_t len = strcspn(args, " \t");
    if (APPC_ARRAY_RESERVE(in->flags, cap, in->n_flags + 1) < 0 ||
        (in->flags[in->n_flags] = strndup(args, len)) == NULL)
      return -1;
    in->n_flags++;
    args += len;
    args += strspn(args, " \t");
  }
  *rest = args;
  return 0;
}

static int instruction(struct parser *p, const char *text, unsigned line)
{
  size_t klen = strspn(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
  const struct keyword *k = find_keyword(text, klen);
  const char *args = text + klen + strspn(text + klen, " \t");
  struct cf_instr *in;
  char word[32];

  snprintf(word, sizeof word, "%.*s", (int) (klen < 31 ? klen : 31), text);
  if (k == NULL && is_refused(text, klen))
    return fail(p, line, "%s is not supported by actool build", word);
  if (k == NULL || (text[klen] != '\0' && text[klen] != ' ' && text[klen] != '\t'))
    return fail(p, line, "\"%.40s\" is not an instruction", klen > 0 ? word : text);
  if (k->kind == CF_FROM && p->seen_from)
    return fail(p, line, "%s: a second FROM (multi-stage builds are not supported)", k->name);
  if (k->kind != CF_FROM && k->kind != CF_ARG && !p->seen_from)
    return fail(p, line, "%s before FROM (only ARG may come first)", k->name);
  if (p->f->len >= CF_MAX_INSTRUCTIONS)
    return fail(p, line, "more than %d instructions", CF_MAX_INSTRUCTIONS);
  if (APPC_ARRAY_RESERVE(p->f->items, p->f->cap, p->f->len + 1) < 0)
    return appc_error_make(p->err, ENOMEM, "%s", p->path);
  in = &p->f->items[p->f->len++];
  *in = (struct cf_instr){.kind = k->kind, .keyword = k->name, .line = line};
  if (k->flags && take_flags(in, args, &args) < 0)
    return appc_error_make(p->err, ENOMEM, "%s", p->path);
  for (size_t i = 0; i < in->n_flags; i++)
    if (!(k->kind == CF_COPY || k->kind == CF_ADD) || strncmp(in->flags[i], "--chown=", 8) != 0)
      return fail(p, line,
                  "%s %.60s is not supported (of the flags, actool build takes COPY "
                  "and ADD --chown=UID[:GID]; multi-stage builds are not supported)",
                  k->name, in->flags[i]);
  if ((in->args = strdup(args)) == NULL)
    return appc_error_make(p->err, ENOMEM, "%s", p->path);
  for (size_t n = strlen(in->args); n > 0 && isspace((unsigned char) in->args[n - 1]); n--)
    in->args[n - 1] = '\0';
  if (in->args[0] == '\0')
    return fail(p, line, "%s needs arguments", k->name);
  if (k->exec_form && in->args[0] == '[' && exec_form(p, in, in->args) < 0)
    return -1;
  if ((k->kind == CF_RUN || k->kind == CF_COPY || k->kind == CF_ADD) && !in->json) {
    bool heredoc = false;
    if (has_heredoc(in->args, p->f->escape, &heredoc) < 0)
      return appc_error_make(p->err, ENOMEM, "%s", p->path);
    if (heredoc)
      return fail(p, line, "%s: heredocs (<<WORD) are not supported by actool build", k->name);
  }
  if (k->kind == CF_FROM)
    p->seen_from = true;
  return 0;
}

/* ---- lines ---- */

/* LINE ends with the escape character (blanks after it allowed): it is
 * cut off there and the instruction goes on. */
static bool continues(struct parser *p, struct text *cur)
{
  size_t n = cur->len;

  while (n > 0 && (cur->buf[n - 1] == ' ' || cur->buf[n - 1] == '\t'))
    n--;
  if (n == 0 || cur->buf[n - 1] != p->f->escape)
    return false;
  cur->buf[cur->len = n - 1] = '\0';
  return true;
}

static int physical_line(struct parser *p, const char *line, unsigned n, struct text *cur,
                         bool *open, unsigned *start)
{
  const char *s = line + strspn(line, " \t");

  if (*s == '#') {
    bool was = false;
    if (!*open && p->directives && directive(p, s, n, &was) < 0)
      return -1;
    if (!was)
      p->directives = false;
    return 0;
  }
  if (*s == '\0') {
    p->directives = false;
    return 0; /* blank lines, also inside a continued instruction */
  }
  p->directives = false;
  if (!*open)
    *start = n;
  else
    s = line;
  if (text_set(cur, *open ? cur->len : 0, s, strlen(s)) < 0)
    return appc_error_make(p->err, ENOMEM, "%s", p->path);
  *open = continues(p, cur);
  if (!*open)
    return instruction(p, cur->buf, *start);
  return 0;
}

int cf_parse(const char *text, size_t len, const char *path, struct cf_file *out, appc_error_t *err)
{
  struct parser p = {.path = path, .f = out, .directives = true, .err = err};
  struct text cur = {0}, line = {0};
  bool open = false;
  unsigned n = 0, start = 0;
  int r = 0;

  memset(out, 0, sizeof *out);
  out->escape = '\\';
  if (len > CF_MAX_BYTES)
    return appc_error_make(err, EFBIG, "%s: larger than %d bytes", path, CF_MAX_BYTES);
  if (memchr(text, '\0', len) != NULL)
    return appc_error_make(err, 0, "%s: a NUL byte (not a text file)", path);
  /* a UTF-8 byte order mark, which editors on Windows write: BuildKit
   * drops it too */
  if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) {
    text += 3;
    len -= 3;
  }
  for (size_t off = 0; r == 0 && off < len;) {
    const char *nl = memchr(text + off, '\n', len - off);
    size_t l = nl != NULL ? (size_t) (nl - (text + off)) : len - off;
    if (l > 0 && text[off + l - 1] == '\r')
      l--; /* CRLF files */
    n++;
    if (text_set(&line, 0, text + off, l) < 0)
      r = appc_error_make(err, ENOMEM, "%s", path);
    else
      r = physical_line(&p, line.buf, n, &cur, &open, &start);
    off += (nl != NULL ? (size_t) (nl - (text + off)) + 1 : len - off);
  }
  if (r == 0 && open)
    r = instruction(&p, cur.buf, start);
  if (r == 0 && !p.seen_from)
    r = appc_error_make(err, 0, "%s: no FROM (use FROM scratch for an empty image)", path);
  free(cur.buf);
  free(line.buf);
  if (r < 0)
    cf_file_clear(out);
  return r;
}
