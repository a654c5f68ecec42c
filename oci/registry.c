/* SPDX-License-Identifier: Apache-2.0 */
/* Images pulled from a Docker/OCI registry (distribution-spec, the
 * Distribution API v2) and imported as the other OCI sources are:
 *
 *   GET /v2/REPO/manifests/REF   a manifest or an index (Accept: all four
 *                                types), its digest checked: the one asked
 *                                for, else Docker-Content-Digest's
 *   GET /v2/REPO/manifests/DIG   the platform's manifest from an index
 *   GET /v2/REPO/blobs/DIG       the config (in memory), each layer (to a
 *                                file in the store's tmp/, resumed with Range
 *                                after an interruption)
 *
 * A 401 is answered once per request: a bearer token from the challenge's
 * realm (with auth.d's credentials for the registry when there are some),
 * or those credentials themselves for a Basic challenge.  Nothing is
 * trusted before its digest matches; a layer's is checked as it is
 * converted, before anything reaches the store (oci_layer_convert). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/lockwait.h"
#include "oci/internal.h"

/* Manifests and indexes one pull may read in all: the image's index, its
 * manifest, a nested index or two. */
#define REGISTRY_JSON_BUDGET (4 * OCI_JSON_MAX)
#define TOKEN_MAX (64u * 1024)
#define ERROR_BODY_MAX (64u * 1024)

static const char ACCEPT_MANIFESTS[] =
    "Accept: " OCI_INDEX_V1 ", " OCI_MANIFEST_V1 ", " DOCKER_LIST_V2 ", " DOCKER_MANIFEST_V2
    ", " DOCKER_MANIFEST_V1 ", " DOCKER_MANIFEST_V1_SIGNED;

struct registry {
  struct oci_blobs blobs; /* first: a struct oci_blobs * is a struct registry * */
  struct appc_http *h;
  const struct appc_oci_import_options *opts;
  struct appc_docker_ref ref;
  const char *scheme;  /* "https", or "http" when allowed and https got no answer */
  char *where;         /* docker://REGISTRY/REPO, for messages */
  char *authorization; /* "Authorization: ..." once a 401 was answered */
  /* the manifest or index the reference named, as first read */
  struct oci_descriptor top;
  char *top_body;
  size_t top_len;
  size_t json_left; /* bytes of manifests still allowed (REGISTRY_JSON_BUDGET) */
  int tmp_fd;       /* the store's tmp/ */
  char **downloads; /* names in tmp/ to remove when the pull is over */
  size_t n_downloads;
};

static void registry_clear(struct registry *r)
{
  appc_docker_ref_clear(&r->ref);
  free(r->where);
  free(r->authorization);
  oci_descriptor_clear(&r->top);
  free(r->top_body);
  for (size_t i = 0; i < r->n_downloads; i++) {
    if (r->tmp_fd >= 0)
      (void) unlinkat(r->tmp_fd, r->downloads[i], 0);
    free(r->downloads[i]);
  }
  free(r->downloads);
  if (r->tmp_fd >= 0)
    close(r->tmp_fd);
}

/* ---- requests ---- */

static char *api_url(struct registry *r, const char *kind, const char *what)
{
  char *url = NULL;

  if (asprintf(&url, "%s://%s/v2/%s/%s/%s", r->scheme, r->ref.registry, r->ref.repository, kind,
               what) < 0)
    return NULL;
  return url;
}

/* Printable ASCII of S, at most MAX bytes of it: what a registry says goes
 * into an error message, never a terminal escape. */
static void printable(char *s, size_t max)
{
  size_t i;

  for (i = 0; s[i] != '\0' && i < max; i++)
    if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f)
      s[i] = '?';
  s[i] = '\0';
}

/* The first of the registry's {"errors": [{"code", "message"}]}, or NULL. */
static char *registry_message(const struct appc_http_response *resp)
{
  json_object *root = NULL, *errors, *first, *v;
  char *msg = NULL;

  if (resp->len == 0 || resp->len > ERROR_BODY_MAX)
    return NULL;
  root = json_tokener_parse(resp->body);
  if (root != NULL && json_object_object_get_ex(root, "errors", &errors) &&
      json_object_is_type(errors, json_type_array) && json_object_array_length(errors) > 0 &&
      (first = json_object_array_get_idx(errors, 0)) != NULL &&
      json_object_is_type(first, json_type_object)) {
    const char *code =
        json_object_object_get_ex(first, "code", &v) ? json_object_get_string(v) : "";
    const char *text =
        json_object_object_get_ex(first, "message", &v) ? json_object_get_string(v) : "";
    if (asprintf(&msg, "%s%s%s", code, *code != '\0' && *text != '\0' ? ": " : "", text) < 0)
      msg = NULL;
  }
  json_object_put(root);
  if (msg != NULL)
    printable(msg, 200);
  return msg;
}

static int status_error(struct registry *r, const char *url, const struct appc_http_response *resp,
                        appc_error_t *err)
{
  cleanup_free char *msg = registry_message(resp);
  const char *hint = "";

  if (resp->status == 401)
    hint = r->authorization != NULL ? " (the credentials or token were refused)"
                                    : " (auth.d has no credentials for the registry)";
  else if (resp->status == 404)
    hint = " (no such repository, tag or digest)";
  return appc_error_make(err, 0, "%s: %ld%s%s%s", url, resp->status, msg != NULL ? " " : "",
                         msg != NULL ? msg : "", hint);
}

/* A token is sent in a header: anything but token68 characters (RFC 9110)
 * could smuggle another header in. */
static bool token68(const char *t)
{
  size_t n = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/");

  while (t[n] == '=')
    n++;
  return n > 0 && t[n] == '\0';
}

static char *percent_encode(const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = malloc(3 * strlen(s) + 1), *o = out;

  if (out == NULL)
    return NULL;
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char) *s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
        strchr("-._~", c) != NULL) {
      *o++ = (char) c;
    } else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o = '\0';
  return out;
}

static int token_url(struct registry *r, const struct oci_challenge *c, char **url,
                     appc_error_t *err)
{
  cleanup_free char *default_scope = NULL;
  cleanup_free char *service = NULL;
  cleanup_free char *scope = NULL;

  if (asprintf(&default_scope, "repository:%s:pull", r->ref.repository) < 0)
    return appc_error_make(err, ENOMEM, "%s", r->where);
  service = percent_encode(c->service != NULL ? c->service : "");
  scope = percent_encode(c->scope != NULL ? c->scope : default_scope);
  if (service == NULL || scope == NULL ||
      asprintf(url, "%s%sservice=%s&scope=%s", c->realm, strchr(c->realm, '?') ? "&" : "?", service,
               scope) < 0)
    return appc_error_make(err, ENOMEM, "%s", r->where);
  return 0;
}

/* {"token": T} or {"access_token": T} from the realm of challenge C,
 * asked with CREDENTIALS (may be NULL).  The caller passes them only for a
 * challenge that came over https: whoever can write a plain http answer
 * could name a realm of theirs. */
static int fetch_token(struct registry *r, const struct oci_challenge *c, const char *credentials,
                       char **token, appc_error_t *err)
{
  struct appc_http_response resp = {0};
  cleanup_free char *url = NULL;
  cleanup_free char *header = NULL;
  const char *headers[2] = {NULL, NULL};
  json_object *root = NULL, *v;
  int rc = -1;

  if (c->realm == NULL ||
      (strncmp(c->realm, "https://", 8) != 0 && strncmp(c->realm, "http://", 7) != 0))
    return appc_error_make(err, 0, "%s: a bearer challenge without an http(s) realm", r->where);
  if (token_url(r, c, &url, err) < 0)
    return -1;
  /* A password never crosses the network in clear. */
  if (credentials != NULL && strncmp(c->realm, "https://", 8) == 0) {
    if (asprintf(&header, "Authorization: %s", credentials) < 0)
      return appc_error_make(err, ENOMEM, "%s", r->where);
    headers[0] = header;
  }
  if (appc_http_request(r->h, "GET", url, headers, TOKEN_MAX, &resp, err) < 0)
    return appc_error_prefix(err, "%s: token", r->where);
  if (resp.status != 200) {
    status_error(r, url, &resp, err);
    appc_error_prefix(err, "%s: token", r->where);
    goto done;
  }
  root = json_tokener_parse(resp.body);
  if ((json_object_object_get_ex(root, "token", &v) ||
       json_object_object_get_ex(root, "access_token", &v)) &&
      json_object_is_type(v, json_type_string) && token68(json_object_get_string(v))) {
    *token = strdup(json_object_get_string(v));
    rc = *token != NULL ? 0 : appc_error_make(err, ENOMEM, "%s", url);
  } else {
    rc = appc_error_make(err, 0, "%s: no token in the answer", url);
  }
done:
  json_object_put(root);
  appc_http_response_clear(&resp);
  return rc;
}

/* Answer the challenge of a 401 to URL: r->authorization for the retry. */
static int authenticate(struct registry *r, const char *url, const char *challenge,
                        const char *answered_at, appc_error_t *err)
{
  struct oci_challenge c;
  cleanup_free char *credentials = NULL;
  cleanup_free char *token = NULL;
  bool secure = strncmp(answered_at, "https://", 8) == 0;
  int have, rc;

  if (challenge == NULL || oci_challenge_parse(challenge, &c) < 0)
    return appc_error_make(err, 0, "%s: 401 without a WWW-Authenticate challenge", url);
  have = appc_http_registry_credentials(r->h, r->ref.registry, &credentials, err);
  free(r->authorization);
  r->authorization = NULL;
  if (have > 0 && !secure)
    appc_cb_log(r->opts->cb,
                "%s: a challenge over plain http: auth.d's credentials for %s are not sent", url,
                r->ref.registry);
  if (have < 0) {
    rc = -1;
  } else if (strcasecmp(c.scheme, "Bearer") == 0) {
    rc = fetch_token(r, &c, secure ? credentials : NULL, &token, err);
    if (rc == 0 && asprintf(&r->authorization, "Authorization: Bearer %s", token) < 0)
      rc = appc_error_make(err, ENOMEM, "%s", url);
  } else if (strcasecmp(c.scheme, "Basic") == 0) {
    if (have == 0)
      rc = appc_error_make(err, 0,
                           "%s: 401 Unauthorized, and auth.d has no credentials for %s "
                           "(docs/oci.md)",
                           url, r->ref.registry);
    else if (!secure)
      rc = appc_error_make(err, 0, "%s: the registry asks for a password over plain http: not sent",
                           url);
    else
      rc = asprintf(&r->authorization, "Authorization: %s", credentials) < 0
               ? appc_error_make(err, ENOMEM, "%s", url)
               : 0;
  } else {
    printable(c.scheme, 40);
    rc = appc_error_make(err, 0, "%s: 401 with an authentication scheme not spoken: %s", url,
                         c.scheme);
  }
  oci_challenge_clear(&c);
  return rc;
}

/* GET URL with ACCEPT (a header line; may be NULL) and the authorization
 * got so far; a 401 is answered once. */
static int registry_get(struct registry *r, const char *url, const char *accept, size_t max,
                        struct appc_http_response *resp, appc_error_t *err)
{
  for (int attempt = 0;; attempt++) {
    const char *headers[3] = {NULL, NULL, NULL};
    size_t n = 0;
    if (accept != NULL)
      headers[n++] = accept;
    if (r->authorization != NULL)
      headers[n++] = r->authorization;
    if (appc_http_request(r->h, "GET", url, headers, max, resp, err) < 0)
      return -1;
    if (resp->status != 401 || attempt > 0)
      return 0;
    int rc = authenticate(r, url, appc_http_response_header(resp, "WWW-Authenticate"),
                          resp->effective_url != NULL ? resp->effective_url : url, err);
    appc_http_response_clear(resp);
    if (rc < 0)
      return -1;
  }
}

/* ---- manifests ---- */

static bool is_manifest_type(const char *t)
{
  return t != NULL && (strcmp(t, OCI_INDEX_V1) == 0 || strcmp(t, OCI_MANIFEST_V1) == 0 ||
                       strcmp(t, DOCKER_LIST_V2) == 0 || strcmp(t, DOCKER_MANIFEST_V2) == 0);
}

/* The media type of a manifest: its Content-Type, else its mediaType. */
static char *manifest_type(const struct appc_http_response *resp)
{
  const char *ct = appc_http_response_header(resp, "Content-Type");
  json_object *root, *v;
  char *t = NULL;

  if (ct != NULL && strncmp(ct, "application/vnd.", 16) == 0)
    return strndup(ct, strcspn(ct, "; \t"));
  root = json_tokener_parse(resp->body);
  if (json_object_object_get_ex(root, "mediaType", &v) && oci_json_string(v) != NULL)
    t = strdup(oci_json_string(v));
  else if (json_object_object_get_ex(root, "schemaVersion", &v) && json_object_get_int(v) == 1)
    t = strdup(DOCKER_MANIFEST_V1);
  else if (json_object_object_get_ex(root, "manifests", &v))
    t = strdup(OCI_INDEX_V1);
  else
    t = strdup(OCI_MANIFEST_V1);
  json_object_put(root);
  return t;
}

static int sha256_of(const char *data, size_t len, char out[OCI_DIGEST_MAX], appc_error_t *err)
{
  char hex[APPC_DIGEST_HEX_MAX];

  if (appc_digest_buffer(APPC_DIGEST_SHA256, data, len, hex, err) < 0)
    return -1;
  snprintf(out, OCI_DIGEST_MAX, "sha256:%s", hex);
  return 0;
}

/* The manifest REFERENCE (a tag or a digest) in RESP, checked: against the
 * digest asked for, else against what the registry says it is. */
static int check_manifest(struct registry *r, const char *url, const char *digest,
                          const struct appc_http_response *resp, struct oci_descriptor *d,
                          appc_error_t *err)
{
  const char *claimed = appc_http_response_header(resp, "Docker-Content-Digest");
  char sha256[OCI_DIGEST_MAX];

  if (sha256_of(resp->body, resp->len, sha256, err) < 0)
    return -1;
  d->size = (int64_t) resp->len;
  d->media_type = manifest_type(resp);
  d->digest = strdup(digest != NULL ? digest : sha256);
  if (d->media_type == NULL || d->digest == NULL)
    return appc_error_make(err, ENOMEM, "%s", url);
  if (digest != NULL)
    return oci_blob_check(d, resp->body, resp->len, r->where, err);
  if (claimed != NULL && strncmp(claimed, "sha256:", 7) == 0 && strcmp(claimed, sha256) != 0) {
    cleanup_free char *shown = strndup(claimed, 80);
    if (shown != NULL)
      printable(shown, 80);
    return appc_error_make(err, 0,
                           "%s: the manifest's digest is %s, but the registry says %s (a "
                           "corrupt or tampered answer)",
                           url, sha256, shown != NULL ? shown : "?");
  }
  return 0;
}

static int get_manifest(struct registry *r, const char *reference, const char *digest,
                        struct appc_http_response *resp, struct oci_descriptor *d,
                        appc_error_t *err)
{
  cleanup_free char *url = api_url(r, "manifests", reference);

  if (url == NULL)
    return appc_error_make(err, ENOMEM, "%s", r->where);
  if (r->json_left == 0)
    return appc_error_make(err, 0, "%s: more than %u bytes of manifests and indexes", r->where,
                           REGISTRY_JSON_BUDGET);
  if (registry_get(r, url, ACCEPT_MANIFESTS,
                   r->json_left < OCI_JSON_MAX ? r->json_left : OCI_JSON_MAX, resp, err) < 0)
    return -1;
  if (resp->status != 200)
    return status_error(r, url, resp, err);
  r->json_left -= resp->len;
  if (check_manifest(r, url, digest, resp, d, err) < 0)
    return -1;
  if (strcmp(d->media_type, DOCKER_MANIFEST_V1) == 0 ||
      strcmp(d->media_type, DOCKER_MANIFEST_V1_SIGNED) == 0)
    return appc_error_make(err, 0,
                           "%s: a Docker schema 1 manifest, which is not supported (it is "
                           "deprecated: push the image again with a current client)",
                           url);
  if (!is_manifest_type(d->media_type)) {
    printable(d->media_type, 100);
    return appc_error_make(err, 0, "%s: not an image manifest or index, but %s", url,
                           d->media_type);
  }
  return 0;
}

/* ---- blobs ---- */

static int read_blob(struct oci_blobs *b, const struct oci_descriptor *d, char **out, size_t *len,
                     appc_error_t *err)
{
  struct registry *r = (struct registry *) b;
  struct appc_http_response resp = {0};
  struct oci_descriptor got = {0};
  cleanup_free char *url = NULL;
  int rc = -1;

  if (d->size > (int64_t) OCI_JSON_MAX)
    return appc_error_make(err, 0,
                           "%s: blob %s: %lld bytes, more than a manifest or config "
                           "may have (%u)",
                           r->where, d->digest, (long long) d->size, OCI_JSON_MAX);
  if (strcmp(d->digest, r->top.digest) == 0) {
    /* The index (or manifest) that was read first: no second request. */
    if ((*out = malloc(r->top_len + 1)) == NULL)
      return appc_error_make(err, ENOMEM, "%s", r->where);
    memcpy(*out, r->top_body, r->top_len + 1);
    *len = r->top_len;
    return 0;
  }
  if (is_manifest_type(d->media_type)) {
    /* checked against D as any blob is: its size too */
    rc = get_manifest(r, d->digest, d->digest, &resp, &got, err);
    if (rc == 0)
      rc = oci_blob_check(d, resp.body, resp.len, r->where, err);
    oci_descriptor_clear(&got);
  } else if ((url = api_url(r, "blobs", d->digest)) == NULL) {
    return appc_error_make(err, ENOMEM, "%s", r->where);
  } else if (registry_get(r, url, NULL, OCI_JSON_MAX, &resp, err) == 0) {
    rc = resp.status == 200 ? oci_blob_check(d, resp.body, resp.len, url, err)
                            : status_error(r, url, &resp, err);
  }
  if (rc == 0) {
    *out = steal_pointer(&resp.body);
    *len = resp.len;
  }
  appc_http_response_clear(&resp);
  return rc;
}

struct progress {
  const struct appc_callbacks *cb;
  const char *what;
};

static void on_progress(void *data, uint64_t done, uint64_t total)
{
  struct progress *p = data;

  appc_cb_progress(p->cb, APPC_PROGRESS_DOWNLOAD, p->what, done, total);
}

static bool pull_expired(const void *h)
{
  return appc_http_operation_expired(h);
}

/* Wait for the lock on FD (another pull downloading the same blob), saying
 * so, while the caller may cancel and within the pull's deadline. */
static int lock_download(struct registry *r, int fd, const char *name, appc_error_t *err)
{
  if (appc_flock_until(fd, LOCK_EX, r->opts->cb, pull_expired, r->h,
                       "another pull's download of a blob of %s (tmp/%s)", r->where, name) == 0)
    return 0;
  if (errno == ETIMEDOUT)
    return appc_http_operation_timeout(r->h, err, "%s: tmp/%s: another pull still downloads it",
                                       r->where, name);
  if (errno == ECANCELED)
    return appc_error_make(err, ECANCELED, "%s", r->where);
  return appc_error_make(err, errno, "%s: tmp/%s", r->where, name);
}

/* After a 401 to a download: the challenge of a HEAD of URL answered. */
static int reauthenticate(struct registry *r, const char *url, appc_error_t *err)
{
  struct appc_http_response resp = {0};
  int rc;

  if (appc_http_request(r->h, "HEAD", url, NULL, 0, &resp, err) < 0)
    return -1;
  rc = resp.status == 401
           ? authenticate(r, url, appc_http_response_header(&resp, "WWW-Authenticate"),
                          resp.effective_url != NULL ? resp.effective_url : url, err)
           : 0;
  appc_http_response_clear(&resp);
  return rc;
}

/* Download blob D into FD, from what an interrupted pull left there. */
static int download(struct registry *r, const struct oci_descriptor *d, int fd, uint64_t have,
                    appc_error_t *err)
{
  cleanup_free char *url = api_url(r, "blobs", d->digest);
  cleanup_free char *validator = NULL;
  struct progress p = {.cb = r->opts->cb, .what = d->digest};
  int rc = -1;

  if (url == NULL || asprintf(&validator, "\"%s\"", d->digest) < 0)
    return appc_error_make(err, ENOMEM, "%s", r->where);
  for (int attempt = 0; attempt < 2; attempt++) {
    const char *headers[2] = {r->authorization, NULL};
    struct appc_http_download dl = {
        .url = url,
        .fd = fd,
        .have = have,
        /* the registry's ETag of a blob is its digest, quoted */
        .validator = validator,
        .max_size = (uint64_t) d->size,
        .progress = on_progress,
        .progress_data = &p,
        .headers = headers,
    };
    appc_error_t e = NULL;
    rc = appc_http_download(r->h, &dl, &e);
    have = dl.have;
    long status = dl.status;
    appc_http_download_clear(&dl);
    if (rc == 0 || status != 401 || attempt > 0) {
      if (rc < 0)
        *err = e;
      return rc;
    }
    /* A token that expired meanwhile: ask for another. */
    appc_error_release(&e);
    if (reauthenticate(r, url, err) < 0)
      return -1;
  }
  return rc;
}

static int remember_download(struct registry *r, const char *name, appc_error_t *err)
{
  char *copy = strdup(name);

  if (copy == NULL || APPC_ARRAY_EXTEND(r->downloads, r->n_downloads, 1) < 0) {
    free(copy);
    return appc_error_make(err, ENOMEM, "%s", r->where);
  }
  r->downloads[r->n_downloads++] = copy;
  return 0;
}

/* Layer D into the store's tmp/ as download-registry-ALG-HEX, resumed where
 * an earlier pull was cut off; read from its start by the converter, which
 * checks its digest.  (The store's gc keeps download-* while younger than
 * its grace period.) */
static int open_blob(struct oci_blobs *b, const struct oci_descriptor *d, appc_error_t *err)
{
  struct registry *r = (struct registry *) b;
  enum appc_digest_alg alg;
  const char *hex;
  char name[200];
  struct stat st;

  if (!appc_digest_parse(d->digest, &alg, &hex))
    return appc_error_make(err, 0, "%s: \"%.80s\": not a digest", r->where, d->digest);
  snprintf(name, sizeof name, "download-registry-%s-%s",
           alg == APPC_DIGEST_SHA256 ? "sha256" : "sha512", hex);
  cleanup_close int fd = openat(r->tmp_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return appc_error_make(err, errno, "%s: tmp/%s", r->where, name);
  if (remember_download(r, name, err) < 0 || lock_download(r, fd, name, err) < 0)
    return -1;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
    return appc_error_make(err, errno != 0 ? errno : EINVAL, "%s: tmp/%s", r->where, name);
  if (st.st_size > d->size)
    st.st_size = 0;
  if (st.st_size > 0)
    appc_cb_log(r->opts->cb, "%s: resuming at byte %lld", d->digest, (long long) st.st_size);
  if (st.st_size < d->size && download(r, d, fd, (uint64_t) st.st_size, err) < 0) {
    /* What arrived is kept for a later pull to resume from; an empty
     * file goes with the pull's others. */
    if (fstat(fd, &st) == 0 && st.st_size > 0) {
      r->n_downloads--;
      free(r->downloads[r->n_downloads]);
    }
    return appc_error_prefix(err, "%s", r->where);
  }
  if (fstat(fd, &st) < 0 || st.st_size != d->size)
    return appc_error_make(err, 0, "%s: blob %s: %lld bytes where the manifest says %lld", r->where,
                           d->digest, (long long) st.st_size, (long long) d->size);
  if (lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s: tmp/%s", r->where, name);
  return steal_fd(&fd);
}

/* ---- the pull ---- */

/* The manifest or index the reference names: over https, or plain http
 * when allowed and https got no answer at all (Docker's rule for a
 * registry it was told is insecure). */
static int read_top(struct registry *r, appc_error_t *err)
{
  struct appc_http_response resp = {0};
  const char *reference = r->ref.digest != NULL ? r->ref.digest : r->ref.tag;
  appc_error_t https_err = NULL;
  int rc;

  r->scheme = "https";
  rc = get_manifest(r, reference, r->ref.digest, &resp, &r->top, &https_err);
  /* Not after a certificate that does not verify: whoever shows one could
   * otherwise turn any https registry into a plain http one. */
  if (rc < 0 && resp.status == 0 && https_err->errnum != EKEYREJECTED &&
      https_err->errnum != ECANCELED && appc_http_allows_http(r->h)) {
    appc_cb_log(r->opts->cb, "%s; trying plain http", https_err->msg);
    r->scheme = "http";
    oci_descriptor_clear(&r->top);
    appc_error_t http_err = NULL;
    rc = get_manifest(r, reference, r->ref.digest, &resp, &r->top, &http_err);
    /* The http failure is the answer, unless http got no connection
     * either (nothing listens there): then the https one says more. */
    if (rc < 0 && http_err->errnum == ECONNREFUSED) {
      appc_error_release(&http_err);
    } else {
      appc_error_release(&https_err);
      https_err = http_err;
    }
  }
  if (rc == 0) {
    r->top_body = steal_pointer(&resp.body);
    r->top_len = resp.len;
  } else {
    *err = steal_pointer(&https_err);
  }
  appc_error_release(&https_err);
  appc_http_response_clear(&resp);
  return rc;
}

/* What docker2aci records of where an image came from. */
static int origin_annotations(struct registry *r, const char *ref, const char *manifest,
                              struct appc_kv_list *a, appc_error_t *err)
{
  if (strncmp(ref, "docker://", 9) == 0)
    ref += 9;
  if (oci_kv_add(a, "appc.io/docker/originalname", ref, err) < 0 ||
      oci_kv_add(a, "appc.io/docker/registryurl", r->ref.registry, err) < 0 ||
      oci_kv_add(a, "appc.io/docker/repository", r->ref.repository, err) < 0 ||
      oci_kv_add(a, "appc.io/docker/tag", r->ref.tag, err) < 0 ||
      oci_kv_add(a, "appc.io/docker/manifesthash", manifest, err) < 0)
    return -1;
  /* pulled through an index: what a later pull of the tag compares */
  if (strcmp(r->top.digest, manifest) != 0 &&
      oci_kv_add(a, "appc.io/oci/index", r->top.digest, err) < 0)
    return -1;
  return 0;
}

/* What a later pull of the same tag, or of the same digests, finds
 * without pulling again: the top digest the registry gave (an index's or a
 * manifest's) and the manifest resolved from it. */
static void note_pulled(struct appc_store *s, struct registry *r, const char *name,
                        const char *manifest, const char *id)
{
  const char *arch = r->opts->arch != NULL ? r->opts->arch : r->ref.arch;
  appc_error_t e = NULL;

  if (oci_note_imported(s, name, r->ref.tag, arch, r->top.digest, r->opts->squash, id, &e) < 0 ||
      (strcmp(manifest, r->top.digest) != 0 &&
       oci_note_imported(s, name, r->ref.tag, arch, manifest, r->opts->squash, id, &e) < 0)) {
    appc_cb_log(r->opts->cb, "%s: %s", r->where, e->msg);
    appc_error_release(&e);
  }
}

static int pull(struct appc_store *s, struct registry *r, const char *ref,
                struct appc_store_image *out, appc_error_t *err)
{
  struct oci_descriptor manifest = {0};
  struct appc_kv_list annotations = {0};
  cleanup_free char *name = NULL;
  int rc = -1;

  if (asprintf(&name, "%s/%s", r->ref.registry, r->ref.repository) < 0)
    return appc_error_make(err, ENOMEM, "%s", ref);
  const char *aci_name = r->opts->name != NULL ? r->opts->name : name;
  if (read_top(r, err) < 0)
    return -1;
  /* An unchanged tag: its manifest was the one request. */
  if (!r->opts->refresh && oci_find_imported(s, aci_name, r->ref.tag,
                                             r->opts->arch != NULL ? r->opts->arch : r->ref.arch,
                                             r->top.digest, r->opts->squash, out)) {
    appc_cb_log(r->opts->cb, "%s: %s is in the store as %s", r->where, r->top.digest, out->id);
    return 0;
  }
  if (oci_resolve(&r->blobs, &r->top, r->where, r->opts->os != NULL ? r->opts->os : r->ref.os,
                  r->opts->arch != NULL ? r->opts->arch : r->ref.arch, &manifest, err) == 0 &&
      origin_annotations(r, ref, manifest.digest, &annotations, err) == 0) {
    struct oci_source src = {
        .blobs = &r->blobs,
        .manifest = &manifest,
        .name = name,
        .tag = r->ref.tag,
        .annotations = &annotations,
    };
    appc_cb_log(r->opts->cb, "%s: manifest %s", r->where, manifest.digest);
    rc = oci_import(s, &src, r->opts, out, err);
    if (rc == 0)
      note_pulled(s, r, aci_name, manifest.digest, out->id);
  }
  appc_kv_list_clear(&annotations);
  oci_descriptor_clear(&manifest);
  return rc;
}

/* A pull is one operation of the client's, as a fetch by name is: its
 * token, manifests and every layer, retries included, end within the
 * client's operation deadline (ACTOOL_FETCH_DEADLINE), so a registry that
 * answers each request just in time cannot hold a pull for ever. */
static int pull_within_deadline(struct appc_store *s, struct registry *r, const char *ref,
                                struct appc_store_image *out, appc_error_t *err)
{
  cleanup_free char *what = NULL;

  if (asprintf(&what, "the pull of %s", ref) < 0) {
    what = NULL;
    return appc_error_make(err, ENOMEM, "%s", ref);
  }
  appc_http_operation_begin(r->h, what);
  int rc = pull(s, r, ref, out, err);
  appc_http_operation_end(r->h);
  return rc;
}

int appc_oci_import_registry(struct appc_store *s, struct appc_http *h, const char *ref,
                             const struct appc_oci_import_options *opts,
                             struct appc_store_image *out, appc_error_t *err)
{
  struct registry r = {
      .blobs = {.open = open_blob, .read = read_blob},
      .h = h,
      .tmp_fd = -1,
      .json_left = REGISTRY_JSON_BUDGET,
  };
  int rc = -1;

  memset(out, 0, sizeof *out);
  if ((r.opts = oci_options(opts, err)) == NULL)
    return -1;
  if (appc_docker_ref_parse(ref, &r.ref, err) < 0)
    return -1;
  if (asprintf(&r.where, "docker://%s/%s", r.ref.registry, r.ref.repository) < 0) {
    r.where = NULL;
    appc_error_make(err, ENOMEM, "%s", ref);
  } else if ((r.tmp_fd = appc_store_area_open(s, APPC_STORE_AREA_TMP, true, err)) >= 0) {
    r.blobs.where = r.where;
    rc = pull_within_deadline(s, &r, ref, out, err);
  }
  registry_clear(&r);
  return rc;
}
