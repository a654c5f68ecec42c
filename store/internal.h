/* SPDX-License-Identifier: Apache-2.0 */
/* Internal plumbing of the store module, shared by its translation units but
 * not part of the public API in <appc/store.h>. */
#ifndef APPC_STORE_INTERNAL_H
#define APPC_STORE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>
#include <openssl/evp.h>

#include "aci/stream.h"
#include "common/contenthash.h"
#include "appc/error.h"
#include "appc/store.h"

/* Whether to abandon a long operation (struct appc_callbacks' cancelled). */
typedef bool (*appc_cancel_fn)(void *data);

/* What to do about damage found in an image's blob, after the message
 * naming it. */
#define STORE_REPAIR                                                                               \
  " (see image verify; fetching the image again repairs it: its file, or its name or URL "         \
  "bypassing the HTTP cache)"

/* Tree digests: see store/treedigest.c below. */
#define APPC_TREE_DIGEST_PREFIX "sha256-"
#define APPC_TREE_DIGEST_LEN (sizeof(APPC_TREE_DIGEST_PREFIX) - 1 + 64)

/* ---- pathWhitelist (store/whitelist.c) ---- */

/* One image's pathWhitelist, as paths relative to the rootfs: "/bin/sh" is
 * held as "bin/sh".  A non-directory entry passes when its path is listed; a
 * directory passes when it is listed or is an ancestor of a listed path (the
 * directories a listed file needs in order to exist).  Trailing slashes and
 * "." components in the manifest's paths are ignored.  An empty list allows
 * everything (the spec: an empty pathWhitelist is equivalent to an absent one). */
struct appc_whitelist {
  struct appc_strset paths;
  struct appc_strset ancestors;
};
int appc_whitelist_init(struct appc_whitelist *wl, const struct appc_string_list *paths,
                        appc_error_t *err);
bool appc_whitelist_allows(const struct appc_whitelist *wl, const char *path, bool is_dir);
void appc_whitelist_clear(struct appc_whitelist *wl);

/* ---- rendering layers into a directory (store/render.c) ---- */

/* One pass over one image's ACI.  FILTERS are every pathWhitelist that
 * applies to it: its own and those of the images depending on it along the
 * branch of the dependency graph by which it was reached; an entry is
 * extracted only if every filter allows it. */
struct appc_render_layer {
  const char *path; /* the ACI (a store blob), any compression */
  const struct appc_whitelist *const *filters;
  size_t n_filters;
  /* When not NULL, the image ID the uncompressed tar must hash to (a store
   * blob's): it is hashed as it is read, and a mismatch fails the layer
   * (whatever it wrote stays for the caller to drop). */
  const char *image_id;
};

struct appc_render_options {
  bool as_root;             /* chown entries to their numeric owners and create device
                               nodes; otherwise files belong to the caller and device
                               nodes are skipped */
  appc_cancel_fn cancelled; /* may be NULL; checked between entries */
  void *cancel_data;
  const struct appc_callbacks *cb; /* progress of the layers read; may be NULL */
  bool no_digest;                  /* no tree digest wanted (a DEST, not a cached tree): the
                                      content is not hashed, appc_render_finish takes NULL */
};

/* A render applies layers from the top image down (the reverse of the ACE
 * override order), so the first layer to provide a path wins and nothing is
 * ever overwritten: a path whose parent an upper layer made a non-directory
 * is skipped, exactly as if it had been written first and then replaced.
 * ROOTFS_FD is an empty directory that becomes the rendered rootfs; nothing
 * is ever created outside it (no path is followed through a symlink). */
struct appc_render;
int appc_render_new(struct appc_render **out, int rootfs_fd, const struct appc_render_options *opts,
                    appc_error_t *err);
int appc_render_layer(struct appc_render *r, const struct appc_render_layer *layer,
                      appc_error_t *err);
/* Set the directories' timestamps (last, since filling a directory changes
 * them) and compute the tree digest of the result (unless no_digest, when
 * DIGEST is not written). */
int appc_render_finish(struct appc_render *r, char digest[APPC_TREE_DIGEST_LEN + 1],
                       appc_error_t *err);
void appc_render_free(struct appc_render *r);

/* ---- tree digests (store/treedigest.c) ---- */

/* A digest of a rendered tree: "sha256-" and 64 hex digits over a canonical
 * listing of every entry below the directory (docs/render.md gives the
 * exact definition): path, type, mode, owner, size, modification time,
 * symlink target, device number, extended attributes and the content hash of
 * each regular file (common/contenthash.h). */

/* Content hashes already known by (st_dev, st_ino), so that the digest of a
 * tree just written need not read it back. */
struct appc_content_hashes;
int appc_content_hashes_new(struct appc_content_hashes **out, appc_error_t *err);
int appc_content_hashes_put(struct appc_content_hashes *h, dev_t dev, ino_t ino,
                            const unsigned char sha256[32], appc_error_t *err);
void appc_content_hashes_free(struct appc_content_hashes *h);

/* Digest of the tree below DIR_FD; KNOWN may be NULL (every file is read);
 * CB (may be NULL) cancels it. */
int appc_tree_digest(int dir_fd, const struct appc_content_hashes *known,
                     const struct appc_callbacks *cb, char digest[APPC_TREE_DIGEST_LEN + 1],
                     appc_error_t *err);

/* Open the directory PATH (relative, canonical) below DIR_FD for reading,
 * following no symlink and never leaving DIR_FD: openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, or, where
 * openat2 is missing (Linux < 5.6, valgrind), one O_NOFOLLOW open per
 * component with "..", "." and empty components refused.  *NO_OPENAT2
 * (false at first) remembers that openat2 is missing.  Returns the
 * descriptor, or -1 with errno set.  (store/render.c) */
int appc_open_beneath(int dir_fd, const char *path, bool *no_openat2);

/* ---- copying trees (store/treecopy.c) ---- */

struct appc_copy_options {
  bool as_root; /* keep owners and recreate device nodes */
  /* As root, with SHIFT_COUNT > 0: ids below SHIFT_COUNT become
   * SHIFT_BASE + id, the others the overflow id 65534 (nobody), as a
   * user namespace of that range maps them. */
  uint32_t shift_base, shift_count;
  appc_cancel_fn cancelled;
  void *cancel_data;
};
/* Copy everything below SRC_FD into DST_FD, an empty directory: types,
 * modes, owners (as root), timestamps, extended attributes, hard links
 * (within the tree) and device nodes (as root).  SRC_FD's own metadata is
 * applied to DST_FD too.  File data is copied inside the kernel. */
int appc_tree_copy(int src_fd, int dst_fd, const struct appc_copy_options *opts, appc_error_t *err);

#endif
