/* SPDX-License-Identifier: Apache-2.0 */
/* Versioned option structures: see common/abi.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/abi.h"

/* STRUCT is "struct " or "", before NAME. */
static int check(unsigned version, unsigned known, const char *struct_, const char *name,
                 appc_error_t *err)
{
  if (version <= known)
    return 0;
  return appc_error_tag(err, EINVAL,
                        "%s%s: version %u is newer than this libappc (%s) knows (%u); the "
                        "program was built with newer headers than the library it runs with",
                        struct_, name, version, PACKAGE_VERSION, known);
}

int appc_abi_check(unsigned version, unsigned known, const char *name, appc_error_t *err)
{
  return check(version, known, "", name, err);
}

static bool all_zero(const unsigned char *p, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0)
      return false;
  return true;
}

int appc_abi_check_members(const void *opts, unsigned version, unsigned known, const char *name,
                           const struct appc_abi_member *members, size_t n, appc_error_t *err)
{
  if (check(version, known, "struct ", name, err) < 0)
    return -1;
  for (size_t i = 0; i < n; i++) {
    const struct appc_abi_member *m = &members[i];
    if (version < m->version && !all_zero((const unsigned char *) opts + m->offset, m->size))
      return appc_error_tag(err, EINVAL,
                            "%s.%s needs version >= %u, the caller gave %u (set version to "
                            "the header's macro)",
                            name, m->name, m->version, version);
  }
  return 0;
}
