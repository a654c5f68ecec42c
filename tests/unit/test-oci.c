/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of oci/: the documents of an OCI image (indexes, manifests,
 * configs), the names made for ACIs, the oci:DIR[:REF] argument, layers
 * that name an entry twice.  The
 * conversion of whole layouts is tests/integration/oci.sh's. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "appc/aci.h"
#include "appc/oci.h"
#include "common/digest.h"
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

/* The config's Labels through the annotation an import records and an
 * export reads: keys of any characters and values as given, in order. */
static void test_labels_annotation(void **state)
{
  static const char config[] =
      "{\"config\":{\"Labels\":{\"Build Date\":\"today\",\"org.opencontainers.image.source\":"
      "\"https://example.com/a/b\",\"K=V\":\"a \\\"quoted\\\" \\\\ value\",\"\":\"empty key\","
      "\"UPPER\":\"\",\"caf\\u00e9 \\u2603\":\"line\\nbreak\\ttab\",\"appc.io/oci/index\":\"x\"}},"
      "\"rootfs\":{\"diff_ids\":[]}}";
  struct oci_image img;
  struct appc_kv_list back = {0};
  appc_error_t err = NULL;
  char *text = NULL;
  (void) state;

  memset(&img, 0, sizeof img);
  assert_ok(oci_config_parse(config, strlen(config), "c", &img, &err), &err);
  assert_int_equal(img.labels.len, 7);
  assert_ok(oci_labels_text(&img.labels, &text, &err), &err);
  /* slashes unescaped, what is not ASCII as UTF-8 */
  assert_non_null(strstr(text, "\"org.opencontainers.image.source\":\"https://example.com/a/b\""));
  assert_non_null(strstr(text, "\"caf\xc3\xa9 \xe2\x98\x83\":"));
  assert_ok(oci_labels_parse(text, "w", &back, &err), &err);
  assert_int_equal(back.len, img.labels.len);
  for (size_t i = 0; i < back.len; i++) {
    assert_string_equal(back.items[i].name, img.labels.items[i].name);
    assert_string_equal(back.items[i].value, img.labels.items[i].value);
  }
  assert_string_equal(back.items[2].name, "K=V");
  assert_string_equal(back.items[2].value, "a \"quoted\" \\ value");
  assert_string_equal(back.items[3].name, "");
  appc_kv_list_clear(&back);
  free(text);
  oci_image_clear(&img);

  /* none: an empty object, which gives none back */
  struct appc_kv_list none = {0};
  assert_ok(oci_labels_text(&none, &text, &err), &err);
  assert_string_equal(text, "{}");
  assert_ok(oci_labels_parse(text, "w", &back, &err), &err);
  assert_int_equal(back.len, 0);
  free(text);

  /* what an export refuses, naming WHERE and what is wrong, OUT cleared */
  static const struct {
    const char *text, *why;
  } bad[] = {
      {"", "w: not JSON"},
      {"not json", "w: not JSON"},
      {"{\"a\":\"b\"", "w: not JSON: truncated"},
      {"{\"a\":\"b\"} {}", "w: not JSON"},
      {"[\"a\",\"b\"]", "w: not a JSON object"},
      {"\"a=b\"", "w: not a JSON object"},
      {"null", "w: not"},
      {"{\"a\":\"b\",\"n\":1}", "w: Labels.n: not a string"},
      {"{\"a\":\"b\",\"n\":null}", "w: Labels.n: not a string"},
      {"{\"o\":{\"a\":\"b\"}}", "w: Labels.o: not a string"},
      {"{\"a\":\"b\",\"z\":\"x\\u0000y\"}", "w: Labels.z: holds a NUL character"},
      {"{'a':'b'}", "w: not JSON"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (oci_labels_parse(bad[i].text, "w", &back, &err) == 0)
      fail_msg("\"%s\" is taken for labels", bad[i].text);
    assert_error_contains(-1, &err, bad[i].why);
    assert_int_equal(back.len, 0);
    assert_null(back.items);
  }
  /* nested deeper than the parser goes */
  char deep[400] = "";
  for (int i = 0; i < 100; i++)
    strcat(deep, "[");
  assert_error_contains(oci_labels_parse(deep, "w", &back, &err), &err, "w: not JSON");

  /* larger than a config may be: refused unread */
  size_t big = OCI_JSON_MAX + 1;
  char *huge = malloc(big + 1);
  assert_non_null(huge);
  memset(huge, ' ', big);
  memcpy(huge, "{\"a\":\"", 6);
  memcpy(huge + big - 2, "\"}", 2);
  huge[big] = '\0';
  assert_error_contains(oci_labels_parse(huge, "w", &back, &err), &err,
                        "w: 4194305 bytes, more than the 4 MiB an image config may have");
  assert_int_equal(back.len, 0);
  huge[big - 3] = '"';
  huge[big - 2] = '}';
  huge[big - 1] = '\0'; /* OCI_JSON_MAX bytes: read */
  assert_ok(oci_labels_parse(huge, "w", &back, &err), &err);
  assert_int_equal(back.len, 1);
  appc_kv_list_clear(&back);
  free(huge);
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
  /* a ref.name cut at its NUL would be taken for the tag "latest" */
  static const char nul_ref[] = "{\"manifests\":[{\"digest\":\"" D1 "\",\"size\":1,\"annotations\":"
                                "{\"org.opencontainers.image.ref.name\":\"latest\\u0000evil\"}}]}";
  assert_error_contains(oci_index_parse(nul_ref, strlen(nul_ref), "i", &v, &n, &err), &err,
                        "org.opencontainers.image.ref.name: holds a NUL character");
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
  /* an empty REF: DIR without one, as skopeo reads "oci:DIR:" */
  assert_ok(appc_oci_layout_ref_split("/x/layout:", &dir, &ref, &err), &err);
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

/* REF parses to REGISTRY, REPOSITORY, TAG, DIGEST (NULL: none). */
static void assert_ref(const char *ref, const char *registry, const char *repository,
                       const char *tag, const char *digest)
{
  struct appc_docker_ref r;
  appc_error_t err = NULL;

  assert_ok(appc_docker_ref_parse(ref, &r, &err), &err);
  assert_string_equal(r.registry, registry);
  assert_string_equal(r.repository, repository);
  if (tag == NULL)
    assert_null(r.tag);
  else
    assert_string_equal(r.tag, tag);
  if (digest == NULL)
    assert_null(r.digest);
  else
    assert_string_equal(r.digest, digest);
  appc_docker_ref_clear(&r);
}

static void assert_bad_ref(const char *ref, const char *why)
{
  struct appc_docker_ref r;
  appc_error_t err = NULL;

  assert_error_contains(appc_docker_ref_parse(ref, &r, &err), &err, why);
  assert_null(r.registry);
  assert_null(r.repository);
}

#define HUB "registry-1.docker.io"
#define SHA "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_docker_ref(void **state)
{
  (void) state;
  /* Docker Hub's defaults: the API host, library/, latest */
  assert_ref("busybox", HUB, "library/busybox", "latest", NULL);
  assert_ref("docker://busybox:1.36", HUB, "library/busybox", "1.36", NULL);
  assert_ref("docker.io/busybox", HUB, "library/busybox", "latest", NULL);
  assert_ref("index.docker.io/user/app:v_1.0-rc", HUB, "user/app", "v_1.0-rc", NULL);
  assert_ref("user/app", HUB, "user/app", "latest", NULL);
  /* a registry: a first component with '.' or ':', or localhost */
  assert_ref("localhost/app", "localhost", "app", "latest", NULL);
  assert_ref("localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", NULL);
  assert_ref("quay.io/coreos/etcd", "quay.io", "coreos/etcd", "latest", NULL);
  assert_ref("[::1]:5000/app", "[::1]:5000", "app", "latest", NULL);
  assert_ref("example.com:443/app@" SHA, "example.com:443", "app", NULL, SHA);
  assert_ref("example.com/app:tag@" SHA, "example.com", "app", "tag", SHA);
  assert_ref("a/b__c.d-e--f", HUB, "a/b__c.d-e--f", "latest", NULL);
  /* what the grammar refuses */
  assert_bad_ref("", "no repository");
  assert_bad_ref("docker://", "no repository");
  assert_bad_ref("Busybox", "a repository is");
  assert_bad_ref("example.com/", "a repository is");
  assert_bad_ref("example.com/a//b", "a repository is");
  assert_bad_ref("example.com/-a", "a repository is");
  assert_bad_ref("example.com/a_", "a repository is");
  assert_bad_ref("example.com/a___b", "a repository is");
  assert_bad_ref("example.com/../etc", "a repository is");
  assert_bad_ref("app:", "a tag is");
  assert_bad_ref("app:.x", "a tag is");
  assert_bad_ref("app:a/b", "not a registry host");
  assert_bad_ref("app@sha256:xyz", "the digest is not");
  assert_bad_ref("app@md5:0123", "the digest is not");
  assert_bad_ref("exa_mple.com:5000/app", "not a registry host");
  assert_bad_ref("example.com:0/app", "not a registry host");
  assert_bad_ref("example.com:65536/app", "not a registry host");
  assert_bad_ref("example.com:5x/app", "not a registry host");
  assert_bad_ref("[zz]:5000/app", "not a registry host");
  char tag[200];
  snprintf(tag, sizeof tag, "app:%0129d", 0);
  assert_bad_ref(tag, "a tag is");
}

static void test_docker_ref_platform(void **state)
{
  struct appc_docker_ref r;
  appc_error_t err = NULL;
  (void) state;

  /* appc's labels after the reference, the arch in OCI's spelling */
  assert_ok(appc_docker_ref_parse("localhost:5000/app:1,os=linux,arch=aarch64", &r, &err), &err);
  assert_string_equal(r.repository, "app");
  assert_string_equal(r.tag, "1");
  assert_string_equal(r.os, "linux");
  assert_string_equal(r.arch, "arm64");
  appc_docker_ref_clear(&r);
  assert_ok(appc_docker_ref_parse("app@" SHA ",arch=i386", &r, &err), &err);
  assert_string_equal(r.digest, SHA);
  assert_string_equal(r.arch, "386");
  assert_null(r.os);
  appc_docker_ref_clear(&r);
  assert_ok(appc_docker_ref_parse("app,arch=armv6l", &r, &err), &err);
  assert_string_equal(r.arch, "arm/v6"); /* the variant too */
  appc_docker_ref_clear(&r);
  assert_ok(appc_docker_ref_parse("app", &r, &err), &err);
  assert_null(r.os);
  assert_null(r.arch);
  appc_docker_ref_clear(&r);
  assert_bad_ref("app,version=1", "only the labels os=OS and arch=ARCH");
  assert_bad_ref("app,arch=", "only the labels os=OS and arch=ARCH");
  assert_bad_ref("app,arch=ARM", "only the labels os=OS and arch=ARCH");
  assert_bad_ref("app,arch=amd64,arch=arm64", "only the labels os=OS and arch=ARCH");
  assert_bad_ref("app,arch", "only the labels os=OS and arch=ARCH");
}

/* An index of arm/v7, arm/v6, arm64 (no variant) and amd64, as blobs
 * whose read gives it whatever the descriptor. */
#define ENTRY(d, arch, variant)                                                                    \
  "{\"mediaType\":\"" OCI_MANIFEST_V1 "\",\"digest\":\"" d "\",\"size\":1,\"platform\":{"          \
  "\"os\":\"linux\",\"architecture\":\"" arch "\"" variant "}}"
#define V(v) ",\"variant\":\"" v "\""
#define D3 "sha256:0000000000000000000000000000000000000000000000000000000000000003"
#define D4 "sha256:0000000000000000000000000000000000000000000000000000000000000004"
#define ARM_ENTRIES ENTRY(D1, "arm", V("v7")) "," ENTRY(D2, "arm", V("v6"))
#define OTHER_ENTRIES ENTRY(D3, "arm64", "") "," ENTRY(D4, "amd64", "")
static const char arm_index[] =
    "{\"schemaVersion\":2,\"manifests\":[" ARM_ENTRIES "," OTHER_ENTRIES "]}";

static int index_read(struct oci_blobs *b, const struct oci_descriptor *d, char **out, size_t *len,
                      appc_error_t *err)
{
  (void) b, (void) d, (void) err;
  *out = strdup(arm_index);
  *len = strlen(arm_index);
  return 0;
}

/* The digest of the manifest the index gives for ARCH ("ARCH[/VARIANT]"). */
static void assert_picks(const char *arch, const char *digest)
{
  struct oci_blobs b = {.where = "idx", .read = index_read};
  struct oci_descriptor index = {.media_type = OCI_INDEX_V1, .digest = D1, .size = 1};
  struct oci_descriptor out;
  appc_error_t err = NULL;

  if (digest == NULL) {
    assert_error_contains(oci_resolve(&b, &index, "i", "linux", arch, &out, &err), &err,
                          "no image for linux/");
    return;
  }
  assert_ok(oci_resolve(&b, &index, "i", "linux", arch, &out, &err), &err);
  assert_string_equal(out.digest, digest);
  oci_descriptor_clear(&out);
}

/* An index's entry picked on its variant when the wanted platform has one
 * (the review's arm-variant.sh: armv6l took the first arm, a v7). */
static void test_platform_pick(void **state)
{
  struct appc_docker_ref r;
  appc_error_t err = NULL;
  (void) state;

  assert_ok(appc_docker_ref_parse("app,arch=armv6l", &r, &err), &err);
  assert_picks(r.arch, D2);
  appc_docker_ref_clear(&r);
  assert_ok(appc_docker_ref_parse("app,arch=armv7l", &r, &err), &err);
  assert_picks(r.arch, D1);
  appc_docker_ref_clear(&r);
  assert_picks("arm", D1); /* no variant wanted: the first arm */
  assert_picks("arm/v6", D2);
  assert_picks("arm64/v8", D3); /* arm64 and arm64/v8 are one platform */
  assert_picks("amd64", D4);
  assert_picks("arm/v5", NULL);
}

/* appc's arch labels to OCI's platforms and back. */
static void test_platform_names(void **state)
{
  (void) state;
  assert_string_equal(oci_arch_of_appc("armv6l")->variant, "v6");
  assert_string_equal(oci_arch_of_appc("i386")->oci, "386");
  assert_null(oci_arch_of_appc("riscv64"));
  assert_string_equal(oci_appc_arch("arm", "v6"), "armv6l");
  assert_string_equal(oci_appc_arch("arm", "v7"), "armv7l");
  assert_string_equal(oci_appc_arch("arm", NULL), "armv7l"); /* containerd's default */
  assert_string_equal(oci_appc_arch("arm64", "v8"), "aarch64");
  assert_string_equal(oci_appc_arch("arm64", NULL), "aarch64");
  assert_string_equal(oci_appc_arch("amd64", NULL), "amd64");
  assert_string_equal(oci_appc_arch("386", NULL), "i386");
  assert_string_equal(oci_appc_arch("riscv64", NULL), "riscv64");
  assert_string_equal(oci_appc_arch_of("arm/v6"), "armv6l");
  assert_string_equal(oci_appc_arch_of("arm"), "armv7l");
  assert_string_equal(oci_appc_arch_of("riscv64"), "riscv64");
  assert_true(oci_platform_match("arm/v7", "arm", NULL));
  assert_false(oci_platform_match("arm/v6", "arm", NULL));
  assert_true(oci_platform_match("arm64", "arm64", "v8"));
  assert_true(oci_platform_match("arm64/v8", "arm64", NULL));
  assert_true(oci_platform_match("amd64", NULL, NULL)); /* an entry naming no platform */
  assert_false(oci_platform_match("amd64", "arm64", NULL));
}

static void assert_challenge(const char *value, const char *scheme, const char *realm,
                             const char *service, const char *scope)
{
  struct oci_challenge c;

  assert_int_equal(oci_challenge_parse(value, &c), 0);
  assert_string_equal(c.scheme, scheme);
#define FIELD(f)                                                                                   \
  if (f == NULL)                                                                                   \
    assert_null(c.f);                                                                              \
  else                                                                                             \
    assert_string_equal(c.f, f);
  FIELD(realm)
  FIELD(service)
  FIELD(scope)
#undef FIELD
  oci_challenge_clear(&c);
}

static void test_challenge(void **state)
{
  struct oci_challenge c;
  (void) state;

  assert_challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                   "scope=\"repository:library/busybox:pull\"",
                   "Bearer", "https://auth.docker.io/token", "registry.docker.io",
                   "repository:library/busybox:pull");
  /* any case, spaces, a token value, parameters in any order, unknown ones */
  assert_challenge("bearer  Service = x , REALM=https://h/t, error=\"invalid_token\"", "bearer",
                   "https://h/t", "x", NULL);
  assert_challenge("Basic realm=\"Registry Realm\"", "Basic", "Registry Realm", NULL, NULL);
  assert_challenge("Basic", "Basic", NULL, NULL, NULL);
  /* escapes resolved; the first of a repeated parameter wins */
  assert_challenge("Bearer realm=\"a\\\"b\",realm=\"c\"", "Bearer", "a\"b", NULL, NULL);
  /* an unterminated quoted string is refused */
  assert_int_equal(oci_challenge_parse("Bearer realm=\"https://x", &c), -1);
  assert_null(c.scheme);
  assert_int_equal(oci_challenge_parse("", &c), -1);
  assert_int_equal(oci_challenge_parse("  ", &c), -1);
}

/* ---- layers naming an entry twice ---- */

struct tar_entry {
  const char *name;
  unsigned type;
  const char *data;
};

static int layer_file(const struct tar_entry *entries, size_t n, bool gzip, char digest[160]);

/* An uncompressed layer tar of ENTRIES in a memfd; its sha256 in DIGEST. */
static int layer_tar(const struct tar_entry *entries, size_t n, char digest[160])
{
  return layer_file(entries, n, false, digest);
}

static int layer_file(const struct tar_entry *entries, size_t n, bool gzip, char digest[160])
{
  int fd = memfd_create("layer", MFD_CLOEXEC);
  struct archive *a = archive_write_new();
  assert_true(fd >= 0);
  assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
  if (gzip)
    assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
  assert_int_equal(archive_write_open_fd(a, fd), ARCHIVE_OK);
  for (size_t i = 0; i < n; i++) {
    struct archive_entry *e = archive_entry_new();
    size_t len = entries[i].data != NULL ? strlen(entries[i].data) : 0;
    archive_entry_set_pathname(e, entries[i].name);
    archive_entry_set_filetype(e, entries[i].type);
    archive_entry_set_perm(e, entries[i].type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_size(e, (la_int64_t) len);
    assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
    if (len > 0)
      assert_int_equal(archive_write_data(a, entries[i].data, len), (la_ssize_t) len);
    archive_entry_free(e);
  }
  assert_int_equal(archive_write_close(a), ARCHIVE_OK);
  archive_write_free(a);

  struct appc_digest *d = NULL;
  char hex[APPC_DIGEST_HEX_MAX], buf[4096];
  appc_error_t err = NULL;
  ssize_t got;
  assert_ok(appc_digest_new(APPC_DIGEST_SHA256, &d, &err), &err);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  while ((got = read(fd, buf, sizeof buf)) > 0)
    appc_digest_update(d, buf, (size_t) got);
  assert_ok(appc_digest_final(d, hex, &err), &err);
  appc_digest_free(d);
  snprintf(digest, 160, "sha256:%s", hex);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  return fd;
}

/* Convert ENTRIES; on success, the names of the ACI's entries, joined by
 * spaces, in NAMES. */
static int convert_layer(const struct tar_entry *entries, size_t n, char *names, size_t size,
                         appc_error_t *err)
{
  char digest[160], id[APPC_IMAGE_ID_LEN + 1];
  int fd = layer_tar(entries, n, digest);
  const char *tmp = getenv("TMPDIR");
  int tmp_fd = open(tmp != NULL ? tmp : "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct oci_descriptor desc = {.media_type = (char *) "application/vnd.oci.image.layer.v1.tar",
                                .digest = digest};
  struct oci_layer_aci aci = {.name = "example.com/layer", .tmp_dirfd = tmp_fd};
  struct oci_paths paths = {0};
  int aci_fd = -1;

  assert_true(tmp_fd >= 0);
  desc.size = lseek(fd, 0, SEEK_END);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  int r = oci_layer_convert(fd, &desc, digest, &aci, &paths, &aci_fd, id, NULL, err);
  close(fd);
  close(tmp_fd);
  oci_paths_clear(&paths);
  if (r < 0)
    return r;

  struct archive *a = archive_read_new();
  struct archive_entry *e;
  archive_read_support_format_tar(a);
  assert_int_equal(archive_read_open_fd(a, aci_fd, 4096), ARCHIVE_OK);
  names[0] = '\0';
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    size_t used = strlen(names);
    snprintf(names + used, size - used, "%s%s", used > 0 ? " " : "", archive_entry_pathname(e));
  }
  archive_read_free(a);
  close(aci_fd);
  return 0;
}

static void test_layer_repeats(void **state)
{
  (void) state;
  appc_error_t err = NULL;
  char names[512];

  /* a directory named twice (spelled two ways) is written once */
  const struct tar_entry dirs[] = {
      {"dir", AE_IFDIR, NULL}, {"dir/f", AE_IFREG, "one"}, {"./dir/", AE_IFDIR, NULL}};
  assert_ok(convert_layer(dirs, 3, names, sizeof names, &err), &err);
  assert_string_equal(names, "rootfs/ rootfs/dir/ rootfs/dir/f manifest");

  /* a file named twice, or a directory replaced by a file, is refused */
  const struct tar_entry files[] = {{"f", AE_IFREG, "one"}, {"./f", AE_IFREG, "two"}};
  assert_error_contains(convert_layer(files, 2, names, sizeof names, &err), &err,
                        "f: named twice in the layer");
  const struct tar_entry mixed[] = {{"d", AE_IFDIR, NULL}, {"d", AE_IFREG, "x"}};
  assert_error_contains(convert_layer(mixed, 2, names, sizeof names, &err), &err,
                        "d: named twice in the layer");
}

/* A gzip layer whose only damage is in the gzip trailer (after the tar's
 * end): the failure is blamed on the digest, not on the decompressor. */
static void test_layer_trailer_damage(void **state)
{
  (void) state;
  const struct tar_entry files[] = {{"f", AE_IFREG, "some content"}};
  char digest[160], id[APPC_IMAGE_ID_LEN + 1];
  int fd = layer_file(files, 1, true, digest);
  off_t size = lseek(fd, 0, SEEK_END);
  unsigned char byte;
  /* the trailer's CRC-32: the 8 last bytes are CRC and length */
  assert_int_equal(pread(fd, &byte, 1, size - 8), 1);
  byte ^= 0x55;
  assert_int_equal(pwrite(fd, &byte, 1, size - 8), 1);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);

  const char *tmp = getenv("TMPDIR");
  int tmp_fd = open(tmp != NULL ? tmp : "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct oci_descriptor desc = {.media_type =
                                    (char *) "application/vnd.oci.image.layer.v1.tar+gzip",
                                .digest = digest,
                                .size = size};
  struct oci_layer_aci aci = {.name = "example.com/layer", .tmp_dirfd = tmp_fd};
  struct oci_paths paths = {0};
  appc_error_t err = NULL;
  int aci_fd = -1;
  /* the diff_id does not matter: the digest is checked first */
  assert_error_contains(oci_layer_convert(fd, &desc, digest, &aci, &paths, &aci_fd, id, NULL, &err),
                        &err, "does not match its digest");
  assert_int_equal(aci_fd, -1);
  oci_paths_clear(&paths);
  close(fd);
  close(tmp_fd);
}

/* Convert a one-file layer, its image's layers having expanded to
 * EXPANDED bytes before it (the blobs came in 0 bytes: 1 GiB is left in
 * all); *AFTER what they have expanded to with it. */
static int convert_counted(unsigned long long expanded, unsigned long long *after,
                           appc_error_t *err)
{
  const struct tar_entry files[] = {{"f", AE_IFREG, "some content"}};
  char digest[160], id[APPC_IMAGE_ID_LEN + 1];
  int fd = layer_file(files, 1, false, digest);
  const char *tmp = getenv("TMPDIR");
  int tmp_fd = open(tmp != NULL ? tmp : "/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct oci_expansion image = {.packed = 0, .expanded = expanded};
  struct oci_descriptor desc = {.media_type = (char *) "application/vnd.oci.image.layer.v1.tar",
                                .digest = digest,
                                .size = lseek(fd, 0, SEEK_END)};
  struct oci_layer_aci aci = {
      .name = "example.com/layer", .tmp_dirfd = tmp_fd, .expansion = &image};
  struct oci_paths paths = {0};
  int aci_fd = -1;

  assert_true(tmp_fd >= 0);
  assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
  int r = oci_layer_convert(fd, &desc, digest, &aci, &paths, &aci_fd, id, NULL, err);
  *after = image.expanded;
  if (aci_fd >= 0)
    close(aci_fd);
  oci_paths_clear(&paths);
  close(fd);
  close(tmp_fd);
  return r;
}

/* The image's layers have one bound together (struct oci_expansion): a
 * layer within its own bound is refused past what the image has left, and
 * one within both adds what it expanded to. */
static void test_layer_image_bound(void **state)
{
  (void) state;
  unsigned long long after = 0;
  appc_error_t err = NULL;

  assert_ok(convert_counted(0, &after, &err), &err);
  assert_true(after > 0 && after < 64 * 1024);
  assert_error_contains(convert_counted(OCI_EXPAND_FLOOR - 100, &after, &err), &err,
                        "the image's layers expand to more than 1073741824 bytes in all (1000 "
                        "times the 0 bytes they came in and 1 GiB");
  /* a size no descriptor should have saturates, not wraps to a small bound */
  assert_true(oci_expand_max(ULLONG_MAX / 100) == ULLONG_MAX);
}

/* allow_caps came with bundle options version 2: with version 0 the
 * operator's consent was silently dropped; refused first, before the store
 * is touched. */
static void test_bundle_options_abi(void **state)
{
  static const char *const caps[] = {"CAP_NET_ADMIN"};
  appc_error_t err = NULL;

  (void) state;
  struct appc_oci_bundle_options o = {.allow_caps = caps, .n_allow_caps = 1};
  assert_tagged_error(appc_oci_bundle(NULL, "sha512-x", "/nonexistent/b", &o, &err), &err, EINVAL,
                      "appc_oci_bundle_options.allow_caps needs version >= 2, the caller gave 0");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_manifest),
      cmocka_unit_test(test_bundle_options_abi),
      cmocka_unit_test(test_config),
      cmocka_unit_test(test_labels_annotation),
      cmocka_unit_test(test_index),
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_ref_split),
      cmocka_unit_test(test_archive_ref_split),
      cmocka_unit_test(test_docker_ref),
      cmocka_unit_test(test_docker_ref_platform),
      cmocka_unit_test(test_platform_pick),
      cmocka_unit_test(test_platform_names),
      cmocka_unit_test(test_challenge),
      cmocka_unit_test(test_layer_repeats),
      cmocka_unit_test(test_layer_trailer_damage),
      cmocka_unit_test(test_layer_image_bound),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
