#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool build --file=Containerfile: a busybox base image, then Containerfiles
# using every instruction actool builds (FROM, ARG, ENV, WORKDIR, COPY, ADD,
# RUN, LABEL, EXPOSE, VOLUME, USER, ENTRYPOINT, CMD, MAINTAINER) with their
# forms (exec and shell, line continuations, comments, the escape
# directive, variables and quotes), .dockerignore, --build-arg, COPY
# --chown, ADD of a tar.gz; the cache (an unchanged file runs nothing and
# gives the same image ID; a changed source re-runs from its step); what is
# refused, with the line; the image running under actool run.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "RUN steps need root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi
command -v jq >/dev/null || skip_all "jq not installed"

export ACTOOL_DIR=$TMP/store
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

# The base: busybox, as an ACI file (FROM takes what fetch takes).
"$ACTOOL" layout --layout="$TMP/base" init --name=example.com/busybox >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$TMP/base/rootfs" >/dev/null &&
  "$ACTOOL" build "$TMP/base" "$TMP/busybox.aci" >/dev/null ||
  { not_ok "a busybox base image"; done_testing; exit; }
BASE=$TMP/busybox.aci

build() { "$ACTOOL" --insecure-options=image build "$@"; }
manifest() { "$ACTOOL" cat-manifest "$1" | jq -c "$2"; }
# rootfs ACI: the image's rootfs unpacked in $TMP/x
rootfs() {
  rm -rf "$TMP/x" && mkdir "$TMP/x" && tar -xf "$1" -C "$TMP/x" 2>/dev/null
}

C=$TMP/ctx
mkdir -p "$C/site/sub" "$C/tree/d"
echo hello >"$C/hello.txt"
ln -s hello.txt "$C/greeting-link"
echo '<h1>hi</h1>' >"$C/site/index.html"
echo nested >"$C/site/sub/page.html"
echo secret >"$C/site/secret.key"
echo draft >"$C/site/sub/draft.html"
# (a pattern is cleaned as Docker cleans it: this one is site/sub/draft.html)
printf '# no keys\nsite/*.key\nx/../site/./sub//draft.html\n' >"$C/.dockerignore"
echo inside >"$C/tree/d/file"
tar -czf "$C/tree.tar.gz" --owner=1234 --group=567 -C "$C/tree" .
# A uuencoded tar: libarchive reads the wrapper, Docker does not; nor do we
# (the same list of decompressors as everywhere, none an external program).
python3 - "$C/tree.tar.gz" "$C/tree.tar.uu" <<'PY'
import binascii, sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as out:
    out.write("begin 644 tree.tar.gz\n")
    for i in range(0, len(data), 45):
        out.write(binascii.b2a_uu(data[i:i + 45]).decode())
    out.write("`\nend\n")
PY
cat >"$C/Containerfile" <<'EOF'
# escape=\
ARG BASE
FROM ${BASE}
ARG GREETING=hi
# a comment between instructions
ENV APP_HOME=/srv/www \
    MODE="production mode" \
    # a comment inside a continued line
    EMPTY=
ENV LEGACY value with spaces
WORKDIR $APP_HOME
COPY site/ ./
COPY --chown=1000:50 hello.txt /etc/
ADD tree.tar.gz /opt/tree/
ADD tree.tar.uu /opt/uu/
ADD hello.txt /opt/plain
COPY greeting-link /opt/linked/
RUN echo "$GREETING ${MODE} ${UNSET:-fallback} ${MODE:+set}" > /built.txt && \
    pwd > /pwd.txt
LABEL org.example.title="test image" org.example.note='single $quoted'
MAINTAINER Carly Container <carly@example.com>
EXPOSE 8080/tcp 53/udp 9000-9002 7000/sctp
VOLUME ["/data"]
VOLUME /var/cache/app
USER 1000:50
ENTRYPOINT ["/bin/cat"]
CMD ["/etc/hello.txt"]
EOF

check_clean "a Containerfile with every instruction builds" \
  build --file="$C/Containerfile" --name=example.com/web --build-arg=BASE="$BASE" "$C" "$TMP/web.aci"
ID1=$(cat "$TMP/.out")
is "it prints the image ID" "$(grep -c '^sha512-' "$TMP/.out")" 1
is "the steps are shown" "$(grep -c '^STEP [0-9]*/21: ' "$TMP/.err")" 21
is "the name" "$(manifest "$TMP/web.aci" .name)" '"example.com/web"'
is "exec is ENTRYPOINT + CMD" "$(manifest "$TMP/web.aci" .app.exec)" '["/bin/cat","/etc/hello.txt"]'
is "USER gives user and group" "$(manifest "$TMP/web.aci" '[.app.user,.app.group]')" '["1000","50"]'
is "WORKDIR" "$(manifest "$TMP/web.aci" .app.workingDirectory)" '"/srv/www"'
is "ENV, both forms, quotes and comments in continued lines" \
  "$(manifest "$TMP/web.aci" '[.app.environment[] | .name + "=" + .value]')" \
  '["APP_HOME=/srv/www","MODE=production mode","EMPTY=","LEGACY=value with spaces"]'
is "EXPOSE: ports named as docker2aci names them, ranges expanded" \
  "$(manifest "$TMP/web.aci" '[.app.ports[] | "\(.name):\(.protocol):\(.port)"]')" \
  '["8080-tcp:tcp:8080","53-udp:udp:53","9000-tcp:tcp:9000","9001-tcp:tcp:9001","9002-tcp:tcp:9002","7000-sctp:sctp:7000"]'
is "VOLUME: both forms, mount points named after the path as docker2aci names them" \
  "$(manifest "$TMP/web.aci" '[.app.mountPoints[] | .name + "=" + .path]')" \
  '["volume-data=/data","volume-var-cache-app=/var/cache/app"]'
is "LABEL and MAINTAINER are annotations" \
  "$(manifest "$TMP/web.aci" '[.annotations[] | select(.name | startswith("appc.io/") | not) | .name + "=" + .value]')" \
  '["org.example.title=test image","org.example.note=single $quoted","authors=Carly Container <carly@example.com>"]'
rootfs "$TMP/web.aci"
R=$TMP/x/rootfs
is "COPY of a directory copies its contents, less what .dockerignore leaves out" \
  "$(cd "$R/srv/www" && find . | sort | tr '\n' ' ')" ". ./index.html ./sub ./sub/page.html "
is "COPY --chown" "$(stat -c %u:%g "$R/etc/hello.txt")" "1000:50"
is "COPY without --chown gives root's" "$(stat -c %u:%g "$R/srv/www/index.html")" "0:0"
is "ADD unpacks a tar.gz, with its owners" "$(cat "$R/opt/tree/d/file"):$(stat -c %u:%g "$R/opt/tree/d/file")" \
  "inside:1234:567"
is "ADD of a plain file copies it" "$(cat "$R/opt/plain")" hello
is "COPY of a symlink into a directory: what it leads to, under its own name" \
  "$(ls "$R/opt/linked"):$(stat -c %F "$R/opt/linked/greeting-link" 2>&1):$(cat "$R/opt/linked/greeting-link" 2>&1)" \
  "greeting-link:regular file:hello"
is "ADD of a uuencoded tar copies the file, unpacking nothing" "$(ls "$R/opt/uu")" tree.tar.uu
is "RUN sees ARG and ENV, in WORKDIR" "$(cat "$R/built.txt"):$(cat "$R/pwd.txt")" \
  "hi production mode fallback set:/srv/www"
is "the RUN step left nothing of the executor" "$(ls "$R/etc/hostname" "$R/etc/resolv.conf" 2>&1 | grep -c 'No such')" 2
check_clean "the image runs" "$ACTOOL" --insecure-options=image run "$TMP/web.aci"
is "and does what ENTRYPOINT and CMD say" "$(cat "$TMP/.out")" hello

# --- the cache ------------------------------------------------------------------

check_clean "the same Containerfile again" \
  build --file="$C/Containerfile" --name=example.com/web --build-arg=BASE="$BASE" "$C" "$TMP/web2.aci"
is "every step after FROM is cached" "$(grep -c -- '^--> cached' "$TMP/.err")" 19
is "and the image ID is the first build's" "$(cat "$TMP/.out")" "$ID1"
# A step's record holds its manifest: one of 100 KB outlives image gc, as
# its image does.
BIG=$TMP/bigctx
mkdir -p "$BIG"
printf 'FROM %s\nLABEL big=%s\nRUN echo big >/big\n' "$BASE" "$(head -c 75000 /dev/zero | tr '\0' x)" \
  >"$BIG/Containerfile"
check_clean "a Containerfile with a 75,000-byte label" build --file="$BIG/Containerfile" "$BIG" "$TMP/big.aci"
check_clean "image gc" "$ACTOOL" image gc --grace=0s
check_clean "the same Containerfile after image gc" build --file="$BIG/Containerfile" "$BIG" "$TMP/big2.aci"
is "... is all cached still" "$(grep -c -- '^--> cached' "$TMP/.err")" 2
check_rejects "an OUT in the store is refused before any step, naming it and the store" \
  "^actool: $(regex_quote "$ACTOOL_DIR/big.aci"): in the store $(regex_quote "$ACTOOL_DIR"): " \
  build --file="$BIG/Containerfile" "$BIG" "$ACTOOL_DIR/big.aci"
is "... no step ran, nothing made there" "$(grep -c '^STEP' "$TMP/.err"):$(ls -A "$ACTOOL_DIR" | grep -c big)" "0:0"
check_clean "--no-cache" \
  build --no-cache --file="$C/Containerfile" --name=example.com/web --build-arg=BASE="$BASE" "$C" "$TMP/web3.aci"
is "--no-cache runs every step" "$(grep -c -- '^--> cached' "$TMP/.err")" 0
echo changed >"$C/hello.txt"
check_clean "a changed COPY source" \
  build --file="$C/Containerfile" --name=example.com/web --build-arg=BASE="$BASE" "$C" "$TMP/web4.aci"
is "re-runs from its step (8): the steps before it are cached, none after" \
  "$(grep -B1 -- '^--> cached' "$TMP/.err" | grep -o '^STEP [0-9]*' | tr '\n' ' ')" \
  "STEP 3 STEP 4 STEP 5 STEP 6 STEP 7 "
rootfs "$TMP/web4.aci"
is "and the image has the new content" "$(cat "$R/etc/hello.txt")" changed
check_clean "--build-arg changes what RUN sees" \
  build --file="$C/Containerfile" --name=example.com/web --build-arg=BASE="$BASE" \
  --build-arg=GREETING=howdy "$C" "$TMP/web5.aci"
rootfs "$TMP/web5.aci"
is "the new ARG value reached RUN" "$(cut -d' ' -f1 "$R/built.txt")" howdy
is "no work directory is left in the store's tmp/" "$(ls "$ACTOOL_DIR/tmp" 2>/dev/null | grep -c containerfile)" 0
is "no pod is left" "$("$ACTOOL" list --json | jq length)" 0
is "cache images have a name of their own: the only example.com/web is the one run imported" \
  "$("$ACTOOL" image list | awk 'NR > 1 {print $2}' | sort | uniq -c | awk '$2 != "actool.local/build-cache" {print $1, $2}' | tr '\n' ' ')" \
  "1 example.com/busybox 1 example.com/web "

# A base whose /etc is a symlink: the executor's files (the build host's
# /etc/hosts and nameserver, as RUN has the host's network) are written
# where it leads, and stay out of the image there too.
"$ACTOOL" layout --layout="$TMP/etclink" init --name=example.com/etclink >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$TMP/etclink/rootfs" >/dev/null &&
  mv "$TMP/etclink/rootfs/etc" "$TMP/etclink/rootfs/var/etc" &&
  ln -s var/etc "$TMP/etclink/rootfs/etc" &&
  "$ACTOOL" build "$TMP/etclink" "$TMP/etclink.aci" >/dev/null ||
  not_ok "a busybox base image whose /etc is a symlink"
mkdir -p "$TMP/etclink-ctx"
printf 'FROM %s\nRUN echo mine >/etc/mine\n' "$TMP/etclink.aci" >"$TMP/etclink-ctx/Containerfile"
check_clean "RUN on a base whose /etc is a symlink (etc -> var/etc)" \
  build --file="$TMP/etclink-ctx/Containerfile" "$TMP/etclink-ctx" "$TMP/etclink-out.aci"
rootfs "$TMP/etclink-out.aci"
is "... the RUN's file is in the image where /etc leads, none of the executor's" \
  "$(ls -A "$TMP/x/rootfs/var/etc" | sort | tr '\n' ' ')" "group mine nsswitch.conf passwd "

# A sparse COPY source: the cache key hashes its data, not its holes (it
# once read every byte of them: a terabyte of zeros, minutes of SHA-256).
# "timeout 60" guards against that, it measures nothing.
SP=$TMP/sparsectx
mkdir -p "$SP" && truncate -s 1T "$SP/big" && printf start | dd of="$SP/big" conv=notrunc status=none &&
  printf 'FROM %s\nCOPY big /big\nRUN echo after >/after\n' "$BASE" >"$SP/Containerfile"
check_clean "a Containerfile that copies a 1 TiB sparse file" \
  timeout 60 "$ACTOOL" --insecure-options=image build --file="$SP/Containerfile" "$SP" "$TMP/sparse.aci"
check_clean "the same again" \
  timeout 60 "$ACTOOL" --insecure-options=image build --file="$SP/Containerfile" "$SP" "$TMP/sparse2.aci"
is "... is all cached" "$(grep -c -- '^--> cached' "$TMP/.err")" 2
printf x | dd of="$SP/big" bs=1 seek=$((1 << 39)) conv=notrunc status=none
check_clean "one byte written in the middle of its holes" \
  timeout 60 "$ACTOOL" --insecure-options=image build --file="$SP/Containerfile" "$SP" "$TMP/sparse3.aci"
is "... re-runs the COPY and what follows" "$(grep -c -- '^--> cached' "$TMP/.err")" 0
rm -rf "$SP" "$TMP/sparse.aci" "$TMP/sparse2.aci" "$TMP/sparse3.aci"

# A step's key is the instruction as written and the variables as they
# stand: steps that read their words differently never share one.
K=$TMP/keys
mkdir -p "$K"
key_pair() { # DESCRIPTION JQ-FILTER WANT FIRST-STEPS SECOND-STEPS
  rm -f "$K/1.aci" "$K/2.aci"
  printf 'FROM %s\n%b' "$BASE" "$4" >"$K/Containerfile"
  build --file="$K/Containerfile" --name=example.com/keys "$K" "$K/1.aci" >/dev/null 2>&1
  printf 'FROM %s\n%b' "$BASE" "$5" >"$K/Containerfile"
  check_clean "$1: built" build --file="$K/Containerfile" --name=example.com/keys "$K" "$K/2.aci"
  is "$1: not taken from the cache" "$(manifest "$K/2.aci" "$2")" "$3"
}
key_pair "ENV A 1  2, then ENV A 1 2" '[.app.environment[] | select(.name == "A") | .value]' \
  '["1 2"]' 'ENV A 1  2\n' 'ENV A 1 2\n'
key_pair 'ENV A=$V with V="1 B=2", then ENV A=1 B=2' \
  '[.app.environment[] | select(.name == "A" or .name == "B") | .name + "=" + .value]' \
  '["A=1","B=2"]' 'ENV V="1 B=2"\nENV A=$V\n' 'ENV V="1 B=2"\nENV A=1 B=2\n'
key_pair "WORKDIR /a  b, then WORKDIR /a b" .app.workingDirectory '"/a b"' \
  'WORKDIR /a  b\n' 'WORKDIR /a b\n'
echo 'FROM actool.local/build-cache' >"$K/Containerfile"
check_rejects "FROM an image of the build cache is refused" \
  'FROM sha512-[0-9a-f]+: an image of the build cache, not a base' \
  build --file="$K/Containerfile" "$K" "$K/3.aci"
rm -rf "$K"

# 16,384 ports on one line, eight times: each port was looked for in the
# whole list (8 s a line).  "timeout 30" guards against that, it measures
# nothing.
P=$TMP/ports
mkdir -p "$P"
{
  printf 'FROM %s\n' "$BASE"
  for _ in $(seq 8); do
    printf 'EXPOSE'
    for k in $(seq 0 15); do printf ' %d-%d/udp' $((k * 1024 + 1)) $((k * 1024 + 1024)); done
    printf '\n'
  done
} >"$P/Containerfile"
check_clean "EXPOSE of 16,384 ports, eight times" \
  timeout 30 "$ACTOOL" --insecure-options=image build --file="$P/Containerfile" "$P" "$P/out.aci"
is "... makes 16,384 ports" "$(manifest "$P/out.aci" '.app.ports | length')" 16384
rm -rf "$P"

# A wildcard is matched in the context, whose own name may hold [ ] * ?.
G=$TMP/glob
mkdir -p "$G/ctx[1]" "$G/ctx1"
echo a >"$G/ctx[1]/a.txt"
echo b >"$G/ctx1/b.txt"
printf 'FROM %s\nCOPY *.txt /x/\n' "$BASE" >"$G/Containerfile"
check_clean "COPY *.txt in a context named ctx[1]" \
  build --file="$G/Containerfile" "$G/ctx[1]" "$G/out.aci"
is "... copies its a.txt, not the sibling ctx1's b.txt" \
  "$(tar -tf "$G/out.aci" | grep '^rootfs/x/' | sort | tr '\n' ' ')" "rootfs/x/ rootfs/x/a.txt "
mkdir -p "$G/ctx[1]/src" && echo h >"$G/ctx[1]/src/.hidden" && echo v >"$G/ctx[1]/src/visible"
printf 'FROM %s\nCOPY src/* /y/\n' "$BASE" >"$G/Containerfile"
check_clean "COPY src/*" build --file="$G/Containerfile" "$G/ctx[1]" "$G/dot.aci"
is "... copies dotfiles too, as Docker's * matches them" \
  "$(tar -tf "$G/dot.aci" | grep '^rootfs/y/' | sort | tr '\n' ' ')" "rootfs/y/ rootfs/y/.hidden rootfs/y/visible "
rm -rf "$G"

# --- forms ----------------------------------------------------------------------

F=$TMP/forms
mkdir -p "$F"
cat >"$F/Containerfile" <<'EOF'
# escape=`
FROM BASE
RUN echo one `
    two > /words
ENTRYPOINT echo shell form ignores CMD
CMD ["never"]
EOF
sed -i "s|^FROM BASE|FROM $BASE|" "$F/Containerfile"
check_clean "the escape directive and a shell-form ENTRYPOINT" build --file="$F/Containerfile" "$F" "$TMP/forms.aci"
is "the name defaults to the context directory's" "$(manifest "$TMP/forms.aci" .name)" '"forms"'
is "a shell-form ENTRYPOINT is /bin/sh -c, and takes no CMD" "$(manifest "$TMP/forms.aci" .app.exec)" \
  '["/bin/sh","-c","echo shell form ignores CMD"]'
rootfs "$TMP/forms.aci"
is "a continued line is one command" "$(cat "$R/words")" "one two"
printf 'FROM %s\nCMD echo $HOME\n' "$BASE" >"$F/Containerfile"
check_clean "a shell-form CMD" build --file="$F/Containerfile" "$F" "$TMP/cmd.aci"
is "is /bin/sh -c, its variables left to the shell" "$(manifest "$TMP/cmd.aci" .app.exec)" \
  '["/bin/sh","-c","echo $HOME"]'
printf 'FROM scratch\nCOPY hello.txt /\n' >"$F/Containerfile"
cp "$C/hello.txt" "$F/"
check_clean "FROM scratch" build --file="$F/Containerfile" --name=example.com/scratch "$F" "$TMP/scratch.aci"
rootfs "$TMP/scratch.aci"
is "holds only what was copied" "$(cd "$R" && find . | sort | tr '\n' ' ')" ". ./hello.txt "

# A directory left out, and a file below it taken back: Docker walks the
# directory all the same and copies that file.
G=$TMP/reinclude
mkdir -p "$G/cfg/sub" "$G/other"
echo keep >"$G/cfg/keep" && echo drop >"$G/cfg/drop" && echo deep >"$G/cfg/sub/deep"
echo other >"$G/other/file"
printf 'cfg\n!cfg/keep\nother\n' >"$G/.dockerignore"
printf 'FROM scratch\nCOPY . /ctx/\nCOPY cfg /cfg/\n' >"$G/Containerfile"
check_clean "ignore \"cfg\" then \"!cfg/keep\"" build --file="$G/Containerfile" --name=example.com/reinclude "$G" \
  "$TMP/reinclude.aci"
rootfs "$TMP/reinclude.aci"
is "... COPY . keeps cfg/keep alone of cfg, and nothing of other" \
  "$(cd "$R/ctx" && find . | sort | tr '\n' ' ')" ". ./.dockerignore ./Containerfile ./cfg ./cfg/keep "
is "... COPY cfg, named, copies cfg/keep" "$(cd "$R/cfg" && find . | sort | tr '\n' ' ')" ". ./keep "

# COPY onto a merged /usr's /lib -> usr/lib: the symlink stays and
# usr/lib takes the files, as Docker's COPY does.
M=$TMP/merged
mkdir -p "$M" && "$ACTOOL" layout init --layout="$M/base" --name=example.com/merged >/dev/null 2>&1
mkdir -p "$M/base/rootfs/usr/lib" "$M/ctx/tree/lib" && ln -s usr/lib "$M/base/rootfs/lib"
echo libc >"$M/base/rootfs/usr/lib/libc.so.6" && echo foo >"$M/ctx/tree/lib/foo.so"
"$ACTOOL" build "$M/base" "$M/base.aci" >/dev/null 2>&1
printf 'FROM %s\nCOPY tree/ /\n' "$M/base.aci" >"$M/ctx/Containerfile"
check_clean "COPY a directory onto a symlink to a directory" \
  build --file="$M/ctx/Containerfile" --name=example.com/merged-copy "$M/ctx" "$M/copy.aci"
rootfs "$M/copy.aci"
is "... keeps the symlink and fills what it leads to" \
  "$(readlink "$R/lib" 2>&1):$(ls "$R/usr/lib" 2>&1 | tr '\n' ' ')" "usr/lib:foo.so libc.so.6 "

# A base image's manifest keys that the schema does not define are left
# out of the image built on it, with a warning each, as layout init --from.
K=$TMP/unknown
mkdir -p "$K/base/rootfs" "$K/ctx"
cat >"$K/base/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/unknown-base",
 "app":{"exec":["/bin/app"],"user":"0","group":"0","workingDir":"/srv"},"x-build-info":{"commit":"abc"}}
JSON
"$ACTOOL" build "$K/base" "$K/base.aci" >/dev/null 2>&1
echo hi >"$K/ctx/hi"
printf 'FROM %s\nCOPY hi /hi\n' "$K/base.aci" >"$K/ctx/Containerfile"
run_capture build --file="$K/ctx/Containerfile" --name=example.com/unknown-child "$K/ctx" "$K/child.aci"
is "FROM an image with unknown keys: built, warning of each key left out" \
  "$status:$(cat "$TMP/.out" "$TMP/.err" | grep -c 'warning: sha512-[0-9a-f]*: \(app\.workingDir: unknown key, not taken into the image (did you mean "workingDirectory"?)\|x-build-info: unknown key, not taken into the image\)$')" "0:2"
is "... and the image has none of them" \
  "$(manifest "$K/child.aci" '[.app.workingDir, .["x-build-info"], .app.exec[0]]')" '[null,null,"/bin/app"]'
jq -c '. + ([range(30)] | map({key: "x\(.)", value: .}) | from_entries)' "$K/base/manifest" >"$K/flood" &&
  mv "$K/flood" "$K/base/manifest"
"$ACTOOL" build --overwrite "$K/base" "$K/base.aci" >/dev/null 2>&1
run_capture build --file="$K/ctx/Containerfile" --name=example.com/unknown-child "$K/ctx" "$K/child30.aci"
is "... of 32 unknown keys, the first 20, then how many more" \
  "$status:$(cat "$TMP/.out" "$TMP/.err" | grep -c ': unknown key, not taken into the image')/$(cat "$TMP/.out" "$TMP/.err" | grep -o 'warning: sha512-[0-9a-f]*: \.\.\. and [0-9]* more unknown keys, not taken into the image$' | sed 's/sha512-[0-9a-f]*/ID/')" \
  "0:20/warning: ID: ... and 12 more unknown keys, not taken into the image"

# --- as Docker does it ---------------------------------------------------------

D=$TMP/docker
mkdir -p "$D/ctx"
# dbuild DESCRIPTION CONTAINERFILE-TEXT: the text (printf %b) built with
# the context $D/ctx into $D/out.aci, unpacked in $R.
dbuild() {
  printf '%b' "$2" >"$D/Containerfile"
  rm -f "$D/out.aci"
  check_clean "$1" build --no-cache --file="$D/Containerfile" "$D/ctx" "$D/out.aci"
  rootfs "$D/out.aci"
}
dbuild "ARG VERSION, ENV VERSION=2-\$VERSION, RUN" \
  "FROM $BASE\nARG VERSION=1\nENV VERSION=2-\$VERSION\nRUN echo \"v=\$VERSION\" >/v\n"
is "... RUN sees the ENV's value (ENV overrides an ARG of its name)" "$(cat "$R/v" 2>&1)" v=2-1

# ENTRYPOINT and CMD: an ENTRYPOINT drops the base image's CMD, not one
# the file set before it (moby's cmdSet); an exec form is one whatever it
# holds; the base's ENTRYPOINT stays under a new CMD.
dbuild "CMD, then ENTRYPOINT" "FROM $BASE\nCMD [\"hello\"]\nENTRYPOINT [\"/bin/echo\"]\n"
is "... keeps the CMD" "$(manifest "$D/out.aci" .app.exec)" '["/bin/echo","hello"]'
dbuild "an exec-form ENTRYPOINT [\"/bin/sh\", \"-c\", ...] and a CMD" \
  "FROM $BASE\nENTRYPOINT [\"/bin/sh\",\"-c\",\"echo \$0 \$1\"]\nCMD [\"a\",\"b\"]\n"
is "... takes the CMD" "$(manifest "$D/out.aci" .app.exec)" '["/bin/sh","-c","echo $0 $1","a","b"]'
"$ACTOOL" image export --format=oci example.com/busybox "oci:$D/oci:v1" >/dev/null 2>&1 &&
  python3 "$top_srcdir/tests/integration/oci-craft.py" config-set "$D/oci" v1 Entrypoint '["/bin/echo","ENTRY"]' &&
  python3 "$top_srcdir/tests/integration/oci-craft.py" config-set "$D/oci" v1 Cmd '["basecmd"]' ||
  not_ok "an OCI image with an Entrypoint and a Cmd"
dbuild "FROM an OCI image with Entrypoint and Cmd, then CMD" "FROM oci:$D/oci:v1\nCMD [\"mycmd\"]\n"
is "... runs the base's Entrypoint with the new CMD" "$(manifest "$D/out.aci" .app.exec)" \
  '["/bin/echo","ENTRY","mycmd"]'
is "... and records both, as an import does" \
  "$(manifest "$D/out.aci" '[.annotations[] | select(.name | test("^appc.io/docker/(entrypoint|cmd)$")) | .value]')" \
  '["[\"/bin/echo\",\"ENTRY\"]","[\"mycmd\"]"]'
cp "$D/out.aci" "$D/entry.aci"
dbuild "FROM that image, then CMD" "FROM $D/entry.aci\nCMD [\"again\"]\n"
is "... still runs the Entrypoint" "$(manifest "$D/out.aci" .app.exec)" '["/bin/echo","ENTRY","again"]'
dbuild "FROM an OCI image with Entrypoint and Cmd, then ENTRYPOINT" \
  "FROM oci:$D/oci:v1\nENTRYPOINT [\"/bin/cat\"]\n"
is "... drops the base's Cmd" "$(manifest "$D/out.aci" .app.exec)" '["/bin/cat"]'
dbuild "FROM an OCI image with Entrypoint and Cmd, then ENTRYPOINT []" "FROM oci:$D/oci:v1\nENTRYPOINT []\n"
is "... leaves the app no exec, as Docker's image has no command" "$(manifest "$D/out.aci" .app.exec)" null

# Every word of an instruction is expanded with the variables as they were
# before it (Docker's example: ENV abc=bye def=$abc gives def the old abc).
dbuild "ENV abc=hello, then ENV abc=bye def=\$abc, ARG and LABEL alike" \
  "FROM scratch\nENV abc=hello\nENV abc=bye def=\$abc\nARG x=1\nARG x=2 y=\$x\nLABEL l1=\$y l2=\$x\n"
is "... def is hello" "$(manifest "$D/out.aci" '[.app.environment[] | .name + "=" + .value]')" \
  '["abc=bye","def=hello"]'
is "... and ARG's y the x before it" "$(manifest "$D/out.aci" '[.annotations[] | .name + "=" + .value]')" \
  '["l1=1","l2=2"]'

# The exec forms of COPY, ADD and VOLUME expand variables (not RUN's, CMD's
# or ENTRYPOINT's).
echo real >"$D/ctx/realf"
dbuild "COPY [\"\$F\", ...], ADD and VOLUME [\"\$V\"]" \
  "FROM scratch\nENV F=realf V=/data\nCOPY [\"\$F\", \"/x\"]\nADD [\"\${F}\", \"/y\"]\nVOLUME [\"\$V\"]\nCMD [\"\$F\"]\n"
is "... expand them" "$(cat "$R/x" "$R/y" 2>&1 | tr '\n' ' '):$(manifest "$D/out.aci" '[.app.mountPoints[0].path, .app.exec[0]]')" \
  'real real :["/data","$F"]'
rm "$D/ctx/realf"

# An ARG before FROM is FROM's: the stage sees it only through a bare
# ARG NAME of its own.
dbuild "ARGs before FROM" "ARG V=leak\nARG W=meta\nFROM scratch\nARG W\nLABEL x=a\$V y=\$W\n"
is "... are unset in the stage unless declared there again" \
  "$(manifest "$D/out.aci" '[.annotations[] | .name + "=" + .value]')" '["x=a","y=meta"]'

dbuild "EXPOSE 80/TCP 53/Udp" "FROM scratch\nEXPOSE 80/TCP 53/Udp\n"
is "... lower-cases the protocol, as Docker does" \
  "$(manifest "$D/out.aci" '[.app.ports[] | .name + ":" + .protocol]')" '["80-tcp:tcp","53-udp:udp"]'

# LABEL keys as the importer makes a Docker image's labels annotations.
dbuild "LABEL Maintainer=me \"Build Date\"=today" "FROM scratch\nLABEL Maintainer=me \"Build Date\"=today\n"
is "... are the annotations maintainer and build-date" \
  "$(manifest "$D/out.aci" '[.annotations[] | .name + "=" + .value]')" '["maintainer=me","build-date=today"]'

# --- refusals -----------------------------------------------------------------

refuse() { # DESCRIPTION PATTERN CONTAINERFILE-TEXT
  printf '%b' "$3" >"$F/Containerfile"
  check_rejects "$1" "$2" build --file="$F/Containerfile" "$F" "$TMP/refused.aci"
}
refuse "ONBUILD is refused with its line" 'Containerfile:2: ONBUILD is not supported' "FROM $BASE\nONBUILD RUN true\n"
refuse "HEALTHCHECK is refused" 'Containerfile:3: HEALTHCHECK is not supported' "FROM $BASE\n\nHEALTHCHECK CMD true\n"
refuse "a second FROM is refused" 'Containerfile:2: .*multi-stage' "FROM $BASE\nFROM $BASE\n"
refuse "COPY --from is refused" 'Containerfile:2: COPY --from=x is not supported' "FROM $BASE\nCOPY --from=x /a /b\n"
refuse "RUN --mount is refused" 'Containerfile:2: RUN --mount' "FROM $BASE\nRUN --mount=type=cache,target=/x true\n"
refuse "a heredoc is refused at its RUN" 'Containerfile:2: RUN: heredocs \(<<WORD\) are not supported' \
  "FROM scratch\nRUN <<EOF\necho hi\nEOF\n"
refuse "a refusal says what is wrong, no strerror after it" 'Containerfile:1: FROM takes IMAGE \[AS NAME\]$' \
  "FROM scratch AS\n"
refuse "an unknown instruction" 'Containerfile:2: "FROBNICATE" is not an instruction' "FROM $BASE\nFROBNICATE x\n"
refuse "no FROM" 'no FROM' "# nothing\n"
refuse "an instruction before FROM" 'Containerfile:1: RUN before FROM' "RUN true\nFROM $BASE\n"
refuse "a COPY source outside the context" 'Containerfile:2: .*outside the build context' "FROM $BASE\nCOPY ../../etc/passwd /x\n"
echo key >"$F/secret.key" && echo a >"$F/a.txt" && echo '*.key' >"$F/.dockerignore"
refuse "a COPY source named, that .dockerignore leaves out, is not found (as Docker has it)" \
  'Containerfile:2: secret.key: not found in the build context' "FROM scratch\nCOPY a.txt secret.key /d/\n"
printf 'FROM scratch\nCOPY a.txt *.key /d/\n' >"$F/Containerfile"
check_clean "a wildcard's match that .dockerignore leaves out" build --file="$F/Containerfile" "$F" "$TMP/ign.aci"
is "... is skipped" "$(tar -tf "$TMP/ign.aci" | grep '^rootfs/d/' | sort | tr '\n' ' ')" "rootfs/d/ rootfs/d/a.txt "
rm -f "$F/.dockerignore" "$F/secret.key" "$F/a.txt" "$TMP/ign.aci"
refuse "a wildcard that glob(3) matches to .. (.[.]) matches nothing in the context" \
  'Containerfile:2: \.\[\.\]/busy\*: no file in the build context matches' "FROM scratch\nCOPY .[.]/busy* /s/\n"
is "... and names no file outside it" "$(grep -c busybox.aci "$TMP/.err")" 0
ln -sf /etc/passwd "$F/escape"
refuse "a COPY source symlinked out of the context" 'Containerfile:2: .*outside the build context' "FROM $BASE\nCOPY escape /x\n"
refuse "ADD of a URL" 'Containerfile:2: ADD http://example.com/x: remote sources' "FROM $BASE\nADD http://example.com/x /x\n"
refuse "a failing RUN, with its status" 'Containerfile:3: RUN exited with status 3' "FROM $BASE\n\nRUN exit 3\n"
refuse "a LABEL of which no annotation name can be made" \
  'Containerfile:2: LABEL "%%": no annotation name' "FROM $BASE\nLABEL %%=1\n"
refuse "a LABEL named as the importer's annotations" \
  'Containerfile:2: LABEL "appc.io/docker/cmd": no annotation name' "FROM $BASE\nLABEL appc.io/docker/cmd=[]\n"
refuse "a bad EXPOSE (a protocol docker does not know)" 'Containerfile:2: EXPOSE 80/dccp' "FROM $BASE\nEXPOSE 80/dccp\n"
refuse "an EXPOSE range of more than 1,025 ports, saying so (not that the syntax is wrong)" \
  'Containerfile:2: EXPOSE 1-1026/tcp: a range of 1026 ports, more than the 1025 one range may name$' \
  "FROM scratch\nEXPOSE 1-1025 1-1026/tcp\n"
# A tar cut short: libarchive's errno is -1, not one to give strerror.
python3 -c 'import sys, tarfile
t = tarfile.TarInfo("big"); t.size = 1 << 20
open(sys.argv[1], "wb").write(t.tobuf(tarfile.GNU_FORMAT) + b"A" * 512)' "$F/cut.tar"
refuse "ADD of a truncated tar says so, without \"Unknown error -1\"" \
  'Containerfile:2: ADD: .*/cut.tar: Truncated tar archive$' "FROM scratch\nADD cut.tar /d/\n"
refuse "an unclosed quote" "Containerfile:2: .*closing" "FROM $BASE\nENV A=\"open\n"
refuse "a FROM that cannot be fetched" 'Containerfile:1: FROM /nonexistent.aci' "FROM /nonexistent.aci\n"
# Each reference pastes a value in whole: 1,000 of them per line made the
# value a thousand times larger per line (a terabyte on the fifth).
{
  printf 'FROM %s\nARG A=%s\n' "$BASE" "$(head -c 1000 /dev/zero | tr '\0' x)"
  for _ in 1 2 3; do printf 'ARG A=%s\n' "$(printf '$A%.0s' $(seq 1000))"; done
} >"$F/Containerfile"
limit=
sanitized || limit='ulimit -v 2000000 &&' # less than the old code took
check_rejects "a variable expansion bomb is refused at once" \
  'Containerfile:4: variables expand to more than 1048576 bytes in one instruction' \
  timeout 60 bash -c "$limit"' exec "$@"' bomb "$ACTOOL" --insecure-options=image build \
  --file="$F/Containerfile" "$F" "$TMP/refused.aci"
{
  printf 'FROM %s\n' "$BASE"
  for i in $(seq 1024); do printf 'LABEL l%d=v\n' "$i"; done
} >"$F/Containerfile"
check_rejects "more than 1,024 instructions are refused, with the line" \
  'Containerfile:1025: more than 1024 instructions' \
  build --file="$F/Containerfile" "$F" "$TMP/refused.aci"
is "no output file is left by refused builds" "$(ls "$TMP/refused.aci" 2>&1 | grep -c 'No such')" 1
is "no work directory is left after failures" "$(ls "$ACTOOL_DIR/tmp" 2>/dev/null | grep -c containerfile)" 0
echo old >"$TMP/exists.aci"
printf 'FROM %s\nRUN echo RUN-STEP-RAN\n' "$BASE" >"$F/Containerfile"
check_rejects "an existing OUT without --overwrite is refused" \
  'exists.aci: refusing to replace an existing file' build --file="$F/Containerfile" "$F" "$TMP/exists.aci"
is "... before any step runs" "$(grep -c 'RUN-STEP-RAN\|^STEP' "$TMP/.err")" 0
rm "$TMP/exists.aci"
check_fails "--build-arg without --file is a usage error" 2 'go with --file' \
  "$ACTOOL" build --build-arg=A=1 "$TMP/base" "$TMP/x.aci"

# --- the example: fixtures/web, a busybox httpd image -----------------------------

check_clean "fixtures/web builds" build --file="$top_srcdir/fixtures/web/Containerfile" \
  --build-arg=BASE="$BASE" --name=example.com/web "$top_srcdir/fixtures/web" "$TMP/fixture.aci"
rootfs "$TMP/fixture.aci"
is "with its site, less what its .dockerignore leaves out" \
  "$(cd "$R/srv/www" && ls | tr '\n' ' ')" "build.txt index.html "
port=$(free_port)
uuid=$("$ACTOOL" --insecure-options=image run --detach --net=host "$TMP/fixture.aci" -- -p "$port" 2>"$TMP/.err")
page=""
for _ in $(seq 300); do
  page=$(busybox wget -q -O - "http://127.0.0.1:$port/" 2>/dev/null) && break
  sleep 0.1
done
case $page in *"Hello from an ACI built from a Containerfile"*) ok "and serves its page" ;;
*) not_ok "and serves its page"; note "$(cat "$TMP/.err")" "$("$ACTOOL" status --log "$uuid" 2>&1)" ;; esac
check_clean "and stops" "$ACTOOL" stop "$uuid"

done_testing
