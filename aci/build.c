/* SPDX-License-Identifier: Apache-2.0 */
/* Building an ACI from an image layout.
 *
 * The tree is walked by hand, each directory's names sorted byte-wise, so the
 * archive order (manifest, rootfs, then rootfs in depth-first sorted order)
 * never depends on readdir order.  Metadata comes from
 * archive_read_disk_entry_from_file (modes, owners, times, xattrs, ACLs,
 * sparse maps); hard links are resolved by libarchive's link resolver keyed by
 * device and inode, so later names link to the first one in sorted order.
 *
 * Only regular files and directories are ever opened, with O_NOFOLLOW and
 * O_NONBLOCK, and the opened file must be the one lstat saw: opening a device
 * node or a FIFO could block forever or have side effects (a debootstrap
 * rootfs has /dev/console). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/internal.h"
#include "aci/layout.h"
#include "common/abi.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/archive-error.h"
#include "common/lazy.h"

#define COPY_BLOCK (128 * 1024)

struct build_ctx {
  const char *layout;
  const struct appc_callbacks *cb;
  struct appc_tar_writer *w;
  struct archive *disk;
  struct archive_entry_linkresolver *links;
  unsigned char *buf;
  unsigned flags; /* APPC_TAR_TREE_* (appc_tar_write_tree) */
  dev_t out_dev;  /* the output file, never packed into itself */
  ino_t out_ino;
  uint64_t done; /* bytes of file data packed, for progress */
};

struct name_list {
  char **names;
  size_t len;
  size_t cap;
};

static void name_list_clear(struct name_list *l)
{
  for (size_t i = 0; i < l->len; i++)
    free(l->names[i]);
  free(l->names);
}

static int name_cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *) a, *(char *const *) b);
}

/* All names in directory FD except "." and "..", sorted byte-wise. */
static int list_dir(int fd, struct name_list *l, int *errnum)
{
  int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  struct dirent *de;

  if (d == NULL) {
    *errnum = errno;
    if (dup_fd >= 0)
      close(dup_fd);
    return -1;
  }
  rewinddir(d);
  errno = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (APPC_ARRAY_RESERVE(l->names, l->cap, l->len + 1) < 0)
      break;
    l->names[l->len] = strdup(de->d_name);
    if (l->names[l->len] == NULL)
      break;
    l->len++;
    errno = 0;
  }
  *errnum = errno;
  closedir(d);
  if (*errnum != 0)
    return -1;
  if (l->len > 1)
    qsort(l->names, l->len, sizeof *l->names, name_cmp);
  return 0;
}

/* Open a regular file or directory found by lstat, making sure the open
 * descriptor is the same object (it was not swapped for a FIFO or a link in
 * between).  Returns the descriptor, and its fstat in *st. */
static int open_checked(int dirfd, const char *name, const struct stat *lst, struct stat *st,
                        int *errnum)
{
  int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  int fd;

  if (S_ISDIR(lst->st_mode))
    flags |= O_DIRECTORY;
  fd = openat(dirfd, name, flags);
  if (fd < 0) {
    *errnum = errno;
    return -1;
  }
  if (fstat(fd, st) < 0 || st->st_dev != lst->st_dev || st->st_ino != lst->st_ino ||
      (st->st_mode & S_IFMT) != (lst->st_mode & S_IFMT)) {
    close(fd);
    *errnum = EAGAIN;
    return -1;
  }
  return fd;
}

/* "A/B", or B alone when A is empty (the top of a tree written bare). */
static char *join(const char *a, const char *b)
{
  char *s = NULL;
  if (asprintf(&s, "%s%s%s", a, *a != '\0' ? "/" : "", b) < 0)
    return NULL;
  return s;
}

/* Copy [OFF, END) of FD into the archive. */
static int copy_range(struct build_ctx *c, int fd, la_int64_t off, la_int64_t end, const char *src,
                      appc_error_t *err)
{
  while (off < end) {
    size_t want = end - off > COPY_BLOCK ? COPY_BLOCK : (size_t) (end - off);
    /* A big file must not hold an interrupt until its end. */
    if (appc_cb_cancelled(c->cb))
      return appc_error_make(err, ECANCELED, "%s: build cancelled", src);
    ssize_t n = pread(fd, c->buf, want, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return appc_error_make(err, errno, "%s: read", src);
    if (n == 0)
      return appc_error_make(err, 0, "%s: file shrank while being archived", src);
    if (appc_tar_writer_data(c->w, c->buf, (size_t) n, err) < 0)
      return -1;
    off += n;
    c->done += (uint64_t) n;
    /* the total is not known up front */
    appc_cb_progress(c->cb, APPC_PROGRESS_BUILD, c->layout, c->done, 0);
  }
  return 0;
}

/* Copy the data of E, a regular file read through FD, into the archive:
 * the regions of its sparse map (the whole file when it has none), and
 * between them the holes, which are not read (a file of a terabyte with a
 * byte of data costs what the byte does). */
static int copy_data(struct build_ctx *c, int fd, struct archive_entry *e, const char *src,
                     appc_error_t *err)
{
  la_int64_t size = archive_entry_size(e), pos = 0, off, len;

  if (archive_entry_sparse_reset(e) == 0)
    return copy_range(c, fd, 0, size, src, err);
  /* as big as an entry copied may be (a file system other than ext4 holds
   * a sparse file of exabytes, whose holes would be passed a GiB at a time) */
  if ((uint64_t) size > APPC_TAR_COPY_MAX)
    return appc_error_make(err, EFBIG,
                           "%s: a sparse file of %lld bytes, more than the %llu an image may hold",
                           src, (long long) size, APPC_TAR_COPY_MAX);
  while (archive_entry_sparse_next(e, &off, &len) == ARCHIVE_OK) {
    if (off < pos || len < 0 || off > size || len > size - off)
      return appc_error_make(err, 0, "%s: a sparse map out of order", src);
    if (appc_tar_writer_hole(c->w, (uint64_t) (off - pos), src, c->cb, err) < 0 ||
        copy_range(c, fd, off, off + len, src, err) < 0)
      return -1;
    pos = off + len;
  }
  return appc_tar_writer_hole(c->w, (uint64_t) (size - pos), src, c->cb, err);
}

static int walk_dir(struct build_ctx *c, int dirfd, const char *name, const char *src,
                    appc_error_t *err);

/* Describe one file with libarchive's disk reader; FD is -1 for anything
 * that is not opened (links, devices, FIFOs). */
static struct archive_entry *describe(struct build_ctx *c, const char *name, const char *src,
                                      int fd, const struct stat *st, appc_error_t *err)
{
  struct archive_entry *e = archive_entry_new2(c->disk);
  if (e == NULL) {
    appc_error_make(err, ENOMEM, "%s", src);
    return NULL;
  }
  archive_entry_copy_pathname(e, name);
  archive_entry_copy_sourcepath(e, src);
  if (archive_read_disk_entry_from_file(c->disk, e, fd, st) < ARCHIVE_WARN) {
    appc_archive_fail(c->disk, src, err);
    archive_entry_free(e);
    return NULL;
  }
  return e;
}

/* Write one entry: header, data for regular files, and recurse into
 * directories.  NAME is the archive name, SRC the path on disk. */
static int add_file(struct build_ctx *c, int dirfd, const char *base, const char *name,
                    const char *src, const struct stat *lst, appc_error_t *err)
{
  struct stat st = *lst;
  cleanup_close int fd = -1;
  struct archive_entry *e, *spare = NULL;
  int errnum = 0, r;

  if (appc_cb_cancelled(c->cb))
    return appc_error_make(err, ECANCELED, "%s: build cancelled", src);
  if (S_ISREG(lst->st_mode) || S_ISDIR(lst->st_mode)) {
    fd = open_checked(dirfd, base, lst, &st, &errnum);
    if (fd < 0)
      return appc_error_make(err, errnum, "%s: cannot open%s", src,
                             errnum == EAGAIN ? " (changed during the build)" : "");
  }
  e = describe(c, name, src, fd, &st, err);
  if (e == NULL)
    return -1;
  if (!S_ISDIR(st.st_mode)) {
    archive_entry_linkify(c->links, &e, &spare);
    archive_entry_free(spare);
    if (archive_entry_hardlink(e) != NULL || (c->flags & APPC_TAR_TREE_NO_SPARSE))
      archive_entry_sparse_clear(e);
  }
  r = appc_tar_writer_header(c->w, e, err);
  if (r == 0 && S_ISREG(st.st_mode) && archive_entry_hardlink(e) == NULL)
    r = copy_data(c, fd, e, src, err);
  archive_entry_free(e);
  if (r == 0 && S_ISDIR(st.st_mode))
    r = walk_dir(c, fd, name, src, err);
  return r;
}

static int add_child(struct build_ctx *c, int dirfd, const char *dname, const char *dsrc,
                     const char *base, appc_error_t *err)
{
  struct stat lst;
  cleanup_free char *name = join(dname, base);
  cleanup_free char *src = join(dsrc, base);

  if (name == NULL || src == NULL)
    return appc_error_make(err, ENOMEM, "%s", dsrc);
  /* What validation and import refuse (aci/validate.c): no image is made
   * that its own checks would not take. */
  if (strlen(name) >= PATH_MAX)
    return appc_error_make(err, 0, "%.100s...: a name of %zu bytes, longer than a path can be (%d)",
                           src, strlen(name), PATH_MAX - 1);
  if ((c->flags & APPC_TAR_TREE_NO_WHITEOUT_NAMES) && strncmp(base, ".wh.", 4) == 0)
    return appc_error_make(err, 0,
                           "/%s: a name beginning with \".wh.\", which an OCI layer reserves for "
                           "whiteouts (image-spec, layer.md): its readers would delete a file "
                           "instead of unpacking this one",
                           name);
  if (fstatat(dirfd, base, &lst, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "%s", src);
  /* Sockets cannot be archived; the reference skips them too. */
  if (S_ISSOCK(lst.st_mode))
    return 0;
  if (lst.st_dev == c->out_dev && lst.st_ino == c->out_ino)
    return 0;
  return add_file(c, dirfd, base, name, src, &lst, err);
}

static int walk_dir(struct build_ctx *c, int dirfd, const char *name, const char *src,
                    appc_error_t *err)
{
  struct name_list l = {0};
  int errnum = 0, r = 0;

  if (list_dir(dirfd, &l, &errnum) < 0) {
    name_list_clear(&l);
    return appc_error_make(err, errnum != 0 ? errnum : ENOMEM, "%s: cannot list", src);
  }
  for (size_t i = 0; i < l.len && r == 0; i++)
    r = add_child(c, dirfd, name, src, l.names[i], err);
  name_list_clear(&l);
  return r;
}

/* The manifest entry: metadata of the layout's file, content exactly the
 * bytes that were validated (read once, from the same descriptor). */
static int add_manifest(struct build_ctx *c, int mfd, const struct stat *st, const char *json,
                        size_t len, appc_error_t *err)
{
  cleanup_free char *src = join(c->layout, "manifest");
  struct archive_entry *e;
  int r;

  if (src == NULL)
    return appc_error_make(err, ENOMEM, "%s", c->layout);
  e = describe(c, "manifest", src, mfd, st, err);
  if (e == NULL)
    return -1;
  archive_entry_sparse_clear(e);
  archive_entry_set_size(e, (la_int64_t) len);
  r = appc_tar_writer_header(c->w, e, err);
  archive_entry_free(e);
  if (r == 0)
    r = appc_tar_writer_data(c->w, json, len, err);
  return r;
}

static int add_rootfs(struct build_ctx *c, int layoutfd, appc_error_t *err)
{
  struct stat lst;
  cleanup_free char *src = join(c->layout, "rootfs");

  if (src == NULL)
    return appc_error_make(err, ENOMEM, "%s", c->layout);
  if (fstatat(layoutfd, "rootfs", &lst, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "%s", src);
  if (!S_ISDIR(lst.st_mode))
    return appc_error_make(err, 0, "%s: not a directory", src);
  return add_file(c, layoutfd, "rootfs", "rootfs", src, &lst, err);
}

static int ctx_init(struct build_ctx *c, const struct appc_build_options *opts, appc_error_t *err)
{
  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  c->cb = opts->cb;
  c->disk = archive_read_disk_new();
  c->links = archive_entry_linkresolver_new();
  c->buf = malloc(COPY_BLOCK);
  if (c->disk == NULL || c->links == NULL || c->buf == NULL)
    return appc_error_make(err, ENOMEM, "%s", c->layout);
  archive_entry_linkresolver_set_strategy(c->links, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  /* Owner names are looked up only when they will be stored. */
  if (!opts->owner_root && archive_read_disk_set_standard_lookup(c->disk) != ARCHIVE_OK)
    return appc_error_make(err, 0, "%s: %s", c->layout, archive_error_string(c->disk));
  return 0;
}

static void ctx_clear(struct build_ctx *c)
{
  if (c->links != NULL)
    archive_entry_linkresolver_free(c->links);
  if (c->disk != NULL)
    archive_read_free(c->disk);
  appc_tar_writer_free(c->w);
  free(c->buf);
}

/* Validate the layout, reading its manifest once; *mfd and *st describe the
 * manifest file for its archive entry. */
static int load_layout(int layoutfd, int *mfd, struct stat *st, char **json, size_t *len,
                       appc_error_t *err)
{
  struct appc_image_manifest *m = NULL;

  if (appc_layout_check_structure(layoutfd, err) < 0 ||
      appc_layout_read_manifest(layoutfd, mfd, st, json, len, err) < 0)
    return -1;
  if (appc_image_manifest_parse(*json, *len, &m, err) < 0)
    return appc_error_prefix(err, "manifest");
  /* written as it is, but never what the spec (and the reference) would not write */
  int r = appc_image_manifest_check_names(m, err);
  appc_image_manifest_free(m);
  return r < 0 ? appc_error_prefix(err, "manifest") : 0;
}

static int build_into(struct build_ctx *c, int layoutfd, const char *out, struct appc_outfile *of,
                      const struct appc_build_options *opts, char image_id[], appc_error_t *err)
{
  cleanup_close int mfd = -1;
  cleanup_free char *json = NULL;
  size_t len = 0;
  struct stat st;

  if (load_layout(layoutfd, &mfd, &st, &json, &len, err) < 0)
    return appc_error_prefix(err, "%s", c->layout);
  if (appc_outfile_open(of, out, opts, NULL, err) < 0)
    return -1;
  if (fstat(of->tmp.fd, &st) == 0) {
    c->out_dev = st.st_dev;
    c->out_ino = st.st_ino;
  }
  if (fstat(mfd, &st) < 0)
    return appc_error_make(err, errno, "%s/manifest", c->layout);
  if (appc_tar_writer_new(&c->w, of->tmp.fd, of->path, opts, APPC_TAR_WRITER_BUILD, err) < 0 ||
      add_manifest(c, mfd, &st, json, len, err) < 0 || add_rootfs(c, layoutfd, err) < 0 ||
      appc_tar_writer_close(c->w, image_id, err) < 0)
    return -1;
  return appc_outfile_commit(of, err);
}

/* The layout LAYOUT, its lock shared unless LOCKED (the caller's). */
static int build(const char *layout, bool locked, const char *out,
                 const struct appc_build_options *opts, char image_id[APPC_IMAGE_ID_LEN + 1],
                 appc_error_t *err)
{
  if (APPC_ABI_CHECK(opts, appc_build_options, APPC_BUILD_OPTIONS_VERSION, err) < 0)
    return -1;
  if (opts == NULL)
    opts = &appc_build_defaults;
  struct build_ctx c = {.layout = layout};
  struct appc_outfile of = APPC_OUTFILE_INIT;
  cleanup_close int layoutfd = open(layout, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (layoutfd < 0)
    return appc_error_make(err, errno, "%s: not an image layout", layout);
  /* Held until the image is written: a layout command's edit (a copy, a
   * run's commit) is never packed half done. */
  if (!locked && appc_layout_lock_shared(layoutfd, layout, opts->cb, err) < 0)
    return -1;
  r = ctx_init(&c, opts, err);
  if (r == 0)
    r = build_into(&c, layoutfd, out, &of, opts, image_id, err);
  /* The writer (and its compression threads) go before the file. */
  ctx_clear(&c);
  appc_outfile_abort(&of);
  return r;
}

int appc_aci_build(const char *layout, const char *out, const struct appc_build_options *opts,
                   char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  return build(layout, false, out, opts, image_id, err);
}

int appc_aci_build_locked(const char *layout, const char *out,
                          const struct appc_build_options *opts,
                          char image_id[APPC_IMAGE_ID_LEN + 1], appc_error_t *err)
{
  return build(layout, true, out, opts, image_id, err);
}

/* The entry "./" of the directory DIRFD itself: its mode, owner, times
 * and xattrs, as describe() reads any directory's. */
static int add_root(struct build_ctx *c, int dirfd, const char *src, appc_error_t *err)
{
  struct stat st;
  struct archive_entry *e;
  int r;

  if (fstat(dirfd, &st) < 0)
    return appc_error_make(err, errno, "%s", src);
  if ((e = describe(c, "./", src, dirfd, &st, err)) == NULL)
    return -1;
  r = appc_tar_writer_header(c->w, e, err);
  archive_entry_free(e);
  return r;
}

int appc_tar_write_tree(struct appc_tar_writer *w, int dirfd, const char *src,
                        const struct appc_build_options *opts, unsigned flags, appc_error_t *err)
{
  struct build_ctx c = {.layout = src, .flags = flags};
  int r = ctx_init(&c, opts, err);

  if (r == 0) {
    c.w = w;
    if (flags & APPC_TAR_TREE_ROOT)
      r = add_root(&c, dirfd, src, err);
    if (r == 0)
      r = walk_dir(&c, dirfd, "", src, err);
    c.w = NULL; /* the caller's */
  }
  ctx_clear(&c);
  return r;
}
