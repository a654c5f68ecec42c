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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>

#include "aci/stream.h"
#include "common/archive-error.h"
#include "common/array.h"
#include "common/callbacks.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/hashmap.h"
#include "common/lazy.h"
#include "common/macros.h"
#include "deb/internal.h"

/* The names an unpacking gives what it stages (a file before its commit)
 * and what it sets aside (a file where a directory goes), as dpkg names
 * them; a package's own path may end in neither. */
#define STAGED_SUFFIX ".dpkg-new"
#define ASIDE_SUFFIX ".dpkg-tmp"

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
  la_ssize_t n = archive_read_data(m->ar, m->buf, sizeof m->buf);

  /* the tar says why it stopped, where the ar knows (a truncated
   * member): libarchive leaves a failed callback's archive without a
   * message */
  if (n < 0)
    archive_set_error(a, archive_errno(m->ar), "%s", appc_archive_message(m->ar));
  *buf = m->buf;
  return n;
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
                    appc_archive_message(a));
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
    appc_error_make(err, 0, "%s: %s: %s", what, member, appc_archive_message(t));
    archive_read_free(t);
    return -1;
  }
  *out = t;
  return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), k = strlen(suffix);

  return n >= k && strcmp(s + n - k, suffix) == 0;
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

/* The dpkg database, which the install writes once the packages are in
 * (status, info/PKG.list, ...).  A package may have its directories, as
 * dpkg's own has, but not as anything else: a file or symlink there would
 * make the records fail, or go elsewhere, after the rootfs has changed.
 * Nor may it have what is in them: a status, another package's list or
 * maintainer script, an update dpkg would read as its own. */
static int check_dpkg_db(const char *path, bool dir, const char *name, const char *what,
                         appc_error_t *err)
{
  static const char *const dirs[] = {"var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/info",
                                     "var/lib/dpkg/updates"};
  static const char *const held[] = {"var/lib/dpkg/status", "var/lib/dpkg/info/",
                                     "var/lib/dpkg/updates/"};

  for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
    if (!dir && strcmp(path, dirs[i]) == 0)
      return appc_error_make(err, 0,
                             "%s: data.tar: %s is not a directory: /%s must stay one, for the "
                             "dpkg database written once the packages are in",
                             what, name, path);
  for (size_t i = 0; i < ARRAY_SIZE(held); i++)
    if (strncmp(path, held[i], strlen(held[i])) == 0 &&
        (ends_with(held[i], "/") || path[strlen(held[i])] == '\0'))
      return appc_error_make(err, 0,
                             "%s: data.tar: %s is in the dpkg database, which only dpkg and the "
                             "records of the install write",
                             what, name);
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
  if (ends_with(path, STAGED_SUFFIX) || ends_with(path, ASIDE_SUFFIX))
    return appc_error_make(err, 0,
                           "%s: data.tar: %s ends in " STAGED_SUFFIX " or " ASIDE_SUFFIX
                           ", the names the unpacking (as dpkg's) gives its temporary files",
                           what, name);
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
  if (check_dpkg_db(path, link == NULL && type == AE_IFDIR, name, what, err) < 0)
    return -1;
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
    return appc_error_make(err, 0, "%s: %s", what, appc_archive_message(t));
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
    return appc_error_make(err, 0, "%s: control.tar: %s", what, appc_archive_message(t));
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

  /* none is 0, not "no bound": a package would otherwise escape it by
   * leaving the field out */
  if (installed_size == NULL || !isdigit((unsigned char) installed_size[0]))
    return DATA_SLACK;
  errno = 0;
  kib = strtoull(installed_size, &end, 10);
  if (errno != 0 || *end != '\0' || kib > (UINT64_MAX - DATA_SLACK) / 2048)
    return DATA_SLACK;
  return kib * 2048 + DATA_SLACK;
}

/* deb_data_max of the Installed-Size of CONTROL, a control file's text. */
static uint64_t control_data_max(const char *control)
{
  cleanup_free char *copy = control != NULL ? strdup(control) : NULL;
  struct deb_stanzas st = {0};
  appc_error_t ignored = NULL;
  uint64_t max = DATA_SLACK;

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
  if (*total > max)
    return appc_error_tag(err, EFBIG,
                          "%s: data.tar: its files hold more than %llu bytes, twice and 16 MiB "
                          "more than the Installed-Size the package gives (none: 0)",
                          what, (unsigned long long) max);
  return 0;
}

/* data.tar's entries, counted as their headers come: each takes at least
 * 1 KiB of MAX, as dpkg-gencontrol counts a directory, a symlink or any
 * other entry in Installed-Size as 1 KiB (a file as its size rounded up).
 * An empty file holds no bytes for check_size to count, and a .deb of a
 * megabyte holds a million of them. */
static int check_count(uint64_t max, uint64_t *count, const char *what, appc_error_t *err)
{
  if (++*count <= max / 1024)
    return 0;
  return appc_error_tag(err, EFBIG,
                        "%s: data.tar: more than %llu entries, one per KiB of twice and 16 MiB "
                        "more than the Installed-Size the package gives (none: 0)",
                        what, (unsigned long long) (max / 1024));
}

static int check_data_tar(struct member *m, const char *what, const struct deb_check_opts *o,
                          uint64_t max, appc_error_t *err)
{
  cleanup_archive struct archive *t = NULL;
  struct appc_strset files = {0}, links = {0};
  struct archive_entry *e;
  uint64_t total = 0, count = 0;
  bool failed = false;
  int r;

  if (open_member(m, what, "data.tar", &t, err) < 0)
    return -1;
  while (!failed && (r = archive_read_next_header(t, &e)) == ARCHIVE_OK) {
    if (appc_cb_cancelled(o->cb))
      failed = appc_error_make(err, ECANCELED, "%s: data.tar", what) < 0;
    else
      failed = check_count(max, &count, what, err) < 0 ||
               check_entry(e, &files, &links, what, err) < 0 ||
               check_size(max, e, &total, what, err) < 0 || check_data(t, e, what, err) < 0;
  }
  appc_strset_clear(&files);
  appc_strset_clear(&links);
  if (failed)
    return -1;
  if (r != ARCHIVE_EOF)
    return appc_error_make(err, 0, "%s: data.tar: %s", what, appc_archive_message(t));
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
                    r != ARCHIVE_EOF ? appc_archive_message(ar) : "");
    goto fail;
  }
  return 0;
fail:
  deb_control_clear(out);
  return -1;
}

/* ---- unpacking, staged ----
 *
 * What the checks cannot foresee (a full disk, an I/O error, a file of a
 * package where the rootfs has a non-empty directory) can still stop the
 * unpacking halfway.  So it is staged as dpkg stages it: every file,
 * symlink and hard link of every package of an install goes to PATH.dpkg-new
 * beside its final name, and only when all of them are in does
 * deb_stage_commit rename each over its final name.  Directories are made
 * at once (a .dpkg-new directory could not be renamed over the files that
 * go into it), and noted, to be removed again if the install fails; a
 * file or symlink of the rootfs where a directory goes is renamed aside to
 * PATH.dpkg-tmp (dpkg's name for what it backs up), to be put back if the
 * install fails and removed after the commit.  Until the commit no file of
 * the rootfs is replaced: abandoning the stage removes what it made, puts
 * back what it set aside, and leaves the rootfs as it was. */

struct unpack {
  struct deb_stage *stage;
  int root_fd;
  const char *what;
  struct archive *t;
  char *list;
  size_t list_len, list_cap;
  appc_error_t *err;
};

void deb_stage_init(struct deb_stage *s, int root_fd)
{
  memset(s, 0, sizeof *s);
  s->root_fd = root_fd;
}

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

/* NAME with SUFFIX, which must still be a name (at most NAME_MAX bytes). */
static int suffixed_name(const char *name, const char *suffix, char out[static NAME_MAX + 1])
{
  int n = snprintf(out, NAME_MAX + 1, "%s%s", name, suffix);

  if (n < 0 || n > NAME_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return 0;
}

/* NAME.dpkg-new. */
static int staged_name(const char *name, char out[static NAME_MAX + 1])
{
  return suffixed_name(name, STAGED_SUFFIX, out);
}

/* The directory of PATH (relative to the root) opened in the root, kept
 * for the next path in the same directory: the commit and the rollback go
 * through the staged files in the order they were unpacked, mostly a
 * directory at a time. */
struct parent_dir {
  int fd;
  char path[DEB_PATH_MAX];
};

static int parent_dir_open(struct parent_dir *p, int root_fd, const char *path, const char **base)
{
  const char *slash = strrchr(path, '/');
  size_t len = slash != NULL ? (size_t) (slash - path) : 0;

  *base = slash != NULL ? slash + 1 : path;
  if (p->fd >= 0 && strlen(p->path) == len && strncmp(p->path, path, len) == 0)
    return p->fd;
  if (p->fd >= 0)
    close(p->fd);
  snprintf(p->path, sizeof p->path, "%.*s", (int) len, path);
  p->fd = appc_open_in_root(root_fd, p->path, O_PATH | O_DIRECTORY);
  return p->fd;
}

static void parent_dir_close(struct parent_dir *p)
{
  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
}

/* Remove the .dpkg-new names of the staged files from FIRST on. */
static void unstage_files(struct deb_stage *s, size_t first)
{
  struct parent_dir p = {.fd = -1};
  char staged[NAME_MAX + 1];
  const char *base;

  for (size_t i = s->n_files; i-- > first;)
    if (parent_dir_open(&p, s->root_fd, s->files[i].path, &base) >= 0 &&
        staged_name(base, staged) == 0)
      (void) unlinkat(p.fd, staged, 0);
  parent_dir_close(&p);
}

/* Remove the directories this install made, deepest (latest) first, each
 * only if it is empty: what is in one is not this install's. */
static void unmake_dirs(struct deb_stage *s)
{
  struct parent_dir p = {.fd = -1};
  const char *base;

  for (size_t i = s->n_dirs; i-- > 0;)
    if (parent_dir_open(&p, s->root_fd, s->dirs[i], &base) >= 0)
      (void) unlinkat(p.fd, base, AT_REMOVEDIR);
  parent_dir_close(&p);
}

/* Put back what was set aside for a directory (now removed, if it is
 * empty), or when COMMITTED remove it: the directory is in. */
static void restore_aside(struct deb_stage *s, bool committed)
{
  struct parent_dir p = {.fd = -1};
  char aside[NAME_MAX + 1];
  const char *base;

  for (size_t i = s->n_aside; i-- > 0;) {
    if (parent_dir_open(&p, s->root_fd, s->aside[i], &base) < 0 ||
        suffixed_name(base, ASIDE_SUFFIX, aside) < 0)
      continue;
    if (committed)
      (void) unlinkat(p.fd, aside, 0);
    else
      (void) renameat(p.fd, aside, p.fd, base);
  }
  parent_dir_close(&p);
}

/* Remove the merged /usr's symlinks (after the directories: see
 * deb_stage_clear). */
static void unmake_links(struct deb_stage *s)
{
  for (size_t i = s->n_links; i-- > 0;)
    (void) unlinkat(s->root_fd, s->links[i], 0);
}

void deb_stage_clear(struct deb_stage *s)
{
  if (!s->committed) {
    unstage_files(s, 0);
    /* the directories first: one made through a link (lib/systemd under
     * lib -> usr/lib) is found through it */
    unmake_dirs(s);
    unmake_links(s);
    restore_aside(s, false);
  }
  for (size_t i = 0; i < s->n_links; i++)
    free(s->links[i]);
  free(s->links);
  for (size_t i = 0; i < s->n_aside; i++)
    free(s->aside[i]);
  free(s->aside);
  for (size_t i = 0; i < s->n_files; i++)
    free(s->files[i].path);
  for (size_t i = 0; i < s->n_dirs; i++)
    free(s->dirs[i]);
  free(s->files);
  free(s->dirs);
  appc_strset_clear(&s->staged);
  appc_strset_clear(&s->made);
  memset(s, 0, sizeof *s);
}

/* A rename of the commit: an empty directory in the way (seen when the
 * file was staged) goes first, as rename(2) does not replace a directory
 * with a file. */
static int commit_file(struct deb_stage *s, struct parent_dir *p, const struct deb_staged *f)
{
  char staged[NAME_MAX + 1];
  const char *base;

  if (parent_dir_open(p, s->root_fd, f->path, &base) < 0 || staged_name(base, staged) < 0)
    return -1;
  if (f->over_empty_dir && unlinkat(p->fd, base, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return -1;
  return renameat(p->fd, staged, p->fd, base);
}

/* Before the first rename: an empty directory that a file replaces must
 * still be empty.  A later entry may have gone into it through a symbolic
 * link of the rootfs (opt/alias -> e, then opt/alias/f), which the
 * staging's checks, comparing paths, do not see; the commit would then fail
 * halfway.  Nothing renamed yet, the caller undoes the staging. */
static int check_commit(struct deb_stage *s, appc_error_t *err)
{
  struct parent_dir p = {.fd = -1};
  const char *base;
  struct stat st;
  int r = 0;

  for (size_t i = 0; r == 0 && i < s->n_files; i++) {
    const struct deb_staged *f = &s->files[i];
    if (!f->over_empty_dir)
      continue;
    if (parent_dir_open(&p, s->root_fd, f->path, &base) < 0)
      r = appc_error_make(err, errno, "rootfs: /%s", f->path);
    else if (fstatat(p.fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
             !appc_dir_is_empty(p.fd, base))
      r = appc_error_make(err, 0,
                          "rootfs: /%s: a file of the packages replaces the empty directory "
                          "there, into which this install has since put files (through a "
                          "symbolic link): nothing was renamed, the rootfs is as it was",
                          f->path);
  }
  parent_dir_close(&p);
  return r;
}

int deb_stage_commit(struct deb_stage *s, appc_error_t *err)
{
  struct parent_dir p = {.fd = -1};

  if (check_commit(s, err) < 0)
    return -1;
  for (size_t i = 0; i < s->n_files; i++) {
    if (commit_file(s, &p, &s->files[i]) == 0)
      continue;
    int saved = errno;
    parent_dir_close(&p);
    /* past the point of no return: the renamed files stay, the rest go */
    unstage_files(s, i);
    restore_aside(s, true); /* the directories stay */
    s->committed = true;
    return appc_error_make(err, saved,
                           "rootfs: renaming /%s" STAGED_SUFFIX " to /%s, after %zu of the %zu "
                           "unpacked files were renamed into place: the rootfs now holds the new "
                           "versions of those and the old ones of the rest (their .dpkg-new "
                           "copies removed), and the packages are not recorded",
                           s->files[i].path, s->files[i].path, i, s->n_files);
  }
  parent_dir_close(&p);
  s->committed = true;
  /* what a directory replaced: left behind only as a .dpkg-tmp if this
   * fails, which is no reason to leave the packages unrecorded */
  restore_aside(s, true);
  return 0;
}

/* Add a copy of PATH to the list *V of *N paths (room for *CAP). */
static int path_list_add(char ***v, size_t *n, size_t *cap, const char *path)
{
  char *copy;

  if (APPC_ARRAY_RESERVE(*v, *cap, *n + 1) < 0 || (copy = strdup(path)) == NULL)
    return -1;
  (*v)[(*n)++] = copy;
  return 0;
}

static int note_dir(const char *path, void *data)
{
  struct deb_stage *s = data;

  if (appc_strset_add(&s->made, path) < 0)
    return -1;
  return path_list_add(&s->dirs, &s->n_dirs, &s->dirs_cap, path);
}

int deb_stage_merge_usr(struct deb_stage *s, const char *const *names, size_t n, appc_error_t *err)
{
  char target[NAME_MAX + 5];

  for (size_t i = 0; i < n; i++) {
    snprintf(target, sizeof target, "usr/%s", names[i]);
    if (appc_mkdirs_in_root_noting(s->root_fd, target, 0755, note_dir, s) < 0)
      return appc_error_make(err, errno, "rootfs: /%s", target);
    cleanup_free char *copy = strdup(names[i]);
    if (copy == NULL || APPC_ARRAY_RESERVE(s->links, s->links_cap, s->n_links + 1) < 0)
      return appc_error_make(err, ENOMEM, "rootfs: /%s", names[i]);
    if (symlinkat(target, s->root_fd, names[i]) < 0)
      return appc_error_make(err, errno, "rootfs: /%s -> %s", names[i], target);
    s->links[s->n_links++] = steal_pointer(&copy);
  }
  return 0;
}

/* Note PATH as staged before its .dpkg-new is made: a failure while it is
 * written still finds it to remove. */
static int note_file(struct unpack *u, const char *path, bool over_empty_dir)
{
  struct deb_stage *s = u->stage;
  char *copy = NULL;

  if (APPC_ARRAY_RESERVE(s->files, s->files_cap, s->n_files + 1) < 0 ||
      (copy = strdup(path)) == NULL || appc_strset_add(&s->staged, path) < 0) {
    free(copy);
    return appc_error_make(u->err, ENOMEM, "%s", u->what);
  }
  s->files[s->n_files++] = (struct deb_staged){.path = copy, .over_empty_dir = over_empty_dir};
  return 0;
}

/* What the final name of a file holds, which the commit will replace: a
 * file or symlink, or nothing; an empty directory, *OVER_EMPTY_DIR, goes at
 * the commit.  A non-empty directory is refused, as dpkg refuses it: what
 * is in it would be lost. */
static int check_final_name(struct unpack *u, int dir, const char *name, const char *path,
                            bool *over_empty_dir)
{
  struct stat st;

  *over_empty_dir = false;
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (!S_ISDIR(st.st_mode))
    return 0;
  if (!appc_dir_is_empty(dir, name))
    return appc_error_tag(u->err, EISDIR,
                          "%s: /%s: the rootfs has a directory that is not empty there, and the "
                          "package a file: a directory is not replaced with a file (nor by dpkg)",
                          u->what, path);
  *over_empty_dir = true;
  return 0;
}

/* Make room for the .dpkg-new of PATH: this install's own (a later entry
 * or package giving the path again: the last one wins, as it would
 * unstaged) or one an interrupted run left, which dpkg too removes. */
static int clear_staged_name(struct unpack *u, int dir, const char *staged, const char *path)
{
  struct stat st;

  if (fstatat(dir, staged, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT ? 0 : appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (S_ISDIR(st.st_mode))
    return appc_error_tag(u->err, EISDIR,
                          "%s: /%s" STAGED_SUFFIX ": a directory is in the way of the staged file",
                          u->what, path);
  if (unlinkat(dir, staged, 0) < 0)
    return appc_error_make(u->err, errno, "%s: /%s" STAGED_SUFFIX, u->what, path);
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
    if (appc_pwrite_all(fd, buf, size, offset) < 0)
      return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (r != ARCHIVE_EOF)
    return appc_error_make(u->err, 0, "%s: data.tar: %s", u->what, appc_archive_message(u->t));
  if (ftruncate(fd, (off_t) archive_entry_size(e)) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return set_metadata(u, e, fd, path);
}

static int write_symlink(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                         const char *path)
{
  struct timespec ts[2] = {
      {.tv_nsec = UTIME_OMIT},
      {.tv_sec = archive_entry_mtime(e), .tv_nsec = archive_entry_mtime_nsec(e)}};

  if (symlinkat(archive_entry_symlink(e), dir, name) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (fchownat(dir, name, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e),
               AT_SYMLINK_NOFOLLOW) < 0 &&
      errno != EPERM)
    return appc_error_make(u->err, errno, "%s: /%s: chown", u->what, path);
  if (utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return 0;
}

/* A hard link to the staged (.dpkg-new) file of an earlier entry of the
 * package (deb_check saw to that): both are renamed at the commit, and
 * stay one file. */
static int hard_link(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                     const char *path)
{
  char target[DEB_PATH_MAX], staged[NAME_MAX + 1];

  if (clean_path(archive_entry_hardlink(e), target, sizeof target) < 0)
    return appc_error_make(u->err, 0, "%s: the hard link /%s leads out of the rootfs", u->what,
                           path);
  if (!appc_strset_contains(&u->stage->staged, target))
    return appc_error_tag(u->err, ENOENT,
                          "%s: the hard link /%s leads to /%s, which is not a file unpacked "
                          "before it",
                          u->what, path, target);
  char *slash = strrchr(target, '/');
  const char *base = slash != NULL ? slash + 1 : target;
  if (slash != NULL)
    *slash = '\0';
  cleanup_close int tdir =
      appc_open_in_root(u->root_fd, slash != NULL ? target : "", O_PATH | O_DIRECTORY);
  if (tdir < 0 || staged_name(base, staged) < 0 || linkat(tdir, staged, dir, name, 0) < 0)
    return appc_error_make(u->err, errno, "%s: /%s: a hard link to /%s%s%s", u->what, path,
                           slash != NULL ? target : "", slash != NULL ? "/" : "", base);
  return 0;
}

/* A file, symlink or hard link: staged as NAME.dpkg-new. */
static int stage_file(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                      const char *path)
{
  char staged[NAME_MAX + 1];
  bool over_empty_dir;
  mode_t type = archive_entry_filetype(e);

  if (staged_name(name, staged) < 0)
    return appc_error_make(u->err, errno, "%s: /%s: too long a name for its staged name", u->what,
                           path);
  bool again = appc_strset_contains(&u->stage->staged, path);
  if (check_final_name(u, dir, name, path, &over_empty_dir) < 0 ||
      clear_staged_name(u, dir, staged, path) < 0 ||
      (!again && note_file(u, path, over_empty_dir) < 0))
    return -1;
  if (archive_entry_hardlink(e) != NULL)
    return hard_link(u, e, dir, staged, path);
  if (type == AE_IFLNK)
    return write_symlink(u, e, dir, staged, path);
  if (type == AE_IFREG)
    return write_file(u, e, dir, staged, path);
  return appc_error_make(u->err, 0, "%s: /%s: not a file, directory, symlink or hard link", u->what,
                         path);
}

/* A directory this install made (for this entry, for an entry below it,
 * or for another package): it takes the entry's owner, mode and time. */
static int set_made_dir_metadata(struct unpack *u, struct archive_entry *e, int dir,
                                 const char *name, const char *path)
{
  cleanup_close int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

  if (fd < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  return set_metadata(u, e, fd, path);
}

/* A file or symlink of the rootfs where a directory goes: renamed to
 * NAME.dpkg-tmp (never over another), noted first so that a failure puts
 * it back. */
static int set_aside(struct unpack *u, int dir, const char *name, const char *path)
{
  struct deb_stage *s = u->stage;
  char aside[NAME_MAX + 1];

  if (suffixed_name(name, ASIDE_SUFFIX, aside) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (path_list_add(&s->aside, &s->n_aside, &s->aside_cap, path) < 0)
    return appc_error_make(u->err, ENOMEM, "%s", u->what);
  if (renameat2(dir, name, dir, aside, RENAME_NOREPLACE) < 0) {
    free(s->aside[--s->n_aside]);
    return appc_error_make(u->err, errno,
                           "%s: /%s: setting aside what is there for the directory of the package "
                           "(as /%s" ASIDE_SUFFIX ")",
                           u->what, path, path);
  }
  return 0;
}

/* A directory entry: made at once when missing (and noted, to be removed
 * if the install fails).  One of the rootfs is left as it is, as dpkg
 * leaves it (its owner and mode are the rootfs's), and so is a symlink
 * standing for one (a merged /usr's /lib); a file or other symlink there
 * is set aside. */
static int stage_dir(struct unpack *u, struct archive_entry *e, int dir, const char *name,
                     const char *path)
{
  struct stat st;

  if (appc_strset_contains(&u->stage->staged, path))
    return appc_error_tag(u->err, EEXIST,
                          "%s: /%s: a directory, where a package of this install has a file or "
                          "symlink",
                          u->what, path);
  if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISDIR(st.st_mode) && appc_strset_contains(&u->stage->made, path))
      return set_made_dir_metadata(u, e, dir, name, path);
    cleanup_close int fd = appc_open_in_root(u->root_fd, path, O_PATH | O_DIRECTORY);
    if (fd >= 0)
      return 0;
    if (set_aside(u, dir, name, path) < 0)
      return -1;
  } else if (errno != ENOENT) {
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  }
  if (mkdirat(dir, name, 0700) < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (note_dir(path, u->stage) < 0) {
    (void) unlinkat(dir, name, AT_REMOVEDIR);
    return appc_error_make(u->err, ENOMEM, "%s", u->what);
  }
  return set_made_dir_metadata(u, e, dir, name, path);
}

static int unpack_entry(struct unpack *u, struct archive_entry *e)
{
  char path[DEB_PATH_MAX];
  mode_t type = archive_entry_filetype(e);

  if (clean_path(archive_entry_pathname(e), path, sizeof path) < 0)
    return appc_error_make(u->err, 0, "%s: data.tar: \"%s\" leads out of the rootfs", u->what,
                           archive_entry_pathname(e));
  if (path[0] == '\0')
    return 0; /* the root itself */
  /* below a file or symlink of this install, not in place before the
   * commit: its directory would be made where the commit must put the
   * file, or written through a symlink of the rootfs the commit replaces */
  size_t below = appc_strset_find_ancestor(&u->stage->staged, path);
  if (below > 0)
    return appc_error_tag(u->err, ENOTDIR,
                          "%s: /%s is below /%.*s, a file or symlink of this install", u->what,
                          path, (int) below, path);
  char *slash = strrchr(path, '/');
  const char *name = slash != NULL ? slash + 1 : path;
  if (slash != NULL)
    *slash = '\0';
  cleanup_close int dir =
      appc_mkdirs_in_root_noting(u->root_fd, slash != NULL ? path : "", 0755, note_dir, u->stage);
  if (dir < 0)
    return appc_error_make(u->err, errno, "%s: /%s", u->what, path);
  if (slash != NULL)
    *slash = '/';
  int r = archive_entry_hardlink(e) == NULL && type == AE_IFDIR ? stage_dir(u, e, dir, name, path)
                                                                : stage_file(u, e, dir, name, path);
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
    return appc_error_make(u->err, 0, "%s: data.tar: %s", u->what, appc_archive_message(t));
  return 0;
}

int deb_unpack(struct deb_stage *s, const char *path, const char *what, char **list,
               appc_error_t *err)
{
  cleanup_archive struct archive *ar = NULL;
  struct unpack u = {.stage = s, .root_fd = s->root_fd, .what = what, .err = err};
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
