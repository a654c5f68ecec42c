/* SPDX-License-Identifier: Apache-2.0 */
/* libmicrohttpd: the executor's metadata service, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_MHD_H
#define APPC_COMMON_LAZY_MHD_H

#include <microhttpd.h>

#include "common/lazy.h"

#define APPC_LAZY_MHD(X)                                                                           \
  X(MHD_add_response_header)                                                                       \
  X(MHD_create_post_processor)                                                                     \
  X(MHD_create_response_from_buffer)                                                               \
  X(MHD_destroy_post_processor)                                                                    \
  X(MHD_destroy_response)                                                                          \
  X(MHD_lookup_connection_value)                                                                   \
  X(MHD_post_process)                                                                              \
  X(MHD_queue_response)                                                                            \
  X(MHD_quiesce_daemon)                                                                            \
  X(MHD_start_daemon)                                                                              \
  X(MHD_stop_daemon)

APPC_LAZY_DECLARE(mhd, APPC_LAZY_MHD)

#ifndef APPC_LAZY_NO_REDIRECT
#define MHD_add_response_header APPC_LAZY_CALL(mhd, MHD_add_response_header)
#define MHD_create_post_processor APPC_LAZY_CALL(mhd, MHD_create_post_processor)
#define MHD_create_response_from_buffer APPC_LAZY_CALL(mhd, MHD_create_response_from_buffer)
#define MHD_destroy_post_processor APPC_LAZY_CALL(mhd, MHD_destroy_post_processor)
#define MHD_destroy_response APPC_LAZY_CALL(mhd, MHD_destroy_response)
#define MHD_lookup_connection_value APPC_LAZY_CALL(mhd, MHD_lookup_connection_value)
#define MHD_post_process APPC_LAZY_CALL(mhd, MHD_post_process)
#define MHD_queue_response APPC_LAZY_CALL(mhd, MHD_queue_response)
#define MHD_quiesce_daemon APPC_LAZY_CALL(mhd, MHD_quiesce_daemon)
#define MHD_start_daemon APPC_LAZY_CALL(mhd, MHD_start_daemon)
#define MHD_stop_daemon APPC_LAZY_CALL(mhd, MHD_stop_daemon)
#endif

#endif
