/* SPDX-License-Identifier: Apache-2.0 */
/* What a user types after docker:// and what a registry answers in
 * WWW-Authenticate (oci/reference.c).  Properties: a parsed reference has
 * a registry, a repository of at most 255 characters without "..", and a
 * tag or a digest; a parsed challenge has a scheme. */
#include "config.h"

#include <string.h>

#include "common/cleanup.h"
#include "oci/internal.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *value = fuzz_strndup(data, size);
  struct appc_docker_ref ref;
  struct oci_challenge c;

  if (appc_docker_ref_parse(value, &ref, &err) == 0) {
    if (ref.registry == NULL || ref.repository == NULL || (ref.tag == NULL && ref.digest == NULL))
      fuzz_fail("a reference without a registry, repository, tag or digest was accepted");
    if (strlen(ref.repository) > 255 + 8 || strstr(ref.repository, "..") != NULL ||
        ref.repository[0] == '/' || strchr(ref.registry, '/') != NULL)
      fuzz_fail("repository \"%s\" on \"%s\" was accepted", ref.repository, ref.registry);
    appc_docker_ref_clear(&ref);
  }
  if (oci_challenge_parse(value, &c) == 0) {
    if (c.scheme == NULL || c.scheme[0] == '\0')
      fuzz_fail("a challenge without a scheme was accepted");
    oci_challenge_clear(&c);
  }
  return 0;
}
