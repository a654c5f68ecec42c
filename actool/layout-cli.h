/* SPDX-License-Identifier: Apache-2.0 */
/* actool CLI: what the `layout` commands share (docs/authoring.md). */
#ifndef ACTOOL_LAYOUT_CLI_H
#define ACTOOL_LAYOUT_CLI_H

#include <stddef.h>

#include "actool/actool.h"
#include "appc/layout.h"

/* Every layout command's options start with this member. */
#define ACTOOL_LAYOUT_OPTION(type)                                                                 \
  {                                                                                                \
    "layout", ACTOOL_OPT_PATH, offsetof(type, layout), "DIR",                                      \
        "The layout (default: $ACTOOL_LAYOUT, else the current directory)", NULL                   \
  }

/* The layout directory: --layout, else $ACTOOL_LAYOUT, else ".". */
const char *actool_layout_dir(const char *option);

/* Open the layout DIR, apply EDIT, commit: the manifest is written only if
 * EDIT succeeded and the result is a valid manifest.  Prints errors;
 * returns an exit status. */
typedef int (*actool_layout_edit_fn)(struct appc_layout *l, void *data, appc_error_t *err);
int actool_layout_edit(const char *dir, actool_layout_edit_fn edit, void *data);

/* `layout LIST add|rm ...` for labels, annotations and environment: ARGV
 * is "add NAME VALUE" or "rm NAME". */
int actool_layout_kv_command(const char *command, const char *dir, enum appc_layout_list list,
                             int argc, char **argv);

/* "add" or "rm" and the number of arguments each takes after it; prints a
 * usage error (returning 2) for anything else.  *ADD tells which. */
int actool_layout_add_or_rm(const char *command, int argc, char **argv, int add_args, int rm_args,
                            bool *add);

#endif
