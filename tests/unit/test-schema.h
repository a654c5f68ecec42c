/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the schema unit tests. */
#ifndef APPC_TESTS_TEST_SCHEMA_H
#define APPC_TESTS_TEST_SCHEMA_H

#include <stdio.h>
#include <stdlib.h>

#include "common/cleanup.h"
#include "appc/schema.h"
#include "tests/unit/test-util.h"

/* An expected verdict: NULL for valid, else a substring of the error. */
struct manifest_case {
  const char *json;
  const char *error;
};

/* Parse JSON as the manifest kind it declares; 0 or -1 with *err set. */
static inline int parse_any(const char *json, appc_error_t *err)
{
  enum appc_manifest_kind kind;
  size_t len = strlen(json);

  if (appc_manifest_kind(json, len, &kind, err) < 0)
    return -1;
  if (kind == APPC_MANIFEST_IMAGE) {
    cleanup_image_manifest struct appc_image_manifest *m = NULL;
    return appc_image_manifest_parse(json, len, &m, err);
  }
  cleanup_pod_manifest struct appc_pod_manifest *pm = NULL;
  return appc_pod_manifest_parse(json, len, &pm, err);
}

static inline void check_cases(const struct manifest_case *cases, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    appc_error_t err = NULL;
    int r = parse_any(cases[i].json, &err);
    if (cases[i].error == NULL && r < 0)
      fail_msg("case %zu: unexpected error \"%s\" for %s", i, err->msg, cases[i].json);
    if (cases[i].error != NULL && r == 0)
      fail_msg("case %zu: accepted, expected \"%s\": %s", i, cases[i].error, cases[i].json);
    if (cases[i].error != NULL && strstr(err->msg, cases[i].error) == NULL)
      fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err->msg, cases[i].error);
    appc_error_release(&err);
  }
}

#define CHECK_CASES(cases) check_cases((cases), sizeof(cases) / sizeof((cases)[0]))

/* Prefixes for building manifests in tables. */
#define IM "\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/app\""
#define PM "\"acKind\":\"PodManifest\",\"acVersion\":\"0.8.11\""
#define APP "\"exec\":[\"/bin/sh\"],\"user\":\"0\",\"group\":\"0\""
#define WITH_APP(x) "{" IM ",\"app\":{" APP x "}}"
#define WITH_ISO(x) WITH_APP(",\"isolators\":[" x "]")

/* Our limit: APPC_JSON_MAX_DEPTH levels (the top-level object included)
 * are accepted; Go's 10000 are refused with an error naming the limit. */
static inline void nested(char *buf, size_t size, int levels)
{
  size_t n = (size_t) snprintf(buf, size, "{" IM ",\"x\":");

  for (int i = 1; i < levels; i++)
    buf[n++] = '[';
  for (int i = 1; i < levels; i++)
    buf[n++] = ']';
  buf[n++] = '}';
  buf[n] = '\0';
}

#endif
