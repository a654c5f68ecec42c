/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the value-type validators of schema/types.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>

#include "common/macros.h"
#include "appc/types.h"
#include "tests/unit/test-schema.h"

typedef int (*validator_fn)(const char *, appc_error_t *);

struct vcase {
  const char *input;
  bool valid;
};

static void run(validator_fn fn, const char *what, const struct vcase *cases, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    appc_error_t err = NULL;
    int r = fn(cases[i].input, &err);
    if (cases[i].valid && r < 0)
      fail_msg("%s \"%s\": unexpected error %s", what, cases[i].input, err->msg);
    if (!cases[i].valid && (r == 0 || err == NULL))
      fail_msg("%s \"%s\": accepted", what, cases[i].input);
    appc_error_release(&err);
  }
}

#define RUN(fn, cases) run((fn), #fn, (cases), sizeof(cases) / sizeof((cases)[0]))

static void test_acidentifier(void **state)
{
  static const struct vcase cases[] = {
      {"example.com/app", true},
      {"a", true},
      {"a-b_c~d/e.f", true},
      {"0abc", true},
      {"", false},
      {"Example", false},
      {"a b", false},
      {"-a", false},
      {"a/", false},
      {"a..b", true},
      {"é", false},
      {"a:b", false},
  };
  RUN(appc_validate_acidentifier, cases);
}

static void test_acname(void **state)
{
  static const struct vcase cases[] = {
      {"app", true}, {"a-b-c", true}, {"a1", true}, {"", false},    {"a_b", false}, {"a.b", false},
      {"-a", false}, {"a-", false},   {"A", false}, {"a--b", true}, {"a/b", false},
  };
  RUN(appc_validate_acname, cases);
}

/* Any text made an AC Name, which validates as one. */
static void test_acname_make(void **state)
{
  static const char *const cases[][2] = {
      {"My_App.v2", "my-app-v2"}, {"up5", "up5"},      {"--a--b--", "a-b"},
      {"Ünïcode", "n-code"},      {"...", "fallback"}, {"", "fallback"},
  };

  (void) state;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *name = appc_acname_make(cases[i][0], "fallback");
    appc_error_t err = NULL;
    assert_non_null(name);
    assert_string_equal(name, cases[i][1]);
    assert_int_equal(appc_validate_acname(name, &err), 0);
    free(name);
  }
}

static void test_ackind(void **state)
{
  static const struct vcase cases[] = {
      {"ImageManifest", true},
      {"PodManifest", true},
      {"", false},
      {"imagemanifest", false},
  };
  RUN(appc_validate_ackind, cases);
}

static void test_semver(void **state)
{
  static const struct vcase cases[] = {
      {"0.8.11", true},        {"1.0.0-alpha.1", true},
      {"1.0.0+build.5", true}, {"0.0.1", true},
      {"01.2.3", true},        {"0.0.0-rc1", true},
      {"1.0.0-", true},        {"0.0.0", false},
      {"0.0.0+", false},       {"1.0", false},
      {"1.0.0.0", false},      {"", false},
      {"v1.0.0", false},       {"1.0.0-a..b", false},
      {"1.0.0-a_b", false},    {"1.2.99999999999999999999", false},
  };
  RUN(appc_validate_semver, cases);
}

static void test_hash(void **state)
{
  static const struct vcase cases[] = {
      {"sha512-abc", true}, {"sha512-", false},    {"sha256-abc", false}, {"-abc", false},
      {"sha512", false},    {"sha512-a-b", false}, {"", false},
  };
  static const struct vcase full[] = {
      {"sha512-"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       true},
      {"sha512-abc", false},
      {"sha512-"
       "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"
       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
       false},
  };
  RUN(appc_validate_hash, cases);
  RUN(appc_validate_image_id_full, full);
}

static void test_env_name(void **state)
{
  static const struct vcase cases[] = {
      {"PATH", true}, {"_x", true},   {"a.b-c9", true}, {"", false},
      {"9A", false},  {"A B", false}, {"A=B", false},   {".a", false},
  };
  RUN(appc_validate_env_name, cases);
}

static void test_url(void **state)
{
  static const struct vcase cases[] = {
      {"http://example.com", true},
      {"HTTPS://example.com:8080/a/b?q=1#frag", true},
      {"http://user:pw@example.com/", true},
      {"http://[::1]:80/", true},
      {"http:opaque", true},
      {"http://example.com/%41", true},
      {"ftp://example.com", false},
      {"example.com", false},
      {"", false},
      {"http://exa mple.com/", false},
      {"http://example.com:80a/", false},
      {"http://example.com/%zz", false},
      {"http://example.com/#%z", false},
      {"http://[::1/", false},
      {"http://a\x01/", false},
      {"http://us^er@example.com/", false},
      {"http://%41/", false},
  };
  RUN(appc_validate_url, cases);
}

static void test_date(void **state)
{
  static const struct vcase cases[] = {
      {"2016-01-02T15:04:05Z", true},
      {"2016-01-02T15:04:05+01:00", true},
      {"2016-01-02T15:04:05.123456789-07:30", true},
      {"2016-01-02T5:04:05Z", true},
      {"2016-02-29T00:00:00Z", true},
      {"2015-02-29T00:00:00Z", false},
      {"2016-13-01T00:00:00Z", false},
      {"2016-01-02 15:04:05Z", false},
      {"2016-01-02T24:00:00Z", false},
      {"2016-01-02T15:60:00Z", false},
      {"2016-01-02T15:04:05", false},
      {"2016-01-02T15:04:05z", false},
      {"2016-01-02", false},
      {"2016-01-02T15:04:05Zjunk", false},
      {"", false},
  };
  RUN(appc_validate_date, cases);
}

static void test_uuid(void **state)
{
  static const struct vcase cases[] = {
      {"6733c3e3-a0f9-4b2f-bd3f-ba2fe2b4d1b6", true},  {"6733C3E3A0F94B2FBD3FBA2FE2B4D1B6", true},
      {"00000000-0000-0000-0000-000000000000", false}, {"6733c3e3-a0f9-4b2f-bd3f", false},
      {"6733c3e3-a0f9-4b2f-bd3f-ba2fe2b4d1bg", false},
  };
  RUN(appc_validate_uuid, cases);
}

static void test_ip(void **state)
{
  static const struct vcase cases[] = {
      {"127.0.0.1", true}, {"::1", true},           {"::ffff:1.2.3.4", true},
      {"1.2.3", false},    {"1.2.3.256", false},    {"1.2.3.04", false},
      {"", false},         {"fe80::1%eth0", false},
  };
  RUN(appc_validate_ip, cases);
}

static void test_port_range(void **state)
{
  appc_error_t err = NULL;

  assert_int_equal(appc_validate_port_range(80, 1, &err), 0);
  assert_int_equal(appc_validate_port_range(65535, 1, &err), 0);
  assert_int_equal(appc_validate_port_range(65535, 0, &err), 0);
  assert_error_contains(appc_validate_port_range(0, 1, &err), &err, "1-65535");
  assert_error_contains(appc_validate_port_range(65536, 0, &err), &err, "1-65535");
  assert_error_contains(appc_validate_port_range(65535, 2, &err), &err, "end of port range");
  assert_int_equal(appc_validate_port_range(1, 65535, &err), 0);
  assert_error_contains(appc_validate_port_range(1, 65536, &err), &err, "end of port range");
  /* The reference computes port+count in 64 bits and lets it wrap past
   * its own check; we do not (a deviation, see docs/conformance.md). */
  assert_error_contains(appc_validate_port_range(5, UINT64_MAX, &err), &err, "end of port range");
  assert_error_contains(appc_validate_port_range(1, UINT64_MAX, &err), &err, "end of port range");
  assert_error_contains(appc_validate_port_range(65535, UINT64_MAX - 65534, &err), &err,
                        "end of port range");
}

static void test_quantity(void **state)
{
  static const struct vcase cases[] = {
      {"500m", true},   {"1G", true},     {"123Mi", true},
      {"1.5e3", true},  {"0", true},      {"-1", true},
      {"+2k", true},    {" 1Ki ", true},  {".", true},
      {"1E", true},     {"1.5Gi", true},  {"1e-20", true},
      {"", false},      {"1.5.5", false}, {"1K", false},
      {"1Mi5", false},  {"abc", false},   {"1ee5", false},
      {".e-10", false}, {"1 k", false},   {"1e99999999999999999999", false},
  };
  RUN(appc_validate_quantity, cases);
}

static void test_seccomp_errno(void **state)
{
  static const struct vcase cases[] = {
      {"", true},
      {"EPERM", true},
      {"E2BIG", true},
      {"E", true},
      {"eperm", false},
      {"PERM", false},
      {"E_X", false},
      {"Eperm", false},
      /* ASCII only, unlike the reference's unicode.IsUpper/IsNumber (a
       * deviation, see docs/conformance.md). */
      {"EÄ", false},
      {"E\u0663", false},
      {"ÉPERM", false},
      {"EPERM\xff", false},
  };
  RUN(appc_validate_seccomp_errno, cases);
}

static void test_name_lists(void **state)
{
  assert_true(appc_is_linux_capability("CAP_SYS_ADMIN"));
  assert_false(appc_is_linux_capability("CAP_NOPE"));
  assert_int_equal(appc_errno_value("EPERM"), EPERM);
  assert_int_equal(appc_errno_value("EHWPOISON"), EHWPOISON);
  assert_int_equal(appc_errno_value("EFOO"), -1);
  assert_true(appc_is_seccomp_wildcard("@appc.io/all"));
  assert_false(appc_is_seccomp_wildcard("@appc.io/nope"));
  assert_true(appc_is_octal_mode("0755"));
  assert_false(appc_is_octal_mode("0855"));
  assert_false(appc_is_octal_mode("75"));
}

static void test_labels(void **state)
{
  struct appc_kv ok_items[] = {{"os", "linux"}, {"arch", "aarch64"}, {"version", "1"}};
  struct appc_kv dup_items[] = {{"os", "linux"}, {"a", ""}, {"os", "linux"}};
  struct appc_kv name_items[] = {{"name", "x"}};
  struct appc_kv os_items[] = {{"os", "plan9"}};
  struct appc_kv arch_items[] = {{"os", "darwin"}, {"arch", "amd64"}};
  struct appc_kv noos_items[] = {{"arch", "whatever"}};
  struct appc_kv_list l = {ok_items, 3};
  appc_error_t err = NULL;

  assert_int_equal(appc_validate_labels(&l, "labels", &err), 0);
  l = (struct appc_kv_list){noos_items, 1};
  assert_int_equal(appc_validate_labels(&l, "labels", &err), 0);
  l = (struct appc_kv_list){dup_items, 3};
  assert_error_contains(appc_validate_labels(&l, "labels", &err), &err,
                        "labels[2].name: duplicate label \"os\"");
  l = (struct appc_kv_list){name_items, 1};
  assert_error_contains(appc_validate_labels(&l, "x.labels", &err), &err,
                        "x.labels[0].name: invalid label name");
  l = (struct appc_kv_list){os_items, 1};
  assert_error_contains(appc_validate_labels(&l, "labels", &err), &err,
                        "labels[0].value: bad os \"plan9\"");
  l = (struct appc_kv_list){arch_items, 2};
  assert_error_contains(appc_validate_labels(&l, "labels", &err), &err,
                        "labels[1].value: bad arch \"amd64\" for os darwin");
}

static void test_annotations_environment(void **state)
{
  struct appc_kv good[] = {{"created", "2016-01-02T15:04:05Z"}, {"homepage", "https://x.org"}};
  struct appc_kv bad_date[] = {{"a", "b"}, {"created", "yesterday"}};
  struct appc_kv bad_url[] = {{"documentation", "file:///x"}};
  struct appc_kv dup[] = {{"a", "1"}, {"a", "2"}};
  struct appc_kv env_bad[] = {{"A", "1"}, {"B C", "2"}};
  struct appc_kv_list l = {good, 2};
  appc_error_t err = NULL;

  assert_int_equal(appc_validate_annotations(&l, "annotations", &err), 0);
  l = (struct appc_kv_list){bad_date, 2};
  assert_error_contains(appc_validate_annotations(&l, "annotations", &err), &err,
                        "annotations[1].value: \"yesterday\" is not a valid RFC 3339 date");
  l = (struct appc_kv_list){bad_url, 1};
  assert_error_contains(appc_validate_annotations(&l, "annotations", &err), &err, "http or https");
  l = (struct appc_kv_list){dup, 2};
  assert_error_contains(appc_validate_annotations(&l, "annotations", &err), &err,
                        "duplicate annotation \"a\"");
  assert_error_contains(appc_validate_environment(&l, "env", &err), &err,
                        "env[1].name: duplicate environment variable \"a\"");
  l = (struct appc_kv_list){env_bad, 2};
  assert_error_contains(
      appc_validate_environment(&l, "app.environment", &err), &err,
      "app.environment[1].name: \"B C\" is not a valid environment variable name");
}

static void test_volume(void **state)
{
  struct appc_volume v = {.name = "v", .kind = "host", .source = "/srv", .mode = NULL};
  appc_error_t err = NULL;

  assert_int_equal(appc_validate_volume(&v, "volumes[0]", &err), 0);
  v.source = "srv";
  assert_error_contains(appc_validate_volume(&v, "volumes[0]", &err), &err,
                        "volumes[0].source: \"srv\" must be an absolute path");
  v.source = "/srv";
  v.has_uid = true;
  assert_error_contains(appc_validate_volume(&v, "volumes[0]", &err), &err, "uid: cannot be set");
  v = (struct appc_volume){
      .name = "v", .kind = "empty", .source = "", .mode = "0755", .has_uid = true, .has_gid = true};
  assert_int_equal(appc_validate_volume(&v, "volumes[0]", &err), 0);
  v.source = "/x";
  assert_error_contains(appc_validate_volume(&v, "volumes[0]", &err), &err, "must be empty");
  v.kind = "tmpfs";
  assert_error_contains(appc_validate_volume(&v, "volumes[0]", &err), &err, "not a volume kind");
  v.name = "";
  assert_error_contains(appc_validate_volume(&v, "volumes[3]", &err), &err,
                        "volumes[3].name: must be set");
}

/* Quantity values, as the executor's cgroup limits take them. */
static void test_quantity_values(void **state)
{
  static const struct {
    const char *text;
    int scale;
    int64_t want;
  } ok[] = {
      {"500m", 3, 500},
      {"1", 3, 1000},
      {"0.5", 3, 500},
      {"1.5e3", 0, 1500},
      {"1.5E3", 0, 1500},
      {"1e-3", 3, 1},
      {"1G", 0, 1000000000},
      {"123Mi", 0, 123 * 1048576},
      {"1Gi", 0, 1073741824},
      {"2Ki", 0, 2048},
      {" 2Ki ", 0, 2048},
      {"+3k", 0, 3000},
      {"1m", 0, 1},   /* 0.001 rounded up */
      {"100n", 3, 1}, /* 0.0001 millicores */
      {"1.001", 0, 2},
      {"1.0000000000000000000000000000000000001", 0, 2}, /* 38 digits */
      {"0.00000000000000000000000000000000000000000000001", 0, 1},
      {"1Ki", -3, 2}, /* 1.024 */
      {"0", 0, 0},
      {"-0", 0, 0},
      {"0.000", 3, 0},
      {"5.", 0, 5},
      {".5", 1, 5},
      {"1500", 0, 1500},
      {"0.0250", 3, 25},
      {"1E", 0, INT64_C(1000000000000000000)},
      {"9E", 0, INT64_C(9000000000000000000)},
      {"7Ei", 0, INT64_C(7) << 60},
      {"9223372036854775807", 0, INT64_MAX},
      {"1e-30000", 0, 1},
      /* The exponent is the int32 the reference keeps: 2^32 + 3 gives 3. */
      {"1e4294967299", 0, 1000},
  };
  static const struct {
    const char *text;
    int scale;
    const char *needle;
  } bad[] = {
      {"10E", 0, "\"10E\" is too large"},
      {"8Ei", 0, "is too large"},
      {"9223372036854775808", 0, "is too large"},
      {"9223372036854775807", 3, "is too large"},
      {"1e30000", 0, "is too large"},
      {"-1", 0, "\"-1\" must not be negative"},
      {"-0.5m", 3, "must not be negative"},
      {"12x", 0, "\"12x\" is not a valid quantity"},
      {"", 0, "is not a valid quantity"},
      {"1.2.3", 0, "is not a valid quantity"},
      {"1.00000000000000000000000000000000000001", 0, "has more than 38 significant digits"},
  };
  appc_error_t err = NULL;
  int64_t v;
  (void) state;

  for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
    v = -42;
    assert_ok(appc_quantity_value(ok[i].text, ok[i].scale, &v, &err), &err);
    if (v != ok[i].want)
      fail_msg("\"%s\" at 10^%d: %" PRId64 ", not %" PRId64, ok[i].text, ok[i].scale, v,
               ok[i].want);
  }
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    assert_error_contains(appc_quantity_value(bad[i].text, bad[i].scale, &v, &err), &err,
                          bad[i].needle);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_quantity_values),
      cmocka_unit_test(test_acidentifier),
      cmocka_unit_test(test_acname),
      cmocka_unit_test(test_acname_make),
      cmocka_unit_test(test_ackind),
      cmocka_unit_test(test_semver),
      cmocka_unit_test(test_hash),
      cmocka_unit_test(test_env_name),
      cmocka_unit_test(test_url),
      cmocka_unit_test(test_date),
      cmocka_unit_test(test_uuid),
      cmocka_unit_test(test_ip),
      cmocka_unit_test(test_port_range),
      cmocka_unit_test(test_quantity),
      cmocka_unit_test(test_seccomp_errno),
      cmocka_unit_test(test_name_lists),
      cmocka_unit_test(test_labels),
      cmocka_unit_test(test_annotations_environment),
      cmocka_unit_test(test_volume),
  };
  return cmocka_run_group_tests_name("schema-types", tests, NULL, NULL);
}
