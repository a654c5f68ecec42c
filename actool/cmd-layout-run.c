/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout run [--net=private|host] [--set-env=K=V]... -- CMD [ARG...] */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actool/layout-cli.h"
#include "appc/ace.h"
#include "appc/store.h"

struct layout_run_options {
  const char *layout;
  const char *net;
  struct actool_list set_env;
};

static const struct actool_option layout_run_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct layout_run_options),
    {"net", ACTOOL_OPT_STRING, offsetof(struct layout_run_options, net), "private|host",
     "The command's network: its own with loopback only, or the host's (for downloads)", "private"},
    {"set-env", ACTOOL_OPT_LIST, offsetof(struct layout_run_options, set_env), "KEY=VALUE",
     "An environment variable for the command, replacing the app's of its name (repeatable)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_in_layout(const struct actool_globals *g, const struct layout_run_options *o,
                         const struct appc_kv_list *env, int argc, char **argv)
{
  struct appc_layout_run_options ro = {
      .version = APPC_LAYOUT_RUN_OPTIONS_VERSION,
      .host_net = strcmp(o->net, "host") == 0,
      .env = env,
      .notify = actool_notify,
      .notify_data = (void *) g,
  };
  struct appc_store *s = NULL;
  struct appc_layout *l = NULL;
  appc_error_t err = NULL;
  int status = ACTOOL_EXIT_FAILURE, r;

  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  if (appc_layout_open(actool_layout_dir(o->layout), &l, &err) < 0) {
    appc_store_close(s);
    return actool_fail(&err);
  }
  fflush(NULL);
  if (appc_layout_run(l, s, argv, (size_t) argc, &ro, &status, &err) < 0)
    status = actool_fail(&err);
  else if (status != 0)
    actool_error("layout run: %s exited with status %d; the rootfs keeps what it changed", argv[0],
                 status);
  appc_layout_close(l);
  appc_store_close(s);
  return status;
}

static int run_layout_run(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct layout_run_options *o = opaque;
  struct appc_kv_list env = {0};
  int r;

  if (argc == 0)
    return actool_usage_error("layout run", "needs the command, after --");
  if (strcmp(o->net, "private") != 0 && strcmp(o->net, "host") != 0)
    return actool_usage_error("layout run", "--net must be private or host, not \"%s\"", o->net);
  if (geteuid() != 0) {
    actool_error("layout run: running a command in the layout needs root");
    return ACTOOL_EXIT_FAILURE;
  }
  if ((r = actool_set_env("layout run", &env, &o->set_env)) != ACTOOL_EXIT_OK) {
    appc_kv_list_clear(&env);
    return r;
  }
  r = run_in_layout(g, o, &env, argc, argv);
  appc_kv_list_clear(&env);
  return r;
}

const struct actool_command actool_cmd_layout_run = {
    .name = "layout run",
    .summary = "Run a command in the layout's rootfs, keeping what it changes",
    .usage = "[--layout=DIR] [--net=private|host] [--set-env=K=V]... -- CMD [ARG...]",
    .description =
        "The command runs under the executor as the layout's app would (its user, group,\n"
        "working directory and environment; CMD without '/' is looked up in its PATH),\n"
        "without the app's ports, mount points, isolators and event handlers.  What it\n"
        "changes in the rootfs stays, also when it fails (the exit status is its own);\n"
        "one the executor cannot start (the app's working directory missing, its user\n"
        "unknown) is an error naming the cause, exit status 1, as for actool run.\n"
        "/etc/hostname, and /etc/hosts, resolv.conf and os-release where the rootfs has\n"
        "none, are the executor's and are not kept.  Needs root.",
    .options = layout_run_option_table,
    .options_size = sizeof(struct layout_run_options),
    .run = run_layout_run,
};
