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
      {WITH_ISO(ISO("resource/cpu", "{\"default\":true}")), "default must be false"},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":\"1.5.5\"}")),
       "app.isolators[0].value.limit: \"1.5.5\" is not a valid quantity"},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":true}")), "expected a quantity"},
      {WITH_ISO(ISO("resource/memory", "{\"limit\":\"1\\t\"}")), "escaped"},
      {WITH_ISO(ISO("resource/memory", "\"1G\"")), "expected an object"},
      {WITH_ISO(ISO("resource/block-bandwidth", "{\"default\":true,\"limit\":\"1M\"}")), NULL},
      {WITH_ISO(ISO("resource/block-bandwidth", "{\"limit\":\"1M\"}")), "default must be true"},
      {WITH_ISO(ISO("resource/block-iops", "{\"default\":true,\"request\":\"1\"}")),
       "request is not supported"},
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
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[]}")), "set must be non-empty"},
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{}")), "set must be non-empty"},
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[1]}")), "expected a string"},
      /* ace.md: the retain set cannot be used with the remove set. */
      {WITH_ISO(ISO("os/linux/capabilities-retain-set", "{\"set\":[\"CAP_KILL\"]}") "," ISO(
           "os/linux/capabilities-remove-set", "{\"set\":[\"CAP_CHOWN\"]}")),
       "app.isolators[1]: os/linux/capabilities-remove-set conflicts with"},
      {WITH_ISO(
           ISO("os/linux/seccomp-retain-set", "{\"set\":[\"@appc.io/all\"],\"errno\":\"EPERM\"}")),
       NULL},
      {WITH_ISO(ISO("os/linux/seccomp-remove-set", "{\"set\":[\"reboot\"],\"errno\":\"eperm\"}")),
       "must start with an 'E'"},
      {WITH_ISO(ISO("os/linux/seccomp-remove-set", "{\"set\":[\"reboot\"],\"errno\":\"EPERM!\"}")),
       "upper case or numeric"},
      {WITH_ISO(ISO("os/linux/seccomp-remove-set", "{\"errno\":\"EPERM\"}")), "non-empty"},
      {WITH_ISO(ISO("os/linux/seccomp-retain-set", "{\"set\":[\"a\"]}") "," ISO(
           "os/linux/seccomp-remove-set", "{\"set\":[\"b\"]}")),
       "app.isolators[1]: os/linux/seccomp-remove-set conflicts with"},
      {WITH_ISO(ISO("os/linux/seccomp-retain-set", "{\"set\":[\"a\"]}") "," ISO(
           "os/linux/seccomp-retain-set", "{\"set\":[\"b\"]}")),
       "only one os/linux/seccomp-retain-set"},
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
       "invalid user value"},
      {WITH_ISO(ISO("os/linux/selinux-context", "{\"user\":\"u\",\"role\":\"r\",\"type\":\"t\"}")),
       "invalid level value"},
      {WITH_ISO(ISO("os/unix/sysctl", "{\"net.ipv4.ip_forward\":\"1\",\"x\":null}")), NULL},
      {WITH_ISO(ISO("os/unix/sysctl", "{\"a\":1}")), "expected a string"},
      {WITH_ISO(ISO("os/unix/sysctl", "{}") "," ISO("os/unix/sysctl", "{}")), "only one"},
  };
  CHECK_CASES(cases);
}

static void test_unknown_and_missing(void **state)
{
  static const struct manifest_case cases[] = {
      /* Apps reject unknown names, pods keep them (as the reference). */
      {WITH_ISO(ISO("os/linux/apparmor-profile", "{\"name\":\"x\"}")),
       "app.isolators[0]: invalid isolator: unknown name \"os/linux/apparmor-profile\""},
      {"{" PM ",\"isolators\":[" ISO("vendor/thing", "[1,2]") ",{\"name\":\"x\"},null]}", NULL},
      {WITH_ISO("null"), "invalid isolator"},
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
                        "isolators[2]: os/linux/seccomp-remove-set conflicts");
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
