/* SPDX-License-Identifier: Apache-2.0 */
/* actool fetch FILE.aci | NAME[,LABEL=VALUE...] | https://URL ...
 *
 * Each image is verified against the keys trusted for its name (FILE.aci.asc
 * or the discovered .aci.asc, docs/trust.md) unless --insecure-options=image,
 * imported, and its dependencies fetched; its ID is printed.  What an
 * argument names, and all the rest, is the library's (<appc/fetch.h>). */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actool/actool.h"
#include "actool/net-cli.h"
#include "appc/fetch.h"
#include "appc/trust.h"
#include "common/cleanup.h"

struct fetch_options {
  bool no_store;
  bool store_only;
  bool squash;
  bool json;
};

static const struct actool_option fetch_option_table[] = {
    {"no-store", ACTOOL_OPT_BOOL, offsetof(struct fetch_options, no_store), NULL,
     "Fetch from the network even when the store or the HTTP cache has the image", NULL},
    {"store-only", ACTOOL_OPT_BOOL, offsetof(struct fetch_options, store_only), NULL,
     "Use only images already in the store; never the network", NULL},
    {"squash", ACTOOL_OPT_BOOL, offsetof(struct fetch_options, squash), NULL,
     "Make an OCI or Docker image one ACI, not one per layer", NULL},
    {"json", ACTOOL_OPT_BOOL, offsetof(struct fetch_options, json), NULL,
     "Print a JSON array on stdout: each argument and the ID of its image, or null", NULL},
    {0},
};

/* The library's view of the command line. */
static struct appc_fetch_options library_options(const struct actool_globals *g,
                                                 const struct fetch_options *fo,
                                                 struct appc_http *h, bool no_dependencies)
{
  struct appc_fetch_options o = actool_fetch_options(g, h);

  o.no_store = fo->no_store;
  o.store_only = fo->store_only;
  o.squash = fo->squash;
  o.no_dependencies = no_dependencies;
  return o;
}

/* A file's dependencies come from the network like a name's. */
static int fetch_file_dependencies(const struct appc_fetch_options *o, struct appc_store *s,
                                   const char *id)
{
  cleanup_error appc_error_t err = NULL;

  actool_cancel_begin();
  int r = appc_fetch_dependencies(s, id, o, &err);
  actool_cancel_end();
  actool_progress_clear();
  return r < 0 ? actool_fail_net(&err) : ACTOOL_EXIT_OK;
}

/* Files first, all of them, then their dependencies: a dependency given
 * on the same command line is found in the store rather than discovered. */
static int fetch_all(const struct actool_globals *g, const struct fetch_options *fo,
                     struct appc_store *s, struct appc_http *h, int argc, char **argv)
{
  char(*ids)[APPC_IMAGE_ID_LEN + 1] = calloc((size_t) argc, sizeof *ids);
  const struct appc_fetch_options files = library_options(g, fo, h, true);
  const struct appc_fetch_options all = library_options(g, fo, h, false);
  int status = ACTOOL_EXIT_OK;

  if (ids == NULL) {
    actool_error("out of memory");
    return ACTOOL_EXIT_FAILURE;
  }
  for (int i = 0; i < argc; i++)
    if (appc_fetch_classify(argv[i]) == APPC_FETCH_FILE &&
        actool_fetch(&files, s, argv[i], ids[i]) != 0)
      status = ACTOOL_EXIT_FAILURE;
  struct json_object *a = fo->json ? json_object_new_array() : NULL;
  for (int i = 0; i < argc; i++) {
    bool done = false;
    if (appc_fetch_classify(argv[i]) != APPC_FETCH_FILE)
      done = actool_fetch(&all, s, argv[i], ids[i]) == ACTOOL_EXIT_OK;
    else if (ids[i][0] != '\0')
      done = fetch_file_dependencies(&all, s, ids[i]) == ACTOOL_EXIT_OK;
    if (!done)
      status = ACTOOL_EXIT_FAILURE;
    if (a != NULL) {
      struct json_object *j = json_object_new_object();
      json_object_object_add(j, "image", json_object_new_string(argv[i]));
      json_object_object_add(j, "id", done ? json_object_new_string(ids[i]) : NULL);
      json_object_array_add(a, j);
    } else if (done) {
      printf("%s\n", ids[i]);
    }
  }
  if (a != NULL) {
    actool_print_json(a);
    json_object_put(a);
  }
  free(ids);
  return status;
}

static int run_fetch(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct fetch_options *fo = options;
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
    return actool_fail_net(&err);
  if ((r = actool_open_store(g, &s)) != 0)
    return r;
  if (!fo->store_only && (r = actool_http_client(g, appc_store_path(s), &h)) != 0) {
    appc_store_close(s);
    return r;
  }
  status = fetch_all(g, fo, s, h, argc, argv);
  appc_http_free(h);
  appc_store_close(s);
  return status;
}

const struct actool_command actool_cmd_fetch = {
    .name = "fetch",
    .summary = "Fetch images by name, URL, file or OCI layout into the store",
    .usage = "[--no-store | --store-only] [--squash] [--json] NAME[,LABEL=VALUE...] | https://URL "
             "| FILE.aci |\n"
             "       oci:DIR[:REF] | docker-archive:FILE[:REPO:TAG] |\n"
             "       docker://[REGISTRY[:PORT]/]REPO[:TAG|@DIGEST] ...",
    .description =
        "Imports each image into the store and prints its image ID, one per line.\n"
        "A name is discovered (actool-discover(1)) and downloaded with its signature,\n"
        "which must be by a key trusted for the name (actool-trust(1)).  A name pinned\n"
        "to a version that the store has is not downloaded again, and a repeat fetch of\n"
        "an unchanged URL only revalidates it.  Dependencies are fetched too (files\n"
        "given together are imported before any dependency is looked for).  An image\n"
        "by name or URL is imported only once its dependencies are; a FILE whose\n"
        "dependencies cannot be fetched stays imported but is not printed.\n"
        "Importing an image that is already in the store changes nothing.\n"
        "oci:DIR[:REF] converts the image REF of the OCI image layout DIR (its\n"
        "org.opencontainers.image.ref.name; none when DIR holds one image) into one\n"
        "ACI per layer, as docker2aci does, and prints the top one's ID; OCI images\n"
        "carry no signature gpg reads, so this needs --insecure-options=image\n"
        "(actool-fetch(1)).  docker-archive:FILE[:REPO:TAG] does the same for what\n"
        "`docker save` writes, and docker://... for an image of a registry (Docker\n"
        "Hub when no REGISTRY is named: library/ for a single name, tag latest),\n"
        "with a token or the credentials of auth.d when the registry asks; pulled\n"
        "by digest (@sha256:...) it needs no --insecure-options=image, the digest\n"
        "vouching for every byte.  Layers the store has are not downloaded again,\n"
        "and an unchanged tag costs one request.",
    .options = fetch_option_table,
    .options_size = sizeof(struct fetch_options),
    .run = run_fetch,
    .operands_nonempty = true,
};
