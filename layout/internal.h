/* SPDX-License-Identifier: Apache-2.0 */
/* layout/: image layouts edited step by step (<appc/layout.h>). */
#ifndef APPC_LAYOUT_INTERNAL_H
#define APPC_LAYOUT_INTERNAL_H

#include "appc/layout.h"

/* The names a layout's manifest may have: one of them, never two. */
#define LAYOUT_MANIFEST "manifest"
#define LAYOUT_MANIFEST_YAML "manifest.yaml"
#define LAYOUT_MANIFEST_YML "manifest.yml"

#endif
