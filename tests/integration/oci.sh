#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fetch oci:DIR[:REF]: OCI image layouts made by umoci (Debian's), with
# several layers, deleted files, replaced and opaque directories, links,
# setuid bits, owners and xattrs, imported as ACIs; the rendered rootfs
# equals what `umoci unpack` makes of the same image, file by file; hostile
# layouts are refused with nothing stored.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

S=$TMP/store
ac() { "$ACTOOL" --dir="$S" "$@"; }

if ! command -v umoci >/dev/null; then
  not_ok "umoci is installed (scripts/deps installs it)"
  done_testing
  exit
fi

. "$top_srcdir/tests/integration/lib-oci.sh" || exit 1

L=$TMP/layout
oci_make_image "$L" app
check "umoci made a two-layer image and a third was added" \
  test "$(jq '.layers | length' "$L/blobs/sha256/$(jq -r '.manifests[0].digest' "$L/index.json" | cut -d: -f2)")" = 3

check_fails "an OCI image is not imported without --insecure-options=image" 1 \
  'carries no signature to check \(use --insecure-options=image' ac fetch "oci:$L:app"
check "fetch oci:LAYOUT:app" ac --insecure-options=image fetch "oci:$L:app"
TOP=$(cat "$TMP/.out")
is "it prints the top image's ID" "$(grep -c '^sha512-' <<<"$TOP")" 1
is "three images in the store, one per layer" "$(ac image list -q | wc -l)" 3

# the top image's manifest
ac image cat-manifest "$TOP" >"$TMP/m.json"
is "name from the layout's directory" "$(jq -r .name "$TMP/m.json")" layout
is "labels version (the ref), os, arch" "$(jq -c '[.labels[] | .name + "=" + .value]' "$TMP/m.json")" \
  '["version=app","os=linux","arch=amd64"]'
is "exec: Entrypoint then Cmd" "$(jq -c .app.exec "$TMP/m.json")" '["/bin/sh","-c","echo hi"]'
is "Entrypoint and Cmd kept apart in docker2aci's annotations" \
  "$(jq -c '[.annotations[] | select(.name | test("^appc.io/docker/(entrypoint|cmd)$")) | .name + "=" + .value]' "$TMP/m.json")" \
  '["appc.io/docker/entrypoint=[\"/bin/sh\"]","appc.io/docker/cmd=[\"-c\",\"echo hi\"]"]'
is "user and group" "$(jq -r '.app.user + ":" + .app.group' "$TMP/m.json")" 1000:100
is "environment" "$(jq -c '[.app.environment[] | .name + "=" + .value]' "$TMP/m.json")" '["FOO=bar","EMPTY="]'
is "working directory" "$(jq -r .app.workingDirectory "$TMP/m.json")" /dir
is "ports" "$(jq -c '[.app.ports[] | .name + " " + .protocol + " " + (.port | tostring)] | sort' "$TMP/m.json")" \
  '["53-udp udp 53","80-tcp tcp 80"]'
is "volumes as mount points, named as docker2aci names them" "$(jq -c '.app.mountPoints' "$TMP/m.json")" \
  '[{"name":"volume-data","path":"/data"}]'
is "the config's labels as annotations" \
  "$(jq -r '.annotations[] | select(.name == "org.example") | .value' "$TMP/m.json")" yes
is "... and kept whole in appc.io/docker/labels, a JSON object" \
  "$(jq -r '.annotations[] | select(.name == "appc.io/docker/labels") | .value' "$TMP/m.json")" \
  '{"org.example":"yes"}'
is "depends on the layer below by image ID" \
  "$(jq -r '.dependencies | length, (.[0].imageID | startswith("sha512-"))' "$TMP/m.json" | paste -sd' ')" "1 true"
check "the whitelist carries the whiteouts: /gone and /dir/sub are not in it" \
  bash -c '! jq -r ".pathWhitelist[]" "$1" | grep -Eqx "/gone|/dir/sub(/f)?|/opq/old|/opq/sub.*"' _ "$TMP/m.json"

# the rendered tree, against umoci's own unpacking
check "image render" ac image render "$TOP" "$TMP/ours"
umoci unpack --image "$L:app" "$TMP/theirs" >/dev/null
listing "$TMP/theirs/rootfs" >"$TMP/theirs.txt"
same_tree "the rendered rootfs equals umoci unpack's, file by file" "$TMP/ours/rootfs"
is "deleted, replaced and opaque directories are gone" \
  "$(cd "$TMP/ours/rootfs" && ls -d gone dir/sub opq/old opq/sub 2>/dev/null | wc -l)" 0
is "the opaque directory keeps what its layer put there" "$(cat "$TMP/ours/rootfs/opq/kept")" kept
is "setuid bit kept" "$(stat -c %a "$TMP/ours/rootfs/bin/suid")" 4755
is "hard link kept" "$(stat -c %h "$TMP/ours/rootfs/etc/hard")" 2
is "owner kept" "$(stat -c %u:%g "$TMP/ours/rootfs/home/user/file")" 1000:1000

check "a second import of the same image gives the same ID" ac --insecure-options=image fetch "oci:$L:app"
is "... the same ID" "$(cat "$TMP/.out")" "$TOP"
is "... and no new image" "$(ac image list -q | wc -l)" 3

# ---- config labels and volumes that are not AC Names as they are ----
cp -a "$L" "$TMP/names"
umoci config --image "$TMP/names:app" --config.label License=GPLv2 --config.label 'Build Date=today' \
  --config.label created=no --config.label '..=x' --config.label 'appc.io/oci/index=sha256:0' \
  --config.label 'appc.io/oci/diff-id=sha256:0' \
  --config.volume /var/lib/x --config.volume /var/lib.x --config.volume /var/lib_x >/dev/null
check "an image whose config has labels and volumes that are no AC Names" \
  "$ACTOOL" --dir="$TMP/store-names" --insecure-options=image fetch "oci:$TMP/names:app"
"$ACTOOL" --dir="$TMP/store-names" image cat-manifest "$(cat "$TMP/.out")" >"$TMP/names.json"
is "labels: keys made AC Identifiers; one taken already or giving none left out" \
  "$(jq -c '[.annotations[] | select(.name | test("^(license|build-date|created)$")) | .name + "=" + .value] | sort' "$TMP/names.json")" \
  "[\"build-date=today\",\"created=$(jq -r '.annotations[] | select(.name == "created") | .value' "$TMP/m.json")\",\"license=GPLv2\"]"
is "labels named as the importer's own annotations (appc.io/...) are left out" \
  "$(jq -c '[.annotations[] | select(.name | test("^appc.io/oci/(index|diff-id)$"))]' "$TMP/names.json")" '[]'
is "volumes giving one name numbered, as docker2aci numbers them" \
  "$(jq -c '[.app.mountPoints[] | .name + "=" + .path] | sort' "$TMP/names.json")" \
  '["volume-data=/data","volume-var-lib-x-1=/var/lib/x","volume-var-lib-x-2=/var/lib_x","volume-var-lib-x=/var/lib.x"]'

# Labels whose keys give no AC Identifier, or another, or one taken: all
# kept as they were, in their order, in appc.io/docker/labels.
LABELS='{"Build Date":"today","org.opencontainers.image.source":"https://example.com/a/b",'\
'"K=V":"a \"quoted\" \\ value","":"empty key","UPPER":"","caf\u00e9 \u2603":"line\nbreak\ttab",'\
'"appc.io/oci/index":"sha256:0","version":"not the tag","created":"no"}'
cp -a "$L" "$TMP/labels" && $CRAFT config-set "$TMP/labels" app Labels "$LABELS"
check "an image whose Labels are no AC Identifiers" \
  "$ACTOOL" --dir="$TMP/store-labels" --insecure-options=image fetch "oci:$TMP/labels:app"
"$ACTOOL" --dir="$TMP/store-labels" image cat-manifest "$(cat "$TMP/.out")" >"$TMP/labels.json"
is "... appc.io/docker/labels holds them exactly, in their order" \
  "$(jq -c '.annotations[] | select(.name == "appc.io/docker/labels") | .value | fromjson' "$TMP/labels.json")" \
  "$(jq -c . <<<"$LABELS")"
is "... beside the annotations of AC Identifiers made of their keys" \
  "$(jq -c '[.annotations[] | select(.name | test("^(build-date|k-v|upper|version)$")) | .name + "=" + .value]' \
    "$TMP/labels.json")" '["build-date=today","k-v=a \"quoted\" \\ value","upper=","version=not the tag"]'

# Labels named as appc's well-known annotations whose values those may not
# have (homepage and documentation http(s) URLs): left out, with a log
# line, not the whole image refused; a later label of that name may have it.
WELLKNOWN='{"Homepage":"see README","documentation":"file:///etc/passwd","Documentation":"https://example.com/doc"}'
cp -a "$L" "$TMP/wellknown" && $CRAFT config-set "$TMP/wellknown" app Labels "$WELLKNOWN"
check "an image whose homepage label is no URL is imported" \
  "$ACTOOL" --debug --dir="$TMP/store-wellknown" --insecure-options=image fetch "oci:$TMP/wellknown:app"
cp "$TMP/.err" "$TMP/wellknown.err"
"$ACTOOL" --dir="$TMP/store-wellknown" image cat-manifest "$(tail -n1 "$TMP/.out")" >"$TMP/wellknown.json"
check "... the label left out with a log line naming it" grep -Fq \
  'config.Labels: "Homepage": "see README" is not a valid URL: the scheme must be http or https, as the annotation homepage must be; left out (appc.io/docker/labels keeps it)' \
  "$TMP/wellknown.err"
is "... no homepage annotation; documentation from the label that is a URL" \
  "$(jq -c '[.annotations[] | select(.name | test("^(homepage|documentation)$")) | .name + "=" + .value]' "$TMP/wellknown.json")" \
  '["documentation=https://example.com/doc"]'
is "... appc.io/docker/labels keeps them all" \
  "$(jq -c '.annotations[] | select(.name == "appc.io/docker/labels") | .value | fromjson' "$TMP/wellknown.json")" \
  "$(jq -c . <<<"$WELLKNOWN")"

# A config whose created is no RFC 3339 date (the annotation created must
# be one): the image is imported without it, the log says why.
cp -a "$L" "$TMP/badcreated" && $CRAFT config-set "$TMP/badcreated" app /created '"yesterday"'
check "an image whose config.created is no date is imported" \
  "$ACTOOL" --debug --dir="$TMP/store-badcreated" --insecure-options=image fetch "oci:$TMP/badcreated:app"
cp "$TMP/.err" "$TMP/badcreated.err"
"$ACTOOL" --dir="$TMP/store-badcreated" image cat-manifest "$(tail -n1 "$TMP/.out")" >"$TMP/badcreated.json"
check "... config.created left out with a log line naming it" grep -Eq \
  '^config\.created: "yesterday" [^;]*, as the annotation created must be; left out$' "$TMP/badcreated.err"
is "... no created annotation" \
  "$(jq -c '[.annotations[] | select(.name == "created")]' "$TMP/badcreated.json")" '[]'

# A port past 65535 by 2^32 (81 once wrapped) is refused, not wrapped.
cp -a "$L" "$TMP/bigport"
umoci config --image "$TMP/bigport:app" --config.exposedports 4294967377/tcp >/dev/null
check_fails "an exposed port of 4294967377 is refused" 1 'config.ExposedPorts: "4294967377/tcp": not PORT' \
  "$ACTOOL" --dir="$TMP/store-bigport" --insecure-options=image fetch "oci:$TMP/bigport:app"

# A user name of 300 bytes is kept whole (a name cut short is another user).
cp -a "$L" "$TMP/longuser"
longuser=$(printf 'u%.0s' {1..300})
umoci config --image "$TMP/longuser:app" --config.user "$longuser:7" >/dev/null
check "an image whose config's User is 300 bytes" \
  "$ACTOOL" --dir="$TMP/store-longuser" --insecure-options=image fetch "oci:$TMP/longuser:app"
is "... keeps it whole" \
  "$("$ACTOOL" --dir="$TMP/store-longuser" image cat-manifest "$(cat "$TMP/.out")" | jq -r '[(.app.user | length), .app.group] | join(" ")')" \
  "300 7"

# Docker writes EXPOSE 80/sctp as it is: appc's protocol is a free string.
cp -a "$L" "$TMP/sctp"
umoci config --image "$TMP/sctp:app" --config.exposedports 5000/sctp >/dev/null
check "an image exposing 5000/sctp" \
  "$ACTOOL" --dir="$TMP/store-sctp" --insecure-options=image fetch "oci:$TMP/sctp:app"
is "... has the port, named PORT-sctp" \
  "$("$ACTOOL" --dir="$TMP/store-sctp" image cat-manifest "$(cat "$TMP/.out")" |
    jq -c '[.app.ports[] | select(.protocol == "sctp") | .name + " " + (.port | tostring)]')" \
  '["5000-sctp 5000"]'
# Refusals of the config's app name the layout and the config blob.
cp -a "$L" "$TMP/dccp"
umoci config --image "$TMP/dccp:app" --config.exposedports 80/dccp >/dev/null
check_fails "a protocol other than tcp, udp, sctp is refused, naming the layout and the config" 1 \
  "$TMP/dccp: config sha256:[0-9a-f]{64}: config.ExposedPorts: \"80/dccp\": not PORT\\[/tcp./udp./sctp\\]" \
  "$ACTOOL" --dir="$TMP/store-dccp" --insecure-options=image fetch "oci:$TMP/dccp:app"
cp -a "$L" "$TMP/rootvol" && $CRAFT config-set "$TMP/rootvol" app Volumes '{"/": {}}'
check_fails "a volume at / is refused as one (not as a relative path)" 1 \
  "$TMP/rootvol: config sha256:[0-9a-f]{64}: config.Volumes: \"/\": a volume over the whole root file system cannot be one" \
  "$ACTOOL" --dir="$TMP/store-rootvol" --insecure-options=image fetch "oci:$TMP/rootvol:app"

# An Env naming a variable twice: the last value, as runc and Docker set it.
cp -a "$L" "$TMP/envtwice" && $CRAFT config-set "$TMP/envtwice" app Env '["A=1", "B=x", "A=2", "C"]'
check "an image whose config's Env sets A twice" \
  "$ACTOOL" --dir="$TMP/store-envtwice" --insecure-options=image fetch "oci:$TMP/envtwice:app"
is "... keeps its last value" \
  "$("$ACTOOL" --dir="$TMP/store-envtwice" image cat-manifest "$(cat "$TMP/.out")" |
    jq -c '[.app.environment[] | .name + "=" + .value]')" '["B=x","A=2","C="]'

# ---- --squash: one ACI of the rendered image ----
SQ=$TMP/store-squash
sq() { "$ACTOOL" --dir="$SQ" "$@"; }
check "fetch --squash oci:LAYOUT:app" sq --insecure-options=image fetch --squash "oci:$L:app"
SQ_ID=$(cat "$TMP/.out")
is "one image in the store, the layers' images removed again" "$(sq image list -q)" "$SQ_ID"
sq image cat-manifest "$SQ_ID" >"$TMP/sq.json"
is "no dependencies and no pathWhitelist" "$(jq -c '[.dependencies, .pathWhitelist]' "$TMP/sq.json")" '[null,null]'
is "the app, name and labels of the layered image" "$(jq -c '[.name, .labels, .app]' "$TMP/sq.json")" \
  "$(jq -c '[.name, .labels, .app]' "$TMP/m.json")"
is "annotated appc.io/oci/squashed" \
  "$(jq -r '.annotations[] | select(.name == "appc.io/oci/squashed") | .value' "$TMP/sq.json")" true
check "render the squashed image" sq image render "$SQ_ID" "$TMP/ours-squashed"
same_tree "the squashed rootfs equals umoci unpack's, file by file" "$TMP/ours-squashed/rootfs"
check "--squash into the store that has the layered image" ac --insecure-options=image fetch --squash "oci:$L:app"
is "... the squashed image is the same" "$(cat "$TMP/.out")" "$SQ_ID"
is "... and the layers it had are kept" "$(ac image list -q | grep -c "$TOP")" 1
check "image rm of the squashed image" ac image rm "$SQ_ID"

# A plain fetch while a --squash of the same image is between its import and
# the removal of the layers' images: the plain fetch finds those images in
# the store and takes them; the squash keeps what it took.  (A large layer
# makes the squash's render and build last long enough.)
RC=$TMP/race RB=$TMP/race-bundle RS=$TMP/store-race
umoci init --layout "$RC" && umoci new --image "$RC:t" >/dev/null &&
  umoci unpack --image "$RC:t" "$RB" >/dev/null && head -c 96M /dev/urandom >"$RB/rootfs/big" &&
  umoci repack --image "$RC:t" "$RB" >/dev/null && rm -rf "$RB" &&
  umoci unpack --image "$RC:t" "$RB" >/dev/null && echo top >"$RB/rootfs/top" &&
  umoci repack --image "$RC:t" "$RB" >/dev/null && rm -rf "$RB"
race_squash() { # race_squash WHAT SOURCE: the race, fetching SOURCE into a new store
  local what=$1 src=$2 squash_pid id
  rm -rf "$RS" "$TMP/race-render"
  "$ACTOOL" --dir="$RS" --insecure-options=image fetch --squash "$src" >"$TMP/race-squash.out" 2>&1 &
  squash_pid=$!
  for _ in $(seq 1000); do
    [ "$(find "$RS/images" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" -ge 2 ] && break
    sleep 0.01
  done
  check "$what: a plain fetch of the image a --squash is making" \
    "$ACTOOL" --dir="$RS" --debug --insecure-options=image fetch "$src"
  id=$(tail -n 1 "$TMP/.out")
  cp "$TMP/.err" "$TMP/race-plain.err"
  check "... took the layers' images the squash had imported" grep -q 'in the store as' "$TMP/race-plain.err"
  check "... the --squash succeeded" wait "$squash_pid"
  check "... the plain fetch's image renders: the squash kept what it took" \
    "$ACTOOL" --dir="$RS" image render "$id" "$TMP/race-render"
}
race_squash oci: "oci:$RC:t"
# A docker-archive's import holds the store's lock shared throughout: the
# squash's removal is nested in it, and the image record's lock is what
# keeps the claim and the removal apart.
if command -v skopeo >/dev/null && skopeo copy -q "oci:$RC:t" "docker-archive:$TMP/race.tar:example.com/race:t"; then
  race_squash docker-archive: "docker-archive:$TMP/race.tar"
else
  not_ok "skopeo copies the race's image into a docker-archive (scripts/deps installs skopeo)"
fi
rm -rf "$RC" "$RS" "$TMP/race-render" "$TMP/race.tar"

# ---- choosing the image ----
# (copies keep the directory's name, which names the image)
check "an index naming platforms: this machine's is taken" \
  bash -c 'mkdir "$2" && cp -a "$1" "$2" && python3 "$3" platforms "$2/layout" app' _ "$L" "$TMP/multi" "$top_srcdir/tests/integration/oci-craft.py"
check "fetch oci:MULTI:app" ac --insecure-options=image fetch "oci:$TMP/multi/layout:app"
is "... the same image" "$(cat "$TMP/.out")" "$TOP"
check_fails "an unknown ref is refused naming it" 1 'no image named "nope"' \
  ac --insecure-options=image fetch "oci:$L:nope"
check_fails "a directory that is not a layout is refused" 1 'not an OCI image layout' \
  ac --insecure-options=image fetch "oci:$TMP"

# ---- an image without layers (image-spec 1.1: "layers": [], as umoci new makes it) ----
Z=$TMP/zero
umoci init --layout "$Z" && umoci new --image "$Z:t" >/dev/null &&
  umoci config --image "$Z:t" --config.cmd /x --config.label org.example=zero >/dev/null
is "umoci made an image of no layers" \
  "$(jq '.layers | length' "$Z/blobs/sha256/$(jq -r '.manifests[0].digest' "$Z/index.json" | cut -d: -f2)")" 0
check "fetch oci:LAYOUT:t of an image without layers" ac --insecure-options=image fetch "oci:$Z:t"
ZID=$(cat "$TMP/.out")
ac image cat-manifest "$ZID" >"$TMP/zero.json"
is "... one ACI, with the config's app and labels, on nothing" \
  "$(jq -c '[.name, .app.exec, (.annotations[] | select(.name == "org.example") | .value), .dependencies]' \
    "$TMP/zero.json")" '["zero",["/x"],"zero",null]'
check "fetch oci:LAYOUT: (an empty ref): LAYOUT's one image, as skopeo reads it" \
  ac --insecure-options=image fetch "oci:$Z:"
is "... the same image" "$(cat "$TMP/.out")" "$ZID"
check "... which renders" ac image render "$ZID" "$TMP/zero-render"
is "... to an empty rootfs" "$(ls -A "$TMP/zero-render/rootfs")" ""
check "... and --squash imports it too" sq --insecure-options=image fetch --squash "oci:$Z:t"

# ---- hostile layouts: a clear error, nothing stored ----
count=$(ac image list -q | wc -l)
hostile() { # hostile DESCRIPTION PATTERN CRAFT-COMMAND ARGS...: a copy of the layout edited, refused
  local desc=$1 pattern=$2 copy=$TMP/h$_tap_n
  shift 2
  rm -rf "$copy" && cp -a "$L" "$copy" && $CRAFT "$1" "$copy" app "${@:2}"
  check_fails "$desc" 1 "$pattern" ac --insecure-options=image fetch "oci:$copy:app"
  is "... and nothing stored" "$(ac image list -q | wc -l)" "$count"
}
echo '[{"name": "../escape", "type": "file", "data": "x"}]' >"$TMP/dotdot.json"
echo '[{"name": "/abs", "type": "file", "data": "x"}]' >"$TMP/abs.json"
echo '[{"name": "etc/.wh...", "type": "file"}]' >"$TMP/whdotdot.json"
echo '[{"name": "x", "type": "hardlink", "target": "../../etc/passwd"}]' >"$TMP/hardlink.json"
hostile "a layer entry with .. is refused" '\.\.' add-layer "$TMP/dotdot.json"
hostile "a layer entry with an absolute name is refused" 'abs' add-layer "$TMP/abs.json"
hostile "a whiteout of .. is refused" 'whiteout of no name' add-layer "$TMP/whdotdot.json"
hostile "a hard link out of the rootfs is refused" '\.\.' add-layer "$TMP/hardlink.json"
python3 "$top_srcdir/tests/integration/oci-craft.py" sparse-claim "$TMP/claim.tar" claim
hostile "a sparse entry of 512 bytes claiming 1 TiB of data is refused, not written as zeros" \
  'claim: the data stops at byte 512, and the header says there is data up to byte 1099511627776' \
  add-tar-layer "$TMP/claim.tar"
# 1.1 GiB of zeros in some KiB of zstd: past 1000 times the blob and 1 GiB
mkdir -p "$TMP/bomb" && truncate -s 1100M "$TMP/bomb/zeros" &&
  tar -C "$TMP/bomb" -cf - zeros | sha256sum >"$TMP/bomb.sum" &&
  tar -C "$TMP/bomb" -cf - zeros | zstd -q -1 >"$TMP/bomb.zst"
hostile "a layer that expands past 1000 times its size and 1 GiB is refused" \
  'sha256:[0-9a-f]{64}: zeros: expands to more than [0-9]+ bytes \(1000 times its [0-9]+ bytes and 1 GiB' \
  add-blob-layer "$TMP/bomb.zst" application/vnd.oci.image.layer.v1.tar+zstd \
  "sha256:$(cut -d' ' -f1 "$TMP/bomb.sum")"
rm -rf "$TMP/bomb" "$TMP/bomb.zst"
# One blob listed twice is two layers, each applied (Docker's empty layer
# is listed so, and containerd and skopeo apply each); but the image's
# layers get one bound together, the blob counted once: 600 MiB of zeros
# in some KiB, within a layer's bound, listed twice is past the image's.
mkdir -p "$TMP/bomb" && truncate -s 600M "$TMP/bomb/zeros" &&
  tar -C "$TMP/bomb" -cf - zeros | sha256sum >"$TMP/bomb.sum" &&
  tar -C "$TMP/bomb" -cf - zeros | zstd -q -1 >"$TMP/bomb.zst"
rm -rf "$TMP/twice" && cp -a "$L" "$TMP/twice"
for _ in 1 2; do
  $CRAFT add-blob-layer "$TMP/twice" app "$TMP/bomb.zst" application/vnd.oci.image.layer.v1.tar+zstd \
    "sha256:$(cut -d' ' -f1 "$TMP/bomb.sum")"
done
check_fails "one small blob listed twice: its expansions count against one bound for the image" 1 \
  "sha256:[0-9a-f]{64}: zeros: the image's layers expand to more than [0-9]+ bytes in all \\(1000 times the [0-9]+ bytes they came in and 1 GiB, a fixed bound against decompression bombs, which a layer listed twice counts against twice" \
  ac --insecure-options=image fetch "oci:$TMP/twice:app"
is "... and nothing stored" "$(ac image list -q | wc -l)" "$count"
rm -rf "$TMP/bomb" "$TMP/bomb.zst" "$TMP/twice"
echo '[{"name": "again", "type": "file", "data": "once more\n"}]' >"$TMP/again.json"
echo '[{"name": "top", "type": "file", "data": "top\n"}]' >"$TMP/top.json"
rm -rf "$TMP/again" && cp -a "$L" "$TMP/again" &&
  $CRAFT add-layer "$TMP/again" app "$TMP/again.json" && $CRAFT add-layer "$TMP/again" app "$TMP/again.json" &&
  $CRAFT add-layer "$TMP/again" app "$TMP/top.json"
check "a small blob listed twice is imported, as skopeo and containerd import it" \
  "$ACTOOL" --dir="$TMP/store-again" --insecure-options=image fetch "oci:$TMP/again:app"
is "... one image per listed layer" "$("$ACTOOL" --dir="$TMP/store-again" image list -q | wc -l)" \
  "$(jq '.layers | length' "$TMP/again/blobs/sha256/$(jq -r '.manifests[0].digest' "$TMP/again/index.json" | cut -d: -f2)")"
check "... and renders" "$ACTOOL" --dir="$TMP/store-again" image render --rootfs "$(cat "$TMP/.out")" "$TMP/again-render"
is "... with the repeated layer's file and the top's" "$(cat "$TMP/again-render/again" "$TMP/again-render/top")" "once more
top"
rm -rf "$TMP/store-again" "$TMP/again" "$TMP/again-render"
hostile "a layer whose bytes do not match its digest is refused" 'does not match its digest' corrupt-layer 2
hostile "a label value holding \\u0000 is refused, not cut short" 'Labels.x: holds a NUL character' \
  config-set Labels '{"x": "a\u0000b"}'
hostile "an Entrypoint word holding \\u0000 is refused" 'Entrypoint\[0\]: holds a NUL character' \
  config-set Entrypoint '["/bin/sh\u0000-x"]'
hostile "indexes nested too deep are refused" 'nested more than 4 deep$' nest 6
hostile "a manifest larger than 4 MiB is refused unread, with no hint at a setting" \
  'more than a manifest or config may have \(4194304\)[^()]*$' \
  big-manifest 5000000
# index.json calls the image manifest an index: the descriptor is named.
rm -rf "$TMP/calledindex" && cp -a "$L" "$TMP/calledindex" &&
  jq '.manifests[0].mediaType = "application/vnd.oci.image.index.v1+json"' "$L/index.json" \
    >"$TMP/calledindex/index.json"
check_fails "a manifest index.json calls an index is refused, naming the descriptor" 1 \
  "$TMP/calledindex/index.json: manifests\\[0\\]: its mediaType says an index \\(application/vnd.oci.image.index.v1\\+json\\), but the content of sha256:[0-9a-f]{64} is an image manifest" \
  ac --insecure-options=image fetch "oci:$TMP/calledindex:app"
check "indexes nested 3 deep are followed" \
  bash -c 'mkdir "$2" && cp -a "$1" "$2" && python3 "$3" nest "$2/layout" app 3' _ "$L" "$TMP/nested" "$top_srcdir/tests/integration/oci-craft.py"
check "... and give the image" ac --insecure-options=image fetch "oci:$TMP/nested/layout:app"
is "... the same one" "$(cat "$TMP/.out")" "$TOP"
rm -rf "$TMP/link" && cp -a "$L" "$TMP/link" && mv "$TMP/link/blobs" "$TMP/elsewhere" && ln -s "$TMP/elsewhere" "$TMP/link/blobs"
check_fails "blobs/ as a symlink is not followed" 1 'blobs' ac --insecure-options=image fetch "oci:$TMP/link:app"
is "tmp/ holds nothing after the refusals" "$(ls -A "$S/tmp" | wc -l)" 0

# ---- sparse files (tar --sparse): holes kept ----
mkdir -p "$TMP/sparse" && truncate -s 1G "$TMP/sparse/big" &&
  printf a | dd of="$TMP/sparse/big" bs=1 seek=100000 conv=notrunc status=none &&
  printf z | dd of="$TMP/sparse/big" bs=1 seek=900000000 conv=notrunc status=none &&
  (cd "$TMP/sparse" && tar --sparse --owner=0 --group=0 -cf "$TMP/sparse.tar" big)
rm -rf "$TMP/sp" && cp -a "$L" "$TMP/sp" && $CRAFT add-tar-layer "$TMP/sp" app "$TMP/sparse.tar"
check "a layer holding a 1 GiB sparse file of two bytes is imported" \
  ac --insecure-options=image fetch "oci:$TMP/sp:app"
check "... and rendered" ac image render --rootfs "$(cat "$TMP/.out")" "$TMP/sp-ours"
check "... the file as it was" cmp "$TMP/sparse/big" "$TMP/sp-ours/big"
is "... its holes still holes (under 1 MiB of blocks)" \
  "$(($(stat -c '%b * %B' "$TMP/sp-ours/big") < 1048576))" 1

# ---- a layer refused once the layers below it were imported ----
# The store refuses what the conversion lets through (a hard link to a
# lower layer's file, which an ACI cannot hold); the layers below, imported
# first, go again: a new store is left empty.
refused_fresh() { # refused_fresh DESCRIPTION PATTERN ENTRIES-JSON [FETCH-OPTION...]
  local desc=$1 pattern=$2 copy=$TMP/f$_tap_n store=$TMP/store-f$_tap_n
  rm -rf "$copy" && cp -a "$L" "$copy" && $CRAFT add-layer "$copy" app "$3"
  check_fails "$desc" 1 "$pattern" "$ACTOOL" --dir="$store" --insecure-options=image fetch "${@:4}" \
    "oci:$copy:app"
  is "... and the layers below it are not left in the store" \
    "$("$ACTOOL" --dir="$store" image list -q | wc -l) $(ls -A "$store/tmp" | wc -l)" "0 0"
}
echo '[{"name": "lower-link", "type": "hardlink", "target": "etc/greeting"}]' >"$TMP/lowerlink.json"
refused_fresh "a hard link to a lower layer's file is refused, naming the layout and the layer" \
  "^actool: $TMP/f[0-9]+: sha256:[0-9a-f]{64}: .*hard link to rootfs/etc/greeting" \
  "$TMP/lowerlink.json"
printf '[{"name": "%s", "type": "file", "data": "x"}]' "$(printf 'n%.0s' {1..300})" >"$TMP/longname.json"
refused_fresh "--squash of a layer that cannot be rendered (a 300-byte name) fails, naming the rule" \
  'a name with a component of 300 bytes, longer than a file name can be \(255\)' "$TMP/longname.json" --squash

# ---- whiteouts at the root, as umoci unpack applies them ----
# same_as_umoci DESCRIPTION ENTRIES-JSON: a layer of ENTRIES on the image,
# rendered by us as umoci unpacks it.
same_as_umoci() {
  local copy=$TMP/w$_tap_n store=$TMP/store-w$_tap_n
  rm -rf "$copy" && cp -a "$L" "$copy" && $CRAFT add-layer "$copy" app "$2" &&
    umoci unpack --image "$copy:app" "$copy-umoci" >/dev/null
  "$ACTOOL" --dir="$store" --insecure-options=image fetch "oci:$copy:app" >"$TMP/w.id" &&
    "$ACTOOL" --dir="$store" image render --rootfs "$(cat "$TMP/w.id")" "$copy-ours" >/dev/null
  listing "$copy-umoci/rootfs" >"$copy-theirs.txt"
  listing "$copy-ours" >"$copy-ours.txt"
  if diff -u "$copy-theirs.txt" "$copy-ours.txt" >"$TMP/diff.txt"; then ok "$1"; else
    not_ok "$1"
    diag "$(head -c 3000 "$TMP/diff.txt")"
  fi
}
echo '[{"name": ".wh..wh..opq", "type": "file"}, {"name": "z", "type": "file", "data": "z\n"}]' >"$TMP/rootopq.json"
same_as_umoci "an opaque whiteout at the root leaves only the layer's own files" "$TMP/rootopq.json"
echo '[{"name": "home/.wh.user", "type": "file"}, {"name": "home/user/y", "type": "file", "data": "y\n"}]' \
  >"$TMP/remade.json"
same_as_umoci "a directory whited out and written below, without an entry of its own, is made anew" \
  "$TMP/remade.json"
echo '[{"name": ".wh..wh..opq", "type": "file"}]' >"$TMP/rootopq-only.json"
same_as_umoci "a layer that whites out everything leaves an empty rootfs" "$TMP/rootopq-only.json"
check "... whose image lists the rootfs alone as its whitelist" \
  bash -c '[ "$("$1" --dir="$2" image cat-manifest "$3" | jq -c .pathWhitelist)" = "[\"/\"]" ]' \
  _ "$ACTOOL" "$TMP/store-w$((_tap_n - 1))" "$(cat "$TMP/w.id")"

# ---- docker-archive: `docker save` output, as skopeo writes it ----
if ! command -v skopeo >/dev/null; then
  not_ok "skopeo is installed (scripts/deps installs it)"
else
  D=$TMP/docker
  mkdir -p "$D"
  check "skopeo copy oci:LAYOUT:app docker-archive:" \
    skopeo copy --quiet "oci:$L:app" "docker-archive:$D/app.tar:example.com/app:1.0"
  check_fails "a Docker image is not imported without --insecure-options=image" 1 \
    'carries no signature to check' ac fetch "docker-archive:$D/app.tar"
  check "fetch docker-archive:FILE" ac --insecure-options=image fetch "docker-archive:$D/app.tar"
  DTOP=$(cat "$TMP/.out")
  ac image cat-manifest "$DTOP" >"$TMP/dm.json"
  is "named after its repository, version from its tag" \
    "$(jq -r '.name + " " + (.labels[] | select(.name == "version") | .value)' "$TMP/dm.json")" \
    "example.com/app 1.0"
  is "the same app as from the layout" "$(jq -c .app "$TMP/dm.json")" "$(jq -c .app "$TMP/m.json")"
  is "the same layer names as from the layout (by diff_id)" \
    "$(jq -r '.dependencies[0].imageName' "$TMP/dm.json" | sed 's/^example.com.app-//')" \
    "$(jq -r '.dependencies[0].imageName' "$TMP/m.json" | sed 's/^layout-//')"
  check "image render" ac image render "$DTOP" "$TMP/docker-ours"
  same_tree "the rendered rootfs equals umoci unpack's of the layout, file by file" "$TMP/docker-ours/rootfs"
  check "fetch docker-archive:FILE:REPO:TAG" ac --insecure-options=image fetch "docker-archive:$D/app.tar:example.com/app:1.0"
  is "... the same image" "$(cat "$TMP/.out")" "$DTOP"
  # `docker save IMAGE_ID` writes "RepoTags": null: named after the file
  mkdir -p "$D/untagged" && tar -C "$D/untagged" -xf "$D/app.tar" &&
    jq '.[0].RepoTags = null' "$D/untagged/manifest.json" >"$D/untagged.json" &&
    mv "$D/untagged.json" "$D/untagged/manifest.json" &&
    tar -C "$D/untagged" -cf "$D/Untagged_App.tar" . && rm -rf "$D/untagged"
  check "fetch docker-archive: of an image without RepoTags" \
    ac --insecure-options=image fetch "docker-archive:$D/Untagged_App.tar"
  is "... named after the file, less .tar, lower case" \
    "$(ac image cat-manifest "$(cat "$TMP/.out")" | jq -r .name)" untagged_app
  # --squash takes the layer images away again, as for oci: (the import
  # holds the store's lock shared around the removal, which needs it alone)
  check "fetch --squash docker-archive:FILE into an empty store" \
    "$ACTOOL" --dir="$TMP/store-dsq" --insecure-options=image fetch --squash "docker-archive:$D/app.tar"
  is "... leaves the squashed image alone in the store" \
    "$("$ACTOOL" --dir="$TMP/store-dsq" image list -q)" "$(cat "$TMP/.out")"
  # Docker 25 and later: an OCI layout with manifest.json beside it
  $CRAFT docker25 "$L" app "$D/app25.tar" example.com/app:1.0
  check "fetch docker-archive: of Docker 25's OCI-layout flavour" \
    "$ACTOOL" --dir="$TMP/store-d25" --insecure-options=image fetch "docker-archive:$D/app25.tar:example.com/app:1.0"
  D25=$(cat "$TMP/.out")
  is "... the same image as skopeo's legacy archive gives" \
    "$("$ACTOOL" --dir="$TMP/store-d25" image cat-manifest "$D25" | jq -c '[.name, .labels, .app, .dependencies[0].imageName]')" \
    "$(jq -c '[.name, .labels, .app, .dependencies[0].imageName]' "$TMP/dm.json")"
  check "... render it" "$ACTOOL" --dir="$TMP/store-d25" image render --rootfs "$D25" "$TMP/d25-render"
  same_tree "... equals umoci unpack's, file by file" "$TMP/d25-render"
  check_fails "a tag the archive does not hold is refused naming it" 1 'no image tagged example.com/app:2.0' \
    ac --insecure-options=image fetch "docker-archive:$D/app.tar:example.com/app:2.0"
  check_fails "a missing archive is refused" 1 'no such file' \
    ac --insecure-options=image fetch "docker-archive:$D/none.tar"
  head -c 3000 /dev/urandom >"$D/garbage.tar"
  check_fails "a file that is no archive is refused with libarchive's word, no bogus errno" 1 \
    'garbage\.tar: .*[Uu]nrecognized archive format$' ac --insecure-options=image fetch "docker-archive:$D/garbage.tar"
  count=$(ac image list -q | wc -l)
  for case in dotdot link-out missing tampered; do
    $CRAFT archive "$D/$case.tar" "$case"
  done
  check_fails "an archive entry with .. is refused" 1 '\.\.' ac --insecure-options=image fetch "docker-archive:$D/dotdot.tar"
  check_fails "a layer that is a symlink out of the archive is refused" 1 'a symlink out of the archive' \
    ac --insecure-options=image fetch "docker-archive:$D/link-out.tar"
  check_fails "a layer manifest.json names but the archive lacks is refused" 1 'named by manifest.json, not in the archive' \
    ac --insecure-options=image fetch "docker-archive:$D/missing.tar"
  check_fails "a layer unlike its diff_id is refused, naming the archive's member" 1 \
    "^actool: $D/tampered.tar: layer.tar \\(sha256:[0-9a-f]{64}\\): the uncompressed layer does not match its diff_id" \
    ac --insecure-options=image fetch "docker-archive:$D/tampered.tar"
  python3 - "$D" <<'PY'
import io, sys, tarfile
def archive(path, members):
    with tarfile.open(path, "w") as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
archive(sys.argv[1] + "/empty.tar", [("manifest.json", b"[]")])
archive(sys.argv[1] + "/twice.tar", [("manifest.json", b"[]"), ("manifest.json", b"[]")])
PY
  check_fails "an archive whose manifest.json lists no image says so" 1 'manifest.json: holds no image$' \
    ac --insecure-options=image fetch "docker-archive:$D/empty.tar"
  check_fails "an archive holding manifest.json twice is refused as ambiguous" 1 \
    'twice.tar: manifest.json: twice in the archive \(docker load would take the last\): refused as ambiguous' \
    ac --insecure-options=image fetch "docker-archive:$D/twice.tar"
  # 99,999 entries at the archive's top (symlinks, so that no file is
  # written for them), in some 200 KB: each was compared with every earlier
  # one for a repeat, some 40 s of CPU; looked up in a hash table, well
  # under a second.
  python3 - "$D/many.tar.gz" <<'PY'
import gzip, io, sys, tarfile
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
    for i in range(99999):
        info = tarfile.TarInfo("l%07d" % i)
        info.type, info.linkname = tarfile.SYMTYPE, "x"
        t.addfile(info)
open(sys.argv[1], "wb").write(gzip.compress(raw.getvalue(), 9, mtime=0))
PY
  /usr/bin/time -f %U -o "$TMP/many.cpu" "$ACTOOL" --dir="$S" --insecure-options=image \
    fetch "docker-archive:$D/many.tar.gz" >"$TMP/.out" 2>"$TMP/.err"
  many_status=$?
  is "an archive of 99,999 entries without manifest.json is refused" \
    "$many_status $(grep -c 'many.tar.gz: no manifest.json: not a docker save archive' "$TMP/.err")" "1 1"
  check "... in less than 5 s of CPU (its entries not compared pairwise: $(tail -n1 "$TMP/many.cpu") s)" \
    awk -v s="$(tail -n1 "$TMP/many.cpu")" 'BEGIN { exit !(s + 0 < 5) }'
  rm -f "$D/many.tar.gz"
  # 1.1 GiB of zeros in some KiB of zstd: past 1000 times the archive and 1 GiB
  mkdir -p "$D/bomb" && truncate -s 1100M "$D/bomb/layer.tar" &&
    tar -C "$D/bomb" -cf - layer.tar | zstd -q -1 >"$D/bomb.tar" && rm -rf "$D/bomb"
  check_fails "an archive that expands past 1000 times its size and 1 GiB is refused" 1 \
    'bomb.tar: layer.tar: the archive expands to more than [0-9]+ bytes \(1000 times the [0-9]+ bytes read of it' \
    ac --insecure-options=image fetch "docker-archive:$D/bomb.tar"
  is "... and leaves nothing in tmp/" "$(ls -A "$S/tmp" | wc -l)" 0
  # An archive of more than 1 GiB, plain tar, read from a pipe (docker save
  # | actool fetch docker-archive:/dev/stdin): the bound is of compressed
  # archives only, and of what was read of them, a pipe having no size;
  # then exported (a layer of ours, read back: no bound).
  BIG=$TMP/big-archive BS=$TMP/store-big
  mkdir -p "$BIG/l" && truncate -s 1100M "$BIG/l/zeros" && tar -C "$BIG/l" -cf "$BIG/layer.tar" zeros &&
    rm -rf "$BIG/l" &&
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
      "$(sha256sum <"$BIG/layer.tar" | cut -d' ' -f1)" >"$BIG/config.json" &&
    echo '[{"Config":"config.json","RepoTags":["example.com/big:1"],"Layers":["layer.tar"]}]' >"$BIG/manifest.json"
  check "a 1.1 GiB plain archive from a pipe is imported" bash -c \
    'tar -C "$1" -cf - manifest.json config.json layer.tar | "$2" --dir="$3" --insecure-options=image fetch docker-archive:/dev/stdin' \
    _ "$BIG" "$ACTOOL" "$BS"
  rm -rf "$BIG"
  check "... and exported as an OCI image" "$ACTOOL" --dir="$BS" image export --format=oci example.com/big:1 "oci:$TMP/big-oci:1"
  rm -rf "$BS" "$TMP/big-oci"
  # A compressed archive listing its 600 MiB layer (of zeros, some KiB in
  # zstd) twice: the image's layers are bounded by what the archive's bytes
  # allow, not by 1000 times the layer they expanded to already.
  REP=$TMP/repeat-archive
  mkdir -p "$REP/l" && truncate -s 600M "$REP/l/zeros" && tar -C "$REP/l" -cf "$REP/layer.tar" zeros &&
    rm -rf "$REP/l" && L_ID=$(sha256sum <"$REP/layer.tar" | cut -d' ' -f1) &&
    printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
      "$L_ID" "$L_ID" >"$REP/config.json" &&
    echo '[{"Config":"config.json","RepoTags":["example.com/repeat:1"],"Layers":["layer.tar","layer.tar"]}]' >"$REP/manifest.json" &&
    tar -C "$REP" -cf - manifest.json config.json layer.tar | zstd -q -1 >"$D/repeat.tar.zst" && rm -rf "$REP"
  check_fails "a compressed archive listing a layer twice: its layers are bounded by the archive's size" 1 \
    "repeat.tar.zst: layer.tar \\(sha256:[0-9a-f]{64}\\): zeros: the image's layers expand to more than [0-9]+ bytes in all \\(1000 times the [0-9]+ bytes they came in" \
    ac --insecure-options=image fetch "docker-archive:$D/repeat.tar.zst"
  is "... nothing stored" "$(ac image list -q | wc -l)" "$count"
  is "... and tmp/ is empty" "$(ls -A "$S/tmp" | wc -l)" 0
  rm -f "$D/repeat.tar.zst"
  # A sparse entry of a terabyte in a 10 KB archive: read whole it was a
  # terabyte of zeros in the store's tmp/ before anything was checked.
  mkdir -p "$D/sparse" && truncate -s 1T "$D/sparse/big.bin" && printf x >>"$D/sparse/big.bin" &&
    tar --sparse --format=pax -C "$D/sparse" -cf "$D/sparse.tar" big.bin && rm -rf "$D/sparse"
  check_fails "an archive entry that is sparse is refused at once" 1 'big.bin: a sparse entry' \
    timeout 60 "$ACTOOL" --dir="$S" --insecure-options=image fetch "docker-archive:$D/sparse.tar"
  is "... nothing stored" "$(ac image list -q | wc -l)" "$count"
  is "... and tmp/ is empty" "$(ls -A "$S/tmp" | wc -l)" 0
fi

# ---- the importer's records (cache/oci/), and gc ----
R=$TMP/store-records
check "fetch oci:LAYOUT:app into a new store" "$ACTOOL" --dir="$R" --insecure-options=image fetch "oci:$L:app"
n=$("$ACTOOL" --dir="$R" image list -q | wc -l)
is "a record per layer image below the top" "$(ls "$R/cache/oci" | grep -c '^layer-')" "$((n - 1))"
check "fetch it again" "$ACTOOL" --dir="$R" --debug --insecure-options=image fetch "oci:$L:app"
is "... every layer below the top is found by its record" "$(grep -c ', in the store as sha512-' "$TMP/.err")" "$((n - 1))"
for id in $("$ACTOOL" --dir="$R" image list -q | tac); do "$ACTOOL" --dir="$R" image rm "$id" >/dev/null; done
is "(every image removed)" "$("$ACTOOL" --dir="$R" image list -q | wc -l)" 0
check "image gc" "$ACTOOL" --dir="$R" image gc --grace=0s
is "... removes the records of images that are gone" "$(ls -A "$R/cache/oci" | wc -l)" 0

done_testing
