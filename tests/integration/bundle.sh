#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# image bundle: an OCI runtime bundle that Debian's runc runs as `actool
# run` runs the image: the same output and exit status for apps that print
# their identity, working directory, environment, capabilities,
# no_new_privs and seccomp state, under isolators that change each; the
# config.json carries the limits; DIR is never left half-made.  Needs root,
# runc and the static busybox.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

S=$TMP/store
ac() { "$ACTOOL" --dir="$S" "$@"; }
for tool in runc jq; do
  if ! command -v "$tool" >/dev/null; then
    not_ok "$tool is installed (scripts/deps installs it)"
    done_testing
    exit
  fi
done
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  not_ok "a static busybox is installed (scripts/deps installs busybox-static)"
  done_testing
  exit
fi
RUNC_IDS=()
cleanup() {
  for id in "${RUNC_IDS[@]}"; do runc delete --force "$id" >/dev/null 2>&1; done
  rm -rf "$TMP"
}
trap cleanup EXIT

# image NAME USER GROUP ISOLATORS-JSON [EXEC-JSON [WORKDIR]]: a busybox ACI
# whose app tells what it is given (or runs EXEC), imported; its ID in $IMG.
# A file of $TMP/extra/ goes to the rootfs's /bin.
PROBE='echo user=$(id -u):$(id -g) groups=$(id -G) cwd=$(pwd) app=$AC_APP_NAME greeting=$GREETING container=$container home=$HOME;
echo hosts=$(grep -c localhost /etc/hosts) proc=$( (echo x >/proc/self/comm) 2>/dev/null && echo rw || echo ro) cgroups-outside=$(grep -vc ":/$" /proc/self/cgroup);
grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status;
mkdir /tmp/made 2>&1 && echo mkdir-ok; ls -a /data | wc -l; exit 3'
image() {
  local name=$1 user=$2 group=$3 isolators=$4 dir=$TMP/layout-$1
  local exec=${5:-$(jq -nc --arg probe "$PROBE" '["/bin/sh", "-c", $probe]')} wd=${6:-/work}
  "$top_srcdir/scripts/mkrootfs-busybox" "$dir/rootfs" >/dev/null
  mkdir -p "$dir/rootfs/work"
  # (never written through: the applets are symlinks to the host's busybox)
  for f in "$TMP"/extra/*; do [ -f "$f" ] && rm -f "$dir/rootfs/bin/${f##*/}" && cp "$f" "$dir/rootfs/bin/"; done
  echo 'alice:x:1000:1000::/work:/bin/sh' >>"$dir/rootfs/etc/passwd"
  printf 'alice:x:1000:\nstaff:x:50:alice\n' >>"$dir/rootfs/etc/group"
  jq -n --arg name "example.com/$name" --argjson exec "$exec" --arg user "$user" --arg group "$group" \
    --arg wd "$wd" --argjson isolators "$isolators" '{acKind: "ImageManifest", acVersion: "0.8.11", name: $name,
      labels: [{name: "os", value: "linux"}, {name: "arch", value: "amd64"}],
      app: {exec: $exec, user: $user, group: $group, workingDirectory: $wd,
            environment: [{name: "GREETING", value: "hello world"}],
            mountPoints: [{name: "data", path: "/data"}], isolators: $isolators}}' >"$dir/manifest"
  "$ACTOOL" build "$dir" "$TMP/$name.aci" >/dev/null &&
    IMG=$(ac --insecure-options=image fetch "$TMP/$name.aci")
}

# same_as_run DESCRIPTION NAME [OPTION...]: `runc run` of NAME's bundle
# prints what `actool run` prints and exits with its status, OPTIONs given
# to both.
same_as_run() {
  local desc=$1 name=$2 id=actool-bundle-$2-$$
  shift 2
  run_capture ac run --volume=data,kind=empty "$@" "example.com/$name"
  local ours=$status
  cp "$TMP/.out" "$TMP/$name.actool"
  check "$desc: image bundle" ac image bundle "$@" "example.com/$name" "$TMP/bundle-$name"
  RUNC_IDS+=("$id")
  run_capture runc run --bundle "$TMP/bundle-$name" "$id"
  local theirs=$status
  runc delete --force "$id" >/dev/null 2>&1
  is "$desc: runc prints what actool run prints" "$(cat "$TMP/.out")" "$(cat "$TMP/$name.actool")"
  is "$desc: the same exit status" "$theirs" "$ours"
}

image plain 0 0 '[]'
same_as_run "root, no isolator" plain
is "... /etc/hosts with localhost, a read-only /proc, the app's own cgroups (a cgroup namespace)" \
  "$(grep '^hosts=' "$TMP/plain.actool")" "hosts=2 proc=ro cgroups-outside=0"
is "... which is the default capabilities, the default seccomp filter, the ACE environment" \
  "$(grep -E '^(user|CapEff|NoNewPrivs|Seccomp)' "$TMP/plain.actool" | tr -s '\t' ' ')" \
  "user=0:0 groups=0 cwd=/work app=plain greeting=hello world container=actool home=/root
CapEff: 00000000a80425fb
NoNewPrivs: 0
Seccomp: 2"

image confined 0 0 '[
  {"name": "os/linux/capabilities-retain-set", "value": {"set": ["CAP_CHOWN", "CAP_KILL", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"]}},
  {"name": "os/linux/no-new-privileges", "value": true},
  {"name": "os/linux/seccomp-remove-set", "value": {"set": ["mkdir", "mkdirat"], "errno": "EACCES"}},
  {"name": "resource/memory", "value": {"limit": "64M"}},
  {"name": "resource/cpu", "value": {"limit": "500m"}}]'
same_as_run "capabilities, no-new-privileges, seccomp, limits" confined
check "... the isolators took effect (mkdir refused, NoNewPrivs 1, a filter)" \
  grep -q 'Permission denied' "$TMP/confined.actool"
C=$TMP/bundle-confined/config.json
is "config.json: the memory limit" "$(jq .linux.resources.memory.limit "$C")" 64000000
is "config.json: the CPU quota of 500m" "$(jq -c '[.linux.resources.cpu.quota, .linux.resources.cpu.period]' "$C")" \
  '[50000,100000]'
# The isolator's rules, then the default filter's beneath them (merged).
is "config.json: the seccomp rules, the isolator's and the default filter's" \
  "$(jq -c '[.linux.seccomp.defaultAction, ([.linux.seccomp.syscalls[] | .names[0] + "=" + .action + "/" + (.errnoRet | tostring)]
    | .[0:2] + map(select(test("^(keyctl|mount|unshare|clone3)="))))]' "$C")" \
  '["SCMP_ACT_ALLOW",["mkdir=SCMP_ACT_ERRNO/13","mkdirat=SCMP_ACT_ERRNO/13","keyctl=SCMP_ACT_ERRNO/1","mount=SCMP_ACT_ERRNO/1","unshare=SCMP_ACT_ERRNO/1","clone3=SCMP_ACT_ERRNO/38"]]'
is "config.json: the bounding set" "$(jq -c .process.capabilities.bounding "$C")" \
  '["CAP_CHOWN","CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP"]'
is "config.json: the volume, the mounts, the masked paths" \
  "$(jq -c '[(.mounts | map(.destination) | join(" ")), (.linux.maskedPaths | index("/proc/kcore") != null)]' "$C")" \
  '["/proc /dev /dev/pts /dev/shm /dev/mqueue /sys /sys/fs/cgroup /data",true]'

image alice alice staff '[{"name": "os/linux/seccomp-retain-set", "value": {"set": ["@appc.io/all"]}}]'
same_as_run "a user and group by name from the image" alice
check "... resolved in the image: 1000 and 50" grep -q '^user=1000:50 ' "$TMP/alice.actool"
check "... HOME is alice's home in the image's passwd, as runc sets it" grep -q ' home=/work$' "$TMP/alice.actool"
is "config.json: HOME is in the environment" \
  "$(jq -r '.process.env[] | select(startswith("HOME="))' "$TMP/bundle-alice/config.json")" HOME=/work
is "config.json: the user, the group" "$(jq -c '[.process.user.uid, .process.user.gid]' "$TMP/bundle-alice/config.json")" \
  '[1000,50]'
is "config.json: no capabilities held by a user other than root" \
  "$(jq -c '[.process.capabilities.effective, .process.capabilities.permitted]' "$TMP/bundle-alice/config.json")" '[[],[]]'

check "--set-env adds to the environment" ac image bundle --set-env=GREETING=bye "example.com/plain" "$TMP/bundle-env"
is "... GREETING=bye" "$(jq -r '.process.env[] | select(startswith("GREETING="))' "$TMP/bundle-env/config.json")" GREETING=bye
is "... and the ACE's variables are there" \
  "$(jq -r '[.process.env[] | select(startswith("AC_APP_NAME=") or startswith("container=") or startswith("PATH="))] | join(" ")' "$TMP/bundle-env/config.json")" \
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin container=actool AC_APP_NAME=plain"

# refused_as_run DESCRIPTION NAME PATTERN: image bundle refuses NAME (exit
# 1, stderr matching PATTERN) with the message actool run refuses it with,
# leaving no DIR.
refused_as_run() {
  local desc=$1 name=$2 pattern=$3 run_err
  run_capture ac run --volume=data,kind=empty "example.com/$name"
  run_err=$(cat "$TMP/.err")
  check_fails "$desc" 1 "$pattern" ac image bundle "example.com/$name" "$TMP/bundle-$name"
  is "... as actool run refuses it" "$(cat "$TMP/.err")" "$run_err"
  is "... leaving no DIR" "$(ls -A "$TMP" | grep -c "bundle-$name")" 0
}

# ---- what actool run refuses without the operator's consent ----
image mighty 0 0 '[{"name": "os/linux/capabilities-retain-set",
  "value": {"set": ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_MODULE", "CAP_SETPCAP"]}}]'
refused_as_run "capabilities beyond the default set: refused without --caps-allow" mighty \
  'app mighty: its isolators retain CAP_SYS_MODULE, beyond the ACE.s default capabilities: allow it with --caps-allow=CAP_SYS_MODULE'
check_fails "--caps-allow=CAP_SYS_ADMIN,CAP_SYS_PTRACE: CAP_SYS_MODULE still refused" 1 \
  'retain CAP_SYS_MODULE' ac image bundle --caps-allow=CAP_SYS_ADMIN,CAP_SYS_PTRACE \
  example.com/mighty "$TMP/bundle-mighty"
check_fails "--caps-allow of no capability is a usage error, as for run" 2 \
  'allowed capability "CAP_NOPE": not a Linux capability' \
  ac image bundle --caps-allow=CAP_NOPE example.com/mighty "$TMP/bundle-mighty"
same_as_run "--caps-allow=CAP_SYS_ADMIN --caps-allow=CAP_SYS_PTRACE,CAP_SYS_MODULE" mighty \
  --caps-allow=CAP_SYS_ADMIN --caps-allow=CAP_SYS_PTRACE,CAP_SYS_MODULE
is "... which gives them: the bounding set" \
  "$(jq -c .process.capabilities.bounding "$TMP/bundle-mighty/config.json")" \
  '["CAP_SETPCAP","CAP_SYS_MODULE","CAP_SYS_PTRACE","CAP_SYS_ADMIN"]'
check "... and lifts the default filter's blocks of mount and clone(CLONE_NEWUSER)" \
  jq -e '[.linux.seccomp.syscalls[].names[0]] | (index("mount") == null and index("clone") == null)' \
  "$TMP/bundle-mighty/config.json"
check "--caps-allow=all allows them all" \
  ac image bundle --caps-allow=all example.com/mighty "$TMP/bundle-mighty-all"

image oom 0 0 '[{"name": "os/linux/oom-score-adj", "value": -900}]'
refused_as_run "a negative oom-score-adj: refused without --caps-allow=CAP_SYS_RESOURCE" oom \
  'lowers oom_score_adj to -900, which takes CAP_SYS_RESOURCE: allow it with --caps-allow=CAP_SYS_RESOURCE'
check "--caps-allow=CAP_SYS_RESOURCE allows it" \
  ac image bundle --caps-allow=CAP_SYS_RESOURCE example.com/oom "$TMP/bundle-oom"
is "... oomScoreAdj -900" "$(jq .process.oomScoreAdj "$TMP/bundle-oom/config.json")" -900

# ---- the default filter's argument rules ----
# nsprobe (static) makes a user namespace by clone and unshare, sockets of
# the families the default filter refuses, and those it does not.
cat >"$TMP/nsprobe.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
static char stack[65536];
static int child(void *a) { (void) a; return 0; }
static const char *say(long r) { return r >= 0 ? "ok" : strerror(errno); }
int main(void)
{
  static const int families[] = {AF_UNIX, AF_INET, 38 /* AF_ALG */, 39, 40 /* AF_VSOCK */, 41};
  int pid = clone(child, stack + sizeof stack, CLONE_NEWUSER | SIGCHLD, NULL);
  if (pid > 0) waitpid(pid, NULL, 0);
  printf("clone(CLONE_NEWUSER): %s\n", say(pid));
  pid = clone(child, stack + sizeof stack, SIGCHLD, NULL);
  if (pid > 0) waitpid(pid, NULL, 0);
  printf("clone: %s\n", say(pid));
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
    int s = socket(families[i], SOCK_STREAM, 0);
    printf("socket(%d): %s\n", families[i], s >= 0 || errno != EPERM ? "not EPERM" : say(s));
  }
  return 0;
}
C
mkdir -p "$TMP/extra"
if gcc -static -O2 -o "$TMP/extra/nsprobe" "$TMP/nsprobe.c" 2>"$TMP/.err"; then
  image nsprobe 0 0 '[]' '["/bin/nsprobe"]'
  same_as_run "the default filter's clone and socket rules" nsprobe
  is "... which refuse a user namespace and AF_ALG and AF_VSOCK sockets, nothing else" \
    "$(cat "$TMP/nsprobe.actool")" "clone(CLONE_NEWUSER): Operation not permitted
clone: ok
socket(1): not EPERM
socket(2): not EPERM
socket(38): Operation not permitted
socket(39): not EPERM
socket(40): Operation not permitted
socket(41): not EPERM"
  image nsprobe-retain 0 0 '[{"name": "os/linux/seccomp-retain-set", "value": {"set": ["@appc.io/all"]}}]' \
    '["/bin/nsprobe"]'
  same_as_run "the same beneath a retain set that allows clone and socket" nsprobe-retain
  is "... which allows every other call of them" "$(cat "$TMP/nsprobe-retain.actool")" \
    "$(cat "$TMP/nsprobe.actool")"
else
  not_ok "build the seccomp probe (gcc -static): $(cat "$TMP/.err")"
fi
rm -rf "$TMP/extra"
is "config.json: clone with CLONE_NEWUSER as docker's profile writes it" \
  "$(jq -c '.linux.seccomp.syscalls[] | select(.names[0] == "clone")' "$TMP/bundle-plain/config.json")" \
  '{"names":["clone"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"}]}'

# ---- resources the executor sets beyond memory and CPU limits ----
CGPROBE='cg=/sys/fs/cgroup; if [ -d $cg/memory ]; then cat $cg/memory/memory.soft_limit_in_bytes;
  for f in read_bps write_bps read_iops write_iops; do sort $cg/blkio/blkio.throttle.${f}_device | md5sum; done;
  else cat $cg/memory.low; sort $cg/io.max | md5sum; fi'
image limits 0 0 '[{"name": "resource/memory", "value": {"request": "64M", "limit": "128M"}},
  {"name": "resource/block-bandwidth", "value": {"default": true, "limit": "1M"}},
  {"name": "resource/block-iops", "value": {"default": true, "limit": 100}}]' \
  "$(jq -nc --arg p "$CGPROBE" '["/bin/sh", "-c", $p]')"
same_as_run "a memory request, block bandwidth and IOPS limits" limits
check "... which took effect: a soft limit of 64M" grep -qx 64000000 "$TMP/limits.actool"
C=$TMP/bundle-limits/config.json
is "config.json: the memory reservation" "$(jq .linux.resources.memory.reservation "$C")" 64000000
disks=$(cat /sys/block/*/dev | sort -V | tr '\n' ' ')
for key in throttleReadBpsDevice:1000000 throttleWriteBpsDevice:1000000 throttleReadIOPSDevice:100 \
  throttleWriteIOPSDevice:100; do
  is "config.json: $key, every block device at ${key#*:}" \
    "$(jq -r --arg k "${key%:*}" --argjson rate "${key#*:}" \
      '.linux.resources.blockIO[$k][] | select(.rate == $rate) | "\(.major):\(.minor)"' "$C" | sort -V | tr '\n' ' ')" \
    "$disks"
done

# ---- what runc would refuse, or do otherwise than the executor ----
long=$(printf 'a%.0s' $(seq 1 70))
image "$long" 0 0 '[]' '["/bin/sh", "-c", "hostname; cat /etc/hostname"]'
check "an app name of 70 characters" ac image bundle "example.com/$long" "$TMP/bundle-long"
RUNC_IDS+=("actool-bundle-long-$$")
run_capture runc run --bundle "$TMP/bundle-long" "actool-bundle-long-$$"
is "... runs under runc with the host name cut to a label's 63 characters" \
  "$(cat "$TMP/.out" "$TMP/.err")" "${long:0:63}
${long:0:63}"

image nowd 0 0 '[]' '["/bin/pwd"]' /no/such/dir
refused_as_run "a working directory the image lacks is refused" nowd \
  'app nowd: app.workingDirectory: /no/such/dir does not exist in the image$'
image wdvolume 0 0 '[]' '["/bin/pwd"]' /data
same_as_run "a working directory that is a mount point" wdvolume

# ---- DIR: never half-made, never clobbered without --overwrite ----
mkdir -p "$TMP/existing" && echo keep >"$TMP/existing/keep"
check_fails "an existing DIR is refused without --overwrite" 1 'already exists \(use --overwrite to replace it\)$' \
  ac image bundle example.com/plain "$TMP/existing"
is "... and left as it was" "$(ls "$TMP/existing")" keep
check "--overwrite replaces it" ac image bundle --overwrite example.com/plain "$TMP/existing"
is "... with rootfs and config.json only" "$(ls "$TMP/existing" | tr '\n' ' ')" "config.json rootfs "
check_fails "an image the store lacks" 1 'no such image|not in the store' \
  ac image bundle example.com/nope "$TMP/nope"
is "... leaves no DIR and no temporary" "$(ls -A "$TMP" | grep -cE '^(nope|\.nope)')" 0
check_fails "IMAGE and DIR are both needed" 2 'needs IMAGE and DIR' ac image bundle example.com/plain

# A bundle killed half-way: its debris is in the store's tmp/, which gc
# empties, not beside DIR.  It is stopped where the render waits for the
# image's cached tree (its users hold trees/KEY/lock), and killed there.
KS=$TMP/kill-store K=$TMP/killed
"$ACTOOL" --dir="$KS" --insecure-options=image fetch "$TMP/plain.aci" >/dev/null 2>&1
for b in first second; do # the second render builds the cached tree
  "$ACTOOL" --dir="$KS" image bundle example.com/plain "$TMP/kill-$b" >/dev/null 2>&1
done
exec {tree_lock}<>"$(echo "$KS"/trees/*/lock)"
flock -x "$tree_lock"
"$ACTOOL" --dir="$KS" image bundle example.com/plain "$K" {tree_lock}>&- >/dev/null 2>&1 &
pid=$!
for _ in $(seq 400); do [ -n "$(ls -A "$KS/tmp")" ] && break; sleep 0.05; done
sleep 0.2
kill -9 "$pid"
wait "$pid" 2>/dev/null
exec {tree_lock}>&-
is "a bundle killed half-way leaves nothing beside DIR" "$(ls -A "$TMP" | grep -c '^\.killed')" 0
is "... nor DIR" "$(ls -A "$TMP" | grep -c '^killed')" 0
is "... its debris is in the store's tmp/" "$(ls "$KS/tmp" | grep -c '^bundle-')" 1
check "... which gc removes" "$ACTOOL" --dir="$KS" image gc
is "... all of it" "$(ls -A "$KS/tmp")" ""
check "a bundle then is whole" "$ACTOOL" --dir="$KS" image bundle example.com/plain "$K"
is "... rootfs and config.json" "$(ls "$K" | tr '\n' ' ')" "config.json rootfs "

done_testing
