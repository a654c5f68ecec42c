/* SPDX-License-Identifier: Apache-2.0 */
/* gzip decompression for the ACI reader, with ISA-L's inflate.
 *
 * The file is read in large chunks and inflated into a fixed output buffer,
 * so memory stays bounded whatever the image size.  A gzip file is a
 * sequence of members (our own builder writes one per 512 KiB of tar); each
 * member's header is parsed and its CRC-32 and ISIZE trailer checked by
 * ISA-L (crc_flag ISAL_GZIP), and a new member is started wherever one ends.
 *
 * After the last member, bytes that do not begin with the gzip magic are
 * ignored, as libarchive's gzip filter (which this replaces) and GNU gzip
 * ("trailing garbage ignored") do: tape-style zero padding after an image is
 * harmless.  Bytes that do begin with the magic are a member and must be a
 * valid one.  Input that ends inside a member is a "truncated gzip stream".
 *
 * With more than one CPU, inflating runs in a worker thread that fills a
 * small ring of output buffers while the caller hashes and parses the
 * previous ones: inflate and SHA-512 cost about the same, so this nearly
 * halves the wall time of a validation.  Each buffer is filled by an item
 * of a one-worker queue (common/workqueue.h), item n filling buffer
 * n % NBUF, which the caller waits for in turn.  The caller owns the buffer
 * last returned until its next call, and only then queues its refill.
 *
 * A file that starts with a member stating its size (our builder's, see
 * aci/gzsized.c) is inflated by that engine, members in parallel, for as
 * long as its members are sound; from where they are not, or stop stating
 * sizes, the engine hands its raw bytes back, and they are streamed here as
 * if they had been read from the file. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>

#include "aci/internal.h"
#include "common/cleanup.h"
#include "common/lazy.h"
#include "common/workqueue.h"

#ifndef APPC_GUNZIP_IN_SIZE
#define APPC_GUNZIP_IN_SIZE (256 * 1024)
#endif
#ifndef APPC_GUNZIP_OUT_SIZE
#define APPC_GUNZIP_OUT_SIZE (256 * 1024)
#endif
/* Output buffers in the ring: one held by the caller, one being filled,
 * the rest absorb jitter between the two threads. */
#define NBUF 4

/* An output buffer, and what filling it gave. */
struct gz_buf {
  struct appc_gunzip *z;
  unsigned char *data;
  size_t len;       /* 0: the end of the stream */
  appc_error_t err; /* met before any output: the stream ends with it */
};

struct appc_gunzip {
  struct appc_source *src;
  struct appc_tee *tee;          /* NULL or where raw bytes are copied */
  struct appc_gzsized *sized;    /* the parallel engine, or NULL */
  bool sized_done;               /* it has handed the rest of the file back */
  const unsigned char *replay;   /* bytes to stream before reading the file */
  size_t replay_len, replay_pos; /* (the head, or what the engine handed back) */
  bool file_eof;                 /* the source has ended */
  bool in_member;                /* between a member's header and its trailer */
  bool done;                     /* no more output */
  unsigned char *in;
  unsigned long long file_pos; /* file offset just past the bytes in `in` */
  unsigned long long members;  /* members completed */
  struct inflate_state st;

  struct gz_buf bufs[NBUF]; /* only bufs[0] without a worker */
  /* With a worker: its queue, whose items run one at a time and in order
   * (one worker, which the caller never helps), since they share the
   * inflate state above. */
  struct appc_wq *wq;
  unsigned long long consumed; /* buffers released by the caller */
  bool holding;                /* the caller holds bufs[consumed % NBUF] */
  bool finished;               /* the items': the last buffer is filled */
  bool failed;                 /* an error has been reported */
  appc_error_t pending_err;    /* met after some output: reported next time */
};

/* File offset of the next byte ISA-L will look at, for messages. */
static unsigned long long in_offset(const struct appc_gunzip *z)
{
  return z->file_pos - z->st.avail_in;
}

/* Move the unread input to the front of the buffer and read more after it.
 * Returns the number of bytes read (0 at end of file) or -1. */
static ssize_t refill(struct appc_gunzip *z, appc_error_t *err)
{
  size_t keep = z->st.avail_in;

  if (keep > 0 && z->st.next_in != z->in)
    memmove(z->in, z->st.next_in, keep);
  z->st.next_in = z->in;
  if (z->replay_pos < z->replay_len) {
    /* Already read from the file (and copied to the tee). */
    size_t n = z->replay_len - z->replay_pos;
    if (n > APPC_GUNZIP_IN_SIZE - keep)
      n = APPC_GUNZIP_IN_SIZE - keep;
    memcpy(z->in + keep, z->replay + z->replay_pos, n);
    z->replay_pos += n;
    z->st.avail_in = (uint32_t) (keep + n);
    z->file_pos += n;
    return (ssize_t) n;
  }
  ssize_t n = appc_source_read(z->src, z->in + keep, APPC_GUNZIP_IN_SIZE - keep, err);
  if (n < 0)
    return -1;
  if (n == 0)
    z->file_eof = true;
  else if (z->tee != NULL)
    appc_tee_write(z->tee, z->in + keep, (size_t) n);
  z->st.avail_in = (uint32_t) (keep + (size_t) n);
  z->file_pos += (unsigned long long) n;
  return n;
}

static int inflate_error(struct appc_gunzip *z, int ret, appc_error_t *err)
{
  const char *what;

  switch (ret) {
  case ISAL_INVALID_BLOCK:
    what = "invalid deflate block";
    break;
  case ISAL_INVALID_SYMBOL:
    what = "invalid deflate code";
    break;
  case ISAL_INVALID_LOOKBACK:
    what = "invalid deflate back-reference";
    break;
  case ISAL_INVALID_WRAPPER:
    what = "invalid gzip member header";
    break;
  case ISAL_UNSUPPORTED_METHOD:
    what = "unsupported gzip compression method";
    break;
  case ISAL_INCORRECT_CHECKSUM:
    /* ISA-L marks the member finished before comparing the trailer. */
    what = z->st.block_state == ISAL_BLOCK_FINISH ? "CRC-32 or length mismatch in member trailer"
                                                  : "gzip header checksum mismatch";
    break;
  default:
    what = "decompression failed";
    break;
  }
  return appc_error_make(err, 0, "corrupt gzip data: %s (member %llu, near byte %llu)", what,
                         z->members + 1, in_offset(z));
}

/* gzip header flags (RFC 1952) that add fields after the fixed 10 bytes. */
#define GZ_FHCRC 0x02
#define GZ_FEXTRA 0x04
#define GZ_FNAME 0x08
#define GZ_FCOMMENT 0x10

/* Length of the member header at P when all of it is among the N bytes, else
 * 0.  ISA-L can resume a header split across reads, but not soundly: split
 * inside the extra field (which every member we write carries) it reads
 * uninitialised memory and may refuse a sound file.  It gets whole headers. */
static size_t gz_header_len(const unsigned char *p, size_t n)
{
  size_t len = 10;

  if (n < len)
    return 0;
  if (p[3] & GZ_FEXTRA) {
    if (n < len + 2)
      return 0;
    len += 2 + (size_t) (p[len] | p[len + 1] << 8);
  }
  for (unsigned flag = GZ_FNAME; flag <= GZ_FCOMMENT; flag <<= 1) {
    const unsigned char *nul;
    if (!(p[3] & flag))
      continue;
    nul = len < n ? memchr(p + len, 0, n - len) : NULL;
    if (nul == NULL)
      return 0;
    len = (size_t) (nul - p) + 1;
  }
  if (p[3] & GZ_FHCRC)
    len += 2;
  return len <= n ? len : 0;
}

/* Read until the whole header of the member at next_in is buffered. */
static int buffer_header(struct appc_gunzip *z, appc_error_t *err)
{
  while (gz_header_len(z->st.next_in, z->st.avail_in) == 0) {
    if (z->st.avail_in == APPC_GUNZIP_IN_SIZE)
      return appc_error_make(err, 0,
                             "corrupt gzip data: member header longer than %d bytes (member "
                             "%llu, near byte %llu)",
                             APPC_GUNZIP_IN_SIZE, z->members + 1, in_offset(z));
    if (z->file_eof)
      return appc_error_make(err, 0, "truncated gzip stream (member %llu ends early at byte %llu)",
                             z->members + 1, z->file_pos);
    if (refill(z, err) < 0)
      return -1;
  }
  return 0;
}

/* Start the next member, or finish the stream if none follows. */
static int next_member(struct appc_gunzip *z, appc_error_t *err)
{
  /* A pipe may hand over one byte at a time: read until the magic can be
   * told from trailing bytes. */
  while (z->st.avail_in < 2 && !z->file_eof) {
    if (refill(z, err) < 0)
      return -1;
  }
  if (z->st.avail_in >= 2 && z->st.next_in[0] == 0x1f && z->st.next_in[1] == 0x8b) {
    if (buffer_header(z, err) < 0)
      return -1;
    uint8_t *next_in = z->st.next_in, *next_out = z->st.next_out;
    uint32_t avail_in = z->st.avail_in, avail_out = z->st.avail_out;
    isal_inflate_reset(&z->st);
    z->st.next_in = next_in;
    z->st.avail_in = avail_in;
    z->st.next_out = next_out;
    z->st.avail_out = avail_out;
    z->st.crc_flag = ISAL_GZIP;
    z->in_member = true;
    return 0;
  }
  if (z->members == 0)
    return appc_error_make(err, 0, "corrupt gzip data: no gzip header");
  /* Trailing bytes that are not a member: ignored (see the top). */
  z->done = true;
  return 0;
}

static int inflate_loop(struct appc_gunzip *z, appc_error_t *err)
{
  while (!z->done && z->st.avail_out > 0) {
    bool starved = false;
    uint32_t before_out;
    int ret;

    if (!z->in_member) {
      if (next_member(z, err) < 0)
        return -1;
      continue;
    }
    if (z->st.avail_in == 0) {
      if (!z->file_eof && refill(z, err) < 0)
        return -1;
      /* ISA-L may still hold buffered input that finishes the member. */
      starved = z->st.avail_in == 0;
    }
    before_out = z->st.avail_out;
    ret = isal_inflate(&z->st);
    if (ret < 0)
      return inflate_error(z, ret, err);
    if (z->st.block_state == ISAL_BLOCK_FINISH) {
      z->in_member = false;
      z->members++;
    } else if (starved && z->st.avail_out == before_out) {
      return appc_error_make(err, 0, "truncated gzip stream (member %llu ends early at byte %llu)",
                             z->members + 1, z->file_pos);
    }
  }
  return 0;
}

/* Inflate up to CAP bytes into OUT; *len is 0 only at the end of the stream.
 * What was inflated before an error is still returned, and the error on the
 * next call, so that the reader sees as much of the archive as is sound
 * (and reports a broken tar entry rather than a vague failure). */
static int inflate_into(struct appc_gunzip *z, unsigned char *out, size_t cap, size_t *len,
                        appc_error_t *err)
{
  appc_error_t e = NULL;

  if (z->pending_err != NULL) {
    *err = z->pending_err;
    z->pending_err = NULL;
    return -1;
  }
  z->st.next_out = out;
  z->st.avail_out = (uint32_t) cap;
  if (inflate_loop(z, &e) < 0) {
    if (z->st.avail_out == cap) {
      *err = e;
      return -1;
    }
    z->pending_err = e;
    z->done = true;
  }
  *len = cap - z->st.avail_out;
  return 0;
}

/* A queue item: fill one buffer; the errors go with it, to be reported
 * in their place in the stream. */
static int fill_buf(void *data, unsigned worker, appc_error_t *err)
{
  struct gz_buf *b = data;
  struct appc_gunzip *z = b->z;

  (void) worker;
  (void) err;
  b->len = 0;
  if (!z->finished &&
      (inflate_into(z, b->data, APPC_GUNZIP_OUT_SIZE, &b->len, &b->err) < 0 || b->len == 0))
    z->finished = true;
  return 0;
}

/* Inflate ahead in a worker when there is a CPU for it; without (one CPU,
 * or no memory) the caller inflates as it reads. */
static void start_worker(struct appc_gunzip *z)
{
  struct appc_wq_options o = {.threads = 1, .max_pending = NBUF};
  cleanup_error appc_error_t err = NULL;

  if (appc_cpus_online() < 2)
    return;
  for (size_t i = 1; i < NBUF; i++) {
    z->bufs[i].data = malloc(APPC_GUNZIP_OUT_SIZE);
    if (z->bufs[i].data == NULL)
      return;
  }
  if (appc_wq_new(&z->wq, &o, &err) < 0)
    return;
  for (size_t i = 0; i < NBUF; i++)
    (void) appc_wq_submit(z->wq, fill_buf, &z->bufs[i]);
}

/* Stream LEN bytes of BYTES, which start at file offset OFFSET after MEMBERS
 * members, then the rest of the file. */
static void stream_start(struct appc_gunzip *z, const void *bytes, size_t len,
                         unsigned long long offset, unsigned long long members)
{
  isal_inflate_init(&z->st);
  z->replay = bytes;
  z->replay_len = len;
  z->replay_pos = 0;
  z->st.next_in = z->in;
  z->st.avail_in = 0;
  z->file_pos = offset;
  z->members = members;
}

int appc_gunzip_new(struct appc_gunzip **out, struct appc_source *src, const void *head,
                    size_t head_len, struct appc_tee *tee, appc_error_t *err)
{
  struct appc_gunzip *z = calloc(1, sizeof *z);

  if (z == NULL)
    return appc_error_make(err, ENOMEM, "gzip");
  z->src = src;
  z->tee = tee;
  for (size_t i = 0; i < NBUF; i++)
    z->bufs[i].z = z;
  z->in = malloc(APPC_GUNZIP_IN_SIZE);
  z->bufs[0].data = malloc(APPC_GUNZIP_OUT_SIZE);
  if (z->in == NULL || z->bufs[0].data == NULL) {
    appc_gunzip_free(z);
    return appc_error_make(err, ENOMEM, "gzip");
  }
  if (appc_lazy_bind(APPC_LAZY_ISAL, err) < 0) {
    appc_gunzip_free(z);
    return appc_error_prefix(err, "gzip");
  }
  if (appc_gzsized_member_len(head, head_len) != 0) {
    if (appc_gzsized_new(&z->sized, src, head, head_len, tee, appc_cpus_online() - 1, err) < 0) {
      appc_gunzip_free(z);
      return -1;
    }
    *out = z;
    return 0;
  }
  /* The caller keeps HEAD for as long as Z lives. */
  stream_start(z, head, head_len, 0, 0);
  start_worker(z);
  *out = z;
  return 0;
}

/* Read through the parallel engine until it hands the rest of the file back
 * (APPC_GZSIZED_REST); then stream that rest. */
static ssize_t sized_read(struct appc_gunzip *z, const void **buf, appc_error_t *err)
{
  struct appc_gzsized_rest rest;
  ssize_t n = appc_gzsized_read(z->sized, buf, &rest, err);

  if (n != APPC_GZSIZED_REST) {
    if (n < 0)
      z->failed = true;
    return n;
  }
  z->sized_done = true;
  stream_start(z, rest.bytes, rest.len, rest.offset, rest.members);
  /* At the clean end of a file there is nothing left for a worker to do. */
  if (rest.len > 0 || !rest.eof)
    start_worker(z);
  return APPC_GZSIZED_REST;
}

/* Without a worker: inflate into the one buffer here. */
static ssize_t inflate_inline(struct appc_gunzip *z, const void **buf, appc_error_t *err)
{
  size_t len = 0;

  if (inflate_into(z, z->bufs[0].data, APPC_GUNZIP_OUT_SIZE, &len, err) < 0) {
    z->failed = true;
    return -1;
  }
  *buf = z->bufs[0].data;
  return (ssize_t) len;
}

ssize_t appc_gunzip_read(struct appc_gunzip *z, const void **buf, appc_error_t *err)
{
  ssize_t n;

  if (z->failed)
    return appc_error_make(err, 0, "corrupt gzip data");
  if (z->sized != NULL && !z->sized_done) {
    n = sized_read(z, buf, err);
    if (n != APPC_GZSIZED_REST)
      return n;
  }
  if (z->wq == NULL)
    return inflate_inline(z, buf, err);
  if (z->holding) {
    /* Item consumed + NBUF refills the buffer just released. */
    z->holding = false;
    (void) appc_wq_submit(z->wq, fill_buf, &z->bufs[z->consumed++ % NBUF]);
  }
  struct gz_buf *b = &z->bufs[z->consumed % NBUF];
  if (appc_wq_wait_item(z->wq, z->consumed, err) < 0) {
    z->failed = true;
    return -1;
  }
  if (b->err != NULL) {
    *err = steal_pointer(&b->err);
    z->failed = true;
    return -1;
  }
  *buf = b->data;
  z->holding = b->len > 0; /* asked again after the end, it is still the end */
  return (ssize_t) b->len;
}

void appc_gunzip_free(struct appc_gunzip *z)
{
  if (z == NULL)
    return;
  appc_wq_free(z->wq);
  /* After the worker: it may still have been streaming the engine's bytes. */
  appc_gzsized_free(z->sized);
  appc_error_release(&z->pending_err);
  free(z->in);
  for (size_t i = 0; i < NBUF; i++) {
    free(z->bufs[i].data);
    appc_error_release(&z->bufs[i].err);
  }
  free(z);
}
