/* SPDX-License-Identifier: Apache-2.0 */
/* Internal to the CLI: the option parser behind every command. */
#ifndef ACTOOL_OPTIONS_H
#define ACTOOL_OPTIONS_H

#include "actool/actool.h"

extern const struct actool_option actool_global_options[];

struct actool_parse {
  const char *command;                   /* for messages; NULL before the command name */
  const struct actool_option *cmd_table; /* may be NULL */
  void *cmd_options;
  struct actool_globals *globals;
  /* Everything after the first positional argument is positional too: used
   * for the global options before the command name. */
  bool stop_at_positional;
};

/* Parse options in place: positional arguments are compacted to the front of
 * argv and their count stored in *npositional.  Returns 0 or an exit status
 * (2 for usage errors, after printing them). */
int actool_parse_args(const struct actool_parse *p, int argc, char **argv, int *npositional);

/* How many arguments the option ARG takes up before the subcommand's name
 * of GROUP ("image --dir D list": 2 for "--dir"), as the global options
 * or those of one of GROUP's subcommands know it: 0 when ARG is not one.
 * GROUP NULL: the global options alone. */
int actool_option_words(const struct actool_command *group, const char *arg);

/* The global options among ARGV's, all options of GROUP's subcommands or
 * global ones (actool_option_words), parsed into G: those before a group's
 * missing subcommand name ("image --help", "layout --layout=. --version").
 * Returns 0 or the exit status of a usage error. */
int actool_parse_group_globals(const struct actool_command *group, struct actool_globals *g,
                               int argc, char **argv);

void actool_preset_defaults(const struct actool_option *table, void *base);
/* actool __options (hidden): the tables for the build, one per line. */
int actool_dump_options(void);

void actool_free_lists(const struct actool_option *table, void *base);

#endif
