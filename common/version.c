/* SPDX-License-Identifier: Apache-2.0 */
/* The library's release, for programs linked against it. */
#include "config.h"

#include "appc/appc.h"

const char *appc_version(void)
{
  return PACKAGE_VERSION;
}
