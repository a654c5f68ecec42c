/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of HTTP header values (common/header.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/header.h"

const char *appc_header_skip_ows(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

bool appc_header_is_tchar(char ch)
{
  if ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))
    return true;
  return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

char *appc_header_param_value(const char **p)
{
  const char *s = *p;
  char *buf;
  size_t n = 0;

  if (*s != '"') {
    while (appc_header_is_tchar(*s) || *s == '/' || *s == ':')
      s++;
    buf = strndup(*p, (size_t) (s - *p));
    *p = s;
    return buf;
  }
  s++;
  buf = malloc(strlen(s) + 1);
  if (buf == NULL)
    return NULL;
  while (*s != '\0' && *s != '"') {
    if (*s == '\\' && s[1] != '\0')
      s++;
    buf[n++] = *s++;
  }
  buf[n] = '\0';
  if (*s != '"') {
    free(buf);
    return NULL; /* unterminated */
  }
  *p = s + 1;
  return buf;
}

char *appc_header_media_param(const char *value, const char *name)
{
  const char *p = value != NULL ? strchr(value, ';') : NULL;
  size_t len = strlen(name);

  while (p != NULL && *p == ';') {
    p = appc_header_skip_ows(p + 1);
    const char *key = p;
    while (appc_header_is_tchar(*p))
      p++;
    size_t key_len = (size_t) (p - key);
    p = appc_header_skip_ows(p);
    if (*p != '=')
      return NULL;
    p = appc_header_skip_ows(p + 1);
    char *v = appc_header_param_value(&p);
    if (v == NULL)
      return NULL;
    if (key_len == len && strncasecmp(key, name, len) == 0)
      return v;
    free(v);
    p = appc_header_skip_ows(p);
  }
  return NULL;
}
