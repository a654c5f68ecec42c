/* SPDX-License-Identifier: Apache-2.0 */
/* actool gc: remove what abandoned pods left behind. */
#include "config.h"

#include <stddef.h>
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

struct gc_options {
  const char *grace;
};

static const struct actool_option gc_option_table[] = {
    {"grace", ACTOOL_OPT_STRING, offsetof(struct gc_options, grace), "DURATION",
     "Keep exited pods that ended within this long (as rkt gc --grace)", "0s"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_gc(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct gc_options *o = options;
  struct appc_store *s = NULL;
  struct appc_ace_gc_report rep;
  struct appc_ace_gc_options go = {.version = APPC_ACE_GC_OPTIONS_VERSION, .removed = removed};
  cleanup_error appc_error_t err = NULL;
  int r;

  (void) argv;
  if (argc > 0)
    return actool_usage_error("gc", "takes no arguments");
  if (actool_parse_duration(o->grace, &go.grace_seconds) < 0)
    return actool_usage_error("gc", "--grace: \"%s\" is not a duration (like 30m or 1h)", o->grace);
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_gc_with(s, &go, &rep, &err);
  appc_store_close(s);
  if (r < 0)
    return actool_fail(&err);
  actool_debug(g,
               "gc: %zu pod(s) removed, %zu exited kept within the grace period, %zu still running",
               rep.removed, rep.kept, rep.running);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_gc = {
    .name = "gc",
    .summary = "Clean up abandoned and exited pods",
    .usage = "[--grace=DURATION]",
    .description = "Removes what pods whose actool was killed left behind (processes, cgroups\n"
                   "and directories), and the exited pods `run --detach` keeps (with --grace,\n"
                   "those that ended within DURATION stay).  Running pods are not touched.",
    .options = gc_option_table,
    .options_size = sizeof(struct gc_options),
    .run = run_gc,
};
