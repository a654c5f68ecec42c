# SPDX-License-Identifier: Apache-2.0
# Man pages: written once in scdoc (man/*.scd), made at build time, carried
# made in the tarball (so that only a build from git needs scdoc).
# tests/integration/man.sh checks them against the option tables.
dist_man_MANS = \
	man/actool-auth.5 \
	man/actool-build.1 \
	man/actool-cat-manifest.1 \
	man/actool-discover.1 \
	man/actool-enter.1 \
	man/actool-fetch.1 \
	man/actool-gc.1 \
	man/actool-help.1 \
	man/actool-image-bundle.1 \
	man/actool-image-cat-manifest.1 \
	man/actool-image-export.1 \
	man/actool-image-extract.1 \
	man/actool-image-gc.1 \
	man/actool-image-list.1 \
	man/actool-image-render.1 \
	man/actool-image-rm.1 \
	man/actool-image-verify.1 \
	man/actool-image.1 \
	man/actool-layout-annotation.1 \
	man/actool-layout-copy.1 \
	man/actool-layout-debian.1 \
	man/actool-layout-dependency.1 \
	man/actool-layout-env.1 \
	man/actool-layout-init.1 \
	man/actool-layout-isolator.1 \
	man/actool-layout-label.1 \
	man/actool-layout-mount.1 \
	man/actool-layout-port.1 \
	man/actool-layout-run.1 \
	man/actool-layout-set-exec.1 \
	man/actool-layout-set.1 \
	man/actool-layout.1 \
	man/actool-list.1 \
	man/actool-patch-manifest.1 \
	man/actool-run.1 \
	man/actool-sign.1 \
	man/actool-status.1 \
	man/actool-stop.1 \
	man/actool-store.5 \
	man/actool-trust.1 \
	man/actool-validate.1 \
	man/actool-version.1 \
	man/actool.1
EXTRA_DIST += $(dist_man_MANS:=.scd)
MAINTAINERCLEANFILES = $(dist_man_MANS)
SUFFIXES = .scd
.scd:
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	if test -z "$(SCDOC)"; then echo "scdoc is needed to make $@ (apt-get install scdoc)" >&2; exit 1; fi && \
	$(SCDOC) <$< >$@.tmp && mv $@.tmp $@

# The documents, beside README.md and LICENSE.
dist_doc_DATA = README.md LICENSE
docsdir = $(docdir)/docs
docs_DATA = docs/api.md docs/authoring.md docs/conformance.md docs/design.md docs/discovery.md \
	docs/executor.md docs/fuzzing.md docs/oci.md docs/render.md docs/store.md docs/trust.md
