/* SPDX-License-Identifier: Apache-2.0 */
/* actool image verify [IMAGE...] */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"
#include "schema/json.h"

struct verify_options {
  bool json;
};

static const struct actool_option verify_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct verify_options, json), NULL,
     "Print a JSON object on stdout: what was checked, whether it is damaged, and the problems",
     NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* Each problem on stderr, and into the JSON array DATA if there is one. */
static void print_problem(const char *msg, void *data)
{
  actool_error("%s", msg);
  if (data != NULL)
    json_object_array_add(data, json_object_new_string(msg));
}

static int verify(const struct actool_globals *g, const struct verify_options *o,
                  struct appc_store *s, int argc, char **argv)
{
  cleanup_json json_object *problems = o->json ? json_object_new_array() : NULL;
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
  bool verified = false;
  if (r == 0) {
    actool_cancel_begin();
    appc_store_set_callbacks(s, actool_callbacks(g));
    int v = appc_store_verify(s, ids, (size_t) argc, print_problem, problems, &damaged, &err);
    actool_cancel_end();
    actool_progress_clear();
    if (v < 0)
      r = actool_fail(&err);
    else if (damaged > 0)
      r = ACTOOL_EXIT_FAILURE;
    verified = v == 0;
  }
  if (verified && problems != NULL) {
    json_object *j = json_object_new_object(), *checked = json_object_new_array();
    for (int i = 0; i < argc; i++)
      json_object_array_add(checked, json_object_new_string(ids[i]));
    json_object_object_add(j, "images", argc > 0 ? checked : NULL);
    if (argc == 0)
      json_object_put(checked);
    json_object_object_add(j, "damaged", json_object_new_boolean(damaged > 0));
    json_object_object_add(j, "problems", json_object_get(problems));
    actool_print_json(j);
    json_object_put(j);
  }
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

  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = verify(g, opaque, s, argc, argv);
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_verify = {
    .name = "image verify",
    .summary = "Check images and rendered trees for damage",
    .usage = "[--json] [IMAGE...]",
    .description = "Re-reads every blob (or those of the IMAGEs named) and checks that it hashes\n"
                   "to its image ID and holds the indexed manifest, and that every rendered tree\n"
                   "made from them still has its recorded digest.  Each problem is printed on\n"
                   "its own line; the exit status is 1 when anything is damaged.  --json\n"
                   "prints {\"images\": [IDs checked] or null for all, \"damaged\": BOOL,\n"
                   "\"problems\": [MESSAGE...]} as well.",
    .options = verify_option_table,
    .options_size = sizeof(struct verify_options),
    .run = run_image_verify,
    .operands_nonempty = true,
};
