/* SPDX-License-Identifier: Apache-2.0 */
/* Command-line parsing shared by every command.
 *
 * Accepts what the reference actool (Go's flag package) accepts, `-flag`,
 * `--flag`, `--flag=value`, `--flag value`, and also options after
 * positional arguments, as git and curl users expect.  `--` ends options. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/array.h"
#include "actool/actool.h"
#include "actool/options.h"
#include "common/macros.h"
#include "common/suggest.h"

#define GLOBAL_OFFSET(field) offsetof(struct actool_globals, field)

const struct actool_option actool_global_options[] = {
    {"debug", ACTOOL_OPT_BOOL, GLOBAL_OFFSET(debug), NULL, "Print verbose (debug) output", NULL},
    {"help", ACTOOL_OPT_BOOL, GLOBAL_OFFSET(help), NULL, "Print usage information and exit", NULL},
    {"h", ACTOOL_OPT_BOOL, GLOBAL_OFFSET(help), NULL, "Print usage information and exit", NULL},
    {"version", ACTOOL_OPT_BOOL, GLOBAL_OFFSET(version), NULL, "Print the version and exit", NULL},
    {"quiet", ACTOOL_OPT_BOOL, GLOBAL_OFFSET(quiet), NULL,
     "Draw no progress lines (they are drawn only when stderr is a terminal)", NULL},
    {"dir", ACTOOL_OPT_PATH, GLOBAL_OFFSET(dir), "DIR",
     "Store directory (env ACTOOL_DIR; default /var/lib/actool as root)", NULL},
    {"insecure-options", ACTOOL_OPT_STRING, GLOBAL_OFFSET(insecure_options), "LIST",
     "Comma list of security checks to skip: none, image, tls, http, seccomp, all", "none"},
    {"cacert", ACTOOL_OPT_PATH, GLOBAL_OFFSET(cacert), "FILE",
     "Extra CA certificates (PEM) trusted for HTTPS (env ACTOOL_CACERT)", NULL},
    {"port", ACTOOL_OPT_STRING, GLOBAL_OFFSET(port), "N", "Port used for discovery URLs", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

int actool_parse_bool(const char *s, bool *out)
{
  static const char *const truths[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const lies[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < ARRAY_SIZE(truths); i++) {
    if (strcmp(s, truths[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcmp(s, lies[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return -1;
}

static const struct actool_option *find_option(const struct actool_option *table, const char *name,
                                               size_t name_len)
{
  for (; table != NULL && table->name != NULL; table++)
    if (strlen(table->name) == name_len && strncmp(table->name, name, name_len) == 0)
      return table;
  return NULL;
}

static int append_list(struct actool_list *list, const char *value)
{
  if (APPC_ARRAY_EXTEND(list->v, list->n, 1) < 0)
    return -1;
  list->v[list->n++] = value;
  return 0;
}

/* Store VALUE (NULL when given as a bare flag) into the option's slot. */
static int store_option(const char *command, const struct actool_option *opt, void *base,
                        const char *value)
{
  void *slot = (char *) base + opt->offset;

  if ((opt->kind == ACTOOL_OPT_PATH || opt->kind == ACTOOL_OPT_PATH_LIST) && *value == '\0')
    return actool_usage_error(command, "--%s: empty (give %s, or leave --%s out)", opt->name,
                              strcmp(opt->metavar, "DIR") == 0     ? "a directory"
                              : strcmp(opt->metavar, "IMAGE") == 0 ? "an image"
                                                                   : "a file",
                              opt->name);
  switch (opt->kind) {
  case ACTOOL_OPT_BOOL:
    if (value == NULL) {
      *(bool *) slot = true;
      return 0;
    }
    if (actool_parse_bool(value, (bool *) slot) < 0)
      return actool_usage_error(command, "invalid boolean value \"%s\" for --%s", value, opt->name);
    return 0;
  case ACTOOL_OPT_OPTIONAL:
    *(const char **) slot = value != NULL ? value : "";
    break;
  case ACTOOL_OPT_PATH:
  case ACTOOL_OPT_STRING:
    *(const char **) slot = value;
    return 0;
  case ACTOOL_OPT_LIST:
  case ACTOOL_OPT_PATH_LIST:
    if (append_list((struct actool_list *) slot, value) < 0) {
      actool_error("out of memory");
      return ACTOOL_EXIT_FAILURE;
    }
    return 0;
  }
  return 0;
}

void actool_preset_defaults(const struct actool_option *table, void *base)
{
  for (; table != NULL && table->name != NULL; table++)
    if (table->kind == ACTOOL_OPT_STRING && table->default_value != NULL)
      *(const char **) ((char *) base + table->offset) = table->default_value;
}

void actool_free_lists(const struct actool_option *table, void *base)
{
  for (; table != NULL && table->name != NULL; table++)
    if (table->kind == ACTOOL_OPT_LIST || table->kind == ACTOOL_OPT_PATH_LIST)
      free(((struct actool_list *) ((char *) base + table->offset))->v);
}

int actool_option_words(const struct actool_command *group, const char *arg)
{
  const char *name = arg + 1;

  if (arg[0] != '-' || *name == '\0' || strcmp(arg, "--") == 0)
    return 0;
  if (*name == '-')
    name++;
  if (strchr(name, '=') != NULL)
    return 1;
  const struct actool_option *opt = find_option(actool_global_options, name, strlen(name));
  for (size_t i = 0; opt == NULL && group != NULL && group->subcommands[i] != NULL; i++)
    opt = find_option(group->subcommands[i]->options, name, strlen(name));
  if (opt == NULL)
    return 0;
  return opt->kind == ACTOOL_OPT_BOOL || opt->kind == ACTOOL_OPT_OPTIONAL ? 1 : 2;
}

int actool_parse_group_globals(const struct actool_command *group, struct actool_globals *g,
                               int argc, char **argv)
{
  struct actool_parse p = {.command = group->name, .globals = g};
  int npositional;

  for (int i = 0; i < argc;) {
    int words = actool_option_words(group, argv[i]);
    const char *name = argv[i] + 1 + (argv[i][1] == '-');
    size_t len = strcspn(name, "=");
    int end = i + words <= argc ? i + words : argc;

    /* Those of the subcommands are skipped: there is none to take them.
     * A copy parsed: the parser writes a NULL after the positionals. */
    if (find_option(actool_global_options, name, len) != NULL) {
      char *copy[3] = {argv[i], end - i > 1 ? argv[i + 1] : NULL, NULL};
      int r = actool_parse_args(&p, end - i, copy, &npositional);
      if (r != 0)
        return r;
    }
    i = end;
  }
  return 0;
}

/* Handle one argument that starts with '-'.  *i is advanced past a value
 * taken from the next argument.  Returns 0 or an exit status. */
static int parse_one_option(const struct actool_parse *p, int argc, char **argv, int *i)
{
  const char *name = argv[*i] + 1;
  const char *eq;
  const char *value = NULL;
  const struct actool_option *opt;
  void *base = p->cmd_options;

  if (*name == '-')
    name++;
  eq = strchr(name, '=');
  size_t name_len = eq != NULL ? (size_t) (eq - name) : strlen(name);
  opt = find_option(p->cmd_table, name, name_len);
  if (opt == NULL) {
    opt = find_option(actool_global_options, name, name_len);
    base = p->globals;
  }
  if (opt == NULL) {
    char hint[128], word[APPC_SUGGEST_MAX_LEN + 1];
    snprintf(word, sizeof word, "%.*s",
             (int) (name_len < APPC_SUGGEST_MAX_LEN ? name_len : APPC_SUGGEST_MAX_LEN), name);
    struct appc_suggest sg;
    appc_suggest_init(&sg, word);
    for (const struct actool_option *t = p->cmd_table; t != NULL && t->name != NULL; t++)
      appc_suggest_add(&sg, t->name);
    for (const struct actool_option *t = actool_global_options; t->name != NULL; t++)
      appc_suggest_add(&sg, t->name);
    const char *best = appc_suggest_best(&sg);
    hint[0] = '\0';
    if (best != NULL)
      snprintf(hint, sizeof hint, " (did you mean \"%s%s\"?)", best[1] == '\0' ? "-" : "--", best);
    return actool_usage_error(p->command, "unknown option \"%s\"%s", argv[*i], hint);
  }
  if (eq != NULL) {
    value = eq + 1;
  } else if (opt->kind != ACTOOL_OPT_BOOL && opt->kind != ACTOOL_OPT_OPTIONAL) {
    if (*i + 1 >= argc)
      return actool_usage_error(p->command, "option --%s needs a value", opt->name);
    value = argv[++*i];
  }
  return store_option(p->command, opt, base, value);
}

int actool_parse_args(const struct actool_parse *p, int argc, char **argv, int *npositional)
{
  int out = 0;
  bool options_done = false;

  for (int i = 0; i < argc; i++) {
    const char *arg = argv[i];

    if (!options_done && strcmp(arg, "--") == 0) {
      options_done = true;
      continue;
    }
    if (options_done || arg[0] != '-' || arg[1] == '\0') {
      argv[out++] = argv[i];
      options_done = options_done || p->stop_at_positional;
      continue;
    }
    int r = parse_one_option(p, argc, argv, &i);
    if (r != 0)
      return r;
  }
  /* NULL after the last, as main's argv: commands hand them on as argv. */
  if (out < argc)
    argv[out] = NULL;
  *npositional = out;
  return 0;
}
