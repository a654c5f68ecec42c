# SPDX-License-Identifier: Apache-2.0
libappc_a_SOURCES += store/internal.h store/private.h \
	store/store.c store/index.c store/import.c store/tree.c store/image.c \
	store/gc.c store/verify.c \
	store/whitelist.c store/render.c store/treedigest.c store/treecopy.c
