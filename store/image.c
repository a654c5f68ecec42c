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

#include "common/cleanup.h"
#include "common/fs.h"
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
  if (appc_flock(fd, LOCK_EX) < 0 || fstat(fd, &held) < 0) {
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

/* Under the record's lock (appc_store_lock_record), which claims and
 * imports of the same image take too: one is before or after, never
 * between the look at the record and the removal, whatever lock of the
 * store's the caller holds (a removal nested in an import's shared hold
 * takes no exclusive one). */
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
  return *kept ? 0 : remove_locked(s, id, err);
}

int appc_store_remove_unclaimed(struct appc_store *s, const char *id,
                                const struct timespec *imported, bool *kept, appc_error_t *err)
{
  int r;

  if (lock_for_image(s, id, true, err) < 0)
    return -1;
  r = remove_unclaimed_locked(s, id, imported, kept, err);
  appc_store_unlock(s);
  return r;
}

static int export_locked(struct appc_store *s, const char *id, const char *out, bool overwrite,
                         appc_error_t *err)
{
  struct appc_build_options bo = {.overwrite = overwrite};
  struct appc_outfile of = APPC_OUTFILE_INIT;
  cleanup_close int in = openat(s->blobs_fd, id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  int r;

  if (in < 0) {
    if (errno == ENOENT && faccessat(s->images_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      return appc_store_no_such_image(err, id, "");
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_BLOBS, id);
  }
  struct stat st;
  if (fstat(in, &st) < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_BLOBS, id);
  if (appc_outfile_open(&of, out, &bo, NULL, err) < 0)
    return -1;
  const struct appc_copy_report report = {s->cb, APPC_PROGRESS_EXPORT, out, (uint64_t) st.st_size};
  r = appc_copy_fd(in, of.tmp.fd, &report) < 0 ? appc_error_make(err, errno, "%s", out) : 0;
  if (r == 0)
    r = appc_outfile_commit(&of, err);
  appc_outfile_abort(&of);
  return r;
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

int appc_store_open_blob(struct appc_store *s, const char *id, appc_error_t *err)
{
  int fd;

  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  fd = openat(s->blobs_fd, id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    return appc_store_no_such_image(err, id, "");
  if (fd < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_BLOBS, id);
  return fd;
}
