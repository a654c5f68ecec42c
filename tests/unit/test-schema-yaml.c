/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of schema/yaml.c: YAML mapped onto JSON by the YAML 1.2 core
 * schema, the bounds on aliases and nesting, and schema errors naming the
 * YAML line of the field. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "appc/schema.h"
#include "tests/unit/test-util.h"

/* YAML's JSON form, or the error message, as a string to compare. */
static char *to_json(const char *yaml)
{
  char *json = NULL;
  size_t len = 0;
  appc_error_t err = NULL;

  if (appc_yaml_to_json(yaml, strlen(yaml), "t.yaml", &json, &len, &err) < 0) {
    char *msg = strdup(err->msg);
    appc_error_release(&err);
    return msg;
  }
  assert_int_equal(strlen(json), len);
  return json;
}

static void assert_json(const char *yaml, const char *want)
{
  char *got = to_json(yaml);

  if (strcmp(got, want) != 0)
    fail_msg("%s: got %s, want %s", yaml, got, want);
  free(got);
}

static void assert_refused(const char *yaml, const char *needle)
{
  char *json = NULL;
  size_t len = 0;
  appc_error_t err = NULL;

  assert_error_contains(appc_yaml_to_json(yaml, strlen(yaml), "t.yaml", &json, &len, &err), &err,
                        needle);
  assert_null(json);
}

/* HEAD, 256 KiB of text, TAIL, then a list of 100 ALIASes of it. */
static void assert_wide_refused(const char *head, const char *tail, const char *alias)
{
  size_t big = 256 * 1024, cap = big + 2048, n;
  char *wide = malloc(cap);

  assert_non_null(wide);
  n = (size_t) snprintf(wide, cap, "%s", head);
  memset(wide + n, 'x', big);
  n += big;
  n += (size_t) snprintf(wide + n, cap - n, "%sl: [", tail);
  for (int i = 0; i < 100; i++)
    n += (size_t) snprintf(wide + n, cap - n, "%s%s", i > 0 ? "," : "", alias);
  snprintf(wide + n, cap - n, "]\n");
  assert_refused(wide, "too much text once aliases are expanded");
  free(wide);
}

static void test_scalars(void **state)
{
  (void) state;
  /* plain scalars by the core schema; quoted and block ones are strings */
  assert_json("[~, null, NULL, true, False, 12, -3, +4, 0o17, 0x1F, 1.5, -2e3, .5]",
              "[null,null,null,true,false,12,-3,4,15,31,1.5,-2000.0,0.5]");
  assert_json("['12', \"true\", yes, on, 0.8.11, 1.2.3, 012abc]",
              "[\"12\",\"true\",\"yes\",\"on\",\"0.8.11\",\"1.2.3\",\"012abc\"]");
  assert_json("a: |\n  x\n  y\nb: >-\n  folded\n  text\n",
              "{\"a\":\"x\\ny\\n\",\"b\":\"folded text\"}");
  assert_json("key:\n", "{\"key\":null}");
  assert_json("\"a/b\": '/c'", "{\"a/b\":\"/c\"}");
  assert_json("x: \"\\u00e9\"", "{\"x\":\"\xc3\xa9\"}");
}

static void test_structure(void **state)
{
  (void) state;
  assert_json("a: &x [1, 2]\nb: *x\n", "{\"a\":[1,2],\"b\":[1,2]}");
  assert_json("- {a: 1}\n- [b, c]\n", "[{\"a\":1},[\"b\",\"c\"]]");
  assert_json("--- {a: 1}\n...\n", "{\"a\":1}");
}

static void test_refused(void **state)
{
  (void) state;
  assert_refused("a: 1\na: 2\n", "t.yaml:2:1: a key given twice");
  assert_refused("a: 1\n---\nb: 2\n", "more than one YAML document");
  assert_refused("", "no YAML document");
  assert_refused("# only a comment\n", "no YAML document");
  assert_refused("[a, b", "t.yaml:2:1: did not find expected");
  assert_refused("? [a]\n: b\n", "a mapping key must be a string");
  assert_refused("x: .inf\n", "infinity");
  assert_refused("x: 99999999999999999999\n", "out of range");
  assert_refused("x: \"a\\0b\"\n", "NUL");
  /* aliases doubling 40 times: 2^40 values */
  char bomb[4096];
  int n = snprintf(bomb, sizeof bomb, "a0: &a0 [x, x]\n");
  for (int i = 1; i <= 40; i++)
    n += snprintf(bomb + n, sizeof bomb - (size_t) n, "a%d: &a%d [*a%d, *a%d]\n", i, i, i - 1,
                  i - 1);
  assert_refused(bomb, "too many values");
  /* few values, much text: 100 aliases of one 256 KiB string (25 MiB),
   * and as many of a 256 KiB key */
  assert_wide_refused("s: &s \"", "\"\n", "*s");
  assert_wide_refused("m: &m {? \"", "\": 1}\n", "*m");
  /* nesting deeper than any manifest */
  char deep[512] = "";
  for (int i = 0; i < 100; i++)
    strcat(deep, "[");
  for (int i = 0; i < 100; i++)
    strcat(deep, "]");
  assert_refused(deep, "t.yaml:1:66: nested deeper than 64 levels");
  /* 64 levels are fine: a node inside 64 collections, and an empty 65th */
  assert_json(
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"x\"]]]]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
}

/* COUNT times UNIT, between HEAD and TAIL: a big document. */
static char *repeat(const char *head, const char *unit, size_t count, const char *tail)
{
  size_t h = strlen(head), u = strlen(unit), t = strlen(tail);
  char *s = malloc(h + u * count + t + 1);

  assert_non_null(s);
  memcpy(s, head, h);
  for (size_t i = 0; i < count; i++)
    memcpy(s + h + i * u, unit, u);
  memcpy(s + h + u * count, tail, t + 1);
  return s;
}

static void assert_big_refused(char *yaml, const char *needle)
{
  assert_refused(yaml, needle);
  free(yaml);
}

/* A document far out of bounds is refused before libyaml has loaded it
 * (its scanner is quadratic in the depth of flow nesting, its loader in
 * the number of anchors: these took from seconds to hours), within a few
 * events of the place that breaks the bound. */
static void test_refused_early(void **state)
{
  (void) state;
  alarm(30);
  /* 16 MiB of flow nesting, unclosed */
  assert_big_refused(repeat("x: ", "[", 16 * 1024 * 1024 - 16, "\n"),
                     "t.yaml:1:68: nested deeper than 64 levels");
  /* flow mappings, 100,000 deep */
  assert_big_refused(repeat("x: ", "{a: ", 100000, "b\n"),
                     "t.yaml:1:257: nested deeper than 64 levels");
  /* block sequences, 4 million deep on one line */
  assert_big_refused(repeat("x:\n", "- ", 4000000, "a\n"),
                     "t.yaml:2:129: nested deeper than 64 levels");
  /* block mappings, each line indented one column more */
  size_t cap = 100 * 1024, n = 0;
  char *block = malloc(cap);
  assert_non_null(block);
  for (int depth = 0; n + (size_t) depth + 8 < cap; depth++)
    n += (size_t) snprintf(block + n, cap - n, "%*sa:\n", depth, "");
  assert_big_refused(block, "t.yaml:65:65: nested deeper than 64 levels");
  /* 8 million values: libyaml's tree of them takes over a gigabyte */
  assert_big_refused(repeat("x: [", "a,", 8 * 1024 * 1024 - 8, "a]\n"),
                     "t.yaml:1:400001: more than 200000 values");
  /* keys are not values: 150,000 pairs are */
  char *pairs = repeat("{", "a: 1, ", 150000, "}");
  assert_refused(pairs, "a key given twice");
  free(pairs);
  /* 100,000 anchors (libyaml looks each one up in a list of the others) */
  char *anchors = malloc(2 * 1024 * 1024);
  assert_non_null(anchors);
  n = 0;
  for (int i = 0; i < 100000; i++)
    n += (size_t) sprintf(anchors + n, "- &a%d x\n", i);
  assert_big_refused(anchors, "t.yaml:257:3: more than 256 anchors");
  alarm(0);
}

/* Unknown keys: the JSON check's paths, each with its key's line. */
struct unknown_seen {
  char text[512];
};

static void note_unknown(void *data, const char *path, unsigned long line, const char *suggestion)
{
  struct unknown_seen *s = data;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof s->text - n, "%lu %s %s;", line, path,
           suggestion != NULL ? suggestion : "-");
}

static void note_json_unknown(void *data, const char *path, const char *suggestion)
{
  note_unknown(data, path, 0, suggestion);
}

static void test_unknown_keys(void **state)
{
  (void) state;
  static const char yaml[] = "acKind: ImageManifest\n"
                             "acVersion: 0.8.11\n"
                             "name: example.com/y\n"
                             "acKnd: x\n"
                             "labels:\n"
                             "  - name: version\n"
                             "    value: \"1\"\n"
                             "    vale: 2\n"
                             "x-vendor:\n"
                             "  nested: true\n"
                             "app:\n"
                             "  exec: [/x]\n"
                             "  user: \"0\"\n"
                             "  group: \"0\"\n"
                             "  workingDir: /srv\n";
  struct unknown_seen seen = {""}, from_json = {""};
  struct appc_image_manifest *m = NULL;
  char *json = NULL;
  size_t len = 0;
  appc_error_t err = NULL;

  assert_ok(appc_image_manifest_parse_yaml_warn(yaml, strlen(yaml), "m.yaml", &m, NULL, NULL,
                                                note_unknown, &seen, &err),
            &err);
  appc_image_manifest_free(m);
  assert_string_equal(seen.text, "4 acKnd acKind;8 labels[0].vale value;9 x-vendor -;"
                                 "15 app.workingDir workingDirectory;");
  /* the JSON document the YAML stands for gives the same paths */
  assert_ok(appc_yaml_to_json(yaml, strlen(yaml), "m.yaml", &json, &len, &err), &err);
  assert_ok(appc_image_manifest_parse_warn(json, len, &m, note_json_unknown, &from_json, &err),
            &err);
  appc_image_manifest_free(m);
  free(json);
  assert_string_equal(from_json.text, "0 acKnd acKind;0 labels[0].vale value;0 x-vendor -;"
                                      "0 app.workingDir workingDirectory;");
  /* no callback: no warnings, the same manifest */
  assert_ok(appc_image_manifest_parse_yaml_warn(yaml, strlen(yaml), "m.yaml", &m, NULL, NULL, NULL,
                                                NULL, &err),
            &err);
  appc_image_manifest_free(m);
}

static void test_manifest_lines(void **state)
{
  (void) state;
  static const char good[] = "acKind: ImageManifest\n"
                             "acVersion: 0.8.11\n"
                             "name: example.com/y\n"
                             "labels:\n"
                             "  - name: version\n"
                             "    value: \"1.0\"\n";
  struct appc_image_manifest *m = NULL;
  char *json = NULL;
  size_t len = 0;
  appc_error_t err = NULL;

  assert_ok(appc_image_manifest_parse_yaml(good, strlen(good), "m.yaml", &m, &json, &len, &err),
            &err);
  /* the canonical JSON: what serialising the parsed manifest gives */
  char *canon = NULL;
  size_t canon_len = 0;
  assert_ok(appc_image_manifest_serialize(m, 0, &canon, &canon_len, &err), &err);
  assert_string_equal(json, canon);
  free(canon);
  free(json);
  appc_image_manifest_free(m);

  static const char bad[] = "acKind: ImageManifest\n"
                            "acVersion: 0.8.11\n"
                            "name: example.com/y\n"
                            "labels:\n"
                            "  - name: version\n"
                            "    value: 1.0\n";
  json = NULL;
  assert_error_contains(
      appc_image_manifest_parse_yaml(bad, strlen(bad), "m.yaml", &m, &json, &len, &err), &err,
      "m.yaml:6: labels[0].value: expected a string");
  assert_null(m);
  assert_null(json);
  static const char badname[] = "acKind: ImageManifest\nacVersion: 0.8.11\nname: Not A Name\n";
  assert_error_contains(
      appc_image_manifest_parse_yaml(badname, strlen(badname), "m.yaml", &m, NULL, NULL, &err),
      &err, "m.yaml:3: name");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars),        cmocka_unit_test(test_structure),
      cmocka_unit_test(test_refused),        cmocka_unit_test(test_refused_early),
      cmocka_unit_test(test_manifest_lines), cmocka_unit_test(test_unknown_keys),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
