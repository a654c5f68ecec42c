/* SPDX-License-Identifier: Apache-2.0 */
/* .deb files (deb(5)): an ar archive of debian-binary ("2.x"), control.tar
 * and data.tar, each tar possibly compressed (gzip, xz, zstd, bzip2), read
 * with libarchive.  deb_check reads a whole package before anything is
 * unpacked: its structure, its control files, every data.tar path;
 * deb_unpack writes data.tar into a rootfs with every path resolved inside
 * it (openat2 RESOLVE_IN_ROOT), so that neither a path nor a symlink, the
 * package's or one already in the rootfs, leads out. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/stream.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "deb/internal.h"

/* Bounds on what is read into memory. */
#define DEB_CONTROL_MAX (16u << 20)
#define DEB_PATH_MAX 4096

static void archive_freep(struct archive **a)
{
  if (*a != NULL)
    archive_read_free(*a);
}
#define cleanup_archive __attribute__((cleanup(archive_freep)))

const char *const deb_script_names[DEB_N_SCRIPTS] = {
    "preinst", "postinst", "prerm", "postrm", "config", "templates", "triggers", "conffiles",
};

void deb_control_clear(struct deb_control *c)
{
  for (size_t i = 0; i < DEB_N_SCRIPTS; i++)
    free(c->scripts[i]);
  free(c->control);
  free(c->md5sums);
  memset(c, 0, sizeof *c);
}

/* The ar member being read, as the input of the tar inside it. */
struct member {
  struct archive *ar;
  char buf[65536];
};

static la_ssize_t member_read(struct archive *a, void *data, const void **buf)
{
  struct member *m = data;

  (void) a;
  *buf = m->buf;
  return archive_read_data(m->ar, m->buf, sizeof m->buf);
}

static int open_ar(const char *path, const char *what, struct archive **out, appc_error_t *err)
{
  struct archive *a;

  if (appc_lazy_bind(APPC_LAZY_ARCHIVE, err) < 0)
    return -1;
  if ((a = archive_read_new()) == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  archive_read_support_format_ar(a);
  if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
    appc_error_make(err, 0, "%s: not a Debian package (not an ar archive: %s)", what,
                    archive_error_string(a));
    archive_read_free(a);
    return -1;
  }
  *out = a;
  return 0;
}

/* A tar reading the current member of AR. */
static int open_member(struct member *m, const char *what, const char *member, struct archive **out,
                       appc_error_t *err)
{
  struct archive *t = archive_read_new();

  if (t == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  archive_read_support_format_tar(t);
  archive_read_support_format_gnutar(t);
  if (appc_archive_support_compression(t) != ARCHIVE_OK ||
      archive_read_open(t, m, NULL, member_read, NULL) != ARCHIVE_OK) {
    appc_error_make(err, 0, "%s: %s: %s", what, member, archive_error_string(t));
    archive_read_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

static bool member_is(const char *name, const char *prefix)
{
  size_t n = strlen(prefix);

  return strncmp(name, prefix, n) == 0 &&
         (name[n] == '\0' || name[n] == '.' || (name[n] == '/' && name[n + 1] == '\0'));
}

/* An archive path made relative to the rootfs: "./usr/bin/x" -> "usr/bin/x",
 * "./" -> "".  -1 for an absolute path, one with a ".." component, or a
 * newline (which would break the lines of info/PKG.list). */
static int clean_path(const char *in, char *out, size_t size)
{
  size_t n = 0;

  if (in == NULL || in[0] == '/' || strchr(in, '\n') != NULL)
    return -1;
  while (*in != '\0') {
    size_t len = strcspn(in, "/");
    if (len == 2 && in[0] == '.' && in[1] == '.')
      return -1;
    if (len > 0 && !(len == 1 && in[0] == '.')) {
      if (n + len + 2 > size)
        return -1;
      if (n > 0)
        out[n++] = '/';
      memcpy(out + n, in, len);
      n += len;
    }
    in += len;
    in += *in == '/';
  }
  out[n] = '\0';
  return 0;
}

/* An entry of data.tar, checked before anything is unpacked.  FILES holds
 * the regular files (and hard links) of the entries before it: a hard link
 * must lead to one of them, or the unpacking would fail halfway, leaving
 * the entries before it in the rootfs.  LINKS holds its symlinks: an entry
 * below one would be written through it (the unpacking refuses that, but
 * halfway too). */
static int check_entry(struct archive_entry *e, struct appc_strset *files,
                       struct appc_strset *links, const char *what, appc_error_t *err)
{
  const char *name = archive_entry_pathname(e);
  const char *link = archive_entry_hardlink(e);
  char path[DEB_PATH_MAX], target[DEB_PATH_MAX];
  mode_t type = archive_entry_filetype(e);

  if (clean_path(name, path, sizeof path) < 0)
    return appc_error_make(err, 0,
                           "%s: data.tar: \"%s\" is an absolute path or has a \"..\" component "
                           "or a newline: every path must stay in the rootfs, one per line",
                           what, name != NULL ? name : "");
  if (link != NULL && clean_path(link, target, sizeof target) < 0)
    return appc_error_make(err, 0,
                           "%s: data.tar: the hard link %s leads to \"%s\", outside the rootfs",
                           what, name, link);
  if (link != NULL && !appc_strset_contains(files, target))
    return appc_error_make(err, 0,
                           "%s: data.tar: the hard link %s leads to \"%s\", which is not a file "
                           "of an entry before it",
                           what, name, link);
  if (link == NULL && type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
    return appc_error_make(
        err, 0, "%s: data.tar: %s is not a file, directory, symlink or hard link", what, name);
  size_t below = appc_strset_find_ancestor(links, path);
  if (below > 0)
    return appc_error_make(err, 0,
                           "%s: data.tar: %s is below the symlink %.*s of the same package: "
                           "unpacking it would write through the link",
                           what, name, (int) below, path);
  if ((link != NULL || type == AE_IFREG) && appc_strset_add(files, path) < 0)
    return appc_error_make(err, ENOMEM, "%s", what);
  if (link == NULL && type == AE_IFLNK && appc_strset_add(links, path) < 0)
    return appc_error_make(err, ENOMEM, "%s", what);
  return 0;
}

/* A control file, at most DEB_CONTROL_MAX bytes and what *LEFT (when not
 * NULL) allows, which it then takes. */
static int read_text(struct archive *t, const char *what, const char *name, size_t *left,
                     char **out, appc_error_t *err)
{
  size_t cap = 4096, len = 0, max = DEB_CONTROL_MAX;
  cleanup_free char *buf = malloc(cap);
  la_ssize_t n;

  if (left != NULL && *left < max)
    max = *left;
  if (buf == NULL)
    return appc_error_make(err, ENOMEM, "%s", what);
  while ((n = archive_read_data(t, buf + len, cap - len - 1)) > 0) {
    len += (size_t) n;
    if (len > max)
      return appc_error_tag(err, EFBIG,
                            "%s: control.tar: %s: larger than the %zu bytes left for the "
                            "control files of the packages (at most %u each)",
                            what, name, max, DEB_CONTROL_MAX);
    if (len + 1 == cap) {
      char *bigger = realloc(buf, cap * 2);
      if (bigger == NULL)
        return appc_error_make(err, ENOMEM, "%s", what);
      buf = bigger;
      cap *= 2;
    }
  }
  if (n < 0)
    return appc_error_make(err, 0, "%s: %s", what, archive_error_string(t));
  buf[len] = '\0';
  if (left != NULL)
    *left -= len;
  *out = steal_pointer(&buf);
  return 0;
}

static int read_control_tar(struct member *m, const char *what, const struct deb_check_opts *o,
                            struct deb_control *out, appc_error_t *err)
{
  cleanup_archive struct archive *t = NULL;
  struct archive_entry *e;
  int r;

  if (open_member(m, what, "control.tar", &t, err) < 0)
    return -1;
  while ((r = archive_read_next_header(t, &e)) == ARCHIVE_OK) {
    char path[DEB_PATH_MAX];
    if (clean_path(archive_entry_pathname(e), path, sizeof path) < 0)
      continue;
    if (strcmp(path, "control") == 0 && out->control == NULL) {
      if (read_text(t, what, path, o->control_left, &out->control, err) < 0)
        return -1;
    } else if (strcmp(path, "md5sums") == 0 && out->md5sums == NULL) {
      if (read_text(t, what, path, o->control_left, &out->md5sums, err) < 0)
        return -1;
    } else {
      for (size_t i = 0; o->scripts && i < DEB_N_SCRIPTS; i++)
        if (strcmp(path, deb_script_names[i]) == 0 && out->scripts[i] == NULL &&
            read_text(t, what, path, o->control_left, &out->scripts[i], err) < 0)
          return -1;
    }
  }
  if (r != ARCHIVE_EOF)
    return appc_error_make(err, 0, "%s: control.tar: %s", what, archive_error_string(t));
  if (out->control == NULL)
    return appc_error_make(err, 0, "%s: control.tar holds no control file", what);
  return 0;
}

/* An entry's data must be what its header says (appc_tar_data_walk): a
 * sparse header claiming a terabyte of data it does not hold is refused
 * here, before anything is unpacked. */
static int check_data(struct archive *t, struct archive_entry *e, const char *what,
                      appc_error_t *err)
{
  static const struct appc_tar_data_ops check_only = {0};

  if (appc_tar_data_walk(t, e, NULL, &check_only, err) < 0)
    return appc_error_prefix(err, "%s: data.tar: %s", what, archive_entry_pathname(e));
  return 0;
}

#define DATA_SLACK ((uint64_t) 16 << 20)

uint64_t deb_data_max(const char *installed_size)
{
  char *end = NULL;
  unsigned long long kib;

  if (installed_size == NULL || !isdigit((unsigned char) installed_size[0]))
    return 0;
  errno = 0;
  kib = strtoull(installed_size, &end, 10);
  if (errno != 0 || *end != '\0' || kib > (UINT64_MAX - DATA_SLACK) / 2048)
    return 0;
  return kib * 2048 + DATA_SLACK;
}

/* deb_data_max of the Installed-Size of CONTROL, a control file's text
 * (0: none). */
static uint64_t control_data_max(const char *control)
{
  cleanup_free char *copy = control != NULL ? strdup(control) : NULL;
  struct deb_stanzas st = {0};
  appc_error_t ignored = NULL;
  uint64_t max = 0;

  /* (parsed in place: a copy; a control file that does not parse is
   * refused later, when it is parsed for good) */
  if (copy != NULL && deb_parse_control(copy, "control", &st, &ignored) == 0 && st.n > 0)
    max = deb_data_max(deb_field(&st.v[0], "Installed-Size"));
  appc_error_release(&ignored);
  deb_stanzas_clear(&st);
  return max;
}

/* What data.tar's files hold, added up as their headers come: past MAX
 * the package is refused before any more of it is read. */
static int check_size(uint64_t max, struct archive_entry *e, uint64_t *total, const char *what,
                      appc_error_t *err)
{
  la_int64_t size = archive_entry_size(e);

  if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != NULL || size <= 0)
    return 0;
  *total += (uint64_t) size;
  if (max != 0 && *total > max)
    return appc_error_tag(err, EFBIG,
                          "%s: data.tar: its files hold more than %llu bytes, twice and 16 MiB "
                          "more than the Installed-Size the package gives",
                          what, (unsigned long long) max);
  return 0;
}

static int check_data_tar(struct member *m, const char *what, const struct deb_check_opts *o,
                          uint64_t max, appc_error_t *err)
{
  cleanup_archive struct archive *t = NULL;
  struct appc_strset files = {0}, links = {0};
  struct archive_entry *e;
  uint64_t total = 0;
  bool failed = false;
  int r;

  if (open_member(m, what, "data.tar", &t, err) < 0)
    return -1;
  while (!failed && (r = archive_read_next_header(t, &e)) == ARCHIVE_OK) {
    if (appc_cb_cancelled(o->cb))
      failed = appc_error_make(err, ECANCELED, "%s: data.tar", what) < 0;
    else
      failed = check_entry(e, &files, &links, what, err) < 0 ||
               check_size(max, e, &total, what, err) < 0 || check_data(t, e, what, err) < 0;
  }
  appc_strset_clear(&files);
  appc_strset_clear(&links);
  if (failed)
    return -1;
  if (r != ARCHIVE_EOF)
    return appc_error_make(err, 0, "%s: data.tar: %s", what, archive_error_string(t));
  return 0;
}

static int check_debian_binary(struct archive *ar, const char *what, appc_error_t *err)
{
  char buf[16] = {0};
  la_ssize_t n = archive_read_data(ar, buf, sizeof buf - 1);

  if (n < 3 || strncmp(buf, "2.", 2) != 0)
    return appc_error_make(err, 0, "%s: debian-binary is not \"2.x\": not a .deb of format 2",
                           what);
  return 0;
}

int deb_check(const char *path, const char *what, const struct deb_check_opts *o,
              struct deb_control *out, appc_error_t *err)
{
  cleanup_archive struct archive *ar = NULL;
  struct member m = {0};
  struct archive_entry *e;
  unsigned seen = 0; /* 1 debian-binary, 2 control.tar, 4 data.tar */
  int r;

  memset(out, 0, sizeof *out);
  if (open_ar(path, what, &ar, err) < 0)
    return -1;
  m.ar = ar;
  while ((r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    if (name == NULL)
      continue;
    if (seen == 0 && !member_is(name, "debian-binary")) {
      r = ARCHIVE_FATAL;
      break;
    }
    if (member_is(name, "debian-binary") && !(seen & 1)) {
      if (check_debian_binary(ar, what, err) < 0)
        goto fail;
      seen |= 1;
    } else if (member_is(name, "control.tar") && !(seen & 2)) {
      if (read_control_tar(&m, what, o, out, err) < 0)
        goto fail;
      seen |= 2;
    } else if (member_is(name, "data.tar") && !(seen & 4)) {
      /* in dpkg's order: the control files first, which bound the data */
      if (!(seen & 2)) {
        appc_error_make(err, 0, "%s: data.tar before control.tar (dpkg refuses that order)", what);
        goto fail;
      }
      uint64_t max = o->data_max != 0 ? o->data_max : control_data_max(out->control);
      if (check_data_tar(&m, what, o, max, err) < 0)
        goto fail;
      seen |= 4;
    }
  }
  if (r != ARCHIVE_EOF || seen != 7) {
    appc_error_make(err, 0,
                    "%s: not a Debian package (an ar archive of debian-binary, control.tar and "
                    "data.tar)%s%s",
                    what, r != ARCHIVE_EOF ? ": " : "",
                    r != ARCHIVE_EOF && archive_error_string(ar) ? archive_error_string(ar) : "");
    goto fail;
  }
  return 0;
fail:
  deb_control_clear(out);
  return -1;
}

/* ---- unpacking ---- */

struct unpack {
  int root_fd;
  const char *what;
  struct archive *t;
  char *list;
  size_t list_len, list_cap;
  appc_error_t *err;
};

static int list_add(struct unpack *u, const char *path)
{
  size_t n = strlen(path) + 2;

  if (u->list_len + n + 1 > u->list_cap) {
    size_t cap = u->list_cap * 2 + n + 4096;
    char *bigger = realloc(u->list, cap);
    if (bigger == NULL)
      return appc_error_make(u->err, ENOMEM, "%s", u->what);
    u->list = bigger;
    u->list_cap = cap;
  }
  u->list_len += (size_t) sprintf(u->list + u->list_len, "/%s\n", path);
  return 0;
}

/* Make room for NAME in DIR: what is there goes, unless it is (or, a
 * symlink, leads to) a directory and a directory is wanted. */
static int clear_name(struct unpack *u, int dir, const char *name, const char *path, bool for_dir)
{
  struct stat st;

  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : appc_error_make(u->err, errno, "%s: %s", u->what, path);
  if (for_dir) {
    int fd = appc_open_in_root(u->root_fd, path, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
      close(fd);
      return 1; /* there already */
    }
  }
  if (S_ISDIR(st.st_mode))
    return appc_error_make(u->err, EISDIR, "%s: /%s: a directory is in the way", u->what, path);
  if (unlinkat(dir, name, 0) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return 0;
}

/* Owner, mode and time of the file or directory FD, as the archive gives
 * them (owners only when the process may set them).  Through the
 * descriptor: a path would follow a symlink the way the host sees it. */
static int set_metadata(struct unpack *u, struct archive_entry *e, int fd, const char *path)
{
  struct timespec ts[2] = {
      {.tv_nsec = UTIME_OMIT},
      {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)}};

  if (fchown(fd, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0 && errno != EPERM)
    return appc_error_make(u->err, errno, "%s: /%s: chown", u->what, path);
  if (fchmod(fd, archive_entry_perm(e)) < 0 || futimens(fd, ts) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return 0;
}

static int write_file(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                      const char *path)
{
  cleanup_close int fd =
      openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const void *buf;
  size_t size;
  la_int64_t offset;
  int r;

  if (fd < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  while ((r = archive_read_data_block(u->t, &buf, &size, &offset)) == ARCHIVE_OK)
    if (pwrite(fd, buf, size, offset) != (ssize_t) size)
      return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (r != ARCHIVE_EOF)
    return appc_error_make(u->err, 0, "%s: data.tar: %s", u->what, archive_error_string(u->t));
  if (ftruncate(fd, (off_t) archive_entry_size(e)) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return set_metadata(u, e, fd, path);
}

static int set_link_metadata(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                             const char *path)
{
  struct timespec ts[2] = {
      {.tv_nsec = UTIME_OMIT},
      {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)}};

  if (fchownat(dir, name, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e),
               AT_SYMLINK_NOFOLLOW) < 0 &&
      errno != EPERM)
    return appc_error_make(u->err, errno, "%s: /%s: chown", u->what, path);
  if (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return 0;
}

/* A directory entry: made when missing; one already there keeps what it
 * is, and a symlink standing for it (a merged /usr's /lib) is left alone. */
static int make_dir(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                    const char *path, bool there)
{
  if (!there && mkdirat(dir, name, 0700) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  cleanup_close int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && there && (errno == ELOOP || errno == ENOTDIR))
    return 0;
  if (fd < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return set_metadata(u, e, fd, path);
}

static int hard_link(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                     const char *path)
{
  char target[DEB_PATH_MAX];

  if (clean_path(archive_entry_hardlink(e), target, sizeof target) < 0)
    return appc_error_make(u->err, 0, "%s: the hard link /%s leads out of the rootfs", u->what,
                           path);
  char *slash = strrchr(target, '/');
  const char *base = slash != NULL ? slash + 1 : target;
  if (slash != NULL)
    *slash = '\0';
  cleanup_close int tdir =
      appc_open_in_root(u->root_fd, slash != NULL ? target : "", O_PATH | O_DIRECTORY);
  if (tdir < 0 || linkat(tdir, base, dir, name, 0) < 0)
    return appc_error_make(u->err, errno, "%s: /%s: a hard link to /%s%s%s", u->what, path,
                           slash != NULL ? target : "", slash != NULL ? "/" : "", base);
  return 0;
}

static int unpack_entry(struct unpack *u, struct archive_entry *e)
{
  char path[DEB_PATH_MAX];
  mode_t type = archive_entry_filetype(e);
  const char *link = archive_entry_hardlink(e);

  if (clean_path(archive_entry_pathname(e), path, sizeof path) < 0)
    return appc_error_make(u->err, 0, "%s: data.tar: \"%s\" leads out of the rootfs", u->what,
                           archive_entry_pathname(e));
  if (path[0] == '\0')
    return 0; /* the root itself */
  char *slash = strrchr(path, '/');
  const char *name = slash != NULL ? slash + 1 : path;
  if (slash != NULL)
    *slash = '\0';
  cleanup_close int dir = appc_mkdirs_in_root(u->root_fd, slash != NULL ? path : "", 0755);
  if (dir < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (slash != NULL)
    *slash = '/';
  int r = clear_name(u, dir, name, path, link == NULL && type == AE_IFDIR);
  if (r < 0)
    return -1;
  if (link != NULL)
    r = hard_link(u, e, dir, name, path);
  else if (type == AE_IFDIR)
    r = make_dir(u, e, dir, name, path, r == 1);
  else if (type == AE_IFLNK)
    r = symlinkat(archive_entry_symlink(e), dir, name) < 0
            ? appc_error_make(u->err, errno, "%s: /%s", u->what, path)
            : set_link_metadata(u, e, dir, name, path);
  else if (type == AE_IFREG)
    r = write_file(u, e, dir, name, path);
  else
    r = appc_error_make(u->err, 0, "%s: /%s: not a file, directory, symlink or hard link", u->what,
                        path);
  return r < 0 ? -1 : list_add(u, path);
}

static int unpack_data_tar(struct unpack *u, struct member *m)
{
  cleanup_archive struct archive *t = NULL;
  struct archive_entry *e;
  int r;

  if (open_member(m, u->what, "data.tar", &t, u->err) < 0)
    return -1;
  u->t = t;
  while ((r = archive_read_next_header(t, &e)) == ARCHIVE_OK)
    if (unpack_entry(u, e) < 0)
      return -1;
  if (r != ARCHIVE_EOF)
    return appc_error_make(u->err, 0, "%s: data.tar: %s", u->what, archive_error_string(t));
  return 0;
}

int deb_unpack(const char *path, const char *what, int root_fd, char **list, appc_error_t *err)
{
  cleanup_archive struct archive *ar = NULL;
  struct unpack u = {.root_fd = root_fd, .what = what, .err = err};
  struct member m = {0};
  struct archive_entry *e;
  int r;

  if (open_ar(path, what, &ar, err) < 0)
    return -1;
  m.ar = ar;
  if (list_add(&u, ".") < 0)
    return -1;
  while ((r = archive_read_next_header(ar, &e)) == ARCHIVE_OK) {
    const char *name = archive_entry_pathname(e);
    if (name == NULL || !member_is(name, "data.tar"))
      continue;
    if (unpack_data_tar(&u, &m) < 0) {
      free(u.list);
      return -1;
    }
    *list = u.list;
    return 0;
  }
  free(u.list);
  return appc_error_make(err, 0, "%s: no data.tar member", what);
}
