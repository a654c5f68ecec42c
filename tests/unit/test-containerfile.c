/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of containerfile/parse.c and words.c: lines, continuations,
 * comments, the escape directive, keywords, flags, exec forms and what is
 * refused with its line; words with quotes, escapes and variables. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "containerfile/internal.h"
#include "tests/unit/test-util.h"

static struct cf_file parse_ok(const char *text)
{
  struct cf_file f;
  appc_error_t err = NULL;

  if (cf_parse(text, strlen(text), "Containerfile", &f, &err) < 0)
    fail_msg("%s: %s", text, err->msg);
  return f;
}

static void assert_parse_refused(const char *text, const char *needle)
{
  struct cf_file f;
  appc_error_t err = NULL;

  assert_error_contains(cf_parse(text, strlen(text), "Containerfile", &f, &err), &err, needle);
  assert_int_equal(f.len, 0);
}

static void test_lines(void **state)
{
  (void) state;
  struct cf_file f = parse_ok("# a comment\n"
                              "\n"
                              "from base AS build\n"
                              "RUN a \\\n"
                              "  # inside\n"
                              "\n"
                              "  b\r\n"
                              "  ENV   A=1   \n"
                              "RUN last \\");
  assert_int_equal(f.len, 4);
  assert_int_equal(f.items[0].kind, CF_FROM);
  assert_int_equal(f.items[0].line, 3);
  assert_string_equal(f.items[0].args, "base AS build");
  assert_int_equal(f.items[1].kind, CF_RUN);
  assert_int_equal(f.items[1].line, 4);
  assert_string_equal(f.items[1].args, "a   b");
  assert_int_equal(f.items[2].kind, CF_ENV);
  assert_int_equal(f.items[2].line, 8);
  assert_string_equal(f.items[2].args, "A=1");
  assert_string_equal(f.items[3].args, "last");
  cf_file_clear(&f);
}

static void test_bom(void **state)
{
  (void) state;
  struct cf_file f = parse_ok("\xef\xbb\xbf# escape=`\nFROM x\nLABEL a=b\n");
  assert_int_equal(f.escape, '`'); /* a directive still, on the first line */
  assert_int_equal(f.len, 2);
  assert_int_equal(f.items[0].kind, CF_FROM);
  assert_int_equal(f.items[1].line, 3);
  cf_file_clear(&f);
  /* only at the start of the file */
  assert_parse_refused("FROM x\n\xef\xbb\xbfLABEL a=b\n", "Containerfile:2:");
}

static void test_directives(void **state)
{
  (void) state;
  struct cf_file f = parse_ok("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN a `\n b\\\n");
  assert_int_equal(f.escape, '`');
  assert_int_equal(f.len, 2);
  assert_string_equal(f.items[1].args, "a  b\\");
  cf_file_clear(&f);
  /* after anything else, "# escape=" is a comment */
  f = parse_ok("FROM x\n# escape=`\nRUN a `\n");
  assert_int_equal(f.escape, '\\');
  assert_string_equal(f.items[1].args, "a `");
  cf_file_clear(&f);
  assert_parse_refused("# escape=x\nFROM a\n", "Containerfile:1: escape directive");
}

static void test_forms(void **state)
{
  (void) state;
  struct cf_file f = parse_ok("FROM x\n"
                              "CMD [\"/bin/echo\", \"a b\"]\n"
                              "CMD [not json\n"
                              "RUN [\"a\", 1]\n"
                              "COPY --chown=1:2 [\"a b\", \"/c\"]\n");
  assert_true(f.items[1].json);
  assert_int_equal(f.items[1].n_words, 2);
  assert_string_equal(f.items[1].words[1], "a b");
  assert_false(f.items[2].json); /* not an array: the shell form */
  assert_false(f.items[3].json); /* not all strings */
  assert_true(f.items[4].json);
  assert_int_equal(f.items[4].n_flags, 1);
  assert_string_equal(f.items[4].flags[0], "--chown=1:2");
  cf_file_clear(&f);
}

/* The exec form is strict JSON, as Go's decoder reads it: anything else is
 * the shell form, as Docker falls back to. */
static void test_forms_strict(void **state)
{
  (void) state;
  struct cf_file f = parse_ok("FROM x\n"
                              "CMD ['echo','hi']\n"
                              "CMD [\"a\",]\n"
                              "CMD [\"a\" /* c */]\n"
                              "CMD [\"a\"] x\n"
                              "CMD [\"a\"] [\"b\"]\n"
                              "CMD [\"a\", \"\\u00e9\"]  \n");
  for (size_t i = 1; i < 6; i++)
    if (f.items[i].json)
      fail_msg("line %zu: %s taken as the exec form", i + 1, f.items[i].args);
  assert_string_equal(f.items[1].args, "['echo','hi']");
  assert_true(f.items[6].json);
  assert_string_equal(f.items[6].words[1], "\xc3\xa9");
  cf_file_clear(&f);
  /* an argument with a NUL is refused, never cut at it */
  assert_parse_refused("FROM x\nCMD [\"/bin/a\\u0000b\", \"x\"]\n",
                       "Containerfile:2: CMD: argument 1 of the exec form holds a NUL");
}

static void test_refused(void **state)
{
  (void) state;
  assert_parse_refused("FROM x\nONBUILD RUN a\n", "Containerfile:2: ONBUILD is not supported");
  assert_parse_refused("FROM x\nhealthcheck NONE\n",
                       "Containerfile:2: healthcheck is not supported");
  assert_parse_refused("FROM x\nFROM y\n", "Containerfile:2: FROM: a second FROM");
  assert_parse_refused("RUN a\nFROM y\n", "Containerfile:1: RUN before FROM");
  assert_parse_refused("ARG A\n", "no FROM");
  assert_parse_refused("FROM x\nRUN\n", "Containerfile:2: RUN needs arguments");
  assert_parse_refused("FROM x\nRUNX a\n", "Containerfile:2: \"RUNX\" is not an instruction");
  assert_parse_refused("FROM x\n= a\n", "Containerfile:2: \"= a\" is not an instruction");
  assert_parse_refused("FROM --platform=linux/arm64 x\n", "Containerfile:1: FROM --platform");
  assert_parse_refused("FROM x\nCOPY --from=b /a /b\n", "Containerfile:2: COPY --from=b");
  assert_parse_refused("FROM x\nRUN --network=none a\n", "Containerfile:2: RUN --network=none");
  /* heredocs, at their instruction's line rather than as a body line's
   * "is not an instruction" */
  assert_parse_refused("FROM x\nRUN <<EOF\necho hi\nEOF\n",
                       "Containerfile:2: RUN: heredocs (<<WORD) are not supported");
  assert_parse_refused("FROM x\nRUN python3 <<-'PY'\nprint(1)\nPY\n",
                       "Containerfile:2: RUN: heredocs");
  assert_parse_refused("FROM x\nCOPY <<EOF /f\nx\nEOF\n", "Containerfile:2: COPY: heredocs");
  struct cf_file h = parse_ok("FROM x\nRUN echo '<<EOF' \"a <<b\" a<<b\nRUN [\"<<EOF\"]\n");
  cf_file_clear(&h);
  static const char nul[] = "FROM x\nRUN a\0b\n";
  struct cf_file g;
  appc_error_t e = NULL;
  assert_error_contains(cf_parse(nul, sizeof nul - 1, "C", &g, &e), &e, "NUL");
  char *big = calloc(CF_MAX_BYTES + 2, 1);
  assert_non_null(big);
  memset(big, '#', CF_MAX_BYTES + 1);
  struct cf_file f;
  appc_error_t err = NULL;
  assert_error_contains(cf_parse(big, CF_MAX_BYTES + 1, "C", &f, &err), &err, "larger than");
  free(big);
}

/* TEXT's words joined by '|', or the error message. */
static char *words_of(const char *text, bool split)
{
  struct appc_kv env_items[] = {{(char *) "A", (char *) "x y"}, {(char *) "EMPTY", (char *) ""}};
  struct appc_kv arg_items[] = {{(char *) "A", (char *) "from-arg"}, {(char *) "B", (char *) "b"}};
  struct appc_kv_list env = {env_items, 2}, args = {arg_items, 2};
  struct cf_vars v = {.env = &env, .args = &args};
  char **w = NULL;
  size_t n = 0;
  appc_error_t err = NULL;
  char *out = NULL;
  size_t len = 0;
  FILE *f;

  if (cf_words(text, '\\', &v, split, "C:1", &w, &n, &err) < 0) {
    if (asprintf(&out, "ERR: %s", err->msg) < 0)
      out = NULL;
    appc_error_release(&err);
    return out;
  }
  f = open_memstream(&out, &len);
  for (size_t i = 0; i < n; i++)
    fprintf(f, "%s%s", i ? "|" : "", w[i]);
  fclose(f);
  cf_words_free(w, n);
  return out;
}

static void assert_words(const char *text, bool split, const char *want)
{
  char *got = words_of(text, split);

  assert_non_null(got);
  if (strncmp(want, "ERR: ", 5) == 0 ? strstr(got, want + 5) == NULL || strncmp(got, "ERR: ", 5)
                                     : strcmp(got, want) != 0)
    fail_msg("%s: got [%s], want [%s]", text, got, want);
  free(got);
}

static void test_words(void **state)
{
  (void) state;
  assert_words("a  b\tc", true, "a|b|c");
  assert_words("a  b", false, "a  b");
  assert_words("'a b' \"c d\" e\\ f", true, "a b|c d|e f");
  assert_words("$A ${A} $B", true, "x|y|x|y|b"); /* ENV before ARG; unquoted values split */
  assert_words("\"$A\"", true, "x y");
  assert_words("'$A'", true, "$A");
  assert_words("${UNSET:-def} ${EMPTY:-e} ${B:-no} ${B:+yes} ${UNSET:+no}x", true, "def|e|b|yes|x");
  assert_words("${UNSET:-${B}-${UNSET:-deep}}", true, "b-deep");
  assert_words("$ $1 a$", true, "$|$1|a$");
  assert_words("\"a\\\"b\\$c\\\\d\\e\"", true, "a\"b$c\\d\\e");
  assert_words("\"\" ''", true, "|");
  assert_words("", false, "");
  assert_words("$UNSET", true, "");
  assert_words("'open", true, "ERR: C:1: a ' without its closing '");
  assert_words("\"open", true, "ERR: C:1: a \" without its closing \"");
  assert_words("${A", true, "ERR: C:1: a bad variable reference");
  assert_words("${A:=x}", true, "ERR: only :- and :+");
  assert_words("${A:-x", true, "ERR: no closing '}'");
  assert_words("${}", true, "ERR: a bad variable reference");
}

static void test_nesting_bound(void **state)
{
  (void) state;
  char text[200] = "";
  for (int i = 0; i < 20; i++)
    strcat(text, "${X:-");
  strcat(text, "v");
  for (int i = 0; i < 20; i++)
    strcat(text, "}");
  assert_words(text, true, "ERR: C:1: variables nested more than 16 deep");
}

/* IGNORE-FILE's patterns (one a line) against PATH. */
static bool ignored_by(const char *ignore_file, const char *path)
{
  struct cf_ignore ig = {0};

  for (const char *p = ignore_file; *p != '\0';) {
    size_t n = strcspn(p, "\n");
    assert_int_equal(cf_ignore_add(&ig, p, n), 0);
    p += n + (p[n] == '\n');
  }
  bool r = cf_ignored(&ig, path);
  cf_ignore_clear(&ig);
  return r;
}

static void test_ignore(void **state)
{
  (void) state;
  /* components, directories, "**", exceptions, comments */
  assert_true(ignored_by("secrets", "secrets/id_rsa"));
  assert_true(ignored_by("*.log", "a.log"));
  assert_false(ignored_by("*.log", "d/a.log"));
  assert_true(ignored_by("**/*.log", "d/e/a.log"));
  assert_true(ignored_by("**/*.log", "a.log")); /* "**" includes none */
  assert_true(ignored_by("d/**", "d/x"));
  assert_false(ignored_by("d/**", "d"));
  assert_true(ignored_by("d/**/x", "d/x"));
  assert_false(ignored_by("d/x/y", "d/x"));
  assert_false(ignored_by("# secrets", "secrets"));
  assert_false(ignored_by("*.log\n!keep.log", "keep.log"));
  assert_true(ignored_by("*.log\n!keep.log", "other.log"));
  /* Spellings of one path (filepath.Clean): each leaves the file out. */
  assert_true(ignored_by("secrets//id_rsa", "secrets/id_rsa"));
  assert_true(ignored_by("secrets/./id_rsa", "secrets/id_rsa"));
  assert_true(ignored_by("x/../secrets/id_rsa", "secrets/id_rsa"));
  assert_true(ignored_by("/./secrets/", "secrets/id_rsa"));
  assert_false(ignored_by("../secrets", "secrets")); /* above the context: nothing */
  assert_false(ignored_by("../..", "secrets"));
  /* "/!name" and "/#name" name files; only a line's first '!' or '#' counts */
  assert_true(ignored_by("/!x", "!x"));
  assert_true(ignored_by("/#x", "#x"));
  assert_true(ignored_by("*\n/!x", "!x"));
  assert_false(ignored_by("*\n!x", "x")); /* while "!x" is an exception */
  /* Many "**" against a deep path: the product of the lengths, not an
   * exponential retry (this took minutes at 20 levels). */
  char pattern[4096] = "", path[4096] = "";
  for (int i = 0; i < 200; i++) {
    strcat(pattern, "**/");
    strcat(path, i == 0 ? "d" : "/d");
  }
  strcat(pattern, "nomatch");
  assert_false(ignored_by(pattern, path));
  strcat(path, "/nomatch");
  assert_true(ignored_by(pattern, path));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lines),        cmocka_unit_test(test_bom),
      cmocka_unit_test(test_directives),   cmocka_unit_test(test_forms),
      cmocka_unit_test(test_forms_strict), cmocka_unit_test(test_refused),
      cmocka_unit_test(test_words),        cmocka_unit_test(test_nesting_bound),
      cmocka_unit_test(test_ignore),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
