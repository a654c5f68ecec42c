/* SPDX-License-Identifier: Apache-2.0 */
/* libappc schema: typed ImageManifest and PodManifest (appc spec v0.8.11).
 *
 * Parsing validates every rule of types.md, aci.md, pods.md and the isolators
 * of ace.md; a parsed manifest is therefore always valid.  Errors name the
 * JSON path and the rule, e.g.
 *   app.environment[1].name: "A B" is not a valid environment variable name
 * Serialisation produces canonical JSON (fields in spec order, empty optional
 * fields omitted), and parse -> serialise -> parse is the identity.
 *
 * The structure definitions live in schema/manifest.h.
 */
#ifndef APPC_SCHEMA_H
#define APPC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include <appc/error.h>
#include <appc/manifest.h>
#include <appc/isolator.h>
#include <appc/types.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define APPC_SPEC_VERSION "0.8.11"

enum appc_manifest_kind {
  APPC_MANIFEST_UNKNOWN = 0,
  APPC_MANIFEST_IMAGE, /* "acKind": "ImageManifest" */
  APPC_MANIFEST_POD,   /* "acKind": "PodManifest" */
};

/* Flags for the serialisers. */
enum {
  APPC_JSON_PRETTY = 1 << 0, /* indented, as `cat-manifest --pretty-print` */
};

/* The largest manifest (ImageManifest or PodManifest, JSON or YAML text)
 * that libappc reads or writes, in bytes: real ones are a few KiB, and a
 * hostile one must not make a reader take gigabytes into memory.  One limit
 * for every reader (ACIs, layouts, the store) and for the layout commands,
 * which refuse to write a larger one. */
#define APPC_MANIFEST_MAX (16u * 1024 * 1024)

/* Peek at "acKind" without validating the rest. Fails on malformed JSON. */
int appc_manifest_kind(const char *json, size_t len, enum appc_manifest_kind *kind,
                       appc_error_t *err);

int appc_image_manifest_parse(const char *json, size_t len, struct appc_image_manifest **out,
                              appc_error_t *err);

/* Keys the schema does not define are ignored, as the spec allows, but a
 * typo ("acKnd", "workingDir") then passes unseen.  The _warn parsers call
 * FN (unless NULL) with the JSON path of each such key ("app.workingDir")
 * and the known key of the same object it most likely misspells, or NULL;
 * otherwise they are appc_image_manifest_parse and appc_pod_manifest_parse. */
typedef void (*appc_unknown_key_fn)(void *data, const char *path, const char *suggestion);
int appc_image_manifest_parse_warn(const char *json, size_t len, struct appc_image_manifest **out,
                                   appc_unknown_key_fn fn, void *data, appc_error_t *err);
int appc_pod_manifest_parse_warn(const char *json, size_t len, struct appc_pod_manifest **out,
                                 appc_unknown_key_fn fn, void *data, appc_error_t *err);
/* Refuses (appc_image_manifest_check_names) a manifest it could not write
 * as the spec has it. */
int appc_image_manifest_serialize(const struct appc_image_manifest *m, int flags, char **out,
                                  size_t *out_len, appc_error_t *err);
/* Whether every label, annotation, dependency label, mount point and port
 * of M has its name.  The parser accepts one without (the reference's
 * does: Go checks no field that is absent), but the spec requires them and
 * the reference refuses to write such a manifest (build, patch-manifest,
 * cat-manifest --pretty-print): so do the writers of actool. */
int appc_image_manifest_check_names(const struct appc_image_manifest *m, appc_error_t *err);
void appc_image_manifest_free(struct appc_image_manifest *m);

int appc_pod_manifest_parse(const char *json, size_t len, struct appc_pod_manifest **out,
                            appc_error_t *err);
int appc_pod_manifest_serialize(const struct appc_pod_manifest *m, int flags, char **out,
                                size_t *out_len, appc_error_t *err);
void appc_pod_manifest_free(struct appc_pod_manifest *m);

/* Parse "NAME[,LABEL=VALUE...]" as users name images (query-escaped, like
 * the reference's discovery.NewAppFromString).  LABELS keeps the given
 * order; the caller clears it with appc_kv_list_clear and frees *NAME. */
int appc_app_string_parse(const char *s, char **name, struct appc_kv_list *labels,
                          appc_error_t *err);

/* Release what a list holds and empty it (a list a caller filled, or one
 * taken out of a manifest). */
void appc_string_list_clear(struct appc_string_list *l);
void appc_kv_list_clear(struct appc_kv_list *l);

/* Check the rules on an app section as a whole (user and group set, absolute
 * workingDirectory, unique event handlers and environment names, the
 * isolator set rules); PATH prefixes messages ("app"). */
int appc_app_validate(const struct appc_app *app, const char *path, appc_error_t *err);

/* A deep copy of SRC (for reifying a pod: the image's app becomes the pod
 * app's); free it with appc_app_release. */
int appc_app_copy(const struct appc_app *src, struct appc_app **out, appc_error_t *err);
void appc_app_release(struct appc_app *app);

/* YAML manifests (docs/authoring.md): YAML text (one document, at most
 * 4 MiB) as the JSON document it stands for, by the YAML 1.2 core schema
 * (plain null, booleans and numbers typed, every other scalar a string).
 * Syntax errors name WHERE, the line and the column.  *JSON is malloc'ed. */
int appc_yaml_to_json(const char *yaml, size_t len, const char *where, char **json,
                      size_t *json_len, appc_error_t *err);

/* Parse a YAML image manifest: as appc_yaml_to_json, then
 * appc_image_manifest_parse, whose errors are prefixed with WHERE and the
 * line of the field they name.  JSON, if not NULL, receives the manifest's
 * canonical JSON (appc_image_manifest_serialize, malloc'ed), which is what
 * an ACI built from it holds. */
int appc_image_manifest_parse_yaml(const char *yaml, size_t len, const char *where,
                                   struct appc_image_manifest **out, char **json, size_t *json_len,
                                   appc_error_t *err);

/* appc_image_manifest_parse_yaml, telling FN (unless NULL) of each key the
 * schema does not define as appc_image_manifest_parse_warn does (the same
 * check on the JSON document the YAML stands for, so the same field path),
 * with LINE, the key's line in the YAML text (0 if not known). */
typedef void (*appc_yaml_unknown_key_fn)(void *data, const char *path, unsigned long line,
                                         const char *suggestion);
int appc_image_manifest_parse_yaml_warn(const char *yaml, size_t len, const char *where,
                                        struct appc_image_manifest **out, char **json,
                                        size_t *json_len, appc_yaml_unknown_key_fn fn, void *data,
                                        appc_error_t *err);

/* Changes for `actool patch-manifest`, mirroring the reference's options.
 * A NULL or "" member means "not given".
 *   name                 AC Identifier replacing the image name
 *   exec                 command line split on every ' ' (creates the app if
 *                        the manifest has none)
 *   user, group          replace app.user / app.group
 *   supplementary_groups "1,2,3": replaces supplementaryGIDs
 *   capability           "CAP_A,CAP_B": capabilities-retain-set, replacing
 *                        any retain or remove set
 *   revoke_capability    the same for capabilities-remove-set; giving both
 *                        is an error
 *   mounts               "NAME[,path=P][,readOnly=BOOL][:...]" appended to
 *                        mountPoints (keys as the reference's
 *                        MountPointFromString: name, path, readOnly)
 *   ports                "NAME[,protocol=P][,port=N][,count=N]
 *                        [,socketActivated=BOOL][:...]" appended to ports
 *   isolators            "NAME[,key=value...][:...]" appended to isolators;
 *                        only resource/... ("request=50m,limit=100m"),
 *                        os/linux/no-new-privileges ("...,true") and
 *                        os/linux/oom-score-adj ("...,500") are supported
 *   seccomp_mode         "retain" or "remove", optionally ",errno=ENAME":
 *                        replaces any seccomp set with one of seccomp_set
 *   seccomp_set          "syscall1,syscall2" (needs seccomp_mode)
 * Every option other than name and exec needs an app.  The patched manifest
 * is validated as the reference does before writing it. */
#define APPC_MANIFEST_PATCH_VERSION 1
struct appc_manifest_patch {
  unsigned version; /* 0, or APPC_MANIFEST_PATCH_VERSION (<appc/appc.h>) */
  const char *name;
  const char *exec;
  const char *user;
  const char *group;
  const char *supplementary_groups;
  const char *capability;
  const char *revoke_capability;
  const char *mounts;
  const char *ports;
  const char *isolators;
  const char *seccomp_mode;
  const char *seccomp_set;
};

/* Apply P to M.  On failure M may be partly patched: discard it. */
int appc_image_manifest_patch(struct appc_image_manifest *m, const struct appc_manifest_patch *p,
                              appc_error_t *err);

#define cleanup_image_manifest __attribute__((cleanup(appc_image_manifest_freep)))
#define cleanup_pod_manifest __attribute__((cleanup(appc_pod_manifest_freep)))
static inline void appc_image_manifest_freep(struct appc_image_manifest **m)
{
  appc_image_manifest_free(*m);
}
static inline void appc_pod_manifest_freep(struct appc_pod_manifest **m)
{
  appc_pod_manifest_free(*m);
}

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
