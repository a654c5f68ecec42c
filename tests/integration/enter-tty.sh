#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `enter` with a terminal (-t, the default on one): the command gets a new
# pseudo-terminal of the pod's, owned by the app's user, as its controlling
# terminal; the operator's window size follows; Ctrl-C and Ctrl-Z act on the
# pod's foreground job (job control in the entered shell); the exit status
# comes back and the operator's terminal modes are restored.  -T keeps the
# command off any terminal; input from a pipe with -t ends with the
# terminal's end-of-file; a SIGTERM to enter reaches the command; a killed
# helper, or enter's output gone, hangs the pod's terminal up, which ends
# what ran on it; a SIGTERM ends enter, also when the shell ignores it or
# the command was stopped from inside the pod, and so does Ctrl-] three times; closed standard streams
# are not taken for the files actool opens.
# pty-drive.py plays the operator at a terminal.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

[ "$(id -u)" -eq 0 ] || skip_all "pods need root"
if ! [ -x /bin/busybox ] || ! /bin/busybox --list-full >/dev/null 2>&1; then
  skip_all "no static busybox (/bin/busybox)"
fi
command -v python3 >/dev/null || skip_all "no python3"
DRIVE=$top_srcdir/tests/integration/pty-drive.py

export ACTOOL_DIR=$TMP/store
cleanup() {
  [ -n "${uuid:-}" ] && timeout 30 "$ACTOOL" stop --force "$uuid" >/dev/null 2>&1
  [ -d "$ACTOOL_DIR/pods" ] && timeout 30 "$ACTOOL" gc >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT

L=$TMP/layout
if ! { "$ACTOOL" layout --layout="$L" init --name=example.com/tty >/dev/null &&
  "$top_srcdir/scripts/mkrootfs-busybox" "$L/rootfs" >/dev/null &&
  "$ACTOOL" layout --layout="$L" set user=1000 group=1000 >/dev/null &&
  "$ACTOOL" layout --layout="$L" set-exec -- /bin/sleep 1000 >/dev/null &&
  "$ACTOOL" build "$L" "$TMP/tty.aci" >/dev/null &&
  "$ACTOOL" --insecure-options=image fetch "$TMP/tty.aci" >/dev/null &&
  uuid=$("$ACTOOL" run --detach example.com/tty); }; then
  not_ok "a pod to enter"
  done_testing
  exit
fi

# drive SCENARIO: pty-drive.py's KEY=VALUE lines into $TMP/SCENARIO
drive() {
  timeout 90 python3 "$DRIVE" "$1" "$ACTOOL" "$uuid" >"$TMP/$1" 2>"$TMP/$1.err"
  [ -s "$TMP/$1.err" ] && note "$(head -c 2000 "$TMP/$1.err")"
}
# seen SCENARIO KEY: what it saw
seen() { sed -n "s/^$2=//p" "$TMP/$1"; }

drive session
if [[ "$(seen session tty)" =~ ^/dev/pts/[0-9]+$ ]]; then
  ok "on a terminal the entered shell has one of the pod's"
else
  not_ok "on a terminal the entered shell has one of the pod's"
  note "$(cat "$TMP/session")"
fi
is "the terminal is the app user's (as grantpt makes it)" "$(seen session owner)" 1000
is "the operator's window size" "$(seen session size)" "33 101"
is "a resize of the operator's window reaches the pod's terminal" "$(seen session resized)" "40 120"
is "Ctrl-C interrupts the shell's foreground job, not enter" \
  "$(seen session interrupt),$(seen session interrupt_slept)" "yes,no"
is "Ctrl-Z stops the shell's foreground job: job control" "$(seen session suspend)" yes
is "the shell's exit status is enter's" "$(seen session status)" 7
is "the operator's terminal modes are restored" "$(seen session modes_kept)" yes

drive notty
is "-T on a terminal: the command has enter's streams, no terminal" "$(seen notty tty)" "not a tty"
is "-T: the exit status" "$(seen notty status)" 0

drive term
is "a SIGTERM to enter reaches the command" "$(seen term started),$(seen term status)" "yes,143"
is "after the SIGTERM the operator's terminal modes are restored" "$(seen term modes_kept)" yes

drive stubborn
is "a SIGTERM to enter whose shell ignores it: enter ends, soon, with the terminal restored" \
  "$(seen stubborn started),$(seen stubborn status | grep -Ex '129|143' >/dev/null && echo ended),$(seen stubborn soon),$(seen stubborn modes_kept)" \
  "yes,ended,yes,yes"
drive stopped
is "a SIGTERM to enter whose command was stopped from inside the pod ends it" \
  "$(seen stopped started),$(seen stopped status),$(seen stopped soon),$(seen stopped modes_kept)" \
  "yes,143,yes,yes"
# the same without a terminal: the helper continues the stopped group
timeout -k 5 30 "$ACTOOL" enter -T "$uuid" -- /bin/sh -c 'kill -STOP $$; echo never' \
  >"$TMP/stopped-T.out" 2>&1 &
enter_pid=$!
for _ in $(seq 50); do
  pgrep -f "kill -STOP" | xargs -r -n1 sh -c 'grep -q "^State:.*T (stopped)" /proc/$0/status && echo $0' |
    grep -q . && break
  sleep 0.1
done
kill -TERM "$enter_pid"
wait "$enter_pid"
is "-T: a SIGTERM to enter ends a command stopped from inside the pod" "$?" 143

# -T: the command ends with its helper (a hang-up), also when a SIGKILL
# takes enter and its helper together and nothing is left to pass on a
# signal.  KILL_T WHO ARG: enter -T runs /bin/sleep ARG, then WHO (helper,
# both) is killed; whether the sleep is gone soon after.
kill_T() {
  local enter_pid helper
  "$ACTOOL" enter -T "$uuid" -- /bin/sleep "$2" >/dev/null 2>&1 &
  enter_pid=$!
  for _ in $(seq 100); do
    pgrep -f "^/bin/sleep $2\$" >/dev/null && break
    sleep 0.1
  done
  helper=$(pgrep -P "$enter_pid")
  case $1 in
    helper) kill -KILL $helper ;;
    both) kill -KILL "$enter_pid" $helper ;;
  esac
  wait "$enter_pid" 2>/dev/null
  for _ in $(seq 50); do
    pgrep -f "^/bin/sleep $2\$" >/dev/null || break
    sleep 0.1
  done
  if [ -z "$helper" ]; then
    echo "no helper"
  elif pgrep -f "^/bin/sleep $2\$" >/dev/null; then
    echo "still running"
    pkill -KILL -f "^/bin/sleep $2\$"
  else
    echo ended
  fi
}
is "-T: the helper killed (SIGKILL), the command ends" "$(kill_T helper 31341)" ended
is "-T: enter and its helper killed together, the command ends" "$(kill_T both 31342)" ended

drive escape
is "Ctrl-] three times: enter leaves the pod's terminal, hung up, soon, restored" \
  "$(seen escape started),$(seen escape status),$(seen escape soon),$(seen escape modes_kept)" \
  "yes,129,yes,yes"

drive hangup
is "with the helper killed, enter ends with its status" \
  "$(seen hangup started),$(seen hangup helpers),$(seen hangup status)" "yes,1,137"
is "... and restores the operator's terminal modes" "$(seen hangup modes_kept)" yes
for _ in $(seq 50); do
  pgrep -f "sleep 31337" >/dev/null || break
  sleep 0.1
done
if pgrep -f "sleep 31337" >/dev/null; then
  not_ok "the pod's terminal hung up: what ran on it ended"
  note "$(pgrep -af 'sleep 31337')"
else
  ok "the pod's terminal hung up: what ran on it ended"
fi

# -t without a terminal: the pod's terminal all the same; input from a
# pipe ends with its end-of-file character.
run_capture timeout -k 5 20 "$ACTOOL" enter -t "$uuid" -- /bin/sh -c 'tty; exit 3' </dev/null
is "-t off a terminal: a terminal of the pod's, and the exit status" \
  "$status,$(tr -d '\r' <"$TMP/.out" | grep -c '^/dev/pts/[0-9]*$')" "3,1"
printf 'one\ntwo\n' >"$TMP/in"
run_capture timeout -k 5 20 "$ACTOOL" enter -t "$uuid" -- /bin/sh -c 'cat; echo end$((2+2))' <"$TMP/in"
is "-t with input from a pipe: the input, then the terminal's end-of-file" \
  "$status,$(tr -d '\r' <"$TMP/.out" | grep -cx 'two'),$(tr -d '\r' <"$TMP/.out" | tail -n1)" "0,2,end4"
# the caller's output gone: the pod's terminal hangs up, and what writes
# to it ends, as with a pipe
timeout -k 5 20 "$ACTOOL" enter -t "$uuid" -- /bin/sh -c yes </dev/null 2>"$TMP/.err" | head -n1 >"$TMP/.out"
status=${PIPESTATUS[0]}
is "enter -t ... | head: the command ends with enter's output (not timed out)" \
  "$(tr -d '\r' <"$TMP/.out"),$([ "$status" -ne 124 ] && [ "$status" -ne 137 ] && echo ended)" "y,ended"
# enter's standard streams closed: not the store's files it opens then
"$ACTOOL" enter -t "$uuid" -- /bin/sh -c 'echo POD-WROTE-$((2*3))' <&- >&- 2>"$TMP/.err"
if grep -rqs "POD-WROTE-6" "$ACTOOL_DIR"; then
  not_ok "enter -t with its streams closed writes into no file of the store"
  note "$(grep -rls "POD-WROTE-6" "$ACTOOL_DIR")"
else
  ok "enter -t with its streams closed writes into no file of the store"
fi
# on a terminal, but not its foreground job (timeout runs its command in a
# process group of its own): no terminal by default, as for -T
script -qec "$(printf '%q ' timeout -k 5 20 "$ACTOOL" enter "$uuid" -- /bin/sh -c 'tty; echo M=$((4*4))')" \
  /dev/null </dev/null >"$TMP/.out" 2>&1
is "on a terminal in the background: by default no terminal for the command" \
  "$(tr -d '\r' <"$TMP/.out" | tr '\n' ' ')" "not a tty M=16 "
check_fails "--tty and --no-tty together: a usage error" 2 'say one' \
  "$ACTOOL" enter -t -T "$uuid"

done_testing
