# SPDX-License-Identifier: Apache-2.0
# The binary is built as actool/actool (a top-level `actool` would clash with
# this directory) and installed as $(bindir)/actool.  It links libappc.so.0:
# the copy in the build tree finds it beside itself through its RUNPATH
# ($ORIGIN/..); the installed copy is linked again from the same objects
# without one, and finds the installed library as any program does.
noinst_PROGRAMS += actool/actool
actool_actool_SOURCES = \
	actool/actool.h \
	actool/options.h \
	actool/main.c \
	actool/options.c \
	actool/options-dump.c \
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
	actool/cmd-image-bundle.c \
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
	actool/cmd-stop.c \
	actool/cmd-enter.c \
	actool/cmd-sign.c \
	actool/layout-cli.h \
	actool/layout-cli.c \
	actool/cmd-layout.c \
	actool/cmd-layout-init.c \
	actool/cmd-layout-copy.c \
	actool/cmd-layout-run.c \
	actool/cmd-layout-set.c \
	actool/cmd-layout-set-exec.c \
	actool/cmd-layout-label.c \
	actool/cmd-layout-annotation.c \
	actool/cmd-layout-env.c \
	actool/cmd-layout-port.c \
	actool/cmd-layout-debian.c \
	actool/cmd-layout-mount.c \
	actool/cmd-layout-isolator.c \
	actool/cmd-layout-dependency.c \
	actool/tempguard.c \
	actool/callbacks.c \
	actool/table.h actool/table.c \
	common/fs.c \
	common/array.c \
	common/suggest.c
actool_actool_LDADD = $(APPC_SONAME) $(JSONC_LIBS) $(SMARTCOLS_LIBS)
actool_actool_LDFLAGS = -Wl,-rpath,'$$ORIGIN/..'
actool/actool.install: $(actool_actool_OBJECTS) $(APPC_SONAME)
	$(AM_V_CCLD)$(LINK) $(actool_actool_OBJECTS) $(APPC_SONAME) $(JSONC_LIBS) $(SMARTCOLS_LIBS)
CLEANFILES += actool/actool.install
install-actool: actool/actool.install
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) actool/actool.install '$(DESTDIR)$(bindir)/actool'
uninstall-actool:
	rm -f '$(DESTDIR)$(bindir)/actool'
