/* SPDX-License-Identifier: Apache-2.0 */
/* For tests linked with -Wl,--wrap=fdopendir: when the library opens a
 * directory stream, every descriptor it opened, the one passed in too, must
 * already be close-on-exec, since another thread of the caller may fork
 * and exec at any time (glibc's fdopendir sets FD_CLOEXEC, too late).  Checked
 * between cloexec_arm() and cloexec_disarm(), around the calls a test
 * looks at; descriptors open before (the test's, the harness's) are not
 * the library's. */
#ifndef APPC_TEST_CLOEXEC_H
#define APPC_TEST_CLOEXEC_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>

#define CLOEXEC_FDS 1024

static struct {
  bool armed;
  bool before[CLOEXEC_FDS]; /* open without FD_CLOEXEC when armed */
  int checked;              /* fdopendir calls while armed */
  int leaked;               /* of which saw one of the library's without FD_CLOEXEC */
} cloexec;

static bool cloexec_inheritable(int fd)
{
  int flags = fcntl(fd, F_GETFD);
  return flags >= 0 && (flags & FD_CLOEXEC) == 0;
}

static inline void cloexec_arm(void)
{
  for (int fd = 0; fd < CLOEXEC_FDS; fd++)
    cloexec.before[fd] = cloexec_inheritable(fd);
  cloexec.checked = cloexec.leaked = 0;
  cloexec.armed = true;
}

static inline void cloexec_disarm(void)
{
  cloexec.armed = false;
}

DIR *__real_fdopendir(int dirfd);
DIR *__wrap_fdopendir(int dirfd)
{
  int saved = errno;

  if (cloexec.armed) {
    cloexec.checked++;
    for (int fd = 0; fd < CLOEXEC_FDS; fd++)
      if (!cloexec.before[fd] && cloexec_inheritable(fd)) {
        cloexec.leaked++;
        break;
      }
  }
  errno = saved;
  return __real_fdopendir(dirfd);
}

#endif
