/* SPDX-License-Identifier: Apache-2.0 */
/* gzip members that state their own size, and their parallel inflate.
 *
 * Our builder cuts the tar into blocks and writes each as a gzip member of its
 * own (aci/pgzip.c).  Each member's header carries an extra field (FEXTRA,
 * RFC 1952 2.3.1.1) with subfield ID "AC" and 4 bytes of data: the member's
 * total length, header and trailer included, little-endian.  Readers that do
 * not know the subfield skip it, so the file is still a plain gzip stream; a
 * reader that does can find where the next member starts without inflating
 * this one, and so inflate several members at once.
 *
 * The reader here reads members in order, one at a time (reading is cheap),
 * and inflates them on two threads: a worker and the caller, which takes the
 * next member itself whenever the one it must hand out next is not ready.
 * The caller hashes and parses what it gets, in order; inflate costs more
 * than SHA-512, so sharing inflate balances the two cores.  The workers are
 * those of a work queue (common/workqueue.h) whose items each claim and
 * inflate the next member: one is queued for each slot, and again each time
 * the caller frees a slot.
 *
 * A stated size is only a claim.  A member is used only if it inflates
 * completely, ending exactly at its stated size, with its CRC-32 and length
 * right.  At the first member that does not, or that states no size, or that
 * is too large for a slot, the engine stops and hands every raw byte it has
 * read from that member on to the sequential inflater (aci/inflate.c), which
 * then gives exactly the output, or the error, it would have given for the
 * whole file. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>

#include "aci/internal.h"
#include "common/cleanup.h"
#include "common/lazy.h"
#include "common/workqueue.h"

#define GZ_FLG_FEXTRA 0x04
#define SIZED_SI1 'A'
#define SIZED_SI2 'C'

/* Largest member inflated as a block (our builder writes 512 KiB ones), and
 * the largest compressed form accepted for it (stored blocks grow a little). */
#define SIZED_OUT_MAX (1u << 20)
#define SIZED_IN_MAX (SIZED_OUT_MAX + (64u << 10))
/* The smallest member: the header, an empty deflate block, the trailer. */
#define SIZED_MIN (APPC_GZSIZED_HEADER_LEN + 2 + 8)
/* Read-ahead for member headers: what is left of it after the last sized
 * member goes to the sequential inflater. */
#define STAGE_SIZE 4096
#define MAX_WORKERS 3
#define MAX_SLOTS (MAX_WORKERS + 3)

static void put_le16(unsigned char *p, uint32_t v)
{
  p[0] = (unsigned char) v;
  p[1] = (unsigned char) (v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
  put_le16(p, v & 0xffff);
  put_le16(p + 2, v >> 16);
}

static uint32_t get_le16(const unsigned char *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8;
}

static uint32_t get_le32(const unsigned char *p)
{
  return get_le16(p) | get_le16(p + 2) << 16;
}

void appc_gzsized_header(unsigned char hdr[APPC_GZSIZED_HEADER_LEN], uint32_t member_len)
{
  static const unsigned char fixed[12] = {
      0x1f, 0x8b, 8, GZ_FLG_FEXTRA, 0, 0, 0, 0, /* magic, deflate, FEXTRA, MTIME 0 */
      0,    3,                                  /* XFL, OS: Unix */
      8,    0,                                  /* XLEN: one 4-byte subfield */
  };

  memcpy(hdr, fixed, sizeof fixed);
  hdr[12] = SIZED_SI1;
  hdr[13] = SIZED_SI2;
  put_le16(hdr + 14, 4);
  put_le32(hdr + 16, member_len);
}

void appc_gzsized_trailer(unsigned char trl[8], uint32_t crc, uint32_t isize)
{
  put_le32(trl, crc);
  put_le32(trl + 4, isize);
}

uint32_t appc_gzsized_member_len(const unsigned char *p, size_t n)
{
  if (n < APPC_GZSIZED_HEADER_LEN || p[0] != 0x1f || p[1] != 0x8b || p[2] != 8 ||
      p[3] != GZ_FLG_FEXTRA || get_le16(p + 10) != 8 || p[12] != SIZED_SI1 || p[13] != SIZED_SI2 ||
      get_le16(p + 14) != 4)
    return 0;
  return get_le32(p + 16);
}

/* ---- the parallel reader ---- */

enum slot_state {
  SLOT_FREE,
  SLOT_BUSY,  /* being read or inflated */
  SLOT_READY, /* inflated: out holds its data */
  SLOT_STOP,  /* sized members end here: in holds raw bytes to pass on */
};

struct slot {
  enum slot_state state;
  unsigned char *in; /* the member's raw bytes */
  size_t in_len;
  unsigned char *out;
  size_t out_len;
  unsigned long long offset; /* file offset of in[0] */
  appc_error_t err;          /* a read error, with SLOT_STOP */
};

struct appc_gzsized {
  struct appc_source *src;
  struct appc_tee *tee;

  /* Reading, in file order: whoever claims a slot reads its member under
   * read_mu, so members are claimed and read in the same order. */
  pthread_mutex_t read_mu;
  unsigned char stage[STAGE_SIZE]; /* bytes read ahead, not yet in a slot */
  size_t stage_pos, stage_len;
  unsigned long long stage_offset; /* file offset of stage[stage_pos] */
  bool eof;

  /* Everything below is shared under mu. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  unsigned nslots;
  struct slot slots[MAX_SLOTS]; /* the member of sequence s is slots[s % nslots] */
  unsigned long long claimed;   /* members claimed so far */
  unsigned long long consumed;  /* members handed out and released */
  unsigned busy;                /* slots being read or inflated */
  bool holding;                 /* the caller holds slots[consumed % nslots] */
  bool stopped;                 /* a SLOT_STOP was claimed: claim no more */

  unsigned nworkers;
  struct appc_wq *wq;           /* the workers' queue, or NULL for none */
  struct inflate_state *states; /* one per worker, and the caller's last */

  unsigned char *rest; /* raw bytes handed on to the sequential inflater */
};

/* Make at least WANT bytes available in the stage, unless the file ends. */
static int stage_fill(struct appc_gzsized *b, size_t want, appc_error_t *err)
{
  if (b->stage_len - b->stage_pos >= want)
    return 0;
  memmove(b->stage, b->stage + b->stage_pos, b->stage_len - b->stage_pos);
  b->stage_len -= b->stage_pos;
  b->stage_pos = 0;
  while (b->stage_len < want && !b->eof) {
    ssize_t n = appc_source_read(b->src, b->stage + b->stage_len, STAGE_SIZE - b->stage_len, err);
    if (n < 0)
      return -1;
    if (n == 0)
      b->eof = true;
    else if (b->tee != NULL)
      appc_tee_write(b->tee, b->stage + b->stage_len, (size_t) n);
    b->stage_len += (size_t) n;
  }
  return 0;
}

/* Read the rest of a member straight into its slot.  Returns 1 when it is all
 * there, 0 when the file ends first. */
static int read_body(struct appc_gzsized *b, struct slot *s, size_t len, appc_error_t *err)
{
  while (s->in_len < len) {
    ssize_t n = appc_source_read(b->src, s->in + s->in_len, len - s->in_len, err);
    if (n < 0)
      return -1;
    if (n == 0) {
      b->eof = true;
      return 0;
    }
    if (b->tee != NULL)
      appc_tee_write(b->tee, s->in + s->in_len, (size_t) n);
    s->in_len += (size_t) n;
    b->stage_offset += (unsigned long long) n;
  }
  return 1;
}

/* Read the next member into S.  Returns true if it is a sized member to
 * inflate; false if the sized members end here (S->in then holds what was
 * read of a member that cannot be used, S->err a read error). */
static bool read_member(struct appc_gzsized *b, struct slot *s)
{
  size_t avail, take;
  uint32_t len;
  int r;

  s->in_len = 0;
  s->out_len = 0;
  s->offset = b->stage_offset;
  if (stage_fill(b, APPC_GZSIZED_HEADER_LEN, &s->err) < 0)
    return false;
  avail = b->stage_len - b->stage_pos;
  len = appc_gzsized_member_len(b->stage + b->stage_pos, avail);
  if (len < SIZED_MIN || len > SIZED_IN_MAX)
    return false; /* not ours (or the end): the stage is passed on as it is */
  take = avail < len ? avail : len;
  memcpy(s->in, b->stage + b->stage_pos, take);
  s->in_len = take;
  b->stage_pos += take;
  b->stage_offset += take;
  r = read_body(b, s, len, &s->err);
  if (r <= 0)
    return false; /* a read error, or a truncated member */
  /* ISIZE, from the trailer: what the member says it inflates to. */
  return get_le32(s->in + len - 4) <= SIZED_OUT_MAX;
}

/* Inflate S in one call; true only if the member is whole and sound and ends
 * exactly where its header said. */
static bool inflate_member(struct inflate_state *st, struct slot *s)
{
  int ret;

  isal_inflate_init(st);
  st->crc_flag = ISAL_GZIP;
  st->next_in = s->in;
  st->avail_in = (uint32_t) s->in_len;
  st->next_out = s->out;
  st->avail_out = SIZED_OUT_MAX;
  ret = isal_inflate(st);
  s->out_len = SIZED_OUT_MAX - st->avail_out;
  /* At the end of a member ISA-L gives back what it read ahead, so avail_in
   * is what lies after the trailer. */
  return ret == ISAL_DECOMP_OK && st->block_state == ISAL_BLOCK_FINISH && st->avail_in == 0 &&
         s->out_len == get_le32(s->in + s->in_len - 4);
}

/* Claim the next member, if a slot is free and the members go on, read it
 * and inflate it with ST. */
static void claim_and_inflate(struct appc_gzsized *b, struct inflate_state *st)
{
  struct slot *s;
  bool usable;

  pthread_mutex_lock(&b->read_mu);
  pthread_mutex_lock(&b->mu);
  if (b->stopped || b->claimed - b->consumed >= b->nslots) {
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_unlock(&b->read_mu);
    return;
  }
  s = &b->slots[b->claimed++ % b->nslots];
  s->state = SLOT_BUSY;
  b->busy++;
  pthread_mutex_unlock(&b->mu);
  usable = read_member(b, s);
  if (!usable) {
    pthread_mutex_lock(&b->mu);
    b->stopped = true;
    pthread_mutex_unlock(&b->mu);
  }
  pthread_mutex_unlock(&b->read_mu);
  if (usable)
    usable = inflate_member(st, s);
  pthread_mutex_lock(&b->mu);
  s->state = usable ? SLOT_READY : SLOT_STOP;
  if (!usable)
    b->stopped = true;
  b->busy--;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

static bool can_claim(const struct appc_gzsized *b)
{
  return !b->stopped && b->claimed - b->consumed < b->nslots;
}

/* A worker's queue item: claim the next member, if it can, and inflate it. */
static int claim_item(void *data, unsigned worker, appc_error_t *err)
{
  struct appc_gzsized *b = data;

  (void) err;
  claim_and_inflate(b, &b->states[worker]);
  return 0;
}

/* Free the slot handed out (or an empty one) and queue a worker item for
 * it.  Called and returning with mu held; the item is queued without it,
 * since the queue may run it here. */
static void release_slot_locked(struct appc_gzsized *b)
{
  b->slots[b->consumed % b->nslots].state = SLOT_FREE;
  b->consumed++;
  if (b->wq == NULL)
    return;
  pthread_mutex_unlock(&b->mu);
  (void) appc_wq_submit(b->wq, claim_item, b);
  pthread_mutex_lock(&b->mu);
}

/* Workers for WANT more threads (none: the caller inflates every member). */
static int start_workers(struct appc_gzsized *b, unsigned want, appc_error_t *err)
{
  struct appc_wq_options o = {.threads = want};

  b->nworkers = want;
  if (want == 0)
    return 0;
  if (appc_wq_new(&b->wq, &o, err) < 0)
    return -1;
  for (unsigned i = 0; i < b->nslots; i++)
    (void) appc_wq_submit(b->wq, claim_item, b);
  return 0;
}

int appc_gzsized_new(struct appc_gzsized **out, struct appc_source *src, const void *head,
                     size_t head_len, struct appc_tee *tee, unsigned workers, appc_error_t *err)
{
  struct appc_gzsized *b = calloc(1, sizeof *b);

  if (b == NULL)
    return appc_error_make(err, ENOMEM, "gzip");
  if (workers > MAX_WORKERS)
    workers = MAX_WORKERS;
  b->src = src;
  b->tee = tee;
  /* One slot per thread, one held by the caller, two to let the worker run
   * ahead while the caller inflates a member itself. */
  b->nslots = workers + 3;
  pthread_mutex_init(&b->read_mu, NULL);
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  if (head_len > STAGE_SIZE)
    head_len = STAGE_SIZE; /* cannot happen: the head is small */
  memcpy(b->stage, head, head_len);
  b->stage_len = head_len;
  b->states = calloc(workers + 1, sizeof *b->states);
  if (b->states == NULL) {
    appc_gzsized_free(b);
    return appc_error_make(err, ENOMEM, "gzip");
  }
  /* malloc, not calloc: the pages a member does not reach cost no RSS. */
  for (unsigned i = 0; i < b->nslots; i++) {
    b->slots[i].in = malloc(SIZED_IN_MAX);
    b->slots[i].out = malloc(SIZED_OUT_MAX);
    if (b->slots[i].in == NULL || b->slots[i].out == NULL) {
      appc_gzsized_free(b);
      return appc_error_make(err, ENOMEM, "gzip");
    }
  }
  if (appc_lazy_bind(APPC_LAZY_ISAL, err) < 0) {
    appc_gzsized_free(b);
    return appc_error_prefix(err, "gzip");
  }
  if (start_workers(b, workers, err) < 0) {
    appc_gzsized_free(b);
    return appc_error_prefix(err, "gzip");
  }
  *out = b;
  return 0;
}

/* Gather the raw bytes of every member from sequence SEQ on, and what is
 * read ahead, for the sequential inflater. */
static int collect_rest(struct appc_gzsized *b, unsigned long long seq, struct appc_gzsized_rest *r,
                        appc_error_t *err)
{
  size_t len = b->stage_len - b->stage_pos, pos = 0;

  for (unsigned long long i = seq; i < b->claimed; i++)
    len += b->slots[i % b->nslots].in_len;
  b->rest = malloc(len > 0 ? len : 1);
  if (b->rest == NULL)
    return appc_error_make(err, ENOMEM, "gzip");
  for (unsigned long long i = seq; i < b->claimed; i++) {
    struct slot *s = &b->slots[i % b->nslots];
    memcpy(b->rest + pos, s->in, s->in_len);
    pos += s->in_len;
  }
  memcpy(b->rest + pos, b->stage + b->stage_pos, b->stage_len - b->stage_pos);
  r->bytes = b->rest;
  r->len = len;
  r->offset = b->slots[seq % b->nslots].offset;
  r->members = seq;
  r->eof = b->eof;
  return 0;
}

ssize_t appc_gzsized_read(struct appc_gzsized *b, const void **buf, struct appc_gzsized_rest *rest,
                          appc_error_t *err)
{
  ssize_t n;

  pthread_mutex_lock(&b->mu);
  if (b->holding) {
    b->holding = false;
    release_slot_locked(b);
  }
  for (;;) {
    struct slot *s = &b->slots[b->consumed % b->nslots];
    if (b->consumed < b->claimed && s->state == SLOT_READY && s->out_len == 0) {
      /* An empty member: 0 would read as the end of the stream. */
      release_slot_locked(b);
      continue;
    }
    if (b->consumed < b->claimed && s->state == SLOT_READY) {
      b->holding = true;
      *buf = s->out;
      n = (ssize_t) s->out_len;
      break;
    }
    if (b->consumed < b->claimed && s->state == SLOT_STOP && b->busy == 0) {
      if (s->err != NULL) {
        *err = steal_pointer(&s->err);
        n = -1;
      } else {
        n = collect_rest(b, b->consumed, rest, err) < 0 ? -1 : APPC_GZSIZED_REST;
      }
      break;
    }
    if (can_claim(b)) {
      /* Nothing to hand out yet: inflate the next member here. */
      pthread_mutex_unlock(&b->mu);
      claim_and_inflate(b, &b->states[b->nworkers]);
      pthread_mutex_lock(&b->mu);
      continue;
    }
    pthread_cond_wait(&b->cv, &b->mu);
  }
  pthread_mutex_unlock(&b->mu);
  return n;
}

void appc_gzsized_free(struct appc_gzsized *b)
{
  if (b == NULL)
    return;
  /* Items that wait are dropped; one that runs finishes its member. */
  appc_wq_free(b->wq);
  for (unsigned i = 0; i < b->nslots; i++) {
    free(b->slots[i].in);
    free(b->slots[i].out);
    appc_error_release(&b->slots[i].err);
  }
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  pthread_mutex_destroy(&b->read_mu);
  free(b->states);
  free(b->rest);
  free(b);
}
