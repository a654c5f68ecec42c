/* SPDX-License-Identifier: Apache-2.0 */
/* PodManifest: parse, validate, serialise. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/hashmap.h"
#include "schema/internal.h"
#include "appc/isolator.h"
#include "appc/schema.h"
#include "appc/types.h"

static const char *or_empty(const char *s)
{
  return s != NULL ? s : "";
}

/* ---- volumes */

static void volume_clear(void *elem)
{
  struct appc_volume *v = elem;
  free(v->name);
  free(v->kind);
  free(v->source);
  free(v->mode);
  memset(v, 0, sizeof *v);
}

static int decode_tristate(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  enum appc_tristate *t = target;
  bool b = false;

  if (v == NULL) {
    *t = APPC_UNSET; /* null sets a Go *bool to nil */
    return 0;
  }
  if (appc_jdecode_bool(c, v, &b) < 0)
    return -1;
  *t = b ? APPC_TRUE : APPC_FALSE;
  return 0;
}

static int decode_mode(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  char **mode = target;

  free(*mode);
  *mode = NULL;
  return v == NULL ? 0 : appc_jdecode_string(c, v, mode);
}

static int decode_opt_int(struct appc_jctx *c, const struct appc_jnode *v, bool *has, int64_t *val)
{
  *has = false;
  if (v == NULL)
    return 0;
  if (appc_jdecode_int64(c, v, val) < 0)
    return -1;
  *has = true;
  return 0;
}

static int decode_uid(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_volume *vol = target;
  return decode_opt_int(c, v, &vol->has_uid, &vol->uid);
}

static int decode_gid(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_volume *vol = target;
  return decode_opt_int(c, v, &vol->has_gid, &vol->gid);
}

/* Empty volumes get mode 0755 and uid/gid 0 unless given (the reference's
 * maybeSetDefaults), before validation. */
static int volume_defaults(struct appc_jctx *c, struct appc_volume *vol)
{
  char **strings[] = {&vol->kind, &vol->source};

  for (size_t i = 0; i < 2; i++) {
    if (*strings[i] == NULL && appc_jdecode_string(c, NULL, strings[i]) < 0)
      return -1;
  }
  if (strcmp(vol->kind, "empty") != 0)
    return 0;
  if (vol->mode == NULL && (vol->mode = strdup("0755")) == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  if (!vol->has_uid)
    vol->has_uid = true, vol->uid = 0;
  if (!vol->has_gid)
    vol->has_gid = true, vol->gid = 0;
  return 0;
}

static int decode_volume(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acname, offsetof(struct appc_volume, name)},
      {"kind", appc_jdecode_string, offsetof(struct appc_volume, kind)},
      {"source", appc_jdecode_string, offsetof(struct appc_volume, source)},
      {"readOnly", decode_tristate, offsetof(struct appc_volume, read_only)},
      {"recursive", decode_tristate, offsetof(struct appc_volume, recursive)},
      {"mode", decode_mode, offsetof(struct appc_volume, mode)},
      {"uid", decode_uid, 0},
      {"gid", decode_gid, 0},
  };
  struct appc_volume *vol = target;

  /* Every volume starts afresh (Volume.UnmarshalJSON in the reference). */
  volume_clear(vol);
  vol->read_only = vol->recursive = APPC_UNSET;
  if (appc_jdecode_fields(c, v, fields, vol) < 0 || volume_defaults(c, vol) < 0)
    return -1;
  return appc_validate_volume(vol, c->path, c->err);
}

static int decode_volumes(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_pod_manifest *pm = target;
  return appc_jdecode_array(c, v, (void **) &pm->volumes, &pm->n_volumes, sizeof *pm->volumes,
                            decode_volume, volume_clear);
}

static void volume_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_volume *v = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", v->name);
  appc_jw_field_string(w, "kind", v->kind);
  if (v->source != NULL && *v->source != '\0')
    appc_jw_field_string(w, "source", v->source);
  if (v->read_only != APPC_UNSET) {
    appc_jw_key(w, "readOnly");
    appc_jw_bool(w, v->read_only == APPC_TRUE);
  }
  if (v->recursive != APPC_UNSET) {
    appc_jw_key(w, "recursive");
    appc_jw_bool(w, v->recursive == APPC_TRUE);
  }
  appc_jw_field_string(w, "mode", v->mode);
  if (v->has_uid) {
    appc_jw_key(w, "uid");
    appc_jw_int(w, v->uid);
  }
  if (v->has_gid) {
    appc_jw_key(w, "gid");
    appc_jw_int(w, v->gid);
  }
  appc_jw_end_object(w);
}

/* ---- apps */

static void volume_free(struct appc_volume *v)
{
  if (v != NULL)
    volume_clear(v);
  free(v);
}

static void mount_clear(void *elem)
{
  struct appc_mount *m = elem;
  free(m->volume);
  free(m->path);
  volume_free(m->app_volume);
}

static int decode_app_volume(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_volume **out = target;

  if (v == NULL) {
    volume_free(*out);
    *out = NULL;
    return 0;
  }
  if (*out == NULL && (*out = calloc(1, sizeof **out)) == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  return decode_volume(c, v, *out);
}

static int decode_mount(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"volume", appc_jdecode_acname, offsetof(struct appc_mount, volume)},
      {"path", appc_jdecode_string, offsetof(struct appc_mount, path)},
      {"appVolume", decode_app_volume, offsetof(struct appc_mount, app_volume)},
  };
  struct appc_mount *m = target;

  if (appc_jdecode_fields(c, v, fields, m) < 0)
    return -1;
  return m->path == NULL ? appc_jdecode_string(c, NULL, &m->path) : 0;
}

static int decode_mounts(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_runtime_app *ra = target;
  return appc_jdecode_array(c, v, (void **) &ra->mounts, &ra->n_mounts, sizeof *ra->mounts,
                            decode_mount, mount_clear);
}

/* RuntimeImage.Name is a Go pointer: null clears it. */
static int decode_opt_acidentifier(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  char **out = target;

  if (v == NULL) {
    free(*out);
    *out = NULL;
    return 0;
  }
  return appc_jdecode_acidentifier(c, v, target);
}

static int decode_runtime_image(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", decode_opt_acidentifier, offsetof(struct appc_runtime_image, name)},
      {"id", appc_jdecode_hash, offsetof(struct appc_runtime_image, id)},
      {"labels", appc_jdecode_labels, offsetof(struct appc_runtime_image, labels)},
  };
  return appc_jdecode_fields(c, v, fields, target);
}

static void runtime_app_clear(void *elem)
{
  struct appc_runtime_app *ra = elem;
  free(ra->name);
  free(ra->image.name);
  free(ra->image.id);
  appc_kv_list_clear(&ra->image.labels);
  appc_app_free(ra->app);
  appc_jfree_array((void **) &ra->mounts, &ra->n_mounts, sizeof *ra->mounts, mount_clear);
  appc_kv_list_clear(&ra->annotations);
}

static int decode_runtime_app(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acname, offsetof(struct appc_runtime_app, name)},
      {"image", decode_runtime_image, offsetof(struct appc_runtime_app, image)},
      {"app", appc_jdecode_app, offsetof(struct appc_runtime_app, app)},
      {"readOnlyRootFS", appc_jdecode_bool, offsetof(struct appc_runtime_app, read_only_root_fs)},
      {"mounts", decode_mounts, 0},
      {"annotations", appc_jdecode_annotations, offsetof(struct appc_runtime_app, annotations)},
  };
  return appc_jdecode_fields(c, v, fields, target);
}

static const char *app_name_at(const void *list, size_t i)
{
  return or_empty(((const struct appc_runtime_app *) list)[i].name);
}

static const char *volume_name_at(const void *list, size_t i)
{
  return or_empty(((const struct appc_volume *) list)[i].name);
}

static int decode_apps(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_pod_manifest *pm = target;

  if (appc_jdecode_array(c, v, (void **) &pm->apps, &pm->n_apps, sizeof *pm->apps,
                         decode_runtime_app, runtime_app_clear) < 0)
    return -1;
  size_t j;
  ssize_t i = appc_first_repeat(pm->n_apps, app_name_at, pm->apps, &j);
  if (i < 0)
    return appc_jerr(c, "out of memory");
  if ((size_t) i < pm->n_apps) {
    appc_jpath_index(c, (size_t) i);
    return appc_jerr_at(c, "name", "duplicate app name \"%s\" (also apps[%zu])",
                        or_empty(pm->apps[i].name), j);
  }
  return 0;
}

static void mount_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_mount *m = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "volume", m->volume);
  appc_jw_field_string(w, "path", m->path);
  if (m->app_volume != NULL) {
    appc_jw_key(w, "appVolume");
    volume_elem(w, m->app_volume);
  }
  appc_jw_end_object(w);
}

static void runtime_image_write(struct appc_jw *w, const struct appc_runtime_image *ri)
{
  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", ri->name);
  appc_jw_field_string(w, "id", ri->id);
  appc_jw_field_kv_list(w, "labels", &ri->labels);
  appc_jw_end_object(w);
}

static void runtime_app_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_runtime_app *ra = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", ra->name);
  appc_jw_key(w, "image");
  runtime_image_write(w, &ra->image);
  if (ra->app != NULL) {
    appc_jw_key(w, "app");
    appc_jw_app(w, ra->app);
  }
  if (ra->read_only_root_fs) {
    appc_jw_key(w, "readOnlyRootFS");
    appc_jw_bool(w, true);
  }
  appc_jw_field_array(w, "mounts", ra->mounts, ra->n_mounts, sizeof *ra->mounts, mount_elem);
  appc_jw_field_kv_list(w, "annotations", &ra->annotations);
  appc_jw_end_object(w);
}

/* ---- exposed ports */

static void exposed_port_clear(void *elem)
{
  struct appc_exposed_port *p = elem;
  free(p->name);
  free(p->host_ip);
  if (p->pod_port != NULL)
    appc_port_clear(p->pod_port);
  free(p->pod_port);
}

/* hostIP is a Go net.IP: null and "" both mean no address. */
static int decode_host_ip(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  char **out = target;

  if (v != NULL && v->kind != APPC_JSTRING)
    return appc_jerr(c, "expected an IP address string, got %s", appc_jtype_name(v));
  free(*out);
  *out = NULL;
  if (v == NULL || v->len == 0)
    return 0;
  if (appc_validate_ip(v->text, c->err) < 0)
    return appc_jfail(c);
  return appc_jdecode_string(c, v, out);
}

static int decode_pod_port(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_port **out = target;

  if (*out != NULL)
    appc_port_clear(*out);
  if (v == NULL) {
    free(*out);
    *out = NULL;
    return 0;
  }
  if (*out == NULL && (*out = calloc(1, sizeof **out)) == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", c->path);
  return appc_jdecode_port(c, v, *out);
}

static int decode_exposed_port(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  static const struct appc_jfield fields[] = {
      {"name", appc_jdecode_acname, offsetof(struct appc_exposed_port, name)},
      {"hostPort", appc_jdecode_uint64, offsetof(struct appc_exposed_port, host_port)},
      {"hostIP", decode_host_ip, offsetof(struct appc_exposed_port, host_ip)},
      {"podPort", decode_pod_port, offsetof(struct appc_exposed_port, pod_port)},
  };
  return appc_jdecode_fields(c, v, fields, target);
}

static int decode_exposed_ports(struct appc_jctx *c, const struct appc_jnode *v, void *target)
{
  struct appc_pod_manifest *pm = target;
  return appc_jdecode_array(c, v, (void **) &pm->ports, &pm->n_ports, sizeof *pm->ports,
                            decode_exposed_port, exposed_port_clear);
}

static void exposed_port_elem(struct appc_jw *w, const void *elem)
{
  const struct appc_exposed_port *p = elem;

  appc_jw_begin_object(w);
  appc_jw_field_string(w, "name", p->name);
  appc_jw_key(w, "hostPort");
  appc_jw_uint(w, p->host_port);
  appc_jw_field_string(w, "hostIP", p->host_ip);
  if (p->pod_port != NULL) {
    appc_jw_key(w, "podPort");
    appc_jw_port(w, p->pod_port);
  }
  appc_jw_end_object(w);
}

/* ---- the manifest */

void appc_pod_manifest_free(struct appc_pod_manifest *pm)
{
  if (pm == NULL)
    return;
  free(pm->ac_version);
  free(pm->ac_kind);
  appc_jfree_array((void **) &pm->apps, &pm->n_apps, sizeof *pm->apps, runtime_app_clear);
  appc_jfree_array((void **) &pm->volumes, &pm->n_volumes, sizeof *pm->volumes, volume_clear);
  appc_isolator_list_clear(&pm->isolators);
  appc_kv_list_clear(&pm->annotations);
  appc_jfree_array((void **) &pm->ports, &pm->n_ports, sizeof *pm->ports, exposed_port_clear);
  appc_kv_list_clear(&pm->user_annotations);
  appc_kv_list_clear(&pm->user_labels);
  free(pm);
}

static int decode_pod(struct appc_jctx *c, const struct appc_jnode *root,
                      struct appc_pod_manifest *pm)
{
  static const struct appc_jfield fields[] = {
      {"acVersion", appc_jdecode_semver, offsetof(struct appc_pod_manifest, ac_version)},
      {"acKind", appc_jdecode_ackind, offsetof(struct appc_pod_manifest, ac_kind)},
      {"apps", decode_apps, 0},
      {"volumes", decode_volumes, 0},
      {"isolators", appc_jdecode_isolators, offsetof(struct appc_pod_manifest, isolators)},
      {"annotations", appc_jdecode_annotations, offsetof(struct appc_pod_manifest, annotations)},
      {"ports", decode_exposed_ports, 0},
      {"userAnnotations", appc_jdecode_string_map,
       offsetof(struct appc_pod_manifest, user_annotations)},
      {"userLabels", appc_jdecode_string_map, offsetof(struct appc_pod_manifest, user_labels)},
  };

  if (appc_jdecode_fields(c, root, fields, pm) < 0)
    return -1;
  if (pm->ac_kind == NULL || strcmp(pm->ac_kind, "PodManifest") != 0)
    return appc_error_make(c->err, 0, "acKind: must be \"PodManifest\", got \"%s\"",
                           or_empty(pm->ac_kind));
  size_t earlier;
  ssize_t dup = appc_first_repeat(pm->n_volumes, volume_name_at, pm->volumes, &earlier);
  if (dup < 0)
    return appc_error_make(c->err, ENOMEM, "volumes");
  if ((size_t) dup < pm->n_volumes)
    return appc_error_make(c->err, 0, "volumes[%zd].name: duplicate volume name \"%s\"", dup,
                           pm->volumes[dup].name);
  return 0;
}

int appc_pod_manifest_parse_warn(const char *json, size_t len, struct appc_pod_manifest **out,
                                 appc_unknown_key_fn fn, void *data, appc_error_t *err)
{
  cleanup_jtree struct appc_jtree *tree = NULL;
  cleanup_pod_manifest struct appc_pod_manifest *pm = NULL;
  struct appc_jctx c = {.err = err, .unknown = fn, .unknown_data = data};

  if (appc_json_parse(json, len, &tree, err) < 0)
    return -1;
  pm = calloc(1, sizeof *pm);
  if (pm == NULL)
    return appc_error_make(err, ENOMEM, "parsing pod manifest");
  if (decode_pod(&c, tree->root, pm) < 0)
    return -1;
  *out = steal_pointer(&pm);
  return 0;
}

int appc_pod_manifest_parse(const char *json, size_t len, struct appc_pod_manifest **out,
                            appc_error_t *err)
{
  return appc_pod_manifest_parse_warn(json, len, out, NULL, NULL, err);
}

static void write_pod(struct appc_jw *w, const struct appc_pod_manifest *pm)
{
  appc_jw_begin_object(w);
  appc_jw_field_semver(w, "acVersion", pm->ac_version);
  appc_jw_field_string(w, "acKind", pm->ac_kind);
  appc_jw_key(w, "apps");
  appc_jw_array(w, pm->apps, pm->n_apps, sizeof *pm->apps, runtime_app_elem);
  appc_jw_key(w, "volumes");
  appc_jw_array(w, pm->volumes, pm->n_volumes, sizeof *pm->volumes, volume_elem);
  appc_jw_key(w, "isolators");
  appc_jw_isolators(w, &pm->isolators);
  appc_jw_key(w, "annotations");
  appc_jw_kv_list(w, &pm->annotations);
  appc_jw_key(w, "ports");
  appc_jw_array(w, pm->ports, pm->n_ports, sizeof *pm->ports, exposed_port_elem);
  appc_jw_field_string_map(w, "userAnnotations", &pm->user_annotations);
  appc_jw_field_string_map(w, "userLabels", &pm->user_labels);
  appc_jw_end_object(w);
}

int appc_pod_manifest_serialize(const struct appc_pod_manifest *pm, int flags, char **out,
                                size_t *out_len, appc_error_t *err)
{
  struct appc_jw w;

  appc_jw_init(&w, flags);
  write_pod(&w, pm);
  return appc_jw_finish(&w, out, out_len, "serialising pod manifest", err);
}
