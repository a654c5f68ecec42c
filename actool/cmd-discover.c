/* SPDX-License-Identifier: Apache-2.0 */
/* actool discover [--json] NAME[,LABEL=VALUE...]...
 *
 * Prints, per name, the discovered "ACI: URL, ASC: URL" endpoints and a
 * "PublicKeys: URL,..." line, or with --json one document per name in the
 * reference actool's shape.  Failed steps of the walk are shown with
 * --debug. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "actool/actool.h"
#include "actool/net-cli.h"
#include "common/cleanup.h"
#include "appc/discovery.h"
#include "schema/json.h"
#include "appc/schema.h"

struct discover_options {
  bool json;
  bool insecure;
};

static const struct actool_option discover_option_table[] = {
    {"json", ACTOOL_OPT_BOOL, offsetof(struct discover_options, json), NULL,
     "Print the result as JSON", NULL},
    {"insecure", ACTOOL_OPT_BOOL, offsetof(struct discover_options, insecure), NULL,
     "As the reference's: --insecure-options=tls,http (no TLS checks, plain http allowed)", NULL},
    {0},
};

static int print_json(const struct appc_discovery *d)
{
  json_object *root = json_object_new_object();
  json_object *eps = json_object_new_array();
  json_object *keys = json_object_new_array();

  json_object_object_add(root, "ACIEndpoints", eps);
  json_object_object_add(root, "PublicKeys", keys);
  for (size_t i = 0; i < d->n_endpoints; i++) {
    json_object *e = json_object_new_object();
    json_object_object_add(e, "ACI", json_object_new_string(d->endpoints[i].aci));
    json_object_object_add(e, "ASC", json_object_new_string(d->endpoints[i].asc));
    json_object_array_add(eps, e);
  }
  for (size_t i = 0; i < d->n_pubkeys; i++)
    json_object_array_add(keys, json_object_new_string(d->pubkeys[i]));
  actool_put_json(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put(root);
  return 0;
}

static void print_text(const struct appc_discovery *d)
{
  /* The URLs are the server's text: no escape sequence of its reaches the
   * terminal (one could show another host's URL). */
  for (size_t i = 0; i < d->n_endpoints; i++) {
    fputs("ACI: ", stdout);
    actool_put_safe(d->endpoints[i].aci, stdout);
    fputs(", ASC: ", stdout);
    actool_put_safe(d->endpoints[i].asc, stdout);
    putchar('\n');
  }
  if (d->n_pubkeys == 0)
    return;
  fputs("PublicKeys: ", stdout);
  for (size_t i = 0; i < d->n_pubkeys; i++) {
    if (i > 0)
      putchar(',');
    actool_put_safe(d->pubkeys[i], stdout);
  }
  putchar('\n');
}

static int discover_one(const struct actool_globals *g, const struct discover_options *o,
                        struct appc_http *h, const char *arg)
{
  cleanup_error appc_error_t err = NULL;
  cleanup_free char *name = NULL;
  struct appc_kv_list labels = {0};
  struct appc_discovery d;
  int r;

  if (appc_app_string_parse(arg, &name, &labels, &err) < 0)
    return actool_fail_net(&err);
  actool_cancel_begin();
  r = appc_discover(h, name, &labels, APPC_DISCOVER_ENDPOINTS | APPC_DISCOVER_PUBKEYS, &d, &err);
  actool_cancel_end();
  for (size_t i = 0; i < d.n_attempts; i++)
    actool_debug(g, "discover %s: prefix %s: %s", arg, d.attempts[i].prefix, d.attempts[i].message);
  if (r == 0 && o->json)
    print_json(&d);
  else if (r == 0)
    print_text(&d);
  appc_discovery_clear(&d);
  appc_kv_list_clear(&labels);
  return r < 0 ? actool_fail_net(&err) : ACTOOL_EXIT_OK;
}

static int run_discover(const struct actool_globals *g, void *options, int argc, char **argv)
{
  const struct discover_options *o = options;
  struct actool_globals with_insecure = *g;
  cleanup_free char *dir = NULL;
  struct appc_http *h = NULL;
  int status = ACTOOL_EXIT_OK;
  int r;

  if (argc == 0)
    return actool_usage_error("discover", "needs at least one image name");
  if ((r = actool_store_dir(g, &dir)) != ACTOOL_EXIT_OK)
    return r;
  if (o->insecure)
    with_insecure.insecure |= ACTOOL_INSECURE_TLS | ACTOOL_INSECURE_HTTP;
  if ((r = actool_http_client(&with_insecure, dir, &h)) != ACTOOL_EXIT_OK)
    return r;
  for (int i = 0; i < argc; i++)
    if (discover_one(g, o, h, argv[i]) != ACTOOL_EXIT_OK)
      status = ACTOOL_EXIT_FAILURE;
  appc_http_free(h);
  return status;
}

const struct actool_command actool_cmd_discover = {
    .name = "discover",
    .summary = "Discover the download URLs for one or more app container images",
    .usage = "[--json] [--insecure] NAME[,LABEL=VALUE...]...",
    .description =
        "Fetches https://NAME?ac-discovery=1 (port from --port) and reads its ac-discovery\n"
        "meta tags and Link headers, walking up the name until something matches\n"
        "(actool-discover(1)).  Prints \"ACI: URL, ASC: URL\" per endpoint and\n"
        "\"PublicKeys: URL,...\".  {os} and {arch} default to the host's, {version} to latest.",
    .options = discover_option_table,
    .options_size = sizeof(struct discover_options),
    .run = run_discover,
    .operands_nonempty = true,
};
