/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel gzip: the stream is cut into fixed-size blocks, each compressed
 * independently by a pool of worker threads with libdeflate and written out
 * in order as one gzip member, which states its own length in its header
 * (aci/gzsized.c) so that readers can inflate members in parallel.  A sequence of members is a
 * single valid gzip file (RFC 1952, section 2.2), which gzip, Go's compress/gzip and libarchive all
 * read.  Memory stays bounded: a ring of threads + 2 slots, each holding one input block and its
 * compressed form.
 *
 * The producer (the caller's thread) fills slots and writes finished ones to
 * the file itself, so output order needs no extra thread. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aci/internal.h"
#include "common/lazy-deflate.h"

/* 512 KiB blocks: the ratio is within 0.1% of 1 MiB blocks (each member
 * restarts with an empty window) at half the memory. */
#define PGZ_BLOCK (512 * 1024u)
#define PGZ_LEVEL 6
#define PGZ_MAX_THREADS 64u

enum slot_state { SLOT_FILLING, SLOT_QUEUED, SLOT_DONE };

struct pgz_slot {
  unsigned char *in;
  size_t in_len;
  unsigned char *out;
  size_t out_len; /* 0 after compression means failure */
  enum slot_state state;
};

struct appc_pgzip {
  int fd;
  char *name;
  size_t bound; /* worst-case compressed size of one block */
  unsigned nthreads;
  unsigned started;
  pthread_t *threads;
  struct libdeflate_compressor **compressors;
  unsigned nslots;
  struct pgz_slot *slots;
  pthread_mutex_t mu;
  pthread_cond_t work_cv; /* a slot was queued, or stop */
  pthread_cond_t done_cv; /* a slot was compressed */
  /* Sequence numbers; slot of sequence s is slots[s % nslots].
   * [written, filled) are queued or done; filled is being filled. */
  unsigned long long filled;
  unsigned long long taken; /* next sequence a worker takes */
  unsigned long long written;
  bool stop;
};

struct pgz_worker_arg {
  struct appc_pgzip *z;
  unsigned index;
};

/* One gzip member that states its length (see appc_gzsized_header). */
static void compress_slot(struct appc_pgzip *z, struct libdeflate_compressor *c, struct pgz_slot *s)
{
  unsigned char *deflated = s->out + APPC_GZSIZED_HEADER_LEN;
  /* With a buffer of the compress bound this cannot run out of room; 0 is
   * still treated as a failure by the writer. */
  size_t n = libdeflate_deflate_compress(c, s->in, s->in_len, deflated,
                                         z->bound - APPC_GZSIZED_HEADER_LEN - 8);

  if (n == 0) {
    s->out_len = 0;
    return;
  }
  s->out_len = APPC_GZSIZED_HEADER_LEN + n + 8;
  appc_gzsized_header(s->out, (uint32_t) s->out_len);
  appc_gzsized_trailer(deflated + n, libdeflate_crc32(0, s->in, s->in_len), (uint32_t) s->in_len);
}

static void *pgz_worker(void *arg)
{
  struct appc_pgzip *z = ((struct pgz_worker_arg *) arg)->z;
  struct libdeflate_compressor *c = z->compressors[((struct pgz_worker_arg *) arg)->index];

  free(arg);
  pthread_mutex_lock(&z->mu);
  for (;;) {
    while (!z->stop && z->taken == z->filled)
      pthread_cond_wait(&z->work_cv, &z->mu);
    if (z->taken == z->filled)
      break; /* stopping and nothing left */
    struct pgz_slot *s = &z->slots[z->taken++ % z->nslots];
    pthread_mutex_unlock(&z->mu);
    compress_slot(z, c, s);
    pthread_mutex_lock(&z->mu);
    s->state = SLOT_DONE;
    pthread_cond_broadcast(&z->done_cv);
  }
  pthread_mutex_unlock(&z->mu);
  return NULL;
}

static unsigned pick_threads(unsigned threads)
{
  if (threads == 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    threads = n > 0 ? (unsigned) n : 1;
  }
  return threads > PGZ_MAX_THREADS ? PGZ_MAX_THREADS : threads;
}

static int pgz_alloc(struct appc_pgzip *z, appc_error_t *err)
{
  z->compressors = calloc(z->nthreads, sizeof *z->compressors);
  z->threads = calloc(z->nthreads, sizeof *z->threads);
  z->slots = calloc(z->nslots, sizeof *z->slots);
  if (z->compressors == NULL || z->threads == NULL || z->slots == NULL)
    return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
  if (appc_lazy_bind_deflate(err) < 0)
    return appc_error_prefix(err, "%s: gzip", z->name);
  for (unsigned i = 0; i < z->nthreads; i++) {
    z->compressors[i] = libdeflate_alloc_compressor(PGZ_LEVEL);
    if (z->compressors[i] == NULL)
      return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
  }
  z->bound =
      libdeflate_deflate_compress_bound(z->compressors[0], PGZ_BLOCK) + APPC_GZSIZED_HEADER_LEN + 8;
  /* Buffers are malloc'ed, not calloc'ed: pages never touched cost no RSS. */
  for (unsigned i = 0; i < z->nslots; i++) {
    z->slots[i].in = malloc(PGZ_BLOCK);
    z->slots[i].out = malloc(z->bound);
    if (z->slots[i].in == NULL || z->slots[i].out == NULL)
      return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
  }
  return 0;
}

static int pgz_start(struct appc_pgzip *z, appc_error_t *err)
{
  /* libdeflate picks its CRC-32 implementation on first use, through a
   * function pointer; doing that here, before any worker exists, avoids a
   * (benign, but reported by thread checkers) race between workers. */
  (void) libdeflate_crc32(0, "", 0);
  for (unsigned i = 0; i < z->nthreads; i++) {
    struct pgz_worker_arg *arg = malloc(sizeof *arg);
    if (arg == NULL)
      return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
    *arg = (struct pgz_worker_arg){z, i};
    int r = pthread_create(&z->threads[i], NULL, pgz_worker, arg);
    if (r != 0) {
      free(arg);
      return appc_error_make(err, r, "%s: cannot start a compression thread", z->name);
    }
    z->started++;
  }
  return 0;
}

int appc_pgzip_new(struct appc_pgzip **out, int fd, const char *name, unsigned threads,
                   appc_error_t *err)
{
  struct appc_pgzip *z = calloc(1, sizeof *z);

  if (z == NULL)
    return appc_error_make(err, ENOMEM, "%s: gzip", name);
  z->fd = fd;
  z->nthreads = pick_threads(threads);
  /* Two more slots than workers: one being filled, one being written. */
  z->nslots = z->nthreads + 2;
  pthread_mutex_init(&z->mu, NULL);
  pthread_cond_init(&z->work_cv, NULL);
  pthread_cond_init(&z->done_cv, NULL);
  z->name = strdup(name);
  if (z->name == NULL) {
    appc_pgzip_free(z);
    return appc_error_make(err, ENOMEM, "%s: gzip", name);
  }
  if (pgz_alloc(z, err) < 0 || pgz_start(z, err) < 0) {
    appc_pgzip_free(z);
    return -1;
  }
  *out = z;
  return 0;
}

/* Wait for the oldest queued block and write it out. */
static int pgz_write_oldest(struct appc_pgzip *z, appc_error_t *err)
{
  struct pgz_slot *s = &z->slots[z->written % z->nslots];

  pthread_mutex_lock(&z->mu);
  while (s->state != SLOT_DONE)
    pthread_cond_wait(&z->done_cv, &z->mu);
  pthread_mutex_unlock(&z->mu);
  if (s->out_len == 0)
    return appc_error_make(err, 0, "%s: gzip compression failed", z->name);
  if (appc_write_all(z->fd, s->out, s->out_len) < 0)
    return appc_error_make(err, errno, "%s: write", z->name);
  s->state = SLOT_FILLING;
  s->in_len = 0;
  z->written++;
  return 0;
}

/* Hand the slot being filled to the workers and make the next one free. */
static int pgz_queue(struct appc_pgzip *z, appc_error_t *err)
{
  pthread_mutex_lock(&z->mu);
  z->slots[z->filled % z->nslots].state = SLOT_QUEUED;
  z->filled++;
  pthread_cond_signal(&z->work_cv);
  pthread_mutex_unlock(&z->mu);
  /* The ring is full when the next slot to fill still holds the oldest
   * unwritten block. */
  if (z->filled - z->written == z->nslots)
    return pgz_write_oldest(z, err);
  return 0;
}

int appc_pgzip_write(struct appc_pgzip *z, const void *buf, size_t len, appc_error_t *err)
{
  const unsigned char *p = buf;

  while (len > 0) {
    struct pgz_slot *s = &z->slots[z->filled % z->nslots];
    size_t n = PGZ_BLOCK - s->in_len;
    if (n > len)
      n = len;
    memcpy(s->in + s->in_len, p, n);
    s->in_len += n;
    p += n;
    len -= n;
    if (s->in_len == PGZ_BLOCK && pgz_queue(z, err) < 0)
      return -1;
  }
  return 0;
}

int appc_pgzip_finish(struct appc_pgzip *z, appc_error_t *err)
{
  /* A partial last block, or an empty member so that even an empty stream
   * is a valid gzip file. */
  if (z->slots[z->filled % z->nslots].in_len > 0 || z->filled == 0) {
    if (pgz_queue(z, err) < 0)
      return -1;
  }
  while (z->written < z->filled) {
    if (pgz_write_oldest(z, err) < 0)
      return -1;
  }
  return 0;
}

void appc_pgzip_free(struct appc_pgzip *z)
{
  if (z == NULL)
    return;
  pthread_mutex_lock(&z->mu);
  z->stop = true;
  /* Workers finish what is queued; discarding it would race with them. */
  pthread_cond_broadcast(&z->work_cv);
  pthread_mutex_unlock(&z->mu);
  for (unsigned i = 0; i < z->started; i++)
    pthread_join(z->threads[i], NULL);
  for (unsigned i = 0; z->compressors != NULL && i < z->nthreads; i++)
    libdeflate_free_compressor(z->compressors[i]);
  for (unsigned i = 0; z->slots != NULL && i < z->nslots; i++) {
    free(z->slots[i].in);
    free(z->slots[i].out);
  }
  pthread_mutex_destroy(&z->mu);
  pthread_cond_destroy(&z->work_cv);
  pthread_cond_destroy(&z->done_cv);
  free(z->slots);
  free(z->compressors);
  free(z->threads);
  free(z->name);
  free(z);
}
