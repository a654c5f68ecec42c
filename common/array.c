/* SPDX-License-Identifier: Apache-2.0 */
/* Growing arrays: see common/array.h. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/array.h"

#define MIN_CAP 8

int appc_array_resize(void **items, size_t *cap, size_t len, size_t n, size_t elem_size)
{
  size_t count = len + n != 0 ? len + n : 1; /* checked below */
  void *p;

  if (n > SIZE_MAX - len || count > SIZE_MAX / elem_size ||
      (p = realloc(*items, count * elem_size)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  *items = p;
  *cap = len + n;
  return 0;
}

int appc_array_reserve(void **items, size_t *cap, size_t need, size_t elem_size)
{
  size_t grown = *cap < MIN_CAP ? MIN_CAP : *cap;
  void *p;

  if (need <= *cap && *items != NULL)
    return 0;
  while (grown < need) {
    if (grown > SIZE_MAX / 2) {
      errno = ENOMEM;
      return -1;
    }
    grown *= 2;
  }
  /* Overflow checked here, not left to reallocarray: the sanitizers abort
   * on an overflowing request instead of letting it fail. */
  if (grown > SIZE_MAX / elem_size || (p = realloc(*items, grown * elem_size)) == NULL) {
    errno = ENOMEM;
    return -1;
  }
  *items = p;
  *cap = grown;
  return 0;
}
