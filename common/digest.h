/* SPDX-License-Identifier: Apache-2.0 */
/* Content digests as OCI and appc write them ("sha256:HEX", "sha512-HEX"):
 * one wrapper over libcrypto's EVP for every module that hashes a stream. */
#ifndef APPC_COMMON_DIGEST_H
#define APPC_COMMON_DIGEST_H

#include <stdbool.h>
#include <stddef.h>

#include "appc/error.h"

enum appc_digest_alg { APPC_DIGEST_SHA256, APPC_DIGEST_SHA512 };

/* The longest hex digest (SHA-512) and its NUL. */
#define APPC_DIGEST_HEX_MAX 129

struct appc_digest;

/* A running digest of ALG (binding libcrypto first). */
int appc_digest_new(enum appc_digest_alg alg, struct appc_digest **out, appc_error_t *err);
void appc_digest_update(struct appc_digest *d, const void *buf, size_t len);
/* The digest in lower-case hex, into HEX (APPC_DIGEST_HEX_MAX bytes). */
int appc_digest_final(struct appc_digest *d, char hex[APPC_DIGEST_HEX_MAX], appc_error_t *err);
void appc_digest_free(struct appc_digest *d);
/* The digest of LEN bytes at BUF, at once. */
int appc_digest_buffer(enum appc_digest_alg alg, const void *buf, size_t len,
                       char hex[APPC_DIGEST_HEX_MAX], appc_error_t *err);

/* Parse an OCI digest "ALG:HEX" (sha256 with 64 lower-case hex digits,
 * sha512 with 128): its algorithm and where its hex starts.  False for
 * anything else, including algorithms this does not know. */
bool appc_digest_parse(const char *digest, enum appc_digest_alg *alg, const char **hex);

static inline void appc_digest_freep(struct appc_digest **d)
{
  appc_digest_free(*d);
}
#define cleanup_digest __attribute__((cleanup(appc_digest_freep)))

#endif
