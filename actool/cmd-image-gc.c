/* SPDX-License-Identifier: Apache-2.0 */
/* actool image gc [--grace=DURATION] */
#include "config.h"

#include <stdio.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

struct gc_options {
  const char *grace;
};

static const struct actool_option gc_option_table[] = {
    {"grace", ACTOOL_OPT_STRING, offsetof(struct gc_options, grace), "DURATION",
     "Keep rendered trees used within this long, and partial downloads this young", "24h"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_image_gc(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct gc_options *o = opaque;
  cleanup_error appc_error_t err = NULL;
  struct appc_store_gc_report rep;
  struct appc_store *s = NULL;
  double grace;
  int r;

  (void) argv;
  if (argc != 0)
    return actool_usage_error("image gc", "takes no arguments");
  if (actool_parse_duration(o->grace, &grace) < 0)
    return actool_usage_error("image gc", "--grace: \"%s\" is not a duration (like 24h or 90m)",
                              o->grace);
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  if (appc_store_gc(s, grace, &rep, &err) < 0)
    r = actool_fail(&err);
  else
    printf("removed %llu blobs, %llu rendered trees and %llu temporaries (%.1f MiB of files); "
           "%llu trees kept in use\n",
           rep.blobs, rep.trees, rep.temporaries, (double) rep.bytes / (1 << 20), rep.trees_in_use);
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_gc = {
    .name = "image gc",
    .summary = "Remove what no image needs from the store",
    .usage = "[--grace=DURATION]",
    .description =
        "Removes blobs without an index record, rendered trees whose images are gone or\n"
        "that were not used within the grace period (never one in use), and\n"
        "temporaries left by interrupted processes.  Images themselves are kept.",
    .options = gc_option_table,
    .options_size = sizeof(struct gc_options),
    .run = run_image_gc,
};
