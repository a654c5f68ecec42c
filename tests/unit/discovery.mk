# SPDX-License-Identifier: Apache-2.0
# discovery unit tests (owned by the discovery module)
check_PROGRAMS += tests/unit/test-discovery
tests_unit_test_discovery_SOURCES = tests/unit/test-discovery.c
tests_unit_test_discovery_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_discovery_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-discovery

# fetch/ (the orchestration of discovery, trust and the store)
check_PROGRAMS += tests/unit/test-fetch
tests_unit_test_fetch_SOURCES = tests/unit/test-fetch.c
tests_unit_test_fetch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fetch_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-fetch
