/* SPDX-License-Identifier: Apache-2.0 */
/* Compression names and content-based detection. */
#include "config.h"

#include <string.h>

#include "aci/internal.h"
#include "common/macros.h"

static const char *const names[] = {
    [APPC_COMPRESSION_NONE] = "none",
    [APPC_COMPRESSION_GZIP] = "gzip",
    [APPC_COMPRESSION_BZIP2] = "bzip2",
    [APPC_COMPRESSION_XZ] = "xz",
};

int appc_compression_from_string(const char *s, enum appc_compression *out)
{
  if (s == NULL)
    return -1;
  for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
    if (strcmp(s, names[i]) == 0) {
      *out = (enum appc_compression) i;
      return 0;
    }
  }
  return -1;
}

const char *appc_compression_name(enum appc_compression c)
{
  if ((size_t) c < ARRAY_SIZE(names))
    return names[c];
  return "unknown";
}

/* The magic numbers the reference implementation sniffs: compressed formats
 * by their leading bytes, an uncompressed tar by "ustar" at offset 257. */
int appc_compression_detect(const unsigned char *head, size_t len, enum appc_compression *out)
{
  static const unsigned char gz[] = {0x1f, 0x8b};
  static const unsigned char bz[] = {'B', 'Z', 'h'};
  static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};

  if (len >= sizeof gz && memcmp(head, gz, sizeof gz) == 0)
    *out = APPC_COMPRESSION_GZIP;
  else if (len >= sizeof bz && memcmp(head, bz, sizeof bz) == 0)
    *out = APPC_COMPRESSION_BZIP2;
  else if (len >= sizeof xz && memcmp(head, xz, sizeof xz) == 0)
    *out = APPC_COMPRESSION_XZ;
  else if (len >= 262 && memcmp(head + 257, "ustar", 5) == 0)
    *out = APPC_COMPRESSION_NONE;
  else
    return -1;
  return 0;
}
