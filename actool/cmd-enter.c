/* SPDX-License-Identifier: Apache-2.0 */
/* actool enter [--app=NAME] UUID [-- CMD...] */
#include "config.h"

#include <errno.h>

#include "actool/actool.h"
#include "appc/ace.h"
#include "appc/store.h"
#include "common/cleanup.h"

struct enter_options {
  const char *app;
};

static const struct actool_option enter_option_table[] = {
    {"app", ACTOOL_OPT_STRING, offsetof(struct enter_options, app), "NAME",
     "The app to enter (needed when the pod has several)", NULL},
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
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = appc_ace_enter(s, argv[0], o->app, argc > 1 ? argv + 1 : NULL, &status, &err);
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
    .usage = "[--app=NAME] UUID [-- CMD [ARG...]]",
    .description = "The command (default /bin/sh) runs as the app does: in its namespaces,\n"
                   "cgroups and root, as its user, with its capabilities, no_new_privs,\n"
                   "seccomp filter and oom_score_adj, environment and working directory, and\n"
                   "in a session of its own, without the caller's terminal as its controlling\n"
                   "terminal (so a shell entered has no job control).  Signals sent to enter\n"
                   "reach the command's process group; Ctrl-Z stops both.  A pod just started\n"
                   "is waited for (5 s at most).  Exit status: the command's (127 when it is\n"
                   "not found, 126 when it cannot run).  Needs root.",
    .options = enter_option_table,
    .options_size = sizeof(struct enter_options),
    .run = run_enter,
};
