/* SPDX-License-Identifier: Apache-2.0 */
/* Removing and exporting images. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/lockwait.h"
#include "store/private.h"

/* The record goes first (renamed out of images/ in one step), so a crash
 * leaves at worst a blob without a record, which gc removes.  The
 * exclusive lock keeps a concurrent import of the same image from
 * installing its record between our two steps. */
static int remove_locked(struct appc_store *s, const char *id, appc_error_t *err)
{
  char tmp[64];

  if (appc_store_temp_name(tmp, sizeof tmp, "removed") < 0)
    return appc_error_make(err, ENAMETOOLONG, "%s", id);
  if (renameat(s->images_fd, id, s->tmp_fd, tmp) < 0) {
    if (errno == ENOENT)
      return appc_store_no_such_image(err, id, "");
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_IMAGES, id);
  }
  if (appc_store_fsync_dir(s->images_fd, s->path, err) < 0)
    return -1;
  if (unlinkat(s->blobs_fd, id, 0) < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_BLOBS, id);
  return appc_remove_tree(s->tmp_fd, tmp, err);
}

/* The store locked (EXCLUSIVE or shared) for an operation on the image ID,
 * once ID is known to be a well-formed image ID. */
static int lock_for_image(struct appc_store *s, const char *id, bool exclusive, appc_error_t *err)
{
  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  return appc_store_lock(s, exclusive, err);
}

int appc_store_remove(struct appc_store *s, const char *id, appc_error_t *err)
{
  int r;

  if (lock_for_image(s, id, true, err) < 0)
    return -1;
  r = remove_locked(s, id, err);
  appc_store_unlock(s);
  return r;
}

int appc_store_lock_record(struct appc_store *s, const char *id)
{
  struct stat held, now;
  int fd = openat(s->images_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0)
    return -1;
  if (appc_flock_noting(fd, LOCK_EX, s->cb, "the image's lock (%s/%s/%s)", s->path, STORE_IMAGES,
                        id) < 0 ||
      fstat(fd, &held) < 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  /* removed (renamed away) while this waited for the lock */
  if (fstatat(s->images_fd, id, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != held.st_ino ||
      now.st_dev != held.st_dev) {
    close(fd);
    errno = ENOENT;
    return -1;
  }
  return fd;
}

int appc_store_lock_images(struct appc_store *s, bool exclusive, appc_error_t *err)
{
  if (appc_flock_noting(s->images_fd, exclusive ? LOCK_EX : LOCK_SH, s->cb,
                        "the store's images lock (%s/%s)", s->path, STORE_IMAGES) < 0)
    return appc_error_make(err, errno, "%s/%s: lock", s->path, STORE_IMAGES);
  return 0;
}

void appc_store_unlock_images(struct appc_store *s)
{
  (void) flock(s->images_fd, LOCK_UN);
}

/* The error for ID's record that could not be locked (errno). */
static int record_error(struct appc_store *s, const char *id, appc_error_t *err)
{
  if (errno == ENOENT)
    return appc_store_no_such_image(err, id, "");
  return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_IMAGES, id);
}

int appc_store_claim(struct appc_store *s, const char *id, struct appc_store_image *out,
                     appc_error_t *err)
{
  int r;

  if (lock_for_image(s, id, false, err) < 0)
    return -1;
  cleanup_close int rec = appc_store_lock_record(s, id);
  if (rec < 0)
    r = record_error(s, id, err);
  else
    r = appc_store_record_reimported(s, id, err);
  if (r == 0 && out != NULL)
    r = appc_store_read_record(s, id, out, err);
  appc_store_unlock(s);
  return r;
}

/* The store's lock held (exclusively, but when that would wait for
 * another holder: appc_store_lock_removal); under the
 * record's lock too (appc_store_lock_record), which claims and imports of
 * the same image take, so that the look at the record and the removal are
 * one step. */
static int remove_unclaimed_locked(struct appc_store *s, const char *id,
                                   const struct timespec *imported, bool *kept, appc_error_t *err)
{
  struct appc_store_image now = {0};
  cleanup_close int rec = appc_store_lock_record(s, id);

  *kept = false;
  if (rec < 0)
    return errno == ENOENT ? 0 : record_error(s, id, err);
  if (appc_store_read_record(s, id, &now, err) < 0)
    return -1;
  *kept =
      now.import_time.tv_sec != imported->tv_sec || now.import_time.tv_nsec != imported->tv_nsec;
  appc_store_image_clear(&now);
  if (*kept)
    return 0;
  /* Under a shared hold, an import of the image that finds no record
   * once it is renamed away would install its blob before our unlink,
   * which would then take the import's: images/ held exclusive makes
   * such an import wait for the whole removal (appc_store_lock_images).
   * Under the exclusive hold no import runs, and it costs nothing. */
  if (appc_store_lock_images(s, true, err) < 0)
    return -1;
  int r = remove_locked(s, id, err);
  appc_store_unlock_images(s);
  return r;
}

/* Inside a shared hold the removal waits for its end (appc_store_unlock),
 * which takes the exclusive lock when it is free: removing under a shared
 * one could pull the image from under another process's render or
 * export. */
static int defer_removal(struct appc_store *s, const char *id, const struct timespec *imported,
                         appc_error_t *err)
{
  if (APPC_ARRAY_EXTEND(s->deferred, s->n_deferred, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s/%s/%s", s->path, STORE_IMAGES, id);
  struct store_removal *r = &s->deferred[s->n_deferred++];
  snprintf(r->id, sizeof r->id, "%s", id);
  r->imported = *imported;
  return 0;
}

int appc_store_remove_unclaimed(struct appc_store *s, const char *id,
                                const struct timespec *imported, bool *kept, appc_error_t *err)
{
  int r;

  *kept = false;
  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  if (s->lock_depth > 0 && !s->lock_exclusive)
    return defer_removal(s, id, imported, err);
  /* (not waiting behind another process's hold: a failed fetch is not
   * kept waiting for a build's end to clean up) */
  if (appc_store_lock_removal(s, err) < 0)
    return -1;
  r = remove_unclaimed_locked(s, id, imported, kept, err);
  appc_store_unlock(s);
  return r;
}

void appc_store_log_unremoved(const struct appc_callbacks *cb, const char *id, bool kept,
                              appc_error_t *err)
{
  if (*err != NULL) {
    appc_cb_log(cb, "%s is left in the store: %s", id, (*err)->msg);
    appc_error_release(err);
  } else if (kept)
    appc_cb_log(cb, "%s stays in the store: another import has taken it", id);
}

void appc_store_run_deferred(struct appc_store *s)
{
  for (size_t i = s->n_deferred; i-- > 0;) {
    appc_error_t e = NULL;
    bool kept = false;
    remove_unclaimed_locked(s, s->deferred[i].id, &s->deferred[i].imported, &kept, &e);
    appc_store_log_unremoved(s->cb, s->deferred[i].id, kept, &e);
  }
}

/* Copy SRC to OUT's temporary through a reader that hashes the
 * uncompressed tar on the way: the copy is committed only when it is the
 * image ID's (a damaged blob would give an ACI of another ID). */
static int export_copy(struct appc_store *s, const char *id, struct appc_source *src, int fd,
                       const char *name, appc_error_t *err)
{
  cleanup_tar_reader struct appc_tar_reader *r = NULL;
  struct appc_tee tee;
  char got[APPC_IMAGE_ID_LEN + 1];

  appc_tee_init(&tee, fd);
  if (appc_tar_reader_open_source(&r, src, true, &tee, err) < 0 ||
      appc_tar_reader_finish(r, got, NULL, err) < 0)
    return appc_error_prefix(err, "%s/%s/%s", s->path, STORE_BLOBS, id);
  if (appc_tee_check(&tee, name, err) < 0)
    return -1;
  if (strcmp(got, id) != 0)
    return appc_error_make(err, 0, "%s/%s/%s: blob damaged: its content hashes to %s" STORE_REPAIR,
                           s->path, STORE_BLOBS, id, got);
  return 0;
}

/* The image's blob as a source, its reading shown as an export to SHOWN. */
static int export_source(struct appc_store *s, const char *id, const char *shown, int *in,
                         struct appc_source **src, appc_error_t *err)
{
  *in = appc_store_blob_open(s, id, STORE_REPAIR, err);
  if (*in < 0) {
    if ((*err)->errnum == ENOENT && faccessat(s->images_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
      appc_error_release(err);
      return appc_store_no_such_image(err, id, "");
    }
    return -1;
  }
  if (appc_source_open_fd(src, *in, id, err) < 0)
    return -1;
  appc_source_progress_as(*src, s->cb, APPC_PROGRESS_EXPORT, shown);
  return 0;
}

static int export_locked(struct appc_store *s, const char *id, const char *out, bool overwrite,
                         appc_error_t *err)
{
  struct appc_build_options bo = {.overwrite = overwrite};
  struct appc_outfile of = APPC_OUTFILE_INIT;
  cleanup_source struct appc_source *src = NULL;
  cleanup_close int in = -1;
  int r;

  if (export_source(s, id, out, &in, &src, err) < 0 || appc_store_check_dest(s, out, err) < 0 ||
      appc_outfile_open(&of, out, &bo, NULL, err) < 0)
    return -1;
  r = export_copy(s, id, src, of.tmp.fd, of.path, err);
  if (r == 0)
    r = appc_outfile_commit(&of, err);
  appc_outfile_abort(&of);
  return r;
}

static int export_fd_locked(struct appc_store *s, const char *id, int fd, const char *name,
                            appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;
  cleanup_close int in = -1;

  if (export_source(s, id, id, &in, &src, err) < 0)
    return -1;
  return export_copy(s, id, src, fd, name, err);
}

int appc_store_export(struct appc_store *s, const char *id, const char *out, bool overwrite,
                      appc_error_t *err)
{
  int r;

  if (lock_for_image(s, id, false, err) < 0)
    return -1;
  r = export_locked(s, id, out, overwrite, err);
  appc_store_unlock(s);
  if (r == 0)
    appc_store_touch(s, id);
  return r;
}

int appc_store_export_fd(struct appc_store *s, const char *id, int fd, const char *name,
                         appc_error_t *err)
{
  int r;

  if (lock_for_image(s, id, false, err) < 0)
    return -1;
  r = export_fd_locked(s, id, fd, name, err);
  appc_store_unlock(s);
  if (r == 0)
    appc_store_touch(s, id);
  return r;
}

int appc_store_blob_open(struct appc_store *s, const char *id, const char *advice,
                         appc_error_t *err)
{
  appc_error_t e = NULL;
  int fd = appc_open_file_at(s->blobs_fd, id, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &e);

  if (fd >= 0)
    return fd;
  int errnum = e->errnum;
  appc_error_release(&e);
  /* ELOOP: a symlink (O_NOFOLLOW); EINVAL: not a regular file */
  if (errnum == ELOOP || errnum == EINVAL)
    return appc_error_tag(err, EINVAL, "%s/%s/%s: blob damaged: %s%s", s->path, STORE_BLOBS, id,
                          errnum == ELOOP ? "a symbolic link" : "not a regular file", advice);
  return appc_error_make(err, errnum, "%s/%s/%s", s->path, STORE_BLOBS, id);
}

int appc_store_open_blob(struct appc_store *s, const char *id, appc_error_t *err)
{
  int fd;

  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  fd = appc_store_blob_open(s, id, STORE_REPAIR, err);
  if (fd < 0 && (*err)->errnum == ENOENT) {
    appc_error_release(err);
    return appc_store_no_such_image(err, id, "");
  }
  return fd;
}
