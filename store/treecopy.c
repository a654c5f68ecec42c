/* SPDX-License-Identifier: Apache-2.0 */
/* Copying and removing trees.
 *
 * appc_tree_copy is how the store renders an already cached tree into a new
 * directory, so it is on the path of every render and is written to be faster
 * than `cp -a`.  Nothing is ever resolved through a path from the root or
 * through a symlink: each directory is listed with getdents64 (sorted by inode
 * number, so that the inode tables are read in order), and its entries are
 * stat'ed, opened and created relative to the descriptors of the source and
 * destination directories, with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW throughout.
 *
 * The calling thread walks the tree and creates every entry.  A regular file,
 * once created, is handed with both of its descriptors to worker threads
 * that copy its data (copy_file_range, inside the kernel) and apply its
 * owner, extended attributes, mode and times.  Workers never resolve a name,
 * so they need no directory descriptor and no ordering with the walk: nothing
 * they do changes a directory's mtime, which the walk sets once a directory
 * is filled (deepest first, as the walk returns from it).
 *
 * System calls that would change nothing are skipped: a file we create
 * already has our owner and its requested mode minus the umask, so chown and
 * chmod are only made when the source's differ.  That prediction is checked
 * on the first entry created and dropped if it does not hold.
 *
 * The number of open descriptors does not grow with depth: below FD_DEPTH a
 * directory "parks" (closes) its descriptors while a subdirectory is worked
 * on and opens them again afterwards, walking down from the last directory
 * that kept its own, one O_NOFOLLOW component at a time, and checking that
 * it found the same directory again.
 *
 * appc_remove_tree walks without recursion (struct rm_level), unlinking
 * what it finds and giving a directory's owner rwx only when an unlink or
 * open is refused (root never needs it); a parked directory is taken back
 * through its subdirectory's "..", checked likewise, since what it removes
 * may be an app's root, of any depth.  The files of large directories are
 * unlinked by several threads at once: freeing a file's blocks may wait on
 * the device (always, on a file system mounted with `discard`), and those
 * waits overlap.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/hashmap.h"
#include "common/workqueue.h"
#include "store/internal.h"

#define DENTS_BUF_SIZE (64 * 1024)
#define XATTR_BUF_SIZE (64 * 1024) /* XATTR_LIST_MAX and XATTR_SIZE_MAX */
#define PROC_FD_PATH_MAX (sizeof("/proc/self/fd//") + 3 * sizeof(int) + NAME_MAX)
#define FD_DEPTH 48         /* directories below this depth park their descriptors */
#define QUEUE_LEN 32        /* file jobs waiting for a worker (two descriptors each) */
#define MAX_WORKERS 3U      /* besides the calling thread */
#define MAX_UNLINKERS 3U    /* likewise; unlinks mostly wait, so not bound to CPUs */
#define UNLINK_BATCH_MIN 8U /* files in a directory worth sharing out */

/* ---- relative paths, for messages and for finding directories again ---- */

struct rel_path {
  char *buf;
  size_t len;
  size_t cap;
};

/* Append "/NAME" (or "NAME" at the top); *SAVED receives the length to pop
 * back to.  Returns 0, or -1 with errno ENOMEM. */
static int rel_path_push(struct rel_path *p, const char *name, size_t *saved)
{
  size_t name_len = strlen(name);
  size_t need = p->len + 1 + name_len + 1;

  if (need > p->cap && APPC_ARRAY_RESERVE(p->buf, p->cap, need) < 0)
    return -1;
  *saved = p->len;
  if (p->len > 0)
    p->buf[p->len++] = '/';
  memcpy(p->buf + p->len, name, name_len + 1);
  p->len += name_len;
  return 0;
}

static void rel_path_pop(struct rel_path *p, size_t saved)
{
  p->len = saved;
  if (p->buf != NULL)
    p->buf[saved] = '\0';
}

static const char *rel_path_str(const struct rel_path *p)
{
  return p->len == 0 ? "." : p->buf;
}

/* ---- directory listings ---- */

struct dir_entry {
  ino_t ino;
  size_t name; /* offset in dir_list.names */
  unsigned char type;
};

struct dir_list {
  struct dir_entry *v;
  size_t n;
  size_t cap;
  char *names;
  size_t names_len;
  size_t names_cap;
};

static void dir_list_free(struct dir_list *l)
{
  free(l->v);
  free(l->names);
}

static const char *dir_list_name(const struct dir_list *l, size_t i)
{
  return l->names + l->v[i].name;
}

static int dir_list_add(struct dir_list *l, const struct dirent64 *de)
{
  size_t len = strlen(de->d_name) + 1;

  if (APPC_ARRAY_RESERVE(l->v, l->cap, l->n + 1) < 0 ||
      APPC_ARRAY_RESERVE(l->names, l->names_cap, l->names_len + len) < 0)
    return -1;
  memcpy(l->names + l->names_len, de->d_name, len);
  l->v[l->n++] = (struct dir_entry){.ino = de->d_ino, .name = l->names_len, .type = de->d_type};
  l->names_len += len;
  return 0;
}

static int entry_ino_cmp(const void *a, const void *b)
{
  const struct dir_entry *x = a, *y = b;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Every entry of the directory FD (read from its start) but "." and "..",
 * in inode order.  Returns 0, or -1 with errno set. */
static int dir_list_read(int fd, struct dir_list *l, char *buf)
{
  for (;;) {
    ssize_t n = getdents64(fd, buf, DENTS_BUF_SIZE);
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    for (ssize_t off = 0; off < n;) {
      const struct dirent64 *de = (const struct dirent64 *) (buf + off);
      off += de->d_reclen;
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
        continue;
      if (dir_list_add(l, de) < 0)
        return -1;
    }
  }
  if (l->n > 1)
    qsort(l->v, l->n, sizeof *l->v, entry_ino_cmp);
  return 0;
}

/* ---- directories that park their descriptors ---- */

struct frame {
  int fd;
  dev_t dev; /* identity, recorded when parked */
  ino_t ino;
};

#define DIR_OPEN_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Open the directory REL (LEN bytes of '/'-separated names) below FROM one
 * component at a time, never following a symlink.  Returns a descriptor, or
 * -1 with errno set. */
static int open_dir_below(int from, const char *rel, size_t len)
{
  char name[NAME_MAX + 1];
  cleanup_close int fd = openat(from, ".", DIR_OPEN_FLAGS);

  while (fd >= 0 && len > 0) {
    const char *slash = memchr(rel, '/', len);
    size_t n = slash != NULL ? (size_t) (slash - rel) : len;
    if (n == 0 || n > NAME_MAX) {
      errno = EINVAL;
      return -1;
    }
    memcpy(name, rel, n);
    name[n] = '\0';
    int next = openat(fd, name, DIR_OPEN_FLAGS);
    close(steal_fd(&fd));
    fd = next;
    rel += n;
    len -= n;
    if (len > 0) {
      rel++;
      len--;
    }
  }
  return steal_fd(&fd);
}

static int frame_park(struct frame *f)
{
  struct stat st;

  if (fstat(f->fd, &st) < 0)
    return -1;
  f->dev = st.st_dev;
  f->ino = st.st_ino;
  close(steal_fd(&f->fd));
  return 0;
}

/* Reopen a parked frame at REL below ANCHOR and check that it is the same
 * directory.  Returns 0, or -1 with errno set (ESTALE: it was replaced). */
static int frame_unpark(struct frame *f, int anchor, const char *rel, size_t len)
{
  struct stat st;
  cleanup_close int fd = open_dir_below(anchor, rel, len);

  if (fd < 0 || fstat(fd, &st) < 0)
    return -1;
  if (st.st_dev != f->dev || st.st_ino != f->ino) {
    errno = ESTALE;
    return -1;
  }
  f->fd = steal_fd(&fd);
  return 0;
}

/* The part of PATH below the directory at ANCHOR_LEN, up to LEN. */
static const char *path_below(const struct rel_path *p, size_t anchor_len, size_t len,
                              size_t *out_len)
{
  size_t start = anchor_len == 0 ? 0 : anchor_len + 1;
  *out_len = len > start ? len - start : 0;
  return p->buf + start;
}

/* ---- what a copy must do, shared with the workers (read-only there) ---- */

struct copy_rules {
  bool as_root;
  uint32_t shift_base, shift_count; /* appc_copy_options' */
  bool predict;                     /* creation gives our owner and mode & ~umask: see probe */
  uid_t uid;
  gid_t gid;
  mode_t umask;
};

/* An id of the source as the copy gets it. */
static uint32_t shifted_id(const struct copy_rules *r, uint32_t id)
{
  if (r->shift_count == 0)
    return id;
  return id < r->shift_count ? r->shift_base + id : 65534;
}

static bool needs_chown(const struct copy_rules *r, const struct stat *st, bool created)
{
  if (!r->as_root)
    return false;
  if (r->shift_count > 0)
    return true;
  return !created || !r->predict || st->st_uid != r->uid || st->st_gid != r->gid;
}

/* CREATE_MODE is the mode asked for at creation. */
static bool needs_chmod(const struct copy_rules *r, const struct stat *st, mode_t create_mode,
                        bool created)
{
  return !created || !r->predict || (st->st_mode & 07777) != (create_mode & ~r->umask);
}

/* The umask, which nothing but /proc reads without changing it. */
static bool read_umask(mode_t *out)
{
  cleanup_fclose FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  unsigned int mask;

  if (f == NULL)
    return false;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "Umask: %o", &mask) == 1) {
      *out = (mode_t) mask;
      return true;
    }
  return false;
}

/* ---- per-thread buffers ---- */

struct copy_buffers {
  char *xlist;
  char *xvalue;
  struct appc_file_copier files;
  char link[PATH_MAX + 1];
};

static int copy_buffers_init(struct copy_buffers *b)
{
  b->xlist = malloc(XATTR_BUF_SIZE);
  b->xvalue = malloc(XATTR_BUF_SIZE);
  b->files = (struct appc_file_copier) APPC_FILE_COPIER_INIT;
  return b->xlist != NULL && b->xvalue != NULL ? 0 : -1;
}

static void copy_buffers_clear(struct copy_buffers *b)
{
  free(b->xlist);
  free(b->xvalue);
  appc_file_copier_clear(&b->files);
  b->xlist = b->xvalue = NULL;
}

/* ---- file data ---- */

static int copy_data(struct copy_buffers *b, int src, int dst, const struct stat *st)
{
  return appc_file_copy_data(&b->files, src, dst, st);
}

/* ---- metadata ---- */

/* An entry, by descriptor or, for those that are never opened (symlinks,
 * devices, FIFOs), by name in a directory. */
struct node {
  int fd;
  int dir_fd;
  const char *name;
};

static void node_proc_path(const struct node *n, char *buf)
{
  snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d/%s", n->dir_fd, n->name);
}

static ssize_t node_listxattr(const struct node *n, char *list, size_t size)
{
  char path[PROC_FD_PATH_MAX];
  if (n->fd >= 0)
    return flistxattr(n->fd, list, size);
  node_proc_path(n, path);
  return llistxattr(path, list, size);
}

static ssize_t node_getxattr(const struct node *n, const char *name, void *value, size_t size)
{
  char path[PROC_FD_PATH_MAX];
  if (n->fd >= 0)
    return fgetxattr(n->fd, name, value, size);
  node_proc_path(n, path);
  return lgetxattr(path, name, value, size);
}

static int node_setxattr(const struct node *n, const char *name, const void *value, size_t size)
{
  char path[PROC_FD_PATH_MAX];
  if (n->fd >= 0)
    return fsetxattr(n->fd, name, value, size, 0);
  node_proc_path(n, path);
  return lsetxattr(path, name, value, size, 0);
}

/* Without root, attributes outside user.* may be refused (security.*,
 * trusted.*) or unsupported: the copy goes on without them. */
static bool xattr_refusal_ignored(const struct copy_rules *r, const char *name, int e)
{
  return !r->as_root && strncmp(name, "user.", 5) != 0 &&
         (e == EPERM || e == EACCES || e == ENOTSUP || e == EOPNOTSUPP);
}

static int copy_xattrs(struct copy_buffers *b, const struct copy_rules *r, const struct node *src,
                       const struct node *dst, const char *path, appc_error_t *err)
{
  ssize_t len = node_listxattr(src, b->xlist, XATTR_BUF_SIZE);

  if (len < 0 && (errno == ENOTSUP || errno == EOPNOTSUPP))
    return 0;
  /* Entries that are never opened are reached through /proc/self/fd: without
   * /proc (a bare chroot) their attributes cannot be copied. */
  if (len < 0 && errno == ENOENT && src->fd < 0)
    return 0;
  if (len < 0)
    return appc_error_make(err, errno, "%s: listing extended attributes", path);
  for (const char *name = b->xlist; name < b->xlist + len; name += strlen(name) + 1) {
    ssize_t size = node_getxattr(src, name, b->xvalue, XATTR_BUF_SIZE);
    if (size < 0 && (errno == ENODATA || xattr_refusal_ignored(r, name, errno)))
      continue;
    if (size < 0)
      return appc_error_make(err, errno, "%s: reading extended attribute %s", path, name);
    if (node_setxattr(dst, name, b->xvalue, (size_t) size) < 0 &&
        !xattr_refusal_ignored(r, name, errno))
      return appc_error_make(err, errno, "%s: setting extended attribute %s", path, name);
  }
  return 0;
}

/* Give DST the owner, extended attributes, mode and times of ST / SRC, in
 * the order that keeps each: chown clears set-id bits and
 * security.capability, so it comes first.  CREATED says DST was created by
 * this copy with CREATE_MODE. */
static int apply_metadata(struct copy_buffers *b, const struct copy_rules *r,
                          const struct node *src, const struct node *dst, const struct stat *st,
                          mode_t create_mode, bool created, const char *path, appc_error_t *err)
{
  bool is_link = S_ISLNK(st->st_mode);
  struct timespec times[2] = {st->st_atim, st->st_mtim};
  int ret;

  if (needs_chown(r, st, created)) {
    uid_t uid = shifted_id(r, st->st_uid);
    gid_t gid = shifted_id(r, st->st_gid);
    ret = dst->fd >= 0 ? fchown(dst->fd, uid, gid)
                       : fchownat(dst->dir_fd, dst->name, uid, gid, AT_SYMLINK_NOFOLLOW);
    if (ret < 0)
      return appc_error_make(err, errno, "%s: setting owner %u:%u", path, (unsigned) uid,
                             (unsigned) gid);
  }
  if (copy_xattrs(b, r, src, dst, path, err) < 0)
    return -1;
  if (!is_link && needs_chmod(r, st, create_mode, created)) {
    mode_t mode = st->st_mode & 07777;
    ret = dst->fd >= 0 ? fchmod(dst->fd, mode) : fchmodat(dst->dir_fd, dst->name, mode, 0);
    if (ret < 0)
      return appc_error_make(err, errno, "%s: setting mode %04o", path, (unsigned) mode);
  }
  ret = dst->fd >= 0 ? futimens(dst->fd, times)
                     : utimensat(dst->dir_fd, dst->name, times, AT_SYMLINK_NOFOLLOW);
  if (ret < 0)
    return appc_error_make(err, errno, "%s: setting times", path);
  return 0;
}

/* ---- regular files: jobs for the workers ---- */

struct copy_ctx;

/* A regular file, created: its data and metadata are copied by an item of
 * the work queue, which owns the job. */
struct file_job {
  struct copy_ctx *c;
  int src_fd;
  int dst_fd;
  struct stat st;
  char path[]; /* relative to the roots */
};

static void file_job_free(void *data)
{
  struct file_job *j = data;

  close(j->src_fd);
  close(j->dst_fd);
  free(j);
}

static int run_file_job(struct copy_buffers *b, const struct copy_rules *r,
                        const struct file_job *j, appc_error_t *err)
{
  struct node src = {.fd = j->src_fd, .dir_fd = -1, .name = NULL};
  struct node dst = {.fd = j->dst_fd, .dir_fd = -1, .name = NULL};

  if (copy_data(b, j->src_fd, j->dst_fd, &j->st) < 0)
    return appc_error_make(err, errno, "%s: copying data", j->path);
  return apply_metadata(b, r, &src, &dst, &j->st, j->st.st_mode & 0777, true, j->path, err);
}

/* ---- hard links: the first copy of each (dev, ino) ---- */

struct link_entry {
  struct appc_inode inode; /* first: the map's key */
  char *path;              /* relative to the roots */
};

struct link_table {
  struct appc_hashmap map; /* of struct link_entry; zeroed: not yet used */
};

static const char *link_table_find(const struct link_table *t, const struct stat *st)
{
  const struct appc_inode key = {st->st_dev, st->st_ino};
  const struct link_entry *e =
      t->map.len == 0 ? NULL
                      : appc_hashmap_find(&t->map, appc_hash_inode(&key), appc_inode_eq, &key);

  return e != NULL ? e->path : NULL;
}

static int link_table_add(struct link_table *t, const struct stat *st, const char *path)
{
  const struct appc_inode key = {st->st_dev, st->st_ino};
  struct link_entry *e;
  bool added;

  if (t->map.entry_size == 0)
    appc_hashmap_init(&t->map, sizeof(struct link_entry), 64);
  e = appc_hashmap_insert(&t->map, appc_hash_inode(&key), appc_inode_eq, &key, &added);
  if (e == NULL)
    return -1;
  if (!added)
    return 0; /* the first copy stays the one to link to */
  e->inode = key;
  e->path = strdup(path);
  return e->path != NULL ? 0 : -1;
}

static void free_link_entry(void *entry)
{
  free(((struct link_entry *) entry)->path);
}

static void link_table_free(struct link_table *t)
{
  appc_hashmap_clear(&t->map, free_link_entry);
}

/* ---- the walk ---- */

struct copy_dir {
  struct frame src;
  struct frame dst;
  size_t path_len;
};

struct copy_ctx {
  const struct appc_copy_options *opts;
  struct copy_rules rules;
  bool umask_known;
  bool probed;  /* rules.predict stays false until checked */
  bool noatime; /* open sources with O_NOATIME until refused */
  int dst_root;
  struct stat dst_root_st; /* met in the source: the copy is inside it */
  struct rel_path path;
  struct link_table links;
  struct copy_dir *anchor;  /* the deepest directory that never parks */
  struct copy_buffers bufs; /* the walk's, and for jobs it runs itself */
  char *dents;
  struct appc_wq *queue;            /* runs the file jobs */
  unsigned nworkers;                /* its threads */
  struct copy_buffers *worker_bufs; /* one per worker, made on its first job */
};

static int open_source(struct copy_ctx *c, int dir_fd, const char *name, int flags)
{
  if (c->noatime) {
    int fd = openat(dir_fd, name, flags | O_NOATIME);
    if (fd >= 0 || errno != EPERM)
      return fd;
    c->noatime = false; /* not our files and no CAP_FOWNER */
  }
  return openat(dir_fd, name, flags);
}

/* Check once, on the first entry created, that creation gives what
 * needs_chown/needs_chmod assume. */
static void probe_creation(struct copy_ctx *c, int fd, mode_t create_mode)
{
  struct stat st;

  if (c->probed)
    return;
  c->probed = true;
  c->rules.predict = c->umask_known && fstat(fd, &st) == 0 && st.st_uid == c->rules.uid &&
                     st.st_gid == c->rules.gid &&
                     (st.st_mode & 07777) == (create_mode & ~c->rules.umask);
}

static bool copy_failed(const struct copy_ctx *c)
{
  return appc_wq_cancelled(c->queue);
}

/* The buffers of the thread WORKER of the queue. */
static struct copy_buffers *job_buffers(struct copy_ctx *c, unsigned worker)
{
  struct copy_buffers *b;

  if (worker == c->nworkers)
    return &c->bufs;
  b = &c->worker_bufs[worker];
  if (b->xlist == NULL || b->xvalue == NULL) {
    copy_buffers_clear(b);
    if (copy_buffers_init(b) < 0)
      return NULL;
  }
  return b;
}

/* A queue item: copy one file's data and metadata. */
static int copy_file_item(void *data, unsigned worker, appc_error_t *err)
{
  struct file_job *j = data;
  struct copy_buffers *b = job_buffers(j->c, worker);
  int r = b != NULL ? run_file_job(b, &j->c->rules, j, err)
                    : appc_error_make(err, ENOMEM, "%s: copying", j->path);

  file_job_free(j);
  return r;
}

/* Link NAME in DST_DIR to the copy of FIRST (relative to the destination
 * root), opening FIRST's directory by components when the path is too long
 * for one call. */
static int link_to_first(struct copy_ctx *c, const char *first, int dst_dir, const char *name)
{
  if (linkat(c->dst_root, first, dst_dir, name, 0) == 0)
    return 0;
  if (errno != ENAMETOOLONG)
    return -1;
  const char *slash = strrchr(first, '/');
  cleanup_close int parent = open_dir_below(c->dst_root, first, (size_t) (slash - first));
  if (parent < 0)
    return -1;
  return linkat(parent, slash + 1, dst_dir, name, 0);
}

/* A second name of an inode already copied: link it.  Returns 1 when ST is
 * not such a name (the caller copies it), 0 when linked, -1 on error. */
static int copy_as_link(struct copy_ctx *c, int dst_dir, const char *name, const struct stat *st,
                        appc_error_t *err)
{
  if (st->st_nlink < 2 || S_ISDIR(st->st_mode))
    return 1;
  const char *first = link_table_find(&c->links, st);
  if (first == NULL)
    return 1;
  if (link_to_first(c, first, dst_dir, name) < 0)
    return appc_error_make(err, errno, "%s: linking to %s", rel_path_str(&c->path), first);
  return 0;
}

/* Remember the first copy of an inode that has more names. */
static int note_first_link(struct copy_ctx *c, const struct stat *st, appc_error_t *err)
{
  if (st->st_nlink < 2 || S_ISDIR(st->st_mode))
    return 0;
  if (link_table_add(&c->links, st, c->path.buf) < 0)
    return appc_error_make(err, ENOMEM, "%s: recording hard link", rel_path_str(&c->path));
  return 0;
}

/* SRC_FD (owned) is the open regular file ST. */
static int copy_regular(struct copy_ctx *c, int src_fd, int dst_dir, const char *name,
                        const struct stat *st, appc_error_t *err)
{
  cleanup_close int src = src_fd;
  mode_t create_mode = st->st_mode & 0777;
  int r = copy_as_link(c, dst_dir, name, st, err);

  if (r <= 0)
    return r;
  cleanup_close int dst =
      openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, create_mode);
  if (dst < 0)
    return appc_error_make(err, errno, "%s: creating", rel_path_str(&c->path));
  probe_creation(c, dst, create_mode);
  if (note_first_link(c, st, err) < 0)
    return -1;
  struct file_job *job = malloc(sizeof *job + c->path.len + 1);
  if (job == NULL)
    return appc_error_make(err, ENOMEM, "%s: copying", c->path.buf);
  *job = (struct file_job){.c = c, .src_fd = steal_fd(&src), .dst_fd = steal_fd(&dst), .st = *st};
  memcpy(job->path, c->path.buf, c->path.len + 1);
  /* The job is now the queue's; a failure is what appc_wq_wait reports. */
  return appc_wq_submit(c->queue, copy_file_item, job);
}

static int copy_symlink(struct copy_ctx *c, int src_dir, int dst_dir, const char *name,
                        const struct stat *st, appc_error_t *err)
{
  const char *path = rel_path_str(&c->path);
  int r = copy_as_link(c, dst_dir, name, st, err);

  if (r <= 0)
    return r;
  ssize_t n = readlinkat(src_dir, name, c->bufs.link, sizeof c->bufs.link);
  if (n < 0)
    return appc_error_make(err, errno, "%s: reading symlink", path);
  if ((size_t) n >= sizeof c->bufs.link)
    return appc_error_make(err, ENAMETOOLONG, "%s: reading symlink", path);
  c->bufs.link[n] = '\0';
  if (symlinkat(c->bufs.link, dst_dir, name) < 0)
    return appc_error_make(err, errno, "%s: creating symlink", path);
  if (note_first_link(c, st, err) < 0)
    return -1;
  struct node src = {.fd = -1, .dir_fd = src_dir, .name = name};
  struct node dst = {.fd = -1, .dir_fd = dst_dir, .name = name};
  return apply_metadata(&c->bufs, &c->rules, &src, &dst, st, 0777, true, path, err);
}

/* FIFOs, and device nodes when copying as root (else they are skipped, as
 * sockets always are). */
static int copy_node(struct copy_ctx *c, int src_dir, int dst_dir, const char *name,
                     const struct stat *st, appc_error_t *err)
{
  const char *path = rel_path_str(&c->path);
  mode_t create_mode = st->st_mode & 0777;

  if (S_ISSOCK(st->st_mode) || (!S_ISFIFO(st->st_mode) && !c->opts->as_root))
    return 0;
  int r = copy_as_link(c, dst_dir, name, st, err);
  if (r <= 0)
    return r;
  if (mknodat(dst_dir, name, (st->st_mode & S_IFMT) | create_mode, st->st_rdev) < 0)
    return appc_error_make(err, errno, "%s: creating %s", path,
                           S_ISFIFO(st->st_mode) ? "FIFO" : "device node");
  if (note_first_link(c, st, err) < 0)
    return -1;
  struct node src = {.fd = -1, .dir_fd = src_dir, .name = name};
  struct node dst = {.fd = -1, .dir_fd = dst_dir, .name = name};
  return apply_metadata(&c->bufs, &c->rules, &src, &dst, st, create_mode, true, path, err);
}

static int copy_dir_contents(struct copy_ctx *c, struct copy_dir *d, unsigned depth,
                             appc_error_t *err);

/* The directory's descriptors are closed while a subdirectory is worked on
 * below FD_DEPTH, and opened again from the anchor afterwards. */
static int park(struct copy_ctx *c, struct copy_dir *d, unsigned depth, appc_error_t *err)
{
  if (depth + 1 == FD_DEPTH)
    c->anchor = d;
  if (depth < FD_DEPTH)
    return 0;
  if (frame_park(&d->src) < 0 || frame_park(&d->dst) < 0)
    return appc_error_make(err, errno, "%s: reading directory", rel_path_str(&c->path));
  return 0;
}

static int unpark(struct copy_ctx *c, struct copy_dir *d, unsigned depth, appc_error_t *err)
{
  size_t len;

  if (depth < FD_DEPTH)
    return 0;
  const char *rel = path_below(&c->path, c->anchor->path_len, d->path_len, &len);
  if (frame_unpark(&d->src, c->anchor->src.fd, rel, len) < 0 ||
      frame_unpark(&d->dst, c->anchor->dst.fd, rel, len) < 0)
    return appc_error_make(err, errno, "%s: opening directory again", rel_path_str(&c->path));
  return 0;
}

/* SRC_FD (owned) is the open directory ST, to be copied as NAME in the
 * directory PARENT at DEPTH. */
static int copy_subdir(struct copy_ctx *c, struct copy_dir *parent, unsigned depth, int src_fd,
                       const char *name, const struct stat *st, appc_error_t *err)
{
  struct copy_dir d = {.src.fd = src_fd, .dst.fd = -1, .path_len = c->path.len};
  /* Its final mode when that lets us fill it, which spares a chmod of most
   * directories; the mode is set after it is filled in any case. */
  mode_t create_mode = (st->st_mode & 0777) | 0700;
  const char *path = c->path.buf;
  int r;

  /* The destination inside the tree copied (a bind mount of one of its
   * directories, which no climb of ".." from the destination sees): going
   * on would copy the copy as it grows, level after level, until the file
   * system is full. */
  if (st->st_dev == c->dst_root_st.st_dev && st->st_ino == c->dst_root_st.st_ino) {
    close(src_fd);
    return appc_error_make(err, ELOOP,
                           "%s: the destination itself: a tree cannot be copied into itself", path);
  }
  if (mkdirat(parent->dst.fd, name, create_mode) < 0) {
    close(src_fd);
    return appc_error_make(err, errno, "%s: creating directory", path);
  }
  d.dst.fd = openat(parent->dst.fd, name, DIR_OPEN_FLAGS);
  if (d.dst.fd < 0)
    r = appc_error_make(err, errno, "%s: opening new directory", path);
  else
    r = 0;
  if (r == 0) {
    probe_creation(c, d.dst.fd, create_mode);
    r = park(c, parent, depth, err);
  }
  if (r == 0)
    r = copy_dir_contents(c, &d, depth + 1, err);
  if (r == 0) {
    struct node src = {.fd = d.src.fd, .dir_fd = -1, .name = NULL};
    struct node dst = {.fd = d.dst.fd, .dir_fd = -1, .name = NULL};
    r = apply_metadata(&c->bufs, &c->rules, &src, &dst, st, create_mode, true, c->path.buf, err);
  }
  /* either may have been lost to a failed unpark below */
  if (d.src.fd >= 0)
    close(d.src.fd);
  if (d.dst.fd >= 0)
    close(d.dst.fd);
  if (r == 0)
    r = unpark(c, parent, depth, err);
  return r;
}

/* Copy NAME, whose type is known from lstat. */
static int copy_by_lstat(struct copy_ctx *c, struct copy_dir *d, unsigned depth, const char *name,
                         appc_error_t *err)
{
  const char *path = c->path.buf;
  struct stat st, fst;
  int fd;

  if (fstatat(d->src.fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "%s: stat", path);
  if (S_ISLNK(st.st_mode))
    return copy_symlink(c, d->src.fd, d->dst.fd, name, &st, err);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return copy_node(c, d->src.fd, d->dst.fd, name, &st, err);
  fd = open_source(c, d->src.fd, name,
                   (S_ISDIR(st.st_mode) ? DIR_OPEN_FLAGS : O_RDONLY | O_NOFOLLOW | O_CLOEXEC) |
                       O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return appc_error_make(err, errno, "%s: opening", path);
  if (fstat(fd, &fst) < 0 || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
    close(fd);
    return appc_error_make(err, EAGAIN, "%s: changed while being copied", path);
  }
  if (S_ISDIR(fst.st_mode))
    return copy_subdir(c, d, depth, fd, name, &fst, err);
  return copy_regular(c, fd, d->dst.fd, name, &fst, err);
}

/* Copy NAME of the directory D; TYPE is its d_type, which saves the lstat
 * of files and directories: they are opened and fstat'ed instead.  Anything
 * unexpected goes the slow way, through copy_by_lstat. */
static int copy_entry(struct copy_ctx *c, struct copy_dir *d, unsigned depth, const char *name,
                      unsigned char type, appc_error_t *err)
{
  struct stat st;
  int flags;

  if (type == DT_REG)
    flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  else if (type == DT_DIR)
    flags = DIR_OPEN_FLAGS;
  else
    return copy_by_lstat(c, d, depth, name, err);
  int fd = open_source(c, d->src.fd, name, flags);
  if (fd < 0 && (errno == ELOOP || errno == ENOTDIR || errno == ENOENT || errno == ENXIO))
    return copy_by_lstat(c, d, depth, name, err); /* not what getdents said */
  if (fd < 0)
    return appc_error_make(err, errno, "%s: opening", c->path.buf);
  if (fstat(fd, &st) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e, "%s: stat", c->path.buf);
  }
  if (type == DT_DIR)
    return copy_subdir(c, d, depth, fd, name, &st, err);
  if (S_ISREG(st.st_mode))
    return copy_regular(c, fd, d->dst.fd, name, &st, err);
  close(fd);
  return copy_by_lstat(c, d, depth, name, err);
}

static bool cancelled(const struct appc_copy_options *o)
{
  return o->cancelled != NULL && o->cancelled(o->cancel_data);
}

static int copy_dir_contents(struct copy_ctx *c, struct copy_dir *d, unsigned depth,
                             appc_error_t *err)
{
  struct dir_list l = {0};
  int r = 0;

  if (dir_list_read(d->src.fd, &l, c->dents) < 0) {
    int e = errno;
    dir_list_free(&l);
    return appc_error_make(err, e, "%s: reading directory", rel_path_str(&c->path));
  }
  for (size_t i = 0; i < l.n && r == 0; i++) {
    size_t saved;
    if (cancelled(c->opts)) {
      r = appc_error_make(err, ECANCELED, "%s: copy cancelled", rel_path_str(&c->path));
      break;
    }
    if (copy_failed(c)) {
      r = -1; /* the worker's error is reported */
      break;
    }
    if (rel_path_push(&c->path, dir_list_name(&l, i), &saved) < 0) {
      r = appc_error_make(err, ENOMEM, "%s: copying", rel_path_str(&c->path));
      break;
    }
    r = copy_entry(c, d, depth, dir_list_name(&l, i), l.v[i].type, err);
    rel_path_pop(&c->path, saved);
  }
  dir_list_free(&l);
  return r;
}

static void copy_ctx_clear(struct copy_ctx *c)
{
  appc_wq_free(c->queue);
  for (unsigned i = 0; c->worker_bufs != NULL && i < c->nworkers; i++)
    copy_buffers_clear(&c->worker_bufs[i]);
  free(c->worker_bufs);
  free(c->path.buf);
  link_table_free(&c->links);
  copy_buffers_clear(&c->bufs);
  free(c->dents);
}

/* The destination root is made by the caller: drop what creating entries
 * in it would inherit (the set-group-ID bit's group and a default ACL),
 * since its own metadata is replaced by the source root's anyway. */
static int prepare_dst_root(int fd, appc_error_t *err)
{
  struct stat st;

  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, ".: stat of destination");
  if ((st.st_mode & S_ISGID) && fchmod(fd, st.st_mode & 07777 & ~S_ISGID) < 0)
    return appc_error_make(err, errno, ".: clearing set-group-ID of destination");
  if (fremovexattr(fd, "system.posix_acl_default") < 0 && errno != ENODATA && errno != ENOTSUP &&
      errno != EOPNOTSUPP)
    return appc_error_make(err, errno, ".: removing default ACL of destination");
  return 0;
}

static int copy_ctx_init(struct copy_ctx *c, const struct appc_copy_options *opts, int dst_root,
                         appc_error_t *err)
{
  /* Workers besides the walk's thread, which copies the files that do not
   * fit in the queue. */
  struct appc_wq_options q = {.threads = APPC_WQ_OTHER_CPUS,
                              .max_threads = MAX_WORKERS,
                              .max_pending = QUEUE_LEN,
                              .discard = file_job_free};

  *c = (struct copy_ctx){.opts = opts, .dst_root = dst_root};
  c->rules.as_root = opts->as_root;
  c->rules.shift_base = opts->shift_base;
  c->rules.shift_count = opts->shift_count;
  c->rules.uid = geteuid();
  c->rules.gid = getegid();
  c->umask_known = read_umask(&c->rules.umask);
  c->noatime = c->rules.uid == 0;
  if (fstat(dst_root, &c->dst_root_st) < 0)
    return appc_error_make(err, errno, ".: destination");
  c->dents = malloc(DENTS_BUF_SIZE);
  if (c->dents == NULL || copy_buffers_init(&c->bufs) < 0)
    return appc_error_make(err, ENOMEM, "copying tree");
  if (appc_wq_new(&c->queue, &q, err) < 0)
    return appc_error_prefix(err, "copying tree");
  c->nworkers = appc_wq_threads(c->queue);
  if (c->nworkers > 0 && (c->worker_bufs = calloc(c->nworkers, sizeof *c->worker_bufs)) == NULL)
    return appc_error_make(err, ENOMEM, "copying tree");
  return 0;
}

/* Copy below ROOT (whose source is ST), then give the destination root the
 * source root's metadata; every job is finished (or dropped) on return. */
static int copy_root(struct copy_ctx *c, struct copy_dir *root, const struct stat *st,
                     appc_error_t *err)
{
  int r = prepare_dst_root(root->dst.fd, err);

  if (r == 0)
    r = copy_dir_contents(c, root, 0, err);
  /* Help with the jobs left, or drop them if the walk failed; a job's
   * error counts when the walk has none of its own. */
  if (r < 0)
    appc_wq_cancel(c->queue);
  cleanup_error appc_error_t job_err = NULL;
  if (appc_wq_wait(c->queue, &job_err) < 0) {
    if (*err == NULL)
      *err = steal_pointer(&job_err);
    r = -1;
  }
  if (r < 0)
    return -1;
  struct node src = {.fd = root->src.fd, .dir_fd = -1, .name = NULL};
  struct node dst = {.fd = root->dst.fd, .dir_fd = -1, .name = NULL};
  return apply_metadata(&c->bufs, &c->rules, &src, &dst, st, 0, false, ".", err);
}

int appc_tree_copy(int src_fd, int dst_fd, const struct appc_copy_options *opts, appc_error_t *err)
{
  static const struct appc_copy_options defaults = {0};
  cleanup_close int src = openat(src_fd, ".", DIR_OPEN_FLAGS);
  cleanup_close int dst = -1;
  cleanup_error appc_error_t e = NULL;
  struct copy_ctx c;
  struct stat st;
  int r;

  if (src < 0 || fstat(src, &st) < 0)
    return appc_error_make(err, errno, ".: opening source");
  dst = openat(dst_fd, ".", DIR_OPEN_FLAGS);
  if (dst < 0)
    return appc_error_make(err, errno, ".: opening destination");
  struct copy_dir root = {.src.fd = src, .dst.fd = dst, .path_len = 0};
  r = copy_ctx_init(&c, opts != NULL ? opts : &defaults, dst, &e);
  if (r == 0)
    r = copy_root(&c, &root, &st, &e);
  copy_ctx_clear(&c);
  if (r < 0 && err != NULL)
    *err = steal_pointer(&e);
  return r;
}

/* ---- removal ---- */

/* Unlinking in parallel.  Freeing a file's blocks can wait on the device
 * (on a file system mounted with `discard`, every unlink of a file with
 * data does), and unlinks in one directory by several threads overlap those
 * waits.  The files of a large enough directory are shared out in a batch:
 * each thread (the caller, and each worker of a work queue through one
 * item) takes the next entry and unlinks it; whatever a worker could not
 * unlink is left to the sequential pass, which knows how to handle and
 * report it. */
struct unlink_batch {
  int dir_fd;
  const struct dir_list *list;
  unsigned char *done; /* per entry: unlinked */
  atomic_size_t next;  /* the next entry to take */
};

/* A queue item, and the owner's share: unlink files of the batch until
 * none is left. */
static int unlink_share(void *data, unsigned worker, appc_error_t *err)
{
  struct unlink_batch *u = data;
  size_t i;

  (void) worker;
  (void) err;
  while ((i = atomic_fetch_add(&u->next, 1)) < u->list->n) {
    if (u->list->v[i].type != DT_DIR)
      u->done[i] = unlinkat(u->dir_fd, dir_list_name(u->list, i), 0) == 0 || errno == ENOENT;
  }
  return 0;
}

/* Unlink the files of L (in the directory FD) with the workers' help,
 * marking in DONE those that are gone; returns once no worker touches the
 * batch any more. */
static void unlink_batch(struct appc_wq *pool, int fd, const struct dir_list *l,
                         unsigned char *done)
{
  struct unlink_batch u = {.dir_fd = fd, .list = l, .done = done};

  atomic_init(&u.next, 0);
  for (unsigned i = 0; i < appc_wq_threads(pool); i++)
    (void) appc_wq_submit(pool, unlink_share, &u);
  unlink_share(&u, appc_wq_threads(pool), NULL);
  (void) appc_wq_wait(pool, NULL);
}

/* One directory being emptied: its listing and how far it got.  Below
 * FD_DEPTH a directory closes its descriptor while its subdirectories are
 * emptied, and gets it back from the last of them through "..", checked to
 * be the same directory: the walk keeps no more than FD_DEPTH descriptors
 * open, takes no C stack per level (an app can make a chain of a million
 * directories in its root, which a recursive walk overflowed on), and
 * climbs back in one step per level. */
struct rm_level {
  struct frame d; /* fd -1 while parked */
  struct dir_list l;
  unsigned char *done; /* entries a batch unlinked */
  size_t next;         /* the next entry to remove */
  size_t saved;        /* the path's length before its name */
};

struct remove_ctx {
  struct rel_path path;
  char *dents;
  bool start_pool;
  struct appc_wq *pool;
  struct rm_level *levels;
  size_t n, cap;
};

/* The pool, started at the first directory with enough files to share out
 * (smaller ones never are); NULL for a directory with fewer. */
static struct appc_wq *pool_for(struct remove_ctx *c, const struct dir_list *l)
{
  /* Unlinks mostly wait, so the workers are not bound to CPUs. */
  struct appc_wq_options o = {.threads = MAX_UNLINKERS};
  cleanup_error appc_error_t err = NULL;
  size_t files = 0;

  for (size_t i = 0; i < l->n && files < UNLINK_BATCH_MIN; i++)
    files += l->v[i].type != DT_DIR;
  if (files < UNLINK_BATCH_MIN)
    return NULL;
  if (c->start_pool) {
    c->start_pool = false;
    (void) appc_wq_new(&c->pool, &o, &err); /* without one, all is sequential */
  }
  return c->pool;
}

/* Give the owner rwx on the directory FD (for a non-root owner of a 0500
 * or 0000 directory; root needs no permission). */
static int make_writable(int fd)
{
  struct stat st;

  if (fstat(fd, &st) < 0)
    return -1;
  if ((st.st_mode & 0700) == 0700) {
    errno = EACCES; /* that was not the problem */
    return -1;
  }
  return fchmod(fd, (st.st_mode & 07777) | 0700);
}

/* unlinkat, and once more after making DIR_FD writable if refused; the
 * caller's own directory (DEPTH 0) is never changed. */
static int unlink_retrying(int dir_fd, unsigned depth, const char *name, int flags)
{
  if (unlinkat(dir_fd, name, flags) == 0)
    return 0;
  if (errno != EACCES || depth == 0 || make_writable(dir_fd) < 0)
    return -1;
  return unlinkat(dir_fd, name, flags);
}

/* Open the directory NAME in PARENT_FD (at PARENT_DEPTH) for removing its
 * entries, making it (or the parent) accessible to its owner if need be.
 * Returns the descriptor, -2 when NAME is gone or not a directory (any
 * more), or -1 with errno set. */
static int open_for_removal(int parent_fd, unsigned parent_depth, const char *name)
{
  int fd = openat(parent_fd, name, DIR_OPEN_FLAGS);

  if (fd < 0 && errno == EACCES && parent_depth > 0 && make_writable(parent_fd) == 0)
    fd = openat(parent_fd, name, DIR_OPEN_FLAGS);
  if (fd < 0 && errno == EACCES && fchmodat(parent_fd, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
    fd = openat(parent_fd, name, DIR_OPEN_FLAGS);
  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
    return -2;
  return fd;
}

/* Start emptying the directory SUB_FD, named by c->path (whose length
 * before its name is SAVED), one level below the top one. */
static int level_push(struct remove_ctx *c, int sub_fd, size_t saved, appc_error_t *err)
{
  struct rm_level *top;

  if (APPC_ARRAY_RESERVE(c->levels, c->cap, c->n + 1) < 0) {
    close(sub_fd);
    return appc_error_make(err, ENOMEM, "%s: removing", c->path.buf);
  }
  top = &c->levels[c->n++];
  *top = (struct rm_level){.d = {.fd = sub_fd}, .saved = saved};
  if (dir_list_read(sub_fd, &top->l, c->dents) < 0)
    return appc_error_make(err, errno, "%s: reading directory", c->path.buf);
  struct appc_wq *pool = pool_for(c, &top->l);
  if (pool != NULL && (top->done = calloc(top->l.n, 1)) != NULL)
    unlink_batch(pool, sub_fd, &top->l, top->done);
  return 0;
}

static void level_pop(struct remove_ctx *c)
{
  struct rm_level *top = &c->levels[--c->n];

  if (top->d.fd >= 0)
    close(top->d.fd);
  dir_list_free(&top->l);
  free(top->done);
}

/* The descriptor of the directory holding the top level's: PARENT (the
 * caller's) for the first, else the level below, taken back through ".."
 * when it was parked. */
static int level_parent_fd(struct remove_ctx *c, int parent, appc_error_t *err)
{
  struct rm_level *top = &c->levels[c->n - 1], *below;
  struct stat st;

  if (c->n == 1)
    return parent;
  below = &c->levels[c->n - 2];
  if (below->d.fd >= 0)
    return below->d.fd;
  below->d.fd = openat(top->d.fd, "..", DIR_OPEN_FLAGS);
  if (below->d.fd < 0 || fstat(below->d.fd, &st) < 0)
    return appc_error_make(err, errno, "%s: opening directory again", c->path.buf);
  if (st.st_dev != below->d.dev || st.st_ino != below->d.ino)
    return appc_error_make(err, ESTALE, "%s: opening directory again", c->path.buf);
  return below->d.fd;
}

/* The top level is empty: it goes, from its parent. */
static int level_finish(struct remove_ctx *c, int parent, appc_error_t *err)
{
  int pfd = level_parent_fd(c, parent, err);
  const char *name;

  if (pfd < 0)
    return -1;
  name = c->path.buf + c->levels[c->n - 1].saved + (c->levels[c->n - 1].saved > 0);
  if (unlink_retrying(pfd, (unsigned) c->n - 1, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return appc_error_make(err, errno, "%s: removing directory", c->path.buf);
  rel_path_pop(&c->path, c->levels[c->n - 1].saved);
  level_pop(c);
  return 0;
}

/* The next entry of the top level: unlinked, or a directory started. */
static int level_step(struct remove_ctx *c, appc_error_t *err)
{
  struct rm_level *top = &c->levels[c->n - 1];
  size_t i = top->next++, saved;
  unsigned depth = (unsigned) c->n;
  const char *name = dir_list_name(&top->l, i);

  if (top->done != NULL && top->done[i])
    return 0;
  if (rel_path_push(&c->path, name, &saved) < 0)
    return appc_error_make(err, ENOMEM, "%s: removing", c->path.buf);
  if (top->l.v[i].type != DT_DIR) {
    if (unlink_retrying(top->d.fd, depth, name, 0) == 0 || errno == ENOENT) {
      rel_path_pop(&c->path, saved);
      return 0;
    }
    if (errno != EISDIR && errno != EPERM)
      return appc_error_make(err, errno, "%s: removing", c->path.buf);
  }
  int sub = open_for_removal(top->d.fd, depth, name);
  if (sub == -2) { /* not a directory (any more), or gone */
    if (unlink_retrying(top->d.fd, depth, name, 0) < 0 && errno != ENOENT)
      return appc_error_make(err, errno, "%s: removing", c->path.buf);
    rel_path_pop(&c->path, saved);
    return 0;
  }
  if (sub < 0)
    return appc_error_make(err, errno, "%s: opening directory", c->path.buf);
  if (depth >= FD_DEPTH && frame_park(&top->d) < 0) {
    close(sub);
    return appc_error_make(err, errno, "%s: reading directory", c->path.buf);
  }
  return level_push(c, sub, saved, err);
}

int appc_remove_tree(int dir_fd, const char *name, appc_error_t *err)
{
  struct remove_ctx c = {.start_pool = true};
  size_t saved;
  int r = 0;

  /* Most calls remove a directory; unlinkat tells a non-directory apart
   * with no stat, and removes it. */
  if (unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return appc_error_make(err, errno, "%s: removing", name);
  c.dents = malloc(DENTS_BUF_SIZE);
  if (c.dents == NULL || rel_path_push(&c.path, name, &saved) < 0) {
    free(c.dents);
    return appc_error_make(err, ENOMEM, "%s: removing", name);
  }
  int top = open_for_removal(dir_fd, 0, name);
  if (top == -2) {
    if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
      r = appc_error_make(err, errno, "%s: removing", name);
  } else if (top < 0) {
    r = appc_error_make(err, errno, "%s: opening directory", name);
  } else {
    r = level_push(&c, top, saved, err);
  }
  while (r == 0 && c.n > 0)
    r = c.levels[c.n - 1].next < c.levels[c.n - 1].l.n ? level_step(&c, err)
                                                       : level_finish(&c, dir_fd, err);
  while (c.n > 0)
    level_pop(&c);
  free(c.levels);
  appc_wq_free(c.pool);
  free(c.path.buf);
  free(c.dents);
  return r;
}
