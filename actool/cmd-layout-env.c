/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout env add NAME VALUE | rm NAME */
#include "config.h"

#include "actool/layout-cli.h"

struct env_options {
  const char *layout;
};

static const struct actool_option env_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct env_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_layout_env(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct env_options *o = opaque;

  (void) g;
  return actool_layout_kv_command("layout env", actool_layout_dir(o->layout),
                                  APPC_LAYOUT_ENVIRONMENT, argc, argv);
}

const struct actool_command actool_cmd_layout_env = {
    .name = "layout env",
    .summary = "Add or remove an environment variable of the app",
    .usage = "[--layout=DIR] add NAME VALUE\n"
             "       actool layout env [--layout=DIR] rm NAME",
    .description =
        "add replaces the value of a variable of that name; rm of a name not there is an error.",
    .options = env_option_table,
    .options_size = sizeof(struct env_options),
    .run = run_layout_env,
};
