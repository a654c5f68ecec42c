/* SPDX-License-Identifier: Apache-2.0 */
/* Managing the key store (docs/trust.md): reading a public key, adding it
 * for a prefix or as a root key, listing and removing key files.
 *
 * Keys are parsed by gpg in a private keyring (trust/gpg.c), never by hand:
 * what is stored is what gpg exports after importing the given data, so the
 * file holds exactly what verification will later import. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "appc/schema.h"
#include "appc/types.h"
#include "trust/internal.h"

/* ---- describing a key ---- */

void appc_trust_keyinfo_clear(struct appc_trust_keyinfo *k)
{
  free(k->fingerprint);
  for (size_t i = 0; i < k->n_user_ids; i++)
    free(k->user_ids[i]);
  free(k->user_ids);
  free(k->algorithm);
  memset(k, 0, sizeof *k);
}

static char *upper_dup(const char *s)
{
  char *d = strdup(s);

  for (char *c = d; c != NULL && *c != '\0'; c++)
    *c = (char) toupper((unsigned char) *c);
  return d;
}

static int add_user_ids(const gpgme_key_t key, struct appc_trust_keyinfo *out)
{
  size_t n = 0;

  for (gpgme_user_id_t u = key->uids; u != NULL; u = u->next)
    n++;
  if ((out->user_ids = calloc(n + 1, sizeof *out->user_ids)) == NULL)
    return -1;
  for (gpgme_user_id_t u = key->uids; u != NULL; u = u->next) {
    /* Revoked user IDs are kept: gpg marks every user ID of a revoked key
     * revoked, and the key still needs a name in a listing. */
    if (u->uid == NULL)
      continue;
    if ((out->user_ids[out->n_user_ids] = strdup(u->uid)) == NULL)
      return -1;
    out->n_user_ids++;
  }
  return 0;
}

/* gpgme's key->can_sign stays set on a revoked key: look at each subkey. */
static bool can_sign_now(const gpgme_key_t key)
{
  if (key->revoked || key->expired || key->invalid || key->disabled)
    return false;
  for (gpgme_subkey_t s = key->subkeys; s != NULL; s = s->next)
    if (s->can_sign && !s->revoked && !s->expired && !s->invalid && !s->disabled)
      return true;
  return false;
}

/* Fill OUT from KEY; -1 only when out of memory (OUT then partly filled). */
static int describe_key(const gpgme_key_t key, struct appc_trust_keyinfo *out)
{
  gpgme_subkey_t primary = key->subkeys;
  char *algo;

  memset(out, 0, sizeof *out);
  if (primary == NULL || key->fpr == NULL)
    return -1;
  out->revoked = key->revoked;
  out->expired = key->expired;
  out->can_sign = can_sign_now(key);
  out->created = primary->timestamp > 0 ? primary->timestamp : 0;
  out->expires = primary->expires > 0 ? primary->expires : 0;
  if ((algo = gpgme_pubkey_algo_string(primary)) != NULL) {
    out->algorithm = strdup(algo);
    gpgme_free(algo);
  } else {
    out->algorithm = strdup("unknown");
  }
  out->fingerprint = upper_dup(key->fpr);
  if (out->algorithm == NULL || out->fingerprint == NULL)
    return -1;
  return add_user_ids(key, out);
}

static int lookup_key(gpgme_ctx_t ctx, const char *fpr, const char *origin,
                      struct appc_trust_keyinfo *out, appc_error_t *err)
{
  cleanup_gpgme_key gpgme_key_t key = NULL;
  gpgme_error_t e;

  if ((e = gpgme_get_key(ctx, fpr, &key, 0)) != 0)
    return appc_error_make(err, 0, "%s: key %s imported but not found: %s", origin, fpr,
                           gpgme_strerror(e));
  if (describe_key(key, out) < 0) {
    appc_trust_keyinfo_clear(out);
    return appc_error_make(err, ENOMEM, "%s", origin);
  }
  return 0;
}

/* Import DATA into CTX's keyring, refusing anything but exactly one public
 * key; *FPR receives its fingerprint (owned). */
static int import_one_key(gpgme_ctx_t ctx, const char *data, size_t len, const char *origin,
                          char **fpr, appc_error_t *err)
{
  cleanup_gpgme_data gpgme_data_t d = NULL;
  gpgme_import_result_t res;
  gpgme_error_t e;
  size_t distinct;

  if (len == 0)
    return appc_error_make(err, 0, "%s: empty: an OpenPGP public key was expected", origin);
  if (len > APPC_TRUST_KEY_MAX_BYTES)
    return appc_error_make(err, 0, "%s: larger than %u bytes: not a public key", origin,
                           APPC_TRUST_KEY_MAX_BYTES);
  if (appc_openpgp_check(data, len, APPC_OPENPGP_KEY, origin, err) < 0)
    return -1;
  if ((e = gpgme_data_new_from_mem(&d, data, len, 0)) != 0)
    return appc_trust_gpgme_failure(err, e, origin);
  if ((e = gpgme_op_import(ctx, d)) != 0)
    return appc_error_make(err, 0, "%s: not an OpenPGP public key: %s", origin, gpgme_strerror(e));
  res = gpgme_op_import_result(ctx);
  /* A secret key is refused outright: it has no place in a key store, and
   * whoever passed it meant to export the public key. */
  if (res != NULL && res->secret_read > 0)
    return appc_error_make(err, 0,
                           "%s: holds secret key material; give the public key only "
                           "(gpg --armor --export FINGERPRINT)",
                           origin);
  const char *one = appc_trust_single_imported_key(res, &distinct);
  if (distinct == 0)
    return appc_error_make(err, 0, "%s: holds no OpenPGP public key that gpg could import", origin);
  if (one == NULL)
    return appc_error_make(err, 0, "%s: holds %zu keys; give one key at a time", origin, distinct);
  if ((*fpr = upper_dup(one)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", origin);
  return 0;
}

int appc_trust_read_key(struct appc_store *store, const char *data, size_t len, const char *origin,
                        struct appc_trust_keyinfo *out, appc_error_t *err)
{
  cleanup_trust_gpg struct appc_trust_gpg gpg = {0};
  cleanup_free char *fpr = NULL;

  memset(out, 0, sizeof *out);
  if (appc_trust_gpg_open(store, &gpg, err) < 0 ||
      import_one_key(gpg.ctx, data, len, origin, &fpr, err) < 0)
    return -1;
  return lookup_key(gpg.ctx, fpr, origin, out, err);
}

/* ---- prefixes and directories ---- */

static bool has_fingerprint_component(const char *prefix)
{
  for (const char *start = prefix;; start++) {
    size_t len = strcspn(start, "/");
    if ((len == 40 || len == 64) && strspn(start, "0123456789abcdefABCDEF") >= len)
      return true;
    start += len;
    if (*start == '\0')
      return false;
  }
}

int appc_trust_validate_prefix(const char *prefix, appc_error_t *err)
{
  char **v = NULL;
  size_t n = 0;

  if (strstr(prefix, "://") != NULL)
    return appc_error_make(err, 0, "prefix \"%s\": an image name prefix is not a URL", prefix);
  if (appc_trust_prefixes(prefix, &v, &n, err) < 0)
    return appc_error_prefix(err, "prefix");
  appc_trust_prefixes_free(v, n);
  if (appc_validate_acidentifier(prefix, err) < 0)
    return appc_error_prefix(err, "prefix \"%s\": no image name could match it", prefix);
  if (has_fingerprint_component(prefix))
    return appc_error_make(err, 0,
                           "prefix \"%s\": a component spelt like a key fingerprint cannot hold "
                           "keys (its directory would be a key file's name)",
                           prefix);
  return 0;
}

/* The directory holding the keys of PREFIX (NULL: root.d), relative to the
 * store directory. */
static char *key_dir_rel(const char *prefix)
{
  char *rel = NULL;

  if (prefix == NULL)
    return appc_trust_rel(TRUST_ROOT_D);
  if (asprintf(&rel, "%s/" TRUST_PREFIX_D "/%s", appc_store_area_name(APPC_STORE_AREA_TRUST),
               prefix) < 0)
    return NULL;
  return rel;
}

static int fsync_dir(const char *path, appc_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync(fd) < 0)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

/* PATH as a directory: created 0755 (and its parent fsynced, so that the
 * new entry survives a crash) unless it exists. */
static int ensure_dir(char *path, appc_error_t *err)
{
  struct stat st;

  if (mkdir(path, 0755) == 0) {
    char *slash = strrchr(path, '/');
    int r;
    if (slash == NULL || slash == path)
      return 0;
    *slash = '\0';
    r = fsync_dir(path, err);
    *slash = '/';
    return r;
  }
  if (errno != EEXIST)
    return appc_error_make(err, errno, "%s", path);
  if (stat(path, &st) < 0)
    return appc_error_make(err, errno, "%s", path);
  if (!S_ISDIR(st.st_mode))
    return appc_error_make(err, 0, "%s: exists and is not a directory", path);
  return 0;
}

/* STORE_DIR/REL and every missing directory on the way (from "trust"). */
static int make_key_dir(const char *store_dir, const char *rel, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  size_t skip = strlen(store_dir) + 1;

  if (asprintf(&path, "%s/%s", store_dir, rel) < 0)
    return appc_error_make(err, ENOMEM, "%s", rel);
  for (char *s = path + skip; *s != '\0'; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    int r = ensure_dir(path, err);
    *s = '/';
    if (r < 0)
      return -1;
  }
  return ensure_dir(path, err);
}

/* The longest name of a key file: a v5 fingerprint. */
#define KEY_FILE_NAME_MAX 64
/* How much of a long prefix messages show. */
#define PREFIX_SHOWN 64

/* Whether the system takes the paths of PREFIX's key files in STORE_DIR/REL
 * (PREFIX's key directory): no component of PREFIX longer than NAME_MAX,
 * no key file's path longer than PATH_MAX.  Checked before anything is
 * created: mkdir would refuse only on the way, directories made. */
static int check_key_dir_length(const char *store_dir, const char *rel, const char *prefix,
                                appc_error_t *err)
{
  size_t len = strlen(prefix), path = strlen(store_dir) + 1 + strlen(rel) + 1 + KEY_FILE_NAME_MAX;
  const char *more = len > PREFIX_SHOWN ? "..." : "";

  for (const char *c = prefix; *c != '\0';) {
    size_t n = strcspn(c, "/");
    if (n > NAME_MAX)
      return appc_error_make(err, 0,
                             "prefix \"%.*s%s\": a component of %zu bytes, more than the %d "
                             "a file name may have (NAME_MAX)",
                             PREFIX_SHOWN, prefix, more, n, NAME_MAX);
    c += n + (c[n] == '/');
  }
  if (path >= PATH_MAX)
    return appc_error_make(err, 0,
                           "prefix \"%.*s%s\" (%zu bytes): its key files' paths in %s would "
                           "be %zu bytes long, more than the %d a path may have (PATH_MAX, its NUL "
                           "aside)",
                           PREFIX_SHOWN, prefix, more, len, store_dir, path, PATH_MAX - 1);
  return 0;
}

/* The paths DIR/NAME of FPR's key files in DIR, whatever the case of NAME
 * (rkt writes lower case, as this does now; earlier versions wrote upper
 * case, and so does the by-hand recipe of docs/trust.md): none, one, or
 * several that verification reads alike.  Built once here, each path
 * serves for importing, comparing and removing. */
static int find_key_files(const char *dir, const char *fpr, struct appc_string_list *out,
                          appc_error_t *err)
{
  DIR *d = opendir(dir);
  struct dirent *de;
  int r = 0;

  if (d == NULL)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "%s", dir);
  for (errno = 0; r == 0 && (de = readdir(d)) != NULL; errno = 0) {
    if (strcasecmp(de->d_name, fpr) != 0)
      continue;
    if (APPC_ARRAY_EXTEND(out->items, out->len, 1) < 0 ||
        asprintf(&out->items[out->len], "%s/%s", dir, de->d_name) < 0)
      r = appc_error_make(err, ENOMEM, "%s", dir);
    else
      out->len++;
  }
  if (r == 0 && errno != 0)
    r = appc_error_make(err, errno, "%s", dir);
  closedir(d);
  return r;
}

/* ---- writing a key file ---- */

static int export_key(gpgme_ctx_t ctx, const char *fpr, char **out, size_t *len, appc_error_t *err)
{
  gpgme_data_t d = NULL;
  gpgme_error_t e;
  char *mem;

  gpgme_set_armor(ctx, 1);
  if ((e = gpgme_data_new(&d)) != 0)
    return appc_trust_gpgme_failure(err, e, fpr);
  if ((e = gpgme_op_export(ctx, fpr, 0, d)) != 0) {
    gpgme_data_release(d);
    return appc_error_make(err, 0, "%s: cannot export the key: %s", fpr, gpgme_strerror(e));
  }
  mem = gpgme_data_release_and_get_mem(d, len);
  if (mem == NULL || *len == 0) {
    gpgme_free(mem);
    return appc_error_make(err, 0, "%s: gpg exported nothing", fpr);
  }
  *out = malloc(*len);
  if (*out != NULL)
    memcpy(*out, mem, *len);
  gpgme_free(mem);
  return *out != NULL ? 0 : appc_error_make(err, ENOMEM, "%s", fpr);
}

/* Whether the file at PATH holds exactly LEN bytes of DATA. */
static bool file_holds(const char *path, const char *data, size_t len)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = malloc(len + 1);
  size_t got = 0;
  ssize_t n;

  if (fd < 0 || buf == NULL)
    return false;
  while (got <= len && (n = read(fd, buf + got, len + 1 - got)) > 0)
    got += (size_t) n;
  return got == len && memcmp(buf, data, len) == 0;
}

/* DIR/NAME holding DATA, replaced atomically and durably: readers skip the
 * hidden temporary, and a crash leaves either the old file or the new one. */
static int write_key_file(const char *dir, const char *name, const char *data, size_t len,
                          appc_error_t *err)
{
  cleanup_free char *path = NULL;

  if (asprintf(&path, "%s/%s", dir, name) < 0)
    return appc_error_make(err, ENOMEM, "%s", dir);
  return appc_atomic_write_at(AT_FDCWD, path, data, len, 0644, APPC_WRITE_DURABLE, err);
}

void appc_trust_added_clear(struct appc_trust_added *a)
{
  appc_trust_keyinfo_clear(&a->key);
  free(a->path);
  memset(a, 0, sizeof *a);
}

/* The name of the key file at PATH, one of find_key_files' paths. */
static const char *key_file_name(const char *path)
{
  return strrchr(path, '/') + 1;
}

/* FPR's key files in DIR (PATHS, from find_key_files) other than
 * FILE_NAME (another case of it) go, once FILE_NAME holds what they held. */
static int remove_other_names(const char *dir, const struct appc_string_list *paths,
                              const char *file_name, appc_error_t *err)
{
  bool removed = false;

  for (size_t i = 0; i < paths->len; i++) {
    const char *path = paths->items[i];
    if (strcmp(key_file_name(path), file_name) == 0)
      continue;
    if (unlink(path) < 0 && errno != ENOENT)
      return appc_error_make(err, errno, "%s: removing it (%s holds its key now)", path, file_name);
    removed = true;
  }
  return removed ? fsync_dir(dir, err) : 0;
}

/* With the key FPR imported in CTX: merge in every existing key file of
 * FPR in DIR (whatever its case: a revocation one of them holds must not
 * be lost), and store the result there, named by the fingerprint in lower
 * case as rkt names it (rkt refuses other names); the other files go
 * afterwards, so that a crash leaves the merged file beside them.  Fills
 * OUT->path and OUT->outcome. */
static int store_key(gpgme_ctx_t ctx, const char *store_dir, const char *rel, const char *fpr,
                     const char *origin, struct appc_trust_added *out, appc_error_t *err)
{
  cleanup_free char *dir = NULL;
  cleanup_free char *data = NULL;
  cleanup_free char *file_name = strdup(fpr);
  struct appc_string_list paths = {0};
  size_t len = 0;
  int r = -1;

  if (file_name == NULL || asprintf(&dir, "%s/%s", store_dir, rel) < 0)
    return appc_error_make(err, ENOMEM, "%s", rel);
  for (char *c = file_name; *c != '\0'; c++)
    *c = (char) tolower((unsigned char) *c);
  if (find_key_files(dir, fpr, &paths, err) < 0)
    goto out;
  for (size_t i = 0; i < paths.len; i++) {
    if (appc_trust_import_key_file(ctx, paths.items[i], fpr, err) < 0) {
      appc_error_prefix(err, "%s: not added", origin);
      goto out;
    }
  }
  if (export_key(ctx, fpr, &data, &len, err) < 0) {
    appc_error_prefix(err, "%s", origin);
    goto out;
  }
  /* unchanged: every file held the merged key already (an older name
   * alone changes, not what is trusted) */
  bool same = paths.len > 0, only_lower = paths.len == 1;
  for (size_t i = 0; i < paths.len && same; i++) {
    same = file_holds(paths.items[i], data, len);
    only_lower = only_lower && strcmp(key_file_name(paths.items[i]), file_name) == 0;
  }
  out->outcome = paths.len == 0 ? APPC_TRUST_KEY_ADDED
                 : same         ? APPC_TRUST_KEY_UNCHANGED
                                : APPC_TRUST_KEY_UPDATED;
  if (!(same && only_lower) && write_key_file(dir, file_name, data, len, err) < 0)
    goto out;
  if (remove_other_names(dir, &paths, file_name, err) < 0)
    goto out;
  if (asprintf(&out->path, "%s/%s", rel, file_name) < 0) {
    out->path = NULL;
    appc_error_make(err, ENOMEM, "%s", rel);
    goto out;
  }
  r = 0;
out:
  appc_string_list_clear(&paths);
  return r;
}

int appc_trust_add(struct appc_store *store, const char *prefix, const char *data, size_t len,
                   const char *origin, struct appc_trust_added *out, appc_error_t *err)
{
  cleanup_trust_gpg struct appc_trust_gpg gpg = {0};
  cleanup_free char *fpr = NULL;
  cleanup_free char *rel = NULL;
  const char *store_dir = appc_store_path(store);

  memset(out, 0, sizeof *out);
  if (prefix != NULL && appc_trust_validate_prefix(prefix, err) < 0)
    return -1;
  if ((rel = key_dir_rel(prefix)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", origin);
  if (prefix != NULL && check_key_dir_length(store_dir, rel, prefix, err) < 0)
    return -1;
  /* The key is checked before anything is created for it. */
  if (appc_trust_gpg_open(store, &gpg, err) < 0 ||
      import_one_key(gpg.ctx, data, len, origin, &fpr, err) < 0 ||
      make_key_dir(store_dir, rel, err) < 0 ||
      store_key(gpg.ctx, store_dir, rel, fpr, origin, out, err) < 0 ||
      lookup_key(gpg.ctx, fpr, origin, &out->key, err) < 0) {
    appc_trust_added_clear(out);
    return -1;
  }
  return 0;
}

/* ---- walking the key store ---- */

/* One entry of a key directory, hidden names aside. */
struct trust_entry {
  const char *path;   /* full path */
  const char *rel;    /* relative to the store directory */
  const char *prefix; /* the directory's prefix; NULL for root.d, "" for prefix.d */
  const char *name;
  int stat_errno; /* why stat (following symlinks) failed, or 0 */
  mode_t mode;
};
typedef int (*trust_visit_fn)(const struct trust_entry *e, void *data, appc_error_t *err);

struct trust_walk {
  const char *store_dir;
  bool recurse; /* into subdirectories, as longer prefixes */
  trust_visit_fn visit;
  void *data;
};

static int visible(const struct dirent *de)
{
  return de->d_name[0] != '.';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
  return strcmp((*a)->d_name, (*b)->d_name);
}

static void free_dirents(struct dirent **v, int n)
{
  for (int i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

static int walk_dir(const struct trust_walk *w, const char *rel, const char *prefix,
                    appc_error_t *err);

static int walk_entry(const struct trust_walk *w, const char *rel, const char *prefix,
                      const char *name, bool dirs, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_free char *child_rel = NULL;
  cleanup_free char *child_prefix = NULL;
  struct stat st = {0};
  int stat_errno = 0;

  if (asprintf(&child_rel, "%s/%s", rel, name) < 0 ||
      asprintf(&path, "%s/%s", w->store_dir, child_rel) < 0)
    return appc_error_make(err, ENOMEM, "%s", rel);
  if (stat(path, &st) < 0)
    stat_errno = errno;
  if ((stat_errno == 0 && S_ISDIR(st.st_mode)) != dirs)
    return 0;
  if (dirs) {
    if (!w->recurse)
      return 0;
    if (asprintf(&child_prefix, "%s%s%s", prefix, prefix[0] != '\0' ? "/" : "", name) < 0)
      return appc_error_make(err, ENOMEM, "%s", path);
    return walk_dir(w, child_rel, child_prefix, err);
  }
  struct trust_entry e = {path, child_rel, prefix, name, stat_errno, st.st_mode};
  return w->visit(&e, w->data, err);
}

/* Visit the entries of STORE_DIR/REL in name order, a prefix's own key
 * files before the directories of longer prefixes (whatever the case of
 * the names); a missing directory has none (ENOTDIR: a key file is where a
 * prefix directory would be). */
static int walk_dir(const struct trust_walk *w, const char *rel, const char *prefix,
                    appc_error_t *err)
{
  cleanup_free char *path = NULL;
  struct dirent **names = NULL;
  int n, r = 0;

  if (asprintf(&path, "%s/%s", w->store_dir, rel) < 0)
    return appc_error_make(err, ENOMEM, "%s", rel);
  n = scandir(path, &names, visible, by_name);
  if (n < 0)
    return errno == ENOENT || errno == ENOTDIR ? 0 : appc_error_make(err, errno, "%s", path);
  for (int pass = 0; pass < 2; pass++)
    for (int i = 0; r == 0 && i < n; i++)
      r = walk_entry(w, rel, prefix, names[i]->d_name, pass == 1, err);
  free_dirents(names, n);
  return r;
}

/* root.d when ROOT or nothing else is asked for; PREFIX's directory; every
 * prefix directory when neither is given. */
static int walk_key_store(struct trust_walk *w, const char *prefix, bool root, appc_error_t *err)
{
  cleanup_free char *rel = NULL;
  cleanup_free char *root_rel = appc_trust_rel(TRUST_ROOT_D);
  cleanup_free char *prefix_rel = appc_trust_rel(TRUST_PREFIX_D);

  if (root_rel == NULL || prefix_rel == NULL)
    return appc_error_make(err, ENOMEM, "%s", w->store_dir);
  w->recurse = false;
  if ((root || prefix == NULL) && walk_dir(w, root_rel, NULL, err) < 0)
    return -1;
  if (prefix != NULL) {
    if ((rel = key_dir_rel(prefix)) == NULL)
      return appc_error_make(err, ENOMEM, "%s", prefix);
    return walk_dir(w, rel, prefix, err);
  }
  if (root)
    return 0;
  w->recurse = true;
  return walk_dir(w, prefix_rel, "", err);
}

/* ---- listing ---- */

void appc_trust_listing_clear(struct appc_trust_listing *l)
{
  for (size_t i = 0; i < l->n; i++) {
    free(l->v[i].path);
    free(l->v[i].prefix);
    free(l->v[i].fingerprint);
    free(l->v[i].user_id);
    free(l->v[i].problem);
  }
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

struct list_walk {
  struct appc_trust_listing *out;
  struct appc_trust_gpg gpg; /* opened for the first key file */
  struct appc_store *store;
};

/* Why verification would refuse entry E without reading it, or NULL. */
static char *misplacement(const struct trust_entry *e)
{
  char *s = NULL;

  if (e->stat_errno != 0)
    return asprintf(&s, "%s", strerror(e->stat_errno)) < 0 ? NULL : s;
  if (!S_ISREG(e->mode))
    return strdup("not a regular file");
  if (!appc_trust_is_fingerprint(e->name))
    return strdup("not a trusted key file: its name must be the key's fingerprint");
  if (e->prefix != NULL && e->prefix[0] == '\0')
    return strdup("not in a prefix directory: trusted for no name");
  return NULL;
}

/* Read the key file of E into L's keyring: its first user ID, or the
 * problem that verification would meet. */
static int read_listed_key(struct list_walk *l, const struct trust_entry *e,
                           struct appc_trust_listed *item, appc_error_t *err)
{
  cleanup_error appc_error_t problem = NULL;
  struct appc_trust_keyinfo info = {0};

  if (l->gpg.ctx == NULL && appc_trust_gpg_open(l->store, &l->gpg, err) < 0)
    return -1;
  if (appc_trust_import_key_file(l->gpg.ctx, e->path, e->name, &problem) < 0 ||
      lookup_key(l->gpg.ctx, e->name, e->path, &info, &problem) < 0) {
    if (problem->errnum == ENOMEM)
      return appc_error_make(err, ENOMEM, "%s", e->path);
    item->problem = strdup(problem->msg);
    return 0;
  }
  if (info.n_user_ids > 0)
    item->user_id = steal_pointer(&info.user_ids[0]);
  appc_trust_keyinfo_clear(&info);
  return 0;
}

static int list_entry(const struct trust_entry *e, void *data, appc_error_t *err)
{
  struct list_walk *l = data;
  struct appc_trust_listed item = {0};
  if (APPC_ARRAY_EXTEND(l->out->v, l->out->n, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", e->path);
  item.path = strdup(e->rel);
  item.prefix = e->prefix != NULL ? strdup(e->prefix) : NULL;
  item.problem = misplacement(e);
  if (item.problem == NULL && e->stat_errno == 0 && S_ISREG(e->mode))
    item.fingerprint = upper_dup(e->name);
  /* Counted before reading, so that clearing the listing frees it. */
  l->out->v[l->out->n++] = item;
  if (item.path == NULL || (e->prefix != NULL && item.prefix == NULL))
    return appc_error_make(err, ENOMEM, "%s", e->path);
  if (item.problem != NULL)
    return 0;
  if (item.fingerprint == NULL)
    return appc_error_make(err, ENOMEM, "%s", e->path);
  return read_listed_key(l, e, &l->out->v[l->out->n - 1], err);
}

int appc_trust_list(struct appc_store *store, const char *prefix, bool root,
                    struct appc_trust_listing *out, appc_error_t *err)
{
  struct list_walk l = {.out = out, .gpg = {0}, .store = store};
  struct trust_walk w = {.store_dir = appc_store_path(store), .visit = list_entry, .data = &l};
  int r;

  out->v = NULL;
  out->n = 0;
  if (prefix != NULL && appc_trust_validate_prefix(prefix, err) < 0)
    return -1;
  r = walk_key_store(&w, prefix, root, err);
  appc_trust_gpg_close(&l.gpg);
  if (r < 0)
    appc_trust_listing_clear(out);
  return r;
}

/* ---- every key ---- */

static int collect_entry(const struct trust_entry *e, void *data, appc_error_t *err)
{
  cleanup_free char *dir = NULL;
  char *misplaced = misplacement(e);

  if (misplaced != NULL) {
    free(misplaced);
    return 0;
  }
  if ((dir = strndup(e->rel, strlen(e->rel) - strlen(e->name) - 1)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", e->path);
  return appc_trust_keys_add(data, dir, e->prefix, e->name, err);
}

int appc_trust_all_keys(struct appc_store *store, struct appc_trust_keys *out, appc_error_t *err)
{
  struct trust_walk w = {.store_dir = appc_store_path(store), .visit = collect_entry, .data = out};

  out->v = NULL;
  out->n = 0;
  if (walk_key_store(&w, NULL, false, err) < 0) {
    appc_trust_keys_clear(out);
    return -1;
  }
  return 0;
}

/* ---- removing ---- */

/* FINGERPRINT without spaces, upper-cased, into OUT (65 bytes). */
static int normalize_fingerprint(const char *fingerprint, char *out, appc_error_t *err)
{
  size_t n = 0;
  bool too_long = false;

  for (const char *c = fingerprint; *c != '\0' && !too_long; c++) {
    if (*c == ' ')
      continue;
    if (n == 64)
      too_long = true;
    else
      out[n++] = (char) toupper((unsigned char) *c);
  }
  out[n] = '\0';
  if (too_long || !appc_trust_is_fingerprint(out))
    return appc_error_tag(err, EINVAL,
                          "\"%s\": not a key fingerprint: give all of its 40 hex digits (64 for "
                          "a v5 key), as a listing of the trust store shows them",
                          fingerprint);
  return 0;
}

struct remove_walk {
  const char *fingerprint;
  struct appc_trust_keys *removed;
};

static int record_removed(struct appc_trust_keys *keys, const struct trust_entry *e,
                          appc_error_t *err)
{
  struct appc_trust_key k;

  if (APPC_ARRAY_EXTEND(keys->v, keys->n, 1) < 0)
    return appc_error_make(err, ENOMEM, "%s", e->path);
  k.path = strdup(e->rel);
  k.prefix = e->prefix != NULL ? strdup(e->prefix) : NULL;
  k.fingerprint = upper_dup(e->name);
  keys->v[keys->n++] = k;
  if (k.path == NULL || k.fingerprint == NULL || (e->prefix != NULL && k.prefix == NULL))
    return appc_error_make(err, ENOMEM, "%s", e->path);
  return 0;
}

/* A key file is removed whatever it holds: its name is what gives trust.
 * A dangling symlink so named goes too; directories are never visited. */
static int remove_entry(const struct trust_entry *e, void *data, appc_error_t *err)
{
  struct remove_walk *rw = data;
  cleanup_free char *dir = NULL;

  if (strcasecmp(e->name, rw->fingerprint) != 0)
    return 0;
  if (unlink(e->path) < 0)
    return appc_error_make(err, errno, "%s", e->path);
  if (record_removed(rw->removed, e, err) < 0)
    return -1;
  if ((dir = strdup(e->path)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", e->path);
  *strrchr(dir, '/') = '\0';
  return fsync_dir(dir, err);
}

int appc_trust_remove(struct appc_store *store, const char *prefix, bool root,
                      const char *fingerprint, struct appc_trust_keys *removed, appc_error_t *err)
{
  char fpr[65];
  struct remove_walk rw = {fpr, removed};
  struct trust_walk w = {.store_dir = appc_store_path(store), .visit = remove_entry, .data = &rw};

  removed->v = NULL;
  removed->n = 0;
  if (normalize_fingerprint(fingerprint, fpr, err) < 0)
    return -1;
  if (prefix != NULL && appc_trust_validate_prefix(prefix, err) < 0)
    return -1;
  if (walk_key_store(&w, prefix, root, err) < 0)
    return -1;
  if (removed->n > 0)
    return 0;
  if (prefix != NULL)
    return appc_error_make(err, 0, "%s: no such trusted key %sfor prefix \"%s\"", fpr,
                           root ? "in root.d or " : "", prefix);
  return appc_error_make(err, 0, "%s: no such trusted key %s", fpr,
                         root ? "in root.d" : "anywhere in the key store");
}
