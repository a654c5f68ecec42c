/* SPDX-License-Identifier: Apache-2.0 */
/* actool image export [--overwrite] IMAGE OUT.aci
 * actool image export --format=oci [--tag=TAG] IMAGE oci:DIR[:TAG] */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actool/actool.h"
#include "appc/oci.h"
#include "appc/store.h"
#include "common/cleanup.h"

struct export_options {
  bool overwrite;
  const char *format;
};

static const struct actool_option export_option_table[] = {
    {"overwrite", ACTOOL_OPT_BOOL, offsetof(struct export_options, overwrite), NULL,
     "Replace OUT if it exists (aci)", NULL},
    {"format", ACTOOL_OPT_STRING, offsetof(struct export_options, format), "aci|oci",
     "The format: aci, the ACI as imported, or oci, an OCI image layout", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* OUT "-": the ACI as imported on stdout, checked as it goes out. */
static int export_aci(struct appc_store *s, const char *id, const char *out, bool overwrite)
{
  cleanup_error appc_error_t err = NULL;
  bool to_stdout = strcmp(out, "-") == 0;
  int r;

  fflush(stdout);
  actool_cancel_begin();
  r = to_stdout ? appc_store_export_fd(s, id, STDOUT_FILENO, "standard output", &err)
                : appc_store_export(s, id, out, overwrite, &err);
  actool_cancel_end();
  if (r < 0)
    return to_stdout ? actool_fail(&err)
                     : actool_fail_output(&err, overwrite ? NULL : "--overwrite");
  return ACTOOL_EXIT_OK;
}

/* oci:DIR[:TAG]: the manifest's digest is printed, for scripts. */
static int export_oci(const struct actool_globals *g, struct appc_store *s, const char *id,
                      const char *dest)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *dir = NULL;
  cleanup_free char *tag = NULL;
  char digest[APPC_OCI_DIGEST_LEN + 1];
  struct appc_oci_export_options o = {.cb = actool_callbacks(g)};
  int r;

  if (strncmp(dest, "oci:", 4) != 0)
    return actool_usage_error("image export", "--format=oci writes to oci:DIR[:TAG]");
  if (appc_oci_layout_ref_split(dest + 4, &dir, &tag, &err) < 0)
    return actool_fail(&err);
  o.tag = tag;
  actool_cancel_begin();
  r = appc_oci_export_layout(s, id, dir, &o, digest, &err);
  actool_cancel_end();
  actool_progress_clear();
  if (r < 0)
    return actool_fail(&err);
  printf("%s\n", digest);
  return ACTOOL_EXIT_OK;
}

static int run_image_export(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct export_options *o = opaque;
  struct appc_store *s = NULL;
  struct appc_store_image img;
  bool oci = o->format != NULL && strcmp(o->format, "oci") == 0;
  int r;

  if (o->format != NULL && !oci && strcmp(o->format, "aci") != 0)
    return actool_usage_error("image export", "--format takes aci or oci");
  if (argc != 2)
    return actool_usage_error("image export", "needs IMAGE and OUT");
  if (!oci && strcmp(argv[1], "-") == 0 && actool_stdout_not_terminal("image export") != 0)
    return ACTOOL_EXIT_USAGE;
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  appc_store_set_callbacks(s, actool_callbacks(g));
  r = actool_lookup_image(s, argv[0], &img);
  if (r == 0) {
    r = oci ? export_oci(g, s, img.id, argv[1]) : export_aci(s, img.id, argv[1], o->overwrite);
    appc_store_image_clear(&img);
  }
  appc_store_close(s);
  return r;
}

const struct actool_command actool_cmd_image_export = {
    .name = "image export",
    .summary = "Write an image of the store to an ACI file or an OCI image layout",
    .usage = "[--overwrite] IMAGE OUT.aci|-\n"
             "       actool image export --format=oci IMAGE oci:DIR[:TAG]",
    .description = "The ACI holds the bytes that were imported, so its image ID is the same;\n"
                   "OUT - writes it to standard output.\n"
                   "--format=oci writes the image rendered with its dependencies as an OCI image\n"
                   "into the image layout DIR (made when missing; an existing layout keeps its\n"
                   "other images, and TAG, by default the image's version label or \"latest\",\n"
                   "names this one) and prints the manifest's digest: `skopeo copy\n"
                   "oci:DIR:TAG docker://...` pushes it, `umoci unpack` and podman read it\n"
                   "(actool-image-export(1)).",
    .options = export_option_table,
    .options_size = sizeof(struct export_options),
    .run = run_image_export,
    .operands_nonempty = true,
};
