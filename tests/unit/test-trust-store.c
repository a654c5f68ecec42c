/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of managing the key store (trust/store.c): reading a key,
 * adding it for a prefix or as a root key, listing and removing key files,
 * and verification with a key that appc_trust_add placed.  The keys are
 * made by gpg at the start, in a GNUPGHOME of their own. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpgme.h>

#define SCRATCH_PREFIX "test-trust-store"
#include "tests/unit/test-scratch.h"
#include "tests/unit/test-store-by-path.h"

#include "appc/store.h"
#include "appc/trust.h"
#include "common/macros.h"

/* What the group setup made: two keys, their exports in several forms, a
 * third key before and after its revocation, and a file signed by ONE. */
static struct {
  char *dir;  /* holds everything below */
  char *home; /* the GNUPGHOME the keys were made in */
  char fpr_one[41], fpr_two[41], fpr_revoked[41], fpr_cert[41];
  char *one_armored, *one_binary, *two_armored, *both, *one_secret;
  size_t one_armored_len, one_binary_len, two_armored_len, both_len, one_secret_len;
  char *revoked_before, *revoked_after, *cert_only;
  size_t revoked_before_len, revoked_after_len, cert_only_len;
  char *signed_file, *signature; /* paths */
} keys;

/* ---- gpg, for the fixtures ---- */

static int gpg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int gpg(const char *fmt, ...)
{
  char *args = NULL, *cmd = NULL;
  va_list ap;
  int r;

  va_start(ap, fmt);
  r = vasprintf(&args, fmt, ap);
  va_end(ap);
  if (r < 0 || asprintf(&cmd,
                        "gpg --batch --quiet --homedir '%s' --passphrase '' --pinentry-mode "
                        "loopback %s >/dev/null 2>&1",
                        keys.home, args) < 0)
    return -1;
  r = system(cmd);
  free(args);
  free(cmd);
  return r;
}

static void fingerprint_of(const char *email, char out[41])
{
  char *cmd = NULL;
  char line[512];
  FILE *p;

  out[0] = '\0';
  assert_true(asprintf(&cmd, "gpg --batch --homedir '%s' --with-colons --list-keys '<%s>' 2>&1",
                       keys.home, email) > 0);
  p = popen(cmd, "r");
  assert_non_null(p);
  while (fgets(line, sizeof line, p) != NULL)
    if (out[0] == '\0' && strncmp(line, "fpr:", 4) == 0)
      sscanf(line, "fpr:::::::::%40[0-9A-F]", out);
  pclose(p);
  free(cmd);
  if (strlen(out) != 40)
    fail_msg("no fingerprint for %s", email);
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = malloc(1 << 20);
  assert_non_null(f);
  assert_non_null(buf);
  *len = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

/* gpg's export of KEYS (space-separated) in OPTIONS, read back. */
static char *export(const char *options, const char *what, size_t *len)
{
  char *out = path_join(keys.dir, "export");
  char *data;

  if (gpg("--yes --output '%s' %s %s", out, options, what) != 0)
    fail_msg("gpg %s %s failed", options, what);
  data = slurp(out, len);
  unlink(out);
  free(out);
  return data;
}

static void make_key(const char *uid, const char *email, const char *usage, char fpr[41])
{
  if (gpg("--quick-gen-key '%s <%s>' ed25519 %s never", uid, email, usage) != 0)
    fail_msg("gpg --quick-gen-key %s failed", email);
  fingerprint_of(email, fpr);
}

/* The revocation certificate gpg made with the key, applied. */
static void revoke_key(const char *fpr)
{
  char *rev = NULL, *cmd = NULL;

  assert_true(asprintf(&rev, "%s/openpgp-revocs.d/%s.rev", keys.home, fpr) > 0);
  assert_true(asprintf(&cmd, "sed 's/^:-----/-----/' '%s' >'%s/revoke.asc'", rev, keys.dir) > 0);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(gpg("--import '%s/revoke.asc'", keys.dir), 0);
  free(rev);
  free(cmd);
}

static int group_setup(void **state)
{
  (void) state;
  keys.dir = scratch_new();
  current_scratch = NULL; /* kept across tests */
  keys.home = path_join(keys.dir, "gnupg");
  assert_int_equal(mkdir(keys.home, 0700), 0);
  make_key("One", "one@example.com", "sign", keys.fpr_one);
  make_key("Two", "two@example.com", "sign", keys.fpr_two);
  make_key("Revoked", "revoked@example.com", "sign", keys.fpr_revoked);
  make_key("Cert", "cert@example.com", "cert", keys.fpr_cert);
  keys.cert_only = export("--armor --export", keys.fpr_cert, &keys.cert_only_len);
  keys.one_armored = export("--armor --export", keys.fpr_one, &keys.one_armored_len);
  keys.one_binary = export("--export", keys.fpr_one, &keys.one_binary_len);
  keys.two_armored = export("--armor --export", keys.fpr_two, &keys.two_armored_len);
  char both[100];
  snprintf(both, sizeof both, "%s %s", keys.fpr_one, keys.fpr_two);
  keys.both = export("--armor --export", both, &keys.both_len);
  keys.one_secret = export("--armor --export-secret-keys", keys.fpr_one, &keys.one_secret_len);
  keys.revoked_before = export("--armor --export", keys.fpr_revoked, &keys.revoked_before_len);
  revoke_key(keys.fpr_revoked);
  keys.revoked_after = export("--armor --export", keys.fpr_revoked, &keys.revoked_after_len);
  keys.signed_file = path_join(keys.dir, "signed");
  keys.signature = path_join(keys.dir, "signed.asc");
  write_file(keys.dir, "signed", "the signed bytes\n", 17);
  assert_int_equal(gpg("--yes --local-user '%s!' --armor --output '%s' --detach-sign '%s'",
                       keys.fpr_one, keys.signature, keys.signed_file),
                   0);
  return 0;
}

static int group_teardown(void **state)
{
  char *cmd = NULL;

  (void) state;
  /* Key generation started an agent for the home: stop it with the test. */
  if (asprintf(&cmd, "gpgconf --homedir '%s' --kill gpg-agent >/dev/null 2>&1", keys.home) > 0)
    (void) system(cmd);
  free(cmd);
  free(keys.one_armored), free(keys.one_binary), free(keys.two_armored), free(keys.both);
  free(keys.one_secret), free(keys.revoked_before), free(keys.revoked_after);
  free(keys.cert_only);
  free(keys.signed_file), free(keys.signature), free(keys.home);
  scratch_remove(keys.dir);
  return 0;
}

static int teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

/* ---- helpers ---- */

/* A new opened store in a scratch directory; its path. */
static char *make_store(void)
{
  char *dir = scratch_new();
  char *store = path_join(dir, "store");
  struct appc_store *s = NULL;
  appc_error_t err = NULL;
  int r = appc_store_open(&s, store, &err);
  assert_ok(r, &err);
  appc_store_close(s);
  return store;
}

static void assert_tmp_empty(const char *store)
{
  char *tmp = path_join(store, "tmp");
  assert_int_equal(count_entries(tmp), 0);
  free(tmp);
}

static bool exists(const char *store, const char *rel)
{
  char *p = path_join(store, rel);
  bool r = access(p, F_OK) == 0;
  free(p);
  return r;
}

static char *lower(const char *s)
{
  char *d = strdup(s);
  assert_non_null(d);
  for (char *c = d; *c != '\0'; c++)
    if (*c >= 'A' && *c <= 'F')
      *c = (char) (*c - 'A' + 'a');
  return d;
}

static void add_ok(const char *store, const char *prefix, const char *data, size_t len,
                   enum appc_trust_add_outcome want, const char *want_path)
{
  struct appc_trust_added a;
  appc_error_t err = NULL;
  int r = appc_trust_add(store_at(store), prefix, data, len, "key.asc", &a, &err);

  assert_ok(r, &err);
  assert_int_equal(a.outcome, want);
  assert_string_equal(a.path, want_path);
  appc_trust_added_clear(&a);
}

static void add_fails(const char *store, const char *prefix, const char *data, size_t len,
                      const char *needle)
{
  struct appc_trust_added a;
  appc_error_t err = NULL;
  int r = appc_trust_add(store_at(store), prefix, data, len, "key.asc", &a, &err);

  assert_null(a.path);
  assert_error_contains(r, &err, needle);
}

/* The key file of FPR in DIR: named in lower case, as rkt names it. */
static char *rel_key(const char *dir, const char *fpr)
{
  char *p = NULL;
  char *low = lower(fpr);
  assert_true(asprintf(&p, "trust/%s/%s", dir, low) > 0);
  free(low);
  return p;
}

/* ---- reading a key ---- */

static void test_read_key_describes_it(void **state)
{
  (void) state;
  char *store = make_store();
  struct appc_trust_keyinfo k;
  appc_error_t err = NULL;

  int r = appc_trust_read_key(store_at(store), keys.one_armored, keys.one_armored_len, "one.asc",
                              &k, &err);
  assert_ok(r, &err);
  assert_string_equal(k.fingerprint, keys.fpr_one);
  assert_int_equal(k.n_user_ids, 1);
  assert_string_equal(k.user_ids[0], "One <one@example.com>");
  assert_string_equal(k.algorithm, "ed25519");
  assert_true(k.created > 0);
  assert_int_equal(k.expires, 0);
  assert_true(k.can_sign);
  assert_false(k.revoked);
  assert_false(k.expired);
  appc_trust_keyinfo_clear(&k);
  assert_null(k.fingerprint);

  r = appc_trust_read_key(store_at(store), keys.one_binary, keys.one_binary_len, "one.gpg", &k,
                          &err);
  assert_ok(r, &err);
  assert_string_equal(k.fingerprint, keys.fpr_one);
  appc_trust_keyinfo_clear(&k);

  r = appc_trust_read_key(store_at(store), keys.revoked_after, keys.revoked_after_len, "rev.asc",
                          &k, &err);
  assert_ok(r, &err);
  assert_true(k.revoked);
  assert_false(k.can_sign);
  assert_int_equal(k.n_user_ids, 1);
  appc_trust_keyinfo_clear(&k);

  /* A key that can only certify is read, and said to be unable to sign. */
  r = appc_trust_read_key(store_at(store), keys.cert_only, keys.cert_only_len, "cert.asc", &k,
                          &err);
  assert_ok(r, &err);
  assert_string_equal(k.fingerprint, keys.fpr_cert);
  assert_false(k.revoked);
  assert_false(k.can_sign);
  appc_trust_keyinfo_clear(&k);
  assert_tmp_empty(store);
  free(store);
}

static void assert_read_fails(const char *store, const char *data, size_t len, const char *needle)
{
  struct appc_trust_keyinfo k;
  appc_error_t err = NULL;
  int r = appc_trust_read_key(store_at(store), data, len, "https://example.com/key.asc", &k, &err);

  assert_null(k.fingerprint);
  assert_error_contains(r, &err, needle);
}

static void test_read_key_refuses_anything_but_one_public_key(void **state)
{
  (void) state;
  char *store = make_store();
  static const char garbage[] = "this is not a key\n";
  static const char armored_garbage[] = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n"
                                        "-----END PGP PUBLIC KEY BLOCK-----\n";

  assert_read_fails(store, "", 0, "https://example.com/key.asc: empty");
  assert_read_fails(store, garbage, sizeof garbage - 1,
                    "https://example.com/key.asc: holds no OpenPGP public key");
  assert_read_fails(store, armored_garbage, sizeof armored_garbage - 1,
                    "https://example.com/key.asc: ");
  assert_read_fails(store, keys.both, keys.both_len,
                    "https://example.com/key.asc: holds 2 keys; give one key at a time");
  assert_read_fails(store, keys.one_secret, keys.one_secret_len,
                    "https://example.com/key.asc: holds secret key material");
  /* A signature is no key. */
  size_t len;
  char *sig = slurp(keys.signature, &len);
  assert_read_fails(store, sig, len, "holds no OpenPGP public key");
  free(sig);
  assert_tmp_empty(store);
  free(store);
}

/* ---- adding ---- */

static void test_add_root_and_prefix(void **state)
{
  (void) state;
  char *store = make_store();
  char *root = rel_key("root.d", keys.fpr_one);
  char *pre = rel_key("prefix.d/example.com/app", keys.fpr_two);
  struct stat st;

  add_ok(store, NULL, keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_ADDED, root);
  add_ok(store, "example.com/app", keys.two_armored, keys.two_armored_len, APPC_TRUST_KEY_ADDED,
         pre);

  /* The key file is gpg's armored export, readable by all, in 0755
   * directories, and nothing else is left. */
  char *p = path_join(store, pre);
  size_t len;
  char *data = slurp(p, &len);
  assert_true(len > 0 && strncmp(data, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36) == 0);
  free(data);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0644);
  free(p);
  p = path_join(store, "trust/prefix.d/example.com");
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 07777, 0755);
  assert_int_equal(count_entries(p), 1);
  free(p);
  p = path_join(store, "trust/prefix.d/example.com/app");
  assert_int_equal(count_entries(p), 1);
  free(p);
  p = path_join(store, "trust/root.d");
  assert_int_equal(count_entries(p), 1);
  free(p);

  /* A binary key is stored armored too. */
  char *bin = rel_key("prefix.d/example.org", keys.fpr_one);
  add_ok(store, "example.org", keys.one_binary, keys.one_binary_len, APPC_TRUST_KEY_ADDED, bin);
  p = path_join(store, bin);
  data = slurp(p, &len);
  assert_true(len > 0 && strncmp(data, "-----BEGIN PGP PUBLIC KEY BLOCK-----", 36) == 0);
  free(data);
  free(p);
  assert_tmp_empty(store);
  free(root), free(pre), free(bin), free(store);
}

static void test_add_again_changes_nothing(void **state)
{
  (void) state;
  char *store = make_store();
  char *rel = rel_key("prefix.d/example.com", keys.fpr_one);
  char *p = path_join(store, rel);
  struct stat before, after;

  add_ok(store, "example.com", keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_ADDED, rel);
  assert_int_equal(stat(p, &before), 0);
  add_ok(store, "example.com", keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_UNCHANGED,
         rel);
  add_ok(store, "example.com", keys.one_binary, keys.one_binary_len, APPC_TRUST_KEY_UNCHANGED, rel);
  assert_int_equal(stat(p, &after), 0);
  assert_int_equal(before.st_ino, after.st_ino); /* not even rewritten */
  free(p);
  p = path_join(store, "trust/prefix.d/example.com");
  assert_int_equal(count_entries(p), 1);
  free(p), free(rel), free(store);
}

static void test_add_again_merges_and_keeps_a_revocation(void **state)
{
  (void) state;
  char *store = make_store();
  char *rel = rel_key("root.d", keys.fpr_revoked);
  struct appc_trust_added a;
  appc_error_t err = NULL;

  add_ok(store, NULL, keys.revoked_before, keys.revoked_before_len, APPC_TRUST_KEY_ADDED, rel);
  int r = appc_trust_add(store_at(store), NULL, keys.revoked_after, keys.revoked_after_len,
                         "rev.asc", &a, &err);
  assert_ok(r, &err);
  assert_int_equal(a.outcome, APPC_TRUST_KEY_UPDATED);
  assert_true(a.key.revoked);
  appc_trust_added_clear(&a);
  /* The key without its revocation adds nothing, and takes nothing away. */
  r = appc_trust_add(store_at(store), NULL, keys.revoked_before, keys.revoked_before_len, "old.asc",
                     &a, &err);
  assert_ok(r, &err);
  assert_int_equal(a.outcome, APPC_TRUST_KEY_UNCHANGED);
  assert_true(a.key.revoked);
  appc_trust_added_clear(&a);
  free(rel), free(store);
}

static void test_add_uses_an_existing_lower_case_file(void **state)
{
  (void) state;
  char *store = make_store();
  char *low = lower(keys.fpr_one);
  char *rel = rel_key("root.d", low);

  write_file(store, rel, keys.one_armored, keys.one_armored_len);
  add_ok(store, NULL, keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_UNCHANGED, rel);
  char *dir = path_join(store, "trust/root.d");
  assert_int_equal(count_entries(dir), 1);
  free(dir), free(rel), free(low), free(store);
}

/* Older versions wrote upper-case names, which rkt refuses: adding the key
 * again renames its file. */
static void test_add_renames_an_upper_case_file(void **state)
{
  (void) state;
  char *store = make_store();
  char *upper = NULL;
  char *rel = rel_key("root.d", keys.fpr_one);

  assert_true(asprintf(&upper, "trust/root.d/%s", keys.fpr_one) > 0);
  assert_string_not_equal(upper, rel);
  write_file(store, upper, keys.one_armored, keys.one_armored_len);
  add_ok(store, NULL, keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_UNCHANGED, rel);
  char *dir = path_join(store, "trust/root.d");
  assert_int_equal(count_entries(dir), 1);
  char *path = path_join(store, rel);
  assert_int_equal(access(path, F_OK), 0);
  free(path), free(dir), free(rel), free(upper), free(store);
}

static void test_add_refuses_an_existing_file_holding_another_key(void **state)
{
  (void) state;
  char *store = make_store();
  char *rel = rel_key("prefix.d/example.com", keys.fpr_one);

  write_file(store, rel, keys.two_armored, keys.two_armored_len);
  add_fails(store, "example.com", keys.one_armored, keys.one_armored_len, "key.asc: not added: ");
  add_fails(store, "example.com", keys.one_armored, keys.one_armored_len,
            "not the key its name gives");
  /* Left as it was, for the user to look at. */
  char *p = path_join(store, rel);
  size_t len;
  char *data = slurp(p, &len);
  assert_int_equal(len, keys.two_armored_len);
  free(data), free(p), free(rel), free(store);
}

static void test_add_refuses_bad_keys_and_creates_nothing(void **state)
{
  (void) state;
  char *store = make_store();

  add_fails(store, "example.com", "", 0, "key.asc: empty");
  add_fails(store, "example.com", "garbage\n", 8, "key.asc: holds no OpenPGP public key");
  add_fails(store, NULL, keys.both, keys.both_len, "key.asc: holds 2 keys");
  add_fails(store, NULL, keys.one_secret, keys.one_secret_len, "key.asc: holds secret key");
  assert_false(exists(store, "trust"));
  assert_tmp_empty(store);
  free(store);
}

static void test_add_refuses_bad_prefixes(void **state)
{
  (void) state;
  char *store = make_store();
  char *fpr_component = NULL, *fpr_last = NULL;
  /* Image names are lower case: an upper-case fingerprint is refused
   * anyway, as no name could match it. */
  char *low = lower(keys.fpr_two);
  assert_true(asprintf(&fpr_component, "example.com/%s/app", low) > 0);
  assert_true(asprintf(&fpr_last, "example.com/%s", low) > 0);
  const struct {
    const char *prefix, *needle;
  } bad[] = {
      {"", "path component"},
      {"/", "path component"},
      {"/example.com", "path component"},
      {"example.com/", "path component"},
      {"example.com//app", "path component"},
      {".", "path component"},
      {"..", "path component"},
      {"example.com/./app", "path component"},
      {"example.com/../../../etc", "path component"},
      {"Example.com", "prefix \"Example.com\": no image name could match it"},
      {"example.com:8443/app", "no image name could match it"},
      {"https://example.com/app", "not a URL"},
      {fpr_component, "spelt like a key fingerprint"},
      {fpr_last, "spelt like a key fingerprint"},
  };

  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    add_fails(store, bad[i].prefix, keys.one_armored, keys.one_armored_len, bad[i].needle);
  assert_false(exists(store, "trust"));
  assert_tmp_empty(store);

  /* What is refused is not the character but the component. */
  char *rel = rel_key("prefix.d/example.com/a..b/~x", keys.fpr_one);
  add_ok(store, "example.com/a..b/~x", keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_ADDED,
         rel);
  free(rel), free(fpr_component), free(fpr_last), free(low), free(store);
}

/* A prefix of LEN bytes: components of COMPONENT letters. */
static char *long_prefix(size_t len, size_t component)
{
  char *p = malloc(len + 1);

  assert_non_null(p);
  for (size_t i = 0; i < len; i++)
    p[i] = i % (component + 1) == component && i + 1 < len ? '/' : 'a';
  p[len] = '\0';
  return p;
}

/* A prefix (a valid AC identifier) whose key files' paths the system would
 * not take, a component longer than NAME_MAX or a path longer than
 * PATH_MAX, is refused before anything is created, naming the limit (mkdir
 * refused it only on the way, its directories made); one at the limit (for
 * a v5 fingerprint's name) is taken. */
static void test_add_refuses_prefixes_too_long_for_paths(void **state)
{
  (void) state;
  char *store = make_store();
  size_t room =
      PATH_MAX - 1 - (strlen(appc_store_path(store_at(store))) + strlen("/trust/prefix.d//") + 64);
  char *far = long_prefix(6000, 200), *over = long_prefix(room + 1, 200);
  char *at_limit = long_prefix(room, 200), *long_name = long_prefix(256, 256), *name = NULL;
  assert_true(asprintf(&name, "example.com/%s", long_name) > 0);

  add_fails(store, far, keys.one_armored, keys.one_armored_len,
            "aaaa...\" (6000 bytes): its key files' paths in ");
  add_fails(store, over, keys.one_armored, keys.one_armored_len,
            "more than the 4095 a path may have (PATH_MAX");
  add_fails(store, name, keys.one_armored, keys.one_armored_len,
            "a component of 256 bytes, more than the 255 a file name may have (NAME_MAX)");
  assert_false(exists(store, "trust"));
  assert_tmp_empty(store);

  char *rel = NULL;
  assert_true(asprintf(&rel, "prefix.d/%s", at_limit) > 0);
  char *want = rel_key(rel, keys.fpr_one);
  add_ok(store, at_limit, keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_ADDED, want);
  free(want), free(rel), free(name), free(long_name), free(at_limit), free(over), free(far),
      free(store);
}

/* ---- listing ---- */

struct want_listed {
  const char *prefix; /* NULL: root */
  const char *fingerprint;
  const char *user_id;
  const char *problem; /* a substring, or NULL */
};

static void assert_listing(const char *store, const char *prefix, bool root, size_t want_n,
                           const struct want_listed *want)
{
  struct appc_trust_listing l;
  appc_error_t err = NULL;
  int r = appc_trust_list(store_at(store), prefix, root, &l, &err);

  assert_ok(r, &err);
  if (l.n != want_n) {
    for (size_t i = 0; i < l.n; i++)
      print_message("got %s\n", l.v[i].path);
    fail_msg("%zu entries, wanted %zu", l.n, want_n);
  }
  for (size_t i = 0; i < l.n; i++) {
    if (want[i].prefix == NULL)
      assert_null(l.v[i].prefix);
    else
      assert_string_equal(l.v[i].prefix, want[i].prefix);
    if (want[i].fingerprint == NULL)
      assert_null(l.v[i].fingerprint);
    else
      assert_string_equal(l.v[i].fingerprint, want[i].fingerprint);
    if (want[i].user_id == NULL)
      assert_null(l.v[i].user_id);
    else
      assert_string_equal(l.v[i].user_id, want[i].user_id);
    if (want[i].problem == NULL && l.v[i].problem != NULL)
      fail_msg("%s: unexpected problem %s", l.v[i].path, l.v[i].problem);
    if (want[i].problem != NULL &&
        (l.v[i].problem == NULL || strstr(l.v[i].problem, want[i].problem) == NULL))
      fail_msg("%s: problem \"%s\", wanted \"%s\"", l.v[i].path,
               l.v[i].problem != NULL ? l.v[i].problem : "(none)", want[i].problem);
  }
  appc_trust_listing_clear(&l);
  assert_null(l.v);
}

static void test_list_every_key_and_filters(void **state)
{
  (void) state;
  char *store = make_store();
  char *rel = NULL;
  const char *one = keys.fpr_one, *two = keys.fpr_two;
  const char *uid_one = "One <one@example.com>", *uid_two = "Two <two@example.com>";

  assert_listing(store, NULL, false, 0, NULL);
  add_ok(store, NULL, keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_ADDED,
         rel = rel_key("root.d", one));
  free(rel);
  add_ok(store, "example.com", keys.two_armored, keys.two_armored_len, APPC_TRUST_KEY_ADDED,
         rel = rel_key("prefix.d/example.com", two));
  free(rel);
  add_ok(store, "example.com/app", keys.one_armored, keys.one_armored_len, APPC_TRUST_KEY_ADDED,
         rel = rel_key("prefix.d/example.com/app", one));
  free(rel);
  add_ok(store, "example.com/app/x", keys.two_armored, keys.two_armored_len, APPC_TRUST_KEY_ADDED,
         rel = rel_key("prefix.d/example.com/app/x", two));
  free(rel);
  write_file(store, "trust/prefix.d/example.com/app/.tmp-hidden", "skipped", 7);

  assert_listing(store, NULL, false, 4,
                 (struct want_listed[]){{NULL, one, uid_one, NULL},
                                        {"example.com", two, uid_two, NULL},
                                        {"example.com/app", one, uid_one, NULL},
                                        {"example.com/app/x", two, uid_two, NULL}});
  assert_listing(store, NULL, true, 1, (struct want_listed[]){{NULL, one, uid_one, NULL}});
  /* A prefix's own keys, not those of longer prefixes. */
  assert_listing(store, "example.com/app", false, 1,
                 (struct want_listed[]){{"example.com/app", one, uid_one, NULL}});
  assert_listing(store, "example.org", false, 0, NULL);
  assert_tmp_empty(store);
  free(store);
}

static void test_list_reports_what_verification_would_refuse(void **state)
{
  (void) state;
  char *store = make_store();
  char *rel = rel_key("root.d", keys.fpr_one);
  char *other = rel_key("prefix.d/example.com", keys.fpr_one);
  char *garbage = rel_key("prefix.d/example.com", keys.fpr_two);

  write_file(store, rel, keys.one_armored, keys.one_armored_len);
  write_file(store, "trust/root.d/notes.txt", "notes", 5);
  write_file(store, other, keys.two_armored, keys.two_armored_len);
  write_file(store, garbage, "garbage", 7);
  write_file(store, "trust/prefix.d/stray", "x", 1);

  /* A directory's files come before its subdirectories. */
  struct want_listed want[] = {
      {NULL, keys.fpr_one, "One <one@example.com>", NULL},
      {NULL, NULL, NULL, "not a trusted key file"},
      {"", NULL, NULL, "not a trusted key file"},
      {"example.com", keys.fpr_one, NULL, "not the key its name gives"},
      {"example.com", keys.fpr_two, NULL, "holds no OpenPGP public key"},
  };
  /* A directory's entries come in name order. */
  if (strcmp(keys.fpr_one, keys.fpr_two) > 0) {
    struct want_listed t = want[3];
    want[3] = want[4];
    want[4] = t;
  }
  assert_listing(store, NULL, false, 5, want);
  assert_tmp_empty(store);
  free(rel), free(other), free(garbage), free(store);
}

static void test_list_refuses_bad_prefix(void **state)
{
  (void) state;
  char *store = make_store();
  struct appc_trust_listing l;
  appc_error_t err = NULL;

  int r = appc_trust_list(store_at(store), "example.com/../x", false, &l, &err);
  assert_null(l.v);
  assert_error_contains(r, &err, "path component");
  free(store);
}

/* ---- removing ---- */

static void remove_ok(const char *store, const char *prefix, bool root, const char *fpr,
                      size_t want_n, const char *const *want_paths)
{
  struct appc_trust_keys removed;
  appc_error_t err = NULL;
  int r = appc_trust_remove(store_at(store), prefix, root, fpr, &removed, &err);

  assert_ok(r, &err);
  assert_int_equal(removed.n, want_n);
  for (size_t i = 0; i < want_n; i++) {
    assert_string_equal(removed.v[i].path, want_paths[i]);
    assert_false(exists(store, want_paths[i]));
  }
  appc_trust_keys_clear(&removed);
}

static void remove_fails(const char *store, const char *prefix, bool root, const char *fpr,
                         const char *needle)
{
  struct appc_trust_keys removed;
  appc_error_t err = NULL;
  int r = appc_trust_remove(store_at(store), prefix, root, fpr, &removed, &err);

  assert_int_equal(removed.n, 0);
  assert_error_contains(r, &err, needle);
  appc_trust_keys_clear(&removed);
}

static char *store_with_one_everywhere(char **root, char **com, char **app)
{
  char *store = make_store();
  *root = rel_key("root.d", keys.fpr_one);
  *com = rel_key("prefix.d/example.com", keys.fpr_one);
  *app = rel_key("prefix.d/example.com/app", keys.fpr_one);
  write_file(store, *root, keys.one_armored, keys.one_armored_len);
  write_file(store, *com, keys.one_armored, keys.one_armored_len);
  write_file(store, *app, keys.one_armored, keys.one_armored_len);
  return store;
}

static void test_remove_where_asked(void **state)
{
  (void) state;
  char *root, *com, *app;
  char *store = store_with_one_everywhere(&root, &com, &app);
  char *low = lower(keys.fpr_one);

  /* Any case, from root.d only. */
  remove_ok(store, NULL, true, low, 1, (const char *const[]){root});
  assert_true(exists(store, com));
  remove_fails(store, NULL, true, keys.fpr_one, "no such trusted key in root.d");
  /* A prefix's own file, not its children's. */
  remove_ok(store, "example.com", false, keys.fpr_one, 1, (const char *const[]){com});
  assert_true(exists(store, app));
  remove_fails(store, "example.org", false, keys.fpr_one,
               "no such trusted key for prefix \"example.org\"");
  free(root), free(com), free(app), free(store);
  scratch_remove(current_scratch);

  /* Everywhere, spelt as gpg groups it. */
  store = store_with_one_everywhere(&root, &com, &app);
  char grouped[64];
  snprintf(grouped, sizeof grouped, "%.4s %.4s %.4s %.4s %.4s  %.4s %.4s %.4s %.4s %.4s", low,
           low + 4, low + 8, low + 12, low + 16, low + 20, low + 24, low + 28, low + 32, low + 36);
  write_file(store, "trust/root.d/.tmp-kept", "x", 1);
  remove_ok(store, NULL, false, grouped, 3, (const char *const[]){root, com, app});
  assert_true(exists(store, "trust/root.d/.tmp-kept"));
  remove_fails(store, NULL, false, keys.fpr_one, "no such trusted key anywhere");
  free(root), free(com), free(app), free(low), free(store);
}

static void test_remove_refuses_what_is_not_a_fingerprint(void **state)
{
  (void) state;
  char *root, *com, *app;
  char *store = store_with_one_everywhere(&root, &com, &app);
  char *short_one = strndup(keys.fpr_one, 39), *long_one = NULL;
  char *key_id = strdup(keys.fpr_one + 24);
  assert_true(asprintf(&long_one, "%s0", keys.fpr_one) > 0);

  const char *bad[] = {"", short_one, long_one, key_id, "zz", "../../../etc/passwd"};
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
    remove_fails(store, NULL, false, bad[i], "not a key fingerprint");
  /* The whole rule, naming no command (the library knows none), tagged
   * EINVAL: the caller's argument is no fingerprint (actool: exit 2). */
  struct appc_trust_keys removed;
  appc_error_t err = NULL;
  assert_tagged_error(appc_trust_remove(store_at(store), NULL, false, "zz", &removed, &err), &err,
                      EINVAL,
                      "\"zz\": not a key fingerprint: give all of its 40 hex digits (64 for a v5 "
                      "key), as a listing of the trust store shows them");
  appc_trust_keys_clear(&removed);
  remove_fails(store, "a/../b", false, keys.fpr_one, "path component");
  assert_true(exists(store, root) && exists(store, com) && exists(store, app));
  free(short_one), free(long_one), free(key_id);
  free(root), free(com), free(app), free(store);
}

/* ---- verification with an added key ---- */

static void test_verify_after_add_and_not_after_remove(void **state)
{
  (void) state;
  char *store = make_store();
  char *rel = rel_key("prefix.d/example.com", keys.fpr_one);
  struct appc_trust_result res;
  struct appc_trust_keys removed;
  appc_error_t err = NULL;

  add_ok(store, "example.com", keys.one_binary, keys.one_binary_len, APPC_TRUST_KEY_ADDED, rel);
  int r = appc_trust_verify(store_at(store), "example.com/app", keys.signed_file, keys.signature,
                            &res, &err);
  assert_ok(r, &err);
  assert_string_equal(res.fingerprint, keys.fpr_one);
  assert_string_equal(res.key_file, rel);
  assert_string_equal(res.prefix, "example.com");
  appc_trust_result_clear(&res);

  r = appc_trust_remove(store_at(store), NULL, false, keys.fpr_one, &removed, &err);
  assert_ok(r, &err);
  appc_trust_keys_clear(&removed);
  r = appc_trust_verify(store_at(store), "example.com/app", keys.signed_file, keys.signature, &res,
                        &err);
  assert_error_contains(r, &err, "which is not trusted for example.com/app");
  appc_trust_result_clear(&res);
  assert_tmp_empty(store);
  free(rel), free(store);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_teardown(test_read_key_describes_it, teardown),
      cmocka_unit_test_teardown(test_read_key_refuses_anything_but_one_public_key, teardown),
      cmocka_unit_test_teardown(test_add_root_and_prefix, teardown),
      cmocka_unit_test_teardown(test_add_again_changes_nothing, teardown),
      cmocka_unit_test_teardown(test_add_again_merges_and_keeps_a_revocation, teardown),
      cmocka_unit_test_teardown(test_add_uses_an_existing_lower_case_file, teardown),
      cmocka_unit_test_teardown(test_add_renames_an_upper_case_file, teardown),
      cmocka_unit_test_teardown(test_add_refuses_an_existing_file_holding_another_key, teardown),
      cmocka_unit_test_teardown(test_add_refuses_bad_keys_and_creates_nothing, teardown),
      cmocka_unit_test_teardown(test_add_refuses_bad_prefixes, teardown),
      cmocka_unit_test_teardown(test_add_refuses_prefixes_too_long_for_paths, teardown),
      cmocka_unit_test_teardown(test_list_every_key_and_filters, teardown),
      cmocka_unit_test_teardown(test_list_reports_what_verification_would_refuse, teardown),
      cmocka_unit_test_teardown(test_list_refuses_bad_prefix, teardown),
      cmocka_unit_test_teardown(test_remove_where_asked, teardown),
      cmocka_unit_test_teardown(test_remove_refuses_what_is_not_a_fingerprint, teardown),
      cmocka_unit_test_teardown(test_verify_after_add_and_not_after_remove, teardown),
  };
  gpgme_check_version(NULL);
  return cmocka_run_group_tests_name("trust-store", tests, group_setup, group_teardown);
}
