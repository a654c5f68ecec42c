/* SPDX-License-Identifier: Apache-2.0 */
/* Importing an ACI into the store in one pass.
 *
 * The file is read once: every byte read goes to a temporary blob (an
 * unnamed O_TMPFILE where possible) while the same stream is decompressed,
 * hashed and checked entry by entry.  Only a fully valid image is kept: the
 * blob is fsynced and renamed to its image ID, then the index record is
 * built in tmp/ and renamed into images/.  A crash at any point leaves
 * either nothing or a blob without a record, which gc removes; never a
 * record without its blob. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "common/abi.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/lazy.h"
#include "schema/json.h"
#include "store/private.h"

/* ---- the store's extra archive rules ---- */

/* Beyond the ACI rules checked by appc_aci_check_entry (relative names, no
 * "..", hard links to earlier entries under rootfs/), the store refuses any
 * entry below a symlink of the same archive: extracting it would write
 * through the link, possibly outside the rootfs.  tar never produces such
 * an archive from a real tree, so only a crafted one is refused. */
struct safety {
  struct appc_strset symlinks;
};

static int check_not_below_symlink(const struct safety *sf, const char *canon, appc_error_t *err)
{
  size_t link = appc_strset_find_ancestor(&sf->symlinks, canon);

  if (link > 0)
    return appc_error_make(err, 0,
                           "%s: below the symlink %.*s: extracting it would write through "
                           "the link",
                           canon, (int) link, canon);
  return 0;
}

/* Whether E is a hard link to a symlink of the archive: then it is one
 * too, under its own name. */
static bool links_a_symlink(const struct safety *sf, struct archive_entry *e)
{
  const char *target = archive_entry_hardlink(e);
  cleanup_free char *canon = NULL;
  appc_error_t ignored = NULL;

  if (target == NULL || appc_strset_size(&sf->symlinks) == 0)
    return false;
  /* (the ACI rules checked the target already) */
  bool r = appc_entry_name_canon(target, &canon, &ignored) == 0 &&
           appc_strset_contains(&sf->symlinks, canon);
  appc_error_release(&ignored);
  return r;
}

static int check_safety(struct safety *sf, struct archive_entry *e, const char *canon,
                        appc_error_t *err)
{
  if (check_not_below_symlink(sf, canon, err) < 0)
    return -1;
  bool symlink = archive_entry_filetype(e) == AE_IFLNK && archive_entry_hardlink(e) == NULL;
  if ((symlink || links_a_symlink(sf, e)) && appc_strset_add(&sf->symlinks, canon) < 0)
    return appc_error_make(err, ENOMEM, "%s", canon);
  return 0;
}

/* ---- one pass over the archive ---- */

struct import {
  struct appc_store *s;
  struct appc_source *src;
  const char *path; /* the source's name, for messages */
  const struct appc_store_import_options *opts;
  struct appc_tempfile blob; /* in blobs/, named by its ID once complete */
  bool adopted;              /* the blob is the source itself (adopt_source) */
  unsigned long long adopted_size;
  struct appc_tee tee;
  struct safety safety;
  struct appc_aci_info info;
};

static bool cancelled(const struct import *im)
{
  return im->opts != NULL && appc_cb_cancelled(im->opts->cb);
}

/* Per entry: the store's own rules, and a chance to cancel. */
static int entry_hook(struct archive_entry *e, const char *canon, void *data, appc_error_t *err)
{
  struct import *im = data;

  if (cancelled(im))
    return appc_error_make(err, ECANCELED, "import");
  return check_safety(&im->safety, e, canon, err);
}

/* A source that is an unnamed temporary file of the store's file system,
 * unread yet (fetch's private copy of a file, a converted OCI layer): it
 * becomes the blob itself, linked into blobs/ once valid, rather than being
 * copied.  No one but holders of its descriptor can change it. */
static bool adopt_source(struct import *im)
{
  int fd = appc_source_fd(im->src);
  struct stat st, blobs;

  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 0 ||
      fstat(im->s->blobs_fd, &blobs) < 0 || st.st_dev != blobs.st_dev ||
      lseek(fd, 0, SEEK_CUR) != 0 || fchmod(fd, 0644) < 0)
    return false;
  im->blob.fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (im->blob.fd < 0)
    return false;
  im->blob.dirfd = im->s->blobs_fd;
  im->blob.name[0] = '\0';
  im->adopted = true;
  im->adopted_size = (unsigned long long) st.st_size;
  return true;
}

static int open_blob(struct import *im, appc_error_t *err)
{
  if (adopt_source(im))
    return 0;
  if (appc_tempfile_open(&im->blob, im->s->blobs_fd, "blob", 0644) < 0)
    return appc_error_make(err, errno, "%s/%s", im->s->path, STORE_BLOBS);
  return 0;
}

static int read_and_copy(struct import *im, appc_error_t *err)
{
  cleanup_tar_reader struct appc_tar_reader *r = NULL;
  int ret;

  appc_tee_init(&im->tee, im->blob.fd);
  if (appc_tar_reader_open_source(&r, im->src, true, im->adopted ? NULL : &im->tee, err) < 0)
    return -1;
  ret = appc_aci_validate_stream(r, &im->info, entry_hook, im, err);
  appc_strset_clear(&im->safety.symlinks);
  if (ret < 0)
    return -1;
  if (im->adopted)
    im->tee.written = im->adopted_size;
  return im->adopted ? 0 : appc_tee_check(&im->tee, "blob", err);
}

/* ---- installing ---- */

/* The blob takes its ID as name, replacing any blob of that name: one a
 * crashed import left without a record, or the indexed image's. */
static int install_blob(struct import *im, appc_error_t *err)
{
  struct appc_store *s = im->s;

  if (appc_tempfile_install(&im->blob, im->info.image_id, APPC_WRITE_DURABLE) < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_BLOBS, im->info.image_id);
  return 0;
}

/* Bytes compared at a time (twice this is allocated). */
#define COMPARE_CHUNK (256u << 10)

/* Whether A and B hold the same SIZE bytes from their start (read with
 * pread: neither descriptor's offset moves).  A read that fails or comes
 * short counts as a difference. */
static bool same_bytes(int a, int b, unsigned long long size)
{
  cleanup_free char *buf = malloc(2 * COMPARE_CHUNK);

  if (buf == NULL)
    return false;
  for (unsigned long long off = 0; off < size;) {
    size_t want = size - off < COMPARE_CHUNK ? (size_t) (size - off) : COMPARE_CHUNK;
    ssize_t x = pread(a, buf, want, (off_t) off);
    ssize_t y = x > 0 ? pread(b, buf + COMPARE_CHUNK, (size_t) x, (off_t) off) : -1;
    if (x <= 0 || y != x || memcmp(buf, buf + COMPARE_CHUNK, (size_t) x) != 0)
      return false;
    off += (unsigned long long) x;
  }
  return true;
}

/* Whether the store's blob of the image just read is the copy, byte for
 * byte: a regular file of the size written and the same content.  A blob
 * damaged in place (a byte flipped) keeps its size: only its content tells,
 * and comparing it with the copy, still in the page cache, is a read where
 * hashing it again would be a second SHA-512 pass. */
static bool blob_is_copy(const struct import *im)
{
  cleanup_error appc_error_t ignored = NULL;
  cleanup_close int fd = appc_store_blob_open(im->s, im->info.image_id, "", &ignored);
  struct stat st;

  return fd >= 0 && fstat(fd, &st) == 0 && (unsigned long long) st.st_size == im->tee.written &&
         same_bytes(fd, im->blob.fd, im->tee.written);
}

static int fill_record(struct import *im, struct appc_store_image *img, appc_error_t *err)
{
  const struct appc_image_manifest *m = im->info.manifest;

  memset(img, 0, sizeof *img);
  memcpy(img->id, im->info.image_id, sizeof img->id);
  img->name = strdup(m->name);
  img->labels.items = calloc(m->labels.len + 1, sizeof *img->labels.items);
  if (img->name == NULL || img->labels.items == NULL)
    return appc_error_make(err, ENOMEM, "%s", im->path);
  for (size_t i = 0; i < m->labels.len; i++) {
    img->labels.items[i].name = strdup(m->labels.items[i].name ? m->labels.items[i].name : "");
    img->labels.items[i].value = strdup(m->labels.items[i].value ? m->labels.items[i].value : "");
    img->labels.len++;
    if (img->labels.items[i].name == NULL || img->labels.items[i].value == NULL)
      return appc_error_make(err, ENOMEM, "%s", im->path);
  }
  img->size = im->info.uncompressed_size;
  clock_gettime(CLOCK_REALTIME, &img->import_time);
  img->last_use = img->import_time;
  return 0;
}

/* Build the record in tmp/ and rename it into images/.  *raced is set when
 * another process indexed the same image first. */
static int install_record(struct import *im, const struct appc_store_image *img, bool *raced,
                          appc_error_t *err)
{
  struct appc_store *s = im->s;
  char tmp[64];
  cleanup_close int dfd = -1;

  if (appc_store_temp_name(tmp, sizeof tmp, "record") < 0 || mkdirat(s->tmp_fd, tmp, 0755) < 0)
    return appc_error_make(err, errno, "%s/%s", s->path, STORE_TMP);
  dfd = openat(s->tmp_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dfd < 0 || appc_store_write_record(s, dfd, img, im->info.manifest_json, im->info.manifest_len,
                                         err) < 0) {
    appc_error_t ignored = NULL;
    if (*err == NULL)
      appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TMP, tmp);
    appc_remove_tree(s->tmp_fd, tmp, &ignored);
    appc_error_release(&ignored);
    return -1;
  }
  if (renameat(s->tmp_fd, tmp, s->images_fd, img->id) < 0) {
    int e = errno;
    appc_error_t ignored = NULL;
    appc_remove_tree(s->tmp_fd, tmp, &ignored);
    appc_error_release(&ignored);
    if (e == EEXIST || e == ENOTEMPTY) {
      *raced = true;
      return 0;
    }
    return appc_error_make(err, e, "%s/%s/%s", s->path, STORE_IMAGES, img->id);
  }
  return appc_store_fsync_dir(s->images_fd, s->path, err);
}

/* The manifest's pathWhitelist as render reads it: an image whose list it
 * refuses (a relative path, "..") could be imported but never rendered. */
static int check_whitelist(const struct appc_image_manifest *m, appc_error_t *err)
{
  struct appc_whitelist wl;

  if (m->path_whitelist.len == 0)
    return 0;
  if (appc_whitelist_init(&wl, &m->path_whitelist, err) < 0)
    return appc_error_prefix(err, "manifest");
  appc_whitelist_clear(&wl);
  return 0;
}

static int import_locked(struct import *im, struct appc_store_image *out, bool *already,
                         appc_error_t *err)
{
  struct appc_store_image img = {0};
  bool raced = false;
  int r;

  if (open_blob(im, err) < 0)
    return -1;
  if (read_and_copy(im, err) < 0 || check_whitelist(im->info.manifest, err) < 0)
    return appc_error_prefix(err, "%s", im->path);
  /* Already indexed (its record locked, as a claim's and another import's
   * of it: a removal of what another import added keeps it, or is done
   * before): the blob we wrote is dropped unsynced when the stored one
   * holds the same bytes, its inode left as it was; anything else there
   * (gone, another size, not a regular file, damaged in place: image
   * verify says so) is replaced by the copy, which has just hashed to the
   * image ID, by a rename that readers see whole or not at all.  The
   * record is written again from what was just read, which repairs a
   * damaged one.  Removed meanwhile, it is imported anew. */
  cleanup_close int rec = appc_store_lock_record(im->s, im->info.image_id);
  if (rec < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "%s/%s/%s", im->s->path, STORE_IMAGES, im->info.image_id);
  if (rec >= 0) {
    *already = true;
    if (!blob_is_copy(im) && install_blob(im, err) < 0)
      return -1;
    appc_tempfile_discard(&im->blob);
    r = fill_record(im, &img, err);
    if (r == 0)
      r = appc_store_record_refresh(im->s, rec, &img, im->info.manifest_json, im->info.manifest_len,
                                    err);
    appc_store_image_clear(&img);
    if (r < 0)
      return -1;
    return out != NULL ? appc_store_read_record(im->s, im->info.image_id, out, err) : 0;
  }
  /* Not in the store: blob and record installed while no removal of the
   * image runs (appc_store_lock_images), which could unlink our blob after
   * renaming its own record away. */
  if (appc_store_lock_images(im->s, false, err) < 0)
    return -1;
  r = install_blob(im, err);
  if (r == 0)
    r = fill_record(im, &img, err);
  if (r == 0)
    r = install_record(im, &img, &raced, err);
  appc_store_unlock_images(im->s);
  if (r < 0) {
    appc_store_image_clear(&img);
    return -1;
  }
  *already = raced;
  if (out == NULL) {
    appc_store_image_clear(&img);
    return 0;
  }
  if (raced) {
    appc_store_image_clear(&img);
    r = appc_store_read_record(im->s, im->info.image_id, out, err);
    return r;
  }
  img.blob_size = im->tee.written;
  *out = img;
  return 0;
}

int appc_store_import_source(struct appc_store *s, struct appc_source *src,
                             const struct appc_store_import_options *opts,
                             struct appc_store_image *out, bool *already, appc_error_t *err)
{
  struct import im = {
      .s = s, .src = src, .path = appc_source_name(src), .opts = opts, .blob = APPC_TEMPFILE_INIT};
  bool dummy;
  int r;

  if (already == NULL)
    already = &dummy;
  *already = false;
  if (out != NULL)
    memset(out, 0, sizeof *out);
  if (APPC_ABI_CHECK(opts, appc_store_import_options, APPC_STORE_IMPORT_OPTIONS_VERSION, err) < 0)
    return -1;
  if (appc_store_lock(s, false, err) < 0)
    return -1;
  appc_source_progress(src, opts != NULL ? opts->cb : NULL, APPC_PROGRESS_READ);
  r = import_locked(&im, out, already, err);
  appc_store_unlock(s);
  appc_tempfile_discard(&im.blob);
  appc_aci_info_clear(&im.info);
  return r;
}

int appc_store_import(struct appc_store *s, const char *path,
                      const struct appc_store_import_options *opts, struct appc_store_image *out,
                      bool *already, appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;

  if (out != NULL)
    memset(out, 0, sizeof *out);
  if (appc_source_open_path(&src, path, err) < 0)
    return -1;
  return appc_store_import_source(s, src, opts, out, already, err);
}
