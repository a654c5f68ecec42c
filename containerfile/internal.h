/* SPDX-License-Identifier: Apache-2.0 */
/* containerfile/: `actool build --file=Containerfile` (<appc/containerfile.h>). */
#ifndef APPC_CONTAINERFILE_INTERNAL_H
#define APPC_CONTAINERFILE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "appc/containerfile.h"
#include "appc/types.h"

/* A Containerfile larger than this is not one a person wrote. */
#define CF_MAX_BYTES (1024 * 1024)
/* Each step writes the manifest again, and its cache record holds it:
 * work that grows with the square of the number of steps. */
#define CF_MAX_INSTRUCTIONS 1024
/* What all the expansions of a Containerfile's variables may make. */
#define CF_EXPANDED_MAX (16 * CF_MAX_BYTES)

enum cf_kind {
  CF_FROM,
  CF_RUN,
  CF_COPY,
  CF_ADD,
  CF_ENV,
  CF_ARG,
  CF_WORKDIR,
  CF_USER,
  CF_ENTRYPOINT,
  CF_CMD,
  CF_EXPOSE,
  CF_VOLUME,
  CF_LABEL,
  CF_MAINTAINER,
};

struct cf_instr {
  enum cf_kind kind;
  const char *keyword; /* as the spec spells it: "RUN" */
  unsigned line;       /* of its first line, from 1 */
  char *args;          /* the text after the keyword (and flags), lines joined */
  bool json;           /* exec form: ARGS was a JSON array, now in WORDS */
  char **words;
  size_t n_words;
  char **flags; /* "--chown=1:2" as written */
  size_t n_flags;
};

struct cf_file {
  struct cf_instr *items;
  size_t len, cap;
  char escape; /* '\\', or '`' by the escape directive */
};

/* Parse TEXT (LEN bytes) of the Containerfile PATH: comments, parser
 * directives, line continuations, keywords, flags and exec forms.
 * Instructions this does not do are refused with the line. */
int cf_parse(const char *text, size_t len, const char *path, struct cf_file *out,
             appc_error_t *err);
void cf_file_clear(struct cf_file *f);

/* Variables a word may name: ENV's, then ARG's; and what the whole
 * Containerfile may still expand to (taken by each word made; NULL: only
 * CF_MAX_BYTES per call). */
struct cf_vars {
  const struct appc_kv_list *env;
  const struct appc_kv_list *args;
  size_t *left;
};

/* TEXT as the builder's shell-like words: quotes ('...', "..."), the escape
 * character, and $NAME, ${NAME}, ${NAME:-WORD}, ${NAME:+WORD} from VARS;
 * SPLIT: split at unquoted blanks, else one word.  WHERE names the line
 * in errors. */
int cf_words(const char *text, char escape, const struct cf_vars *vars, bool split,
             const char *where, char ***out, size_t *n, appc_error_t *err);
void cf_words_free(char **words, size_t n);
/* TEXT split at blanks outside quotes, as written (quotes, escapes and
 * variables left for cf_words): NAME=VALUE lists, where a value's
 * expansion is not split again.  -1 when out of memory. */
int cf_split_raw(const char *text, char escape, char ***out, size_t *n);

/* P (PLEN bytes) as Go's filepath.Clean makes it, without a leading '/':
 * empty and "." components dropped, ".." taking the one before it away (a
 * ".." with none before it stays).  NULL when out of memory. */
char *cf_path_clean(const char *p, size_t plen);

/* .containerignore / .dockerignore patterns (ignore.c), cleaned. */
struct cf_pattern {
  char *glob;
  bool exception; /* the line started with '!' */
};
struct cf_ignore {
  struct cf_pattern *patterns;
  size_t len, cap;
};
/* Add the pattern on LINE (LEN bytes; a comment or a blank line adds
 * nothing).  -1 when out of memory. */
int cf_ignore_add(struct cf_ignore *ig, const char *line, size_t len);
/* Whether REL (a path relative to the context) is left out: the last
 * pattern that matches it decides. */
bool cf_ignored(const struct cf_ignore *ig, const char *rel);
/* Whether an exception may take back something below the directory DIR
 * (relative to the context) that a pattern leaves out: then DIR is walked
 * all the same, each entry below judged on its own, as Docker does. */
bool cf_ignore_reincludes_below(const struct cf_ignore *ig, const char *dir);
void cf_ignore_clear(struct cf_ignore *ig);

/* ADD: when SRC is a tar archive (compressed or not), unpack it into the
 * existing, empty directory DIR (*WAS_ARCHIVE true); else do nothing. */
int cf_unpack(const char *src, const char *dir, bool *was_archive, appc_error_t *err);

#endif
