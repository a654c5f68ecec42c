/* SPDX-License-Identifier: Apache-2.0 */
/* actool build LAYOUT OUT.aci */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "appc/aci.h"
#include "actool/actool.h"

struct build_options {
  bool overwrite;
  bool owner_root;
  bool no_compression;
  const char *compression;
};

#define OPT(field) offsetof(struct build_options, field)
static const struct actool_option build_option_table[] = {
    {"overwrite", ACTOOL_OPT_BOOL, OPT(overwrite), NULL,
     "Overwrite the output file if it already exists", NULL},
    {"owner-root", ACTOOL_OPT_BOOL, OPT(owner_root), NULL,
     "Force ownership to root:root on all files", NULL},
    {"no-compression", ACTOOL_OPT_BOOL, OPT(no_compression), NULL,
     "Do not compress the produced ACI (same as --compression=none)", NULL},
    {"compression", ACTOOL_OPT_STRING, OPT(compression), "ALGO",
     "Compression of the produced ACI: gzip, bzip2, xz or none", "gzip"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_build(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct build_options *o = opaque;
  struct appc_build_options bo = {
      .overwrite = o->overwrite,
      .owner_root = o->owner_root,
      .temp_notify = actool_temp_notify,
      .cb = actool_callbacks(g),
  };
  int r;
  char image_id[APPC_IMAGE_ID_LEN + 1];
  cleanup_error appc_error_t err = NULL;

  if (argc != 2)
    return actool_usage_error("build", "needs a layout directory and an output file");
  if (actool_check_aci_name("build", argv[1]) != 0 ||
      actool_output_compression("build", o->compression, o->no_compression, &bo.compression) != 0)
    return ACTOOL_EXIT_USAGE;

  actool_cancel_begin();
  r = appc_aci_build(argv[0], argv[1], &bo, image_id, &err);
  actool_cancel_end();
  if (r < 0) {
    actool_report(&err);
    return ACTOOL_EXIT_FAILURE;
  }
  printf("%s\n", image_id);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_build = {
    .name = "build",
    .summary = "Build an ACI from an image layout",
    .usage = "[--overwrite] [--owner-root] [--compression=gzip|bzip2|xz|none] LAYOUT OUT.aci",
    .description = "Validates the layout (a directory with a manifest file and a rootfs\n"
                   "directory), then writes a reproducible ACI and prints its image ID.\n"
                   "The output is written under a temporary name and renamed into place,\n"
                   "so a failed or interrupted build never leaves a partial file.",
    .options = build_option_table,
    .options_size = sizeof(struct build_options),
    .run = run_build,
};
