/* SPDX-License-Identifier: Apache-2.0 */
/* Typed ImageManifest and PodManifest (appc spec v0.8.11).
 *
 * Conventions shared by every structure below:
 *  - Strings are NUL-terminated UTF-8 and owned by the structure.
 *  - A string of a validated type (AC Identifier, AC Name, SemVer, image ID,
 *    ...) is NULL when the manifest did not give it; the reference accepts
 *    some of these absences, and NULL lets the serialiser omit the field so
 *    that parse -> serialise -> parse stays the identity.  Plain strings
 *    (user, path, label values, ...) are never NULL after parsing: an absent
 *    one is "".
 *  - A list is a pointer to an array plus a count (`items`/`len` or
 *    `x`/`n_x`).  A NULL pointer with len 0 is the reference's nil slice (the
 *    list was absent or null); a non-NULL pointer with len 0 an empty list
 *    (`[]`).  The two differ only when serialising a field that Go writes
 *    without omitempty (app `exec`, and the pod's top-level lists): nil is
 *    written `null`, empty `[]`.
 *  - Free everything with appc_image_manifest_free / appc_pod_manifest_free.
 */
#ifndef APPC_MANIFEST_H
#define APPC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* Optional boolean, for the `*bool` fields of the reference. */
enum appc_tristate {
  APPC_UNSET = -1,
  APPC_FALSE = 0,
  APPC_TRUE = 1,
};

struct appc_string_list {
  char **items;
  size_t len;
};

/* A name/value pair: labels, annotations, environment variables, and the
 * entries of string maps (userAnnotations, userLabels, os/unix/sysctl). */
struct appc_kv {
  char *name; /* NULL only for a label or annotation given without "name" */
  char *value;
};

/* Labels, annotations and environment keep manifest order; string maps are
 * kept sorted by name with unique names (the reference stores them in a Go
 * map and serialises them sorted). */
struct appc_kv_list {
  struct appc_kv *items;
  size_t len;
};

enum appc_isolator_kind {
  APPC_ISOLATOR_UNKNOWN = 0, /* name not recognised: value kept verbatim */
  APPC_ISOLATOR_RESOURCE_CPU,
  APPC_ISOLATOR_RESOURCE_MEMORY,
  APPC_ISOLATOR_RESOURCE_BLOCK_BANDWIDTH,
  APPC_ISOLATOR_RESOURCE_BLOCK_IOPS,
  APPC_ISOLATOR_RESOURCE_NETWORK_BANDWIDTH,
  APPC_ISOLATOR_CAPABILITIES_RETAIN,
  APPC_ISOLATOR_CAPABILITIES_REMOVE,
  APPC_ISOLATOR_SECCOMP_RETAIN,
  APPC_ISOLATOR_SECCOMP_REMOVE,
  APPC_ISOLATOR_NO_NEW_PRIVILEGES,
  APPC_ISOLATOR_SELINUX_CONTEXT,
  APPC_ISOLATOR_OOM_SCORE_ADJ,
  APPC_ISOLATOR_CPU_SHARES,
  APPC_ISOLATOR_UNIX_SYSCTL,
};

/* One isolator.  `value_json` is the compact JSON text of "value" exactly as
 * given (the reference keeps it as a raw message and serialises it back
 * verbatim); the typed fields below it are filled according to `kind` so
 * that consumers never re-parse JSON. */
struct appc_isolator {
  char *name; /* NULL when absent (accepted by the reference in pods only) */
  enum appc_isolator_kind kind;
  char *value_json; /* NULL when "value" is absent or null */

  /* resource/... */
  bool resource_default;
  char *request; /* quantity text such as "500m", NULL when absent */
  char *limit;
  /* capabilities and seccomp sets */
  struct appc_string_list set;
  char *errno_name; /* seccomp only, "" when not given */
  /* os/linux/no-new-privileges */
  bool flag;
  /* os/linux/oom-score-adj, os/linux/cpu-shares */
  int64_t number;
  /* os/linux/selinux-context */
  char *selinux_user, *selinux_role, *selinux_type, *selinux_level;
  /* os/unix/sysctl */
  struct appc_kv_list sysctl;
};

struct appc_isolator_list {
  struct appc_isolator *items;
  size_t len;
};

struct appc_event_handler {
  char *name; /* "pre-start" or "post-stop" */
  struct appc_string_list exec;
};

struct appc_mount_point {
  char *name; /* AC Name, NULL when absent */
  char *path;
  bool read_only;
};

struct appc_port {
  char *name; /* AC Name, NULL when absent */
  char *protocol;
  uint64_t port;  /* 1..65535 */
  uint64_t count; /* at least 1 when decoded (the reference turns 0 into 1);
                   * 0 when patch-manifest --ports left it out, as there */
  bool socket_activated;
};

struct appc_app {
  struct appc_string_list exec;
  struct appc_event_handler *event_handlers;
  size_t n_event_handlers;
  char *user;  /* non-empty */
  char *group; /* non-empty */
  int64_t *supplementary_gids;
  size_t n_supplementary_gids;
  char *working_directory; /* "" or absolute */
  struct appc_kv_list environment;
  struct appc_mount_point *mount_points;
  size_t n_mount_points;
  struct appc_port *ports;
  size_t n_ports;
  struct appc_isolator_list isolators;
  struct appc_kv_list user_annotations; /* string map */
  struct appc_kv_list user_labels;      /* string map */
};

struct appc_dependency {
  char *image_name; /* AC Identifier, non-NULL */
  char *image_id;   /* NULL when absent */
  struct appc_kv_list labels;
  uint64_t size;
};

struct appc_image_manifest {
  char *ac_kind;    /* "ImageManifest" */
  char *ac_version; /* SemVer, non-NULL */
  char *name;       /* AC Identifier, non-NULL */
  struct appc_kv_list labels;
  struct appc_app *app; /* NULL when absent */
  struct appc_kv_list annotations;
  struct appc_dependency *dependencies;
  size_t n_dependencies;
  struct appc_string_list path_whitelist;
};

struct appc_volume {
  char *name;   /* AC Name, non-NULL */
  char *kind;   /* "empty" or "host" */
  char *source; /* absolute path for host volumes, "" for empty ones */
  enum appc_tristate read_only;
  enum appc_tristate recursive;
  /* Empty volumes only; the parser fills the defaults "0755", 0, 0. */
  char *mode; /* NULL when unset */
  bool has_uid;
  int64_t uid;
  bool has_gid;
  int64_t gid;
};

struct appc_mount {
  char *volume; /* AC Name, NULL when absent */
  char *path;
  struct appc_volume *app_volume; /* NULL when absent */
};

struct appc_runtime_image {
  char *name; /* AC Identifier, NULL when absent */
  char *id;   /* image ID, NULL when absent */
  struct appc_kv_list labels;
};

struct appc_runtime_app {
  char *name; /* AC Name, NULL when absent */
  struct appc_runtime_image image;
  struct appc_app *app; /* NULL when absent */
  bool read_only_root_fs;
  struct appc_mount *mounts;
  size_t n_mounts;
  struct appc_kv_list annotations;
};

struct appc_exposed_port {
  char *name; /* AC Name, NULL when absent */
  uint64_t host_port;
  char *host_ip;              /* IPv4 or IPv6 text, NULL when absent */
  struct appc_port *pod_port; /* NULL when absent */
};

struct appc_pod_manifest {
  char *ac_version; /* SemVer, NULL when absent (the reference allows it) */
  char *ac_kind;    /* "PodManifest" */
  struct appc_runtime_app *apps;
  size_t n_apps;
  struct appc_volume *volumes;
  size_t n_volumes;
  struct appc_isolator_list isolators; /* unknown names allowed here */
  struct appc_kv_list annotations;
  struct appc_exposed_port *ports;
  size_t n_ports;
  struct appc_kv_list user_annotations;
  struct appc_kv_list user_labels;
};

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
