/* SPDX-License-Identifier: Apache-2.0 */
/* Starting a pod's command through the exec shim (ace/exec-shim.c explains
 * why), which libappc carries as bytes (ace/exec-shim-blob.c, generated)
 * and runs from a memfd sealed against writing: an anonymous file, so that
 * whatever the pod reaches through the shim's /proc/self/exe is nothing of
 * the host's.  Some 1.5 KB written and one more execve of a program that
 * starts in microseconds, per command. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ace/exec-shim.h"
#include "ace/internal.h"
#include "common/fs.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U /* Linux 6.3 */
#endif

extern const unsigned char ace_exec_shim[];
extern const size_t ace_exec_shim_size;

/* The shim in a sealed memfd.  MFD_EXEC asks for an executable one where
 * vm.memfd_noexec would otherwise refuse; kernels before 6.3 know no such
 * flag (EINVAL), and every memfd of theirs is executable. */
static int shim_memfd(appc_error_t *err)
{
  const unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
  int fd = memfd_create(ACE_EXEC_SHIM_MARKER, flags | MFD_EXEC);

  if (fd < 0 && errno == EINVAL)
    fd = memfd_create(ACE_EXEC_SHIM_MARKER, flags);
  if (fd < 0)
    return appc_error_make(err, errno, "the exec shim: memfd_create");
  if (appc_write_all(fd, ace_exec_shim, ace_exec_shim_size) < 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0) {
    int e = errno;
    close(fd);
    return appc_error_make(err, e, "the exec shim");
  }
  return fd;
}

int ace_exec_prepare(struct ace_exec *x, const char *path, char *const *argv, int report,
                     int min_fd, const char *prefix, const char *suffix, appc_error_t *err)
{
  size_t n = 0;

  *x = (struct ace_exec){.memfd = -1, .report = -1};
  while (argv[n] != NULL)
    n++;
  if ((x->argv = calloc(n + ACE_EXEC_SHIM_FIXED_ARGS + 1, sizeof *x->argv)) == NULL)
    return appc_error_make(err, ENOMEM, "%s", path);
  if ((x->memfd = shim_memfd(err)) < 0)
    return -1;
  /* (without FD_CLOEXEC: the shim sets it before the command's execve) */
  if (report >= 0 && (x->report = fcntl(report, F_DUPFD, min_fd)) < 0)
    return appc_error_make(err, errno, "%s: the exec shim's report", path);
  snprintf(x->report_arg, sizeof x->report_arg, "%d", x->report);
  x->argv[0] = (char *) ACE_EXEC_SHIM_MARKER;
  x->argv[1] = x->report_arg;
  x->argv[2] = (char *) prefix;
  x->argv[3] = (char *) suffix;
  x->argv[4] = (char *) path;
  memcpy(x->argv + ACE_EXEC_SHIM_FIXED_ARGS, argv, n * sizeof *argv);
  return 0;
}

void ace_exec_run(const struct ace_exec *x, char *const *env, appc_error_t *err)
{
  execveat(x->memfd, "", x->argv, env, AT_EMPTY_PATH);
  appc_error_make(err, errno, "%s: the exec shim", x->argv[4]);
}
