/* SPDX-License-Identifier: Apache-2.0 */
/* libappc debian: Debian packages installed into an image layout's rootfs
 * from a mirror, as deb2aci did (docs/authoring.md, "Debian packages").
 *
 * The mirror's index (dists/SUITE/InRelease, else Release and
 * Release.gpg) is verified against a keyring; the Packages file it lists
 * for COMPONENT/binary-ARCH is checked against its SHA256; the packages
 * asked for are resolved with their Pre-Depends and Depends; every .deb is
 * downloaded, checked against the index's SHA256 and size and its archive
 * checked entry by entry; only then is anything unpacked, with every path
 * resolved inside the rootfs.  The installed packages are recorded in the
 * rootfs's /var/lib/dpkg (status, info/PKG.list, info/PKG.md5sums), where
 * dpkg finds them.  Maintainer scripts are not run.  Nothing here prints
 * or exits. */
#ifndef APPC_DEBIAN_H
#define APPC_DEBIAN_H

#include <stdbool.h>
#include <stddef.h>

#include <appc/callbacks.h>
#include <appc/error.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

struct appc_http;
struct appc_layout;

#define APPC_DEBIAN_DEFAULT_MIRROR "https://deb.debian.org/debian"
#define APPC_DEBIAN_DEFAULT_SUITE "bookworm"
#define APPC_DEBIAN_DEFAULT_KEYRING "/usr/share/keyrings/debian-archive-keyring.gpg"

#define APPC_DEBIAN_OPTIONS_VERSION 2
struct appc_debian_options {
  unsigned version;                /* 0, or APPC_DEBIAN_OPTIONS_VERSION (<appc/appc.h>) */
  struct appc_http *http;          /* the client (its timeouts bound every wait) */
  const char *mirror;              /* NULL: APPC_DEBIAN_DEFAULT_MIRROR */
  const char *suite;               /* NULL: APPC_DEBIAN_DEFAULT_SUITE */
  const char *component;           /* NULL: main */
  const char *arch;                /* dpkg's name; NULL: this machine's */
  const char *keyring;             /* NULL: APPC_DEBIAN_DEFAULT_KEYRING */
  const char *tmpdir;              /* downloads and gpg; NULL: $TMPDIR, else /tmp */
  const struct appc_callbacks *cb; /* cancel and log; may be NULL */
  /* Keep the maintainer scripts (info/PKG.postinst...) and record the
   * packages "install ok unpacked", for `dpkg --configure --pending` in the
   * rootfs (`layout debian --configure` runs it through `layout run`);
   * else they are recorded installed and no script is kept. */
  bool scripts;
  /* (version 2) Also install the index's Essential packages, which Debian
   * lets every maintainer script assume (debootstrap's and mmdebstrap's
   * "essential" set): what `dpkg --configure` needs in a rootfs built from
   * nothing. */
  bool essential;
  void *reserved[3]; /* zero; taken by members of later releases */
};

/* One package installed. */
struct appc_debian_package {
  char *name;
  char *version;
  char *arch;
  void *reserved[2];
};
struct appc_debian_packages {
  struct appc_debian_package *v;
  size_t n;
  void *reserved[2]; /* zero; taken by members of later releases */
};
void appc_debian_packages_clear(struct appc_debian_packages *p);

/* dpkg's name of this machine's architecture (amd64, arm64, ...). */
const char *appc_debian_host_arch(void);

/* Install the packages NAMES[0..N) ("NAME" or "NAME=VERSION", or a name
 * that a package Provides) and their dependencies into the rootfs of L;
 * packages the rootfs's dpkg status shows installed satisfy dependencies
 * and are left alone.  OUT (may be NULL) receives what was installed, in
 * order.  Everything is downloaded and verified before the rootfs is
 * touched: a bad signature, index, dependency or .deb leaves it as it was.
 * A failure while unpacking (a full disk, a path the rootfs's own files
 * make impossible) leaves the rootfs as it was.  A rootfs without /bin,
 * /sbin and /lib gets a merged /usr first (each a symlink to usr/NAME, as
 * debootstrap makes it) when the index has usr-is-merged (Debian 12 on,
 * where no other layout is supported), and usr-is-merged is installed,
 * which tells packages so. */
int appc_layout_debian_install(struct appc_layout *l, char *const *names, size_t n,
                               const struct appc_debian_options *opts,
                               struct appc_debian_packages *out, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
