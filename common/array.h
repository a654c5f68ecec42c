/* SPDX-License-Identifier: Apache-2.0 */
/* Growing arrays: the one way every module makes room in a malloc'ed array,
 * as git's ALLOC_GROW serves git.  Capacity doubles (from 8), so appending N
 * elements copies O(N) of them in all, and size overflow is an error, not a
 * short allocation. */
#ifndef APPC_COMMON_ARRAY_H
#define APPC_COMMON_ARRAY_H

#include <stddef.h>

/* Make *ITEMS (ELEM_SIZE bytes each, room for *CAP) hold at least NEED
 * elements.  0, or -1 with errno ENOMEM, leaving *ITEMS and *CAP as they
 * were. */
int appc_array_reserve(void **items, size_t *cap, size_t need, size_t elem_size);
/* Reallocate *ITEMS to exactly LEN + N elements (overflow checked); *CAP
 * receives the new size.  0, or -1 with errno ENOMEM. */
int appc_array_resize(void **items, size_t *cap, size_t len, size_t n, size_t elem_size);

/* Room for NEED elements in the array ITEMS whose capacity is the lvalue
 * CAP; evaluates to 0, or -1 (errno ENOMEM).  Typed: ITEMS keeps its type. */
#define APPC_ARRAY_RESERVE(items, cap, need)                                                       \
  __extension__({                                                                                  \
    void *appc_items_ = (items);                                                                   \
    int appc_r_ = appc_array_reserve(&appc_items_, &(cap), (need), sizeof *(items));               \
    (items) = appc_items_;                                                                         \
    appc_r_;                                                                                       \
  })

/* Room for N more elements after the first LEN of ITEMS, an array whose
 * allocation holds exactly LEN (a list with no capacity field, which other
 * code may have allocated: decoded from JSON, say): it is reallocated to
 * LEN + N.  For short lists (labels, ports, keys); 0, or -1 (ENOMEM). */
#define APPC_ARRAY_EXTEND(items, len, n)                                                           \
  __extension__({                                                                                  \
    size_t appc_cap_ = (len);                                                                      \
    void *appc_items_ = (items);                                                                   \
    int appc_r_ = appc_array_resize(&appc_items_, &appc_cap_, (len), (n), sizeof *(items));        \
    (items) = appc_items_;                                                                         \
    appc_r_;                                                                                       \
  })

#endif
