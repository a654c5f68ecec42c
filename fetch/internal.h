/* SPDX-License-Identifier: Apache-2.0 */
/* What fetch.c and file.c share. */
#ifndef APPC_FETCH_INTERNAL_H
#define APPC_FETCH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "appc/fetch.h"

/* O, or the defaults ({0}) for a caller that gave no options. */
static inline const struct appc_fetch_options *fetch_options(const struct appc_fetch_options *o)
{
  static const struct appc_fetch_options defaults = {0};
  return o != NULL ? o : &defaults;
}

/* How far into an image whose signature is not checked yet its manifest
 * may be (appc_aci_read_manifest_bounded), for an archive of COMPRESSED
 * bytes: other entries before it are decompressed to be skipped, and a few
 * kilobytes of bzip2 make gigabytes of zeros.  Builders put the manifest
 * first; a tar of a layout's directory may put it after the rootfs, which
 * compresses about fourfold. */
static inline uint64_t fetch_manifest_search_limit(uint64_t compressed)
{
  return (UINT64_C(64) << 20) + 32 * compressed;
}

#endif
