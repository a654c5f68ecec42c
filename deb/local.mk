# SPDX-License-Identifier: Apache-2.0
# deb/: Debian packages installed into a layout's rootfs (<appc/debian.h>).
libappc_a_SOURCES += deb/internal.h deb/control.c deb/resolve.c deb/deb.c \
	deb/install.c
