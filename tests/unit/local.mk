# SPDX-License-Identifier: Apache-2.0
# Unit tests: one cmocka program per module area, all linked against libappc.
UNIT_LDADD = $(APPC_LIBS) $(APPC_DIRECT_LIBS) $(CMOCKA_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
EXTRA_DIST += tests/unit/test-util.h tests/unit/test-scratch.h tests/unit/test-ace.h tests/unit/test-store-by-path.h \
  tests/unit/test-cloexec.h

check_PROGRAMS += tests/unit/test-error
tests_unit_test_error_SOURCES = tests/unit/test-error.c
tests_unit_test_error_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_error_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-error

check_PROGRAMS += tests/unit/test-common-fs
tests_unit_test_common_fs_SOURCES = tests/unit/test-common-fs.c
tests_unit_test_common_fs_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_fs_LDADD = $(UNIT_LDADD)
# openat is wrapped so that the test can take O_TMPFILE away.
tests_unit_test_common_fs_LDFLAGS = -Wl,--wrap=openat
TESTS += tests/unit/test-common-fs

check_PROGRAMS += tests/unit/test-common-hashmap
tests_unit_test_common_hashmap_SOURCES = tests/unit/test-common-hashmap.c
tests_unit_test_common_hashmap_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_hashmap_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-common-hashmap

check_PROGRAMS += tests/unit/test-common-array
tests_unit_test_common_array_SOURCES = tests/unit/test-common-array.c
tests_unit_test_common_array_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_array_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-common-array

check_PROGRAMS += tests/unit/test-common-suggest
tests_unit_test_common_suggest_SOURCES = tests/unit/test-common-suggest.c
tests_unit_test_common_suggest_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_suggest_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-common-suggest

check_PROGRAMS += tests/unit/test-common-utf8
tests_unit_test_common_utf8_SOURCES = tests/unit/test-common-utf8.c
tests_unit_test_common_utf8_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_utf8_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-common-utf8

check_PROGRAMS += tests/unit/test-lazy
tests_unit_test_lazy_SOURCES = tests/unit/test-lazy.c
tests_unit_test_lazy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_lazy_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-lazy

# pthread_create is wrapped so that the test can make it fail.
check_PROGRAMS += tests/unit/test-common-workqueue
tests_unit_test_common_workqueue_SOURCES = tests/unit/test-common-workqueue.c
tests_unit_test_common_workqueue_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_common_workqueue_LDFLAGS = -Wl,--wrap=pthread_create
tests_unit_test_common_workqueue_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-common-workqueue

check_PROGRAMS += tests/unit/test-oci
tests_unit_test_oci_SOURCES = tests/unit/test-oci.c
tests_unit_test_oci_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_oci_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-oci

check_PROGRAMS += tests/unit/test-schema-yaml
tests_unit_test_schema_yaml_SOURCES = tests/unit/test-schema-yaml.c
tests_unit_test_schema_yaml_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_schema_yaml_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-schema-yaml

check_PROGRAMS += tests/unit/test-containerfile
tests_unit_test_containerfile_SOURCES = tests/unit/test-containerfile.c
tests_unit_test_containerfile_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_containerfile_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-containerfile

check_PROGRAMS += tests/unit/test-debian
tests_unit_test_debian_SOURCES = tests/unit/test-debian.c
tests_unit_test_debian_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_debian_LDADD = $(UNIT_LDADD)
# The version comparisons are wrapped so that the test can count them.
tests_unit_test_debian_LDFLAGS = -Wl,--wrap=deb_version_compare -Wl,--wrap=deb_version_satisfies
TESTS += tests/unit/test-debian
