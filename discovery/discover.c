/* SPDX-License-Identifier: Apache-2.0 */
/* The discovery walk and its URL templates (spec/discovery.md). */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "common/arch.h"
#include "common/array.h"
#include "common/hashmap.h"
#include "common/header.h"
#include "common/cleanup.h"
#include "discovery/internal.h"
#include "appc/manifest.h"

/* Discovery pages are small; a server sending more is not one. */
#define PAGE_MAX (4u << 20)

const char *appc_host_os(void)
{
#if defined(__linux__)
  return "linux";
#elif defined(__FreeBSD__)
  return "freebsd";
#else
  return "unknown";
#endif
}

/* appc's spellings (spec/types.md, os/arch labels) of the compiler's arch. */
const char *appc_host_arch(void)
{
  return appc_arch_host()->appc;
}

/* ---- templates --------------------------------------------------------- */

struct buf {
  char *s;
  size_t len, cap;
};

static bool buf_add(struct buf *b, const char *s, size_t n)
{
  if (APPC_ARRAY_RESERVE(b->s, b->cap, b->len + n + 1) < 0)
    return false;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
  return true;
}

static bool label_is(const char *label, const char *var, size_t var_len)
{
  return strlen(label) == var_len && strncmp(label, var, var_len) == 0;
}

/* The value of {VAR}: NULL when there is none.  *USED gets the index of the
 * given label, or -1 (name, ext, a default). */
static const char *lookup_var(const char *var, size_t len, const char *name,
                              const struct appc_kv_list *labels, const char *ext, long *used,
                              bool *counts)
{
  *used = -1;
  *counts = false;
  if (label_is("name", var, len))
    return name;
  if (label_is("ext", var, len))
    return ext;
  /* An empty version is no version: {version} is "latest", as the
   * reference's doDiscover renders it. */
  for (size_t i = 0; labels != NULL && i < labels->len; i++)
    if (labels->items[i].name != NULL && label_is(labels->items[i].name, var, len) &&
        !(label_is("version", var, len) && labels->items[i].value != NULL &&
          labels->items[i].value[0] == '\0')) {
      *used = (long) i;
      *counts = true;
      return labels->items[i].value;
    }
  /* The host's os and arch stand in for labels the user did not give, as
   * if given; "latest" for a missing version only fills a gap. */
  *counts = true;
  if (label_is("os", var, len))
    return appc_host_os();
  if (label_is("arch", var, len))
    return appc_host_arch();
  *counts = false;
  if (label_is("version", var, len))
    return "latest";
  return NULL;
}

/* Render TMPL with EXT; NULL when a variable is left over. */
static char *render_one(const char *tmpl, const char *name, const struct appc_kv_list *labels,
                        const char *ext, unsigned *score, bool *ok)
{
  struct buf b = {0};
  unsigned used_bits = 0;
  unsigned defaults = 0;

  *ok = true;
  *score = 0;
  for (const char *p = tmpl; *p != '\0';) {
    const char *close = *p == '{' ? strchr(p + 1, '}') : NULL;
    if (close == NULL) {
      /* Text up to the next '{'; after a '{' with no '}' the rest is all
       * text (searching again from each later '{' would be quadratic). */
      const char *next = *p == '{' ? NULL : strchr(p + 1, '{');
      size_t n = next != NULL ? (size_t) (next - p) : strlen(p);
      if (!buf_add(&b, p, n))
        goto oom;
      p += n;
      continue;
    }
    long used;
    bool counts;
    const char *v = lookup_var(p + 1, (size_t) (close - p - 1), name, labels, ext, &used, &counts);
    if (v == NULL) {
      *ok = false;
      free(b.s);
      return NULL;
    }
    if (used >= 0 && used < 32 && !(used_bits & (1u << used))) {
      used_bits |= 1u << used;
      (*score)++;
    } else if (used < 0 && counts) {
      unsigned bit = label_is("os", p + 1, (size_t) (close - p - 1)) ? 1u : 2u;
      if (!(defaults & bit)) {
        defaults |= bit;
        (*score)++;
      }
    }
    if (!buf_add(&b, v, strlen(v)))
      goto oom;
    p = close + 1;
  }
  if (b.s == NULL && !buf_add(&b, "", 0))
    goto oom;
  return b.s;
oom:
  free(b.s);
  return NULL;
}

int appc_discovery_render(const char *tmpl, const char *name, const struct appc_kv_list *labels,
                          char **out_aci, char **out_asc, unsigned *score, appc_error_t *err)
{
  bool ok_aci, ok_asc;
  unsigned s2;
  char *aci = render_one(tmpl, name, labels, "aci", score, &ok_aci);
  char *asc = ok_aci ? render_one(tmpl, name, labels, "aci.asc", &s2, &ok_asc) : NULL;

  if (!ok_aci || !ok_asc) {
    free(aci);
    free(asc);
    return 0;
  }
  if (aci == NULL || asc == NULL) {
    free(aci);
    free(asc);
    return appc_error_make(err, ENOMEM, "discovery template");
  }
  *out_aci = aci;
  *out_asc = asc;
  return 1;
}

/* ---- results ----------------------------------------------------------- */

void appc_discovery_clear(struct appc_discovery *d)
{
  for (size_t i = 0; i < d->n_endpoints; i++) {
    free(d->endpoints[i].aci);
    free(d->endpoints[i].asc);
  }
  free(d->endpoints);
  for (size_t i = 0; i < d->n_pubkeys; i++)
    free(d->pubkeys[i]);
  free(d->pubkeys);
  for (size_t i = 0; i < d->n_attempts; i++) {
    free(d->attempts[i].prefix);
    free(d->attempts[i].message);
  }
  free(d->attempts);
  memset(d, 0, sizeof *d);
}

static int add_attempt(struct appc_discovery *d, const char *prefix, const char *message,
                       appc_error_t *err)
{
  if (APPC_ARRAY_EXTEND(d->attempts, d->n_attempts, 1) < 0)
    return appc_error_make(err, ENOMEM, "discovery");
  d->attempts[d->n_attempts].prefix = strdup(prefix);
  d->attempts[d->n_attempts].message = strdup(message);
  d->n_attempts++;
  return 0;
}

/* Every template of one page that renders, in document order, each URL
 * once (the reference lists a URL once for each template rendering it;
 * spec: the client MAY choose among several).  Each keeps its score, for
 * fetch to try the best first. */
static int take_endpoints(const struct appc_discovery_metas *m, const char *name,
                          const struct appc_kv_list *labels, struct appc_discovery *d,
                          appc_error_t *err)
{
  /* Endpoints are de-duplicated through a set: a page of 4 MiB holds some
   * 55,000 templates, too many to compare each with every other. */
  struct appc_strset seen = {0};
  size_t cap = d->n_endpoints;
  int r = 0;

  for (size_t i = 0; i < d->n_endpoints && r == 0; i++)
    if (appc_strset_add(&seen, d->endpoints[i].aci) < 0)
      r = appc_error_make(err, ENOMEM, "discovery");
  for (size_t i = 0; i < m->n && r == 0; i++) {
    char *aci = NULL, *asc = NULL;
    unsigned score = 0;
    if (strcmp(m->v[i].rel, "ac-discovery") != 0 ||
        strncmp(name, m->v[i].prefix, strlen(m->v[i].prefix)) != 0)
      continue;
    r = appc_discovery_render(m->v[i].url, name, labels, &aci, &asc, &score, err);
    if (r <= 0)
      continue;
    r = appc_strset_add(&seen, aci);
    if (r <= 0) {
      free(aci);
      free(asc);
      r = r < 0 ? appc_error_make(err, ENOMEM, "discovery") : 0;
    } else if (APPC_ARRAY_RESERVE(d->endpoints, cap, d->n_endpoints + 1) < 0) {
      free(aci);
      free(asc);
      r = appc_error_make(err, ENOMEM, "discovery");
    } else {
      d->endpoints[d->n_endpoints++] =
          (struct appc_aci_endpoint){.aci = aci, .asc = asc, .score = score};
      r = 0;
    }
  }
  appc_strset_clear(&seen);
  return r;
}

static int take_pubkeys(const struct appc_discovery_metas *m, const char *name,
                        struct appc_discovery *d, appc_error_t *err)
{
  struct appc_strset seen = {0};
  size_t cap = d->n_pubkeys;
  int r = 0;

  for (size_t i = 0; i < d->n_pubkeys && r == 0; i++)
    if (appc_strset_add(&seen, d->pubkeys[i]) < 0)
      r = appc_error_make(err, ENOMEM, "discovery");
  for (size_t i = 0; i < m->n && r == 0; i++) {
    if (strcmp(m->v[i].rel, "ac-discovery-pubkeys") != 0 ||
        strncmp(name, m->v[i].prefix, strlen(m->v[i].prefix)) != 0)
      continue;
    int added = appc_strset_add(&seen, m->v[i].url);
    if (added < 0)
      r = appc_error_make(err, ENOMEM, "discovery");
    if (added <= 0)
      continue;
    char *url = strdup(m->v[i].url);
    if (url == NULL || APPC_ARRAY_RESERVE(d->pubkeys, cap, d->n_pubkeys + 1) < 0) {
      free(url);
      r = appc_error_make(err, ENOMEM, "discovery");
    } else {
      d->pubkeys[d->n_pubkeys++] = url;
    }
  }
  appc_strset_clear(&seen);
  return r;
}

/* ---- the walk ---------------------------------------------------------- */

static char *discovery_url(struct appc_http *h, const char *scheme, const char *prefix)
{
  const char *slash = strchr(prefix, '/');
  size_t host_len = slash != NULL ? (size_t) (slash - prefix) : strlen(prefix);
  char port[16] = "";
  char *url = NULL;

  if (appc_http_port(h) != 0)
    snprintf(port, sizeof port, ":%u", appc_http_port(h));
  if (asprintf(&url, "%s://%.*s%s%s?ac-discovery=1", scheme, (int) host_len, prefix, port,
               slash != NULL ? slash : "/") < 0)
    return NULL;
  return url;
}

/* Fetch PREFIX's discovery page over https, or http when allowed and https
 * gave nothing usable.  -1 when no response came at all; *WALK_ON then
 * tells whether that was no answer at this path only (the request went out
 * and the connection was dropped, reset or stalled, or the path redirected
 * too often or to a scheme refused), after which the parent prefix is
 * worth asking. */
static int fetch_page(struct appc_http *h, const char *prefix, struct appc_http_page *page,
                      char **url_out, bool *walk_on, appc_error_t *err)
{
  cleanup_free char *url = discovery_url(h, "https", prefix);
  cleanup_error appc_error_t https_err = NULL;

  *walk_on = false;
  if (url == NULL)
    return appc_error_make(err, ENOMEM, "discovery");
  appc_http_log(h, "discovery: GET %s", url);
  int r = appc_http_page_get(h, url, PAGE_MAX, true, page, &https_err);
  bool https_walk_on = r < 0 && (page->no_answer || page->path_refused);
  if ((r < 0 || page->status != 200) && appc_http_allows_http(h)) {
    cleanup_free char *plain = discovery_url(h, "http", prefix);
    struct appc_http_page p2;
    cleanup_error appc_error_t http_err = NULL;
    if (plain == NULL)
      return appc_error_make(err, ENOMEM, "discovery");
    appc_http_log(h, "discovery: %s; trying GET %s", r < 0 ? https_err->msg : "no 200 answer",
                  plain);
    if (appc_http_page_get(h, plain, PAGE_MAX, true, &p2, &http_err) == 0 &&
        (r < 0 || p2.status == 200)) {
      if (r == 0)
        appc_http_page_clear(page);
      *page = p2;
      *url_out = steal_pointer(&plain);
      return 0;
    }
    if (http_err == NULL)
      appc_http_page_clear(&p2);
    else if (r < 0) {
      /* Neither answered: both reasons count (the http one may be the
       * server's real trouble, the https one only its want of TLS).  The
       * walk goes on when either got no answer at this path, unless the
       * https one met a certificate not trusted. */
      *walk_on =
          https_walk_on || ((p2.no_answer || p2.path_refused) && https_err->errnum != EKEYREJECTED);
      appc_error_t both = NULL;
      appc_error_make(&both, 0, "%s (over https: %s)", http_err->msg, https_err->msg);
      appc_error_release(&https_err);
      https_err = both;
      *err = steal_pointer(&https_err);
      return -1;
    }
  }
  if (r < 0) {
    *walk_on = https_walk_on;
    *err = steal_pointer(&https_err);
    return -1;
  }
  *url_out = steal_pointer(&url);
  return 0;
}

/* TARGET (of a Link header) resolved against BASE, the URL its response
 * came from (RFC 8288, 3.1; RFC 3986, 5.2): in *OUT (libcurl's memory), or
 * NULL when TARGET is absolute already or libcurl cannot read it (it then
 * stands as it is).  A template's "{name}" and the like pass libcurl's URL
 * parser unchanged, so resolving can come before rendering. */
static int resolve_target(const char *base, const char *target, char **out, appc_error_t *err)
{
  CURLU *u = curl_url();
  CURLUcode rc;

  *out = NULL;
  if (u == NULL)
    return appc_error_make(err, ENOMEM, "%s", target);
  rc = curl_url_set(u, CURLUPART_URL, target, 0);
  if (rc != CURLUE_OK && rc != CURLUE_OUT_OF_MEMORY) {
    rc = curl_url_set(u, CURLUPART_URL, base, 0);
    if (rc == CURLUE_OK)
      rc = curl_url_set(u, CURLUPART_URL, target, 0);
    if (rc == CURLUE_OK)
      rc = curl_url_get(u, CURLUPART_URL, out, 0);
  }
  curl_url_cleanup(u);
  if (rc == CURLUE_OUT_OF_MEMORY)
    return appc_error_make(err, ENOMEM, "%s", target);
  return 0;
}

/* The URLs of M's entries from FROM on resolved against BASE. */
static int resolve_targets(struct appc_discovery_metas *m, size_t from, const char *base,
                           appc_error_t *err)
{
  for (size_t i = from; i < m->n; i++) {
    char *resolved = NULL;
    if (resolve_target(base, m->v[i].url, &resolved, err) < 0)
      return -1;
    if (resolved == NULL)
      continue;
    char *copy = strdup(resolved);
    curl_free(resolved);
    if (copy == NULL)
      return appc_error_make(err, ENOMEM, "discovery");
    free(m->v[i].url);
    m->v[i].url = copy;
  }
  return 0;
}

/* Link headers, their relative targets resolved against BASE (the URL the
 * page came from, after redirects), then meta tags, whose content is used
 * as it stands (the reference's rule: it resolves nothing). */
static int page_metas(const struct appc_http_page *page, const char *base,
                      struct appc_discovery_metas *m, appc_error_t *err)
{
  for (size_t i = 0; i < page->n_links; i++)
    if (appc_discovery_parse_link(page->links[i], m, err) < 0)
      return -1;
  if (resolve_targets(m, 0, base, err) < 0)
    return -1;
  cleanup_free char *charset = appc_header_media_param(page->content_type, "charset");
  return appc_discovery_parse_html_charset(page->body, page->len, charset, m, err);
}

/* A 401 names the URL that answered it (after redirects): the
 * credentials asked for are its host's. */
static int status_message(const struct appc_http_page *page, const char *url, char **out)
{
  const char *problem = appc_http_auth_problem(page->auth);

  if (problem != NULL)
    return asprintf(out, "%s: 401 Unauthorized (%s)",
                    page->effective_url != NULL ? page->effective_url : url, problem);
  return asprintf(out, "%s: HTTP status %ld", url, page->status);
}

/* Look at one prefix; *DONE when what was asked has been found. */
static int discover_prefix(struct appc_http *h, const char *prefix, const char *name,
                           const struct appc_kv_list *labels, unsigned what,
                           struct appc_discovery *d, appc_error_t *err)
{
  struct appc_http_page page;
  struct appc_discovery_metas m = {0};
  cleanup_free char *url = NULL;
  cleanup_free char *msg = NULL;
  size_t had_endpoints = d->n_endpoints, had_pubkeys = d->n_pubkeys;
  int r;

  bool walk_on;
  if (fetch_page(h, prefix, &page, &url, &walk_on, err) < 0) {
    /* No answer at this path: the parent may answer (a server dropping
     * the connection for paths it does not know, as nginx's "return 444"
     * does), as the reference's DiscoverWalk goes on after any failure.
     * A failure to reach the host, of TLS, the deadline or Ctrl-C ends
     * the walk (docs/discovery.md, "The walk"). */
    if (!walk_on || appc_http_walk_expired(h) || appc_http_is_cancelled(h))
      return -1;
    appc_http_log(h, "discovery: %s; trying the parent", (*err)->msg);
    r = add_attempt(d, prefix, (*err)->msg, err);
    appc_error_release(err);
    return r;
  }
  if (page.status != 200) {
    r = status_message(&page, url, &msg) < 0 ? appc_error_make(err, ENOMEM, "discovery")
                                             : add_attempt(d, prefix, msg, err);
    appc_http_page_clear(&page);
    return r;
  }
  r = page_metas(&page, page.effective_url != NULL ? page.effective_url : url, &m, err);
  appc_http_page_clear(&page);
  if (r == 0 && (what & APPC_DISCOVER_ENDPOINTS) && d->n_endpoints == 0)
    r = take_endpoints(&m, name, labels, d, err);
  if (r == 0 && (what & APPC_DISCOVER_PUBKEYS) && d->n_pubkeys == 0)
    r = take_pubkeys(&m, name, d, err);
  appc_discovery_metas_clear(&m);
  if (r < 0)
    return r;
  /* A page that gave public keys but no endpoints asked for is an attempt
   * too: the list of attempts names every page the walk read. */
  if (d->n_endpoints == had_endpoints && d->n_pubkeys == had_pubkeys)
    r = asprintf(&msg, "%s: no usable ac-discovery data for %s", url, name);
  else if ((what & APPC_DISCOVER_ENDPOINTS) && d->n_endpoints == 0)
    r = asprintf(&msg, "%s: no ACI endpoints for %s (public keys only)", url, name);
  else
    return 0;
  return r < 0 ? appc_error_make(err, ENOMEM, "discovery") : add_attempt(d, prefix, msg, err);
}

static bool walk_done(const struct appc_discovery *d, unsigned what)
{
  return (!(what & APPC_DISCOVER_ENDPOINTS) || d->n_endpoints > 0) &&
         (!(what & APPC_DISCOVER_PUBKEYS) || d->n_pubkeys > 0);
}

static int nothing_found(const struct appc_discovery *d, const char *name, unsigned what,
                         appc_error_t *err)
{
  struct buf b = {0};

  for (size_t i = 0; i < d->n_attempts; i++)
    if (!buf_add(&b, i == 0 ? "" : "; ", i == 0 ? 0 : 2) ||
        !buf_add(&b, d->attempts[i].message, strlen(d->attempts[i].message))) {
      free(b.s);
      return appc_error_make(err, ENOMEM, "discovery");
    }
  appc_error_make(err, 0, "%s: discovery found no %s (%s)", name,
                  (what & APPC_DISCOVER_ENDPOINTS) ? "ACI endpoints" : "public keys",
                  b.s != NULL ? b.s : "nothing tried");
  free(b.s);
  return -1;
}

static int walk(struct appc_http *h, const char *name, const struct appc_kv_list *labels,
                unsigned what, struct appc_discovery *out, appc_error_t *err)
{
  cleanup_free char *prefix = strdup(name);

  if (prefix == NULL)
    return appc_error_make(err, ENOMEM, "discovery");
  for (;;) {
    if (appc_http_is_cancelled(h))
      return appc_error_make(err, ECANCELED, "%s: discovery", name);
    if (discover_prefix(h, prefix, name, labels, what, out, err) < 0)
      return appc_error_prefix(err, "%s: discovery", name);
    if (walk_done(out, what))
      return 0;
    char *slash = strrchr(prefix, '/');
    if (slash == NULL)
      break;
    *slash = '\0';
  }
  /* Endpoints without public keys is a result, not a failure. */
  if ((what & APPC_DISCOVER_ENDPOINTS) && out->n_endpoints > 0)
    return 0;
  if (what == APPC_DISCOVER_PUBKEYS && out->n_pubkeys > 0)
    return 0;
  return nothing_found(out, name, what, err);
}

int appc_discover(struct appc_http *h, const char *name, const struct appc_kv_list *labels,
                  unsigned what, struct appc_discovery *out, appc_error_t *err)
{
  memset(out, 0, sizeof *out);
  if (name[0] == '\0' || name[0] == '/')
    return appc_error_make(err, 0, "\"%s\": not an image name", name);
  /* The walk's pages share one deadline: going on past a stalled path
   * must not multiply it by the depth of the name. */
  appc_http_walk_begin(h);
  int r = walk(h, name, labels, what, out, err);
  appc_http_walk_end(h);
  return r;
}
