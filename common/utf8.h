/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8: what is valid, and how a decoder that never fails (the WHATWG
 * Encoding Standard's, which browsers use) reads what is not. */
#ifndef APPC_COMMON_UTF8_H
#define APPC_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* The sequence at P (AVAIL > 0 bytes): its length (1..4) when it is valid
 * UTF-8 (overlong forms, surrogates and code points above U+10FFFF are
 * not); else 0, and in *BAD (when BAD is not NULL) the length of its
 * maximal subpart (1..3): the bytes that the WHATWG decoder, as Unicode's
 * "U+FFFD substitution of maximal subparts", reads as one U+FFFD.  Inline:
 * actool's --json output (actool_put_json) uses it too. */
static inline size_t appc_utf8_seq(const unsigned char *p, size_t avail, size_t *bad)
{
  unsigned char c = p[0], lo = 0x80, hi = 0xbf;
  size_t n;

  if (c < 0x80)
    return 1;
  if (bad != NULL)
    *bad = 1;
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef)
    n = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    n = 4;
  else
    return 0;
  if (c == 0xe0)
    lo = 0xa0;
  else if (c == 0xed)
    hi = 0x9f;
  else if (c == 0xf0)
    lo = 0x90;
  else if (c == 0xf4)
    hi = 0x8f;
  for (size_t i = 1; i < n; i++) {
    if (i >= avail || p[i] < lo || p[i] > hi) {
      if (bad != NULL)
        *bad = i;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return n;
}

/* Length of the UTF-8 sequence at P (1..4), or 0 if it is not valid. */
static inline size_t appc_utf8_len(const unsigned char *p, size_t avail)
{
  return appc_utf8_seq(p, avail, NULL);
}

/* Whether the NUL-terminated S is valid UTF-8, as every string of a parsed
 * manifest is (text from elsewhere must be checked before it goes in). */
bool appc_utf8_valid(const char *s);

/* S (LEN bytes) as the WHATWG UTF-8 decoder reads it, written back in
 * UTF-8: each maximal subpart of an invalid sequence becomes U+FFFD, and so
 * does each NUL byte when NUL is true (HTML's tokenizer reads a NUL as
 * U+FFFD).  A fresh buffer, NUL-terminated, its length in *OUT_LEN; NULL
 * when out of memory. */
char *appc_utf8_decode_lossy(const char *s, size_t len, bool nul, size_t *out_len);

#endif
