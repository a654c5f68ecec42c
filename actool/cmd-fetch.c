/* actool fetch FILE.aci | NAME | URL ...
 *
 * This release imports local ACI files, each verified first against the
 * keys trusted for its name (FILE.aci.asc, docs/trust.md) unless
 * --insecure-options=image; discovery and downloads by name or URL come
 * later. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <gpgme.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "schema/schema.h"
#include "store/store.h"
#include "trust/trust.h"

static bool is_url(const char *arg)
{
  return strncmp(arg, "https://", 8) == 0 || strncmp(arg, "http://", 7) == 0;
}

/* A path that exists, or that is spelt like a file (ends in .aci, or
 * starts with / or .), is a file; anything else is an image name. */
static bool is_file(const char *arg)
{
  struct stat st;
  size_t len = strlen(arg);

  return stat(arg, &st) == 0 || arg[0] == '/' || arg[0] == '.' ||
         (len > 4 && strcmp(arg + len - 4, ".aci") == 0);
}

static void debug_signer(const struct actool_globals *g, const char *path,
                         const struct appc_trust_result *res)
{
  if (strcmp(res->fingerprint, res->signing_fingerprint) != 0)
    actool_debug(g, "%s: good signature by subkey %s of key %s (%s, trusted for %s)", path,
                 res->signing_fingerprint, res->fingerprint, res->key_file,
                 res->prefix != NULL ? res->prefix : "every image name");
  else
    actool_debug(g, "%s: good signature by key %s (%s, trusted for %s)", path, res->fingerprint,
                 res->key_file, res->prefix != NULL ? res->prefix : "every image name");
}

/* Check PATH.asc against the keys trusted for the name in PATH's manifest.
 * The file is read again by the import: a file changed in between is not
 * detected (docs/trust.md). */
static int verify_file(const struct actool_globals *g, struct appc_store *s, const char *path)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *json = NULL;
  cleanup_free char *asc = NULL;
  cleanup_image_manifest struct appc_image_manifest *m = NULL;
  struct appc_trust_result res;
  size_t len = 0;
  int r;

  if (appc_aci_read_manifest(path, &json, &len, &err) < 0)
    return actool_fail(&err);
  if (appc_image_manifest_parse(json, len, &m, &err) < 0) {
    appc_error_prefix(&err, "%s: manifest", path);
    return actool_fail(&err);
  }
  if (asprintf(&asc, "%s.asc", path) < 0) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  actool_cancel_begin();
  r = appc_trust_verify(appc_store_path(s), m->name, path, asc, &res, &err);
  actool_cancel_end();
  if (r < 0 && res.signature_missing)
    actool_error("%s; use --insecure-options=image to import it unverified", err->msg);
  else if (r < 0)
    actool_report(&err);
  else
    debug_signer(g, path, &res);
  appc_trust_result_clear(&res);
  return r < 0 ? ACTOOL_EXIT_FAILURE : ACTOOL_EXIT_OK;
}

static int fetch_file(const struct actool_globals *g, struct appc_store *s, const char *path)
{
  struct appc_store_import_options io = {.cancelled = actool_cancelled};
  struct appc_store_image img;
  cleanup_error appc_error_t err = NULL;
  bool already = false;
  int r;

  if (g->insecure & ACTOOL_INSECURE_IMAGE)
    actool_debug(g, "%s: signature not verified (--insecure-options=image)", path);
  else if (verify_file(g, s, path) != ACTOOL_EXIT_OK)
    return ACTOOL_EXIT_FAILURE;
  actool_cancel_begin();
  r = appc_store_import(s, path, &io, &img, &already, &err);
  actool_cancel_end();
  if (r < 0)
    return actool_fail(&err);
  actool_debug(g, "%s: %s %s", path, already ? "already in the store as" : "imported as", img.id);
  printf("%s\n", img.id);
  appc_store_image_clear(&img);
  return ACTOOL_EXIT_OK;
}

static int run_fetch(const struct actool_globals *g, void *options, int argc, char **argv)
{
  struct appc_store *s = NULL;
  int status = ACTOOL_EXIT_OK;

  (void) options;
  if (argc == 0)
    return actool_usage_error("fetch", "needs at least one image");
  /* gpgme's one-time initialisation (it also sets SIGPIPE to SIG_IGN when
   * it is SIG_DFL, so that a gpg dying mid-write cannot kill actool). */
  if (!(g->insecure & ACTOOL_INSECURE_IMAGE))
    gpgme_check_version(NULL);
  int r = actool_open_store(g, &s);
  if (r != 0)
    return r;
  for (int i = 0; i < argc; i++) {
    if (is_url(argv[i]) || !is_file(argv[i])) {
      actool_error("%s: fetching by name or URL is not available in this release", argv[i]);
      status = ACTOOL_EXIT_FAILURE;
      continue;
    }
    if (fetch_file(g, s, argv[i]) != ACTOOL_EXIT_OK)
      status = ACTOOL_EXIT_FAILURE;
  }
  appc_store_close(s);
  if (fflush(stdout) != 0)
    status = ACTOOL_EXIT_FAILURE;
  return status;
}

const struct actool_command actool_cmd_fetch = {
    .name = "fetch",
    .summary = "Fetch images by name, URL or file into the store",
    .usage = "NAME[,LABEL=VALUE...] | https://URL | FILE.aci ...",
    .description = "Imports each image into the store and prints its image ID, one per line.\n"
                   "Importing an image that is already in the store changes nothing.",
    .run = run_fetch,
};
