/* SPDX-License-Identifier: Apache-2.0 */
/* How the CLI talks to the user: errors on stderr, one line per problem,
 * never a terminal's control sequence from what a server, a key or an
 * image said (actool_put_safe). */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "actool/actool.h"
#include "schema/json.h"
#include "common/utf8.h"

/* PREFIX (trusted text), S made safe, then SUFFIX, in one string: one
 * write, so that a line never interleaves with what another process writes
 * to the same log (stderr is unbuffered: fputc wrote byte by byte).  NULL
 * when out of memory. */
static char *safe_line(const char *prefix, const char *s, const char *suffix)
{
  size_t np = strlen(prefix), ns = strlen(s), nx = strlen(suffix);
  char *out = malloc(np + 4 * ns + nx + 1), *o;

  if (out == NULL)
    return NULL;
  o = mempcpy(out, prefix, np);
  for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++) {
    /* C0 controls, DEL, and C1 controls in UTF-8 (U+0080 to U+009F: 0xc2
     * 0x80 to 0xc2 0x9f; U+009B is a CSI).  Newline too: a name holding one
     * would make one problem two lines, the second a forged "actool: ..."
     * line; and tab, which is no part of a name or URL either.  Each byte
     * takes at most 4. */
    bool c1 = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f;
    if (*p < 0x20 || *p == 0x7f || c1) {
      o += sprintf(o, "\\x%02x", *p);
      if (c1)
        o += sprintf(o, "\\x%02x", *++p);
    } else {
      *o++ = (char) *p;
    }
  }
  memcpy(o, suffix, nx + 1);
  return out;
}

static void put_line(FILE *f, const char *prefix, const char *s, const char *suffix)
{
  char *line = safe_line(prefix, s, suffix);

  if (line != NULL)
    fputs(line, f);
  free(line);
}

void actool_put_safe(const char *s, FILE *f)
{
  put_line(f, "", s, "");
}

/* PREFIX, then FMT's text made safe for a terminal, and a newline, as one
 * write on stderr. */
static void vput_line(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void vput_line(const char *prefix, const char *fmt, va_list ap)
{
  char *text = NULL;

  if (vasprintf(&text, fmt, ap) < 0)
    return;
  put_line(stderr, prefix, text, "\n");
  free(text);
}

void actool_error(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vput_line("actool: ", fmt, ap);
  va_end(ap);
}

void actool_say(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vput_line("", fmt, ap);
  va_end(ap);
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
  vput_line("", fmt, ap);
  va_end(ap);
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
  char prefix[128];

  snprintf(prefix, sizeof prefix, "actool: %s%s", command != NULL ? command : "",
           command != NULL ? ": " : "");
  va_start(ap, fmt);
  vput_line(prefix, fmt, ap);
  va_end(ap);
  if (command != NULL)
    fprintf(stderr, "Run 'actool help %s' for usage.\n", command);
  else
    fprintf(stderr, "Run 'actool help' for usage.\n");
  return ACTOOL_EXIT_USAGE;
}

/* A byte that is no part of valid UTF-8 can only be in a string: json-c
 * writes all else in ASCII.  Each becomes one U+FFFD, as
 * schema/json-write.c writes them. */
void actool_put_json(const char *text)
{
  const unsigned char *s = (const unsigned char *) text;
  size_t n = strlen(text), start = 0;

  for (size_t i = 0; i < n;) {
    size_t step = appc_utf8_len(s + i, n - i);
    if (step > 0) {
      i += step;
      continue;
    }
    fwrite(text + start, 1, i - start, stdout);
    fputs("\\ufffd", stdout);
    start = ++i;
  }
  fwrite(text + start, 1, n - start, stdout);
  fputc('\n', stdout);
}

void actool_print_json(struct json_object *o)
{
  actool_put_json(json_object_to_json_string_ext(
      o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
}
