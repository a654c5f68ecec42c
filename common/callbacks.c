/* SPDX-License-Identifier: Apache-2.0 */
/* Calling a caller's struct appc_callbacks: see common/callbacks.h. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/callbacks.h"

void appc_cb_logv(const struct appc_callbacks *cb, const char *fmt, va_list ap)
{
  char *msg = NULL;

  if (cb == NULL || cb->log == NULL)
    return;
  if (vasprintf(&msg, fmt, ap) >= 0)
    cb->log(cb->data, msg);
  free(msg);
}

void appc_cb_log(const struct appc_callbacks *cb, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  appc_cb_logv(cb, fmt, ap);
  va_end(ap);
}

void appc_cb_notice(const struct appc_callbacks *cb, const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;
  int n;

  if (cb == NULL || (cb->notice == NULL && cb->log == NULL))
    return;
  va_start(ap, fmt);
  n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if (cb->notice != NULL)
    cb->notice(cb->data, msg);
  else
    cb->log(cb->data, msg);
  free(msg);
}
