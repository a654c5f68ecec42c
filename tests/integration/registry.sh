#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fetch docker://: images pushed by skopeo to Debian's docker-registry (the
# CNCF distribution registry) over TLS from a CA made here, plain, with
# htpasswd auth and with token auth (a token server of ours signing the
# JWTs the registry checks); the rendered rootfs equals `umoci unpack`'s,
# file by file.  Misbehaving registries (tests/integration/registry-server.py)
# get a clear error and leave nothing in the store.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
. "$top_srcdir/tests/integration/lib-net.sh" || exit 1

SERVER="python3 $top_srcdir/tests/integration/registry-server.py"
S=$TMP/store
ac() { "$ACTOOL" --dir="$S" --cacert="$NET_CA" "$@"; }
# No retry, so that request counts are exact; limits a busy machine never
# reaches, except where a registry that never answers is the point.
export ACTOOL_HTTP_RETRIES=0 ACTOOL_HTTP_TIMEOUT=60 ACTOOL_HTTP_DEADLINE=120

PIDS=()
cleanup() {
  [ ${#PIDS[@]} -eq 0 ] || kill "${PIDS[@]}" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

for tool in docker-registry skopeo umoci htpasswd; do
  command -v "$tool" >/dev/null ||
    net_fail "$tool is installed" "scripts/deps installs docker-registry, skopeo, umoci, apache2-utils"
done
python3 -c 'import cryptography' 2>/dev/null ||
  net_fail "python3's cryptography is installed" "scripts/deps installs python3-cryptography"
net_make_ca "$TMP/pki"

# wait_port FILE: the port a server wrote there, once it listens (30 s at most).
wait_port() {
  for _ in $(seq 600); do
    [ -s "$1" ] && { cat "$1"; return 0; }
    sleep 0.05
  done
  return 1
}

# start_registry DIR HTTP-YAML [AUTH-YAML]: docker-registry serving DIR/data
# on a free port of 127.0.0.1, HTTP-YAML added to its http: map (TLS), its
# port in REG_PORT once it answers there. A port another process takes
# before the registry binds it is given up for another (three tries).
start_registry() {
  local dir=$1 http=$2 auth=${3:-} scheme=http pid
  [ -z "$http" ] || scheme=https
  mkdir -p "$dir/data"
  for _ in 1 2 3; do
    REG_PORT=$(free_port)
    cat >"$dir/config.yml" <<EOF
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}
http: {addr: "127.0.0.1:$REG_PORT"$http}
$auth
EOF
    docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    for _ in $(seq 300); do
      kill -0 "$pid" 2>/dev/null || break # it could not bind: another port
      curl -s -o /dev/null --max-time 5 --cacert "$NET_CA" "$scheme://localhost:$REG_PORT/v2/" &&
        kill -0 "$pid" 2>/dev/null && return 0
      sleep 0.1
    done
  done
  return 1
}

# registry NAME [AUTH-YAML]: a docker-registry over TLS, its port in REG_PORT.
registry() {
  local dir=$TMP/reg-$1
  start_registry "$dir" ", tls: {certificate: $NET_SERVER_CERT, key: $NET_SERVER_KEY}" "${2:-}" ||
    net_fail "docker-registry $1 started" "$(tail -n 20 "$dir/log")"
}

# fake MODE [USER:PASS]: registry-server.py's fake registry over $L, its
# port in FAKE_PORT, its request log in FAKE_LOG.  FAKE_NAME names its
# directory when MODE cannot; FAKE_CERT=- makes it speak plain http.
fake() {
  local dir=$TMP/fake-${FAKE_NAME:-$1}
  mkdir -p "$dir"
  rm -f "$dir/port" # a server of the same mode may have run before
  FAKE_LOG=$dir/log
  : >"$FAKE_LOG"
  $SERVER fake "${FAKE_CERT:-$NET_SERVER_CERT}" "$NET_SERVER_KEY" "$dir/port" "$FAKE_LOG" "$L" "$@" 2>"$dir/err" &
  PIDS+=($!)
  FAKE_PORT=$(wait_port "$dir/port") || net_fail "the fake registry ($1) started" "$(cat "$dir/err")"
}

CERTS=$TMP/certs
mkdir -p "$CERTS" && cp "$NET_CA" "$CERTS/ca.crt"
push() { # push SRC DEST [CREDS] [FORMAT]
  skopeo copy -q --dest-cert-dir "$CERTS" ${3:+--dest-creds "$3"} ${4:+--format "$4"} "$1" "$2"
}
images() { ac image list -q | wc -l; }

. "$top_srcdir/tests/integration/lib-oci.sh" || exit 1
L=$TMP/layout
oci_make_image "$L" app
umoci unpack --image "$L:app" "$TMP/theirs" >/dev/null
listing "$TMP/theirs/rootfs" >"$TMP/theirs.txt"

# ---- a plain registry (TLS, no auth) ----
registry plain
P=localhost:$REG_PORT
check "skopeo pushes the image as OCI" push "oci:$L:app" "docker://$P/test/app:oci"
check "skopeo pushes it as Docker schema 2" push "oci:$L:app" "docker://$P/test/app:v2s2" "" v2s2

check_fails "a registry image by tag needs --insecure-options=image" 1 \
  'carries no signature to check: pull it by digest' ac fetch "docker://$P/test/app:oci"
is "... nothing stored" "$(images)" 0
check "fetch docker://REGISTRY/REPO:TAG (OCI manifest)" ac --insecure-options=image fetch "docker://$P/test/app:oci"
TOP=$(cat "$TMP/.out")
is "one image per layer" "$(images)" 3
ac image cat-manifest "$TOP" >"$TMP/m.json"
is "named REGISTRY/REPO as an AC Name, version the tag" \
  "$(jq -c '[.name, [.labels[] | .name + "=" + .value]]' "$TMP/m.json")" \
  "[\"localhost-$REG_PORT/test/app\",[\"version=oci\",\"os=linux\",\"arch=amd64\"]]"
is "the app from the config" "$(jq -c '[.app.exec, .app.user, .app.workingDirectory]' "$TMP/m.json")" \
  '[["/bin/sh","-c","echo hi"],"1000","/dir"]'
is "docker2aci's annotations of the origin" \
  "$(jq -r '[.annotations[] | select(.name | startswith("appc.io/docker/")) | .name + "=" + .value] | join(" ")' "$TMP/m.json" |
    sed "s/sha256:[0-9a-f]*/DIGEST/")" \
  "appc.io/docker/entrypoint=[\"/bin/sh\"] appc.io/docker/cmd=[\"-c\",\"echo hi\"] appc.io/docker/labels={\"org.example\":\"yes\"} appc.io/docker/originalname=$P/test/app:oci appc.io/docker/registryurl=$P appc.io/docker/repository=test/app appc.io/docker/tag=oci appc.io/docker/manifesthash=DIGEST"
check "image render" ac image render "$TOP" "$TMP/ours"
same_tree "the rendered rootfs equals umoci unpack's, file by file" "$TMP/ours/rootfs"
is "the store's tmp/ is empty after the pull" "$(ls -A "$S/tmp")" ""

# A pull waiting for another pull's download of the same blob says so, and
# a SIGINT ends the wait.
SW=$TMP/store-blobwait
"$ACTOOL" --dir="$SW" image list >/dev/null 2>&1
MD=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "app") | .digest' "$L/index.json")
LAYER=$(jq -r '.layers[0].digest' "$L/blobs/sha256/${MD#sha256:}")
part=$SW/tmp/download-registry-sha256-${LAYER#sha256:}
lock_wait_check "a pull of a blob that another pull downloads says it waits, then pulls" -x "$part" \
  "another pull's download of a blob of docker://$P/test/app (tmp/${part##*/})" \
  timeout 120 "$ACTOOL" --dir="$SW" --cacert="$NET_CA" --insecure-options=image fetch "docker://$P/test/app:oci"
is "... the same image" "$(cat "$TMP/.out")" "$TOP"
lock_wait_cancel "... and a SIGINT ends that wait" "$part" \
  timeout 120 "$ACTOOL" --dir="$SW" --cacert="$NET_CA" --insecure-options=image fetch --no-store "docker://$P/test/app:oci"
lock_hold "$part"
check_fails "... which ends at ACTOOL_FETCH_DEADLINE, naming the blob and the deadline" 1 \
  "^actool: docker://$P/test/app: tmp/${part##*/}: another pull still downloads it \\(the pull of docker://$P/test/app:oci not done within its 2 s deadline\\)" \
  env ACTOOL_FETCH_DEADLINE=2 timeout 120 "$ACTOOL" --dir="$SW" --cacert="$NET_CA" --insecure-options=image fetch --no-store "docker://$P/test/app:oci"
lock_release

check "fetch the Docker schema 2 push" ac --insecure-options=image fetch "docker://$P/test/app:v2s2"
V2=$(cat "$TMP/.out")
check "image render of it" ac image render "$V2" "$TMP/ours-v2"
same_tree "... equals umoci unpack's too" "$TMP/ours-v2/rootfs"
is "its layers are those of the OCI push (by diff_id), not pulled again" "$(images)" 4

DIGEST=$(skopeo inspect --cert-dir "$CERTS" --format '{{.Digest}}' "docker://$P/test/app:oci")
run_capture ac fetch "docker://$P/test/app@$DIGEST"
DIGEST_ID=$(grep '^sha512-' "$TMP/.out")
is "by digest, no --insecure-options=image is needed" "$status $(grep -c '^sha512-' "$TMP/.out")" "0 1"
cp "$TMP/.err" "$TMP/digest.err"
check "... and stderr says what vouches for it" \
  grep -q 'not signed; trusted because every byte matched the digest asked for' "$TMP/digest.err"
# ---- images that only claim to be what a pull made ----
# An ACI imported without verification may carry any name, label and
# annotation (appc.io/oci/manifest, appc.io/oci/diff-id...); a pull must not
# take it for the image it made of a digest, nor for one of its layers.
# plant ID OUT.aci: an ACI with ID's manifest, standing alone, and a file of its own.
plant() {
  local d=$TMP/plant-${1:7:12}
  mkdir -p "$d/rootfs" && echo planted >"$d/rootfs/planted" &&
    ac image cat-manifest "$1" | jq 'del(.dependencies)' >"$d/manifest" &&
    "$ACTOOL" build --overwrite "$d" "$2" >/dev/null
}
# bottom ID: the lowest image of ID's chain of dependencies.
bottom() {
  local id=$1 dep
  while dep=$(ac image cat-manifest "$id" | jq -r '.dependencies[0].imageID // empty') && [ -n "$dep" ]; do
    id=$dep
  done
  echo "$id"
}
SP=$TMP/planted
plant "$DIGEST_ID" "$TMP/planted-top.aci"
"$ACTOOL" --dir="$SP" --insecure-options=image fetch "$TMP/planted-top.aci" >"$TMP/planted-top.id"
run_capture "$ACTOOL" --dir="$SP" --cacert="$NET_CA" fetch "docker://$P/test/app@$DIGEST"
is "a pull by digest is not answered by an image that names the digest in its annotations" \
  "$status $(grep '^sha512-' "$TMP/.out")" "0 $DIGEST_ID"
plant "$(bottom "$TOP")" "$TMP/planted-layer.aci"
SL=$TMP/planted-layer
"$ACTOOL" --dir="$SL" --insecure-options=image fetch "$TMP/planted-layer.aci" >/dev/null
check "a pull beside an image that names itself after a layer of it" \
  "$ACTOOL" --dir="$SL" --cacert="$NET_CA" --insecure-options=image fetch "docker://$P/test/app:oci"
check "... renders" "$ACTOOL" --dir="$SL" image render --rootfs "$(cat "$TMP/.out")" "$TMP/planted-render"
same_tree "... its own layer, not that image, file by file" "$TMP/planted-render"

check_fails "a digest the registry does not have" 1 '404 MANIFEST_UNKNOWN' \
  ac fetch "docker://$P/test/app@sha256:$(printf '0%.0s' {1..64})"
check_fails "a repository that does not exist" 1 '404' ac --insecure-options=image fetch "docker://$P/test/nope"
check_fails "a malformed reference" 1 'a repository is' ac --insecure-options=image fetch "docker://$P/Test"
check_fails "plain http is refused without --insecure-options=http" 1 'TLS|http' \
  ac --insecure-options=image fetch "docker://localhost:$(free_port)/test/app"

# ---- export --format=oci, pushed by skopeo, pulled back ----
check "image export --format=oci" ac image export --format=oci "$TOP" "oci:$TMP/exported:1"
check "skopeo pushes the exported image" push "oci:$TMP/exported:1" "docker://$P/test/exported:1"
check "fetch it back from the registry" "$ACTOOL" --dir="$TMP/back" --cacert="$NET_CA" \
  --insecure-options=image fetch "docker://$P/test/exported:1"
check "render it" "$ACTOOL" --dir="$TMP/back" image render --rootfs "$(cat "$TMP/.out")" "$TMP/back-render"
same_tree "... every file made the round trip" "$TMP/back-render"

# ---- plain http: only with --insecure-options=http ----
start_registry "$TMP/reg-http" "" ||
  net_fail "a plain-http docker-registry started" "$(tail -n 20 "$TMP/reg-http/log")"
HP=$REG_PORT
check "skopeo pushes to a plain-http registry" \
  skopeo copy -q --dest-tls-verify=false "oci:$L:app" "docker://localhost:$HP/test/app:1"
check_fails "a plain-http registry is refused without --insecure-options=http" 1 'TLS|http' \
  "$ACTOOL" --dir="$TMP/sh" --insecure-options=image fetch "docker://localhost:$HP/test/app:1"
is "... nothing stored" "$("$ACTOOL" --dir="$TMP/sh" image list -q 2>/dev/null | wc -l)" 0
check "with it, https is tried, then plain http" "$ACTOOL" --dir="$TMP/sh" --insecure-options=image,http \
  fetch "docker://localhost:$HP/test/app:1"
check "render the plain-http image" "$ACTOOL" --dir="$TMP/sh" image render --rootfs "$(cat "$TMP/.out")" \
  "$TMP/http-render"
same_tree "... equals umoci unpack's" "$TMP/http-render"

# ---- squash ----
check "fetch --squash docker://..." "$ACTOOL" --dir="$TMP/sq" --cacert="$NET_CA" --insecure-options=image \
  fetch --squash "docker://$P/test/app:oci"
is "one image" "$("$ACTOOL" --dir="$TMP/sq" image list -q | wc -l)" 1
check "render the squashed image" "$ACTOOL" --dir="$TMP/sq" image render "$(cat "$TMP/.out")" "$TMP/ours-sq"
same_tree "... equals umoci unpack's" "$TMP/ours-sq/rootfs"

# ---- a multi-platform index ----
M=$TMP/multi
umoci init --layout "$M" && umoci new --image "$M:arm" >/dev/null &&
  umoci unpack --image "$M:arm" "$TMP/arm" >/dev/null && echo arm64 >"$TMP/arm/rootfs/platform" &&
  umoci repack --image "$M:arm" "$TMP/arm" >/dev/null &&
  umoci config --image "$M:arm" --architecture arm64 >/dev/null
# arm/v7 listed before arm/v6, configs saying only "arm": the index's variant decides
for v in v7 v6; do
  umoci new --image "$M:arm$v" >/dev/null && umoci unpack --image "$M:arm$v" "$TMP/arm$v" >/dev/null &&
    echo "arm/$v" >"$TMP/arm$v/rootfs/platform" &&
    umoci repack --image "$M:arm$v" "$TMP/arm$v" >/dev/null &&
    umoci config --image "$M:arm$v" --architecture arm >/dev/null
done
python3 - "$M" "$L" <<'PY'
import hashlib, json, os, shutil, sys
m, l = sys.argv[1], sys.argv[2]
def desc(layout, ref):
    idx = json.load(open(os.path.join(layout, "index.json")))
    return [d for d in idx["manifests"] if d["annotations"]["org.opencontainers.image.ref.name"] == ref][0]
for name in os.listdir(os.path.join(l, "blobs", "sha256")):
    shutil.copy(os.path.join(l, "blobs", "sha256", name), os.path.join(m, "blobs", "sha256", name))
arm, amd = desc(m, "arm"), desc(l, "app")
v7, v6 = desc(m, "armv7"), desc(m, "armv6")
doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": arm["mediaType"], "digest": arm["digest"], "size": arm["size"],
     "platform": {"os": "linux", "architecture": "arm64"}},
    {"mediaType": amd["mediaType"], "digest": amd["digest"], "size": amd["size"],
     "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": v7["mediaType"], "digest": v7["digest"], "size": v7["size"],
     "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}},
    {"mediaType": v6["mediaType"], "digest": v6["digest"], "size": v6["size"],
     "platform": {"os": "linux", "architecture": "arm", "variant": "v6"}}]}
data = json.dumps(doc).encode()
digest = hashlib.sha256(data).hexdigest()
open(os.path.join(m, "blobs", "sha256", digest), "wb").write(data)
idx = json.load(open(os.path.join(m, "index.json")))
idx["manifests"].append({"mediaType": doc["mediaType"], "digest": "sha256:" + digest, "size": len(data),
                         "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(idx, open(os.path.join(m, "index.json"), "w"))
PY
check "skopeo pushes a two-platform index" \
  skopeo copy -q --all --dest-cert-dir "$CERTS" "oci:$M:multi" "docker://$P/test/multi:1"
check "fetch the index: this machine's platform is taken" ac --insecure-options=image fetch "docker://$P/test/multi:1"
MULTI=$(cat "$TMP/.out")
is "... the amd64 image (the app's exec)" "$(ac image cat-manifest "$MULTI" | jq -c '[.app.exec[0], (.labels[] | select(.name == "arch") | .value)]')" \
  '["/bin/sh","amd64"]'
check "fetch docker://...,arch=aarch64: the arm64 image" ac --insecure-options=image fetch "docker://$P/test/multi:1,arch=aarch64"
ARM=$(cat "$TMP/.out")
is "... labelled aarch64" "$(ac image cat-manifest "$ARM" | jq -r '.labels[] | select(.name == "arch") | .value')" aarch64
check "render the arm64 image" ac image render --rootfs "$ARM" "$TMP/arm-render"
is "... its own file" "$(cat "$TMP/arm-render/platform" 2>&1)" arm64
# armv6l is arm/v6, not the first arm; v6 and v7 are two pulls, not one record
for a in armv6l armv7l; do
  check "fetch docker://...,arch=$a" ac --insecure-options=image fetch "docker://$P/test/multi:1,arch=$a"
  ID=$(cat "$TMP/.out")
  is "... labelled $a" "$(ac image cat-manifest "$ID" | jq -r '.labels[] | select(.name == "arch") | .value')" $a
  check "render the $a image" ac image render --rootfs "$ID" "$TMP/$a-render"
  is "... its own file" "$(cat "$TMP/$a-render/platform" 2>&1)" "arm/v${a:4:1}"
done
check_fails "a platform the index lacks" 1 'no image for linux/s390x' \
  ac --insecure-options=image fetch "docker://$P/test/multi:1,arch=s390x"

# ---- htpasswd (Basic) auth ----
htpasswd -Bbn alice s3cret >"$TMP/htpasswd" 2>/dev/null
registry basic "auth: {htpasswd: {realm: actool-test, path: $TMP/htpasswd}}"
B=localhost:$REG_PORT
check "skopeo pushes with credentials" push "oci:$L:app" "docker://$B/test/app:1" alice:s3cret
SA=$TMP/store-auth
aa() { "$ACTOOL" --dir="$SA" --cacert="$NET_CA" --insecure-options=image "$@"; }
check_fails "without credentials the 401 says where they go" 1 "auth.d has no credentials for $B" \
  aa fetch "docker://$B/test/app:1"
mkdir -p "$SA/auth.d"
printf '{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["%s"], "credentials": {"user": "alice", "password": "wrong"}}\n' \
  "$B" >"$SA/auth.d/reg.json"
check_fails "wrong credentials are refused" 1 '401.*refused' aa fetch "docker://$B/test/app:1"
printf '{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["%s"], "credentials": {"user": "alice", "password": "s3cret"}}\n' \
  "$B" >"$SA/auth.d/reg.json"
check "rkt's dockerAuth file gives the credentials" aa fetch "docker://$B/test/app:1"
printf '{"actoolKind": "auth", "actoolVersion": "v1", "domains": ["localhost"], "type": "basic", "credentials": {"user": "alice", "password": "s3cret"}}\n' \
  >"$SA/auth.d/reg.json"
rm -rf "$SA/images" "$SA/blobs"
check "so does a basic file naming the host" aa fetch --no-store "docker://$B/test/app:1"

# ---- token auth: our token server signs, the registry checks ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/sign.key" \
  -out "$TMP/sign.pem" -days 2 -subj /CN=actool-token-signer 2>/dev/null
mkdir -p "$TMP/token"
: >"$TMP/token/log"
$SERVER token "$NET_SERVER_CERT" "$NET_SERVER_KEY" "$TMP/token/port" "$TMP/token/log" bob:pw \
  "$TMP/sign.key" "$TMP/sign.pem" 2>"$TMP/token/err" &
PIDS+=($!)
TPORT=$(wait_port "$TMP/token/port") || net_fail "the token server started" "$(cat "$TMP/token/err")"
registry token "auth: {token: {realm: \"https://localhost:$TPORT/token\", service: actool-test, issuer: actool-test-issuer, rootcertbundle: $TMP/sign.pem}}"
T=localhost:$REG_PORT
check "skopeo pushes through the token dance" push "oci:$L:app" "docker://$T/test/app:1" bob:pw
ST=$TMP/store-token
at() { "$ACTOOL" --dir="$ST" --cacert="$NET_CA" --insecure-options=image "$@"; }
check_fails "no credentials: the token server refuses" 1 "token.*401" at fetch "docker://$T/test/app:1"
mkdir -p "$ST/auth.d"
printf '{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["%s"], "credentials": {"user": "bob", "password": "pw"}}\n' \
  "$T" >"$ST/auth.d/reg.json"
: >"$TMP/token/log"
check "with the registry's credentials, a bearer token from the realm" at fetch "docker://$T/test/app:1"
TOKEN_ID=$(cat "$TMP/.out")
check "the realm got the credentials (Basic), once" test "$(grep -c 'GET /token.*auth=Basic' "$TMP/token/log")" = 1
check "the scope asked for is the repository's pull" grep -q 'scope=repository%3Atest%2Fapp%3Apull' "$TMP/token/log"
check "render the token-pulled image" at image render "$TOKEN_ID" "$TMP/ours-token"
same_tree "... equals umoci unpack's" "$TMP/ours-token/rootfs"

# ---- the fake registry: what a well-behaved one does, counted ----
SF=$TMP/store-fake
af() { "$ACTOOL" --dir="$SF" --cacert="$NET_CA" --insecure-options=image "$@"; }
fake good
check "fetch from the fake registry" af fetch "docker://localhost:$FAKE_PORT/test/app:app"
GOOD=$(cat "$TMP/.out")
err_lacks "... no progress line when stderr is no terminal" Downloading
is "one request per manifest, config and layer" "$(grep -c '^GET' "$FAKE_LOG")" 5
: >"$FAKE_LOG"
check "fetch the unchanged tag again" af fetch "docker://localhost:$FAKE_PORT/test/app:app"
is "... the same image" "$(cat "$TMP/.out")" "$GOOD"
is "... for one manifest request" "$(cat "$FAKE_LOG")" \
  "GET /v2/test/app/manifests/app host=localhost:$FAKE_PORT range=- auth=none"
: >"$FAKE_LOG"
check "fetch --no-store pulls it all again" af fetch --no-store "docker://localhost:$FAKE_PORT/test/app:app"
is "... the same image" "$(cat "$TMP/.out")" "$GOOD"
is "... every manifest, config and layer asked for" "$(grep -c '^GET' "$FAKE_LOG")" 5

# progress on a terminal: each layer's line, redrawn in place, then cleared
if command -v script >/dev/null; then
  run_capture script -qec "$(printf '%q ' "$ACTOOL" --dir="$TMP/store-tty" --cacert="$NET_CA" \
    --insecure-options=image fetch "docker://localhost:$FAKE_PORT/test/app:app")" /dev/null
  tr '\r' '\n' <"$TMP/.out" >"$TMP/tty.txt"
  is "on a terminal the pull succeeds" "$status $(grep -c $'^\e\\[Ksha512-' "$TMP/tty.txt")" "0 1"
  is "... drawing a line for each layer that reaches its whole size" \
    "$(sed -n $'s/^\e\\[KDownloading \\(sha256:[0-9a-f]*\\): [0-9.]* [KMG]*i*B \\/ [0-9.]* [KMG]*i*B (100%)\\(, [0-9.]* [KMG]*i*B\\/s\\)*$/\\1/p' "$TMP/tty.txt" |
      sort -u | wc -l)" 3
  is "... each state drawn once" "$(grep -c Downloading "$TMP/tty.txt")" "$(grep Downloading "$TMP/tty.txt" | sort -u | wc -l)"
  # --quiet: no progress line, even on a terminal.
  run_capture script -qec "$(printf '%q ' "$ACTOOL" --dir="$TMP/store-tty-quiet" --cacert="$NET_CA" \
    --insecure-options=image --quiet fetch "docker://localhost:$FAKE_PORT/test/app:app")" /dev/null
  tr '\r' '\n' <"$TMP/.out" >"$TMP/tty-quiet.txt"
  is "--quiet on a terminal: the pull succeeds, drawing no progress line" \
    "$status $(grep -c $'^\e\\[Ksha512-\\|^sha512-' "$TMP/tty-quiet.txt") $(grep -c Downloading "$TMP/tty-quiet.txt")" "0 1 0"
else
  not_ok "script (util-linux) is installed (scripts/deps)"
fi

# resumption: the first download of each blob is cut halfway
fake cut-blob-once
SR=$TMP/store-resume
ar() { "$ACTOOL" --dir="$SR" --cacert="$NET_CA" --insecure-options=image "$@"; }
check_fails "a download cut halfway fails (no retries here)" 1 'transfer closed with [0-9]+ bytes remaining' \
  ar fetch "docker://localhost:$FAKE_PORT/test/app:app"
FIRST=$(sed -n 's/.*blobs\/\(sha256:[0-9a-f]*\): transfer closed.*/\1/p' "$TMP/.err")
is "... nothing stored" "$(ar image list -q | wc -l)" 0
check "... the part is kept in tmp/ to resume from" bash -c 'ls "$1"/tmp | grep -q "^download-registry-sha256-"' _ "$SR"
check "image gc" ar image gc
check "... keeps it: a partial download younger than the grace period" \
  bash -c 'ls "$1"/tmp | grep -q "^download-registry-sha256-"' _ "$SR"
# the other layers are cut too, the first time: retried within the fetch
check "the next fetch resumes and succeeds" env ACTOOL_HTTP_RETRIES=2 \
  "$ACTOOL" --dir="$SR" --cacert="$NET_CA" --insecure-options=image fetch "docker://localhost:$FAKE_PORT/test/app:app"
RESUMED=$(cat "$TMP/.out")
check "render the resumed image" ar image render "$RESUMED" "$TMP/ours-resumed"
same_tree "... equals umoci unpack's" "$TMP/ours-resumed/rootfs"
is "the blob cut in the first fetch was asked for twice" "$(grep -c "GET /v2/test/app/blobs/$FIRST " "$FAKE_LOG")" 2
check "... the second time with a Range from where it was cut" \
  grep -Eq "GET /v2/test/app/blobs/$FIRST .*range=bytes=[1-9][0-9]*-" "$FAKE_LOG"
is "... and tmp/ empty after" "$(ls -A "$SR/tmp")" ""

# bearer and basic challenges of the fake registry
fake bearer carol:pw
check_fails "bearer: without credentials the token is refused" 1 'token' \
  "$ACTOOL" --dir="$TMP/sb" --cacert="$NET_CA" --insecure-options=image fetch "docker://localhost:$FAKE_PORT/test/app:app"
mkdir -p "$TMP/sb/auth.d"
printf '{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["localhost:%s"], "credentials": {"user": "carol", "password": "pw"}}\n' \
  "$FAKE_PORT" >"$TMP/sb/auth.d/r.json"
check "bearer: with them, the pull goes through" \
  "$ACTOOL" --dir="$TMP/sb" --cacert="$NET_CA" --insecure-options=image fetch "docker://localhost:$FAKE_PORT/test/app:app"
check "every blob request carried the bearer token" \
  bash -c '! grep "/blobs/" "$1" | grep -qv "auth=Bearer"' _ "$FAKE_LOG"

# A 401 that came over plain http names the token realm: whoever can write
# that answer chose it, so auth.d's credentials are not sent there.
fake bearer carol:pw
SINK_PORT=$FAKE_PORT SINK_LOG=$FAKE_LOG
FAKE_NAME=plain-realm FAKE_CERT=- fake "realm=https://localhost:$SINK_PORT/token"
mkdir -p "$TMP/sp/auth.d"
printf '{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["localhost:%s"], "credentials": {"user": "carol", "password": "pw"}}\n' \
  "$FAKE_PORT" >"$TMP/sp/auth.d/r.json"
check_fails "a bearer challenge over plain http: the realm it names refuses the token" 1 'token' \
  "$ACTOOL" --dir="$TMP/sp" --cacert="$NET_CA" --insecure-options=image,http \
  fetch "docker://localhost:$FAKE_PORT/test/app:app"
is "... for it was asked without auth.d's credentials" \
  "$(grep '^GET /token' "$SINK_LOG" | sed 's/.* auth=//' | sort -u)" none
is "... nothing stored" "$("$ACTOOL" --dir="$TMP/sp" image list -q 2>/dev/null | wc -l)" 0

# With --insecure-options=http, plain http is tried only where https got no
# answer: not after a certificate that does not verify.
fake good
check_fails "an https registry whose certificate is not trusted: refused, plain http not tried" 1 \
  'TLS certificate not trusted' "$ACTOOL" --debug --dir="$TMP/sc" --insecure-options=image,http \
  fetch "docker://localhost:$FAKE_PORT/test/app:app"
is "... (no word of plain http)" "$(grep -c 'trying plain http' "$TMP/.err")" 0
# ... and where http answers, its failure is the one told.
FAKE_NAME=plain-huge FAKE_CERT=- fake huge-manifest
check_fails "a plain http registry whose manifest is too large: that is the error" 1 \
  "http://localhost:$FAKE_PORT/v2/test/app/manifests/app: response larger than" \
  "$ACTOOL" --dir="$TMP/sh" --insecure-options=image,http fetch "docker://localhost:$FAKE_PORT/test/app:app"

fake redirect-blob
check "blobs redirected to another host name" af fetch --no-store "docker://localhost:$FAKE_PORT/test/app:app"
check "... were fetched there" grep -q "host=127.0.0.1:$FAKE_PORT" "$FAKE_LOG"

# ---- misbehaving registries: a clear error, nothing stored ----
hostile() { # hostile MODE DESCRIPTION PATTERN [NAME=VALUE...]: actool's environment
  local store=$TMP/store-$1
  fake "$1"
  check_fails "$2" 1 "$3" timeout 120 env "${@:4}" "$ACTOOL" --dir="$store" --cacert="$NET_CA" \
    --insecure-options=image fetch "docker://localhost:$FAKE_PORT/test/app:app"
  is "... nothing stored" "$("$ACTOOL" --dir="$store" image list -q 2>/dev/null | wc -l)" 0
  is "... no temporary left" "$(ls -A "$store/tmp" 2>/dev/null)" ""
}
hostile wrong-layer "a layer unlike its digest is refused" 'does not match its digest'
hostile wrong-digest "a manifest unlike the registry's Docker-Content-Digest is refused" \
  'a corrupt or tampered answer'
hostile liar-index "an index whose manifest is the index again: the digest check cuts the loop" \
  'does not match its digest'
hostile huge-manifest "a 64 MiB manifest is refused unread" 'larger than'
hostile fat-indexes "4 MiB indexes nested 4 deep: the image's manifest is past the 16 MiB for a pull" \
  'more than 16777216 bytes of manifests and indexes'
hostile schema1 "a Docker schema 1 manifest is refused by name" 'schema 1 manifest, which is not supported'
hostile endless-error "a layer answering 404 with a body without end: refused at once" \
  "blobs/sha256:[0-9a-f]{64}: 404 Not Found"
hostile size-lie "an index whose descriptor gives the manifest's digest and another size: refused" \
  'bytes where the descriptor says 7'
hostile never-answer "a registry that never answers times out" 'deadline|no data|timed out|Timeout' \
  ACTOOL_HTTP_TIMEOUT=5 ACTOOL_HTTP_DEADLINE=5
# each blob answered in 2 s, well within a request's deadline: the pull as a
# whole (its config and layers) is one operation, cut at ACTOOL_FETCH_DEADLINE
hostile slow-blobs "a registry slow on every blob: the pull is cut at ACTOOL_FETCH_DEADLINE, naming it" \
  "blobs/sha256:[0-9a-f]{64}: .*\\(the pull of docker://localhost:[0-9]+/test/app:app not done within its 3 s deadline\\)" \
  ACTOOL_FETCH_DEADLINE=3 ACTOOL_HTTP_TIMEOUT=10
# The manifest declaring a layer's size is the registry's own word (pulled
# by tag): a size past ACTOOL_FETCH_MAX_SIZE is refused before the layer is
# asked for, not downloaded up to what the registry declared.
hostile huge-declared "a layer declared larger than ACTOOL_FETCH_MAX_SIZE is refused, naming it and the limit" \
  'blobs/sha256:[0-9a-f]{64}: declared to be 1099511627776 bytes, more than 10000000, the most a download may be \(ACTOOL_FETCH_MAX_SIZE allows more\)$' \
  ACTOOL_FETCH_MAX_SIZE=10M
is "... before any byte of it: the config is the only blob asked for" "$(grep -c '^GET /v2/test/app/blobs/' "$FAKE_LOG")" 1

# layers that try to leave the rootfs, served by a registry
hostile_layer() { # hostile_layer DESCRIPTION PATTERN ENTRIES.json
  local copy=$TMP/hl$_tap_n store=$TMP/store-hl$_tap_n saved=$L
  rm -rf "$copy" && cp -a "$L" "$copy" && $CRAFT add-layer "$copy" app "$3"
  L=$copy
  fake good
  L=$saved
  check_fails "$1" 1 "$2" "$ACTOOL" --dir="$store" --cacert="$NET_CA" --insecure-options=image \
    fetch "docker://localhost:$FAKE_PORT/test/app:app"
  is "... nothing stored" "$("$ACTOOL" --dir="$store" image list -q 2>/dev/null | wc -l)" 0
  is "... no temporary left" "$(ls -A "$store/tmp" 2>/dev/null)" ""
}
echo '[{"name": "../escape", "type": "file", "data": "x"}]' >"$TMP/dotdot.json"
echo '[{"name": "/abs", "type": "file", "data": "x"}]' >"$TMP/abs.json"
echo '[{"name": "etc/.wh...", "type": "file"}]' >"$TMP/whdotdot.json"
echo '[{"name": "x", "type": "hardlink", "target": "../../etc/passwd"}]' >"$TMP/hardlink.json"
hostile_layer "a registry's layer entry with .. is refused" '\.\.' "$TMP/dotdot.json"
hostile_layer "a registry's layer entry with an absolute name is refused" 'absolute' "$TMP/abs.json"
hostile_layer "a whiteout reaching out of the rootfs is refused" 'whiteout|\.\.' "$TMP/whdotdot.json"
hostile_layer "a hard link out of the rootfs is refused" '\.\.' "$TMP/hardlink.json"

done_testing
