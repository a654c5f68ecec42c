/* SPDX-License-Identifier: Apache-2.0 */
/* actool list [--json | [--no-legend] [--raw] [--output=COLS]]: the pods of this host, running or
 * abandoned (their actool was killed; `actool gc` removes them). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "appc/ace.h"
#include "actool/actool.h"
#include "actool/table.h"
#include "common/cleanup.h"
#include "common/macros.h"
#include "appc/store.h"

struct list_options {
  bool json;
  bool no_legend;
  bool raw;
  const char *output;
};

static const struct actool_column columns[] = {
    {"UUID", 0}, {"STATE", 0}, {"STARTED", 0}, {"APPS", ACTOOL_COL_WIDE}, {"ADDRESS", 0},
};

static const struct actool_option list_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct list_options, json), NULL,
     "Print a JSON array on stdout", NULL},
    {"no-legend", ACTOOL_OPT_BOOL, offsetof(struct list_options, no_legend), NULL,
     "Leave out the header line", NULL},
    {"output", ACTOOL_OPT_STRING, offsetof(struct list_options, output), "COL[,COL]...",
     "The columns to show, in that order (UUID, STATE, STARTED, APPS, ADDRESS; default all "
     "but ADDRESS)",
     NULL},
    {"raw", ACTOOL_OPT_BOOL, offsetof(struct list_options, raw), NULL,
     "Columns separated by one space, unaligned, special characters escaped", NULL},
    {0},
};

static int add_row(struct actool_table *t, const struct appc_ace_pod_info *p)
{
  char started[64];
  cleanup_free char *apps = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&apps, &len);

  if (f == NULL)
    return -1;
  for (size_t i = 0; i < p->n_apps; i++)
    fprintf(f, "%s%s", i > 0 ? "," : "", p->apps[i].name);
  if (fclose(f) != 0)
    return -1;
  actool_pod_time(&p->started, started, sizeof started);
  const char *cells[] = {p->uuid, actool_pod_state_name(p->state), started, apps, p->address};
  return actool_table_add(t, cells);
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
  struct actool_table_options to = {.output = o->output, .no_legend = o->no_legend, .raw = o->raw};
  if ((r = actool_table_alone("list", &to, o->json ? "--json" : NULL)) != 0)
    return r;
  if (to.output == NULL)
    to.output = "UUID,STATE,STARTED,APPS";
  struct actool_table *t = NULL;
  if (!o->json && (r = actool_table_new("list", columns, ARRAY_SIZE(columns), &to, &t)) != 0)
    return r;
  if ((r = actool_open_store(g, &s)) != 0) {
    actool_table_free(t);
    return r;
  }
  r = appc_ace_list(s, &pods, &n, &err);
  appc_store_close(s);
  if (r < 0) {
    actool_table_free(t);
    return actool_fail(&err);
  }
  if (o->json) {
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++)
      json_object_array_add(a, actool_pod_json(&pods[i]));
    actool_print_json(a);
    json_object_put(a);
  } else {
    for (size_t i = 0; r == 0 && i < n; i++)
      r = add_row(t, &pods[i]);
    if (r < 0)
      actool_table_free(t);
    else
      r = actool_table_print(t);
  }
  appc_ace_pod_infos_free(pods, n);
  return r == 0 ? ACTOOL_EXIT_OK : ACTOOL_EXIT_FAILURE;
}

const struct actool_command actool_cmd_list = {
    .name = "list",
    .summary = "List pods",
    .usage = "[--json | [--no-legend] [--raw] [--output=COL[,COL]...]]",
    .description = "Pods that run, and pods whose actool was killed (\"abandoned\": `actool gc`\n"
                   "removes them).  A pod that ends is removed at once; one run with\n"
                   "--detach is kept, \"exited\", until `actool gc` removes it.",
    .options = list_option_table,
    .options_size = sizeof(struct list_options),
    .run = run_list,
};
