/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>

#include <archive.h>

#include "common/archive-error.h"
#include "common/error.h"

/* libarchive's own codes stand in for errnos that no system call gave:
 * its ARCHIVE_ERRNO_FILE_FORMAT (private) is EILSEQ, "Invalid or
 * incomplete multibyte or wide character" after "Unrecognized archive
 * format"; its ARCHIVE_ERRNO_MISC is -1. */
static int system_errno(int e)
{
  return e > 0 && e != EILSEQ ? e : 0;
}

const char *appc_archive_message(struct archive *a)
{
  const char *msg = archive_error_string(a);

  return msg != NULL ? msg : "libarchive failed";
}

int appc_archive_fail(struct archive *a, const char *what, appc_error_t *err)
{
  return appc_error_make(err, system_errno(archive_errno(a)), "%s: %s", what,
                         appc_archive_message(a));
}
