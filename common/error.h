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

/* Replace every FROM in the message of E (when there is one) by TO: a
 * temporary's path, gone by the time the user reads the message, by what
 * the user knows it as.  Memory short, the message stays as it is. */
void appc_error_rename(appc_error_t e, const char *from, const char *to);

#endif
