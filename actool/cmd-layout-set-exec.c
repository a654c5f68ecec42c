/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout set-exec -- CMD... */
#include "config.h"

#include "actool/layout-cli.h"

struct set_exec_options {
  const char *layout;
};

static const struct actool_option set_exec_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct set_exec_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct command_line {
  int argc;
  char **argv;
};

static int apply_set_exec(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct command_line *c = data;

  return appc_layout_set_exec(l, c->argv, (size_t) c->argc, err);
}

static int run_layout_set_exec(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct set_exec_options *o = opaque;
  struct command_line c = {argc, argv};

  (void) g;
  if (argc == 0)
    return actool_usage_error("layout set-exec", "needs the command, after --");
  return actool_layout_edit(actool_layout_dir(o->layout), apply_set_exec, &c);
}

const struct actool_command actool_cmd_layout_set_exec = {
    .name = "layout set-exec",
    .summary = "Set the app's command line",
    .usage = "[--layout=DIR] -- CMD [ARG...]",
    .description = "A command without a slash is looked up in the app's PATH when the app runs; "
                   "one with a slash is taken as it is, relative to the working directory.",
    .options = set_exec_option_table,
    .options_size = sizeof(struct set_exec_options),
    .run = run_layout_set_exec,
};
