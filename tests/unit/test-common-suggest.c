/* SPDX-License-Identifier: Apache-2.0 */
/* common/suggest: edit distances, and which known word a typo is taken for. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "tests/unit/test-util.h"

#include "common/suggest.h"

static void test_distance(void **state)
{
  (void) state;
  assert_int_equal(appc_edit_distance("", ""), 0);
  assert_int_equal(appc_edit_distance("build", "build"), 0);
  assert_int_equal(appc_edit_distance("", "abc"), 3);
  assert_int_equal(appc_edit_distance("abc", ""), 3);
  /* One substitution, insertion, deletion, adjacent transposition each. */
  assert_int_equal(appc_edit_distance("acKind", "acKing"), 1);
  assert_int_equal(appc_edit_distance("acKnd", "acKind"), 1);
  assert_int_equal(appc_edit_distance("acKind", "acKnd"), 1);
  assert_int_equal(appc_edit_distance("buidl", "build"), 1);
  assert_int_equal(appc_edit_distance("ab", "ba"), 1);
  /* Letters compared without case. */
  assert_int_equal(appc_edit_distance("BUILD", "build"), 0);
  assert_int_equal(appc_edit_distance("kitten", "sitting"), 3);
  /* The restricted form: a transposed pair is not edited again. */
  assert_int_equal(appc_edit_distance("ca", "abc"), 3);
  assert_int_equal(appc_edit_distance("workingDir", "workingDirectory"), 6);
  /* Symmetric. */
  assert_int_equal(appc_edit_distance("flaw", "lawn"), appc_edit_distance("lawn", "flaw"));
  char long_word[APPC_SUGGEST_MAX_LEN + 2];
  memset(long_word, 'a', sizeof long_word - 1);
  long_word[sizeof long_word - 1] = '\0';
  assert_int_equal(appc_edit_distance(long_word, "a"), SIZE_MAX);
  long_word[APPC_SUGGEST_MAX_LEN] = '\0';
  assert_int_equal(appc_edit_distance(long_word, long_word), 0);
}

static const char *best_of(const char *word, const char *const *candidates)
{
  struct appc_suggest s;

  appc_suggest_init(&s, word);
  for (; *candidates != NULL; candidates++)
    appc_suggest_add(&s, *candidates);
  return appc_suggest_best(&s);
}

static void test_suggest(void **state)
{
  static const char *const commands[] = {"build",   "validate", "cat-manifest", "patch-manifest",
                                         "fetch",   "image",    "list",         "status",
                                         "version", NULL};
  static const char *const keys[] = {"acKind", "acVersion", "name", "labels", "app", NULL};
  static const char *const app[] = {"exec",        "user", "group", "workingDirectory",
                                    "environment", NULL};
  (void) state;

  assert_string_equal(best_of("buidl", commands), "build");
  assert_string_equal(best_of("valdate", commands), "validate");
  assert_string_equal(best_of("fecth", commands), "fetch");
  assert_string_equal(best_of("lst", commands), "list");
  assert_string_equal(best_of("statsu", commands), "status");
  assert_string_equal(best_of("cat-manfest", commands), "cat-manifest");
  /* The closest wins over one further away. */
  assert_string_equal(best_of("patch-manifets", commands), "patch-manifest");
  assert_string_equal(best_of("acKnd", keys), "acKind");
  assert_string_equal(best_of("acversion", keys), "acVersion");
  assert_string_equal(best_of("lables", keys), "labels");
  /* A word that begins a known one (or the other way round). */
  assert_string_equal(best_of("workingDir", app), "workingDirectory");
  assert_string_equal(best_of("environmentVariables", app), "environment");
  /* Nothing close: no suggestion. */
  assert_null(best_of("frobnicate", commands));
  assert_null(best_of("zz", commands));
  assert_null(best_of("x", keys));
  assert_null(best_of("ports", keys));
  /* Short words take one edit, not two. */
  assert_null(best_of("nmea", keys));
  assert_null(best_of("usr", (const char *const[]){"group", NULL}));
  /* Ties go to the first candidate added. */
  assert_string_equal(best_of("bat", (const char *const[]){"cat", "bag", NULL}), "cat");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_distance),
      cmocka_unit_test(test_suggest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
