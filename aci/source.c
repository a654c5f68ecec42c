/* SPDX-License-Identifier: Apache-2.0 */
/* Where an ACI's bytes come from: a path, a descriptor, memory or a read
 * callback, as libarchive's readers take them.  Every reader of the aci
 * module (and the store's import) pulls its bytes through
 * appc_source_read(), so a program holding an image in memory or receiving
 * it from a socket need not write it to a file first. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aci/internal.h"
#include "aci/stream.h"
#include "common/error.h"
#include "common/callbacks.h"
#include "common/cleanup.h"

enum source_kind {
  SOURCE_FD,
  SOURCE_MEMORY,
  SOURCE_CALLBACK,
};

struct appc_source {
  enum source_kind kind;
  char *name;               /* for messages */
  bool taken;               /* a reader has it: a source is read once */
  int fd;                   /* SOURCE_FD */
  bool owns_fd;             /* opened from a path */
  const unsigned char *mem; /* SOURCE_MEMORY */
  size_t mem_len, mem_pos;
  appc_read_fn read; /* SOURCE_CALLBACK */
  void *read_data;
  const struct appc_callbacks *cb; /* progress of the bytes read, cancel; may be NULL */
  enum appc_progress_op op;
  const char *shown; /* the name progress shows; NULL: NAME */
  uint64_t done, total;
};

static int source_new(struct appc_source **out, enum source_kind kind, const char *name,
                      appc_error_t *err)
{
  struct appc_source *src = calloc(1, sizeof *src);

  if (src == NULL || (src->name = strdup(name)) == NULL) {
    free(src);
    return appc_error_make(err, ENOMEM, "%s", name);
  }
  src->kind = kind;
  src->fd = -1;
  *out = src;
  return 0;
}

/* Read-ahead suits the one sequential pass every reader makes; only a
 * hint, whose failure (on a pipe, say) does not matter. */
static void hint_sequential(int fd)
{
  (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
}

int appc_source_open_file(struct appc_source **out, const char *path, appc_error_t *err)
{
  /* O_NONBLOCK: a FIFO without a writer would hold the open for ever;
   * opened so, it reads as empty.  Reads block again afterwards (a pipe
   * with a writer is read as it comes). */
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st;

  if (fd < 0)
    return appc_error_make(err, errno, "open");
  if (fstat(fd, &st) < 0)
    return appc_error_make(err, errno, "stat");
  if (S_ISDIR(st.st_mode))
    return appc_error_make(err, EISDIR, "not an ACI");
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
    return appc_error_make(err, errno, "fcntl");
  if (source_new(out, SOURCE_FD, path, err) < 0)
    return -1;
  hint_sequential(fd);
  (*out)->fd = steal_fd(&fd);
  (*out)->owns_fd = true;
  return 0;
}

int appc_source_open_path(struct appc_source **out, const char *path, appc_error_t *err)
{
  if (appc_source_open_file(out, path, err) < 0)
    return appc_error_prefix(err, "%s", path);
  return 0;
}

int appc_source_open_fd(struct appc_source **out, int fd, const char *name, appc_error_t *err)
{
  char fallback[32];

  if (name == NULL) {
    snprintf(fallback, sizeof fallback, "fd %d", fd);
    name = fallback;
  }
  if (fd < 0)
    return appc_error_make(err, EBADF, "%s", name);
  if (source_new(out, SOURCE_FD, name, err) < 0)
    return -1;
  hint_sequential(fd);
  (*out)->fd = fd;
  return 0;
}

int appc_source_open_memory(struct appc_source **out, const void *buf, size_t len, const char *name,
                            appc_error_t *err)
{
  if (buf == NULL && len > 0)
    return appc_error_tag(err, EINVAL, "%s: no buffer", name != NULL ? name : "memory");
  if (source_new(out, SOURCE_MEMORY, name != NULL ? name : "memory", err) < 0)
    return -1;
  (*out)->mem = buf;
  (*out)->mem_len = len;
  return 0;
}

int appc_source_open_callback(struct appc_source **out, appc_read_fn read_fn, void *data,
                              const char *name, appc_error_t *err)
{
  if (read_fn == NULL)
    return appc_error_tag(err, EINVAL, "%s: no read callback", name != NULL ? name : "stream");
  if (source_new(out, SOURCE_CALLBACK, name != NULL ? name : "stream", err) < 0)
    return -1;
  (*out)->read = read_fn;
  (*out)->read_data = data;
  return 0;
}

int appc_source_fd(const struct appc_source *src)
{
  return src->kind == SOURCE_FD && !src->taken ? src->fd : -1;
}

const char *appc_source_name(const struct appc_source *src)
{
  return src->name;
}

void appc_source_free(struct appc_source *src)
{
  if (src == NULL)
    return;
  if (src->owns_fd && src->fd >= 0)
    close(src->fd);
  free(src->name);
  free(src);
}

int appc_source_take(struct appc_source *src, appc_error_t *err)
{
  if (src->taken)
    return appc_error_tag(err, EINVAL, "%s: already read (a source is read once)", src->name);
  src->taken = true;
  return 0;
}

ssize_t appc_source_read(struct appc_source *src, void *buf, size_t len, appc_error_t *err)
{
  ssize_t n;

  if (appc_source_cancelled(src))
    return appc_error_make(err, ECANCELED, "reading cancelled");
  switch (src->kind) {
  case SOURCE_MEMORY:
    n = (ssize_t) (len < src->mem_len - src->mem_pos ? len : src->mem_len - src->mem_pos);
    memcpy(buf, src->mem + src->mem_pos, (size_t) n);
    src->mem_pos += (size_t) n;
    return n;
  case SOURCE_CALLBACK:
    do {
      errno = 0;
      n = src->read(src->read_data, buf, len);
    } while (n < 0 && errno == EINTR);
    break;
  default:
    do
      n = read(src->fd, buf, len);
    while (n < 0 && errno == EINTR);
    break;
  }
  if (n < 0)
    return appc_error_make(err, errno != 0 ? errno : EIO, "read");
  if ((size_t) n > len)
    return appc_error_make(err, EIO, "read: the callback returned more than asked for");
  if (src->cb != NULL && n > 0) {
    src->done += (uint64_t) n;
    appc_cb_progress(src->cb, src->op, src->shown != NULL ? src->shown : src->name, src->done,
                     src->total);
  }
  return n;
}

bool appc_source_cancelled(const struct appc_source *src)
{
  return appc_cb_cancelled(src->cb);
}

void appc_source_progress_as(struct appc_source *src, const struct appc_callbacks *cb,
                             enum appc_progress_op op, const char *shown)
{
  appc_source_progress(src, cb, op);
  src->shown = shown;
}

void appc_source_progress(struct appc_source *src, const struct appc_callbacks *cb,
                          enum appc_progress_op op)
{
  struct stat st;

  src->shown = NULL;
  src->cb = cb;
  src->op = op;
  src->done = 0;
  src->total = 0;
  if (src->kind == SOURCE_MEMORY)
    src->total = src->mem_len - src->mem_pos;
  else if (src->kind == SOURCE_FD && fstat(src->fd, &st) == 0 && S_ISREG(st.st_mode)) {
    off_t pos = lseek(src->fd, 0, SEEK_CUR);
    src->total = (uint64_t) st.st_size - (pos > 0 ? (uint64_t) pos : 0);
  }
}
