#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The image store end to end (docs/store.md, shared/actool-cli.md "Store
# commands"): fetch of local files, image list, IMAGE lookup, cat-manifest,
# export, rm, extract, render (dependencies, pathWhitelist, metadata, the
# tree cache), verify and gc.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

T="timeout 60"
IN=$TMP/in
mkdir -p "$IN"

# --- helpers ----------------------------------------------------------------

# ac STORE ARGS...: actool on STORE, unsigned images allowed.
ac() {
  local dir=$1
  shift
  $T "$ACTOOL" --dir="$dir" --insecure-options=image "$@"
}

# mf NAME VERSION [KEY=JSON...]: an image manifest with version, os and arch
# labels and the extra fields given.
mf() {
  local name=$1 version=$2 extra='{}' kv
  shift 2
  for kv in "$@"; do
    extra=$(jq -cn --argjson a "$extra" --arg k "${kv%%=*}" --argjson v "${kv#*=}" '$a + {($k): $v}')
  done
  jq -cn --arg n "$name" --arg v "$version" --argjson x "$extra" \
    '{acKind: "ImageManifest", acVersion: "0.8.11", name: $n,
      labels: [{name: "version", value: $v}, {name: "os", value: "linux"}, {name: "arch", value: "amd64"}]} + $x'
}

# dep NAME [VERSION [IMAGE_ID]]: one entry of "dependencies".
dep() {
  jq -cn --arg n "$1" --arg v "${2:-}" --arg id "${3:-}" \
    '{imageName: $n} + (if $v != "" then {labels: [{name: "version", value: $v}]} else {} end)
                     + (if $id != "" then {imageID: $id} else {} end)'
}

# layout DIR MANIFEST: an empty image layout.
layout() {
  rm -rf "$1"
  mkdir -p "$1/rootfs"
  printf '%s' "$2" >"$1/manifest"
}

# put FILE CONTENT: FILE (and its directories) holding CONTENT and a newline.
put() {
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$2" >"$1"
}

# mkaci VAR LAYOUT OUT [BUILD OPTIONS...]: build OUT and set VAR to its image
# ID (one TAP line).
mkaci() {
  local var=$1 lay=$2 out=$3
  shift 3
  run_capture "$ACTOOL" build "$@" "$lay" "$out"
  printf -v "$var" '%s' "$(cat "$TMP/.out")"
  if [ "$status" -eq 0 ] && grep -Eq '^sha512-[0-9a-f]{128}$' "$TMP/.out"; then ok "build $(basename "$out")"; else
    not_ok "build $(basename "$out")"
    note "exit $status" "stderr: $(head -c 2000 "$TMP/.err")"
  fi
}

# fetch_ok DESCRIPTION STORE FILE WANT_ID: fetch prints exactly WANT_ID.
fetch_ok() {
  run_capture ac "$2" fetch "$3"
  is "$1" "$status:$(cat "$TMP/.out")" "0:$4"
  [ "$status" -eq 0 ] || note "stderr: $(head -c 2000 "$TMP/.err")"
}

# snap DIR: every entry below DIR with its type, inode, size, mode and mtime.
snap() {
  (cd "$1" && find . -printf '%p %y %i %s %m %T@\n' | LC_ALL=C sort)
}

# leftovers DIR EXPECTED...: names in DIR (hidden ones too) other than EXPECTED.
leftovers() {
  local dir=$1
  shift
  (cd "$dir" && ls -A) | grep -vxF -f <(printf '%s\n' "$@" "") || true
}

# count DIR: entries in DIR, hidden ones included.
count() { (cd "$1" && ls -A | wc -l); }

# content FILE: FILE's content, or "<missing>" / "<not a file>".
content() {
  if [ -L "$1" ]; then echo "<symlink>"; elif [ -f "$1" ]; then cat "$1"; elif [ -e "$1" ]; then echo "<not a file>"; else echo "<missing>"; fi
}

# tree_key ID...: the cache key of a tree rendered from these layers (top
# image first), as docs/store.md defines it.
tree_key() {
  { printf 'actool-tree 2\n'; printf '%s\n' "$@"; } | sha256sum | cut -c1-64
}

# tree_manifest DIR: one line per entry below DIR (itself included), sorted:
# type, mode, owner, mtime (not for symlinks), size and content hash, link
# target, device numbers, xattrs, and for files with several links the first
# path of the same inode.  (A few processes per tree, not per file.)
tree_manifest() {
  (
    cd "$1" 2>/dev/null || exit 1
    declare -A first=() sum=() xat=()
    local line cur p type mode uid gid mtime size major minor ino nlink x
    while IFS= read -r line; do sum[${line:66}]=${line:0:64}; done < <(find . -type f -print0 | xargs -0r sha256sum)
    while IFS= read -r line; do
      case $line in
        "# file: "*)
          cur=${line#\# file: }
          [ "$cur" = . ] || cur=./$cur
          ;;
        "" | security.selinux=*) ;;
        *) xat[$cur]+="$line"$'\n' ;;
      esac
    done < <(getfattr -h -R -d -m - -e hex . 2>/dev/null)
    find . -print0 | LC_ALL=C sort -z | xargs -0r stat -c '%n|%F|%a|%u|%g|%Y|%s|%t|%T|%i|%h' |
      while IFS='|' read -r p type mode uid gid mtime size major minor ino nlink; do
        line="$p type=$type mode=$mode uid=$uid gid=$gid"
        case $type in
          symbolic\ link) line+=" target=$(readlink -- "$p")" ;;
          directory) line+=" mtime=$mtime" ;;
          regular*)
            line+=" mtime=$mtime size=$size sha256=${sum[$p]:-?}"
            if [ "$nlink" -gt 1 ]; then
              [ -n "${first[$ino]:-}" ] || first[$ino]=$p
              line+=" links=$nlink same-as=${first[$ino]}"
            fi
            ;;
          character\ special\ file | block\ special\ file) line+=" mtime=$mtime dev=$((16#$major)),$((16#$minor))" ;;
          *) line+=" mtime=$mtime" ;;
        esac
        if [ -n "${xat[$p]:-}" ]; then
          x=$(printf '%s' "${xat[$p]}" | LC_ALL=C sort | tr '\n' ' ')
          line+=" xattrs=$x"
        fi
        printf '%s\n' "$line"
      done
  )
}

# same_tree DESCRIPTION WANT_DIR GOT_DIR: the two trees match field by field.
same_tree() {
  tree_manifest "$2" >"$TMP/want.txt"
  tree_manifest "$3" >"$TMP/got.txt" 2>&1
  if [ -d "$3" ] && diff -u "$TMP/want.txt" "$TMP/got.txt" >"$TMP/tree.diff"; then ok "$1"; else
    not_ok "$1"
    [ -d "$3" ] || note "$3 does not exist"
    while IFS= read -r l; do note "$l"; done < <(head -n 60 "$TMP/tree.diff")
  fi
}

# json_time RFC3339: seconds since the epoch (fraction dropped).
json_time() { jq -rn --arg t "$1" '$t | sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601'; }

# --- the images ---------------------------------------------------------------

L=$TMP/layouts
layout "$L/app1" "$(mf example.com/app 1.0.0)"
put "$L/app1/rootfs/etc/app" "app one"
head -c 100000 /dev/urandom >"$L/app1/rootfs/data"
mkaci ID_APP1 "$L/app1" "$IN/app1.aci"
layout "$L/app2" "$(mf example.com/app 2.0.0)"
put "$L/app2/rootfs/etc/app" "app two"
mkaci ID_APP2 "$L/app2" "$IN/app2.aci"
layout "$L/other" "$(mf example.com/other 1.0.0)"
put "$L/other/rootfs/other" "other"
mkaci ID_OTHER "$L/other" "$IN/other.aci" --compression=xz
# Imported version 2 first, then version 1: the newest import is version 1.
layout "$L/order2" "$(mf example.com/order 2)"
put "$L/order2/rootfs/v" "2"
mkaci ID_ORDER2 "$L/order2" "$IN/order2.aci"
layout "$L/order1" "$(mf example.com/order 1)"
put "$L/order1/rootfs/v" "1"
mkaci ID_ORDER1 "$L/order1" "$IN/order1.aci" --no-compression

# --- fetch ----------------------------------------------------------------------

S=$TMP/store
check_rejects "fetch without --insecure-options=image is refused, naming the file" \
  'app1\.aci.*(signature|insecure-options)' $T "$ACTOOL" --dir="$S" fetch "$IN/app1.aci"
is "the refused fetch printed nothing on stdout" "$(cat "$TMP/.out")" ""
is "the refused fetch imported nothing" "$(ls -A "$S/images" "$S/blobs" 2>/dev/null | grep -c '^sha512-')" 0

before=$(date +%s)
fetch_ok "fetch prints the image ID that build printed" "$S" "$IN/app1.aci" "$ID_APP1"
after=$(date +%s)
is "the store has a format file" "$(cat "$S/format" 2>&1)" "actool-store 2"
check "the blob holds the bytes imported" cmp "$IN/app1.aci" "$S/blobs/$ID_APP1"
check "the record has info.json, manifest and lastuse" \
  test -f "$S/images/$ID_APP1/info.json" -a -f "$S/images/$ID_APP1/manifest" -a -f "$S/images/$ID_APP1/lastuse"
check "the record's manifest is the bytes of the image's manifest" \
  cmp <(gzip -dc "$IN/app1.aci" | tar -xOf - manifest) "$S/images/$ID_APP1/manifest"
is "info.json gives the ID, name, labels and uncompressed size" \
  "$(jq -cS '{id, name, labels, size}' "$S/images/$ID_APP1/info.json" 2>&1)" \
  "$(jq -cnS --arg id "$ID_APP1" --argjson size "$(gzip -dc "$IN/app1.aci" | wc -c)" \
    '{id: $id, name: "example.com/app", labels: [{name: "version", value: "1.0.0"}, {name: "os", value: "linux"}, {name: "arch", value: "amd64"}], size: $size}')"
is "nothing is left in tmp/ or as a hidden blob" "$(ls -A "$S/tmp"; ls -A "$S/blobs" | grep -v '^sha512-')" ""

snap "$S" >"$TMP/snap1"
t0=$(jq -r .importTime "$S/images/$ID_APP1/info.json")
before=$(date +%s)
fetch_ok "a second fetch of the same file prints the same ID" "$S" "$IN/app1.aci" "$ID_APP1"
after=$(date +%s)
snap "$S" >"$TMP/snap2"
# Only the record's info.json is new (and so its directory's mtime): its
# import time, as rkt's re-import.
unrecorded() { grep -v -e '/info\.json ' -e "^\./images/$ID_APP1 " "$1"; }
if diff -u <(unrecorded "$TMP/snap1") <(unrecorded "$TMP/snap2") >"$TMP/snap.diff"; then
  ok "the second fetch leaves the blob and the rest of the store unchanged (same inodes, sizes, mtimes)"
else
  not_ok "the second fetch leaves the blob and the rest of the store unchanged (same inodes, sizes, mtimes)"
  while IFS= read -r l; do note "$l"; done <"$TMP/snap.diff"
fi
t1=$(jq -r .importTime "$S/images/$ID_APP1/info.json")
is "the second fetch renews the record's import time" "$([ "$t1" -gt "${t0:-0}" ] && echo newer)" newer
is "still one record and one blob" "$(count "$S/images") $(count "$S/blobs")" "1 1"

run_capture ac "$S" fetch "$IN/app2.aci" "$IN/other.aci" "$IN/order2.aci" "$IN/order1.aci"
is "fetch of several files prints one ID each, in order" "$status:$(tr '\n' ' ' <"$TMP/.out")" \
  "0:$ID_APP2 $ID_OTHER $ID_ORDER2 $ID_ORDER1 "
is "five records and five blobs" "$(count "$S/images") $(count "$S/blobs")" "5 5"
check "the xz image is stored as imported" cmp "$IN/other.aci" "$S/blobs/$ID_OTHER"
check "the uncompressed image is stored as imported" cmp "$IN/order1.aci" "$S/blobs/$ID_ORDER1"

check_rejects "fetch of a missing file fails naming it" 'no-such\.aci' ac "$S" fetch "$IN/no-such.aci"
run_capture ac "$S" fetch "$IN/no-such.aci" "$IN/app2.aci"
if [ "$status" -eq 1 ] && [ "$(cat "$TMP/.out")" = "$ID_APP2" ] && grep -q 'no-such\.aci' "$TMP/.err"; then
  ok "a failing file does not stop the others (exit 1, the good one's ID printed)"
else
  not_ok "a failing file does not stop the others (exit 1, the good one's ID printed)"
  note "exit $status" "stdout: $(cat "$TMP/.out")" "stderr: $(head -c 1000 "$TMP/.err")"
fi
check_fails "fetch with no argument is a usage error" 2 'fetch' ac "$S" fetch

# --- image list ---------------------------------------------------------------

run_capture ac "$S" image list
is "image list exits 0" "$status" 0
if head -n1 "$TMP/.out" | grep -Eq '^ID +NAME +LABELS +SIZE +IMPORTED'; then ok "image list starts with a header"; else
  not_ok "image list starts with a header"
  note "$(cat "$TMP/.out")"
fi
is "image list: a header and one row per image" "$(wc -l <"$TMP/.out")" 6
row=$(grep -F "${ID_APP1:0:19} " "$TMP/.out")
if grep -q 'example\.com/app' <<<"$row" && grep -q 'version=1\.0\.0' <<<"$row"; then ok "image list: the row shows the short ID, name and labels"; else
  not_ok "image list: the row shows the short ID, name and labels"
  note "$(cat "$TMP/.out")"
fi
run_capture ac "$S" image list --no-legend
is "image list --no-legend: one row per image, no header" "$status:$(wc -l <"$TMP/.out"):$(grep -c '^ID ' "$TMP/.out")" "0:5:0"
is "image list: IDs are sha512- and 12 hex digits" "$(awk '{print $1}' "$TMP/.out" | grep -cE '^sha512-[0-9a-f]{12}$')" 5
run_capture ac "$S" image list --no-legend --full
is "image list --full gives the full IDs" "$(awk '{print $1}' "$TMP/.out" | sort | tr '\n' ' ')" \
  "$(printf '%s\n' "$ID_APP1" "$ID_APP2" "$ID_OTHER" "$ID_ORDER2" "$ID_ORDER1" | sort | tr '\n' ' ')"
run_capture ac "$S" image list -q
is "image list -q: the full IDs alone, one per line" "$status:$(sort "$TMP/.out" | tr '\n' ' ')" \
  "0:$(printf '%s\n' "$ID_APP1" "$ID_APP2" "$ID_OTHER" "$ID_ORDER2" "$ID_ORDER1" | sort | tr '\n' ' ')"

run_capture ac "$S" image list --json
cp "$TMP/.out" "$TMP/list.json"
check "image list --json parses" jq -e 'type == "array" and length == 5' "$TMP/list.json"
is "image list --json: id, name, labels, size and blobSize of an image" \
  "$(jq -cS --arg id "$ID_APP1" '.[] | select(.id == $id) | {id, name, labels, size, blobSize}' "$TMP/list.json" 2>&1)" \
  "$(jq -cnS --arg id "$ID_APP1" --argjson size "$(gzip -dc "$IN/app1.aci" | wc -c)" --argjson blob "$(stat -c %s "$IN/app1.aci")" \
    '{id: $id, name: "example.com/app", labels: {version: "1.0.0", os: "linux", arch: "amd64"}, size: $size, blobSize: $blob}')"
is "image list --json: size and blobSize of the xz image" \
  "$(jq -c --arg id "$ID_OTHER" '.[] | select(.id == $id) | [.size, .blobSize]' "$TMP/list.json" 2>&1)" \
  "[$(xz -dc "$IN/other.aci" | wc -c),$(stat -c %s "$IN/other.aci")]"
t=$(jq -r --arg id "$ID_APP1" '.[] | select(.id == $id) | .importTime' "$TMP/list.json")
ts=$(json_time "$t" 2>/dev/null || echo 0)
if [ "$ts" -ge "$before" ] && [ "$ts" -le "$after" ]; then ok "image list --json: importTime is when fetch last ran ($t)"; else
  not_ok "image list --json: importTime is when fetch ran"
  note "importTime $t ($ts), fetch ran between $before and $after"
fi
# (Checked on all five images: a lastuse file whose creation counts as a use
# shows only now and then.)
is "image list --json: lastUsed is the import time before any use (all five images)" \
  "$(jq -r 'map(select(.lastUsed != .importTime) | "\(.name) \(.labels.version): importTime \(.importTime), lastUsed \(.lastUsed)") | join("; ")' "$TMP/list.json" 2>&1)" ""
# (app2 was fetched again after the failed fetch of no-such.aci)
is "image list --json: sorted by import time" \
  "$(jq -r '[.[].id] | join(" ")' "$TMP/list.json" 2>&1)" "$ID_APP1 $ID_OTHER $ID_ORDER2 $ID_ORDER1 $ID_APP2"
run_capture ac "$TMP/empty-store" image list --json
is "image list --json of an empty store is []" "$status:$(jq -c . "$TMP/.out" 2>&1)" "0:[]"
run_capture ac "$TMP/empty-store" image list --no-legend
is "image list --no-legend of an empty store prints nothing" "$status:$(cat "$TMP/.out")" "0:"
# Arguments are name patterns (issue 18): one that matches nothing lists
# nothing, and is no error.
run_capture ac "$S" image list -q no-such-image
is "image list with a name pattern that matches nothing lists nothing" "$status:$(cat "$TMP/.out")" "0:"
check_fails "image list --filter with an unknown key is a usage error" 2 'filter' ac "$S" image list --filter=extra

# --- IMAGE lookup (through image cat-manifest) --------------------------------

# manifest_of ACI: what cat-manifest prints for it.
manifest_of() { "$ACTOOL" cat-manifest "$1"; }
# finds DESCRIPTION SPEC ACI: IMAGE SPEC is the image of ACI.
finds() {
  run_capture ac "$S" image cat-manifest "$2"
  is "$1" "$status:$(cat "$TMP/.out")" "0:$(manifest_of "$3")"
}
finds "lookup by full ID" "$ID_APP1" "$IN/app1.aci"
finds "lookup by a unique prefix (sha512- and 12 hex digits)" "${ID_APP1:0:19}" "$IN/app1.aci"
finds "lookup by a longer prefix" "${ID_OTHER:0:40}" "$IN/other.aci"
check_rejects "a prefix of 11 hex digits is too short" "$(regex_quote "${ID_APP1:0:18}").*short" \
  ac "$S" image cat-manifest "${ID_APP1:0:18}"
check_rejects "a bare sha512- is too short" 'sha512-.*short' ac "$S" image cat-manifest sha512-
check_rejects "a prefix no image has: no such image" 'sha512-000000000000' \
  ac "$S" image cat-manifest sha512-000000000000
check_rejects "an ID with non-hex digits is refused" 'sha512-xyz' ac "$S" image cat-manifest sha512-xyz000000000000
finds "lookup by name: the newest import wins" example.com/app "$IN/app2.aci"
finds "lookup by name and label" example.com/app,version=1.0.0 "$IN/app1.aci"
finds "lookup by name and several labels" example.com/app,os=linux,version=1.0.0,arch=amd64 "$IN/app1.aci"
finds "lookup by name: the newest import, not the highest version" example.com/order "$IN/order1.aci"
finds "lookup by name and label: the older import" example.com/order,version=2 "$IN/order2.aci"
fetch_ok "fetching the older image again prints its ID" "$S" "$IN/app1.aci" "$ID_APP1"
finds "a repeated fetch makes the image the newest import (as rkt's)" example.com/app "$IN/app1.aci"
check_rejects "lookup of an unknown name fails naming it" 'example\.com/nope' ac "$S" image cat-manifest example.com/nope
check_rejects "lookup with a label no image has fails" 'example\.com/app' ac "$S" image cat-manifest example.com/app,version=9.9.9
# Two IDs sharing 12 hex digits cannot be made, but the index can be given a
# second record by hand (in a copy of the store) to see that lookup notices.
cp -a "$S" "$TMP/ambiguous"
twin=${ID_APP1:0:19}$(printf '%s' "${ID_APP1:19}" | tr '0-9a-f' 'f0-9a-e')
cp -a "$TMP/ambiguous/images/$ID_APP1" "$TMP/ambiguous/images/$twin"
jq -c --arg id "$twin" '.id = $id' "$S/images/$ID_APP1/info.json" >"$TMP/ambiguous/images/$twin/info.json"
check_rejects "an ambiguous prefix is refused" "$(regex_quote "${ID_APP1:0:19}").*ambiguous" \
  ac "$TMP/ambiguous" image cat-manifest "${ID_APP1:0:19}"
run_capture ac "$TMP/ambiguous" image cat-manifest "${ID_APP1:0:20}"
is "a longer prefix tells the twins apart" "$status:$(cat "$TMP/.out")" "0:$(manifest_of "$IN/app1.aci")"

# --- image cat-manifest -------------------------------------------------------

"$ACTOOL" cat-manifest "$IN/app1.aci" >"$TMP/cat.want"
ac "$S" image cat-manifest "$ID_APP1" >"$TMP/cat.got" 2>"$TMP/.err"
check "image cat-manifest prints what cat-manifest prints for the ACI, byte for byte" cmp "$TMP/cat.want" "$TMP/cat.got"
check "image cat-manifest prints the manifest bytes and a newline" \
  cmp <(cat "$L/app1/manifest"; echo) "$TMP/cat.got"
"$ACTOOL" cat-manifest --pretty-print "$IN/other.aci" >"$TMP/cat.want"
ac "$S" image cat-manifest --pretty-print example.com/other >"$TMP/cat.got" 2>"$TMP/.err"
check "image cat-manifest --pretty-print matches cat-manifest --pretty-print" cmp "$TMP/cat.want" "$TMP/cat.got"
check_fails "image cat-manifest without IMAGE is a usage error" 2 'cat-manifest' ac "$S" image cat-manifest

# --- image export -------------------------------------------------------------

X=$TMP/export
mkdir -p "$X"
check_clean "image export writes the image" ac "$S" image export "$ID_OTHER" "$X/other.aci"
check "the exported file is the file imported, byte for byte (xz)" cmp "$IN/other.aci" "$X/other.aci"
check_clean "the exported file validates" "$ACTOOL" validate "$X/other.aci"
fetch_ok "the exported file imports into a fresh store with the same ID" "$TMP/store-export" "$X/other.aci" "$ID_OTHER"
check_clean "image export by name" ac "$S" image export example.com/app,version=1.0.0 "$X/app1.aci"
check "the exported gzip image is the file imported" cmp "$IN/app1.aci" "$X/app1.aci"
echo precious >"$X/existing.aci"
check_rejects "image export onto an existing file fails without --overwrite" 'existing\.aci' \
  ac "$S" image export "$ID_APP1" "$X/existing.aci"
is "the existing file is untouched" "$(cat "$X/existing.aci")" precious
check_clean "image export --overwrite replaces it" ac "$S" image export --overwrite "$ID_APP1" "$X/existing.aci"
check "the replaced file is the image" cmp "$IN/app1.aci" "$X/existing.aci"
check_rejects "image export of an unknown image fails" 'example\.com/nope' ac "$S" image export example.com/nope "$X/nope.aci"
is "no file and no temporary left by the failed exports" "$(leftovers "$X" other.aci app1.aci existing.aci)" ""
run_capture ac "$S" image list --json
is "export counts as a use (lastUsed after importTime)" \
  "$(jq -r --arg id "$ID_OTHER" '.[] | select(.id == $id) | .lastUsed > .importTime' "$TMP/.out" 2>&1)" true

# --- image rm -----------------------------------------------------------------

R=$TMP/store-rm
run_capture ac "$R" fetch "$IN/app1.aci" "$IN/app2.aci"
is "rm store: two images fetched" "$status:$(wc -l <"$TMP/.out")" "0:2"
run_capture ac "$R" image rm example.com/app,version=1.0.0
is "image rm prints the ID removed" "$status:$(cat "$TMP/.out")" "0:$ID_APP1"
[ "$status" -eq 0 ] || note "stderr: $(head -c 1000 "$TMP/.err")"
is "the record and the blob are gone" "$(ls "$R/images" "$R/blobs" | grep -c "$ID_APP1")" 0
is "the other image is kept" "$(ls "$R/images" "$R/blobs" | grep -c "$ID_APP2")" 2
is "nothing left in tmp/ after rm" "$(ls -A "$R/tmp" | tr '\n' ' ')" ""
check_rejects "the removed image is not found by ID" 'no such image' ac "$R" image cat-manifest "$ID_APP1"
check_rejects "the removed image is not found by name and label" 'example\.com/app' ac "$R" image cat-manifest example.com/app,version=1.0.0
run_capture ac "$R" image list --json
is "image list no longer shows it" "$(jq -r '[.[].id] | join(" ")' "$TMP/.out" 2>&1)" "$ID_APP2"
run_capture ac "$R" image gc
if [ "$status" -eq 0 ] && grep -Eq 'removed 0 blobs' "$TMP/.out"; then ok "gc after rm has no blob to remove"; else
  not_ok "gc after rm has no blob to remove"
  note "exit $status" "stdout: $(cat "$TMP/.out")" "stderr: $(head -c 1000 "$TMP/.err")"
fi
check_rejects "image rm of an unknown image fails naming it" 'example\.com/nope' ac "$R" image rm example.com/nope
check_rejects "image rm of an image already removed fails" "$(regex_quote "$ID_APP1")" ac "$R" image rm "$ID_APP1"
check_fails "image rm without IMAGE is a usage error" 2 'rm' ac "$R" image rm
fetch_ok "a removed image can be fetched again" "$R" "$IN/app1.aci" "$ID_APP1"
check_clean "and it verifies" ac "$R" image verify
# An image rm waiting for the store while a fetch imports the image: the
# fetch still succeeds, printing the ID, the rm ordered after it (it used
# to fail when the rm came between the import and the look at the image's
# dependencies).  Both on one CPU, the fetch at a low priority, so that the
# woken rm runs first.
raced=
for round in $(seq 40); do
  taskset -c 0 nice -n 19 "$ACTOOL" --dir="$R" --insecure-options=image fetch "$IN/app1.aci" \
    >"$TMP/race.out" 2>"$TMP/race.err" &
  racer=$!
  sleep "0.0$((RANDOM % 3))$((RANDOM % 10))"
  taskset -c 0 "$ACTOOL" --dir="$R" image rm "$ID_APP1" >/dev/null 2>&1
  wait "$racer" && [ "$(cat "$TMP/race.out")" = "$ID_APP1" ] ||
    { raced="round $round: $(cat "$TMP/race.out" "$TMP/race.err")"; break; }
done
is "fetch racing with image rm of its image: 40 fetches succeed" "$raced" ""
check_clean "and the store verifies" ac "$R" image verify

# --- images with dependencies -------------------------------------------------

# The ACE spec's first example: A -> [B, C], C -> [D]; override order B, D, C, A.
layout "$L/b" "$(mf example.com/b 1)"
layout "$L/c" "$(mf example.com/c 1 "dependencies=[$(dep example.com/d 1)]")"
layout "$L/d" "$(mf example.com/d 1)"
layout "$L/a" "$(mf example.com/a 1 "dependencies=[$(dep example.com/b 1),$(dep example.com/c)]")"
for f in who:ABCD bc:BC bd:BD cd:CD ab:AB only-a:A only-b:B only-c:C only-d:D; do
  for img in $(echo "${f#*:}" | grep -o .); do
    put "$L/$(echo "$img" | tr ABCD abcd)/rootfs/files/${f%%:*}" "$img"
  done
done
mkaci ID_B "$L/b" "$IN/b.aci"
mkaci ID_C "$L/c" "$IN/c.aci"
mkaci ID_D "$L/d" "$IN/d.aci"
mkaci ID_A "$L/a" "$IN/a.aci"

# The second: A -> [B, C], B -> [D], C -> [D]; D's files pass through B's and
# C's pathWhitelists separately.
layout "$L/d2" "$(mf example.com/d2 1)"
for f in one two three; do put "$L/d2/rootfs/d/$f" "d2 $f"; done
layout "$L/b2" "$(mf example.com/b2 1 "dependencies=[$(dep example.com/d2)]" 'pathWhitelist=["/d/one","/b2"]')"
put "$L/b2/rootfs/b2" b2
put "$L/b2/rootfs/b2-hidden" "not whitelisted"
layout "$L/c2" "$(mf example.com/c2 1 "dependencies=[$(dep example.com/d2)]" 'pathWhitelist=["/d/two","/c2"]')"
put "$L/c2/rootfs/c2" c2
layout "$L/a2" "$(mf example.com/a2 1 "dependencies=[$(dep example.com/b2),$(dep example.com/c2)]")"
put "$L/a2/rootfs/a2" a2
mkaci ID_D2 "$L/d2" "$IN/d2.aci"
mkaci ID_B2 "$L/b2" "$IN/b2.aci"
mkaci ID_C2 "$L/c2" "$IN/c2.aci"
mkaci ID_A2 "$L/a2" "$IN/a2.aci"

# Dependencies by name and labels, and by imageID.
layout "$L/lib1" "$(mf example.com/lib 1)"
put "$L/lib1/rootfs/lib/version" 1
layout "$L/lib2" "$(mf example.com/lib 2)"
put "$L/lib2/rootfs/lib/version" 2
mkaci ID_LIB1 "$L/lib1" "$IN/lib1.aci"
mkaci ID_LIB2 "$L/lib2" "$IN/lib2.aci"
layout "$L/uses-lib1" "$(mf example.com/uses-lib1 1 "dependencies=[$(dep example.com/lib 1)]")"
layout "$L/uses-lib" "$(mf example.com/uses-lib 1 "dependencies=[$(dep example.com/lib)]")"
layout "$L/uses-id" "$(mf example.com/uses-id 1 "dependencies=[$(dep example.com/lib '' "$ID_LIB1")]")"
layout "$L/wrong-id" "$(mf example.com/wrong-id 1 "dependencies=[$(dep example.com/other '' "$ID_LIB1")]")"
layout "$L/missing" "$(mf example.com/missing 1 "dependencies=[$(dep example.com/not-in-store 1)]")"
layout "$L/cycle-p" "$(mf example.com/cycle-p 1 "dependencies=[$(dep example.com/cycle-q)]")"
layout "$L/cycle-q" "$(mf example.com/cycle-q 1 "dependencies=[$(dep example.com/cycle-p)]")"
for n in uses-lib1 uses-lib uses-id wrong-id missing cycle-p cycle-q; do
  put "$L/$n/rootfs/$n" "$n"
  mkaci "ID_$(echo "$n" | tr a-z- A-Z_)" "$L/$n" "$IN/$n.aci"
done

# pathWhitelist with nested paths.
layout "$L/wl" "$(mf example.com/wl 1 'pathWhitelist=["/a/b/c/file","/x","/a/b/link"]')"
put "$L/wl/rootfs/a/b/c/file" listed
put "$L/wl/rootfs/a/b/c/other" "not listed"
put "$L/wl/rootfs/a/b/other" "not listed"
put "$L/wl/rootfs/x" listed
put "$L/wl/rootfs/y" "not listed"
put "$L/wl/rootfs/e/f" "not listed"
ln -s c/file "$L/wl/rootfs/a/b/link"
mkaci ID_WL "$L/wl" "$IN/wl.aci"

# A symlink to a directory in a dependency, a directory in the top image.
layout "$L/symdir-base" "$(mf example.com/symdir-base 1)"
put "$L/symdir-base/rootfs/usr/lib/from-base" base
ln -s usr/lib "$L/symdir-base/rootfs/lib"
layout "$L/symdir" "$(mf example.com/symdir 1 "dependencies=[$(dep example.com/symdir-base)]")"
put "$L/symdir/rootfs/lib/from-top" top
mkaci ID_SYMDIR_BASE "$L/symdir-base" "$IN/symdir-base.aci"
mkaci ID_SYMDIR "$L/symdir" "$IN/symdir.aci"

# Every kind of file, for the metadata.
M=$L/meta
layout "$M" "$(mf example.com/meta 1)"
MR=$M/rootfs
mkdir -p "$MR/dev" "$MR/dir/sub" "$MR/emptydir" "$MR/setgid-dir" "$MR/sticky"
put "$MR/file" plain
put "$MR/setuid" '#!/bin/sh'
chmod 4755 "$MR/setuid"
put "$MR/setgid" sgid
chmod 2711 "$MR/setgid"
chmod 2775 "$MR/setgid-dir"
chmod 1777 "$MR/sticky"
put "$MR/private" private
chmod 0600 "$MR/private"
: >"$MR/empty-file"
ln -s file "$MR/symlink"
ln -s /nonexistent/absolute/target "$MR/dangling-symlink"
put "$MR/dir/hard1" linked
ln "$MR/dir/hard1" "$MR/dir/hard2"
ln "$MR/dir/hard1" "$MR/hard3"
head -c 300000 /dev/urandom >"$MR/dir/sub/random"
mkfifo "$MR/fifo"
chown 1000:1000 "$MR/file"
chown 1:2 "$MR/dir"
chown -h 3:4 "$MR/symlink"
chown 65534:65534 "$MR/private"
have_dev=true
mknod "$MR/dev/null" c 1 3 2>/dev/null && mknod "$MR/dev/loop0" b 7 0 2>/dev/null || have_dev=false
have_xattr=true
setfattr -n user.comment -v "hello xattr" "$MR/file" 2>/dev/null &&
  setfattr -n user.binary -v 0x00ff10 "$MR/file" 2>/dev/null &&
  setfattr -n user.on-dir -v yes "$MR/dir" 2>/dev/null || have_xattr=false
t=1000000000
find "$MR" -depth -print0 | while IFS= read -r -d '' p; do
  t=$((t + 3600))
  touch -h -d "@$t" -- "$p"
done
mkaci ID_META "$M" "$IN/meta.aci"
# The same files reached as a dependency.
layout "$L/meta-top" "$(mf example.com/meta-top 1 "dependencies=[$(dep example.com/meta)]")"
mkaci ID_META_TOP "$L/meta-top" "$IN/meta-top.aci"

G=$TMP/store-render
# Files given together are all imported before dependencies are looked
# for, so the order does not matter and a cycle is no obstacle.
run_capture ac "$G" fetch "$IN"/{b,c,d,a,d2,b2,c2,a2,lib1,lib2,uses-lib1,uses-lib,uses-id,cycle-p,cycle-q,wl,symdir-base,symdir,meta,meta-top}.aci
is "render store: 20 images fetched" "$status:$(wc -l <"$TMP/.out")" "0:20"
[ "$status" -eq 0 ] || note "stderr: $(head -c 2000 "$TMP/.err")"
# A dependency the store lacks cannot be fetched without the network: the
# images are imported all the same, not printed, and the failure names it.
run_capture ac "$G" fetch --store-only "$IN"/{wrong-id,missing}.aci
is "render store: broken dependencies reported" "$status:$(wc -l <"$TMP/.out")" "1:0"
cp "$TMP/.err" "$TMP/broken-deps.err"
check "render store: the missing dependency is named" grep -q "dependency example.com/not-in-store" "$TMP/broken-deps.err"
check "render store: the misnamed dependency is named" grep -q "dependency example.com/other: .* is named" "$TMP/broken-deps.err"
is "render store: images with broken dependencies imported anyway" \
  "$(ac "$G" image list --no-legend | grep -cE 'example.com/(wrong-id|missing) ')" "2"
# A chain of 70 dependencies: deeper than fetch once followed (64), as deep
# as a render takes (256 layers).
for i in $(seq 0 69); do
  if [ "$i" -lt 69 ]; then
    layout "$L/chain$i" "$(mf example.com/chain$i 1 "dependencies=[$(dep example.com/chain$((i + 1)))]")"
  else
    layout "$L/chain$i" "$(mf example.com/chain$i 1)"
  fi
  put "$L/chain$i/rootfs/chain/$i" "$i"
  "$ACTOOL" build "$L/chain$i" "$IN/chain$i.aci" >/dev/null
done
run_capture ac "$TMP/store-chain" fetch "$IN"/chain{0..69}.aci
is "a chain of 70 dependencies: all fetched" "$status:$(wc -l <"$TMP/.out")" "0:70"
run_capture ac "$TMP/store-chain" image render --rootfs example.com/chain0 "$TMP/chain-render"
is "... and rendered, every layer" "$status:$(ls "$TMP/chain-render/chain" 2>/dev/null | wc -l)" "0:70"

# A pathWhitelist that render refuses (relative, "..") is refused at
# import: such an image could never be rendered.
layout "$L/wlrel" "$(mf example.com/wlrel 1 'pathWhitelist=["f"]')"
layout "$L/wlup" "$(mf example.com/wlup 1 'pathWhitelist=["/a/../b"]')"
"$ACTOOL" build "$L/wlrel" "$IN/wlrel.aci" >/dev/null
"$ACTOOL" build "$L/wlup" "$IN/wlup.aci" >/dev/null
check_fails "import: a relative pathWhitelist entry is refused, naming the image and the entry" 1 \
  'wlrel\.aci: manifest: pathWhitelist: "f": not an absolute path$' ac "$TMP/store-wl" fetch "$IN/wlrel.aci"
check_fails "import: a pathWhitelist entry with .. is refused" 1 \
  'wlup\.aci: manifest: pathWhitelist: "/a/\.\./b": "\.\." is not allowed$' ac "$TMP/store-wl" fetch "$IN/wlup.aci"
is "... and neither is in the store" "$(ac "$TMP/store-wl" image list --no-legend | wc -l)" 0

# --overwrite of the store's own directory, or of one holding it: refused,
# saying why, and the store intact.
mkdir -p "$TMP/holder"
ac "$TMP/holder/store" fetch "$IN/b.aci" >/dev/null
for d in "$TMP/holder" "$TMP/holder/store"; do
  check_fails "render --overwrite into $(basename "$d"), which holds the store: refused, saying so" 1 \
    "holds the store .*/holder/store \(or is in it\): it cannot be replaced" \
    ac "$TMP/holder/store" image render --overwrite "$(ac "$TMP/holder/store" image list -q | head -1)" "$d"
done
is "... and the store is intact" "$(ac "$TMP/holder/store" image verify >/dev/null 2>&1; echo $?)" 0

# A DEST or OUT in the store, by its path, through a symlink or a bind
# mount: refused, naming it and the store, and the store intact.
# (render --overwrite IMAGE DIR/images once swapped the index for a
# rendered tree: nothing listed, and the next gc removed every blob.)
SI=$TMP/inside/store
ID_SI=$(ac "$SI" fetch "$IN/b.aci")
for i in 1 2; do # the second render makes the cached tree
  rm -rf "$TMP/inside/d"
  ac "$SI" image render "$ID_SI" "$TMP/inside/d" >/dev/null
done
K_SI=$(ls "$SI/trees" | head -1)
mkdir -p "$SI/trust/root.d"
ln -s "$SI" "$TMP/inside/link"
# refused_inside DESCRIPTION DEST COMMAND...: exit 1, naming DEST and the store
refused_inside() {
  check_fails "$1: refused, naming it and the store" 1 \
    "^actool: $(regex_quote "$2"): in the store $(regex_quote "$SI"): " "${@:3}"
}
for cmd in render extract bundle; do
  for d in images "images/$ID_SI" "blobs/$ID_SI" "trees/$K_SI" "trees/$K_SI/rootfs" trust \
    trust/root.d tmp new; do
    n=${d//$ID_SI/ID}
    refused_inside "image $cmd --overwrite IMAGE DIR/${n//$K_SI/KEY}" "$SI/$d" \
      ac "$SI" image "$cmd" --overwrite "$ID_SI" "$SI/$d"
  done
  refused_inside "image $cmd --overwrite IMAGE LINK/images (LINK a symlink to the store)" \
    "$TMP/inside/link/images" ac "$SI" image "$cmd" --overwrite "$ID_SI" "$TMP/inside/link/images"
done
# the cached tree while a user (a pod) holds its lock: never taken away
refused_inside "image render --overwrite IMAGE DIR/trees/KEY while its lock is held" \
  "$SI/trees/$K_SI" flock -s "$SI/trees/$K_SI/lock" \
  $T "$ACTOOL" --dir="$SI" image render --overwrite "$ID_SI" "$SI/trees/$K_SI"
refused_inside "layout init --from=IMAGE --layout=DIR/new" "$SI/new" \
  ac "$SI" layout init --from="$ID_SI" --layout="$SI/new"
for f in format lock "blobs/$ID_SI" "images/$ID_SI/info.json" new.aci; do
  refused_inside "image export --overwrite IMAGE DIR/${f//$ID_SI/ID}" "$SI/$f" \
    ac "$SI" image export --overwrite "$ID_SI" "$SI/$f"
done
refused_inside "image export IMAGE LINK/new.aci (LINK a symlink to the store)" \
  "$TMP/inside/link/new.aci" ac "$SI" image export "$ID_SI" "$TMP/inside/link/new.aci"
for d in new tmp; do
  refused_inside "image export --format=oci IMAGE oci:DIR/$d" "$SI/$d" \
    ac "$SI" image export --format=oci "$ID_SI" "oci:$SI/$d"
done
mkdir -p "$SI/cache"
ln -s "$SI/cache" "$TMP/inside/cache-link"
refused_inside "image export --format=oci IMAGE oci:LINK (LINK a symlink to DIR/cache, empty)" \
  "$TMP/inside/cache-link" ac "$SI" image export --format=oci "$ID_SI" "oci:$TMP/inside/cache-link"
mkdir -p "$TMP/inside/mnt" "$TMP/inside/trust-mnt"
if mount --bind "$SI" "$TMP/inside/mnt" 2>/dev/null; then
  refused_inside "image render --overwrite IMAGE MNT/images (MNT a bind mount of the store)" \
    "$TMP/inside/mnt/images" ac "$SI" image render --overwrite "$ID_SI" "$TMP/inside/mnt/images"
  umount "$TMP/inside/mnt"
else
  not_ok "a bind mount of the store (needs root)"
fi
if mount --bind "$SI/trust" "$TMP/inside/trust-mnt" 2>/dev/null; then
  refused_inside "image render --overwrite IMAGE MNT/root.d (MNT a bind mount of DIR/trust)" \
    "$TMP/inside/trust-mnt/root.d" \
    ac "$SI" image render --overwrite "$ID_SI" "$TMP/inside/trust-mnt/root.d"
  umount "$TMP/inside/trust-mnt"
else
  not_ok "a bind mount of the store's trust/ (needs root)"
fi
# A bind mount of a directory deeper in the store: ".." from it leaves at
# the mount's root, so only a climb through the store's own mount (by file
# handle) sees where it is.  Render into DIR/trees/KEY's rootfs once copied
# the tree into itself, level after level, until killed.
mkdir -p "$TMP/inside/deep"
for d in "trees/$K_SI" "trees/$K_SI/rootfs" "images/$ID_SI"; do
  n=${d//$ID_SI/ID}
  n=${n//$K_SI/KEY}
  if mount --bind "$SI/$d" "$TMP/inside/deep" 2>/dev/null; then
    for cmd in render extract; do
      refused_inside "image $cmd IMAGE MNT/new (MNT a bind mount of DIR/$n)" \
        "$TMP/inside/deep/new" ac "$SI" image "$cmd" "$ID_SI" "$TMP/inside/deep/new"
    done
    refused_inside "image export IMAGE MNT/new.aci (MNT a bind mount of DIR/$n)" \
      "$TMP/inside/deep/new.aci" ac "$SI" image export "$ID_SI" "$TMP/inside/deep/new.aci"
    umount "$TMP/inside/deep"
  else
    not_ok "a bind mount of the store's $n (needs root)"
  fi
done
is "... nothing was made in the tree or the record" \
  "$(cd "$SI" && ls -A "trees/$K_SI" "trees/$K_SI/rootfs" "images/$ID_SI" | grep -c new)" 0
is "... the store's format file is intact" "$(cat "$SI/format")" "actool-store 2"
is "... the image is still listed" "$(ac "$SI" image list -q 2>&1)" "$ID_SI"
check "... the store verifies" ac "$SI" image verify
is "... nothing was made in it" "$(cd "$SI" && ls -A . trust/root.d | tr '\n' ' ')" \
  ".: blobs cache format images lock tmp trees trust  trust/root.d: "
check "... and gc keeps the image's blob" sh -c "$T $ACTOOL --dir=$SI image gc --grace=0s && test -f $SI/blobs/$ID_SI"
is "... and the DEST rendered before is untouched, a tree beside the store still rendered into" \
  "$(ac "$SI" image render "$ID_SI" "$TMP/inside/d2" >/dev/null && ls "$TMP/inside/d2")" "manifest
rootfs"

# A render that fails while copying the cached tree (a full file system)
# names DEST, and leaves nothing there.
layout "$L/big" "$(mf example.com/big 1)"
for i in 1 2 3; do head -c 600K /dev/urandom >"$L/big/rootfs/f$i"; done
"$ACTOOL" build "$L/big" "$IN/big.aci" >/dev/null
ac "$TMP/store-full" fetch "$IN/big.aci" >/dev/null
ac "$TMP/store-full" image render example.com/big "$TMP/big1" >/dev/null
ac "$TMP/store-full" image render example.com/big "$TMP/big2" >/dev/null # makes the cached tree
mkdir "$TMP/small"
if mount -t tmpfs -o size=1m actool-test "$TMP/small"; then
  check_fails "a render out of space while copying the cached tree names DEST" 1 \
    "^actool: $TMP/small/dest/rootfs: f[0-9]: copying data: No space left on device\$" \
    ac "$TMP/store-full" image render example.com/big "$TMP/small/dest"
  is "... and leaves nothing in DEST's directory" "$(ls -A "$TMP/small")" ""
  umount "$TMP/small"
else
  not_ok "a 1 MiB tmpfs for the render out of space"
fi

D=$TMP/dest
mkdir -p "$D"

# --- image extract ------------------------------------------------------------

check_clean "image extract of an image with dependencies" ac "$G" image extract example.com/a "$D/extract-a"
is "extract: DEST holds manifest and rootfs" "$(ls -A "$D/extract-a" 2>&1 | tr '\n' ' ')" "manifest rootfs "
check "extract: DEST/manifest is the image's manifest" cmp "$L/a/manifest" "$D/extract-a/manifest"
is "extract: the image's own files only, no dependency's" "$(cd "$D/extract-a/rootfs/files" 2>/dev/null && ls | tr '\n' ' ')" "ab only-a who "
is "extract: the files hold the image's content" "$(content "$D/extract-a/rootfs/files/who")" A
check_clean "image extract --rootfs" ac "$G" image extract --rootfs "$ID_A" "$D/extract-a-rootfs"
is "extract --rootfs: DEST holds the rootfs contents directly" "$(ls -A "$D/extract-a-rootfs" 2>&1 | tr '\n' ' ')" "files "
is "extract --rootfs: no manifest" "$(content "$D/extract-a-rootfs/manifest")" "<missing>"
check_clean "image extract of an image with a pathWhitelist" ac "$G" image extract example.com/wl "$D/extract-wl"
is "extract ignores the pathWhitelist" \
  "$(cd "$D/extract-wl/rootfs" 2>/dev/null && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
  "./a ./a/b ./a/b/c ./a/b/c/file ./a/b/c/other ./a/b/link ./a/b/other ./e ./e/f ./x ./y "
is "no temporary left beside the extracted DESTs" "$(leftovers "$D" extract-a extract-a-rootfs extract-wl)" ""

# An existing DEST.
mkdir -p "$D/full"
put "$D/full/keep" "keep me"
snap "$D/full" >"$TMP/full.before"
check_rejects "extract into a non-empty DEST fails without --overwrite, naming it" 'full' \
  ac "$G" image extract "$ID_B" "$D/full"
is "the non-empty DEST is untouched" "$(snap "$D/full")" "$(cat "$TMP/full.before")"
check_rejects "extract --rootfs into a non-empty DEST fails too" 'full' ac "$G" image extract --rootfs "$ID_B" "$D/full"
is "the non-empty DEST is still untouched" "$(snap "$D/full")" "$(cat "$TMP/full.before")"
echo "a file" >"$D/a-file"
check_rejects "extract onto an existing file fails without --overwrite" 'a-file' ac "$G" image extract "$ID_B" "$D/a-file"
is "the existing file is untouched" "$(cat "$D/a-file")" "a file"
check_clean "extract --overwrite replaces a non-empty DEST" ac "$G" image extract --overwrite "$ID_B" "$D/full"
is "the old content is gone, the image is there" "$(content "$D/full/keep") $(content "$D/full/rootfs/files/who")" "<missing> B"
mkdir -p "$D/empty"
check_clean "extract into an existing empty directory works without --overwrite" ac "$G" image extract "$ID_B" "$D/empty"
is "the empty directory now holds the image" "$(content "$D/empty/rootfs/files/only-b")" B
check_rejects "extract into a missing parent directory fails" 'no-such-parent' ac "$G" image extract "$ID_B" "$D/no-such-parent/x"
is "no temporary left beside DEST after the failures" "$(leftovers "$D" extract-a extract-a-rootfs extract-wl full a-file empty)" ""
check_fails "image extract with one argument is a usage error" 2 'extract' ac "$G" image extract "$ID_B"
check_rejects "extract of an unknown image fails" 'example\.com/nope' ac "$G" image extract example.com/nope "$D/nope"

# --- image render: dependencies -------------------------------------------------

check_clean "render A -> [B, C], C -> [D]" ac "$G" image render example.com/a "$D/a"
F=$D/a/rootfs/files
is "override order B, D, C, A: file in A, B, C, D comes from A" "$(content "$F/who")" A
is "override order: file in B and C comes from C" "$(content "$F/bc")" C
is "override order: file in B and D comes from D" "$(content "$F/bd")" D
is "override order: file in C and D comes from C" "$(content "$F/cd")" C
is "override order: file in A and B comes from A" "$(content "$F/ab")" A
is "files of a single layer are all there" "$(content "$F/only-a")$(content "$F/only-b")$(content "$F/only-c")$(content "$F/only-d")" ABCD
is "render: DEST holds manifest and rootfs" "$(ls -A "$D/a" 2>&1 | tr '\n' ' ')" "manifest rootfs "
check "render: DEST/manifest is the top image's manifest" cmp "$L/a/manifest" "$D/a/manifest"
KEY_A=$(tree_key "$ID_A" "$ID_C" "$ID_D" "$ID_B")
# A first render writes DEST directly; the second builds the cached tree.
is "the first render makes no cached tree" "$(ls -A "$G/trees" | tr '\n' ' ')" ""
is "the image's record notes the key of its render" "$(cat "$G/images/$ID_A/tree" 2>&1)" "$KEY_A"
check_clean "render A a second time" ac "$G" image render example.com/a "$D/a-again"
is "one cached tree, named by the layers' key" "$(ls "$G/trees" | tr '\n' ' ')" "$KEY_A "
is "the tree lists its layers top image first: A, C, D, B" \
  "$(cat "$G/trees/$KEY_A/layers" 2>&1 | tr '\n' ' ')" "$ID_A $ID_C $ID_D $ID_B "
check "the tree has rootfs, manifest, digest and lock" test -d "$G/trees/$KEY_A/rootfs" -a -f "$G/trees/$KEY_A/manifest" \
  -a -f "$G/trees/$KEY_A/digest" -a -f "$G/trees/$KEY_A/lock"
check "the tree's digest is sha256- and 64 hex digits" grep -Eqx 'sha256-[0-9a-f]{64}' "$G/trees/$KEY_A/digest"
check "the tree's manifest is the top image's" cmp "$L/a/manifest" "$G/trees/$KEY_A/manifest"
same_tree "DEST/rootfs is a copy of the cached tree" "$G/trees/$KEY_A/rootfs" "$D/a-again/rootfs"
same_tree "the first render, made without the cache, equals the cached tree" "$G/trees/$KEY_A/rootfs" "$D/a/rootfs"
is "nothing left in the store's tmp/" "$(ls -A "$G/tmp" | tr '\n' ' ')" ""

check_clean "render the diamond A -> [B, C], B -> [D], C -> [D]" ac "$G" image render example.com/a2 "$D/a2"
is "the diamond: D's files as B's and C's whitelists let them through" \
  "$(cd "$D/a2/rootfs" 2>/dev/null && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
  "./a2 ./b2 ./c2 ./d ./d/one ./d/two "
is "the diamond: D's files hold D's content" "$(content "$D/a2/rootfs/d/one"); $(content "$D/a2/rootfs/d/two")" "d2 one; d2 two"
KEY_A2=$(tree_key "$ID_A2" "$ID_C2" "$ID_D2" "$ID_B2" "$ID_D2")
check_clean "render the diamond again (its cached tree)" ac "$G" image render example.com/a2 "$D/a2-again"
same_tree "the diamond from its cached tree equals its first render" "$D/a2/rootfs" "$D/a2-again/rootfs"
is "the diamond's layers: A, C, D, B, D (D twice)" \
  "$(cat "$G/trees/$KEY_A2/layers" 2>&1 | tr '\n' ' ')" "$ID_A2 $ID_C2 $ID_D2 $ID_B2 $ID_D2 "
check_clean "render B of the diamond" ac "$G" image render --rootfs example.com/b2 "$D/b2"
is "B alone: its whitelist applies to itself and to D" \
  "$(cd "$D/b2" 2>/dev/null && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" "./b2 ./d ./d/one "

check_clean "render with a dependency by name and label" ac "$G" image render example.com/uses-lib1 "$D/uses-lib1"
is "the labelled dependency is version 1 although version 2 is newer" "$(content "$D/uses-lib1/rootfs/lib/version")" 1
check_clean "render with a dependency by name only" ac "$G" image render example.com/uses-lib "$D/uses-lib"
is "the dependency by name is the newest import" "$(content "$D/uses-lib/rootfs/lib/version")" 2
check_clean "render with a dependency by imageID" ac "$G" image render example.com/uses-id "$D/uses-id"
is "the dependency by imageID is that image" "$(content "$D/uses-id/rootfs/lib/version")" 1
check_rejects "a dependency whose imageID names an image of another name is refused" 'example\.com/other|named otherwise' \
  ac "$G" image render example.com/wrong-id "$D/wrong-id"
check_rejects "a missing dependency is refused, naming it" 'example\.com/not-in-store' \
  ac "$G" image render example.com/missing "$D/missing"
check_rejects "a dependency cycle is refused" '[Cc]ycle' ac "$G" image render example.com/cycle-p "$D/cycle"
is "the refused renders left no DEST and no temporary" "$(ls -A "$D" | grep -E 'wrong-id|missing|cycle' | tr '\n' ' ')" ""
check_clean "extract ignores dependencies, even missing ones" ac "$G" image extract example.com/missing "$D/missing-extract"
is "the extracted image has its own file" "$(content "$D/missing-extract/rootfs/missing")" missing

check_clean "render an image with a nested pathWhitelist" ac "$G" image render --rootfs example.com/wl "$D/wl"
is "only the listed paths and their parent directories are rendered" \
  "$(cd "$D/wl" 2>/dev/null && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
  "./a ./a/b ./a/b/c ./a/b/c/file ./a/b/link ./x "
is "a listed symlink is kept as a symlink" "$(readlink "$D/wl/a/b/link")" c/file

check_clean "render a directory over a dependency's symlink to a directory" ac "$G" image render --rootfs example.com/symdir "$D/symdir"
if [ -d "$D/symdir/lib" ] && [ ! -L "$D/symdir/lib" ]; then ok "the top image's directory replaced the symlink"; else
  not_ok "the top image's directory replaced the symlink"
  note "$(ls -la "$D/symdir" "$D/symdir/lib" 2>&1)"
fi
is "the directory holds the top image's file only" "$(ls -A "$D/symdir/lib" 2>&1 | tr '\n' ' ')" "from-top "
is "the symlink's old target is untouched" "$(ls -A "$D/symdir/usr/lib" 2>&1 | tr '\n' ' ')" "from-base "

# --- image render: metadata ---------------------------------------------------

mkdir -p "$TMP/gnutar"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$IN/meta.aci" -C "$TMP/gnutar" 2>"$TMP/gnutar.err"
check_clean "render the image with every kind of file" ac "$G" image render example.com/meta "$D/meta"
same_tree "render: the rootfs matches GNU tar's extraction field by field" "$TMP/gnutar/rootfs" "$D/meta/rootfs"
grep -E '^\./(setuid|dir/hard2|dev/null|fifo|file) ' "$TMP/got.txt" >"$TMP/meta-lines.txt"
expect_line() { # DESCRIPTION PATH-REGEX FIELD-REGEX
  if grep -E "^$2 " "$TMP/meta-lines.txt" | grep -Eq -- "$3"; then ok "$1"; else
    not_ok "$1"
    note "rendered: $(grep -E "^$2 " "$TMP/meta-lines.txt" | head -c 600)"
  fi
}
expect_line "render keeps the setuid bit" '\./setuid' 'mode=4755'
expect_line "render keeps owners" '\./file' 'uid=1000 gid=1000'
expect_line "render keeps mtimes" '\./file' "mtime=$(stat -c %Y "$MR/file") "
expect_line "render keeps hard links (one inode)" '\./dir/hard2' 'links=3 same-as=\./dir/hard1'
expect_line "render keeps the fifo" '\./fifo' 'type=fifo'
if $have_dev; then expect_line "render recreates the device node" '\./dev/null' 'type=character special file .*dev=1,3'; else
  skip "render recreates the device node" "mknod not permitted here"
fi
if $have_xattr; then expect_line "render keeps user.* xattrs" '\./file' 'user\.binary=0x00ff10 user\.comment=0x68656c6c6f207861747472'; else
  skip "render keeps user.* xattrs" "user xattrs not supported on $TMP"
fi
check_clean "extract the image with every kind of file" ac "$G" image extract --rootfs example.com/meta "$D/meta-extract"
same_tree "extract: matches GNU tar's extraction field by field" "$TMP/gnutar/rootfs" "$D/meta-extract"
check_clean "render an image whose files all come from a dependency" ac "$G" image render example.com/meta-top "$D/meta-top"
tree_manifest "$TMP/gnutar/rootfs" | grep -v '^\. ' >"$TMP/want.txt"
tree_manifest "$D/meta-top/rootfs" 2>&1 | grep -v '^\. ' >"$TMP/got.txt"
if diff -u "$TMP/want.txt" "$TMP/got.txt" >"$TMP/tree.diff"; then ok "the dependency's files keep their metadata"; else
  not_ok "the dependency's files keep their metadata"
  while IFS= read -r l; do note "$l"; done < <(head -n 60 "$TMP/tree.diff")
fi

# --- the tree cache -----------------------------------------------------------

KEY_META=$(tree_key "$ID_META")
is "no tree after the image's first render" "$(ls "$G/trees" | grep -c "^$KEY_META$")" 0
check_clean "render the same image again" ac "$G" image render example.com/meta "$D/meta-again"
is "the second render built the image's cached tree" "$(ls "$G/trees" | grep -c "^$KEY_META$")" 1
same_tree "the second render equals the first" "$D/meta/rootfs" "$D/meta-again/rootfs"
check "its manifest too" cmp "$D/meta/manifest" "$D/meta-again/manifest"
ls "$G/trees" | LC_ALL=C sort >"$TMP/trees.before"
check_clean "render the same image a third time" ac "$G" image render example.com/meta "$D/meta-third"
is "the third render is served from the cache (no new tree)" "$(ls "$G/trees" | LC_ALL=C sort)" "$(cat "$TMP/trees.before")"
same_tree "the third render equals the first" "$D/meta/rootfs" "$D/meta-third/rootfs"

# The image's record remembers its tree's key (a hint that spares hashing);
# a hint is followed only to a tree with the same layers.
is "images/ID/tree names the image's tree" "$(cat "$G/images/$ID_META/tree" 2>&1)" "$KEY_META"
is "images/ID/tree of an image with dependencies" "$(cat "$G/images/$ID_A/tree" 2>&1)" "$KEY_A"
hint_case() { # hint_case DESCRIPTION HINT: render example.com/a with that hint
  printf '%s\n' "$2" >"$G/images/$ID_A/tree"
  ls "$G/trees" | LC_ALL=C sort >"$TMP/trees.before"
  rm -rf "$D/a-hint"
  check_clean "$1: render" ac "$G" image render example.com/a "$D/a-hint"
  is "$1: the tree of A's own layers is used" "$(content "$D/a-hint/rootfs/files/who")$(content "$D/a-hint/rootfs/files/bc")" AC
  is "$1: no tree made" "$(ls "$G/trees" | LC_ALL=C sort)" "$(cat "$TMP/trees.before")"
  is "$1: the hint is corrected" "$(cat "$G/images/$ID_A/tree" 2>&1)" "$KEY_A"
}
hint_case "a hint naming another image's tree" "$KEY_META"
hint_case "a hint naming no tree" "$(printf '0%.0s' {1..64})"
hint_case "a hint that is no key" "../../../etc"
check_clean "render --rootfs from the cache" ac "$G" image render --rootfs example.com/meta "$D/meta-rootfs"
same_tree "render --rootfs: DEST is the rootfs" "$D/meta/rootfs" "$D/meta-rootfs"
run_capture ac "$G" image list --json
is "render counts as a use (lastUsed after importTime)" \
  "$(jq -r --arg id "$ID_META" '.[] | select(.id == $id) | .lastUsed > .importTime' "$TMP/.out" 2>&1)" true

# Existing DESTs, as for extract.
mkdir -p "$D/rfull"
put "$D/rfull/keep" "keep me"
snap "$D/rfull" >"$TMP/rfull.before"
check_rejects "render into a non-empty DEST fails without --overwrite" 'rfull' ac "$G" image render "$ID_B" "$D/rfull"
is "the non-empty DEST is untouched" "$(snap "$D/rfull")" "$(cat "$TMP/rfull.before")"
check_clean "render --overwrite replaces it" ac "$G" image render --overwrite "$ID_B" "$D/rfull"
is "the old content is gone, the image is there" "$(content "$D/rfull/keep") $(content "$D/rfull/rootfs/files/who")" "<missing> B"
mkdir -p "$D/rempty"
check_clean "render into an existing empty directory" ac "$G" image render --rootfs "$ID_B" "$D/rempty"
is "the empty directory now holds the rootfs" "$(content "$D/rempty/files/only-b")" B
is "no temporary left beside any DEST" "$(ls -A "$D" | grep -c 'actool-tmp')" 0
check_fails "image render with one argument is a usage error" 2 'render' ac "$G" image render "$ID_B"

# --- image verify -------------------------------------------------------------

check_clean "verify passes on the render store" ac "$G" image verify
check_clean "verify of named images passes" ac "$G" image verify example.com/a "$ID_META"
check_rejects "verify of an unknown image fails" 'example\.com/nope' ac "$G" image verify example.com/nope

V=$TMP/store-verify
layout "$L/plain" "$(mf example.com/plain 1)"
put "$L/plain/rootfs/payload" "PAYLOAD-MARKER-0123456789"
mkaci ID_PLAIN "$L/plain" "$IN/plain.aci" --no-compression
run_capture ac "$V" fetch "$IN/plain.aci" "$IN/meta.aci"
is "verify store: two images" "$status:$(wc -l <"$TMP/.out")" "0:2"
check_clean "render in the verify store" ac "$V" image render example.com/meta "$D/v-meta"
check_clean "render it again: the second render builds the cached tree" ac "$V" image render --overwrite example.com/meta "$D/v-meta"
check_clean "verify passes on a sound store" ac "$V" image verify

# flip_byte FILE OFFSET: invert the byte at OFFSET.
flip_byte() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
blob=$V/blobs/$ID_PLAIN
off=$(grep -obUa 'PAYLOAD-MARKER' "$blob" | head -n1 | cut -d: -f1)
flip_byte "$blob" "$((off + 3))"
check_rejects "verify: a flipped byte in a blob is damage, naming the blob" "$(regex_quote "blobs/$ID_PLAIN")" ac "$V" image verify
check_rejects "verify IMAGE of the damaged image fails too" "$(regex_quote "$ID_PLAIN")" ac "$V" image verify "$ID_PLAIN"
check_clean "verify IMAGE of another image passes" ac "$V" image verify "$ID_META"
flip_byte "$blob" "$((off + 3))"
check_clean "verify passes once the byte is restored" ac "$V" image verify
gblob=$V/blobs/$ID_META
cp "$gblob" "$TMP/gblob.bak"
flip_byte "$gblob" $(($(stat -c %s "$gblob") / 2))
check_rejects "verify: a flipped byte in a gzip blob is damage, naming it" "$(regex_quote "$ID_META")" ac "$V" image verify
cp "$TMP/gblob.bak" "$gblob"
check_clean "verify passes once the gzip blob is restored" ac "$V" image verify

KEY_V=$(tree_key "$ID_META")
{ echo tampered >>"$V/trees/$KEY_V/rootfs/dir/sub/random"; } 2>/dev/null || note "no tree $KEY_V to tamper with"
check_rejects "verify: a changed file in a rendered tree is damage, naming the tree" "$(regex_quote "trees/$KEY_V")" ac "$V" image verify
check_rejects "verify IMAGE checks the trees made from it" "$(regex_quote "trees/$KEY_V")" ac "$V" image verify example.com/meta
check_clean "verify IMAGE of an image the tree is not made from passes" ac "$V" image verify example.com/plain
check_clean "gc --grace=0s drops the damaged tree" ac "$V" image gc --grace=0s
is "the damaged tree is gone" "$(ls -A "$V/trees" | tr '\n' ' ')" ""
check_clean "verify passes without the tree" ac "$V" image verify
check_clean "render rebuilds the tree" ac "$V" image render --overwrite example.com/meta "$D/v-meta"
same_tree "the rebuilt tree renders as before" "$D/meta/rootfs" "$D/v-meta/rootfs"
check_clean "verify passes with the rebuilt tree" ac "$V" image verify
is "the tree notes its format" "$(cat "$V/trees/$KEY_V/format" 2>&1)" "actool-tree 2"

# A tree of format 1 (whose content hashes read every byte of a hole): its
# key is another, a hint to it is not taken, verify leaves it, gc removes it.
KEY_OLD=$({ printf 'actool-tree 1\n'; printf '%s\n' "$ID_META"; } | sha256sum | cut -c1-64)
cp -a "$V/trees/$KEY_V" "$V/trees/$KEY_OLD" && rm -f "$V/trees/$KEY_OLD/format" &&
  echo tampered >>"$V/trees/$KEY_OLD/rootfs/dir/sub/random" && printf '%s\n' "$KEY_OLD" >"$V/images/$ID_META/tree"
# ... in a store of format 1, as the release before made it
echo 'actool-store 1' >"$V/format"
# ... beside a tree of a newer format, which this release leaves alone
KEY_NEW=$(printf 'actool-tree 3\n' | sha256sum | cut -c1-64)
cp -a "$V/trees/$KEY_V" "$V/trees/$KEY_NEW" && echo 'actool-tree 3' >"$V/trees/$KEY_NEW/format" &&
  echo tampered >>"$V/trees/$KEY_NEW/rootfs/dir/sub/random"
check_clean "render with a hint to a tree of format 1" ac "$V" image render --overwrite example.com/meta "$D/v-meta"
is "the store of format 1 is now of format 2" "$(cat "$V/format" 2>&1)" "actool-store 2"
same_tree "... renders the current tree, not the old one" "$D/meta/rootfs" "$D/v-meta/rootfs"
is "... and the hint names the current tree again" "$(cat "$V/images/$ID_META/tree" 2>&1)" "$KEY_V"
check_clean "verify leaves a tree of format 1 alone" ac "$V" image verify
check_clean "gc keeps recent trees but those of format 1" ac "$V" image gc
is "... the old tree is gone, the current one and the newer one stay" \
  "$(ls -A "$V/trees" | sort | tr '\n' ' ')" "$(printf '%s\n' "$KEY_V" "$KEY_NEW" | sort | tr '\n' ' ')"
rm -rf "${V:?}/trees/$KEY_NEW"
# A current tree that lost its format file is damage: not used, verify
# names it, gc removes it.
rm -f "$V/trees/$KEY_V/format"
check_rejects "verify names a current tree without its format file" "$(regex_quote "trees/$KEY_V").*format" \
  ac "$V" image verify
check_rejects "render refuses a tree without its format file" "$(regex_quote "trees/$KEY_V").*format" \
  ac "$V" image render --overwrite example.com/meta "$D/v-meta"
check_clean "gc removes it" ac "$V" image gc
check_clean "and render rebuilds it" ac "$V" image render --overwrite example.com/meta "$D/v-meta"
check_clean "verify passes with the rebuilt tree" ac "$V" image verify

mv "$blob" "$TMP/plain.blob"
check_rejects "verify: a record whose blob is missing is damage, naming the image" "$(regex_quote "$ID_PLAIN")" ac "$V" image verify
mv "$TMP/plain.blob" "$blob"
check_clean "verify passes once the blob is back" ac "$V" image verify

# Importing the image again repairs a missing or cut blob with the copy it
# reads (which matched the image ID); a sound one stays as it is.
rm "$blob"
check_clean "a record whose blob is missing: the same ACI imported again" ac "$V" fetch "$IN/plain.aci"
check_clean "... puts the blob back: verify passes" ac "$V" image verify
truncate -s 100 "$blob"
check_clean "a blob cut short: the same ACI imported again" ac "$V" fetch "$IN/plain.aci"
check_clean "... replaces it: verify passes" ac "$V" image verify
ino=$(stat -c %i "$blob")
check_clean "a sound blob: the same ACI imported again" ac "$V" fetch "$IN/plain.aci"
is "... leaves it as it was (the same file)" "$(stat -c %i "$blob")" "$ino"
info=$V/images/$ID_PLAIN/info.json
cp "$info" "$TMP/info.bak"
echo 'not json' >"$info"
check_rejects "verify: a damaged info.json is damage, naming it" "$(regex_quote "$ID_PLAIN").*info\.json|info\.json.*$(regex_quote "$ID_PLAIN")" ac "$V" image verify
cp "$TMP/info.bak" "$info"
rman=$V/images/$ID_PLAIN/manifest
cp "$rman" "$TMP/rman.bak"
printf ' ' >>"$rman"
check_rejects "verify: a record manifest differing from the blob's is damage, naming it" "$(regex_quote "$ID_PLAIN")" ac "$V" image verify
cp "$TMP/rman.bak" "$rman"
check_clean "verify passes once the record is restored" ac "$V" image verify

# --- image gc -----------------------------------------------------------------

C=$TMP/store-gc
layout "$L/gc1" "$(mf example.com/gc 1)"
put "$L/gc1/rootfs/gc" 1
layout "$L/gc2" "$(mf example.com/gc 2)"
put "$L/gc2/rootfs/gc" 2
layout "$L/gc3" "$(mf example.com/gc 3)"
put "$L/gc3/rootfs/gc" 3
mkaci ID_GC1 "$L/gc1" "$IN/gc1.aci"
mkaci ID_GC2 "$L/gc2" "$IN/gc2.aci"
mkaci ID_GC3 "$L/gc3" "$IN/gc3.aci"
run_capture ac "$C" fetch "$IN/gc1.aci" "$IN/gc2.aci" "$IN/gc3.aci"
is "gc store: three images" "$status:$(wc -l <"$TMP/.out")" "0:3"
check_clean "gc store: render image 1" ac "$C" image render example.com/gc,version=1 "$D/gc1"
check_clean "gc store: render image 1 again (its cached tree)" ac "$C" image render --overwrite example.com/gc,version=1 "$D/gc1"
KEY_GC1=$(tree_key "$ID_GC1")
fake=sha512-$(printf '0%.0s' $(seq 1 128))
cp "$C/blobs/$ID_GC1" "$C/blobs/$fake"
rm -rf "${C:?}/images/$ID_GC3"
mkdir -p "$C/tmp/tree-stale" "$C/tmp/record-stale"
echo junk >"$C/tmp/tree-stale/file"
echo junk >"$C/tmp/stale-file"
: >"$C/blobs/.tmp-blob-stale"
echo partial >"$C/tmp/download-fresh"
echo partial >"$C/tmp/download-old"
touch -d '3 days ago' "$C/tmp/download-old"
run_capture ac "$C" image gc
is "gc exits 0" "$status" 0
[ "$status" -eq 0 ] || note "stderr: $(head -c 2000 "$TMP/.err")"
if grep -Eq 'removed 2 blobs' "$TMP/.out"; then ok "gc reports the two blobs it removed"; else
  not_ok "gc reports the two blobs it removed"
  note "stdout: $(cat "$TMP/.out")"
fi
is "gc removed the blob without a record (copied in)" "$(content "$C/blobs/$fake")" "<missing>"
is "gc removed the blob whose record was removed by hand" "$(content "$C/blobs/$ID_GC3")" "<missing>"
is "gc removed the hidden blob temporary" "$(content "$C/blobs/.tmp-blob-stale")" "<missing>"
is "gc kept the indexed blobs" "$(ls "$C/blobs" | LC_ALL=C sort | tr '\n' ' ')" "$(printf '%s\n' "$ID_GC1" "$ID_GC2" | LC_ALL=C sort | tr '\n' ' ')"
is "gc emptied tmp/ but for the young partial download" "$(ls -A "$C/tmp" | tr '\n' ' ')" "download-fresh "
is "gc kept the tree used recently (default grace)" "$(ls "$C/trees" | tr '\n' ' ')" "$KEY_GC1 "
run_capture ac "$C" image list --json
is "gc removes no image" "$(jq -r '[.[].id] | join(" ")' "$TMP/.out" 2>&1)" "$ID_GC1 $ID_GC2"
check_clean "verify passes after gc" ac "$C" image verify

touch -d '2 days ago' "$C/trees/$KEY_GC1/lock"
check_clean "gc with an old tree" ac "$C" image gc
is "gc removed the tree not used within the grace period" "$(ls -A "$C/trees" | tr '\n' ' ')" ""
check_clean "gc store: render image 1 again" ac "$C" image render --overwrite example.com/gc,version=1 "$D/gc1"
check_clean "gc store: render image 2" ac "$C" image render example.com/gc,version=2 "$D/gc2"
check_clean "gc store: render image 2 again (its cached tree)" ac "$C" image render --overwrite example.com/gc,version=2 "$D/gc2"
KEY_GC2=$(tree_key "$ID_GC2")
check_clean "gc store: remove image 2" ac "$C" image rm "$ID_GC2"
is "image rm leaves the image's tree to gc" "$(ls "$C/trees" | LC_ALL=C sort | tr '\n' ' ')" "$(printf '%s\n' "$KEY_GC1" "$KEY_GC2" | LC_ALL=C sort | tr '\n' ' ')"
check_clean "gc after rm" ac "$C" image gc
is "gc removed the tree of the removed image, kept the other" "$(ls "$C/trees" | tr '\n' ' ')" "$KEY_GC1 "
check_clean "gc --grace=90m" ac "$C" image gc --grace=90m
is "gc --grace=90m keeps the tree used just now" "$(ls "$C/trees" | tr '\n' ' ')" "$KEY_GC1 "

# A tree in use: hold its lock shared, as a render or a running pod does.
rm -f "$TMP/held"
(
  exec 9<"$C/trees/$KEY_GC1/lock" || exit 1
  flock -s 9 || exit 1
  : >"$TMP/held"
  exec sleep 30
) &
holder=$!
for _ in $(seq 1 600); do [ -e "$TMP/held" ] && break; sleep 0.05; done
run_capture ac "$C" image gc --grace=0s
if [ "$status" -eq 0 ] && grep -q '1 trees kept in use' "$TMP/.out"; then ok "gc --grace=0s reports the tree in use"; else
  not_ok "gc --grace=0s reports the tree in use"
  note "exit $status" "stdout: $(cat "$TMP/.out")" "stderr: $(head -c 1000 "$TMP/.err")"
fi
is "gc --grace=0s keeps a tree in use" "$(ls "$C/trees" | tr '\n' ' ')" "$KEY_GC1 "
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check_clean "gc --grace=0s once the tree is released" ac "$C" image gc --grace=0s
is "gc --grace=0s removes a tree used recently" "$(ls -A "$C/trees" | tr '\n' ' ')" ""
is "gc --grace=0s removes even a young partial download" "$(ls -A "$C/tmp" | tr '\n' ' ')" ""
check_fails "gc --grace=bogus is a usage error" 2 'grace|bogus' ac "$C" image gc --grace=bogus
check_fails "gc --grace=10 (no unit) is a usage error" 2 'grace|10' ac "$C" image gc --grace=10
# Go's duration syntax, not all strtod reads; at most Go's 2562047h.
for g in 0x10s 1e3s 1E3s 0x1p4h 1e400h infs 2562048h .s; do
  check_fails "gc --grace=$g is a usage error, as Go's ParseDuration has it" 2 "grace" ac "$C" image gc --grace=$g
done
check_clean "gc --grace=.5s (Go's form) is taken" ac "$C" image gc --grace=.5s
check_fails "gc takes no argument" 2 'gc' ac "$C" image gc extra
check_clean "render works after gc removed everything" ac "$C" image render --overwrite example.com/gc "$D/gc1"
is "the render after gc has the image's file" "$(content "$D/gc1/rootfs/gc")" 1
check_clean "verify passes at the end" ac "$C" image verify

# --- waiting for the store's lock ------------------------------------------------
# A command that finds the store's lock held by another process (a build
# holds it shared for its whole run, gc exclusive) says so on stderr, naming
# the lock and its holder, then waits and completes once the holder ends.

# wait_for_lock DESCRIPTION -s|-x STORE COMMAND...: lock_wait_check on
# STORE's lock.
wait_for_lock() {
  local desc=$1 mode=$2 store=$3
  shift 3
  lock_wait_check "$desc" "$mode" "$store/lock" "the store's lock ($store/lock)" "$@"
}

LK=$TMP/store-locked
check_clean "lock store: fetch an image" ac "$LK" fetch "$IN/app1.aci"
wait_for_lock "image list under gc's (exclusive) hold says it waits, then lists" -x "$LK" \
  ac "$LK" image list
is "image list then lists the image" "$(grep -c "^${ID_APP1:0:19}" "$TMP/.out")" 1
wait_for_lock "fetch under an exclusive hold says it waits, then imports" -x "$LK" \
  ac "$LK" fetch "$IN/app1.aci"
is "fetch then prints the image ID" "$(cat "$TMP/.out")" "$ID_APP1"
wait_for_lock "render under an exclusive hold says it waits, then renders" -x "$LK" \
  ac "$LK" image render "$ID_APP1" "$TMP/locked-render"
check "render then made the tree" test -d "$TMP/locked-render/rootfs"
wait_for_lock "verify under an exclusive hold says it waits, then verifies" -x "$LK" \
  ac "$LK" image verify
wait_for_lock "gc under a build's (shared) hold says it waits, then collects" -s "$LK" \
  ac "$LK" image gc
wait_for_lock "image rm under a shared hold says it waits, then removes" -s "$LK" \
  ac "$LK" image rm "$ID_APP1"
check_fails "image rm removed the image" 1 'no such image' ac "$LK" image cat-manifest "$ID_APP1"
lock_wait_cancel "a fetch waiting for the store's lock ends at SIGINT" "$LK/lock" \
  "$ACTOOL" --dir="$LK" --insecure-options=image fetch "$IN/app1.aci"
check_clean "with the lock free, image list says nothing on stderr" ac "$LK" image list
is "no notice when nobody holds the lock" "$(cat "$TMP/.err")" ""

# --- help and usage -------------------------------------------------------------

run_capture "$ACTOOL" help image
if [ "$status" -eq 0 ] && grep -q '^Usage: actool image' "$TMP/.out" &&
  [ "$(grep -Ec '^  (list|cat-manifest|render|extract|export|rm|gc|verify) ' "$TMP/.out")" -eq 8 ]; then
  ok "help image lists the eight subcommands"
else
  not_ok "help image lists the eight subcommands"
  note "exit $status" "$(head -c 2000 "$TMP/.out")"
fi
if grep -qi 'not available' "$TMP/.out"; then
  not_ok "help image does not call the image command unavailable"
  note "$(grep -i 'not available' "$TMP/.out")"
else ok "help image does not call the image command unavailable"; fi
run_capture "$ACTOOL" help
if grep -E '^  image ' "$TMP/.out" | grep -qi 'not available'; then
  not_ok "help does not list image as unavailable"
  note "$(grep -E '^  image ' "$TMP/.out")"
else ok "help does not list image as unavailable"; fi
help_image=$("$ACTOOL" help image 2>/dev/null)
run_capture "$ACTOOL" image --help
is "image --help prints what help image prints" "$status:$(cat "$TMP/.out")" "0:$help_image"
run_capture "$ACTOOL" image list --help
if [ "$status" -eq 0 ] && grep -q '^Usage: actool image list' "$TMP/.out" && grep -q -- '--json' "$TMP/.out" &&
  grep -q -- '--no-legend' "$TMP/.out"; then ok "image list --help shows its usage and options"; else
  not_ok "image list --help shows its usage and options"
  note "exit $status" "$(head -c 2000 "$TMP/.out")"
fi
for sub in cat-manifest render extract export rm gc verify; do
  run_capture "$ACTOOL" help image "$sub"
  if [ "$status" -eq 0 ] && grep -q "^Usage: actool image $sub" "$TMP/.out"; then ok "help image $sub"; else
    not_ok "help image $sub"
    note "exit $status" "$(head -c 1000 "$TMP/.out")" "$(head -c 1000 "$TMP/.err")"
  fi
done
# A store on a read-only mount is read (the lock file opened read-only:
# flock needs no more), and what would write fails naming the rule.
if [ "$(id -u)" -eq 0 ]; then
  RO=$TMP/ro
  mkdir -p "$RO" && mount -t tmpfs -o size=64m tmpfs "$RO" &&
    ac "$RO/store" fetch "$IN/app1.aci" >"$TMP/ro.id" 2>"$TMP/.err" && mount -o remount,ro "$RO"
  check "a store on a read-only mount: image list" ac "$RO/store" image list -q
  is "... lists its image" "$(cat "$TMP/.out")" "$(cat "$TMP/ro.id")"
  check "... image cat-manifest" ac "$RO/store" image cat-manifest "$(cat "$TMP/ro.id")"
  check_fails "... a fetch into it fails, naming the file system" 1 'Read-only file system' \
    ac "$RO/store" fetch "$IN/app2.aci"
  umount "$RO"
else
  not_ok "a store on a read-only mount (needs root to mount one)"
fi
# A relative --dir is the same store as its absolute path.
check "fetch with a relative --dir" bash -c 'cd "$1" && "$2" --dir=relstore --insecure-options=image fetch "$3"' \
  _ "$TMP" "$ACTOOL" "$IN/app1.aci"
is "... the store is where it says" "$(ac "$TMP/relstore" image list -q | wc -l)" 1
echo "actool-store 99" >"$TMP/relstore/format"
check_fails "... and is known by its absolute path (a newer format is refused naming it)" 1 \
  "^actool: $TMP/relstore: store format 99 was written by a newer release" \
  bash -c 'cd "$1" && "$2" --dir=relstore image list' _ "$TMP" "$ACTOOL"

check_fails "an unknown image subcommand is a usage error" 2 'bogus' "$ACTOOL" image bogus
check_fails "image without a subcommand is a usage error" 2 'image' "$ACTOOL" image
check_fails "an unknown image list option is a usage error" 2 'bogus' "$ACTOOL" image list --bogus

done_testing
