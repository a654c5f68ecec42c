#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool run --device=HOSTPATH[:PODPATH][:rwm] and the block I/O isolators:
# a loop device over a file the test makes appears in the pod, what the pod
# writes to it is in the file, access is what was given (the devices cgroup
# refuses the rest), bad specs are refused by name; resource/block-bandwidth
# and resource/block-iops are written to the app's blkio cgroup (the pod
# reads its own through its cgroup namespace) and slow direct writes down
# to the limit (a lower bound on the time taken: the limit's own effect).
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "devices and cgroups need root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi
command -v losetup >/dev/null || skip_all "losetup not installed (mount)"

export ACTOOL_DIR=$TMP/store
LOOP=
cleanup() {
  [ -n "$LOOP" ] && losetup -d "$LOOP" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

truncate -s 16M "$TMP/disk.img"
LOOP=$(losetup -f --show "$TMP/disk.img") || { not_ok "a loop device"; done_testing; exit; }
MAJMIN=$(printf '%d:%d' "0x$(stat -c %t "$LOOP")" "0x$(stat -c %T "$LOOP")")

# Images: busybox, and busybox whose app has the block isolators.
image() { # NAME ISOLATOR_NAME JSON (or none)
  local L=$TMP/$1
  "$ACTOOL" layout --layout="$L" init --name="example.com/$1" >/dev/null &&
    "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
    "$ACTOOL" layout --layout="$L" set-exec -- /bin/sh >/dev/null &&
    { [ "$2" = none ] || "$ACTOOL" layout --layout="$L" isolator add "$2" "$3" >/dev/null; } &&
    "$ACTOOL" build "$L" "$TMP/$1.aci" >/dev/null &&
    "$ACTOOL" --insecure-options=image fetch "$TMP/$1.aci" >/dev/null
}
image bb none &&
  image bw resource/block-bandwidth '{"default": true, "limit": "1Mi"}' &&
  image iops resource/block-iops '{"default": true, "limit": "40"}' ||
  { not_ok "the test images"; done_testing; exit; }

# --- --device ------------------------------------------------------------------

run_capture "$ACTOOL" run --device="$LOOP:/dev/disk/x0" example.com/bb --exec=/bin/sh -- -c \
  'ls -l /dev/disk/x0 && echo written-in-the-pod | dd of=/dev/disk/x0 bs=512 conv=sync 2>/dev/null'
cp "$TMP/.out" "$TMP/ls.out"
is "a host device at the path given, written by the pod (exit status)" "$status" 0
if grep -q "^b.* ${MAJMIN%:*}, *${MAJMIN#*:} .*/dev/disk/x0\$" "$TMP/ls.out"; then
  ok "it is the host's block node"
else
  not_ok "it is the host's block node"
  note "$(cat "$TMP/ls.out" "$TMP/.err")"
fi
is "what the pod wrote is on the device" "$(head -c 18 "$TMP/disk.img")" "written-in-the-pod"

run_capture "$ACTOOL" run --device="$LOOP:r" example.com/bb --exec=/bin/sh -- -c \
  "head -c 18 $LOOP; echo; if echo x >$LOOP; then echo wrote; else echo refused; fi"
is "read-only access: reads at the host's path, writes refused" \
  "$(cat "$TMP/.out")" "written-in-the-pod
refused"
if grep -q 'Operation not permitted' "$TMP/.err"; then ok "the refusal is the cgroup's (EPERM)"; else
  not_ok "the refusal is the cgroup's (EPERM)"
  note "$(cat "$TMP/.err")"
fi

# (/dev is nodev, so EACCES; the devices cgroup would say EPERM.)
run_capture "$ACTOOL" run example.com/bb --exec=/bin/sh -- -c \
  "mknod /dev/x b ${MAJMIN%:*} ${MAJMIN#*:} && head -c 1 /dev/x"
if [ "$status" -ne 0 ] && grep -Eq 'Permission denied|Operation not permitted' "$TMP/.err"; then
  ok "without --device, a node the pod makes for the device does not open"
else
  not_ok "without --device, a node the pod makes for the device does not open"
  note "exit $status" "$(cat "$TMP/.out" "$TMP/.err")"
fi

check_rejects "a file that is not a device" \
  'device "/etc/passwd:/dev/p": /etc/passwd is not a character or block device' \
  "$ACTOOL" run --device=/etc/passwd:/dev/p example.com/bb --exec=/bin/true
check_rejects "a missing host path" 'device "/dev/actool-none": /dev/actool-none: No such file' \
  "$ACTOOL" run --device=/dev/actool-none example.com/bb --exec=/bin/true
check_fails "a pod path outside /dev (a usage error)" 2 "the path in the pod must be under /dev/" \
  "$ACTOOL" run --device="$LOOP:/etc/x" example.com/bb --exec=/bin/true
check_fails "the executor's own nodes (a usage error)" 2 "/dev/null is the executor's own" \
  "$ACTOOL" run --device=/dev/null example.com/bb --exec=/bin/true
check_fails "a bad access list (a usage error)" 2 "ACCESS is made of r, w and m" \
  "$ACTOOL" run --device="$LOOP:/dev/x:rx" example.com/bb --exec=/bin/true
check_rejects "two devices at one path" "/dev/x and /dev/x cannot both be in the pod" \
  "$ACTOOL" run --device="$LOOP:/dev/x" --device=/dev/zero:/dev/x example.com/bb --exec=/bin/true

# The host path is looked up when checked and again when mounted: what is
# mounted must be the device checked, not a file swapped in between (here
# a symlink flipping between /dev/zero and a root-only host file).
printf 'host secret\n' >"$TMP/secret"
chmod 600 "$TMP/secret"
ln -s /dev/zero "$TMP/devlink"
python3 -c '
import os, sys, time
link, a, b, end = sys.argv[1], sys.argv[2], sys.argv[3], time.time() + float(sys.argv[4])
i = 0
while time.time() < end and os.path.exists(sys.argv[5]):
    tmp = link + ".tmp"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(a if i % 2 else b, tmp)
    os.replace(tmp, link)
    i += 1
' "$TMP/devlink" /dev/zero "$TMP/secret" 120 "$TMP/flipping" &
flipper=$!
: >"$TMP/flipping"
swapped=0 refused=0 ran=0
for i in $(seq 150); do
  out=$("$ACTOOL" run --device="$TMP/devlink:/dev/x" example.com/bb --exec=/bin/sh -- -c \
    'if [ -f /dev/x ]; then echo REGULAR; echo pod >>/dev/x; fi; [ -c /dev/x ] && echo DEVICE' 2>&1)
  case $out in
  *REGULAR*) swapped=$((swapped + 1)) ;;
  *"changed while the pod was made"*) refused=$((refused + 1)) ;;
  *DEVICE*) ran=$((ran + 1)) ;;
  esac
done
rm -f "$TMP/flipping"
wait "$flipper" 2>/dev/null
is "a device path swapped for a host file is never mounted into the pod (150 runs)" "$swapped" 0
is "... the host file is untouched" "$(cat "$TMP/secret")" "host secret"
diag "runs with the device: $ran; refused as changed: $refused"
if [ $((ran + refused)) -gt 0 ]; then ok "... runs got the device or were refused naming the change"; else
  not_ok "... runs got the device or were refused naming the change"
fi

# --- block I/O isolators ------------------------------------------------------------

# 3 MiB of direct writes at 1 MiB/s take at least 2 s (the first slice may
# go at once); unthrottled they take milliseconds.
ms() { date +%s%3N; }
t0=$(ms)
run_capture "$ACTOOL" --debug run --uuid-file-save="$TMP/bw.uuid" --device="$LOOP:/dev/xd" \
  example.com/bw --exec=/bin/sh -- -c \
  'cat /sys/fs/cgroup/blkio/blkio.throttle.write_bps_device /sys/fs/cgroup/io.max 2>/dev/null
   dd if=/dev/zero of=/dev/xd bs=64k count=48 oflag=direct 2>/dev/null'
elapsed=$(($(ms) - t0))
is "a pod with resource/block-bandwidth runs (exit status)" "$status" 0
if grep -Eq "^$MAJMIN (1048576|rbps=1048576 wbps=1048576.*)\$" "$TMP/.out"; then
  ok "the app's cgroup holds the bandwidth limit for the loop device"
else
  not_ok "the app's cgroup holds the bandwidth limit for the loop device"
  note "$(cat "$TMP/.out")"
fi
if grep -q 'isolator resource/block-bandwidth enforced: 1048576 bytes per second' "$TMP/.err"; then
  ok "the isolator is reported enforced"
else
  not_ok "the isolator is reported enforced"
  note "$(cat "$TMP/.err")"
fi
if [ "$elapsed" -ge 2000 ]; then ok "3 MiB of direct writes took >= 2 s (${elapsed} ms)"; else
  not_ok "3 MiB of direct writes took >= 2 s (${elapsed} ms)"
fi

run_capture "$ACTOOL" --debug run --device="$LOOP:/dev/xd" example.com/iops --exec=/bin/sh -- -c \
  'cat /sys/fs/cgroup/blkio/blkio.throttle.write_iops_device /sys/fs/cgroup/io.max 2>/dev/null'
if grep -Eq "^$MAJMIN (40|riops=40 wiops=40.*)\$" "$TMP/.out"; then
  ok "resource/block-iops: the app's cgroup holds the operations limit"
else
  not_ok "resource/block-iops: the app's cgroup holds the operations limit"
  note "$(cat "$TMP/.out" "$TMP/.err")"
fi

L=$TMP/zero
"$ACTOOL" layout --layout="$L" init --name=example.com/zero >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
  "$ACTOOL" layout --layout="$L" isolator add resource/block-bandwidth '{"default": true, "limit": "0"}' >/dev/null &&
  "$ACTOOL" build "$L" "$TMP/zero.aci" >/dev/null &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/zero.aci" >/dev/null
check_rejects "a limit of 0 is refused" "isolators\[0\].value.limit: \"0\" would stop all block I/O" \
  "$ACTOOL" run example.com/zero --exec=/bin/true

uuid=$(cat "$TMP/bw.uuid")
is "the throttled pod's cgroups are gone" \
  "$(ls -d /sys/fs/cgroup/*/actool/"$uuid" /sys/fs/cgroup/unified/actool/"$uuid" 2>/dev/null)" ""

done_testing
