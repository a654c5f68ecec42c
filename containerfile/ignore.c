/* SPDX-License-Identifier: Apache-2.0 */
/* .containerignore / .dockerignore: which files of the build context COPY
 * and ADD leave out, and which the cache key leaves out.
 *
 * A pattern is cleaned as Docker cleans it (filepath.Clean: "a//b",
 * "a/./b" and "x/../a/b" are "a/b"), so that a spelling does not let a file
 * the author meant to keep out into the image.  Matching is component by
 * component: '*', '?' and classes within one (fnmatch), "**" for any
 * number of them, none included; a pattern that names a directory leaves
 * out everything below it.  It walks the pattern once, keeping the set of
 * path positions reached so far, so a pattern of many "**" costs the
 * product of the two lengths, never a retry of every way to split the
 * path. */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "containerfile/internal.h"

/* A relative path's components: where each starts and its length. */
struct components {
  const char **at;
  size_t *len;
  size_t n;
};

static void components_clear(struct components *c)
{
  free(c->at);
  free(c->len);
}

/* Split PATH at '/', leaving out empty components. */
static int split(const char *path, struct components *c)
{
  size_t max = 1;

  for (const char *p = path; *p != '\0'; p++)
    max += *p == '/';
  *c = (struct components){.at = malloc(max * sizeof *c->at), .len = malloc(max * sizeof *c->len)};
  if (c->at == NULL || c->len == NULL) {
    components_clear(c);
    return -1;
  }
  for (const char *p = path; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (n > 0) {
      c->at[c->n] = p;
      c->len[c->n++] = n;
    }
    p += n + (p[n] == '/');
  }
  return 0;
}

static bool is_globstar(const struct components *c, size_t i)
{
  return c->len[i] == 2 && c->at[i][0] == '*' && c->at[i][1] == '*';
}

static bool component_matches(const struct components *pat, size_t i, const struct components *path,
                              size_t j)
{
  char pc[NAME_MAX + 1], xc[NAME_MAX + 1];

  if (pat->len[i] > NAME_MAX || path->len[j] > NAME_MAX)
    return false;
  snprintf(pc, sizeof pc, "%.*s", (int) pat->len[i], pat->at[i]);
  snprintf(xc, sizeof xc, "%.*s", (int) path->len[j], path->at[j]);
  return fnmatch(pc, xc, 0) == 0;
}

/* PAT against PATH: REACHED[j] says that the components of PAT so far
 * match PATH's first j components; each step makes the next set. */
static bool walk(const struct components *pat, const struct components *path, bool *reached,
                 bool *next)
{
  size_t x = path->n;

  memset(reached, 0, (x + 1) * sizeof *reached);
  reached[0] = true;
  for (size_t i = 0; i < pat->n; i++) {
    bool any = false;
    memset(next, 0, (x + 1) * sizeof *next);
    if (is_globstar(pat, i)) {
      /* any number of components from the first position reached; a
       * "**" at the end matches whatever is left (something is) */
      size_t from = 0;
      while (from < x && !reached[from])
        from++;
      if (from == x)
        return false;
      if (i + 1 == pat->n)
        return true;
      for (size_t j = from; j < x; j++)
        next[j] = any = true;
    } else {
      for (size_t j = 0; j < x; j++)
        if (reached[j] && component_matches(pat, i, path, j))
          next[j + 1] = any = true;
    }
    if (!any)
      return false;
    bool *t = reached;
    reached = next;
    next = t;
  }
  return true; /* the pattern names PATH or a directory above it */
}

/* PATTERN against PATH, both relative and cleaned. */
static bool match(const char *pattern, const char *path)
{
  struct components pat = {0}, x = {0};
  bool *reached = NULL, *next = NULL, r = false;

  if (split(pattern, &pat) == 0 && split(path, &x) == 0 && x.n > 0 &&
      (reached = calloc(x.n + 1, sizeof *reached)) != NULL &&
      (next = calloc(x.n + 1, sizeof *next)) != NULL)
    r = walk(&pat, &x, reached, next);
  free(reached);
  free(next);
  components_clear(&pat);
  components_clear(&x);
  return r;
}

char *cf_path_clean(const char *p, size_t plen)
{
  char *out = malloc(plen + 1);
  size_t len = 0;

  if (out == NULL)
    return NULL;
  for (size_t k = 0; k < plen;) {
    size_t n = 0;
    while (k + n < plen && p[k + n] != '/')
      n++;
    bool dot = n == 1 && p[k] == '.';
    bool dotdot = n == 2 && p[k] == '.' && p[k + 1] == '.';
    size_t last = len;
    while (last > 0 && out[last - 1] != '/')
      last--;
    bool can_pop = len > 0 && !(len - last == 2 && out[last] == '.' && out[last + 1] == '.');
    if (dotdot && can_pop) {
      len = last > 0 ? last - 1 : 0;
    } else if (n > 0 && !dot) {
      if (len > 0)
        out[len++] = '/';
      memcpy(out + len, p + k, n);
      len += n;
    }
    k += n + 1;
  }
  out[len] = '\0';
  return out;
}

int cf_ignore_add(struct cf_ignore *ig, const char *line, size_t len)
{
  while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
    len--;
  while (len > 0 && (*line == ' ' || *line == '\t'))
    line++, len--;
  if (len == 0 || line[0] == '#')
    return 0;
  bool negate = line[0] == '!';
  cleanup_free char *p = cf_path_clean(line + negate, len - negate);
  if (p == NULL)
    return -1;
  if (p[0] == '\0')
    return 0;
  if (APPC_ARRAY_RESERVE(ig->patterns, ig->cap, ig->len + 1) < 0)
    return -1;
  ig->patterns[ig->len++] = (struct cf_pattern){.glob = steal_pointer(&p), .exception = negate};
  return 0;
}

bool cf_ignored(const struct cf_ignore *ig, const char *rel)
{
  bool out = false;

  for (size_t i = 0; i < ig->len; i++)
    if (match(ig->patterns[i].glob, rel))
      out = !ig->patterns[i].exception;
  return out;
}

bool cf_ignore_reincludes_below(const struct cf_ignore *ig, const char *dir)
{
  size_t n = strlen(dir);

  /* as Docker walks a context: an exception whose text starts with "DIR/"
   * (compared as text, not as a glob) may take back something below */
  for (size_t i = 0; i < ig->len; i++)
    if (ig->patterns[i].exception && strncmp(ig->patterns[i].glob, dir, n) == 0 &&
        ig->patterns[i].glob[n] == '/')
      return true;
  return false;
}

void cf_ignore_clear(struct cf_ignore *ig)
{
  for (size_t i = 0; i < ig->len; i++)
    free(ig->patterns[i].glob);
  free(ig->patterns);
  memset(ig, 0, sizeof *ig);
}
