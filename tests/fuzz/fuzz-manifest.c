/* SPDX-License-Identifier: Apache-2.0 */
/* Image and pod manifests: parse (which validates), and for every input that
 * parses, the round trip that patch-manifest and cat-manifest rely on:
 * serialise (compact and pretty), parse again, serialise again, and get the
 * same text.  Both kinds are tried on every input, so that a mutation of a
 * pod manifest's acKind still reaches the image parser's rules. */
#include "config.h"

#include <string.h>

#include "common/cleanup.h"
#include "appc/schema.h"
#include "tests/fuzz/fuzz.h"
#include "common/macros.h"

typedef int (*parse_fn)(const char *json, size_t len, void **out, appc_error_t *err);
typedef int (*serialize_fn)(const void *m, int flags, char **out, size_t *len, appc_error_t *err);
typedef void (*free_fn)(void *m);
typedef int (*check_fn)(const void *m, appc_error_t *err);

struct kind {
  const char *name;
  parse_fn parse;
  serialize_fn serialize;
  free_fn release;
  check_fn check; /* what makes serialize refuse a parsed manifest; may be NULL */
};

/* The two kinds behind one set of signatures. */
static int image_parse(const char *json, size_t len, void **out, appc_error_t *err)
{
  struct appc_image_manifest *m = NULL;
  int r = appc_image_manifest_parse(json, len, &m, err);
  *out = m;
  return r;
}
static int image_serialize(const void *m, int flags, char **out, size_t *len, appc_error_t *err)
{
  return appc_image_manifest_serialize(m, flags, out, len, err);
}
static void image_free(void *m)
{
  appc_image_manifest_free(m);
}
static int image_check(const void *m, appc_error_t *err)
{
  return appc_image_manifest_check_names(m, err);
}
static int pod_parse(const char *json, size_t len, void **out, appc_error_t *err)
{
  struct appc_pod_manifest *m = NULL;
  int r = appc_pod_manifest_parse(json, len, &m, err);
  *out = m;
  return r;
}
static int pod_serialize(const void *m, int flags, char **out, size_t *len, appc_error_t *err)
{
  return appc_pod_manifest_serialize(m, flags, out, len, err);
}
static void pod_free(void *m)
{
  appc_pod_manifest_free(m);
}

static const struct kind kinds[] = {
    {"image", image_parse, image_serialize, image_free, image_check},
    {"pod", pod_parse, pod_serialize, pod_free, NULL},
};

/* Parse JSON as K and serialise it with FLAGS; NULL if it does not parse
 * (ERR set) and a broken property if a parsed manifest cannot be written. */
static char *reserialize(const struct kind *k, const char *json, size_t len, int flags,
                         appc_error_t *err)
{
  void *m = NULL;
  char *out = NULL;
  size_t out_len = 0;

  if (k->parse(json, len, &m, err) < 0)
    return NULL;
  /* An image manifest may parse with a nameless label, annotation, mount
   * point or port, as the reference's does, and is then never written:
   * that refusal, and only that one, ends the round trip. */
  if (k->check != NULL && k->check(m, err) < 0) {
    k->release(m);
    return NULL;
  }
  if (k->serialize(m, flags, &out, &out_len, err) < 0)
    fuzz_fail("%s manifest parsed but cannot be serialised: %s", k->name, (*err)->msg);
  k->release(m);
  if (out_len != strlen(out))
    fuzz_fail("%s manifest serialised with an embedded NUL", k->name);
  return out;
}

static void round_trip(const struct kind *k, const char *json, size_t len)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *compact = reserialize(k, json, len, 0, &err);
  if (compact == NULL)
    return;
  cleanup_free char *pretty = reserialize(k, json, len, APPC_JSON_PRETTY, &err);
  if (pretty == NULL)
    fuzz_fail("%s manifest parsed once, not twice: %s", k->name, err->msg);
  cleanup_free char *again = reserialize(k, compact, strlen(compact), 0, &err);
  if (again == NULL)
    fuzz_fail("%s manifest's serialisation does not parse: %s\n%s", k->name, err->msg, compact);
  cleanup_free char *from_pretty = reserialize(k, pretty, strlen(pretty), 0, &err);
  if (from_pretty == NULL)
    fuzz_fail("%s manifest's pretty form does not parse: %s\n%s", k->name, err->msg, pretty);
  if (strcmp(again, compact) != 0)
    fuzz_fail("%s manifest changes on a second round trip:\n%s\n%s", k->name, compact, again);
  if (strcmp(from_pretty, compact) != 0)
    fuzz_fail("%s manifest differs through its pretty form:\n%s\n%s", k->name, compact,
              from_pretty);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  enum appc_manifest_kind kind;

  for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
    round_trip(&kinds[i], (const char *) data, size);
  /* acKind is peeked at without the rest being validated. */
  (void) appc_manifest_kind((const char *) data, size, &kind, &err);
  return 0;
}
