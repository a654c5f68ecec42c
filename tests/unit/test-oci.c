/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of oci/: the documents of an OCI image (indexes, manifests,
 * configs), the names made for ACIs, the oci:DIR[:REF] argument.  The
 * conversion of whole layouts is tests/integration/oci.sh's. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/internal.h"
#include "tests/unit/test-util.h"

#define D1 "sha256:0000000000000000000000000000000000000000000000000000000000000001"
#define D2 "sha256:0000000000000000000000000000000000000000000000000000000000000002"
#define LAYER(d)                                                                                   \
  "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"" d "\",\"size\":"  \
  "10}"
#define MANIFEST(layers)                                                                           \
  "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","             \
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" D1        \
  "\",\"size\":3},\"layers\":[" layers "]}"

static int parse_manifest(const char *json, struct oci_image *img, appc_error_t *err)
{
  memset(img, 0, sizeof *img);
  return oci_manifest_parse(json, strlen(json), "m", img, err);
}

static void test_manifest(void **state)
{
  struct oci_image img;
  appc_error_t err = NULL;
  (void) state;

  assert_ok(parse_manifest(MANIFEST(LAYER(D1) "," LAYER(D2)), &img, &err), &err);
  assert_int_equal(img.n_layers, 2);
  assert_string_equal(img.layers[1].digest, D2);
  assert_int_equal(img.config.size, 3);
  oci_image_clear(&img);

  assert_error_contains(parse_manifest("{\"schemaVersion\":1,\"fsLayers\":[]}", &img, &err), &err,
                        "Docker's schema 1 is not");
  oci_image_clear(&img);
  assert_error_contains(
      parse_manifest("{\"schemaVersion\":2,\"mediaType\":\"text/plain\"}", &img, &err), &err,
      "\"text/plain\" is not an image manifest");
  oci_image_clear(&img);
  assert_error_contains(
      parse_manifest(MANIFEST("{\"digest\":\"sha256:xyz\",\"size\":1}"), &img, &err), &err,
      "m: layers[0].digest: \"sha256:xyz\": not a digest");
  oci_image_clear(&img);
  assert_error_contains(parse_manifest(MANIFEST("{\"digest\":\"" D1 "\"}"), &img, &err), &err,
                        "layers[0].size: missing");
  oci_image_clear(&img);
  assert_error_contains(
      parse_manifest(MANIFEST("{\"digest\":\"" D1 "\",\"size\":\"1\"}"), &img, &err), &err,
      "layers[0].size: not a number");
  oci_image_clear(&img);
  assert_error_contains(parse_manifest("{\"schemaVersion\":2} trailing", &img, &err), &err,
                        "m: not JSON");
  oci_image_clear(&img);
  assert_error_contains(parse_manifest("[1]", &img, &err), &err, "not a JSON object");
  oci_image_clear(&img);

  /* more layers than an image may have */
  size_t n = OCI_MAX_LAYERS + 1;
  char *many = malloc(n * (sizeof LAYER(D1)) + 512);
  assert_non_null(many);
  strcpy(many, "{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\",\"size\":1},\"layers\":[");
  for (size_t i = 0; i < n; i++)
    strcat(strcat(many, i > 0 ? "," : ""), LAYER(D1));
  strcat(many, "]}");
  assert_error_contains(parse_manifest(many, &img, &err), &err, "257 layers, more than 256");
  oci_image_clear(&img);
  free(many);
}

static void test_config(void **state)
{
  static const char config[] =
      "{\"architecture\":\"arm\",\"variant\":\"v7\",\"os\":\"linux\","
      "\"config\":{\"User\":\"www:www\",\"Env\":[\"A=1\"],\"Entrypoint\":[\"/e\"],"
      "\"Cmd\":[\"c\"],\"WorkingDir\":\"/w\",\"ExposedPorts\":{\"80/tcp\":{}},"
      "\"Volumes\":{\"/v\":{}},\"Labels\":{\"k\":\"v\"}},"
      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" D1 "\",\"" D2 "\"]}}";
  struct oci_image img;
  appc_error_t err = NULL;
  (void) state;

  assert_ok(parse_manifest(MANIFEST(LAYER(D1) "," LAYER(D2)), &img, &err), &err);
  assert_ok(oci_config_parse(config, strlen(config), "c", &img, &err), &err);
  assert_string_equal(img.arch, "arm");
  assert_string_equal(img.variant, "v7");
  assert_string_equal(img.user, "www:www");
  assert_string_equal(img.entrypoint[0], "/e");
  assert_null(img.entrypoint[1]);
  assert_string_equal(img.cmd[0], "c");
  assert_string_equal(img.env[0], "A=1");
  assert_string_equal(img.ports[0], "80/tcp");
  assert_string_equal(img.volumes[0], "/v");
  assert_int_equal(img.labels.len, 1);
  assert_string_equal(img.labels.items[0].value, "v");
  oci_image_clear(&img);

  /* one diff_id per layer */
  assert_ok(parse_manifest(MANIFEST(LAYER(D1)), &img, &err), &err);
  assert_error_contains(oci_config_parse(config, strlen(config), "c", &img, &err), &err,
                        "c: rootfs.diff_ids has 2 entries for 1 layers");
  oci_image_clear(&img);
  static const char bad_env[] = "{\"config\":{\"Env\":[1]},\"rootfs\":{\"diff_ids\":[]}}";
  memset(&img, 0, sizeof img);
  assert_error_contains(oci_config_parse(bad_env, strlen(bad_env), "c", &img, &err), &err,
                        "c: config.Env[0]: not a string");
  oci_image_clear(&img);
  static const char no_rootfs[] = "{\"os\":\"linux\"}";
  assert_error_contains(oci_config_parse(no_rootfs, strlen(no_rootfs), "c", &img, &err), &err,
                        "c: rootfs: missing");
  oci_image_clear(&img);
}

static void test_index(void **state)
{
  static const char index[] =
      "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" OCI_MANIFEST_V1 "\",\"digest\":\"" D1
      "\",\"size\":5,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"},"
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}";
  struct oci_descriptor *v = NULL;
  appc_error_t err = NULL;
  size_t n = 0;
  (void) state;

  assert_ok(oci_index_parse(index, strlen(index), "i", &v, &n, &err), &err);
  assert_int_equal(n, 1);
  assert_string_equal(v[0].ref_name, "v1");
  assert_string_equal(v[0].os, "linux");
  assert_string_equal(v[0].arch, "arm64");
  oci_descriptor_clear(&v[0]);
  free(v);
  assert_error_contains(oci_index_parse("{}", 2, "i", &v, &n, &err), &err, "i: no manifests");
  static const char nul[] = "{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,"
                            "\"mediaType\":\"a\\u0000b\"}]}";
  assert_error_contains(oci_index_parse(nul, strlen(nul), "i", &v, &n, &err), &err,
                        "mediaType: holds a NUL character");
}

static void test_names(void **state)
{
  static const struct {
    const char *in, *out;
  } cases[] = {
      {"Layout", "layout"},         {"docker.io/library/Busybox", "docker.io/library/busybox"},
      {"my image:1", "my-image-1"}, {"--x--", "x"},
      {"/abs/dir/", "abs/dir"},
  };
  (void) state;

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = oci_aci_name(cases[i].in);
    assert_non_null(got);
    assert_string_equal(got, cases[i].out);
    free(got);
  }
  assert_null(oci_aci_name("---"));
  assert_null(oci_aci_name(""));
}

static void test_ref_split(void **state)
{
  char *dir, *ref;
  appc_error_t err = NULL;
  (void) state;

  assert_ok(appc_oci_layout_ref_split("/x/layout:v1", &dir, &ref, &err), &err);
  assert_string_equal(dir, "/x/layout");
  assert_string_equal(ref, "v1");
  free(dir), free(ref);
  assert_ok(appc_oci_layout_ref_split("/x/layout", &dir, &ref, &err), &err);
  assert_string_equal(dir, "/x/layout");
  assert_null(ref);
  free(dir);
  assert_ok(appc_oci_layout_ref_split("a:b/c", &dir, &ref, &err), &err);
  assert_string_equal(dir, "a:b/c");
  assert_null(ref);
  free(dir);
  /* an existing directory with a ':' in its name is a directory */
  char tmpl[] = "/tmp/test-oci.XXXXXX";
  assert_non_null(mkdtemp(tmpl));
  char with_colon[64];
  snprintf(with_colon, sizeof with_colon, "%s/l:v", tmpl);
  assert_int_equal(mkdir(with_colon, 0700), 0);
  assert_ok(appc_oci_layout_ref_split(with_colon, &dir, &ref, &err), &err);
  assert_string_equal(dir, with_colon);
  assert_null(ref);
  free(dir);
  rmdir(with_colon);
  rmdir(tmpl);
  assert_error_contains(appc_oci_layout_ref_split(":v1", &dir, &ref, &err), &err, "no directory");
}

static void test_archive_ref_split(void **state)
{
  char *file, *tag;
  appc_error_t err = NULL;
  char tmpl[] = "/tmp/test-oci.XXXXXX";
  char path[64];
  (void) state;

  assert_non_null(mkdtemp(tmpl));
  snprintf(path, sizeof path, "%s/a:b.tar", tmpl);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fclose(f);
  char arg[160];
  snprintf(arg, sizeof arg, "%s:localhost:5000/app:1", path);
  assert_ok(appc_oci_archive_ref_split(arg, &file, &tag, &err), &err);
  assert_string_equal(file, path); /* the longest prefix that is a file */
  assert_string_equal(tag, "localhost:5000/app:1");
  free(file), free(tag);
  assert_ok(appc_oci_archive_ref_split(path, &file, &tag, &err), &err);
  assert_string_equal(file, path);
  assert_null(tag);
  free(file);
  assert_error_contains(appc_oci_archive_ref_split(tmpl, &file, &tag, &err), &err,
                        "no such file"); /* a directory is not an archive */
  unlink(path);
  rmdir(tmpl);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_manifest),  cmocka_unit_test(test_config),
      cmocka_unit_test(test_index),     cmocka_unit_test(test_names),
      cmocka_unit_test(test_ref_split), cmocka_unit_test(test_archive_ref_split),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
