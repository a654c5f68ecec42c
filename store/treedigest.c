/* SPDX-License-Identifier: Apache-2.0 */
/* Tree digests: a SHA-256 over a canonical listing of a directory tree.
 *
 * docs/render.md defines the byte format.  Each entry becomes one record;
 * the records are collected in an arena, sorted by path bytes (a plain
 * depth-first walk cannot give that order: "a-b" sorts between "a" and
 * "a/x") and hashed in that order.  Directories are visited from a queue of
 * paths, each opened from the top with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS), so no symlink is ever followed and the number of
 * open descriptors does not grow with the tree's depth. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>

#include "common/array.h"
#include "common/cleanup.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "store/internal.h"

/* ---- content hashes by (st_dev, st_ino) ---- */

struct content_hash {
  struct appc_inode inode; /* first: the map's key */
  unsigned char sha256[32];
};

struct appc_content_hashes {
  struct appc_hashmap map; /* of struct content_hash */
};

int appc_content_hashes_new(struct appc_content_hashes **out, appc_error_t *err)
{
  struct appc_content_hashes *h = calloc(1, sizeof *h);

  if (h == NULL)
    return appc_error_make(err, ENOMEM, "content hashes");
  appc_hashmap_init(&h->map, sizeof(struct content_hash), 1024);
  *out = h;
  return 0;
}

int appc_content_hashes_put(struct appc_content_hashes *h, dev_t dev, ino_t ino,
                            const unsigned char sha256[32], appc_error_t *err)
{
  const struct appc_inode key = {dev, ino};
  struct content_hash *e;
  bool added;

  e = appc_hashmap_insert(&h->map, appc_hash_inode(&key), appc_inode_eq, &key, &added);
  if (e == NULL)
    return appc_error_make(err, ENOMEM, "content hashes");
  e->inode = key;
  memcpy(e->sha256, sha256, 32);
  return 0;
}

static const unsigned char *content_hash_get(const struct appc_content_hashes *h, dev_t dev,
                                             ino_t ino)
{
  const struct appc_inode key = {dev, ino};
  const struct content_hash *e;

  if (h == NULL)
    return NULL;
  e = appc_hashmap_find(&h->map, appc_hash_inode(&key), appc_inode_eq, &key);
  return e != NULL ? e->sha256 : NULL;
}

void appc_content_hashes_free(struct appc_content_hashes *h)
{
  if (h == NULL)
    return;
  appc_hashmap_clear(&h->map, NULL);
  free(h);
}

/* ---- the walk ---- */

#define IO_BUF (256 * 1024)

struct record {
  size_t off;       /* of the record's bytes in the arena */
  size_t len;       /* of the record's bytes */
  const char *path; /* inside the arena, set once the walk is over */
  uint32_t path_len;
};

struct digest {
  int root_fd;
  const struct appc_content_hashes *known;
  const struct appc_callbacks *cb; /* cancels the reading of files */
  unsigned char *arena;            /* every record's bytes, one after the other */
  size_t arena_len, arena_cap;
  struct record *recs;
  size_t n_recs, recs_cap;
  char **queue; /* directories still to visit, relative to root_fd */
  size_t q_head, q_len, q_cap;
  unsigned char *io; /* file reads */
  char *names;       /* listxattr results */
  size_t names_cap;
  char *value; /* getxattr results */
  size_t value_cap;
  bool no_openat2; /* see appc_open_beneath() */
};

static int arena_reserve(struct digest *d, size_t more, appc_error_t *err)
{
  /* A tree of thousands of files: start at 1 MiB rather than double
   * from a few bytes. */
  if (d->arena_cap == 0)
    d->arena_cap = 1 << 20;
  if (APPC_ARRAY_RESERVE(d->arena, d->arena_cap, d->arena_len + more) < 0)
    return appc_error_make(err, ENOMEM, "tree digest");
  return 0;
}

static int put_bytes(struct digest *d, const void *p, size_t n, appc_error_t *err)
{
  if (arena_reserve(d, n, err) < 0)
    return -1;
  memcpy(d->arena + d->arena_len, p, n);
  d->arena_len += n;
  return 0;
}

/* Little-endian, whatever the host. */
static int put_u64(struct digest *d, uint64_t v, appc_error_t *err)
{
  unsigned char b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (unsigned char) (v >> (8 * i));
  return put_bytes(d, b, 8, err);
}

static int put_u32(struct digest *d, uint32_t v, appc_error_t *err)
{
  unsigned char b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (unsigned char) (v >> (8 * i));
  return put_bytes(d, b, 4, err);
}

/* A length-prefixed byte string. */
static int put_str(struct digest *d, const void *p, size_t n, appc_error_t *err)
{
  if (n > UINT32_MAX)
    return appc_error_make(err, E2BIG, "tree digest");
  if (put_u32(d, (uint32_t) n, err) < 0)
    return -1;
  return put_bytes(d, p, n, err);
}

static char type_code(mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFREG:
    return 'f';
  case S_IFDIR:
    return 'd';
  case S_IFLNK:
    return 'l';
  case S_IFCHR:
    return 'c';
  case S_IFBLK:
    return 'b';
  case S_IFIFO:
    return 'p';
  default:
    return 's';
  }
}

/* Start a record: path and the attributes every type has. */
static int record_begin(struct digest *d, const char *path, const struct stat *st,
                        appc_error_t *err)
{
  struct record *rec;
  char type = type_code(st->st_mode);

  if (APPC_ARRAY_RESERVE(d->recs, d->recs_cap, d->n_recs + 1) < 0)
    return appc_error_make(err, ENOMEM, "tree digest");
  rec = &d->recs[d->n_recs++];
  rec->off = d->arena_len;
  rec->path_len = (uint32_t) strlen(path);
  if (put_str(d, path, rec->path_len, err) < 0 || put_bytes(d, &type, 1, err) < 0 ||
      put_u32(d, (uint32_t) (st->st_mode & 07777), err) < 0 ||
      put_u32(d, (uint32_t) st->st_uid, err) < 0 || put_u32(d, (uint32_t) st->st_gid, err) < 0 ||
      put_u64(d, (uint64_t) st->st_mtim.tv_sec, err) < 0 ||
      put_u32(d, (uint32_t) st->st_mtim.tv_nsec, err) < 0)
    return -1;
  return 0;
}

static void record_end(struct digest *d)
{
  struct record *rec = &d->recs[d->n_recs - 1];
  rec->len = d->arena_len - rec->off;
}

/* Grow *BUF to hold N bytes. */
static int ensure(char **buf, size_t *cap, size_t n, appc_error_t *err)
{
  if (APPC_ARRAY_RESERVE(*buf, *cap, n) < 0)
    return appc_error_make(err, ENOMEM, "tree digest");
  return 0;
}

/* Where an entry's extended attributes are read from: its own descriptor
 * when one is open, else a path through /proc/self/fd that names it inside
 * its directory without following it (there is no fd-relative listxattr
 * before Linux 6.13). */
struct xattr_src {
  int fd;
  const char *proc_path;
};

static ssize_t xattr_list(const struct xattr_src *src, char *buf, size_t size)
{
  return src->fd >= 0 ? flistxattr(src->fd, buf, size) : llistxattr(src->proc_path, buf, size);
}

static ssize_t xattr_get(const struct xattr_src *src, const char *name, void *buf, size_t size)
{
  return src->fd >= 0 ? fgetxattr(src->fd, name, buf, size)
                      : lgetxattr(src->proc_path, name, buf, size);
}

/* The NUL-separated list of names into d->names; *LEN 0 when none. */
static int read_xattr_names(struct digest *d, const struct xattr_src *src, size_t *len,
                            appc_error_t *err)
{
  for (;;) {
    ssize_t n = xattr_list(src, d->names, d->names_cap);
    if (n >= 0) {
      *len = (size_t) n;
      return 0;
    }
    if (errno == ENOTSUP) {
      *len = 0;
      return 0;
    }
    if (errno != ERANGE)
      return appc_error_make(err, errno, "listxattr");
    n = xattr_list(src, NULL, 0);
    if (n < 0)
      return appc_error_make(err, errno, "listxattr");
    if (ensure(&d->names, &d->names_cap, (size_t) n + 1, err) < 0)
      return -1;
  }
}

/* The value of NAME into d->value. */
static int read_xattr_value(struct digest *d, const struct xattr_src *src, const char *name,
                            size_t *len, appc_error_t *err)
{
  for (;;) {
    ssize_t n = xattr_get(src, name, d->value, d->value_cap);
    if (n >= 0) {
      *len = (size_t) n;
      return 0;
    }
    if (errno != ERANGE)
      return appc_error_make(err, errno, "getxattr %s", name);
    n = xattr_get(src, name, NULL, 0);
    if (n < 0)
      return appc_error_make(err, errno, "getxattr %s", name);
    if (ensure(&d->value, &d->value_cap, (size_t) n + 1, err) < 0)
      return -1;
  }
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Count, then (name, value) pairs sorted by name. */
static int put_xattrs(struct digest *d, const struct xattr_src *src, appc_error_t *err)
{
  size_t len, n = 0;
  cleanup_free char **names = NULL;

  if (read_xattr_names(d, src, &len, err) < 0)
    return -1;
  for (size_t i = 0; i < len; i += strlen(d->names + i) + 1)
    n++;
  if (put_u32(d, (uint32_t) n, err) < 0)
    return -1;
  if (n == 0)
    return 0;
  names = malloc(n * sizeof *names);
  if (names == NULL)
    return appc_error_make(err, ENOMEM, "tree digest");
  n = 0;
  for (size_t i = 0; i < len; i += strlen(d->names + i) + 1)
    names[n++] = d->names + i;
  qsort(names, n, sizeof *names, cmp_names);
  for (size_t i = 0; i < n; i++) {
    size_t vlen = 0;
    if (read_xattr_value(d, src, names[i], &vlen, err) < 0 ||
        put_str(d, names[i], strlen(names[i]), err) < 0 || put_str(d, d->value, vlen, err) < 0)
      return -1;
  }
  return 0;
}

/* A regular file: size, content hash (known or read) and xattrs. */
static int put_regular(struct digest *d, int dir_fd, const char *name, const char *proc_path,
                       const struct stat *st, appc_error_t *err)
{
  const unsigned char *known = content_hash_get(d->known, st->st_dev, st->st_ino);
  unsigned char sha256[32];
  cleanup_close int fd = -1;
  struct xattr_src src = {-1, proc_path};
  struct stat now;

  if (known == NULL) {
    fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
      return appc_error_make(err, errno, "open");
    if (fstat(fd, &now) < 0)
      return appc_error_make(err, errno, "stat");
    if (now.st_dev != st->st_dev || now.st_ino != st->st_ino)
      return appc_error_make(err, 0, "replaced while being read");
    if (appc_content_hash_fd(fd, st->st_size, d->io, IO_BUF, d->cb, sha256, err) < 0)
      return -1;
    known = sha256;
    src.fd = fd;
  }
  if (put_u64(d, (uint64_t) st->st_size, err) < 0 || put_bytes(d, known, 32, err) < 0)
    return -1;
  return put_xattrs(d, &src, err);
}

static int put_symlink(struct digest *d, int dir_fd, const char *name, const char *proc_path,
                       appc_error_t *err)
{
  char target[PATH_MAX + 1];
  ssize_t n = readlinkat(dir_fd, name, target, sizeof target);
  struct xattr_src src = {-1, proc_path};

  if (n < 0)
    return appc_error_make(err, errno, "readlink");
  if ((size_t) n == sizeof target)
    return appc_error_make(err, ENAMETOOLONG, "readlink");
  if (put_str(d, target, (size_t) n, err) < 0)
    return -1;
  return put_xattrs(d, &src, err);
}

/* One entry other than a directory (those are recorded when visited). */
static int put_entry(struct digest *d, int dir_fd, const char *name, const char *path,
                     const struct stat *st, appc_error_t *err)
{
  char proc_path[64 + NAME_MAX];
  struct xattr_src src = {-1, proc_path};

  snprintf(proc_path, sizeof proc_path, "/proc/self/fd/%d/%s", dir_fd, name);
  if (record_begin(d, path, st, err) < 0)
    return -1;
  switch (st->st_mode & S_IFMT) {
  case S_IFREG:
    if (put_regular(d, dir_fd, name, proc_path, st, err) < 0)
      return -1;
    break;
  case S_IFLNK:
    if (put_symlink(d, dir_fd, name, proc_path, err) < 0)
      return -1;
    break;
  case S_IFCHR:
  case S_IFBLK:
    if (put_u32(d, major(st->st_rdev), err) < 0 || put_u32(d, minor(st->st_rdev), err) < 0 ||
        put_xattrs(d, &src, err) < 0)
      return -1;
    break;
  default:
    if (put_xattrs(d, &src, err) < 0)
      return -1;
    break;
  }
  record_end(d);
  return 0;
}

static int queue_push(struct digest *d, char *path, appc_error_t *err)
{
  if (APPC_ARRAY_RESERVE(d->queue, d->q_cap, d->q_len + 1) < 0) {
    free(path);
    return appc_error_make(err, ENOMEM, "tree digest");
  }
  d->queue[d->q_len++] = path;
  return 0;
}

static int open_dir(struct digest *d, const char *path)
{
  if (path[0] == '\0')
    return openat(d->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  return appc_open_beneath(d->root_fd, path, &d->no_openat2);
}

static char *child_path(const char *dir, const char *name)
{
  char *p = NULL;
  if (dir[0] == '\0')
    return strdup(name);
  return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* Record the directory PATH itself, then its entries; queue its subdirectories. */
static int visit_dir(struct digest *d, const char *path, appc_error_t *err)
{
  cleanup_close int fd = open_dir(d, path);
  struct xattr_src src = {fd, NULL};
  struct stat st;
  struct dirent *de;
  DIR *dir;
  int ret = 0;

  if (fd < 0 || fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s", path[0] == '\0' ? "." : path);
  if (record_begin(d, path, &st, err) < 0 || put_xattrs(d, &src, err) < 0)
    return appc_error_prefix(err, "%s", path[0] == '\0' ? "." : path);
  record_end(d);
  /* fdopendir takes the descriptor it is given: give it a duplicate. */
  dir = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 0));
  if (dir == NULL)
    return appc_error_make(err, errno, "%s", path[0] == '\0' ? "." : path);
  while (ret == 0) {
    errno = 0;
    de = readdir(dir);
    if (de == NULL) {
      if (errno != 0)
        ret = appc_error_make(err, errno, "%s", path[0] == '\0' ? "." : path);
      break;
    }
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    cleanup_free char *sub = child_path(path, de->d_name);
    if (sub == NULL) {
      ret = appc_error_make(err, ENOMEM, "tree digest");
    } else if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      ret = appc_error_make(err, errno, "%s", sub);
    } else if (S_ISDIR(st.st_mode)) {
      ret = queue_push(d, steal_pointer(&sub), err);
    } else if (put_entry(d, fd, de->d_name, sub, &st, err) < 0) {
      ret = appc_error_prefix(err, "%s", sub);
    }
  }
  closedir(dir);
  return ret;
}

static int cmp_records(const void *a, const void *b)
{
  const struct record *x = a, *y = b;
  size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
  int c = memcmp(x->path, y->path, n);

  if (c != 0)
    return c;
  return (x->path_len > y->path_len) - (x->path_len < y->path_len);
}

static int hash_records(struct digest *d, char out[APPC_TREE_DIGEST_LEN + 1], appc_error_t *err)
{
  static const char hex[] = "0123456789abcdef";
  unsigned char sha256[32];
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();

  if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    EVP_MD_CTX_free(ctx);
    return appc_error_make(err, ENOMEM, "sha256");
  }
  for (size_t i = 0; i < d->n_recs; i++)
    EVP_DigestUpdate(ctx, d->arena + d->recs[i].off, d->recs[i].len);
  EVP_DigestFinal_ex(ctx, sha256, NULL);
  EVP_MD_CTX_free(ctx);
  memcpy(out, APPC_TREE_DIGEST_PREFIX, sizeof APPC_TREE_DIGEST_PREFIX - 1);
  char *p = out + sizeof APPC_TREE_DIGEST_PREFIX - 1;
  for (int i = 0; i < 32; i++) {
    *p++ = hex[sha256[i] >> 4];
    *p++ = hex[sha256[i] & 15];
  }
  *p = '\0';
  return 0;
}

static int walk(struct digest *d, appc_error_t *err)
{
  char *root = strdup("");

  if (root == NULL || queue_push(d, root, err) < 0)
    return root == NULL ? appc_error_make(err, ENOMEM, "tree digest") : -1;
  while (d->q_head < d->q_len) {
    if (visit_dir(d, d->queue[d->q_head], err) < 0)
      return -1;
    free(d->queue[d->q_head]);
    d->queue[d->q_head++] = NULL;
  }
  return 0;
}

static void digest_clear(struct digest *d)
{
  for (size_t i = d->q_head; i < d->q_len; i++)
    free(d->queue[i]);
  free(d->queue);
  free(d->arena);
  free(d->recs);
  free(d->io);
  free(d->names);
  free(d->value);
}

int appc_tree_digest(int dir_fd, const struct appc_content_hashes *known,
                     const struct appc_callbacks *cb, char digest[APPC_TREE_DIGEST_LEN + 1],
                     appc_error_t *err)
{
  struct digest d = {.root_fd = dir_fd, .known = known, .cb = cb};
  int ret = -1;

  if (appc_lazy_bind(APPC_LAZY_CRYPTO, err) < 0)
    return appc_error_prefix(err, "tree digest");
  /* A size of 0 would ask listxattr/getxattr for the size instead: the
   * buffers must never be empty. */
  d.io = malloc(IO_BUF);
  d.names_cap = d.value_cap = 4096;
  d.names = malloc(d.names_cap);
  d.value = malloc(d.value_cap);
  if (d.io == NULL || d.names == NULL || d.value == NULL) {
    appc_error_make(err, ENOMEM, "tree digest");
    goto out;
  }
  if (walk(&d, err) < 0)
    goto out;
  /* The arena no longer moves: paths can be pointed at. */
  for (size_t i = 0; i < d.n_recs; i++)
    d.recs[i].path = (const char *) d.arena + d.recs[i].off + 4;
  qsort(d.recs, d.n_recs, sizeof *d.recs, cmp_records);
  ret = hash_records(&d, digest, err);
out:
  digest_clear(&d);
  return ret;
}
