/* SPDX-License-Identifier: Apache-2.0 */
/* This machine's architecture in appc's, OCI's and dpkg's spellings. */
#include "config.h"

#include "common/arch.h"

static const struct appc_arch_names host = {
#if defined(__x86_64__)
    "amd64",
    "amd64",
    "amd64",
#elif defined(__i386__)
    "i386",
    "386",
    "i386",
#elif defined(__aarch64__) && defined(__AARCH64EB__)
    "aarch64_be",
    "arm64",
    "unknown",
#elif defined(__aarch64__)
    "aarch64",
    "arm64",
    "arm64",
#elif defined(__arm__)
    "armv7l",
    "arm",
    "armhf",
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    "ppc64le",
    "ppc64le",
    "ppc64el",
#elif defined(__powerpc64__)
    "ppc64",
    "unknown",
    "ppc64",
#elif defined(__s390x__)
    "s390x",
    "s390x",
    "s390x",
#elif defined(__riscv) && __riscv_xlen == 64
    "unknown",
    "riscv64",
    "riscv64",
#else
    "unknown",
    "unknown",
    "unknown",
#endif
};

const struct appc_arch_names *appc_arch_host(void)
{
  return &host;
}
