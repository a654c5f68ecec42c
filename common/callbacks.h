/* SPDX-License-Identifier: Apache-2.0 */
/* Calling a caller's struct appc_callbacks (<appc/callbacks.h>): each helper
 * takes a possibly NULL structure with possibly NULL members. */
#ifndef APPC_COMMON_CALLBACKS_H
#define APPC_COMMON_CALLBACKS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "appc/callbacks.h"

static inline bool appc_cb_cancelled(const struct appc_callbacks *cb)
{
  return cb != NULL && cb->cancelled != NULL && cb->cancelled(cb->data);
}

static inline void appc_cb_progress(const struct appc_callbacks *cb, enum appc_progress_op op,
                                    const char *what, uint64_t done, uint64_t total)
{
  if (cb == NULL)
    return;
  if (cb->progress_op != NULL)
    cb->progress_op(cb->data, op, what, done, total);
  else if (cb->progress != NULL)
    cb->progress(cb->data, what, done, total);
}

/* Format and pass a line to cb->log; nothing is formatted without one. */
void appc_cb_log(const struct appc_callbacks *cb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void appc_cb_logv(const struct appc_callbacks *cb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Format and pass a line to cb->notice, or to cb->log without one. */
void appc_cb_notice(const struct appc_callbacks *cb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
