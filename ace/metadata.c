/* SPDX-License-Identifier: Apache-2.0 */
/* The App Container Metadata Service (spec: ace.md, "App Container Metadata
 * Service"), served with libmicrohttpd by the metadata process M.
 *
 * Layout: AC_METADATA_URL is http://127.0.0.1:PORT/TOKEN and every endpoint
 * lives under /TOKEN/acMetadata/v1/.  A request whose first path segment is
 * not the token gets the same 404 as an unknown path, whatever its method
 * or the rest of its path, so nothing is learnt without the token.
 *
 * The identity endpoint signs with HMAC-SHA512 under the host's key (see
 * ace_metadata_key).  The signed message is the 36 ASCII bytes of the pod's
 * UUID in canonical form (lower-case hex, hyphenated) followed by the bytes
 * of the form field "content" exactly as decoded; the UUID having a fixed
 * length, no two (uuid, content) pairs give the same message.  A signature
 * is that MAC in standard base64 with padding (88 characters). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <microhttpd.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "common/array.h"
#include "common/lazy.h"

#include "ace/internal.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "schema/json.h"
#include "common/macros.h"
#include "common/utf8.h"

/* Limits on what a client may make us hold.  Content is the object to sign;
 * the body may be up to three times as large as the decoded content (every
 * byte percent-encoded) plus the other fields. */
#define MAX_CONTENT (1024 * 1024)
#define MAX_SMALL_FIELD 256 /* uuid and signature; both are far shorter */
#define MAX_BODY (3 * MAX_CONTENT + 64 * 1024)
#define POST_BUFFER 16384
#define CONNECTION_LIMIT 64u
#define CONNECTION_TIMEOUT 30u          /* seconds of inactivity */
#define REQUEST_DEADLINE_MS 10000       /* for a request, however active its client */
#define MAX_POSTS 4u                    /* uploads of one pod at once */
#define BUDGET_RATE (1024 * 1024)       /* bytes of bodies to sign and verify a second, a pod */
#define BUDGET_BURST (16 * 1024 * 1024) /* at once */

#define UUID_LEN 36
#define HMAC_LEN 64     /* SHA-512 */
#define HMAC_B64_LEN 88 /* 4 * ceil(64 / 3) */
#define TOKEN_BYTES 32

/* The name is recent (0.9.74); the status is not. */
#ifndef MHD_HTTP_CONTENT_TOO_LARGE
#define MHD_HTTP_CONTENT_TOO_LARGE 413
#endif

/* What one pod's clients hold of its server (see "limits" below). */
struct conn_rec;
struct guard {
  struct conn_rec *head; /* every connection's, closing ones too */
  unsigned live;         /* connections not closing */
  unsigned posts;        /* uploads under way */
  int64_t credit;        /* bytes of bodies it may still send to sign and verify */
  int64_t credit_at;     /* when CREDIT was last topped up (ms; 0: never) */
};

#define TEXT_TYPE "text/plain; charset=us-ascii"
#define JSON_TYPE "application/json"
#define PREFIX "/acMetadata/v1/"

/* ---- randomness and base64 ---- */

static int random_bytes(void *buf, size_t len, appc_error_t *err)
{
  unsigned char *p = buf;

  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "getrandom");
    p += n;
    len -= (size_t) n;
  }
  return 0;
}

static int b64_value(unsigned char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  /* A form encoder turns an unescaped '+' into a space; a space is never
   * base64, so reading it as '+' is unambiguous and helps `curl -d`. */
  if (c == '+' || c == ' ')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* Decode standard base64 (padding optional) into OUT, at most CAP bytes.
 * Returns the decoded length, or -1 for anything that is not base64. */
static ssize_t b64_decode(const char *in, size_t len, unsigned char *out, size_t cap)
{
  uint32_t acc = 0;
  size_t bits = 0, n = 0;

  if (len % 4 == 0 && len >= 2 && in[len - 1] == '=')
    len -= in[len - 2] == '=' ? 2 : 1;
  if (len % 4 == 1)
    return -1;
  for (size_t i = 0; i < len; i++) {
    int v = b64_value((unsigned char) in[i]);
    if (v < 0)
      return -1;
    acc = (acc << 6) | (uint32_t) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n == cap)
        return -1;
      out[n++] = (unsigned char) (acc >> bits);
    }
  }
  /* Leftover bits must be zero: one encoding per value. */
  if ((acc & ((1u << bits) - 1)) != 0)
    return -1;
  return (ssize_t) n;
}

/* ---- the host's HMAC key ---- */

/* Read the key from FD (open on PATH) after checking that nobody else can
 * read or have written it. */
static int key_check(const struct stat *st, const char *path, appc_error_t *err);

static int key_read(int fd, const char *path, unsigned char key[ACE_HMAC_KEY_LEN],
                    appc_error_t *err)
{
  struct stat st;
  size_t got = 0;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s", path);
  if (key_check(&st, path, err) < 0)
    return -1;
  while (got < ACE_HMAC_KEY_LEN) {
    ssize_t n = read(fd, key + got, ACE_HMAC_KEY_LEN - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "%s", path);
    if (n == 0)
      return appc_error_make(err, 0, "%s: HMAC key is truncated", path);
    got += (size_t) n;
  }
  return 0;
}

/* Whether ST, the key file's, is one only we can read or have written. */
static int key_check(const struct stat *st, const char *path, appc_error_t *err)
{
  if (!S_ISREG(st->st_mode))
    return appc_error_make(err, 0, "%s: HMAC key must be a regular file", path);
  if (st->st_uid != geteuid())
    return appc_error_make(err, 0, "%s: HMAC key is owned by uid %u, must be owned by uid %u", path,
                           (unsigned) st->st_uid, (unsigned) geteuid());
  if ((st->st_mode & 07777) != 0600)
    return appc_error_make(err, 0, "%s: HMAC key has mode %04o, must be 0600", path,
                           (unsigned) (st->st_mode & 07777));
  if (st->st_size != ACE_HMAC_KEY_LEN)
    return appc_error_make(err, 0, "%s: HMAC key has %lld bytes, must have %d", path,
                           (long long) st->st_size, ACE_HMAC_KEY_LEN);
  return 0;
}

int ace_metadata_key_check_at(int dirfd, const char *name, const char *path, appc_error_t *err)
{
  struct stat st;

  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : appc_error_make(err, errno, "%s", path);
  if (S_ISLNK(st.st_mode))
    return appc_error_make(err, 0, "%s: HMAC key must not be a symbolic link", path);
  return key_check(&st, path, err);
}

/* 1: loaded; 0: NAME (PATH in messages) does not exist; -1: error. */
static int key_load(int dirfd, const char *name, const char *path,
                    unsigned char key[ACE_HMAC_KEY_LEN], appc_error_t *err)
{
  /* O_NONBLOCK so that a FIFO put there cannot hang us before the check. */
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

  if (fd < 0 && errno == ENOENT)
    return 0;
  if (fd < 0 && errno == ELOOP)
    return appc_error_make(err, 0, "%s: HMAC key must not be a symbolic link", path);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  return key_read(fd, path, key, err) < 0 ? -1 : 1;
}

/* Create PATH holding a fresh key.  1: created (KEY holds it); 0: another
 * process created PATH first, whose key the caller must load instead.
 * NOREPLACE links rather than renames: of concurrent creators exactly one
 * installs its key and the others use that one, where a rename would
 * replace a key someone already handed out. */
static int key_create(int dirfd, const char *name, const char *path,
                      unsigned char key[ACE_HMAC_KEY_LEN], appc_error_t *err)
{
  if (random_bytes(key, ACE_HMAC_KEY_LEN, err) < 0)
    return -1;
  if (appc_atomic_write_at(dirfd, name, key, ACE_HMAC_KEY_LEN, 0600,
                           APPC_WRITE_DURABLE | APPC_WRITE_NOREPLACE, err) == 0)
    return 1;
  if ((*err)->errnum != EEXIST) /* (the error names NAME) */
    return strcmp(path, name) != 0 ? appc_error_prefix(err, "%s", path) : -1;
  appc_error_release(err);
  return 0;
}

int ace_metadata_key_at(int dirfd, const char *name, const char *path,
                        unsigned char key[ACE_HMAC_KEY_LEN], appc_error_t *err)
{
  /* Only a creator that lost the race to one that then vanished (the key
   * removed between link and load) loops more than once. */
  for (int attempt = 0; attempt < 10; attempt++) {
    int r = key_load(dirfd, name, path, key, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
    r = key_create(dirfd, name, path, key, err);
    if (r != 0)
      return r < 0 ? -1 : 0;
  }
  return appc_error_make(err, EAGAIN, "%s: HMAC key keeps disappearing", path);
}

int ace_metadata_key(const char *path, unsigned char key[ACE_HMAC_KEY_LEN], appc_error_t *err)
{
  return ace_metadata_key_at(AT_FDCWD, path, path, key, err);
}

int ace_metadata_token(char out[ACE_TOKEN_LEN + 1], appc_error_t *err)
{
  unsigned char raw[TOKEN_BYTES];

  if (random_bytes(raw, sizeof raw, err) < 0)
    return -1;
  /* Hex: safe in a URL path, and made without libcrypto, which P (that
   * makes the token) otherwise never loads. */
  for (size_t i = 0; i < sizeof raw; i++)
    snprintf(out + 2 * i, 3, "%02x", raw[i]);
  explicit_bzero(raw, sizeof raw);
  return 0;
}

/* ---- what the server serves ---- */

/* Everything a pod's service answers with, owned by the service: the same
 * data whether it came from the caller (ace_metadata_serve) or from P over
 * the shared service's socket (ace_metadata_wire_*). */
struct served_app {
  char *name;
  char *image_id;
  char *manifest;    /* the image's manifest as stored */
  char *annotations; /* JSON: the image's merged with the pod's for the app */
};

struct server {
  char *token;
  size_t token_len;
  char uuid[UUID_LEN + 1]; /* canonical form */
  char *pod_manifest;
  char *pod_annotations; /* JSON */
  struct served_app *apps;
  size_t n_apps;
  unsigned char key[ACE_HMAC_KEY_LEN];
  EVP_PKEY *hmac_key;
  struct MHD_Daemon *daemon;
  struct guard guard; /* MHD's thread's alone */
};

static void server_free(struct server *s)
{
  if (s == NULL)
    return;
  if (s->hmac_key != NULL)
    EVP_PKEY_free(s->hmac_key); /* libcrypto may not be loaded if set-up failed early */
  free(s->token);
  free(s->pod_manifest);
  free(s->pod_annotations);
  for (size_t i = 0; s->apps != NULL && i < s->n_apps; i++) {
    free(s->apps[i].name);
    free(s->apps[i].image_id);
    free(s->apps[i].manifest);
    free(s->apps[i].annotations);
  }
  free(s->apps);
  explicit_bzero(s->key, sizeof s->key);
  free(s);
}
static void server_freep(struct server **s)
{
  server_free(*s);
}
#define cleanup_server __attribute__((cleanup(server_freep)))

/* Copy TEXT, when it is a UUID in the RFC 4122 text form (either case), to
 * OUT in canonical lower-case form. */
static bool uuid_canonical(const char *text, size_t len, char out[UUID_LEN + 1])
{
  if (len != UUID_LEN)
    return false;
  for (size_t i = 0; i < UUID_LEN; i++) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    unsigned char c = (unsigned char) text[i];
    if (dash ? c != '-' : !isxdigit(c))
      return false;
    out[i] = (char) tolower(c);
  }
  out[UUID_LEN] = '\0';
  return true;
}

static const struct appc_kv_list no_annotations = {NULL, 0};

static bool kv_name_eq(const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp(a, b) == 0;
}

static int render_kv(const struct appc_kv_list *l, char **out, appc_error_t *err)
{
  cleanup_json struct json_object *a = appc_jkv_list(l);
  size_t len;

  if (a == NULL)
    return appc_error_make(err, ENOMEM, "metadata: annotations");
  return appc_json_render(a, 0, out, &len, err);
}

/* The spec's "annotations from Image Manifest merged with app annotations
 * from Pod Manifest": the image's in their order, a pod annotation replacing
 * the value of the image's one with its name, the others appended. */
static int render_app_annotations(const struct ace_metadata_app *app, char **out, appc_error_t *err)
{
  const struct appc_kv_list *img =
      app->image_manifest != NULL ? &app->image_manifest->annotations : &no_annotations;
  const struct appc_kv_list *pod =
      app->pod_app_annotations != NULL ? app->pod_app_annotations : &no_annotations;
  cleanup_free struct appc_kv *items = calloc(img->len + pod->len + 1, sizeof *items);
  size_t n = img->len;

  if (items == NULL)
    return appc_error_make(err, ENOMEM, "metadata: annotations of app %s", app->name);
  /* Shallow copies: the strings stay the caller's. */
  if (img->len > 0)
    memcpy(items, img->items, img->len * sizeof *items);
  for (size_t i = 0; i < pod->len; i++) {
    size_t j = 0;
    while (j < img->len && !kv_name_eq(items[j].name, pod->items[i].name))
      j++;
    if (j < img->len)
      items[j].value = pod->items[i].value;
    else
      items[n++] = pod->items[i];
  }
  return render_kv(&(struct appc_kv_list){items, n}, out, err);
}

/* What every server must hold, whatever its source: checked here so that a
 * failure is an error at start rather than a 500 later. */
static int server_check(const struct server *s, appc_error_t *err)
{
  if (s->token == NULL || s->token_len == 0)
    return appc_error_make(err, 0, "metadata: the token must not be empty");
  if (s->pod_manifest == NULL || s->pod_annotations == NULL)
    return appc_error_make(err, 0, "metadata: the pod manifest is missing");
  for (size_t i = 0; i < s->n_apps; i++)
    if (s->apps[i].name == NULL || s->apps[i].image_id == NULL || s->apps[i].manifest == NULL ||
        s->apps[i].annotations == NULL)
      return appc_error_make(err, 0, "metadata: app %s: image ID or manifest missing",
                             s->apps[i].name != NULL ? s->apps[i].name : "(unnamed)");
  return 0;
}

static char *dup_or_null(const char *s)
{
  return s != NULL ? strdup(s) : NULL;
}

/* A server for POD (the caller's view), with copies of what it serves. */
static int server_from_pod(const struct ace_metadata_pod *pod, const char *token,
                           struct server **out, appc_error_t *err)
{
  cleanup_server struct server *s = calloc(1, sizeof *s);

  if (s == NULL || (s->apps = calloc(pod->n_apps + 1, sizeof *s->apps)) == NULL ||
      (s->token = strdup(token)) == NULL)
    return appc_error_make(err, ENOMEM, "metadata");
  s->token_len = strlen(token);
  s->n_apps = pod->n_apps;
  if (pod->uuid == NULL || !uuid_canonical(pod->uuid, strlen(pod->uuid), s->uuid))
    return appc_error_make(err, 0, "metadata: pod UUID \"%s\" is not in RFC 4122 form",
                           pod->uuid != NULL ? pod->uuid : "");
  if (pod->pod_manifest_json != NULL &&
      ((s->pod_manifest = strdup(pod->pod_manifest_json)) == NULL ||
       render_kv(pod->annotations != NULL ? pod->annotations : &no_annotations, &s->pod_annotations,
                 err) < 0))
    return *err != NULL ? -1 : appc_error_make(err, ENOMEM, "metadata");
  for (size_t i = 0; i < pod->n_apps; i++) {
    const struct ace_metadata_app *a = &pod->apps[i];
    struct served_app *sa = &s->apps[i];
    sa->name = dup_or_null(a->name);
    sa->image_id = dup_or_null(a->image_id);
    sa->manifest = dup_or_null(a->image_manifest_json);
    if (render_app_annotations(a, &sa->annotations, err) < 0)
      return -1;
    if ((a->name != NULL && sa->name == NULL) || (a->image_id != NULL && sa->image_id == NULL) ||
        (a->image_manifest_json != NULL && sa->manifest == NULL))
      return appc_error_make(err, ENOMEM, "metadata");
  }
  if (pod->hmac_key != NULL) /* (the wire form leaves it out) */
    memcpy(s->key, pod->hmac_key, ACE_HMAC_KEY_LEN);
  if (server_check(s, err) < 0)
    return -1;
  *out = steal_pointer(&s);
  return 0;
}

/* ---- the wire form: what P hands the shared service ---- */

/* A JSON object of strings: {"uuid", "token", "podManifest",
 * "podAnnotations", "apps": [{"name", "imageID", "manifest",
 * "annotations"}]}.  Not the HMAC key: the service reads it itself, so that
 * no process of the pod (its init, a supervisor, cloned from actool) ever
 * holds a copy an app allowed to trace it could read; one key signs for
 * every pod of the store.  Only root can reach the shared service (docs/executor.md),
 * but what arrives is still checked as any input: types, the UUID's form,
 * the key's length. */
static int wire_put(struct json_object *o, const char *key, const char *value)
{
  struct json_object *v = json_object_new_string(value);
  return v != NULL && json_object_object_add(o, key, v) == 0 ? 0 : -1;
}

static struct json_object *server_to_json(const struct server *s)
{
  cleanup_json struct json_object *o = json_object_new_object();
  struct json_object *apps = json_object_new_array();

  if (o == NULL || apps == NULL || json_object_object_add(o, "apps", apps) < 0) {
    json_object_put(apps);
    return NULL;
  }
  bool ok = wire_put(o, "uuid", s->uuid) == 0 && wire_put(o, "token", s->token) == 0 &&
            wire_put(o, "podManifest", s->pod_manifest) == 0 &&
            wire_put(o, "podAnnotations", s->pod_annotations) == 0;
  for (size_t i = 0; ok && i < s->n_apps; i++) {
    struct json_object *a = json_object_new_object();
    ok = a != NULL && json_object_array_add(apps, a) == 0 &&
         wire_put(a, "name", s->apps[i].name) == 0 &&
         wire_put(a, "imageID", s->apps[i].image_id) == 0 &&
         wire_put(a, "manifest", s->apps[i].manifest) == 0 &&
         wire_put(a, "annotations", s->apps[i].annotations) == 0;
  }
  if (!ok)
    return NULL;
  return steal_pointer(&o);
}

/* S's wire form as text. */
static int server_render(const struct server *s, char **out, size_t *len, appc_error_t *err)
{
  cleanup_json struct json_object *o = server_to_json(s);

  if (o == NULL)
    return appc_error_make(err, ENOMEM, "metadata");
  return appc_json_render(o, 0, out, len, err);
}

int ace_metadata_wire_encode(const struct ace_metadata_pod *pod, const char *token, char **out,
                             size_t *len, appc_error_t *err)
{
  cleanup_server struct server *s = NULL;

  return server_from_pod(pod, token, &s, err) < 0 ? -1 : server_render(s, out, len, err);
}

/* The string member KEY of O, copied; NULL (an error in *ERR) when absent,
 * not a string, or not text (a NUL inside, or not UTF-8: json-c takes both,
 * and what the service answers with must be what P meant). */
static char *wire_string(struct json_object *o, const char *key, appc_error_t *err)
{
  struct json_object *v;
  const char *text;
  char *r;

  if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string)) {
    appc_error_make(err, 0, "metadata: registration: %s must be a string", key);
    return NULL;
  }
  text = json_object_get_string(v);
  if (strlen(text) != (size_t) json_object_get_string_len(v) || !appc_utf8_valid(text)) {
    appc_error_make(err, 0, "metadata: registration: %s must be UTF-8 text without NUL", key);
    return NULL;
  }
  if ((r = strdup(text)) == NULL)
    appc_error_make(err, ENOMEM, "metadata");
  return r;
}

static int wire_apps(struct server *s, struct json_object *o, appc_error_t *err)
{
  struct json_object *apps;

  if (!json_object_object_get_ex(o, "apps", &apps) || !json_object_is_type(apps, json_type_array))
    return appc_error_make(err, 0, "metadata: registration: apps must be an array");
  s->n_apps = json_object_array_length(apps);
  if ((s->apps = calloc(s->n_apps + 1, sizeof *s->apps)) == NULL)
    return appc_error_make(err, ENOMEM, "metadata");
  for (size_t i = 0; i < s->n_apps; i++) {
    struct json_object *a = json_object_array_get_idx(apps, i);
    struct served_app *sa = &s->apps[i];
    if (!json_object_is_type(a, json_type_object))
      return appc_error_make(err, 0, "metadata: registration: apps[%zu] must be an object", i);
    if ((sa->name = wire_string(a, "name", err)) == NULL ||
        (sa->image_id = wire_string(a, "imageID", err)) == NULL ||
        (sa->manifest = wire_string(a, "manifest", err)) == NULL ||
        (sa->annotations = wire_string(a, "annotations", err)) == NULL)
      return appc_error_prefix(err, "apps[%zu]", i);
  }
  return 0;
}

static int server_from_wire(const char *text, size_t len, struct server **out, appc_error_t *err)
{
  cleanup_server struct server *s = calloc(1, sizeof *s);
  cleanup_json struct json_object *o = NULL;
  cleanup_free char *uuid = NULL;
  struct json_tokener *tok = json_tokener_new();

  if (s == NULL || tok == NULL) {
    json_tokener_free(tok);
    return appc_error_make(err, ENOMEM, "metadata");
  }
  if (len <= INT_MAX)
    o = json_tokener_parse_ex(tok, text, (int) len);
  bool whole = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
               json_tokener_get_parse_end(tok) == len;
  json_tokener_free(tok);
  if (!whole || !json_object_is_type(o, json_type_object))
    return appc_error_make(err, 0, "metadata: registration: not a JSON object");
  if ((uuid = wire_string(o, "uuid", err)) == NULL ||
      (s->token = wire_string(o, "token", err)) == NULL ||
      (s->pod_manifest = wire_string(o, "podManifest", err)) == NULL ||
      (s->pod_annotations = wire_string(o, "podAnnotations", err)) == NULL ||
      wire_apps(s, o, err) < 0)
    return -1;
  if (!uuid_canonical(uuid, strlen(uuid), s->uuid))
    return appc_error_make(err, 0, "metadata: pod UUID \"%s\" is not in RFC 4122 form", uuid);
  s->token_len = strlen(s->token);
  if (server_check(s, err) < 0)
    return -1;
  *out = steal_pointer(&s);
  return 0;
}

/* HMAC-SHA512 of UUID || CONTENT (see the top of the file). */
static bool hmac_sign(const struct server *s, const char uuid[UUID_LEN], const void *content,
                      size_t len, unsigned char mac[HMAC_LEN])
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t mac_len = HMAC_LEN;
  bool ok = ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha512(), NULL, s->hmac_key) == 1 &&
            EVP_DigestSignUpdate(ctx, uuid, UUID_LEN) == 1 &&
            EVP_DigestSignUpdate(ctx, content, len) == 1 &&
            EVP_DigestSignFinal(ctx, mac, &mac_len) == 1 && mac_len == HMAC_LEN;

  EVP_MD_CTX_free(ctx);
  return ok;
}

/* ---- routing ---- */

enum endpoint {
  EP_POD_ANNOTATIONS,
  EP_POD_MANIFEST,
  EP_POD_UUID,
  EP_HMAC_SIGN,
  EP_HMAC_VERIFY,
  EP_APP_ANNOTATIONS,
  EP_APP_MANIFEST,
  EP_APP_ID,
};

struct route {
  enum endpoint ep;
  const struct served_app *app; /* for EP_APP_* */
  size_t app_index;
};

static const struct {
  const char *path;
  enum endpoint ep;
} pod_paths[] = {
    {"pod/annotations", EP_POD_ANNOTATIONS},
    {"pod/manifest", EP_POD_MANIFEST},
    {"pod/uuid", EP_POD_UUID},
    {"pod/hmac/sign", EP_HMAC_SIGN},
    {"pod/hmac/verify", EP_HMAC_VERIFY},
};
static const struct {
  const char *path;
  enum endpoint ep;
} app_paths[] = {
    {"annotations", EP_APP_ANNOTATIONS},
    {"image/manifest", EP_APP_MANIFEST},
    {"image/id", EP_APP_ID},
};

static bool is_post(enum endpoint ep)
{
  return ep == EP_HMAC_SIGN || ep == EP_HMAC_VERIFY;
}

/* Whether URL starts with "/TOKEN"; *REST is what follows it.  The token is
 * compared in constant time; its length is no secret (ACE_TOKEN_LEN). */
static bool token_matches(const struct server *s, const char *url, const char **rest)
{
  size_t n;

  if (url[0] != '/')
    return false;
  n = strcspn(url + 1, "/");
  *rest = url + 1 + n;
  return n == s->token_len && CRYPTO_memcmp(url + 1, s->token, n) == 0;
}

static bool find_app(const struct server *s, const char *path, struct route *r)
{
  size_t n = strcspn(path, "/");

  if (path[n] != '/')
    return false;
  for (size_t i = 0; i < s->n_apps; i++) {
    const char *name = s->apps[i].name;
    if (name == NULL || strlen(name) != n || memcmp(name, path, n) != 0)
      continue;
    for (size_t j = 0; j < ARRAY_SIZE(app_paths); j++) {
      if (strcmp(path + n + 1, app_paths[j].path) == 0) {
        *r = (struct route){app_paths[j].ep, &s->apps[i], i};
        return true;
      }
    }
    return false;
  }
  return false;
}

/* Route PATH, what follows the token in the URL. */
static bool route_path(const struct server *s, const char *path, struct route *r)
{
  if (strncmp(path, PREFIX, strlen(PREFIX)) != 0)
    return false;
  path += strlen(PREFIX);
  for (size_t i = 0; i < ARRAY_SIZE(pod_paths); i++) {
    if (strcmp(path, pod_paths[i].path) == 0) {
      *r = (struct route){.ep = pod_paths[i].ep};
      return true;
    }
  }
  return strncmp(path, "apps/", 5) == 0 && find_app(s, path + 5, r);
}

/* MHD's decoding of the path (and of query arguments), except that a
 * string holding an encoded NUL is left empty, which no endpoint is: the
 * NUL would otherwise end it early, "pod/uuid%00junk" read as pod/uuid. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
  size_t len = MHD_http_unescape(s);

  (void) cls, (void) c;
  if (memchr(s, '\0', len) == NULL)
    return len;
  s[0] = '\0';
  return 0;
}

/* ---- responses ---- */

/* Queue a response with BODY (which must outlive the daemon when MODE is
 * MHD_RESPMEM_PERSISTENT) of media type TYPE, with the header HEADER:
 * VALUE when HEADER is not NULL. */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const void *body,
                               size_t len, enum MHD_ResponseMemoryMode mode, const char *type,
                               const char *header, const char *value)
{
  struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *) body, mode);
  enum MHD_Result ret = MHD_NO;

  if (r == NULL)
    return MHD_NO;
  if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) == MHD_YES &&
      (header == NULL || MHD_add_response_header(r, header, value) == MHD_YES))
    ret = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return ret;
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
  return respond(c, status, text, strlen(text), MHD_RESPMEM_PERSISTENT, TEXT_TYPE, NULL, NULL);
}

static enum MHD_Result respond_status(struct MHD_Connection *c, unsigned status)
{
  switch (status) {
  case MHD_HTTP_NOT_FOUND:
    return respond_text(c, status, "not found\n");
  case MHD_HTTP_BAD_REQUEST:
    return respond_text(c, status, "bad request\n");
  case MHD_HTTP_FORBIDDEN:
    return respond_text(c, status, "forbidden\n");
  case MHD_HTTP_CONTENT_TOO_LARGE:
    return respond_text(c, status, "request body too large\n");
  case MHD_HTTP_SERVICE_UNAVAILABLE:
    return respond_text(c, status, "too many uploads at once\n");
  case MHD_HTTP_NOT_IMPLEMENTED:
    return respond_text(c, status, "a body must have a Content-Length or be chunked\n");
  case MHD_HTTP_UNSUPPORTED_MEDIA_TYPE:
    return respond_text(c, status,
                        "expected application/x-www-form-urlencoded or multipart/form-data\n");
  default:
    return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal error\n");
  }
}

static enum MHD_Result respond_not_allowed(struct MHD_Connection *c, const char *allow)
{
  static const char body[] = "method not allowed\n";

  return respond(c, MHD_HTTP_METHOD_NOT_ALLOWED, body, sizeof body - 1, MHD_RESPMEM_PERSISTENT,
                 TEXT_TYPE, MHD_HTTP_HEADER_ALLOW, allow);
}

static enum MHD_Result respond_get(const struct server *s, struct MHD_Connection *c,
                                   const struct route *r)
{
  const char *body;
  size_t len;
  const char *type = JSON_TYPE;

  switch (r->ep) {
  case EP_POD_ANNOTATIONS:
    body = s->pod_annotations, len = strlen(body);
    break;
  case EP_POD_MANIFEST:
    body = s->pod_manifest, len = strlen(body);
    break;
  case EP_POD_UUID:
    body = s->uuid, len = UUID_LEN, type = TEXT_TYPE;
    break;
  case EP_APP_ANNOTATIONS:
    body = r->app->annotations, len = strlen(body);
    break;
  case EP_APP_MANIFEST:
    body = r->app->manifest, len = strlen(body);
    break;
  case EP_APP_ID:
    body = r->app->image_id, len = strlen(body), type = TEXT_TYPE;
    break;
  default:
    return respond_status(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
  }
  /* Everything served lives as long as the daemon: no copy. */
  return respond(c, MHD_HTTP_OK, body, len, MHD_RESPMEM_PERSISTENT, type, NULL, NULL);
}

/* ---- limits ---- */

/* A pod's apps (or, with --net=host, any local user) could otherwise hold
 * every connection of its server (a byte every few seconds beats the
 * inactivity timeout), every descriptor of the service that all pods
 * share, or 64 uploads of megabytes each.  So a request has a deadline
 * however active its client, checked whenever a connection arrives (when a
 * slot is wanted); a pod has at most a quarter of the connections the
 * service allows, and the service at most half its descriptors (the rest
 * are the registrations' and the servers'); a pod uploads MAX_POSTS bodies
 * at once at most.  A connection that has not shown the token is a
 * stranger's until it does: when the pod is full, the oldest such gives
 * way to a new one, so that strangers replacing their connections just
 * under the deadline cannot hold every slot and turn the pod's apps away.
 * Each connection has a record, its socket context. */
struct conn_rec {
  struct guard *g;
  struct conn_rec *prev, *next; /* newest first */
  int fd;
  int64_t since; /* the start of its current request (or of the connection) */
  bool closing;  /* shut down (past its deadline, or given way): no longer counted */
  bool known;    /* a request of it has shown the token */
};

static _Atomic unsigned all_live; /* every server's live connections */

static void conn_limits(unsigned *per_pod, unsigned *all)
{
  struct rlimit rl;
  rlim_t n = getrlimit(RLIMIT_NOFILE, &rl) == 0 ? rl.rlim_cur : 1024;

  *all = n / 2 > UINT_MAX ? UINT_MAX : (unsigned) (n / 2);
  *per_pod = *all / 4 < 1 ? 1 : *all / 4 < CONNECTION_LIMIT ? *all / 4 : CONNECTION_LIMIT;
}

static void rec_uncount(struct conn_rec *r)
{
  if (!r->closing) {
    r->closing = true;
    r->g->live--;
    atomic_fetch_sub(&all_live, 1);
  }
}

/* Shut R down: MHD sees its end at once and closes it. */
static void rec_close(struct conn_rec *r)
{
  shutdown(r->fd, SHUT_RDWR);
  rec_uncount(r);
}

/* Close the connections whose request is past its deadline. */
static void close_stale(struct guard *g)
{
  int64_t now = appc_monotonic_ms();

  for (struct conn_rec *r = g->head; r != NULL; r = r->next)
    if (!r->closing && now - r->since > REQUEST_DEADLINE_MS)
      rec_close(r);
}

/* The oldest connection that is counted and has not shown the token. */
static struct conn_rec *oldest_stranger(const struct guard *g)
{
  struct conn_rec *found = NULL;

  for (struct conn_rec *r = g->head; r != NULL; r = r->next)
    if (!r->closing && !r->known)
      found = r;
  return found;
}

static bool has_room(const struct guard *g)
{
  unsigned per_pod, all;

  conn_limits(&per_pod, &all);
  return g->live < per_pod && atomic_load(&all_live) < all;
}

/* MHD's accept policy: a new connection, once the stale ones are gone and,
 * when the pod is still full, a stranger's has given way. */
static enum MHD_Result admit(void *cls, const struct sockaddr *addr, socklen_t len)
{
  struct guard *g = cls;
  struct conn_rec *stranger;

  (void) addr, (void) len;
  close_stale(g);
  if (!has_room(g) && (stranger = oldest_stranger(g)) != NULL)
    rec_close(stranger);
  return has_room(g) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
  struct guard *g = cls;
  struct conn_rec *r = *socket_context;

  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci == NULL || (r = calloc(1, sizeof *r)) == NULL)
      return; /* not counted, and never closed early */
    *r = (struct conn_rec){g, NULL, g->head, ci->connect_fd, appc_monotonic_ms(), false, false};
    if (g->head != NULL)
      g->head->prev = r;
    g->head = r;
    g->live++;
    atomic_fetch_add(&all_live, 1);
    *socket_context = r;
    return;
  }
  if (r == NULL)
    return;
  rec_uncount(r);
  if (r->prev != NULL)
    r->prev->next = r->next;
  else
    g->head = r->next;
  if (r->next != NULL)
    r->next->prev = r->prev;
  free(r);
  *socket_context = NULL;
}

static struct conn_rec *conn_rec_of(struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

  return ci != NULL ? ci->socket_context : NULL;
}

/* What MHD did not close when its daemon stopped. */
static void guard_release(struct guard *g)
{
  while (g->head != NULL) {
    struct conn_rec *r = g->head;
    g->head = r->next;
    rec_uncount(r);
    free(r);
  }
}

/* The budget of body bytes (see "limits"): the service runs outside the
 * pods' cgroups, so what a pod makes it sign and verify, hashed and decoded
 * on its server's thread, is no part of the pod's CPU limit.  A token
 * bucket: BUDGET_RATE bytes a second, BUDGET_BURST at most.  A request may
 * start while the credit is not negative and spends every byte of its body
 * (those dropped past the limit too), so MAX_POSTS uploads under way can
 * overdraw it, by 2 * MAX_BODY each at most; past it a request answers 429,
 * with Retry-After.  Identity assertions, small and occasional, never meet
 * it.  Settable for the fuzz target, which sends more than any pod should. */
static int64_t budget_rate = BUDGET_RATE, budget_burst = BUDGET_BURST;

void ace_metadata_set_budget(size_t per_second, size_t burst)
{
  budget_rate = (int64_t) per_second;
  budget_burst = (int64_t) burst;
}

/* G's credit now, topped up for the time since it was last. */
static int64_t budget_credit(struct guard *g)
{
  int64_t now = appc_monotonic_ms();
  /* Longer than it takes to fill up from what it holds: no need to count
   * further, nor room to overflow. */
  int64_t fill_ms = (budget_burst - g->credit) / budget_rate * 1000 + 1000;
  int64_t elapsed =
      g->credit_at == 0 || now - g->credit_at > fill_ms ? fill_ms : now - g->credit_at;

  g->credit += elapsed * budget_rate / 1000;
  if (g->credit > budget_burst)
    g->credit = budget_burst;
  g->credit_at = now;
  return g->credit;
}

static void budget_spend(struct guard *g, size_t bytes)
{
  g->credit -= (int64_t) bytes;
}

/* 429, with the seconds until CREDIT (negative) is back to zero. */
static enum MHD_Result respond_over_budget(struct MHD_Connection *c, int64_t credit)
{
  static const char body[] = "too much to sign or verify: retry later\n";
  int64_t wait = (-credit + budget_rate - 1) / budget_rate;
  char after[24];

  snprintf(after, sizeof after, "%lld", (long long) (wait > 0 ? wait : 1));
  return respond(c, MHD_HTTP_TOO_MANY_REQUESTS, body, sizeof body - 1, MHD_RESPMEM_PERSISTENT,
                 TEXT_TYPE, MHD_HTTP_HEADER_RETRY_AFTER, after);
}

/* ---- POST bodies ---- */

struct field {
  char *data;
  size_t len, cap, max;
  bool seen, overflow;
};

struct request {
  struct guard *guard; /* counts this upload, and its bytes against the budget */
  enum endpoint ep;
  struct MHD_PostProcessor *pp;
  struct field content, uuid, signature;
  size_t body_len;
  unsigned status; /* the error to answer with once the body is in; 0: none */
};

static void request_free(struct request *req)
{
  if (req == NULL)
    return;
  if (req->pp != NULL)
    MHD_destroy_post_processor(req->pp);
  if (req->guard != NULL)
    req->guard->posts--;
  free(req->content.data);
  free(req->uuid.data);
  free(req->signature.data);
  free(req);
}

static void request_fail(struct request *req, unsigned status)
{
  if (req->status == 0)
    req->status = status;
}

/* Append to F; -1 only when out of memory.  Past F->max the value is
 * marked and dropped, the rest of the body still being read. */
static int field_append(struct field *f, const char *data, size_t size)
{
  if (f->overflow || size > f->max - f->len) {
    f->overflow = true;
    return 0;
  }
  if (APPC_ARRAY_RESERVE(f->data, f->cap, f->len + size + 1) < 0)
    return -1;
  memcpy(f->data + f->len, data, size);
  f->len += size;
  f->data[f->len] = '\0';
  return 0;
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
  struct request *req = cls;
  /* libmicrohttpd passes no name for a multipart part whose
   * Content-Disposition has "name" without a value. */
  struct field *f = key == NULL                     ? NULL
                    : strcmp(key, "content") == 0   ? &req->content
                    : strcmp(key, "uuid") == 0      ? &req->uuid
                    : strcmp(key, "signature") == 0 ? &req->signature
                                                    : NULL;

  if (f == NULL)
    return MHD_YES; /* other fields are allowed and ignored */
  /* A value arrives in pieces at increasing offsets; a piece at another
   * offset starts a second field of the same name, which would leave it
   * ambiguous what is signed. */
  if ((off == 0 && f->seen) || (!f->overflow && off != f->len)) {
    request_fail(req, MHD_HTTP_BAD_REQUEST);
    return MHD_NO;
  }
  f->seen = true;
  if (size > 0 && field_append(f, data, size) < 0) {
    request_fail(req, MHD_HTTP_INTERNAL_SERVER_ERROR);
    return MHD_NO;
  }
  if (f == &req->content && f->overflow)
    request_fail(req, MHD_HTTP_CONTENT_TOO_LARGE);
  return MHD_YES;
}

static enum MHD_Result respond_sign(const struct server *s, struct MHD_Connection *c,
                                    const struct request *req)
{
  unsigned char mac[HMAC_LEN];
  char b64[HMAC_B64_LEN + 1];

  if (!req->content.seen)
    return respond_status(c, MHD_HTTP_BAD_REQUEST);
  if (!hmac_sign(s, s->uuid, req->content.data, req->content.len, mac))
    return respond_status(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
  EVP_EncodeBlock((unsigned char *) b64, mac, HMAC_LEN);
  return respond(c, MHD_HTTP_OK, b64, HMAC_B64_LEN, MHD_RESPMEM_MUST_COPY, TEXT_TYPE, NULL, NULL);
}

static enum MHD_Result respond_verify(const struct server *s, struct MHD_Connection *c,
                                      const struct request *req)
{
  char uuid[UUID_LEN + 1];
  unsigned char given[HMAC_LEN], mac[HMAC_LEN];

  if (!req->content.seen || !req->uuid.seen || !req->signature.seen)
    return respond_status(c, MHD_HTTP_BAD_REQUEST);
  if (req->uuid.overflow || req->signature.overflow ||
      !uuid_canonical(req->uuid.data, req->uuid.len, uuid) ||
      b64_decode(req->signature.data, req->signature.len, given, sizeof given) != HMAC_LEN)
    return respond_status(c, MHD_HTTP_FORBIDDEN);
  if (!hmac_sign(s, uuid, req->content.data, req->content.len, mac))
    return respond_status(c, MHD_HTTP_INTERNAL_SERVER_ERROR);
  if (CRYPTO_memcmp(mac, given, HMAC_LEN) != 0)
    return respond_status(c, MHD_HTTP_FORBIDDEN);
  return respond(c, MHD_HTTP_OK, "", 0, MHD_RESPMEM_PERSISTENT, TEXT_TYPE, NULL, NULL);
}

/* The whole body has arrived (or been dropped). */
static enum MHD_Result respond_post(const struct server *s, struct MHD_Connection *c,
                                    struct request *req)
{
  /* Destroying the post processor delivers a last value that was not
   * followed by a separator; it fails on a truncated form. */
  bool complete = MHD_destroy_post_processor(req->pp) == MHD_YES;

  req->pp = NULL;
  if (!complete)
    request_fail(req, MHD_HTTP_BAD_REQUEST);
  if (req->status != 0)
    return respond_status(c, req->status);
  if (req->ep == EP_HMAC_SIGN)
    return respond_sign(s, c, req);
  return respond_verify(s, c, req);
}

/* Take a piece of the body.  A body over the limit is read and dropped so
 * that the client gets its 413 (MHD cannot answer in the middle of an
 * upload), up to a point past which the connection is simply closed. */
static enum MHD_Result take_body(struct request *req, const char *data, size_t size)
{
  if (req->guard != NULL)
    budget_spend(req->guard, size);
  req->body_len += size;
  if (req->body_len > MAX_BODY)
    request_fail(req, MHD_HTTP_CONTENT_TOO_LARGE);
  if (req->body_len > 2 * (size_t) MAX_BODY)
    return MHD_NO;
  if (req->status == 0 && MHD_post_process(req->pp, data, size) != MHD_YES)
    request_fail(req, MHD_HTTP_BAD_REQUEST);
  return MHD_YES;
}

/* What the headers that delimit a body say, every one of them: MHD reads
 * only the first of each name. */
struct framing {
  const char *length;  /* the first Content-Length */
  bool lengths_differ; /* a later one says otherwise */
  unsigned codings;    /* Transfer-Encoding headers */
  bool chunked;        /* the last of those is "chunked" alone */
};

static enum MHD_Result on_framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
  struct framing *f = cls;

  (void) kind;
  if (key == NULL || value == NULL)
    return MHD_YES;
  if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
    if (f->length == NULL)
      f->length = value;
    else if (strcmp(f->length, value) != 0)
      f->lengths_differ = true;
  } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
    f->codings++;
    f->chunked = strcasecmp(value, "chunked") == 0;
  }
  return MHD_YES;
}

/* A body announced larger than the limit is refused before it is sent. */
static bool announced_too_large(const char *length)
{
  char *end;
  unsigned long long n;

  if (length == NULL)
    return false;
  errno = 0;
  n = strtoull(length, &end, 10);
  return errno == ERANGE || (end != length && n > MAX_BODY);
}

/* The status to refuse a body with, from its headers alone; 0: none.  MHD
 * delimits a body by chunks only under the one coding "chunked", and would
 * wait for the connection's end under any other: answered at once instead
 * (RFC 9112, 6.1).  Two lengths that differ leave the body's end ambiguous
 * (RFC 9112, 6.3). */
static unsigned framing_status(struct MHD_Connection *c)
{
  struct framing f = {0};

  MHD_get_connection_values(c, MHD_HEADER_KIND, on_framing_header, &f);
  if (f.codings > 1 || (f.codings == 1 && !f.chunked))
    return MHD_HTTP_NOT_IMPLEMENTED;
  if (f.lengths_differ)
    return MHD_HTTP_BAD_REQUEST;
  if (announced_too_large(f.length))
    return MHD_HTTP_CONTENT_TOO_LARGE;
  return 0;
}

static enum MHD_Result start_post(struct MHD_Connection *c, const struct route *r, void **con_cls)
{
  struct conn_rec *rec = conn_rec_of(c);
  struct request *req;
  unsigned refused = framing_status(c);
  int64_t credit;

  if (refused != 0)
    return respond_status(c, refused);
  if (rec != NULL && rec->g->posts >= MAX_POSTS)
    return respond_status(c, MHD_HTTP_SERVICE_UNAVAILABLE);
  if (rec != NULL && (credit = budget_credit(rec->g)) < 0)
    return respond_over_budget(c, credit);
  req = calloc(1, sizeof *req);
  if (req == NULL)
    return MHD_NO;
  if (rec != NULL) {
    req->guard = rec->g;
    req->guard->posts++;
  }
  req->ep = r->ep;
  req->content.max = MAX_CONTENT;
  req->uuid.max = MAX_SMALL_FIELD;
  req->signature.max = MAX_SMALL_FIELD;
  /* NULL unless the body is a form (urlencoded or multipart). */
  req->pp = MHD_create_post_processor(c, POST_BUFFER, on_field, req);
  if (req->pp == NULL) {
    request_free(req);
    return respond_status(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE);
  }
  *con_cls = req;
  return MHD_YES;
}

/* First call for a request: only the headers are known. */
static enum MHD_Result on_headers(const struct server *s, struct MHD_Connection *c, const char *url,
                                  const char *method, void **con_cls)
{
  struct conn_rec *rec = conn_rec_of(c);
  const char *path;
  struct route r;
  bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

  if (!token_matches(s, url, &path))
    return respond_status(c, MHD_HTTP_NOT_FOUND);
  if (rec != NULL)
    rec->known = true; /* the pod's (see "limits") */
  if (!route_path(s, path, &r))
    return respond_status(c, MHD_HTTP_NOT_FOUND);
  if (is_post(r.ep) && strcmp(method, MHD_HTTP_METHOD_POST) != 0)
    return respond_not_allowed(c, "POST");
  if (is_post(r.ep))
    return start_post(c, &r, con_cls);
  if (!get)
    return respond_not_allowed(c, "GET, HEAD");
  return respond_get(s, c, &r);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
  const struct server *s = cls;
  struct request *req = *con_cls;

  if (req == NULL)
    return on_headers(s, c, url, method, con_cls);
  if (*upload_data_size > 0) {
    enum MHD_Result ret = take_body(req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return ret;
  }
  return respond_post(s, c, req);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
  struct conn_rec *rec = conn_rec_of(c);

  request_free(*con_cls);
  *con_cls = NULL;
  if (rec != NULL)
    rec->since = appc_monotonic_ms(); /* the next request's deadline */
}

int ace_metadata_wire_normalize(const char *wire, size_t len, char **out, size_t *out_len,
                                appc_error_t *err)
{
  cleanup_server struct server *s = NULL;

  return server_from_wire(wire, len, &s, err) < 0 ? -1 : server_render(s, out, out_len, err);
}

/* ---- the service ---- */

/* Block until FD is readable, at EOF or in error: the parent wrote to its
 * end, closed it, or died. */
static int wait_for_stop(int fd, appc_error_t *err)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};

  for (;;) {
    int n = poll(&p, 1, -1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "metadata: waiting on the stop descriptor");
    if (p.revents & POLLNVAL)
      return appc_error_make(err, EBADF, "metadata: stop descriptor %d", fd);
    if (n > 0)
      return 0;
  }
}

/* Load libcrypto and libmicrohttpd.  libcrypto is loaded with the pod, not
 * at the first signature: loading it then (tens of milliseconds under a
 * sanitizer on a loaded machine) held up other requests past the ACE
 * validator's 100 ms. */
static int server_load(appc_error_t *err)
{
  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0 || appc_lazy_bind(APPC_LAZY_MHD, err) < 0)
    return appc_error_prefix(err, "metadata");
  return 0;
}

/* Set the key up and serve S on LISTEN_FD from MHD's own polling thread.
 * MHD polls with poll(), not epoll: libmicrohttpd 0.9.75's epoll mode is
 * edge-triggered and does not see a client's end of stream that arrives
 * with the last bytes of a partial request, so such a connection would hold
 * one of the CONNECTION_LIMIT slots until the inactivity timeout.  The
 * handlers only read S, so the thread needs no locking. */
static int server_start(struct server *s, int listen_fd, appc_error_t *err)
{
  if (s->hmac_key == NULL)
    s->hmac_key = EVP_PKEY_new_mac_key(EVP_PKEY_HMAC, NULL, s->key, ACE_HMAC_KEY_LEN);
  if (s->hmac_key == NULL)
    return appc_error_make(err, 0, "metadata: cannot set up the HMAC key");
  /* admit enforces the limits; MHD's bounds those closing besides. */
  s->daemon = MHD_start_daemon(
      MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC, 0, admit, &s->guard, on_request, s,
      MHD_OPTION_LISTEN_SOCKET, (MHD_socket) listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
      NULL, MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s->guard, MHD_OPTION_UNESCAPE_CALLBACK,
      unescape, NULL, MHD_OPTION_CONNECTION_LIMIT, 2 * CONNECTION_LIMIT,
      MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT, MHD_OPTION_END);
  if (s->daemon == NULL)
    return appc_error_make(err, 0, "metadata: cannot serve on descriptor %d", listen_fd);
  return 0;
}

/* MHD_quiesce_daemon hands the listening socket back before the daemon
 * stops, so it stays its owner's and is left open. */
static void server_stop(struct server *s)
{
  if (s != NULL && s->daemon != NULL) {
    MHD_quiesce_daemon(s->daemon);
    MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    guard_release(&s->guard);
  }
  server_free(s);
}

struct ace_metadata_server {
  struct server *s;
};

int ace_metadata_server_load(const char *wire, size_t len, const unsigned char *key,
                             struct ace_metadata_server **out, appc_error_t *err)
{
  cleanup_server struct server *s = NULL;
  cleanup_free struct ace_metadata_server *h = calloc(1, sizeof *h);

  if (h == NULL)
    return appc_error_make(err, ENOMEM, "metadata");
  if (server_from_wire(wire, len, &s, err) < 0 || server_load(err) < 0)
    return -1;
  memcpy(s->key, key, ACE_HMAC_KEY_LEN);
  h->s = steal_pointer(&s);
  *out = steal_pointer(&h);
  return 0;
}

int ace_metadata_server_serve(struct ace_metadata_server *h, int listen_fd, appc_error_t *err)
{
  if (h->s->daemon != NULL)
    return 0;
  return server_start(h->s, listen_fd, err);
}

int ace_metadata_server_start(int listen_fd, const char *wire, size_t len, const unsigned char *key,
                              struct ace_metadata_server **out, appc_error_t *err)
{
  struct ace_metadata_server *h = NULL;

  if (ace_metadata_server_load(wire, len, key, &h, err) < 0)
    return -1;
  if (ace_metadata_server_serve(h, listen_fd, err) < 0) {
    ace_metadata_server_stop(h);
    return -1;
  }
  *out = h;
  return 0;
}

void ace_metadata_server_stop(struct ace_metadata_server *h)
{
  if (h == NULL)
    return;
  server_stop(h->s);
  free(h);
}

/* Through the wire form, as the shared service gets its pods: what the
 * unit tests and the fuzz target see is what the apps see. */
int ace_metadata_serve(int listen_fd, const char *token, const struct ace_metadata_pod *pod,
                       int stop_fd, int ready_fd, appc_error_t *err)
{
  struct ace_metadata_server *h = NULL;
  cleanup_free char *wire = NULL;
  size_t len;
  int r;

  if (fcntl(stop_fd, F_GETFD) < 0)
    return appc_error_make(err, errno, "metadata: stop descriptor %d", stop_fd);
  if (ace_metadata_wire_encode(pod, token, &wire, &len, err) < 0 ||
      ace_metadata_server_start(listen_fd, wire, len, pod->hmac_key, &h, err) < 0)
    return -1;
  if (ready_fd >= 0)
    (void) !write(ready_fd, "", 1);
  r = wait_for_stop(stop_fd, err);
  ace_metadata_server_stop(h);
  return r;
}
