/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the trust module (trust/): the prefix walk, which key files
 * apply to a name, the refusals of appc_trust_verify that need no key, and
 * appc_sign_file's handling of an existing signature file by options
 * version (with a key made for it).  Signatures by real keys are covered by
 * tests/integration/store-signed.sh. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpgme.h>

#define SCRATCH_PREFIX "test-trust"
#include "tests/unit/test-scratch.h"
#include "tests/unit/test-store-by-path.h"

#include "appc/store.h"
#include "appc/trust.h"
#include "common/macros.h"
#include "trust/internal.h"

/* Fingerprint-shaped names for key files; their content does not matter to
 * the selection. */
#define FPR_ROOT "1111111111111111111111111111111111111111"
#define FPR_COM "2222222222222222222222222222222222222222"
#define FPR_APP "3333333333333333333333333333333333333333"
#define FPR_APPLICATION "4444444444444444444444444444444444444444"
#define FPR_X "5555555555555555555555555555555555555555"
#define FPR_OTHER "6666666666666666666666666666666666666666"
#define FPR_LOWER "abcdefabcdefabcdefabcdefabcdefabcdef0123"

/* DIR/REL holding TEXT, its directories created. */
static void put(const char *dir, const char *rel, const char *text)
{
  write_file(dir, rel, text, strlen(text));
}

static void assert_prefixes(const char *name, size_t want_n, const char *const *want)
{
  appc_error_t err = NULL;
  char **v = NULL;
  size_t n = 0;
  int r = appc_trust_prefixes(name, &v, &n, &err);

  assert_ok(r, &err);
  assert_int_equal(n, want_n);
  for (size_t i = 0; i < n; i++)
    assert_string_equal(v[i], want[i]);
  appc_trust_prefixes_free(v, n);
}

static void test_prefixes_shortest_first(void **state)
{
  (void) state;
  assert_prefixes("example.com", 1, (const char *const[]){"example.com"});
  assert_prefixes("example.com/app", 2, (const char *const[]){"example.com", "example.com/app"});
  assert_prefixes("example.com/app/x", 3,
                  (const char *const[]){"example.com", "example.com/app", "example.com/app/x"});
  /* Components are kept as they are: "..x" and ".a" are names, not links. */
  assert_prefixes("a/..x/.b", 3, (const char *const[]){"a", "a/..x", "a/..x/.b"});
}

static void test_prefixes_refuse_components_that_leave_the_key_store(void **state)
{
  static const char *const bad[] = {"",    "/",    "/a",  "a/",   "a//b",  ".",      "..",
                                    "a/.", "a/..", "./a", "../a", "a/./b", "a/../b", "../../etc"};
  (void) state;
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    appc_error_t err = NULL;
    char **v = (char **) 1;
    size_t n = 99;
    int r = appc_trust_prefixes(bad[i], &v, &n, &err);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_error_contains(r, &err, "path component");
  }
}

/* A key store with a key at root.d and at several prefixes, plus debris the
 * selection must skip. */
static char *make_key_store(void)
{
  char *dir = scratch_new();
  put(dir, "trust/root.d/" FPR_ROOT, "root key\n");
  put(dir, "trust/root.d/.tmp-being-written", "not yet a key\n");
  put(dir, "trust/prefix.d/example.com/" FPR_COM, "com key\n");
  put(dir, "trust/prefix.d/example.com/app/" FPR_APP, "app key\n");
  put(dir, "trust/prefix.d/example.com/app/" FPR_LOWER, "lower-case key\n");
  put(dir, "trust/prefix.d/example.com/app/.hidden", "skipped\n");
  put(dir, "trust/prefix.d/example.com/application/" FPR_APPLICATION, "application key\n");
  put(dir, "trust/prefix.d/example.com/app/x/" FPR_X, "x key\n");
  put(dir, "trust/prefix.d/example.com/other/" FPR_OTHER, "other key\n");
  return dir;
}

struct want_key {
  const char *fingerprint;
  const char *prefix; /* NULL for root.d */
  const char *path;
};

static void assert_keys(const char *store, const char *name, size_t want_n,
                        const struct want_key *want)
{
  struct appc_trust_keys keys = {0};
  appc_error_t err = NULL;
  int r = appc_trust_keys_for_name(store_at(store), name, &keys, &err);

  assert_ok(r, &err);
  if (keys.n != want_n) {
    for (size_t i = 0; i < keys.n; i++)
      print_message("got %s\n", keys.v[i].path);
    fail_msg("%s: %zu keys, wanted %zu", name, keys.n, want_n);
  }
  for (size_t i = 0; i < keys.n; i++) {
    assert_string_equal(keys.v[i].fingerprint, want[i].fingerprint);
    assert_string_equal(keys.v[i].path, want[i].path);
    if (want[i].prefix == NULL)
      assert_null(keys.v[i].prefix);
    else
      assert_string_equal(keys.v[i].prefix, want[i].prefix);
  }
  appc_trust_keys_clear(&keys);
  assert_null(keys.v);
  assert_int_equal(keys.n, 0);
}

#define ROOT_KEY                                                                                   \
  {                                                                                                \
    FPR_ROOT, NULL, "trust/root.d/" FPR_ROOT                                                       \
  }
#define COM_KEY                                                                                    \
  {                                                                                                \
    FPR_COM, "example.com", "trust/prefix.d/example.com/" FPR_COM                                  \
  }
#define APP_KEYS                                                                                   \
  {FPR_APP, "example.com/app", "trust/prefix.d/example.com/app/" FPR_APP},                         \
  {                                                                                                \
    "ABCDEFABCDEFABCDEFABCDEFABCDEFABCDEF0123", "example.com/app",                                 \
        "trust/prefix.d/example.com/app/" FPR_LOWER                                                \
  }

static void test_keys_of_every_prefix_and_root(void **state)
{
  (void) state;
  char *dir = make_key_store();

  assert_keys(dir, "example.com/app", 4, (struct want_key[]){ROOT_KEY, COM_KEY, APP_KEYS});
  assert_keys(
      dir, "example.com/app/x", 5,
      (struct want_key[]){ROOT_KEY,
                          COM_KEY,
                          APP_KEYS,
                          {FPR_X, "example.com/app/x", "trust/prefix.d/example.com/app/x/" FPR_X}});
  assert_keys(dir, "example.com", 2, (struct want_key[]){ROOT_KEY, COM_KEY});
  assert_keys(dir, "example.org/app", 1, (struct want_key[]){ROOT_KEY});
  scratch_remove(dir);
}

static void test_prefix_covers_names_only_at_a_slash(void **state)
{
  (void) state;
  char *dir = make_key_store();

  /* example.com/app's keys are not example.com/application's, nor the
   * other way round, though one name starts with the other. */
  assert_keys(dir, "example.com/application", 3,
              (struct want_key[]){ROOT_KEY,
                                  COM_KEY,
                                  {FPR_APPLICATION, "example.com/application",
                                   "trust/prefix.d/example.com/application/" FPR_APPLICATION}});
  assert_keys(dir, "example.com/ap", 2, (struct want_key[]){ROOT_KEY, COM_KEY});
  assert_keys(dir, "example.co", 1, (struct want_key[]){ROOT_KEY});
  assert_keys(dir, "example.com/other", 3,
              (struct want_key[]){
                  ROOT_KEY,
                  COM_KEY,
                  {FPR_OTHER, "example.com/other", "trust/prefix.d/example.com/other/" FPR_OTHER}});
  scratch_remove(dir);
}

static void test_no_key_store_means_no_keys(void **state)
{
  (void) state;
  char *dir = scratch_new();

  assert_keys(dir, "example.com/app", 0, NULL);
  mkdirs(dir, "trust/root.d");
  mkdirs(dir, "trust/prefix.d/example.com");
  assert_keys(dir, "example.com/app", 0, NULL);
  scratch_remove(dir);
}

/* A name whose last component is spelt like a fingerprint meets the key
 * file of its parent prefix where its directory would be: no keys there,
 * not an error. */
static void test_key_file_where_a_prefix_directory_would_be(void **state)
{
  (void) state;
  char *dir = make_key_store();

  assert_keys(dir, "example.com/app/" FPR_APP, 4, (struct want_key[]){ROOT_KEY, COM_KEY, APP_KEYS});
  scratch_remove(dir);
}

static void test_symlinked_key_file_is_followed(void **state)
{
  (void) state;
  char *dir = scratch_new();
  put(dir, "keys/root-key.asc", "key\n");
  mkdirs(dir, "trust/root.d");
  char *link = path_join(dir, "trust/root.d/" FPR_ROOT);
  assert_int_equal(symlink("../../keys/root-key.asc", link), 0);
  free(link);

  assert_keys(dir, "example.com/app", 1, (struct want_key[]){ROOT_KEY});
  scratch_remove(dir);
}

static void assert_selection_fails(const char *dir, const char *name, const char *needle)
{
  struct appc_trust_keys keys = {(struct appc_trust_key *) 1, 99};
  appc_error_t err = NULL;
  int r = appc_trust_keys_for_name(store_at(dir), name, &keys, &err);

  assert_null(keys.v);
  assert_int_equal(keys.n, 0);
  assert_error_contains(r, &err, needle);
}

static void test_misplaced_files_are_reported(void **state)
{
  (void) state;
  char *dir = make_key_store();

  put(dir, "trust/prefix.d/example.com/app/key.asc", "a key under the wrong name\n");
  assert_selection_fails(dir, "example.com/app/x",
                         "prefix.d/example.com/app/key.asc: not a trusted key file");
  /* ...but only for the names whose keys it would be. */
  assert_keys(dir, "example.com/application", 3,
              (struct want_key[]){ROOT_KEY,
                                  COM_KEY,
                                  {FPR_APPLICATION, "example.com/application",
                                   "trust/prefix.d/example.com/application/" FPR_APPLICATION}});

  /* A fingerprint one digit short, a dangling symlink, a fifo. */
  char *p = path_join(dir, "trust/prefix.d/example.com/app/key.asc");
  assert_int_equal(unlink(p), 0);
  free(p);
  put(dir, "trust/root.d/" FPR_ROOT "0", "41 digits\n");
  assert_selection_fails(dir, "example.com", "root.d/" FPR_ROOT "0: not a trusted key file");
  p = path_join(dir, "trust/root.d/" FPR_ROOT "0");
  assert_int_equal(unlink(p), 0);
  free(p);
  p = path_join(dir, "trust/root.d/" FPR_OTHER);
  assert_int_equal(symlink("nowhere", p), 0);
  assert_selection_fails(dir, "example.com", "root.d/" FPR_OTHER);
  assert_int_equal(unlink(p), 0);
  assert_int_equal(mkfifo(p, 0600), 0);
  assert_selection_fails(dir, "example.com", "not a regular file");
  assert_int_equal(unlink(p), 0);
  free(p);
  assert_keys(dir, "example.com", 2, (struct want_key[]){ROOT_KEY, COM_KEY});

  assert_selection_fails(dir, "example.com/../../..", "path component");
  scratch_remove(dir);
}

/* ---- appc_trust_verify's refusals that need no key ---- */

static char *make_store(void)
{
  char *dir = scratch_new();
  char *store = path_join(dir, "store");
  struct appc_store *s = NULL;
  appc_error_t err = NULL;
  int r = appc_store_open(&s, store, &err);
  assert_ok(r, &err);
  appc_store_close(s);
  free(store);
  return dir;
}

static void test_missing_signature_is_flagged(void **state)
{
  (void) state;
  char *dir = make_store();
  char *store = path_join(dir, "store");
  char *aci = path_join(dir, "hello.aci");
  char *asc = path_join(dir, "hello.aci.asc");
  char *tmp = path_join(dir, "store/tmp");
  struct appc_trust_result res;
  appc_error_t err = NULL;
  put(dir, "hello.aci", "not even an image: never read without a signature\n");

  int r = appc_trust_verify(store_at(store), "example.com/hello", aci, asc, &res, &err);
  assert_true(res.signature_missing);
  assert_error_contains(r, &err, "hello.aci: no signature (");
  appc_trust_result_clear(&res);
  assert_int_equal(count_entries(tmp), 0);

  /* Another failure to open the signature is not a missing signature. */
  assert_int_equal(mkdir(asc, 0700), 0);
  put(dir, "hello.aci.asc/x", "");
  r = appc_trust_verify(store_at(store), "example.com/hello", aci, asc, &res, &err);
  if (r == 0)
    fail_msg("a directory was taken for a signature");
  assert_false(res.signature_missing);
  appc_error_release(&err);
  appc_trust_result_clear(&res);
  free(store), free(aci), free(asc), free(tmp);
  scratch_remove(dir);
}

static void test_garbage_signature_is_refused_and_leaves_nothing(void **state)
{
  (void) state;
  char *dir = make_store();
  char *store = path_join(dir, "store");
  char *aci = path_join(dir, "hello.aci");
  char *asc = path_join(dir, "hello.aci.asc");
  char *tmp = path_join(dir, "store/tmp");
  struct appc_trust_result res;
  appc_error_t err = NULL;
  put(dir, "hello.aci", "the signed bytes\n");
  put(dir, "hello.aci.asc", "-----BEGIN PGP SIGNATURE-----\n\nnot base64 at all\n");

  int r = appc_trust_verify(store_at(store), "example.com/hello", aci, asc, &res, &err);
  assert_false(res.signature_missing);
  assert_error_contains(r, &err, "hello.aci.asc: ");
  appc_trust_result_clear(&res);
  /* The temporary GNUPGHOME is gone. */
  assert_int_equal(count_entries(tmp), 0);
  free(store), free(aci), free(asc), free(tmp);
  scratch_remove(dir);
}

static void test_bad_key_file_is_refused_naming_it(void **state)
{
  (void) state;
  char *dir = make_store();
  char *store = path_join(dir, "store");
  char *aci = path_join(dir, "hello.aci");
  char *asc = path_join(dir, "hello.aci.asc");
  char *tmp = path_join(dir, "store/tmp");
  struct appc_trust_result res;
  appc_error_t err = NULL;
  put(dir, "hello.aci", "the signed bytes\n");
  put(dir, "hello.aci.asc", "whatever\n");
  put(store, "trust/prefix.d/example.com/" FPR_COM, "not a key\n");

  int r = appc_trust_verify(store_at(store), "example.com/hello", aci, asc, &res, &err);
  assert_error_contains(r, &err, "prefix.d/example.com/" FPR_COM ": holds no OpenPGP public key");
  appc_trust_result_clear(&res);
  assert_int_equal(count_entries(tmp), 0);
  free(store), free(aci), free(asc), free(tmp);
  scratch_remove(dir);
}

static int teardown(void **state)
{
  (void) state;
  scratch_remove(current_scratch);
  return 0;
}

/* The content of DIR/REL, or "" (a buffer of 4 KiB, enough for a signature). */
static const char *slurp(const char *dir, const char *rel)
{
  static char buf[4096];
  char *p = path_join(dir, rel);
  FILE *f = fopen(p, "r");
  size_t n = f != NULL ? fread(buf, 1, sizeof buf - 1, f) : 0;

  if (f != NULL)
    fclose(f);
  buf[n] = '\0';
  free(p);
  return buf;
}

/* appc_sign_file onto an existing signature file: callers of options
 * versions 0 and 1, from before `overwrite`, have it replaced, as it was
 * then; a caller of version 2 has it refused (EEXIST, the file kept)
 * unless it sets overwrite. */
static void test_sign_replaces_by_options_version(void **state)
{
  static const char old_sig[] = "an older signature\n";
  static const char armor[] = "-----BEGIN PGP SIGNATURE-----";
  appc_error_t err = NULL;
  char *cmd = NULL;

  (void) state;
  if (system("gpg --version >/dev/null 2>&1") != 0)
    skip(); /* no gpg to make a key with */
  char *dir = scratch_new();
  char *home = path_join(dir, "gnupg");
  char *file = path_join(dir, "image.aci");
  assert_int_equal(mkdir(home, 0700), 0);
  assert_true(
      asprintf(&cmd,
               "gpg --batch --quiet --homedir '%s' --passphrase '' --pinentry-mode loopback "
               "--quick-gen-key 'Test <test@example.com>' ed25519 sign never >/dev/null 2>&1",
               home) > 0);
  assert_int_equal(system(cmd), 0);
  free(cmd);
  put(dir, "image.aci", "the signed bytes\n");

  for (unsigned version = 0; version <= 1; version++) {
    struct appc_sign_options o = {.version = version, .homedir = home};
    put(dir, "image.aci.asc", old_sig);
    assert_ok(appc_sign_file(file, &o, &err), &err);
    if (strncmp(slurp(dir, "image.aci.asc"), armor, strlen(armor)) != 0)
      fail_msg("version %u: image.aci.asc holds \"%s\", not the new signature", version,
               slurp(dir, "image.aci.asc"));
  }
  struct appc_sign_options o = {.version = APPC_SIGN_OPTIONS_VERSION, .homedir = home};
  put(dir, "image.aci.asc", old_sig);
  assert_refuses_existing(appc_sign_file(file, &o, &err), &err,
                          "image.aci.asc: refusing to replace an existing file");
  assert_string_equal(slurp(dir, "image.aci.asc"), old_sig);
  o.overwrite = true;
  assert_ok(appc_sign_file(file, &o, &err), &err);
  assert_int_equal(strncmp(slurp(dir, "image.aci.asc"), armor, strlen(armor)), 0);

  /* the agent that gpg started for the keyring goes with it */
  assert_true(asprintf(&cmd, "gpgconf --homedir '%s' --kill gpg-agent >/dev/null 2>&1", home) > 0);
  (void) system(cmd);
  free(cmd);
  free(file);
  free(home);
}

/* The packets of a signature or a key are read before gpg sees them: a
 * compressed packet (which gpg would unpack, gigabytes from 3 KB) and data
 * packets are refused; so are garbage and cut packets. */
static void test_openpgp_packets_checked_before_gpg(void **state)
{
  (void) state;
  appc_error_t err = NULL;
  /* a signature packet (new format, tag 2, 3 bytes of body) */
  static const char sig[] = {(char) 0xc2, 3, 4, 0, 1};
  /* the same in the old format, then a user ID (tag 13) */
  static const char old_sig_uid[] = {(char) 0x88, 2, 4, 0, (char) 0xb4, 1, 'x'};
  /* compressed data: new format (tag 8), old format of no stated length */
  static const char compressed[] = {(char) 0xc8, 2, 1, 0};
  static const char old_compressed[] = {(char) 0xa3, 1, 0x78};
  static const char cut[] = {(char) 0xc2, 9, 4};
  static const char armored[] = "-----BEGIN PGP SIGNATURE-----\n"
                                "Comment: the packet above, armored\n"
                                "\n"
                                "yAIBAA==\n"
                                "=abcd\n"
                                "-----END PGP SIGNATURE-----\n";
  static const char clearsigned[] = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                                    "Hash: SHA256\n\nsome text\n"
                                    "-----BEGIN PGP SIGNATURE-----\n\n"
                                    "wgMEAAE=\n"
                                    "-----END PGP SIGNATURE-----\n";

  assert_ok(appc_openpgp_check(sig, sizeof sig, APPC_OPENPGP_SIGNATURE, "s", &err), &err);
  assert_ok(appc_openpgp_check(old_sig_uid, sizeof old_sig_uid, APPC_OPENPGP_KEY, "k", &err), &err);
  assert_ok(appc_openpgp_check(clearsigned, strlen(clearsigned), APPC_OPENPGP_SIGNATURE, "c", &err),
            &err);
  assert_error_contains(
      appc_openpgp_check(old_sig_uid, sizeof old_sig_uid, APPC_OPENPGP_SIGNATURE, "s", &err), &err,
      "s: not an OpenPGP signature: it holds a packet of tag 13, which a signature never has");
  assert_error_contains(
      appc_openpgp_check(compressed, sizeof compressed, APPC_OPENPGP_KEY, "k", &err), &err,
      "k: holds no OpenPGP public key: it holds a packet of tag 8 (compressed data)");
  assert_error_contains(
      appc_openpgp_check(old_compressed, sizeof old_compressed, APPC_OPENPGP_SIGNATURE, "s", &err),
      &err, "a packet of tag 8 (compressed data), of no stated length");
  assert_error_contains(
      appc_openpgp_check(armored, strlen(armored), APPC_OPENPGP_SIGNATURE, "a", &err), &err,
      "a: not an OpenPGP signature: it holds a packet of tag 8 (compressed data)");
  assert_error_contains(appc_openpgp_check(cut, sizeof cut, APPC_OPENPGP_SIGNATURE, "s", &err),
                        &err, "s: not an OpenPGP signature: a packet is cut short");
  assert_error_contains(appc_openpgp_check("garbage\n", 8, APPC_OPENPGP_SIGNATURE, "g", &err), &err,
                        "g: not an OpenPGP signature");
  assert_error_contains(appc_openpgp_check("", 0, APPC_OPENPGP_KEY, "e", &err), &err,
                        "e: holds no OpenPGP public key");
}

/* Armor is read as gpg reads it, and armor that gpg reads otherwise than
 * as written is refused, naming the line: gpg's leniencies are where
 * packets hide from a check that stops where the armor seems to end.  In
 * each refused text gpg reads a compressed packet (yAQBAAAA) or more than
 * the block shows. */
#define BEGIN_SIG "-----BEGIN PGP SIGNATURE-----\n"
#define END_SIG "-----END PGP SIGNATURE-----\n"
#define BEGIN_CLEAR "-----BEGIN PGP SIGNED MESSAGE-----\n"
/* a signature packet of 6 bytes: whole groups of base64, no padding */
#define SIG6 "wgQEAAEC\n"
/* one of 5 bytes, padded, and the checksum of it */
#define SIG5 "wgMEAAE=\n"
#define SIG5_CRC "=u/Mq\n"
#define ARMOR_CASE(text, error)                                                                    \
  {                                                                                                \
    text, sizeof text - 1, error                                                                   \
  }

static const struct armor_case {
  const char *text;
  size_t len;
  const char *error; /* NULL: accepted */
} armor_cases[] = {
    /* "=XX" is a quoted-printable base64 character to gpg */
    ARMOR_CASE(BEGIN_SIG "\n" SIG6 "=79=41=51=42=41=41=41=41\n=ZmM1\n" END_SIG,
               "line 4: base64 after a '='"),
    /* gpg skips the dashes and reads on */
    ARMOR_CASE(BEGIN_SIG "\n" SIG6 "-----\nyAQBAAAA\n" END_SIG,
               "line 4: a line of dashes in the base64 of a block"),
    ARMOR_CASE(BEGIN_SIG "\n wgQE*AAEC\n" END_SIG, "line 3: a byte 0x2a in base64"),
    ARMOR_CASE(BEGIN_SIG "\n" SIG5 "yAQBAAAA\n" END_SIG,
               "line 4: a line after the base64's padding"),
    /* a header line without ": " is base64 to gpg */
    ARMOR_CASE(BEGIN_SIG "yAQB:AAAA\n\n" SIG6 "=qROv\n" END_SIG,
               "line 2: neither an armor header line"),
    ARMOR_CASE(BEGIN_SIG SIG6 END_SIG, "line 2: neither an armor header line"),
    /* with neither padding nor checksum, gpg 2.2 reads on past END */
    ARMOR_CASE(BEGIN_SIG "\n" SIG6 END_SIG "yAQBAAAA\n",
               "line 4: the END line after base64 that has neither padding nor a checksum"),
    /* gpg reads the line after the checksum, or after END without one,
     * afresh: binary packets when it starts with a packet header */
    ARMOR_CASE(BEGIN_SIG "\n" SIG5 END_SIG "\xa3\xa3\x01x\n",
               "line 5: after a block without a checksum line, a line gpg would read as "
               "binary packets (its first byte is 0xa3)"),
    ARMOR_CASE(BEGIN_SIG "\n" SIG5 SIG5_CRC "\xa3\x01\x01\x01\x01\x01\xa3\x01x\n" END_SIG,
               "line 5: not the END line after the checksum line"),
    /* a clearsigned text ends at its first line of dashes; gpg skips the
     * line that ends its header lines */
    ARMOR_CASE(BEGIN_CLEAR "Hash: SHA256\n\ntext\n-----\n\nyAQBAAAA\n=ZmM1\n" BEGIN_SIG
                           "\n" SIG5 END_SIG,
               "line 5: a line of dashes in a clearsigned text"),
    ARMOR_CASE(BEGIN_CLEAR BEGIN_SIG "\n" SIG5 END_SIG "\nyAQBAAAA\n=ZmM1\n" BEGIN_SIG
                                     "\n" SIG5 END_SIG,
               "line 2: a line of dashes among the header lines of a clearsigned text"),
    /* a NUL ends gpg's comparisons with armor lines */
    ARMOR_CASE("-----BEGIN PGP SIGNATURE-----\0x\n\nyAQBAAAA\n=ZmM1\n" BEGIN_SIG "\n" SIG5 END_SIG,
               "line 1: a line of dashes holding a NUL byte"),
    ARMOR_CASE(BEGIN_SIG "yAQB\0:AAAA\n\n" SIG6 "=qROv\n" END_SIG,
               "line 2: neither an armor header line"),
    ARMOR_CASE(BEGIN_SIG "\n" SIG5 END_SIG "text\0\n", NULL),
    ARMOR_CASE(BEGIN_SIG "\n" SIG5, "line 4: an armored block without its END line"),
    /* as gpg writes it, blanks and CRs, which gpg skips too */
    ARMOR_CASE("-----BEGIN PGP SIGNATURE----- \r\nVersion: x\r\nComment:\r\n\r\n wgQE AAEC\r\n"
               "=qROv \r\n" END_SIG,
               NULL),
    ARMOR_CASE("text before\n" BEGIN_SIG "\n" SIG5 END_SIG "text after\n" BEGIN_SIG "\n" SIG6
               "\n=qROv\n" END_SIG,
               NULL),
    /* lines like armor lines that gpg does not take for them are text */
    ARMOR_CASE("-----BEGIN PGP SIGNATURE-----x\n-----\n" BEGIN_SIG "\n" SIG5 END_SIG, NULL),
    ARMOR_CASE(BEGIN_CLEAR "Hash: SHA256\n\n- -----\ntext\n" BEGIN_SIG "\n" SIG5 SIG5_CRC END_SIG,
               NULL),
};

/* TEXT checked as a signature: accepted when ERROR is NULL, else refused
 * with ERROR in the message. */
static void assert_armor_verdict(const char *text, size_t len, const char *error)
{
  appc_error_t err = NULL;
  int r = appc_openpgp_check(text, len, APPC_OPENPGP_SIGNATURE, "a", &err);

  if (error == NULL)
    assert_ok(r, &err);
  else if (r == 0)
    fail_msg("accepted, where \"%s\" was expected:\n%.*s", error, (int) len, text);
  else
    assert_error_contains(r, &err, error);
}

static void test_openpgp_armor_read_as_gpg_reads_it(void **state)
{
  (void) state;
  for (size_t i = 0; i < ARRAY_SIZE(armor_cases); i++)
    assert_armor_verdict(armor_cases[i].text, armor_cases[i].len, armor_cases[i].error);

  /* gpg cuts a line of more than 19998 bytes (its MAX_LINELEN, 20000,
   * less its "\n" and NUL) */
  for (size_t line = 19998; line <= 19999; line++) {
    char *text = NULL;
    assert_true(asprintf(&text, BEGIN_SIG "\n%*s=qROv\n" END_SIG, (int) line + 1, SIG6) > 0);
    assert_armor_verdict(text, strlen(text), line == 19998 ? NULL : "line 3: longer than");
    free(text);
  }
}

/* A distribution's keyring (what a Debian InRelease is checked with) goes
 * through the same reading before gpg imports it, and its temporary
 * GNUPGHOME goes. */
static void test_keyring_armor_read_as_gpg_reads_it(void **state)
{
  (void) state;
  char *dir = scratch_new();
  char *keyring = path_join(dir, "keyring.asc");
  char *plain = NULL;
  size_t plain_len = 0;
  appc_error_t err = NULL;
  put(dir, "keyring.asc",
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" SIG6 "=79=41=51=42=41=41=41=41\n=ZmM1\n"
      "-----END PGP PUBLIC KEY BLOCK-----\n");

  assert_ok(appc_trust_init(&err), &err);
  int r = appc_trust_verify_keyring(keyring, dir, "InRelease", "text\n", 5, NULL, 0, &plain,
                                    &plain_len, &err);
  assert_error_contains(r, &err, "keyring.asc: holds no OpenPGP public key: line 4: base64 after");
  assert_null(plain);
  assert_int_equal(count_entries(dir), 1);
  free(keyring);
  scratch_remove(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_prefixes_shortest_first),
      cmocka_unit_test(test_prefixes_refuse_components_that_leave_the_key_store),
      cmocka_unit_test_teardown(test_keys_of_every_prefix_and_root, teardown),
      cmocka_unit_test_teardown(test_prefix_covers_names_only_at_a_slash, teardown),
      cmocka_unit_test_teardown(test_no_key_store_means_no_keys, teardown),
      cmocka_unit_test_teardown(test_key_file_where_a_prefix_directory_would_be, teardown),
      cmocka_unit_test_teardown(test_symlinked_key_file_is_followed, teardown),
      cmocka_unit_test_teardown(test_misplaced_files_are_reported, teardown),
      cmocka_unit_test_teardown(test_missing_signature_is_flagged, teardown),
      cmocka_unit_test_teardown(test_garbage_signature_is_refused_and_leaves_nothing, teardown),
      cmocka_unit_test_teardown(test_bad_key_file_is_refused_naming_it, teardown),
      cmocka_unit_test(test_openpgp_packets_checked_before_gpg),
      cmocka_unit_test(test_openpgp_armor_read_as_gpg_reads_it),
      cmocka_unit_test(test_keyring_armor_read_as_gpg_reads_it),
      cmocka_unit_test_teardown(test_sign_replaces_by_options_version, teardown),
  };
  gpgme_check_version(NULL);
  return cmocka_run_group_tests_name("trust", tests, NULL, NULL);
}
