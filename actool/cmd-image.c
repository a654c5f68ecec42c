/* SPDX-License-Identifier: Apache-2.0 */
/* actool image SUBCOMMAND: operations on the images in the store. */
#include "config.h"

#include "actool/actool.h"

extern const struct actool_command actool_cmd_image_list, actool_cmd_image_cat_manifest,
    actool_cmd_image_render, actool_cmd_image_extract, actool_cmd_image_export, actool_cmd_image_rm,
    actool_cmd_image_gc, actool_cmd_image_verify, actool_cmd_image_bundle;

static const struct actool_command *const image_subcommands[] = {
    &actool_cmd_image_list,   &actool_cmd_image_cat_manifest,
    &actool_cmd_image_render, &actool_cmd_image_extract,
    &actool_cmd_image_export, &actool_cmd_image_rm,
    &actool_cmd_image_gc,     &actool_cmd_image_verify,
    &actool_cmd_image_bundle, NULL,
};

const struct actool_command actool_cmd_image = {
    .name = "image",
    .summary = "Operate on images in the store",
    .usage = "SUBCOMMAND [OPTIONS] [ARGS...]",
    .description = "IMAGE is a full image ID, a unique prefix of one (\"sha512-\" and at least 12\n"
                   "hex digits), or NAME[,LABEL=VALUE...] (the newest matching import wins).",
    .subcommands = image_subcommands,
};
