#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool run --net=default: a pod on the bridge actool0 with an address of
# its own, NAT to the outside (an "outside" network namespace with no route
# back to the pods' subnet answers only through the masquerade), published
# ports (--publish and the pod manifest's ports) reachable from the host
# (127.0.0.1 and its own address), from the outside namespace, and from pods
# through the host's addresses, the publishing pod's own included (TCP and
# UDP: hairpin on its bridge port, a masquerade in its table); twenty pods
# at once get twenty addresses; a machine routing the pods' subnet to the
# host reaches published ports only; a UDP client that was sending to a port
# before it was published reaches the pod (its conntrack entry is deleted,
# not the host's flow's to a remote host: conntrack(8) reads them), and on a
# kernel without ctnetlink the pod starts with a warning; nothing (lease,
# map element, link, table, bridge) outlives the pods, a SIGKILLed actool
# included once gc ran, and its published ports (its own table's) not even
# until then; pods publishing one port at once: one has it, the others are
# refused naming it; a subnet another link has and a link actool0 that is no
# bridge are refused, an admin's bridge actool0 serves and outlives gc, and
# the veth pair of a pod whose namespace something holds keeps its address
# from new pods until gc deletes it.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "the default network needs root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi
command -v nft >/dev/null || skip_all "nft not installed (nftables)"
command -v ip >/dev/null || skip_all "ip not installed (iproute2)"
command -v curl >/dev/null || skip_all "curl not installed"
if ip link show actool0 >/dev/null 2>&1; then
  skip_all "a bridge actool0 exists already (another store's pods use it)"
fi
# One store's pods at a time own actool0: the tests that use it run alone.
run_alone

export ACTOOL_DIR=$TMP/store
OUT=actool-test-out-$$
LAN=actool-test-lan-$$
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  ip netns pids "$OUT" 2>/dev/null | xargs -r kill -9 2>/dev/null
  ip netns del "$OUT" 2>/dev/null
  command -v conntrack >/dev/null && conntrack -D -d 10.123.0.2 >/dev/null 2>&1
  command -v conntrack >/dev/null && conntrack -D -d 10.123.0.1 >/dev/null 2>&1
  ip netns del "$LAN" 2>/dev/null
  ip link del "vo$$" 2>/dev/null
  ip link del "vl$$" 2>/dev/null
  ip link del "ovl$$" 2>/dev/null
  [ -n "${foreign:-}" ] && ip link del "$foreign" 2>/dev/null
  [ -n "${holder:-}" ] && kill "$holder" 2>/dev/null
  [ -n "${spoofer:-}" ] && kill "$spoofer" 2>/dev/null
  ip link del acvdeadbe0 2>/dev/null
  ip netns del "actool-test-old-$$" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# The outside: a namespace behind a /30 whose only route is to the host.
ip netns add "$OUT" &&
  ip link add "vo$$" type veth peer name eth0 netns "$OUT" &&
  ip addr add 10.123.0.1/30 dev "vo$$" && ip link set "vo$$" up &&
  ip -n "$OUT" addr add 10.123.0.2/30 dev eth0 && ip -n "$OUT" link set eth0 up &&
  ip -n "$OUT" link set lo up || { not_ok "an outside network namespace"; done_testing; exit; }
# A machine of the host's LAN that routes the pods' subnet to the host: a
# namespace behind another /30.
ip netns add "$LAN" &&
  ip link add "vl$$" type veth peer name eth0 netns "$LAN" &&
  ip addr add 10.125.0.1/30 dev "vl$$" && ip link set "vl$$" up &&
  ip -n "$LAN" addr add 10.125.0.2/30 dev eth0 && ip -n "$LAN" link set eth0 up &&
  ip -n "$LAN" route add 172.16.28.0/24 via 10.125.0.1 ||
  { not_ok "a LAN machine's network namespace"; done_testing; exit; }
mkdir -p "$TMP/outside-www"
echo "outside says hi" >"$TMP/outside-www/file"
ip netns exec "$OUT" busybox httpd -p 10.123.0.2:8000 -h "$TMP/outside-www"

# The image: busybox with httpd serving /www on its port "www" (80).
L=$TMP/web
"$ACTOOL" layout --layout="$L" init --name=example.com/web >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
  mkdir -p "$L/rootfs/www/cgi-bin" && echo "pod says hi" >"$L/rootfs/www/index.html" &&
  printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "peer=$REMOTE_ADDR"\n' \
    >"$L/rootfs/www/cgi-bin/peer" && chmod 755 "$L/rootfs/www/cgi-bin/peer" &&
  "$ACTOOL" layout --layout="$L" set-exec -- /usr/sbin/httpd -f -p 80 -h /www >/dev/null &&
  "$ACTOOL" layout --layout="$L" port add www tcp 80 >/dev/null &&
  "$ACTOOL" build "$L" "$TMP/web.aci" >/dev/null &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/web.aci" >/dev/null ||
  { not_ok "the test image"; done_testing; exit; }

# The addresses, like the bridge, are the host's: their leases too.
LEASES=/run/actool/net/leases
leftovers() { # what of the network is left: leases, links, tables, bridge
  local leases links table guard bridge
  leases=$(ls -A "$LEASES" 2>/dev/null | wc -l)
  links=$(ip -br link | grep -c '^acv')
  table=$(nft list table ip actool >/dev/null 2>&1 && echo 1 || echo 0)
  guard=$(nft list table bridge actool >/dev/null 2>&1 && echo 1 || echo 0)
  bridge=$(ip link show actool0 >/dev/null 2>&1 && echo 1 || echo 0)
  echo "leases=$leases links=$links table=$table guard=$guard bridge=$bridge"
}
NONE="leases=0 links=0 table=0 guard=0 bridge=0"
# settled WANT: leftovers once they are WANT, or after 30 s.  A pod's veth
# pair goes with its network namespace, which ends with the pod: the kernel
# unregisters the namespace's devices in the background, a few milliseconds
# after actool returns (deleting them itself would wait some 25 ms for RCU),
# longer on a busy machine.
settled() {
  local got deadline=$((SECONDS + 30))
  while :; do
    got=$(leftovers)
    [ "$got" = "$1" ] || [ "$SECONDS" -ge "$deadline" ] && break
    sleep 0.05
  done
  echo "$got"
}
# What pods leave once ended: none of their own; the bridge and the table
# stay for the next pods, until gc.
POD_NONE="leases=0 links=0 table=1 guard=1 bridge=1"
# poll_page URL: the page once the server answers (30 s at most)
poll_page() {
  local deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    curl -sS -m 2 "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# --- a pod on the bridge ---------------------------------------------------------

check_clean "a pod with --net=default" "$ACTOOL" run --net=default example.com/web --exec=/bin/sh -- -c \
  'ip -4 -o addr show eth0; ip route show default
   printf "GET /file HTTP/1.0\r\n\r\n" | timeout 5 nc 10.123.0.2 8000 | tail -n1'
out=$(cat "$TMP/.out")
case $out in *"inet 172.16.28."*) ok "has an address of the subnet on eth0" ;;
*) not_ok "has an address of the subnet on eth0"; note "$out" "$(cat "$TMP/.err")" ;; esac
is "its default route is the bridge" "$(grep -o 'default via [0-9.]*' <<<"$out")" "default via 172.16.28.1"
is "it reaches the outside through the masquerade" "$(tail -n1 <<<"$out")" "outside says hi"
is "nothing of the pod is left once it ended; the bridge and table stay" "$(settled "$POD_NONE")" "$POD_NONE"
check_clean "gc" "$ACTOOL" gc
is "gc removes the bridge and the table no pod uses" "$(leftovers)" "$NONE"

# --- published ports ---------------------------------------------------------------

port=$((20000 + RANDOM % 20000))
"$ACTOOL" run --net=default --publish=www:"$port" --uuid-file-save="$TMP/uuid" example.com/web \
  >"$TMP/web.out" 2>&1 &
runner=$!
page=$(poll_page "http://127.0.0.1:$port/")
is "a published port answers on the host's 127.0.0.1" "$page" "pod says hi"
host_ip=$(ip -4 -o addr show dev "vo$$" | awk '{print $4}' | cut -d/ -f1)
is "on the host's own address" "$(curl -sS -m 5 "http://$host_ip:$port/" 2>&1)" "pod says hi"
is "and from another network namespace" \
  "$(ip netns exec "$OUT" curl -sS -m 5 "http://10.123.0.1:$port/" 2>&1)" "pod says hi"
# pod_net_pid UUID: the pod's PID 1, the child of its actool in a network
# namespace of its own
pod_net_pid() {
  local p c
  p=$("$ACTOOL" status --json "$1" | jq -r .pid)
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
    [ "$(readlink "/proc/$c/ns/net")" != "$(readlink "/proc/$p/ns/net")" ] && echo "$c" && return
  done
  echo 0
}
other=$("$ACTOOL" run --detach --net=default example.com/web 2>"$TMP/.err") # publishes nothing
other_pid=$(pod_net_pid "$other")
other_addr=$("$ACTOOL" status --json "$other" | jq -r .address)
addr=$("$ACTOOL" status --json "$(cat "$TMP/uuid")" | jq -r .address)
poll_page "http://$other_addr/" >/dev/null
is "a pod reaches another pod's address over the bridge" \
  "$(nsenter --net="/proc/$other_pid/ns/net" curl -sS -m 5 "http://$addr/" 2>&1)" "pod says hi"
# A machine that routes the pods' subnet to the host (ip_forward is on)
# reaches published ports, and no port of a pod directly (as docker drops
# it): only what was DNATed, or answers pods' own flows, goes toward them
# from elsewhere than the bridge.
is "a machine routing the pods' subnet to the host reaches a published port" \
  "$(ip netns exec "$LAN" curl -sS -m 5 "http://10.125.0.1:$port/" 2>&1)" "pod says hi"
is "... but not a pod that publishes nothing, at its address" \
  "$(ip netns exec "$LAN" curl -sS -m 3 "http://$other_addr/" 2>&1 | grep -c 'pod says hi')" 0
is "... nor the publishing pod's port at its address (it was not DNATed)" \
  "$(ip netns exec "$LAN" curl -sS -m 3 "http://$addr/" 2>&1 | grep -c 'pod says hi')" 0
"$ACTOOL" stop "$other" >/dev/null 2>&1
# The pod reaches its own published port through the host's addresses: the
# bridge sends a frame DNATed on it (br_netfilter) back out the pod's port
# (hairpin), and the pod's table masquerades it (the pod drops a packet
# from its own address).  Another pod is masqueraded too, where no
# br_netfilter brings the answer back through conntrack.
is "the pod reaches its own published port through the bridge's address" \
  "$(timeout 20 "$ACTOOL" enter "$(cat "$TMP/uuid")" -- timeout 5 wget -qO- "http://172.16.28.1:$port/" 2>&1)" \
  "pod says hi"
is "... and through the host's other addresses" \
  "$(timeout 20 "$ACTOOL" enter "$(cat "$TMP/uuid")" -- timeout 5 wget -qO- "http://$host_ip:$port/" 2>&1)" \
  "pod says hi"
is "another pod reaches it through the bridge's address" \
  "$(timeout 20 "$ACTOOL" run --net=default example.com/web --exec=/bin/sh -- -c \
    "timeout 5 wget -qO- http://172.16.28.1:$port/" 2>&1)" "pod says hi"
# ... seen from its own address where br_netfilter brings the answer back
# through conntrack (then only the pod's own hairpinned traffic is
# masqueraded), not as the host's
if [ "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)" = 1 ]; then
  got=$(timeout 20 "$ACTOOL" run --net=default example.com/web --exec=/bin/sh -- -c \
    "ip -4 -o addr show eth0 | awk '{print \$4}' | cut -d/ -f1; timeout 5 wget -qO- http://172.16.28.1:$port/cgi-bin/peer || echo wget-failed-\$?" 2>&1)
  grep -q "^peer=" <<<"$got" || note "$got"
  is "... which sees that pod's own address, not the host's" \
    "$(sed -n 2p <<<"$got" | sed 's/::ffff://; s/[][]//g')" "peer=$(sed -n 1p <<<"$got")"
else
  note "br_netfilter is off here: another pod's connection through the host's address comes from the bridge's"
fi
check_fails "a second pod publishing the same host port is refused" 1 'published port [0-9]+/tcp: in use on the host' \
  "$ACTOOL" run --net=default --publish=www:"$port" example.com/web --exec=/bin/true
check_fails "... naming the pod that publishes it" 1 "in use on the host: pod $(cat "$TMP/uuid") publishes it" \
  "$ACTOOL" run --net=default --publish=www:"$port" example.com/web --exec=/bin/true
is "and leaves the first pod's port alone" "$(curl -sS -m 5 "http://127.0.0.1:$port/" 2>&1)" "pod says hi"
# route_localnet is on for the bridge (127.0.0.1 reaches published ports),
# but a pod's raw frame (CAP_NET_RAW is in the default set) to the bridge's
# MAC does not reach a host's service bound to 127.0.0.1 alone
# (CVE-2020-8558); the same frame to the bridge's address does, so the
# sender works.
cat >"$TMP/rawudp.py" <<'PY'
import fcntl, socket, struct, sys
iface, dst, dport, msg = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
gw_mac = bytes.fromhex(open("/sys/class/net/actool0/address").read().strip().replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)); s.bind((iface, 0x0800))
q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
src = fcntl.ioctl(q.fileno(), 0x8915, struct.pack("256s", iface.encode()))[20:24]
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff)
    return ~(t + (t >> 16)) & 0xffff
udp = struct.pack("!HHHH", 40000, dport, 8 + len(msg), 0) + msg
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, src, socket.inet_aton(dst))
ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
for _ in range(5):
    s.send(gw_mac + s.getsockname()[4] + b"\x08\x00" + ip + udp)
PY
# udp_from_pod ADDRESS LISTEN: what a host's UDP service on LISTEN:PORT gets
# (in 3 s) of the pod's frames to ADDRESS:PORT
udp_from_pod() {
  local p pid=0
  # the pod's PID 1: the child of its actool in a network namespace of its own
  p=$("$ACTOOL" status --json "$(cat "$TMP/uuid")" | jq -r .pid)
  for c in $(cat /proc/"$p"/task/*/children 2>/dev/null); do
    [ "$(readlink "/proc/$c/ns/net")" != "$(readlink "/proc/$p/ns/net")" ] && pid=$c && break
  done
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close(); s.settimeout(3)
try: print(s.recv(100).decode())
except socket.timeout: print("nothing")' "$2" "$((port + 40))" "$TMP/udp-ready" >"$TMP/udp-got" 2>&1 &
  local listener=$!
  for _ in $(seq 100); do [ -e "$TMP/udp-ready" ] && break; sleep 0.05; done
  nsenter --net="/proc/$pid/ns/net" python3 "$TMP/rawudp.py" eth0 "$1" "$((port + 40))" "from the pod" 2>&1
  wait "$listener"
  rm -f "$TMP/udp-ready"
  cat "$TMP/udp-got"
}
is "a pod's raw UDP frame to the bridge's address reaches the host" "$(udp_from_pod 172.16.28.1 0.0.0.0)" \
  "from the pod"
is "... but not to the host's 127.0.0.1 (route_localnet on the bridge)" \
  "$(udp_from_pod 127.0.0.1 127.0.0.1)" "nothing"
is "while the pod runs, no process of the host can bind its published port" \
  "$(python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>&1 | grep -c 'Address already in use')" 1
is "... nor a service that binds it with SO_REUSEADDR (as most do) and listens" \
  "$(python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)' "$port" 2>&1 | grep -c 'Address already in use')" 1
is "the list shows the pod's network" "$("$ACTOOL" list --json | jq -r '.[0].net')" default
is "status shows its address and published ports, its address in network.addresses too" \
  "$("$ACTOOL" status --json "$(cat "$TMP/uuid")" | jq -r '"\(.address | test("^172\\.16\\.28\\.[0-9]+$")) \(.published) \(.network.addresses == [.address])"')" \
  "true $port:80/tcp true"
"$ACTOOL" gc >/dev/null 2>&1
is "gc leaves a running pod's lease, link, table and bridge" "$(leftovers)" "leases=1 links=1 table=1 guard=1 bridge=1"
is "and its published port" "$(curl -sS -m 5 "http://127.0.0.1:$port/" 2>&1)" "pod says hi"
"$ACTOOL" stop "$(cat "$TMP/uuid")" >/dev/null 2>&1
wait "$runner"
is "nothing of the pod is left once it stopped" "$(settled "$POD_NONE")" "$POD_NONE"
is "... no table of its own either" "$(nft list tables | grep -c "actool-$(cat "$TMP/uuid")")" 0

# The same over TCP and UDP: listen-fds (static) serves the pod's
# socket-activated ports and is its own client through the bridge's address.
S=$TMP/self
if gcc -static -O2 -o "$TMP/listen-fds" "$top_srcdir/tests/integration/listen-fds.c" 2>"$TMP/.err" &&
  cp -a "$L" "$S" && cp "$TMP/listen-fds" "$S/rootfs/bin/listen-fds" &&
  "$ACTOOL" layout --layout="$S" set name=example.com/self >/dev/null &&
  "$ACTOOL" layout --layout="$S" port add stcp tcp 81 --socket-activated >/dev/null &&
  "$ACTOOL" layout --layout="$S" port add sudp udp 82 --socket-activated >/dev/null &&
  "$ACTOOL" build "$S" "$TMP/self.aci" >/dev/null 2>>"$TMP/.err" &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/self.aci" >/dev/null 2>>"$TMP/.err"; then
  got=$(timeout 60 "$ACTOOL" run --net=default --publish=stcp:$((port + 32)) \
    --publish=sudp:$((port + 33)) example.com/self --exec=/bin/listen-fds -- \
    self 172.16.28.1:$((port + 32)) 172.16.28.1:$((port + 33)) 2>&1)
  is "a pod reaches its own published TCP and UDP ports through the bridge's address" \
    "$(grep '^client' <<<"$got")" "client got: served by stcp
client got: served by sudp"
  grep -q '^client got: served by sudp' <<<"$got" || note "$got"
  is "... and leaves nothing once it ended, no table of its own" \
    "$(settled "$POD_NONE") $(nft list tables | grep -c 'table ip actool-')" "$POD_NONE 0"
  # A UDP client that was sending to a host port (from one socket, as a
  # syslog or statsd client does) before a pod published it reaches the
  # pod: the flow's conntrack entry, made before the DNAT rule, is deleted.
  python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.2)
for _ in range(100):
    try:
        s.sendto(b"ping", ("127.0.0.1", int(sys.argv[1]))); print(s.recv(100).decode().strip()); break
    except OSError: pass
else: print("no answer")' "$((port + 34))" >"$TMP/udp-client" 2>&1 &
  client=$!
  # (its one socket-activated port: listen-fds serves them in turn)
  "$ACTOOL" layout --layout="$S" port rm stcp >/dev/null &&
    "$ACTOOL" layout --layout="$S" set name=example.com/self-udp >/dev/null &&
    "$ACTOOL" build "$S" "$TMP/self-udp.aci" >/dev/null &&
    "$ACTOOL" --insecure-options=image fetch "$TMP/self-udp.aci" >/dev/null
  # ... and the host's own flow to a remote host's port of that number
  # (a DNS query to port 53, say) is not the DNAT rule's: its entry stays.
  # The remote host is the outside namespace (10.123.0.2, behind vo$$),
  # the entries are read with conntrack(8).
  remote_sport=$(free_port)
  python3 -c 'import socket,sys; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.sendto(b"x", ("10.123.0.2", int(sys.argv[2])))' \
    "$remote_sport" "$((port + 34))"
  remote_flow() { # the remote flow's conntrack entries (0 or 1)
    conntrack -L -p udp -d 10.123.0.2 --sport "$remote_sport" --dport "$((port + 34))" 2>/dev/null |
      grep -c "dst=10\.123\.0\.2 sport=$remote_sport dport=$((port + 34)) "
  }
  command -v conntrack >/dev/null && remote_before=$(remote_flow) || remote_before="no conntrack(8)"
  sleep 1
  timeout 30 "$ACTOOL" run --net=default --publish=sudp:$((port + 34)) example.com/self-udp \
    --exec=/bin/listen-fds >"$TMP/udp-pod" 2>&1
  wait "$client"
  is "a UDP client sending to a port before a pod published it reaches the pod" \
    "$(cat "$TMP/udp-client")" "served by sudp"
  is "... while the host's flow to a remote host's port of that number keeps its entry" \
    "$remote_before $(remote_flow)" "1 1"
  # A kernel without ctnetlink (nf_conntrack_netlink not loadable), played
  # by a shim (LD_PRELOAD) that refuses netfilter netlink sockets but
  # libnftables' (no-ctnetlink.c): the pod starts all the same, as docker's
  # do, with a warning naming what was not done.
  if gcc -shared -fPIC -O2 -o "$TMP/no-ctnetlink.so" "$top_srcdir/tests/integration/no-ctnetlink.c" \
    2>"$TMP/.err"; then
    timeout 30 env LD_PRELOAD="$TMP/no-ctnetlink.so" NO_CTNETLINK_LOG="$TMP/no-ctnetlink.log" \
      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
      "$ACTOOL" run --net=default --publish=sudp:$((port + 35)) example.com/self-udp \
      --exec=/bin/sh -- -c 'echo ran' >"$TMP/no-ct.out" 2>"$TMP/no-ct.err"
    is "on a kernel without ctnetlink a pod publishing a UDP port runs" \
      "$?:$(cat "$TMP/no-ct.out")" "0:ran"
    check "... with a warning naming the conntrack entries it did not delete" \
      grep -q "published port $((port + 35))/udp: the conntrack entries of flows to it not deleted (conntrack: netlink: Protocol not supported: no ctnetlink" \
      "$TMP/no-ct.err"
    is "... once its ctnetlink socket was refused" "$(sort -u "$TMP/no-ctnetlink.log" 2>&1)" refused
    grep -q 'conntrack entries' "$TMP/no-ct.err" || note "$(cat "$TMP/no-ct.err")"
    is "... and leaves nothing once it ended" "$(settled "$POD_NONE")" "$POD_NONE"
    # Another failure (EPERM: no kernel without ctnetlink says it) stops
    # the pod.
    check_fails "a ctnetlink socket refused with EPERM stops the pod" 1 \
      "published port $((port + 35))/udp: conntrack: netlink: Operation not permitted" \
      timeout 30 env LD_PRELOAD="$TMP/no-ctnetlink.so" NO_CTNETLINK_ERRNO=1 \
      ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
      "$ACTOOL" run --net=default --publish=sudp:$((port + 35)) example.com/self-udp \
      --exec=/bin/sh -- -c 'echo ran'
    is "... and leaves nothing" "$(settled "$POD_NONE")" "$POD_NONE"
    # The kernel filters the dump (CTA_FILTER, Linux 5.9: a large table is
    # not sent over); where it refuses the filter (the shim spoils it) the
    # whole table is read.  Either way the entry of a UDP flow to the host's
    # address on the port goes, a flow's to a remote host's stays.
    orig_dsts() { # the original destinations of the UDP entries to port $1
      conntrack -L -p udp --dport "$1" 2>/dev/null |
        awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^dst=/) { print $i; break } }' | sort | paste -sd' '
    }
    p=$((port + 35))
    for how in filtered whole; do
      p=$((p + 1))
      conntrack -I -p udp -s 10.123.0.2 -d 10.123.0.1 --sport 5353 --dport "$p" --timeout 60 2>/dev/null
      conntrack -I -p udp -s 10.123.0.1 -d 10.123.0.2 --sport 5354 --dport "$p" --timeout 60 2>/dev/null
      before=$(orig_dsts "$p")
      rm -f "$TMP/no-ctnetlink.log"
      shim=()
      [ "$how" = whole ] && shim=(env LD_PRELOAD="$TMP/no-ctnetlink.so" NO_CTNETLINK_FILTER=1
        NO_CTNETLINK_LOG="$TMP/no-ctnetlink.log"
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0")
      timeout 30 "${shim[@]}" "$ACTOOL" run --net=default --publish=sudp:"$p" example.com/self-udp \
        --exec=/bin/true >"$TMP/ct-$how.out" 2>&1
      is "a UDP publish with the $how conntrack table: the host's flow's entry goes, the remote's stays" \
        "$? $before -> $(orig_dsts "$p") $(cat "$TMP/no-ctnetlink.log" 2>/dev/null)" \
        "0 dst=10.123.0.1 dst=10.123.0.2 -> dst=10.123.0.2 $([ "$how" = whole ] && echo "filter spoiled")"
    done
  else
    not_ok "the shim of a kernel without ctnetlink builds"
    note "$(cat "$TMP/.err")"
  fi
else
  not_ok "the socket-activated image (gcc -static)"
  note "$(cat "$TMP/.err")"
fi

# A host port a service of the host listens on (on 127.0.0.1 only) is not
# taken from it: the pod is refused, and the service keeps its clients.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept(); c.sendall(b"host says hi\n"); c.close()' "$((port + 2))" "$TMP/hostsvc.ready" &
hostsvc=$!
for _ in $(seq 50); do [ -e "$TMP/hostsvc.ready" ] && break; sleep 0.1; done
check_fails "publishing a port a host's service listens on is refused, naming it" 1 \
  "published port $((port + 2))/tcp: in use on the host" \
  "$ACTOOL" run --net=default --publish=www:"$((port + 2))" example.com/web --exec=/bin/true
is "... and the service still answers there" \
  "$(python3 -c 'import socket,sys; print(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).recv(100).decode().strip())' "$((port + 2))" 2>&1)" \
  "host says hi"
kill "$hostsvc" 2>/dev/null
wait "$hostsvc" 2>/dev/null
# A port whose service stopped a moment ago, with only TIME-WAIT
# connections left (the service closed first), is free, as docker and
# podman take it (when the service had set SO_REUSEADDR, as most do: a
# TIME-WAIT connection of one that had not keeps any bind off the port).
python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5)
c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); a, _ = s.accept()
a.close(); c.recv(1); c.close(); s.close()' "$((port + 6))"
is "a host's service's connection is left in TIME-WAIT" \
  "$(ss -Htan state time-wait "sport = :$((port + 6))" | wc -l)" 1
check_clean "a pod publishes a port with only TIME-WAIT connections left" \
  "$ACTOOL" run --net=default --publish=www:"$((port + 6))" example.com/web --exec=/bin/true

cat >"$TMP/pod.json" <<EOF
{"acVersion": "0.8.11", "acKind": "PodManifest",
 "apps": [{"name": "web", "image": {"name": "example.com/web"}}],
 "ports": [{"name": "www", "hostPort": $((port + 1))}]}
EOF
# Elsewhere than on the default network they are ignored, with a warning
# (as docker discards published ports with the host's network).
cat >"$TMP/pod-true.json" <<EOF
{"acVersion": "0.8.11", "acKind": "PodManifest",
 "apps": [{"name": "web", "image": {"name": "example.com/web"},
           "app": {"exec": ["/bin/true"], "user": "0", "group": "0"}}],
 "ports": [{"name": "www", "hostPort": $((port + 1))}]}
EOF
for net in private host; do
  run_capture "$ACTOOL" run --net=$net --pod-manifest="$TMP/pod-true.json"
  is "--net=$net: the pod manifest's ports are ignored with a warning naming them" \
    "$status:$(grep -c "port www (host port $((port + 1))) is published only with --net=default: ignored" "$TMP/.err")" "0:1"
done
"$ACTOOL" run --net=default --pod-manifest="$TMP/pod.json" >/dev/null 2>&1 &
runner=$!
page=$(poll_page "http://127.0.0.1:$((port + 1))/")
is "the pod manifest's ports are published too" "$page" "pod says hi"
kill -9 "$runner"
wait "$runner" 2>/dev/null
wait_pods_settled
case $(leftovers) in "leases=1 "*) ok "a SIGKILLed actool leaves its lease" ;;
*) not_ok "a SIGKILLed actool leaves its lease"; note "$(leftovers)" ;; esac
check_clean "gc" "$ACTOOL" gc
is "gc removes its lease, ports, table and bridge" "$(leftovers)" "$NONE"
is "the port answers no more" "$(curl -sS -m 2 "http://127.0.0.1:$((port + 1))/" 2>&1 | grep -c 'pod says hi')" 0

# A SIGKILLed actool's rule does not wait for gc: the next pod of the
# default network undoes what pods whose actool died left (lease, rule,
# link), so their ports serve a new pod, then a service of the host.
# host_service PORT: a host's service on PORT (127.0.0.1), its PID in HOSTSVC
host_service() {
  rm -f "$TMP/hostsvc.ready"
  python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(5); open(sys.argv[2], "w").close()
while True:
    c, _ = s.accept(); c.sendall(b"host says hi\n"); c.close()' "$1" "$TMP/hostsvc.ready" &
  HOSTSVC=$!
  for _ in $(seq 50); do [ -e "$TMP/hostsvc.ready" ] && break; sleep 0.1; done
}
host_page() {
  python3 -c 'import socket,sys; print(socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5).recv(100).decode().strip())' "$1" 2>&1
}
# kill_publishing PORT: a pod publishing PORT, its actool SIGKILLed once it serves
kill_publishing() {
  "$ACTOOL" run --net=default --publish=www:"$1" example.com/web >/dev/null 2>&1 &
  local victim=$!
  poll_page "http://127.0.0.1:$1/" >/dev/null
  kill -9 "$victim"
  wait "$victim" 2>/dev/null
  wait_pods_settled
}
kill_publishing $((port + 3))
is "a SIGKILLed actool's pod is abandoned" "$("$ACTOOL" list --json | jq -r '[.[].state] | join(" ")')" abandoned
"$ACTOOL" run --net=default --publish=www:$((port + 3)) --uuid-file-save="$TMP/uuid-new" example.com/web \
  >"$TMP/web.out" 2>&1 &
runner=$!
is "a new pod publishes the dead pod's port, without gc" "$(poll_page "http://127.0.0.1:$((port + 3))/")" "pod says hi"
"$ACTOOL" stop "$(cat "$TMP/uuid-new")" >/dev/null 2>&1
wait "$runner"
host_service $((port + 3))
is "... then a host's service has the port" "$(host_page $((port + 3)))" "host says hi"
kill "$HOSTSVC" 2>/dev/null
wait "$HOSTSVC" 2>/dev/null
kill_publishing $((port + 4))
check_clean "a pod of the default network (publishing nothing)" \
  "$ACTOOL" run --net=default example.com/web --exec=/bin/true
# (its lease and link: the table and bridge are anybody's gc's)
for _ in $(seq 100); do
  case $(leftovers) in "leases=0 links=0 "*) break ;; esac
  sleep 0.1
done
is "... undoes what the dead pod left" "$(leftovers | cut -d' ' -f1-2)" "leases=0 links=0"
host_service $((port + 4))
is "... and a host's service has its port, without gc" "$(host_page $((port + 4)))" "host says hi"
kill "$HOSTSVC" 2>/dev/null
wait "$HOSTSVC" 2>/dev/null
# A rule no pod's lease names (nobody's): the port is the pod's (it holds
# the port on the host), the rule is replaced.
nft add element ip actool tcp_ports "{ $((port + 5)) : 172.16.28.250 . 80 }"
"$ACTOOL" run --net=default --publish=www:$((port + 5)) --uuid-file-save="$TMP/uuid-new" example.com/web \
  >"$TMP/web.out" 2>&1 &
runner=$!
is "a pod publishing a port that a rule of nobody's maps takes it over" \
  "$(poll_page "http://127.0.0.1:$((port + 5))/")" "pod says hi"
"$ACTOOL" stop "$(cat "$TMP/uuid-new")" >/dev/null 2>&1
wait "$runner"
check_clean "gc" "$ACTOOL" gc
is "gc then removes the dead pods" "$("$ACTOOL" list --json | jq length):$(leftovers)" "0:$NONE"

# A SIGKILLed actool's published ports do not wait for gc nor for another
# pod: they are the pod's own table's, made with the flag owner, which the
# kernel removes when the netlink socket that made it closes, so with
# actool.  No other process may keep that socket: the metadata service
# this pod's actool starts (forked from it, and outliving pods) included.
old_md=$(cat "$ACTOOL_DIR/pods/metadata.lock" 2>/dev/null)
[ -n "$old_md" ] && kill "$old_md" 2>/dev/null
"$ACTOOL" run --net=default --publish=www:$((port + 7)) --uuid-file-save="$TMP/uuid-k" \
  example.com/web >/dev/null 2>&1 &
victim=$!
is "a pod publishing a port (killed next) answers there" \
  "$(poll_page "http://127.0.0.1:$((port + 7))/")" "pod says hi"
is "... its ports in a table of its own, with the flag owner" \
  "$(nft list table ip "actool-$(cat "$TMP/uuid-k")" 2>&1 | grep -c -e 'flags owner' -e "dport $((port + 7)) dnat")" 3
for _ in $(seq 50); do # the service the pod's actool started
  md=$(cat "$ACTOOL_DIR/pods/metadata.lock" 2>/dev/null)
  [ -n "$md" ] && [ "$md" != "$old_md" ] && kill -0 "$md" 2>/dev/null && break
  sleep 0.1
done
kill -9 "$victim"
wait "$victim" 2>/dev/null
rules=$(nft list ruleset 2>&1 | grep -e "$(cat "$TMP/uuid-k")" -e "$((port + 7))")
is "SIGKILLed, its actool leaves no rule of the pod (no gc, no other pod)" "$rules" ""
is "... and status shows the pod abandoned, its ports published no more" \
  "$("$ACTOOL" status --json "$(cat "$TMP/uuid-k")" | jq -r '"\(.state) [\(.published)]"')" "abandoned []"
is "... while the metadata service its actool started still runs" \
  "$([ -n "$md" ] && [ "$md" != "$old_md" ] && kill -0 "$md" 2>/dev/null && echo running)" running
host_service $((port + 7))
is "... and a host's service has the port at once" "$(host_page $((port + 7)))" "host says hi"
kill "$HOSTSVC" 2>/dev/null
wait "$HOSTSVC" 2>/dev/null
wait_pods_settled
check_clean "gc" "$ACTOOL" gc
is "gc removes the rest (lease, link, table, bridge)" "$(leftovers)" "$NONE"

# --- many pods at once ---------------------------------------------------------------

for i in $(seq 20); do
  "$ACTOOL" run --net=default example.com/web --exec=/bin/sh -- -c \
    'ip -4 -o addr show eth0 | awk "{print \$4}"; sleep 1' >"$TMP/many.$i" 2>&1 &
done
wait
is "twenty pods at once got twenty addresses" "$(cat "$TMP"/many.* | grep -c '^172\.16\.28\.')" 20
is "all different" "$(cat "$TMP"/many.* | grep '^172\.16\.28\.' | sort -u | wc -l)" 20
is "nothing of the pods is left once they ended" "$(settled "$POD_NONE")" "$POD_NONE"

# Pods publishing one port, started side by side: one has it, and every
# other is refused naming that one (TCP ports are reserved with
# SO_REUSEADDR, which lets concurrent binds through: the holder is decided
# under the network's lock), so never two tables map the port.
for i in $(seq 8); do
  timeout 60 "$ACTOOL" run --detach --net=default --publish=www:$((port + 8)) example.com/web \
    >"$TMP/same.$i" 2>"$TMP/same-err.$i" &
done
wait
winner=$(cat "$TMP"/same.[0-9]* | head -n1)
is "of eight pods publishing one port at once, one has it" "$(cat "$TMP"/same.[0-9]* | grep -c .)" 1
is "... and each other one is refused, naming it, in one wording (no hint of gc: it runs)" \
  "$(cat "$TMP"/same-err.* | grep -cx "actool: published port $((port + 8))/tcp: in use on the host: pod $winner publishes it")" 7
is "... one table maps the port" "$(nft list ruleset | grep -c "dport $((port + 8)) dnat")" 2
"$ACTOOL" stop --force "$winner" >/dev/null 2>&1
is "nothing of them is left once it is stopped" "$(settled "$POD_NONE")" "$POD_NONE"

# The store's metadata service holds a pod's socket, and so its network
# namespace, until it lets the pod go; actool waits a moment for that.
# Stopped, the service holds it for as long as it likes: actool then deletes
# the pair itself, and gc does for a pod whose actool was SIGKILLed.
md=$(cat "$ACTOOL_DIR/pods/metadata.lock" 2>/dev/null)
if [ -n "$md" ] && kill -STOP "$md" 2>/dev/null; then
  "$ACTOOL" run --net=default example.com/web --exec=/bin/true >/dev/null 2>&1
  is "a pod's link is gone when run returns, whatever the metadata service does" \
    "$(leftovers)" "$POD_NONE"
  "$ACTOOL" run --net=default example.com/web >/dev/null 2>&1 &
  victim=$!
  for _ in $(seq 100); do
    [ "$(ip -br link | grep -c '^acv')" -ge 1 ] && break
    sleep 0.1
  done
  kill -9 "$victim"
  wait "$victim" 2>/dev/null
  wait_pods_settled
  timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  is "SIGKILLed while the service is stopped: gc deletes the pod's link" "$(leftovers)" "$NONE"
  kill -CONT "$md"
else
  not_ok "a pod's link is gone when run returns, whatever the metadata service does"
  note "no metadata service to stop (pods/metadata.lock: ${md:-none})"
fi

# --- SIGKILLs at random moments ---------------------------------------------------

for i in $(seq 10); do
  "$ACTOOL" run --net=default --publish=www:$((port + 10 + i)) example.com/web >/dev/null 2>&1 &
  victim=$!
  sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
  kill -9 "$victim" 2>/dev/null
  wait "$victim" 2>/dev/null
done
wait_pods_settled
timeout 30 "$ACTOOL" gc >"$TMP/gc.out" 2>&1
is "ten actools SIGKILLed at random moments, then gc: nothing is left" "$(leftovers)" "$NONE"
[ "$(leftovers)" = "$NONE" ] || note "gc: $(cat "$TMP/gc.out")" "$("$ACTOOL" list 2>&1)"
is "and no pod" "$("$ACTOOL" list --json | jq length)" 0

# What an actool killed while taking a lease could leave: a temporary beside
# the leases, or (an older actool) a lease without a UUID.  Under the lock
# nothing is half made: gc removes both.
mkdir -p "$LEASES"
: >"$LEASES/172.16.28.200"
echo "$RANDOM" >"$LEASES/.lease.tmp-0123456789abcdef"
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "gc removes an empty lease and a lease's temporary" "$(ls -A "$LEASES" | tr '\n' ' ')" ""
# An older actool kept leases in the store's net/: gc undoes those of gone
# pods too.
mkdir -p "$ACTOOL_DIR/net/leases"
cat /proc/sys/kernel/random/uuid >"$ACTOOL_DIR/net/leases/172.16.28.201"
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "gc undoes a gone pod's lease in the store's net/ (an older actool's)" \
  "$(ls -A "$ACTOOL_DIR/net" | tr '\n' ' ')" ""
# ... whose address a running pod may hold now: that pod's pair (named by
# its address) stays; only the old pod's (named by its UUID) would go.
live=$("$ACTOOL" run --detach --net=default example.com/web 2>"$TMP/live.err")
live_addr=$("$ACTOOL" status --json "$live" 2>/dev/null | jq -r .address)
live_if=acv$(printf '%02x' ${live_addr//./ })
mkdir -p "$ACTOOL_DIR/net/leases"
cat /proc/sys/kernel/random/uuid >"$ACTOOL_DIR/net/leases/$live_addr"
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "... and leaves the pair of a running pod that holds that address now" \
  "$(ip -o link show "$live_if" 2>&1 | grep -c "master actool0"):$("$ACTOOL" status --json "$live" | jq -r .state)" \
  "1:running"
"$ACTOOL" stop --force "$live" >/dev/null 2>&1
wait_pods_settled
timeout 30 "$ACTOOL" gc >/dev/null 2>&1

# --- two stores ------------------------------------------------------------------
# One bridge, one table, one subnet for the host: pods of two stores get
# two addresses, each published port reaches its own pod, and one store's
# gc leaves the other's pods (and the bridge under them) alone.
S2=$TMP/store2
"$ACTOOL" --dir="$S2" --insecure-options=image fetch "$TMP/web.aci" >/dev/null 2>&1
for st in "$ACTOOL_DIR" "$S2"; do
  mkdir -p "$TMP/who-$(basename "$st")"
  echo "$(basename "$st")" >"$TMP/who-$(basename "$st")/index.html"
done
"$ACTOOL" run --net=default --publish=www:$((port + 30)) --uuid-file-save="$TMP/uuid-a" \
  --volume=www,kind=host,source="$TMP/who-store" example.com/web --mount=volume=www,target=/www \
  >/dev/null 2>&1 &
runner_a=$!
"$ACTOOL" --dir="$S2" run --net=default --publish=www:$((port + 31)) --uuid-file-save="$TMP/uuid-b" \
  --volume=www,kind=host,source="$TMP/who-store2" example.com/web --mount=volume=www,target=/www \
  >/dev/null 2>&1 &
runner_b=$!
page_a=$(poll_page "http://127.0.0.1:$((port + 30))/")
page_b=$(poll_page "http://127.0.0.1:$((port + 31))/")
is "two stores' pods: each published port reaches its own pod" "$page_a $page_b" "store store2"
addr_a=$("$ACTOOL" status --json "$(cat "$TMP/uuid-a" 2>/dev/null)" 2>/dev/null | jq -r .address)
addr_b=$("$ACTOOL" --dir="$S2" status --json "$(cat "$TMP/uuid-b" 2>/dev/null)" 2>/dev/null | jq -r .address)
is "two stores' pods: two addresses" "$([ -n "$addr_a" ] && [ "$addr_a" != "$addr_b" ] && echo differ)" differ
timeout 30 "$ACTOOL" --dir="$TMP/store3" gc >/dev/null 2>&1
timeout 30 "$ACTOOL" --dir="$S2" gc >/dev/null 2>&1
is "another store's gc leaves both pods' leases, links, the table and the bridge" \
  "$(leftovers)" "leases=2 links=2 table=1 guard=1 bridge=1"
is "and their published ports" \
  "$(curl -sS -m 5 "http://127.0.0.1:$((port + 30))/" 2>&1) $(curl -sS -m 5 "http://127.0.0.1:$((port + 31))/" 2>&1)" \
  "store store2"
"$ACTOOL" stop "$(cat "$TMP/uuid-a")" >/dev/null 2>&1
"$ACTOOL" --dir="$S2" stop "$(cat "$TMP/uuid-b")" >/dev/null 2>&1
wait "$runner_a" "$runner_b"
settled "$POD_NONE" >/dev/null
timeout 30 "$ACTOOL" --dir="$S2" gc >/dev/null 2>&1
is "two stores: once both pods ended, either store's gc removes the table and the bridge" \
  "$(leftovers)" "$NONE"

# --- the host's other networks, links named actool0 --------------------------------
# A subnet that another link of the host has (a LAN's, a VPN's) is refused,
# as docker refuses it: the host would send what is for the pods there, the
# published ports' packets included.  Nothing is made.
ip link add "ovl$$" type veth peer name "ovp$$" && ip addr add 172.16.28.7/24 dev "ovl$$" &&
  ip link set "ovl$$" up && ip link set "ovp$$" up || not_ok "a link ovl$$ with 172.16.28.7/24"
check_rejects "a subnet that another link's address is in is refused, naming both and net/default.json" \
  "the pods' subnet 172\.16\.28\.0/24 overlaps the address 172\.16\.28\.7/24 on the link ovl$$: choose another subnet in $ACTOOL_DIR/net/default\.json" \
  "$ACTOOL" run --net=default --publish=www:$((port + 40)) example.com/web --exec=/bin/true
is "... leaving nothing" "$(leftovers)" "$NONE"
ip addr flush dev "ovl$$"
ip route add 172.16.28.128/25 dev "ovl$$"
check_rejects "... and a route to a part of it on another link" \
  "overlaps the route 172\.16\.28\.128/25 on the link ovl$$" \
  "$ACTOOL" run --net=default example.com/web --exec=/bin/true
ip route del 172.16.28.128/25 dev "ovl$$"
ip route add 172.16.0.0/16 dev "ovl$$"
check_rejects "... and a route to a network that holds it" \
  "overlaps the route 172\.16\.0\.0/16 on the link ovl$$" \
  "$ACTOOL" run --net=default example.com/web --exec=/bin/true
ip link del "ovl$$"
is "... leaving nothing" "$(leftovers)" "$NONE"

# A link actool0 that is not a bridge is someone else's: refused before
# anything is made or touched.
foreign=actool0 # (for cleanup)
ip link add actool0 type veth peer name "acp$$"
check_rejects "a link actool0 that is no bridge is refused, saying so" \
  "the link actool0 \(kind veth\) is not a bridge: actool did not make it" \
  "$ACTOOL" run --net=default example.com/web --exec=/bin/true
is "... and left alone (no address, down)" \
  "$(ip -o -4 addr show dev actool0 | wc -l):$(ip -o link show actool0 | grep -c '[<,]UP[,>]')" "0:0"
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "... nothing is left (and gc has nothing to wait for)" "$(leftovers)" "leases=0 links=0 table=0 guard=0 bridge=1"
ip link del actool0
# An admin's bridge actool0 serves (as docker uses a docker0 it finds), and
# gc leaves it, taking back only the gateway's address.
ip link add actool0 type bridge && ip addr add 10.99.0.1/24 dev actool0 && ip link set actool0 up
check_clean "an admin's bridge actool0 serves the pods" "$ACTOOL" run --net=default example.com/web \
  --exec=/bin/sh -- -c 'ip -4 -o addr show eth0'
grep -q 'inet 172\.16\.28\.' "$TMP/.out" || note "$(cat "$TMP/.out")"
settled "leases=0 links=0 table=1 guard=1 bridge=1" >/dev/null
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "gc leaves an admin's bridge actool0 with its own address, and removes the table" \
  "$(ip -o -4 addr show dev actool0 2>&1 | awk '{print $4}' | tr '\n' ' ')$(leftovers)" \
  "10.99.0.1/24 leases=0 links=0 table=0 guard=0 bridge=1"
# ... with route_localnet as it was: on, without the table's localnet guard,
# the bridge's links would reach the host's 127.0.0.1-only services.
is "... and its route_localnet as it was before (0)" \
  "$(cat /proc/sys/net/ipv4/conf/actool0/route_localnet):$(ls /run/actool/net/bridge-route-localnet 2>&1 | grep -c 'No such')" "0:1"
ip link del actool0 2>/dev/null
foreign=

# A pod's network namespace that something holds after the pod (an
# operator's `nsenter --net`, a tcpdump) keeps its veth pair, with the pod's
# address and MAC, on the bridge: a new pod gets another address while the
# pair is there, and gc deletes it.
u1=$("$ACTOOL" run --detach --net=default example.com/web 2>"$TMP/.err")
addr1=$("$ACTOOL" status --json "$u1" 2>/dev/null | jq -r .address)
pid1=$("$ACTOOL" status --json "$u1" 2>/dev/null | jq -r .pid) # the pod's actool
init1= # its child in the pod's namespace: the pod's init
for _ in $(seq 100); do
  for f in /proc/[0-9]*/stat; do
    { read -r p _ _ ppid _ <"$f"; } 2>/dev/null || continue
    [ "$ppid" = "$pid1" ] && [ "$(readlink "/proc/$p/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
      init1=$p && break 2
  done
  sleep 0.05
done
pod_ns=$(readlink "/proc/$init1/ns/net")
nsenter --net="/proc/$init1/ns/net" sleep 600 &
holder=$!
for _ in $(seq 100); do
  [ "$(readlink "/proc/$holder/ns/net")" = "$pod_ns" ] && break
  sleep 0.05
done
"$ACTOOL" stop "$u1" >/dev/null 2>&1
for _ in $(seq 100); do
  [ -e "$LEASES/$addr1" ] || break
  sleep 0.1
done
sleep 0.5 # (a pair not held goes within some 30 ms)
got=$(leftovers)
is "a pod whose namespace is held ended, its pair is left" "$got" "leases=0 links=1 table=1 guard=1 bridge=1"
[ "$got" = "leases=0 links=1 table=1 guard=1 bridge=1" ] ||
  note "init1=$init1 holder=$holder alive=$(kill -0 "$holder" 2>/dev/null && echo yes || echo no)" \
    "holder's netns $(readlink "/proc/$holder/ns/net" 2>&1), the pod's $pod_ns" "$(ip -br link | grep -E 'acv|actool0')"
"$ACTOOL" run --net=default example.com/web --exec=/bin/sh -- -c 'ip -4 -o addr show eth0' >"$TMP/held.out" 2>&1
case $(cat "$TMP/held.out") in
*"inet 172.16.28."*) is "a new pod meanwhile gets another address than $addr1" \
  "$(grep -c "inet $addr1/" "$TMP/held.out")" 0 ;;
*) not_ok "a new pod meanwhile gets another address than $addr1"; note "$(cat "$TMP/held.out")" ;;
esac
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "gc deletes the gone pod's held pair (and so the bridge and the table go)" \
  "$(settled "$NONE")" "$NONE"
is "... whose other end was the holder's eth0" \
  "$(nsenter --net="/proc/$holder/ns/net" ip -o link show | grep -c 'eth0')" 0
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
holder=

# --- a pod cannot take another's place on the bridge -----------------------------
# With CAP_NET_RAW (appc's default set) and here CAP_NET_ADMIN, a pod tells
# the bridge that another pod's address is at its own hardware address
# (gratuitous ARP, ARP replies), and sends from that pod's hardware
# address: the bridge guard drops both, so the host's neighbour entry and
# the bridge's forwarding entry of the other pod stay with it.
SP=$TMP/spoof
"$ACTOOL" layout --layout="$SP" init --name=example.com/spoof >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$SP/rootfs" >/dev/null &&
  "$ACTOOL" layout --layout="$SP" set-exec -- /bin/sh >/dev/null &&
  "$ACTOOL" layout --layout="$SP" isolator add os/linux/capabilities-retain-set \
    '{"set": ["CAP_NET_ADMIN", "CAP_NET_RAW"]}' >/dev/null &&
  "$ACTOOL" build "$SP" "$TMP/spoof.aci" >/dev/null &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/spoof.aci" >/dev/null || not_ok "the spoofing image"
victim=$("$ACTOOL" run --detach --net=default example.com/web 2>"$TMP/.err")
v_addr=$("$ACTOOL" status --json "$victim" 2>/dev/null | jq -r .address)
v_mac=02:42:$(printf '%02x:%02x:%02x:%02x' ${v_addr//./ })
v_if=acv$(printf '%02x' ${v_addr//./ })
poll_page "http://$v_addr/" >/dev/null # the host's neighbour entry for it
sleep 1.2                              # past the entry's locktime (1 s): open to updates
mkdir -p "$TMP/sp"
gcc -static -O2 -o "$TMP/sp/send-ra" "$top_srcdir/tests/integration/send-ra.c" 2>"$TMP/.err" ||
  { not_ok "the router advertisement sender builds"; note "$(cat "$TMP/.err")"; }
v_ll=$(timeout 20 "$ACTOOL" enter "$victim" -- ip -6 -o addr show dev eth0 scope link 2>&1 |
  grep -o 'fe80::[0-9a-f:]*')
case $v_ll in fe80::*) ;; *) not_ok "the other pod has a link-local address"; note "$v_ll" ;; esac
timeout 60 "$ACTOOL" run --net=default --caps-allow=CAP_NET_ADMIN \
  --volume=sp,kind=host,source="$TMP/sp" example.com/spoof --mount=volume=sp,target=/sp -- -c "
    arping -D -c 2 -w 3 -I eth0 $v_addr >/sp/dad.out 2>&1; echo \$? >/sp/dad
    /sp/send-ra eth0 3 >/sp/ra.out 2>&1
    ping -6 -c 2 -W 1 -I eth0 $v_ll >/sp/ping6 2>&1; echo \$? >>/sp/ping6
    ip addr add $v_addr/32 dev eth0
    arping -U -c 2 -I eth0 -s $v_addr 172.16.28.1 >/sp/arping 2>&1
    arping -A -c 2 -I eth0 -s $v_addr 172.16.28.1 >>/sp/arping 2>&1
    ip link set eth0 address $v_mac && ping -c 2 -W 1 172.16.28.1 >/sp/ping 2>&1
    ip link show eth0 >/sp/link; touch /sp/done; sleep 5" >"$TMP/spoof.out" 2>&1 &
spoofer=$!
for _ in $(seq 300); do [ -e "$TMP/sp/done" ] && break; sleep 0.1; done
is "a pod's duplicate address check (an ARP probe, from no address) hears the address's owner" \
  "$(cat "$TMP/sp/dad" 2>&1)" 1
is "the spoofing pod sent from the other pod's hardware address" \
  "$(grep -c "link/ether $v_mac" "$TMP/sp/link" 2>&1)" 1
is "... but the host still finds the other pod at its own hardware address (ARP dropped)" \
  "$(ip neigh show "$v_addr" dev actool0 | grep -o 'lladdr [0-9a-f:]*')" "lladdr $v_mac"
is "... and the bridge forwards its hardware address to its own port (frames dropped)" \
  "$(bridge fdb show br actool0 | grep -i "^$v_mac " | grep -v permanent | awk '{print $3}' | sort -u)" "$v_if"
is "... and the other pod still answers" "$(curl -sS -m 5 "http://$v_addr/" 2>&1)" "pod says hi"
# Its router advertisements (docker's CVE-2020-13401) give neither the host
# nor the other pod an IPv6 route through it.
is "the spoofing pod sent router advertisements" "$(grep -c '^sent [1-9]' "$TMP/sp/ra.out" 2>&1)" 1
is "... which gave the host no route through it" "$(ip -6 route show dev actool0 proto ra 2>&1)" ""
is "... nor the other pod" \
  "$(timeout 20 "$ACTOOL" enter "$victim" -- ip -6 route show 2>&1 | grep -c 'default\|proto ra')" 0
ip -6 route flush dev actool0 proto ra 2>/dev/null
# Nor does any of its IPv6 (neighbour advertisements would do what forged
# ARP does): the other pod's link-local address does not answer it.
is "the spoofing pod's IPv6 reaches no other pod (pings sent, no answer)" \
  "$(grep -o '[0-9]* packets transmitted, [0-9]* packets received' "$TMP/sp/ping6" 2>&1):$(tail -n 1 "$TMP/sp/ping6" 2>&1)" \
  "2 packets transmitted, 0 packets received:1"
wait "$spoofer" 2>/dev/null
spoofer=
# A pod an older actool started (its port named after its UUID, its
# hardware address random) has no entries: its port is not guarded, or an
# upgrade would cut it off the bridge.
OLD=actool-test-old-$$
ip netns add "$OLD" && ip link add acvdeadbe0 type veth peer name eth0 netns "$OLD" &&
  ip link set acvdeadbe0 master actool0 up && ip -n "$OLD" link set eth0 up &&
  ip -n "$OLD" addr add 172.16.28.250/24 dev eth0 || not_ok "an older actool's pod on the bridge"
is "an older actool's pod, its port without entries, still reaches the other pods" \
  "$(ip netns exec "$OLD" curl -sS -m 5 "http://$v_addr/" 2>&1)" "pod says hi"
ip link del acvdeadbe0 2>/dev/null
ip netns del "$OLD" 2>/dev/null
"$ACTOOL" stop "$victim" >/dev/null 2>&1
wait_pods_settled
# An older actool's gc deletes the ip table alone, leaving the bridge
# guard's: the next pod makes the ip table again, with its guards (NAT,
# localnet, inbound), each once, and the guard's chain keeps its rules once.
guard_rules() { nft list chain bridge actool guard 2>/dev/null | grep -c 'drop\|accept'; }
rules=$(guard_rules)
nft delete table ip actool
"$ACTOOL" run --net=default example.com/web --exec=/bin/true >/dev/null 2>&1
is "after an older actool's gc left the bridge guard alone, a pod makes the ip table again" \
  "$(nft list chain ip actool localnet 2>/dev/null | grep -c drop):$(nft list chain ip actool inbound 2>/dev/null | grep -c drop):$(nft list chain ip actool postrouting 2>/dev/null | grep -c masquerade)" "2:1:2"
is "... and the guard's rules are there once" "$(guard_rules)" "$rules"
# A table made by an actool before the bridge guard: the next pod adds the
# guard and leaves the ip table's guards as they were (once each).
settled "$POD_NONE" >/dev/null
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
"$ACTOOL" run --net=default example.com/web --exec=/bin/true >/dev/null 2>&1
nft delete table bridge actool
"$ACTOOL" run --net=default example.com/web --exec=/bin/true >/dev/null 2>&1
is "a shared table without the bridge guard gets it, its own guards not doubled" \
  "$(nft list chain ip actool inbound 2>/dev/null | grep -c drop):$(guard_rules)" "1:$rules"
settled "$POD_NONE" >/dev/null
timeout 30 "$ACTOOL" gc >/dev/null 2>&1

# --- refusals ---------------------------------------------------------------------

check_fails "--publish without --net=default" 2 'needs --net=default' \
  "$ACTOOL" run --publish=www:8080 example.com/web
check_rejects "--publish of a port no app has" 'no app of the pod has a tcp or udp port' \
  "$ACTOOL" run --net=default --publish=nope:8080 example.com/web
check_fails "--publish of a bad host port (a usage error)" 2 'not from 1 to 65535' \
  "$ACTOOL" run --net=default --publish=www:70000 example.com/web
check_fails "--publish that is no NAME:PORT (a usage error)" 2 'not NAME:HOSTPORT' \
  "$ACTOOL" run --net=default --publish=www example.com/web
mkdir -p "$ACTOOL_DIR/net"
echo '{"subnet": "10.0.0.0/8"}' >"$ACTOOL_DIR/net/default.json"
check_rejects "a subnet out of bounds in net/default.json" 'N from 16 to 29' \
  "$ACTOOL" run --net=default example.com/web --exec=/bin/true
echo '{"subnet": "10.77.0.0/24"}' >"$ACTOOL_DIR/net/default.json"
"$ACTOOL" run --net=default example.com/web --exec=/bin/sh -- -c 'ip -4 -o addr show eth0' >"$TMP/subnet.out" 2>&1
is "another subnet from net/default.json" \
  "$(grep -o 'inet 10\.77\.0\.[0-9]*' "$TMP/subnet.out" | cut -d. -f1-3)" "inet 10.77.0"
grep -q 'inet 10\.77\.0\.' "$TMP/subnet.out" || note "$(cat "$TMP/subnet.out")"
settled "$POD_NONE" >/dev/null # gc keeps a bridge something is still on
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "nothing is left after the refusals and gc" "$(leftovers)" "$NONE"

done_testing
