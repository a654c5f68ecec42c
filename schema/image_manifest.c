/* SPDX-License-Identifier: Apache-2.0 */
/* ImageManifest: parse, validate, serialise. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "schema/internal.h"
#include "appc/schema.h"
#include "appc/types.h"

/* ---- dependencies */

static void dependency_free_elem(void *elem)
{
  struct appc_dependency *d = elem;
  free(d->image_name);
  free(d->image_id);
  appc_kv_list_clear(&d->labels);
}

/* imageID is a Go pointer: null clears it, anything else must be a hash. */
static int decode_image_id(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  char **out = target;

  if (v == NULL) {
    free(*out);
    *out = NULL;
    return 0;
  }
  return appc_jdecode_hash(c, v, target);
}

static int decode_dependency(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"imageName", appc_jdecode_acidentifier, offsetof(struct appc_dependency, image_name)},
      {"imageID", decode_image_id, offsetof(struct appc_dependency, image_id)},
      {"labels", appc_jdecode_labels, offsetof(struct appc_dependency, labels)},
      {"size", appc_jdecode_uint64, offsetof(struct appc_dependency, size)},
  };
  struct appc_dependency *d = target;

  if (appc_jdecode_fields(c, v, fields, d) < 0)
    return -1;
  if (d->image_name == NULL)
    return appc_jerr_at(c, "imageName", "must be set");
  return 0;
}

static int decode_dependencies(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_image_manifest *m = target;
  return appc_jdecode_array(c, v, (void **) &m->dependencies, &m->n_dependencies,
                            sizeof *m->dependencies, decode_dependency, dependency_free_elem);
}

static void dependency_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_dependency *d = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "imageName", d->image_name);
  appc_jw_field_string(w, "imageID", d->image_id);
  appc_jw_field_kv_list(w, "labels", &d->labels);
  if (d->size > 0) {
    appc_jw_key(w, "size");
    appc_jw_uint(w, d->size);
  }
  appc_jw_end_object(w);
}

/* ---- the manifest */

void appc_image_manifest_free(struct appc_image_manifest *m)
{
  if (m == NULL)
    return;
  free(m->ac_kind);
  free(m->ac_version);
  free(m->name);
  appc_kv_list_clear(&m->labels);
  appc_app_free(m->app);
  appc_kv_list_clear(&m->annotations);
  appc_jfree_array((void **) &m->dependencies, &m->n_dependencies, sizeof *m->dependencies,
                   dependency_free_elem);
  appc_string_list_clear(&m->path_whitelist);
  free(m);
}

static int decode_manifest(struct appc_jctx *c, const struct appc_jnode *root,
                           struct appc_image_manifest *m)
{
  static const struct appc_jfield fields[] = {
      {"acKind", appc_jdecode_ackind, offsetof(struct appc_image_manifest, ac_kind)},
      {"acVersion", appc_jdecode_semver, offsetof(struct appc_image_manifest, ac_version)},
      {"name", appc_jdecode_acidentifier, offsetof(struct appc_image_manifest, name)},
      {"labels", appc_jdecode_labels, offsetof(struct appc_image_manifest, labels)},
      {"app", appc_jdecode_app, offsetof(struct appc_image_manifest, app)},
      {"annotations", appc_jdecode_annotations, offsetof(struct appc_image_manifest, annotations)},
      {"dependencies", decode_dependencies, 0},
      {"pathWhitelist", appc_jdecode_string_list,
       offsetof(struct appc_image_manifest, path_whitelist)},
  };

  if (appc_jdecode_fields(c, root, fields, m) < 0)
    return -1;
  if (m->ac_kind == NULL || strcmp(m->ac_kind, "ImageManifest") != 0)
    return appc_error_make(c->err, 0, "acKind: must be \"ImageManifest\", got \"%s\"",
                           m->ac_kind != NULL ? m->ac_kind : "");
  if (m->ac_version == NULL)
    return appc_error_make(c->err, 0, "acVersion: must be set");
  if (m->name == NULL)
    return appc_error_make(c->err, 0, "name: must be set");
  return 0;
}

int appc_image_manifest_parse_warn(const char *json, size_t len, struct appc_image_manifest **out,
                                   appc_unknown_key_fn fn, void *data, appc_error_t *err)
{
  cleanup_jtree struct appc_jtree *tree = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  struct appc_jctx c = {.err = err, .unknown = fn, .unknown_data = data};

  if (appc_json_parse(json, len, &tree, err) < 0)
    return -1;
  m = calloc(1, sizeof *m);
  if (m == NULL)
    return appc_error_make(err, ENOMEM, "parsing image manifest");
  if (decode_manifest(&c, tree->root, m) < 0)
    return -1;
  *out = steal_pointer(&m);
  return 0;
}

int appc_image_manifest_parse(const char *json, size_t len, struct appc_image_manifest **out,
                              appc_error_t *err)
{
  return appc_image_manifest_parse_warn(json, len, out, NULL, NULL, err);
}

static void write_manifest(struct appc_jw *w, const struct appc_image_manifest *m)
{
  appc_jw_begin_object(w);
  appc_jw_field_string(w, "acKind", m->ac_kind);
  appc_jw_field_semver(w, "acVersion", m->ac_version);
  appc_jw_field_string(w, "name", m->name);
  appc_jw_field_kv_list(w, "labels", &m->labels);
  if (m->app != NULL) {
    appc_jw_key(w, "app");
    appc_jw_app(w, m->app);
  }
  appc_jw_field_kv_list(w, "annotations", &m->annotations);
  appc_jw_field_array(w, "dependencies", m->dependencies, m->n_dependencies,
                      sizeof *m->dependencies, dependency_elem);
  if (m->path_whitelist.len > 0) {
    appc_jw_key(w, "pathWhitelist");
    appc_jw_string_list(w, &m->path_whitelist);
  }
  appc_jw_end_object(w);
}

static int kv_names(const struct appc_kv_list *l, const char *path, appc_error_t *err)
{
  for (size_t i = 0; i < l->len; i++)
    if (l->items[i].name == NULL)
      return appc_error_make(err, 0, "%s[%zu].name: must be set (an AC Identifier)", path, i);
  return 0;
}

int appc_image_manifest_check_names(const struct appc_image_manifest *m, appc_error_t *err)
{
  const struct appc_app *app = m->app;
  char path[64];

  if (kv_names(&m->labels, "labels", err) < 0 || kv_names(&m->annotations, "annotations", err) < 0)
    return -1;
  for (size_t i = 0; i < m->n_dependencies; i++) {
    snprintf(path, sizeof path, "dependencies[%zu].labels", i);
    if (kv_names(&m->dependencies[i].labels, path, err) < 0)
      return -1;
  }
  for (size_t i = 0; app != NULL && i < app->n_mount_points; i++)
    if (app->mount_points[i].name == NULL)
      return appc_error_make(err, 0, "app.mountPoints[%zu].name: must be set (an AC Name)", i);
  for (size_t i = 0; app != NULL && i < app->n_ports; i++)
    if (app->ports[i].name == NULL)
      return appc_error_make(err, 0, "app.ports[%zu].name: must be set (an AC Name)", i);
  return 0;
}

int appc_image_manifest_serialize(const struct appc_image_manifest *m, int flags, char **out,
                                  size_t *out_len, appc_error_t *err)
{
  struct appc_jw w;

  if (appc_image_manifest_check_names(m, err) < 0)
    return -1;
  appc_jw_init(&w, flags);
  write_manifest(&w, m);
  return appc_jw_finish(&w, out, out_len, "serialising image manifest", err);
}
