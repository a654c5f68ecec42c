/* SPDX-License-Identifier: Apache-2.0 */
/* The metadata service's request handling: raw HTTP requests (the input,
 * sent as they are) to the service run in this process on loopback, as
 * any app of a pod can send them.  Properties: whatever comes back is HTTP;
 * a 200 has one of the spec's Content-Types and a Content-Length its body
 * has exactly (what follows is the next answer); after each input the
 * service still answers GET .../pod/uuid with the pod's UUID within 10 s,
 * and the signature `sign` gives of the input's first bytes (as content)
 * verifies through `verify`. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ace/internal.h"
#include "common/cleanup.h"
#include "appc/schema.h"
#include "tests/fuzz/fuzz.h"

/* Fixed, so that seeds and the dictionary can hold it. */
#define TOKEN "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define UUID "6733c736-7cd1-4d54-93e9-2b6e3fe5a0e8"
#define IMAGE_ID                                                                                   \
  "sha512-"                                                                                        \
  "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc" \
  "cc"                                                                                             \
  "cccccccccccccccccccccccccccccccc"

static const char image_json[] =
    "{\"acKind\":\"ImageManifest\",\"acVersion\":\"0.8.11\",\"name\":\"example.com/app\","
    "\"app\":{\"exec\":[\"/app\"],\"user\":\"0\",\"group\":\"0\"},"
    "\"annotations\":[{\"name\":\"authors\",\"value\":\"fuzz\"}]}";
static const char pod_json[] =
    "{\"acVersion\":\"0.8.11\",\"acKind\":\"PodManifest\",\"apps\":[{\"name\":\"app\","
    "\"image\":{\"id\":\"" IMAGE_ID "\"},\"annotations\":[{\"name\":\"a\",\"value\":\"b\"}]}],"
    "\"annotations\":[{\"name\":\"p\",\"value\":\"q\"}]}";

static struct appc_image_manifest *image;
static struct appc_pod_manifest *pod_manifest;
static unsigned char key[ACE_HMAC_KEY_LEN];
static struct ace_metadata_app app;
static struct ace_metadata_pod pod;
static struct sockaddr_in addr;
static int listen_fd, stop_pipe[2], ready_pipe[2];

static void *serve(void *unused)
{
  appc_error_t err = NULL;

  (void) unused;
  if (ace_metadata_serve(listen_fd, TOKEN, &pod, stop_pipe[0], ready_pipe[1], &err) < 0)
    fuzz_fail("the metadata service ended: %s", err->msg);
  return NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  appc_error_t err = NULL;
  socklen_t len = sizeof addr;
  pthread_t thread;
  char c;

  (void) argc;
  (void) argv;
  if (appc_image_manifest_parse(image_json, strlen(image_json), &image, &err) < 0 ||
      appc_pod_manifest_parse(pod_json, strlen(pod_json), &pod_manifest, &err) < 0)
    fuzz_fail("the fixed manifests: %s", err->msg);
  memset(key, 0x5a, sizeof key);
  app = (struct ace_metadata_app){"app", IMAGE_ID, image_json, image,
                                  &pod_manifest->apps[0].annotations};
  pod = (struct ace_metadata_pod){UUID, pod_json, &pod_manifest->annotations, &app, 1, key};

  listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &addr, sizeof addr) < 0 ||
      listen(listen_fd, 64) < 0 || getsockname(listen_fd, (struct sockaddr *) &addr, &len) < 0)
    fuzz_fail("listening on loopback: %m");
  if (pipe2(stop_pipe, O_CLOEXEC) < 0 || pipe2(ready_pipe, O_CLOEXEC) < 0)
    fuzz_fail("pipe2: %m");
  /* Inputs come faster than any pod's, and every one must still be signed
   * after: a budget (docs/executor.md) without end. */
  ace_metadata_set_budget((size_t) 1 << 40, (size_t) 1 << 40);
  if (pthread_create(&thread, NULL, serve, NULL) != 0)
    fuzz_fail("pthread_create");
  pthread_detach(thread);
  if (read(ready_pipe[0], &c, 1) != 1)
    fuzz_fail("the metadata service did not start");
  return 0;
}

/* Connect FD to the service.  libFuzzer's timer (SIGALRM) may interrupt
 * connect(), which then goes on in the background: wait for it. */
static void connect_to_service(int fd)
{
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  int e = 0;
  socklen_t len = sizeof e;

  if (connect(fd, (struct sockaddr *) &addr, sizeof addr) == 0)
    return;
  if (errno != EINTR)
    fuzz_fail("connecting to the metadata service: %m");
  while (poll(&p, 1, 10000) < 0 && errno == EINTR)
    ;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e != 0)
    fuzz_fail("connecting to the metadata service: %s", strerror(e));
}

/* Whether BUF (LEN bytes, NUL-terminated) holds a whole response: headers
 * and as many bytes of body as its Content-Length says.  A client has its
 * answer then, whether or not the server keeps the connection open. */
static bool response_complete(const char *buf, size_t len)
{
  const char *end = strstr(buf, "\r\n\r\n");
  const char *cl = strcasestr(buf, "\r\nContent-Length:");

  if (end == NULL || cl == NULL || cl > end)
    return false;
  return (size_t) (end + 4 - buf) + strtoul(cl + 17, NULL, 10) <= len;
}

/* Send REQ, close our side, and read the answer into BUF (at most CAP-1
 * bytes kept, NUL-terminated) until the first response is complete or the
 * server closes; the bytes received.  Silence for PATIENCE_MS is a broken
 * property, named WHAT, unless WHAT is NULL: a request cut short may be left
 * waiting for its end (libmicrohttpd closes it at its inactivity timeout,
 * not at our shutdown), so only the probe that follows must be answered. */
static size_t exchange(const uint8_t *req, size_t len, char *buf, size_t cap, int patience_ms,
                       const char *what)
{
  cleanup_close int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  size_t got = 0, sent = 0;

  if (fd < 0)
    fuzz_fail("socket: %m");
  connect_to_service(fd);
  (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
  while (sent < len) {
    ssize_t n = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* the service may close on a bad request */
    sent += (size_t) n;
  }
  shutdown(fd, SHUT_WR);
  for (;;) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char discard[4096];
    ssize_t n;
    int ready = poll(&p, 1, patience_ms);
    if (ready < 0 && errno == EINTR)
      continue; /* libFuzzer's timer; the patience starts again, which is fine */
    if (ready == 0) {
      if (what == NULL)
        break;
      fuzz_fail("the metadata service did not answer %s within %d ms (%zu bytes read)", what,
                patience_ms, got);
    }
    n = recv(fd, got < cap - 1 ? buf + got : discard,
             got < cap - 1 ? cap - 1 - got : sizeof discard, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (got < cap - 1)
      got += (size_t) n;
    buf[got] = '\0';
    if (response_complete(buf, got))
      break;
  }
  buf[got] = '\0';
  return got;
}

/* A 200 answer (LEN bytes of BUF, the first answer complete) has the
 * spec's Content-Type, and its body is Content-Length bytes: what follows
 * it is another answer.  HEAD answers have no body. */
static void check_ok_answer(const char *buf, size_t len, bool head)
{
  const char *end = strstr(buf, "\r\n\r\n");
  const char *cl = strcasestr(buf, "\r\nContent-Length:");
  const char *type = strcasestr(buf, "\r\nContent-Type: ");
  size_t body;

  if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 && strncmp(buf, "HTTP/1.0 200 ", 13) != 0)
    return;
  if (end == NULL || cl == NULL || cl > end || type == NULL || type > end)
    fuzz_fail("a 200 without Content-Length or Content-Type: %.200s", buf);
  type += strlen("\r\nContent-Type: ");
  if (strncmp(type, "text/plain; charset=us-ascii\r\n", 30) != 0 &&
      strncmp(type, "application/json\r\n", 18) != 0)
    fuzz_fail("a 200 of another Content-Type: %.60s", type);
  body = head ? 0 : strtoul(cl + 17, NULL, 10);
  end += 4;
  if ((size_t) (end - buf) + body < len && strncmp(end + body, "HTTP/1.", 7) != 0)
    fuzz_fail("a 200 whose body is longer than its Content-Length: %.200s", buf);
}

/* The body of a complete answer in BUF: after its headers. */
static const char *body_of(const char *buf)
{
  const char *end = strstr(buf, "\r\n\r\n");

  return end != NULL ? end + 4 : "";
}

/* A POST to ENDPOINT of FORM, its answer in ANSWER. */
static void post(const char *endpoint, const char *form, char *answer, size_t cap)
{
  char *req = NULL;
  int n = asprintf(&req,
                   "POST /" TOKEN "/acMetadata/v1/pod/hmac/%s HTTP/1.1\r\nHost: fuzz\r\n"
                   "Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   endpoint, strlen(form), form);

  if (n < 0)
    fuzz_fail("out of memory");
  exchange((const uint8_t *) req, (size_t) n, answer, cap, 10000, endpoint);
  free(req);
}

/* `sign` of the first bytes of DATA (percent-encoded, as content) answers
 * a signature that `verify` takes. */
static void check_sign_verify(const uint8_t *data, size_t size)
{
  char form[1024], answer[8192], sig[89]; /* content, uuid and signature encoded */
  size_t n = strlen("content=");

  memcpy(form, "content=", n);
  for (size_t i = 0; i < size && i < 64; i++)
    n += (size_t) snprintf(form + n, 4, "%%%02X", data[i]);
  form[n] = '\0';
  post("sign", form, answer, sizeof answer);
  check_ok_answer(answer, strlen(answer), false);
  if (strncmp(answer, "HTTP/1.1 200", 12) != 0 || strlen(body_of(answer)) != 88)
    fuzz_fail("sign did not answer a signature: %.200s", answer);
  memcpy(sig, body_of(answer), 88);
  sig[88] = '\0';
  /* base64's '+' and '/' and '=' percent-encoded */
  n += (size_t) snprintf(form + n, sizeof form - n, "&uuid=" UUID "&signature=");
  for (size_t i = 0; i < 88; i++)
    n += (size_t) snprintf(form + n, sizeof form - n, "%%%02X", (unsigned char) sig[i]);
  post("verify", form, answer, sizeof answer);
  if (strncmp(answer, "HTTP/1.1 200", 12) != 0)
    fuzz_fail("verify refused sign's signature: %.200s", answer);
}

/* Whether the first request of DATA is a HEAD (after empty lines). */
static bool is_head(const uint8_t *data, size_t size)
{
  while (size > 0 && (*data == '\r' || *data == '\n'))
    data++, size--;
  return size >= 5 && memcmp(data, "HEAD ", 5) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char probe[] = "GET /" TOKEN "/acMetadata/v1/pod/uuid HTTP/1.1\r\n"
                              "Host: fuzz\r\nConnection: close\r\n\r\n";
  char answer[8192];
  size_t got = exchange(data, size, answer, sizeof answer, 100, NULL);

  if (got > 0 && strncmp(answer, "HTTP/1.", 7) != 0)
    fuzz_fail("an answer that is not HTTP: %.80s", answer);
  if (got > 0 && got < sizeof answer - 1)
    check_ok_answer(answer, got, is_head(data, size));
  exchange((const uint8_t *) probe, strlen(probe), answer, sizeof answer, 10000, "the probe");
  if (strncmp(answer, "HTTP/1.1 200", 12) != 0 || strstr(answer, "\r\n\r\n" UUID) == NULL)
    fuzz_fail("the service no longer answers: %.200s", answer);
  check_ok_answer(answer, strlen(answer), false);
  check_sign_verify(data, size);
  return 0;
}
