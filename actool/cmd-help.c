/* SPDX-License-Identifier: Apache-2.0 */
/* actool help [COMMAND] */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "actool/actool.h"
#include "actool/options.h"

#define HELP_WIDTH 80

/* Is the line break at TEXT (not its first character) one of the source's
 * cuts, to be filled: not one that ends a paragraph or starts an indented
 * or "-" line? */
static bool soft_break(const char *text)
{
  return text[0] == '\n' && text[-1] != '\n' && text[1] != '\0' && text[1] != '\n' &&
         text[1] != ' ' && text[1] != '-';
}

/* TEXT from column COL on, broken at spaces so that no line passes
 * HELP_WIDTH (a word longer than a line stands alone), each new line, and
 * each line of TEXT after a paragraph break or starting an indented or "-"
 * line, indented to column INDENT. */
static void put_wrapped(FILE *out, const char *text, size_t col, size_t indent)
{
  for (const char *start = text; *text != '\0';) {
    /* filled as a space, so that the text meets the width however its
     * source lines were cut */
    if (text > start && soft_break(text)) {
      if (col + 1 + strcspn(text + 1, " \n") <= HELP_WIDTH) {
        fputc(' ', out);
        col++;
      } else {
        fprintf(out, "\n%*s", (int) indent, "");
        col = indent;
      }
      text++;
      continue;
    }
    if (*text == '\n') {
      fprintf(out, "\n%*s", (int) indent, "");
      col = indent;
      text++;
      while (*text == ' ')
        text++;
      continue;
    }
    size_t spaces = strspn(text, " ");
    size_t word = strcspn(text + spaces, " \n");
    if (col > indent && col + spaces + word > HELP_WIDTH) {
      fprintf(out, "\n%*s", (int) indent, "");
      col = indent;
      text += spaces;
      spaces = 0;
    }
    fprintf(out, "%.*s", (int) (spaces + word), text);
    col += spaces + word;
    text += spaces + word;
  }
  fputc('\n', out);
}

#define OPTION_COLUMN 31 /* where option descriptions begin */

static void print_options(FILE *out, const struct actool_option *opt)
{
  for (; opt != NULL && opt->name != NULL; opt++) {
    char left[96];
    /* One-letter options are written as users type them: -q.  A
     * one-letter option just before or after a long one with the same
     * slot is shown with it: "-h, --help". */
    const char *dashes = opt->name[1] == '\0' ? "-" : "--";
    const char *alias = "";
    if (opt[1].name != NULL && opt[1].name[1] == '\0' && opt[1].offset == opt->offset &&
        opt[1].kind == opt->kind && opt->kind == ACTOOL_OPT_BOOL) {
      alias = opt[1].name;
      opt++;
    }
    int n = snprintf(left, sizeof left, "  %s%s%s%s%s", *alias ? "-" : "", alias,
                     *alias ? ", " : "", *alias ? "--" : dashes, *alias ? opt[-1].name : opt->name);
    if (opt->kind == ACTOOL_OPT_OPTIONAL)
      n += snprintf(left + n, sizeof left - (size_t) n, "[=%s]",
                    opt->metavar ? opt->metavar : "VALUE");
    else if (opt->kind != ACTOOL_OPT_BOOL)
      n += snprintf(left + n, sizeof left - (size_t) n, "=%s",
                    opt->metavar ? opt->metavar : "VALUE");
    fputs(left, out);
    size_t col = (size_t) n;
    if (col + 1 >= OPTION_COLUMN) {
      fputc('\n', out);
      col = 0;
    }
    fprintf(out, "%*s", (int) (OPTION_COLUMN - col), "");
    char help[1024];
    if (opt->default_value != NULL)
      snprintf(help, sizeof help, "%s (default \"%s\")", opt->help, opt->default_value);
    else
      snprintf(help, sizeof help, "%s", opt->help);
    put_wrapped(out, help, OPTION_COLUMN, OPTION_COLUMN);
  }
}

/* "  NAME  SUMMARY" lines of a command list. */
static void print_command_line(FILE *out, const char *name, const char *summary, const char *extra)
{
  char text[512];
  int n = fprintf(out, "  %-16s ", name);

  snprintf(text, sizeof text, "%s%s", summary, extra);
  put_wrapped(out, text, n > 0 ? (size_t) n : 0, 19);
}

void actool_print_command_help(const struct actool_command *cmd, bool to_stderr)
{
  FILE *out = to_stderr ? stderr : stdout;

  int n = fprintf(out, "Usage: actool %s ", cmd->name);
  put_wrapped(out, cmd->usage, n > 0 ? (size_t) n : 0, 7);
  fputc('\n', out);
  fprintf(out, "%s.\n", cmd->summary);
  if (cmd->description != NULL) {
    fputc('\n', out);
    put_wrapped(out, cmd->description, 0, 0);
  }
  if (cmd->run == NULL && cmd->subcommands == NULL)
    fprintf(out, "\nThis command is not available in this release.\n");
  if (cmd->subcommands != NULL) {
    fprintf(out, "\nSubcommands:\n");
    for (size_t i = 0; cmd->subcommands[i] != NULL; i++) {
      const char *word = strrchr(cmd->subcommands[i]->name, ' ');
      print_command_line(out, word != NULL ? word + 1 : cmd->subcommands[i]->name,
                         cmd->subcommands[i]->summary, "");
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

void actool_print_global_help(bool to_stderr)
{
  FILE *out = to_stderr ? stderr : stdout;

  fprintf(out, "actool, the application container tool (appc spec " APPC_SPEC_VERSION_STRING ")\n\n"
               "Usage: actool [global options] COMMAND [options] [arguments...]\n\nCommands:\n");
  for (size_t i = 0; actool_commands[i] != NULL; i++)
    print_command_line(out, actool_commands[i]->name, actool_commands[i]->summary,
                       actool_commands[i]->run == NULL && actool_commands[i]->subcommands == NULL
                           ? " (not available yet)"
                           : "");
  fprintf(out, "\nGlobal options:\n");
  print_options(out, actool_global_options);
  fprintf(out, "\nRun 'actool help COMMAND' for more details on a command.\n");
}

static int run_help(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct actool_command *cmd;

  if (argc == 0) {
    actool_print_global_help(false);
    return ACTOOL_EXIT_OK;
  }
  cmd = actool_find_command(argv[0]);
  if (cmd == NULL)
    return actool_unknown_command(NULL, argv[0]);
  if (argc == 2 && cmd->subcommands != NULL) {
    const struct actool_command *sub = actool_find_subcommand(cmd, argv[1]);
    if (sub == NULL)
      return actool_unknown_command(cmd, argv[1]);
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
