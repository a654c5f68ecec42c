#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool run --private-users: root in the pod is an unprivileged range of
# host ids.  The pod's maps; the image's owners as the image says (an
# idmapped mount) while the store's tree keeps its own; what the pod
# writes in a host volume is owned by the mapped ids on the host; root in
# the pod owns its root, binds port 80 and (with CAP_SYS_ADMIN kept) sets
# the hostname of a UTS namespace the user namespace owns; two pods at
# once get two ranges; a range given that overlaps a running pod's is
# refused; `enter` joins the namespace; leases go with their pods, and a
# SIGKILLed actool's lease goes with gc.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "user namespaces for pods need root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi

export ACTOOL_DIR=$TMP/store
LEASES=/run/actool/private-users
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

image() { # NAME [ISOLATOR JSON]
  local L=$TMP/$1
  "$ACTOOL" layout --layout="$L" init --name="example.com/$1" >/dev/null &&
    "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
    install -m 4755 /dev/null "$L/rootfs/suid" && install -o 1000 -g 1001 -m 640 /dev/null "$L/rootfs/owned" &&
    ln "$L/rootfs/owned" "$L/rootfs/owned-link" &&
    "$ACTOOL" layout --layout="$L" set-exec -- /bin/sh >/dev/null &&
    { [ $# -eq 1 ] || "$ACTOOL" layout --layout="$L" isolator add "$2" "$3" >/dev/null; } &&
    "$ACTOOL" build "$L" "$TMP/$1.aci" >/dev/null &&
    "$ACTOOL" --insecure-options=image fetch "$TMP/$1.aci" >/dev/null
}
image bb && image admin os/linux/capabilities-retain-set '{"set": ["CAP_SYS_ADMIN"]}' ||
  { not_ok "the test images"; done_testing; exit; }

# A lease of this store's pods (their UUIDs are in the lease files).
our_leases() {
  local f
  for f in "$LEASES"/*-*; do
    [ -f "$f" ] || continue
    read -r uuid _ <"$f"
    [ -d "$ACTOOL_DIR/pods/$uuid" ] || grep -qx "$uuid" "$TMP/uuids" 2>/dev/null && echo "${f##*/}"
  done
}

mkdir -p "$TMP/vol" && chmod 1777 "$TMP/vol"
run_capture "$ACTOOL" run --private-users --uuid-file-save="$TMP/u1" \
  --volume=data,kind=host,source="$TMP/vol" example.com/bb --mount=volume=data,target=/data \
  --exec=/bin/sh -- -c 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map
    ls -ln /bin/busybox /etc/passwd | awk "{print \$3, \$4}"
    touch /data/by-root /new-in-root && mkdir /data/by-1000 && chown 1000:1000 /data/by-1000
    ls -ln /etc/hostname | awk "{print \$3}"; ls -lnd / | awk "{print \$3}"
    httpd -p 80 -h /data && echo bound-80'
cat "$TMP/u1" >>"$TMP/uuids"
cp "$TMP/.out" "$TMP/pod1.out"
is "the pod runs (exit status)" "$status" 0
base=$(awk 'NR == 3 {print $2}' "$TMP/pod1.out")
is "root in the pod: uid and gid 0" "$(sed -n 1,2p "$TMP/pod1.out" | tr '\n' ' ')" "0 0 "
if [ -n "$base" ] && [ "$base" -ge 524288 ] &&
  [ "$(awk 'NR == 3 || NR == 4 {print $1, $2, $3}' "$TMP/pod1.out" | sort -u)" = "0 $base 65536" ]; then
  ok "uid and gid maps: 0 -> $base, 65536 ids"
else
  not_ok "uid and gid maps: 0 -> host range, 65536 ids"
  note "$(cat "$TMP/pod1.out" "$TMP/.err")"
fi
is "the image's files keep the owners the image gives them" \
  "$(sed -n 5,6p "$TMP/pod1.out" | tr '\n' ' ')" "0 0 0 0 "
is "the store's tree keeps the image's owners (host root's but two files)" \
  "$(find "$ACTOOL_DIR" -path '*/rootfs/*' ! -uid 0 -printf '%U %f\n' 2>/dev/null | sort | tr '\n' ' ')" \
  "1000 owned 1000 owned-link "
is "a file root in the pod made in a host volume: host uid $base" \
  "$(stat -c '%u:%g' "$TMP/vol/by-root" 2>&1)" "$base:$base"
is "a directory chowned to 1000 in the pod: host uid $((base + 1000))" \
  "$(stat -c '%u:%g' "$TMP/vol/by-1000" 2>&1)" "$((base + 1000)):$((base + 1000))"
is "/etc/hostname and the root directory belong to root in the pod" \
  "$(sed -n 7,8p "$TMP/pod1.out" | tr '\n' ' ')" "0 0 "
if grep -qx bound-80 "$TMP/pod1.out"; then ok "root in the pod binds port 80 (its network namespace is the pod's user namespace's)"; else
  not_ok "root in the pod binds port 80"
  note "$(cat "$TMP/pod1.out" "$TMP/.err")"
fi

run_capture "$ACTOOL" run --private-users --caps-allow=CAP_SYS_ADMIN example.com/admin --exec=/bin/sh -- -c \
  'hostname inside-userns && hostname'
is "with CAP_SYS_ADMIN kept, root in the pod sets the hostname of its UTS namespace" \
  "$(cat "$TMP/.out")" "inside-userns"

run_capture "$ACTOOL" run --private-users=200000:70000 example.com/bb --exec=/bin/cat -- /proc/self/uid_map
is "a range given: its maps" "$(awk '{print $1, $2, $3}' "$TMP/.out")" "0 200000 70000"

# Two pods at once: two ranges; a range given over a running pod's is refused.
"$ACTOOL" run --private-users=300000:65536 --uuid-file-save="$TMP/u2" example.com/bb \
  --exec=/bin/sh -- -c 'cat /proc/self/uid_map; sleep 300' >"$TMP/long.out" 2>&1 &
long=$!
for _ in $(seq 300); do [ -s "$TMP/long.out" ] && [ -s "$TMP/u2" ] && break; sleep 0.1; done
cat "$TMP/u2" >>"$TMP/uuids"
check_rejects "a range overlapping a running pod's is refused, naming the pod" \
  "user id range \"310000:10\": ids 300000-365535 are pod $(cat "$TMP/u2")'s" \
  "$ACTOOL" run --private-users=310000:10 example.com/bb --exec=/bin/true
run_capture "$ACTOOL" run --private-users example.com/bb --exec=/bin/cat -- /proc/self/uid_map
other=$(awk '{print $2}' "$TMP/.out")
if [ -n "$other" ] && [ "$other" != 300000 ] && [ "$(( (other - 300000) * (other - 300000) ))" -ge $((65536 * 65536)) ]; then
  ok "a pod started beside it gets a range of its own ($other)"
else
  not_ok "a pod started beside it gets a range of its own"
  note "$(cat "$TMP/.out" "$TMP/.err")"
fi

# enter joins the user namespace.
uuid=$(cat "$TMP/u2")
run_capture "$ACTOOL" enter "$uuid" -- /bin/sh -c 'id -u; cat /proc/self/uid_map'
is "enter: a command in the pod's user namespace, as its root" \
  "$(tr -s ' ' <"$TMP/.out" | sed 's/^ //' | tr '\n' ' ')" "0 0 300000 65536 "
# With a terminal: the pod's, made inside its user namespace, so its owner
# is the pod's root, which the host sees as the range's first id.
run_capture "$ACTOOL" enter -t "$uuid" -- /bin/sh -c 'stat -c %u $(tty)' </dev/null
is "enter -t: the pod's terminal, owned by the pod's root" \
  "$status,$(tr -d '\r' <"$TMP/.out")" "0,0"

# SIGKILL: the lease stays (its actool is gone) until gc.  (Killed and
# looked at under the leases' lock: any actool taking a range, as a test
# running alongside may, removes the leases of dead ones.)
if flock "$LEASES/lock" sh -c 'kill -9 "$1" && test -f "$2"' _ "$long" "$LEASES/300000-65536"; then
  ok "a SIGKILLed actool's lease is still there"
else
  not_ok "a SIGKILLed actool's lease is still there"
fi
wait "$long" 2>/dev/null
wait_pods_settled
check "gc" "$ACTOOL" gc
if [ ! -e "$LEASES/300000-65536" ]; then ok "gc removed the stale lease"; else
  not_ok "gc removed the stale lease"
fi
# What an actool killed while writing its lease leaves: its temporary.
tmpl="$LEASES/.300000-65536.tmp-$(printf '%016x' "$$")"
flock "$LEASES/lock" sh -c 'echo x >"$1"' _ "$tmpl"
"$ACTOOL" gc >/dev/null 2>&1
if [ ! -e "$tmpl" ]; then ok "gc removes a lease's temporary"; else
  not_ok "gc removes a lease's temporary"
  rm -f "$tmpl"
fi
# An actool SIGKILLed whose parent has not waited for it yet (a zombie)
# has ended: its range is free for the next pod, and gc removes its lease.
python3 - "$ACTOOL" "$TMP/zombie.u" >"$TMP/zombie.out" 2>&1 <<'PY'
import os, signal, subprocess, sys, time
actool, ufile = sys.argv[1], sys.argv[2]
p = subprocess.Popen([actool, "run", "--private-users=700000:65536", "--uuid-file-save=" + ufile,
                      "example.com/bb", "--exec=/bin/sleep", "--", "300"],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(300):
    if os.path.exists(ufile) and os.path.getsize(ufile) > 0:
        break
    time.sleep(0.1)
time.sleep(0.5)
p.send_signal(signal.SIGKILL)
time.sleep(0.5)  # not waited for: a zombie
state = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()[0]
r = subprocess.run([actool, "run", "--private-users=700000:65536", "example.com/bb",
                    "--exec=/bin/true"], capture_output=True, text=True)
print("zombie=%s next=%d %s" % (state, r.returncode, r.stderr.strip()))
p.wait()
PY
cat "$TMP/zombie.u" >>"$TMP/uuids" 2>/dev/null
is "a zombie actool's range is free for the next pod" "$(cat "$TMP/zombie.out")" "zombie=Z next=0 "
wait_pods_settled
"$ACTOOL" gc >/dev/null 2>&1
is "no lease of this test's pods is left" "$(our_leases)" ""

# Twenty pods at once: twenty ranges, no two overlapping; then ten actools
# SIGKILLed at random moments of their start: gc leaves no lease of theirs.
for n in $(seq 20); do
  "$ACTOOL" run --private-users --uuid-file-save="$TMP/many.$n" example.com/bb \
    --exec=/bin/sh -- -c 'sleep 1; cat /proc/self/uid_map' >"$TMP/many.$n.out" 2>&1 &
done
wait
cat "$TMP"/many.*[0-9] >>"$TMP/uuids" 2>/dev/null
bases=$(cat "$TMP"/many.*.out | awk '{print $2}' | sort -n)
is "twenty pods at once: twenty ranges" "$(sort -un <<<"$bases" | wc -l)" 20
if awk 'NR > 1 && $1 - prev < 65536 { bad = 1 } { prev = $1 } END { exit bad }' <<<"$bases"; then
  ok "no two of them overlap"
else
  not_ok "no two of them overlap"
  note "$bases"
fi
for n in $(seq 10); do
  "$ACTOOL" run --private-users --uuid-file-save="$TMP/killed.$n" example.com/bb \
    --exec=/bin/sleep -- 30 >/dev/null 2>&1 &
  pid=$!
  sleep "0.0$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  cat "$TMP/killed.$n" >>"$TMP/uuids" 2>/dev/null
  echo >>"$TMP/uuids"
done
wait_pods_settled
check "gc after the SIGKILLs" "$ACTOOL" gc
dead=$(for f in "$LEASES"/*-*; do
  [ -f "$f" ] || continue
  read -r _ pid _ <"$f"
  kill -0 "$pid" 2>/dev/null || echo "${f##*/}"
done)
is "no lease whose actool is dead is left (whoever's it was)" "$dead" ""

# Ownership: mapped (an idmapped mount) or a copy with shifted owners; the
# pod sees the same either way.
owners='stat -c "%a %u %g %h" /suid /owned'
run_capture "$ACTOOL" run --private-users=600000:65536 --private-users-ownership=map example.com/bb \
  --exec=/bin/sh -- -c "$owners"
is "mapped: set-uid bit, owners and hard links as the image has them" "$(tr '\n' ' ' <"$TMP/.out")" \
  "4755 0 0 1 640 1000 1001 2 "
run_capture "$ACTOOL" --debug run --private-users=600000:65536 --private-users-ownership=copy \
  example.com/bb --exec=/bin/sh -- -c "$owners"
is "copied: the same" "$(tr '\n' ' ' <"$TMP/.out")" "4755 0 0 1 640 1000 1001 2 "
copy=$(ls -d "$ACTOOL_DIR"/trees/*-600000-65536 2>/dev/null)
is "the copy is the store's tree KEY-BASE-COUNT, owned by the pod's ids on the host" \
  "$(stat -c '%u:%g' "$copy/rootfs/bin/busybox" "$copy/rootfs/owned" 2>&1 | tr '\n' ' ')" \
  "600000:600000 601000:601001 "
is "the cached tree itself keeps its owners" \
  "$(find "$ACTOOL_DIR"/trees/*/rootfs -maxdepth 0 -path '*-*-*' -prune -o -print 2>/dev/null |
    while read -r t; do stat -c '%u' "$t/owned"; done | sort -u)" "1000"
inode=$(stat -c %i "$copy/rootfs/bin/busybox")
run_capture "$ACTOOL" run --private-users=600000:65536 --private-users-ownership=copy example.com/bb --exec=/bin/true
is "a second pod of that range uses the same copy" "$(stat -c %i "$copy/rootfs/bin/busybox" 2>&1)" "$inode"
check "image verify passes with a shifted copy in the store" "$ACTOOL" image verify
# An empty volume's owner is an id of the pod's: one beyond its range would
# be another pod's (or wrap around to host root).
run_capture "$ACTOOL" run --private-users=600000:65536 --volume=data,kind=empty,uid=65535,gid=1000 \
  example.com/bb --mount=volume=data,target=/data --exec=/bin/sh -- -c 'stat -c "%u %g" /data'
is "empty volume: the pod's last uid as its owner" "$status:$(cat "$TMP/.out")" "0:65535 1000"
check_fails "empty volume: a uid beyond the pod's range is refused, naming the volume and field" 1 \
  '^actool: volume "data": uid 70000 is not an id of the pod.s user namespace \(0 to 65535, --private-users\)$' \
  "$ACTOOL" run --private-users=600000:65536 --volume=data,kind=empty,uid=70000 \
  example.com/bb --mount=volume=data,target=/data --exec=/bin/true
check_fails "empty volume: a gid that would wrap around to host root is refused" 1 \
  '^actool: volume "data": gid 4294367296 is not an id of the pod.s user namespace' \
  "$ACTOOL" run --private-users=600000:65536 --volume=data,kind=empty,gid=4294367296 \
  example.com/bb --mount=volume=data,target=/data --exec=/bin/true

check_fails "--private-users-ownership takes auto, map or copy" 2 "must be auto, map or copy" \
  "$ACTOOL" run --private-users --private-users-ownership=chown example.com/bb --exec=/bin/true

check_fails "uid 0 cannot start a range (a usage error)" 2 "uid 0 cannot start the range" \
  "$ACTOOL" run --private-users=0:100 example.com/bb --exec=/bin/true
check_fails "a range past the last id (a usage error)" 2 "the range must be 1 or more ids" \
  "$ACTOOL" run --private-users=4294967000:1000 example.com/bb --exec=/bin/true
check_fails "not UID:COUNT (a usage error)" 2 'user id range "10:abc": not UID:COUNT' \
  "$ACTOOL" run --private-users=10:abc example.com/bb --exec=/bin/true
check "--private-users never takes the image name for its value" \
  "$ACTOOL" run --private-users example.com/bb --exec=/bin/true

done_testing
