# SPDX-License-Identifier: Apache-2.0
# ace/identity: user and group resolution, the app's environment, pod
# UUIDs and notes, with their unit tests.
libappc_a_SOURCES += ace/identity.c ace/env.c ace/uuid.c ace/note.c

check_PROGRAMS += tests/unit/test-ace-identity
tests_unit_test_ace_identity_SOURCES = tests/unit/test-ace-identity.c
tests_unit_test_ace_identity_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ace_identity_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-ace-identity
