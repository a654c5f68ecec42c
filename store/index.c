/* SPDX-License-Identifier: Apache-2.0 */
/* The image index: one directory per image, images/<id>/, holding
 *   info.json  {"format":2,"id":..,"name":..,"labels":[..],"size":N,"importTime":NS}
 *   manifest   the manifest's bytes as stored in the ACI
 *   lastuse    empty; its mtime is the image's last use
 *   tree       the key of the last tree rendered from it (store/tree.c), a hint
 * A record is built in tmp/ and renamed into place, so it is either
 * complete or absent; there is no global index file to lock or rewrite. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "schema/json.h"
#include "store/private.h"

#define RECORD_MAX (1u << 20)

bool appc_store_is_image_id(const char *id)
{
  if (strncmp(id, APPC_IMAGE_ID_PREFIX, sizeof APPC_IMAGE_ID_PREFIX - 1) != 0 ||
      strlen(id) != APPC_IMAGE_ID_LEN)
    return false;
  for (const char *p = id + sizeof APPC_IMAGE_ID_PREFIX - 1; *p != '\0'; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return false;
  return true;
}

void appc_store_image_clear(struct appc_store_image *img)
{
  if (img == NULL)
    return;
  free(img->name);
  appc_kv_list_clear(&img->labels);
  memset(img, 0, sizeof *img);
}

void appc_store_images_free(struct appc_store_image *imgs, size_t n)
{
  for (size_t i = 0; i < n; i++)
    appc_store_image_clear(&imgs[i]);
  free(imgs);
}

/* ---- records ---- */

static json_object *labels_to_json(const struct appc_kv_list *labels)
{
  json_object *a = json_object_new_array();

  for (size_t i = 0; a != NULL && i < labels->len; i++) {
    json_object *l = json_object_new_object();
    if (l == NULL)
      break;
    json_object_object_add(l, "name", json_object_new_string(labels->items[i].name));
    json_object_object_add(l, "value", json_object_new_string(labels->items[i].value));
    json_object_array_add(a, l);
  }
  return a;
}

static long long timespec_ns(const struct timespec *t)
{
  return (long long) t->tv_sec * 1000000000LL + t->tv_nsec;
}

static struct timespec ns_timespec(long long ns)
{
  struct timespec t = {.tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL};
  return t;
}

/* The record's info file of IMG. */
static int write_info(struct appc_store *s, int dirfd, const struct appc_store_image *img,
                      appc_error_t *err)
{
  cleanup_json json_object *o = json_object_new_object();

  if (o == NULL)
    return appc_error_make(err, ENOMEM, "%s", img->id);
  json_object_object_add(o, "format", json_object_new_int(APPC_STORE_FORMAT));
  json_object_object_add(o, "id", json_object_new_string(img->id));
  json_object_object_add(o, "name", json_object_new_string(img->name));
  json_object_object_add(o, "labels", labels_to_json(&img->labels));
  json_object_object_add(o, "size", json_object_new_int64((int64_t) img->size));
  json_object_object_add(o, "importTime", json_object_new_int64(timespec_ns(&img->import_time)));
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  if (text == NULL)
    return appc_error_make(err, ENOMEM, "%s", img->id);
  return appc_store_write_file(s, dirfd, RECORD_INFO, text, strlen(text), err);
}

int appc_store_write_record(struct appc_store *s, int dirfd, const struct appc_store_image *img,
                            const char *manifest, size_t manifest_len, appc_error_t *err)
{
  cleanup_close int fd = -1;

  if (appc_store_write_file(s, dirfd, RECORD_MANIFEST, manifest, manifest_len, err) < 0 ||
      write_info(s, dirfd, img, err) < 0)
    return -1;
  /* Never used yet: the last use is the import itself. */
  struct timespec times[2] = {img->import_time, img->import_time};
  fd = openat(dirfd, RECORD_LASTUSE, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 || futimens(fd, times) < 0)
    return appc_error_make(err, errno, "%s/%s", img->id, RECORD_LASTUSE);
  return 0;
}

static int labels_from_json(json_object *a, struct appc_kv_list *out)
{
  size_t n = json_object_array_length(a);

  out->items = calloc(n + 1, sizeof *out->items);
  if (out->items == NULL)
    return -1;
  for (size_t i = 0; i < n; i++) {
    json_object *l = json_object_array_get_idx(a, i), *name, *value;
    if (!json_object_object_get_ex(l, "name", &name) ||
        !json_object_object_get_ex(l, "value", &value) ||
        !json_object_is_type(name, json_type_string) ||
        !json_object_is_type(value, json_type_string))
      return -1;
    out->items[i].name = strdup(json_object_get_string(name));
    out->items[i].value = strdup(json_object_get_string(value));
    out->len++;
    if (out->items[i].name == NULL || out->items[i].value == NULL)
      return -1;
  }
  return 0;
}

static int record_from_json(json_object *o, const char *id, struct appc_store_image *img)
{
  json_object *v;

  /* Any field may be damaged: check each type before reading it. */
  if (!json_object_object_get_ex(o, "id", &v) || !json_object_is_type(v, json_type_string) ||
      strcmp(json_object_get_string(v), id) != 0)
    return -1;
  memcpy(img->id, id, APPC_IMAGE_ID_LEN + 1);
  if (!json_object_object_get_ex(o, "name", &v) || !json_object_is_type(v, json_type_string))
    return -1;
  img->name = strdup(json_object_get_string(v));
  if (img->name == NULL)
    return -1;
  if (!json_object_object_get_ex(o, "labels", &v) || !json_object_is_type(v, json_type_array) ||
      labels_from_json(v, &img->labels) < 0)
    return -1;
  if (!json_object_object_get_ex(o, "size", &v) || !json_object_is_type(v, json_type_int))
    return -1;
  img->size = (unsigned long long) json_object_get_int64(v);
  if (!json_object_object_get_ex(o, "importTime", &v) || !json_object_is_type(v, json_type_int))
    return -1;
  img->import_time = ns_timespec(json_object_get_int64(v));
  return 0;
}

static int read_record(struct appc_store *s, int recfd, const char *id,
                       struct appc_store_image *out, appc_error_t *err)
{
  cleanup_free char *text = NULL;
  cleanup_json json_object *o = NULL;
  struct stat st;

  if (appc_read_file_at(recfd, RECORD_INFO, RECORD_MAX, APPC_READ_NOFOLLOW | APPC_READ_REGULAR,
                        &text, NULL, err) < 0)
    return appc_error_prefix(err, "%s/%s/%s", s->path, STORE_IMAGES, id);
  o = json_tokener_parse(text);
  if (o == NULL || record_from_json(o, id, out) < 0) {
    appc_store_image_clear(out);
    return appc_error_make(err, 0, "%s/%s/%s/%s: damaged index record", s->path, STORE_IMAGES, id,
                           RECORD_INFO);
  }
  if (fstatat(s->blobs_fd, id, &st, 0) == 0)
    out->blob_size = (unsigned long long) st.st_size;
  out->last_use = out->import_time;
  if (fstatat(recfd, RECORD_LASTUSE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
      timespec_ns(&st.st_mtim) > timespec_ns(&out->last_use))
    out->last_use = st.st_mtim;
  return 0;
}

int appc_store_record_reimported(struct appc_store *s, const char *id, appc_error_t *err)
{
  struct appc_store_image img = {0};
  cleanup_close int recfd =
      openat(s->images_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  int r;

  if (recfd < 0)
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_IMAGES, id);
  if (read_record(s, recfd, id, &img, err) < 0)
    return -1;
  clock_gettime(CLOCK_REALTIME, &img.import_time);
  r = write_info(s, recfd, &img, err);
  appc_store_image_clear(&img);
  return r;
}

/* NAME in the record RECFD of ID removed when it is there but not a
 * regular file (damage: a directory in its place), so that it can be
 * written again. */
static int remove_unless_regular(struct appc_store *s, int recfd, const char *id, const char *name,
                                 appc_error_t *err)
{
  struct stat st;

  if (fstatat(recfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISREG(st.st_mode))
    return 0;
  if (appc_remove_tree(recfd, name, err) < 0)
    return appc_error_prefix(err, "%s/%s/%s", s->path, STORE_IMAGES, id);
  return 0;
}

int appc_store_record_refresh(struct appc_store *s, int recfd, const struct appc_store_image *img,
                              const char *manifest, size_t manifest_len, appc_error_t *err)
{
  cleanup_free char *stored = NULL;
  size_t len = 0;
  appc_error_t e = NULL;

  bool same = appc_read_file_at(recfd, RECORD_MANIFEST, APPC_MANIFEST_MAX,
                                APPC_READ_NOFOLLOW | APPC_READ_REGULAR, &stored, &len, &e) == 0 &&
              len == manifest_len && memcmp(stored, manifest, len) == 0;
  appc_error_release(&e);
  if (!same && (remove_unless_regular(s, recfd, img->id, RECORD_MANIFEST, err) < 0 ||
                appc_store_write_file(s, recfd, RECORD_MANIFEST, manifest, manifest_len, err) < 0))
    return -1;
  if (remove_unless_regular(s, recfd, img->id, RECORD_INFO, err) < 0)
    return -1;
  return write_info(s, recfd, img, err);
}

int appc_store_read_record(struct appc_store *s, const char *id, struct appc_store_image *out,
                           appc_error_t *err)
{
  cleanup_close int recfd = -1;

  memset(out, 0, sizeof *out);
  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  recfd = openat(s->images_fd, id, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (recfd < 0) {
    if (errno == ENOENT)
      return appc_store_no_such_image(err, id, "");
    return appc_error_make(err, errno, "%s/%s/%s", s->path, STORE_IMAGES, id);
  }
  return read_record(s, recfd, id, out, err);
}

void appc_store_touch(struct appc_store *s, const char *id)
{
  char path[APPC_IMAGE_ID_LEN + sizeof "/" RECORD_LASTUSE];

  snprintf(path, sizeof path, "%s/%s", id, RECORD_LASTUSE);
  (void) utimensat(s->images_fd, path, NULL, AT_SYMLINK_NOFOLLOW);
}

int appc_store_load_manifest(struct appc_store *s, const char *id, struct appc_image_manifest **out,
                             appc_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t len;

  if (appc_store_read_manifest(s, id, &json, &len, err) < 0)
    return -1;
  if (appc_image_manifest_parse(json, len, out, err) < 0)
    return appc_error_prefix(err, "%s/%s/%s/%s: damaged stored manifest (see image verify)",
                             s->path, STORE_IMAGES, id, RECORD_MANIFEST);
  return 0;
}

int appc_store_read_manifest(struct appc_store *s, const char *id, char **json, size_t *len,
                             appc_error_t *err)
{
  char path[APPC_IMAGE_ID_LEN + sizeof "/" RECORD_MANIFEST];

  if (!appc_store_is_image_id(id))
    return appc_error_make(err, 0, "%s: not an image ID", id);
  snprintf(path, sizeof path, "%s/%s", id, RECORD_MANIFEST);
  if (appc_read_file_at(s->images_fd, path, APPC_MANIFEST_MAX,
                        APPC_READ_NOFOLLOW | APPC_READ_REGULAR, json, len, err) < 0) {
    if ((*err)->errnum == ENOENT) {
      appc_error_release(err);
      return appc_store_no_such_image(err, id, "");
    }
    return appc_error_prefix(err, "%s/%s", s->path, STORE_IMAGES);
  }
  return 0;
}

/* ---- listing ---- */

static int cmp_import_time(const void *a, const void *b)
{
  const struct appc_store_image *x = a, *y = b;
  long long tx = timespec_ns(&x->import_time), ty = timespec_ns(&y->import_time);

  if (tx != ty)
    return tx < ty ? -1 : 1;
  return strcmp(x->id, y->id);
}

struct image_vec {
  struct appc_store_image *v;
  size_t n, cap;
};

static int vec_push(struct image_vec *vec, struct appc_store_image *img)
{
  if (APPC_ARRAY_RESERVE(vec->v, vec->cap, vec->n + 1) < 0)
    return -1;
  vec->v[vec->n++] = *img;
  memset(img, 0, sizeof *img);
  return 0;
}

struct list_ctx {
  struct appc_store *s;
  struct image_vec *vec;
  appc_store_problem_fn problem;
  void *data;
  size_t damaged;
};

/* A record that cannot be read is reported and skipped, so that one damaged
 * record hides no other image; only running out of memory stops the list. */
static int list_damaged(struct list_ctx *c, appc_error_t *err)
{
  if ((*err)->errnum == ENOMEM)
    return -1;
  c->damaged++;
  if (c->problem != NULL)
    c->problem((*err)->msg, c->data);
  appc_error_release(err);
  return 0;
}

static int list_one(const char *name, void *data, appc_error_t *err)
{
  struct list_ctx *c = data;
  struct appc_store_image img = {0};
  cleanup_close int recfd = -1;

  if (!appc_store_is_image_id(name))
    return 0;
  recfd = openat(c->s->images_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (recfd < 0 && errno == ENOENT)
    return 0; /* removed while we listed: not an error */
  if (recfd < 0) {
    appc_error_make(err, errno, "%s/%s/%s", c->s->path, STORE_IMAGES, name);
    return list_damaged(c, err);
  }
  if (read_record(c->s, recfd, name, &img, err) < 0)
    return list_damaged(c, err);
  if (vec_push(c->vec, &img) < 0) {
    appc_store_image_clear(&img);
    return appc_error_make(err, ENOMEM, "%s", c->s->path);
  }
  return 0;
}

static int list_records(struct appc_store *s, struct list_ctx *c, appc_error_t *err)
{
  return appc_store_each_entry(s, s->images_fd, STORE_IMAGES, list_one, c, err);
}

int appc_store_list(struct appc_store *s, appc_store_problem_fn problem, void *data,
                    struct appc_store_image **out, size_t *n, appc_error_t *err)
{
  struct image_vec vec = {0};
  struct list_ctx c = {.s = s, .vec = &vec, .problem = problem, .data = data};

  if (list_records(s, &c, err) < 0) {
    appc_store_images_free(vec.v, vec.n);
    return -1;
  }
  if (vec.n > 1)
    qsort(vec.v, vec.n, sizeof *vec.v, cmp_import_time);
  *out = vec.v;
  *n = vec.n;
  return 0;
}

/* Count the records appc_store_find() had to skip. */
static void count_damaged(const char *msg, void *data)
{
  (void) msg;
  ++*(size_t *) data;
}

static bool has_labels(const struct appc_store_image *img, const struct appc_kv_list *want)
{
  for (size_t i = 0; i < want->len; i++) {
    bool found = false;
    for (size_t j = 0; j < img->labels.len && !found; j++)
      found = strcmp(img->labels.items[j].name, want->items[i].name) == 0 &&
              strcmp(img->labels.items[j].value, want->items[i].value) == 0;
    if (!found)
      return false;
  }
  return true;
}

static void describe(char *buf, size_t size, const char *name, const struct appc_kv_list *labels)
{
  size_t used = (size_t) snprintf(buf, size, "%s", name);

  for (size_t i = 0; i < labels->len && used < size; i++)
    used += (size_t) snprintf(buf + used, size - used, ",%s=%s", labels->items[i].name,
                              labels->items[i].value);
}

int appc_store_find(struct appc_store *s, const char *name, const struct appc_kv_list *labels,
                    struct appc_store_image *out, appc_error_t *err)
{
  struct appc_store_image *imgs = NULL;
  size_t n = 0, best = SIZE_MAX, damaged = 0;

  if (appc_store_list(s, count_damaged, &damaged, &imgs, &n, err) < 0)
    return -1;
  /* Sorted oldest first: the last match is the newest import. */
  for (size_t i = 0; i < n; i++)
    if (strcmp(imgs[i].name, name) == 0 && has_labels(&imgs[i], labels))
      best = i;
  if (best == SIZE_MAX) {
    char what[1024];
    describe(what, sizeof what, name, labels);
    appc_store_images_free(imgs, n);
    if (damaged > 0) {
      char extra[96];
      snprintf(extra, sizeof extra, " (%zu damaged index records skipped; see image verify)",
               damaged);
      return appc_store_no_such_image(err, what, extra);
    }
    return appc_store_no_such_image(err, what, "");
  }
  *out = imgs[best];
  memset(&imgs[best], 0, sizeof imgs[best]);
  appc_store_images_free(imgs, n);
  return 0;
}

/* The contract's minimum: "sha512-" and 12 hex digits. */
#define MIN_PREFIX_HEX 12

struct prefix_ctx {
  const char *prefix;
  size_t len;
  size_t matches;
  char found[APPC_IMAGE_ID_LEN + 1];
};

static int match_prefix(const char *name, void *data, appc_error_t *err)
{
  struct prefix_ctx *c = data;

  (void) err;
  if (appc_store_is_image_id(name) && strncmp(name, c->prefix, c->len) == 0) {
    c->matches++;
    memcpy(c->found, name, sizeof c->found);
  }
  return 0;
}

static int find_by_prefix(struct appc_store *s, const char *prefix, struct appc_store_image *out,
                          appc_error_t *err)
{
  struct prefix_ctx c = {.prefix = prefix, .len = strlen(prefix)};

  if (appc_store_each_entry(s, s->images_fd, STORE_IMAGES, match_prefix, &c, err) < 0)
    return -1;
  if (c.matches == 0)
    return appc_store_no_such_image(err, prefix, "");
  if (c.matches > 1)
    return appc_error_make(err, 0, "%s: ambiguous image ID prefix (%zu images match)", prefix,
                           c.matches);
  return appc_store_read_record(s, c.found, out, err);
}

static int lookup_id(struct appc_store *s, const char *spec, struct appc_store_image *out,
                     appc_error_t *err)
{
  const char *hex = spec + sizeof APPC_IMAGE_ID_PREFIX - 1;
  size_t n = strlen(hex);

  for (size_t i = 0; i < n; i++)
    if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
      return appc_error_make(err, 0, "%s: not an image ID (lowercase hex digits expected)", spec);
  if (n > 128)
    return appc_error_make(err, 0, "%s: not an image ID (too long)", spec);
  if (n < MIN_PREFIX_HEX)
    return appc_error_make(err, 0,
                           "%s: image ID prefix too short (at least %d hex digits after \"%s\")",
                           spec, MIN_PREFIX_HEX, APPC_IMAGE_ID_PREFIX);
  if (n == 128)
    return appc_store_read_record(s, spec, out, err);
  return find_by_prefix(s, spec, out, err);
}

int appc_store_lookup(struct appc_store *s, const char *spec, struct appc_store_image *out,
                      appc_error_t *err)
{
  cleanup_free char *name = NULL;
  struct appc_kv_list labels = {0};
  int r;

  memset(out, 0, sizeof *out);
  if (strncmp(spec, APPC_IMAGE_ID_PREFIX, sizeof APPC_IMAGE_ID_PREFIX - 1) == 0)
    return lookup_id(s, spec, out, err);
  if (appc_app_string_parse(spec, &name, &labels, err) < 0)
    return -1;
  r = appc_store_find(s, name, &labels, out, err);
  appc_kv_list_clear(&labels);
  return r;
}
