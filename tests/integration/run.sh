#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The executor end to end (docs/executor.md): `actool run` of busybox images
# whose app section varies per case, checked from inside the pod (what the
# app sees) and from outside (host volumes, the pod directories, cgroups,
# the host's mount table); `list`, `status` and `gc` around running,
# finished and abandoned pods; the metadata service queried with busybox
# wget.  Needs root and the static busybox (Debian's busybox-static).
# shellcheck disable=SC2016 # the pods' shell scripts are single-quoted on purpose
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "actool run needs root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi
command -v jq >/dev/null || skip_all "jq not installed"

STORE=$TMP/store
# The host's mount table where a pod could leave a mount, compared after
# every run: beneath the test's directory (the store, volumes) and beneath
# /run/actool and /run/netns (network namespaces).  The rest of the table is
# not ours to watch: tests running alongside (podman, runc) mount there.  The
# tmpfs for the pods' state that the first pod of a boot mounts at
# /run/actool where /run is none is checked on its own.
TMP_REAL=$(realpath "$TMP")
mountinfo() {
  awk -v t="$TMP_REAL/" '$5 != "/run/actool" && (index($5 "/", t) == 1 ||
    index($5, "/run/actool/") == 1 || index($5, "/run/netns/") == 1)' /proc/self/mountinfo
}
MI0=$(mountinfo)
MOUNT_CHANGES=""
LEFT_PODS=""
LEFT_CGROUPS=""
BG_PID=""

# On exit (even an interrupted one): no pod of ours left running or on disk.
cleanup() {
  if [ -n "$BG_PID" ] && kill -0 "$BG_PID" 2>/dev/null; then
    kill -KILL "$BG_PID"
    wait "$BG_PID" 2>/dev/null
  fi
  [ -d "$STORE/pods" ] && timeout 30 "$ACTOOL" --dir="$STORE" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

# --- helpers ----------------------------------------------------------------

# ac ARGS...: actool on the test store, unsigned images allowed, 30 s at most.
ac() { timeout 30 "$ACTOOL" --dir="$STORE" --insecure-options=image "$@"; }

# mounts_check WHAT: remember when the host's mount table differs from what
# it was (once per change).
mounts_check() {
  local now
  now=$(mountinfo)
  if [ "$now" != "$MI0" ]; then
    MOUNT_CHANGES+="after $1:"$'\n'"$(diff <(printf '%s\n' "$MI0") <(printf '%s\n' "$now") | head -n 10)"$'\n'
    MI0=$now
  fi
}

# rundir: the store's runtime directory, where its pods' state is
# (/run/actool/KEY, KEY made of the store directory's device, inode and birth
# time, as ace/pod.c names it).
rundir() { rundir_of "$STORE"; }
rundir_of() {
  local d
  d=$(printf '/run/actool/%x.%x-%x-%x.' $(stat -c '%Hd %Ld %i %W' "$1"))
  for d in "$d"*; do [ -d "$d" ] && printf '%s\n' "$d"; done
}

# pods_left: the pods in the store (UUIDs): state directories, and what
# their apps wrote but for what a pod's end set aside for the metadata
# service to remove (.removing-UUID, checked by swept).
pods_left() {
  local run
  run=$(rundir)
  { [ -d "$STORE/pods" ] && find "$STORE/pods" -mindepth 1 -maxdepth 1 -type d ! -name '.removing-*' -printf 'data %f\n'
    [ -n "$run" ] && find "$run" -mindepth 1 -maxdepth 1 -type d -printf 'state %f\n'; } | LC_ALL=C sort
}

# pod ARGS...: `actool run ARGS` in the foreground (30 s at most); stdout in $OUT, stderr in
# $ERR, exit status in $status.  Afterwards, no pod directory or cgroup may
# be left and the host's mount table must be unchanged (reported at the end).
# The pod's UUID is saved (--uuid-file-save) to find its cgroups.
RUNS=0
pod() {
  local a ufile="" add=()
  for a in "$@"; do
    case $a in --uuid-file-save=*) ufile=${a#*=} ;; esac
  done
  if [ -z "$ufile" ]; then
    RUNS=$((RUNS + 1))
    ufile=$TMP/uuid.$RUNS
    add=(--uuid-file-save="$ufile")
  fi
  run_capture timeout -k 5 30 env HOSTLEAK=leaked "$ACTOOL" --dir="$STORE" --insecure-options=image run "${add[@]}" "$@" </dev/null
  OUT=$(cat "$TMP/.out")
  ERR=$(cat "$TMP/.err")
  mounts_check "run $*"
  local left
  left=$(pods_left)
  [ -z "$left" ] || LEFT_PODS+="after run $*: $left"$'\n'
  if [ -s "$ufile" ]; then
    left=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -name "$(cat "$ufile")" 2>/dev/null)
    [ -z "$left" ] || LEFT_CGROUPS+="after run $* (exit $status): $left"$'\n'
  fi
}

# sh_pod [RUN OPTIONS...] -- SCRIPT [APP OPTIONS...]: run SCRIPT with /bin/sh
# -c in the generic image.
sh_pod() {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  local script=$1
  shift
  pod "${opts[@]}" "${ID[sh]}" "$@" --exec=/bin/sh -- -c "$script"
}

# show: the last run, as TAP comments.
show() {
  note "exit $status" "stdout: $(printf '%s' "$OUT" | head -c 1500)" "stderr: $(printf '%s' "$ERR" | head -c 1500)"
}

# is_run DESC GOT WANT: like is, with the last run shown on failure.
is_run() {
  if [ "$2" = "$3" ]; then ok "$1"; else
    not_ok "$1"
    note "got:  $2" "want: $3"
    show
  fi
}

# yes_run DESC COMMAND...: passes when COMMAND succeeds; shows the last run.
yes_run() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else
    not_ok "$desc"
    show
  fi
}

line_in() { printf '%s\n' "$2" | grep -Eq -- "$1"; } # line_in ERE TEXT
no_line_in() { ! printf '%s\n' "$2" | grep -Eq -- "$1"; }
envval() { printf '%s\n' "$OUT" | sed -n "s/^$1=//p"; } # envval NAME: from `env` output in $OUT

# wait_file FILE: up to 30 s for FILE to exist.
wait_file() {
  local _
  for _ in $(seq 300); do
    [ -e "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# wait_exit PID SECONDS: wait for the background PID (killed after SECONDS);
# its status in $status.
wait_exit() {
  local _
  for _ in $(seq $(($2 * 10))); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$1" 2>/dev/null && kill -KILL "$1"
  status=0
  { wait "$1"; } 2>/dev/null || status=$? # (no "Killed" message from bash)
}

# bg_pod NAME ARGS...: `actool run ARGS` in the background; PID in $BG_PID,
# output in $TMP/NAME.out and $TMP/NAME.err.
bg_pod() {
  local name=$1
  shift
  "$ACTOOL" --dir="$STORE" --insecure-options=image run "$@" </dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
  BG_PID=$!
}

# --- images -------------------------------------------------------------------

# The root file system: busybox, alice (1000) in staff (50), a file owned by
# 2001:2002, a working directory.
LAY=$TMP/layout
"$top_srcdir/scripts/mkrootfs-busybox" "$LAY/rootfs" >/dev/null || { not_ok "mkrootfs-busybox"; done_testing; exit; }
ROOTFS=$LAY/rootfs
echo 'alice:x:1000:50:Alice:/home/alice:/bin/sh' >>"$ROOTFS/etc/passwd"
echo 'staff:x:50:alice' >>"$ROOTFS/etc/group"
mkdir -p "$ROOTFS/home/alice" "$ROOTFS/srv/work"
chown 1000:50 "$ROOTFS/home/alice"
echo owned >"$ROOTFS/srv/owned"
chown 2001:2002 "$ROOTFS/srv/owned"
find "$ROOTFS" -perm /6000 -exec chmod ug-s {} +

# manifest NAME APP_JSON [EXTRA_JSON]: an image manifest.
manifest() {
  jq -n --arg n "example.com/$1" --argjson app "$2" --argjson x "${3:-{\}}" \
    '{acKind: "ImageManifest", acVersion: "0.8.11", name: $n,
      labels: [{name: "version", value: "1.0"}, {name: "os", value: "linux"}, {name: "arch", value: "amd64"}],
      app: $app} + $x'
}
# shapp SCRIPT [EXTRA_JSON]: an app running SCRIPT with /bin/sh -c as root.
shapp() {
  jq -cn --arg s "$1" --argjson x "${2:-{\}}" \
    '{exec: ["/bin/sh", "-c", $s], user: "0", group: "0"} + $x'
}

manifest sh "$(shapp 'echo generic' '{"environment": [{"name": "IMGVAR", "value": "image"}]}')" >"$LAY/manifest"
BASE=$TMP/base.aci
declare -A ID
IMG_ERRORS=""
if ! "$ACTOOL" build --no-compression "$LAY" "$BASE" >"$TMP/.out" 2>"$TMP/.err"; then
  not_ok "build the base image"
  note "$(cat "$TMP/.err")"
  done_testing
  exit
fi

# img NAME APP_JSON [EXTRA_JSON]: the base image with that manifest, fetched
# into the store; its ID in ID[NAME].
img() {
  local m=$TMP/manifest-$1
  manifest "$@" >"$m"
  if "$ACTOOL" patch-manifest --no-compression --overwrite --manifest="$m" "$BASE" "$TMP/$1.aci" 2>"$TMP/.err" &&
    ID[$1]=$(ac fetch "$TMP/$1.aci" 2>>"$TMP/.err") && [ -n "${ID[$1]}" ]; then :; else
    IMG_ERRORS+="$1: $(cat "$TMP/.err")"$'\n'
  fi
}
hv_mp='{"mountPoints": [{"name": "hv", "path": "/hv"}]}'
events='{"mountPoints": [{"name": "hv", "path": "/hv"}], "eventHandlers": [
  {"name": "pre-start", "exec": ["/bin/sh", "-c", "echo pre >> /hv/log"]},
  {"name": "post-stop", "exec": ["/bin/sh", "-c", "echo post >> /hv/log"]}]}'
events_fail='{"mountPoints": [{"name": "hv", "path": "/hv"}], "eventHandlers": [
  {"name": "pre-start", "exec": ["/bin/sh", "-c", "echo pre >> /hv/log; exit 3"]},
  {"name": "post-stop", "exec": ["/bin/sh", "-c", "echo post >> /hv/log"]}]}'
iso() { jq -cn --arg n "$1" --argjson v "$2" '{isolators: [{name: $n, value: $v}]}'; }

ID[sh]=$(ac fetch "$BASE" 2>"$TMP/.err") || IMG_ERRORS+="sh: $(cat "$TMP/.err")"$'\n'
img envimg "$(shapp env '{"environment": [{"name": "PATH", "value": "/opt/bin:/usr/bin:/bin"},
  {"name": "A", "value": "img"}, {"name": "B", "value": "img"}, {"name": "C", "value": "img"}]}')"
img cwd "$(shapp pwd '{"workingDirectory": "/srv/work"}')"
img cwdmissing "$(shapp 'echo RAN' '{"workingDirectory": "/nonexistent/dir"}')"
mps() { jq -cn --args '{mountPoints: [$ARGS.positional | to_entries[] | {name: "m\(.key)", path: .value}]}' "$@"; }
img nest "$(shapp 'echo RAN' "$(mps /a-b /srv /a /x/y /a/x)")"
img nestroot "$(shapp 'echo RAN' "$(mps /data /)")"
img notnest "$(shapp 'echo RAN' "$(mps /a-b /a /ab /a.b)")"
# /proc/1/root is the pod's init: the working directory must not lead there
mkdir -p "$TMP/hostcwd"
img cwdproc "$(shapp 'echo escaped >PWNED' "$(jq -cn --arg d "/proc/1/root$TMP/hostcwd" '{workingDirectory: $d}')")"
img alice "$(shapp 'grep -E "^(Uid|Gid):" /proc/self/status' | jq -c '.user = "alice" | .group = "staff"')"
img owner "$(shapp 'grep -E "^(Uid|Gid):" /proc/self/status' | jq -c '.user = "/srv/owned" | .group = "/srv/owned"')"
img supp "$(shapp 'grep "^Groups:" /proc/self/status; id -G' '{"supplementaryGIDs": [60, 70]}' | jq -c '.user = "1000" | .group = "50"')"
img events "$(shapp 'echo app >> /hv/log' "$events")"
img evfail "$(shapp 'echo app >> /hv/log' "$events_fail")"
img memhog "$(jq -cn '{exec: ["/bin/dd", "if=/dev/zero", "of=/dev/null", "bs=200M", "count=1"], user: "0", group: "0"}' |
  jq -c --argjson i "$(iso resource/memory '{"limit": "32M"}')" '. + $i')"
capscript='grep -E "^Cap(Prm|Eff|Bnd|Inh|Amb):" /proc/self/status; touch /tmp/f; chown 1000 /tmp/f && echo CHOWNED'
img capretain "$(shapp "$capscript" "$(iso os/linux/capabilities-retain-set '{"set": ["CAP_NET_BIND_SERVICE", "CAP_KILL"]}')")"
# An app that may trace (CAP_SYS_PTRACE) sees the pod's init as /proc/1:
# its root must hold nothing of the host's.
mkdir -p "$TMP/hostptrace"
img ptrace "$(shapp "ls -A /proc/1/root | wc -l; ls -A /proc/1/cwd | wc -l; for f in /proc/1/fd/*; do [ -d \$f ] && echo dir \$f; done; echo x >/proc/1/root$TMP/hostptrace/PWNED; true" \
  "$(iso os/linux/capabilities-retain-set '{"set": ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE"]}')")"
img capremove "$(shapp "$capscript" "$(iso os/linux/capabilities-remove-set '{"set": ["CAP_CHOWN", "CAP_NET_RAW"]}')")"
img seccomp "$(shapp 'mkdir /tmp/d; echo "rc=$?"; grep "^Seccomp:" /proc/self/status' "$(iso os/linux/seccomp-remove-set '{"set": ["mkdir", "mkdirat"], "errno": "ENOTSUP"}')")"
# the same names 4,000 times over: taken once each
img seccomprep "$(shapp 'mkdir /tmp/d; echo "rc=$?"' "$(iso os/linux/seccomp-remove-set "$(jq -cn '{set: ([range(4000)] | map("mkdir", "mkdirat")), errno: "ENOTSUP"}')")")"
img seccompkill "$(jq -cn '{exec: ["/bin/uname", "-s"], user: "0", group: "0"}' |
  jq -c --argjson i "$(iso os/linux/seccomp-remove-set '{"set": ["uname"]}')" '. + $i')"
img nnp "$(shapp 'grep "^NoNewPrivs:" /proc/self/status' "$(iso os/linux/no-new-privileges true)")"
# a set that filters nothing: the image must not get out of the default filter so
img seccompnone "$(shapp 'unshare -U true && echo made; grep "^Seccomp_filters:" /proc/self/status' \
  "$(iso os/linux/seccomp-remove-set '{"set": ["@appc.io/empty"]}')")"
img oom "$(shapp 'cat /proc/self/oom_score_adj' "$(iso os/linux/oom-score-adj 500)")"
img oomlow "$(shapp 'cat /proc/self/oom_score_adj' "$(iso os/linux/oom-score-adj -700)")"
img postfail "$(shapp 'echo app' '{"eventHandlers": [{"name": "post-stop", "exec": ["/bin/sh", "-c", "exit 5"]}]}')"
img posthang "$(shapp 'echo app' '{"eventHandlers": [{"name": "post-stop", "exec": ["/bin/sh", "-c", "echo handler; sleep 1000; echo never"]}]}')"
img cpumin "$(shapp 'echo ran' "$(iso resource/cpu '{"limit": "1m"}')")"
img netbw "$(shapp 'echo ran' "$(iso resource/network-bandwidth '{"default": true, "limit": "1G"}')")"
img memhuge "$(shapp 'echo RAN' "$(iso resource/memory '{"limit": "20E"}')")"
img meta "$(shapp 'exit 0' "$hv_mp")" '{"annotations": [{"name": "imgnote", "value": "fromimage"}]}'
# A mount point without a name (the schema lets it be absent, as the reference's does)
img nameless "$(shapp 'echo RAN' '{"mountPoints": [{"path": "/data"}]}')"
layout_image() { # NAME LAYOUT: build and fetch
  if "$ACTOOL" build --no-compression "$2" "$TMP/$1.aci" 2>"$TMP/.err" &&
    ID[$1]=$(ac fetch "$TMP/$1.aci" 2>>"$TMP/.err") && [ -n "${ID[$1]}" ]; then :; else
    IMG_ERRORS+="$1: $(cat "$TMP/.err")"$'\n'
  fi
}
# An image with its own /etc/hostname.
cp -a "$LAY" "$TMP/layh"
echo imagehost >"$TMP/layh/rootfs/etc/hostname"
mkdir -p "$TMP/layh/rootfs/var" "$TMP/layh/rootfs/run"
ln -sfn ../run "$TMP/layh/rootfs/var/run" # as in Debian
ln -sfn /srv/data "$TMP/layh/rootfs/data"      # dangling: the image has no /srv
ln -sfn ../srv/a/b "$TMP/layh/rootfs/rel"      # dangling, relative, two levels missing
manifest etchost "$(shapp 'echo $(hostname) $(cat /etc/hostname)')" >"$TMP/layh/manifest"
layout_image etchost "$TMP/layh"
# An image whose mount point /x is a symlink into another mount point's
# volume (/data): the executor must not replace what that volume holds.
cp -a "$LAY" "$TMP/layx"
ln -sfn /data/rootonly "$TMP/layx/rootfs/x"
manifest intovol "$(shapp 'echo RAN' '{"mountPoints": [{"name": "hv", "path": "/data"}, {"name": "x", "path": "/x"}]}')" \
  >"$TMP/layx/manifest"
layout_image intovol "$TMP/layx"
# Images whose /etc the executor's files must respect: one with its own
# hosts, a dangling resolv.conf, a directory named hostname and a mode of
# its own on /etc; one whose /etc is a symlink.
cp -a "$LAY" "$TMP/layo"
echo "10.9.8.7 imagehosts" >"$TMP/layo/rootfs/etc/hosts"
ln -sfn ../run/resolvconf/resolv.conf "$TMP/layo/rootfs/etc/resolv.conf"
rm -f "$TMP/layo/rootfs/etc/hostname" && mkdir "$TMP/layo/rootfs/etc/hostname"
chmod 0750 "$TMP/layo/rootfs/etc"
manifest etcown "$(shapp 'stat -c %a /etc; cat /etc/hosts; readlink /etc/resolv.conf
[ -d /etc/hostname ] && echo hostname-dir; echo x >>/etc/hosts && tail -1 /etc/hosts')" >"$TMP/layo/manifest"
layout_image etcown "$TMP/layo"
cp -a "$LAY" "$TMP/layl"
mv "$TMP/layl/rootfs/etc" "$TMP/layl/rootfs/private-etc" && ln -s private-etc "$TMP/layl/rootfs/etc"
manifest etclink "$(shapp 'readlink /etc; cat /etc/hostname; grep -c "^127.0.1.1" /etc/hosts
ls /private-etc | grep -c "^hostname$"')" >"$TMP/layl/manifest"
layout_image etclink "$TMP/layl"
# Images whose /etc/passwd or /etc/group leads to /sys or /proc, which the
# supervisor would read as host root with every capability: lo's address
# reads as a passwd entry "00" of uid 0 whose home is "00".
cp -a "$LAY" "$TMP/laypw"
ln -sfn /sys/class/net/lo/address "$TMP/laypw/rootfs/etc/passwd"
manifest pwsys "$(shapp 'echo "HOME=$HOME"')" >"$TMP/laypw/manifest"
layout_image pwsys "$TMP/laypw"
cp -a "$LAY" "$TMP/laygr"
ln -sfn /proc/self/status "$TMP/laygr/rootfs/etc/group"
manifest grproc "$(shapp 'id -g')" >"$TMP/laygr/manifest"
layout_image grproc "$TMP/laygr"
if [ -z "$IMG_ERRORS" ]; then ok "build and fetch the test images"; else
  not_ok "build and fetch the test images"
  note "$IMG_ERRORS"
fi

# A store given by a relative path (--dir, ACTOOL_DIR) runs as an absolute
# one: its paths reach processes working elsewhere.
OUT=$(cd "$TMP" && timeout 30 "$ACTOOL" --dir=store run "${ID[sh]}" 2>"$TMP/.err")
is "run with a relative --dir" "$?:$OUT" "0:generic"
OUT=$(cd "$TMP" && ACTOOL_DIR=./store timeout 30 "$ACTOOL" run "${ID[sh]}" 2>"$TMP/.err")
is "run with a relative ACTOOL_DIR" "$?:$OUT" "0:generic"

# A command that cannot be run gets a shell's status: 127 not found, 126
# not executable.
pod "${ID[sh]}" --exec=no-such-command
is_run "a command not found in PATH: 127, named" "$status:$(grep -c 'no-such-command: not found in PATH=' <<<"$ERR")" "127:1"
pod "${ID[sh]}" --exec=/etc/passwd
is_run "a command that is not executable: 126" "$status" 126

# --- environment and working directory ----------------------------------------

pod --uuid-file-save="$TMP/uenv" "${ID[sh]}" --exec=env
is_run "env: run exits 0" "$status" 0
is_run "env: PATH is the spec's default" "$(envval PATH)" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
is_run "env: AC_APP_NAME is the app's name" "$(envval AC_APP_NAME)" sh
yes_run "env: AC_METADATA_URL is http://127.0.0.1:PORT/TOKEN" \
  line_in '^AC_METADATA_URL=http://127\.0\.0\.1:[0-9]+/[0-9a-f]{64}$' "$OUT"
is_run "env: container=actool" "$(envval container)" actool
# The ACE's own variables: neither the image nor --set-env replaces them
# (an image's AC_METADATA_URL would lead its app to another service).
pod --set-env=AC_APP_NAME=spoofed --set-env=AC_METADATA_URL=http://203.0.113.1/evil "${ID[sh]}" --exec=env
is_run "env: --set-env does not replace AC_APP_NAME" "$(envval AC_APP_NAME)" sh
yes_run "env: --set-env does not replace AC_METADATA_URL" \
  line_in '^AC_METADATA_URL=http://127\.0\.0\.1:[0-9]+/[0-9a-f]{64}$' "$OUT"
is_run "env: HOME is root's home in the image's passwd" "$(envval HOME)" /root
is_run "env: the image's environment" "$(envval IMGVAR)" image
yes_run "env: actool's own environment does not leak in" eval '[ "$status" -eq 0 ] && no_line_in "^HOSTLEAK=" "$OUT"'

printf '# a comment\nA=file\nB=file\n\nQ="quoted value"\n' >"$TMP/envfile"
pod --set-env=B=set --env-file="$TMP/envfile" --set-env=D=set "${ID[envimg]}"
is_run "env: the image's PATH replaces the default" "$(envval PATH)" /opt/bin:/usr/bin:/bin
is_run "env: precedence image < --env-file < --set-env" \
  "A=$(envval A) B=$(envval B) C=$(envval C) D=$(envval D) Q=$(envval Q)" \
  "A=file B=set C=img D=set Q=quoted value"

# --set-env after an image sets that app's variable, over the pod-wide one.
pod --set-env=B=pod --set-env=D=pod "${ID[envimg]}" --set-env=B=app --- "${ID[envimg]}" --name=other
is_run "env: per-app --set-env wins over the pod's, for its app only" \
  "$(printf '%s\n' "$OUT" | grep -E '^(envimg|other): (B|D)=' | sort | paste -sd' ')" \
  "envimg: B=app envimg: D=pod other: B=pod other: D=pod"

pod "${ID[cwd]}"
is_run "cwd: workingDirectory is the app's cwd" "$status:$OUT" "0:/srv/work"
sh_pod -- pwd
is_run "cwd: / without workingDirectory" "$status:$OUT" "0:/"
pod "${ID[cwdmissing]}"
yes_run "cwd: a missing workingDirectory fails clearly, the app does not run" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "^actool: app cwdmissing: .*/nonexistent/dir" "$ERR"'
pod "${ID[nest]}"
yes_run "mounts: /a and /a/x overlap (with /a-b between them in byte order), refused" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "^actool: app nest: the mounts of volumes \"m2\" \(/a\) and \"m4\" \(/a/x\) overlap" "$ERR"'
pod "${ID[nestroot]}"
yes_run "mounts: / and /data overlap, refused" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "^actool: app nestroot: the mounts of volumes \"m1\" \(/\) and \"m0\" \(/data\) overlap" "$ERR"'
pod "${ID[notnest]}"
is_run "mounts: /a, /a-b, /ab and /a.b do not overlap" "$status:$OUT" "0:RAN"
pod "${ID[cwdproc]}"
yes_run "cwd: a workingDirectory through /proc/1/root is refused, nothing written on the host" \
  eval '[ "$status" -ne 0 ] && line_in "^actool: app cwdproc: app.workingDirectory: /proc/1/root" "$ERR" &&
    [ ! -e "$TMP/hostcwd/PWNED" ]'

# --- user and groups -----------------------------------------------------------

ids_of() { printf '%s\n' "$OUT" | awk '{print $2, $3, $4, $5}' | paste -sd/; }
pod "${ID[alice]}"
is_run "user: by name (alice:staff) from the image's passwd and group" "$status:$(ids_of)" \
  "0:1000 1000 1000 1000/50 50 50 50"
sh_pod -- 'grep -E "^(Uid|Gid):" /proc/self/status' --user=4242 --group=4343
is_run "user: by number (--user=4242 --group=4343)" "$status:$(ids_of)" "0:4242 4242 4242 4242/4343 4343 4343 4343"
sh_pod -- 'echo $(id -u) $(id -g) $(id -un) $(id -gn) $HOME' --user=alice --group=staff
is_run "user: --user=alice --group=staff, HOME alice's" "$status:$OUT" "0:1000 50 alice staff /home/alice"
sh_pod -- 'echo $HOME' --user=4242 --group=4242
is_run "user: a uid without a passwd entry: HOME=/, as runc" "$status:$OUT" "0:/"
pod "${ID[owner]}"
is_run "user: an absolute path means its owner in the image" "$status:$(ids_of)" \
  "0:2001 2001 2001 2001/2002 2002 2002 2002"
sh_pod -- 'echo RAN' --user=nosuchuser
yes_run "user: an unknown user name fails clearly" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "^actool: app sh: .*nosuchuser" "$ERR"'
# The image's passwd and group are read from the image alone, never from
# the /proc, /sys or volumes mounted in its tree.
pod "${ID[pwsys]}"
yes_run "user: an /etc/passwd leading to /sys is refused, naming it, and not read" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] &&
    line_in "^actool: app pwsys: app.user: /etc/passwd in the image leads out of the image.s file system" "$ERR"'
pod "${ID[grproc]}"
yes_run "user: an /etc/group leading to /proc is refused, naming it" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] &&
    line_in "^actool: app grproc: app.group: /etc/group in the image leads out of the image.s file system" "$ERR"'
sh_pod -- 'id -u' --user=/proc/self/status
yes_run "user: a path on /proc is no file of the image, refused" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] &&
    line_in "^actool: app sh: app.user: /proc/self/status in the image leads out of the image.s file system" "$ERR"'

# groups_but PRIMARY: the Groups: line of /proc/self/status without PRIMARY.
groups_but() { printf '%s\n' "$OUT" | sed -n 's/^Groups:[[:space:]]*//p' | tr -s ' \t' '\n' | grep -vx "$1" | grep . | sort -n | paste -sd' '; }
pod "${ID[supp]}"
is_run "supplementaryGIDs become the supplementary groups" "$status:$(groups_but 50)" "0:60 70"
sh_pod -- 'grep "^Groups:" /proc/self/status' --user=1000 --group=50
is_run "no supplementary groups without supplementaryGIDs" "$status:$(groups_but 50)" "0:"

# --- event handlers --------------------------------------------------------------

mkdir "$TMP/ev"
pod --volume=hv,kind=host,source="$TMP/ev" "${ID[events]}"
is_run "events: pre-start, app, post-stop in order" "$status:$(paste -sd' ' "$TMP/ev/log" 2>&1)" "0:pre app post"
mkdir "$TMP/evf"
pod --volume=hv,kind=host,source="$TMP/evf" "${ID[evfail]}"
yes_run "events: a failing pre-start fails the pod" eval '[ "$status" -ne 0 ] && line_in pre-start "$ERR"'
is_run "events: a failing pre-start keeps the app from running" "$(head -n 2 "$TMP/evf/log" 2>&1 | paste -sd' ')" "pre"

# --- volumes ------------------------------------------------------------------------

pod --volume=shared,kind=empty,mode=0770,uid=1000,gid=50 \
  "${ID[sh]}" --name=writer --mount=volume=shared,target=/shared --exec=/bin/sh -- -c \
  'echo hello >/shared/f.tmp && mv /shared/f.tmp /shared/f && echo written && echo to-stderr >&2' \
  --- "${ID[sh]}" --name=reader --mount=volume=shared,target=/shared --exec=/bin/sh -- -c \
  'i=0; while [ ! -e /shared/f ]; do i=$((i + 1)); [ $i -gt 300 ] && exit 9; sleep 0.1; done; echo "got $(cat /shared/f) $(stat -c "%a %u %g" /shared)"'
yes_run "empty volume: shared by two apps (one writes, the other reads)" \
  eval '[ "$status" -eq 0 ] && line_in "^reader: got hello 770 1000 50$" "$OUT"'
yes_run "several apps: output lines are prefixed with the app's name" \
  eval 'line_in "^writer: written$" "$OUT" && line_in "^writer: to-stderr$" "$ERR"'

# An empty volume's mode and owner are checked, never bent: mode "zz" would
# be 0000, uid -1 "unchanged" to chown.
evpod() { # evpod VOLUME_JSON: the volume "data" with those fields, at /data
  jq -n --arg id "${ID[sh]}" --argjson v "$1" '{acVersion: "0.8.11", acKind: "PodManifest",
    apps: [{name: "ev", image: {id: $id}, mounts: [{volume: "data", path: "/data"}],
            app: {exec: ["/bin/sh", "-c", "stat -c \"%a %u %g\" /data"], user: "0", group: "0"}}],
    volumes: [{name: "data", kind: "empty"} + $v]}' >"$TMP/ev.json"
  pod --pod-manifest="$TMP/ev.json"
}
evpod '{"mode": "01770", "uid": 4242, "gid": 4343}'
is_run "empty volume: mode 01770, uid and gid as the manifest gives them" "$status:$OUT" "0:1770 4242 4343"
for v in '{"mode": "zz"}|mode "zz"' '{"mode": "99999"}|mode "99999"' '{"mode": "10000"}|mode "10000"' \
  '{"mode": ""}|mode ""' '{"mode": "0o755"}|mode "0o755"'; do
  evpod "${v%%|*}"
  yes_run "empty volume: ${v#*|} is refused, naming the volume and field" \
    eval '[ "$status" -eq 1 ] && [ -z "$OUT" ] &&
      line_in "^actool: volume \"data\": ${v#*|} is not an octal file mode \(0 to 7777\)$" "$ERR"'
done
for v in '{"uid": -1}|uid -1' '{"uid": 4294967295}|uid 4294967295' '{"gid": -1}|gid -1' \
  '{"gid": 4294967296}|gid 4294967296'; do
  evpod "${v%%|*}"
  yes_run "empty volume: ${v#*|} is refused, naming the volume and field" \
    eval '[ "$status" -eq 1 ] && [ -z "$OUT" ] &&
      line_in "^actool: volume \"data\": ${v#*|} is not a valid id \(0 to 4294967294\)$" "$ERR"'
done
sh_pod --volume=data,kind=empty,mode=0x1ff -- 'echo RAN' --mount=volume=data,target=/data
yes_run "empty volume: --volume's mode is checked as well" \
  eval '[ "$status" -eq 1 ] && [ -z "$OUT" ] && line_in "^actool: volume \"data\": mode \"0x1ff\" is not an octal" "$ERR"'
# Its name would be the volume's it takes, or the implicit volume's directory:
# beside a volume, the run crashed.
for v in "" --volume=data,kind=empty; do
  pod ${v:+"$v"} "${ID[nameless]}"
  yes_run "a mount point without a name is refused, naming it${v:+ ($v)}" \
    eval '[ "$status" -eq 1 ] && [ -z "$OUT" ] &&
      line_in "^actool: apps\[0\]\.app\.mountPoints\[0\]\.name: must be set \(an AC Name\)$" "$ERR"'
done

mkdir "$TMP/rw"
sh_pod --volume=rw,kind=host,source="$TMP/rw" -- 'echo new >/rw/new' --mount=volume=rw,target=/rw
is_run "host volume: a write inside reaches the host" "$status:$(cat "$TMP/rw/new" 2>&1)" "0:new"

mkdir "$TMP/ro"
echo orig >"$TMP/ro/keep"
snap_ro() { (cd "$TMP/ro" && find . -printf '%p %y %i %s %m %T@\n' | LC_ALL=C sort && cat keep); }
before=$(snap_ro)
sh_pod --volume=ro,kind=host,source="$TMP/ro",readOnly=true -- \
  'echo x >/ro/new && echo WROTE; echo y >>/ro/keep && echo APPENDED; rm -f /ro/keep && echo REMOVED; cat /ro/keep' \
  --mount=volume=ro,target=/ro
yes_run "host volume readOnly: writes fail inside (EROFS)" \
  eval '[ "$OUT" = orig ] && line_in "Read-only file system" "$ERR"'
is "host volume readOnly: nothing changed on the host" "$(snap_ro)" "$before"

mkdir -p "$TMP/real/sub"
ln -s real "$TMP/symlinked"
sh_pod --volume=v,kind=host,source="$TMP/symlinked" -- 'echo RAN' --mount=volume=v,target=/v
yes_run "host volume: a source that is a symlink is refused" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "symlink|symbolic link" "$ERR"'
sh_pod --volume=v,kind=host,source="$TMP/symlinked/sub" -- 'echo RAN' --mount=volume=v,target=/v
yes_run "host volume: a source with a symlink in its path is refused" \
  eval '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "symlink|symbolic link" "$ERR"'

# --- resources ------------------------------------------------------------------------

pod "${ID[memhog]}"
is_run "memory limit 32M: a 200M allocation is killed (137)" "$status" 137
yes_run "memory limit: the OOM kill is reported" line_in "^actool: app memhog: killed by the kernel's OOM killer" "$ERR"
pod "${ID[memhog]}" --exec=/bin/dd -- if=/dev/zero of=/dev/null bs=1M count=8
yes_run "memory limit 32M: a small app succeeds" eval '[ "$status" -eq 0 ] && line_in "^8\+0 records in" "$ERR"'
sh_pod -- 'dd if=/dev/zero of=/dev/null bs=200M count=1 && echo DONE'
is_run "no memory limit: the 200M allocation succeeds" "$status:$OUT" "0:DONE"

# --- capabilities, seccomp, no-new-privileges ----------------------------------------------

capmask() {
  local m=0 c
  for c in "$@"; do m=$((m | (1 << c))); done
  printf '%016x' "$m"
}
# The spec's default set: CHOWN 0, DAC_OVERRIDE 1, FOWNER 3, FSETID 4, KILL 5,
# SETGID 6, SETUID 7, SETPCAP 8, NET_BIND_SERVICE 10, NET_RAW 13,
# SYS_CHROOT 18, MKNOD 27, AUDIT_WRITE 29, SETFCAP 31.
DEFAULT_CAPS=(0 1 3 4 5 6 7 8 10 13 18 27 29 31)
capline() { printf '%s\n' "$OUT" | sed -n "s/^$1:[[:space:]]*//p"; }
sh_pod -- "$capscript"
is_run "capabilities: the default set (bounding, permitted, effective)" \
  "$(capline CapBnd) $(capline CapPrm) $(capline CapEff) $(line_in CHOWNED "$OUT" && echo chown-ok)" \
  "$(capmask "${DEFAULT_CAPS[@]}") $(capmask "${DEFAULT_CAPS[@]}") $(capmask "${DEFAULT_CAPS[@]}") chown-ok"
# No inheritable set (runc's and moby's since CVE-2022-24769): a root app
# that drops to a user could regain capabilities through file capabilities.
is_run "capabilities: the inheritable and ambient sets are empty" \
  "$(capline CapInh) $(capline CapAmb)" "0000000000000000 0000000000000000"
pod "${ID[capretain]}"
want=$(capmask 5 10)
is_run "capabilities: retain set {NET_BIND_SERVICE, KILL} (CapBnd/Prm/Eff $want, chown fails)" \
  "$(capline CapBnd) $(capline CapPrm) $(capline CapEff) $(line_in CHOWNED "$OUT" && echo chown-ok)" \
  "$want $want $want "
# A capability beyond the default set, which an image asks for, needs the
# operator's consent: CAP_SYS_ADMIN kept by an image is root on the host.
pod "${ID[ptrace]}"
is_run "an image's isolator retaining CAP_SYS_PTRACE without --caps-allow is refused, naming it" \
  "$status:$(printf '%s\n' "$ERR" | grep -c 'retain CAP_SYS_PTRACE, beyond .* --caps-allow=CAP_SYS_PTRACE')" "1:1"
# The init is held (a test hook) before it closes its descriptors of the
# host's directories, which the app must not see meanwhile.
ACTOOL_TEST_INIT_DELAY_MS=300 pod --caps-allow=CAP_NET_ADMIN,CAP_SYS_PTRACE "${ID[ptrace]}"
is_run "CAP_SYS_PTRACE: /proc/1/root and /proc/1/cwd (the pod's init) are empty, no directory in /proc/1/fd, nothing written on the host" \
  "$status:$(paste -sd' ' <<<"$OUT"):$(ls -A "$TMP/hostptrace" | wc -l)" "0:0 0:0"
# Nor do the supervisors of the pod's other apps lead there: one stays
# beside its app for the post-stop handler.
touch "$TMP/hostptrace/marker"
img holds "$(shapp 'sleep 1.5' '{"eventHandlers": [{"name": "post-stop", "exec": ["/bin/true"]}]}')"
img ptrace2 "$(shapp "sleep 0.5; for p in /proc/[0-9]*; do for f in \$p/fd/*; do [ -d \$f ] && echo dir \$f; done; [ -e \$p/root$TMP/hostptrace/marker ] && echo host \$p; done; echo scanned" \
  "$(iso os/linux/capabilities-retain-set '{"set": ["CAP_SYS_PTRACE", "CAP_DAC_OVERRIDE"]}')")"
ACTOOL_TEST_INIT_DELAY_MS=300 pod --caps-allow=all "${ID[holds]}" --- "${ID[ptrace2]}"
is_run "CAP_SYS_PTRACE: no process of the pod (init, supervisors) holds a host directory or root" \
  "$status:$(grep -v "/proc/self/\|/proc/thread-self/" <<<"$OUT" | paste -sd' ')" "0:ptrace2: scanned"
want=$(capmask 1 3 4 5 6 7 8 10 18 27 29 31)
pod "${ID[capremove]}"
is_run "capabilities: remove set {CHOWN, NET_RAW} (CapBnd/Prm/Eff $want, chown fails)" \
  "$(capline CapBnd) $(capline CapPrm) $(capline CapEff) $(line_in CHOWNED "$OUT" && echo chown-ok)" \
  "$want $want $want "
yes_run "capabilities: chown fails with EPERM without CAP_CHOWN" line_in "Operation not permitted" "$ERR"

sh_pod -- 'mkdir /tmp/d; echo "rc=$?"; uname -s; grep "^Seccomp:" /proc/self/status'
is_run "seccomp: the default filter (docker's and rkt's), mkdir and uname work" \
  "$status:$(printf '%s' "$OUT" | paste -sd' ')" "0:rc=0 Linux Seccomp:	2"
# The default filter refuses a user namespace (in which an app would get
# every capability); root in the pod could make one without it.
sh_pod -- 'unshare -U true && echo made'
is_run "seccomp: the default filter refuses a user namespace (EPERM)" \
  "$status:$OUT:$(printf '%s\n' "$ERR" | grep -c 'Operation not permitted')" "1::1"
sh_pod --insecure-options=image,seccomp -- 'unshare -U true && echo made; grep "^Seccomp:" /proc/self/status'
is_run "--insecure-options=seccomp: no filter, the user namespace is made" \
  "$status:$(printf '%s' "$OUT" | paste -sd' ')" "0:made Seccomp:	0"
# Its compiled program is kept in the runtime directory; one that is
# damaged there is compiled again.
rm -f /run/actool/seccomp/default-*.bpf
sh_pod -- true
cached=$(find /run/actool/seccomp -name 'default-*.bpf' -size +0 2>/dev/null)
is "seccomp: the default filter's program is kept in /run/actool/seccomp" "$(wc -w <<<"$cached")" 1
if [ "$(wc -w <<<"$cached")" = 1 ]; then
  size=$(stat -c %s "$cached")
  truncate -s 5 "$cached"
  sh_pod -- 'grep "^Seccomp:" /proc/self/status; unshare -U true'
  is_run "... a damaged one is not used: the filter is compiled again, and kept" \
    "$status:$OUT:$(stat -c %s "$cached")" "1:Seccomp:	2:$size"
fi
pod "${ID[seccompnone]}"
is_run "seccomp: an image's set that filters nothing leaves the default filter on (no user namespace)" \
  "$status:$OUT:$(printf '%s\n' "$ERR" | grep -c 'Operation not permitted')" "0:Seccomp_filters:	1:1"
pod "${ID[seccomp]}"
is_run "seccomp: remove set {mkdir, mkdirat} errno ENOTSUP: mkdir fails, filter on" \
  "$status:$(printf '%s' "$OUT" | paste -sd' ')" "0:rc=1 Seccomp:	2"
yes_run "seccomp: the error is ENOTSUP (Operation not supported)" line_in "mkdir.*/tmp/d.*Operation not supported" "$ERR"
pod "${ID[seccomprep]}"
is_run "seccomp: a remove set naming mkdir and mkdirat 4,000 times each blocks them" \
  "$status:$OUT:$(line_in "mkdir.*/tmp/d.*Operation not supported" "$ERR" && echo ENOTSUP)" "0:rc=1:ENOTSUP"
pod "${ID[seccompkill]}"
is_run "seccomp: remove set without errno kills with SIGSYS (128+31)" "$status:$OUT" "159:"

pod "${ID[nnp]}"
is_run "no-new-privileges: NoNewPrivs: 1" "$status:$OUT" "0:NoNewPrivs:	1"
sh_pod -- 'grep "^NoNewPrivs:" /proc/self/status'
is_run "no-new-privileges: NoNewPrivs: 0 without the isolator" "$status:$OUT" "0:NoNewPrivs:	0"

pod --debug "${ID[oom]}"
is_run "oom-score-adj 500: the app's /proc/self/oom_score_adj" "$status:$OUT" "0:500"
yes_run "oom-score-adj: reported as enforced, not ignored" bash -c \
  'grep -q "isolator os/linux/oom-score-adj enforced" <<<"$1" && ! grep -q "oom-score-adj ignored" <<<"$1"' _ "$ERR"
# Lowering it is the operator's to allow (CAP_SYS_RESOURCE, which it takes).
pod "${ID[oomlow]}"
is_run "oom-score-adj -700 from the image without --caps-allow=CAP_SYS_RESOURCE is refused" \
  "$status:$(printf '%s\n' "$ERR" | grep -c 'lowers oom_score_adj to -700.*--caps-allow=CAP_SYS_RESOURCE')" "1:1"
pod --caps-allow=CAP_SYS_RESOURCE "${ID[oomlow]}"
# Lowering needs CAP_SYS_RESOURCE, which some sandboxes withhold even from root.
if sh -c 'echo -700 >/proc/self/oom_score_adj' 2>/dev/null; then
  is_run "oom-score-adj -700 (lowered, with CAP_SYS_RESOURCE)" "$status:$OUT" "0:-700"
else
  is_run "oom-score-adj -700 where this host forbids lowering: the app does not run (exit 1)" "$status:$OUT" "1:"
  yes_run "oom-score-adj -700 where this host forbids lowering: the error names the isolator" \
    line_in "app oomlow: os/linux/oom-score-adj: .*Permission denied" "$ERR"
fi
sh_pod -- 'cat /proc/self/oom_score_adj'
is_run "oom-score-adj: the host's value (0) without the isolator" "$status:$OUT" "0:$(cat /proc/self/oom_score_adj)"

pod --debug "${ID[cpumin]}"
yes_run "resource/cpu 1m: reported as raised to the kernel's least (10m), not as 1m enforced" eval \
  '[ "$status" -eq 0 ] && line_in "limit 1m raised to 10m" "$ERR" && line_in "resource/cpu enforced: limit 10m" "$ERR"'
# The cgroups are made while the pod's init starts; a limit the kernel
# cannot take ends the pod before its app runs, and nothing is left (pod()
# reports pod directories and cgroups left at the end).
pod "${ID[memhuge]}"
yes_run "a limit too large for the kernel: an error naming the isolator, the app never ran" eval \
  '[ "$status" -ne 0 ] && [ -z "$OUT" ] && line_in "resource/memory.*20E.*too large" "$ERR"'
pod "${ID[netbw]}"
is_run "an ignored isolator is reported once" "$status:$(printf '%s\n' "$ERR" | grep -c 'network-bandwidth')" "0:1"

# --- network, hostname, /etc files ---------------------------------------------------------

ifaces='tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | sort | paste -sd" "'
sh_pod -- "$ifaces"
is_run "net private: only lo" "$status:$OUT" "0:lo"
host_ifaces=$(sh -c "$ifaces")
sh_pod --net=host -- "$ifaces"
is_run "net host: the host's interfaces" "$status:$OUT" "0:$host_ifaces"

host_hostname=$(hostname)
sh_pod --uuid-file-save="$TMP/uhost" -- 'hostname; cat /etc/hostname'
u=$(cat "$TMP/uhost" 2>/dev/null)
yes_run "--uuid-file-save writes the pod's UUID" \
  line_in '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' "$u"
is_run "hostname: actool-UUID by default (and in /etc/hostname)" "$status:$(printf '%s' "$OUT" | paste -sd' ')" \
  "0:actool-$u actool-$u"
sh_pod --hostname=podhost -- 'hostname'
is_run "hostname: --hostname" "$status:$OUT" "0:podhost"
pod --hostname=podhost "${ID[etchost]}"
is_run "hostname: the image's own /etc/hostname gives way to the pod's" "$status:$OUT" "0:podhost podhost"
pod --volume=vr,kind=empty "${ID[etchost]}" --mount=volume=vr,target=/var/run --exec=/bin/sh -- -c \
  'echo x >/var/run/f && echo "$(cat /run/f) $(readlink /var/run) $(awk '\''$5 == "/run" {print "mounted"}'\'' /proc/self/mountinfo)"'
is_run "volumes: a mount target that is a symlink in the image (/var/run -> ../run) is followed inside it" \
  "$status:$OUT" "0:x ../run mounted"
pod --volume=vd,kind=empty --volume=vr,kind=empty "${ID[etchost]}" --mount=volume=vd,target=/data \
  --mount=volume=vr,target=/rel/c --exec=/bin/sh -- -c \
  'echo y >/data/f && echo z >/rel/c/g && echo "$(cat /srv/data/f) $(cat /srv/a/b/c/g) $(awk '\''$5 == "/srv/data" || $5 == "/srv/a/b/c" {print "mounted"}'\'' /proc/self/mountinfo | paste -sd,)"'
is_run "volumes: a mount target behind a dangling symlink in the image is created where the symlink leads" \
  "$status:$OUT" "0:y z mounted,mounted"
is "hostname: the host's is unchanged" "$(hostname)" "$host_hostname"
for bad in 'bad host!' "$(printf 'h%.0s' $(seq 80))" -lead trail- a..b; do
  sh_pod --hostname="$bad" -- 'echo RAN'
  yes_run "hostname: \"${bad:0:20}\" is a usage error (exit 2), before the pod starts" \
    eval '[ "$status" -eq 2 ] && [ -z "$OUT" ] && line_in "hostname .*not a host name" "$ERR"'
done

sh_pod -- 'cat /etc/hosts; echo ===; cat /etc/resolv.conf'
yes_run "/etc/hosts names localhost" line_in '^127\.0\.0\.1[[:space:]].*localhost' "${OUT%%===*}"
if [ -f /etc/resolv.conf ]; then
  is_run "/etc/resolv.conf is the host's" "${OUT#*===$'\n'}" "$(cat /etc/resolv.conf)"
else
  skip "/etc/resolv.conf is the host's" "the host has none"
fi
sh_pod --net=host -- 'cat /etc/hosts'
is_run "net host: /etc/hosts is the host's" "$OUT" "$(cat /etc/hosts)"

# --- /proc, /sys, /dev ------------------------------------------------------------------------

sh_pod -- 'awk '\''$5 == "/proc" || $5 == "/sys" { print $5, ($6 ~ /(^|,)ro(,|$)/ ? "ro" : "rw") }'\'' /proc/self/mountinfo
echo x >/proc/sys/kernel/domainname && echo PROC-WRITTEN
echo x >/sys/kernel/mm/transparent_hugepage/enabled && echo SYS-WRITTEN
true'
is_run "/proc and /sys are mounted read-only" "$(printf '%s' "$OUT" | paste -sd' ')" "/proc ro /sys ro"
yes_run "/proc and /sys: writes fail with EROFS" \
  eval '[ "$(printf "%s\n" "$ERR" | grep -c "Read-only file system")" -eq 2 ]'

# A cgroup namespace rooted at the app's cgroup: /proc/self/cgroup says "/",
# /sys/fs/cgroup shows the app's own cgroup (its processes, the pod's pids
# limit above it), read-only.
if [ -d /sys/fs/cgroup/pids ]; then
  sh_pod -- 'grep -c ":/$" /proc/self/cgroup; grep -vc ":/$" /proc/self/cgroup
grep -qx "$$" /sys/fs/cgroup/pids/cgroup.procs && echo own-procs
awk '\''$5 == "/sys/fs/cgroup/pids" || $5 == "/sys/fs/cgroup" { print $5, ($6 ~ /(^|,)ro(,|$)/ ? "ro" : "rw") }'\'' /proc/self/mountinfo
mkdir /sys/fs/cgroup/pids/x && echo MKDIR-OK; true'
  is_run "cgroup namespace: every hierarchy is / inside, /sys/fs/cgroup its own, read-only" \
    "$status:$(printf '%s' "$OUT" | sed 1d | paste -sd' ')" "0:0 own-procs /sys/fs/cgroup ro /sys/fs/cgroup/pids ro"
  yes_run "cgroup namespace: /proc/self/cgroup lists the host's hierarchies" eval \
    '[ "$(printf "%s\n" "$OUT" | head -1)" -eq "$(grep -c . /proc/self/cgroup)" ]'
  yes_run "cgroup namespace: mkdir fails with EROFS" line_in "Read-only file system" "$ERR"
else
  skip "cgroup namespace" "no v1 pids hierarchy on this host"
fi

# The kernel paths runc masks read empty in the app, where the host has them.
masked_here=""
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/latency_stats /proc/timer_stats; do
  [ -f "$f" ] && [ -n "$(head -c 64 "$f" 2>/dev/null)" ] && masked_here+="$f "
done
for d in /proc/acpi /proc/asound /proc/scsi /sys/firmware; do
  [ -d "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ] && masked_here+="$d "
done
if [ -n "$masked_here" ]; then
  sh_pod -- "for p in $masked_here; do
  if [ -d \$p ]; then n=\$(ls -A \$p | wc -l); else n=\$(head -c 64 \$p | wc -c); fi
  printf '%s=%s ' \$p \$n
done; echo"
  is_run "kernel paths runc masks are empty in the app ($masked_here)" "$status:$OUT" \
    "0:$(for p in $masked_here; do printf '%s=0 ' "$p"; done)"
else
  skip "kernel paths runc masks are empty in the app" "the host shows none of them with content"
fi
pod "${ID[etcown]}"
is_run "/etc: the image's hosts, dangling resolv.conf, directory hostname and mode stay; hosts is writable" \
  "$status:$(printf '%s\n' "$OUT" | paste -sd' ')" "0:750 10.9.8.7 imagehosts ../run/resolvconf/resolv.conf hostname-dir x"
pod --hostname=linkhost "${ID[etclink]}"
is_run "/etc as a symlink in the image: the files go where it points" \
  "$status:$(printf '%s\n' "$OUT" | paste -sd' ')" "0:private-etc linkhost 1 1"
sh_pod -- 'cat /etc/os-release | wc -c; ls -l /etc/os-release | cut -c1'
is_run "an image without os-release gets an empty /etc/os-release (the container RFC)" \
  "$status:$(printf '%s\n' "$OUT" | paste -sd' ')" "0:0 -"
is "it is not written into the image's tree" "$(find "$STORE/trees" -path '*/rootfs/etc/os-release' | wc -l)" 0

sh_pod -- 'for n in null zero full random urandom tty; do [ -c /dev/$n ] && printf "%s " $n; done
[ -e /dev/ptmx ] && printf "ptmx "; [ -d /dev/pts ] && printf "pts "; [ -d /dev/shm ] && printf "shm "; echo
ls -A /dev | paste -sd" "
ls -A /dev/pts | paste -sd" "
head -c 4 /dev/zero | od -An -tx1 | tr -d " "
head -c 16 /dev/urandom | wc -c
echo x >/dev/null && echo null-ok
echo x >/dev/shm/f && cat /dev/shm/f
echo x >/dev/full || echo full-fails'
read -ra devs <<<"$(printf '%s\n' "$OUT" | sed -n 2p)"
extra=""
for n in "${devs[@]}"; do
  case $n in null | zero | full | random | urandom | tty | ptmx | pts | shm | fd | stdin | stdout | stderr | console | mqueue) ;; *) extra+="$n " ;; esac
done
is_run "/dev: the spec's character devices, ptmx, pts and shm" "$(printf '%s\n' "$OUT" | sed -n 1p)" \
  "null zero full random urandom tty ptmx pts shm "
is_run "/dev: nothing else (no host devices)" "$status:$extra" "0:"
is_run "/dev/pts is a new instance (no host terminals)" "$(printf '%s\n' "$OUT" | sed -n 3p)" "ptmx"
is_run "/dev: zero, urandom, null, shm and full work" "$(printf '%s\n' "$OUT" | sed -n '4,$p' | paste -sd' ')" \
  "00000000 16 null-ok x full-fails"

# --- readOnlyRootFS (--pod-manifest) ---------------------------------------------------------

podmf() { # podmf READONLY: a pod manifest of the generic image by name
  jq -n --argjson ro "$1" '{acKind: "PodManifest", acVersion: "0.8.11", apps: [{name: "rofs",
    image: {name: "example.com/sh", labels: [{name: "version", value: "1.0"}]},
    app: {exec: ["/bin/sh", "-c", "echo x >/newfile && echo WROTE; mkdir /etc/newdir && echo MADE; echo done"],
          user: "0", group: "0"},
    readOnlyRootFS: $ro}]}'
}
podmf true >"$TMP/pod-ro.json"
podmf false >"$TMP/pod-rw.json"
pod --pod-manifest="$TMP/pod-ro.json"
yes_run "readOnlyRootFS: writes to / fail (EROFS)" \
  eval '[ "$status" -eq 0 ] && [ "$OUT" = done ] && line_in "Read-only file system" "$ERR"'
pod --pod-manifest="$TMP/pod-rw.json"
is_run "--pod-manifest without readOnlyRootFS: / is writable" "$status:$(printf '%s' "$OUT" | paste -sd' ')" \
  "0:WROTE MADE done"
sh_pod -- '[ -e /newfile ] || [ -e /etc/newdir ] && echo LEAKED; echo checked'
is_run "each run starts from a clean copy of the image" "$status:$OUT" "0:checked"
# The upper layer goes with the pod: no sync through the overlay (its
# unmount would sync the whole file system under the store).
sh_pod -- 'if grep " / / .* - overlay " /proc/self/mountinfo | grep -Eq "[ ,](fsync=)?volatile(,|$)"
then echo volatile; else echo synced; fi'
is_run "the root's overlay is volatile" "$status:$OUT" "0:volatile"
# actool makes the app's overlay before the pod starts (fsconfig, whose
# values are at most 256 bytes: the /etc layer is named by a descriptor),
# also from a store at a long path, so that the app's supervisor need not
# mount it itself.
LS=$TMP/long-store-$(printf 'x%.0s' $(seq 80))
if "$ACTOOL" --dir="$LS" --insecure-options=image fetch "$BASE" >/dev/null 2>&1; then
  strace -f -o "$TMP/premount.st" -e trace=fsconfig,mount \
    "$ACTOOL" --dir="$LS" run "${ID[sh]}" --exec=/bin/true >/dev/null 2>&1
  is "a store at a long path (${#LS} bytes): the overlay is made before the pod, not by its supervisor" \
    "$(grep -c '"lowerdir", "/proc/self/fd/' "$TMP/premount.st"):$(grep -c 'mount("overlay"' "$TMP/premount.st")" "1:0"
  "$ACTOOL" --dir="$LS" gc >/dev/null 2>&1
else
  not_ok "a store at a long path"
fi
# Linux before 5.10 refuses volatile (EINVAL): the overlay is mounted
# without it.  Such a kernel is played by a shim (LD_PRELOAD) that refuses
# the overlay's optional options in fsconfig(2) and mount(2), logging each.
if gcc -shared -fPIC -O2 -o "$TMP/overlay-einval.so" "$top_srcdir/tests/integration/overlay-einval.c" \
  2>"$TMP/.err"; then
  run_capture timeout -k 5 30 env LD_PRELOAD="$TMP/overlay-einval.so" OVERLAY_EINVAL_LOG="$TMP/overlay.log" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$ACTOOL" --dir="$STORE" --insecure-options=image run "${ID[sh]}" --exec=/bin/sh -- -c 'echo ran' </dev/null
  is "on a kernel without volatile overlays the pod runs" "$status:$(cat "$TMP/.out")" "0:ran"
  is "... its overlay refused with volatile, then mounted without it" \
    "$(sed -E 's/^(refused|mounted) .*(,volatile)$/\1\2/; t; s/^(refused|mounted) .*/\1/' "$TMP/overlay.log" 2>&1 |
      paste -sd' ')" "refused,volatile mounted"
else
  not_ok "the shim of a kernel without volatile overlays builds"
  note "$(cat "$TMP/.err")"
fi

# --- exit status -----------------------------------------------------------------------------

sh_pod -- 'exit 7'
is_run "exit status: exit 7 gives 7" "$status" 7
sh_pod -- 'kill -KILL $$'
is_run "exit status: killed by SIGKILL gives 137" "$status" 137
sh_pod -- 'kill -USR1 $$'
is_run "exit status: killed by SIGUSR1 gives 138" "$status" 138
# A process an app leaves behind ends with the pod, before run returns.
stray="stray-$$-$RANDOM"
strays() {
  local f
  for f in /proc/[0-9]*/cmdline; do
    tr '\0' ' ' <"$f" 2>/dev/null | grep -q "^sh -c sleep 300; : $stray " && echo "$f"
  done
}
sh_pod -- "sh -c 'sleep 300; : $stray' & exit 5"
is_run "a process the app left behind is gone when run returns (status the app's)" \
  "$status:$(strays)" "5:"
pod "${ID[sh]}" --name=a --exec=/bin/sh -- -c 'exit 3' \
  --- "${ID[sh]}" --name=b --exec=/bin/sh -- -c 'sleep 0.5; exit 4' \
  --- "${ID[sh]}" --name=c --exec=/bin/sh -- -c 'exit 0'
is_run "exit status: the first app that failed" "$status" 3
# A closed stdout (| head) while several apps write through actool: the pod
# ends (its apps' writes fail) and is cleaned up; actool is not killed.
ac run --uuid-file-save="$TMP/upipe" "${ID[sh]}" --name=a --exec=/bin/sh -- -c 'while :; do echo a; done' \
  --- "${ID[sh]}" --name=b --exec=/bin/sh -- -c 'while :; do echo b; done' </dev/null 2>"$TMP/pipe.err" |
  head -n 1 >"$TMP/pipe.out"
status=${PIPESTATUS[0]}
OUT=$(cat "$TMP/pipe.out") ERR=$(cat "$TMP/pipe.err")
yes_run "run A --- B | head: the first line passes" line_in '^(a: a|b: b)$' "$OUT"
is_run "run A --- B | head: actool ends with its apps' status (141, their SIGPIPE), not killed" \
  "$status:$(printf '%s' "$ERR" | head -c 300)" "141:"
is_run "run A --- B | head: the pod is cleaned up" "$(pods_left)" ""
mounts_check "run A --- B | head"

pod "${ID[cwd]}" "${ID[sh]}"
is_run "run A B: two images without --- form one pod (as rkt accepts them)" \
  "$status:$(printf '%s\n' "$OUT" | sort | paste -sd' ')" "0:cwd: /srv/work sh: generic"
pod "${ID[cwd]}" --name=first "${ID[sh]}" --name=second --exec=/bin/echo -- hi --- "${ID[sh]}"
is_run "run A --name=X B --name=Y -- ARGS --- C: options go with the image before them" \
  "$status:$(printf '%s\n' "$OUT" | sort | paste -sd' ')" "0:first: /srv/work second: hi sh: generic"

pod example.com/sh,version=1.0 --exec=/bin/sh -- -c 'echo by-name'
is_run "IMAGE given as NAME,LABEL=VALUE" "$status:$OUT" "0:by-name"

# A pod's os/unix/sysctl isolator sets its own network namespace's
# sysctls; with the host's network it would set the host's, and is refused.
jq -n --arg id "${ID[sh]}" '{acVersion: "0.8.11", acKind: "PodManifest",
  apps: [{name: "sh", image: {id: $id}, app: {exec: ["/bin/cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"],
    user: "0", group: "0"}}],
  isolators: [{name: "os/unix/sysctl", value: {"net.ipv4.ip_unprivileged_port_start": "80"}}]}' >"$TMP/sysctl.json"
host_start=$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)
pod --pod-manifest="$TMP/sysctl.json"
is_run "os/unix/sysctl: set in the pod's network namespace" "$status:$OUT" "0:80"
is "os/unix/sysctl: the host's is untouched" "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" \
  "$host_start"
check_fails "os/unix/sysctl with --net=host is refused, naming why" 1 \
  'os/unix/sysctl needs the pod.s own network namespace; in the host.s it would change the host' \
  ac run --net=host --pod-manifest="$TMP/sysctl.json"
# (refused before the pod's directories were made: nothing else to say)
is "... that error alone" "$(grep -vc 'needs the pod.s own network namespace' "$TMP/.err")" 0

# Two apps of one name: the library tags the clash; actool says how --name
# separates images given on the command line, not names a pod manifest gave.
check_fails "run A A: two apps of one name, and how --name separates them" 1 \
  'apps\[1\]\.name: "sh" is already the name of apps\[0\] \(give one of them another name with --name\)' \
  ac run "${ID[sh]}" "${ID[sh]}"
jq -n --arg id "${ID[sh]}" '{acVersion: "0.8.11", acKind: "PodManifest",
  apps: [{name: "x", image: {id: $id}}, {name: "x", image: {id: $id}}]}' >"$TMP/twin.json"
check_fails "a pod manifest naming two apps alike: the clash, without a hint at --name" 1 \
  'apps\[1\]\.name: duplicate app name "x" \(also apps\[0\]\)$' ac run --pod-manifest="$TMP/twin.json"

# --- metadata service ------------------------------------------------------------------------

mkdir "$TMP/md"
mdscript='u=$AC_METADATA_URL/acMetadata/v1
wget -qO /hv/uuid "$u/pod/uuid"
wget -qO /hv/id "$u/apps/$AC_APP_NAME/image/id"
wget -qO /hv/manifest "$u/pod/manifest"
wget -qO /hv/imanifest "$u/apps/$AC_APP_NAME/image/manifest"
wget -qO /hv/annotations "$u/apps/$AC_APP_NAME/annotations"
wget -qO /hv/podannotations "$u/pod/annotations"
wget -qO /hv/sig --post-data "content=hello%20world" "$u/pod/hmac/sign"
sig=$(sed "s/+/%2B/g; s#/#%2F#g; s/=/%3D/g" /hv/sig)
uuid=$(cat /hv/uuid)
wget -qO /hv/verify --post-data "content=hello%20world&uuid=$uuid&signature=$sig" "$u/pod/hmac/verify"
echo "verify=$?"
wget -O /hv/tamper --post-data "content=hello%20worlD&uuid=$uuid&signature=$sig" "$u/pod/hmac/verify" 2>/hv/tamper.err
echo "tamper=$?"
wget -O /hv/tamper2 --post-data "content=hello%20world&uuid=00000000-0000-0000-0000-000000000000&signature=$sig" "$u/pod/hmac/verify" 2>/hv/tamper2.err
echo "tamper-uuid=$?"
wget -O /hv/badtoken "${AC_METADATA_URL%/*}/wrongtoken/acMetadata/v1/pod/uuid" 2>/hv/badtoken.err
echo "badtoken=$?"'
pod --uuid-file-save="$TMP/umd" --volume=hv,kind=host,source="$TMP/md" "${ID[meta]}" --exec=/bin/sh -- -c "$mdscript"
is_run "metadata: the app ran" "$status:$(printf '%s' "$OUT" | paste -sd' ')" "0:verify=0 tamper=1 tamper-uuid=1 badtoken=1"
u=$(cat "$TMP/umd" 2>/dev/null)
is "metadata: pod/uuid is the pod's UUID" "$(cat "$TMP/md/uuid" 2>&1)" "$u"
is "metadata: apps/NAME/image/id is the image ID" "$(cat "$TMP/md/id" 2>&1)" "${ID[meta]}"
is "metadata: pod/manifest is the reified PodManifest" \
  "$(jq -r '[.acKind, .apps[0].name, .apps[0].image.id] | join(" ")' "$TMP/md/manifest" 2>&1)" \
  "PodManifest meta ${ID[meta]}"
is "metadata: apps/NAME/image/manifest is the image's" \
  "$(jq -r '[.acKind, .name] | join(" ")' "$TMP/md/imanifest" 2>&1)" "ImageManifest example.com/meta"
is "metadata: apps/NAME/annotations has the image's" \
  "$(jq -r '.[] | select(.name == "imgnote") | .value' "$TMP/md/annotations" 2>&1)" "fromimage"
is "metadata: pod/annotations is a JSON array" "$(jq -r type "$TMP/md/podannotations" 2>&1)" "array"
if ! command -v openssl >/dev/null || ! command -v xxd >/dev/null; then
  skip "metadata: sign gives base64 HMAC-SHA512(key, UUID || content)" "needs openssl and xxd"
else
  if [ -f "$STORE/pods/hmac.key" ]; then
    want=$(printf '%shello world' "$u" |
      openssl dgst -sha512 -mac HMAC -macopt "hexkey:$(xxd -p "$STORE/pods/hmac.key" | tr -d '\n')" -binary | base64 -w0)
  else
    want="(no $STORE/pods/hmac.key)"
  fi
  is "metadata: sign gives base64 HMAC-SHA512(key, UUID || content)" "$(cat "$TMP/md/sig" 2>&1)" "$want"
fi
yes_run "metadata: verify of a tampered content or uuid answers 403" \
  eval 'grep -q 403 "$TMP/md/tamper.err" && grep -q 403 "$TMP/md/tamper2.err"'
yes_run "metadata: a wrong token answers 404" grep -q 404 "$TMP/md/badtoken.err"

# The store's HMAC key is the metadata service's alone: no process of a pod
# (actool, its init, a supervisor kept for a post-stop handler) holds it,
# where an app allowed to trace them (CAP_SYS_PTRACE) could read it and sign
# as any pod of the store.  The scan finds it in the service itself.
holds_key() { # holds_key PID...: the PIDs whose memory holds the key, raw or in hex
  python3 - "$STORE/pods/hmac.key" "$@" <<'PY'
import sys
key = open(sys.argv[1], 'rb').read()
needles = [key, key.hex().encode(), key.hex().upper().encode()]
for pid in sys.argv[2:]:
    found = False
    try:
        with open(f'/proc/{pid}/maps') as maps, open(f'/proc/{pid}/mem', 'rb', 0) as mem:
            for line in maps:
                addr, perms = line.split()[:2]
                if perms[0] != 'r' or line.rstrip().endswith('[vvar]'):
                    continue
                lo, hi = (int(x, 16) for x in addr.split('-'))
                # (not a sanitizer's shadow, terabytes reserved; read in
                # pieces that overlap by a needle's length)
                if hi - lo > 1 << 30:
                    continue
                step, tail = 1 << 20, 2 * len(key)
                for at in range(lo, hi, step):
                    try:
                        mem.seek(at)
                        data = mem.read(min(step + tail, hi - at))
                    except (OSError, ValueError, OverflowError, MemoryError):
                        break
                    if any(n in data for n in needles):
                        found = True
                        break
                if found:
                    break
    except OSError:
        pass
    if found:
        print(pid)
PY
}
u=$(ac run --detach "${ID[postfail]}" --exec=/bin/sleep -- 30 2>/dev/null)
for _ in $(seq 100); do pgrep -f '^/bin/sleep 30$' >/dev/null && break; sleep 0.05; done
p_pid=$(ac status --json "$u" | jq -r .pid)
i_pid=$(pgrep -P "$p_pid" | head -n 1)
s_pid=$(ps -o ppid= -p "$(pgrep -f '^/bin/sleep 30$' | head -n 1)" | tr -d ' ')
md_pid=$(cat "$STORE/pods/metadata.lock" 2>/dev/null)
is "metadata: the store's key is in the memory of its service, not of a pod's actool, init or supervisor" \
  "$(holds_key "$md_pid" "$p_pid" "$i_pid" "$s_pid" | paste -sd' ')" "$md_pid"
ac stop --force "$u" >/dev/null 2>&1
ac gc >/dev/null 2>&1

# A key the service would refuse fails the run before it starts, naming it
# (actool checks what only the service reads).
chmod 0644 "$STORE/pods/hmac.key"
check_fails "a pods/hmac.key of mode 0644 fails the run, named" 1 \
  "$STORE/pods/hmac.key: HMAC key has mode 0644, must be 0600" ac run "${ID[sh]}" --exec=/bin/true
chmod 0600 "$STORE/pods/hmac.key"
# A service that refuses the pod (here a stand-in that answers every
# registration "E"): the pod runs, warned, and its apps' requests are
# refused at once rather than left waiting.
RS=$TMP/refusing-store
"$ACTOOL" --dir="$RS" --insecure-options=image fetch "$BASE" >/dev/null 2>&1
mkdir -p -m 0700 "$RS/pods"
python3 - "$RS/pods/metadata-2.sock" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(8)
s.settimeout(60)
while True:
    try:
        c, _ = s.accept()
    except OSError:
        break
    for _ in range(2):  # the pod's socket, then the registration's memfd: let go
        _, anc, _, _ = c.recvmsg(1, socket.CMSG_LEN(4 * 8))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                for fd in memoryview(data).cast("i"):
                    os.close(fd)
    c.sendall(b"Ea stand-in refusing every pod")
    c.close()
PY
refuser=$!
for _ in $(seq 100); do [ -S "$RS/pods/metadata-2.sock" ] && break; sleep 0.05; done
run_capture timeout 20 "$ACTOOL" --dir="$RS" run "${ID[sh]}" --exec=/bin/sh -- -c \
  'wget -q -O- "$AC_METADATA_URL/acMetadata/v1/pod/uuid" 2>&1; echo "wget=$?"'
is "a refused registration: a warning, and the app's request refused at once" \
  "$status:$(grep -c 'a stand-in refusing every pod' "$TMP/.err"):$(grep -c 'Connection refused' "$TMP/.out"):$(grep -o 'wget=[0-9]*' "$TMP/.out")" \
  "0:1:1:wget=1"
kill "$refuser" 2>/dev/null
wait "$refuser" 2>/dev/null

# The store's metadata service outlives a pod: the next pod is served by
# the same process, which metadata.lock names.
md_pid=$(cat "$STORE/pods/metadata.lock" 2>/dev/null)
is "metadata: one service for the store, named in pods/metadata.lock" \
  "$(cat "/proc/$md_pid/comm" 2>&1)" "actool-mds"
pod "${ID[meta]}" --exec=/bin/sh -- -c 'wget -qO- "$AC_METADATA_URL/acMetadata/v1/pod/uuid" >/dev/null'
is_run "metadata: the next pod is served by the same service" \
  "$status:$(cat "$STORE/pods/metadata.lock" 2>&1)" "0:$md_pid"
# What a pod's apps wrote is removed by the service's sweeper, its child,
# with only the capabilities removal takes (dac_override, dac_read_search,
# fowner: 0xe); the service itself has none.
sweeper=$(for p in $(cat "/proc/$md_pid/task/$md_pid/children" 2>/dev/null); do
  [ "$(cat "/proc/$p/comm" 2>/dev/null)" = actool-sweep ] && echo "$p"; done)
is "metadata: its sweeper's capabilities, and its own" \
  "$(grep '^CapEff' "/proc/${sweeper:-0}/status" 2>&1 | cut -f2):$(grep '^CapEff' "/proc/$md_pid/status" | cut -f2)" \
  "000000000000000e:0000000000000000"

# A sweeper that dies retires its service at once (which cannot start
# another without capabilities): the next pod starts a new service, whose
# new sweeper removes what was set aside meanwhile.
aside=$(cat /proc/sys/kernel/random/uuid)
kill -KILL "${sweeper:-0}"
for _ in $(seq 100); do [ -e "/proc/$md_pid" ] || break; sleep 0.05; done
is "metadata: the service retires when its sweeper dies" "$(test -e "/proc/$md_pid" || echo gone)" "gone"
mkdir -p "$STORE/pods/.removing-$aside/apps/x/upper"
pod "${ID[meta]}" --exec=/bin/true
md_new=$(cat "$STORE/pods/metadata.lock" 2>/dev/null)
for _ in $(seq 100); do [ -e "$STORE/pods/.removing-$aside" ] || break; sleep 0.05; done
is_run "metadata: the next pod starts another service, whose sweeper removes what was set aside" \
  "$status:$(cat "/proc/${md_new:-0}/comm" 2>&1):$(test "$md_new" != "$md_pid" && echo new):$(test -e "$STORE/pods/.removing-$aside" && echo left)" \
  "0:actool-mds:new:"
md_pid=$md_new

# The service serves a pod from a thread of its own, started only once a
# connection waits on the pod's socket: most pods never ask.
mkdir "$TMP/mdl"
bg_pod mdl --volume=hv,kind=host,source="$TMP/mdl" "${ID[meta]}" --exec=/bin/sh -- -c \
  'echo >/hv/ready; while [ ! -e /hv/go ]; do sleep 0.1; done
  wget -qO /hv/uuid "$AC_METADATA_URL/acMetadata/v1/pod/uuid"; echo >/hv/asked
  while [ ! -e /hv/end ]; do sleep 0.1; done'
md_threads() { find "/proc/$(cat "$STORE/pods/metadata.lock")/task" -mindepth 1 -maxdepth 1 | wc -l; }
before=none after=none
if wait_file "$TMP/mdl/ready"; then
  before=$(md_threads)
  touch "$TMP/mdl/go"
fi
wait_file "$TMP/mdl/asked" && after=$(md_threads)
touch "$TMP/mdl/end"
wait_exit "$BG_PID" 30
is_run "metadata: no thread for a pod until it asks, then one (threads before:after)" \
  "$status:$before:$after:$([ -s "$TMP/mdl/uuid" ] && echo answered)" "0:1:2:answered"

# A metadata service killed while the pod runs is started again.
mkdir "$TMP/mdr"
bg_pod mdr --volume=hv,kind=host,source="$TMP/mdr" "${ID[meta]}" --exec=/bin/sh -- -c \
  'u=$AC_METADATA_URL/acMetadata/v1; wget -qO /hv/first "$u/pod/uuid"; echo >/hv/ready
  while [ ! -e /hv/go ]; do sleep 0.1; done
  wget -qO /hv/second "$u/pod/uuid"; echo "second=$?" >/hv/result'
if wait_file "$TMP/mdr/ready"; then
  kill -KILL "$(cat "$STORE/pods/metadata.lock")"
  sleep 0.2
  touch "$TMP/mdr/go"
fi
wait_exit "$BG_PID" 30
OUT=$(cat "$TMP/mdr.out") ERR=$(cat "$TMP/mdr.err")
is_run "metadata: a killed service is restarted (a later request is answered)" \
  "$status:$(cat "$TMP/mdr/result" 2>&1):$(cmp -s "$TMP/mdr/first" "$TMP/mdr/second" && echo same)" \
  "0:second=0:same"
yes_run "metadata: its restart is reported" line_in "metadata service ended.*restarting" "$ERR"

# One pod's apps cannot take every descriptor of the service that all pods
# share.  A `run` under prlimit starts a service with 64; the pod's apps
# hold 60 connections: the service still registers and answers the next
# pod, and does not spin on its socket meanwhile.
md_kill() { # end the store's service while no pod runs: the next pod starts one
  local p
  p=$(cat "$STORE/pods/metadata.lock" 2>/dev/null)
  [ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = actool-mds ] && kill -KILL "$p"
  for _ in $(seq 100); do [ -e "/proc/$p" ] || break; sleep 0.05; done
}
md_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$STORE/pods/metadata.lock")/stat" 2>/dev/null; }
md_kill
mkdir "$TMP/mdfd"
prlimit --nofile=64:64 "$ACTOOL" --dir="$STORE" --insecure-options=image run \
  --volume=hv,kind=host,source="$TMP/mdfd" "${ID[meta]}" --exec=/bin/sh -- -c \
  'p=${AC_METADATA_URL#http://127.0.0.1:}; p=${p%%/*}
  for i in $(seq 60); do sleep 100 | nc 127.0.0.1 "$p" & done
  sleep 2; echo >/hv/ready; while [ ! -e /hv/end ]; do sleep 0.1; done' \
  </dev/null >"$TMP/mdfd.out" 2>"$TMP/mdfd.err" &
fd_pid=$!
got=none ticks=none
if wait_file "$TMP/mdfd/ready"; then
  t0=$(md_ticks)
  # (not `pod`, which wants no other pod left: the first one runs still)
  got=$(ac run --uuid-file-save="$TMP/mdfd-b" "${ID[meta]}" --exec=/bin/sh -- -c \
    'timeout 10 wget -qO- "$AC_METADATA_URL/acMetadata/v1/pod/uuid"' </dev/null 2>"$TMP/mdfd-b.err")
  got="$?:$got" ticks=$(($(md_ticks) - t0))
fi
touch "$TMP/mdfd/end"
wait_exit "$fd_pid" 30
is "metadata: a pod holding 60 connections leaves a service of 64 descriptors serving the next" \
  "$got" "0:$(cat "$TMP/mdfd-b" 2>&1)"
# an idle service spends no CPU; one spinning on accept some 40 ticks a second
is "metadata: ... without spinning meanwhile (under 300 CPU ticks)" \
  "$([ "$ticks" != none ] && [ "$ticks" -lt 300 ] && echo calm || echo "ticks=$ticks")" calm
md_kill

# With --net=host a pod's socket is the host's 127.0.0.1:PORT: any local
# user reaches it, without the token.  A request has a deadline (10 s)
# however active its client: 70 connections that send a byte a second
# hold no slot past it.  One pod uploads 4 bodies at once, no more.
mkdir "$TMP/mdh"
bg_pod mdh --net=host --uuid-file-save="$TMP/mdh-uuid" --volume=hv,kind=host,source="$TMP/mdh" "${ID[meta]}" --exec=/bin/sh -- -c \
  'echo "$AC_METADATA_URL" >/hv/url.tmp; mv /hv/url.tmp /hv/url
  while [ ! -e /hv/end ]; do sleep 0.1; done'
url=none
wait_file "$TMP/mdh/url" && url=$(cat "$TMP/mdh/url")
python3 -c 'import socket, sys, time, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1]); socks = []
for _ in range(70):
    s = socket.create_connection((u.hostname, u.port)); s.sendall(b"GET / HTTP/1.1\r\nX: "); socks.append(s)
open(sys.argv[2], "w").close()
end = time.monotonic() + 40
while time.monotonic() < end:
    time.sleep(1)
    for s in socks:
        try: s.send(b"a")
        except OSError: pass' "$url" "$TMP/mdh/held" 2>"$TMP/mdh/holder.err" &
holder=$!
got=none
if wait_file "$TMP/mdh/held"; then
  sleep 11
  got=$(curl -sS -m 10 "$url/acMetadata/v1/pod/uuid" 2>&1)
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
is "metadata, --net=host: 70 slow connections of a local user hold no slot past the deadline" \
  "$got" "$(cat "$TMP/mdh-uuid" 2>&1)"
# Expect: 100-continue shows each upload's headers taken before the next
is "metadata: a pod's fifth upload at once answers 503" \
  "$(python3 -c 'import socket, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1]); socks = []
head = (b"POST " + u.path.encode() + b"/acMetadata/v1/pod/hmac/sign HTTP/1.1\r\nHost: x\r\n"
        b"Expect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 1000\r\n\r\n")
for _ in range(5):
    s = socket.create_connection((u.hostname, u.port)); s.settimeout(10); s.sendall(head); socks.append(s)
    try: print(s.recv(100).split(b"\r\n")[0].decode().split(" ")[1])
    except (socket.timeout, IndexError): print("none")
    s.sendall(b"content=abc")' "$url" 2>&1 | paste -sd' ')" "100 100 100 100 503"
signed=none
for _ in $(seq 100); do # once the server saw those uploads end
  signed=$(curl -sf -m 10 -d content=x "$url/acMetadata/v1/pod/hmac/sign" 2>&1) && break
  sleep 0.1
done
is "metadata: ... and signs again once they ended" "${#signed}" 88
touch "$TMP/mdh/end"
wait_exit "$BG_PID" 30

# --- signals -------------------------------------------------------------------------------

mkdir "$TMP/sig"
bg_pod sig --volume=hv,kind=host,source="$TMP/sig" "${ID[events]}" --exec=/bin/sh -- -c \
  'trap "echo term >/hv/marker; exit 0" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/sig/ready"; then
  kill -TERM "$BG_PID"
  wait_exit "$BG_PID" 30
  mounts_check "the SIGTERM pod"
  OUT=$(cat "$TMP/sig.out") ERR=$(cat "$TMP/sig.err")
  is_run "SIGTERM to actool reaches the app (its trap ran), exit 0" "$status:$(cat "$TMP/sig/marker" 2>&1)" "0:term"
  is_run "SIGTERM: post-stop ran after the app" "$(paste -sd' ' "$TMP/sig/log" 2>&1)" "pre post"
else
  kill -KILL "$BG_PID"
  wait_exit "$BG_PID" 5
  OUT=$(cat "$TMP/sig.out") ERR=$(cat "$TMP/sig.err")
  not_ok "SIGTERM to actool reaches the app (its trap ran), exit 0"
  note "the app never started"
  show
  not_ok "SIGTERM: post-stop ran after the app"
fi

# A second SIGTERM kills the pod at once: 128+15, like an app killed by it.
mkdir "$TMP/sig2"
bg_pod sig2 --volume=hv,kind=host,source="$TMP/sig2" "${ID[events]}" --exec=/bin/sh -- -c \
  'trap "echo >/hv/term1" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
# (the second signal is sent once the first has reached the app, so that
# the two are never one pending signal)
if wait_file "$TMP/sig2/ready"; then
  kill -TERM "$BG_PID"
  wait_file "$TMP/sig2/term1"
  kill -TERM "$BG_PID"
fi
wait_exit "$BG_PID" 30
mounts_check "the pod killed by a second SIGTERM"
OUT=$(cat "$TMP/sig2.out") ERR=$(cat "$TMP/sig2.err")
is_run "a second SIGTERM kills the pod: exit 143 (128+15), no error" "$status:$ERR" "143:"

# A mount target that leads into another volume (the image's /x -> the
# host volume's file) is refused: the executor, root, replaced the host's
# file with a directory, where the app's user could not even write.
mkdir -p "$TMP/intovol"
echo precious >"$TMP/intovol/rootonly"
pod --volume=hv,kind=host,source="$TMP/intovol" "${ID[intovol]}"
is_run "a mount target inside another volume is refused, naming it" \
  "$status:$(printf '%s\n' "$ERR" | grep -c 'mount target /data/rootonly: a file of another volume')" "1:1"
is "... and the host's file is left as it was" "$(cat "$TMP/intovol/rootonly" 2>&1)" precious

# Run from a terminal, the pod is a session of its own without it (as
# runc's): an app cannot type into the operator's terminal (TIOCSTI needs
# it to be the app's controlling terminal) nor read what is typed next;
# the terminal's Ctrl-C still reaches it, through actool. The terminal is
# one of a devpts instance of the test's own, so that it does not depend on
# how the machine's /dev/pts is set up.
mkdir -p "$TMP/tty/hv"
mkfifo "$TMP/tty/in"
unshare -m --propagation private sh -c 'mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts &&
  mount --bind /dev/pts/ptmx /dev/ptmx && exec "$@"' _ \
  script -qec "$(printf '%q ' "$ACTOOL" --dir="$STORE" run --volume=hv,kind=host,source="$TMP/tty/hv" \
    "${ID[sh]}" --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
    'cut -d" " -f7 /proc/self/stat >/hv/ttynr; trap "echo int >/hv/marker; exit 0" INT; echo >/hv/ready; while :; do sleep 0.1; done')" /dev/null <"$TMP/tty/in" >"$TMP/tty/out" 2>&1 &
TTY_PID=$!
exec 7>"$TMP/tty/in"
wait_file "$TMP/tty/hv/ready" && printf '\003' >&7
exec 7>&-
wait_exit "$TTY_PID" 30
is "run from a terminal: the app has no controlling terminal" "$(cat "$TMP/tty/hv/ttynr" 2>&1)" 0
[ -e "$TMP/tty/hv/ttynr" ] ||
  note "the terminal's output (status $status): $(head -c 2000 "$TMP/tty/out" | tr -d '\r')"
is "... and the terminal's Ctrl-C reaches it through actool" "$(cat "$TMP/tty/hv/marker" 2>&1)" int

# A thread of actool's makes the pod's network namespace while actool
# prepares the rest; it has ended by the time the app runs, and actool
# (every thread of it) is in the host's network namespace, the app in its
# own.
mkdir -p "$TMP/netns"
bg_pod netns --volume=hv,kind=host,source="$TMP/netns" "${ID[sh]}" --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'readlink /proc/self/ns/net >/hv/app.tmp && mv /hv/app.tmp /hv/app; while [ ! -e /hv/go ]; do sleep 0.05; done'
wait_file "$TMP/netns/app"
P_NETS=$(for t in /proc/"$BG_PID"/task/*; do readlink "$t/ns/net"; done)
: >"$TMP/netns/go"
wait_exit "$BG_PID" 30
OUT=$(cat "$TMP/netns.out") ERR=$(cat "$TMP/netns.err")
is_run "a pod's run: one thread of actool's left, in the host's network namespace" \
  "$status:$P_NETS" "0:$(readlink /proc/self/ns/net)"
is "... and the app in a network namespace of its own" \
  "$(grep -c "^$(readlink /proc/self/ns/net)\$" "$TMP/netns/app"):$(grep -c '^net:' "$TMP/netns/app")" "0:1"

# actool stop from another process: the same two steps, GRACE apart.
mkdir "$TMP/stop1"
bg_pod stop1 --uuid-file-save="$TMP/ustop1" --volume=hv,kind=host,source="$TMP/stop1" "${ID[events]}" \
  --exec=/bin/sh -- -c 'trap "echo term >/hv/marker; exit 0" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/stop1/ready"; then
  u=$(cat "$TMP/ustop1")
  run_capture ac stop "${u:0:8}"
  is "stop: prints the UUID once the pod is gone" "$status:$(cat "$TMP/.out")" "0:$u"
  yes_run "stop: the pod's actool has exited" eval '! kill -0 '"$BG_PID"' 2>/dev/null'
  wait_exit "$BG_PID" 30
  is "stop: the app's TERM trap ran, and post-stop after it; the pod exits 0" \
    "$status:$(cat "$TMP/stop1/marker" 2>&1):$(paste -sd' ' "$TMP/stop1/log" 2>&1)" "0:term:pre post"
  yes_run "stop: the pod's directories are gone" test ! -e "$STORE/pods/$u" -a ! -e "$(rundir)/$u"
else
  kill -KILL "$BG_PID"
  not_ok "stop: the app never started"
fi
# A second stop while the first waits (two operators, a retry) is no
# second interrupt: the pod still stops gracefully, post-stop handlers run.
mkdir "$TMP/stop1b"
bg_pod stop1b --uuid-file-save="$TMP/ustop1b" --volume=hv,kind=host,source="$TMP/stop1b" "${ID[events]}" \
  --exec=/bin/sh -- -c 'trap "echo >/hv/term1; sleep 1; echo term >/hv/marker; exit 0" TERM
  echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/stop1b/ready"; then
  u=$(cat "$TMP/ustop1b")
  ac stop --grace=20s "$u" >"$TMP/stop1b.first" 2>&1 &
  first=$!
  wait_file "$TMP/stop1b/term1"
  run_capture ac stop --grace=20s "$u"
  wait "$first"
  is "two stops at once: both print the UUID" "$?:$status:$(cat "$TMP/stop1b.first" "$TMP/.out")" "0:0:$u"$'\n'"$u"
  wait_exit "$BG_PID" 30
  is "... the app's TERM trap ended, post-stop ran; the pod exits 0" \
    "$status:$(cat "$TMP/stop1b/marker" 2>&1):$(paste -sd' ' "$TMP/stop1b/log" 2>&1)" "0:term:pre post"
else
  kill -KILL "$BG_PID"
  not_ok "two stops at once: the app never started"
fi
mkdir "$TMP/stop2"
bg_pod stop2 --uuid-file-save="$TMP/ustop2" --volume=hv,kind=host,source="$TMP/stop2" "${ID[events]}" \
  --exec=/bin/sh -- -c 'trap "" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/stop2/ready"; then
  u=$(cat "$TMP/ustop2")
  start=$(date +%s%N)
  run_capture ac stop --grace=1s "$u"
  took=$((($(date +%s%N) - start) / 1000000))
  is "stop --grace=1s of an app that ignores SIGTERM: it is killed after the grace" "$status:$(cat "$TMP/.out")" "0:$u"
  yes_run "stop waited about the grace period (${took} ms)" test "$took" -ge 900 -a "$took" -lt 15000
  wait_exit "$BG_PID" 30
  is "the killed pod exits 143, without post-stop" "$status:$(paste -sd' ' "$TMP/stop2/log" 2>&1)" "143:pre"
else
  kill -KILL "$BG_PID"
  not_ok "stop --grace: the app never started"
fi
mkdir "$TMP/stop3"
bg_pod stop3 --uuid-file-save="$TMP/ustop3" --volume=hv,kind=host,source="$TMP/stop3" "${ID[events]}" \
  --exec=/bin/sh -- -c 'trap "" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/stop3/ready"; then
  start=$(date +%s%N)
  run_capture ac stop --force "$(cat "$TMP/ustop3")"
  took=$((($(date +%s%N) - start) / 1000000))
  is "stop --force: SIGKILL to the app, which ignores SIGTERM" "$status" 0
  yes_run "stop --force did not wait for a grace period (${took} ms)" test "$took" -lt 8000
  wait_exit "$BG_PID" 30
  is "stop --force: the app died of SIGKILL (137), then post-stop ran" \
    "$status:$(paste -sd' ' "$TMP/stop3/log" 2>&1)" "137:pre post"
  is "... as stop --help says" "$("$ACTOOL" stop --help | grep -A1 -e '--force' | grep -c 'post-stop handlers still run')" 1
else
  kill -KILL "$BG_PID"
  not_ok "stop --force: the app never started"
fi
# Without post-stop handlers the supervisor became the app: it is the one killed.
mkdir -m 0777 "$TMP/stop4"
bg_pod stop4 --uuid-file-save="$TMP/ustop4" --volume=hv,kind=host,source="$TMP/stop4" "${ID[sh]}" \
  --mount=volume=hv,target=/hv --exec=/bin/sh -- -c 'trap "" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/stop4/ready"; then
  run_capture ac stop --force "$(cat "$TMP/ustop4")"
  wait_exit "$BG_PID" 30
  is "stop --force of an app with no post-stop (its supervisor became it): 137" "$status" 137
else
  kill -KILL "$BG_PID"
  not_ok "stop --force (no handlers): the app never started"
fi
# --force of a pod still starting (its init held by the test hook): the
# app is still killed, not asked to stop (it ignores SIGTERM).
mkdir -m 0777 "$TMP/stop5"
ACTOOL_TEST_INIT_DELAY_MS=700 bg_pod stop5 --uuid-file-save="$TMP/ustop5" \
  --volume=hv,kind=host,source="$TMP/stop5" "${ID[sh]}" --mount=volume=hv,target=/hv \
  --exec=/bin/sh -- -c 'trap "" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/ustop5"; then
  start=$(date +%s%N)
  run_capture ac stop --force "$(cat "$TMP/ustop5")"
  took=$((($(date +%s%N) - start) / 1000000))
  wait_exit "$BG_PID" 30
  is "stop --force of a pod still starting: the app is killed (137), soon (${took} ms)" \
    "$status:$([ "$took" -lt 8000 ] && echo soon)" "137:soon"
else
  kill -KILL "$BG_PID"
  not_ok "stop --force of a pod still starting: no UUID"
fi
# ... and right after run --detach of 30 apps, whose supervisors the init
# forks one after another: those forked after stop's first look are
# killed too, not left for the init's kill 30 s later.
many=()
for i in $(seq 30); do
  many+=("${ID[sh]}" --name=m$i --exec=/bin/sh -- -c 'trap "" TERM; while :; do sleep 1; done' ---)
done
unset 'many[${#many[@]}-1]'
slow=""
for _ in 1 2 3; do
  u=$(ac run --detach "${many[@]}" 2>/dev/null)
  start=$(date +%s%N)
  timeout 60 "$ACTOOL" --dir="$STORE" stop --force "$u" >/dev/null 2>&1
  took=$((($(date +%s%N) - start) / 1000000))
  [ "$took" -lt 8000 ] || slow+="$took "
done
is "stop --force right after run --detach of 30 apps: soon, every time" "$slow" ""
ac gc >/dev/null 2>&1
# The pod's actool killed while stop waits: stop says so, not "stopped".
mkdir -m 0777 "$TMP/stop6"
bg_pod stop6 --uuid-file-save="$TMP/ustop6" --volume=hv,kind=host,source="$TMP/stop6" "${ID[sh]}" \
  --mount=volume=hv,target=/hv --exec=/bin/sh -- -c 'trap "" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
if wait_file "$TMP/stop6/ready"; then
  u=$(cat "$TMP/ustop6")
  (sleep 0.5 && kill -KILL "$BG_PID") &
  run_capture ac stop --grace=10s "$u"
  wait
  is "stop while the pod's actool is killed: fails, pointing to gc" \
    "$status:$(grep -c "$u: its actool died before the pod stopped: .actool gc." "$TMP/.err")" "1:1"
  ac gc >/dev/null 2>&1
else
  kill -KILL "$BG_PID"
  not_ok "stop while the pod's actool is killed: the app never started"
fi
# Those who look at a pod hold its lock a moment: an exited pod stays
# exited (pid 0, nothing for stop to signal) while another holds it.
u=$(ac run --detach "${ID[sh]}" --exec=/bin/true 2>/dev/null)
for _ in $(seq 100); do
  ac status "$u" 2>/dev/null | grep -qx 'state=exited' && break
  sleep 0.1
done
flock -x "$(rundir)/$u/lock" sleep 1.5 &
flock_pid=$!
sleep 0.3
run_capture ac status "$u"
is "an exited pod whose lock another process holds: still exited, pid 0" \
  "$status:$(grep -E '^(state|pid)=' "$TMP/.out" | paste -sd' ')" "0:state=exited pid=0"
run_capture ac stop "$u"
is "... stop of it: stopped already" "$status:$(cat "$TMP/.out")" "0:$u"
wait "$flock_pid"
ac gc >/dev/null 2>&1
check_fails "stop of a pod that is not there fails" 1 'no such pod' ac stop 00000000-0000-0000-0000-000000000000
check_fails "stop without a UUID is a usage error" 2 'UUID' ac stop
check_fails "stop --grace=soon is a usage error" 2 'grace' ac stop --grace=soon x
# An exited pod's exit status is what a foreground run would have exited
# with: the first failing app's (here the second listed, which ends first).
u=$(ac run --detach "${ID[sh]}" --name=late --exec=/bin/sh -- -c 'sleep 2; exit 5' \
  --- "${ID[sh]}" --name=early --exec=/bin/sh -- -c 'exit 3' 2>/dev/null)
is "status --json of a running pod: no exitCode" "$(ac status --json "$u" | jq -c '.exitCode')" null
is "... and its running app no finished time" \
  "$(ac status --json "$u" | jq -c '.apps[] | select(.name == "late") | .finished')" null
for _ in $(seq 100); do
  ac status "$u" 2>/dev/null | grep -qx 'state=exited' && break
  sleep 0.1
done
is "status --json of an exited pod: exitCode, the first failing app's status" \
  "$(ac status --json "$u" | jq -c '[.state, .exitCode, [.apps[].exitCode]]')" '["exited",3,[5,3]]'
is "status: exit-code=" "$(ac status "$u" | grep '^exit-code=')" "exit-code=3"
# each app's end: early's two seconds before late's, a second apart at least, late's not after the pod's
is "status --json: each app's finished time, in the order they ended, the pod's the last" \
  "$(ac status --json "$u" | jq -c '[.apps[].finished | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$")] + [(.apps[1].finished < .apps[0].finished), (.apps[0].finished <= .finished)]')" \
  '[true,true,true,true]'
is "status: app-NAME-finished= as --json has it" \
  "$(ac status "$u" | sed -n 's/^app-early-finished=//p')" "$(ac status --json "$u" | jq -r '.apps[1].finished')"
ac gc >/dev/null 2>&1

# An app that ends takes with it what it left in its cgroup (a background
# child), as a container's processes end with its main one, while the
# pod's other app runs on; an app whose supervisor is killed (it has one of
# its own for its post-stop handler) ends with it, not run on shown exited.
gone() { # gone PATTERN: no process matches it within 5 s
  for _ in $(seq 100); do pgrep -f "$1" >/dev/null || return 0; sleep 0.05; done
  return 1
}
app_state() { ac status "$1" 2>/dev/null | sed -n "s/^app-$2=//p"; }
u=$(ac run --detach "${ID[sh]}" --name=long --exec=/bin/sleep -- 30 \
  --- "${ID[sh]}" --name=short --exec=/bin/sh -- -c '/bin/sleep 317 & exit 0' 2>/dev/null)
for _ in $(seq 100); do [ "$(app_state "$u" short)" = "exited(0)" ] && break; sleep 0.05; done
check "an app that ended: its background child is gone" gone '^/bin/sleep 317$'
is "... the pod's other app runs on" "$(app_state "$u" long)" running
ac stop --force "$u" >/dev/null 2>&1
u=$(ac run --detach "${ID[sh]}" --name=long --exec=/bin/sleep -- 30 \
  --- "${ID[postfail]}" --name=forked --exec=/bin/sleep -- 318 2>/dev/null)
for _ in $(seq 100); do pgrep -f '^/bin/sleep 318$' >/dev/null && break; sleep 0.05; done
supervisor=$(ps -o ppid= -p "$(pgrep -f '^/bin/sleep 318$' | head -n 1)" | tr -d ' ')
kill -9 "$supervisor"
check "an app whose supervisor was killed ends with it" gone '^/bin/sleep 318$'
for _ in $(seq 100); do [ "$(app_state "$u" forked)" = "exited(137)" ] && break; sleep 0.05; done
is "... shown so" "$(app_state "$u" forked)" "exited(137)"
is "... the pod's other app runs on" "$(app_state "$u" long)" running
ac stop --force "$u" >/dev/null 2>&1
ac gc >/dev/null 2>&1

pod "${ID[postfail]}"
is_run "a failing post-stop handler: its status is the app's (the app succeeded)" "$status:$OUT" "5:app"
is_run "a failing post-stop handler: its error is printed once" "$(printf '%s\n' "$ERR" | grep -c 'post-stop')" 1
# A post-stop handler that never ends would keep the pod from ending.
started_at=$SECONDS
pod --post-stop-timeout=1s "${ID[posthang]}"
is_run "a post-stop handler still running after --post-stop-timeout is killed, failing the app (137)" \
  "$status:$(paste -sd' ' <<<"$OUT"):$((SECONDS - started_at < 20))" "137:app handler:1"
is_run "... naming the handler and the limit" \
  "$(grep -c 'the post-stop handler /bin/sh did not end within 1000 ms: killed' <<<"$ERR")" 1
check_fails "run --post-stop-timeout=soon is a usage error" 2 'post-stop-timeout=soon' \
  ac run --post-stop-timeout=soon "${ID[posthang]}"

# --- list and status ---------------------------------------------------------------------------

mkdir "$TMP/lst"
bg_pod lst --uuid-file-save="$TMP/ulst" --volume=hv,kind=host,source="$TMP/lst" \
  "${ID[sh]}" --name=quick --exec=/bin/sh -- -c 'exit 3' \
  --- "${ID[sh]}" --name=slow --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done'
wait_file "$TMP/lst/ready"
u=$(cat "$TMP/ulst" 2>/dev/null)
# (until the quick app's exit has reached actool's record of the pod)
for _ in $(seq 300); do
  ac status "$u" 2>/dev/null | grep -qx 'app-quick=exited(3)' && break
  sleep 0.1
done
run_capture ac list --no-legend --raw --output=uuid,state,apps
is "list: the running pod" "$status:$(grep -F "$u" "$TMP/.out")" "0:$u running quick,slow"
run_capture ac list --json
is "list --json: the running pod, its pid and apps" \
  "$(jq -r --arg u "$u" '.[] | select(.uuid == $u) | [.state, .pid, (.apps | map(.name + ":" + .state + ":" + (.exitCode // "" | tostring)) | join(","))] | join(" ")' "$TMP/.out" 2>&1)" \
  "running $BG_PID quick:exited:3,slow:running:"
run_capture ac status "$u"
is "status: state, pid and each app's" \
  "$status:$(grep -E '^(uuid|state|pid|app-quick|app-slow)=' "$TMP/.out" | paste -sd' ')" \
  "0:uuid=$u state=running pid=$BG_PID app-quick=exited(3) app-slow=running"
run_capture ac status "${u:0:8}"
is "status: a UUID prefix" "$status:$(grep '^uuid=' "$TMP/.out")" "0:uuid=$u"
run_capture ac status --json "$u"
is "status --json: the pod as list --json shows it" \
  "$status:$(jq -r '[.uuid, .state, .pid, (.apps | map(.name + ":" + .state + ":" + (.exitCode // "" | tostring)) | join(","))] | join(" ")' "$TMP/.out" 2>&1)" \
  "0:$u running $BG_PID quick:exited:3,slow:running:"
is "status --json: each app's command line and environment, the pod's network" \
  "$(jq -c '[.apps[1].exec[0], .apps[1].exec[1], .apps[0].environment.IMGVAR, .network.mode, .network.addresses[0]]' "$TMP/.out" 2>&1)" \
  '["/bin/sh","-c","image","private","127.0.0.1"]'
yes_run "the pod's directories exist while it runs" test -d "$STORE/pods/$u" -a -f "$(rundir)/$u/state.json"
# Its state changes at its start and end and goes with it: in memory, as
# /run is, never on the store's disk.
is "the pod's state is on a tmpfs" "$(stat -f -c %T "$(rundir)")" tmpfs
is "...in a directory that names its store" "$(cat "$(rundir)/store")" "$(realpath "$STORE")"
touch "$TMP/lst/stop"
wait_exit "$BG_PID" 30
mounts_check "the list/status pod"
is "the pod's exit status is the failed app's" "$status" 3
yes_run "the pod's directories are gone when it ends" test ! -e "$STORE/pods/$u" -a ! -e "$(rundir)/$u"
run_capture ac list --no-legend
is "list: the ended pod is gone" "$status:$(grep -cF "$u" "$TMP/.out")" "0:0"
check_fails "status: the ended pod is unknown" 1 . ac status "$u"

# run --detach: the UUID once the pod runs, output to the pod's log, the
# exited pod kept (state, exit statuses, log) until gc.
mkdir "$TMP/det"
start=$(date +%s%N)
run_capture timeout 30 "$ACTOOL" --dir="$STORE" --insecure-options=image run --detach \
  --volume=hv,kind=host,source="$TMP/det" "${ID[sh]}" --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'echo hello from the detached pod; echo err >&2; echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done; exit 4'
took=$((($(date +%s%N) - start) / 1000000))
u=$(cat "$TMP/.out")
is "run --detach prints the pod's UUID and returns 0 while the pod runs" \
  "$status:$([[ $u =~ ^[0-9a-f-]{36}$ ]] && echo uuid)" "0:uuid"
yes_run "run --detach returned at once (${took} ms)" test "$took" -lt 10000
wait_file "$TMP/det/ready"
# The executor's /etc files, a layer of the app's overlay, are in the pod's
# state directory while it runs (no mount of their own).
is "the app's /etc layer is in the running pod's state directory" \
  "$(ls "$(rundir)/$u/etc" 2>&1):$(cat "$(rundir)/$u/etc/sh/etc/hostname" 2>&1)" "sh:actool-$u"
# The running pod's tree (its lock held shared): render --overwrite onto it
# once swapped it out and removed it under the app.
held=
for t in "$STORE"/trees/*; do flock -n -x "$t/lock" true 2>/dev/null || held=$t; done
ino=$(stat -c %i "$held/rootfs/bin/sh")
check_fails "render --overwrite onto the running pod's tree: refused, the tree in the store" 1 \
  "^actool: $(regex_quote "$held"): in the store $(regex_quote "$STORE"): " \
  ac image render --overwrite "${ID[sh]}" "$held"
is "... and the tree is still there, the pod's own files in it (not a new render)" \
  "$(stat -c %i "$held/rootfs/bin/sh")" "$ino"
run_capture ac status "$u"
is "status of the detached pod: running, with its log" \
  "$status:$(grep -E '^(state|log)=' "$TMP/.out" | paste -sd' ')" "0:state=running log=$STORE/pods/$u/log"
run_capture ac status --log "$u"
is "status --log: the app's output so far, stdout and stderr" "$status:$(sort "$TMP/.out" | paste -sd' ')" \
  "0:err hello from the detached pod"
touch "$TMP/det/stop"
for _ in $(seq 100); do
  ac status "$u" 2>/dev/null | grep -qx 'state=exited' && break
  sleep 0.1
done
run_capture ac status "$u"
is "the exited pod is kept: state, finish time, the app's exit status" \
  "$status:$(grep -E '^(state|app-sh)=' "$TMP/.out" | paste -sd' '):$(grep -c '^finished=' "$TMP/.out")" \
  "0:state=exited app-sh=exited(4):1"
is "... and no pid (its actool's may be another process's now), as docker shows" \
  "$(grep '^pid=' "$TMP/.out"):$(ac status --json "$u" | jq .pid)" "pid=0:0"
run_capture ac list --no-legend --raw
is "list shows the exited pod" "$(grep -F "$u" "$TMP/.out" | cut -d' ' -f2)" exited
check_fails "status of an empty UUID (one pod there): no such pod" 1 '^actool: pod "": no such pod' ac status ""
check_fails "status of a pod that is not there: no such pod, what lists them" 1 \
  'pod "00000000": no such pod \(`actool list` lists' ac status 00000000
run_capture ac status --log "$u"
is "its log outlives it" "$(grep -c 'hello from the detached pod' "$TMP/.out")" 1
check_fails "status --log to a full disk: standard output blamed, not the log" 1 \
  '^actool: standard output: No space left on device$' to_full ac status --log "$u"
is "its apps' file systems are gone, its log kept" "$(ls "$STORE/pods/$u" 2>&1 | paste -sd' ')" "log"
is "...and its state, in the store's runtime directory" "$(ls "$(rundir)/$u" 2>&1 | paste -sd' ')" \
  "lock pod state.json"
run_capture ac gc
is "gc removes the exited pod" "$status:$(grep -c "removed pod $u" "$TMP/.out")" "0:1"
check_fails "status: the removed pod is unknown" 1 . ac status "$u"
mounts_check "the detached pod"
run_capture timeout 30 "$ACTOOL" --dir="$STORE" --insecure-options=image run --detach "$TMP/no-such-image-here.aci"
is "run --detach of an image that cannot be had fails in the foreground, no UUID" \
  "$status:$(wc -c <"$TMP/.out"):$(grep -c 'no-such-image-here' "$TMP/.err")" "1:0:1"
# A detached pod is stopped as any other.
mkdir "$TMP/det2"
run_capture timeout 30 "$ACTOOL" --dir="$STORE" --insecure-options=image run --detach \
  --volume=hv,kind=host,source="$TMP/det2" "${ID[sh]}" --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'trap "exit 0" TERM; echo ready >/hv/ready; while :; do sleep 0.1; done'
u=$(cat "$TMP/.out")
wait_file "$TMP/det2/ready"
run_capture ac stop "$u"
is "stop of a detached pod" "$status:$(cat "$TMP/.out")" "0:$u"
run_capture ac status "$u"
is "the stopped detached pod is kept as exited, status 0" \
  "$(grep -E '^(state|app-sh)=' "$TMP/.out" | paste -sd' ')" "state=exited app-sh=exited(0)"
run_capture ac stop "$u"
is "stop of a pod that has exited already: done, as docker answers (its UUID, 0, nothing on stderr)" \
  "$status:$(cat "$TMP/.out"):$(cat "$TMP/.err")" "0:$u:"
# gc --grace keeps exited pods that ended within it, as rkt's does.
run_capture ac gc --grace=1h
is "gc --grace=1h: the pod that just exited stays, its status readable" \
  "$status:$(grep -c "$u" "$TMP/.out"):$(ac status "$u" 2>&1 | grep '^state=')" "0:0:state=exited"
sleep 1.2
run_capture ac gc --grace=1s
is "gc --grace=1s: it ended longer ago than that: removed" "$status:$(cat "$TMP/.out")" "0:removed pod $u"
check_fails "gc --grace=soon is a usage error" 2 'grace' ac gc --grace=soon
ac gc >/dev/null 2>&1
# status --json of a pod of the host's network: the host's addresses, as
# ip lists them (but IPv6 link-local ones).
run_capture ac run --detach --net=host "${ID[sh]}" --exec=/bin/sleep -- 100
u=$(cat "$TMP/.out")
is "status --json, --net=host: the host's addresses" \
  "$(ac status --json "$u" | jq -r '.network.addresses[]' | sort | paste -sd' ')" \
  "$(ip -o addr show up | awk '$3 == "inet" || ($3 == "inet6" && $4 !~ /^fe80:/) { sub("/.*", "", $4); print $4 }' | sort | paste -sd' ')"
ac stop --force "$u" >/dev/null 2>&1
ac gc >/dev/null 2>&1
# enter into a pod of several apps names one: the library tags the
# question, actool says how to answer it.
mkdir "$TMP/det3"
run_capture ac run --detach --volume=hv,kind=host,source="$TMP/det3" \
  "${ID[sh]}" --name=a --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'echo ready >/hv/ready; while :; do sleep 0.1; done' \
  --- "${ID[sh]}" --name=b --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'echo ready >/hv/ready-b; while :; do sleep 0.1; done'
u=$(cat "$TMP/.out")
wait_file "$TMP/det3/ready"
wait_file "$TMP/det3/ready-b"
check_fails "enter of a pod of several apps without --app: which, and how to say it" 1 \
  'has 2 apps: say which \(--app=NAME\)' ac enter "$u" -- /bin/true
run_capture ac enter --app=b "$u" -- /bin/sh -c 'exit 3'
is "enter --app=NAME picks that app" "$status" 3
ac stop "$u" >/dev/null 2>&1
ac gc >/dev/null 2>&1

# actool enter: a command in a running app, as the app runs.
mkdir -m 0777 "$TMP/ent"
bg_pod ent --uuid-file-save="$TMP/uent" --volume=hv,kind=host,source="$TMP/ent" --set-env=FROM_RUN=yes \
  "${ID[sh]}" --user=alice --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  'echo "$AC_METADATA_URL" >/hv/url; echo here >/home/alice/app-was-here; echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done'
if wait_file "$TMP/ent/ready"; then
  u=$(cat "$TMP/uent")
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c \
    'id -u; cat /home/alice/app-was-here; hostname; cat /hv/ready; grep -c "^NoNewPrivs:" /proc/self/status; echo "$AC_APP_NAME"; pwd; grep "^Seccomp:" /proc/self/status'
  is "enter: the app's user, root, hostname, volume, environment and seccomp filter" \
    "$status:$(paste -sd' ' "$TMP/.out")" "0:1000 here actool-$u ready 1 sh / Seccomp:	2"
  # (a pod of one app that is no init has no cgroup of the app's beneath the pod's)
  if [ -d /sys/fs/cgroup ] && find /sys/fs/cgroup -maxdepth 3 -type d -path "*/actool/$u" 2>/dev/null | grep -q .; then
    run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c \
      'grep -c . /proc/self/cgroup; grep -vc ":/$" /proc/self/cgroup; true'
    # Seen through the app's cgroup namespace, the app's cgroup is "/" in
    # every hierarchy; a process outside it would see "/.." paths.
    is "enter: the app's cgroups (and cgroup namespace)" \
      "$status:$(paste -sd: "$TMP/.out")" "0:$(grep -c . /proc/self/cgroup):0"
    # A pod of one app that is no init: the app's processes are in the pod's
    # own cgroup, in every hierarchy, with none beneath it.
    cgs=$(find /sys/fs/cgroup -maxdepth 3 -type d -path "*/actool/$u")
    is "one app: its processes in the pod's own cgroup, none beneath ($(wc -w <<<"$cgs") hierarchies)" \
      "$(for d in $cgs; do grep -q . "$d/cgroup.procs" && echo procs; find "$d" -mindepth 1 -type d; done | sort -u)" procs
  else
    skip "enter: the app's cgroups (and cgroup namespace)" "no cgroup for the pod on this host"
  fi
  # The command has what the app has: the metadata service's URL (the
  # same, not empty) and run's --set-env values.
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c 'echo "$AC_METADATA_URL $FROM_RUN $HOME"'
  is "enter: the app's AC_METADATA_URL, --set-env values and HOME" "$status:$(cat "$TMP/.out")" \
    "0:$(cat "$TMP/ent/url") yes /home/alice"
  case $(cat "$TMP/ent/url") in
  http://127.0.0.1:*/?*) ok "the app's AC_METADATA_URL is the service's address and a token" ;;
  *) not_ok "the app's AC_METADATA_URL is the service's address and a token" ;;
  esac
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c 'exit 7'
  is "enter: the command's exit status" "$status" 7
  # A descriptor of the caller's (a host directory) open in the command
  # would let the app reach the host through /proc/PID/fd.
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c 'ls /proc/$$/fd; true' 9<"$TMP/ent"
  is "enter: of the caller's descriptors only 0, 1 and 2 reach the command" "$status:$(paste -sd' ' "$TMP/.out")" "0:0 1 2"
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "${u:0:8}" </dev/null
  is "enter without a command runs /bin/sh (a UUID prefix does)" "$status" 0
  check_fails "enter --app=NAME of an app the pod lacks" 1 'no app named "nope"' \
    timeout 20 "$ACTOOL" --dir="$STORE" enter --app=nope "$u" -- /bin/true
  check_fails "enter of a command the app lacks" 127 'no-such-command' \
    timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /no-such-command
  check_fails "... or that its PATH lacks: 127 too, as a shell" 127 'no-such-command: not found in PATH' \
    timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- no-such-command
  # Under a terminal, the command is not in the terminal's session, as the
  # app is not: with it as its controlling terminal, the command (or an app
  # tracing it) could type into the operator's shell (TIOCSTI).
  script -qec "$(printf '%q ' timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c \
    'cut -d" " -f7 /proc/self/stat')" /dev/null </dev/null >"$TMP/.out" 2>&1
  is "enter under a terminal: the command has no controlling terminal (tty_nr 0)" \
    "$(tr -d '\r' <"$TMP/.out")" 0
  # The pod's PID 1, a copy of actool, shows no part of actool's command line.
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c 'tr "\0" "\n" </proc/1/cmdline'
  is "the pod's PID 1 shows a name, not actool's command line (--set-env values)" \
    "$status:$(grep -c FROM_RUN "$TMP/.out"):$(head -1 "$TMP/.out")" "0:0:actool-pod-init"
  mds=$(cat "$STORE/pods/metadata.lock" 2>/dev/null)
  is "... nor does the metadata service, which outlives the pod that started it" \
    "$(tr '\0' '\n' <"/proc/$mds/cmdline" 2>&1 | head -1):$(tr '\0' '\n' <"/proc/$mds/cmdline" | grep -c FROM_RUN)" \
    "actool-mds:0"
  # The command gets the signals enter gets, and a SIGTERM when enter is
  # killed (it cannot pass a SIGKILL on).
  for sig in TERM HUP KILL; do
    "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c \
      "trap 'echo \$0 >/hv/got-$sig; exit 0' HUP TERM; echo up >/hv/up-$sig; while :; do sleep 0.1; done" \
      sh </dev/null >/dev/null 2>&1 &
    epid=$!
    if wait_file "$TMP/ent/up-$sig"; then
      kill -"$sig" "$epid"
      wait_file "$TMP/ent/got-$sig"
      is "SIG$sig to enter reaches the command" "$(cat "$TMP/ent/got-$sig" 2>&1)" sh
    else
      not_ok "SIG$sig to enter reaches the command (the command never started)"
    fi
    wait_exit "$epid" 10
  done
  # A signal goes to the command's process group, as a terminal's to its
  # foreground job: what the command runs gets it too.
  "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c 'echo up >/hv/up-group; sleep 4242; echo after' \
    </dev/null >/dev/null 2>&1 &
  epid=$!
  if wait_file "$TMP/ent/up-group" && sleep 0.3; then
    kill -TERM "$epid"
    wait_exit "$epid" 10
    is "SIGTERM to enter ends what the command runs too (exit 143)" \
      "$status:$(pgrep -fc '^sleep 4242')" "143:0"
  else
    not_ok "SIGTERM to enter ends what the command runs too (the command never started)"
  fi
  pkill -f '^sleep 4242'
  # Ctrl-Z (SIGTSTP) stops enter and the command's processes; SIGCONT goes on.
  "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/sh -c 'echo up >/hv/up-tstp; exec sleep 4243' \
    </dev/null >/dev/null 2>&1 &
  epid=$!
  if wait_file "$TMP/ent/up-tstp" && sleep 0.3; then
    state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }
    kill -TSTP "$epid"
    sleep 0.5
    stopped="$(state "$epid"):$(state "$(pgrep -f '^sleep 4243')")"
    kill -CONT "$epid"
    sleep 0.5
    is "SIGTSTP stops enter and the command, SIGCONT continues both" \
      "$stopped $(state "$epid"):$(state "$(pgrep -f '^sleep 4243')")" "T:T S:S"
    kill -TERM "$epid"
    wait_exit "$epid" 10
  else
    not_ok "SIGTSTP stops enter and the command (the command never started)"
  fi
  pkill -f '^sleep 4243'
  touch "$TMP/ent/stop"
  wait_exit "$BG_PID" 30
  is "the entered pod ends as usual" "$status" 0
else
  kill -KILL "$BG_PID"
  not_ok "enter: the app never started"
fi
# A pod run with --insecure-options=seccomp is entered without a filter too.
mkdir -m 0777 "$TMP/ent-nosc"
bg_pod ent-nosc --insecure-options=image,seccomp --uuid-file-save="$TMP/uent-nosc" \
  --volume=hv,kind=host,source="$TMP/ent-nosc" "${ID[sh]}" --mount=volume=hv,target=/hv \
  --exec=/bin/sh -- -c 'echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done'
if wait_file "$TMP/ent-nosc/ready"; then
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$(cat "$TMP/uent-nosc")" -- /bin/sh -c \
    'grep "^Seccomp:" /proc/self/status'
  is "enter of a pod run with --insecure-options=seccomp: no filter either" "$status:$(cat "$TMP/.out")" \
    "0:Seccomp:	0"
  touch "$TMP/ent-nosc/stop"
  wait_exit "$BG_PID" 30
else
  kill -KILL "$BG_PID"
  not_ok "enter (--insecure-options=seccomp): the app never started"
fi
# The app swaps its working directory (/srv/work, from its image) for a
# symlink through /proc/1/root, the pod's init on the host: a command
# entered must not run there.
mkdir -p "$TMP/ent2" "$TMP/hostcwd2"
bg_pod ent2 --uuid-file-save="$TMP/uent2" --volume=hv,kind=host,source="$TMP/ent2" "${ID[cwd]}" \
  --mount=volume=hv,target=/hv --exec=/bin/sh -- -c \
  "cd / && rm -rf /srv/work && ln -s /proc/1/root$TMP/hostcwd2 /srv/work && echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done"
if wait_file "$TMP/ent2/ready"; then
  run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$(cat "$TMP/uent2")" -- /bin/sh -c \
    'echo entered >ENTERED'
  is "enter: a working directory swapped for a link through /proc/1/root is refused, nothing on the host" \
    "$status:$(ls "$TMP/hostcwd2" | wc -l)" "126:0"
  touch "$TMP/ent2/stop"
  wait_exit "$BG_PID" 30
else
  kill -KILL "$BG_PID"
  not_ok "enter: a working directory swapped for a link through /proc/1/root is refused (the app never started)"
fi
check_fails "enter of a pod that is not running" 1 'no such pod' \
  timeout 20 "$ACTOOL" --dir="$STORE" enter 00000000-0000-0000-0000-000000000000

# stopped DIR UUID: stop --force the pod UUID of the store DIR and wait for its end.
stopped() {
  local _
  "$ACTOOL" --dir="$1" stop --force "$2" >/dev/null 2>&1
  for _ in $(seq 100); do
    "$ACTOOL" --dir="$1" status "$2" 2>/dev/null | grep -q '^state=running' || break
    sleep 0.1
  done
}
# enter right after run --detach, which returns once the pod's directory
# exists: enter waits for the app to have its root.
fails=
for i in 1 2 3 4 5; do
  u=$("$ACTOOL" --dir="$STORE" --insecure-options=image run --detach "${ID[sh]}" --exec=/bin/sleep -- 30 2>&1)
  timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/true >/dev/null 2>"$TMP/.err" || fails+="$i: $(cat "$TMP/.err") "
  stopped "$STORE" "$u"
done
is "enter right after run --detach finds the app (5 pods)" "$fails" ""
ac gc >/dev/null 2>&1
# The app's os/linux/oom-score-adj holds for a command entered too.
u=$("$ACTOOL" --dir="$STORE" --insecure-options=image run --detach "${ID[oom]}" --exec=/bin/sleep -- 30 2>&1)
run_capture timeout 20 "$ACTOOL" --dir="$STORE" enter "$u" -- /bin/cat /proc/self/oom_score_adj
is "enter: the app's oom-score-adj (500)" "$status:$(cat "$TMP/.out")" "0:500"
stopped "$STORE" "$u"
ac gc >/dev/null 2>&1
# A store whose path holds a space (which mountinfo writes as \040).
SP="$TMP/store with space"
if "$ACTOOL" --dir="$SP" --insecure-options=image fetch "$BASE" >/dev/null 2>"$TMP/.err"; then
  u=$("$ACTOOL" --dir="$SP" run --detach "${ID[sh]}" --exec=/bin/sleep -- 30 2>&1)
  run_capture timeout 20 "$ACTOOL" --dir="$SP" enter "$u" -- /bin/sh -c 'echo in'
  is "enter of a pod of a store whose path holds a space" "$status:$(cat "$TMP/.out")" "0:in"
  stopped "$SP" "$u"
  "$ACTOOL" --dir="$SP" gc >/dev/null 2>&1
else
  not_ok "enter of a pod of a store whose path holds a space (fetch: $(cat "$TMP/.err"))"
fi

# status shows what the image runs: NAME and VERSION_ID of its os-release,
# read inside the image (/etc/os-release is a symlink, as on Debian).
OSL=$TMP/osl
cp -a "$LAY" "$OSL" && mkdir -p "$OSL/rootfs/usr/lib"
printf 'PRETTY_NAME="Busybox Test 1.36"\nNAME="Busybox Test"\nVERSION_ID="1.36"\nID=bbtest\n' >"$OSL/rootfs/usr/lib/os-release"
rm -f "$OSL/rootfs/etc/os-release" && ln -s ../usr/lib/os-release "$OSL/rootfs/etc/os-release"
manifest osrel "$(shapp 'echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done' "$hv_mp")" >"$OSL/manifest"
"$ACTOOL" build --no-compression "$OSL" "$TMP/osrel.aci" >/dev/null 2>"$TMP/.err" && ID[osrel]=$(ac fetch "$TMP/osrel.aci" 2>>"$TMP/.err")
mkdir "$TMP/osr"
bg_pod osr --uuid-file-save="$TMP/uosr" --volume=hv,kind=host,source="$TMP/osr" "${ID[osrel]}"
wait_file "$TMP/osr/ready"
u=$(cat "$TMP/uosr" 2>/dev/null)
run_capture ac status "$u"
is "status shows the image's os-release NAME and VERSION_ID" "$status:$(grep '^app-osrel-os=' "$TMP/.out")" \
  "0:app-osrel-os=Busybox Test 1.36"
run_capture ac status --json "$u"
is "status --json: os name and versionID" "$(jq -c '.apps[0].os' "$TMP/.out" 2>&1)" \
  '{"name":"Busybox Test","versionID":"1.36"}'
touch "$TMP/osr/stop"
wait_exit "$BG_PID" 30
# A NAME holding newlines and an escape sequence: one line of status, the
# control characters as '?'.
printf 'NAME="Evil\nstate=exited\n\033]0;title\007"\nVERSION_ID=1\n' >"$OSL/rootfs/usr/lib/os-release"
manifest osevil "$(shapp 'echo ready >/hv/ready; while [ ! -e /hv/stop ]; do sleep 0.1; done' "$hv_mp")" >"$OSL/manifest"
"$ACTOOL" build --no-compression "$OSL" "$TMP/osevil.aci" >/dev/null 2>"$TMP/.err" && ID[osevil]=$(ac fetch "$TMP/osevil.aci" 2>>"$TMP/.err")
mkdir "$TMP/ose"
bg_pod ose --uuid-file-save="$TMP/uose" --volume=hv,kind=host,source="$TMP/ose" "${ID[osevil]}"
wait_file "$TMP/ose/ready"
run_capture ac status "$(cat "$TMP/uose" 2>/dev/null)"
is "status: an os-release NAME with newlines and escapes is one line, control characters as ?" \
  "$status:$(grep -c '^state=' "$TMP/.out"):$(grep '^app-osevil-os=' "$TMP/.out" | cat -v)" \
  "0:1:app-osevil-os=Evil?state=exited??]0;title? 1"
touch "$TMP/ose/stop"
wait_exit "$BG_PID" 30
# An os-release that is a device node is looked at, never opened on the
# host (its driver would answer the open: a watchdog's arms it). inotify
# on the store's tree sees every open of the node.
rm -f "$OSL/rootfs/usr/lib/os-release" && mknod "$OSL/rootfs/usr/lib/os-release" c 1 3
manifest osdev "$(shapp 'true')" >"$OSL/manifest"
"$ACTOOL" build --no-compression "$OSL" "$TMP/osdev.aci" >/dev/null 2>"$TMP/.err" && ID[osdev]=$(ac fetch "$TMP/osdev.aci" 2>>"$TMP/.err")
pod "${ID[osdev]}" # renders the image's tree
node=$(find "$STORE/trees" -path '*/rootfs/usr/lib/os-release' -type c 2>/dev/null | head -n 1)
opens=$(python3 - "$node" timeout -k 5 30 "$ACTOOL" --dir="$STORE" run "${ID[osdev]}" <<'PY' 2>&1
import ctypes, os, struct, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
if fd < 0 or libc.inotify_add_watch(fd, sys.argv[1].encode(), 0x20) < 0:  # IN_OPEN
    sys.exit("inotify: %s" % os.strerror(ctypes.get_errno()))
rc = subprocess.call(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
try:
    events = len(os.read(fd, 65536)) // struct.calcsize("iIII")
except BlockingIOError:
    events = 0
print("%d:%d" % (rc, events))
PY
)
is "an os-release that is a device node is never opened (inotify sees no open)" "$opens" "0:0"

# --- SIGKILL of actool: an abandoned pod, gc ----------------------------------------------------

mkdir "$TMP/ab"
tok=$RANDOM
token=abandon-$$-$tok
bg_pod ab --uuid-file-save="$TMP/uab" --volume=hv,kind=host,source="$TMP/ab" "${ID[memhog]}" \
  --mount=volume=hv,target=/hv --exec=/bin/sh -- -c "echo ready >/hv/ready; while :; do sleep 0.1; done # $token"
wait_file "$TMP/ab/ready"
u=$(cat "$TMP/uab" 2>/dev/null)
cg_dirs() { find /sys/fs/cgroup -mindepth 2 -maxdepth 4 -type d -name "$u" 2>/dev/null; }
yes_run "the pod has a memory cgroup while it runs" test -d "/sys/fs/cgroup/memory/actool/$u"
kill -KILL "$BG_PID"
wait_exit "$BG_PID" 5
# (the pattern does not match itself, so grep does not find its own command line)
alive() { grep -l "abandon-$$-[${tok:0:1}]${tok:1}" /proc/[0-9]*/cmdline 2>/dev/null; }
for _ in $(seq 300); do [ -z "$(alive)" ] && break; sleep 0.1; done
is "SIGKILL of actool: the pod's processes die with it" "$(alive)" ""
run_capture ac list --no-legend --raw --output=uuid,state
is "list: the pod is abandoned" "$status:$(grep -F "$u" "$TMP/.out")" "0:$u abandoned"
run_capture ac status "$u"
is "status: state=abandoned" "$status:$(grep '^state=' "$TMP/.out")" "0:state=abandoned"
yes_run "the abandoned pod's directories are still there" test -d "$STORE/pods/$u" -a -d "$(rundir)/$u"
is "status: an abandoned pod's app is not said to run" "$(grep '^app-memhog=' "$TMP/.out")" "app-memhog=unknown"
# A pod init that outlived its actool (as one could before its handshake):
# a process named in the state as the pod's init, which gc must end.
sleep 300 &
survivor=$!
jq -c --argjson p "$survivor" --argjson s "$(awk '{print $22}' "/proc/$survivor/stat")" \
  '.initPid = $p | .initStart = $s' "$(rundir)/$u/state.json" >"$TMP/state.json" &&
  mv "$TMP/state.json" "$(rundir)/$u/state.json"
run_capture ac gc
is "gc removes the abandoned pod" "$status:$(cat "$TMP/.out")" "0:removed pod $u"
yes_run "gc ends the abandoned pod's init when it survived" eval '! kill -0 "$survivor" 2>/dev/null'
kill -KILL "$survivor" 2>/dev/null
wait "$survivor" 2>/dev/null
yes_run "gc: the pod's directories are gone" test ! -e "$STORE/pods/$u" -a ! -e "$(rundir)/$u"
# An actool killed before it wrote its pod's state: the pod is listed as
# abandoned, all else unknown, and gc removes it.
early=$(cat /proc/sys/kernel/random/uuid)
pod "${ID[meta]}" --exec=/bin/true # (the store's runtime directory, which gc removed)
mkdir "$(rundir | head -1)/$early" && : >"$(rundir | head -1)/$early/lock"
run_capture ac list --no-legend
is "list: a pod whose state was never written is abandoned, its start unknown" \
  "$status:$(grep -F "$early" "$TMP/.out" | awk '{print $2, $3}')" "0:abandoned -"
run_capture ac list --json
is "list --json: the same, no crash, no unknown field" \
  "$status:$(jq -c --arg u "$early" '.[] | select(.uuid == $u) | [.state, has("started"), has("net")]' "$TMP/.out" 2>&1)" \
  '0:["abandoned",false,false]'
run_capture ac status --json "$early"
is "status --json of it" "$status:$(jq -r .state "$TMP/.out" 2>&1)" "0:abandoned"
run_capture ac gc
is "gc removes it" "$status:$(grep -c "removed pod $early" "$TMP/.out")" "0:1"

# What a pod's end set aside and no sweeper removed (the service was
# killed) is gc's once a minute old; a newer one is the sweeper's still.
old=$(cat /proc/sys/kernel/random/uuid) new=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$STORE/pods/.removing-$old/apps/x/upper" "$STORE/pods/.removing-$new/apps"
touch -d '2 minutes ago' "$STORE/pods/.removing-$old"
run_capture ac gc
is "gc: an old set-aside directory goes, a new one stays" \
  "$status:$(test -e "$STORE/pods/.removing-$old" && echo old):$(test -e "$STORE/pods/.removing-$new" && echo new)" \
  "0::new"
rm -rf "$STORE/pods/.removing-$new"
# One that cannot be removed (an immutable file, which no app is given the
# capability to make by default) fails gc, naming it; the others still go.
# (eight others, so that some come after it in the directory's order)
stuck=$(cat /proc/sys/kernel/random/uuid)
mkdir -p "$STORE/pods/.removing-$stuck/apps/x/upper"
for _ in $(seq 8); do mkdir -p "$STORE/pods/.removing-$(cat /proc/sys/kernel/random/uuid)/apps"; done
touch "$STORE/pods/.removing-$stuck/apps/x/upper/f"
if chattr +i "$STORE/pods/.removing-$stuck/apps/x/upper/f" 2>/dev/null; then
  touch -d '2 minutes ago' "$STORE/pods/".removing-*
  run_capture ac gc
  is "gc: a directory it cannot remove fails it, naming the file; the others still go" \
    "$status:$(grep -c "removing-$stuck/apps/x/upper/f" "$TMP/.err"):$(ls -d "$STORE/pods/".removing-* | wc -l)" \
    "1:1:1"
  chattr -i "$STORE/pods/.removing-$stuck/apps/x/upper/f"
else
  skip "gc goes on past a directory it cannot remove" "no chattr +i on this file system"
fi
rm -rf "$STORE/pods/".removing-*
is "gc: the pod's cgroups are gone" "$(cg_dirs)" ""
run_capture ac list --no-legend
is "list: nothing left after gc" "$status:$(grep -cF "$u" "$TMP/.out")" "0:0"
run_capture ac gc
is "gc again: nothing to do" "$status:$(cat "$TMP/.out")" "0:"
mounts_check "the abandoned pod and gc"

# --- SIGKILL of actool while the pod's init sets itself up ---------------------------------------
# The init is held (a test hook) before its set-up; actool is killed then.
# The init must die with it, start no app and leave the pod abandoned.

mkdir "$TMP/race"
token=race-$$-$tok
ACTOOL_TEST_INIT_DELAY_MS=5000 bg_pod race --uuid-file-save="$TMP/urace" \
  --volume=hv,kind=host,source="$TMP/race" "${ID[sh]}" --mount=volume=hv,target=/hv \
  --exec=/bin/sh -- -c "echo ran >/hv/ran; while :; do sleep 0.1; done # $token"
wait_file "$TMP/urace"
u=$(cat "$TMP/urace" 2>/dev/null)
sleep 0.3
kill -KILL "$BG_PID"
wait_exit "$BG_PID" 5
alive() { grep -l "race-$$-[${tok:0:1}]${tok:1}" /proc/[0-9]*/cmdline 2>/dev/null; }
# (an init that outlived actool would start the app after its delay and
# stay: no deadline here is shorter than that delay)
for _ in $(seq 300); do [ -z "$(alive)" ] && break; sleep 0.1; done
yes_run "SIGKILL of actool before its pod's init is set up: no app starts" test ! -e "$TMP/race/ran"
is "SIGKILL of actool before its pod's init is set up: no process of the pod is left" "$(alive)" ""
run_capture ac list --no-legend --raw --output=uuid,state
is "list: that pod is abandoned" "$status:$(grep -F "$u" "$TMP/.out")" "0:$u abandoned"
run_capture ac gc
is "gc removes that pod" "$status:$(cat "$TMP/.out")" "0:removed pod $u"
is "gc: its cgroups are gone" "$(cg_dirs)" ""
mounts_check "the pod killed before its init's set-up"

# --- socket activation ---------------------------------------------------------------------------
# listen-fds (built here, static) checks systemd's protocol and serves each
# socket it is given once.  With --net=host the test is the client, and
# connects while the pre-start handler still runs: before the app starts.
# With --net=private the app is its own client, inside the pod's network.
SA=$TMP/sa
if gcc -static -O2 -o "$TMP/listen-fds" "$top_srcdir/tests/integration/listen-fds.c" 2>"$TMP/.err"; then
  cp -a "$LAY" "$SA" && cp "$TMP/listen-fds" "$SA/rootfs/bin/listen-fds"
  P1=$(free_port)
  P2=$(free_port)
  sa_app() { # sa_app ARGS_JSON PORTS_JSON [EXTRA_JSON]
    jq -cn --argjson a "$1" --argjson p "$2" --argjson x "${3:-{\}}" \
      '{exec: (["/bin/listen-fds"] + $a), user: "0", group: "0", ports: $p} + $x'
  }
  ports=$(jq -cn --argjson p1 "$P1" --argjson p2 "$P2" '[{name: "http", protocol: "tcp", port: $p1, socketActivated: true},
    {name: "plain", protocol: "tcp", port: 1, socketActivated: false},
    {name: "dns", protocol: "udp", port: $p2, socketActivated: true}]')
  pre='{"mountPoints": [{"name": "hv", "path": "/hv"}], "eventHandlers": [
    {"name": "pre-start", "exec": ["/bin/sh", "-c", "touch /hv/pre-started; sleep 2"]}]}'
  manifest sa "$(sa_app '[]' "$ports" "$pre")" >"$SA/manifest"
  "$ACTOOL" build --no-compression "$SA" "$TMP/sa.aci" >/dev/null 2>"$TMP/.err" && ID[sa]=$(ac fetch "$TMP/sa.aci" 2>>"$TMP/.err")
  manifest saself "$(sa_app '["self"]' "$ports")" >"$SA/manifest"
  "$ACTOOL" build --no-compression "$SA" "$TMP/saself.aci" >/dev/null 2>>"$TMP/.err" && ID[saself]=$(ac fetch "$TMP/saself.aci" 2>>"$TMP/.err")
  manifest sasctp "$(sa_app '[]' '[{"name": "s", "protocol": "sctp", "port": 9, "socketActivated": true}]')" >"$SA/manifest"
  "$ACTOOL" build --no-compression "$SA" "$TMP/sasctp.aci" >/dev/null 2>>"$TMP/.err" && ID[sasctp]=$(ac fetch "$TMP/sasctp.aci" 2>>"$TMP/.err")
  [ -n "${ID[sa]}" ] && [ -n "${ID[saself]}" ] && [ -n "${ID[sasctp]}" ] || note "socket activation images: $(cat "$TMP/.err")"

  # --net=host: the test connects during pre-start, the app serves it.
  mkdir -p "$TMP/sa-hv"
  pod --net=host --volume=hv,kind=host,source="$TMP/sa-hv" "${ID[sa]}" &
  SA_PID=$!
  wait_file "$TMP/sa-hv/pre-started"
  GOT=$(python3 - "$P1" "$P2" <<'PY' 2>&1
import socket, sys
tcp = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.settimeout(10)
udp.sendto(b"ping", ("127.0.0.1", int(sys.argv[2])))
print("connected before the app started")
print("tcp: " + tcp.recv(100).decode().strip())
print("udp: " + udp.recv(100).decode().strip())
PY
)
  wait "$SA_PID" 2>/dev/null
  OUT=$(cat "$TMP/.out")
  ERR=$(cat "$TMP/.err")
  is "socket activation, --net=host: a connection made before the app started is served" "$GOT" \
    "connected before the app started
tcp: served by http
udp: served by dns"
  is_run "the app got LISTEN_FDS=2, LISTEN_PID its own, LISTEN_FDNAMES of the activated ports" \
    "$(printf '%s\n' "$OUT" | head -n 3)" "fds=2 pid=ok names=http:dns
fd 3: stream port $P1
fd 4: datagram port $P2"
  check_fails "the ports are closed once the pod is gone" 1 '' python3 -c \
    "import socket; socket.create_connection(('127.0.0.1', $P1), timeout=2)"

  # --net=private: bound in the pod's own network namespace.
  pod "${ID[saself]}"
  is_run "socket activation, --net=private: the app is served on the pod's loopback" \
    "$status:$(printf '%s\n' "$OUT" | grep -E '^(fds|client)' | paste -sd';')" \
    "0:fds=2 pid=ok names=http:dns;client got: served by http;client got: served by dns"

  # Refusals: a protocol that cannot be, a port taken.
  pod "${ID[sasctp]}"
  is_run "a socket-activated sctp port is refused, naming the port" \
    "$status:$(printf '%s\n' "$ERR" | grep -c 'port s (sctp 9, socket-activated): only tcp and udp')" "1:1"
  # (SO_REUSEADDR: the port may be in TIME_WAIT after the runs above)
  python3 -c "import socket,time,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', $P1)); s.listen(); sys.stdout.write('x'); sys.stdout.flush(); time.sleep(20)" >"$TMP/busy.out" 2>&1 &
  BUSY=$!
  for _ in $(seq 300); do [ -s "$TMP/busy.out" ] && break; sleep 0.1; done
  is "the port is taken for the next case" "$(cat "$TMP/busy.out")" x
  pod --net=host --volume=hv,kind=host,source="$TMP/sa-hv" "${ID[sa]}"
  is_run "a socket-activated port already taken on the host is refused, naming it" \
    "$status:$(printf '%s\n' "$ERR" | grep -c "port http (tcp $P1, socket-activated): bind: Address already in use")" "1:1"
  kill "$BUSY" 2>/dev/null
  wait "$BUSY" 2>/dev/null
else
  not_ok "build the socket-activation test server (gcc -static)"
  note "$(cat "$TMP/.err")"
fi

# --- what every run must leave alone ---------------------------------------------------------

is "the host's mount table is unchanged after every run (beneath the test's directory, /run/actool, /run/netns)" "$MOUNT_CHANGES" ""
is "no pod directory is left after a run" "$LEFT_PODS" ""
is "what the pods' ends set aside, the metadata service removed" "$(swept)" ""
is "no cgroup is left after a run" "$LEFT_CGROUPS" ""
# Once no pod is left, gc removes the store's runtime directory: stores'
# directories do not pile up in /run/actool.
[ -n "$(rundir)" ] && ok "(the store has a runtime directory before gc)" || not_ok "(the store has a runtime directory before gc)"
run_capture timeout 30 "$ACTOOL" --dir="$STORE" gc
is "gc removes the store's runtime directory once it holds no pod" "$status:$(rundir)" "0:"
pod "${ID[meta]}" --exec=/bin/true
is_run "the next pod makes it again" "$status:$([ -n "$(rundir)" ] && echo made)" "0:made"
# A store removed with rm -rf leaves its runtime directory, which no gc of
# its own will remove: a gc of any store does, once it holds no pod.
GONE=$TMP/gone-store KEPT=$TMP/kept-store
"$ACTOOL" --dir="$GONE" --insecure-options=image run "$BASE" >/dev/null 2>&1
"$ACTOOL" --dir="$KEPT" --insecure-options=image run "$BASE" >/dev/null 2>&1
gone_dir=$(rundir_of "$GONE") kept_dir=$(rundir_of "$KEPT")
if [ -n "$gone_dir" ] && [ -n "$kept_dir" ]; then
  rm -rf "$GONE"
  run_capture timeout 30 "$ACTOOL" --dir="$STORE" gc
  is "gc removes the runtime directory of a store removed with rm -rf" \
    "$status:$(ls -d "$gone_dir" 2>/dev/null)" "0:"
  is "... and keeps that of another store still there" "$(ls -d "$kept_dir" 2>/dev/null)" "$kept_dir"
  timeout 30 "$ACTOOL" --dir="$KEPT" gc >/dev/null 2>&1
else
  not_ok "pods of other stores make their runtime directories"
fi

done_testing
