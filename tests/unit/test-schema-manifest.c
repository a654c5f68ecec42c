/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for ImageManifest and PodManifest parsing, validation, JSON
 * quirks shared with the reference, and serialisation round trips. */
#include "config.h"

#include "schema/json.h"
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
      {"{" IM ",\"labels\":[{\"name\":\"os\",\"value\":\"windows\"}]}",
       "labels[0].value: bad os \"windows\""},
      {"{" IM ",\"annotations\":[{\"name\":\"created\",\"value\":\"today\"}]}",
       "annotations[0].value: \"today\" is not a valid RFC 3339 date"},
      {"{" IM ",\"dependencies\":[{\"imageName\":\"a\",\"imageID\":\"sha512-1\",\"size\":3,"
       "\"labels\":[{\"name\":\"version\",\"value\":\"1\"}]}]}",
       NULL},
      {"{" IM ",\"dependencies\":[{\"imageID\":\"sha512-1\"}]}",
       "dependencies[0].imageName: must be set"},
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
      {"{" IM ",\"app\":{\"group\":\"0\"}}", "app.user: must be set"},
      {"{" IM ",\"app\":{\"user\":\"0\"}}", "app.group: must be set"},
      {"{" IM ",\"app\":null}", NULL},
      {"{" IM ",\"app\":[]}", "app: expected an object, got array"},
      {WITH_APP(",\"workingDirectory\":\"rel\""),
       "app.workingDirectory: \"rel\" must be an absolute path"},
      {WITH_APP(",\"workingDirectory\":\"/opt\""), NULL},
      {WITH_APP(",\"environment\":[{\"name\":\"A\",\"value\":\"1\"},{\"name\":\"A B\"}]"),
       "app.environment[1].name: \"A B\" is not a valid environment variable name"},
      {WITH_APP(",\"environment\":[{\"name\":\"A\"},{\"name\":\"A\"}]"),
       "duplicate environment variable"},
      {WITH_APP(",\"environment\":[null]"), "must not be empty"},
      {WITH_APP(",\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[\"/x\"]}]"), NULL},
      {WITH_APP(",\"eventHandlers\":[{\"name\":\"on-crash\"}]"),
       "app.eventHandlers[0].name: \"on-crash\" is not an eventHandler name"},
      {WITH_APP(",\"eventHandlers\":[{\"name\":\"post-stop\"},{\"name\":\"post-stop\"}]"),
       "app.eventHandlers[1].name: only one eventHandler named \"post-stop\" is allowed"},
      {WITH_APP(",\"supplementaryGIDs\":[1,-2,null]"), NULL},
      {WITH_APP(",\"supplementaryGIDs\":[1.0]"), "app.supplementaryGIDs[0]"},
      {WITH_APP(",\"supplementaryGIDs\":[9223372036854775808]"), "out of range"},
      {WITH_APP(",\"mountPoints\":[{\"name\":\"data\",\"path\":\"/d\",\"readOnly\":true},{}]"),
       NULL},
      {WITH_APP(",\"mountPoints\":[{\"name\":\"Data\"}]"), "app.mountPoints[0].name"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"protocol\":\"tcp\",\"port\":80,\"count\":0}]"),
       NULL},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":0}]"),
       "app.ports[0].port: 0 is not in the 1-65535 range"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":65000,\"count\":537}]"),
       "app.ports[0].count: a range of 537 ports from 65000 runs past port 65535"},
      {WITH_APP(",\"ports\":[{\"name\":\"http\",\"port\":1,\"count\":65535}]"), NULL},
      /* The reference's uint port+count wraps to 0 and passes; we reject (a
       * deviation, see docs/conformance.md). */
      {WITH_APP(",\"ports\":[{\"name\":\"p\",\"port\":1,\"count\":18446744073709551615}]"),
       "app.ports[0].count: a range of 18446744073709551615 ports from 1 runs past port 65535"},
      {"{" PM ",\"ports\":[{\"name\":\"p\",\"hostPort\":1,\"podPort\":{\"name\":\"p\",\"port\":2,"
       "\"count\":18446744073709551614}}]}",
       "ports[0].podPort.count: a range of 18446744073709551614 ports from 2 runs past port 65535"},
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
      {"{" PM ",\"apps\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
       "apps[1].name: duplicate app name \"a\""},
      {"{" PM ",\"apps\":[{\"name\":\"a\",\"image\":{\"id\":null}}]}", "apps[0].image.id"},
      {"{" PM ",\"apps\":[{\"name\":\"a\",\"app\":{\"user\":\"1\"}}]}",
       "apps[0].app.group: must be set"},
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
      /* With duplicate keys the last one wins, but every occurrence is
       * decoded and validated, as Go does. */
      {"{" IM ",\"name\":\"good\",\"name\":\"Bad\"}", "not a valid AC Identifier"},
      {"{" IM ",\"name\":\"good\",\"NAME\":\"other\"}", NULL},
      {"{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"Bad\",\"name\":\"a\"}",
       "name: "},
      {"{" IM ",\"labels\":[{\"name\":\"os\",\"value\":\"plan9\"}],\"labels\":[]}",
       "labels[0].value: bad os \"plan9\""},
      {"{" IM ",\"labels\":[{\"name\":\"os\",\"value\":\"plan9\",\"value\":\"linux\"}]}", NULL},
      {"{" IM ",\"app\":{\"user\":\"0\",\"group\":\"0\",\"group\":7}}",
       "app.group: expected a string, got number"},
      /* Each app is validated, then the next one merges into it. */
      {"{" IM ",\"app\":{\"user\":\"0\",\"user\":\"1\"},\"app\":{\"group\":\"0\"}}",
       "app.group: must be set"},
      {"{" IM ",\"app\":{\"user\":\"0\",\"group\":\"1\"},\"app\":{\"group\":\"0\"}}", NULL},
      {"{" IM ",\"app\":{\"user\":\"0\",\"group\":\"0\",\"isolators\":[{\"name\":\"resource/cpu\","
       "\"value\":{\"limit\":\"x\"},\"value\":{\"limit\":\"1\"}}]}}",
       NULL}, /* an isolator value is a json.RawMessage: only the last is read */
      {"{\"acKind\":\"PodManifest\",\"acVersion\":\"0.0.0\",\"acVersion\":\"0.8.11\"}",
       "acVersion"},
      /* A key holding U+0000 matches no field, and a map cannot keep it. */
      {"{" IM ",\"name\\u0000\":\"Bad\"}", NULL},
      {WITH_APP(",\"userLabels\":{\"a\\u0000b\":\"x\"}"),
       "app.userLabels: keys must not contain U+0000"},
      /* null keeps the zero value of plain fields. */
      {"{" IM ",\"labels\":null,\"annotations\":null,\"dependencies\":null}", NULL},
      {WITH_APP(",\"user\":null"), NULL}, /* "user":"0" stays */
      {"{" IM ",\"app\":{\"user\":null,\"group\":\"0\"}}", "app.user: must be set"},
      /* -0 is not an unsigned integer for Go's ParseUint. */
      {WITH_APP(",\"ports\":[{\"name\":\"a\",\"port\":80,\"count\":-0}]"),
       "app.ports[0].count: -0 must not be negative"},
      {WITH_APP(",\"supplementaryGIDs\":[-0]"), NULL},
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
  static char buf[20200];
  appc_error_t err = NULL;

  nested(buf, sizeof buf, 10000);
  assert_error_contains(parse_any(buf, &err), &err, "nested deeper than 512 levels");
  nested(buf, sizeof buf, APPC_JSON_MAX_DEPTH + 1);
  assert_error_contains(parse_any(buf, &err), &err,
                        "nested deeper than 512 levels (actool's nesting limit");
  nested(buf, sizeof buf, APPC_JSON_MAX_DEPTH);
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
  roundtrip_pod(rich_pod);
  roundtrip_pod("{\"acKind\":\"PodManifest\"}");
  roundtrip_pod("{" PM ",\"isolators\":[null,{\"name\":\"x\"}],\"apps\":[{}]}");
}

/* Parsed (as the reference parses it) but never written: an entry without
 * the name the spec requires, wherever it is. */
static void test_nameless_not_written(void **state)
{
  static const struct {
    const char *json, *path;
  } cases[] = {
      {"{" IM ",\"labels\":[{\"value\":\"no name\"}]}", "labels[0].name: must be set"},
      {"{" IM ",\"labels\":[{\"name\":\"a\",\"value\":\"1\"},null]}", "labels[1].name"},
      {"{" IM ",\"annotations\":[{\"value\":\"x\"}]}", "annotations[0].name"},
      {"{" IM ",\"dependencies\":[{\"imageName\":\"example.com/d\",\"labels\":[{\"value\":"
       "\"1\"}]}]}",
       "dependencies[0].labels[0].name"},
      {WITH_APP(",\"mountPoints\":[{\"path\":\"/data\"}]"), "app.mountPoints[0].name"},
      {WITH_APP(",\"ports\":[{\"protocol\":\"tcp\",\"port\":80}]"), "app.ports[0].name"},
  };
  (void) state;

  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cleanup_image_manifest struct appc_image_manifest *m = NULL;
    cleanup_free char *out = NULL;
    appc_error_t err = NULL;
    size_t len;

    assert_ok(appc_image_manifest_parse(cases[i].json, strlen(cases[i].json), &m, &err), &err);
    assert_error_contains(appc_image_manifest_serialize(m, 0, &out, &len, &err), &err,
                          cases[i].path);
    assert_null(out);
  }
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

/* The tree keeps every member of an object in document order, duplicates
 * included, as Go's decoder sees them. */
static void test_duplicate_members(void **state)
{
  static const char *const keys[] = {"a", "b", "a", "A"};
  static const char *const values[] = {"0", "1", "2", "3"};
  cleanup_jtree struct appc_jtree *t = NULL;
  appc_error_t err = NULL;
  size_t i = 0;

  assert_ok(appc_json_parse("{\"a\":0,\"b\":1,\"a\":2,\"A\":3}", 25, &t, &err), &err);
  assert_int_equal(t->root->len, 4);
  for (const struct appc_jnode *m = t->root->first; m != NULL; m = m->next) {
    assert_true(i < 4);
    assert_string_equal(m->key, keys[i]);
    assert_string_equal(m->text, values[i]);
    i++;
  }
  assert_int_equal(i, 4);

  /* A Go map keeps the last value of a key (null reads as ""). */
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  static const char json[] =
      WITH_APP(",\"userLabels\":{\"b\":\"1\",\"a\":\"2\",\"b\":\"3\",\"c\":\"4\",\"a\":null}");
  assert_ok(appc_image_manifest_parse(json, strlen(json), &m, &err), &err);
  assert_int_equal(m->app->user_labels.len, 3);
  assert_string_equal(m->app->user_labels.items[0].name, "a");
  assert_string_equal(m->app->user_labels.items[0].value, "");
  assert_string_equal(m->app->user_labels.items[1].name, "b");
  assert_string_equal(m->app->user_labels.items[1].value, "3");
  assert_string_equal(m->app->user_labels.items[2].value, "4");
}

/* Values the reference keeps as json.RawMessage (isolator values) are
 * written back as they were: escapes and number literals included, with the
 * HTML escaping of Go's compact() but U+2028 kept as it was (Go escapes it,
 * and a quantity would then read "\u2028" in place of the space it trims). */
static void test_raw_values(void **state)
{
  cleanup_pod_manifest struct appc_pod_manifest *pm = NULL;
  cleanup_free char *out = NULL;
  appc_error_t err = NULL;
  static const char json[] =
      "{" PM
      ",\"isolators\":[{\"name\":\"vendor.com/x\",\"value\":{\"s\":\"\\u0031<\\/>\xe2\x80\xa8\","
      "\"n\":[-0,1E3,100000000000000000000,18446744073709551615,-9223372036854775808],"
      "\"d\":1,\"d\":2}},{\"name\":\"resource/cpu\",\"value\":{\"limit\":-0}}]}";

  assert_ok(appc_pod_manifest_parse(json, strlen(json), &pm, &err), &err);
  assert_string_equal(pm->isolators.items[1].limit, "-0");
  assert_ok(appc_pod_manifest_serialize(pm, 0, &out, NULL, &err), &err);
  assert_non_null(strstr(out, "\"value\":{\"s\":\"\\u0031\\u003c\\/\\u003e\xe2\x80\xa8\","
                              "\"n\":[-0,1E3,100000000000000000000,18446744073709551615,"
                              "-9223372036854775808],\"d\":1,\"d\":2}"));
}

/* Serialised text is what the reference's Go json.Marshal and
 * json.MarshalIndent(m, "", "    ") print (checked byte for byte against
 * `cat-manifest --pretty-print` of the reference): HTML-safe escapes, \u00xx
 * in lower case, `/` and non-ASCII kept, U+2028/U+2029 escaped, a missing
 * exec as null but an empty one as [], isolator values as written. */
static const char go_input[] =
    "{" IM ",\"labels\":[{\"name\":\"x\",\"value\":\"<a> & \\\"q\\\" \\\\ / \\u00e9 "
    "\\u2028\\u2029 \\u0001\\b\\f\\t\\n\\r\\u001f\"}],\"app\":{\"user\":\"0\",\"group\":\"0\","
    "\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[]}],\"isolators\":[{\"name\":"
    "\"resource/cpu\",\"value\":{\"limit\":1e3, \"request\" : \"1\"}},{\"name\":"
    "\"os/unix/sysctl\",\"value\":{}}]},\"pathWhitelist\":[\"/a\"]}";

static const char go_compact[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/app\","
    "\"labels\":[{\"name\":\"x\",\"value\":\"\\u003ca\\u003e \\u0026 \\\"q\\\" \\\\ / \xc3\xa9 "
    "\\u2028\\u2029 \\u0001\\u0008\\u000c\\t\\n\\r\\u001f\"}],\"app\":{\"exec\":null,"
    "\"eventHandlers\":[{\"name\":\"pre-start\",\"exec\":[]}],\"user\":\"0\",\"group\":\"0\","
    "\"isolators\":[{\"name\":\"resource/cpu\",\"value\":{\"limit\":1e3,\"request\":\"1\"}},"
    "{\"name\":\"os/unix/sysctl\",\"value\":{}}]},\"pathWhitelist\":[\"/a\"]}";

static const char go_pretty[] =
    "{\n"
    "    \"acKind\": \"ImageManifest\",\n"
    "    \"acVersion\": \"0.8.11\",\n"
    "    \"name\": \"example.com/app\",\n"
    "    \"labels\": [\n"
    "        {\n"
    "            \"name\": \"x\",\n"
    "            \"value\": \"\\u003ca\\u003e \\u0026 \\\"q\\\" \\\\ / \xc3\xa9 \\u2028\\u2029 "
    "\\u0001\\u0008\\u000c\\t\\n\\r\\u001f\"\n"
    "        }\n"
    "    ],\n"
    "    \"app\": {\n"
    "        \"exec\": null,\n"
    "        \"eventHandlers\": [\n"
    "            {\n"
    "                \"name\": \"pre-start\",\n"
    "                \"exec\": []\n"
    "            }\n"
    "        ],\n"
    "        \"user\": \"0\",\n"
    "        \"group\": \"0\",\n"
    "        \"isolators\": [\n"
    "            {\n"
    "                \"name\": \"resource/cpu\",\n"
    "                \"value\": {\n"
    "                    \"limit\": 1e3,\n"
    "                    \"request\": \"1\"\n"
    "                }\n"
    "            },\n"
    "            {\n"
    "                \"name\": \"os/unix/sysctl\",\n"
    "                \"value\": {}\n"
    "            }\n"
    "        ]\n"
    "    },\n"
    "    \"pathWhitelist\": [\n"
    "        \"/a\"\n"
    "    ]\n"
    "}";

static void test_go_json_output(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_pod_manifest struct appc_pod_manifest *pm = NULL;
  cleanup_free char *compact = NULL;
  cleanup_free char *pretty = NULL;
  cleanup_free char *pod = NULL;
  cleanup_free char *pod_pretty = NULL;
  static const char empty_pod[] = "{" PM ",\"volumes\":[],\"ports\":null}";
  appc_error_t err = NULL;
  size_t len;

  (void) state;
  assert_ok(appc_image_manifest_parse(go_input, strlen(go_input), &m, &err), &err);
  assert_ok(appc_image_manifest_serialize(m, 0, &compact, &len, &err), &err);
  assert_string_equal(compact, go_compact);
  assert_int_equal(len, strlen(go_compact));
  assert_ok(appc_image_manifest_serialize(m, APPC_JSON_PRETTY, &pretty, &len, &err), &err);
  assert_string_equal(pretty, go_pretty);
  assert_int_equal(len, strlen(go_pretty));

  /* The pod's lists have no omitempty: nil is null, an empty list []. */
  assert_ok(appc_pod_manifest_parse(empty_pod, strlen(empty_pod), &pm, &err), &err);
  assert_ok(appc_pod_manifest_serialize(pm, 0, &pod, &len, &err), &err);
  assert_string_equal(pod,
                      "{\"acVersion\":\"0.8.11\",\"acKind\":\"PodManifest\",\"apps\":null,"
                      "\"volumes\":[],\"isolators\":null,\"annotations\":null,\"ports\":null}");
  assert_ok(appc_pod_manifest_serialize(pm, APPC_JSON_PRETTY, &pod_pretty, &len, &err), &err);
  assert_string_equal(pod_pretty, "{\n"
                                  "    \"acVersion\": \"0.8.11\",\n"
                                  "    \"acKind\": \"PodManifest\",\n"
                                  "    \"apps\": null,\n"
                                  "    \"volumes\": [],\n"
                                  "    \"isolators\": null,\n"
                                  "    \"annotations\": null,\n"
                                  "    \"ports\": null\n"
                                  "}");
}

/* Bytes that are not UTF-8 (possible only in a manifest built in memory)
 * come out as \ufffd, as Go writes them. */
static void test_go_json_invalid_utf8(void **state)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_free char *out = NULL;
  static const char json[] = "{" IM ",\"pathWhitelist\":[\"a\"]}";
  appc_error_t err = NULL;
  size_t len;

  (void) state;
  assert_ok(appc_image_manifest_parse(json, strlen(json), &m, &err), &err);
  free(m->path_whitelist.items[0]);
  m->path_whitelist.items[0] = strdup("\xff<\xc3(\xe2\x80\xa8\x7f");
  assert_non_null(m->path_whitelist.items[0]);
  assert_ok(appc_image_manifest_serialize(m, 0, &out, &len, &err), &err);
  assert_non_null(strstr(out, "\"pathWhitelist\":[\"\\ufffd\\u003c\\ufffd(\\u2028\x7f\"]}"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_image_fields),         cmocka_unit_test(test_app_fields),
      cmocka_unit_test(test_pod_fields),           cmocka_unit_test(test_kind_routing),
      cmocka_unit_test(test_go_json_quirks),       cmocka_unit_test(test_json_syntax),
      cmocka_unit_test(test_nesting_limit),        cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_nameless_not_written), cmocka_unit_test(test_parsed_structure),
      cmocka_unit_test(test_go_json_output),       cmocka_unit_test(test_go_json_invalid_utf8),
      cmocka_unit_test(test_duplicate_members),    cmocka_unit_test(test_raw_values),
  };
  return cmocka_run_group_tests_name("schema-manifest", tests, NULL, NULL);
}
