/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP client of the network commands, built from the global options,
 * and fetching as fetch and run do it. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actool/net-cli.h"
#include "common/cleanup.h"
#include "appc/store.h"
#include "appc/discovery.h"
#include "appc/trust.h"
#include "appc/types.h"

/* A decimal number in [MIN, MAX] from an option or the environment. */
static int parse_uint(const char *what, const char *s, unsigned min, unsigned max, unsigned *out)
{
  char *end = NULL;
  unsigned long v;

  errno = 0;
  v = strtoul(s, &end, 10);
  if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0 || v < min || v > max) {
    actool_error("%s: \"%s\" is not a number from %u to %u", what, s, min, max);
    return -1;
  }
  *out = (unsigned) v;
  return 0;
}

static int env_uint(const char *name, unsigned min, unsigned max, unsigned fallback, unsigned *out)
{
  const char *s = getenv(name);

  *out = fallback;
  if (s == NULL || s[0] == '\0')
    return 0;
  return parse_uint(name, s, min, max, out);
}

/* ACTOOL_FETCH_MAX_SIZE: a quantity of bytes ("64Gi", "500M"), as
 * isolators write them. */
static int env_size(const char *name, uint64_t *out)
{
  const char *s = getenv(name);
  cleanup_error appc_error_t err = NULL;
  int64_t v = 0;

  *out = 0;
  if (s == NULL || s[0] == '\0')
    return 0;
  if (appc_quantity_value(s, 0, &v, &err) < 0 || v <= 0) {
    actool_error("%s: \"%s\" is not a size in bytes (such as 64Gi or 500M)%s%s", name, s,
                 err != NULL ? ": " : "", err != NULL ? err->msg : "");
    return -1;
  }
  *out = (uint64_t) v;
  return 0;
}

int actool_http_client(const struct actool_globals *g, const char *store_dir,
                       struct appc_http **out)
{
  struct appc_http_options o = {.version = APPC_HTTP_OPTIONS_VERSION};
  cleanup_free char *auth_dir = NULL;
  cleanup_error appc_error_t err = NULL;

  if (g->port != NULL && parse_uint("--port", g->port, 1, 65535, &o.port) < 0)
    return ACTOOL_EXIT_USAGE;
  if (env_uint("ACTOOL_HTTP_TIMEOUT", 1, 3600, 30, &o.timeout) < 0 ||
      env_uint("ACTOOL_HTTP_RETRIES", 0, 100, 3, &o.retries) < 0 ||
      env_uint("ACTOOL_HTTP_DEADLINE", 1, 86400, 60, &o.deadline) < 0 ||
      env_uint("ACTOOL_HTTP_MIN_RATE", 1, 1u << 30, 1024, &o.min_rate) < 0 ||
      env_uint("ACTOOL_HTTP_DOWNLOAD_DEADLINE", 1, 30u * 86400u, 86400, &o.download_deadline) < 0 ||
      /* 0: the library's default, a day or one download's, the longer */
      env_uint("ACTOOL_FETCH_DEADLINE", 1, 30u * 86400u, 0, &o.operation_deadline) < 0 ||
      env_size("ACTOOL_FETCH_MAX_SIZE", &o.download_max) < 0)
    return ACTOOL_EXIT_USAGE;
  if (store_dir != NULL &&
      asprintf(&auth_dir, "%s/%s", store_dir, appc_store_area_name(APPC_STORE_AREA_AUTH)) < 0) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  o.cacert = g->cacert != NULL && g->cacert[0] != '\0' ? g->cacert : NULL;
  /* Where OpenSSL and curl(1) look for the system's CAs. */
  o.ca_dir = getenv("SSL_CERT_DIR");
  if (o.ca_dir != NULL && o.ca_dir[0] == '\0')
    o.ca_dir = NULL;
  o.insecure_tls = (g->insecure & ACTOOL_INSECURE_TLS) != 0;
  o.allow_http = (g->insecure & ACTOOL_INSECURE_HTTP) != 0;
  o.auth_dir = auth_dir;
  o.cb = actool_callbacks(g);
  if (appc_http_new(&o, out, &err) < 0)
    return actool_fail_net(&err);
  return ACTOOL_EXIT_OK;
}

struct appc_fetch_options actool_fetch_options(const struct actool_globals *g, struct appc_http *h)
{
  return (struct appc_fetch_options){
      .http = h,
      .insecure_image = (g->insecure & ACTOOL_INSECURE_IMAGE) != 0,
      .cb = actool_callbacks(g),
  };
}

/* A registry's image has no signature: say what vouches for it. */
static void trust_notice(const struct appc_fetch_options *o, const char *arg)
{
  if (appc_fetch_classify(arg) != APPC_FETCH_DOCKER || o->insecure_image)
    return;
  fprintf(stderr,
          "actool: %s: not signed; trusted because every byte matched the digest asked for\n", arg);
}

int actool_fetch(const struct appc_fetch_options *o, struct appc_store *s, const char *arg,
                 char *id)
{
  struct appc_store_image img;
  cleanup_error appc_error_t err = NULL;
  int r;

  actool_cancel_begin();
  r = appc_fetch(s, arg, o, &img, &err);
  actool_cancel_end();
  actool_progress_clear();
  if (r < 0)
    return actool_fail_net(&err);
  trust_notice(o, arg);
  if (id != NULL)
    memcpy(id, img.id, sizeof img.id);
  appc_store_image_clear(&img);
  return ACTOOL_EXIT_OK;
}

/* For run: an image into the store as fetch would bring it, with its
 * dependencies; nothing printed but errors. */
int actool_fetch_one(const struct actool_globals *g, struct appc_store *s, const char *arg,
                     char *id)
{
  struct appc_http *h = NULL;
  cleanup_error appc_error_t err = NULL;
  int r;

  if (!(g->insecure & ACTOOL_INSECURE_IMAGE) && appc_trust_init(&err) < 0)
    return actool_fail_net(&err);
  if ((r = actool_http_client(g, appc_store_path(s), &h)) != 0)
    return r;
  const struct appc_fetch_options o = actool_fetch_options(g, h);
  r = actool_fetch(&o, s, arg, id);
  appc_http_free(h);
  return r;
}

/* The image's ID: from the store, else fetched. */
int actool_resolve_image(const struct actool_globals *g, struct appc_store *s, const char *arg,
                         char id[APPC_IMAGE_ID_LEN + 1])
{
  struct appc_store_image img = {0};
  cleanup_error appc_error_t err = NULL;
  enum appc_fetch_kind kind = appc_fetch_classify(arg);

  if (kind == APPC_FETCH_IMAGE_ID) {
    int r = actool_lookup_image(s, arg, &img);
    if (r == ACTOOL_EXIT_OK)
      memcpy(id, img.id, sizeof img.id);
    appc_store_image_clear(&img);
    return r;
  }
  if (kind == APPC_FETCH_NAME && appc_store_lookup(s, arg, &img, &err) == 0) {
    memcpy(id, img.id, sizeof img.id);
    appc_store_image_clear(&img);
    return ACTOOL_EXIT_OK;
  }
  actool_debug(g, "%s: not in the store, fetching it", arg);
  return actool_fetch_one(g, s, arg, id);
}
