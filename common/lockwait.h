/* SPDX-License-Identifier: Apache-2.0 */
/* Waiting for a lock another process holds, and saying so: flock records
 * no owner, so who holds it comes from /proc/locks. */
#ifndef APPC_COMMON_LOCKWAIT_H
#define APPC_COMMON_LOCKWAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "appc/callbacks.h"

/* As appc_flock, but when the lock is held by another process, CB's notice
 * says first that this waits for what FMT formats ("the store's lock
 * (%s/lock)"), and who holds it when /proc/locks tells (appc_lock_holder);
 * nothing is said (or formatted) when the lock is free.  A wait that a
 * signal interrupts once CB says the work is cancelled fails (ECANCELED). */
int appc_flock_noting(int fd, int op, const struct appc_callbacks *cb, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* As appc_flock_noting, but trying the lock again every 50 ms rather than
 * blocking, so that the wait ends, failing, as soon as CB says the work
 * is cancelled (ECANCELED) or EXPIRED(ARG) (when not NULL) that its time
 * is up (ETIMEDOUT): for a wait bound by a deadline. */
int appc_flock_until(int fd, int op, const struct appc_callbacks *cb,
                     bool (*expired)(const void *arg), const void *arg, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The process (not this one) holding a lock (flock, POSIX or OFD) on FD's file, from
 * /proc/locks, since flock records no owner: its PID, with its name (comm)
 * in NAME when readable ("" else), and in *OTHERS how many more processes
 * hold one; 0 when none can be told (no /proc, the holder in another PID
 * namespace, a file system that /proc/locks names otherwise). */
pid_t appc_lock_holder(int fd, char *name, size_t size, unsigned *others);

#endif
