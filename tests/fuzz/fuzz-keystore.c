/* SPDX-License-Identifier: Apache-2.0 */
/* The trust store: key files, as anyone who can write to the store may
 * leave them, and the names and prefixes that select them.
 *
 * The first byte chooses.  Odd: the rest is an image name and a prefix
 * (split at the first NUL): the prefixes of a name never contain an empty,
 * "." or ".." component and a prefix that validates selects no file outside
 * the key store.  Even: the rest is the content of a key file trusted for
 * example.com: reading it as a key, listing the key store and selecting the
 * keys for example.com/app answer, or refuse with a problem, never crash;
 * the listing shows the file exactly once. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "appc/store.h"
#include "appc/trust.h"
#include "tests/fuzz/fuzz.h"

#define FPR "0123456789abcdef0123456789abcdef01234567"

static char store_dir[2048], key_dir[4096];
static struct appc_store *store; /* open for the whole run */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  cleanup_error appc_error_t err = NULL;
  char path[4096];

  (void) argc;
  (void) argv;
  if (appc_trust_init(&err) < 0)
    fuzz_fail("appc_trust_init: %s", err->msg);
  snprintf(store_dir, sizeof store_dir, "%.1000s/store", fuzz_scratch_dir());
  if (appc_store_open(&store, store_dir, &err) < 0)
    fuzz_fail("opening the store: %s", err->msg);
  snprintf(key_dir, sizeof key_dir, "%s/trust/prefix.d/example.com", store_dir);
  snprintf(path, sizeof path, "%s", key_dir);
  /* mkdir -p */
  for (char *p = path + strlen(fuzz_scratch_dir()) + 1; *p != '\0'; p++) {
    if (*p == '/') {
      *p = '\0';
      if (mkdir(path, 0755) < 0 && errno != EEXIST)
        fuzz_fail("mkdir %s: %m", path);
      *p = '/';
    }
  }
  if (mkdir(path, 0755) < 0 && errno != EEXIST)
    fuzz_fail("mkdir %s: %m", path);
  return 0;
}

static void names(const char *name, const char *prefix)
{
  cleanup_error appc_error_t err = NULL;
  char **prefixes = NULL;
  size_t n = 0;

  if (appc_trust_prefixes(name, &prefixes, &n, &err) == 0) {
    for (size_t i = 0; i < n; i++) {
      const char *p = prefixes[i];
      if (p[0] == '\0' || p[0] == '/' || strstr(p, "//") != NULL || strcmp(p, "..") == 0 ||
          strncmp(p, "../", 3) == 0 || strstr(p, "/../") != NULL || strcmp(p, ".") == 0)
        fuzz_fail("name \"%s\" gave the prefix \"%s\"", name, p);
    }
    appc_trust_prefixes_free(prefixes, n);
  }
  appc_error_release(&err);
  if (appc_trust_validate_prefix(prefix, &err) == 0) {
    struct appc_trust_listing l;
    if (appc_trust_list(store, prefix, false, &l, &err) == 0)
      appc_trust_listing_clear(&l);
  }
}

static void key_file(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_trust_keyinfo info;
  struct appc_trust_listing l;
  struct appc_trust_keys keys;
  size_t seen = 0;

  if (appc_trust_read_key(store, (const char *) data, size, "fuzz", &info, &err) == 0)
    appc_trust_keyinfo_clear(&info);
  appc_error_release(&err);

  fuzz_write_file(key_dir, FPR, data, size);
  if (appc_trust_list(store, NULL, false, &l, &err) < 0)
    fuzz_fail("listing the key store failed: %s", err->msg);
  for (size_t i = 0; i < l.n; i++)
    if (l.v[i].path != NULL && strstr(l.v[i].path, FPR) != NULL)
      seen++;
  if (seen != 1)
    fuzz_fail("the key file is listed %zu times", seen);
  appc_trust_listing_clear(&l);
  if (appc_trust_keys_for_name(store, "example.com/app", &keys, &err) == 0) {
    if (keys.n != 1)
      fuzz_fail("%zu keys selected for example.com/app", keys.n);
    appc_trust_keys_clear(&keys);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  if (data[0] & 1) {
    cleanup_free char *s = fuzz_strndup(data + 1, size - 1);
    size_t len = strlen(s);
    names(s, len < size - 1 ? s + len + 1 : s);
  } else {
    key_file(data + 1, size - 1);
  }
  return 0;
}
