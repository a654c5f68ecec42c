# SPDX-License-Identifier: Apache-2.0
# oci/: OCI and Docker images into the store as ACIs (<appc/oci.h>).
libappc_a_SOURCES += oci/internal.h oci/image.c oci/layout.c oci/blob.c oci/convert.c oci/import.c oci/archive.c oci/reference.c oci/registry.c oci/squash.c oci/export.c oci/bundle.c oci/record.c oci/platform.c
