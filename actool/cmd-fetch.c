/* actool fetch FILE.aci | NAME | URL ...
 *
 * This release imports local ACI files; discovery and downloads by name or
 * URL, and signature verification against trusted keys, come with `trust`. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "actool/actool.h"
#include "common/cleanup.h"
#include "store/store.h"

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

static int fetch_file(const struct actool_globals *g, struct appc_store *s, const char *path)
{
  struct appc_store_import_options io = {.cancelled = actool_cancelled};
  struct appc_store_image img;
  cleanup_error appc_error_t err = NULL;
  bool already = false;
  int r;

  if (!(g->insecure & ACTOOL_INSECURE_IMAGE)) {
    actool_error("%s: signature verification against trusted keys is not available in this "
                 "release; pass --insecure-options=image to import the image unverified",
                 path);
    return ACTOOL_EXIT_FAILURE;
  }
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
