/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout SUBCOMMAND: an image layout edited step by step. */
#include "config.h"

#include "actool/actool.h"

extern const struct actool_command actool_cmd_layout_init, actool_cmd_layout_set,
    actool_cmd_layout_set_exec, actool_cmd_layout_label, actool_cmd_layout_annotation,
    actool_cmd_layout_env, actool_cmd_layout_port, actool_cmd_layout_mount,
    actool_cmd_layout_isolator, actool_cmd_layout_dependency, actool_cmd_layout_copy,
    actool_cmd_layout_run, actool_cmd_layout_debian;

static const struct actool_command *const layout_subcommands[] = {
    &actool_cmd_layout_init,       &actool_cmd_layout_copy,
    &actool_cmd_layout_run,        &actool_cmd_layout_set,
    &actool_cmd_layout_set_exec,   &actool_cmd_layout_label,
    &actool_cmd_layout_annotation, &actool_cmd_layout_env,
    &actool_cmd_layout_port,       &actool_cmd_layout_mount,
    &actool_cmd_layout_isolator,   &actool_cmd_layout_dependency,
    &actool_cmd_layout_debian,     NULL,
};

const struct actool_command actool_cmd_layout = {
    .name = "layout",
    .summary = "Author an image layout step by step",
    .usage = "SUBCOMMAND [--layout=DIR] [OPTIONS] [ARGS...]",
    .description = "Every subcommand works on the layout in --layout=DIR ($ACTOOL_LAYOUT, else\n"
                   "the current directory) under its lock, and writes the manifest only when\n"
                   "the result is valid: each step leaves a layout that `actool build` takes.\n"
                   "The manifest may be written in YAML (manifest.yaml); an edit writes it\n"
                   "back as JSON (actool-layout(1)).",
    .subcommands = layout_subcommands,
};
