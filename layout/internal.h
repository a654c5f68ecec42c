/* SPDX-License-Identifier: Apache-2.0 */
/* layout/: image layouts edited step by step (<appc/layout.h>). */
#ifndef APPC_LAYOUT_INTERNAL_H
#define APPC_LAYOUT_INTERNAL_H

#include "appc/layout.h"

/* The names a layout's manifest may have: one of them, never two. */
#define LAYOUT_MANIFEST "manifest"
#define LAYOUT_MANIFEST_YAML "manifest.yaml"
#define LAYOUT_MANIFEST_YML "manifest.yml"

/* Where `layout run` makes its overlay's upper layer, in the layout
 * directory (so on rootfs/'s file system); removed by the run, or, after a
 * killed one, by the next opening of the layout (which first finishes the
 * move of the changes into rootfs/ if the run was killed during it). */
#define LAYOUT_CHANGES ".run"
/* Where `layout init` makes the new layout, inside its directory, to move
 * it up when complete (layout.c). */
#define LAYOUT_INIT ".init"

/* The edited manifest, validated, as canonical JSON text. */
int layout_manifest_text(const struct appc_layout *l, char **text, size_t *len, appc_error_t *err);

/* A new, empty LAYOUT/.run (what a killed run left removed); its path. */
int layout_changes_dir(struct appc_layout *l, char **path, appc_error_t *err);
/* Remove LAYOUT/.run; ERR NULL: quietly. */
int layout_changes_remove(struct appc_layout *l, appc_error_t *err);

#endif
