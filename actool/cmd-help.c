/* SPDX-License-Identifier: Apache-2.0 */
/* actool help [COMMAND] */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actool/actool.h"
#include "actool/options.h"

static void print_options(FILE *out, const struct actool_option *opt)
{
  for (; opt != NULL && opt->name != NULL; opt++) {
    char left[64];
    /* One-letter options are written as users type them: -q. */
    const char *dashes = opt->name[1] == '\0' ? "-" : "--";
    if (opt->kind == ACTOOL_OPT_BOOL)
      snprintf(left, sizeof left, "%s%s", dashes, opt->name);
    else if (opt->kind == ACTOOL_OPT_OPTIONAL)
      snprintf(left, sizeof left, "%s%s[=%s]", dashes, opt->name,
               opt->metavar ? opt->metavar : "VALUE");
    else
      snprintf(left, sizeof left, "%s%s=%s", dashes, opt->name,
               opt->metavar ? opt->metavar : "VALUE");
    fprintf(out, "  %-28s %s", left, opt->help);
    if (opt->default_value != NULL)
      fprintf(out, " (default \"%s\")", opt->default_value);
    fputc('\n', out);
  }
}

void actool_print_command_help(const struct actool_command *cmd, bool to_stderr)
{
  FILE *out = to_stderr ? stderr : stdout;

  fprintf(out, "Usage: actool %s %s\n\n%s.\n", cmd->name, cmd->usage, cmd->summary);
  if (cmd->description != NULL)
    fprintf(out, "\n%s\n", cmd->description);
  if (cmd->run == NULL && cmd->subcommands == NULL)
    fprintf(out, "\nThis command is not available in this release.\n");
  if (cmd->subcommands != NULL) {
    fprintf(out, "\nSubcommands:\n");
    for (size_t i = 0; cmd->subcommands[i] != NULL; i++) {
      const char *word = strrchr(cmd->subcommands[i]->name, ' ');
      fprintf(out, "  %-16s %s\n", word != NULL ? word + 1 : cmd->subcommands[i]->name,
              cmd->subcommands[i]->summary);
    }
    fprintf(out, "\nRun 'actool help %s SUBCOMMAND' for details.\n", cmd->name);
  }
  if (cmd->options != NULL && cmd->options->name != NULL) {
    fprintf(out, "\nOptions:\n");
    print_options(out, cmd->options);
  }
  fprintf(out, "\nGlobal options:\n");
  print_options(out, actool_global_options);
}

void actool_print_global_help(void)
{
  printf("actool, the application container tool (appc spec " APPC_SPEC_VERSION_STRING ")\n\n"
         "Usage: actool [global options] COMMAND [options] [arguments...]\n\nCommands:\n");
  for (size_t i = 0; actool_commands[i] != NULL; i++)
    printf("  %-16s %s%s\n", actool_commands[i]->name, actool_commands[i]->summary,
           actool_commands[i]->run == NULL && actool_commands[i]->subcommands == NULL
               ? " (not available yet)"
               : "");
  printf("\nGlobal options:\n");
  print_options(stdout, actool_global_options);
  printf("\nRun 'actool help COMMAND' for more details on a command.\n");
}

static int run_help(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct actool_command *cmd;

  if (argc == 0) {
    actool_print_global_help();
    return ACTOOL_EXIT_OK;
  }
  cmd = actool_find_command(argv[0]);
  if (cmd == NULL)
    return actool_usage_error("help", "unknown command \"%s\"", argv[0]);
  if (argc == 2 && cmd->subcommands != NULL) {
    const struct actool_command *sub = actool_find_subcommand(cmd, argv[1]);
    if (sub == NULL)
      return actool_usage_error("help", "unknown subcommand \"%s %s\"", argv[0], argv[1]);
    cmd = sub;
  } else if (argc > 1) {
    return actool_usage_error("help", "takes at most one command name");
  }
  actool_print_command_help(cmd, false);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_help = {
    .name = "help",
    .summary = "Show a list of commands or detailed help for one command",
    .usage = "[COMMAND [SUBCOMMAND]]",
    .run = run_help,
};
