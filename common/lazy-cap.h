/* SPDX-License-Identifier: Apache-2.0 */
/* libcap: capability names and the bounding set, for the executor, bound at first use (see
 * common/lazy.h). */
#ifndef APPC_COMMON_LAZY_CAP_H
#define APPC_COMMON_LAZY_CAP_H

#include <sys/capability.h>

#include "common/lazy.h"

#define APPC_LAZY_CAP(X)                                                                           \
  X(cap_free)                                                                                      \
  X(cap_from_name)                                                                                 \
  X(cap_get_bound)                                                                                 \
  X(cap_to_name)

APPC_LAZY_DECLARE(cap, APPC_LAZY_CAP)

#ifndef APPC_LAZY_NO_REDIRECT
#define cap_free APPC_LAZY_CALL(cap, cap_free)
#define cap_from_name APPC_LAZY_CALL(cap, cap_from_name)
#define cap_get_bound APPC_LAZY_CALL(cap, cap_get_bound)
#define cap_to_name APPC_LAZY_CALL(cap, cap_to_name)
#endif

#endif
