/* SPDX-License-Identifier: Apache-2.0 */
/* How the CLI talks to the user: errors on stderr, one line per problem. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include <json-c/json.h>

#include "actool/actool.h"

void actool_error(const char *fmt, ...)
{
  va_list ap;
  fputs("actool: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
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
  vfprintf(stderr, fmt, ap);
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
  vfprintf(stderr, fmt, ap);
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
