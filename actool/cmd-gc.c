/* SPDX-License-Identifier: Apache-2.0 */
/* actool gc: remove what abandoned pods left behind. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "appc/ace.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

static void removed(void *data, const char *uuid)
{
  (void) data;
  printf("removed pod %s\n", uuid);
}

static int run_gc(const struct actool_globals *g, void *options, int argc, char **argv)
{
  struct appc_store *s = NULL;
  struct appc_ace_gc_report rep;
  cleanup_error appc_error_t err = NULL;
  int r;

  (void) options;
  (void) argv;
  if (argc > 0)
    return actool_usage_error("gc", "takes no arguments");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_gc(s, removed, NULL, &rep, &err);
  appc_store_close(s);
  if (r < 0)
    return actool_fail(&err);
  actool_debug(g, "gc: %zu pod(s) removed, %zu still running", rep.removed, rep.running);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_gc = {
    .name = "gc",
    .summary = "Clean up abandoned and exited pods",
    .usage = "",
    .description = "Removes what pods whose actool was killed left behind (processes, cgroups\n"
                   "and directories), and the exited pods `run --detach` keeps.  Running pods\n"
                   "are not touched.",
    .run = run_gc,
};
