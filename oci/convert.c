/* SPDX-License-Identifier: Apache-2.0 */
/* One OCI layer into one ACI, in one pass: the blob is read once, its
 * bytes hashed for the layer's digest, decompressed (gzip, zstd or none)
 * and hashed again for its diff_id, and its tar entries written under
 * rootfs/ into a new ACI in the store's tmp/.  Whiteouts are not written:
 * they are taken off the paths the image had so far, whose list becomes
 * the ACI's pathWhitelist once a whiteout was met (docs/oci.md). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>

#include "aci/stream.h"
#include "common/error.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "oci/internal.h"

#define WHITEOUT ".wh."
#define OPAQUE ".wh..wh..opq"

void oci_paths_clear(struct oci_paths *p)
{
  for (size_t i = 0; i < p->n; i++)
    free(p->v[i]);
  free(p->v);
  memset(p, 0, sizeof *p);
}

/* ---- the entries ---- */

struct layer {
  struct oci_blob blob;
  struct archive *tar;
  struct appc_tar_writer *w;
  char **added; /* canonical paths of this layer's entries */
  size_t n_added, added_cap;
  char **removed; /* whiteouts: "PATH" (PATH and below), "PATH/" (below only), "" (all) */
  size_t n_removed, removed_cap;
  struct appc_strset seen; /* canonical names written, to catch repeats */
  struct appc_strset dirs; /* those of them that are directories */
  bool rootfs_written;     /* the ACI's "rootfs" entry, the first one */
};

static int add_string(char ***v, size_t *n, size_t *cap, char *s, appc_error_t *err)
{
  if (s == NULL || APPC_ARRAY_RESERVE(*v, *cap, *n + 1) < 0) {
    free(s);
    return appc_error_make(err, ENOMEM, "layer");
  }
  (*v)[(*n)++] = s;
  return 0;
}

/* A whiteout entry CANON (".wh.NAME" or ".wh..wh..opq" in its directory):
 * what it removes from the layers below. */
static int note_whiteout(struct layer *l, const char *canon, const char *base, appc_error_t *err)
{
  size_t dir_len = (size_t) (base - canon);
  char *removed = NULL;

  if (strcmp(base, OPAQUE) == 0) {
    /* the directory stays, what lower layers put in it goes ("DIR/") */
    if (asprintf(&removed, "%.*s", (int) dir_len, canon) < 0)
      removed = NULL;
  } else {
    const char *name = base + strlen(WHITEOUT);
    if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
      return appc_error_tag(err, EINVAL, "%s: %s: a whiteout of no name", l->blob.what, canon);
    if (asprintf(&removed, "%.*s%s", (int) dir_len, canon, name) < 0)
      removed = NULL;
  }
  return add_string(&l->removed, &l->n_removed, &l->removed_cap, removed, err);
}

static int copy_data(struct layer *l, struct archive_entry *e, const char *canon, appc_error_t *err)
{
  if (appc_tar_writer_copy(l->w, l->tar, e, canon, l->blob.cb, err) == 0)
    return 0;
  /* a read error says more about the blob than about the entry */
  if (l->blob.gz_err != NULL || l->blob.errnum != 0) {
    appc_error_release(err);
    return appc_error_make(err, l->blob.errnum, "%s: %s: %s", l->blob.what, canon,
                           oci_blob_error(&l->blob, l->tar));
  }
  return appc_error_prefix(err, "%s", l->blob.what);
}

/* Prefix "rootfs/" to the canonical name of NAME; NULL, with an error, for
 * a name that would leave the rootfs. */
static char *under_rootfs(const char *what, const char *name, appc_error_t *err)
{
  cleanup_free char *canon = NULL;
  char *out = NULL;

  if (appc_entry_name_canon(name, &canon, err) < 0) {
    appc_error_prefix(err, "%s", what);
    return NULL;
  }
  if (asprintf(&out, "rootfs/%s", canon) < 0) {
    appc_error_make(err, ENOMEM, "%s", what);
    return NULL;
  }
  return out;
}

/* A layer naming CANON a second time.  Tar semantics would have the later
 * entry replace the earlier, but the earlier is already in the ACI, whose
 * names must be unique: a directory repeated as a directory is kept as
 * first written (tools that walk a tree twice make those), anything else
 * is refused.  1: skip the entry; -1: an error. */
static int repeated_entry(struct layer *l, struct archive_entry *e, const char *canon,
                          appc_error_t *err)
{
  if (archive_entry_filetype(e) == AE_IFDIR && archive_entry_hardlink(e) == NULL &&
      appc_strset_contains(&l->dirs, canon))
    return 1;
  return appc_error_tag(err, EINVAL,
                        "%s: %s: named twice in the layer, not both times as a directory "
                        "(a layer replacing its own entries is not supported)",
                        l->blob.what, canon);
}

/* Remember CANON as written; 1 when it already was. */
static int note_written(struct layer *l, struct archive_entry *e, const char *canon,
                        appc_error_t *err)
{
  int r = appc_strset_add(&l->seen, canon);

  if (r < 0)
    return appc_error_make(err, ENOMEM, "%s", l->blob.what);
  if (r == 0)
    return repeated_entry(l, e, canon, err);
  if (archive_entry_filetype(e) == AE_IFDIR && archive_entry_hardlink(e) == NULL &&
      appc_strset_add(&l->dirs, canon) < 0)
    return appc_error_make(err, ENOMEM, "%s", l->blob.what);
  return 0;
}

static int write_rootfs_dir(struct layer *l, appc_error_t *err);

/* The layer's entry for its root ("./", as umoci and `image export
 * --format=oci` write it), when it comes first: the ACI's "rootfs" entry
 * takes its mode, owner, times and xattrs, as umoci and podman give them to
 * the root they unpack; anywhere else it is skipped. */
static int convert_root_entry(struct layer *l, struct archive_entry *e, appc_error_t *err)
{
  if (l->rootfs_written || archive_entry_filetype(e) != AE_IFDIR ||
      archive_entry_hardlink(e) != NULL)
    return 0;
  archive_entry_set_pathname(e, "rootfs");
  archive_entry_set_size(e, 0);
  if (appc_tar_writer_header(l->w, e, err) < 0)
    return -1;
  l->rootfs_written = true;
  return 0;
}

static int convert_entry(struct layer *l, struct archive_entry *e, appc_error_t *err)
{
  const char *raw = archive_entry_pathname(e);
  cleanup_free char *canon = NULL;
  cleanup_free char *path = NULL;

  if (raw == NULL)
    return appc_error_tag(err, EINVAL, "%s: an entry without a name", l->blob.what);
  if (appc_entry_name_canon(raw, &canon, err) < 0)
    return appc_error_prefix(err, "%s", l->blob.what);
  if (canon[0] == '\0')
    return convert_root_entry(l, e, err);
  const char *slash = strrchr(canon, '/');
  const char *base = slash != NULL ? slash + 1 : canon;
  if (strncmp(base, WHITEOUT, strlen(WHITEOUT)) == 0)
    return note_whiteout(l, canon, base, err);
  int repeat = note_written(l, e, canon, err);
  if (repeat != 0)
    return repeat < 0 ? -1 : 0;
  if ((path = under_rootfs(l->blob.what, raw, err)) == NULL)
    return -1;
  if (write_rootfs_dir(l, err) < 0)
    return -1;
  archive_entry_set_pathname(e, path);
  const char *link = archive_entry_hardlink(e);
  if (link != NULL) {
    cleanup_free char *target = under_rootfs(l->blob.what, link, err);
    if (target == NULL)
      return -1;
    archive_entry_set_hardlink(e, target);
  }
  if (appc_tar_writer_header(l->w, e, err) < 0 || copy_data(l, e, canon, err) < 0)
    return -1;
  return add_string(&l->added, &l->n_added, &l->added_cap, steal_pointer(&canon), err);
}

/* ---- the paths so far, and the whitelist ---- */

static int compare_strings(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* A layer's whiteouts as sets: GONE holds X for ".wh.X" (X and what is
 * below it), EMPTIED holds X for X/.wh..wh..opq (what is below X; "" for
 * the root's: everything). */
struct removals {
  struct appc_strset gone, emptied;
};

static int removals_init(struct removals *rm, const struct layer *l, appc_error_t *err)
{
  memset(rm, 0, sizeof *rm);
  for (size_t k = 0; k < l->n_removed; k++) {
    char *r = l->removed[k];
    size_t n = strlen(r);
    int added;
    if (n == 0) { /* the root's opaque whiteout */
      added = appc_strset_add(&rm->emptied, "");
    } else if (r[n - 1] == '/') {
      r[n - 1] = '\0';
      added = appc_strset_add(&rm->emptied, r);
      r[n - 1] = '/';
    } else {
      added = appc_strset_add(&rm->gone, r);
    }
    if (added < 0)
      return appc_error_make(err, ENOMEM, "%s", l->blob.what);
  }
  return 0;
}

static void removals_clear(struct removals *rm)
{
  appc_strset_clear(&rm->gone);
  appc_strset_clear(&rm->emptied);
}

/* Whether RM removes P: P is gone, or below a directory gone or emptied.
 * One pass over P, however deep it is and however many whiteouts there
 * are. */
static bool removed(const struct removals *rm, const char *p)
{
  return appc_strset_contains(&rm->gone, p) || appc_strset_contains(&rm->emptied, "") ||
         appc_strset_find_ancestor(&rm->gone, p) > 0 ||
         appc_strset_find_ancestor(&rm->emptied, p) > 0;
}

/* Sorted, each once. */
static void paths_sort_unique(struct oci_paths *paths)
{
  size_t kept = 0;

  if (paths->n > 1)
    qsort(paths->v, paths->n, sizeof *paths->v, compare_strings);
  for (size_t i = 0; i < paths->n; i++) {
    if (kept > 0 && strcmp(paths->v[kept - 1], paths->v[i]) == 0)
      free(paths->v[i]);
    else
      paths->v[kept++] = paths->v[i];
  }
  paths->n = kept;
}

int oci_paths_add_aci(struct oci_paths *paths, int fd, const char *what, appc_error_t *err)
{
  struct archive *a = archive_read_new();
  struct archive_entry *e;
  int r, rc = 0;

  if (a == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  if (appc_archive_support_compression(a) != ARCHIVE_OK) {
    rc = appc_error_make(err, 0, "%s: %s", what, archive_error_string(a));
    goto done;
  }
  archive_read_support_format_tar(a);
  if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK) {
    rc = appc_error_make(err, 0, "%s: %s", what, archive_error_string(a));
    goto done;
  }
  while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    char *canon = NULL;
    if (name == NULL || strncmp(name, "rootfs/", 7) != 0 || name[7] == '\0')
      continue;
    if (appc_entry_name_canon(name + 7, &canon, err) < 0)
      rc = appc_error_prefix(err, "%s", what);
    else
      rc = add_string(&paths->v, &paths->n, &paths->cap, canon, err);
  }
  if (rc == 0 && r != ARCHIVE_EOF)
    rc = appc_error_make(err, 0, "%s: %s", what, archive_error_string(a));
  paths_sort_unique(paths);
done:
  archive_read_free(a);
  return rc;
}

/* PATHS minus what L's whiteouts remove, plus what L added: sorted, each
 * once. */
static int update_paths(struct oci_paths *paths, struct layer *l, appc_error_t *err)
{
  size_t kept = 0;

  /* layers taken from the store: their entries are needed now */
  if (paths->fill != NULL && l->n_removed > 0) {
    int (*fill)(struct oci_paths *, void *, appc_error_t *) = paths->fill;
    paths->fill = NULL;
    if (fill(paths, paths->fill_data, err) < 0)
      return -1;
  }

  struct removals rm;
  if (removals_init(&rm, l, err) < 0) {
    removals_clear(&rm);
    return -1;
  }
  for (size_t i = 0; i < paths->n; i++) {
    if (removed(&rm, paths->v[i]))
      free(paths->v[i]);
    else
      paths->v[kept++] = paths->v[i];
  }
  removals_clear(&rm);
  paths->n = kept;
  if (l->n_removed > 0)
    paths->whited_out = true;
  if (APPC_ARRAY_RESERVE(paths->v, paths->cap, paths->n + l->n_added) < 0)
    return appc_error_make(err, ENOMEM, "%s", l->blob.what);
  if (l->n_added > 0)
    memcpy(paths->v + paths->n, l->added, l->n_added * sizeof *l->added);
  paths->n += l->n_added;
  free(l->added);
  l->added = NULL;
  l->n_added = l->added_cap = 0;
  paths_sort_unique(paths);
  return 0;
}

/* ---- the manifest ---- */

static json_object *kv_array(const struct appc_kv_list *kv)
{
  json_object *a = json_object_new_array();

  for (size_t i = 0; a != NULL && kv != NULL && i < kv->len; i++) {
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(kv->items[i].name));
    json_object_object_add(o, "value", json_object_new_string(kv->items[i].value));
    json_object_array_add(a, o);
  }
  return a;
}

/* The ACI's manifest, checked by the schema module before it is written. */
static int make_manifest(const struct oci_layer_aci *a, const struct oci_paths *paths, char **out,
                         size_t *len, appc_error_t *err)
{
  json_object *m = json_object_new_object();
  struct appc_image_manifest *parsed = NULL;

  if (m == NULL)
    return appc_error_make(err, ENOMEM, "manifest");
  json_object_object_add(m, "acKind", json_object_new_string("ImageManifest"));
  json_object_object_add(m, "acVersion", json_object_new_string(APPC_SPEC_VERSION_STRING));
  json_object_object_add(m, "name", json_object_new_string(a->name));
  json_object_object_add(m, "labels", kv_array(a->labels));
  if (a->app_json != NULL) {
    json_object *app = json_tokener_parse(a->app_json);
    if (app == NULL) {
      json_object_put(m);
      return appc_error_tag(err, EINVAL, "%s: app: not JSON", a->name);
    }
    json_object_object_add(m, "app", app);
  }
  if (a->dep_name != NULL) {
    json_object *deps = json_object_new_array(), *dep = json_object_new_object();
    json_object_object_add(dep, "imageName", json_object_new_string(a->dep_name));
    json_object_object_add(dep, "imageID", json_object_new_string(a->dep_id));
    json_object_array_add(deps, dep);
    json_object_object_add(m, "dependencies", deps);
  }
  if (paths->whited_out) {
    json_object *wl = json_object_new_array_ext((int) paths->n);
    for (size_t i = 0; wl != NULL && i < paths->n; i++) {
      char *abs = NULL;
      if (asprintf(&abs, "/%s", paths->v[i]) >= 0)
        json_object_array_add(wl, json_object_new_string(abs));
      free(abs);
    }
    /* Whiteouts took everything away: an empty list would mean no list
     * (the spec), so the list names the rootfs directory alone. */
    if (wl != NULL && paths->n == 0)
      json_object_array_add(wl, json_object_new_string("/"));
    json_object_object_add(m, "pathWhitelist", wl);
  }
  if (a->annotations != NULL && a->annotations->len > 0)
    json_object_object_add(m, "annotations", kv_array(a->annotations));
  const char *text =
      json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *out = text != NULL ? strdup(text) : NULL;
  json_object_put(m);
  if (*out == NULL)
    return appc_error_make(err, ENOMEM, "%s: manifest", a->name);
  *len = strlen(*out);
  if (appc_image_manifest_parse(*out, *len, &parsed, err) < 0) {
    free(*out);
    *out = NULL;
    return appc_error_prefix(err, "%s: the manifest made for it", a->name);
  }
  appc_image_manifest_free(parsed);
  return 0;
}

/* An entry of the ACI's own: NAME, of TYPE and PERM, SIZE bytes. */
static int write_own_entry(struct layer *l, const char *name, unsigned type, unsigned perm,
                           size_t size, appc_error_t *err)
{
  struct archive_entry *e = archive_entry_new();
  int r;

  if (e == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, type);
  archive_entry_set_perm(e, perm);
  archive_entry_set_size(e, (la_int64_t) size);
  r = appc_tar_writer_header(l->w, e, err);
  archive_entry_free(e);
  return r;
}

static int write_manifest(struct layer *l, const char *manifest, size_t len, appc_error_t *err)
{
  if (write_own_entry(l, "manifest", AE_IFREG, 0644, len, err) < 0)
    return -1;
  return appc_tar_writer_data(l->w, manifest, len, err);
}

/* The ACI's "rootfs" entry, 0755 and root's, unless the layer gave one. */
static int write_rootfs_dir(struct layer *l, appc_error_t *err)
{
  if (l->rootfs_written)
    return 0;
  if (write_own_entry(l, "rootfs", AE_IFDIR, 0755, 0, err) < 0)
    return -1;
  l->rootfs_written = true;
  return 0;
}

/* The directory P (canonical), written anew at the end of the layer. */
static int remake_dir(struct layer *l, const char *p, appc_error_t *err)
{
  cleanup_free char *name = NULL;
  char *copy = strdup(p);

  if (copy == NULL || asprintf(&name, "rootfs/%s", p) < 0) {
    name = NULL;
    free(copy);
    return appc_error_make(err, ENOMEM, "%s", l->blob.what);
  }
  if (appc_strset_add(&l->seen, p) < 0 || appc_strset_add(&l->dirs, p) < 0) {
    free(copy);
    return appc_error_make(err, ENOMEM, "%s", l->blob.what);
  }
  if (write_rootfs_dir(l, err) < 0 || write_own_entry(l, name, AE_IFDIR, 0755, 0, err) < 0) {
    free(copy);
    return -1;
  }
  return add_string(&l->added, &l->n_added, &l->added_cap, copy, err);
}

/* A layer that whites out a directory D (or empties a directory above it)
 * and puts entries below D without an entry for D itself: hand-made layers
 * do, Docker and umoci write one.  D is made anew, as umoci makes it
 * (0755, root's), at the end of the layer's ACI; else the render would
 * take D, owner and mode, from the layer below, whose D was removed. */
static int remake_removed_parents(struct layer *l, appc_error_t *err)
{
  struct removals rm;
  size_t n = l->n_added;
  int r = 0;

  if (l->n_removed == 0)
    return 0;
  if (removals_init(&rm, l, err) < 0) {
    removals_clear(&rm);
    return -1;
  }
  for (size_t i = 0; r == 0 && i < n; i++) {
    char *p = l->added[i];
    for (char *slash = strchr(p, '/'); r == 0 && slash != NULL; slash = strchr(slash + 1, '/')) {
      *slash = '\0';
      if (!appc_strset_contains(&l->seen, p) && removed(&rm, p))
        r = remake_dir(l, p, err);
      *slash = '/';
    }
  }
  removals_clear(&rm);
  return r;
}

/* ---- one layer ---- */

static bool known_layer_type(const char *t)
{
  static const char *const types[] = {
      "application/vnd.oci.image.layer.v1.tar",
      "application/vnd.oci.image.layer.v1.tar+gzip",
      "application/vnd.oci.image.layer.v1.tar+zstd",
      "application/vnd.oci.image.layer.nondistributable.v1.tar",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
      "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
      "application/vnd.docker.image.rootfs.diff.tar.gzip",
      "application/vnd.docker.image.rootfs.diff.tar",
  };
  if (t == NULL)
    return true; /* Docker's schema 2 may leave it out */
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    if (strcmp(t, types[i]) == 0)
      return true;
  return false;
}

/* The layer failed to read: when its bytes are not those of its digest,
 * that is the cause to report, not what the decompressor or the tar
 * reader made of them. */
static void blame_digest(struct layer *l, const struct oci_descriptor *d, appc_error_t *err)
{
  char got[APPC_DIGEST_HEX_MAX];
  enum appc_digest_alg alg;
  const char *want;
  appc_error_t ignored = NULL;

  if (err == NULL || *err == NULL || (*err)->errnum == ECANCELED)
    return;
  if (oci_blob_drain(&l->blob, &ignored) < 0) {
    appc_error_release(&ignored);
    return;
  }
  (void) appc_digest_parse(d->digest, &alg, &want);
  if (appc_digest_final(l->blob.packed, got, &ignored) < 0) {
    appc_error_release(&ignored);
    return;
  }
  if (strcmp(got, want) == 0)
    return;
  appc_error_release(err);
  appc_error_tag(err, EINVAL, "%s: the layer's content does not match its digest", d->digest);
}

/* Read what is left of the blob and check both digests. */
static int check_digests(struct layer *l, const struct oci_descriptor *d, const char *diff_id,
                         appc_error_t *err)
{
  char got[APPC_DIGEST_HEX_MAX];
  const char *want;
  enum appc_digest_alg alg;
  la_ssize_t n;

  /* The tar ends before the stream does (padding, a second gzip member). */
  while ((n = oci_blob_read(l->tar, &l->blob, &(const void *){NULL})) > 0)
    ;
  if (n < 0) {
    /* a corrupted byte past the tar's end fails here, in the gzip trailer */
    appc_error_make(err, l->blob.errnum, "%s: %s", l->blob.what,
                    oci_blob_error(&l->blob, l->blob.raw));
    blame_digest(l, d, err);
    return -1;
  }
  if (oci_blob_drain(&l->blob, err) < 0)
    return -1;
  (void) appc_digest_parse(d->digest, &alg, &want);
  if (appc_digest_final(l->blob.packed, got, err) < 0)
    return -1;
  if (strcmp(got, want) != 0)
    return appc_error_tag(err, EINVAL, "%s: the layer's content does not match its digest",
                          d->digest);
  (void) appc_digest_parse(diff_id, &alg, &want);
  if (appc_digest_final(l->blob.unpacked, got, err) < 0)
    return -1;
  if (strcmp(got, want) != 0)
    return appc_error_tag(err, EINVAL, "%s: the uncompressed layer does not match its diff_id %s",
                          d->digest, diff_id);
  return 0;
}

static int convert_entries(struct layer *l, appc_error_t *err)
{
  struct archive_entry *e;

  for (;;) {
    int r = archive_read_next_header(l->tar, &e);
    if (r == ARCHIVE_EOF)
      return 0;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return appc_error_make(err, l->blob.errnum, "%s: %s", l->blob.what,
                             oci_blob_error(&l->blob, l->tar));
    if (appc_cb_cancelled(l->blob.cb))
      return appc_error_make(err, ECANCELED, "%s", l->blob.what);
    if (convert_entry(l, e, err) < 0)
      return -1;
  }
}

static void layer_clear(struct layer *l)
{
  if (l->tar != NULL)
    archive_read_free(l->tar);
  oci_blob_clear(&l->blob);
  appc_tar_writer_free(l->w);
  for (size_t i = 0; i < l->n_added; i++)
    free(l->added[i]);
  free(l->added);
  for (size_t i = 0; i < l->n_removed; i++)
    free(l->removed[i]);
  free(l->removed);
  appc_strset_clear(&l->seen);
  appc_strset_clear(&l->dirs);
}

int oci_layer_convert(int fd, const struct oci_descriptor *d, const char *diff_id,
                      const struct oci_layer_aci *a, struct oci_paths *paths, int *aci_fd,
                      char image_id[APPC_IMAGE_ID_LEN + 1], const struct appc_callbacks *cb,
                      appc_error_t *err)
{
  struct layer l = {.blob = {.fd = fd,
                             .what = d->digest,
                             .cb = cb,
                             .op = APPC_PROGRESS_CONVERT,
                             .total = (unsigned long long) d->size,
                             .image = a->expansion}};
  struct appc_build_options bo = {.compression = APPC_COMPRESSION_NONE, .cb = cb};
  enum appc_digest_alg alg, diff_alg;
  const char *hex;
  cleanup_free char *manifest = NULL;
  size_t len = 0;
  int r = -1;

  *aci_fd = -1;
  if (!known_layer_type(d->media_type))
    return appc_error_tag(err, EINVAL, "%s: mediaType \"%.100s\" is not a layer this reads",
                          d->digest, d->media_type);
  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  (void) appc_digest_parse(d->digest, &alg, &hex);
  if (!appc_digest_parse(diff_id, &diff_alg, &hex))
    return appc_error_tag(err, EINVAL, "%s: diff_id \"%.80s\": not a digest", d->digest, diff_id);
  cleanup_close int out = appc_tmpfile_at(a->tmp_dirfd);
  if (out < 0)
    return appc_error_make(err, errno, "a temporary file for the ACI of %s", d->digest);
  if (appc_digest_new(alg, &l.blob.packed, err) < 0 ||
      appc_digest_new(diff_alg, &l.blob.unpacked, err) < 0)
    goto done;
  if (oci_blob_open_tar(&l.blob, &l.tar, err) < 0 ||
      appc_tar_writer_new(&l.w, out, a->name, &bo, APPC_TAR_WRITER_BUILD, err) < 0 ||
      convert_entries(&l, err) < 0 || write_rootfs_dir(&l, err) < 0) {
    blame_digest(&l, d, err);
    goto done;
  }
  if (check_digests(&l, d, diff_id, err) < 0 || remake_removed_parents(&l, err) < 0 ||
      update_paths(paths, &l, err) < 0 || make_manifest(a, paths, &manifest, &len, err) < 0 ||
      write_manifest(&l, manifest, len, err) < 0 || appc_tar_writer_close(l.w, image_id, err) < 0)
    goto done;
  if (lseek(out, 0, SEEK_SET) < 0) {
    appc_error_make(err, errno, "%s: the ACI made of it", d->digest);
    goto done;
  }
  *aci_fd = steal_fd(&out);
  r = 0;
done:
  layer_clear(&l);
  return r;
}

char *oci_aci_name(const char *s)
{
  size_t n = strlen(s);
  char *out = malloc(n + 1);
  size_t k = 0;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char) (c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '/' ||
          c == '-'))
      c = '-';
    out[k++] = c;
  }
  /* an AC Identifier starts and ends with a letter or a digit */
  while (k > 0 &&
         !((out[k - 1] >= 'a' && out[k - 1] <= 'z') || (out[k - 1] >= '0' && out[k - 1] <= '9')))
    k--;
  out[k] = '\0';
  size_t skip = 0;
  while (out[skip] != '\0' &&
         !((out[skip] >= 'a' && out[skip] <= 'z') || (out[skip] >= '0' && out[skip] <= '9')))
    skip++;
  memmove(out, out + skip, k - skip + 1);
  if (out[0] == '\0') {
    free(out);
    return NULL;
  }
  return out;
}
