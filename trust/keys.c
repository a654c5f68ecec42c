/* SPDX-License-Identifier: Apache-2.0 */
/* Which trusted key files apply to an image name (docs/trust.md): the walk
 * from root.d down the prefix.d directories of the name's prefixes. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "trust/internal.h"

void appc_trust_prefixes_free(char **prefixes, size_t n)
{
  if (prefixes == NULL)
    return;
  for (size_t i = 0; i < n; i++)
    free(prefixes[i]);
  free(prefixes);
}

static bool is_bad_component(const char *start, size_t len)
{
  return len == 0 || (len == 1 && start[0] == '.') ||
         (len == 2 && start[0] == '.' && start[1] == '.');
}

int appc_trust_prefixes(const char *name, char ***out, size_t *n, appc_error_t *err)
{
  size_t count = 1;
  const char *p;

  *out = NULL;
  *n = 0;
  for (p = name; *p != '\0'; p++)
    count += *p == '/';
  char **v = calloc(count, sizeof *v);
  if (v == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  const char *start = name;
  for (size_t i = 0; i < count; i++) {
    const char *end = strchr(start, '/');
    size_t len = end != NULL ? (size_t) (end - start) : strlen(start);
    if (is_bad_component(start, len)) {
      appc_trust_prefixes_free(v, i);
      return appc_error_make(err, 0,
                             "%s: not usable as an image name for trust: empty, \".\" or "
                             "\"..\" path component",
                             name);
    }
    v[i] = strndup(name, (size_t) (start - name) + len);
    if (v[i] == NULL) {
      appc_trust_prefixes_free(v, i);
      return appc_error_make(err, ENOMEM, "%s", name);
    }
    start += len + 1;
  }
  *out = v;
  *n = count;
  return 0;
}

void appc_trust_keys_clear(struct appc_trust_keys *keys)
{
  for (size_t i = 0; i < keys->n; i++) {
    free(keys->v[i].path);
    free(keys->v[i].prefix);
    free(keys->v[i].fingerprint);
  }
  free(keys->v);
  keys->v = NULL;
  keys->n = 0;
}

/* A v4 fingerprint is 40 hex digits, a v5 one 64. */
bool appc_trust_is_fingerprint(const char *name)
{
  size_t len = strlen(name);

  if (len != 40 && len != 64)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!isxdigit((unsigned char) name[i]))
      return false;
  return true;
}

int appc_trust_keys_add(struct appc_trust_keys *keys, const char *rel_dir, const char *prefix,
                        const char *file, appc_error_t *err)
{
  struct appc_trust_key k = {0};
  if (APPC_ARRAY_EXTEND(keys->v, keys->n, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s/%s", rel_dir, file);
  if (asprintf(&k.path, "%s/%s", rel_dir, file) < 0)
    k.path = NULL;
  k.prefix = prefix != NULL ? strdup(prefix) : NULL;
  k.fingerprint = strdup(file);
  if (k.path == NULL || (prefix != NULL && k.prefix == NULL) || k.fingerprint == NULL) {
    free(k.path);
    free(k.prefix);
    free(k.fingerprint);
    return appc_error_make(err, ENOMEM, "%s/%s", rel_dir, file);
  }
  for (char *c = k.fingerprint; *c != '\0'; c++)
    *c = (char) toupper((unsigned char) *c);
  keys->v[keys->n++] = k;
  return 0;
}

static int compare_names(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

struct name_list {
  char **v;
  size_t n;
};

static void name_list_clear(struct name_list *l)
{
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
}

#define cleanup_name_list __attribute__((cleanup(name_list_clear)))

static void closedirp(DIR **d)
{
  if (*d != NULL)
    closedir(*d);
}

/* The names in D but hidden ones (temporaries of whoever writes keys),
 * sorted so that keys are always considered in the same order. */
static int read_visible_names(DIR *d, const char *path, struct name_list *out, appc_error_t *err)
{
  struct dirent *de;

  for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
    if (de->d_name[0] == '.')
      continue;
    if (APPC_ARRAY_EXTEND(out->v, out->n, 1) < 0)
      return appc_error_make(err, ENOMEM, "%s", path);
    if ((out->v[out->n] = strdup(de->d_name)) == NULL)
      return appc_error_make(err, ENOMEM, "%s", path);
    out->n++;
  }
  if (errno != 0)
    return appc_error_make(err, errno, "%s", path);
  if (out->n > 1)
    qsort(out->v, out->n, sizeof *out->v, compare_names);
  return 0;
}

/* Add the key files of STORE_DIR/REL_DIR, trusted for PREFIX (NULL: all). */
static int add_keys_of_dir(const char *store_dir, const char *rel_dir, const char *prefix,
                           struct appc_trust_keys *keys, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_name_list struct name_list names = {0};
  __attribute__((cleanup(closedirp))) DIR *d = NULL;

  if (asprintf(&path, "%s/%s", store_dir, rel_dir) < 0)
    return appc_error_make(err, ENOMEM, "%s", rel_dir);
  d = opendir(path);
  /* No directory, no keys.  ENOTDIR: a shorter prefix's directory holds a
   * key file spelt like this name's last component, not a subdirectory. */
  if (d == NULL && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (d == NULL)
    return appc_error_make(err, errno, "%s", path);
  if (read_visible_names(d, path, &names, err) < 0)
    return -1;
  for (size_t i = 0; i < names.n; i++) {
    struct stat st;
    if (fstatat(dirfd(d), names.v[i], &st, 0) < 0)
      return appc_error_make(err, errno, "%s/%s", path, names.v[i]);
    if (S_ISDIR(st.st_mode))
      continue; /* a longer prefix */
    if (!S_ISREG(st.st_mode))
      return appc_error_make(err, 0, "%s/%s: not a regular file", path, names.v[i]);
    if (!appc_trust_is_fingerprint(names.v[i]))
      return appc_error_make(err, 0,
                             "%s/%s: not a trusted key file: its name must be the key's "
                             "fingerprint (40 hex digits, 64 for a v5 key)",
                             path, names.v[i]);
    if (appc_trust_keys_add(keys, rel_dir, prefix, names.v[i], err) < 0)
      return -1;
  }
  return 0;
}

char *appc_trust_rel(const char *sub)
{
  char *rel = NULL;

  return asprintf(&rel, "%s/%s", appc_store_area_name(APPC_STORE_AREA_TRUST), sub) < 0 ? NULL : rel;
}

int appc_trust_keys_for_name(struct appc_store *store, const char *name,
                             struct appc_trust_keys *out, appc_error_t *err)
{
  const char *store_dir = appc_store_path(store);
  cleanup_free char *root = appc_trust_rel(TRUST_ROOT_D);
  char **prefixes = NULL;
  size_t n = 0;
  int r;

  out->v = NULL;
  out->n = 0;
  if (root == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  if (appc_trust_prefixes(name, &prefixes, &n, err) < 0)
    return -1;
  r = add_keys_of_dir(store_dir, root, NULL, out, err);
  for (size_t i = 0; r == 0 && i < n; i++) {
    cleanup_free char *rel = NULL;
    if (asprintf(&rel, "%s/" TRUST_PREFIX_D "/%s", appc_store_area_name(APPC_STORE_AREA_TRUST),
                 prefixes[i]) < 0)
      r = appc_error_make(err, ENOMEM, "%s", name);
    else
      r = add_keys_of_dir(store_dir, rel, prefixes[i], out, err);
  }
  appc_trust_prefixes_free(prefixes, n);
  if (r < 0)
    appc_trust_keys_clear(out);
  return r;
}
