/* SPDX-License-Identifier: Apache-2.0 */
/* Rendering layers into a directory (ACE "Filesystem Setup").
 *
 * Layers arrive top image first, so "the later layer overwrites" becomes
 * "the first layer to provide a path wins": a map of every path created so
 * far (the seen map) decides what each entry may still do, and nothing on
 * disk is ever replaced.  docs/render.md describes the rules; the comments
 * here say how they are enforced.
 *
 * Safety rests on three things.  Entry names are canonicalised and refused
 * when absolute or climbing.  Every parent directory is opened with openat2
 * (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) relative to the rootfs, and
 * entries are created relative to that descriptor with calls that never
 * follow a final symlink (O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat,
 * mknodat, linkat without AT_SYMLINK_FOLLOW).  And the seen map is
 * prefix-closed: a path is only recorded once its parent exists as a
 * directory we made, so an entry below something an upper layer made a file
 * or symlink is recognised by a map lookup and skipped. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/macros.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "store/internal.h"

#define NO_INDEX UINT32_MAX
#define IMPLICIT_DIR_MODE 0755

/* ---- a map from paths to indexes in an array (common/hashmap) ---- */

struct index_entry {
  const char *key; /* owned by the array element */
  uint32_t idx;
};

struct path_index {
  struct appc_hashmap map; /* of struct index_entry; zeroed: not yet used */
};

struct path_key {
  const char *s;
  size_t len;
};

static bool index_eq(const void *entry, const void *key)
{
  const struct index_entry *e = entry;
  const struct path_key *k = key;
  return strncmp(e->key, k->s, k->len) == 0 && e->key[k->len] == '\0';
}

/* The index recorded for the first LEN bytes of KEY, or NO_INDEX. */
static uint32_t index_find(const struct path_index *ix, const char *key, size_t len)
{
  const struct path_key k = {key, len};
  const struct index_entry *e =
      ix->map.len == 0 ? NULL
                       : appc_hashmap_find(&ix->map, appc_hash_bytes(key, len), index_eq, &k);

  return e != NULL ? e->idx : NO_INDEX;
}

/* Record KEY (not yet present; kept by pointer) -> IDX. */
static int index_add(struct path_index *ix, const char *key, uint32_t idx)
{
  const struct path_key k = {key, strlen(key)};
  struct index_entry *e;
  bool added;

  if (ix->map.entry_size == 0)
    appc_hashmap_init(&ix->map, sizeof(struct index_entry), 1024);
  e = appc_hashmap_insert(&ix->map, appc_hash_bytes(key, k.len), index_eq, &k, &added);
  if (e == NULL)
    return -1;
  *e = (struct index_entry){key, idx};
  return 0;
}

static void index_clear(struct path_index *ix)
{
  appc_hashmap_clear(&ix->map, NULL);
}

/* ---- the render ---- */

enum node_kind {
  NODE_DIR,      /* a directory entry made it */
  NODE_IMPLICIT, /* made as the missing parent of an entry */
  NODE_OTHER,    /* anything that is not a directory, or a reserved path */
};

/* One path of the rendered tree, relative to the rootfs. */
struct node {
  char *path;
  enum node_kind kind;
  mode_t mode;              /* directories: applied by appc_render_finish */
  struct timespec times[2]; /* likewise */
};

/* The directory entries are being created in, kept open because tar
 * members come grouped by directory. */
struct parent_cache {
  char *path; /* NULL for the rootfs itself */
  size_t len;
  int fd; /* r->root_fd (not owned) when len is 0 */
};

struct appc_render {
  int root_fd; /* our own descriptor of the rootfs */
  struct appc_render_options opts;
  struct node *nodes;
  size_t n_nodes, nodes_cap;
  struct path_index index;
  struct node root; /* the rootfs directory's metadata, once a layer gave it */
  bool root_set;
  struct parent_cache cache;
  struct appc_content_hashes *hashes;
  EVP_MD_CTX *sha;
  bool no_openat2; /* see appc_open_beneath() */
};

/* One archive entry under rootfs/ as seen by the current layer pass, for
 * hard links, which name earlier entries of the same archive. */
struct lentry {
  char *path;       /* relative to the rootfs */
  mode_t type;      /* of the entry holding the data */
  uint32_t ordinal; /* of the entry holding the data, in archive order */
  uint32_t root;    /* lentry holding the data: itself unless a hard link */
  bool here;        /* created at path by this pass */
};

/* A hard link whose target this pass did not extract: the second pass
 * writes the target's data at path. */
struct pending {
  char *path;
  uint32_t ordinal; /* of the entry holding the data */
  uint32_t seq;     /* keeps the archive order within one target */
};

struct layer_pass {
  const struct appc_render_layer *layer;
  struct appc_tar_reader *reader;
  struct lentry *entries;
  size_t n_entries, entries_cap;
  struct path_index index;
  struct pending *pending;
  size_t n_pending, pending_cap;
  size_t next_pending; /* second pass: the first not yet written */
  uint32_t ordinal;    /* of the current archive entry */
  bool hash;           /* hash the uncompressed tar (layer->image_id) */
};

/* One component at a time, for kernels (and valgrind) without openat2. */
static int open_by_components(int dir_fd, const char *path)
{
  char name[NAME_MAX + 1];
  int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);

  for (const char *p = path; fd >= 0 && *p != '\0';) {
    size_t n = strcspn(p, "/");
    int next;
    if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.')) {
      close(fd);
      errno = n > NAME_MAX ? ENAMETOOLONG : EXDEV;
      return -1;
    }
    memcpy(name, p, n);
    name[n] = '\0';
    next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    close(fd);
    fd = next;
    p += n;
    if (*p == '/')
      p++;
  }
  return fd;
}

int appc_open_beneath(int dir_fd, const char *path, bool *no_openat2)
{
  struct open_how how = {
      .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
      .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
  };
  int fd;

  if (!*no_openat2) {
    fd = (int) syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS)
      return fd;
    *no_openat2 = true;
  }
  return open_by_components(dir_fd, path);
}

static int open_beneath(struct appc_render *r, int dir_fd, const char *path)
{
  return appc_open_beneath(dir_fd, path, &r->no_openat2);
}

static bool is_cancelled(const struct appc_render *r)
{
  return r->opts.cancelled != NULL && r->opts.cancelled(r->opts.cancel_data);
}

static int add_node(struct appc_render *r, const char *path, size_t len, enum node_kind kind,
                    appc_error_t *err)
{
  struct node *n;

  if (APPC_ARRAY_RESERVE(r->nodes, r->nodes_cap, r->n_nodes + 1) < 0)
    return appc_error_make(err, ENOMEM, "render");
  n = &r->nodes[r->n_nodes];
  memset(n, 0, sizeof *n);
  n->path = strndup(path, len);
  if (n->path == NULL || index_add(&r->index, n->path, (uint32_t) r->n_nodes) < 0) {
    free(n->path);
    return appc_error_make(err, ENOMEM, "render");
  }
  n->kind = kind;
  r->n_nodes++;
  return 0;
}

/* ---- parent directories ---- */

static void cache_set(struct appc_render *r, char *path, size_t len, int fd)
{
  if (r->cache.len > 0)
    close(r->cache.fd);
  free(r->cache.path);
  r->cache.path = path;
  r->cache.len = len;
  r->cache.fd = fd;
}

/* A descriptor of the existing directory named by the first LEN bytes of
 * PATH, borrowed from the cache (valid until the next call). */
static int parent_fd(struct appc_render *r, const char *path, size_t len, appc_error_t *err)
{
  const struct parent_cache *c = &r->cache;
  char *copy;
  int fd;

  if (len == c->len && (len == 0 || memcmp(path, c->path, len) == 0))
    return c->fd;
  if (len == 0) {
    cache_set(r, NULL, 0, r->root_fd);
    return r->root_fd;
  }
  copy = strndup(path, len);
  if (copy == NULL)
    return appc_error_make(err, ENOMEM, "render");
  /* Going down from the cached directory is the common case (a directory
   * entry followed by its contents): one component to resolve. */
  if (c->len > 0 && len > c->len && copy[c->len] == '/' && memcmp(copy, c->path, c->len) == 0)
    fd = open_beneath(r, c->fd, copy + c->len + 1);
  else
    fd = open_beneath(r, r->root_fd, copy);
  if (fd < 0) {
    appc_error_make(err, errno, "%s: open", copy);
    free(copy);
    return -1;
  }
  cache_set(r, copy, len, fd);
  return fd;
}

/* Create the missing directory PATH[0, LEN) (its parent exists) as an
 * implicit directory. */
static int make_implicit(struct appc_render *r, const char *path, size_t start, size_t len,
                         int dir_fd, appc_error_t *err)
{
  char name[NAME_MAX + 1];

  if (len - start > NAME_MAX)
    return appc_error_make(err, ENAMETOOLONG, "%.*s", (int) len, path);
  memcpy(name, path + start, len - start);
  name[len - start] = '\0';
  if (mkdirat(dir_fd, name, 0700) < 0)
    return appc_error_make(err, errno, "%.*s: mkdir", (int) len, path);
  if (r->opts.as_root && fchownat(dir_fd, name, 0, 0, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "%.*s: chown", (int) len, path);
  if (add_node(r, path, len, NODE_IMPLICIT, err) < 0)
    return -1;
  struct node *n = &r->nodes[r->n_nodes - 1];
  n->mode = IMPLICIT_DIR_MODE;
  /* A fixed time, so that rendering the same images twice gives the same
   * tree digest. */
  n->times[0].tv_nsec = UTIME_OMIT;
  return 0;
}

/* Make PATH[0, PLEN) an existing directory and return its descriptor, or
 * set *blocked when an upper layer made one of its ancestors something
 * other than a directory. */
static int prepare_parent(struct appc_render *r, const char *path, size_t plen, bool *blocked,
                          appc_error_t *err)
{
  size_t have = 0; /* the longest prefix known to exist */
  int fd;

  *blocked = false;
  if (plen == r->cache.len && (plen == 0 || memcmp(path, r->cache.path, plen) == 0))
    return r->cache.fd;
  /* The seen map is prefix-closed (once a prefix is missing, so are the
   * longer ones), and nothing is ever made below a node that is not a
   * directory: the longest prefix it has is found by bisecting the
   * component ends, and only it needs to be a directory.  (A walk of every
   * prefix, each hashed whole, was quadratic in the depth: 18 s for 4,000
   * files 2,000 directories deep.) */
  size_t ends[PATH_MAX / 2 + 1], n = 0;
  for (size_t e = 1; e <= plen && n < ARRAY_SIZE(ends); e++)
    if (e == plen || path[e] == '/')
      ends[n++] = e;
  size_t lo = 0, hi = n; /* ends[0, lo) are known; ends[hi, n) are not */
  uint32_t found = NO_INDEX;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint32_t idx = index_find(&r->index, path, ends[mid]);
    if (idx == NO_INDEX) {
      hi = mid;
    } else {
      lo = mid + 1;
      found = idx;
      have = ends[mid];
    }
  }
  if (found != NO_INDEX && r->nodes[found].kind == NODE_OTHER) {
    *blocked = true;
    return -1;
  }
  fd = parent_fd(r, path, have, err);
  while (fd >= 0 && have < plen) {
    size_t start = have == 0 ? 0 : have + 1;
    size_t end = start + strcspn(path + start, "/");
    if (end > plen)
      end = plen;
    if (make_implicit(r, path, start, end, fd, err) < 0)
      return -1;
    have = end;
    fd = parent_fd(r, path, have, err);
  }
  return fd;
}

/* ---- metadata ---- */

/* Give a node the entry's owner when rendering as root: FD itself when
 * NAME is NULL, else NAME in the directory FD (not followed). */
static int set_owner(const struct appc_render *r, int fd, const char *name, struct archive_entry *e,
                     appc_error_t *err)
{
  la_int64_t u = archive_entry_uid(e), g = archive_entry_gid(e);

  if (!r->opts.as_root)
    return 0;
  /* (an image imported before the import checked it) */
  if (!appc_aci_owner_valid(e))
    return appc_error_make(err, 0, "owner %lld:%lld out of range", (long long) u, (long long) g);
  if ((name == NULL ? fchown(fd, (uid_t) u, (gid_t) g)
                    : fchownat(fd, name, (uid_t) u, (gid_t) g, AT_SYMLINK_NOFOLLOW)) < 0)
    return appc_error_make(err, errno, "chown");
  return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
  if (archive_entry_atime_is_set(e)) {
    ts[0].tv_sec = archive_entry_atime(e);
    ts[0].tv_nsec = archive_entry_atime_nsec(e);
  } else {
    ts[0].tv_sec = 0;
    ts[0].tv_nsec = UTIME_OMIT;
  }
  ts[1].tv_sec = archive_entry_mtime(e);
  ts[1].tv_nsec = archive_entry_mtime_nsec(e);
}

/* Set the entry's extended attributes through FD, or through PROC_PATH
 * (which names the entry without following it) when FD is -1. */
static int apply_xattrs(const struct appc_render *r, struct archive_entry *e, int fd,
                        const char *proc_path, appc_error_t *err)
{
  const char *name;
  const void *value;
  size_t size;

  if (archive_entry_xattr_reset(e) == 0)
    return 0;
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    int ret =
        fd >= 0 ? fsetxattr(fd, name, value, size, 0) : lsetxattr(proc_path, name, value, size, 0);
    if (ret == 0)
      continue;
    /* trusted.*, security.* and the like need privileges an unprivileged
     * render does not have; the image is still usable without them. */
    if (!r->opts.as_root && strncmp(name, "user.", 5) != 0 && (errno == EPERM || errno == ENOTSUP))
      continue;
    return appc_error_make(err, errno, "setxattr %s", name);
  }
  return 0;
}

/* Owner, mode, xattrs and times of a regular file, through its descriptor.
 * chown clears setuid/setgid and file capabilities, so it comes first. */
static int regular_meta(const struct appc_render *r, int fd, struct archive_entry *e,
                        appc_error_t *err)
{
  struct timespec ts[2];

  if (set_owner(r, fd, NULL, e, err) < 0)
    return -1;
  if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
    return appc_error_make(err, errno, "chmod");
  if (apply_xattrs(r, e, fd, NULL, err) < 0)
    return -1;
  entry_times(e, ts);
  if (futimens(fd, ts) < 0)
    return appc_error_make(err, errno, "utimens");
  return 0;
}

/* The same for symlinks, fifos and device nodes, by name in DIR_FD. */
static int node_meta(const struct appc_render *r, int dir_fd, const char *name,
                     struct archive_entry *e, mode_t type, appc_error_t *err)
{
  char proc_path[64 + NAME_MAX];
  struct timespec ts[2];

  if (set_owner(r, dir_fd, name, e, err) < 0)
    return -1;
  /* Symlinks have no mode of their own.  The node was just made by us in a
   * directory we hold open, so the name cannot be a symlink here. */
  if (type != AE_IFLNK && fchmodat(dir_fd, name, archive_entry_perm(e) & 07777, 0) < 0)
    return appc_error_make(err, errno, "chmod");
  snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d/%s", dir_fd, name);
  if (apply_xattrs(r, e, -1, proc_path, err) < 0)
    return -1;
  entry_times(e, ts);
  if (utimensat(dir_fd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "utimens");
  return 0;
}

/* Owner and xattrs of a directory now; mode and times wait for
 * appc_render_finish (filling the directory would change its times, and a
 * read-only mode would stop an unprivileged render from filling it). */
/* NAME NULL: DIR_FD is the directory itself (the rootfs). */
static int dir_meta(struct appc_render *r, int dir_fd, const char *name, struct archive_entry *e,
                    struct node *n, appc_error_t *err)
{
  if (set_owner(r, dir_fd, name, e, err) < 0)
    return -1;
  if (archive_entry_xattr_count(e) > 0) {
    cleanup_close int fd =
        name == NULL ? fcntl(dir_fd, F_DUPFD_CLOEXEC, 0)
                     : openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return appc_error_make(err, errno, "open");
    if (apply_xattrs(r, e, fd, NULL, err) < 0)
      return -1;
  }
  n->kind = NODE_DIR;
  n->mode = archive_entry_perm(e) & 07777;
  entry_times(e, n->times);
  return 0;
}

/* ---- creating entries ---- */

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
  while (len > 0) {
    ssize_t n = pwrite(fd, buf, len, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    buf += n;
    len -= (size_t) n;
    off += n;
  }
  return 0;
}

/* Where the data of the entry being written goes. */
struct data_sink {
  struct appc_render *r;
  int fd;
  uint64_t pos;
  unsigned blocks;
  struct appc_content_hash hash; /* when r->sha */
};

static int sink_block(void *data, const void *buf, size_t len, appc_error_t *err)
{
  struct data_sink *d = data;

  /* a big file must not hold an interrupt until its end */
  if (++d->blocks % 1024 == 0 && is_cancelled(d->r))
    return appc_error_make(err, ECANCELED, "render");
  if (pwrite_all(d->fd, buf, len, (off_t) d->pos) < 0)
    return appc_error_make(err, errno, "write");
  if (d->r->sha != NULL)
    appc_content_hash_data(&d->hash, buf, len);
  d->pos += len;
  return 0;
}

/* A hole stays a hole (the size was set first), and is hashed as zeros:
 * at no cost, however long it says it is (appc_content_hash). */
static int sink_hole(void *data, uint64_t len, appc_error_t *err)
{
  struct data_sink *d = data;

  (void) err;
  if (d->r->sha != NULL)
    appc_content_hash_zeros(&d->hash, len);
  d->pos += len;
  return 0;
}

/* Copy the current entry's data into FD, keeping holes, and hash it. */
static int write_data(struct appc_render *r, struct archive *a, int fd, struct archive_entry *e,
                      unsigned char sha256[32], appc_error_t *err)
{
  uint64_t size = (uint64_t) archive_entry_size(e);
  struct data_sink d = {.r = r, .fd = fd};
  const struct appc_tar_data_ops ops = {.data = sink_block, .hole = sink_hole, .ctx = &d};

  if (r->sha != NULL && appc_content_hash_begin(&d.hash, r->sha, err) < 0)
    return -1;
  /* The file's size first: one the file system cannot hold fails now, not
   * after its holes were hashed (a header may claim 2^62 bytes). */
  if (size > 0 && ftruncate(fd, (off_t) size) < 0)
    return appc_error_make(err, errno, "truncate to %llu bytes", (unsigned long long) size);
  if (appc_tar_data_walk(a, e, NULL, &ops, err) < 0)
    return -1;
  if (r->sha != NULL)
    appc_content_hash_end(&d.hash, sha256);
  return 0;
}

static int create_regular(struct appc_render *r, struct archive *a, int dir_fd, const char *name,
                          struct archive_entry *e, appc_error_t *err)
{
  cleanup_close int fd =
      openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  unsigned char sha256[32];
  struct stat st;

  if (fd < 0)
    return appc_error_make(err, errno, "create");
  if (write_data(r, a, fd, e, sha256, err) < 0 || regular_meta(r, fd, e, err) < 0)
    return -1;
  if (r->hashes == NULL)
    return close(steal_fd(&fd)) < 0 ? appc_error_make(err, errno, "close") : 0;
  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "stat");
  if (appc_content_hashes_put(r->hashes, st.st_dev, st.st_ino, sha256, err) < 0)
    return -1;
  if (close(steal_fd(&fd)) < 0)
    return appc_error_make(err, errno, "close");
  return 0;
}

/* Whether a non-directory of this type is created at all. */
static bool creates(const struct appc_render *r, mode_t type)
{
  switch (type) {
  case AE_IFREG:
  case AE_IFLNK:
  case AE_IFIFO:
    return true;
  case AE_IFCHR:
  case AE_IFBLK:
    return r->opts.as_root;
  default: /* sockets mean nothing in an image */
    return false;
  }
}

/* Create the non-directory entry E as NAME in DIR_FD, with its data and
 * metadata; an entry that is not created (see creates()) is a no-op. */
static int create_nondir(struct appc_render *r, struct archive *a, int dir_fd, const char *name,
                         struct archive_entry *e, mode_t type, appc_error_t *err)
{
  const char *target;

  if (!creates(r, type))
    return 0;
  switch (type) {
  case AE_IFREG:
    return create_regular(r, a, dir_fd, name, e, err);
  case AE_IFLNK:
    target = archive_entry_symlink(e);
    if (target == NULL || target[0] == '\0')
      return appc_error_make(err, 0, "symlink without a target");
    if (symlinkat(target, dir_fd, name) < 0)
      return appc_error_make(err, errno, "symlink");
    break;
  default: /* fifo, char or block device */
    if (mknodat(dir_fd, name, type | 0600, archive_entry_rdev(e)) < 0)
      return appc_error_make(err, errno, "mknod");
    break;
  }
  return node_meta(r, dir_fd, name, e, type, err);
}

/* ---- one layer ---- */

static const char *base_name(const char *path, size_t plen)
{
  return plen == 0 ? path : path + plen + 1;
}

static size_t parent_len(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash == NULL ? 0 : (size_t) (slash - path);
}

/* Hard-link LINK to the existing TARGET (both relative to the rootfs). */
static int link_paths(struct appc_render *r, const char *target, const char *link,
                      appc_error_t *err)
{
  size_t tlen = parent_len(target), llen = parent_len(link);
  cleanup_free char *tparent = strndup(target, tlen);
  cleanup_close int tfd = -1;
  int lfd;

  if (tparent == NULL)
    return appc_error_make(err, ENOMEM, "render");
  lfd = parent_fd(r, link, llen, err);
  if (lfd < 0)
    return -1;
  if (tlen != llen || memcmp(target, link, tlen) != 0) {
    tfd = tlen == 0 ? fcntl(r->root_fd, F_DUPFD_CLOEXEC, 0) : open_beneath(r, r->root_fd, tparent);
    if (tfd < 0)
      return appc_error_make(err, errno, "%s: open", tlen == 0 ? "." : tparent);
  }
  if (linkat(tfd >= 0 ? tfd : lfd, base_name(target, tlen), lfd, base_name(link, llen), 0) < 0)
    return appc_error_make(err, errno, "link");
  return 0;
}

enum claim {
  CLAIM_SKIP,   /* filtered out, already provided, or below a non-directory */
  CLAIM_CREATE, /* create it in *dir_fd */
  CLAIM_ADOPT,  /* give the implicit directory *node its metadata */
};

static bool filters_allow(const struct appc_render_layer *l, const char *path, bool is_dir)
{
  for (size_t i = 0; i < l->n_filters; i++) {
    if (!appc_whitelist_allows(l->filters[i], path, is_dir))
      return false;
  }
  return true;
}

/* Decide what the entry at PATH may do; for CREATE and ADOPT, *dir_fd is
 * its parent directory (borrowed). */
static int claim(struct appc_render *r, const struct layer_pass *lp, const char *path, bool is_dir,
                 enum claim *out, int *dir_fd, uint32_t *node, appc_error_t *err)
{
  size_t plen = parent_len(path);
  bool blocked;

  *out = CLAIM_SKIP;
  if (!filters_allow(lp->layer, path, is_dir))
    return 0;
  *node = index_find(&r->index, path, strlen(path));
  if (*node != NO_INDEX) {
    /* Earlier entries always made the parents: the map is prefix-closed. */
    if (is_dir && r->nodes[*node].kind == NODE_IMPLICIT) {
      *dir_fd = parent_fd(r, path, plen, err);
      if (*dir_fd < 0)
        return -1;
      *out = CLAIM_ADOPT;
    }
    return 0;
  }
  *dir_fd = prepare_parent(r, path, plen, &blocked, err);
  if (blocked)
    return 0;
  if (*dir_fd < 0)
    return -1;
  *out = CLAIM_CREATE;
  return 0;
}

static int add_lentry(struct layer_pass *lp, const char *path, mode_t type, uint32_t root,
                      appc_error_t *err)
{
  struct lentry *le;

  /* A repeated name is refused at import; here the first one stands. */
  if (index_find(&lp->index, path, strlen(path)) != NO_INDEX)
    return 0;
  if (APPC_ARRAY_RESERVE(lp->entries, lp->entries_cap, lp->n_entries + 1) < 0)
    return appc_error_make(err, ENOMEM, "render");
  le = &lp->entries[lp->n_entries];
  le->path = strdup(path);
  if (le->path == NULL || index_add(&lp->index, le->path, (uint32_t) lp->n_entries) < 0) {
    free(le->path);
    return appc_error_make(err, ENOMEM, "render");
  }
  le->root = root == NO_INDEX ? (uint32_t) lp->n_entries : root;
  le->type = root == NO_INDEX ? type : lp->entries[root].type;
  le->ordinal = root == NO_INDEX ? lp->ordinal : lp->entries[root].ordinal;
  le->here = false;
  lp->n_entries++;
  return 1;
}

/* The lentry holding the data a hard link entry refers to. */
static int link_root(const struct layer_pass *lp, const char *canon, const char *raw_target,
                     uint32_t *root, appc_error_t *err)
{
  cleanup_free char *target = NULL;
  uint32_t idx;

  if (appc_entry_name_canon(raw_target, &target, err) < 0)
    return appc_error_prefix(err, "%s: hard link", canon);
  if (strncmp(target, "rootfs/", 7) != 0)
    return appc_error_make(err, 0, "%s: hard link to %s, outside rootfs", canon, target);
  idx = index_find(&lp->index, target + 7, strlen(target + 7));
  if (idx == NO_INDEX)
    return appc_error_make(err, 0, "%s: hard link to %s, which is not an earlier entry", canon,
                           target);
  if (lp->entries[idx].type == AE_IFDIR)
    return appc_error_make(err, 0, "%s: hard link to %s, a directory", canon, target);
  *root = lp->entries[idx].root;
  return 0;
}

static int add_pending(struct layer_pass *lp, const char *path, uint32_t ordinal, appc_error_t *err)
{
  struct pending *p;

  if (APPC_ARRAY_RESERVE(lp->pending, lp->pending_cap, lp->n_pending + 1) < 0)
    return appc_error_make(err, ENOMEM, "render");
  p = &lp->pending[lp->n_pending];
  p->path = strdup(path);
  if (p->path == NULL)
    return appc_error_make(err, ENOMEM, "render");
  p->ordinal = ordinal;
  p->seq = (uint32_t) lp->n_pending++;
  return 0;
}

/* A hard link the layer may create: link to the target when this pass
 * extracted it, else leave it to the second pass. */
static int place_link(struct appc_render *r, struct layer_pass *lp, struct lentry *le,
                      appc_error_t *err)
{
  const struct lentry *target = &lp->entries[le->root];

  if (add_node(r, le->path, strlen(le->path), NODE_OTHER, err) < 0)
    return -1;
  if (!creates(r, target->type))
    return 0;
  if (!target->here)
    return add_pending(lp, le->path, target->ordinal, err);
  if (link_paths(r, target->path, le->path, err) < 0)
    return -1;
  le->here = true;
  return 0;
}

/* Extract the entry LE (just added) of the current archive entry E. */
static int place_entry(struct appc_render *r, struct layer_pass *lp, struct archive_entry *e,
                       struct lentry *le, bool is_link, appc_error_t *err)
{
  const char *path = le->path, *name = base_name(path, parent_len(path));
  mode_t type = le->type;
  enum claim what;
  uint32_t node = NO_INDEX;
  int dir_fd = -1;

  if (claim(r, lp, path, type == AE_IFDIR, &what, &dir_fd, &node, err) < 0)
    return -1;
  if (what == CLAIM_SKIP)
    return 0;
  if (what == CLAIM_ADOPT)
    return dir_meta(r, dir_fd, name, e, &r->nodes[node], err);
  if (is_link)
    return place_link(r, lp, le, err);
  if (type == AE_IFDIR) {
    if (mkdirat(dir_fd, name, 0700) < 0)
      return appc_error_make(err, errno, "mkdir");
    if (add_node(r, path, strlen(path), NODE_DIR, err) < 0)
      return -1;
    return dir_meta(r, dir_fd, name, e, &r->nodes[r->n_nodes - 1], err);
  }
  if (create_nondir(r, appc_tar_reader_archive(lp->reader), dir_fd, name, e, type, err) < 0 ||
      add_node(r, path, strlen(path), NODE_OTHER, err) < 0)
    return -1;
  le->here = creates(r, type);
  return 0;
}

/* An entry under rootfs/: CANON is its whole name, PATH the part below. */
static int rootfs_entry(struct appc_render *r, struct layer_pass *lp, struct archive_entry *e,
                        const char *canon, const char *path, appc_error_t *err)
{
  const char *hardlink = archive_entry_hardlink(e);
  mode_t type = archive_entry_filetype(e);
  uint32_t root = NO_INDEX;

  int added;

  if (hardlink != NULL && link_root(lp, canon, hardlink, &root, err) < 0)
    return -1;
  added = add_lentry(lp, path, type, root, err);
  if (added <= 0)
    return added;
  if (place_entry(r, lp, e, &lp->entries[lp->n_entries - 1], hardlink != NULL, err) < 0)
    return appc_error_prefix(err, "%s", canon);
  return 0;
}

/* The "rootfs" entry gives its metadata to the rootfs directory. */
static int rootfs_itself(struct appc_render *r, struct archive_entry *e, appc_error_t *err)
{
  if (archive_entry_filetype(e) != AE_IFDIR || archive_entry_hardlink(e) != NULL)
    return appc_error_make(err, 0, "rootfs: not a directory");
  if (r->root_set)
    return 0;
  if (dir_meta(r, r->root_fd, NULL, e, &r->root, err) < 0)
    return appc_error_prefix(err, "rootfs");
  r->root_set = true;
  return 0;
}

static int entry_canon(struct archive_entry *e, char **canon, appc_error_t *err)
{
  const char *raw = archive_entry_pathname(e);

  if (raw == NULL || raw[0] == '\0')
    return appc_error_make(err, 0, "entry without a name");
  return appc_entry_name_canon(raw, canon, err);
}

static int first_pass_entry(struct appc_render *r, struct layer_pass *lp, struct archive_entry *e,
                            appc_error_t *err)
{
  cleanup_free char *canon = NULL;

  if (entry_canon(e, &canon, err) < 0)
    return -1;
  if (strncmp(canon, "rootfs/", 7) == 0)
    return rootfs_entry(r, lp, e, canon, canon + 7, err);
  if (strcmp(canon, "rootfs") == 0)
    return rootfs_itself(r, e, err);
  if (canon[0] == '\0' || strcmp(canon, "manifest") == 0)
    return 0;
  return appc_error_make(err, 0, "%s: unexpected entry outside rootfs", canon);
}

/* Read every entry of the layer's archive, calling FN for each (ordinals
 * from 0), until FN sets *done or the archive ends.  Unread data is skipped
 * through the reader, which names the real cause of a read failure. */
typedef int (*entry_fn)(struct appc_render *r, struct layer_pass *lp, struct archive_entry *e,
                        bool *done, appc_error_t *err);

static int each_entry(struct appc_render *r, struct layer_pass *lp, entry_fn fn, appc_error_t *err)
{
  struct archive_entry *e;
  bool done = false;
  int ret;

  if (appc_tar_reader_open_progress(&lp->reader, lp->layer->path, lp->hash, r->opts.cb,
                                    APPC_PROGRESS_RENDER, err) < 0)
    return -1;
  for (lp->ordinal = 0; !done; lp->ordinal++) {
    if (is_cancelled(r))
      return appc_error_make(err, ECANCELED, "render");
    ret = appc_tar_reader_next(lp->reader, &e, err);
    if (ret <= 0)
      return ret;
    if (fn(r, lp, e, &done, err) < 0)
      return -1;
    if (archive_entry_size(e) > 0 &&
        appc_tar_reader_skip(lp->reader, archive_entry_pathname(e), err) < 0)
      return -1;
  }
  return 0;
}

static int first_pass_fn(struct appc_render *r, struct layer_pass *lp, struct archive_entry *e,
                         bool *done, appc_error_t *err)
{
  (void) done;
  return first_pass_entry(r, lp, e, err);
}

/* ---- the second pass: hard links whose target this layer did not extract ---- */

static int cmp_pending(const void *a, const void *b)
{
  const struct pending *x = a, *y = b;
  if (x->ordinal != y->ordinal)
    return x->ordinal < y->ordinal ? -1 : 1;
  return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The first pending link of a target receives the data, the others link to
 * it. */
static int second_pass_fn(struct appc_render *r, struct layer_pass *lp, struct archive_entry *e,
                          bool *done, appc_error_t *err)
{
  size_t *next = &lp->next_pending;
  const struct pending *first;

  if (*next >= lp->n_pending || lp->pending[*next].ordinal != lp->ordinal)
    return 0;
  first = &lp->pending[*next];
  size_t plen = parent_len(first->path);
  int dir_fd = parent_fd(r, first->path, plen, err);
  if (dir_fd < 0 ||
      create_nondir(r, appc_tar_reader_archive(lp->reader), dir_fd, base_name(first->path, plen), e,
                    archive_entry_filetype(e), err) < 0)
    return appc_error_prefix(err, "rootfs/%s", first->path);
  for ((*next)++; *next < lp->n_pending && lp->pending[*next].ordinal == lp->ordinal; (*next)++) {
    if (link_paths(r, first->path, lp->pending[*next].path, err) < 0)
      return appc_error_prefix(err, "rootfs/%s", lp->pending[*next].path);
  }
  *done = *next >= lp->n_pending;
  return 0;
}

static void layer_pass_clear(struct layer_pass *lp)
{
  appc_tar_reader_free(lp->reader);
  lp->reader = NULL;
  for (size_t i = 0; i < lp->n_entries; i++)
    free(lp->entries[i].path);
  free(lp->entries);
  index_clear(&lp->index);
  for (size_t i = 0; i < lp->n_pending; i++)
    free(lp->pending[i].path);
  free(lp->pending);
  memset(lp, 0, sizeof *lp);
}

static int layer_second_pass(struct appc_render *r, struct layer_pass *lp, appc_error_t *err)
{
  appc_tar_reader_free(lp->reader);
  lp->reader = NULL;
  lp->hash = false; /* the first pass checked the content */
  qsort(lp->pending, lp->n_pending, sizeof *lp->pending, cmp_pending);
  if (each_entry(r, lp, second_pass_fn, err) < 0)
    return -1;
  if (lp->next_pending < lp->n_pending)
    return appc_error_make(err, 0, "the archive changed between two reads");
  return 0;
}

/* The tar just read whole hashes to the layer's image ID: else the blob
 * was damaged after its import, which hashed it (image verify finds it),
 * and what it gave must not be used. */
static int check_image_id(struct layer_pass *lp, appc_error_t *err)
{
  char got[APPC_IMAGE_ID_LEN + 1];

  if (appc_tar_reader_finish(lp->reader, got, NULL, err) < 0)
    return -1;
  if (strcmp(got, lp->layer->image_id) != 0)
    return appc_error_make(
        err, 0, "blob damaged: its content hashes to %s, not to its image ID" STORE_REPAIR, got);
  return 0;
}

int appc_render_layer(struct appc_render *r, const struct appc_render_layer *layer,
                      appc_error_t *err)
{
  struct layer_pass lp = {.layer = layer, .hash = layer->image_id != NULL};
  int ret = each_entry(r, &lp, first_pass_fn, err);

  if (ret == 0 && lp.hash)
    ret = check_image_id(&lp, err);
  if (ret == 0 && lp.n_pending > 0)
    ret = layer_second_pass(r, &lp, err);
  layer_pass_clear(&lp);
  if (ret < 0)
    return appc_error_prefix(err, "%s", layer->path);
  return 0;
}

/* ---- the render as a whole ---- */

static int check_empty(int fd, appc_error_t *err)
{
  DIR *dir = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  struct dirent *de;
  bool empty = true;

  if (dir == NULL)
    return appc_error_make(err, errno, "rootfs");
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      empty = false;
  }
  closedir(dir);
  return empty ? 0 : appc_error_make(err, ENOTEMPTY, "rootfs");
}

/* What the tree digest needs: the content hash of every regular file. */
static int new_hashing(struct appc_render *r, appc_error_t *err)
{
  if (appc_content_hashes_new(&r->hashes, err) < 0 || appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0)
    return -1;
  r->sha = EVP_MD_CTX_new();
  if (r->sha == NULL)
    return appc_error_make(err, ENOMEM, "sha256");
  return 0;
}

int appc_render_new(struct appc_render **out, int rootfs_fd, const struct appc_render_options *opts,
                    appc_error_t *err)
{
  struct appc_render *r = calloc(1, sizeof *r);

  if (r == NULL)
    return appc_error_make(err, ENOMEM, "render");
  r->opts = *opts;
  r->root_fd = openat(rootfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  r->cache.fd = r->root_fd;
  if (r->root_fd < 0) {
    appc_error_make(err, errno, "rootfs");
    goto fail;
  }
  if (check_empty(r->root_fd, err) < 0)
    goto fail;
  if (!opts->no_digest && new_hashing(r, err) < 0)
    goto fail;
  *out = r;
  return 0;
fail:
  appc_render_free(r);
  return -1;
}

static size_t depth(const char *path)
{
  size_t n = 0;
  for (; *path != '\0'; path++)
    n += *path == '/';
  return n;
}

static int cmp_deepest_first(const void *a, const void *b)
{
  size_t x = depth((*(struct node *const *) a)->path), y = depth((*(struct node *const *) b)->path);
  return (x < y) - (x > y);
}

static int set_dir_meta(int fd, const struct node *n, appc_error_t *err)
{
  if (fchmod(fd, n->mode) < 0)
    return appc_error_make(err, errno, "%s: chmod", n->path);
  if (futimens(fd, n->times) < 0)
    return appc_error_make(err, errno, "%s: utimens", n->path);
  return 0;
}

/* Directories' modes and times, deepest first: setting them on a parent
 * before its children are done would be undone (times) or could lock the
 * render out (modes). */
static int finish_dirs(struct appc_render *r, appc_error_t *err)
{
  cleanup_free struct node **dirs = malloc((r->n_nodes + 1) * sizeof *dirs);
  size_t n = 0;

  if (dirs == NULL)
    return appc_error_make(err, ENOMEM, "render");
  for (size_t i = 0; i < r->n_nodes; i++) {
    if (r->nodes[i].kind != NODE_OTHER)
      dirs[n++] = &r->nodes[i];
  }
  qsort(dirs, n, sizeof *dirs, cmp_deepest_first);
  /* Release the cached directory: it may be one of those being changed. */
  cache_set(r, NULL, 0, r->root_fd);
  for (size_t i = 0; i < n; i++) {
    cleanup_close int fd = open_beneath(r, r->root_fd, dirs[i]->path);
    if (fd < 0)
      return appc_error_make(err, errno, "%s: open", dirs[i]->path);
    if (set_dir_meta(fd, dirs[i], err) < 0)
      return -1;
  }
  if (r->root_set && set_dir_meta(r->root_fd, &r->root, err) < 0)
    return appc_error_prefix(err, "rootfs");
  return 0;
}

int appc_render_finish(struct appc_render *r, char digest[APPC_TREE_DIGEST_LEN + 1],
                       appc_error_t *err)
{
  if (finish_dirs(r, err) < 0)
    return -1;
  if (r->hashes == NULL)
    return 0;
  return appc_tree_digest(r->root_fd, r->hashes, NULL, digest, err);
}

void appc_render_free(struct appc_render *r)
{
  if (r == NULL)
    return;
  cache_set(r, NULL, 0, -1);
  if (r->root_fd >= 0)
    close(r->root_fd);
  for (size_t i = 0; i < r->n_nodes; i++)
    free(r->nodes[i].path);
  free(r->nodes);
  index_clear(&r->index);
  appc_content_hashes_free(r->hashes);
  if (r->sha != NULL) /* libcrypto is bound only when hashing */
    EVP_MD_CTX_free(r->sha);
  free(r);
}
