/* SPDX-License-Identifier: Apache-2.0 */
/* The content hash of a file (common/contenthash.h). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "common/callbacks.h"
#include "common/contenthash.h"
#include "common/lazy.h"

static const unsigned char zero_chunk[APPC_CONTENT_CHUNK];

static void flush_zero_run(struct appc_content_hash *h)
{
  unsigned char rec[9] = {'Z'};

  if (h->zero_run == 0)
    return;
  for (int i = 0; i < 8; i++)
    rec[1 + i] = (unsigned char) (h->zero_run >> (8 * i));
  EVP_DigestUpdate(h->sha, rec, sizeof rec);
  h->zero_run = 0;
}

static void end_chunk(struct appc_content_hash *h)
{
  if (!h->data)
    h->zero_run++;
  h->at = 0;
  h->data = false;
}

/* The current chunk turns out to hold data: its record starts with the
 * zeros seen so far. */
static void start_data(struct appc_content_hash *h)
{
  flush_zero_run(h);
  EVP_DigestUpdate(h->sha, "D", 1);
  EVP_DigestUpdate(h->sha, zero_chunk, h->at);
  h->data = true;
}

static bool all_zero(const unsigned char *p, size_t n)
{
  return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int appc_content_hash_begin(struct appc_content_hash *h, EVP_MD_CTX *sha, appc_error_t *err)
{
  *h = (struct appc_content_hash){.sha = sha};
  if (EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1)
    return appc_error_make(err, ENOMEM, "sha256");
  return 0;
}

void appc_content_hash_data(struct appc_content_hash *h, const void *buf, size_t len)
{
  const unsigned char *p = buf;

  while (len > 0) {
    size_t n = APPC_CONTENT_CHUNK - h->at;
    if (n > len)
      n = len;
    if (!h->data && !all_zero(p, n))
      start_data(h);
    if (h->data)
      EVP_DigestUpdate(h->sha, p, n);
    h->at += (uint32_t) n;
    if (h->at == APPC_CONTENT_CHUNK)
      end_chunk(h);
    p += n;
    len -= n;
  }
}

void appc_content_hash_zeros(struct appc_content_hash *h, uint64_t len)
{
  if (h->at > 0 && len > 0) { /* the rest of the current chunk */
    size_t n = APPC_CONTENT_CHUNK - h->at;
    if (n > len)
      n = (size_t) len;
    if (h->data)
      EVP_DigestUpdate(h->sha, zero_chunk, n);
    h->at += (uint32_t) n;
    if (h->at == APPC_CONTENT_CHUNK)
      end_chunk(h);
    len -= n;
  }
  if (len == 0)
    return;
  /* at a chunk's start: whole chunks of zeros, then part of one */
  h->zero_run += len / APPC_CONTENT_CHUNK;
  h->at = (uint32_t) (len % APPC_CONTENT_CHUNK);
}

void appc_content_hash_end(struct appc_content_hash *h, unsigned char sha256[32])
{
  if (h->at > 0) /* a last, shorter chunk */
    end_chunk(h);
  flush_zero_run(h);
  EVP_DigestFinal_ex(h->sha, sha256, NULL);
}

/* Read [OFF, END) of FD into the hash, through BUF. */
static int hash_range(struct appc_content_hash *h, int fd, off_t off, off_t end, void *buf,
                      size_t buf_len, const struct appc_callbacks *cb, appc_error_t *err)
{
  while (off < end) {
    if (appc_cb_cancelled(cb))
      return appc_error_make(err, ECANCELED, "reading cancelled");
    size_t want = (uint64_t) (end - off) < buf_len ? (size_t) (end - off) : buf_len;
    ssize_t n = pread(fd, buf, want, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "read");
    if (n == 0)
      return appc_error_make(err, 0, "shrank while being read");
    appc_content_hash_data(h, buf, (size_t) n);
    off += n;
  }
  return 0;
}

int appc_content_hash_fd(int fd, off_t size, void *buf, size_t buf_len,
                         const struct appc_callbacks *cb, unsigned char sha256[32],
                         appc_error_t *err)
{
  EVP_MD_CTX *ctx = NULL;
  struct appc_content_hash h;
  int ret = -1;

  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0)
    return -1;
  if ((ctx = EVP_MD_CTX_new()) == NULL) {
    appc_error_make(err, ENOMEM, "sha256");
    goto out;
  }
  if (appc_content_hash_begin(&h, ctx, err) < 0)
    goto out;
  for (off_t off = 0; off < size;) {
    off_t data = lseek(fd, off, SEEK_DATA), hole;
    if (data < 0 && errno == ENXIO)
      data = size;     /* a hole to the end */
    else if (data < 0) /* no SEEK_DATA here: all of it is read */
      data = off;
    if (data > size)
      data = size;
    appc_content_hash_zeros(&h, (uint64_t) (data - off));
    hole = data < size ? lseek(fd, data, SEEK_HOLE) : size;
    if (hole < 0 || hole > size)
      hole = size;
    if (hash_range(&h, fd, data, hole, buf, buf_len, cb, err) < 0)
      goto out;
    off = hole;
  }
  appc_content_hash_end(&h, sha256);
  ret = 0;
out:
  EVP_MD_CTX_free(ctx);
  return ret;
}
