/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenPGP packet check that runs before gpg (trust/packets.c, armor.c): armored
 * blocks, clearsigned texts and binary packets.  Checking ends (nothing is
 * unpacked); a file accepted as a signature is accepted as a key too (a
 * key may hold signatures); a binary file accepted is the same verdict
 * once armored; an empty file is never accepted; an image's signature
 * (of a binary document) is accepted only where a signature is. */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "common/cleanup.h"
#include "trust/internal.h"
#include "tests/fuzz/fuzz.h"

static bool accepted(const char *data, size_t len, uint32_t allowed)
{
  cleanup_error appc_error_t err = NULL;
  int r = appc_openpgp_check(data, len, allowed, "f", &err);

  if (r < 0 && (err == NULL || err->msg[0] == '\0'))
    fuzz_fail("a refusal without a message");
  return r == 0;
}

/* The checksum of an armored block (RFC 4880, 6.1). */
static uint32_t crc24(const uint8_t *data, size_t size)
{
  uint32_t crc = 0xb704ce;

  for (size_t i = 0; i < size; i++) {
    crc ^= (uint32_t) data[i] << 16;
    for (int k = 0; k < 8; k++) {
      crc <<= 1;
      if (crc & 0x1000000)
        crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/* DATA armored as gpg armors a signature, with its checksum line. */
static char *armor(const uint8_t *data, size_t size, size_t *len)
{
  size_t b64 = (size + 2) / 3 * 4;
  char *out = malloc(b64 + 128);
  uint32_t crc = crc24(data, size);
  const uint8_t sum[3] = {(uint8_t) (crc >> 16), (uint8_t) (crc >> 8), (uint8_t) crc};

  if (out == NULL)
    fuzz_fail("out of memory");
  size_t n = (size_t) sprintf(out, "-----BEGIN PGP SIGNATURE-----\n\n");
  n += (size_t) EVP_EncodeBlock((unsigned char *) out + n, data, (int) size);
  n += (size_t) sprintf(out + n, "\n=");
  n += (size_t) EVP_EncodeBlock((unsigned char *) out + n, sum, 3);
  n += (size_t) sprintf(out + n, "\n-----END PGP SIGNATURE-----\n");
  *len = n;
  return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *) data;
  bool as_sig = accepted(text, size, APPC_OPENPGP_SIGNATURE);

  cleanup_error appc_error_t err = NULL;
  int binary = appc_openpgp_check_binary_signature(text, size, "f", &err);
  if (binary < 0 && (err == NULL || err->msg[0] == '\0'))
    fuzz_fail("a refusal without a message");
  if (binary == 0 && !as_sig)
    fuzz_fail("accepted as an image's signature, refused as a signature");
  if (as_sig && !accepted(text, size, APPC_OPENPGP_KEY))
    fuzz_fail("accepted as a signature, refused as a key");
  if (size == 0 && (as_sig || accepted(text, size, APPC_OPENPGP_KEY)))
    fuzz_fail("an empty file accepted");
  if (size > 0 && size < 4096 && (data[0] & 0x80)) {
    size_t len;
    cleanup_free char *armored = armor(data, size, &len);
    if (accepted(armored, len, APPC_OPENPGP_SIGNATURE) != as_sig)
      fuzz_fail("armoring the packets changed the verdict");
  }
  return 0;
}
