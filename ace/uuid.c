/* SPDX-License-Identifier: Apache-2.0 */
/* Pod UUIDs: random, RFC 4122 version 4. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>

#include "ace/internal.h"

int ace_uuid_new(char out[37], appc_error_t *err)
{
  unsigned char b[16];
  size_t got = 0;

  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "getrandom");
    got += (size_t) n;
  }
  b[6] = (unsigned char) ((b[6] & 0x0f) | 0x40); /* version 4: random */
  b[8] = (unsigned char) ((b[8] & 0x3f) | 0x80); /* variant: RFC 4122 */
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return 0;
}
