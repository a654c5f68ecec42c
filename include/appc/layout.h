/* SPDX-License-Identifier: Apache-2.0 */
/* libappc layout: an image layout (manifest + rootfs/) edited step by step,
 * as acbuild edits one (docs/authoring.md).  A layout is opened under an
 * exclusive lock (flock on its directory: the layout holds nothing but
 * manifest and rootfs/), edited in memory, and committed: the whole manifest
 * is validated by the schema module and written atomically, or nothing is
 * written and the error names the field and the rule.  So every step leaves
 * a layout that `actool build` takes; build and validate take the lock
 * shared, and so wait for an edit under way.  Nothing here prints or exits. */
#ifndef APPC_LAYOUT_H
#define APPC_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <appc/callbacks.h>
#include <appc/error.h>
#include <appc/schema.h>
#include <appc/store.h>
#include <appc/types.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

struct appc_layout;

/* Make DIR (missing, or an empty directory) a new layout: rootfs/ and a
 * manifest naming the image NAME, with the os and arch labels of this
 * machine. */
int appc_layout_create(const char *dir, const char *name, appc_error_t *err);

/* Make DIR (missing, or an empty directory) a layout holding image ID of
 * store S, rendered with its dependencies, and its manifest less
 * dependencies and pathWhitelist (the rootfs holds what they gave); NAME, if
 * not NULL, renames the image. */
int appc_layout_create_from(struct appc_store *s, const char *id, const char *dir, const char *name,
                            appc_error_t *err);
/* appc_layout_create_from, telling FN (NULL: nobody) of each key of the
 * image's manifest that the schema does not define, which the layout's
 * manifest drops as every edit does (appc_layout_on_unknown_key), once the
 * layout is in place: its JSON path, and the known key it most likely
 * misspells, or NULL. */
int appc_layout_create_from_warn(struct appc_store *s, const char *id, const char *dir,
                                 const char *name, appc_unknown_key_fn fn, void *data,
                                 appc_error_t *err);

/* Open the layout DIR for editing: wait for its lock, read its manifest
 * (DIR/manifest, or DIR/manifest.yaml / .yml: docs/authoring.md).  Close
 * with appc_layout_close, which drops uncommitted edits. */
int appc_layout_open(const char *dir, struct appc_layout **out, appc_error_t *err);
void appc_layout_close(struct appc_layout *l);

/* The layout's rootfs directory (a path inside the layout). */
const char *appc_layout_rootfs(const struct appc_layout *l);

/* KEY is one of name, user, group, workingDirectory (app fields made as
 * needed; an app made here runs as user and group 0 until told otherwise). */
int appc_layout_set(struct appc_layout *l, const char *key, const char *value, appc_error_t *err);

/* Whether appc_layout_set knows KEY (for a caller that checks its
 * arguments before it opens the layout). */
bool appc_layout_set_key_known(const char *key);

/* app.exec becomes ARGV[0..ARGC); with ARGC 0 the app has no exec (as an
 * OCI image without Entrypoint and Cmd imports): one is given at run. */
int appc_layout_set_exec(struct appc_layout *l, char *const *argv, size_t argc, appc_error_t *err);

/* The lists a layout edits by name. */
enum appc_layout_list {
  APPC_LAYOUT_LABELS,       /* labels: name, value */
  APPC_LAYOUT_ANNOTATIONS,  /* annotations: name, value */
  APPC_LAYOUT_ENVIRONMENT,  /* app.environment: name, value */
  APPC_LAYOUT_PORTS,        /* app.ports */
  APPC_LAYOUT_MOUNT_POINTS, /* app.mountPoints */
  APPC_LAYOUT_ISOLATORS,    /* app.isolators */
  APPC_LAYOUT_DEPENDENCIES, /* dependencies, named by imageName */
};

/* NAME = VALUE in a labels, annotations or environment list: replaces an
 * entry of that name, else is appended. */
int appc_layout_kv_add(struct appc_layout *l, enum appc_layout_list list, const char *name,
                       const char *value, appc_error_t *err);

/* Remove the entry NAME from LIST; an error when there is none. */
int appc_layout_remove(struct appc_layout *l, enum appc_layout_list list, const char *name,
                       appc_error_t *err);

/* app.ports: NAME, PROTOCOL (tcp, udp...), PORT; COUNT 0 means 1.
 * Replaces a port of that name. */
int appc_layout_port_add(struct appc_layout *l, const char *name, const char *protocol,
                         unsigned port, unsigned count, bool socket_activated, appc_error_t *err);

/* app.mountPoints: NAME at PATH.  Replaces a mount point of that name. */
int appc_layout_mount_add(struct appc_layout *l, const char *name, const char *path, bool read_only,
                          appc_error_t *err);

/* app.isolators: NAME with the JSON text VALUE as its value (checked by
 * the isolator rules at commit).  Replaces an isolator of that name. */
int appc_layout_isolator_add(struct appc_layout *l, const char *name, const char *value_json,
                             appc_error_t *err);

/* dependencies: IMAGE_NAME, with IMAGE_ID (may be NULL) and LABELS (may be
 * NULL or empty).  Replaces a dependency on that name. */
int appc_layout_dependency_add(struct appc_layout *l, const char *image_name, const char *image_id,
                               const struct appc_kv_list *labels, appc_error_t *err);

/* Copy the host's files SRCS[0..N) into the rootfs at DEST, as a
 * Containerfile's COPY does: a file to DEST, or into it when DEST is a
 * directory or ends in '/'; a directory's contents into DEST (made when
 * missing, merged with what is there); with several sources DEST is a
 * directory.  DEST is resolved with the rootfs as '/' (its symlinks never
 * lead out).  Modes and times are kept, owners become root's, hard links
 * become files; anything but files, directories and symlinks is refused.
 * CB (may be NULL) can cancel between entries.  The rootfs is changed in
 * place: a failure leaves what was copied so far. */
int appc_layout_copy(struct appc_layout *l, char *const *srcs, size_t n, const char *dest,
                     const struct appc_callbacks *cb, appc_error_t *err);

/* `layout run`: a command in the rootfs, under the executor (<appc/ace.h>). */
#define APPC_LAYOUT_RUN_OPTIONS_VERSION 1
struct appc_layout_run_options {
  unsigned version;               /* 0, or APPC_LAYOUT_RUN_OPTIONS_VERSION (<appc/appc.h>) */
  bool host_net;                  /* the host's network (downloads); else loopback only */
  const struct appc_kv_list *env; /* added to the app's environment; may be NULL */
  void (*notify)(void *data, bool warn, const char *msg); /* may be NULL */
  void *notify_data;
  void *reserved[4]; /* zero; taken by members of later releases */
};
/* Run ARGV[0..ARGC) in the layout's rootfs as its app would run (user,
 * group, working directory, environment; a command without '/' is looked
 * up in the app's PATH), as a build step: without the app's ports, mount
 * points, isolators and event handlers.  What the command changed stays in
 * the rootfs, whether it succeeded or not, less what the executor provided
 * for the run (/etc/hostname, and /etc/hosts, resolv.conf and os-release
 * where the rootfs has none; mount points).  *STATUS receives its exit
 * status (128 + N for signal N).  Needs root; S holds the executor's pod
 * directory.  O may be NULL.  The layout's manifest is not written. */
int appc_layout_run(struct appc_layout *l, struct appc_store *s, char *const *argv, size_t argc,
                    const struct appc_layout_run_options *o, int *status, appc_error_t *err);

/* appc_layout_copy with more to say: the owner of what is copied (root
 * otherwise: a Containerfile's COPY --chown), and which sources to leave
 * out (.containerignore): SKIP, when not NULL, is asked for every file and
 * directory as "SRC" or "SRC/path/below" and returns true to skip it (and
 * all below a directory). */
struct appc_layout_copy_options {
  const struct appc_callbacks *cb; /* may be NULL */
  uid_t uid;
  gid_t gid;
  bool keep_owner; /* the sources' owners instead (an unpacked archive's) */
  bool (*skip)(void *data, const char *path);
  void *skip_data;
  /* The names the sources take in a directory DEST, one per source (NULL:
   * each its own): a Containerfile's COPY of a symlink copies what it
   * leads to under the symlink's name. */
  char *const *names;
  void *reserved[3]; /* zero; taken by members of later releases */
};
int appc_layout_copy_ex(struct appc_layout *l, char *const *srcs, size_t n, const char *dest,
                        const struct appc_layout_copy_options *o, appc_error_t *err);

/* PATH of the rootfs made a directory, with its parents, resolved with the
 * rootfs as '/' (a Containerfile's WORKDIR). */
int appc_layout_mkdir(struct appc_layout *l, const char *path, appc_error_t *err);

/* Validate the edited manifest and write it (as canonical, indented JSON to
 * DIR/manifest; a YAML manifest is replaced by it), atomically. */
int appc_layout_commit(struct appc_layout *l, appc_error_t *err);

/* The manifest is written from what the schema reads of it, so a key the
 * schema does not define ("app.workingDir", "x-build-info") is dropped by
 * a commit.  FN (NULL: nobody) is told of each one a commit dropped, once
 * the manifest is written, as appc_image_manifest_parse_warn tells of them
 * (its JSON path, and the known key it most likely misspells, or NULL). */
void appc_layout_on_unknown_key(struct appc_layout *l, appc_unknown_key_fn fn, void *data);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
