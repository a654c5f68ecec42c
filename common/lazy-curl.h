/* SPDX-License-Identifier: Apache-2.0 */
/* libcurl: discovery and fetch over HTTP(S), bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_CURL_H
#define APPC_COMMON_LAZY_CURL_H

#define CURL_DISABLE_TYPECHECK /* the calls go through a table */
#include <curl/curl.h>

#include "common/lazy.h"

#define APPC_LAZY_CURL(X)                                                                          \
  X(curl_easy_cleanup)                                                                             \
  X(curl_easy_getinfo)                                                                             \
  X(curl_easy_header)                                                                              \
  X(curl_easy_init)                                                                                \
  X(curl_easy_perform)                                                                             \
  X(curl_easy_reset)                                                                               \
  X(curl_easy_setopt)                                                                              \
  X(curl_easy_strerror)                                                                            \
  X(curl_global_cleanup)                                                                           \
  X(curl_global_init)                                                                              \
  X(curl_slist_append)                                                                             \
  X(curl_slist_free_all)                                                                           \
  X(curl_url)                                                                                      \
  X(curl_url_cleanup)                                                                              \
  X(curl_url_get)                                                                                  \
  X(curl_url_set)

APPC_LAZY_DECLARE(curl, APPC_LAZY_CURL)

#ifndef APPC_LAZY_NO_REDIRECT
/* curl.h makes these two macros, to count their arguments. */
#undef curl_easy_getinfo
#undef curl_easy_setopt
#define curl_easy_cleanup APPC_LAZY_CALL(curl, curl_easy_cleanup)
#define curl_easy_getinfo APPC_LAZY_CALL(curl, curl_easy_getinfo)
#define curl_easy_header APPC_LAZY_CALL(curl, curl_easy_header)
#define curl_easy_init APPC_LAZY_CALL(curl, curl_easy_init)
#define curl_easy_perform APPC_LAZY_CALL(curl, curl_easy_perform)
#define curl_easy_reset APPC_LAZY_CALL(curl, curl_easy_reset)
#define curl_easy_setopt APPC_LAZY_CALL(curl, curl_easy_setopt)
#define curl_easy_strerror APPC_LAZY_CALL(curl, curl_easy_strerror)
#define curl_global_cleanup APPC_LAZY_CALL(curl, curl_global_cleanup)
#define curl_global_init APPC_LAZY_CALL(curl, curl_global_init)
#define curl_slist_append APPC_LAZY_CALL(curl, curl_slist_append)
#define curl_slist_free_all APPC_LAZY_CALL(curl, curl_slist_free_all)
#define curl_url APPC_LAZY_CALL(curl, curl_url)
#define curl_url_cleanup APPC_LAZY_CALL(curl, curl_url_cleanup)
#define curl_url_get APPC_LAZY_CALL(curl, curl_url_get)
#define curl_url_set APPC_LAZY_CALL(curl, curl_url_set)
#endif

#endif
