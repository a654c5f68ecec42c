/* SPDX-License-Identifier: Apache-2.0 */
/* The wire form of a pod, as the store's metadata service (ace/mds.c) gets
 * it from actool over its socket.  Properties: decoding fails with a message
 * or succeeds, and what decodes encodes to a form that decodes to itself. */
#include "config.h"

#include <string.h>

#include "ace/internal.h"
#include "common/cleanup.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *once = NULL, *twice = NULL;
  size_t once_len = 0, twice_len = 0;

  if (ace_metadata_wire_normalize((const char *) data, size, &once, &once_len, &err) < 0) {
    if (err == NULL || err->msg == NULL || err->msg[0] == '\0')
      fuzz_fail("a refusal without a message");
    return 0;
  }
  if (ace_metadata_wire_normalize(once, once_len, &twice, &twice_len, &err) < 0)
    fuzz_fail("the encoded form does not decode: %s", err->msg);
  if (once_len != twice_len || memcmp(once, twice, once_len) != 0)
    fuzz_fail("encoding is not stable:\n%s\n%s", once, twice);
  return 0;
}
