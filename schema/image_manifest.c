/* SPDX-License-Identifier: Apache-2.0 */
/* ImageManifest: parse, validate, serialise. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "schema/internal.h"
#include "schema/schema.h"
#include "schema/types.h"

/* ---- dependencies */

static void dependency_free_elem(void *elem)
{
  struct appc_dependency *d = elem;
  free(d->image_name);
  free(d->image_id);
  appc_kv_list_clear(&d->labels);
}

/* imageID is a Go pointer: null clears it, anything else must be a hash. */
static int decode_image_id(struct appc_jctx *c, struct json_object *v, void *target)
{
  char **out = target;

  if (v == NULL) {
    free(*out);
    *out = NULL;
    return 0;
  }
  return appc_jdecode_hash(c, v, target);
}

static int decode_dependency(struct appc_jctx *c, struct json_object *v, void *target)
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

static int decode_dependencies(struct appc_jctx *c, struct json_object *v, void *target)
{
  struct appc_image_manifest *m = target;
  return appc_jdecode_array(c, v, (void **) &m->dependencies, &m->n_dependencies,
                            sizeof *m->dependencies, decode_dependency, dependency_free_elem);
}

static struct json_object *dependencies_json(const struct appc_image_manifest *m)
{
  struct json_object *a = json_object_new_array();

  for (size_t i = 0; a != NULL && i < m->n_dependencies; i++) {
    const struct appc_dependency *d = &m->dependencies[i];
    struct json_object *o = json_object_new_object();
    if (o == NULL || appc_jput_string(o, "imageName", d->image_name) < 0 ||
        appc_jput_string(o, "imageID", d->image_id) < 0 ||
        (d->labels.len > 0 && appc_jput(o, "labels", appc_jkv_list(&d->labels)) < 0) ||
        (d->size > 0 && appc_jput(o, "size", json_object_new_uint64(d->size)) < 0) ||
        json_object_array_add(a, o) < 0) {
      json_object_put(o);
      json_object_put(a);
      a = NULL;
    }
  }
  return a;
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

static int decode_manifest(struct appc_jctx *c, struct json_object *root,
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

int appc_image_manifest_parse(const char *json, size_t len, struct appc_image_manifest **out,
                              appc_error_t *err)
{
  cleanup_json struct json_object *root = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  struct appc_jctx c = {.err = err};

  if (appc_json_parse(json, len, &root, err) < 0)
    return -1;
  m = calloc(1, sizeof *m);
  if (m == NULL)
    return appc_error_make(err, ENOMEM, "parsing image manifest");
  if (decode_manifest(&c, root, m) < 0)
    return -1;
  *out = steal_pointer(&m);
  return 0;
}

static struct json_object *manifest_json(const struct appc_image_manifest *m)
{
  struct json_object *o = json_object_new_object();
  int r;

  if (o == NULL)
    return NULL;
  r = appc_jput_string(o, "acKind", m->ac_kind);
  if (r == 0)
    r = appc_jput_string(o, "acVersion", m->ac_version);
  if (r == 0)
    r = appc_jput_string(o, "name", m->name);
  if (r == 0 && m->labels.len > 0)
    r = appc_jput(o, "labels", appc_jkv_list(&m->labels));
  if (r == 0 && m->app != NULL)
    r = appc_jput(o, "app", appc_japp(m->app));
  if (r == 0 && m->annotations.len > 0)
    r = appc_jput(o, "annotations", appc_jkv_list(&m->annotations));
  if (r == 0 && m->n_dependencies > 0)
    r = appc_jput(o, "dependencies", dependencies_json(m));
  if (r == 0 && m->path_whitelist.len > 0)
    r = appc_jput(o, "pathWhitelist", appc_jstring_list(&m->path_whitelist));
  if (r < 0) {
    json_object_put(o);
    return NULL;
  }
  return o;
}

int appc_image_manifest_serialize(const struct appc_image_manifest *m, int flags, char **out,
                                  size_t *out_len, appc_error_t *err)
{
  cleanup_json struct json_object *o = manifest_json(m);

  if (o == NULL)
    return appc_error_make(err, ENOMEM, "serialising image manifest");
  return appc_json_render(o, flags, out, out_len, err);
}
