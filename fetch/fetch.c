/* SPDX-License-Identifier: Apache-2.0 */
/* Fetching images by name or URL into the store (<appc/fetch.h>): discovery,
 * download, checks and signature, then import, dependencies first. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "appc/aci.h"
#include "common/error.h"
#include "common/abi.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/hashmap.h"
#include "common/fs.h"
#include "common/lockwait.h"
#include "common/lazy.h"
#include "appc/fetch.h"
#include "schema/json.h"
#include "appc/schema.h"
#include "appc/trust.h"
#include "fetch/internal.h"

#define ASC_MAX (1u << 20)
#define RECORD_MAX (64u << 10)
/* No deeper than a render could take the image. */
#define MAX_DEPTH APPC_STORE_MAX_LAYERS
/* Endpoints of one name tried at most (docs/discovery.md). */
#define FETCH_MAX_ENDPOINTS 16

/* What the image at a URL must be, when something says so. */
struct expect {
  const char *name;                  /* the manifest's name; NULL: any */
  const struct appc_kv_list *labels; /* labels asked for; may be NULL */
  const char *id;                    /* a dependency's imageID; may be NULL */
  uint64_t size;                     /* a dependency's size; 0: any */
  bool dependency;                   /* one in the store will do */
};

#define flog(o, ...) appc_cb_log((o)->cb, __VA_ARGS__)

/* How telling the failure of an endpoint is.  When every endpoint fails,
 * the most telling failure is reported (the last of equals), as docker's
 * pull lets no "not found" of a mirror hide a real error: a signature by
 * a key not trusted for the name at one endpoint, then a 404 at the next,
 * is reported as the signature's failure. */
enum weight {
  WEIGHT_GONE,      /* a 404 or 410, of the signature or the image: nothing there */
  WEIGHT_OTHER,     /* the network, the server, a damaged image */
  WEIGHT_MISMATCH,  /* an image other than the one asked for (name, labels, ID, size) */
  WEIGHT_SIGNATURE, /* a signature that does not vouch for the image (bad, untrusted key) */
};

/* ---- files ------------------------------------------------------------- */

/* SHA-256 of URL in hex: the name of its download and cache record. */
static void url_key(const char *url, char out[65])
{
  unsigned char md[32];
  unsigned int len = 0;

  EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL);
  for (unsigned i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Write DATA to PATH atomically and durably (mode 0600, as the download
 * state and the cache records it holds have always been). */
static int write_atomic(const char *path, const char *data, size_t len, appc_error_t *err)
{
  return appc_atomic_write_at(AT_FDCWD, path, data, len, 0600, APPC_WRITE_DURABLE, err);
}

static json_object *read_json(const char *path)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  char buf[RECORD_MAX];
  ssize_t n;

  if (fd < 0)
    return NULL;
  n = read(fd, buf, sizeof buf - 1);
  if (n <= 0)
    return NULL;
  buf[n] = '\0';
  return json_tokener_parse(buf);
}

static char *json_dup(json_object *o, const char *key)
{
  json_object *v;

  if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
      !json_object_is_type(v, json_type_string))
    return NULL;
  return strdup(json_object_get_string(v));
}

/* ---- the HTTP cache record of a URL ------------------------------------ */

/* What a verification of the stored image found: the signature (its
 * SHA-256), the trusted key file that vouched for it (its path in the store
 * and SHA-256) and the name it was checked for, and when the signature and
 * the key expire (0: never; the key's -1: not known).  A 304 that brings
 * the same signature, vouched for by the same key file for the same name,
 * needs no second look at the stored image: gpg would read the same bytes
 * with the same key (some 300 ms for a 60 MB image).  While neither has
 * expired, it needs no gpg at all: gpg's verdict on the same signature by
 * the same key file could change only with time (a revocation comes as a
 * new key file), and a repeat fetch saves its four processes. */
struct memo {
  char *asc;
  char *key_file;
  char *key_sha256;
  char *name;
  int64_t signature_expires;
  int64_t key_expires;
};

/* The SHA-256 (hex) of the file NAME in the directory DIR (NULL: NAME is a
 * path), or NULL when it cannot be read (a signature or key file holds
 * some KB). */
static char *file_sha256(const char *dir, const char *name)
{
  cleanup_free char *path = NULL;
  cleanup_free char *buf = NULL;
  cleanup_error appc_error_t ignored = NULL;
  char hex[APPC_DIGEST_HEX_MAX];
  size_t len = 0;

  if (dir != NULL && asprintf(&path, "%s/%s", dir, name) < 0)
    return NULL;
  if (appc_read_file_at(AT_FDCWD, path != NULL ? path : name, 1u << 20, APPC_READ_REGULAR, &buf,
                        &len, &ignored) < 0 ||
      appc_digest_buffer(APPC_DIGEST_SHA256, buf, len, hex, &ignored) < 0)
    return NULL;
  return strdup(hex);
}

static void memo_clear(struct memo *m)
{
  free(m->asc);
  free(m->key_file);
  free(m->key_sha256);
  free(m->name);
  memset(m, 0, sizeof *m);
}

/* M, for the verification of NAME by RES of the signature at ASC_PATH. */
static void memo_fill(struct appc_store *s, struct memo *m, const char *name, const char *asc_path,
                      const struct appc_trust_result *res)
{
  memo_clear(m);
  m->asc = file_sha256(NULL, asc_path);
  m->key_file = res->key_file != NULL ? strdup(res->key_file) : NULL;
  m->key_sha256 = res->key_file != NULL ? file_sha256(appc_store_path(s), res->key_file) : NULL;
  m->name = strdup(name);
  m->signature_expires = res->signature_expires;
  m->key_expires = res->key_expires;
}

static bool expired(int64_t when)
{
  return when != 0 && (int64_t) time(NULL) >= when;
}

/* Does M still hold for the signature at ASC_PATH, for NAME (NULL: any
 * name; the stored image's is compared after the 304)?  The same signature
 * and the same key file, neither expired (a record of an older actool,
 * which did not note the key's expiry, is verified again, once). */
static bool memo_holds(struct appc_store *s, const struct memo *m, const char *asc_path,
                       const char *name)
{
  cleanup_free char *asc = NULL;
  cleanup_free char *key = NULL;

  if (m->asc == NULL || m->key_file == NULL || m->key_sha256 == NULL || m->name == NULL ||
      (name != NULL && strcmp(m->name, name) != 0))
    return false;
  if (expired(m->signature_expires) || m->key_expires < 0 || expired(m->key_expires))
    return false;
  asc = file_sha256(NULL, asc_path);
  key = file_sha256(appc_store_path(s), m->key_file);
  return asc != NULL && key != NULL && strcmp(asc, m->asc) == 0 && strcmp(key, m->key_sha256) == 0;
}

struct record {
  char *etag;
  char *last_modified;
  char *image;
  struct memo verified; /* empty: none (fetched unverified, or by an older actool) */
};

static void record_clear(struct record *r)
{
  free(r->etag);
  free(r->last_modified);
  free(r->image);
  memo_clear(&r->verified);
  memset(r, 0, sizeof *r);
}

/* O's member KEY, an integer, else DEFAULT when O has no KEY, else -2. */
static int64_t json_int64(json_object *o, const char *key, int64_t def)
{
  json_object *v = NULL;

  if (!json_object_object_get_ex(o, key, &v))
    return def;
  return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -2;
}

static void record_read(const char *path, const char *url, struct record *r)
{
  json_object *o = read_json(path);
  cleanup_free char *u = json_dup(o, "url");

  memset(r, 0, sizeof *r);
  /* A record of another URL (a hash collision, or a hand-edited file) is
   * worth nothing. */
  if (u != NULL && strcmp(u, url) == 0) {
    r->etag = json_dup(o, "etag");
    r->last_modified = json_dup(o, "lastModified");
    r->image = json_dup(o, "image");
    json_object *v = NULL;
    if (json_object_object_get_ex(o, "verified", &v)) {
      r->verified.asc = json_dup(v, "asc");
      r->verified.key_file = json_dup(v, "keyFile");
      r->verified.key_sha256 = json_dup(v, "keySha256");
      r->verified.name = json_dup(v, "name");
      r->verified.signature_expires = json_int64(v, "signatureExpires", 0);
      /* (an older actool's record: not known) */
      r->verified.key_expires = json_int64(v, "keyExpires", -1);
      /* a record this code did not write is worth nothing */
      if (r->verified.signature_expires < 0 || r->verified.key_expires < -1)
        memo_clear(&r->verified);
    }
  }
  json_object_put(o);
}

/* ETAG and LAST_MODIFIED: the response's validators; M: what verified
 * IMAGE (none when M->asc is NULL). */
static int record_write(const char *path, const char *url, const char *etag,
                        const char *last_modified, const char *image, const struct memo *m,
                        appc_error_t *err)
{
  json_object *o = json_object_new_object();
  int r;

  json_object_object_add(o, "url", json_object_new_string(url));
  if (etag != NULL)
    json_object_object_add(o, "etag", json_object_new_string(etag));
  if (last_modified != NULL)
    json_object_object_add(o, "lastModified", json_object_new_string(last_modified));
  json_object_object_add(o, "image", json_object_new_string(image));
  if (m->asc != NULL && m->key_file != NULL && m->key_sha256 != NULL && m->name != NULL) {
    json_object *v = json_object_new_object();
    json_object_object_add(v, "asc", json_object_new_string(m->asc));
    json_object_object_add(v, "keyFile", json_object_new_string(m->key_file));
    json_object_object_add(v, "keySha256", json_object_new_string(m->key_sha256));
    json_object_object_add(v, "name", json_object_new_string(m->name));
    json_object_object_add(v, "signatureExpires", json_object_new_int64(m->signature_expires));
    json_object_object_add(v, "keyExpires", json_object_new_int64(m->key_expires));
    json_object_object_add(o, "verified", v);
  }
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  r = write_atomic(path, text, strlen(text), err);
  json_object_put(o);
  return r;
}

/* ---- one download ------------------------------------------------------ */

/* The files of one URL's download. */
struct dl_paths {
  char *aci;    /* tmp/download-KEY.aci: the partial or complete download */
  char *state;  /* tmp/download-KEY.json: what the partial is a part of */
  char *asc;    /* tmp/download-KEY.aci.asc */
  char *record; /* cache/http/KEY.json */
};

static void dl_paths_clear(struct dl_paths *p)
{
  free(p->aci);
  free(p->state);
  free(p->asc);
  free(p->record);
}

static int dl_paths_make(struct appc_store *s, const char *url, struct dl_paths *p,
                         appc_error_t *err)
{
  cleanup_free char *tmp = appc_store_area_path(s, APPC_STORE_AREA_TMP);
  cleanup_free char *cache = appc_store_area_path(s, APPC_STORE_AREA_HTTP_CACHE);
  cleanup_close int fd = -1;
  char key[65];

  memset(p, 0, sizeof *p);
  url_key(url, key);
  if (tmp == NULL || cache == NULL || asprintf(&p->aci, "%s/download-%s.aci", tmp, key) < 0 ||
      asprintf(&p->state, "%s/download-%s.json", tmp, key) < 0 ||
      asprintf(&p->asc, "%s/download-%s.aci.asc", tmp, key) < 0 ||
      asprintf(&p->record, "%s/%s.json", cache, key) < 0)
    return appc_error_make(err, ENOMEM, "%s", url);
  fd = appc_store_area_open(s, APPC_STORE_AREA_HTTP_CACHE, true, err);
  return fd < 0 ? -1 : 0;
}

struct started_ctx {
  const struct appc_fetch_options *o;
  const char *url;
  const char *state_path;
  struct appc_trust_verifier **verifier; /* closed when a body comes */
};

static void on_progress(void *data, uint64_t done, uint64_t total)
{
  struct started_ctx *c = data;

  appc_cb_progress(c->o->cb, APPC_PROGRESS_DOWNLOAD, c->url, done, total);
}

/* Record, before the bytes arrive, which version of URL the partial file
 * holds, so that a later run resumes only the same version (If-Range). */
static void on_started(void *data, const char *validator, bool restarted)
{
  struct started_ctx *c = data;
  cleanup_error appc_error_t ignored = NULL;
  json_object *o = json_object_new_object();

  (void) restarted;
  /* A revalidation's keyring served only a 304: the store's lock goes
   * before the body, however long, is downloaded. */
  appc_trust_verifier_close(*c->verifier);
  *c->verifier = NULL;
  json_object_object_add(o, "url", json_object_new_string(c->url));
  if (validator != NULL)
    json_object_object_add(o, "validator", json_object_new_string(validator));
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  if (validator == NULL)
    unlink(c->state_path); /* nothing to resume against */
  else
    (void) write_atomic(c->state_path, text, strlen(text), &ignored);
  json_object_put(o);
}

static void remove_download(const struct dl_paths *p)
{
  unlink(p->aci);
  unlink(p->state);
  unlink(p->asc);
}

static bool fetch_expired(const void *h)
{
  return h != NULL && appc_http_operation_expired(h);
}

/* Lock FD, URL's partial file PATH: a fetch that waits for another says
 * so, and waits no longer than its deadline. */
static int lock_partial_fd(const struct appc_fetch_options *o, const char *url, const char *path,
                           int fd, appc_error_t *err)
{
  if (appc_flock_until(fd, LOCK_EX, o->cb, fetch_expired, o->http,
                       "another fetch of %s (the lock of %s)", url, path) == 0)
    return 0;
  if (errno == ETIMEDOUT)
    return appc_http_operation_timeout(
        o->http, err, "%s: another fetch still downloads it (the lock of %s)", url, path);
  if (errno == ECANCELED)
    return appc_error_make(err, ECANCELED, "%s", url);
  return appc_error_make(err, errno, "%s", path);
}

/* Open PATH (URL's partial file) locked: two fetches of one URL take turns
 * on it.  The one that waited must find the file still there, not the
 * inode that the other has unlinked after importing it. */
static int lock_partial(const struct appc_fetch_options *o, const char *url, const char *path,
                        struct stat *st, appc_error_t *err)
{
  for (;;) {
    struct stat now;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0)
      return appc_error_make(err, errno, "%s", path);
    if (lock_partial_fd(o, url, path, fd, err) < 0) {
      close(fd);
      return -1;
    }
    if (fstat(fd, st) < 0) {
      int e = errno;
      close(fd);
      return appc_error_make(err, e, "%s", path);
    }
    if (stat(path, &now) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev)
      return fd;
    close(fd);
  }
}

/* Download URL into P->aci (FD, locked: lock_partial, whose ST it
 * was), resuming a partial download of the same version.  D->status 304
 * when the cached record's image is still current. */
static int download_aci(const struct appc_fetch_options *o, const char *url,
                        const struct dl_paths *p, int fd, const struct stat *st,
                        const struct record *rec, const struct expect *ex,
                        struct appc_trust_verifier **verifier, struct appc_http_download *d,
                        appc_error_t *err)
{
  struct started_ctx sc = {.o = o, .url = url, .state_path = p->state, .verifier = verifier};
  cleanup_free char *validator = NULL;
  int r;

  json_object *state = read_json(p->state);
  cleanup_free char *state_url = json_dup(state, "url");
  validator = json_dup(state, "validator");
  json_object_put(state);
  d->url = url;
  d->fd = fd;
  if (validator != NULL && state_url != NULL && strcmp(state_url, url) == 0 && st->st_size > 0) {
    d->have = (uint64_t) st->st_size;
    d->validator = validator;
    flog(o, "%s: resuming a download from byte %llu", url, (unsigned long long) d->have);
  }
  if (rec->image != NULL && d->have == 0) {
    d->etag = rec->etag;
    d->last_modified = rec->last_modified;
  }
  d->max_size = ex->size;
  d->progress = on_progress;
  d->started = on_started;
  d->progress_data = &sc;
  r = appc_http_download(o->http, d, err);
  d->validator = NULL;
  d->etag = d->last_modified = NULL;
  return r;
}

/* ---- checks ------------------------------------------------------------ */

static bool has_label(const struct appc_kv_list *labels, const char *name, const char *value)
{
  for (size_t i = 0; i < labels->len; i++)
    if (labels->items[i].name != NULL && strcmp(labels->items[i].name, name) == 0)
      return strcmp(labels->items[i].value, value) == 0;
  return false;
}

/* The downloaded image must be what was asked for (spec/discovery.md,
 * "Validation"): the same name, and every label asked for with the same
 * value.  *OUT receives the manifest (its name is what the signature must
 * be trusted for; its dependencies come next). */
/* M (of the image at URL) is named and labelled as EX asks. */
static int check_expected(const char *url, const struct appc_image_manifest *m,
                          const struct expect *ex, appc_error_t *err)
{
  if (ex->name != NULL && strcmp(m->name, ex->name) != 0)
    return appc_error_make(err, 0, "%s: the image is named \"%s\", not \"%s\" as asked", url,
                           m->name, ex->name);
  for (size_t i = 0; ex->labels != NULL && i < ex->labels->len; i++) {
    const struct appc_kv *want = &ex->labels->items[i];
    if (!has_label(&m->labels, want->name, want->value))
      return appc_error_make(err, 0, "%s: label mismatch: %s=%s was asked, the image has %s", url,
                             want->name, want->value,
                             has_label(&m->labels, want->name, "") ? "it empty"
                                                                   : "another value or none");
  }
  return 0;
}

/* The manifest of the download PATH, checked against what EX expects.  It
 * must come within LIMIT bytes of other entries (UINT64_MAX when the
 * download's signature is checked already: fetch_manifest_search_limit). */
static int check_manifest(const struct appc_fetch_options *o, const char *url, const char *path,
                          uint64_t limit, const struct expect *ex, struct appc_image_manifest **out,
                          enum weight *weight, appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;
  cleanup_free char *json = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  size_t len = 0;

  if (appc_source_open_path(&src, path, err) < 0 ||
      appc_aci_read_manifest_bounded(src, limit, o->cb, &json, &len, err) < 0 ||
      appc_image_manifest_parse(json, len, &m, err) < 0) {
    /* PATH is a temporary, removed by the time the user reads this: the
     * download is known by its URL. */
    appc_error_rename(*err, path, url);
    if (strncmp((*err)->msg, url, strlen(url)) != 0)
      appc_error_prefix(err, "%s", url);
    return -1;
  }
  if (check_expected(url, m, ex, err) < 0) {
    *weight = WEIGHT_MISMATCH;
    return -1;
  }
  *out = steal_pointer(&m);
  return 0;
}

static int fetch_signature(const struct appc_fetch_options *o, const char *asc_url,
                           const char *path, appc_error_t *err)
{
  cleanup_free char *body = NULL;
  size_t len = 0;
  long status = 0;

  if (appc_http_get(o->http, asc_url, ASC_MAX, &body, &len, &status, err) < 0 && status == 404) {
    appc_error_release(err);
    return appc_error_tag(err, ENOKEY, "%s: no signature (404 Not Found)", asc_url);
  }
  if (body == NULL)
    return appc_error_prefix(err, "signature");
  return write_atomic(path, body, len, err);
}

/* The temporaries are gone by the time the user reads ERR: name the URLs
 * they came from instead. */
static void name_urls(appc_error_t *err, const char *url, const char *asc_url,
                      const struct dl_paths *p)
{
  appc_error_rename(*err, p->asc, asc_url);
  appc_error_rename(*err, p->aci, url);
  if (strncmp((*err)->msg, asc_url, strlen(asc_url)) != 0)
    appc_error_prefix(err, "%s", asc_url);
}

/* The check of the signature at ASC_URL failed with ERR: the URLs named,
 * and *WEIGHT set.  Without an errno, the trust store refused it. */
static void signature_refused(appc_error_t *err, const char *url, const char *asc_url,
                              const struct dl_paths *p, enum weight *weight)
{
  *weight = (*err)->errnum == 0 ? WEIGHT_SIGNATURE : WEIGHT_OTHER;
  name_urls(err, url, asc_url, p);
}

/* Before any byte of the image at URL: its signature, at ASC_URL, must be
 * there and made by a key trusted for NAME (NULL, for an image fetched by
 * URL: by any trusted key, its manifest naming it later), as rkt's
 * fetchVerifiedURL has it.  An endless body nobody trusted vouches for is
 * then never downloaded.  Whether it signs the image is verify's, later.
 * With KEEP, the keyring stays open there for verify (a revalidation,
 * which a 304 may answer).  KNOWN: what verified the stored image (a
 * revalidation's record); when it holds for this signature, its key file
 * vouches for it, no keyring is made, and *BY_KNOWN says so. */
static int signature_first(struct appc_store *s, const struct appc_fetch_options *o,
                           const char *url, const char *asc_url, const char *name,
                           const struct dl_paths *p, const struct memo *known,
                           struct appc_trust_verifier **keep, bool *by_known, enum weight *weight,
                           appc_error_t *err)
{
  struct appc_trust_verifier *v = NULL;
  struct appc_trust_result res = {0};
  int r;

  *by_known = false;
  if (o->insecure_image)
    return 0;
  if (fetch_signature(o, asc_url, p->asc, err) < 0)
    return -1;
  if (known != NULL && memo_holds(s, known, p->asc, name)) {
    *by_known = true;
    flog(o, "%s: the signature that verified the stored image, with %s", asc_url, known->key_file);
    return 0;
  }
  if (keep == NULL)
    r = appc_trust_check_signer(s, name, p->asc, &res, err);
  else if ((r = appc_trust_verifier_open(s, name, &v, err)) == 0 &&
           (r = appc_trust_verifier_check_signer(v, p->asc, &res, err)) == 0)
    *keep = steal_pointer(&v);
  appc_trust_verifier_close(v);
  if (r < 0)
    signature_refused(err, url, asc_url, p, weight);
  else
    flog(o, "%s: signed by %s (%s); downloading %s", asc_url, res.fingerprint, res.key_file, url);
  appc_trust_result_clear(&res);
  return r;
}

/* The signature signature_first fetched, of the image NAME downloaded from
 * URL (P's), or, with STORED_ID, of the store's copy the server says is
 * unchanged (a 304): checked again against the keys trusted now, since
 * that copy may have been fetched unverified, or by a key no longer
 * trusted: with the keyring signature_first kept, V, when there is one.
 * MEMO receives what verified it (nothing when it was not checked). */
static int verify(struct appc_store *s, const struct appc_fetch_options *o, const char *url,
                  const char *asc_url, const char *name, const struct dl_paths *p,
                  const char *stored_id, struct appc_trust_verifier *v, struct memo *memo,
                  enum weight *weight, appc_error_t *err)
{
  struct appc_trust_result res;
  cleanup_close int blob = -1;
  int r;

  if (o->insecure_image) {
    flog(o, "%s: signature not checked (unverified images allowed)", url);
    return 0;
  }
  if (stored_id != NULL && (blob = appc_store_open_blob(s, stored_id, err)) < 0)
    return appc_error_prefix(err, "%s", url);
  if (stored_id != NULL && v != NULL)
    r = appc_trust_verifier_verify_fd(v, name, blob, url, p->asc, &res, err);
  else if (stored_id != NULL)
    r = appc_trust_verify_fd(s, name, blob, url, p->asc, &res, err);
  else
    r = appc_trust_verify(s, name, p->aci, p->asc, &res, err);
  if (r < 0)
    signature_refused(err, url, asc_url, p, weight);
  else
    flog(o, "%s: good signature by %s (%s)", asc_url, res.fingerprint, res.key_file);
  if (r == 0)
    memo_fill(s, memo, name, p->asc, &res);
  appc_trust_result_clear(&res);
  return r;
}

/* An image imported for nothing (the wrong dependency) leaves again,
 * unless another import has taken it meanwhile (the log says so, or why it
 * stays). */
static void unimport(struct appc_store *s, const struct appc_fetch_options *o,
                     const struct appc_store_image *img, bool already)
{
  appc_error_t e = NULL;
  bool kept = false;

  if (already)
    return;
  (void) appc_store_remove_unclaimed(s, img->id, &img->import_time, &kept, &e);
  appc_store_log_unremoved(o->cb, img->id, kept, &e);
}

/* Import the download, FD (handed over), from its start. */
static int import(struct appc_store *s, const struct appc_fetch_options *o, const char *url, int fd,
                  const struct expect *ex, struct appc_store_image *out, enum weight *weight,
                  appc_error_t *err)
{
  struct appc_store_import_options io = {.cb = o->cb};
  cleanup_source struct appc_source *src = NULL;
  bool already = false;

  if (lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s: the download", url);
  if (appc_source_open_fd(&src, fd, url, err) < 0 ||
      appc_store_import_source(s, src, &io, out, &already, err) < 0) {
    if (strncmp((*err)->msg, url, strlen(url)) != 0)
      appc_error_prefix(err, "%s", url);
    return -1;
  }
  if (ex->id != NULL && strcmp(out->id, ex->id) != 0) {
    *weight = WEIGHT_MISMATCH;
    unimport(s, o, out, already);
    appc_error_make(err, 0, "%s: image ID %s, but the dependency asks for %s", url, out->id,
                    ex->id);
    appc_store_image_clear(out);
    return -1;
  }
  flog(o, "%s: %s %s", url, already ? "already in the store as" : "imported as", out->id);
  return 0;
}

/* The cached image, when the server says URL has not changed: held to
 * what is asked now as a download is (a URL shared by several names or
 * versions gives each the same bytes, and only one of them is right). */
static int cached_image(struct appc_store *s, const struct appc_fetch_options *o, const char *url,
                        const struct record *rec, const struct expect *ex,
                        struct appc_store_image *out, enum weight *weight, appc_error_t *err)
{
  cleanup_image_manifest struct appc_image_manifest *m = NULL;

  if (appc_store_lookup(s, rec->image, out, err) < 0)
    return appc_error_prefix(err, "%s: 304 Not Modified", url);
  if (ex->id != NULL && strcmp(out->id, ex->id) != 0) {
    *weight = WEIGHT_MISMATCH;
    appc_store_image_clear(out);
    return appc_error_make(err, 0, "%s: image ID %s, but the dependency asks for %s", url,
                           rec->image, ex->id);
  }
  if (ex->size != 0 && out->blob_size != ex->size) {
    *weight = WEIGHT_MISMATCH;
    appc_store_image_clear(out);
    return appc_error_make(err, 0, "%s: %llu bytes, but the dependency declares %llu", url,
                           out->blob_size, (unsigned long long) ex->size);
  }
  if (appc_store_load_manifest(s, out->id, &m, err) < 0) {
    appc_store_image_clear(out);
    return -1;
  }
  if (check_expected(url, m, ex, err) < 0) {
    *weight = WEIGHT_MISMATCH;
    appc_store_image_clear(out);
    return -1;
  }
  flog(o, "%s: not modified, using %s", url, rec->image);
  return 0;
}

/* The names of the images whose dependencies are being fetched, outermost
 * first: a dependency on one of them is a cycle.  DONE: the images whose
 * dependencies this fetch has all got already; a graph where images share
 * dependencies is walked once, not once per path through it (two images a
 * level, each depending on both of the next, make 2^depth paths). */
struct visit {
  const char *names[MAX_DEPTH];
  size_t depth;
  /* The URLs being fetched, outermost first: a dependency served at one
   * of them is the image itself again, not what the dependency names. */
  const char *urls[MAX_DEPTH + 1];
  size_t n_urls;
  struct appc_strset done;
  /* How telling the failure of the endpoint tried last is (for a
   * dependency's, the one its fetch reported). */
  enum weight weight;
};

static int fetch_manifest_deps(struct appc_store *s, const struct appc_image_manifest *m,
                               const struct appc_fetch_options *o, struct visit *v,
                               appc_error_t *err);
static int fetch_deps(struct appc_store *s, const char *id, const struct appc_fetch_options *o,
                      struct visit *v, appc_error_t *err);

/* The download of P, complete and checked, handed over to this fetch
 * alone: it moves to a name of its own, *OUT (still download-..., which gc
 * spares as a partial download), the signature and state leave tmp/, and
 * its lock is released before any dependency is fetched.  A fetch thus
 * never waits for another's partial file while holding one of its own:
 * two fetches of images that depend on each other would wait for each
 * other for ever.  One of the same URL that was waiting downloads it anew
 * (lock_partial). */
static int hand_over(const struct dl_paths *p, int fd, char **out, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_close int tmp = -1;

  if (asprintf(&path, "%s.XXXXXX", p->aci) < 0)
    return appc_error_make(err, ENOMEM, "%s", p->aci);
  if ((tmp = mkostemp(path, O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", path);
  if (rename(p->aci, path) < 0) {
    int e = errno;
    unlink(path);
    return appc_error_make(err, e, "%s", p->aci);
  }
  unlink(p->state);
  unlink(p->asc);
  (void) flock(fd, LOCK_UN);
  *out = steal_pointer(&path);
  return 0;
}

/* Fetch and check the signature, download, check and verify the image at
 * URL, fetch its dependencies, then import it: an image reaches the store
 * only with what it needs. */
static int fetch_endpoint_at(struct appc_store *s, const struct appc_fetch_options *o,
                             const char *url, const char *asc_url, const struct expect *ex,
                             struct visit *v, struct appc_store_image *out, appc_error_t *err)
{
  struct dl_paths p;
  struct record rec = {0};
  struct appc_http_download d = {0};
  struct appc_trust_verifier *ver = NULL; /* a revalidation's keyring, for a 304 */
  struct memo memo = {0};                 /* what verified the image, for the record */
  bool by_record = false;                 /* the signature is the record's */
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  cleanup_close int fd = -1;
  cleanup_free char *mine = NULL;
  struct stat st;
  int r;

  if (dl_paths_make(s, url, &p, err) < 0) {
    dl_paths_clear(&p);
    return -1;
  }
  if (!o->no_store)
    record_read(p.record, url, &rec);
  if (rec.image != NULL) {
    /* Revalidating is only worth it while the image is still stored. */
    struct appc_store_image img;
    cleanup_error appc_error_t gone = NULL;
    if (appc_store_lookup(s, rec.image, &img, &gone) == 0)
      appc_store_image_clear(&img);
    else
      record_clear(&rec);
  }
  /* An image URL that cannot be fetched is said so before its signature
   * is asked for, under the image's URL. */
  if (appc_http_check_url(url, err) < 0) {
    r = -1;
    goto done;
  }
  /* Two fetches of one URL take turns on its files, the signature's too. */
  if ((fd = lock_partial(o, url, p.aci, &st, err)) < 0) {
    r = -1;
    goto done;
  }
  r = signature_first(s, o, url, asc_url, ex->name, &p, rec.image != NULL ? &rec.verified : NULL,
                      rec.image != NULL ? &ver : NULL, &by_record, &v->weight, err);
  if (r < 0 && st.st_size == 0)
    goto discard;
  if (r < 0)
    goto keep; /* nothing downloaded: an earlier run's partial file stays */
  r = download_aci(o, url, &p, fd, &st, &rec, ex, &ver, &d, err);
  if (r < 0 && (d.status == 404 || d.status == 410))
    v->weight = WEIGHT_GONE;
  if (r == 0 && d.status == 304 && rec.image != NULL) {
    r = cached_image(s, o, url, &rec, ex, out, &v->weight, err);
    if (r == 0 && by_record && strcmp(rec.verified.name, out->name) == 0)
      flog(o, "%s: the stored image is the one it verified", asc_url);
    else if (r == 0 &&
             verify(s, o, url, asc_url, out->name, &p, out->id, ver, &memo, &v->weight, err) < 0) {
      appc_store_image_clear(out);
      r = -1;
    } else if (r == 0 && memo.asc != NULL) {
      cleanup_error appc_error_t ignored = NULL;
      (void) record_write(p.record, url, rec.etag, rec.last_modified, out->id, &memo, &ignored);
    }
    appc_trust_verifier_close(steal_pointer(&ver));
    /* Nothing downloaded: the signature checked, the files go. */
    remove_download(&p);
    (void) flock(fd, LOCK_UN);
    if (r == 0 && fetch_deps(s, out->id, o, v, err) < 0) {
      appc_store_image_clear(out);
      r = -1;
    }
    goto done;
  }
  appc_trust_verifier_close(steal_pointer(&ver));
  if (r == 0 && d.status == 304) {
    r = appc_error_make(err, 0, "%s: 304 Not Modified to an unconditional request", url);
    goto discard;
  }
  /* A partial file stays, to be resumed; an empty one is no use, nor is
   * one without a validator a resume can name (a strong ETag or date): it
   * would only ever be downloaded again. */
  if (r < 0 && (d.oversized || d.have == 0 || d.new_validator == NULL))
    goto discard;
  if (r < 0)
    goto keep;
  if (ex->size != 0 && d.size != ex->size) {
    v->weight = WEIGHT_MISMATCH;
    r = appc_error_make(err, 0, "%s: %llu bytes, but the dependency declares %llu", url,
                        (unsigned long long) d.size, (unsigned long long) ex->size);
    goto discard;
  }
  /* Nothing of an image asked for by name is unpacked before its
   * signature is checked for that name (the manifest must then give it);
   * one fetched by URL names itself in its manifest, read first. */
  if (ex->name != NULL)
    r = verify(s, o, url, asc_url, ex->name, &p, NULL, NULL, &memo, &v->weight, err);
  bool verified = ex->name != NULL && !o->insecure_image;
  if (r == 0)
    r = check_manifest(o, url, p.aci, verified ? UINT64_MAX : fetch_manifest_search_limit(d.size),
                       ex, &m, &v->weight, err);
  if (r == 0 && ex->name == NULL)
    r = verify(s, o, url, asc_url, m->name, &p, NULL, NULL, &memo, &v->weight, err);
  if (r == 0)
    r = hand_over(&p, fd, &mine, err);
  if (r < 0)
    goto discard;
  /* Refused or imported from here on: the download has served. */
  r = fetch_manifest_deps(s, m, o, v, err);
  if (r == 0)
    r = import(s, o, url, fd, ex, out, &v->weight, err);
  unlink(mine);
  if (r == 0) {
    cleanup_error appc_error_t ignored = NULL;
    (void) record_write(p.record, url, d.new_etag, d.new_last_modified, out->id, &memo, &ignored);
  }
  goto done;
keep:
  unlink(p.asc);
  goto done;
discard:
  /* Refused: the download has served. */
  remove_download(&p);
done:
  memo_clear(&memo);
  appc_trust_verifier_close(ver);
  appc_http_download_clear(&d);
  record_clear(&rec);
  dl_paths_clear(&p);
  return r;
}

static int fetch_endpoint(struct appc_store *s, const struct appc_fetch_options *o, const char *url,
                          const char *asc_url, const struct expect *ex, struct visit *v,
                          struct appc_store_image *out, appc_error_t *err)
{
  v->weight = WEIGHT_OTHER;
  for (size_t i = 0; i < v->n_urls; i++)
    if (strcmp(v->urls[i], url) == 0)
      return appc_error_make(err, 0,
                             "%s: being fetched already, for an image that this one is a "
                             "dependency of: the dependency is served by the image's own URL",
                             url);
  if (v->n_urls == sizeof v->urls / sizeof v->urls[0])
    return appc_error_make(err, 0, "%s: dependencies nested deeper than %d", url, MAX_DEPTH);
  v->urls[v->n_urls++] = url;
  int r = fetch_endpoint_at(s, o, url, asc_url, ex, v, out, err);
  v->n_urls--;
  return r;
}

/* ---- names, URLs and dependencies -------------------------------------- */

static bool pinned(const struct appc_kv_list *labels)
{
  for (size_t i = 0; labels != NULL && i < labels->len; i++)
    if (labels->items[i].name != NULL && strcmp(labels->items[i].name, "version") == 0)
      return true;
  return false;
}

static int from_store(struct appc_store *s, const struct appc_fetch_options *o, const char *name,
                      const struct appc_kv_list *labels, struct appc_store_image *out,
                      appc_error_t *err)
{
  if (appc_store_find(s, name, labels, out, err) < 0)
    return -1;
  flog(o, "%s: found in the store as %s", name, out->id);
  return 0;
}

/* The stored image a dependency's imageID names, which must also carry the
 * dependency's name, and be the declared size (the ACI's bytes, as a
 * download of it is checked). */
static int by_id(struct appc_store *s, const struct expect *ex, struct appc_store_image *out,
                 appc_error_t *err)
{
  if (appc_store_lookup(s, ex->id, out, err) < 0)
    return -1;
  if (strcmp(out->name, ex->name) != 0)
    appc_error_make(err, 0, "%s: the store's image %s is named %s", ex->name, ex->id, out->name);
  else if (ex->size != 0 && out->blob_size != ex->size)
    appc_error_make(err, 0,
                    "%s: the store's image %s is %llu bytes, but the dependency declares %llu",
                    ex->name, ex->id, out->blob_size, (unsigned long long) ex->size);
  else
    return 0;
  appc_store_image_clear(out);
  return -1;
}

static bool cancelled(const struct appc_fetch_options *o)
{
  return appc_cb_cancelled(o->cb);
}

/* The order fetch tries endpoints in: best matches first (the most given
 * labels used), document order among equals.  At most FETCH_MAX_ENDPOINTS
 * of them: a page may list tens of thousands. */
static size_t endpoint_order(const struct appc_discovery *d, size_t *order)
{
  unsigned best = 0;
  size_t n = 0;

  for (size_t i = 0; i < d->n_endpoints; i++)
    best = d->endpoints[i].score > best ? d->endpoints[i].score : best;
  for (unsigned score = best + 1; score-- > 0 && n < FETCH_MAX_ENDPOINTS;)
    for (size_t i = 0; i < d->n_endpoints && n < FETCH_MAX_ENDPOINTS; i++)
      if (d->endpoints[i].score == score)
        order[n++] = i;
  return n;
}

/* The endpoints left untried when the fetch's deadline passed: LAST, the
 * failure of the last one tried (TRIED of N), says so, tagged as the
 * deadline's. */
static void untried_for_deadline(appc_error_t *last, const char *name, size_t tried, size_t n)
{
  appc_error_t e = NULL;

  appc_error_tag(&e, ETIMEDOUT,
                 "%s: the fetch's deadline has passed, %zu of %zu endpoints not tried (the "
                 "last tried: %s)",
                 name, n - tried, n, (*last)->msg);
  appc_error_release(last);
  *last = e;
}

/* Into *BEST (of WEIGHT *BEST_WEIGHT), *LAST, the failure of the endpoint
 * tried last, of WEIGHT, when it is no less telling; else it goes. */
static void keep_telling(appc_error_t *best, enum weight *best_weight, appc_error_t *last,
                         enum weight weight)
{
  if (*last == NULL)
    return;
  if (*best != NULL && weight < *best_weight) {
    appc_error_release(last);
    return;
  }
  appc_error_release(best);
  *best = steal_pointer(last);
  *best_weight = weight;
}

static int fetch_discovered(struct appc_store *s, const struct appc_fetch_options *o,
                            const struct expect *ex, struct visit *v, struct appc_store_image *out,
                            appc_error_t *err)
{
  struct appc_discovery d;
  size_t order[FETCH_MAX_ENDPOINTS];
  appc_error_t last = NULL;
  cleanup_error appc_error_t best = NULL;
  enum weight best_weight = WEIGHT_GONE;
  bool stopped = false;
  int r;

  r = appc_discover(o->http, ex->name, ex->labels, APPC_DISCOVER_ENDPOINTS, &d, err);
  for (size_t i = 0; i < d.n_attempts; i++)
    flog(o, "discovery of %s: %s", ex->name, d.attempts[i].message);
  if (r < 0) {
    appc_discovery_clear(&d);
    return -1;
  }
  size_t n = endpoint_order(&d, order);
  if (n < d.n_endpoints)
    flog(o, "discovery of %s: %zu endpoints; trying the best %zu", ex->name, d.n_endpoints, n);
  /* The first endpoint that gives a good image wins; after a failure (a
   * 404, an image without the labels asked for) the next is tried.  The
   * most telling failure is the one reported (enum weight), unless the
   * walk was stopped: by a signal, or by the deadline, which leaves
   * endpoints untried. */
  r = -1;
  for (size_t k = 0; k < n && r < 0; k++) {
    const struct appc_aci_endpoint *e = &d.endpoints[order[k]];
    if (cancelled(o) || (last != NULL && last->errnum == ECANCELED)) {
      stopped = true;
      break;
    }
    /* Each endpoint has its own limits; their sum has the fetch's. */
    if (last != NULL && appc_http_operation_expired(o->http)) {
      untried_for_deadline(&last, ex->name, k, n);
      stopped = true;
      break;
    }
    keep_telling(&best, &best_weight, &last, v->weight);
    r = fetch_endpoint(s, o, e->aci, e->asc, ex, v, out, &last);
    if (r < 0 && k + 1 < n)
      flog(o, "%s; trying the next endpoint", last->msg);
  }
  appc_discovery_clear(&d);
  if (r < 0 && !stopped) {
    keep_telling(&best, &best_weight, &last, v->weight);
    last = steal_pointer(&best);
    v->weight = best_weight;
  }
  if (r < 0 && last == NULL)
    appc_error_make(&last, ECANCELED, "%s: fetch", ex->name);
  if (r < 0)
    *err = last;
  else
    appc_error_release(&last);
  return r;
}

static int fetch_name_with(struct appc_store *s, const struct expect *ex,
                           const struct appc_fetch_options *o, struct visit *v,
                           struct appc_store_image *out, appc_error_t *err)
{
  cleanup_error appc_error_t miss = NULL;

  /* A top-level name without a version asks for the latest, which only
   * the network knows; a pinned version or a dependency the store has
   * will do as it is. */
  if (o->store_only || (!o->no_store && (pinned(ex->labels) || ex->dependency))) {
    int r = ex->id != NULL ? by_id(s, ex, out, &miss)
                           : from_store(s, o, ex->name, ex->labels, out, &miss);
    if (r == 0 && fetch_deps(s, out->id, o, v, err) < 0) {
      appc_store_image_clear(out);
      return -1;
    }
    if (r == 0)
      return 0;
    /* The store lacks it (ENOENT): ENONET, as the network is what the
     * caller ruled out (a command line adds how); a store that failed
     * otherwise says so itself. */
    if (o->store_only && miss->errnum == ENOENT)
      return appc_error_tag(err, ENONET, "%s, and the network is ruled out", miss->msg);
    if (o->store_only) {
      *err = steal_pointer(&miss);
      return -1;
    }
  }
  if (o->http == NULL)
    return appc_error_make(err, 0, "%s: no network client", ex->name);
  return fetch_discovered(s, o, ex, v, out, err);
}

static bool visiting(const struct visit *v, const char *name)
{
  for (size_t i = 0; i < v->depth; i++)
    if (strcmp(v->names[i], name) == 0)
      return true;
  return false;
}

static int fetch_manifest_deps(struct appc_store *s, const struct appc_image_manifest *m,
                               const struct appc_fetch_options *o, struct visit *v,
                               appc_error_t *err)
{
  int r = 0;

  if (m->n_dependencies == 0)
    return 0;
  if (cancelled(o))
    return appc_error_make(err, ECANCELED, "%s: dependencies", m->name);
  if (v->depth == MAX_DEPTH)
    return appc_error_make(err, 0, "%s: dependencies nested deeper than %d", m->name, MAX_DEPTH);
  v->names[v->depth++] = m->name;
  for (size_t i = 0; i < m->n_dependencies && r == 0; i++) {
    const struct appc_dependency *dep = &m->dependencies[i];
    struct expect ex = {.name = dep->image_name,
                        .labels = &dep->labels,
                        .id = dep->image_id,
                        .size = dep->size,
                        .dependency = true};
    struct appc_store_image img;
    /* A cycle is render's to report (it cannot be rendered); fetching
     * has nothing more to get along it. */
    if (visiting(v, dep->image_name))
      continue;
    r = fetch_name_with(s, &ex, o, v, &img, err);
    if (r < 0)
      appc_error_prefix(err, "%s: dependency %s", m->name, dep->image_name);
    else
      appc_store_image_clear(&img);
  }
  v->depth--;
  return r;
}

static int fetch_deps(struct appc_store *s, const char *id, const struct appc_fetch_options *o,
                      struct visit *v, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  size_t len = 0;

  if (appc_strset_contains(&v->done, id))
    return 0;
  if (appc_store_read_manifest(s, id, &json, &len, err) < 0 ||
      appc_image_manifest_parse(json, len, &m, err) < 0 || fetch_manifest_deps(s, m, o, v, err) < 0)
    return -1;
  if (appc_strset_add(&v->done, id) < 0)
    return appc_error_make(err, ENOMEM, "%s", id);
  return 0;
}

/* The fetch of SUBJECT (an image's name or URL) begins: as a whole,
 * whatever endpoints, retries and dependencies it takes, it must end
 * within the client's operation deadline (docs/discovery.md, "Limits").
 * *WHAT (the caller's to free, after fetch_end) names it in errors. */
static int fetch_begin(const struct appc_fetch_options *o, const char *subject, char **what,
                       appc_error_t *err)
{
  if (o->http == NULL)
    return 0;
  if (asprintf(what, "the fetch of %s", subject) < 0) {
    *what = NULL;
    return appc_error_make(err, ENOMEM, "%s", subject);
  }
  appc_http_operation_begin(o->http, *what);
  return 0;
}

static void fetch_end(const struct appc_fetch_options *o)
{
  if (o->http != NULL)
    appc_http_operation_end(o->http);
}

int appc_fetch_dependencies(struct appc_store *s, const char *id,
                            const struct appc_fetch_options *o, appc_error_t *err)
{
  struct visit v = {.depth = 0};
  cleanup_free char *what = NULL;
  cleanup_free char *subject = NULL;

  if (APPC_ABI_CHECK(o, appc_fetch_options, APPC_FETCH_OPTIONS_VERSION, err) < 0)
    return -1;
  o = fetch_options(o);
  if (asprintf(&subject, "the dependencies of %s", id) < 0)
    return appc_error_make(err, ENOMEM, "%s", id);
  if (fetch_begin(o, subject, &what, err) < 0)
    return -1;
  int r = fetch_deps(s, id, o, &v, err);
  fetch_end(o);
  appc_strset_clear(&v.done);
  /* An image no longer stored was removed (image rm, gc) after the fetch
   * that imported it, whose work is done: the removal is ordered after it,
   * and what the image needed is needed no more. */
  struct appc_store_image now;
  cleanup_error appc_error_t gone = NULL;
  if (r == 0)
    return 0;
  if (appc_store_lookup(s, id, &now, &gone) < 0) {
    if (gone->errnum != ENOENT)
      return -1; /* the first error says more */
    appc_cb_log(o->cb, "%s: removed from the store since it was fetched", id);
    appc_error_release(err);
    return 0;
  }
  appc_store_image_clear(&now);
  return -1;
}

int appc_fetch_name(struct appc_store *s, const char *name, const struct appc_kv_list *labels,
                    const struct appc_fetch_options *o, struct appc_store_image *out,
                    appc_error_t *err)
{
  struct visit v = {.depth = 0};
  struct expect ex = {.name = name, .labels = labels};
  cleanup_free char *what = NULL;

  if (APPC_ABI_CHECK(o, appc_fetch_options, APPC_FETCH_OPTIONS_VERSION, err) < 0)
    return -1;
  o = fetch_options(o);
  if (fetch_begin(o, name, &what, err) < 0)
    return -1;
  int r = fetch_name_with(s, &ex, o, &v, out, err);
  fetch_end(o);
  appc_strset_clear(&v.done);
  return r;
}

/* The signature of the image at URL: ".asc" ends the path, before any query
 * ("x.aci?token=t" is signed by "x.aci.asc?token=t", as a presigned or
 * versioned URL needs); a fragment is never sent, and is dropped. */
static char *signature_url(const char *url)
{
  size_t path_end = strcspn(url, "?#");
  const char *query = url[path_end] == '?' ? url + path_end : "";
  size_t query_len = strcspn(query, "#");
  char *asc = NULL;

  if (asprintf(&asc, "%.*s.asc%.*s", (int) path_end, url, (int) query_len, query) < 0)
    return NULL;
  return asc;
}

int appc_fetch_url(struct appc_store *s, const char *url, const struct appc_fetch_options *o,
                   struct appc_store_image *out, appc_error_t *err)
{
  cleanup_free char *asc = NULL;
  cleanup_free char *what = NULL;
  struct expect ex = {0};
  struct visit v = {.depth = 0};

  if (APPC_ABI_CHECK(o, appc_fetch_options, APPC_FETCH_OPTIONS_VERSION, err) < 0)
    return -1;
  o = fetch_options(o);
  if (o->store_only)
    return appc_error_tag(err, ENONET, "%s: the network is ruled out", url);
  if (o->http == NULL)
    return appc_error_make(err, 0, "%s: no network client", url);
  if ((asc = signature_url(url)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", url);
  if (fetch_begin(o, url, &what, err) < 0)
    return -1;
  int r = fetch_endpoint(s, o, url, asc, &ex, &v, out, err);
  fetch_end(o);
  appc_strset_clear(&v.done);
  return r;
}
