# SPDX-License-Identifier: Apache-2.0
# store unit tests (owned by the store module)
check_PROGRAMS += tests/unit/test-store-render tests/unit/test-store-copy
tests_unit_test_store_render_SOURCES = tests/unit/test-store-render.c
tests_unit_test_store_render_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_render_LDADD = $(UNIT_LDADD)
tests_unit_test_store_copy_SOURCES = tests/unit/test-store-copy.c
tests_unit_test_store_copy_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_copy_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/test-store-render tests/unit/test-store-copy
check_PROGRAMS += tests/unit/test-store
tests_unit_test_store_SOURCES = tests/unit/test-store.c
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_store_LDADD = $(UNIT_LDADD)
# faccessat is wrapped so that two threads' gc runs interleave (test_gc_threads),
# fdopendir to look at the descriptors held meanwhile (test-cloexec.h), unlinkat
# and flock so that an import runs inside a removal
# (test_remove_unclaimed_shared_vs_first_import).
tests_unit_test_store_LDFLAGS = -Wl,--wrap=faccessat -Wl,--wrap=fdopendir -Wl,--wrap=unlinkat \
  -Wl,--wrap=flock
TESTS += tests/unit/test-store
