/* SPDX-License-Identifier: Apache-2.0 */
/* The store's own state and helpers shared by store.c, index.c, import.c,
 * tree.c, gc.c and verify.c (the layout is described in docs/store.md). */
#ifndef APPC_STORE_PRIVATE_H
#define APPC_STORE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "store/internal.h"

#define STORE_BLOBS "blobs"
#define STORE_IMAGES "images"
#define STORE_TREES "trees"
#define STORE_TMP "tmp"

/* Files of an image record, images/<id>/ */
#define RECORD_INFO "info.json"
#define RECORD_MANIFEST "manifest"
#define RECORD_LASTUSE "lastuse"
#define RECORD_TREE "tree" /* the key of the image's last tree: a hint */

/* Files of a cached tree, trees/<key>/ */
#define TREE_ROOTFS "rootfs"
#define TREE_MANIFEST "manifest"
#define TREE_DIGEST "digest"
#define TREE_LAYERS "layers"
#define TREE_LOCK "lock"
/* The format of a tree and its digest, in its key and in trees/<key>/format
 * (docs/render.md).  2: content hashes by 64 KiB chunks, runs of zeros
 * counted (format 1 hashed every byte, so a hole of a terabyte took an
 * hour); trees of an older format are never used again, and gc removes
 * them. */
#define TREE_FORMAT "format"
#define TREE_FORMAT_NUM 2
#define TREE_FORMAT_LINE "actool-tree 2\n" /* of TREE_FORMAT_NUM */

/* A render reaching more layers than this is refused. */
#define STORE_MAX_LAYERS APPC_STORE_MAX_LAYERS

struct appc_store {
  char *path;
  int dirfd;
  int lock_fd;
  int blobs_fd, images_fd, trees_fd, tmp_fd;
  unsigned lock_depth; /* nesting of appc_store_lock */
  bool lock_exclusive; /* the outermost hold's kind */
  /* Removals asked for inside a shared hold (appc_store_remove_unclaimed):
   * done as the outermost hold ends (appc_store_unlock). */
  struct store_removal *deferred;
  size_t n_deferred;
  bool as_root;
  const struct appc_callbacks *cb; /* appc_store_set_callbacks; may be NULL */
  /* The names in tmp/ of the directories appc_store_tmpdir made: their
   * owners (this process) write below them by path. */
  char **own_tmpdirs;
  size_t n_own_tmpdirs;
};

struct store_removal {
  char id[APPC_IMAGE_ID_LEN + 1];
  struct timespec imported;
};

/* Hold the store's lock for a removal of what an import added
 * (appc_store_remove_unclaimed): exclusive when no other process holds it,
 * else shared rather than wait for that process; nested in an exclusive
 * hold as appc_store_lock. */
int appc_store_lock_removal(struct appc_store *s, appc_error_t *err);

/* Carry out the deferred removals, the store's lock held (exclusively
 * when it was free); what fails is logged (the store's callbacks) and
 * left. */
void appc_store_run_deferred(struct appc_store *s);

/* "KIND-PID-RANDOM" into BUF; -1 if it does not fit. */
/* "WHAT: no such image in the store[EXTRA]" with errnum ENOENT, without
 * the strerror text, which would only say it again.  Returns -1. */
int appc_store_no_such_image(appc_error_t *err, const char *what, const char *extra);
int appc_store_temp_name(char *buf, size_t size, const char *kind);
int appc_store_fsync_dir(int fd, const char *what, appc_error_t *err);
/* Write NAME in DIRFD atomically (temporary, fsync, rename, fsync dir). */
int appc_store_write_file(struct appc_store *s, int dirfd, const char *name, const void *data,
                          size_t len, appc_error_t *err);

/* appc_store_check_dest for BASE in the directory PARENT_FD (PATH, for
 * messages). */
int appc_store_check_dest_at(struct appc_store *s, int parent_fd, const char *base,
                             const char *path, appc_error_t *err);
/* Is ID a well-formed full image ID? */
bool appc_store_is_image_id(const char *id);
/* trees/NAME opened as a directory, never through a symlink: -1 and
 * errno (ELOOP or ENOTDIR for a tree that is not a directory: damage). */
int appc_store_tree_open(struct appc_store *s, const char *name);
/* The format trees/NAME's format file gives, 0 when it has none (format
 * 1 had none) or it cannot be read. */
int appc_store_tree_format(struct appc_store *s, const char *name);
/* Is trees/NAME of the current format (TREE_FORMAT_LINE)? */
bool appc_store_tree_current(struct appc_store *s, const char *name);
/* Is NAME the key the current format gives the layers trees/NAME lists?
 * Then the tree is used as it is, whatever its format file says. */
bool appc_store_tree_key_current(struct appc_store *s, const char *name);
/* Read an image's record (images/<id>/info.json and lastuse). */
int appc_store_read_record(struct appc_store *s, const char *id, struct appc_store_image *out,
                           appc_error_t *err);
/* images/ID opened and locked (flock LOCK_EX), and still in place once
 * locked: claims, imports finding the image and removals of what an import
 * added take turns on it (appc_store_remove_unclaimed).  -1 and errno,
 * ENOENT when the image is not (or no longer) in the store. */
int appc_store_lock_record(struct appc_store *s, const char *id);
/* images/ itself locked (flock), shared by an import installing an image
 * that has no record, exclusive by a removal of what an import added
 * (appc_store_remove_unclaimed), from the rename of the record to the
 * unlink of the blob: that removal may run under a shared hold of the
 * store's lock (beside another process's), where such an import can
 * start, and the record's own lock cannot keep it out once the record is
 * renamed away.  Never taken while waiting for a record's lock. */
int appc_store_lock_images(struct appc_store *s, bool exclusive, appc_error_t *err);
void appc_store_unlock_images(struct appc_store *s);
/* Record a use of the image now (lastuse mtime); failures are ignored. */
void appc_store_touch(struct appc_store *s, const char *id);
/* An image imported again: its record's import time is now (as rkt's, so
 * that "the newest import wins" among images of one name sees it). */
int appc_store_record_reimported(struct appc_store *s, const char *id, appc_error_t *err);
/* An image imported again, its record RECFD locked (appc_store_lock_record):
 * its info written anew from IMG (the import time now), and its manifest
 * rewritten if it is not MANIFEST's bytes, so that a damaged record (image
 * verify) is repaired by fetching the image again. */
int appc_store_record_refresh(struct appc_store *s, int recfd, const struct appc_store_image *img,
                              const char *manifest, size_t manifest_len, appc_error_t *err);
/* Write the record of a newly imported image into the directory DIRFD. */
int appc_store_write_record(struct appc_store *s, int dirfd, const struct appc_store_image *img,
                            const char *manifest, size_t manifest_len, appc_error_t *err);

/* Path of an image's blob relative to blobs_fd is the image ID itself. */

/* The blob of image ID open for reading: never through a symlink, nor
 * waiting for a FIFO's writer (O_NOFOLLOW, O_NONBLOCK until it is known
 * to be a regular file).  -1 and an error naming its path: errnum ENOENT
 * when there is none; a blob that is a symlink or not a regular file is
 * damage, and said so, ADVICE (STORE_REPAIR, or "") after. */
int appc_store_blob_open(struct appc_store *s, const char *id, const char *advice,
                         appc_error_t *err);

#endif
