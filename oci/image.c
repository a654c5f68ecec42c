/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing OCI image indexes, manifests and configs (and Docker's schema 2,
 * their ancestor) with json-c.  Every document comes from whoever made the
 * image: each field is checked for its type, and errors name the document
 * and the field ("DIGEST: layers[2].digest: not a string"). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "common/arch.h"
#include "common/array.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "oci/internal.h"

void oci_descriptor_clear(struct oci_descriptor *d)
{
  free(d->media_type);
  free(d->digest);
  free(d->ref_name);
  free(d->os);
  free(d->arch);
  free(d->variant);
  memset(d, 0, sizeof *d);
}

static void strv_free(char **v)
{
  for (size_t i = 0; v != NULL && v[i] != NULL; i++)
    free(v[i]);
  free(v);
}

void oci_image_clear(struct oci_image *img)
{
  oci_descriptor_clear(&img->manifest);
  oci_descriptor_clear(&img->config);
  for (size_t i = 0; i < img->n_layers; i++)
    oci_descriptor_clear(&img->layers[i]);
  free(img->layers);
  strv_free(img->diff_ids);
  free(img->os);
  free(img->arch);
  free(img->variant);
  free(img->user);
  free(img->working_dir);
  strv_free(img->entrypoint);
  strv_free(img->cmd);
  strv_free(img->env);
  strv_free(img->ports);
  strv_free(img->volumes);
  appc_kv_list_clear(&img->labels);
  free(img->created);
  free(img->author);
  memset(img, 0, sizeof *img);
}

static void json_putp(json_object **o)
{
  if (*o != NULL)
    json_object_put(*o);
}
#define cleanup_json __attribute__((cleanup(json_putp)))

/* Parse LEN bytes of JSON, which must be an object. */
static int parse_object(const char *json, size_t len, const char *where, json_object **out,
                        appc_error_t *err)
{
  json_tokener *tok = json_tokener_new_ex(64);
  json_object *o;

  if (tok == NULL)
    return appc_error_make(err, ENOMEM, "%s", where);
  json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
  o = json_tokener_parse_ex(tok, json, (int) len);
  enum json_tokener_error e = json_tokener_get_error(tok);
  size_t used = json_tokener_get_parse_end(tok);
  json_tokener_free(tok);
  if (o == NULL || e != json_tokener_success) {
    json_object_put(o);
    return appc_error_tag(err, EINVAL, "%s: not JSON: %s", where,
                          e == json_tokener_continue ? "truncated" : json_tokener_error_desc(e));
  }
  for (; used < len; used++)
    if (json[used] != ' ' && json[used] != '\n' && json[used] != '\r' && json[used] != '\t') {
      json_object_put(o);
      return appc_error_tag(err, EINVAL, "%s: text after the JSON document", where);
    }
  if (!json_object_is_type(o, json_type_object)) {
    json_object_put(o);
    return appc_error_tag(err, EINVAL, "%s: not a JSON object", where);
  }
  *out = o;
  return 0;
}

/* Member KEY of O: NULL when absent or null; an error when present with
 * another type than TYPE. */
static int member(json_object *o, const char *key, json_type type, const char *where,
                  json_object **out, appc_error_t *err)
{
  json_object *v = NULL;

  *out = NULL;
  if (!json_object_object_get_ex(o, key, &v) || v == NULL)
    return 0;
  if (!json_object_is_type(v, type))
    return appc_error_tag(err, EINVAL, "%s.%s: not %s", where, key,
                          type == json_type_string   ? "a string"
                          : type == json_type_array  ? "an array"
                          : type == json_type_object ? "an object"
                                                     : "a number");
  *out = v;
  return 0;
}

/* A string member, copied (NULL when absent unless REQUIRED). */
/* Whether the JSON string S holds a "\u0000": as a C string it would end
 * there, silently shorter. */
static bool holds_nul(json_object *s)
{
  return memchr(json_object_get_string(s), '\0', (size_t) json_object_get_string_len(s)) != NULL;
}

const char *oci_json_string(const void *obj)
{
  json_object *v = (json_object *) obj;

  if (!json_object_is_type(v, json_type_string) || holds_nul(v))
    return NULL;
  return json_object_get_string(v);
}

static int string_member(json_object *o, const char *key, bool required, const char *where,
                         char **out, appc_error_t *err)
{
  json_object *v;

  *out = NULL;
  if (member(o, key, json_type_string, where, &v, err) < 0)
    return -1;
  if (v == NULL)
    return required ? appc_error_tag(err, EINVAL, "%s.%s: missing", where, key) : 0;
  if (holds_nul(v))
    return appc_error_tag(err, EINVAL, "%s.%s: holds a NUL character", where, key);
  if ((*out = strdup(json_object_get_string(v))) == NULL)
    return appc_error_make(err, ENOMEM, "%s", where);
  return 0;
}

/* An array of strings, as a NULL-terminated vector (NULL when absent). */
static int strings_member(json_object *o, const char *key, const char *where, char ***out,
                          appc_error_t *err)
{
  json_object *a;
  char **v;

  *out = NULL;
  if (member(o, key, json_type_array, where, &a, err) < 0)
    return -1;
  if (a == NULL)
    return 0;
  size_t n = json_object_array_length(a);
  if ((v = calloc(n + 1, sizeof *v)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", where);
  for (size_t i = 0; i < n; i++) {
    json_object *s = json_object_array_get_idx(a, i);
    if (!json_object_is_type(s, json_type_string)) {
      strv_free(v);
      return appc_error_tag(err, EINVAL, "%s.%s[%zu]: not a string", where, key, i);
    }
    if (holds_nul(s)) {
      strv_free(v);
      return appc_error_tag(err, EINVAL, "%s.%s[%zu]: holds a NUL character", where, key, i);
    }
    if ((v[i] = strdup(json_object_get_string(s))) == NULL) {
      strv_free(v);
      return appc_error_make(err, ENOMEM, "%s", where);
    }
  }
  *out = v;
  return 0;
}

/* The keys of an object member ({"80/tcp": {}}), sorted as found. */
static int keys_member(json_object *o, const char *key, const char *where, char ***out,
                       appc_error_t *err)
{
  json_object *m;
  char **v;
  size_t n = 0;

  *out = NULL;
  if (member(o, key, json_type_object, where, &m, err) < 0)
    return -1;
  if (m == NULL)
    return 0;
  if ((v = calloc((size_t) json_object_object_length(m) + 1, sizeof *v)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", where);
  json_object_object_foreach(m, k, val)
  {
    (void) val;
    if ((v[n++] = strdup(k)) == NULL) {
      strv_free(v);
      return appc_error_make(err, ENOMEM, "%s", where);
    }
  }
  *out = v;
  return 0;
}

int oci_descriptor_parse(const void *obj, const char *where, struct oci_descriptor *out,
                         appc_error_t *err)
{
  json_object *o = (json_object *) obj, *size, *ann, *platform;
  enum appc_digest_alg alg;
  const char *hex;

  memset(out, 0, sizeof *out);
  if (!json_object_is_type(o, json_type_object))
    return appc_error_tag(err, EINVAL, "%s: not an object", where);
  if (string_member(o, "mediaType", false, where, &out->media_type, err) < 0 ||
      string_member(o, "digest", true, where, &out->digest, err) < 0 ||
      member(o, "size", json_type_int, where, &size, err) < 0 ||
      member(o, "annotations", json_type_object, where, &ann, err) < 0 ||
      member(o, "platform", json_type_object, where, &platform, err) < 0)
    goto fail;
  if (!appc_digest_parse(out->digest, &alg, &hex)) {
    appc_error_tag(err, EINVAL,
                   "%s.digest: \"%.80s\": not a digest this reads (sha256:<64 hex> or "
                   "sha512:<128 hex>)",
                   where, out->digest);
    goto fail;
  }
  if (size == NULL || json_object_get_int64(size) < 0) {
    appc_error_tag(err, EINVAL, "%s.size: missing or negative", where);
    goto fail;
  }
  out->size = json_object_get_int64(size);
  /* "latest\u0000evil" must not be taken for the tag latest */
  if (ann != NULL && string_member(ann, "org.opencontainers.image.ref.name", false, where,
                                   &out->ref_name, err) < 0)
    goto fail;
  if (platform != NULL &&
      (string_member(platform, "os", false, where, &out->os, err) < 0 ||
       string_member(platform, "architecture", false, where, &out->arch, err) < 0 ||
       string_member(platform, "variant", false, where, &out->variant, err) < 0))
    goto fail;
  return 0;
fail:
  oci_descriptor_clear(out);
  return -1;
}

int oci_index_parse(const char *json, size_t len, const char *where, struct oci_descriptor **out,
                    size_t *n, appc_error_t *err)
{
  cleanup_json json_object *o = NULL;
  json_object *manifests;
  struct oci_descriptor *v = NULL;
  char at[256];

  *out = NULL;
  *n = 0;
  if (parse_object(json, len, where, &o, err) < 0 ||
      member(o, "manifests", json_type_array, where, &manifests, err) < 0)
    return -1;
  if (manifests == NULL)
    return appc_error_tag(err, EINVAL, "%s: no manifests", where);
  size_t count = json_object_array_length(manifests);
  if (count > 4096)
    return appc_error_tag(err, EINVAL, "%s: %zu manifests, more than 4096", where, count);
  if (count > 0 && (v = calloc(count, sizeof *v)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", where);
  for (size_t i = 0; i < count; i++) {
    snprintf(at, sizeof at, "%.200s: manifests[%zu]", where, i);
    if (oci_descriptor_parse(json_object_array_get_idx(manifests, i), at, &v[i], err) < 0) {
      for (size_t k = 0; k < i; k++)
        oci_descriptor_clear(&v[k]);
      free(v);
      return -1;
    }
  }
  *out = v;
  *n = count;
  return 0;
}

int oci_manifest_parse(const char *json, size_t len, const char *where, struct oci_image *img,
                       appc_error_t *err)
{
  cleanup_json json_object *o = NULL;
  cleanup_free char *media_type = NULL;
  json_object *version, *config, *layers;
  char at[256];

  if (parse_object(json, len, where, &o, err) < 0 ||
      member(o, "schemaVersion", json_type_int, where, &version, err) < 0 ||
      string_member(o, "mediaType", false, where, &media_type, err) < 0)
    return -1;
  if (version == NULL || json_object_get_int(version) != 2)
    return appc_error_tag(err, EINVAL,
                          "%s: schemaVersion %s: only image manifests of schema 2 (OCI, Docker "
                          "v2 schema 2) are read; Docker's schema 1 is not",
                          where, version != NULL ? json_object_get_string(version) : "missing");
  if (media_type != NULL && strcmp(media_type, OCI_MANIFEST_V1) != 0 &&
      strcmp(media_type, DOCKER_MANIFEST_V2) != 0)
    return appc_error_tag(err, EINVAL, "%s: mediaType \"%.100s\" is not an image manifest", where,
                          media_type);
  if (member(o, "config", json_type_object, where, &config, err) < 0 ||
      member(o, "layers", json_type_array, where, &layers, err) < 0)
    return -1;
  if (config == NULL || layers == NULL)
    return appc_error_tag(err, EINVAL, "%s: an image manifest has a config and layers", where);
  snprintf(at, sizeof at, "%.200s: config", where);
  if (oci_descriptor_parse(config, at, &img->config, err) < 0)
    return -1;
  size_t n = json_object_array_length(layers);
  if (n > OCI_MAX_LAYERS)
    return appc_error_tag(err, EINVAL, "%s: %zu layers, more than %d", where, n, OCI_MAX_LAYERS);
  if (n > 0 && (img->layers = calloc(n, sizeof *img->layers)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", where);
  for (size_t i = 0; i < n; i++) {
    snprintf(at, sizeof at, "%.200s: layers[%zu]", where, i);
    if (oci_descriptor_parse(json_object_array_get_idx(layers, i), at, &img->layers[i], err) < 0)
      return -1;
    img->n_layers++;
  }
  return 0;
}

/* The members of object M, each a string without NUL, appended to OUT in
 * M's order; messages name WHERE.KEY. */
static int string_object(json_object *m, const char *where, struct appc_kv_list *out,
                         appc_error_t *err)
{
  json_object_object_foreach(m, k, v)
  {
    if (!json_object_is_type(v, json_type_string))
      return appc_error_tag(err, EINVAL, "%s.%.100s: not a string", where, k);
    if (holds_nul(v))
      return appc_error_tag(err, EINVAL, "%s.%.100s: holds a NUL character", where, k);
    if (APPC_ARRAY_EXTEND(out->items, out->len, 1) < 0)
      return appc_error_make(err, ENOMEM, "%s", where);
    out->items[out->len].name = strdup(k);
    out->items[out->len].value = strdup(json_object_get_string(v));
    out->len++;
    if (out->items[out->len - 1].name == NULL || out->items[out->len - 1].value == NULL)
      return appc_error_make(err, ENOMEM, "%s", where);
  }
  return 0;
}

static int labels_member(json_object *o, const char *where, struct appc_kv_list *out,
                         appc_error_t *err)
{
  json_object *m;
  char at[300];

  if (member(o, "Labels", json_type_object, where, &m, err) < 0)
    return -1;
  if (m == NULL)
    return 0;
  snprintf(at, sizeof at, "%.250s.Labels", where);
  return string_object(m, at, out, err);
}

/* ---- the config's Labels, kept whole in an annotation ---- */

int oci_labels_text(const struct appc_kv_list *labels, char **out, appc_error_t *err)
{
  json_object *o = json_object_new_object();
  const char *t = NULL;

  *out = NULL;
  for (size_t i = 0; o != NULL && i < labels->len; i++)
    if (json_object_object_add(o, labels->items[i].name,
                               json_object_new_string(labels->items[i].value)) < 0) {
      json_object_put(o);
      o = NULL;
    }
  if (o != NULL)
    t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  if (t != NULL)
    *out = strdup(t);
  json_object_put(o);
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "config.Labels");
}

int oci_labels_parse(const char *text, const char *where, struct appc_kv_list *out,
                     appc_error_t *err)
{
  cleanup_json json_object *o = NULL;
  size_t len = strlen(text);
  char at[300];

  /* what no config read here (nor by skopeo, whose limit it is too) held */
  if (len > OCI_JSON_MAX)
    return appc_error_tag(err, EINVAL,
                          "%s: %zu bytes, more than the %u MiB an image config may have", where,
                          len, OCI_JSON_MAX >> 20);
  if (parse_object(text, len, where, &o, err) < 0)
    return -1;
  snprintf(at, sizeof at, "%.250s: Labels", where);
  if (string_object(o, at, out, err) < 0) {
    appc_kv_list_clear(out);
    return -1;
  }
  return 0;
}

int oci_config_parse(const char *json, size_t len, const char *where, struct oci_image *img,
                     appc_error_t *err)
{
  cleanup_json json_object *o = NULL;
  json_object *config, *rootfs;
  char at[256];

  if (parse_object(json, len, where, &o, err) < 0 ||
      string_member(o, "os", false, where, &img->os, err) < 0 ||
      string_member(o, "architecture", false, where, &img->arch, err) < 0 ||
      string_member(o, "variant", false, where, &img->variant, err) < 0 ||
      string_member(o, "created", false, where, &img->created, err) < 0 ||
      string_member(o, "author", false, where, &img->author, err) < 0 ||
      member(o, "config", json_type_object, where, &config, err) < 0 ||
      member(o, "rootfs", json_type_object, where, &rootfs, err) < 0)
    return -1;
  if (rootfs == NULL)
    return appc_error_tag(err, EINVAL, "%s: rootfs: missing", where);
  snprintf(at, sizeof at, "%.200s: rootfs", where);
  if (strings_member(rootfs, "diff_ids", at, &img->diff_ids, err) < 0)
    return -1;
  size_t n = 0;
  while (img->diff_ids != NULL && img->diff_ids[n] != NULL)
    n++;
  if (n != img->n_layers)
    return appc_error_tag(err, EINVAL, "%s: rootfs.diff_ids has %zu entries for %zu layers", where,
                          n, img->n_layers);
  for (size_t i = 0; i < n; i++) {
    enum appc_digest_alg alg;
    const char *hex;
    if (!appc_digest_parse(img->diff_ids[i], &alg, &hex))
      return appc_error_tag(err, EINVAL, "%s: rootfs.diff_ids[%zu]: \"%.80s\": not a digest", where,
                            i, img->diff_ids[i]);
  }
  if (config == NULL)
    return 0;
  snprintf(at, sizeof at, "%.200s: config", where);
  if (string_member(config, "User", false, at, &img->user, err) < 0 ||
      string_member(config, "WorkingDir", false, at, &img->working_dir, err) < 0 ||
      strings_member(config, "Entrypoint", at, &img->entrypoint, err) < 0 ||
      strings_member(config, "Cmd", at, &img->cmd, err) < 0 ||
      strings_member(config, "Env", at, &img->env, err) < 0 ||
      keys_member(config, "ExposedPorts", at, &img->ports, err) < 0 ||
      keys_member(config, "Volumes", at, &img->volumes, err) < 0 ||
      labels_member(config, at, &img->labels, err) < 0)
    return -1;
  return 0;
}

/* ---- an index resolved to one platform's manifest ---- */

/* This machine's architecture, as OCI (GOARCH) spells it. */
const char *oci_host_arch(void)
{
  return appc_arch_host()->oci;
}

static bool is_index(const struct oci_descriptor *d)
{
  return d->media_type != NULL &&
         (strcmp(d->media_type, OCI_INDEX_V1) == 0 || strcmp(d->media_type, DOCKER_LIST_V2) == 0);
}

void oci_descriptors_free(struct oci_descriptor *v, size_t n)
{
  for (size_t i = 0; i < n; i++)
    oci_descriptor_clear(&v[i]);
  free(v);
}

int oci_descriptor_copy(const struct oci_descriptor *from, struct oci_descriptor *to,
                        appc_error_t *err)
{
  memset(to, 0, sizeof *to);
  to->size = from->size;
#define COPY(f)                                                                                    \
  if (from->f != NULL && (to->f = strdup(from->f)) == NULL)                                        \
    goto oom;
  COPY(media_type)
  COPY(digest)
  COPY(ref_name)
  COPY(os)
  COPY(arch)
  COPY(variant)
#undef COPY
  return 0;
oom:
  oci_descriptor_clear(to);
  return appc_error_make(err, ENOMEM, "descriptor");
}

/* The manifest of an index for OS/ARCH (ARCH[/VARIANT]); an index that names no platform
 * (a single image) gives its one manifest.  FROM says where INDEX was
 * found, for messages. */
static int pick_platform(struct oci_blobs *b, const struct oci_descriptor *index, const char *from,
                         const char *os, const char *arch, int depth, struct oci_descriptor *out,
                         appc_error_t *err);

static int resolve(struct oci_blobs *b, const struct oci_descriptor *d, const char *from,
                   const char *os, const char *arch, int depth, struct oci_descriptor *out,
                   appc_error_t *err)
{
  if (is_index(d))
    return pick_platform(b, d, from, os, arch, depth + 1, out, err);
  return oci_descriptor_copy(d, out, err);
}

/* Whether JSON is an image manifest (it has config and layers). */
static bool is_manifest(const char *json, size_t len)
{
  cleanup_json json_object *o = NULL;
  appc_error_t ignored = NULL;
  bool manifest = parse_object(json, len, "", &o, &ignored) == 0 &&
                  json_object_object_get_ex(o, "config", NULL) &&
                  json_object_object_get_ex(o, "layers", NULL);

  appc_error_release(&ignored);
  return manifest;
}

/* INDEX's content as an index.  A manifest that a descriptor calls an
 * index is told as that, naming the descriptor: "no manifests" in the
 * blob alone would point at neither. */
static int read_index(struct oci_blobs *b, const struct oci_descriptor *index, const char *from,
                      struct oci_descriptor **v, size_t *n, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  char where[300];
  size_t len;

  snprintf(where, sizeof where, "%.160s: %.100s", b->where, index->digest);
  if (b->read(b, index, &json, &len, err) < 0)
    return -1;
  if (oci_index_parse(json, len, where, v, n, err) == 0)
    return 0;
  if (!is_manifest(json, len))
    return -1;
  appc_error_release(err);
  return appc_error_tag(err, EINVAL,
                        "%s: its mediaType says an index (%s), but the content of %s is an image "
                        "manifest",
                        from, index->media_type, index->digest);
}

static int pick_platform(struct oci_blobs *b, const struct oci_descriptor *index, const char *from,
                         const char *os, const char *arch, int depth, struct oci_descriptor *out,
                         appc_error_t *err)
{
  struct oci_descriptor *v = NULL;
  size_t n;
  int r = -1;

  if (depth > 4)
    return appc_error_make(err, 0, "%s: %s: indexes nested more than 4 deep", b->where,
                           index->digest);
  if (read_index(b, index, from, &v, &n, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (v[i].os != NULL && strcmp(v[i].os, os) != 0)
      continue;
    if (!oci_platform_match(arch, v[i].arch, v[i].variant))
      continue;
    char at[300];
    snprintf(at, sizeof at, "%.160s: %.100s: manifests[%zu]", b->where, index->digest, i);
    r = resolve(b, &v[i], at, os, arch, depth, out, err);
    oci_descriptors_free(v, n);
    return r;
  }
  oci_descriptors_free(v, n);
  return appc_error_make(err, 0, "%s: %s: no image for %s/%s", b->where, index->digest, os, arch);
}

int oci_resolve(struct oci_blobs *b, const struct oci_descriptor *d, const char *from,
                const char *os, const char *arch, struct oci_descriptor *out, appc_error_t *err)
{
  return resolve(b, d, from, os != NULL ? os : "linux", arch != NULL ? arch : oci_host_arch(), 0,
                 out, err);
}

json_object *oci_descriptor_json(const char *media_type, const char *digest, int64_t size)
{
  json_object *o = json_object_new_object();

  json_object_object_add(o, "mediaType", json_object_new_string(media_type));
  json_object_object_add(o, "digest", json_object_new_string(digest));
  json_object_object_add(o, "size", json_object_new_int64(size));
  return o;
}

int oci_blob_check(const struct oci_descriptor *d, const char *data, size_t len, const char *where,
                   appc_error_t *err)
{
  enum appc_digest_alg alg;
  const char *hex;
  char got[APPC_DIGEST_HEX_MAX];

  if (!appc_digest_parse(d->digest, &alg, &hex))
    return appc_error_tag(err, EINVAL, "%s: \"%.80s\": not a digest", where, d->digest);
  if (appc_digest_buffer(alg, data, len, got, err) < 0)
    return -1;
  if (d->size >= 0 && len != (size_t) d->size)
    return appc_error_tag(err, EINVAL, "%s: blob %s: %zu bytes where the descriptor says %lld",
                          where, d->digest, len, (long long) d->size);
  if (strcmp(got, hex) != 0)
    return appc_error_tag(err, EINVAL, "%s: blob %s: its content does not match its digest", where,
                          d->digest);
  return 0;
}
