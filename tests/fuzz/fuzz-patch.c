/* SPDX-License-Identifier: Apache-2.0 */
/* patch-manifest's option values.  The input is up to twelve lines, one per
 * option in the order of struct appc_manifest_patch (an empty line: not
 * given), applied to an image manifest with an app or, when the input starts
 * with '!', without one.  A patch that succeeds must leave a manifest that
 * serialises and parses again (patch-manifest never writes an invalid
 * image), and whose round trips from there on give the same text. */
#include "config.h"

#include <string.h>

#include "common/cleanup.h"
#include "appc/schema.h"
#include "tests/fuzz/fuzz.h"

static const char with_app[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/app\","
    "\"labels\":[{\"name\":\"os\",\"value\":\"linux\"},{\"name\":\"arch\",\"value\":\"amd64\"}],"
    "\"app\":{\"exec\":[\"/bin/app\",\"-v\"],\"user\":\"0\",\"group\":\"0\","
    "\"isolators\":[{\"name\":\"os/linux/capabilities-retain-set\","
    "\"value\":{\"set\":[\"CAP_NET_BIND_SERVICE\"]}}],"
    "\"mountPoints\":[{\"name\":\"data\",\"path\":\"/data\"}],"
    "\"ports\":[{\"name\":\"http\",\"protocol\":\"tcp\",\"port\":80}]}}";
static const char without_app[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/lib\"}";

static const char *given(const char *s)
{
  return s != NULL && s[0] != '\0' ? s : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_image_manifest struct appc_image_manifest *again = NULL;
  cleanup_image_manifest struct appc_image_manifest *again2 = NULL;
  cleanup_free char *buf = NULL;
  cleanup_free char *out = NULL;
  cleanup_free char *out2 = NULL;
  cleanup_free char *out3 = NULL;
  char *v[12] = {NULL};
  const char *base = with_app;
  size_t len;

  if (size > 0 && data[0] == '!') {
    base = without_app;
    data++;
    size--;
  }
  fuzz_split(data, size, '\n', v, 12, &buf);
  const struct appc_manifest_patch p = {
      .name = given(v[0]),
      .exec = given(v[1]),
      .user = given(v[2]),
      .group = given(v[3]),
      .supplementary_groups = given(v[4]),
      .capability = given(v[5]),
      .revoke_capability = given(v[6]),
      .mounts = given(v[7]),
      .ports = given(v[8]),
      .isolators = given(v[9]),
      .seccomp_mode = given(v[10]),
      .seccomp_set = given(v[11]),
  };

  if (appc_image_manifest_parse(base, strlen(base), &m, &err) < 0)
    fuzz_fail("the base manifest does not parse: %s", err->msg);
  if (appc_image_manifest_patch(m, &p, &err) < 0)
    return 0;
  if (appc_image_manifest_serialize(m, 0, &out, &len, &err) < 0)
    fuzz_fail("a patched manifest cannot be serialised: %s", err->msg);
  if (appc_image_manifest_parse(out, len, &again, &err) < 0)
    fuzz_fail("patch-manifest wrote an invalid manifest: %s\n%s", err->msg, out);
  /* From the first parse on, the round trip is the identity (the patched
   * text itself may still change: a port's count written 0, as the
   * reference writes it, reads back as 1). */
  if (appc_image_manifest_serialize(again, 0, &out2, &len, &err) < 0)
    fuzz_fail("a re-parsed patched manifest cannot be serialised: %s", err->msg);
  if (appc_image_manifest_parse(out2, len, &again2, &err) < 0)
    fuzz_fail("a re-parsed patched manifest does not parse: %s\n%s", err->msg, out2);
  if (appc_image_manifest_serialize(again2, 0, &out3, &len, &err) < 0)
    fuzz_fail("a twice re-parsed patched manifest cannot be serialised: %s", err->msg);
  if (strcmp(out2, out3) != 0)
    fuzz_fail("a patched manifest changes on a round trip:\n%s\n%s", out2, out3);
  return 0;
}
