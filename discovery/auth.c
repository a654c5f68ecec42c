/* SPDX-License-Identifier: Apache-2.0 */
/* Credentials per host, read from DIR/auth.d/NAME.json (docs/discovery.md):
 *
 *   {"actoolKind": "auth", "actoolVersion": "v1",
 *    "domains": ["example.com"], "type": "basic",
 *    "credentials": {"user": "U", "password": "P"}}
 *
 * or "type": "oauth" with {"token": "T"} (sent as a bearer token).  rkt's
 * spelling of the first two keys (rktKind, rktVersion) is accepted too, so
 * that an rkt auth.d file works unchanged, and so is rkt's file for Docker
 * registries:
 *
 *   {"rktKind": "dockerAuth", "rktVersion": "v1",
 *    "registries": ["registry.example.com:5000"],
 *    "credentials": {"user": "U", "password": "P"}}
 *
 * whose credentials are only offered to those registries (fetch docker://).  A file that does not
 * parse is an error naming it: silently ignoring it would turn into a baffling 401. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "discovery/internal.h"

#define AUTH_FILE_MAX (1u << 20)

static void entry_clear(struct appc_auth_entry *e)
{
  for (size_t i = 0; i < e->n_domains; i++)
    free(e->domains[i]);
  free(e->domains);
  free(e->user);
  free(e->password);
  free(e->token);
  free(e->file);
}

void appc_auth_clear(struct appc_auth_config *c)
{
  for (size_t i = 0; i < c->n; i++)
    entry_clear(&c->v[i]);
  free(c->v);
  c->v = NULL;
  c->n = 0;
}

static const char *get_string(struct json_object *o, const char *key)
{
  struct json_object *v;

  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
    return NULL;
  return json_object_get_string(v);
}

/* Whether the JSON string V holds a U+0000, which C strings would cut: a
 * domain "exa\u0000mple.com" must not become credentials for "exa". */
static bool has_nul(struct json_object *v)
{
  return strlen(json_object_get_string(v)) != (size_t) json_object_get_string_len(v);
}

static int dup_field(struct json_object *creds, const char *key, char **out, const char *file,
                     appc_error_t *err)
{
  const char *v = get_string(creds, key);
  struct json_object *o;

  if (v == NULL || *v == '\0')
    return appc_error_make(err, 0, "%s: credentials.%s: a non-empty string is required", file, key);
  if (json_object_object_get_ex(creds, key, &o) && has_nul(o))
    return appc_error_make(err, 0, "%s: credentials.%s: must not contain U+0000", file, key);
  *out = strdup(v);
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "%s", file);
}

static int parse_domains(struct json_object *root, const char *key, struct appc_auth_entry *e,
                         const char *file, appc_error_t *err)
{
  struct json_object *arr;
  size_t n;

  if (!json_object_object_get_ex(root, key, &arr) || !json_object_is_type(arr, json_type_array) ||
      json_object_array_length(arr) == 0)
    return appc_error_make(err, 0, "%s: %s: a non-empty array of host names is required", file,
                           key);
  n = json_object_array_length(arr);
  e->domains = calloc(n, sizeof *e->domains);
  if (e->domains == NULL)
    return appc_error_make(err, ENOMEM, "%s", file);
  for (size_t i = 0; i < n; i++) {
    struct json_object *d = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(d, json_type_string) || json_object_get_string_len(d) == 0 ||
        has_nul(d))
      return appc_error_make(err, 0, "%s: %s[%zu]: a host name is required", file, key, i);
    e->domains[i] = strdup(json_object_get_string(d));
    if (e->domains[i] == NULL)
      return appc_error_make(err, ENOMEM, "%s", file);
    e->n_domains++;
  }
  return 0;
}

static int parse_entry(struct json_object *root, struct appc_auth_entry *e, const char *file,
                       appc_error_t *err)
{
  const char *kind = get_string(root, "actoolKind");
  const char *version = get_string(root, "actoolVersion");
  const char *type = get_string(root, "type");
  struct json_object *creds;

  if (kind == NULL)
    kind = get_string(root, "rktKind");
  if (version == NULL)
    version = get_string(root, "rktVersion");
  if (kind != NULL && strcmp(kind, "dockerAuth") == 0)
    e->registry = true;
  else if (kind == NULL || strcmp(kind, "auth") != 0)
    return appc_error_make(err, 0, "%s: actoolKind: \"auth\" or \"dockerAuth\" is required", file);
  if (version == NULL || strcmp(version, "v1") != 0)
    return appc_error_make(err, 0, "%s: actoolVersion: \"v1\" is required", file);
  if (parse_domains(root, e->registry ? "registries" : "domains", e, file, err) < 0)
    return -1;
  if (!json_object_object_get_ex(root, "credentials", &creds) ||
      !json_object_is_type(creds, json_type_object))
    return appc_error_make(err, 0, "%s: credentials: an object is required", file);
  if (e->registry || (type != NULL && strcmp(type, "basic") == 0)) {
    e->type = APPC_AUTH_BASIC;
    return dup_field(creds, "user", &e->user, file, err) < 0 ||
                   dup_field(creds, "password", &e->password, file, err) < 0
               ? -1
               : 0;
  }
  if (type != NULL && (strcmp(type, "oauth") == 0 || strcmp(type, "bearer") == 0)) {
    e->type = APPC_AUTH_BEARER;
    return dup_field(creds, "token", &e->token, file, err);
  }
  return appc_error_make(err, 0, "%s: type: \"basic\" or \"oauth\" is required", file);
}

static int load_file(const char *dir, const char *name, struct appc_auth_config *c,
                     appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *buf = NULL;
  struct json_object *root;
  struct json_tokener *tok;
  size_t n = 0;

  if (asprintf(&path, "%s/%s", dir, name) < 0)
    return appc_error_make(err, ENOMEM, "%s", dir);
  /* Only a regular file: a FIFO named *.json would hold the open (and the
   * command's first request) for ever. */
  if (appc_read_file_at(AT_FDCWD, path, AUTH_FILE_MAX, APPC_READ_REGULAR, &buf, &n, err) < 0)
    return -1;
  tok = json_tokener_new();
  if (tok == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  root = json_tokener_parse_ex(tok, buf, (int) n);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  json_tokener_free(tok);
  if (root == NULL || jerr != json_tokener_success) {
    json_object_put(root);
    return appc_error_make(err, 0, "%s: not valid JSON", path);
  }
  if (APPC_ARRAY_EXTEND(c->v, c->n, 1) < 0) {
    json_object_put(root);
    return appc_error_make(err, ENOMEM, "%s", path);
  }
  memset(&c->v[c->n], 0, sizeof c->v[c->n]);
  int r = parse_entry(root, &c->v[c->n], path, err);
  json_object_put(root);
  c->v[c->n].file = steal_pointer(&path);
  c->n++;
  return r;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_json_file(const struct dirent *d)
{
  size_t len = strlen(d->d_name);

  return d->d_name[0] != '.' && len > 5 && strcmp(d->d_name + len - 5, ".json") == 0;
}

int appc_auth_load(const char *dir, struct appc_auth_config *out, appc_error_t *err)
{
  struct dirent **names = NULL;
  cleanup_close int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int n, r = 0;

  memset(out, 0, sizeof *out);
  if (dirfd < 0 && errno == ENOENT)
    return 0;
  if (dirfd < 0)
    return appc_error_make(err, errno, "%s", dir);
  n = scandirat(dirfd, ".", &names, is_json_file, by_name);
  if (n < 0)
    return appc_error_make(err, errno, "%s", dir);
  /* Files are read in name order; the first that names a host wins. */
  for (int i = 0; i < n; i++) {
    if (r == 0)
      r = load_file(dir, names[i]->d_name, out, err);
    free(names[i]);
  }
  free(names);
  if (r < 0)
    appc_auth_clear(out);
  return r;
}

static const struct appc_auth_entry *find(const struct appc_auth_config *c, bool registry,
                                          const char *host, const char *host_port)
{
  for (size_t i = 0; i < c->n; i++) {
    if (c->v[i].registry != registry)
      continue;
    for (size_t j = 0; j < c->v[i].n_domains; j++)
      if (strcasecmp(c->v[i].domains[j], host) == 0 ||
          (host_port != NULL && strcasecmp(c->v[i].domains[j], host_port) == 0))
        return &c->v[i];
  }
  return NULL;
}

const struct appc_auth_entry *appc_auth_find(const struct appc_auth_config *c, const char *host,
                                             const char *host_port)
{
  return find(c, false, host, host_port);
}

const struct appc_auth_entry *appc_auth_find_registry(const struct appc_auth_config *c,
                                                      const char *host, const char *host_port)
{
  const struct appc_auth_entry *e = find(c, true, host, host_port);

  return e != NULL ? e : find(c, false, host, host_port);
}
