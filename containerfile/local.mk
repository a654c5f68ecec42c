# SPDX-License-Identifier: Apache-2.0
# containerfile/: `actool build --file=Containerfile` (<appc/containerfile.h>).
libappc_a_SOURCES += containerfile/internal.h containerfile/parse.c containerfile/words.c \
	containerfile/build.c containerfile/add.c containerfile/ignore.c
