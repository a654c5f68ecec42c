/* Unit tests for ImageManifest and PodManifest parsing, validation, JSON
 * quirks shared with the reference, and serialisation round trips. */
#include "config.h"

#include "tests/unit/test-schema.h"

static void test_image_fields(void **state)
{
  static const struct manifest_case cases[] = {
      {"{" IM "}", NULL},
      {"{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\"}", "name: must be set"},
      {"{\"acKind\":\"ImageManifest\",\"name\":\"a\"}", "acVersion: must be set"},
      {"{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.0.0\",\"name\":\"a\"}", "cannot be zero"},
      {"{\"acKind\":\"Image\",\"acVersion\":\"0.8.11\",\"name\":\"a\"}", "acKind: bad acKind"},
      {"{\"acVersion\":\"0.8.11\",\"name\":\"a\"}", "acKind: must be set"},
      {"{" IM ",\"name\":\"Bad\"}", "name: \"Bad\" is not a valid AC Identifier"},
      {"{" IM ",\"name\":null}", "name: AC Identifier cannot be empty"},
      {"{" IM ",\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"arch\","
       "\"value\":\"amd64\"}]}",
       NULL},
      {"{" IM
       ",\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"a\"},{\"name\":\"os\","
       "\"value\":\"linux\"}]}",
       "labels[2].name: duplicate label \"os\""},
      {"{" IM ",\"labels\":[{\"name\":\"name\",\"value\":\"x\"}]}", "invalid label name"},
      {"{" IM ",\"labels\":[{\"name\":\"os\",\"value\":\"windows\"}]}", "bad os"},
      {"{" IM ",\"annotations\":[{\"name\":\"created\",\"value\":\"today\"}]}",
       "annotations[0].value: \"today\" is not a valid RFC 3339 date"},
      {"{" IM ",\"dependencies\":[{\"imageName\":\"a\",\"imageID\":\"sha512-1\",\"size\":3,"
       "\"labels\":[{\"name\":\"version\",\"value\":\"1\"}]}]}",
       NULL},
      {"{" IM ",\"dependencies\":[{\"imageID\":\"sha512-1\"}]}",
       "dependencies[0]: imageName cannot be empty"},
      {"{" IM ",\"dependencies\":[{\"imageName\":\"a\",\"imageID\":\"md5-1\"}]}",
       "dependencies[0].imageID"},
      {"{" IM ",\"dependencies\":[{\"imageName\":\"a\",\"size\":-1}]}", "must not be negative"},
      {"{" IM ",\"pathWhitelist\":[\"/a\",null]}", NULL},
      {"{" IM ",\"pathWhitelist\":\"/a\"}", "pathWhitelist: expected an array, got string"},
  };
  CHECK_CASES(cases);
}

static void test_app_fields(void **state)
{
  static const struct manifest_case cases[] = {
      {WITH_APP(""), NULL},
      {"{" IM ",\"app\":{\"user\":\"0\",\"group\":\"0\"}}", NULL}, /* exec is optional */
      {"{" IM ",\"app\":{\"group\":\"0\"}}", "app: user is required"},
      {"{" IM ",\"app\":{\"user\":\"0\"}}", "app: group is required"},
      {"{" IM ",\"app\":null}", NULL},
      {"{" IM ",\"app\":[]}", "app: expected an object, got array"},
      {WITH_APP(",\"workingDirectory\":\"rel\""), "must be an absolute path"},
      {WITH_APP(",\"workingDirectory\":\"/opt\""), NULL},
      {WITH_APP(",\"environment\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"A B\"}]"),
       "app.environment[1].name: \"A B\" is not a valid environment variable name"},
      {WITH_APP(",\"environment\":[{\"name\":\"A\"},{\"name\":\"A\"}]"),
       "duplicate environment variable"},
      {WITH_APP(",\"environment\":[null]"), "must not be empty"},
      {WITH_APP(",\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[\"/x\"]}]"), NULL},
      {WITH_APP(",\"eventHandlers\":[{\"name\":\"on-crash\"}]"), "bad eventHandler name"},
      {WITH_APP(",\"eventHandlers\":[{\"name\":\"post-stop\"},{\"name\":\"post-stop\"}]"),
       "only one eventHandler"},
      {WITH_APP(",\"supplementaryGIDs\":[1,-2,null]"), NULL},
      {WITH_APP(",\"supplementaryGIDs\":[1.0]"), "app.supplementaryGIDs[0]"},
      {WITH_APP(",\"supplementaryGIDs\":[9223372036854775808]"), "out of range"},
      {WITH_APP(",\"mountPoints\":[{\"name\":\"data\",\"path\":\"/d\",\"readOnly\":true},{}]"),
       NULL},
      {WITH_APP(",\"mountPoints\":[{\"name\":\"Data\"}]"), "app.mountPoints[0].name"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"protocol\":\"tcp\",\"port\":80,\"count\":0}]"),
       NULL},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":0}]"),
       "app.ports[0]: port 0 must be in the 1-65535 range"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":65000,\"count\":537}]"),
       "end of port range"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":\"80\"}]"), "expected an integer"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":80,\"socketActivated\":1}]"),
       "expected a boolean"},
      {WITH_APP(",\"userAnnotations\":{\"a\":\"b\"},\"userLabels\":{\"c\":null}"), NULL},
      {WITH_APP(",\"userLabels\":[]"), "expected an object"},
  };
  CHECK_CASES(cases);
}

static void test_pod_fields(void **state)
{
  static const struct manifest_case cases[] = {
      {"{" PM "}", NULL},
      {"{\"acKind\":\"PodManifest\"}", NULL}, /* the reference does not need acVersion */
      {"{" PM
       ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":\"sha512-x\",\"name\":\"example.com/a\"}"
       ",\"app\":{\"user\":\"1\",\"group\":\"1\"},\"readOnlyRootFS\":true,\"mounts\":[{\"volume\":"
       "\"v\",\"path\":\"/v\",\"appVolume\":{\"name\":\"v\",\"kind\":\"empty\"}}]}]}",
       NULL},
      {"{" PM ",\"apps\":[{\"name\":\"a\"},{\"name\":\"a\"}]}", "duplicate apps of name \"a\""},
      {"{" PM ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":null}}]}", "apps[0].image.id"},
      {"{" PM ",\"apps\":[{\"name\":\"a\",\"app\":{\"user\":\"1\"}}]}",
       "apps[0].app: group is required"},
      {"{" PM ",\"apps\":[{\"name\":\"a\",\"mounts\":[{\"appVolume\":{\"name\":\"v\","
       "\"kind\":\"host\"}}]}]}",
       "apps[0].mounts[0].appVolume.source: must be set"},
      {"{" PM ",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/s\",\"readOnly\":true,"
       "\"recursive\":false}]}",
       NULL},
      {"{" PM ",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\",\"mode\":\"0700\",\"uid\":5}]}",
       NULL},
      {"{" PM ",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\",\"source\":\"/s\"}]}",
       "volumes[0].source: must be empty"},
      {"{" PM ",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"s\"}]}",
       "volumes[0].source: \"s\" must be an absolute path"},
      {"{" PM ",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"/s\",\"gid\":1}]}",
       "volumes[0].gid: cannot be set"},
      {"{" PM ",\"volumes\":[{\"name\":\"v\",\"kind\":\"nfs\"}]}", "not a volume kind"},
      {"{" PM
       ",\"volumes\":[{\"name\":\"v\",\"kind\":\"empty\"},{\"name\":\"v\",\"kind\":\"empty\"}]}",
       "volumes[1].name: duplicate volume name \"v\""},
      {"{" PM ",\"volumes\":[null]}", "volumes[0].name: must be set"},
      {"{" PM ",\"ports\":[{\"name\":\"p\",\"hostPort\":8080,\"hostIP\":\"10.0.0.1\",\"podPort\":"
       "{\"name\":\"p\",\"port\":80,\"protocol\":\"tcp\"}}]}",
       NULL},
      {"{" PM ",\"ports\":[{\"name\":\"p\",\"hostPort\":1,\"hostIP\":\"::1\"}]}", NULL},
      {"{" PM ",\"ports\":[{\"name\":\"p\",\"hostIP\":null}]}", NULL},
      {"{" PM ",\"ports\":[{\"name\":\"p\",\"hostIP\":\"10.0.0\"}]}",
       "ports[0].hostIP: \"10.0.0\" is not a valid IP address"},
      {"{" PM ",\"ports\":[{\"name\":\"p\",\"podPort\":{\"port\":70000}}]}", "ports[0].podPort"},
      {"{" PM ",\"annotations\":[{\"name\":\"homepage\",\"value\":\"gopher://x\"}]}",
       "annotations[0].value"},
      {"{" PM ",\"userAnnotations\":{\"a\":\"b\"}}", NULL},
  };
  CHECK_CASES(cases);
}

static void test_kind_routing(void **state)
{
  enum appc_manifest_kind kind = APPC_MANIFEST_UNKNOWN;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  appc_error_t err = NULL;
  const char *pod = "{" PM "}";

  assert_ok(appc_manifest_kind(pod, strlen(pod), &kind, &err), &err);
  assert_int_equal(kind, APPC_MANIFEST_POD);
  assert_error_contains(appc_image_manifest_parse(pod, strlen(pod), &m, &err), &err,
                        "acKind: must be \"ImageManifest\", got \"PodManifest\"");
  assert_error_contains(appc_manifest_kind("{}", 2, &kind, &err), &err, "acKind: must be set");
  assert_error_contains(
      appc_manifest_kind("{\"acKind\":\"PodManifest\",\"acVersion\":\"1\"}", 40, &kind, &err), &err,
      "acVersion");
}

static void test_go_json_quirks(void **state)
{
  static const struct manifest_case cases[] = {
      /* Keys match case-insensitively, also with U+212A (Kelvin) for k. */
      {"{\"ACKIND\":\"ImageManifest\",\"acversion\":\"0.8.11\",\"NAME\":\"a\"}", NULL},
      {"{\"ac\\u212aind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"a\"}", NULL},
      /* Unknown fields are ignored, whatever their type. */
      {"{" IM ",\"extra\":{\"x\":[1,2,{\"y\":null}]}}", NULL},
      /* With duplicate keys the last one wins. */
      {"{" IM ",\"name\":\"good\",\"name\":\"Bad\"}", "not a valid AC Identifier"},
      {"{" IM ",\"name\":\"good\",\"NAME\":\"other\"}", NULL},
      /* null keeps the zero value of plain fields. */
      {"{" IM ",\"labels\":null,\"annotations\":null,\"dependencies\":null}", NULL},
      {WITH_APP(",\"user\":null"), "user is required"},
      /* Wrong types are errors. */
      {"{" IM ",\"labels\":{}}", "labels: expected an array, got object"},
      {"{" IM ",\"acVersion\":1}", "acVersion: expected a string, got number"},
  };
  CHECK_CASES(cases);
}

static void test_json_syntax(void **state)
{
  static const struct manifest_case cases[] = {
      {"{" IM "} x", "invalid character after top-level value"},
      {"{" IM ",}", "object key expected"},
      {"{" IM ",\"x\":NaN}", "invalid character"},
      {"{" IM ",\"x\":1.}", "digit expected after '.'"},
      {"{" IM ",\"x\":01}", "',' or '}' expected"},
      {"{" IM ",\"x\":\"a\tb\"}", "control character in string"},
      {"{" IM ",\"x\":\"\\q\"}", "invalid escape"},
      {"{" IM ",\"x\":'a'}", "invalid character"},
      {"{" IM ",\"x\":\"\xff\"}", "invalid UTF-8"},
      {"{" IM ",\"x\":\"\xc0\xaf\"}", "invalid UTF-8"},
      {"{" IM ",\"x\":\"\xed\xa0\x80\"}", "invalid UTF-8"},
      {"{" IM ",\"x\":\"\xe2\x82\xac\"}", NULL},
      {"{" IM ",\"labels\":[{\"name\":\"a\",\"value\":\"x\\u0000y\"}]}", "U+0000"},
      {"[]", "must be a JSON object"},
      {"null", "must be a JSON object"},
      {"", "unexpected end of input"},
      {"{" IM, "',' or '}' expected"},
      {" \n{" IM "}\n ", NULL},
  };
  CHECK_CASES(cases);
}

static void test_nesting_limit(void **state)
{
  char buf[512];
  appc_error_t err = NULL;
  size_t n = 0;

  n += (size_t) snprintf(buf, sizeof buf, "{" IM ",\"x\":");
  for (int i = 0; i < 40; i++)
    buf[n++] = '[';
  for (int i = 0; i < 40; i++)
    buf[n++] = ']';
  buf[n++] = '}';
  buf[n] = '\0';
  assert_error_contains(parse_any(buf, &err), &err, "nested too deeply");
  /* 31 levels inside the manifest object are fine. */
  n = (size_t) snprintf(buf, sizeof buf, "{" IM ",\"x\":");
  for (int i = 0; i < 31; i++)
    buf[n++] = '[';
  for (int i = 0; i < 31; i++)
    buf[n++] = ']';
  buf[n++] = '}';
  buf[n] = '\0';
  assert_ok(parse_any(buf, &err), &err);
}

static void roundtrip_image(const char *json)
{
  cleanup_image_manifest struct appc_image_manifest *m1 = NULL;
  cleanup_image_manifest struct appc_image_manifest *m2 = NULL;
  cleanup_free char *s1 = NULL;
  cleanup_free char *s2 = NULL;
  appc_error_t err = NULL;
  size_t len;

  assert_ok(appc_image_manifest_parse(json, strlen(json), &m1, &err), &err);
  assert_ok(appc_image_manifest_serialize(m1, 0, &s1, &len, &err), &err);
  assert_int_equal(len, strlen(s1));
  assert_ok(appc_image_manifest_parse(s1, len, &m2, &err), &err);
  assert_ok(appc_image_manifest_serialize(m2, APPC_JSON_PRETTY, &s2, &len, &err), &err);
  free(s2);
  s2 = NULL;
  assert_ok(appc_image_manifest_serialize(m2, 0, &s2, &len, &err), &err);
  assert_string_equal(s1, s2);
}

static void roundtrip_pod(const char *json)
{
  cleanup_pod_manifest struct appc_pod_manifest *m1 = NULL;
  cleanup_pod_manifest struct appc_pod_manifest *m2 = NULL;
  cleanup_free char *s1 = NULL;
  cleanup_free char *s2 = NULL;
  appc_error_t err = NULL;
  size_t len;

  assert_ok(appc_pod_manifest_parse(json, strlen(json), &m1, &err), &err);
  assert_ok(appc_pod_manifest_serialize(m1, 0, &s1, &len, &err), &err);
  assert_ok(appc_pod_manifest_parse(s1, len, &m2, &err), &err);
  assert_ok(appc_pod_manifest_serialize(m2, 0, &s2, &len, &err), &err);
  assert_string_equal(s1, s2);
}

static const char rich_image[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/reduce-worker\","
    "\"labels\":[{\"name\":\"version\",\"value\":\"1.0.0\"},{\"name\":\"arch\",\"value\":\"amd64\"}"
    ","
    "{\"name\":\"os\",\"value\":\"linux\"}],"
    "\"app\":{\"exec\":[\"/usr/bin/reduce-worker\",\"--quiet\"],\"user\":\"100\",\"group\":\"300\","
    "\"supplementaryGIDs\":[400,500],\"eventHandlers\":[{\"exec\":[\"/usr/bin/data-downloader\"],"
    "\"name\":\"pre-start\"},{\"exec\":[\"/usr/bin/deregister-worker\",\"--verbose\"],\"name\":"
    "\"post-stop\"}],\"workingDirectory\":\"/opt/work\",\"environment\":[{\"name\":\"REDUCE_WORKER_"
    "DEBUG\",\"value\":\"true\"}],\"isolators\":[{\"name\":\"resource/cpu\",\"value\":{\"request\":"
    "\"250m\"}},{\"name\":\"resource/memory\",\"value\":{\"limit\":\"1G\"}},{\"name\":\"os/linux/"
    "capabilities-retain-set\",\"value\":{\"set\":[\"CAP_NET_BIND_SERVICE\",\"CAP_SYS_ADMIN\"]}},"
    "{\"name\":\"os/linux/"
    "seccomp-remove-set\",\"value\":{\"set\":[\"reboot\"],\"errno\":\"EPERM\"}}"
    ",{\"name\":\"os/unix/sysctl\",\"value\":{\"net.ipv4.ip_forward\":\"1\"}}],\"mountPoints\":["
    "{\"name\":\"work\",\"path\":\"/var/lib/work\",\"readOnly\":false}],\"ports\":[{\"name\":"
    "\"health\",\"port\":4000,\"protocol\":\"tcp\",\"socketActivated\":true}],\"userAnnotations\":"
    "{\"z\":\"1\",\"a\":\"2\"},\"userLabels\":{\"tier\":\"back\"}},"
    "\"dependencies\":[{\"imageName\":\"example.com/"
    "reduce-worker-base\",\"imageID\":\"sha512-abc\","
    "\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"env\",\"value\":\"canary\"}],"
    "\"size\":1234}],\"pathWhitelist\":[\"/etc/ca/example.com/crt\",\"/usr/bin/"
    "map-reduce-worker\"],"
    "\"annotations\":[{\"name\":\"authors\",\"value\":\"Carly <carly@example.com>\"},{\"name\":"
    "\"created\",\"value\":\"2014-10-27T19:32:27.67021798Z\"},{\"name\":\"homepage\",\"value\":"
    "\"https://example.com/reduce-worker\"}]}";

static const char rich_pod[] =
    "{\"acVersion\":\"0.8.11\",\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"reduce-worker\","
    "\"image\":{\"name\":\"example.com/reduce-worker\",\"id\":\"sha512-abc\",\"labels\":[{\"name\":"
    "\"version\",\"value\":\"1.0.0\"}]},\"app\":{\"exec\":[\"/bin/"
    "w\"],\"user\":\"0\",\"group\":\"0\"},"
    "\"readOnlyRootFS\":true,\"mounts\":[{\"volume\":\"work\",\"path\":\"/opt/work\"},{\"volume\":"
    "\"scratch\",\"path\":\"/tmp\",\"appVolume\":{\"name\":\"scratch\",\"kind\":\"empty\",\"mode\":"
    "\"1777\"}}],\"annotations\":[{\"name\":\"foo\",\"value\":\"baz\"}]},{\"name\":\"backup\","
    "\"image\":{\"id\":\"sha512-def\"}}],\"volumes\":[{\"name\":\"work\",\"kind\":\"host\","
    "\"source\":"
    "\"/opt/tenant1/work\",\"readOnly\":true,\"recursive\":false},{\"name\":\"cache\",\"kind\":"
    "\"empty\",\"uid\":1000}],\"isolators\":[{\"name\":\"resource/memory\",\"value\":{\"limit\":"
    "\"4G\"}},{\"name\":\"vendor.com/custom\",\"value\":[1,\"two\",{\"three\":3.0}]}],"
    "\"annotations\":[{\"name\":\"ip-address\",\"value\":\"10.1.2.3\"}],\"ports\":[{\"name\":"
    "\"health\",\"hostPort\":8080,\"hostIP\":\"127.0.0.1\",\"podPort\":{\"name\":\"h\",\"port\":80,"
    "\"protocol\":\"tcp\",\"count\":2}}],\"userAnnotations\":{\"b\":\"1\"},\"userLabels\":{\"a\":"
    "\"2\"}}";

static void test_roundtrip(void **state)
{
  roundtrip_image(rich_image);
  roundtrip_image("{" IM "}");
  roundtrip_image(WITH_APP(",\"environment\":[]"));
  roundtrip_image("{" IM ",\"labels\":[{\"value\":\"no name\"}]}");
  roundtrip_pod(rich_pod);
  roundtrip_pod("{\"acKind\":\"PodManifest\"}");
  roundtrip_pod("{" PM ",\"isolators\":[null,{\"name\":\"x\"}],\"apps\":[{}]}");
}

static void test_parsed_structure(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_pod_manifest struct appc_pod_manifest *pm = NULL;
  cleanup_free char *out = NULL;
  appc_error_t err = NULL;
  size_t len;

  assert_ok(appc_image_manifest_parse(rich_image, strlen(rich_image), &m, &err), &err);
  assert_string_equal(m->name, "example.com/reduce-worker");
  assert_int_equal(m->labels.len, 3);
  assert_int_equal(m->app->exec.len, 2);
  assert_int_equal(m->app->n_supplementary_gids, 2);
  assert_int_equal(m->app->supplementary_gids[1], 500);
  assert_int_equal(m->app->ports[0].count, 1);
  assert_true(m->app->ports[0].socket_activated);
  assert_string_equal(m->app->user_annotations.items[0].name, "a"); /* maps are sorted */
  assert_int_equal(m->dependencies[0].size, 1234);
  assert_int_equal(m->app->isolators.items[0].kind, APPC_ISOLATOR_RESOURCE_CPU);
  assert_string_equal(m->app->isolators.items[0].request, "250m");

  assert_ok(appc_pod_manifest_parse(rich_pod, strlen(rich_pod), &pm, &err), &err);
  assert_int_equal(pm->n_apps, 2);
  assert_null(pm->apps[1].image.name);
  assert_string_equal(pm->apps[0].mounts[1].app_volume->mode, "1777");
  assert_string_equal(pm->volumes[1].mode, "0755"); /* defaults of empty volumes */
  assert_int_equal(pm->volumes[1].uid, 1000);
  assert_true(pm->volumes[1].has_gid);
  assert_int_equal(pm->volumes[0].read_only, APPC_TRUE);
  assert_int_equal(pm->volumes[0].recursive, APPC_FALSE);
  assert_int_equal(pm->isolators.items[1].kind, APPC_ISOLATOR_UNKNOWN);
  assert_string_equal(pm->ports[0].host_ip, "127.0.0.1");
  assert_int_equal(pm->ports[0].pod_port->count, 2);
  assert_ok(appc_pod_manifest_serialize(pm, 0, &out, &len, &err), &err);
  /* Field order follows the reference's structs. */
  assert_non_null(strstr(out, "{\"acVersion\":\"0.8.11\",\"acKind\":\"PodManifest\",\"apps\""));
  assert_non_null(strstr(out, "\"value\":[1,\"two\",{\"three\":3.0}]"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_image_fields),     cmocka_unit_test(test_app_fields),
      cmocka_unit_test(test_pod_fields),       cmocka_unit_test(test_kind_routing),
      cmocka_unit_test(test_go_json_quirks),   cmocka_unit_test(test_json_syntax),
      cmocka_unit_test(test_nesting_limit),    cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_parsed_structure),
  };
  return cmocka_run_group_tests_name("schema-manifest", tests, NULL, NULL);
}
