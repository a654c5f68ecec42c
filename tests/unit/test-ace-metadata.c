/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the metadata service (ace/metadata.c): the host's HMAC key
 * file, the URL token, and every endpoint of a server run in a forked child
 * on a 127.0.0.1:0 socket and queried with libcurl, the way the metadata
 * process M serves a pod; the wire form P hands M, and M itself: shared by
 * registrations, started again after it dies, retiring when idle. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define SCRATCH_PREFIX "test-ace-metadata"
#include "tests/unit/test-scratch.h"

#include "ace/internal.h"
#include "common/cleanup.h"
#include "appc/schema.h"

#define POD_UUID "6733c3e2-3c6b-4a5e-9c7d-0d2f4b1e8a90"
#define OTHER_UUID "0b8e4f8e-6c71-4f35-a3c4-bd7e1fa0e2c1"
#define IMAGE_ID                                                                                   \
  "sha512-"                                                                                        \
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"                               \
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define TEXT_TYPE "text/plain; charset=us-ascii"
#define MiB (1024 * 1024)

static const char web_manifest[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/web\","
    "\"annotations\":[{\"name\":\"example.com/owner\",\"value\":\"image authors\"},"
    "{\"name\":\"example.com/tier\",\"value\":\"image time\"}]}";
static const char worker_manifest[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/worker\"}";
static const char pod_manifest[] =
    "{\"acVersion\":\"0.8.11\",\"acKind\":\"PodManifest\",\"apps\":["
    "{\"name\":\"web\",\"image\":{\"name\":\"example.com/web\",\"id\":\"" IMAGE_ID "\"},"
    "\"annotations\":[{\"name\":\"example.com/tier\",\"value\":\"pod time\"},"
    "{\"name\":\"zone\",\"value\":\"z1\"}]},"
    "{\"name\":\"worker\",\"image\":{\"name\":\"example.com/worker\",\"id\":\"" IMAGE_ID "\"}}],"
    "\"annotations\":[{\"name\":\"ip-address\",\"value\":\"10.1.2.3\"}]}";

/* A server process and how to reach and stop it. */
struct server_proc {
  pid_t pid;
  int stop_fd; /* write end of the child's stop pipe */
  int port;
};

/* The pod every endpoint test queries, and its running server. */
static struct {
  struct appc_pod_manifest *pod_manifest;
  struct appc_image_manifest *web, *worker;
  struct ace_metadata_app apps[2];
  struct ace_metadata_pod pod;
  unsigned char key[ACE_HMAC_KEY_LEN];
  char token[ACE_TOKEN_LEN + 1];
  struct server_proc server;
} fx;

/* ---- the server process ---- */

static int listen_loopback(int *port)
{
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal(listen(fd, 16), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
  *port = ntohs(sa.sin_port);
  return fd;
}

static void server_start(struct server_proc *sp, const struct ace_metadata_pod *pod,
                         const char *token)
{
  int pipefd[2];
  int lfd = listen_loopback(&sp->port);

  assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
  fflush(NULL);
  sp->pid = fork();
  assert_true(sp->pid >= 0);
  if (sp->pid == 0) {
    appc_error_t err = NULL;
    /* Keep no other server's stop pipe open, or it would never see EOF. */
    for (int fd = 3; fd < 1024; fd++)
      if (fd != lfd && fd != pipefd[0])
        close(fd);
    int r = ace_metadata_serve(lfd, token, pod, pipefd[0], -1, &err);
    if (r < 0)
      fprintf(stderr, "ace_metadata_serve: %s\n", err->msg);
    appc_error_release(&err);
    close(lfd);
    close(pipefd[0]);
    _exit(r < 0 ? 1 : 0);
  }
  close(lfd);
  close(pipefd[0]);
  sp->stop_fd = pipefd[1];
}

/* Wait up to 20 s for PID; its exit status, or -1 (killed) on time out. */
static int wait_exit(pid_t pid)
{
  for (int i = 0; i < 2000; i++) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    assert_true(r >= 0);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* Close the stop pipe (EOF) and check the server exits cleanly. */
static void server_stop(struct server_proc *sp)
{
  if (sp->pid <= 0)
    return;
  close(sp->stop_fd);
  assert_int_equal(wait_exit(sp->pid), 0);
  sp->pid = 0;
}

/* ---- HTTP with libcurl ---- */

struct reply {
  long status; /* -1: the transfer failed */
  char *body;
  size_t len;
  char *type;
  char *allow;
  char *retry_after;
};

static void reply_clear(struct reply *r)
{
  free(r->body);
  free(r->type);
  free(r->allow);
  free(r->retry_after);
  *r = (struct reply){0};
}

static size_t on_body(char *data, size_t size, size_t n, void *cls)
{
  struct reply *r = cls;
  char *p = realloc(r->body, r->len + size * n + 1);
  assert_non_null(p);
  memcpy(p + r->len, data, size * n);
  r->body = p;
  r->len += size * n;
  r->body[r->len] = '\0';
  return size * n;
}

/* Keep in *OUT the value of the header line DATA (LEN bytes) when it is
 * the header NAME (with its colon). */
static void keep_header(const char *data, size_t len, const char *name, char **out)
{
  size_t start = strlen(name), end = len;

  if (len <= start || strncasecmp(data, name, start) != 0)
    return;
  while (start < end && data[start] == ' ')
    start++;
  while (end > start && (data[end - 1] == '\r' || data[end - 1] == '\n'))
    end--;
  free(*out);
  *out = strndup(data + start, end - start);
}

static size_t on_header(char *data, size_t size, size_t n, void *cls)
{
  struct reply *r = cls;
  size_t len = size * n;

  keep_header(data, len, "Allow:", &r->allow);
  keep_header(data, len, "Retry-After:", &r->retry_after);
  return len;
}

/* A streaming body for chunked uploads: "other=" and 'a's, LEFT bytes in
 * all.  The field is one the server ignores, so that only the limit on the
 * whole body applies. */
struct upload {
  size_t left;
  bool started;
};

static size_t on_read(char *buf, size_t size, size_t n, void *cls)
{
  struct upload *up = cls;
  size_t len = size * n < up->left ? size * n : up->left;
  memset(buf, 'a', len);
  if (!up->started && len >= 6)
    memcpy(buf, "other=", 6);
  up->started = true;
  up->left -= len;
  return len;
}

struct request {
  const char *method; /* NULL: GET, or POST when there is a body */
  const char *path;   /* under the token when it does not start with '/' */
  const char *body;
  size_t body_len;
  curl_mime *(*mime)(CURL *curl, void *cls);
  void *mime_cls;
  const char *content_type;
  size_t chunked; /* bytes of a chunked upload */
};

static struct reply http(const struct request *rq)
{
  struct reply r = {0};
  CURL *curl = curl_easy_init();
  struct curl_slist *headers = NULL;
  curl_mime *mime = NULL;
  char *url = NULL;
  struct upload up = {.left = rq->chunked};

  assert_non_null(curl);
  if (rq->path[0] == '/')
    assert_true(asprintf(&url, "http://127.0.0.1:%d%s", fx.server.port, rq->path) > 0);
  else
    assert_true(asprintf(&url, "http://127.0.0.1:%d/%s/acMetadata/v1/%s", fx.server.port, fx.token,
                         rq->path) > 0);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r);
  if (rq->body != NULL) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) rq->body_len);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body);
  }
  if (rq->mime != NULL) {
    mime = rq->mime(curl, rq->mime_cls);
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  }
  if (rq->chunked > 0) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &up);
    headers = curl_slist_append(headers, "Transfer-Encoding: chunked");
  }
  if (rq->content_type != NULL) {
    char *h = NULL;
    assert_true(asprintf(&h, "Content-Type: %s", rq->content_type) > 0);
    headers = curl_slist_append(headers, h);
    free(h);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (rq->method != NULL && strcmp(rq->method, "HEAD") == 0)
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  else if (rq->method != NULL)
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
  if (curl_easy_perform(curl) == CURLE_OK) {
    char *type = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    r.type = type != NULL ? strdup(type) : NULL;
  } else {
    r.status = -1;
  }
  curl_mime_free(mime);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  free(url);
  return r;
}

static struct reply get(const char *path)
{
  return http(&(struct request){.path = path});
}

static long get_status(const char *path)
{
  struct reply r = get(path);
  long status = r.status;
  reply_clear(&r);
  return status;
}

/* Percent-encode DATA for a form (everything but letters and digits). */
static char *form_escape(const void *data, size_t len)
{
  const unsigned char *p = data;
  char *out = malloc(3 * len + 1), *o = out;
  assert_non_null(out);
  for (size_t i = 0; i < len; i++) {
    if ((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
        (p[i] >= '0' && p[i] <= '9'))
      *o++ = (char) p[i];
    else
      o += sprintf(o, "%%%02X", p[i]);
  }
  *o = '\0';
  return out;
}

/* POST an urlencoded form; FIELDS is the already encoded body. */
static struct reply post_form(const char *path, const char *fields)
{
  return http(&(struct request){.path = path, .body = fields, .body_len = strlen(fields)});
}

static long post_status(const char *path, const char *fields)
{
  struct reply r = post_form(path, fields);
  long status = r.status;
  reply_clear(&r);
  return status;
}

/* ---- signatures, computed here independently ---- */

static void expected_signature(const char *uuid, const void *content, size_t len, char out[89])
{
  unsigned char *msg = malloc(36 + len + 1), mac[64];
  unsigned int mac_len = 0;
  assert_non_null(msg);
  memcpy(msg, uuid, 36);
  memcpy(msg + 36, content, len);
  assert_non_null(HMAC(EVP_sha512(), fx.key, ACE_HMAC_KEY_LEN, msg, 36 + len, mac, &mac_len));
  assert_int_equal(mac_len, 64);
  assert_int_equal(EVP_EncodeBlock((unsigned char *) out, mac, 64), 88);
  free(msg);
}

/* The signature the server gives CONTENT, as an urlencoded form. */
static char *sign(const void *content, size_t len)
{
  char *esc = form_escape(content, len), *fields = NULL;
  assert_true(asprintf(&fields, "content=%s", esc) > 0);
  struct reply r = post_form("pod/hmac/sign", fields);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.type, TEXT_TYPE);
  char *sig = steal_pointer(&r.body);
  reply_clear(&r);
  free(esc);
  free(fields);
  return sig;
}

static long verify(const char *content, const char *uuid, const char *sig)
{
  char *c = form_escape(content, strlen(content)), *u = form_escape(uuid, strlen(uuid));
  char *s = form_escape(sig, strlen(sig)), *fields = NULL;
  assert_true(asprintf(&fields, "content=%s&uuid=%s&signature=%s", c, u, s) > 0);
  long status = post_status("pod/hmac/verify", fields);
  free(c);
  free(u);
  free(s);
  free(fields);
  return status;
}

/* ---- fixtures ---- */

static int group_setup(void **state)
{
  appc_error_t err = NULL;
  (void) state;

  curl_global_init(CURL_GLOBAL_DEFAULT);
  assert_ok(appc_pod_manifest_parse(pod_manifest, strlen(pod_manifest), &fx.pod_manifest, &err),
            &err);
  assert_ok(appc_image_manifest_parse(web_manifest, strlen(web_manifest), &fx.web, &err), &err);
  assert_ok(appc_image_manifest_parse(worker_manifest, strlen(worker_manifest), &fx.worker, &err),
            &err);
  assert_int_equal(fx.pod_manifest->n_apps, 2);
  const struct appc_image_manifest *images[2] = {fx.web, fx.worker};
  const char *texts[2] = {web_manifest, worker_manifest};
  for (size_t i = 0; i < 2; i++)
    fx.apps[i] = (struct ace_metadata_app){
        .name = fx.pod_manifest->apps[i].name,
        .image_id = fx.pod_manifest->apps[i].image.id,
        .image_manifest_json = texts[i],
        .image_manifest = images[i],
        .pod_app_annotations = &fx.pod_manifest->apps[i].annotations,
    };
  for (size_t i = 0; i < ACE_HMAC_KEY_LEN; i++)
    fx.key[i] = (unsigned char) (i * 37 + 11);
  fx.pod = (struct ace_metadata_pod){
      .uuid = POD_UUID,
      .pod_manifest_json = pod_manifest,
      .annotations = &fx.pod_manifest->annotations,
      .apps = fx.apps,
      .n_apps = 2,
      .hmac_key = fx.key,
  };
  assert_ok(ace_metadata_token(fx.token, &err), &err);
  server_start(&fx.server, &fx.pod, fx.token);
  return 0;
}

static int group_teardown(void **state)
{
  (void) state;
  server_stop(&fx.server);
  appc_pod_manifest_free(fx.pod_manifest);
  appc_image_manifest_free(fx.web);
  appc_image_manifest_free(fx.worker);
  curl_global_cleanup();
  return 0;
}

static int scratch_teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

/* ---- token ---- */

static void test_token_format(void **state)
{
  appc_error_t err = NULL;
  char a[ACE_TOKEN_LEN + 1], b[ACE_TOKEN_LEN + 1];
  (void) state;

  assert_ok(ace_metadata_token(a, &err), &err);
  assert_ok(ace_metadata_token(b, &err), &err);
  /* 256 bits, two lower-case hex digits a byte */
  assert_int_equal(strlen(a), 64);
  assert_int_equal(strspn(a, "0123456789abcdef"), 64);
  assert_string_not_equal(a, b);
}

/* ---- the key file ---- */

static void read_whole(const char *path, unsigned char *buf, size_t len)
{
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  assert_int_equal(fread(buf, 1, len + 1, f), len);
  fclose(f);
}

static void test_key_created_0600(void **state)
{
  appc_error_t err = NULL;
  char *dir = scratch_new(), *path = path_join(dir, "hmac-key");
  unsigned char key[ACE_HMAC_KEY_LEN], on_disk[ACE_HMAC_KEY_LEN], zero[ACE_HMAC_KEY_LEN] = {0};
  struct stat st;
  mode_t old = umask(0277); /* would leave the file unreadable if trusted */
  (void) state;

  int r = ace_metadata_key(path, key, &err);
  umask(old);
  assert_ok(r, &err);
  assert_int_equal(lstat(path, &st), 0);
  assert_true(S_ISREG(st.st_mode));
  assert_int_equal(st.st_mode & 07777, 0600);
  assert_int_equal(st.st_size, ACE_HMAC_KEY_LEN);
  read_whole(path, on_disk, sizeof on_disk);
  assert_memory_equal(key, on_disk, sizeof key);
  assert_memory_not_equal(key, zero, sizeof key);
  assert_int_equal(count_entries(dir), 1); /* no temporary left */
  free(path);
  scratch_remove(dir);
}

static void test_key_reused(void **state)
{
  appc_error_t err = NULL;
  char *dir = scratch_new(), *path = path_join(dir, "hmac-key");
  unsigned char first[ACE_HMAC_KEY_LEN], second[ACE_HMAC_KEY_LEN];
  (void) state;

  assert_ok(ace_metadata_key(path, first, &err), &err);
  assert_ok(ace_metadata_key(path, second, &err), &err);
  assert_memory_equal(first, second, sizeof first);
  free(path);
  scratch_remove(dir);
}

static void test_key_refuses_0644(void **state)
{
  appc_error_t err = NULL;
  char *dir = scratch_new(), *path = path_join(dir, "hmac-key");
  unsigned char key[ACE_HMAC_KEY_LEN] = {1};
  (void) state;

  write_file(dir, "hmac-key", key, sizeof key);
  assert_int_equal(chmod(path, 0644), 0);
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "mode 0644, must be 0600");
  assert_int_equal(chmod(path, 0400), 0);
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "must be 0600");
  free(path);
  scratch_remove(dir);
}

static void test_key_refuses_symlink(void **state)
{
  appc_error_t err = NULL;
  char *dir = scratch_new(), *path = path_join(dir, "hmac-key");
  char *real = path_join(dir, "real-key");
  unsigned char key[ACE_HMAC_KEY_LEN];
  (void) state;

  assert_ok(ace_metadata_key(real, key, &err), &err);
  assert_int_equal(symlink("real-key", path), 0);
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "symbolic link");
  /* A dangling link is not "missing": nothing is created through it. */
  assert_int_equal(unlink(real), 0);
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "symbolic link");
  assert_int_equal(count_entries(dir), 1);
  free(real);
  free(path);
  scratch_remove(dir);
}

static void test_key_refuses_other_files(void **state)
{
  appc_error_t err = NULL;
  char *dir = scratch_new(), *path = path_join(dir, "hmac-key");
  unsigned char key[ACE_HMAC_KEY_LEN] = {0};
  (void) state;

  write_file(dir, "hmac-key", "short", 5);
  assert_int_equal(chmod(path, 0600), 0);
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "5 bytes, must have 64");
  assert_int_equal(unlink(path), 0);
  assert_int_equal(mkfifo(path, 0600), 0);
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "regular file");
  assert_int_equal(unlink(path), 0);
  mkdirs(dir, "hmac-key");
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "regular file");
  free(path);
  path = path_join(dir, "missing/hmac-key");
  assert_error_contains(ace_metadata_key(path, key, &err), &err, "missing");
  free(path);
  scratch_remove(dir);
}

static void test_key_concurrent_creators(void **state)
{
  enum { N = 8 };
  appc_error_t err = NULL;
  char *dir = scratch_new(), *path = path_join(dir, "hmac-key");
  unsigned char keys[N][ACE_HMAC_KEY_LEN], on_disk[ACE_HMAC_KEY_LEN];
  int results[N][2], go[2];
  pid_t pids[N];
  (void) state;

  assert_int_equal(pipe(go), 0);
  fflush(NULL);
  for (int i = 0; i < N; i++) {
    assert_int_equal(pipe(results[i]), 0);
    pids[i] = fork();
    assert_true(pids[i] >= 0);
    if (pids[i] == 0) {
      unsigned char key[ACE_HMAC_KEY_LEN];
      char c;
      close(go[1]);
      close(results[i][0]);
      /* All start together, when the parent closes the pipe. */
      if (read(go[0], &c, 1) != 0)
        _exit(2);
      if (ace_metadata_key(path, key, &err) < 0)
        _exit(1);
      _exit(write(results[i][1], key, sizeof key) == (ssize_t) sizeof key ? 0 : 3);
    }
    close(results[i][1]);
  }
  close(go[0]);
  close(go[1]);
  for (int i = 0; i < N; i++) {
    assert_int_equal(read(results[i][0], keys[i], ACE_HMAC_KEY_LEN), ACE_HMAC_KEY_LEN);
    close(results[i][0]);
    assert_int_equal(wait_exit(pids[i]), 0);
  }
  read_whole(path, on_disk, sizeof on_disk);
  for (int i = 0; i < N; i++)
    assert_memory_equal(keys[i], on_disk, ACE_HMAC_KEY_LEN);
  assert_int_equal(count_entries(dir), 1);
  free(path);
  scratch_remove(dir);
}

/* ---- pod and app endpoints ---- */

static void assert_reply(struct reply *r, long status, const char *type, const char *body)
{
  assert_int_equal(r->status, status);
  assert_non_null(r->type);
  assert_string_equal(r->type, type);
  assert_non_null(r->body);
  assert_string_equal(r->body, body);
  reply_clear(r);
}

static void test_pod_endpoints(void **state)
{
  struct reply r;
  (void) state;

  r = get("pod/uuid");
  assert_reply(&r, 200, TEXT_TYPE, POD_UUID);
  r = get("pod/manifest");
  assert_reply(&r, 200, "application/json", pod_manifest);
  r = get("pod/annotations");
  assert_reply(&r, 200, "application/json", "[{\"name\":\"ip-address\",\"value\":\"10.1.2.3\"}]");
}

static void test_app_endpoints(void **state)
{
  struct reply r;
  (void) state;

  r = get("apps/web/image/id");
  assert_reply(&r, 200, TEXT_TYPE, IMAGE_ID);
  r = get("apps/web/image/manifest");
  assert_reply(&r, 200, "application/json", web_manifest);
  r = get("apps/worker/image/manifest");
  assert_reply(&r, 200, "application/json", worker_manifest);
  /* The image's annotations in order, the pod's value winning for
   * "example.com/tier", the pod's other one appended. */
  r = get("apps/web/annotations");
  assert_reply(&r, 200, "application/json",
               "[{\"name\":\"example.com/owner\",\"value\":\"image authors\"},"
               "{\"name\":\"example.com/tier\",\"value\":\"pod time\"},"
               "{\"name\":\"zone\",\"value\":\"z1\"}]");
  r = get("apps/worker/annotations");
  assert_reply(&r, 200, "application/json", "[]");
}

static void test_head(void **state)
{
  struct reply r = http(&(struct request){.method = "HEAD", .path = "pod/uuid"});
  (void) state;

  assert_int_equal(r.status, 200);
  assert_null(r.body);
  reply_clear(&r);
}

static void test_pod_without_annotations(void **state)
{
  struct ace_metadata_pod pod = fx.pod;
  struct ace_metadata_app app = fx.apps[1];
  struct server_proc saved = fx.server;
  struct reply r;
  (void) state;

  app.image_manifest = NULL;
  app.pod_app_annotations = NULL;
  pod.annotations = NULL;
  pod.apps = &app;
  pod.n_apps = 1;
  server_start(&fx.server, &pod, fx.token);
  r = get("pod/annotations");
  assert_reply(&r, 200, "application/json", "[]");
  r = get("apps/worker/annotations");
  assert_reply(&r, 200, "application/json", "[]");
  assert_int_equal(get_status("apps/web/annotations"), 404);
  server_stop(&fx.server);
  fx.server = saved;
}

/* ---- sign and verify ---- */

static void test_sign_urlencoded(void **state)
{
  const char content[] = "hello, world & more = stuff +/";
  char want[89];
  (void) state;

  char *sig = sign(content, strlen(content));
  expected_signature(POD_UUID, content, strlen(content), want);
  assert_string_equal(sig, want);
  free(sig);
  /* Empty content is content too. */
  sig = sign("", 0);
  expected_signature(POD_UUID, "", 0, want);
  assert_string_equal(sig, want);
  free(sig);
}

struct mime_field {
  const char *name;
  const void *data;
  size_t len;
};

static curl_mime *make_mime(CURL *curl, void *cls)
{
  curl_mime *m = curl_mime_init(curl);
  for (const struct mime_field *f = cls; f->name != NULL; f++) {
    curl_mimepart *part = curl_mime_addpart(m);
    curl_mime_name(part, f->name);
    curl_mime_data(part, f->data, f->len);
  }
  return m;
}

static void test_sign_multipart(void **state)
{
  static const char content[] = "binary\0data\r\n--not-a-boundary\r\n\xff";
  struct mime_field fields[] = {{"other", "x", 1}, {"content", content, sizeof content}, {0}};
  char want[89];
  (void) state;

  struct reply r =
      http(&(struct request){.path = "pod/hmac/sign", .mime = make_mime, .mime_cls = fields});
  expected_signature(POD_UUID, content, sizeof content, want);
  assert_reply(&r, 200, TEXT_TYPE, want);

  /* And the signature verifies through a multipart form as well. */
  struct mime_field vfields[] = {
      {"content", content, sizeof content}, {"uuid", POD_UUID, 36}, {"signature", want, 88}, {0}};
  r = http(&(struct request){.path = "pod/hmac/verify", .mime = make_mime, .mime_cls = vfields});
  assert_int_equal(r.status, 200);
  reply_clear(&r);
}

static void test_verify(void **state)
{
  const char content[] = "the object that was signed";
  char *sig = sign(content, strlen(content));
  char upper[] = POD_UUID, *variant;
  (void) state;

  assert_int_equal(verify(content, POD_UUID, sig), 200);
  for (char *p = upper; *p != '\0'; p++)
    *p = (char) toupper((unsigned char) *p);
  assert_int_equal(verify(content, upper, sig), 200);

  /* Without padding, and with '+' sent unescaped (read as a space). */
  variant = strdup(sig);
  assert_non_null(variant);
  variant[strcspn(variant, "=")] = '\0';
  assert_int_equal(verify(content, POD_UUID, variant), 200);
  free(variant);
  if (strchr(sig, '+') != NULL) {
    char *fields = NULL, *esc = form_escape(content, strlen(content));
    /* Unpadded: MHD refuses an unescaped '=' in a value. */
    assert_true(asprintf(&fields, "content=%s&uuid=%s&signature=%.*s", esc, POD_UUID,
                         (int) strcspn(sig, "="), sig) > 0);
    assert_int_equal(post_status("pod/hmac/verify", fields), 200);
    free(esc);
    free(fields);
  }

  assert_int_equal(verify("the object that was signeD", POD_UUID, sig), 403);
  assert_int_equal(verify(content, OTHER_UUID, sig), 403);
  assert_int_equal(verify(content, "not-a-uuid", sig), 403);
  assert_int_equal(verify(content, POD_UUID "0", sig), 403);
  assert_int_equal(verify(content, POD_UUID, "!!!not base64!!!"), 403);
  assert_int_equal(verify(content, POD_UUID, ""), 403);
  variant = strdup(sig);
  assert_non_null(variant);
  variant[40] = '\0'; /* decodes, to too few bytes */
  assert_int_equal(verify(content, POD_UUID, variant), 403);
  memcpy(variant, sig, 88);
  variant[10] = variant[10] == 'A' ? 'B' : 'A';
  assert_int_equal(verify(content, POD_UUID, variant), 403);
  free(variant);

  /* A signature made for another pod verifies with that pod's UUID. */
  char other[89];
  expected_signature(OTHER_UUID, content, strlen(content), other);
  assert_int_equal(verify(content, OTHER_UUID, other), 200);
  assert_int_equal(verify(content, POD_UUID, other), 403);
  free(sig);
}

static void test_bad_forms(void **state)
{
  (void) state;

  assert_int_equal(post_status("pod/hmac/sign", "other=1"), 400);
  assert_int_equal(post_status("pod/hmac/verify", "content=a&uuid=" POD_UUID), 400);
  /* Two values for one field: which one was meant? */
  assert_int_equal(post_status("pod/hmac/sign", "content=a&content=b"), 400);
  assert_int_equal(post_status("pod/hmac/sign", "content=&content=b"), 400);
  assert_int_equal(post_status("pod/hmac/sign", "content=a&content="), 400);
  struct reply r = http(&(struct request){.path = "pod/hmac/sign",
                                          .body = "{\"content\":\"a\"}",
                                          .body_len = 15,
                                          .content_type = "application/json"});
  assert_int_equal(r.status, 415);
  reply_clear(&r);
}

static void test_body_limits(void **state)
{
  struct server_proc saved = fx.server;
  char *fields = malloc(MiB + 16);
  char want[89];
  (void) state;

  /* These bodies spend most of a pod's budget (test_sign_budget): a
   * server of their own, so that the tests after start with a whole one. */
  server_start(&fx.server, &fx.pod, fx.token);
  assert_non_null(fields);
  /* Exactly 1 MiB of content is signed... */
  strcpy(fields, "content=");
  memset(fields + 8, 'a', MiB);
  fields[8 + MiB] = '\0';
  struct reply r = post_form("pod/hmac/sign", fields);
  expected_signature(POD_UUID, fields + 8, MiB, want);
  assert_reply(&r, 200, TEXT_TYPE, want);
  /* ...one byte more is not. */
  strcat(fields, "a");
  assert_int_equal(post_status("pod/hmac/sign", fields), 413);
  free(fields);

  /* The same limit through a multipart form, with bytes of every value. */
  unsigned char *bin = malloc(MiB + 1);
  assert_non_null(bin);
  for (size_t i = 0; i <= MiB; i++)
    bin[i] = (unsigned char) (i * 7 + i / 251);
  struct mime_field mfields[] = {{"content", bin, MiB}, {0}};
  r = http(&(struct request){.path = "pod/hmac/sign", .mime = make_mime, .mime_cls = mfields});
  expected_signature(POD_UUID, bin, MiB, want);
  assert_reply(&r, 200, TEXT_TYPE, want);
  mfields[0].len = MiB + 1;
  r = http(&(struct request){.path = "pod/hmac/sign", .mime = make_mime, .mime_cls = mfields});
  assert_int_equal(r.status, 413);
  reply_clear(&r);
  /* Percent-encoded, 1 MiB of content is a 3 MiB body. */
  char *esc = form_escape(bin, MiB);
  assert_true(asprintf(&fields, "content=%s", esc) > 0);
  r = post_form("pod/hmac/sign", fields);
  assert_reply(&r, 200, TEXT_TYPE, want);
  free(fields);
  free(esc);
  free(bin);

  /* A body announced too large is refused before it is sent... */
  size_t big = 5 * MiB;
  char *body = malloc(big);
  assert_non_null(body);
  memset(body, 'a', big);
  memcpy(body, "content=", 8);
  r = http(&(struct request){.path = "pod/hmac/sign", .body = body, .body_len = big});
  assert_int_equal(r.status, 413);
  reply_clear(&r);
  free(body);
  /* ...and a chunked one when it has gone past the limit. */
  r = http(&(struct request){.path = "pod/hmac/sign",
                             .chunked = big,
                             .content_type = "application/x-www-form-urlencoded"});
  assert_int_equal(r.status, 413);
  reply_clear(&r);
  /* Far past it, the connection is closed without waiting for the end. */
  r = http(&(struct request){.path = "pod/hmac/sign",
                             .chunked = 64 * MiB,
                             .content_type = "application/x-www-form-urlencoded"});
  assert_int_equal(r.status, -1);
  reply_clear(&r);
  /* The server is still there. */
  assert_int_equal(get_status("pod/uuid"), 200);
  server_stop(&fx.server);
  fx.server = saved;
}

/* The service runs outside the pod's cgroup, so what a pod makes it sign
 * and verify is bounded per second: past the budget a request answers 429
 * with Retry-After, and after that wait one is served again. */
static void test_sign_budget(void **state)
{
  static const char verify_fields[] = "&uuid=" POD_UUID "&signature=AAAA";
  struct server_proc saved = fx.server;
  char *fields = malloc(8 + MiB + sizeof verify_fields);
  struct reply r = {0};
  int tries = 0, after;
  (void) state;

  server_start(&fx.server, &fx.pod, fx.token); /* a whole budget */
  assert_non_null(fields);
  memset(fields, 'a', 8 + MiB);
  memcpy(fields, "content=", 8);
  fields[8 + MiB] = '\0';
  /* Signatures and verifications of 1 MiB draw on the one budget. */
  for (;;) {
    bool signing = tries % 2 == 0;
    if (!signing)
      memcpy(fields + 8 + MiB, verify_fields, sizeof verify_fields);
    reply_clear(&r);
    r = post_form(signing ? "pod/hmac/sign" : "pod/hmac/verify", fields);
    fields[8 + MiB] = '\0';
    if (r.status == 429 || ++tries == 100)
      break;
    assert_int_equal(r.status, signing ? 200 : 403);
  }
  assert_int_equal(r.status, 429);
  assert_true(tries >= 8); /* 8 MiB at once are well within it */
  assert_non_null(r.retry_after);
  after = atoi(r.retry_after);
  assert_true(after >= 1 && after <= 60);
  reply_clear(&r);
  sleep((unsigned) after);
  char *sig = sign("within the budget", 17); /* (asserts 200) */
  free(sig);
  server_stop(&fx.server);
  fx.server = saved;
  free(fields);
}

/* ---- tokens, paths and methods ---- */

static void test_wrong_token(void **state)
{
  char path[256], other[ACE_TOKEN_LEN + 1];
  (void) state;

  memcpy(other, fx.token, sizeof other);
  other[0] = other[0] == 'A' ? 'B' : 'A';
  snprintf(path, sizeof path, "/%s/acMetadata/v1/pod/uuid", other);
  assert_int_equal(get_status(path), 404);
  snprintf(path, sizeof path, "/%.42s/acMetadata/v1/pod/uuid", fx.token);
  assert_int_equal(get_status(path), 404);
  snprintf(path, sizeof path, "/%sx/acMetadata/v1/pod/uuid", fx.token);
  assert_int_equal(get_status(path), 404);
  assert_int_equal(get_status("/acMetadata/v1/pod/uuid"), 404);
  assert_int_equal(get_status("/"), 404);
  /* Nothing about the endpoint shows without the token: no 405 either. */
  snprintf(path, sizeof path, "/%s/acMetadata/v1/pod/hmac/sign", other);
  assert_int_equal(get_status(path), 404);
  assert_int_equal(post_status(path, "content=a"), 404);
}

static void test_unknown_path(void **state)
{
  char path[256];
  (void) state;

  assert_int_equal(get_status("pod/nothing"), 404);
  assert_int_equal(get_status("pod"), 404);
  assert_int_equal(get_status("pod/uuid/"), 404);
  assert_int_equal(get_status("apps/nothing/annotations"), 404);
  assert_int_equal(get_status("apps/web"), 404);
  assert_int_equal(get_status("apps/web/image"), 404);
  assert_int_equal(get_status("apps//annotations"), 404);
  snprintf(path, sizeof path, "/%s/acMetadata/v2/pod/uuid", fx.token);
  assert_int_equal(get_status(path), 404);
  snprintf(path, sizeof path, "/%s", fx.token);
  assert_int_equal(get_status(path), 404);
}

static void test_wrong_method(void **state)
{
  struct reply r;
  (void) state;

  r = http(&(struct request){.method = "DELETE", .path = "pod/uuid"});
  assert_int_equal(r.status, 405);
  assert_non_null(r.allow);
  assert_string_equal(r.allow, "GET, HEAD");
  reply_clear(&r);
  r = post_form("apps/web/annotations", "content=a");
  assert_int_equal(r.status, 405);
  assert_string_equal(r.allow, "GET, HEAD");
  reply_clear(&r);
  r = get("pod/hmac/sign");
  assert_int_equal(r.status, 405);
  assert_non_null(r.allow);
  assert_string_equal(r.allow, "POST");
  reply_clear(&r);
  r = http(&(struct request){.method = "PUT", .path = "pod/hmac/verify"});
  assert_int_equal(r.status, 405);
  assert_string_equal(r.allow, "POST");
  reply_clear(&r);
}

/* A connected socket to the test server. */
static int raw_connect(void)
{
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_port = htons((uint16_t) fx.server.port),
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true(fd >= 0);
  assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
  return fd;
}

/* The status of the answer that comes on FD within 5 s (0 when the
 * connection closes without one). */
static int read_status(int fd)
{
  char answer[64] = "";
  struct pollfd p = {.fd = fd, .events = POLLIN};

  assert_int_equal(poll(&p, 1, 5000), 1);
  if (recv(fd, answer, sizeof answer - 1, 0) > 12 && memcmp(answer, "HTTP/1.", 7) == 0)
    return atoi(answer + 9);
  return 0;
}

/* Send the LEN bytes of REQ as they are and return the status of the
 * answer that comes within 5 s (0 when the connection closes without one). */
static int raw_status_n(const char *req, size_t len)
{
  int fd = raw_connect(), status;

  assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t) len);
  status = read_status(fd);
  close(fd);
  return status;
}

static int raw_status(const char *req)
{
  return raw_status_n(req, strlen(req));
}

/* A client that sends part of a request and goes away frees its connection
 * at once (found by fuzzing: with libmicrohttpd's epoll mode, such a
 * connection was only dropped at the 30 s inactivity timeout, so 64 of them
 * made the service unreachable for every app of the pod). */
static void test_abandoned_requests(void **state)
{
  char req[256];
  (void) state;

  for (int i = 0; i < 80; i++) {
    int fd = raw_connect();
    assert_int_equal(send(fd, "GET /0123", 9, MSG_NOSIGNAL), 9);
    shutdown(fd, SHUT_WR);
    close(fd);
  }
  /* Well within the inactivity timeout, a whole request is answered. */
  snprintf(req, sizeof req, "GET /%s/acMetadata/v1/pod/uuid HTTP/1.0\r\n\r\n", fx.token);
  assert_int_equal(raw_status(req), 200);
}

/* A multipart part whose Content-Disposition has "name" without a value
 * reaches the form handler with no field name (found by fuzzing: the
 * service crashed on it, and an app could so take it away from the pod). */
static void test_nameless_part(void **state)
{
  static const char body[] = "--XX\r\nContent-Disposition: form-data; name\r\n\r\nhi\r\n"
                             "--XX\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\n"
                             "x\r\n--XX--\r\n";
  char req[1024];
  (void) state;

  snprintf(req, sizeof req,
           "POST /%s/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\nHost: m\r\n"
           "Content-Type: multipart/form-data; boundary=XX\r\nContent-Length: %zu\r\n"
           "Connection: close\r\n\r\n%s",
           fx.token, sizeof body - 1, body);
  assert_int_equal(raw_status(req), 200); /* the named field is signed; the other ignored */
  assert_int_equal(get_status("pod/uuid"), 200);
}

/* Connections that never show the token (with --net=host, any local
 * user's) cannot take the pod's slots from its apps: with every slot held
 * by one that sent a byte (each younger than the request deadline, as a
 * client rotating them keeps them), the pod's request is still served, and
 * the connection that showed the token is not the one given up. */
static void test_strangers_hold_no_slot(void **state)
{
  enum { SLOTS = 64 }; /* a pod's connections at most */
  int strangers[SLOTS], known = raw_connect();
  char head[512];
  (void) state;

  /* An upload of the pod's, its headers in (100-continue shows when), its
   * body not yet. */
  snprintf(head, sizeof head,
           "POST /%s/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\nHost: m\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n"
           "Expect: 100-continue\r\nConnection: close\r\n\r\n",
           fx.token);
  assert_int_equal(send(known, head, strlen(head), MSG_NOSIGNAL), (ssize_t) strlen(head));
  assert_int_equal(read_status(known), 100);
  /* (A stranger given up at once may not take its byte.) */
  for (int i = 0; i < SLOTS; i++) {
    strangers[i] = raw_connect();
    (void) send(strangers[i], "G", 1, MSG_NOSIGNAL);
  }
  long served = get_status("pod/uuid");
  ssize_t sent = send(known, "content=x", 9, MSG_NOSIGNAL);
  int signed_status = read_status(known);
  /* Closed before checking, so that a failure leaves no slot held. */
  for (int i = 0; i < SLOTS; i++)
    close(strangers[i]);
  close(known);
  assert_int_equal(served, 200);
  assert_int_equal(sent, 9);
  assert_int_equal(signed_status, 200);
}

/* An encoded NUL is no end of the path: "pod/uuid%00junk" is not pod/uuid. */
static void test_encoded_nul(void **state)
{
  char req[512];
  (void) state;

  snprintf(req, sizeof req, "GET /%s/acMetadata/v1/pod/uuid%%00junk HTTP/1.1\r\nHost: m\r\n\r\n",
           fx.token);
  assert_int_equal(raw_status(req), 404);
  snprintf(req, sizeof req,
           "GET /%s/acMetadata/v1/apps/web/image/id%%00/x HTTP/1.1\r\nHost: m\r\n\r\n", fx.token);
  assert_int_equal(raw_status(req), 404);
  /* Encoded, other bytes still are what they encode. */
  snprintf(req, sizeof req, "GET /%s/acMetadata/v1/pod/uu%%69d HTTP/1.1\r\nHost: m\r\n\r\n",
           fx.token);
  assert_int_equal(raw_status(req), 200);
}

/* A body the service cannot delimit is refused at once, not waited for
 * until the inactivity timeout; one delimited two ways is refused too. */
static void test_body_framing(void **state)
{
  char req[512];
  int n;
  (void) state;

  snprintf(req, sizeof req,
           "POST /%s/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\nHost: m\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Transfer-Encoding: gzip, chunked\r\n\r\n9\r\ncontent=x\r\n0\r\n\r\n",
           fx.token);
  assert_int_equal(raw_status(req), 501);
  snprintf(req, sizeof req,
           "POST /%s/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\nHost: m\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 9\r\nContent-Length: 3\r\n\r\ncontent=x",
           fx.token);
  assert_int_equal(raw_status(req), 400);
  /* The same length twice says one thing. */
  snprintf(req, sizeof req,
           "POST /%s/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\nHost: m\r\n"
           "Content-Type: application/x-www-form-urlencoded\r\n"
           "Content-Length: 9\r\nContent-Length: 9\r\nConnection: close\r\n\r\ncontent=x",
           fx.token);
  assert_int_equal(raw_status(req), 200);
  /* A NUL in a header value ends the value (libmicrohttpd); the request is
   * answered at once all the same. */
  n = snprintf(req, sizeof req, "GET /%s/acMetadata/v1/pod/uuid HTTP/1.1\r\nHost: m\r\nX-A: a",
               fx.token);
  memcpy(req + n, "\0b\r\n\r\n", 7);
  assert_int_equal(raw_status_n(req, (size_t) n + 7), 200);
}

/* ---- stopping ---- */

static void test_stop_on_eof(void **state)
{
  struct server_proc saved = fx.server;
  (void) state;

  server_start(&fx.server, &fx.pod, fx.token);
  assert_int_equal(get_status("pod/uuid"), 200);
  server_stop(&fx.server); /* closes the pipe: EOF */
  fx.server = saved;
}

static void test_stop_on_readable(void **state)
{
  struct server_proc sp;
  (void) state;

  server_start(&sp, &fx.pod, fx.token);
  assert_int_equal(write(sp.stop_fd, "x", 1), 1);
  assert_int_equal(wait_exit(sp.pid), 0);
  close(sp.stop_fd);
}

static void test_serve_errors(void **state)
{
  appc_error_t err = NULL;
  struct ace_metadata_pod pod = fx.pod;
  int port, pipefd[2];
  int lfd = listen_loopback(&port);
  (void) state;

  assert_int_equal(pipe(pipefd), 0);
  pod.uuid = "not-a-uuid";
  assert_error_contains(ace_metadata_serve(lfd, fx.token, &pod, pipefd[0], -1, &err), &err,
                        "not in RFC 4122 form");
  close(pipefd[0]);
  assert_error_contains(ace_metadata_serve(lfd, fx.token, &fx.pod, pipefd[0], -1, &err), &err,
                        "stop descriptor");
  close(pipefd[1]);
  close(lfd);
}

/* ---- the wire form and the shared service (mds.c) ---- */

static void test_wire_refused(void **state)
{
  static const struct {
    const char *wire, *message;
  } cases[] = {
      {"[]", "not a JSON object"},
      {"{\"uuid\":\"a\xff\"}", "uuid must be UTF-8 text without NUL"},
      {"{\"uuid\":\"a\\u0000b\"}", "uuid must be UTF-8 text without NUL"},
      {"{\"uuid\":1}", "uuid must be a string"},
      {"{} trailing", "not a JSON object"},
      {"{\"uuid\":\"not-a-uuid\",\"token\":\"t\",\"podManifest\":\"{}\",\"podAnnotations\":"
       "\"[]\",\"apps\":[]}",
       "not in RFC 4122 form"},
      {"{\"uuid\":\"" POD_UUID "\",\"token\":\"\",\"podManifest\":\"{}\",\"podAnnotations\":"
       "\"[]\",\"apps\":[]}",
       "token must not be empty"},
      {"{\"uuid\":\"" POD_UUID "\",\"token\":\"t\",\"podManifest\":\"{}\",\"podAnnotations\":"
       "\"[]\",\"apps\":[7]}",
       "apps[0] must be an object"},
  };
  int port;
  int lfd = listen_loopback(&port);
  (void) state;

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    appc_error_t err = NULL;
    struct ace_metadata_server *srv = NULL;
    assert_error_contains(
        ace_metadata_server_start(lfd, cases[i].wire, strlen(cases[i].wire), fx.key, &srv, &err),
        &err, cases[i].message);
    assert_null(srv);
  }
  close(lfd);
}

/* The wire form never carries the HMAC key, in any spelling: the shared
 * service reads the store's key itself, so that no process of the pod
 * (cloned from actool, which makes the wire form) holds a copy. */
static void test_wire_has_no_key(void **state)
{
  appc_error_t err = NULL;
  char *wire = NULL;
  size_t len = 0;
  char hex[2 * ACE_HMAC_KEY_LEN + 1];
  (void) state;

  assert_ok(ace_metadata_wire_encode(&fx.pod, fx.token, &wire, &len, &err), &err);
  for (size_t i = 0; i < ACE_HMAC_KEY_LEN; i++)
    snprintf(hex + 2 * i, 3, "%02x", fx.key[i]);
  assert_null(strstr(wire, "hmacKey"));
  assert_null(strstr(wire, hex));
  assert_null(memmem(wire, len, fx.key, ACE_HMAC_KEY_LEN));
  free(wire);
}

/* GET pod/uuid from the server on PORT: the status (-1: no answer). */
static long uuid_status_at(int port, char **body)
{
  int saved = fx.server.port;
  fx.server.port = port;
  struct reply r = get("pod/uuid");
  fx.server.port = saved;
  long status = r.status;
  if (body != NULL)
    *body = r.body != NULL ? strdup(r.body) : NULL;
  reply_clear(&r);
  return status;
}

/* The PID of the store's service, from its lock file. */
static pid_t service_pid(const char *pods)
{
  char path[512], buf[32] = "";
  snprintf(path, sizeof path, "%s/metadata.lock", pods);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(buf, sizeof buf, f));
  fclose(f);
  return (pid_t) atol(buf);
}

static bool process_alive(pid_t pid)
{
  char path[64];
  struct stat st;
  snprintf(path, sizeof path, "/proc/%ld", (long) pid);
  return stat(path, &st) == 0;
}

static void kill_service(pid_t pid)
{
  kill(pid, SIGKILL);
  for (int i = 0; i < 500 && process_alive(pid); i++)
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  assert_false(process_alive(pid));
}

/* Register the fixture's pod on a new socket; *PORT is where it is served.
 * The test keeps no copy of the socket: once the service lets it go, the
 * port refuses connections. */
static int register_pod(int pods_fd, int *port)
{
  appc_error_t err = NULL;
  char *wire = NULL;
  size_t len;
  int lfd = listen_loopback(port);

  assert_ok(ace_metadata_wire_encode(&fx.pod, fx.token, &wire, &len, &err), &err);
  int conn = ace_mds_register(pods_fd, wire, len, lfd, &err);
  assert_ok(conn < 0 ? -1 : 0, &err);
  free(wire);
  close(lfd);
  return conn;
}

/* What the registration's connection says within 10 s. */
static enum ace_mds_event next_event(int conn, bool *served, appc_error_t *err)
{
  struct pollfd p = {.fd = conn, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 10000), 1);
  return ace_mds_read(conn, served, err);
}

static void test_mds_shared_service(void **state)
{
  char *pods = scratch_new();
  int pods_fd = open(pods, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  appc_error_t err = NULL;
  char *body = NULL, path[512], comm[64] = "";
  int port1, port2, port3;
  bool served1 = false, served2 = false, served3 = false;
  (void) state;

  assert_true(pods_fd >= 0);
  /* A socket file nobody listens on any more (a service killed earlier). */
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s/metadata-2.sock", pods);
  int stale = socket(AF_UNIX, SOCK_STREAM, 0);
  assert_int_equal(bind(stale, (struct sockaddr *) &sa, sizeof sa), 0);
  close(stale);

  int conn1 = register_pod(pods_fd, &port1);
  assert_int_equal(next_event(conn1, &served1, &err), ACE_MDS_SERVING);
  assert_true(served1);
  assert_int_equal(uuid_status_at(port1, &body), 200);
  assert_string_equal(body, POD_UUID);
  free(body);
  pid_t pid = service_pid(pods);
  assert_true(pid > 0 && pid != getpid());
  snprintf(path, sizeof path, "/proc/%ld/comm", (long) pid);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  assert_non_null(fgets(comm, sizeof comm, f));
  fclose(f);
  assert_string_equal(comm, "actool-mds\n");
  /* It parses what apps send: no capability, no way to gain one. */
  char line[256];
  bool caps_dropped = false, no_new_privs = false;
  snprintf(path, sizeof path, "/proc/%ld/status", (long) pid);
  f = fopen(path, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f) != NULL) {
    caps_dropped = caps_dropped || strcmp(line, "CapBnd:\t0000000000000000\n") == 0;
    no_new_privs = no_new_privs || strcmp(line, "NoNewPrivs:\t1\n") == 0;
    if (strncmp(line, "CapEff:", 7) == 0)
      assert_string_equal(line, "CapEff:\t0000000000000000\n");
  }
  fclose(f);
  assert_true(caps_dropped);
  assert_true(no_new_privs);

  /* A second pod: the same service. */
  int conn2 = register_pod(pods_fd, &port2);
  assert_int_equal(next_event(conn2, &served2, &err), ACE_MDS_SERVING);
  assert_int_equal(service_pid(pods), pid);
  assert_int_equal(uuid_status_at(port2, NULL), 200);

  /* The first pod ends: its socket is let go, the second is still served. */
  close(conn1);
  long status = 200;
  for (int i = 0; i < 500 && status == 200; i++) {
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    status = uuid_status_at(port1, NULL);
  }
  assert_int_equal(status, -1);
  assert_int_equal(uuid_status_at(port2, NULL), 200);

  /* The service dies: the second pod hears of it, and registering again
   * starts another one. */
  kill_service(pid);
  assert_int_equal(next_event(conn2, &served2, &err), ACE_MDS_ENDED);
  close(conn2);
  int conn3 = register_pod(pods_fd, &port3);
  assert_int_equal(next_event(conn3, &served3, &err), ACE_MDS_SERVING);
  pid_t pid2 = service_pid(pods);
  assert_true(pid2 > 0 && pid2 != pid);
  assert_int_equal(uuid_status_at(port3, NULL), 200);
  close(conn3);
  kill_service(pid2);
  close(pods_fd);
}

static void test_mds_refuses_bad_registration(void **state)
{
  char *pods = scratch_new();
  int pods_fd = open(pods, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  appc_error_t err = NULL;
  bool served = false;
  int port;
  int lfd = listen_loopback(&port);
  (void) state;

  int conn = ace_mds_register(pods_fd, "{\"uuid\":7}", 10, lfd, &err);
  assert_ok(conn < 0 ? -1 : 0, &err);
  assert_int_equal(next_event(conn, &served, &err), ACE_MDS_REFUSED);
  assert_false(served);
  assert_non_null(err);
  assert_non_null(strstr(err->msg, "uuid must be a string"));
  appc_error_release(&err);
  close(conn);
  close(lfd);
  kill_service(service_pid(pods));
  close(pods_fd);
}

/* Whether NAME in PODS_FD is gone within 5 s. */
static bool gone_soon(int pods_fd, const char *name)
{
  struct stat st;

  for (int i = 0; i < 500; i++) {
    if (fstatat(pods_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
      return true;
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  return false;
}

/* The process PID is stopped (within 5 s of a SIGSTOP). */
static void wait_stopped(pid_t pid)
{
  char path[64], stat_line[512] = "";

  snprintf(path, sizeof path, "/proc/%ld/stat", (long) pid);
  for (int i = 0; i < 500; i++) {
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(stat_line, sizeof stat_line, f));
    fclose(f);
    const char *state = strrchr(stat_line, ')');
    if (state != NULL && state[1] == ' ' && state[2] == 'T')
      return;
    nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
  }
  fail_msg("process %ld did not stop", (long) pid);
}

/* A set-aside pod directory with something in it, as a pod's end leaves. */
static void set_aside(int pods_fd, const char *name)
{
  assert_int_equal(mkdirat(pods_fd, name, 0700), 0);
  int dfd = openat(pods_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(dfd >= 0);
  int fd = openat(dfd, "written", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  assert_true(fd >= 0);
  close(fd);
  close(dfd);
}

/* A pod that ends before the service has taken its registration (a short
 * pod, the first of its store): its last word, 'R', is queued behind its
 * descriptors when the service's 'K' meets the closed peer.  The service
 * still reads it, and what the pod set aside goes.  The service is stopped
 * meanwhile, so that the registration, the 'R' and the close are all there
 * before it looks. */
static void test_mds_sweeps_for_unanswered_pod(void **state)
{
  char *pods = scratch_new();
  int pods_fd = open(pods, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  appc_error_t err = NULL;
  bool served = false;
  int port1, port2;
  (void) state;

  if (geteuid() != 0)
    skip(); /* the sweeper keeps capabilities only root has */
  assert_true(pods_fd >= 0);
  /* Removed by the sweep a service makes as it starts: once it is gone,
   * the sweeper waits for the next request. */
  set_aside(pods_fd, ".removing-" OTHER_UUID);
  int conn1 = register_pod(pods_fd, &port1);
  assert_int_equal(next_event(conn1, &served, &err), ACE_MDS_SERVING);
  assert_true(gone_soon(pods_fd, ".removing-" OTHER_UUID));

  pid_t pid = service_pid(pods);
  assert_int_equal(kill(pid, SIGSTOP), 0);
  wait_stopped(pid);
  set_aside(pods_fd, ".removing-" POD_UUID);
  int conn2 = register_pod(pods_fd, &port2);
  assert_int_equal(send(conn2, "R", 1, MSG_NOSIGNAL), 1);
  close(conn2);
  assert_int_equal(kill(pid, SIGCONT), 0);
  assert_true(gone_soon(pods_fd, ".removing-" POD_UUID));

  close(conn1);
  kill_service(pid);
  close(pods_fd);
}

/* Without pods for IDLE_MS, the service removes its socket and exits. */
static void test_mds_retires(void **state)
{
  char *pods = scratch_new();
  int pods_fd = open(pods, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  struct stat st;
  (void) state;

  snprintf(sa.sun_path, sizeof sa.sun_path, "%s/metadata-2.sock", pods);
  int ctl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(bind(ctl, (struct sockaddr *) &sa, sizeof sa), 0);
  assert_int_equal(listen(ctl, 8), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    ace_mds_main(pods_fd, ctl, -1, 100);
  close(ctl);
  assert_int_equal(wait_exit(pid), 0);
  assert_int_equal(stat(sa.sun_path, &st), -1);
  assert_int_equal(errno, ENOENT);
  close(pods_fd);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_token_format),
      cmocka_unit_test_teardown(test_key_created_0600, scratch_teardown),
      cmocka_unit_test_teardown(test_key_reused, scratch_teardown),
      cmocka_unit_test_teardown(test_key_refuses_0644, scratch_teardown),
      cmocka_unit_test_teardown(test_key_refuses_symlink, scratch_teardown),
      cmocka_unit_test_teardown(test_key_refuses_other_files, scratch_teardown),
      cmocka_unit_test_teardown(test_key_concurrent_creators, scratch_teardown),
      cmocka_unit_test(test_pod_endpoints),
      cmocka_unit_test(test_app_endpoints),
      cmocka_unit_test(test_head),
      cmocka_unit_test(test_pod_without_annotations),
      cmocka_unit_test(test_sign_urlencoded),
      cmocka_unit_test(test_sign_multipart),
      cmocka_unit_test(test_verify),
      cmocka_unit_test(test_bad_forms),
      cmocka_unit_test(test_body_limits),
      cmocka_unit_test(test_sign_budget),
      cmocka_unit_test(test_wrong_token),
      cmocka_unit_test(test_unknown_path),
      cmocka_unit_test(test_wrong_method),
      cmocka_unit_test(test_abandoned_requests),
      cmocka_unit_test(test_nameless_part),
      cmocka_unit_test(test_strangers_hold_no_slot),
      cmocka_unit_test(test_encoded_nul),
      cmocka_unit_test(test_body_framing),
      cmocka_unit_test(test_stop_on_eof),
      cmocka_unit_test(test_stop_on_readable),
      cmocka_unit_test(test_serve_errors),
      cmocka_unit_test(test_wire_refused),
      cmocka_unit_test(test_wire_has_no_key),
      cmocka_unit_test_teardown(test_mds_shared_service, scratch_teardown),
      cmocka_unit_test_teardown(test_mds_refuses_bad_registration, scratch_teardown),
      cmocka_unit_test_teardown(test_mds_sweeps_for_unanswered_pod, scratch_teardown),
      cmocka_unit_test_teardown(test_mds_retires, scratch_teardown),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
