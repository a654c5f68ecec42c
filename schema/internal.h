/* SPDX-License-Identifier: Apache-2.0 */
/* Declarations shared between the schema module's source files only. */
#ifndef APPC_SCHEMA_INTERNAL_H
#define APPC_SCHEMA_INTERNAL_H

#include "schema/json.h"
#include "appc/manifest.h"

/* isolator.c */
int appc_jdecode_isolator(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jdecode_isolators(struct appc_jctx *c, const struct appc_jnode *v, void *target);
void appc_isolator_free_elem(void *elem);
void appc_jw_isolators(struct appc_jw *w, const struct appc_isolator_list *l);

/* app.c */
int appc_jdecode_app(struct appc_jctx *c, const struct appc_jnode *v, void *target /* app ** */);
int appc_jdecode_port(struct appc_jctx *c, const struct appc_jnode *v, void *target);
int appc_jcheck_port_range(struct appc_jctx *c, uint64_t port, uint64_t count);
void appc_app_free(struct appc_app *app);
void appc_port_clear(struct appc_port *p);
void appc_jw_app(struct appc_jw *w, const struct appc_app *app);
void appc_jw_port(struct appc_jw *w, const struct appc_port *p);

/* appstring.c */
int appc_query_unescape(const char *s, size_t len, char **out, appc_error_t *err);

#endif
