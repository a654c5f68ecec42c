/* SPDX-License-Identifier: Apache-2.0 */
/* The user, group and supplementary groups an app runs as (aci.md, "app").
 *
 * user and group are resolved inside the app's root, which comes from an
 * image nobody vouched for: every file there is opened with openat2
 * (RESOLVE_IN_ROOT), so that a symlink such as etc/passwd -> /etc/passwd or
 * -> ../../../etc/passwd means the image's own file and never the host's;
 * and never across a mount (RESOLVE_NO_XDEV): the supervisor reads them as
 * root with every capability, after /proc, /sys and the volumes are
 * mounted, where etc/passwd -> /proc/kmsg would drain the host's kernel
 * log.  The databases are parsed expecting anything (huge files, lines with
 * missing fields or bad numbers, which are skipped). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ace/internal.h"
#include "common/cleanup.h"
#include "common/fs.h"

/* (uid_t) -1 and (gid_t) -1 mean "unchanged" to setuid/chown: never an id. */
#define ID_MAX 4294967294u
/* passwd and group files are small; an image shipping more is refused. */
#define DB_MAX (4u << 20)
/* As the kernel's own limit on symlinks followed in one lookup. */
#define MAX_SYMLINKS 40

/* ---- opening inside the root ---- */

static bool same_inode(int a, int b)
{
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

static int close_keep_errno(int fd)
{
  int saved = errno;
  close(fd);
  errno = saved;
  return -1;
}

/* Replace *CUR by NEXT, an fd or -1 (failure, errno kept). */
static int step_to(int *cur, int next)
{
  int old = *cur;

  *cur = next;
  if (next < 0)
    return close_keep_errno(old);
  close(old);
  return 0;
}

/* Where a walk by components stands: CUR is the directory reached so far and
 * P the rest of the path to resolve, which lives in REST. */
struct walk {
  int root_fd;
  dev_t root_dev; /* a component elsewhere is on another mount */
  int cur;
  char *rest;
  const char *p;
  unsigned links;
};

/* Take the next component of the rest into NAME: 1, or 0 at the end, or -1
 * when it is too long. */
static int next_component(struct walk *w, char name[NAME_MAX + 1])
{
  size_t n;

  while (*w->p == '/')
    w->p++;
  if (*w->p == '\0')
    return 0;
  n = strcspn(w->p, "/");
  if (n > NAME_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(name, w->p, n);
  name[n] = '\0';
  w->p += n;
  while (*w->p == '/')
    w->p++;
  return 1;
}

/* Go on with the target of the symlink LINK_FD in front of the rest; an
 * absolute target starts again from the root. */
static int follow_link(struct walk *w, int link_fd)
{
  char target[PATH_MAX];
  char *rest = NULL;
  ssize_t n;

  if (++w->links > MAX_SYMLINKS) {
    errno = ELOOP;
    return -1;
  }
  n = readlinkat(link_fd, "", target, sizeof target);
  if (n < 0)
    return -1;
  if ((size_t) n >= sizeof target) {
    errno = ENAMETOOLONG;
    return -1;
  }
  target[n] = '\0';
  if (asprintf(&rest, "%s/%s", target, w->p) < 0)
    return -1;
  free(w->rest);
  w->rest = rest;
  w->p = rest;
  if (target[0] == '/')
    return step_to(&w->cur, fcntl(w->root_fd, F_DUPFD_CLOEXEC, 0));
  return 0;
}

/* Resolve NAME from W->cur: 1 when it was the last component and *FD is the
 * result, 0 to go on, -1 on error. */
static int walk_one(struct walk *w, const char *name, int flags, int *fd)
{
  struct stat st;
  int next;

  if (strcmp(name, ".") == 0)
    return 0;
  if (strcmp(name, "..") == 0)
    return same_inode(w->cur, w->root_fd)
               ? 0
               : step_to(&w->cur, openat(w->cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
  next = openat(w->cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  if (next < 0)
    return -1;
  if (fstat(next, &st) < 0)
    return close_keep_errno(next);
  /* As RESOLVE_NO_XDEV, as far as st_dev tells a mount (a bind mount of
   * the root's own file system is not told apart). */
  if (st.st_dev != w->root_dev) {
    close(next);
    errno = EXDEV;
    return -1;
  }
  if (S_ISLNK(st.st_mode)) {
    int r = follow_link(w, next);
    close_keep_errno(next);
    return r;
  }
  if (*w->p == '\0' && (flags & O_PATH)) {
    *fd = next;
    return 1;
  }
  if (*w->p == '\0') {
    /* Opened again by name: O_NOFOLLOW refuses it had it become a symlink. */
    close(next);
    *fd = openat(w->cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
    return *fd < 0 ? -1 : 1;
  }
  if (!S_ISDIR(st.st_mode)) {
    close(next);
    errno = ENOTDIR;
    return -1;
  }
  return step_to(&w->cur, next);
}

/* What appc_open_in_root (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_XDEV) does,
 * one component at a time, for kernels (and valgrind) without openat2: ".."
 * stops at the root, a symlink's target is resolved again from the root
 * (absolute) or from where it was found, and no mount is crossed. */
static int walk_in_root(int root_fd, const char *path, int flags)
{
  struct walk w = {.root_fd = root_fd, .cur = -1, .rest = strdup(path)};
  char name[NAME_MAX + 1];
  struct stat root_st;
  int fd = -1, r = 0;

  if (w.rest == NULL)
    return -1;
  if (fstat(root_fd, &root_st) < 0) {
    free(w.rest);
    return -1;
  }
  w.root_dev = root_st.st_dev;
  w.p = w.rest;
  w.cur = fcntl(root_fd, F_DUPFD_CLOEXEC, 0);
  while (w.cur >= 0 && r == 0) {
    r = next_component(&w, name);
    if (r == 0) {
      /* The path ended on a directory ("/", "a/.."). */
      fd = (flags & O_PATH) ? fcntl(w.cur, F_DUPFD_CLOEXEC, 0)
                            : openat(w.cur, ".", flags | O_CLOEXEC);
      break;
    }
    if (r > 0)
      r = walk_one(&w, name, flags, &fd);
  }
  if (w.cur >= 0)
    close_keep_errno(w.cur);
  free(w.rest);
  return fd;
}

/* Open PATH (absolute or relative, it does not matter) inside ROOT_FD as if
 * ROOT_FD were "/", following symlinks without ever leaving it nor its
 * mount (EXDEV). */
static int open_in_root(int root_fd, const char *path, int flags)
{
  int fd = appc_open_in_root(root_fd, path, flags);

  if (fd >= 0 || errno != ENOSYS)
    return fd;
  return walk_in_root(root_fd, path, flags);
}

/* The error for PATH (FIELD's) when it cannot be opened: ERRNUM (EXDEV: it
 * leads to another mount, which is no file of the image). */
static int open_error(appc_error_t *err, int errnum, const char *field, const char *path)
{
  if (errnum == EXDEV)
    return appc_error_make(err, 0,
                           "app.%s: %s in the image leads out of the image's file system (to "
                           "/proc, /sys, /dev or a volume): refused",
                           field, path);
  return appc_error_make(err, errnum, "app.%s: %s in the image", field, path);
}

/* ---- reading passwd and group ---- */

/* Read DB ("/etc/passwd") of the root: 1 when read, 0 when the image has none.
 * Only a regular file is opened for reading: a device node could have effects
 * just by being opened. */
static int read_db(int root_fd, const char *field, const char *db, char **out, size_t *len,
                   appc_error_t *err)
{
  cleanup_close int path_fd = open_in_root(root_fd, db, O_PATH);
  cleanup_close int fd = -1;
  struct stat st;

  if (path_fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return 0;
  if (path_fd < 0 || fstat(path_fd, &st) < 0)
    return open_error(err, errno, field, db);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "app.%s: %s in the image is not a regular file", field, db);
  fd = open_in_root(root_fd, db, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (fd < 0 || fstat(fd, &st) < 0)
    return open_error(err, errno, field, db);
  if (!S_ISREG(st.st_mode))
    return appc_error_make(err, 0, "app.%s: %s in the image is not a regular file", field, db);
  if (appc_read_fd(fd, db, DB_MAX, out, len, err) < 0) {
    if ((*err)->errnum != EFBIG)
      return appc_error_prefix(err, "app.%s: reading %s in the image", field, db);
    appc_error_release(err);
    return appc_error_make(err, 0, "app.%s: %s in the image is larger than %u MiB", field, db,
                           DB_MAX >> 20);
  }
  return 1;
}

/* Decimal digits only, within 0..ID_MAX.  *OVERFLOW tells digits that are
 * too large apart from text that is not a number. */
static bool parse_id(const char *s, size_t len, uint32_t *out, bool *overflow)
{
  uint64_t v = 0;

  *overflow = false;
  if (len == 0)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    if (!*overflow)
      v = v * 10 + (uint64_t) (s[i] - '0');
    if (v > ID_MAX)
      *overflow = true;
  }
  if (*overflow)
    return false;
  *out = (uint32_t) v;
  return true;
}

/* One line of passwd or group: NAME:PASSWORD:ID[:...], and passwd's sixth
 * field, the home directory (empty when absent). */
struct db_entry {
  const char *name;
  size_t name_len;
  uint32_t id;
  const char *home;
  size_t home_len;
};

/* Whether LINE (without its newline) is an entry with a valid ID in the third
 * field, into *E; anything else is a line to skip. */
static bool db_parse_line(const char *line, size_t len, struct db_entry *e)
{
  const char *end = line + len;
  const char *f[5]; /* where fields 2 to 6 start */
  size_t n = 0;
  bool overflow;

  /* "+name" and "-name" are NIS compat entries, not users or groups. */
  if (len == 0 || line[0] == '#' || line[0] == '+' || line[0] == '-' ||
      memchr(line, '\0', len) != NULL)
    return false;
  for (const char *p = line; n < 5 && (p = memchr(p, ':', (size_t) (end - p))) != NULL; p++)
    f[n++] = p + 1;
  if (n < 2)
    return false;
  const char *id_end = n > 2 ? f[2] - 1 : end;
  if (!parse_id(f[1], (size_t) (id_end - f[1]), &e->id, &overflow))
    return false;
  e->name = line;
  e->name_len = (size_t) (f[0] - 1 - line);
  e->home = n >= 5 ? f[4] : end;
  const char *home_end = n >= 5 ? memchr(f[4], ':', (size_t) (end - f[4])) : NULL;
  e->home_len = n >= 5 ? (size_t) ((home_end != NULL ? home_end : end) - f[4]) : 0;
  return true;
}

/* The first valid entry of DB for NAME (as getpwnam would), or with ID ID
 * when NAME is NULL (as getpwuid would). */
static bool db_find(const char *db, size_t len, const char *name, uint32_t id, struct db_entry *e)
{
  const char *p = db, *end = db + len;
  size_t name_len = name != NULL ? strlen(name) : 0;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t) (end - p));
    const char *eol = nl != NULL ? nl : end;
    if (db_parse_line(p, (size_t) (eol - p), e) &&
        (name != NULL ? e->name_len == name_len && memcmp(e->name, name, name_len) == 0
                      : e->id == id))
      return true;
    p = eol + 1;
  }
  return false;
}

/* ---- the rules ---- */

/* "/path": the owner of that file in the image (symlinks followed inside). */
static int owner_of(int root_fd, const char *field, const char *path, bool want_gid, uint32_t *id,
                    appc_error_t *err)
{
  cleanup_close int fd = open_in_root(root_fd, path, O_PATH);
  struct stat st;

  if (fd < 0 && (errno == ENOENT || errno == ENOTDIR))
    return appc_error_make(err, 0, "app.%s: %s: no such file in the image", field, path);
  if (fd < 0 || fstat(fd, &st) < 0)
    return open_error(err, errno, field, path);
  *id = want_gid ? (uint32_t) st.st_gid : (uint32_t) st.st_uid;
  if (*id > ID_MAX)
    return appc_error_make(err, 0, "app.%s: %s in the image has no valid owner", field, path);
  return 0;
}

/* A passwd or group file of the image, read when first needed. */
struct db_text {
  const char *path; /* "/etc/passwd" or "/etc/group" */
  char *data;
  size_t len;
  int have; /* 1 read, 0 the image has none, -1 not read yet */
};
#define DB_TEXT(p)                                                                                 \
  {                                                                                                \
    .path = (p), .have = -1                                                                        \
  }

static void db_text_clear(struct db_text *db)
{
  free(db->data);
}

static int db_read(int root_fd, const char *field, struct db_text *db, appc_error_t *err)
{
  if (db->have < 0)
    db->have = read_db(root_fd, field, db->path, &db->data, &db->len, err);
  return db->have;
}

/* FIELD ("user" or "group") of the app: a path, a name in DB, or a number. */
static int resolve_one(int root_fd, const char *field, const char *value, struct db_text *db,
                       bool want_gid, uint32_t *id, appc_error_t *err)
{
  struct db_entry e;
  bool overflow;

  if (value == NULL || value[0] == '\0')
    return appc_error_make(err, 0, "app.%s: must not be empty", field);
  if (value[0] == '/')
    return owner_of(root_fd, field, value, want_gid, id, err);
  /* The image's own database first: a name may be all digits. */
  if (db_read(root_fd, field, db, err) < 0)
    return -1;
  if (db->have && db_find(db->data, db->len, value, 0, &e)) {
    *id = e.id;
    return 0;
  }
  if (parse_id(value, strlen(value), id, &overflow))
    return 0;
  if (overflow)
    return appc_error_make(err, 0,
                           "app.%s: \"%s\" is not in %s and is out of range for a %s (0 to %u)",
                           field, value, db->path, want_gid ? "GID" : "UID", ID_MAX);
  if (!db->have)
    return appc_error_make(err, 0, "app.%s: \"%s\" is not a number and the image has no %s", field,
                           value, db->path);
  return appc_error_make(err, 0, "app.%s: \"%s\" is not in %s and is not a number", field, value,
                         db->path);
}

/* HOME for USER (the app's, NULL for root), resolved to UID: the home
 * directory of its passwd entry (by name, else the first with UID), else
 * "/", as runc and docker set it.  A passwd that cannot be read gives "/"
 * too: a user given as a path never needed it. */
static char *home_of(int root_fd, const char *user, uint32_t uid, struct db_text *passwd)
{
  appc_error_t ignored = NULL;
  struct db_entry e;

  if (db_read(root_fd, "user", passwd, &ignored) < 0)
    appc_error_release(&ignored);
  if (passwd->have > 0 &&
      ((user != NULL && user[0] != '/' && db_find(passwd->data, passwd->len, user, 0, &e)) ||
       db_find(passwd->data, passwd->len, NULL, uid, &e)) &&
      e.home_len > 0)
    return strndup(e.home, e.home_len);
  return strdup("/");
}

static int copy_groups(const struct appc_app *app, struct ace_identity *out, appc_error_t *err)
{
  if (app->n_supplementary_gids == 0)
    return 0;
  out->groups = calloc(app->n_supplementary_gids, sizeof *out->groups);
  if (out->groups == NULL)
    return appc_error_make(err, errno, "app.supplementaryGIDs");
  for (size_t i = 0; i < app->n_supplementary_gids; i++) {
    int64_t g = app->supplementary_gids[i];
    if (g < 0 || g > (int64_t) ID_MAX)
      return appc_error_make(err, 0,
                             "app.supplementaryGIDs[%zu]: %lld is not a valid GID (0 to %u)", i,
                             (long long) g, ID_MAX);
    out->groups[out->n_groups++] = (gid_t) g;
  }
  return 0;
}

int ace_identity_resolve(const char *root, const struct appc_app *app, struct ace_identity *out,
                         appc_error_t *err)
{
  cleanup_close int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  __attribute__((cleanup(db_text_clear))) struct db_text passwd = DB_TEXT("/etc/passwd");
  __attribute__((cleanup(db_text_clear))) struct db_text group = DB_TEXT("/etc/group");
  uint32_t uid = 0, gid = 0;

  *out = (struct ace_identity){0};
  if (root_fd < 0)
    return appc_error_make(err, errno, "%s", root);
  if (app != NULL && (resolve_one(root_fd, "user", app->user, &passwd, false, &uid, err) < 0 ||
                      resolve_one(root_fd, "group", app->group, &group, true, &gid, err) < 0))
    return -1;
  out->uid = (uid_t) uid;
  out->gid = (gid_t) gid;
  if ((out->home = home_of(root_fd, app != NULL ? app->user : NULL, uid, &passwd)) == NULL) {
    appc_error_make(err, ENOMEM, "HOME");
    return -1;
  }
  if (app != NULL && copy_groups(app, out, err) < 0) {
    ace_identity_clear(out);
    return -1;
  }
  return 0;
}

void ace_identity_clear(struct ace_identity *id)
{
  if (id == NULL)
    return;
  free(id->groups);
  free(id->home);
  *id = (struct ace_identity){0};
}
