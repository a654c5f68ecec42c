/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for appc_image_manifest_patch (actool patch-manifest). */
#include "config.h"

#include "tests/unit/test-schema.h"
#include "common/macros.h"

static struct appc_image_manifest *load(const char *json)
{
  struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_image_manifest_parse(json, strlen(json), &m, &err), &err);
  return m;
}

static int patch(const char *json, const struct appc_manifest_patch *p,
                 struct appc_image_manifest **out, appc_error_t *err)
{
  struct appc_image_manifest *m = load(json);
  int r = appc_image_manifest_patch(m, p, err);

  if (out != NULL && r == 0)
    *out = m;
  else
    appc_image_manifest_free(m);
  return r;
}

static void test_name_exec(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;
  struct appc_manifest_patch p = {.name = "example.com/new", .exec = "/bin/app  --debug"};

  /* A new app from exec alone lacks user and group, which the reference
   * refuses when writing the manifest. */
  assert_error_contains(patch("{" IM "}", &p, NULL, &err), &err, "app.user: must be set");
  p.user = "0";
  p.group = "0";
  assert_ok(patch("{" IM "}", &p, &m, &err), &err);
  assert_string_equal(m->name, "example.com/new");
  assert_int_equal(m->app->exec.len, 3); /* split on every space */
  assert_string_equal(m->app->exec.items[1], "");
  p = (struct appc_manifest_patch){.name = "Bad Name"};
  assert_error_contains(patch("{" IM "}", &p, NULL, &err), &err, "name: \"Bad Name\"");
  p = (struct appc_manifest_patch){.user = "1"};
  assert_error_contains(patch("{" IM "}", &p, NULL, &err), &err, "no app in the supplied manifest");
  /* No patch changes nothing (it was dereferenced). */
  cleanup_image_manifest struct appc_image_manifest *same = NULL;
  assert_ok(patch("{" IM "}", NULL, &same, &err), &err);
  assert_string_equal(same->name, "example.com/app");
}

/* Option values that are not UTF-8 are refused (found by fuzzing: the
 * serialiser wrote such bytes as "\ufffd", so the image no longer held what
 * was asked for and changed again on the next round trip). */
static void test_not_utf8(void **state)
{
  appc_error_t err = NULL;
  struct appc_manifest_patch p = {.user = "1000", .group = "100\xc7"};
  const char *json = "{" IM ",\"app\":{" APP "}}";

  assert_tagged_error(patch(json, &p, NULL, &err), &err, 0, "group: the value is not valid UTF-8");
  p = (struct appc_manifest_patch){.exec = "/bin/\xed\xa0\x80"}; /* a surrogate */
  assert_tagged_error(patch(json, &p, NULL, &err), &err, 0, "exec: the value is not valid UTF-8");
  p = (struct appc_manifest_patch){.exec = "/bin/caf\xc3\xa9", .user = "\xf0\x9f\x98\x80"};
  assert_ok(patch(json, &p, NULL, &err), &err);
}

static void test_groups_and_caps(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;
  struct appc_manifest_patch p = {.supplementary_groups = "1,+2,-3",
                                  .capability = "CAP_CHOWN,CAP_KILL"};
  const char *json = WITH_ISO("{\"name\":\"os/linux/capabilities-remove-set\",\"value\":{\"set\":"
                              "[\"CAP_MKNOD\"]}},{\"name\":\"resource/cpu\",\"value\":{}}");

  assert_ok(patch(json, &p, &m, &err), &err);
  assert_int_equal(m->app->n_supplementary_gids, 3);
  assert_int_equal(m->app->supplementary_gids[2], -3);
  assert_int_equal(m->app->isolators.len, 2);
  assert_int_equal(m->app->isolators.items[1].kind, APPC_ISOLATOR_CAPABILITIES_RETAIN);
  assert_int_equal(m->app->isolators.items[1].set.len, 2);
  p = (struct appc_manifest_patch){.supplementary_groups = "1,x"};
  assert_error_contains(patch(json, &p, NULL, &err), &err, "invalid supplementary group \"x\"");
  p = (struct appc_manifest_patch){.supplementary_groups = "1,"};
  assert_error_contains(patch(json, &p, NULL, &err), &err, "invalid supplementary group");
  p = (struct appc_manifest_patch){.capability = "CAP_KILL", .revoke_capability = "CAP_CHOWN"};
  assert_error_contains(patch(json, &p, NULL, &err), &err, "conflicting capabilities");
}

static void test_mounts_ports(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;
  struct appc_manifest_patch p = {
      .mounts = "work,path=/opt/work,readOnly=true:logs,path=/var/log",
      .ports = "http,protocol=tcp,port=8080:dns,protocol=udp,port=53,count=2,socketActivated=T"};

  assert_ok(patch(WITH_APP(""), &p, &m, &err), &err);
  assert_int_equal(m->app->n_mount_points, 2);
  assert_true(m->app->mount_points[0].read_only);
  assert_string_equal(m->app->mount_points[1].path, "/var/log");
  assert_int_equal(m->app->n_ports, 2);
  assert_int_equal(m->app->ports[0].port, 8080);
  /* types.PortFromString leaves a missing count at 0, and the reference
   * writes "count":0 (its decoder would read it back as 1). */
  assert_int_equal(m->app->ports[0].count, 0);
  assert_int_equal(m->app->ports[1].count, 2);
  assert_true(m->app->ports[1].socket_activated);

  static const struct {
    const char *mounts, *ports, *error;
  } bad[] = {
      {"work", NULL, "path must be set"},
      {"work,path", NULL, "has no value"},
      {"Work,path=/x", NULL, "AC Name"},
      {"work,path=/x,readOnly=yes", NULL, "invalid boolean"},
      {"work,path=/x,mode=1", NULL, "unknown mountpoint parameter \"mode\""},
      {"work,path=/x,path=/y", NULL, "given more than once"},
      {NULL, "http,port=0", "1-65535"},
      {NULL, "http,port=65536", "invalid 16-bit number"},
      {NULL, "http,port=-1", "invalid 16-bit number"},
      {NULL, "http,port=65535,count=2", "end of port range"},
      {NULL, "http,port=80,proto=tcp", "unknown port parameter"},
      /* A %00 in a key is refused, not read as the key up to the NUL. */
      {"work,path%00=/x", NULL, "parameter \"path%00\": %00 (a NUL byte) is not allowed"},
      {"work,path=/x,readOnly%00junk=true", NULL, "parameter \"readOnly%00junk\": %00"},
      {NULL, "http,protocol=tcp,port%00=80", "parameter \"port%00\": %00 (a NUL byte)"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    p = (struct appc_manifest_patch){.mounts = bad[i].mounts, .ports = bad[i].ports};
    assert_error_contains(patch(WITH_APP(""), &p, NULL, &err), &err, bad[i].error);
  }
}

static void test_isolators(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;
  struct appc_manifest_patch p = {.isolators = "resource/cpu,request=50m,limit=100m:"
                                               "os/linux/no-new-privileges,true:"
                                               "os/linux/oom-score-adj,-500"};

  assert_ok(patch(WITH_APP(""), &p, &m, &err), &err);
  assert_int_equal(m->app->isolators.len, 3);
  assert_string_equal(m->app->isolators.items[0].request, "50m");
  assert_true(m->app->isolators.items[1].flag);
  assert_int_equal(m->app->isolators.items[2].number, -500);

  static const struct {
    const char *isolators, *error;
  } bad[] = {
      {"resource/cpu,request=5x", "not a valid quantity"},
      {"resource/block-iops,limit=1", "value.default: must be true"},
      {"os/linux/oom-score-adj", "invalid format"},
      {"os/linux/oom-score-adj,1,2", "invalid format"},
      {"os/linux/oom-score-adj,2000", "between -1000 and 1000"},
      {"os/linux/seccomp-retain-set,set=a", "not supported for patching"},
      {"os/unix/sysctl,a=b", "not supported for patching"},
      {"Bad", "AC Identifier"},
      {"resource/cpu,a=%zz", "parameter \"a=%zz\": invalid URL escape \"%zz\""},
      {"resource/cpu,a=%2", "invalid URL escape \"%2\""},
      /* %00 is refused in the value, the key and the isolator's name, not
       * read as the text before the NUL. */
      {"resource/memory,limit=1%00", "parameter \"limit=1%00\": %00 (a NUL byte) is not allowed"},
      {"resource/memory,limit=1G,req%00uest=2G", "parameter \"req%00uest\": %00"},
      {"resource/memory%00junk,limit=1G", "parameter \"name=resource/memory%00junk\": %00"},
      {"resource/cpu,a=1;b", "semicolon"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    p = (struct appc_manifest_patch){.isolators = bad[i].isolators};
    assert_error_contains(patch(WITH_APP(""), &p, NULL, &err), &err, bad[i].error);
  }
}

static void test_seccomp(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;
  const char *json =
      WITH_ISO("{\"name\":\"os/linux/seccomp-retain-set\",\"value\":{\"set\":[\"a\"]}}");
  struct appc_manifest_patch p = {.seccomp_mode = "remove,errno=EPERM",
                                  .seccomp_set = "reboot,kexec_load"};

  assert_ok(patch(json, &p, &m, &err), &err);
  assert_int_equal(m->app->isolators.len, 1);
  assert_int_equal(m->app->isolators.items[0].kind, APPC_ISOLATOR_SECCOMP_REMOVE);
  assert_string_equal(m->app->isolators.items[0].errno_name, "EPERM");
  assert_int_equal(m->app->isolators.items[0].set.len, 2);

  /* the spec's wildcard groups hold a '/', written as it is (Go's
   * json.Marshal never escapes it): the manifest's bytes are the
   * reference's */
  cleanup_image_manifest struct appc_image_manifest *g = NULL;
  cleanup_free char *out = NULL;
  p = (struct appc_manifest_patch){.seccomp_mode = "retain",
                                   .seccomp_set = "@appc.io/all,@docker/default-blacklist"};
  assert_ok(patch(json, &p, &g, &err), &err);
  assert_ok(appc_image_manifest_serialize(g, 0, &out, NULL, &err), &err);
  assert_non_null(strstr(out, "\"set\":[\"@appc.io/all\",\"@docker/default-blacklist\"]"));

  static const struct {
    const char *mode, *set, *error;
  } bad[] = {
      {"keep", "a", "unknown seccomp mode"},
      {"retain,errno=eperm", "a", "must start with an 'E'"},
      {"retain,code=1", "a", "invalid seccomp-mode optional argument"},
      {"retain,errno=E=1", "a", "cannot parse seccomp-mode argument"},
      {NULL, "a", "seccomp_set specified without seccomp_mode"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    p = (struct appc_manifest_patch){.seccomp_mode = bad[i].mode, .seccomp_set = bad[i].set};
    assert_tagged_error(patch(json, &p, NULL, &err), &err, 0, bad[i].error);
  }
}

static void test_patched_roundtrip(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_image_manifest struct appc_image_manifest *again = NULL;
  cleanup_free char *out = NULL;
  appc_error_t err = NULL;
  size_t len;
  struct appc_manifest_patch p = {.capability = "CAP_NET_RAW",
                                  .mounts = "data,path=/data",
                                  .isolators = "resource/memory,limit=1G"};

  assert_ok(patch(WITH_APP(""), &p, &m, &err), &err);
  assert_ok(appc_image_manifest_serialize(m, 0, &out, &len, &err), &err);
  assert_ok(appc_image_manifest_parse(out, len, &again, &err), &err);
  assert_int_equal(again->app->isolators.len, 2);
  assert_string_equal(again->app->mount_points[0].name, "data");
}

/* Checked against the reference's `patch-manifest --ports ... --mounts ...`
 * then `cat-manifest`: a count left out is written as 0, readOnly=false is
 * omitted. */
static void test_patched_output(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_image_manifest struct appc_image_manifest *again = NULL;
  cleanup_free char *out = NULL;
  appc_error_t err = NULL;
  size_t len;
  struct appc_manifest_patch p = {.ports = "http,port=80:dns,port=53,count=0:x,port=9,count=3",
                                  .mounts = "work,path=/w,readOnly=false"};

  assert_ok(patch(WITH_APP(""), &p, &m, &err), &err);
  assert_ok(appc_image_manifest_serialize(m, 0, &out, &len, &err), &err);
  assert_non_null(strstr(
      out, "\"mountPoints\":[{\"name\":\"work\",\"path\":\"/w\"}],\"ports\":[{\"name\":\"http\","
           "\"protocol\":\"\",\"port\":80,\"count\":0,\"socketActivated\":false},{\"name\":\"dns\","
           "\"protocol\":\"\",\"port\":53,\"count\":0,\"socketActivated\":false},{\"name\":\"x\","
           "\"protocol\":\"\",\"port\":9,\"count\":3,\"socketActivated\":false}]"));
  /* Read back, a count of 0 means one port. */
  assert_ok(appc_image_manifest_parse(out, len, &again, &err), &err);
  assert_int_equal(again->app->ports[0].count, 1);
  assert_int_equal(again->app->ports[2].count, 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_name_exec),      cmocka_unit_test(test_groups_and_caps),
      cmocka_unit_test(test_mounts_ports),   cmocka_unit_test(test_isolators),
      cmocka_unit_test(test_seccomp),        cmocka_unit_test(test_patched_roundtrip),
      cmocka_unit_test(test_patched_output), cmocka_unit_test(test_not_utf8),
  };
  return cmocka_run_group_tests_name("schema-patch", tests, NULL, NULL);
}
