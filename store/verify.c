/* SPDX-License-Identifier: Apache-2.0 */
/* Checking a store: every record has its blob, every blob hashes to its
 * image ID and holds the manifest the record keeps, and every cached tree
 * still has the digest recorded when it was rendered. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "store/private.h"

struct verify {
  struct appc_store *s;
  const char *const *ids;
  size_t n;
  appc_store_problem_fn problem;
  void *data;
  unsigned long long damaged;
};

static void report(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(struct verify *v, const char *fmt, ...)
{
  char msg[2048];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  v->damaged++;
  if (v->problem != NULL)
    v->problem(msg, v->data);
}

/* A check that failed: damage, unless it failed for being cancelled
 * (verify_locked then stops with that error). */
static void report_error(struct verify *v, appc_error_t *e)
{
  if (!appc_cb_cancelled(v->s->cb))
    report(v, "%s", (*e)->msg);
  appc_error_release(e);
}

static bool selected(const struct verify *v, const char *id)
{
  if (v->n == 0)
    return true;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->ids[i], id) == 0)
      return true;
  return false;
}

/* Check image ID: -1 and *E naming the damage found. */
static int check_image(struct verify *v, const char *id, appc_error_t *e)
{
  struct appc_store_image img;
  struct appc_aci_info info;
  cleanup_free char *blob = NULL;
  cleanup_free char *manifest = NULL;
  size_t len;
  int r = -1;

  if (appc_store_read_record(v->s, id, &img, e) < 0)
    return -1;
  appc_store_image_clear(&img);
  if (asprintf(&blob, "%s/%s/%s", v->s->path, STORE_BLOBS, id) < 0)
    return 0;
  /* As export and render open it: a symlink or a FIFO is damage */
  cleanup_close int fd = appc_store_blob_open(v->s, id, "", e);
  if (fd < 0 && (*e)->errnum == ENOENT) {
    appc_error_release(e);
    return appc_error_make(e, 0, "%s: image %s is indexed but its blob is missing", blob, id);
  }
  cleanup_source struct appc_source *src = NULL;
  if (fd < 0 || appc_source_open_fd(&src, fd, blob, e) < 0 ||
      appc_aci_validate_source_op(src, v->s->cb, APPC_PROGRESS_VERIFY, &info, e) < 0)
    return -1;
  if (strcmp(info.image_id, id) != 0)
    appc_error_make(e, 0, "%s: blob damaged: its content hashes to %s", blob, info.image_id);
  else if (appc_store_read_manifest(v->s, id, &manifest, &len, e) == 0) {
    if (len != info.manifest_len || memcmp(manifest, info.manifest_json, len) != 0)
      appc_error_make(e, 0, "%s/%s/%s/%s: differs from the manifest in the blob", v->s->path,
                      STORE_IMAGES, id, RECORD_MANIFEST);
    else
      r = 0;
  }
  appc_aci_info_clear(&info);
  return r;
}

static void verify_image(struct verify *v, const char *id)
{
  appc_error_t e = NULL;

  if (check_image(v, id, &e) == 0)
    return;
  /* Removed while it was checked, by a removal under a shared hold (of
   * what a build or a fetch added and no longer needs), which renames the
   * record away before it unlinks the blob: no damage, nothing indexed. */
  if (faccessat(v->s->images_fd, id, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
    appc_error_release(&e);
    return;
  }
  report_error(v, &e);
}

/* Does tree KEY involve a selected image?  (All trees when none selected.) */
static bool tree_selected(struct verify *v, const char *key)
{
  cleanup_close int tfd = -1;
  cleanup_free char *ids = NULL;
  appc_error_t e = NULL;

  if (v->n == 0)
    return true;
  if ((tfd = appc_store_tree_open(v->s, key)) < 0)
    return false;
  if (appc_read_file_at(tfd, TREE_LAYERS, 1u << 20, APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &ids,
                        NULL, &e) < 0) {
    appc_error_release(&e);
    return false;
  }
  char *save = NULL; /* strtok_r: two stores may be used from two threads */
  for (char *line = strtok_r(ids, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
    if (selected(v, line))
      return true;
  return false;
}

static void verify_tree(struct verify *v, const char *key)
{
  char path[128], digest[APPC_TREE_DIGEST_LEN + 1];
  cleanup_free char *recorded = NULL;
  cleanup_close int tfd = appc_store_tree_open(v->s, key);
  cleanup_close int rfd = -1;
  appc_error_t e = NULL;

  /* never followed out of the store: render refuses it too */
  if (tfd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
    report(v, "%s/%s/%s: rendered tree that is not a directory (a symlink?)", v->s->path,
           STORE_TREES, key);
    return;
  }

  /* Of another format, a tree is never used again (gc removes an older
   * one), unless it lost its format file at the key the current format
   * gives its layers: then it is damage (render refuses it). */
  int format = appc_store_tree_format(v->s, key);
  if (format != TREE_FORMAT_NUM) {
    if (format == 0 && appc_store_tree_key_current(v->s, key))
      report(v, "%s/%s/%s: rendered tree without its %s file", v->s->path, STORE_TREES, key,
             TREE_FORMAT);
    return;
  }
  if (tfd < 0 || appc_read_file_at(tfd, TREE_DIGEST, 4096, APPC_READ_NOFOLLOW | APPC_READ_REGULAR,
                                   &recorded, NULL, &e) < 0) {
    appc_error_release(&e);
    report(v, "%s/%s/%s: rendered tree without a digest", v->s->path, STORE_TREES, key);
    return;
  }
  recorded[strcspn(recorded, "\n")] = '\0';
  snprintf(path, sizeof path, "%s/%s", key, TREE_ROOTFS);
  rfd = openat(tfd, TREE_ROOTFS, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (rfd < 0) {
    report(v, "%s/%s/%s: rendered tree without its rootfs", v->s->path, STORE_TREES, key);
    return;
  }
  if (appc_tree_digest(rfd, NULL, v->s->cb, digest, &e) < 0) {
    appc_error_prefix(&e, "%s/%s/%s", v->s->path, STORE_TREES, path);
    report_error(v, &e);
    return;
  }
  if (strcmp(digest, recorded) != 0)
    report(v, "%s/%s/%s: rendered tree modified: digest %s, recorded %s", v->s->path, STORE_TREES,
           key, digest, recorded);
}

static bool is_tree_key(const char *name)
{
  return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

static int maybe_verify_image(const char *id, void *data, appc_error_t *err)
{
  struct verify *v = data;

  if (appc_cb_cancelled(v->s->cb))
    return appc_error_make(err, ECANCELED, "verify cancelled");
  if (appc_store_is_image_id(id) && selected(v, id))
    verify_image(v, id);
  return 0;
}

static int maybe_verify_tree(const char *key, void *data, appc_error_t *err)
{
  struct verify *v = data;

  if (appc_cb_cancelled(v->s->cb))
    return appc_error_make(err, ECANCELED, "verify cancelled");
  if (is_tree_key(key) && tree_selected(v, key))
    verify_tree(v, key);
  return 0;
}

static int verify_locked(struct verify *v, appc_error_t *err)
{
  /* Images named explicitly must exist. */
  for (size_t i = 0; i < v->n; i++)
    if (faccessat(v->s->images_fd, v->ids[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      return appc_store_no_such_image(err, v->ids[i], "");
  if (appc_store_each_entry(v->s, v->s->images_fd, STORE_IMAGES, maybe_verify_image, v, err) < 0)
    return -1;
  return appc_store_each_entry(v->s, v->s->trees_fd, STORE_TREES, maybe_verify_tree, v, err);
}

int appc_store_verify(struct appc_store *s, const char *const *ids, size_t n,
                      appc_store_problem_fn problem, void *data, unsigned long long *damaged,
                      appc_error_t *err)
{
  struct verify v = {.s = s, .ids = ids, .n = n, .problem = problem, .data = data};
  int r;

  if (appc_store_lock(s, false, err) < 0)
    return -1;
  r = verify_locked(&v, err);
  appc_store_unlock(s);
  if (damaged != NULL)
    *damaged = v.damaged;
  return r;
}
