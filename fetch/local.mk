# SPDX-License-Identifier: Apache-2.0
# fetch/: images into the store from a file, a URL or a name (<appc/fetch.h>):
# the orchestration of discovery and HTTP (discovery/), trust and the store.
libappc_a_SOURCES += fetch/fetch.c fetch/file.c fetch/internal.h
