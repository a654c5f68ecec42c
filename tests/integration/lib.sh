# SPDX-License-Identifier: Apache-2.0
# TAP helpers for integration tests.  Source this file, call the checks, end
# with `done_testing`.  Each check prints one TAP line; a failure never stops
# the script, so every case is reported.
set -u
: "${ACTOOL:?ACTOOL must point at the actool binary}"
: "${top_srcdir:?top_srcdir must be set}"

_tap_n=0
_tap_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/actool-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
# script(1) runs its command with $SHELL, which a CI machine may leave unset
# (then /bin/sh, dash) where a login shell here has bash: one shell for all,
# so that a command quoted in bash's way ($'...') fails here as it would there.
export SHELL=/bin/sh

# `make -j check` runs tests side by side.  A test whose verdict depends on
# latency it does not control (the ACE validator's client gives up after
# 100 ms) calls run_alone: it waits for the running tests to end and keeps
# new ones from starting until it ends.  Every test holds the lock shared
# from here.  The lock is held by a helper (tail --pid, ending within a
# second of this shell) rather than by a descriptor of this shell, which
# daemons the test starts would inherit and keep.
_lock_file=${top_builddir:-${TMPDIR:-/tmp}}/.integration-tests.lock
# _lock_take MODE: prints the holder's pid once MODE (-s|-x) is held, or
# nothing when it could not be had within 600 s.
_lock_take() {
  local pid=""
  read -r pid < <(flock "$1" -w 600 "$_lock_file" \
    sh -c 'echo $$; exec tail --pid="$1" -f /dev/null >/dev/null 2>&1' _ $$ 2>/dev/null)
  echo "$pid"
}
_lock_holder=$(_lock_take -s)
[ -n "$_lock_holder" ] || printf '# %s\n' "a test running alone kept the lock for 600 s; running beside it"
# run_alone: the shared hold becomes an exclusive one.
run_alone() {
  [ -n "$_lock_holder" ] && kill "$_lock_holder" 2>/dev/null
  _lock_holder=$(_lock_take -x)
  [ -n "$_lock_holder" ] || diag "run_alone: other tests kept the lock for 600 s; running beside them"
}

ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() {
  _tap_n=$((_tap_n + 1))
  _tap_failed=$((_tap_failed + 1))
  echo "not ok $_tap_n - $*"
}
diag() { printf '# %s\n' "$@"; }

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
  local desc=$1
  shift
  if "$@" >"$TMP/.out" 2>"$TMP/.err"; then ok "$desc"; else
    not_ok "$desc"
    diag "command: $*" "$(head -c 2000 "$TMP/.err")"
  fi
}

# check_fails DESCRIPTION EXPECTED_STATUS STDERR_PATTERN COMMAND...: passes when
# COMMAND exits with EXPECTED_STATUS and its stderr matches the extended regex.
check_fails() {
  local desc=$1 want=$2 pattern=$3 status=0
  shift 3
  "$@" >"$TMP/.out" 2>"$TMP/.err" || status=$?
  if [ "$status" -eq "$want" ] && grep -Eq -- "$pattern" "$TMP/.err"; then ok "$desc"; else
    not_ok "$desc"
    diag "command: $*" "exit $status (wanted $want)" "stderr: $(head -c 2000 "$TMP/.err")"
  fi
}

done_testing() {
  echo "1..$_tap_n"
  [ "$_tap_failed" -eq 0 ]
}

# --- Extensions (the helpers above keep their behaviour) -------------------

# skip DESCRIPTION REASON: one TAP skip, counted neither passed nor failed.
skip() {
  _tap_n=$((_tap_n + 1))
  echo "ok $_tap_n - $1 # SKIP $2"
}

# skip_all REASON: the whole script is skipped (a plan of 0 tests).
skip_all() {
  echo "1..0 # SKIP $*"
  exit 0
}

# is DESCRIPTION GOT WANT: passes when the two strings are equal.
is() {
  if [ "$2" = "$3" ]; then ok "$1"; else
    not_ok "$1"
    note "got:  $(printf '%s' "$2" | head -c 2000)" "want: $(printf '%s' "$3" | head -c 2000)"
  fi
}

# crashed STATUS STDERR_FILE: true when a process died of a signal, was
# killed by `timeout`, or a sanitizer reported something.
crashed() {
  [ "$1" -ge 124 ] && return 0
  grep -Eq 'Sanitizer|runtime error:|Segmentation fault|core dumped' "$2"
}

# run_capture COMMAND...: runs COMMAND with stdout in $TMP/.out and stderr in
# $TMP/.err; the exit status is left in $status.  Never fails.
run_capture() {
  status=0
  "$@" >"$TMP/.out" 2>"$TMP/.err" || status=$?
}

# err_lacks DESCRIPTION PATTERN: passes when the last command's stderr
# ($TMP/.err) has no line matching the basic regex PATTERN.  (Not `check
# bash -c 'grep ... $TMP/.err'`: check's own redirection empties the file
# before grep reads it.)
err_lacks() {
  if ! grep -q -- "$2" "$TMP/.err"; then ok "$1"; else
    not_ok "$1"
    note "stderr matches /$2/: $(grep -m1 -- "$2" "$TMP/.err" | head -c 500)"
  fi
}

# check_rejects DESCRIPTION STDERR_PATTERN COMMAND...: passes when COMMAND
# exits 1 (a clean refusal) with stderr matching the extended regex, and
# did not crash, hang or trip a sanitizer.
check_rejects() {
  local desc=$1 pattern=$2
  shift 2
  run_capture "$@"
  if [ "$status" -eq 1 ] && ! crashed "$status" "$TMP/.err" &&
    grep -Eq -- "$pattern" "$TMP/.err"; then ok "$desc"; else
    not_ok "$desc"
    note "command: $*" "exit $status (wanted 1, stderr matching /$pattern/)" \
      "stderr: $(head -c 2000 "$TMP/.err" | tr -d '\0')"
  fi
}

# check_clean DESCRIPTION COMMAND...: like check, and also fails when stderr
# shows a sanitizer report (UBSan can report without changing the status).
check_clean() {
  local desc=$1
  shift
  run_capture "$@"
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err"; then ok "$desc"; else
    not_ok "$desc"
    note "command: $*" "exit $status" "stderr: $(head -c 2000 "$TMP/.err" | tr -d '\0')"
  fi
}

# wait_pods_settled: wait (up to 30 s) until no pod of $ACTOOL_DIR counts as
# running: a pod whose actool was killed does so until the last of its
# processes holding its lock is gone; then gc takes it.
wait_pods_settled() {
  for _ in $(seq 300); do
    "$ACTOOL" list --json 2>/dev/null | jq -e 'all(.[]; .state != "running")' >/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# free_port: a port no TCP or UDP socket uses now, below Linux's usual
# ephemeral range (32768-60999) so that no outgoing connection is given it
# meanwhile (/proc/net lists ports in hex).  Another process may still take
# it before the test binds it: servers the tests start retry.
free_port() {
  local used port
  used=$(awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 \
    /proc/net/udp /proc/net/udp6 2>/dev/null)
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 12000))
    grep -qx "$(printf '%04X' "$port")" <<<"$used" || break
  done
  echo "$port"
}

# to_full COMMAND...: COMMAND with its standard output on a full disk.
to_full() { "$@" >/dev/full; }

# sanitized: actool was built with AddressSanitizer (GCC's or clang's),
# which reserves terabytes of address space: no ulimit -v for it.
sanitized() { grep -q -a __asan_init "$ACTOOL"; }

# utf8_json FILE: FILE is JSON and in UTF-8, as RFC 8259 (8.1) wants (jq
# reads invalid UTF-8 without a word).
utf8_json() {
  python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$1"
}

# regex_quote STRING: STRING with ERE metacharacters escaped.
regex_quote() { printf '%s' "$1" | sed 's/[][\.*^$(){}?+|/]/\\&/g'; }

# note TEXT...: like diag, but every line of every argument gets its "# ", so
# that no line of a command's output can be taken for a TAP result.
note() {
  local a
  for a in "$@"; do
    printf '%s\n' "$a" | sed 's/^/# /'
  done
}

# swept [STORE [SECONDS]]: what pods' ends set aside in STORE (default
# $STORE) is gone within SECONDS (default 30; the metadata service removes it
# once their actool has returned); prints what is left, if not.
swept() {
  local store=${1:-$STORE} i
  for i in $(seq $((${2:-30} * 10))); do
    [ -z "$(find "$store/pods" -mindepth 1 -maxdepth 1 -name '.removing-*' 2>/dev/null)" ] && return 0
    sleep 0.1
  done
  find "$store/pods" -mindepth 1 -maxdepth 1 -name '.removing-*' -printf '%f\n'
}

# lock_wait_check DESCRIPTION -s|-x LOCKFILE WHAT COMMAND...: hold LOCKFILE's
# lock (flock MODE) for 2 s in the background and run COMMAND meanwhile: it
# must print one notice, "actool: waiting for WHAT, held by process PID
# (flock)", exit 0, and end after the holder.
lock_wait_check() {
  local desc=$1 mode=$2 lock=$3 what=$4 holder
  shift 4
  rm -f "$TMP/held"
  flock "$mode" "$lock" sh -c ': >"$1"; exec sleep 2' _ "$TMP/held" &
  holder=$!
  for _ in $(seq 1 600); do [ -e "$TMP/held" ] && break; sleep 0.05; done
  run_capture "$@"
  local want="actool: waiting for $what, held by process $holder (flock)"
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err" && ! kill -0 "$holder" 2>/dev/null &&
    [ "$(grep -c "waiting for" "$TMP/.err")" = 1 ] && grep -qxF "$want" "$TMP/.err"; then
    ok "$desc"
  else
    not_ok "$desc"
    note "command: $*" "exit $status" "wanted on stderr: $want" \
      "stderr: $(head -c 2000 "$TMP/.err" | tr -d '\0')"
  fi
  wait "$holder" 2>/dev/null
}

# lock_hold LOCKFILE: another process holds LOCKFILE's lock (exclusive)
# until lock_release.  (flock -o: the lock is flock's alone, gone with it
# when its sleep is killed.)
lock_hold() {
  rm -f "$TMP/held"
  flock -o -x "$1" sh -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec sleep 300' _ "$TMP/held" &
  _lock_holder=$!
  for _ in $(seq 1 1200); do [ -s "$TMP/held" ] && break; sleep 0.05; done
  ! flock -n "$1" true
}
lock_release() {
  kill "$(cat "$TMP/held")" 2>/dev/null
  wait "$_lock_holder" 2>/dev/null
}

# lock_wait_cancel DESCRIPTION LOCKFILE COMMAND...: with LOCKFILE's lock held
# by another process, COMMAND (a program, not a shell function: the SIGINT
# goes to it) must say it waits, and a SIGINT then must end it within 5 s,
# by that signal (exit 130).
lock_wait_cancel() {
  local desc=$1 lock=$2 pid t0 st=0 held=held noticed=no
  rm -f "$TMP/.stuck"
  shift 2
  lock_hold "$lock" || held="not held"
  "$@" >"$TMP/.out" 2>"$TMP/.err" &
  pid=$!
  for _ in $(seq 1 1200); do grep -q "waiting for" "$TMP/.err" && noticed=yes && break; sleep 0.05; done
  t0=$SECONDS
  kill -INT "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    # what the command and its children were doing: for the report below
    local p
    for p in "$pid" $(pgrep -P "$pid"); do
      echo "process $p ($(cat "/proc/$p/comm" 2>/dev/null)): wchan $(cat "/proc/$p/wchan" 2>/dev/null)," \
        $(grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):' "/proc/$p/status" 2>/dev/null)
      command -v gdb >/dev/null && timeout 20 gdb -batch -ex 'thread apply all bt' -p "$p" 2>/dev/null |
        grep -E '^#' | head -20
    done >"$TMP/.stuck" 2>&1
    pkill -9 -P "$pid"
    kill -9 "$pid"
  fi
  wait "$pid" || st=$?
  lock_release
  if [ "$st" -eq 130 ] && [ $((SECONDS - t0)) -le 5 ] && grep -q "waiting for" "$TMP/.err"; then
    ok "$desc"
  else
    not_ok "$desc"
    note "command: $*" "exit $st (wanted 130) after $((SECONDS - t0)) s" \
      "the lock: $held; the notice before the SIGINT: $noticed" \
      "still running 5 s after the SIGINT: $(cat "$TMP/.stuck" 2>/dev/null)" \
      "stderr: $(head -c 2000 "$TMP/.err" | tr -d '\0')"
  fi
}
