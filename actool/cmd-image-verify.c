/* SPDX-License-Identifier: Apache-2.0 */
/* actool image verify [IMAGE...] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

static void print_problem(const char *msg, void *data)
{
  (void) data;
  actool_error("%s", msg);
}

static int verify(const struct actool_globals *g, struct appc_store *s, int argc, char **argv)
{
  cleanup_error appc_error_t err = NULL;
  struct appc_store_image img;
  unsigned long long damaged = 0;
  const char **ids = calloc((size_t) argc + 1, sizeof *ids);
  int r = ACTOOL_EXIT_OK;

  if (ids == NULL)
    return ACTOOL_EXIT_FAILURE;
  for (int i = 0; i < argc && r == 0; i++) {
    r = actool_lookup_image(s, argv[i], &img);
    if (r == 0 && (ids[i] = strdup(img.id)) == NULL)
      r = ACTOOL_EXIT_FAILURE;
    if (r == 0)
      appc_store_image_clear(&img);
  }
  if (r == 0 && appc_store_verify(s, ids, (size_t) argc, print_problem, NULL, &damaged, &err) < 0)
    r = actool_fail(&err);
  else if (r == 0 && damaged > 0)
    r = ACTOOL_EXIT_FAILURE;
  if (r == 0)
    actool_debug(g, "store %s: no damage found", appc_store_path(s));
  for (int i = 0; i < argc; i++)
    free((char *) ids[i]);
  free(ids);
  return r;
}

static int run_image_verify(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  struct appc_store *s = NULL;
  int r;

  (void) opaque;
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = verify(g, s, argc, argv);
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_verify = {
    .name = "image verify",
    .summary = "Check images and rendered trees for damage",
    .usage = "[IMAGE...]",
    .description = "Re-reads every blob (or those of the IMAGEs named) and checks that it hashes\n"
                   "to its image ID and holds the indexed manifest, and that every rendered tree\n"
                   "made from them still has its recorded digest.  Each problem is printed on\n"
                   "its own line; the exit status is 1 when anything is damaged.",
    .run = run_image_verify,
};
