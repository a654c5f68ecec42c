/* SPDX-License-Identifier: Apache-2.0 */
/* actool sign [--key=ID] [--output=FILE] IMAGE.aci */
#include "config.h"

#include "actool/actool.h"
#include "appc/aci.h"
#include "appc/trust.h"
#include "common/cleanup.h"

struct sign_options {
  const char *key;
  const char *output;
};

static const struct actool_option sign_option_table[] = {
    {"key", ACTOOL_OPT_STRING, offsetof(struct sign_options, key), "ID",
     "The secret key: fingerprint, key ID or user ID (default: gpg's default key)", NULL},
    {"output", ACTOOL_OPT_STRING, offsetof(struct sign_options, output), "FILE",
     "Where the signature goes (default: IMAGE.aci.asc)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* Only a valid image is signed: a signature vouches for what it covers. */
static int check_image(const struct actool_globals *g, const char *path, appc_error_t *err)
{
  cleanup_source struct appc_source *src = NULL;
  struct appc_aci_info info = {0};
  int r;

  if (appc_source_open_path(&src, path, err) < 0)
    return -1;
  actool_cancel_begin();
  r = appc_aci_validate_source(src, actool_callbacks(g), &info, err);
  actool_cancel_end();
  appc_aci_info_clear(&info);
  return r < 0 ? appc_error_prefix(err, "not signed") : 0;
}

static int run_sign(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct sign_options *o = opaque;
  struct appc_sign_options so = {.key = o->key, .out = o->output};
  cleanup_error appc_error_t err = NULL;

  if (argc != 1)
    return actool_usage_error("sign", "needs one IMAGE.aci");
  if (check_image(g, argv[0], &err) < 0 || appc_trust_init(&err) < 0 ||
      appc_sign_file(argv[0], &so, &err) < 0)
    return actool_fail(&err);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_sign = {
    .name = "sign",
    .summary = "Sign an image with a key of your gpg keyring",
    .usage = "[--key=ID] [--output=FILE] IMAGE.aci",
    .description = "Writes IMAGE.aci.asc, a detached armored OpenPGP signature, made by gpg with\n"
                   "a secret key of your keyring ($GNUPGHOME, else ~/.gnupg).  The image is\n"
                   "validated first: an invalid image is not signed.  Serve the signature\n"
                   "beside the image; `actool fetch` checks it against the keys trusted for\n"
                   "the image's name (`actool trust`).",
    .options = sign_option_table,
    .options_size = sizeof(struct sign_options),
    .run = run_sign,
};
