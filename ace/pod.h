/* SPDX-License-Identifier: Apache-2.0 */
/* A pod's directory, DIR/pods/UUID (ace/pod.c); see docs/executor.md. */
#ifndef APPC_ACE_POD_H
#define APPC_ACE_POD_H

#include "appc/ace.h"

struct ace_pod_dir {
  char uuid[APPC_UUID_LEN + 1];
  char *path;  /* absolute */
  int pods_fd; /* DIR/pods */
  int fd;      /* DIR/pods/UUID */
  int lock_fd; /* DIR/pods/UUID/lock, held exclusively while the pod runs */
};

/* Make DIR/pods/UUID with apps/ and volumes/, its lock held. */
int ace_pod_dir_create(struct appc_store *s, const char *uuid, struct ace_pod_dir *out,
                       appc_error_t *err);
/* Replace the file NAME in the pod's directory (temporary name, rename). */
int ace_pod_dir_write(struct ace_pod_dir *d, const char *name, const char *data, size_t len,
                      appc_error_t *err);
int ace_pod_state_write(struct ace_pod_dir *d, const struct appc_ace_pod_info *info,
                        appc_error_t *err);
/* Remove the directory and everything in it, then close D. */
int ace_pod_dir_remove(struct ace_pod_dir *d, appc_error_t *err);
/* An exited pod kept: remove what its apps used (apps/, volumes/), keep its
 * manifest, state and log, then close D (releasing its lock). */
int ace_pod_dir_keep(struct ace_pod_dir *d, appc_error_t *err);
void ace_pod_dir_close(struct ace_pod_dir *d);

#endif
