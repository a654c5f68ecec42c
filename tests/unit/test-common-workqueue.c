/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/workqueue: every item runs once, waits, order,
 * cancellation, errors, helping, and what happens when no thread can be
 * started (pthread_create is wrapped: see tests/unit/local.mk). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "common/workqueue.h"
#include "tests/unit/test-util.h"

/* ---- pthread_create, made to fail on demand ---- */

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);

/* Creations that still succeed; negative: all of them. */
static int creates_left = -1;

int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
  if (creates_left == 0)
    return EAGAIN;
  if (creates_left > 0)
    creates_left--;
  return __real_pthread_create(t, a, fn, arg);
}

/* ---- a gate that items wait at until the test opens it ---- */

struct gate {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool open;
  unsigned arrived;
};

static struct gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false, 0};

static void gate_pass(void)
{
  pthread_mutex_lock(&gate.mu);
  gate.arrived++;
  pthread_cond_broadcast(&gate.cv);
  while (!gate.open)
    pthread_cond_wait(&gate.cv, &gate.mu);
  pthread_mutex_unlock(&gate.mu);
}

static void gate_await(unsigned n)
{
  pthread_mutex_lock(&gate.mu);
  while (gate.arrived < n)
    pthread_cond_wait(&gate.cv, &gate.mu);
  pthread_mutex_unlock(&gate.mu);
}

static void gate_open(void)
{
  pthread_mutex_lock(&gate.mu);
  gate.open = true;
  pthread_cond_broadcast(&gate.cv);
  pthread_mutex_unlock(&gate.mu);
}

/* ---- items ---- */

#define NITEMS 2000

struct tally {
  atomic_uint runs[NITEMS];
  atomic_uint discards[NITEMS];
  atomic_uint by_worker[APPC_WQ_MAX_THREADS + 1];
  atomic_uint order; /* the next position in ran_at */
  unsigned ran_at[NITEMS];
  unsigned fail_at; /* the item that fails, or NITEMS */
  bool gated;       /* item 0 waits at the gate */
};

struct item {
  struct tally *t;
  unsigned n;
  unsigned sleep_us;
};

static struct item items[NITEMS];

static void sleep_us(unsigned us)
{
  struct timespec ts = {0, (long) us * 1000};
  nanosleep(&ts, NULL);
}

static int count_item(void *data, unsigned worker, appc_error_t *err)
{
  struct item *it = data;

  if (it->t->gated && it->n == 0)
    gate_pass();
  if (it->sleep_us > 0)
    sleep_us(it->sleep_us);
  atomic_fetch_add(&it->t->runs[it->n], 1);
  atomic_fetch_add(&it->t->by_worker[worker < APPC_WQ_MAX_THREADS ? worker : APPC_WQ_MAX_THREADS],
                   1);
  it->t->ran_at[atomic_fetch_add(&it->t->order, 1)] = it->n;
  if (it->n == it->t->fail_at)
    return appc_error_make(err, EIO, "item %u failed", it->n);
  return 0;
}

static void discard_item(void *data)
{
  struct item *it = data;
  atomic_fetch_add(&it->t->discards[it->n], 1);
}

static struct tally *tally_new(void)
{
  struct tally *t = calloc(1, sizeof *t);
  assert_non_null(t);
  t->fail_at = NITEMS;
  for (unsigned i = 0; i < NITEMS; i++)
    items[i] = (struct item){t, i, 0};
  return t;
}

static struct appc_wq *wq_make(unsigned threads, unsigned max_pending)
{
  struct appc_wq_options o = {
      .threads = threads, .max_pending = max_pending, .discard = discard_item};
  struct appc_wq *wq = NULL;
  appc_error_t err = NULL;

  assert_ok(appc_wq_new(&wq, &o, &err), &err);
  assert_non_null(wq);
  return wq;
}

/* Every item ran once or was discarded once, never both; returns how many
 * ran. */
static unsigned check_once(const struct tally *t, unsigned n)
{
  unsigned ran = 0;

  for (unsigned i = 0; i < n; i++) {
    unsigned r = atomic_load(&t->runs[i]), d = atomic_load(&t->discards[i]);
    if (r + d != 1)
      fail_msg("item %u: run %u times, discarded %u times", i, r, d);
    ran += r;
  }
  return ran;
}

/* Submit items [FROM, TO); all must be accepted. */
static void submit_range(struct appc_wq *wq, unsigned from, unsigned to)
{
  for (unsigned i = from; i < to; i++)
    assert_int_equal(appc_wq_submit(wq, count_item, &items[i]), 0);
}

/* Submit item 0, made to wait at the gate, and return once a worker runs
 * it: the items submitted next find that worker busy. */
static void submit_gated(struct appc_wq *wq, struct tally *t)
{
  pthread_mutex_lock(&gate.mu);
  gate.open = false;
  gate.arrived = 0;
  pthread_mutex_unlock(&gate.mu);
  t->gated = true;
  submit_range(wq, 0, 1);
  gate_await(1);
}

/* ---- tests ---- */

static void run_all_once(unsigned threads, unsigned max_pending)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(threads, max_pending);
  appc_error_t err = NULL;
  unsigned owner = appc_wq_threads(wq), sum = 0;

  assert_int_equal(owner, threads);
  submit_range(wq, 0, NITEMS);
  assert_ok(appc_wq_wait(wq, &err), &err);
  assert_int_equal(check_once(t, NITEMS), NITEMS);
  /* Indices are below threads + 1: per-thread arrays of that size suffice. */
  for (unsigned w = 0; w <= APPC_WQ_MAX_THREADS; w++) {
    if (w > owner)
      assert_int_equal(atomic_load(&t->by_worker[w]), 0);
    sum += atomic_load(&t->by_worker[w]);
  }
  assert_int_equal(sum, NITEMS);
  assert_false(appc_wq_cancelled(wq));
  appc_wq_free(wq);
  free(t);
}

static void test_many_threads(void **state)
{
  (void) state;
  run_all_once(8, 0);
  run_all_once(APPC_WQ_MAX_THREADS, 0);
}

/* With a short ring the owner runs what does not fit, as its own index. */
static void test_full_ring_runs_in_owner(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(1, 2);
  appc_error_t err = NULL;
  (void) state;

  submit_gated(wq, t);
  submit_range(wq, 1, 4); /* 1 and 2 wait, 3 runs here */
  assert_int_equal(atomic_load(&t->runs[3]), 1);
  assert_int_equal(atomic_load(&t->by_worker[1]), 1);
  gate_open();
  assert_ok(appc_wq_wait(wq, &err), &err);
  assert_int_equal(check_once(t, 4), 4);
  appc_wq_free(wq);
  free(t);
}

/* One worker takes the items in order. */
static void test_one_thread_in_order(void **state)
{
  (void) state;
  run_all_once(1, 0);

  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(1, NITEMS);
  appc_error_t err = NULL;

  submit_range(wq, 0, NITEMS);
  /* Not appc_wq_wait: the owner would help, out of order. */
  assert_ok(appc_wq_wait_item(wq, NITEMS - 1, &err), &err);
  assert_int_equal(check_once(t, NITEMS), NITEMS);
  for (unsigned i = 0; i < NITEMS; i++)
    assert_int_equal(t->ran_at[i], i);
  assert_int_equal(atomic_load(&t->by_worker[0]), NITEMS);
  appc_wq_free(wq);
  free(t);
}

/* appc_wq_wait_item returns once that item is done, whatever the order in
 * which they finish: the earlier items here are the slower ones. */
static void test_wait_item(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(4, 0);
  appc_error_t err = NULL;
  (void) state;

  for (unsigned i = 0; i < 16; i++)
    items[i].sleep_us = (16 - i) * 500;
  submit_range(wq, 0, 16);
  for (unsigned i = 0; i < 16; i++) {
    assert_ok(appc_wq_wait_item(wq, i, &err), &err);
    assert_int_equal(atomic_load(&t->runs[i]), 1);
  }
  assert_error_contains(appc_wq_wait_item(wq, 16, &err), &err, "never submitted");
  appc_wq_free(wq);
  free(t);
}

/* appc_wq_wait drains, and the queue takes more items afterwards. */
static void test_wait_drains_and_reuse(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(3, 0);
  appc_error_t err = NULL;
  (void) state;

  for (unsigned i = 0; i < 40; i++)
    items[i].sleep_us = 200;
  submit_range(wq, 0, 20);
  assert_ok(appc_wq_wait(wq, &err), &err);
  assert_int_equal(check_once(t, 20), 20);
  submit_range(wq, 20, 40);
  assert_ok(appc_wq_wait(wq, &err), &err);
  assert_int_equal(check_once(t, 40), 40);
  assert_ok(appc_wq_wait(wq, &err), &err); /* nothing left: returns at once */
  appc_wq_free(wq);
  free(t);
}

/* Cancelling lets the running item finish and discards the others, later
 * submissions included. */
static void test_cancel(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(1, 0);
  appc_error_t err = NULL;
  (void) state;

  submit_gated(wq, t);
  submit_range(wq, 1, 10);
  appc_wq_cancel(wq);
  assert_true(appc_wq_cancelled(wq));
  assert_int_equal(appc_wq_submit(wq, count_item, &items[10]), -1);
  assert_int_equal(atomic_load(&t->discards[10]), 1);
  gate_open();
  assert_int_equal(appc_wq_wait(wq, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, ECANCELED);
  appc_error_release(&err);
  assert_int_equal(check_once(t, 11), 1);
  assert_int_equal(atomic_load(&t->runs[0]), 1);
  assert_int_equal(appc_wq_wait_item(wq, 5, &err), -1); /* discarded */
  appc_error_release(&err);
  appc_wq_free(wq);
  free(t);
}

/* The first error comes back, to every wait, and stops the rest. */
static void test_error(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(2, NITEMS);
  appc_error_t err = NULL;
  (void) state;

  t->fail_at = 5;
  for (unsigned i = 0; i < 100; i++)
    items[i].sleep_us = 100;
  submit_range(wq, 0, 100);
  assert_int_equal(appc_wq_wait(wq, &err), -1);
  assert_non_null(err);
  assert_int_equal(err->errnum, EIO);
  assert_error_contains(-1, &err, "item 5 failed");
  assert_true(appc_wq_cancelled(wq));
  assert_error_contains(appc_wq_wait(wq, &err), &err, "item 5 failed");
  assert_error_contains(appc_wq_wait_item(wq, 99, &err), &err, "item 5 failed");
  assert_true(check_once(t, 100) < 100); /* items after 5 (and the other worker's) were dropped */
  appc_wq_free(wq);
  free(t);
}

/* The owner runs a waiting item itself, as its own index. */
static void test_help(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(1, 0);
  appc_error_t err = NULL;
  (void) state;

  submit_gated(wq, t);
  submit_range(wq, 1, 3);
  assert_true(appc_wq_help(wq));
  assert_true(appc_wq_help(wq));
  assert_false(appc_wq_help(wq));
  assert_int_equal(atomic_load(&t->by_worker[1]), 2);
  assert_int_equal(t->ran_at[0], 1);
  assert_int_equal(t->ran_at[1], 2);
  gate_open();
  assert_ok(appc_wq_wait(wq, &err), &err);
  assert_int_equal(check_once(t, 3), 3);
  appc_wq_free(wq);
  free(t);
}

/* No thread at all: every item runs in the owner, at submission, and a
 * failure is seen there. */
static void test_no_thread_started(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(4, 0);
  appc_error_t err = NULL;
  (void) state;

  creates_left = 0;
  t->fail_at = 7;
  submit_range(wq, 0, 7);
  creates_left = -1;
  for (unsigned i = 0; i < 7; i++)
    assert_int_equal(atomic_load(&t->runs[i]), 1); /* already run */
  assert_int_equal(atomic_load(&t->by_worker[4]), 7);
  assert_int_equal(appc_wq_submit(wq, count_item, &items[7]), -1);
  assert_int_equal(appc_wq_submit(wq, count_item, &items[8]), -1);
  assert_int_equal(atomic_load(&t->discards[8]), 1);
  assert_error_contains(appc_wq_wait(wq, &err), &err, "item 7 failed");
  appc_wq_free(wq);
  free(t);
}

/* Some threads: the queue runs with those. */
static void test_some_threads_started(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(6, 0);
  appc_error_t err = NULL;
  (void) state;

  creates_left = 2;
  submit_gated(wq, t); /* item 0 runs in a worker: one was started */
  creates_left = -1;
  submit_range(wq, 1, NITEMS);
  gate_open();
  assert_ok(appc_wq_wait(wq, &err), &err);
  assert_int_equal(check_once(t, NITEMS), NITEMS);
  for (unsigned w = 2; w < 6; w++)
    assert_int_equal(atomic_load(&t->by_worker[w]), 0);
  assert_true(atomic_load(&t->by_worker[0]) + atomic_load(&t->by_worker[1]) > 0);
  appc_wq_free(wq);
  free(t);
}

/* Freeing discards what waits and joins what runs. */
static void test_free_discards(void **state)
{
  struct tally *t = tally_new();
  struct appc_wq *wq = wq_make(1, 0);
  (void) state;

  submit_gated(wq, t);
  submit_range(wq, 1, 5);
  gate_open();
  appc_wq_free(wq);
  assert_int_equal(atomic_load(&t->runs[0]), 1);
  check_once(t, 5);
  appc_wq_free(NULL);
  free(t);
}

static void test_thread_counts(void **state)
{
  struct appc_wq_options o = {.threads = APPC_WQ_ONLINE_CPUS};
  unsigned cpus = appc_cpus_online();
  appc_error_t err = NULL;
  struct appc_wq *wq = NULL;
  (void) state;

  assert_true(cpus >= 1);
  assert_ok(appc_wq_new(&wq, &o, &err), &err);
  assert_int_equal(appc_wq_threads(wq), cpus < APPC_WQ_MAX_THREADS ? cpus : APPC_WQ_MAX_THREADS);
  appc_wq_free(wq);
  o.threads = APPC_WQ_OTHER_CPUS;
  o.max_threads = 3;
  assert_ok(appc_wq_new(&wq, &o, &err), &err);
  assert_int_equal(appc_wq_threads(wq), cpus - 1 < 3 ? cpus - 1 : 3);
  appc_wq_free(wq);
  assert_ok(appc_wq_new(&wq, NULL, &err), &err); /* defaults */
  assert_true(appc_wq_threads(wq) >= 1);
  appc_wq_free(wq);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_threads),
      cmocka_unit_test(test_full_ring_runs_in_owner),
      cmocka_unit_test(test_one_thread_in_order),
      cmocka_unit_test(test_wait_item),
      cmocka_unit_test(test_wait_drains_and_reuse),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_error),
      cmocka_unit_test(test_help),
      cmocka_unit_test(test_no_thread_started),
      cmocka_unit_test(test_some_threads_started),
      cmocka_unit_test(test_free_discards),
      cmocka_unit_test(test_thread_counts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
