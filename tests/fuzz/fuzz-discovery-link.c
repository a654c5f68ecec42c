/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP Link header values (RFC 8288) as discovery reads them.  Every entry
 * found has one of the two discovery rels and a prefix and URL. */
#include "config.h"

#include "common/cleanup.h"
#include "appc/discovery.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *value = fuzz_strndup(data, size);
  struct appc_discovery_metas metas = {0};

  if (appc_discovery_parse_link(value, &metas, &err) == 0)
    fuzz_check_metas(&metas, "link");
  appc_discovery_metas_clear(&metas);
  return 0;
}
