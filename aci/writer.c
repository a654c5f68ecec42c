/* SPDX-License-Identifier: Apache-2.0 */
/* Writing the tar stream of an ACI: pax-restricted entries (plain ustar
 * headers unless a long name, large value or xattr needs an extension), fed
 * to a sink that hashes and compresses.  Entries are scrubbed of anything
 * that depends on when or by whom the image was built, so that the same tree
 * always gives the same bytes.  A copy of another image's entries keeps
 * their times instead, with a pax header where they need one. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/internal.h"
#include "common/callbacks.h"
#include "common/lazy.h"

const struct appc_build_options appc_build_defaults = {.compression = APPC_COMPRESSION_GZIP};

/* Large blocks mean fewer callbacks; the sink does its own blocking. */
#define TAR_BLOCK (64 * 1024)

struct appc_tar_writer {
  struct archive *a;
  struct appc_sink *sink;
  char *name;
  bool owner_root;
  bool keep_times; /* APPC_TAR_WRITER_COPY */
  bool closed;
  bool discard;
  bool failed;         /* the sink refused a write */
  appc_error_t cb_err; /* why, until reported */
  void *zeros;         /* zeros_len of them, for holes (appc_tar_writer_hole) */
  size_t zeros_len;
};

static ssize_t tar_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
  struct appc_tar_writer *w = data;
  /* Being abandoned (inside archive_write_free's close, whose failure
   * frees all the same): libarchive would flush its buffers and pad the
   * entry it was in, which may claim a terabyte; failing stops that. */
  if (w->discard) {
    archive_set_error(a, ECANCELED, "abandoned");
    return -1;
  }
  if (w->failed)
    return (ssize_t) len;
  /* A failure is not told to libarchive: a header write that fails puts it
   * in its fatal state, where 3.6 can no longer free its output buffer.
   * The call that wrote reports it. */
  if (appc_sink_write(w->sink, buf, len, &w->cb_err) < 0)
    w->failed = true;
  return (ssize_t) len;
}

/* Report a libarchive failure, preferring the sink's own error. */
static int tar_fail(struct appc_tar_writer *w, const char *what, appc_error_t *err)
{
  if (w->cb_err != NULL) {
    *err = w->cb_err;
    w->cb_err = NULL;
    return -1;
  }
  if (w->failed)
    return appc_error_make(err, EIO, "%s: an earlier write failed", w->name);
  int e = archive_errno(w->a);
  return appc_error_make(
      err, 0, "%s%s%s: %s%s%s", w->name, what != NULL ? ": " : "", what != NULL ? what : "",
      archive_error_string(w->a) != NULL ? archive_error_string(w->a) : "tar write failed",
      e > 0 ? ": " : "", e > 0 ? strerror(e) : "");
}

int appc_tar_writer_new(struct appc_tar_writer **out, int fd, const char *name,
                        const struct appc_build_options *opts, enum appc_tar_writer_mode mode,
                        appc_error_t *err)
{
  struct appc_tar_writer *w = calloc(1, sizeof *w);

  if (w == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  w->owner_root = opts->owner_root;
  w->keep_times = mode == APPC_TAR_WRITER_COPY;
  w->name = strdup(name);
  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0) {
    free(w->name);
    free(w);
    return -1;
  }
  w->a = archive_write_new();
  if (w->name == NULL || w->a == NULL) {
    appc_tar_writer_free(w);
    return appc_error_make(err, ENOMEM, "%s", name);
  }
  if (appc_sink_new(&w->sink, fd, name, opts->compression, opts->threads, err) < 0) {
    appc_tar_writer_free(w);
    return -1;
  }
  /* Restricted pax never writes atime or ctime, and writes a sub-second
   * mtime only into a pax header the entry needs for something else; full
   * pax writes them whenever the entry has them, and is otherwise the
   * same, byte for byte. */
  if ((w->keep_times ? archive_write_set_format_pax(w->a)
                     : archive_write_set_format_pax_restricted(w->a)) != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(w->a, TAR_BLOCK) != ARCHIVE_OK ||
      /* End the stream right after the end-of-archive marker. */
      archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
      archive_write_open(w->a, w, NULL, tar_write_cb, NULL) != ARCHIVE_OK) {
    tar_fail(w, NULL, err);
    appc_tar_writer_free(w);
    return -1;
  }
  *out = w;
  return 0;
}

/* libarchive's pax reader reports an xattr stored both as LIBARCHIVE.xattr
 * and SCHILY.xattr (as its writer stores them) twice; writing both copies
 * back would double them at every rewrite.  Keep the first of each name. */
static bool seen_before(const char **names, int n, const char *name)
{
  for (int i = 0; i < n; i++) {
    if (strcmp(names[i], name) == 0)
      return true;
  }
  return false;
}

static int dedupe_xattrs(struct archive_entry *e)
{
  int n = archive_entry_xattr_reset(e);
  struct archive_entry *copy;
  const char **names;

  if (n < 2)
    return 0;
  /* The names and values belong to E: work from a copy while E is rebuilt. */
  copy = archive_entry_clone(e);
  names = calloc((size_t) n, sizeof *names);
  if (copy == NULL || names == NULL) {
    archive_entry_free(copy);
    free(names);
    return -1;
  }
  archive_entry_xattr_clear(e);
  archive_entry_xattr_reset(copy);
  for (int i = 0; i < n; i++) {
    const char *name;
    const void *value;
    size_t size;
    if (archive_entry_xattr_next(copy, &name, &value, &size) != ARCHIVE_OK)
      break;
    if (seen_before(names, i, name)) {
      names[i] = "";
      continue;
    }
    names[i] = name;
    archive_entry_xattr_add_entry(e, name, value, size);
  }
  free(names);
  archive_entry_free(copy);
  return 0;
}

/* Remove what would make two builds of the same tree differ: access and
 * change times move whenever the tree is read or touched, and the device and
 * inode numbers of the build host mean nothing inside an image.  A copy
 * keeps the times: they are the image's, read from its archive. */
static int scrub_entry(struct appc_tar_writer *w, struct archive_entry *e)
{
  if (!w->keep_times) {
    archive_entry_unset_atime(e);
    archive_entry_unset_ctime(e);
    archive_entry_unset_birthtime(e);
  }
  archive_entry_set_dev(e, 0);
  archive_entry_set_ino(e, 0);
  if (w->owner_root) {
    /* named too, as the reference's build --owner-root names them: the
     * same tree gives the same headers */
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_uname(e, "root");
    archive_entry_set_gname(e, "root");
  }
  return dedupe_xattrs(e);
}

int appc_tar_writer_header(struct appc_tar_writer *w, struct archive_entry *entry,
                           appc_error_t *err)
{
  if (w->failed)
    return tar_fail(w, NULL, err);
  if (scrub_entry(w, entry) < 0)
    return appc_error_make(err, ENOMEM, "%s", w->name);
  int r = archive_write_header(w->a, entry);
  /* ARCHIVE_WARN: a name that is not valid in the locale's charset was
   * stored as raw bytes (pax hdrcharset=BINARY), which is what a tree with
   * such names calls for. */
  if (r >= ARCHIVE_WARN && !w->failed)
    return 0;
  return tar_fail(w, archive_entry_pathname(entry), err);
}

int appc_tar_writer_data(struct appc_tar_writer *w, const void *buf, size_t len, appc_error_t *err)
{
  const char *p = buf;
  while (len > 0) {
    la_ssize_t n = w->failed ? -1 : archive_write_data(w->a, p, len);
    if (n <= 0 || w->failed)
      return tar_fail(w, NULL, err);
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

/* ---- holes, and copying an entry from another tar stream ---- */

/* A read-only mapping of zeros that costs no memory: the pax writer skips
 * hole bytes without reading them, so one call can pass a gigabyte. */
#define ZEROS_LEN ((size_t) 1 << 30)
#define ZEROS_MIN ((size_t) 1 << 20)

int appc_tar_writer_hole(struct appc_tar_writer *w, uint64_t len, const char *what,
                         const struct appc_callbacks *cb, appc_error_t *err)
{
  /* A gigabyte of address space, or a megabyte where a limit on it
   * (ulimit -v) refuses that. */
  for (size_t want = ZEROS_LEN; w->zeros == NULL && len > 0 && want >= ZEROS_MIN; want >>= 10) {
    w->zeros = mmap(NULL, want, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (w->zeros == MAP_FAILED)
      w->zeros = NULL;
    else
      w->zeros_len = want;
  }
  if (w->zeros == NULL && len > 0)
    return appc_error_make(err, errno, "%s: a hole", what);
  while (len > 0) {
    size_t n = len < w->zeros_len ? (size_t) len : w->zeros_len;
    if (appc_cb_cancelled(cb))
      return appc_error_make(err, ECANCELED, "%s", what);
    if (appc_tar_writer_data(w, w->zeros, n, err) < 0)
      return -1;
    len -= n;
  }
  return 0;
}

struct copy_ctx {
  struct appc_tar_writer *w;
  const char *what;
  const struct appc_callbacks *cb;
};

static int copy_block(void *data, const void *buf, size_t len, appc_error_t *err)
{
  struct copy_ctx *c = data;
  return appc_tar_writer_data(c->w, buf, len, err);
}

/* A hole of the map the writer has: passed to it, which drops it again. */
static int copy_hole(void *data, uint64_t len, appc_error_t *err)
{
  struct copy_ctx *c = data;
  return appc_tar_writer_hole(c->w, len, c->what, c->cb, err);
}

int appc_tar_writer_copy(struct appc_tar_writer *w, struct archive *in, struct archive_entry *entry,
                         const char *what, const struct appc_callbacks *cb, appc_error_t *err)
{
  struct copy_ctx c = {.w = w, .what = what, .cb = cb};
  struct appc_tar_data_ops ops = {.data = copy_block, .hole = copy_hole, .ctx = &c, .cb = cb};

  if ((uint64_t) archive_entry_size(entry) > APPC_TAR_COPY_MAX)
    return appc_error_make(err, EFBIG,
                           "%s: %lld bytes, more than the %llu an entry copied may hold", what,
                           (long long) archive_entry_size(entry), APPC_TAR_COPY_MAX);
  return appc_tar_data_walk(in, entry, what, &ops, err);
}

int appc_tar_writer_close(struct appc_tar_writer *w, char image_id[APPC_IMAGE_ID_LEN + 1],
                          appc_error_t *err)
{
  w->closed = true;
  if (archive_write_close(w->a) != ARCHIVE_OK || w->failed)
    return tar_fail(w, NULL, err);
  return appc_sink_finish(w->sink, image_id, err);
}

void appc_tar_writer_free(struct appc_tar_writer *w)
{
  if (w == NULL)
    return;
  if (w->a != NULL) {
    /* Abandoning: let libarchive close (archive_write_fail would leak its
     * buffers) but send nothing more to the sink. */
    w->discard = !w->closed;
    archive_write_free(w->a);
  }
  appc_sink_free(w->sink);
  appc_error_release(&w->cb_err);
  if (w->zeros != NULL)
    munmap(w->zeros, w->zeros_len);
  free(w->name);
  free(w);
}
