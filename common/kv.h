/* SPDX-License-Identifier: Apache-2.0 */
/* Lookups in name/value lists (labels, annotations, environments). */
#ifndef APPC_COMMON_KV_H
#define APPC_COMMON_KV_H

#include "appc/manifest.h"

/* The value of the first pair of KV (may be NULL) named NAME, or NULL. */
const char *appc_kv_get(const struct appc_kv_list *kv, const char *name);

#endif
