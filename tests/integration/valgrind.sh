#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Each command of the offline toolchain runs valgrind-clean (no invalid
# access, no uninitialised use, no leak) on valid and invalid input.
. "$top_srcdir/tests/integration/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
  echo "1..0 # SKIP valgrind not installed"
  exit 0
fi
# Under ASan the binary cannot run under valgrind; the sanitizer run covers it.
if nm "$ACTOOL" 2>/dev/null | grep -q __asan_init; then
  echo "1..0 # SKIP actool is built with AddressSanitizer"
  exit 0
fi

vg() {
  valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$ACTOOL" "$@"
}

# check_vg DESCRIPTION WANTED_STATUS ARGS...: valgrind found nothing and the
# command exited with WANTED_STATUS.
check_vg() {
  local desc=$1 want=$2 status=0
  shift 2
  vg "$@" >"$TMP/.out" 2>"$TMP/.err" || status=$?
  if [ "$status" -eq "$want" ]; then ok "valgrind: $desc"; else
    not_ok "valgrind: $desc"
    diag "exit $status (wanted $want)" "$(head -c 3000 "$TMP/.err")"
  fi
}

layout=$TMP/layout
mkdir -p "$layout/rootfs/bin" "$layout/rootfs/etc"
printf 'hello\n' >"$layout/rootfs/etc/motd"
ln -s ../etc/motd "$layout/rootfs/bin/motd"
ln "$layout/rootfs/etc/motd" "$layout/rootfs/etc/motd.hard"
mkfifo "$layout/rootfs/etc/fifo"
cp "$top_srcdir/fixtures/hello/manifest" "$layout/manifest"

check_vg "build gzip" 0 build "$layout" "$TMP/a.aci"
check_vg "build xz" 0 build --compression=xz "$layout" "$TMP/x.aci"
# The valid fixtures, less those where we deliberately differ from the reference.
valid=()
for f in "$top_srcdir/fixtures/manifests/valid/"*.json; do
  grep -q "^valid/${f##*/}	" "$top_srcdir/fixtures/manifests/deviations.tsv" || valid+=("$f")
done
check_vg "validate image, layout, manifests" 0 validate "$TMP/a.aci" "$TMP/x.aci" "$layout" \
  "${valid[@]}"
check_vg "validate invalid manifests" 1 validate "$top_srcdir/fixtures/manifests/invalid/"*.json
check_vg "cat-manifest --pretty-print" 0 cat-manifest --pretty-print "$TMP/a.aci"
check_vg "patch-manifest" 0 patch-manifest --name=example.com/patched --exec="/bin/sh -c true" \
  --capability=CAP_CHOWN --ports=http,protocol=tcp,port=80 "$TMP/a.aci" "$TMP/p.aci"
check_vg "patch-manifest with an invalid option value" 1 patch-manifest \
  --supplementary-groups=x "$TMP/a.aci" "$TMP/q.aci"
# Our image through a pipe a few bytes per write: every gzip member header
# (with its extra field) arrives split across reads.  ISA-L, once left to
# resume such a header, read uninitialised memory here.  An empty member
# first (gzip's own, without the extra field) keeps the parallel engine out,
# so that every header goes through the streaming inflater.
printf '' | gzip -n >"$TMP/e.aci"
cat "$TMP/a.aci" >>"$TMP/e.aci"
trickle() { # FILE CHUNK: FILE's bytes on stdout, CHUNK bytes per write
  python3 -c 'import sys, time
data = open(sys.argv[1], "rb").read()
n = int(sys.argv[2])
for i in range(0, len(data), n):
    sys.stdout.buffer.write(data[i:i + n])
    sys.stdout.buffer.flush()
    time.sleep(0.002)' "$@"
}
for img in a e; do
  for chunk in 3 7; do
    status=0
    trickle "$TMP/$img.aci" "$chunk" | vg validate --type=appimage /dev/stdin >"$TMP/.out" 2>"$TMP/.err" || status=$?
    if [ "$status" -eq 0 ]; then ok "valgrind: validate $img.aci through a pipe, $chunk bytes per write"; else
      not_ok "valgrind: validate $img.aci through a pipe, $chunk bytes per write"
      diag "exit $status (wanted 0)" "$(head -c 3000 "$TMP/.err")"
    fi
  done
done
# The reader's unit test that splits reads at every byte of member headers,
# under valgrind: ISA-L, left to resume a header inside its extra field,
# read uninitialised memory, which only valgrind shows in a GCC build.
status=0
TEST_ACI_ONLY=test_gunzip_header_split_across_reads CMOCKA_MESSAGE_OUTPUT=stdout \
  valgrind -q --error-exitcode=99 "${top_builddir:?}/tests/unit/test-aci" >"$TMP/.out" 2>"$TMP/.err" ||
  status=$?
if [ "$status" -eq 0 ] && cat "$TMP/.out" "$TMP/.err" | grep -q 'PASSED.*1 test'; then
  ok "valgrind: gzip headers split across reads at every byte (test-aci)"
else
  not_ok "valgrind: gzip headers split across reads at every byte (test-aci)"
  note "exit $status (wanted 0)" "$(head -c 3000 "$TMP/.err")" "$(tail -c 1000 "$TMP/.out")"
fi
printf 'not an image' >"$TMP/garbage.aci"
check_vg "validate garbage" 1 validate --type=appimage "$TMP/garbage.aci"
head -c 300 "$TMP/a.aci" >"$TMP/truncated.aci"
check_vg "validate truncated" 1 validate "$TMP/truncated.aci"
check_vg "build over an existing output" 1 build "$layout" "$TMP/a.aci"
check_vg "unknown option" 2 build --no-such-option "$layout" "$TMP/b.aci"

# The store commands.
st=(--dir="$TMP/store")
check_vg "fetch" 0 "${st[@]}" --insecure-options=image fetch "$TMP/a.aci" "$TMP/x.aci"
check_vg "fetch again" 0 "${st[@]}" --insecure-options=image fetch "$TMP/a.aci"
check_vg "fetch garbage" 1 "${st[@]}" --insecure-options=image fetch "$TMP/garbage.aci"
check_vg "image list" 0 "${st[@]}" image list
check_vg "image list --json" 0 "${st[@]}" image list --json
check_vg "image cat-manifest" 0 "${st[@]}" image cat-manifest --pretty-print example.com/hello
check_vg "image render" 0 "${st[@]}" image render example.com/hello "$TMP/render"
check_vg "image render again (builds the cached tree)" 0 "${st[@]}" image render --rootfs example.com/hello "$TMP/render2"
check_vg "image render a third time (from the cache)" 0 "${st[@]}" image render --rootfs example.com/hello "$TMP/render3"
check_vg "image render over DEST" 1 "${st[@]}" image render example.com/hello "$TMP/render"
check_vg "image extract" 0 "${st[@]}" image extract --rootfs example.com/hello "$TMP/extract"
check_vg "image export" 0 "${st[@]}" image export example.com/hello "$TMP/exported.aci"
check_vg "image verify" 0 "${st[@]}" image verify
check_vg "image gc" 0 "${st[@]}" image gc --grace=0s
check_vg "image rm" 0 "${st[@]}" image rm example.com/hello
check_vg "image rm unknown" 1 "${st[@]}" image rm example.com/hello

# Authoring: layout edits and YAML manifests.
L=$TMP/authored
check_vg "layout init" 0 layout init --layout="$L" --name=example.com/authored
check_vg "layout set-exec" 0 layout set-exec --layout="$L" -- /bin/sh -c true
check_vg "layout label add" 0 layout label add --layout="$L" version 1
check_vg "layout port add (refused)" 1 layout port add --layout="$L" http tcp 99999
check_vg "layout isolator add" 0 layout isolator add --layout="$L" resource/memory '{"limit":"1G"}'
check_vg "layout dependency add" 0 layout dependency add --layout="$L" example.com/base --label=version=2
printf 'acKind: ImageManifest\nacVersion: 0.8.11\nname: example.com/y\nlabels:\n  - {name: version, value: 1.0}\n' >"$TMP/bad.yaml"
check_vg "validate a YAML manifest with an error" 1 validate "$TMP/bad.yaml"
sed 's/value: 1.0/value: "1.0"/' "$TMP/bad.yaml" >"$TMP/good.yaml"
check_vg "validate a YAML manifest" 0 validate "$TMP/good.yaml"
check_vg "layout init --from" 0 "${st[@]}" --insecure-options=image layout init --layout="$TMP/from" --from="$TMP/a.aci"
done_testing
