/* SPDX-License-Identifier: Apache-2.0 */
/* fetch/: what an argument names, and local files into the store through
 * appc_fetch(): one read, callbacks, nothing left behind on refusal. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/test-util.h"

#define SCRATCH_PREFIX "test-fetch"
#include "tests/unit/test-scratch.h"

#include "appc/aci.h"
#include "appc/fetch.h"
#include "appc/store.h"

#define MANIFEST                                                                                   \
  "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/fetched\","       \
  "\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"arch\",\"value\":\"amd64\"}]}"

static int teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

static void test_classify(void **state)
{
  char *dir = scratch_new();
  char *cwd = getcwd(NULL, 0);
  (void) state;

  assert_int_equal(appc_fetch_classify("https://example.com/a.aci"), APPC_FETCH_URL);
  assert_int_equal(appc_fetch_classify("http://example.com/a"), APPC_FETCH_URL);
  assert_int_equal(appc_fetch_classify("example.com/app"), APPC_FETCH_NAME);
  assert_int_equal(appc_fetch_classify("example.com/app,version=1.0.0"), APPC_FETCH_NAME);
  assert_int_equal(appc_fetch_classify("busybox"), APPC_FETCH_NAME);
  /* Spelt like files, whether or not they exist. */
  assert_int_equal(appc_fetch_classify("/nonexistent/a"), APPC_FETCH_FILE);
  assert_int_equal(appc_fetch_classify("./a"), APPC_FETCH_FILE);
  assert_int_equal(appc_fetch_classify("../a"), APPC_FETCH_FILE);
  assert_int_equal(appc_fetch_classify("hello.aci"), APPC_FETCH_FILE);
  /* Mistyped or compressed ACI names and archives are files too... */
  assert_int_equal(appc_fetch_classify("hello.acii"), APPC_FETCH_FILE);
  assert_int_equal(appc_fetch_classify("hello.aci.gz"), APPC_FETCH_FILE);
  assert_int_equal(appc_fetch_classify("dir/app.tar"), APPC_FETCH_FILE);
  assert_int_equal(appc_fetch_classify("app.tgz"), APPC_FETCH_FILE);
  /* ...but a name with ".aci" inside a longer word is a name. */
  assert_int_equal(appc_fetch_classify("example.com/my.acid-app"), APPC_FETCH_NAME);
  assert_int_equal(appc_fetch_classify("example.aci.com/app"), APPC_FETCH_NAME);
  /* Image IDs and prefixes are the store's, never names to discover;
   * spelt like a file, one is a file. */
  assert_int_equal(appc_fetch_classify("sha512-0123456789ab"), APPC_FETCH_IMAGE_ID);
  assert_int_equal(appc_fetch_classify("sha512-XYZ"), APPC_FETCH_IMAGE_ID);
  assert_int_equal(appc_fetch_classify("sha512-0123456789ab.aci"), APPC_FETCH_FILE);
  /* A name that is also an existing path is the file. */
  write_file(dir, "busybox", "x", 1);
  assert_int_equal(chdir(dir), 0);
  assert_int_equal(appc_fetch_classify("busybox"), APPC_FETCH_FILE);
  assert_int_equal(chdir(cwd), 0);
  free(cwd);
}

/* An ACI at DIR/NAME; its image ID in ID. */
static char *make_aci(const char *dir, const char *name, char id[APPC_IMAGE_ID_LEN + 1])
{
  char *layout = path_join(dir, "layout");
  char *out = path_join(dir, name);
  struct appc_build_options o = {.compression = APPC_COMPRESSION_GZIP, .threads = 1};
  appc_error_t err = NULL;

  mkdirs(dir, "layout/rootfs/etc");
  write_file(layout, "manifest", MANIFEST, strlen(MANIFEST));
  write_file(layout, "rootfs/etc/hello", "hello\n", 6);
  assert_ok(appc_aci_build(layout, out, &o, id, &err), &err);
  free(layout);
  return out;
}

struct seen {
  int logs;
  bool said_unverified;
  bool cancel;
};

static void on_log(void *data, const char *msg)
{
  struct seen *s = data;

  s->logs++;
  if (strstr(msg, "signature not verified") != NULL)
    s->said_unverified = true;
}

static bool on_cancel(void *data)
{
  return ((struct seen *) data)->cancel;
}

/* Nothing in the store's blobs/, images/ and tmp/. */
static void expect_store_empty(const char *store)
{
  char *blobs = path_join(store, "blobs"), *images = path_join(store, "images");
  char *tmp = path_join(store, "tmp");

  assert_int_equal(count_entries(blobs), 0);
  assert_int_equal(count_entries(images), 0);
  assert_int_equal(count_entries(tmp), 0);
  free(blobs);
  free(images);
  free(tmp);
}

static void test_fetch_files(void **state)
{
  char *dir = scratch_new();
  char *store_dir = path_join(dir, "store");
  char id[APPC_IMAGE_ID_LEN + 1];
  char *aci = make_aci(dir, "img.aci", id);
  struct seen seen = {0};
  const struct appc_callbacks cb = {.data = &seen, .cancelled = on_cancel, .log = on_log};
  struct appc_fetch_options o = {.insecure_image = true, .no_dependencies = true, .cb = &cb};
  struct appc_store *s = NULL;
  struct appc_store_image img;
  appc_error_t err = NULL;
  (void) state;

  assert_ok(appc_store_open(&s, store_dir, &err), &err);

  /* Options from newer headers than this library knows are refused. */
  o.version = APPC_FETCH_OPTIONS_VERSION + 1;
  assert_error_contains(appc_fetch(s, aci, &o, &img, &err), &err,
                        "struct appc_fetch_options: version 2 is newer");
  o.version = 0; /* 0: the first layout, as a {0} initialiser gives */

  /* No options are the defaults ({0}), not a crash. */
  assert_error_contains(appc_fetch(s, "./missing.aci", NULL, &img, &err), &err,
                        "./missing.aci: no such file");
  assert_error_contains(appc_fetch_url(s, "https://example.com/x.aci", NULL, &img, &err), &err,
                        "https://example.com/x.aci: no network client");
  assert_error_contains(appc_fetch_name(s, "example.com/x", NULL, NULL, &img, &err), &err,
                        "example.com/x: no network client");
  assert_ok(appc_fetch_dependencies(s, id, NULL, &err), &err); /* not stored: nothing to do */

  /* A missing file is missing: never a name to discover. */
  assert_error_contains(appc_fetch(s, "./missing.aci", &o, &img, &err), &err,
                        "./missing.aci: no such file (taken for a local ACI by its name");
  assert_error_contains(appc_fetch(s, "hello.acii", &o, &img, &err), &err,
                        "hello.acii: no such file");

  /* Without --insecure-options=image, a file needs FILE.asc; the copy
   * made to verify it leaves nothing behind. */
  o.insecure_image = false;
  assert_tagged_error(appc_fetch(s, aci, &o, &img, &err), &err, ENOKEY, "no signature (");
  assert_tagged_error(appc_fetch(s, "oci:/nonexistent:app", &o, &img, &err), &err, ENOKEY,
                      "an OCI image carries no signature to check");
  assert_tagged_error(appc_fetch(s, "docker-archive:/nonexistent.tar", &o, &img, &err), &err,
                      ENOKEY, "a Docker image carries no signature to check");
  expect_store_empty(store_dir);
  o.insecure_image = true;

  /* Cancelled: refused with ECANCELED, nothing kept. */
  seen.cancel = true;
  assert_int_equal(appc_fetch(s, aci, &o, &img, &err), -1);
  assert_int_equal(err->errnum, ECANCELED);
  appc_error_release(&err);
  expect_store_empty(store_dir);
  seen.cancel = false;

  /* Store only: what the store lacks is refused with ENONET, a URL at once,
   * the network untouched (no client is given). */
  o.store_only = true;
  assert_tagged_error(appc_fetch(s, "example.com/none", &o, &img, &err), &err, ENONET,
                      "example.com/none: no such image in the store, and the network is ruled "
                      "out");
  assert_tagged_error(appc_fetch(s, "https://example.com/x.aci", &o, &img, &err), &err, ENONET,
                      "https://example.com/x.aci: the network is ruled out");
  o.store_only = false;

  /* An image ID only the store answers: missing, it is missing (no
   * network client is asked for). */
  assert_tagged_error(appc_fetch(s, id, &o, &img, &err), &err, ENOENT,
                      "no such image in the store");

  assert_ok(appc_fetch(s, aci, &o, &img, &err), &err);
  assert_string_equal(img.id, id);
  assert_string_equal(img.name, "example.com/fetched");
  assert_true(seen.said_unverified);
  assert_true(seen.logs >= 2);
  appc_store_image_clear(&img);

  /* Then found by its ID's prefix, as image commands take it. */
  char prefix[sizeof APPC_IMAGE_ID_PREFIX + 12];
  memcpy(prefix, id, sizeof prefix - 1);
  prefix[sizeof prefix - 1] = '\0';
  assert_ok(appc_fetch(s, prefix, &o, &img, &err), &err);
  assert_string_equal(img.id, id);
  appc_store_image_clear(&img);

  appc_store_close(s);
  free(aci);
  free(store_dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_classify, teardown),
      cmocka_unit_test_teardown(test_fetch_files, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
