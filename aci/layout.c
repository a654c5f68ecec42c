/* SPDX-License-Identifier: Apache-2.0 */
/* Image layouts: a directory with a regular file "manifest" holding a valid
 * ImageManifest (or "manifest.yaml" / "manifest.yml" holding it in YAML)
 * and a directory "rootfs", and nothing else at the top.
 * (The reference tolerates any top-level name that merely starts with
 * "rootfs", such as "rootfs.old", and then packs it into the image; such an
 * image is not what aci.md describes, so we refuse it.) */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/internal.h"
#include "aci/layout.h"
#include "common/callbacks.h"
#include "common/cleanup.h"

/* The names a layout's manifest may have (docs/authoring.md): JSON, or
 * YAML, which build turns into the manifest's canonical JSON. */
static const char *const manifest_names[] = {"manifest", "manifest.yaml", "manifest.yml"};

static bool is_manifest_name(const char *name)
{
  for (size_t i = 0; i < sizeof manifest_names / sizeof manifest_names[0]; i++)
    if (strcmp(name, manifest_names[i]) == 0)
      return true;
  return false;
}

/* The layout's one manifest file. */
static int find_manifest(int dirfd, const char **name, appc_error_t *err)
{
  struct stat st;

  *name = NULL;
  for (size_t i = 0; i < sizeof manifest_names / sizeof manifest_names[0]; i++) {
    if (fstatat(dirfd, manifest_names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
      continue;
    if (*name != NULL)
      return appc_error_make(err, 0, "%s and %s: a layout has one manifest", *name,
                             manifest_names[i]);
    *name = manifest_names[i];
  }
  if (*name == NULL)
    return appc_error_make(err, ENOENT, "manifest");
  return 0;
}

/* Open the manifest without following it anywhere dangerous: a FIFO or a
 * device would block or never end, so anything but a regular file is refused
 * before it is even opened, and checked again on the open descriptor. */
static int open_manifest(int dirfd, const char *name, struct stat *st, appc_error_t *err)
{
  struct stat before;
  int fd;

  if (fstatat(dirfd, name, &before, 0) < 0)
    return appc_error_make(err, errno, "%s", name);
  if (!S_ISREG(before.st_mode))
    return appc_error_make(err, 0, "%s: not a regular file", name);
  fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", name);
  if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_ino != before.st_ino ||
      st->st_dev != before.st_dev) {
    close(fd);
    return appc_error_make(err, 0, "%s: changed while being read", name);
  }
  if (st->st_size > (off_t) APPC_MANIFEST_MAX) {
    close(fd);
    return appc_error_make(err, EFBIG, "%s: %lld bytes, larger than the %u MiB limit", name,
                           (long long) st->st_size, APPC_MANIFEST_MAX >> 20);
  }
  return fd;
}

/* A YAML manifest's text replaced by its canonical JSON. */
static int yaml_to_canonical(const char *name, char **text, size_t *len, appc_error_t *err)
{
  struct appc_image_manifest *m = NULL;
  char *json = NULL;
  size_t json_len = 0;

  if (appc_image_manifest_parse_yaml(*text, *len, name, &m, &json, &json_len, err) < 0)
    return -1;
  appc_image_manifest_free(m);
  free(*text);
  *text = json;
  *len = json_len;
  return 0;
}

/* Read at most the size fstat saw; a file growing meanwhile is cut there. */
static int read_upto(int fd, size_t size, char **json, size_t *len, appc_error_t *err)
{
  cleanup_free char *buf = malloc(size + 1);
  size_t used = 0;

  if (buf == NULL)
    return appc_error_make(err, ENOMEM, "manifest");
  while (used < size) {
    ssize_t n = read(fd, buf + used, size - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "manifest");
    if (n == 0)
      break;
    used += (size_t) n;
  }
  buf[used] = '\0';
  *json = steal_pointer(&buf);
  *len = used;
  return 0;
}

int appc_layout_read_manifest(int dirfd, int *fd_out, struct stat *st_out, char **json, size_t *len,
                              appc_error_t *err)
{
  struct stat st;
  const char *name;

  if (find_manifest(dirfd, &name, err) < 0)
    return -1;
  cleanup_close int fd = open_manifest(dirfd, name, &st, err);
  if (fd < 0)
    return -1;
  if (read_upto(fd, (size_t) st.st_size, json, len, err) < 0)
    return -1;
  if (name != manifest_names[0] && yaml_to_canonical(name, json, len, err) < 0) {
    free(*json);
    *json = NULL;
    return -1;
  }
  if (st_out != NULL)
    *st_out = st;
  if (fd_out != NULL)
    *fd_out = steal_fd(&fd);
  return 0;
}

static int check_top_level(int dirfd, appc_error_t *err)
{
  cleanup_close int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d;
  struct dirent *de;
  int r = 0;

  if (fd < 0 || (d = fdopendir(fd)) == NULL)
    return appc_error_make(err, errno, "cannot list the layout");
  fd = -1; /* owned by d now */
  while ((de = readdir(d)) != NULL) {
    const char *n = de->d_name;
    if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || is_manifest_name(n) ||
        strcmp(n, "rootfs") == 0)
      continue;
    /* layout/'s working names, which the layout's lock (held here) says
     * are no edit's under way but a killed one's */
    if (strcmp(n, ".run") == 0 || strcmp(n, ".init") == 0)
      r = appc_error_make(err, 0,
                          "%s: left by a layout command killed before its end (the next "
                          "layout command finishes or removes it)",
                          n);
    else
      r = appc_error_make(err, 0, "%s: unexpected file in layout (only manifest and rootfs)", n);
    break;
  }
  closedir(d);
  return r;
}

int appc_layout_check_structure(int dirfd, appc_error_t *err)
{
  struct stat st;
  const char *name;

  if (find_manifest(dirfd, &name, err) < 0)
    return -1;
  if (fstatat(dirfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return appc_error_make(err, 0,
                             "rootfs: missing (an image layout needs a rootfs/ directory beside "
                             "its manifest)");
    return appc_error_make(err, errno, "rootfs");
  }
  if (!S_ISDIR(st.st_mode))
    return appc_error_make(err, 0,
                           "rootfs: not a directory (an image layout needs a rootfs/ "
                           "directory beside its manifest)");
  return check_top_level(dirfd, err);
}

static int validate_at(int dirfd, struct appc_image_manifest **manifest, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t len = 0;
  struct appc_image_manifest *m = NULL;

  if (appc_layout_check_structure(dirfd, err) < 0)
    return -1;
  if (appc_layout_read_manifest(dirfd, NULL, NULL, &json, &len, err) < 0)
    return -1;
  if (appc_image_manifest_parse(json, len, &m, err) < 0)
    return appc_error_prefix(err, "manifest");
  if (manifest != NULL)
    *manifest = m;
  else
    appc_image_manifest_free(m);
  return 0;
}

int appc_layout_lock_shared(int dirfd, const char *dir, const struct appc_callbacks *cb,
                            appc_error_t *err)
{
  if (flock(dirfd, LOCK_SH | LOCK_NB) == 0)
    return 0;
  if (errno != EWOULDBLOCK)
    return appc_error_make(err, errno, "%s: lock", dir);
  appc_cb_log(cb, "%s: waiting for the layout command that holds it", dir);
  while (flock(dirfd, LOCK_SH) < 0) {
    if (errno != EINTR)
      return appc_error_make(err, errno, "%s: lock", dir);
    if (appc_cb_cancelled(cb))
      return appc_error_make(err, ECANCELED, "%s: waiting for its lock", dir);
  }
  return 0;
}

int appc_layout_validate(const char *dir, struct appc_image_manifest **manifest, appc_error_t *err)
{
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (manifest != NULL)
    *manifest = NULL;
  if (dirfd < 0)
    return appc_error_make(err, errno, "%s: not an image layout", dir);
  if (appc_layout_lock_shared(dirfd, dir, NULL, err) < 0 || validate_at(dirfd, manifest, err) < 0)
    return appc_error_prefix(err, "%s", dir);
  return 0;
}
