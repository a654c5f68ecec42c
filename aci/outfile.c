/* SPDX-License-Identifier: Apache-2.0 */
/* Output files that appear at their final path only when complete: a
 * common/fs tempfile in the destination directory, installed without
 * replacing (RENAME_NOREPLACE or link), so that an OUT that appears while
 * we build is still never clobbered unless overwriting was asked for. */
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
#include "common/error.h"

/* Output is created 0644 and the kernel applies the caller's umask. */
#define OUT_MODE 0644

/* Tell the caller about the hidden temporary NAME, as a path beside the
 * output, or about its removal (NULL). */
static void notify_temp(const char *name, void *data)
{
  struct appc_outfile *of = data;
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

/* EEXIST tells callers (a command line adds how to overwrite). */
static int refuse_existing(const struct appc_outfile *of, appc_error_t *err)
{
  return appc_error_tag(err, EEXIST, "%s: refusing to replace an existing file", of->path);
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
  return refuse_existing(of, err);
}

int appc_outfile_open(struct appc_outfile *of, const char *path,
                      const struct appc_build_options *opts, const char *same_as, appc_error_t *err)
{
  *of = (struct appc_outfile){.tmp = APPC_TEMPFILE_INIT,
                              .dirfd = -1,
                              .overwrite = opts->overwrite,
                              .notify = opts->temp_notify,
                              .notify_data = opts->temp_notify_data};
  of->tmp.named = notify_temp;
  of->tmp.data = of;
  of->tmp.cb = opts->cb;
  of->path = strdup(path);
  if (of->path == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  if (split_path(of, path, err) < 0 || check_existing(of, same_as, err) < 0) {
    appc_outfile_abort(of);
    return -1;
  }
  if (appc_tempfile_open(&of->tmp, of->dirfd, of->base, OUT_MODE) < 0) {
    appc_error_make(err, errno, "%s: cannot create a temporary file", of->path);
    appc_outfile_abort(of);
    return -1;
  }
  return 0;
}

int appc_outfile_check(const char *path, const struct appc_build_options *opts, appc_error_t *err)
{
  struct appc_outfile of = APPC_OUTFILE_INIT;
  int r;

  of.overwrite = opts->overwrite;
  of.path = strdup(path);
  if (of.path == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  r = split_path(&of, path, err) < 0 || check_existing(&of, NULL, err) < 0 ? -1 : 0;
  appc_outfile_abort(&of);
  return r;
}

int appc_outfile_commit(struct appc_outfile *of, appc_error_t *err)
{
  unsigned flags = APPC_WRITE_DURABLE | (of->overwrite ? 0 : APPC_WRITE_NOREPLACE);

  if (appc_tempfile_install(&of->tmp, of->base, flags) < 0) {
    if (errno == EEXIST && !of->overwrite)
      return refuse_existing(of, err);
    if (errno == ECANCELED)
      return appc_error_make(err, errno, "%s: cancelled before it was installed", of->path);
    return appc_error_make(err, errno, "%s", of->path);
  }
  int fd = of->tmp.fd;
  of->tmp.fd = -1;
  if (close(fd) < 0)
    return appc_error_make(err, errno, "%s: close", of->path);
  return 0;
}

void appc_outfile_abort(struct appc_outfile *of)
{
  appc_tempfile_discard(&of->tmp);
  if (of->dirfd >= 0)
    close(of->dirfd);
  free(of->base);
  free(of->path);
  *of = (struct appc_outfile) APPC_OUTFILE_INIT;
}
