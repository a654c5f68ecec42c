/* SPDX-License-Identifier: Apache-2.0 */
/* YAML manifests (schema/yaml.c): any input either fails with a message or
 * maps to JSON that json-c reads back; an input that parses as an image
 * manifest gives canonical JSON that parses to the same canonical JSON. */
#include "config.h"

#include <string.h>
#include <json-c/json.h>

#include "appc/schema.h"
#include "common/cleanup.h"
#include "schema/json.h"
#include "tests/fuzz/fuzz.h"

static void check_json(const char *json, size_t len)
{
  /* Read back as actool reads JSON, to its nesting limit (deeper than the
   * YAML mapper's), not to json-c's default of 32 levels. */
  json_tokener *tok = json_tokener_new_ex(APPC_JSON_MAX_DEPTH);
  /* the terminating NUL included: it ends a top-level literal ("null") */
  json_object *o = json_tokener_parse_ex(tok, json, (int) len + 1);

  if (json_tokener_get_error(tok) != json_tokener_success)
    fuzz_fail("the JSON made of YAML does not parse: %.200s", json);
  json_object_put(o);
  json_tokener_free(tok);
}

static void check_manifest(const char *yaml, size_t size)
{
  struct appc_image_manifest *m = NULL, *again = NULL;
  cleanup_free char *json = NULL;
  cleanup_free char *json2 = NULL;
  size_t len = 0, len2 = 0;
  appc_error_t err = NULL;

  if (appc_image_manifest_parse_yaml(yaml, size, "fuzz.yaml", &m, &json, &len, &err) < 0) {
    if (err == NULL || err->msg[0] == '\0')
      fuzz_fail("a YAML manifest was refused without a message");
    appc_error_release(&err);
    return;
  }
  if (appc_image_manifest_parse(json, len, &again, &err) < 0)
    fuzz_fail("the canonical JSON of a YAML manifest does not parse: %s", err->msg);
  if (appc_image_manifest_serialize(again, 0, &json2, &len2, &err) < 0)
    fuzz_fail("serialise: %s", err->msg);
  if (len != len2 || memcmp(json, json2, len) != 0)
    fuzz_fail("canonical JSON is not stable: %.200s / %.200s", json, json2);
  appc_image_manifest_free(m);
  appc_image_manifest_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_free char *json = NULL;
  size_t len = 0;
  appc_error_t err = NULL;

  if (appc_yaml_to_json((const char *) data, size, "fuzz.yaml", &json, &len, &err) < 0) {
    if (err == NULL || err->msg[0] == '\0')
      fuzz_fail("YAML was refused without a message");
    appc_error_release(&err);
    return 0;
  }
  check_json(json, len);
  check_manifest((const char *) data, size);
  return 0;
}
