/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout set KEY=VALUE... */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "actool/layout-cli.h"

struct set_options {
  const char *layout;
};

static const struct actool_option set_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct set_options),
    {NULL, 0, 0, NULL, NULL, NULL},
};

struct assignments {
  int argc;
  char **argv;
};

static int apply_set(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct assignments *a = data;

  for (int i = 0; i < a->argc; i++) {
    char *eq = strchr(a->argv[i], '=');
    *eq = '\0';
    int r = appc_layout_set(l, a->argv[i], eq + 1, err);
    *eq = '=';
    if (r < 0)
      return -1;
  }
  return 0;
}

static int run_layout_set(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct set_options *o = opaque;
  struct assignments a = {argc, argv};

  (void) g;
  if (argc == 0)
    return actool_usage_error("layout set", "needs KEY=VALUE");
  for (int i = 0; i < argc; i++) {
    char *eq = strchr(argv[i], '=');

    if (eq == NULL || eq == argv[i])
      return actool_usage_error("layout set", "\"%s\": not KEY=VALUE", argv[i]);
    *eq = '\0';
    bool known = appc_layout_set_key_known(argv[i]);
    *eq = '=';
    if (!known)
      return actool_usage_error(
          "layout set", "\"%.*s\": unknown key (name, user, group and workingDirectory can be set)",
          (int) (eq - argv[i]), argv[i]);
  }
  return actool_layout_edit(actool_layout_dir(o->layout), apply_set, &a);
}

const struct actool_command actool_cmd_layout_set = {
    .name = "layout set",
    .summary = "Set the image's name, or the app's user, group or working directory",
    .usage = "[--layout=DIR] KEY=VALUE...",
    .description = "KEY is name, user, group or workingDirectory.  All are applied, or none.",
    .options = set_option_table,
    .options_size = sizeof(struct set_options),
    .run = run_layout_set,
};
