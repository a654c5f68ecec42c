#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `actool fetch NAME` and `actool fetch https://URL` against a real HTTPS
# server (nginx, tests/integration/lib-net.sh), as docs/discovery.md
# ("Fetch") describes it: discovery, download, the manifest and signature
# checks, import, dependencies, the HTTP cache (304), pinned versions and
# --store-only without the network, resumed downloads (SIGKILL, SIGINT),
# stalls, transient 503s, certificates, URLs, 401 and credentials, and
# several endpoints.  Every refusal must leave the store without the image,
# its blob or a temporary.
#
# Images are built with `actool build`, signed with keys made here, and
# served by nginx from $NET_ROOT/images/localhost/NAME-VERSION-OS-ARCH.aci
# (the template {name}-{version}-{os}-{arch}.{ext} with names under
# localhost/); the discovery page of localhost/NAME is the file
# $NET_ROOT/NAME.  Each case uses a fresh store that trusts the signing key
# for the prefix "localhost".
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
. "$top_srcdir/tests/integration/lib-net.sh" || exit 1

G=$TMP/gnupg
IN=$TMP/in
STORES=$TMP/stores
mkdir -p "$IN" "$STORES"
mkdir -m 0700 "$G"
BG_PID=
# nginx, the gpg-agent of $G and any fetch left in the background stop
# with the test.
HTTP_PID=
trap '[ -z "$BG_PID" ] || kill -KILL $BG_PID 2>/dev/null
  [ -z "$HTTP_PID" ] || kill -KILL $HTTP_PID 2>/dev/null
  gpgconf --homedir "$G" --kill gpg-agent >/dev/null 2>&1
  net_cleanup; rm -rf "$TMP"' EXIT

net_require
for t in jq gpg gpgconf; do
  command -v "$t" >/dev/null 2>&1 || net_fail "$t is installed (scripts/deps)"
done
# The environment must not give actool a CA, a store or other HTTP settings.
unset ACTOOL_CACERT ACTOOL_DIR ACTOOL_HTTP_TIMEOUT ACTOOL_HTTP_RETRIES

T="timeout 60"
# {os} and {arch} default to the host's, in appc's spelling.
case $(uname -m) in
  x86_64) ARCH=amd64 ;;
  i?86) ARCH=i386 ;;
  *) ARCH=$(uname -m) ;;
esac
OA=linux-$ARCH
IMG=$NET_ROOT/images/localhost
mkdir -p "$IMG"

# --- helpers ----------------------------------------------------------------

# gpgt, fpr and newkey come from lib-net.sh.

# sign KEY FILE [OUT]: an armored detached signature of FILE (default
# FILE.asc).
sign() { gpgt --yes --local-user "$1!" --armor --output "${3:-$2.asc}" --detach-sign "$2"; }

# mkimg VAR NAME OUT [VERSION [DEPENDENCIES-JSON [RANDOM-BYTES [LABELS-JSON]]]]:
# build the image NAME (labels version, os, arch and LABELS) into OUT, its
# ID in VAR.
mkimg() {
  local var=$1 name=$2 out=$3 version=${4:-1.0.0} deps=${5:-null} bytes=${6:-20000} more=${7:-[]}
  local lay=$TMP/layouts/${out##*/}
  rm -rf "$lay"
  mkdir -p "$lay/rootfs/etc"
  jq -n --arg n "$name" --arg v "$version" --arg a "$ARCH" --argjson d "$deps" --argjson m "$more" \
    '{acKind: "ImageManifest", acVersion: "0.8.11", name: $n,
      labels: ([{name: "version", value: $v}, {name: "os", value: "linux"},
               {name: "arch", value: $a}] + $m)}
     + (if $d == null then {} else {dependencies: $d} end)' >"$lay/manifest"
  printf '%s\n' "$name" >"$lay/rootfs/etc/name"
  head -c "$bytes" /dev/urandom >"$lay/rootfs/data"
  run_capture $T "$ACTOOL" build "$lay" "$out"
  printf -v "$var" '%s' "$(cat "$TMP/.out")"
  [ "$status" -eq 0 ] && [[ ${!var} =~ ^sha512-[0-9a-f]{128}$ ]] ||
    net_fail "build $name" "exit $status" "$(head -c 2000 "$TMP/.err")"
}

# serve FILE NAME VERSION...: FILE (and FILE.asc when there is one) served as
# the image localhost/NAME of each VERSION.
serve() {
  local f=$1 n=$2 v
  shift 2
  for v; do
    cp "$f" "$IMG/$n-$v-$OA.aci"
    if [ -f "$f.asc" ]; then cp "$f.asc" "$IMG/$n-$v-$OA.aci.asc"; else rm -f "$IMG/$n-$v-$OA.aci.asc"; fi
  done
}

# page NAME [TEMPLATE...]: the discovery page of localhost/NAME, with the
# given templates (default: the standard one).
page() {
  local n=$1 t
  shift
  [ $# -gt 0 ] || set -- "$TPL"
  {
    printf '%s\n' '<!DOCTYPE html>' '<html><head><title>discovery</title>'
    for t; do printf '<meta name="ac-discovery" content="localhost %s">\n' "$t"; done
    printf '%s\n' '</head><body></body></html>'
  } >"$NET_ROOT/$n"
}

# conf NAME LINE...: a location file for the TLS server.
conf() {
  local f=$NET_CONF_D/$1.conf
  shift
  printf '%s\n' "$@" >"$f"
}

# new_store NAME: a fresh store directory (printed) trusting $K for the
# prefix "localhost".
new_store() {
  local s=$STORES/$1
  rm -rf "$s"
  mkdir -p "$s/trust/prefix.d/localhost"
  gpgt --armor --export "$K" >"$s/trust/prefix.d/localhost/$K"
  printf '%s\n' "$s"
}

# act STORE ARGS...: actool with the test CA and port on STORE, bounded in
# time; results in $status, $TMP/.out, $TMP/.err.
act() {
  local s=$1
  shift
  last_cmd="actool --dir=$s $*"
  run_capture $T "$ACTOOL" --dir="$s" --port="$NET_PORT" --cacert="$NET_CA" "$@"
}
# act_raw ARGS...: actool with nothing added but the port.
act_raw() {
  last_cmd="actool $*"
  run_capture $T "$ACTOOL" --port="$NET_PORT" "$@"
}

_report() {
  note "command: $last_cmd" "exit $status" "stdout: $(head -c 1000 "$TMP/.out")" \
    "stderr: $(head -c 2000 "$TMP/.err" | tr -d '\0')" "$@"
}

# expect_id DESC ID: the last command succeeded cleanly and printed ID.
expect_id() {
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err" && [ "$(cat "$TMP/.out")" = "$2" ]; then
    ok "$1"
  else
    not_ok "$1"
    _report "wanted stdout: $2"
  fi
}

# expect_fail DESC ERE...: the last command exited 1 without crashing,
# printed nothing on stdout, and its stderr matches every ERE.
expect_fail() {
  local desc=$1 re bad=
  shift
  for re; do grep -Eq -- "$re" "$TMP/.err" || bad="$bad /$re/"; done
  if [ "$status" -eq 1 ] && ! crashed "$status" "$TMP/.err" && [ ! -s "$TMP/.out" ] && [ -z "$bad" ]; then
    ok "$desc"
  else
    not_ok "$desc"
    _report "wanted exit 1, empty stdout, stderr matching every of: $*"
  fi
}

count() { if [ -d "$1" ]; then (cd "$1" && ls -A | wc -l); else echo 0; fi; }
# names STORE: the names of the images in STORE (`image list --json`), sorted.
names() {
  "$ACTOOL" --dir="$1" image list --json 2>/dev/null | jq -r '.[].name' 2>/dev/null | LC_ALL=C sort | paste -sd' '
}
# state STORE: images, blobs and temporaries in STORE.
state() { echo "list=[$(names "$1")] blobs=$(count "$1/blobs") tmp=$(count "$1/tmp")"; }
# downloads STORE: the partial-download files in STORE/tmp, by kind.
downloads() {
  local a=0 j=0 f
  for f in "$1"/tmp/download-*; do
    case $f in *.aci) a=$((a + 1)) ;; *.json) j=$((j + 1)) ;; esac
  done
  echo "aci=$a json=$j"
}

# log_total: lines in the access log (every request finished so far).
log_total() {
  net_log_sync
  wc -l <"$NET_ACCESS_LOG" | tr -d ' '
}
# reqs PATH: "STATUS BODY-BYTES range=RANGE" for each GET of PATH, in order.
reqs() {
  net_log_sync
  grep -F "\"GET $1 HTTP/1.1\"" "$NET_ACCESS_LOG" | awk '{ print $5, $7, $8 }'
}
# inm PATH: the If-None-Match value of each GET of PATH ("-": none).
inm() {
  net_log_sync
  grep -F "\"GET $1 HTTP/1.1\"" "$NET_ACCESS_LOG" | sed 's/.* inm="\(.*\)" auth=.*/\1/'
}
# auths PATH: "STATUS AUTHORIZATION" of each GET of PATH.
auths() {
  net_log_sync
  grep -F "\"GET $1 HTTP/1.1\"" "$NET_ACCESS_LOG" | sed 's/^[0-9]* "[^"]*" \([0-9]*\) .* auth="\(.*\)"$/\1 \2/'
}

# wait_all PID...: wait for each; their exit statuses, one digit or more
# each, one after the other in $cstat.
wait_all() {
  local p st
  cstat=
  for p; do
    st=0
    wait "$p" || st=$?
    cstat="$cstat$st"
  done
}

# size_of FILE
size_of() { stat -c %s "$1"; }
# key URL: the name of URL's download and cache record (SHA-256 of the URL).
key() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# --- keys and images --------------------------------------------------------

newkey K trusted@example.com
newkey K_OTHER other@example.com

mkimg ID_APP localhost/app "$IN/app.aci"
sign "$K" "$IN/app.aci"
SIZE_APP=$(size_of "$IN/app.aci")
mkimg ID_BASE localhost/base "$IN/base.aci"
sign "$K" "$IN/base.aci"
SIZE_BASE=$(size_of "$IN/base.aci")
# The large image (resumed downloads, an oversized dependency).
mkimg ID_BIG localhost/big "$IN/big.aci" 1.0.0 null $((20 << 20))
sign "$K" "$IN/big.aci"
SIZE_BIG=$(size_of "$IN/big.aci")

mkimg ID_UNTRUSTED localhost/untrusted "$IN/untrusted.aci"
sign "$K_OTHER" "$IN/untrusted.aci"
mkimg ID_BADSIG localhost/badsig "$IN/badsig.aci"
sign "$K" "$IN/app.aci" "$IN/badsig.aci.asc"
# Tampered: signed, then replaced by another build of the same name.
mkimg ID_TAMPERED localhost/tampered "$IN/tampered.aci"
sign "$K" "$IN/tampered.aci"
mkimg ID_TAMPERED2 localhost/tampered "$IN/tampered2.aci"
cp "$IN/tampered.aci.asc" "$IN/tampered2.aci.asc"
mkimg ID_LABELS localhost/labels "$IN/labels.aci" 1.0.0
sign "$K" "$IN/labels.aci"
mkimg ID_OTHERNAME localhost/other "$IN/othername.aci"
sign "$K" "$IN/othername.aci"

deps_labels='[{"imageName": "localhost/base", "labels": [{"name": "version", "value": "1.0.0"}]}]'
mkimg ID_DEPAPP localhost/depapp "$IN/depapp.aci" 1.0.0 "$deps_labels"
sign "$K" "$IN/depapp.aci"
deps_id="[{\"imageName\": \"localhost/base\", \"imageID\": \"$ID_BASE\", \"size\": $SIZE_BASE}]"
mkimg ID_DEPID localhost/depid "$IN/depid.aci" 1.0.0 "$deps_id"
sign "$K" "$IN/depid.aci"
deps_wrongid="[{\"imageName\": \"localhost/base\", \"imageID\": \"$ID_APP\"}]"
mkimg ID_DEPWRONGID localhost/depwrongid "$IN/depwrongid.aci" 1.0.0 "$deps_wrongid"
sign "$K" "$IN/depwrongid.aci"
deps_size="[{\"imageName\": \"localhost/base\", \"imageID\": \"$ID_BASE\", \"size\": $((SIZE_BASE + 1))}]"
mkimg ID_DEPSIZE localhost/depsize "$IN/depsize.aci" 1.0.0 "$deps_size"
sign "$K" "$IN/depsize.aci"
deps_self='[{"imageName": "localhost/selfdepb"}]'
mkimg ID_SELFDEP localhost/selfdep "$IN/selfdep.aci" 1.0.0 "$deps_self"
sign "$K" "$IN/selfdep.aci"
deps_big="[{\"imageName\": \"localhost/big\", \"imageID\": \"$ID_BIG\", \"size\": 1000000}]"
mkimg ID_DEPBIG localhost/depbig "$IN/depbig.aci" 1.0.0 "$deps_big"
sign "$K" "$IN/depbig.aci"

for n in stall flaky secret multi redirsecret; do
  mkimg "ID_$(tr a-z A-Z <<<"$n")" "localhost/$n" "$IN/$n.aci"
  sign "$K" "$IN/$n.aci"
done
# Published only under a {name}-{channel} template.
mkimg ID_CHAN localhost/chan "$IN/chan.aci" 1.0.0 null 20000 '[{"name": "channel", "value": "beta"}]'
sign "$K" "$IN/chan.aci"
cp "$IN/app.aci" "$IN/byurl.aci"
cp "$IN/app.aci.asc" "$IN/byurl.aci.asc"
cp "$IN/app.aci" "$IN/noasc.aci"
# late: the manifest after 100 MiB of zeros (100 KiB of gzip): more than a
# download not checked yet may hold before its manifest.
mkdir -p "$TMP/layouts/late/rootfs"
jq -n --arg a "$ARCH" '{acKind: "ImageManifest", acVersion: "0.8.11", name: "localhost/late",
  labels: [{name: "version", value: "1.0.0"}, {name: "os", value: "linux"}, {name: "arch", value: $a}]}' \
  >"$TMP/layouts/late/manifest"
truncate -s 100M "$TMP/layouts/late/rootfs/zeros"
tar -C "$TMP/layouts/late" -cf - rootfs manifest | gzip -1 >"$IN/late.aci"
rm -f "$TMP/layouts/late/rootfs/zeros"
cp "$IN/late.aci" "$IN/late-unsigned.aci"
sign "$K" "$IN/late.aci"

# Published by a Link header with a relative target only.
mkimg ID_RELLINK localhost/rellink "$IN/rellink.aci"
sign "$K" "$IN/rellink.aci"

# --- the server ---------------------------------------------------------------

# An "image" of 64 GiB (sparse) without a signature, at 1 MB/s.
conf unsigned "location = /images/localhost/unsigned-latest-$OA.aci { limit_rate 1m; }"
# The images of a dependency cycle, at 1 MB/s.
conf cycle 'location ~ ^/images/localhost/cyc[ab]- { limit_rate 1m; }'
# The large image comes at 1 MB/s until the "resume" phase.
conf slow 'location ^~ /images/localhost/big- { limit_rate 1m; }' \
  'location = /images/big-copy.aci { limit_rate 1m; }'
# Answers nothing for 5 s: long enough for a 2 s stall timeout; nginx logs
# the request when the sleep ends (it does not notice the client leaving).
conf stall "location = /images/localhost/stall-latest-$OA.aci { echo_sleep 5; echo x; }"
# The signature of sigstall answers nothing for a minute.
conf sigstall "location = /images/localhost/sigstall-latest-$OA.aci.asc { echo_sleep 60; echo x; }"
# The same for 10 s, for the walk that a signal interrupts while it waits.
conf walkstall "location = /images/localhost/walkstall.aci { echo_sleep 10; echo x; }"
# The image and its signature (fetched first) 503 until the file
# flaky-ready exists.
conf flaky 'location ~ ^/images/localhost/flaky-.*\.aci(\.asc)?$ { if (!-f $document_root/flaky-ready) { return 503; } }'
# Basic authentication.
printf 'u:%s\n' "$(openssl passwd -apr1 p)" >"$NET_DIR/htpasswd"
# The images only: their signatures, fetched first, are public.
conf secret "location ~ ^/images/localhost/secret-.*\\.aci\$ { auth_basic \"actool test\"; auth_basic_user_file $NET_DIR/htpasswd; }"
# A redirect to another host name (127.0.0.1), where the image needs
# credentials.
conf redirsecret 'location ^~ /images/localhost/redirsecret- { rewrite ^/images/localhost/redirsecret-(.*)$ https://127.0.0.1:$server_port/images/localhost/secret-redir-$1 redirect; }'
# The same images over plain http.
printf '%s\n' "location ~ ^/images/localhost/secret-.*\\.aci\$ { auth_basic \"actool test\"; auth_basic_user_file $NET_DIR/htpasswd; }" \
  >"$NET_HTTP_CONF_D/secret.conf"
# A signature redirected to another host name (127.0.0.1), which answers 401.
conf sigredir 'location = /images/sigredir.aci.asc { return 302 https://127.0.0.1:$server_port/images/sig401.asc; }' \
  'location = /images/sig401.asc { return 401; }'
# Redirects to what is no URL: of an image, of a signature.
conf badloc 'location = /images/badloc.aci { return 302 "https://[::1/x"; }' \
  'location = /images/badlocsig.aci.asc { return 302 "https://localhost:99999/x"; }'
# 401 without credentials, 404 with them.
conf secretgone "location = /images/localhost/secretgone-latest-$OA.aci { if (\$http_authorization = \"\") { return 401; } return 404; }"
# The page of localhost/rellink: no meta tag, a relative Link target (RFC
# 8288: resolved against the page's URL).
conf rellink "location = /rellink { add_header Link '<images/rel/{name}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost\"'; }"
net_make_ca "$TMP/pki"
net_start_nginx
TPL="https://localhost:$NET_PORT/images/{name}-{version}-{os}-{arch}.{ext}"
U=/images/localhost

serve "$IN/app.aci" app latest 1.0.0
serve "$IN/base.aci" base latest 1.0.0
serve "$IN/big.aci" big latest
serve "$IN/untrusted.aci" untrusted latest
serve "$IN/badsig.aci" badsig latest
serve "$IN/tampered2.aci" tampered latest
serve "$IN/labels.aci" labels 2.0.0
serve "$IN/othername.aci" misnamed latest
serve "$IN/depapp.aci" depapp latest
serve "$IN/depid.aci" depid latest
serve "$IN/depbig.aci" depbig latest
serve "$IN/depwrongid.aci" depwrongid latest
serve "$IN/depsize.aci" depsize latest
serve "$IN/selfdep.aci" selfdep latest
serve "$IN/flaky.aci" flaky latest
serve "$IN/secret.aci" secret latest
serve "$IN/multi.aci" multi latest
serve "$IN/redirsecret.aci" secret-redir latest
cp "$IN/byurl.aci.asc" "$NET_ROOT/images/badloc.aci.asc"
cp "$IN/byurl.aci" "$NET_ROOT/images/badlocsig.aci"
cp "$IN/byurl.aci" "$NET_ROOT/images/sigredir.aci"
cp "$IN/byurl.aci" "$IN/byurl.aci.asc" "$IN/noasc.aci" "$IN/untrusted.aci" "$IN/untrusted.aci.asc" "$IN/late.aci" "$IN/late.aci.asc" "$NET_ROOT/images/"
serve "$IN/late.aci" late latest
serve "$IN/late-unsigned.aci" lateunsigned latest
cp "$IN/big.aci" "$NET_ROOT/images/big-copy.aci"
mkdir -p "$NET_ROOT/images/rel/localhost"
cp "$IN/rellink.aci" "$IN/rellink.aci.asc" "$NET_ROOT/images/rel/localhost/"
printf '<!DOCTYPE html><html><head><title>discovery</title></head></html>\n' >"$NET_ROOT/rellink"
cp "$IN/big.aci.asc" "$NET_ROOT/images/big-copy.aci.asc"
truncate -s 64G "$IMG/unsigned-latest-$OA.aci"
# The signatures of stall and secretgone (whose images never come).
cp "$IN/secret.aci.asc" "$IMG/secretgone-latest-$OA.aci.asc"
cp "$IN/stall.aci.asc" "$IMG/stall-latest-$OA.aci.asc"
for n in unsigned app base big untrusted badsig tampered labels misnamed depapp depid depwrongid depsize depbig \
  stall sigstall flaky secret secretgone redirsecret late lateunsigned; do
  page "$n"
done
# Two templates of equal score; the first endpoint answers 404.
page multi "https://localhost:$NET_PORT/missing/{name}-{version}-{os}-{arch}.{ext}" "$TPL"
# The best match (os and arch) answers 404; {name}-{channel} has the image.
cp "$IN/chan.aci" "$IMG/chan-beta.aci"
cp "$IN/chan.aci.asc" "$IMG/chan-beta.aci.asc"
page chan "$TPL" "https://localhost:$NET_PORT/images/{name}-{channel}.{ext}"
# 8 endpoints that each answer after 10 s (the walkstall location).
slow=()
for i in $(seq 1 8); do slow+=("https://localhost:$NET_PORT/images/localhost/walkstall.aci?n=$i&e={ext}"); done
page slowmany "${slow[@]}"
# The app's own URL, discovered for another name (a template without {name}).
page impostor "https://localhost:$NET_PORT$U/app-latest-$OA.{ext}"
# selfdep's dependency selfdepb is served at selfdep's own URL.
page selfdep
page selfdepb "https://localhost:$NET_PORT$U/selfdep-latest-$OA.{ext}"
# A relative meta tag URL: used as it stands, as the reference does.
page relmeta "/images/{name}.{ext}"
# Two endpoints failing in different ways, whichever comes first: a
# signature by a key not trusted for the name, an image of another name, a
# 404.
UT="https://localhost:$NET_PORT$U/untrusted-latest-$OA.{ext}"
MN="https://localhost:$NET_PORT$U/misnamed-latest-$OA.{ext}"
GONE="https://localhost:$NET_PORT/missing/{name}.{ext}"
page twoep "$UT" "$GONE"
page twoepr "$GONE" "$UT"
page twomis "$MN" "$GONE"
page twosigmis "$UT" "$MN"
# 40 endpoints, all 404.
many=()
for i in $(seq 1 40); do many+=("https://localhost:$NET_PORT/missing/many-$i/{name}.{ext}"); done
page many "${many[@]}"

# --- 1. fetch by name -----------------------------------------------------------

S1=$(new_store app)
act "$S1" fetch localhost/app
expect_id "fetch localhost/app prints the ID that build printed" "$ID_APP"
is "the image is listed, one blob, tmp/ empty" "$(state "$S1")" "list=[localhost/app] blobs=1 tmp=0"
is "the image was downloaded once (200)" "$(reqs "$U/app-latest-$OA.aci" | cut -d' ' -f1)" "200"
is "its signature was downloaded once (200)" "$(reqs "$U/app-latest-$OA.aci.asc" | cut -d' ' -f1)" "200"
check "image list --json shows the ID" test "$("$ACTOOL" --dir="$S1" image list --json | jq -r '.[0].id')" = "$ID_APP"
rec=$S1/cache/http/$(key "https://localhost:$NET_PORT$U/app-latest-$OA.aci").json
check "cache/http/SHA256(URL).json remembers the image ID" grep -qF "$ID_APP" "$rec"

# --- 2. the HTTP cache, pinned versions, --no-store ------------------------------------

net_log_reset
act "$S1" fetch localhost/app
expect_id "a repeat fetch of the unversioned name gives the same ID" "$ID_APP"
is "the repeat is answered 304 with no body" "$(reqs "$U/app-latest-$OA.aci")" '304 0 range="-"'
got=$(inm "$U/app-latest-$OA.aci")
if [ -n "$got" ] && [ "$got" != - ]; then ok "the repeat sent If-None-Match ($got)"; else
  not_ok "the repeat sent If-None-Match"
  note "access log:" "$(cat "$NET_ACCESS_LOG")"
fi
is "a 304's image is verified again: its signature is fetched (200)" \
  "$(reqs "$U/app-latest-$OA.aci.asc" | cut -d' ' -f1)" "200"
is "after the 304 the store is unchanged" "$(state "$S1")" "list=[localhost/app] blobs=1 tmp=0"
# A 304 whose signature, key file and name are those that verified the
# stored image (the record's "verified"), neither signature nor key
# expired, needs no gpg: gpg's verdict on the same signature by the same
# key file changes only with time (a revocation comes as a new key file).
# The record, before and after.
gpg_run() { # STORE ARGS...: fetch under strace; "ID:imports:verifies:gpg processes"
  local s=$1
  shift
  # (no LeakSanitizer under a tracer: it cannot stop the world there)
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -f -qq -e trace=execve -e signal=none -o "$TMP/gpg.trace" \
    $T "$ACTOOL" --dir="$s" --port="$NET_PORT" --cacert="$NET_CA" fetch "$@" >"$TMP/.out" 2>"$TMP/.err"
  echo "$(cat "$TMP/.out"):$(grep -c '"--import"' "$TMP/gpg.trace"):$(grep -c '"--verify"' "$TMP/gpg.trace"):$(grep -Ec 'execve\("[^"]*/gpg2?"' "$TMP/gpg.trace")"
}
keys=$(find "$S1/trust" -type f | wc -l)
is "the record says what verified the image (signature, key file, name, expiries)" \
  "$(jq -r '.verified | "\(.keyFile) \(.name) \(.asc | length) \(.keySha256 | length) \(.signatureExpires) \(.keyExpires)"' "$rec")" \
  "trust/prefix.d/localhost/$K localhost/app 64 64 0 0"
is "a 304 with that signature and key, neither expired: no gpg at all" \
  "$(gpg_run "$S1" localhost/app)" "$ID_APP:0:0:0"
# Anything else is verified again, with the keyring its signer was checked
# with (each key imported once): a record without "verified" (an older
# actool's, or an unverified fetch's)...
jq 'del(.verified)' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
is "a 304 of a record without a verification: verified again, with one keyring" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
is "... which the record then keeps" "$(jq -r '.verified.name' "$rec")" "localhost/app"
is "... and then needs no gpg" "$(gpg_run "$S1" localhost/app)" "$ID_APP:0:0:0"
# ... a record of an older actool, which did not note the key's expiry
# (verified again once, the record completed)...
jq 'del(.verified.keyExpires)' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
is "a 304 of a record without the key's expiry: verified again" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
is "... the record completed" "$(jq -r '.verified.keyExpires' "$rec")" "0"
# ... a record not of actool's making...
jq '.verified.keyExpires = "0"' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
is "a 304 of a record whose key expiry is not a number: verified again" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
# ... a signature whose expiry has come...
jq '.verified.signatureExpires = 1000' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
is "a 304 of a verification whose signature has expired since: verified again" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
# ... a key whose expiry has come (gpg is asked: here it has not)...
jq '.verified.keyExpires = 1000' "$rec" >"$rec.new" && mv "$rec.new" "$rec"
is "a 304 of a verification whose key has expired since: verified again" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
# ... a key file changed (the same key re-exported, as a revocation would
# come)...
gpgt --export "$K" >"$S1/trust/prefix.d/localhost/$K"
is "a 304 after the key file changed: verified again" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
# ... and a new signature of the same image.
cp "$IMG/app-latest-$OA.aci.asc" "$TMP/asc.saved"
sign "$K" "$IMG/app-latest-$OA.aci"
is "a 304 with a new signature: verified again" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3)" "$ID_APP:$keys:2"
is "... and then not again" "$(gpg_run "$S1" localhost/app)" "$ID_APP:0:0:0"
# A signature by a subkey that expires before its primary key: the record
# holds the sooner expiry (gpg's own listing of both).
newkey K_EXP expiring@localhost
gpgt --quick-set-expire "$K_EXP" 2y
gpgt --quick-add-key "$K_EXP" ed25519 sign 3d
gpgt --armor --export "$K_EXP" >"$S1/trust/prefix.d/localhost/$K_EXP"
gpgt --batch --yes --armor --local-user "$K_EXP" --detach-sign \
  --output "$IMG/app-latest-$OA.aci.asc" "$IMG/app-latest-$OA.aci"
sub_expires=$(gpgt --with-colons --list-keys "$K_EXP" | awk -F: '/^sub/ && $12 ~ /s/ { print $7; exit }')
is "a signature by an expiring subkey: verified, the record holds the subkey's expiry" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3):$(jq -r '.verified.keyExpires' "$rec")" \
  "$ID_APP:$((keys + 1)):2:${sub_expires:-?}"
gpgt --quick-set-expire "$K_EXP" 1d
gpgt --armor --export "$K_EXP" >"$S1/trust/prefix.d/localhost/$K_EXP"
prim_expires=$(gpgt --with-colons --list-keys "$K_EXP" | awk -F: '/^pub/ { print $7; exit }')
is "... or its primary key's, when that comes sooner" \
  "$(gpg_run "$S1" localhost/app | cut -d: -f1-3):$(jq -r '.verified.keyExpires' "$rec")" \
  "$ID_APP:$((keys + 1)):2:${prim_expires:-?}"
rm -f "$S1/trust/prefix.d/localhost/$K_EXP"
cp "$TMP/asc.saved" "$IMG/app-latest-$OA.aci.asc"
gpgt --armor --export "$K" >"$S1/trust/prefix.d/localhost/$K"
# The stored image is held to the keys trusted now: a 304 does not let in
# an image whose key is no longer trusted, nor one once fetched unverified.
S304=$STORES/untrusted-304
rm -rf "$S304" && cp -a "$S1" "$S304" && rm -rf "$S304/trust"
net_log_reset
act "$S304" fetch localhost/app
expect_fail "a key no longer trusted: refused" 'not trusted for localhost/app'
is "... from its signature, before the image is asked for (no revalidation)" \
  "$(reqs "$U/app-latest-$OA.aci" | cut -d' ' -f1)" ""
act "$S304" --insecure-options=image fetch localhost/app
expect_id "a 304 with --insecure-options=image: the stored image" "$ID_APP"
mkdir -p "$S304/trust/prefix.d/localhost"
gpgt --armor --export "$K_OTHER" >"$S304/trust/prefix.d/localhost/$K_OTHER"
act "$S304" fetch localhost/app
expect_fail "... and without it, a key trusted for the name but not the signer's: refused" \
  'not trusted for localhost/app'

# The same URL discovered for another name: the server's 304 does not make
# the cached image the one asked for.
net_log_reset
act "$S1" fetch localhost/impostor
expect_fail "a 304 for a URL another name shares: the cached image is held to the name asked" \
  'the image is named "localhost/app", not "localhost/impostor"'
is "... (the server did answer 304)" "$(reqs "$U/app-latest-$OA.aci" | cut -d' ' -f1)" "304"

before=$(log_total)
act "$S1" fetch localhost/app:1.0.0
expect_id "fetch localhost/app:1.0.0 (pinned, stored) gives the stored ID" "$ID_APP"
is "a pinned version in the store makes no request at all" "$(log_total)" "$before"

net_log_reset
act "$S1" fetch --no-store localhost/app
expect_id "--no-store fetches again, same ID" "$ID_APP"
is "--no-store downloads the whole image (200), unconditionally" \
  "$(reqs "$U/app-latest-$OA.aci"):$(inm "$U/app-latest-$OA.aci")" "200 $SIZE_APP range=\"-\":-"
is "--no-store: the store still has one image and no temporary" "$(state "$S1")" "list=[localhost/app] blobs=1 tmp=0"

# The image removed from the store: the cache record is not used.
net_log_reset
run_capture $T "$ACTOOL" --dir="$S1" image rm "$ID_APP"
act "$S1" fetch localhost/app
expect_id "after image rm, the fetch downloads the image again" "$ID_APP"
is "after image rm: an unconditional 200, not a revalidation" \
  "$(reqs "$U/app-latest-$OA.aci"):$(inm "$U/app-latest-$OA.aci")" "200 $SIZE_APP range=\"-\":-"

net_log_reset
act "$S1" fetch --no-store localhost/app:1.0.0
expect_id "--no-store with a pinned version downloads it" "$ID_APP"
is "--no-store pinned: the versioned URL was requested (200)" \
  "$(reqs "$U/app-1.0.0-$OA.aci" | cut -d' ' -f1)" "200"

# --- 3. --store-only ----------------------------------------------------------------------

S=$(new_store store-only)
before=$(log_total)
act "$S" fetch --store-only localhost/app
expect_fail "--store-only with an image not in the store fails" 'store-only'
is "--store-only makes no request" "$(log_total)" "$before"
is "--store-only: nothing stored" "$(state "$S")" "list=[] blobs=0 tmp=0"

before=$(log_total)
act "$S1" fetch --store-only localhost/app
expect_id "--store-only with an unversioned name in the store uses it" "$ID_APP"
is "--store-only with the image stored makes no request either" "$(log_total)" "$before"

# A broken credential file matters only to a fetch that uses the network.
mkdir -p "$S1/auth.d"
echo '{broken' >"$S1/auth.d/bad.json"
before=$(log_total)
act "$S1" fetch localhost/app:1.0.0
expect_id "a broken auth.d file: a pinned image the store has is still found" "$ID_APP"
is "... with no request" "$(log_total)" "$before"
act "$S1" fetch localhost/app
expect_fail "a broken auth.d file fails a fetch that uses the network, naming it" 'auth\.d/bad\.json'
rm -r "$S1/auth.d"

# --- 4-7. refusals ------------------------------------------------------------------------

# The signature comes first (as rkt's fetchVerifiedURL): an image that no
# key trusted for its name signs is refused before any byte of it is asked
# for, so that a server answering with an endless body cannot fill the
# disk with it.
S=$(new_store untrusted)
net_log_reset
act "$S" fetch localhost/untrusted
expect_fail "signed by a key that is not trusted: refused, naming the key" \
  "signed by key $K_OTHER which is not trusted for localhost/untrusted"
is "untrusted: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
is "untrusted: the image was never asked for, only its signature" \
  "$(reqs "$U/untrusted-latest-$OA.aci" | wc -l):$(reqs "$U/untrusted-latest-$OA.aci.asc" | cut -d' ' -f1)" "0:200"

S=$(new_store unsigned)
net_log_reset
act "$S" fetch localhost/unsigned
expect_fail "no signature (404): refused, naming the signature's URL" \
  "unsigned-latest-$OA\.aci\.asc: no signature \(404 Not Found\)"
is "unsigned: the image (64 GiB, at 1 MB/s) was never asked for" "$(reqs "$U/unsigned-latest-$OA.aci" | wc -l)" 0
is "unsigned: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

S=$(new_store badsig)
act "$S" fetch localhost/badsig
expect_fail "the signature of another file: refused (bad signature)" \
  "badsig-latest-$OA\.aci\.asc: .*bad signature"
is "bad signature: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

S=$(new_store tampered)
act "$S" fetch localhost/tampered
expect_fail "an image changed after signing: refused (bad signature)" \
  "tampered-latest-$OA\.aci\.asc: .*bad signature"
is "tampered: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

S=$(new_store labels)
act "$S" fetch localhost/labels,version=2.0.0
expect_fail "asked version=2.0.0, the served image has 1.0.0: refused, naming the label" \
  "label mismatch: version=2\.0\.0"
is "label mismatch: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
is "label mismatch: the image was requested at the 2.0.0 URL" \
  "$(reqs "$U/labels-2.0.0-$OA.aci" | cut -d' ' -f1)" "200"

S=$(new_store misnamed)
act "$S" fetch localhost/misnamed
expect_fail "the served image is named localhost/other: refused, naming both" \
  '"localhost/other", not "localhost/misnamed"'
is "name mismatch: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

# Not an image, and an image cut short in its manifest (both signed): the error names the
# URL, never the temporary download file that is gone by then.
printf '<html>not an image</html>\n' >"$NET_ROOT/images/notaci.aci"
head -c 100 "$IN/app.aci" >"$NET_ROOT/images/halfaci.aci"
for f in notaci:"not an ACI" halfaci:"truncated"; do
  sign "$K" "$NET_ROOT/images/${f%%:*}.aci"
  S=$(new_store "${f%%:*}")
  act "$S" fetch "https://localhost:$NET_PORT/images/${f%%:*}.aci"
  expect_fail "${f%%:*}.aci (${f#*:}): refused, naming the URL" \
    "^actool: https://localhost:$NET_PORT/images/${f%%:*}\.aci: [^/]*${f#*:}"
  err_lacks "... and not the temporary download file" "download-"
  is "${f%%:*}.aci: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
done

# --- 8. dependencies ---------------------------------------------------------------------

S8=$(new_store depapp)
net_log_reset
act "$S8" fetch localhost/depapp
expect_id "an image depending on localhost/base (name and labels) is fetched" "$ID_DEPAPP"
is "its dependency was discovered and fetched too" "$(state "$S8")" \
  "list=[localhost/base localhost/depapp] blobs=2 tmp=0"
is "the access log shows base's download (200)" \
  "$(reqs "$U/base-1.0.0-$OA.aci" | cut -d' ' -f1)" "200"

S=$(new_store depid)
net_log_reset
act "$S" fetch localhost/depid
expect_id "an image depending on localhost/base by imageID and size is fetched" "$ID_DEPID"
is "its dependency (by imageID) was fetched too" "$(state "$S")" \
  "list=[localhost/base localhost/depid] blobs=2 tmp=0"
check "the stored dependency is the declared image ID" \
  test "$("$ACTOOL" --dir="$S" image list --json | jq -r '.[] | select(.name == "localhost/base") | .id')" = "$ID_BASE"
is "the access log shows base's download at its latest URL (200)" \
  "$(reqs "$U/base-latest-$OA.aci" | cut -d' ' -f1)" "200"

net_log_reset
act "$S8" fetch localhost/depid
expect_id "a dependency already in the store is used as it is" "$ID_DEPID"
is "no request for the stored dependency" "$(reqs "$U/base-latest-$OA.aci")$(reqs "$U/base-1.0.0-$OA.aci")" ""

S=$(new_store depwrongid)
act "$S" fetch localhost/depwrongid
expect_fail "a dependency whose image ID is not the declared one is refused" \
  "image ID $ID_BASE, but the dependency asks for $ID_APP"
# Dependencies are fetched before the image that needs them: nothing is stored.
is "wrong image ID: neither image nor dependency is stored" \
  "$(names "$S"):$(test -e "$S/blobs/$ID_BASE" && echo blob)" ":"
is "wrong image ID: tmp/ empty" "$(count "$S/tmp")" 0

S=$(new_store depsize)
act "$S" fetch localhost/depsize
expect_fail "a dependency smaller than its declared size is refused" \
  "$SIZE_BASE bytes, but the dependency declares $((SIZE_BASE + 1))"
is "short dependency: neither image nor dependency is stored" \
  "$(names "$S"):$(test -e "$S/blobs/$ID_BASE" && echo blob)" ":"
is "short dependency: tmp/ empty" "$(count "$S/tmp")" 0

# The declared size holds for a dependency the store has too.
act "$S" fetch localhost/base:1.0.0
expect_id "(the dependency fetched by itself)" "$ID_BASE"
act "$S" fetch --store-only "$IN/depsize.aci"
expect_fail "a stored dependency of another size than declared is refused (--store-only)" \
  "is $SIZE_BASE bytes, but the dependency declares $((SIZE_BASE + 1))"

# A dependency served at the URL of the image that depends on it: it is
# that image again, not the dependency (once, the dependency's download
# waited for ever for the lock its dependent's held).
S=$(new_store selfdep)
act "$S" fetch localhost/selfdep
expect_fail "a dependency served at its dependent's own URL is refused, not waited for" \
  'being fetched already'
is "self-served dependency: nothing stored, tmp/ empty" "$(names "$S"):$(count "$S/tmp")" ":0"

# Dependencies shared by the images above them: a top image depending on
# two images, each depending on both of the next two, 20 levels (41 images,
# 2^20 paths from the top). Each is fetched once and its dependencies walked
# once; walking every path took 65 s at 16 levels and four times as long for
# each two more.
deps=null
for ((k = 20; k >= 0; k--)); do
  for x in a b; do
    [ "$k$x" != 0b ] || continue
    mkimg ID_DAG "localhost/dag$k$x" "$IN/dag$k$x.aci" 1.0.0 "$deps" 100
    serve "$IN/dag$k$x.aci" "dag$k$x" latest
    page "dag$k$x"
  done
  deps="[{\"imageName\": \"localhost/dag${k}a\"}, {\"imageName\": \"localhost/dag${k}b\"}]"
done
S=$(new_store dag)
net_log_reset
act "$S" --insecure-options=image fetch localhost/dag0a
expect_id "a graph of 41 images, each level depending on both images of the next, is fetched" "$ID_DAG"
net_log_sync
is "... each image downloaded once" "$(net_log_count "GET $U/dag")" 41
act "$S" --insecure-options=image fetch localhost/dag0a,version=1.0.0
expect_id "... and fetched again from the store, walking each image's dependencies once" "$ID_DAG"

# --- 9. an oversized dependency (while big is served at 1 MB/s) ------------------------------

S=$(new_store depbig)
net_log_reset
act "$S" fetch localhost/depbig
expect_fail "a dependency larger than its declared size is refused" \
  'larger than the 1000000 bytes expected'
got=$("$ACTOOL" --dir="$S" image list --json 2>/dev/null | jq -r '.[].name' | grep -c '^localhost/big$')
is "the oversized dependency is not in the store" "$got" 0
is "nor is the image that asked for it" "$(names "$S")" ""
check "no blob of the oversized dependency" test ! -e "$S/blobs/$ID_BIG"
is "no download left in tmp/" "$(count "$S/tmp")" 0
read -r st body _ <<<"$(reqs "$U/big-latest-$OA.aci" | head -n 1)"
if [ "${st:-}" = 200 ] && [ "${body:-0}" -lt "$SIZE_BIG" ]; then
  ok "the transfer was cut off ($body of $SIZE_BIG bytes sent)"
else
  not_ok "the transfer was cut off"
  note "access log:" "$(cat "$NET_ACCESS_LOG")"
fi

# --- 10. interrupted downloads, resumed ---------------------------------------------------------

# wait_partial STORE BYTES: until STORE/tmp/download-*.aci has BYTES (60 s at
# most).
wait_partial() {
  for _ in $(seq 600); do
    [ "$(partial_size "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
# partial_size STORE: the size of STORE/tmp/download-*.aci (0: none).
partial_size() {
  local f
  for f in "$1"/tmp/download-*.aci; do [ -f "$f" ] && size_of "$f" && return; done
  echo 0
}

BIG_URL="https://localhost:$NET_PORT$U/big-latest-$OA.aci"
COPY_URL="https://localhost:$NET_PORT/images/big-copy.aci"
# Three slow downloads at once: by name (to be killed with SIGKILL and
# with SIGINT) and by URL (SIGKILL; its file then changes on the server).
# Each is signalled as soon as its own file has 3 MB: at 1 MB/s the 20 MB
# image leaves 17 s however late each one started.
SK=$(new_store kill)
SI=$(new_store int)
SU=$(new_store url-changed)
bg() { "$ACTOOL" --dir="$1" --port="$NET_PORT" --cacert="$NET_CA" fetch "$2" >"$1.out" 2>"$1.err" & }
bg "$SK" localhost/big
PID_K=$!
bg "$SI" localhost/big
PID_I=$!
bg "$SU" "$COPY_URL"
PID_U=$!
BG_PID="$PID_K $PID_I $PID_U"
# signal_at_3mb STORE PID SIGNAL: send SIGNAL to PID once STORE's download has 3 MB.
signal_at_3mb() {
  wait_partial "$1" 3000000 ||
    note "the download into $1 did not reach 3 MB in 60 s:" "$(cat "$1.err")"
  kill "-$3" "$2"
}
# (bash reports a job killed by a signal on its stderr: not here.)
exec 3>&2 2>/dev/null
signal_at_3mb "$SK" "$PID_K" KILL
signal_at_3mb "$SU" "$PID_U" KILL
st_k=0
wait "$PID_K" || st_k=$?
st_u=0
wait "$PID_U" || st_u=$?
wait_partial "$SI" 3000000 ||
  note "the download into $SI did not reach 3 MB in 60 s:" "$(cat "$SI.err")"
t0=$(date +%s%N)
kill -INT "$PID_I"
st_i=0
wait "$PID_I" || st_i=$?
ms=$((($(date +%s%N) - t0) / 1000000))
exec 2>&3 3>&-
BG_PID=
PART_K=$(partial_size "$SK")
PART_I=$(partial_size "$SI")
PART_U=$(partial_size "$SU")

if [ "$st_k" -eq 137 ] && [ "$PART_K" -ge 3000000 ] && [ "$PART_K" -lt "$SIZE_BIG" ]; then
  ok "a slow download was killed (SIGKILL) at $PART_K of $SIZE_BIG bytes"
else
  not_ok "a slow download was killed (SIGKILL) midway"
  note "exit $st_k, partial $PART_K of $SIZE_BIG" "stderr: $(head -c 2000 "$SK.err")"
fi
is "SIGKILL: tmp/ keeps the partial download and its record" "$(downloads "$SK")" "aci=1 json=1"
k=$(key "$BIG_URL")
check "the partial download is tmp/download-SHA256(URL).aci" test -f "$SK/tmp/download-$k.aci"
etag=$(curl -sI --cacert "$NET_CA" "$BIG_URL" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: *//p')
json=$(cat "$SK/tmp/download-$k.json" 2>/dev/null)
if [ "$(jq -r .url <<<"$json" 2>/dev/null)" = "$BIG_URL" ] && [ -n "$etag" ] &&
  jq -r '.[]' <<<"$json" 2>/dev/null | grep -qxF -- "$etag"; then
  ok "tmp/download-KEY.json records the URL and the ETag ($etag)"
else
  not_ok "tmp/download-KEY.json records the URL and the ETag"
  note "json: $json" "etag: $etag"
fi

if [ "$st_i" -ne 0 ] && [ "$st_i" -ne 137 ] && [ "$ms" -lt 10000 ] &&
  ! grep -Eq 'Sanitizer|runtime error:' "$SI.err"; then
  ok "SIGINT ends the download promptly and non-zero (exit $st_i after $ms ms)"
else
  not_ok "SIGINT ends the download promptly and non-zero"
  note "exit $st_i after $ms ms" "stderr: $(head -c 2000 "$SI.err")"
fi
is "SIGINT: nothing on stdout" "$(cat "$SI.out")" ""
is "SIGINT: tmp/ keeps the partial download and its record" "$(downloads "$SI")" "aci=1 json=1"
is "SIGINT: no image stored" "$(names "$SI"):$(count "$SI/blobs")" ":0"
is "SIGKILL during a fetch by URL: killed, partial download and record kept" \
  "$st_u:$(downloads "$SU")" "137:aci=1 json=1"

# Full speed from now on.
rm -f "$NET_CONF_D/slow.conf"
net_reload || net_fail "nginx reloads without the rate limit"

# resumed STORE PARTIAL WHAT
resumed() {
  local s=$1 n=$2 what=$3
  net_log_reset
  act "$s" fetch localhost/big
  expect_id "$what: the next fetch completes the download" "$ID_BIG"
  is "$what: the image is stored, tmp/ empty" "$(state "$s")" "list=[localhost/big] blobs=1 tmp=0"
  is "$what: one request, resumed from byte $n (206, $((SIZE_BIG - n)) bytes)" \
    "$(reqs "$U/big-latest-$OA.aci")" "206 $((SIZE_BIG - n)) range=\"bytes=$n-\""
}
resumed "$SK" "$PART_K" "after SIGKILL"
resumed "$SI" "$PART_I" "after SIGINT"

# The file behind the URL changes (same bytes, new mtime: a new ETag and
# Last-Modified): If-Range makes nginx send it whole (200), not a 206.
touch -d '+1 hour' "$NET_ROOT/images/big-copy.aci"
net_log_reset
act "$SU" fetch "$COPY_URL"
expect_id "a partial download whose file changed on the server is started over" "$ID_BIG"
is "changed file: stored, tmp/ empty" "$(state "$SU")" "list=[localhost/big] blobs=1 tmp=0"
is "changed file: the range asked with If-Range was answered whole (200, $SIZE_BIG bytes)" \
  "$(reqs /images/big-copy.aci)" "200 $SIZE_BIG range=\"bytes=$PART_U-\""

# --- 12. a transient 503, then success ---------------------------------------------------------

S=$(new_store flaky)
rm -f "$NET_ROOT/flaky-ready"
net_log_reset
"$ACTOOL" --dir="$S" --port="$NET_PORT" --cacert="$NET_CA" fetch localhost/flaky \
  >"$TMP/bg.out" 2>"$TMP/bg.err" &
BG_PID=$!
# The first backoff is 1 s: the file appears during it.
deadline=$((SECONDS + 60))
until [ "$(net_log_count "\"GET $U/flaky-latest-$OA.aci.asc HTTP/1.1\" 503")" -ge 1 ]; do
  if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$BG_PID" 2>/dev/null; then
    note "no 503 logged (60 s, or the fetch ended)" "$(head -c 1000 "$TMP/bg.err")"
    break
  fi
  sleep 0.05
done
touch "$NET_ROOT/flaky-ready"
st=0
{ wait "$BG_PID"; } 2>/dev/null || st=$?
BG_PID=
if [ "$st" -eq 0 ] && [ "$(cat "$TMP/bg.out")" = "$ID_FLAKY" ] &&
  ! grep -Eq 'Sanitizer|runtime error:' "$TMP/bg.err"; then
  ok "a 503 is retried and the fetch succeeds"
else
  not_ok "a 503 is retried and the fetch succeeds"
  note "exit $st" "stdout: $(cat "$TMP/bg.out")" "stderr: $(head -c 2000 "$TMP/bg.err")"
fi
is "the access log shows a 503 of the signature, then the signature and the image (200)" \
  "$(reqs "$U/flaky-latest-$OA.aci.asc" | cut -d' ' -f1 | uniq | paste -sd' '):$(reqs "$U/flaky-latest-$OA.aci" | cut -d' ' -f1 | uniq | paste -sd' ')" "503 200:200"
is "503: the image is stored, tmp/ empty" "$(state "$S")" "list=[localhost/flaky] blobs=1 tmp=0"

# --- 13. certificates ---------------------------------------------------------------------------

S=$(new_store noca)
act_raw --dir="$S" fetch localhost/app
expect_fail "without --cacert the server's certificate is refused" 'certificate'
is "unknown CA: nothing stored" "$(state "$S")" "list=[] blobs=0 tmp=0"

act_raw --dir="$S" --cacert="$NET_OTHER_CA" fetch localhost/app
expect_fail "with an unrelated CA the server's certificate is refused" 'certificate'
is "unrelated CA: nothing stored" "$(state "$S")" "list=[] blobs=0 tmp=0"

# The system's CAs are a hashed directory (SSL_CERT_DIR, as for OpenSSL and
# curl(1)); --cacert adds to them rather than replacing them.
ca_dir() { # ca_dir NAME PEM...: a hashed CA directory holding those certificates
  local d=$TMP/cadir-$1
  shift
  mkdir -p "$d" && cp "$@" "$d/" && openssl rehash "$d" && printf '%s\n' "$d"
}
# A third CA with a subject of its own: two CAs of one subject name (as
# NET_CA and NET_OTHER_CA are) cannot both be trusted by OpenSSL.
THIRD_CA=$TMP/pki/third-ca.pem
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$TMP/pki/third-ca.key" -out "$THIRD_CA" -days 30 -subj "/O=actool tests/CN=third CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
SYS_OURS=$(ca_dir ours "$NET_CA")
SYS_OTHER=$(ca_dir other "$THIRD_CA")
SSL_CERT_DIR=$SYS_OURS act_raw --dir="$S" fetch localhost/app
expect_id "the server's CA in the system's CA directory (SSL_CERT_DIR): trusted without --cacert" "$ID_APP"
rm -rf "$S" && S=$(new_store noca)
SSL_CERT_DIR=$SYS_OURS act_raw --dir="$S" --cacert="$THIRD_CA" fetch localhost/app
expect_id "--cacert adds to the system's CAs: the system's still trusted" "$ID_APP"
rm -rf "$S" && S=$(new_store noca)
SSL_CERT_DIR=$SYS_OTHER act_raw --dir="$S" --cacert="$NET_CA" fetch localhost/app
expect_id "--cacert adds to the system's CAs: its own trusted" "$ID_APP"
rm -rf "$S" && S=$(new_store noca)
SSL_CERT_DIR=$SYS_OTHER act_raw --dir="$S" fetch localhost/app
expect_fail "a system CA directory without the server's CA: refused" 'certificate'
SSL_CERT_DIR=$TMP/no-such-dir act_raw --dir="$S" --cacert="$NET_CA" fetch localhost/app
expect_fail "a system CA directory that does not exist: refused, naming it" "no-such-dir: .*not a directory"
is "refused CAs: nothing stored" "$(state "$S")" "list=[] blobs=0 tmp=0"

act_raw --dir="$S" --insecure-options=tls fetch localhost/app
expect_id "--insecure-options=tls without --cacert fetches (signature still checked)" "$ID_APP"
is "--insecure-options=tls: stored" "$(state "$S")" "list=[localhost/app] blobs=1 tmp=0"

# --- 14. fetch by URL ------------------------------------------------------------------------------

S=$(new_store url)
act "$S" fetch "https://localhost:$NET_PORT/images/byurl.aci"
expect_id "fetch https://.../byurl.aci (signature beside it) imports it" "$ID_APP"
is "by URL: stored, tmp/ empty" "$(state "$S")" "list=[localhost/app] blobs=1 tmp=0"

S=$(new_store url-query)
net_log_reset
act "$S" fetch "https://localhost:$NET_PORT/images/byurl.aci?token=t1#frag"
expect_id "fetch https://.../byurl.aci?token=t1 (a presigned URL) imports it" "$ID_APP"
is "by URL with a query: the signature is asked for at byurl.aci.asc?token=t1" \
  "$(net_log_count "GET /images/byurl.aci.asc?token=t1 ")" 1

S=$(new_store url-noasc)
net_log_reset
act "$S" fetch "https://localhost:$NET_PORT/images/noasc.aci"
expect_fail "fetch by URL without a .asc beside it is refused" 'noasc\.aci\.asc.*404'
is "no .asc: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
is "no .asc: the image was never asked for" "$(net_log_count "GET /images/noasc.aci ")" 0
act "$S" --insecure-options=image fetch "https://localhost:$NET_PORT/images/noasc.aci"
expect_id "--insecure-options=image imports it without a signature" "$ID_APP"
is "--insecure-options=image: stored" "$(state "$S")" "list=[localhost/app] blobs=1 tmp=0"
# By URL the name is the manifest's, known only once the image is there:
# first, the signature must be by a key the store trusts for some name.
S=$(new_store url-untrusted)
net_log_reset
act "$S" fetch "https://localhost:$NET_PORT/images/untrusted.aci"
expect_fail "by URL, signed by a key trusted for no name: refused, naming the key" \
  "untrusted\.aci\.asc: signed by key $K_OTHER which is not trusted for any image name"
is "... before the image was asked for" "$(net_log_count "GET /images/untrusted.aci ")" 0
is "... nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

# A download whose signature is not checked yet is not unpacked without
# end to find its manifest (a few KiB of bzip2 make gigabytes): by URL, the
# manifest must come within 64 MiB and 32 times the archive's size.
S=$(new_store late)
act "$S" fetch "https://localhost:$NET_PORT/images/late.aci"
expect_fail "by URL: a manifest after 100 MiB of other entries is not looked for" \
  'late\.aci: .*no manifest within the first [0-9]+ bytes of the archive'
is "... (its signature was asked for first, once)" "$(net_log_count "GET /images/late.aci.asc ")" 1
is "... nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
# By name, the signature is checked first, for the name asked: an unsigned
# image is refused before anything of it is unpacked; a signed one is
# read to its end.
act "$S" fetch localhost/lateunsigned
expect_fail "by name: an image without a signature is refused before it is unpacked" \
  'lateunsigned-latest-[^ ]*\.aci\.asc.*404'
act "$S" fetch localhost/late
expect_id "by name, signed: the signature checked first, the manifest is read however far it is" \
  "sha512-$(gzip -dc "$IN/late.aci" | sha512sum | cut -d' ' -f1)"

# --- 15. 401 and credentials -----------------------------------------------------------------------

S=$(new_store secret)
net_log_reset
act "$S" fetch localhost/secret
expect_fail "a 401 on the image without credentials is refused, naming it" \
  "secret-latest-$OA\.aci: 401 Unauthorized, and no credentials"
is "401: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
is "401: no credentials were sent" "$(auths "$U/secret-latest-$OA.aci" | sort -u)" '401 -'

mkdir -p "$S/auth.d"
printf '%s\n' '{"actoolKind":"auth","actoolVersion":"v1","domains":["localhost"],"type":"basic","credentials":{"user":"u","password":"p"}}' \
  >"$S/auth.d/a.json"
net_log_reset
act "$S" fetch localhost/secret
expect_id "with credentials in auth.d the image is fetched" "$ID_SECRET"
is "credentials: stored, tmp/ empty" "$(state "$S")" "list=[localhost/secret] blobs=1 tmp=0"
is "credentials are sent only after the 401" "$(auths "$U/secret-latest-$OA.aci" | paste -sd,)" \
  '401 -,200 Basic dTpw'

# A 404 to the request with credentials is an answer, not a failure to retry.
net_log_reset
act "$S" fetch localhost/secretgone
expect_fail "401, then 404 with the credentials: refused" "404"
is "... after exactly those two requests" "$(auths "$U/secretgone-latest-$OA.aci" | paste -sd,)" \
  '401 -,404 Basic dTpw'

# Over plain http, the credentials of the host are withheld: the error says
# so, not that there are none.
net_log_reset
act "$S" --insecure-options=http fetch "http://localhost:$NET_HTTP_PORT$U/secret-latest-$OA.aci"
expect_fail "401 over plain http, credentials for the host: they go over https only, it says" \
  "http://localhost:$NET_HTTP_PORT$U/secret-latest-$OA\.aci: 401 Unauthorized, and auth\.d's credentials for its host go over https only"
err_lacks "... not that there are none" "no credentials"
is "... and none were sent" "$(auths "$U/secret-latest-$OA.aci" | sort -u)" '401 -'
# A signature redirected to another host that answers 401: the error names
# that host's URL, whose credentials were looked for.
act "$S" fetch "https://localhost:$NET_PORT/images/sigredir.aci"
expect_fail "a signature redirected to a host that answers 401: refused, naming the URL that answered" \
  "signature: https://127\.0\.0\.1:$NET_PORT/images/sig401\.asc: 401 Unauthorized, and no credentials for its host"

# A redirect to another host that answers 401: asked again there, with the
# credentials of that host, never with those of the host that redirected.
S=$(new_store redirsecret)
mkdir -p "$S/auth.d"
printf '%s\n' '{"actoolKind":"auth","actoolVersion":"v1","domains":["localhost"],"type":"basic","credentials":{"user":"u","password":"p"}}' \
  >"$S/auth.d/a.json"
net_log_reset
act "$S" fetch localhost/redirsecret
expect_fail "redirected to a host that answers 401, credentials for the first host only: refused, naming the second" \
  "https://127\.0\.0\.1:$NET_PORT/images/localhost/secret-redir-latest-$OA\.aci: 401 Unauthorized, and no credentials"
is "... and no credentials were sent there" "$(auths "$U/secret-redir-latest-$OA.aci" | sort -u)" '401 -'
printf '%s\n' '{"actoolKind":"auth","actoolVersion":"v1","domains":["127.0.0.1"],"type":"basic","credentials":{"user":"u","password":"p"}}' \
  >"$S/auth.d/a.json"
net_log_reset
act "$S" fetch localhost/redirsecret
expect_id "with credentials for the host redirected to, the image is fetched" "$ID_REDIRSECRET"
is "... they were sent there after its 401" "$(auths "$U/secret-redir-latest-$OA.aci" | paste -sd,)" \
  '401 -,200 Basic dTpw'
is "... and never to the host that redirected" "$(auths "$U/redirsecret-latest-$OA.aci" | sort -u)" '302 -'

# --- 16. several endpoints ------------------------------------------------------------------------

S=$(new_store multi)
net_log_reset
act "$S" fetch localhost/multi
expect_id "the first endpoint answers 404, the second gives the image" "$ID_MULTI"
is "several endpoints: stored, tmp/ empty" "$(state "$S")" "list=[localhost/multi] blobs=1 tmp=0"
is "the first endpoint was tried (its signature: 404)" \
  "$(reqs "/missing/localhost/multi-latest-$OA.aci.asc" | cut -d' ' -f1)" "404"

S=$(new_store chan)
act "$S" fetch localhost/chan,channel=beta
expect_id "the best match fails (404): the {channel} template is tried next" "$ID_CHAN"
is "best match first: it was tried (its signature: 404)" "$(reqs "$U/chan-latest-$OA.aci.asc" | cut -d' ' -f1)" "404"

# Every endpoint fails: the most telling failure is reported, not the last.
for n in twoep twoepr; do
  S=$(new_store "$n")
  act "$S" fetch "localhost/$n"
  expect_fail "$n: an untrusted signature and a 404: the signature's failure is reported" \
    "untrusted-latest-$OA\.aci\.asc: signed by key $K_OTHER which is not trusted for localhost/$n"
  err_lacks "... not the 404, nor its hint to skip verification" "404\|insecure-options=image"
done
S=$(new_store twomis)
act "$S" fetch localhost/twomis
expect_fail "an image of another name, then a 404: the name's mismatch is reported" \
  '"localhost/other", not "localhost/twomis"'
S=$(new_store twosigmis)
act "$S" fetch localhost/twosigmis
expect_fail "an untrusted signature, then an image of another name: the signature's failure is reported" \
  "untrusted-latest-$OA\.aci\.asc: signed by key $K_OTHER which is not trusted for localhost/twosigmis"

S=$(new_store many)
net_log_sync
before=$(net_log_count "GET /missing/many-")
act "$S" fetch localhost/many
expect_fail "40 endpoints all 404: fails" "404"
is "at most 16 endpoints are tried" "$(($(net_log_count "GET /missing/many-") - before))" 16

# SIGTERM while fetch walks the endpoints: no endpoint is tried after it.
S=$(new_store slowmany)
net_log_sync
before=$(net_log_count "GET $U/walkstall.aci?n=")
"$ACTOOL" --debug --dir="$S" --port="$NET_PORT" --cacert="$NET_CA" fetch localhost/slowmany \
  >"$TMP/.out" 2>"$TMP/.err" &
BG_PID=$!
# Once discovery has answered, fetch logs it (--debug) and asks the first
# endpoint, which answers after 10 s. The signal comes a second after that
# and a connection to the server is up, however slow the start was.
walking=
for _ in $(seq 300); do
  if grep -q 'slowmany?ac-discovery=1' "$TMP/.err" &&
    ss -Htnp state established "( dport = :$NET_PORT )" | grep -q "pid=$BG_PID,"; then
    walking=1
    break
  fi
  sleep 0.1
done
[ -n "$walking" ] || note "fetch was not connected to the first endpoint after 30 s:" "$(cat "$TMP/.err")"
sleep 1
t0=$(date +%s%N)
kill -TERM "$BG_PID"
st=0
wait "$BG_PID" || st=$?
BG_PID=
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$st" -eq 143 ] && [ "$ms" -le 3000 ]; then ok "SIGTERM during the walk: killed by it at once ($ms ms)"; else
  not_ok "SIGTERM during the walk: killed by it at once (exit $st after $ms ms)"
fi
# nginx logs each request when its 10 s sleep ends: the first's, 10 s after
# it came (30 s at most on a busy machine), then a little more for any other.
deadline=$((SECONDS + 30))
while [ "$(($(net_log_count "GET $U/walkstall.aci?n=") - before))" -lt 1 ] &&
  [ "$SECONDS" -lt "$deadline" ]; do
  sleep 0.2
done
[ "$SECONDS" -lt "$deadline" ] || note "nginx did not log the first endpoint's request in 30 s"
sleep 1
is "SIGTERM during the walk: no endpoint tried after the first" \
  "$(($(net_log_count "GET $U/walkstall.aci?n=") - before))" 1
is "SIGTERM during the walk: nothing stored, tmp/ empty" "$(state "$S")" "list=[] blobs=0 tmp=0"

S=$(new_store rellink)
net_log_reset
act "$S" fetch localhost/rellink
expect_id "a relative Link target: resolved against the page's URL, the image fetched" "$ID_RELLINK"
is "... from https://localhost:PORT/images/rel/localhost/rellink.aci" \
  "$(reqs /images/rel/localhost/rellink.aci | cut -d' ' -f1)" "200"

S=$(new_store relmeta)
act "$S" fetch localhost/relmeta
expect_fail "a relative meta tag URL: refused as not absolute, naming it" \
  '^actool: /images/localhost/relmeta\.aci: not an absolute URL \(a scheme and a host are needed\)$'
act "$S" fetch "https://local host:$NET_PORT/x.aci"
expect_fail "a URL libcurl cannot parse: refused with its reason" "^actool: https://local host:$NET_PORT/x\.aci: not a valid URL: Bad hostname\$"
# A redirect to what libcurl cannot parse names its target, not the URL
# asked for as if that were wrong.
act "$S" fetch "https://localhost:$NET_PORT/images/badloc.aci"
expect_fail "the image redirected to a malformed URL: refused, naming it and what is wrong" \
  "^actool: https://localhost:$NET_PORT/images/badloc\.aci: redirected to https://\[::1/x, which is not a valid URL: Bad IPv6 address\$"
act "$S" fetch "https://localhost:$NET_PORT/images/badlocsig.aci"
expect_fail "the signature redirected to a malformed URL: refused, naming it and what is wrong" \
  "badlocsig\.aci\.asc: redirected to https://localhost:99999/x, which is not a valid URL: Port number"
is "... nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

# --- 11. a stalling server ---------------------------

# timed_fetch ENV... -- NAME: fetch NAME into $S with ENV set; $status, and
# $ms the milliseconds it took.
timed_fetch() {
  local envs=() t0
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  last_cmd="${envs[*]} actool fetch $2"
  status=0
  t0=$(date +%s%N)
  env "${envs[@]}" timeout 60 "$ACTOOL" --dir="$S" --port="$NET_PORT" --cacert="$NET_CA" \
    fetch "$2" >"$TMP/.out" 2>"$TMP/.err" || status=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
}

S=$(new_store stall)
net_log_reset
timed_fetch ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_RETRIES=1 -- localhost/stall
expect_fail "a server that sends nothing: refused after the timeout and one retry" 'no data for 2 s'
# Two stalls of 2 s and the 1 s backoff between them.
if [ "$ms" -ge 4500 ] && [ "$ms" -le 30000 ]; then ok "the stalled fetch gave up after two timeouts, within 30 s ($ms ms)"; else
  not_ok "the stalled fetch gave up after two timeouts, within 30 s ($ms ms)"
fi
is "stall: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"
# Each request is logged when nginx's 5 s sleep ends (30 s at most on a
# busy machine).
n=0
for _ in $(seq 300); do
  n=$(net_log_count "\"GET $U/stall-latest-$OA.aci HTTP/1.1\"")
  [ "$n" -ge 2 ] && break
  sleep 0.1
done
is "the access log shows two attempts" "$n" 2

# A signature that never comes: its attempts (ACTOOL_HTTP_RETRIES, 3) share
# one ACTOOL_HTTP_DEADLINE, backoffs included, not a fresh timeout each
# (4 stalls of 2 s and 7 s of backoff: 15 s).
S=$(new_store sigstall)
timed_fetch ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=4 -- localhost/sigstall
expect_fail "a signature that never comes fails at ACTOOL_HTTP_DEADLINE" \
  "sigstall-latest-$OA\\.aci\\.asc: .*within the 4 s deadline"
if [ "$ms" -le 11000 ]; then ok "... within about the deadline, retries included ($ms ms)"; else
  not_ok "... within about the deadline, retries included ($ms ms)"
fi
is "sigstall: nothing stored, no download left" "$(state "$S")" "list=[] blobs=0 tmp=0"

# --- 12. servers that misbehave as nginx cannot --------------------------------
# tests/integration/hostile-http.py, plain http on loopback.

python3 "$top_srcdir/tests/integration/hostile-http.py" "$IN/app.aci" "$TMP/hport" &
HTTP_PID=$!
for _ in $(seq 600); do [ -s "$TMP/hport" ] && break; sleep 0.1; done
HP=$(cat "$TMP/hport" 2>/dev/null)
[ -n "$HP" ] || net_fail "hostile-http.py started"
H=http://127.0.0.1:$HP
# hplain ENV... -- ARGS...: actool with plain http allowed, bounded in time.
hplain() {
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  last_cmd="${envs[*]} actool $*"
  status=0
  env "${envs[@]}" timeout 60 "$ACTOOL" --insecure-options=http,image "$@" >"$TMP/.out" 2>"$TMP/.err" ||
    status=$?
}

# A download cut in the middle leaves a partial file (with an ETag); the
# resume is answered 206 for bytes 0-, not the bytes asked for: spliced in,
# it would corrupt the image.
S=$(new_store badrange)
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut.aci"
is "a cut download fails and keeps its partial file" "$status $(downloads "$S")" "1 aci=1 json=1"
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut.aci"
expect_fail "a 206 for another range is refused, naming both" '206 Partial Content for "bytes 0-' 'bytes [0-9]+- were asked'
is "after a bad 206 the partial is dropped: no image, tmp/ empty" "$(state "$S")" "list=[] blobs=0 tmp=0"
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut.aci"
expect_id "then a whole download succeeds" "$ID_APP"

# A 206 to a request without Range (for the whole body): refused, and
# said so, not as a range that was never asked for.
S=$(new_store whole206)
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/whole206.aci"
expect_fail "a 206 to a request for the whole body is refused, saying so" \
  'whole206\.aci: 206 Partial Content for "bytes 0-[0-9]+/[0-9]+" to a request for the whole body'
err_lacks "... and names no range as asked" "were asked"
is "after a 206 for the whole body: no image, tmp/ empty" "$(state "$S")" "list=[] blobs=0 tmp=0"

# A header line over libcurl's limit (100 KB), which libcurl reports as
# out of memory: said as what it is, naming the URL.
S=$(new_store longheader)
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/longheader.aci"
expect_fail "a download's header line over libcurl's limit is named as such" \
  "longheader\.aci: the server sent a header line longer than libcurl's limit"
hplain -- --dir="$S" --port="$HP" discover 127.0.0.1/longheader/app
expect_fail "a discovery page's header line over libcurl's limit is named as such" \
  "127\.0\.0\.1:$HP/longheader/app\?ac-discovery=1: the server sent a header line longer than libcurl's limit"
err_lacks "... and does not say out of memory" "[Oo]ut of memory"

# Cut off without a validator: the partial file could never be resumed
# (a resume must name the version it continues), so it does not stay.
S=$(new_store noetag)
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut-noetag.aci"
expect_fail "a cut download without ETag or Last-Modified fails" 'cut-noetag\.aci'
is "... and leaves no partial file in tmp/" "$(state "$S") $(downloads "$S")" \
  "list=[] blobs=0 tmp=0 aci=0 json=0"

# Validators If-Range must not carry (RFC 9110, 13.1.5): the partial file
# could not be resumed safely, so it does not stay either.
for cut in weak:"a weak ETag" samesec:"a Last-Modified no older than the Date" \
  bigetag:"a 70 KB ETag"; do
  S=$(new_store "cut-${cut%%:*}")
  hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut-${cut%%:*}.aci"
  is "a cut download with ${cut#*:} only leaves no partial file" \
    "$status $(state "$S") $(downloads "$S")" "1 list=[] blobs=0 tmp=0 aci=0 json=0"
done
# A Last-Modified an hour older than the Date is a strong validator: the
# partial file stays, and the resume names it in If-Range.
S=$(new_store cut-lm)
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut-lm.aci"
is "a cut download with an old Last-Modified keeps its partial file" "$status $(downloads "$S")" \
  "1 aci=1 json=1"
hplain ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/cut-lm.aci"
expect_id "... and resumes it with If-Range: that date" "$ID_APP"

# One byte every half second: never a stall of ACTOOL_HTTP_TIMEOUT, so only
# an overall deadline (pages) or a minimum rate (downloads) ends it.
S=$(new_store drip)
t0=$(date +%s%N)
hplain ACTOOL_HTTP_DEADLINE=3 -- --dir="$S" --port="$HP" discover 127.0.0.1/drip/app
ms=$((($(date +%s%N) - t0) / 1000000))
expect_fail "a trickling discovery page fails at ACTOOL_HTTP_DEADLINE" 'within the 3 s deadline'
if [ "$ms" -le 30000 ]; then ok "... after about 3 s, not the ~500 s of the whole ($ms ms)"; else not_ok "... after about 3 s, not the ~500 s of the whole ($ms ms)"; fi
t0=$(date +%s%N)
hplain ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_RETRIES=0 -- --dir="$S" fetch "$H/drip.aci"
ms=$((($(date +%s%N) - t0) / 1000000))
expect_fail "a trickling download fails below the minimum rate" 'less than 1024 bytes/s for 2 s'
if [ "$ms" -le 30000 ]; then ok "... after about 2 s, not the ~500 s of the whole ($ms ms)"; else not_ok "... after about 2 s, not the ~500 s of the whole ($ms ms)"; fi
hplain ACTOOL_HTTP_MIN_RATE=x -- --dir="$S" fetch "$H/drip.aci"
is "ACTOOL_HTTP_MIN_RATE must be a number: usage error" "$status" 2
# An endless body faster than the minimum rate: a download of no declared
# size stops at ACTOOL_FETCH_MAX_SIZE, and any download, its retries
# included, at ACTOOL_HTTP_DOWNLOAD_DEADLINE.
S=$(new_store endless)
hplain ACTOOL_FETCH_MAX_SIZE=64Ki -- --dir="$S" fetch "$H/endless.aci"
expect_fail "an endless download stops at ACTOOL_FETCH_MAX_SIZE, which the error names" \
  'larger than 65536 bytes, the most a download of no declared size may be \(ACTOOL_FETCH_MAX_SIZE allows more\)$'
is "... and leaves nothing in tmp/" "$(state "$S") $(downloads "$S")" "list=[] blobs=0 tmp=0 aci=0 json=0"
hplain ACTOOL_HTTP_DOWNLOAD_DEADLINE=2 ACTOOL_HTTP_RETRIES=3 -- --debug --dir="$S" fetch "$H/endless.aci"
expect_fail "an endless download stops at ACTOOL_HTTP_DOWNLOAD_DEADLINE" 'within the 2 s deadline of a download'
is "... and is not retried after it (the deadline covers the retries)" "$(grep -c 'retrying' "$TMP/.err")" 0
hplain ACTOOL_FETCH_MAX_SIZE=lots -- --dir="$S" fetch "$H/endless.aci"
is "ACTOOL_FETCH_MAX_SIZE must be a size: usage error" "$status" 2

kill "$HTTP_PID" 2>/dev/null
wait "$HTTP_PID" 2>/dev/null

# --- concurrent fetches of one URL -------------------------------------------
# They take turns on the URL's partial download: each one that waited finds
# the file the other imported gone and starts its own, never a file that is
# being read or removed.

S=$(new_store concurrent)
pids=()
for i in 1 2 3; do
  timeout 120 "$ACTOOL" --dir="$S" --port="$NET_PORT" --cacert="$NET_CA" fetch --no-store \
    "https://localhost:$NET_PORT/images/big-copy.aci" >"$TMP/conc$i.out" 2>"$TMP/conc$i.err" &
  pids+=($!)
done
wait_all "${pids[@]}"
is "three concurrent fetches of one URL all succeed" "$cstat" "000"
is "they print the same image ID" "$(cat "$TMP"/conc?.out | sort -u)" "$ID_BIG"
is "concurrent fetches: one image, one blob, tmp/ empty" "$(state "$S")" "list=[localhost/big] blobs=1 tmp=0"

# --- a fetch waiting for another's download of its URL -------------------------
# It says so, naming the URL and the lock, as a wait for the store's lock
# does, and a SIGINT ends the wait.

S=$(new_store urlwait)
"$ACTOOL" --dir="$S" image list >/dev/null 2>&1
U="https://localhost:$NET_PORT/images/big-copy.aci"
part=$S/tmp/download-$(printf %s "$U" | sha256sum | cut -c1-64).aci
lock_wait_check "a fetch of a URL that another fetch downloads says it waits, then fetches" -x "$part" \
  "another fetch of $U (the lock of $part)" \
  timeout 120 "$ACTOOL" --dir="$S" --cacert="$NET_CA" fetch --no-store "$U"
is "... and prints the image ID" "$(cat "$TMP/.out")" "$ID_BIG"
lock_wait_cancel "... and a SIGINT ends that wait" "$part" \
  timeout 120 "$ACTOOL" --dir="$S" --cacert="$NET_CA" fetch --no-store "$U"
lock_hold "$part"
t0=$SECONDS
run_capture env ACTOOL_FETCH_DEADLINE=2 timeout 120 "$ACTOOL" --dir="$S" --cacert="$NET_CA" fetch --no-store "$U"
lock_release
is "... which ends at ACTOOL_FETCH_DEADLINE, naming the URL, the lock and the deadline" \
  "$status $(grep -cxF "actool: $U: another fetch still downloads it (the lock of $part) (the fetch of $U not done within its 2 s deadline) (ACTOOL_FETCH_DEADLINE allows more time)" "$TMP/.err")" "1 1"
check "... within 5 s" test $((SECONDS - t0)) -le 5

# --- concurrent fetches of a dependency cycle ----------------------------------
# cyca depends on cycb and cycb on cyca, each downloaded at 1 MB/s for some
# seconds: fetch localhost/cyca and fetch localhost/cycb, started together,
# each download the image asked for, then its dependency, which the other is
# downloading.  Each held its own partial download's lock while fetching its
# dependencies, and waited for the other's: both blocked in flock for ever.

mkimg ID_CYCA localhost/cyca "$IN/cyca.aci" 1.0.0 '[{"imageName": "localhost/cycb"}]' 2500000
mkimg ID_CYCB localhost/cycb "$IN/cycb.aci" 1.0.0 '[{"imageName": "localhost/cyca"}]' 2500000
for n in cyca cycb; do
  sign "$K" "$IN/$n.aci"
  serve "$IN/$n.aci" "$n" latest
  page "$n"
done
S=$(new_store cycle)
pids=()
for n in cyca cycb; do
  timeout 40 "$ACTOOL" --dir="$S" --port="$NET_PORT" --cacert="$NET_CA" fetch "localhost/$n" \
    >"$TMP/$n.out" 2>"$TMP/$n.err" &
  pids+=($!)
done
wait_all "${pids[@]}"
is "two concurrent fetches of a dependency cycle both end, and succeed (no deadlock)" \
  "$cstat:$(cat "$TMP/cyca.out") $(cat "$TMP/cycb.out")" "00:$ID_CYCA $ID_CYCB"
[ "$cstat" = 00 ] || note "$(cat "$TMP/cyca.err" "$TMP/cycb.err" | head -c 2000)"
is "dependency cycle: both images stored, tmp/ empty" "$(state "$S")" \
  "list=[localhost/cyca localhost/cycb] blobs=2 tmp=0"

# --- actool sign: build, sign, serve, trust, fetch by name --------------------------

mkimg ID_SIGNED localhost/signed "$IN/signed.aci" 3.0.0
run_capture env GNUPGHOME="$G" "$ACTOOL" sign --key="$K" "$IN/signed.aci"
if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err"; then ok "sign --key=FINGERPRINT"; else
  not_ok "sign --key=FINGERPRINT"
  note "exit $status" "$(head -c 1000 "$TMP/.err")"
fi
check "gpg verifies the signature actool wrote" gpgt --verify "$IN/signed.aci.asc" "$IN/signed.aci"
check "it is an armored detached signature" grep -q -- '-----BEGIN PGP SIGNATURE-----' "$IN/signed.aci.asc"
gpgt --status-fd 1 --verify "$IN/signed.aci.asc" "$IN/signed.aci" 2>/dev/null | awk '$2 == "VALIDSIG" {print $3}' >"$TMP/signer"
is "made by the key asked for" "$(cat "$TMP/signer")" "$K"
serve "$IN/signed.aci" signed 3.0.0
page signed
S=$(new_store signed)
act "$S" fetch localhost/signed,version=3.0.0
expect_id "fetch by name checks the signature and imports the signed image" "$ID_SIGNED"
S2=$STORES/signed-other
rm -rf "$S2" && mkdir -p "$S2/trust/prefix.d/localhost"
gpgt --armor --export "$K_OTHER" >"$S2/trust/prefix.d/localhost/$K_OTHER"
act "$S2" fetch localhost/signed,version=3.0.0
expect_fail "a store that trusts another key refuses the image signed by sign" 'signature|key'
run_capture env GNUPGHOME="$G" "$ACTOOL" sign --key=nobody@example.invalid --output="$TMP/x.asc" "$IN/signed.aci"
if [ "$status" -eq 1 ] && grep -q 'no such secret key' "$TMP/.err" && [ ! -e "$TMP/x.asc" ]; then
  ok "sign with a key the keyring lacks fails cleanly, writing nothing"
else
  not_ok "sign with a key the keyring lacks fails cleanly, writing nothing"
  note "exit $status" "$(head -c 1000 "$TMP/.err")"
fi
head -c 1000 /dev/urandom >"$TMP/garbage.aci"
run_capture env GNUPGHOME="$G" "$ACTOOL" sign --key="$K" "$TMP/garbage.aci"
if [ "$status" -eq 1 ] && grep -q 'not signed' "$TMP/.err" && [ ! -e "$TMP/garbage.aci.asc" ]; then
  ok "sign refuses a file that is not a valid image"
else
  not_ok "sign refuses a file that is not a valid image"
  note "exit $status" "$(head -c 1000 "$TMP/.err")"
fi
run_capture env GNUPGHOME="$G" "$ACTOOL" sign --output="$TMP/default.asc" "$IN/signed.aci"
is "sign without --key uses gpg's default key" "$status:$(gpgt --verify "$TMP/default.asc" "$IN/signed.aci" >/dev/null 2>&1 && echo verified)" "0:verified"

done_testing
