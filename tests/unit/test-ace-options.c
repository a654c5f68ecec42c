/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the executor's refusals of what a caller gives it: the
 * options of appc_ace_run, checked before a pod is made (private_users
 * among them, parsed as the pod's user namespace is made), and the volumes,
 * mounts and environment assignments a pod is built from.  Each refusal
 * names the field, value or part and the rule, never a command-line flag
 * (the library knows none; actool adds them).  And NULL options, which run
 * a pod as the defaults do. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ace/internal.h"
#include "appc/ace.h"
#include "appc/aci.h"
#include "appc/schema.h"
#include "appc/store.h"
#include "appc/types.h"
#include "tests/unit/test-util.h"

#define SCRATCH_PREFIX "test-ace-options"
#include "tests/unit/test-scratch.h"

/* appc_ace_run refuses OPTS before it touches the store or the pod. */
static int run_with(const struct appc_ace_options *opts, appc_error_t *err)
{
  static const struct appc_pod_manifest pod = {0};
  int status = 0;

  return appc_ace_run(NULL, &pod, opts, &status, err);
}

static void test_run_options(void **state)
{
  static const char *const one[] = {"x"};
  appc_error_t err = NULL;

  (void) state;
  if (geteuid() != 0)
    skip(); /* running a pod needs root, checked first */

  struct appc_ace_options o = {.version = 2, .net = APPC_ACE_NET_DEFAULT};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL,
                      "net APPC_ACE_NET_DEFAULT came with options version 3");

  o = (struct appc_ace_options){.version = APPC_ACE_OPTIONS_VERSION,
                                .net = APPC_ACE_NET_PRIVATE,
                                .publish = one,
                                .n_publish = 1};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "publish needs net APPC_ACE_NET_DEFAULT");

  o = (struct appc_ace_options){.version = APPC_ACE_OPTIONS_VERSION,
                                .rootfs_dir = "/nonexistent",
                                .devices = one,
                                .n_devices = 1};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "build mode: no devices");

  o = (struct appc_ace_options){
      .version = APPC_ACE_OPTIONS_VERSION, .rootfs_dir = "/nonexistent", .private_users = "auto"};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "build mode: no private_users");
}

/* An image whose app runs `sh -c 'exit 7'` (a copy of the static busybox
 * as /bin/sh), in a store in DIR; its ID in ID. */
static struct appc_store *store_with_exit7(const char *dir, char id[APPC_IMAGE_ID_LEN + 1])
{
  static const char manifest[] =
      "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/exit7\","
      "\"app\":{\"exec\":[\"/bin/sh\",\"-c\",\"exit 7\"],\"user\":\"0\",\"group\":\"0\"}}";
  struct appc_store *s = NULL;
  struct appc_store_image img;
  appc_error_t err = NULL;
  char *sh = NULL, *layout = path_join(dir, "layout"), *aci = path_join(dir, "exit7.aci");
  FILE *f = fopen("/bin/busybox", "rb");
  size_t len = 0;

  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  len = (size_t) ftell(f);
  rewind(f);
  assert_non_null(sh = malloc(len));
  assert_int_equal(fread(sh, 1, len, f), len);
  fclose(f);
  write_file(dir, "layout/rootfs/bin/sh", sh, len);
  free(sh);
  write_file(dir, "layout/manifest", manifest, sizeof manifest - 1);
  sh = path_join(layout, "rootfs/bin/sh");
  assert_int_equal(chmod(sh, 0755), 0);
  free(sh);
  assert_ok(appc_aci_build(layout, aci, NULL, id, &err), &err);
  sh = path_join(dir, "store");
  assert_ok(appc_store_open(&s, sh, &err), &err);
  assert_ok(appc_store_import(s, aci, NULL, &img, NULL, &err), &err);
  assert_string_equal(img.id, id);
  appc_store_image_clear(&img);
  free(sh);
  free(aci);
  free(layout);
  return s;
}

/* A store in a new scratch directory *DIR with the exit7 image (its ID in
 * ID), for tests that run a pod: skipped without root or busybox. */
static struct appc_store *runnable_store(char **dir, char id[APPC_IMAGE_ID_LEN + 1])
{
  if (geteuid() != 0 || access("/bin/busybox", X_OK) != 0)
    skip(); /* running a pod needs root; the app, a static busybox */
  *dir = scratch_new();
  return store_with_exit7(*dir, id);
}

/* No pod of S is listed (none kept, none left behind). */
static void assert_no_pods(struct appc_store *s)
{
  struct appc_ace_pod_info *infos = NULL;
  appc_error_t err = NULL;
  size_t n = 0;

  assert_ok(appc_ace_list(s, &infos, &n, &err), &err);
  assert_int_equal(n, 0);
  appc_ace_pod_infos_free(infos, n);
}

/* appc_ace_run with NULL options runs the pod as with the defaults (a
 * zeroed structure): the app's status comes back, and the pod is not kept
 * (keep_exited off). */
static void test_run_null_options(void **state)
{
  static const struct appc_ace_options defaults = {0};
  const struct appc_ace_options *opts[] = {NULL, &defaults};
  char id[APPC_IMAGE_ID_LEN + 1];
  appc_error_t err = NULL;

  (void) state;
  char *dir = NULL;
  struct appc_store *s = runnable_store(&dir, id);
  for (size_t i = 0; i < sizeof opts / sizeof *opts; i++) {
    struct appc_ace_app_request app = {.image_id = id};
    struct appc_pod_manifest *pod = NULL;
    int status = -1;
    assert_ok(appc_ace_pod_build(s, &app, 1, NULL, 0, NULL, &pod, &err), &err);
    assert_ok(appc_ace_run(s, pod, opts[i], &status, &err), &err);
    assert_int_equal(status, 7);
    assert_no_pods(s);
    appc_pod_manifest_free(pod);
  }
  appc_store_close(s);
  scratch_remove(dir);
}

/* A name that leads from a pod's directory (DIR/store/pods/UUID/volumes/
 * or apps/) to DIR/OUTSIDE: enough ".." to reach the root, then DIR. */
static char *name_to(const char *dir, const char *outside)
{
  char *name = NULL;

  assert_true(asprintf(&name, "../../../../../../../../../../../..%s/%s", dir, outside) > 0);
  return name;
}

static void replace(char **slot, char *value)
{
  free(*slot);
  *slot = value;
}

/* How a library caller may make the pod of test_run_refuses_names unsafe,
 * and what appc_ace_run must say of it. */
enum bad_name { BAD_VOLUME, BAD_MOUNT, BAD_APP, BAD_APP_VOLUME, BAD_MOUNT_POINT, NO_MOUNT_POINT };

static void make_bad(struct appc_pod_manifest *pod, enum bad_name how, char *name)
{
  struct appc_runtime_app *ra = &pod->apps[0];

  switch (how) {
  case BAD_VOLUME: /* the volume and the mount naming it */
    replace(&pod->volumes[0].name, strdup(name));
    replace(&ra->mounts[0].volume, name);
    break;
  case BAD_MOUNT:
    replace(&ra->mounts[0].volume, name);
    break;
  case BAD_APP:
    replace(&ra->name, name);
    break;
  case BAD_APP_VOLUME:
    assert_non_null(ra->mounts[0].app_volume = calloc(1, sizeof *ra->mounts[0].app_volume));
    *ra->mounts[0].app_volume = (struct appc_volume){.name = name,
                                                     .kind = strdup("empty"),
                                                     .source = strdup(""),
                                                     .mode = strdup("0755"),
                                                     .has_uid = true,
                                                     .has_gid = true};
    break;
  case BAD_MOUNT_POINT: /* no mounts: the mount point gets an empty volume of its name */
  case NO_MOUNT_POINT:
    free(ra->mounts[0].volume);
    free(ra->mounts[0].path);
    ra->n_mounts = 0;
    assert_non_null(ra->app->mount_points = calloc(1, sizeof *ra->app->mount_points));
    ra->app->mount_points[0].name = how == BAD_MOUNT_POINT ? name : NULL;
    assert_non_null(ra->app->mount_points[0].path = strdup("/data"));
    ra->app->n_mount_points = 1;
    if (how == NO_MOUNT_POINT)
      free(name);
    break;
  }
}

/* appc_ace_run does not trust its caller's pod: names that become path
 * components of the pod's directory (an app's, a volume's, a mount's or a
 * mount point's) are AC Names, or the pod is refused, naming the field and
 * the rule, before anything is made.  A volume named "../../x" had its
 * directory made (or an existing one reused) outside the pod and mounted
 * into it. */
static void test_run_refuses_names(void **state)
{
  static const char *const volumes[] = {"data,kind=empty"};
  static const char *const mounts[] = {"volume=data,target=/data"};
  static const struct {
    enum bad_name how;
    const char *field;
  } cases[] = {
      {BAD_VOLUME, "volumes[0].name"},
      {BAD_MOUNT, "apps[0].mounts[0].volume"},
      {BAD_APP, "apps[0].name"},
      {BAD_APP_VOLUME, "apps[0].mounts[0].appVolume.name"},
      {BAD_MOUNT_POINT, "apps[0].app.mountPoints[0].name"},
      {NO_MOUNT_POINT, "apps[0].app.mountPoints[0].name"},
  };
  char id[APPC_IMAGE_ID_LEN + 1];
  appc_error_t err = NULL;

  (void) state;
  char *dir = NULL;
  struct appc_store *s = runnable_store(&dir, id);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct appc_ace_app_request app = {.image_id = id, .mounts = mounts, .n_mounts = 1};
    struct appc_pod_manifest *pod = NULL;
    char outside[32], *where = NULL, *name = NULL, *rule = NULL;
    int status = -1;
    snprintf(outside, sizeof outside, "outside-%zu", i);
    where = path_join(dir, outside);
    name = name_to(dir, outside);
    if (cases[i].how == NO_MOUNT_POINT)
      assert_true(asprintf(&rule, "%s: must be set (an AC Name)", cases[i].field) > 0);
    else
      assert_true(asprintf(&rule,
                           "%s: \"%s\" is not a valid AC Name: only lower case alphanumeric "
                           "characters plus \"-\" are allowed",
                           cases[i].field, name) > 0);
    assert_ok(appc_ace_pod_build(s, &app, 1, volumes, 1, NULL, &pod, &err), &err);
    make_bad(pod, cases[i].how, name);
    assert_tagged_error(appc_ace_run(s, pod, NULL, &status, &err), &err, 0, rule);
    assert_int_equal(access(where, F_OK), -1);
    assert_no_pods(s);
    appc_pod_manifest_free(pod);
    free(where);
    free(rule);
  }
  appc_store_close(s);
  scratch_remove(dir);
}

/* A member that the caller's version does not cover (a designated
 * initialiser leaves version 0) is refused, not silently dropped: without
 * the check .private_users = "auto" ran the pod as host root, and
 * appc_ace_check_syntax let bad values through.  Checked before the root
 * check and before the store is touched. */
static void test_options_version_members(void **state)
{
  static const char *const bad[] = {"no colon here"};
  appc_error_t err = NULL;

  (void) state;
  struct appc_ace_options o = {.net = APPC_ACE_NET_PRIVATE, .private_users = "auto"};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL,
                      "appc_ace_options.private_users needs version >= 4, the caller gave 0");
  assert_tagged_error(appc_ace_check_syntax(&o, NULL, 0, NULL, 0, &err), &err, EINVAL,
                      "appc_ace_options.private_users needs version >= 4, the caller gave 0");
  o = (struct appc_ace_options){.version = 3, .private_users = "not-a-range"};
  assert_tagged_error(appc_ace_check_syntax(&o, NULL, 0, NULL, 0, &err), &err, EINVAL,
                      "appc_ace_options.private_users needs version >= 4, the caller gave 3");
  o = (struct appc_ace_options){.publish = bad, .n_publish = 1};
  assert_tagged_error(appc_ace_check_syntax(&o, NULL, 0, NULL, 0, &err), &err, EINVAL,
                      "appc_ace_options.publish needs version >= 3");
  o = (struct appc_ace_options){.version = 4, .devices = bad, .n_devices = 1, .no_seccomp = true};
  assert_tagged_error(appc_ace_check_syntax(&o, NULL, 0, NULL, 0, &err), &err, EINVAL,
                      "appc_ace_options.no_seccomp needs version >= 6, the caller gave 4");
  o = (struct appc_ace_options){.version = 6, .post_stop_timeout_ms = -1};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL,
                      "appc_ace_options.post_stop_timeout_ms needs version >= 7");
  o = (struct appc_ace_options){.version = 1, .keep_exited = true};
  assert_tagged_error(run_with(&o, &err), &err, EINVAL, "appc_ace_options.keep_exited");

  /* With the version that has them, the values themselves are checked. */
  o = (struct appc_ace_options){.version = APPC_ACE_OPTIONS_VERSION, .private_users = "x"};
  assert_error_contains(appc_ace_check_syntax(&o, NULL, 0, NULL, 0, &err), &err,
                        "user id range \"x\"");
  o = (struct appc_ace_options){.version = 0, .net = APPC_ACE_NET_HOST, .hostname = "h"};
  assert_ok(appc_ace_check_syntax(&o, NULL, 0, NULL, 0, &err), &err);
}

/* appc_ace_gc_with refuses a newer structure, and a grace period that is
 * no duration, before it touches the store. */
static void test_gc_options(void **state)
{
  appc_error_t err = NULL;
  (void) state;

  struct appc_ace_gc_options o = {.version = APPC_ACE_GC_OPTIONS_VERSION + 1};
  assert_error_contains(appc_ace_gc_with(NULL, &o, NULL, &err), &err, "struct appc_ace_gc_options");
  o = (struct appc_ace_gc_options){.version = APPC_ACE_GC_OPTIONS_VERSION, .grace_seconds = -1};
  assert_tagged_error(appc_ace_gc_with(NULL, &o, NULL, &err), &err, EINVAL,
                      "gc: a grace period of -1 seconds");
  o.grace_seconds = 0.0 / 0.0;
  assert_error_contains(appc_ace_gc_with(NULL, &o, NULL, &err), &err, "gc: a grace period of");
}

static void test_pod_parts(void **state)
{
  static const char *const twice[] = {"data,kind=empty", "data,kind=host,source=/srv"};
  struct appc_kv_list env = {0};
  struct appc_volume v;
  struct appc_pod_manifest *pod = NULL;
  struct appc_ace_app_request app = {
      .image_id = "sha512-x", .mounts = (const char *const[]){"x"}, .n_mounts = 1};
  appc_error_t err = NULL;

  (void) state;
  assert_tagged_error(appc_ace_env_add(&env, "NOVALUE", &err), &err, 0,
                      "environment \"NOVALUE\": not KEY=VALUE");
  assert_tagged_error(appc_ace_env_add(&env, "1A=b", &err), &err, 0, "environment");
  assert_ok(appc_ace_env_add(&env, "A=b", &err), &err);
  appc_kv_list_clear(&env);

  assert_tagged_error(appc_ace_volume_parse("data,kind=host,color=red", &v, &err), &err, 0,
                      "volume \"data,kind=host,color=red\": unknown parameter \"color\"");
  assert_tagged_error(
      appc_ace_volume_parse("data,kind=empty,readOnly=maybe", &v, &err), &err, 0,
      "volume \"data,kind=empty,readOnly=maybe\": bad value \"maybe\" for readOnly");
  assert_tagged_error(appc_ace_volume_parse("data", &v, &err), &err, 0,
                      "volume \"data\": needs a name and kind=host|empty");
  assert_tagged_error(appc_ace_volume_parse("data,kind=empty,kind=host", &v, &err), &err, 0,
                      "volume \"data,kind=empty,kind=host\": \"kind\" is given twice");
  assert_tagged_error(appc_ace_volume_parse("data,kind=host", &v, &err), &err, 0,
                      "volume.source: must be set for a host volume");
  /* The name is a path component of the pod's directory (volumes/NAME). */
  assert_tagged_error(appc_ace_volume_parse("../../x,kind=empty", &v, &err), &err, 0,
                      "volume \"../../x,kind=empty\": name: \"../../x\" is not a valid AC Name");
  assert_tagged_error(appc_ace_volume_parse("name=Data_1,kind=host,source=/srv", &v, &err), &err, 0,
                      "volume \"name=Data_1,kind=host,source=/srv\": name: \"Data_1\" is not a "
                      "valid AC Name");

  /* Refused before the store is looked at. */
  assert_tagged_error(appc_ace_pod_build(NULL, NULL, 0, twice, 2, NULL, &pod, &err), &err, 0,
                      "volumes: \"data\" is given twice");
  assert_null(pod);
  assert_tagged_error(appc_ace_pod_build(NULL, &app, 1, NULL, 0, NULL, &pod, &err), &err, 0,
                      "mount \"x\": \"x\" is not KEY=VALUE");
  assert_null(pod);
}

static void test_private_users(void **state)
{
  struct ace_userns_range range;
  appc_error_t err = NULL;

  (void) state;
  assert_tagged_error(ace_userns_parse("10:abc", &range, &err), &err, EINVAL,
                      "user id range \"10:abc\": not UID:COUNT (or auto)");
  assert_tagged_error(ace_userns_parse("0:100", &range, &err), &err, EINVAL,
                      "user id range \"0:100\": uid 0 cannot start the range");
  assert_tagged_error(ace_userns_parse("4294967000:1000", &range, &err), &err, EINVAL,
                      "user id range \"4294967000:1000\": the range must be 1 or more ids");
  assert_ok(ace_userns_parse("auto", &range, &err), &err);
  assert_int_equal(range.count, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_run_options),       cmocka_unit_test(test_options_version_members),
      cmocka_unit_test(test_gc_options),        cmocka_unit_test(test_pod_parts),
      cmocka_unit_test(test_private_users),     cmocka_unit_test(test_run_null_options),
      cmocka_unit_test(test_run_refuses_names),
  };
  return cmocka_run_group_tests_name("ace-options", tests, NULL, NULL);
}
