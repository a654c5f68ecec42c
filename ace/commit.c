/* SPDX-License-Identifier: Apache-2.0 */
/* Build mode (`layout run`): an app's changes, which overlayfs kept in its
 * upper layer, moved into the rootfs it ran on.
 *
 * The upper layer holds what the app made or changed, whole (a file changed
 * by one byte is a full copy there), and two kinds of marker: a whiteout (a
 * character device 0/0) where the app removed a name the rootfs had, and an
 * opaque directory (xattr trusted.overlay.opaque "y") where it removed a
 * directory and made a new one of that name.  Entries are moved with
 * renameat, which is why the upper layer is made on the rootfs's file
 * system: no data is copied.  A directory the rootfs lacks moves whole; one
 * it has is merged entry by entry and then given the upper layer's owner,
 * mode, xattrs and times (the app may have changed them; the renames changed
 * its mtime); so is the rootfs's own directory, whose owner and mode the upper
 * layer's root started with.  overlayfs's own xattrs (trusted.overlay.*:
 * origin, impure...) are taken off everything moved: they describe the
 * overlay, not the image.  An entry the overlay kept as a pointer into the
 * rootfs (redirect, metacopy) is refused before anything moves.
 *
 * What the executor put there for the app stays out (rootfs.c's
 * inside_root and setup_etc): the mount points it made (/proc, /sys, /dev
 * where the rootfs had none), /etc/hostname, and /etc/hosts,
 * /etc/resolv.conf and /etc/os-release where the rootfs had none; /etc
 * itself, when the rootfs had none, only holds what the app put there.
 * The executor wrote them wherever /etc led in the root (an image's
 * etc -> var/etc, or etc -> .), so that directory is found in the rootfs
 * as the pod found it (resolved inside it), and known by its inode.
 *
 * Every name is looked up relative to the descriptors of its two
 * directories without following symlinks, so nothing the app made can send
 * a move outside the rootfs.
 *
 * A commit killed half-way (SIGKILL, a crash) is finished by the next one
 * to look at the changes (appc_ace_commit_resume): before its first move
 * it leaves a mark beside the upper layer, durably, with what it found of
 * the rootfs's /etc (which the moves change).  What is still in the upper
 * layer is what is left to do, and each step does the same again: a
 * whiteout stays in the upper layer (its name gone from the rootfs, it has
 * nothing more to remove), a directory merged keeps its entries not yet
 * moved and gets its metadata again, an entry moved is no longer there, a
 * directory being replaced has the rest of the old one removed, and the
 * executor's files, never moved, are left out as before. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "ace/internal.h"
#include "appc/ace.h"
#include "appc/store.h"
#include "common/array.h"
#include "common/cleanup.h"
#include "common/fs.h"

#define OVERLAY_XATTR_PREFIX "trusted.overlay."
#define XATTR_LIST_BUF (64 * 1024)
/* Beside the upper layer while a commit moves its entries. */
#define COMMIT_MARK "committing"
#define COMMIT_MARK_MAX 128

struct commit {
  char rel[PATH_MAX]; /* the entry's path in the rootfs, for rules and messages */
  const char *rootfs;
  bool has_etc;    /* the rootfs's /etc leads to a directory: */
  struct stat etc; /* that directory, where the executor wrote its files */
  bool no_etc;     /* the rootfs had no /etc at all: the executor made it */
};

static bool is_whiteout(const struct stat *st)
{
  return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* NAME in directory DIR_FD by a path that resolves DIR_FD but not NAME. */
static void at_path(char out[PATH_MAX], int dir_fd, const char *name)
{
  snprintf(out, PATH_MAX, "/proc/self/fd/%d/%s", dir_fd, name);
}

static bool is_opaque(int dir_fd, const char *name)
{
  char path[PATH_MAX], v[2];

  at_path(path, dir_fd, name);
  return lgetxattr(path, OVERLAY_XATTR_PREFIX "opaque", v, sizeof v) == 1 && v[0] == 'y';
}

/* ---- messages and the executor's own entries ---- */

static int rel_push(struct commit *c, const char *name, size_t *saved)
{
  size_t len = strlen(c->rel);

  *saved = len;
  if (len + 1 + strlen(name) >= sizeof c->rel)
    return -1;
  snprintf(c->rel + len, sizeof c->rel - len, "%s%s", len > 0 ? "/" : "", name);
  return 0;
}

static int fail(const struct commit *c, int e, const char *what, appc_error_t *err)
{
  return appc_error_make(err, e, "%s/%s: cannot %s the app's change", c->rootfs, c->rel, what);
}

/* The rootfs's directory DST (c->rel names it) is where the pod's /etc led:
 * the rootfs's /etc wherever it leads, or the /etc the executor made where
 * the rootfs had none. */
static bool is_etc(const struct commit *c, int dst)
{
  struct stat st;

  if (strcmp(c->rel, "etc") == 0)
    return true;
  return c->has_etc && fstat(dst, &st) == 0 && st.st_dev == c->etc.st_dev &&
         st.st_ino == c->etc.st_ino;
}

/* NAME in the directory c->rel (the pod's /etc: IN_ETC) is one the
 * executor made for the app, not one of the app's changes (the rootfs had
 * it: HAVE). */
static bool made_by_executor(const struct commit *c, const char *name, bool have, bool in_etc,
                             const struct stat *st)
{
  static const char *const mount_points[] = {"proc", "sys", "dev"};
  static const char *const provided[] = {"hosts", "resolv.conf", "os-release"};

  if (c->rel[0] == '\0')
    for (size_t i = 0; i < sizeof mount_points / sizeof *mount_points; i++)
      if (strcmp(name, mount_points[i]) == 0)
        return !have && S_ISDIR(st->st_mode);
  if (!in_etc)
    return false;
  if (strcmp(name, "hostname") == 0)
    return true;
  for (size_t i = 0; i < sizeof provided / sizeof *provided; i++)
    if (strcmp(name, provided[i]) == 0)
      return !have;
  return false;
}

/* ---- overlayfs's xattrs off what moves ---- */

static int strip_entry(int dir_fd, const char *name, char *buf)
{
  char path[PATH_MAX];
  ssize_t n;

  at_path(path, dir_fd, name);
  n = llistxattr(path, buf, XATTR_LIST_BUF);
  if (n < 0)
    return errno == ENOTSUP ? 0 : -1;
  for (ssize_t off = 0; off < n; off += (ssize_t) strlen(buf + off) + 1)
    if (strncmp(buf + off, OVERLAY_XATTR_PREFIX, strlen(OVERLAY_XATTR_PREFIX)) == 0 &&
        lremovexattr(path, buf + off) < 0 && errno != ENODATA)
      return -1;
  return 0;
}

/* What an entry of the upper layer is checked or cleaned with. */
typedef int (*entry_fn)(struct commit *c, int dir_fd, const char *name, char *buf,
                        appc_error_t *err);

/* FN on NAME in DIR_FD (c->rel names it) and, for a directory, on
 * everything below it (the directory is only read: no name changes in it). */
static int each_entry(struct commit *c, int dir_fd, const char *name, entry_fn fn, char *buf,
                      appc_error_t *err)
{
  struct stat st;
  struct dirent *e;
  int fd;
  DIR *d;
  int r = 0;

  if (fn(c, dir_fd, name, buf, err) < 0)
    return -1;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return fail(c, errno, "read", err);
  if (!S_ISDIR(st.st_mode))
    return 0;
  fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    r = fail(c, errno, "read", err);
    if (fd >= 0)
      close(fd);
    return r;
  }
  while (r == 0 && (e = readdir(d)) != NULL) {
    size_t saved;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (rel_push(c, e->d_name, &saved) < 0)
      r = fail(c, ENAMETOOLONG, "read", err);
    else
      r = each_entry(c, dirfd(d), e->d_name, fn, buf, err);
    c->rel[saved] = '\0';
  }
  closedir(d);
  return r;
}

static int strip_fn(struct commit *c, int dir_fd, const char *name, char *buf, appc_error_t *err)
{
  return strip_entry(dir_fd, name, buf) < 0 ? fail(c, errno, "move", err) : 0;
}

/* NAME and everything below it, overlayfs's xattrs taken off. */
static int strip_tree(struct commit *c, int dir_fd, const char *name, char *buf, appc_error_t *err)
{
  return each_entry(c, dir_fd, name, strip_fn, buf, err);
}

/* ---- changes the upper layer does not hold whole ---- */

/* An entry that is only a pointer into the lower layer: a directory that
 * overlayfs's redirect_dir feature renamed (its content stayed below), a
 * file whose metadata its metacopy feature copied up without the data.
 * The executor mounts the overlay without them (rootfs.c), but a kernel
 * that ignored that would have the commit move empty shells in: refused
 * before anything moves. */
static int whole_fn(struct commit *c, int dir_fd, const char *name, char *buf, appc_error_t *err)
{
  static const char *const pointers[] = {OVERLAY_XATTR_PREFIX "redirect",
                                         OVERLAY_XATTR_PREFIX "metacopy"};
  char path[PATH_MAX];
  ssize_t n;

  at_path(path, dir_fd, name);
  n = llistxattr(path, buf, XATTR_LIST_BUF);
  if (n < 0)
    return errno == ENOTSUP ? 0 : fail(c, errno, "read", err);
  for (ssize_t off = 0; off < n; off += (ssize_t) strlen(buf + off) + 1)
    for (size_t i = 0; i < sizeof pointers / sizeof *pointers; i++)
      if (strcmp(buf + off, pointers[i]) == 0)
        return appc_error_make(err, 0,
                               "%s/%s: the overlay kept this change as a pointer (%s: its "
                               "redirect_dir or metacopy feature), not whole; nothing was "
                               "committed",
                               c->rootfs, c->rel[0] != '\0' ? c->rel : ".", pointers[i]);
  return 0;
}

/* ---- moving ---- */

static bool is_overlay_xattr(const char *name)
{
  return strncmp(name, OVERLAY_XATTR_PREFIX, strlen(OVERLAY_XATTR_PREFIX)) == 0;
}

static bool in_xattr_list(const char *list, ssize_t len, const char *name)
{
  for (ssize_t off = 0; off < len; off += (ssize_t) strlen(list + off) + 1)
    if (strcmp(list + off, name) == 0)
      return true;
  return false;
}

int ace_copy_dir_xattrs(int from, int to)
{
  cleanup_free char *want = malloc(XATTR_LIST_BUF);
  cleanup_free char *have = malloc(XATTR_LIST_BUF);
  cleanup_free char *value = malloc(XATTR_SIZE_MAX);
  ssize_t n_want, n_have;

  if (want == NULL || have == NULL || value == NULL) {
    errno = ENOMEM;
    return -1;
  }
  if ((n_want = flistxattr(from, want, XATTR_LIST_BUF)) < 0)
    return errno == ENOTSUP ? 0 : -1;
  if ((n_have = flistxattr(to, have, XATTR_LIST_BUF)) < 0)
    return -1;
  for (ssize_t off = 0; off < n_have; off += (ssize_t) strlen(have + off) + 1)
    if (!is_overlay_xattr(have + off) && !in_xattr_list(want, n_want, have + off) &&
        fremovexattr(to, have + off) < 0 && errno != ENODATA)
      return -1;
  for (ssize_t off = 0; off < n_want; off += (ssize_t) strlen(want + off) + 1) {
    if (is_overlay_xattr(want + off))
      continue;
    ssize_t len = fgetxattr(from, want + off, value, XATTR_SIZE_MAX);
    if (len < 0 || fsetxattr(to, want + off, value, (size_t) len, 0) < 0)
      return -1;
  }
  return 0;
}

/* The directory FD's owner, mode, xattrs (ACLs, security.* labels...)
 * and times from the upper layer's (UP, ST). */
static int copy_dir_metadata(int up, int fd, const struct stat *st)
{
  struct timespec times[2] = {st->st_atim, st->st_mtim};

  if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
      ace_copy_dir_xattrs(up, fd) < 0 || futimens(fd, times) < 0)
    return -1;
  return 0;
}

static int merge_dir(struct commit *c, int up, int dst, char *buf, appc_error_t *err);

/* The upper layer's directory NAME into DST's, which exists (or was just
 * made, MADE, for the executor's /etc: removed again if nothing went in). */
static int merge_into(struct commit *c, int up, int dst, const char *name, const struct stat *st,
                      bool made, char *buf, appc_error_t *err)
{
  cleanup_close int cu = openat(up, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  cleanup_close int cd = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (cu < 0 || cd < 0)
    return fail(c, errno, "merge", err);
  if (merge_dir(c, cu, cd, buf, err) < 0)
    return -1;
  if (made && unlinkat(dst, name, AT_REMOVEDIR) == 0)
    return 0;
  if (made && errno != ENOTEMPTY && errno != EEXIST)
    return fail(c, errno, "merge", err);
  return copy_dir_metadata(cu, cd, st) < 0 ? fail(c, errno, "merge", err) : 0;
}

/* NAME of the upper layer replaces DST's NAME, if any (HAVE, DST_ST). */
static int replace(struct commit *c, int up, int dst, const char *name, const struct stat *st,
                   bool have, const struct stat *dst_st, char *buf, appc_error_t *err)
{
  if (strip_tree(c, up, name, buf, err) < 0)
    return -1;
  if (have && S_ISDIR(dst_st->st_mode) && appc_remove_tree(dst, name, err) < 0)
    return -1;
  if (have && !S_ISDIR(dst_st->st_mode) && S_ISDIR(st->st_mode) && unlinkat(dst, name, 0) < 0)
    return fail(c, errno, "move", err);
  if (renameat(up, name, dst, name) < 0)
    return fail(c, errno, "move", err);
  return 0;
}

/* NAME (c->rel names it), which the app made, changed or removed (a
 * whiteout), at the top of the tree or not (TOP). */
static int merge_changed(struct commit *c, int up, int dst, const char *name, const struct stat *st,
                         bool have, const struct stat *dst_st, bool top, char *buf,
                         appc_error_t *err)
{
  if (is_whiteout(st)) {
    if (!have)
      return 0;
    if (S_ISDIR(dst_st->st_mode))
      return appc_remove_tree(dst, name, err);
    return unlinkat(dst, name, 0) < 0 ? fail(c, errno, "remove", err) : 0;
  }
  /* The executor made /etc for its files; the app's own go in (a resumed
   * commit finds the /etc it made already). */
  if (S_ISDIR(st->st_mode) && top && c->no_etc && strcmp(name, "etc") == 0 &&
      (!have || S_ISDIR(dst_st->st_mode))) {
    if (!have && mkdirat(dst, name, st->st_mode & 07777) < 0)
      return fail(c, errno, "make", err);
    return merge_into(c, up, dst, name, st, true, buf, err);
  }
  if (S_ISDIR(st->st_mode) && have && S_ISDIR(dst_st->st_mode) && !is_opaque(up, name))
    return merge_into(c, up, dst, name, st, false, buf, err);
  return replace(c, up, dst, name, st, have, dst_st, buf, err);
}

/* NAME of the upper layer's directory UP (c->rel names UP; IN_ETC: the
 * pod's /etc). */
static int merge_entry(struct commit *c, int up, int dst, const char *name, bool in_etc, char *buf,
                       appc_error_t *err)
{
  struct stat st, dst_st;
  bool have, top = c->rel[0] == '\0';
  size_t saved;
  int r;

  if (fstatat(up, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(err, errno, "the app's change %s/%s", c->rel, name);
  have = fstatat(dst, name, &dst_st, AT_SYMLINK_NOFOLLOW) == 0;
  if (!have && errno != ENOENT)
    return appc_error_make(err, errno, "%s/%s/%s", c->rootfs, c->rel, name);
  if (made_by_executor(c, name, have, in_etc, &st))
    return 0;
  if (rel_push(c, name, &saved) < 0)
    return appc_error_make(err, ENAMETOOLONG, "%s/%s/%s", c->rootfs, c->rel, name);
  r = merge_changed(c, up, dst, name, &st, have, &dst_st, top, buf, err);
  c->rel[saved] = '\0';
  return r;
}

struct names {
  char **items;
  size_t len, cap;
};

static void names_clear(struct names *n)
{
  for (size_t i = 0; i < n->len; i++)
    free(n->items[i]);
  free(n->items);
}

/* The names in directory FD, read whole before any moves out of it (what
 * readdir returns for a directory changed while it is read is unspecified). */
static int read_names(int fd, struct names *out)
{
  int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = own >= 0 ? fdopendir(own) : NULL;
  struct dirent *e;
  int r = 0;

  if (d == NULL) {
    if (own >= 0)
      close(own);
    return -1;
  }
  while (r == 0 && (errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (APPC_ARRAY_RESERVE(out->items, out->cap, out->len + 1) < 0 ||
        (out->items[out->len] = strdup(e->d_name)) == NULL)
      r = -1;
    else
      out->len++;
  }
  if (r == 0 && errno != 0)
    r = -1;
  closedir(d);
  return r;
}

static int merge_dir(struct commit *c, int up, int dst, char *buf, appc_error_t *err)
{
  struct names n = {0};
  bool in_etc = is_etc(c, dst);
  int r = 0;

  if (read_names(up, &n) < 0)
    r = fail(c, errno, "read", err);
  for (size_t i = 0; r == 0 && i < n.len; i++)
    r = merge_entry(c, up, dst, n.items[i], in_etc, buf, err);
  names_clear(&n);
  return r;
}

/* Where the rootfs's /etc leads, resolved inside it as the pod resolved
 * it (the rootfs is the overlay's lower layer, unchanged by the run): no
 * directory there (none, or a dangling symlink) is no /etc of the
 * executor's, which would have made it or failed to start. */
static int find_etc(struct commit *c, int dst, appc_error_t *err)
{
  cleanup_close int etc = appc_open_in_root(dst, "etc", O_PATH | O_DIRECTORY);
  struct stat st;

  c->no_etc = fstatat(dst, "etc", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
  if (etc < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (etc < 0 || fstat(etc, &c->etc) < 0)
    return appc_error_make(err, errno, "%s/etc: cannot tell where it leads; nothing was committed",
                           c->rootfs);
  c->has_etc = true;
  return 0;
}

/* ---- the mark of a commit under way ---- */

/* CHANGES/committing, on disk before the first move: what find_etc found,
 * which the moves may change ("etc none", "etc other": not a directory,
 * "etc DEV INO"). */
static int write_mark(const struct commit *c, int changes, const char *changes_dir,
                      appc_error_t *err)
{
  char text[COMMIT_MARK_MAX];

  if (c->no_etc)
    snprintf(text, sizeof text, "etc none\n");
  else if (!c->has_etc)
    snprintf(text, sizeof text, "etc other\n");
  else
    snprintf(text, sizeof text, "etc %ju %ju\n", (uintmax_t) c->etc.st_dev,
             (uintmax_t) c->etc.st_ino);
  if (appc_atomic_write_at(changes, COMMIT_MARK, text, strlen(text), 0600, APPC_WRITE_DURABLE,
                           err) < 0)
    return appc_error_prefix(err, "%s: nothing was committed", changes_dir);
  return 0;
}

static int read_mark(struct commit *c, int changes, const char *changes_dir, appc_error_t *err)
{
  cleanup_free char *text = NULL;
  uintmax_t dev, ino;

  if (appc_read_file_at(changes, COMMIT_MARK, COMMIT_MARK_MAX, APPC_READ_REGULAR, &text, NULL,
                        err) < 0)
    return appc_error_prefix(err, "%s", changes_dir);
  if (strcmp(text, "etc none\n") == 0)
    c->no_etc = true;
  else if (sscanf(text, "etc %ju %ju", &dev, &ino) == 2) {
    c->has_etc = true;
    c->etc.st_dev = (dev_t) dev;
    c->etc.st_ino = (ino_t) ino;
  } else if (strcmp(text, "etc other\n") != 0)
    return appc_error_make(err, 0,
                           "%s/%s: not a commit's mark (\"etc none\", \"etc other\" or "
                           "\"etc DEV INO\")",
                           changes_dir, COMMIT_MARK);
  return 0;
}

/* CHANGES_DIR holds a mark (or cannot tell: then read_mark says why); no
 * such directory, or not a directory, holds none. */
static bool has_mark(const char *changes_dir)
{
  char path[PATH_MAX];

  snprintf(path, sizeof path, "%s/%s", changes_dir, COMMIT_MARK);
  return faccessat(AT_FDCWD, path, F_OK, AT_SYMLINK_NOFOLLOW) == 0 ||
         (errno != ENOENT && errno != ENOTDIR);
}

/* Done: nothing more to resume.  Not durably: a resumption of a finished
 * commit moves nothing. */
static int remove_mark(int changes, const char *changes_dir, appc_error_t *err)
{
  if (unlinkat(changes, COMMIT_MARK, 0) < 0)
    return appc_error_make(err, errno, "%s/%s", changes_dir, COMMIT_MARK);
  return 0;
}

/* ---- the commit ---- */

/* Everything of the upper layer UP into the rootfs DST, then the rootfs's
 * own directory. */
static int commit(struct commit *c, int up, int dst, char *buf, appc_error_t *err)
{
  struct stat st;

  if (merge_dir(c, up, dst, buf, err) < 0)
    return -1;
  /* The rootfs's own directory last (the moves changed its times): its
   * owner, mode and times as the app left them (rootfs.c gave the upper
   * root the rootfs's to start with). */
  if (fstat(up, &st) < 0 || copy_dir_metadata(up, dst, &st) < 0)
    return appc_error_make(err, errno, "%s: cannot give it the app's owner, mode, xattrs and times",
                           c->rootfs);
  return 0;
}

/* CHANGES_DIR, its upper layer and ROOTFS opened. */
static int open_commit(const char *changes_dir, const char *rootfs, int *changes, int *up, int *dst,
                       appc_error_t *err)
{
  const int dir = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

  if ((*changes = open(changes_dir, dir)) < 0)
    return appc_error_make(err, errno, "%s", changes_dir);
  if ((*up = openat(*changes, "upper", dir)) < 0)
    return appc_error_make(err, errno, "%s/upper: the app's changes", changes_dir);
  if ((*dst = open(rootfs, dir)) < 0)
    return appc_error_make(err, errno, "%s", rootfs);
  return 0;
}

/* Before the first move: what find_etc finds, the upper layer checked
 * whole, and the mark written. */
static int begin_commit(struct commit *c, int changes, const char *changes_dir, int up, int dst,
                        char *buf, appc_error_t *err)
{
  if (find_etc(c, dst, err) < 0 || each_entry(c, up, ".", whole_fn, buf, err) < 0)
    return -1;
  return write_mark(c, changes, changes_dir, err);
}

/* The commit from its beginning, or (RESUME) from the mark of one begun. */
static int run_commit(const char *changes_dir, const char *rootfs, bool resume, appc_error_t *err)
{
  struct commit c = {.rootfs = rootfs};
  cleanup_close int changes = -1, up = -1, dst = -1;
  cleanup_free char *buf = malloc(XATTR_LIST_BUF);
  int r;

  if (buf == NULL)
    return appc_error_make(err, ENOMEM, "%s", changes_dir);
  if (open_commit(changes_dir, rootfs, &changes, &up, &dst, err) < 0)
    return -1;
  r = resume ? read_mark(&c, changes, changes_dir, err)
             : begin_commit(&c, changes, changes_dir, up, dst, buf, err);
  if (r < 0 || commit(&c, up, dst, buf, err) < 0)
    return -1;
  return remove_mark(changes, changes_dir, err);
}

int ace_commit_changes(const char *changes_dir, const char *rootfs, appc_error_t *err)
{
  return run_commit(changes_dir, rootfs, false, err);
}

int appc_ace_commit_resume(const char *changes_dir, const char *rootfs, appc_error_t *err)
{
  return has_mark(changes_dir) ? run_commit(changes_dir, rootfs, true, err) : 0;
}
