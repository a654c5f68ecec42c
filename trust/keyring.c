/* SPDX-License-Identifier: Apache-2.0 */
/* Verifying a document against the keys of a keyring file (a distribution's
 * archive keyring) rather than the store's trusted keys: what a Debian
 * mirror's InRelease or Release.gpg is checked with (deb/).  gpg sees
 * only a temporary GNUPGHOME into which the keyring is imported, so every
 * key in it is trusted and no other is. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <gpgme.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "trust/internal.h"

/* The most a keyring file may hold: Debian's archive keyring is 60 KB. */
#define KEYRING_MAX (16u << 20)

static void temp_home_removep(char **home)
{
  appc_trust_temp_home_remove(*home);
}
#define cleanup_temp_home __attribute__((cleanup(temp_home_removep)))

static int import_keyring(gpgme_ctx_t ctx, const char *keyring, appc_error_t *err)
{
  cleanup_free char *keys = NULL;
  cleanup_gpgme_data gpgme_data_t data = NULL;
  gpgme_import_result_t res;
  gpgme_error_t e;
  size_t len = 0;

  cleanup_free char *what = NULL;
  if (asprintf(&what, "keyring %s", keyring) < 0) {
    what = NULL;
    return appc_error_make(err, ENOMEM, "keyring %s", keyring);
  }
  int fd = open(keyring, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", what);
  int r = appc_read_fd(fd, what, KEYRING_MAX, &keys, &len, err);
  close(fd);
  if (r < 0 || appc_openpgp_check(keys, len, APPC_OPENPGP_KEY, what, err) < 0)
    return -1;
  if ((e = gpgme_data_new_from_mem(&data, keys, len, 0)) != 0)
    return appc_trust_gpgme_failure(err, e, keyring);
  if ((e = gpgme_op_import(ctx, data)) != 0)
    return appc_error_make(err, 0, "keyring %s: cannot import it: %s", keyring, gpgme_strerror(e));
  res = gpgme_op_import_result(ctx);
  if (res == NULL || (res->imported == 0 && res->unchanged == 0))
    return appc_error_make(err, 0, "keyring %s: holds no OpenPGP public key", keyring);
  return 0;
}

/* A good signature: gpg's status is good, its summary shows nothing
 * revoked or expired, and it is not dated in the future. */
static bool signature_good(gpgme_signature_t s)
{
  char when[32];

  return gpg_err_code(s->status) == GPG_ERR_NO_ERROR && !s->wrong_key_usage &&
         (s->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_REVOKED | GPGME_SIGSUM_KEY_EXPIRED |
                        GPGME_SIGSUM_SIG_EXPIRED | GPGME_SIGSUM_KEY_MISSING)) == 0 &&
         !appc_trust_sig_from_future(s, when);
}

static int judge(gpgme_verify_result_t res, const char *keyring, const char *what,
                 appc_error_t *err)
{
  gpgme_signature_t first = res != NULL ? res->signatures : NULL;
  bool good = false;

  if (first == NULL)
    return appc_error_make(err, 0, "%s: not signed (no OpenPGP signature found)", what);
  for (gpgme_signature_t s = first; s != NULL; s = s->next) {
    if (gpg_err_code(s->status) == GPG_ERR_BAD_SIGNATURE)
      return appc_error_make(err, 0,
                             "%s: bad signature by key %s: the content is not what was signed",
                             what, s->fpr != NULL ? s->fpr : "(unknown)");
    good = good || signature_good(s);
  }
  if (good)
    return 0;
  const char *who = first->fpr != NULL ? first->fpr : "(unknown)";
  if (gpg_err_code(first->status) == GPG_ERR_NO_PUBKEY)
    return appc_error_make(err, 0, "%s: signed by key %s, which is not in the keyring %s", what,
                           who, keyring);
  char when[32];
  if (gpg_err_code(first->status) == GPG_ERR_NO_ERROR && appc_trust_sig_from_future(first, when))
    return appc_error_make(err, 0,
                           "%s: the signature by key %s is dated %s, in the future (the "
                           "signer's clock or this machine's is wrong)",
                           what, who, when);
  return appc_error_make(err, 0, "%s: signature by key %s not valid: %s (gpgme summary 0x%x)", what,
                         who, gpgme_strerror(first->status), (unsigned) first->summary);
}

static int copy_plain(gpgme_data_t plain, char **out, size_t *out_len, const char *what,
                      appc_error_t *err)
{
  size_t len = 0;
  char *mem = gpgme_data_release_and_get_mem(plain, &len);
  char *copy = malloc(len + 1);

  if (copy != NULL && len > 0)
    memcpy(copy, mem, len);
  gpgme_free(mem);
  if (copy == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  copy[len] = '\0';
  *out = copy;
  *out_len = len;
  return 0;
}

int appc_trust_verify_keyring(const char *keyring, const char *tmpdir, const char *what,
                              const void *data, size_t len, const void *sig, size_t sig_len,
                              char **plain, size_t *plain_len, appc_error_t *err)
{
  cleanup_temp_home char *home = NULL;
  cleanup_gpgme_ctx gpgme_ctx_t ctx = NULL;
  cleanup_gpgme_data gpgme_data_t text = NULL;
  cleanup_gpgme_data gpgme_data_t signature = NULL;
  gpgme_data_t out = NULL;
  gpgme_error_t e;

  if (plain != NULL)
    *plain = NULL;
  if (appc_trust_temp_home_at(tmpdir, &home, err) < 0 ||
      appc_trust_new_context(home, &ctx, err) < 0 || import_keyring(ctx, keyring, err) < 0)
    return -1;
  /* the signature, detached or after the clearsigned text */
  if (appc_openpgp_check(sig != NULL ? sig : data, sig != NULL ? sig_len : len,
                         APPC_OPENPGP_SIGNATURE, what, err) < 0)
    return -1;
  if ((e = gpgme_data_new_from_mem(&text, data, len, 0)) != 0 ||
      (sig != NULL && (e = gpgme_data_new_from_mem(&signature, sig, sig_len, 0)) != 0) ||
      (sig == NULL && (e = gpgme_data_new(&out)) != 0))
    return appc_trust_gpgme_failure(err, e, what);
  if (sig != NULL)
    e = gpgme_op_verify(ctx, signature, text, NULL);
  else
    e = gpgme_op_verify(ctx, text, NULL, out);
  if (e != 0 || judge(gpgme_op_verify_result(ctx), keyring, what, err) < 0) {
    if (out != NULL)
      gpgme_data_release(out);
    if (e == 0)
      return -1;
    if (gpg_err_code(e) == GPG_ERR_NO_DATA)
      return appc_error_make(err, 0, "%s: not signed (no OpenPGP signature found)", what);
    return appc_error_make(err, 0, "%s: cannot verify: %s", what, gpgme_strerror(e));
  }
  if (out == NULL)
    return 0;
  if (plain == NULL) {
    gpgme_data_release(out);
    return 0;
  }
  return copy_plain(out, plain, plain_len, what, err);
}
