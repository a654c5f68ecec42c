/* SPDX-License-Identifier: Apache-2.0 */
/* actool list [--json] [--no-legend]: the pods of this host, running or
 * abandoned (their actool was killed; `actool gc` removes them). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "appc/ace.h"
#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

struct list_options {
  bool json;
  bool no_legend;
};

static const struct actool_option list_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct list_options, json), NULL,
     "Print a JSON array on stdout", NULL},
    {"no-legend", ACTOOL_OPT_BOOL, offsetof(struct list_options, no_legend), NULL,
     "Leave out the header line", NULL},
    {0},
};

static void print_row(const struct appc_ace_pod_info *p)
{
  char t[64];

  actool_pod_time(&p->started, t, sizeof t);
  printf("%s\t%s\t%s\t", p->uuid, actool_pod_state_name(p->state), t);
  for (size_t i = 0; i < p->n_apps; i++)
    printf("%s%s", i > 0 ? "," : "", p->apps[i].name);
  printf("\n");
}

static int run_list(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct list_options *o = options;
  struct appc_store *s = NULL;
  struct appc_ace_pod_info *pods = NULL;
  cleanup_error appc_error_t err = NULL;
  size_t n = 0;
  int r;

  (void) argv;
  if (argc > 0)
    return actool_usage_error("list", "takes no arguments");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_list(s, &pods, &n, &err);
  appc_store_close(s);
  if (r < 0)
    return actool_fail(&err);
  if (o->json) {
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
      json_object_array_add(a, actool_pod_json(&pods[i]));
    actool_print_json(a);
    json_object_put(a);
  } else {
    if (!o->no_legend)
      printf("UUID\tSTATE\tSTARTED\tAPPS\n");
    for (size_t i = 0; i < n; i++)
      print_row(&pods[i]);
  }
  appc_ace_pod_infos_free(pods, n);
  return fflush(stdout) == 0 ? ACTOOL_EXIT_OK : ACTOOL_EXIT_FAILURE;
}

const struct actool_command actool_cmd_list = {
    .name = "list",
    .summary = "List pods",
    .usage = "[--json] [--no-legend]",
    .description = "Pods that run, and pods whose actool was killed (\"abandoned\": `actool gc`\n"
                   "removes them).  A pod that ends is removed at once.",
    .options = list_option_table,
    .options_size = sizeof(struct list_options),
    .run = run_list,
};
