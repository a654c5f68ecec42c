/* SPDX-License-Identifier: Apache-2.0 */
/* Parallel gzip: the stream is cut into fixed-size blocks, each compressed
 * independently by a pool of worker threads with libdeflate and written out
 * in order as one gzip member, which states its own length in its header
 * (aci/gzsized.c) so that readers can inflate members in parallel.  A sequence of members is a
 * single valid gzip file (RFC 1952, section 2.2), which gzip, Go's compress/gzip and libarchive all
 * read.  Memory stays bounded: a ring of threads + 2 slots, each holding one input block and its
 * compressed form.
 *
 * The blocks are items of a work queue (common/workqueue.h), numbered as
 * they are queued: the producer (the caller's thread) fills slots and writes
 * finished ones to the file itself, waiting for each block's item in turn,
 * so output order needs no extra thread. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>

#include "aci/internal.h"
#include "common/lazy.h"
#include "common/workqueue.h"

/* 512 KiB blocks: the ratio is within 0.1% of 1 MiB blocks (each member
 * restarts with an empty window) at half the memory. */
#define PGZ_BLOCK (512 * 1024u)
#define PGZ_LEVEL 6

struct pgz_slot {
  struct appc_pgzip *z;
  unsigned char *in;
  size_t in_len;
  unsigned char *out;
  size_t out_len;
};

struct appc_pgzip {
  int fd;
  char *name;
  size_t bound; /* worst-case compressed size of one block */
  struct appc_wq *wq;
  unsigned ncompressors; /* one per thread index of the queue */
  struct libdeflate_compressor **compressors;
  unsigned nslots;
  struct pgz_slot *slots;
  /* Sequence numbers, which are also the queue's item numbers; the slot of
   * sequence s is slots[s % nslots].  [written, filled) are queued; filled
   * is being filled. */
  unsigned long long filled;
  unsigned long long written;
};

/* A queue item: compress one slot into one gzip member that states its
 * length (see appc_gzsized_header). */
static int compress_slot(void *data, unsigned worker, appc_error_t *err)
{
  struct pgz_slot *s = data;
  struct appc_pgzip *z = s->z;
  unsigned char *deflated = s->out + APPC_GZSIZED_HEADER_LEN;
  /* With a buffer of the compress bound this cannot run out of room; 0 is
   * still treated as a failure. */
  size_t n = libdeflate_deflate_compress(z->compressors[worker], s->in, s->in_len, deflated,
                                         z->bound - APPC_GZSIZED_HEADER_LEN - 8);

  if (n == 0)
    return appc_error_make(err, 0, "%s: gzip compression failed", z->name);
  s->out_len = APPC_GZSIZED_HEADER_LEN + n + 8;
  appc_gzsized_header(s->out, (uint32_t) s->out_len);
  appc_gzsized_trailer(deflated + n, libdeflate_crc32(0, s->in, s->in_len), (uint32_t) s->in_len);
  return 0;
}

static int pgz_alloc(struct appc_pgzip *z, appc_error_t *err)
{
  z->compressors = calloc(z->ncompressors, sizeof *z->compressors);
  z->slots = calloc(z->nslots, sizeof *z->slots);
  if (z->compressors == NULL || z->slots == NULL)
    return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
  if (appc_lazy_bind(APPC_LAZY_DEFLATE, err) < 0)
    return appc_error_prefix(err, "%s: gzip", z->name);
  for (unsigned i = 0; i < z->ncompressors; i++) {
    z->compressors[i] = libdeflate_alloc_compressor(PGZ_LEVEL);
    if (z->compressors[i] == NULL)
      return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
  }
  z->bound =
      libdeflate_deflate_compress_bound(z->compressors[0], PGZ_BLOCK) + APPC_GZSIZED_HEADER_LEN + 8;
  /* Buffers are malloc'ed, not calloc'ed: pages never touched cost no RSS. */
  for (unsigned i = 0; i < z->nslots; i++) {
    z->slots[i].z = z;
    z->slots[i].in = malloc(PGZ_BLOCK);
    z->slots[i].out = malloc(z->bound);
    if (z->slots[i].in == NULL || z->slots[i].out == NULL)
      return appc_error_make(err, ENOMEM, "%s: gzip", z->name);
  }
  /* libdeflate picks its CRC-32 implementation on first use, through a
   * function pointer; doing that here, before any worker exists, avoids a
   * (benign, but reported by thread checkers) race between workers. */
  (void) libdeflate_crc32(0, "", 0);
  return 0;
}

int appc_pgzip_new(struct appc_pgzip **out, int fd, const char *name, unsigned threads,
                   appc_error_t *err)
{
  /* No slot waits for a worker beyond the ring, so the caller compresses
   * only when no worker could be started. */
  struct appc_wq_options o = {.threads = threads, .max_pending = APPC_WQ_MAX_THREADS + 2};
  struct appc_pgzip *z = calloc(1, sizeof *z);

  if (z == NULL)
    return appc_error_make(err, ENOMEM, "%s: gzip", name);
  z->fd = fd;
  z->name = strdup(name);
  if (z->name == NULL) {
    appc_pgzip_free(z);
    return appc_error_make(err, ENOMEM, "%s: gzip", name);
  }
  if (appc_wq_new(&z->wq, &o, err) < 0) {
    appc_pgzip_free(z);
    return appc_error_prefix(err, "%s: gzip", name);
  }
  z->ncompressors = appc_wq_threads(z->wq) + 1;
  /* Two more slots than workers: one being filled, one being written. */
  z->nslots = appc_wq_threads(z->wq) + 2;
  if (pgz_alloc(z, err) < 0) {
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

  if (appc_wq_wait_item(z->wq, z->written, err) < 0)
    return -1;
  if (appc_write_all(z->fd, s->out, s->out_len) < 0)
    return appc_error_make(err, errno, "%s: write", z->name);
  s->in_len = 0;
  z->written++;
  return 0;
}

/* Hand the slot being filled to the workers and make the next one free. */
static int pgz_queue(struct appc_pgzip *z, appc_error_t *err)
{
  if (appc_wq_submit(z->wq, compress_slot, &z->slots[z->filled++ % z->nslots]) < 0)
    return appc_wq_wait(z->wq, err);
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
  /* Queued blocks are dropped; running ones finish before their slots go. */
  appc_wq_free(z->wq);
  for (unsigned i = 0; z->compressors != NULL && i < z->ncompressors; i++)
    libdeflate_free_compressor(z->compressors[i]);
  for (unsigned i = 0; z->slots != NULL && i < z->nslots; i++) {
    free(z->slots[i].in);
    free(z->slots[i].out);
  }
  free(z->slots);
  free(z->compressors);
  free(z->name);
  free(z);
}
