/* SPDX-License-Identifier: Apache-2.0 */
/* Verifying an ACI's detached signature with gpg, through gpgme, against
 * the keys trusted for the image's name (docs/trust.md).
 *
 * gpg only ever sees a keyring made for this one verification: a temporary
 * GNUPGHOME in the store's tmp/ (trust/gpg.c) into which the applicable
 * trusted key files are imported.  Every key in it is thus trusted for the name, and which file
 * the signer's key came from is known from the import results. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <gpgme.h>

#include "common/lazy.h"

#include "common/cleanup.h"
#include "common/fs.h"
#include "trust/internal.h"

/* gpgme's buffer for piping the ACI to gpg: a pipe's capacity.  Measured
 * on a 400 MB ACI: 0.83 s against 1.1-1.8 s with gpgme's default and 0.71 s
 * for gpg reading the file itself; larger buffers are slower again, since
 * gpgme moves the unwritten rest of its buffer after each partial write. */
#define ACI_IO_BUFFER_SIZE "65536"

static void trust_keys_clearp(struct appc_trust_keys *keys)
{
  appc_trust_keys_clear(keys);
}
#define cleanup_trust_keys __attribute__((cleanup(trust_keys_clearp)))

void appc_trust_result_clear(struct appc_trust_result *r)
{
  free(r->fingerprint);
  free(r->signing_fingerprint);
  free(r->key_file);
  free(r->prefix);
  memset(r, 0, sizeof *r);
}

/* Import one trusted key file (STORE_DIR-relative in K). */
static int import_key_file(gpgme_ctx_t ctx, const char *store_dir, const struct appc_trust_key *k,
                           appc_error_t *err)
{
  cleanup_free char *path = NULL;

  if (asprintf(&path, "%s/%s", store_dir, k->path) < 0)
    return appc_error_make(err, ENOMEM, "%s", k->path);
  return appc_trust_import_key_file(ctx, path, k->fingerprint, err);
}

/* "A, B" or "none", for messages. */
static char *list_fingerprints(const struct appc_trust_keys *keys)
{
  size_t len = 5;
  char *s;

  for (size_t i = 0; i < keys->n; i++)
    len += strlen(keys->v[i].fingerprint) + 2;
  if ((s = malloc(len)) == NULL)
    return NULL;
  strcpy(s, keys->n == 0 ? "none" : "");
  for (size_t i = 0; i < keys->n; i++) {
    if (i > 0)
      strcat(s, ", ");
    strcat(s, keys->v[i].fingerprint);
  }
  return s;
}

static int untrusted_signer(const char *asc_path, const char *signer, const char *name,
                            const struct appc_trust_keys *keys, appc_error_t *err)
{
  cleanup_free char *trusted = list_fingerprints(keys);

  return appc_error_make(err, 0,
                         "%s: signed by key %s which is not trusted for %s (trusted keys: %s)",
                         asc_path, signer, name, trusted != NULL ? trusted : "?");
}

/* Refuse a signature gpg did not find good, naming the reason. */
static int check_status(const gpgme_signature_t sig, const char *aci_path, const char *asc_path,
                        const char *name, const struct appc_trust_keys *keys, appc_error_t *err)
{
  const char *who = sig->fpr != NULL ? sig->fpr : "(unknown)";

  switch (gpg_err_code(sig->status)) {
  case GPG_ERR_NO_ERROR:
    break;
  case GPG_ERR_BAD_SIGNATURE:
    return appc_error_make(err, 0,
                           "%s: bad signature: %s is not the file that was signed (changed "
                           "since, or the signature of another file)",
                           asc_path, aci_path);
  case GPG_ERR_NO_PUBKEY:
    return untrusted_signer(asc_path, who, name, keys, err);
  case GPG_ERR_KEY_EXPIRED:
    return appc_error_make(err, 0, "%s: signed by key %s, which has expired", asc_path, who);
  case GPG_ERR_CERT_REVOKED:
    return appc_error_make(err, 0, "%s: signed by key %s, which has been revoked", asc_path, who);
  case GPG_ERR_SIG_EXPIRED:
    return appc_error_make(err, 0, "%s: the signature has expired", asc_path);
  default:
    return appc_error_make(err, 0, "%s: signature not valid: %s", asc_path,
                           gpgme_strerror(sig->status));
  }
  /* A good signature whose summary still says something is wrong (gpg
   * reports some revocations and expiries only there). */
  if (sig->summary & GPGME_SIGSUM_KEY_REVOKED)
    return appc_error_make(err, 0, "%s: signed by key %s, which has been revoked", asc_path, who);
  if (sig->summary & GPGME_SIGSUM_KEY_EXPIRED)
    return appc_error_make(err, 0, "%s: signed by key %s, which has expired", asc_path, who);
  if (sig->summary & GPGME_SIGSUM_SIG_EXPIRED)
    return appc_error_make(err, 0, "%s: the signature has expired", asc_path);
  if (sig->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_KEY_MISSING | GPGME_SIGSUM_BAD_POLICY |
                      GPGME_SIGSUM_SYS_ERROR) ||
      sig->wrong_key_usage)
    return appc_error_make(err, 0, "%s: signature by key %s not valid (gpgme summary 0x%x)",
                           asc_path, who, (unsigned) sig->summary);
  char when[32];
  if (appc_trust_sig_from_future(sig, when))
    return appc_error_make(err, 0,
                           "%s: the signature by key %s is dated %s, in the future (the "
                           "signer's clock or this machine's is wrong)",
                           asc_path, who, when);
  return 0;
}

/* The index in KEYS of the key whose primary key ID is ID: a whole
 * fingerprint, or the 64-bit key ID (its last 16 digits) that gpg gives for
 * a signature it found bad, when exactly one of KEYS ends so; else -1. */
static ssize_t trusted_key_index(const struct appc_trust_keys *keys, const char *id)
{
  size_t id_len = strlen(id);
  ssize_t found = -1;

  for (size_t i = 0; i < keys->n; i++) {
    const char *fpr = keys->v[i].fingerprint;
    size_t len = strlen(fpr);
    if (strcasecmp(fpr, id) == 0)
      return (ssize_t) i;
    if (id_len == 16 && len > 16 && strcasecmp(fpr + len - 16, id) == 0)
      found = found == -1 ? (ssize_t) i : -2;
  }
  return found >= 0 ? found : -1;
}

/* Which trusted key file holds the signer's primary key; fills OUT.  KEY:
 * the signer's key when the caller listed it, else NULL. */
static int find_signer(gpgme_ctx_t ctx, const gpgme_signature_t sig, gpgme_key_t key,
                       const char *asc_path, const char *name, const struct appc_trust_keys *keys,
                       struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_gpgme_key gpgme_key_t listed = NULL;
  const char *primary = sig->fpr;
  ssize_t i;

  if (sig->fpr == NULL)
    return untrusted_signer(asc_path, "(unknown)", name, keys, err);
  /* Only trusted keys are in this keyring, so a key gpg knows is trusted.
   * A primary key that signed is one of KEYS by its ID; a subkey's
   * primary takes a lookup (two gpg processes). */
  if ((i = trusted_key_index(keys, primary)) >= 0)
    primary = keys->v[i].fingerprint;
  else {
    if (key == NULL && gpgme_get_key(ctx, sig->fpr, &listed, 0) == 0)
      key = listed;
    if (key == NULL || key->fpr == NULL)
      return untrusted_signer(asc_path, sig->fpr, name, keys, err);
    primary = key->fpr;
    if ((i = trusted_key_index(keys, primary)) < 0)
      return untrusted_signer(asc_path, primary, name, keys, err);
  }
  const struct appc_trust_key *k = &keys->v[i];
  out->fingerprint = strdup(primary);
  out->signing_fingerprint = strdup(sig->fpr);
  out->key_file = strdup(k->path);
  out->prefix = k->prefix != NULL ? strdup(k->prefix) : NULL;
  if (out->fingerprint == NULL || out->signing_fingerprint == NULL || out->key_file == NULL ||
      (k->prefix != NULL && out->prefix == NULL))
    return appc_error_make(err, ENOMEM, "%s", asc_path);
  return 0;
}

/* The most a signature file may hold (a signature is some hundreds of
 * bytes; fetch downloads at most 1 MiB of one). */
#define SIGNATURE_MAX (1u << 20)

/* The one signature of gpgme_op_verify's outcome E on CTX, or NULL with
 * ERR set; ACI_PATH, the data verified, NULL when there was none. */
static gpgme_signature_t only_signature(gpgme_ctx_t ctx, gpgme_error_t e, const char *aci_path,
                                        const char *asc_path, appc_error_t *err)
{
  gpgme_verify_result_t res;
  size_t n = 0;

  if (gpg_err_code(e) == GPG_ERR_NO_DATA) {
    appc_error_make(err, 0, "%s: not an OpenPGP signature", asc_path);
    return NULL;
  }
  if (e != 0) {
    appc_error_make(err, 0, "%s: cannot verify %s: %s", asc_path,
                    aci_path != NULL ? aci_path : "the signature alone", gpgme_strerror(e));
    return NULL;
  }
  res = gpgme_op_verify_result(ctx);
  for (gpgme_signature_t s = res != NULL ? res->signatures : NULL; s != NULL; s = s->next)
    n++;
  if (n == 0)
    appc_error_make(err, 0, "%s: not an OpenPGP signature", asc_path);
  else if (n > 1)
    appc_error_make(err, 0, "%s: holds %zu signatures; exactly one is expected", asc_path, n);
  return n == 1 ? res->signatures : NULL;
}

/* When KEY's subkey FPR (which made a signature) or KEY's primary key
 * expires, whichever is sooner; 0 if neither does, -1 if FPR is none of
 * KEY's. */
static int64_t key_expiry(gpgme_key_t key, const char *fpr)
{
  gpgme_subkey_t primary = key->subkeys, signing = NULL;
  size_t len = strlen(fpr);

  if (len < 16)
    return -1;
  for (gpgme_subkey_t k = key->subkeys; k != NULL && signing == NULL; k = k->next) {
    size_t n = k->fpr != NULL ? strlen(k->fpr) : 0;
    /* a fingerprint, or the 64-bit key ID gpg gives for some signatures */
    if (n != 0 && n >= len && strcasecmp(k->fpr + n - len, fpr) == 0)
      signing = k;
  }
  if (primary == NULL || signing == NULL || primary->expires < 0 || signing->expires < 0)
    return -1;
  int64_t a = primary->expires, b = signing->expires;
  if (a == 0 || (b != 0 && b < a))
    return b;
  return a;
}

static int verify_signature(gpgme_ctx_t ctx, int aci_fd, int asc_fd, const char *aci_path,
                            const char *asc_path, const char *name,
                            const struct appc_trust_keys *keys, struct appc_trust_result *out,
                            appc_error_t *err)
{
  cleanup_gpgme_data gpgme_data_t sig_data = NULL;
  cleanup_gpgme_data gpgme_data_t aci_data = NULL;
  gpgme_signature_t sg;
  gpgme_error_t e;

  cleanup_free char *sig = NULL;
  size_t sig_len = 0;
  if (appc_read_fd(asc_fd, asc_path, SIGNATURE_MAX, &sig, &sig_len, err) < 0)
    return -1;
  if (appc_openpgp_check_binary_signature(sig, sig_len, asc_path, err) < 0)
    return -1;
  if ((e = gpgme_data_new_from_mem(&sig_data, sig, sig_len, 0)) != 0 ||
      (e = gpgme_data_new_from_fd(&aci_data, aci_fd)) != 0)
    return appc_trust_gpgme_failure(err, e, asc_path);
  /* An older gpgme without the flag is only slower. */
  (void) gpgme_data_set_flag(aci_data, "io-buffer-size", ACI_IO_BUFFER_SIZE);
  e = gpgme_op_verify(ctx, sig_data, aci_data, NULL);
  if ((sg = only_signature(ctx, e, aci_path, asc_path, err)) == NULL)
    return -1;
  if (check_status(sg, aci_path, asc_path, name, keys, err) < 0)
    return -1;
  out->signature_expires = (int64_t) sg->exp_timestamp;
  /* A good signature's key is listed for its expiry, which a caller
   * keeping the verdict (fetch's record of it) holds it to later. */
  cleanup_gpgme_key gpgme_key_t key = NULL;
  if (sg->fpr == NULL || gpgme_get_key(ctx, sg->fpr, &key, 0) != 0)
    key = NULL;
  out->key_expires = key != NULL ? key_expiry(key, sg->fpr) : -1;
  return find_signer(ctx, sg, key, asc_path, name, keys, out, err);
}

static int open_signature(const char *aci_path, const char *asc_path, int *out,
                          struct appc_trust_result *res, appc_error_t *err)
{
  /* a regular file only: a FIFO put there must not keep the fetch
   * waiting for a writer */
  *out = appc_open_file_at(AT_FDCWD, asc_path, APPC_READ_REGULAR, err);
  if (*out >= 0)
    return 0;
  if (*err != NULL && (*err)->errnum == ENOENT) {
    appc_error_release(err);
    res->signature_missing = true;
    return appc_error_make(err, 0, "%s: no signature (%s not found)", aci_path, asc_path);
  }
  return -1;
}

/* The signer of SIG (a detached signature), with no data to check it
 * against: gpg, verifying it over nothing, finds it bad when it knows the
 * key (every key of this keyring being trusted) and names the issuer
 * either way. */
static int signer_of(gpgme_ctx_t ctx, const char *sig, size_t sig_len, const char *asc_path,
                     const char *name, const struct appc_trust_keys *keys,
                     struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_gpgme_data gpgme_data_t sig_data = NULL;
  cleanup_gpgme_data gpgme_data_t nothing = NULL;
  gpgme_error_t e;

  if ((e = gpgme_data_new_from_mem(&sig_data, sig, sig_len, 0)) != 0 ||
      (e = gpgme_data_new(&nothing)) != 0)
    return appc_trust_gpgme_failure(err, e, asc_path);
  e = gpgme_op_verify(ctx, sig_data, nothing, NULL);
  gpgme_signature_t sg = only_signature(ctx, e, NULL, asc_path, err);
  if (sg == NULL)
    return -1;
  /* Good or bad over nothing: either way gpg knows the key.  Any other
   * verdict (an unknown, expired or revoked key) stands for the image too. */
  if (gpg_err_code(sg->status) != GPG_ERR_NO_ERROR &&
      gpg_err_code(sg->status) != GPG_ERR_BAD_SIGNATURE)
    return check_status(sg, "the image", asc_path, name, keys, err);
  out->key_expires = -1; /* not listed: the check is to be quick */
  return find_signer(ctx, sg, NULL, asc_path, name, keys, out, err);
}

/* A keyring of the keys trusted for one name, or for any (trust.h). */
struct appc_trust_verifier {
  struct appc_store *store;
  char *name; /* NULL: any image name */
  struct appc_trust_keys keys;
  struct appc_trust_gpg gpg;
};

void appc_trust_verifier_close(struct appc_trust_verifier *v)
{
  if (v == NULL)
    return;
  appc_trust_gpg_close(&v->gpg);
  appc_trust_keys_clear(&v->keys);
  free(v->name);
  free(v);
}

static void verifier_closep(struct appc_trust_verifier **v)
{
  appc_trust_verifier_close(*v);
}
#define cleanup_verifier __attribute__((cleanup(verifier_closep)))

int appc_trust_verifier_open(struct appc_store *store, const char *name,
                             struct appc_trust_verifier **out, appc_error_t *err)
{
  cleanup_verifier struct appc_trust_verifier *v = calloc(1, sizeof *v);

  if (v == NULL || (name != NULL && (v->name = strdup(name)) == NULL))
    return appc_error_make(err, ENOMEM, "the keys trusted for %s", name ? name : "any image");
  v->store = store;
  if ((name != NULL ? appc_trust_keys_for_name(store, name, &v->keys, err)
                    : appc_trust_all_keys(store, &v->keys, err)) < 0 ||
      appc_trust_gpg_open(store, &v->gpg, err) < 0)
    return -1;
  for (size_t i = 0; i < v->keys.n; i++)
    if (import_key_file(v->gpg.ctx, appc_store_path(store), &v->keys.v[i], err) < 0)
      return -1;
  *out = steal_pointer(&v);
  return 0;
}

/* The signer of the signature open as ASC_FD (ASC_PATH). */
static int check_signer_fd(struct appc_trust_verifier *v, int asc_fd, const char *asc_path,
                           struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_free char *sig = NULL;
  size_t sig_len = 0;

  if (appc_read_fd(asc_fd, asc_path, SIGNATURE_MAX, &sig, &sig_len, err) < 0 ||
      appc_openpgp_check_binary_signature(sig, sig_len, asc_path, err) < 0)
    return -1;
  return signer_of(v->gpg.ctx, sig, sig_len, asc_path, v->name != NULL ? v->name : "any image name",
                   &v->keys, out, err);
}

/* The keys trusted for NAME into KEYS, those the keyring of V lacks
 * imported into it: V's own when it was made for NAME. */
static int keys_for(struct appc_trust_verifier *v, const char *name, struct appc_trust_keys *keys,
                    const struct appc_trust_keys **use, appc_error_t *err)
{
  if (v->name != NULL && strcmp(v->name, name) == 0) {
    *use = &v->keys;
    return 0;
  }
  if (appc_trust_keys_for_name(v->store, name, keys, err) < 0)
    return -1;
  for (size_t i = 0; i < keys->n; i++)
    if (trusted_key_index(&v->keys, keys->v[i].fingerprint) < 0 &&
        import_key_file(v->gpg.ctx, appc_store_path(v->store), &keys->v[i], err) < 0)
      return -1;
  *use = keys;
  return 0;
}

/* The image open as ACI_FD against the signature open as ASC_FD. */
static int verify_fds(struct appc_trust_verifier *v, const char *name, int aci_fd,
                      const char *aci_name, int asc_fd, const char *asc_path,
                      struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_trust_keys struct appc_trust_keys keys = {0};
  const struct appc_trust_keys *use = NULL;

  if (keys_for(v, name, &keys, &use, err) < 0)
    return -1;
  return verify_signature(v->gpg.ctx, aci_fd, asc_fd, aci_name, asc_path, name, use, out, err);
}

int appc_trust_verifier_check_signer(struct appc_trust_verifier *v, const char *asc_path,
                                     struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_close int asc_fd = -1;

  memset(out, 0, sizeof *out);
  if (open_signature(asc_path, asc_path, &asc_fd, out, err) < 0)
    return -1;
  return check_signer_fd(v, asc_fd, asc_path, out, err);
}

int appc_trust_verifier_verify_fd(struct appc_trust_verifier *v, const char *name, int aci_fd,
                                  const char *aci_name, const char *asc_path,
                                  struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_close int asc_fd = -1;

  memset(out, 0, sizeof *out);
  if (open_signature(aci_name, asc_path, &asc_fd, out, err) < 0)
    return -1;
  return verify_fds(v, name, aci_fd, aci_name, asc_fd, asc_path, out, err);
}

/* The one-off forms below open the signature before the keyring is made:
 * a missing one is said without starting gpg. */
int appc_trust_check_signer(struct appc_store *store, const char *name, const char *asc_path,
                            struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_verifier struct appc_trust_verifier *v = NULL;
  cleanup_close int asc_fd = -1;

  memset(out, 0, sizeof *out);
  if (open_signature(asc_path, asc_path, &asc_fd, out, err) < 0 ||
      appc_trust_verifier_open(store, name, &v, err) < 0)
    return -1;
  return check_signer_fd(v, asc_fd, asc_path, out, err);
}

int appc_trust_verify_fd(struct appc_store *store, const char *name, int aci_fd,
                         const char *aci_name, const char *asc_path, struct appc_trust_result *out,
                         appc_error_t *err)
{
  cleanup_verifier struct appc_trust_verifier *v = NULL;
  cleanup_close int asc_fd = -1;

  memset(out, 0, sizeof *out);
  if (open_signature(aci_name, asc_path, &asc_fd, out, err) < 0 ||
      appc_trust_verifier_open(store, name, &v, err) < 0)
    return -1;
  return verify_fds(v, name, aci_fd, aci_name, asc_fd, asc_path, out, err);
}

int appc_trust_verify(struct appc_store *store, const char *name, const char *aci_path,
                      const char *asc_path, struct appc_trust_result *out, appc_error_t *err)
{
  cleanup_close int aci_fd = -1;
  cleanup_close int asc_fd = -1;
  cleanup_verifier struct appc_trust_verifier *v = NULL;

  memset(out, 0, sizeof *out);
  if (open_signature(aci_path, asc_path, &asc_fd, out, err) < 0)
    return -1;
  if ((aci_fd = open(aci_path, O_RDONLY | O_CLOEXEC)) < 0)
    return appc_error_make(err, errno, "%s", aci_path);
  if (appc_trust_verifier_open(store, name, &v, err) < 0)
    return -1;
  return verify_fds(v, name, aci_fd, aci_path, asc_fd, asc_path, out, err);
}
