/* SPDX-License-Identifier: Apache-2.0 */
/* An LD_PRELOAD shim for the tests: a kernel without ctnetlink (nfnetlink
 * not there, as CONFIG_NETFILTER_NETLINK=n gives), but for nftables.
 * socket(AF_NETLINK, ..., NETLINK_NETFILTER) fails with EPROTONOSUPPORT,
 * unless libnftables opens it (a frame of the call's stack is in
 * libnftables.so: nftables speaks nfnetlink too, and the pod's published
 * ports need it).  Each refusal is logged, one line "refused", to the file
 * $NO_CTNETLINK_LOG (when set), so that a test sees the executor try.
 * $NO_CTNETLINK_ERRNO (a number) is the errno instead, for a failure that
 * says something else than a kernel without it (EPERM, say). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Whether a caller up the stack is libnftables. */
static int from_nftables(void)
{
  void *frames[64];
  int n = backtrace(frames, 64);

  for (int i = 0; i < n; i++) {
    Dl_info info;
    if (dladdr(frames[i], &info) != 0 && info.dli_fname != NULL &&
        strstr(info.dli_fname, "libnftables") != NULL)
      return 1;
  }
  return 0;
}

static void note(void)
{
  const char *path = getenv("NO_CTNETLINK_LOG");
  int fd;

  if (path == NULL || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
    return;
  (void) write(fd, "refused\n", 8);
  close(fd);
}

int socket(int domain, int type, int protocol)
{
  if (domain == AF_NETLINK && protocol == NETLINK_NETFILTER && !from_nftables()) {
    const char *e = getenv("NO_CTNETLINK_ERRNO");
    note();
    errno = e != NULL ? atoi(e) : EPROTONOSUPPORT;
    return -1;
  }
  return (int) syscall(SYS_socket, domain, type, protocol);
}
