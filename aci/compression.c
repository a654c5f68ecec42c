/* SPDX-License-Identifier: Apache-2.0 */
/* Compression names, content-based detection, and the decompressors
 * untrusted archives are read with. */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include <archive.h>

#include "aci/internal.h"
#include "aci/stream.h"
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

/* The header checksum field as libarchive 3.6 reads it: each of its bytes
 * a space, a NUL or an octal digit; its value the digits after any leading
 * spaces, up to the first byte that is not one (what follows is ignored).
 * -1 if a byte is anything else.  Exactly libarchive's rule, because the
 * callers must agree with it on which blocks are headers. */
static long long tar_checksum_field(const unsigned char *field)
{
  long long v = 0;
  size_t i = 0;

  for (size_t k = 0; k < 8; k++)
    if (field[k] != ' ' && field[k] != '\0' && (field[k] < '0' || field[k] > '7'))
      return -1;
  while (i < 8 && field[i] == ' ')
    i++;
  for (; i < 8 && field[i] >= '0' && field[i] <= '7'; i++)
    v = v * 8 + (field[i] - '0');
  return v;
}

/* A block whose checksum is right is a tar header whatever its format:
 * pre-POSIX (v7) headers carry no "ustar" magic.  The sum counts the
 * checksum field as eight spaces; old writers summed signed chars, and
 * libarchive accepts either sum. */
bool appc_tar_checksum_ok(const unsigned char block[512])
{
  long long stored = tar_checksum_field(block + 148);
  long long usum = 0, ssum = 0;

  if (stored < 0)
    return false;
  for (size_t i = 0; i < 512; i++) {
    unsigned char c = i >= 148 && i < 156 ? ' ' : block[i];
    usum += c;
    ssum += (signed char) c;
  }
  return stored == usum || stored == ssum;
}

/* Compressed formats by their leading bytes (the magic numbers the reference
 * implementation sniffs), an uncompressed tar by "ustar" at offset 257 or,
 * failing that, by a first header whose checksum is right: libarchive reads
 * a v7 tar inside a compressed ACI too, so an uncompressed one must not be
 * refused for lacking the magic. */
int appc_compression_detect(const void *data, size_t len, enum appc_compression *out)
{
  static const unsigned char gz[] = {0x1f, 0x8b};
  static const unsigned char bz[] = {'B', 'Z', 'h'};
  static const unsigned char xz[] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
  const unsigned char *head = data;

  if (len >= sizeof gz && memcmp(head, gz, sizeof gz) == 0)
    *out = APPC_COMPRESSION_GZIP;
  else if (len >= sizeof bz && memcmp(head, bz, sizeof bz) == 0)
    *out = APPC_COMPRESSION_BZIP2;
  else if (len >= sizeof xz && memcmp(head, xz, sizeof xz) == 0)
    *out = APPC_COMPRESSION_XZ;
  else if (len >= 262 && memcmp(head + 257, "ustar", 5) == 0)
    *out = APPC_COMPRESSION_NONE;
  else if (len >= 512 && appc_tar_checksum_ok(head))
    *out = APPC_COMPRESSION_NONE;
  else
    return -1;
  return 0;
}

int appc_archive_support_compression(struct archive *a)
{
  int (*const filters[])(struct archive *) = {
      archive_read_support_filter_gzip, archive_read_support_filter_bzip2,
      archive_read_support_filter_xz,   archive_read_support_filter_lzma,
      archive_read_support_filter_zstd,
  };

  for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
    /* ARCHIVE_WARN: only an external program could do it here */
    int r = filters[i](a);
    if (r != ARCHIVE_OK)
      return r == ARCHIVE_WARN ? ARCHIVE_FATAL : r;
  }
  return ARCHIVE_OK;
}
