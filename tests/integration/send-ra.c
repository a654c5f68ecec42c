/* SPDX-License-Identifier: Apache-2.0 */
/* For the tests (run-net.sh): send IPv6 router advertisements out of
 * IFACE, as a pod with CAP_NET_RAW could, naming this host (its link-local
 * address) a default router.  A low preference and a 30 s lifetime, so
 * that a host that took one would not keep it.  Usage: send-ra IFACE
 * SECONDS: one every 200 ms for SECONDS (the link-local address may still
 * be tentative at first); exits 0 once one was sent. */
#define _GNU_SOURCE
#include <net/if.h>
#include <netinet/icmp6.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: send-ra IFACE SECONDS\n");
    return 2;
  }
  unsigned ifindex = if_nametoindex(argv[1]);
  int seconds = atoi(argv[2]), hops = 255, sent = 0;
  int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
  if (ifindex == 0 || fd < 0) {
    perror("send-ra");
    return 1;
  }
  (void) setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  (void) setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops);
  (void) setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof ifindex);
  struct nd_router_advert ra;
  memset(&ra, 0, sizeof ra);
  ra.nd_ra_type = ND_ROUTER_ADVERT;
  ra.nd_ra_curhoplimit = 64;
  ra.nd_ra_flags_reserved = 0x18; /* preference low */
  ra.nd_ra_router_lifetime = htons(30);
  struct sockaddr_in6 all = {.sin6_family = AF_INET6, .sin6_scope_id = ifindex};
  inet_pton(AF_INET6, "ff02::1", &all.sin6_addr);
  for (int i = 0; i < seconds * 5; i++) {
    if (sendto(fd, &ra, sizeof ra, 0, (struct sockaddr *) &all, sizeof all) == (ssize_t) sizeof ra)
      sent++;
    nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL);
  }
  printf("sent %d\n", sent);
  return sent > 0 ? 0 : 1;
}
