# SPDX-License-Identifier: Apache-2.0
# aci unit tests (owned by the aci module)
check_PROGRAMS += tests/unit/test-aci
tests_unit_test_aci_SOURCES = tests/unit/test-aci.c
tests_unit_test_aci_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_aci_LDADD = $(UNIT_LDADD)
# fdopendir is wrapped to look at the descriptors held meanwhile (test-cloexec.h).
tests_unit_test_aci_LDFLAGS = -Wl,--wrap=fdopendir
TESTS += tests/unit/test-aci
