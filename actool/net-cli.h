/* SPDX-License-Identifier: Apache-2.0 */
/* actool CLI: the HTTP client that discover, fetch and trust share, set up
 * from the global options (docs/discovery.md). */
#ifndef ACTOOL_NET_CLI_H
#define ACTOOL_NET_CLI_H

#include "actool/actool.h"

struct appc_http;

/* A client for STORE_DIR (its auth.d holds credentials) honouring --cacert,
 * --insecure-options, --port, --debug, the ACTOOL_HTTP_TIMEOUT,
 * ACTOOL_HTTP_RETRIES, ACTOOL_HTTP_DEADLINE and ACTOOL_HTTP_MIN_RATE
 * environment variables, and cancellation by SIGINT
 * (between actool_cancel_begin and actool_cancel_end).  Prints errors;
 * returns an exit status. */
int actool_http_client(const struct actool_globals *g, const char *store_dir,
                       struct appc_http **out);

#endif
