/* SPDX-License-Identifier: Apache-2.0 */
/* trust/: what the module's files share and nothing else uses. */
#ifndef APPC_TRUST_INTERNAL_H
#define APPC_TRUST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gpgme.h>

#include "common/lazy.h"

#include "appc/error.h"
#include "appc/trust.h"

static inline void appc_gpgme_ctx_releasep(gpgme_ctx_t *ctx)
{
  if (*ctx != NULL)
    gpgme_release(*ctx);
}

static inline void appc_gpgme_data_releasep(gpgme_data_t *d)
{
  if (*d != NULL)
    gpgme_data_release(*d);
}

static inline void appc_gpgme_key_unrefp(gpgme_key_t *k)
{
  if (*k != NULL)
    gpgme_key_unref(*k);
}

#define cleanup_gpgme_ctx __attribute__((cleanup(appc_gpgme_ctx_releasep)))
#define cleanup_gpgme_data __attribute__((cleanup(appc_gpgme_data_releasep)))
#define cleanup_gpgme_key __attribute__((cleanup(appc_gpgme_key_unrefp)))

/* The key store's directories, relative to the store's: its trust/ area
 * ("trust") and the root.d and prefix.d in it.  The store names the area;
 * the layout inside is this module's (docs/trust.md). */
#define TRUST_ROOT_D "root.d"
#define TRUST_PREFIX_D "prefix.d"
/* AREA/SUB (SUB one of the two above, or prefix.d/PREFIX), malloc'ed. */
char *appc_trust_rel(const char *sub);

/* Append the key file REL_DIR/FILE (FILE a fingerprint), trusted for PREFIX
 * (NULL: every name), to KEYS. */
int appc_trust_keys_add(struct appc_trust_keys *keys, const char *rel_dir, const char *prefix,
                        const char *file, appc_error_t *err);

/* Every well-placed key file of the key store (root.d's and each prefix's),
 * as appc_trust_keys_for_name gives them for one name; misplaced entries,
 * which no verification would use, are left out. */
int appc_trust_all_keys(struct appc_store *store, struct appc_trust_keys *out, appc_error_t *err);

/* A file name spelt like a fingerprint: 40 hex digits (v4), or 64 (v5). */
bool appc_trust_is_fingerprint(const char *name);

/* A keyring made for one operation, never the user's (docs/trust.md,
 * "How"): the store's lock held shared (so that gc, which holds it
 * exclusive, leaves the home alone), a GNUPGHOME the store gives in its
 * tmp/ (gnupg-XXXXXX) and a gpgme context on it.  Close releases them in
 * the reverse order, whatever open got to; {0} is closed already. */
struct appc_trust_gpg {
  struct appc_store *store;
  bool locked;
  char *home;
  gpgme_ctx_t ctx;
};
int appc_trust_gpg_open(struct appc_store *store, struct appc_trust_gpg *g, appc_error_t *err);
void appc_trust_gpg_close(struct appc_trust_gpg *g);
#define cleanup_trust_gpg __attribute__((cleanup(appc_trust_gpg_close)))

/* gpg finds a signature good whatever date it bears.  One dated later than
 * an hour from now (clock skew) claims to come from the future: 1, with
 * the date written to WHEN (UTC, ISO 8601), else 0. */
int appc_trust_sig_from_future(gpgme_signature_t sig, char when[32]);

/* A temporary GNUPGHOME (mode 0700, with gpg.conf) in TMPDIR (NULL:
 * $TMPDIR, else /tmp), for operations without a store; and the removal of
 * one (frees HOME; NULL is nothing). */
int appc_trust_temp_home_at(const char *tmpdir, char **out, appc_error_t *err);
void appc_trust_temp_home_remove(char *home);

/* A gpgme context for OpenPGP on the keyring HOME (NULL: gpg's default,
 * $GNUPGHOME or ~/.gnupg), offline. */
int appc_trust_new_context(const char *home, gpgme_ctx_t *out, appc_error_t *err);

/* "WHAT: gpgme's message", returning -1. */
int appc_trust_gpgme_failure(appc_error_t *err, gpgme_error_t e, const char *what);

/* ---- packets.c ---- */

/* The OpenPGP packet tags (RFC 4880, 4.3) a file may hold, as a mask. */
#define APPC_OPENPGP_TAG(t) (UINT32_C(1) << (t))
#define APPC_OPENPGP_SIGNATURE APPC_OPENPGP_TAG(2)
/* (secret keys too, 5 and 7, which the key store refuses with a message
 * of its own) */
#define APPC_OPENPGP_KEY                                                                           \
  (APPC_OPENPGP_TAG(2) | APPC_OPENPGP_TAG(5) | APPC_OPENPGP_TAG(6) | APPC_OPENPGP_TAG(7) |         \
   APPC_OPENPGP_TAG(12) | APPC_OPENPGP_TAG(13) | APPC_OPENPGP_TAG(14) | APPC_OPENPGP_TAG(17))
/* Whether DATA (LEN bytes; binary, or armored, or a clearsigned text) holds
 * only packets whose tags ALLOWED has, read from their headers without
 * unpacking anything: a signature or a key holds no compressed data, and
 * compressed packets nested in each other are gigabytes for gpg. */
int appc_openpgp_check(const char *data, size_t len, uint32_t allowed, const char *what,
                       appc_error_t *err);
/* appc_openpgp_check of a signature whose every signature packet is of a
 * binary document (type 0x00), as an image's must be: one of canonical
 * text (0x01, a clearsigned text's) holds for other bytes too. */
int appc_openpgp_check_binary_signature(const char *data, size_t len, const char *what,
                                        appc_error_t *err);

/* ---- armor.c ---- */

/* Given the packets of one armored block, decoded. */
typedef int appc_openpgp_block_fn(const unsigned char *packets, size_t len, void *arg,
                                  appc_error_t *err);
/* The armored blocks of DATA (LEN bytes: armor, or a clearsigned text, and
 * the text around them) decoded and given to FN in turn, as gpg would
 * decode them; armor that gpg reads otherwise than as written is refused
 * ("WHAT: REFUSAL: line N: ..."), gpg's leniencies being where a file can
 * hide packets from a check.  The number of blocks, or -1. */
int appc_openpgp_armored_blocks(const char *data, size_t len, const char *what, const char *refusal,
                                appc_openpgp_block_fn *fn, void *arg, appc_error_t *err);

/* ---- gpg.c ---- */

/* The one primary key that an import brought in (new or already there),
 * or NULL when it brought none or several; *DISTINCT tells which. */
const char *appc_trust_single_imported_key(gpgme_import_result_t res, size_t *distinct);

/* Import the trusted key file at PATH, checking that it holds exactly the
 * key FINGERPRINT (any case): a file holding another key, or several,
 * would extend trust beyond what the key store shows. */
int appc_trust_import_key_file(gpgme_ctx_t ctx, const char *path, const char *fingerprint,
                               appc_error_t *err);

#endif
