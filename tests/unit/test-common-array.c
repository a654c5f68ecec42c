/* SPDX-License-Identifier: Apache-2.0 */
/* common/array: room made by doubling, contents kept, overflow refused. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "tests/unit/test-util.h"

#include "common/array.h"

static void test_reserve(void **state)
{
  long *v = NULL;
  size_t cap = 0, reallocs = 0, last_cap = 0;
  (void) state;

  for (size_t i = 0; i < 10000; i++) {
    assert_int_equal(APPC_ARRAY_RESERVE(v, cap, i + 1), 0);
    assert_true(cap >= i + 1);
    if (cap != last_cap) {
      reallocs++;
      last_cap = cap;
    }
    v[i] = (long) i * 3;
  }
  for (size_t i = 0; i < 10000; i++)
    assert_int_equal(v[i], (long) i * 3);
  /* Doubling from 8: 8, 16, ..., 16384. */
  assert_int_equal(reallocs, 12);
  assert_int_equal(cap, 16384);
  /* Enough room already: nothing changes. */
  long *same = v;
  assert_int_equal(APPC_ARRAY_RESERVE(v, cap, 100), 0);
  assert_ptr_equal(v, same);
  /* Overflow of the byte count: refused, the array kept. */
  errno = 0;
  assert_int_equal(APPC_ARRAY_RESERVE(v, cap, SIZE_MAX / 4), -1);
  assert_int_equal(errno, ENOMEM);
  assert_ptr_equal(v, same);
  assert_int_equal(cap, 16384);
  free(v);
  /* An empty reservation still gives an array (Go's empty, not nil, slice). */
  v = NULL;
  cap = 0;
  assert_int_equal(APPC_ARRAY_RESERVE(v, cap, 0), 0);
  assert_non_null(v);
  free(v);
}

static void test_extend(void **state)
{
  char **v = NULL;
  size_t len = 0;
  (void) state;

  for (; len < 1000; len++) {
    assert_int_equal(APPC_ARRAY_EXTEND(v, len, 1), 0);
    v[len] = (char *) (uintptr_t) (len + 1);
  }
  for (size_t i = 0; i < len; i++)
    assert_true(v[i] == (char *) (uintptr_t) (i + 1));
  /* An allocation of exactly LEN elements made elsewhere is extended. */
  char **exact = malloc(3 * sizeof *exact);
  assert_non_null(exact);
  assert_int_equal(APPC_ARRAY_EXTEND(exact, 3, 2), 0);
  exact[4] = NULL; /* in bounds: ASan and valgrind would say otherwise */
  free(exact);
  errno = 0;
  assert_int_equal(APPC_ARRAY_EXTEND(v, len, SIZE_MAX), -1);
  assert_int_equal(errno, ENOMEM);
  assert_true(v[999] == (char *) (uintptr_t) 1000);
  free(v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reserve),
      cmocka_unit_test(test_extend),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
