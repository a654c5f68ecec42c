/* SPDX-License-Identifier: Apache-2.0 */
/* actool image rm IMAGE... */
#include "config.h"

#include <errno.h>
#include <stdio.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"
#include "appc/types.h"

/* Is SPEC a full image ID?  Then the image is removed without its record
 * being read: a damaged record (image verify names it) goes as well. */
static bool full_id(const char *spec)
{
  appc_error_t e = NULL;
  bool r = appc_validate_image_id_full(spec, &e) == 0;

  appc_error_release(&e);
  return r;
}

static int remove_one(const struct actool_globals *g, struct appc_store *s, const char *spec)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_store_image img = {0};
  const char *id = spec;
  int r = ACTOOL_EXIT_OK;

  if (!full_id(spec)) {
    if ((r = actool_lookup_image(s, spec, &img)) != 0)
      return r;
    id = img.id;
  }
  if (appc_store_remove(s, id, &err) < 0) {
    if (err->errnum == ENOENT) {
      actool_error("%s (see 'actool image list')", err->msg);
      r = ACTOOL_EXIT_FAILURE;
    } else {
      r = actool_fail(&err);
    }
  } else {
    actool_debug(g, "removed %s%s%s%s", id, img.name != NULL ? " (" : "",
                 img.name != NULL ? img.name : "", img.name != NULL ? ")" : "");
    printf("%s\n", id);
  }
  appc_store_image_clear(&img);
  return r;
}

static int run_image_rm(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  struct appc_store *s = NULL;
  int r, status = ACTOOL_EXIT_OK;

  (void) opaque;
  if (argc == 0)
    return actool_usage_error("image rm", "needs at least one IMAGE");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  for (int i = 0; i < argc; i++)
    if (remove_one(g, s, argv[i]) != ACTOOL_EXIT_OK)
      status = ACTOOL_EXIT_FAILURE;
  appc_store_close(s);
  return status;
}

const struct actool_command actool_cmd_image_rm = {
    .name = "image rm",
    .summary = "Remove images from the store",
    .usage = "IMAGE...",
    .description = "Prints the ID of each image removed.  Rendered trees made from it are left\n"
                   "for `image gc`, since a running pod may still use them.",
    .run = run_image_rm,
    .operands_nonempty = true,
};
