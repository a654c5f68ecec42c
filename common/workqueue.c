/* SPDX-License-Identifier: Apache-2.0 */
/* The work queue: a ring of waiting items under one mutex, worker threads
 * that take them in order, and a list of the items being run so that the
 * owner can tell when a given item is finished.  See workqueue.h. */
#include "config.h"

#include "common/error.h"
#include "common/workqueue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct wq_item {
  appc_wq_fn fn;
  void *data;
  unsigned long long seq; /* its number, in submission order */
};

/* An item being run, on the stack of the thread running it. */
struct wq_run {
  unsigned long long seq;
  struct wq_run *next;
};

struct wq_worker {
  struct appc_wq *wq;
  unsigned index;
};

struct appc_wq {
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* an item waits, or the workers must exit */
  pthread_cond_t done_cv; /* an item finished, while the owner waits */
  struct wq_item *ring;   /* waiting items: ring[head], ... (count of them) */
  unsigned cap, head, count;
  unsigned long long submitted; /* items numbered so far */
  struct wq_run *running;
  unsigned idle;    /* workers waiting on work_cv */
  unsigned waiters; /* threads waiting on done_cv */
  bool stopping;    /* appc_wq_free: workers exit once nothing waits */
  atomic_bool cancelled;
  appc_error_t err; /* the first error of an item */
  void (*discard)(void *data);
  unsigned threads; /* workers wanted */
  /* The owner's alone: */
  bool start_tried;
  unsigned started;
  pthread_t *tids;
  struct wq_worker *workers;
};

unsigned appc_cpus_online(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (unsigned) n : 1;
}

static unsigned plan_threads(const struct appc_wq_options *o)
{
  unsigned max = o->max_threads > 0 && o->max_threads < APPC_WQ_MAX_THREADS ? o->max_threads
                                                                            : APPC_WQ_MAX_THREADS;
  unsigned n = o->threads;

  if (n == APPC_WQ_ONLINE_CPUS)
    n = appc_cpus_online();
  else if (n == APPC_WQ_OTHER_CPUS)
    n = appc_cpus_online() - 1;
  return n < max ? n : max;
}

int appc_wq_new(struct appc_wq **out, const struct appc_wq_options *opts, appc_error_t *err)
{
  static const struct appc_wq_options defaults = {0};
  const struct appc_wq_options *o = opts != NULL ? opts : &defaults;
  struct appc_wq *wq = calloc(1, sizeof *wq);

  if (wq == NULL)
    return appc_error_make(err, ENOMEM, "work queue");
  wq->cap = o->max_pending > 0 ? o->max_pending : APPC_WQ_DEFAULT_PENDING;
  wq->ring = malloc(wq->cap * sizeof *wq->ring);
  if (wq->ring == NULL) {
    free(wq);
    return appc_error_make(err, ENOMEM, "work queue");
  }
  wq->threads = plan_threads(o);
  wq->discard = o->discard;
  atomic_init(&wq->cancelled, false);
  pthread_mutex_init(&wq->mu, NULL);
  pthread_cond_init(&wq->work_cv, NULL);
  pthread_cond_init(&wq->done_cv, NULL);
  *out = wq;
  return 0;
}

unsigned appc_wq_threads(const struct appc_wq *wq)
{
  return wq->threads;
}

bool appc_wq_cancelled(const struct appc_wq *wq)
{
  return atomic_load(&wq->cancelled);
}

/* Keep the first error (it is the cause) and stop taking items. */
static void fail_locked(struct appc_wq *wq, appc_error_t *err)
{
  if (*err == NULL)
    appc_error_make(err, 0, "work item failed"); /* a function that forgot to say why */
  if (wq->err == NULL) {
    wq->err = *err;
    *err = NULL;
  }
  appc_error_release(err);
  atomic_store(&wq->cancelled, true);
}

/* Run ITEM (or discard it, once cancelled) in the calling thread, as thread
 * WORKER.  Called and returning with mu held; -1 when discarded or failed. */
static int run_locked(struct appc_wq *wq, const struct wq_item *item, unsigned worker)
{
  struct wq_run run = {.seq = item->seq, .next = wq->running};
  bool cancelled = atomic_load(&wq->cancelled);
  appc_error_t err = NULL;
  int r = -1;

  wq->running = &run;
  pthread_mutex_unlock(&wq->mu);
  if (!cancelled)
    r = item->fn(item->data, worker, &err);
  else if (wq->discard != NULL)
    wq->discard(item->data);
  pthread_mutex_lock(&wq->mu);
  for (struct wq_run **p = &wq->running; *p != NULL; p = &(*p)->next) {
    if (*p == &run) {
      *p = run.next;
      break;
    }
  }
  if (!cancelled && r < 0)
    fail_locked(wq, &err);
  if (wq->waiters > 0)
    pthread_cond_broadcast(&wq->done_cv);
  return r < 0 ? -1 : 0;
}

static struct wq_item pop_locked(struct appc_wq *wq)
{
  struct wq_item item = wq->ring[wq->head];

  wq->head = (wq->head + 1) % wq->cap;
  wq->count--;
  return item;
}

static void *worker_main(void *arg)
{
  struct wq_worker *w = arg;
  struct appc_wq *wq = w->wq;

  pthread_mutex_lock(&wq->mu);
  for (;;) {
    while (wq->count == 0 && !wq->stopping) {
      wq->idle++;
      pthread_cond_wait(&wq->work_cv, &wq->mu);
      wq->idle--;
    }
    if (wq->count == 0)
      break;
    struct wq_item item = pop_locked(wq);
    run_locked(wq, &item, w->index);
  }
  pthread_mutex_unlock(&wq->mu);
  return NULL;
}

/* Start as many of the workers as can be had; those that cannot only make
 * the queue slower (with none, the owner runs every item). */
static void start_workers(struct appc_wq *wq)
{
  sigset_t all, old;

  wq->start_tried = true;
  if (wq->threads == 0)
    return;
  wq->tids = calloc(wq->threads, sizeof *wq->tids);
  wq->workers = calloc(wq->threads, sizeof *wq->workers);
  if (wq->tids == NULL || wq->workers == NULL)
    return;
  /* Signals are for the owner's threads (the CLI's cleanup handlers). */
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  while (wq->started < wq->threads) {
    struct wq_worker *w = &wq->workers[wq->started];
    *w = (struct wq_worker){wq, wq->started};
    if (pthread_create(&wq->tids[wq->started], NULL, worker_main, w) != 0)
      break;
    wq->started++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int appc_wq_submit(struct appc_wq *wq, appc_wq_fn fn, void *data)
{
  struct wq_item item = {.fn = fn, .data = data};
  int r = 0;

  if (!wq->start_tried)
    start_workers(wq);
  pthread_mutex_lock(&wq->mu);
  item.seq = wq->submitted++;
  if (wq->started > 0 && wq->count < wq->cap && !atomic_load(&wq->cancelled)) {
    wq->ring[(wq->head + wq->count++) % wq->cap] = item;
    if (wq->idle > 0)
      pthread_cond_signal(&wq->work_cv);
  } else {
    /* No worker, or enough waiting: run it here (or discard it). */
    r = run_locked(wq, &item, wq->threads);
  }
  pthread_mutex_unlock(&wq->mu);
  return r;
}

bool appc_wq_help(struct appc_wq *wq)
{
  bool ran = false;

  pthread_mutex_lock(&wq->mu);
  if (wq->count > 0) {
    struct wq_item item = pop_locked(wq);
    run_locked(wq, &item, wq->threads);
    ran = true;
  }
  pthread_mutex_unlock(&wq->mu);
  return ran;
}

/* Whether item N (already numbered) neither waits nor runs. */
static bool finished_locked(const struct appc_wq *wq, unsigned long long n)
{
  for (unsigned i = 0; i < wq->count; i++) {
    if (wq->ring[(wq->head + i) % wq->cap].seq == n)
      return false;
  }
  for (const struct wq_run *r = wq->running; r != NULL; r = r->next) {
    if (r->seq == n)
      return false;
  }
  return true;
}

/* 0, or -1 with a copy of why the queue stopped: the queue keeps its error
 * for every later wait. */
static int result_locked(const struct appc_wq *wq, appc_error_t *err)
{
  if (!atomic_load(&wq->cancelled))
    return 0;
  if (wq->err == NULL)
    return appc_error_make(err, ECANCELED, "work cancelled");
  if (err != NULL && *err == NULL) {
    appc_error_make(err, 0, "%s", wq->err->msg); /* the message already names errnum */
    if (*err != NULL)
      (*err)->errnum = wq->err->errnum;
  }
  return -1;
}

int appc_wq_wait_item(struct appc_wq *wq, unsigned long long n, appc_error_t *err)
{
  int r;

  pthread_mutex_lock(&wq->mu);
  if (n >= wq->submitted) {
    r = appc_error_tag(err, EINVAL, "work queue: item %llu was never submitted", n);
  } else {
    wq->waiters++;
    while (!finished_locked(wq, n))
      pthread_cond_wait(&wq->done_cv, &wq->mu);
    wq->waiters--;
    r = result_locked(wq, err);
  }
  pthread_mutex_unlock(&wq->mu);
  return r;
}

/* Run what waits, then wait for what runs.  With mu held. */
static void drain_locked(struct appc_wq *wq)
{
  while (wq->count > 0) {
    struct wq_item item = pop_locked(wq);
    run_locked(wq, &item, wq->threads);
  }
  wq->waiters++;
  while (wq->running != NULL)
    pthread_cond_wait(&wq->done_cv, &wq->mu);
  wq->waiters--;
}

int appc_wq_wait(struct appc_wq *wq, appc_error_t *err)
{
  int r;

  pthread_mutex_lock(&wq->mu);
  drain_locked(wq);
  r = result_locked(wq, err);
  pthread_mutex_unlock(&wq->mu);
  return r;
}

void appc_wq_cancel(struct appc_wq *wq)
{
  atomic_store(&wq->cancelled, true);
}

void appc_wq_free(struct appc_wq *wq)
{
  if (wq == NULL)
    return;
  appc_wq_cancel(wq);
  pthread_mutex_lock(&wq->mu);
  wq->stopping = true;
  pthread_cond_broadcast(&wq->work_cv);
  drain_locked(wq); /* discards what waits */
  pthread_mutex_unlock(&wq->mu);
  for (unsigned i = 0; i < wq->started; i++)
    pthread_join(wq->tids[i], NULL);
  pthread_cond_destroy(&wq->done_cv);
  pthread_cond_destroy(&wq->work_cv);
  pthread_mutex_destroy(&wq->mu);
  appc_error_release(&wq->err);
  free(wq->workers);
  free(wq->tids);
  free(wq->ring);
  free(wq);
}
