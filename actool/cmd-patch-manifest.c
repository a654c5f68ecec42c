/* SPDX-License-Identifier: Apache-2.0 */
/* actool patch-manifest [options] IN.aci [OUT.aci] */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appc/aci.h"
#include "actool/actool.h"
#include "common/cleanup.h"

struct patch_options {
  struct appc_manifest_patch patch;
  const char *manifest_file;
  const char *compression;
  bool replace;
  bool overwrite;
  bool no_compression;
};

#define OPT(field) offsetof(struct patch_options, field)
#define PATCH(field) offsetof(struct patch_options, patch.field)
static const struct actool_option patch_option_table[] = {
    {"manifest", ACTOOL_OPT_PATH, OPT(manifest_file), "FILE",
     "Replace the whole manifest with FILE (not with other editing options)", NULL},
    {"name", ACTOOL_OPT_STRING, PATCH(name), "NAME", "Replace the image name", NULL},
    {"exec", ACTOOL_OPT_STRING, PATCH(exec), "CMDLINE",
     "Replace the app's command line (split on spaces)", NULL},
    {"user", ACTOOL_OPT_STRING, PATCH(user), "USER", "Replace the app's user", NULL},
    {"group", ACTOOL_OPT_STRING, PATCH(group), "GROUP", "Replace the app's group", NULL},
    {"supplementary-groups", ACTOOL_OPT_STRING, PATCH(supplementary_groups), "GID,...",
     "Replace the app's supplementary groups", NULL},
    {"capability", ACTOOL_OPT_STRING, PATCH(capability), "CAP,...",
     "Set the capabilities retain set", NULL},
    {"revoke-capability", ACTOOL_OPT_STRING, PATCH(revoke_capability), "CAP,...",
     "Set the capabilities remove set", NULL},
    {"mounts", ACTOOL_OPT_STRING, PATCH(mounts), "NAME,path=P[,readOnly=B][:...]",
     "Add mount points", NULL},
    {"ports", ACTOOL_OPT_STRING, PATCH(ports), "NAME,protocol=P,port=N[:...]", "Add ports", NULL},
    {"isolators", ACTOOL_OPT_STRING, PATCH(isolators), "NAME,KEY=VALUE...[:...]",
     "Replace isolators", NULL},
    {"seccomp-mode", ACTOOL_OPT_STRING, PATCH(seccomp_mode), "retain|remove[,errno=E]",
     "Set the seccomp isolator's mode", NULL},
    {"seccomp-set", ACTOOL_OPT_STRING, PATCH(seccomp_set), "SYSCALL,...",
     "Set the seccomp isolator's syscalls", NULL},
    {"replace", ACTOOL_OPT_BOOL, OPT(replace), NULL, "Patch the input file in place", NULL},
    {"overwrite", ACTOOL_OPT_BOOL, OPT(overwrite), NULL,
     "Overwrite the output file if it already exists", NULL},
    {"no-compression", ACTOOL_OPT_BOOL, OPT(no_compression), NULL,
     "Do not compress the produced ACI (same as --compression=none)", NULL},
    {"compression", ACTOOL_OPT_STRING, OPT(compression), "ALGO",
     "Compression of the produced ACI (default gzip): gzip, bzip2, xz or none", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static bool given(const char *s)
{
  return s != NULL && *s != '\0';
}

static bool edits_anything(const struct appc_manifest_patch *p)
{
  return given(p->name) || given(p->exec) || given(p->user) || given(p->group) ||
         given(p->supplementary_groups) || given(p->capability) || given(p->revoke_capability) ||
         given(p->mounts) || given(p->ports) || given(p->isolators) || given(p->seccomp_mode) ||
         given(p->seccomp_set);
}

/* The new manifest from IN's (JSON, LEN bytes), the edits applied: called
 * when the copy reaches it, so that IN is read once. It is validated, so a
 * patched image is always a valid one. */
static int edit_manifest(void *data, const char *json, size_t len, char **out, size_t *out_len,
                         appc_error_t *err)
{
  const struct patch_options *o = data;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;

  if (appc_image_manifest_parse(json, len, &m, err) < 0 ||
      appc_image_manifest_patch(m, &o->patch, err) < 0 ||
      appc_image_manifest_serialize(m, 0, out, out_len, err) < 0)
    return appc_error_prefix(err, "manifest");
  return 0;
}

/* The new manifest from --manifest=FILE, validated. */
static int file_manifest(const struct patch_options *o, char **out, size_t *out_len,
                         appc_error_t *err)
{
  cleanup_free char *json = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  size_t len = 0;

  if (actool_read_manifest_file(o->manifest_file, &json, &len, err) < 0)
    return -1;
  if (appc_image_manifest_parse(json, len, &m, err) < 0)
    return appc_error_prefix(err, "%s", o->manifest_file);
  *out = steal_pointer(&json);
  *out_len = len;
  return 0;
}

static int check_arguments(const struct patch_options *o, int argc, char **argv)
{
  if (o->replace && o->overwrite)
    return actool_usage_error("patch-manifest", "--replace and --overwrite exclude each other");
  if (o->replace && argc != 1)
    return actool_usage_error("patch-manifest", "with --replace, give exactly one ACI");
  if (!o->replace && argc != 2)
    return actool_usage_error("patch-manifest", "needs an input and an output file (or --replace)");
  if (given(o->manifest_file) && edits_anything(&o->patch))
    return actool_usage_error("patch-manifest",
                              "--manifest excludes the other manifest editing options");
  if (o->replace)
    return 0;
  struct stat in, out;
  if (stat(argv[0], &in) == 0 && stat(argv[1], &out) == 0 && in.st_dev == out.st_dev &&
      in.st_ino == out.st_ino)
    return actool_usage_error("patch-manifest",
                              "%s and %s are the same file: use --replace to patch it in place",
                              argv[0], argv[1]);
  if (strcmp(argv[1], "-") == 0 && actool_stdout_not_terminal("patch-manifest") != 0)
    return ACTOOL_EXIT_USAGE;
  return actool_check_aci_name("patch-manifest", argv[1]);
}

static int run_patch_manifest(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct patch_options *o = opaque;
  struct appc_build_options bo = {.overwrite = o->overwrite || o->replace,
                                  .temp_notify = actool_temp_notify};
  char image_id[APPC_IMAGE_ID_LEN + 1];
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *json = NULL;
  size_t len = 0;
  int r = check_arguments(o, argc, argv);

  if (r != 0)
    return r;
  r = actool_output_compression("patch-manifest", o->compression, o->no_compression,
                                &bo.compression);
  if (r != 0)
    return r;
  bool to_stdout = !o->replace && strcmp(argv[1], "-") == 0;
  struct actool_stdout_output so;
  /* In the reference's words (the library names its fields, not flags). */
  if (!given(o->patch.seccomp_mode) && given(o->patch.seccomp_set)) {
    appc_error_make(&err, 0, "--seccomp-set specified without --seccomp-mode");
    return actool_fail(&err);
  }
  if ((given(o->manifest_file) && file_manifest(o, &json, &len, &err) < 0) ||
      (to_stdout && actool_stdout_output_begin(&so, &err) < 0))
    return actool_fail(&err);
  const char *out = o->replace ? argv[0] : to_stdout ? so.path : argv[1];
  if (json != NULL)
    r = appc_aci_rewrite_manifest(argv[0], out, json, len, &bo, image_id, &err);
  else
    r = appc_aci_rewrite_manifest_edit(argv[0], out, edit_manifest, (void *) o, &bo, image_id,
                                       &err);
  if (to_stdout && actool_stdout_output_end(&so, r == 0, &err) < 0)
    r = -1;
  if (r < 0)
    return actool_fail_output(&err, bo.overwrite ? NULL : "--overwrite");
  actool_debug(g, "%s", image_id);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_patch_manifest = {
    .name = "patch-manifest",
    .summary = "Copy an ACI and patch its manifest",
    .usage = "[options] IN.aci OUT.aci|-\n"
             "       actool patch-manifest [options] --replace IN.aci",
    .description = "Writes a copy of IN.aci (or, with --replace, IN.aci itself) whose manifest\n"
                   "is replaced by --manifest or edited by the other options.  The rootfs is\n"
                   "streamed through without being unpacked.  The new manifest is validated.",
    .options = patch_option_table,
    .options_size = sizeof(struct patch_options),
    .run = run_patch_manifest,
    .operands_nonempty = true,
};
