/* SPDX-License-Identifier: Apache-2.0 */
/* Reading ACIs in one streaming pass.
 *
 * A decompressor turns the file into the uncompressed tar stream: ISA-L for
 * gzip (aci/inflate.c, several times faster than zlib), otherwise an outer
 * libarchive reader (format "raw" plus the bzip2 or xz filter).  Every byte
 * of that stream passes through tar_read_cb, which hashes it and hands it to
 * the inner tar reader.  After the end-of-archive marker whatever is left
 * (padding) is drained into the hash too, so the ID covers the whole
 * uncompressed stream, exactly as the reference computes it.  An
 * uncompressed image is read directly.
 *
 * tar_read_cb also notes every block that would be a header libarchive
 * applies to the next entry, or skips, if read as a header.  A pax global
 * header ('g'): libarchive skips it without a word, while Python's tarfile
 * and GNU tar apply its records (path=, say) to every entry after it, and
 * the reference refuses the archive: one image, different trees.
 * libarchive does not tell which blocks it read as headers, but it does
 * tell where an entry's headers begin (archive_read_header_position) and
 * how far it has read (archive_filter_bytes), which is where the entry's
 * data begins: a 'g' block noted in between is a header it read and
 * skipped, refused.  Blocks noted elsewhere lie in data, where they mean
 * nothing.  GNU volume headers ('V') are noted and refused the same way,
 * and so are Solaris pax ('X') and ACL ('A') headers, which Go's
 * archive/tar (the reference's) reads as entries of their own.
 *
 * The GNU long name and long link headers ('L', 'K') and pax extended
 * headers ('x') are noted too, and the body of each 'x' read as it streams
 * by for the records that name the entry (aci/tarhdr.c): an entry whose
 * name, or link target, more than one of them gives is read differently
 * by different readers (of a pax path and an 'L', libarchive takes the
 * first, Go's reader the 'L' and GNU tar the pax path wherever each comes;
 * of two 'L', libarchive the last and Python's tarfile the first), and is
 * refused; so are two 'x' headers for one entry, a name libarchive
 * reads otherwise than the others (empty, or holding a NUL), and a
 * GNU.sparse.name that Go's reader ignores. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/internal.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/lazy.h"

#define READ_BLOCK (256 * 1024)
#define HEAD_LEN 512 /* a tar header: what detection needs */
#define TAR_BLOCK 512
/* At most this many 'g' or 'V' look-alikes noted between two entries'
 * data.  They are not sought only where headers can be: which blocks hold
 * data is libarchive's call (a hard link's size is data or not by a
 * heuristic), and guessing it differently would let a crafted header
 * through.  So the data is scanned too, and an image may hold tarballs
 * that start with a 'g' header (git archive makes them); the notes in an
 * entry's data are dropped at the next entry.  No real image has 65536
 * look-alikes (32 MiB of nothing but 'g' headers) within one entry's data:
 * an archive that has is refused rather than let grow the list without
 * bound. */
#define GLOBAL_HEADERS_MAX 65536
/* The same for the other headers noted ('x', 'L', 'K', 'X', 'A'), of which
 * a tarball kept in an image has one or two per member: a bound only a
 * crafted entry reaches (128 MiB of them), the notes 24 bytes each. */
#define EXTENSION_HEADERS_MAX (1 << 18)
/* The bodies of 'x' look-alikes read at once.  Another 'x' block while all
 * are in use ends the oldest's reading: an entry with that header among its
 * own is refused (the newer blocks lie within its body, and each counts as
 * a second 'x' anyway). */
#define PAX_SCANS 8

/* A block that would be a header libarchive applies or skips. */
struct tar_note {
  uint64_t offset; /* in the uncompressed stream, a multiple of TAR_BLOCK */
  unsigned char type;
  bool no_name;               /* for an 'L' or 'K': its body empty, or its size unread */
  struct appc_pax_result pax; /* for an 'x': its records, once read */
};

/* The body of the 'x' block at HEADER, read from NEXT up to END. */
struct pax_slot {
  bool busy;
  uint64_t header, next, end;
  struct appc_pax_scan scan;
};

struct appc_tar_reader {
  struct appc_source *src;
  struct appc_source *owned; /* src, when opened here from a path */
  enum appc_compression compression;
  unsigned char head[HEAD_LEN]; /* first bytes, read for detection */
  size_t head_len;
  bool head_served;
  unsigned char *buf;     /* READ_BLOCK bytes for reads from the source */
  struct appc_gunzip *gz; /* gzip decompressor, or NULL */
  struct archive *outer;  /* bzip2/xz decompressor, or NULL */
  struct archive *tar;
  struct appc_hash *hash; /* NULL when not hashing */
  struct appc_tee *tee;   /* NULL when not copying the raw bytes */
  unsigned long long size;
  appc_error_t cb_err; /* error raised inside a callback */
  /* Look-alikes of the headers libarchive applies or skips (see the top):
   * the blocks with a right checksum that libarchive's last entry did not
   * account for, in increasing order; how many are 'g' or 'V'. */
  struct tar_note *notes;
  size_t nnotes, notes_cap, nglobals;
  struct pax_slot pax[PAX_SCANS];
  const unsigned char *chunk; /* the chunk being scanned, at stream offset chunk_at */
  uint64_t chunk_at;
  unsigned char partial[TAR_BLOCK]; /* the block cut short by a chunk's end */
  size_t partial_len;               /* = the stream offset modulo TAR_BLOCK */
  bool at_end;                      /* the end of the archive was read */
};

/* Read from the file, first serving the bytes already read for detection. */
static la_ssize_t file_read(struct appc_tar_reader *r, const void **buf)
{
  if (!r->head_served) {
    r->head_served = true;
    if (r->head_len > 0) {
      *buf = r->head;
      return (la_ssize_t) r->head_len;
    }
  }
  ssize_t n = appc_source_read(r->src, r->buf, READ_BLOCK, &r->cb_err);
  if (n > 0 && r->tee != NULL)
    appc_tee_write(r->tee, r->buf, (size_t) n);
  *buf = r->buf;
  return n;
}

static la_ssize_t outer_read_cb(struct archive *a, void *data, const void **buf)
{
  struct appc_tar_reader *r = data;
  la_ssize_t n = file_read(r, buf);
  if (n < 0)
    archive_set_error(a, r->cb_err != NULL ? r->cb_err->errnum : EIO, "read");
  return n;
}

/* The next chunk of the uncompressed stream: 0 at its end, -1 on error. */
static la_ssize_t pull(struct appc_tar_reader *r, const void **buf)
{
  size_t len = 0;
  la_int64_t offset;
  int ret;

  if (r->gz != NULL)
    return appc_gunzip_read(r->gz, buf, &r->cb_err);
  if (r->outer == NULL)
    return file_read(r, buf);
  ret = archive_read_data_block(r->outer, buf, &len, &offset);
  if (ret == ARCHIVE_EOF)
    return 0;
  if (ret < ARCHIVE_OK) {
    /* A read error inside outer_read_cb is already recorded. */
    appc_error_make(&r->cb_err, 0, "truncated or corrupt %s data: %s",
                    appc_compression_name(r->compression),
                    archive_error_string(r->outer) != NULL ? archive_error_string(r->outer)
                                                           : "decompression failed");
    return -1;
  }
  return (la_ssize_t) len;
}

static bool is_global(unsigned char type)
{
  return type == 'g' || type == 'V';
}

/* The note of the block at OFFSET, or NULL if there is none (any more). */
static struct tar_note *note_find(struct appc_tar_reader *r, uint64_t offset)
{
  size_t lo = 0, hi = r->nnotes;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->notes[mid].offset < offset)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < r->nnotes && r->notes[lo].offset == offset ? &r->notes[lo] : NULL;
}

static int note_add(struct appc_tar_reader *r, uint64_t offset, unsigned char type,
                    appc_error_t *err)
{
  if (is_global(type) && r->nglobals >= GLOBAL_HEADERS_MAX)
    return appc_error_make(
        err, 0,
        "invalid tar archive: more than %d blocks that look like pax global headers "
        "('g') or GNU volume headers ('V') within one entry's data, the last "
        "at byte %llu; refused",
        GLOBAL_HEADERS_MAX, (unsigned long long) offset);
  if (!is_global(type) && r->nnotes - r->nglobals >= EXTENSION_HEADERS_MAX)
    return appc_error_make(err, 0,
                           "invalid tar archive: more than %d blocks that look like tar "
                           "extension headers ('x', 'L', 'K', 'X' or 'A') within one entry's "
                           "data, the last at byte %llu; refused",
                           EXTENSION_HEADERS_MAX, (unsigned long long) offset);
  if (APPC_ARRAY_RESERVE(r->notes, r->notes_cap, r->nnotes + 1) < 0)
    return appc_error_make(err, ENOMEM, "read");
  r->notes[r->nnotes++] = (struct tar_note){.offset = offset, .type = type};
  if (is_global(type))
    r->nglobals++;
  return 0;
}

/* Hand the bytes of the chunk being scanned up to stream offset UPTO to
 * the bodies being read (each has had every byte before: the chunks come
 * in order, and a body begins after its header's block). */
static void pax_feed(struct appc_tar_reader *r, uint64_t upto)
{
  for (size_t i = 0; i < PAX_SCANS; i++) {
    struct pax_slot *slot = &r->pax[i];
    if (!slot->busy)
      continue;
    uint64_t to = slot->end < upto ? slot->end : upto;
    if (slot->next < to) {
      appc_pax_scan_feed(&slot->scan, r->chunk + (slot->next - r->chunk_at),
                         (size_t) (to - slot->next));
      slot->next = to;
    }
    if (slot->next == slot->end) {
      struct tar_note *note = note_find(r, slot->header);
      if (note != NULL)
        note->pax = appc_pax_scan_end(&slot->scan);
      slot->busy = false;
    }
  }
}

/* The slot to read a new body in: a free one, else the oldest (whose
 * header, left unread, is refused if an entry has it). */
static struct pax_slot *pax_slot_take(struct appc_tar_reader *r)
{
  struct pax_slot *oldest = &r->pax[0];

  for (size_t i = 0; i < PAX_SCANS; i++) {
    if (!r->pax[i].busy)
      return &r->pax[i];
    if (r->pax[i].header < oldest->header)
      oldest = &r->pax[i];
  }
  return oldest;
}

/* The body of the 'x' block BLOCK at OFFSET is read as it comes: its
 * note's records are known once its last byte has passed. */
static void pax_start(struct appc_tar_reader *r, const unsigned char *block, uint64_t offset)
{
  struct pax_slot *slot;
  uint64_t size;

  if (!appc_tar_special_size(block, &size))
    return; /* left unread */
  /* The bodies before this block first: they may end before it, which
   * frees their slots. */
  pax_feed(r, offset + TAR_BLOCK);
  slot = pax_slot_take(r);
  *slot = (struct pax_slot){
      .busy = true, .header = offset, .next = offset + TAR_BLOCK, .end = offset + TAR_BLOCK + size};
  appc_pax_scan_start(&slot->scan);
}

/* A type libarchive reads as a header for the next entry, or skips. */
static bool is_extension(unsigned char type)
{
  return is_global(type) || type == 'X' || type == 'A' || type == 'L' || type == 'K' || type == 'x';
}

/* Note BLOCK, at stream offset OFFSET, if libarchive would read it as one
 * of those headers.  The type byte first: one compare or so for most
 * blocks. */
static int scan_block(struct appc_tar_reader *r, const unsigned char *block, uint64_t offset,
                      appc_error_t *err)
{
  struct tar_note *last = r->nnotes > 0 ? &r->notes[r->nnotes - 1] : NULL;
  unsigned char type = block[156];
  uint64_t size;

  /* The first byte of an 'L' or 'K' body: a NUL there is an empty name,
   * which Go's archive/tar ignores and other readers take. */
  if (last != NULL && (last->type == 'L' || last->type == 'K') &&
      last->offset + TAR_BLOCK == offset && block[0] == '\0')
    last->no_name = true;
  if (!is_extension(type) || !appc_tar_checksum_ok(block))
    return 0;
  if (note_add(r, offset, type, err) < 0)
    return -1;
  if (type == 'x')
    pax_start(r, block, offset);
  if ((type == 'L' || type == 'K') && (!appc_tar_special_size(block, &size) || size == 0))
    r->notes[r->nnotes - 1].no_name = true;
  return 0;
}

/* Note the blocks of the N bytes of BUF, which come at stream offset
 * OFFSET.  Chunks are of any size and alignment: a block cut by a chunk's
 * end is kept in r->partial and completed from the next. */
static int scan_blocks(struct appc_tar_reader *r, const unsigned char *buf, size_t n,
                       uint64_t offset, appc_error_t *err)
{
  size_t pos = 0;

  if (r->partial_len > 0) {
    size_t need = TAR_BLOCK - r->partial_len;
    size_t take = n < need ? n : need;
    memcpy(r->partial + r->partial_len, buf, take);
    r->partial_len += take;
    pos = take;
    if (r->partial_len < TAR_BLOCK)
      return 0;
    r->partial_len = 0;
    if (scan_block(r, r->partial, offset - (TAR_BLOCK - take), err) < 0)
      return -1;
  }
  for (; n - pos >= TAR_BLOCK; pos += TAR_BLOCK)
    if (scan_block(r, buf + pos, offset + pos, err) < 0)
      return -1;
  memcpy(r->partial, buf + pos, n - pos);
  r->partial_len = n - pos;
  return 0;
}

/* Scan the N bytes of BUF, which come at stream offset r->size: its
 * blocks, and the bytes of the 'x' bodies in it, in stream order. */
static int scan_chunk(struct appc_tar_reader *r, const unsigned char *buf, size_t n,
                      appc_error_t *err)
{
  r->chunk = buf;
  r->chunk_at = r->size;
  if (scan_blocks(r, buf, n, r->size, err) < 0)
    return -1;
  pax_feed(r, r->size + n);
  return 0;
}

static la_ssize_t tar_read_cb(struct archive *a, void *data, const void **buf)
{
  struct appc_tar_reader *r = data;
  /* Checked per chunk of the uncompressed stream too: one read of a
   * compressed file can inflate a thousandfold. */
  if (appc_source_cancelled(r->src)) {
    appc_error_release(&r->cb_err);
    appc_error_make(&r->cb_err, ECANCELED, "reading cancelled");
    archive_set_error(a, ECANCELED, "reading cancelled");
    return -1;
  }
  la_ssize_t n = pull(r, buf);
  if (n < 0) {
    archive_set_error(a, EIO, "%s", r->cb_err != NULL ? r->cb_err->msg : "read failed");
    return -1;
  }
  /* After the end of the archive there are no more entries to mislead. */
  appc_error_t scan_err = NULL;
  if (!r->at_end && n > 0 && scan_chunk(r, *buf, (size_t) n, &scan_err) < 0) {
    appc_error_release(&r->cb_err);
    r->cb_err = scan_err;
    archive_set_error(a, EINVAL, "%s", scan_err != NULL ? scan_err->msg : "out of memory");
    return -1;
  }
  if (r->hash != NULL)
    appc_hash_update(r->hash, *buf, (size_t) n);
  r->size += (unsigned long long) n;
  return n;
}

/* Read the first bytes and decide how the file is compressed. */
static int detect(struct appc_tar_reader *r, appc_error_t *err)
{
  while (r->head_len < HEAD_LEN) {
    ssize_t n = appc_source_read(r->src, r->head + r->head_len, HEAD_LEN - r->head_len, err);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    r->head_len += (size_t) n;
  }
  if (r->head_len == 0)
    return appc_error_make(err, 0, "not an ACI: the file is empty");
  if (r->tee != NULL)
    appc_tee_write(r->tee, r->head, r->head_len);
  if (appc_compression_detect(r->head, r->head_len, &r->compression) < 0)
    return appc_error_make(err, 0,
                           "not an ACI: unrecognised format (expected tar, gzip, bzip2 or xz)");
  return 0;
}

static int outer_open(struct appc_tar_reader *r, appc_error_t *err)
{
  struct archive_entry *e;
  int ret;

  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  r->outer = archive_read_new();
  if (r->outer == NULL)
    return appc_error_make(err, ENOMEM, "archive");
  switch (r->compression) {
  case APPC_COMPRESSION_BZIP2:
    ret = archive_read_support_filter_bzip2(r->outer);
    break;
  default:
    ret = archive_read_support_filter_xz(r->outer);
    break;
  }
  /* ARCHIVE_WARN means an external program will do it: still fine. */
  if (ret < ARCHIVE_WARN || archive_read_support_format_raw(r->outer) != ARCHIVE_OK)
    return appc_error_make(err, 0, "%s: %s", appc_compression_name(r->compression),
                           archive_error_string(r->outer));
  if (archive_read_open(r->outer, r, NULL, outer_read_cb, NULL) != ARCHIVE_OK ||
      archive_read_next_header(r->outer, &e) != ARCHIVE_OK) {
    if (r->cb_err != NULL) {
      *err = steal_pointer(&r->cb_err);
      return -1;
    }
    return appc_error_make(err, 0, "corrupt %s data: %s", appc_compression_name(r->compression),
                           archive_error_string(r->outer));
  }
  /* If the filter refused the header, libarchive silently reads the bytes
   * as they are: that is a corrupt file, not an uncompressed one. */
  if (archive_filter_code(r->outer, 0) == ARCHIVE_FILTER_NONE)
    return appc_error_make(err, 0, "corrupt %s header", appc_compression_name(r->compression));
  return 0;
}

static int tar_open(struct appc_tar_reader *r, appc_error_t *err)
{
  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  r->tar = archive_read_new();
  if (r->tar == NULL)
    return appc_error_make(err, ENOMEM, "archive");
  if (archive_read_support_format_tar(r->tar) != ARCHIVE_OK)
    return appc_error_make(err, 0, "tar: %s", archive_error_string(r->tar));
  /* No skip callback: every byte must go through tar_read_cb to be hashed. */
  if (archive_read_open(r->tar, r, NULL, tar_read_cb, NULL) != ARCHIVE_OK) {
    if (r->cb_err != NULL) {
      *err = steal_pointer(&r->cb_err);
      return -1;
    }
    return appc_error_make(err, 0, "not a tar archive: %s", archive_error_string(r->tar));
  }
  return 0;
}

static int reader_open(struct appc_tar_reader *r, bool hash, appc_error_t *err)
{
  if (appc_source_take(r->src, err) < 0)
    return -1;
  if (hash && appc_hash_new(&r->hash, err) < 0)
    return -1;
  if (detect(r, err) < 0)
    return -1;
  if (r->compression == APPC_COMPRESSION_GZIP) {
    if (appc_gunzip_new(&r->gz, r->src, r->head, r->head_len, r->tee, err) < 0)
      return -1;
  } else {
    r->buf = malloc(READ_BLOCK);
    if (r->buf == NULL)
      return appc_error_make(err, ENOMEM, "read");
    if (r->compression != APPC_COMPRESSION_NONE && outer_open(r, err) < 0)
      return -1;
  }
  return tar_open(r, err);
}

int appc_tar_reader_open(struct appc_tar_reader **out, const char *path, bool hash,
                         appc_error_t *err)
{
  return appc_tar_reader_open_tee(out, path, hash, NULL, err);
}

int appc_tar_reader_open_tee(struct appc_tar_reader **out, const char *path, bool hash,
                             struct appc_tee *tee, appc_error_t *err)
{
  struct appc_source *src = NULL;

  if (appc_source_open_file(&src, path, err) < 0)
    return -1;
  if (appc_tar_reader_open_source(out, src, hash, tee, err) < 0) {
    appc_source_free(src);
    return -1;
  }
  (*out)->owned = src;
  return 0;
}

int appc_tar_reader_open_progress(struct appc_tar_reader **out, const char *path, bool hash,
                                  const struct appc_callbacks *cb, enum appc_progress_op op,
                                  appc_error_t *err)
{
  struct appc_source *src = NULL;

  if (appc_source_open_file(&src, path, err) < 0)
    return -1;
  appc_source_progress(src, cb, op);
  if (appc_tar_reader_open_source(out, src, hash, NULL, err) < 0) {
    appc_source_free(src);
    return -1;
  }
  (*out)->owned = src;
  return 0;
}

int appc_tar_reader_open_source(struct appc_tar_reader **out, struct appc_source *src, bool hash,
                                struct appc_tee *tee, appc_error_t *err)
{
  struct appc_tar_reader *r = calloc(1, sizeof *r);

  if (r == NULL)
    return appc_error_make(err, ENOMEM, "%s", appc_source_name(src));
  r->src = src;
  r->tee = tee;
  if (reader_open(r, hash, err) < 0) {
    appc_tar_reader_free(r);
    return -1;
  }
  *out = r;
  return 0;
}

struct archive *appc_tar_reader_archive(struct appc_tar_reader *r)
{
  return r->tar;
}

enum appc_compression appc_tar_reader_compression(struct appc_tar_reader *r)
{
  return r->compression;
}

/* Turn a libarchive failure on the tar reader into an error. */
static int tar_fail(struct appc_tar_reader *r, const char *what, appc_error_t *err)
{
  if (r->cb_err != NULL) {
    *err = steal_pointer(&r->cb_err);
    return appc_error_prefix(err, "%s", what);
  }
  return appc_error_make(err, 0, "%s: %s", what,
                         archive_error_string(r->tar) != NULL ? archive_error_string(r->tar)
                                                              : "invalid tar data");
}

/* libarchive's warning for a name, link or user name that the locale's
 * character set cannot represent (its "can't be converted" message): the
 * only warning whose entry is still as the archive says. */
static bool charset_warning(struct archive *a)
{
  const char *msg = archive_error_string(a);

  return msg != NULL && strstr(msg, "can't be converted") != NULL;
}

/* Forget the notes before OFFSET: the entry's data begins there, and what
 * comes before it has been accounted for. */
static void drop_notes_before(struct appc_tar_reader *r, uint64_t offset)
{
  size_t k = 0;

  for (; k < r->nnotes && r->notes[k].offset < offset; k++)
    if (is_global(r->notes[k].type))
      r->nglobals--;
  if (k == 0)
    return; /* (nothing noted yet: no array to move in) */
  memmove(r->notes, r->notes + k, (r->nnotes - k) * sizeof *r->notes);
  r->nnotes -= k;
}

/* A header or record that gives an entry its name or its link target. */
struct source {
  const char *what;
  uint64_t at; /* its header's offset */
};

/* The headers of one entry, by what they mean for it. */
struct headers {
  const struct tar_note *global;   /* the first 'g' or 'V' */
  const struct tar_note *solaris;  /* the first 'X' or 'A' */
  const struct tar_note *unread;   /* the first 'x' whose records are not known */
  const struct tar_note *pax[2];   /* the first two 'x' */
  const struct tar_note *bad;      /* the first 'x' with a name record others read otherwise */
  const struct tar_note *unmarked; /* the first 'x' with a GNU.sparse.name Go ignores */
  const struct tar_note *no_name;  /* the first 'L' or 'K' with an empty name */
  struct source names[2], links[2];
  size_t nnames, nlinks;
};

static void add_source(struct source list[2], size_t *n, const char *what, uint64_t at)
{
  if (*n < 2)
    list[*n] = (struct source){.what = what, .at = at};
  (*n)++;
}

static void first(const struct tar_note **slot, const struct tar_note *note)
{
  if (*slot == NULL)
    *slot = note;
}

static void tally_pax(struct headers *h, const struct tar_note *note)
{
  const struct appc_pax_result *pax = &note->pax;

  first(h->pax[0] == NULL ? &h->pax[0] : &h->pax[1], note);
  if (!pax->read) {
    first(&h->unread, note);
    return;
  }
  /* (a key twice in one header: the last wins in every reader) */
  if (pax->has[APPC_PAX_PATH])
    add_source(h->names, &h->nnames, "a pax path record", note->offset);
  if (pax->has[APPC_PAX_SPARSE_NAME])
    add_source(h->names, &h->nnames, "a pax GNU.sparse.name record", note->offset);
  if (pax->has[APPC_PAX_LINKPATH])
    add_source(h->links, &h->nlinks, "a pax linkpath record", note->offset);
  if (pax->bad != APPC_PAX_OTHER)
    first(&h->bad, note);
  if (pax->has[APPC_PAX_SPARSE_NAME] && !pax->sparse)
    first(&h->unmarked, note);
}

/* The notes in [FROM, TO): the headers libarchive read for one entry. */
static void tally(const struct appc_tar_reader *r, uint64_t from, uint64_t to, struct headers *h)
{
  *h = (struct headers){0};
  for (size_t i = 0; i < r->nnotes && r->notes[i].offset < to; i++) {
    const struct tar_note *note = &r->notes[i];
    if (note->offset < from)
      continue;
    switch (note->type) {
    case 'L':
      add_source(h->names, &h->nnames, "a GNU long name header ('L')", note->offset);
      if (note->no_name)
        first(&h->no_name, note);
      break;
    case 'K':
      add_source(h->links, &h->nlinks, "a GNU long link header ('K')", note->offset);
      if (note->no_name)
        first(&h->no_name, note);
      break;
    case 'x':
      tally_pax(h, note);
      break;
    case 'X':
    case 'A':
      first(&h->solaris, note);
      break;
    default:
      first(&h->global, note);
      break;
    }
  }
}

static const char *entry_name(struct archive_entry *e)
{
  return archive_entry_pathname(e) != NULL ? archive_entry_pathname(e) : "(no name)";
}

/* The headers libarchive skips or reads otherwise than other readers. */
static int refuse_skipped(const struct headers *h, appc_error_t *err)
{
  if (h->global != NULL && h->global->type == 'V')
    return appc_error_make(err, 0,
                           "invalid tar archive: a GNU volume header ('V') at byte %llu: "
                           "libarchive reads the next header right after it, other tar readers "
                           "skip the size it gives first; refused",
                           (unsigned long long) h->global->offset);
  if (h->global != NULL)
    return appc_error_make(err, 0,
                           "invalid tar archive: a pax global header ('g') at byte %llu: other "
                           "tar readers apply it to the entries after it, libarchive ignores "
                           "it; refused",
                           (unsigned long long) h->global->offset);
  if (h->solaris != NULL)
    return appc_error_make(err, 0,
                           "invalid tar archive: a Solaris %s header ('%c') at byte %llu: "
                           "libarchive applies it to the next entry, Go's archive/tar (the "
                           "reference's) reads it as an entry of its own; refused",
                           h->solaris->type == 'X' ? "pax" : "ACL", h->solaris->type,
                           (unsigned long long) h->solaris->offset);
  return 0;
}

static const char *pax_key_name(uint8_t key)
{
  return key == APPC_PAX_PATH ? "path" : key == APPC_PAX_LINKPATH ? "linkpath" : "GNU.sparse.name";
}

static int refuse_two(struct archive_entry *e, const struct source two[2], const char *what,
                      appc_error_t *err)
{
  return appc_error_make(err, 0,
                         "invalid tar archive: %s: %s at byte %llu and %s at byte %llu both "
                         "give its %s: tar readers differ on which one applies; refused",
                         entry_name(e), two[0].what, (unsigned long long) two[0].at, two[1].what,
                         (unsigned long long) two[1].at, what);
}

/* An entry's name and link target must come from one header each. */
static int refuse_names(struct archive_entry *e, const struct headers *h, appc_error_t *err)
{
  if (h->unread != NULL)
    return appc_error_make(err, 0,
                           "invalid tar archive: %s: a pax extended header ('x') at byte %llu "
                           "whose records could not be read whole; refused",
                           entry_name(e), (unsigned long long) h->unread->offset);
  if (h->nnames > 1)
    return refuse_two(e, h->names, "name", err);
  if (h->nlinks > 1)
    return refuse_two(e, h->links, "link target", err);
  if (h->pax[1] != NULL)
    return appc_error_make(err, 0,
                           "invalid tar archive: %s: two pax extended headers ('x'), at bytes "
                           "%llu and %llu: tar readers differ on whose records apply; refused",
                           entry_name(e), (unsigned long long) h->pax[0]->offset,
                           (unsigned long long) h->pax[1]->offset);
  return 0;
}

/* An entry's one name must be one that every reader reads alike. */
static int refuse_values(struct archive_entry *e, const struct headers *h, appc_error_t *err)
{
  if (h->bad != NULL)
    return appc_error_make(
        err, 0, "invalid tar archive: %s: a pax %s record at byte %llu %s; refused", entry_name(e),
        pax_key_name(h->bad->pax.bad), (unsigned long long) h->bad->offset,
        h->bad->pax.bad_nul ? "holds a NUL byte: libarchive and GNU tar cut the value there, "
                              "Python's tarfile keeps it whole, Go's archive/tar refuses it"
                            : "is empty: libarchive ignores it, other tar readers take the "
                              "empty value");
  if (h->no_name != NULL)
    return appc_error_make(err, 0,
                           "invalid tar archive: %s: a GNU long %s header ('%c') at byte %llu "
                           "with an empty name (or a size not in octal): libarchive and Python's "
                           "tarfile take the empty name, Go's archive/tar ignores it; refused",
                           entry_name(e), h->no_name->type == 'L' ? "name" : "link",
                           h->no_name->type, (unsigned long long) h->no_name->offset);
  if (h->unmarked != NULL)
    return appc_error_make(err, 0,
                           "invalid tar archive: %s: a pax GNU.sparse.name record at byte %llu "
                           "without GNU.sparse.major=1 and GNU.sparse.minor=0 or a "
                           "GNU.sparse.map: libarchive takes the name it gives, Go's "
                           "archive/tar (the reference's) the header's; refused",
                           entry_name(e), (unsigned long long) h->unmarked->offset);
  return 0;
}

/* The entry E just read, whose headers libarchive read from the stream
 * offset archive_read_header_position up to archive_filter_bytes (where
 * its data begins), must have had among them no header libarchive skips
 * and no two that give its name or link target (see the top). */
static int check_headers(struct appc_tar_reader *r, struct archive_entry *e, appc_error_t *err)
{
  la_int64_t from = archive_read_header_position(r->tar);
  la_int64_t to = archive_filter_bytes(r->tar, 0);
  struct headers h;

  if (from < 0 || to < from)
    return appc_error_make(err, 0, "invalid tar archive: libarchive gave no header position");
  tally(r, (uint64_t) from, (uint64_t) to, &h);
  if (refuse_skipped(&h, err) < 0 || refuse_names(e, &h, err) < 0 || refuse_values(e, &h, err) < 0)
    return -1;
  drop_notes_before(r, (uint64_t) to);
  return 0;
}

/* What kind of entry E is, for a message. */
static const char *entry_kind(struct archive_entry *e)
{
  if (archive_entry_hardlink(e) != NULL)
    return "hard link";
  switch (archive_entry_filetype(e)) {
  case AE_IFDIR:
    return "directory";
  case AE_IFLNK:
    return "symbolic link";
  case AE_IFCHR:
  case AE_IFBLK:
    return "device";
  case AE_IFIFO:
    return "FIFO";
  case AE_IFREG:
    return "regular file";
  default:
    return "entry";
  }
}

/* Only a regular file has data.  libarchive reads the data a hard link's,
 * a directory's, a symbolic link's or a device's header gives a size to
 * (a pax size= record does) as the entry's, while Python's tarfile, Go's
 * archive/tar (the reference's) and GNU tar read none for them and take
 * those bytes for the headers that follow: whatever they hold (a 'g'
 * header, whole entries) would be seen by one and not the other. */
static int check_data_only_in_files(struct archive_entry *e, appc_error_t *err)
{
  if (archive_entry_size(e) <= 0 ||
      (archive_entry_hardlink(e) == NULL && archive_entry_filetype(e) == AE_IFREG))
    return 0;
  return appc_error_make(err, 0,
                         "invalid tar archive: %s: a %s with %lld bytes of data: libarchive "
                         "reads them as its data, other tar readers as the headers after it; "
                         "refused",
                         entry_name(e), entry_kind(e), (long long) archive_entry_size(e));
}

int appc_tar_reader_next(struct appc_tar_reader *r, struct archive_entry **entry, appc_error_t *err)
{
  int ret = archive_read_next_header(r->tar, entry);

  if (ret == ARCHIVE_EOF) {
    /* A 'g' before the end marker applies to no entry: nothing to refuse. */
    r->at_end = true;
    *entry = NULL;
    return 0;
  }
  /* ARCHIVE_WARN for a name not representable in the locale is fine: the
   * raw bytes are still there and are what we check.  Any other warning is
   * a header libarchive skipped (a malformed pax header, say), after which
   * the entry is not what other tools read: refused.  So is ARCHIVE_RETRY,
   * a header whose checksum is wrong, which would come back as an entry
   * with nothing in it. */
  if (ret != ARCHIVE_OK && !(ret == ARCHIVE_WARN && charset_warning(r->tar))) {
    *entry = NULL;
    return tar_fail(r, "invalid or truncated tar archive", err);
  }
  if (check_headers(r, *entry, err) < 0 || check_data_only_in_files(*entry, err) < 0) {
    *entry = NULL;
    return -1;
  }
  return 1;
}

/* ---- an entry's data, as its header maps it ---- */

/* The data regions of an entry, walked in order: its sparse map, or the
 * whole entry when it has none. */
struct regions {
  struct archive_entry *e;
  bool sparse, done;
  int64_t off, end; /* the current region */
};

static void regions_next(struct regions *r)
{
  la_int64_t off, len;

  do {
    if (!r->sparse || archive_entry_sparse_next(r->e, &off, &len) != ARCHIVE_OK) {
      r->done = true;
      return;
    }
  } while (len == 0);
  r->off = off;
  r->end = off + len; /* libarchive keeps offset + length within the size */
}

static void regions_start(struct regions *r, struct archive_entry *e, int64_t size)
{
  *r = (struct regions){.e = e, .off = 0, .end = size};
  /* libarchive's iterator must not be used on an entry without a map */
  r->sparse = archive_entry_sparse_reset(e) > 0;
  if (r->sparse)
    regions_next(r);
  else
    r->done = size == 0;
}

/* Pass the regions that end at or before POS. */
static void regions_skip_to(struct regions *r, int64_t pos)
{
  while (!r->done && r->end <= pos)
    regions_next(r);
}

/* The gap [POS, END) between blocks: a hole of the map, or data missing. */
static int walk_hole(struct regions *r, int64_t pos, int64_t end, const char *what, const char *sep,
                     const struct appc_tar_data_ops *ops, appc_error_t *err)
{
  regions_skip_to(r, pos);
  if (!r->done && r->off < end)
    return appc_error_make(err, 0,
                           "%s%sthe data stops at byte %lld, and the header says there is "
                           "data up to byte %lld",
                           what, sep, (long long) (r->off > pos ? r->off : pos),
                           (long long) r->end);
  return ops->hole != NULL ? ops->hole(ops->ctx, (uint64_t) (end - pos), err) : 0;
}

int appc_tar_data_walk(struct archive *in, struct archive_entry *entry, const char *what,
                       const struct appc_tar_data_ops *ops, appc_error_t *err)
{
  int64_t size = archive_entry_size(entry), pos = 0;
  const char *sep = what != NULL ? ": " : "";
  struct regions r;
  const void *buf;
  size_t len;
  la_int64_t off;
  int ret;

  if (what == NULL)
    what = "";
  if (size < 0)
    return appc_error_make(err, 0, "%s%sa negative size", what, sep);
  regions_start(&r, entry, size);
  while ((ret = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK ||
         ret == ARCHIVE_WARN) {
    if (appc_cb_cancelled(ops->cb))
      return appc_error_make(err, ECANCELED, "%s%sreading cancelled", what, sep);
    if (len == 0)
      continue;
    if (off < pos || off > size || len > (uint64_t) (size - off))
      return appc_error_make(err, 0, "%s%sdata at byte %lld, outside the entry", what, sep,
                             (long long) off);
    if (off > pos && walk_hole(&r, pos, off, what, sep, ops, err) < 0)
      return -1;
    regions_skip_to(&r, off);
    if (r.done || off < r.off || off + (int64_t) len > r.end)
      return appc_error_make(err, 0, "%s%sdata at byte %lld, in a hole of its sparse map", what,
                             sep, (long long) off);
    if (ops->data != NULL && ops->data(ops->ctx, buf, len, err) < 0)
      return -1;
    pos = off + (int64_t) len;
  }
  if (ret != ARCHIVE_EOF)
    return appc_error_make(err, 0, "%s%s%s", what, sep,
                           archive_error_string(in) != NULL ? archive_error_string(in)
                                                            : "truncated or corrupt data");
  return pos < size ? walk_hole(&r, pos, size, what, sep, ops, err) : 0;
}

int appc_tar_reader_skip(struct appc_tar_reader *r, const char *name, appc_error_t *err)
{
  if (archive_read_data_skip(r->tar) >= ARCHIVE_WARN)
    return 0;
  /* libarchive replaces a read callback's message with "Truncated input
   * file" when skipping: the recorded cause is the one worth reporting. */
  return tar_fail(r, name, err);
}

int appc_tar_reader_check_data(struct appc_tar_reader *r, struct archive_entry *entry,
                               const char *name, appc_error_t *err)
{
  struct appc_tar_data_ops check_only = {0};

  if (appc_tar_data_walk(r->tar, entry, name, &check_only, err) == 0)
    return 0;
  /* as for a skip: the read callback's cause first */
  if (r->cb_err != NULL) {
    appc_error_release(err);
    return tar_fail(r, name, err);
  }
  return -1;
}

int appc_tar_reader_slurp(struct appc_tar_reader *r, const char *name, char **buf, size_t *len,
                          appc_error_t *err)
{
  size_t cap = 4096, used = 0;
  cleanup_free char *data = malloc(cap + 1);

  if (data == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  for (;;) {
    if (used == cap) {
      if (cap >= APPC_MANIFEST_MAX)
        return appc_error_make(err, EFBIG, "%s: larger than the %u MiB limit", name,
                               APPC_MANIFEST_MAX >> 20);
      cap *= 2;
      char *bigger = realloc(data, cap + 1);
      if (bigger == NULL)
        return appc_error_make(err, ENOMEM, "%s", name);
      data = bigger;
    }
    la_ssize_t n = archive_read_data(r->tar, data + used, cap - used);
    if (n < 0)
      return tar_fail(r, name, err);
    if (n == 0)
      break;
    used += (size_t) n;
  }
  data[used] = '\0';
  *buf = steal_pointer(&data);
  *len = used;
  return 0;
}

/* Bytes after the end of the compressed stream are not read by the
 * decompressors but belong to the file: copy them too. */
static int copy_rest(struct appc_tar_reader *r, appc_error_t *err)
{
  cleanup_free unsigned char *buf = malloc(READ_BLOCK);

  if (buf == NULL)
    return appc_error_make(err, ENOMEM, "read");
  for (;;) {
    ssize_t n = appc_source_read(r->src, buf, READ_BLOCK, err);
    if (n <= 0)
      return (int) n;
    appc_tee_write(r->tee, buf, (size_t) n);
  }
}

int appc_tar_reader_finish(struct appc_tar_reader *r, char image_id[APPC_IMAGE_ID_LEN + 1],
                           unsigned long long *size, appc_error_t *err)
{
  const void *buf;
  la_ssize_t n;

  /* What the tar reader never asked for: padding after the end marker. */
  while ((n = tar_read_cb(r->tar, r, &buf)) > 0)
    ;
  if (n < 0) {
    if (r->cb_err == NULL)
      return appc_error_make(err, EIO, "read");
    *err = steal_pointer(&r->cb_err);
    return -1;
  }
  if (r->tee != NULL && copy_rest(r, err) < 0)
    return -1;
  if (size != NULL)
    *size = r->size;
  if (r->hash != NULL)
    return appc_hash_final(r->hash, image_id, err);
  return 0;
}

void appc_tar_reader_free(struct appc_tar_reader *r)
{
  if (r == NULL)
    return;
  if (r->tar != NULL)
    archive_read_free(r->tar);
  if (r->outer != NULL)
    archive_read_free(r->outer);
  appc_gunzip_free(r->gz);
  appc_hash_free(r->hash);
  appc_error_release(&r->cb_err);
  free(r->buf);
  free(r->notes);
  appc_source_free(r->owned);
  free(r);
}
