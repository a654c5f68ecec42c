/* SPDX-License-Identifier: Apache-2.0 */
/* An LD_PRELOAD shim for the tests: a kernel without ctnetlink (nfnetlink
 * not there, as CONFIG_NETFILTER_NETLINK=n gives), but for nftables.
 * socket(AF_NETLINK, ..., NETLINK_NETFILTER) fails with EPROTONOSUPPORT,
 * unless libnftables opens it (a frame of the call's stack is in
 * libnftables.so: nftables speaks nfnetlink too, and the pod's published
 * ports need it).  Each refusal is logged, one line "refused", to the file
 * $NO_CTNETLINK_LOG (when set), so that a test sees the executor try.
 * $NO_CTNETLINK_ERRNO (a number) is the errno instead, for a failure that
 * says something else than a kernel without it (EPERM, say).
 *
 * With $NO_CTNETLINK_FILTER set, the sockets are the kernel's, but a
 * kernel that refuses ctnetlink's dump filter (CTA_FILTER) is played: the
 * filter's flags of a conntrack dump request are spoiled (bit 31, which no
 * kernel knows), so that the kernel refuses the request with EINVAL; each
 * is logged, "filter spoiled". */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
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

static void note(const char *what)
{
  const char *path = getenv("NO_CTNETLINK_LOG");
  int fd;

  if (path == NULL || (fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
    return;
  (void) write(fd, what, strlen(what));
  close(fd);
}

int socket(int domain, int type, int protocol)
{
  if (domain == AF_NETLINK && protocol == NETLINK_NETFILTER &&
      getenv("NO_CTNETLINK_FILTER") == NULL && !from_nftables()) {
    const char *e = getenv("NO_CTNETLINK_ERRNO");
    note("refused\n");
    errno = e != NULL ? atoi(e) : EPROTONOSUPPORT;
    return -1;
  }
  return (int) syscall(SYS_socket, domain, type, protocol);
}

/* The CTA_FILTER_ORIG_FLAGS of a conntrack dump request in MSG (LEN
 * bytes), or NULL. */
static unsigned char *filter_flags(unsigned char *msg, size_t len)
{
  struct nlmsghdr *nlh = (struct nlmsghdr *) msg;
  size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg));

  if (len < at || nlh->nlmsg_len > len ||
      nlh->nlmsg_type != ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET) ||
      !(nlh->nlmsg_flags & NLM_F_DUMP))
    return NULL;
  while (at + NLA_HDRLEN <= nlh->nlmsg_len) {
    struct nlattr *a = (struct nlattr *) (msg + at);
    if (a->nla_len < NLA_HDRLEN || at + a->nla_len > nlh->nlmsg_len)
      return NULL;
    if ((a->nla_type & NLA_TYPE_MASK) == CTA_FILTER) {
      for (size_t in = NLA_HDRLEN; in + NLA_HDRLEN + 4 <= a->nla_len;) {
        struct nlattr *f = (struct nlattr *) (msg + at + in);
        if (f->nla_len < NLA_HDRLEN)
          return NULL;
        if ((f->nla_type & NLA_TYPE_MASK) == CTA_FILTER_ORIG_FLAGS)
          return (unsigned char *) f + NLA_HDRLEN;
        in += NLA_ALIGN(f->nla_len);
      }
    }
    at += NLA_ALIGN(a->nla_len);
  }
  return NULL;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to,
               socklen_t to_len)
{
  unsigned char copy[4096], *f;
  int domain = 0, protocol = 0;
  socklen_t size = sizeof domain;

  if (getenv("NO_CTNETLINK_FILTER") != NULL && len <= sizeof copy &&
      getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 && domain == AF_NETLINK &&
      (size = sizeof protocol, getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &size)) == 0 &&
      protocol == NETLINK_NETFILTER) {
    memcpy(copy, buf, len);
    if ((f = filter_flags(copy, len)) != NULL) {
      const unsigned int spoiled = 1U << 31;
      memcpy(f, &spoiled, sizeof spoiled);
      note("filter spoiled\n");
      buf = copy;
    }
  }
  return syscall(SYS_sendto, fd, buf, len, flags, to, to_len);
}
