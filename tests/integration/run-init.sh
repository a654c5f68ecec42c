#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# An app whose exec is an init system runs as PID 1 of a PID namespace of
# its own (systemd-nspawn's --boot): busybox's init, which refuses to run
# as anything else, reads its inittab, runs its actions, powers off (exit
# status 0: reboot(2) in a PID namespace ends its init with SIGINT) and its
# post-stop handler then runs in the app's root; the image without an app
# (the default /sbin/init) too; `stop` makes it run its shutdown actions;
# `enter` lands in its PID namespace; with --private-users as well.  Other
# apps are not PID 1.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "pods need root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi

export ACTOOL_DIR=$TMP/store
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

# image NAME INITTAB [with-app]: busybox with that inittab; with-app gives
# it the app /sbin/init and a post-stop handler, else it has no app.
image() {
  local L=$TMP/$1
  "$ACTOOL" layout --layout="$L" init --name="example.com/$1" >/dev/null &&
    "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
    printf '%s\n' "$2" >"$L/rootfs/etc/inittab" || return 1
  if [ "${3:-}" = with-app ]; then
    "$ACTOOL" layout --layout="$L" set-exec -- /sbin/init >/dev/null &&
      jq '.app.eventHandlers = [{"name": "post-stop",
            "exec": ["/bin/sh", "-c", "echo post-stop sees $(head -c 9 /etc/inittab)"]}]' \
        "$L/manifest" >"$L/m" && mv "$L/m" "$L/manifest" || return 1
  fi
  "$ACTOOL" build "$L" "$TMP/$1.aci" >/dev/null &&
    "$ACTOOL" --insecure-options=image fetch "$TMP/$1.aci" >/dev/null
}
image boot '::sysinit:/bin/echo sysinit
::once:/bin/sh -c "echo pid1=$(cat /proc/1/comm) self=$$; kill -USR2 1"
::shutdown:/bin/echo shutdown-action' with-app &&
  image noapp '::once:/bin/sh -c "echo noapp pid1=$(cat /proc/1/comm) $(grep ^CapBnd: /proc/1/status) $(grep ^Seccomp: /proc/1/status); kill -USR2 1"' &&
  image waits '::once:/bin/echo waiting
::shutdown:/bin/echo shutdown-action' with-app ||
  { not_ok "the test images"; done_testing; exit; }

run_capture timeout 60 "$ACTOOL" run example.com/boot
cp "$TMP/.out" "$TMP/boot.out"
is "busybox init boots and powers off: exit status 0" "$status" 0
if grep -qx sysinit "$TMP/boot.out" && grep -Eqx 'pid1=init self=[0-9]+' "$TMP/boot.out"; then
  ok "its inittab ran, with init as PID 1"
else
  not_ok "its inittab ran, with init as PID 1"
  note "$(cat "$TMP/boot.out" "$TMP/.err")"
fi
if grep -qx shutdown-action "$TMP/boot.out" &&
  [ "$(tail -n1 "$TMP/boot.out")" = "post-stop sees ::sysinit" ]; then
  ok "shutdown actions, then the post-stop handler in the app's root"
else
  not_ok "shutdown actions, then the post-stop handler in the app's root"
  note "$(cat "$TMP/boot.out" "$TMP/.err")"
fi

# ... with the ACE's default capabilities and the default seccomp filter, as
# any app (once it ran with all of the executor's: root on the host)
run_capture timeout 60 "$ACTOOL" run example.com/noapp
is "an image without an app: /sbin/init as PID 1, default capabilities and filter" \
  "$status:$(cat "$TMP/.out")" "0:noapp pid1=init CapBnd: 00000000a80425fb Seccomp: 2"

run_capture timeout 60 "$ACTOOL" run --private-users example.com/boot
if [ "$status" -eq 0 ] && grep -Eqx 'pid1=init self=[0-9]+' "$TMP/.out"; then
  ok "with --private-users too"
else
  not_ok "with --private-users too"
  note "exit $status" "$(cat "$TMP/.out" "$TMP/.err")"
fi

run_capture "$ACTOOL" run example.com/boot --exec=/bin/sh -- -c 'echo $$'
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/.out")" != 1 ]; then ok "an app that is no init is not PID 1"; else
  not_ok "an app that is no init is not PID 1"
  note "exit $status" "$(cat "$TMP/.out" "$TMP/.err")"
fi

uuid=$("$ACTOOL" run --detach example.com/waits 2>"$TMP/.err")
for _ in $(seq 300); do
  "$ACTOOL" status --log "$uuid" 2>/dev/null | grep -qx waiting && break
  sleep 0.1
done
run_capture "$ACTOOL" enter "$uuid" -- /bin/sh -c 'cat /proc/1/comm; echo $$'
if [ "$status" -eq 0 ] && [ "$(head -n1 "$TMP/.out")" = init ]; then
  ok "enter: a command in the init's PID namespace"
else
  not_ok "enter: a command in the init's PID namespace"
  note "exit $status" "$(cat "$TMP/.out" "$TMP/.err")"
fi
run_capture "$ACTOOL" enter "$uuid" -- /bin/echo one two
is "enter: the command's arguments, each once" "$(cat "$TMP/.out")" "one two"
check "stop" timeout 90 "$ACTOOL" stop --grace=60s "$uuid"
log=$("$ACTOOL" status --log "$uuid" 2>&1)
if grep -qx shutdown-action <<<"$log" && grep -qx 'post-stop sees ::once:/b' <<<"$log"; then
  ok "stop: the init ran its shutdown actions, then the post-stop handler ran"
else
  not_ok "stop: the init ran its shutdown actions, then the post-stop handler ran"
  note "$log"
fi

# An init's supervisor stays in the pod's PID namespace, outside the
# init's root: another app of the pod that may trace (CAP_SYS_PTRACE)
# must find none of the host's tree through its /proc entries, nor what
# P opened on the host for the apps' roots (the /dev nodes, volumes).
mkdir -p "$TMP/host" && touch "$TMP/host/marker"
L=$TMP/ptr
if "$ACTOOL" layout --layout="$L" init --name=example.com/ptr >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
  "$ACTOOL" layout --layout="$L" set-exec -- /bin/sh -c "sleep 0.5; for p in /proc/[0-9]*; do
    for f in \$p/fd/*; do [ -d \$f ] && echo dir \$f
      case \$(readlink \$f) in /dev/zero|/dev/full|/dev/random|/dev/urandom) echo node \$f ;; esac
    done
    [ -e \$p/root$TMP/host/marker ] && echo host \$p; done; echo scanned" >/dev/null &&
  "$ACTOOL" layout --layout="$L" isolator add os/linux/capabilities-retain-set \
    '{"set": ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE"]}' >/dev/null &&
  "$ACTOOL" build "$L" "$TMP/ptr.aci" >/dev/null &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/ptr.aci" >/dev/null; then
  uuid=$("$ACTOOL" run --detach --caps-allow=CAP_SYS_PTRACE example.com/waits --- example.com/ptr 2>"$TMP/.err")
  for _ in $(seq 300); do
    "$ACTOOL" status --log "$uuid" 2>/dev/null | grep -q scanned && break
    sleep 0.1
  done
  log=$("$ACTOOL" status --log "$uuid" 2>&1)
  timeout 90 "$ACTOOL" stop --force "$uuid" >/dev/null 2>&1
  is "beside an init, an app that may trace finds no host directory, root or node in the pod's /proc" \
    "$(grep -E "^(ptr: )?(dir|host|node|scanned)" <<<"$log" | grep -v "/proc/self/\|/proc/thread-self/" | paste -sd' ')" \
    "ptr: scanned"
else
  not_ok "beside an init, an app that may trace finds no host directory or root in the pod's /proc (the image)"
fi

done_testing
