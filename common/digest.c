/* SPDX-License-Identifier: Apache-2.0 */
/* Content digests over libcrypto's EVP interface. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "common/digest.h"
#include "common/lazy.h"

struct appc_digest {
  EVP_MD_CTX *ctx;
  size_t size; /* bytes of the digest */
};

static const char *alg_name(enum appc_digest_alg alg)
{
  return alg == APPC_DIGEST_SHA256 ? "sha256" : "sha512";
}

int appc_digest_new(enum appc_digest_alg alg, struct appc_digest **out, appc_error_t *err)
{
  struct appc_digest *d = calloc(1, sizeof *d);

  if (d == NULL)
    return appc_error_make(err, ENOMEM, "%s", alg_name(alg));
  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0) {
    free(d);
    return appc_error_prefix(err, "%s", alg_name(alg));
  }
  d->size = alg == APPC_DIGEST_SHA256 ? 32 : 64;
  d->ctx = EVP_MD_CTX_new();
  if (d->ctx == NULL ||
      EVP_DigestInit_ex(d->ctx, alg == APPC_DIGEST_SHA256 ? EVP_sha256() : EVP_sha512(), NULL) !=
          1) {
    appc_digest_free(d);
    return appc_error_make(err, 0, "%s: cannot initialise the digest", alg_name(alg));
  }
  *out = d;
  return 0;
}

void appc_digest_update(struct appc_digest *d, const void *buf, size_t len)
{
  /* EVP_DigestUpdate on an initialised context cannot fail. */
  if (len > 0)
    (void) EVP_DigestUpdate(d->ctx, buf, len);
}

int appc_digest_final(struct appc_digest *d, char hex[APPC_DIGEST_HEX_MAX], appc_error_t *err)
{
  static const char digits[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  if (EVP_DigestFinal_ex(d->ctx, md, &n) != 1 || n != d->size)
    return appc_error_make(err, 0, "cannot finish the digest");
  for (unsigned int i = 0; i < n; i++) {
    hex[2 * i] = digits[md[i] >> 4];
    hex[2 * i + 1] = digits[md[i] & 0xf];
  }
  hex[2 * n] = '\0';
  return 0;
}

void appc_digest_free(struct appc_digest *d)
{
  if (d == NULL)
    return;
  EVP_MD_CTX_free(d->ctx);
  free(d);
}

int appc_digest_buffer(enum appc_digest_alg alg, const void *buf, size_t len,
                       char hex[APPC_DIGEST_HEX_MAX], appc_error_t *err)
{
  struct appc_digest *d = NULL;
  int r;

  if (appc_digest_new(alg, &d, err) < 0)
    return -1;
  appc_digest_update(d, buf, len);
  r = appc_digest_final(d, hex, err);
  appc_digest_free(d);
  return r;
}

static bool lower_hex(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[n] == '\0';
}

bool appc_digest_parse(const char *digest, enum appc_digest_alg *alg, const char **hex)
{
  if (strncmp(digest, "sha256:", 7) == 0 && lower_hex(digest + 7, 64)) {
    *alg = APPC_DIGEST_SHA256;
    *hex = digest + 7;
    return true;
  }
  if (strncmp(digest, "sha512:", 7) == 0 && lower_hex(digest + 7, 128)) {
    *alg = APPC_DIGEST_SHA512;
    *hex = digest + 7;
    return true;
  }
  return false;
}
