/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for cmocka unit tests. */
#ifndef APPC_TESTS_TEST_UTIL_H
#define APPC_TESTS_TEST_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "appc/error.h"

/* Assert that an appc call failed and that its message contains NEEDLE. */
#define assert_error_contains(ret, errp, needle)                                                   \
  do {                                                                                             \
    assert_true((ret) < 0);                                                                        \
    assert_non_null(*(errp));                                                                      \
    if (strstr((*(errp))->msg, (needle)) == NULL)                                                  \
      fail_msg("error \"%s\" does not contain \"%s\"", (*(errp))->msg, (needle));                  \
    appc_error_release(errp);                                                                      \
  } while (0)

/* Assert that an appc call succeeded, printing the error if not. */
#define assert_ok(ret, errp)                                                                       \
  do {                                                                                             \
    if ((ret) < 0)                                                                                 \
      fail_msg("unexpected error: %s", *(errp) != NULL ? (*(errp))->msg : "(no message)");         \
  } while (0)

#endif
