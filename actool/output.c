/* SPDX-License-Identifier: Apache-2.0 */
/* How the CLI talks to the user: errors on stderr, one line per problem,
 * never a terminal's control sequence from what a server, a key or an
 * image said (actool_put_safe). */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "actool/actool.h"

void actool_put_safe(const char *s, FILE *f)
{
  for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
    /* C0 controls, DEL, and C1 controls in UTF-8 (U+0080 to U+009F: 0xc2
     * 0x80 to 0xc2 0x9f; U+009B is a CSI).  Newline too: a name holding one
     * would make one problem two lines, the second a forged "actool: ..."
     * line; and tab, which is no part of a name or URL either. */
    bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
    if (*p < 0x20 || *p == 0x7f || c1) {
      fprintf(f, "\\x%02x", *p);
      if (c1)
        fprintf(f, "\\x%02x", *++p);
    } else {
      fputc(*p, f);
    }
  }
}

/* FMT's text on stderr, what it holds made safe for a terminal. */
static void vput_safe(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static void vput_safe(const char *fmt, va_list ap)
{
  char *text = NULL;

  if (vasprintf(&text, fmt, ap) < 0)
    return;
  actool_put_safe(text, stderr);
  free(text);
}

void actool_error(const char *fmt, ...)
{
  va_list ap;
  fputs("actool: ", stderr);
  va_start(ap, fmt);
  vput_safe(fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void actool_report(appc_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  actool_error("%s", (*err)->msg);
  appc_error_release(err);
}

void actool_debug(const struct actool_globals *g, const char *fmt, ...)
{
  va_list ap;
  if (!g->debug)
    return;
  va_start(ap, fmt);
  vput_safe(fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

void actool_notify(void *data, bool warn, const char *msg)
{
  const struct actool_globals *g = data;

  if (warn)
    actool_error("%s", msg);
  else
    actool_debug(g, "%s", msg);
}

int actool_usage_error(const char *command, const char *fmt, ...)
{
  va_list ap;
  fputs("actool: ", stderr);
  if (command != NULL)
    fprintf(stderr, "%s: ", command);
  va_start(ap, fmt);
  vput_safe(fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  if (command != NULL)
    fprintf(stderr, "Run 'actool help %s' for usage.\n", command);
  else
    fprintf(stderr, "Run 'actool help' for usage.\n");
  return ACTOOL_EXIT_USAGE;
}

void actool_print_json(struct json_object *o)
{
  printf("%s\n",
         json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                               JSON_C_TO_STRING_NOSLASHESCAPE));
}
