/* SPDX-License-Identifier: Apache-2.0 */
/* Shared helpers for cmocka unit tests. */
#ifndef APPC_TESTS_TEST_UTIL_H
#define APPC_TESTS_TEST_UTIL_H

#include <errno.h>
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

/* Assert that an appc call failed with the condition TAG (its errnum) for callers to
 * tell, a message naming NEEDLE and no command-line flag (the library knows
 * none; actool adds which option changes the condition). */
#define assert_tagged_error(ret, errp, tag, needle)                                                \
  do {                                                                                             \
    assert_true((ret) < 0);                                                                        \
    assert_non_null(*(errp));                                                                      \
    assert_int_equal((*(errp))->errnum, (tag));                                                    \
    if (strstr((*(errp))->msg, "--") != NULL)                                                      \
      fail_msg("error \"%s\" names a command-line flag", (*(errp))->msg);                          \
    assert_error_contains(-1, errp, needle);                                                       \
  } while (0)

/* An appc call refused to replace an existing output (actool adds "use
 * --overwrite"). */
#define assert_refuses_existing(ret, errp, needle) assert_tagged_error(ret, errp, EEXIST, needle)

/* Assert that an appc call succeeded, printing the error if not. */
#define assert_ok(ret, errp)                                                                       \
  do {                                                                                             \
    if ((ret) < 0)                                                                                 \
      fail_msg("unexpected error: %s", *(errp) != NULL ? (*(errp))->msg : "(no message)");         \
  } while (0)

#endif
