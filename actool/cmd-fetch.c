/* SPDX-License-Identifier: Apache-2.0 */
/* actool fetch FILE.aci | NAME[,LABEL=VALUE...] | https://URL ...
 *
 * Each image is verified against the keys trusted for its name (FILE.aci.asc
 * or the discovered .aci.asc, docs/trust.md) unless --insecure-options=image,
 * imported, and its dependencies fetched; its ID is printed.  Names are
 * discovered and downloaded by the library (discovery/fetch.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actool/actool.h"
#include "actool/net-cli.h"
#include "common/cleanup.h"
#include "discovery/fetch.h"
#include "schema/json.h"
#include "schema/schema.h"
#include "store/store.h"
#include "trust/trust.h"

struct fetch_options {
  bool no_store;
  bool store_only;
};

static const struct actool_option fetch_option_table[] = {
    {"no-store", ACTOOL_OPT_BOOL, offsetof(struct fetch_options, no_store), NULL,
     "fetch from the network even when the store or the HTTP cache has the image", NULL},
    {"store-only", ACTOOL_OPT_BOOL, offsetof(struct fetch_options, store_only), NULL,
     "use only images already in the store; never the network", NULL},
    {0},
};

/* What the fetch callbacks need. */
struct fetch_ctx {
  const struct actool_globals *g;
  bool tty;             /* stderr is a terminal: draw a progress line */
  bool drawn;           /* a progress line is on screen */
  struct timespec last; /* when it was last drawn */
};

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

static void fetch_log(void *data, const char *msg)
{
  struct fetch_ctx *c = data;

  if (c->drawn) {
    fputs("\r\033[K", stderr);
    c->drawn = false;
  }
  actool_debug(c->g, "%s", msg);
}

static void human(char *buf, size_t size, uint64_t n)
{
  if (n >= 10u << 20)
    snprintf(buf, size, "%.1f MiB", (double) n / (1 << 20));
  else
    snprintf(buf, size, "%.1f KiB", (double) n / 1024);
}

/* "Downloading URL: 12.0 MiB / 200.0 MiB (6%)", redrawn at most ten times a
 * second, on a terminal only. */
static void fetch_progress(void *data, const char *url, uint64_t done, uint64_t total)
{
  struct fetch_ctx *c = data;
  struct timespec now;
  char a[32], b[32];

  if (!c->tty)
    return;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (c->drawn &&
      (now.tv_sec - c->last.tv_sec) * 1000000000L + (now.tv_nsec - c->last.tv_nsec) < 100000000L &&
      done != total)
    return;
  c->last = now;
  c->drawn = true;
  human(a, sizeof a, done);
  const char *base = strrchr(url, '/');
  base = base != NULL && base[1] != '\0' ? base + 1 : url;
  if (total > 0) {
    human(b, sizeof b, total);
    fprintf(stderr, "\r\033[KDownloading %s: %s / %s (%u%%)", base, a, b,
            (unsigned) (done * 100 / total));
  } else {
    fprintf(stderr, "\r\033[KDownloading %s: %s", base, a);
  }
}

static void progress_done(struct fetch_ctx *c)
{
  if (c->drawn)
    fputs("\r\033[K", stderr);
  c->drawn = false;
}

/* The library's view of the command line. */
static struct appc_fetch_options
library_options(struct fetch_ctx *c, const struct fetch_options *fo, struct appc_http *h)
{
  return (struct appc_fetch_options){
      .http = h,
      .insecure_image = (c->g->insecure & ACTOOL_INSECURE_IMAGE) != 0,
      .no_store = fo->no_store,
      .store_only = fo->store_only,
      .progress = fetch_progress,
      .log = fetch_log,
      .data = c,
      .cancelled = actool_cancelled,
  };
}

static int fetch_remote(struct fetch_ctx *c, const struct fetch_options *fo, struct appc_store *s,
                        struct appc_http *h, const char *arg)
{
  struct appc_fetch_options o = library_options(c, fo, h);
  struct appc_store_image img;
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *name = NULL;
  struct appc_kv_list labels = {0};
  int r;

  if (!is_url(arg) && appc_app_string_parse(arg, &name, &labels, &err) < 0)
    return actool_fail(&err);
  actool_cancel_begin();
  r = is_url(arg) ? appc_fetch_url(s, arg, &o, &img, &err)
                  : appc_fetch_name(s, name, &labels, &o, &img, &err);
  actool_cancel_end();
  progress_done(c);
  appc_kv_list_clear(&labels);
  if (r < 0)
    return actool_fail(&err);
  printf("%s\n", img.id);
  appc_store_image_clear(&img);
  return ACTOOL_EXIT_OK;
}

/* A file's dependencies come from the network like a name's. */
static int fetch_file_dependencies(struct fetch_ctx *c, const struct fetch_options *fo,
                                   struct appc_store *s, struct appc_http *h, const char *id)
{
  struct appc_fetch_options o = library_options(c, fo, h);
  cleanup_error appc_error_t err = NULL;

  actool_cancel_begin();
  int r = appc_fetch_dependencies(s, id, &o, &err);
  actool_cancel_end();
  progress_done(c);
  return r < 0 ? actool_fail(&err) : ACTOOL_EXIT_OK;
}

static int fetch_file(const struct actool_globals *g, struct appc_store *s, const char *path,
                      char id[APPC_IMAGE_ID_LEN + 1])
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
  memcpy(id, img.id, sizeof img.id);
  appc_store_image_clear(&img);
  return ACTOOL_EXIT_OK;
}

/* Files first, all of them, then their dependencies: a dependency given
 * on the same command line is found in the store rather than discovered. */
static int fetch_all(struct fetch_ctx *c, const struct fetch_options *fo, struct appc_store *s,
                     struct appc_http *h, int argc, char **argv)
{
  char(*ids)[APPC_IMAGE_ID_LEN + 1] = calloc((size_t) argc, sizeof *ids);
  int status = ACTOOL_EXIT_OK;

  if (ids == NULL) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  for (int i = 0; i < argc; i++)
    if (!is_url(argv[i]) && is_file(argv[i]) && fetch_file(c->g, s, argv[i], ids[i]) != 0)
      status = ACTOOL_EXIT_FAILURE;
  for (int i = 0; i < argc; i++) {
    if (is_url(argv[i]) || !is_file(argv[i])) {
      if (fetch_remote(c, fo, s, h, argv[i]) != ACTOOL_EXIT_OK)
        status = ACTOOL_EXIT_FAILURE;
    } else if (ids[i][0] != '\0') {
      if (fetch_file_dependencies(c, fo, s, h, ids[i]) == ACTOOL_EXIT_OK)
        printf("%s\n", ids[i]);
      else
        status = ACTOOL_EXIT_FAILURE;
    }
  }
  free(ids);
  return status;
}

static int run_fetch(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct fetch_options *fo = options;
  struct fetch_ctx c = {.g = g, .tty = isatty(STDERR_FILENO) == 1};
  struct appc_store *s = NULL;
  struct appc_http *h = NULL;
  cleanup_error appc_error_t err = NULL;
  int status;
  int r;

  if (argc == 0)
    return actool_usage_error("fetch", "needs at least one image");
  if (fo->no_store && fo->store_only)
    return actool_usage_error("fetch", "--no-store and --store-only exclude each other");
  if (!(g->insecure & ACTOOL_INSECURE_IMAGE) && appc_trust_init(&err) < 0)
    return actool_fail(&err);
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  if (!fo->store_only && (r = actool_http_client(g, appc_store_path(s), &h)) != 0) {
    appc_store_close(s);
    return r;
  }
  status = fetch_all(&c, fo, s, h, argc, argv);
  appc_http_free(h);
  appc_store_close(s);
  if (fflush(stdout) != 0)
    status = ACTOOL_EXIT_FAILURE;
  return status;
}

const struct actool_command actool_cmd_fetch = {
    .name = "fetch",
    .summary = "Fetch images by name, URL or file into the store",
    .usage = "[--no-store | --store-only] NAME[,LABEL=VALUE...] | https://URL | FILE.aci ...",
    .description =
        "Imports each image into the store and prints its image ID, one per line.\n"
        "A name is discovered (docs/discovery.md) and downloaded with its signature,\n"
        "which must be by a key trusted for the name (docs/trust.md).  A name pinned\n"
        "to a version that the store has is not downloaded again, and a repeat fetch of\n"
        "an unchanged URL only revalidates it.  Dependencies are fetched too (files\n"
        "given together are imported before any dependency is looked for).  An image\n"
        "by name or URL is imported only once its dependencies are; a FILE whose\n"
        "dependencies cannot be fetched stays imported but is not printed.\n"
        "Importing an image that is already in the store changes nothing.",
    .options = fetch_option_table,
    .options_size = sizeof(struct fetch_options),
    .run = run_fetch,
};

/* For run: bring one image into the store the way fetch would (a file is
 * verified and imported, a URL or name downloaded), printing nothing but
 * errors.  ID receives its image ID. */
int actool_fetch_one(const struct actool_globals *g, struct appc_store *s, const char *arg,
                     char *id)
{
  const struct fetch_options fo = {0};
  struct fetch_ctx c = {.g = g, .tty = isatty(STDERR_FILENO) == 1};
  struct appc_http *h = NULL;
  struct appc_fetch_options o;
  struct appc_store_image img;
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *name = NULL;
  struct appc_kv_list labels = {0};
  bool file = !is_url(arg) && is_file(arg);
  int r;

  if (!(g->insecure & ACTOOL_INSECURE_IMAGE) && appc_trust_init(&err) < 0)
    return actool_fail(&err);
  if (file && fetch_file(g, s, arg, id) != ACTOOL_EXIT_OK)
    return ACTOOL_EXIT_FAILURE;
  if ((r = actool_http_client(g, appc_store_path(s), &h)) != 0)
    return r;
  o = library_options(&c, &fo, h);
  if (!file && !is_url(arg) && appc_app_string_parse(arg, &name, &labels, &err) < 0) {
    appc_http_free(h);
    return actool_fail(&err);
  }
  actool_cancel_begin();
  if (file)
    r = appc_fetch_dependencies(s, id, &o, &err);
  else if (is_url(arg))
    r = appc_fetch_url(s, arg, &o, &img, &err);
  else
    r = appc_fetch_name(s, name, &labels, &o, &img, &err);
  actool_cancel_end();
  progress_done(&c);
  appc_kv_list_clear(&labels);
  appc_http_free(h);
  if (r < 0)
    return actool_fail(&err);
  if (!file) {
    memcpy(id, img.id, sizeof img.id);
    appc_store_image_clear(&img);
  }
  return ACTOOL_EXIT_OK;
}

/* Does ARG name a file or URL rather than an image in the store? */
bool actool_is_fetchable_path(const char *arg)
{
  return is_url(arg) || is_file(arg);
}
