/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the schema module's JSON tree (schema/json-scan.c): members
 * kept in document order with repeated keys, source spans, the nesting limit,
 * and the arena (leaks show under ASan and valgrind), plus the writer of
 * values kept as their source. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "schema/json.h"
#include "appc/schema.h"
#include "tests/unit/test-schema.h"

/* The source text of V, as a new string. */
static char *span(const struct appc_jnode *v)
{
  return strndup(v->src, v->src_len);
}

static void test_members_in_order(void **state)
{
  static const char text[] = "{\"a\":1, \"b\":[true,null], \"a\":\"x\", \"A\":{}}";
  static const char *const keys[] = {"a", "b", "a", "A"};
  static const enum appc_jkind kinds[] = {APPC_JNUMBER, APPC_JARRAY, APPC_JSTRING, APPC_JOBJECT};
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;
  size_t i = 0;

  assert_ok(appc_json_parse(text, strlen(text), &t, &err), &err);
  assert_int_equal(t->root->kind, APPC_JOBJECT);
  assert_int_equal(t->root->len, 4);
  for (const struct appc_jnode *m = t->root->first; m != NULL; m = m->next, i++) {
    assert_string_equal(m->key, keys[i]);
    assert_int_equal(m->kind, kinds[i]);
  }
  assert_int_equal(i, 4);

  const struct appc_jnode *b = t->root->first->next;
  assert_int_equal(b->len, 2);
  assert_int_equal(b->first->kind, APPC_JBOOL);
  assert_true(b->first->boolean);
  assert_null(b->first->key);
  assert_int_equal(b->first->next->kind, APPC_JNULL);
  assert_null(appc_jvalue(b->first->next));
  assert_null(b->first->next->next);
}

static void test_spans(void **state)
{
  static const char text[] = "{ \"k\\u0041\" : [ \"a\\/b\" , \"plain\", -0, 1.5E3, "
                             "18446744073709551616 ] , \"n\\u0000\":\"\\u0000\" }";
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_json_parse(text, strlen(text), &t, &err), &err);
  const struct appc_jnode *a = t->root->first;
  cleanup_free char *whole = span(t->root), *array = span(a);
  assert_string_equal(whole, text);
  assert_string_equal(array, "[ \"a\\/b\" , \"plain\", -0, 1.5E3, 18446744073709551616 ]");
  /* The key decoded, and its source kept. */
  assert_string_equal(a->key, "kA");
  assert_int_equal(a->key_src_len, strlen("\"k\\u0041\""));
  assert_memory_equal(a->key_src, "\"k\\u0041\"", a->key_src_len);

  const struct appc_jnode *s = a->first;
  cleanup_free char *s_src = span(s);
  assert_string_equal(s_src, "\"a\\/b\"");
  assert_string_equal(s->text, "a/b");
  assert_true(s->escaped);
  assert_false(s->next->escaped);
  assert_string_equal(s->next->text, "plain");

  /* Numbers keep their literal. */
  static const char *const literals[] = {"-0", "1.5E3", "18446744073709551616"};
  const struct appc_jnode *n = s->next->next;
  for (size_t i = 0; i < 3; i++, n = n->next) {
    cleanup_free char *lit = span(n);
    assert_int_equal(n->kind, APPC_JNUMBER);
    assert_string_equal(n->text, literals[i]);
    assert_string_equal(lit, literals[i]);
  }

  /* U+0000 cannot be in a C string: flagged, for the decoders to refuse. */
  const struct appc_jnode *z = a->next;
  assert_true(z->key_nul);
  assert_true(z->nul);
  assert_int_equal(z->len, 1);
  assert_false(a->key_nul || a->first->nul);
}

static void test_depth_limit(void **state)
{
  static char buf[2 * APPC_JSON_MAX_DEPTH + 256];
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;
  char want[128];
  int depth = 1;

  nested(buf, sizeof buf, APPC_JSON_MAX_DEPTH);
  assert_ok(appc_json_parse(buf, strlen(buf), &t, &err), &err);
  /* The object, then the arrays of its last member "x". */
  const struct appc_jnode *x = t->root->first;
  while (x->next != NULL)
    x = x->next;
  for (const struct appc_jnode *v = x; v != NULL; v = v->first)
    depth++;
  assert_int_equal(depth, APPC_JSON_MAX_DEPTH);

  /* The one level too many is named at its bracket. */
  nested(buf, sizeof buf, APPC_JSON_MAX_DEPTH + 1);
  snprintf(want, sizeof want, "invalid JSON at line 1, column %zu: arrays and objects nested",
           (size_t) (strrchr(buf, '[') - buf) + 1);
  assert_error_contains(appc_json_parse(buf, strlen(buf), &t, &err), &err, want);
}

/* A tree bigger than its first chunk, and trees given up half built: the
 * arena is released whole either way (ASan and valgrind check it). */
static void test_arena(void **state)
{
  static const char *const broken[] = {
      "{\"a\":[1,2,{\"b\":\"c\"",
      "{\"a\":[1,2,{\"b\":\"c\\q\"}]}",
      "[1,2,3] x",
      "{\"a\":1,}",
  };
  size_t n = 200000, len = 0;
  cleanup_free char *text = malloc(4 * n + 16);
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;
  size_t count = 0;

  assert_non_null(text);
  len += (size_t) sprintf(text, "{\"a\":[");
  for (size_t i = 0; i < n; i++)
    len += (size_t) sprintf(text + len, i > 0 ? ",%zu" : "%zu", i % 10);
  len += (size_t) sprintf(text + len, "]}");
  assert_ok(appc_json_parse(text, len, &t, &err), &err);
  for (const struct appc_jnode *v = t->root->first->first; v != NULL; v = v->next)
    count++;
  assert_int_equal(count, n);
  assert_int_equal(t->root->first->len, n);

  for (size_t i = 0; i < ARRAY_SIZE(broken); i++) {
    struct appc_jtree *none = NULL;
    assert_int_equal(appc_json_parse(broken[i], strlen(broken[i]), &none, &err), -1);
    assert_null(none);
    appc_error_release(&err);
  }
  appc_jtree_free(NULL);
}

static void test_top_level(void **state)
{
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_json_parse_value(" \"s\" ", &t, &err), &err);
  assert_int_equal(t->root->kind, APPC_JSTRING);
  assert_error_contains(appc_json_parse("[1]", 3, &t, &err), &err,
                        "manifest must be a JSON object");
  /* A syntax error comes first, as Go reports it. */
  assert_error_contains(appc_json_parse("[1,]", 4, &t, &err), &err,
                        "invalid JSON at line 1, column 4: invalid character");
  assert_error_contains(appc_json_parse_value("{} {}", &t, &err), &err,
                        "invalid character after top-level value");
}

/* A value kept as its source: strings as written (HTML characters escaped),
 * numbers as written, keys as Go writes them. */
static void test_raw_writer(void **state)
{
  static const char text[] = "{\"k\\u0041\":[\"\\u00e9<\", 1E3, -0, null, true, {}, []], "
                             "\"z\\u0000\": \"\"}";
  static const char compact[] =
      "{\"kA\":[\"\\u00e9\\u003c\",1E3,-0,null,true,{},[]],\"z\\u0000\":\"\"}";
  static const char pretty[] = "{\n    \"kA\": [\n        \"\\u00e9\\u003c\",\n        1E3,\n"
                               "        -0,\n        null,\n        true,\n        {},\n"
                               "        []\n    ],\n    \"z\\u0000\": \"\"\n}";
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_json_parse_value(text, &t, &err), &err);
  for (int flags = 0; flags <= APPC_JSON_PRETTY; flags += APPC_JSON_PRETTY) {
    cleanup_free char *out = NULL;
    size_t len = 0;
    struct appc_jw w;
    appc_jw_init(&w, flags);
    appc_jw_raw(&w, t->root);
    assert_ok(appc_jw_finish(&w, &out, &len, "writing", &err), &err);
    assert_string_equal(out, flags ? pretty : compact);
    assert_int_equal(len, strlen(out));
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_members_in_order), cmocka_unit_test(test_spans),
      cmocka_unit_test(test_depth_limit),      cmocka_unit_test(test_arena),
      cmocka_unit_test(test_top_level),        cmocka_unit_test(test_raw_writer),
  };
  return cmocka_run_group_tests_name("schema-json", tests, NULL, NULL);
}
