/* SPDX-License-Identifier: Apache-2.0 */
/* actool CLI: the HTTP client that discover, fetch and trust share, set up
 * from the global options (docs/discovery.md). */
#ifndef ACTOOL_NET_CLI_H
#define ACTOOL_NET_CLI_H

#include "actool/actool.h"
#include "appc/fetch.h"

struct appc_http;

/* A client for STORE_DIR (its auth.d holds credentials) honouring --cacert,
 * --insecure-options, --port, --debug, the ACTOOL_HTTP_TIMEOUT,
 * ACTOOL_HTTP_RETRIES, ACTOOL_HTTP_DEADLINE and ACTOOL_HTTP_MIN_RATE
 * environment variables, and cancellation by SIGINT
 * (between actool_cancel_begin and actool_cancel_end).  Prints errors;
 * returns an exit status. */
int actool_http_client(const struct actool_globals *g, const char *store_dir,
                       struct appc_http **out);

/* What every command that fetches gives appc_fetch(): the client H,
 * --insecure-options=image, actool's callbacks. */
struct appc_fetch_options actool_fetch_options(const struct actool_globals *g, struct appc_http *h);
/* appc_fetch() of ARG, cancellable by SIGINT; its image ID into ID (may be
 * NULL).  Prints errors; returns an exit status. */
struct appc_store;
int actool_fetch(const struct appc_fetch_options *o, struct appc_store *s, const char *arg,
                 char *id);
/* Bring FILE.aci, https://URL or NAME[,LABEL=VALUE...] into the store as
 * fetch does (verified, with dependencies), for run: quietly, with a client
 * of its own; prints errors. */
int actool_fetch_one(const struct actool_globals *g, struct appc_store *s, const char *arg,
                     char *id);

/* IMAGE's ID: from the store when ARG is a name it holds, else fetched as
 * actool_fetch_one does.  Prints errors; returns an exit status. */
int actool_resolve_image(const struct actool_globals *g, struct appc_store *s, const char *arg,
                         char id[APPC_IMAGE_ID_LEN + 1]);

#endif
