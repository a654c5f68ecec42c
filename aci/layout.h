/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: layout helpers shared by layout.c and build.c. */
#ifndef APPC_ACI_LAYOUT_H
#define APPC_ACI_LAYOUT_H

#include <stddef.h>
#include <sys/stat.h>

#include "appc/aci.h"
#include "appc/callbacks.h"
#include "appc/error.h"

/* Check DIRFD holds a directory rootfs, a manifest and nothing else. */
int appc_layout_check_structure(int dirfd, appc_error_t *err);

/* Read DIRFD/manifest, a regular file of at most APPC_MANIFEST_MAX bytes,
 * never opening anything but a regular file.  When FD_OUT is given the open
 * descriptor is handed out (and its fstat in ST_OUT), so that metadata and
 * content come from the same file. */
int appc_layout_read_manifest(int dirfd, int *fd_out, struct stat *st_out, char **json, size_t *len,
                              appc_error_t *err);

/* The layout DIR's lock (its directory DIRFD's flock, which the layout
 * commands hold exclusive while they edit it: <appc/layout.h>) taken
 * shared, waiting for an edit under way to end (unless CB cancels), so that
 * what is read of the layout is never half an edit. */
int appc_layout_lock_shared(int dirfd, const char *dir, const struct appc_callbacks *cb,
                            appc_error_t *err);

/* appc_aci_build of a layout whose lock the caller holds already (a
 * Containerfile's build holds it exclusive throughout). */
int appc_aci_build_locked(const char *layout, const char *out,
                          const struct appc_build_options *opts,
                          char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);

#endif
