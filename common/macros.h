/* SPDX-License-Identifier: Apache-2.0 */
/* Small macros every module uses. */
#ifndef APPC_COMMON_MACROS_H
#define APPC_COMMON_MACROS_H

/* The number of elements of the array A.  Given a pointer instead, the
 * build fails (a pointer's "size" would silently be wrong), as the Linux
 * kernel's and systemd's ARRAY_SIZE do. */
#define APPC_MUST_BE_ARRAY(a)                                                                      \
  (sizeof(char[1 - 2 * __builtin_types_compatible_p(__typeof__(a), __typeof__(&(a)[0]))]) - 1)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]) + APPC_MUST_BE_ARRAY(a))

#endif
