/* SPDX-License-Identifier: Apache-2.0 */
/* libappc fetch: getting images into the store by name or URL, with their
 * signatures checked and their dependencies (docs/discovery.md, "Fetch").
 *
 *   name  -> discovery -> ACI + .asc downloads -> checks -> store import
 *
 * Downloads land in the store's tmp/ as download-<key>.aci (key: SHA-256 of
 * the URL) and are resumed with an HTTP Range request after an
 * interruption; what each URL last gave (ETag, Last-Modified, image ID) is
 * kept in DIR/cache/http/<key>.json so that a repeat fetch revalidates
 * instead of downloading again.  Nothing reaches the store unless every
 * check passed.  Nothing here prints or exits. */
#ifndef APPC_FETCH_H
#define APPC_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <appc/error.h>
#include <appc/discovery.h>
#include <appc/store.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

struct appc_fetch_options {
  struct appc_http *http; /* NULL with store_only */
  bool insecure_image;    /* import without checking signatures */
  bool no_store;          /* neither the store nor the HTTP cache answers */
  bool store_only;        /* never use the network */
  /* download progress of URL (total 0 when unknown); may be NULL */
  void (*progress)(void *data, const char *url, uint64_t done, uint64_t total);
  /* something worth a --debug line; may be NULL */
  void (*log)(void *data, const char *msg);
  void *data;
  appc_cancel_fn cancelled; /* may be NULL */
  void *cancel_data;
};

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

/* Fetch the dependencies of the stored image ID that the store lacks. */
int appc_fetch_dependencies(struct appc_store *s, const char *id,
                            const struct appc_fetch_options *o, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
