/* SPDX-License-Identifier: Apache-2.0 */
/* gpgme: signature verification and the trust store, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_GPGME_H
#define APPC_COMMON_LAZY_GPGME_H

#include <gpgme.h>

#include "common/lazy.h"

#define APPC_LAZY_GPGME(X)                                                                         \
  X(gpgme_check_version_internal)                                                                  \
  X(gpgme_ctx_set_engine_info)                                                                     \
  X(gpgme_data_new)                                                                                \
  X(gpgme_data_new_from_fd)                                                                        \
  X(gpgme_data_new_from_mem)                                                                       \
  X(gpgme_data_release)                                                                            \
  X(gpgme_data_release_and_get_mem)                                                                \
  X(gpgme_data_set_flag)                                                                           \
  X(gpgme_free)                                                                                    \
  X(gpgme_get_key)                                                                                 \
  X(gpgme_key_unref)                                                                               \
  X(gpgme_new)                                                                                     \
  X(gpgme_op_export)                                                                               \
  X(gpgme_op_import)                                                                               \
  X(gpgme_op_import_result)                                                                        \
  X(gpgme_op_verify)                                                                               \
  X(gpgme_op_verify_result)                                                                        \
  X(gpgme_pubkey_algo_string)                                                                      \
  X(gpgme_release)                                                                                 \
  X(gpgme_set_armor)                                                                               \
  X(gpgme_set_offline)                                                                             \
  X(gpgme_set_protocol)                                                                            \
  X(gpgme_strerror)

APPC_LAZY_DECLARE(gpgme, APPC_LAZY_GPGME)

#ifndef APPC_LAZY_NO_REDIRECT
#define gpgme_check_version_internal APPC_LAZY_CALL(gpgme, gpgme_check_version_internal)
#define gpgme_ctx_set_engine_info APPC_LAZY_CALL(gpgme, gpgme_ctx_set_engine_info)
#define gpgme_data_new APPC_LAZY_CALL(gpgme, gpgme_data_new)
#define gpgme_data_new_from_fd APPC_LAZY_CALL(gpgme, gpgme_data_new_from_fd)
#define gpgme_data_new_from_mem APPC_LAZY_CALL(gpgme, gpgme_data_new_from_mem)
#define gpgme_data_release APPC_LAZY_CALL(gpgme, gpgme_data_release)
#define gpgme_data_release_and_get_mem APPC_LAZY_CALL(gpgme, gpgme_data_release_and_get_mem)
#define gpgme_data_set_flag APPC_LAZY_CALL(gpgme, gpgme_data_set_flag)
#define gpgme_free APPC_LAZY_CALL(gpgme, gpgme_free)
#define gpgme_get_key APPC_LAZY_CALL(gpgme, gpgme_get_key)
#define gpgme_key_unref APPC_LAZY_CALL(gpgme, gpgme_key_unref)
#define gpgme_new APPC_LAZY_CALL(gpgme, gpgme_new)
#define gpgme_op_export APPC_LAZY_CALL(gpgme, gpgme_op_export)
#define gpgme_op_import APPC_LAZY_CALL(gpgme, gpgme_op_import)
#define gpgme_op_import_result APPC_LAZY_CALL(gpgme, gpgme_op_import_result)
#define gpgme_op_verify APPC_LAZY_CALL(gpgme, gpgme_op_verify)
#define gpgme_op_verify_result APPC_LAZY_CALL(gpgme, gpgme_op_verify_result)
#define gpgme_pubkey_algo_string APPC_LAZY_CALL(gpgme, gpgme_pubkey_algo_string)
#define gpgme_release APPC_LAZY_CALL(gpgme, gpgme_release)
#define gpgme_set_armor APPC_LAZY_CALL(gpgme, gpgme_set_armor)
#define gpgme_set_offline APPC_LAZY_CALL(gpgme, gpgme_set_offline)
#define gpgme_set_protocol APPC_LAZY_CALL(gpgme, gpgme_set_protocol)
#define gpgme_strerror APPC_LAZY_CALL(gpgme, gpgme_strerror)
#endif

#endif
