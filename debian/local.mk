# SPDX-License-Identifier: Apache-2.0
# debian/: Debian packages installed into a layout's rootfs (<appc/debian.h>).
libappc_a_SOURCES += debian/internal.h debian/control.c debian/resolve.c debian/deb.c \
	debian/install.c
