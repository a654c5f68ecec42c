/* SPDX-License-Identifier: Apache-2.0 */
/* actool image export [--overwrite] IMAGE OUT.aci */
#include "config.h"

#include <stdio.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

struct export_options {
  bool overwrite;
};

static const struct actool_option export_option_table[] = {
    {"overwrite", ACTOOL_OPT_BOOL, offsetof(struct export_options, overwrite), NULL,
     "Replace OUT if it exists", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_image_export(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct export_options *o = opaque;
  cleanup_error appc_error_t err = NULL;
  struct appc_store *s = NULL;
  struct appc_store_image img;
  int r;

  if (argc != 2)
    return actool_usage_error("image export", "needs IMAGE and OUT");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = actool_lookup_image(s, argv[0], &img);
  if (r == 0) {
    if (appc_store_export(s, img.id, argv[1], o->overwrite, &err) < 0)
      r = actool_fail(&err);
    appc_store_image_clear(&img);
  }
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_export = {
    .name = "image export",
    .summary = "Write an image of the store to an ACI file",
    .usage = "[--overwrite] IMAGE OUT.aci",
    .description = "The file holds the bytes that were imported, so its image ID is the same.",
    .options = export_option_table,
    .options_size = sizeof(struct export_options),
    .run = run_image_export,
};
