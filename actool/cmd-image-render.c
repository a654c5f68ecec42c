/* SPDX-License-Identifier: Apache-2.0 */
/* actool image render [--rootfs] [--overwrite] IMAGE DEST */
#include "config.h"

#include "actool/actool.h"
#include "appc/store.h"

static int run_image_render(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  return actool_render_command(g, "image render", appc_store_render, opaque, argc, argv);
}

const struct actool_command actool_cmd_image_render = {
    .name = "image render",
    .summary = "Render an image with its dependencies into a directory",
    .usage = "[--rootfs] [--overwrite] IMAGE DEST",
    .description = "Dependencies and pathWhitelist are applied as the ACE spec's Filesystem Setup\n"
                   "says.  The rendered tree is cached in the store, so later renders of the\n"
                   "same image are a copy.  DEST appears only when complete; an existing empty\n"
                   "directory is replaced without --overwrite.",
    .options = actool_render_option_table,
    .options_size = sizeof(struct actool_render_options),
    .run = run_image_render,
};
