/* SPDX-License-Identifier: Apache-2.0 */
/* The OpenPGP packets (RFC 4880, section 4) of a signature or a key, looked
 * at before gpg reads them.  A signature is signature packets and a key is
 * key, user ID and signature packets; neither ever holds a compressed or a
 * literal data packet.  gpg would decompress what it is given: 3 KB of
 * compressed packets nested in each other unpack to gigabytes, minutes of
 * gpg's time, which no deadline of ours and no SIGTERM interrupts (gpgme
 * waits for it).  So the packet headers are read here, without unpacking
 * anything, and a file with any other packet is refused.  An image's
 * signature must also be of a binary document (check_signature_type).
 * Armor is decoded first as gpg decodes it (armor.c). */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>

#include "trust/internal.h"

/* How a file that is not what ALLOWED describes is called: the words the
 * key store and verification use for gpg's own refusals. */
static const char *not_one(uint32_t allowed)
{
  return allowed == APPC_OPENPGP_SIGNATURE ? "not an OpenPGP signature"
                                           : "holds no OpenPGP public key";
}

/* The name of the data packets, which a signature or a key never has. */
static const char *data_tag(unsigned tag)
{
  return tag == 8 ? " (compressed data)" : tag == 11 ? " (literal data)" : "";
}

/* A signature packet's BODY (LEN bytes) must sign a binary document (type
 * 0x00): gpg verifies a canonical text signature (0x01) against the data
 * with its line endings made CRLF, so that it holds for other bytes than
 * the image's, another image ID.  And over a digest in which collisions
 * can be made: not MD5 (1), SHA-1 (2) or RIPEMD-160 (3) (RFC 4880bis:
 * "MUST NOT" for new signatures).  Only the data's signature: a key's own
 * self-signatures may be of SHA-1 (older gpg made them so). */
static int check_signature_type(const unsigned char *body, uint64_t len, const char *what,
                                appc_error_t *err)
{
  /* version 3: version, hashed length (5), type, time (4), key ID (8),
   * public key and hash algorithms; 4 and 5: version, type, public key
   * and hash algorithms */
  bool v3 = len > 0 && body[0] == 3;
  size_t type_at = v3 ? 2 : 1, hash_at = v3 ? 16 : 3;

  if (len <= hash_at)
    return appc_error_make(err, 0, "%s: %s: a signature packet is cut short", what,
                           not_one(APPC_OPENPGP_SIGNATURE));
  if (body[type_at] != 0x00)
    return appc_error_make(err, 0,
                           "%s: a signature of type 0x%02x%s, not of a binary document (0x00): "
                           "it would hold for other bytes than the file's",
                           what, body[type_at], body[type_at] == 0x01 ? " (canonical text)" : "");
  if (body[hash_at] >= 1 && body[hash_at] <= 3)
    return appc_error_make(err, 0,
                           "%s: a signature over a %s digest, in which collisions can be made "
                           "(sign with SHA-256 or stronger)",
                           what,
                           body[hash_at] == 1   ? "MD5"
                           : body[hash_at] == 2 ? "SHA-1"
                                                : "RIPEMD-160");
  return 0;
}

/* The packets of DATA (LEN bytes), each header read and its body skipped. */
static int check_packets(const unsigned char *data, size_t len, uint32_t allowed, bool binary_doc,
                         const char *what, appc_error_t *err)
{
  size_t i = 0;

  if (len == 0)
    return appc_error_make(err, 0, "%s: %s", what, not_one(allowed));
  while (i < len) {
    unsigned b = data[i++], tag;
    uint64_t body = 0;
    if (!(b & 0x80))
      return appc_error_make(err, 0, "%s: %s (byte %zu is no packet header)", what,
                             not_one(allowed), i - 1);
    if (b & 0x40) { /* new format */
      tag = b & 0x3f;
      if (i >= len)
        goto truncated;
      unsigned l0 = data[i++];
      if (l0 < 192) {
        body = l0;
      } else if (l0 < 224) {
        if (i >= len)
          goto truncated;
        body = ((uint64_t) (l0 - 192) << 8) + data[i++] + 192;
      } else if (l0 == 255) {
        if (len - i < 4)
          goto truncated;
        body = (uint64_t) data[i] << 24 | (uint64_t) data[i + 1] << 16 |
               (uint64_t) data[i + 2] << 8 | data[i + 3];
        i += 4;
      } else {
        return appc_error_make(err, 0,
                               "%s: %s: a packet of tag %u%s, of partial lengths, as only "
                               "data packets have",
                               what, not_one(allowed), tag, data_tag(tag));
      }
    } else { /* old format */
      tag = (b >> 2) & 0x0f;
      unsigned n = (b & 3) == 3 ? 0 : 1u << (b & 3);
      if (n == 0)
        return appc_error_make(err, 0,
                               "%s: %s: a packet of tag %u%s, of no stated length, as only "
                               "data packets have",
                               what, not_one(allowed), tag, data_tag(tag));
      if (len - i < n)
        goto truncated;
      for (unsigned k = 0; k < n; k++)
        body = body << 8 | data[i++];
    }
    if (tag >= 32 || !(allowed & (UINT32_C(1) << tag)))
      return appc_error_make(err, 0, "%s: %s: it holds a packet of tag %u%s, which %s never has",
                             what, not_one(allowed), tag, data_tag(tag),
                             allowed == APPC_OPENPGP_SIGNATURE ? "a signature" : "a key");
    if (body > len - i)
      goto truncated;
    if (binary_doc && tag == 2 && check_signature_type(data + i, body, what, err) < 0)
      return -1;
    i += (size_t) body;
  }
  return 0;
truncated:
  return appc_error_make(err, 0, "%s: %s: a packet is cut short", what, not_one(allowed));
}

struct packet_check {
  uint32_t allowed;
  bool binary_doc;
  const char *what;
};

static int check_block(const unsigned char *packets, size_t len, void *arg, appc_error_t *err)
{
  const struct packet_check *c = arg;
  return check_packets(packets, len, c->allowed, c->binary_doc, c->what, err);
}

static int check(const char *data, size_t len, uint32_t allowed, bool binary_doc, const char *what,
                 appc_error_t *err)
{
  struct packet_check c = {allowed, binary_doc, what};

  if (len > 0 && ((unsigned char) data[0] & 0x80))
    return check_packets((const unsigned char *) data, len, allowed, binary_doc, what, err);
  /* armor, read as gpg reads it (armor.c) */
  int blocks = appc_openpgp_armored_blocks(data, len, what, not_one(allowed), check_block, &c, err);
  if (blocks < 0)
    return -1;
  if (blocks == 0)
    return appc_error_make(err, 0, "%s: %s", what, not_one(allowed));
  return 0;
}

int appc_openpgp_check(const char *data, size_t len, uint32_t allowed, const char *what,
                       appc_error_t *err)
{
  return check(data, len, allowed, false, what, err);
}

int appc_openpgp_check_binary_signature(const char *data, size_t len, const char *what,
                                        appc_error_t *err)
{
  return check(data, len, APPC_OPENPGP_SIGNATURE, true, what, err);
}
