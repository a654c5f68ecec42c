/* SPDX-License-Identifier: Apache-2.0 */
/* actool entry point: global options, command dispatch, exit status. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actool/actool.h"
#include "actool/options.h"
#include "common/cleanup.h"
#include "common/macros.h"

static int parse_insecure_options(struct actool_globals *g)
{
  static const struct {
    const char *name;
    unsigned bits;
  } words[] = {
      {"none", 0},
      {"image", ACTOOL_INSECURE_IMAGE},
      {"tls", ACTOOL_INSECURE_TLS},
      {"http", ACTOOL_INSECURE_HTTP},
      /* Not in "all", which the contract lists before it: a run that turns
       * off the pod's system-call filter says so by name. */
      {"seccomp", ACTOOL_INSECURE_SECCOMP},
      {"all", ACTOOL_INSECURE_IMAGE | ACTOOL_INSECURE_TLS | ACTOOL_INSECURE_HTTP},
  };
  const char *s = g->insecure_options;

  g->insecure = 0;
  /* Every item a word, as rkt has it: "image," is a typo, not "image". */
  for (size_t len; s != NULL; s = s[len] == ',' ? s + len + 1 : NULL) {
    size_t i;
    len = strcspn(s, ",");
    if (len == 0 && *g->insecure_options == '\0')
      return actool_usage_error(NULL, "--insecure-options: empty (give none, or leave it out)");
    if (len == 0)
      return actool_usage_error(NULL, "--insecure-options: an empty item in \"%s\"",
                                g->insecure_options);
    for (i = 0; i < ARRAY_SIZE(words); i++)
      if (strlen(words[i].name) == len && strncmp(words[i].name, s, len) == 0)
        break;
    if (i == ARRAY_SIZE(words))
      return actool_usage_error(NULL, "--insecure-options: unknown value \"%.*s\"", (int) len, s);
    g->insecure |= words[i].bits;
  }
  return 0;
}

/* VAR's value, an empty one taken as unset (as git takes GIT_DIR=""); an
 * empty option is a usage error (the parser's nonempty). */
static const char *environment(const char *var)
{
  const char *v = getenv(var);

  return v != NULL && *v != '\0' ? v : NULL;
}

static void apply_environment(struct actool_globals *g)
{
  if (g->dir == NULL)
    g->dir = environment("ACTOOL_DIR");
  if (g->cacert == NULL)
    g->cacert = environment("ACTOOL_CACERT");
}

static int run_command(const struct actool_command *cmd, struct actool_globals *g, int argc,
                       char **argv);

/* A group without its subcommand's name, after ARGC options (maybe none),
 * the last at LAST: --help or --version among them (or given before the
 * group's name) answered as for any command, else a usage error. */
static int no_subcommand(const struct actool_command *cmd, struct actool_globals *g, int argc,
                         char **argv, int last)
{
  int r = actool_parse_group_globals(cmd, g, argc, argv);

  if (r != 0)
    return r;
  if (g->version)
    return actool_print_version();
  if (g->help || argc == 0) {
    actool_print_command_help(cmd, !g->help);
    return g->help ? ACTOOL_EXIT_OK : ACTOOL_EXIT_USAGE;
  }
  return actool_usage_error(cmd->name, "no subcommand after \"%s\"", argv[last]);
}

/* "image list ...": the subcommand's own option table parses the rest. */
static int run_subcommand(const struct actool_command *cmd, struct actool_globals *g, int argc,
                          char **argv)
{
  const struct actool_command *sub;

  if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-help") == 0 ||
                   strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--h") == 0)) {
    actool_print_command_help(cmd, false);
    return ACTOOL_EXIT_OK;
  }
  /* Options may come before the subcommand's name ("image --debug list",
   * "layout --layout DIR label add ..."): they go after it. */
  int k = 0, last = 0, words;
  while (k < argc && (words = actool_option_words(cmd, argv[k])) > 0 && k + words <= argc) {
    last = k;
    k += words;
  }
  if (k == argc)
    return no_subcommand(cmd, g, argc, argv, last);
  if (k > 0) {
    char *name = argv[k];
    memmove(argv + 1, argv, (size_t) k * sizeof *argv);
    argv[0] = name;
  }
  sub = actool_find_subcommand(cmd, argv[0]);
  if (sub == NULL && argv[0][0] == '-' && actool_option_words(cmd, argv[0]) == 0)
    return actool_usage_error(cmd->name, "unknown option \"%s\"", argv[0]);
  if (sub == NULL && argv[0][0] == '-')
    return actool_usage_error(cmd->name, "no subcommand after \"%s\"", argv[0]);
  if (sub == NULL)
    return actool_unknown_command(cmd, argv[0]);
  return run_command(sub, g, argc - 1, argv + 1);
}

static int check_operands(const struct actool_command *cmd, int argc, char **argv)
{
  for (int i = 0; cmd->operands_nonempty && i < argc; i++)
    if (argv[i][0] == '\0')
      return actool_usage_error(cmd->name, "argument %d is empty: it names nothing", i + 1);
  return 0;
}

static int run_command(const struct actool_command *cmd, struct actool_globals *g, int argc,
                       char **argv)
{
  if (cmd->subcommands != NULL)
    return run_subcommand(cmd, g, argc, argv);

  void *options = calloc(1, cmd->options_size > 0 ? cmd->options_size : 1);
  struct actool_parse p = {.command = cmd->name,
                           .cmd_table = cmd->options,
                           .cmd_options = options,
                           .globals = g,
                           .stop_at_positional = cmd->options_end_at_first_argument};
  int npositional = 0;
  int r;

  if (options == NULL) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  actool_preset_defaults(cmd->options, options);
  r = actool_parse_args(&p, argc, argv, &npositional);
  if (r == 0)
    r = parse_insecure_options(g);
  if (r == 0) {
    apply_environment(g);
    if (g->version) {
      r = actool_print_version();
    } else if (g->help) {
      actool_print_command_help(cmd, false);
    } else if (cmd->run == NULL) {
      actool_error("%s: not available in this release", cmd->name);
      r = ACTOOL_EXIT_FAILURE;
    } else if ((r = check_operands(cmd, npositional, argv)) == 0) {
      r = cmd->run(g, options, npositional, argv);
    }
  }
  actool_free_lists(cmd->options, options);
  free(options);
  return r;
}

/* Standard output flushed and checked, as coreutils' close_stdout does:
 * output still buffered is written only now, and a write that failed
 * earlier (a full disk, a closed pipe) left only the stream's error flag.
 * Either is a failure, said once here for every command rather than by
 * each.  Flushed, not closed: the descriptor stays open until the process
 * ends, so that a reader waiting for the end of the output (a shell's
 * $(...)) waits for the process too, and does not meet it half-exited
 * (LeakSanitizer's tracer stops it then, and zsh's SIGCONT to a stopped
 * child undid that stop: the tracer waited forever). */
static int close_stdout(int status)
{
  bool failed_before = ferror(stdout) != 0;
  int e = fflush(stdout) != 0 ? errno : 0;

  if (!failed_before && e == 0)
    return status;
  /* A reader that went away (actool ... | head): as if SIGPIPE had killed
   * us, which gpgme's SIG_IGN prevented, and as git does, without a word. */
  if (e == EPIPE) {
    signal(SIGPIPE, SIG_DFL);
    raise(SIGPIPE);
  }
  if (e != 0)
    actool_error("write error: %s", strerror(e));
  else
    actool_error("write error");
  return status == ACTOOL_EXIT_OK ? ACTOOL_EXIT_FAILURE : status;
}

/* No command: the usage on stderr, as for "actool layout"; after options,
 * what became of the command, which an option's value may have taken
 * ("actool --dir version": --dir=version). */
static int no_command(int argc, char **argv)
{
  if (argc <= 1) {
    actool_print_global_help(true);
    return ACTOOL_EXIT_USAGE;
  }
  for (int i = 1; i + 1 < argc; i++)
    if (actool_option_words(NULL, argv[i]) == 2 && actool_find_command(argv[i + 1]) != NULL)
      return actool_usage_error(NULL, "no command (\"%s\" was taken as the value of %s)",
                                argv[i + 1], argv[i]);
  return actool_usage_error(NULL, "no command after the options");
}

static int dispatch(int argc, char **argv)
{
  struct actool_globals g = {0};
  struct actool_parse p = {.globals = &g, .stop_at_positional = true};
  const struct actool_command *cmd;
  int npositional = 0;
  int r;

  /* The arguments as given, for no_command: the parser reorders argv. */
  cleanup_free char **given = malloc((size_t) argc * sizeof *argv);

  if (given != NULL)
    memcpy(given, argv, (size_t) argc * sizeof *argv);
  actool_install_temp_guard();
  actool_preset_defaults(actool_global_options, &g);
  r = actool_parse_args(&p, argc - 1, argv + 1, &npositional);
  if (r != 0)
    return r;
  if (npositional == 0 && g.version)
    return actool_print_version();
  if (npositional == 0 && g.help) {
    actool_print_global_help(false);
    return ACTOOL_EXIT_OK;
  }
  if (npositional == 0)
    return no_command(given != NULL ? argc : 1, given);
  if (strcmp(argv[1], "__options") == 0 && npositional == 1)
    return actool_dump_options();
  cmd = actool_find_command(argv[1]);
  if (cmd == NULL)
    return actool_unknown_command(NULL, argv[1]);
  return run_command(cmd, &g, npositional - 1, argv + 2);
}

/* Standard descriptors that the caller left closed (`actool ... >&-`) are
 * held by /dev/null, as git's sanitize_stdfds does, else the first file
 * actool opens (the store's lock, say) would take their place, and what
 * goes to standard output (a pod's, relayed by enter -t) would land in it.
 * Opened the other way round (standard input write-only, the outputs
 * read-only), they still fail as a closed descriptor does (EBADF): a
 * command's output to a closed stdout is an error, as coreutils make it. */
static void hold_closed_std_fds(void)
{
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
      int null = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
      if (null >= 0 && null != fd)
        close(null); /* (not the lowest free: cannot be) */
    }
}

int main(int argc, char **argv)
{
  hold_closed_std_fds();
  return close_stdout(dispatch(argc, argv));
}
