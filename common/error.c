/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include "appc/error.h"
#include "common/error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Used when there is no memory left to format the real message. */
static char oom_message[] = "out of memory";

static appc_error *error_alloc(int errnum, char *msg)
{
  appc_error *e = malloc(sizeof *e);
  if (e == NULL) {
    free(msg);
    return NULL;
  }
  e->errnum = errnum;
  e->msg = msg != NULL ? msg : oom_message;
  return e;
}

int appc_error_makev(appc_error_t *err, int errnum, const char *fmt, va_list ap)
{
  char *body = NULL;
  char *msg = NULL;

  if (err == NULL)
    return -1;
  if (vasprintf(&body, fmt, ap) < 0)
    body = NULL;
  if (body != NULL && errnum != 0) {
    if (asprintf(&msg, "%s: %s", body, strerror(errnum)) < 0)
      msg = NULL;
    free(body);
  } else {
    msg = body;
  }
  /* A second error would leak the first: keep the first, it is the cause. */
  if (*err != NULL) {
    if (msg != oom_message)
      free(msg);
    return -1;
  }
  *err = error_alloc(errnum, msg);
  return -1;
}

int appc_error_make(appc_error_t *err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  appc_error_makev(err, errnum, fmt, ap);
  va_end(ap);
  return -1;
}

int appc_error_tag(appc_error_t *err, int errnum, const char *fmt, ...)
{
  bool first = err != NULL && *err == NULL;
  va_list ap;

  va_start(ap, fmt);
  appc_error_makev(err, 0, fmt, ap);
  va_end(ap);
  if (first && *err != NULL)
    (*err)->errnum = errnum;
  return -1;
}

int appc_error_prefix(appc_error_t *err, const char *fmt, ...)
{
  char *prefix = NULL;
  char *msg = NULL;
  va_list ap;
  int r;

  if (err == NULL || *err == NULL)
    return -1;
  va_start(ap, fmt);
  r = vasprintf(&prefix, fmt, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  if (asprintf(&msg, "%s: %s", prefix, (*err)->msg) >= 0) {
    if ((*err)->msg != oom_message)
      free((*err)->msg);
    (*err)->msg = msg;
  }
  free(prefix);
  return -1;
}

void appc_error_release(appc_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  if ((*err)->msg != oom_message)
    free((*err)->msg);
  free(*err);
  *err = NULL;
}

void appc_error_rename(appc_error_t e, const char *from, const char *to)
{
  size_t from_len = strlen(from), to_len = strlen(to), n = 0;
  char *p, *out, *w;

  if (e == NULL || e->msg == NULL || from_len == 0)
    return;

  for (p = strstr(e->msg, from); p != NULL; p = strstr(p + from_len, from))
    n++;
  if (n == 0)
    return;
  out = malloc(strlen(e->msg) + n * to_len + 1);
  if (out == NULL)
    return;
  w = out;
  for (const char *r = e->msg; *r != '\0';) {
    if (strncmp(r, from, from_len) == 0) {
      memcpy(w, to, to_len);
      w += to_len;
      r += from_len;
    } else {
      *w++ = *r++;
    }
  }
  *w = '\0';
  free(e->msg);
  e->msg = out;
}
