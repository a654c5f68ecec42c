# SPDX-License-Identifier: Apache-2.0
# Fuzz targets (tests/fuzz/fuzz-*.c): one per parser of untrusted input.
#
# In the ordinary builds each target is linked with standalone.c and
# tests/fuzz/replay.sh runs it over its seeds and every regression input, so
# that `make check` (plain and sanitizers) keeps them passing.  Configured
# with --enable-fuzzing (scripts/fuzz, clang), they are linked with libFuzzer
# instead and built by `make fuzz-targets`.
FUZZ_TARGETS = \
	tests/fuzz/fuzz-manifest \
	tests/fuzz/fuzz-patch \
	tests/fuzz/fuzz-appstring \
	tests/fuzz/fuzz-discovery-html \
	tests/fuzz/fuzz-discovery-link \
	tests/fuzz/fuzz-aci \
	tests/fuzz/fuzz-render \
	tests/fuzz/fuzz-store-record \
	tests/fuzz/fuzz-env-file \
	tests/fuzz/fuzz-auth \
	tests/fuzz/fuzz-keystore \
	tests/fuzz/fuzz-metadata \
	tests/fuzz/fuzz-oci \
	tests/fuzz/fuzz-oci-layer \
	tests/fuzz/fuzz-oci-archive \
	tests/fuzz/fuzz-registry \
	tests/fuzz/fuzz-yaml \
	tests/fuzz/fuzz-containerfile \
	tests/fuzz/fuzz-containerignore \
	tests/fuzz/fuzz-openpgp \
	tests/fuzz/fuzz-debian-control \
	tests/fuzz/fuzz-deb \
	tests/fuzz/fuzz-device \
	tests/fuzz/fuzz-metadata-wire

noinst_LIBRARIES += tests/fuzz/libfuzzcommon.a
tests_fuzz_libfuzzcommon_a_SOURCES = tests/fuzz/fuzz-common.c tests/fuzz/fuzz.h
if FUZZING
FUZZER_FLAGS = -fsanitize=fuzzer
else
tests_fuzz_libfuzzcommon_a_SOURCES += tests/fuzz/standalone.c
FUZZER_FLAGS =
endif
FUZZ_LIBS = tests/fuzz/libfuzzcommon.a $(APPC_LIBS) $(APPC_DIRECT_LIBS)

.PHONY: fuzz-targets
fuzz-targets: $(FUZZ_TARGETS)

check_PROGRAMS += $(FUZZ_TARGETS)
TESTS += tests/fuzz/replay.sh
EXTRA_DIST += tests/fuzz/replay.sh tests/fuzz/targets tests/fuzz/make-seeds.py tests/fuzz/corpus tests/fuzz/dict tests/fuzz/options \
	tests/fuzz/regressions

tests_fuzz_fuzz_manifest_SOURCES = tests/fuzz/fuzz-manifest.c
tests_fuzz_fuzz_manifest_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_manifest_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_patch_SOURCES = tests/fuzz/fuzz-patch.c
tests_fuzz_fuzz_patch_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_patch_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_appstring_SOURCES = tests/fuzz/fuzz-appstring.c
tests_fuzz_fuzz_appstring_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_appstring_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_discovery_html_SOURCES = tests/fuzz/fuzz-discovery-html.c
tests_fuzz_fuzz_discovery_html_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_discovery_html_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_discovery_link_SOURCES = tests/fuzz/fuzz-discovery-link.c
tests_fuzz_fuzz_discovery_link_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_discovery_link_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_aci_SOURCES = tests/fuzz/fuzz-aci.c
tests_fuzz_fuzz_aci_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_aci_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_render_SOURCES = tests/fuzz/fuzz-render.c
tests_fuzz_fuzz_render_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_render_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_store_record_SOURCES = tests/fuzz/fuzz-store-record.c
tests_fuzz_fuzz_store_record_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_store_record_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_env_file_SOURCES = tests/fuzz/fuzz-env-file.c
tests_fuzz_fuzz_env_file_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_env_file_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_auth_SOURCES = tests/fuzz/fuzz-auth.c
tests_fuzz_fuzz_auth_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_auth_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_keystore_SOURCES = tests/fuzz/fuzz-keystore.c
tests_fuzz_fuzz_keystore_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_keystore_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_metadata_SOURCES = tests/fuzz/fuzz-metadata.c
tests_fuzz_fuzz_metadata_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_metadata_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_oci_SOURCES = tests/fuzz/fuzz-oci.c
tests_fuzz_fuzz_oci_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_oci_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_oci_layer_SOURCES = tests/fuzz/fuzz-oci-layer.c
tests_fuzz_fuzz_oci_layer_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_oci_layer_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_oci_archive_SOURCES = tests/fuzz/fuzz-oci-archive.c
tests_fuzz_fuzz_oci_archive_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_oci_archive_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_registry_SOURCES = tests/fuzz/fuzz-registry.c
tests_fuzz_fuzz_registry_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_registry_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_yaml_SOURCES = tests/fuzz/fuzz-yaml.c
tests_fuzz_fuzz_yaml_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_yaml_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_containerfile_SOURCES = tests/fuzz/fuzz-containerfile.c
tests_fuzz_fuzz_containerfile_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_containerfile_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_containerignore_SOURCES = tests/fuzz/fuzz-containerignore.c
tests_fuzz_fuzz_containerignore_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_containerignore_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_openpgp_SOURCES = tests/fuzz/fuzz-openpgp.c
tests_fuzz_fuzz_openpgp_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_openpgp_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_debian_control_SOURCES = tests/fuzz/fuzz-debian-control.c
tests_fuzz_fuzz_debian_control_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_debian_control_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_deb_SOURCES = tests/fuzz/fuzz-deb.c
tests_fuzz_fuzz_deb_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_deb_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_device_SOURCES = tests/fuzz/fuzz-device.c
tests_fuzz_fuzz_device_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_device_LDFLAGS = $(FUZZER_FLAGS)
tests_fuzz_fuzz_metadata_wire_SOURCES = tests/fuzz/fuzz-metadata-wire.c
tests_fuzz_fuzz_metadata_wire_LDADD = $(FUZZ_LIBS)
tests_fuzz_fuzz_metadata_wire_LDFLAGS = $(FUZZER_FLAGS)
