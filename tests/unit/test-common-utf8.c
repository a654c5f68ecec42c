/* SPDX-License-Identifier: Apache-2.0 */
/* common/utf8: valid sequences, and how the WHATWG decoder reads invalid
 * ones (one U+FFFD per maximal subpart). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tests/unit/test-util.h"

#include "common/macros.h"
#include "common/utf8.h"

#define FFFD "\xEF\xBF\xBD"

static void test_seq(void **state)
{
  (void) state;
  static const struct {
    const char *s;
    size_t len, bad;
  } cases[] = {
      {"a", 1, 0},
      {"\xC3\xA9", 2, 0},
      {"\xE2\x82\xAC", 3, 0},
      {"\xF0\x9F\x98\x80", 4, 0},
      {"\xF4\x8F\xBF\xBF", 4, 0}, /* U+10FFFF */
      {"\x80", 0, 1},             /* a continuation byte alone */
      {"\xC0\xAF", 0, 1},         /* overlong: C0 is never a lead */
      {"\xE0\x80\x80", 0, 1},     /* overlong: E0 wants A0..BF next */
      {"\xED\xA0\x80", 0, 1},     /* a surrogate: ED wants 80..9F next */
      {"\xF4\x90\x80\x80", 0, 1}, /* above U+10FFFF */
      {"\xF5\x80", 0, 1},         /* F5..FF are never leads */
      {"\xE2\x82", 0, 2},         /* cut off by the end */
      {"\xE2\x82x", 0, 2},        /* cut off by an ASCII byte */
      {"\xF0\x9F\x98x", 0, 3},
      {"\xF0\x9F\xC3\xA9", 0, 2}, /* a lead byte is no continuation */
  };

  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    size_t bad = 0;
    size_t n = appc_utf8_seq((const unsigned char *) cases[i].s, strlen(cases[i].s), &bad);
    if (n != cases[i].len || (n == 0 && bad != cases[i].bad))
      fail_msg("case %zu: length %zu, maximal subpart %zu", i, n, bad);
    assert_int_equal(appc_utf8_len((const unsigned char *) cases[i].s, strlen(cases[i].s)), n);
  }
  assert_true(appc_utf8_valid("caf\xC3\xA9 \xE2\x82\xAC"));
  assert_false(appc_utf8_valid("caf\xE9"));
}

static void test_decode_lossy(void **state)
{
  (void) state;
  size_t len;
  /* Unicode's example (Table 3-8): one U+FFFD per maximal subpart. */
  static const char in[] = "a\xF1\x80\x80\xE1\x80\xC2"
                           "b\x80"
                           "c\x80\xBF"
                           "d";
  char *out = appc_utf8_decode_lossy(in, sizeof in - 1, false, &len);
  assert_non_null(out);
  assert_string_equal(out, "a" FFFD FFFD FFFD "b" FFFD "c" FFFD FFFD "d");
  assert_int_equal(len, strlen(out));
  free(out);
  /* NUL kept, or read as U+FFFD */
  out = appc_utf8_decode_lossy("x\0y\xE9", 4, false, &len);
  assert_int_equal(len, 6);
  assert_memory_equal(out, "x\0y" FFFD, 7);
  free(out);
  out = appc_utf8_decode_lossy("x\0y\xE9", 4, true, &len);
  assert_string_equal(out, "x" FFFD "y" FFFD);
  free(out);
  /* valid text as it is */
  out = appc_utf8_decode_lossy("caf\xC3\xA9", 5, true, &len);
  assert_string_equal(out, "caf\xC3\xA9");
  free(out);
  out = appc_utf8_decode_lossy("", 0, true, &len);
  assert_string_equal(out, "");
  assert_int_equal(len, 0);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_seq),
      cmocka_unit_test(test_decode_lossy),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
