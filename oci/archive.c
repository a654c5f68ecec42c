/* SPDX-License-Identifier: Apache-2.0 */
/* `docker save` archives (docker-archive:FILE[:REPO:TAG]).  Their
 * manifest.json ([{"Config": PATH, "RepoTags": [...], "Layers": [PATH...]}])
 * comes in both flavours Docker writes: the legacy one (ID.json, ID.tar or
 * ID/layer.tar, some of them symlinks to others) and the OCI layout of
 * Docker 25 and later, which also carries a manifest.json whose paths are
 * blobs/sha256/HEX.  Its order is not fixed (manifest.json comes last), so
 * the archive is read once into a private directory of the store's tmp/:
 * each regular file under a name of ours, hashed on the way, refusing any
 * name that would leave the archive.  The image asked for then becomes an
 * OCI image layout beside those files (hard links, a manifest, an index)
 * that appc_oci_import_layout converts as any other, the config's diff_ids
 * checking every layer. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "aci/stream.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/archive-error.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "common/macros.h"
#include "oci/internal.h"

/* Entries an archive may have: a few per layer. */
#define ARCHIVE_MAX_ENTRIES 100000

/* One entry of the archive: a regular file (FILE >= 0, its name "fFILE"
 * in the directory) or a link to another entry (TARGET). */
struct entry {
  char *path; /* canonical, as in the archive */
  long file;
  char *target; /* canonical path of the entry it stands for */
  char sha256[APPC_DIGEST_HEX_MAX];
  int64_t size;
};

struct unpacked {
  const char *archive; /* for messages */
  int dirfd;
  struct entry *v;
  size_t n, cap; /* grown with APPC_ARRAY_RESERVE: up to ARCHIVE_MAX_ENTRIES */
  /* each path to its first entry in V: an archive of 100000 entries
   * looked up by scanning them was seconds of work per pass */
  struct appc_strindex paths;
  long files;
  const struct appc_callbacks *cb;
  char *buf; /* file contents on their way (allocated at first use) */
  /* what its members saved so far came to: a gzip'ed or zstd archive is
   * bounded as a layer is (oci_expand_max of what was read of it) */
  unsigned long long expanded;
  /* the archive's bytes, all read: what the image came in, which bounds
   * its layers' expansion too (struct oci_expansion), not its members'
   * sizes, which a compressed archive has expanded already */
  unsigned long long packed;
};

/* On the heap, not thread-local: static TLS is zeroed in every process and
 * thread that loads libappc, used or not. */
#define FILE_BUF (128 * 1024)

static void unpacked_clear(struct unpacked *u)
{
  appc_strindex_clear(&u->paths); /* before the paths it points at */
  for (size_t i = 0; i < u->n; i++) {
    free(u->v[i].path);
    free(u->v[i].target);
  }
  free(u->v);
  u->v = NULL;
  u->n = u->cap = 0;
  free(u->buf);
  u->buf = NULL;
}

/* The entry at PATH, following links inside the archive; NULL if none. */
static const struct entry *lookup(const struct unpacked *u, const char *path)
{
  for (int depth = 0; depth < 16 && path != NULL; depth++) {
    ssize_t i = appc_strindex_find(&u->paths, path);
    const struct entry *e = i >= 0 ? &u->v[i] : NULL;
    if (e == NULL || e->target == NULL)
      return e;
    path = e->target;
  }
  return NULL;
}

/* A symlink's TARGET, relative to the directory of LINK, as a canonical
 * path inside the archive; NULL when it leaves it. */
static char *link_path(const char *link, const char *target)
{
  cleanup_free char *joined = NULL;
  char *canon = NULL;
  appc_error_t ignored = NULL;
  const char *slash = strrchr(link, '/');

  if (target[0] == '/')
    return NULL;
  if (asprintf(&joined, "%.*s%s%s", slash != NULL ? (int) (slash - link) : 0, link,
               slash != NULL ? "/" : "", target) < 0)
    return NULL;
  /* "a/../b": resolve the ".." the canonicaliser refuses, without ever
   * going above the top. */
  char *parts[256];
  size_t n = 0;
  for (char *save = NULL, *p = strtok_r(joined, "/", &save); p != NULL;
       p = strtok_r(NULL, "/", &save)) {
    if (strcmp(p, ".") == 0)
      continue;
    if (strcmp(p, "..") == 0) {
      if (n == 0)
        return NULL;
      n--;
      continue;
    }
    if (n == sizeof parts / sizeof parts[0])
      return NULL;
    parts[n++] = p;
  }
  size_t len = 1;
  for (size_t i = 0; i < n; i++)
    len += strlen(parts[i]) + 1;
  char *out = malloc(len);
  if (out == NULL)
    return NULL;
  out[0] = '\0';
  for (size_t i = 0; i < n; i++)
    strcat(strcat(out, i > 0 ? "/" : ""), parts[i]);
  if (appc_entry_name_canon(out, &canon, &ignored) < 0) {
    appc_error_release(&ignored);
    free(out);
    return NULL;
  }
  free(out);
  return canon;
}

/* Count N more bytes of E saved; an error past the archive's bound.  The
 * bound is of what was read of the archive so far (a pipe has no size
 * beforehand), and only for a compressed one: a plain tar's members come
 * to no more than it. */
static int count_expanded(struct unpacked *u, struct archive *a, const struct entry *e, size_t n,
                          appc_error_t *err)
{
  u->expanded += n;
  if (archive_filter_code(a, 0) == ARCHIVE_FILTER_NONE)
    return 0;
  unsigned long long packed = (unsigned long long) archive_filter_bytes(a, -1);
  unsigned long long max = oci_expand_max(packed);
  if (u->expanded <= max)
    return 0;
  return appc_error_tag(err, EINVAL,
                        "%s: %s: the archive expands to more than %llu bytes (%llu times the %llu "
                        "bytes read of it and 1 GiB, a fixed bound against decompression bombs: "
                        "docs/oci.md)",
                        u->archive, e->path, max, OCI_EXPAND_RATIO, packed);
}

static int save_file(struct unpacked *u, struct archive *a, struct entry *e, appc_error_t *err)
{
  cleanup_digest struct appc_digest *d = NULL;
  char name[32];
  la_ssize_t n;

  snprintf(name, sizeof name, "f%ld", u->files);
  cleanup_close int fd =
      openat(u->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return appc_error_make(err, errno, "%s: %s", u->archive, e->path);
  if (appc_digest_new(APPC_DIGEST_SHA256, &d, err) < 0)
    return -1;
  if (u->buf == NULL && (u->buf = malloc(FILE_BUF)) == NULL)
    return appc_error_make(err, ENOMEM, "%s: %s", u->archive, e->path);
  char *buf = u->buf;
  e->size = 0;
  while ((n = archive_read_data(a, buf, FILE_BUF)) > 0) {
    if (appc_cb_cancelled(u->cb))
      return appc_error_make(err, ECANCELED, "%s", u->archive);
    if (count_expanded(u, a, e, (size_t) n, err) < 0)
      return -1;
    if (appc_write_all(fd, buf, (size_t) n) < 0)
      return appc_error_make(err, errno, "%s: %s", u->archive, e->path);
    appc_digest_update(d, buf, (size_t) n);
    e->size += n;
  }
  if (n < 0)
    return appc_error_make(err, 0, "%s: %s: %s", u->archive, e->path, archive_error_string(a));
  if (appc_digest_final(d, e->sha256, err) < 0)
    return -1;
  e->file = u->files++;
  return 0;
}

/* Add the entry at PATH (its canonical path, taken), or refuse a file at
 * the archive's top (manifest.json, index.json, repositories, a config)
 * that came before: no docker save writes one twice, and which one a
 * reader takes decides the image.  A deeper one named twice is looked up
 * as its first entry. */
static struct entry *add_entry(struct unpacked *u, char **path, appc_error_t *err)
{
  ssize_t first = appc_strindex_find(&u->paths, *path);

  if (first >= 0 && strchr(*path, '/') == NULL) {
    appc_error_tag(err, EINVAL,
                   "%s: %s: twice in the archive (docker load would take the last): refused as "
                   "ambiguous",
                   u->archive, *path);
    return NULL;
  }
  if (APPC_ARRAY_RESERVE(u->v, u->cap, u->n + 1) < 0 ||
      (first < 0 && appc_strindex_add(&u->paths, *path, u->n) < 0)) {
    appc_error_make(err, ENOMEM, "%s", u->archive);
    return NULL;
  }
  struct entry *e = &u->v[u->n++];
  *e = (struct entry){.path = steal_pointer(path), .file = -1};
  return e;
}

static int unpack_entry(struct unpacked *u, struct archive *a, struct archive_entry *ae,
                        appc_error_t *err)
{
  const char *raw = archive_entry_pathname(ae);
  cleanup_free char *canon = NULL;
  mode_t type = archive_entry_filetype(ae);

  if (raw == NULL || appc_entry_name_canon(raw, &canon, err) < 0)
    return appc_error_prefix(err, "%s", u->archive);
  if (type == AE_IFDIR || canon[0] == '\0')
    return 0;
  if (u->n >= ARCHIVE_MAX_ENTRIES)
    return appc_error_make(err, EFBIG, "%s: more than %d entries", u->archive, ARCHIVE_MAX_ENTRIES);
  struct entry *e = add_entry(u, &canon, err);
  if (e == NULL)
    return -1;
  if (archive_entry_hardlink(ae) != NULL) {
    if (appc_entry_name_canon(archive_entry_hardlink(ae), &e->target, err) < 0)
      return appc_error_prefix(err, "%s: %s", u->archive, e->path);
    return 0;
  }
  if (type == AE_IFLNK) {
    const char *target = archive_entry_symlink(ae);
    if (target == NULL || (e->target = link_path(e->path, target)) == NULL)
      return appc_error_tag(err, EINVAL, "%s: %s: a symlink out of the archive", u->archive,
                            e->path);
    return 0;
  }
  if (type != AE_IFREG)
    return appc_error_tag(err, EINVAL, "%s: %s: neither a file, a directory nor a link", u->archive,
                          e->path);
  /* docker save writes none; read whole, a hole of a terabyte would be a
   * terabyte of zeros on the store's disk before anything is checked */
  if (archive_entry_sparse_count(ae) > 0)
    return appc_error_tag(err, EINVAL, "%s: %s: a sparse entry, which no docker save archive holds",
                          u->archive, e->path);
  return save_file(u, a, e, err);
}

static int unpack(struct unpacked *u, const char *path, appc_error_t *err)
{
  struct archive *a = archive_read_new();
  struct archive_entry *ae;
  int r = 0;

  if (a == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_format_tar(a);
  if (archive_read_open_filename(a, path, 128 * 1024) != ARCHIVE_OK) {
    r = appc_archive_fail(a, path, err);
    archive_read_free(a);
    return r;
  }
  for (;;) {
    int s = archive_read_next_header(a, &ae);
    if (s == ARCHIVE_EOF)
      break;
    if (s != ARCHIVE_OK && s != ARCHIVE_WARN) {
      r = appc_archive_fail(a, path, err);
      break;
    }
    if ((r = unpack_entry(u, a, ae, err)) < 0)
      break;
  }
  u->packed = (unsigned long long) archive_filter_bytes(a, -1);
  archive_read_free(a);
  return r;
}

/* ---- the image asked for ---- */

/* "busybox" -> "busybox:latest"; Docker Hub's own prefixes dropped, so
 * that "docker.io/library/busybox:1" and "busybox:1" name one image. */
static char *normal_tag(const char *s)
{
  const char *slash = strrchr(s, '/');
  bool has_tag = strchr(slash != NULL ? slash : s, ':') != NULL;
  char *out = NULL;

  if (strncmp(s, "docker.io/library/", 18) == 0)
    s += 18;
  else if (strncmp(s, "docker.io/", 10) == 0)
    s += 10;
  if (asprintf(&out, "%s%s", s, has_tag ? "" : ":latest") < 0)
    return NULL;
  return out;
}

struct chosen {
  char *config;
  char **layers;
  size_t n_layers;
  char *repo_tag; /* normalised, or NULL when the image has none */
};

static void chosen_clear(struct chosen *c)
{
  free(c->config);
  for (size_t i = 0; i < c->n_layers; i++)
    free(c->layers[i]);
  free(c->layers);
  free(c->repo_tag);
}

static bool entry_has_tag(json_object *img, const char *want, char **found)
{
  json_object *tags;

  if (!json_object_object_get_ex(img, "RepoTags", &tags) ||
      !json_object_is_type(tags, json_type_array))
    return false;
  for (size_t i = 0; i < json_object_array_length(tags); i++) {
    json_object *t = json_object_array_get_idx(tags, i);
    if (oci_json_string(t) == NULL)
      continue;
    char *norm = normal_tag(oci_json_string(t));
    if (norm != NULL && (want == NULL || strcmp(norm, want) == 0)) {
      *found = norm;
      return true;
    }
    free(norm);
  }
  return false;
}

static int read_choice(json_object *img, const char *where, struct chosen *c, appc_error_t *err)
{
  json_object *config, *layers;

  if (!json_object_is_type(img, json_type_object) ||
      !json_object_object_get_ex(img, "Config", &config) || oci_json_string(config) == NULL ||
      !json_object_object_get_ex(img, "Layers", &layers) ||
      !json_object_is_type(layers, json_type_array))
    return appc_error_tag(err, EINVAL,
                          "%s: an image without Config (a string without NUL) or Layers", where);
  size_t n = json_object_array_length(layers);
  if (n > OCI_MAX_LAYERS)
    return appc_error_tag(err, EINVAL, "%s: %zu layers, more than %d", where, n, OCI_MAX_LAYERS);
  if ((c->config = strdup(json_object_get_string(config))) == NULL ||
      (n > 0 && (c->layers = calloc(n, sizeof *c->layers)) == NULL))
    return appc_error_make(err, ENOMEM, "%s", where);
  for (size_t i = 0; i < n; i++) {
    json_object *l = json_object_array_get_idx(layers, i);
    if (oci_json_string(l) == NULL)
      return appc_error_tag(err, EINVAL, "%s: Layers[%zu]: not a string without NUL", where, i);
    if ((c->layers[i] = strdup(json_object_get_string(l))) == NULL)
      return appc_error_make(err, ENOMEM, "%s", where);
    c->n_layers++;
  }
  return 0;
}

/* The image of manifest.json tagged REPO_TAG, or its only one. */
static int choose(struct unpacked *u, const char *repo_tag, struct chosen *c, appc_error_t *err)
{
  const struct entry *m = lookup(u, "manifest.json");
  cleanup_free char *text = NULL;
  cleanup_free char *want = repo_tag != NULL ? normal_tag(repo_tag) : NULL;
  char where[300], fname[32];
  size_t len;

  snprintf(where, sizeof where, "%.280s: manifest.json", u->archive);
  if (m == NULL || m->file < 0)
    return appc_error_tag(err, EINVAL, "%s: no manifest.json: not a docker save archive",
                          u->archive);
  snprintf(fname, sizeof fname, "f%ld", m->file);
  if (appc_read_file_at(u->dirfd, fname, OCI_JSON_MAX, APPC_READ_NOFOLLOW, &text, &len, err) < 0)
    return appc_error_prefix(err, "%s", where);
  json_object *doc = json_tokener_parse(text);
  if (doc == NULL || !json_object_is_type(doc, json_type_array)) {
    json_object_put(doc);
    return appc_error_tag(err, EINVAL, "%s: not a JSON array", where);
  }
  size_t n = json_object_array_length(doc), pick = n;
  for (size_t i = 0; i < n && pick == n; i++) {
    json_object *img = json_object_array_get_idx(doc, i);
    if (want == NULL ? n == 1 : entry_has_tag(img, want, &c->repo_tag))
      pick = i;
  }
  int r;
  if (pick == n && want != NULL)
    r = appc_error_make(err, 0, "%s: no image tagged %s", where, want);
  else if (pick == n)
    r = n == 0 ? appc_error_tag(err, EINVAL, "%s: holds no image", where)
               : appc_error_tag(err, EINVAL,
                                "%s: holds %zu images: name one (docker-archive:FILE:REPO:TAG)",
                                where, n);
  else {
    json_object *img = json_object_array_get_idx(doc, pick);
    if (c->repo_tag == NULL)
      (void) entry_has_tag(img, NULL, &c->repo_tag);
    r = read_choice(img, where, c, err);
  }
  json_object_put(doc);
  return r;
}

/* ---- the OCI layout made of it ---- */

static int link_blob(struct unpacked *u, const char *path, char digest[OCI_DIGEST_MAX],
                     int64_t *size, appc_error_t *err)
{
  const struct entry *e = lookup(u, path);
  char from[32], to[32 + APPC_DIGEST_HEX_MAX];

  if (e == NULL || e->file < 0)
    return appc_error_make(err, 0, "%s: %s: named by manifest.json, not in the archive", u->archive,
                           path);
  snprintf(from, sizeof from, "f%ld", e->file);
  snprintf(to, sizeof to, "layout/blobs/sha256/%s", e->sha256);
  if (linkat(u->dirfd, from, u->dirfd, to, 0) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, "%s: %s", u->archive, path);
  snprintf(digest, OCI_DIGEST_MAX, "sha256:%s", e->sha256);
  *size = e->size;
  return 0;
}

static int write_blob(struct unpacked *u, const char *text, char digest[OCI_DIGEST_MAX],
                      int64_t *size, appc_error_t *err)
{
  cleanup_digest struct appc_digest *d = NULL;
  char hex[APPC_DIGEST_HEX_MAX], name[32 + APPC_DIGEST_HEX_MAX];

  if (appc_digest_new(APPC_DIGEST_SHA256, &d, err) < 0)
    return -1;
  appc_digest_update(d, text, strlen(text));
  if (appc_digest_final(d, hex, err) < 0)
    return -1;
  snprintf(name, sizeof name, "layout/blobs/sha256/%s", hex);
  snprintf(digest, OCI_DIGEST_MAX, "sha256:%s", hex);
  *size = (int64_t) strlen(text);
  return appc_atomic_write_at(u->dirfd, name, text, strlen(text), 0600, 0, err);
}

/* DIR/layout: the chosen image as an OCI image layout whose one image is
 * named REF. */
static int make_layout(struct unpacked *u, const struct chosen *c, const char *ref,
                       appc_error_t *err)
{
  char digest[OCI_DIGEST_MAX];
  int64_t size;
  int r = -1;

  if (mkdirat(u->dirfd, "layout", 0700) < 0 || mkdirat(u->dirfd, "layout/blobs", 0700) < 0 ||
      mkdirat(u->dirfd, "layout/blobs/sha256", 0700) < 0)
    return appc_error_make(err, errno, "%s: a layout for it", u->archive);
  json_object *m = json_object_new_object(), *layers = json_object_new_array();
  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  json_object_object_add(m, "mediaType", json_object_new_string(DOCKER_MANIFEST_V2));
  if (link_blob(u, c->config, digest, &size, err) < 0)
    goto done;
  json_object_object_add(m, "config", oci_descriptor_json(DOCKER_CONFIG_V1, digest, size));
  for (size_t i = 0; i < c->n_layers; i++) {
    if (link_blob(u, c->layers[i], digest, &size, err) < 0)
      goto done;
    /* docker save writes them uncompressed; a compressed one is read as
     * such all the same, and its diff_id still checks it */
    json_object_array_add(
        layers, oci_descriptor_json("application/vnd.docker.image.rootfs.diff.tar", digest, size));
  }
  json_object_object_add(m, "layers", json_object_get(layers));
  if (write_blob(u, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN), digest, &size, err) <
      0)
    goto done;
  json_object *index = json_object_new_object(), *manifests = json_object_new_array();
  json_object *desc = oci_descriptor_json(DOCKER_MANIFEST_V2, digest, size),
              *ann = json_object_new_object();
  json_object_object_add(ann, "org.opencontainers.image.ref.name", json_object_new_string(ref));
  json_object_object_add(desc, "annotations", ann);
  json_object_array_add(manifests, desc);
  json_object_object_add(index, "schemaVersion", json_object_new_int(2));
  json_object_object_add(index, "manifests", manifests);
  const char *text = json_object_to_json_string_ext(index, JSON_C_TO_STRING_PLAIN);
  static const char layout_version[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  r = appc_atomic_write_at(u->dirfd, "layout/index.json", text, strlen(text), 0600, 0, err);
  if (r == 0)
    r = appc_atomic_write_at(u->dirfd, "layout/oci-layout", layout_version,
                             sizeof layout_version - 1, 0600, 0, err);
  json_object_put(index);
done:
  json_object_put(layers);
  json_object_put(m);
  return r;
}

/* ---- the import ---- */

/* REPO:TAG's repository and tag (after the last ':' past the last '/'). */
static int split_tag(const char *repo_tag, char **repo, char **tag)
{
  const char *slash = strrchr(repo_tag, '/');
  const char *colon = strrchr(slash != NULL ? slash : repo_tag, ':');

  *repo = colon != NULL ? strndup(repo_tag, (size_t) (colon - repo_tag)) : strdup(repo_tag);
  *tag = strdup(colon != NULL ? colon + 1 : "latest");
  return *repo != NULL && *tag != NULL ? 0 : -1;
}

/* The layout made of the archive is private and gone by the time the user
 * reads ERR: its blobs are named by the archive's members they came from. */
static void name_members(const struct unpacked *u, const struct chosen *c, const char *layout,
                         appc_error_t e)
{
  char from[PATH_MAX];

  snprintf(from, sizeof from, "%s: ", layout);
  appc_error_rename(e, from, "");
  appc_error_rename(e, layout, "the archive's image");
  /* a layer listed twice is renamed once */
  struct appc_strset renamed = {0};
  for (size_t i = 0; i < c->n_layers; i++) {
    const struct entry *m = lookup(u, c->layers[i]);
    cleanup_free char *digest = NULL;
    cleanup_free char *named = NULL;
    if (m == NULL || appc_strset_add(&renamed, m->sha256) <= 0 ||
        asprintf(&digest, "sha256:%s", m->sha256) < 0 ||
        asprintf(&named, "%s (%s)", c->layers[i], digest) < 0)
      continue;
    appc_error_rename(e, digest, named);
  }
  appc_strset_clear(&renamed);
}

/* The name of an image without RepoTags (`docker save IMAGE_ID`): the
 * archive file's, less its extension, as oci:DIR is named after DIR
 * (made an AC name by the conversion).  Malloc'ed. */
static char *file_name(const char *file)
{
  static const char *const exts[] = {".tar.gz", ".tar.zst", ".tgz", ".tar"};
  const char *slash = strrchr(file, '/');
  const char *base = slash != NULL ? slash + 1 : file;
  size_t len = strlen(base);

  for (size_t i = 0; i < ARRAY_SIZE(exts); i++) {
    size_t n = strlen(exts[i]);
    if (len > n && strcmp(base + len - n, exts[i]) == 0) {
      len -= n;
      break;
    }
  }
  return strndup(base, len);
}

static int import_unpacked(struct appc_store *s, struct unpacked *u, const char *tmp_path,
                           const char *repo_tag, const struct appc_oci_import_options *opts,
                           struct appc_store_image *out, appc_error_t *err)
{
  struct chosen c = {0};
  cleanup_free char *repo = NULL;
  cleanup_free char *tag = NULL;
  cleanup_free char *layout = NULL;
  cleanup_free char *unnamed = NULL;
  int r = -1;

  if (choose(u, repo_tag, &c, err) < 0)
    goto done;
  if (c.repo_tag != NULL && split_tag(c.repo_tag, &repo, &tag) < 0) {
    appc_error_make(err, ENOMEM, "%s", u->archive);
    goto done;
  }
  if (make_layout(u, &c, tag != NULL ? tag : "latest", err) < 0)
    goto done;
  if (asprintf(&layout, "%s/layout", tmp_path) < 0) {
    appc_error_make(err, ENOMEM, "%s", u->archive);
    goto done;
  }
  struct appc_oci_import_options io = *opts;
  io.version = APPC_OCI_IMPORT_OPTIONS_VERSION;
  if (io.name == NULL)
    io.name = repo;
  if (io.name == NULL && (io.name = unnamed = file_name(u->archive)) == NULL) {
    appc_error_make(err, ENOMEM, "%s", u->archive);
    goto done;
  }
  if (unnamed != NULL)
    appc_cb_log(opts->cb, "%s: no RepoTags: named %s after the file", u->archive, unnamed);
  r = oci_import_layout(s, layout, tag != NULL ? tag : "latest", u->packed, &io, out, err);
  if (r < 0) {
    name_members(u, &c, layout, *err);
    appc_error_prefix(err, "%s", u->archive);
  }
done:
  chosen_clear(&c);
  return r;
}

int appc_oci_import_docker_archive(struct appc_store *s, const char *file, const char *repo_tag,
                                   const struct appc_oci_import_options *opts,
                                   struct appc_store_image *out, appc_error_t *err)
{
  struct unpacked u = {.archive = file, .dirfd = -1};
  cleanup_free char *tmp_path = NULL;
  int r = -1;

  memset(out, 0, sizeof *out);
  if ((opts = oci_options(opts, err)) == NULL)
    return -1;
  u.cb = opts->cb;
  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  /* Held shared until the directory is gone, so that gc leaves it alone. */
  if (appc_store_lock(s, false, err) < 0)
    return -1;
  cleanup_close int tmp_fd = appc_store_area_open(s, APPC_STORE_AREA_TMP, true, err);
  if (tmp_fd >= 0 && appc_store_tmpdir(s, "docker-archive", &tmp_path, err) == 0) {
    u.dirfd = open(tmp_path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (u.dirfd < 0)
      appc_error_make(err, errno, "%s", tmp_path);
    else if (unpack(&u, file, err) == 0)
      r = import_unpacked(s, &u, tmp_path, repo_tag, opts, out, err);
  }
  if (u.dirfd >= 0)
    close(u.dirfd);
  if (tmp_path != NULL) {
    appc_error_t ignored = NULL;
    (void) appc_remove_tree(tmp_fd, strrchr(tmp_path, '/') + 1, &ignored);
    appc_error_release(&ignored);
  }
  unpacked_clear(&u);
  appc_store_unlock(s);
  return r;
}

int appc_oci_archive_ref_split(const char *arg, char **file, char **repo_tag, appc_error_t *err)
{
  struct stat st;

  *file = *repo_tag = NULL;
  /* FILE may hold ':' too: the longest prefix that is a file wins. */
  for (const char *c = arg + strlen(arg); c > arg; c--) {
    if (*c != ':' && *c != '\0')
      continue;
    cleanup_free char *prefix = strndup(arg, (size_t) (c - arg));
    if (prefix == NULL)
      return appc_error_make(err, ENOMEM, "%s", arg);
    if (stat(prefix, &st) == 0 && !S_ISDIR(st.st_mode)) {
      *file = steal_pointer(&prefix);
      if (*c == ':' && (*repo_tag = strdup(c + 1)) == NULL) {
        free(*file);
        *file = NULL;
        return appc_error_make(err, ENOMEM, "%s", arg);
      }
      return 0;
    }
  }
  return appc_error_make(err, ENOENT, "docker-archive:%s: no such file", arg);
}
