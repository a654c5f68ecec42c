#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool trust (docs/trust.md): adding keys from files with and without the
# fingerprint review, --list, --rm, and fetch honouring what trust placed.
# Keys from URLs and discovery are covered by the network tests.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

T="timeout 60"
G=$TMP/gnupg
S=$TMP/store
mkdir -m 0700 "$G"
# Making keys starts a gpg-agent for $G: stop it with the test.
trap 'for h in "$G" "$TMP/dsa-gnupg"; do gpgconf --homedir "$h" --kill gpg-agent >/dev/null 2>&1; done
  rm -rf "$TMP"' EXIT

for tool in gpg script jq; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    not_ok "$tool is installed"
    done_testing
    exit 1
  fi
done

gpgt() { gpg --batch --quiet --homedir "$G" --passphrase '' --pinentry-mode loopback "$@"; }
fpr() { gpgt --with-colons --list-keys "<$1>" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'; }

# newkey VAR NAME EMAIL: a new signing key, its fingerprint in VAR.
newkey() {
  gpgt --quick-gen-key "$2 <$3>" ed25519 sign never >"$TMP/.gpg" 2>&1
  printf -v "$1" '%s' "$(fpr "$3")"
  if [[ ${!1} =~ ^[0-9A-F]{40}$ ]]; then ok "key for $3"; else
    not_ok "key for $3"
    note "$(cat "$TMP/.gpg")"
  fi
}

# at_tty ANSWER COMMAND...: run COMMAND with a terminal on stdin that
# receives ANSWER; its output (the terminal's) in $TMP/tty, exit in $status.
at_tty() {
  local answer=$1 cmd
  shift
  printf -v cmd '%q ' "$@"
  status=0
  printf '%s\n' "$answer" | $T script -qec "$cmd" /dev/null >"$TMP/tty" 2>&1 || status=$?
}

# trust ARGS...: actool trust, its output kept in $TMP/out and $TMP/err
# (check overwrites .out and .err with the output of the check itself).
trust() {
  run_capture $T "$ACTOOL" --dir="$S" trust "$@"
  cp "$TMP/.out" "$TMP/out"
  cp "$TMP/.err" "$TMP/err"
}

# grouped FPR: the fingerprint as gpg shows it, in blocks of four.
grouped() { printf '%s' "$1" | sed -E 's/(.{4})/\1 /g; s/ $//; s/^((.{4} ){5})/\1 /'; }

count() { if [ -d "$1" ]; then (cd "$1" && ls -A | wc -l); else echo 0; fi; }

newkey K_APP App app@example.com
newkey K_ROOT Root root@example.com
gpgt --armor --export "$K_APP" >"$TMP/app.asc"
gpgt --export "$K_APP" >"$TMP/app.gpg"
gpgt --armor --export "$K_ROOT" >"$TMP/root.asc"
gpgt --armor --export "$K_APP" "$K_ROOT" >"$TMP/both.asc"
echo "not a key" >"$TMP/garbage.asc"
# Key files are named by the fingerprint in lower case, as rkt names them
# (rkt refuses any other name).
APP_FILE=$S/trust/prefix.d/example.com/app/${K_APP,,}
ROOT_FILE=$S/trust/root.d/${K_ROOT,,}

# A signed image named example.com/app/hello.
mkdir -p "$TMP/layout/rootfs"
jq -cn '{acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/app/hello"}' \
  >"$TMP/layout/manifest"
run_capture "$ACTOOL" build "$TMP/layout" "$TMP/hello.aci"
ID=$(cat "$TMP/.out")
gpgt --yes --local-user "$K_APP!" --armor --output "$TMP/hello.aci.asc" --detach-sign "$TMP/hello.aci"
check "a signed image" test -s "$TMP/hello.aci.asc"

# --- usage ------------------------------------------------------------------------

check_fails "neither --prefix nor --root: usage error" 2 'exactly one of --prefix=PREFIX and --root' \
  $T "$ACTOOL" --dir="$S" trust --skip-fingerprint-review "$TMP/app.asc"
check_fails "both --prefix and --root: usage error" 2 'exactly one of' \
  $T "$ACTOOL" --dir="$S" trust --root --prefix=example.com --skip-fingerprint-review "$TMP/app.asc"
check_fails "--root without a key: usage error" 2 '--root needs KEYFILE or URL' \
  $T "$ACTOOL" --dir="$S" trust --root --skip-fingerprint-review
check_fails "a key from stdin cannot be reviewed: usage error" 2 'use --skip-fingerprint-review' \
  $T "$ACTOOL" --dir="$S" trust --root - <"$TMP/root.asc"
check_fails "--list with --rm: usage error" 2 'cannot be combined' \
  $T "$ACTOOL" --dir="$S" trust --list --rm "$K_APP"

# --- adding without review ----------------------------------------------------------

trust --prefix=example.com/app "$TMP/app.asc" </dev/null
is "without a terminal and without --skip-fingerprint-review: refused (exit 1)" \
  "$status:$(cat "$TMP/out")" "1:"
check "... saying to use --skip-fingerprint-review" \
  grep -q 'standard input is not a terminal.*use --skip-fingerprint-review' "$TMP/err"
is "... and nothing is trusted" "$(count "$S/trust")" 0

trust --prefix=example.com/app --skip-fingerprint-review "$TMP/app.asc" </dev/null
is "--skip-fingerprint-review: exit 0, the fingerprint on stdout" \
  "$status:$(cat "$TMP/out")" "0:$K_APP"
check "... stderr says what was trusted, rkt's way" grep -qxF \
  "Trusting \"$TMP/app.asc\" for prefix \"example.com/app\" without fingerprint review." "$TMP/err"
check "... and where the key went" grep -qxF \
  "Added key for prefix \"example.com/app\" at \"$APP_FILE\"" "$TMP/err"
check "the key file is gpg's armored export" grep -q '^-----BEGIN PGP PUBLIC KEY BLOCK-----$' \
  "$APP_FILE"

trust --prefix=example.com/app --skip-fingerprint-review "$TMP/app.gpg"
is "adding the key again (binary this time): exit 0, its fingerprint" \
  "$status:$(cat "$TMP/out")" "0:$K_APP"
check "... reported as trusted already" grep -qF "Already trusted: key for prefix" "$TMP/err"
is "... and still one file" "$(count "$S/trust/prefix.d/example.com/app")" 1
is "the key file is named in lower case, as rkt writes it" \
  "$(ls "$S/trust/prefix.d/example.com/app")" "${K_APP,,}"

# A store written by an older actool (upper-case names) is still read, and
# adding the key again renames its file the rkt way.
mv "$APP_FILE" "$S/trust/prefix.d/example.com/app/$K_APP"
trust --prefix=example.com/app --skip-fingerprint-review "$TMP/app.asc"
is "an upper-case key file: re-adding it renames it to lower case" \
  "$status:$(ls "$S/trust/prefix.d/example.com/app")" "0:${K_APP,,}"
check "... reported as trusted already" grep -qF "Already trusted: key for prefix" "$TMP/err"

check_rejects "a file that is no key is refused, naming it" \
  "garbage\.asc: holds no OpenPGP public key" \
  $T "$ACTOOL" --dir="$S" trust --root --skip-fingerprint-review "$TMP/garbage.asc"
check_rejects "a file holding two keys is refused" "both\.asc: holds 2 keys" \
  $T "$ACTOOL" --dir="$S" trust --root --skip-fingerprint-review "$TMP/both.asc"
# A key whose armor hides compressed packets where gpg reads on ("=XX",
# quoted-printable to gpg; a line of dashes, which gpg skips): refused,
# naming the line, before gpg would unpack them.
for how in qp dash; do
  python3 "$top_srcdir/tests/integration/armor-craft.py" "$how" "$TMP/root.asc" "$TMP/$how.asc"
  check_rejects "a key hiding compressed packets in its armor ($how) is refused before gpg" \
    "$how\.asc: holds no OpenPGP public key: line [0-9]+: (base64 after a '='|a line of dashes)" \
    $T "$ACTOOL" --dir="$S" trust --root --skip-fingerprint-review "$TMP/$how.asc"
done
check_rejects "a missing file is refused, naming it" "nowhere\.asc: No such file" \
  $T "$ACTOOL" --dir="$S" trust --root --skip-fingerprint-review "$TMP/nowhere.asc"
check_rejects "a prefix with a .. component is refused" "path component" \
  $T "$ACTOOL" --dir="$S" trust --prefix=example.com/../x --skip-fingerprint-review "$TMP/app.asc"
is "refusals create no root.d" "$(count "$S/trust/root.d")" 0

# --- the review ---------------------------------------------------------------------

at_tty no "$ACTOOL" --dir="$S" trust --root "$TMP/root.asc"
is "answering no: exit 1" "$status" 1
check "... the review shows the fingerprint grouped as gpg does" \
  grep -qF "gpg key fingerprint is: $(grouped "$K_ROOT")" "$TMP/tty"
check "... and the user ID" grep -qF "Root <root@example.com>" "$TMP/tty"
check "... and asks" grep -qF "Are you sure you want to trust this key (yes/no)?" "$TMP/tty"
check "... then says the key is not trusted" grep -qF "Not trusting \"$TMP/root.asc\"" "$TMP/tty"
check "... and nothing is written" test ! -e "$ROOT_FILE"

# A user ID is the key maker's text: an escape sequence in it must not
# reach the terminal, where it could rewrite the fingerprint line.
gpgt --quick-gen-key "$(printf 'Evil \033[1A\033[2K\rgpg key fingerprint is: 1111 <evil@example.com>')" \
  ed25519 sign never >/dev/null 2>&1
gpgt --armor --export evil@example.com >"$TMP/evil.asc"
at_tty no "$ACTOOL" --dir="$S" trust --prefix=example.com "$TMP/evil.asc"
is "a user ID's escape sequences reach the terminal escaped, not as control characters" \
  "$(grep -c $'\033' "$TMP/tty"):$(grep -c 'Evil \\x1b\[1A\\x1b\[2K\\x0dgpg' "$TMP/tty")" "0:1"

at_tty yes "$ACTOOL" --dir="$S" trust --root "$TMP/root.asc"
is "answering yes: exit 0" "$status" 0
check "... trusted after review" \
  grep -qF "Trusting \"$TMP/root.asc\" as a root key after fingerprint review." "$TMP/tty"
check "... as a root key" grep -qF "Added root key at \"$ROOT_FILE\"" "$TMP/tty"
check "... the key file is there" test -s "$ROOT_FILE"

# --- listing ------------------------------------------------------------------------

trust --list
is "--list: exit 0" "$status" 0
check "--list: the legend" grep -qE '^PREFIX +FINGERPRINT +USER-ID$' "$TMP/out"
check "--list: the root key" grep -qE "^\(root\) +$K_ROOT +Root <root@example\.com>$" "$TMP/out"
check "--list: the prefix key" \
  grep -qE "^example\.com/app +$K_APP +App <app@example\.com>$" "$TMP/out"
is "--list: one line per key" "$(wc -l <"$TMP/out")" 3

trust --list --root --no-legend
is "--list --root --no-legend: the root key alone" "$status:$(awk '{ print $2 }' "$TMP/out")" \
  "0:$K_ROOT"
trust --list --json --prefix=example.com/app
is "--list --json --prefix: the prefix's key" \
  "$status:$(jq -r '.[] | "\(.prefix) \(.fingerprint) \(.userID) \(.file)"' "$TMP/out")" \
  "0:example.com/app $K_APP App <app@example.com> $APP_FILE"
is "--list --json: each object's keys are those docs/trust.md names" \
  "$(jq -c '.[0] | keys_unsorted' "$TMP/out")" \
  "[$(grep -o '`{"prefix", [^`]*}`' "$top_srcdir/docs/trust.md" | tr -d '`{} ')]"

# A user ID and a key store's file name that are not UTF-8, which JSON is:
# each byte that is no part of UTF-8 written as U+FFFD.
newkey K_BAD "$(printf 'Bad\xff\xfe')" bad@example.com
gpgt --armor --export "$K_BAD" >"$TMP/bad.asc"
U=$TMP/utf8-store
run_capture $T "$ACTOOL" --dir="$U" trust --root --skip-fingerprint-review "$TMP/bad.asc"
printf 'a note\n' >"$U/trust/root.d/$(printf 'note\xff')"
run_capture $T "$ACTOOL" --dir="$U" trust --list --json
cp "$TMP/.out" "$TMP/list.json"
check "--list --json of a user ID and a file name not in UTF-8: JSON in UTF-8" \
  utf8_json "$TMP/list.json"
is "... their bytes that are no UTF-8 written U+FFFD" \
  "$(jq -r '.[] | .userID // .file' "$TMP/list.json" | sort)" \
  "$(printf '%s\n' "$U/trust/root.d/note$(printf '\uFFFD')" "Bad$(printf '\uFFFD\uFFFD') <bad@example.com>" | sort)"

# --- fetch with a key placed by trust, then removed -------------------------------------

run_capture $T "$ACTOOL" --dir="$S" fetch "$TMP/hello.aci"
is "fetch verifies with the key that trust added" "$status:$(cat "$TMP/.out")" "0:$ID"

trust --rm "$(printf '%s' "$K_APP" | tr A-F a-f)"
is "--rm (lower case): exit 0, nothing on stdout" "$status:$(cat "$TMP/out")" "0:"
check "... stderr names what was removed" \
  grep -qF "Removed key $K_APP for prefix \"example.com/app\" (\"$APP_FILE\")" "$TMP/err"
check "... the key file is gone" test ! -e "$APP_FILE"
check "... the root key stays" test -s "$ROOT_FILE"

check_rejects "fetch refuses once the key is removed" \
  "hello\.aci\.asc: signed by key $K_APP which is not trusted for example\.com/app/hello" \
  $T "$ACTOOL" --dir="$S" --insecure-options=none fetch "$TMP/hello.aci"
# A revocation held by one of a key's files survives adding the key again:
# an upper-case file (older actool, docs/trust.md's by-hand recipe) without
# it and a lower-case one with it are merged, not renamed one over the other.
newkey K_REV Rev rev@example.com
cp "$TMP/hello.aci" "$TMP/rev.aci"
gpgt --yes --local-user "$K_REV!" --armor --output "$TMP/rev.aci.asc" --detach-sign "$TMP/rev.aci"
gpgt --armor --export "$K_REV" >"$TMP/rev-unrevoked.asc"
sed 's/^:-----/-----/' "$G/openpgp-revocs.d/$K_REV.rev" | gpgt --import 2>/dev/null
gpgt --armor --export "$K_REV" >"$TMP/rev-revoked.asc"
R=$TMP/revstore
mkdir -p "$R/trust/prefix.d/example.com/app"
cp "$TMP/rev-unrevoked.asc" "$R/trust/prefix.d/example.com/app/$K_REV"
cp "$TMP/rev-revoked.asc" "$R/trust/prefix.d/example.com/app/${K_REV,,}"
check_rejects "a revocation in one of a key's two files refuses its signatures" "revoked" \
  $T "$ACTOOL" --dir="$R" fetch "$TMP/rev.aci"
run_capture $T "$ACTOOL" --dir="$R" trust --prefix=example.com/app --skip-fingerprint-review \
  "$TMP/rev-unrevoked.asc"
is "adding the unrevoked key again leaves one file, lower case" \
  "$status:$(ls "$R/trust/prefix.d/example.com/app")" "0:${K_REV,,}"
check_rejects "... which keeps the revocation: the signature is still refused" "revoked" \
  $T "$ACTOOL" --dir="$R" fetch "$TMP/rev.aci"

check_rejects "--rm of a key that is not trusted fails" "$K_APP: no such trusted key" \
  $T "$ACTOOL" --dir="$S" trust --rm "$K_APP"
check_fails "--rm of a short key ID is a usage error (exit 2)" 2 "--rm: .*not a key fingerprint" \
  $T "$ACTOOL" --dir="$S" trust --rm "${K_ROOT:24}"

trust --root --skip-fingerprint-review - <"$TMP/app.asc"
is "a key from standard input (-) with --skip-fingerprint-review" "$status:$(cat "$TMP/out")" \
  "0:$K_APP"
check "... named so" grep -qF "Trusting \"standard input\" as a root key" "$TMP/err"
trust --rm "$K_APP" --root
is "--rm --root" "$status" 0

echo "a note" >"$S/trust/root.d/notes.txt"
trust --list
is "--list with a misplaced file: exit 1, the file still listed" \
  "$status:$(grep -c 'notes\.txt' "$TMP/out")" "1:1"
check "... and named on stderr with the reason" \
  grep -qF "$S/trust/root.d/notes.txt: not a trusted key file" "$TMP/err"
rm "$S/trust/root.d/notes.txt" "$ROOT_FILE"
trust --list
is "--list of an empty key store: the legend alone" "$status:$(cat "$TMP/out")" \
  "0:PREFIX  FINGERPRINT  USER-ID"

# --- signing (actool sign; the round trip through fetch is in fetch-net.sh) --------------

# sign ARGS...: actool sign with $G as the keyring, its stderr kept in $TMP/err.
sign() {
  run_capture $T env GNUPGHOME="$G" "$ACTOOL" sign "$@"
  cp "$TMP/.err" "$TMP/err"
}
# verified ASC FILE: gpg's word on ASC as a signature of FILE.
verified() { gpgt --verify "$1" "$2" >/dev/null 2>&1 && echo verified || echo "not verified"; }

sign --key="$K_APP" --output="$TMP/s.asc" "$TMP/hello.aci"
is "sign --key=FINGERPRINT --output=FILE: a signature gpg verifies" \
  "$status:$(verified "$TMP/s.asc" "$TMP/hello.aci")" "0:verified"

# "-" is standard output, as for build, patch-manifest and image export.
mkdir -p "$TMP/dash"
run_capture env -C "$TMP/dash" GNUPGHOME="$G" "$ACTOOL" sign --key="$K_APP" --output=- "$TMP/hello.aci"
is "sign --output=-: the signature on stdout, gpg verifies it, no file \"-\"" \
  "$status:$(verified "$TMP/.out" "$TMP/hello.aci"):$(ls -A "$TMP/dash")" "0:verified:"

# --key takes what gpg --local-user takes: a user ID (or a part of one) too.
sign --key=App --output="$TMP/uid.asc" "$TMP/hello.aci"
is "sign --key=USER-ID: a signature gpg verifies" \
  "$status:$(verified "$TMP/uid.asc" "$TMP/hello.aci")" "0:verified"
is "... made by that user's key" \
  "$(gpgt --status-fd 1 --verify "$TMP/uid.asc" "$TMP/hello.aci" 2>/dev/null | awk '$2 == "VALIDSIG" { print $3 }')" \
  "$K_APP"
sign --key=example.com --output="$TMP/ambiguous.asc" "$TMP/hello.aci"
is "sign --key=PATTERN matching several secret keys: refused (exit 1), nothing written" \
  "$status:$(test -e "$TMP/ambiguous.asc" && echo written)" "1:"
check "... as ambiguous, naming the keys" grep -Eq \
  "key example\.com: ambiguous, names [0-9]+ secret keys \(.*$K_APP.*\): give a fingerprint" "$TMP/err"
check "... each of them" grep -q "$K_ROOT" "$TMP/err"
sign --key=nobody@example.invalid --output="$TMP/nobody.asc" "$TMP/hello.aci"
is "sign --key=PATTERN matching no secret key: refused (exit 1)" "$status" 1
check "... saying so" grep -q 'key nobody@example\.invalid: no such secret key' "$TMP/err"

# The image is validated, then signed: both from one open file, so what is
# signed is what was validated.  A pipe cannot be read twice: refused.
sign --key="$K_APP" --output="$TMP/pipe.asc" /dev/stdin < <(cat "$TMP/hello.aci")
is "sign of a pipe: refused (exit 1), no signature written" \
  "$status:$(test -e "$TMP/pipe.asc" && echo written)" "1:"
check "... saying it is not a regular file" grep -q '/dev/stdin: not a regular file (a pipe' "$TMP/err"
mkfifo "$TMP/fifo.aci"
sign --key="$K_APP" "$TMP/fifo.aci"
is "sign of a FIFO without a writer: refused at once, not waited on" \
  "$status:$(test -e "$TMP/fifo.aci.asc" && echo written)" "1:"

# An --output that is the image itself, or a hard link to it: refused
# before anything is written, the image left as it was.
cp "$TMP/hello.aci" "$TMP/self.aci"
ln "$TMP/self.aci" "$TMP/self-link.aci"
for out in self.aci self-link.aci; do
  sign --key="$K_APP" --output="$TMP/$out" "$TMP/self.aci"
  is "sign --output=$out (the image $([ $out = self.aci ] && echo itself || echo "by a hard link")): refused, the image kept" \
    "$status:$(cmp -s "$TMP/self.aci" "$TMP/hello.aci" && echo kept)" "1:kept"
  check "... saying so" grep -q "$out: is $TMP/self.aci, the file being signed" "$TMP/err"
done

# An existing signature file is kept unless --overwrite (as build's OUT).
echo "a release signature" >"$TMP/kept.asc"
sign --key="$K_APP" --output="$TMP/kept.asc" "$TMP/hello.aci"
is "sign over an existing signature file: refused (exit 1), the file kept" \
  "$status:$(cat "$TMP/kept.asc")" "1:a release signature"
check "... saying how to replace it" grep -q "kept.asc: refusing to replace an existing file (use --overwrite to replace it)" "$TMP/err"
cp "$TMP/hello.aci" "$TMP/default.aci"
echo "a release signature" >"$TMP/default.aci.asc"
sign --key="$K_APP" "$TMP/default.aci"
is "... the default IMAGE.aci.asc too" "$status:$(cat "$TMP/default.aci.asc")" "1:a release signature"
sign --key="$K_APP" --overwrite "$TMP/default.aci"
is "sign --overwrite replaces it" "$status:$(verified "$TMP/default.aci.asc" "$TMP/default.aci")" "0:verified"
# gpg takes the digest and the signature's type from gpg.conf and the key:
# a signature that fetch would refuse is not written, and the reason said.
cp "$TMP/hello.aci" "$TMP/conf.aci"
for conf in "digest-algo SHA1" textmode; do
  printf '%s\n' "$conf" >"$G/gpg.conf"
  sign --key="$K_APP" "$TMP/conf.aci"
  rm "$G/gpg.conf"
  is "sign with \"$conf\" in gpg.conf: refused (exit 1), no IMAGE.aci.asc" \
    "$status:$(test -e "$TMP/conf.aci.asc" && echo written)" "1:"
  check "... saying why, and where gpg took it from" grep -Eq \
    "conf\.aci: gpg made a signature that fetch would refuse, so none is written: .*conf\.aci\.asc: a signature (over a SHA-1 digest|of type 0x01 \(canonical text\)).* the gpg\.conf of GNUPGHOME's keyring $G" \
    "$TMP/err"
done
mkdir -m 700 "$TMP/dsa-gnupg"
gpg --batch --quiet --homedir "$TMP/dsa-gnupg" --passphrase '' --pinentry-mode loopback \
  --quick-gen-key "Old <old@example.com>" dsa1024 sign never >"$TMP/.gpg" 2>&1
cp "$TMP/hello.aci" "$TMP/dsa.aci"
run_capture $T env GNUPGHOME="$TMP/dsa-gnupg" "$ACTOOL" sign "$TMP/dsa.aci"
cp "$TMP/.err" "$TMP/err"
gpgconf --homedir "$TMP/dsa-gnupg" --kill gpg-agent >/dev/null 2>&1
is "sign with a DSA key of 1024 bits (SHA-1 to gpg): refused (exit 1), no IMAGE.aci.asc" \
  "$status:$(test -e "$TMP/dsa.aci.asc" && echo written)" "1:"
check "... saying why" grep -q "dsa\.aci\.asc: a signature over a SHA-1 digest" "$TMP/err"

# A keyring without a secret key: said so, naming it, and how to get one.
mkdir -m 700 "$TMP/empty-gnupg"
run_capture $T env GNUPGHOME="$TMP/empty-gnupg" "$ACTOOL" sign --output="$TMP/none.asc" "$TMP/hello.aci"
cp "$TMP/.err" "$TMP/err"
is "sign with a keyring holding no secret key: refused (exit 1), nothing written" \
  "$status:$(ls "$TMP/none.asc" 2>&1 | grep -c 'No such')" "1:1"
check "... naming the keyring, gpg --gen-key and --key" grep -q \
  "no secret key in GNUPGHOME's keyring $TMP/empty-gnupg (make one with 'gpg --gen-key', .*--key)" "$TMP/err"
gpgconf --homedir "$TMP/empty-gnupg" --kill gpg-agent >/dev/null 2>&1

is "no temporary left in the store" "$(count "$S/tmp")" 0
ps -eo args= >"$TMP/ps"
is "no process left running in the store" "$(grep -cF "$S/" "$TMP/ps")" 0

done_testing
