/* SPDX-License-Identifier: Apache-2.0 */
/* An app's root filesystem (ace/rootfs.c). */
#ifndef APPC_ACE_ROOTFS_H
#define APPC_ACE_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ace/internal.h"

/* One volume mounted into the app. */
struct ace_rootfs_volume {
  const char *volume; /* its name, for messages */
  const char *target; /* absolute path in the app */
  const char *source; /* host path, or the pod's directory for an empty volume */
  bool host;          /* kind=host: no symlink allowed in SOURCE */
  bool read_only;
  bool recursive;
};

struct ace_rootfs_spec {
  const char *app_name;
  const char *lower;       /* the store's rendered rootfs (never written) */
  const char *app_dir;     /* DIR/pods/UUID/apps/NAME: upper, work, rootfs made here */
  const char *overlay_dir; /* NULL, or where upper, work and rootfs go instead */
  bool read_only;          /* readOnlyRootFS */
  const char *hostname;
  bool host_net;
  bool console;     /* stdin is a terminal: bind it at /dev/console */
  bool init_system; /* the app is an init: its cgroups without controllers are writable */
  const struct ace_rootfs_volume *volumes;
  size_t n_volumes;
  const struct ace_device *devices; /* --device: bind mounts of host nodes in /dev */
  size_t n_devices;
  /* --private-users: the pod's user namespace (-1: none) and the host id
   * of its root.  The tree is then given through an idmapped mount, and
   * what the executor makes in the root is owned by the pod's root. */
  int userns_fd;
  uint32_t id_base;
  bool lower_shifted; /* LOWER is a copy owned by the pod's ids: no idmapped mount */
  /* A directory on a tmpfs that only root reaches (the pod's state
   * directory, absolute) where the app's /etc layer may be made, or NULL:
   * the layer is then a tmpfs of its own. */
  const char *etc_dir;
};

/* What of the host an app's root is made from: the /dev nodes, devices,
 * terminal and volume sources, opened as detached mount trees, the host's
 * files and cgroup hierarchies, and the overlay of the image's tree. */
struct ace_rootfs_host;

/* P, before the pod starts: open the host side of SPEC's root (*OUT).  I
 * and S inherit it; S uses it in ace_rootfs_enter, P frees its own. */
int ace_rootfs_host_open(const struct ace_rootfs_spec *spec, struct ace_rootfs_host **out,
                         appc_error_t *err);
void ace_rootfs_host_free(struct ace_rootfs_host *h);

/* Child (S): enter a new mount namespace, build the app's root from HOST
 * (opened by ace_rootfs_host_open with the same SPEC; its descriptors are
 * closed) and pivot into it; on return "/" is the app's root and the
 * current directory. */
int ace_rootfs_enter(const struct ace_rootfs_spec *spec, struct ace_rootfs_host *host,
                     const struct ace_notes *notes, appc_error_t *err);

/* Child, in the app's root: make CWD (app.workingDirectory) the current
 * directory, resolved inside the root ("/"): its symlinks, however
 * absolute, and its "..", never lead out of it, nor does a magic link of
 * /proc (/proc/1/root is the pod's init).  Mount points are crossed: a
 * volume may be the working directory.  Errors name the field. */
int ace_chdir_in_root(const char *cwd, appc_error_t *err);
/* CWD opened (O_PATH) as ace_chdir_in_root resolves it, inside ROOT (a
 * directory: "/" in the app, or an image's tree rendered for a runtime
 * bundle), or -1 with the same error. */
int ace_workdir_open(int root, const char *cwd, appc_error_t *err);

/* Child, in the app's root: close every descriptor of a directory (those
 * of the host's the process inherited: the store's, the pod's, cgroups).
 * Through /proc/PID/fd they would lead an app that may trace the process
 * (CAP_SYS_PTRACE), or a supervisor following a link an app made, out of
 * the root. */
void ace_close_dirs(void);

#endif
