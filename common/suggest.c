/* SPDX-License-Identifier: Apache-2.0 */
/* "Did you mean ...?" (common/suggest.h). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/suggest.h"

static char fold(char c)
{
  return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static size_t min3(size_t a, size_t b, size_t c)
{
  size_t m = a < b ? a : b;
  return m < c ? m : c;
}

size_t appc_edit_distance(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  /* Three rows of the dynamic programme: two back, one back, this one. */
  size_t rows[3][APPC_SUGGEST_MAX_LEN + 1];

  if (la > APPC_SUGGEST_MAX_LEN || lb > APPC_SUGGEST_MAX_LEN)
    return SIZE_MAX;
  for (size_t j = 0; j <= lb; j++)
    rows[0][j] = j;
  for (size_t i = 1; i <= la; i++) {
    /* The row of the first I letters of A is rows[I % 3]. */
    size_t *prev2 = rows[(i + 1) % 3], *prev = rows[(i + 2) % 3], *cur = rows[i % 3];
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1;
      cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && fold(a[i - 1]) == fold(b[j - 2]) && fold(a[i - 2]) == fold(b[j - 1]) &&
          prev2[j - 2] + 1 < cur[j])
        cur[j] = prev2[j - 2] + 1;
    }
  }
  return rows[la % 3][lb];
}

void appc_suggest_init(struct appc_suggest *s, const char *word)
{
  s->word = word;
  s->best = NULL;
  s->best_score = SIZE_MAX;
}

/* How many edits make a typo of a word of LEN letters. */
static size_t edit_limit(size_t len)
{
  return len <= 5 ? 1 : len <= 9 ? 2 : 3;
}

/* Whether the shorter of A and B (at least 3 letters) begins the other. */
static bool begins(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

  if (n < 3)
    return false;
  for (size_t i = 0; i < n; i++)
    if (fold(a[i]) != fold(b[i]))
      return false;
  return true;
}

void appc_suggest_add(struct appc_suggest *s, const char *candidate)
{
  size_t d = appc_edit_distance(s->word, candidate);
  size_t lw = strlen(s->word), lc = strlen(candidate);
  size_t score;

  if (d <= edit_limit(lw > lc ? lw : lc))
    score = 2 * d;
  else if (begins(s->word, candidate))
    score = 2 * edit_limit(lw > lc ? lw : lc) + 1; /* after every typo */
  else
    return;
  if (score < s->best_score) {
    s->best = candidate;
    s->best_score = score;
  }
}

const char *appc_suggest_best(const struct appc_suggest *s)
{
  return s->best;
}
