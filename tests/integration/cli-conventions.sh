#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The conventions of issue 18 section 4 that need images and a store:
# messages that say what to do, unknown manifest keys reported as warnings,
# "-" for standard output, scripting output (-q, --json, filters) and
# progress lines.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
command -v jq >/dev/null || skip_all "jq is needed"

S=$TMP/store
ac() { timeout 60 "$ACTOOL" --dir="$S" --insecure-options=image "$@"; }

# layout DIR MANIFEST-JSON: an image layout with one file.
layout() {
  rm -rf "$1"
  mkdir -p "$1/rootfs/etc"
  printf '%s' "$2" >"$1/manifest"
  echo data >"$1/rootfs/etc/data"
}
mf() {
  printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"%s","labels":[{"name":"version","value":"%s"}]%s}' \
    "$1" "$2" "${3:-}"
}
layout "$TMP/a" "$(mf example.com/alpha 1.0)"
layout "$TMP/b" "$(mf example.com/beta 2.0)"
layout "$TMP/c" "$(mf example.org/gamma 1.0)"
for x in a b c; do
  "$ACTOOL" build "$TMP/$x" "$TMP/$x.aci" >"$TMP/$x.id" || not_ok "build $x"
done
ID_A=$(cat "$TMP/a.id")

# --- Messages -------------------------------------------------------------
mkdir -p "$TMP/norootfs"
mf example.com/x 1 >"$TMP/norootfs/manifest"
check_rejects "a layout without rootfs/: says a layout needs one" \
  'rootfs.*an image layout needs a rootfs/ directory' "$ACTOOL" build "$TMP/norootfs" "$TMP/x.aci"
check_rejects "validate of a layout without rootfs/ says the same" \
  'an image layout needs a rootfs/ directory' "$ACTOOL" validate "$TMP/norootfs"
check_rejects "an existing output: the message names --overwrite" \
  'a\.aci: refusing to replace an existing file \(use --overwrite to replace it\)$' \
  "$ACTOOL" build "$TMP/a" "$TMP/a.aci"
check "--overwrite replaces it" "$ACTOOL" build --overwrite "$TMP/a" "$TMP/a.aci"

check "fetch a.aci" ac fetch "$TMP/a.aci" "$TMP/b.aci" "$TMP/c.aci"
# The library says the output exists (EEXIST); each command names its flag.
check_rejects "patch-manifest to an existing OUT: the message names --overwrite" \
  'b\.aci: refusing to replace an existing file \(use --overwrite to replace it\)$' \
  "$ACTOOL" patch-manifest --name=example.com/p "$TMP/a.aci" "$TMP/b.aci"
check_rejects "image export to an existing OUT: the same" \
  'b\.aci: refusing to replace an existing file \(use --overwrite to replace it\)$' \
  ac image export example.com/alpha "$TMP/b.aci"
mkdir -p "$TMP/full" && echo keep >"$TMP/full/keep"
for sub in render extract; do
  check_rejects "image $sub into a non-empty DEST: the message names --overwrite" \
    'full: already exists \(use --overwrite to replace it\)$' ac image "$sub" example.com/alpha "$TMP/full"
done
check_rejects "image bundle into a non-empty DIR: the same" \
  'full: already exists \(use --overwrite to replace it\)$' ac image bundle example.com/alpha "$TMP/full"
is "...and DEST is left as it was" "$(ls -A "$TMP/full")" keep
check_rejects "a name not in the store: image list and fetch suggested" \
  "example.com/nope: no such image in the store \(see 'actool image list'; 'actool fetch example.com/nope' adds it\)" \
  ac image cat-manifest example.com/nope
check_rejects "an ID not in the store: image list suggested" \
  "sha512-0123456789ab: no such image in the store \(see 'actool image list'\)$" \
  ac image export sha512-0123456789ab "$TMP/out.aci"
# An ID names content, not a place: run, fetch and layout init ask the
# store alone, never discovery (which would look up a host "sha512-…").
check_rejects "run of an ID not in the store: the same, no discovery" \
  "^actool: sha512-0123456789ab: no such image in the store \(see 'actool image list'\)$" \
  ac run sha512-0123456789ab
check_rejects "fetch of an ID not in the store: no discovery either" \
  "^actool: sha512-0123456789ab: no such image in the store" ac fetch sha512-0123456789ab
check_rejects "layout init --from an ID not in the store: the same" \
  "sha512-0123456789ab: no such image in the store \(see 'actool image list'\)$" \
  "$ACTOOL" layout init --layout="$TMP/from-id" --from=sha512-0123456789ab

echo "hello, not an image" >"$TMP/notes.txt"
check_rejects "validate of a text file says: not an ACI" 'notes\.txt: not an ACI .*nor a JSON manifest' \
  "$ACTOOL" validate "$TMP/notes.txt"
run_capture "$ACTOOL" validate "$TMP/notes.txt"
if ! grep -q 'invalid JSON' "$TMP/.err"; then ok "...and not \"invalid JSON\""; else not_ok "...and not \"invalid JSON\""; fi
cp "$TMP/notes.txt" "$TMP/notes.aci"
check_rejects "validate of a *.aci that is no archive: not an ACI" 'notes\.aci: not an ACI' \
  "$ACTOOL" validate "$TMP/notes.aci"
# The type is told by the content, not the name: a JSON manifest in a file
# named *.aci is a manifest, as the reference finds it.
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/t"}\n' >"$TMP/manifest.aci"
for t in "" --type=manifest; do
  run_capture "$ACTOOL" --debug validate $t "$TMP/manifest.aci"
  is "validate ${t:+$t }of a JSON manifest named *.aci: a valid ImageManifest" \
    "$status $(cat "$TMP/.err")" "0 $TMP/manifest.aci: valid ImageManifest"
done
run_capture "$ACTOOL" validate --json "$TMP/manifest.aci"
is "... whose --json type is ImageManifest" "$status $(jq -r '.[0].type' "$TMP/.out")" "0 ImageManifest"
check_rejects "... and with --type=appimage, not an ACI" 'manifest\.aci: not an ACI' \
  "$ACTOOL" validate --type=appimage "$TMP/manifest.aci"
printf '{"acKind":"ImageManifest",' >"$TMP/broken.aci"
check_rejects "a broken JSON manifest named *.aci says invalid JSON" 'broken\.aci: invalid JSON' \
  "$ACTOOL" validate "$TMP/broken.aci"
printf '{"acKind":"ImageManifest",' >"$TMP/broken.json"
check_rejects "a broken JSON manifest still says invalid JSON" 'broken\.json: invalid JSON' \
  "$ACTOOL" validate "$TMP/broken.json"

check_rejects "fetch of a missing hello.acii: no such file, no discovery" \
  'hello\.acii: no such file' ac fetch hello.acii
if ! grep -qiE 'ac-discovery|resolve|https://' "$TMP/.err"; then ok "...and no DNS lookup"; else
  not_ok "...and no DNS lookup"
  note "stderr: $(cat "$TMP/.err")"
fi
check_rejects "fetch of a missing app.aci.gz: no such file" 'app\.aci\.gz: no such file' ac fetch app.aci.gz

cp "$TMP/a.aci" "$TMP/same.aci"
sum=$(sha256sum <"$TMP/same.aci")
check_fails "patch-manifest IN IN needs --replace" 2 'same file: use --replace' \
  "$ACTOOL" patch-manifest --name=example.com/p "$TMP/same.aci" "$TMP/same.aci"
is "...and leaves IN alone" "$(sha256sum <"$TMP/same.aci")" "$sum"
ln -f "$TMP/same.aci" "$TMP/hardlink.aci"
check_fails "patch-manifest IN and a hard link to it needs --replace" 2 'same file' \
  "$ACTOOL" patch-manifest --overwrite --name=example.com/p "$TMP/same.aci" "$TMP/hardlink.aci"
check "patch-manifest --replace IN patches it" "$ACTOOL" patch-manifest --replace --name=example.com/p "$TMP/same.aci"
is "...to the new name" "$("$ACTOOL" cat-manifest "$TMP/same.aci" | jq -r .name)" example.com/p

# --- Unknown manifest keys: warnings, validation unchanged ----------------
layout "$TMP/typo" "$(mf example.com/typo 1 ',"acKnd":"x","app":{"exec":["/x"],"user":"0","group":"0","workingDir":"/srv"}')"
cp "$TMP/typo/manifest" "$TMP/typo.json"
# (check_fails with status 0: the command succeeds, stderr matches)
check_fails "validate of a manifest with unknown keys exits 0, warning: the JSON path and the key misspelt" 0 \
  'warning: .*typo\.json: acKnd: unknown key, ignored \(did you mean "acKind"\?\)' "$ACTOOL" validate "$TMP/typo.json"
check_fails "...a warning per key (app.workingDir)" 0 \
  'warning: .*typo\.json: app\.workingDir: unknown key, ignored \(did you mean "workingDirectory"\?\)' \
  "$ACTOOL" validate "$TMP/typo.json"
check_fails "validate of the layout warns too" 0 'typo/manifest: app\.workingDir: unknown key' \
  "$ACTOOL" validate "$TMP/typo"
check_fails "build warns and builds" 0 'acKnd: unknown key' "$ACTOOL" build "$TMP/typo" "$TMP/typo.aci"
check_fails "validate of the ACI warns" 0 'typo\.aci: app\.workingDir: unknown key' "$ACTOOL" validate "$TMP/typo.aci"
mf example.com/extra 1 ',"x-vendor-note":"kept","annotations":[{"name":"a","value":"b","nmae":"c"}]' >"$TMP/extra.json"
check_fails "a key like no known one is reported without a suggestion" 0 'x-vendor-note: unknown key, ignored$' \
  "$ACTOOL" validate "$TMP/extra.json"
check_fails "nested paths have indexes" 0 'annotations\[0\]\.nmae: unknown key, ignored \(did you mean "name"\?\)' \
  "$ACTOOL" validate "$TMP/extra.json"
run_capture "$ACTOOL" validate "$TMP/a/manifest"
is "a manifest with only known keys: no warning" "$status:$(cat "$TMP/.err")" "0:"
printf '{"acKnd":"ImageManifest","acVersion":"0.8.11","name":"example.com/k"}' >"$TMP/nokind.json"
check_fails "an invalid manifest (acKind missing) still fails, with the typo pointed at" 1 'did you mean "acKind"' \
  "$ACTOOL" validate "$TMP/nokind.json"
printf '{"acVersion":"0.8.11","acKind":"PodManifest","apps":[],"volumse":[]}' >"$TMP/pod.json"
check_fails "pod manifests too" 0 'pod\.json: volumse: unknown key, ignored \(did you mean "volumes"\?\)' \
  "$ACTOOL" validate "$TMP/pod.json"

# YAML manifests: the same check on the JSON document they stand for, so
# the same warnings with the same field paths, and the line of each key.
cat >"$TMP/typo.yaml" <<'YAML'
acKind: ImageManifest
acVersion: 0.8.11
name: example.com/typo
acKnd: x
labels:
  - name: version
    value: "1"
    vale: 2
app:
  exec: [/x]
  user: "0"
  group: "0"
  workingDir: /srv
YAML
run_capture "$ACTOOL" validate "$TMP/typo.yaml"
is "validate of a YAML manifest with unknown keys: exit 0, a warning per key with its line" \
  "$status:$(sed -n 's/^actool: warning: .*typo\.yaml:\([0-9]*: \)/\1/p' "$TMP/.err")" \
  "0:4: acKnd: unknown key, ignored (did you mean \"acKind\"?)
8: labels[0].vale: unknown key, ignored (did you mean \"value\"?)
13: app.workingDir: unknown key, ignored (did you mean \"workingDirectory\"?)"
"$ACTOOL" validate "$TMP/typo.json" 2>&1 >/dev/null | sed -n 's/^actool: warning: .*typo\.json: //p' >"$TMP/json-warnings"
is "...the warnings of its JSON form, path for path" \
  "$(sed -n 's/^actool: warning: .*typo\.yaml:[0-9]*: //p' "$TMP/.err" | grep -v vale)" "$(cat "$TMP/json-warnings")"
printf 'acKnd: ImageManifest\nacVersion: 0.8.11\nname: example.com/k\n' >"$TMP/nokind.yaml"
check_fails "a YAML manifest without acKind fails, with the typo pointed at" 1 \
  'nokind\.yaml:1: acKnd: unknown key, ignored \(did you mean "acKind"\?\)' "$ACTOOL" validate "$TMP/nokind.yaml"
mkdir -p "$TMP/typo-yaml/rootfs"
cp "$TMP/typo.yaml" "$TMP/typo-yaml/manifest.yaml"
check_fails "validate of a layout with manifest.yaml warns" 0 \
  'warning: .*typo-yaml/manifest\.yaml:13: app\.workingDir: unknown key, ignored \(did you mean "workingDirectory"\?\)' \
  "$ACTOOL" validate "$TMP/typo-yaml"
check_fails "build of it warns and builds" 0 'typo-yaml/manifest\.yaml:8: labels\[0\]\.vale: unknown key' \
  "$ACTOOL" build "$TMP/typo-yaml" "$TMP/typo-yaml.aci"
# A flood of unknown keys: the first 20 shown, then one line for the rest
# (each warning a single write(2), so that lines never interleave).
mf example.com/flood 1 ",$(seq -f '"k%g":1' 0 99999 | paste -sd,)" >"$TMP/flood.json"
run_capture "$ACTOOL" validate "$TMP/flood.json"
is "100,000 unknown keys: 20 warnings, then how many more, naming the file" \
  "$status:$(grep -c ': k[0-9]*: unknown key, ignored$' "$TMP/.err"):$(wc -l <"$TMP/.err"):$(tail -n 1 "$TMP/.err")" \
  "0:20:21:actool: warning: $TMP/flood.json: ... and 99980 more unknown keys, ignored"
run_capture "$ACTOOL" validate --json "$TMP/flood.json"
is "...validate --json has the same 21 warnings" \
  "$(jq -r '.[0].warnings | length, .[-1]' "$TMP/.out" 2>&1)" \
  "21
$TMP/flood.json: ... and 99980 more unknown keys, ignored"
if command -v strace >/dev/null; then
  # (LeakSanitizer cannot stop the world under a tracer: it would write its
  # own failure to stderr)
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
    strace -o "$TMP/trace" -e trace=write "$ACTOOL" validate "$TMP/flood.json" 2>/dev/null
  is "...each of the 21 lines written whole, in one write(2)" "$(grep -c '^write(2, ' "$TMP/trace")" 21
else
  skip "...each of the 21 lines written whole, in one write(2)" "strace not installed"
fi
{ printf 'acKind: ImageManifest\nacVersion: 0.8.11\nname: example.com/flood\n'; seq -f 'k%g: 1' 0 49999; } >"$TMP/flood.yaml"
run_capture timeout 20 "$ACTOOL" validate "$TMP/flood.yaml"
is "50,000 unknown keys of a YAML manifest: the same, at once (each key's line found in a table)" \
  "$status:$(grep -c 'flood\.yaml:[0-9]*: k[0-9]*: unknown key, ignored$' "$TMP/.err"):$(head -n 1 "$TMP/.err"):$(tail -n 1 "$TMP/.err")" \
  "0:20:actool: warning: $TMP/flood.yaml:4: k0: unknown key, ignored:actool: warning: $TMP/flood.yaml: ... and 49980 more unknown keys, ignored"
printf 'acKind: ImageManifest\nacVersion: 0.8.11\nname: example.com/clean\n' >"$TMP/clean.yaml"
run_capture "$ACTOOL" validate "$TMP/clean.yaml"
is "a YAML manifest with only known keys: no warning" "$status:$(cat "$TMP/.err")" "0:"

# --- "-" is standard output ------------------------------------------------
ac image export example.com/alpha - >"$TMP/exported.aci"
is "image export IMG - writes the ACI to stdout" "$(sha256sum <"$TMP/exported.aci")" "$(sha256sum <"$TMP/a.aci")"
"$ACTOOL" build "$TMP/a" - >"$TMP/built.aci" 2>"$TMP/.err"
is "build L - writes the ACI to stdout" "$(sha256sum <"$TMP/built.aci")" "$(sha256sum <"$TMP/a.aci")"
is "...and no file named -" "$(ls -A "$TMP" | grep -cx -- -)" 0
"$ACTOOL" --debug build "$TMP/a" - 2>"$TMP/.err" >/dev/null
if grep -qx "$ID_A" "$TMP/.err"; then ok "build L - shows the image ID with --debug, on stderr"; else
  not_ok "build L - shows the image ID with --debug, on stderr"
fi
"$ACTOOL" patch-manifest --name=example.com/piped "$TMP/a.aci" - >"$TMP/piped.aci"
is "patch-manifest IN - writes the ACI to stdout" "$("$ACTOOL" cat-manifest "$TMP/piped.aci" | jq -r .name)" example.com/piped
ls "${TMPDIR:-/tmp}" | grep '^actool-out\.' >"$TMP/leftover" || true
is "no temporary directory left behind" "$(cat "$TMP/leftover")" ""
if command -v script >/dev/null; then
  script -qec "$ACTOOL build $TMP/a -" /dev/null >"$TMP/tty.out" 2>&1
  if grep -q 'refusing to write an ACI to a terminal' "$TMP/tty.out"; then ok "build L - refuses a terminal"; else
    not_ok "build L - refuses a terminal"
    note "$(head -c 500 "$TMP/tty.out")"
  fi
else
  skip "build L - refuses a terminal" "script(1) missing"
fi

# --- Scripting: image list -q and filters, --json ---------------------------
ac image list -q >"$TMP/q"
is "image list -q: one full ID per image" "$(grep -cE '^sha512-[0-9a-f]{128}$' "$TMP/q"):$(wc -l <"$TMP/q")" "3:3"
is "image list -q lists a.aci's ID" "$(grep -cx "$ID_A" "$TMP/q")" 1
is "image list NAME-GLOB" "$(ac image list -q 'example.com/*' | sort)" "$(sort "$TMP/a.id" "$TMP/b.id")"
is "image list with two globs" "$(ac image list -q example.org/gamma example.com/alpha | sort)" "$(sort "$TMP/a.id" "$TMP/c.id")"
is "--filter=name=GLOB" "$(ac image list -q --filter='name=*beta')" "$(cat "$TMP/b.id")"
is "--filter=label=NAME=VALUE" "$(ac image list -q --filter=label=version=1.0 | sort)" "$(sort "$TMP/a.id" "$TMP/c.id")"
is "--filter=label=NAME (set at all)" "$(ac image list -q --filter=label=version | wc -l)" 3
is "filters and globs together" "$(ac image list -q --filter=label=version=1.0 'example.com/*')" "$(cat "$TMP/a.id")"
is "a label that no image has" "$(ac image list -q --filter=label=arch=arm64)" ""
run_capture ac image list --no-legend 'example.com/a*'
if [ "$status" -eq 0 ] && [ "$(wc -l <"$TMP/.out")" -eq 1 ] && grep -q 'example.com/alpha' "$TMP/.out"; then
  ok "the table is filtered too"
else
  not_ok "the table is filtered too"
  note "exit $status" "$(cat "$TMP/.out")"
fi
is "image list --json is filtered too" "$(ac image list --json --filter=name=example.org/gamma | jq -r '.[].name')" example.org/gamma
# One table printer (libsmartcols): columns chosen and ordered, raw output,
# the same in `list` and `trust --list`.
is "image list --output: the columns asked for, in that order" \
  "$(ac image list --output=name,id --filter=name=example.org/gamma)" \
  "NAME               ID
example.org/gamma  $(head -c 19 "$TMP/c.id")"
is "--raw: one space between columns, special characters escaped" \
  "$(ac image list --raw --no-legend --output=name,size --filter=name=example.org/gamma | sed 's/ [0-9.]*\\x20[A-Za-z]*$/ SIZE/')" \
  'example.org/gamma SIZE'
is "a column asked for twice is shown twice, as ps -o pid,pid does" \
  "$(ac image list --raw --output=name,id,NAME --filter=name=example.org/gamma)" \
  "NAME ID NAME
example.org/gamma $(head -c 19 "$TMP/c.id") example.org/gamma"
check_fails "an unknown column is a usage error naming the columns" 2 \
  'no column "nope" \(the columns: ID, NAME, LABELS, SIZE, IMPORTED, LAST-USED\)' ac image list --output=id,nope
check_fails "--output is a table's: not with --json" 2 'not with --json' ac image list --json --output=id
# Every pair the usage lines give as alternatives is a usage error, never
# one of them dropped unsaid.
for bad in "image list -q --json|--json and -q: say one" \
  "image list -q --no-legend|--no-legend shapes a table: not with -q" \
  "image list --json --raw|--raw shapes a table: not with --json" \
  "list --json --no-legend|--no-legend shapes a table: not with --json" \
  "trust --list --json --no-legend|--no-legend shapes a table: not with --json" \
  "status --json --log 0123|--json and --log: say one"; do
  # shellcheck disable=SC2086
  check_fails "${bad%%|*}: exit 2" 2 "^actool: [a-z ]*: ${bad#*|}\$" ac ${bad%%|*}
done
is "list: the header of the chosen columns" "$(ac list --output=state,uuid)" "STATE  UUID"
check_fails "list: an unknown column" 2 'no column "pid"' ac list --output=pid
check_fails "list: more columns than a table holds says so" 2 '^actool: list: --output: more than 32 columns$' \
  ac list --output="$(printf 'uuid,%.0s' {1..32})uuid"
is "trust --list: the header of the chosen columns" "$(ac trust --list --output=user-id,prefix)" "USER-ID  PREFIX"
check_fails "an unknown filter is a usage error" 2 'name=GLOB or label=' ac image list --filter=size=3
check_fails "an empty name= glob is a usage error" 2 'the GLOB is missing' ac image list --filter=name=
check_fails "a filter without a value is a usage error" 2 "label's NAME is missing" ac image list --filter=label=
check_fails "a label filter without the label's name says so" 2 \
  "^actool: image list: --filter=label==x: the label's NAME is missing" ac image list --filter=label==x

# Progress of long operations on a terminal (script(1) gives one), the verb
# saying what the library does: reading a file to import or validate it,
# building a layout, rendering layers, verifying blobs, exporting; also when
# the output goes to standard output, a file here; nothing when stderr is no
# terminal or with --quiet.
tty_run() { script -qec "$(printf '%q ' "$@")" /dev/null </dev/null | tr '\r' '\n'; }
# tty_run_to FILE COMMAND...: the same with standard output in FILE.
tty_run_to() {
  local f=$1
  shift
  script -qec "$(printf '%q ' "$@") >$(printf '%q' "$f")" /dev/null </dev/null | tr '\r' '\n'
}
if command -v script >/dev/null; then
  out=$(tty_run "$ACTOOL" --dir="$TMP/store-tty" --insecure-options=image fetch "$TMP/a.aci")
  if grep -Eq 'Reading a\.aci: [0-9.]+ [KMG]?i?B / [0-9.]+ [KMG]?i?B \(100%\)' <<<"$out"; then
    ok "fetch of a file: its reading shown to 100%"
  else
    not_ok "fetch of a file: its reading shown to 100%"
    note "$out"
  fi
  out=$(tty_run "$ACTOOL" validate "$TMP/a.aci")
  if grep -q 'Reading a\.aci: .*(100%)' <<<"$out"; then ok "validate: the same"; else
    not_ok "validate: the same"
    note "$out"
  fi
  out=$(tty_run "$ACTOOL" build --overwrite "$TMP/a" "$TMP/tty.aci")
  if grep -Eq 'Building a: [0-9.]+ [KMG]?i?B' <<<"$out"; then ok "build: the layout's bytes built"; else
    not_ok "build: the layout's bytes built"
    note "$out"
  fi
  out=$(tty_run_to "$TMP/tty-stdout-build.aci" "$ACTOOL" build "$TMP/a" -)
  if grep -Eq 'Building a: [0-9.]+ [KMG]?i?B' <<<"$out" &&
    grep -Eq 'Writing standard output: .*\(100%\)' <<<"$out"; then
    ok "build L - with stderr a terminal: the build and the copy to stdout shown"
  else
    not_ok "build L - with stderr a terminal: the build and the copy to stdout shown"
    note "$out"
  fi
  check "...and stdout has the ACI that build L FILE writes" cmp "$TMP/tty-stdout-build.aci" "$TMP/tty.aci"
  rm -rf "$TMP/rendered"
  out=$(tty_run "$ACTOOL" --dir="$TMP/store-tty" image render example.com/alpha "$TMP/rendered")
  if grep -Eq 'Rendering sha512-[0-9a-f]{12}: .*\(100%\)' <<<"$out"; then
    ok "image render: each layer rendered, by its short ID"
  else
    not_ok "image render: each layer rendered, by its short ID"
    note "$out"
  fi
  out=$(tty_run "$ACTOOL" --dir="$TMP/store-tty" image verify)
  if grep -Eq 'Verifying sha512-[0-9a-f]{12}: .*\(100%\)' <<<"$out"; then
    ok "image verify: each blob verified, by its short ID"
  else
    not_ok "image verify: each blob verified, by its short ID"
    note "$out"
  fi
  out=$(tty_run "$ACTOOL" --dir="$TMP/store-tty" image export example.com/alpha "$TMP/tty-export.aci")
  if grep -Eq 'Exporting tty-export\.aci: .*\(100%\)' <<<"$out"; then ok "image export: the copy shown"; else
    not_ok "image export: the copy shown"
    note "$out"
  fi
  out=$(tty_run_to "$TMP/tty-stdout.aci" "$ACTOOL" --dir="$TMP/store-tty" image export example.com/alpha -)
  if grep -Eq 'Exporting sha512-[0-9a-f]{12}: .*\(100%\)' <<<"$out"; then
    ok "image export IMAGE - with stderr a terminal: the copy to stdout shown"
  else
    not_ok "image export IMAGE - with stderr a terminal: the copy to stdout shown"
    note "$out"
  fi
  check "...and stdout has the bytes an export to a file has" cmp "$TMP/tty-stdout.aci" "$TMP/tty-export.aci"
  is "...and nothing but them (no progress on stdout)" "$(grep -c Exporting "$TMP/tty-stdout.aci")" 0
  out=$(tty_run "$ACTOOL" --quiet validate "$TMP/a.aci")
  is "--quiet: no progress" "$(grep -c Reading <<<"$out")" 0
  out=$(tty_run_to "$TMP/tty-quiet.aci" "$ACTOOL" --quiet --dir="$TMP/store-tty" image export example.com/alpha -)
  is "--quiet: no progress of an export to stdout either" "$(grep -c Exporting <<<"$out")" 0
else
  skip "progress on a terminal" "no script(1)"
fi
"$ACTOOL" build --overwrite "$TMP/a" "$TMP/notty.aci" >/dev/null 2>"$TMP/.err"
ac image export example.com/alpha - 2>>"$TMP/.err" >/dev/null
is "no progress when stderr is no terminal" "$(grep -cE 'Reading|Building|Exporting|Writing' "$TMP/.err")" 0

ac --debug=false fetch --json "$TMP/a.aci" "$TMP/missing.aci" >"$TMP/fetch.json" 2>"$TMP/.err"
is "fetch --json: each argument and its ID, null when it failed" \
  "$(jq -c '[.[] | [.image, .id]]' "$TMP/fetch.json")" "[[\"$TMP/a.aci\",\"$ID_A\"],[\"$TMP/missing.aci\",null]]"
if grep -q 'missing\.aci: no such file' "$TMP/.err"; then ok "...and the error on stderr"; else not_ok "...and the error on stderr"; fi

run_capture "$ACTOOL" validate --json "$TMP/a" "$TMP/a.aci" "$TMP/a/manifest" "$TMP/pod.json" "$TMP/notes.txt"
is "validate --json keeps the exit status" "$status" 1
is "validate --json: path, type, valid for each input" \
  "$(jq -c '[.[] | [.type, .valid]]' "$TMP/.out")" \
  '[["layout",true],["appimage",true],["ImageManifest",true],["PodManifest",true],[null,false]]'
is "validate --json: the error of an invalid input" \
  "$(jq -r '.[4].error' "$TMP/.out")" "$TMP/notes.txt: not an ACI (neither a tar archive nor gzip, bzip2 or xz compressed) nor a JSON manifest"
is "validate --json: warnings, an empty list when none (pod.json's volumse)" \
  "$(jq -c '[.[] | .warnings | length]' "$TMP/.out")" '[0,0,0,1,0]'
# A path that is no UTF-8 (JSON is): each byte that is no part of UTF-8
# written as U+FFFD, as for every --json output.
run_capture "$ACTOOL" validate --json "$TMP/$(printf 'no\xfe')"
cp "$TMP/.out" "$TMP/validate.json"
check "validate --json of a path not in UTF-8: JSON in UTF-8" utf8_json "$TMP/validate.json"
is "... the byte that is no UTF-8 written U+FFFD" "$(jq -r '.[0].path' "$TMP/validate.json")" \
  "$TMP/no$(printf '\uFFFD')"
run_capture "$ACTOOL" validate --json "$TMP/typo.json" "$TMP/typo" "$TMP/typo.aci" "$TMP/typo.yaml" "$TMP/nokind.json"
is "validate --json: each input's warnings, as stderr has them" \
  "$status:$(jq -r '.[] | .warnings[]' "$TMP/.out")" \
  "1:$(sed -n 's/^actool: warning: //p' "$TMP/.err")"
is "...the unknown keys of a JSON manifest, with their paths" \
  "$(jq -r '.[0].warnings[]' "$TMP/.out")" \
  "$TMP/typo.json: acKnd: unknown key, ignored (did you mean \"acKind\"?)
$TMP/typo.json: app.workingDir: unknown key, ignored (did you mean \"workingDirectory\"?)"
is "...of a layout, an ACI, a YAML manifest and an invalid manifest" \
  "$(jq -c '[.[] | [.valid, (.warnings | length)]]' "$TMP/.out")" '[[true,2],[true,2],[true,2],[true,3],[false,1]]'

run_capture ac image verify --json
is "image verify --json of a sound store" "$status:$(jq -c . "$TMP/.out")" '0:{"images":null,"damaged":false,"problems":[]}'
blob=$S/blobs/$ID_A
if [ -f "$blob" ]; then
  chmod u+w "$blob" 2>/dev/null
  printf 'x' | dd of="$blob" bs=1 seek=100 conv=notrunc 2>/dev/null
  run_capture ac image verify --json example.com/alpha
  if [ "$status" -eq 1 ] && [ "$(jq -r '.damaged' "$TMP/.out")" = true ] &&
    [ "$(jq -r '.images[0]' "$TMP/.out")" = "$ID_A" ] && [ "$(jq '.problems | length' "$TMP/.out")" -ge 1 ]; then
    ok "image verify --json of a damaged image: damaged, its problems, exit 1"
  else
    not_ok "image verify --json of a damaged image: damaged, its problems, exit 1"
    note "exit $status" "$(cat "$TMP/.out")" "$(cat "$TMP/.err")"
  fi
else
  not_ok "the blob of a.aci is at blobs/ID"
fi

# One naming style: every key of every --json output is camelCase (the
# reference's keys of discover --json excepted).
keys=$( (ac image list --json; cat "$TMP/fetch.json"; "$ACTOOL" validate --json "$TMP/a" "$TMP/typo.json" 2>/dev/null;
  ac image verify --json 2>/dev/null; ac list --json 2>/dev/null) | jq -r '.. | objects | keys[]' 2>/dev/null | sort -u)
check "JSON keys were read" test -n "$keys"
is "every JSON key is camelCase" "$(grep -vE '^[a-z][a-zA-Z]*$' <<<"$keys")" ""

done_testing
