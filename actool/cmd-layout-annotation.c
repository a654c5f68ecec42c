/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout annotation add NAME VALUE | rm NAME */
#include "config.h"

#include "actool/layout-cli.h"

struct annotation_options {
  const char *layout;
};

static const struct actool_option annotation_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct annotation_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_layout_annotation(const struct actool_globals *g, void *opaque, int argc,
                                 char **argv)
{
  const struct annotation_options *o = opaque;

  (void) g;
  return actool_layout_kv_command("layout annotation", actool_layout_dir(o->layout),
                                  APPC_LAYOUT_ANNOTATIONS, argc, argv);
}

const struct actool_command actool_cmd_layout_annotation = {
    .name = "layout annotation",
    .summary = "Add or remove an annotation",
    .usage = "[--layout=DIR] add NAME VALUE\n"
             "       actool layout annotation [--layout=DIR] rm NAME",
    .description =
        "add replaces the value of an annotation of that name; rm of a name not there is an error.",
    .options = annotation_option_table,
    .options_size = sizeof(struct annotation_options),
    .run = run_layout_annotation,
};
