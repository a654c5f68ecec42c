/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout init [--from=IMAGE] [--name=NAME] */
#include "config.h"

#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "actool/layout-cli.h"
#include "actool/net-cli.h"
#include "appc/store.h"
#include "appc/types.h"
#include "common/cleanup.h"

struct init_options {
  const char *layout;
  const char *from;
  const char *name;
};

static const struct actool_option init_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct init_options),
    {"from", ACTOOL_OPT_PATH, offsetof(struct init_options, from), "IMAGE",
     "Start from IMAGE rendered (anything fetch takes; fetched when not in the store)", NULL},
    {"name", ACTOOL_OPT_STRING, offsetof(struct init_options, name), "NAME",
     "The image's name (default: IMAGE's, or the directory's, made an AC Name)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int init_from(const struct actool_globals *g, const struct init_options *o, const char *dir)
{
  struct appc_store *s = NULL;
  char id[APPC_IMAGE_ID_LEN + 1];
  cleanup_error appc_error_t err = NULL;
  int r;

  if ((r = actool_open_store(g, &s)) != ACTOOL_EXIT_OK)
    return r;
  r = actool_resolve_image(g, s, o->from, id);
  if (r == ACTOOL_EXIT_OK) {
    struct actool_unknown_keys u = {.where = o->from, .fate = "not taken into the layout"};
    actool_cancel_begin();
    if (appc_layout_create_from_warn(s, id, dir, o->name, actool_unknown_key, &u, &err) < 0)
      r = actool_fail(&err);
    actool_cancel_end();
    actool_unknown_keys_end(&u);
  }
  appc_store_close(s);
  return r;
}

/* The directory's own name ("." and ".." are named by where they lead),
 * made an AC Name: "My App" names the image "my-app". */
static char *name_of_dir(const char *dir)
{
  cleanup_free char *copy = strdup(dir);
  cleanup_free char *real = NULL;
  const char *base = copy != NULL ? basename(copy) : NULL;

  if (base != NULL && (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) &&
      (real = realpath(dir, NULL)) != NULL)
    base = basename(real);
  return base != NULL ? appc_acname_make(base, "layout") : NULL;
}

static int run_layout_init(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct init_options *o = opaque;
  const char *dir = actool_layout_dir(o->layout);
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *dir_name = NULL;

  (void) argv;
  if (argc != 0)
    return actool_usage_error("layout init", "takes no arguments (the layout is --layout=DIR)");
  if (o->from != NULL)
    return init_from(g, o, dir);
  if (o->name == NULL && (dir_name = name_of_dir(dir)) == NULL) {
    actool_error("layout init: out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  if (appc_layout_create(dir, o->name != NULL ? o->name : dir_name, &err) < 0)
    return actool_fail(&err);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_layout_init = {
    .name = "layout init",
    .summary = "Make a new layout, empty or from an image",
    .usage = "[--layout=DIR] [--from=IMAGE] [--name=NAME]",
    .description = "DIR must be missing or empty.  An empty layout holds rootfs/ and a manifest\n"
                   "with the name and this machine's os and arch labels.  --from renders IMAGE\n"
                   "with its dependencies into rootfs/ and keeps its manifest, less\n"
                   "dependencies and pathWhitelist (the rootfs holds what they gave) and\n"
                   "keys the schema does not define (a warning names each).",
    .options = init_option_table,
    .options_size = sizeof(struct init_options),
    .run = run_layout_init,
};
