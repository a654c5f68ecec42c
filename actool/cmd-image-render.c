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
                   "says.  An image's first render writes DEST from its layers; the second\n"
                   "caches the rendered tree in the store, so later renders are a copy.  DEST\n"
                   "appears only when complete; an existing empty directory is replaced without\n"
                   "--overwrite.",
    .options = actool_render_option_table,
    .options_size = sizeof(struct actool_render_options),
    .run = run_image_render,
    .operands_nonempty = true,
};
