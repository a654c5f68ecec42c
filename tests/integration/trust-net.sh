#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `actool trust` over the network (nginx with a test CA, lib-net.sh): keys
# from https URLs, keys found by discovering a prefix's ac-discovery-pubkeys
# (several URLs, one of them broken), the transport rules, the review prompt
# for a downloaded key, and `fetch` by name with the key trusted that way.
#
# shellcheck disable=SC2154 # $status comes from lib.sh
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
. "$top_srcdir/tests/integration/lib-net.sh" || exit 1
G=$TMP/gnupg
trap 'gpgconf --homedir "$G" --kill gpg-agent >/dev/null 2>&1; net_cleanup; rm -rf "$TMP"' EXIT

net_require
command -v gpg >/dev/null 2>&1 || net_fail "gpg is installed (scripts/deps)"
command -v script >/dev/null 2>&1 || net_fail "script (util-linux) is installed (scripts/deps)"
mkdir -m 0700 "$G"
T="timeout 60"

# gpgt, fpr and newkey come from lib-net.sh.

# act STORE ARGS...: actool on STORE with the test CA and port.
act() {
  local s=$1
  shift
  last_cmd="actool --dir=$s $*"
  run_capture $T "$ACTOOL" --dir="$s" --port="$NET_PORT" --cacert="$NET_CA" "$@"
}
report() { note "command: $last_cmd" "exit $status" "stdout: $(head -c 600 "$TMP/.out")" "stderr: $(head -c 1500 "$TMP/.err")"; }
# expect DESC STATUS ERE: the last command's exit status and stderr.
expect() {
  if [ "$status" -eq "$2" ] && ! crashed "$status" "$TMP/.err" && grep -Eq -- "$3" "$TMP/.err"; then ok "$1"; else
    not_ok "$1"
    report
  fi
}
# keyfile STORE PREFIX-DIR FPR: the trusted key file, if any.
# has_key STORE DIR FPR: the key file, named in lower case as rkt names it.
has_key() { [ -f "$1/trust/$2/${3,,}" ]; }

net_make_ca "$TMP/pki"
newkey K1 one@localhost
newkey K2 two@localhost
gpgt --armor --export "$K1" >"$NET_ROOT/k1.gpg"
gpgt --armor --export "$K2" >"$NET_ROOT/k2.gpg"
gpgt --armor --export "$K1" "$K2" >"$NET_ROOT/both.gpg"
# localhost/app publishes two key URLs, one of them missing.
printf '%s\n' '<html><head>' \
  "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/app https://localhost:PORT/k1.gpg\">" \
  "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/app https://localhost:PORT/gone.gpg\">" \
  "<meta name=\"ac-discovery\" content=\"localhost/app https://localhost:PORT/{name}-{version}.{ext}\">" \
  '</head></html>' >"$NET_ROOT/app.tmpl"
# localhost/two publishes two good keys.
printf '%s\n' '<html><head>' \
  "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/two https://localhost:PORT/k1.gpg\">" \
  "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/two https://localhost:PORT/k2.gpg\">" \
  '</head></html>' >"$NET_ROOT/two.tmpl"
# localhost/local names a file of this machine (the key of localhost/two,
# which the test writes there) instead of a URL.
gpgt --armor --export "$K2" >"$TMP/local.gpg"
printf '%s\n' '<html><head>' \
  "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/local $TMP/local.gpg\">" \
  '</head></html>' >"$NET_ROOT/local.tmpl"
# localhost/many names 20 key URLs (none there).
{
  echo '<html><head>'
  for i in $(seq 1 20); do
    echo "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/many https://localhost:PORT/many-$i.gpg\">"
  done
  echo '</head></html>'
} >"$NET_ROOT/many.tmpl"
# localhost/stallmany names 16 key URLs that never answer (stallkey, below).
{
  echo '<html><head>'
  for i in $(seq 1 16); do
    echo "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/stallmany https://localhost:PORT/stallkey.gpg?n=$i\">"
  done
  echo '</head></html>'
} >"$NET_ROOT/stallmany.tmpl"
# localhost/c1 names a key URL holding a C1 control (U+009B, a CSI).
C1=$(printf '\302\2332J')
cp "$NET_ROOT/k1.gpg" "$NET_ROOT/k$C1.gpg"
printf '%s\n' '<html><head>' \
  "<meta name=\"ac-discovery-pubkeys\" content=\"localhost/c1 https://localhost:PORT/k$C1.gpg\">" \
  '</head></html>' >"$NET_ROOT/c1.tmpl"
# A key URL that takes the request and answers nothing for a minute.
echo 'location = /stallkey.gpg { echo_sleep 60; echo x; }' >"$NET_CONF_D/stallkey.conf"
net_start_nginx
for p in app two local many stallmany c1; do sed "s/PORT/$NET_PORT/g" "$NET_ROOT/$p.tmpl" >"$NET_ROOT/$p"; done
U=https://localhost:$NET_PORT

# --- a key from a URL --------------------------------------------------------

S=$TMP/s1
act "$S" trust --prefix=localhost/app --skip-fingerprint-review "$U/k1.gpg"
expect "a key from an https URL is trusted" 0 "localhost/app"
is "its fingerprint is printed" "$(cat "$TMP/.out")" "$K1"
check "the key file is in prefix.d" has_key "$S" prefix.d/localhost/app "$K1"

act "$S" trust --root --skip-fingerprint-review "$U/both.gpg"
expect "a URL holding two keys is refused" 1 "both.gpg"
check "nothing was added to root.d" test ! -e "$S/trust/root.d/${K1,,}"

act "$S" trust --root --skip-fingerprint-review "$U/nothing-here.gpg"
expect "a missing key URL fails naming the 404" 1 "nothing-here.gpg.*404"

run_capture $T "$ACTOOL" --dir="$S" --port="$NET_PORT" trust --root --skip-fingerprint-review "$U/k2.gpg"
expect "without --cacert the test CA is not trusted" 1 "certificate"
check "nothing was added" test ! -e "$S/trust/root.d/${K2,,}"
run_capture $T "$ACTOOL" --dir="$S" --insecure-options=tls trust --root --skip-fingerprint-review "$U/k2.gpg"
expect "--insecure-options=tls accepts it" 0 "root"
check "the root key file exists" has_key "$S" root.d "$K2"

run_capture $T "$ACTOOL" --dir="$TMP/s-http" trust --root --skip-fingerprint-review "http://localhost:$NET_HTTP_PORT/k1.gpg"
expect "a plain http key URL is refused" 1 "http"
check "nothing was added over http" test ! -e "$TMP/s-http/trust/root.d/${K1,,}"

# A key URL that never answers: its attempts (ACTOOL_HTTP_RETRIES, 3) share
# one ACTOOL_HTTP_DEADLINE, backoffs included, not a fresh timeout each
# (4 stalls of 2 s and 7 s of backoff: 15 s).
last_cmd="ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=4 actool trust --root $U/stallkey.gpg"
t0=$(date +%s%N)
run_capture env ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=4 $T "$ACTOOL" --dir="$TMP/s-stall" \
  --port="$NET_PORT" --cacert="$NET_CA" trust --root --skip-fingerprint-review "$U/stallkey.gpg"
ms=$((($(date +%s%N) - t0) / 1000000))
expect "a key URL that never answers fails at ACTOOL_HTTP_DEADLINE, naming it" 1 \
  'stallkey\.gpg: .*within the 4 s deadline'
if [ "$ms" -le 11000 ]; then ok "... within about the deadline, retries included ($ms ms)"; else
  not_ok "... within about the deadline, retries included ($ms ms)"
fi

# --- the review prompt for a downloaded key ------------------------------------

S=$TMP/s2
mkdir -p "$S"
cmd="$ACTOOL --dir=$S --port=$NET_PORT --cacert=$NET_CA trust --prefix=localhost/app $U/k1.gpg"
status=0
printf 'no\n' | $T script -qec "$cmd" /dev/null >"$TMP/.out" 2>&1 || status=$?
if [ "$status" -ne 0 ] && grep -q "$(printf '%s' "$K1" | cut -c1-4)" "$TMP/.out" && ! has_key "$S" prefix.d/localhost/app "$K1"; then
  ok "review: answering no trusts nothing (the fingerprint was shown)"
else
  not_ok "review: answering no trusts nothing (the fingerprint was shown)"
  note "exit $status" "$(head -c 1500 "$TMP/.out")"
fi
status=0
printf 'yes\n' | $T script -qec "$cmd" /dev/null >"$TMP/.out" 2>&1 || status=$?
if [ "$status" -eq 0 ] && has_key "$S" prefix.d/localhost/app "$K1"; then
  ok "review: answering yes trusts the downloaded key"
else
  not_ok "review: answering yes trusts the downloaded key"
  note "exit $status" "$(head -c 1500 "$TMP/.out")"
fi

# --- keys found by discovery ---------------------------------------------------

S=$TMP/s3
act "$S" trust --prefix=localhost/two --skip-fingerprint-review
expect "discovery of the prefix's pubkeys trusts both keys" 0 "localhost/two"
is "both fingerprints are printed" "$(sort <"$TMP/.out" | tr '\n' ' ')" "$(printf '%s\n' "$K1" "$K2" | sort | tr '\n' ' ')"
check "key 1 is in prefix.d/localhost/two" has_key "$S" prefix.d/localhost/two "$K1"
check "key 2 is in prefix.d/localhost/two" has_key "$S" prefix.d/localhost/two "$K2"

S=$TMP/s4
act "$S" trust --prefix=localhost/app --skip-fingerprint-review
expect "one broken pubkeys URL: exit 1 naming it" 1 "gone.gpg"
check "the good key of the same prefix is trusted anyway" has_key "$S" prefix.d/localhost/app "$K1"

act "$TMP/s5" trust --prefix=localhost/nothing --skip-fingerprint-review
expect "a prefix without pubkeys: exit 1" 1 "localhost/nothing"

act "$TMP/s6" trust --prefix=localhost/local --skip-fingerprint-review
expect "a discovered public key that is a local path is refused, not read" 1 \
  "discovery names the public key \"$TMP/local.gpg\", which is not an http\\(s\\) URL"
is "... and nothing is trusted" "$(find "$TMP/s6" -path '*/trust/*' -type f 2>/dev/null | wc -l)" 0

net_log_sync
before=$(net_log_count "GET /many-")
act "$TMP/s7" trust --prefix=localhost/many --skip-fingerprint-review
expect "20 discovered key URLs: only the first 16 are fetched, and it says so" 1 \
  "names 20 public keys; only the first 16 are fetched"
net_log_sync
is "... 16 requests" "$(($(net_log_count "GET /many-") - before))" 16

# The discovery and the keys it names are one fetch, bounded by
# ACTOOL_FETCH_DEADLINE as a fetch's endpoints are: 16 stalling keys do not
# take 16 times ACTOOL_HTTP_DEADLINE.
last_cmd="ACTOOL_HTTP_DEADLINE=2 ACTOOL_FETCH_DEADLINE=5 actool trust --prefix=localhost/stallmany"
t0=$(date +%s%N)
run_capture env ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=2 ACTOOL_FETCH_DEADLINE=5 $T "$ACTOOL" \
  --dir="$TMP/s11" --port="$NET_PORT" --cacert="$NET_CA" trust --prefix=localhost/stallmany \
  --skip-fingerprint-review
ms=$((($(date +%s%N) - t0) / 1000000))
expect "16 stalling discovered keys: the fetch's deadline ends it, naming it" 1 \
  'the fetch of the public keys of localhost/stallmany not done within its 5 s deadline'
expect "... and says how many keys were not fetched" 1 \
  'localhost/stallmany: the deadline of the fetch of its public keys has passed, 1[0-9] of 16 not fetched \(ACTOOL_FETCH_DEADLINE allows more time\)'
if [ "$ms" -le 12000 ]; then ok "... within about that deadline ($ms ms)"; else
  not_ok "... within about that deadline ($ms ms)"
fi

# The key URL is the server's text: its C1 control reaches the terminal
# escaped, on the review screen as after it.
act "$TMP/s8" trust --prefix=localhost/c1 --skip-fingerprint-review
expect "a key URL holding a C1 control is trusted, and named escaped" 0 \
  'Trusting "https://localhost:[0-9]+/k\\xc2\\x9b2J\.gpg" for prefix'
err_lacks "... with no raw C1 control on stderr" "$C1"
cmd="$ACTOOL --dir=$TMP/s9 --port=$NET_PORT --cacert=$NET_CA trust --prefix=localhost/c1"
status=0
printf 'no\n' | $T script -qec "$cmd" /dev/null >"$TMP/.out" 2>&1 || status=$?
if [ "$status" -ne 0 ] && grep -q 'key: "https://localhost:[0-9]*/k\\xc2\\x9b2J\.gpg"' "$TMP/.out" &&
  ! grep -q "$C1" "$TMP/.out"; then
  ok "review: the key URL's C1 control is shown escaped"
else
  not_ok "review: the key URL's C1 control is shown escaped"
  note "exit $status" "$(head -c 1500 "$TMP/.out" | od -c | head -20)"
fi

act "$TMP/s5" trust --root --skip-fingerprint-review
expect "--root without a key is a usage error" 2 "."

# A prefix no key can be trusted for is refused before the network is
# asked anything: neither its discovery nor a key URL given with it.
net_log_reset
act "$TMP/s10" trust --prefix=localhost/../app --skip-fingerprint-review
expect "a prefix with a .. component, to discover: refused" 1 'localhost/\.\./app: .*"\.\." path component'
act "$TMP/s10" trust --prefix=localhost/../app --skip-fingerprint-review "$U/k1.gpg"
expect "... with a key URL: refused too" 1 'localhost/\.\./app: .*"\.\." path component'
act "$TMP/s10" trust --prefix="https://localhost:$NET_PORT/app" --skip-fingerprint-review
expect "a prefix that is a URL, to discover: refused as with a key file" 1 \
  "prefix \"https://localhost:$NET_PORT/app\": an image name prefix is not a URL"
is "... and no request was made for any of them" "$(net_log_count 'GET ')" 0

# --- fetch with a key trusted by discovery -------------------------------------

mkdir -p "$TMP/lay/rootfs"
echo hi >"$TMP/lay/rootfs/hello"
printf '%s' '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"localhost/app","labels":[{"name":"version","value":"1.0.0"}]}' >"$TMP/lay/manifest"
mkdir -p "$NET_ROOT/localhost"
ID=$("$ACTOOL" build "$TMP/lay" "$NET_ROOT/localhost/app-1.0.0.aci" 2>"$TMP/.err") || net_fail "build" "$(cat "$TMP/.err")"
gpgt --yes --local-user "$K1!" --armor --detach-sign "$NET_ROOT/localhost/app-1.0.0.aci"
act "$S" fetch localhost/app:1.0.0
if [ "$status" -eq 0 ] && [ "$(cat "$TMP/.out")" = "$ID" ]; then ok "fetch by name with the key trusted through discovery"; else
  not_ok "fetch by name with the key trusted through discovery"
  report
fi
act "$S" trust --rm "$K1"
expect "trust --rm removes it" 0 "$K1"
act "$S" fetch --no-store localhost/app:1.0.0
expect "after --rm the same fetch is refused" 1 "not trusted"

done_testing
