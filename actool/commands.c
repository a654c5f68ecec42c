/* SPDX-License-Identifier: Apache-2.0 */
/* The command table. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actool/actool.h"
#include "common/suggest.h"

extern const struct actool_command actool_cmd_build, actool_cmd_validate, actool_cmd_cat_manifest,
    actool_cmd_patch_manifest, actool_cmd_version, actool_cmd_help, actool_cmd_fetch,
    actool_cmd_image, actool_cmd_discover, actool_cmd_trust, actool_cmd_run, actool_cmd_list,
    actool_cmd_status, actool_cmd_gc, actool_cmd_layout, actool_cmd_sign, actool_cmd_stop,
    actool_cmd_enter;

const struct actool_command *const actool_commands[] = {
    &actool_cmd_build,
    &actool_cmd_cat_manifest,
    &actool_cmd_discover,
    &actool_cmd_enter,
    &actool_cmd_fetch,
    &actool_cmd_gc,
    &actool_cmd_help,
    &actool_cmd_image,
    &actool_cmd_layout,
    &actool_cmd_list,
    &actool_cmd_patch_manifest,
    &actool_cmd_run,
    &actool_cmd_sign,
    &actool_cmd_status,
    &actool_cmd_stop,
    &actool_cmd_trust,
    &actool_cmd_validate,
    &actool_cmd_version,
    NULL,
};

const struct actool_command *actool_find_command(const char *name)
{
  for (size_t i = 0; actool_commands[i] != NULL; i++)
    if (strcmp(actool_commands[i]->name, name) == 0)
      return actool_commands[i];
  return NULL;
}

const char *actool_suggest_command(const struct actool_command *const *cmds, const char *word)
{
  struct appc_suggest s;

  appc_suggest_init(&s, word);
  for (size_t i = 0; cmds[i] != NULL; i++) {
    const char *last = strrchr(cmds[i]->name, ' ');
    appc_suggest_add(&s, last != NULL ? last + 1 : cmds[i]->name);
  }
  return appc_suggest_best(&s);
}

int actool_unknown_command(const struct actool_command *parent, const char *word)
{
  const char *best =
      actool_suggest_command(parent != NULL ? parent->subcommands : actool_commands, word);
  char hint[96] = "";

  if (best != NULL)
    snprintf(hint, sizeof hint, " (did you mean \"%s\"?)", best);
  if (parent == NULL)
    return actool_usage_error(NULL, "unknown command \"%s\"%s", word, hint);
  return actool_usage_error(parent->name, "unknown subcommand \"%s\"%s", word, hint);
}
