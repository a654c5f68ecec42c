# SPDX-License-Identifier: Apache-2.0
# Real-network test harness: a throw-away CA and an nginx serving HTTPS (and
# plain HTTP) on 127.0.0.1, all of it under $TMP.  Source it after lib.sh:
#
#   . "$top_srcdir/tests/integration/lib.sh" || exit 1
#   . "$top_srcdir/tests/integration/lib-net.sh" || exit 1
#   trap 'net_cleanup; rm -rf "$TMP"' EXIT   # lib.sh's trap would leave nginx running
#   net_require                              # nginx, openssl, curl: or not_ok + exit 1
#   net_make_ca "$TMP/pki"                   # NET_CA, NET_OTHER_CA, NET_SERVER_{CERT,KEY}
#   echo 'location = /x { return 302 /y; }' >"$NET_CONF_D/x.conf"
#   net_start_nginx                          # NET_PORT (TLS), NET_HTTP_PORT (plain)
#   ... curl --cacert "$NET_CA" "https://localhost:$NET_PORT/..." ...
#   net_log_count '"GET /y HTTP/1.1" 200'
#
# Functions:
#   net_fail DESC [NOTE...] a not_ok line, the plan, exit 1 (for a broken setup).
#   net_require             fail loudly (not_ok, exit 1) when a tool is missing;
#                           never a skip: CI must run these tests (scripts/deps).
#   net_make_ca DIR         a test CA and a server certificate for DNS:localhost
#                           and IP:127.0.0.1 signed by it, plus an unrelated CA
#                           (same subject name, different key) that signed
#                           nothing the server shows.  Exports NET_CA,
#                           NET_OTHER_CA (PEM certificates), NET_SERVER_CERT,
#                           NET_SERVER_KEY.
#   net_start_nginx         starts nginx (daemon, master + 1 worker) and waits
#                           until it answers.  Exports NET_PORT, NET_HTTP_PORT.
#                           Sets HUP/INT/TERM traps that exit (so the EXIT
#                           trap runs), and starts a watchdog that stops nginx
#                           if the shell dies without it (SIGKILL).
#   net_reload              re-reads nginx.conf and $NET_CONF_D / $NET_HTTP_CONF_D
#                           (checked first with nginx -t), waits for the new
#                           workers; returns non-zero (with a diag) on failure.
#   net_cleanup             stops nginx and waits for it; safe to call twice or
#                           when nginx never started.  Chain it in the EXIT trap.
#   net_log_count STRING    how many access-log lines contain STRING (fixed
#                           string: "?" and "." are literal).  Always prints a
#                           number; waits first until nginx has logged every
#                           finished request.
#   net_log_count_re ERE    the same with an extended regular expression.
#   net_log_sync            that wait on its own (for reading the logs directly).
#   net_log_reset           empties the access and error logs.
#   net_access_log          prints $NET_ACCESS_LOG.
#
# Variables (set on sourcing, before anything starts):
#   NET_DIR          $TMP/nginx: config, pid, logs, temp dirs
#   NET_ROOT         document root of both servers (created empty)
#   NET_CONF_D       *.conf included inside the TLS server block
#   NET_HTTP_CONF_D  *.conf included inside the plain-HTTP server block
#   NET_ACCESS_LOG   access log of both servers, one line per request:
#                      PORT "REQUEST" STATUS BYTES_SENT BODY_BYTES_SENT \
#                      range="RANGE" inm="IF-NONE-MATCH" auth="AUTHORIZATION"
#                    e.g. 41234 "GET /a?ac-discovery=1 HTTP/1.1" 404 294 146 range="-" inm="-" auth="-"
#                    ("-" for a missing header).  /.net-gen (readiness probe) is not logged.
#   NET_ERROR_LOG    error log at level info (TLS handshake failures show here:
#                    "SSL_do_handshake() failed").
#
# Both servers serve $NET_ROOT with `default_type text/html`, so a file
# without an extension is an HTML page and "/a?ac-discovery=1" serves the file
# $NET_ROOT/a (nginx ignores the query).  A location block written into
# $NET_CONF_D overrides that per path.  Everything (pid, logs, temp files)
# stays under $NET_DIR; nothing under /var is touched.

NET_DIR=$TMP/nginx
NET_ROOT=$NET_DIR/root
NET_CONF_D=$NET_DIR/conf.d
NET_HTTP_CONF_D=$NET_DIR/http.d
NET_ACCESS_LOG=$NET_DIR/access.log
NET_ERROR_LOG=$NET_DIR/error.log
NET_PORT=
NET_HTTP_PORT=
export NET_DIR NET_ROOT NET_CONF_D NET_HTTP_CONF_D NET_ACCESS_LOG NET_ERROR_LOG NET_PORT NET_HTTP_PORT
mkdir -p "$NET_ROOT" "$NET_CONF_D" "$NET_HTTP_CONF_D" "$NET_DIR/tmp"

_net_pidfile=$NET_DIR/nginx.pid
_net_gen=0          # config generation, answered at /.net-gen (see net_reload)
_net_watchdog=      # pid of the process that stops nginx if this shell dies
_net_nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# net_fail DESC [NOTE...]: a failed TAP line, the plan, and the script ends
# (its EXIT trap still stops nginx): for a setup that cannot work, where
# going on would only produce noise.
net_fail() {
  not_ok "$1"
  shift
  [ $# -eq 0 ] || note "$@"
  # shellcheck disable=SC2154 # lib.sh's counter
  echo "1..$_tap_n"
  exit 1
}

net_require() {
  local t missing=()
  for t in "$_net_nginx_bin" openssl curl; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ -f /usr/lib/nginx/modules/ngx_http_echo_module.so ] ||
    missing+=(/usr/lib/nginx/modules/ngx_http_echo_module.so)
  [ ${#missing[@]} -eq 0 ] ||
    net_fail "network test tools are installed" \
      "missing: ${missing[*]} (scripts/deps installs nginx-light, openssl and curl)"
}

# _net_ca NAME DIR: a self-signed P-256 CA certificate DIR/NAME.pem and its key.
_net_ca() {
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$2/$1.key" -out "$2/$1.pem" -days 30 -subj "/O=actool tests/CN=actool test CA" \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>>"$2/openssl.log"
}

net_make_ca() {
  local dir=$1
  mkdir -p "$dir"
  # The unrelated CA carries the same subject name as the trusted one, so
  # that only a real signature check tells them apart.
  if ! { _net_ca ca "$dir" && _net_ca other-ca "$dir" &&
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/O=actool tests/CN=localhost" \
      2>>"$dir/openssl.log" &&
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' \
      'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth' \
      'subjectAltName=DNS:localhost,IP:127.0.0.1' >"$dir/server.ext" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
      -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$dir/server.ext" \
      -out "$dir/server.pem" 2>>"$dir/openssl.log"; }; then
    net_fail "test CA and server certificate made" "$(cat "$dir/openssl.log")"
  fi
  NET_CA=$dir/ca.pem
  NET_OTHER_CA=$dir/other-ca.pem
  NET_SERVER_CERT=$dir/server.pem
  NET_SERVER_KEY=$dir/server.key
  export NET_CA NET_OTHER_CA NET_SERVER_CERT NET_SERVER_KEY
}

_net_write_conf() {
  local user=
  # As root, workers would otherwise run as nobody and could not read $TMP
  # (mode 0700).
  [ "$(id -u)" -ne 0 ] || user='user root;'
  cat >"$NET_DIR/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;
$user
daemon on;
master_process on;
worker_processes 1;
pid $_net_pidfile;
lock_file $NET_DIR/nginx.lock;
error_log $NET_ERROR_LOG info;
events { worker_connections 128; }
http {
  client_body_temp_path $NET_DIR/tmp/body;
  proxy_temp_path $NET_DIR/tmp/proxy;
  fastcgi_temp_path $NET_DIR/tmp/fastcgi;
  uwsgi_temp_path $NET_DIR/tmp/uwsgi;
  scgi_temp_path $NET_DIR/tmp/scgi;
  types { text/html html htm; application/octet-stream aci; text/plain asc; application/pgp-keys gpg; application/json json; }
  default_type text/html;
  sendfile off;
  server_tokens off;
  # The readiness probe (/.net-gen) stays out of the log that tests count.
  map \$uri \$net_loggable { /.net-gen 0; default 1; }
  log_format net '\$server_port "\$request" \$status \$bytes_sent \$body_bytes_sent range="\$http_range" inm="\$http_if_none_match" auth="\$http_authorization"';
  access_log $NET_ACCESS_LOG net if=\$net_loggable;
  server {
    listen 127.0.0.1:$NET_PORT ssl;
    server_name localhost;
    ssl_certificate $NET_SERVER_CERT;
    ssl_certificate_key $NET_SERVER_KEY;
    root $NET_ROOT;
    location = /.net-gen { return 200 "$_net_gen\n"; }
    include $NET_CONF_D/*.conf;
  }
  server {
    listen 127.0.0.1:$NET_HTTP_PORT;
    server_name localhost;
    root $NET_ROOT;
    location = /.net-gen { return 200 "$_net_gen\n"; }
    include $NET_HTTP_CONF_D/*.conf;
  }
}
EOF
}

# _net_nginx ARGS...: nginx on our configuration, never holding the caller's
# stdout (the TAP driver waits for it to close) and with no startup message
# going to /var/log.
_net_nginx() {
  "$_net_nginx_bin" -p "$NET_DIR/" -c "$NET_DIR/nginx.conf" -e "$NET_ERROR_LOG" "$@" \
    </dev/null >>"$NET_DIR/nginx.out" 2>&1
}

# _net_wait_gen: until both servers answer /.net-gen with the current
# generation (30 s at most).
_net_wait_gen() {
  local got1 got2 deadline=$((SECONDS + 30))
  while [ "$SECONDS" -lt "$deadline" ]; do
    got1=$(curl -s --max-time 2 --cacert "$NET_CA" "https://localhost:$NET_PORT/.net-gen" 2>/dev/null)
    got2=$(curl -s --max-time 2 "http://127.0.0.1:$NET_HTTP_PORT/.net-gen" 2>/dev/null)
    [ "$got1" = "$_net_gen" ] && [ "$got2" = "$_net_gen" ] && return 0
    sleep 0.05
  done
  return 1
}

# _net_children PID: the processes whose parent is PID (from /proc: procps
# may not be installed).
_net_children() {
  local f pid ppid
  for f in /proc/[0-9]*/stat; do
    # (a process may end meanwhile: its file is gone)
    { read -r pid _ _ ppid _ <"$f"; } 2>/dev/null || continue
    [ "$ppid" = "$1" ] && echo "$pid"
  done
  return 0
}

_net_master_pid() { [ -s "$_net_pidfile" ] && tr -cd '0-9' <"$_net_pidfile"; }

net_start_nginx() {
  local try
  net_require
  [ -n "${NET_CA:-}" ] || net_make_ca "$NET_DIR/pki"
  # nginx daemonizes and outlives this shell if nothing stops it: an INT,
  # TERM or HUP must end the shell through its EXIT trap (net_cleanup).
  trap 'exit 129' HUP
  trap 'exit 130' INT
  trap 'exit 143' TERM
  for try in 1 2 3 4 5; do
    NET_PORT=$(free_port)
    NET_HTTP_PORT=$(free_port)
    [ "$NET_PORT" != "$NET_HTTP_PORT" ] || continue
    _net_gen=$((_net_gen + 1))
    _net_write_conf
    if _net_nginx; then break; fi
    # nginx exits at once on a bad configuration, after 2.5 s of retries on
    # a port taken meanwhile: only the latter is worth another try.
    grep -q 'Address already in use' "$NET_DIR/nginx.out" "$NET_ERROR_LOG" 2>/dev/null ||
      net_fail "nginx starts" "$(cat "$NET_DIR/nginx.out" 2>/dev/null)" "$(tail -n 20 "$NET_ERROR_LOG" 2>/dev/null)"
    : >"$NET_DIR/nginx.out"
    [ "$try" -lt 5 ] || net_fail "nginx starts (no free port found)" "$(tail -n 5 "$NET_ERROR_LOG")"
  done
  export NET_PORT NET_HTTP_PORT
  # A watchdog, in case this shell is killed with SIGKILL (no EXIT trap):
  # it stops nginx once the shell is gone.  Its output goes nowhere so that
  # it does not keep the TAP pipe open.
  local shell_pid=$$ master
  master=$(_net_master_pid)
  (
    trap - HUP INT TERM EXIT
    while kill -0 "$shell_pid" 2>/dev/null; do sleep 1; done
    [ -n "$master" ] && kill -TERM "$master" 2>/dev/null
  ) </dev/null >/dev/null 2>&1 &
  _net_watchdog=$!
  _net_wait_gen ||
    net_fail "nginx answers on https://localhost:$NET_PORT and http://127.0.0.1:$NET_HTTP_PORT" \
      "$(tail -n 20 "$NET_ERROR_LOG" 2>/dev/null)"
}

net_reload() {
  local err
  if ! err=$("$_net_nginx_bin" -t -q -p "$NET_DIR/" -c "$NET_DIR/nginx.conf" -e "$NET_ERROR_LOG" 2>&1 </dev/null); then
    note "nginx -t refused the configuration:" "$err"
    return 1
  fi
  local old_workers w
  old_workers=$(_net_children "$(_net_master_pid)")
  _net_gen=$((_net_gen + 1))
  _net_write_conf
  _net_nginx -s reload || { note "nginx -s reload failed: $(cat "$NET_DIR/nginx.out")"; return 1; }
  # The generation number tells the new workers' answers apart; an old
  # worker may still accept a connection until it has handled its QUIT, so
  # wait for the old ones to be gone too.
  _net_wait_gen || { note "nginx did not pick up the new configuration" "$(tail -n 10 "$NET_ERROR_LOG")"; return 1; }
  for w in $old_workers; do
    for _ in $(seq 600); do
      kill -0 "$w" 2>/dev/null || break
      sleep 0.05
    done
    kill -0 "$w" 2>/dev/null && note "an old nginx worker ($w) was still there 30 s after the reload"
  done
  return 0
}

net_cleanup() {
  local master kids
  master=$(_net_master_pid)
  if [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then
    kids=$(_net_children "$master")
    kill -TERM "$master" 2>/dev/null
    for _ in $(seq 100); do
      kill -0 "$master" 2>/dev/null || break
      sleep 0.05
    done
    # Not gone after 5 s: kill it and the workers it had.
    if kill -0 "$master" 2>/dev/null; then
      # shellcheck disable=SC2086 # a list of pids
      kill -KILL "$master" $kids 2>/dev/null
    fi
  fi
  rm -f "$_net_pidfile"
  if [ -n "$_net_watchdog" ]; then
    kill "$_net_watchdog" 2>/dev/null
    wait "$_net_watchdog" 2>/dev/null
    _net_watchdog=
  fi
  return 0
}

net_log_sync() {
  # One worker handles connections in turn and logs a request when it is
  # finalized, so once it has answered this probe, every request finished
  # before the probe was sent is in the log.
  [ -n "$NET_PORT" ] || return 0
  curl -s -o /dev/null --max-time 30 --cacert "$NET_CA" "https://localhost:$NET_PORT/.net-gen" ||
    echo "# net_log_sync: the probe failed; log counts may be early" >&2
}

net_log_count() {
  net_log_sync
  [ -f "$NET_ACCESS_LOG" ] || { echo 0; return 0; }
  grep -cF -- "$1" "$NET_ACCESS_LOG" 2>/dev/null || true
}

net_log_count_re() {
  net_log_sync
  [ -f "$NET_ACCESS_LOG" ] || { echo 0; return 0; }
  grep -cE -- "$1" "$NET_ACCESS_LOG" 2>/dev/null || true
}

net_access_log() { echo "$NET_ACCESS_LOG"; }

net_log_reset() {
  net_log_sync
  # nginx appends (O_APPEND): truncating in place is safe.
  : >"$NET_ACCESS_LOG"
  : >"$NET_ERROR_LOG"
}

# --- gpg keys for signing test images -----------------------------------------------------------
# The caller sets G (a fresh 0700 directory) and TMP.

gpgt() { gpg --batch --quiet --homedir "$G" --passphrase '' --pinentry-mode loopback "$@"; }
fpr() { gpgt --with-colons --list-keys "<$1>" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'; }

# newkey VAR EMAIL: a new ed25519 signing key, its fingerprint in VAR.
newkey() {
  gpgt --quick-gen-key "Test <$2>" ed25519 sign never >"$TMP/.gpg" 2>&1
  printf -v "$1" '%s' "$(fpr "$2")"
  [[ ${!1} =~ ^[0-9A-F]{40}$ ]] || net_fail "gpg key for $2" "$(cat "$TMP/.gpg")"
}
