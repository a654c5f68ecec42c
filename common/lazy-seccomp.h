/* SPDX-License-Identifier: Apache-2.0 */
/* libseccomp: seccomp filters of the executor, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_SECCOMP_H
#define APPC_COMMON_LAZY_SECCOMP_H

#include <seccomp.h>

#include "common/lazy.h"

#define APPC_LAZY_SECCOMP(X)                                                                       \
  X(seccomp_api_get)                                                                               \
  X(seccomp_arch_add)                                                                              \
  X(seccomp_arch_native)                                                                           \
  X(seccomp_attr_set)                                                                              \
  X(seccomp_export_bpf)                                                                            \
  X(seccomp_init)                                                                                  \
  X(seccomp_release)                                                                               \
  X(seccomp_rule_add)                                                                              \
  X(seccomp_syscall_resolve_name)

APPC_LAZY_DECLARE(seccomp, APPC_LAZY_SECCOMP)

#ifndef APPC_LAZY_NO_REDIRECT
#define seccomp_api_get APPC_LAZY_CALL(seccomp, seccomp_api_get)
#define seccomp_arch_add APPC_LAZY_CALL(seccomp, seccomp_arch_add)
#define seccomp_arch_native APPC_LAZY_CALL(seccomp, seccomp_arch_native)
#define seccomp_attr_set APPC_LAZY_CALL(seccomp, seccomp_attr_set)
#define seccomp_export_bpf APPC_LAZY_CALL(seccomp, seccomp_export_bpf)
#define seccomp_init APPC_LAZY_CALL(seccomp, seccomp_init)
#define seccomp_release APPC_LAZY_CALL(seccomp, seccomp_release)
#define seccomp_rule_add APPC_LAZY_CALL(seccomp, seccomp_rule_add)
#define seccomp_syscall_resolve_name APPC_LAZY_CALL(seccomp, seccomp_syscall_resolve_name)
#endif

#endif
