/* SPDX-License-Identifier: Apache-2.0 */
/* Signing an image: a detached, armored OpenPGP signature made by gpg
 * (through gpgme) with a secret key of the user's own keyring, which is
 * what fetch checks against the keys trusted for the image's name
 * (docs/trust.md, "Signing"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc/trust.h"
#include "common/error.h"
#include "common/abi.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "trust/internal.h"

/* How many keys an ambiguous KEY's message names. */
#define AMBIGUOUS_SHOWN 4

/* The one secret key that the pattern KEY (a fingerprint, a key ID or a
 * part of a user ID, as gpg --local-user takes it) names, in *OUT.  A
 * listing, not gpgme_get_key, which takes a fingerprint or key ID only; a
 * pattern that names several keys is refused with their fingerprints, for
 * the user to pick one. */
static int find_secret_key(gpgme_ctx_t ctx, const char *key, gpgme_key_t *out, appc_error_t *err)
{
  cleanup_gpgme_key gpgme_key_t first = NULL;
  char shown[AMBIGUOUS_SHOWN * 48] = "";
  size_t n = 0;
  gpgme_key_t k;
  gpgme_error_t e;

  /* An empty pattern lists every key: it would pick a keyring's only key
   * silently. */
  if (*key == '\0')
    return appc_error_make(err, 0, "key \"\": an empty pattern names no key");
  e = gpgme_op_keylist_start(ctx, key, 1);
  while (e == 0 && (e = gpgme_op_keylist_next(ctx, &k)) == 0) {
    if (n < AMBIGUOUS_SHOWN && k->fpr != NULL)
      snprintf(shown + strlen(shown), sizeof shown - strlen(shown), "%s%s", n > 0 ? ", " : "",
               k->fpr);
    if (n++ == 0)
      first = k;
    else
      gpgme_key_unref(k);
  }
  gpgme_op_keylist_end(ctx);
  if (gpg_err_code(e) != GPG_ERR_EOF)
    return appc_trust_gpgme_failure(err, e, key);
  if (n == 0)
    return appc_error_make(err, 0, "key %s: no such secret key in the keyring", key);
  if (n > 1)
    return appc_error_make(err, 0,
                           "key %s: ambiguous, names %zu secret keys (%s%s): give a fingerprint",
                           key, n, shown, n > AMBIGUOUS_SHOWN ? ", ..." : "");
  *out = steal_pointer(&first);
  return 0;
}

/* The signer KEY names, which must be one secret key able to sign. */
static int add_signer(gpgme_ctx_t ctx, const char *key, appc_error_t *err)
{
  cleanup_gpgme_key gpgme_key_t k = NULL;
  gpgme_error_t e;

  if (find_secret_key(ctx, key, &k, err) < 0)
    return -1;
  if (!k->can_sign || k->revoked || k->expired || k->disabled || k->invalid)
    return appc_error_make(err, 0,
                           "key %s: cannot sign (revoked, expired, disabled or not a "
                           "signing key)",
                           key);
  if ((e = gpgme_signers_add(ctx, k)) != 0)
    return appc_trust_gpgme_failure(err, e, key);
  return 0;
}

/* The keyring that HOMEDIR (may be NULL) names, as gpg finds it, for
 * messages. */
static void keyring_name(const char *homedir, char *out, size_t size)
{
  const char *env = getenv("GNUPGHOME"), *home = getenv("HOME");

  if (homedir != NULL)
    snprintf(out, size, "the keyring %s", homedir);
  else if (env != NULL && *env != '\0')
    snprintf(out, size, "GNUPGHOME's keyring %s", env);
  else
    snprintf(out, size, "the keyring %s/.gnupg", home != NULL ? home : "~");
}

/* Without a KEY gpg signs with its default key, the keyring's first secret
 * key unless gpg.conf names another; with none at all it says only
 * "Unusable secret key".  Tagged ENOKEY: a caller can say how to name one. */
static int check_default_key(gpgme_ctx_t ctx, const char *homedir, appc_error_t *err)
{
  gpgme_key_t k = NULL;
  gpgme_error_t e = gpgme_op_keylist_start(ctx, NULL, 1);
  char keyring[PATH_MAX + 32];

  if (e == 0)
    e = gpgme_op_keylist_next(ctx, &k);
  gpgme_op_keylist_end(ctx);
  if (k != NULL) {
    gpgme_key_unref(k);
    return 0;
  }
  keyring_name(homedir, keyring, sizeof keyring);
  if (gpg_err_code(e) != GPG_ERR_EOF)
    return appc_trust_gpgme_failure(err, e, keyring);
  return appc_error_tag(err, ENOKEY, "no secret key in %s", keyring);
}

/* Whether PATH names the file open on FD (PATH itself, a hard link or a
 * symlink to it). */
static bool same_file(int fd, const char *path)
{
  struct stat a, b;

  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The signature of the file open on FD, armored, in *OUT. */
static int sign_fd(gpgme_ctx_t ctx, int fd, const char *file, char **out, size_t *len,
                   appc_error_t *err)
{
  cleanup_gpgme_data gpgme_data_t in = NULL;
  cleanup_gpgme_data gpgme_data_t sig = NULL;
  gpgme_error_t e;

  gpgme_set_armor(ctx, 1);
  /* a signature of the binary document (0x00), which is what fetch takes;
   * "textmode" in gpg.conf still wins (gpgme passes no --no-textmode), as
   * gpg.conf's and the key's choice of digest do (gpgme has no option for
   * it): check_made_signature checks what gpg made */
  gpgme_set_textmode(ctx, 0);
  if ((e = gpgme_data_new_from_fd(&in, fd)) != 0 || (e = gpgme_data_new(&sig)) != 0)
    return appc_trust_gpgme_failure(err, e, file);
  if ((e = gpgme_op_sign(ctx, in, sig, GPGME_SIG_MODE_DETACH)) != 0)
    return appc_trust_gpgme_failure(err, e, file);
  gpgme_sign_result_t res = gpgme_op_sign_result(ctx);
  if (res == NULL || res->invalid_signers != NULL || res->signatures == NULL)
    return appc_error_make(err, 0, "%s: gpg made no signature%s%s", file,
                           res != NULL && res->invalid_signers != NULL ? ": " : "",
                           res != NULL && res->invalid_signers != NULL
                               ? gpgme_strerror(res->invalid_signers->reason)
                               : "");
  size_t n = 0;
  char *text = gpgme_data_release_and_get_mem(steal_pointer(&sig), &n);
  if (text == NULL || n == 0) {
    gpgme_free(text);
    return appc_error_make(err, ENOMEM, "%s: the signature", file);
  }
  *out = malloc(n);
  if (*out != NULL)
    memcpy(*out, text, n);
  gpgme_free(text);
  if (*out == NULL)
    return appc_error_make(err, ENOMEM, "%s: the signature", file);
  *len = n;
  return 0;
}

/* SIG (LEN bytes), the signature gpg made of NAME, as fetch will check it:
 * one that fetch refuses is not written (an image's signature is of a
 * binary document over a digest without known collisions), and the user
 * is told where gpg took the digest and the type from. */
static int check_made_signature(const char *sig, size_t len, const char *name, const char *out,
                                const char *homedir, appc_error_t *err)
{
  cleanup_error appc_error_t why = NULL;
  char keyring[PATH_MAX + 32];

  if (appc_openpgp_check_binary_signature(sig, len, out, &why) == 0)
    return 0;
  keyring_name(homedir, keyring, sizeof keyring);
  return appc_error_make(err, 0,
                         "%s: gpg made a signature that fetch would refuse, so none is written: "
                         "%s; gpg takes the digest and the signature's type from the gpg.conf "
                         "of %s (digest-algo, personal-digest-preferences, textmode) and from "
                         "the key (a DSA key of 1024 bits signs over SHA-1)",
                         name, why->msg, keyring);
}

int appc_sign_fd(int fd, const char *name, const struct appc_sign_options *opts, appc_error_t *err)
{
  static const struct appc_sign_options defaults = {0};
  cleanup_gpgme_ctx gpgme_ctx_t ctx = NULL;
  cleanup_free char *sig = NULL;
  cleanup_free char *out = NULL;
  size_t len = 0;

  if (APPC_ABI_CHECK(opts, appc_sign_options, APPC_SIGN_OPTIONS_VERSION, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &defaults;
  if (name == NULL && opts->out == NULL)
    return appc_error_tag(err, EINVAL, "fd %d: no NAME to derive the signature's file from", fd);
  if (name == NULL)
    name = "signed input";
  if (opts->out != NULL)
    out = strdup(opts->out);
  else if (asprintf(&out, "%s.asc", name) < 0)
    out = NULL;
  if (out == NULL)
    return appc_error_make(err, ENOMEM, "%s", name);
  if (same_file(fd, out))
    return appc_error_make(
        err, 0, "%s: is %s, the file being signed: its signature would replace it", out, name);
  /* before gpg asks for a passphrase; the write checks again */
  /* (callers of versions 0 and 1, from before the member, keep the meaning
   * they had: OUT replaced) */
  bool overwrite = opts->version < 2 || opts->overwrite;
  if (!overwrite && faccessat(AT_FDCWD, out, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return appc_error_tag(err, EEXIST, "%s: refusing to replace an existing file", out);
  if (appc_trust_new_context(opts->homedir, &ctx, err) < 0 ||
      (opts->key != NULL ? add_signer(ctx, opts->key, err) < 0
                         : check_default_key(ctx, opts->homedir, err) < 0) ||
      sign_fd(ctx, fd, name, &sig, &len, err) < 0 ||
      check_made_signature(sig, len, name, out, opts->homedir, err) < 0)
    return -1;
  return appc_atomic_write_at(AT_FDCWD, out, sig, len, 0644, overwrite ? 0 : APPC_WRITE_NOREPLACE,
                              err);
}

int appc_sign_file(const char *file, const struct appc_sign_options *opts, appc_error_t *err)
{
  cleanup_close int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", file);
  return appc_sign_fd(fd, file, opts, err);
}
