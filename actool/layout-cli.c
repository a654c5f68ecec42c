/* SPDX-License-Identifier: Apache-2.0 */
/* actool CLI: what the `layout` commands share. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actool/layout-cli.h"

const char *actool_layout_dir(const char *option)
{
  const char *env = getenv("ACTOOL_LAYOUT");

  /* An empty --layout= is refused by the parser; an empty ACTOOL_LAYOUT
   * is unset, as git takes an empty GIT_DIR. */
  if (option != NULL)
    return option;
  return env != NULL && *env != '\0' ? env : ".";
}

int actool_layout_edit(const char *dir, actool_layout_edit_fn edit, void *data)
{
  struct appc_layout *l = NULL;
  appc_error_t err = NULL;
  int r = appc_layout_open(dir, &l, &err);
  char *manifest = NULL;
  struct actool_unknown_keys u = {.fate = "dropped by the edit"};

  if (r == 0 && asprintf(&manifest, "%s/manifest", dir) >= 0) {
    u.where = manifest;
    appc_layout_on_unknown_key(l, actool_unknown_key, &u);
  }
  if (r == 0)
    r = edit(l, data, &err);
  if (r == 0)
    r = appc_layout_commit(l, &err);
  appc_layout_close(l);
  if (manifest != NULL)
    actool_unknown_keys_end(&u);
  free(manifest);
  return r < 0 ? actool_fail(&err) : ACTOOL_EXIT_OK;
}

int actool_layout_add_or_rm(const char *command, int argc, char **argv, int add_args, int rm_args,
                            bool *add)
{
  if (argc < 1 || (strcmp(argv[0], "add") != 0 && strcmp(argv[0], "rm") != 0))
    return actool_usage_error(command, "add or rm first");
  *add = strcmp(argv[0], "add") == 0;
  if (argc - 1 != (*add ? add_args : rm_args))
    return actool_usage_error(command, "%s takes %d argument%s", argv[0], *add ? add_args : rm_args,
                              (*add ? add_args : rm_args) == 1 ? "" : "s");
  return ACTOOL_EXIT_OK;
}

struct kv_edit {
  enum appc_layout_list list;
  bool add;
  const char *name, *value;
};

static int apply_kv(struct appc_layout *l, void *data, appc_error_t *err)
{
  const struct kv_edit *e = data;

  if (e->add)
    return appc_layout_kv_add(l, e->list, e->name, e->value, err);
  return appc_layout_remove(l, e->list, e->name, err);
}

int actool_layout_kv_command(const char *command, const char *dir, enum appc_layout_list list,
                             int argc, char **argv)
{
  struct kv_edit e = {.list = list};
  int r = actool_layout_add_or_rm(command, argc, argv, 2, 1, &e.add);

  if (r != ACTOOL_EXIT_OK)
    return r;
  e.name = argv[1];
  e.value = e.add ? argv[2] : NULL;
  return actool_layout_edit(dir, apply_kv, &e);
}
