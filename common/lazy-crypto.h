/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL libcrypto: SHA-512 and SHA-256 digests, HMAC, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_CRYPTO_H
#define APPC_COMMON_LAZY_CRYPTO_H

#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "common/lazy.h"

#define APPC_LAZY_CRYPTO(X)                                                                        \
  X(CRYPTO_memcmp)                                                                                 \
  X(EVP_Digest)                                                                                    \
  X(EVP_DigestFinal_ex)                                                                            \
  X(EVP_DigestInit_ex)                                                                             \
  X(EVP_DigestSignFinal)                                                                           \
  X(EVP_DigestSignInit)                                                                            \
  X(EVP_DigestSignUpdate)                                                                          \
  X(EVP_DigestUpdate)                                                                              \
  X(EVP_EncodeBlock)                                                                               \
  X(EVP_MD_CTX_free)                                                                               \
  X(EVP_MD_CTX_new)                                                                                \
  X(EVP_PKEY_free)                                                                                 \
  X(EVP_PKEY_new_mac_key)                                                                          \
  X(EVP_sha256)                                                                                    \
  X(EVP_sha512)                                                                                    \
  X(OPENSSL_cleanse)

APPC_LAZY_DECLARE(crypto, APPC_LAZY_CRYPTO)

#ifndef APPC_LAZY_NO_REDIRECT
#define CRYPTO_memcmp APPC_LAZY_CALL(crypto, CRYPTO_memcmp)
#define EVP_Digest APPC_LAZY_CALL(crypto, EVP_Digest)
#define EVP_DigestFinal_ex APPC_LAZY_CALL(crypto, EVP_DigestFinal_ex)
#define EVP_DigestInit_ex APPC_LAZY_CALL(crypto, EVP_DigestInit_ex)
#define EVP_DigestSignFinal APPC_LAZY_CALL(crypto, EVP_DigestSignFinal)
#define EVP_DigestSignInit APPC_LAZY_CALL(crypto, EVP_DigestSignInit)
#define EVP_DigestSignUpdate APPC_LAZY_CALL(crypto, EVP_DigestSignUpdate)
#define EVP_DigestUpdate APPC_LAZY_CALL(crypto, EVP_DigestUpdate)
#define EVP_EncodeBlock APPC_LAZY_CALL(crypto, EVP_EncodeBlock)
#define EVP_MD_CTX_free APPC_LAZY_CALL(crypto, EVP_MD_CTX_free)
#define EVP_MD_CTX_new APPC_LAZY_CALL(crypto, EVP_MD_CTX_new)
#define EVP_PKEY_free APPC_LAZY_CALL(crypto, EVP_PKEY_free)
#define EVP_PKEY_new_mac_key APPC_LAZY_CALL(crypto, EVP_PKEY_new_mac_key)
#define EVP_sha256 APPC_LAZY_CALL(crypto, EVP_sha256)
#define EVP_sha512 APPC_LAZY_CALL(crypto, EVP_sha512)
#define OPENSSL_cleanse APPC_LAZY_CALL(crypto, OPENSSL_cleanse)
#endif

#endif
