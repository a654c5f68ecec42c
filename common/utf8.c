/* SPDX-License-Identifier: Apache-2.0 */
/* UTF-8 (common/utf8.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

bool appc_utf8_valid(const char *s)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t len = strlen(s);

  for (size_t i = 0; i < len;) {
    size_t n = appc_utf8_len(p + i, len - i);
    if (n == 0)
      return false;
    i += n;
  }
  return true;
}

/* The bytes at S[I] that read as one character, valid or U+FFFD (*REPLACE). */
static size_t lossy_step(const unsigned char *s, size_t i, size_t len, bool nul, bool *replace)
{
  size_t bad, n = appc_utf8_seq(s + i, len - i, &bad);

  *replace = n == 0 || (nul && s[i] == '\0');
  return n > 0 ? n : bad;
}

char *appc_utf8_decode_lossy(const char *s, size_t len, bool nul, size_t *out_len)
{
  const unsigned char *p = (const unsigned char *) s;
  size_t size = 0;
  bool replace;

  /* Twice over S: the size of the result, then the result. */
  for (size_t i = 0; i < len;) {
    size_t n = lossy_step(p, i, len, nul, &replace);
    size += replace ? strlen(REPLACEMENT) : n;
    i += n;
  }
  char *out = malloc(size + 1), *w = out;
  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < len;) {
    size_t n = lossy_step(p, i, len, nul, &replace);
    const char *from = replace ? REPLACEMENT : s + i;
    size_t k = replace ? strlen(REPLACEMENT) : n;
    memcpy(w, from, k);
    w += k;
    i += n;
  }
  *w = '\0';
  *out_len = size;
  return out;
}
