/* SPDX-License-Identifier: Apache-2.0 */
/* --squash: the layers of an image, imported one ACI each, made into one
 * ACI as docker2aci squashes them.  The store's renderer already applies
 * the layers in order with their whitelists (the whiteouts), so the
 * squashed tree is the layered image rendered; it is built into an ACI with
 * the top's manifest, minus what no longer applies (dependencies,
 * pathWhitelist), imported, and the layer images this import added are
 * removed again. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/error.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "oci/internal.h"

/* The top's manifest, standing alone. */
static int squashed_manifest(struct appc_store *s, const char *id, const char *path,
                             appc_error_t *err)
{
  cleanup_free char *json = NULL;
  json_object *m, *annotations, *mark;
  size_t len;
  int r;

  if (appc_store_read_manifest(s, id, &json, &len, err) < 0)
    return -1;
  m = json_tokener_parse(json);
  if (m == NULL || !json_object_is_type(m, json_type_object)) {
    json_object_put(m);
    return appc_error_tag(err, EINVAL, "%s: manifest: not a JSON object", id);
  }
  json_object_object_del(m, "dependencies");
  json_object_object_del(m, "pathWhitelist");
  if (!json_object_object_get_ex(m, "annotations", &annotations)) {
    annotations = json_object_new_array();
    json_object_object_add(m, "annotations", annotations);
  }
  mark = json_object_new_object();
  json_object_object_add(mark, "name", json_object_new_string("appc.io/oci/squashed"));
  json_object_object_add(mark, "value", json_object_new_string("true"));
  json_object_array_add(annotations, mark);
  const char *text =
      json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  r = text != NULL ? appc_atomic_write_at(AT_FDCWD, path, text, strlen(text), 0644, 0, err)
                   : appc_error_make(err, ENOMEM, "%s", path);
  json_object_put(m);
  return r;
}

/* The squash of an image is the same ACI whenever it is made: what was
 * made now, the rootfs directory and the manifest, is dated the epoch. */
static int same_time(const char *path, appc_error_t *err)
{
  const struct timespec epoch[2] = {{0, 0}, {0, 0}};

  if (utimensat(AT_FDCWD, path, epoch, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

/* The squashed ACI of TOP, built in DIR (a private directory of tmp/) and
 * imported; OUT receives its record. */
static int build_and_import(struct appc_store *s, const char *top, const char *dir,
                            const struct appc_callbacks *cb, struct appc_store_image *out,
                            appc_error_t *err)
{
  struct appc_store_render_options ro = {.flags = APPC_STORE_ROOTFS_ONLY, .cb = cb};
  struct appc_build_options bo = {.compression = APPC_COMPRESSION_NONE, .cb = cb};
  struct appc_store_import_options io = {.cb = cb};
  cleanup_free char *layout = NULL;
  cleanup_free char *rootfs = NULL;
  cleanup_free char *manifest = NULL;
  cleanup_free char *aci = NULL;
  char id[APPC_IMAGE_ID_LEN + 1];

  if (asprintf(&layout, "%s/layout", dir) < 0 || asprintf(&rootfs, "%s/rootfs", layout) < 0 ||
      asprintf(&manifest, "%s/manifest", layout) < 0 || asprintf(&aci, "%s/squashed.aci", dir) < 0)
    return appc_error_make(err, ENOMEM, "%s", top);
  if (mkdir(layout, 0755) < 0)
    return appc_error_make(err, errno, "%s", layout);
  appc_cb_log(cb, "squashing %s", top);
  if (appc_store_render(s, top, rootfs, &ro, err) < 0 ||
      squashed_manifest(s, top, manifest, err) < 0 || same_time(rootfs, err) < 0 ||
      same_time(manifest, err) < 0 || appc_aci_build(layout, aci, &bo, id, err) < 0)
    return appc_error_prefix(err, "squash");
  return appc_store_import(s, aci, &io, out, NULL, err);
}

int oci_squash(struct appc_store *s, struct appc_store_image *top, const struct oci_added *added,
               size_t n_added, const struct appc_callbacks *cb, appc_error_t *err)
{
  struct appc_store_image squashed = {0};
  cleanup_free char *dir = NULL;
  cleanup_close int tmp_fd = -1;
  appc_error_t ignored = NULL;
  int r = -1;

  if (appc_store_lock(s, false, err) < 0)
    return -1;
  tmp_fd = appc_store_area_open(s, APPC_STORE_AREA_TMP, true, err);
  if (tmp_fd >= 0 && appc_store_tmpdir(s, "squash", &dir, err) == 0) {
    r = build_and_import(s, top->id, dir, cb, &squashed, err);
    (void) appc_remove_tree(tmp_fd, strrchr(dir, '/') + 1, &ignored);
    appc_error_release(&ignored);
  }
  appc_store_unlock(s);
  if (r < 0)
    return -1;
  /* an image that squashes to itself (one layer, nothing to drop) stays */
  size_t n = n_added;
  while (n > 0 && strcmp(added[n - 1].id, squashed.id) == 0)
    n--;
  oci_remove_added(s, added, n, cb);
  appc_store_image_clear(top);
  *top = squashed;
  return 0;
}
