/* SPDX-License-Identifier: Apache-2.0 */
/* actool stop [--force] [--grace=DURATION] UUID... */
#include "config.h"

#include <stdio.h>

#include "actool/actool.h"
#include "appc/ace.h"
#include "appc/store.h"
#include "common/cleanup.h"

struct stop_options {
  bool force;
  const char *grace;
};

static const struct actool_option stop_option_table[] = {
    {"force", ACTOOL_OPT_BOOL, offsetof(struct stop_options, force), NULL,
     "Kill every app at once, without a grace period (post-stop handlers still run)", NULL},
    {"grace", ACTOOL_OPT_STRING, offsetof(struct stop_options, grace), "DURATION",
     "How long apps have to exit after SIGTERM before they are killed", "10s"},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_stop(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct stop_options *o = options;
  struct appc_store *s = NULL;
  double grace = 0;
  int r, status = ACTOOL_EXIT_OK;

  if (argc == 0)
    return actool_usage_error("stop", "needs the UUID of a pod");
  if (!o->force && actool_parse_duration(o->grace, &grace) < 0)
    return actool_usage_error("stop", "--grace=%s: not a duration (such as 10s or 1m30s)",
                              o->grace);
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  for (int i = 0; i < argc; i++) {
    struct appc_ace_pod_info p = {0};
    cleanup_error appc_error_t err = NULL;
    if (appc_ace_stop(s, argv[i], o->force ? 0 : grace, &p, &err) < 0) {
      status = actool_fail(&err);
      continue;
    }
    printf("%s\n", p.uuid);
    appc_ace_pod_info_clear(&p);
  }
  appc_store_close(s);
  return status;
}

const struct actool_command actool_cmd_stop = {
    .name = "stop",
    .summary = "Stop running pods",
    .usage = "[--force] [--grace=DURATION] UUID...",
    .description = "Sends SIGTERM to every app of the pod (their post-stop handlers run) and,\n"
                   "if the pod still runs after the grace period (10s), kills it.  Prints the\n"
                   "UUID of each pod stopped, once it is gone; a detached pod that has\n"
                   "exited already is stopped.  A UUID prefix does.  Stopping a pod that is\n"
                   "stopping already leaves it its grace period (no second interrupt).",
    .options = stop_option_table,
    .options_size = sizeof(struct stop_options),
    .run = run_stop,
};
