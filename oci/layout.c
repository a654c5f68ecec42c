/* SPDX-License-Identifier: Apache-2.0 */
/* An OCI image layout directory (image-spec image-layout.md): oci-layout,
 * index.json and blobs/ALG/HEX.  Blobs are opened beneath the directory
 * without following symlinks, and never trusted before their digest is
 * checked. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "oci/internal.h"

static int layout_open_blob(struct oci_blobs *b, const struct oci_descriptor *d, appc_error_t *err);
static int layout_read_blob(struct oci_blobs *b, const struct oci_descriptor *d, char **out,
                            size_t *len, appc_error_t *err);

int oci_layout_open(struct oci_layout *l, const char *path, appc_error_t *err)
{
  cleanup_free char *text = NULL;

  l->path = strdup(path);
  l->blobs.where = l->path;
  l->blobs.open = layout_open_blob;
  l->blobs.read = layout_read_blob;
  l->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (l->path == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  if (l->dirfd < 0)
    return appc_error_make(err, errno, "%s: not an OCI image layout", path);
  /* {"imageLayoutVersion": "1.0.0"}: the one version there is. */
  if (appc_read_file_at(l->dirfd, "oci-layout", 4096, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &text,
                        NULL, err) < 0)
    return appc_error_prefix(err, "%s: not an OCI image layout", path);
  if (strstr(text, "\"imageLayoutVersion\"") == NULL || strstr(text, "\"1.0.0\"") == NULL)
    return appc_error_tag(err, EINVAL, "%s/oci-layout: not imageLayoutVersion 1.0.0", path);
  return 0;
}

void oci_layout_close(struct oci_layout *l)
{
  if (l->dirfd >= 0)
    close(l->dirfd);
  free(l->path);
  l->dirfd = -1;
  l->path = NULL;
}

int oci_layout_open_blob(struct oci_layout *l, const struct oci_descriptor *d, appc_error_t *err)
{
  enum appc_digest_alg alg;
  const char *hex;
  char name[160];
  struct stat st;
  int fd;

  /* Checked when parsed; the name then has no '/' or "..". */
  if (!appc_digest_parse(d->digest, &alg, &hex))
    return appc_error_tag(err, EINVAL, "%s: \"%.80s\": not a digest", l->path, d->digest);
  snprintf(name, sizeof name, "blobs/%s/%s", alg == APPC_DIGEST_SHA256 ? "sha256" : "sha512", hex);
  cleanup_close int blobs =
      openat(l->dirfd, "blobs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int algdir = blobs < 0
                                 ? -1
                                 : openat(blobs, alg == APPC_DIGEST_SHA256 ? "sha256" : "sha512",
                                          O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (algdir < 0)
    return appc_error_make(err, errno, "%s/%s", l->path, name);
  fd = openat(algdir, hex, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return appc_error_make(err, errno, "%s/%s", l->path, name);
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return appc_error_tag(err, EINVAL, "%s/%s: not a regular file", l->path, name);
  }
  if (st.st_size != d->size) {
    close(fd);
    return appc_error_tag(err, EINVAL, "%s/%s: %lld bytes where the descriptor says %lld", l->path,
                          name, (long long) st.st_size, (long long) d->size);
  }
  /* Regular: clear O_NONBLOCK, which was only there against a FIFO. */
  (void) fcntl(fd, F_SETFL, 0);
  return fd;
}

int oci_layout_read_blob(struct oci_layout *l, const struct oci_descriptor *d, char **out,
                         size_t *len, appc_error_t *err)
{
  cleanup_free char *data = NULL;

  if (d->size > (int64_t) OCI_JSON_MAX)
    return appc_error_make(err, EFBIG,
                           "%s: blob %s: %lld bytes, more than a manifest or config "
                           "may have (%u)",
                           l->path, d->digest, (long long) d->size, OCI_JSON_MAX);
  cleanup_close int fd = oci_layout_open_blob(l, d, err);
  if (fd < 0)
    return -1;
  if (appc_read_fd(fd, d->digest, OCI_JSON_MAX, &data, len, err) < 0)
    return appc_error_prefix(err, "%s", l->path);
  if (oci_blob_check(d, data, *len, l->path, err) < 0)
    return -1;
  *out = steal_pointer(&data);
  return 0;
}

static int layout_open_blob(struct oci_blobs *b, const struct oci_descriptor *d, appc_error_t *err)
{
  return oci_layout_open_blob((struct oci_layout *) b, d, err);
}

static int layout_read_blob(struct oci_blobs *b, const struct oci_descriptor *d, char **out,
                            size_t *len, appc_error_t *err)
{
  return oci_layout_read_blob((struct oci_layout *) b, d, out, len, err);
}

int oci_layout_resolve(struct oci_layout *l, const char *ref, const char *os, const char *arch,
                       struct oci_descriptor *out, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  struct oci_descriptor *v = NULL;
  size_t len, n, match = 0, matches = 0;
  char where[300];
  int r;

  snprintf(where, sizeof where, "%.280s/index.json", l->path);
  if (appc_read_file_at(l->dirfd, "index.json", OCI_JSON_MAX,
                        APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &json, &len, err) < 0)
    return appc_error_prefix(err, "%s", l->path);
  if (oci_index_parse(json, len, where, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (ref != NULL ? v[i].ref_name != NULL && strcmp(v[i].ref_name, ref) == 0 : true) {
      if (matches++ == 0)
        match = i;
    }
  }
  if (matches == 0)
    r = appc_error_make(err, 0,
                        ref != NULL
                            ? "%s: no image named \"%s\" (org.opencontainers.image.ref.name)"
                            : "%s: holds no image",
                        where, ref);
  else if (matches > 1 && ref == NULL)
    r = appc_error_tag(err, EINVAL,
                       "%s: holds %zu images: name one (oci:DIR:REF, REF its "
                       "org.opencontainers.image.ref.name)",
                       where, matches);
  else {
    char from[340];
    snprintf(from, sizeof from, "%s: manifests[%zu]", where, match);
    r = oci_resolve(&l->blobs, &v[match], from, os, arch, out, err);
  }
  oci_descriptors_free(v, n);
  return r;
}
