/* SPDX-License-Identifier: Apache-2.0 */
/* Output files that appear at their final path only when complete.
 *
 * The data goes to an unnamed O_TMPFILE in the destination directory where
 * the file system supports it: a process killed half-way then leaves nothing
 * behind.  Elsewhere a hidden, uniquely named file is created with O_EXCL and
 * removed on failure.  Installing uses renameat2(RENAME_NOREPLACE) or linkat,
 * so an OUT that appears while we build is still never clobbered unless
 * overwriting was asked for. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/internal.h"
#include "common/cleanup.h"

/* Output is created 0644 and the kernel applies the caller's umask. */
#define OUT_MODE 0644

/* Tell the caller about the named temporary (NAME) or its removal (NULL). */
static void notify_temp(struct appc_outfile *of, const char *name)
{
  char *full = NULL;

  if (of->notify == NULL)
    return;
  if (name == NULL) {
    of->notify(NULL, of->notify_data);
    return;
  }
  cleanup_free char *d = strdup(of->path);
  if (d != NULL && asprintf(&full, "%s/%s", dirname(d), name) >= 0) {
    of->notify(full, of->notify_data);
    free(full);
  }
}

static int split_path(struct appc_outfile *of, const char *path, appc_error_t *err)
{
  cleanup_free char *d = strdup(path);
  cleanup_free char *b = strdup(path);

  if (d == NULL || b == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  of->base = strdup(basename(b));
  of->dirfd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (of->base == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  if (of->dirfd < 0)
    return appc_error_make(err, errno, "%s: cannot open the output directory", path);
  if (strcmp(of->base, "/") == 0 || strcmp(of->base, ".") == 0 || strcmp(of->base, "..") == 0)
    return appc_error_make(err, EISDIR, "%s", path);
  return 0;
}

/* May OUT be replaced?  Yes if it does not exist, if overwriting, or if it is
 * the very file SAME_AS (rewriting an image in place). */
static int check_existing(struct appc_outfile *of, const char *same_as, appc_error_t *err)
{
  struct stat st, same;

  if (fstatat(of->dirfd, of->base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT)
      return 0;
    return appc_error_make(err, errno, "%s", of->path);
  }
  if (S_ISDIR(st.st_mode))
    return appc_error_make(err, EISDIR, "%s", of->path);
  if (of->overwrite)
    return 0;
  if (same_as != NULL && stat(same_as, &same) == 0 && same.st_dev == st.st_dev &&
      same.st_ino == st.st_ino) {
    of->overwrite = true;
    return 0;
  }
  return appc_error_make(err, EEXIST, "%s: refusing to replace an existing file", of->path);
}

static int open_named_temp(struct appc_outfile *of, appc_error_t *err)
{
  for (int attempt = 0; attempt < 100; attempt++) {
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t) sizeof r)
      r = ((unsigned long long) getpid() << 20) ^ (unsigned long long) attempt;
    free(of->tmp_path);
    if (asprintf(&of->tmp_path, ".%s.tmp-%016llx", of->base, r) < 0) {
      of->tmp_path = NULL;
      return appc_error_make(err, ENOMEM, "%s", of->path);
    }
    of->fd = openat(of->dirfd, of->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, OUT_MODE);
    if (of->fd >= 0) {
      notify_temp(of, of->tmp_path);
      return 0;
    }
    if (errno != EEXIST)
      break;
  }
  int e = errno;
  free(of->tmp_path);
  of->tmp_path = NULL;
  return appc_error_make(err, e, "%s: cannot create a temporary file", of->path);
}

int appc_outfile_open(struct appc_outfile *of, const char *path,
                      const struct appc_build_options *opts, const char *same_as, appc_error_t *err)
{
  *of = (struct appc_outfile){.fd = -1,
                              .dirfd = -1,
                              .overwrite = opts->overwrite,
                              .notify = opts->temp_notify,
                              .notify_data = opts->temp_notify_data};
  of->path = strdup(path);
  if (of->path == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  if (split_path(of, path, err) < 0 || check_existing(of, same_as, err) < 0) {
    appc_outfile_abort(of);
    return -1;
  }
  of->fd = openat(of->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, OUT_MODE);
  if (of->fd >= 0)
    return 0;
  /* Not every file system has O_TMPFILE (EOPNOTSUPP, EISDIR on old kernels). */
  if (open_named_temp(of, err) < 0) {
    appc_outfile_abort(of);
    return -1;
  }
  return 0;
}

/* Give the O_TMPFILE a name.  linkat() through /proc works without
 * CAP_DAC_READ_SEARCH, which AT_EMPTY_PATH would need. */
static int link_tmpfile(struct appc_outfile *of, const char *name)
{
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", of->fd);
  return linkat(AT_FDCWD, proc, of->dirfd, name, AT_SYMLINK_FOLLOW);
}

static int install_tmpfile(struct appc_outfile *of, appc_error_t *err)
{
  if (!of->overwrite) {
    if (link_tmpfile(of, of->base) < 0)
      return appc_error_make(err, errno, "%s", of->path);
    return 0;
  }
  /* Replacing needs a name to rename from; it exists only for an instant. */
  for (int attempt = 0; attempt < 100; attempt++) {
    unsigned long long r = 0;
    if (getrandom(&r, sizeof r, 0) != (ssize_t) sizeof r)
      r = ((unsigned long long) getpid() << 20) ^ (unsigned long long) attempt;
    free(of->tmp_path);
    if (asprintf(&of->tmp_path, ".%s.tmp-%016llx", of->base, r) < 0) {
      of->tmp_path = NULL;
      return appc_error_make(err, ENOMEM, "%s", of->path);
    }
    if (link_tmpfile(of, of->tmp_path) == 0) {
      notify_temp(of, of->tmp_path);
      break;
    }
    int e = errno;
    free(of->tmp_path);
    of->tmp_path = NULL;
    if (e != EEXIST)
      return appc_error_make(err, e, "%s", of->path);
  }
  if (of->tmp_path == NULL)
    return appc_error_make(err, EEXIST, "%s", of->path);
  if (renameat(of->dirfd, of->tmp_path, of->dirfd, of->base) < 0)
    return appc_error_make(err, errno, "%s", of->path);
  free(of->tmp_path);
  of->tmp_path = NULL;
  notify_temp(of, NULL);
  return 0;
}

static int install_named(struct appc_outfile *of, appc_error_t *err)
{
  unsigned int flags = of->overwrite ? 0 : RENAME_NOREPLACE;
  if (renameat2(of->dirfd, of->tmp_path, of->dirfd, of->base, flags) < 0) {
    if (errno != EINVAL || flags == 0)
      return appc_error_make(err, errno, "%s", of->path);
    /* No RENAME_NOREPLACE on this file system: link refuses to clobber. */
    if (linkat(of->dirfd, of->tmp_path, of->dirfd, of->base, 0) < 0)
      return appc_error_make(err, errno, "%s", of->path);
    (void) unlinkat(of->dirfd, of->tmp_path, 0);
  }
  free(of->tmp_path);
  of->tmp_path = NULL;
  notify_temp(of, NULL);
  return 0;
}

int appc_outfile_commit(struct appc_outfile *of, appc_error_t *err)
{
  bool named = of->tmp_path != NULL;

  if (fsync(of->fd) < 0)
    return appc_error_make(err, errno, "%s: fsync", of->path);
  if ((named ? install_named(of, err) : install_tmpfile(of, err)) < 0)
    return -1;
  /* Make the new directory entry durable too. */
  (void) fsync(of->dirfd);
  if (close(of->fd) < 0) {
    of->fd = -1;
    return appc_error_make(err, errno, "%s: close", of->path);
  }
  of->fd = -1;
  return 0;
}

void appc_outfile_abort(struct appc_outfile *of)
{
  if (of->tmp_path != NULL && of->dirfd >= 0) {
    (void) unlinkat(of->dirfd, of->tmp_path, 0);
    notify_temp(of, NULL);
  }
  if (of->fd >= 0)
    close(of->fd);
  if (of->dirfd >= 0)
    close(of->dirfd);
  free(of->tmp_path);
  free(of->base);
  free(of->path);
  *of = (struct appc_outfile){.fd = -1, .dirfd = -1};
}
