/* SPDX-License-Identifier: Apache-2.0 */
/* libappc ACI archives: reading and validating ACIs and image layouts,
 * computing image IDs, building and rewriting ACIs.
 *
 * An image ID is "sha512-" followed by the 128 hex digits of the SHA-512 of
 * the uncompressed tar stream.  Readers detect the compression (none, gzip,
 * bzip2, xz) from the content, never from the file name, and hash, decompress
 * and validate in a single streaming pass.
 */
#ifndef APPC_ACI_H
#define APPC_ACI_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <appc/callbacks.h>
#include <appc/error.h>
#include <appc/schema.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

#define APPC_IMAGE_ID_PREFIX "sha512-"
#define APPC_IMAGE_ID_LEN (sizeof(APPC_IMAGE_ID_PREFIX) - 1 + 128)

enum appc_compression {
  APPC_COMPRESSION_NONE = 0,
  APPC_COMPRESSION_GZIP,
  APPC_COMPRESSION_BZIP2,
  APPC_COMPRESSION_XZ,
};

/* Parse "gzip", "bzip2", "xz", "none"; returns -1 (no error object) if unknown. */
int appc_compression_from_string(const char *s, enum appc_compression *out);
const char *appc_compression_name(enum appc_compression c);
/* Classify a file by its first bytes (512 are enough): gzip, bzip2 or xz by
 * their magic numbers, an uncompressed tar by its first header (any tar
 * format: "ustar" magic or a right checksum).  Returns -1 (no error object)
 * when none matches. */
int appc_compression_detect(const void *head, size_t len, enum appc_compression *out);

/* ---- where an ACI's bytes come from ----
 *
 * The readers below take a file name, or a source: a descriptor, memory or
 * a read callback (as libarchive's readers do), so that a program holding
 * an image's bytes (a download, a socket, a fuzzer) need not write them to
 * a file first.  A source is read once, from its current position to its
 * end, by one reader; NAME (copied; NULL for a default such as "fd 3" or
 * "memory") prefixes the messages about it. */
struct appc_source;

/* Read up to LEN bytes into BUF; return how many (0 at the end), or -1 with
 * errno set. */
typedef ssize_t (*appc_read_fn)(void *data, void *buf, size_t len);

int appc_source_open_path(struct appc_source **out, const char *path, appc_error_t *err);
/* FD stays the caller's: freeing the source does not close it. */
int appc_source_open_fd(struct appc_source **out, int fd, const char *name, appc_error_t *err);
/* BUF must stay valid until the source is freed. */
int appc_source_open_memory(struct appc_source **out, const void *buf, size_t len, const char *name,
                            appc_error_t *err);
int appc_source_open_callback(struct appc_source **out, appc_read_fn read, void *data,
                              const char *name, appc_error_t *err);
const char *appc_source_name(const struct appc_source *src);
void appc_source_free(struct appc_source *src);
static inline void appc_source_freep(struct appc_source **src)
{
  appc_source_free(*src);
}
#define cleanup_source __attribute__((cleanup(appc_source_freep)))

/* What a full validation pass over an ACI learned. */
struct appc_aci_info {
  char image_id[APPC_IMAGE_ID_LEN + 1];
  enum appc_compression compression;
  char *manifest_json; /* the manifest's bytes exactly as stored */
  size_t manifest_len;
  struct appc_image_manifest *manifest; /* parsed and valid */
  unsigned long long uncompressed_size; /* bytes of tar */
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_aci_info_clear(struct appc_aci_info *info);

/* Read the whole ACI at PATH in one pass: detect compression, hash the tar
 * stream, enforce the archive rules (exactly one top-level regular file
 * `manifest` and directory `rootfs`, every other entry under rootfs/, no
 * duplicate entries, no absolute or `..` paths, a valid manifest).  Errors
 * are prefixed with PATH. */
int appc_aci_validate(const char *path, struct appc_aci_info *info, appc_error_t *err);

/* Read only as far as the manifest (fast path for cat-manifest): returns the
 * manifest bytes exactly as stored, without validating them. */
int appc_aci_read_manifest(const char *path, char **json, size_t *len, appc_error_t *err);

/* The same two readers on a source; errors are prefixed with its name.
 * CB (may be NULL) can cancel the validation between entries. */
int appc_aci_validate_source(struct appc_source *src, const struct appc_callbacks *cb,
                             struct appc_aci_info *info, appc_error_t *err);
int appc_aci_read_manifest_source(struct appc_source *src, char **json, size_t *len,
                                  appc_error_t *err);
/* appc_aci_read_manifest_source for an archive not trusted yet: it fails
 * once more than MAX_BEFORE bytes of other entries (headers and data, each
 * decompressed to be skipped) come before the manifest, and when CB (may be
 * NULL) cancels. */
int appc_aci_read_manifest_bounded(struct appc_source *src, uint64_t max_before,
                                   const struct appc_callbacks *cb, char **json, size_t *len,
                                   appc_error_t *err);

/* Validate an image layout: a directory holding a regular file `manifest`
 * (a valid ImageManifest) and a directory `rootfs`, and nothing else.
 * *manifest may be NULL if the caller does not need it.  Takes the
 * layout's lock shared (<appc/layout.h>), waiting for an edit under way. */
int appc_layout_validate(const char *dir, struct appc_image_manifest **manifest, appc_error_t *err);

#define APPC_BUILD_OPTIONS_VERSION 1
struct appc_build_options {
  unsigned version;                  /* 0, or APPC_BUILD_OPTIONS_VERSION (<appc/appc.h>) */
  enum appc_compression compression; /* zero-initialised: none (NULL opts: gzip) */
  bool overwrite;                    /* replace an existing OUT (else EEXIST) */
  bool owner_root;                   /* force uid/gid 0, named root/root */
  unsigned threads;                  /* compression threads; 0 = online CPUs */
  const struct appc_callbacks *cb;   /* cancel, checked between entries; may be NULL */
  /* Called with the full path of a named temporary output file when one has
   * to be created (file systems without O_TMPFILE, or for an instant when
   * replacing OUT), and with NULL once that name is gone, so that a signal
   * handler in the caller can unlink it.  May be NULL. */
  void (*temp_notify)(const char *tmp_path, void *data);
  void *temp_notify_data;
};

/* Build LAYOUT into an ACI at OUT.  The manifest is validated first.  Output
 * is reproducible (sorted entries, no build time anywhere) and is written to a
 * temporary file in OUT's directory, fsynced and renamed, so a failure never
 * leaves a partial OUT.  image_id receives the new image's ID.  OPTS may be
 * NULL for the defaults (gzip, all CPUs, no overwrite).  The layout's lock
 * (<appc/layout.h>) is held shared throughout, so an edit under way (a
 * layout copy, a layout run) is waited for, never packed half done. */
int appc_aci_build(const char *layout, const char *out, const struct appc_build_options *opts,
                   char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);

/* Copy the ACI at IN to OUT with its manifest replaced by MANIFEST (which
 * must already be valid), streaming rootfs entries through without
 * unpacking them.  IN and OUT may be the same path (--replace): the result
 * is renamed into place only on success. */
int appc_aci_rewrite_manifest(const char *in, const char *out, const char *manifest,
                              size_t manifest_len, const struct appc_build_options *opts,
                              char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);

/* Make the new manifest from IN's (JSON, LEN bytes exactly as stored): set
 * *OUT (malloc'd, a valid manifest) and *OUT_LEN, or return -1 with ERR. */
typedef int (*appc_manifest_edit_fn)(void *data, const char *json, size_t len, char **out,
                                     size_t *out_len, appc_error_t *err);
/* appc_aci_rewrite_manifest with the new manifest made by EDIT from IN's
 * own when the copy reaches it: IN is read once, so it may be a pipe.
 * EDIT's errors are prefixed with IN, as the copy's are. */
int appc_aci_rewrite_manifest_edit(const char *in, const char *out, appc_manifest_edit_fn edit,
                                   void *data, const struct appc_build_options *opts,
                                   char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
