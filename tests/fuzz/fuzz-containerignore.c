/* SPDX-License-Identifier: Apache-2.0 */
/* .containerignore / .dockerignore patterns (containerfile/ignore.c): the
 * ignore file, a NUL, then paths relative to the context, one a line.
 * Matching ends in time whatever the patterns (a walk, not a search); a
 * pattern is stored clean, and cleaning it again changes nothing; a pattern
 * without wildcards leaves out the path it names and all below it; "**"
 * leaves out every path. */
#include "config.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "containerfile/internal.h"
#include "tests/fuzz/fuzz.h"

#define MAX_PATHS 64

/* A stored pattern that, as a line of its own, would be read otherwise: a
 * blank at either end is trimmed ("a/ /" is stored "a/ ", the line "a/ "
 * is "a"), a '#' first makes a comment and a '!' an exception ("/#a" and
 * "/!a" are stored "#a" and "!a"). */
static bool not_its_own_line(const char *p)
{
  size_t len = strlen(p);
  return len == 0 || p[0] == '#' || p[0] == '!' || strchr(" \t\r", p[len - 1]) != NULL ||
         strchr(" \t", p[0]) != NULL;
}

static void check_clean(const struct cf_ignore *ig)
{
  for (size_t i = 0; i < ig->len; i++) {
    struct cf_ignore again = {0};
    const char *p = ig->patterns[i].glob;
    if (p[0] == '\0')
      fuzz_fail("pattern %zu is empty", i);
    if (not_its_own_line(p))
      continue;
    if (cf_ignore_add(&again, p, strlen(p)) < 0)
      fuzz_fail("out of memory");
    if (again.len != 1 || strcmp(again.patterns[0].glob, p) != 0 || again.patterns[0].exception)
      fuzz_fail("pattern \"%s\" cleaned again is \"%s\"", p,
                again.len ? again.patterns[0].glob : "");
    cf_ignore_clear(&again);
  }
}

/* A pattern of plain names (no wildcard, no "..", not an exception), each
 * a name a file can have (at most NAME_MAX bytes). */
static bool literal(const struct cf_pattern *p)
{
  for (const char *c = p->glob; *c != '\0';) {
    size_t n = strcspn(c, "/");
    if (n > NAME_MAX)
      return false;
    c += n + (c[n] == '/');
  }
  return !p->exception && strpbrk(p->glob, "*?[\\") == NULL && strstr(p->glob, "..") == NULL;
}

static void check_literals(const struct cf_ignore *ig)
{
  for (size_t i = 0; i < ig->len; i++) {
    const char *p = ig->patterns[i].glob;
    struct cf_ignore one = {0};
    if (!literal(&ig->patterns[i]) || not_its_own_line(p) || strlen(p) > 1024)
      continue;
    char *below = malloc(strlen(p) + 3);
    if (below == NULL || cf_ignore_add(&one, p, strlen(p)) < 0)
      fuzz_fail("out of memory");
    strcpy(below, p);
    strcat(below, "/x");
    if (!cf_ignored(&one, p) || !cf_ignored(&one, below))
      fuzz_fail("the pattern \"%s\" does not leave out itself and what is below it", p);
    free(below);
    cf_ignore_clear(&one);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr(data, '\0', size);
  size_t ign_len = nul != NULL ? (size_t) (nul - data) : size;
  char *text = fuzz_strndup(data, ign_len);
  struct cf_ignore ig = {0}, all = {0};
  char *paths[MAX_PATHS], *buf = NULL;
  size_t n = 0;

  for (char *line = text; *line != '\0';) {
    size_t len = strcspn(line, "\n");
    if (cf_ignore_add(&ig, line, len) < 0)
      fuzz_fail("out of memory");
    line += len + (line[len] == '\n');
  }
  check_clean(&ig);
  check_literals(&ig);
  if (cf_ignore_add(&all, "**", 2) < 0)
    fuzz_fail("out of memory");
  if (nul != NULL)
    n = fuzz_split(nul + 1, size - ign_len - 1, '\n', paths, MAX_PATHS, &buf);
  for (size_t i = 0; i < n; i++) {
    (void) cf_ignored(&ig, paths[i]);
    if (strspn(paths[i], "/") != strlen(paths[i]) && !cf_ignored(&all, paths[i]))
      fuzz_fail("\"**\" does not leave out \"%s\"", paths[i]);
  }
  free(buf);
  free(text);
  cf_ignore_clear(&ig);
  cf_ignore_clear(&all);
  return 0;
}
