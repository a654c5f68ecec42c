/* SPDX-License-Identifier: Apache-2.0 */
/* "Did you mean ...?": the known word closest to a mistyped one, as git's
 * help.c finds a command for a typo.  Used for commands and options in
 * actool and for manifest keys the schema does not define. */
#ifndef APPC_COMMON_SUGGEST_H
#define APPC_COMMON_SUGGEST_H

#include <stddef.h>

/* The optimal string alignment distance between A and B (Damerau-Levenshtein
 * with adjacent transpositions, each edit counting 1), ASCII letters
 * compared without case.  Words longer than APPC_SUGGEST_MAX_LEN are
 * SIZE_MAX apart from every other. */
#define APPC_SUGGEST_MAX_LEN 64
size_t appc_edit_distance(const char *a, const char *b);

/* Finding the best of several candidates:
 *   struct appc_suggest s;
 *   appc_suggest_init(&s, word);
 *   for (...) appc_suggest_add(&s, candidate);
 *   const char *best = appc_suggest_best(&s);   // NULL if none is close
 * A candidate is close when it is a few edits away (1 for words of up to
 * 5 letters, 2 up to 9, 3 beyond), or when one of the two words begins the
 * other and the shorter has at least 3 letters ("workingDir" for
 * "workingDirectory").  The fewest edits win, then the first added. */
struct appc_suggest {
  const char *word;
  const char *best;
  size_t best_score;
};
void appc_suggest_init(struct appc_suggest *s, const char *word);
void appc_suggest_add(struct appc_suggest *s, const char *candidate);
const char *appc_suggest_best(const struct appc_suggest *s);

/* Warnings of unknown keys shown per manifest, then one line saying how
 * many more there were: enough to see what is wrong (a misspelt key, a
 * manifest of another version), while a manifest of 400,000 extra keys
 * gives one more line, not 400,000, as a compiler stops after so many
 * errors. */
#define APPC_UNKNOWN_KEYS_SHOWN 20

#endif
