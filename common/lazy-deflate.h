/* SPDX-License-Identifier: Apache-2.0 */
/* libdeflate: parallel gzip compression of built ACIs, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_DEFLATE_H
#define APPC_COMMON_LAZY_DEFLATE_H

#include <libdeflate.h>

#include "common/lazy.h"

#define APPC_LAZY_DEFLATE(X)                                                                       \
  X(libdeflate_alloc_compressor)                                                                   \
  X(libdeflate_crc32)                                                                              \
  X(libdeflate_deflate_compress)                                                                   \
  X(libdeflate_deflate_compress_bound)                                                             \
  X(libdeflate_free_compressor)

APPC_LAZY_DECLARE(deflate, APPC_LAZY_DEFLATE)

#ifndef APPC_LAZY_NO_REDIRECT
#define libdeflate_alloc_compressor APPC_LAZY_CALL(deflate, libdeflate_alloc_compressor)
#define libdeflate_crc32 APPC_LAZY_CALL(deflate, libdeflate_crc32)
#define libdeflate_deflate_compress APPC_LAZY_CALL(deflate, libdeflate_deflate_compress)
#define libdeflate_deflate_compress_bound APPC_LAZY_CALL(deflate, libdeflate_deflate_compress_bound)
#define libdeflate_free_compressor APPC_LAZY_CALL(deflate, libdeflate_free_compressor)
#endif

#endif
