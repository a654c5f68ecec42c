#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool layout: a layout authored step by step (init, copy, set, set-exec,
# label, annotation, env, port, mount, isolator, dependency), each refused edit
# leaving the manifest as it was, concurrent edits serialised by the lock,
# init --from an image of the store; YAML manifests in layouts and in
# validate, errors naming the YAML line, and build giving the image ID of
# the manifest's canonical JSON whatever the syntax.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

lay() { "$ACTOOL" layout "$@"; }
jqm() { jq -c "$1" "$L/manifest" 2>&1; } # a field of the layout's manifest

# --- init ---------------------------------------------------------------------

L=$TMP/hello
check_clean "init makes a new layout" lay init --layout="$L" --name=example.com/hello
is "it holds manifest and rootfs/" "$(ls -A "$L" | tr '\n' ' ')" "manifest rootfs "
is "the manifest names the image, with this machine's os and arch" \
  "$(jqm '[.acKind, .acVersion, .name, ([.labels[] | .name + "=" + .value] | join(","))]')" \
  "[\"ImageManifest\",\"0.8.11\",\"example.com/hello\",\"os=linux,arch=$(dpkg --print-architecture)\"]"
check "the new layout validates" "$ACTOOL" validate --type=layout "$L"
check_rejects "init into a layout that exists is refused" 'not empty' lay init --layout="$L" --name=example.com/x
mkdir -p "$TMP/empty-dir"
chmod 0755 "$TMP/empty-dir"
check_clean "init into an existing empty directory works" lay init --layout="$TMP/empty-dir" --name=example.com/e
# What rootfs/ holds (an image's or a layout run's device nodes and set-id
# files) is on the host's file system: only the layout's owner reaches it.
is "the layout directory is 0700, made so or set so; rootfs/ keeps its mode" \
  "$(stat -c %a "$L" "$L/rootfs" "$TMP/empty-dir" | tr '\n' ' ')" "700 755 700 "
check_rejects "init with a name that is no AC name is refused, naming the field" '^actool: .*name' \
  lay init --layout="$TMP/badname" --name='Not A Name'
is "the refused init made nothing" "$(ls -A "$TMP" | grep -c badname)" 0
(cd "$TMP" && mkdir -p cwd-layout && cd cwd-layout && "$ACTOOL" layout init --name=example.com/cwd) >"$TMP/.out" 2>&1
is "init without --layout works in the current directory" "$(jq -r .name "$TMP/cwd-layout/manifest" 2>&1)" example.com/cwd
# A layout whose rootfs is a symlink (from an untrusted archive, say) is
# refused by every command, never written through.
mkdir -p "$TMP/linked/outside" "$TMP/linked/L"
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/linked"}' >"$TMP/linked/L/manifest"
ln -s ../outside "$TMP/linked/L/rootfs"
echo payload >"$TMP/linked/src"
check_rejects "layout copy into a layout whose rootfs is a symlink is refused" 'rootfs: not a directory but a symlink' \
  "$ACTOOL" layout copy --layout="$TMP/linked/L" "$TMP/linked/src" /written
check_rejects "... and so is an edit" 'rootfs: not a directory but a symlink' \
  "$ACTOOL" layout label add --layout="$TMP/linked/L" k v
is "... nothing is written where the symlink points" "$(ls -A "$TMP/linked/outside")" ""
(cd "$TMP" && mkdir -p named-here && cd named-here && "$ACTOOL" layout init) >"$TMP/.out" 2>&1
is "init in the current directory, no --name: named after the directory" \
  "$(jq -r .name "$TMP/named-here/manifest" 2>&1)" named-here
(cd "$TMP" && "$ACTOOL" layout init --layout="My Layout_2") >"$TMP/.out" 2>&1
is "init with no --name: the directory's name made an AC Name" \
  "$(jq -r .name "$TMP/My Layout_2/manifest" 2>&1)" my-layout-2
ACTOOL_LAYOUT=$TMP/env-layout "$ACTOOL" layout init --name=example.com/env >/dev/null 2>&1
is "init honours \$ACTOOL_LAYOUT" "$(jq -r .name "$TMP/env-layout/manifest" 2>&1)" example.com/env

# --- edits --------------------------------------------------------------------

cd "$L" || exit 1
check_clean "set-exec" lay set-exec -- /bin/sh -c 'echo hello'
is "app.exec is the command line" "$(jqm .app.exec)" '["/bin/sh","-c","echo hello"]'
is "an app made by an edit runs as user and group 0" "$(jqm '[.app.user, .app.group]')" '["0","0"]'
check_clean "set user, group and workingDirectory at once" lay set user=1000 group=100 workingDirectory=/srv
is "they are set" "$(jqm '[.app.user, .app.group, .app.workingDirectory]')" '["1000","100","/srv"]'
check_clean "set name" lay set name=example.com/hello2
is "the name is set" "$(jqm .name)" '"example.com/hello2"'
check_clean "label add" lay label add version 1.0
check_clean "label add of a name present replaces its value" lay label add version 1.1
is "one version label, the last value" "$(jqm '[.labels[] | select(.name == "version") | .value]')" '["1.1"]'
check_clean "annotation add" lay annotation add authors 'A. Author <a@example.com>'
check_clean "env add" lay env add GREETING 'hello world'
check_clean "port add with --count and --socket-activated" lay port add http tcp 8080 --count=2 --socket-activated
is "the port" "$(jqm '.app.ports[0]')" '{"name":"http","protocol":"tcp","port":8080,"count":2,"socketActivated":true}'
check_clean "mount add --read-only" lay mount add data /var/data --read-only
is "the mount point" "$(jqm '.app.mountPoints[0]')" '{"name":"data","path":"/var/data","readOnly":true}'
check_clean "isolator add" lay isolator add resource/memory '{"limit": "512M"}'
is "the isolator" "$(jqm '.app.isolators[0]')" '{"name":"resource/memory","value":{"limit":"512M"}}'
check_clean "dependency add with --image-id and --label" lay dependency add example.com/base \
  --image-id="sha512-$(printf '0%.0s' {1..128})" --label=version=2 --label=os=linux
is "the dependency" "$(jqm '.dependencies[0] | [.imageName, .imageID[0:10], ([.labels[] | .name + "=" + .value] | join(","))]')" \
  '["example.com/base","sha512-000","version=2,os=linux"]'
check_clean "options before the subcommand's name (--layout=DIR label add)" \
  "$ACTOOL" layout --layout="$L" label add channel stable
is "that label is there" "$(jqm '[.labels[] | select(.name == "channel") | .value]')" '["stable"]'
check "the edited layout validates" "$ACTOOL" validate --type=layout "$L"
check "build of the edited layout" "$ACTOOL" build "$L" "$TMP/hello.aci"
check "the built image validates" "$ACTOOL" validate "$TMP/hello.aci"
"$ACTOOL" cat-manifest "$TMP/hello.aci" >"$TMP/built.json" 2>&1
is "the image carries the edits" "$(jq -c '[.name, .app.exec[0], .app.ports[0].port, .dependencies[0].imageName]' "$TMP/built.json" 2>&1)" \
  '["example.com/hello2","/bin/sh",8080,"example.com/base"]'

# refused EDIT...: exit 1, a message naming the rule, and the manifest untouched.
cp "$L/manifest" "$TMP/manifest.before"
refused() {
  local desc=$1 pattern=$2
  shift 2
  check_rejects "$desc" "$pattern" "$@"
  if cmp -s "$TMP/manifest.before" "$L/manifest"; then ok "$desc: the manifest is as it was"; else
    not_ok "$desc: the manifest is as it was"
    note "$(diff "$TMP/manifest.before" "$L/manifest" | head -20)"
  fi
}
refused "a port out of range" 'app\.ports\[[0-9]\]\.port: 99999 is not in the 1-65535 range' lay port add bad tcp 99999
refused "a relative working directory" 'workingDirectory.*absolute' lay set workingDirectory=relative
refused "a label value that is not a valid os" 'os' lay label add os plan9-not-an-os
refused "an isolator value the rules refuse" 'not a valid quantity' lay isolator add resource/memory '{"limit": "lots"}'
refused "an isolator value that is not JSON" 'resource/memory: the value: invalid JSON' lay isolator add resource/memory '{limit'
refused "an isolator value with trailing text (json-c would take it)" \
  'the value: invalid JSON at line 1, column 17: invalid character after top-level value' \
  lay isolator add resource/memory '{"limit": "1M"} ]]]'
refused "an isolator value in single quotes" 'the value: invalid JSON' lay isolator add resource/memory "{'limit': '1M'}"
refused "an environment value that is not UTF-8, named where it goes (not blamed on the file)" \
  '^actool: [^ ]*: app\.environment\[[0-9]+\]\.value: not valid UTF-8$' lay env add BAD "$(printf 'a\377b')"
refused "a user that is not UTF-8" '^actool: [^ ]*: app\.user: not valid UTF-8$' lay set user="$(printf '\377')"
refused "a mount point path with ..: the executor would refuse it" \
  'mount point data: path "/srv/\.\./etc" has a "\." or "\.\." component$' lay mount add data /srv/../etc
refused "an empty command" 'app\.exec: the command is empty' lay set-exec -- ''
refused "an environment name that is no name" 'environment' lay env add 'A B' x
refused "rm of a label not there" 'no entry named "nope"' lay label rm nope
refused "a dependency image ID that is no ID" 'imageID' lay dependency add example.com/x --image-id=not-an-id
refused "set of several keys, one of them bad: none is applied" 'absolute' lay set user=5 workingDirectory=rel
check_fails "label with neither add nor rm is a usage error" 2 'add or rm' lay label put a b
check_fails "port add with a port that is no number is a usage error" 2 'not a number' lay port add p tcp eighty
check_fails "port add with a port beyond any number it could be: out of range, not \"not a number\"" 2 \
  'PORT "4294967377": out of range' lay port add p tcp 4294967377
check_fails "set without KEY=VALUE is a usage error" 2 'KEY=VALUE' lay set user
check_fails "set of an unknown key is a usage error, naming it (none of the keys set)" 2 '"colour": unknown key' lay set user=1 colour=blue
is "the usage errors left the manifest as it was" "$(cmp "$TMP/manifest.before" "$L/manifest" 2>&1)" ""

check_clean "label rm" lay label rm channel
check_clean "port rm" lay port rm http
check_clean "mount rm" lay mount rm data
check_clean "isolator rm" lay isolator rm resource/memory
check_clean "env rm" lay env rm GREETING
check_clean "annotation rm" lay annotation rm authors
check_clean "dependency rm" lay dependency rm example.com/base
is "what was removed is gone" \
  "$(jqm '[(.labels | map(.name) | join(",")), (.app.ports // [] | length), (.app.mountPoints // [] | length), (.app.isolators // [] | length), (.dependencies // [] | length), (.annotations // [] | length)]')" \
  '["os,arch,version",0,0,0,0,0]'
check_rejects "edits need a layout" 'no-such-layout: not a layout' lay label add a b --layout="$TMP/no-such-layout"

# Concurrent edits: the lock serialises them, none is lost.
pids=()
for i in $(seq 1 20); do
  lay label add "l$i" "v$i" >/dev/null 2>"$TMP/conc.$i.err" &
  pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
is "20 concurrent label adds all exit 0" "$fails" 0
is "all 20 labels are there" "$(jqm '[.labels[] | select(.name | startswith("l")) | .name] | length')" 20
check "and the layout still validates" "$ACTOOL" validate --type=layout "$L"
is "no temporary left in the layout" "$(ls -A "$L" | tr '\n' ' ')" "manifest rootfs "
# build and validate wait for an edit under way (a layout command holds the
# layout's lock, as flock(1) does here, half its edit done): never half of it.
rm -f "$TMP/held"
flock "$L" sh -c 'echo one >rootfs/first; touch "$1"; sleep 1.5; echo two >rootfs/second' _ "$TMP/held" &
holder=$!
for _ in $(seq 300); do [ -e "$TMP/held" ] && break; sleep 0.02; done
check_clean "a build while a layout command holds the layout waits for it" "$ACTOOL" build "$L" "$TMP/mid.aci"
is "and packs the whole edit" "$(tar tzf "$TMP/mid.aci" 2>&1 | grep -c '^rootfs/\(first\|second\)$')" 2
wait "$holder"
rm -f "$TMP/held"
flock "$L" sh -c 'touch "$1"; sleep 1; touch .run' _ "$TMP/held" &
holder=$!
for _ in $(seq 300); do [ -e "$TMP/held" ] && break; sleep 0.02; done
check_rejects "so does validate: a killed command's leftover it then meets is named as such" \
  '\.run: left by a layout command killed before its end' "$ACTOOL" validate --type=layout "$L"
wait "$holder"
check_clean "which the next layout command removes" lay label add after-leftover yes
# The wait is told (as apt's "Waiting for cache lock"), not a silent hang:
# once, naming the layout, and the command ends once the lock is released.
rm -f "$TMP/held"
touch "$TMP/hold"
flock "$L" sh -c 'touch "$1"; while [ -e "$2" ]; do sleep 0.05; done' _ "$TMP/held" "$TMP/hold" &
holder=$!
for _ in $(seq 300); do [ -e "$TMP/held" ] && break; sleep 0.02; done
"$ACTOOL" validate "$L" >/dev/null 2>"$TMP/wait.err" &
waiter=$!
for _ in $(seq 200); do grep -q 'waiting' "$TMP/wait.err" && break; sleep 0.05; done
is "validate while a layout command holds the layout says it waits for it, naming the layout" \
  "$(cat "$TMP/wait.err"):$(kill -0 "$waiter" 2>/dev/null && echo waiting)" \
  "actool: $L: waiting for the layout command that holds its lock:waiting"
rm -f "$TMP/hold"
wait "$holder"
status=0
wait "$waiter" || status=$?
is "and finishes once the lock is released, the notice said once" \
  "$status:$(grep -c waiting "$TMP/wait.err")" "0:1"
rm -f rootfs/first rootfs/second
# Keys the schema does not define: an edit writes only what the schema
# reads, so it drops them, and says so as validate warns of them.
U=$TMP/unknown
lay init --layout="$U" --name=example.com/unknown >/dev/null 2>&1
jq -c '.app = {"exec": ["/bin/app"], "user": "0", "group": "0", "workingDir": "/srv"} | .["x-build-info"] = {"commit": "abc"}' \
  "$U/manifest" >"$U/manifest.new" && mv "$U/manifest.new" "$U/manifest"
run_capture lay --layout="$U" label add version 1
is "an edit dropping unknown keys succeeds, warning of each, naming the manifest" \
  "$status:$(grep -c "^actool: warning: $(regex_quote "$U/manifest"): \(app.workingDir: unknown key, dropped by the edit (did you mean \"workingDirectory\"?)\|x-build-info: unknown key, dropped by the edit\)$" "$TMP/.err")" "0:2"
is "... which are gone" "$(jq -c '[.app.workingDir, .["x-build-info"], .app.exec[0]]' "$U/manifest")" '[null,null,"/bin/app"]'
run_capture lay --layout="$U" label add version 2
is "the next edit has nothing to warn of" "$status:$(cat "$TMP/.err")" "0:"
jq -c '. + ([range(30)] | map({key: "x\(.)", value: .}) | from_entries)' "$U/manifest" >"$U/manifest.new" &&
  mv "$U/manifest.new" "$U/manifest"
run_capture lay --layout="$U" label add version 3
is "an edit dropping 30 unknown keys warns of 20, then says how many more" \
  "$status:$(grep -c ': x[0-9]*: unknown key, dropped by the edit$' "$TMP/.err"):$(tail -n 1 "$TMP/.err")" \
  "0:20:actool: warning: $U/manifest: ... and 10 more unknown keys, dropped by the edit"

# One limit of a manifest's size (16 MiB) for every reader: the layout
# commands open what build takes, and write nothing larger.
B=$TMP/big
lay init --layout="$B" --name=example.com/big >/dev/null 2>&1
# big_manifest MIB: a manifest of about MIB MiB (annotations of 1 MiB).
big_manifest() {
  python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
m["annotations"] = [{"name": "a%d" % i, "value": "a" * (1 << 20) } for i in range(int(sys.argv[2]))]
m["annotations"].append({"name": "rest", "value": "a" * int(sys.argv[3])})
json.dump(m, open(sys.argv[1], "w"))' "$B/manifest" "$1" "$2"
}
big_manifest 10 0
check_clean "an edit of a 10 MiB manifest, which build takes" lay --layout="$B" label add version 1
mv "$B/manifest" "$B/manifest.yaml" # JSON is YAML
check_clean "validate of a 10 MiB YAML manifest" "$ACTOOL" validate --type=layout "$B"
check_clean "an edit of it" lay --layout="$B" label add version 2
big_manifest 15 $((1024 * 1024 - 60000))
cp "$B/manifest" "$TMP/big.before"
add_120k() { lay --layout="$B" annotation add more "$(head -c 120000 /dev/zero | tr '\0' a)"; }
check_rejects "an edit that would make it larger than 16 MiB is refused" \
  'manifest: [0-9]+ bytes, larger than the 16 MiB limit of a manifest' add_120k
check "and leaves the manifest as it was" cmp -s "$B/manifest" "$TMP/big.before"
check_clean "the next edit works" lay --layout="$B" annotation rm a0
check "and build takes the layout" "$ACTOOL" build "$B" "$TMP/big.aci"
rm -rf "$B" "$TMP/big.aci" "$TMP/big.before"
cd "$TMP" || exit 1

# --- copy ---------------------------------------------------------------------

C=$TMP/copy-layout
lay init --layout="$C" --name=example.com/copy >/dev/null 2>&1
R=$C/rootfs
SRC=$TMP/src
mkdir -p "$SRC/tree/sub" "$TMP/outside"
printf '#!/bin/sh\necho hi\n' >"$SRC/hello" && chmod 4755 "$SRC/hello" && touch -d '2001-02-03 04:05:06' "$SRC/hello"
echo one >"$SRC/tree/one" && echo two >"$SRC/tree/sub/two" && ln -s one "$SRC/tree/link"
echo other >"$SRC/other"
check_clean "copy a file to a new path (its directories made)" lay copy --layout="$C" "$SRC/hello" /usr/local/bin/hello
is "the file, its mode, time and owner" "$(stat -c '%a %Y %u:%g' "$R/usr/local/bin/hello" 2>&1)" \
  "4755 $(stat -c %Y "$SRC/hello") 0:0"
is "its content" "$(cat "$R/usr/local/bin/hello" 2>&1)" "$(cat "$SRC/hello")"
mkdir -p "$R/etc"
check_clean "copy a file into an existing directory" lay copy --layout="$C" "$SRC/other" /etc
is "it lands inside" "$(cat "$R/etc/other" 2>&1)" other
check_clean "copy a file into DEST/ (made)" lay copy --layout="$C" "$SRC/other" /new/dir/
is "it lands inside the new directory" "$(cat "$R/new/dir/other" 2>&1)" other
mkdir -p "$R/app" && echo keep >"$R/app/keep" && echo old >"$R/app/one"
check_clean "copy a directory: its contents merge into DEST" lay copy --layout="$C" "$SRC/tree" /app
is "what was there stays, what is copied replaces" \
  "$(cat "$R/app/keep" "$R/app/one" "$R/app/sub/two" 2>&1 | tr '\n' ' ')" "keep one two "
is "a symlink is copied as a symlink" "$(readlink "$R/app/link" 2>&1)" one
check_clean "several sources go into the directory DEST" lay copy --layout="$C" "$SRC/hello" "$SRC/other" /multi
is "both are there" "$(ls "$R/multi" 2>&1 | tr '\n' ' ')" "hello other "
# A SRC that is a symlink is followed, as Docker's COPY follows it (help
# layout copy says so); the symlinks inside a directory stay symlinks.
ln -s "$SRC/other" "$SRC/other-link" && ln -s tree "$SRC/tree-link"
check_clean "copy a SRC that is a symlink to a file" lay copy --layout="$C" "$SRC/other-link" /linked/
is "it is copied as what it leads to, under its own name" \
  "$(test -L "$R/linked/other-link" && echo 'a symlink:')$(cat "$R/linked/other-link" 2>&1)" other
check_clean "copy a SRC that is a symlink to a directory" lay copy --layout="$C" "$SRC/tree-link" /linked-tree
is "its contents are copied, the symlinks among them as symlinks" \
  "$(cat "$R/linked-tree/sub/two" 2>&1):$(readlink "$R/linked-tree/link" 2>&1)" "two:one"
# A sparse file stays sparse: its holes are neither read nor written (a
# copy of 64 GiB once took 40 s and 64 GiB of disk); "timeout" only guards.
truncate -s 64G "$SRC/sparse" && printf end >>"$SRC/sparse"
check_clean "copy a sparse file of 64 GiB" timeout 60 "$ACTOOL" layout copy --layout="$C" "$SRC/sparse" /sparse
is "its size and its data" "$(stat -c %s "$R/sparse" 2>&1):$(tail -c 3 "$R/sparse" 2>&1)" \
  "$(((64 << 30) + 3)):end"
is "and its holes stay holes" "$(($(stat -c %b "$R/sparse") * $(stat -c %B "$R/sparse") < 1048576))" 1
rm -f "$SRC/sparse" "$R/sparse"
# A file of /proc says it is empty: it is copied to its end all the same.
check_clean "copy a file of /proc" lay copy --layout="$C" /proc/version /proc-version
is "its content, not its stated size of 0" "$(cat "$R/proc-version" 2>&1)" "$(cat /proc/version)"
# The rootfs's own symlinks lead inside it, whatever they say.
ln -s ../../../outside "$R/escape"
ln -s /etc "$R/abs"
check_rejects "copy through a dangling symlink pointing out of the rootfs: refused" 'escape: Not a directory' \
  lay copy --layout="$C" "$SRC/other" /escape/f
mkdir -p "$R/outside"
check_clean "copy through a symlink pointing out of the rootfs, to a directory there inside" \
  lay copy --layout="$C" "$SRC/other" /escape/f
check_clean "copy through an absolute symlink" lay copy --layout="$C" "$SRC/other" /abs/via-abs
check_clean "copy to a path climbing with .." lay copy --layout="$C" "$SRC/other" /../../../climbed
check_clean "copy a directory to a path ending in .." lay copy --layout="$C" "$SRC/tree" /a/../..
is "nothing was written outside the rootfs" "$(ls -A "$TMP/outside" | wc -l) $(ls -A "$C" | tr '\n' ' ')" "0 manifest rootfs "
is "the copies landed in the rootfs" \
  "$(cat "$R/outside/f" "$R/etc/via-abs" "$R/climbed" "$R/sub/two" 2>&1 | tr '\n' ' ')" "other other other two "
# A symlink of the rootfs standing for a directory (a merged /usr's /lib)
# takes a copied directory's contents and stays a symlink, as with Docker's
# COPY; one leading out of the rootfs leads to that directory inside it.
mkdir -p "$R/usr/lib" "$SRC/merged/lib" "$SRC/merged/abs" "$SRC/merged/escape"
echo libc >"$R/usr/lib/libc.so.6" && ln -s usr/lib "$R/lib"
echo foo >"$SRC/merged/lib/foo.so" && echo a >"$SRC/merged/abs/via-merged" && echo e >"$SRC/merged/escape/e"
check_clean "copy a directory onto symlinks to directories" lay copy --layout="$C" "$SRC/merged/" /
is "the symlink stays, the directory it names takes the contents" \
  "$(readlink "$R/lib" 2>&1):$(ls "$R/usr/lib" 2>&1 | tr '\n' ' ')" "usr/lib:foo.so libc.so.6 "
is "symlinks out of the rootfs (/etc, ../../..) lead inside it" \
  "$(cat "$R/etc/via-merged" "$R/outside/e" 2>&1 | tr '\n' ' ')$(ls -A "$TMP/outside" | wc -l)" "a e 0"
check "nothing reached the host's /etc" test ! -e /etc/via-merged
# A directory copied into itself is refused before anything is written,
# as cp refuses it (it once recursed 256 levels deep and left ~500 entries).
before=$(find "$R" | sort | md5sum)
check_rejects "copy the rootfs into a directory of its own" 'rootfs: cannot copy a directory into itself' \
  lay copy --layout="$C" "$R" /sub
check_rejects "... or onto itself" 'cannot copy a directory into itself' lay copy --layout="$C" "$R/app" /app
check_rejects "... or the layout holding it, after another source" 'copy-layout: cannot copy a directory into itself' \
  lay copy --layout="$C" "$SRC/other" "$C" /new/place/
is "the refused copies left the rootfs as it was" "$(find "$R" | sort | md5sum)" "$before"
mkfifo "$SRC/fifo"
check_rejects "a fifo is refused" 'fifo: not a file, directory or symlink' lay copy --layout="$C" "$SRC/fifo" /fifo
mkdir -p "$R/in-the-way/other"
check_rejects "a directory in the way of a file is refused" 'a directory is in the way' \
  lay copy --layout="$C" "$SRC/other" /in-the-way/
check_rejects "a missing source is refused" 'no-such-file' lay copy --layout="$C" "$SRC/no-such-file" /x
check_fails "copy with one argument is a usage error" 2 'SRC' lay copy --layout="$C" "$SRC/other"
check "the layout still validates" "$ACTOOL" validate --type=layout "$C"

# --- init --from an image -----------------------------------------------------

S=$TMP/store
B=$TMP/base
mkdir -p "$B/rootfs/etc" "$B/rootfs/base"
echo base >"$B/rootfs/base/file"
echo 'from base' >"$B/rootfs/etc/motd"
cat >"$B/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/base","labels":[{"name":"version","value":"1"}]}
JSON
T=$TMP/top
mkdir -p "$T/rootfs/etc"
echo 'from top' >"$T/rootfs/etc/motd"
cat >"$T/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/top","labels":[{"name":"version","value":"3"}],
 "app":{"exec":["/bin/top"],"user":"0","group":"0"},
 "dependencies":[{"imageName":"example.com/base","labels":[{"name":"version","value":"1"}]}],
 "pathWhitelist":["/etc/motd","/base/file","/etc"]}
JSON
"$ACTOOL" build "$B" "$TMP/base.aci" >/dev/null && "$ACTOOL" build "$T" "$TMP/top.aci" >/dev/null
check "the images for init --from are fetched" "$ACTOOL" --dir="$S" --insecure-options=image fetch "$TMP/base.aci" "$TMP/top.aci"
F=$TMP/from
check_clean "init --from an image of the store" "$ACTOOL" --dir="$S" layout init --layout="$F" --from=example.com/top
is "the rootfs is the image rendered with its dependency" \
  "$(cat "$F/rootfs/etc/motd" "$F/rootfs/base/file" 2>&1 | tr '\n' ' ')" "from top base "
is "the manifest keeps the image's name, labels and app" \
  "$(jq -c '[.name, .labels[0].value, .app.exec[0]]' "$F/manifest" 2>&1)" '["example.com/top","3","/bin/top"]'
is "the manifest drops dependencies and pathWhitelist" \
  "$(jq -c '[has("dependencies"), has("pathWhitelist")]' "$F/manifest" 2>&1)" '[false,false]'
check "the layout made from the image validates" "$ACTOOL" validate --type=layout "$F"
is "the layout directory made from the image is 0700 too" "$(stat -c %a "$F")" 700
check_clean "init --from a file, with --name" "$ACTOOL" --dir="$S" --insecure-options=image layout init \
  --layout="$TMP/from-file" --from="$TMP/base.aci" --name=example.com/derived
is "the name is the one given" "$(jq -r .name "$TMP/from-file/manifest" 2>&1)" example.com/derived
mkdir "$TMP/from-here"
(cd "$TMP/from-here" && "$ACTOOL" --dir="$S" layout init --from=example.com/top) >"$TMP/.out" 2>&1
is "init --from in the current directory (the layout \".\")" \
  "$?:$(jq -r .name "$TMP/from-here/manifest" 2>&1):$(cat "$TMP/from-here/rootfs/etc/motd" 2>&1):$(ls -A "$TMP/from-here" | tr '\n' ' ')" \
  "0:example.com/top:from top:manifest rootfs "
# Keys the schema does not define: left out of the layout's manifest, as
# every edit drops them, each with a warning naming the image and its path.
X=$TMP/unknown-src
mkdir -p "$X/rootfs"
cat >"$X/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/unknown-keys",
 "app":{"exec":["/bin/app"],"user":"0","group":"0","workingDir":"/srv"},"x-build-info":{"commit":"abc"}}
JSON
"$ACTOOL" build "$X" "$TMP/unknown-keys.aci" >/dev/null 2>&1
check "the image with unknown keys is fetched" "$ACTOOL" --dir="$S" --insecure-options=image fetch "$TMP/unknown-keys.aci"
run_capture "$ACTOOL" --dir="$S" layout init --layout="$TMP/from-unknown" --from=example.com/unknown-keys
is "init --from an image with unknown keys succeeds, warning of each, naming the image" \
  "$status:$(grep -c '^actool: warning: example\.com/unknown-keys: \(app\.workingDir: unknown key, not taken into the layout (did you mean "workingDirectory"?)\|x-build-info: unknown key, not taken into the layout\)$' "$TMP/.err"):$(wc -l <"$TMP/.err")" "0:2:2"
is "... which the layout's manifest leaves out, as an edit does" \
  "$(jq -c '[.app.workingDir, .["x-build-info"], .app.exec[0]]' "$TMP/from-unknown/manifest" 2>&1)" '[null,null,"/bin/app"]'
run_capture "$ACTOOL" layout label add --layout="$TMP/from-unknown" version 1
is "... so the next edit has nothing to warn of" "$status:$(cat "$TMP/.err")" "0:"
check_rejects "init --from an image that is not there is refused" 'example\.com/nowhere|nowhere' \
  "$ACTOOL" --dir="$S" layout init --layout="$TMP/from-none" --from=example.com/nowhere --insecure-options=http
is "the refused init --from left no layout" "$(ls -A "$TMP/from-none" 2>/dev/null | wc -l)" 0

# init is all or nothing: a refused one leaves the directory as it was
# (missing or empty), a killed one what the next init takes for empty.
check_rejects "init --from with a bad --name is refused" 'from-bad/manifest: name: "BAD"' \
  "$ACTOOL" --dir="$S" layout init --layout="$TMP/from-bad" --from=example.com/top --name=BAD
is "... leaving no directory" "$(ls -d "$TMP/from-bad" 2>/dev/null)" ""
mkdir "$TMP/from-bad-empty"
check_rejects "... into an empty directory" 'manifest: name: "BAD"' \
  "$ACTOOL" --dir="$S" layout init --layout="$TMP/from-bad-empty" --from=example.com/top --name=BAD
is "... leaving it empty" "$(ls -A "$TMP/from-bad-empty" | tr '\n' ' ')" ""
if command -v strace >/dev/null && strace -qq -o /dev/null true 2>/dev/null; then
  # killed as it writes the manifest, before it moves rootfs/, and between
  # moving rootfs/ and the manifest (renameat2 where there is no renameat)
  rename=renameat
  strace -qq -o /dev/null -e trace=renameat true 2>/dev/null || rename=renameat2
  for at in linkat "$rename:when=1" "$rename:when=2"; do
    K=$TMP/killed-${at%%:*}-${at#*=}
    (strace -f -qq -o /dev/null -e trace="${at%%:*}" -e inject="${at%%:*}":signal=SIGKILL${at#"${at%%:*}"} \
      "$ACTOOL" layout init --layout="$K" --name=example.com/killed) >/dev/null 2>&1
    ok_k=$(test -e "$K/manifest" && echo "a manifest after the kill at $at")
    check_clean "init again after one killed at $at" lay init --layout="$K" --name=example.com/killed
    is "... gives a whole layout" "$ok_k$(ls -A "$K" | tr '\n' ' ')" "manifest rootfs "
  done
else
  skip "init killed half-way" "no working strace"
fi
mkdir "$F/.init"
check_clean "an .init left in a finished layout..." lay label add --layout="$F" killed yes
is "... goes at its next opening" "$(ls -A "$F" | tr '\n' ' ')" "manifest rootfs "

# --- YAML manifests -----------------------------------------------------------

Y=$TMP/yaml
mkdir -p "$Y/rootfs/bin"
printf '#!/bin/sh\necho yaml\n' >"$Y/rootfs/bin/hello" && chmod 755 "$Y/rootfs/bin/hello"
cat >"$Y/manifest.yaml" <<'YAML'
# a manifest written in YAML
acKind: ImageManifest
acVersion: 0.8.11
name: example.com/yaml
labels:
  - name: version
    value: "1.0"        # quoted: a plain 1.0 is a number
  - {name: os, value: linux}
app:
  exec: [/bin/hello, --flag]
  user: "0"
  group: "0"
  environment:
    - name: MSG
      value: |
        two
        lines
  ports:
    - name: http
      protocol: tcp
      port: 0x50
      socketActivated: false
annotations:
  - name: description
    value: >-
      folded
      text
YAML
check_clean "validate of a layout with manifest.yaml" "$ACTOOL" validate --type=layout "$Y"
check_clean "validate of the YAML file itself" "$ACTOOL" validate "$Y/manifest.yaml"
run_capture "$ACTOOL" build "$Y" "$TMP/yaml.aci"
is "build of the YAML layout" "$status" 0
YID=$(cat "$TMP/.out")
"$ACTOOL" cat-manifest "$TMP/yaml.aci" >"$TMP/yaml.json" 2>&1
is "the image holds the manifest as JSON, with YAML's types" \
  "$(jq -c '[.labels[0].value, .app.exec, .app.environment[0].value, .app.ports[0].port, .annotations[0].value]' "$TMP/yaml.json" 2>&1)" \
  '["1.0",["/bin/hello","--flag"],"two\nlines\n",80,"folded text"]'
# The same manifest as canonical JSON, in a layout alike in all else, gives the same image.
J=$TMP/json
mkdir -p "$J" && cp -a "$Y/rootfs" "$J/rootfs"
printf '%s' "$(cat "$TMP/yaml.json")" >"$J/manifest" # cat-manifest adds a newline
touch -r "$Y/manifest.yaml" "$J/manifest"
touch -r "$Y" "$J"
run_capture "$ACTOOL" build "$J" "$TMP/json.aci"
is "the JSON layout builds to the same image ID as the YAML one" "$(cat "$TMP/.out")" "$YID"

# Errors name the YAML line of the field.
cp "$Y/manifest.yaml" "$TMP/good.yaml"
sed 's/value: "1.0" .*/value: 1.0/' "$TMP/good.yaml" >"$Y/manifest.yaml"
check_rejects "a label value that YAML made a number: refused, naming line 7" \
  'manifest\.yaml:7: labels\[0\]\.value: expected a string' "$ACTOOL" validate "$Y"
sed 's/port: 0x50/port: 99999/' "$TMP/good.yaml" >"$Y/manifest.yaml"
check_rejects "a port out of range: refused, naming line 21" \
  'manifest\.yaml:21: app\.ports\[0\]\.port: 99999 is not in the 1-65535 range' "$ACTOOL" validate "$Y/manifest.yaml"
check_rejects "build refuses it too, naming the line" 'manifest\.yaml:21:' "$ACTOOL" build "$Y" "$TMP/bad.aci"
cp "$TMP/good.yaml" "$Y/manifest.yaml"
check_rejects "an edit of a YAML layout that the rules refuse names manifest.yaml, the file there is" \
  'yaml/manifest\.yaml: app\.ports\[[0-9]+\]\.port: 99999 is not in' lay port add bad tcp 99999 --layout="$Y"
printf 'acKind: ImageManifest\nname: [unclosed\n' >"$Y/manifest.yaml"
check_rejects "YAML syntax errors name the line and column" 'manifest\.yaml:[23]:[0-9]+: ' "$ACTOOL" validate "$Y"
printf 'acKind: ImageManifest\nacKind: ImageManifest\n' >"$Y/manifest.yaml"
check_rejects "a key given twice is refused" 'manifest\.yaml:2:1: a key given twice' "$ACTOOL" validate "$Y"
printf 'a: 1\n---\nb: 2\n' >"$Y/manifest.yaml"
check_rejects "two documents are refused" 'more than one YAML document' "$ACTOOL" validate "$Y"
printf '' >"$Y/manifest.yaml"
check_rejects "an empty file is refused" 'no YAML document' "$ACTOOL" validate "$Y"
# A billion laughs: aliases doubling 40 times.
{
  echo 'a0: &a0 [x, x]'
  for i in $(seq 1 40); do echo "a$i: &a$i [*a$((i - 1)), *a$((i - 1))]"; done
} >"$Y/manifest.yaml"
check_rejects "aliases that expand without end are refused, quickly" 'too many values' \
  timeout 10 "$ACTOOL" validate "$Y"
# Nesting 100,000 deep in 200 KB (libyaml's scanner is quadratic in it: it
# took 40 s), in flow and in block style: refused before it is loaded.
python3 -c 'print("acKind: ImageManifest\nx: " + "[" * 100000 + "]" * 100000)' >"$Y/manifest.yaml"
check_rejects "deep flow nesting is refused at once, naming the file and the limit" \
  'manifest\.yaml:2:68: nested deeper than 64 levels' timeout 10 "$ACTOOL" validate "$Y"
check_rejects "... by build too" 'manifest\.yaml:2:68: nested deeper than 64 levels' \
  timeout 10 "$ACTOOL" build "$Y" "$TMP/deep.aci"
python3 -c 'print("acKind: ImageManifest\nx:\n" + "- " * 100000 + "a")' >"$Y/manifest.yaml"
check_rejects "deep block nesting is refused as well" \
  'manifest\.yaml:3:129: nested deeper than 64 levels' timeout 10 "$ACTOOL" validate "$Y/manifest.yaml"
printf 'x: .inf\n' >"$Y/manifest.yaml"
check_rejects "infinity (no JSON form) is refused" 'infinity' "$ACTOOL" validate "$Y"
cp "$TMP/good.yaml" "$Y/manifest.yaml"
echo '{}' >"$Y/manifest"
check_rejects "a layout with both manifest and manifest.yaml is refused" 'one manifest' "$ACTOOL" validate "$Y"
rm -f "$Y/manifest"

# Edits of a YAML layout: the manifest becomes canonical JSON.
check_clean "an edit of a YAML layout" lay --layout="$Y" label add edited yes
is "the layout now has manifest, not manifest.yaml" "$(ls -A "$Y" | tr '\n' ' ')" "manifest rootfs "
is "with the YAML's content and the edit" \
  "$(jq -c '[.app.environment[0].value, (.labels | map(.name) | join(","))]' "$Y/manifest" 2>&1)" \
  '["two\nlines\n","version,os,edited"]'

# Killed at either step of that (the JSON replacing the YAML file, then its
# rename): one manifest, which reads, with the edit or without it (and,
# killed in the atomic write, its hidden temporary file, as any).
for step in renameat:1:version,os,after renameat:2:version,os,killed,after \
  unlinkat:1:version,os,killed,after; do
  IFS=: read -r call when labels <<<"$step"
  rm -f "$Y/manifest"
  cp "$TMP/good.yaml" "$Y/manifest.yaml"
  strace -f -qq -o /dev/null -e trace="$call" -e inject="$call":signal=SIGKILL:when="$when" \
    "$ACTOOL" layout label add --layout="$Y" killed yes 2>/dev/null
  run_capture "$ACTOOL" layout label add --layout="$Y" after yes
  is "an edit of a YAML layout killed at its $call $when: one manifest, and the next edit works" \
    "$status:$(ls "$Y" | tr '\n' ' '):$(jq -r '.labels | map(.name) | join(",")' "$Y/manifest" 2>&1)" \
    "0:manifest rootfs :$labels"
done

done_testing
