/* SPDX-License-Identifier: Apache-2.0 */
/* auth.d files (credentials per host, rkt's format accepted).  Every entry
 * loaded names at least one non-empty domain and carries the credentials
 * its type needs; every loaded domain is found again by appc_auth_find. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "common/cleanup.h"
#include "discovery/internal.h"
#include "tests/fuzz/fuzz.h"

static bool filled(const char *s)
{
  return s != NULL && s[0] != '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_auth_config c;
  char dir[4096];

  snprintf(dir, sizeof dir, "%s/auth.d", fuzz_scratch_dir());
  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    fuzz_fail("mkdir %s: %m", dir);
  fuzz_write_file(dir, "fuzz.json", data, size);
  if (appc_auth_load(dir, &c, &err) < 0)
    return 0;
  for (size_t i = 0; i < c.n; i++) {
    const struct appc_auth_entry *e = &c.v[i];
    if (e->n_domains == 0)
      fuzz_fail("entry %zu has no domain", i);
    if (e->type == APPC_AUTH_BASIC && (!filled(e->user) || e->password == NULL))
      fuzz_fail("basic entry %zu without user or password", i);
    if (e->type == APPC_AUTH_BEARER && !filled(e->token))
      fuzz_fail("bearer entry %zu without a token", i);
    for (size_t j = 0; j < e->n_domains; j++) {
      if (!filled(e->domains[j]))
        fuzz_fail("entry %zu has an empty domain", i);
      if (appc_auth_find(&c, e->domains[j], NULL) == NULL)
        fuzz_fail("domain %s loaded but not found", e->domains[j]);
    }
  }
  appc_auth_clear(&c);
  return 0;
}
