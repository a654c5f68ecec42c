/* SPDX-License-Identifier: Apache-2.0 */
/* The compressing end of an ACI being written: hashes the uncompressed tar
 * stream (that hash is the image ID) and writes it to the output file,
 * compressed as asked.  gzip uses the parallel libdeflate pipeline; bzip2 and
 * xz go through libarchive's filters on a "raw" archive, which passes the
 * bytes through unchanged apart from the compression. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/internal.h"
#include "common/error.h"
#include "common/lazy.h"

struct appc_sink {
  int fd;
  char *name;
  enum appc_compression compression;
  struct appc_hash *hash;
  struct appc_pgzip *gzip;  /* gzip */
  struct archive *filtered; /* bzip2, xz */
  int write_errno;          /* errno of a failed write inside libarchive */
};

static ssize_t filtered_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
  struct appc_sink *s = data;
  if (appc_write_all(s->fd, buf, len) < 0) {
    s->write_errno = errno;
    archive_set_error(a, errno, "write");
    return -1;
  }
  return (ssize_t) len;
}

static int filtered_fail(struct appc_sink *s, appc_error_t *err)
{
  int e = s->write_errno != 0 ? s->write_errno : archive_errno(s->filtered);
  return appc_error_make(
      err, e > 0 ? e : 0, "%s: %s: %s", s->name, appc_compression_name(s->compression),
      archive_error_string(s->filtered) != NULL ? archive_error_string(s->filtered)
                                                : "compression failed");
}

/* A raw archive holds exactly one "file": the tar stream. */
static int filtered_open(struct appc_sink *s, appc_error_t *err)
{
  struct archive_entry *e;
  int r;

  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  s->filtered = archive_write_new();
  if (s->filtered == NULL)
    return appc_error_make(err, ENOMEM, "%s", s->name);
  r = s->compression == APPC_COMPRESSION_XZ ? archive_write_add_filter_xz(s->filtered)
                                            : archive_write_add_filter_bzip2(s->filtered);
  if (r != ARCHIVE_OK || archive_write_set_format_raw(s->filtered) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(s->filtered, 64 * 1024) != ARCHIVE_OK ||
      /* No zero padding after the compressed stream. */
      archive_write_set_bytes_in_last_block(s->filtered, 1) != ARCHIVE_OK ||
      archive_write_open(s->filtered, s, NULL, filtered_write_cb, NULL) != ARCHIVE_OK)
    return filtered_fail(s, err);
  e = archive_entry_new();
  if (e == NULL)
    return appc_error_make(err, ENOMEM, "%s", s->name);
  archive_entry_set_pathname(e, "tar");
  archive_entry_set_filetype(e, AE_IFREG);
  r = archive_write_header(s->filtered, e);
  archive_entry_free(e);
  if (r != ARCHIVE_OK)
    return filtered_fail(s, err);
  return 0;
}

int appc_sink_new(struct appc_sink **out, int fd, const char *name, enum appc_compression c,
                  unsigned threads, appc_error_t *err)
{
  struct appc_sink *s = calloc(1, sizeof *s);
  int r = 0;

  if (s == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  s->fd = fd;
  s->compression = c;
  s->name = strdup(name);
  if (s->name == NULL)
    r = appc_error_make(err, ENOMEM, "%s", name);
  if (r == 0)
    r = appc_hash_new(&s->hash, err);
  if (r == 0 && c == APPC_COMPRESSION_GZIP)
    r = appc_pgzip_new(&s->gzip, fd, name, threads, err);
  else if (r == 0 && (c == APPC_COMPRESSION_BZIP2 || c == APPC_COMPRESSION_XZ))
    r = filtered_open(s, err);
  else if (r == 0 && c != APPC_COMPRESSION_NONE)
    r = appc_error_tag(err, EINVAL, "%s: unknown compression %d", name, (int) c);
  if (r < 0) {
    appc_sink_free(s);
    return -1;
  }
  *out = s;
  return 0;
}

int appc_sink_write(struct appc_sink *s, const void *buf, size_t len, appc_error_t *err)
{
  appc_hash_update(s->hash, buf, len);
  switch (s->compression) {
  case APPC_COMPRESSION_GZIP:
    return appc_pgzip_write(s->gzip, buf, len, err);
  case APPC_COMPRESSION_BZIP2:
  case APPC_COMPRESSION_XZ:
    if (archive_write_data(s->filtered, buf, len) != (la_ssize_t) len)
      return filtered_fail(s, err);
    return 0;
  default:
    if (appc_write_all(s->fd, buf, len) < 0)
      return appc_error_make(err, errno, "%s: write", s->name);
    return 0;
  }
}

int appc_sink_finish(struct appc_sink *s, char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  if (s->gzip != NULL && appc_pgzip_finish(s->gzip, err) < 0)
    return -1;
  if (s->filtered != NULL && archive_write_close(s->filtered) != ARCHIVE_OK)
    return filtered_fail(s, err);
  return appc_hash_final(s->hash, image_id, err);
}

void appc_sink_free(struct appc_sink *s)
{
  if (s == NULL)
    return;
  appc_pgzip_free(s->gzip);
  if (s->filtered != NULL)
    archive_write_free(s->filtered);
  appc_hash_free(s->hash);
  free(s->name);
  free(s);
}
