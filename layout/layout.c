/* SPDX-License-Identifier: Apache-2.0 */
/* An image layout edited step by step (<appc/layout.h>).  The manifest is
 * held as a JSON document and edited in place; the schema module judges the
 * whole of it at commit, so an edit never needs rules of its own and a
 * refused edit leaves the file as it was. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "appc/ace.h"
#include "appc/discovery.h"
#include "appc/schema.h"
#include "common/array.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "layout/internal.h"
#include "schema/json.h"
#include "common/utf8.h"

/* The names of one list's entries and their places, kept while the list
 * is edited here: a search of the list for every entry added made an
 * EXPOSE of 16,384 ports take 8 s. */
struct list_index {
  json_object *array; /* the list indexed, at LEN entries; NULL: nothing */
  size_t len;
  struct appc_hashmap map; /* of struct list_place */
};
struct list_place {
  char *name;
  size_t at;
};

#define N_LISTS (APPC_LAYOUT_DEPENDENCIES + 1)

struct appc_layout {
  char *dir;
  char *rootfs;
  int dir_fd; /* holds the lock */
  json_object *doc;
  const char *source; /* the file the manifest was read from */
  struct list_index index[N_LISTS];
  appc_unknown_key_fn unknown_fn; /* appc_layout_on_unknown_key's */
  void *unknown_data;
};

/* ---- opening ---- */

static int lock_dir(const char *dir, int *out, appc_error_t *err)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0)
    return appc_error_make(err, errno, "%s: not a layout directory", dir);
  if (appc_flock(fd, LOCK_EX) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e, "%s: lock", dir);
  }
  *out = fd;
  return 0;
}

/* The manifest's text: DIR/manifest, or its YAML form, converted. */
static int read_manifest(struct appc_layout *l, char **json, size_t *len, appc_error_t *err)
{
  static const char *const names[] = {LAYOUT_MANIFEST, LAYOUT_MANIFEST_YAML, LAYOUT_MANIFEST_YML};
  const char *found = NULL;

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (faccessat(l->dir_fd, names[i], F_OK, AT_SYMLINK_NOFOLLOW) != 0)
      continue;
    if (found != NULL)
      return appc_error_make(err, 0, "%s: both %s and %s: a layout has one manifest", l->dir, found,
                             names[i]);
    found = names[i];
  }
  if (found == NULL)
    return appc_error_make(err, ENOENT, "%s/%s", l->dir, LAYOUT_MANIFEST);
  l->source = found;
  cleanup_free char *text = NULL;
  size_t n = 0;
  if (appc_read_file_at(l->dir_fd, found, APPC_MANIFEST_MAX, APPC_READ_NOFOLLOW | APPC_READ_REGULAR,
                        &text, &n, err) < 0)
    return appc_error_prefix(err, "%s", l->dir);
  if (found == names[0]) {
    *json = steal_pointer(&text);
    *len = n;
    return 0;
  }
  cleanup_free char *where = NULL;
  if (asprintf(&where, "%s/%s", l->dir, found) < 0)
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  return appc_yaml_to_json(text, n, where, json, len, err);
}

static int parse_doc(struct appc_layout *l, const char *json, size_t len, appc_error_t *err)
{
  json_tokener *tok = json_tokener_new();

  if (tok == NULL)
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  l->doc = json_tokener_parse_ex(tok, json, (int) len);
  enum json_tokener_error e = json_tokener_get_error(tok);
  json_tokener_free(tok);
  if (l->doc == NULL || e != json_tokener_success || !json_object_is_type(l->doc, json_type_object))
    return appc_error_make(err, 0, "%s/%s: not a JSON object%s%s", l->dir, l->source,
                           e != json_tokener_success ? ": " : "",
                           e != json_tokener_success ? json_tokener_error_desc(e) : "");
  return 0;
}

static int finish_changes(struct appc_layout *l, appc_error_t *err);
static int remove_leftover(struct appc_layout *l, const char *name, appc_error_t *err);

/* rootfs/ must be the layout's own directory: a symlink there (a layout
 * from an untrusted archive, "rootfs -> /") would have every command that
 * writes into it write into the link's target.  build and validate refuse
 * it as well. */
static int check_rootfs(const struct appc_layout *l, appc_error_t *err)
{
  struct stat st;

  if (fstatat(l->dir_fd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "%s", l->rootfs);
  if (!S_ISDIR(st.st_mode))
    return appc_error_make(err, 0, "%s: not a directory%s", l->rootfs,
                           S_ISLNK(st.st_mode) ? " but a symlink (a layout's rootfs is its own)"
                                               : "");
  return 0;
}

int appc_layout_open(const char *dir, struct appc_layout **out, appc_error_t *err)
{
  struct appc_layout *l = calloc(1, sizeof *l);
  cleanup_free char *json = NULL;
  size_t len = 0;

  *out = NULL;
  if (l == NULL)
    return appc_error_make(err, ENOMEM, "%s", dir);
  l->dir_fd = -1;
  if ((l->dir = strdup(dir)) == NULL || asprintf(&l->rootfs, "%s/rootfs", dir) < 0) {
    l->rootfs = NULL;
    appc_layout_close(l);
    return appc_error_make(err, ENOMEM, "%s", dir);
  }
  if (lock_dir(dir, &l->dir_fd, err) < 0 || check_rootfs(l, err) < 0 ||
      finish_changes(l, err) < 0 || read_manifest(l, &json, &len, err) < 0 ||
      parse_doc(l, json, len, err) < 0 ||
      /* an init killed once the manifest had its name left its staging */
      remove_leftover(l, LAYOUT_INIT, err) < 0) {
    appc_layout_close(l);
    return -1;
  }
  *out = l;
  return 0;
}

static void place_free(void *entry)
{
  free(((struct list_place *) entry)->name);
}

static void index_drop(struct list_index *x)
{
  if (x->map.entry_size != 0)
    appc_hashmap_clear(&x->map, place_free);
  x->array = NULL;
  x->len = 0;
}

void appc_layout_close(struct appc_layout *l)
{
  if (l == NULL)
    return;
  for (size_t i = 0; i < N_LISTS; i++)
    index_drop(&l->index[i]);
  if (l->doc != NULL)
    json_object_put(l->doc);
  if (l->dir_fd >= 0)
    close(l->dir_fd);
  free(l->dir);
  free(l->rootfs);
  free(l);
}

const char *appc_layout_rootfs(const struct appc_layout *l)
{
  return l->rootfs;
}

/* ---- the document ---- */

/* The object member KEY of O, made (empty, of TYPE) when missing. */
static json_object *member(json_object *o, const char *key, json_type type, appc_error_t *err)
{
  json_object *v = NULL;

  if (json_object_object_get_ex(o, key, &v) && v != NULL) {
    if (!json_object_is_type(v, type)) {
      appc_error_make(err, 0, "%s: not %s", key,
                      type == json_type_array ? "an array" : "an object");
      return NULL;
    }
    return v;
  }
  v = type == json_type_array ? json_object_new_array() : json_object_new_object();
  if (v == NULL || json_object_object_add(o, key, v) < 0) {
    json_object_put(v);
    appc_error_make(err, ENOMEM, "%s", key);
    return NULL;
  }
  return v;
}

/* The app section, made when missing: an app runs as some user and group,
 * which the schema requires; root until told otherwise. */
static json_object *app_section(struct appc_layout *l, appc_error_t *err)
{
  json_object *app = NULL;

  if (json_object_object_get_ex(l->doc, "app", &app) && app != NULL)
    return json_object_is_type(app, json_type_object)
               ? app
               : (appc_error_make(err, 0, "%s: app: not an object", l->dir), NULL);
  if ((app = member(l->doc, "app", json_type_object, err)) == NULL)
    return NULL;
  json_object_object_add(app, "user", json_object_new_string("0"));
  json_object_object_add(app, "group", json_object_new_string("0"));
  return app;
}

struct list_info {
  const char *key;  /* the member holding the list */
  const char *name; /* the member naming an entry */
  bool in_app;
};

static const struct list_info lists[] = {
    [APPC_LAYOUT_LABELS] = {"labels", "name", false},
    [APPC_LAYOUT_ANNOTATIONS] = {"annotations", "name", false},
    [APPC_LAYOUT_ENVIRONMENT] = {"environment", "name", true},
    [APPC_LAYOUT_PORTS] = {"ports", "name", true},
    [APPC_LAYOUT_MOUNT_POINTS] = {"mountPoints", "name", true},
    [APPC_LAYOUT_ISOLATORS] = {"isolators", "name", true},
    [APPC_LAYOUT_DEPENDENCIES] = {"dependencies", "imageName", false},
};

static const struct list_info *list_info(enum appc_layout_list list)
{
  return (unsigned) list < sizeof lists / sizeof lists[0] ? &lists[list] : NULL;
}

/* LIST's array; NULL without an error when it is missing and not CREATE. */
static json_object *list_array(struct appc_layout *l, enum appc_layout_list list, bool create,
                               appc_error_t *err)
{
  const struct list_info *info = list_info(list);
  json_object *parent = l->doc, *a = NULL;

  if (info == NULL) {
    appc_error_tag(err, EINVAL, "%s: no such list", l->dir);
    return NULL;
  }
  if (info->in_app) {
    if (!create && !(json_object_object_get_ex(l->doc, "app", &parent) && parent != NULL &&
                     json_object_is_type(parent, json_type_object)))
      return NULL;
    if (create && (parent = app_section(l, err)) == NULL)
      return NULL;
  }
  if (!create)
    return json_object_object_get_ex(parent, info->key, &a) &&
                   json_object_is_type(a, json_type_array)
               ? a
               : NULL;
  if ((a = member(parent, info->key, json_type_array, err)) == NULL)
    appc_error_prefix(err, "%s%s", l->dir, info->in_app ? ": app" : "");
  return a;
}

/* The name of A's entry I (by member KEY), or NULL. */
static const char *entry_name(json_object *a, size_t i, const char *key)
{
  json_object *e = json_object_array_get_idx(a, i), *v = NULL;

  return json_object_is_type(e, json_type_object) && json_object_object_get_ex(e, key, &v) &&
                 json_object_is_type(v, json_type_string)
             ? json_object_get_string(v)
             : NULL;
}

/* The index of the entry of A named NAME (by member KEY), or -1. */
static int find_entry(json_object *a, const char *key, const char *name)
{
  size_t n = json_object_array_length(a);

  for (size_t i = 0; i < n; i++) {
    const char *e = entry_name(a, i, key);
    if (e != NULL && strcmp(e, name) == 0)
      return (int) i;
  }
  return -1;
}

static bool place_eq(const void *entry, const void *key)
{
  return strcmp(((const struct list_place *) entry)->name, key) == 0;
}

/* Record NAME at AT (the first place of a name stays, as find_entry's). */
static int index_put(struct list_index *x, const char *name, size_t at)
{
  bool added;
  struct list_place *p =
      appc_hashmap_insert(&x->map, appc_hash_bytes(name, strlen(name)), place_eq, name, &added);

  if (p == NULL)
    return -1;
  if (added && (*p = (struct list_place){strdup(name), at}).name == NULL)
    return -1;
  return 0;
}

/* X made to index A, of N entries, unless it does already. */
static int index_sync(struct list_index *x, json_object *a, size_t n, const char *key)
{
  if (x->array == a && x->len == n)
    return 0;
  index_drop(x);
  appc_hashmap_init(&x->map, sizeof(struct list_place), n + 16);
  for (size_t i = 0; i < n; i++) {
    const char *name = entry_name(a, i, key);
    if (name != NULL && index_put(x, name, i) < 0) {
      index_drop(x);
      return -1;
    }
  }
  x->array = a;
  x->len = n;
  return 0;
}

/* find_entry through the list's index; -2 out of memory. */
static int find_indexed(struct appc_layout *l, enum appc_layout_list list, json_object *a,
                        const char *name)
{
  struct list_index *x = &l->index[list];
  const char *key = list_info(list)->name;

  if (index_sync(x, a, json_object_array_length(a), key) < 0)
    return -2;
  const struct list_place *p =
      appc_hashmap_find(&x->map, appc_hash_bytes(name, strlen(name)), place_eq, name);
  if (p == NULL)
    return -1;
  const char *there = entry_name(a, p->at, key);
  if (there != NULL && strcmp(there, name) == 0)
    return (int) p->at;
  index_drop(x); /* changed behind it */
  return find_entry(a, key, name);
}

/* Put ENTRY (taken) into LIST: in place of the entry of its name, else at
 * the end. */
static int put_entry(struct appc_layout *l, enum appc_layout_list list, const char *name,
                     json_object *entry, appc_error_t *err)
{
  json_object *a = entry != NULL ? list_array(l, list, true, err) : NULL;
  struct list_index *x = &l->index[list];

  if (a == NULL) {
    json_object_put(entry);
    return entry == NULL ? appc_error_make(err, ENOMEM, "%s", l->dir) : -1;
  }
  int at = find_indexed(l, list, a, name);
  if (at == -2) {
    json_object_put(entry);
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  }
  if (at >= 0)
    return json_object_array_put_idx(a, (size_t) at, entry) < 0
               ? appc_error_make(err, ENOMEM, "%s", l->dir)
               : 0;
  if (json_object_array_add(a, entry) < 0) {
    json_object_put(entry);
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  }
  /* the index follows the list it indexes */
  if (x->array == a && x->len + 1 == json_object_array_length(a)) {
    if (index_put(x, name, x->len) < 0)
      index_drop(x);
    else
      x->len++;
  }
  return 0;
}

static json_object *named_entry(const char *key, const char *name)
{
  json_object *e = json_object_new_object();

  if (e != NULL)
    json_object_object_add(e, key, json_object_new_string(name));
  return e;
}

/* ---- edits ---- */

static const char *const app_keys[] = {"user", "group", "workingDirectory"};

bool appc_layout_set_key_known(const char *key)
{
  for (size_t i = 0; i < sizeof app_keys / sizeof app_keys[0]; i++)
    if (strcmp(key, app_keys[i]) == 0)
      return true;
  return strcmp(key, "name") == 0;
}

int appc_layout_set(struct appc_layout *l, const char *key, const char *value, appc_error_t *err)
{
  json_object *app;

  if (strcmp(key, "name") == 0)
    return json_object_object_add(l->doc, "name", json_object_new_string(value)) < 0
               ? appc_error_make(err, ENOMEM, "%s", l->dir)
               : 0;
  for (size_t i = 0; i < sizeof app_keys / sizeof app_keys[0]; i++) {
    if (strcmp(key, app_keys[i]) != 0)
      continue;
    if ((app = app_section(l, err)) == NULL)
      return -1;
    return json_object_object_add(app, key, json_object_new_string(value)) < 0
               ? appc_error_make(err, ENOMEM, "%s", l->dir)
               : 0;
  }
  return appc_error_tag(err, EINVAL,
                        "%s: unknown key (name, user, group and workingDirectory can be set)", key);
}

int appc_layout_set_exec(struct appc_layout *l, char *const *argv, size_t argc, appc_error_t *err)
{
  json_object *app = app_section(l, err), *exec;

  if (app == NULL)
    return -1;
  if (argc == 0) {
    json_object_object_del(app, "exec");
    return 0;
  }
  if (argv[0][0] == '\0')
    return appc_error_make(err, 0, "app.exec: the command is empty");
  if ((exec = json_object_new_array_ext((int) argc)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  for (size_t i = 0; i < argc; i++)
    json_object_array_add(exec, json_object_new_string(argv[i]));
  json_object_object_add(app, "exec", exec);
  return 0;
}

int appc_layout_kv_add(struct appc_layout *l, enum appc_layout_list list, const char *name,
                       const char *value, appc_error_t *err)
{
  if (list != APPC_LAYOUT_LABELS && list != APPC_LAYOUT_ANNOTATIONS &&
      list != APPC_LAYOUT_ENVIRONMENT)
    return appc_error_tag(err, EINVAL, "%s: not a list of names and values", l->dir);
  json_object *e = named_entry("name", name);
  if (e != NULL)
    json_object_object_add(e, "value", json_object_new_string(value));
  return put_entry(l, list, name, e, err);
}

int appc_layout_remove(struct appc_layout *l, enum appc_layout_list list, const char *name,
                       appc_error_t *err)
{
  const struct list_info *info = list_info(list);
  json_object *a = info != NULL ? list_array(l, list, false, err) : NULL;
  int at = a != NULL ? find_entry(a, info->name, name) : -1;

  if (info == NULL)
    return appc_error_tag(err, EINVAL, "%s: no such list", l->dir);
  if (at < 0)
    return appc_error_make(err, 0, "%s/%s: %s%s: no entry named \"%s\"", l->dir, l->source,
                           info->in_app ? "app." : "", info->key, name);
  index_drop(&l->index[list]); /* the places after AT moved */
  if (json_object_array_del_idx(a, (size_t) at, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  return 0;
}

int appc_layout_port_add(struct appc_layout *l, const char *name, const char *protocol,
                         unsigned port, unsigned count, bool socket_activated, appc_error_t *err)
{
  json_object *e = named_entry("name", name);

  if (e != NULL) {
    json_object_object_add(e, "protocol", json_object_new_string(protocol));
    json_object_object_add(e, "port", json_object_new_int64(port));
    json_object_object_add(e, "count", json_object_new_int64(count > 0 ? count : 1));
    json_object_object_add(e, "socketActivated", json_object_new_boolean(socket_activated));
  }
  return put_entry(l, APPC_LAYOUT_PORTS, name, e, err);
}

int appc_layout_mount_add(struct appc_layout *l, const char *name, const char *path, bool read_only,
                          appc_error_t *err)
{
  json_object *e;

  /* what the executor would refuse to mount */
  if (path[0] == '\0')
    return appc_error_make(err, 0, "mount point %s: a path is needed", name);
  if (appc_path_has_dot_component(path))
    return appc_error_make(err, 0, "mount point %s: path \"%s\" has a \".\" or \"..\" component",
                           name, path);
  if ((e = named_entry("name", name)) != NULL) {
    json_object_object_add(e, "path", json_object_new_string(path));
    json_object_object_add(e, "readOnly", json_object_new_boolean(read_only));
  }
  return put_entry(l, APPC_LAYOUT_MOUNT_POINTS, name, e, err);
}

int appc_layout_isolator_add(struct appc_layout *l, const char *name, const char *value_json,
                             appc_error_t *err)
{
  cleanup_jtree struct appc_jtree *checked = NULL;
  json_object *value, *e;

  /* The schema's own grammar first (json-c takes comments, single quotes,
   * trailing text; and gives no object for null) */
  if (appc_json_parse_value(value_json, &checked, err) < 0)
    return appc_error_prefix(err, "isolator %s: the value", name);
  value = json_tokener_parse(value_json);
  if (value == NULL && strcmp(value_json, "null") != 0)
    return appc_error_make(err, ENOMEM, "isolator %s", name);
  if ((e = named_entry("name", name)) == NULL) {
    json_object_put(value);
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  }
  json_object_object_add(e, "value", value);
  return put_entry(l, APPC_LAYOUT_ISOLATORS, name, e, err);
}

int appc_layout_dependency_add(struct appc_layout *l, const char *image_name, const char *image_id,
                               const struct appc_kv_list *labels, appc_error_t *err)
{
  json_object *e = named_entry("imageName", image_name);

  if (e != NULL && image_id != NULL)
    json_object_object_add(e, "imageID", json_object_new_string(image_id));
  if (e != NULL && labels != NULL && labels->len > 0) {
    json_object *a = json_object_new_array();
    for (size_t i = 0; a != NULL && i < labels->len; i++) {
      json_object *kv = named_entry("name", labels->items[i].name);
      if (kv != NULL)
        json_object_object_add(kv, "value", json_object_new_string(labels->items[i].value));
      json_object_array_add(a, kv);
    }
    json_object_object_add(e, "labels", a);
  }
  return put_entry(l, APPC_LAYOUT_DEPENDENCIES, image_name, e, err);
}

/* ---- writing ---- */

/* The document as a valid manifest, in canonical form (spec order,
 * indented): the schema module's verdict, with the file named. */
/* Strings from the command line that JSON cannot carry (not UTF-8) and
 * numbers it has no form for (NaN, infinities): named by their place in
 * the document (PATH) and refused before the document is written out, as
 * what was given, not as the manifest file's fault. */
static int check_values(json_object *o, char *path, size_t at, size_t cap, appc_error_t *err)
{
  switch (json_object_get_type(o)) {
  case json_type_string:
    if (!appc_utf8_valid(json_object_get_string(o)))
      return appc_error_make(err, 0, "%s: not valid UTF-8", path);
    return 0;
  case json_type_double:
    if (!isfinite(json_object_get_double(o)))
      return appc_error_make(err, 0, "%s: not a finite number", path);
    return 0;
  case json_type_array:
    for (size_t i = 0; i < json_object_array_length(o); i++) {
      snprintf(path + at, cap - at, "[%zu]", i);
      if (check_values(json_object_array_get_idx(o, i), path, strlen(path), cap, err) < 0)
        return -1;
    }
    return 0;
  case json_type_object: {
    json_object_object_foreach(o, key, v)
    {
      if (!appc_utf8_valid(key))
        return appc_error_make(err, 0, "%s: a key that is not valid UTF-8", path);
      snprintf(path + at, cap - at, "%s%s", at > 0 ? "." : "", key);
      if (check_values(v, path, strlen(path), cap, err) < 0)
        return -1;
    }
    return 0;
  }
  default:
    return 0;
  }
}

/* The keys the schema does not define that a commit drops, told once it
 * has written the manifest. */
struct dropped_key {
  char *path, *suggestion;
};
struct dropped_keys {
  struct dropped_key *items;
  size_t len, cap;
};

static void dropped_add(void *data, const char *path, const char *suggestion)
{
  struct dropped_keys *d = data;
  struct dropped_key k = {strdup(path), suggestion != NULL ? strdup(suggestion) : NULL};

  /* out of memory: that warning is lost, not the edit */
  if (k.path == NULL || (suggestion != NULL && k.suggestion == NULL) ||
      APPC_ARRAY_RESERVE(d->items, d->cap, d->len + 1) < 0) {
    free(k.path);
    free(k.suggestion);
    return;
  }
  d->items[d->len++] = k;
}

static void dropped_clear(struct dropped_keys *d)
{
  for (size_t i = 0; i < d->len; i++) {
    free(d->items[i].path);
    free(d->items[i].suggestion);
  }
  free(d->items);
}

/* DOC as the canonical text of its manifest, the keys the schema does not
 * define, which it drops, told to D (may be NULL). */
static int canonical_text(json_object *doc, const char *dir, const char *file,
                          struct dropped_keys *d, char **out, size_t *len, appc_error_t *err)
{
  const char *text =
      json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
  struct appc_image_manifest *m = NULL;
  int r;

  if (text == NULL)
    return appc_error_make(err, ENOMEM, "%s", dir);
  if (appc_image_manifest_parse_warn(text, strlen(text), &m, d != NULL ? dropped_add : NULL, d,
                                     err) < 0)
    return appc_error_prefix(err, "%s/%s", dir, file);
  cleanup_free char *text_out = NULL;
  r = appc_image_manifest_serialize(m, APPC_JSON_PRETTY, &text_out, len, err);
  appc_image_manifest_free(m);
  if (r < 0)
    return -1;
  /* a text file ends with a newline */
  if (asprintf(out, "%s\n", text_out) < 0)
    return appc_error_make(err, ENOMEM, "%s", dir);
  *len += 1;
  return 0;
}

/* The manifest is written as JSON, in place of a YAML one too.  That takes
 * two steps, each leaving one manifest that reads as the new one: the JSON
 * text replaces the YAML file (JSON is YAML), then that file is renamed.
 * A kill in between leaves neither two manifests nor the old one. */
static int write_manifest(struct appc_layout *l, const char *text, size_t len, appc_error_t *err)
{
  if (appc_atomic_write_at(l->dir_fd, l->source, text, len, 0644, 0, err) < 0)
    return appc_error_prefix(err, "%s", l->dir);
  if (strcmp(l->source, LAYOUT_MANIFEST) != 0 &&
      renameat(l->dir_fd, l->source, l->dir_fd, LAYOUT_MANIFEST) < 0)
    return appc_error_make(err, errno, "%s/%s", l->dir, l->source);
  l->source = LAYOUT_MANIFEST;
  return 0;
}

int layout_manifest_text(const struct appc_layout *l, char **text, size_t *len, appc_error_t *err)
{
  return canonical_text(l->doc, l->dir, l->source, NULL, text, len, err);
}

/* ---- `layout run`'s upper layer (layout/run.c) ---- */

/* NAME of the layout directory, left by a command killed before its end
 * (the lock is ours: none is under way). */
static int remove_leftover(struct appc_layout *l, const char *name, appc_error_t *err)
{
  if (faccessat(l->dir_fd, name, F_OK, AT_SYMLINK_NOFOLLOW) != 0)
    return 0;
  if (appc_remove_tree(l->dir_fd, name, err) < 0)
    return appc_error_prefix(err, "%s", l->dir);
  return 0;
}

/* What a `layout run` killed before its end left. */
static int remove_changes(struct appc_layout *l, appc_error_t *err)
{
  return remove_leftover(l, LAYOUT_CHANGES, err);
}

/* What a `layout run` killed before its end left, removed; but if it was
 * killed while it moved the command's changes into rootfs/, the move is
 * finished first: rootfs/ with part of them is what no run made. */
static int finish_changes(struct appc_layout *l, appc_error_t *err)
{
  cleanup_free char *changes = NULL;

  if (asprintf(&changes, "%s/%s", l->dir, LAYOUT_CHANGES) < 0) {
    changes = NULL;
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  }
  if (appc_ace_commit_resume(changes, l->rootfs, err) < 0)
    return appc_error_prefix(err,
                             "%s: left by a layout run killed while it moved the command's "
                             "changes into %s, which cannot be finished (removing %s leaves "
                             "%s as it is, with part of them)",
                             changes, l->rootfs, changes, l->rootfs);
  return remove_changes(l, err);
}

int layout_changes_dir(struct appc_layout *l, char **path, appc_error_t *err)
{
  if (remove_changes(l, err) < 0)
    return -1;
  if (mkdirat(l->dir_fd, LAYOUT_CHANGES, 0700) < 0)
    return appc_error_make(err, errno, "%s/%s", l->dir, LAYOUT_CHANGES);
  if (asprintf(path, "%s/%s", l->dir, LAYOUT_CHANGES) < 0) {
    *path = NULL;
    return appc_error_make(err, ENOMEM, "%s", l->dir);
  }
  return 0;
}

int layout_changes_remove(struct appc_layout *l, appc_error_t *err)
{
  appc_error_t ignored = NULL;
  int r = remove_changes(l, err != NULL ? err : &ignored);

  appc_error_release(&ignored);
  return err != NULL ? r : 0;
}

int appc_layout_commit(struct appc_layout *l, appc_error_t *err)
{
  cleanup_free char *out = NULL;
  struct dropped_keys dropped = {0};
  size_t len = 0;
  int r;

  char path[512] = "";

  if (check_values(l->doc, path, 0, sizeof path, err) < 0)
    return appc_error_prefix(err, "%s", l->dir);
  r = canonical_text(l->doc, l->dir, l->source, &dropped, &out, &len, err);
  /* what no reader would take, the next layout command included */
  if (r == 0 && len > APPC_MANIFEST_MAX)
    r = appc_error_make(err, EFBIG, "%s/%s: %zu bytes, larger than the %u MiB limit of a manifest",
                        l->dir, LAYOUT_MANIFEST, len, APPC_MANIFEST_MAX >> 20);
  if (r == 0)
    r = write_manifest(l, out, len, err);
  for (size_t i = 0; r == 0 && l->unknown_fn != NULL && i < dropped.len; i++)
    l->unknown_fn(l->unknown_data, dropped.items[i].path, dropped.items[i].suggestion);
  dropped_clear(&dropped);
  return r;
}

void appc_layout_on_unknown_key(struct appc_layout *l, appc_unknown_key_fn fn, void *data)
{
  l->unknown_fn = fn;
  l->unknown_data = data;
}

/* ---- a new layout ---- */

static int new_manifest(const char *dir, const char *name, char **out, size_t *len,
                        appc_error_t *err)
{
  json_object *m = json_object_new_object(), *labels = json_object_new_array();

  if (m == NULL || labels == NULL) {
    json_object_put(m);
    json_object_put(labels);
    return appc_error_make(err, ENOMEM, "manifest");
  }
  json_object_object_add(m, "acKind", json_object_new_string("ImageManifest"));
  json_object_object_add(m, "acVersion", json_object_new_string(APPC_SPEC_VERSION_STRING));
  json_object_object_add(m, "name", json_object_new_string(name));
  json_object *os = named_entry("name", "os"), *arch = named_entry("name", "arch");
  if (os != NULL)
    json_object_object_add(os, "value", json_object_new_string(appc_host_os()));
  if (arch != NULL)
    json_object_object_add(arch, "value", json_object_new_string(appc_host_arch()));
  json_object_array_add(labels, os);
  json_object_array_add(labels, arch);
  json_object_object_add(m, "labels", labels);
  int r = canonical_text(m, dir, LAYOUT_MANIFEST, NULL, out, len, err);
  json_object_put(m);
  return r;
}

/* A new layout is made in DIR/.init (LAYOUT_INIT) and moved up when
 * complete, rootfs/ first and the manifest last: DIR is a layout from the
 * moment it has a manifest, never before.  A refused init leaves DIR as it
 * was (missing or empty); one killed before its end leaves LAYOUT_INIT (and
 * maybe rootfs/ moved out of it), which the next init takes for empty and
 * the next opening of the finished layout removes. */

/* Does DIR_FD hold nothing but what an init killed before its end left? */
static bool init_leftovers_only(int dir_fd)
{
  int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  bool init = false, rootfs = false, other = d == NULL;
  struct dirent *de;

  if (d == NULL && fd >= 0)
    close(fd);
  while (d != NULL && !other && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, LAYOUT_INIT) == 0)
      init = true;
    else if (strcmp(de->d_name, "rootfs") == 0)
      rootfs = true;
    else
      other = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
  }
  if (d != NULL)
    closedir(d);
  return !other && (init || !rootfs);
}

/* Remove LAYOUT_INIT and, when MOVED_UP (rootfs/ moved out of it, no
 * manifest yet), rootfs/; quietly: what failed is already said. */
static void init_remove(int fd, bool moved_up)
{
  appc_error_t ignored = NULL;

  if (faccessat(fd, LAYOUT_INIT, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    (void) appc_remove_tree(fd, LAYOUT_INIT, &ignored);
  if (moved_up && faccessat(fd, "rootfs", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    (void) appc_remove_tree(fd, "rootfs", &ignored);
  appc_error_release(&ignored);
}

/* DIR, missing or an empty directory, made if missing (*MADE) and locked
 * (*FD); an interrupted init's leftovers removed.  DIR is 0700, made so or
 * set so (as umoci sets a bundle's): rootfs/ keeps the image's mode, and
 * what an image or a layout run puts there (device nodes, set-id files,
 * writable directories) is on the host's file system, which has no nodev
 * or nosuid to keep other users from them. */
static int init_begin(const char *dir, int *fd, bool *made, appc_error_t *err)
{
  struct stat st;

  *made = mkdir(dir, 0700) == 0;
  if (!*made && errno != EEXIST)
    return appc_error_make(err, errno, "%s", dir);
  if (!*made && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
    return appc_error_make(err, EEXIST, "%s: exists and is not a directory", dir);
  if (lock_dir(dir, fd, err) < 0) {
    if (*made)
      (void) rmdir(dir);
    return -1;
  }
  /* judged under the lock: a concurrent init has finished or not begun */
  if (!init_leftovers_only(*fd)) {
    close(*fd);
    *fd = -1;
    return appc_error_make(err, EEXIST, "%s: not empty (a layout starts in a new directory)", dir);
  }
  if (fchmod(*fd, 0700) < 0) {
    int e = errno;
    close(*fd);
    *fd = -1;
    if (*made)
      (void) rmdir(dir);
    return appc_error_make(err, e, "%s: cannot keep other users out of it (mode 0700)", dir);
  }
  init_remove(*fd, true);
  return 0;
}

/* Move the layout complete in DIR/.init into DIR; R < 0 (a step before
 * failed), or a failure here, undoes the init instead: DIR as it was. */
static int init_end(int r, const char *dir, int fd, bool made, appc_error_t *err)
{
  bool moved_up = false;

  if (r == 0 && renameat(fd, LAYOUT_INIT "/rootfs", fd, "rootfs") == 0) {
    moved_up = true;
    if (renameat(fd, LAYOUT_INIT "/" LAYOUT_MANIFEST, fd, LAYOUT_MANIFEST) == 0) {
      /* a layout now: an .init left here goes at its next opening */
      (void) unlinkat(fd, LAYOUT_INIT, AT_REMOVEDIR);
      return 0;
    }
  }
  if (r == 0)
    appc_error_make(err, errno, "%s: moving the new layout into place", dir);
  init_remove(fd, moved_up);
  if (made)
    (void) rmdir(dir);
  return -1;
}

int appc_layout_create(const char *dir, const char *name, appc_error_t *err)
{
  cleanup_free char *manifest = NULL;
  cleanup_close int fd = -1;
  size_t len = 0;
  bool made = false;

  if (name == NULL || *name == '\0')
    return appc_error_tag(err, EINVAL, "%s: a new layout needs an image name", dir);
  if (new_manifest(dir, name, &manifest, &len, err) < 0 || init_begin(dir, &fd, &made, err) < 0)
    return -1;
  int r = 0;
  if (mkdirat(fd, LAYOUT_INIT, 0755) < 0 || mkdirat(fd, LAYOUT_INIT "/rootfs", 0755) < 0)
    r = appc_error_make(err, errno, "%s/%s", dir, LAYOUT_INIT);
  else if (appc_atomic_write_at(fd, LAYOUT_INIT "/" LAYOUT_MANIFEST, manifest, len, 0644,
                                APPC_WRITE_NOREPLACE, err) < 0)
    r = appc_error_prefix(err, "%s", dir);
  return init_end(r, dir, fd, made, err);
}

/* What dependencies and pathWhitelist gave is in the rendered rootfs: the
 * layout's image stands alone. */
static void flatten(struct appc_layout *l)
{
  index_drop(&l->index[APPC_LAYOUT_DEPENDENCIES]);
  json_object_object_del(l->doc, "dependencies");
  json_object_object_del(l->doc, "pathWhitelist");
}

int appc_layout_create_from(struct appc_store *s, const char *id, const char *dir, const char *name,
                            appc_error_t *err)
{
  return appc_layout_create_from_warn(s, id, dir, name, NULL, NULL, err);
}

int appc_layout_create_from_warn(struct appc_store *s, const char *id, const char *dir,
                                 const char *name, appc_unknown_key_fn fn, void *data,
                                 appc_error_t *err)
{
  struct appc_store_render_options ro = {0};
  struct appc_layout *l = NULL;
  struct dropped_keys dropped = {0};
  cleanup_free char *staging = NULL;
  cleanup_close int fd = -1;
  bool made = false;
  int r;

  /* the name first: a bad one is no reason to render the image */
  if (name != NULL && appc_validate_acidentifier(name, err) < 0)
    return appc_error_prefix(err, "%s/%s: name", dir, LAYOUT_MANIFEST);
  if (asprintf(&staging, "%s/" LAYOUT_INIT, dir) < 0) {
    staging = NULL;
    return appc_error_make(err, ENOMEM, "%s", dir);
  }
  /* refused before DIR is made, rather than by the render into it */
  if (appc_store_check_dest(s, dir, err) < 0 || init_begin(dir, &fd, &made, err) < 0)
    return -1;
  /* Rendered inside DIR, then moved up: render puts its result in place
   * by rename, which DIR itself ("." say) cannot take. */
  r = appc_store_render(s, id, staging, &ro, err);
  if (r < 0)
    appc_error_prefix(err, "%s", dir);
  else if ((r = appc_layout_open(staging, &l, err)) == 0) {
    flatten(l);
    r = name != NULL ? appc_layout_set(l, "name", name, err) : 0;
    /* the keys the commit drops are told once the layout is in place:
     * a refused init has nothing to tell */
    appc_layout_on_unknown_key(l, dropped_add, &dropped);
    if (r == 0)
      r = appc_layout_commit(l, err);
    appc_layout_close(l);
  }
  r = init_end(r, dir, fd, made, err);
  for (size_t i = 0; r == 0 && fn != NULL && i < dropped.len; i++)
    fn(data, dropped.items[i].path, dropped.items[i].suggestion);
  dropped_clear(&dropped);
  return r;
}
