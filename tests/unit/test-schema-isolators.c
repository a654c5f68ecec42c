/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for isolators: each kind's value rules, the app set rules, and
 * the isolator API of schema/isolator.h. */
#include "config.h"

#include "tests/unit/test-schema.h"

#define ISO(name, value) "{\"name\":\"" name "\",\"value\":" value "}"

static void test_resources(void **state)
{
  static const struct manifest_case cases[] = {
      {WITH_ISO(ISO("resource/cpu", "{\"request\":\"250m\",\"limit\":\"500m\"}")), NULL},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":\"1G\",\"request\":128}")), NULL},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":null}")), NULL},
      {WITH_ISO(ISO("resource/cpu", "{\"default\":true}")),
       "app.isolators[0].value.default: must be false"},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":\"1.5.5\"}")),
       "app.isolators[0].value.limit: \"1.5.5\" is not a valid quantity"},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":true}")), "expected a quantity"},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":\"1\\t\"}")), "escaped"},
      /* Go parses the raw bytes between the quotes: any escape is invalid,
       * even of an ordinary character. */
      {WITH_ISO(ISO("resource/cpu", "{\"limit\":\"\\u0031G\"}")),
       "app.isolators[0].value.limit: a quantity must not contain escaped characters"},
      {WITH_ISO(ISO("resource/cpu", "{\"request\":\"\\u00201G\"}")),
       "app.isolators[0].value.request: a quantity must not contain escaped characters"},
      {WITH_ISO(ISO("resource/cpu", "{\"limit\":\"1\\/\"}")), "escaped"},
      {WITH_ISO(ISO("resource/cpu", "{\"limit\":\"\\u0031G\",\"limit\":\"1G\"}")),
       "app.isolators[0].value.limit: a quantity must not contain escaped"},
      /* Numbers are read from their literal, also beyond 64 bits. */
      {WITH_ISO(ISO("resource/cpu", "{\"limit\":100000000000000000000000}")), NULL},
      {WITH_ISO(ISO("resource/cpu", "{\"limit\":-0}")), NULL},
      {WITH_ISO(ISO("resource/cpu", "{\"limit\":1E3}")), NULL},
      {WITH_ISO(ISO("resource/memory", "\"1G\"")), "expected an object"},
      {WITH_ISO(ISO("resource/block-bandwidth", "{\"default\":true,\"limit\":\"1M\"}")), NULL},
      {WITH_ISO(ISO("resource/block-bandwidth", "{\"limit\":\"1M\"}")),
       "app.isolators[0].value.default: must be true"},
      {WITH_ISO(ISO("resource/block-iops", "{\"default\":true,\"request\":\"1\"}")),
       "app.isolators[0].value.request: must not be set for resource/block-iops (got \"1\")"},
      {WITH_ISO(ISO("resource/network-bandwidth", "{\"default\":true,\"request\":null}")), NULL},
      {WITH_ISO(ISO("resource/network-bandwidth", "{\"default\":\"true\"}")), "expected a boolean"},
  };
  CHECK_CASES(cases);
}

static void test_linux_sets(void **state)
{
  static const struct manifest_case cases[] = {
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[\"CAP_NET_ADMIN\"]}")), NULL},
      {WITH_ISO(ISO("os/linux/capabilities-remove-set", "{\"set\":[\"CAP_SYS_CHROOT\"]}")), NULL},
      /* Deviation from the reference (docs/conformance.md): names are checked. */
      {WITH_ISO(ISO("os/linux/capabilities-remove-set", "{\"set\":[\"CAP_MKNOD\",\"anything\"]}")),
       "app.isolators[0].value.set[1]: \"anything\" is not a Linux capability name"},
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[\"cap_chown\"]}")),
       "is not a Linux capability name"},
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[]}")),
       "app.isolators[0].value.set: must be a non-empty list"},
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{}")),
       "app.isolators[0].value.set: must be a non-empty list"},
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[1]}")), "expected a string"},
      /* ace.md: the retain set cannot be used with the remove set. */
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[\"CAP_KILL\"]}") "," ISO(
           "os/linux/capabilities-remove-set", "{\"set\":[\"CAP_CHOWN\"]}")),
       "app.isolators[1].name: \"os/linux/capabilities-remove-set\" conflicts with "
       "\"os/linux/capabilities-retain-set\" at app.isolators[0]"},
      {WITH_ISO(
           ISO("os/linux/seccomp-retain-set", "{\"set\":[\"@appc.io/all\"],\"errno\":\"EPERM\"}")),
       NULL},
      {WITH_ISO(ISO("os/linux/seccomp-remove-set", "{\"set\":[\"reboot\"],\"errno\":\"eperm\"}")),
       "app.isolators[0].value.errno: errno \"eperm\" must start with an 'E'"},
      {WITH_ISO(ISO("os/linux/seccomp-remove-set", "{\"set\":[\"reboot\"],\"errno\":\"EPERM!\"}")),
       "app.isolators[0].value.errno: errno \"EPERM!\" can only contain upper-case ASCII"},
      /* Go's unicode.IsUpper/IsNumber would take these; ace.md asks for the
       * name of an errno code (a deviation, see docs/conformance.md). */
      {WITH_ISO(ISO("os/linux/seccomp-remove-set",
                    "{\"set\":[\"reboot\"],\"errno\":\"E\\u00c9\\u0663\"}")),
       "app.isolators[0].value.errno: errno \"E\xc3\x89\xd9\xa3\" can only contain upper-case "
       "ASCII letters and digits (E[A-Z0-9]*)"},
      {WITH_ISO(
           ISO("os/linux/seccomp-retain-set", "{\"set\":[\"reboot\"],\"errno\":\"E\xc3\x89\"}")),
       "app.isolators[0].value.errno: errno \"E\xc3\x89\" can only contain upper-case ASCII"},
      {WITH_ISO(ISO("os/linux/seccomp-remove-set", "{\"errno\":\"EPERM\"}")),
       "app.isolators[0].value.set: must be a non-empty list"},
      {WITH_ISO(ISO("os/linux/seccomp-retain-set", "{\"set\":[\"a\"]}") "," ISO(
           "os/linux/seccomp-remove-set", "{\"set\":[\"b\"]}")),
       "app.isolators[1].name: \"os/linux/seccomp-remove-set\" conflicts with "
       "\"os/linux/seccomp-retain-set\" at app.isolators[0]"},
      {WITH_ISO(ISO("os/linux/seccomp-retain-set", "{\"set\":[\"a\"]}") "," ISO(
           "os/linux/seccomp-retain-set", "{\"set\":[\"b\"]}")),
       "app.isolators[1].name: only one \"os/linux/seccomp-retain-set\" isolator is allowed"},
  };
  CHECK_CASES(cases);
}

static void test_linux_scalars(void **state)
{
  static const struct manifest_case cases[] = {
      {WITH_ISO(ISO("os/linux/no-new-privileges", "true")), NULL},
      {WITH_ISO(ISO("os/linux/no-new-privileges", "true") "," ISO("os/linux/no-new-privileges",
                                                                  "false")),
       NULL},
      {WITH_ISO(ISO("os/linux/no-new-privileges", "\"yes\"")), "expected a boolean"},
      {WITH_ISO(ISO("os/linux/oom-score-adj", "-1000")), NULL},
      {WITH_ISO(ISO("os/linux/oom-score-adj", "1001")), "must be between -1000 and 1000"},
      {WITH_ISO(ISO("os/linux/oom-score-adj", "1.5")), "not an integer"},
      {WITH_ISO(ISO("os/linux/oom-score-adj", "1") "," ISO("os/linux/oom-score-adj", "2")),
       "only one"},
      {WITH_ISO(ISO("os/linux/cpu-shares", "262144")), NULL},
      {WITH_ISO(ISO("os/linux/cpu-shares", "1")), "must be between 2 and 262144"},
      {WITH_ISO(ISO("os/linux/selinux-context",
                    "{\"user\":\"u\",\"role\":\"r\",\"type\":\"t\",\"level\":\"s0:c1\"}")),
       NULL},
      {WITH_ISO(ISO("os/linux/selinux-context",
                    "{\"user\":\"u:x\",\"role\":\"r\",\"type\":\"t\",\"level\":\"s0\"}")),
       "app.isolators[0].value.user: \"u:x\" must not contain ':'"},
      {WITH_ISO(ISO("os/linux/selinux-context", "{\"user\":\"u\",\"role\":\"r\",\"type\":\"t\"}")),
       "app.isolators[0].value.level: must be set"},
      {WITH_ISO(ISO("os/unix/sysctl", "{\"net.ipv4.ip_forward\":\"1\",\"x\":null}")), NULL},
      {WITH_ISO(ISO("os/unix/sysctl", "{\"a\":1}")), "expected a string"},
      {WITH_ISO(ISO("os/unix/sysctl", "{}") "," ISO("os/unix/sysctl", "{}")),
       "app.isolators[1].name: only one \"os/unix/sysctl\" isolator is allowed"},
  };
  CHECK_CASES(cases);
}

static void test_unknown_and_missing(void **state)
{
  static const struct manifest_case cases[] = {
      /* Apps reject unknown names, pods keep them (as the reference). */
      {WITH_ISO(ISO("os/linux/apparmor-profile", "{\"name\":\"x\"}")),
       "app.isolators[0].name: unknown isolator \"os/linux/apparmor-profile\""},
      {"{" PM ",\"isolators\":[" ISO("vendor/thing", "[1,2]") ",{\"name\":\"x\"},null]}", NULL},
      {WITH_ISO("null"), "app.isolators[0].name: unknown isolator \"\""},
      {WITH_ISO("{\"name\":\"resource/cpu\"}"), "app.isolators[0].value: must be set"},
      {WITH_ISO("{\"name\":\"resource/cpu\",\"value\":null}"), "must be set"},
      {WITH_ISO(ISO("Bad Name", "1")), "app.isolators[0].name"},
      {"{" PM ",\"isolators\":[" ISO("os/linux/cpu-shares", "0") "]}", "between 2 and 262144"},
  };
  CHECK_CASES(cases);
}

static void test_isolator_api(void **state)
{
  struct appc_isolator iso = {0};
  struct appc_isolator_list l = {NULL, 0};
  appc_error_t err = NULL;

  assert_string_equal(appc_isolator_kind_name(APPC_ISOLATOR_CPU_SHARES), "os/linux/cpu-shares");
  assert_null(appc_isolator_kind_name(APPC_ISOLATOR_UNKNOWN));
  assert_int_equal(appc_isolator_kind_from_name("resource/memory"), APPC_ISOLATOR_RESOURCE_MEMORY);
  assert_int_equal(appc_isolator_kind_from_name("nope"), APPC_ISOLATOR_UNKNOWN);

  assert_ok(appc_isolator_set(&iso, "resource/memory", "{\"limit\":\"1Gi\"}", &err), &err);
  assert_int_equal(iso.kind, APPC_ISOLATOR_RESOURCE_MEMORY);
  assert_string_equal(iso.limit, "1Gi");
  assert_null(iso.request);
  assert_error_contains(appc_isolator_set(&iso, "os/linux/oom-score-adj", "5000", &err), &err,
                        "between -1000 and 1000");
  assert_string_equal(iso.limit, "1Gi"); /* unchanged on failure */
  assert_error_contains(appc_isolator_set(&iso, "resource/cpu", "{bad", &err), &err,
                        "invalid JSON");
  assert_ok(appc_isolator_list_append(&l, &iso, &err), &err);
  assert_ok(appc_isolator_set(&iso, "os/linux/seccomp-retain-set", "{\"set\":[\"a\"]}", &err),
            &err);
  assert_string_equal(iso.errno_name, "");
  assert_ok(appc_isolator_list_append(&l, &iso, &err), &err);
  assert_ok(appc_isolators_validate(&l, "isolators", &err), &err);
  assert_ok(appc_isolator_set(&iso, "os/linux/seccomp-remove-set", "{\"set\":[\"b\"]}", &err),
            &err);
  assert_ok(appc_isolator_list_append(&l, &iso, &err), &err);
  assert_error_contains(appc_isolators_validate(&l, "isolators", &err), &err,
                        "isolators[2].name: \"os/linux/seccomp-remove-set\" conflicts with "
                        "\"os/linux/seccomp-retain-set\" at isolators[1]");
  appc_isolator_list_remove_kind(&l, APPC_ISOLATOR_SECCOMP_RETAIN);
  assert_int_equal(l.len, 2);
  assert_ok(appc_isolators_validate(&l, "isolators", &err), &err);
  appc_isolator_clear(&iso);
  appc_isolator_list_clear(&l);
  assert_int_equal(l.len, 0);
}

static void test_typed_values(void **state)
{
  const char *json = WITH_ISO(ISO("os/linux/cpu-shares", "512") "," ISO(
      "os/unix/sysctl", "{\"b\":\"2\",\"a\":\"1\"}") "," ISO("os/linux/selinux-context",
                                                             "{\"user\":\"u\",\"role\":\"r\","
                                                             "\"type\":\"t\",\"level\":\"s0\"}"));
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_image_manifest_parse(json, strlen(json), &m, &err), &err);
  assert_int_equal(m->app->isolators.len, 3);
  assert_int_equal(m->app->isolators.items[0].number, 512);
  assert_int_equal(m->app->isolators.items[1].sysctl.len, 2);
  assert_string_equal(m->app->isolators.items[1].sysctl.items[0].name, "a");
  assert_string_equal(m->app->isolators.items[2].selinux_level, "s0");
  assert_string_equal(m->app->isolators.items[0].value_json, "512");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resources),     cmocka_unit_test(test_linux_sets),
      cmocka_unit_test(test_linux_scalars), cmocka_unit_test(test_unknown_and_missing),
      cmocka_unit_test(test_isolator_api),  cmocka_unit_test(test_typed_values),
  };
  return cmocka_run_group_tests_name("schema-isolators", tests, NULL, NULL);
}
