/* SPDX-License-Identifier: Apache-2.0 */
/* The ACI archive rules and the public reading API.
 *
 * Rules (aci.md, and what the reference validator accepts): the archive holds
 * a regular file "manifest" and a directory "rootfs" at the top, everything
 * else lives under rootfs/, no name appears twice, names are relative and
 * never climb with "..".  "./" prefixes and a top-level "." entry are
 * accepted as the reference does.  Hard links must point inside rootfs/ so
 * that extracting an image can never link to a file outside it, and at an
 * earlier entry that is not a directory (no file system links one).  A name
 * is at most PATH_MAX - 1 bytes: no tool could make or remove a deeper
 * path by its name, and removing one 30,000 directories deep by recursion
 * overflowed the stack.  Each of its components is at most NAME_MAX bytes,
 * and each owner a uid and gid a file can have: no file system takes
 * others, so an image holding them could be imported but never rendered. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/internal.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/lazy.h"

static bool under_rootfs(const char *canon)
{
  return strncmp(canon, "rootfs/", 7) == 0;
}

/* A tar hard link names a member stored earlier in the same archive; one
 * that names anything else cannot be extracted and could be made to point at
 * whatever the extracting side happens to have at that path. */
static int check_hardlink(const struct appc_aci_checker *c, struct archive_entry *entry,
                          const char *canon, appc_error_t *err)
{
  const char *target = archive_entry_hardlink(entry);
  cleanup_free char *tcanon = NULL;

  if (target == NULL)
    return 0;
  if (appc_entry_name_canon(target, &tcanon, err) < 0)
    return appc_error_prefix(err, "%s: hard link", canon);
  if (!under_rootfs(tcanon))
    return appc_error_make(err, 0, "%s: hard link to %s, outside rootfs", canon, target);
  if (!appc_strset_contains(&c->seen, tcanon))
    return appc_error_make(err, 0, "%s: hard link to %s, which is not an earlier entry", canon,
                           target);
  if (appc_strset_contains(&c->dirs, tcanon))
    return appc_error_make(err, 0, "%s: hard link to %s, a directory", canon, target);
  return 0;
}

static int check_role(const struct appc_aci_checker *c, struct archive_entry *entry,
                      const char *canon, enum appc_entry_role *role, appc_error_t *err)
{
  mode_t type = archive_entry_filetype(entry);

  if (strcmp(canon, "manifest") == 0) {
    if (type != AE_IFREG || archive_entry_hardlink(entry) != NULL)
      return appc_error_make(err, 0, "manifest: not a regular file");
    *role = APPC_ENTRY_MANIFEST;
    return 0;
  }
  if (strcmp(canon, "rootfs") == 0) {
    if (type != AE_IFDIR)
      return appc_error_make(err, 0, "rootfs: not a directory");
    *role = APPC_ENTRY_ROOTFS;
    return 0;
  }
  if (!under_rootfs(canon))
    return appc_error_make(err, 0, "%s: unexpected entry outside rootfs", canon);
  *role = APPC_ENTRY_ROOTFS;
  return check_hardlink(c, entry, canon, err);
}

bool appc_aci_owner_valid(struct archive_entry *entry)
{
  la_int64_t u = archive_entry_uid(entry), g = archive_entry_gid(entry);

  return u >= 0 && u < (la_int64_t) UINT32_MAX && g >= 0 && g < (la_int64_t) UINT32_MAX;
}

/* The length of CANON's longest component. */
static size_t longest_component(const char *canon)
{
  size_t longest = 0;

  for (const char *p = canon; *p != '\0';) {
    size_t n = strcspn(p, "/");
    longest = n > longest ? n : longest;
    p += n + (p[n] == '/');
  }
  return longest;
}

int appc_aci_check_entry(struct appc_aci_checker *c, struct archive_entry *entry,
                         enum appc_entry_role *role, char **canon_out, appc_error_t *err)
{
  const char *raw = archive_entry_pathname(entry);
  cleanup_free char *canon = NULL;
  int r;

  if (raw == NULL || raw[0] == '\0')
    return appc_error_make(err, 0, "entry without a name");
  if (appc_entry_name_canon(raw, &canon, err) < 0)
    return -1;
  if (strlen(canon) >= PATH_MAX)
    return appc_error_make(err, 0, "%.100s...: a name of %zu bytes, longer than a path can be (%d)",
                           canon, strlen(canon), PATH_MAX - 1);
  if (longest_component(canon) > NAME_MAX)
    return appc_error_make(err, 0,
                           "%.100s...: a name with a component of %zu bytes, longer than a file "
                           "name can be (%d)",
                           canon, longest_component(canon), NAME_MAX);
  if (canon[0] == '\0') {
    /* The archive's own top directory ("." or "./"), as tar -C dir . makes. */
    *role = APPC_ENTRY_IGNORED;
    *canon_out = steal_pointer(&canon);
    return 0;
  }
  if (check_role(c, entry, canon, role, err) < 0)
    return -1;
  if (*role == APPC_ENTRY_ROOTFS && !appc_aci_owner_valid(entry))
    return appc_error_make(err, 0, "%s: owner %lld:%lld out of range (0 to %u)", canon,
                           (long long) archive_entry_uid(entry),
                           (long long) archive_entry_gid(entry), UINT32_MAX - 1);
  r = appc_strset_add(&c->seen, canon);
  if (r < 0)
    return appc_error_make(err, ENOMEM, "%s", canon);
  if (r == 0)
    return appc_error_make(err, 0, "%s: duplicate entry", canon);
  if (archive_entry_filetype(entry) == AE_IFDIR && archive_entry_hardlink(entry) == NULL &&
      appc_strset_add(&c->dirs, canon) < 0)
    return appc_error_make(err, ENOMEM, "%s", canon);
  if (*role == APPC_ENTRY_MANIFEST)
    c->have_manifest = true;
  if (strcmp(canon, "rootfs") == 0)
    c->have_rootfs = true;
  *canon_out = steal_pointer(&canon);
  return 0;
}

int appc_aci_check_end(const struct appc_aci_checker *c, appc_error_t *err)
{
  if (!c->have_manifest)
    return appc_error_make(err, 0, "no manifest in image");
  /* The reference requires an explicit rootfs entry, even when entries
   * below it exist. */
  if (!c->have_rootfs)
    return appc_error_make(err, 0, "no rootfs directory in image");
  return 0;
}

void appc_aci_checker_clear(struct appc_aci_checker *c)
{
  appc_strset_clear(&c->seen);
  appc_strset_clear(&c->dirs);
}

void appc_aci_info_clear(struct appc_aci_info *info)
{
  if (info == NULL)
    return;
  free(info->manifest_json);
  appc_image_manifest_free(info->manifest);
  memset(info, 0, sizeof *info);
}

/* Read the manifest entry's bytes, refusing oversized ones before reading. */
int appc_aci_read_manifest_entry(struct appc_tar_reader *r, struct archive_entry *e, char **json,
                                 size_t *len, appc_error_t *err)
{
  if (archive_entry_size_is_set(e) && archive_entry_size(e) > (la_int64_t) APPC_MANIFEST_MAX)
    return appc_error_make(err, EFBIG, "manifest: %lld bytes, larger than the %u MiB limit",
                           (long long) archive_entry_size(e), APPC_MANIFEST_MAX >> 20);
  return appc_tar_reader_slurp(r, "manifest", json, len, err);
}

/* Walk every entry, applying the rules (and HOOK's) and keeping the manifest. */
static int validate_entries(struct appc_tar_reader *r, struct appc_aci_info *info,
                            appc_aci_entry_hook hook, void *data, appc_error_t *err)
{
  struct appc_aci_checker checker = {0};
  struct archive_entry *e;
  int ret;

  while ((ret = appc_tar_reader_next(r, &e, err)) > 0) {
    enum appc_entry_role role;
    cleanup_free char *canon = NULL;
    if (appc_aci_check_entry(&checker, e, &role, &canon, err) < 0)
      break;
    if (hook != NULL && hook(e, canon, data, err) < 0)
      break;
    if (role == APPC_ENTRY_MANIFEST) {
      if (appc_aci_read_manifest_entry(r, e, &info->manifest_json, &info->manifest_len, err) < 0)
        break;
    } else if (appc_tar_reader_check_data(r, e, canon, err) < 0) {
      break;
    }
  }
  if (ret == 0 && *err == NULL)
    appc_aci_check_end(&checker, err);
  appc_aci_checker_clear(&checker);
  return *err != NULL ? -1 : 0;
}

int appc_aci_validate_stream(struct appc_tar_reader *r, struct appc_aci_info *info,
                             appc_aci_entry_hook hook, void *data, appc_error_t *err)
{
  info->compression = appc_tar_reader_compression(r);
  if (validate_entries(r, info, hook, data, err) < 0)
    return -1;
  if (appc_image_manifest_parse(info->manifest_json, info->manifest_len, &info->manifest, err) < 0)
    return appc_error_prefix(err, "manifest");
  return appc_tar_reader_finish(r, info->image_id, &info->uncompressed_size, err);
}

/* Between entries: the caller may have given up. */
static int cancel_hook(struct archive_entry *e, const char *canon, void *data, appc_error_t *err)
{
  (void) e;
  (void) canon;
  if (appc_cb_cancelled(data))
    return appc_error_make(err, ECANCELED, "validation cancelled");
  return 0;
}

int appc_aci_validate_source(struct appc_source *src, const struct appc_callbacks *cb,
                             struct appc_aci_info *info, appc_error_t *err)
{
  return appc_aci_validate_source_op(src, cb, APPC_PROGRESS_READ, info, err);
}

int appc_aci_validate_source_op(struct appc_source *src, const struct appc_callbacks *cb,
                                enum appc_progress_op op, struct appc_aci_info *info,
                                appc_error_t *err)
{
  cleanup_tar_reader struct appc_tar_reader *r = NULL;

  memset(info, 0, sizeof *info);
  appc_source_progress(src, cb, op);
  if (appc_tar_reader_open_source(&r, src, true, NULL, err) < 0 ||
      appc_aci_validate_stream(r, info, cb != NULL ? cancel_hook : NULL, (void *) cb, err) < 0) {
    appc_aci_info_clear(info);
    return appc_error_prefix(err, "%s", appc_source_name(src));
  }
  return 0;
}

int appc_aci_validate(const char *path, struct appc_aci_info *info, appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;

  memset(info, 0, sizeof *info);
  if (appc_source_open_path(&src, path, err) < 0)
    return -1;
  return appc_aci_validate_source(src, NULL, info, err);
}

/* The manifest, after at most MAX_BEFORE bytes of other entries (their
 * headers and data): each is decompressed to be skipped, and a few
 * kilobytes of bzip2 make gigabytes of zeros. */
static int find_manifest(struct appc_tar_reader *r, uint64_t max_before, char **json, size_t *len,
                         appc_error_t *err)
{
  struct archive_entry *e;
  uint64_t before = 0;
  int ret;

  while ((ret = appc_tar_reader_next(r, &e, err)) > 0) {
    cleanup_free char *canon = NULL;
    appc_error_t ignored = NULL;
    /* Names that break the rules cannot be the manifest; validation is
     * not this function's job. */
    const char *raw = archive_entry_pathname(e);
    bool named = raw != NULL && appc_entry_name_canon(raw, &canon, &ignored) == 0;
    appc_error_release(&ignored);
    if (!named || strcmp(canon, "manifest") != 0) {
      uint64_t size = 512 + (uint64_t) (archive_entry_size(e) > 0 ? archive_entry_size(e) : 0);
      if (size > max_before - before)
        return appc_error_make(err, 0,
                               "no manifest within the first %" PRIu64
                               " bytes of the archive (the limit before its signature is checked)",
                               max_before);
      before += size;
      continue;
    }
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL)
      return appc_error_make(err, 0, "manifest: not a regular file");
    return appc_aci_read_manifest_entry(r, e, json, len, err);
  }
  if (ret == 0)
    return appc_error_make(err, 0, "no manifest in image");
  return -1;
}

static int read_manifest(struct appc_source *src, uint64_t max_before, char **json, size_t *len,
                         appc_error_t *err)
{
  cleanup_tar_reader struct appc_tar_reader *r = NULL;

  if (appc_tar_reader_open_source(&r, src, false, NULL, err) < 0 ||
      find_manifest(r, max_before, json, len, err) < 0)
    return appc_error_prefix(err, "%s", appc_source_name(src));
  return 0;
}

int appc_aci_read_manifest_bounded(struct appc_source *src, uint64_t max_before,
                                   const struct appc_callbacks *cb, char **json, size_t *len,
                                   appc_error_t *err)
{
  /* CB's cancelling, not its progress: finding a manifest is no step */
  struct appc_callbacks cancel_only = {
      .data = cb != NULL ? cb->data : NULL,
      .cancelled = cb != NULL ? cb->cancelled : NULL,
  };

  appc_source_progress(src, &cancel_only, APPC_PROGRESS_READ);
  int r = read_manifest(src, max_before, json, len, err);
  appc_source_progress(src, NULL, APPC_PROGRESS_READ); /* CANCEL_ONLY ends here */
  return r;
}

int appc_aci_read_manifest_source(struct appc_source *src, char **json, size_t *len,
                                  appc_error_t *err)
{
  return read_manifest(src, UINT64_MAX, json, len, err);
}

int appc_aci_read_manifest(const char *path, char **json, size_t *len, appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;

  if (appc_source_open_path(&src, path, err) < 0)
    return -1;
  return appc_aci_read_manifest_source(src, json, len, err);
}
