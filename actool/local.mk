# SPDX-License-Identifier: Apache-2.0
# The binary is built as actool/actool (a top-level `actool` would clash with
# this directory) and installed as $(bindir)/actool.
bin_PROGRAMS += actool/actool
actool_actool_SOURCES = \
	actool/actool.h \
	actool/options.h \
	actool/main.c \
	actool/options.c \
	actool/output.c \
	actool/commands.c \
	actool/image-io.c \
	actool/cmd-build.c \
	actool/cmd-cat-manifest.c \
	actool/cmd-help.c \
	actool/cmd-patch-manifest.c \
	actool/cmd-validate.c \
	actool/cmd-version.c \
	actool/cmd-fetch.c \
	actool/cmd-trust.c \
	actool/cmd-image.c \
	actool/cmd-image-list.c \
	actool/cmd-image-cat-manifest.c \
	actool/cmd-image-render.c \
	actool/cmd-image-extract.c \
	actool/cmd-image-export.c \
	actool/cmd-image-rm.c \
	actool/cmd-image-gc.c \
	actool/cmd-image-verify.c \
	actool/store-cli.c \
	actool/net-cli.h \
	actool/net-cli.c \
	actool/cmd-discover.c \
	actool/cmd-run.c \
	actool/pods-cli.c \
	actool/cmd-list.c \
	actool/cmd-status.c \
	actool/cmd-gc.c \
	actool/tempguard.c
actool_actool_LDADD = $(APPC_LIBS)
