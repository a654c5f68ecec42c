/* SPDX-License-Identifier: Apache-2.0 */
/* actool image cat-manifest [--pretty-print] IMAGE */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "appc/store.h"

struct image_cat_options {
  bool pretty_print;
};

static const struct actool_option image_cat_option_table[] = {
    {"pretty-print", ACTOOL_OPT_BOOL, offsetof(struct image_cat_options, pretty_print), NULL,
     "Print the manifest re-indented, in canonical field order", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* The stored manifest is parsed either way, as rkt's cat-manifest does: a
 * damaged one is an error naming it, never output taken for the manifest. */
static int print_manifest(struct appc_store *s, const char *id, bool pretty, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  cleanup_free char *pretty_json = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  size_t len;

  if (appc_store_load_manifest(s, id, &m, err) < 0)
    return -1;
  if (!pretty) {
    /* As cat-manifest prints an ACI's: the stored bytes and a newline. */
    if (appc_store_read_manifest(s, id, &json, &len, err) < 0)
      return -1;
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
  }
  if (appc_image_manifest_serialize(m, APPC_JSON_PRETTY, &pretty_json, &len, err) < 0)
    return appc_error_prefix(err, "%s", id);
  printf("%s\n", pretty_json);
  return 0;
}

static int run_image_cat_manifest(const struct actool_globals *g, void *opaque, int argc,
                                  char **argv)
{
  const struct image_cat_options *o = opaque;
  cleanup_error appc_error_t err = NULL;
  struct appc_store *s = NULL;
  struct appc_store_image img;
  int r;

  if (argc != 1)
    return actool_usage_error("image cat-manifest", "needs exactly one IMAGE");
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  r = actool_lookup_image(s, argv[0], &img);
  if (r == 0) {
    if (print_manifest(s, img.id, o->pretty_print, &err) < 0)
      r = actool_fail(&err);
    appc_store_image_clear(&img);
  }
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_cat_manifest = {
    .name = "image cat-manifest",
    .summary = "Print the manifest of an image in the store",
    .usage = "[--pretty-print] IMAGE",
    .options = image_cat_option_table,
    .options_size = sizeof(struct image_cat_options),
    .run = run_image_cat_manifest,
    .operands_nonempty = true,
};
