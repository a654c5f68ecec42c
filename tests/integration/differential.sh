#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Differential test against the Go reference actool v0.8.11: both binaries
# validate every fixture of fixtures/manifests/expected.tsv plus manifests
# generated here by mutating rich valid manifests one field at a time, and
# their verdicts (exit 0 = valid, anything else = invalid) must agree.
# A fixture listed in fixtures/manifests/deviations.tsv must instead give the
# verdict recorded there.  One TAP line per manifest.
#
# The reference comes from $REF_ACTOOL, or is built with
#   GOPATH=/usr/share/gocode GO111MODULE=off go build github.com/appc/spec/actool
# when go and the sources are present; otherwise the test is skipped.
# DIFF_FULL=1 runs every (field, value) pair instead of a fixed tenth of them.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh"
shopt -u patsub_replacement 2>/dev/null || true

dir=$top_srcdir/fixtures/manifests
gocode=${REF_GOPATH:-/usr/share/gocode}

ref=${REF_ACTOOL:-}
if [ -z "$ref" ]; then
  if command -v go >/dev/null 2>&1 && [ -d "$gocode/src/github.com/appc/spec" ]; then
    ref=$TMP/ref-actool
    # reuse the user's build cache when it is writable (a cold build is slow)
    cache=$(go env GOCACHE 2>/dev/null) || cache=
    if [ -z "$cache" ] || ! mkdir -p "$cache" 2>/dev/null || [ ! -w "$cache" ]; then
      cache=$TMP/gocache
    fi
    if ! GOPATH=$gocode GO111MODULE=off GOFLAGS='' GOCACHE=$cache \
      go build -o "$ref" github.com/appc/spec/actool >"$TMP/build.log" 2>&1; then
      echo "1..0 # SKIP reference actool failed to build: $(head -c 300 "$TMP/build.log" | tr '\n' ' ')"
      exit 0
    fi
  else
    echo "1..0 # SKIP reference actool unavailable"
    exit 0
  fi
fi
if [ ! -x "$ref" ]; then
  echo "1..0 # SKIP reference actool unavailable ($ref is not executable)"
  exit 0
fi

# The comparison is about verdicts, not memory safety: the sanitizer run covers
# the same fixtures through manifests.sh, so this runs in the plain build only.
if nm "$ACTOOL" 2>/dev/null | grep -q __asan_init; then
  echo "1..0 # SKIP verdict comparison runs in the plain build"
  exit 0
fi

declare -A override=() reason=()
if [ -r "$dir/deviations.tsv" ]; then
  while IFS=$'\t' read -r file ours _refv why; do
    case $file in '' | '#'*) continue ;; esac
    override[$file]=$ours
    reason[$file]=$why
  done <"$dir/deviations.tsv"
fi

# verdict BINARY FILE: prints valid or invalid
verdict() {
  if "$1" validate "$2" >/dev/null 2>&1; then echo valid; else echo invalid; fi
}

# compare NAME FILE [DEVIATION-VERDICT]
compare() {
  local name=$1 f=$2 dev=${3:-} r o
  r=$(verdict "$ref" "$f")
  o=$(verdict "$ACTOOL" "$f")
  if [ -n "$dev" ] && [ "$dev" != "$r" ]; then
    if [ "$o" = "$dev" ]; then ok "$name: $o (deviation; reference says $r)"; else
      not_ok "$name: ours $o, deviation says $dev (reference $r)"
      diag "${reason[$name]:-}"
    fi
  elif [ "$r" = "$o" ]; then
    ok "$name: $o"
  else
    not_ok "$name: ours $o, reference $r"
    diag "manifest: $(head -c 600 "$f")"
    diag "reference: $("$ref" validate "$f" 2>&1 | head -c 300)"
    diag "ours: $("$ACTOOL" validate "$f" 2>&1 | head -c 300)"
  fi
}

# 1. the fixture corpus
if [ -r "$dir/expected.tsv" ]; then
  while IFS=$'\t' read -r file _verdict _path; do
    case $file in '' | '#'*) continue ;; esac
    [ -e "$dir/$file" ] || {
      not_ok "$file: missing"
      continue
    }
    compare "$file" "$dir/$file" "${override[$file]:-}"
  done <"$dir/expected.tsv"
else
  not_ok "read $dir/expected.tsv"
fi

# 2. generated mutations.  Each template holds @SLOT@ markers standing for raw
# JSON values; a case replaces one slot with one value from VALUES and every
# other slot with its default.  The defaults give a valid manifest.
IMAGE_TPL='{"acKind":"ImageManifest","acVersion":@ACVER@,"name":@NAME@,
 "labels":[{"name":@LBLNAME@,"value":@LBLVAL@},{"name":"os","value":@OS@},{"name":"arch","value":@ARCH@}],
 "app":{"exec":[@EXEC0@,"--flag"],"user":@USER@,"group":@GROUP@,"supplementaryGIDs":[@GID@],
  "eventHandlers":[{"name":@EHNAME@,"exec":["/bin/true"]}],
  "workingDirectory":@WD@,
  "environment":[{"name":@ENVNAME@,"value":@ENVVAL@}],
  "mountPoints":[{"name":@MPNAME@,"path":@MPPATH@,"readOnly":@MPRO@}],
  "ports":[{"name":@PORTNAME@,"protocol":@PROTO@,"port":@PORT@,"count":@COUNT@,"socketActivated":@SOCKACT@}],
  "isolators":[{"name":"resource/memory","value":{"limit":@MEMLIMIT@}},
   {"name":@ISONAME@,"value":{"set":["CAP_SYS_ADMIN"]}},
   {"name":"os/linux/seccomp-remove-set","value":{"set":[@SYSCALL@],"errno":@ERRNO@}},
   {"name":"os/linux/oom-score-adj","value":@OOM@}],
  "userAnnotations":{"k":@UANNO@},"userLabels":{"k":@ULBL@}},
 "dependencies":[{"imageName":@DEPNAME@,"imageID":@DEPID@,"size":@DEPSIZE@}],
 "pathWhitelist":[@PWL@],
 "annotations":[{"name":@ANNONAME@,"value":"x"},{"name":"created","value":@CREATED@},{"name":"homepage","value":@HOMEPAGE@}]}'
POD_TPL='{"acKind":"PodManifest","acVersion":@PACVER@,
 "apps":[{"name":@APPNAME@,"image":{"name":@IMGNAME@,"id":@IMGID@,"labels":[{"name":"version","value":@IMGLBL@}]},
  "mounts":[{"volume":@MNTVOL@,"path":@MNTPATH@}]}],
 "volumes":[{"name":@VOLNAME@,"kind":@VOLKIND@,"source":@VOLSRC@,"readOnly":@VOLRO@}],
 "isolators":[{"name":@PISONAME@,"value":{"request":@CPUREQ@}}],
 "annotations":[{"name":@PANNONAME@,"value":@PANNOVAL@}],
 "ports":[{"name":@PPNAME@,"hostPort":@HOSTPORT@,"hostIP":@HOSTIP@}]}'

declare -A DEF=(
  [ACVER]='"0.8.11"' [NAME]='"example.com/app"' [LBLNAME]='"version"' [LBLVAL]='"1.0"'
  [OS]='"linux"' [ARCH]='"amd64"' [EXEC0]='"/bin/app"' [USER]='"0"' [GROUP]='"0"' [GID]='10'
  [EHNAME]='"pre-start"' [WD]='"/srv"' [ENVNAME]='"PATH"' [ENVVAL]='"/bin"'
  [MPNAME]='"data"' [MPPATH]='"/data"' [MPRO]='true' [PORTNAME]='"http"' [PROTO]='"tcp"'
  [PORT]='8080' [COUNT]='1' [SOCKACT]='false' [MEMLIMIT]='"1G"'
  [ISONAME]='"os/linux/capabilities-retain-set"' [SYSCALL]='"reboot"' [ERRNO]='"EPERM"'
  [OOM]='100' [UANNO]='"v"' [ULBL]='"v"' [DEPNAME]='"example.com/base"'
  [DEPID]='"sha512-0123456789abcdef"' [DEPSIZE]='1024' [PWL]='"/bin/app"'
  [ANNONAME]='"authors"' [CREATED]='"2015-05-18T13:49:28Z"' [HOMEPAGE]='"https://example.com"'
  [PACVER]='"0.8.11"' [APPNAME]='"web"' [IMGNAME]='"example.com/web"' [IMGID]='"sha512-0123456789abcdef"'
  [IMGLBL]='"1.0"' [MNTVOL]='"data"' [MNTPATH]='"/data"' [VOLNAME]='"data"' [VOLKIND]='"host"'
  [VOLSRC]='"/srv/data"' [VOLRO]='false' [PISONAME]='"resource/cpu"' [CPUREQ]='"250m"'
  [PANNONAME]='"authors"' [PANNOVAL]='"me"' [PPNAME]='"http"' [HOSTPORT]='80' [HOSTIP]='"127.0.0.1"'
)
# shellcheck disable=SC2034 # IMAGE_SLOTS and POD_SLOTS are used through namerefs
IMAGE_SLOTS=(ACVER NAME LBLNAME LBLVAL OS ARCH EXEC0 USER GROUP GID EHNAME WD ENVNAME ENVVAL
  MPNAME MPPATH MPRO PORTNAME PROTO PORT COUNT SOCKACT MEMLIMIT ISONAME SYSCALL ERRNO OOM
  UANNO ULBL DEPNAME DEPID DEPSIZE PWL ANNONAME CREATED HOMEPAGE)
# shellcheck disable=SC2034
POD_SLOTS=(PACVER APPNAME IMGNAME IMGID IMGLBL MNTVOL MNTPATH VOLNAME VOLKIND VOLSRC VOLRO
  PISONAME CPUREQ PANNONAME PANNOVAL PPNAME HOSTPORT HOSTIP)

long=$(printf 'abcdefghij%.0s' {1..30})
# Tricky values, as raw JSON.  Avoid the classes listed in deviations.tsv
# (invalid UTF-8, port+count wrapping past 2^64, non-ASCII errno letters
# that Go calls upper case or numeric).
VALUES=('""' '" "' '"a"' '"A"' '".."' '"."' '"-"' '"a-"' '"-a"' '"a.b"' '"a_b"' '"a~b"'
  '"a/b"' '"a//b"' '"/abs/path"' '"rel/path"' '"é"' '"\u00e9"' '"日本"' '"UPPER"' '"a b"'
  '"a\tb"' '"0"' '"-1"' '"1.5"' '"1e3"' '"500m"' '"1G"' '"123Mi"' '"1K"'
  '"sha512-abc"' '"sha512-"' '"sha256-abc"' '"http://x"' '"ftp://x"' '"2015-01-01T00:00:00Z"'
  '"2015-01-01"' '"linux"' '"darwin"' '"amd64"' '"x86_64"' '"pre-start"' '"post-stop"'
  '"EPERM"' '"E"' '"CAP_SYS_ADMIN"' '"0.8.11"' '"1.0.0-rc.1+b"' '"0.0.0"' '"1.0"'
  '"empty"' '"host"' '"127.0.0.1"' '"::1"' '"999.1.1.1"' '"name"' '"os"' '"created"'
  '"os/linux/cpu-shares"' '"resource/cpu"' '"os/linux/seccomp-retain-set"' "\"$long\""
  0 1 -1 2 65535 65536 1.5 1e3 true false null '[]' '{}' '[""]' 4294967296)

# render TEMPLATE SLOTS-ARRAY-NAME TARGET VALUE
render() {
  local out=$1 s
  local -n slots=$2
  for s in "${slots[@]}"; do
    if [ "$s" = "$3" ]; then out=${out//"@$s@"/"$4"}; else out=${out//"@$s@"/"${DEF[$s]}"}; fi
  done
  printf '%s\n' "$out"
}

mkdir -p "$TMP/gen"
# the unmutated templates must be valid for both
render "$IMAGE_TPL" IMAGE_SLOTS '' '' >"$TMP/gen/image-base.json"
render "$POD_TPL" POD_SLOTS '' '' >"$TMP/gen/pod-base.json"
for b in image-base pod-base; do
  if [ "$(verdict "$ref" "$TMP/gen/$b.json")" = valid ]; then ok "generated/$b.json is valid for the reference"; else
    not_ok "generated/$b.json is valid for the reference"
    diag "$("$ref" validate "$TMP/gen/$b.json" 2>&1 | head -c 300)"
  fi
  compare "generated/$b.json" "$TMP/gen/$b.json"
done

gen() { # gen KIND TEMPLATE SLOTS-ARRAY-NAME
  local kind=$1 tpl=$2 i=0 j s v f
  local -n list=$3
  for s in "${list[@]}"; do
    i=$((i + 1))
    j=0
    for v in "${VALUES[@]}"; do
      j=$((j + 1))
      [ -n "${DIFF_FULL:-}" ] || [ $(((i + j) % 10)) -eq 0 ] || continue
      f=$TMP/gen/$kind-$s-$j.json
      render "$tpl" "$3" "$s" "$v" >"$f"
      compare "generated/$kind-$s-$j.json ($s=$v)" "$f"
    done
  done
}
gen image "$IMAGE_TPL" IMAGE_SLOTS
gen pod "$POD_TPL" POD_SLOTS

# build --owner-root: each entry of the rootfs gets the reference's owner,
# numbers and names (the archives differ elsewhere: the reference stamps
# its manifest with the time of the build).
O=$TMP/owner-root
mkdir -p "$O/rootfs/dir"
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/owner"}' >"$O/manifest"
echo x >"$O/rootfs/dir/f"
chown -R 1234:4321 "$O/rootfs" 2>/dev/null || true
owners() { tar --numeric-owner -tvf "$1" | awk '$6 ~ /^rootfs/ {print $2}'; tar -tvf "$1" | awk '$6 ~ /^rootfs/ {print $2}'; }
"$ACTOOL" build --owner-root --no-compression "$O" "$TMP/ours.aci" >/dev/null 2>&1
"$ref" build --owner-root "$O" "$TMP/ref.aci" >/dev/null 2>&1
is "build --owner-root: the owners of the reference, numbers and names" \
  "$(owners "$TMP/ours.aci" | sort | uniq -c)" "$(owners "$TMP/ref.aci" | sort | uniq -c)"
is "... root/root (and something to compare)" "$(owners "$TMP/ours.aci" | sort -u | tr '\n' ' ')" "0/0 root/root "

done_testing
