/* SPDX-License-Identifier: Apache-2.0 */
/* ADD's local archives: a source that is a tar archive, plain or
 * compressed (what libarchive's filters read: gzip, bzip2, xz, zstd...), is
 * unpacked, as Docker does, into a new directory, whose contents ADD then
 * copies into DEST like a directory's (owners kept).
 *
 * The archive is the user's, but its names are still checked: absolute
 * names and ".." components are refused rather than stripped, hard link
 * targets likewise, and libarchive is told not to write through a symlink
 * an earlier entry made (ARCHIVE_EXTRACT_SECURE_SYMLINKS), so that nothing
 * lands outside the directory.  Only files, directories, symlinks and hard
 * links are taken: a device or fifo in an archive is refused (ADD copies
 * nothing else either). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/stream.h"
#include "common/error.h"
#include "common/archive-error.h"
#include "common/cleanup.h"
#include "containerfile/internal.h"

#define UNPACK_FLAGS                                                                               \
  (ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |                           \
   ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT)

/* NAME is relative and has no ".." component. */
static bool name_inside(const char *name)
{
  if (name == NULL || name[0] == '/' || name[0] == '\0')
    return false;
  for (const char *p = name; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return false;
    p += n;
    p += strspn(p, "/");
  }
  return true;
}

static int entry_fail(const char *src, struct archive_entry *e, const char *why, appc_error_t *err)
{
  const char *name = archive_entry_pathname(e);

  return appc_error_tag(err, EINVAL, "%s: %s: %s", src, name != NULL ? name : "(no name)", why);
}

/* Entry E placed under DIR (its name and hard link target prefixed). */
static int place(const char *src, struct archive_entry *e, const char *dir, appc_error_t *err)
{
  const char *name = archive_entry_pathname(e);
  const char *link = archive_entry_hardlink(e);
  mode_t type = archive_entry_filetype(e);
  cleanup_free char *full = NULL, *full_link = NULL;

  if (!name_inside(name))
    return entry_fail(src, e, "an absolute name or one with \"..\" (refused)", err);
  if (link != NULL && !name_inside(link))
    return entry_fail(src, e, "a hard link to an absolute name or one with \"..\"", err);
  if (link == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
    return entry_fail(src, e, "not a file, directory, symlink or hard link", err);
  if (asprintf(&full, "%s/%s", dir, name) < 0 ||
      (link != NULL && asprintf(&full_link, "%s/%s", dir, link) < 0))
    return appc_error_make(err, ENOMEM, "%s", src);
  archive_entry_set_pathname(e, full);
  if (link != NULL)
    archive_entry_set_hardlink(e, full_link);
  return 0;
}

static int unpack_entries(const char *src, struct archive *in, struct archive *out,
                          struct archive_entry *e, const char *dir, appc_error_t *err)
{
  int r;

  do {
    const void *buf;
    size_t len;
    la_int64_t off;
    if (place(src, e, dir, err) < 0)
      return -1;
    if (archive_write_header(out, e) != ARCHIVE_OK)
      return appc_archive_fail(out, src, err);
    while ((r = archive_read_data_block(in, &buf, &len, &off)) == ARCHIVE_OK)
      if (archive_write_data_block(out, buf, len, off) != ARCHIVE_OK)
        return appc_archive_fail(out, src, err);
    if (r != ARCHIVE_EOF)
      return appc_archive_fail(in, src, err);
    if (archive_write_finish_entry(out) != ARCHIVE_OK)
      return appc_archive_fail(out, src, err);
  } while ((r = archive_read_next_header(in, &e)) == ARCHIVE_OK);
  if (r != ARCHIVE_EOF)
    return appc_archive_fail(in, src, err);
  return archive_write_close(out) == ARCHIVE_OK ? 0 : appc_archive_fail(out, src, err);
}

int cf_unpack(const char *src, const char *dir, bool *was_archive, appc_error_t *err)
{
  struct archive *in = archive_read_new();
  struct archive *out = archive_write_disk_new();
  struct archive_entry *e = NULL;
  struct stat st;
  int r = 0;

  *was_archive = false;
  if (in == NULL || out == NULL) {
    r = appc_error_make(err, errno ? errno : ENOMEM, "%s: libarchive", src);
  } else if (stat(src, &st) == 0 && S_ISREG(st.st_mode) &&
             appc_archive_support_compression(in) == ARCHIVE_OK &&
             archive_read_support_format_tar(in) == ARCHIVE_OK &&
             archive_read_open_filename(in, src, 64 * 1024) == ARCHIVE_OK &&
             archive_read_next_header(in, &e) == ARCHIVE_OK) {
    /* the first header read: a tar archive, to unpack */
    *was_archive = true;
    /* numeric owners, as Docker takes them: the host's names mean nothing
     * in the image */
    if (archive_write_disk_set_options(out, UNPACK_FLAGS) != ARCHIVE_OK)
      r = appc_archive_fail(out, src, err);
    else
      r = unpack_entries(src, in, out, e, dir, err);
  }
  if (in != NULL)
    archive_read_free(in);
  if (out != NULL)
    archive_write_free(out);
  return r;
}
