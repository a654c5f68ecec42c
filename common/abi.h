/* SPDX-License-Identifier: Apache-2.0 */
/* Checks at the library's entry points for versioned option structures
 * (see <appc/appc.h>). */
#ifndef APPC_COMMON_ABI_H
#define APPC_COMMON_ABI_H

#include <stddef.h>

#include "appc/error.h"

/* 0 when VERSION (a caller's structure's `version`, 0 meaning 1) is one
 * this library knows, KNOWN being the newest; else -1 with an error naming
 * the structure NAME. */
int appc_abi_check(unsigned version, unsigned known, const char *name, appc_error_t *err);

/* appc_abi_check on OPTS (may be NULL) of struct TYPE, whose version macro
 * is MACRO. */
#define APPC_ABI_CHECK(opts, type, macro, err)                                                     \
  ((opts) == NULL ? 0 : appc_abi_check((opts)->version, (macro), "struct " #type, (err)))

/* A member that a later version of an options structure added. */
struct appc_abi_member {
  const char *name;
  unsigned version; /* the first that has it */
  size_t offset, size;
};
#define APPC_ABI_MEMBER(type, member, since)                                                       \
  {                                                                                                \
#member, (since), offsetof(struct type, member), sizeof(((struct type *) 0)->member)           \
  }

/* appc_abi_check, then: every member of MEMBERS (N of them) that VERSION
 * does not cover is zero in OPTS.  A caller that sets one but leaves
 * `version` 0 (a designated initialiser) would otherwise see it ignored,
 * a requested user namespace or limit silently dropped; it is refused
 * (EINVAL) naming NAME's member and the version it needs. */
int appc_abi_check_members(const void *opts, unsigned version, unsigned known, const char *name,
                           const struct appc_abi_member *members, size_t n, appc_error_t *err);

/* appc_abi_check_members on OPTS (may be NULL) of struct TYPE, whose
 * version macro is MACRO, MEMBERS being an array of APPC_ABI_MEMBER. */
#define APPC_ABI_CHECK_MEMBERS(opts, type, macro, members, err)                                    \
  ((opts) == NULL ? 0                                                                              \
                  : appc_abi_check_members((opts), (opts)->version, (macro), #type, (members),     \
                                           sizeof(members) / sizeof *(members), (err)))

#endif
