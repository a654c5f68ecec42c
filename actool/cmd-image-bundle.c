/* SPDX-License-Identifier: Apache-2.0 */
/* actool image bundle [--overwrite] [--set-env=K=V]... [--caps-allow=CAPS] IMAGE DIR */
#include "config.h"

#include "actool/actool.h"
#include "appc/ace.h"
#include "appc/oci.h"
#include "appc/schema.h"
#include "common/cleanup.h"

struct bundle_options {
  bool overwrite;
  struct actool_list set_env;
  struct actool_list caps_allow;
};

static const struct actool_option bundle_option_table[] = {
    {"overwrite", ACTOOL_OPT_BOOL, offsetof(struct bundle_options, overwrite), NULL,
     "Replace DIR if it exists", NULL},
    {"set-env", ACTOOL_OPT_LIST, offsetof(struct bundle_options, set_env), "KEY=VALUE",
     "Add a variable to the app's environment, as run --set-env does", NULL},
    {"caps-allow", ACTOOL_OPT_LIST, offsetof(struct bundle_options, caps_allow), "CAP[,CAP...]",
     "Capabilities beyond the ACE's default set that the image's isolators may keep (all: any), "
     "as run --caps-allow; repeatable",
     NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_image_bundle(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct bundle_options *o = opaque;
  cleanup_error appc_error_t err = NULL;
  struct appc_kv_list env = {0};
  struct appc_oci_bundle_options bo = {.version = APPC_OCI_BUNDLE_OPTIONS_VERSION,
                                       .overwrite = o->overwrite,
                                       .env = &env,
                                       .cb = actool_callbacks(g),
                                       .allow_caps = o->caps_allow.v, /* "A,B": lists */
                                       .n_allow_caps = o->caps_allow.n};
  struct appc_ace_options syntax = {.version = APPC_ACE_OPTIONS_VERSION,
                                    .allow_caps = o->caps_allow.v,
                                    .n_allow_caps = o->caps_allow.n};
  struct appc_store *s = NULL;
  struct appc_store_image img;
  int r;

  if (argc != 2)
    return actool_usage_error("image bundle", "needs IMAGE and DIR");
  if (appc_ace_check_syntax(&syntax, NULL, 0, NULL, 0, &err) < 0)
    return actool_usage_error("image bundle", "%s", err->msg);
  if ((r = actool_set_env("image bundle", &env, &o->set_env)) != ACTOOL_EXIT_OK) {
    appc_kv_list_clear(&env);
    return r;
  }
  if ((r = actool_open_store(g, &s)) != 0) {
    appc_kv_list_clear(&env);
    return r;
  }
  r = actool_lookup_image(s, argv[0], &img);
  if (r == 0) {
    actool_cancel_begin();
    if (appc_oci_bundle(s, img.id, argv[1], &bo, &err) < 0)
      r = actool_fail_output(&err, o->overwrite ? NULL : "--overwrite");
    actool_cancel_end();
    appc_store_image_clear(&img);
  }
  appc_kv_list_clear(&env);
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_bundle = {
    .name = "image bundle",
    .summary = "Write an image as an OCI runtime bundle that runc runs",
    .usage = "[--overwrite] [--set-env=KEY=VALUE]... [--caps-allow=CAP[,CAP...]] IMAGE DIR",
    .description =
        "DIR receives rootfs/ (the image rendered with its dependencies) and config.json,\n"
        "which runs the image's app as `actool run` would: its exec, environment, user\n"
        "and groups, working directory, capabilities, no-new-privileges, seccomp filter,\n"
        "memory, CPU and block I/O limits, in new pid, network, ipc, uts, mount and\n"
        "cgroup namespaces, with an empty volume at each mount point and the executor's\n"
        "/etc files (hostname; hosts, resolv.conf and os-release where the image has\n"
        "none).  `runc run --bundle DIR ID` runs it.  An image that `actool run` refuses\n"
        "is refused: a working directory it lacks, or capabilities beyond the ACE's\n"
        "default set and a negative os/linux/oom-score-adj without --caps-allow.\n"
        "DIR appears only when complete (actool-image-bundle(1)).",
    .options = bundle_option_table,
    .options_size = sizeof(struct bundle_options),
    .run = run_image_bundle,
    .operands_nonempty = true,
};
