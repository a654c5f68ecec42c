/* SPDX-License-Identifier: Apache-2.0 */
/* The content hash of a regular file: what the store's tree digests record
 * for a file (docs/render.md), and what the Containerfile build cache keys
 * a source file by.
 *
 * SHA-256 over the file cut in 64 KiB chunks, each chunk with a non-zero
 * byte as 'D' and its bytes, each run of all-zero chunks as 'Z' and its
 * count (u64, little-endian).  A chunk of zeros is one whether the file
 * stores it or leaves a hole, and a hole of any length costs one record: a
 * file that says it is terabytes costs no more to hash than its data. */
#ifndef APPC_COMMON_CONTENTHASH_H
#define APPC_COMMON_CONTENTHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <openssl/evp.h>

#include "appc/callbacks.h"
#include "appc/error.h"

#define APPC_CONTENT_CHUNK (64 * 1024)

struct appc_content_hash {
  EVP_MD_CTX *sha;
  uint32_t at;       /* bytes of the current chunk so far */
  bool data;         /* the current chunk has a non-zero byte ('D' written) */
  uint64_t zero_run; /* all-zero chunks before it, not yet written */
};

/* Start hashing with SHA, a context the caller owns (libcrypto bound). */
int appc_content_hash_begin(struct appc_content_hash *h, EVP_MD_CTX *sha, appc_error_t *err);
/* The next LEN bytes of the file, or LEN zeros (a hole, or zeros known). */
void appc_content_hash_data(struct appc_content_hash *h, const void *buf, size_t len);
void appc_content_hash_zeros(struct appc_content_hash *h, uint64_t len);
void appc_content_hash_end(struct appc_content_hash *h, unsigned char sha256[32]);

/* The content hash of the first SIZE bytes of the regular file open as FD:
 * its data read with pread into BUF (BUF_LEN bytes, the caller's), its
 * holes (SEEK_DATA, SEEK_HOLE) never read; CB (may be NULL) cancels it
 * between reads (ECANCELED).  A file shorter than SIZE is an error
 * ("shrank while being read"); the caller's message names the file. */
int appc_content_hash_fd(int fd, off_t size, void *buf, size_t buf_len,
                         const struct appc_callbacks *cb, unsigned char sha256[32],
                         appc_error_t *err);

#endif
