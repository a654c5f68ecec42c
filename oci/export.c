/* SPDX-License-Identifier: Apache-2.0 */
/* An image of the store as an OCI image (image-spec image-layout.md): the
 * image rendered with its dependencies (the store's cached tree) becomes
 * one gzip layer, its app the config, and the manifest is added to DIR's
 * index.json under a tag, so that `skopeo copy oci:DIR:TAG docker://...`
 * pushes it and runc, podman or umoci run or unpack it (docs/oci.md,
 * "Export").
 *
 * A new layout appears whole, listing no image (made beside DIR and
 * renamed to it); blobs are written under temporary names and renamed to
 * their digest; index.json is replaced atomically: DIR is a valid layout at
 * every moment.  DIR is locked (flock) for the whole export so that two
 * exports into one layout keep each other's entries. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "appc/ace.h"
#include "aci/stream.h"
#include "common/abi.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/macros.h"
#include "oci/internal.h"

/* The ACE's PATH (ace.md), which an app without one runs with. */
#define ACE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* What the executor runs for an image without an app or without exec
 * (docs/executor.md; appc_ace_app_plan's argv). */
#define ACE_DEFAULT_EXEC "/sbin/init"
#define LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"

struct export
{
  struct appc_store *s;
  const char *id;
  const char *dir;
  const struct appc_oci_export_options *opts;
  int parentfd;               /* DIR's parent, once needed */
  int dirfd;                  /* DIR, locked */
  int blobsfd;                /* DIR/blobs/sha256 */
  bool made_dir, made_layout; /* DIR made here; its layout begun here (it was empty) */
  struct appc_image_manifest *m;
  char tag[129];
  char layer[OCI_DIGEST_MAX], diff_id[OCI_DIGEST_MAX], config[OCI_DIGEST_MAX],
      manifest[OCI_DIGEST_MAX];
  int64_t layer_size, config_size, manifest_size;
  char *user;                        /* the config's User: the app's user:group, paths resolved */
  const char *os, *arch, *variant;   /* the platform, as OCI spells it */
  const struct appc_kv_list *labels; /* the config's Labels: ex->m's labels, or RESTORED */
  struct appc_kv_list restored;      /* the Labels an import recorded */
  json_object *index;                /* DIR/index.json as it was, NULL when it had none */
};

static const char *label(const struct appc_image_manifest *m, const char *name)
{
  for (size_t i = 0; i < m->labels.len; i++)
    if (strcmp(m->labels.items[i].name, name) == 0)
      return m->labels.items[i].value;
  return NULL;
}

/* ---- the layout directory ---- */

static int open_subdir(int dirfd, const char *name, const char *path, appc_error_t *err)
{
  int fd;

  if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, "%s/%s", path, name);
  fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "%s/%s", path, name);
  return fd;
}

/* DIR/index.json as it is, read before anything is written, so that one
 * the export could not add to leaves the layout as it was. */
static int read_index(struct export *ex, appc_error_t *err)
{
  cleanup_free char *old = NULL;
  size_t len = 0;
  json_object *manifests;

  if (appc_read_file_at(ex->dirfd, "index.json", OCI_JSON_MAX,
                        APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &old, &len, err) < 0) {
    if (*err == NULL || (*err)->errnum != ENOENT)
      return appc_error_prefix(err, "%s", ex->dir);
    appc_error_release(err);
    return 0;
  }
  if ((ex->index = json_tokener_parse(old)) == NULL ||
      !json_object_is_type(ex->index, json_type_object))
    return appc_error_make(err, 0, "%s/index.json: not a JSON object", ex->dir);
  if (json_object_object_get_ex(ex->index, "manifests", &manifests) &&
      !json_object_is_type(manifests, json_type_array))
    return appc_error_make(err, 0, "%s/index.json: manifests: not an array", ex->dir);
  return 0;
}

/* What makes the empty directory FD (PATH in messages) a layout, one that
 * lists no image: blobs/sha256, index.json and, last, oci-layout. */
static int fill_new_layout(int fd, const char *path, appc_error_t *err)
{
  static const char marker[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
  static const char index[] =
      "{\"schemaVersion\":2,\"mediaType\":\"" OCI_INDEX_V1 "\",\"manifests\":[]}";
  cleanup_free char *blobs_path = NULL;
  cleanup_close int blobs = open_subdir(fd, "blobs", path, err);
  cleanup_close int sha256 = -1;

  if (blobs < 0)
    return -1;
  if (asprintf(&blobs_path, "%s/blobs", path) < 0)
    return appc_error_make(err, ENOMEM, "%s", path);
  if ((sha256 = open_subdir(blobs, "sha256", blobs_path, err)) < 0)
    return -1;
  if (appc_atomic_write_at(fd, "index.json", index, strlen(index), 0644, APPC_WRITE_DURABLE, err) <
          0 ||
      appc_atomic_write_at(fd, "oci-layout", marker, strlen(marker), 0644, APPC_WRITE_DURABLE,
                           err) < 0)
    return appc_error_prefix(err, "%s", path);
  return 0;
}

/* A new hidden directory beside DIR, ".NAME.oci-XXXXXX": its name in
 * *NAME, relative to ex->parentfd (DIR's parent, opened here). */
static int sibling_temp(struct export *ex, char **name, appc_error_t *err)
{
  cleanup_free char *copy = strdup(ex->dir);
  cleanup_free char *copy2 = strdup(ex->dir);
  cleanup_free char *prefix = NULL;
  cleanup_free char *path = NULL;

  if (copy == NULL || copy2 == NULL || asprintf(&prefix, ".%s.oci", basename(copy2)) < 0)
    return appc_error_make(err, ENOMEM, "%s", ex->dir);
  const char *parent = dirname(copy);
  if (ex->parentfd < 0 && (ex->parentfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", parent);
  if ((path = appc_mkdtemp(parent, prefix, NULL)) == NULL ||
      (*name = strdup(strrchr(path, '/') + 1)) == NULL)
    return appc_error_make(err, errno, "%s: a temporary directory beside it", ex->dir);
  return 0;
}

/* DIR, missing, made a layout whole: filled as a hidden sibling, locked,
 * then renamed to DIR, so that no moment (nor a SIGKILL) shows a layout
 * without its index.json.  1 when done, 0 when DIR appeared meanwhile. */
static int make_new_layout(struct export *ex, appc_error_t *err)
{
  cleanup_free char *tmp = NULL;
  appc_error_t ignored = NULL;
  int fd, e = 0;

  if (sibling_temp(ex, &tmp, err) < 0)
    return -1;
  fd = openat(ex->parentfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fchmod(fd, 0755) < 0 || appc_flock(fd, LOCK_EX) < 0)
    e = appc_error_make(err, errno, "%s: a temporary directory beside it", ex->dir);
  else if (fill_new_layout(fd, ex->dir, err) < 0)
    e = -1;
  else if (renameat2(ex->parentfd, tmp, AT_FDCWD, ex->dir, RENAME_NOREPLACE) < 0)
    e = errno == EEXIST ? 1 : appc_error_make(err, errno, "%s", ex->dir);
  if (e != 0) {
    if (fd >= 0)
      close(fd);
    appc_remove_tree(ex->parentfd, tmp, &ignored);
    appc_error_release(&ignored);
    return e > 0 ? 0 : -1;
  }
  ex->dirfd = fd;
  ex->made_dir = ex->made_layout = true;
  return 1;
}

/* Whether FD still is the directory PATH names (an export that failed
 * may have removed what another was waiting to lock). */
static bool still_at(int fd, const char *path)
{
  struct stat a, b;

  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* DIR, made an OCI image layout when it is missing or empty, locked. */
static int open_layout(struct export *ex, appc_error_t *err)
{
  struct oci_layout check = {.dirfd = -1};
  int r = 0;

  /* DIR made whole when it is missing, else locked; again when what was
   * locked is DIR no more (a dangling symlink fails after a few rounds) */
  for (int tries = 0; ex->dirfd < 0; tries++) {
    if (tries == 100)
      return appc_error_make(err, EAGAIN, "%s: replaced again and again while being locked",
                             ex->dir);
    ex->dirfd = open(ex->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ex->dirfd < 0 && (errno != ENOENT || tries >= 3))
      return appc_error_make(err, errno, "%s", ex->dir);
    if (ex->dirfd < 0) {
      if (make_new_layout(ex, err) < 0)
        return -1;
      continue;
    }
    if (appc_flock(ex->dirfd, LOCK_EX) < 0)
      return appc_error_make(err, errno, "%s: lock", ex->dir);
    if (!still_at(ex->dirfd, ex->dir)) {
      close(ex->dirfd);
      ex->dirfd = -1;
    }
  }
  if (!ex->made_layout && faccessat(ex->dirfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
    if (!appc_dir_is_empty(ex->dirfd, "."))
      return appc_error_make(err, 0,
                             "%s: not an OCI image layout (no oci-layout file) and not empty: "
                             "an export goes into a layout or a new directory",
                             ex->dir);
    /* in place (DIR may be a mount point): oci-layout comes last */
    ex->made_layout = true;
    if (fill_new_layout(ex->dirfd, ex->dir, err) < 0)
      return -1;
  }
  r = oci_layout_open(&check, ex->dir, err);
  oci_layout_close(&check);
  if (r < 0 || read_index(ex, err) < 0)
    return -1;
  cleanup_close int blobs = open_subdir(ex->dirfd, "blobs", ex->dir, err);
  if (blobs < 0)
    return -1;
  cleanup_free char *blobs_path = NULL;
  if (asprintf(&blobs_path, "%s/blobs", ex->dir) < 0)
    return appc_error_make(err, ENOMEM, "%s", ex->dir);
  ex->blobsfd = open_subdir(blobs, "sha256", blobs_path, err);
  return ex->blobsfd < 0 ? -1 : 0;
}

/* A failed export into a new (or empty) directory leaves it as it was:
 * what is in it is this export's alone (it holds the lock).  A directory
 * it made goes at once (renamed aside, then removed); one that was empty
 * is emptied, oci-layout last. */
static void undo_new_layout(struct export *ex)
{
  cleanup_free char *aside = NULL;
  appc_error_t ignored = NULL;

  if (!ex->made_layout || ex->dirfd < 0)
    return;
  if (ex->made_dir && sibling_temp(ex, &aside, &ignored) == 0 &&
      renameat2(AT_FDCWD, ex->dir, ex->parentfd, aside, 0) == 0) {
    appc_remove_tree(ex->parentfd, aside, &ignored);
    appc_error_release(&ignored);
    return;
  }
  appc_error_release(&ignored);
  if (aside != NULL)
    unlinkat(ex->parentfd, aside, AT_REMOVEDIR);
  appc_remove_tree(ex->dirfd, "blobs", &ignored);
  appc_error_release(&ignored);
  unlinkat(ex->dirfd, "index.json", 0);
  unlinkat(ex->dirfd, "oci-layout", 0);
  if (ex->made_dir)
    rmdir(ex->dir);
}

/* DATA as blobs/sha256/HEX; OUT receives "sha256:HEX". */
static int write_blob(struct export *ex, const char *data, size_t len, char out[OCI_DIGEST_MAX],
                      appc_error_t *err)
{
  char hex[APPC_DIGEST_HEX_MAX];

  if (appc_digest_buffer(APPC_DIGEST_SHA256, data, len, hex, err) < 0)
    return -1;
  snprintf(out, OCI_DIGEST_MAX, "sha256:%s", hex);
  if (appc_atomic_write_at(ex->blobsfd, hex, data, len, 0644, 0, err) < 0)
    return appc_error_prefix(err, "%s/blobs/sha256", ex->dir);
  return 0;
}

/* ---- the layer ---- */

/* Read the layer just written back, once: the digest of its bytes and, as
 * ISA-L inflates it, of its tar (the diff_id). */
static int layer_digests(struct export *ex, int fd, appc_error_t *err)
{
  struct oci_blob b = {
      .fd = fd, .what = ex->dir, .cb = ex->opts->cb, .op = APPC_PROGRESS_EXPORT, .ours = true};
  char hex[APPC_DIGEST_HEX_MAX];
  const void *p;
  ssize_t n;
  int r = -1;

  struct stat st;
  /* (its size for the progress reports) */
  if (lseek(fd, 0, SEEK_SET) < 0 || fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s: layer", ex->dir);
  b.total = (unsigned long long) st.st_size;
  if (appc_digest_new(APPC_DIGEST_SHA256, &b.packed, err) < 0 ||
      appc_digest_new(APPC_DIGEST_SHA256, &b.unpacked, err) < 0 || oci_blob_open(&b, err) < 0)
    goto done;
  while ((n = oci_blob_read(NULL, &b, &p)) > 0)
    ;
  if (n < 0) {
    appc_error_make(err, b.errnum, "%s: layer: %s", ex->dir, oci_blob_error(&b, b.raw));
    goto done;
  }
  if (oci_blob_drain(&b, err) < 0 || appc_digest_final(b.packed, hex, err) < 0)
    goto done;
  snprintf(ex->layer, sizeof ex->layer, "sha256:%s", hex);
  if (appc_digest_final(b.unpacked, hex, err) < 0)
    goto done;
  snprintf(ex->diff_id, sizeof ex->diff_id, "sha256:%s", hex);
  r = 0;
done:
  oci_blob_clear(&b);
  return r;
}

static int write_tree(struct export *ex, const char *rootfs, int fd, appc_error_t *err)
{
  struct appc_build_options bo = {.compression = APPC_COMPRESSION_GZIP, .cb = ex->opts->cb};
  cleanup_tar_writer struct appc_tar_writer *w = NULL;
  cleanup_close int rfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  char image_id[APPC_IMAGE_ID_LEN + 1];

  if (rfd < 0)
    return appc_error_make(err, errno, "%s", rootfs);
  if (appc_tar_writer_new(&w, fd, ex->dir, &bo, APPC_TAR_WRITER_BUILD, err) < 0)
    return -1;
  if (appc_tar_write_tree(
          w, rfd, rootfs, &bo,
          APPC_TAR_TREE_NO_WHITEOUT_NAMES | APPC_TAR_TREE_NO_SPARSE | APPC_TAR_TREE_ROOT, err) < 0)
    return appc_error_prefix(err, "%s", ex->m->name);
  return appc_tar_writer_close(w, image_id, err);
}

/* The config's User, "USER:GROUP": names and numbers as the app gives
 * them (the runtime looks them up in the image's /etc/passwd and
 * /etc/group, as the executor does); a path, "the owner of this file in
 * the image" (aci.md, "app"), which no OCI runtime understands, becomes
 * that file's uid or gid in ROOTFS, resolved as the executor resolves it
 * (symlinks followed inside the tree). */
static int config_user(struct export *ex, const char *rootfs, appc_error_t *err)
{
  const struct appc_app *app = ex->m->app;
  struct appc_ace_app_plan plan = {0};
  char uid[24] = "", gid[24] = "";
  int r;

  if (app == NULL)
    return 0;
  if (app->user[0] == '/' || app->group[0] == '/') {
    if (appc_ace_app_plan(ex->s, ex->id, rootfs, NULL, &plan, err) < 0)
      return appc_error_prefix(err, "%s", ex->m->name);
    snprintf(uid, sizeof uid, "%lu", (unsigned long) plan.uid);
    snprintf(gid, sizeof gid, "%lu", (unsigned long) plan.gid);
    appc_ace_app_plan_clear(&plan);
  }
  r = asprintf(&ex->user, "%s:%s", app->user[0] == '/' ? uid : app->user,
               app->group[0] == '/' ? gid : app->group);
  if (r < 0) {
    ex->user = NULL;
    return appc_error_make(err, ENOMEM, "%s: app.user", ex->m->name);
  }
  return 0;
}

static int write_layer(struct export *ex, appc_error_t *err)
{
  struct appc_store_render_options ro = {.cb = ex->opts->cb};
  struct appc_store_tree *t = NULL;
  struct appc_tempfile tmp = APPC_TEMPFILE_INIT;
  struct stat st;
  int r = -1;

  if (appc_store_tree_acquire(ex->s, ex->id, &ro, &t, err) < 0)
    return -1;
  if (config_user(ex, t->rootfs, err) < 0)
    goto done;
  if (appc_tempfile_open(&tmp, ex->blobsfd, "layer", 0644) < 0) {
    appc_error_make(err, errno, "%s/blobs/sha256", ex->dir);
    goto done;
  }
  appc_cb_log(ex->opts->cb, "%s: the layer, from %s", ex->dir, t->rootfs);
  if (write_tree(ex, t->rootfs, tmp.fd, err) < 0 || layer_digests(ex, tmp.fd, err) < 0)
    goto done;
  if (fstat(tmp.fd, &st) < 0 ||
      appc_tempfile_install(&tmp, strchr(ex->layer, ':') + 1, APPC_WRITE_DURABLE) < 0) {
    appc_error_make(err, errno, "%s/blobs/%s", ex->dir, ex->layer);
    goto done;
  }
  ex->layer_size = st.st_size;
  r = 0;
done:
  appc_tempfile_discard(&tmp);
  appc_store_tree_release(t);
  return r;
}

/* ---- the config, the manifest, the index ---- */

/* {"80/tcp": {}, ...} of the app's ports; NULL when it has none. */
static json_object *exposed_ports(const struct appc_app *app)
{
  json_object *o = app->n_ports > 0 ? json_object_new_object() : NULL;
  char key[64];

  for (size_t i = 0; i < app->n_ports; i++) {
    snprintf(key, sizeof key, "%u/%.20s", (unsigned) app->ports[i].port, app->ports[i].protocol);
    json_object_object_add(o, key, json_object_new_object());
  }
  return o;
}

/* {"/path": {}, ...} of the app's mount points; NULL when it has none. */
static json_object *volumes(const struct appc_app *app)
{
  json_object *o = app->n_mount_points > 0 ? json_object_new_object() : NULL;

  for (size_t i = 0; i < app->n_mount_points; i++)
    json_object_object_add(o, app->mount_points[i].path, json_object_new_object());
  return o;
}

static const char *annotation_of(const struct appc_image_manifest *m, const char *name)
{
  for (size_t i = 0; i < m->annotations.len; i++)
    if (strcmp(m->annotations.items[i].name, name) == 0)
      return m->annotations.items[i].value;
  return NULL;
}

/* How many of EXEC's words (from FROM on) the annotation NAME of M, a JSON
 * array of strings, gives in order: 0 when absent, -1 when it is not a
 * beginning of what is left of EXEC. */
static long exec_words(const struct appc_image_manifest *m, const char *name,
                       const struct appc_string_list *exec, size_t from)
{
  const char *text = annotation_of(m, name);
  long n = 0;

  if (text == NULL)
    return 0;
  json_object *a = json_tokener_parse(text);
  if (a == NULL || !json_object_is_type(a, json_type_array) ||
      json_object_array_length(a) > exec->len - from)
    n = -1;
  for (size_t i = 0; n >= 0 && i < json_object_array_length(a); i++, n++) {
    json_object *w = json_object_array_get_idx(a, i);
    if (!json_object_is_type(w, json_type_string) ||
        strcmp(json_object_get_string(w), exec->items[from + i]) != 0)
      n = -1;
  }
  json_object_put(a);
  return n;
}

static json_object *strings_array(const struct appc_string_list *v, size_t from, size_t to)
{
  json_object *a = json_object_new_array();

  for (size_t i = from; i < to; i++)
    json_object_array_add(a, json_object_new_string(v->items[i]));
  return a;
}

long appc_oci_exec_entrypoint(const struct appc_image_manifest *m)
{
  const struct appc_string_list *exec = m->app != NULL ? &m->app->exec : NULL;
  long ep = exec != NULL ? exec_words(m, APPC_OCI_ENTRYPOINT_ANNOTATION, exec, 0) : -1;
  long cmd = ep >= 0 ? exec_words(m, APPC_OCI_CMD_ANNOTATION, exec, (size_t) ep) : -1;

  if (ep < 0 || cmd < 0 || (size_t) (ep + cmd) != exec->len || ep + cmd == 0)
    return -1;
  return ep;
}

/* Entrypoint = the app's exec; split into Entrypoint and Cmd again when
 * docker2aci's annotations of an imported image say how, and still
 * describe exec (a changed exec is exported whole).  No app or no exec:
 * what `actool run` and `image bundle` run then, /sbin/init; an empty
 * Entrypoint without Cmd is an image no OCI runtime runs. */
static void entrypoint_cmd(json_object *c, const struct appc_app *app,
                           const struct appc_image_manifest *m)
{
  long ep = appc_oci_exec_entrypoint(m);

  if (app == NULL || app->exec.len == 0) {
    json_object *a = json_object_new_array();
    json_object_array_add(a, json_object_new_string(ACE_DEFAULT_EXEC));
    json_object_object_add(c, "Entrypoint", a);
    return;
  }
  if (ep < 0) {
    json_object_object_add(c, "Entrypoint", strings_array(&app->exec, 0, app->exec.len));
    return;
  }
  if (ep > 0)
    json_object_object_add(c, "Entrypoint", strings_array(&app->exec, 0, (size_t) ep));
  if ((size_t) ep < app->exec.len)
    json_object_object_add(c, "Cmd", strings_array(&app->exec, (size_t) ep, app->exec.len));
}

static json_object *app_config(const struct appc_app *app, const struct appc_image_manifest *m,
                               const char *user, const struct appc_kv_list *labels)
{
  json_object *c = json_object_new_object(), *env = json_object_new_array();
  bool has_path = false;

  entrypoint_cmd(c, app, m);
  if (app != NULL) {
    if (user != NULL)
      json_object_object_add(c, "User", json_object_new_string(user));
    if (app->working_directory != NULL && app->working_directory[0] != '\0')
      json_object_object_add(c, "WorkingDir", json_object_new_string(app->working_directory));
    for (size_t i = 0; i < app->environment.len; i++) {
      char *kv = NULL;
      has_path = has_path || strcmp(app->environment.items[i].name, "PATH") == 0;
      if (asprintf(&kv, "%s=%s", app->environment.items[i].name, app->environment.items[i].value) >=
          0)
        json_object_array_add(env, json_object_new_string(kv));
      free(kv);
    }
    json_object *ports = exposed_ports(app), *vols = volumes(app);
    if (ports != NULL)
      json_object_object_add(c, "ExposedPorts", ports);
    if (vols != NULL)
      json_object_object_add(c, "Volumes", vols);
  }
  /* the ACE gives an app without a PATH this one */
  if (!has_path)
    json_object_array_add(env, json_object_new_string("PATH=" ACE_PATH));
  json_object_object_add(c, "Env", env);
  /* none: no member, as Go's omitempty (skopeo, umoci, Docker) writes it */
  json_object *l = labels->len > 0 ? json_object_new_object() : NULL;
  for (size_t i = 0; i < labels->len; i++)
    json_object_object_add(l, labels->items[i].name,
                           json_object_new_string(labels->items[i].value));
  if (l != NULL)
    json_object_object_add(c, "Labels", l);
  return c;
}

/* The config's Labels: for an image imported from OCI, those its
 * appc.io/docker/labels recorded, exactly (keys of any characters, values
 * as given, in their order), which the AC Identifiers of its other
 * annotations cannot give back; else the image's labels.
 *
 * Restored, they are all there is: the image's version, os and arch labels
 * were no Labels of the original (os and arch are the config's os and
 * architecture, version the tag), and added they would replace a label
 * "version" the original had.
 *
 * An annotation that is no JSON object of strings, or is larger than a
 * config may be, refuses the export, naming the image and the annotation:
 * falling back to the image's labels would publish other Labels than the
 * image came with, unseen (a log line shows only with --debug), and Labels
 * are what registries and tools act on (org.opencontainers.image.source,
 * licenses); skopeo and umoci, too, refuse metadata they cannot read
 * rather than guess.  Correcting or removing it is the user's call. */
static int choose_labels(struct export *ex, appc_error_t *err)
{
  const char *text = annotation_of(ex->m, OCI_LABELS_ANNOTATION);
  char where[300];

  ex->labels = &ex->m->labels;
  if (text == NULL)
    return 0;
  snprintf(where, sizeof where, "%.200s: annotation %s", ex->m->name, OCI_LABELS_ANNOTATION);
  if (oci_labels_parse(text, where, &ex->restored, err) < 0)
    return -1;
  appc_cb_log(ex->opts->cb, "%s: Labels: the %zu the OCI image had, from %s", ex->m->name,
              ex->restored.len, OCI_LABELS_ANNOTATION);
  ex->labels = &ex->restored;
  return 0;
}

/* appc's os labels OCI has a GOOS for. */
static const char *const oses[] = {"linux", "freebsd", "darwin"};

/* The config's os, architecture and variant, from the image's labels (an
 * image without them: linux and this machine's architecture, as the
 * executor takes it). */
static int choose_platform(struct export *ex, appc_error_t *err)
{
  const char *os = label(ex->m, "os"), *arch = label(ex->m, "arch");
  size_t i;

  ex->os = "linux";
  ex->arch = oci_host_arch();
  ex->variant = NULL;
  if (os != NULL) {
    for (i = 0; i < ARRAY_SIZE(oses) && strcmp(os, oses[i]) != 0; i++)
      ;
    if (i == ARRAY_SIZE(oses))
      return appc_error_make(err, 0,
                             "%s: labels: os \"%.80s\" has no OCI equivalent (OCI knows appc's "
                             "linux, freebsd and darwin)",
                             ex->m->name, os);
    ex->os = oses[i];
  }
  if (arch == NULL)
    return 0;
  const struct oci_arch *a = oci_arch_of_appc(arch);
  if (a == NULL)
    return appc_error_make(err, 0,
                           "%s: labels: arch \"%.80s\" has no OCI equivalent (OCI knows appc's "
                           "amd64, x86_64, i386, aarch64, aarch64_be, armv6l, armv7l, armv7b, "
                           "arm, ppc64, ppc64le and s390x)",
                           ex->m->name, arch);
  ex->arch = a->oci;
  ex->variant = a->variant;
  return 0;
}

/* {"architecture", "os"[, "variant"]} into O: the config's, or an index
 * entry's platform. */
static void add_platform(json_object *o, const struct export *ex)
{
  json_object_object_add(o, "architecture", json_object_new_string(ex->arch));
  json_object_object_add(o, "os", json_object_new_string(ex->os));
  if (ex->variant != NULL)
    json_object_object_add(o, "variant", json_object_new_string(ex->variant));
}

static char *json_text(json_object *o)
{
  const char *t =
      json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  char *s = t != NULL ? strdup(t) : NULL;

  json_object_put(o);
  return s;
}

static int write_config(struct export *ex, appc_error_t *err)
{
  json_object *c = json_object_new_object(), *rootfs = json_object_new_object(),
              *diff_ids = json_object_new_array(), *history = json_object_new_array(),
              *h = json_object_new_object();
  const char *created = annotation_of(ex->m, "created");
  char by[200];

  if (created != NULL)
    json_object_object_add(c, "created", json_object_new_string(created));
  add_platform(c, ex);
  json_object_object_add(c, "config", app_config(ex->m->app, ex->m, ex->user, ex->labels));
  json_object_array_add(diff_ids, json_object_new_string(ex->diff_id));
  json_object_object_add(rootfs, "type", json_object_new_string("layers"));
  json_object_object_add(rootfs, "diff_ids", diff_ids);
  json_object_object_add(c, "rootfs", rootfs);
  snprintf(by, sizeof by, "actool image export %.140s", ex->id);
  /* umoci (0.4.7) stat fails on a history entry without "created"; the
   * epoch, not the time of the export, when the image gives none, so
   * that an export is reproducible */
  json_object_object_add(
      h, "created", json_object_new_string(created != NULL ? created : "1970-01-01T00:00:00Z"));
  json_object_object_add(h, "created_by", json_object_new_string(by));
  json_object_array_add(history, h);
  json_object_object_add(c, "history", history);
  cleanup_free char *text = json_text(c);
  if (text == NULL)
    return appc_error_make(err, ENOMEM, "%s: config", ex->dir);
  ex->config_size = (int64_t) strlen(text);
  return write_blob(ex, text, strlen(text), ex->config, err);
}

static int write_manifest(struct export *ex, appc_error_t *err)
{
  json_object *m = json_object_new_object(), *layers = json_object_new_array(),
              *annotations = json_object_new_object();

  json_object_object_add(m, "schemaVersion", json_object_new_int(2));
  json_object_object_add(m, "mediaType", json_object_new_string(OCI_MANIFEST_V1));
  json_object_object_add(m, "config",
                         oci_descriptor_json(OCI_CONFIG_V1, ex->config, ex->config_size));
  json_object_array_add(layers, oci_descriptor_json(LAYER_GZIP, ex->layer, ex->layer_size));
  json_object_object_add(m, "layers", layers);
  json_object_object_add(annotations, "appc.io/image-id", json_object_new_string(ex->id));
  json_object_object_add(annotations, "appc.io/name", json_object_new_string(ex->m->name));
  json_object_object_add(m, "annotations", annotations);
  cleanup_free char *text = json_text(m);
  if (text == NULL)
    return appc_error_make(err, ENOMEM, "%s: manifest", ex->dir);
  ex->manifest_size = (int64_t) strlen(text);
  return write_blob(ex, text, strlen(text), ex->manifest, err);
}

/* Whether descriptor D of the index is tagged ex->tag. */
static bool tagged_here(const struct export *ex, json_object *d)
{
  json_object *a, *ref;

  return json_object_object_get_ex(d, "annotations", &a) &&
         json_object_object_get_ex(a, "org.opencontainers.image.ref.name", &ref) &&
         oci_json_string(ref) != NULL && strcmp(oci_json_string(ref), ex->tag) == 0;
}

/* The index: what it had, less what the tag named before, and the export
 * under the tag. */
static int write_index(struct export *ex, appc_error_t *err)
{
  json_object *manifests, *list = json_object_new_array();

  if (ex->index != NULL && json_object_object_get_ex(ex->index, "manifests", &manifests)) {
    for (size_t i = 0; i < json_object_array_length(manifests); i++) {
      json_object *d = json_object_array_get_idx(manifests, i);
      if (!tagged_here(ex, d))
        json_object_array_add(list, json_object_get(d));
    }
  }
  if (ex->index == NULL)
    ex->index = json_object_new_object();
  json_object *d = oci_descriptor_json(OCI_MANIFEST_V1, ex->manifest, ex->manifest_size),
              *a = json_object_new_object(), *platform = json_object_new_object();
  add_platform(platform, ex);
  json_object_object_add(d, "platform", platform);
  json_object_object_add(a, "org.opencontainers.image.ref.name", json_object_new_string(ex->tag));
  json_object_object_add(d, "annotations", a);
  json_object_array_add(list, d);
  json_object_object_add(ex->index, "schemaVersion", json_object_new_int(2));
  json_object_object_add(ex->index, "mediaType", json_object_new_string(OCI_INDEX_V1));
  json_object_object_add(ex->index, "manifests", list);
  cleanup_free char *text = json_text(json_object_get(ex->index));
  if (text == NULL)
    return appc_error_make(err, ENOMEM, "%s/index.json", ex->dir);
  if (appc_atomic_write_at(ex->dirfd, "index.json", text, strlen(text), 0644, APPC_WRITE_DURABLE,
                           err) < 0)
    return appc_error_prefix(err, "%s", ex->dir);
  return 0;
}

static int choose_tag(struct export *ex, appc_error_t *err)
{
  const char *tag = ex->opts->tag;

  if (tag == NULL) {
    tag = label(ex->m, "version");
    if (tag == NULL || !oci_tag_ok(tag))
      tag = "latest";
  } else if (!oci_tag_ok(tag)) {
    return appc_error_make(err, 0,
                           "oci:%s:%.200s: a tag is 1 to 128 of [A-Za-z0-9_.-], not starting "
                           "with '.' or '-'",
                           ex->dir, tag);
  }
  snprintf(ex->tag, sizeof ex->tag, "%s", tag);
  return 0;
}

int appc_oci_export_layout(struct appc_store *s, const char *id, const char *dir,
                           const struct appc_oci_export_options *opts,
                           char digest[APPC_OCI_DIGEST_LEN + 1], appc_error_t *err)
{
  static const struct appc_oci_export_options defaults;
  struct export ex = {.s = s, .id = id, .dir = dir, .parentfd = -1, .dirfd = -1, .blobsfd = -1};
  int r = -1;

  if (APPC_ABI_CHECK(opts, appc_oci_export_options, APPC_OCI_EXPORT_OPTIONS_VERSION, err) < 0)
    return -1;
  ex.opts = opts != NULL ? opts : &defaults;
  if (appc_store_check_dest(s, dir, err) == 0 && appc_store_load_manifest(s, id, &ex.m, err) == 0 &&
      choose_tag(&ex, err) == 0 && choose_platform(&ex, err) == 0 && choose_labels(&ex, err) == 0 &&
      open_layout(&ex, err) == 0 && write_layer(&ex, err) == 0 && write_config(&ex, err) == 0 &&
      write_manifest(&ex, err) == 0 && write_index(&ex, err) == 0) {
    memcpy(digest, ex.manifest, APPC_OCI_DIGEST_LEN + 1); /* always sha256 */
    r = 0;
  }
  if (r < 0)
    undo_new_layout(&ex);
  appc_image_manifest_free(ex.m);
  appc_kv_list_clear(&ex.restored);
  free(ex.user);
  json_object_put(ex.index);
  if (ex.blobsfd >= 0)
    close(ex.blobsfd);
  if (ex.dirfd >= 0)
    close(ex.dirfd); /* and the lock with it */
  if (ex.parentfd >= 0)
    close(ex.parentfd);
  return r;
}
