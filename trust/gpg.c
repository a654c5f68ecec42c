/* SPDX-License-Identifier: Apache-2.0 */
/* The private keyring every trust operation works in: a temporary
 * GNUPGHOME in the store's tmp/, used through gpgme and removed afterwards
 * (docs/trust.md, "How"). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fs.h"
#include "appc/store.h"
#include "trust/internal.h"

/* Options of the temporary home.  no-autostart: importing a key file that
 * holds secret material would otherwise start a gpg-agent, which would
 * outlive the home; no operation here needs an agent.
 * no-auto-check-trustdb: gpg's key validity is not used (a key is trusted
 * by where it is placed).  lock-never: nobody else uses this home, and
 * gpg's lock files, created and removed as it exits, raced with the removal
 * of the home. */
static const char temp_home_conf[] = "no-autostart\nno-auto-check-trustdb\nlock-never\n";

int appc_trust_init(appc_error_t *err)
{
  if (appc_lazy_bind(APPC_LAZY_GPGME, err) < 0)
    return appc_error_prefix(err, "signature verification");
  gpgme_set_global_flag("disable-gpgconf", "1");
  gpgme_check_version(NULL);
  return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void) st;
  (void) ftw;
  return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* gpgme does not wait for the gpg processes it starts (they are detached
 * by a double fork), so one may still be exiting, and dropping files, when
 * an operation returns: retry while the home is not gone, for up to
 * TEMP_HOME_GRACE_MS (a loaded machine can hold an exiting gpg back for
 * seconds; an idle one needs no retry at all).  Removal failures are not
 * reported: the operation's verdict stands, and gc removes whatever is left
 * in tmp/. */
#define TEMP_HOME_GRACE_MS 10000

void appc_trust_temp_home_remove(char *home)
{
  const struct timespec pause = {0, 10 * 1000 * 1000};
  int64_t deadline = appc_monotonic_ms() + TEMP_HOME_GRACE_MS;

  if (home == NULL)
    return;
  while (nftw(home, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
    if ((access(home, F_OK) < 0 && errno == ENOENT) || appc_monotonic_ms() >= deadline)
      break;
    nanosleep(&pause, NULL);
  }
  free(home);
}

static int write_conf(const char *home, appc_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  size_t len = sizeof temp_home_conf - 1;

  if (asprintf(&path, "%s/gpg.conf", home) < 0)
    return appc_error_make(err, ENOMEM, "%s", home);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return appc_error_make(err, errno, "%s", path);
  if (appc_write_all(fd, temp_home_conf, len) < 0)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

/* The store's temporary directories have mode 0700, which gpg insists on
 * for a home directory. */
static int temp_home_create(struct appc_store *store, char **out, appc_error_t *err)
{
  cleanup_free char *home = NULL;

  if (appc_store_tmpdir(store, "gnupg", &home, err) < 0)
    return appc_error_prefix(err, "a temporary GNUPGHOME");
  if (write_conf(home, err) < 0) {
    appc_trust_temp_home_remove(steal_pointer(&home));
    return -1;
  }
  *out = steal_pointer(&home);
  return 0;
}

int appc_trust_temp_home_at(const char *tmpdir, char **out, appc_error_t *err)
{
  const char *in = NULL;
  cleanup_free char *home = appc_mkdtemp(tmpdir, "actool-gnupg", &in);

  if (home == NULL)
    return appc_error_make(err, errno, "%s/actool-gnupg-XXXXXX: a temporary GNUPGHOME", in);
  if (write_conf(home, err) < 0) {
    appc_trust_temp_home_remove(steal_pointer(&home));
    return -1;
  }
  *out = steal_pointer(&home);
  return 0;
}

int appc_trust_gpgme_failure(appc_error_t *err, gpgme_error_t e, const char *what)
{
  return appc_error_make(err, 0, "%s: %s", what, gpgme_strerror(e));
}

int appc_trust_new_context(const char *home, gpgme_ctx_t *out, appc_error_t *err)
{
  cleanup_gpgme_ctx gpgme_ctx_t ctx = NULL;
  gpgme_error_t e;

  if (appc_trust_init(err) < 0)
    return -1;
  if ((e = gpgme_new(&ctx)) != 0)
    return appc_trust_gpgme_failure(err, e, "gpgme");
  if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) != 0 ||
      (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home)) != 0)
    return appc_trust_gpgme_failure(err, e, "gpgme: OpenPGP engine");
  gpgme_set_offline(ctx, 1); /* never fetch keys or CRLs */
  *out = steal_pointer(&ctx);
  return 0;
}

int appc_trust_gpg_open(struct appc_store *store, struct appc_trust_gpg *g, appc_error_t *err)
{
  *g = (struct appc_trust_gpg){.store = store};
  if (appc_store_lock(store, false, err) < 0)
    return -1;
  g->locked = true;
  if (temp_home_create(store, &g->home, err) < 0 ||
      appc_trust_new_context(g->home, &g->ctx, err) < 0) {
    appc_trust_gpg_close(g);
    return -1;
  }
  return 0;
}

/* The home goes before the lock is dropped, so that gc never sees it. */
void appc_trust_gpg_close(struct appc_trust_gpg *g)
{
  if (g->ctx != NULL)
    gpgme_release(g->ctx);
  g->ctx = NULL;
  appc_trust_temp_home_remove(g->home);
  g->home = NULL;
  if (g->locked)
    appc_store_unlock(g->store);
  g->locked = false;
}

const char *appc_trust_single_imported_key(gpgme_import_result_t res, size_t *distinct)
{
  const char *fpr = NULL;

  *distinct = 0;
  for (gpgme_import_status_t s = res != NULL ? res->imports : NULL; s != NULL; s = s->next) {
    if (s->result != 0 || s->fpr == NULL)
      continue;
    if (fpr == NULL || strcasecmp(fpr, s->fpr) != 0)
      ++*distinct;
    if (fpr == NULL)
      fpr = s->fpr;
  }
  return *distinct == 1 ? fpr : NULL;
}

int appc_trust_import_key_file(gpgme_ctx_t ctx, const char *path, const char *fingerprint,
                               appc_error_t *err)
{
  cleanup_free char *key = NULL;
  cleanup_gpgme_data gpgme_data_t data = NULL;
  gpgme_error_t e;
  size_t distinct, len = 0;

  if (appc_read_file_at(AT_FDCWD, path, APPC_TRUST_KEY_MAX_BYTES, APPC_READ_REGULAR, &key, &len,
                        err) < 0 ||
      appc_openpgp_check(key, len, APPC_OPENPGP_KEY, path, err) < 0)
    return -1;
  if ((e = gpgme_data_new_from_mem(&data, key, len, 0)) != 0)
    return appc_trust_gpgme_failure(err, e, path);
  if ((e = gpgme_op_import(ctx, data)) != 0)
    return appc_error_make(err, 0, "%s: cannot import the trusted key: %s", path,
                           gpgme_strerror(e));
  const char *fpr = appc_trust_single_imported_key(gpgme_op_import_result(ctx), &distinct);
  if (distinct == 0)
    return appc_error_make(err, 0, "%s: holds no OpenPGP public key that gpg could import", path);
  if (fpr == NULL)
    return appc_error_make(err, 0, "%s: holds %zu keys; a trusted key file holds one", path,
                           distinct);
  if (strcasecmp(fpr, fingerprint) != 0)
    return appc_error_make(err, 0, "%s: holds key %s, not the key its name gives", path, fpr);
  return 0;
}

/* An hour: more than the clocks of machines that sign drift. */
#define FUTURE_SKEW (60 * 60)

int appc_trust_sig_from_future(gpgme_signature_t sig, char when[32])
{
  time_t at = (time_t) sig->timestamp;
  struct tm tm;

  if (sig->timestamp == 0 || at <= time(NULL) + FUTURE_SKEW)
    return 0;
  if (gmtime_r(&at, &tm) == NULL || strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
    snprintf(when, 32, "%lu", (unsigned long) sig->timestamp);
  return 1;
}
