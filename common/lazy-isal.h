/* SPDX-License-Identifier: Apache-2.0 */
/* ISA-L: fast inflate of gzip ACIs, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_ISAL_H
#define APPC_COMMON_LAZY_ISAL_H

#include <isa-l/igzip_lib.h>

#include "common/lazy.h"

#define APPC_LAZY_ISAL(X)                                                                          \
  X(isal_inflate)                                                                                  \
  X(isal_inflate_init)                                                                             \
  X(isal_inflate_reset)

APPC_LAZY_DECLARE(isal, APPC_LAZY_ISAL)

#ifndef APPC_LAZY_NO_REDIRECT
#define isal_inflate APPC_LAZY_CALL(isal, isal_inflate)
#define isal_inflate_init APPC_LAZY_CALL(isal, isal_inflate_init)
#define isal_inflate_reset APPC_LAZY_CALL(isal, isal_inflate_reset)
#endif

#endif
