/* SPDX-License-Identifier: Apache-2.0 */
/* One work queue for every module: a bounded pool of worker threads that run
 * submitted items (a function and its data), in the way git's
 * run-processes and thread-utils serve git.  Parallel gzip, the parallel
 * inflate of sized gzip members, the inflate worker and the tree copy and
 * removal all run on it.
 *
 * Items are taken in the order they are submitted and numbered from 0 in
 * that order, so that a caller that needs results in order (gzip members
 * written one after the other) can wait for item N and keep its results in
 * a ring of its own.  Each item runs exactly once, or is discarded once the
 * queue is cancelled: an item that fails cancels the queue, so the first
 * error is the one reported and no more work is started after it.
 *
 * Workers start at the first submission (a queue that gets no work costs no
 * thread) with every signal blocked, so that signals keep going to the
 * caller's threads.  When no thread can be started the queue runs each
 * item in the submitting thread instead: slower, never wrong.
 *
 * One thread owns the queue: it submits, helps, waits and frees.  The
 * library never prints or exits from here; errors are appc_error_t. */
#ifndef APPC_COMMON_WORKQUEUE_H
#define APPC_COMMON_WORKQUEUE_H

#include <limits.h>
#include <stdbool.h>

#include "appc/error.h"

/* Values of appc_wq_options.threads besides a plain count. */
#define APPC_WQ_ONLINE_CPUS 0u      /* one worker per online CPU */
#define APPC_WQ_OTHER_CPUS UINT_MAX /* one per online CPU but the owner's (none on one CPU) */
#define APPC_WQ_MAX_THREADS 64u     /* no queue has more workers */
#define APPC_WQ_DEFAULT_PENDING 64u /* items waiting for a worker, by default */

/* Run one item.  WORKER is the index of the thread running it: 0 to
 * appc_wq_threads() - 1 for a worker, appc_wq_threads() for the owner (an
 * item it runs itself), so that per-thread state (a compressor, buffers) is
 * an array of appc_wq_threads() + 1 entries that needs no lock.  Returns 0,
 * or -1 with *ERR set, which cancels the queue. */
typedef int (*appc_wq_fn)(void *data, unsigned worker, appc_error_t *err);

struct appc_wq_options {
  /* Worker threads: a count, APPC_WQ_ONLINE_CPUS or APPC_WQ_OTHER_CPUS. */
  unsigned threads;
  /* At most that many workers; 0 for APPC_WQ_MAX_THREADS. */
  unsigned max_threads;
  /* Items that may wait for a worker; one more is run by the owner at
   * submission, which bounds the work in flight.  0 for the default. */
  unsigned max_pending;
  /* Releases the data of an item discarded by cancellation; NULL when
   * there is nothing to release. */
  void (*discard)(void *data);
};

struct appc_wq;

/* The number of CPUs online, at least 1. */
unsigned appc_cpus_online(void);

/* A new queue (no thread is started yet).  OPTS may be NULL for the
 * defaults: one worker per online CPU. */
int appc_wq_new(struct appc_wq **out, const struct appc_wq_options *opts, appc_error_t *err);

/* The number of workers the queue runs with (fewer may have started). */
unsigned appc_wq_threads(const struct appc_wq *wq);

/* Queue FN(DATA) as the next item.  With no worker, or as many items
 * waiting as allowed, it is run here before returning.  Returns 0, or -1
 * when the queue is cancelled (DATA was then discarded, or the item failed
 * here): appc_wq_wait() reports why. */
int appc_wq_submit(struct appc_wq *wq, appc_wq_fn fn, void *data);

/* Run the oldest waiting item in the owner's thread; false if none waits. */
bool appc_wq_help(struct appc_wq *wq);

/* Wait until item N (counted from 0 in submission order) has been run or
 * discarded; the owner does not run items meanwhile.  0, or -1 with a copy
 * of the first error when the queue has failed or been cancelled. */
int appc_wq_wait_item(struct appc_wq *wq, unsigned long long n, appc_error_t *err);

/* Run (as the owner) or wait for every item submitted so far.  0, or -1
 * with a copy of the first error when the queue has failed or been
 * cancelled.  The queue can take more items afterwards. */
int appc_wq_wait(struct appc_wq *wq, appc_error_t *err);

/* Take no more items: those waiting and those submitted later are
 * discarded; running ones finish.  Waits then fail with ECANCELED unless an
 * item failed first.  Safe from any thread, and to call more than once. */
void appc_wq_cancel(struct appc_wq *wq);

/* Whether the queue has failed or been cancelled: for long items and for
 * producers to stop early.  Cheap (an atomic load). */
bool appc_wq_cancelled(const struct appc_wq *wq);

/* Discard what still waits, let running items finish, join the workers
 * and free the queue.  Safe on NULL. */
void appc_wq_free(struct appc_wq *wq);

static inline void appc_wq_freep(struct appc_wq **wq)
{
  appc_wq_free(*wq);
}
#define cleanup_wq __attribute__((cleanup(appc_wq_freep)))

#endif
