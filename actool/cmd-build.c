/* SPDX-License-Identifier: Apache-2.0 */
/* actool build LAYOUT OUT.aci
 * actool build --file=Containerfile CONTEXT OUT.aci */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "actool/actool.h"
#include "actool/net-cli.h"
#include "appc/aci.h"
#include "appc/ace.h"
#include "appc/containerfile.h"
#include "appc/schema.h"
#include "appc/store.h"

struct build_options {
  bool overwrite;
  bool owner_root;
  bool no_compression;
  const char *compression;
  const char *file;
  const char *name;
  struct actool_list build_args;
  bool no_cache;
};

#define OPT(field) offsetof(struct build_options, field)
static const struct actool_option build_option_table[] = {
    {"overwrite", ACTOOL_OPT_BOOL, OPT(overwrite), NULL,
     "Overwrite the output file if it already exists", NULL},
    {"owner-root", ACTOOL_OPT_BOOL, OPT(owner_root), NULL,
     "Force ownership to root:root on all files", NULL},
    {"no-compression", ACTOOL_OPT_BOOL, OPT(no_compression), NULL,
     "Do not compress the produced ACI (same as --compression=none)", NULL},
    {"compression", ACTOOL_OPT_STRING, OPT(compression), "ALGO",
     "Compression of the produced ACI (default gzip): gzip, bzip2, xz or none", NULL},
    {"file", ACTOOL_OPT_PATH, OPT(file), "CONTAINERFILE",
     "Build from a Containerfile (Dockerfile), with CONTEXT as its build context", NULL},
    {"name", ACTOOL_OPT_STRING, OPT(name), "NAME",
     "With --file: the image's name (default: the context directory's name)", NULL},
    {"build-arg", ACTOOL_OPT_LIST, OPT(build_args), "NAME=VALUE",
     "With --file: a value for the Containerfile's ARG NAME (repeatable)", NULL},
    {"no-cache", ACTOOL_OPT_BOOL, OPT(no_cache), NULL,
     "With --file: run every step, using and keeping no cached one", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int resolve_from(void *data, struct appc_store *s, const char *image,
                        char id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  /* actool_resolve_image told the user why */
  if (actool_resolve_image(data, s, image, id) != ACTOOL_EXIT_OK)
    return appc_error_make(err, 0, "not available");
  return 0;
}

static void progress(void *data, const char *line)
{
  (void) data;
  fprintf(stderr, "%s\n", line);
}

/* The new image's ID on stdout, unless the ACI went there (--debug then
 * shows it on stderr). */
static int print_image_id(const struct actool_globals *g, const char *image_id, bool to_stdout)
{
  if (to_stdout)
    actool_debug(g, "%s", image_id);
  else
    printf("%s\n", image_id);
  return ACTOOL_EXIT_OK;
}

static int build_containerfile(const struct actool_globals *g, const struct build_options *o,
                               const struct appc_build_options *bo, char **argv)
{
  struct appc_kv_list args = {0};
  struct appc_containerfile_options co = {
      .version = APPC_CONTAINERFILE_OPTIONS_VERSION,
      .name = o->name,
      .build_args = &args,
      .no_cache = o->no_cache,
      .resolve = resolve_from,
      .resolve_data = (void *) g,
      .progress = progress,
      .notify = actool_notify,
      .data = (void *) g,
      .build = bo,
  };
  struct appc_store *s = NULL;
  char image_id[APPC_IMAGE_ID_LEN + 1];
  cleanup_error appc_error_t err = NULL;
  int r;

  if (geteuid() != 0) {
    actool_error("build --file: RUN steps run under the executor, which needs root");
    return ACTOOL_EXIT_FAILURE;
  }
  for (size_t i = 0; i < o->build_args.n; i++)
    if (appc_ace_env_add(&args, o->build_args.v[i], &err) < 0) {
      appc_kv_list_clear(&args);
      appc_error_prefix(&err, "--build-arg");
      return actool_fail(&err);
    }
  if ((r = actool_open_store(g, &s)) != ACTOOL_EXIT_OK) {
    appc_kv_list_clear(&args);
    return r;
  }
  fflush(NULL);
  struct actool_stdout_output so;
  bool to_stdout = strcmp(argv[1], "-") == 0;
  r = to_stdout ? actool_stdout_output_begin(&so, &err) : 0;
  if (r == 0) {
    actool_cancel_begin();
    r = appc_containerfile_build(s, o->file, argv[0], to_stdout ? so.path : argv[1], &co, image_id,
                                 &err);
    actool_cancel_end();
    if (to_stdout && actool_stdout_output_end(&so, r == 0, &err) < 0)
      r = -1;
  }
  appc_kv_list_clear(&args);
  appc_store_close(s);
  if (r < 0)
    return actool_fail_output(&err, o->overwrite ? NULL : "--overwrite");
  return print_image_id(g, image_id, to_stdout);
}

static int run_build(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct build_options *o = opaque;
  struct appc_build_options bo = {
      .overwrite = o->overwrite,
      .owner_root = o->owner_root,
      .temp_notify = actool_temp_notify,
      .cb = actool_callbacks(g),
  };
  int r;
  char image_id[APPC_IMAGE_ID_LEN + 1];
  cleanup_error appc_error_t err = NULL;

  if (argc != 2)
    return actool_usage_error("build", o->file != NULL
                                           ? "needs a build context directory and an output file"
                                           : "needs a layout directory and an output file");
  if (actool_check_aci_name("build", argv[1]) != 0 ||
      actool_output_compression("build", o->compression, o->no_compression, &bo.compression) != 0)
    return ACTOOL_EXIT_USAGE;
  if (o->file == NULL && (o->name != NULL || o->build_args.n > 0 || o->no_cache))
    return actool_usage_error("build", "--name, --build-arg and --no-cache go with --file");
  bool to_stdout = strcmp(argv[1], "-") == 0;
  if (to_stdout && actool_stdout_not_terminal("build") != 0)
    return ACTOOL_EXIT_USAGE;
  if (o->file != NULL)
    return build_containerfile(g, o, &bo, argv);

  actool_layout_lock_notice(argv[0]);
  actool_warn_unknown_layout_keys(argv[0], NULL);
  struct actool_stdout_output so;
  r = to_stdout ? actool_stdout_output_begin(&so, &err) : 0;
  if (r == 0) {
    actool_cancel_begin();
    r = appc_aci_build(argv[0], to_stdout ? so.path : argv[1], &bo, image_id, &err);
    actool_cancel_end();
    actool_progress_clear();
    if (to_stdout && actool_stdout_output_end(&so, r == 0, &err) < 0)
      r = -1;
  }
  if (r < 0)
    return actool_fail_output(&err, o->overwrite ? NULL : "--overwrite");
  return print_image_id(g, image_id, to_stdout);
}

const struct actool_command actool_cmd_build = {
    .name = "build",
    .summary = "Build an ACI from an image layout",
    .usage =
        "[--overwrite] [--owner-root] [--no-compression] "
        "[--compression=gzip|bzip2|xz|none] LAYOUT OUT.aci|-\n"
        "       actool build --file=CONTAINERFILE [--name=NAME] [--build-arg=K=V]... [--no-cache] "
        "[OPTIONS] CONTEXT OUT.aci",
    .description = "Validates the layout (a directory with a manifest file and a rootfs\n"
                   "directory), then writes a reproducible ACI and prints its image ID.\n"
                   "The output is written under a temporary name and renamed into place,\n"
                   "so a failed or interrupted build never leaves a partial file.\n"
                   "With --file, the image is built from a Containerfile (FROM, RUN, COPY,\n"
                   "ADD, ENV, ARG, WORKDIR, USER, ENTRYPOINT, CMD, EXPOSE, VOLUME, LABEL)\n"
                   "through the layout steps in the store's tmp/, each step's result cached\n"
                   "in the store: an unchanged step is not run again (actool-build(1)).\n"
                   "FROM takes anything fetch takes; RUN needs root and has the host's network.",
    .options = build_option_table,
    .options_size = sizeof(struct build_options),
    .run = run_build,
    .operands_nonempty = true,
};
