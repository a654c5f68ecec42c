#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# systemd as an app's init: a Debian 12 tree with systemd (debootstrap,
# kept in build-cache/ for the next run) boots as PID 1 of the app's PID
# namespace, makes its cgroups beneath its own (its cgroup namespace's
# hierarchies without controllers are writable to an init), reaches
# "running" or "degraded" (a container lacks some hardware units), and
# powers off on `actool stop` (SIGRTMIN+3, not SIGTERM, which re-executes
# systemd): exit status 0 well before the grace period's SIGKILL (137);
# nothing of its cgroups is left.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "pods need root"
command -v debootstrap >/dev/null || skip_all "debootstrap not installed"

export ACTOOL_DIR=$TMP/store
CACHE=$top_srcdir/build-cache
TREE=$CACHE/debian12-systemd.tar
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

mkdir -p "$CACHE"
L=$TMP/systemd
"$ACTOOL" layout --layout="$L" init --name=example.com/systemd >/dev/null || {
  not_ok "a layout"
  done_testing
  exit
}
rmdir "$L/rootfs"
(
  flock 9
  if [ ! -s "$TREE" ]; then
    mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus bookworm \
      "$TMP/tree" "$mirror" >"$TMP/debootstrap.log" 2>&1 &&
      tar -C "$TMP/tree" -cf "$TREE.tmp" . && mv "$TREE.tmp" "$TREE"
  fi
) 9>"$CACHE/.debian12-systemd.lock"
[ -s "$TREE" ] || skip_all "debootstrap of a Debian 12 tree with systemd failed (no archive?): $(tail -n3 "$TMP/debootstrap.log" 2>/dev/null)"
rm -rf "$TMP/tree"
mkdir "$L/rootfs" && tar -C "$L/rootfs" -xf "$TREE" || { not_ok "the tree"; done_testing; exit; }

# systemd-nspawn's capabilities, less those this host withholds from us.
caps='"CAP_AUDIT_CONTROL","CAP_AUDIT_WRITE","CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH",
  "CAP_FOWNER","CAP_FSETID","CAP_IPC_OWNER","CAP_KILL","CAP_LEASE","CAP_LINUX_IMMUTABLE",
  "CAP_MKNOD","CAP_NET_BIND_SERVICE","CAP_NET_BROADCAST","CAP_NET_RAW","CAP_SETFCAP",
  "CAP_SETGID","CAP_SETPCAP","CAP_SETUID","CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_CHROOT",
  "CAP_SYS_NICE","CAP_SYS_PTRACE","CAP_SYS_TTY_CONFIG"'
bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
[ $(( (0x$bnd >> 24) & 1 )) -eq 1 ] && caps="$caps,\"CAP_SYS_RESOURCE\""
"$ACTOOL" layout --layout="$L" set-exec -- /sbin/init >/dev/null &&
  "$ACTOOL" layout --layout="$L" isolator add os/linux/capabilities-retain-set "{\"set\": [$caps]}" >/dev/null &&
  "$ACTOOL" build --compression=none "$L" "$TMP/systemd.aci" >/dev/null &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/systemd.aci" >/dev/null ||
  { not_ok "the systemd image"; done_testing; exit; }
rm -rf "$L" "$TMP/systemd.aci"

# boot LABEL [RUN OPTIONS...]: run the image detached until systemd is up,
# then check what it made and that `stop` powers it off; the pod's UUID is
# left in $uuid.
boot() {
  local label=$1 state= cg
  shift
  # (systemd-nspawn's capabilities: the operator's consent)
  uuid=$("$ACTOOL" run --detach --caps-allow=all "$@" example.com/systemd 2>"$TMP/run.err")
  # (a deadline, not a count: a boot on a loaded machine can take long)
  local deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(timeout 20 "$ACTOOL" enter "$uuid" -- /bin/systemctl is-system-running 2>/dev/null)
    case $state in running | degraded) break ;; esac
    sleep 0.2
  done
  case $state in
    running | degraded) ok "$label: systemd boots: the system is $state" ;;
    *)
      not_ok "$label: systemd boots"
      note "state: $state" "$(cat "$TMP/run.err")" "$("$ACTOOL" status --log "$uuid" 2>&1 | tail -20)"
      ;;
  esac
  is "$label: systemd is PID 1 of its PID namespace" \
    "$("$ACTOOL" enter "$uuid" -- /bin/cat /proc/1/comm 2>&1)" systemd
  cg=$("$ACTOOL" enter "$uuid" -- /bin/cat /proc/1/cgroup 2>&1)
  if grep -Eq '^[0-9]+:(name=systemd)?:/init.scope$' <<<"$cg"; then
    ok "$label: systemd made its cgroups beneath its own (/init.scope in its namespace)"
  else
    not_ok "$label: systemd made its cgroups beneath its own"
    note "$cg"
  fi
  if [ -n "$("$ACTOOL" enter "$uuid" -- /bin/sh -c 'ls /sys/fs/cgroup/systemd/system.slice 2>/dev/null || ls /sys/fs/cgroup/system.slice' 2>/dev/null)" ]; then
    ok "$label: its services run in their own cgroups (system.slice)"
  else
    not_ok "$label: its services run in their own cgroups (system.slice)"
  fi
}

# stopped LABEL: `stop` powers the pod $uuid off, and nothing of its
# cgroups is left.
stopped() {
  # (a grace long enough for systemd's own shutdown on a loaded machine)
  run_capture timeout 90 "$ACTOOL" stop --grace=60s "$uuid"
  is "$1: stop (exit status)" "$status" 0
  is "$1: systemd powered off on stop: the app's exit status is 0, not 137" \
    "$("$ACTOOL" status "$uuid" | grep '^app-systemd=')" "app-systemd=exited(0)"
  is "$1: no cgroup of the pod is left, systemd's own included" \
    "$(ls -d /sys/fs/cgroup/*/actool/"$uuid" /sys/fs/cgroup/actool/"$uuid" 2>/dev/null)" ""
}

boot "host ids"
stopped "host ids"

# --private-users: root in the pod is an unprivileged range of host ids.
# systemd mounts what it needs in a mount namespace its user namespace
# owns, and writes in its cgroups, which are handed to that range's root.
boot "--private-users" --private-users
map=$("$ACTOOL" enter "$uuid" -- /bin/cat /proc/1/uid_map 2>&1)
base=$(awk '$1 == 0 && $2 != 0 {print $2}' <<<"$map")
if [ -n "$base" ]; then ok "--private-users: root in the pod is host uid $base"; else
  not_ok "--private-users: root in the pod is an unprivileged host uid"
  note "$map"
fi
d=$(ls -d /sys/fs/cgroup/systemd/actool/"$uuid"/systemd /sys/fs/cgroup/unified/actool/"$uuid"/systemd 2>/dev/null | head -1)
is "--private-users: the init's cgroup is its root's on the host ($d)" \
  "$(stat -c %u "$d/cgroup.procs" 2>&1):$(stat -c %u "$d/init.scope" 2>&1)" "$base:$base"
is "--private-users: the pod's own cgroup stays host root's" \
  "$(stat -c %u "$(dirname "$d")" 2>&1)" 0
stopped "--private-users"
"$ACTOOL" gc >/dev/null 2>&1
is "--private-users: gc leaves no lease of the pod's ids" \
  "$(grep -rl "$uuid" /run/actool/private-users 2>/dev/null)" ""
is "--private-users: no mount of the pod is left" "$(grep -c "$uuid" /proc/self/mountinfo)" 0

done_testing
