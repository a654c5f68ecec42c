# SPDX-License-Identifier: Apache-2.0
# ace/metadata: the metadata service (libmicrohttpd), shared by the pods of a
# store (mds.c), and its unit tests.
libappc_a_SOURCES += ace/metadata.c ace/mds.c
check_PROGRAMS += tests/unit/test-ace-metadata
tests_unit_test_ace_metadata_SOURCES = tests/unit/test-ace-metadata.c
tests_unit_test_ace_metadata_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_metadata_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-metadata
