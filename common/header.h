/* SPDX-License-Identifier: Apache-2.0 */
/* Pieces of HTTP header values (RFC 9110 §5.6): the parameters of a Link
 * header (discovery) and of a WWW-Authenticate challenge (registries). */
#ifndef APPC_COMMON_HEADER_H
#define APPC_COMMON_HEADER_H

#include <stdbool.h>

/* *P past spaces and tabs. */
const char *appc_header_skip_ows(const char *p);
/* Whether CH may appear in a token. */
bool appc_header_is_tchar(char ch);
/* The parameter value at *P, a token (with '/' and ':' accepted, as URLs
 * in the wild are left unquoted) or a quoted-string with its escapes
 * resolved, as a fresh string; *P moves past it.  NULL for an unterminated
 * quoted-string (or no memory). */
char *appc_header_param_value(const char **p);
/* The value of the parameter NAME (any case) of a media type such as a
 * Content-Type header's VALUE ("text/html; charset=utf-8"), as a fresh
 * string; NULL when it has none (or is malformed there, or no memory). */
char *appc_header_media_param(const char *value, const char *name);

#endif
