# SPDX-License-Identifier: Apache-2.0
# schema unit tests (owned by the schema module)
check_PROGRAMS += tests/unit/test-schema-types tests/unit/test-schema-isolators \
	tests/unit/test-schema-json tests/unit/test-schema-manifest tests/unit/test-schema-patch tests/unit/test-schema-roundtrip
TESTS += tests/unit/test-schema-types tests/unit/test-schema-isolators \
	tests/unit/test-schema-json tests/unit/test-schema-manifest tests/unit/test-schema-patch tests/unit/test-schema-roundtrip
EXTRA_DIST += tests/unit/test-schema.h

tests_unit_test_schema_types_SOURCES = tests/unit/test-schema-types.c
tests_unit_test_schema_types_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_types_LDADD = $(UNIT_LDADD)

tests_unit_test_schema_isolators_SOURCES = tests/unit/test-schema-isolators.c
tests_unit_test_schema_isolators_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_isolators_LDADD = $(UNIT_LDADD)

tests_unit_test_schema_json_SOURCES = tests/unit/test-schema-json.c
tests_unit_test_schema_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_json_LDADD = $(UNIT_LDADD)

tests_unit_test_schema_manifest_SOURCES = tests/unit/test-schema-manifest.c
tests_unit_test_schema_manifest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_manifest_LDADD = $(UNIT_LDADD)

tests_unit_test_schema_patch_SOURCES = tests/unit/test-schema-patch.c
tests_unit_test_schema_patch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_patch_LDADD = $(UNIT_LDADD)

tests_unit_test_schema_roundtrip_SOURCES = tests/unit/test-schema-roundtrip.c
tests_unit_test_schema_roundtrip_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_roundtrip_LDADD = $(UNIT_LDADD)
