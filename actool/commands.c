/* The command table, and the commands that a later release provides. */
#include "config.h"

#include <string.h>

#include "actool/actool.h"

extern const struct actool_command actool_cmd_build, actool_cmd_validate, actool_cmd_cat_manifest,
    actool_cmd_patch_manifest, actool_cmd_version, actool_cmd_help, actool_cmd_fetch,
    actool_cmd_image;

/* Commands of the contract whose implementation has not landed yet: they
 * answer --help and otherwise fail with "not available in this release". */
static const struct actool_command cmd_discover = {
    .name = "discover",
    .summary = "Discover the download URLs for one or more app container images",
    .usage = "[--json] NAME[,LABEL=VALUE...]...",
};
static const struct actool_command cmd_trust = {
    .name = "trust",
    .summary = "Manage the keys trusted to sign images",
    .usage = "[--prefix=PREFIX | --root] [--skip-fingerprint-review] [KEYFILE|URL ...]",
};
static const struct actool_command cmd_run = {
    .name = "run",
    .summary = "Run a pod of one or more images",
    .usage = "[OPTIONS] IMAGE [--exec=PATH] [-- ARGS...] [--- IMAGE ...]",
};
static const struct actool_command cmd_list = {
    .name = "list",
    .summary = "List pods",
    .usage = "[--json]",
};
static const struct actool_command cmd_status = {
    .name = "status",
    .summary = "Show the status of a pod",
    .usage = "UUID",
};
static const struct actool_command cmd_gc = {
    .name = "gc",
    .summary = "Clean up exited pods",
    .usage = "",
};

const struct actool_command *const actool_commands[] = {
    &actool_cmd_build,
    &actool_cmd_cat_manifest,
    &cmd_discover,
    &actool_cmd_fetch,
    &cmd_gc,
    &actool_cmd_help,
    &actool_cmd_image,
    &cmd_list,
    &actool_cmd_patch_manifest,
    &cmd_run,
    &cmd_status,
    &cmd_trust,
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
