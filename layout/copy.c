/* SPDX-License-Identifier: Apache-2.0 */
/* Files of the host copied into a layout's rootfs, as a Containerfile's
 * COPY copies them: a file to DEST (into DEST when DEST is a directory or
 * ends in '/'), a directory's contents into DEST, merged with what is there;
 * several sources into the directory DEST.  Paths in the rootfs are
 * resolved with the rootfs as their root (openat2 RESOLVE_IN_ROOT: a
 * symlink to /usr/lib leads to the rootfs's /usr/lib), so nothing is ever
 * written outside it; a symlink standing for a directory there (a merged
 * /usr's /lib) takes a directory's contents and stays a symlink.  Modes
 * and modification times are kept; owners become root's, as COPY's are;
 * hard links are copied as files. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "layout/internal.h"

/* Deep enough for any real tree, and a bound on the recursion. */
#define COPY_MAX_DEPTH 256

struct copy {
  int root_fd; /* the rootfs */
  const char *rootfs;
  const struct appc_callbacks *cb;
  const struct appc_layout_copy_options *o;
  appc_error_t *err;
  struct appc_file_copier files; /* sparse files stay sparse */
};

static bool is_dot_name(const char *name)
{
  return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* The directory PATH of the rootfs, made (with its parents) when missing. */
static int make_dirs(struct copy *c, const char *path, int *out)
{
  int fd = appc_mkdirs_in_root(c->root_fd, path, 0755);

  if (fd < 0)
    return appc_error_make(c->err, errno, "%s/%s", c->rootfs, path);
  *out = fd;
  return 0;
}

/* The owner of what is copied: root's, the one asked for, or the source's. */
static uid_t owner_uid(const struct copy *c, const struct stat *st)
{
  return c->o->keep_owner ? st->st_uid : c->o->uid;
}

static gid_t owner_gid(const struct copy *c, const struct stat *st)
{
  return c->o->keep_owner ? st->st_gid : c->o->gid;
}

static int set_times(int dir_fd, const char *name, const struct stat *st)
{
  struct timespec ts[2] = {st->st_atim, st->st_mtim};

  return utimensat(dir_fd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* Make room for NAME in DIR_FD: whatever is there that is not a directory
 * goes (COPY replaces files); a directory stays only for a directory. */
static int clear_name(struct copy *c, int dir_fd, const char *name, bool for_dir, const char *what)
{
  struct stat st;

  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : appc_error_make(c->err, errno, "%s", what);
  if (S_ISDIR(st.st_mode)) {
    if (for_dir)
      return 0;
    return appc_error_make(c->err, EISDIR, "%s: a directory is in the way of a file", what);
  }
  if (unlinkat(dir_fd, name, 0) < 0)
    return appc_error_make(c->err, errno, "%s", what);
  return 0;
}

static int copy_file(struct copy *c, int src_fd, int dir_fd, const char *name,
                     const struct stat *st, const char *what)
{
  cleanup_close int out = -1;

  if (clear_name(c, dir_fd, name, false, what) < 0)
    return -1;
  out = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (out < 0 || appc_file_copy_data(&c->files, src_fd, out, st) < 0)
    return appc_error_make(c->err, errno, "%s", what);
  if (fchown(out, owner_uid(c, st), owner_gid(c, st)) < 0 && errno != EPERM)
    return appc_error_make(c->err, errno, "%s: chown", what);
  if (fchmod(out, st->st_mode & 07777) < 0 || set_times(dir_fd, name, st) < 0)
    return appc_error_make(c->err, errno, "%s", what);
  return 0;
}

static int copy_symlink(struct copy *c, int src_dir, const char *src_name, int dir_fd,
                        const char *name, const struct stat *st, const char *what)
{
  char target[4096];
  ssize_t n = readlinkat(src_dir, src_name, target, sizeof target - 1);

  if (n < 0)
    return appc_error_make(c->err, errno, "%s", what);
  target[n] = '\0';
  if (clear_name(c, dir_fd, name, false, what) < 0)
    return -1;
  if (symlinkat(target, dir_fd, name) < 0)
    return appc_error_make(c->err, errno, "%s", what);
  if (fchownat(dir_fd, name, owner_uid(c, st), owner_gid(c, st), AT_SYMLINK_NOFOLLOW) < 0 &&
      errno != EPERM)
    return appc_error_make(c->err, errno, "%s: chown", what);
  (void) set_times(dir_fd, name, st);
  return 0;
}

static int copy_dir_contents(struct copy *c, int src_fd, int dst_fd, const char *dst_path,
                             const char *what, unsigned depth);

/* PATH of the rootfs (DIR its directory, "" the root) joined with NAME. */
static char *join_path(const char *dir, const char *name)
{
  char *p;

  return asprintf(&p, "%s%s%s", dir, *dir != '\0' ? "/" : "", name) < 0 ? NULL : p;
}

/* The directory a symlink NAME in DIR_FD (PATH in the rootfs) leads to,
 * resolved with the rootfs as '/' so that neither "/etc" nor "../.." leads
 * out: *OUT an fd, or -1 when NAME is no symlink or leads to no directory.
 * A merged /usr's /lib -> usr/lib must take a directory's contents, not be
 * replaced by a directory: as Docker's COPY and dpkg do (deb/deb.c). */
static int open_linked_dir(struct copy *c, int dir_fd, const char *name, const char *path,
                           const char *what, int *out)
{
  struct stat st;

  *out = -1;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
    return 0;
  *out = appc_open_in_root(c->root_fd, path, O_RDONLY | O_DIRECTORY);
  if (*out >= 0 || errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
    return 0; /* dangling, or no directory: replaced by one */
  return appc_error_make(c->err, errno, "%s: the symlink %s/%s", what, c->rootfs, path);
}

/* The entry NAME of SRC_DIR, of metadata ST, to DST_NAME in DST_DIR, which
 * is DST_PATH in the rootfs.  FOLLOW: NAME is a source named by the caller,
 * which Docker's COPY follows when it is a symlink (ST is what it leads
 * to); the symlinks below a directory are copied as symlinks. */
static int copy_entry(struct copy *c, int src_dir, const char *name, const struct stat *st,
                      int dst_dir, const char *dst_path, const char *dst_name, const char *what,
                      bool follow, unsigned depth)
{
  struct stat now;

  if (appc_cb_cancelled(c->cb))
    return appc_error_make(c->err, ECANCELED, "%s", what);
  if (c->o->skip != NULL && c->o->skip(c->o->skip_data, what))
    return 0;
  if (S_ISLNK(st->st_mode))
    return copy_symlink(c, src_dir, name, dst_dir, dst_name, st, what);
  if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
    return appc_error_make(c->err, 0, "%s: not a file, directory or symlink", what);
  cleanup_close int in = openat(src_dir, name,
                                (follow ? 0 : O_NOFOLLOW) | O_RDONLY | O_CLOEXEC |
                                    (S_ISDIR(st->st_mode) ? O_DIRECTORY : O_NONBLOCK));
  if (in < 0)
    return appc_error_make(c->err, errno, "%s", what);
  /* a symlink followed may have been pointed elsewhere since ST */
  if (follow && fstat(in, &now) < 0)
    return appc_error_make(c->err, errno, "%s", what);
  if (follow && (now.st_mode & S_IFMT) != (st->st_mode & S_IFMT))
    return appc_error_make(c->err, 0, "%s: changed while copied", what);
  if (S_ISREG(st->st_mode))
    return copy_file(c, in, dst_dir, dst_name, st, what);
  cleanup_free char *path = join_path(dst_path, dst_name);
  cleanup_close int out = -1;
  if (path == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", what);
  if (open_linked_dir(c, dst_dir, dst_name, path, what, &out) < 0)
    return -1;
  if (out >= 0)
    /* the image's directory keeps its metadata, as its symlink does */
    return copy_dir_contents(c, in, out, path, what, depth + 1);
  if (clear_name(c, dst_dir, dst_name, true, what) < 0)
    return -1;
  if (mkdirat(dst_dir, dst_name, 0700) < 0 && errno != EEXIST)
    return appc_error_make(c->err, errno, "%s", what);
  out = openat(dst_dir, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (out < 0)
    return appc_error_make(c->err, errno, "%s", what);
  if (copy_dir_contents(c, in, out, path, what, depth + 1) < 0)
    return -1;
  /* the directory's own metadata last: filling it changed its times */
  if ((fchown(out, owner_uid(c, st), owner_gid(c, st)) < 0 && errno != EPERM) ||
      fchmod(out, st->st_mode & 07777) < 0 || set_times(dst_dir, dst_name, st) < 0)
    return appc_error_make(c->err, errno, "%s", what);
  return 0;
}

static int copy_dir_contents(struct copy *c, int src_fd, int dst_fd, const char *dst_path,
                             const char *what, unsigned depth)
{
  int dup_fd = fcntl(src_fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
  struct dirent *de;
  int r = 0;

  if (depth > COPY_MAX_DEPTH) {
    if (d != NULL)
      closedir(d);
    return appc_error_make(c->err, ELOOP, "%s: nested more than %d deep", what, COPY_MAX_DEPTH);
  }
  if (d == NULL) {
    if (dup_fd >= 0)
      close(dup_fd);
    return appc_error_make(c->err, errno, "%s", what);
  }
  while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
    struct stat st;
    cleanup_free char *sub = NULL;
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (asprintf(&sub, "%s/%s", what, de->d_name) < 0) {
      sub = NULL;
      r = appc_error_make(c->err, ENOMEM, "%s", what);
    } else if (fstatat(src_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
      r = appc_error_make(c->err, errno, "%s", sub);
    } else {
      r = copy_entry(c, src_fd, de->d_name, &st, dst_fd, dst_path, de->d_name, sub, false, depth);
    }
  }
  if (r == 0 && errno != 0)
    r = appc_error_make(c->err, errno, "%s", what);
  closedir(d);
  return r;
}

/* ---- one source ---- */

/* DEST of the rootfs split into its directory and last name ("" when DEST
 * names a directory: "/", or ending in '/'). */
static int split_dest(const char *dest, char **dir, char **name)
{
  while (*dest == '/')
    dest++;
  cleanup_free char *d = strdup(dest);
  size_t n = d != NULL ? strlen(d) : 0;

  if (d == NULL)
    return -1;
  if (n == 0 || d[n - 1] == '/') {
    while (n > 0 && d[n - 1] == '/')
      d[--n] = '\0';
    *name = strdup("");
  } else {
    char *slash = strrchr(d, '/');
    *name = strdup(slash != NULL ? slash + 1 : d);
    if (slash != NULL)
      *slash = '\0';
    else
      d[0] = '\0';
  }
  if (*name == NULL)
    return -1;
  *dir = steal_pointer(&d);
  return 0;
}

static bool is_dir_at(int root_fd, const char *path)
{
  int fd = appc_open_in_root(root_fd, path, O_RDONLY | O_DIRECTORY);

  if (fd < 0)
    return false;
  close(fd);
  return true;
}

/* Is the directory PATH of the rootfs, or where it would be made (below
 * the nearest of its parents that exists), the directory SRC or a place
 * below it?  Copied there, SRC would take in its own copy as it is read and
 * recurse until COPY_MAX_DEPTH (cp refuses it too).  Climbed by "..", a
 * directory at a time up to the host's root, so that a bind mount or a
 * symlinked path is seen through. */
static bool dest_inside(struct copy *c, const char *path, const struct stat *src)
{
  cleanup_free char *walk = strdup(path);
  cleanup_close int fd = -1;

  if (walk == NULL)
    return false;
  while ((fd = appc_open_in_root(c->root_fd, walk, O_PATH | O_DIRECTORY)) < 0 && errno == ENOENT &&
         *walk != '\0') {
    char *slash = strrchr(walk, '/');
    *(slash != NULL ? slash : walk) = '\0';
  }
  return fd >= 0 && appc_dir_is_or_above(fd, src);
}

/* Refuse, before anything is written, a directory source copied into
 * itself. */
static int check_sources(struct copy *c, char *const *srcs, size_t n, const char *dest)
{
  struct stat st;

  for (size_t i = 0; i < n; i++)
    if (stat(srcs[i], &st) == 0 && S_ISDIR(st.st_mode) && dest_inside(c, dest, &st))
      return appc_error_make(c->err, 0,
                             "%s: cannot copy a directory into itself (%s/%s is inside it)",
                             srcs[i], c->rootfs, dest + strspn(dest, "/"));
  return 0;
}

static int copy_one(struct copy *c, const char *src, const char *as, const char *dest,
                    bool into_dir)
{
  struct stat st;
  cleanup_free char *dir = NULL;
  cleanup_free char *name = NULL;
  cleanup_free char *src_copy = strdup(src);
  cleanup_close int dst_fd = -1;
  cleanup_close int src_dir = -1;

  if (src_copy == NULL || split_dest(dest, &dir, &name) < 0)
    return appc_error_make(c->err, ENOMEM, "%s", src);
  /* a symlink named as a source is followed, as by Docker's COPY */
  if (stat(src, &st) < 0)
    return appc_error_make(c->err, errno, "%s", src);
  /* A directory's contents go into DEST; so does anything when DEST is,
   * or is to be, a directory. */
  if (S_ISDIR(st.st_mode) || into_dir || name[0] == '\0' || is_dot_name(name) ||
      is_dir_at(c->root_fd, dest + strspn(dest, "/"))) {
    const char *full = dest + strspn(dest, "/");
    if (make_dirs(c, full, &dst_fd) < 0)
      return -1;
    if (S_ISDIR(st.st_mode)) {
      cleanup_close int in = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (in < 0)
        return appc_error_make(c->err, errno, "%s", src);
      return copy_dir_contents(c, in, dst_fd, full, src, 0);
    }
    free(name);
    name = strdup(as != NULL ? as : basename(src_copy));
    if (name == NULL)
      return appc_error_make(c->err, ENOMEM, "%s", src);
    free(dir);
    if ((dir = strdup(full)) == NULL)
      return appc_error_make(c->err, ENOMEM, "%s", src);
  } else if (make_dirs(c, dir, &dst_fd) < 0) {
    return -1;
  }
  cleanup_free char *parent = strdup(src);
  if (parent == NULL || (src_dir = open(dirname(parent), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return appc_error_make(c->err, errno, "%s", src);
  cleanup_free char *base = strdup(src);
  if (base == NULL)
    return appc_error_make(c->err, ENOMEM, "%s", src);
  return copy_entry(c, src_dir, basename(base), &st, dst_fd, dir, name, src, true, 0);
}

int appc_layout_copy(struct appc_layout *l, char *const *srcs, size_t n, const char *dest,
                     const struct appc_callbacks *cb, appc_error_t *err)
{
  struct appc_layout_copy_options o = {.cb = cb};

  return appc_layout_copy_ex(l, srcs, n, dest, &o, err);
}

int appc_layout_mkdir(struct appc_layout *l, const char *path, appc_error_t *err)
{
  static const struct appc_layout_copy_options defaults = {0};
  struct copy c = {.rootfs = appc_layout_rootfs(l), .o = &defaults, .err = err};
  cleanup_close int root = open(c.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  cleanup_close int fd = -1;

  if (root < 0)
    return appc_error_make(err, errno, "%s", c.rootfs);
  c.root_fd = root;
  return make_dirs(&c, path + strspn(path, "/"), &fd);
}

int appc_layout_copy_ex(struct appc_layout *l, char *const *srcs, size_t n, const char *dest,
                        const struct appc_layout_copy_options *o, appc_error_t *err)
{
  struct copy c = {.rootfs = appc_layout_rootfs(l), .cb = o->cb, .o = o, .err = err};
  cleanup_close int root = open(c.rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

  if (root < 0)
    return appc_error_make(err, errno, "%s", c.rootfs);
  if (n == 0)
    return appc_error_tag(err, EINVAL, "copy: no source");
  c.root_fd = root;
  int r = check_sources(&c, srcs, n, dest);
  for (size_t i = 0; r == 0 && i < n; i++)
    r = copy_one(&c, srcs[i], o->names != NULL ? o->names[i] : NULL, dest, n > 1);
  appc_file_copier_clear(&c.files);
  return r;
}
