/* SPDX-License-Identifier: Apache-2.0 */
/* Discovery pages: the ac-discovery and ac-discovery-pubkeys meta elements
 * of an HTML page (libxml2's HTML parser, corrected to what an HTML5 parser
 * sees).  Every entry found has one of the two rels and a prefix and URL
 * that occur in the page. */
#include "config.h"

#include "common/cleanup.h"
#include "appc/discovery.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_discovery_metas metas = {0};

  if (appc_discovery_parse_html((const char *) data, size, &metas, &err) == 0)
    fuzz_check_metas(&metas, "meta");
  appc_discovery_metas_clear(&metas);
  return 0;
}
