/* libappc trust: the keys trusted to sign images, and verifying an ACI's
 * detached OpenPGP signature against them (as rkt does).
 *
 * Keys live in the store directory (docs/trust.md):
 *
 *   DIR/trust/root.d/<FINGERPRINT>                 trusted for every image name
 *   DIR/trust/prefix.d/<PREFIX>/<FINGERPRINT>      trusted for PREFIX and the names below it
 *
 * each file an ASCII-armored public key named after its fingerprint.  The
 * keys that apply to "example.com/app/x" are those of root.d and of
 * prefix.d/example.com, prefix.d/example.com/app and prefix.d/example.com/app/x:
 * a prefix covers a name only at a "/" boundary.  Nothing here prints or
 * exits.
 */
#ifndef APPC_TRUST_TRUST_H
#define APPC_TRUST_TRUST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

/* Directories of the key store, relative to the store directory. */
#define APPC_TRUST_ROOT_DIR "trust/root.d"
#define APPC_TRUST_PREFIX_DIR "trust/prefix.d"

/* The prefixes whose keys apply to NAME, shortest first: "example.com/app/x"
 * gives "example.com", "example.com/app" and "example.com/app/x".  A
 * component that is empty (a leading, trailing or doubled "/"), "." or ".."
 * is refused, since it would name another directory of the key store. */
int appc_trust_prefixes(const char *name, char ***out, size_t *n, appc_error_t *err);
void appc_trust_prefixes_free(char **prefixes, size_t n);

/* One trusted key file. */
struct appc_trust_key {
  char *path;        /* relative to the store directory, e.g. trust/root.d/<fpr> */
  char *prefix;      /* the prefix it is trusted for; NULL for a root.d key */
  char *fingerprint; /* the file's name, upper-cased */
};
struct appc_trust_keys {
  struct appc_trust_key *v;
  size_t n;
};
void appc_trust_keys_clear(struct appc_trust_keys *keys);

/* Every key file that applies to NAME: root.d's, then each prefix's from
 * the shortest, each directory's in name order.  Missing directories hold no
 * keys.  Names starting with "." (temporaries) and subdirectories (longer
 * prefixes) are skipped; any other entry must be a regular file (symlinks
 * are followed) named by 40 or 64 hex digits, else the selection fails
 * naming it, so that a misplaced key is reported rather than ignored. */
int appc_trust_keys_for_name(const char *store_dir, const char *name, struct appc_trust_keys *out,
                             appc_error_t *err);

/* What a verification learned. */
struct appc_trust_result {
  char *fingerprint;         /* the signer's primary key */
  char *signing_fingerprint; /* the key that made the signature (a subkey or the primary) */
  char *key_file;            /* the trusted key file holding it, relative to the store directory */
  char *prefix;              /* what that key is trusted for; NULL for a root.d key */
  bool signature_missing;    /* on failure: ASC_PATH does not exist */
};
void appc_trust_result_clear(struct appc_trust_result *r);

/* Verify that ASC_PATH is a good detached OpenPGP signature (armored or
 * binary) of the file at ACI_PATH made by a key trusted for NAME, the name
 * in the image's manifest.  Exactly one signature is accepted; a bad
 * signature, a signature by an unknown, untrusted, expired or revoked key,
 * or an expired signature is refused with an error naming ASC_PATH and the
 * reason.  Trust comes from the placement of the key file alone: gpg's own
 * validity (certification by an ultimately trusted key) is not required.
 *
 * The work is done by gpg through gpgme in a temporary GNUPGHOME created
 * under STORE_DIR/tmp/ (mode 0700) and removed before returning, never the
 * user's; the store's lock (STORE_DIR/lock, which must exist: open the
 * store first) is held shared meanwhile so that gc leaves that directory
 * alone.  The caller must have called gpgme_check_version() once in the
 * process.  OUT is filled on success; on failure only
 * OUT->signature_missing is meaningful.  Release it with
 * appc_trust_result_clear either way. */
int appc_trust_verify(const char *store_dir, const char *name, const char *aci_path,
                      const char *asc_path, struct appc_trust_result *out, appc_error_t *err);

#endif
