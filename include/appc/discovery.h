/* SPDX-License-Identifier: Apache-2.0 */
/* libappc discovery: an HTTPS client for image names (spec/discovery.md).
 *
 * An image name such as "example.com/app" is resolved to the URLs of its
 * ACI, its signature and its publisher's public keys by fetching
 * https://example.com/app?ac-discovery=1 and reading
 *
 *   <meta name="ac-discovery" content="PREFIX URL-TEMPLATE">
 *   <meta name="ac-discovery-pubkeys" content="PREFIX URL">
 *
 * from the HTML, or the equivalent HTTP headers (docs/discovery.md)
 *
 *   Link: <URL-TEMPLATE>; rel="ac-discovery"; prefix="PREFIX"
 *   Link: <URL>; rel="ac-discovery-pubkeys"; prefix="PREFIX"
 *
 * walking up the name ("a/b/c", "a/b", "a") until something matches.
 * Everything goes through one struct appc_http, which holds the transport
 * policy (CA certificates, insecure options, port, credentials, timeouts).
 * Nothing here prints or exits; what a caller may want to show with --debug
 * is handed to the log callback.
 */
#ifndef APPC_DISCOVERY_H
#define APPC_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <appc/callbacks.h>
#include <appc/error.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

struct appc_kv_list;

#define APPC_HTTP_OPTIONS_VERSION 3
struct appc_http_options {
  unsigned version;                /* 0, or APPC_HTTP_OPTIONS_VERSION (<appc/appc.h>) */
  const char *cacert;              /* PEM file of CAs trusted besides the system's; may be NULL */
  const char *ca_dir;              /* the system's CAs: a hashed directory (openssl rehash);
                                      NULL for libcurl's default */
  bool insecure_tls;               /* do not verify certificates (--insecure-options=tls) */
  bool allow_http;                 /* allow plain http:// (--insecure-options=http) */
  unsigned port;                   /* port of discovery URLs; 0 for the scheme's */
  const char *auth_dir;            /* directory of credential files (*.json), may be NULL */
  unsigned timeout;                /* seconds: connect timeout, and how long a transfer may
                                      stall (no byte received) before it fails; 0 = 30 */
  unsigned deadline;               /* seconds a discovery walk (its pages together),
                                      signature or key may take in all, redirects
                                      included; 0 = 60 */
  unsigned min_rate;               /* bytes/s a download must average over any `timeout`
                                      seconds, else it has stalled; 0 = 1024 */
  unsigned retries;                /* extra attempts on transient failures; 0 = none */
  const struct appc_callbacks *cb; /* cancel and log; may be NULL */
  /* (version 2) A download whose size nobody declared (its max_size 0)
   * stops beyond DOWNLOAD_MAX bytes (0: APPC_HTTP_DOWNLOAD_MAX), one
   * declared larger is refused before any request (whoever declares a
   * size, a registry's manifest or an unverified image, may lie), and any
   * download ends after DOWNLOAD_DEADLINE seconds in all (0: 24 hours), so
   * that a server sending an endless body faster than min_rate ends too. */
  uint64_t download_max;
  unsigned download_deadline;
  /* (version 3) Seconds an operation of many requests (the fetch of an
   * image: appc_http_operation_begin) may take in all; 0: 24 hours, or
   * download_deadline when that is longer. */
  unsigned operation_deadline;
};
#define APPC_HTTP_DOWNLOAD_MAX (UINT64_C(64) << 30)

struct appc_http;

/* Create a client.  Credential files are read before the first request
 * (a broken one then fails it, naming the file), not when no request is
 * made. */
int appc_http_new(const struct appc_http_options *opts, struct appc_http **out, appc_error_t *err);
/* Another client, made with the options H was made with, for another
 * thread: a client serves one request at a time.  CB, when not NULL,
 * replaces H's callbacks (a caller's own cancel: the failure of another
 * thread's request). */
int appc_http_dup(const struct appc_http *h, const struct appc_callbacks *cb,
                  struct appc_http **out, appc_error_t *err);
void appc_http_free(struct appc_http *h);

/* An operation of many requests begins: the fetch of one image, its
 * discovery, the signature and download of every endpoint it tries, their
 * retries and its dependencies.  Every request H makes until the matching
 * appc_http_operation_end ends within the client's operation_deadline,
 * counted from here: one under way when it passes is cut short, none is
 * retried past it, and the error (tagged ETIMEDOUT) says "WHAT not done
 * within its N s deadline".  WHAT must stay valid until then.  Calls
 * nest: an inner one (a dependency's fetch) shares the outer one's
 * deadline. */
void appc_http_operation_begin(struct appc_http *h, const char *what);
void appc_http_operation_end(struct appc_http *h);
/* Whether the deadline of the operation under way has passed (false when
 * there is none): a caller stops starting requests for it. */
bool appc_http_operation_expired(const struct appc_http *h);
/* The error of a step of the operation under way that its deadline cut
 * short: FMT formatted, then "(WHAT not done within its N s deadline)",
 * tagged ETIMEDOUT as the requests' own; returns -1. */
int appc_http_operation_timeout(const struct appc_http *h, appc_error_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Whether H may use plain http (appc_http_options.allow_http). */
bool appc_http_allows_http(const struct appc_http *h);

/* Whether URL is one libcurl takes (absolute, well-formed); the error
 * says what is wrong with it, as a request to it would. */
int appc_http_check_url(const char *url, appc_error_t *err);

/* GET URL into memory, following redirects (at most 10, never from https
 * to http).  A body larger than MAX bytes fails.  Any status other than
 * 200 fails with an error naming URL and the status; *STATUS (may be NULL)
 * receives the final status, or 0 when no response arrived.  A transient
 * answer (408, 429, 5xx but 501) or none is retried as downloads are
 * (appc_http_options.retries, with a backoff of 1, 2, 4... s). */
int appc_http_get(struct appc_http *h, const char *url, size_t max, char **body, size_t *len,
                  long *status, appc_error_t *err);

/* A response, with its headers, for callers that speak a protocol over
 * HTTP (a registry's API: <appc/oci.h>). */
struct appc_http_response {
  long status;
  char *body; /* NUL-terminated, LEN bytes before the NUL */
  size_t len;
  char **headers; /* "Name: value" of the final response, in order */
  size_t n_headers;
  char *effective_url; /* after redirects */
  void *reserved[4];   /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_http_response_clear(struct appc_http_response *r);
/* The value of R's first header NAME (any case), or NULL. */
const char *appc_http_response_header(const struct appc_http_response *r, const char *name);

/* METHOD ("GET" or "HEAD") URL, with HEADERS ("Name: value", NULL-terminated;
 * may be NULL) added, redirects followed as appc_http_get does, a body of at
 * most MAX bytes kept.  No credentials are sent: a caller answers a 401
 * itself (appc_http_registry_credentials).  Returns 0 when a response
 * arrived, whatever its status; -1 when none did, the error naming URL. */
int appc_http_request(struct appc_http *h, const char *method, const char *url,
                      const char *const *headers, size_t max, struct appc_http_response *out,
                      appc_error_t *err);

/* The credentials auth.d holds for the Docker registry HOST ("host" or
 * "host:port"): rkt's dockerAuth files naming it first, then the others.
 * Returns 1 and the value of an Authorization header ("Basic ...", or
 * "Bearer ..." for an oauth token) in *AUTHORIZATION (free it), 0 when
 * there are none, -1 when auth.d cannot be read. */
int appc_http_registry_credentials(struct appc_http *h, const char *host, char **authorization,
                                   appc_error_t *err);

/* A conditional, resumable download. */
struct appc_http_download {
  const char *url;
  int fd;                    /* file written at offset `have` onwards */
  uint64_t have;             /* bytes already in fd from an earlier attempt */
  const char *validator;     /* ETag (or Last-Modified) of those bytes, for If-Range */
  const char *etag;          /* a cached copy's ETag: ask If-None-Match; may be NULL */
  const char *last_modified; /* a cached copy's Last-Modified: If-Modified-Since */
  uint64_t max_size;         /* refuse (and stop) beyond this many bytes; 0 = the client's
                                download_max, which a larger one may not pass (refused
                                with EMSGSIZE before any request) */
  /* progress: bytes now in fd, and the expected total (0 if unknown) */
  void (*progress)(void *data, uint64_t done, uint64_t total);
  void *progress_data;
  /* called when the first byte of a body arrives, with the validator of
   * what is being written (new_validator, below) and whether
   * the file restarts from 0: lets a caller record what a partial file is
   * a part of before a crash can leave it behind */
  void (*started)(void *data, const char *validator, bool restarted);

  /* results */
  long status;    /* 200, 206 (resumed) or 304 (not modified); after a failure,
                     the last status received (0: none) */
  uint64_t size;  /* bytes in fd when done */
  char *new_etag; /* from the response; free()d by appc_http_download_clear */
  char *new_last_modified;
  char *effective_url; /* after redirects */
  bool oversized;      /* failed for going beyond max_size */
  /* request headers added ("Name: value", NULL-terminated; may be NULL).
   * A download with its own headers is not retried with auth.d's
   * credentials on a 401: its caller authenticates (a registry's token). */
  const char *const *headers;
  /* what the partial file may be resumed against with If-Range (RFC 9110,
   * 13.1.5): the response's ETag unless weak; without an ETag, a
   * Last-Modified older than the response's Date; else NULL, and what
   * arrived cannot be resumed.  Validators over 1 KiB are not kept. */
  char *new_validator;
  void *reserved[2]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_http_download_clear(struct appc_http_download *d);

/* Run D: bytes land in D->fd from D->have on (the file is truncated to
 * D->have first, then to 0 if the server ignores the range).  Transient
 * failures (connection reset, timeouts, 408, 429, 5xx) are retried with
 * backoff, resuming from what arrived, up to the client's retry count.
 * A 304 answer to a conditional request leaves fd untouched. */
int appc_http_download(struct appc_http *h, struct appc_http_download *d, appc_error_t *err);

/* One rendered endpoint. */
struct appc_aci_endpoint {
  char *aci;
  char *asc;
  unsigned score;    /* how many given labels (and host os/arch) it uses */
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};

/* A failed step of a walk, kept for --debug. */
struct appc_discovery_attempt {
  char *prefix;
  char *message;
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};

struct appc_discovery {
  struct appc_aci_endpoint *endpoints;
  size_t n_endpoints;
  char **pubkeys;
  size_t n_pubkeys;
  struct appc_discovery_attempt *attempts;
  size_t n_attempts;
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_discovery_clear(struct appc_discovery *d);

enum {
  APPC_DISCOVER_ENDPOINTS = 1 << 0,
  APPC_DISCOVER_PUBKEYS = 1 << 1,
};

/* Discover NAME with LABELS (may be NULL).  The template variables are
 * {name}, every label as {LABEL}, {version} ("latest" when not given or empty),
 * {os} and {arch} (the host's, in appc spellings, when not given); a
 * template with a variable left over is dropped; every other one is kept,
 * in document order, each URL once, with its score (the number of given
 * labels it uses: fetch tries the best matches first).  The walk stops at the first prefix giving
 * endpoints, and at the first giving public keys, for what WHAT asks.  Finding nothing is an error
 * (listing the attempts).  A path that gets no answer (the connection
 * dropped or reset after the request, a stall) is an attempt like a 404,
 * and the walk goes on; a failure to reach the host, of TLS, the deadline
 * (shared by every page of the walk) or a cancellation ends it, as an
 * error.  Endpoints found with no public keys is not one. */
int appc_discover(struct appc_http *h, const char *name, const struct appc_kv_list *labels,
                  unsigned what, struct appc_discovery *out, appc_error_t *err);

/* Pieces, exposed for unit tests. */

/* Append to OUT the ac-discovery and ac-discovery-pubkeys entries of an
 * HTML document (meta tags anywhere, any case, either quote). */
struct appc_discovery_meta {
  char *rel; /* "ac-discovery" or "ac-discovery-pubkeys" */
  char *prefix;
  char *url;
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
struct appc_discovery_metas {
  struct appc_discovery_meta *v;
  size_t n;
};
void appc_discovery_metas_clear(struct appc_discovery_metas *m);
int appc_discovery_parse_html(const char *html, size_t len, struct appc_discovery_metas *out,
                              appc_error_t *err);
/* The same, of a document its server said is in CHARSET (the Content-Type
 * header's charset parameter; NULL: not said).  As browsers read a page
 * (HTML's encoding sniffing): a byte order mark wins, then CHARSET when
 * the HTML parser knows it, then the document's own <meta charset>, else
 * UTF-8 or what the parser guesses.  An unknown or malformed CHARSET is
 * ignored. */
int appc_discovery_parse_html_charset(const char *html, size_t len, const char *charset,
                                      struct appc_discovery_metas *out, appc_error_t *err);
/* Append the entries of one Link header value (RFC 8288: several links
 * separated by commas, parameters with quoted or bare values, a rel of
 * several space-separated types).  Malformed links are skipped. */
int appc_discovery_parse_link(const char *value, struct appc_discovery_metas *out,
                              appc_error_t *err);

/* Render TEMPLATE for NAME and LABELS (as appc_discover does) into *OUT_ACI
 * and *OUT_ASC.  Returns 1 and sets *SCORE (the number of labels used, given
 * ones and the os and arch defaults) on success, 0 when a variable is left over. */
int appc_discovery_render(const char *tmpl, const char *name, const struct appc_kv_list *labels,
                          char **out_aci, char **out_asc, unsigned *score, appc_error_t *err);

/* The host's os and arch in appc spellings ("linux", "amd64"). */
const char *appc_host_os(void);
const char *appc_host_arch(void);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
