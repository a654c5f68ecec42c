# SPDX-License-Identifier: Apache-2.0
# trust unit tests (owned by the trust module)
check_PROGRAMS += tests/unit/test-trust
tests_unit_test_trust_SOURCES = tests/unit/test-trust.c
tests_unit_test_trust_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_trust_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-trust
check_PROGRAMS += tests/unit/test-trust-store
tests_unit_test_trust_store_SOURCES = tests/unit/test-trust-store.c
tests_unit_test_trust_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_trust_store_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-trust-store
