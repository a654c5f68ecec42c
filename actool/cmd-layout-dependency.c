/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout dependency add IMAGE-NAME [--image-id=ID] [--label=K=V...] | rm IMAGE-NAME */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "actool/layout-cli.h"
#include "appc/schema.h"

struct dependency_options {
  const char *layout;
  const char *image_id;
  struct actool_list labels;
};

static const struct actool_option dependency_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct dependency_options),
    {"image-id", ACTOOL_OPT_STRING, offsetof(struct dependency_options, image_id), "ID",
     "The dependency's image ID (sha512-...)", NULL},
    {"label", ACTOOL_OPT_LIST, offsetof(struct dependency_options, labels), "K=V",
     "A label the dependency must have (repeatable)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct dependency_edit {
  bool add;
  const char *name, *image_id;
  struct appc_kv_list labels;
};

static int apply_dependency(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct dependency_edit *e = data;

  if (!e->add)
    return appc_layout_remove(l, APPC_LAYOUT_DEPENDENCIES, e->name, err);
  return appc_layout_dependency_add(l, e->name, e->image_id, &e->labels, err);
}

static int run_layout_dependency(const struct actool_globals *g, void *opaque, int argc,
                                 char **argv)
{
  const struct dependency_options *o = opaque;
  struct dependency_edit e = {.image_id = o->image_id};
  struct appc_kv *items = calloc(o->labels.n + 1, sizeof *items);
  int r = actool_layout_add_or_rm("layout dependency", argc, argv, 1, 1, &e.add);

  (void) g;
  if (items == NULL)
    r = ACTOOL_EXIT_FAILURE;
  for (size_t i = 0; r == ACTOOL_EXIT_OK && i < o->labels.n; i++) {
    const char *eq = strchr(o->labels.v[i], '=');
    if (eq == NULL || eq == o->labels.v[i] ||
        (items[i].name = strndup(o->labels.v[i], (size_t) (eq - o->labels.v[i]))) == NULL) {
      r = actool_usage_error("layout dependency", "--label \"%s\": not K=V", o->labels.v[i]);
      break;
    }
    items[i].value = (char *) eq + 1;
    e.labels.len = i + 1;
  }
  e.labels.items = items;
  if (r == ACTOOL_EXIT_OK) {
    e.name = argv[1];
    r = actool_layout_edit(actool_layout_dir(o->layout), apply_dependency, &e);
  }
  for (size_t i = 0; items != NULL && i <= o->labels.n; i++)
    free(items[i].name);
  free(items);
  return r;
}

const struct actool_command actool_cmd_layout_dependency = {
    .name = "layout dependency",
    .summary = "Add or remove a dependency of the image",
    .usage = "[--layout=DIR] add IMAGE-NAME [--image-id=ID] [--label=K=V...]\n"
             "       actool layout dependency [--layout=DIR] rm IMAGE-NAME",
    .description = "A dependency's rootfs is rendered under the image's (ACE Filesystem Setup).\n"
                   "add replaces a dependency on that name.",
    .options = dependency_option_table,
    .options_size = sizeof(struct dependency_options),
    .run = run_layout_dependency,
};
