/* SPDX-License-Identifier: Apache-2.0 */
/* "NAME[,LABEL=VALUE...]" strings, as users name images, and the discovery
 * templates they are rendered into.  The input is the app string, then
 * optionally a NUL byte and a template.  Properties: a parsed name is a
 * valid AC identifier (the parser checks what it returns), labels are kept
 * literally (a value never loses a '+' or a '%'), and rendering a template
 * never counts more labels used than were given and the two
 * defaults (os, arch). */
#include "config.h"

#include <string.h>

#include "common/cleanup.h"
#include "appc/discovery.h"
#include "schema/json.h"
#include "appc/types.h"
#include "appc/schema.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *s = fuzz_strndup(data, size);
  cleanup_free char *name = NULL;
  cleanup_free char *aci = NULL;
  cleanup_free char *asc = NULL;
  struct appc_kv_list labels = {0};
  const char *tmpl = NULL;
  unsigned score = 0;
  size_t len = strlen(s);

  if (len < size)
    tmpl = s + len + 1;
  if (appc_app_string_parse(s, &name, &labels, &err) < 0)
    return 0;
  if (appc_validate_acidentifier(name, &err) < 0)
    fuzz_fail("\"%s\" gave the invalid name \"%s\"", s, name);
  /* Every value is a substring of the input as given; every name is valid. */
  for (size_t i = 0; i < labels.len; i++) {
    if (strstr(s, labels.items[i].value) == NULL)
      fuzz_fail("label %s's value \"%s\" is not in \"%s\"", labels.items[i].name,
                labels.items[i].value, s);
    if (appc_validate_acidentifier(labels.items[i].name, &err) < 0)
      fuzz_fail("\"%s\" gave the invalid label name \"%s\"", s, labels.items[i].name);
  }
  if (tmpl != NULL && appc_discovery_render(tmpl, name, &labels, &aci, &asc, &score, &err) == 1 &&
      score > labels.len + 2)
    fuzz_fail("rendering used %u labels of %zu and the os and arch defaults", score, labels.len);
  appc_kv_list_clear(&labels);
  return 0;
}
