/* SPDX-License-Identifier: Apache-2.0 */
/* Discovery pages: the ac-discovery and ac-discovery-pubkeys meta elements
 * of an HTML page (libxml2's HTML parser, corrected to what an HTML5 parser
 * sees).  Every entry found has one of the two rels, a prefix and a URL.
 * An input whose first byte is 1 to 7 is a page its server said is in one
 * of the charsets below (the byte not part of it): the parser's decoders of
 * pages that are not UTF-8. */
#include "config.h"

#include "common/cleanup.h"
#include "common/macros.h"
#include "appc/discovery.h"
#include "tests/fuzz/fuzz.h"

static const char *const charsets[] = {"utf-16le",  "utf-16be", "iso-8859-1", "windows-1252",
                                       "shift_jis", "utf-8",    "x-unknown"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_discovery_metas metas = {0};
  const char *charset = NULL;

  if (size > 0 && data[0] >= 1 && data[0] <= ARRAY_SIZE(charsets)) {
    charset = charsets[data[0] - 1];
    data++;
    size--;
  }
  if (appc_discovery_parse_html_charset((const char *) data, size, charset, &metas, &err) == 0)
    fuzz_check_metas(&metas, "meta");
  appc_discovery_metas_clear(&metas);
  return 0;
}
