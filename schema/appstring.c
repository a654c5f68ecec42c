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

/* Decode LEN bytes of S (query-escaped) into a new string. */
static int unescape(const char *s, size_t len, char **out, const char *whole, appc_error_t *err)
{
  cleanup_free char *d = malloc(len + 1);
  size_t j = 0;

  if (d == NULL)
    return appc_error_make(err, ENOMEM, "%s", whole);
  for (size_t i = 0; i < len; i++) {
    if (s[i] == '+') {
      d[j++] = ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= len)
        return appc_error_make(err, 0, "%s: invalid escape \"%.*s\"", whole, (int) (len - i),
                               s + i);
      int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
      if (h < 0 || l < 0)
        return appc_error_make(err, 0, "%s: invalid escape \"%.3s\"", whole, s + i);
      d[j++] = (char) (h * 16 + l);
      i += 2;
    } else {
      d[j++] = s[i];
    }
  }
  d[j] = '\0';
  if (strlen(d) != j)
    return appc_error_make(err, 0, "%s: NUL byte in an escape", whole);
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
  if (unescape(part, (size_t) (eq - part), &name, whole, err) < 0)
    return -1;
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
