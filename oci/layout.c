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

#include "common/cleanup.h"
#include "common/fs.h"
#include "oci/internal.h"

int oci_layout_open(struct oci_layout *l, const char *path, appc_error_t *err)
{
  cleanup_free char *text = NULL;

  l->path = strdup(path);
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
    return appc_error_make(err, EINVAL, "%s/oci-layout: not imageLayoutVersion 1.0.0", path);
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
    return appc_error_make(err, EINVAL, "%s: \"%.80s\": not a digest", l->path, d->digest);
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
    return appc_error_make(err, EINVAL, "%s/%s: not a regular file", l->path, name);
  }
  if (st.st_size != d->size) {
    close(fd);
    return appc_error_make(err, EINVAL, "%s/%s: %lld bytes where the descriptor says %lld", l->path,
                           name, (long long) st.st_size, (long long) d->size);
  }
  /* Regular: clear O_NONBLOCK, which was only there against a FIFO. */
  (void) fcntl(fd, F_SETFL, 0);
  return fd;
}

int oci_layout_read_blob(struct oci_layout *l, const struct oci_descriptor *d, char **out,
                         size_t *len, appc_error_t *err)
{
  cleanup_digest struct appc_digest *dg = NULL;
  cleanup_free char *data = NULL;
  enum appc_digest_alg alg;
  const char *hex;
  char got[APPC_DIGEST_HEX_MAX];

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
  (void) appc_digest_parse(d->digest, &alg, &hex);
  if (appc_digest_new(alg, &dg, err) < 0)
    return -1;
  appc_digest_update(dg, data, *len);
  if (appc_digest_final(dg, got, err) < 0)
    return -1;
  if (*len != (size_t) d->size || strcmp(got, hex) != 0)
    return appc_error_make(err, EINVAL, "%s: blob %s: its content does not match its digest",
                           l->path, d->digest);
  *out = steal_pointer(&data);
  return 0;
}

/* This machine's architecture, as OCI (GOARCH) spells it. */
static const char *host_arch(void)
{
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

static bool is_index(const struct oci_descriptor *d)
{
  return d->media_type != NULL &&
         (strcmp(d->media_type, OCI_INDEX_V1) == 0 || strcmp(d->media_type, DOCKER_LIST_V2) == 0);
}

static void descriptors_free(struct oci_descriptor *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    oci_descriptor_clear(&v[i]);
  free(v);
}

static int copy_descriptor(const struct oci_descriptor *from, struct oci_descriptor *to,
                           appc_error_t *err)
{
  memset(to, 0, sizeof *to);
  to->size = from->size;
#define COPY(f)                                                                                    \
  if (from->f != NULL && (to->f = strdup(from->f)) == NULL)                                        \
    goto oom;
  COPY(media_type)
  COPY(digest)
  COPY(ref_name)
  COPY(os)
  COPY(arch)
  COPY(variant)
#undef COPY
  return 0;
oom:
  oci_descriptor_clear(to);
  return appc_error_make(err, ENOMEM, "descriptor");
}

/* The manifest of an index for OS/ARCH; an index that names no platform
 * (a single image) gives its one manifest. */
static int pick_platform(struct oci_layout *l, const struct oci_descriptor *index, const char *os,
                         const char *arch, int depth, struct oci_descriptor *out,
                         appc_error_t *err);

static int resolve(struct oci_layout *l, const struct oci_descriptor *d, const char *os,
                   const char *arch, int depth, struct oci_descriptor *out, appc_error_t *err)
{
  if (is_index(d))
    return pick_platform(l, d, os, arch, depth + 1, out, err);
  return copy_descriptor(d, out, err);
}

static int pick_platform(struct oci_layout *l, const struct oci_descriptor *index, const char *os,
                         const char *arch, int depth, struct oci_descriptor *out, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  struct oci_descriptor *v = NULL;
  size_t len, n;
  int r = -1;

  if (depth > 4)
    return appc_error_make(err, ELOOP, "%s: %s: indexes nested more than 4 deep", l->path,
                           index->digest);
  if (oci_layout_read_blob(l, index, &json, &len, err) < 0 ||
      oci_index_parse(json, len, index->digest, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (v[i].os != NULL && strcmp(v[i].os, os) != 0)
      continue;
    if (v[i].arch != NULL && strcmp(v[i].arch, arch) != 0)
      continue;
    r = resolve(l, &v[i], os, arch, depth, out, err);
    descriptors_free(v, n);
    return r;
  }
  descriptors_free(v, n);
  return appc_error_make(err, 0, "%s: %s: no image for %s/%s", l->path, index->digest, os, arch);
}

int oci_layout_resolve(struct oci_layout *l, const char *ref, const char *os, const char *arch,
                       struct oci_descriptor *out, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  struct oci_descriptor *v = NULL;
  size_t len, n, match = 0, matches = 0;
  char where[300];
  int r;

  if (os == NULL)
    os = "linux";
  if (arch == NULL)
    arch = host_arch();
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
    r = appc_error_make(err, EINVAL,
                        "%s: holds %zu images: name one (oci:DIR:REF, REF its "
                        "org.opencontainers.image.ref.name)",
                        where, matches);
  else
    r = resolve(l, &v[match], os, arch, 0, out, err);
  descriptors_free(v, n);
  return r;
}
