/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-512 image IDs over OpenSSL's EVP interface. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aci/internal.h"
#include "common/digest.h"

/* An image ID is the SHA-512 of the uncompressed tar: common/digest's, with
 * the appc prefix. */
struct appc_hash {
  struct appc_digest *d;
};

int appc_hash_new(struct appc_hash **out, appc_error_t *err)
{
  struct appc_hash *h = calloc(1, sizeof *h);

  if (h == NULL)
    return appc_error_make(err, ENOMEM, "sha512");
  if (appc_digest_new(APPC_DIGEST_SHA512, &h->d, err) < 0) {
    free(h);
    return -1;
  }
  *out = h;
  return 0;
}

void appc_hash_update(struct appc_hash *h, const void *buf, size_t len)
{
  appc_digest_update(h->d, buf, len);
}

int appc_hash_final(struct appc_hash *h, char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  size_t p = sizeof(APPC_IMAGE_ID_PREFIX) - 1;

  memcpy(id, APPC_IMAGE_ID_PREFIX, p);
  return appc_digest_final(h->d, id + p, err) < 0 ? appc_error_prefix(err, "sha512") : 0;
}

void appc_hash_free(struct appc_hash *h)
{
  if (h == NULL)
    return;
  appc_digest_free(h->d);
  free(h);
}
