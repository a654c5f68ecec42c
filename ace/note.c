/* SPDX-License-Identifier: Apache-2.0 */
/* Notes: what the executor did with an isolator or a volume, for the CLI to
 * show (the library itself never prints). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ace/internal.h"

void ace_note(const struct ace_notes *n, enum ace_note_level level, const char *fmt, ...)
{
  char *msg = NULL;
  va_list ap;

  if (n == NULL || n->fn == NULL)
    return;
  va_start(ap, fmt);
  /* A note is informative: without memory for it, it is simply not given. */
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg == NULL)
    return;
  n->fn(n->data, level, msg);
  free(msg);
}
