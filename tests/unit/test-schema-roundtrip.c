/* SPDX-License-Identifier: Apache-2.0 */
/* Property: parse, serialise, parse is the identity on every valid manifest,
 * compact and pretty-printed: every valid fixture of fixtures/manifests and
 * generated edge cases (U+2028/U+2029, U+0000 in keys and values, escapes,
 * non-BMP characters, very large numbers).  `patch-manifest` and
 * `cat-manifest --pretty-print` rely on it. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "tests/unit/test-schema.h"
#include "common/macros.h"

/* The manifest's serialisation with FLAGS; fails the test on an error. */
static char *serialize(const char *json, size_t len, int flags)
{
  enum appc_manifest_kind kind;
  appc_error_t err = NULL;
  char *out = NULL;
  int r;

  if (appc_manifest_kind(json, len, &kind, &err) < 0)
    fail_msg("kind: %s: %.300s", err->msg, json);
  if (kind == APPC_MANIFEST_IMAGE) {
    cleanup_image_manifest struct appc_image_manifest *m = NULL;
    r = appc_image_manifest_parse(json, len, &m, &err);
    if (r == 0)
      r = appc_image_manifest_serialize(m, flags, &out, NULL, &err);
  } else {
    cleanup_pod_manifest struct appc_pod_manifest *m = NULL;
    r = appc_pod_manifest_parse(json, len, &m, &err);
    if (r == 0)
      r = appc_pod_manifest_serialize(m, flags, &out, NULL, &err);
  }
  if (r < 0)
    fail_msg("%s: %.300s", err->msg, json);
  return out;
}

/* Whether the manifest JSON is one actool writes: every manifest that
 * parses is, but an image manifest with a nameless label, annotation,
 * mount point or port (parsed as the reference parses it, never written:
 * appc_image_manifest_check_names). */
static bool writable(const char *json, size_t len)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_error appc_error_t err = NULL;
  enum appc_manifest_kind kind;

  if (appc_manifest_kind(json, len, &kind, &err) < 0 || kind != APPC_MANIFEST_IMAGE)
    return true;
  if (appc_image_manifest_parse(json, len, &m, &err) < 0)
    return true; /* serialize says so */
  return appc_image_manifest_check_names(m, &err) == 0;
}

/* Serialising what was serialised gives the same text, whichever form the
 * first serialisation took. */
static void check_identity(const char *json, size_t len)
{
  cleanup_free char *compact = serialize(json, len, 0);
  cleanup_free char *pretty = serialize(json, len, APPC_JSON_PRETTY);
  cleanup_free char *again = serialize(compact, strlen(compact), 0);
  cleanup_free char *from_pretty = serialize(pretty, strlen(pretty), 0);
  cleanup_free char *pretty_again = serialize(pretty, strlen(pretty), APPC_JSON_PRETTY);

  assert_string_equal(again, compact);
  assert_string_equal(from_pretty, compact);
  assert_string_equal(pretty_again, pretty);
}

/* An image manifest whose app has ISOLATORS (IM and APP of test-schema.h). */
#define IMG "{" IM
#define POD_ISO(isolators) "{" PM ",\"apps\":[],\"isolators\":[" isolators "]}"
#define APP_ISO(isolators) "{" IM ",\"app\":{" APP ",\"isolators\":[" isolators "]}}"
#define CPU(value) "{\"name\":\"resource/cpu\",\"value\":" value "}"

static void test_generated(void **state)
{
  static const char *const cases[] = {
      /* A quantity is read raw; Go trims Unicode space around it. */
      APP_ISO(CPU("{\"limit\":\"1\xe2\x80\xa8\"}")),
      APP_ISO(CPU("{\"limit\":\"\xe2\x80\xa9 250m\",\"request\":\"\xe2\x80\xa8\xe2\x80\xa9 1\"}")),
      /* Keys holding U+0000 in an isolator value (kept as a RawMessage). */
      APP_ISO(CPU("{\"limit\":\"1\",\"a\\u0000b\":1,\"\\u0000\":{\"x\\u0000\":[\"\\u0000\"]}}")),
      /* Escapes, HTML characters, U+2028 raw and escaped, in values and keys. */
      APP_ISO(CPU("{\"limit\":\"1\",\"k\xe2\x80\xa8<&>\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001<&>\","
                  "\"\\u2028\\u2029\":\"\xe2\x80\xa8\xe2\x80\xa9\\u2028\"}")),
      IMG ",\"annotations\":[{\"name\":\"a\",\"value\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f"
          "<&>\xe2\x80\xa8\\u2029\"}],\"labels\":[{\"name\":\"version\",\"value\":\"<\xe2\x80\xa9>"
          "\"}]}",
      /* Non-BMP characters, raw and as surrogate pairs; a lone surrogate. */
      IMG
      ",\"annotations\":[{\"name\":\"a\",\"value\":\"\xf0\x9f\x98\x80\\ud83d\\ude00\\ud800x\"}]}",
      APP_ISO(
          CPU("{\"limit\":\"1\",\"\xf0\x9f\x98\x80\\ud83d\\ude00\":\"\\udfff\xf4\x8f\xbf\xbf\"}")),
      /* Numbers beyond 64 bits and beyond a double, and odd literals. */
      APP_ISO(CPU("{\"limit\":1e3,\"n\":[123456789012345678901234567890,-0,1E+400,-1e-400,0.0,"
                  "18446744073709551616,-9223372036854775809]}")),
      APP_ISO(CPU("{\"limit\":-0}")),
      /* Duplicate and case-variant keys in a raw value stay as written. */
      APP_ISO(CPU("{\"limit\":\"1\",\"d\":1,\"d\":2,\"LIMIT\":\"2\"}")),
      /* A pod manifest with the same kinds of values. */
      POD_ISO(CPU("{\"limit\":\"1\xe2\x80\xa8\",\"a\\u0000\":\"\xe2\x80\xa9\"}")),
  };
  (void) state;
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
    check_identity(cases[i], strlen(cases[i]));
}

/* Read DIR/NAME whole; NULL when it cannot be read. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
  char path[4096];
  FILE *f;
  char *buf = NULL;
  size_t cap = 0, n = 0, got;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  if (f == NULL)
    return NULL;
  do {
    if (cap - n < 4096) {
      cap = cap * 2 + 8192;
      buf = realloc(buf, cap + 1);
      assert_non_null(buf);
    }
    got = fread(buf + n, 1, cap - n, f);
    n += got;
  } while (got > 0);
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* Whether the first field of a line of TSV equals FILE. */
static bool listed(const char *tsv, const char *file)
{
  size_t n = strlen(file);

  for (const char *p = tsv; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
    if (strncmp(p, file, n) == 0 && p[n] == '\t')
      return true;
  }
  return false;
}

static void test_fixtures(void **state)
{
  const char *top = getenv("top_srcdir");
  char dir[4096];
  cleanup_free char *expected = NULL, *deviations = NULL;
  size_t len, checked = 0, unwritable = 0;

  (void) state;
  assert_non_null(top);
  snprintf(dir, sizeof dir, "%s/fixtures/manifests", top);
  expected = slurp(dir, "expected.tsv", &len);
  deviations = slurp(dir, "deviations.tsv", &len);
  assert_non_null(expected);
  assert_non_null(deviations);
  for (char *line = expected; *line != '\0';) {
    char *end = strchr(line, '\n'), *tab = strchr(line, '\t');
    if (end != NULL)
      *end = '\0';
    /* Rows "valid/FILE<TAB>valid<TAB>-" that deviations.tsv leaves valid. */
    if (tab != NULL && strncmp(tab, "\tvalid\t", 7) == 0) {
      *tab = '\0';
      if (!listed(deviations, line)) {
        cleanup_free char *json = slurp(dir, line, &len);
        if (json == NULL)
          fail_msg("cannot read %s/%s", dir, line);
        if (writable(json, len)) {
          check_identity(json, len);
          checked++;
        } else {
          unwritable++;
        }
      }
    }
    if (end == NULL)
      break;
    line = end + 1;
  }
  /* The corpus holds hundreds of valid manifests: make sure we saw them,
   * and the few nameless entries valid but not written (labels,
   * annotations, mount points and ports: seven). */
  assert_true(checked > 200);
  assert_int_equal(unwritable, 7);
}

/* acVersion is written as Go's SemVer marshals it (the reference's
 * cat-manifest --pretty-print and patch-manifest): numbers without leading
 * zeros, an empty pre-release or build part dropped. */
static void test_semver_written_as_go(void **state)
{
  (void) state;
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"0.8.11", "0.8.11"}, {"00.08.011", "0.8.11"}, {"0.08.011-rc.01+b.007", "0.8.11-rc.01+b.007"},
      {"1.0.0-", "1.0.0"},  {"1.0.0+", "1.0.0"},     {"000.0.1-+x", "0.0.1+x"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    char img[256], pod[256], want[64];
    snprintf(img, sizeof img, "{\"acKind\":\"ImageManifest\",\"acVersion\":\"%s\",\"name\":\"a\"}",
             cases[i].in);
    snprintf(pod, sizeof pod, "{\"acVersion\":\"%s\",\"acKind\":\"PodManifest\",\"apps\":[]}",
             cases[i].in);
    snprintf(want, sizeof want, "\"acVersion\":\"%s\"", cases[i].out);
    cleanup_free char *a = serialize(img, strlen(img), 0);
    cleanup_free char *b = serialize(pod, strlen(pod), 0);
    if (strstr(a, want) == NULL || strstr(b, want) == NULL)
      fail_msg("%s: wanted %s in %s and %s", cases[i].in, want, a, b);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_generated),
      cmocka_unit_test(test_fixtures),
      cmocka_unit_test(test_semver_written_as_go),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
