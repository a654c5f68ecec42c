/* SPDX-License-Identifier: Apache-2.0 */
/* actool status UUID: one pod, as KEY=VALUE lines. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "ace/ace.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "store/store.h"

static int run_status(const struct actool_globals *g, void *options, int argc, char **argv)
{
  struct appc_store *s = NULL;
  struct appc_ace_pod_info p;
  cleanup_error appc_error_t err = NULL;
  char t[64];
  int r;

  (void) options;
  if (argc != 1)
    return actool_usage_error("status", "needs one pod UUID");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_status(s, argv[0], &p, &err);
  appc_store_close(s);
  if (r < 0)
    return actool_fail(&err);
  actool_pod_time(&p.started, t, sizeof t);
  printf("uuid=%s\nstate=%s\npid=%d\nstarted=%s\nnet=%s\nhostname=%s\n", p.uuid,
         actool_pod_state_name(p.state), (int) p.pid, t, p.net, p.hostname);
  for (size_t i = 0; i < p.n_apps; i++) {
    if (p.apps[i].exited)
      printf("app-%s=exited(%d)\n", p.apps[i].name, p.apps[i].status);
    else
      printf("app-%s=%s\n", p.apps[i].name, actool_app_state_name(&p, i));
  }
  appc_ace_pod_info_clear(&p);
  return fflush(stdout) == 0 ? ACTOOL_EXIT_OK : ACTOOL_EXIT_FAILURE;
}

const struct actool_command actool_cmd_status = {
    .name = "status",
    .summary = "Show the status of a pod",
    .usage = "UUID",
    .description = "UUID may be a unique prefix.  Prints KEY=VALUE lines.",
    .run = run_status,
};
