#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The command-line surface of actool: version, help, exit statuses, option
# placement (see shared/actool-cli.md).
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

commands="build validate cat-manifest patch-manifest discover fetch trust image run list status gc version help"

run_capture "$ACTOOL" version
is "version exits 0" "$status" 0
if grep -Eq '^actool version [0-9]+\.[0-9]+\.[0-9]+' "$TMP/.out" &&
  grep -Eq '^appc version 0\.8\.11$' "$TMP/.out"; then
  ok "version prints the actool and appc versions"
else
  not_ok "version prints the actool and appc versions"
  note "stdout: $(cat "$TMP/.out")"
fi
check_fails "version takes no arguments" 2 'version' "$ACTOOL" version extra

run_capture "$ACTOOL" help
is "help exits 0" "$status" 0
for c in $commands; do
  if grep -Eq "^  $c( |$)" "$TMP/.out"; then ok "help lists $c"; else
    not_ok "help lists $c"
    note "stdout: $(head -c 2000 "$TMP/.out")"
  fi
done
help_out=$(cat "$TMP/.out")
run_capture "$ACTOOL" --help
is "--help exits 0" "$status" 0
is "--help prints what help prints" "$(cat "$TMP/.out")" "$help_out"

run_capture "$ACTOOL" help build
is "help build exits 0" "$status" 0
help_build=$(cat "$TMP/.out")
if grep -q '^Usage: actool build' <<<"$help_build" && grep -q -- '--compression' <<<"$help_build" &&
  grep -q -- '--owner-root' <<<"$help_build" && grep -q -- '--overwrite' <<<"$help_build" &&
  grep -q -- '--no-compression' <<<"$help_build"; then
  ok "help build shows the usage and every build option"
else
  not_ok "help build shows the usage and every build option"
  note "stdout: $help_build"
fi
run_capture "$ACTOOL" build --help
is "build --help exits 0" "$status" 0
is "build --help prints what help build prints" "$(cat "$TMP/.out")" "$help_build"
run_capture "$ACTOOL" --help build
is "--help build (global option first) exits 0" "$status" 0
is "--help build prints what help build prints" "$(cat "$TMP/.out")" "$help_build"

for c in $commands; do
  run_capture "$ACTOOL" "$c" --help
  if [ "$status" -eq 0 ] && grep -q "^Usage: actool $c" "$TMP/.out" && ! crashed "$status" "$TMP/.err"; then
    ok "$c --help exits 0 with its usage"
  else
    not_ok "$c --help exits 0 with its usage"
    note "exit $status" "stdout: $(head -c 1000 "$TMP/.out")" "stderr: $(head -c 1000 "$TMP/.err")"
  fi
done

run_capture "$ACTOOL" patch-manifest --help
for o in manifest name exec user group supplementary-groups capability revoke-capability \
  mounts ports isolators seccomp-mode seccomp-set replace overwrite no-compression; do
  if grep -q -- "--$o" "$TMP/.out"; then ok "patch-manifest --help mentions --$o"; else
    not_ok "patch-manifest --help mentions --$o"
  fi
done

# Usage errors: exit 2, the problem named on stderr.
check_fails "unknown command exits 2" 2 'frobnicate' "$ACTOOL" frobnicate
check_fails "unknown command after global options exits 2" 2 'frobnicate' "$ACTOOL" --debug frobnicate
check_fails "help for an unknown command exits 2" 2 'frobnicate' "$ACTOOL" help frobnicate
check_fails "unknown global option exits 2" 2 'no-such-option' "$ACTOOL" --no-such-option version
check_fails "unknown command option exits 2" 2 'no-such-option' "$ACTOOL" build --no-such-option a b.aci
check_fails "unknown validate option exits 2" 2 'bogus' "$ACTOOL" validate --bogus x
check_fails "option without its value exits 2" 2 'compression' "$ACTOOL" build a b.aci --compression
check_fails "bad boolean value exits 2" 2 'maybe' "$ACTOOL" build --overwrite=maybe a b.aci
check_fails "unknown compression exits 2" 2 'lz4' "$ACTOOL" build --compression=lz4 a b.aci
check_fails "unknown validate --type exits 2" 2 'zip' "$ACTOOL" validate --type=zip x
# run's values are checked before any image is looked up or fetched: a
# bad one is a usage error, never a discovery of example.invalid.
for bad in '--volume=v|volume "v": needs a name and kind' \
  '--volume=v,kind=bogus|not a volume kind' \
  '--volume=../Data_1,kind=empty|--volume: volume "\.\./Data_1,kind=empty": name: "\.\./Data_1" is not a valid AC Name' \
  '--volume=name=Data,kind=host,source=/srv|--volume: .*"Data" is not a valid AC Name' \
  '--set-env=NOEQ|--set-env: environment "NOEQ": not KEY=VALUE' \
  '--device=/dev/null:rel|must be under /dev/' \
  '--private-users=abc|not UID:COUNT' \
  '--net=default --publish=www|not NAME:HOSTPORT' \
  '--net=default --publish=www:0|not from 1 to 65535' \
  '--caps-allow=CAP_BOGUS|"CAP_BOGUS": not a Linux capability'; do
  # shellcheck disable=SC2086
  check_fails "run ${bad%%|*}: exit 2 before any fetch" 2 "^actool: run: .*${bad#*|}" \
    "$ACTOOL" --dir="$TMP/store" run ${bad%%|*} example.invalid/x
  # The message states the rule; errno's text for it would only add noise.
  is "run ${bad%%|*}: no \"Invalid argument\" tacked on" "$(grep -c 'Invalid argument' "$TMP/.err")" 0
done
mkdir -p "$TMP/badoci"
echo '[]' >"$TMP/badoci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$TMP/badoci/oci-layout"
check_fails "fetch oci: of a layout whose index is no JSON object: refused" 1 \
  'index\.json: not a JSON object$' \
  "$ACTOOL" --dir="$TMP/store" --insecure-options=image fetch "oci:$TMP/badoci"
check_fails "run IMAGE --mount=volume=x: exit 2 before any fetch" 2 'mount "volume=x": needs volume=NAME,target=PATH' \
  "$ACTOOL" --dir="$TMP/store" run example.invalid/x --mount=volume=x
check_fails "run IMAGE --set-env=NOEQ (the app's): exit 2 before any fetch" 2 'environment "NOEQ": not KEY=VALUE' \
  "$ACTOOL" --dir="$TMP/store" run example.invalid/x --set-env=NOEQ
check_fails "build without arguments exits 2" 2 'build' "$ACTOOL" build
check_fails "validate without arguments exits 2" 2 'validate' "$ACTOOL" validate
check_fails "cat-manifest without arguments exits 2" 2 'cat-manifest' "$ACTOOL" cat-manifest
check_fails "unknown --insecure-options value exits 2" 2 'bogus' "$ACTOOL" --insecure-options=bogus version
for v in "image," ",image" "image,,tls"; do
  check_fails "--insecure-options=$v: an empty item exits 2" 2 \
    "^actool: --insecure-options: an empty item in \"$v\"\$" "$ACTOOL" --insecure-options="$v" version
done
check_fails "--insecure-options= (empty) exits 2" 2 '^actool: --insecure-options: empty' \
  "$ACTOOL" version --insecure-options=
run_capture "$ACTOOL"
is "no command at all exits 2" "$status" 2
is "... its usage on stderr (a usage error), nothing on stdout" \
  "$(wc -c <"$TMP/.out"):$(grep -c '^Usage: actool' "$TMP/.err")" "0:1"
check_fails "options and no command: exit 2, saying the command is missing" 2 \
  '^actool: no command after the options$' "$ACTOOL" --debug
check_fails "an option's value that took the command: exit 2, saying so" 2 \
  '^actool: no command \("version" was taken as the value of --dir\)$' "$ACTOOL" --dir version

# Commands of the contract that are not available yet: a clear failure, exit 1.
for c in "fetch x" "discover example.com/x" "trust --root --skip-fingerprint-review /dev/null" "image list" "run x" "list" "status x" "gc"; do
  name=${c%% *}
  # shellcheck disable=SC2086
  run_capture "$ACTOOL" --dir="$TMP/store" $c
  if [ "$status" -eq 0 ]; then
    ok "$c is implemented (exit 0)"
  elif [ "$status" -eq 1 ] && grep -Eq "$name.*(not available|not implemented)" "$TMP/.err"; then
    ok "$c: exit 1 with a clear 'not available' message"
  elif [ "$status" -eq 1 ] && ! crashed "$status" "$TMP/.err" && [ -s "$TMP/.err" ]; then
    ok "$c: fails with exit 1 and a message"
  else
    not_ok "$c: exit 0, or 1 with a clear message"
    note "exit $status" "stderr: $(head -c 1000 "$TMP/.err")"
  fi
done

# Global options are accepted before and after the command name.
cat >"$TMP/m.json" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/cli"}
JSON
for args in "--debug validate $TMP/m.json" "validate --debug $TMP/m.json" \
  "validate $TMP/m.json --debug" "-debug validate $TMP/m.json" "--debug=true validate $TMP/m.json"; do
  # shellcheck disable=SC2086
  run_capture "$ACTOOL" $args
  if [ "$status" -eq 0 ] && grep -q "m.json: valid ImageManifest" "$TMP/.err"; then
    ok "actool ${args//$TMP\//}: debug output"
  else
    not_ok "actool ${args//$TMP\//}: debug output"
    note "exit $status" "stderr: $(head -c 1000 "$TMP/.err")"
  fi
done
run_capture "$ACTOOL" validate "$TMP/m.json"
if [ "$status" -eq 0 ] && ! grep -q valid "$TMP/.err"; then ok "validate without --debug is quiet"; else
  not_ok "validate without --debug is quiet"
  note "exit $status" "stderr: $(head -c 1000 "$TMP/.err")"
fi
run_capture "$ACTOOL" --debug=false validate "$TMP/m.json"
if [ "$status" -eq 0 ] && ! grep -q valid "$TMP/.err"; then ok "--debug=false turns debug output off"; else
  not_ok "--debug=false turns debug output off"
fi
# A manifest from a pipe validates as the file does: the bytes read to tell
# its type are read again (a manifest longer than those, and a wrong one).
python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
m["annotations"] = [{"name": "a%d" % i, "value": "x" * 100} for i in range(50)]
json.dump(m, open(sys.argv[2], "w"))
m["labels"] = [{"name": "Os", "value": "linux"}]
json.dump(m, open(sys.argv[3], "w"))' "$TMP/m.json" "$TMP/long.json" "$TMP/bad.json"
for t in "" --type=manifest; do
  run_capture bash -c 'cat "$2" | "$1" --debug validate $3 /dev/stdin' _ "$ACTOOL" "$TMP/long.json" "$t"
  is "validate ${t:+$t }of a manifest from a pipe" "$status $(cat "$TMP/.err")" "0 /dev/stdin: valid ImageManifest"
done
run_capture bash -c 'cat "$2" | "$1" validate /dev/stdin' _ "$ACTOOL" "$TMP/bad.json"
is "validate of a wrong manifest from a pipe says what the file's says" "$status $(cat "$TMP/.err")" \
  "1 $("$ACTOOL" validate "$TMP/bad.json" 2>&1 | sed "s|$TMP/bad.json|/dev/stdin|")"
check "--dir before the command" "$ACTOOL" --dir="$TMP/store" version
check "--dir after the command" "$ACTOOL" version --dir "$TMP/store"
check "--insecure-options before the command" "$ACTOOL" --insecure-options=image,tls version
check "--insecure-options after the command" "$ACTOOL" version --insecure-options=all
check "--cacert and --port after the command" "$ACTOOL" version --cacert=/dev/null --port=8443
# Between a command and its subcommand too, in every form.
run_capture "$ACTOOL" image --debug --dir "$TMP/store" --insecure-options image list -q
is "global options between image and its subcommand (--flag, --opt VALUE)" "$status:$(cat "$TMP/.out")" "0:"
run_capture "$ACTOOL" image -debug -dir="$TMP/store" list --no-legend
is "global options between image and its subcommand (single dash, -opt=VALUE)" "$status" 0
mkdir -p "$TMP/glay"
run_capture "$ACTOOL" layout --layout "$TMP/glay" --debug init --name=example.com/g
is "layout --layout DIR --debug init" "$status:$(jq -r .name "$TMP/glay/manifest" 2>&1)" "0:example.com/g"
# What the user typed is echoed in messages with its control characters
# escaped: a newline in a name must not add a forged "actool: ..." line.
run_capture "$ACTOOL" layout --layout "$TMP/glay" label add "$(printf 'bad\nactool: forged\ttab')" v
is "a newline in a name: one line on stderr, the newline and tab escaped" \
  "$status:$(wc -l <"$TMP/.err"):$(grep -c 'bad\\x0aactool: forged\\x09tab' "$TMP/.err")" "1:1:1"
run_capture "$ACTOOL" layout --layout "$TMP/glay" copy "$(printf 'nosuch\r\nactool: all good')" /
is "a newline in a path: one line on stderr" \
  "$status:$(wc -l <"$TMP/.err"):$(grep -c 'nosuch\\x0d\\x0aactool: all good' "$TMP/.err")" "1:1:1"
check_fails "an unknown option before the subcommand exits 2, named" 2 'unknown option "--bogus"' \
  "$ACTOOL" image --bogus list
check_fails "an option and no subcommand after it exits 2" 2 'no subcommand after "--dir"' \
  "$ACTOOL" image --dir
# An empty --dir, --cacert or --layout (--dir="$UNSET") is a usage error:
# taken as "not given" it would hide ACTOOL_DIR and work on the default
# store.  An empty variable is unset, as git takes GIT_DIR="".
check_fails "--dir= (empty) exits 2, naming --dir" 2 '^actool: --dir: empty' \
  env ACTOOL_DIR="$TMP/store" "$ACTOOL" --dir= version
check_fails "--dir \"\" after the command exits 2, naming --dir" 2 '^actool: version: --dir: empty' \
  "$ACTOOL" version --dir ""
check_fails "--dir= between image and its subcommand exits 2" 2 '^actool: image list: --dir: empty' \
  "$ACTOOL" image --dir= list
check_fails "--cacert= (empty) exits 2, naming --cacert" 2 '^actool: --cacert: empty' \
  "$ACTOOL" --cacert= version
check_fails "layout --layout= (empty) exits 2, naming --layout" 2 '^actool: layout label: --layout: empty' \
  env -C "$TMP/glay" "$ACTOOL" layout label add --layout= k v
# So is every option and operand naming a file, of every command: "" is no
# name ("actool: : Is a directory" said nothing).
for bad in "run --pod-manifest=|--pod-manifest: empty" "run --uuid-file-save= x|--uuid-file-save: empty" \
  "run --env-file= x|--env-file: empty" "sign --output= x.aci|--output: empty" \
  "patch-manifest --manifest= a.aci b.aci|--manifest: empty" \
  "layout debian --keyring= x|--keyring: empty" "build --file= ctx out.aci|--file: empty" \
  "layout init --layout=$TMP/from-empty --from=|--from: empty" \
  "validate|argument 1 is empty" "build layout|argument 2 is empty" \
  "image export x|argument 2 is empty" "patch-manifest a.aci|argument 2 is empty" \
  "layout copy x|argument 2 is empty"; do
  read -ra words <<<"${bad%%|*}"
  quoted=${bad%%|*}
  [[ $bad == *argument* ]] && words+=("") && quoted+=" ''"
  check_fails "$quoted: exit 2, ${bad#*|}" 2 "^actool: [a-z -]*: ${bad#*|}" \
    "$ACTOOL" --dir="$TMP/store" "${words[@]}"
done
# The layout or context named first, empty, too (": not an image layout").
mkdir -p "$TMP/ctx" && echo 'FROM scratch' >"$TMP/ctx/Containerfile"
check_fails "build '' OUT.aci: exit 2, argument 1 is empty" 2 '^actool: build: argument 1 is empty' \
  "$ACTOOL" --dir="$TMP/store" build "" "$TMP/empty-layout.aci"
check_fails "build --file=F '' OUT.aci: exit 2, argument 1 is empty" 2 \
  '^actool: build: argument 1 is empty' \
  "$ACTOOL" --dir="$TMP/store" build --file="$TMP/ctx/Containerfile" "" "$TMP/empty-context.aci"
check_fails "layout init --from= asks for an image (which may be a file)" 2 \
  '^actool: layout init: --from: empty \(give an image, or leave --from out\)$' \
  "$ACTOOL" --dir="$TMP/store" layout init --layout="$TMP/from-empty" --from=
is "no layout was made for an empty --from" "$(ls -d "$TMP/from-empty" 2>&1)" \
  "ls: cannot access '$TMP/from-empty': No such file or directory"
run_capture "$ACTOOL" --dir="$TMP/store" run --pod-manifest="$TMP/nonexist.json"
is "run --pod-manifest=MISSING names the file once" "$status:$(cat "$TMP/.err")" \
  "1:actool: $TMP/nonexist.json: No such file or directory"
check "an empty ACTOOL_LAYOUT is unset: the current directory's layout" \
  env -C "$TMP/glay" ACTOOL_LAYOUT= "$ACTOOL" layout label add k v
check "an empty ACTOOL_DIR is unset: --dir is used" \
  env ACTOOL_DIR= "$ACTOOL" --dir="$TMP/store" image list
check "-- ends the options" "$ACTOOL" validate -- "$TMP/m.json"
check "single-dash options (as the reference accepts)" "$ACTOOL" -debug validate -type=manifest "$TMP/m.json"

# GNU conventions: --version, -h.
run_capture "$ACTOOL" version
version_out=$(cat "$TMP/.out")
run_capture "$ACTOOL" --version
is "--version exits 0" "$status" 0
is "--version prints what version prints" "$(cat "$TMP/.out")" "$version_out"
run_capture "$ACTOOL" build --version
is "build --version prints the version" "$status:$(cat "$TMP/.out")" "0:$version_out"
run_capture "$ACTOOL" -h
is "-h prints what --help prints" "$status:$(cat "$TMP/.out")" "0:$help_out"
run_capture "$ACTOOL" build -h
is "build -h prints what help build prints" "$status:$(cat "$TMP/.out")" "0:$help_build"
run_capture "$ACTOOL" image -h
if [ "$status" -eq 0 ] && grep -q '^Usage: actool image' "$TMP/.out"; then ok "image -h prints image's help"; else
  not_ok "image -h prints image's help"
  note "exit $status" "stdout: $(head -c 500 "$TMP/.out")"
fi
# The groups too, wherever --help or --version comes before the missing
# subcommand's name, among the group's or its subcommands' options.
run_capture "$ACTOOL" help image
help_image=$(cat "$TMP/.out")
for args in "--help image" "-h image" "image --debug --help" "image --help=true" \
  "layout --layout=. --help"; do
  # shellcheck disable=SC2086
  run_capture "$ACTOOL" $args
  group=image
  [[ $args == *layout* ]] && group=layout
  if [ "$status" -eq 0 ] && grep -q "^Usage: actool $group" "$TMP/.out" &&
    { [ $group = layout ] || [ "$(cat "$TMP/.out")" = "$help_image" ]; }; then
    ok "actool $args prints $group's help on stdout, exit 0"
  else
    not_ok "actool $args prints $group's help on stdout, exit 0"
    note "exit $status" "stdout: $(head -c 500 "$TMP/.out")" "stderr: $(head -c 500 "$TMP/.err")"
  fi
done
for args in "--version image" "--version layout" "image --version" "image --debug --version" \
  "layout --layout=. --version"; do
  # shellcheck disable=SC2086
  run_capture "$ACTOOL" $args
  is "actool $args prints the version" "$status:$(cat "$TMP/.out")" "0:$version_out"
done
check_fails "image --help=maybe: a bad boolean still exits 2" 2 'invalid boolean value "maybe"' \
  "$ACTOOL" image --help=maybe
check_fails "image --debug: no subcommand still exits 2" 2 'no subcommand after "--debug"' \
  "$ACTOOL" image --debug
if grep -q -- '-h, --help' <<<"$help_out"; then ok "help shows -h with --help"; else
  not_ok "help shows -h with --help"
fi

# "Did you mean": a command, a subcommand, an option one typo away.
check_fails "a mistyped command suggests the command" 2 'unknown command "buidl" \(did you mean "build"\?\)' \
  "$ACTOOL" buidl
check_fails "a transposed command name is suggested" 2 'did you mean "validate"' "$ACTOOL" valdiate x
check_fails "a mistyped subcommand suggests the subcommand" 2 'unknown subcommand "lst" \(did you mean "list"\?\)' \
  "$ACTOOL" image lst
check_fails "help of a mistyped command suggests it" 2 'did you mean "status"' "$ACTOOL" help statsu
check_fails "help of a mistyped subcommand suggests it" 2 'did you mean "render"' "$ACTOOL" help image rendr
check_fails "a mistyped option suggests the option" 2 'unknown option "--overwrit" \(did you mean "--overwrite"\?\)' \
  "$ACTOOL" build --overwrit a b.aci
check_fails "a mistyped global option suggests it" 2 'did you mean "--debug"' "$ACTOOL" --deubg version
check_fails "a mistyped option with a value suggests it" 2 'did you mean "--compression"' \
  "$ACTOOL" build --compresion=xz a b.aci
run_capture "$ACTOOL" frobnicate
if [ "$status" -eq 2 ] && ! grep -q 'did you mean' "$TMP/.err"; then ok "nothing close: no suggestion"; else
  not_ok "nothing close: no suggestion"
  note "exit $status" "stderr: $(cat "$TMP/.err")"
fi

# Output that cannot be written is a failure said on stderr, whatever the
# command and however much it printed (buffered output is written at exit).
stdout_closed() { "$@" >&-; }
for c in "help" "version" "help build" "__options" "validate --json $TMP/m.json"; do
  # shellcheck disable=SC2086
  check_fails "$c >/dev/full: exit 1, the write error said" 1 \
    '^actool: write error: No space left on device$' to_full "$ACTOOL" $c
done
run_capture stdout_closed "$ACTOOL" validate "$TMP/m.json"
is "a command that prints nothing succeeds with stdout closed" "$status" 0
run_capture stdout_closed "$ACTOOL" version
is "... one that prints something fails" "$status:$(cat "$TMP/.err")" "1:actool: write error: Bad file descriptor"

# Help fits 80 columns; option descriptions in one style; usage lines say
# what the parser accepts.
"$ACTOOL" __options >"$TMP/options"
long=""
orphans=""
for c in "" $(awk -F'\t' '$1 == "command" { gsub(/ /, "+", $2); print $2 }' "$TMP/options"); do
  # shellcheck disable=SC2086
  "$ACTOOL" help ${c//+/ } >"$TMP/help.txt" 2>&1
  l=$(awk 'length > 80 { print length ": " $0; exit }' "$TMP/help.txt")
  [ -z "$l" ] || long+="[help ${c//+/ }] $l "
  # In the text above the options, a short line inside a paragraph (a
  # word or two wrapped onto a line of their own, then the paragraph goes
  # on) is a source line longer than the width, cut twice.
  l=$(awk '/^(Options|Global options|Commands|Subcommands):/ { exit }
    NR > 2 && prev != "" && length(prev) < 40 && prev !~ /^ / && $0 != "" && $0 !~ /^[ -]/ {
      print "\"" prev "\""; exit }
    { prev = $0 }' "$TMP/help.txt")
  [ -z "$l" ] || orphans+="[help ${c//+/ }] $l "
done
is "every help text fits in 80 columns" "$long" ""
is "help text is filled: no words cut onto a line of their own mid-paragraph" "$orphans" ""
is "every option description starts with a capital and ends without a full stop" \
  "$(awk -F'\t' '$1 == "option" && ($7 !~ /^[A-Z]/ || $7 ~ /\.$/) { print $2 " " $3 ": " $7 }' "$TMP/options")" ""
mismatch=""
while IFS=$'\t' read -r kind cmd flags _ usage; do
  [ "$kind" = command ] || continue
  u=${usage//\\n/ }
  # An option of the usage line the command (or one of its subcommands, or
  # the global table) does not take; run's per-image options are run's.
  for w in $(grep -oE -- '(^|[][ |])--?[a-z][a-z-]*' <<<"$u" | sed 's/^[][ |]//' | sort -u); do
    n=${w#-}
    n=${n#-}
    case $flags in *options-end-at-argument*) continue ;; esac
    awk -F'\t' -v c="$cmd" -v n="$n" '$1 == "option" && ($2 == c || $2 == "" || index($2, c " ") == 1) &&
      $3 == n { f = 1 } END { exit !f }' "$TMP/options" || mismatch+=" [$cmd: $w in usage, not taken]"
  done
  # An option the command takes that its usage line leaves out (unless it
  # says [OPTIONS]).
  grep -qiF '[options]' <<<"$u" && continue
  for n in $(awk -F'\t' -v c="$cmd" '$1 == "option" && $2 == c { print $3 }' "$TMP/options"); do
    w=--$n
    [ ${#n} -eq 1 ] && w=-$n
    grep -qE -- "(^|[][ |])$w([][ =|]|\$)" <<<"$u" || mismatch+=" [$cmd: $w not in usage]"
  done
done <"$TMP/options"
is "usage lines name exactly the options the parser takes" "${mismatch# }" ""

done_testing
