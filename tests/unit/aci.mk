# SPDX-License-Identifier: Apache-2.0
# aci unit tests (owned by the aci module)
check_PROGRAMS += tests/unit/test-aci
tests_unit_test_aci_SOURCES = tests/unit/test-aci.c
tests_unit_test_aci_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_aci_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-aci
