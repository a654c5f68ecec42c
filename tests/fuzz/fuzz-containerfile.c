/* SPDX-License-Identifier: Apache-2.0 */
/* Containerfiles (containerfile/parse.c, words.c): any input parses or is
 * refused with a message naming the file and a line; a parsed file's
 * instructions have lines in order, and the words of each (split, whole,
 * and split raw for NAME=VALUE lists) come out or are refused with a
 * message, never more words than the text has characters. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "containerfile/internal.h"
#include "tests/fuzz/fuzz.h"

static void check_words(const char *text, char escape, const struct cf_vars *v, bool split)
{
  char **w = NULL;
  size_t n = 0;
  appc_error_t err = NULL;

  if (cf_words(text, escape, v, split, "C:1", &w, &n, &err) < 0) {
    if (err == NULL || strncmp(err->msg, "C:1", 3) != 0)
      fuzz_fail("words of %.200s refused without a message naming the line", text);
    appc_error_release(&err);
    return;
  }
  if (!split && n != 1)
    fuzz_fail("%.200s: %zu words where one was asked for", text, n);
  cf_words_free(w, n);
}

static void check_raw(const char *text, char escape)
{
  char **w = NULL;
  size_t n = 0;

  if (cf_split_raw(text, escape, &w, &n) < 0)
    fuzz_fail("raw split of %.200s failed", text);
  if (n > strlen(text))
    fuzz_fail("%.200s: %zu raw words", text, n);
  cf_words_free(w, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct appc_kv env_items[] = {{(char *) "A", (char *) "x y"}, {(char *) "B", (char *) "${A}"}};
  struct appc_kv_list env = {env_items, 2};
  struct cf_vars v = {.env = &env, .args = &env};
  struct cf_file f;
  appc_error_t err = NULL;
  unsigned last = 0;

  if (cf_parse((const char *) data, size, "Containerfile", &f, &err) < 0) {
    if (err == NULL || strncmp(err->msg, "Containerfile", 13) != 0)
      fuzz_fail("a Containerfile was refused without a message naming it");
    appc_error_release(&err);
    return 0;
  }
  for (size_t i = 0; i < f.len; i++) {
    const struct cf_instr *in = &f.items[i];
    if (in->line <= last)
      fuzz_fail("instruction %zu at line %u, after line %u", i, in->line, last);
    last = in->line;
    if (in->args[0] == '\0')
      fuzz_fail("instruction %zu (%s) without arguments", i, in->keyword);
    check_words(in->args, f.escape, &v, true);
    check_words(in->args, f.escape, &v, false);
    check_raw(in->args, f.escape);
  }
  cf_file_clear(&f);
  return 0;
}
