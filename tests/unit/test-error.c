/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "common/error.h"
#include "tests/unit/test-util.h"

static int fail_with_path(appc_error_t *err)
{
  return appc_error_make(err, 0, "app.exec: must not be empty");
}

static void test_make_and_prefix(void **state)
{
  appc_error_t err = NULL;
  int r = fail_with_path(&err);
  assert_int_equal(r, -1);
  appc_error_prefix(&err, "%s", "manifest");
  assert_string_equal(err->msg, "manifest: app.exec: must not be empty");
  assert_int_equal(err->errnum, 0);
  appc_error_release(&err);
  assert_null(err);
}

static void test_errno_appended(void **state)
{
  cleanup_error appc_error_t err = NULL;
  appc_error_make(&err, ENOENT, "open %s", "/nonexistent");
  assert_int_equal(err->errnum, ENOENT);
  assert_non_null(strstr(err->msg, "open /nonexistent: "));
}

/* A tag is for callers to tell the error by; the message has no strerror. */
static void test_tag(void **state)
{
  cleanup_error appc_error_t err = NULL;
  assert_int_equal(appc_error_tag(&err, EEXIST, "%s: already exists", "out"), -1);
  assert_int_equal(err->errnum, EEXIST);
  assert_string_equal(err->msg, "out: already exists");
  /* a second error keeps the first, and its tag */
  appc_error_tag(&err, ENOENT, "second");
  assert_int_equal(err->errnum, EEXIST);
  assert_string_equal(err->msg, "out: already exists");
}

static void test_first_error_kept(void **state)
{
  cleanup_error appc_error_t err = NULL;
  appc_error_make(&err, 0, "first");
  appc_error_make(&err, 0, "second");
  assert_string_equal(err->msg, "first");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_make_and_prefix),
      cmocka_unit_test(test_errno_appended),
      cmocka_unit_test(test_first_error_kept),
      cmocka_unit_test(test_tag),
  };
  return cmocka_run_group_tests_name("error", tests, NULL, NULL);
}
