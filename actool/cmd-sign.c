/* SPDX-License-Identifier: Apache-2.0 */
/* actool sign [--key=ID] [--output=FILE] [--overwrite] IMAGE.aci */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "actool/actool.h"
#include "appc/aci.h"
#include "appc/trust.h"
#include "common/cleanup.h"
#include "common/fs.h"

struct sign_options {
  const char *key;
  const char *output;
  bool overwrite;
};

static const struct actool_option sign_option_table[] = {
    {"key", ACTOOL_OPT_STRING, offsetof(struct sign_options, key), "ID",
     "The secret key: fingerprint, key ID or user ID (default: gpg's default key)", NULL},
    {"output", ACTOOL_OPT_PATH, offsetof(struct sign_options, output), "FILE",
     "Where the signature goes, - for standard output (default: IMAGE.aci.asc)", NULL},
    {"overwrite", ACTOOL_OPT_BOOL, offsetof(struct sign_options, overwrite), NULL,
     "Replace the signature file if it exists", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* Only a valid image is signed: a signature vouches for what it covers.
 * FD is left at the start again, for the signing to read the same bytes. */
static int check_image(const struct actool_globals *g, int fd, const char *path, appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;
  struct appc_aci_info info = {0};
  int r;

  if (appc_source_open_fd(&src, fd, path, err) < 0)
    return -1;
  actool_cancel_begin();
  r = appc_aci_validate_source(src, actool_callbacks(g), &info, err);
  actool_cancel_end();
  appc_aci_info_clear(&info);
  if (r < 0)
    return appc_error_prefix(err, "not signed");
  if (lseek(fd, 0, SEEK_SET) < 0)
    return appc_error_make(err, errno, "%s: rewinding to sign it", path);
  return 0;
}

/* OUT "-": the signature on standard output, by way of a private temporary
 * file (the library writes files), as patch-manifest writes an ACI there. */
static int sign_to(int fd, const char *name, struct appc_sign_options *so, appc_error_t *err)
{
  struct actool_stdout_output tmp;

  if (so->out == NULL || strcmp(so->out, "-") != 0)
    return appc_sign_fd(fd, name, so, err);
  if (actool_stdout_output_begin(&tmp, err) < 0)
    return -1;
  so->out = tmp.path;
  int r = appc_sign_fd(fd, name, so, err);
  if (actool_stdout_output_end(&tmp, r == 0, err) < 0)
    r = -1;
  return r;
}

static int run_sign(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct sign_options *o = opaque;
  struct appc_sign_options so = {.version = APPC_SIGN_OPTIONS_VERSION,
                                 .key = o->key,
                                 .out = o->output,
                                 .overwrite = o->overwrite};
  cleanup_error appc_error_t err = NULL;

  if (argc != 1)
    return actool_usage_error("sign", "needs one IMAGE.aci");
  /* One descriptor for all: the bytes signed are the bytes validated.  It
   * is read twice (validated, rewound, signed), which a pipe or a device
   * cannot be. */
  cleanup_close int fd = appc_open_file_at(AT_FDCWD, argv[0], APPC_READ_REGULAR, &err);
  if (fd < 0)
    return actool_fail_hint(&err, EINVAL,
                            "a pipe or device cannot be both validated and signed: save the "
                            "image to a file first");
  if (check_image(g, fd, argv[0], &err) < 0 || appc_trust_init(&err) < 0)
    return actool_fail(&err);
  if (sign_to(fd, argv[0], &so, &err) < 0)
    return err != NULL && err->errnum == ENOKEY
               ? actool_fail_hint(&err, ENOKEY,
                                  "make one with 'gpg --gen-key', or set GNUPGHOME to the "
                                  "keyring that holds yours and name it with --key")
               : actool_fail_output(&err, o->overwrite ? NULL : "--overwrite");
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_sign = {
    .name = "sign",
    .summary = "Sign an image with a key of your gpg keyring",
    .usage = "[--key=ID] [--output=FILE] [--overwrite] IMAGE.aci",
    .description = "Writes IMAGE.aci.asc (--output names another file, - standard output), a\n"
                   "detached armored OpenPGP signature, made by gpg with a secret key of your\n"
                   "keyring ($GNUPGHOME, else ~/.gnupg).  An existing signature file is not\n"
                   "replaced without --overwrite.  The image is validated first: an\n"
                   "invalid image is not signed.  Serve the signature beside the image;\n"
                   "`actool fetch` checks it against the keys trusted for the image's name\n"
                   "(`actool trust`).",
    .options = sign_option_table,
    .options_size = sizeof(struct sign_options),
    .run = run_sign,
    .operands_nonempty = true,
};
