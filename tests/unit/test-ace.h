/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the executor's unit tests: collecting the notes the
 * library reports, and building isolator lists. */
#ifndef APPC_TESTS_TEST_ACE_H
#define APPC_TESTS_TEST_ACE_H

#include <stdio.h>
#include <string.h>

#include "ace/internal.h"
#include "appc/isolator.h"
#include "tests/unit/test-util.h"

struct notes_seen {
  char text[8192]; /* "I: msg\n" / "W: msg\n" */
};

static inline void collect(void *data, enum ace_note_level level, const char *msg)
{
  struct notes_seen *s = data;
  size_t n = strlen(s->text);
  snprintf(s->text + n, sizeof s->text - n, "%s: %s\n", level == ACE_NOTE_WARN ? "W" : "I", msg);
}

#define assert_note(seen, needle)                                                                  \
  do {                                                                                             \
    if (strstr((seen)->text, (needle)) == NULL)                                                    \
      fail_msg("notes\n%s do not contain \"%s\"", (seen)->text, (needle));                         \
  } while (0)

static inline void add_isolator(struct appc_isolator_list *l, const char *name, const char *json)
{
  struct appc_isolator iso = {0};
  appc_error_t err = NULL;
  assert_ok(appc_isolator_set(&iso, name, json, &err), &err);
  assert_ok(appc_isolator_list_append(l, &iso, &err), &err);
  appc_isolator_clear(&iso);
}

#endif
