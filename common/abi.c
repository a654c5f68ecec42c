/* SPDX-License-Identifier: Apache-2.0 */
/* Versioned option structures: see common/abi.h. */
#include "config.h"

#include <errno.h>

#include "common/error.h"
#include "common/abi.h"

int appc_abi_check(unsigned version, unsigned known, const char *name, appc_error_t *err)
{
  if (version <= known)
    return 0;
  return appc_error_tag(err, EINVAL,
                        "%s: version %u is newer than this libappc (%s) knows (%u); the "
                        "program was built with newer headers than the library it runs with",
                        name, version, PACKAGE_VERSION, known);
}
