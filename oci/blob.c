/* SPDX-License-Identifier: Apache-2.0 */
/* A layer blob read from a descriptor (oci/internal.h, struct oci_blob):
 * its bytes as stored hashed on the way in, decompressed (gzip by ISA-L,
 * zstd by libarchive, or none), the decompressed bytes hashed on the way
 * out; the layer converter and the exporter both read layers so. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/stream.h"
#include "common/callbacks.h"
#include "common/error.h"
#include "common/lazy.h"
#include "oci/internal.h"

/* The blob's bytes as stored, each hashed as it goes by (appc_read_fn;
 * gzip's worker thread may be the caller). */
static ssize_t read_source(void *data, void *buf, size_t len)
{
  struct oci_blob *b = data;
  ssize_t n;

  if (appc_cb_cancelled(b->cb)) {
    b->errnum = errno = ECANCELED;
    return -1;
  }
  do
    n = read(b->fd, buf, len);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    b->errnum = errno;
    return -1;
  }
  appc_digest_update(b->packed, buf, (size_t) n);
  b->done += (unsigned long long) n;
  appc_cb_progress(b->cb, b->op, b->what, b->done, b->total);
  return n;
}

static la_ssize_t read_packed(struct archive *a, void *data, const void **out)
{
  struct oci_blob *b = data;

  (void) a;
  if (b->head_given < b->head_len) {
    size_t n = b->head_len - b->head_given;
    *out = b->head + b->head_given;
    b->head_given = b->head_len;
    return (la_ssize_t) n;
  }
  *out = b->buf;
  return read_source(b, b->buf, sizeof b->buf);
}

/* The tar reader's input: what the decompressor makes of the blob. */
/* The buffers are on the heap, not thread-local: static TLS is zeroed in
 * every process and thread that loads libappc, used or not. */
#define OUT_BUF (128 * 1024)

unsigned long long oci_expand_max(unsigned long long packed)
{
  unsigned long long max;

  if (__builtin_mul_overflow(packed, OCI_EXPAND_RATIO, &max) ||
      __builtin_add_overflow(max, OCI_EXPAND_FLOOR, &max))
    return ULLONG_MAX;
  return max;
}

/* Count N more decompressed bytes, the layer's and its image's; false,
 * with B's error set, past either bound. */
static bool expand_ok(struct oci_blob *b, size_t n)
{
  unsigned long long max = oci_expand_max(b->total);

  b->expanded += n;
  if (b->ours)
    return true;
  if (b->expanded > max) {
    if (b->gz_err == NULL)
      appc_error_tag(&b->gz_err, EINVAL,
                     "expands to more than %llu bytes (%llu times its %llu bytes and 1 GiB, a "
                     "fixed bound against decompression bombs: docs/oci.md)",
                     max, OCI_EXPAND_RATIO, b->total);
    return false;
  }
  if (b->image == NULL)
    return true;
  b->image->expanded += n;
  max = oci_expand_max(b->image->packed);
  if (b->image->expanded <= max)
    return true;
  if (b->gz_err == NULL)
    appc_error_tag(&b->gz_err, EINVAL,
                   "the image's layers expand to more than %llu bytes in all (%llu times the %llu "
                   "bytes they came in and 1 GiB, a fixed bound against decompression bombs, which "
                   "a layer listed twice counts against twice: docs/oci.md)",
                   max, OCI_EXPAND_RATIO, b->image->packed);
  return false;
}

la_ssize_t oci_blob_read(struct archive *a, void *data, const void **out)
{
  struct oci_blob *b = data;
  la_ssize_t n;

  (void) a;
  if (b->gz != NULL) {
    const void *p = NULL;
    cleanup_error appc_error_t later = NULL; /* the first error is the one reported */
    n = appc_gunzip_read(b->gz, &p, b->gz_err == NULL ? &b->gz_err : &later);
    *out = p;
  } else {
    if (b->out == NULL && (b->out = malloc(OUT_BUF)) == NULL) {
      b->errnum = ENOMEM;
      return -1;
    }
    n = archive_read_data(b->raw, b->out, OUT_BUF);
    *out = b->out;
  }
  if (n < 0 || !expand_ok(b, (size_t) n))
    return -1;
  appc_digest_update(b->unpacked, *out, (size_t) n);
  return n;
}

/* What went wrong reading the blob through A. */
const char *oci_blob_error(const struct oci_blob *b, struct archive *a)
{
  if (b->gz_err != NULL)
    return b->gz_err->msg;
  if (b->errnum != 0)
    return strerror(b->errnum);
  return a != NULL ? archive_error_string(a) : "read error";
}

static int read_head(struct oci_blob *b, appc_error_t *err)
{
  while (b->head_len < sizeof b->head) {
    ssize_t n = read_source(b, b->head + b->head_len, sizeof b->head - b->head_len);
    if (n < 0)
      return appc_error_make(err, b->errnum, "%s", b->what);
    if (n == 0)
      break;
    b->head_len += (size_t) n;
  }
  return 0;
}

static int open_gunzip(struct oci_blob *b, appc_error_t *err)
{
  if (appc_source_open_callback(&b->src, read_source, b, b->what, err) < 0 ||
      appc_gunzip_new(&b->gz, b->src, b->head, b->head_len, NULL, err) < 0)
    return -1;
  return 0;
}

int oci_blob_open(struct oci_blob *b, appc_error_t *err)
{
  struct archive_entry *e;

  if (read_head(b, err) < 0)
    return -1;
  if (b->head_len >= 2 && b->head[0] == 0x1f && b->head[1] == 0x8b)
    return open_gunzip(b, err);
  if ((b->raw = archive_read_new()) == NULL)
    return appc_error_make(err, ENOMEM, "%s", b->what);
  /* Only the compressions the image spec names: libarchive would
   * otherwise run external programs for some. */
  archive_read_support_filter_zstd(b->raw);
  archive_read_support_format_raw(b->raw);
  if (archive_read_open(b->raw, b, NULL, read_packed, NULL) != ARCHIVE_OK ||
      archive_read_next_header(b->raw, &e) != ARCHIVE_OK)
    return appc_error_make(err, b->errnum, "%s: %s", b->what, oci_blob_error(b, b->raw));
  return 0;
}

int oci_blob_open_tar(struct oci_blob *b, struct archive **tar, appc_error_t *err)
{
  if ((*tar = archive_read_new()) == NULL)
    return appc_error_make(err, ENOMEM, "%s", b->what);
  archive_read_support_format_tar(*tar);
  if (oci_blob_open(b, err) < 0)
    return -1;
  if (archive_read_open(*tar, b, NULL, oci_blob_read, NULL) != ARCHIVE_OK)
    return appc_error_make(err, b->errnum, "%s: %s", b->what, oci_blob_error(b, *tar));
  return 0;
}

/* Stop the decompressor (its worker reads the blob too) and hash what is
 * left of the blob. */
int oci_blob_drain(struct oci_blob *b, appc_error_t *err)
{
  appc_gunzip_free(b->gz);
  b->gz = NULL;
  for (;;) {
    ssize_t r = read(b->fd, b->buf, sizeof b->buf);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return appc_error_make(err, errno, "%s", b->what);
    if (r == 0)
      return 0;
    appc_digest_update(b->packed, b->buf, (size_t) r);
  }
}

void oci_blob_clear(struct oci_blob *b)
{
  if (b->raw != NULL)
    archive_read_free(b->raw);
  appc_gunzip_free(b->gz);
  appc_source_free(b->src);
  appc_error_release(&b->gz_err);
  appc_digest_free(b->packed);
  appc_digest_free(b->unpacked);
  free(b->out);
  b->out = NULL;
  b->raw = NULL;
  b->gz = NULL;
  b->src = NULL;
  b->packed = b->unpacked = NULL;
}
