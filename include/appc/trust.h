/* SPDX-License-Identifier: Apache-2.0 */
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
#ifndef APPC_TRUST_H
#define APPC_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <appc/error.h>
#include <appc/store.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* Load and initialise gpgme, once, before any other trust function runs and
 * while the process has one thread (gpgme's rule).  gpgme also sets SIGPIPE
 * to SIG_IGN when it is SIG_DFL, so that a gpg dying mid-write cannot kill
 * the caller. */
int appc_trust_init(appc_error_t *err);

/* Sign FILE (an image, for `actool sign`) with a secret key of the user's
 * keyring: a detached, armored OpenPGP signature written atomically to OUT,
 * which fetch then checks against the keys trusted for the image's name.
 * OUT naming FILE itself (or a link to it) is refused before gpg is asked,
 * and so is an OUT that exists, unless OVERWRITE (an error tagged EEXIST). */
#define APPC_SIGN_OPTIONS_VERSION 2
struct appc_sign_options {
  unsigned version;    /* 0, or APPC_SIGN_OPTIONS_VERSION (<appc/appc.h>) */
  const char *key;     /* fingerprint, key ID or user ID of one secret key;
                          NULL: gpg's default key */
  const char *homedir; /* the keyring; NULL: $GNUPGHOME, else ~/.gnupg */
  const char *out;     /* NULL: FILE.asc */
  bool overwrite;      /* version 2: replace an existing OUT, which a caller of
                          version 2 or later sees refused (EEXIST) without it;
                          versions 0 and 1 always replace it */
};
int appc_sign_file(const char *file, const struct appc_sign_options *opts, appc_error_t *err);
/* The same for the bytes of FD from its current position to its end, so
 * that a caller can sign exactly what it checked through the same open file
 * (read it, rewind, sign).  NAME (the file's name) prefixes the messages and,
 * without OUT, names the signature NAME.asc; FD stays the caller's. */
int appc_sign_fd(int fd, const char *name, const struct appc_sign_options *opts, appc_error_t *err);

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
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
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
int appc_trust_keys_for_name(struct appc_store *store, const char *name,
                             struct appc_trust_keys *out, appc_error_t *err);

/* What a verification learned. */
struct appc_trust_result {
  char *fingerprint;         /* the signer's primary key */
  char *signing_fingerprint; /* the key that made the signature (a subkey or the primary) */
  char *key_file;            /* the trusted key file holding it, relative to the store directory */
  char *prefix;              /* what that key is trusted for; NULL for a root.d key */
  bool signature_missing;    /* on failure: ASC_PATH does not exist */
  __extension__ union { /* within the space reserved in soname 0's first release, on every ABI */
    struct {
      /* When the signature expires (seconds since the epoch); 0 if never,
       * or not known (a check of the signer alone). */
      int64_t signature_expires;
      /* When the key that made the signature expires, or its primary key
       * if that is sooner (seconds since the epoch); 0 if neither does;
       * -1 if not known (a check of the signer alone, or a key gpg could
       * not list). */
      int64_t key_expires;
    };
    void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
  };
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
 * The work is done by gpg through gpgme in a temporary GNUPGHOME that
 * the store gives (appc_store_tmpdir: its tmp/, mode 0700), removed before
 * returning, never the user's; the store's lock is held shared meanwhile
 * so that gc leaves that directory alone.  The keys are those of the
 * store's trust/ area (docs/store.md).  The caller must have called gpgme_check_version() once in
 * the process.  OUT is filled on success; on failure only OUT->signature_missing is meaningful.
 * Release it with appc_trust_result_clear either way. */
int appc_trust_verify(struct appc_store *store, const char *name, const char *aci_path,
                      const char *asc_path, struct appc_trust_result *out, appc_error_t *err);
/* The same for the image read from ACI_FD (from its current position to
 * its end), named ACI_NAME in messages: the bytes verified are then the
 * bytes a caller holds, not a path's contents at some other moment. */
int appc_trust_verify_fd(struct appc_store *store, const char *name, int aci_fd,
                         const char *aci_name, const char *asc_path, struct appc_trust_result *out,
                         appc_error_t *err);

/* Whether the detached signature at ASC_PATH was made by a key trusted for
 * NAME, or, with NAME NULL (an image fetched by URL, whose manifest names
 * it later), by any key of the key store: read before the image is
 * downloaded, so that an image nobody trusted vouches for is not (fetch
 * does this, as rkt does).  Only the signature is read: its issuer is found
 * among the keys, but nothing says yet that it signs the image, which
 * appc_trust_verify must check once it is there.  A missing ASC_PATH sets
 * OUT->signature_missing; data that is not exactly one signature, or a
 * signer that is unknown, untrusted, expired or revoked is refused with an
 * error naming ASC_PATH, as appc_trust_verify's.  OUT is filled on success
 * (SIGNING_FINGERPRINT may be a key ID); clear it either way. */
int appc_trust_check_signer(struct appc_store *store, const char *name, const char *asc_path,
                            struct appc_trust_result *out, appc_error_t *err);

/* The three above each make a keyring (a temporary GNUPGHOME and a gpg
 * import per key file) for one check.  A verifier keeps one for several:
 * the keys trusted for NAME (NULL: every key of the key store), with the
 * store's lock held shared until it is closed.  fetch checks a signature's
 * signer before it asks for the image, and, when the server answers that
 * its stored copy is unchanged, verifies that copy with the same keyring.
 * appc_trust_verifier_check_signer is appc_trust_check_signer for the
 * verifier's name; appc_trust_verifier_verify_fd is appc_trust_verify_fd
 * against the keys trusted for NAME (those the keyring lacks are added). */
struct appc_trust_verifier;
int appc_trust_verifier_open(struct appc_store *store, const char *name,
                             struct appc_trust_verifier **out, appc_error_t *err);
int appc_trust_verifier_check_signer(struct appc_trust_verifier *v, const char *asc_path,
                                     struct appc_trust_result *out, appc_error_t *err);
int appc_trust_verifier_verify_fd(struct appc_trust_verifier *v, const char *name, int aci_fd,
                                  const char *aci_name, const char *asc_path,
                                  struct appc_trust_result *out, appc_error_t *err);
/* Removes the keyring and drops the lock; V may be NULL. */
void appc_trust_verifier_close(struct appc_trust_verifier *v);

/* Verify a document with the keys of the keyring file KEYRING (public
 * keys, binary or armored: a distribution's archive keyring) instead of the
 * store's: every key in it is trusted, no other is.  With SIG NULL, DATA
 * (LEN bytes) is clearsigned (a Debian InRelease) and *PLAIN (NUL-terminated,
 * *PLAIN_LEN bytes; free it) receives the text that was signed, which is all
 * a caller should read; else SIG is a detached signature of DATA and PLAIN
 * may be NULL.  At least one good signature by a key of KEYRING is needed,
 * and a bad signature by any key refuses the document; errors name WHAT.
 * gpg works in a temporary GNUPGHOME in TMPDIR (NULL: $TMPDIR, else /tmp),
 * removed before returning.  appc_trust_init() must have been called. */
int appc_trust_verify_keyring(const char *keyring, const char *tmpdir, const char *what,
                              const void *data, size_t len, const void *sig, size_t sig_len,
                              char **plain, size_t *plain_len, appc_error_t *err);

/* ---- Managing the key store (actool trust) ----
 *
 * Like appc_trust_verify, these work in a temporary GNUPGHOME in the
 * store's tmp/ with the store's lock held shared, and gpgme_check_version()
 * must have been called. */

/* Key data larger than this is refused unread; a public key with a few
 * user IDs and subkeys is a few KiB. */
#define APPC_TRUST_KEY_MAX_BYTES (1u << 20)

/* What a public key says about itself. */
struct appc_trust_keyinfo {
  char *fingerprint; /* of the primary key, upper-case hex */
  char **user_ids;   /* its user IDs, in the key's order */
  size_t n_user_ids;
  char *algorithm;   /* of the primary key, as gpg spells it: "ed25519", "rsa3072" */
  long long created; /* seconds since the epoch; 0 if unknown */
  long long expires; /* seconds since the epoch; 0 if never */
  bool revoked;
  bool expired;
  bool can_sign;     /* the primary key or a subkey can make signatures now */
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_trust_keyinfo_clear(struct appc_trust_keyinfo *k);

/* Parse DATA, one OpenPGP public key (ASCII-armored or binary), and
 * describe it.  Data holding no key (empty, garbage), several keys, or
 * secret key material is refused with an error naming ORIGIN (the file or
 * URL it came from).  A revoked, expired or signing-incapable key is not
 * refused: OUT says so.  OUT is filled on success only; clear it then. */
int appc_trust_read_key(struct appc_store *store, const char *data, size_t len, const char *origin,
                        struct appc_trust_keyinfo *out, appc_error_t *err);

/* Check that PREFIX may hold trusted keys: the components rule of
 * appc_trust_prefixes, a valid AC Identifier (no image name could match
 * anything else), and no component spelt like a fingerprint (its directory
 * would be where its parent keeps the key file of that name). */
int appc_trust_validate_prefix(const char *prefix, appc_error_t *err);

enum appc_trust_add_outcome {
  APPC_TRUST_KEY_ADDED,     /* a new key file */
  APPC_TRUST_KEY_UNCHANGED, /* the key was there already with everything DATA holds */
  APPC_TRUST_KEY_UPDATED,   /* the key was there and its file is rewritten: DATA brought more
                               (a revocation, a user ID), or the file was not gpg's export */
};
struct appc_trust_added {
  struct appc_trust_keyinfo key; /* as now stored */
  char *path;                    /* the key file, relative to STORE_DIR */
  enum appc_trust_add_outcome outcome;
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_trust_added_clear(struct appc_trust_added *a);

/* Trust the key in DATA (as appc_trust_read_key accepts it) for PREFIX,
 * or for every name when PREFIX is NULL: write it, ASCII-armored as gpg
 * exports it, to trust/prefix.d/PREFIX/<FINGERPRINT> or
 * trust/root.d/<FINGERPRINT> (directories created 0755 as needed).  The
 * file is written as .<FINGERPRINT>.tmp-XXXXXX, fsynced and renamed into
 * place, and the directory fsynced.  When the key file exists already
 * (named in either case), DATA is merged into it as gpg would merge an
 * import, so that adding a key again never loses a revocation it recorded;
 * an existing file that does not hold exactly its key is refused, naming
 * it.  OUT is filled on success only; clear it then. */
int appc_trust_add(struct appc_store *store, const char *prefix, const char *data, size_t len,
                   const char *origin, struct appc_trust_added *out, appc_error_t *err);

/* One entry of the key store, as appc_trust_list found it. */
struct appc_trust_listed {
  char *path;        /* relative to the store directory */
  char *prefix;      /* NULL for root.d; "" for a file directly in prefix.d */
  char *fingerprint; /* the file's name upper-cased; NULL for a misplaced entry */
  char *user_id;     /* the key's first user ID; NULL if none or unreadable */
  char *problem;     /* why verification would refuse this entry; NULL for a good key file */
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
struct appc_trust_listing {
  struct appc_trust_listed *v;
  size_t n;
};
void appc_trust_listing_clear(struct appc_trust_listing *l);

/* The entries of the key store: root.d's when ROOT is set or PREFIX is
 * NULL, PREFIX's own (not those of longer prefixes) when PREFIX is given,
 * and every prefix's, depth first in name order, when neither is given.
 * Each key file is parsed for its user ID.  An entry that verification
 * would refuse (a misplaced file, a key file holding no key, several keys
 * or another key than its name) is listed with a PROBLEM rather than
 * failing the listing; I/O errors fail it. */
int appc_trust_list(struct appc_store *store, const char *prefix, bool root,
                    struct appc_trust_listing *out, appc_error_t *err);

/* Stop trusting the key FINGERPRINT (its 40 or 64 hex digits in any case;
 * spaces between them, as in gpg's display, are ignored): remove its key
 * files from root.d when ROOT is set, from PREFIX's directory when PREFIX
 * is given, and from every directory of the key store when neither is.
 * Only whole fingerprints are accepted, so that a removal never picks a key
 * by chance (anything else fails tagged EINVAL).  Removing nothing is an
 * error.  REMOVED lists the files
 * removed (also those removed before a failure); clear it either way. */
int appc_trust_remove(struct appc_store *store, const char *prefix, bool root,
                      const char *fingerprint, struct appc_trust_keys *removed, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
