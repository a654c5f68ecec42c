/* SPDX-License-Identifier: Apache-2.0 */
/* "NAME[,LABEL=VALUE...]": how users name an image on the command line
 * (fetch, discover, and every store command taking IMAGE).
 *
 * As in the reference's discovery.NewAppFromString, which query-escapes
 * every value before reading the string as a URL query: the image name and
 * label values are literal ("1.0.0+git" stays, "%20" is three characters),
 * label names are percent-decoded with '+' for a space, every term needs a
 * '=' (an empty term such as "a,,b" is an error), "name" cannot be a label,
 * and a label given twice is an error.  "NAME:VERSION" is short for
 * "NAME,version=VERSION". */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "schema/internal.h"
#include "schema/json.h"
#include "appc/schema.h"

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* url.QueryUnescape: '+' is a space, %XX a byte.  "%00" is refused: the
 * result is a C string, which the NUL would silently cut short (the
 * reference keeps the NUL, and then refuses the name or key holding it). */
int appc_query_unescape(const char *s, size_t len, char **out, appc_error_t *err)
{
  cleanup_free char *d = malloc(len + 1);
  size_t j = 0;

  if (d == NULL)
    return appc_error_make(err, ENOMEM, "unescaping \"%.*s\"", (int) len, s);
  for (size_t i = 0; i < len; i++) {
    if (s[i] != '%') {
      d[j++] = s[i] == '+' ? ' ' : s[i];
      continue;
    }
    int h = i + 2 < len ? hexval(s[i + 1]) : -1, l = i + 2 < len ? hexval(s[i + 2]) : -1;
    if (h < 0 || l < 0)
      return appc_error_make(err, 0, "invalid URL escape \"%.*s\"",
                             (int) (len - i < 3 ? len - i : 3), s + i);
    if (h == 0 && l == 0)
      return appc_error_make(err, 0, "%%00 (a NUL byte) is not allowed");
    d[j++] = (char) (h << 4 | l);
    i += 2;
  }
  d[j] = '\0';
  *out = steal_pointer(&d);
  return 0;
}

static int add_label(struct appc_kv_list *labels, const char *part, size_t len, const char *whole,
                     appc_error_t *err)
{
  const char *eq = memchr(part, '=', len);
  cleanup_free char *name = NULL;
  cleanup_free char *value = NULL;

  if (eq == NULL)
    return appc_error_make(err, 0, "%s: label \"%.*s\" is not LABEL=VALUE", whole, (int) len, part);
  if (appc_query_unescape(part, (size_t) (eq - part), &name, err) < 0)
    return appc_error_prefix(err, "%s: label name \"%.*s\"", whole, (int) (eq - part), part);
  value = strndup(eq + 1, len - (size_t) (eq - part) - 1);
  if (value == NULL)
    return appc_error_make(err, ENOMEM, "%s", whole);
  if (strcmp(name, "name") == 0)
    return appc_error_make(err, 0, "%s: \"name\" cannot be used as a label", whole);
  if (appc_validate_acidentifier(name, err) < 0)
    return appc_error_prefix(err, "%s: label name", whole);
  for (size_t i = 0; i < labels->len; i++)
    if (strcmp(labels->items[i].name, name) == 0)
      return appc_error_make(err, 0, "%s: label \"%s\" given more than once", whole, name);
  if (APPC_ARRAY_EXTEND(labels->items, labels->len, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", whole);
  labels->items[labels->len].name = steal_pointer(&name);
  labels->items[labels->len].value = steal_pointer(&value);
  labels->len++;
  return 0;
}

/* "NAME:VERSION[,...]" is short for "NAME,version=VERSION[,...]": one colon
 * at most, and only in the part before the first comma. */
static int parse_version_suffix(const char *s, const char *comma, size_t *name_len,
                                struct appc_kv_list *labels, appc_error_t *err)
{
  const char *colon = strchr(s, ':');
  cleanup_free char *term = NULL;

  if (colon == NULL)
    return 0;
  if (strchr(colon + 1, ':') != NULL)
    return appc_error_make(err, 0, "%s: a colon may appear at most once", s);
  if (comma != NULL && colon > comma)
    return appc_error_make(err, 0, "%s: a colon may appear only right after the image name", s);
  *name_len = (size_t) (colon - s);
  size_t vlen = comma != NULL ? (size_t) (comma - colon - 1) : strlen(colon + 1);
  if (asprintf(&term, "version=%.*s", (int) vlen, colon + 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", s);
  return add_label(labels, term, strlen(term), s, err);
}

static int parse(const char *s, char **name, struct appc_kv_list *labels, appc_error_t *err)
{
  const char *comma = strchr(s, ',');
  size_t name_len = comma != NULL ? (size_t) (comma - s) : strlen(s);

  if (parse_version_suffix(s, comma, &name_len, labels, err) < 0)
    return -1;
  if (name_len == 0)
    return appc_error_make(err, 0, "%s: no image name", s);
  *name = strndup(s, name_len);
  if (*name == NULL)
    return appc_error_make(err, ENOMEM, "%s", s);
  if (appc_validate_acidentifier(*name, err) < 0)
    return appc_error_prefix(err, "%s: image name", s);
  while (comma != NULL) {
    const char *part = comma + 1;
    comma = strchr(part, ',');
    size_t len = comma != NULL ? (size_t) (comma - part) : strlen(part);
    if (add_label(labels, part, len, s, err) < 0)
      return -1;
  }
  return 0;
}

int appc_app_string_parse(const char *s, char **name, struct appc_kv_list *labels,
                          appc_error_t *err)
{
  *name = NULL;
  memset(labels, 0, sizeof *labels);
  if (parse(s, name, labels, err) < 0) {
    free(*name);
    *name = NULL;
    appc_kv_list_clear(labels);
    return -1;
  }
  return 0;
}
