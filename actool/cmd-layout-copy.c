/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout copy SRC... DEST */
#include "config.h"

#include "actool/layout-cli.h"

struct copy_options {
  const char *layout;
};

static const struct actool_option copy_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct copy_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_layout_copy(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct copy_options *o = opaque;
  struct appc_layout *l = NULL;
  appc_error_t err = NULL;
  int r;

  if (argc < 2)
    return actool_usage_error("layout copy", "needs SRC... and DEST");
  if (appc_layout_open(actool_layout_dir(o->layout), &l, &err) < 0)
    return actool_fail(&err);
  actool_cancel_begin();
  r = appc_layout_copy(l, argv, (size_t) argc - 1, argv[argc - 1], actool_callbacks(g), &err);
  actool_cancel_end();
  appc_layout_close(l);
  return r < 0 ? actool_fail(&err) : ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_layout_copy = {
    .name = "layout copy",
    .summary = "Copy files of the host into the layout's rootfs",
    .usage = "[--layout=DIR] SRC... DEST",
    .description = "As a Containerfile's COPY: a file goes to DEST, or into it when DEST is a\n"
                   "directory or ends in '/'; a directory's contents go into DEST, merged with\n"
                   "what is there; several sources go into the directory DEST.  DEST is a path\n"
                   "in the rootfs, whose symlinks are resolved inside it; a symlink there that\n"
                   "names a directory takes a directory's contents and stays.  A SRC that is a\n"
                   "symlink is copied as what it leads to, under its own name; the symlinks\n"
                   "inside a directory are copied as symlinks.  Modes and times are kept; the\n"
                   "files belong to root.",
    .options = copy_option_table,
    .options_size = sizeof(struct copy_options),
    .operands_nonempty = true,
    .run = run_layout_copy,
};
