/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-512 image IDs over OpenSSL's EVP interface. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "aci/internal.h"
#include "common/lazy.h"

struct appc_hash {
  EVP_MD_CTX *ctx;
};

int appc_hash_new(struct appc_hash **out, appc_error_t *err)
{
  struct appc_hash *h = calloc(1, sizeof *h);
  if (h == NULL)
    return appc_error_make(err, ENOMEM, "sha512");
  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0) {
    free(h);
    return appc_error_prefix(err, "sha512");
  }
  h->ctx = EVP_MD_CTX_new();
  if (h->ctx == NULL || EVP_DigestInit_ex(h->ctx, EVP_sha512(), NULL) != 1) {
    appc_hash_free(h);
    return appc_error_make(err, 0, "sha512: cannot initialise the digest");
  }
  *out = h;
  return 0;
}

void appc_hash_update(struct appc_hash *h, const void *buf, size_t len)
{
  /* EVP_DigestUpdate on an initialised SHA-512 context cannot fail. */
  if (len > 0)
    (void) EVP_DigestUpdate(h->ctx, buf, len);
}

int appc_hash_final(struct appc_hash *h, char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  size_t p = sizeof(APPC_IMAGE_ID_PREFIX) - 1;

  if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 64)
    return appc_error_make(err, 0, "sha512: cannot finish the digest");
  memcpy(id, APPC_IMAGE_ID_PREFIX, p);
  for (unsigned int i = 0; i < n; i++) {
    id[p++] = hex[md[i] >> 4];
    id[p++] = hex[md[i] & 0xf];
  }
  id[p] = '\0';
  return 0;
}

void appc_hash_free(struct appc_hash *h)
{
  if (h == NULL)
    return;
  EVP_MD_CTX_free(h->ctx);
  free(h);
}
