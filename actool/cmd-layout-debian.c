/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout debian PKG... [--suite=SUITE] [--mirror=URL] [--keyring=FILE] */
#include "config.h"

#include <stdio.h>

#include "actool/layout-cli.h"
#include "actool/net-cli.h"
#include "appc/debian.h"
#include "appc/discovery.h"

struct debian_options {
  const char *layout;
  const char *suite, *mirror, *keyring, *component, *arch;
  bool configure;
};

static const struct actool_option debian_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct debian_options),
    {"suite", ACTOOL_OPT_STRING, offsetof(struct debian_options, suite), "SUITE",
     "The suite (default: " APPC_DEBIAN_DEFAULT_SUITE ")", NULL},
    {"mirror", ACTOOL_OPT_STRING, offsetof(struct debian_options, mirror), "URL",
     "The mirror (default: " APPC_DEBIAN_DEFAULT_MIRROR ")", NULL},
    {"keyring", ACTOOL_OPT_STRING, offsetof(struct debian_options, keyring), "FILE",
     "The keys the index must be signed with (default: " APPC_DEBIAN_DEFAULT_KEYRING ")", NULL},
    {"component", ACTOOL_OPT_STRING, offsetof(struct debian_options, component), "NAME",
     "The component (default: main)", NULL},
    {"arch", ACTOOL_OPT_STRING, offsetof(struct debian_options, arch), "ARCH",
     "dpkg's architecture (default: this machine's)", NULL},
    {"configure", ACTOOL_OPT_BOOL, offsetof(struct debian_options, configure), NULL,
     "Run the maintainer scripts (not yet: refused)", NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

static int run_layout_debian(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct debian_options *o = opaque;
  struct appc_debian_options d = {.version = APPC_DEBIAN_OPTIONS_VERSION};
  struct appc_debian_packages installed = {0};
  struct appc_layout *l = NULL;
  struct appc_http *h = NULL;
  appc_error_t err = NULL;
  int r;

  if (argc < 1)
    return actool_usage_error("layout debian", "needs PKG...");
  if (o->configure)
    return actool_usage_error("layout debian",
                              "--configure: not yet: running maintainer scripts needs `layout "
                              "run`; install without it (the scripts are not run)");
  if ((r = actool_http_client(g, NULL, &h)) != ACTOOL_EXIT_OK)
    return r;
  d.http = h;
  d.mirror = o->mirror;
  d.suite = o->suite;
  d.keyring = o->keyring;
  d.component = o->component;
  d.arch = o->arch;
  d.cb = actool_callbacks(g);
  if (appc_layout_open(actool_layout_dir(o->layout), &l, &err) < 0) {
    appc_http_free(h);
    return actool_fail(&err);
  }
  actool_cancel_begin();
  r = appc_layout_debian_install(l, argv, (size_t) argc, &d, &installed, &err);
  actool_cancel_end();
  appc_layout_close(l);
  appc_http_free(h);
  if (r < 0)
    return actool_fail(&err);
  for (size_t i = 0; i < installed.n; i++)
    printf("%s %s %s\n", installed.v[i].name, installed.v[i].version, installed.v[i].arch);
  appc_debian_packages_clear(&installed);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_layout_debian = {
    .name = "layout debian",
    .summary = "Install Debian packages and their dependencies into the rootfs",
    .usage = "[--layout=DIR] [--suite=SUITE] [--mirror=URL] [--keyring=FILE] PKG...",
    .description =
        "Resolves PKG... (NAME, NAME=VERSION, or a virtual name) with their Pre-Depends and\n"
        "Depends from the mirror's dists/SUITE/InRelease (or Release + Release.gpg), signed\n"
        "by a key of the keyring, and its COMPONENT/binary-ARCH/Packages, checked against\n"
        "Release.  Every .deb is downloaded and checked (SHA256, size, archive paths) before\n"
        "anything is unpacked into the rootfs; then the packages are recorded in its\n"
        "/var/lib/dpkg (dpkg --root=ROOTFS -l lists them).  Prints \"NAME VERSION ARCH\" per\n"
        "package installed.  Maintainer scripts are not run (--configure is not yet\n"
        "supported).  --cacert and --insecure-options=tls,http apply to the mirror.",
    .options = debian_option_table,
    .options_size = sizeof(struct debian_options),
    .run = run_layout_debian,
};
