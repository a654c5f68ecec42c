/* SPDX-License-Identifier: Apache-2.0 */
/* Copying the raw bytes of a file while it is read (see struct appc_tee). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>

#include "aci/internal.h"

/* Hand written data to the kernel's writeback in steps of this size: the
 * disk then works while we decompress, and the final fsync is short. */
#define TEE_FLUSH_STEP (8u << 20)

void appc_tee_init(struct appc_tee *t, int fd)
{
  t->fd = fd;
  t->errnum = 0;
  t->written = 0;
  t->flushed = 0;
}

void appc_tee_write(struct appc_tee *t, const void *buf, size_t len)
{
  if (t->errnum != 0)
    return;
  if (appc_write_all(t->fd, buf, len) < 0) {
    t->errnum = errno != 0 ? errno : EIO;
    return;
  }
  t->written += len;
  if (t->written - t->flushed >= TEE_FLUSH_STEP) {
    /* Only a hint: an error here shows up again at fsync. */
    (void) sync_file_range(t->fd, (off_t) t->flushed, (off_t) (t->written - t->flushed),
                           SYNC_FILE_RANGE_WRITE);
    t->flushed = t->written;
  }
}

int appc_tee_check(const struct appc_tee *t, const char *name, appc_error_t *err)
{
  if (t->errnum != 0)
    return appc_error_make(err, t->errnum, "%s: write", name);
  return 0;
}
