/* SPDX-License-Identifier: Apache-2.0 */
/* Rendered trees: dependency resolution, the tree cache, render and extract.
 *
 * An image's layers are found by walking its dependency DAG (by imageID when
 * a dependency gives one, else by name and labels, newest import first) and
 * listed top image first, i.e. in the reverse of the ACE override order, for
 * the render engine (store/render.c), where the first layer to provide a path
 * wins.  The result is cached under trees/<key>, the key being a SHA-256 of
 * the ordered layer IDs, so that a newer import of a dependency gives a new
 * tree rather than a stale one.  Users of a cached tree hold a shared flock
 * on its lock file; gc removes only trees it can lock exclusively. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "common/abi.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/macros.h"
#include "common/fs.h"
#include "common/lazy.h"
#include "store/private.h"

/* ---- the layer plan ---- */

struct plan_image {
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_image_manifest *manifest;
  struct appc_whitelist whitelist;
  bool has_whitelist;
};

struct plan {
  struct appc_store *s;
  /* Distinct images met, each allocated on its own: a plan is made for
   * every pod, and a few images is the rule, so the plan itself stays a
   * few pages (zeroing pages it never uses cost a page fault each). */
  struct plan_image *images[STORE_MAX_LAYERS];
  size_t n_images;
  struct appc_render_layer layers[STORE_MAX_LAYERS];
  const struct appc_whitelist **filters[STORE_MAX_LAYERS];
  char *paths[STORE_MAX_LAYERS];
  const char *layer_ids[STORE_MAX_LAYERS];
  size_t n_layers;
  const char *stack[STORE_MAX_LAYERS]; /* the path from the top image, for cycles */
  size_t depth;
};

static void plan_clear(struct plan *p)
{
  for (size_t i = 0; i < p->n_images; i++) {
    appc_image_manifest_free(p->images[i]->manifest);
    if (p->images[i]->has_whitelist)
      appc_whitelist_clear(&p->images[i]->whitelist);
    free(p->images[i]);
  }
  for (size_t i = 0; i < p->n_layers; i++) {
    free(p->filters[i]);
    free(p->paths[i]);
  }
  p->n_images = p->n_layers = 0;
}

static int plan_load(struct plan *p, const char *id, struct plan_image **out, appc_error_t *err)
{
  for (size_t i = 0; i < p->n_images; i++)
    if (strcmp(p->images[i]->id, id) == 0) {
      *out = p->images[i];
      return 0;
    }
  if (p->n_images == STORE_MAX_LAYERS)
    return appc_error_make(err, 0, "%s: more than %d images in the dependency graph", id,
                           STORE_MAX_LAYERS);
  struct plan_image *img = calloc(1, sizeof *img);
  if (img == NULL)
    return appc_error_make(err, ENOMEM, "%s", id);
  p->images[p->n_images++] = img;
  memcpy(img->id, id, sizeof img->id);
  if (appc_store_load_manifest(p->s, id, &img->manifest, err) < 0)
    return -1;
  if (img->manifest->path_whitelist.len > 0) {
    if (appc_whitelist_init(&img->whitelist, &img->manifest->path_whitelist, err) < 0)
      return appc_error_prefix(err, "%s", id);
    img->has_whitelist = true;
  }
  *out = img;
  return 0;
}

static int plan_add_layer(struct plan *p, struct plan_image *img,
                          const struct appc_whitelist *const *inherited, size_t n_inherited,
                          appc_error_t *err)
{
  size_t i = p->n_layers, n = n_inherited + (img->has_whitelist ? 1 : 0);

  if (i == STORE_MAX_LAYERS)
    return appc_error_make(err, 0,
                           "%s: more than %d layers to render (too many shared "
                           "dependencies)",
                           p->stack[0], STORE_MAX_LAYERS);
  p->filters[i] = calloc(n + 1, sizeof *p->filters[i]);
  if (p->filters[i] == NULL ||
      asprintf(&p->paths[i], "%s/%s/%s", p->s->path, STORE_BLOBS, img->id) < 0) {
    free(p->filters[i]);
    p->paths[i] = NULL;
    return appc_error_make(err, ENOMEM, "%s", img->id);
  }
  for (size_t k = 0; k < n_inherited; k++)
    p->filters[i][k] = inherited[k];
  if (img->has_whitelist)
    p->filters[i][n_inherited] = &img->whitelist;
  p->layers[i].path = p->paths[i];
  p->layers[i].filters = (const struct appc_whitelist *const *) p->filters[i];
  p->layers[i].n_filters = n;
  p->layers[i].image_id = img->id;
  p->layer_ids[i] = img->id;
  p->n_layers++;
  return 0;
}

static int resolve_dependency(struct plan *p, const struct appc_dependency *dep, const char *parent,
                              char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  struct appc_store_image found;

  if (dep->image_id != NULL) {
    if (appc_store_read_record(p->s, dep->image_id, &found, err) < 0)
      return appc_error_prefix(err, "%s: dependency %s", parent, dep->image_name);
    bool same_name = strcmp(found.name, dep->image_name) == 0;
    appc_store_image_clear(&found);
    if (!same_name)
      return appc_error_make(err, 0, "%s: dependency %s: image %s is named otherwise", parent,
                             dep->image_name, dep->image_id);
    memcpy(id, dep->image_id, APPC_IMAGE_ID_LEN + 1);
    return 0;
  }
  if (appc_store_find(p->s, dep->image_name, &dep->labels, &found, err) < 0)
    return appc_error_prefix(err, "%s: dependency", parent);
  memcpy(id, found.id, APPC_IMAGE_ID_LEN + 1);
  appc_store_image_clear(&found);
  return 0;
}

/* Add IMG and, below it, its dependencies in reverse order, each with the
 * whitelists of the images above it on this branch. */
static int plan_walk(struct plan *p, const char *id, const struct appc_whitelist *const *inherited,
                     size_t n_inherited, appc_error_t *err)
{
  struct plan_image *img;

  for (size_t i = 0; i < p->depth; i++)
    if (strcmp(p->stack[i], id) == 0)
      return appc_error_make(err, 0, "%s: dependency cycle (the image depends on itself)", id);
  if (plan_load(p, id, &img, err) < 0 || plan_add_layer(p, img, inherited, n_inherited, err) < 0)
    return -1;
  const struct appc_whitelist *const *mine = p->layers[p->n_layers - 1].filters;
  size_t n_mine = p->layers[p->n_layers - 1].n_filters;
  p->stack[p->depth++] = img->id;
  for (size_t k = img->manifest->n_dependencies; k-- > 0;) {
    char dep_id[APPC_IMAGE_ID_LEN + 1];
    if (resolve_dependency(p, &img->manifest->dependencies[k], img->id, dep_id, err) < 0 ||
        plan_walk(p, dep_id, mine, n_mine, err) < 0)
      return -1;
  }
  p->depth--;
  return 0;
}

/* The key of a tree whose layers file is TEXT: the SHA-256 of the format
 * line and TEXT (each layer's ID and a newline, in order). */
static int key_of_layers(const char *text, size_t len, char key[65], appc_error_t *err)
{
  unsigned char md[32];
  unsigned int mdlen = 0;
  static const char tag[] = TREE_FORMAT_LINE;

  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0)
    return appc_error_prefix(err, "tree key");
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
           EVP_DigestUpdate(ctx, tag, sizeof tag - 1) == 1 &&
           EVP_DigestUpdate(ctx, text, len) == 1 && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok)
    return appc_error_make(err, 0, "SHA-256 failed");
  for (size_t i = 0; i < 32; i++)
    snprintf(key + 2 * i, 3, "%02x", md[i]);
  return 0;
}

static char *plan_layers_text(const struct plan *p, size_t *len);

static int plan_key(const struct plan *p, char key[65], appc_error_t *err)
{
  size_t len = 0;
  cleanup_free char *text = plan_layers_text(p, &len);

  if (text == NULL)
    return appc_error_make(err, ENOMEM, "tree key");
  return key_of_layers(text, len, key, err);
}

/* The layers file of P's tree: one image ID per line, top first. */
static char *plan_layers_text(const struct plan *p, size_t *len)
{
  char *ids = malloc(p->n_layers * (APPC_IMAGE_ID_LEN + 1) + 1);

  if (ids == NULL)
    return NULL;
  for (size_t i = 0; i < p->n_layers; i++)
    snprintf(ids + i * (APPC_IMAGE_ID_LEN + 1), APPC_IMAGE_ID_LEN + 2, "%s\n", p->layer_ids[i]);
  *len = p->n_layers * (APPC_IMAGE_ID_LEN + 1);
  return ids;
}

static bool is_tree_key(const char *key)
{
  size_t n = strspn(key, "0123456789abcdef");

  return n == 64 && (key[n] == '\0' || (key[n] == '\n' && key[n + 1] == '\0'));
}

/* Hashing the layers means loading libcrypto, which costs more than the
 * rest of an `actool run` of a cached image; so the image's record keeps
 * the key of its last tree (images/<id>/tree), trusted only when that
 * tree's layers are P's, so that a dependency resolving to another image
 * still gets a new key. */
/* The key the image's record notes (its last render's), or "". */
static void read_hint(struct appc_store *s, const struct plan *p, char hint[65])
{
  char path[APPC_IMAGE_ID_LEN + sizeof "/" RECORD_TREE];
  cleanup_free char *text = NULL;
  cleanup_error appc_error_t ignored = NULL;

  hint[0] = '\0';
  snprintf(path, sizeof path, "%s/%s", p->layer_ids[0], RECORD_TREE);
  if (appc_read_file_at(s->images_fd, path, 66, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &text, NULL,
                        &ignored) == 0 &&
      is_tree_key(text))
    snprintf(hint, 65, "%.64s", text);
}

int appc_store_tree_open(struct appc_store *s, const char *name)
{
  return openat(s->trees_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

int appc_store_tree_format(struct appc_store *s, const char *name)
{
  cleanup_close int tfd = appc_store_tree_open(s, name);
  cleanup_free char *text = NULL;
  cleanup_error appc_error_t ignored = NULL;
  int format = 0;

  if (tfd < 0 ||
      appc_read_file_at(tfd, TREE_FORMAT, 64, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &text, NULL,
                        &ignored) < 0 ||
      sscanf(text, "actool-tree %d", &format) != 1 || format < 1)
    return 0;
  return format;
}

bool appc_store_tree_current(struct appc_store *s, const char *name)
{
  return appc_store_tree_format(s, name) == TREE_FORMAT_NUM;
}

bool appc_store_tree_key_current(struct appc_store *s, const char *name)
{
  char key[65];
  cleanup_close int tfd = appc_store_tree_open(s, name);
  cleanup_free char *text = NULL;
  cleanup_error appc_error_t ignored = NULL;
  size_t len = 0;

  return tfd >= 0 &&
         appc_read_file_at(tfd, TREE_LAYERS, 1u << 20, APPC_READ_NOFOLLOW | APPC_READ_REGULAR,
                           &text, &len, &ignored) == 0 &&
         key_of_layers(text, len, key, &ignored) == 0 && strcmp(key, name) == 0;
}

/* Is HINT the key of a tree of P's layers, of the current format?  Then it
 * is KEY. */
static bool plan_key_remembered(struct appc_store *s, const struct plan *p, const char hint[65],
                                char key[65])
{
  cleanup_free char *layers = NULL;
  cleanup_free char *want = NULL;
  cleanup_close int tfd = -1;
  cleanup_error appc_error_t ignored = NULL;
  size_t len = 0, want_len = 0;

  if (hint[0] == '\0')
    return false;
  tfd = appc_store_tree_open(s, hint);
  want = plan_layers_text(p, &want_len);
  if (tfd < 0 || want == NULL ||
      appc_read_file_at(tfd, TREE_LAYERS, want_len + 1, APPC_READ_NOFOLLOW | APPC_READ_REGULAR,
                        &layers, &len, &ignored) < 0 ||
      len != want_len || memcmp(layers, want, len) != 0 || !appc_store_tree_current(s, hint))
    return false;
  memcpy(key, hint, 65);
  return true;
}

/* A failure only costs the next run a hash. */
static void plan_key_remember(struct appc_store *s, const struct plan *p, const char key[65])
{
  cleanup_close int dirfd =
      openat(s->images_fd, p->layer_ids[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_error appc_error_t ignored = NULL;
  char line[66];

  snprintf(line, sizeof line, "%s\n", key);
  if (dirfd >= 0)
    (void) appc_store_write_file(s, dirfd, RECORD_TREE, line, 65, &ignored);
}

static int plan_build(struct plan *p, const char *id, appc_error_t *err)
{
  p->stack[0] = id;
  return plan_walk(p, id, NULL, 0, err);
}

/* ---- building a cached tree ---- */

static bool cancel_requested(const struct appc_store_render_options *opts)
{
  return opts != NULL && appc_cb_cancelled(opts->cb);
}

static int write_tree_files(struct appc_store *s, int tfd, const struct plan *p, const char *digest,
                            appc_error_t *err)
{
  cleanup_free char *manifest = NULL;
  size_t manifest_len;
  size_t ids_len = 0;
  cleanup_free char *ids = plan_layers_text(p, &ids_len);
  char line[APPC_TREE_DIGEST_LEN + 2];

  if (ids == NULL)
    return appc_error_make(err, ENOMEM, "tree");
  snprintf(line, sizeof line, "%s\n", digest);
  if (appc_store_read_manifest(s, p->layer_ids[0], &manifest, &manifest_len, err) < 0 ||
      appc_store_write_file(s, tfd, TREE_MANIFEST, manifest, manifest_len, err) < 0 ||
      appc_store_write_file(s, tfd, TREE_LAYERS, ids, ids_len, err) < 0 ||
      appc_store_write_file(s, tfd, TREE_DIGEST, line, strlen(line), err) < 0 ||
      appc_store_write_file(s, tfd, TREE_FORMAT, TREE_FORMAT_LINE, sizeof TREE_FORMAT_LINE - 1,
                            err) < 0)
    return -1;
  return 0;
}

/* Render P's layers into ROOTFS_FD; its tree digest into DIGEST unless
 * NO_DIGEST. */
static int render_layers(struct appc_store *s, int rootfs_fd, const struct plan *p,
                         const struct appc_store_render_options *opts, bool no_digest,
                         char digest[APPC_TREE_DIGEST_LEN + 1], appc_error_t *err)
{
  struct appc_render_options ro = {.as_root = s->as_root, .no_digest = no_digest};
  struct appc_render *r = NULL;
  int ret = 0;

  if (opts != NULL && opts->cb != NULL) {
    ro.cancelled = opts->cb->cancelled;
    ro.cancel_data = opts->cb->data;
    ro.cb = opts->cb;
  }
  if (appc_render_new(&r, rootfs_fd, &ro, err) < 0)
    return -1;
  for (size_t i = 0; ret == 0 && i < p->n_layers; i++)
    ret = appc_render_layer(r, &p->layers[i], err);
  if (ret == 0)
    ret = appc_render_finish(r, digest, err);
  appc_render_free(r);
  return ret;
}

static void remove_quietly(int dirfd, const char *name)
{
  appc_error_t ignored = NULL;

  appc_remove_tree(dirfd, name, &ignored);
  appc_error_release(&ignored);
}

/* What goes into a new tree: its rootfs/ (ROOTFS_FD) and its files beside
 * it in TREE_FD, all but the lock. */
typedef int (*tree_fill_fn)(struct appc_store *s, int tree_fd, int rootfs_fd, const void *data,
                            appc_error_t *err);

/* Build a tree with FILL in tmp/ and rename it to trees/NAME (unless
 * another process got there first, which is just as good). */
static int build_tree(struct appc_store *s, const char *name, tree_fill_fn fill, const void *data,
                      appc_error_t *err)
{
  char tmp[64];
  cleanup_close int tfd = -1, rfd = -1, lfd = -1;
  int r = -1;

  if (appc_store_temp_name(tmp, sizeof tmp, "tree") < 0 || mkdirat(s->tmp_fd, tmp, 0755) < 0)
    return appc_error_make(err, errno, "%s/%s", s->path, STORE_TMP);
  tfd = openat(s->tmp_fd, tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (tfd < 0 || mkdirat(tfd, TREE_ROOTFS, 0755) < 0 ||
      (rfd = openat(tfd, TREE_ROOTFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
    appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TMP, tmp);
    goto out;
  }
  if (fill(s, tfd, rfd, data, err) < 0)
    goto out;
  lfd = openat(tfd, TREE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (lfd < 0) {
    appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TMP, tmp);
    goto out;
  }
  if (renameat(s->tmp_fd, tmp, s->trees_fd, name) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
    appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TREES, name);
    goto out;
  }
  r = 0;
out:
  remove_quietly(s->tmp_fd, tmp); /* nothing left once renamed */
  return r;
}

/* Hold trees/NAME's lock shared: 1, or 0 when there is no such tree.
 * trees/NAME is never followed if it is a symlink (a tree is a directory
 * of the store, or damage). */
static int lock_tree(struct appc_store *s, const char *name, int *lock_fd, appc_error_t *err)
{
  char path[160];
  cleanup_close int tfd = appc_store_tree_open(s, name);

  snprintf(path, sizeof path, "%s/%s", name, TREE_LOCK);
  if (tfd < 0 && errno == ENOENT)
    return 0;
  if (tfd < 0 && (errno == ELOOP || errno == ENOTDIR))
    return appc_error_make(err, 0,
                           "%s/%s/%s: rendered tree that is not a directory (a symlink?), "
                           "damaged; `image gc` removes it",
                           s->path, STORE_TREES, name);
  if (tfd < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TREES, name);
  int fd = openat(tfd, TREE_LOCK, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? 0
                           : appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TREES, path);
  while (flock(fd, LOCK_SH) < 0)
    if (errno != EINTR) {
      int e = errno;
      close(fd);
      return appc_error_make(err, e, "%s/%s/%s", s->path, STORE_TREES, path);
    }
  (void) futimens(fd, NULL); /* last use, for gc --grace */
  *lock_fd = fd;
  return 1;
}

/* Hold trees/NAME's lock shared, building the tree with FILL first if it
 * is missing. */
static int hold_built_tree(struct appc_store *s, const char *name, tree_fill_fn fill,
                           const void *data, int *lock_fd, appc_error_t *err)
{
  for (int attempt = 0; attempt < 2; attempt++) {
    int r = lock_tree(s, name, lock_fd, err);
    /* Only a tree of the current format is used, as only such a tree is
     * verified: one at a current key without it was damaged. */
    if (r > 0 && !appc_store_tree_current(s, name)) {
      close(*lock_fd);
      *lock_fd = -1;
      return appc_error_make(err, 0,
                             "%s/%s/%s: rendered tree without its %s file (damaged?); "
                             "`image gc` removes it",
                             s->path, STORE_TREES, name, TREE_FORMAT);
    }
    if (r != 0)
      return r < 0 ? -1 : 0;
    if (attempt == 0 && build_tree(s, name, fill, data, err) < 0)
      return -1;
  }
  return appc_error_make(err, ENOENT, "%s/%s/%s", s->path, STORE_TREES, name);
}

/* A tree rendered from a plan's layers. */
struct rendered {
  const struct plan *p;
  const struct appc_store_render_options *opts;
};

static int fill_rendered(struct appc_store *s, int tree_fd, int rootfs_fd, const void *data,
                         appc_error_t *err)
{
  const struct rendered *t = data;
  char digest[APPC_TREE_DIGEST_LEN + 1];

  if (render_layers(s, rootfs_fd, t->p, t->opts, false, digest, err) < 0)
    return -1;
  return write_tree_files(s, tree_fd, t->p, digest, err);
}

/* Open trees/KEY's lock shared, building the tree first if it is missing. */
static int hold_tree(struct appc_store *s, const struct plan *p, const char *key,
                     const struct appc_store_render_options *opts, int *lock_fd, appc_error_t *err)
{
  const struct rendered t = {p, opts};
  return hold_built_tree(s, key, fill_rendered, &t, lock_fd, err);
}

/* The plan of image ID and its tree key, in *OUT (freed with plan_free),
 * and the key its record notes (HINT, "" when none). */
static int plan_prepare(struct appc_store *s, const char *id,
                        const struct appc_store_render_options *opts, struct plan **out,
                        char key[65], char hint[65], bool *remembered, appc_error_t *err)
{
  struct plan *p = calloc(1, sizeof *p);
  int r;

  *out = p;
  *remembered = false;
  hint[0] = '\0';
  if (p == NULL)
    return appc_error_make(err, ENOMEM, "%s", id);
  p->s = s;
  r = plan_build(p, id, err);
  if (r == 0)
    read_hint(s, p, hint);
  if (r == 0 && !(*remembered = plan_key_remembered(s, p, hint, key)))
    r = plan_key(p, key, err);
  if (r == 0 && cancel_requested(opts))
    r = appc_error_make(err, ECANCELED, "render");
  return r;
}

static void plan_free(struct plan *p)
{
  if (p == NULL)
    return;
  plan_clear(p);
  free(p);
}

/* A copy of the held tree KEY with its owners shifted. */
struct shifted {
  const char *key;
  const struct appc_store_render_options *opts;
};

static int fill_shifted(struct appc_store *s, int tree_fd, int rootfs_fd, const void *data,
                        appc_error_t *err)
{
  const struct shifted *t = data;
  struct appc_copy_options co = {
      .as_root = true, .shift_base = t->opts->id_base, .shift_count = t->opts->id_count};
  static const char *const files[] = {TREE_MANIFEST, TREE_LAYERS, TREE_DIGEST, TREE_FORMAT};
  char path[160];
  cleanup_close int tfd = appc_store_tree_open(s, t->key);
  cleanup_close int src = -1;

  if (t->opts->cb != NULL) {
    co.cancelled = t->opts->cb->cancelled;
    co.cancel_data = t->opts->cb->data;
  }
  snprintf(path, sizeof path, "%s/%s", t->key, TREE_ROOTFS);
  if (tfd >= 0)
    src = openat(tfd, TREE_ROOTFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (src < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TREES, path);
  if (appc_tree_copy(src, rootfs_fd, &co, err) < 0)
    return appc_error_prefix(err, "a copy of %s/%s/%s with shifted owners", s->path, STORE_TREES,
                             path);
  /* The same manifest, layers and digest (of the unshifted tree, which
   * verify checks; this copy is derived from it). */
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    cleanup_free char *text = NULL;
    size_t len = 0;
    if (appc_read_file_at(tfd, files[i], 1u << 24, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &text,
                          &len, err) < 0)
      return appc_error_prefix(err, "%s/%s/%s", s->path, STORE_TREES, t->key);
    if (appc_store_write_file(s, tree_fd, files[i], text, len, err) < 0)
      return -1;
  }
  return 0;
}

/* Hold trees/NAME shared, the shifted copy of the held tree KEY, making it
 * first if it is missing. */
static int hold_shifted_tree(struct appc_store *s, const char *key, const char *name,
                             const struct appc_store_render_options *opts, int *lock_fd,
                             appc_error_t *err)
{
  const struct shifted t = {key, opts};
  return hold_built_tree(s, name, fill_shifted, &t, lock_fd, err);
}

/* APPC_ABI_CHECK of OPTS (may be NULL), and every member its version does
 * not cover zero (common/abi.h). */
static int render_options_check(const struct appc_store_render_options *opts, appc_error_t *err)
{
  static const struct appc_abi_member members[] = {
      APPC_ABI_MEMBER(appc_store_render_options, id_base, 2),
      APPC_ABI_MEMBER(appc_store_render_options, id_count, 2),
  };
  return APPC_ABI_CHECK_MEMBERS(opts, appc_store_render_options, APPC_STORE_RENDER_OPTIONS_VERSION,
                                members, err);
}

static int acquire_locked(struct appc_store *s, const char *id,
                          const struct appc_store_render_options *opts, struct appc_store_tree *t,
                          appc_error_t *err)
{
  struct plan *p = NULL;
  char key[65], hint[65], name[96];
  bool remembered;
  bool shift = opts != NULL && opts->version >= 2 && opts->id_count > 0;
  int r = plan_prepare(s, id, opts, &p, key, hint, &remembered, err);

  if (r == 0)
    r = hold_tree(s, p, key, opts, &t->lock_fd, err);
  if (r == 0 && !remembered)
    plan_key_remember(s, p, key);
  snprintf(name, sizeof name, "%s", key);
  if (r == 0 && shift) {
    int base_lock = t->lock_fd;
    snprintf(name, sizeof name, "%s-%" PRIu32 "-%" PRIu32, key, opts->id_base, opts->id_count);
    t->lock_fd = -1;
    r = hold_shifted_tree(s, key, name, opts, &t->lock_fd, err);
    close(base_lock);
  }
  if (r == 0 && (asprintf(&t->path, "%s/%s/%s", s->path, STORE_TREES, name) < 0 ||
                 asprintf(&t->rootfs, "%s/%s", t->path, TREE_ROOTFS) < 0))
    r = appc_error_make(err, ENOMEM, "%s", id);
  plan_free(p);
  return r;
}

int appc_store_tree_acquire(struct appc_store *s, const char *id,
                            const struct appc_store_render_options *opts,
                            struct appc_store_tree **out, appc_error_t *err)
{
  struct appc_store_tree *t;
  int r;

  if (render_options_check(opts, err) < 0)
    return -1;
  t = calloc(1, sizeof *t);
  if (t == NULL)
    return appc_error_make(err, ENOMEM, "%s", id);
  t->lock_fd = -1;
  memcpy(t->image_id, id, strnlen(id, APPC_IMAGE_ID_LEN));
  if (appc_store_lock(s, false, err) < 0) {
    free(t);
    return -1;
  }
  r = acquire_locked(s, id, opts, t, err);
  appc_store_unlock(s);
  if (r < 0) {
    appc_store_tree_release(t);
    return -1;
  }
  appc_store_touch(s, id);
  *out = t;
  return 0;
}

void appc_store_tree_release(struct appc_store_tree *t)
{
  if (t == NULL)
    return;
  if (t->lock_fd >= 0)
    close(t->lock_fd);
  free(t->path);
  free(t->rootfs);
  free(t);
}

/* ---- writing a destination directory ---- */

/* DEST is made as a hidden sibling and renamed into place when complete. */
struct dest {
  const char *path;
  int parent_fd;
  int tmp_dirfd; /* where d->tmp lives: the store's tmp/ or parent_fd (not owned) */
  char *base;
  char tmp[96];
  bool overwrite;
  bool made;
};

static int dest_is_replaceable(struct appc_store *s, struct dest *d, appc_error_t *err)
{
  struct stat st;

  /* in the store (its tmp/, where the render is made, among the rest),
   * the store, or above */
  if (appc_store_check_dest_at(s, d->parent_fd, d->base, d->path, err) < 0)
    return -1;
  if (fstatat(d->parent_fd, d->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "%s", d->path);
  /* An empty directory (say, from mktemp -d) holds nothing to lose. */
  if (d->overwrite || (S_ISDIR(st.st_mode) && appc_dir_is_empty(d->parent_fd, d->base))) {
    d->overwrite = true;
    return 0;
  }
  return appc_error_tag(err, EEXIST, "%s: already exists", d->path);
}

static int dest_open(struct appc_store *s, struct dest *d, const char *path, bool overwrite,
                     appc_error_t *err)
{
  cleanup_free char *a = strdup(path);
  cleanup_free char *b = strdup(path);

  memset(d, 0, sizeof *d);
  d->path = path;
  d->parent_fd = d->tmp_dirfd = -1;
  d->overwrite = overwrite;
  if (a == NULL || b == NULL || (d->base = strdup(basename(b))) == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  if (strcmp(d->base, "/") == 0 || strcmp(d->base, ".") == 0 || strcmp(d->base, "..") == 0)
    return appc_error_tag(err, EINVAL, "%s: not a usable destination", path);
  d->parent_fd = open(dirname(a), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (d->parent_fd < 0)
    return appc_error_make(err, errno, "%s: cannot open the parent directory", path);
  if (dest_is_replaceable(s, d, err) < 0)
    return -1;
  /* In the store's tmp/ where DEST can be renamed from there, so that a
   * process killed half-way leaves its debris where gc finds it; beside
   * DEST otherwise. */
  if (appc_same_mount(s->tmp_fd, d->parent_fd)) {
    d->tmp_dirfd = s->tmp_fd;
    d->tmp[0] = '\0';
  } else {
    d->tmp_dirfd = d->parent_fd;
    snprintf(d->tmp, sizeof d->tmp, ".%.40s.", d->base);
  }
  size_t used = strlen(d->tmp);
  if (appc_store_temp_name(d->tmp + used, sizeof d->tmp - used, "actool-tmp") < 0 ||
      mkdirat(d->tmp_dirfd, d->tmp, 0700) < 0)
    return appc_error_make(err, errno, "%s: cannot create a temporary directory for it", path);
  d->made = true;
  return 0;
}

static int dest_commit(struct dest *d, appc_error_t *err)
{
  if (renameat2(d->tmp_dirfd, d->tmp, d->parent_fd, d->base, RENAME_NOREPLACE) == 0) {
    d->made = false;
    return 0;
  }
  if (errno == EEXIST && !d->overwrite) /* made meanwhile */
    return appc_error_tag(err, EEXIST, "%s: already exists", d->path);
  if (errno != EEXIST)
    return appc_error_make(err, errno, "%s", d->path);
  /* Swap atomically, then remove what was there. */
  if (renameat2(d->tmp_dirfd, d->tmp, d->parent_fd, d->base, RENAME_EXCHANGE) < 0)
    return appc_error_make(err, errno, "%s", d->path);
  return 0; /* d->tmp now names the old DEST, removed by dest_close */
}

static void dest_close(struct dest *d)
{
  if (d->made)
    remove_quietly(d->tmp_dirfd, d->tmp);
  if (d->parent_fd >= 0)
    close(d->parent_fd);
  free(d->base);
}

/* The directory inside the temporary DEST that receives the rootfs. */
static int dest_rootfs(struct dest *d, unsigned flags, int *out, appc_error_t *err)
{
  char path[sizeof d->tmp + 8];

  if (flags & APPC_STORE_ROOTFS_ONLY) {
    snprintf(path, sizeof path, "%s", d->tmp);
  } else {
    snprintf(path, sizeof path, "%s/rootfs", d->tmp);
    if (fchmodat(d->tmp_dirfd, d->tmp, 0755, 0) < 0 || mkdirat(d->tmp_dirfd, path, 0755) < 0)
      return appc_error_make(err, errno, "%s", d->path);
  }
  *out = openat(d->tmp_dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (*out < 0)
    return appc_error_make(err, errno, "%s", d->path);
  return 0;
}

static int dest_manifest(struct dest *d, const char *json, size_t len, appc_error_t *err)
{
  char path[sizeof d->tmp + 16];
  cleanup_close int fd = -1;

  snprintf(path, sizeof path, "%s/manifest", d->tmp);
  fd = openat(d->tmp_dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 || appc_write_all(fd, json, len) < 0)
    return appc_error_make(err, errno, "%s/manifest", d->path);
  return 0;
}

/* ---- render and extract ---- */

static bool tree_present(struct appc_store *s, const char key[65])
{
  return faccessat(s->trees_fd, key, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* DEST's rootfs as a copy of the cached tree KEY, built first if missing. */
static int copy_tree(struct appc_store *s, const struct plan *p, const char key[65], struct dest *d,
                     const struct appc_store_render_options *opts, appc_error_t *err)
{
  struct appc_copy_options co = {.as_root = s->as_root};
  char rootfs[80];
  cleanup_close int lock_fd = -1;
  cleanup_close int tfd = -1;
  cleanup_close int src = -1;
  cleanup_close int dst = -1;

  if (opts->cb != NULL) {
    co.cancelled = opts->cb->cancelled;
    co.cancel_data = opts->cb->data;
  }
  if (hold_tree(s, p, key, opts, &lock_fd, err) < 0)
    return -1;
  snprintf(rootfs, sizeof rootfs, "%s/%s", key, TREE_ROOTFS);
  if ((tfd = appc_store_tree_open(s, key)) >= 0)
    src = openat(tfd, TREE_ROOTFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (src < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_TREES, rootfs);
  if (dest_rootfs(d, opts->flags, &dst, err) < 0)
    return -1;
  /* the copy's errors name paths below DEST's rootfs */
  if (appc_tree_copy(src, dst, &co, err) < 0)
    return appc_error_prefix(err, "%s%s", d->path,
                             (opts->flags & APPC_STORE_ROOTFS_ONLY) ? "" : "/rootfs");
  return 0;
}

/* DEST's rootfs rendered from the layers themselves: no tree digest. */
static int render_direct(struct appc_store *s, const struct plan *p, struct dest *d,
                         const struct appc_store_render_options *opts, appc_error_t *err)
{
  cleanup_close int dst = -1;

  if (dest_rootfs(d, opts->flags, &dst, err) < 0)
    return -1;
  return render_layers(s, dst, p, opts, true, NULL, err);
}

/* The tree cache pays off from an image's second render on: a first render
 * is written straight into DEST (the cache would cost a second copy of
 * every file, for a tree that may never be used again), and its key noted
 * in the image's record; the next render of the same layers builds the
 * cached tree, and every later one copies it.  run and export use trees in
 * place and always build them (appc_store_tree_acquire). */
static int render_rootfs(struct appc_store *s, const char *id, struct dest *d,
                         const struct appc_store_render_options *opts, appc_error_t *err)
{
  struct plan *p = NULL;
  char key[65], hint[65];
  bool remembered;
  int r = plan_prepare(s, id, opts, &p, key, hint, &remembered, err);

  if (r == 0) {
    /* a tree there, or this key noted by an earlier render: cache it */
    if (remembered || tree_present(s, key) || strcmp(hint, key) == 0)
      r = copy_tree(s, p, key, d, opts, err);
    else
      r = render_direct(s, p, d, opts, err);
  }
  if (r == 0 && !remembered)
    plan_key_remember(s, p, key);
  plan_free(p);
  return r;
}

static int render_into(struct appc_store *s, const char *id, struct dest *d,
                       const struct appc_store_render_options *opts, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t len;

  if (render_rootfs(s, id, d, opts, err) < 0)
    return -1;
  appc_store_touch(s, id);
  if (opts->flags & APPC_STORE_ROOTFS_ONLY)
    return 0;
  if (appc_store_read_manifest(s, id, &json, &len, err) < 0)
    return -1;
  return dest_manifest(d, json, len, err);
}

static int extract_into(struct appc_store *s, const char *id, struct dest *d,
                        const struct appc_store_render_options *opts, appc_error_t *err)
{
  struct plan *p = calloc(1, sizeof *p);
  struct plan_image *img;
  cleanup_close int dst = -1;
  cleanup_free char *json = NULL;
  size_t len;
  int r;

  if (p == NULL)
    return appc_error_make(err, ENOMEM, "%s", id);
  p->s = s;
  p->stack[0] = id;
  r = appc_store_lock(s, false, err);
  if (r == 0) {
    r = plan_load(p, id, &img, err);
    if (r == 0) {
      /* The image alone: no dependencies and no pathWhitelist. */
      img->has_whitelist = false;
      appc_whitelist_clear(&img->whitelist);
      r = plan_add_layer(p, img, NULL, 0, err);
    }
    if (r == 0)
      r = dest_rootfs(d, opts->flags, &dst, err);
    if (r == 0)
      r = render_layers(s, dst, p, opts, true, NULL, err);
    if (r == 0 && !(opts->flags & APPC_STORE_ROOTFS_ONLY)) {
      r = appc_store_read_manifest(s, id, &json, &len, err);
      if (r == 0)
        r = dest_manifest(d, json, len, err);
    }
    appc_store_unlock(s);
  }
  plan_clear(p);
  free(p);
  if (r == 0)
    appc_store_touch(s, id);
  return r;
}

typedef int (*fill_fn)(struct appc_store *, const char *, struct dest *,
                       const struct appc_store_render_options *, appc_error_t *);

static int make_dest(struct appc_store *s, const char *id, const char *path,
                     const struct appc_store_render_options *opts, fill_fn fill, appc_error_t *err)
{
  static const struct appc_store_render_options defaults = {0};
  struct dest d;
  int r;

  if (render_options_check(opts, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &defaults;
  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  /* Held throughout: the temporary DEST may live in the store's tmp/,
   * which gc empties under the exclusive lock. */
  if (appc_store_lock(s, false, err) < 0)
    return -1;
  r = dest_open(s, &d, path, (opts->flags & APPC_STORE_OVERWRITE) != 0, err);
  if (r == 0)
    r = fill(s, id, &d, opts, err);
  if (r == 0)
    r = dest_commit(&d, err);
  dest_close(&d);
  appc_store_unlock(s);
  return r;
}

int appc_store_render(struct appc_store *s, const char *id, const char *dest,
                      const struct appc_store_render_options *opts, appc_error_t *err)
{
  return make_dest(s, id, dest, opts, render_into, err);
}

int appc_store_extract(struct appc_store *s, const char *id, const char *dest,
                       const struct appc_store_render_options *opts, appc_error_t *err)
{
  return make_dest(s, id, dest, opts, extract_into, err);
}
