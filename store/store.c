/* SPDX-License-Identifier: Apache-2.0 */
/* Opening a store: its directory layout, format version and locks.
 *
 * DIR/format holds "actool-store N"; a store without it is initialised, one
 * with a larger N (a newer release) is refused rather than misread.  DIR/lock
 * is the store-wide lock: every operation holds it shared, gc exclusive, so
 * gc only ever sees temporaries that nobody is writing. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/callbacks.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/lockwait.h"
#include "store/private.h"
#include "common/macros.h"

#define FORMAT_FILE "format"
#define FORMAT_MAGIC "actool-store"

static const char *const subdirs[] = {STORE_BLOBS, STORE_IMAGES, STORE_TREES, STORE_TMP};

/* mkdir -p for the store's own directory; intermediate directories get the
 * usual 0755, the store itself 0700 (it may hold images others must not
 * read). */
static int make_store_dir(const char *dir, appc_error_t *err)
{
  cleanup_free char *p = strdup(dir);

  if (p == NULL)
    return appc_error_make(err, ENOMEM, "%s", dir);
  for (char *slash = strchr(p + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    if (mkdir(p, 0755) < 0 && errno != EEXIST)
      return appc_error_make(err, errno, "%s: cannot create the store directory", p);
    *slash = '/';
  }
  if (mkdir(p, 0700) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, "%s: cannot create the store directory", dir);
  return 0;
}

static int read_format(struct appc_store *s, int *version, appc_error_t *err)
{
  char buf[64];
  /* O_NONBLOCK: a FIFO put there must not hold every command at its open
   * (reads of a regular file never block). */
  cleanup_close int fd =
      openat(s->dirfd, FORMAT_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  struct stat st;
  ssize_t n;

  if (fd < 0) {
    if (errno == ENOENT) {
      *version = 0;
      return 0;
    }
    return appc_error_make(err, errno, "%s/%s", s->path, FORMAT_FILE);
  }
  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "%s/%s", s->path, FORMAT_FILE);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "%s/%s: not a regular file", s->path, FORMAT_FILE);
  n = read(fd, buf, sizeof buf - 1);
  if (n < 0)
    return appc_error_make(err, errno, "%s/%s", s->path, FORMAT_FILE);
  buf[n] = '\0';
  if (sscanf(buf, FORMAT_MAGIC " %d", version) != 1 || *version < 1)
    return appc_error_make(err, 0, "%s/%s: not an actool store (unrecognised format file)", s->path,
                           FORMAT_FILE);
  return 0;
}

static int write_format(struct appc_store *s, appc_error_t *err)
{
  char text[64];
  int len = snprintf(text, sizeof text, FORMAT_MAGIC " %d\n", APPC_STORE_FORMAT);

  return appc_store_write_file(s, s->dirfd, FORMAT_FILE, text, (size_t) len, err);
}

static int init_layout(struct appc_store *s, appc_error_t *err)
{
  int version;

  if (read_format(s, &version, err) < 0)
    return -1;
  if (version > APPC_STORE_FORMAT)
    return appc_error_make(err, 0,
                           "%s: store format %d was written by a newer release (this one reads "
                           "format %d)",
                           s->path, version, APPC_STORE_FORMAT);
  for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++)
    if (mkdirat(s->dirfd, subdirs[i], 0700) < 0 && errno != EEXIST)
      return appc_error_make(err, errno, "%s/%s", s->path, subdirs[i]);
  /* The format file goes last: its presence says the layout is complete.
   * A store of format 1 needs nothing else: its trees are of an older
   * format, never used again, and gc removes them; the number keeps a
   * release that would misread the new ones out. */
  if (version < APPC_STORE_FORMAT && write_format(s, err) < 0)
    return -1;
  return 0;
}

static int open_dirs(struct appc_store *s, appc_error_t *err)
{
  int *fds[] = {&s->blobs_fd, &s->images_fd, &s->trees_fd, &s->tmp_fd};

  for (size_t i = 0; i < ARRAY_SIZE(subdirs); i++) {
    *fds[i] = openat(s->dirfd, subdirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (*fds[i] < 0)
      return appc_error_make(err, errno, "%s/%s", s->path, subdirs[i]);
  }
  return 0;
}

/* DIR made absolute: the store's paths go to processes that work in
 * another directory (the executor's mounts, a pod's supervisor), as rkt
 * makes its --dir absolute. */
static char *absolute_path(const char *dir)
{
  cleanup_free char *cwd = NULL;
  char *path = NULL;

  if (dir[0] == '/')
    return strdup(dir);
  if ((cwd = get_current_dir_name()) == NULL ||
      asprintf(&path, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", dir) < 0)
    return NULL;
  return path;
}

/* The lock file, also on a read-only mount, where it is read-only: flock
 * needs no write access, and the store can still be read. */
static int open_lock(struct appc_store *s, appc_error_t *err)
{
  s->lock_fd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (s->lock_fd < 0 && errno == EROFS)
    s->lock_fd = openat(s->dirfd, "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (s->lock_fd < 0)
    return appc_error_make(err, errno, "%s/lock", s->path);
  return 0;
}

static int store_open(struct appc_store *s, const char *dir, appc_error_t *err)
{
  s->path = absolute_path(dir);
  if (s->path == NULL)
    return appc_error_make(err, errno != 0 ? errno : ENOMEM, "%s", dir);
  dir = s->path;
  if (make_store_dir(dir, err) < 0)
    return -1;
  s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0)
    return appc_error_make(err, errno, "%s: cannot open the store", dir);
  if (open_lock(s, err) < 0)
    return -1;
  if (appc_store_lock(s, false, err) < 0)
    return -1;
  int r = init_layout(s, err);
  if (r == 0)
    r = open_dirs(s, err);
  appc_store_unlock(s);
  return r;
}

int appc_store_open(struct appc_store **out, const char *dir, appc_error_t *err)
{
  return appc_store_open_with(out, dir, NULL, err);
}

int appc_store_open_with(struct appc_store **out, const char *dir, const struct appc_callbacks *cb,
                         appc_error_t *err)
{
  struct appc_store *s;

  /* "" would be the current directory, which would become a store. */
  if (dir == NULL || dir[0] == '\0')
    return appc_error_tag(err, EINVAL, "a store's directory: the path is empty");
  s = calloc(1, sizeof *s);
  if (s == NULL)
    return appc_error_make(err, ENOMEM, "%s", dir);
  s->dirfd = s->lock_fd = s->blobs_fd = s->images_fd = s->trees_fd = s->tmp_fd = -1;
  s->as_root = geteuid() == 0;
  s->cb = cb;
  if (store_open(s, dir, err) < 0) {
    appc_store_close(s);
    return -1;
  }
  *out = s;
  return 0;
}

void appc_store_close(struct appc_store *s)
{
  if (s == NULL)
    return;
  int fds[] = {s->blobs_fd, s->images_fd, s->trees_fd, s->tmp_fd, s->lock_fd, s->dirfd};
  for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
    if (fds[i] >= 0)
      close(fds[i]);
  for (size_t i = 0; i < s->n_own_tmpdirs; i++)
    free(s->own_tmpdirs[i]);
  free(s->own_tmpdirs);
  free(s->deferred);
  free(s->path);
  free(s);
}

const char *appc_store_path(const struct appc_store *s)
{
  return s->path;
}

/* The store's lock taken (OP), saying so through the notice callback when
 * that waits for another process: a build holds it shared for its whole
 * run, gc exclusive, and a command that waits without a word looks hung. */
static int flock_store(struct appc_store *s, int op)
{
  return appc_flock_noting(s->lock_fd, op, s->cb, "the store's lock (%s/lock)", s->path);
}

int appc_store_lock(struct appc_store *s, bool exclusive, appc_error_t *err)
{
  /* Nested holds (render holding the lock around a tree acquisition that
   * takes it too) share the one flock: only the outermost takes and drops
   * it, since LOCK_UN would release it whatever the depth.  An exclusive
   * hold inside a shared one would exclude no one (and turning the flock
   * into an exclusive one lets gc in between, which removes what the
   * outer hold keeps in tmp/): refused. */
  if (s->lock_depth > 0) {
    if (exclusive && !s->lock_exclusive)
      return appc_error_tag(err, EDEADLK,
                            "%s/lock: held shared by this process; an exclusive hold "
                            "cannot be nested in it",
                            s->path);
    s->lock_depth++;
    return 0;
  }
  if (flock_store(s, exclusive ? LOCK_EX : LOCK_SH) < 0)
    return appc_error_make(err, errno, "%s/lock", s->path);
  s->lock_depth = 1;
  s->lock_exclusive = exclusive;
  return 0;
}

/* The lock taken (or this process's hold converted) for removals of what
 * imports added: exclusive when no other process holds it, so that none
 * reads an image as it goes.  When one does (a build in a long RUN step),
 * waiting would leave this command hanging behind it: the removals are
 * then done under a shared hold, the record's lock still keeping an image
 * another import took meanwhile, and images/'s a first import of it apart
 * (appc_store_lock_images).  (A conversion that fails has dropped the
 * shared hold: flock(2).) */
static int lock_for_removal(struct appc_store *s)
{
  s->lock_exclusive = flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0;
  return s->lock_exclusive ? 0 : flock_store(s, LOCK_SH);
}

int appc_store_lock_removal(struct appc_store *s, appc_error_t *err)
{
  if (s->lock_depth > 0)
    return appc_store_lock(s, true, err);
  if (lock_for_removal(s) < 0)
    return appc_error_make(err, errno, "%s/lock", s->path);
  s->lock_depth = 1;
  return 0;
}

void appc_store_unlock(struct appc_store *s)
{
  if (s->lock_depth == 0 || --s->lock_depth > 0)
    return;
  if (s->n_deferred > 0) {
    if (lock_for_removal(s) == 0)
      appc_store_run_deferred(s);
    else
      appc_cb_log(s->cb, "%s/lock: %s: %zu images to remove are left in the store", s->path,
                  strerror(errno), s->n_deferred);
  }
  free(s->deferred);
  s->deferred = NULL;
  s->n_deferred = 0;
  (void) flock(s->lock_fd, LOCK_UN);
}

int appc_store_no_such_image(appc_error_t *err, const char *what, const char *extra)
{
  bool first = *err == NULL;

  appc_error_make(err, 0, "%s: no such image in the store%s", what, extra);
  if (first && *err != NULL)
    (*err)->errnum = ENOENT;
  return -1;
}

int appc_store_temp_name(char *buf, size_t size, const char *kind)
{
  unsigned long long r = 0;

  /* Uniqueness comes from O_EXCL / mkdir at creation; randomness only
   * makes a collision (and a retry) unlikely. */
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) < 0)
    r = (unsigned long long) getpid() * 2654435761u;
  return snprintf(buf, size, "%s-%d-%016llx", kind, (int) getpid(), r) < (int) size ? 0 : -1;
}

int appc_store_fsync_dir(int fd, const char *what, appc_error_t *err)
{
  if (fsync(fd) < 0)
    return appc_error_make(err, errno, "%s: fsync", what);
  return 0;
}

int appc_store_write_file(struct appc_store *s, int dirfd, const char *name, const void *data,
                          size_t len, appc_error_t *err)
{
  if (appc_atomic_write_at(dirfd, name, data, len, 0644, APPC_WRITE_DURABLE, err) < 0)
    return appc_error_prefix(err, "%s", s->path);
  return 0;
}

static const char *const area_dirs[] = {
    [APPC_STORE_AREA_PODS] = "pods",   [APPC_STORE_AREA_HTTP_CACHE] = "cache/http",
    [APPC_STORE_AREA_AUTH] = "auth.d", [APPC_STORE_AREA_TMP] = STORE_TMP,
    [APPC_STORE_AREA_TRUST] = "trust", [APPC_STORE_AREA_BUILD_CACHE] = "cache/build",
    [APPC_STORE_AREA_NET] = "net",     [APPC_STORE_AREA_OCI_CACHE] = "cache/oci",
};

const char *appc_store_area_name(enum appc_store_area area)
{
  /* A caller's enum may hold any number (a newer header's area, a cast):
   * never read past the table. */
  if ((unsigned) area >= ARRAY_SIZE(area_dirs)) {
    errno = EINVAL;
    return NULL;
  }
  return area_dirs[area];
}

/* mkdir -p NAME (relative, made of plain components) in DIRFD. */
static int make_area(int dirfd, const char *name)
{
  char buf[64];

  snprintf(buf, sizeof buf, "%s", name);
  for (char *p = buf;; p++) {
    if (*p != '/' && *p != '\0')
      continue;
    char c = *p;
    *p = '\0';
    if (mkdirat(dirfd, buf, 0700) < 0 && errno != EEXIST)
      return -1;
    if (c == '\0')
      return 0;
    *p = c;
  }
}

int appc_store_area_open(struct appc_store *s, enum appc_store_area area, bool create,
                         appc_error_t *err)
{
  const char *name = appc_store_area_name(area);
  int fd;

  if (name == NULL)
    return appc_error_tag(err, EINVAL, "%s: %d is no store area", s->path, (int) area);
  if (create && make_area(s->dirfd, name) < 0)
    return appc_error_make(err, errno, "%s/%s", s->path, name);
  fd = openat(s->dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && !(errno == ENOENT && !create))
    return appc_error_make(err, errno, "%s/%s", s->path, name);
  return fd;
}

static void forget_removed_tmpdirs(struct appc_store *s)
{
  size_t kept = 0;

  for (size_t i = 0; i < s->n_own_tmpdirs; i++) {
    if (faccessat(s->tmp_fd, s->own_tmpdirs[i], F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
      free(s->own_tmpdirs[i]);
    else
      s->own_tmpdirs[kept++] = s->own_tmpdirs[i];
  }
  s->n_own_tmpdirs = kept;
}

int appc_store_tmpdir(struct appc_store *s, const char *prefix, char **out, appc_error_t *err)
{
  cleanup_free char *path = NULL;

  *out = NULL;
  if (strchr(prefix, '/') != NULL || strlen(prefix) > 64)
    return appc_error_tag(err, EINVAL, "\"%s\": not a name for a temporary directory", prefix);
  if (asprintf(&path, "%s/%s/%s-XXXXXX", s->path, STORE_TMP, prefix) < 0)
    return appc_error_make(err, ENOMEM, "%s/%s", s->path, STORE_TMP);
  /* mkdtemp gives mode 0700 */
  if (mkdtemp(path) == NULL)
    return appc_error_make(err, errno, "%s: cannot create a temporary directory", path);
  /* remembered, so that appc_store_check_dest lets its owner write there
   * (those removed since are forgotten: a long-lived caller's list stays
   * as long as what it holds) */
  forget_removed_tmpdirs(s);
  char **more = realloc(s->own_tmpdirs, (s->n_own_tmpdirs + 1) * sizeof *more);
  if (more == NULL || (more[s->n_own_tmpdirs] = strdup(strrchr(path, '/') + 1)) == NULL) {
    if (more != NULL)
      s->own_tmpdirs = more;
    (void) rmdir(path);
    return appc_error_make(err, ENOMEM, "%s", path);
  }
  s->own_tmpdirs = more;
  s->n_own_tmpdirs++;
  *out = steal_pointer(&path);
  return 0;
}

char *appc_store_area_path(const struct appc_store *s, enum appc_store_area area)
{
  const char *name = appc_store_area_name(area);
  char *path = NULL;

  if (name == NULL)
    return NULL;
  return asprintf(&path, "%s/%s", s->path, name) < 0 ? NULL : path;
}

int appc_store_each_entry(struct appc_store *s, int dirfd, const char *what, appc_store_entry_fn fn,
                          void *data, appc_error_t *err)
{
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;
  int r = 0;

  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return appc_error_make(err, errno, "%s/%s", s->path, what);
  }
  while (r == 0 && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
      r = fn(de->d_name, data, err);
  closedir(d);
  return r;
}

void appc_store_set_callbacks(struct appc_store *s, const struct appc_callbacks *cb)
{
  s->cb = cb;
}

/* The store's directory and the directories in it, at most N: what a
 * destination's directory must not be nor be below (by device and inode,
 * so that a symlink or a bind mount of one of them is seen through). */
static size_t store_dirs(struct appc_store *s, struct stat *out, size_t n)
{
  size_t k = 0;
  int fd = openat(s->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  struct dirent *de;

  if (fstat(s->dirfd, &out[k]) == 0)
    k++;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return k;
  }
  while (k < n && (de = readdir(d)) != NULL)
    if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
        fstatat(s->dirfd, de->d_name, &out[k], AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(out[k].st_mode))
      k++;
  closedir(d);
  return k;
}

/* Is the first of DIRS met climbing from FD one of the store's own (the
 * first N_STORE), rather than a temporary directory of this process's?
 * The climb goes through the store's mount where it can: from a bind
 * mount of a directory deeper in the store (DIR/trees/KEY, its rootfs,
 * DIR/images/ID), ".." leaves at the mount's root and never meets the
 * store's directories, though writes there land in the store. */
static bool in_store(struct appc_store *s, int fd, const struct stat *dirs, size_t n,
                     size_t n_store)
{
  cleanup_close int real = appc_dir_reopen_in_mount(fd, s->dirfd);
  int i = appc_dir_chain_find(real >= 0 ? real : fd, dirs, n);
  return i >= 0 && (size_t) i < n_store;
}

int appc_store_check_dest_at(struct appc_store *s, int parent_fd, const char *base,
                             const char *path, appc_error_t *err)
{
  struct stat dirs[48], st;
  size_t n_store = store_dirs(s, dirs, 32), n = n_store;
  cleanup_close int fd = -1;

  /* What appc_store_tmpdir gave this process is its own to write in (a
   * Containerfile's layout, a squash), found by name: once removed, it
   * is nobody's. */
  for (size_t i = 0; i < s->n_own_tmpdirs && n < ARRAY_SIZE(dirs); i++)
    if (fstatat(s->tmp_fd, s->own_tmpdirs[i], &dirs[n], AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISDIR(dirs[n].st_mode))
      n++;

  /* DEST itself the store's directory, or one holding it (replacing it
   * would take the store away) */
  if (fstatat(parent_fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
      appc_dir_is_or_above(s->dirfd, &st))
    return appc_error_make(err, 0, "%s: holds the store %s (or is in it): it cannot be replaced",
                           path, s->path);
  /* DEST's directory in the store, or DEST a directory (or a symlink to
   * one) in it: the store's files are the store's alone */
  if (in_store(s, parent_fd, dirs, n, n_store) ||
      ((fd = openat(parent_fd, base, O_PATH | O_DIRECTORY | O_CLOEXEC)) >= 0 &&
       in_store(s, fd, dirs, n, n_store)))
    return appc_error_make(err, 0, "%s: in the store %s: only the store writes there", path,
                           s->path);
  return 0;
}

int appc_store_check_dest(struct appc_store *s, const char *path, appc_error_t *err)
{
  cleanup_free char *a = strdup(path);
  cleanup_free char *b = strdup(path);
  cleanup_close int parent = -1;

  if (a == NULL || b == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  parent = open(dirname(a), O_PATH | O_DIRECTORY | O_CLOEXEC);
  /* no parent: nothing can be written there, as the caller will say */
  if (parent < 0)
    return 0;
  return appc_store_check_dest_at(s, parent, basename(b), path, err);
}
