// SPDX-License-Identifier: Apache-2.0
/* Library-internal additions to <appc/error.h>. */
#ifndef APPC_COMMON_ERROR_H
#define APPC_COMMON_ERROR_H

#include "appc/error.h"

/* As appc_error_make, but ERRNUM only tags the error, for callers to tell
 * the condition by (EEXIST: an output exists and replacing it was not asked
 * for): its strerror text is not appended, the message says it all. */
int appc_error_tag(appc_error_t *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
