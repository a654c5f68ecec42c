/* SPDX-License-Identifier: Apache-2.0 */
/* actool image extract [--rootfs] [--overwrite] IMAGE DEST */
#include "config.h"

#include "actool/actool.h"
#include "appc/store.h"

static int run_image_extract(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  return actool_render_command(g, "image extract", appc_store_extract, opaque, argc, argv);
}

const struct actool_command actool_cmd_image_extract = {
    .name = "image extract",
    .summary = "Extract an image alone (no dependencies) into a directory",
    .usage = "[--rootfs] [--overwrite] IMAGE DEST",
    .description = "The image's own files only: dependencies and pathWhitelist are not applied.",
    .options = actool_render_option_table,
    .options_size = sizeof(struct actool_render_options),
    .run = run_image_extract,
    .operands_nonempty = true,
};
