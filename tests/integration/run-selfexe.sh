#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A hostile image cannot reach the host's actool binary through
# /proc/self/exe (runc's CVE-2019-5736).  The process that starts a pod's
# command is actool until its execve, so a command that leads to
# /proc/self/exe (that path, a symlink to it, a script's "#!" line naming
# it) would start the host's binary inside the pod with the image's own
# ELF interpreter (selfexe-interp.c), which could then chmod or chown that
# binary.  Commands start through the exec shim (ace/exec-shim.c), an
# anonymous sealed memfd: these commands find the shim, which refuses them
# (126).  Also for `enter`.  The pods run a copy of actool, which a build
# with the hole would have changed, never the build's own.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "pods need root"
[ "$(uname -m)" = x86_64 ] || skip_all "the hostile interpreter is x86_64 code"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi

export ACTOOL_DIR=$TMP/store
C=$TMP/copy
mkdir -p "$C/actool" && cp "$ACTOOL" "$C/actool/actool" &&
  { [ ! -e "$(dirname "$ACTOOL")/../libappc.so.0" ] || cp "$(dirname "$ACTOOL")/../libappc.so.0" "$C/"; } ||
  { not_ok "a copy of actool"; done_testing; exit; }
A=$C/actool/actool
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$A" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

gcc -static -nostdlib -ffreestanding -fno-builtin -fno-stack-protector -no-pie -O1 \
  -o "$TMP/interp" "$top_srcdir/tests/integration/selfexe-interp.c" 2>"$TMP/.err" ||
  { not_ok "the hostile interpreter builds"; note "$(cat "$TMP/.err")"; done_testing; exit; }

L=$TMP/hostile
"$A" layout --layout="$L" init --name=example.com/hostile >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
  mkdir -p "$L/rootfs/lib64" && cp "$TMP/interp" "$L/rootfs/lib64/ld-linux-x86-64.so.2" &&
  ln -s /proc/self/exe "$L/rootfs/selfexe-link" &&
  printf '#!/proc/self/exe chmod\n' >"$L/rootfs/selfexe-script" && chmod 755 "$L/rootfs/selfexe-script" &&
  "$A" layout --layout="$L" set-exec -- /bin/sh >/dev/null &&
  "$A" build "$L" "$TMP/hostile.aci" >/dev/null &&
  "$A" --insecure-options=image fetch "$TMP/hostile.aci" >/dev/null ||
  { not_ok "the hostile image"; done_testing; exit; }

before=$(stat -c '%a %u:%g' "$A")
binary_intact() { # WHAT
  is "$1: the host's actool binary is unchanged" "$(stat -c '%a %u:%g' "$A")" "$before"
}
for cmd in "/proc/self/exe chmod" "/proc/self/exe chown" "/selfexe-link chmod" "/selfexe-script"; do
  set -- $cmd
  run_capture timeout 60 "$A" run example.com/hostile --exec="$1" -- ${2:+"$2"}
  is "run --exec=$cmd: refused by the exec shim, nothing of the image ran (126)" \
    "$status:$(grep -c '^exe:' "$TMP/.out")" "126:0"
  binary_intact "run --exec=$cmd"
done

# enter: a command of the operator's, in a running pod
u=$("$A" run --detach example.com/hostile --exec=/bin/sleep -- 60 2>"$TMP/.err")
for cmd in "/proc/self/exe chmod" "/selfexe-script"; do
  set -- $cmd
  run_capture timeout 60 "$A" enter "$u" -- "$@"
  is "enter -- $cmd: refused by the exec shim (126)" "$status:$(grep -c '^exe:' "$TMP/.out")" "126:0"
  binary_intact "enter -- $cmd"
done
# The app's own /proc/self/exe is its binary, as ever.
run_capture timeout 60 "$A" enter "$u" -- /bin/readlink /proc/self/exe
is "a command's /proc/self/exe is its own binary" "$(cat "$TMP/.out")" "/bin/busybox"
"$A" stop --force "$u" >/dev/null 2>&1

done_testing
