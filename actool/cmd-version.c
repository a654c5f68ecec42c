/* SPDX-License-Identifier: Apache-2.0 */
/* actool version */
#include "config.h"

#include <stdio.h>

#include "actool/actool.h"

int actool_print_version(void)
{
  printf("actool version %s\nappc version %s\n", PACKAGE_VERSION, APPC_SPEC_VERSION_STRING);
  return ACTOOL_EXIT_OK;
}

static int run_version(const struct actool_globals *g, void *options, int argc, char **argv)
{
  if (argc != 0)
    return actool_usage_error("version", "takes no arguments");
  return actool_print_version();
}

const struct actool_command actool_cmd_version = {
    .name = "version",
    .summary = "Print the version and exit",
    .usage = "",
    .run = run_version,
};
