/* SPDX-License-Identifier: Apache-2.0 */
/* Registry references as `docker pull` reads them
 * ([REGISTRY[:PORT]/]REPO[:TAG][@DIGEST], distribution's reference grammar)
 * and the WWW-Authenticate challenges a registry answers with. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"
#include "common/header.h"
#include "common/digest.h"
#include "oci/internal.h"

#define DOCKER_HUB "docker.io"
#define DOCKER_HUB_API "registry-1.docker.io"
#define REPO_MAX 255
#define TAG_MAX 128

void appc_docker_ref_clear(struct appc_docker_ref *r)
{
  free(r->registry);
  free(r->repository);
  free(r->tag);
  free(r->digest);
  free(r->os);
  free(r->arch);
  memset(r, 0, sizeof *r);
}

static bool is_lower_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component: [a-z0-9]+ joined by '.', '_', "__" or runs of '-'. */
static bool component_ok(const char *s, size_t n)
{
  if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
    return false;
  for (size_t i = 0; i < n; i++) {
    if (is_lower_alnum(s[i]))
      continue;
    if (s[i] == '-')
      continue;
    if (s[i] == '.' && is_lower_alnum(s[i + 1]))
      continue;
    if (s[i] == '_' &&
        (is_lower_alnum(s[i + 1]) || (s[i + 1] == '_' && is_lower_alnum(s[i + 2])))) {
      i += s[i + 1] == '_';
      continue;
    }
    return false;
  }
  return true;
}

static bool repository_ok(const char *repo)
{
  size_t len = strlen(repo);

  if (len == 0 || len > REPO_MAX)
    return false;
  for (const char *p = repo;;) {
    const char *slash = strchr(p, '/');
    size_t n = slash != NULL ? (size_t) (slash - p) : strlen(p);
    if (!component_ok(p, n))
      return false;
    if (slash == NULL)
      return true;
    p = slash + 1;
  }
}

bool oci_tag_ok(const char *tag)
{
  size_t len = strlen(tag);

  if (len == 0 || len > TAG_MAX || !(isalnum((unsigned char) tag[0]) || tag[0] == '_'))
    return false;
  for (size_t i = 1; i < len; i++)
    if (!(isalnum((unsigned char) tag[i]) || tag[i] == '_' || tag[i] == '.' || tag[i] == '-'))
      return false;
  return true;
}

/* A host[:port] (a name of letters, digits, '-' and '.', or an IPv6
 * address in brackets) */
static bool host_ok(const char *host)
{
  const char *colon = NULL;

  if (host[0] == '[') {
    const char *end = strchr(host, ']');
    if (end == NULL || end == host + 1)
      return false;
    for (const char *p = host + 1; p < end; p++)
      if (!isxdigit((unsigned char) *p) && *p != ':' && *p != '.')
        return false;
    colon = end[1] == ':' ? end + 1 : NULL;
    if (end[1] != '\0' && colon == NULL)
      return false;
  } else {
    colon = strchr(host, ':');
    size_t n = colon != NULL ? (size_t) (colon - host) : strlen(host);
    if (n == 0 || host[0] == '-' || host[0] == '.')
      return false;
    for (size_t i = 0; i < n; i++)
      if (!isalnum((unsigned char) host[i]) && host[i] != '-' && host[i] != '.')
        return false;
  }
  if (colon != NULL) {
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!isdigit((unsigned char) colon[1]) || *end != '\0' || port == 0 || port > 65535)
      return false;
  }
  return true;
}

/* Whether the first component of a reference names a registry: it has a
 * '.' or a ':', or is "localhost" (distribution's rule). */
static bool names_registry(const char *s, size_t n)
{
  return memchr(s, '.', n) != NULL || memchr(s, ':', n) != NULL ||
         (n == 9 && memcmp(s, "localhost", 9) == 0) || s[0] == '[';
}

static int ref_error(const char *ref, const char *why, appc_error_t *err)
{
  return appc_error_make(err, 0, "docker://%.300s: %s", ref, why);
}

static int split_registry(const char *ref, const char **rest, struct appc_docker_ref *out,
                          appc_error_t *err)
{
  const char *slash = strchr(ref, '/');

  if (slash != NULL && names_registry(ref, (size_t) (slash - ref))) {
    out->registry = strndup(ref, (size_t) (slash - ref));
    if (out->registry == NULL)
      return appc_error_make(err, ENOMEM, "%s", ref);
    if (!host_ok(out->registry))
      return ref_error(ref, "not a registry host[:port]", err);
    *rest = slash + 1;
  } else {
    *rest = ref;
  }
  /* Docker Hub's names for itself all mean its API host. */
  if (out->registry == NULL || strcmp(out->registry, DOCKER_HUB) == 0 ||
      strcmp(out->registry, "index.docker.io") == 0) {
    free(out->registry);
    out->registry = strdup(DOCKER_HUB_API);
    if (out->registry == NULL)
      return appc_error_make(err, ENOMEM, "%s", ref);
  }
  return 0;
}

static int split_digest(const char *ref, char *rest, struct appc_docker_ref *out, appc_error_t *err)
{
  char *at = strchr(rest, '@');
  enum appc_digest_alg alg;
  const char *hex;

  if (at == NULL)
    return 0;
  *at = '\0';
  if (!appc_digest_parse(at + 1, &alg, &hex))
    return ref_error(ref, "the digest is not sha256:HEX (64) or sha512:HEX (128)", err);
  out->digest = strdup(at + 1);
  return out->digest != NULL ? 0 : appc_error_make(err, ENOMEM, "%s", ref);
}

/* OCI's spelling of appc's arch label, "ARCH[/VARIANT]" ("arm/v6" for
 * armv6l: without the variant an index's first arm image would do);
 * malloc'ed.  A label OCI has no name for stays as it is. */
static char *oci_arch(const char *appc)
{
  const struct oci_arch *a = oci_arch_of_appc(appc);
  char *s;

  if (a == NULL || a->variant == NULL)
    return strdup(a != NULL ? a->oci : appc);
  return asprintf(&s, "%s/%s", a->oci, a->variant) < 0 ? NULL : s;
}

static bool label_value_ok(const char *v)
{
  return *v != '\0' && strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(v);
}

/* ",os=OS,arch=ARCH" after a reference: the platform of an index to take. */
static int parse_platform(const char *ref, char *labels, struct appc_docker_ref *out,
                          appc_error_t *err)
{
  for (char *save = NULL, *kv = strtok_r(labels, ",", &save); kv != NULL;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    char **slot = NULL;
    if (eq != NULL) {
      *eq = '\0';
      slot = strcmp(kv, "os") == 0 ? &out->os : strcmp(kv, "arch") == 0 ? &out->arch : NULL;
    }
    if (slot == NULL || *slot != NULL || !label_value_ok(eq + 1))
      return ref_error(ref, "after the reference only the labels os=OS and arch=ARCH may follow",
                       err);
    *slot = slot == &out->arch ? oci_arch(eq + 1) : strdup(eq + 1);
    if (*slot == NULL)
      return appc_error_make(err, ENOMEM, "%s", ref);
  }
  return 0;
}

int appc_docker_ref_parse(const char *ref, struct appc_docker_ref *out, appc_error_t *err)
{
  const char *rest = NULL;
  cleanup_free char *path = NULL;
  cleanup_free char *labels = NULL;
  char *colon, *slash, *comma;

  memset(out, 0, sizeof *out);
  if (strncmp(ref, "docker://", 9) == 0)
    ref += 9;
  if (*ref == '\0')
    return ref_error(ref, "no repository", err);
  if (split_registry(ref, &rest, out, err) < 0 || (path = strdup(rest)) == NULL)
    goto fail;
  if ((comma = strchr(path, ',')) != NULL) {
    *comma = '\0';
    if ((labels = strdup(comma + 1)) == NULL || parse_platform(ref, labels, out, err) < 0)
      goto fail;
  }
  if (split_digest(ref, path, out, err) < 0)
    goto fail;
  slash = strrchr(path, '/');
  colon = strrchr(slash != NULL ? slash : path, ':');
  if (colon != NULL) {
    *colon = '\0';
    if (!oci_tag_ok(colon + 1)) {
      ref_error(ref, "a tag is 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'", err);
      goto fail;
    }
    if ((out->tag = strdup(colon + 1)) == NULL)
      goto oom;
  } else if (out->digest == NULL && (out->tag = strdup("latest")) == NULL) {
    goto oom;
  }
  if (!repository_ok(path)) {
    ref_error(ref,
              "a repository is '/'-separated components of [a-z0-9] joined by '.', '_', '__' "
              "or '-', at most 255 characters",
              err);
    goto fail;
  }
  if (strcmp(out->registry, DOCKER_HUB_API) == 0 && strchr(path, '/') == NULL) {
    if (asprintf(&out->repository, "library/%s", path) < 0) {
      out->repository = NULL;
      goto oom;
    }
  } else {
    out->repository = steal_pointer(&path);
  }
  return 0;
oom:
  appc_error_make(err, ENOMEM, "%s", ref);
fail:
  appc_docker_ref_clear(out);
  return -1;
}

/* ---- WWW-Authenticate ---- */

void oci_challenge_clear(struct oci_challenge *c)
{
  free(c->scheme);
  free(c->realm);
  free(c->service);
  free(c->scope);
  memset(c, 0, sizeof *c);
}

static char **param_slot(struct oci_challenge *c, const char *name, size_t n)
{
  if (n == 5 && strncasecmp(name, "realm", 5) == 0)
    return &c->realm;
  if (n == 7 && strncasecmp(name, "service", 7) == 0)
    return &c->service;
  if (n == 5 && strncasecmp(name, "scope", 5) == 0)
    return &c->scope;
  return NULL;
}

int oci_challenge_parse(const char *value, struct oci_challenge *out)
{
  const char *p = appc_header_skip_ows(value);
  size_t n = strcspn(p, " \t,");

  memset(out, 0, sizeof *out);
  if (n == 0 || (out->scheme = strndup(p, n)) == NULL)
    return -1;
  p = appc_header_skip_ows(p + n);
  while (*p != '\0') {
    const char *name = p;
    size_t len = strcspn(p, "= \t,");
    char *v, **slot;
    p = appc_header_skip_ows(p + len);
    if (len == 0 || *p != '=')
      break; /* another challenge, or junk: what was read stands */
    p = appc_header_skip_ows(p + 1);
    if ((v = appc_header_param_value(&p)) == NULL)
      goto fail;
    slot = param_slot(out, name, len);
    if (slot != NULL && *slot == NULL)
      *slot = v;
    else
      free(v);
    p = appc_header_skip_ows(p);
    if (*p == ',')
      p = appc_header_skip_ows(p + 1);
  }
  return 0;
fail:
  oci_challenge_clear(out);
  return -1;
}
