/* SPDX-License-Identifier: Apache-2.0 */
/* actool __options: every command and option table, one per line, for the
 * build (man page checks, shell completion) rather than for users: hidden
 * from help.  Lines are tab-separated:
 *   command NAME FLAGS SUMMARY USAGE
 *   option  COMMAND NAME KIND METAVAR DEFAULT HELP
 * COMMAND is empty for the global options; FLAGS is a comma list of
 * "subcommands", "options-end-at-argument", "unavailable", or "-". */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "actool/actool.h"
#include "actool/options.h"

/* S on one line: a newline and the indentation after it as "\\n", a tab as
 * a space. */
static void put_field(const char *s)
{
  if (s == NULL || *s == '\0') {
    fputs("\t-", stdout);
    return;
  }
  putchar('\t');
  for (; *s != '\0'; s++) {
    if (*s == '\n') {
      fputs("\\n", stdout);
      while (s[1] == ' ')
        s++;
    } else {
      putchar(*s == '\t' ? ' ' : *s);
    }
  }
}

static void dump_options(const char *command, const struct actool_option *opt)
{
  static const char *const kinds[] = {
      [ACTOOL_OPT_BOOL] = "bool",
      [ACTOOL_OPT_STRING] = "string",
      [ACTOOL_OPT_LIST] = "list",
      [ACTOOL_OPT_OPTIONAL] = "optional",
      /* a string to the completion and the tests that read this */
      [ACTOOL_OPT_PATH] = "string",
      [ACTOOL_OPT_PATH_LIST] = "list",
  };

  for (; opt != NULL && opt->name != NULL; opt++) {
    printf("option\t%s\t%s\t%s", command, opt->name, kinds[opt->kind]);
    put_field(opt->metavar);
    put_field(opt->default_value);
    put_field(opt->help);
    putchar('\n');
  }
}

static void dump_command(const struct actool_command *cmd)
{
  char flags[64] = "";

  if (cmd->subcommands != NULL)
    strcat(flags, ",subcommands");
  if (cmd->options_end_at_first_argument)
    strcat(flags, ",options-end-at-argument");
  if (cmd->run == NULL && cmd->subcommands == NULL)
    strcat(flags, ",unavailable");
  printf("command\t%s", cmd->name);
  put_field(flags + (flags[0] == ','));
  put_field(cmd->summary);
  put_field(cmd->usage);
  putchar('\n');
  dump_options(cmd->name, cmd->options);
  for (size_t i = 0; cmd->subcommands != NULL && cmd->subcommands[i] != NULL; i++)
    dump_command(cmd->subcommands[i]);
}

int actool_dump_options(void)
{
  dump_options("", actool_global_options);
  for (size_t i = 0; actool_commands[i] != NULL; i++)
    dump_command(actool_commands[i]);
  return ACTOOL_EXIT_OK;
}
