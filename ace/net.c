/* SPDX-License-Identifier: Apache-2.0 */
/* The default network (`run --net=default`): rkt's "default" network, the
 * container RFC's "virtual/NAT networking ... exposed to the host as a nic".
 *
 * Every such pod has an eth0, one end of a veth pair whose other end is on
 * the bridge actool0 in the host's namespace; the bridge holds the subnet's
 * first address, the pods' default gateway.  An nftables table of ours
 * (`ip actool`) masquerades what pods send outside the subnet; published
 * host ports are mapped to pod addresses and ports (DNAT) for packets that
 * come in (prerouting) and for the host's own (output; with route_localnet
 * on the bridge and a masquerade of 127.0.0.0/8, 127.0.0.1 works too).
 * Pods reach published ports through the host's addresses too, the
 * publishing pod its own: its bridge port is in hairpin mode and its table
 * masquerades what pods send there (set_hairpin, make_pod_table).  The
 * table's guards drop what pods send to or from 127.0.0.0/8, and what
 * other hosts send toward the pods but to published ports and flows under
 * way (make_guards).  Netlink is spoken through libmnl (ctnetlink too,
 * forget_udp_port), nftables through libnftables.
 *
 * A pod's published ports are its own table's, `ip actool-UUID`, made with
 * the flag owner (Linux 5.12) through a libnftables context that P keeps
 * for the pod's life and no other process shares: the kernel removes the
 * table when that context's netlink socket closes, so the DNAT rules of a
 * pod whose actool was SIGKILLed go at once, rather than sending a host
 * service's clients on those ports to a dead address until the next pod or
 * gc.  The shared table keeps its maps for the elements older actools
 * added there.
 *
 * The bridge, the table and so the addresses are the host's, whichever
 * store (--dir) a pod runs from: their state is host-wide too, in
 * /run/actool/net under its lock (flock).  A pod's lease is the file
 * leases/ADDRESS there, linked into place (never replacing one) with its
 * UUID and its store's runtime key in it, later its published ports too,
 * so that allocation never collides between concurrent pods of any stores
 * and any store's gc, or the next pod (sweep_dead), can tell whether the
 * pod is dead (ace_pod_is_dead) and undo what a killed actool left.  The store's net/ holds only
 * its configuration (and leases an older actool kept there, which gc undoes). The veth pair goes
 * with the pod's network namespace (the kernel unregisters it in the background); it is deleted
 * here only when something may hold that namespace longer (ace_net_release's DELETE_LINK_NOW, and
 * gc for a gone pod, or for a pair no lease names: sweep_pairs).  The bridge and the table are
 * shared: the first pod makes them, they stay for the next ones (making them costs more than
 * starting a pod), and `actool gc` removes them when no pod of any store holds a lease; the bridge
 * only if actool made it (create_bridge), since an admin's actool0 serves too.
 *
 * The subnet is 172.16.28.0/24 (rkt's default) unless net/default.json
 * says {"subnet": "A.B.C.D/N"} (N from 16 to 29), and no other link's
 * (refuse_overlap). */
#define _GNU_SOURCE
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <nftables/libnftables.h>

#include "ace/internal.h"
#include "ace/pod.h"
#include "appc/ace.h"
#include "appc/store.h"
#include "common/array.h"
#include "common/error.h"
#include "common/cleanup.h"
#include "common/fs.h"
#include "common/lazy.h"

#define NET_BRIDGE "actool0"
#define NET_TABLE "actool"
#define NET_POD_TABLE NET_TABLE "-" /* + the pod's UUID: its ports (flags owner) */
#define NET_OWN_FDS 4               /* a libnftables context's sockets, at most */
#define NET_FDS_SEEN 64             /* netfilter sockets a process may have, at most */
#define NET_DEFAULT_SUBNET "172.16.28.0/24"
#define NET_CONFIG "default.json"
#define NET_LEASES "leases"
#define NET_HOST ACE_RUNTIME_ROOT "/net" /* the lock, leases/, current and NET_BRIDGE_RECORD */
#define NET_BRIDGE_RECORD "bridge"       /* the hardware address of the bridge actool made */
/* route_localnet of someone else's bridge before actool set it */
#define NET_LOCALNET_RECORD "bridge-route-localnet"
#define BRIDGE_LOCALNET "/proc/sys/net/ipv4/conf/" NET_BRIDGE "/route_localnet"
/* The shared table's maps of published ports: host port to pod address and port */
#define NET_PORT_MAP "{ type inet_service : ipv4_addr . inet_service; }"
#define NET_BRIDGE_ACCEPT_RA "/proc/sys/net/ipv6/conf/" NET_BRIDGE "/accept_ra"
#define NET_VETH "acv"       /* + 8 hex digits: the host's end of a pod's veth pair */
#define BRIDGE_SETTLE_MS 500 /* bridge_in_use */
#define LEASE_MAX 4096

struct ace_net {
  struct appc_store *s;
  char uuid[APPC_UUID_LEN + 1];
  char key[ACE_RUNTIME_KEY_MAX]; /* the store's runtime key, in the lease */
  int area;                      /* the store's net/: its configuration */
  int host;                      /* NET_HOST */
  struct in_addr net, gateway, addr;
  unsigned prefix;
  bool leased;
  struct ace_port_map *ports;
  size_t n_ports;
  int *reserved;             /* of PORTS, each bound on the host (reserve_ports), or -1 */
  struct mnl_socket *pod_nl; /* opened inside the pod's namespace */
  char table[sizeof NET_POD_TABLE + APPC_UUID_LEN]; /* the pod's own, with ports */
  struct nft_ctx *own;      /* made TABLE: its socket holds it (flags owner) */
  int own_fds[NET_OWN_FDS]; /* that socket, as found (own_sockets) */
  size_t n_own_fds;
};

/* ---- the lock and the configuration ---- */

/* NET_HOST, made if CREATE; -1 with errno ENOENT (no error) when it is
 * not there and not to be made. */
static int host_net_open(bool create, appc_error_t *err)
{
  cleanup_close int root = -1;
  int fd;

  if (create && ((root = ace_runtime_root_open(err)) < 0 ||
                 (mkdirat(root, "net", 0700) < 0 && errno != EEXIST)))
    return *err != NULL ? -1 : appc_error_make(err, errno, "%s", NET_HOST);
  fd = open(NET_HOST, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && (create || errno != ENOENT))
    return appc_error_make(err, errno, "%s", NET_HOST);
  return fd;
}

static int net_lock(int host, appc_error_t *err)
{
  int fd = appc_lock_at(host, "lock", err);

  if (fd < 0)
    appc_error_prefix(err, "%s", NET_HOST);
  return fd;
}

static int parse_subnet(const char *text, struct in_addr *net, unsigned *prefix)
{
  char buf[32];
  char *slash;
  unsigned long p;
  char *end;

  if (strlen(text) >= sizeof buf)
    return -1;
  strcpy(buf, text);
  slash = strchr(buf, '/');
  if (slash == NULL)
    return -1;
  *slash = '\0';
  p = strtoul(slash + 1, &end, 10);
  if (*end != '\0' || end == slash + 1 || p < 16 || p > 29 || inet_pton(AF_INET, buf, net) != 1)
    return -1;
  *prefix = (unsigned) p;
  uint32_t mask = htonl(~0u << (32 - p));
  if ((net->s_addr & ~mask) != 0)
    return -1;
  return 0;
}

static int read_config(struct ace_net *n, appc_error_t *err)
{
  cleanup_free char *text = NULL;
  const char *subnet = NET_DEFAULT_SUBNET;
  json_object *doc = NULL, *v;
  size_t len = 0;
  int r = 0;

  if (faccessat(n->area, NET_CONFIG, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
    if (appc_read_file_at(n->area, NET_CONFIG, 65536, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text,
                          &len, err) < 0)
      return appc_error_prefix(err, "net");
    doc = json_tokener_parse(text);
    if (doc == NULL || !json_object_object_get_ex(doc, "subnet", &v) ||
        !json_object_is_type(v, json_type_string)) {
      json_object_put(doc);
      return appc_error_make(err, 0, "net/%s: not {\"subnet\": \"A.B.C.D/N\"}", NET_CONFIG);
    }
    subnet = json_object_get_string(v);
  }
  if (parse_subnet(subnet, &n->net, &n->prefix) < 0)
    r = appc_error_make(err, 0, "net/%s: subnet \"%s\": an IPv4 network A.B.C.D/N, N from 16 to 29",
                        NET_CONFIG, subnet);
  n->gateway.s_addr = htonl(ntohl(n->net.s_addr) + 1);
  json_object_put(doc);
  return r;
}

/* ---- netlink ---- */

/* A socket of the netlink family BUS; WHAT names it in errors. */
static struct mnl_socket *nl_open_bus(int bus, const char *what, appc_error_t *err)
{
  struct mnl_socket *nl = mnl_socket_open2(bus, SOCK_CLOEXEC);

  if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    int e = errno;
    if (nl != NULL)
      mnl_socket_close(nl);
    appc_error_make(err, e, "%s", what);
    return NULL;
  }
  return nl;
}

static struct mnl_socket *nl_open(appc_error_t *err)
{
  return nl_open_bus(NETLINK_ROUTE, "netlink", err);
}

/* Send the request in BUF and wait for its acknowledgement. */
static int nl_talk(struct mnl_socket *nl, struct nlmsghdr *nlh, const char *what, appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  unsigned seq = (unsigned) time(NULL) ^ (unsigned) rand();
  ssize_t n;

  nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return appc_error_make(err, errno, "netlink: %s", what);
  n = mnl_socket_recvfrom(nl, buf, sizeof buf);
  if (n < 0)
    return appc_error_make(err, errno, "netlink: %s", what);
  if (mnl_cb_run(buf, (size_t) n, seq, mnl_socket_get_portid(nl), NULL, NULL) < 0)
    return appc_error_make(err, errno, "netlink: %s", what);
  return 0;
}

/* A message of TYPE and FLAGS in BUF, with EXTRA zeroed bytes of family
 * header (*HEADER). */
static struct nlmsghdr *nl_msg(char *buf, uint16_t type, uint16_t flags, size_t extra,
                               void **header)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  *header = mnl_nlmsg_put_extra_header(nlh, extra);
  return nlh;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, uint16_t flags, int index)
{
  struct ifinfomsg *ifi;
  struct nlmsghdr *nlh = nl_msg(buf, type, flags, sizeof *ifi, (void **) &ifi);

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  return nlh;
}

/* What a link is: its index, its kind (IFLA_INFO_KIND: "bridge", "veth",
 * "" for a physical one) and its hardware address. */
struct link_facts {
  int index;
  char kind[16];
  uint8_t mac[6];
};

static int link_info_cb(const struct nlattr *attr, void *data)
{
  struct link_facts *f = data;

  if (mnl_attr_get_type(attr) == IFLA_INFO_KIND)
    snprintf(f->kind, sizeof f->kind, "%.*s",
             (int) strnlen(mnl_attr_get_payload(attr), mnl_attr_get_payload_len(attr)),
             (const char *) mnl_attr_get_payload(attr));
  return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
  struct link_facts *f = data;

  if (mnl_attr_get_type(attr) == IFLA_ADDRESS && mnl_attr_get_payload_len(attr) == sizeof f->mac)
    memcpy(f->mac, mnl_attr_get_payload(attr), sizeof f->mac);
  else if (mnl_attr_get_type(attr) == IFLA_LINKINFO)
    (void) mnl_attr_parse_nested(attr, link_info_cb, f);
  return MNL_CB_OK;
}

static int link_facts_cb(const struct nlmsghdr *nlh, void *data)
{
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  struct link_facts *f = data;

  if (nlh->nlmsg_type == RTM_NEWLINK) {
    f->index = ifi->ifi_index;
    (void) mnl_attr_parse(nlh, sizeof *ifi, link_attr_cb, f);
  }
  return MNL_CB_OK;
}

/* The link NAME in the namespace of NL's socket (if_nametoindex asks the
 * caller's); -1 with errno (ENODEV: there is none). */
static int link_query(struct mnl_socket *nl, const char *name, struct link_facts *f)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, NLM_F_REQUEST, 0);
  unsigned seq = (unsigned) time(NULL) ^ (unsigned) rand();
  ssize_t n;

  nlh->nlmsg_seq = seq;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  memset(f, 0, sizeof *f);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0 ||
      (n = mnl_socket_recvfrom(nl, buf, sizeof buf)) < 0 ||
      mnl_cb_run(buf, (size_t) n, seq, mnl_socket_get_portid(nl), link_facts_cb, f) < 0)
    return -1;
  if (f->index <= 0) {
    errno = ENODEV;
    return -1;
  }
  return 0;
}

static int link_index(struct mnl_socket *nl, const char *name, int *index, appc_error_t *err)
{
  struct link_facts f;

  *index = 0;
  if (link_query(nl, name, &f) < 0)
    return appc_error_make(err, errno ? errno : ENODEV, "netlink: the pod's %s", name);
  *index = f.index;
  return 0;
}

static int link_up(struct mnl_socket *nl, int index, int master, const char *what,
                   appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, 0, index);
  struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  if (master > 0)
    mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) master);
  return nl_talk(nl, nlh, what, err);
}

/* Hairpin mode on the bridge port INDEX: the bridge may send a frame back
 * out the port it came in by.  A pod reaching its own published port
 * through the host's address needs it where br_netfilter hands bridged
 * frames to the IP hooks (net.bridge.bridge-nf-call-iptables, on once the
 * module is loaded, as docker loads it): the DNAT then happens on the
 * bridge, which sends the frame back to the pod's port.  Without
 * br_netfilter the host routes the packet, which leaves through the
 * bridge's own device and needs no hairpin.  Only pods that publish ports
 * get it: a hairpin port also gets its own broadcasts back. */
static int set_hairpin(struct mnl_socket *nl, int index, const char *name, appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE], what[IFNAMSIZ + 32];
  struct ifinfomsg *ifi;
  struct nlmsghdr *nlh = nl_msg(buf, RTM_SETLINK, 0, sizeof *ifi, (void **) &ifi);
  struct nlattr *info;

  ifi->ifi_family = AF_BRIDGE;
  ifi->ifi_index = index;
  /* the bridge reads a port's attributes only from a nest flagged as one
   * (an unflagged IFLA_PROTINFO is the old u8 of the port's state) */
  info = mnl_attr_nest_start(nlh, IFLA_PROTINFO | NLA_F_NESTED);
  mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
  mnl_attr_nest_end(nlh, info);
  snprintf(what, sizeof what, "hairpin mode of %s", name);
  return nl_talk(nl, nlh, what, err);
}

static int address_request(struct mnl_socket *nl, uint16_t type, uint16_t flags, int index,
                           struct in_addr a, unsigned prefix, const char *what, appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct ifaddrmsg *ifa;
  struct nlmsghdr *nlh = nl_msg(buf, type, flags, sizeof *ifa, (void **) &ifa);

  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = (unsigned char) prefix;
  ifa->ifa_index = (unsigned) index;
  mnl_attr_put(nlh, IFA_LOCAL, sizeof a, &a);
  mnl_attr_put(nlh, IFA_ADDRESS, sizeof a, &a);
  return nl_talk(nl, nlh, what, err);
}

static int add_address(struct mnl_socket *nl, int index, struct in_addr a, unsigned prefix,
                       const char *what, appc_error_t *err)
{
  return address_request(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, index, a, prefix, what,
                         err);
}

static int add_default_route(struct mnl_socket *nl, int index, struct in_addr gw, appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct rtmsg *rt;
  struct nlmsghdr *nlh =
      nl_msg(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof *rt, (void **) &rt);

  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  rt->rtm_protocol = RTPROT_BOOT;
  rt->rtm_scope = RT_SCOPE_UNIVERSE;
  rt->rtm_type = RTN_UNICAST;
  mnl_attr_put(nlh, RTA_GATEWAY, sizeof gw, &gw);
  mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) index);
  return nl_talk(nl, nlh, "the pod's default route", err);
}

/* ---- the bridge ---- */

/* actool0 as it is: none (F->index 0), or a bridge, anybody's.  A link of
 * that name that is not a bridge is someone else's, and left alone. */
static int find_bridge(struct mnl_socket *nl, struct link_facts *f, appc_error_t *err)
{
  if (link_query(nl, NET_BRIDGE, f) < 0) {
    f->index = 0;
    return errno == ENODEV ? 0 : appc_error_make(err, errno, "netlink: the bridge " NET_BRIDGE);
  }
  if (strcmp(f->kind, "bridge") != 0)
    return appc_error_tag(err, EEXIST,
                          "net: the link " NET_BRIDGE " (kind %s) is not a bridge: actool did not "
                          "make it and does not use it; delete or rename it",
                          f->kind[0] != '\0' ? f->kind : "none");
  return 0;
}

static void format_mac(const uint8_t mac[6], char out[19])
{
  snprintf(out, 19, "%02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5]);
}

/* The hardware address of the eth0 of the pod at A: 02:42, then A's four
 * bytes, as docker makes them (ace_net_attach says why). */
static void pod_mac(struct in_addr a, uint8_t mac[6])
{
  const uint8_t *b = (const uint8_t *) &a.s_addr;

  mac[0] = 0x02;
  mac[1] = 0x42;
  memcpy(mac + 2, b, 4);
}

/* Make the bridge with a hardware address of its own, recorded in
 * NET_HOST/NET_BRIDGE_RECORD before: a bridge actool0 is actool's (gc
 * deletes it) only when it has that address, whenever actool is killed.  A
 * bridge whose address was set keeps it, whatever its ports. */
static int create_bridge(struct mnl_socket *nl, int host, struct link_facts *f, appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE], text[19];
  uint8_t mac[6];
  struct nlmsghdr *nlh;
  struct nlattr *info;

  if (getrandom(mac, sizeof mac, 0) != (ssize_t) sizeof mac)
    return appc_error_make(err, errno, "the bridge " NET_BRIDGE ": a hardware address");
  mac[0] = (uint8_t) ((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
  format_mac(mac, text);
  if (appc_atomic_write_at(host, NET_BRIDGE_RECORD, text, strlen(text), 0644, 0, err) < 0)
    return appc_error_prefix(err, NET_HOST);
  nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, NET_BRIDGE);
  mnl_attr_put(nlh, IFLA_ADDRESS, sizeof mac, mac);
  info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  if (nl_talk(nl, nlh, "the bridge " NET_BRIDGE, err) < 0)
    return -1;
  if (link_query(nl, NET_BRIDGE, f) < 0)
    return appc_error_make(err, errno, "the bridge " NET_BRIDGE);
  return 0;
}

static bool bridge_is_ours(int host, const struct link_facts *f)
{
  cleanup_free char *have = NULL;
  appc_error_t ignored = NULL;
  char want[19];
  size_t len = 0;
  bool ours;

  format_mac(f->mac, want);
  ours = appc_read_file_at(host, NET_BRIDGE_RECORD, 64, APPC_READ_REGULAR | APPC_READ_NOFOLLOW,
                           &have, &len, &ignored) == 0 &&
         strcmp(have, want) == 0;
  appc_error_release(&ignored);
  return ours;
}

static int write_sysctl(const char *path, const char *value, appc_error_t *err);

/* Someone else's bridge serves: its route_localnet, which actool turns on
 * (write_sysctl in ace_net_prepare), is recorded first, once, so that
 * release_bridge puts it back: left on without actool's table (whose
 * localnet guard drops what the bridge sends to 127/8), the host's
 * loopback-only services would be reachable from the bridge's links. */
static int keep_localnet(int host, appc_error_t *err)
{
  cleanup_free char *was = NULL;
  size_t len = 0;

  if (faccessat(host, NET_LOCALNET_RECORD, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return 0;
  if (appc_read_file_at(AT_FDCWD, BRIDGE_LOCALNET, 16, 0, &was, &len, err) < 0)
    return -1;
  return appc_atomic_write_at(host, NET_LOCALNET_RECORD, was, len, 0600, 0, err);
}

/* What keep_localnet recorded back in place ("0", the kernel's default,
 * when an older actool recorded nothing). */
static void restore_localnet(int host)
{
  cleanup_free char *was = NULL;
  appc_error_t ignored = NULL;
  size_t len = 0;

  if (appc_read_file_at(host, NET_LOCALNET_RECORD, 16, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &was,
                        &len, &ignored) < 0 ||
      (len != 2 || (was[0] != '0' && was[0] != '1') || was[1] != '\n')) {
    free(was);
    was = strdup("0\n");
  }
  if (was != NULL && write_sysctl(BRIDGE_LOCALNET, was, &ignored) == 0)
    unlinkat(host, NET_LOCALNET_RECORD, 0);
  appc_error_release(&ignored);
}

/* The bridge, made unless there is one (an admin's may serve: it gets the
 * gateway's address too, as docker uses a docker0 it finds), up, with the
 * gateway's address. */
static int make_bridge(struct mnl_socket *nl, const struct ace_net *n, appc_error_t *err)
{
  struct link_facts f;

  if (find_bridge(nl, &f, err) < 0)
    return -1;
  /* Nor does the host take a route from a router advertisement on the
   * bridge it makes (the guard drops those of pods; this, any other's). */
  if (f.index == 0 && (create_bridge(nl, n->host, &f, err) < 0 ||
                       (access(NET_BRIDGE_ACCEPT_RA, F_OK) == 0 &&
                        write_sysctl(NET_BRIDGE_ACCEPT_RA, "0", err) < 0)))
    return -1;
  if (!bridge_is_ours(n->host, &f) && keep_localnet(n->host, err) < 0)
    return -1;
  if (add_address(nl, f.index, n->gateway, n->prefix, "the bridge's address", err) < 0 ||
      link_up(nl, f.index, 0, "the bridge " NET_BRIDGE, err) < 0)
    return -1;
  return 0;
}

/* The subnet NET_HOST/current names (the bridge's and the table's). */
static int read_current(int host, struct in_addr *net, unsigned *prefix)
{
  cleanup_free char *text = NULL;
  appc_error_t ignored = NULL;
  size_t len = 0;
  int r = appc_read_file_at(host, "current", 64, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text,
                            &len, &ignored);

  appc_error_release(&ignored);
  return r < 0 ? -1 : parse_subnet(text, net, prefix);
}

/* No pod is on the bridge any more (under the lock): actool's goes; one of
 * someone else's only loses the gateway's address that pods had there. */
static void release_bridge(struct mnl_socket *nl, int host)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  appc_error_t ignored = NULL;
  struct link_facts f;
  struct in_addr net;
  unsigned prefix;

  if (link_query(nl, NET_BRIDGE, &f) < 0 || strcmp(f.kind, "bridge") != 0)
    return;
  if (bridge_is_ours(host, &f)) {
    if (nl_talk(nl, link_msg(buf, RTM_DELLINK, 0, f.index), NET_BRIDGE, &ignored) == 0)
      unlinkat(host, NET_BRIDGE_RECORD, 0);
  } else {
    restore_localnet(host);
    if (read_current(host, &net, &prefix) == 0) {
      struct in_addr gateway = {.s_addr = htonl(ntohl(net.s_addr) + 1)};
      (void) address_request(nl, RTM_DELADDR, 0, f.index, gateway, prefix, NET_BRIDGE, &ignored);
    }
  }
  appc_error_release(&ignored);
}

/* ---- the subnet among the host's networks ---- */

static bool same_net(struct in_addr a, struct in_addr b, unsigned prefix)
{
  uint32_t mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));

  return ((a.s_addr ^ b.s_addr) & mask) == 0;
}

#define NL_ATTRS 64 /* more than RTA_MAX and IFA_MAX */

static int attr_table_cb(const struct nlattr *attr, void *data)
{
  const struct nlattr **tb = data;

  if (mnl_attr_get_type(attr) < NL_ATTRS)
    tb[mnl_attr_get_type(attr)] = attr;
  return MNL_CB_OK;
}

/* Send a dump request of TYPE for IPv4 (HEADER: the size of its family
 * header, whose first byte is the family: rtm_family, ifa_family) and pass
 * every answer to CB. */
static int nl_dump(struct mnl_socket *nl, uint16_t type, size_t header, mnl_cb_t cb, void *data,
                   const char *what, appc_error_t *err)
{
  char buf[32768]; /* a dump's messages are up to 32 KiB (libmnl's MNL_SOCKET_DUMP_SIZE) */
  unsigned seq = (unsigned) time(NULL) ^ (unsigned) rand();
  void *family;
  struct nlmsghdr *nlh = nl_msg(buf, type, NLM_F_REQUEST | NLM_F_DUMP, header, &family);
  ssize_t n;
  int r;

  *(uint8_t *) family = AF_INET;
  nlh->nlmsg_seq = seq;
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
    return appc_error_make(err, errno, "netlink: %s", what);
  do {
    n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    r = n < 0 ? -1 : mnl_cb_run(buf, (size_t) n, seq, mnl_socket_get_portid(nl), cb, data);
  } while (r > 0); /* MNL_CB_STOP (0) at the dump's end */
  return r < 0 ? appc_error_make(err, errno, "netlink: %s", what) : 0;
}

/* The first route or address found that overlaps the pods' subnet on
 * another link than the bridge. */
struct overlap {
  const struct ace_net *n;
  int bridge; /* its index; 0 when there is none */
  char what[IFNAMSIZ + 96];
};

static void note_overlap(struct overlap *o, const char *kind, const struct nlattr *at,
                         unsigned prefix, int index, unsigned char type)
{
  char a[INET_ADDRSTRLEN], link[IF_NAMESIZE];
  struct in_addr in;

  if (o->what[0] != '\0' || at == NULL || mnl_attr_get_payload_len(at) != sizeof in ||
      (index > 0 && index == o->bridge))
    return;
  memcpy(&in, mnl_attr_get_payload(at), sizeof in);
  if (!same_net(in, o->n->net, prefix < o->n->prefix ? prefix : o->n->prefix))
    return;
  inet_ntop(AF_INET, &in, a, sizeof a);
  if (index > 0)
    snprintf(o->what, sizeof o->what, "the %s %s/%u on the link %s", kind, a, prefix,
             if_indextoname((unsigned) index, link) != NULL ? link : "(gone)");
  else
    snprintf(o->what, sizeof o->what, "the %s %s %s/%u (on no link)",
             type == RTN_BLACKHOLE     ? "blackhole"
             : type == RTN_UNREACHABLE ? "unreachable"
             : type == RTN_PROHIBIT    ? "prohibit"
                                       : "linkless",
             kind, a, prefix);
}

/* A route of the main table (but a default one, which overlaps every
 * network): its link is its output's, or its first next hop's. */
static int route_cb(const struct nlmsghdr *nlh, void *data)
{
  const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *tb[NL_ATTRS] = {0};
  int index = 0;

  if (nlh->nlmsg_type != RTM_NEWROUTE || rt->rtm_family != AF_INET || rt->rtm_dst_len == 0 ||
      mnl_attr_parse(nlh, sizeof *rt, attr_table_cb, tb) < 0 ||
      (tb[RTA_TABLE] != NULL ? mnl_attr_get_u32(tb[RTA_TABLE]) : rt->rtm_table) != RT_TABLE_MAIN)
    return MNL_CB_OK;
  if (tb[RTA_OIF] != NULL)
    index = (int) mnl_attr_get_u32(tb[RTA_OIF]);
  else if (tb[RTA_MULTIPATH] != NULL &&
           mnl_attr_get_payload_len(tb[RTA_MULTIPATH]) >= sizeof(struct rtnexthop))
    index = ((const struct rtnexthop *) mnl_attr_get_payload(tb[RTA_MULTIPATH]))->rtnh_ifindex;
  note_overlap(data, "route", tb[RTA_DST], rt->rtm_dst_len, index, rt->rtm_type);
  return MNL_CB_OK;
}

/* An address: its network (the peer's on a point-to-point link), and the
 * address itself. */
static int address_cb(const struct nlmsghdr *nlh, void *data)
{
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
  const struct nlattr *tb[NL_ATTRS] = {0};

  if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
      mnl_attr_parse(nlh, sizeof *ifa, attr_table_cb, tb) < 0)
    return MNL_CB_OK;
  note_overlap(data, "address", tb[IFA_ADDRESS], ifa->ifa_prefixlen, (int) ifa->ifa_index,
               RTN_UNICAST);
  note_overlap(data, "address", tb[IFA_LOCAL], 32, (int) ifa->ifa_index, RTN_UNICAST);
  return MNL_CB_OK;
}

/* The pods' subnet is no other network's (a LAN's, a VPN's): the host
 * would send what is for the pods there, their answers and published ports
 * included.  As docker refuses a bridge's subnet that overlaps a route,
 * the pod is refused, naming the address or route of the main table on
 * another link than the bridge (routes there are the pods') that overlaps
 * it, and the configuration to change.  A link actool0 that is no bridge
 * is refused here too (find_bridge), before anything is made. */
static int refuse_overlap(struct mnl_socket *nl, const struct ace_net *n, appc_error_t *err)
{
  struct overlap o = {.n = n};
  char net[INET_ADDRSTRLEN];
  struct link_facts f;

  if (find_bridge(nl, &f, err) < 0)
    return -1;
  o.bridge = f.index;
  if (nl_dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), address_cb, &o, "the host's addresses",
              err) < 0 ||
      (o.what[0] == '\0' &&
       nl_dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), route_cb, &o, "the host's routes", err) < 0))
    return -1;
  if (o.what[0] == '\0')
    return 0;
  inet_ntop(AF_INET, &n->net, net, sizeof net);
  return appc_error_tag(err, EADDRINUSE,
                        "net: the pods' subnet %s/%u overlaps %s: choose another subnet in "
                        "%s/net/" NET_CONFIG " ({\"subnet\": \"A.B.C.D/N\"})",
                        net, n->prefix, o.what, appc_store_path(n->s));
}

static int delete_link(struct mnl_socket *nl, const char *name, appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  int index = (int) if_nametoindex(name);

  if (index == 0)
    return 0;
  return nl_talk(nl, link_msg(buf, RTM_DELLINK, 0, index), name, err);
}

/* ---- sysctls ---- */

static int write_sysctl(const char *path, const char *value, appc_error_t *err)
{
  cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);

  if (fd < 0 || appc_write_all(fd, value, strlen(value)) < 0)
    return appc_error_make(err, errno, "%s", path);
  return 0;
}

/* ---- nftables ---- */

static struct nft_ctx *nft_new(appc_error_t *err)
{
  struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

  if (ctx == NULL) {
    appc_error_make(err, ENOMEM, "nftables");
    return NULL;
  }
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return ctx;
}

/* CMD through CTX; QUIET: -1 alone when it fails. */
static int nft_run(struct nft_ctx *ctx, const char *cmd, bool quiet, appc_error_t *err)
{
  if (nft_run_cmd_from_buffer(ctx, cmd) == 0)
    return 0;
  if (quiet)
    return -1;
  const char *e = nft_ctx_get_error_buffer(ctx);
  return appc_error_make(err, 0, "nftables: %.300s", e != NULL ? e : cmd);
}

static int nft(const char *cmd, bool quiet, appc_error_t *err)
{
  struct nft_ctx *ctx = nft_new(err);
  int r;

  if (ctx == NULL)
    return -1;
  r = nft_run(ctx, cmd, quiet, err);
  nft_ctx_free(ctx);
  return r;
}

/* Does the map send PROTO HOST_PORT to ADDR . POD_PORT?  What gc undoes of
 * a gone pod must be its own: a pod refused a port another pod (of this
 * store or another) publishes has it in its lease too. */
static bool element_is_ours(const struct ace_port_map *p, const char *addr)
{
  struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  char cmd[128], want[NAME_MAX + 16];
  const char *out, *at;
  bool ours = false;

  if (ctx == NULL)
    return false;
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  snprintf(cmd, sizeof cmd, "get element ip " NET_TABLE " %s_ports { %u }", p->proto, p->host_port);
  /* listed as "elements = { HOST_PORT : ADDR . POD_PORT }" */
  snprintf(want, sizeof want, ": %s . %u", addr, p->pod_port);
  if (nft_run_cmd_from_buffer(ctx, cmd) == 0 && (out = nft_ctx_get_output_buffer(ctx)) != NULL &&
      (at = strstr(out, want)) != NULL)
    ours = !isdigit((unsigned char) at[strlen(want)]);
  nft_ctx_free(ctx);
  return ours;
}

static int make_guards(const struct ace_net *n, bool fresh, appc_error_t *err);
static int make_bridge_guard(appc_error_t *err);
static void host_if_name(struct in_addr a, char out[IFNAMSIZ]);

/* The pod's entries in the bridge guard's sets (make_bridge_guard): its
 * port, the hardware address of its eth0 (made of its IPv4 address:
 * ace_net_attach) and its address.  An entry outlives its pod: it lets
 * through only what the next pod at that address, with that port and
 * that hardware address, is allowed anyway. */
static int guard_elements(const struct ace_net *n, char *cmd, size_t size)
{
  char port[IFNAMSIZ], addr[INET_ADDRSTRLEN], mac[19];
  uint8_t bytes[6];

  host_if_name(n->addr, port);
  inet_ntop(AF_INET, &n->addr, addr, sizeof addr);
  pod_mac(n->addr, bytes);
  format_mac(bytes, mac);
  mac[17] = '\0'; /* (without the record's newline) */
  return snprintf(cmd, size,
                  "add element bridge " NET_TABLE " guarded { \"%s\" }\n"
                  "add element bridge " NET_TABLE " ports { \"%s\" . %s }\n"
                  "add element bridge " NET_TABLE " addrs { \"%s\" . %s . %s }\n",
                  port, port, mac, port, mac, addr) < (int) size
             ? 0
             : -1;
}

/* The shared tables, with their guards, and the pod's entries in the
 * bridge guard: one nft call when they are there, as for every pod but the
 * first.  That call adds the entries and "adds" a map of the ip table as it
 * is (nothing is done where it is there), so that the whole call fails where
 * an older actool's gc deleted that table alone.  (A second call costs a
 * start some 1.4 ms here, more than its own 0.3; and an nft command that
 * lists the ip table in the call would narrow nft's cache to that family,
 * where the entries find no table.) */
static int make_table(const struct ace_net *n, appc_error_t *err)
{
  char net[INET_ADDRSTRLEN], elements[384], fast[512];
  cleanup_free char *cmd = NULL;

  if (guard_elements(n, elements, sizeof elements) < 0)
    return appc_error_make(err, ENAMETOOLONG, "nftables");
  snprintf(fast, sizeof fast, "add map ip " NET_TABLE " tcp_ports " NET_PORT_MAP "\n%s", elements);
  if (nft(fast, true, err) == 0)
    return 0;
  if (nft("list chain ip " NET_TABLE " inbound", true, err) == 0)
    return make_bridge_guard(err) < 0 ? -1 : nft(elements, false, err);
  if (nft("list table ip " NET_TABLE, true, err) == 0) /* an older actool's */
    return make_guards(n, false, err) < 0 || make_bridge_guard(err) < 0 ? -1
                                                                        : nft(elements, false, err);
  inet_ntop(AF_INET, &n->net, net, sizeof net);
  if (asprintf(&cmd,
               "table ip " NET_TABLE " {\n"
               "  map tcp_ports " NET_PORT_MAP "\n"
               "  map udp_ports " NET_PORT_MAP "\n"
               "  chain prerouting { type nat hook prerouting priority dstnat;\n"
               "    fib daddr type local dnat ip to tcp dport map @tcp_ports\n"
               "    fib daddr type local dnat ip to udp dport map @udp_ports\n  }\n"
               "  chain output { type nat hook output priority -100;\n"
               "    fib daddr type local dnat ip to tcp dport map @tcp_ports\n"
               "    fib daddr type local dnat ip to udp dport map @udp_ports\n  }\n"
               "  chain postrouting { type nat hook postrouting priority srcnat;\n"
               "    ip saddr %s/%u ip daddr != %s/%u masquerade\n"
               "    ip saddr 127.0.0.0/8 ip daddr %s/%u masquerade\n  }\n"
               "  chain forward { type filter hook forward priority filter;\n"
               "    ip saddr %s/%u accept\n"
               "    ip daddr %s/%u ct state established,related accept\n"
               "    ip daddr %s/%u ct status dnat accept\n  }\n"
               "}\n",
               net, n->prefix, net, n->prefix, net, n->prefix, net, n->prefix, net, n->prefix, net,
               n->prefix) < 0) {
    cmd = NULL;
    return appc_error_make(err, ENOMEM, "nftables");
  }
  return nft(cmd, false, err) < 0 || make_guards(n, true, err) < 0 || make_bridge_guard(err) < 0
             ? -1
             : nft(elements, false, err);
}

/* With route_localnet on the bridge (for the host's own connections to
 * 127.0.0.1:HOSTPORT, which reach a pod by DNAT), the kernel would also take
 * what a pod sends to the host's 127.0.0.0/8 (a raw frame to the bridge's
 * MAC needs only CAP_NET_RAW, in the default set) and hand it to services
 * bound to 127.0.0.1 alone (CVE-2020-8558, kube-proxy's).  Nothing from the
 * bridge is ever for, or from, 127.0.0.0/8 before NAT: the answers to the
 * host's connections come to the bridge's address, and are given 127.0.0.1
 * back only by the nat hook after this one.  The chain is made apart, so
 * that a table an older actool made gets it too (under the lock). */
static int make_localnet_guard(appc_error_t *err)
{
  return nft("table ip " NET_TABLE " {\n"
             "  chain localnet { type filter hook prerouting priority raw;\n"
             "    iifname \"" NET_BRIDGE "\" ip daddr 127.0.0.0/8 drop\n"
             "    iifname \"" NET_BRIDGE "\" ip saddr 127.0.0.0/8 drop\n  }\n"
             "}\n",
             false, err);
}

/* actool turns ip_forward on, which makes the host a router between all its
 * links: a machine that routes the pods' subnet to the host would reach
 * every port of every pod, not only the published ones (the forward chain
 * only accepts).  As docker drops it, what comes toward the subnet from
 * elsewhere than the bridge is dropped unless it was DNATed (a published
 * port) or belongs to a flow under way (the answers to pods' own
 * connections).  A chain of its own, as the localnet guard, so that a
 * table an older actool made gets it too: a drop in any base chain is
 * final, whatever the forward chain accepted. */
static int make_forward_guard(const struct ace_net *n, appc_error_t *err)
{
  char net[INET_ADDRSTRLEN], cmd[512];

  inet_ntop(AF_INET, &n->net, net, sizeof net);
  snprintf(cmd, sizeof cmd,
           "table ip " NET_TABLE " {\n"
           "  chain inbound { type filter hook forward priority filter - 1;\n"
           "    iifname != \"" NET_BRIDGE "\" ip daddr %s/%u"
           " ct state & (established | related) == 0 ct status & dnat == 0 drop\n  }\n"
           "}\n",
           net, n->prefix);
  return nft(cmd, false, err);
}

/* On the bridge, a pod that may forge frames (CAP_NET_RAW, in appc's
 * default set, as in docker's) could otherwise take another pod's place:
 * answer ARP for its address (the host and the other pods would then send
 * it what is for that pod), send from its address, or send from its
 * hardware address, which the bridge would learn on the forger's port.
 * What comes in on a pod's port must come from the hardware address of
 * that pod's eth0, and its ARP and IPv4 from the pod's address (or, for
 * ARP, from no address: an RFC 5227 probe, from which no one learns); ARP
 * that is not Ethernet and IPv4 is dropped, and every frame that is not ARP
 * or IPv4: VLAN-tagged ones, and IPv6, which the pods' network does not
 * serve, whose router advertisements would give the host and the other
 * pods a route through the pod (docker's CVE-2020-13401) and whose
 * neighbour advertisements would do what forged ARP does.  rkt's default
 * network (a point-to-point link per pod) passes no more.  The bridge
 * family's prerouting hook comes before the bridge learns a frame's source.
 * Only the ports of pods that added their entries are guarded: not those of
 * pods an older actool started (their ports were named after their UUIDs,
 * not their addresses), which an upgrade would otherwise cut off from the
 * bridge, nor other ports of a bridge actool0 that someone else made.
 * One table shared by the pods, each adding its entries (guard_elements):
 * a table per pod cost some 10 ms a start. */
static int make_bridge_guard(appc_error_t *err)
{
  /* (the chain's rules flushed first: made again, it has them once) */
  return nft("add table bridge " NET_TABLE "\n"
             "add set bridge " NET_TABLE " guarded { type ifname; }\n"
             "add set bridge " NET_TABLE " ports { type ifname . ether_addr; }\n"
             "add set bridge " NET_TABLE " addrs { type ifname . ether_addr . ipv4_addr; }\n"
             "add chain bridge " NET_TABLE " guard { type filter hook prerouting priority -300; }\n"
             "flush chain bridge " NET_TABLE " guard\n"
             "table bridge " NET_TABLE " {\n"
             "  chain guard {\n"
             "    iifname != @guarded accept\n"
             "    iifname . ether saddr != @ports drop\n"
             "    ether type != { ip, arp } drop\n"
             "    ether type arp arp htype != 1 drop\n"
             "    ether type arp arp ptype != ip drop\n"
             "    ether type arp arp hlen != 6 drop\n"
             "    ether type arp arp plen != 4 drop\n"
             "    ether type arp arp saddr ip 0.0.0.0 iifname . arp saddr ether @ports accept\n"
             "    ether type arp iifname . arp saddr ether . arp saddr ip != @addrs drop\n"
             "    ether type ip iifname . ether saddr . ip saddr != @addrs drop\n  }\n"
             "}\n",
             false, err);
}

/* The guards of the shared table (FRESH: just made), under the lock: those
 * a table an older actool made lacks are added. */
static int make_guards(const struct ace_net *n, bool fresh, appc_error_t *err)
{
  if ((fresh || nft("list chain ip " NET_TABLE " localnet", true, err) < 0) &&
      make_localnet_guard(err) < 0)
    return -1;
  return make_forward_guard(n, err);
}

/* ---- leases ---- */

/* Whether the veth pair of an earlier pod at A is still there: one whose
 * network namespace something holds (an operator's `nsenter --net`)
 * outlives its pod, and its lease, with A and A's MAC on the bridge; a new
 * pod at A would share both (until gc deletes it: sweep_pairs).  One that
 * the kernel is still unregistering is gone within some 30 ms. */
static bool pair_left(struct in_addr a)
{
  char name[IFNAMSIZ];

  host_if_name(a, name);
  return if_nametoindex(name) != 0;
}

/* The first free address's lease, under the lock.  The file takes its name
 * with the UUID already in it (linked, never replacing), so that no lease
 * is ever seen empty, whenever actool is killed. */
static int take_lease(struct ace_net *n, appc_error_t *err)
{
  uint32_t base = ntohl(n->net.s_addr), size = 1u << (32 - n->prefix);
  struct appc_tempfile t = APPC_TEMPFILE_INIT;
  cleanup_close int dir = -1;
  int r = -1;

  char head[APPC_UUID_LEN + ACE_RUNTIME_KEY_MAX + 16];
  int head_len = snprintf(head, sizeof head, "%s\nstore %s\n", n->uuid, n->key);

  if (mkdirat(n->host, NET_LEASES, 0700) < 0 && errno != EEXIST)
    return appc_error_make(err, errno, NET_HOST "/" NET_LEASES);
  dir = openat(n->host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (dir < 0)
    return appc_error_make(err, errno, NET_HOST "/" NET_LEASES);
  if (appc_tempfile_open(&t, dir, "lease", 0600) < 0 || fchmod(t.fd, 0600) < 0 ||
      appc_write_all(t.fd, head, (size_t) head_len) < 0) {
    appc_error_make(err, errno, NET_HOST "/" NET_LEASES ": a new lease");
    goto out;
  }
  /* .0 is the network, .1 the gateway, the last the broadcast address.  An
   * address whose earlier pod's veth pair is still there goes last (pair_left). */
  for (int pass = 0; pass < 2 && r < 0; pass++)
    for (uint32_t i = 2; i + 1 < size && r < 0; i++) {
      struct in_addr a = {.s_addr = htonl(base + i)};
      char name[INET_ADDRSTRLEN];
      if (pass == 0 && pair_left(a))
        continue;
      inet_ntop(AF_INET, &a, name, sizeof name);
      if (appc_tempfile_install(&t, name, APPC_WRITE_NOREPLACE) == 0) {
        n->addr = a;
        n->leased = true;
        r = 0;
      } else if (errno != EEXIST) {
        appc_error_make(err, errno, NET_HOST "/" NET_LEASES "/%s", name);
        goto out;
      }
    }
  if (r < 0)
    appc_error_make(err, EADDRNOTAVAIL, "net: every address of the pods' subnet is taken");
out:
  appc_tempfile_discard(&t);
  return r;
}

/* The lease's text: the UUID, "store KEY", then one "PROTO HOSTPORT
 * PODPORT" line per published port (what gc undoes). */
static int write_lease(const struct ace_net *n, appc_error_t *err)
{
  char name[INET_ADDRSTRLEN], *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  cleanup_close int dir = openat(n->host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int r;

  if (f == NULL || dir < 0) {
    if (f != NULL)
      fclose(f);
    free(text);
    return appc_error_make(err, errno ? errno : ENOMEM, NET_HOST "/" NET_LEASES);
  }
  fprintf(f, "%s\nstore %s\n", n->uuid, n->key);
  for (size_t i = 0; i < n->n_ports; i++)
    fprintf(f, "%s %u %u\n", n->ports[i].proto, n->ports[i].host_port, n->ports[i].pod_port);
  fclose(f);
  inet_ntop(AF_INET, &n->addr, name, sizeof name);
  r = appc_atomic_write_at(dir, name, text, len, 0600, 0, err);
  free(text);
  return r;
}

/* ---- ports ---- */

/* Remove P's host port from the shared table's map, where older actools
 * mapped published ports (through CTX, or a context of its own). */
static int delete_element(struct nft_ctx *ctx, const struct ace_port_map *p, bool quiet,
                          appc_error_t *err)
{
  char cmd[128];

  snprintf(cmd, sizeof cmd, "delete element ip " NET_TABLE " %s_ports { %u }", p->proto,
           p->host_port);
  return ctx != NULL ? nft_run(ctx, cmd, quiet, err) : nft(cmd, quiet, err);
}

static bool port_holder(int host, const struct ace_port_map *p, const char *own_key,
                        const char *self, char uuid[APPC_UUID_LEN + 1], bool *alive);
static void gc_leases(int root, int leases, const char *own_key, bool host_wide);

/* The ports of pod N that a pod still running publishes (its lease names
 * them: its table made, or being deleted as it stops) are refused, naming
 * it.  Under the net lock, before N's lease names them in turn: of pods
 * starting side by side, the first to get here has the port.  (TCP ports
 * are reserved with SO_REUSEADDR, which lets concurrent binds through
 * until listen: two tables must never map one port.) */
static int refuse_held_ports(const struct ace_net *n, appc_error_t *err)
{
  char holder[APPC_UUID_LEN + 1];

  for (size_t i = 0; i < n->n_ports; i++) {
    const struct ace_port_map *p = &n->ports[i];
    bool alive = false;
    if (port_holder(n->host, p, n->key, n->uuid, holder, &alive) && alive)
      return appc_error_tag(err, EADDRINUSE,
                            "published port %u/%s: in use on the host: pod %s publishes it",
                            p->host_port, p->proto, holder);
  }
  return 0;
}

/* The shared table's map may still have an element for P, an older
 * actool's: its pod died (its actool was killed; gc would remove it) or it
 * is nobody's, since pod N holds the port (refuse_held_ports, reserve_ports),
 * and it goes.  Left there, it would send the port's clients to a dead
 * address once N ended. */
static int take_over_port(const struct ace_net *n, const struct ace_port_map *p, appc_error_t *err)
{
  char cmd[128];

  snprintf(cmd, sizeof cmd, "get element ip " NET_TABLE " %s_ports { %u }", p->proto, p->host_port);
  if (nft_run(n->own, cmd, true, err) < 0)
    return 0; /* none */
  return delete_element(n->own, p, false, err) < 0
             ? appc_error_prefix(err, "published port %u/%s", p->host_port, p->proto)
             : 0;
}

/* The netfilter netlink sockets among this process's descriptors, into
 * FDS (MAX at most); how many there are. */
static size_t netfilter_sockets(int *fds, size_t max)
{
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  size_t n = 0;

  if (d == NULL)
    return 0;
  while ((e = readdir(d)) != NULL) {
    int fd = atoi(e->d_name), domain = 0, protocol = 0;
    if (e->d_name[0] == '.' || fd == dirfd(d) ||
        getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &(socklen_t){sizeof domain}) < 0 ||
        domain != AF_NETLINK ||
        getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &(socklen_t){sizeof protocol}) < 0 ||
        protocol != NETLINK_NETFILTER)
      continue;
    if (n < max)
      fds[n] = fd;
    n++;
  }
  closedir(d);
  return n;
}

/* The table's life is its socket's (flags owner), which libnftables opens
 * in nft_ctx_new without close-on-exec and does not show: it is the
 * netfilter netlink socket that appeared since BEFORE (N_BEFORE of them,
 * those this process had, a caller's included, before the context was
 * made; P frees every other context at once, and its one other thread,
 * which makes the pod's network namespace, has ended).  Marked
 * close-on-exec, and closed by the processes P forks
 * (ace_net_close_in_child), no process but P keeps the table: were one to
 * (the metadata service outlives pods), a dead pod's rules would stay
 * with it. */
static int own_sockets(struct ace_net *n, const int *before, size_t n_before, appc_error_t *err)
{
  int now[NET_FDS_SEEN];
  size_t n_now = netfilter_sockets(now, NET_FDS_SEEN);

  for (size_t i = 0; i < n_now && i < NET_FDS_SEEN; i++) {
    bool old = false;
    for (size_t k = 0; k < n_before && !old; k++)
      old = before[k] == now[i];
    if (old)
      continue;
    if (n->n_own_fds == NET_OWN_FDS)
      return appc_error_tag(err, EMFILE, "nftables: more new sockets than one context has");
    if (fcntl(now[i], F_SETFD, FD_CLOEXEC) < 0)
      return appc_error_make(err, errno, "nftables: the socket of table ip %s", n->table);
    n->own_fds[n->n_own_fds++] = now[i];
  }
  if (n->n_own_fds == 0)
    return appc_error_tag(err, ENOTSOCK,
                          "nftables: no socket of this process holds table ip %s, which lives "
                          "as long as the one that made it (flags owner)",
                          n->table);
  return 0;
}

/* Pod N's own table: its published ports mapped to ADDR (DNAT), for
 * packets that come in and the host's own, a moment before the shared
 * table's chains (priority -100), whose map may still send a port elsewhere
 * (an older actool's element).  Made through N->own, which P keeps until
 * the pod ends: the kernel removes the table when its socket closes, with P
 * however P ends.
 *
 * What the pod sends to its own published port through the host's
 * addresses (the bridge's, or another) is masqueraded once DNATed to it,
 * or the pod would drop a packet from its own address (docker masquerades
 * that one too).  Another pod's is masqueraded only where no br_netfilter
 * hands bridged frames to the IP hooks: the answer would go straight over
 * the bridge, from an address that pod never asked, not back through
 * conntrack, and the connection would fail.  With br_netfilter, as on a
 * host where docker runs, the app sees the other pod's own address, as
 * docker's userland proxy turned off shows it.  Only what was DNATed:
 * pods' traffic to each other's addresses keeps its source anyway. */
static bool bridge_calls_ip_hooks(void)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  appc_error_t ignored = NULL;
  bool on = appc_read_file_at(AT_FDCWD, "/proc/sys/net/bridge/bridge-nf-call-iptables", 16, 0,
                              &text, &len, &ignored) == 0 &&
            len > 0 && text[0] == '1';

  appc_error_release(&ignored);
  return on;
}

static int make_pod_table(struct ace_net *n, const char *addr, appc_error_t *err)
{
  static const char *const hooks[] = {"prerouting", "output"};
  cleanup_free char *cmd = NULL;
  char net[INET_ADDRSTRLEN];
  size_t len = 0;
  FILE *f = open_memstream(&cmd, &len);

  if (f == NULL)
    return appc_error_make(err, ENOMEM, "nftables");
  inet_ntop(AF_INET, &n->net, net, sizeof net);
  fprintf(f, "table ip %s {\n  flags owner\n", n->table);
  for (size_t h = 0; h < 2; h++) {
    fprintf(f, "  chain %s {\n    type nat hook %s priority -101;\n", hooks[h], hooks[h]);
    for (size_t i = 0; i < n->n_ports; i++)
      fprintf(f, "    fib daddr type local %s dport %u dnat ip to %s:%u\n", n->ports[i].proto,
              n->ports[i].host_port, addr, n->ports[i].pod_port);
    fprintf(f, "  }\n");
  }
  /* whose hairpinned traffic: the pod's alone, or the subnet's */
  bool own_only = bridge_calls_ip_hooks();
  fprintf(f,
          "  chain postrouting {\n    type nat hook postrouting priority 99;\n"
          "    ip saddr %s/%u ip daddr %s ct status dnat masquerade\n  }\n",
          own_only ? addr : net, own_only ? 32u : n->prefix, addr);
  fprintf(f, "}\n");
  if (fclose(f) != 0)
    return appc_error_make(err, ENOMEM, "nftables");
  if (nft_run(n->own, cmd, false, err) < 0) {
    /* an older kernel: the flag unknown (EOPNOTSUPP) or refused (EINVAL) */
    if (strstr((*err)->msg, "not supported") != NULL ||
        strstr((*err)->msg, "Invalid argument") != NULL)
      return appc_error_prefix(err, "table ip %s (flags owner: Linux 5.12 or later)", n->table);
    return appc_error_prefix(err, "table ip %s", n->table);
  }
  return 0;
}

/* Each published port is bound on the host for as long as the pod runs: a
 * port that a service of the host (or another pod) has is refused, as
 * docker refuses it, rather than taken from it by the pod's DNAT rule, and
 * nothing takes it while the pod has it (as podman reserves its ports).  A
 * TCP port is bound with SO_REUSEADDR, as Go's listeners (docker's,
 * podman's) are, so that one with only TIME-WAIT connections left is free
 * (rather than for a minute); a listener on it still refuses it.  Since
 * only a listener keeps other SO_REUSEADDR sockets off a TCP port,
 * hold_ports listens on it once its DNAT rule is there (no connection ever
 * reaches it then; before, one would have waited in its queue). */
static int reserve_ports(struct ace_net *n, appc_error_t *err)
{
  for (size_t i = 0; i < n->n_ports; i++) {
    const struct ace_port_map *p = &n->ports[i];
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(p->host_port),
                             .sin_addr.s_addr = htonl(INADDR_ANY)};
    int type = strcmp(p->proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    int one = 1;

    if (fd < 0 ||
        (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) ||
        bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
      int e = errno;
      char holder[APPC_UUID_LEN + 1];
      bool alive = false;
      cleanup_close int host = e == EADDRINUSE ? host_net_open(false, err) : -1;
      if (fd >= 0)
        close(fd);
      appc_error_release(err);
      if (host >= 0 && port_holder(host, p, n->key, n->uuid, holder, &alive) && alive)
        return appc_error_tag(err, e,
                              "published port %u/%s: in use on the host: pod %s publishes it",
                              p->host_port, p->proto, holder);
      return appc_error_make(err, e, "published port %u/%s: %s", p->host_port, p->proto,
                             e == EADDRINUSE ? "in use on the host (by a service, or a pod that "
                                               "publishes it)"
                                             : "cannot be bound on the host");
    }
    n->reserved[i] = fd;
  }
  return 0;
}

/* The reserved TCP ports listened on (reserve_ports), once mapped. */
static int hold_ports(struct ace_net *n, appc_error_t *err)
{
  for (size_t i = 0; i < n->n_ports; i++)
    if (n->reserved[i] >= 0 && strcmp(n->ports[i].proto, "tcp") == 0 &&
        listen(n->reserved[i], 1) < 0)
      return appc_error_make(err, errno, "published port %u/tcp: %s", n->ports[i].host_port,
                             errno == EADDRINUSE ? "taken on the host while the pod started"
                                                 : "cannot be held on the host");
  return 0;
}

/* ---- conntrack ---- */

#define CT_DUMP_SIZE 32768 /* a dump's datagrams: MNL_SOCKET_DUMP_SIZE (libmnl 1.0.5) */

/* The attribute TYPE in the nest NEST, or NULL. */
static const struct nlattr *ct_nested(const struct nlattr *nest, uint16_t type)
{
  const struct nlattr *a;

  mnl_attr_for_each_nested(a, nest)
  {
    if (mnl_attr_get_type(a) == type)
      return a;
  }
  return NULL;
}

struct ct_forget {
  struct mnl_socket *nl; /* where entries are deleted */
  uint16_t port;         /* the host port, network order */
  int error;             /* the first deletion's that failed, but for a gone entry */
  /* the host's addresses (127/8 aside), which the DNAT rule maps: the
   * host's own flows to a remote host's port of that number are left */
  struct in_addr *local;
  size_t n_local;
};

/* The IPv4 addresses of the host's links into F. */
static int ct_host_addresses(struct ct_forget *f, appc_error_t *err)
{
  struct ifaddrs *all = NULL;

  if (getifaddrs(&all) < 0)
    return appc_error_make(err, errno, "conntrack: the host's addresses");
  for (struct ifaddrs *a = all; a != NULL; a = a->ifa_next) {
    if (a->ifa_addr == NULL || a->ifa_addr->sa_family != AF_INET)
      continue;
    if (APPC_ARRAY_EXTEND(f->local, f->n_local, 1) < 0) {
      freeifaddrs(all);
      return appc_error_make(err, ENOMEM, "conntrack: the host's addresses");
    }
    f->local[f->n_local++] = ((const struct sockaddr_in *) (const void *) a->ifa_addr)->sin_addr;
  }
  freeifaddrs(all);
  return 0;
}

/* Whether the original tuple ORIG goes to one of the host's addresses. */
static bool ct_to_host(const struct ct_forget *f, const struct nlattr *orig)
{
  const struct nlattr *ip = ct_nested(orig, CTA_TUPLE_IP), *dst;

  if (ip == NULL || (dst = ct_nested(ip, CTA_IP_V4_DST)) == NULL ||
      mnl_attr_validate(dst, MNL_TYPE_U32) < 0)
    return false;
  uint32_t addr = mnl_attr_get_u32(dst);
  if ((ntohl(addr) >> 24) == 127)
    return true;
  for (size_t i = 0; i < f->n_local; i++)
    if (f->local[i].s_addr == addr)
      return true;
  return false;
}

/* A copy of the attribute A at the end of NLH (in a buffer of SIZE). */
static void ct_copy(struct nlmsghdr *nlh, size_t size, const struct nlattr *a)
{
  if (a != NULL && nlh->nlmsg_len + MNL_ALIGN(a->nla_len) <= size) {
    memcpy(mnl_nlmsg_get_payload_tail(nlh), a, a->nla_len);
    nlh->nlmsg_len += MNL_ALIGN(a->nla_len);
  }
}

/* A ctnetlink message of TYPE in BUF, for IPv4. */
static struct nlmsghdr *ct_msg(char *buf, uint8_t type, uint16_t flags)
{
  struct nfgenmsg *nfg;
  struct nlmsghdr *nlh =
      nl_msg(buf, (NFNL_SUBSYS_CTNETLINK << 8) | type, flags, sizeof *nfg, (void **) &nfg);

  nfg->nfgen_family = AF_INET;
  nfg->version = NFNETLINK_V0;
  return nlh;
}

/* A dumped entry: deleted (by its original tuple, in its zone) when it is
 * a UDP flow to the port. */
static int ct_forget_cb(const struct nlmsghdr *nlh, void *data)
{
  struct ct_forget *f = data;
  const struct nlattr *a, *orig = NULL, *zone = NULL, *proto, *num, *port;
  char buf[MNL_SOCKET_BUFFER_SIZE];
  appc_error_t err = NULL;

  mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
  {
    if (mnl_attr_get_type(a) == CTA_TUPLE_ORIG)
      orig = a;
    else if (mnl_attr_get_type(a) == CTA_ZONE)
      zone = a;
  }
  if (orig == NULL || (proto = ct_nested(orig, CTA_TUPLE_PROTO)) == NULL ||
      (num = ct_nested(proto, CTA_PROTO_NUM)) == NULL || mnl_attr_validate(num, MNL_TYPE_U8) < 0 ||
      mnl_attr_get_u8(num) != IPPROTO_UDP ||
      (port = ct_nested(proto, CTA_PROTO_DST_PORT)) == NULL ||
      mnl_attr_validate(port, MNL_TYPE_U16) < 0 || mnl_attr_get_u16(port) != f->port ||
      !ct_to_host(f, orig))
    return MNL_CB_OK;
  struct nlmsghdr *del = ct_msg(buf, IPCTNL_MSG_CT_DELETE, 0);
  ct_copy(del, sizeof buf, orig);
  ct_copy(del, sizeof buf, zone);
  /* an entry gone meanwhile (it timed out) is no failure */
  if (nl_talk(f->nl, del, "conntrack", &err) < 0 && err->errnum != ENOENT && f->error == 0)
    f->error = err->errnum ? err->errnum : EIO;
  appc_error_release(&err);
  return MNL_CB_OK;
}

/* The kernel's own filter of a dump (CTA_FILTER, Linux 5.9; the flags are
 * the kernel's CTA_FILTER_F_*, which the uapi headers lack): only entries
 * whose original tuple is UDP to PORT (network order) come over, not the
 * whole table, which a busy host's is (with 50,000 entries a start took
 * 145 ms more dumping them all, 17 ms filtered: docs/executor.md). */
#define CT_FILTER_PROTO_NUM (1U << 3)
#define CT_FILTER_PROTO_DST_PORT (1U << 5)

static void ct_put_filter(struct nlmsghdr *nlh, uint16_t port)
{
  struct nlattr *filter = mnl_attr_nest_start(nlh, CTA_FILTER);
  mnl_attr_put_u32(nlh, CTA_FILTER_ORIG_FLAGS, CT_FILTER_PROTO_NUM | CT_FILTER_PROTO_DST_PORT);
  mnl_attr_nest_end(nlh, filter);
  struct nlattr *orig = mnl_attr_nest_start(nlh, CTA_TUPLE_ORIG);
  struct nlattr *proto = mnl_attr_nest_start(nlh, CTA_TUPLE_PROTO);
  mnl_attr_put_u8(nlh, CTA_PROTO_NUM, IPPROTO_UDP);
  mnl_attr_put_u16(nlh, CTA_PROTO_DST_PORT, port);
  mnl_attr_nest_end(nlh, proto);
  mnl_attr_nest_end(nlh, orig);
}

/* Dump the conntrack table over DUMP (FILTERED: only F's port's entries,
 * ct_put_filter) into ct_forget_cb, which still checks each entry (a kernel
 * before 5.9 ignores the filter).  MNL_CB_STOP at the dump's end, or
 * MNL_CB_ERROR with errno; *REFUSED when the kernel's first answer refused
 * the request itself. */
static int ct_dump(struct mnl_socket *dump, struct ct_forget *f, bool filtered, bool *refused)
{
  char buf[CT_DUMP_SIZE];
  unsigned seq = (unsigned) time(NULL) ^ (unsigned) rand();
  struct nlmsghdr *nlh = ct_msg(buf, IPCTNL_MSG_CT_GET, NLM_F_REQUEST | NLM_F_DUMP);
  bool first = true;
  int r;

  nlh->nlmsg_seq = seq;
  if (filtered)
    ct_put_filter(nlh, f->port);
  *refused = false;
  r = mnl_socket_sendto(dump, nlh, nlh->nlmsg_len) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
  while (r == MNL_CB_OK) {
    ssize_t len = mnl_socket_recvfrom(dump, buf, sizeof buf);
    r = len < 0 ? MNL_CB_ERROR
                : mnl_cb_run(buf, (size_t) len, seq, mnl_socket_get_portid(dump), ct_forget_cb, f);
    *refused = first && len >= 0 && r == MNL_CB_ERROR;
    first = false;
  }
  return r;
}

/* Whether E, the errno of opening a netfilter netlink socket (DUMP false)
 * or of the kernel's answer to the dump request (DUMP true), says that the
 * kernel has no ctnetlink: no nfnetlink at all (socket(2) says
 * EPROTONOSUPPORT), or nf_conntrack_netlink neither built in nor loadable
 * (nfnetlink answers a request of a subsystem it does not know with
 * EINVAL; the dump request is a bare one, nothing else in it can be
 * invalid; EOPNOTSUPP and ENOENT as docker takes them).  Any other failure
 * (EPERM, ENOBUFS, ENOMEM) means something is wrong, and stays fatal. */
static bool ct_unavailable(int e, bool dump)
{
  return e == EPROTONOSUPPORT || e == EOPNOTSUPP ||
         (dump && (e == EINVAL || e == ENOENT || e == EAFNOSUPPORT));
}

/* Delete the conntrack entries of UDP flows to host port PORT.  A client
 * that was sending to it before the pod published it (a syslog or statsd
 * client, from one socket) has an entry made before the DNAT rule: its
 * datagrams would go on reaching the host (the reserving socket) and never
 * the pod, for as long as it sends.  Done once the rule is there, as docker
 * and CNI's portmap do, but only for flows to the host's own addresses, which
 * the rule maps (docker's take the host's DNS queries to remote port 53
 * too); TCP needs nothing (a new connection, a new entry).  1 (and ERR)
 * when the kernel has no ctnetlink (ct_unavailable): nothing was deleted,
 * but the pod may start, as docker's do. */
static int forget_udp_port(uint16_t port, appc_error_t *err)
{
  struct ct_forget f = {.port = htons(port)};
  cleanup_free struct in_addr *local = NULL;
  struct mnl_socket *dump = NULL;
  bool refused;
  int r, e;

  r = ct_host_addresses(&f, err);
  local = f.local;
  if (r < 0)
    return appc_error_prefix(err, "published port %u/udp", port);
  dump = nl_open_bus(NETLINK_NETFILTER, "conntrack: netlink", err);
  if (dump == NULL || (f.nl = nl_open_bus(NETLINK_NETFILTER, "conntrack: netlink", err)) == NULL) {
    if (dump != NULL)
      mnl_socket_close(dump);
    return ct_unavailable((*err)->errnum, false)
               ? 1
               : appc_error_prefix(err, "published port %u/udp", port);
  }
  /* a kernel before 5.9 ignores the filter; one that refuses it (or has no
   * ctnetlink) is asked for the whole table */
  r = ct_dump(dump, &f, true, &refused);
  if (r == MNL_CB_ERROR && refused)
    r = ct_dump(dump, &f, false, &refused);
  e = r == MNL_CB_ERROR ? errno : f.error; /* r is MNL_CB_STOP otherwise: the dump's end */
  mnl_socket_close(dump);
  mnl_socket_close(f.nl);
  if (r == MNL_CB_STOP && e == 0)
    return 0;
  if (refused && ct_unavailable(e, true)) {
    appc_error_make(err, e, "conntrack: the dump of its entries");
    return 1;
  }
  return appc_error_make(err, e ? e : EIO,
                         "published port %u/udp: conntrack: the entries of its flows", port);
}

/* Pod N's UDP ports: forget_udp_port.  Where the kernel has no ctnetlink
 * the pod starts all the same, as docker's do, with a warning naming what
 * was not done and why. */
static int forget_udp_flows(const struct ace_net *n, const struct ace_notes *notes,
                            appc_error_t *err)
{
  for (size_t i = 0; i < n->n_ports; i++) {
    if (strcmp(n->ports[i].proto, "udp") != 0)
      continue;
    int r = forget_udp_port(n->ports[i].host_port, err);
    if (r < 0)
      return -1;
    if (r > 0) {
      ace_note(notes, ACE_NOTE_WARN,
               "published port %u/udp: the conntrack entries of flows to it not deleted (%s: "
               "no ctnetlink in the kernel, nf_conntrack_netlink): a client that was sending "
               "to it before keeps reaching the host, not the pod, until its entry expires",
               n->ports[i].host_port, (*err)->msg);
      appc_error_release(err);
    }
  }
  return 0;
}

/* ---- the whole ---- */

/* Whether a pod's veth is on the bridge (an admin's bridge that serves may
 * have ports of its own). */
static bool pods_on_bridge(void)
{
  DIR *d = opendir("/sys/class/net/" NET_BRIDGE "/brif");
  bool found = false;
  struct dirent *e;

  while (d != NULL && !found && (e = readdir(d)) != NULL)
    found = strncmp(e->d_name, NET_VETH, strlen(NET_VETH)) == 0;
  if (d != NULL)
    closedir(d);
  return found;
}

/* A pod is on the bridge: a pod of another store (another --dir), or one
 * of ours that has just ended, whose veth the kernel is unregistering in
 * the background (some 10 to 30 ms after run returns, more on a busy
 * host).  Only what is still there after BRIDGE_SETTLE_MS is taken for the
 * first. */
static bool bridge_in_use(void)
{
  int64_t deadline = appc_monotonic_ms() + BRIDGE_SETTLE_MS;

  while (pods_on_bridge()) {
    if (appc_monotonic_ms() >= deadline)
      return true;
    nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
  }
  return false;
}

/* The bridge and the table go when no pod of any store has a lease any
 * more (under the lock). */
static void remove_if_unused(int host)
{
  cleanup_close int dir = openat(host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  appc_error_t ignored = NULL;
  struct mnl_socket *nl;

  if (dir >= 0 && !appc_dir_is_empty(dir, "."))
    return;
  if (bridge_in_use())
    return;
  /* the bridge first: someone else's gets its route_localnet back before
   * the table's guard goes */
  if ((nl = nl_open(&ignored)) != NULL) {
    release_bridge(nl, host);
    mnl_socket_close(nl);
  }
  appc_error_release(&ignored);
  /* the bridge guard goes too: no pod is left for it to guard */
  (void) nft("delete table bridge " NET_TABLE, true, &ignored);
  (void) nft("delete table ip " NET_TABLE, true, &ignored);
  unlinkat(host, "current", 0);
  appc_error_release(&ignored);
}

/* The bridge and table were made for the subnet in NET_HOST/current; when
 * the store's configuration names another one, they are made again, unless
 * pods (of any store) still use them. */
static int check_current(struct ace_net *n, appc_error_t *err)
{
  char want[INET_ADDRSTRLEN + 8], net[INET_ADDRSTRLEN];
  cleanup_free char *have = NULL;
  size_t len = 0;
  appc_error_t ignored = NULL;

  inet_ntop(AF_INET, &n->net, net, sizeof net);
  snprintf(want, sizeof want, "%s/%u", net, n->prefix);
  if (appc_read_file_at(n->host, "current", 64, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &have, &len,
                        &ignored) == 0 &&
      strcmp(have, want) != 0) {
    cleanup_close int leases = openat(n->host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (leases >= 0 && !appc_dir_is_empty(leases, ".")) {
      appc_error_release(&ignored);
      return appc_error_make(err, EBUSY,
                             "net: the subnet is %s now, but running pods use %s: stop them "
                             "(and run gc) first",
                             want, have);
    }
    remove_if_unused(n->host);
  }
  appc_error_release(&ignored);
  return appc_atomic_write_at(n->host, "current", want, strlen(want), 0644, 0, err);
}

/* What pods whose actool was killed left (their leases and links, and the
 * shared map's elements of older actools' pods), which gc would undo, is
 * undone before a pod takes its address and ports (under the lock): such
 * an element must not keep its ports from a new pod, nor send a host's
 * service's clients to nowhere, until gc.  (A pod's own table went with
 * its actool.) */
static void sweep_dead(const struct ace_net *n)
{
  appc_error_t ignored = NULL;
  cleanup_close int root = ace_runtime_root_open(&ignored);
  cleanup_close int leases = openat(n->host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (root >= 0 && leases >= 0)
    gc_leases(root, leases, n->key, true);
  appc_error_release(&ignored);
}

int ace_net_prepare(struct appc_store *s, const char *uuid, const struct ace_port_map *ports,
                    size_t n_ports, struct ace_net **out, appc_error_t *err)
{
  struct ace_net *n = calloc(1, sizeof *n);
  struct mnl_socket *nl = NULL;
  int lock = -1, r = -1;

  *out = NULL;
  if (n == NULL)
    return appc_error_make(err, ENOMEM, "net");
  n->s = s;
  n->area = n->host = -1;
  snprintf(n->uuid, sizeof n->uuid, "%s", uuid);
  snprintf(n->table, sizeof n->table, NET_POD_TABLE "%s", uuid);
  if (appc_lazy_bind(APPC_LAZY_MNL, err) < 0 || appc_lazy_bind(APPC_LAZY_NFTABLES, err) < 0)
    goto out;
  if (n_ports > 0 && ((n->ports = calloc(n_ports, sizeof *ports)) == NULL ||
                      (n->reserved = malloc(n_ports * sizeof *n->reserved)) == NULL)) {
    appc_error_make(err, ENOMEM, "net");
    goto out;
  }
  for (size_t i = 0; i < n_ports; i++) {
    n->ports[i] = ports[i];
    n->reserved[i] = -1;
  }
  n->n_ports = n_ports;
  if (reserve_ports(n, err) < 0)
    goto out;
  if (ace_runtime_key(s, n->key, err) < 0 ||
      (n->area = appc_store_area_open(s, APPC_STORE_AREA_NET, true, err)) < 0 ||
      read_config(n, err) < 0 || (n->host = host_net_open(true, err)) < 0 ||
      (lock = net_lock(n->host, err)) < 0)
    goto out;
  sweep_dead(n);
  if (refuse_held_ports(n, err) == 0 && (nl = nl_open(err)) != NULL &&
      refuse_overlap(nl, n, err) == 0 && check_current(n, err) == 0 && take_lease(n, err) == 0 &&
      make_bridge(nl, n, err) == 0 &&
      write_sysctl("/proc/sys/net/ipv4/ip_forward", "1", err) == 0 && make_table(n, err) == 0 &&
      write_sysctl("/proc/sys/net/ipv4/conf/" NET_BRIDGE "/route_localnet", "1", err) == 0 &&
      write_lease(n, err) == 0)
    r = 0;
out:
  if (nl != NULL)
    mnl_socket_close(nl);
  if (lock >= 0)
    close(lock);
  if (r < 0) {
    ace_net_release(n, true);
    return -1;
  }
  *out = n;
  return 0;
}

int ace_net_enter_pod(struct ace_net *n, appc_error_t *err)
{
  n->pod_nl = nl_open(err);
  return n->pod_nl != NULL ? 0 : -1;
}

/* The host's end of the veth pair of the pod at address A: acv + A's 8 hex
 * digits, so that the pair an earlier pod at A left is known (take_lease,
 * sweep_pairs).  (An older actool named it after the pod's UUID's first 8
 * hex digits: old_if_name.) */
static void host_if_name(struct in_addr a, char out[IFNAMSIZ])
{
  snprintf(out, IFNAMSIZ, NET_VETH "%08x", (unsigned) ntohl(a.s_addr));
}

static void old_if_name(const char *uuid, char out[IFNAMSIZ])
{
  snprintf(out, IFNAMSIZ, NET_VETH "%.8s", uuid);
}

/* Delete the link NAME, the host's end of a veth pair (and so the pair). */
static void delete_pair(const char *name)
{
  appc_error_t ignored = NULL;
  struct mnl_socket *nl = nl_open(&ignored);

  if (nl != NULL) {
    (void) delete_link(nl, name, &ignored);
    mnl_socket_close(nl);
  }
  appc_error_release(&ignored);
}

int ace_net_attach(struct ace_net *n, int netns_fd, const struct ace_notes *notes,
                   appc_error_t *err)
{
  char buf[MNL_SOCKET_BUFFER_SIZE], host_if[IFNAMSIZ], addr[INET_ADDRSTRLEN];
  struct mnl_socket *nl = nl_open(err);
  struct nlmsghdr *nlh;
  struct nlattr *info, *data, *peer;
  struct ifinfomsg *pi;
  int r = -1, index;

  if (nl == NULL)
    return -1;
  host_if_name(n->addr, host_if);
  /* what an earlier pod at this address left (take_lease gives such an
   * address only when every free one has one) goes first */
  if (delete_link(nl, host_if, err) < 0)
    goto out;
  nlh = link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, host_if);
  info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  pi = mnl_nlmsg_put_extra_header(nlh, sizeof *pi);
  pi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
  /* eth0's hardware address made of its IPv4 address, as docker makes
   * it (02:42, then the address): a pod that gets the address of one that
   * has just ended gets its MAC too, so that what other pods (and the host)
   * cached of it still holds, and their answers reach the new pod rather
   * than the old MAC until their neighbour entries expire. */
  uint8_t mac[6];
  pod_mac(n->addr, mac);
  mnl_attr_put(nlh, IFLA_ADDRESS, sizeof mac, mac);
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) netns_fd);
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  if (nl_talk(nl, nlh, "the pod's veth pair", err) < 0)
    goto out;
  index = (int) if_nametoindex(host_if);
  if (index == 0 || link_up(nl, index, (int) if_nametoindex(NET_BRIDGE), host_if, err) < 0) {
    if (index == 0)
      appc_error_make(err, errno, "%s", host_if);
    goto out;
  }
  if (n->n_ports > 0 && set_hairpin(nl, index, host_if, err) < 0)
    goto out;
  /* inside the pod: eth0's address, up, and the default route */
  if (n->pod_nl == NULL) {
    appc_error_tag(err, EINVAL, "net: no socket in the pod's namespace");
    goto out;
  }
  int eth0 = 0;
  if (link_index(n->pod_nl, "eth0", &eth0, err) < 0 ||
      add_address(n->pod_nl, eth0, n->addr, n->prefix, "eth0's address", err) < 0 ||
      link_up(n->pod_nl, eth0, 0, "eth0", err) < 0 ||
      add_default_route(n->pod_nl, eth0, n->gateway, err) < 0)
    goto out;
  inet_ntop(AF_INET, &n->addr, addr, sizeof addr);
  if (n->n_ports > 0) {
    int lock = net_lock(n->host, err);
    if (lock < 0)
      goto out;
    /* the caller's own netfilter sockets, before the context's */
    int before[NET_FDS_SEEN];
    size_t n_before = netfilter_sockets(before, NET_FDS_SEEN);
    if (n_before > NET_FDS_SEEN)
      r = appc_error_tag(err, EMFILE, "nftables: %zu netfilter sockets open already", n_before);
    else
      r = (n->own = nft_new(err)) != NULL ? 0 : -1;
    for (size_t i = 0; r == 0 && i < n->n_ports; i++)
      r = take_over_port(n, &n->ports[i], err);
    /* all under the lock, as refuse_held_ports decided the holder: a pod
     * starting next finds the ports listened on and their table made */
    if (r == 0 && (make_pod_table(n, addr, err) < 0 || own_sockets(n, before, n_before, err) < 0 ||
                   hold_ports(n, err) < 0))
      r = -1;
    close(lock);
    if (r < 0)
      goto out;
  }
  /* (r is 0 here with ports: a failure must set it again) */
  r = forget_udp_flows(n, notes, err);
out:
  mnl_socket_close(nl);
  return r;
}

void ace_net_address(const struct ace_net *n, char *out)
{
  inet_ntop(AF_INET, &n->addr, out, INET_ADDRSTRLEN);
}

char *ace_net_published(const struct ace_net *n)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);

  if (f == NULL)
    return NULL;
  for (size_t i = 0; i < n->n_ports; i++)
    fprintf(f, "%s%u:%u/%s", i ? " " : "", n->ports[i].host_port, n->ports[i].pod_port,
            n->ports[i].proto);
  fclose(f);
  return text;
}

/* Undo the lease named ADDR of a gone pod (its ports, its file) under the
 * lock. */
static void undo_lease(int leases, const char *addr)
{
  cleanup_free char *text = NULL;
  appc_error_t ignored = NULL;
  size_t len = 0;

  if (appc_read_file_at(leases, addr, LEASE_MAX, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text,
                        &len, &ignored) == 0) {
    char *save = NULL;
    strtok_r(text, "\n", &save); /* the UUID */
    for (char *line = strtok_r(NULL, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
      struct ace_port_map p = {0};
      if (sscanf(line, "%3s %hu %hu", p.proto, &p.host_port, &p.pod_port) == 3 &&
          (strcmp(p.proto, "tcp") == 0 || strcmp(p.proto, "udp") == 0) && element_is_ours(&p, addr))
        (void) delete_element(NULL, &p, true, &ignored);
    }
  }
  appc_error_release(&ignored);
  unlinkat(leases, addr, 0);
}

void ace_net_close_in_child(const struct ace_net *n)
{
  for (size_t i = 0; n != NULL && i < n->n_own_fds; i++)
    close(n->own_fds[i]);
}

void ace_net_release(struct ace_net *n, bool delete_link_now)
{
  if (n == NULL)
    return;
  /* The pod's ports go before the host's hold on them (n->reserved): the
   * table is deleted rather than left to the socket's close, which would
   * not remove it were the socket, against all care, still open elsewhere. */
  if (n->own != NULL) {
    char cmd[sizeof n->table + 32];
    snprintf(cmd, sizeof cmd, "delete table ip %s", n->table);
    (void) nft_run(n->own, cmd, true, NULL);
    nft_ctx_free(n->own);
  }
  if (n->leased && delete_link_now) {
    char host_if[IFNAMSIZ];
    host_if_name(n->addr, host_if);
    delete_pair(host_if);
  }
  if (n->leased && n->host >= 0) {
    appc_error_t ignored = NULL;
    int lock = net_lock(n->host, &ignored);
    cleanup_close int leases = openat(n->host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    char addr[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &n->addr, addr, sizeof addr);
    if (leases >= 0)
      unlinkat(leases, addr, 0);
    if (lock >= 0)
      close(lock);
    appc_error_release(&ignored);
  }
  if (n->pod_nl != NULL)
    mnl_socket_close(n->pod_nl);
  for (size_t i = 0; n->reserved != NULL && i < n->n_ports; i++)
    if (n->reserved[i] >= 0)
      close(n->reserved[i]);
  free(n->reserved);
  if (n->area >= 0)
    close(n->area);
  if (n->host >= 0)
    close(n->host);
  free(n->ports);
  free(n);
}

/* The lease NAME in LEASES: its pod's UUID and its store's runtime key
 * (OWN_KEY for a lease an older actool kept in the store's net/, which has
 * none); false when it holds neither (an actool killed while writing it). */
static bool lease_owner(int leases, const char *name, const char *own_key,
                        char uuid[APPC_UUID_LEN + 1], char key[ACE_RUNTIME_KEY_MAX])
{
  cleanup_free char *text = NULL;
  appc_error_t ignored = NULL;
  size_t len = 0;

  if (appc_read_file_at(leases, name, LEASE_MAX, APPC_READ_REGULAR | APPC_READ_NOFOLLOW, &text,
                        &len, &ignored) < 0) {
    appc_error_release(&ignored);
    return false;
  }
  char *line2 = strchr(text, '\n');
  if (line2 == NULL || line2 - text != APPC_UUID_LEN)
    return false;
  memcpy(uuid, text, APPC_UUID_LEN);
  uuid[APPC_UUID_LEN] = '\0';
  size_t key_len = strncmp(line2 + 1, "store ", 6) == 0 ? strcspn(line2 + 7, "\n") : 0;
  if (key_len == 0 || key_len >= ACE_RUNTIME_KEY_MAX)
    snprintf(key, ACE_RUNTIME_KEY_MAX, "%s", own_key);
  else
    snprintf(key, ACE_RUNTIME_KEY_MAX, "%.*s", (int) key_len, line2 + 7);
  return true;
}

/* The pod that publishes P, other than SELF: the one whose lease (in
 * HOST's leases) names P's host port, whether or not its table is there
 * yet, or still (a pod stopping deletes it before it lets the port go);
 * *ALIVE says whether it still runs. */
static bool port_holder(int host, const struct ace_port_map *p, const char *own_key,
                        const char *self, char uuid[APPC_UUID_LEN + 1], bool *alive)
{
  cleanup_close int leases = openat(host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  DIR *d = leases >= 0 ? appc_dir_stream(leases) : NULL;
  bool found = false;
  struct dirent *e;

  if (d == NULL)
    return false;
  while (!found && (e = readdir(d)) != NULL) {
    cleanup_free char *text = NULL;
    appc_error_t ignored = NULL;
    char key[ACE_RUNTIME_KEY_MAX];
    struct in_addr a;
    size_t len = 0;
    if (inet_pton(AF_INET, e->d_name, &a) != 1 ||
        !lease_owner(leases, e->d_name, own_key, uuid, key) || strcmp(uuid, self) == 0 ||
        appc_read_file_at(leases, e->d_name, LEASE_MAX, APPC_READ_REGULAR | APPC_READ_NOFOLLOW,
                          &text, &len, &ignored) < 0) {
      appc_error_release(&ignored);
      continue;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL && !found;
         line = strtok_r(NULL, "\n", &save)) {
      struct ace_port_map q = {0};
      found = sscanf(line, "%3s %hu %hu", q.proto, &q.host_port, &q.pod_port) == 3 &&
              strcmp(q.proto, p->proto) == 0 && q.host_port == p->host_port;
    }
    if (found) {
      cleanup_close int root = ace_runtime_root_open(&ignored);
      *alive = root < 0 || !ace_pod_is_dead(root, key, uuid);
      appc_error_release(&ignored);
    }
  }
  closedir(d);
  return found;
}

/* Undo the leases in LEASES of pods that are gone or whose actool died,
 * under the lock.  HOST_WIDE: the host's leases, whose address is the
 * pair's name (host_if_name); a store's own, which an older actool kept,
 * name a pair only by the pod's UUID (old_if_name): the address may be a
 * running pod's now. */
static void gc_leases(int root, int leases, const char *own_key, bool host_wide)
{
  DIR *d = appc_dir_stream(leases);
  struct dirent *e;

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    char uuid[APPC_UUID_LEN + 1], key[ACE_RUNTIME_KEY_MAX];
    struct in_addr a;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    /* Under the lock nothing is half made: another name is the temporary
     * of an actool killed while writing a lease. */
    if (inet_pton(AF_INET, e->d_name, &a) != 1) {
      unlinkat(leases, e->d_name, 0);
      continue;
    }
    /* A lease without a UUID (left by an older actool killed between
     * making it and writing it) is nobody's.  A dead pod's pair normally
     * went with its network namespace; one that something still holds (a
     * metadata service stopped) goes now. */
    bool owned = lease_owner(leases, e->d_name, own_key, uuid, key);
    if (!owned || ace_pod_is_dead(root, key, uuid)) {
      char host_if[IFNAMSIZ];
      if (host_wide) {
        host_if_name(a, host_if);
        delete_pair(host_if);
      }
      if (owned) {
        old_if_name(uuid, host_if);
        delete_pair(host_if);
      }
      undo_lease(leases, e->d_name);
    }
  }
  closedir(d);
}

/* Delete the host's ends of veth pairs on the bridge at addresses of the
 * current subnet that no lease names (and so the pairs), under the lock:
 * those of gone pods whose network namespace something still holds
 * (pair_left).  An older actool's (old_if_name) go with their leases. */
static void sweep_pairs(int host)
{
  cleanup_close int leases = openat(host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  struct in_addr net;
  unsigned prefix;
  struct dirent *e;
  DIR *d;

  if (read_current(host, &net, &prefix) < 0 ||
      (d = opendir("/sys/class/net/" NET_BRIDGE "/brif")) == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    char name[INET_ADDRSTRLEN], *end;
    const char *hex = e->d_name + strlen(NET_VETH);
    if (strncmp(e->d_name, NET_VETH, strlen(NET_VETH)) != 0 || strlen(hex) != 8 ||
        strspn(hex, "0123456789abcdef") != 8)
      continue;
    struct in_addr a = {.s_addr = htonl((uint32_t) strtoul(hex, &end, 16))};
    if (*end != '\0' || !same_net(a, net, prefix))
      continue;
    inet_ntop(AF_INET, &a, name, sizeof name);
    if (leases < 0 || faccessat(leases, name, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
      delete_pair(e->d_name);
  }
  closedir(d);
}

int ace_net_gc(struct appc_store *s, appc_error_t *err)
{
  cleanup_close int area = -1, host = -1, root = -1, leases = -1, old = -1;
  char key[ACE_RUNTIME_KEY_MAX];
  int lock;

  if ((host = host_net_open(false, err)) < 0 && *err != NULL)
    return -1;
  if ((area = appc_store_area_open(s, APPC_STORE_AREA_NET, false, err)) < 0 && *err != NULL)
    return -1;
  old = area >= 0 ? openat(area, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (host < 0 && old < 0)
    return 0; /* no pod of the default network ever ran */
  if (ace_runtime_key(s, key, err) < 0 || (root = ace_runtime_root_open(err)) < 0 ||
      (host < 0 && (host = host_net_open(true, err)) < 0))
    return -1;
  if (appc_lazy_bind(APPC_LAZY_MNL, err) < 0 || appc_lazy_bind(APPC_LAZY_NFTABLES, err) < 0)
    return -1;
  if ((lock = net_lock(host, err)) < 0)
    return -1;
  if ((leases = openat(host, NET_LEASES, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
    gc_leases(root, leases, key, true);
  if (old >= 0) {
    gc_leases(root, old, key, false);
    if (appc_dir_is_empty(old, "."))
      unlinkat(area, NET_LEASES, AT_REMOVEDIR);
    unlinkat(area, "current", 0);
  }
  sweep_pairs(host);
  remove_if_unused(host);
  close(lock);
  return 0;
}
