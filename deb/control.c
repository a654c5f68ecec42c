/* SPDX-License-Identifier: Apache-2.0 */
/* Debian control files (deb822, Debian Policy 5.1): stanzas of "Name: value"
 * fields, continuation lines starting with a space or a tab, stanzas
 * separated by blank lines; relation fields (Policy 7.1) and dpkg's order of
 * versions (Policy 5.6.12).  Every input may be hostile: nothing here
 * recurses or trusts a length. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/hashmap.h"
#include "deb/internal.h"

void deb_stanzas_clear(struct deb_stanzas *s)
{
  for (size_t i = 0; i < s->n; i++)
    free(s->v[i].f);
  free(s->v);
  memset(s, 0, sizeof *s);
}

const char *deb_field(const struct deb_stanza *s, const char *name)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcasecmp(s->f[i].name, name) == 0)
      return s->f[i].value;
  return NULL;
}

static bool blank_line(const char *p, const char *end)
{
  for (; p < end; p++)
    if (*p != ' ' && *p != '\t' && *p != '\r')
      return false;
  return true;
}

/* The last field's value ends at END (its last line's '\n', or the text's
 * end): cut there, less trailing white space. */
static void trim_end(char *s, char *end)
{
  *end = '\0';
  while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
    *--end = '\0';
}

struct parse {
  struct deb_stanzas *out;
  struct deb_stanza cur;
  size_t cap;
  struct appc_strset names; /* the current stanza's field names, lower-cased */
  const char *what;
  appc_error_t *err;
};

static int end_stanza(struct parse *p)
{
  if (p->cur.n == 0)
    return 0;
  if (APPC_ARRAY_RESERVE(p->out->v, p->out->cap, p->out->n + 1) < 0)
    return appc_error_make(p->err, ENOMEM, "%s", p->what);
  p->out->v[p->out->n++] = p->cur;
  p->cur = (struct deb_stanza){0};
  p->cap = 0;
  appc_strset_clear(&p->names);
  return 0;
}

/* Whether the stanza has a field NAME already (names are case-blind): 1
 * yes, 0 no (it has now), -1 out of memory.  A set, not a scan of the
 * stanza: a hostile status file or index may hold a stanza of 100,000
 * fields. */
static int seen_before(struct parse *p, const char *name)
{
  cleanup_free char *lower = strdup(name);

  if (lower == NULL)
    return -1;
  for (char *c = lower; *c != '\0'; c++)
    *c = (char) tolower((unsigned char) *c);
  int r = appc_strset_add(&p->names, lower);
  return r < 0 ? -1 : r == 0;
}

static int add_field(struct parse *p, char *line, size_t lineno)
{
  char *colon = strchr(line, ':');

  if (colon == NULL || colon == line)
    return appc_error_make(p->err, 0, "%s: line %zu: not a field (\"Name: value\")", p->what,
                           lineno);
  for (char *c = line; c < colon; c++)
    if (!isgraph((unsigned char) *c))
      return appc_error_make(p->err, 0,
                             "%s: line %zu: a field name holds a space or control "
                             "character",
                             p->what, lineno);
  if (line[0] == '-')
    return appc_error_make(p->err, 0, "%s: line %zu: a field name starts with '-'", p->what,
                           lineno);
  *colon = '\0';
  int seen = seen_before(p, line);
  if (seen < 0)
    return appc_error_make(p->err, ENOMEM, "%s", p->what);
  if (seen > 0)
    return appc_error_make(p->err, 0, "%s: line %zu: field %s given twice in one stanza", p->what,
                           lineno, line);
  if (APPC_ARRAY_RESERVE(p->cur.f, p->cap, p->cur.n + 1) < 0)
    return appc_error_make(p->err, ENOMEM, "%s", p->what);
  char *value = colon + 1;
  value += strspn(value, " \t");
  if (p->cur.n == 0)
    p->cur.line = lineno;
  p->cur.f[p->cur.n++] = (struct deb_field){line, value};
  return 0;
}

int deb_parse_control(char *text, const char *what, struct deb_stanzas *out, appc_error_t *err)
{
  struct parse p = {.out = out, .what = what, .err = err};
  char *value_end = NULL; /* where the last field's value ends so far */
  size_t lineno = 0;
  char *line = text;

  memset(out, 0, sizeof *out);
  while (*line != '\0') {
    char *nl = strchr(line, '\n');
    char *end = nl != NULL ? nl : line + strlen(line);
    char *next = nl != NULL ? nl + 1 : end;
    lineno++;
    if (blank_line(line, end)) {
      if (value_end != NULL)
        trim_end((char *) p.cur.f[p.cur.n - 1].value, value_end);
      value_end = NULL;
      if (end_stanza(&p) < 0)
        goto fail;
    } else if (line[0] == ' ' || line[0] == '\t') {
      if (value_end == NULL) {
        appc_error_make(err, 0, "%s: line %zu: a continuation line without a field", what, lineno);
        goto fail;
      }
      value_end = end; /* the value runs on through this line */
    } else if (line[0] == '#') {
      if (value_end != NULL)
        trim_end((char *) p.cur.f[p.cur.n - 1].value, value_end);
      value_end = NULL;
      /* a comment: only before or between fields */
    } else {
      if (value_end != NULL)
        trim_end((char *) p.cur.f[p.cur.n - 1].value, value_end);
      if (nl != NULL)
        *nl = '\0';
      if (add_field(&p, line, lineno) < 0)
        goto fail;
      if (nl != NULL)
        *nl = '\n'; /* the value may continue; cut where it ends */
      value_end = end;
    }
    line = next;
  }
  if (value_end != NULL)
    trim_end((char *) p.cur.f[p.cur.n - 1].value, value_end);
  if (end_stanza(&p) < 0)
    goto fail;
  appc_strset_clear(&p.names);
  return 0;
fail:
  free(p.cur.f);
  appc_strset_clear(&p.names);
  deb_stanzas_clear(out);
  return -1;
}

/* ---- versions ---- */

/* UPSTREAM: a character of the upstream version (which may hold '-' when
 * a revision follows, ':' when an epoch precedes), else of the revision. */
static bool version_char(char c, bool upstream)
{
  return isalnum((unsigned char) c) || c == '.' || c == '+' || c == '~' ||
         (upstream && (c == '-' || c == ':'));
}

bool deb_version_valid(const char *v)
{
  const char *colon = strchr(v, ':');
  const char *dash = strrchr(v, '-');
  const char *up = v;

  if (colon != NULL) {
    if (colon == v)
      return false;
    for (const char *c = v; c < colon; c++)
      if (!isdigit((unsigned char) *c))
        return false;
    up = colon + 1;
  }
  if (!isdigit((unsigned char) *up))
    return false;
  for (const char *c = up; *c != '\0'; c++) {
    if (c == dash)
      continue;
    if (!version_char(*c, dash == NULL || c < dash) || (*c == ':' && colon == NULL))
      return false;
  }
  return dash == NULL || dash[1] != '\0';
}

/* dpkg's weight of a character in the non-digit parts: '~' before the end
 * of the part, letters before the other characters. */
static int order(int c)
{
  if (isdigit(c))
    return 0;
  if (isalpha(c))
    return c;
  if (c == '~')
    return -1;
  if (c != '\0')
    return c + 256;
  return 0;
}

static int part_compare(const char *a, const char *ae, const char *b, const char *be)
{
  while (a < ae || b < be) {
    int diff = 0;
    while ((a < ae && !isdigit((unsigned char) *a)) || (b < be && !isdigit((unsigned char) *b))) {
      int ac = a < ae ? order((unsigned char) *a) : 0;
      int bc = b < be ? order((unsigned char) *b) : 0;
      if (ac != bc)
        return ac - bc;
      a += a < ae;
      b += b < be;
    }
    while (a < ae && *a == '0')
      a++;
    while (b < be && *b == '0')
      b++;
    while (a < ae && isdigit((unsigned char) *a) && b < be && isdigit((unsigned char) *b)) {
      if (diff == 0)
        diff = *a - *b;
      a++;
      b++;
    }
    if (a < ae && isdigit((unsigned char) *a))
      return 1;
    if (b < be && isdigit((unsigned char) *b))
      return -1;
    if (diff != 0)
      return diff;
  }
  return 0;
}

struct version {
  unsigned long epoch;
  const char *up, *up_end, *rev, *rev_end;
};

static void version_split(const char *v, struct version *out)
{
  const char *colon = strchr(v, ':');
  const char *end = v + strlen(v);
  const char *dash;

  out->epoch = 0;
  if (colon != NULL) {
    out->epoch = strtoul(v, NULL, 10);
    v = colon + 1;
  }
  dash = strrchr(v, '-');
  out->up = v;
  out->up_end = dash != NULL ? dash : end;
  out->rev = dash != NULL ? dash + 1 : end;
  out->rev_end = end;
}

int deb_version_compare(const char *a, const char *b)
{
  struct version va, vb;
  int r;

  version_split(a, &va);
  version_split(b, &vb);
  if (va.epoch != vb.epoch)
    return va.epoch < vb.epoch ? -1 : 1;
  if ((r = part_compare(va.up, va.up_end, vb.up, vb.up_end)) != 0)
    return r < 0 ? -1 : 1;
  r = part_compare(va.rev, va.rev_end, vb.rev, vb.rev_end);
  return r < 0 ? -1 : r > 0;
}

bool deb_version_satisfies(const char *version, enum deb_op op, const char *constraint)
{
  if (op == DEB_ANY)
    return true;
  if (version == NULL)
    return false;
  int c = deb_version_compare(version, constraint);
  switch (op) {
  case DEB_LT:
    return c < 0;
  case DEB_LE:
    return c <= 0;
  case DEB_EQ:
    return c == 0;
  case DEB_GE:
    return c >= 0;
  case DEB_GT:
    return c > 0;
  default:
    return true;
  }
}

/* ---- relations ---- */

static void group_clear(struct deb_group *g)
{
  for (size_t i = 0; i < g->n; i++) {
    free(g->alts[i].name);
    free(g->alts[i].version);
  }
  free(g->alts);
  memset(g, 0, sizeof *g);
}

void deb_relations_clear(struct deb_relations *r)
{
  for (size_t i = 0; i < r->n; i++)
    group_clear(&r->v[i]);
  free(r->v);
  memset(r, 0, sizeof *r);
}

static const char *skip_space(const char *p)
{
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
    p++;
  return p;
}

static bool name_char(char c)
{
  return isalnum((unsigned char) c) || c == '+' || c == '-' || c == '.';
}

static int parse_op(const char **pp, enum deb_op *op)
{
  static const struct {
    const char *s;
    enum deb_op op;
  } ops[] = {{"<<", DEB_LT}, {"<=", DEB_LE}, {">>", DEB_GT}, {">=", DEB_GE},
             {"=", DEB_EQ},  {"<", DEB_LE},  {">", DEB_GE}}; /* "<", ">": obsolete <=, >= */

  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    size_t n = strlen(ops[i].s);
    if (strncmp(*pp, ops[i].s, n) == 0) {
      *pp += n;
      *op = ops[i].op;
      return 0;
    }
  }
  return -1;
}

/* Skip "[...]" or "<...>" (architecture lists, build profiles). */
static int skip_restriction(const char **pp, char close)
{
  const char *end = strchr(*pp, close);

  if (end == NULL)
    return -1;
  *pp = skip_space(end + 1);
  return 0;
}

static int parse_alt(const char **pp, struct deb_alt *alt, const char *what, appc_error_t *err)
{
  const char *p = skip_space(*pp);
  const char *start = p;

  while (name_char(*p))
    p++;
  if (p == start || !isalnum((unsigned char) *start))
    return appc_error_make(err, 0, "%s: a package name is expected at \"%.20s\"", what, start);
  if ((alt->name = strndup(start, (size_t) (p - start))) == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  if (*p == ':') /* :any, :native, :ARCH: tolerated, not used */
    for (p++; name_char(*p);)
      p++;
  p = skip_space(p);
  if (*p == '(') {
    p = skip_space(p + 1);
    if (parse_op(&p, &alt->op) < 0)
      return appc_error_make(err, 0, "%s: %s: a relation (<< <= = >= >>) is expected", what,
                             alt->name);
    p = skip_space(p);
    start = p;
    while (*p != '\0' && *p != ')' && *p != ' ' && *p != '\t' && *p != '\n')
      p++;
    if ((alt->version = strndup(start, (size_t) (p - start))) == NULL)
      return appc_error_make(err, ENOMEM, "%s", what);
    p = skip_space(p);
    if (*p != ')' || !deb_version_valid(alt->version))
      return appc_error_make(err, 0, "%s: %s: \"%s\" is not a version followed by ')'", what,
                             alt->name, alt->version);
    p = skip_space(p + 1);
  }
  while (*p == '[' || *p == '<')
    if (skip_restriction(&p, *p == '[' ? ']' : '>') < 0)
      return appc_error_make(err, 0, "%s: %s: an unterminated restriction", what, alt->name);
  *pp = p;
  return 0;
}

static int parse_group(const char **pp, struct deb_group *g, const char *what, appc_error_t *err)
{
  size_t cap = 0;

  for (;;) {
    if (APPC_ARRAY_RESERVE(g->alts, cap, g->n + 1) < 0)
      return appc_error_make(err, ENOMEM, "%s", what);
    g->alts[g->n] = (struct deb_alt){0};
    int r = parse_alt(pp, &g->alts[g->n], what, err);
    g->n++;
    if (r < 0)
      return -1;
    if (**pp != '|')
      return 0;
    (*pp)++;
  }
}

int deb_parse_relations(const char *value, const char *what, struct deb_relations *out,
                        appc_error_t *err)
{
  const char *p = skip_space(value);

  memset(out, 0, sizeof *out);
  while (*p != '\0') {
    if (APPC_ARRAY_RESERVE(out->v, out->cap, out->n + 1) < 0) {
      deb_relations_clear(out);
      return appc_error_make(err, ENOMEM, "%s", what);
    }
    out->v[out->n] = (struct deb_group){0};
    int r = parse_group(&p, &out->v[out->n], what, err);
    out->n++;
    if (r == 0 && *p != ',' && *p != '\0')
      r = appc_error_make(err, 0, "%s: ',' or '|' expected at \"%.20s\"", what, p);
    if (r < 0) {
      deb_relations_clear(out);
      return -1;
    }
    if (*p == ',')
      p = skip_space(p + 1);
  }
  return 0;
}

char *deb_alt_string(const struct deb_alt *alt)
{
  static const char *const names[] = {"", "<<", "<=", "=", ">=", ">>"};
  char *s = NULL;

  if (alt->op == DEB_ANY)
    return strdup(alt->name);
  if (asprintf(&s, "%s (%s %s)", alt->name, names[alt->op], alt->version) < 0)
    return NULL;
  return s;
}
