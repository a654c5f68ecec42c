/* SPDX-License-Identifier: Apache-2.0 */
/* libappc fetch: images into the store from a file, a URL or a name, with
 * their signatures checked and their dependencies (docs/discovery.md,
 * "Fetch").  One call, appc_fetch(), takes what a user typed:
 *
 *   FILE.aci  -> copied once into the store's tmp/, its signature
 *                (FILE.aci.asc) checked on that copy, imported from it
 *   URL       -> ACI + .asc downloads -> checks -> store import
 *   name      -> discovery -> the same as a URL
 *
 * Downloads land in the store's tmp/ as download-<key>.aci (key: SHA-256 of
 * the URL) and are resumed with an HTTP Range request after an
 * interruption; what each URL last gave (ETag, Last-Modified, image ID) is
 * kept in DIR/cache/http/<key>.json so that a repeat fetch revalidates
 * instead of downloading again.  Nothing reaches the store unless every
 * check passed.  Nothing here prints or exits.  The signatures are checked
 * with gpgme: call appc_trust_init() once first unless insecure_image. */
#ifndef APPC_FETCH_H
#define APPC_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <appc/callbacks.h>
#include <appc/discovery.h>
#include <appc/error.h>
#include <appc/store.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define APPC_FETCH_OPTIONS_VERSION 1
struct appc_fetch_options {
  unsigned version;       /* 0, or APPC_FETCH_OPTIONS_VERSION (<appc/appc.h>) */
  struct appc_http *http; /* NULL with store_only, or for a file with no_dependencies */
  bool insecure_image;    /* import without checking signatures */
  bool no_store;          /* neither the store nor the HTTP cache answers */
  bool store_only;        /* never use the network */
  bool no_dependencies;   /* appc_fetch(): the image alone (appc_fetch_dependencies later) */
  /* cancel; progress of each download (WHAT is its URL); what was decided,
   * for --debug.  May be NULL. */
  const struct appc_callbacks *cb;
  /* OCI and Docker images (<appc/oci.h>): one squashed ACI, not one per layer */
  bool squash;
};

/* What an argument of appc_fetch() names. */
enum appc_fetch_kind {
  APPC_FETCH_NAME = 0,       /* NAME[,LABEL=VALUE...]: found by discovery */
  APPC_FETCH_URL,            /* http:// or https:// */
  APPC_FETCH_FILE,           /* a path that exists, or is spelt like one: it starts with
                                "/" or ".", or ends in ".aci" (a missing one is an error,
                                never a name to discover) */
  APPC_FETCH_OCI_LAYOUT,     /* oci:DIR[:REF], an OCI image layout (<appc/oci.h>) */
  APPC_FETCH_DOCKER_ARCHIVE, /* docker-archive:FILE[:REPO:TAG], `docker save` output */
  APPC_FETCH_DOCKER,         /* docker://[REGISTRY/]REPO[:TAG|@DIGEST], a registry's image */
  APPC_FETCH_IMAGE_ID,       /* sha512-…: an image ID or a prefix of one, which only the
                                store answers (never a name to discover) */
};
enum appc_fetch_kind appc_fetch_classify(const char *arg);

/* Bring the image ARG names into the store (see appc_fetch_classify), with
 * its dependencies unless O->no_dependencies.  A file is read once, into an
 * unnamed copy in the store's tmp/; its signature (ARG.asc) is checked on
 * that copy and the image imported from it, so the bytes verified are the
 * bytes stored even if the file changes meanwhile.  OUT receives the
 * image's index record. */
int appc_fetch(struct appc_store *s, const char *arg, const struct appc_fetch_options *o,
               struct appc_store_image *out, appc_error_t *err);

/* Fetch the image NAME with LABELS (may be NULL): from the store when a
 * version is pinned and it is there, else by discovery.  The downloaded
 * image's manifest must carry NAME and every label asked for (spec,
 * "Validation"), and be signed by a key trusted for NAME.  Dependencies are
 * fetched the same way.  OUT receives the image's index record. */
int appc_fetch_name(struct appc_store *s, const char *name, const struct appc_kv_list *labels,
                    const struct appc_fetch_options *o, struct appc_store_image *out,
                    appc_error_t *err);

/* Fetch the ACI at URL (its signature at URL.asc), then its dependencies. */
int appc_fetch_url(struct appc_store *s, const char *url, const struct appc_fetch_options *o,
                   struct appc_store_image *out, appc_error_t *err);

/* Fetch the dependencies of the stored image ID that the store lacks.  An
 * ID no longer stored (an image rm or gc ran after the fetch that imported
 * it) has none to fetch any more: 0. */
int appc_fetch_dependencies(struct appc_store *s, const char *id,
                            const struct appc_fetch_options *o, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
