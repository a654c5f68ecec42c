/* SPDX-License-Identifier: Apache-2.0 */
/* actool enter [--app=NAME] [-t | -T] UUID [-- CMD...] */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "actool/actool.h"
#include "appc/ace.h"
#include "appc/store.h"
#include "common/cleanup.h"

struct enter_options {
  const char *app;
  bool tty, no_tty;
};

#define TTY_HELP                                                                                   \
  "Give the command a terminal of the pod's (the default when the standard input and output are "  \
  "terminals)"
#define NO_TTY_HELP "Give the command enter's own standard streams, even on a terminal"

static const struct actool_option enter_option_table[] = {
    {"app", ACTOOL_OPT_STRING, offsetof(struct enter_options, app), "NAME",
     "The app to enter (needed when the pod has several)", NULL},
    {"tty", ACTOOL_OPT_BOOL, offsetof(struct enter_options, tty), NULL, TTY_HELP, NULL},
    {"t", ACTOOL_OPT_BOOL, offsetof(struct enter_options, tty), NULL, TTY_HELP, NULL},
    {"no-tty", ACTOOL_OPT_BOOL, offsetof(struct enter_options, no_tty), NULL, NO_TTY_HELP, NULL},
    {"T", ACTOOL_OPT_BOOL, offsetof(struct enter_options, no_tty), NULL, NO_TTY_HELP, NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_enter(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct enter_options *o = options;
  struct appc_store *s = NULL;
  cleanup_error appc_error_t err = NULL;
  int status = ACTOOL_EXIT_FAILURE, r;

  if (argc < 1)
    return actool_usage_error("enter", "needs the UUID of a running pod");
  if (o->tty && o->no_tty)
    return actool_usage_error("enter", "--tty and --no-tty: say one");
  /* as ssh: a terminal for the command when enter is run on one, as its
   * foreground job (not `enter ... &`, nor under timeout(1)'s process group) */
  const struct appc_ace_enter_options eo = {
      .version = APPC_ACE_ENTER_OPTIONS_VERSION,
      .app = o->app,
      .argv = argc > 1 ? argv + 1 : NULL,
      .tty = o->tty || (!o->no_tty && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
                        tcgetpgrp(STDIN_FILENO) == getpgrp()),
      .in_fd = STDIN_FILENO,
      .out_fd = STDOUT_FILENO,
  };
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_enter_with(s, argv[0], &eo, &status, &err);
  appc_store_close(s);
  if (r < 0) {
    actool_fail_hint(&err, ENOTUNIQ, "--app=NAME");
    return status == 0 ? ACTOOL_EXIT_FAILURE : status;
  }
  return status;
}

const struct actool_command actool_cmd_enter = {
    .name = "enter",
    .summary = "Run a command inside a running app",
    .usage = "[--app=NAME] [-t|--tty | -T|--no-tty] UUID [-- CMD [ARG...]]",
    .description = "The command (default /bin/sh) runs as the app does: in its namespaces,\n"
                   "cgroups and root, as its user, with its capabilities, no_new_privs,\n"
                   "seccomp filter and oom_score_adj, environment and working directory, and\n"
                   "in a session of its own, never with the caller's terminal as its\n"
                   "controlling terminal.  With a terminal (-t; the default when enter's\n"
                   "standard input and output are terminals, enter their foreground job)\n"
                   "the command gets a new one of\n"
                   "the pod's, as docker exec -t and ssh give: a shell has job control and\n"
                   "the window's size, Ctrl-C and Ctrl-Z act in the pod, and enter relays\n"
                   "the bytes (its own terminal in raw mode meanwhile); Ctrl-] three times\n"
                   "within a second leaves, as machinectl shell.  Without (-T) the\n"
                   "command has enter's standard streams: signals sent to enter reach the\n"
                   "command's process group, and Ctrl-Z stops both.  A pod just started is\n"
                   "waited for (5 s at most).  Exit status: the command's (127 when it is\n"
                   "not found, 126 when it cannot run).  Needs root.",
    .options = enter_option_table,
    .options_size = sizeof(struct enter_options),
    .run = run_enter,
};
