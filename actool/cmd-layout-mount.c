/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout mount add NAME PATH [--read-only] | rm NAME */
#include "config.h"

#include "actool/layout-cli.h"

struct mount_options {
  const char *layout;
  bool read_only;
};

static const struct actool_option mount_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct mount_options),
    {"read-only", ACTOOL_OPT_BOOL, offsetof(struct mount_options, read_only), NULL,
     "The app sees the volume read-only", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct mount_edit {
  bool add, read_only;
  const char *name, *path;
};

static int apply_mount(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct mount_edit *e = data;

  if (!e->add)
    return appc_layout_remove(l, APPC_LAYOUT_MOUNT_POINTS, e->name, err);
  return appc_layout_mount_add(l, e->name, e->path, e->read_only, err);
}

static int run_layout_mount(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct mount_options *o = opaque;
  struct mount_edit e = {.read_only = o->read_only};
  int r = actool_layout_add_or_rm("layout mount", argc, argv, 2, 1, &e.add);

  (void) g;
  if (r != ACTOOL_EXIT_OK)
    return r;
  e.name = argv[1];
  e.path = e.add ? argv[2] : NULL;
  return actool_layout_edit(actool_layout_dir(o->layout), apply_mount, &e);
}

const struct actool_command actool_cmd_layout_mount = {
    .name = "layout mount",
    .summary = "Add or remove a mount point of the app",
    .usage = "[--layout=DIR] add NAME PATH [--read-only]\n"
             "       actool layout mount [--layout=DIR] rm NAME",
    .description = "A mount point names a place in the rootfs where the pod mounts a volume.\n"
                   "add replaces a mount point of that name.",
    .options = mount_option_table,
    .options_size = sizeof(struct mount_options),
    .run = run_layout_mount,
};
