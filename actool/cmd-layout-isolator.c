/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout isolator add NAME JSON | rm NAME */
#include "config.h"

#include "actool/layout-cli.h"

struct isolator_options {
  const char *layout;
};

static const struct actool_option isolator_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct isolator_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct isolator_edit {
  bool add;
  const char *name, *value;
};

static int apply_isolator(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct isolator_edit *e = data;

  if (!e->add)
    return appc_layout_remove(l, APPC_LAYOUT_ISOLATORS, e->name, err);
  return appc_layout_isolator_add(l, e->name, e->value, err);
}

static int run_layout_isolator(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct isolator_options *o = opaque;
  struct isolator_edit e = {0};
  int r = actool_layout_add_or_rm("layout isolator", argc, argv, 2, 1, &e.add);

  (void) g;
  if (r != ACTOOL_EXIT_OK)
    return r;
  e.name = argv[1];
  e.value = e.add ? argv[2] : NULL;
  return actool_layout_edit(actool_layout_dir(o->layout), apply_isolator, &e);
}

const struct actool_command actool_cmd_layout_isolator = {
    .name = "layout isolator",
    .summary = "Add or remove an isolator of the app",
    .usage = "[--layout=DIR] add NAME JSON\n"
             "       actool layout isolator [--layout=DIR] rm NAME",
    .description = "JSON is the isolator's value, e.g. layout isolator add resource/memory\n"
                   "'{\"limit\": \"512M\"}'; the isolator rules judge it.  add replaces an\n"
                   "isolator of that name.",
    .options = isolator_option_table,
    .options_size = sizeof(struct isolator_options),
    .run = run_layout_isolator,
};
