/* SPDX-License-Identifier: Apache-2.0 */
/* appc_fetch(): what the user typed, classified; a local file imported with
 * its signature checked against the very bytes stored (<appc/fetch.h>). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc/fetch.h"
#include "appc/oci.h"
#include "appc/schema.h"
#include "appc/trust.h"
#include "common/error.h"
#include "common/abi.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "fetch/internal.h"

static bool is_url(const char *arg)
{
  return strncmp(arg, "https://", 8) == 0 || strncmp(arg, "http://", 7) == 0;
}

/* A last path element with an archive's extension, or ".aci" with more
 * after it ("hello.acii", "app.aci.gz"): a file name, mistyped or
 * missing, that discovery would only send to DNS. */
static bool looks_like_file_name(const char *arg)
{
  static const char *const extensions[] = {".tar", ".tgz", ".gz", ".bz2", ".xz", ".asc"};
  const char *base = strrchr(arg, '/');
  size_t len;

  base = base != NULL ? base + 1 : arg;
  for (const char *p = strstr(base, ".aci"); p != NULL; p = strstr(p + 1, ".aci"))
    if (p[4] == '\0' || p[4] == '.' || strlen(p + 4) <= 2)
      return true;
  len = strlen(base);
  for (size_t i = 0; i < sizeof extensions / sizeof *extensions; i++) {
    size_t n = strlen(extensions[i]);
    if (len > n && strcmp(base + len - n, extensions[i]) == 0)
      return true;
  }
  return false;
}

enum appc_fetch_kind appc_fetch_classify(const char *arg)
{
  struct stat st;
  size_t len = strlen(arg);

  if (is_url(arg))
    return APPC_FETCH_URL;
  if (strncmp(arg, "oci:", 4) == 0)
    return APPC_FETCH_OCI_LAYOUT;
  if (strncmp(arg, "docker-archive:", 15) == 0)
    return APPC_FETCH_DOCKER_ARCHIVE;
  if (strncmp(arg, "docker://", 9) == 0)
    return APPC_FETCH_DOCKER;
  /* A name never starts with "/" or "." and a file is what users end in
   * ".aci": such a path that is missing is reported as missing, not looked
   * up by discovery. */
  if (stat(arg, &st) == 0 || arg[0] == '/' || arg[0] == '.' ||
      (len > 4 && strcmp(arg + len - 4, ".aci") == 0) || looks_like_file_name(arg))
    return APPC_FETCH_FILE;
  /* The store's lookup takes every "sha512-" spec for an ID (and says
   * which rule a malformed one breaks). */
  if (strncmp(arg, APPC_IMAGE_ID_PREFIX, sizeof APPC_IMAGE_ID_PREFIX - 1) == 0)
    return APPC_FETCH_IMAGE_ID;
  return APPC_FETCH_NAME;
}

/* A copy of the file at PATH, unnamed, in the store's tmp/: the bytes that
 * are verified and then imported, whatever happens to PATH meanwhile. */
static int private_copy(struct appc_store *s, const char *path, appc_error_t *err)
{
  cleanup_close int in = open(path, O_RDONLY | O_CLOEXEC);
  cleanup_close int tmp = -1;
  cleanup_close int fd = -1;
  struct stat st;

  if (in < 0)
    return appc_error_make(err, errno, "%s: open", path);
  if (fstat(in, &st) < 0)
    return appc_error_make(err, errno, "%s: stat", path);
  if (S_ISDIR(st.st_mode))
    return appc_error_make(err, EISDIR, "%s: not an ACI", path);
  tmp = appc_store_area_open(s, APPC_STORE_AREA_TMP, true, err);
  if (tmp < 0)
    return -1;
  fd = appc_tmpfile_at(tmp);
  if (fd < 0)
    return appc_error_make(err, errno, "%s/tmp: a temporary file", appc_store_path(s));
  if (appc_copy_fd(in, fd, NULL) < 0)
    return appc_error_make(err, errno, "%s: copying it into the store", path);
  if (lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s: copy", path);
  return steal_fd(&fd);
}

static void log_signer(const struct appc_fetch_options *o, const char *path,
                       const struct appc_trust_result *res)
{
  const char *scope = res->prefix != NULL ? res->prefix : "every image name";

  if (strcmp(res->fingerprint, res->signing_fingerprint) != 0)
    appc_cb_log(o->cb, "%s: good signature by subkey %s of key %s (%s, trusted for %s)", path,
                res->signing_fingerprint, res->fingerprint, res->key_file, scope);
  else
    appc_cb_log(o->cb, "%s: good signature by key %s (%s, trusted for %s)", path, res->fingerprint,
                res->key_file, scope);
}

/* The name in the manifest of the image that FD holds (read from its
 * start, and left there): what the signature must be trusted for. */
static int manifest_name(int fd, const char *path, const struct appc_fetch_options *o, char **name,
                         appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_free char *json = NULL;
  size_t len = 0;
  struct stat st;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s", path);
  if (appc_source_open_fd(&src, fd, path, err) < 0 ||
      appc_aci_read_manifest_bounded(src, fetch_manifest_search_limit((uint64_t) st.st_size), o->cb,
                                     &json, &len, err) < 0)
    return -1;
  if (appc_image_manifest_parse(json, len, &m, err) < 0)
    return appc_error_prefix(err, "%s: manifest", path);
  *name = steal_pointer(&m->name);
  if (lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s: copy", path);
  return 0;
}

/* PATH.asc must be a good signature of FD's bytes by a key trusted for the
 * image's name. */
static int verify_copy(struct appc_store *s, int fd, const char *path,
                       const struct appc_fetch_options *o, appc_error_t *err)
{
  cleanup_free char *asc = NULL;
  cleanup_free char *name = NULL;
  struct appc_trust_result res;
  int r;

  if (manifest_name(fd, path, o, &name, err) < 0)
    return -1;
  if (asprintf(&asc, "%s.asc", path) < 0)
    return appc_error_make(err, ENOMEM, "%s", path);
  r = appc_trust_verify_fd(s, name, fd, path, asc, &res, err);
  if (r < 0 && res.signature_missing) {
    (*err)->errnum = ENOKEY; /* unverified images may be allowed */
  }
  if (r == 0)
    log_signer(o, path, &res);
  appc_trust_result_clear(&res);
  if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s: copy", path);
  return r;
}

/* Import the file at PATH; with its signature checked, from a private copy
 * that is verified first, so that what is verified is what is stored. */
static int import_file(struct appc_store *s, const char *path, const struct appc_fetch_options *o,
                       struct appc_store_image *out, bool *already, appc_error_t *err)
{
  struct appc_store_import_options io = {.cb = o->cb};
  cleanup_source struct appc_source *src = NULL;
  cleanup_close int fd = -1;

  if (o->insecure_image) {
    appc_cb_log(o->cb, "%s: signature not verified (unverified images allowed)", path);
    return appc_store_import(s, path, &io, out, already, err);
  }
  fd = private_copy(s, path, err);
  if (fd < 0 || verify_copy(s, fd, path, o, err) < 0)
    return -1;
  if (appc_source_open_fd(&src, fd, path, err) < 0)
    return -1;
  return appc_store_import_source(s, src, &io, out, already, err);
}

/* OUT's dependencies fetched too, unless O says not; OUT is cleared on
 * failure. */
static int with_dependencies(struct appc_store *s, const struct appc_fetch_options *o,
                             struct appc_store_image *out, appc_error_t *err)
{
  if (o->no_dependencies || appc_fetch_dependencies(s, out->id, o, err) == 0)
    return 0;
  appc_store_image_clear(out);
  return -1;
}

static int fetch_file(struct appc_store *s, const char *path, const struct appc_fetch_options *o,
                      struct appc_store_image *out, appc_error_t *err)
{
  bool already = false;
  struct stat st;

  /* Missing: said so, rather than what opening it says deeper down. */
  if (stat(path, &st) < 0 && errno == ENOENT) {
    /* ENOENT for callers, without its text: the message says it. */
    bool first = *err == NULL;
    appc_error_make(err, 0,
                    "%s: no such file (taken for a local ACI by its name, not looked up by "
                    "discovery)",
                    path);
    if (first && *err != NULL)
      (*err)->errnum = ENOENT;
    return -1;
  }
  if (import_file(s, path, o, out, &already, err) < 0)
    return -1;
  appc_cb_log(o->cb, "%s: %s %s", path, already ? "already in the store as" : "imported as",
              out->id);
  return with_dependencies(s, o, out, err);
}

static int fetch_name_string(struct appc_store *s, const char *arg,
                             const struct appc_fetch_options *o, struct appc_store_image *out,
                             appc_error_t *err)
{
  cleanup_free char *name = NULL;
  struct appc_kv_list labels = {0};
  int r;

  if (appc_app_string_parse(arg, &name, &labels, err) < 0)
    return -1;
  r = appc_fetch_name(s, name, &labels, o, out, err);
  appc_kv_list_clear(&labels);
  return r;
}

/* An OCI image layout: no signature to check (OCI images carry none that
 * gpg reads), so only with insecure_image. */
static int fetch_oci_layout(struct appc_store *s, const char *arg,
                            const struct appc_fetch_options *o, struct appc_store_image *out,
                            appc_error_t *err)
{
  struct appc_oci_import_options io = {.cb = o->cb, .squash = o->squash, .refresh = o->no_store};
  cleanup_free char *dir = NULL;
  cleanup_free char *ref = NULL;

  if (!o->insecure_image)
    return appc_error_tag(err, ENOKEY, "oci:%s: an OCI image carries no signature to check", arg);
  if (appc_oci_layout_ref_split(arg, &dir, &ref, err) < 0)
    return -1;
  return appc_oci_import_layout(s, dir, ref, &io, out, err);
}

static int fetch_docker_archive(struct appc_store *s, const char *arg,
                                const struct appc_fetch_options *o, struct appc_store_image *out,
                                appc_error_t *err)
{
  struct appc_oci_import_options io = {.cb = o->cb, .squash = o->squash, .refresh = o->no_store};
  cleanup_free char *file = NULL;
  cleanup_free char *repo_tag = NULL;

  if (!o->insecure_image)
    return appc_error_tag(err, ENOKEY,
                          "docker-archive:%s: a Docker image carries no signature to check", arg);
  if (appc_oci_archive_ref_split(arg, &file, &repo_tag, err) < 0)
    return -1;
  return appc_oci_import_docker_archive(s, file, repo_tag, &io, out, err);
}

/* A registry's image: no gpg signature either, unless pulled by digest,
 * which then vouches for every byte (each is checked against it). */
static int fetch_docker(struct appc_store *s, const char *arg, const struct appc_fetch_options *o,
                        struct appc_store_image *out, appc_error_t *err)
{
  struct appc_oci_import_options io = {.cb = o->cb, .squash = o->squash, .refresh = o->no_store};
  struct appc_docker_ref ref;

  if (appc_docker_ref_parse(arg, &ref, err) < 0)
    return -1;
  bool by_digest = ref.digest != NULL;
  appc_docker_ref_clear(&ref);
  if (!by_digest && !o->insecure_image)
    return appc_error_tag(err, ENOKEY,
                          "%s: a registry's image carries no signature to check: pull it by "
                          "digest (REPO@sha256:...)",
                          arg);
  if (o->http == NULL || o->store_only)
    return appc_error_make(err, 0, "%s: a registry's image is only fetched over the network", arg);
  return appc_oci_import_registry(s, o->http, arg, &io, out, err);
}

/* An image ID names content, not a place to get it from: the store has
 * it or nothing does.  Its dependencies are fetched as usual. */
static int fetch_by_id(struct appc_store *s, const char *id, const struct appc_fetch_options *o,
                       struct appc_store_image *out, appc_error_t *err)
{
  if (appc_store_lookup(s, id, out, err) < 0)
    return -1;
  return with_dependencies(s, o, out, err);
}

int appc_fetch(struct appc_store *s, const char *arg, const struct appc_fetch_options *o,
               struct appc_store_image *out, appc_error_t *err)
{
  memset(out, 0, sizeof *out);
  if (APPC_ABI_CHECK(o, appc_fetch_options, APPC_FETCH_OPTIONS_VERSION, err) < 0)
    return -1;
  o = fetch_options(o);
  switch (appc_fetch_classify(arg)) {
  case APPC_FETCH_FILE:
    return fetch_file(s, arg, o, out, err);
  case APPC_FETCH_URL:
    return appc_fetch_url(s, arg, o, out, err);
  case APPC_FETCH_OCI_LAYOUT:
    return fetch_oci_layout(s, arg + 4, o, out, err);
  case APPC_FETCH_DOCKER_ARCHIVE:
    return fetch_docker_archive(s, arg + 15, o, out, err);
  case APPC_FETCH_DOCKER:
    return fetch_docker(s, arg, o, out, err);
  case APPC_FETCH_IMAGE_ID:
    return fetch_by_id(s, arg, o, out, err);
  default:
    return fetch_name_string(s, arg, o, out, err);
  }
}
