/* SPDX-License-Identifier: Apache-2.0 */
/* Checks at the library's entry points for versioned option structures
 * (see <appc/appc.h>). */
#ifndef APPC_COMMON_ABI_H
#define APPC_COMMON_ABI_H

#include "appc/error.h"

/* 0 when VERSION (a caller's structure's `version`, 0 meaning 1) is one
 * this library knows, KNOWN being the newest; else -1 with an error naming
 * the structure NAME. */
int appc_abi_check(unsigned version, unsigned known, const char *name, appc_error_t *err);

/* appc_abi_check on OPTS (may be NULL) of struct TYPE, whose version macro
 * is MACRO. */
#define APPC_ABI_CHECK(opts, type, macro, err)                                                     \
  ((opts) == NULL ? 0 : appc_abi_check((opts)->version, (macro), "struct " #type, (err)))

#endif
