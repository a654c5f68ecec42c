/* SPDX-License-Identifier: Apache-2.0 */
/* An OCI image into the store: resolve, read the manifest and the config,
 * then each layer into an ACI, imported as soon as it is made, the one
 * above depending on it by image ID (docs/oci.md). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "appc/aci.h"
#include "common/error.h"
#include "common/kv.h"
#include "common/abi.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "oci/internal.h"

int oci_kv_add(struct appc_kv_list *kv, const char *name, const char *value, appc_error_t *err)
{
  if (value == NULL)
    return 0;
  if (APPC_ARRAY_EXTEND(kv->items, kv->len, 1) < 0)
    return appc_error_make(err, ENOMEM, "labels");
  kv->items[kv->len].name = strdup(name);
  kv->items[kv->len].value = strdup(value);
  kv->len++;
  if (kv->items[kv->len - 1].name == NULL || kv->items[kv->len - 1].value == NULL)
    return appc_error_make(err, ENOMEM, "labels");
  return 0;
}

void appc_oci_port_name(char name[APPC_OCI_PORT_NAME_MAX], unsigned port, const char *proto)
{
  snprintf(name, APPC_OCI_PORT_NAME_MAX, "%u-%.8s", port, proto);
}

/* "volume-" and PATH as an AC Name, as docker2aci names it (rkt's users
 * give the volume of a Docker image by that name). */
char *appc_oci_volume_name(const char *path)
{
  cleanup_free char *n = oci_aci_name(path);
  char *name = NULL;

  for (char *c = n; c != NULL && *c != '\0'; c++)
    if (*c == '/' || *c == '.' || *c == '_')
      *c = '-';
  if (n == NULL || asprintf(&name, "volume%s%s", n[0] != '\0' ? "-" : "", n) < 0)
    return NULL;
  return name;
}

static json_object *strings_json(json_object *a, char **v)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    json_object_array_add(a, json_object_new_string(v[i]));
  return a;
}

/* *OUT: V as the text of a JSON array, NULL when V is empty. */
static int strings_text(char **v, char **out, appc_error_t *err)
{
  *out = NULL;
  if (v == NULL || v[0] == NULL)
    return 0;
  json_object *a = strings_json(json_object_new_array(), v);
  const char *t =
      json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *out = t != NULL ? strdup(t) : NULL;
  json_object_put(a);
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "annotations");
}

/* User "U[:G]" as appc's user and group (Docker's default, root, when
 * empty; group 0 when only a user is given, as Docker does for a uid). */
static void user_group(const char *spec, json_object *app)
{
  const char *colon = spec != NULL ? strchr(spec, ':') : NULL;
  const char *group = colon != NULL && colon[1] != '\0' ? colon + 1 : "0";
  size_t user_len = spec == NULL ? 0 : colon != NULL ? (size_t) (colon - spec) : strlen(spec);

  /* as long as it is: a name cut short would be another user */
  json_object_object_add(app, "user",
                         user_len > 0 ? json_object_new_string_len(spec, (int) user_len)
                                      : json_object_new_string("0"));
  json_object_object_add(app, "group", json_object_new_string(group));
}

bool appc_oci_port_protocol_known(const char *proto)
{
  return strcmp(proto, "tcp") == 0 || strcmp(proto, "udp") == 0 || strcmp(proto, "sctp") == 0;
}

static int ports_json(struct oci_image *img, json_object *app, appc_error_t *err)
{
  json_object *ports = json_object_new_array();

  for (size_t i = 0; img->ports != NULL && img->ports[i] != NULL; i++) {
    const char *spec = img->ports[i], *slash = strchr(spec, '/');
    const char *proto = slash != NULL ? slash + 1 : "tcp";
    size_t digits = strspn(spec, "0123456789");
    unsigned long port = digits > 0 && digits <= 5 ? strtoul(spec, NULL, 10) : 0;
    if (port == 0 || port > 65535 ||
        spec + digits != (slash != NULL ? slash : spec + strlen(spec)) ||
        !appc_oci_port_protocol_known(proto)) {
      json_object_put(ports);
      return appc_error_tag(
          err, EINVAL, "config.ExposedPorts: \"%.40s\": not PORT[/tcp|/udp|/sctp]", img->ports[i]);
    }
    char name[APPC_OCI_PORT_NAME_MAX];
    appc_oci_port_name(name, (unsigned) port, proto);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "name", json_object_new_string(name));
    json_object_object_add(p, "protocol", json_object_new_string(proto));
    json_object_object_add(p, "port", json_object_new_int((int) port));
    json_object_array_add(ports, p);
  }
  json_object_object_add(app, "ports", ports);
  return 0;
}

/* A name given to volumes so far, and how many times. */
struct name_count {
  char *name;
  size_t n;
};

static bool name_count_eq(const void *entry, const void *key)
{
  return strcmp(((const struct name_count *) entry)->name, key) == 0;
}

static void name_count_free(void *entry)
{
  free(((struct name_count *) entry)->name);
}

/* How many earlier volumes NAME was given to, counting this one in
 * (-1: out of memory). */
static ssize_t count_name(struct appc_hashmap *given, const char *name)
{
  bool added;
  struct name_count *c =
      appc_hashmap_insert(given, appc_hash_bytes(name, strlen(name)), name_count_eq, name, &added);

  if (c == NULL || (added && (c->name = strdup(name)) == NULL))
    return -1;
  return (ssize_t) c->n++;
}

/* Whether PATH, absolute, names the root ("/", "//", "/./.."): it gives
 * no volume name, and Docker refuses a volume there too. */
static bool is_root(const char *path)
{
  for (const char *p = path; *p != '\0';) {
    size_t n = strcspn(p, "/");
    if (!(n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')))
      return false;
    p += n;
    p += strspn(p, "/");
  }
  return true;
}

static int mount_json(json_object *mounts, struct appc_hashmap *given, const char *path,
                      appc_error_t *err)
{
  cleanup_free char *name = appc_oci_volume_name(path);

  if (path[0] != '/')
    return appc_error_tag(err, EINVAL, "config.Volumes: \"%.100s\": not an absolute path", path);
  if (name == NULL)
    return appc_error_tag(err, EINVAL, "config.Volumes: \"%.100s\": %s", path,
                          is_root(path) ? "a volume over the whole root file system cannot be one"
                                        : "no volume name can be made of it (no letter or digit)");
  /* Paths that give one name ("/a/b", "/a.b"): the later ones get "-1",
   * "-2"..., as docker2aci numbers them. */
  ssize_t same = count_name(given, name);
  if (same < 0)
    return appc_error_make(err, ENOMEM, "config.Volumes");
  char *numbered = NULL;
  if (same > 0) {
    if (asprintf(&numbered, "%s-%zd", name, same) < 0)
      return appc_error_make(err, ENOMEM, "config.Volumes");
    free(name);
    name = numbered;
  }
  json_object *m = json_object_new_object();
  json_object_object_add(m, "name", json_object_new_string(name));
  json_object_object_add(m, "path", json_object_new_string(path));
  json_object_array_add(mounts, m);
  return 0;
}

static int mounts_json(struct oci_image *img, json_object *app, appc_error_t *err)
{
  json_object *mounts = json_object_new_array();
  struct appc_hashmap given;
  int r = 0;

  appc_hashmap_init(&given, sizeof(struct name_count), 0);
  for (size_t i = 0; r == 0 && img->volumes != NULL && img->volumes[i] != NULL; i++)
    r = mount_json(mounts, &given, img->volumes[i], err);
  appc_hashmap_clear(&given, name_count_free);
  if (r < 0) {
    json_object_put(mounts);
    return -1;
  }
  json_object_object_add(app, "mountPoints", mounts);
  return 0;
}

/* Which entries of ENV ("NAME=VALUE") a later one sets again: *LATER,
 * malloc'ed, one flag an entry.  Found from the end in one pass (a config
 * is the image author's: its Env may be long). */
static int set_later(char **env, size_t n, bool **later, appc_error_t *err)
{
  struct appc_strset seen = {0};
  int r = 0;

  *later = calloc(n + 1, sizeof **later);
  for (size_t i = n; *later != NULL && r >= 0 && i-- > 0;) {
    cleanup_free char *name = strndup(env[i], strcspn(env[i], "="));
    r = name != NULL ? appc_strset_add(&seen, name) : -1;
    (*later)[i] = r == 0;
  }
  appc_strset_clear(&seen);
  if (*later == NULL || r < 0)
    return appc_error_make(err, ENOMEM, "config.Env");
  return 0;
}

/* ENV into the array A: a variable set twice keeps its last value, as
 * runc, Docker and umoci give it (an appc app may name it only once). */
static int env_json(char **env, json_object *a, appc_error_t *err)
{
  size_t n = 0;
  cleanup_free bool *later = NULL;

  while (env != NULL && env[n] != NULL)
    n++;
  if (set_later(env, n, &later, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (later[i])
      continue;
    size_t len = strcspn(env[i], "=");
    json_object *e = json_object_new_object();
    json_object_object_add(e, "name", json_object_new_string_len(env[i], (int) len));
    json_object_object_add(e, "value",
                           json_object_new_string(env[i][len] == '=' ? env[i] + len + 1 : ""));
    json_object_array_add(a, e);
  }
  return 0;
}

/* The app of the top ACI, from the image's config, as JSON text. */
static int app_json(struct oci_image *img, char **out, appc_error_t *err)
{
  json_object *app = json_object_new_object(), *exec = json_object_new_array(),
              *env = json_object_new_array();

  strings_json(strings_json(exec, img->entrypoint), img->cmd);
  if (json_object_array_length(exec) > 0)
    json_object_object_add(app, "exec", exec);
  else
    json_object_put(exec);
  user_group(img->user, app);
  json_object_object_add(app, "environment", env);
  if (img->working_dir != NULL && img->working_dir[0] != '\0')
    json_object_object_add(app, "workingDirectory", json_object_new_string(img->working_dir));
  if (env_json(img->env, env, err) < 0 || ports_json(img, app, err) < 0 ||
      mounts_json(img, app, err) < 0) {
    json_object_put(app);
    return -1;
  }
  const char *text =
      json_object_to_json_string_ext(app, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  *out = text != NULL ? strdup(text) : NULL;
  json_object_put(app);
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "app");
}

const struct appc_oci_import_options *oci_options(const struct appc_oci_import_options *opts,
                                                  appc_error_t *err)
{
  static const struct appc_oci_import_options defaults;

  if (opts == NULL)
    return &defaults;
  if (APPC_ABI_CHECK(opts, appc_oci_import_options, APPC_OCI_IMPORT_OPTIONS_VERSION, err) < 0)
    return NULL;
  return opts;
}

/* ---- the import ---- */

struct conversion {
  struct appc_store *s;
  const struct appc_oci_import_options *opts;
  struct oci_blobs *blobs;
  struct oci_image img;
  char *name;
  struct appc_kv_list labels, layer_labels, annotations;
  struct appc_strset annotation_names; /* of ANNOTATIONS, while they are made */
  char *app;
  struct oci_paths paths;
  int tmp_fd;
  struct oci_added *added; /* images the import added to the store */
  size_t n_added;
  bool no_layers; /* the manifest listed none: its one layer is an empty tar */
  struct oci_expansion expansion;
};

static void conversion_clear(struct conversion *c)
{
  oci_image_clear(&c->img);
  free(c->name);
  appc_kv_list_clear(&c->labels);
  appc_kv_list_clear(&c->layer_labels);
  appc_kv_list_clear(&c->annotations);
  appc_strset_clear(&c->annotation_names);
  free(c->app);
  oci_paths_clear(&c->paths);
  free(c->added);
  if (c->tmp_fd >= 0)
    close(c->tmp_fd);
}

/* An image of no layers (image-spec 1.1 allows "layers": [], as umoci new
 * and buildah from scratch make it; skopeo copies it) is one ACI of an
 * empty rootfs with the config, as its top would be: it is given one
 * layer, an empty tar (two zero blocks), which convert_layer makes up
 * rather than reads. */
#define EMPTY_TAR_SIZE 1024
static int empty_layer(struct conversion *c, appc_error_t *err)
{
  static const char zeros[EMPTY_TAR_SIZE];
  char hex[APPC_DIGEST_HEX_MAX];
  struct oci_descriptor *d;

  if (appc_digest_buffer(APPC_DIGEST_SHA256, zeros, sizeof zeros, hex, err) < 0)
    return -1;
  /* no descriptors, and no diff_ids (oci_config_parse counted them) */
  free(c->img.layers);
  free(c->img.diff_ids);
  c->img.layers = d = calloc(1, sizeof *d);
  c->img.diff_ids = calloc(2, sizeof *c->img.diff_ids);
  if (d == NULL || c->img.diff_ids == NULL ||
      (d->media_type = strdup("application/vnd.oci.image.layer.v1.tar")) == NULL ||
      asprintf(&d->digest, "sha256:%s", hex) < 0 ||
      (c->img.diff_ids[0] = strdup(d->digest)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", c->blobs->where);
  d->size = EMPTY_TAR_SIZE;
  c->img.n_layers = 1;
  c->no_layers = true;
  return 0;
}

/* The empty tar of an image without layers, in the store's tmp/. */
static int empty_tar(struct conversion *c, appc_error_t *err)
{
  static const char zeros[EMPTY_TAR_SIZE];
  int fd = appc_tmpfile_at(c->tmp_fd);

  if (fd < 0 || appc_write_all(fd, zeros, sizeof zeros) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
    appc_error_make(err, errno, "%s: an empty layer", c->blobs->where);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  return fd;
}

static int read_image(struct conversion *c, const struct oci_descriptor *manifest,
                      appc_error_t *err)
{
  cleanup_free char *json = NULL;
  cleanup_free char *config = NULL;
  size_t len;
  char where[300];

  snprintf(where, sizeof where, "%.160s: manifest %.100s", c->blobs->where, manifest->digest);
  if (oci_descriptor_copy(manifest, &c->img.manifest, err) < 0 ||
      c->blobs->read(c->blobs, manifest, &json, &len, err) < 0 ||
      oci_manifest_parse(json, len, where, &c->img, err) < 0)
    return -1;
  snprintf(where, sizeof where, "%.160s: config %.100s", c->blobs->where, c->img.config.digest);
  if (c->blobs->read(c->blobs, &c->img.config, &config, &len, err) < 0 ||
      oci_config_parse(config, len, where, &c->img, err) < 0)
    return -1;
  if (c->img.os != NULL && strcmp(c->img.os, "linux") != 0)
    return appc_error_tag(err, EINVAL, "%s: an image for %s, not linux", where, c->img.os);
  if (c->img.n_layers == 0)
    return empty_layer(c, err);
  return 0;
}

char *appc_oci_label_annotation(const char *key)
{
  char *name = oci_aci_name(key);

  if (name != NULL && strncmp(name, "appc.io/", 8) == 0) {
    free(name);
    return NULL;
  }
  return name;
}

/* Whether VALUE is one appc's annotation NAME may have (a "homepage" an
 * http(s) URL, a "created" an RFC 3339 date: the schema's rules); logged,
 * as WHAT of the config left out (KEPT: where it is kept all the same),
 * when not. */
static bool annotation_value_ok(const struct conversion *c, const char *what, const char *name,
                                const char *value, const char *kept)
{
  struct appc_kv as_annotation = {.name = (char *) name, .value = (char *) value};
  struct appc_kv_list one = {.items = &as_annotation, .len = 1};
  appc_error_t e = NULL;

  if (value == NULL || appc_validate_annotations(&one, "", &e) == 0)
    return true;
  appc_error_rename(e, "[0].value: ", ""); /* the value and what is wrong with it */
  appc_cb_log(c->opts->cb, "%s: %s, as the annotation %s must be; left out%s", what,
              e != NULL ? e->msg : "out of memory", name, kept);
  appc_error_release(&e);
  return false;
}

/* Whether label L's value is one appc's annotation NAME may have. */
static bool label_value_ok(const struct conversion *c, const struct appc_kv *l, const char *name)
{
  cleanup_free char *what = NULL;

  if (asprintf(&what, "config.Labels: \"%.80s\"", l->name) < 0)
    what = NULL;
  return annotation_value_ok(c, what != NULL ? what : "config.Labels", name, l->value,
                             " (" OCI_LABELS_ANNOTATION " keeps it)");
}

/* The config's label L as an annotation (appc_oci_label_annotation); one
 * that gives none, a name taken already, or a value the annotation of that
 * name may not have (the image is imported all the same, as docker2aci
 * imports it) is left out. */
static int label_annotation(struct conversion *c, const struct appc_kv *l, appc_error_t *err)
{
  cleanup_free char *name = appc_oci_label_annotation(l->name);

  if (name != NULL && !appc_strset_contains(&c->annotation_names, name) &&
      !label_value_ok(c, l, name))
    return 0;
  int added = name != NULL ? appc_strset_add(&c->annotation_names, name) : 0;

  if (added < 0)
    return appc_error_make(err, ENOMEM, "config.Labels");
  if (added == 0) {
    appc_cb_log(c->opts->cb, "config.Labels: \"%.80s\": no annotation can be made of it, left out",
                l->name);
    return 0;
  }
  return oci_kv_add(&c->annotations, name, l->value, err);
}

/* IMG's variant: its config's, else that of the index entry that led to
 * it (many configs of arm/v6 images say only "arm"). */
static const char *image_variant(const struct oci_image *img)
{
  if (img->variant != NULL || img->arch == NULL || img->manifest.arch == NULL ||
      strcmp(img->arch, img->manifest.arch) != 0)
    return img->variant;
  return img->manifest.variant;
}

static int describe(struct conversion *c, const struct oci_source *src, appc_error_t *err)
{
  c->name = oci_aci_name(c->opts->name != NULL ? c->opts->name : src->name);
  if (c->name == NULL)
    return appc_error_tag(err, EINVAL, "%s: no image name can be made of it: give one",
                          src->blobs->where);
  const char *arch = oci_appc_arch(c->img.arch, image_variant(&c->img));
  if (oci_kv_add(&c->labels, "version", src->tag, err) < 0 ||
      oci_kv_add(&c->labels, "os", "linux", err) < 0 ||
      oci_kv_add(&c->labels, "arch", arch, err) < 0 ||
      oci_kv_add(&c->layer_labels, "os", "linux", err) < 0 ||
      oci_kv_add(&c->layer_labels, "arch", arch, err) < 0)
    return -1;
  if (oci_kv_add(&c->annotations, "appc.io/oci/manifest", c->img.manifest.digest, err) < 0 ||
      oci_kv_add(&c->annotations, "appc.io/oci/config", c->img.config.digest, err) < 0 ||
      (annotation_value_ok(c, "config.created", "created", c->img.created, "") &&
       oci_kv_add(&c->annotations, "created", c->img.created, err) < 0) ||
      oci_kv_add(&c->annotations, "authors", c->img.author, err) < 0)
    return -1;
  /* Entrypoint and Cmd as they were, JSON arrays, as docker2aci records
   * them: exec is both run together; an export splits them again. */
  cleanup_free char *entrypoint = NULL;
  cleanup_free char *cmd = NULL;
  if (strings_text(c->img.entrypoint, &entrypoint, err) < 0 ||
      strings_text(c->img.cmd, &cmd, err) < 0 ||
      oci_kv_add(&c->annotations, APPC_OCI_ENTRYPOINT_ANNOTATION, entrypoint, err) < 0 ||
      oci_kv_add(&c->annotations, APPC_OCI_CMD_ANNOTATION, cmd, err) < 0)
    return -1;
  /* Labels as they were, keys of any characters: an export restores them
   * (the AC Identifiers below are for appc's users and cannot be undone) */
  cleanup_free char *labels = NULL;
  if (oci_labels_text(&c->img.labels, &labels, err) < 0 ||
      oci_kv_add(&c->annotations, OCI_LABELS_ANNOTATION, labels, err) < 0)
    return -1;
  for (size_t i = 0; src->annotations != NULL && i < src->annotations->len; i++)
    if (oci_kv_add(&c->annotations, src->annotations->items[i].name,
                   src->annotations->items[i].value, err) < 0)
      return -1;
  /* the names taken so far, then each label's */
  for (size_t i = 0; i < c->annotations.len; i++)
    if (appc_strset_add(&c->annotation_names, c->annotations.items[i].name) < 0)
      return appc_error_make(err, ENOMEM, "annotations");
  for (size_t i = 0; i < c->img.labels.len; i++)
    if (label_annotation(c, &c->img.labels.items[i], err) < 0)
      return -1;
  if (app_json(&c->img, &c->app, err) < 0)
    return appc_error_prefix(err, "%.160s: config %.100s", c->blobs->where, c->img.config.digest);
  return 0;
}

/* What a layer became: an unnamed ACI in the store's tmp/, or (fd -1) an
 * image the store had. */
struct made {
  int fd;
  char *name;
  char id[APPC_IMAGE_ID_LEN + 1];
  struct appc_kv_list annotations; /* appc.io/oci/diff-id */
};

/* ---- layers the store has ---- */

/* The reused layers whose entries the paths still lack (oci_paths.fill). */
struct reused {
  struct appc_store *s;
  char (*ids)[APPC_IMAGE_ID_LEN + 1];
  size_t n;
};

static int fill_paths(struct oci_paths *p, void *data, appc_error_t *err)
{
  struct reused *r = data;

  for (size_t i = 0; i < r->n; i++) {
    cleanup_close int fd = appc_store_open_blob(r->s, r->ids[i], err);
    if (fd < 0 || oci_paths_add_aci(p, fd, r->ids[i], err) < 0)
      return -1;
  }
  return 0;
}

/* Whether the stored image M is layer I made on MADE[I - 1]: named so,
 * of the same diff_id, depending on exactly that image. */
static bool same_layer(const struct conversion *c, size_t i, const struct made *made,
                       const struct appc_image_manifest *m)
{
  const char *diff_id = appc_kv_get(&m->annotations, "appc.io/oci/diff-id");

  if (diff_id == NULL || strcmp(diff_id, c->img.diff_ids[i]) != 0)
    return false;
  if (i == 0)
    return m->n_dependencies == 0;
  return m->n_dependencies == 1 && m->dependencies[0].image_id != NULL &&
         strcmp(m->dependencies[0].image_id, made[i - 1].id) == 0;
}

/* The paths after a reused layer: its whitelist when it has one (the
 * layers below are then all accounted for), else its entries, listed
 * when a whiteout above first needs them. */
static int take_paths(struct conversion *c, const struct appc_image_manifest *m, const char *id,
                      struct reused *r, appc_error_t *err)
{
  if (m->path_whitelist.len > 0) {
    oci_paths_clear(&c->paths);
    r->n = 0;
    for (size_t k = 0; k < m->path_whitelist.len; k++) {
      if (strcmp(m->path_whitelist.items[k], "/") == 0)
        continue; /* the rootfs alone: all was whited out */
      char *p = strdup(m->path_whitelist.items[k] + (m->path_whitelist.items[k][0] == '/'));
      if (p == NULL || APPC_ARRAY_RESERVE(c->paths.v, c->paths.cap, c->paths.n + 1) < 0) {
        free(p);
        return appc_error_make(err, ENOMEM, "%s", id);
      }
      c->paths.v[c->paths.n++] = p;
    }
    c->paths.whited_out = true;
    return 0;
  }
  if (APPC_ARRAY_EXTEND(r->ids, r->n, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", id);
  memcpy(r->ids[r->n++], id, APPC_IMAGE_ID_LEN + 1);
  c->paths.fill = fill_paths;
  c->paths.fill_data = r;
  return 0;
}

/* What names layer I made on MADE[I - 1] in the store's records. */
#define LAYER_PARTS 4
static void layer_parts(const struct conversion *c, size_t i, const struct made *made,
                        const char *parts[LAYER_PARTS])
{
  parts[0] = made[i].name;
  parts[1] = c->img.diff_ids[i];
  parts[2] = i > 0 ? made[i - 1].id : "";
  parts[3] = appc_kv_get(&c->layer_labels, "arch");
}

/* Whether layer I is in the store already, made by an import from the
 * same layers below: then it is neither downloaded nor converted again. */
static bool reuse_layer(struct conversion *c, size_t i, struct made *made, struct reused *r)
{
  struct appc_image_manifest *m = NULL;
  char id[APPC_IMAGE_ID_LEN + 1];
  appc_error_t e = NULL;
  bool found = false;

  const char *parts[LAYER_PARTS];
  layer_parts(c, i, made, parts);
  /* Claimed, so that an import that added it and is removing it again
   * (a squash, or a failure) keeps it; one removed already is made anew. */
  if (oci_record_get(c->s, "layer", parts, LAYER_PARTS, id) &&
      appc_store_load_manifest(c->s, id, &m, &e) == 0 && same_layer(c, i, made, m) &&
      appc_store_claim(c->s, id, NULL, &e) == 0 && take_paths(c, m, id, r, &e) == 0) {
    memcpy(made[i].id, id, sizeof made[i].id);
    appc_cb_log(c->opts->cb, "layer %zu of %zu: %s, in the store as %s", i + 1, c->img.n_layers,
                c->img.layers[i].digest, id);
    found = true;
  }
  appc_error_release(&e);
  appc_image_manifest_free(m);
  return found;
}

/* Layer I into an ACI (MADE[I]) on top of MADE[I - 1]; nothing is imported
 * yet, so that a layer refused leaves nothing of the image in the store. */
static int layer_name(struct conversion *c, size_t i, struct made *made, appc_error_t *err)
{
  bool top = i + 1 == c->img.n_layers;
  char *name = NULL;

  if (top)
    name = strdup(c->name);
  /* by its diff_id: the same layer has the same name whether it came
   * compressed (a registry, a layout) or not (docker save) */
  else if (asprintf(&name, "%s-layer-%.12s", c->name, strchr(c->img.diff_ids[i], ':') + 1) < 0)
    name = NULL;
  if ((made[i].name = name) == NULL)
    return appc_error_make(err, ENOMEM, "%s", c->img.layers[i].digest);
  if (!top && oci_kv_add(&made[i].annotations, "appc.io/oci/diff-id", c->img.diff_ids[i], err) < 0)
    return -1;
  return 0;
}

static int convert_layer(struct conversion *c, size_t i, struct made *made, appc_error_t *err)
{
  const struct oci_descriptor *d = &c->img.layers[i];
  bool top = i + 1 == c->img.n_layers;

  struct oci_layer_aci a = {
      .name = made[i].name,
      .labels = top ? &c->labels : &c->layer_labels,
      .annotations = top ? &c->annotations : &made[i].annotations,
      .app_json = top ? c->app : NULL,
      .dep_name = i > 0 ? made[i - 1].name : NULL,
      .dep_id = i > 0 ? made[i - 1].id : NULL,
      .tmp_dirfd = c->tmp_fd,
      .expansion = &c->expansion,
  };
  cleanup_close int fd = c->no_layers ? empty_tar(c, err) : c->blobs->open(c->blobs, d, err);
  if (fd < 0)
    return -1;
  appc_cb_log(c->opts->cb, "layer %zu of %zu: %s", i + 1, c->img.n_layers, d->digest);
  if (oci_layer_convert(fd, d, c->img.diff_ids[i], &a, &c->paths, &made[i].fd, made[i].id,
                        c->opts->cb, err) < 0)
    return appc_error_prefix(err, "%s", c->blobs->where);
  return 0;
}

static int import_made(struct conversion *c, const struct made *m, struct appc_store_image *out,
                       appc_error_t *err)
{
  struct appc_store_import_options io = {.cb = c->opts->cb};
  cleanup_source struct appc_source *src = NULL;
  bool already = false;

  if (appc_source_open_fd(&src, m->fd, m->name, err) < 0 ||
      appc_store_import_source(c->s, src, &io, out, &already, err) < 0)
    return -1;
  /* what a squash removes again: only what this import added */
  if (!already) {
    if (APPC_ARRAY_EXTEND(c->added, c->n_added, 1) < 0)
      return appc_error_make(err, ENOMEM, "%s", m->name);
    memcpy(c->added[c->n_added].id, out->id, APPC_IMAGE_ID_LEN + 1);
    c->added[c->n_added++].imported = out->import_time;
  }
  return 0;
}

/* Layer I, converted and imported, is there for the next import to reuse;
 * a record that cannot be written costs that import a conversion, no
 * more. */
static void note_layer(struct conversion *c, size_t i, const struct made *made)
{
  const char *parts[LAYER_PARTS];
  appc_error_t e = NULL;

  layer_parts(c, i, made, parts);
  if (oci_record_put(c->s, "layer", parts, LAYER_PARTS, made[i].id, &e) < 0) {
    appc_cb_log(c->opts->cb, "%s: %s", c->img.layers[i].digest, e->msg);
    appc_error_release(&e);
  }
}

static int convert_and_import(struct conversion *c, struct appc_store_image *out, appc_error_t *err)
{
  struct made *made = calloc(c->img.n_layers, sizeof *made);
  struct reused reused = {.s = c->s};
  bool reusing = !c->opts->refresh;
  int r = 0;

  if (made == NULL)
    return appc_error_make(err, ENOMEM, "%s", c->blobs->where);
  for (size_t i = 0; i < c->img.n_layers; i++)
    made[i].fd = -1;
  for (size_t i = 0; r == 0 && i < c->img.n_layers; i++) {
    r = layer_name(c, i, made, err);
    /* the layers below the top, bottom up, as long as the store has them */
    reusing = reusing && i + 1 < c->img.n_layers;
    if (r == 0 && !(reusing = reusing && reuse_layer(c, i, made, &reused)))
      r = convert_layer(c, i, made, err);
  }
  /* Bottom first: an image is in the store only once its dependency is. */
  for (size_t i = 0; r == 0 && i < c->img.n_layers; i++) {
    struct appc_store_image img = {0};
    if (made[i].fd < 0)
      continue; /* reused */
    /* (a rule of the store's that the conversion does not check) */
    if ((r = import_made(c, &made[i], &img, err)) < 0)
      appc_error_prefix(err, "%s: %s", c->blobs->where, c->img.layers[i].digest);
    if (r == 0 && i + 1 < c->img.n_layers)
      note_layer(c, i, made);
    if (r == 0 && i + 1 == c->img.n_layers)
      *out = img;
    else
      appc_store_image_clear(&img);
  }
  for (size_t i = 0; i < c->img.n_layers; i++) {
    if (made[i].fd >= 0)
      close(made[i].fd);
    free(made[i].name);
    appc_kv_list_clear(&made[i].annotations);
  }
  free(made);
  free(reused.ids);
  c->paths.fill = NULL;
  return r;
}

void oci_remove_added(struct appc_store *s, const struct oci_added *added, size_t n,
                      const struct appc_callbacks *cb)
{
  for (size_t i = n; i-- > 0;) {
    appc_error_t e = NULL;
    bool kept = false;
    appc_store_remove_unclaimed(s, added[i].id, &added[i].imported, &kept, &e);
    appc_store_log_unremoved(cb, added[i].id, kept, &e);
  }
}

/* Whether image ID's dependencies are all in the store, down the chain. */
static bool chain_complete(struct appc_store *s, const char *id)
{
  char cur[APPC_IMAGE_ID_LEN + 1];
  bool complete = false;

  snprintf(cur, sizeof cur, "%s", id);
  for (int depth = 0; depth <= OCI_MAX_LAYERS; depth++) {
    struct appc_image_manifest *m = NULL;
    appc_error_t e = NULL;
    if (appc_store_load_manifest(s, cur, &m, &e) < 0) {
      appc_error_release(&e);
      break;
    }
    complete = m->n_dependencies == 0;
    bool next = m->n_dependencies == 1 && m->dependencies[0].image_id != NULL;
    if (next)
      snprintf(cur, sizeof cur, "%s", m->dependencies[0].image_id);
    appc_image_manifest_free(m);
    if (!next)
      break;
  }
  return complete;
}

/* What names a pull in the store's records (NAME an ACI name). */
#define PULL_PARTS 5
static void pull_parts(const char *parts[PULL_PARTS], const char *name, const char *tag,
                       const char *arch, const char *digest, bool squashed)
{
  parts[0] = name;
  parts[1] = tag;
  /* "arm/v6" and "arm/v7" are two pulls; "arm" and "arm/v7" one */
  parts[2] = oci_appc_arch_of(arch != NULL ? arch : oci_host_arch());
  parts[3] = digest;
  parts[4] = squashed ? "squashed" : "";
}

int oci_note_imported(struct appc_store *s, const char *name, const char *tag, const char *arch,
                      const char *digest, bool squashed, const char *id, appc_error_t *err)
{
  cleanup_free char *aci_name = oci_aci_name(name);

  if (aci_name == NULL)
    return appc_error_tag(err, EINVAL, "%s: no image name can be made of it", name);
  const char *parts[PULL_PARTS];
  pull_parts(parts, aci_name, tag, arch, digest, squashed);
  return oci_record_put(s, "pull", parts, PULL_PARTS, id, err);
}

int oci_find_imported(struct appc_store *s, const char *name, const char *tag, const char *arch,
                      const char *digest, bool squashed, struct appc_store_image *out)
{
  cleanup_free char *aci_name = oci_aci_name(name);
  char id[APPC_IMAGE_ID_LEN + 1];
  appc_error_t e = NULL;
  bool found = false;

  memset(out, 0, sizeof *out);
  const char *parts[PULL_PARTS];
  pull_parts(parts, aci_name, tag, arch, digest, squashed);
  if (aci_name != NULL && oci_record_get(s, "pull", parts, PULL_PARTS, id) && chain_complete(s, id))
    found = appc_store_lookup(s, id, out, &e) == 0;
  appc_error_release(&e);
  if (!found)
    appc_store_image_clear(out);
  return found;
}

/* The bytes IMG's layers came in, each distinct blob once (a manifest may
 * list one many times: struct oci_expansion). */
static int distinct_layer_bytes(const struct oci_image *img, unsigned long long *out,
                                appc_error_t *err)
{
  struct appc_strset seen = {0};
  int r = 0;

  *out = 0;
  for (size_t i = 0; r == 0 && i < img->n_layers; i++) {
    int added = appc_strset_add(&seen, img->layers[i].digest);
    if (added < 0)
      r = appc_error_make(err, ENOMEM, "%s", img->manifest.digest);
    else if (added > 0 &&
             __builtin_add_overflow(*out, (unsigned long long) img->layers[i].size, out))
      *out = ULLONG_MAX;
  }
  appc_strset_clear(&seen);
  return r;
}

int oci_import(struct appc_store *s, const struct oci_source *src,
               const struct appc_oci_import_options *opts, struct appc_store_image *out,
               appc_error_t *err)
{
  struct conversion c = {.s = s, .opts = opts, .blobs = src->blobs, .tmp_fd = -1};
  int r = -1;

  memset(out, 0, sizeof *out);
  c.expansion.packed = src->packed;
  if (read_image(&c, src->manifest, err) == 0 && describe(&c, src, err) == 0 &&
      (src->packed != 0 || distinct_layer_bytes(&c.img, &c.expansion.packed, err) == 0) &&
      (c.tmp_fd = appc_store_area_open(s, APPC_STORE_AREA_TMP, true, err)) >= 0)
    r = convert_and_import(&c, out, err);
  if (r == 0 && opts->squash) {
    r = oci_squash(s, out, c.added, c.n_added, opts->cb, err);
  }
  /* Nothing half imported: a layer refused by the store (a rule the
   * conversion does not check), or a squash that failed, takes the images
   * this import added below it away again. */
  if (r < 0) {
    oci_remove_added(s, c.added, c.n_added, opts->cb);
    appc_store_image_clear(out);
  }
  conversion_clear(&c);
  return r;
}

int appc_oci_import_layout(struct appc_store *s, const char *dir, const char *ref,
                           const struct appc_oci_import_options *opts, struct appc_store_image *out,
                           appc_error_t *err)
{
  return oci_import_layout(s, dir, ref, 0, opts, out, err);
}

int oci_import_layout(struct appc_store *s, const char *dir, const char *ref,
                      unsigned long long packed, const struct appc_oci_import_options *opts,
                      struct appc_store_image *out, appc_error_t *err)
{
  struct oci_layout layout = {.dirfd = -1};
  struct oci_descriptor manifest = {0};
  cleanup_free char *copy = strdup(dir);
  int r = -1;

  memset(out, 0, sizeof *out);
  if ((opts = oci_options(opts, err)) == NULL)
    return -1;
  if (copy == NULL)
    return appc_error_make(err, ENOMEM, "%s", dir);
  if (oci_layout_open(&layout, dir, err) == 0 &&
      oci_layout_resolve(&layout, ref, opts->os, opts->arch, &manifest, err) == 0) {
    struct oci_source src = {
        .blobs = &layout.blobs,
        .manifest = &manifest,
        .name = basename(copy),
        .tag = ref != NULL ? ref : manifest.ref_name,
        .packed = packed,
    };
    r = oci_import(s, &src, opts, out, err);
  }
  oci_descriptor_clear(&manifest);
  oci_layout_close(&layout);
  return r;
}

int appc_oci_layout_ref_split(const char *arg, char **dir, char **ref, appc_error_t *err)
{
  const char *colon = strrchr(arg, ':');
  struct stat st;

  *dir = *ref = NULL;
  /* DIR itself may hold a ':'; what exists wins.  "DIR:" is DIR with no
   * REF, as skopeo (containers/image's oci transport) reads it. */
  if (colon == NULL || strchr(colon, '/') != NULL || (stat(arg, &st) == 0 && S_ISDIR(st.st_mode)))
    *dir = strdup(arg);
  else {
    *dir = strndup(arg, (size_t) (colon - arg));
    if (colon[1] != '\0' && (*ref = strdup(colon + 1)) == NULL)
      goto oom;
  }
  if (*dir == NULL)
    goto oom;
  if (**dir == '\0') {
    free(*dir);
    free(*ref);
    *dir = *ref = NULL;
    return appc_error_tag(err, EINVAL, "oci:%s: no directory", arg);
  }
  return 0;
oom:
  free(*dir);
  free(*ref);
  *dir = *ref = NULL;
  return appc_error_make(err, ENOMEM, "%s", arg);
}
