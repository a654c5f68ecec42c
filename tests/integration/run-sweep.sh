#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What a pod's end sets aside (DIR/pods/.removing-UUID, with what its apps
# wrote) goes promptly, even for the first pod of a store: that pod starts
# the store's metadata service, and a short one ends before the service has
# taken its registration.  Its last word ('R', remove what was set aside)
# was then lost with the registration the service could not answer (its
# 'K' met a closed peer), and the directory stayed until another pod of the
# store ended or `gc` found it over a minute old (docs/executor.md, "Pod
# directories").  Each round is a fresh store running one short pod.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "pods need root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi

# Before the fix, some half of such stores kept it: ten rounds all passing
# by luck were about one chance in a thousand.
ROUNDS=10
cleanup() {
  local s
  for s in "$TMP"/store-*; do
    [ -d "$s/pods" ] && timeout 30 "$ACTOOL" --dir="$s" gc >/dev/null 2>&1
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

L=$TMP/layout
"$ACTOOL" layout --layout="$L" init --name=example.com/short >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
  "$ACTOOL" layout --layout="$L" set-exec -- /bin/sh -c 'echo secret >/root/file' >/dev/null &&
  "$ACTOOL" build --no-compression "$L" "$TMP/short.aci" >/dev/null ||
  { not_ok "the image"; done_testing; exit; }

failed_runs="" left=""
for i in $(seq "$ROUNDS"); do
  s=$TMP/store-$i
  if ! timeout 30 "$ACTOOL" --dir="$s" --insecure-options=image fetch "$TMP/short.aci" >/dev/null 2>"$TMP/.err" ||
    ! timeout 30 "$ACTOOL" --dir="$s" run --net=private example.com/short >/dev/null 2>>"$TMP/.err"; then
    failed_runs+="round $i: $(head -c 500 "$TMP/.err")"$'\n'
    continue
  fi
  what=$(swept "$s" 5)
  [ -z "$what" ] || left+="round $i: $what"$'\n'
done
is "$ROUNDS fresh stores: each one's pod ran" "$failed_runs" ""
is "$ROUNDS fresh stores: what each first pod set aside is gone within 5 s" "$left" ""

done_testing
