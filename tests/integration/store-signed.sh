#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Signed fetch of local files (docs/trust.md): `fetch FILE.aci` imports only
# when FILE.aci.asc is a good signature by a key trusted for the image's
# name (DIR/trust/root.d, DIR/trust/prefix.d/PREFIX); every refusal leaves
# the store without a record, a blob or a temporary.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

T="timeout 60"
IN=$TMP/in
G=$TMP/gnupg
STORES=$TMP/stores
mkdir -p "$IN" "$STORES"
mkdir -m 0700 "$G"
# Signing starts a gpg-agent for $G: stop it with the test.
trap 'gpgconf --homedir "$G" --kill gpg-agent >/dev/null 2>&1; rm -rf "$TMP"' EXIT

if ! command -v gpg >/dev/null 2>&1; then
  not_ok "gpg is installed (gpgme runs it to verify signatures)"
  done_testing
  exit 1
fi

# --- helpers ----------------------------------------------------------------

gpgt() { gpg --batch --quiet --homedir "$G" --passphrase '' --pinentry-mode loopback "$@"; }

# fpr EMAIL: the fingerprint of the primary key of EMAIL's key.
fpr() { gpgt --with-colons --list-keys "<$1>" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'; }

# newkey VAR EMAIL [USAGE [EXPIRY [GPG OPTIONS...]]]: a new key, its
# fingerprint in VAR (one TAP line).
newkey() {
  local var=$1 email=$2 usage=${3:-sign} expiry=${4:-never}
  shift $(($# < 4 ? $# : 4))
  gpgt "$@" --quick-gen-key "Test <$email>" ed25519 "$usage" "$expiry" >"$TMP/.gpg" 2>&1
  printf -v "$var" '%s' "$(fpr "$email")"
  if [[ ${!var} =~ ^[0-9A-F]{40}$ ]]; then ok "key for $email"; else
    not_ok "key for $email"
    note "$(cat "$TMP/.gpg")"
  fi
}

# sign KEY FILE [OUT [GPG OPTIONS...]]: an armored detached signature of FILE
# by KEY in OUT (default FILE.asc).
sign() {
  local key=$1 file=$2 out=${3:-$2.asc}
  shift $(($# < 3 ? $# : 3))
  gpgt --yes "$@" --local-user "$key!" --armor --output "$out" --detach-sign "$file"
}

# trust_key STORE root|PREFIX KEY [FILE NAME]: place KEY's public key as a
# trusted key file.
trust_key() {
  local store=$1 where=$2 key=$3 name=${4:-$3} dir
  if [ "$where" = root ]; then dir=$store/trust/root.d; else dir=$store/trust/prefix.d/$where; fi
  mkdir -p "$dir"
  gpgt --armor --export "$key" >"$dir/$name"
}

# new_store NAME: a fresh store directory (printed).
new_store() {
  rm -rf "${STORES:?}/$1"
  printf '%s\n' "$STORES/$1"
}

# mf NAME: an image manifest.
mf() {
  jq -cn --arg n "$1" '{acKind: "ImageManifest", acVersion: "0.8.11", name: $n,
    labels: [{name: "version", value: "1.0.0"}, {name: "os", value: "linux"}]}'
}

# mkaci VAR NAME OUT: build an image named NAME into OUT, its ID in VAR.
mkaci() {
  local var=$1 name=$2 out=$3 lay=$TMP/layouts/${3##*/}
  rm -rf "$lay"
  mkdir -p "$lay/rootfs/etc"
  mf "$name" >"$lay/manifest"
  printf '%s\n' "$name" >"$lay/rootfs/etc/name"
  head -c 50000 /dev/urandom >"$lay/rootfs/data"
  run_capture "$ACTOOL" build "$lay" "$out"
  printf -v "$var" '%s' "$(cat "$TMP/.out")"
  if [ "$status" -eq 0 ] && [[ ${!var} =~ ^sha512-[0-9a-f]{128}$ ]]; then ok "build $name"; else
    not_ok "build $name"
    note "exit $status" "stderr: $(head -c 2000 "$TMP/.err")"
  fi
}

# count DIR: entries in DIR (hidden ones too); 0 when DIR does not exist.
count() { if [ -d "$1" ]; then (cd "$1" && ls -A | wc -l); else echo 0; fi; }

# state STORE: what a fetch may have left in STORE.
state() { echo "images=$(count "$1/images") blobs=$(count "$1/blobs") tmp=$(count "$1/tmp")"; }

# fetch_ok DESCRIPTION STORE FILE WANT_ID [OPTIONS...]: fetch prints WANT_ID
# and exits 0, leaving no temporary behind.
fetch_ok() {
  local desc=$1 store=$2 file=$3 want=$4
  shift 4
  local report=none
  run_capture $T "$ACTOOL" --dir="$store" "$@" fetch "$file"
  crashed "$status" "$TMP/.err" && report=sanitizer-or-crash
  is "$desc" "$status:$report:$(cat "$TMP/.out")" "0:none:$want"
  [ "$status" -eq 0 ] && [ "$report" = none ] || note "stderr: $(head -c 2000 "$TMP/.err")"
  is "$desc: the image is stored and tmp/ is empty" "$(state "$store")" "images=1 blobs=1 tmp=0"
}

# refused DESCRIPTION STDERR_PATTERN STORE FILE [OPTIONS...]: fetch exits 1
# with stderr matching the pattern, prints nothing on stdout, and leaves no
# record, no blob and no temporary (no left-over GNUPGHOME) in STORE.
refused() {
  local desc=$1 pattern=$2 store=$3 file=$4
  shift 4
  check_rejects "$desc" "$pattern" $T "$ACTOOL" --dir="$store" "$@" fetch "$file"
  is "$desc: nothing on stdout" "$(cat "$TMP/.out")" ""
  is "$desc: nothing stored, tmp/ empty" "$(state "$store")" "images=0 blobs=0 tmp=0"
}

# --- keys and images ------------------------------------------------------------

newkey K_APP app@example.com
newkey K_ROOT root@example.com
newkey K_OTHER other@example.com
# A primary key that only certifies, with a subkey that signs.
newkey K_PRIMARY sub@example.com cert
if gpgt --quick-add-key "$K_PRIMARY" ed25519 sign never >"$TMP/.gpg" 2>&1; then
  ok "add a signing subkey"
else
  not_ok "add a signing subkey"
  note "$(cat "$TMP/.gpg")"
fi

mkaci ID_APP example.com/app "$IN/app.aci"
mkaci ID_APPX example.com/app/x "$IN/appx.aci"
mkaci ID_APPLICATION example.com/application "$IN/application.aci"
mkaci ID_HELLO example.com/hello "$IN/hello.aci"
sign "$K_APP" "$IN/app.aci"
sign "$K_APP" "$IN/appx.aci"
sign "$K_APP" "$IN/application.aci"
sign "$K_ROOT" "$IN/hello.aci"

# --- accepted ---------------------------------------------------------------------

S=$(new_store prefix)
trust_key "$S" example.com/app "$K_APP"
fetch_ok "a good signature by a key trusted for the name's prefix imports the image" \
  "$S" "$IN/app.aci" "$ID_APP"

# One read: the file is verified and imported from the same bytes.  A FIFO
# can be read only once; an implementation that verified the file and then
# read it again to import it would wait for ever here.
S=$(new_store fifo)
trust_key "$S" example.com/app "$K_APP"
mkfifo "$IN/fifo.aci"
cp "$IN/app.aci.asc" "$IN/fifo.aci.asc"
(cat "$IN/app.aci" >"$IN/fifo.aci") &
writer=$!
fetch_ok "a signed image is read once: verified and imported from one read of a FIFO" \
  "$S" "$IN/fifo.aci" "$ID_APP"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
rm -f "$IN/fifo.aci" "$IN/fifo.aci.asc"

# A signature that is a FIFO nobody writes to is refused at once, not
# waited for (a hostile directory must not hang a fetch).
cp "$IN/app.aci" "$IN/fifosig.aci"
mkfifo "$IN/fifosig.aci.asc"
check_rejects "a signature file that is a FIFO is refused, not waited on" \
  "fifosig\.aci\.asc: not a regular file" timeout 20 "$ACTOOL" --dir="$S" fetch "$IN/fifosig.aci"
rm -f "$IN/fifosig.aci" "$IN/fifosig.aci.asc"

S=$(new_store prefix-below)
trust_key "$S" example.com/app "$K_APP"
fetch_ok "a key trusted for example.com/app covers example.com/app/x" "$S" "$IN/appx.aci" "$ID_APPX"

S=$(new_store debug)
trust_key "$S" example.com "$K_APP"
run_capture $T "$ACTOOL" --dir="$S" --debug fetch "$IN/app.aci"
cp "$TMP/.err" "$TMP/debug.err"
is "--debug: the fetch succeeds" "$status:$(cat "$TMP/.out")" "0:$ID_APP"
check "--debug names the key that signed and its trusted key file" grep -Eq \
  "app\.aci: good signature by key $K_APP \(trust/prefix\.d/example\.com/$K_APP, trusted for example\.com\)" \
  "$TMP/debug.err"

S=$(new_store root)
trust_key "$S" root "$K_ROOT"
fetch_ok "a good signature by a root.d key imports the image" "$S" "$IN/hello.aci" "$ID_HELLO"

S=$(new_store lower-case)
trust_key "$S" root "$K_ROOT" "$(printf '%s' "$K_ROOT" | tr A-F a-f)"
fetch_ok "a key file named by the fingerprint in lower case (as rkt writes them) is used" \
  "$S" "$IN/hello.aci" "$ID_HELLO"

cp "$IN/hello.aci" "$IN/sub.aci"
# No "!" after the key: gpg picks the signing subkey.
gpgt --yes --local-user "$K_PRIMARY" --armor --output "$IN/sub.aci.asc" --detach-sign "$IN/sub.aci"
S=$(new_store subkey)
trust_key "$S" example.com/hello "$K_PRIMARY"
fetch_ok "a signature by a signing subkey of a trusted key imports the image" \
  "$S" "$IN/sub.aci" "$ID_HELLO" --debug
grep -E "good signature" "$TMP/.err" >"$TMP/debug.err"
check "--debug names the subkey and its primary key" \
  grep -Eq "good signature by subkey [0-9A-F]{40} of key $K_PRIMARY \(trust/prefix\.d/example\.com/hello/" \
  "$TMP/debug.err"

cp "$IN/app.aci" "$IN/binary.aci"
gpgt --yes --local-user "$K_APP!" --output "$IN/binary.aci.asc" --detach-sign "$IN/binary.aci"
S=$(new_store binary)
trust_key "$S" example.com/app "$K_APP"
fetch_ok "a binary (unarmored) signature is accepted too" "$S" "$IN/binary.aci" "$ID_APP"

# A signature of canonical text (gpg --textmode, or a clearsigned text)
# holds for the file with its line endings changed: another image, which
# it must not let in.  Two images differing only in "\r\n" and "\n":
mkdir -p "$TMP/layouts/crlf/rootfs" "$TMP/layouts/lf/rootfs"
mf example.com/app >"$TMP/layouts/crlf/manifest"
cp "$TMP/layouts/crlf/manifest" "$TMP/layouts/lf/manifest"
printf 'echo safe\r\necho x\n' >"$TMP/layouts/crlf/rootfs/script"
printf 'echo safe\necho x\r\n' >"$TMP/layouts/lf/rootfs/script"
"$ACTOOL" build --no-compression "$TMP/layouts/crlf" "$IN/crlf.aci" >/dev/null &&
  "$ACTOOL" build --no-compression "$TMP/layouts/lf" "$IN/lf.aci" >/dev/null
sign "$K_APP" "$IN/crlf.aci" "$IN/lf.aci.asc" --textmode
if gpgt --verify "$IN/lf.aci.asc" "$IN/lf.aci" 2>/dev/null; then
  ok "gpg itself takes the text signature of one image for the other"
else
  not_ok "gpg itself takes the text signature of one image for the other"
fi
S=$(new_store textmode)
trust_key "$S" example.com/app "$K_APP"
refused "a signature of canonical text (--textmode) is refused" 'type 0x01 \(canonical text\)' \
  "$S" "$IN/lf.aci"
gpgt --yes --local-user "$K_APP!" --output "$IN/lf.aci.asc" --clearsign "$IN/lf.aci" 2>/dev/null
refused "a clearsigned text as the signature is refused" 'type 0x01' "$S" "$IN/lf.aci"
sign "$K_APP" "$IN/lf.aci" "$IN/lf.aci.asc" --digest-algo SHA1
refused "a signature over a SHA-1 digest is refused" 'SHA-1 digest' "$S" "$IN/lf.aci"
sign "$K_APP" "$IN/lf.aci" "$IN/lf.aci.asc" --digest-algo SHA256
fetch_ok "the same with a binary signature over SHA-256 imports the image" "$S" "$IN/lf.aci" \
  "$("$ACTOOL" build --no-compression --overwrite "$TMP/layouts/lf" "$TMP/lf-id.aci")"

S=$(new_store unrelated-debris)
trust_key "$S" example.com/app "$K_APP"
mkdir -p "$S/trust/prefix.d/example.com/other"
echo "not a key" >"$S/trust/prefix.d/example.com/other/notes.txt"
echo "a temporary" >"$S/trust/prefix.d/example.com/app/.tmp-key"
fetch_ok "key files of other prefixes and hidden temporaries are not read" "$S" "$IN/app.aci" "$ID_APP"

S=$(new_store insecure)
cp "$IN/hello.aci" "$IN/unsigned.aci"
fetch_ok "--insecure-options=image imports an image that has no signature" \
  "$S" "$IN/unsigned.aci" "$ID_HELLO" --insecure-options=image

# --- refused ------------------------------------------------------------------------

S=$(new_store unsigned)
trust_key "$S" root "$K_ROOT"
refused "no .asc: refused, naming the file and the way to import it unverified" \
  'unsigned\.aci: no signature \(.*unsigned\.aci\.asc not found\) \(use --insecure-options=image' \
  "$S" "$IN/unsigned.aci"

S=$(new_store no-keys)
refused "no trusted key at all: refused, saying there is none" \
  "app\.aci\.asc: signed by key $K_APP which is not trusted for example\.com/app \(trusted keys: none\)" \
  "$S" "$IN/app.aci"

S=$(new_store other-prefix)
trust_key "$S" example.com/other "$K_APP"
trust_key "$S" example.com/app "$K_OTHER"
refused "a key trusted only for example.com/other does not cover example.com/app" \
  "app\.aci\.asc: signed by key $K_APP which is not trusted for example\.com/app \(trusted keys: $K_OTHER\)" \
  "$S" "$IN/app.aci"

S=$(new_store boundary)
trust_key "$S" example.com/app "$K_APP"
refused "a key trusted for example.com/app does not cover example.com/application" \
  "application\.aci\.asc: signed by key $K_APP which is not trusted for example\.com/application" \
  "$S" "$IN/application.aci"

S=$(new_store below-only)
trust_key "$S" example.com/app/x "$K_APP"
refused "a key trusted for example.com/app/x does not cover example.com/app" \
  "not trusted for example\.com/app " "$S" "$IN/app.aci"

cp "$IN/app.aci" "$IN/tampered.aci"
sign "$K_APP" "$IN/tampered.aci"
size=$(stat -c %s "$IN/tampered.aci")
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$IN/tampered.aci" | tr -d ' ')
printf "\\$(printf '%03o' $(((byte + 1) % 256)))" |
  dd of="$IN/tampered.aci" bs=1 seek=$((size / 2)) conv=notrunc status=none
check "the tampered copy differs from the signed file by one byte" \
  test "$(cmp -l "$IN/app.aci" "$IN/tampered.aci" | wc -l)" -eq 1
S=$(new_store tampered)
trust_key "$S" example.com/app "$K_APP"
refused "an ACI changed after signing is refused: bad signature" \
  'tampered\.aci\.asc: bad signature: .*tampered\.aci is not the file that was signed' "$S" "$IN/tampered.aci"

cp "$IN/app.aci" "$IN/garbage.aci"
printf 'this is not a signature\n' >"$IN/garbage.aci.asc"
S=$(new_store garbage)
trust_key "$S" example.com/app "$K_APP"
refused "a .asc that is garbage is refused" 'garbage\.aci\.asc: not an OpenPGP signature' \
  "$S" "$IN/garbage.aci"

cp "$IN/app.aci" "$IN/empty.aci"
: >"$IN/empty.aci.asc"
S=$(new_store empty)
trust_key "$S" example.com/app "$K_APP"
refused "an empty .asc is refused" 'empty\.aci\.asc: not an OpenPGP signature' "$S" "$IN/empty.aci"

# A signed message (gpg --sign: compressed data holding the file and its
# signature), where a detached signature belongs: refused from its packet
# headers, before gpg would unpack anything (nested compressed packets
# unpack to gigabytes).
cp "$IN/app.aci" "$IN/compressed.aci"
gpgt --yes --local-user "$K_APP!" --armor --compress-level 6 --output "$IN/compressed.aci.asc" \
  --sign "$IN/app.aci"
S=$(new_store compressed)
trust_key "$S" example.com/app "$K_APP"
refused "a .asc of compressed data is refused before gpg reads it" \
  'compressed\.aci\.asc: not an OpenPGP signature: .*packet of tag 8 \(compressed data\)' \
  "$S" "$IN/compressed.aci"

# The same hidden in the armor of a good signature, where gpg reads on
# ("=XX", quoted-printable to gpg; a line of dashes, which gpg skips):
# refused, naming the line.
for how in qp dash; do
  cp "$IN/app.aci" "$IN/$how.aci"
  sign "$K_APP" "$IN/$how.aci" "$TMP/$how.asc"
  python3 "$top_srcdir/tests/integration/armor-craft.py" "$how" "$TMP/$how.asc" "$IN/$how.aci.asc"
  S=$(new_store "$how")
  trust_key "$S" example.com/app "$K_APP"
  refused "a good signature hiding compressed packets in its armor ($how) is refused before gpg" \
    "$how\.aci\.asc: not an OpenPGP signature: line [0-9]+: (base64 after a '='|a line of dashes)" \
    "$S" "$IN/$how.aci"
done

cp "$IN/app.aci" "$IN/swapped.aci"
sign "$K_APP" "$IN/appx.aci" "$IN/swapped.aci.asc"
S=$(new_store swapped)
trust_key "$S" example.com/app "$K_APP"
refused "the signature of another file is refused" 'swapped\.aci\.asc: bad signature' \
  "$S" "$IN/swapped.aci"

cp "$IN/app.aci" "$IN/twice.aci"
gpgt --yes --local-user "$K_APP!" --output "$TMP/one.sig" --detach-sign "$IN/twice.aci"
gpgt --yes --local-user "$K_OTHER!" --output "$TMP/two.sig" --detach-sign "$IN/twice.aci"
cat "$TMP/one.sig" "$TMP/two.sig" >"$IN/twice.aci.asc"
S=$(new_store twice)
trust_key "$S" example.com/app "$K_APP"
trust_key "$S" example.com/app "$K_OTHER"
refused "a .asc holding two signatures is refused" 'twice\.aci\.asc: holds 2 signatures' \
  "$S" "$IN/twice.aci"

S=$(new_store misnamed)
trust_key "$S" example.com/app "$K_APP" "$K_OTHER"
refused "a key file holding another key than its name gives is refused, naming it" \
  "trust/prefix\.d/example\.com/app/$K_OTHER: holds key $K_APP, not the key its name gives" \
  "$S" "$IN/app.aci"

S=$(new_store two-keys)
mkdir -p "$S/trust/root.d"
gpgt --armor --export "$K_APP" "$K_OTHER" >"$S/trust/root.d/$K_APP"
refused "a key file holding two keys is refused, naming it" \
  "trust/root\.d/$K_APP: holds 2 keys" "$S" "$IN/app.aci"

S=$(new_store badname)
mkdir -p "$S/trust/prefix.d/example.com"
gpgt --armor --export "$K_APP" >"$S/trust/prefix.d/example.com/app-key.asc"
refused "a file in a trusted key directory not named by a fingerprint is refused, naming it" \
  "trust/prefix\.d/example\.com/app-key\.asc: not a trusted key file" "$S" "$IN/app.aci"

# Revoked: sign, then revoke the key with the certificate gpg made for it.
newkey K_REVOKED revoked@example.com
cp "$IN/app.aci" "$IN/revoked.aci"
sign "$K_REVOKED" "$IN/revoked.aci"
sed 's/^:-----/-----/' "$G/openpgp-revocs.d/$K_REVOKED.rev" >"$TMP/revoke.asc"
gpgt --import "$TMP/revoke.asc" >"$TMP/.gpg" 2>&1
check "the key is revoked" grep -q '^pub:r:' <(gpgt --with-colons --list-keys "$K_REVOKED")
S=$(new_store revoked)
trust_key "$S" example.com/app "$K_REVOKED"
refused "a signature by a revoked key is refused" \
  "revoked\.aci\.asc: signed by key $K_REVOKED, which has been revoked" "$S" "$IN/revoked.aci"

# Expired: a key made ten days ago that expired a day later, and a
# signature made while it was valid.
past=$(($(date +%s) - 10 * 86400))
newkey K_EXPIRED expired@example.com sign 1d --faked-system-time "$past"
cp "$IN/app.aci" "$IN/expired.aci"
sign "$K_EXPIRED" "$IN/expired.aci" "$IN/expired.aci.asc" --faked-system-time "$past"
check "the key has expired" grep -q '^pub:e:' <(gpgt --with-colons --list-keys "$K_EXPIRED")
S=$(new_store expired)
trust_key "$S" example.com/app "$K_EXPIRED"
refused "a signature by an expired key is refused" \
  "expired\.aci\.asc: signed by key $K_EXPIRED, which has expired" "$S" "$IN/expired.aci"

# Dated in the future: gpg finds such a signature good.  Ten minutes ahead
# is a signer's clock drifting; two days ahead is a claim to refuse.
S=$(new_store future)
trust_key "$S" example.com/app "$K_APP"
cp "$IN/app.aci" "$IN/future.aci"
sign "$K_APP" "$IN/future.aci" "$IN/future.aci.asc" --faked-system-time "$(($(date +%s) + 2 * 86400))"
refused "a signature dated two days ahead is refused, with its date" \
  "future\.aci\.asc: the signature by key $K_APP is dated [0-9-]+T[0-9:]+Z, in the future" \
  "$S" "$IN/future.aci"
sign "$K_APP" "$IN/future.aci" "$IN/future.aci.asc" --faked-system-time "$(($(date +%s) + 600))"
fetch_ok "a signature dated ten minutes ahead (clock skew) is taken" "$S" "$IN/future.aci" "$ID_APP"

# --- several files, one refused ------------------------------------------------------

S=$(new_store mixed)
trust_key "$S" root "$K_ROOT"
run_capture $T "$ACTOOL" --dir="$S" fetch "$IN/unsigned.aci" "$IN/hello.aci"
is "one refused file among several: exit 1, the good one still imported and printed" \
  "$status:$(cat "$TMP/.out"):$(state "$S")" "1:$ID_HELLO:images=1 blobs=1 tmp=0"

# --- the store's own users --------------------------------------------------------------

S=$(new_store maintenance)
trust_key "$S" example.com/app "$K_APP"
fetch_ok "signed fetch into a store" "$S" "$IN/app.aci" "$ID_APP"
check "image verify accepts a store holding trusted keys" $T "$ACTOOL" --dir="$S" image verify
check "image gc accepts it" $T "$ACTOOL" --dir="$S" image gc --grace=0s
check "gc leaves the trusted keys alone" test -s "$S/trust/prefix.d/example.com/app/$K_APP"

# No gpg-agent (or any other process) was left running on a store's
# temporary GNUPGHOME.
ps -eo args= >"$TMP/ps"
is "no process left running in a store" "$(grep -cF "$STORES/" "$TMP/ps")" 0

done_testing
