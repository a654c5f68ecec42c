#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool layout run: a command in a layout's busybox rootfs under the
# executor's build mode.  What it makes, changes, removes (whiteouts) and
# replaces (opaque directories) lands in rootfs/, with owners, modes, times
# and hard links, and no overlayfs xattr; what the executor provided for
# the run (/etc/hostname, hosts, resolv.conf, os-release, mount points) does
# not; a failing command keeps its changes and its exit status; the app's
# user, working directory and environment apply but its ports, mount points
# and isolators do not; runs of one layout are serialised; a killed run
# before its commit leaves the rootfs as it was and the next layout command
# tidies up; one killed during its commit has the next layout command
# finish it.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "layout run needs root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi
command -v getfattr >/dev/null || skip_all "getfattr not installed (attr)"

export ACTOOL_DIR=$TMP/store
cleanup() {
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  umount "$TMP/xdev/rootfs/mnt" "$TMP/xdev/rootfs" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

lay() { "$ACTOOL" layout --layout="$L" "$@"; }
# new_layout DIR: a layout with a busybox rootfs.
new_layout() {
  L=$1
  "$ACTOOL" layout --layout="$L" init --name=example.com/build >/dev/null &&
    "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null
}
overlay_xattrs() { getfattr -R -h -d -m '^trusted\.overlay\.' "$L/rootfs" 2>/dev/null | grep -c '^trusted'; }

new_layout "$TMP/a" || { not_ok "a busybox layout"; done_testing; exit; }
R=$L/rootfs
mkdir -p "$R/old/sub" "$R/replaced" "$R/srv"
echo gone >"$R/etc/gone"
echo keep >"$R/old/sub/file"
echo before >"$R/replaced/before"
echo 'image-host' >"$R/etc/hostname"
echo '10.0.0.1 image-hosts' >"$R/etc/hosts"
chmod 0755 "$R/srv"

# --- changes land in the rootfs ---------------------------------------------

check_clean "a command runs in the layout" lay run -- sh -c '
  echo made >/etc/made
  echo bob:x:1001:50:bob:/:/bin/sh >>/etc/passwd
  rm /etc/gone
  rm -r /old
  rm -r /replaced && mkdir /replaced && echo after >/replaced/after
  mkdir -p /new/deep/er && echo x >/new/deep/er/file
  ln -s ../etc/made /link
  echo one >/hard1 && ln /hard1 /hard2
  chmod 0700 /srv && chown 1000:50 /srv
  touch -d "2001-02-03 04:05:06" /etc/made
  mkfifo /fifo
  echo pod-hosts >>/etc/hosts
  hostname >/hostname-seen'
is "a new file is kept" "$(cat "$R/etc/made" 2>&1)" made
is "a changed file is kept" "$(tail -n1 "$R/etc/passwd")" bob:x:1001:50:bob:/:/bin/sh
is "a removed file is removed" "$(ls "$R/etc/gone" 2>&1 | grep -c 'No such')" 1
is "a removed directory is removed" "$(ls -d "$R/old" 2>&1 | grep -c 'No such')" 1
is "a replaced directory holds only what the command put there" "$(ls -A "$R/replaced" | tr '\n' ' ')" "after "
is "a new tree is kept" "$(cat "$R/new/deep/er/file" 2>&1)" x
is "a symlink is kept as a symlink" "$(readlink "$R/link")" "../etc/made"
is "hard links stay one file" "$(stat -c %i "$R/hard1")" "$(stat -c %i "$R/hard2")"
is "a changed directory keeps its new mode and owner" "$(stat -c %a:%u:%g "$R/srv")" "700:1000:50"
is "times are kept" "$(stat -c %Y "$R/etc/made")" "$(date -d '2001-02-03 04:05:06' +%s)"
is "a fifo is kept" "$(stat -c %F "$R/fifo")" "fifo"
is "no overlayfs xattr is left in the rootfs" "$(overlay_xattrs)" 0
case $(cat "$R/hostname-seen") in actool-*) ok "the pod's hostname is the executor's" ;; *) not_ok "the pod's hostname is the executor's" ;; esac
is "the image's /etc/hostname is left as it was" "$(cat "$R/etc/hostname")" image-host
is "the image's own /etc/hosts keeps the command's change" "$(tail -n1 "$R/etc/hosts")" pod-hosts
is "/etc/resolv.conf and os-release, which the image lacked, are not added" \
  "$(ls "$R/etc/resolv.conf" "$R/etc/os-release" 2>&1 | grep -c 'No such')" 2
is "no upper layer is left in the layout" "$(ls -A "$L" | tr '\n' ' ')" "manifest rootfs "
is "no pod is left" "$("$ACTOOL" list --json 2>&1 | jq length)" 0
check "the layout builds" "$ACTOOL" build "$L" "$TMP/a.aci"
# The commit gives the rootfs its upper root's times: a run that changes
# nothing leaves them, so a rebuild is the same image.  (Times set back, as
# an ACI keeps whole seconds: a run in the second of the last change would
# show nothing.)
mkdir -p "$R/etc"
find "$R" -maxdepth 1 -type d -exec touch -d @1577836800 {} +
id1=$("$ACTOOL" build --overwrite "$L" "$TMP/a.aci" 2>/dev/null)
mtime1=$(stat -c %y "$R" "$R/etc" | tr '\n' ' ')
lay run -- /bin/true >/dev/null 2>&1
is "a run that changes nothing leaves the mtimes of the rootfs and of its /etc (the executor's files in it)" \
  "$(stat -c %y "$R" "$R/etc" | tr '\n' ' ')" "$mtime1"
is "and the image built from the layout the same (its ID)" \
  "${id1:+built}:$("$ACTOOL" build --overwrite "$L" "$TMP/a.aci" 2>/dev/null)" "built:$id1"

# --- the rootfs's own directory, the overlay's features -------------------------

chmod 0750 "$R"
is "the command sees the rootfs's own mode and owner" \
  "$(lay run -- sh -c 'ls -ldn / | cut -c1-10; ls -ldn / | tr -s " " | cut -d" " -f3,4' 2>&1 | tr '\n' ' ')" \
  "drwxr-x--- 0 0 "
check_clean "a command changing the rootfs's own directory" lay run -- sh -c 'chmod 0701 / && chown 5:6 /'
is "the rootfs's own directory keeps the command's mode and owner" "$(stat -c %a:%u:%g "$R")" "701:5:6"
chown 0:0 "$R"
chmod 0755 "$R"
# redirect_dir and metacopy (kernel defaults on some systems, or module
# parameters) would leave pointers into the rootfs in the upper layer: the
# overlay is mounted without them, and the commit refuses any it meets.
if command -v strace >/dev/null; then
  # what the executor asks of the kernel (fsconfig, or mount(2)'s options)
  strace -f -qq -e trace=fsconfig,mount -e signal=none -s 400 -o "$TMP/strace" \
    "$ACTOOL" layout --layout="$L" run -- true >/dev/null 2>&1
  for feature in redirect_dir metacopy index; do
    is "the build's overlay is mounted with $feature off" \
      "$(grep -cE "\"$feature\", \"off\"|[\",]$feature=off[\",]" "$TMP/strace")" 1
  done
else
  skip "the build's overlay is mounted with redirect_dir, metacopy and index off" "no strace"
fi
if command -v setfattr >/dev/null; then
  lay run -- sh -c 'mkdir /pointer; echo x >/pointer/file; echo kept? >/beside; sleep 2' \
    >"$TMP/.ptr.out" 2>"$TMP/.ptr.err" &
  runner=$!
  for _ in $(seq 300); do [ -e "$L/.run/upper/pointer/file" ] && break; sleep 0.05; done
  setfattr -n trusted.overlay.redirect -v /elsewhere "$L/.run/upper/pointer"
  wait "$runner"
  is "a commit meeting a redirect fails, naming it" \
    "$?:$(grep -c 'pointer: the overlay kept this change as a pointer (trusted.overlay.redirect' "$TMP/.ptr.err")" "1:1"
  is "and commits nothing" "$(ls -d "$R/pointer" "$R/beside" 2>&1 | grep -c 'No such')" 2
else
  skip "a commit meeting a redirect fails" "setfattr not installed (attr)"
fi
# xattrs (ACLs, security.* labels) the command sets on or removes from a
# directory the rootfs has: the commit gives the merged directory those of
# the upper layer's.  (Set there from outside while the command waits, as
# overlayfs would: busybox has no setfattr.)
if command -v setfattr >/dev/null; then
  xattr() { getfattr --absolute-names --only-values -n "$1" "$2" 2>&1; }
  setfattr -n user.lower -v gone "$R/tmp"
  setfattr -n user.root -v kept "$R"
  lay run -- sh -c 'touch /etc/x /tmp/x /copied-up; sleep 2' >/dev/null 2>&1 &
  runner=$!
  for _ in $(seq 300); do [ -e "$L/.run/upper/copied-up" ] && break; sleep 0.05; done
  setfattr -n user.app -v etc "$L/.run/upper/etc"
  setfattr -x user.lower "$L/.run/upper/tmp"
  setfattr -n user.app -v root "$L/.run/upper"
  wait "$runner"
  is "xattrs set on /etc and /, removed from /tmp, land; the rootfs's own stay" \
    "$(xattr user.app "$R/etc"):$(xattr user.lower "$R/tmp" | grep -c 'No such'):$(xattr user.app "$R"):$(xattr user.root "$R")" \
    "etc:1:root:kept"
  setfattr -x user.app "$R/etc"
  setfattr -x user.app "$R"
  setfattr -x user.root "$R"
  rm -f "$R/etc/x" "$R/tmp/x" "$R/copied-up"
else
  skip "xattrs set on /etc and /, removed from /tmp, land" "setfattr not installed (attr)"
fi
# A kernel without those options (before Linux 4.19 for metacopy) refuses
# them (EINVAL): the overlay is mounted without them.  Such a kernel is
# played by a shim (tests/integration/overlay-einval.c, LD_PRELOAD) that
# refuses them in fsconfig(2) and in an overlay's mount(2), logging each.
if gcc -shared -fPIC -O2 -o "$TMP/overlay-einval.so" "$top_srcdir/tests/integration/overlay-einval.c" \
  2>"$TMP/.err"; then
  run_capture env LD_PRELOAD="$TMP/overlay-einval.so" OVERLAY_EINVAL_LOG="$TMP/overlay.log" \
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
    "$ACTOOL" layout --layout="$L" run -- sh -c 'echo old-kernel >/old-kernel'
  is "on a kernel that refuses the overlay's optional options, the run works and its change lands" \
    "$status:$(cat "$R/old-kernel" 2>&1)" "0:old-kernel"
  is "... the overlay refused with redirect_dir, metacopy and index off, then mounted without them" \
    "$(sed -E 's/^(refused|mounted) .*(,redirect_dir=off,metacopy=off,index=off)$/\1\2/; t; s/^(refused|mounted) .*/\1/' \
      "$TMP/overlay.log" 2>&1 |
      paste -sd' ')" "refused,redirect_dir=off,metacopy=off,index=off mounted"
  rm -f "$R/old-kernel"
else
  not_ok "the shim of a kernel without the overlay's optional options builds"
  note "$(cat "$TMP/.err")"
fi

# --- a rootfs without /etc, /proc, /sys, /dev ---------------------------------

new_layout "$TMP/bare"
rm -rf "$L/rootfs/etc" "$L/rootfs/proc" "$L/rootfs/sys" "$L/rootfs/dev"
# (times set back: a run in the second of the last change would show nothing)
touch -d @1577836800 "$L/rootfs"
mtime1=$(stat -c %y "$L/rootfs")
check_clean "a command runs in a rootfs without /etc, /proc, /sys, /dev" lay run -- /bin/true
is "the executor's mount points and /etc are not left behind" \
  "$(ls -d "$L"/rootfs/{etc,proc,sys,dev} 2>&1 | grep -c 'No such')" 4
is "nor do they change the rootfs's mtime" "$(stat -c %y "$L/rootfs")" "$mtime1"
mkdir "$L/rootfs/etc"
touch -d @1577836800 "$L/rootfs" "$L/rootfs/etc"
mtime1=$(stat -c %y "$L/rootfs" "$L/rootfs/etc" | tr '\n' ' ')
lay run -- /bin/true >/dev/null 2>&1
is "... with an /etc too: the run leaves the mtimes of the rootfs and of its /etc" \
  "$(stat -c %y "$L/rootfs" "$L/rootfs/etc" | tr '\n' ' '):$(ls -A "$L/rootfs" | tr '\n' ' ')" "$mtime1:bin etc home linuxrc root run sbin tmp usr var "
rmdir "$L/rootfs/etc"
check_clean "a command that writes into /etc" lay run -- sh -c 'echo mine >/etc/mine'
is "/etc holds only the command's file" "$(ls -A "$L/rootfs/etc" | tr '\n' ' ')" "mine "

# --- a rootfs whose /etc is a symlink ---------------------------------------------

# The executor writes its files wherever /etc leads in the rootfs; they stay
# out of it there too (with --net=host, /etc/hosts would be the host's).
n=0
for target in var/etc /var/etc .; do
  n=$((n + 1))
  new_layout "$TMP/etclink$n"
  dir=$L/rootfs/$target
  [ "$target" = . ] || mv "$L/rootfs/etc" "$L/rootfs/var/etc"
  rm -rf "$L/rootfs/etc"
  ln -s "$target" "$L/rootfs/etc"
  echo image-host >"$dir/hostname"
  before=$(ls -A "$dir")
  check_clean "etc -> $target: a command runs" lay run --net=host -- sh -c 'echo mine >/etc/mine'
  is "... the command's file lands where /etc leads, the executor's do not" \
    "$(ls -A "$dir" | sort | tr '\n' ' '):$(cat "$dir/hostname")" \
    "$(printf '%s\n' $before mine | sort | tr '\n' ' '):image-host"
done

# --- a rootfs on a mount of its own ------------------------------------------------

# The changes move into rootfs/ by rename, which no mount boundary lets
# through: refused before the command runs, not after (its work lost).
new_layout "$TMP/xdev"
mkdir "$TMP/xdev-keep"
cp -a "$L/rootfs/." "$TMP/xdev-keep/"
if mount -t tmpfs tmpfs "$L/rootfs" 2>/dev/null; then
  cp -a "$TMP/xdev-keep/." "$L/rootfs/"
  check_fails "a rootfs that is a mount of its own is refused before the command runs" 1 \
    "^actool: layout run: $(regex_quote "$L/rootfs"): (a mount point|on another file system).* by rename" \
    lay run -- sh -c 'touch /ran'
  is "the command did not run, and the layout holds no upper layer" \
    "$(ls "$L/rootfs/ran" 2>&1 | grep -c 'No such'):$(ls -A "$L" | tr '\n' ' ')" "1:manifest rootfs "
  umount "$L/rootfs"
  mkdir -p "$L/rootfs/mnt"
  mount -t tmpfs tmpfs "$L/rootfs/mnt"
  check_fails "so is a rootfs holding a mount point" 1 \
    "^actool: layout run: $(regex_quote "$L/rootfs/mnt"): a mount point in the rootfs" lay run -- /bin/true
  umount "$L/rootfs/mnt"
else
  skip "a rootfs that is a mount of its own is refused" "cannot mount a tmpfs"
fi

# --- failure, status, identity ----------------------------------------------

L=$TMP/a
check_fails "a failing command's status is the run's, and the run says the rootfs keeps its changes" \
  3 'exited with status 3; the rootfs keeps' lay run -- sh -c 'echo partial >/partial; exit 3'
is "what the failed command did is kept" "$(cat "$R/partial" 2>&1)" partial
check_fails "a command that does not exist" 127 'nonexistent' lay run -- /nonexistent
# A command the executor cannot start did not run: an error naming the
# cause, exit status 1 (as actool run's), never "exited with status 1".
lay set workingDirectory=/srv/missing >/dev/null
check_fails "a working directory the rootfs lacks: the command did not start" 1 \
  '^actool: layout run: sh did not start: app.workingDirectory: /srv/missing does not exist' \
  lay run -- sh -c 'touch /ran'
is "... said once, without claiming it exited" \
  "$(grep -c 'exited with status\|^actool: app ' "$TMP/.err"):$(ls "$R/ran" 2>&1 | grep -c 'No such')" "0:1"
lay set workingDirectory=/ user=www-data >/dev/null
check_fails "a user the rootfs does not know: the command did not start" 1 \
  '^actool: layout run: sh did not start: app.user: "www-data"' lay run -- sh -c 'touch /ran'
lay set user=0 >/dev/null
is "a command is looked up in the app's PATH" "$(lay run -- busybox echo found 2>&1)" found
lay set user=1000 group=50 workingDirectory=/srv >/dev/null
lay env add GREETING hello >/dev/null
is "the app's user, group, working directory and environment apply" \
  "$(lay run --set-env=EXTRA=more -- sh -c 'echo $(id -u):$(id -g):$(pwd):$GREETING:$EXTRA' 2>&1)" \
  "1000:50:/srv:hello:more"
is "--set-env replaces the app's variable of its name (a pod's app names each once)" \
  "$(lay run --set-env=GREETING=bye -- sh -c 'echo $GREETING' 2>&1)" bye
check_fails "--set-env with a value that is not UTF-8 is a usage error naming it" 2 \
  '^actool: layout run: --set-env: environment V: the value is not valid UTF-8' \
  lay run --set-env="V=$(printf 'a\377b')" -- true
lay set user=0 group=0 workingDirectory=/ >/dev/null
lay port add www tcp 8080 >/dev/null
lay mount add data /data >/dev/null
lay isolator add resource/memory '{"limit": "8M"}' >/dev/null
mkdir -p "$R/data"
is "the app's ports, mount points and memory limit do not apply" \
  "$(lay run -- sh -c 'grep -c " /data " /proc/self/mountinfo; head -c 20000000 /dev/zero | wc -c; echo ${LISTEN_FDS:-none}' 2>&1 | tr '\n' ' ')" \
  "0 20000000 none "
is "the manifest is not changed by a run" "$(jq -c '[.app.ports[0].name, .app.mountPoints[0].name]' "$L/manifest")" \
  '["www","data"]'

# --- networks -----------------------------------------------------------------

is "--net=private (the default): loopback only" \
  "$(lay run -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "' 2>&1 | tr '\n' ' ')" "lo "
host_ifs=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort | tr '\n' ' ')
is "--net=host: the host's interfaces" \
  "$(lay run --net=host -- sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "' 2>&1 | sort | tr '\n' ' ')" \
  "$host_ifs"
check_fails "--net takes private or host" 2 'private or host' lay run --net=bogus -- /bin/true
check_fails "a run needs a command" 2 'needs the command' lay run

# --- hostile commands -----------------------------------------------------------

mkdir -p "$TMP/outside"
echo untouched >"$TMP/outside/file"
check_clean "a command replacing a directory with a symlink out of the rootfs" lay run -- sh -c "
  rm -rf /new && ln -s $TMP/outside /new && ln -s ../../../../../../../.. /up"
is "the symlink is kept as it is" "$(readlink "$R/new")" "$TMP/outside"
is "nothing outside the rootfs changed" "$(ls -A "$TMP/outside" | tr '\n' ' '):$(cat "$TMP/outside/file")" "file :untouched"
# A device node and a setuid file the command makes (CAP_MKNOD, CAP_FSETID)
# are of no use in the pod (nodev, nosuid), but rootfs/ is on the host's
# file system: the layout directory (0700) keeps the host's other users out.
check_clean "a command making a device node and a setuid file" lay run -- sh -c '
  mknod /null-node c 1 3 && chmod 0666 /null-node && cp /bin/busybox /suid && chmod 4755 /suid'
chmod 0711 "$TMP"
is "... which another user of the host cannot reach" \
  "$(setpriv --reuid=65534 --regid=65534 --clear-groups /bin/busybox sh -c "cd $TMP && echo in-tmp
    (echo x >$R/null-node) 2>/dev/null && echo written || echo refused
    ls $R/suid >/dev/null 2>&1 && echo seen || echo unseen" 2>&1 | tr '\n' ' ')" "in-tmp refused unseen "
chmod 0700 "$TMP"
rm -f "$R/null-node" "$R/suid"

# --- serialised runs, killed runs ----------------------------------------------

rm -f "$R/order"
lay run -- sh -c 'touch /holding; sleep 1; echo first >>/order' >/dev/null 2>&1 &
first=$!
# The second run starts once the first holds the lock (its app runs), not
# after a fixed wait that a slow machine may outlast.
for _ in $(seq 600); do [ -e "$L/.run/upper/holding" ] && break; sleep 0.05; done
lay run -- sh -c 'echo second >>/order' >/dev/null 2>&1
wait "$first"
is "two runs of one layout are serialised by its lock" "$(cat "$R/order" 2>&1 | tr '\n' ' ')" "first second "
rm -f "$R/holding"

# build and validate take the layout's lock too (shared): during a run they
# wait for its end, and pack what it did.
lay run -- sh -c 'echo part1 >/part1; sleep 1; echo part2 >/part2' >/dev/null 2>&1 &
runner=$!
for _ in $(seq 600); do [ -e "$L/.run/upper/part1" ] && break; sleep 0.05; done
check_clean "validate during a run waits for its end" "$ACTOOL" validate --type=layout "$L"
check_clean "so does build" "$ACTOOL" build --overwrite "$L" "$TMP/during.aci"
wait "$runner"
is "and the image holds all the run did" "$(tar tzf "$TMP/during.aci" 2>&1 | grep -c '^rootfs/part[12]$')" 2
rm -f "$R/part1" "$R/part2"

"$ACTOOL" layout --layout="$L" run -- sh -c 'touch /killed; exec sleep 60' >/dev/null 2>&1 &
runner=$!
for _ in $(seq 300); do [ -e "$L/.run/upper/killed" ] && break; sleep 0.1; done
kill -9 "$runner"
wait "$runner" 2>/dev/null
wait_pods_settled
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
is "a run killed before its end changes nothing in the rootfs" "$(ls "$R/killed" 2>&1 | grep -c 'No such')" 1
is "gc removes the killed run's pod" "$("$ACTOOL" list --json 2>&1 | jq length)" 0
is "the killed run left its upper layer" "$(ls -A "$L" | grep -c '^.run$')" 1
is "... and no mark of a commit begun" "$(ls -A "$L/.run" | grep -c '^committing$')" 0
check_clean "the next layout command" lay label add stage two
is "it removed what the killed run left" "$(ls -A "$L" | tr '\n' ' ')" "manifest rootfs "

# Killed while its commit moves the changes into rootfs/ (many files, each a
# rename): the next layout command finishes the commit, as the run would
# have.  actool is killed as soon as the commit has begun: a first file has
# moved.
n=20000
echo gone >"$R/etc/gone-too"
cp "$R/etc/passwd" "$TMP/passwd.before"
hostname_before=$(cat "$R/etc/hostname" 2>&1)
"$ACTOOL" layout --layout="$L" run -- sh -c "cd /tmp && seq $n | sed s/^/f/ | xargs touch &&
  echo changed >>/etc/passwd && rm /etc/gone-too && mkdir -p /srv/new && echo x >/srv/new/x" \
  >/dev/null 2>&1 &
runner=$!
for _ in $(seq 6000); do
  [ -n "$(find "$R/tmp" -maxdepth 1 -name 'f*' -print -quit 2>/dev/null)" ] && break
  kill -0 "$runner" 2>/dev/null || break
  sleep 0.005
done
kill -9 "$runner"
wait "$runner" 2>/dev/null
moved=$(find "$R/tmp" -maxdepth 1 -name 'f*' | wc -l)
is "actool killed during its commit left the commit's mark" "$(ls -A "$L/.run" 2>&1 | grep -c '^committing$')" 1
check "... with the commit unfinished ($moved of $n files in rootfs/)" test "$moved" -lt "$n"
wait_pods_settled
timeout 30 "$ACTOOL" gc >/dev/null 2>&1
check_clean "the next layout command" lay label add resumed yes
is "finished the commit: every file the command made" "$(find "$R/tmp" -maxdepth 1 -name 'f*' | wc -l)" "$n"
is "... its change to /etc/passwd" "$(diff "$TMP/passwd.before" "$R/etc/passwd" | grep -c '^> changed$')" 1
is "... what it removed" "$(ls "$R/etc/gone-too" 2>&1 | grep -c 'No such')" 1
is "... the directory it made" "$(cat "$R/srv/new/x" 2>&1)" x
is "... and not the executor's /etc/hostname" "$(cat "$R/etc/hostname" 2>&1)" "$hostname_before"
is "... nor overlayfs's xattrs" "$(overlay_xattrs)" 0
is "... and removed what the killed run left" "$(ls -A "$L" | tr '\n' ' ')" "manifest rootfs "
check "the layout validates" "$ACTOOL" validate --type=layout "$L"
find "$R/tmp" -maxdepth 1 -name 'f*' -delete
rm -rf "$R/srv/new"
cp "$TMP/passwd.before" "$R/etc/passwd"

# A commit that cannot be finished keeps the layout from opening: rootfs/
# holds part of a run's changes, which removing .run by hand accepts.
mkdir -p "$L/.run/upper"
echo "not a mark" >"$L/.run/committing"
check_fails "a commit's mark the next layout command cannot follow" 1 \
  "$(regex_quote "$L/.run"): left by a layout run killed while it moved.*\(removing $(regex_quote "$L/.run") leaves .* as it is" \
  lay label add refused yes
is "... is left where it is" "$(ls -A "$L/.run" | tr '\n' ' ')" "committing upper "
rm -rf "$L/.run"

# A commit into a rootfs that had no /etc, killed once it had made /etc
# for the command's files there (none of them moved yet): the executor's
# files stay out and the /etc that only they would fill goes again.
N=$TMP/no-etc
"$ACTOOL" layout --layout="$N" init --name=example.com/no-etc >/dev/null
mkdir -p "$N/.run/upper/etc" "$N/rootfs/etc"
echo pod >"$N/.run/upper/etc/hostname"
echo 127.0.0.1 >"$N/.run/upper/etc/hosts"
chmod --reference="$N/rootfs" "$N/.run/upper"
echo "etc none" >"$N/.run/committing"
check_clean "the next layout command after a commit killed in a rootfs without /etc" \
  "$ACTOOL" layout --layout="$N" label add resumed yes
is "... leaves the executor's files out, and the /etc they alone filled" \
  "$(ls -A "$N" "$N/rootfs" 2>&1 | tr '\n' ' ')" "$N: manifest rootfs  $N/rootfs: "
# The layout as a relative path, and as the default ".": the executor's
# processes change directory, so they are given absolute paths.
(cd "$L" && "$ACTOOL" layout run -- /bin/sh -c 'echo dot >/relative-dot') >"$TMP/.out" 2>&1
is "layout run in the layout's directory (\".\")" "$?:$(cat "$R/relative-dot" 2>&1)" "0:dot"
(cd "$(dirname "$L")" && "$ACTOOL" layout run --layout="$(basename "$L")" -- /bin/sh -c 'echo rel >/relative') \
  >"$TMP/.out" 2>&1
is "layout run --layout=RELATIVE" "$?:$(cat "$R/relative" 2>&1)" "0:rel"
check "and the layout builds" "$ACTOOL" build --overwrite "$L" "$TMP/a.aci"
check_clean "the ACI runs what the layout run installed" \
  "$ACTOOL" --insecure-options=image run "$TMP/a.aci" --exec=/bin/cat -- /etc/made

done_testing
