/* SPDX-License-Identifier: Apache-2.0 */
/* libappc image store: a content-addressed SHA-512 store of ACIs, an index of
 * the images in it, and a cache of rendered root filesystems.
 *
 * The on-disk format is documented in docs/store.md.  Every function takes
 * the store's own locks (flock) as it needs them, so any number of processes
 * may use one store at once; nothing here prints or exits.
 */
#ifndef APPC_STORE_H
#define APPC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <appc/aci.h>
#include <appc/callbacks.h>
#include <appc/error.h>
#include <appc/schema.h>

/* Declarations here are libappc's exported ABI (libappc.sym). */
#pragma GCC visibility push(default)
#ifdef __cplusplus
extern "C" {
#endif

/* Version of the on-disk format written by this release (docs/store.md).
 * 2: rendered trees of format 2 (content hashes that count runs of zeros);
 * a store of format 1 is taken as it is, its trees left for gc. */
#define APPC_STORE_FORMAT 2

struct appc_store;

/* Open the store at DIR, creating it (mode 0700 for a new top directory) if
 * it does not exist.  A store written by a newer release is refused, and so
 * is an empty DIR (EINVAL), which would make a store of the current one. */
int appc_store_open(struct appc_store **out, const char *dir, appc_error_t *err);
/* As appc_store_open, with CB set at once (appc_store_set_callbacks): the
 * opening takes the store's lock too, and CB's notice then says when that
 * waits for another process (gc, which holds it exclusive). */
int appc_store_open_with(struct appc_store **out, const char *dir, const struct appc_callbacks *cb,
                         appc_error_t *err);
void appc_store_close(struct appc_store *s);
const char *appc_store_path(const struct appc_store *s);

/* Areas of the store directory whose contents another module owns
 * (docs/store.md's layout): the store hands them out, so that no module
 * builds paths inside the store itself. */
enum appc_store_area {
  APPC_STORE_AREA_PODS,        /* pods/: the executor's pod directories and its HMAC key */
  APPC_STORE_AREA_HTTP_CACHE,  /* cache/http/: what each URL last gave (fetch) */
  APPC_STORE_AREA_AUTH,        /* auth.d/: credentials per host (discovery) */
  APPC_STORE_AREA_TMP,         /* tmp/: temporaries of every module; gc removes old ones */
  APPC_STORE_AREA_TRUST,       /* trust/: the keys trusted to sign images (docs/trust.md) */
  APPC_STORE_AREA_BUILD_CACHE, /* cache/build/: Containerfile steps to image IDs */
  APPC_STORE_AREA_NET,         /* net/: the executor's default network (leases) */
  APPC_STORE_AREA_OCI_CACHE,   /* cache/oci/: OCI layers and manifests to the images made of them */
};
/* AREA's directory relative to the store's ("pods", "cache/http", ...), for
 * callers that hold the store's path but must not open (create) it; NULL
 * (errno EINVAL) for a number that is no area. */
const char *appc_store_area_name(enum appc_store_area area);
/* Open AREA as a directory descriptor (O_CLOEXEC), creating it and its
 * parents (mode 0700) when CREATE.  Without CREATE, a missing area gives -1 with errno ENOENT
 * and no error object: nothing is there yet.  A number that is no area is
 * refused (EINVAL). */
int appc_store_area_open(struct appc_store *s, enum appc_store_area area, bool create,
                         appc_error_t *err);
/* AREA's path, for messages and for files named by path ("DIR/pods"),
 * malloc'ed; NULL when out of memory, or (errno EINVAL) for a number that
 * is no area. */
char *appc_store_area_path(const struct appc_store *s, enum appc_store_area area);

/* Hold the store's lock (DIR/lock, flock): shared by every operation,
 * exclusive by gc and image removal, so that gc never removes what a
 * holder is using (its temporaries in tmp/ among them).  Nested holds in
 * one process share the one lock; each lock is matched by an unlock.  An
 * exclusive hold cannot be nested in a shared one (EDEADLK): that would
 * exclude no one. */
int appc_store_lock(struct appc_store *s, bool exclusive, appc_error_t *err);
void appc_store_unlock(struct appc_store *s);

/* A new private directory (mode 0700) in tmp/, PREFIX-XXXXXX, for what
 * must be given a path (gpg's home directory): its path in *OUT,
 * malloc'ed.  Remove it (appc_remove_tree on the tmp/ area) before
 * dropping the store's lock; gc removes what a killed process left. */
int appc_store_tmpdir(struct appc_store *s, const char *prefix, char **out, appc_error_t *err);

/* May the caller write PATH, a file or directory it was given (a
 * render's DEST, an export's OUT)?  An error naming PATH and the store if
 * PATH's directory is the store's directory or below it, if PATH is a
 * directory (or a symlink to one) in the store, or if PATH is a directory
 * holding the store: nothing but the store writes in its directory.
 * Directories are compared by device and inode, climbing "..", so that a
 * symlink or a bind mount of the store (or of a directory at its top) is
 * seen through; the climb goes through the store's own mount (by file
 * handle, where the caller may open by handle), so that a bind mount of a
 * deeper directory is too.  A PATH whose directory does not exist passes, and so does
 * one below a directory that appc_store_tmpdir made for the caller. */
int appc_store_check_dest(struct appc_store *s, const char *path, appc_error_t *err);

/* Call FN for each entry of DIRFD but "." and ".." (WHAT names the directory
 * in messages, relative to the store), stopping at the first that returns
 * non-zero. */
typedef int (*appc_store_entry_fn)(const char *name, void *data, appc_error_t *err);
int appc_store_each_entry(struct appc_store *s, int dirfd, const char *what, appc_store_entry_fn fn,
                          void *data, appc_error_t *err);

/* Remove the directory NAME in DIR_FD and everything below it, never
 * following a symlink.  A missing NAME is not an error.  NAME must be a
 * single path component: intermediate directories would be resolved
 * through symlinks. */
int appc_remove_tree(int dir_fd, const char *name, appc_error_t *err);

/* One image of the index. */
struct appc_store_image {
  char id[APPC_IMAGE_ID_LEN + 1];
  char *name;
  struct appc_kv_list labels;   /* as in the manifest */
  unsigned long long size;      /* bytes of the uncompressed tar */
  unsigned long long blob_size; /* bytes stored (the ACI as imported) */
  struct timespec import_time;
  struct timespec last_use; /* last render, extract or export */
  void *reserved[4];        /* zero; taken by members of later releases (<appc/appc.h>) */
};
void appc_store_image_clear(struct appc_store_image *img);
void appc_store_images_free(struct appc_store_image *imgs, size_t n);

#define APPC_STORE_IMPORT_OPTIONS_VERSION 1
struct appc_store_import_options {
  unsigned version;                /* 0, or APPC_STORE_IMPORT_OPTIONS_VERSION (<appc/appc.h>) */
  const struct appc_callbacks *cb; /* cancel (checked between entries); may be NULL */
};

/* Import the ACI at PATH: one streaming pass decompresses, hashes and
 * validates it (archive rules plus the store's safety rules) while its bytes
 * are written under a temporary name; the blob is then fsynced and renamed
 * into place and the image indexed.  Importing an image that is already
 * present changes nothing and sets *already (which may be NULL).  OUT, which
 * may be NULL, receives the image's index record. */
int appc_store_import(struct appc_store *s, const char *path,
                      const struct appc_store_import_options *opts, struct appc_store_image *out,
                      bool *already, appc_error_t *err);
/* The same from SRC (<appc/aci.h>): a descriptor, memory or a callback. */
int appc_store_import_source(struct appc_store *s, struct appc_source *src,
                             const struct appc_store_import_options *opts,
                             struct appc_store_image *out, bool *already, appc_error_t *err);

/* A problem found in the store: one line naming the object and the rule
 * broken. */
typedef void (*appc_store_problem_fn)(const char *msg, void *data);

/* Every indexed image, sorted by import time (oldest first).  A record that
 * cannot be read (damaged info.json, unreadable directory) is passed to
 * PROBLEM (which may be NULL), naming its path, and left out; the others are
 * still listed. */
int appc_store_list(struct appc_store *s, appc_store_problem_fn problem, void *data,
                    struct appc_store_image **out, size_t *n, appc_error_t *err);

/* Find the image that SPEC names: a full image ID, a unique prefix of one of
 * at least "sha512-" and 12 hex digits, or NAME[,LABEL=VALUE...] (the newest
 * import wins when labels leave a choice). */
int appc_store_lookup(struct appc_store *s, const char *spec, struct appc_store_image *out,
                      appc_error_t *err);
/* The same for an already parsed name and labels (dependency resolution). */
int appc_store_find(struct appc_store *s, const char *name, const struct appc_kv_list *labels,
                    struct appc_store_image *out, appc_error_t *err);

/* The manifest stored with an image, parsed. */
int appc_store_load_manifest(struct appc_store *s, const char *id, struct appc_image_manifest **out,
                             appc_error_t *err);

/* The manifest bytes exactly as stored in the image ID's ACI. */
int appc_store_read_manifest(struct appc_store *s, const char *id, char **json, size_t *len,
                             appc_error_t *err);

/* Remove an image from the index, then its blob.  Rendered trees made from
 * it are left to appc_store_gc (a running pod may still use one). */
int appc_store_remove(struct appc_store *s, const char *id, appc_error_t *err);

/* An image that an import finds in the store already, taken by that import
 * as its own: its record's import time becomes now, as when the same ACI
 * is imported again, so that another import removing what it added keeps
 * it (appc_store_remove_unclaimed).  OUT, unless NULL, receives the record.
 * An image no longer in the store is an error with errnum ENOENT. */
int appc_store_claim(struct appc_store *s, const char *id, struct appc_store_image *out,
                     appc_error_t *err);

/* Remove ID, which an import added with the import time IMPORTED and no
 * longer needs, unless another import has taken it since (imported it
 * again or claimed it): then *KEPT is true and the image stays.  An image
 * no longer in the store is no error.  It is done under the exclusive lock
 * when no other process holds the lock, else under a shared one rather
 * than waiting for that process.  Inside a shared hold of the store's
 * lock the removal is done as the outermost hold ends (appc_store_unlock;
 * what is kept or fails then goes to the store's log callback) and *KEPT
 * is false. */
int appc_store_remove_unclaimed(struct appc_store *s, const char *id,
                                const struct timespec *imported, bool *kept, appc_error_t *err);

/* Tell CB's log why ID, which appc_store_remove_unclaimed was to remove,
 * is still in the store: *ERR, the removal's error (released here), or
 * KEPT; nothing when it went (*ERR NULL, KEPT false).  For a caller that
 * goes on whatever came of the removal (an import cleaning up after
 * itself), so that every such removal is told alike. */
void appc_store_log_unremoved(const struct appc_callbacks *cb, const char *id, bool kept,
                              appc_error_t *err);

/* Write the image's ACI to OUT (temporary name, fsync, rename): the bytes
 * imported, so the image ID is the same.  An existing OUT, unless
 * OVERWRITE, is an error with errnum EEXIST. */
int appc_store_export(struct appc_store *s, const char *id, const char *out, bool overwrite,
                      appc_error_t *err);

/* The same to the descriptor FD (a pipe, standard output), named NAME in
 * messages: the bytes go out as they are read and the image ID is checked
 * at the end, so a damaged blob is an error after its bytes went out (a
 * reader must take the status into account, as with any stream). */
int appc_store_export_fd(struct appc_store *s, const char *id, int fd, const char *name,
                         appc_error_t *err);

/* A descriptor reading the image's ACI as imported (close it).  The blob
 * is never rewritten: a later removal leaves the descriptor readable. */
int appc_store_open_blob(struct appc_store *s, const char *id, appc_error_t *err);

enum {
  APPC_STORE_ROOTFS_ONLY = 1 << 0, /* DEST receives the rootfs contents only */
  APPC_STORE_OVERWRITE = 1 << 1,   /* replace an existing DEST */
};
#define APPC_STORE_RENDER_OPTIONS_VERSION 2
struct appc_store_render_options {
  /* 0, or APPC_STORE_RENDER_OPTIONS_VERSION (<appc/appc.h>) */
  unsigned version;
  unsigned flags;                  /* APPC_STORE_* */
  const struct appc_callbacks *cb; /* cancel; may be NULL */
  /* (version 2; appc_store_tree_acquire only) With ID_COUNT > 0, the
   * tree's owners shifted as a user namespace mapping 0..ID_COUNT-1 to
   * ID_BASE.. sees them (ids outside: 65534): a copy of the cached tree,
   * itself cached as trees/KEY-BASE-COUNT, for kernels or file systems
   * without idmapped mounts (docs/store.md). */
  uint32_t id_base, id_count;
};

/* The most layers (the image and its dependencies, each time it is
 * reached) a render takes: a dependency graph with many shared diamonds
 * grows exponentially.  Fetching follows dependencies as deep. */
#define APPC_STORE_MAX_LAYERS 256

/* Render the image with its dependencies and pathWhitelists (ACE
 * "Filesystem Setup") into DEST.  The first render of an image's layers
 * writes DEST straight from them; the second builds the cached tree and
 * copies it, later ones copy it (docs/store.md).  DEST appears only
 * when complete; without APPC_STORE_OVERWRITE an existing DEST is an error
 * (errnum EEXIST).
 * Without APPC_STORE_ROOTFS_ONLY, DEST holds `manifest` and `rootfs/`. */
int appc_store_render(struct appc_store *s, const char *id, const char *dest,
                      const struct appc_store_render_options *opts, appc_error_t *err);

/* Extract the image alone (no dependencies, no pathWhitelist) into DEST. */
int appc_store_extract(struct appc_store *s, const char *id, const char *dest,
                       const struct appc_store_render_options *opts, appc_error_t *err);

/* A cached rendered tree held for use: gc will not remove it until it is
 * released.  rootfs is the absolute path of the rendered root filesystem,
 * which the holder must not modify (an executor mounts an overlay on it). */
struct appc_store_tree {
  char *path;   /* the tree's directory */
  char *rootfs; /* path/rootfs */
  char image_id[APPC_IMAGE_ID_LEN + 1];
  int lock_fd;
};
int appc_store_tree_acquire(struct appc_store *s, const char *id,
                            const struct appc_store_render_options *opts,
                            struct appc_store_tree **out, appc_error_t *err);
void appc_store_tree_release(struct appc_store_tree *t);

struct appc_store_gc_report {
  unsigned long long blobs, trees, temporaries; /* entries removed */
  unsigned long long bytes;                     /* their size: the blobs', and the regular
                                                   files' of the trees and temporaries */
  unsigned long long trees_in_use;              /* kept because held */
  void *reserved[4]; /* zero; taken by members of later releases (<appc/appc.h>) */
};
/* Remove blobs without an index entry, rendered trees whose images are gone
 * or that were not used within GRACE seconds (never one that is held), and
 * temporaries left by interrupted processes. */
int appc_store_gc(struct appc_store *s, double grace_seconds, struct appc_store_gc_report *report,
                  appc_error_t *err);

/* Callbacks for the operations that take no options of their own
 * (appc_store_verify: progress of each blob read, cancelling between
 * them; appc_store_export: progress of the copy, cancelling it), and the
 * notice of every operation that waits for a lock another process holds
 * on the store or one of its images ("waiting for the store's lock
 * (DIR/lock), held by process 1234 (actool)"); CB must outlive its use,
 * NULL for none. */
void appc_store_set_callbacks(struct appc_store *s, const struct appc_callbacks *cb);

/* Check the images named by IDS (all when N is 0) and every rendered tree
 * made from them: index records readable, blobs present and hashing to their
 * IDs, stored manifests equal to the blobs', tree digests unchanged.  Each
 * problem found is passed to PROBLEM (one line, naming the object and the
 * rule broken); *damaged counts them.  Returns -1 only when the check itself
 * could not run. */
int appc_store_verify(struct appc_store *s, const char *const *ids, size_t n,
                      appc_store_problem_fn problem, void *data, unsigned long long *damaged,
                      appc_error_t *err);

#ifdef __cplusplus
}
#endif
#pragma GCC visibility pop

#endif
