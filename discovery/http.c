/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client of discovery and fetch, over libcurl.
 *
 * One easy handle per client, reset before every request, so that the
 * connection to a host is reused from discovery to download (a repeat fetch
 * is a few round trips on one TLS session).  The policy (protocols, CAs,
 * timeouts, redirect limit) is applied to every request by one function. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <strings.h>
#include <curl/curl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "common/abi.h"
#include "common/fs.h"
#include "common/lazy.h"

#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "discovery/internal.h"

#define MAX_REDIRECTS 10L
#define DEFAULT_TIMEOUT 30u
#define DEFAULT_DEADLINE 60u
#define DEFAULT_DOWNLOAD_DEADLINE (24u * 3600u)
#define DEFAULT_MIN_RATE 1024u
#define CACERT_MAX_BYTES (16u << 20)

struct appc_http {
  struct appc_http_options opts;
  CURL *curl;
  char *ca_path;            /* the system's hashed CA directory, when there is one */
  char *ca_file;            /* --cacert beside it */
  struct curl_blob ca_blob; /* else the system bundle plus --cacert */
  char *ca_data;
  struct appc_auth_config auth;
  char *auth_dir; /* read at the first request (ensure_auth), then NULL */
  /* The option strings it was made with, for appc_http_dup. */
  char *made_cacert, *made_ca_dir, *made_auth_dir;
  unsigned timeout;
  unsigned deadline;
  unsigned min_rate;
  uint64_t download_max;       /* for a download of no declared size */
  unsigned download_deadline;  /* seconds, for any download, its retries included */
  int64_t download_end;        /* appc_monotonic_ms() when the one under way must end */
  int64_t walk_end;            /* appc_monotonic_ms() when a discovery walk must end; 0: none */
  int64_t get_end;             /* when a retried get (get_page_retried) must end; 0: none */
  unsigned operation_deadline; /* seconds, for an operation of many requests */
  int64_t operation_end;       /* when the operation under way must end; 0: none */
  unsigned operation_depth;    /* nesting of appc_http_operation_begin */
  const char *operation_what;  /* its name, for errors (the caller's string) */
  bool downloading;            /* the request under way is a download, not a page */
  bool headers_done;           /* the last response's headers have all arrived */
  char errbuf[CURL_ERROR_SIZE];
};

void appc_http_log(struct appc_http *h, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  appc_cb_logv(h->opts.cb, fmt, ap);
  va_end(ap);
}

bool appc_http_allows_http(const struct appc_http *h)
{
  return h->opts.allow_http;
}

unsigned appc_http_port(const struct appc_http *h)
{
  return h->opts.port;
}

bool appc_http_is_cancelled(struct appc_http *h)
{
  return appc_cb_cancelled(h->opts.cb);
}

static int read_small_file(const char *path, size_t max, char **out, size_t *len, appc_error_t *err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
  cleanup_free char *buf = NULL;
  struct stat st;
  size_t have = 0;

  if (fd < 0 || fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s", path);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "%s: not a regular file", path);
  if ((unsigned long long) st.st_size > max)
    return appc_error_make(err, 0, "%s: larger than %zu bytes", path, max);
  buf = malloc((size_t) st.st_size + 1);
  if (buf == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  ssize_t n = appc_read_in_full(fd, buf, (size_t) st.st_size);
  if (n < 0)
    return appc_error_make(err, errno, "%s", path);
  have = (size_t) n;
  buf[have] = '\0';
  *out = steal_pointer(&buf);
  *len = have;
  return 0;
}

/* How many certificates PEM (LEN bytes) holds, read as OpenSSL reads a CA
 * file for libcurl (PEM_X509_INFO_read_bio, as X509_load_cert_crl_file
 * does); -1 when a block of it cannot be read, with OpenSSL's reason in
 * *WHY. */
static int pem_certificates(const char *pem, size_t len, const char **why)
{
  BIO *bio = BIO_new_mem_buf(pem, (int) len);
  STACK_OF(X509_INFO) *infos = bio != NULL ? PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL) : NULL;
  int n = 0;

  *why = NULL;
  if (infos == NULL) {
    *why = ERR_reason_error_string(ERR_peek_last_error());
    n = -1;
  }
  for (int i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++)
    if (sk_X509_INFO_value(infos, i)->x509 != NULL)
      n++;
  sk_X509_INFO_pop_free(infos, X509_INFO_free);
  BIO_free(bio);
  /* OpenSSL's error queue is the thread's: libcurl must not find these. */
  ERR_clear_error();
  return n;
}

/* A CA file libcurl could not load would fail every request as if the
 * server's certificate were not trusted: the file's fault is said up front,
 * naming it. */
static int check_cacert(const char *path, appc_error_t *err)
{
  cleanup_free char *pem = NULL;
  size_t len = 0;
  const char *why = NULL;
  int n;

  if (read_small_file(path, CACERT_MAX_BYTES, &pem, &len, err) < 0)
    return appc_error_prefix(err, "CA file");
  if (strstr(pem, "-----BEGIN CERTIFICATE-----") == NULL)
    return appc_error_make(err, 0, "CA file %s: no PEM certificate in the file", path);
  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0)
    return appc_error_prefix(err, "CA file %s", path);
  if ((n = pem_certificates(pem, len, &why)) < 0)
    return appc_error_make(err, 0,
                           "CA file %s: a PEM block that is not a readable certificate (%s)", path,
                           why != NULL ? why : "OpenSSL gave no reason");
  if (n == 0)
    return appc_error_make(err, 0, "CA file %s: no PEM certificate in the file", path);
  return 0;
}

/* --cacert adds to the system's CAs; curl's CURLOPT_CAINFO alone would
 * replace them.  Loading the system bundle (140-odd certificates) costs
 * OpenSSL 3 about 30 ms per process, more than the rest of a repeat fetch,
 * so the system's CAs are trusted through their hashed directory
 * (CURLOPT_CAPATH), where OpenSSL reads only the issuer a chain needs, and
 * --cacert is the CA file beside it.  Without a system directory, one
 * in-memory bundle of both does the same, slower. */
static bool is_directory(const char *path)
{
  struct stat st;

  return path != NULL && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int bundle_cacert(struct appc_http *h, const char *cacert, appc_error_t *err)
{
  cleanup_free char *extra = NULL;
  cleanup_free char *sys = NULL;
  size_t extra_len = 0, sys_len = 0;
  char *default_ca = NULL;
  cleanup_error appc_error_t ignored = NULL;

  if (read_small_file(cacert, CACERT_MAX_BYTES, &extra, &extra_len, err) < 0)
    return appc_error_prefix(err, "CA file");
  if (curl_easy_getinfo(h->curl, CURLINFO_CAINFO, &default_ca) == CURLE_OK && default_ca != NULL)
    (void) read_small_file(default_ca, CACERT_MAX_BYTES, &sys, &sys_len, &ignored);
  h->ca_data = malloc(sys_len + extra_len + 2);
  if (h->ca_data == NULL)
    return appc_error_make(err, ENOMEM, "CA file %s", cacert);
  if (sys_len > 0)
    memcpy(h->ca_data, sys, sys_len);
  h->ca_data[sys_len] = '\n';
  memcpy(h->ca_data + sys_len + 1, extra, extra_len);
  h->ca_blob.data = h->ca_data;
  h->ca_blob.len = sys_len + 1 + extra_len;
  h->ca_blob.flags = CURL_BLOB_NOCOPY;
  return 0;
}

static int setup_trust(struct appc_http *h, const char *cacert, const char *ca_dir,
                       appc_error_t *err)
{
  if (cacert != NULL && check_cacert(cacert, err) < 0)
    return -1;
  if (ca_dir != NULL && !is_directory(ca_dir))
    return appc_error_make(err, 0, "%s: the CA directory is not a directory", ca_dir);
  if (ca_dir == NULL &&
      (curl_easy_getinfo(h->curl, CURLINFO_CAPATH, &ca_dir) != CURLE_OK || !is_directory(ca_dir)))
    return cacert != NULL ? bundle_cacert(h, cacert, err) : 0;
  h->ca_path = strdup(ca_dir);
  h->ca_file = cacert != NULL ? strdup(cacert) : NULL;
  if (h->ca_path == NULL || (cacert != NULL && h->ca_file == NULL))
    return appc_error_make(err, ENOMEM, "CA file %s", cacert != NULL ? cacert : ca_dir);
  return 0;
}

int appc_http_new(const struct appc_http_options *opts, struct appc_http **out, appc_error_t *err)
{
  static const struct appc_abi_member members[] = {
      APPC_ABI_MEMBER(appc_http_options, download_max, 2),
      APPC_ABI_MEMBER(appc_http_options, download_deadline, 2),
      APPC_ABI_MEMBER(appc_http_options, operation_deadline, 3),
  };
  static const struct appc_http_options defaults = {0};
  struct appc_http *h;

  if (APPC_ABI_CHECK_MEMBERS(opts, appc_http_options, APPC_HTTP_OPTIONS_VERSION, members, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &defaults;
  h = calloc(1, sizeof *h);
  if (h == NULL)
    return appc_error_make(err, ENOMEM, "http client");
  h->opts = *opts;
  h->timeout = opts->timeout != 0 ? opts->timeout : DEFAULT_TIMEOUT;
  h->deadline = opts->deadline != 0 ? opts->deadline : DEFAULT_DEADLINE;
  h->min_rate = opts->min_rate != 0 ? opts->min_rate : DEFAULT_MIN_RATE;
  h->download_max = APPC_HTTP_DOWNLOAD_MAX;
  h->download_deadline = DEFAULT_DOWNLOAD_DEADLINE;
  if (opts->version >= 2 && opts->download_max != 0)
    h->download_max = opts->download_max;
  if (opts->version >= 2 && opts->download_deadline != 0)
    h->download_deadline = opts->download_deadline;
  /* An operation of many requests may take a day by default, or as long
   * as one download may when that is longer: never the download's own
   * limit, which a shorter download deadline would otherwise meet in its
   * name. */
  h->operation_deadline = DEFAULT_DOWNLOAD_DEADLINE > h->download_deadline
                              ? DEFAULT_DOWNLOAD_DEADLINE
                              : h->download_deadline;
  if (opts->version >= 3 && opts->operation_deadline != 0)
    h->operation_deadline = opts->operation_deadline;
  if (appc_lazy_bind(APPC_LAZY_CURL, err) < 0) {
    free(h);
    return appc_error_prefix(err, "http client");
  }
  /* Reference-counted and thread-safe since curl 7.84. */
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    free(h);
    return appc_error_make(err, 0, "libcurl initialisation failed");
  }
  h->curl = curl_easy_init();
  if (h->curl == NULL) {
    appc_http_free(h);
    return appc_error_make(err, ENOMEM, "libcurl handle");
  }
  if (setup_trust(h, opts->cacert, opts->ca_dir, err) < 0) {
    appc_http_free(h);
    return -1;
  }
  /* Credentials are read when the network is first used: a command that
   * turns out not to need it (a pinned image the store has) must not fail
   * for a broken file it would never use. */
  if (opts->auth_dir != NULL && (h->auth_dir = strdup(opts->auth_dir)) == NULL) {
    appc_http_free(h);
    return appc_error_make(err, ENOMEM, "http client");
  }
  if ((opts->cacert != NULL && (h->made_cacert = strdup(opts->cacert)) == NULL) ||
      (opts->ca_dir != NULL && (h->made_ca_dir = strdup(opts->ca_dir)) == NULL) ||
      (opts->auth_dir != NULL && (h->made_auth_dir = strdup(opts->auth_dir)) == NULL)) {
    appc_http_free(h);
    return appc_error_make(err, ENOMEM, "http client");
  }
  /* The caller's strings are not kept. */
  h->opts.cacert = NULL;
  h->opts.ca_dir = NULL;
  h->opts.auth_dir = NULL;
  *out = h;
  return 0;
}

int appc_http_dup(const struct appc_http *h, const struct appc_callbacks *cb,
                  struct appc_http **out, appc_error_t *err)
{
  struct appc_http_options o = h->opts;

  if (cb != NULL)
    o.cb = cb;

  o.cacert = h->made_cacert;
  o.ca_dir = h->made_ca_dir;
  o.auth_dir = h->made_auth_dir;
  return appc_http_new(&o, out, err);
}

void appc_http_free(struct appc_http *h)
{
  if (h == NULL)
    return;
  if (h->curl != NULL) {
    curl_easy_cleanup(h->curl);
    curl_global_cleanup();
  }
  appc_auth_clear(&h->auth);
  free(h->auth_dir);
  free(h->made_cacert);
  free(h->made_ca_dir);
  free(h->made_auth_dir);
  free(h->ca_data);
  free(h->ca_path);
  free(h->ca_file);
  free(h);
}

struct download_sink;
/* What the progress callback of a transfer sees; SINK is NULL for pages. */
struct progress_ctx {
  struct appc_http *h;
  struct download_sink *sink;
};
static int progress_cb(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow);

/* The policy every request follows.  A page (discovery, a signature, a
 * key) is small: it must be done within the deadline, however it trickles.
 * A download may take long, but not at less than the minimum rate. */
/* What is left at NOW of the operation under way (appc_http_operation_begin),
 * which bounds every request: INT64_MAX when there is none. */
static int64_t operation_left(const struct appc_http *h, int64_t now)
{
  return h->operation_end != 0 ? h->operation_end - now : INT64_MAX;
}

/* What is left of the download's deadline, and of the operation's (1 ms
 * at least: 0 would be none). */
static long download_left_ms(const struct appc_http *h)
{
  int64_t now = appc_monotonic_ms();
  int64_t left = h->download_end - now;

  if (operation_left(h, now) < left)
    left = operation_left(h, now);
  return left > 0 ? (long) left : 1L;
}

void appc_http_operation_begin(struct appc_http *h, const char *what)
{
  if (h->operation_depth++ > 0)
    return;
  h->operation_end = appc_monotonic_ms() + (int64_t) h->operation_deadline * 1000;
  h->operation_what = what;
}

void appc_http_operation_end(struct appc_http *h)
{
  if (h->operation_depth == 0 || --h->operation_depth > 0)
    return;
  h->operation_end = 0;
  h->operation_what = NULL;
}

/* (curl's timer may fire a moment before ours: within half a second
 * counts, as for a download) */
bool appc_http_operation_expired(const struct appc_http *h)
{
  return h->operation_end != 0 && appc_monotonic_ms() + 500 >= h->operation_end;
}

int appc_http_operation_timeout(const struct appc_http *h, appc_error_t *err, const char *fmt, ...)
{
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (msg == NULL)
    return appc_error_make(err, ENOMEM, "%s", fmt);
  if (h->operation_what == NULL)
    return appc_error_tag(err, ETIMEDOUT, "%s (a deadline passed)", msg);
  return appc_error_tag(err, ETIMEDOUT, "%s (%s not done within its %u s deadline)", msg,
                        h->operation_what, h->operation_deadline);
}

/* Whether a retry after a backoff of SECONDS would start before the
 * operation's deadline. */
static bool operation_time_left(const struct appc_http *h, unsigned seconds)
{
  return h->operation_end == 0 ||
         appc_monotonic_ms() + (int64_t) seconds * 1000 + 500 < h->operation_end;
}

void appc_http_walk_begin(struct appc_http *h)
{
  h->walk_end = appc_monotonic_ms() + (int64_t) h->deadline * 1000;
}

void appc_http_walk_end(struct appc_http *h)
{
  h->walk_end = 0;
}

/* (curl's timer may fire a moment before ours: within half a second
 * counts, as for a download) */
bool appc_http_walk_expired(const struct appc_http *h)
{
  return h->walk_end != 0 && appc_monotonic_ms() + 500 >= h->walk_end;
}

/* Has the deadline of the retried get under way come (as for a walk)? */
static bool get_expired(const struct appc_http *h)
{
  return h->get_end != 0 && appc_monotonic_ms() + 500 >= h->get_end;
}

/* A page's time: the deadline, or what is left of the walk's, the
 * retried get's or the operation's (1 ms at least: 0 would be none). */
static long page_timeout_ms(const struct appc_http *h)
{
  int64_t ms = (int64_t) h->deadline * 1000;
  int64_t now = appc_monotonic_ms();

  if (h->walk_end != 0 && h->walk_end - now < ms)
    ms = h->walk_end - now;
  if (h->get_end != 0 && h->get_end - now < ms)
    ms = h->get_end - now;
  if (operation_left(h, now) < ms)
    ms = operation_left(h, now);
  return ms > 0 ? (long) ms : 1L;
}

/* Has the download's deadline come (curl's timer may fire a moment before
 * ours: within half a second counts)? */
static bool download_expired(const struct appc_http *h)
{
  return appc_monotonic_ms() + 500 >= h->download_end;
}

/* Marks where the headers of a response end (its blank line), for
 * transfer_error to tell an over-long header line from a want of memory. */
static size_t header_cb(char *data, size_t size, size_t nitems, void *userdata)
{
  struct appc_http *h = userdata;
  size_t n = size * nitems;

  h->headers_done = (n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n');
  return n;
}

static void setup_request(struct appc_http *h, const char *url, bool download)
{
  CURL *c = h->curl;
  const char *protocols = h->opts.allow_http ? "https,http" : "https";

  curl_easy_reset(c);
  h->errbuf[0] = '\0';
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "actool/" PACKAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) h->timeout);
  h->downloading = download;
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, download ? (long) h->min_rate : 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long) h->timeout);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, download ? download_left_ms(h) : page_timeout_ms(h));
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
  h->headers_done = false;
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
  if (h->ca_path != NULL) {
    curl_easy_setopt(c, CURLOPT_CAPATH, h->ca_path);
    curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
  } else if (h->ca_data != NULL) {
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &h->ca_blob);
  }
  if (h->opts.insecure_tls) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
}

/* Read the credential files before the first request; a broken one fails
 * every request, naming it. */
static int ensure_auth(struct appc_http *h, appc_error_t *err)
{
  if (h->auth_dir == NULL)
    return 0;
  appc_auth_clear(&h->auth);
  if (appc_auth_load(h->auth_dir, &h->auth, err) < 0)
    return -1;
  free(h->auth_dir);
  h->auth_dir = NULL;
  return 0;
}

/* The credentials auth.d holds for the host of URL, whatever its scheme;
 * *HTTPS: whether that is https. */
static const struct appc_auth_entry *host_auth(struct appc_http *h, const char *url, bool *https)
{
  cleanup_free char *host = NULL;
  cleanup_free char *port = NULL;
  cleanup_free char *scheme = NULL;
  cleanup_free char *host_port = NULL;
  CURLU *u = curl_url();

  *https = false;
  if (u == NULL)
    return NULL;
  if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
      curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
      asprintf(&host_port, "%s:%s", host, port) < 0) {
    curl_url_cleanup(u);
    return NULL;
  }
  curl_url_cleanup(u);
  *https = strcmp(scheme, "https") == 0;
  return appc_auth_find(&h->auth, host, host_port);
}

/* Credentials for the host of URL, applied to the next perform.  Only
 * over https: a password must not cross the network in clear. */
static const struct appc_auth_entry *find_auth(struct appc_http *h, const char *url)
{
  bool https;
  const struct appc_auth_entry *e = host_auth(h, url, &https);

  return https ? e : NULL;
}

/* Why a 401 from URL goes unanswered (find_auth found nothing): its host
 * has no credentials, or has some that plain http never gets. */
static enum appc_http_auth auth_gap(struct appc_http *h, const char *url)
{
  bool https;

  return host_auth(h, url, &https) != NULL && !https ? APPC_HTTP_AUTH_WITHHELD
                                                     : APPC_HTTP_AUTH_MISSING;
}

const char *appc_http_auth_problem(enum appc_http_auth auth)
{
  switch (auth) {
  case APPC_HTTP_AUTH_MISSING:
    return "no credentials for its host in auth.d";
  case APPC_HTTP_AUTH_WITHHELD:
    return "auth.d's credentials for its host go over https only, never plain http";
  case APPC_HTTP_AUTH_REFUSED:
    return "the credentials were refused";
  default:
    return NULL;
  }
}

static const struct appc_auth_entry *apply_auth(struct appc_http *h, const char *url)
{
  const struct appc_auth_entry *e = find_auth(h, url);

  if (e == NULL)
    return NULL;
  if (e->type == APPC_AUTH_BASIC) {
    curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h->curl, CURLOPT_USERNAME, e->user);
    curl_easy_setopt(h->curl, CURLOPT_PASSWORD, e->password);
  } else {
    curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
    curl_easy_setopt(h->curl, CURLOPT_XOAUTH2_BEARER, e->token);
  }
  return e;
}

/* Which limit a timed-out transfer hit (see setup_request). */
static int timeout_error(struct appc_http *h, CURLcode rc, const char *url, appc_error_t *err)
{
  const char *what = h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc);
  double total = 0;
  curl_off_t got = 0;

  curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME, &total);
  curl_easy_getinfo(h->curl, CURLINFO_SIZE_DOWNLOAD_T, &got);
  if (appc_http_operation_expired(h))
    return appc_http_operation_timeout(h, err, "%s: %s", url, what);
  if (h->downloading && download_expired(h))
    return appc_error_make(err, 0, "%s: %s (not done within the %u s deadline of a download)", url,
                           what, h->download_deadline);
  if (!h->downloading && appc_http_walk_expired(h))
    return appc_error_make(err, 0, "%s: %s (discovery not done within the %u s deadline)", url,
                           what, h->deadline);
  if (!h->downloading && (get_expired(h) || total + 0.5 >= (double) h->deadline))
    return appc_error_make(err, 0, "%s: %s (not done within the %u s deadline)", url, what,
                           h->deadline);
  if (h->downloading && got > 0)
    return appc_error_make(err, 0, "%s: %s (less than %u bytes/s for %u s)", url, what, h->min_rate,
                           h->timeout);
  return appc_error_make(err, 0, "%s: %s (no data for %u s)", url, what, h->timeout);
}

/* Whether a transfer that failed with RC was receiving response headers:
 * the request had gone (pre-transfer done), and no blank line ended them. */
static bool failed_in_headers(struct appc_http *h, CURLcode rc)
{
  curl_off_t pretransfer = 0;

  return rc == CURLE_OUT_OF_MEMORY && !h->headers_done &&
         curl_easy_getinfo(h->curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) == CURLE_OK &&
         pretransfer > 0;
}

/* "https://x/y: <what went wrong>" for a transfer that got no response. */
/* Why libcurl's URL parser refuses URL, in its words. */
static const char *url_problem(const char *url)
{
  CURLU *u = curl_url();
  CURLUcode rc = u != NULL ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;

  curl_url_cleanup(u);
  return curl_url_strerror(rc);
}

/* URL, which libcurl cannot take, said wrong. */
static int malformed_url(const char *url, appc_error_t *err)
{
  /* A discovery page's meta tag URL is used as it stands (as the
   * reference does): a relative one ends here. */
  if (strstr(url, "://") == NULL)
    return appc_error_make(err, 0, "%s: not an absolute URL (a scheme and a host are needed)", url);
  return appc_error_make(err, 0, "%s: not a valid URL: %s", url, url_problem(url));
}

int appc_http_check_url(const char *url, appc_error_t *err)
{
  CURLU *u = curl_url();
  CURLUcode rc = u != NULL ? curl_url_set(u, CURLUPART_URL, url, 0) : CURLUE_OUT_OF_MEMORY;

  curl_url_cleanup(u);
  if (rc == CURLUE_OUT_OF_MEMORY)
    return appc_error_make(err, ENOMEM, "%s", url);
  return rc == CURLUE_OK ? 0 : malformed_url(url, err);
}

/* Where a transfer that failed with RC was redirected to, when libcurl
 * could not parse that target ("https://[::1/x", a port above 65535): the
 * Location of the last response, a redirect; else NULL.  libcurl leaves
 * CURLINFO_REDIRECT_URL unset then, and has counted the redirect it did
 * not follow (and a request it did not make, which -1 would name): the
 * response is the last that has a Location. */
static const char *malformed_redirect(struct appc_http *h, CURLcode rc)
{
  struct curl_header *hdr = NULL;
  long code = 0, redirects = 0;

  if (rc != CURLE_URL_MALFORMAT ||
      curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code / 100 != 3 ||
      curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_COUNT, &redirects) != CURLE_OK)
    return NULL;
  for (long i = redirects; i >= 0; i--)
    if (curl_easy_header(h->curl, "Location", 0, CURLH_HEADER, (int) i, &hdr) == CURLHE_OK)
      return hdr->value;
  return NULL;
}

/* Why libcurl refuses TARGET as a redirect from the last response's URL,
 * in its words: read as libcurl reads a Location (relative to that URL,
 * with spaces and other bytes percent-encoded). */
static const char *redirect_problem(struct appc_http *h, const char *target)
{
  char *base = NULL;
  CURLU *u = curl_url();
  CURLUcode rc = u != NULL ? CURLUE_OK : CURLUE_OUT_OF_MEMORY;

  if (rc == CURLUE_OK && curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &base) == CURLE_OK &&
      base != NULL)
    rc = curl_url_set(u, CURLUPART_URL, base, 0);
  if (rc == CURLUE_OK)
    rc = curl_url_set(u, CURLUPART_URL, target, CURLU_URLENCODE | CURLU_ALLOW_SPACE);
  curl_url_cleanup(u);
  if (rc != CURLUE_OK)
    return curl_url_strerror(rc);
  return h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(CURLE_URL_MALFORMAT);
}

/* Where a transfer of URL that failed with RC was redirected to, when the
 * failure is the refusal of that redirect's scheme; else NULL. */
static const char *refused_redirect(struct appc_http *h, CURLcode rc, const char *url)
{
  char *target = NULL;

  if (rc != CURLE_UNSUPPORTED_PROTOCOL)
    return NULL;
  if ((curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &target) != CURLE_OK || target == NULL) &&
      curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &target) != CURLE_OK)
    return NULL;
  return target != NULL && strcmp(target, url) != 0 ? target : NULL;
}

static int transfer_error(struct appc_http *h, CURLcode rc, const char *url, appc_error_t *err)
{
  if (rc == CURLE_ABORTED_BY_CALLBACK && appc_http_is_cancelled(h))
    return appc_error_make(err, ECANCELED, "%s", url);
  /* libcurl (7.88) fails a header line over its limit as out of memory. */
  if (failed_in_headers(h, rc))
    return appc_error_make(err, 0,
                           "%s: the server sent a header line longer than libcurl's limit of "
                           "%d bytes",
                           url, CURL_MAX_HTTP_HEADER);
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return timeout_error(h, rc, url, err);
  /* A redirect to what is no URL: named, as URL itself is fine. */
  const char *bad = malformed_redirect(h, rc);
  if (bad != NULL)
    return appc_error_make(err, 0, "%s: redirected to %.200s, which is not a valid URL: %s", url,
                           bad, redirect_problem(h, bad));
  if (rc == CURLE_URL_MALFORMAT)
    return malformed_url(url, err);
  /* Not the server's fault: no "use --cacert" hint (EKEYREJECTED) either. */
  if (rc == CURLE_SSL_CACERT_BADFILE)
    return appc_error_make(err, 0, "%s: the CA file %s could not be loaded: %s", url,
                           h->made_cacert != NULL ? h->made_cacert : "of the system",
                           h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc));
  if (rc == CURLE_PEER_FAILED_VERIFICATION)
    return appc_error_tag(err, EKEYREJECTED, "%s: TLS certificate not trusted: %s", url,
                          h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc));
  if (rc == CURLE_SSL_CONNECT_ERROR && !h->opts.allow_http)
    return appc_error_tag(err, EPROTONOSUPPORT,
                          "%s: TLS handshake failed: %s (the server may speak plain http, "
                          "which is not allowed)",
                          url, h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc));
  if (rc == CURLE_UNSUPPORTED_PROTOCOL && strncmp(url, "http://", 7) == 0 && !h->opts.allow_http)
    return appc_error_tag(err, EPROTONOSUPPORT, "%s: plain http is not allowed", url);
  /* A redirect to a scheme the policy refuses: name where it went, and
   * the rule (only a plain http one may be allowed). */
  const char *target = refused_redirect(h, rc, url);
  if (target != NULL && strncasecmp(target, "http://", 7) == 0 && !h->opts.allow_http)
    return appc_error_tag(err, EPROTONOSUPPORT,
                          "%s: redirected to %s, and a redirect from https to plain http is "
                          "not followed",
                          url, target);
  if (target != NULL)
    return appc_error_make(err, 0,
                           "%s: redirected to %.200s, whose scheme is never followed (only "
                           "https, and http with --insecure-options=http)",
                           url, target);
  /* tagged: a caller trying another scheme tells "nothing listens" by it */
  return appc_error_tag(err, rc == CURLE_COULDNT_CONNECT ? ECONNREFUSED : 0, "%s: %s", url,
                        h->errbuf[0] != '\0' ? h->errbuf : curl_easy_strerror(rc));
}

/* ---- pages (discovery) ------------------------------------------------- */

/* An error page is read only this far: its status is what counts, and a
 * server that streams one without end must not hold the download, nor a
 * 404 over a page's size end a discovery walk. */
#define ERROR_PAGE_MAX (64 * 1024)

struct page_sink {
  struct appc_http_page *page;
  size_t max;
  bool too_big;
  CURL *cut_errors; /* for a page (not a registry's request): cut error pages */
  bool error_cut;   /* an error page was cut at ERROR_PAGE_MAX */
};

static size_t page_write(char *data, size_t size, size_t nmemb, void *userdata)
{
  struct page_sink *s = userdata;
  size_t n = size * nmemb;
  long code = 0;

  if (s->cut_errors != NULL && s->page->len + n > ERROR_PAGE_MAX &&
      curl_easy_getinfo(s->cut_errors, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code != 200) {
    s->error_cut = true;
    return 0;
  }
  if (s->page->len + n > s->max) {
    s->too_big = true;
    return 0;
  }
  if (APPC_ARRAY_EXTEND(s->page->body, s->page->len, n + 1) < 0)
    return 0;
  memcpy(s->page->body + s->page->len, data, n);
  s->page->len += n;
  s->page->body[s->page->len] = '\0';
  return n;
}

void appc_http_page_clear(struct appc_http_page *p)
{
  free(p->body);
  for (size_t i = 0; i < p->n_links; i++)
    free(p->links[i]);
  free(p->links);
  free(p->effective_url);
  free(p->content_type);
  memset(p, 0, sizeof *p);
}

static int collect_links(struct appc_http *h, struct appc_http_page *p)
{
  struct curl_header *hdr;
  size_t count = 0;

  if (curl_easy_header(h->curl, "Link", 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
    return 0;
  count = hdr->amount;
  p->links = calloc(count, sizeof *p->links);
  if (p->links == NULL)
    return -1;
  for (size_t i = 0; i < count; i++) {
    if (curl_easy_header(h->curl, "Link", i, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
      break;
    p->links[p->n_links] = strdup(hdr->value);
    if (p->links[p->n_links] == NULL)
      return -1;
    p->n_links++;
  }
  return 0;
}

/* A copy of the URL the last request ended at (after its redirects), else
 * of URL; NULL without memory. */
static char *effective_url(struct appc_http *h, const char *url)
{
  char *eff = NULL;

  if (curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK || eff == NULL)
    eff = (char *) url;
  return strdup(eff);
}

static CURLcode perform_page(struct appc_http *h, const char *url, struct page_sink *sink,
                             bool with_auth, bool decode, const struct appc_auth_entry **used)
{
  struct progress_ctx pc = {.h = h};
  CURLcode rc;

  setup_request(h, url, false);
  /* "": every encoding libcurl decodes; page_write sees (and counts) the
   * decoded bytes, so a small gzip bomb stops at the page's limit. */
  if (decode)
    curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, page_write);
  curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, sink);
  curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &pc);
  *used = with_auth ? apply_auth(h, url) : NULL;
  free(sink->page->body);
  sink->page->body = NULL;
  sink->page->len = 0;
  sink->cut_errors = h->curl;
  sink->error_cut = false;
  rc = curl_easy_perform(h->curl);
  curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, NULL);
  /* A cut error page is an answer: its status. */
  return rc == CURLE_WRITE_ERROR && sink->error_cut ? CURLE_OK : rc;
}

/* Did the transfer that failed with RC get no (whole) response to a
 * request it had sent (appc_http_page.no_answer)? */
static bool no_answer(struct appc_http *h, CURLcode rc)
{
  curl_off_t pretransfer = 0;
  double total = 0;

  if (curl_easy_getinfo(h->curl, CURLINFO_PRETRANSFER_TIME_T, &pretransfer) != CURLE_OK ||
      pretransfer <= 0)
    return false; /* the host was not reached, or TLS failed */
  switch (rc) {
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_BAD_CONTENT_ENCODING:
    return true;
  case CURLE_OPERATION_TIMEDOUT:
    /* a stall, not a deadline (the page's, the walk's or the operation's) */
    curl_easy_getinfo(h->curl, CURLINFO_TOTAL_TIME, &total);
    return !appc_http_walk_expired(h) && !get_expired(h) && !appc_http_operation_expired(h) &&
           total + 0.5 < (double) h->deadline;
  default:
    return false;
  }
}

int appc_http_page_get(struct appc_http *h, const char *url, size_t max, bool decode,
                       struct appc_http_page *out, appc_error_t *err)
{
  struct page_sink sink = {.page = out, .max = max};
  const struct appc_auth_entry *used = NULL;
  char *eff = NULL;
  CURLcode rc;

  memset(out, 0, sizeof *out);
  if (ensure_auth(h, err) < 0)
    return -1;
  rc = perform_page(h, url, &sink, false, decode, &used);
  if (rc == CURLE_OK)
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
  if (rc == CURLE_OK && out->status == 401) {
    /* Ask again, at the URL that refused, with the host's credentials. */
    cleanup_free char *refused = effective_url(h, url);
    if (refused != NULL && find_auth(h, refused) == NULL) {
      out->auth = auth_gap(h, refused);
    } else if (refused != NULL) {
      rc = perform_page(h, refused, &sink, true, decode, &used);
      appc_http_log(h, "%s: 401 Unauthorized, sent the credentials of %s", refused,
                    used != NULL ? used->file : "(none)");
      if (rc == CURLE_OK)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
      if (rc == CURLE_OK && out->status == 401)
        out->auth = APPC_HTTP_AUTH_REFUSED;
    }
  }
  if (sink.too_big) {
    appc_http_page_clear(out);
    return appc_error_make(err, 0, "%s: response larger than %zu bytes", url, max);
  }
  if (rc != CURLE_OK) {
    appc_http_page_clear(out);
    out->no_answer = no_answer(h, rc);
    out->path_refused = rc == CURLE_TOO_MANY_REDIRECTS || refused_redirect(h, rc, url) != NULL ||
                        malformed_redirect(h, rc) != NULL;
    return transfer_error(h, rc, url, err);
  }
  if (curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL)
    out->effective_url = strdup(eff);
  char *type = NULL;
  if (curl_easy_getinfo(h->curl, CURLINFO_CONTENT_TYPE, &type) == CURLE_OK && type != NULL &&
      (out->content_type = strdup(type)) == NULL) {
    appc_http_page_clear(out);
    return appc_error_make(err, ENOMEM, "%s", url);
  }
  if (collect_links(h, out) < 0) {
    appc_http_page_clear(out);
    return appc_error_make(err, ENOMEM, "%s", url);
  }
  return 0;
}

static const char *status_text(long status)
{
  switch (status) {
  case 301:
  case 302:
  case 303:
  case 307:
  case 308:
    return "redirect";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 410:
    return "Gone";
  case 416:
    return "Range Not Satisfiable";
  case 429:
    return "Too Many Requests";
  case 500:
    return "Internal Server Error";
  case 502:
    return "Bad Gateway";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Timeout";
  default:
    return "unexpected status";
  }
}

/* URL answered STATUS; AUTH: what became of a 401 (URL is then the one
 * that answered it, after redirects: the credentials are its host's). */
static int status_error(const char *url, long status, enum appc_http_auth auth, appc_error_t *err)
{
  if (auth == APPC_HTTP_AUTH_REFUSED)
    return appc_error_make(err, 0, "%s: 401 Unauthorized: %s", url, appc_http_auth_problem(auth));
  if (auth != APPC_HTTP_AUTH_NONE)
    return appc_error_make(err, 0, "%s: 401 Unauthorized, and %s (docs/discovery.md)", url,
                           appc_http_auth_problem(auth));
  return appc_error_make(err, 0, "%s: %ld %s", url, status, status_text(status));
}

static bool transient_status(long status);
static bool backoff(struct appc_http *h, unsigned seconds);

/* Whether a retry after a backoff of SECONDS would start before the
 * get's deadline and the operation's. */
static bool get_time_left(const struct appc_http *h, unsigned seconds)
{
  return (h->get_end == 0 || appc_monotonic_ms() + (int64_t) seconds * 1000 + 500 < h->get_end) &&
         operation_time_left(h, seconds);
}

/* The last attempt's failure E, when a deadline leaves no time to retry
 * it after a backoff of SECONDS: its error says which. */
static int no_time_to_retry(const struct appc_http *h, unsigned seconds, appc_error_t *e,
                            appc_error_t *err)
{
  if (!operation_time_left(h, seconds))
    appc_error_tag(err, ETIMEDOUT, "%s (no time left to retry within the %u s deadline of %s)",
                   (*e)->msg, h->operation_deadline, h->operation_what);
  else
    appc_error_tag(err, (*e)->errnum, "%s (no time left to retry within the %u s deadline)",
                   (*e)->msg, h->deadline);
  appc_error_release(e);
  return -1;
}

/* The last attempt's answer, when the deadline leaves no time to retry
 * it after a backoff of SECONDS: its error says so. */
static int out_of_time(const struct appc_http *h, unsigned seconds, int r, appc_error_t *e,
                       appc_error_t *err)
{
  return r == 0 ? 0 : no_time_to_retry(h, seconds, e, err);
}

static int get_page_attempts(struct appc_http *h, const char *url, size_t max,
                             struct appc_http_page *page, appc_error_t *err)
{
  for (unsigned attempt = 0;; attempt++) {
    appc_error_t e = NULL;
    int r = appc_http_page_get(h, url, max, false, page, &e);
    bool transient = r < 0 ? page->no_answer : transient_status(page->status);

    if (!transient || attempt >= h->opts.retries || appc_http_is_cancelled(h)) {
      *err = e;
      return r;
    }
    if (!get_time_left(h, 1u << attempt))
      return out_of_time(h, 1u << attempt, r, &e, err);
    appc_http_log(h, "%s: %s (attempt %u of %u; retrying in %u s)", url,
                  r < 0 ? e->msg : "a transient answer", attempt + 1, h->opts.retries + 1,
                  1u << attempt);
    appc_error_release(&e);
    if (r == 0)
      appc_http_page_clear(page);
    if (!backoff(h, 1u << attempt))
      return appc_error_make(err, ECANCELED, "%s", url);
  }
}

/* A small document (a signature, a key, an index) retried as a download is
 * on a transient answer or none, the opts' retries times.  All attempts
 * share one deadline (its backoffs included), as the pages of a walk do: a
 * server that accepts and never answers holds it no longer than that. */
static int get_page_retried(struct appc_http *h, const char *url, size_t max,
                            struct appc_http_page *page, appc_error_t *err)
{
  int r;

  h->get_end = appc_monotonic_ms() + (int64_t) h->deadline * 1000;
  r = get_page_attempts(h, url, max, page, err);
  h->get_end = 0;
  return r;
}

int appc_http_get(struct appc_http *h, const char *url, size_t max, char **body, size_t *len,
                  long *status, appc_error_t *err)
{
  struct appc_http_page page;

  if (status != NULL)
    *status = 0;
  if (get_page_retried(h, url, max, &page, err) < 0)
    return -1;
  if (status != NULL)
    *status = page.status;
  if (page.status != 200) {
    status_error(page.auth != APPC_HTTP_AUTH_NONE && page.effective_url != NULL ? page.effective_url
                                                                                : url,
                 page.status, page.auth, err);
    appc_http_page_clear(&page);
    return -1;
  }
  *body = steal_pointer(&page.body);
  if (*body == NULL)
    *body = strdup("");
  *len = page.len;
  appc_http_page_clear(&page);
  return *body != NULL ? 0 : appc_error_make(err, ENOMEM, "%s", url);
}

/* ---- requests with headers (registries) -------------------------------- */

/* Headers kept of one response: a hostile server's thousands are not. */
#define MAX_RESPONSE_HEADERS 256

void appc_http_response_clear(struct appc_http_response *r)
{
  free(r->body);
  for (size_t i = 0; i < r->n_headers; i++)
    free(r->headers[i]);
  free(r->headers);
  free(r->effective_url);
  memset(r, 0, sizeof *r);
}

const char *appc_http_response_header(const struct appc_http_response *r, const char *name)
{
  size_t n = strlen(name);

  for (size_t i = 0; i < r->n_headers; i++)
    if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
      return r->headers[i] + n + 2;
  return NULL;
}

static int collect_headers(struct appc_http *h, struct appc_http_response *r)
{
  struct curl_header *hdr = NULL;

  while (r->n_headers < MAX_RESPONSE_HEADERS &&
         (hdr = curl_easy_nextheader(h->curl, CURLH_HEADER, -1, hdr)) != NULL) {
    char *line = NULL;
    if (APPC_ARRAY_EXTEND(r->headers, r->n_headers, 1) < 0 ||
        asprintf(&line, "%s: %s", hdr->name, hdr->value) < 0)
      return -1;
    r->headers[r->n_headers++] = line;
  }
  return 0;
}

static struct curl_slist *header_list(const char *const *headers, bool *oom)
{
  struct curl_slist *list = NULL;

  *oom = false;
  for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
    struct curl_slist *next = curl_slist_append(list, headers[i]);
    if (next == NULL) {
      curl_slist_free_all(list);
      *oom = true;
      return NULL;
    }
    list = next;
  }
  return list;
}

int appc_http_request(struct appc_http *h, const char *method, const char *url,
                      const char *const *headers, size_t max, struct appc_http_response *out,
                      appc_error_t *err)
{
  struct appc_http_page page = {0};
  struct page_sink sink = {.page = &page, .max = max};
  struct progress_ctx pc = {.h = h};
  struct curl_slist *list;
  char *eff = NULL;
  bool oom;
  CURLcode rc;

  memset(out, 0, sizeof *out);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
    return appc_error_tag(err, EINVAL, "%s: method %s: only GET and HEAD are made", url, method);
  list = header_list(headers, &oom);
  if (oom)
    return appc_error_make(err, ENOMEM, "%s", url);
  setup_request(h, url, false);
  if (strcmp(method, "HEAD") == 0)
    curl_easy_setopt(h->curl, CURLOPT_NOBODY, 1L);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, page_write);
  curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &pc);
  rc = curl_easy_perform(h->curl);
  curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, NULL);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
  curl_slist_free_all(list);
  if (sink.too_big) {
    appc_http_page_clear(&page);
    return appc_error_make(err, 0, "%s: response larger than %zu bytes", url, max);
  }
  if (rc != CURLE_OK) {
    appc_http_page_clear(&page);
    return transfer_error(h, rc, url, err);
  }
  curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &out->status);
  out->body = steal_pointer(&page.body);
  out->len = page.len;
  appc_http_page_clear(&page);
  if (out->body == NULL)
    out->body = strdup("");
  if (curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL)
    out->effective_url = strdup(eff);
  if (out->body == NULL || (eff != NULL && out->effective_url == NULL) ||
      collect_headers(h, out) < 0) {
    appc_http_response_clear(out);
    return appc_error_make(err, ENOMEM, "%s", url);
  }
  return 0;
}

/* "Basic BASE64(user:password)" */
static char *basic_authorization(const char *user, const char *password)
{
  cleanup_free char *plain = NULL;
  char *out;
  int n;

  if ((n = asprintf(&plain, "%s:%s", user, password)) < 0)
    return NULL;
  out = malloc(6 + 4 * ((size_t) n / 3 + 1) + 1);
  if (out == NULL)
    return NULL;
  memcpy(out, "Basic ", 6);
  EVP_EncodeBlock((unsigned char *) out + 6, (const unsigned char *) plain, n);
  return out;
}

int appc_http_registry_credentials(struct appc_http *h, const char *host, char **authorization,
                                   appc_error_t *err)
{
  const char *colon = strrchr(host, ':');
  cleanup_free char *name = strndup(host, colon != NULL ? (size_t) (colon - host) : strlen(host));
  const struct appc_auth_entry *e;

  *authorization = NULL;
  if (name == NULL)
    return appc_error_make(err, ENOMEM, "%s", host);
  if (ensure_auth(h, err) < 0)
    return -1;
  e = appc_auth_find_registry(&h->auth, name, colon != NULL ? host : NULL);
  if (e == NULL)
    return 0;
  if (e->type == APPC_AUTH_BASIC)
    *authorization = basic_authorization(e->user, e->password);
  else if (asprintf(authorization, "Bearer %s", e->token) < 0)
    *authorization = NULL;
  if (*authorization == NULL)
    return appc_error_make(err, ENOMEM, "%s", host);
  appc_http_log(h, "%s: the credentials of %s", host, e->file);
  return 1;
}

/* ---- downloads --------------------------------------------------------- */

struct download_sink {
  struct appc_http *h;
  struct appc_http_download *d;
  uint64_t offset; /* where the next byte goes */
  bool started;    /* the first body byte of this attempt has been seen */
  bool restarted;  /* the server ignored the range: starting from 0 */
  bool too_big;
  bool bad_range;       /* a 206 of another range than the one asked for */
  uint64_t error_bytes; /* of an error page, discarded */
  bool error_cut;       /* ... and cut short: its status is the answer */
  int write_errno;
};

void appc_http_download_clear(struct appc_http_download *d)
{
  free(d->new_etag);
  free(d->new_last_modified);
  free(d->effective_url);
  free(d->new_validator);
  d->new_etag = d->new_last_modified = d->effective_url = d->new_validator = NULL;
}

static char *header_value(struct appc_http *h, const char *name)
{
  struct curl_header *hdr;

  if (curl_easy_header(h->curl, name, 0, CURLH_HEADER, -1, &hdr) != CURLHE_OK)
    return NULL;
  return strdup(hdr->value);
}

/* Real validators are a few dozen bytes; the records that keep one (a
 * resume, the cache) must stay readable. */
#define VALIDATOR_MAX 1024

static char *validator_header(struct appc_http *h, const char *name)
{
  char *v = header_value(h, name);

  if (v != NULL && strlen(v) > VALIDATOR_MAX) {
    free(v);
    return NULL;
  }
  return v;
}

/* What If-Range may carry (RFC 9110, 13.1.5): never a weak ETag, and a
 * date only without any ETag, and only a strong one (8.8.2.2): a file
 * changed within the second of its Last-Modified would be spliced. */
static char *resume_validator(struct appc_http *h, const char *etag, const char *modified)
{
  if (etag != NULL)
    return strncmp(etag, "W/", 2) != 0 ? strdup(etag) : NULL;
  if (modified == NULL)
    return NULL;
  cleanup_free char *date = header_value(h, "Date");
  time_t changed = curl_getdate(modified, NULL);
  time_t answered = date != NULL ? curl_getdate(date, NULL) : -1;
  return changed >= 0 && answered >= 0 && answered - changed >= 1 ? strdup(modified) : NULL;
}

static void remember_validators(struct appc_http *h, struct appc_http_download *d)
{
  char *etag = validator_header(h, "ETag");
  char *modified = validator_header(h, "Last-Modified");

  free(d->new_etag);
  free(d->new_last_modified);
  free(d->new_validator);
  d->new_etag = etag;
  d->new_last_modified = modified;
  d->new_validator = resume_validator(h, etag, modified);
}

/* Whether a 206 answer holds the bytes asked for: "bytes FROM-LAST/..."
 * starting where the partial file ends.  Another range spliced in at that
 * offset would corrupt the file.  FROM 0 is a request without Range, for
 * the whole body, which no 206 answers. */
static bool range_fits(struct appc_http *h, uint64_t from)
{
  cleanup_free char *range = header_value(h, "Content-Range");
  unsigned long long first = 0, last = 0;
  int end = 0;

  if (range == NULL || sscanf(range, "bytes %llu-%llu%n", &first, &last, &end) != 2 || end == 0)
    return false;
  return from != 0 && first == from && last >= first;
}

/* The most bytes D may have: its declared size, else the client's cap
 * (a declared size above the cap was refused before any request:
 * refuse_declared_size). */
static uint64_t limit_of(const struct appc_http *h, const struct appc_http_download *d)
{
  return d->max_size != 0 ? d->max_size : h->download_max;
}

/* A download declared larger than the client's cap is refused before it
 * begins: whoever declares the size (a registry's manifest pulled by tag,
 * an unverified image's dependency) need not be the one the user trusts
 * with that much of the disk. */
static int refuse_declared_size(const struct appc_http *h, const struct appc_http_download *d,
                                appc_error_t *err)
{
  if (d->max_size <= h->download_max)
    return 0;
  return appc_error_tag(
      err, EMSGSIZE, "%s: declared to be %llu bytes, more than %llu, the most a download may be",
      d->url, (unsigned long long) d->max_size, (unsigned long long) h->download_max);
}

static size_t download_write(char *data, size_t size, size_t nmemb, void *userdata)
{
  struct download_sink *s = userdata;
  size_t n = size * nmemb;
  long code = 0;

  curl_easy_getinfo(s->h->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200 && code != 206) { /* an error page: discarded */
    s->error_bytes += n;
    if (s->error_bytes <= ERROR_PAGE_MAX)
      return n;
    s->error_cut = true;
    return 0;
  }
  if (!s->started) {
    s->started = true;
    if (code == 206 && !range_fits(s->h, s->offset)) {
      s->bad_range = true;
      return 0;
    }
    if (code == 200 && s->offset != 0) {
      s->offset = 0;
      s->restarted = true;
      if (ftruncate(s->d->fd, 0) < 0) {
        s->write_errno = errno;
        return 0;
      }
    }
    if (s->d->started != NULL) {
      remember_validators(s->h, s->d);
      s->d->started(s->d->progress_data, s->d->new_validator, code == 200);
    }
  }
  if (s->offset + n > limit_of(s->h, s->d)) {
    s->too_big = true;
    return 0;
  }
  for (size_t done = 0; done < n;) {
    ssize_t w = pwrite(s->d->fd, data + done, n - done, (off_t) (s->offset + done));
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      s->write_errno = w < 0 ? errno : EIO;
      return 0;
    }
    done += (size_t) w;
  }
  s->offset += n;
  return n;
}

static int progress_cb(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
  struct progress_ctx *p = data;

  (void) ultotal;
  (void) ulnow;
  (void) dlnow;
  if (appc_http_is_cancelled(p->h))
    return 1;
  if (p->sink != NULL && p->sink->d->progress != NULL) {
    uint64_t total = 0;
    if (dltotal > 0)
      total = (uint64_t) dltotal + (p->sink->restarted ? 0 : p->sink->d->have);
    p->sink->d->progress(p->sink->d->progress_data, p->sink->offset, total);
  }
  return 0;
}

static bool transient_status(long status)
{
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504;
}

static bool transient_code(CURLcode rc)
{
  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_RECV_ERROR:
  case CURLE_SEND_ERROR:
  case CURLE_PARTIAL_FILE:
  case CURLE_GOT_NOTHING:
  case CURLE_HTTP2:
  case CURLE_HTTP2_STREAM:
  case CURLE_COULDNT_CONNECT:
    return true;
  default:
    return false;
  }
}

/* One attempt.  Returns 0 with d->status set when a final answer came
 * (200, 206, 304), 1 when it is worth trying again, -1 on a hard failure. */
static int download_once(struct appc_http *h, struct appc_http_download *d, const char *url,
                         bool with_auth, long *status_out, const struct appc_auth_entry **used,
                         appc_error_t *err)
{
  struct download_sink sink = {.h = h, .d = d, .offset = d->have};
  struct progress_ctx pc = {.h = h, .sink = &sink};
  struct curl_slist *headers = NULL;
  cleanup_free char *if_range = NULL;
  char range[32];
  cleanup_free char *if_none = NULL;
  cleanup_free char *if_mod = NULL;
  long status = 0;
  CURLcode rc;

  setup_request(h, url, true);
  curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, download_write);
  curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, &pc);
  const char *validator = d->validator != NULL ? d->validator : d->new_validator;
  /* Resuming without a validator could splice two versions of a file. */
  if (validator == NULL)
    d->have = 0;
  if (d->have > 0) {
    /* Not CURLOPT_RESUME_FROM: with it curl fails a 200 answer (a server
     * that ignores the range, or If-Range finding the file changed) instead
     * of letting the write callback start the file over. */
    snprintf(range, sizeof range, "%llu-", (unsigned long long) d->have);
    curl_easy_setopt(h->curl, CURLOPT_RANGE, range);
    if (asprintf(&if_range, "If-Range: %s", validator) >= 0)
      headers = curl_slist_append(headers, if_range);
  } else {
    if (d->etag != NULL && asprintf(&if_none, "If-None-Match: %s", d->etag) >= 0)
      headers = curl_slist_append(headers, if_none);
    if (d->last_modified != NULL &&
        asprintf(&if_mod, "If-Modified-Since: %s", d->last_modified) >= 0)
      headers = curl_slist_append(headers, if_mod);
  }
  for (size_t i = 0; d->headers != NULL && d->headers[i] != NULL; i++)
    headers = curl_slist_append(headers, d->headers[i]);
  if (ftruncate(d->fd, (off_t) d->have) < 0) {
    curl_slist_free_all(headers);
    return appc_error_make(err, errno, "%s: download file", url);
  }
  sink.offset = d->have;
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, headers);
  *used = with_auth ? apply_auth(h, url) : NULL;
  rc = curl_easy_perform(h->curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, NULL);
  *status_out = d->status = status;
  curl_easy_setopt(h->curl, CURLOPT_XFERINFODATA, NULL);
  /* Keep what arrived, and what it is a part of: a retry resumes there. */
  if (sink.started && (status == 200 || status == 206)) {
    d->have = sink.offset;
    remember_validators(h, d);
  }
  d->oversized = sink.too_big;
  if (sink.too_big && d->max_size != 0)
    return appc_error_make(err, 0, "%s: larger than the %llu bytes expected", url,
                           (unsigned long long) d->max_size);
  if (sink.too_big)
    return appc_error_tag(err, EMSGSIZE,
                          "%s: larger than %llu bytes, the most a download of no declared size "
                          "may be",
                          url, (unsigned long long) h->download_max);
  if (sink.write_errno != 0)
    return appc_error_make(err, sink.write_errno, "%s: writing the download", url);
  if (sink.bad_range) {
    /* Nothing was written; the partial file cannot be trusted to resume
     * from this server: start over. */
    cleanup_free char *got = header_value(h, "Content-Range");
    if (d->have == 0) /* no Range was sent: a part is no answer */
      appc_error_make(err, 0,
                      "%s: 206 Partial Content for \"%s\" to a request for the whole body "
                      "(no Range was sent)",
                      url, got != NULL ? got : "(no Content-Range)");
    else
      appc_error_make(err, 0, "%s: 206 Partial Content for \"%s\", but bytes %llu- were asked", url,
                      got != NULL ? got : "(no Content-Range)", (unsigned long long) d->have);
    d->have = 0;
    return 1;
  }
  if (sink.error_cut) {
    status_error(url, status, APPC_HTTP_AUTH_NONE, err);
    return transient_status(status) ? 1 : -1;
  }
  if (rc != CURLE_OK) {
    transfer_error(h, rc, url, err);
    return transient_code(rc) ? 1 : -1;
  }
  if (status == 200 || status == 206 || status == 304) {
    char *eff = NULL;
    d->status = status;
    d->size = status == 304 ? 0 : sink.offset;
    remember_validators(h, d);
    free(d->effective_url);
    d->effective_url = NULL;
    if (curl_easy_getinfo(h->curl, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff != NULL)
      d->effective_url = strdup(eff);
    return 0;
  }
  if (status == 416 && d->have > 0) {
    /* The partial file no longer fits what the server has: start over. */
    d->have = 0;
    appc_error_make(err, 0, "%s: 416 Range Not Satisfiable", url);
    return 1;
  }
  status_error(url, status, APPC_HTTP_AUTH_NONE, err);
  return transient_status(status) ? 1 : -1;
}

/* Sleep SECONDS unless cancelled meanwhile. */
static bool backoff(struct appc_http *h, unsigned seconds)
{
  for (unsigned i = 0; i < seconds * 10; i++) {
    if (appc_http_is_cancelled(h))
      return false;
    nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
  }
  return !appc_http_is_cancelled(h);
}

int appc_http_download(struct appc_http *h, struct appc_http_download *d, appc_error_t *err)
{
  const struct appc_auth_entry *used = NULL;
  bool with_auth = false;
  unsigned attempt = 0;
  /* Where a 401 came from, once one did: asked from then on. */
  cleanup_free char *refused = NULL;

  if (refuse_declared_size(h, d, err) < 0 || ensure_auth(h, err) < 0)
    return -1;
  h->download_end = appc_monotonic_ms() + (int64_t) h->download_deadline * 1000;
  for (;;) {
    appc_error_t e = NULL;
    long status = 0;
    const char *url = refused != NULL ? refused : d->url;
    int r = download_once(h, d, url, with_auth, &status, &used, &e);

    if (r == 0)
      return 0;
    if (r < 0 && status == 401 && d->headers != NULL) {
      *err = e;
      return -1;
    }
    if (r < 0 && status == 401 && !with_auth) {
      appc_error_release(&e);
      /* Asked again where it was refused (a redirect may have led to
       * another host), with the credentials of that host. */
      if ((refused = effective_url(h, url)) == NULL)
        return appc_error_make(err, ENOMEM, "%s", url);
      if (find_auth(h, refused) == NULL)
        return status_error(refused, status, auth_gap(h, refused), err);
      with_auth = true;
      /* the answer with credentials decides, as any answer does: a 404
       * now is final, not a failure to retry */
      if ((r = download_once(h, d, refused, true, &status, &used, &e)) == 0)
        return 0;
      if (status == 401) {
        appc_error_release(&e);
        return status_error(refused, status,
                            used != NULL ? APPC_HTTP_AUTH_REFUSED : APPC_HTTP_AUTH_MISSING, err);
      }
    }
    /* The deadlines hold for the retries too: no attempt after them. */
    if (r < 0 || attempt >= h->opts.retries || (e != NULL && e->errnum == ECANCELED) ||
        download_expired(h) || appc_http_operation_expired(h)) {
      *err = e;
      return -1;
    }
    if (!operation_time_left(h, 1u << attempt))
      return no_time_to_retry(h, 1u << attempt, &e, err);
    attempt++;
    appc_http_log(h, "%s (attempt %u of %u; retrying in %u s, from byte %llu)", e->msg, attempt,
                  h->opts.retries + 1, 1u << (attempt - 1), (unsigned long long) d->have);
    appc_error_release(&e);
    if (!backoff(h, 1u << (attempt - 1)))
      return appc_error_make(err, ECANCELED, "%s", d->url);
  }
}
