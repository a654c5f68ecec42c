/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's directories (ace/pod.c); see docs/executor.md: its state in the
 * store's runtime directory (RUNTIME/UUID, on a tmpfs), what its apps write
 * in the store (DIR/pods/UUID). */
#ifndef APPC_ACE_POD_H
#define APPC_ACE_POD_H

#include "appc/ace.h"

/* Where the stores' runtime directories are (ace_pods_runtime_open). */
#define ACE_RUNTIME_ROOT "/run/actool"
/* In a pod's state directory: the apps' /etc layers (ace/rootfs.c), one
 * directory each, named as the app. */
#define ACE_POD_ETC_LAYERS "etc"

struct ace_pod_dir {
  char uuid[APPC_UUID_LEN + 1];
  char *path;       /* DIR/pods/UUID, absolute: the apps' layers, empty volumes, log */
  int pods_fd;      /* DIR/pods (the metadata service's files are there too) */
  int fd;           /* DIR/pods/UUID */
  char *state_path; /* RUNTIME/UUID, absolute: lock, pod manifest, state.json */
  int runtime_fd;   /* RUNTIME */
  int state_fd;     /* RUNTIME/UUID */
  int lock_fd;      /* RUNTIME/UUID/lock, held exclusively while the pod runs */
  /* The start time of the pod's actool (OWNER_PID), read once for its
   * state: it tells that actool from another holder of the lock. */
  pid_t owner_pid;
  unsigned long long owner_start;
};
#define ACE_POD_DIR_INIT                                                                           \
  ((struct ace_pod_dir){.fd = -1, .pods_fd = -1, .runtime_fd = -1, .state_fd = -1, .lock_fd = -1})

/* /run/actool, a tmpfs (made and mounted, as root, where it is not one),
 * open: what the executor keeps while pods run (their state, user id
 * leases) goes there, and goes with a restart. */
int ace_runtime_root_open(appc_error_t *err);

/* The store's runtime directory, /run/actool/KEY, where the state of its
 * pods lives: on a tmpfs (ace_runtime_root_open), since that state changes at every pod's start and
 * end and goes with it.  KEY names the store's directory (device, inode and birth time), so that a
 * store made where another was removed never sees its pods.  With CREATE, made (root only);
 * without, ENOENT (errno, *ERR untouched) when no pod ever ran. */
int ace_pods_runtime_open(struct appc_store *s, bool create, char **path, appc_error_t *err);

/* KEY of the store's runtime directory (at most ACE_RUNTIME_KEY_MAX bytes
 * with its NUL). */
#define ACE_RUNTIME_KEY_MAX 80
int ace_runtime_key(struct appc_store *s, char key[ACE_RUNTIME_KEY_MAX], appc_error_t *err);
/* Has the store of runtime directory KEY (in ROOT, ace_runtime_root_open's)
 * state for pod UUID, being made, running, ended or being removed?  Any
 * store's pods: the host-wide network leases ask (net.c). */
bool ace_pod_has_state(int root, const char *key, const char *uuid);
/* Is that pod dead: without state, or its lock free (its actool ended or
 * was killed)?  What it leased may be taken over (net.c). */
bool ace_pod_is_dead(int root, const char *key, const char *uuid);

/* Make RUNTIME/UUID, its lock held, then DIR/pods/UUID with apps/. */
int ace_pod_dir_create(struct appc_store *s, const char *uuid, struct ace_pod_dir *out,
                       appc_error_t *err);
/* Replace the file NAME in the pod's state directory (temporary name,
 * rename). */
int ace_pod_dir_write(struct ace_pod_dir *d, const char *name, const char *data, size_t len,
                      appc_error_t *err);
/* The pod's state (state.json): INFO, and METADATA_URL (NULL or "" until
 * the pod's network is up), which only `enter` reads back
 * (ace_pod_metadata_url), as it gives its command what the apps have. */
int ace_pod_state_write(struct ace_pod_dir *d, const struct appc_ace_pod_info *info,
                        const char *metadata_url, appc_error_t *err);
/* The AC_METADATA_URL of pod UUID's apps, "" when it has none. */
int ace_pod_metadata_url(struct appc_store *s, const char *uuid, char **out, appc_error_t *err);
/* What a pod that ended leaves for later: DIR/pods/UUID renamed to
 * DIR/pods/.removing-UUID, for ace_pods_sweep to remove once the pod's
 * actool has returned (its removal is most of a short pod's end on a file
 * system that discards freed blocks at once). */
#define ACE_REMOVING ".removing-"
int ace_pod_dir_set_aside(struct ace_pod_dir *d, appc_error_t *err);
/* Remove every DIR/pods/.removing-UUID (PODS_FD) set aside; nothing is
 * reported (what stays is gc's). */
void ace_pods_sweep(int pods_fd);
/* Remove both directories (DIR/pods/UUID unless set aside) and everything
 * in them, then close D. */
int ace_pod_dir_remove(struct ace_pod_dir *d, appc_error_t *err);
/* An exited pod kept: remove what its apps used (DIR/pods/UUID but for its
 * log), keep its manifest, state and log, then close D (releasing its
 * lock). */
int ace_pod_dir_keep(struct ace_pod_dir *d, appc_error_t *err);
void ace_pod_dir_close(struct ace_pod_dir *d);

#endif
