/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: layout helpers shared by layout.c and build.c. */
#ifndef APPC_ACI_LAYOUT_H
#define APPC_ACI_LAYOUT_H

#include <stddef.h>
#include <sys/stat.h>

#include "appc/error.h"

/* Check DIRFD holds a directory rootfs, a manifest and nothing else. */
int appc_layout_check_structure(int dirfd, appc_error_t *err);

/* Read DIRFD/manifest, a regular file of at most APPC_MANIFEST_MAX bytes,
 * never opening anything but a regular file.  When FD_OUT is given the open
 * descriptor is handed out (and its fstat in ST_OUT), so that metadata and
 * content come from the same file. */
int appc_layout_read_manifest(int dirfd, int *fd_out, struct stat *st_out, char **json, size_t *len,
                              appc_error_t *err);

#endif
