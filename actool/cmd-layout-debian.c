/* SPDX-License-Identifier: Apache-2.0 */
/* actool layout debian PKG... [--suite=SUITE] [--mirror=URL] [--keyring=FILE] */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "actool/layout-cli.h"
#include "actool/net-cli.h"
#include "appc/debian.h"
#include "appc/discovery.h"
#include "appc/store.h"
#include "common/cleanup.h"

struct debian_options {
  const char *layout;
  const char *suite, *mirror, *keyring, *component, *arch;
  bool configure, essential;
};

static const struct actool_option debian_option_table[] = {
    ACTOOL_LAYOUT_OPTION(struct debian_options),
    {"suite", ACTOOL_OPT_STRING, offsetof(struct debian_options, suite), "SUITE",
     "The suite (default: " APPC_DEBIAN_DEFAULT_SUITE ")", NULL},
    {"mirror", ACTOOL_OPT_STRING, offsetof(struct debian_options, mirror), "URL",
     "The mirror (default: " APPC_DEBIAN_DEFAULT_MIRROR ")", NULL},
    {"keyring", ACTOOL_OPT_PATH, offsetof(struct debian_options, keyring), "FILE",
     "The keys the index must be signed with (default: " APPC_DEBIAN_DEFAULT_KEYRING ")", NULL},
    {"component", ACTOOL_OPT_STRING, offsetof(struct debian_options, component), "NAME",
     "The component (default: main)", NULL},
    {"arch", ACTOOL_OPT_STRING, offsetof(struct debian_options, arch), "ARCH",
     "The architecture, as dpkg names it (default: this machine's)", NULL},
    {"configure", ACTOOL_OPT_BOOL, offsetof(struct debian_options, configure), NULL,
     "Then configure the packages: dpkg --configure --pending in the rootfs (layout run), "
     "which runs their maintainer scripts; the image must hold dpkg",
     NULL},
    {"essential", ACTOOL_OPT_BOOL, offsetof(struct debian_options, essential), NULL,
     "Also install the suite's Essential packages, which maintainer scripts assume "
     "(a base system: with --configure, from an empty rootfs)",
     NULL},
    {NULL, 0, 0, NULL, NULL, NULL},
};

/* dpkg --configure --pending in the rootfs: the maintainer scripts of the
 * packages just unpacked (recorded "unpacked"), as dpkg runs them. */
static int configure(const struct actool_globals *g, struct appc_layout *l, appc_error_t *err)
{
  static char *argv[] = {"/usr/bin/dpkg", "--configure", "--pending", NULL};
  struct appc_kv kv[] = {{(char *) "DEBIAN_FRONTEND", (char *) "noninteractive"}};
  struct appc_kv_list env = {kv, 1};
  struct appc_layout_run_options ro = {
      .version = APPC_LAYOUT_RUN_OPTIONS_VERSION,
      .env = &env,
      .notify = actool_notify,
      .notify_data = (void *) g,
  };
  struct appc_store *s = NULL;
  cleanup_free char *dpkg = NULL;
  int status = 1, r;

  if (asprintf(&dpkg, "%s/usr/bin/dpkg", appc_layout_rootfs(l)) < 0) {
    dpkg = NULL;
    return appc_error_make(err, ENOMEM, "--configure");
  }
  if (access(dpkg, X_OK) != 0)
    return appc_error_make(err, ENOENT,
                           "--configure: the rootfs has no /usr/bin/dpkg to run the scripts with "
                           "(install dpkg too); the packages stay unpacked");
  if (actool_open_store(g, &s) != ACTOOL_EXIT_OK)
    return appc_error_make(err, 0, "--configure: no store for the executor's pod");
  fflush(NULL);
  r = appc_layout_run(l, s, argv, 3, &ro, &status, err);
  appc_store_close(s);
  if (r == 0 && status != 0)
    r = appc_error_make(err, 0,
                        "--configure: dpkg --configure --pending exited with status %d; the "
                        "rootfs keeps what the scripts did (dpkg --audit in it tells the rest)",
                        status);
  return r;
}

static int run_layout_debian(const struct actool_globals *g, void *opaque, int argc, char **argv)
{
  const struct debian_options *o = opaque;
  struct appc_debian_options d = {.version = APPC_DEBIAN_OPTIONS_VERSION};
  struct appc_debian_packages installed = {0};
  struct appc_layout *l = NULL;
  struct appc_http *h = NULL;
  appc_error_t err = NULL;
  int r;

  if (argc < 1 && !o->essential)
    return actool_usage_error("layout debian", "needs PKG... (or --essential)");
  if (o->configure && geteuid() != 0) {
    actool_error("layout debian --configure: the scripts run under the executor, which needs root");
    return ACTOOL_EXIT_FAILURE;
  }
  if ((r = actool_http_client(g, NULL, &h)) != ACTOOL_EXIT_OK)
    return r;
  d.http = h;
  d.mirror = o->mirror;
  d.suite = o->suite;
  d.keyring = o->keyring;
  d.component = o->component;
  d.arch = o->arch;
  d.cb = actool_callbacks(g);
  d.scripts = o->configure;
  d.essential = o->essential;
  if (appc_layout_open(actool_layout_dir(o->layout), &l, &err) < 0) {
    appc_http_free(h);
    return actool_fail_net(&err);
  }
  actool_cancel_begin();
  r = appc_layout_debian_install(l, argv, (size_t) argc, &d, &installed, &err);
  actool_cancel_end();
  if (r == 0 && o->configure)
    r = configure(g, l, &err);
  appc_layout_close(l);
  appc_http_free(h);
  if (r < 0) {
    appc_debian_packages_clear(&installed);
    return actool_fail_net(&err);
  }
  for (size_t i = 0; i < installed.n; i++)
    printf("%s %s %s\n", installed.v[i].name, installed.v[i].version, installed.v[i].arch);
  appc_debian_packages_clear(&installed);
  return ACTOOL_EXIT_OK;
}

const struct actool_command actool_cmd_layout_debian = {
    .name = "layout debian",
    .summary = "Install Debian packages and their dependencies into the rootfs",
    .usage = "[--layout=DIR] [--suite=SUITE] [--mirror=URL] [--keyring=FILE] [--component=NAME]"
             " [--arch=ARCH] [--configure] [--essential] PKG...",
    .description =
        "Resolves PKG... (NAME, NAME=VERSION, or a virtual name) with their Pre-Depends and "
        "Depends from the mirror's dists/SUITE/InRelease (or Release + Release.gpg), signed "
        "by a key of the keyring, and its COMPONENT/binary-ARCH/Packages, checked against "
        "Release.  Every .deb is downloaded and checked (SHA256, size, archive paths) before "
        "anything is unpacked into the rootfs; then the packages are recorded in its "
        "/var/lib/dpkg (dpkg --root=ROOTFS -l lists them).  Prints \"NAME VERSION ARCH\" per "
        "package installed.  Maintainer scripts are not run, unless --configure: then the "
        "scripts are kept in /var/lib/dpkg/info, the packages recorded unpacked, and "
        "dpkg --configure --pending runs in the rootfs under the executor (layout run; "
        "preinst scripts are not run: actool unpacked the files).  --essential adds the "
        "suite's Essential packages, which maintainer scripts may assume.  A rootfs without "
        "/bin, /sbin and /lib gets a merged /usr (bin -> usr/bin, ...) and usr-is-merged "
        "when the suite has that package (Debian 12 on).  --cacert and "
        "--insecure-options=tls,http apply to the mirror.",
    .options = debian_option_table,
    .options_size = sizeof(struct debian_options),
    .run = run_layout_debian,
};
