/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout label add NAME VALUE | rm NAME */
#include "config.h"

#include "actool/layout-cli.h"

struct label_options {
  const char *layout;
};

static const struct actool_option label_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct label_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_layout_label(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct label_options *o = opaque;

  (void) g;
  return actool_layout_kv_command("layout label", actool_layout_dir(o->layout), APPC_LAYOUT_LABELS,
                                  argc, argv);
}

const struct actool_command actool_cmd_layout_label = {
    .name = "layout label",
    .summary = "Add or remove a label",
    .usage = "[--layout=DIR] add NAME VALUE\n"
             "       actool layout label [--layout=DIR] rm NAME",
    .description =
        "add replaces the value of a label of that name; rm of a name not there is an error.",
    .options = label_option_table,
    .options_size = sizeof(struct label_options),
    .run = run_layout_label,
};
