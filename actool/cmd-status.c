/* SPDX-License-Identifier: Apache-2.0 */
/* actool status [--json] UUID: one pod, as KEY=VALUE lines or JSON. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "appc/ace.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

struct status_options {
  bool json;
};

static const struct actool_option status_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct status_options, json), NULL,
     "print a JSON object on stdout (as one element of `list --json`)", NULL},
    {0},
};

static void print_lines(const struct appc_ace_pod_info *p)
{
  char t[64];

  actool_pod_time(&p->started, t, sizeof t);
  printf("uuid=%s\nstate=%s\npid=%d\nstarted=%s\nnet=%s\nhostname=%s\n", p->uuid,
         actool_pod_state_name(p->state), (int) p->pid, t, p->net, p->hostname);
  for (size_t i = 0; i < p->n_apps; i++) {
    if (p->apps[i].exited)
      printf("app-%s=exited(%d)\n", p->apps[i].name, p->apps[i].status);
    else
      printf("app-%s=%s\n", p->apps[i].name, actool_app_state_name(p, i));
    /* os-release, as rkt shows it: what the image runs, e.g. Debian 12 */
    if (p->apps[i].os_name != NULL)
      printf("app-%s-os=%s%s%s\n", p->apps[i].name, p->apps[i].os_name,
             p->apps[i].os_version != NULL ? " " : "",
             p->apps[i].os_version != NULL ? p->apps[i].os_version : "");
  }
}

static int run_status(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct status_options *o = options;
  struct appc_store *s = NULL;
  struct appc_ace_pod_info p;
  cleanup_error appc_error_t err = NULL;
  int r;

  if (argc != 1)
    return actool_usage_error("status", "needs one pod UUID");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_status(s, argv[0], &p, &err);
  appc_store_close(s);
  if (r < 0)
    return actool_fail(&err);
  if (o->json) {
    struct json_object *j = actool_pod_json(&p);
    actool_print_json(j);
    json_object_put(j);
  } else {
    print_lines(&p);
  }
  appc_ace_pod_info_clear(&p);
  return fflush(stdout) == 0 ? ACTOOL_EXIT_OK : ACTOOL_EXIT_FAILURE;
}

const struct actool_command actool_cmd_status = {
    .name = "status",
    .summary = "Show the status of a pod",
    .usage = "[--json] UUID",
    .description = "UUID may be a unique prefix.  Prints KEY=VALUE lines, or with --json the\n"
                   "pod as `list --json` shows it.",
    .options = status_option_table,
    .options_size = sizeof(struct status_options),
    .run = run_status,
};
