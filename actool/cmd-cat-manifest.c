/* SPDX-License-Identifier: Apache-2.0 */
/* actool cat-manifest [--pretty-print] ACI */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "appc/aci.h"
#include "actool/actool.h"
#include "common/cleanup.h"

struct cat_options {
  bool pretty_print;
};

static const struct actool_option cat_option_table[] = {
    {"pretty-print", ACTOOL_OPT_BOOL, offsetof(struct cat_options, pretty_print), NULL,
     "Print the manifest re-indented, in canonical field order", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* Without --pretty-print the manifest's own bytes are printed, as the
 * reference does; with it, the parsed manifest is serialised again. */
static int print_manifest(const char *path, bool pretty, appc_error_t *err)
{
  cleanup_free char *json = NULL;
  cleanup_free char *pretty_json = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  size_t len = 0;

  if (appc_aci_read_manifest(path, &json, &len, err) < 0)
    return -1;
  if (appc_image_manifest_parse(json, len, &m, err) < 0)
    return appc_error_prefix(err, "%s: manifest", path);
  if (!pretty) {
    /* Followed by a newline even when it ends with one, as the reference
     * prints it, so scripts comparing the two outputs see the same bytes. */
    fwrite(json, 1, len, stdout);
    fputc('\n', stdout);
    return 0;
  }
  if (appc_image_manifest_serialize(m, APPC_JSON_PRETTY, &pretty_json, &len, err) < 0)
    return -1;
  printf("%s\n", pretty_json);
  return 0;
}

static int run_cat_manifest(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct cat_options *o = opaque;
  cleanup_error appc_error_t err = NULL;

  if (argc != 1)
    return actool_usage_error("cat-manifest", "needs exactly one ACI");
  if (print_manifest(argv[0], o->pretty_print, &err) < 0) {
    actool_report(&err);
    return ACTOOL_EXIT_FAILURE;
  }
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_cat_manifest = {
    .name = "cat-manifest",
    .summary = "Print the manifest of an ACI",
    .usage = "[--pretty-print] ACI",
    .options = cat_option_table,
    .options_size = sizeof(struct cat_options),
    .run = run_cat_manifest,
    .operands_nonempty = true,
};
