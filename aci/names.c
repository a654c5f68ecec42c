/* SPDX-License-Identifier: Apache-2.0 */
/* Archive member names: canonical forms and duplicate detection. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aci/internal.h"
#include "common/cleanup.h"

/* Append the component [s, s+n) to the canonical name being built in OUT. */
static void append_component(char *out, size_t *len, const char *s, size_t n)
{
  if (*len > 0)
    out[(*len)++] = '/';
  memcpy(out + *len, s, n);
  *len += n;
  out[*len] = '\0';
}

int appc_entry_name_canon(const char *raw, char **out, appc_error_t *err)
{
  size_t rawlen = strlen(raw);
  size_t len = 0;
  cleanup_free char *canon = malloc(rawlen + 1);

  if (canon == NULL)
    return appc_error_make(err, ENOMEM, "%s", raw);
  canon[0] = '\0';
  /* An absolute name would be extracted outside the image's root. */
  if (raw[0] == '/')
    return appc_error_make(err, 0, "%s: absolute path in image", raw);
  for (const char *p = raw; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return appc_error_make(err, 0, "%s: path escapes the image", raw);
    /* "." and empty components ("a//b", "./a", "a/") name nothing. */
    if (n > 0 && !(n == 1 && p[0] == '.'))
      append_component(canon, &len, p, n);
    p += n;
    if (*p == '/')
      p++;
  }
  *out = steal_pointer(&canon);
  return 0;
}
