/* SPDX-License-Identifier: Apache-2.0 */
/* discovery/: what the module's files share and nothing else uses. */
#ifndef APPC_DISCOVERY_INTERNAL_H
#define APPC_DISCOVERY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "appc/error.h"
#include "appc/discovery.h"

/* Credentials for one host, from DIR/auth.d (auth.c). */
enum appc_auth_type { APPC_AUTH_BASIC, APPC_AUTH_BEARER };
struct appc_auth_entry {
  char **domains;
  size_t n_domains;
  enum appc_auth_type type;
  char *user;
  char *password;
  char *token;
  char *file;    /* where it came from, for messages */
  bool registry; /* rkt's dockerAuth: for Docker registries only */
};
struct appc_auth_config {
  struct appc_auth_entry *v;
  size_t n;
};
int appc_auth_load(const char *dir, struct appc_auth_config *out, appc_error_t *err);
void appc_auth_clear(struct appc_auth_config *c);
/* The entry for HOST (a hostname, or "host:port" matching exactly), or NULL. */
const struct appc_auth_entry *appc_auth_find(const struct appc_auth_config *c, const char *host,
                                             const char *host_port);

/* The entry for the Docker registry HOST: a dockerAuth one naming it,
 * else any other naming it. */
const struct appc_auth_entry *appc_auth_find_registry(const struct appc_auth_config *c,
                                                      const char *host, const char *host_port);

/* What became of a 401 (appc_http_page.auth). */
enum appc_http_auth {
  APPC_HTTP_AUTH_NONE,     /* no 401 answered the last request */
  APPC_HTTP_AUTH_MISSING,  /* 401, and auth.d has no credentials for the host */
  APPC_HTTP_AUTH_WITHHELD, /* 401 over plain http: the host's credentials go over https only */
  APPC_HTTP_AUTH_REFUSED,  /* 401 although credentials were sent */
};

/* One discovery page: whatever status it had, its body and Link headers. */
struct appc_http_page {
  long status;
  char *body;
  size_t len;
  char **links; /* values of every Link header of the final response */
  size_t n_links;
  char *content_type;  /* the final response's Content-Type; NULL: none */
  char *effective_url; /* after redirects: on a 401, the URL that answered it */
  enum appc_http_auth auth;
  /* On failure (all else empty): the request went out and no whole
   * response came back (the connection dropped or reset, an empty or
   * garbled reply, a stall); not a failure to reach the host, of TLS, of
   * the deadline or a cancellation. */
  bool no_answer;
  /* On failure: the host answered for this path with a redirect not
   * followed (too many, to a scheme refused, or to a URL libcurl cannot
   * parse), which says nothing of other paths. */
  bool path_refused;
};
void appc_http_page_clear(struct appc_http_page *p);
/* Why a 401 was not answered, or answered in vain, with credentials
 * ("no credentials for its host in auth.d"); NULL for APPC_HTTP_AUTH_NONE. */
const char *appc_http_auth_problem(enum appc_http_auth auth);

/* GET URL (redirects followed, 401 answered with credentials when the
 * host has some).  Returns 0 when a response arrived, whatever its status;
 * -1 when none did (connection, TLS, timeout), the error naming URL.  With
 * DECODE, a body of any Content-Encoding libcurl knows (gzip, ...) is
 * decoded, MAX counting the decoded bytes: for discovery pages, never for
 * files whose bytes are checked against a digest. */
int appc_http_page_get(struct appc_http *h, const char *url, size_t max, bool decode,
                       struct appc_http_page *out, appc_error_t *err);

/* Every page requested between appc_http_walk_begin and appc_http_walk_end
 * (a discovery walk) must be done within the client's deadline, counted
 * from appc_http_walk_begin: pages share it.  appc_http_walk_expired tells
 * whether it has passed. */
void appc_http_walk_begin(struct appc_http *h);
void appc_http_walk_end(struct appc_http *h);
bool appc_http_walk_expired(const struct appc_http *h);

/* Log a debug message through the client's log callback. */
void appc_http_log(struct appc_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned appc_http_port(const struct appc_http *h);
bool appc_http_is_cancelled(struct appc_http *h);

#endif
