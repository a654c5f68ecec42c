/* SPDX-License-Identifier: Apache-2.0 */
/* oci/: what the module's files share and nothing else uses. */
#ifndef APPC_OCI_INTERNAL_H
#define APPC_OCI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "appc/aci.h"
#include "appc/error.h"
#include "appc/oci.h"
#include "appc/schema.h"
#include "common/digest.h"

/* Manifests, indexes and configs larger than this are refused unread: real
 * ones are a few KiB (a config with a long history some hundred). */
#define OCI_JSON_MAX (4u * 1024 * 1024)
/* Layers an image may have (Docker's own limit is 127). */
#define OCI_MAX_LAYERS 256
/* "sha512:" and 128 hex digits, and the NUL. */
#define OCI_DIGEST_MAX (8 + APPC_DIGEST_HEX_MAX)

#define OCI_INDEX_V1 "application/vnd.oci.image.index.v1+json"
#define OCI_MANIFEST_V1 "application/vnd.oci.image.manifest.v1+json"
#define OCI_CONFIG_V1 "application/vnd.oci.image.config.v1+json"
#define DOCKER_MANIFEST_V2 "application/vnd.docker.distribution.manifest.v2+json"
#define DOCKER_LIST_V2 "application/vnd.docker.distribution.manifest.list.v2+json"
#define DOCKER_MANIFEST_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define DOCKER_MANIFEST_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define DOCKER_CONFIG_V1 "application/vnd.docker.container.image.v1+json"

/* A content descriptor: what an index or a manifest points at. */
struct oci_descriptor {
  char *media_type;
  char *digest; /* "ALG:HEX", checked by appc_digest_parse */
  int64_t size;
  char *ref_name;            /* annotation org.opencontainers.image.ref.name, or NULL */
  char *os, *arch, *variant; /* platform, in an index; NULL when absent */
};
void oci_descriptor_clear(struct oci_descriptor *d);
void oci_descriptors_free(struct oci_descriptor *v, size_t n);
int oci_descriptor_copy(const struct oci_descriptor *from, struct oci_descriptor *to,
                        appc_error_t *err);

/* An image, as its manifest and config describe it. */
struct oci_image {
  struct oci_descriptor manifest; /* the descriptor that led to it */
  struct oci_descriptor config;
  struct oci_descriptor *layers;
  size_t n_layers;
  char **diff_ids; /* of the config's rootfs, one per layer */
  /* from the config */
  char *os, *arch, *variant;
  char *user, *working_dir;
  char **entrypoint, **cmd, **env, **ports, **volumes; /* NULL-terminated */
  struct appc_kv_list labels;
  char *created; /* RFC 3339, or NULL */
  char *author;
};
void oci_image_clear(struct oci_image *img);

/* Where an image's blobs come from: a layout directory, a registry. */
struct oci_blobs {
  const char *where; /* for messages: a directory, a registry's repository */
  /* A descriptor reading blob D from its first byte: a regular file of D's
   * size, whose digest its reader checks as it reads (oci_layer_convert). */
  int (*open)(struct oci_blobs *b, const struct oci_descriptor *d, appc_error_t *err);
  /* Blob D (a manifest, an index, a config: at most OCI_JSON_MAX bytes) in
   * memory, its digest checked. */
  int (*read)(struct oci_blobs *b, const struct oci_descriptor *d, char **out, size_t *len,
              appc_error_t *err);
};

/* {"mediaType", "digest", "size"}, as json-c's json_object *. */
struct json_object;
struct json_object *oci_descriptor_json(const char *media_type, const char *digest, int64_t size);

/* DATA (LEN bytes) is the blob D describes: its digest and size match. */
int oci_blob_check(const struct oci_descriptor *d, const char *data, size_t len, const char *where,
                   appc_error_t *err);
/* D, or the manifest of the index D for OS/ARCH (ARCH[/VARIANT] as
 * oci_platform_match reads it; NULL: linux and this machine's), through
 * nested indexes (at most 4 deep).  FROM says where D
 * was found ("DIR/index.json: manifests[0]"), for messages. */
int oci_resolve(struct oci_blobs *b, const struct oci_descriptor *d, const char *from,
                const char *os, const char *arch, struct oci_descriptor *out, appc_error_t *err);
/* This machine's architecture as OCI (GOARCH) spells it. */
const char *oci_host_arch(void);

/* ---- platform.c: appc's arch labels and OCI's platforms ---- */

/* An appc arch label as OCI spells it: GOARCH, and the variant (NULL when
 * OCI gives it none). */
struct oci_arch {
  const char *appc, *oci, *variant;
};
/* The OCI spelling of appc's arch label APPC; NULL when OCI has none. */
const struct oci_arch *oci_arch_of_appc(const char *appc);
/* appc's arch label for OCI's ARCH and VARIANT (may be NULL); ARCH itself
 * when appc has no name for it. */
const char *oci_appc_arch(const char *arch, const char *variant);
/* The same for a platform written "ARCH[/VARIANT]" ("arm/v6"), the form
 * appc_docker_ref's and the import options' arch take. */
const char *oci_appc_arch_of(const char *platform);
/* Longest GOARCH "ARCH[/VARIANT]" is split into (with its NUL). */
#define OCI_ARCH_MAX 32
/* "ARCH[/VARIANT]" into ARCH (SIZE bytes) and *VARIANT (NULL when there is
 * none; points into PLATFORM); -1 when ARCH does not fit. */
int oci_platform_split(const char *platform, char *arch, size_t size, const char **variant);
/* Whether an index entry of ARCH and VARIANT (either NULL when the entry
 * says none) serves WANT ("ARCH[/VARIANT]"): the same ARCH and, when WANT
 * names a variant, the same variant, arm without one being v7 and arm64's
 * v8 being none (containerd's platform matcher). */
bool oci_platform_match(const char *want, const char *arch, const char *variant);

/* ---- layout.c: an OCI image layout directory ---- */

struct oci_layout {
  struct oci_blobs blobs; /* first: a struct oci_blobs * is a struct oci_layout * */
  int dirfd;
  char *path; /* for messages */
};
int oci_layout_open(struct oci_layout *l, const char *path, appc_error_t *err);
void oci_layout_close(struct oci_layout *l);
/* Open the blob D points at, checking that it is a regular file of D's
 * size; the caller checks its digest as it reads (oci_read_blob does). */
int oci_layout_open_blob(struct oci_layout *l, const struct oci_descriptor *d, appc_error_t *err);
/* Read the blob D (at most OCI_JSON_MAX bytes) and check its digest. */
int oci_layout_read_blob(struct oci_layout *l, const struct oci_descriptor *d, char **out,
                         size_t *len, appc_error_t *err);
/* The manifest descriptor for REF in the layout's index.json (NULL REF: the
 * only image), resolved through nested indexes to OS/ARCH. */
int oci_layout_resolve(struct oci_layout *l, const char *ref, const char *os, const char *arch,
                       struct oci_descriptor *out, appc_error_t *err);

/* ---- image.c: parsing ---- */

/* The string JSON value OBJ (a json_object *) holds; NULL when it is no
 * string or holds a NUL, which C would cut it short at. */
const char *oci_json_string(const void *obj);
/* Parse descriptor JSON OBJ (a json_object *) found at WHERE. */
int oci_descriptor_parse(const void *obj, const char *where, struct oci_descriptor *out,
                         appc_error_t *err);
/* Parse an image index's manifests[] into descriptors. */
int oci_index_parse(const char *json, size_t len, const char *where, struct oci_descriptor **out,
                    size_t *n, appc_error_t *err);
/* Parse an image manifest (OCI, or Docker schema 2) into IMG's config and
 * layers; schema 1 is refused naming it. */
int oci_manifest_parse(const char *json, size_t len, const char *where, struct oci_image *img,
                       appc_error_t *err);
/* Parse an image config into IMG. */
int oci_config_parse(const char *json, size_t len, const char *where, struct oci_image *img,
                     appc_error_t *err);

/* The annotation of an imported image's top ACI that keeps the config's
 * Labels as they were, which the AC Identifiers made of their keys cannot
 * give back, for an export to restore (named as docker2aci names its
 * appc.io/docker/entrypoint and cmd, JSON texts too). */
#define OCI_LABELS_ANNOTATION "appc.io/docker/labels"
/* *OUT: LABELS as the text of a JSON object, in their order ("{}" when
 * there are none). */
int oci_labels_text(const struct appc_kv_list *labels, char **out, appc_error_t *err);
/* The labels TEXT (an OCI_LABELS_ANNOTATION's value) gives, appended to
 * OUT in its order: a JSON object of strings without NUL, of at most
 * OCI_JSON_MAX bytes; else an error naming WHERE and what is wrong, and
 * OUT cleared. */
int oci_labels_parse(const char *text, const char *where, struct appc_kv_list *out,
                     appc_error_t *err);

/* ---- blob.c: reading a layer ---- */

/* What a compressed layer or `docker save` archive may expand to: 1000
 * times its size, and 1 GiB besides.  Real layers expand a few times, and
 * gzip (deflate) cannot pass about 1030:1, so no gzip layer short of tens
 * of GiB of zeros is refused; zstd and xz can expand by millions, and a
 * few KiB must not fill the store's disk.  Fixed, as no format says more. */
#define OCI_EXPAND_RATIO 1000ull
#define OCI_EXPAND_FLOOR (1ull << 30)
/* (Saturated at ULLONG_MAX: a descriptor's size is the image's word.) */
unsigned long long oci_expand_max(unsigned long long packed);

/* What an image's layers may expand to together: oci_expand_max of the
 * bytes they came in, PACKED (each distinct blob counted once, or the
 * `docker save` archive's bytes), against every conversion of a layer.
 * A manifest may list one blob many times (Docker's empty layer is, and
 * containerd and containers/image apply each), but one small blob listed
 * 256 times must not make 256 times its bound on the store's disk. */
struct oci_expansion {
  unsigned long long packed;
  unsigned long long expanded; /* by the layers converted so far */
};

struct archive;
struct appc_gunzip;
struct appc_source;
/* The caller sets fd, what, cb, total and the two digests (appc_digest_new),
 * which oci_blob_clear frees. */
struct oci_blob {
  int fd;
  const char *what;             /* the layer's digest, for messages */
  struct appc_digest *packed;   /* of the bytes as stored */
  struct appc_digest *unpacked; /* of the tar */
  struct archive *raw;          /* the decompressing reader (zstd, none) */
  struct appc_source *src;      /* gzip: the blob, read through read_source */
  struct appc_gunzip *gz;       /* gzip: ISA-L's inflate, a few times zlib's speed */
  appc_error_t gz_err;          /* why gz failed, or the expansion bound passed */
  const struct appc_callbacks *cb;
  enum appc_progress_op op; /* what reading it is for, in progress reports */
  unsigned long long done, total;
  unsigned long long expanded; /* bytes decompressed so far: oci_expand_max(total) at most */
  struct oci_expansion *image; /* the image's layers' together, counted too; may be NULL */
  bool ours;                   /* a layer we just wrote (export): not bounded */
  int errnum;
  unsigned char head[64]; /* the first bytes, read to tell gzip from the rest */
  size_t head_len, head_given;
  char buf[128 * 1024];
  char *out; /* a raw reader's decompressed bytes (allocated at first use) */
};

/* Read the blob's first bytes and set up its decompression. */
int oci_blob_open(struct oci_blob *b, appc_error_t *err);
/* The same, and *TAR, a new libarchive tar reader, reads the decompressed
 * stream. */
int oci_blob_open_tar(struct oci_blob *b, struct archive **tar, appc_error_t *err);
/* The next decompressed bytes (libarchive's read callback: A unused);
 * 0 at the end, -1 on error (oci_blob_error says what). */
ssize_t oci_blob_read(struct archive *a, void *b, const void **out);
const char *oci_blob_error(const struct oci_blob *b, struct archive *a);
/* Stop the decompressor and hash the rest of the blob as stored. */
int oci_blob_drain(struct oci_blob *b, appc_error_t *err);
void oci_blob_clear(struct oci_blob *b);

/* ---- convert.c: layers to ACIs ---- */

/* The paths an image has after its layers so far, sorted, for the
 * pathWhitelist that carries the layers' whiteouts up the chain. */
struct oci_paths {
  char **v;
  size_t n, cap;   /* grown with APPC_ARRAY_RESERVE: a layer adds thousands */
  bool whited_out; /* a whiteout was met: the whitelist is needed */
  /* Set when layers were taken from the store rather than converted: adds
   * their entries to V, called (once) when a whiteout first needs them. */
  int (*fill)(struct oci_paths *p, void *data, appc_error_t *err);
  void *fill_data;
};
/* Add the rootfs entries of the ACI read from FD to P. */
int oci_paths_add_aci(struct oci_paths *p, int fd, const char *what, appc_error_t *err);
void oci_paths_clear(struct oci_paths *p);

/* What one layer becomes. */
struct oci_layer_aci {
  const char *name; /* the ACI's name */
  const struct appc_kv_list *labels;
  const struct appc_kv_list *annotations;
  const char *app_json; /* the app, as JSON, for the top layer; else NULL */
  const char *dep_name; /* the layer below, or NULL */
  const char *dep_id;
  int tmp_dirfd;                   /* where the ACI is written (the store's tmp/) */
  struct oci_expansion *expansion; /* the image's layers', which this one adds to; may be NULL */
};

/* Convert layer FD (described by D, diff_id DIFF_ID) into an ACI in
 * A->tmp_dirfd, updating PATHS; the ACI's descriptor in *ACI_FD (unnamed
 * file, read position at 0) and its image ID in IMAGE_ID. */
int oci_layer_convert(int fd, const struct oci_descriptor *d, const char *diff_id,
                      const struct oci_layer_aci *a, struct oci_paths *paths, int *aci_fd,
                      char image_id[APPC_IMAGE_ID_LEN + 1], const struct appc_callbacks *cb,
                      appc_error_t *err);

/* ---- reference.c: WWW-Authenticate ---- */

/* The first challenge of a WWW-Authenticate value: Bearer realm="...",
 * service="...", scope="..." or Basic realm="...". */
struct oci_challenge {
  char *scheme;
  char *realm, *service, *scope; /* NULL when absent */
};
void oci_challenge_clear(struct oci_challenge *c);
int oci_challenge_parse(const char *value, struct oci_challenge *out);

/* ---- import.c ---- */

/* An image to import, wherever it comes from. */
struct oci_source {
  struct oci_blobs *blobs;
  const struct oci_descriptor *manifest;  /* an image manifest, resolved from any index */
  const char *name;                       /* the ACI name, unless the options give one */
  const char *tag;                        /* the top ACI's version label; may be NULL */
  const struct appc_kv_list *annotations; /* the top ACI's besides the image's; may be NULL */
  /* the bytes the image came in (oci_expansion.packed); 0: its distinct
   * layers' sizes */
  unsigned long long packed;
};
/* Convert SRC into ACIs (one per layer) and import them, bottom first;
 * OUT receives the top one's record. */
int oci_import(struct appc_store *s, const struct oci_source *src,
               const struct appc_oci_import_options *opts, struct appc_store_image *out,
               appc_error_t *err);
/* appc_oci_import_layout, the image having come in PACKED bytes
 * (oci_source.packed). */
int oci_import_layout(struct appc_store *s, const char *dir, const char *ref,
                      unsigned long long packed, const struct appc_oci_import_options *opts,
                      struct appc_store_image *out, appc_error_t *err);

/* Whether TAG is a tag as distribution's grammar has them (1 to 128 of
 * [A-Za-z0-9_.-], not starting with '.' or '-'). */
bool oci_tag_ok(const char *tag);

/* ---- squash.c ---- */

/* An image an import added to the store, and the import time it was given:
 * another import that takes it meanwhile changes that time. */
struct oci_added {
  char id[APPC_IMAGE_ID_LEN + 1];
  struct timespec imported;
};

/* Remove the images ADDED (N, bottom first) that an import added, top
 * first, so that none is removed while another of them depends on it.  One
 * that another import has taken since (appc_store_claim, or imported it
 * again) stays, as does one that cannot be removed (logged). */
void oci_remove_added(struct appc_store *s, const struct oci_added *added, size_t n,
                      const struct appc_callbacks *cb);
/* Replace the layered image TOP (its record, updated) by one ACI of its
 * rendered tree with its manifest, less dependencies and pathWhitelist,
 * annotated appc.io/oci/squashed; then remove ADDED, the images the
 * import added (those another image had brought, or another import has
 * taken since, stay).  On failure nothing is removed. */
int oci_squash(struct appc_store *s, struct appc_store_image *top, const struct oci_added *added,
               size_t n_added, const struct appc_callbacks *cb, appc_error_t *err);

/* ---- what imports made (record.c) ---- */

#define OCI_RECORD_NAME_MAX 160 /* "KIND-" and a SHA-256 in hex */
/* Record in the store's cache/oci/ that image ID was made of what PARTS
 * (N strings, NULL as "") name; KIND says what they are ("layer": the
 * layer's ACI name, diff_id, the image below and the arch; "pull": see
 * oci_note_imported).  Only an import whose content matched its digests
 * writes one. */
int oci_record_put(struct appc_store *s, const char *kind, const char *const *parts, size_t n,
                   const char *id, appc_error_t *err);
/* The image the record of KIND and PARTS names, when there is one and the
 * store still has that image. */
bool oci_record_get(struct appc_store *s, const char *kind, const char *const *parts, size_t n,
                    char id[APPC_IMAGE_ID_LEN + 1]);

/* Record that image ID, with all its layers, was pulled as NAME (made an
 * ACI name) version TAG for ARCH from the manifest or index DIGEST,
 * squashed or not: what oci_find_imported looks for. */
int oci_note_imported(struct appc_store *s, const char *name, const char *tag, const char *arch,
                      const char *digest, bool squashed, const char *id, appc_error_t *err);
/* Whether the store has the image NAME (made an ACI name), version TAG,
 * for ARCH (OCI's spelling; NULL: this machine's), pulled from the
 * manifest or index DIGEST, squashed or not as SQUASHED says (as
 * oci_note_imported recorded it), with all its layers: then OUT receives
 * its record. */
int oci_find_imported(struct appc_store *s, const char *name, const char *tag, const char *arch,
                      const char *digest, bool squashed, struct appc_store_image *out);

/* Append NAME=VALUE to KV (nothing when VALUE is NULL). */
int oci_kv_add(struct appc_kv_list *kv, const char *name, const char *value, appc_error_t *err);

/* OPTS checked for its version, or the defaults when NULL; NULL with an
 * error for options from newer headers. */
const struct appc_oci_import_options *oci_options(const struct appc_oci_import_options *opts,
                                                  appc_error_t *err);

/* The ACI name an OCI/Docker reference gives: lower case, characters other
 * than [a-z0-9._/-] become '-'.  NULL when nothing is left. */
char *oci_aci_name(const char *s);

#endif
