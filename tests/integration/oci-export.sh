#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# image export --format=oci: images of the store written as OCI images that
# Debian's umoci, skopeo and runc read.  An image imported from umoci's own
# layout (three layers, whiteouts) comes back out equal to what `umoci
# unpack` made of the original, file by file; a busybox ACI with its app
# runs under runc, and under podman (its default runtime, else runc) where
# a probe shows podman can run containers here, with the output and exit
# status it has under `actool run`; layouts are added to, not replaced;
# refusals leave nothing behind.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

S=$TMP/store
ac() { "$ACTOOL" --dir="$S" "$@"; }

for tool in umoci skopeo runc jq; do
  if ! command -v "$tool" >/dev/null; then
    not_ok "$tool is installed (scripts/deps installs it)"
    done_testing
    exit
  fi
done
. "$top_srcdir/tests/integration/lib-oci.sh" || exit 1

# ---- a layered image, round trip ----
L=$TMP/layout
oci_make_image "$L" app
# Labels as OCI allows them: keys of any characters, one named version
LABELS='{"Build Date":"today","org.opencontainers.image.source":"https://example.com/a/b",'\
'"K=V":"a \"quoted\" \\ value","":"empty key","UPPER":"","caf\u00e9 \u2603":"line\nbreak",'\
'"version":"not the tag","org.example":"yes"}'
$CRAFT config-set "$L" app Labels "$LABELS"
umoci unpack --image "$L:app" "$TMP/theirs" >/dev/null
listing "$TMP/theirs/rootfs" >"$TMP/theirs.txt"
check "import umoci's image" ac --insecure-options=image fetch "oci:$L:app"
TOP=$(cat "$TMP/.out")

E=$TMP/export
check "image export --format=oci IMAGE oci:DIR:TAG" ac image export --format=oci "$TOP" "oci:$E:v1"
DIGEST=$(cat "$TMP/.out")
is "it prints the manifest's digest" "$(grep -Ecx 'sha256:[0-9a-f]{64}' <<<"$DIGEST")" 1
is "index.json names it by the tag" \
  "$(jq -r '.manifests[] | .digest + " " + .annotations["org.opencontainers.image.ref.name"]' "$E/index.json")" \
  "$DIGEST v1"
check "the layout says imageLayoutVersion 1.0.0" jq -e '.imageLayoutVersion == "1.0.0"' "$E/oci-layout"
check "skopeo reads it" skopeo inspect "oci:$E:v1"
is "... one layer for the whole image, dependencies applied" "$(jq '.Layers | length' "$TMP/.out")" 1
check "umoci unpacks it" umoci unpack --image "$E:v1" "$TMP/unpacked"
check "umoci stat reads it (its history entry is dated)" umoci stat --image "$E:v1"
same_tree "the unpacked rootfs equals umoci's unpacking of the original, file by file" "$TMP/unpacked/rootfs"

# the config, from the app
CFG=$E/blobs/sha256/$(jq -r .config.digest "$E/blobs/sha256/${DIGEST#sha256:}" | cut -d: -f2)
is "Entrypoint and Cmd: the app's exec, split as docker2aci's annotations say" \
  "$(jq -c '[.config.Entrypoint, .config.Cmd]' "$CFG")" '[["/bin/sh"],["-c","echo hi"]]'
is "User, WorkingDir" "$(jq -c '[.config.User, .config.WorkingDir]' "$CFG")" '["1000:100","/dir"]'
is "Env, with the ACE's PATH the app lacked" "$(jq -c .config.Env "$CFG")" \
  '["FOO=bar","EMPTY=","PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]'
is "ExposedPorts and Volumes" "$(jq -c '[(.config.ExposedPorts | keys), (.config.Volumes | keys)]' "$CFG")" \
  '[["53/udp","80/tcp"],["/data"]]'
is "os, architecture" "$(jq -c '[.os, .architecture]' "$CFG")" '["linux","amd64"]'
is "Labels: the original's exactly, in their order, no version, os or arch added" \
  "$(jq -c .config.Labels "$CFG")" "$(jq -c . <<<"$LABELS")"
check "skopeo inspect reads the original's Labels" skopeo inspect "oci:$L:app"
jq -S .Labels "$TMP/.out" >"$TMP/their-labels.json"
check "... and the export's" skopeo inspect "oci:$E:v1"
is "... the same" "$(jq -S .Labels "$TMP/.out")" "$(cat "$TMP/their-labels.json")"
is "diff_ids: the layer's tar" "$(jq -r '.rootfs.diff_ids | length' "$CFG")" 1
is "the history entry is dated as the image" "$(jq -r '.history[0].created == .created' "$CFG")" true
# an exec that no longer is Entrypoint then Cmd is exported whole
check "export the top image as an ACI" ac image export "$TOP" "$TMP/top.aci"
check "patch its exec" "$ACTOOL" patch-manifest --exec="/bin/sh -c other" "$TMP/top.aci" "$TMP/patched.aci"
check "import the patched image" ac --insecure-options=image fetch "$TMP/patched.aci"
check "export it" ac image export --format=oci "$(cat "$TMP/.out")" "oci:$TMP/patched"
PCFG=$TMP/patched/blobs/sha256/$(jq -r .config.digest "$TMP/patched/blobs/sha256/$(jq -r '.manifests[0].digest' \
  "$TMP/patched/index.json" | cut -d: -f2)" | cut -d: -f2)
is "... Entrypoint: the exec as it is now, no Cmd" "$(jq -c '[.config.Entrypoint, .config.Cmd]' "$PCFG")" \
  '[["/bin/sh","-c","other"],null]'

check "fetch oci:DIR:v1 back into another store" "$ACTOOL" --dir="$TMP/again" --insecure-options=image \
  fetch "oci:$E:v1"
check "render it" "$ACTOOL" --dir="$TMP/again" image render --rootfs "$(cat "$TMP/.out")" "$TMP/again-render"
same_tree "the round trip keeps every file" "$TMP/again-render"

# An image without a created annotation: its history entry gets the epoch,
# not the time of the export (exports are reproducible).
mkdir -p "$TMP/undated/rootfs" && echo x >"$TMP/undated/rootfs/x"
jq -n '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/undated",
  labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}]}' >"$TMP/undated/manifest"
"$ACTOOL" build "$TMP/undated" "$TMP/undated.aci" >/dev/null
ac --insecure-options=image fetch "$TMP/undated.aci" >/dev/null 2>&1
check "export an image without a created annotation" \
  ac image export --format=oci example.com/undated "oci:$TMP/undated-oci:t"
UCFG=$TMP/undated-oci/blobs/sha256/$(jq -r .config.digest "$TMP/undated-oci/blobs/sha256/$(jq -r \
  '.manifests[0].digest' "$TMP/undated-oci/index.json" | cut -d: -f2)" | cut -d: -f2)
is "... its history entry is dated 1970-01-01T00:00:00Z" "$(jq -r '.history[0].created' "$UCFG")" \
  1970-01-01T00:00:00Z
is "... and, not imported from OCI, its labels as Labels" "$(jq -c .config.Labels "$UCFG")" \
  '{"os":"linux","arch":"amd64"}'
is "... and, without an app, Entrypoint /sbin/init, what actool run runs for it" \
  "$(jq -c '[.config.Entrypoint, .config.Cmd]' "$UCFG")" '[["/sbin/init"],null]'
check "... which umoci stat reads" umoci stat --image "$TMP/undated-oci:t"

# config_of LAYOUT: the path of the config blob of LAYOUT's last manifest.
config_of() {
  local m
  m=$(jq -r '.manifests[-1].digest' "$1/index.json" | cut -d: -f2)
  echo "$1/blobs/sha256/$(jq -r .config.digest "$1/blobs/sha256/$m" | cut -d: -f2)"
}

# ---- a user and group given as paths: their owners in the image ----
# "/owner" is a symlink to /work, which must be resolved in the image (the
# host's /work, if any, is someone else's); OCI runtimes only know names
# and numbers.
P=$TMP/pathuser
mkdir -p "$P/rootfs/work" && echo x >"$P/rootfs/work/file" && ln -s /work "$P/rootfs/owner"
chown 1000:50 "$P/rootfs/work" && chown 1001:60 "$P/rootfs/work/file"
# path_image NAME USER GROUP: example.com/NAME, that tree, its app run as USER:GROUP, in the store
path_image() {
  jq -n --arg name "example.com/$1" --arg user "$2" --arg group "$3" '{acKind: "ImageManifest",
    acVersion: "0.8.11", name: $name, labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}],
    app: {exec: ["/bin/true"], user: $user, group: $group}}' >"$P/manifest"
  "$ACTOOL" build --overwrite "$P" "$TMP/pathuser.aci" >/dev/null &&
    ac --insecure-options=image fetch "$TMP/pathuser.aci" >/dev/null 2>&1
}
path_image pathuser /owner /work/file
check "export an image whose user and group are paths" \
  ac image export --format=oci example.com/pathuser "oci:$TMP/pathuser-oci:t"
is "... User: the uid and gid of those files in the image" \
  "$(jq -r .config.User "$(config_of "$TMP/pathuser-oci")")" 1000:60
path_image pathgroup 1000 /work
check "export an image whose user is a number and group a path" \
  ac image export --format=oci example.com/pathgroup "oci:$TMP/pathgroup-oci:t"
is "... the number stays, the path is resolved" \
  "$(jq -r .config.User "$(config_of "$TMP/pathgroup-oci")")" 1000:50
path_image pathmissing /nowhere /work
check_fails "a user path the image lacks is refused, naming it" 1 \
  'example.com/pathmissing: app.user: /nowhere: no such file in the image' \
  ac image export --format=oci example.com/pathmissing "oci:$TMP/pathmissing-oci"
is "... and leaves no directory" "$(ls -d "$TMP/pathmissing-oci" 2>/dev/null)" ""

# ---- os and arch as OCI spells them (GOOS, GOARCH and variant) ----
# platform_image N OS ARCH: example.com/platform-N labelled so (no os label
# when OS is "-"), in the store.
platform_image() {
  mkdir -p "$TMP/platform/rootfs" && echo x >"$TMP/platform/rootfs/x"
  jq -n --arg name "example.com/platform-$1" --arg os "$2" --arg arch "$3" \
    '{acKind: "ImageManifest", acVersion: "0.8.11", name: $name,
      labels: (([{name: "os", value: $os}] | map(select(.value != "-"))) + [{name: "arch", value: $arch}])}' \
    >"$TMP/platform/manifest"
  "$ACTOOL" build --overwrite "$TMP/platform" "$TMP/platform.aci" >/dev/null &&
    ac --insecure-options=image fetch "$TMP/platform.aci" >/dev/null
}
n=0
for case in linux/amd64=linux/amd64/ freebsd/amd64=freebsd/amd64/ darwin/x86_64=darwin/amd64/ \
  linux/i386=linux/386/ linux/aarch64=linux/arm64/ linux/aarch64_be=linux/arm64be/ \
  linux/armv6l=linux/arm/v6 linux/armv7l=linux/arm/v7 linux/armv7b=linux/armbe/v7 \
  freebsd/arm=freebsd/arm/ linux/ppc64=linux/ppc64/ linux/ppc64le=linux/ppc64le/ linux/s390x=linux/s390x/; do
  n=$((n + 1))
  platform_image "$n" "${case%%/*}" "$(cut -d/ -f2 <<<"${case%%=*}")"
  ac image export --format=oci "example.com/platform-$n" "oci:$TMP/platform-$n:t" >/dev/null 2>&1
  is "appc ${case%%=*} is OCI ${case#*=} in the config" \
    "$(jq -r '[.os, .architecture, .variant // ""] | join("/")' "$(config_of "$TMP/platform-$n")" 2>&1)" "${case#*=}"
  is "... and in index.json's platform" \
    "$(jq -r '.manifests[0].platform | [.os, .architecture, .variant // ""] | join("/")' \
      "$TMP/platform-$n/index.json" 2>&1)" "${case#*=}"
done
n=$((n + 1))
platform_image "$n" - sparc64
check_fails "an arch OCI has no name for is refused, naming it" 1 \
  "example.com/platform-$n: labels: arch \"sparc64\" has no OCI equivalent" \
  ac image export --format=oci "example.com/platform-$n" "oci:$TMP/platform-$n"
is "... and leaves no directory" "$(ls -d "$TMP/platform-$n" 2>/dev/null)" ""

# ---- appc.io/docker/labels that gives no Labels: refused, naming it ----
# labels_image N VALUE: example.com/labels-N annotated appc.io/docker/labels=VALUE, in the store
labels_image() {
  mkdir -p "$TMP/labels/rootfs" && echo x >"$TMP/labels/rootfs/x"
  printf %s "$2" | python3 -c 'import json, sys; json.dump({"acKind": "ImageManifest",
    "acVersion": "0.8.11", "name": "example.com/labels-" + sys.argv[1],
    "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
    "annotations": [{"name": "appc.io/docker/labels", "value": sys.stdin.read()}]}, sys.stdout)' \
    "$1" >"$TMP/labels/manifest"
  "$ACTOOL" build --overwrite "$TMP/labels" "$TMP/labels.aci" >/dev/null &&
    ac --insecure-options=image fetch "$TMP/labels.aci" >/dev/null 2>&1
}
# the annotation's value, what it is, and what the refusal says of it
bad_values=('not json' '["a=b"]' '{"a":"b"} x' '{"a":"b","n":1}' '{"o":{"a":"b"}}' '{"z":"x\u0000y"}'
  "$(printf '{"a":"%*s"}' 5000000 '')")
bad_what=('not JSON' 'an array' 'JSON followed by more' 'holding a number' 'holding an object'
  'holding a NUL character' 'of 5 MB')
bad_why=('not JSON' 'not a JSON object' 'not JSON' 'Labels\.n: not a string' 'Labels\.o: not a string'
  'Labels\.z: holds a NUL character' '5000008 bytes, more than the 4 MiB an image config may have')
for n in "${!bad_values[@]}"; do
  labels_image "$n" "${bad_values[n]}"
  check_fails "an appc.io/docker/labels ${bad_what[n]} is refused, naming the image and it" 1 \
    "example.com/labels-$n: annotation appc.io/docker/labels: ${bad_why[n]}" \
    ac image export --format=oci "example.com/labels-$n" "oci:$TMP/labels-$n"
  is "... and leaves no directory" "$(ls -d "$TMP/labels-$n" 2>/dev/null)" ""
done
labels_image empty '{}'
check "appc.io/docker/labels of no labels" \
  ac image export --format=oci example.com/labels-empty "oci:$TMP/labels-empty:t"
is "... gives a config without Labels, not the image's labels" \
  "$(jq -c '.config | has("Labels")' "$(config_of "$TMP/labels-empty")")" false

# ---- a sparse file is written whole: OCI layers hold no sparse entries ----
SP=$TMP/sparse
mkdir -p "$SP/rootfs" && printf head >"$SP/rootfs/holes" && truncate -s 8M "$SP/rootfs/holes" &&
  printf tail >>"$SP/rootfs/holes"
jq -n '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/sparse",
  labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}]}' >"$SP/manifest"
"$ACTOOL" build "$SP" "$TMP/sparse.aci" >/dev/null
ac --insecure-options=image fetch "$TMP/sparse.aci" >/dev/null 2>&1
check "export an image holding a sparse file" ac image export --format=oci example.com/sparse "oci:$TMP/sparse-oci:t"
SPL=$TMP/sparse-oci/blobs/sha256/$(jq -r '.layers[0].digest' "$TMP/sparse-oci/blobs/sha256/$(jq -r \
  '.manifests[0].digest' "$TMP/sparse-oci/index.json" | cut -d: -f2)" | cut -d: -f2)
is "... its layer has no GNU.sparse records" "$(zcat "$SPL" | grep -ac GNU.sparse)" 0
is "... and the file whole, holes as zeros" "$(zcat "$SPL" | tar -xOf - holes | sha256sum)" \
  "$(sha256sum <"$SP/rootfs/holes")"
check "... which umoci unpacks" umoci unpack --image "$TMP/sparse-oci:t" "$TMP/sparse-unpacked"
is "... to the same file" "$(sha256sum <"$TMP/sparse-unpacked/rootfs/holes")" "$(sha256sum <"$SP/rootfs/holes")"

# ---- the tree's root has its entry, "./", with its mode and owner ----
# (without one, umoci and podman make the root they unpack 0755, root's)
RD=$TMP/rootdir
mkdir -p "$RD/rootfs" && echo x >"$RD/rootfs/file" && chmod 0750 "$RD/rootfs" && chown 1000:1000 "$RD/rootfs"
jq -n '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/rootdir",
  labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}]}' >"$RD/manifest"
"$ACTOOL" build "$RD" "$TMP/rootdir.aci" >/dev/null
ac --insecure-options=image fetch "$TMP/rootdir.aci" >/dev/null 2>&1
check "render an image whose root is 0750, 1000:1000" ac image render --rootfs example.com/rootdir "$TMP/rootdir-render"
is "... as the image has it" "$(stat -c '%a %u:%g' "$TMP/rootdir-render")" "750 1000:1000"
check "export it" ac image export --format=oci example.com/rootdir "oci:$TMP/rootdir-oci:t"
RDL=$TMP/rootdir-oci/blobs/sha256/$(jq -r '.layers[0].digest' "$TMP/rootdir-oci/blobs/sha256/$(jq -r \
  '.manifests[0].digest' "$TMP/rootdir-oci/index.json" | cut -d: -f2)" | cut -d: -f2)
is "... the layer's first entry is ./, with the root's mode and owner" \
  "$(zcat "$RDL" | tar -tvf - --numeric-owner | head -n 1 | awk '{print $1, $2, $6}')" "drwxr-x--- 1000/1000 ./"
is "... and the only one for the root" "$(zcat "$RDL" | tar -tf - | grep -cxE '\.|\./|/')" 1
check "umoci unpacks it" umoci unpack --image "$TMP/rootdir-oci:t" "$TMP/rootdir-unpacked"
is "... its root as image render has it" "$(stat -c '%a %u:%g' "$TMP/rootdir-unpacked/rootfs")" "750 1000:1000"
check "fetch oci: of it (the layer's ./ is the ACI's rootfs)" \
  "$ACTOOL" --dir="$TMP/rootdir-store" --insecure-options=image fetch "oci:$TMP/rootdir-oci:t"
RID=$(cat "$TMP/.out")
check "... which renders" "$ACTOOL" --dir="$TMP/rootdir-store" image render --rootfs "$RID" \
  "$TMP/rootdir-again"
is "... the file, nothing else" "$(ls -A "$TMP/rootdir-again")" file
is "... its root as the image had it before the round trip" \
  "$(stat -c '%a %u:%g' "$TMP/rootdir-again")" "750 1000:1000"
check "... and exports" "$ACTOOL" --dir="$TMP/rootdir-store" image export "$RID" \
  "$TMP/rootdir-again.aci"
is "... as an ACI whose one rootfs entry is the layer's root's" \
  "$(tar -tvf "$TMP/rootdir-again.aci" --numeric-owner | awk '$6 ~ /^rootfs\/?$/ {print $1, $2}')" \
  "drwxr-x--- 1000/1000"

# ---- a SIGKILL never leaves a half layout ----
# A new layout appears whole (oci-layout, an index.json listing nothing,
# blobs/), before any blob.  The export is stopped where it waits for the
# store's cached tree (docs/store.md: its users hold trees/KEY/lock shared),
# the layout begun, and killed there.
KS=$TMP/kill-store K=$TMP/killed
"$ACTOOL" --dir="$KS" --insecure-options=image fetch "$TMP/undated.aci" >/dev/null 2>&1
"$ACTOOL" --dir="$KS" image export --format=oci example.com/undated "oci:$TMP/kill-tree" >/dev/null 2>&1
exec {tree_lock}<>"$(echo "$KS"/trees/*/lock)"
flock -x "$tree_lock"
"$ACTOOL" --dir="$KS" image export --format=oci example.com/undated "oci:$K" {tree_lock}>&- \
  >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do [ -e "$K/oci-layout" ] && break; sleep 0.05; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
exec {tree_lock}>&-
is "an export killed while making a layout leaves a valid one: oci-layout, index.json, blobs/" \
  "$(cd "$K" && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./blobs ./blobs/sha256 ./index.json ./oci-layout "
is "... whose index.json lists nothing" "$(jq -c '[.schemaVersion, .manifests]' "$K/index.json")" '[2,[]]'
check "... which umoci reads" umoci ls --layout "$K"
check "... and an export adds to" "$ACTOOL" --dir="$KS" image export --format=oci example.com/undated "oci:$K:t"
is "... nothing is left beside it" "$(find "$TMP" -maxdepth 1 -name '.killed*' | wc -l)" 0

# ---- adding to a layout ----
check "export a second tag into the same layout" ac image export --format=oci "$TOP" "oci:$E:v2"
is "both tags are listed" "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' "$E/index.json")" "v1 v2"
check "the first is still unpackable" umoci unpack --image "$E:v1" "$TMP/unpacked-v1-again"
check "export v1 again" ac image export --format=oci "$TOP" "oci:$E:v1"
is "the tag is replaced, not doubled" "$(jq '.manifests | length' "$E/index.json")" 2
check "an umoci-made layout is added to" ac image export --format=oci "$TOP" "oci:$L:exported"
check "... its own image is still there" umoci unpack --image "$L:app" "$TMP/unpacked-app"
check "... and ours beside it" umoci unpack --image "$L:exported" "$TMP/unpacked-exported"
check "the default tag is the version label" ac image export --format=oci "$TOP" "oci:$TMP/deftag"
is "... app" "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$TMP/deftag/index.json")" app
# oci:DIR: is DIR with no reference, as skopeo (containers/image) reads it
check "oci:DIR: (an empty tag) exports into DIR" ac image export --format=oci "$TOP" "oci:$TMP/trailing:"
is "... not into a directory named DIR:" "$(ls -d "$TMP/trailing:" 2>/dev/null)" ""
is "... under the default tag" \
  "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$TMP/trailing/index.json" 2>&1)" app
check "... which skopeo reads as oci:DIR: too" skopeo inspect "oci:$TMP/trailing:"

# ---- refusals, nothing left behind ----
mkdir -p "$TMP/notlayout" && echo x >"$TMP/notlayout/file"
check_fails "a non-empty directory that is not a layout is refused" 1 'not an OCI image layout.*not empty' \
  ac image export --format=oci "$TOP" "oci:$TMP/notlayout"
is "... and left as it was" "$(ls -A "$TMP/notlayout")" file
check_fails "an unknown --format" 2 'aci or oci' ac image export --format=tar "$TOP" "oci:$TMP/x"
check_fails "--format=oci needs oci:DIR" 2 'oci:DIR' ac image export --format=oci "$TOP" "$TMP/x"
check_fails "a tag outside the grammar" 1 'a tag is' ac image export --format=oci "$TOP" "oci:$TMP/badtag:-x"
check_fails "an image the store lacks" 1 'no such image|not in the store' \
  ac image export --format=oci example.com/nope "oci:$TMP/nope"
# An image that cannot be rendered (its dependency is missing): a new
# directory is not left half made (oci-layout and blobs/, no index.json),
# an empty one is left empty.
mkdir -p "$TMP/nodep/rootfs"
jq -n '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/nodep",
  labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}],
  dependencies: [{imageName: "example.com/missing-dependency"}]}' >"$TMP/nodep/manifest"
"$ACTOOL" build "$TMP/nodep" "$TMP/nodep.aci" >/dev/null
ac --insecure-options=image fetch --store-only "$TMP/nodep.aci" >/dev/null 2>&1
check_fails "an image whose dependency is missing cannot be exported" 1 'missing-dependency' \
  ac image export --format=oci example.com/nodep "oci:$TMP/nodep-new"
is "... and leaves no directory" "$(ls -d "$TMP/nodep-new" 2>/dev/null)" ""
mkdir "$TMP/nodep-empty"
check_fails "... into an empty directory" 1 'missing-dependency' \
  ac image export --format=oci example.com/nodep "oci:$TMP/nodep-empty"
is "... which stays empty" "$(ls -A "$TMP/nodep-empty")" ""
# A name beginning with ".wh." is a whiteout to every OCI reader, which
# would delete the file: the export is refused, naming it and the rule.
mkdir -p "$TMP/whname/rootfs/etc/app" && echo keep >"$TMP/whname/rootfs/etc/app/.wh.config"
jq -n '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/whname",
  labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}]}' >"$TMP/whname/manifest"
"$ACTOOL" build "$TMP/whname" "$TMP/whname.aci" >/dev/null
ac --insecure-options=image fetch "$TMP/whname.aci" >/dev/null 2>&1
check_fails "a file named .wh.* is refused, naming it and the rule" 1 \
  'example.com/whname: /etc/app/\.wh\.config: a name beginning with "\.wh\.", which an OCI layer reserves for whiteouts' \
  ac image export --format=oci example.com/whname "oci:$TMP/whname-oci"
is "... and leaves no directory" "$(ls -d "$TMP/whname-oci" 2>/dev/null)" ""
# blobs/sha256 as a symlink is not followed, and the message names it.
mkdir -p "$TMP/linked/blobs" "$TMP/linked-elsewhere" && echo '{"imageLayoutVersion":"1.0.0"}' >"$TMP/linked/oci-layout"
echo '{"schemaVersion":2,"manifests":[]}' >"$TMP/linked/index.json"
ln -s "$TMP/linked-elsewhere" "$TMP/linked/blobs/sha256"
check_fails "a layout whose blobs/sha256 is a symlink is refused, naming it" 1 "$TMP/linked/blobs/sha256: " \
  ac image export --format=oci "$TOP" "oci:$TMP/linked:t"
# An existing index.json the export cannot add to, or only partly understands.
H=$TMP/hostile-index
mkdir -p "$H" && echo '{"imageLayoutVersion":"1.0.0"}' >"$H/oci-layout"
echo '{"schemaVersion":2,"manifests":{}}' >"$H/index.json"
check_fails "an index.json whose manifests is not an array is refused" 1 'index.json: manifests: not an array' \
  ac image export --format=oci "$TOP" "oci:$H:t"
is "... before any blob is written" "$(find "$H" -mindepth 1 | sort | sed "s|$H/||" | tr '\n' ' ')" \
  "index.json oci-layout "
zero=sha256:$(printf '0%.0s' {1..64})
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":1,"annotations":{"org.opencontainers.image.ref.name":%s}}]}' \
  "$zero" null >"$H/index.json"
check "an entry whose ref.name is null is kept as it is" ac image export --format=oci "$TOP" "oci:$H:t"
is "... beside the export's" \
  "$(jq -c '[.manifests[] | [.digest == "'"$zero"'", .annotations["org.opencontainers.image.ref.name"]]]' "$H/index.json")" \
  '[[true,null],[false,"t"]]'

is "no temporary file in the layouts' blobs" \
  "$(find "$E/blobs" "$L/blobs" -name '.*' | wc -l)" 0
check "every blob is named by its digest" bash -c 'cd "$1/blobs/sha256" && for f in *; do
  [ "$(sha256sum <"$f" | cut -d" " -f1)" = "$f" ] || exit 1; done' _ "$E"

# ---- runc runs the exported busybox app as actool runs it ----
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  not_ok "a static busybox is installed (scripts/deps installs busybox-static)"
  done_testing
  exit
fi
B=$TMP/bb
"$top_srcdir/scripts/mkrootfs-busybox" "$B/rootfs" >/dev/null
mkdir -p "$B/rootfs/work"
cat >"$B/manifest" <<'EOF'
{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/export-run",
 "labels": [{"name": "version", "value": "1.0"}, {"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
 "app": {"exec": ["/bin/sh", "-c", "echo user=$(id -u):$(id -g) cwd=$(pwd) greeting=$GREETING; ls /work; exit 7"],
         "user": "0", "group": "0", "workingDirectory": "/work",
         "environment": [{"name": "GREETING", "value": "hello world"}]}}
EOF
echo data >"$B/rootfs/work/file"
check "build the busybox ACI" "$ACTOOL" build "$B" "$TMP/bb.aci"
check "import it" ac --insecure-options=image fetch "$TMP/bb.aci"
BB=$(cat "$TMP/.out")
run_capture ac run "$BB"
OURS_STATUS=$status
cp "$TMP/.out" "$TMP/actool-run.out"
is "actool run: the app's output" "$(cat "$TMP/actool-run.out")" \
  "user=0:0 cwd=/work greeting=hello world
file"
is "actool run: its exit status" "$OURS_STATUS" 7
check "export it" ac image export --format=oci "$BB" "oci:$TMP/bb-oci"
check "umoci unpacks it into a runtime bundle" umoci unpack --image "$TMP/bb-oci:1.0" "$TMP/bb-bundle"
jq '.process.terminal = false' "$TMP/bb-bundle/config.json" >"$TMP/config.json" &&
  mv "$TMP/config.json" "$TMP/bb-bundle/config.json"
ID=actool-export-test-$$
run_capture runc run --bundle "$TMP/bb-bundle" "$ID"
RUNC_STATUS=$status
runc delete --force "$ID" >/dev/null 2>&1
is "runc run: the same output" "$(cat "$TMP/.out")" "$(cat "$TMP/actool-run.out")"
is "runc run: the same exit status" "$RUNC_STATUS" "$OURS_STATUS"

# An app without exec: actool run runs /sbin/init, and so must what runs
# the export (an empty Entrypoint without Cmd runs nowhere).  The rootfs's
# sbin/init is a symlink to /bin/busybox, a path that is the host's here:
# it is removed, never written through.
NX=$TMP/noexec
"$top_srcdir/scripts/mkrootfs-busybox" "$NX/rootfs" >/dev/null
rm -f "$NX/rootfs/sbin/init"
[ -L "$NX/rootfs/sbin/init" ] || [ -L "$NX/rootfs/sbin" ] ||
  printf '#!/bin/sh\necho init ran as $(id -u) in $(pwd)\n' >"$NX/rootfs/sbin/init"
chmod 0755 "$NX/rootfs/sbin/init"
jq -n '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/noexec",
  labels: [{name: "version", value: "1.0"}, {name: "os", value: "linux"}, {name: "arch", value: "amd64"}],
  app: {user: "0", group: "0"}}' >"$NX/manifest"
"$ACTOOL" build "$NX" "$TMP/noexec.aci" >/dev/null
ac --insecure-options=image fetch "$TMP/noexec.aci" >/dev/null 2>&1
run_capture ac run example.com/noexec
cp "$TMP/.out" "$TMP/actool-run-noexec.out"
is "actool run of an app without exec: /sbin/init" "$(cat "$TMP/actool-run-noexec.out")" "init ran as 0 in /"
check "export it" ac image export --format=oci example.com/noexec "oci:$TMP/noexec-oci"
is "... Entrypoint /sbin/init, no Cmd" "$(jq -c '[.config.Entrypoint, .config.Cmd]' "$(config_of "$TMP/noexec-oci")")" \
  '[["/sbin/init"],null]'
check "umoci unpacks it into a runtime bundle" umoci unpack --image "$TMP/noexec-oci:1.0" "$TMP/noexec-bundle"
jq '.process.terminal = false' "$TMP/noexec-bundle/config.json" >"$TMP/config.json" &&
  mv "$TMP/config.json" "$TMP/noexec-bundle/config.json"
run_capture runc run --bundle "$TMP/noexec-bundle" "$ID-noexec"
runc delete --force "$ID-noexec" >/dev/null 2>&1
is "runc run: the same output" "$(cat "$TMP/.out")" "$(cat "$TMP/actool-run-noexec.out")"

# ---- podman runs the exported image, where this machine lets it ----
# Everything podman keeps is under $PM: its storage (--root), its run state
# (--runroot, runc's state with it), its libpod files (--tmpdir, TMPDIR),
# and, in a mount namespace of its own, /var/lib/containers (where the
# image library keeps its blob cache whatever --root says) is $PM/varlib.
# Its cgroups go under one parent that the cleanup removes.  Podman raises
# RLIMIT_NOFILE and RLIMIT_NPROC by default, which takes CAP_SYS_RESOURCE
# (some VMs drop it: runc then fails with EPERM); the limits are set lower
# here, which any root may do.
PM=$TMP/podman
PM_CGROUP=actool-oci-export-podman-$$
podman_() {
  TMPDIR=$PM/tmp timeout 120 unshare --mount --propagation private sh -c \
    'if [ -d /var/lib/containers ]; then mount --bind "$1" /var/lib/containers || exit 125; fi
     shift; exec "$@"' _ "$PM/varlib" \
    podman --root="$PM/root" --runroot="$PM/run" --tmpdir="$PM/tmp" --storage-driver=vfs \
    --cgroup-manager=cgroupfs --events-backend=none ${PM_RUNTIME:+--runtime="$PM_RUNTIME"} "$@"
}
podman_run() {
  podman_ run --rm --network=none --cgroup-parent="/$PM_CGROUP" \
    --ulimit=nofile=1024:1024 --ulimit=nproc=4096:4096 "$@"
}
podman_cleanup() {
  [ -d "$PM" ] || return 0
  podman_ rm --all --force >/dev/null 2>&1
  findmnt -rn -o TARGET | grep -F "$PM/" | sort -r | xargs -r -d '\n' umount -l 2>/dev/null
  # (conmon and the container's last processes may still be leaving their
  # cgroups as podman returns, more slowly under the sanitizers: a while)
  local _ left
  for _ in $(seq 50); do
    left=
    for d in /sys/fs/cgroup/*/"$PM_CGROUP" /sys/fs/cgroup/"$PM_CGROUP"; do
      [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$d" ] && left=1
    done
    [ -z "$left" ] && break
    sleep 0.1
  done
  rm -rf "$PM"
  # The blob cache podman made on the host when it had no directory to hide.
  [ -z "${PM_VARLIB_MADE:-}" ] || rm -rf /var/lib/containers
}
trap 'podman_cleanup; rm -rf "$TMP"' EXIT

if ! command -v podman >/dev/null; then
  not_ok "podman is installed (scripts/deps installs it)"
else
  mkdir -p "$PM/tmp" "$PM/varlib"
  [ -e /var/lib/containers ] || PM_VARLIB_MADE=1
  # The export, as an oci-archive (the layout in a tar), loaded into
  # podman's storage and run by its ID (the config's digest): podman names
  # an image read from oci:DIR after DIR, which must then be lower-case.
  tar -C "$TMP/bb-oci" -cf "$PM/bb.tar" .
  PM_IMAGE=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "1.0") | .digest' \
    "$TMP/bb-oci/index.json" | cut -d: -f2)
  PM_IMAGE=$(jq -r .config.digest "$TMP/bb-oci/blobs/sha256/$PM_IMAGE" | cut -d: -f2)
  check "podman loads the exported image" podman_ load --input "$PM/bb.tar"
  # The probe: the exported image's busybox echoes a word under podman,
  # with its default runtime (crun), else with runc: crun refuses a hybrid
  # cgroup host whose cgroup2 holds a controller (hugetlb, which no v1
  # hierarchy has, on some kernels), where runc runs.
  podman_probe() {
    run_capture podman_run --entrypoint=/bin/echo "$PM_IMAGE" podman-probe
    [ "$status" -eq 0 ] && [ "$(cat "$TMP/.out")" = podman-probe ]
  }
  if ! podman_probe && command -v runc >/dev/null; then
    note "podman's default runtime cannot run containers here (exit $status):" \
      "$(grep -v '^$' "$TMP/.err" | tail -n 1 | head -c 300); trying runc"
    PM_RUNTIME=runc
    podman_probe
  fi
  if [ "$status" -ne 0 ] || [ "$(cat "$TMP/.out")" != podman-probe ]; then
    skip "podman runs the exported image as actool runs it" \
      "podman cannot run containers here (exit $status): $(grep -v '^$' "$TMP/.err" | tail -n 1 | head -c 300)"
  else
    run_capture podman_run "$PM_IMAGE"
    PODMAN_STATUS=$status
    is "podman run: the same output" "$(cat "$TMP/.out")" "$(cat "$TMP/actool-run.out")"
    is "podman run: the same exit status" "$PODMAN_STATUS" "$OURS_STATUS"
    is "podman run --rm left no container" "$(podman_ ps --all --quiet 2>&1)" ""
    tar -C "$TMP/noexec-oci" -cf "$PM/noexec.tar" .
    check "podman loads the export of an app without exec" podman_ load --input "$PM/noexec.tar"
    run_capture podman_run "$(basename "$(config_of "$TMP/noexec-oci")")"
    is "podman run: /sbin/init, as actool run runs it" "$(cat "$TMP/.out")" "$(cat "$TMP/actool-run-noexec.out")"
  fi
  podman_cleanup
  is "podman's storage and cgroups are gone" \
    "$(ls -d "$PM" /sys/fs/cgroup/*/"$PM_CGROUP" /sys/fs/cgroup/"$PM_CGROUP" 2>/dev/null)" ""
fi

done_testing
