/* SPDX-License-Identifier: Apache-2.0 */
/* libappc oci: OCI and Docker images brought into the store as ACIs
 * (docs/oci.md).  An image is read from an OCI image layout (index.json,
 * blobs/ALG/HEX) or a `docker save` archive, every blob checked against its digest as it streams,
 * and converted as docker2aci converts: one ACI per layer, each depending on the one below it by
 * image ID, the top one carrying the app made from the image's config; a layer's whiteouts
 * (.wh.NAME, .wh..wh..opq) become the pathWhitelist of the layers from there up.  Nothing reaches
 * the store unless every check passed; nothing here prints or exits. */
#ifndef APPC_OCI_H
#define APPC_OCI_H

#include <stdbool.h>

#include <appc/callbacks.h>
#include <appc/discovery.h>
#include <appc/error.h>
#include <appc/store.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define APPC_OCI_IMPORT_OPTIONS_VERSION 1
struct appc_oci_import_options {
  unsigned version; /* 0, or APPC_OCI_IMPORT_OPTIONS_VERSION (<appc/appc.h>) */
  /* The image's ACI name; NULL: the layout directory's name, the archive's
   * repository, or REGISTRY/REPO for a registry's image (any character an
   * AC Name does not allow made '-'). */
  const char *name;
  /* The platform picked from an image index; NULL: linux and the
   * architecture of this machine (GOARCH spelling: amd64, arm64, ..., with
   * the variant after a '/' where it matters: arm/v6, arm/v7). */
  const char *os;
  const char *arch;
  const struct appc_callbacks *cb; /* cancel, progress (bytes of each layer), log; may be NULL */
  /* One ACI holding the image rendered (every layer applied, whiteouts
   * included), without dependencies, instead of one ACI per layer. */
  bool squash;
  /* Convert (and download) every layer even when the store has the image
   * or some of its layers already (fetch --no-store). */
  bool refresh;
};

/* docker2aci's names for what an image config exposes, used wherever a
 * Docker config or Containerfile becomes an appc app: a port is
 * "PORT-PROTO" ("80-tcp"); a volume's mount point is "volume-" and its
 * PATH as an AC Name ("/data/x" -> "volume-data-x"; malloc'ed, NULL when
 * PATH gives no name, as the root "/" does, or out of memory). */
#define APPC_OCI_PORT_NAME_MAX 24
void appc_oci_port_name(char name[APPC_OCI_PORT_NAME_MAX], unsigned port, const char *proto);
/* Whether PROTO is one of the protocols Docker's EXPOSE and ExposedPorts
 * take (tcp, udp, sctp); appc's is a free string, but anything else is more
 * likely a typo than a port to open. */
bool appc_oci_port_protocol_known(const char *proto);
char *appc_oci_volume_name(const char *path);
/* The annotation a Docker label KEY becomes, as the importer makes it: the
 * key as an AC Identifier ("License" -> "license", "Build Date" ->
 * "build-date"; malloc'ed).  NULL when nothing is left of it, when it is
 * one of the importer's own (appc.io/...), or out of memory. */
char *appc_oci_label_annotation(const char *key);

/* The annotations that keep a Docker config's Entrypoint and Cmd, JSON
 * arrays of strings, as docker2aci records them: app.exec is both run
 * together. */
#define APPC_OCI_ENTRYPOINT_ANNOTATION "appc.io/docker/entrypoint"
#define APPC_OCI_CMD_ANNOTATION "appc.io/docker/cmd"
struct appc_image_manifest;
/* How many of M's app.exec words are the Entrypoint, as those annotations
 * split it (the rest is Cmd); -1 when they are absent, or no longer
 * describe exec (changed since). */
long appc_oci_exec_entrypoint(const struct appc_image_manifest *m);

/* Import the image REF (an org.opencontainers.image.ref.name of DIR's
 * index.json; NULL when the index holds exactly one image) of the OCI image
 * layout DIR.  OUT receives the top image's index record (clear it). */
int appc_oci_import_layout(struct appc_store *s, const char *dir, const char *ref,
                           const struct appc_oci_import_options *opts, struct appc_store_image *out,
                           appc_error_t *err);

/* Split "DIR[:REF]", fetch's oci: argument: REF is what follows the last
 * ':', unless the whole of ARG is an existing directory or that ':' is
 * followed by a '/' (*REF NULL then); "DIR:" is DIR without a REF (*REF
 * NULL), as skopeo reads it.  Both malloc'ed. */
int appc_oci_layout_ref_split(const char *arg, char **dir, char **ref, appc_error_t *err);

/* Import the image tagged REPO_TAG ("busybox:1.36", Docker Hub's
 * "docker.io/library/" understood; NULL when the archive holds one image)
 * of the `docker save` archive FILE, legacy or OCI flavour, gzip'ed or
 * not.  Named after its repository unless OPTS->name says otherwise. */
int appc_oci_import_docker_archive(struct appc_store *s, const char *file, const char *repo_tag,
                                   const struct appc_oci_import_options *opts,
                                   struct appc_store_image *out, appc_error_t *err);

/* Split "FILE[:REPO:TAG]", fetch's docker-archive: argument: FILE is the
 * longest prefix that is an existing file.  Both malloc'ed (*REPO_TAG NULL
 * when there is none). */
int appc_oci_archive_ref_split(const char *arg, char **file, char **repo_tag, appc_error_t *err);

/* "sha256:" and 64 hex digits. */
#define APPC_OCI_DIGEST_LEN 71

#define APPC_OCI_EXPORT_OPTIONS_VERSION 1
struct appc_oci_export_options {
  unsigned version; /* 0, or APPC_OCI_EXPORT_OPTIONS_VERSION (<appc/appc.h>) */
  /* The org.opencontainers.image.ref.name; NULL: the image's version label
   * when it makes a tag, else "latest". */
  const char *tag;
  const struct appc_callbacks *cb; /* cancel, log; may be NULL */
};

/* Write the image ID, rendered with its dependencies, as an OCI image into
 * the image layout DIR (made when missing or empty; added to when it is a
 * layout: an entry of the same tag is replaced, the others kept): one gzip
 * layer of the tree, a config from the app (Entrypoint, Env, User,
 * WorkingDir, ExposedPorts, Volumes; Labels: those an OCI import kept in
 * the annotation appc.io/docker/labels, else the labels), a manifest.
 * DIGEST receives the manifest's digest. */
int appc_oci_export_layout(struct appc_store *s, const char *id, const char *dir,
                           const struct appc_oci_export_options *opts,
                           char digest[APPC_OCI_DIGEST_LEN + 1], appc_error_t *err);

#define APPC_OCI_BUNDLE_OPTIONS_VERSION 2
struct appc_oci_bundle_options {
  unsigned version;                /* 0, or APPC_OCI_BUNDLE_OPTIONS_VERSION (<appc/appc.h>) */
  bool overwrite;                  /* replace an existing DIR (else EEXIST) */
  const struct appc_kv_list *env;  /* added to the app's environment, as --set-env; may be NULL */
  const struct appc_callbacks *cb; /* cancel; may be NULL */
  /* (version 2) The operator's consent to capabilities beyond the ACE's
   * default set, and to a negative oom-score-adj (CAP_SYS_RESOURCE), as
   * appc_ace_plan_options.allow_caps (--caps-allow): without it such an
   * image is refused as appc_ace_run refuses it. */
  const char *const *allow_caps;
  size_t n_allow_caps;
};

/* Write the image ID as an OCI runtime bundle DIR: rootfs/ (the image
 * rendered with its dependencies) and config.json running its app as
 * `actool run` would (<appc/ace.h>, appc_ace_app_plan): args, env, user
 * and groups, cwd, capabilities, no_new_privs, seccomp, memory, CPU and
 * block I/O limits, namespaces, /proc, /dev, /sys and an empty volume per
 * mount point.  Refused as appc_ace_app_plan_with refuses the app.  DIR
 * appears only when complete. */
int appc_oci_bundle(struct appc_store *s, const char *id, const char *dir,
                    const struct appc_oci_bundle_options *opts, appc_error_t *err);

/* A registry reference, as `docker pull` reads it:
 * [REGISTRY[:PORT]/]REPO[:TAG][@DIGEST], with Docker Hub's defaults. */
struct appc_docker_ref {
  char *registry;   /* host[:port] of the API: "registry-1.docker.io" for Docker Hub */
  char *repository; /* "library/busybox" for Docker Hub's "busybox" */
  char *tag;        /* "latest" when neither a tag nor a digest is given; else NULL */
  char *digest;     /* "sha256:HEX" when pulled by digest; else NULL */
  /* the platform asked for by appc labels after the reference
   * (",os=linux,arch=aarch64"), in OCI spelling (arm64; armv6l is
   * "arm/v6", GOARCH/VARIANT); else NULL */
  char *os, *arch;
  void *reserved[2]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_docker_ref_clear(struct appc_docker_ref *r);
/* Parse REF (with or without "docker://"), optionally followed by the
 * labels os and arch as appc names them: "busybox,arch=aarch64". */
int appc_docker_ref_parse(const char *ref, struct appc_docker_ref *out, appc_error_t *err);

/* Pull REF from its registry over H (Distribution API v2: a bearer token
 * or basic credentials from auth.d when the registry asks; https, plain
 * http only when H allows it) and import it as appc_oci_import_layout
 * does.  Every manifest and blob is checked against its digest; layers are
 * downloaded into the store's tmp/ (resumed after an interruption) and
 * converted as they arrive.  Named REGISTRY/REPO unless OPTS->name says
 * otherwise.  The pull is one operation of H's (appc_http_operation_begin):
 * it ends within H's operation_deadline, or nests in the caller's. */
int appc_oci_import_registry(struct appc_store *s, struct appc_http *h, const char *ref,
                             const struct appc_oci_import_options *opts,
                             struct appc_store_image *out, appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
