/* SPDX-License-Identifier: Apache-2.0 */
/* This machine's architecture as each format spells it: appc's arch label
 * (spec/types.md), OCI's GOARCH, dpkg's architecture name.  One table, so
 * that a new machine is taught to every module at once. */
#ifndef APPC_COMMON_ARCH_H
#define APPC_COMMON_ARCH_H

struct appc_arch_names {
  const char *appc;   /* "amd64", "aarch64", "armv7l", ... */
  const char *oci;    /* "amd64", "arm64", "arm", ... */
  const char *debian; /* "amd64", "arm64", "armhf", ... */
};

/* The compiler's target; "unknown" where a format has no name for it. */
const struct appc_arch_names *appc_arch_host(void);

#endif
