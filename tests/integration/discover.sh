#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `actool discover` against a real HTTPS server (nginx, tests/integration/
# lib-net.sh): meta tags in clean and broken HTML, Link headers, walking up
# the name, redirects, 401 and credentials, URL templates and the
# every template that renders (each URL once), JSON output, certificate checks, plain HTTP, and the
# failures (nothing found, refused connection, 5xx, usage errors).
#
# Every template points at https://dl.example, which is never fetched:
# discover only prints URLs.  Pages are files under $NET_ROOT (nginx ignores
# the ?ac-discovery=1 query); locations in $NET_CONF_D add headers, status
# codes and authentication where a file cannot.
#
# shellcheck disable=SC2016,SC2154 # nginx's $variables are literal; $status comes from lib.sh
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
. "$top_srcdir/tests/integration/lib-net.sh" || exit 1
# lib.sh's trap only removes $TMP: nginx and the stalling server must be
# stopped too.
STALL_PID=
trap '[ -z "$STALL_PID" ] || kill "$STALL_PID" 2>/dev/null; net_cleanup; rm -rf "$TMP"' EXIT

net_require
command -v jq >/dev/null 2>&1 || net_fail "jq is installed (scripts/deps)"

D=https://dl.example
# The template most cases use.
TSTD="$D/{name}-{version}-{os}-{arch}.{ext}"
# {os} and {arch} default to the host's, in appc's spelling (spec/types.md).
case $(uname -m) in
  x86_64) ARCH=amd64 ;;
  i?86) ARCH=i386 ;;
  *) ARCH=$(uname -m) ;;
esac

# --- helpers ----------------------------------------------------------------

meta_ep() { printf '<meta name="ac-discovery" content="%s %s">' "$1" "$2"; }
meta_pk() { printf '<meta name="ac-discovery-pubkeys" content="%s %s">' "$1" "$2"; }

# page PATH HTML-LINE...: an HTML page served at https://localhost:PORT/PATH.
page() {
  local f=$NET_ROOT/$1
  shift
  mkdir -p "${f%/*}"
  printf '%s\n' '<!DOCTYPE html>' '<html><head><title>discovery</title>' "$@" \
    '</head><body><p>An image lives here.</p></body></html>' >"$f"
}

# conf NAME LINE...: a location file for the TLS server (read at start or
# by net_reload).
conf() {
  local f=$NET_CONF_D/$1.conf
  shift
  printf '%s\n' "$@" >"$f"
}

# ep BASE: the output line of an endpoint whose ACI URL is BASE.aci.
ep() { printf 'ACI: %s.aci, ASC: %s.aci.asc' "$1" "$1"; }
# std NAME VERSION [OS [ARCH]]: the line of $TSTD rendered.
std() { ep "$D/$1-$2-${3:-linux}-${4:-$ARCH}"; }
lines() { printf '%s\n' "$@"; }

# store [AUTH-JSON...]: a fresh store directory (printed), with one
# auth.d/N.json file per argument.
store() {
  local s i=0 j
  s=$(mktemp -d "$TMP/store.XXXXXX")
  if [ $# -gt 0 ]; then
    mkdir -p "$s/auth.d"
    for j; do
      i=$((i + 1))
      printf '%s\n' "$j" >"$s/auth.d/$i.json"
    done
  fi
  echo "$s"
}

# act ARGS...: actool ARGS (bounded in time), results in $status, $TMP/.out,
# $TMP/.err; the command line is kept for the diagnostics.
act() {
  last_cmd="actool $*"
  run_capture timeout 60 "$ACTOOL" "$@"
}
# disc ARGS...: `actool discover ARGS` with the test CA trusted, the TLS
# port and a fresh store.
disc() { act --dir="$(store)" --cacert="$NET_CA" --port="$NET_PORT" discover "$@"; }

_report() {
  note "command: $last_cmd" "exit $status" "stdout: $(head -c 2000 "$TMP/.out")" \
    "stderr: $(head -c 2000 "$TMP/.err" | tr -d '\0')" "$@"
}

# expect_out DESC WANT: the last command succeeded, cleanly, and printed
# exactly WANT (lines, in order).
expect_out() {
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err" && [ "$(cat "$TMP/.out")" = "$2" ]; then
    ok "$1"
  else
    not_ok "$1"
    _report "wanted stdout: $2"
  fi
}

# norm: lines sorted, and the URLs of a PublicKeys line sorted too (for
# results gathered from both HTML and headers, whose order is not specified).
norm() {
  local l
  while IFS= read -r l; do
    case $l in
      "PublicKeys: "*) printf 'PublicKeys: %s\n' "$(tr ',' '\n' <<<"${l#PublicKeys: }" | sort | paste -sd, -)" ;;
      *) printf '%s\n' "$l" ;;
    esac
  done | LC_ALL=C sort
}

# expect_out_anyorder DESC WANT: like expect_out, in any order.
expect_out_anyorder() {
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err" &&
    [ "$(norm <"$TMP/.out")" = "$(norm <<<"$2")" ]; then
    ok "$1"
  else
    not_ok "$1"
    _report "wanted stdout (any order): $2"
  fi
}

# expect_has DESC LINE: the last command succeeded and printed LINE.
expect_has() {
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err" && grep -qxF -- "$2" "$TMP/.out"; then
    ok "$1"
  else
    not_ok "$1"
    _report "wanted the line: $2"
  fi
}

# expect_lacks DESC STRING: the last command printed nothing containing STRING.
expect_lacks() {
  if ! crashed "$status" "$TMP/.err" && ! grep -qF -- "$2" "$TMP/.out"; then ok "$1"; else
    not_ok "$1"
    _report "wanted no line containing: $2"
  fi
}

# expect_fail DESC STATUS ERE...: the last command exited STATUS without
# crashing, printed nothing on stdout, and its stderr matches every ERE.
expect_fail() {
  local desc=$1 want=$2 re bad=
  shift 2
  for re; do grep -Eq -- "$re" "$TMP/.err" || bad="$bad /$re/"; done
  if [ "$status" -eq "$want" ] && ! crashed "$status" "$TMP/.err" && [ ! -s "$TMP/.out" ] && [ -z "$bad" ]; then
    ok "$desc"
  else
    not_ok "$desc"
    _report "wanted exit $want, empty stdout, stderr matching every of: $*"
  fi
}

# expect_count DESC GOT OP N: passes when [ GOT OP N ], e.g. -eq 1.
expect_count() {
  if [ "$2" -ge 0 ] 2>/dev/null && test "$2" "$3" "$4"; then ok "$1"; else
    not_ok "$1"
    note "count: $2 (wanted $3 $4)" "access log:" "$(tail -n 30 "$NET_ACCESS_LOG" | cut -c1-200)"
  fi
}

q='?ac-discovery=1 HTTP/1.1"'

# --- the server -------------------------------------------------------------

net_make_ca "$TMP/pki"

# Plain meta tags.
page plain/app "$(meta_ep localhost/plain/app "$TSTD")" "$(meta_pk localhost/plain "$D/plain.gpg")"

# A template with a terminal's escape sequence: an ESC that would erase
# the evil URL from the screen and show a trusted one in its place.
page esc/app "$(meta_ep localhost/esc "$(printf 'https://evil.example/{name}.{ext}\033[1K\033[100D https://trusted.example/x')")"

# Broken HTML; every m<N> template must be found, in document order, and
# nothing from the comment, the other prefixes or the script.
mkdir -p "$NET_ROOT/messy"
cat >"$NET_ROOT/messy/app" <<EOF
<!doctype html>
<HTML>
<HEAD>
<TITLE>Messy & broken</title>
<!-- <meta name="ac-discovery" content="localhost/messy $D/fake/{name}.{ext}"> -->
<META NAME="ac-discovery" CONTENT="localhost/messy $D/m1/{name}.{ext}">
<meta name='ac-discovery' content='localhost/messy $D/m2/{name}.{ext}'>
<meta content="   localhost/messy $D/m3/{name}.{ext}" name=ac-discovery>
<meta name="ac-discovery" content="localhost/other $D/other/{name}.{ext}">
<meta name="ac-discovery" content="localhost/messy/app/sub $D/deeper/{name}.{ext}">
<meta name=ac-discovery-pubkeys content="localhost/messy $D/messy.gpg" />
<Meta Content="localhost/messy $D/m4/{name}.{ext}" Name="ac-discovery"/>
<p>unclosed paragraph <b>bold <i>both
<table><tr><td>cell<td><meta name="ac-discovery" content="localhost/messy $D/m5/{name}.{ext}">
<tr><td>no closing tags at all
<body>
garbage: 1 < 2 && 3 > 2 &nbsp; &bogus; <<>> </div></span></html> <p <p>
<meta name="ac-discovery" content="localhost/messy $D/m6/{name}.{ext}">
<div><meta name="ac-discovery" content="localhost/messy $D/m7/{name}.{ext}?a=1&amp;b=2">
<meta name="ac-discovery" content="localhost/mess $D/m8/{name}.{ext}">
<div>never closed
EOF

# Link headers (RFC 8288), on pages without meta tags.
page lk1/app
conf lk1 "location = /lk1/app { add_header Link '<$D/lk1/{name}-{os}-{arch}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/lk1\", <$D/lk1.gpg>; rel=\"ac-discovery-pubkeys\"; prefix=\"localhost/lk1\"'; }"
page lk2/app
conf lk2 "location = /lk2/app {" \
  "  add_header Link '<$D/lk2/{name}-{os}-{arch}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/lk2\"';" \
  "  add_header Link '<$D/lk2.gpg>; rel=\"ac-discovery-pubkeys\"; prefix=\"localhost/lk2\"';" \
  "}"
# prefix before rel, rel unquoted, an extra parameter, and links that must
# not count (another rel, another prefix).
page lk3/app
conf lk3 "location = /lk3/app {" \
  "  add_header Link '<$D/style.css>; rel=stylesheet, <$D/lk3/{name}.{ext}>; prefix=\"localhost/lk3\"; type=\"text/html\"; rel=ac-discovery';" \
  "  add_header Link '<$D/elsewhere/{name}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/lk3x\"';" \
  "}"
# A comma inside the URI of a link is not a separator.
page lk5/app
conf lk5 "location = /lk5/app { add_header Link '<$D/lk5/a,b/{name}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/lk5\", <$D/lk5.gpg>; rel=\"ac-discovery-pubkeys\"; prefix=\"localhost/lk5\"'; }"
# Not HTML at all: only the header tells.
conf lk4 "location = /lk4/app {" \
  "  default_type application/json;" \
  "  add_header Link '<$D/lk4/{name}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/lk4\"' always;" \
  "  add_header Link '<$D/lk4.gpg>; rel=\"ac-discovery-pubkeys\"; prefix=\"localhost/lk4\"' always;" \
  "  return 200 '{\"not\": \"html\"}';" \
  "}"

# Relative Link targets (RFC 8288, 3.1): resolved against the URL of the
# response, after redirects; a template's {variables} stay.
page rel/app
conf rel "location = /rel/app { add_header Link '</img/{name}-{os}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/rel\", <keys.gpg>; rel=\"ac-discovery-pubkeys\"; prefix=\"localhost/rel\", <//cdn.localhost/{name}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/rel\"'; }"
page relr-target/sub/app
conf relr 'location = /relr/app { return 302 /relr-target/sub/app$is_args$args; }' \
  "location = /relr-target/sub/app { add_header Link '<../{name}.{ext}?v={version}>; rel=\"ac-discovery\"; prefix=\"localhost/relr\"'; }"
# A relative meta URL is used as it stands (the reference resolves none).
page relmeta/app "$(meta_ep localhost/relmeta "/img/{name}.{ext}")"

# HTML and Link headers on one page: both count.
page both/app "$(meta_ep localhost/both "$D/html/{name}-{os}-{arch}.{ext}")" "$(meta_pk localhost/both "$D/html.gpg")"
conf both "location = /both/app {" \
  "  add_header Link '<$D/link/{name}-{os}-{arch}.{ext}>; rel=\"ac-discovery\"; prefix=\"localhost/both\"';" \
  "  add_header Link '<$D/link.gpg>; rel=\"ac-discovery-pubkeys\"; prefix=\"localhost/both\"';" \
  "}"

# Walking up: only /walk/a answers (/walk/a/b/c and /walk/a/b are 404: the
# file /walk/a is not a directory).
page walk/a "$(meta_ep localhost/walk "$TSTD")" "$(meta_pk localhost/walk "$D/walk.gpg")"

# The host itself: https://localhost:PORT?ac-discovery=1 (the index page).
# Its tags are for localhost/top only, so the other walks that reach it find
# nothing there.
page index.html "$(meta_ep localhost/top "$TSTD")" "$(meta_pk localhost/top "$D/top.gpg")"

# Public keys from a higher prefix than the endpoints.
page pk/x/app "$(meta_ep localhost/pk "$TSTD")"
page pk.html "$(meta_pk localhost/pk "$D/pk.gpg")"
conf pk 'location = /pk { try_files /pk.html =404; }'

# Endpoints, and no public keys anywhere up the walk.
page nokeys/app "$(meta_ep localhost/nokeys "$TSTD")"
# Tags, none for this name.
page nomatch/app "$(meta_ep localhost/other "$TSTD")" "$(meta_pk localhost/other "$D/other.gpg")"

# Redirects: one hop, two hops, a loop.
page redir-target/app "$(meta_ep localhost/redir "$TSTD")" "$(meta_pk localhost/redir "$D/redir.gpg")"
conf redir 'location = /redir/app { return 302 /redir-target/app$is_args$args; }' \
  'location = /redirchain/app { return 301 /redir/app$is_args$args; }' \
  'location = /loop/app { return 302 /loop/app2$is_args$args; }' \
  'location = /loop/app2 { return 302 /loop/app$is_args$args; }'

# 5xx on the way up.
page five.html "$(meta_ep localhost/five "$TSTD")" "$(meta_pk localhost/five "$D/five.gpg")"
conf five 'location = /five/app { return 503; }' \
  'location = /five { try_files /five.html =404; }'

# Basic authentication on /basic and below; a bearer token on /bearer.
printf 'alice:%s\n' "$(openssl passwd -apr1 's3cret')" >"$NET_DIR/htpasswd"
page basic/app "$(meta_ep localhost/basic "$TSTD")"
conf basic "location ^~ /basic { auth_basic \"actool test\"; auth_basic_user_file $NET_DIR/htpasswd; }"
page bearer/app "$(meta_ep localhost/bearer "$TSTD")"
conf bearer 'location ^~ /bearer { if ($http_authorization != "Bearer t0ken") { return 401; } }'
# A redirect from localhost to 127.0.0.1 (another host name, the same
# server), where /basic asks for credentials.
conf toother 'location = /toother/app { return 302 https://127.0.0.1:$server_port/basic/app$is_args$args; }'
# /basic over plain http too.
printf '%s\n' "location ^~ /basic { auth_basic \"actool test\"; auth_basic_user_file $NET_DIR/htpasswd; }" \
  >"$NET_HTTP_CONF_D/basic.conf"

# Templates: every one that renders is listed, in document order, each URL
# once (the reference's rule; the "best matching" filter of an unmerged
# spec proposal is not applied).  With no label given, T1 and T2 both
# render to the same URL (one line); {channel} and {unknown} are left over.
page tpl/app "$(meta_ep localhost/tpl "$TSTD")" \
  "$(meta_ep localhost/tpl "$D/{name}-latest-{os}-{arch}.{ext}")" \
  "$(meta_ep localhost/tpl "$D/{name}.{ext}")" \
  "$(meta_ep localhost/tpl "$D/{name}-{channel}-{os}-{arch}.{ext}")" \
  "$(meta_ep localhost/tpl "$D/{name}-{unknown}.{ext}")"
page lbl/app "$(meta_ep localhost/lbl "$D/{os}/{arch}/{name}/{flavor}/{version}.{ext}")" \
  "$(meta_ep localhost/lbl "$D/{name}.{ext}")"

# Paths that get no answer at all (nginx's "return 444" drops the
# connection): the walk goes on to the parent, as the reference's.  Under
# /alldrop every path drops, and the host's page has nothing for it.
page drop "$(meta_ep localhost/drop "$TSTD")" "$(meta_pk localhost/drop "$D/drop.gpg")"
conf drop 'location = /drop/app { return 444; }' 'location ^~ /alldrop { return 444; }'

# A page sent gzip-encoded whatever the request said (a CDN may): decoded.
# And a gzip bomb: 5 MiB of spaces in some 5 KB, over the 4 MiB limit of
# a page, which counts the decoded bytes.
mkdir -p "$NET_ROOT/gz" "$NET_ROOT/gzbomb"
page gz/plain.html "$(meta_ep localhost/gz "$TSTD")" "$(meta_pk localhost/gz "$D/gz.gpg")"
gzip -c "$NET_ROOT/gz/plain.html" >"$NET_ROOT/gz/app"
{
  head -c $((5 << 20)) /dev/zero | tr '\0' ' '
  meta_ep localhost/gzbomb "$TSTD"
} | gzip -c >"$NET_ROOT/gzbomb/app"
conf gz 'location ~ ^/gz(bomb)?/app$ { default_type text/html; add_header Content-Encoding gzip; }'

# A page in UTF-16 (little-endian, no byte order mark): only the server's
# Content-Type says so, which discovery follows as a browser would.
page u16/plain.html "$(meta_ep localhost/u16 "$TSTD")" "$(meta_pk localhost/u16 "$D/u16.gpg")"
iconv -f UTF-8 -t UTF-16LE "$NET_ROOT/u16/plain.html" >"$NET_ROOT/u16/app"
cp "$NET_ROOT/u16/app" "$NET_ROOT/u16/bare"
conf u16 'location = /u16/app { types { } default_type "text/html; charset=utf-16le"; }' \
  'location = /u16/bare { types { } default_type text/html; }'

# '/' between attributes is white space to HTML5's tokenizer.
page slash/app "<meta/name=\"ac-discovery\"/content=\"localhost/slash $TSTD\">" \
  "<meta/name='ac-discovery-pubkeys'/content='localhost/slash $D/slash.gpg'/>"
# Meta tags after 300 nested elements, closed again: libxml2 gave up at
# 256 and lost them, where a browser (and the reference) finds them.
page deep/app "$(printf '<div>%.0s' {1..300})$(printf '</div>%.0s' {1..300})" \
  "$(meta_ep localhost/deep "$TSTD")" "$(meta_pk localhost/deep "$D/deep.gpg")"
# A NUL in a template (U+FFFD, as HTML5 reads it), and a meta tag after it.
page nul/app "$(meta_ep localhost/nul "$D/nul/{name}")" "$(meta_ep localhost/nul "$TSTD")" \
  "$(meta_pk localhost/nul "$D/nul.gpg")"
sed -i 's|nul/{name}|nul/{name}\x00x.{ext}|' "$NET_ROOT/nul/app"
# A page without a charset: one byte that is not UTF-8 (U+FFFD) changes
# nothing about the UTF-8 of a template after it.
page badutf8/app "<p>caf$(printf '\351')</p>" "$(meta_ep localhost/badutf8 "$D/caf$(printf '\303\251')/{name}.{ext}")"

# Served by the plain-HTTP server too (same root).
page http/app "$(meta_ep localhost/http "$TSTD")"
page downgrade-target/app "$(meta_ep localhost/downgrade "$TSTD")"
page leak-target/app "$(meta_ep localhost/leak "$TSTD")"

net_start_nginx

# --- meta tags --------------------------------------------------------------

disc localhost/plain/app
expect_out "meta tags: endpoint and public keys" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg")"
expect_count "meta tags: the request was https://localhost:PORT/plain/app?ac-discovery=1" \
  "$(net_log_count "\"GET /plain/app$q 200")" -ge 1

disc localhost/plain/app:1.2.3
expect_out "NAME:VERSION renders {version}" \
  "$(lines "$(std localhost/plain/app 1.2.3)" "PublicKeys: $D/plain.gpg")"

disc localhost/plain/app,os=freebsd,arch=aarch64,version=2
expect_out "labels override the os/arch defaults" \
  "$(lines "$(std localhost/plain/app 2 freebsd aarch64)" "PublicKeys: $D/plain.gpg")"

act --dir="$(store)" discover --port="$NET_PORT" --cacert "$NET_CA" localhost/plain/app
expect_out "global options after the command name" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg")"

disc localhost/plain/app localhost/walk/a/b/c
expect_out "several names, in order" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg" \
    "$(std localhost/walk/a/b/c latest)" "PublicKeys: $D/walk.gpg")"

disc 'localhost/plain/app,version='
expect_out "an empty version label renders {version} as latest (as the reference)" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg")"

# --- messy HTML -------------------------------------------------------------

disc localhost/slash/app
expect_out "'/' between attributes: <meta/name=.../content=...> is a meta tag" \
  "$(lines "$(std localhost/slash/app latest)" "PublicKeys: $D/slash.gpg")"

disc localhost/deep/app
expect_out "meta tags after 300 nested elements count" \
  "$(lines "$(std localhost/deep/app latest)" "PublicKeys: $D/deep.gpg")"

disc localhost/nul/app
expect_out "a NUL in a template is U+FFFD, and the meta tags after it count" \
  "$(lines "$(ep "$D/nul/localhost/nul/app$(printf '\357\277\275')x")" "$(std localhost/nul/app latest)" \
    "PublicKeys: $D/nul.gpg")"

disc localhost/badutf8/app
expect_out "a byte that is not UTF-8 leaves the UTF-8 after it as it is" \
  "$(ep "$D/caf$(printf '\303\251')/localhost/badutf8/app")"

disc localhost/esc/app
is "a URL's escape sequence is printed escaped, never as ESC" \
  "$status:$(grep -c $'\033' "$TMP/.out"):$(grep -c 'esc/app\.aci\\x1b\[1K\\x1b\[100D' "$TMP/.out")" "0:0:1"

disc localhost/messy/app
m() { ep "$D/m$1/localhost/messy/app"; }
expect_has "messy HTML: uppercase tag and attribute names" "$(m 1)"
expect_has "messy HTML: single-quoted attributes" "$(m 2)"
expect_has "messy HTML: content first, unquoted name, leading spaces in content" "$(m 3)"
expect_has "messy HTML: mixed case, self-closing" "$(m 4)"
expect_has "messy HTML: meta inside a broken table" "$(m 5)"
expect_has "messy HTML: meta in the body after garbage" "$(m 6)"
expect_has "messy HTML: character references decoded in content" \
  "ACI: $D/m7/localhost/messy/app.aci?a=1&b=2, ASC: $D/m7/localhost/messy/app.aci.asc?a=1&b=2"
expect_has "messy HTML: a prefix is a string prefix (localhost/mess)" "$(m 8)"
expect_lacks "messy HTML: a meta inside a comment does not count" "/fake/"
expect_lacks "messy HTML: metas for other prefixes do not count" "/other/"
expect_lacks "messy HTML: a prefix longer than the name does not count" "/deeper/"
expect_has "messy HTML: pubkeys with unquoted name and />" "PublicKeys: $D/messy.gpg"
expect_out "messy HTML: exactly these, in document order" \
  "$(lines "$(m 1)" "$(m 2)" "$(m 3)" "$(m 4)" "$(m 5)" "$(m 6)" \
    "ACI: $D/m7/localhost/messy/app.aci?a=1&b=2, ASC: $D/m7/localhost/messy/app.aci.asc?a=1&b=2" \
    "$(m 8)" "PublicKeys: $D/messy.gpg")"

# --- Link headers -----------------------------------------------------------

disc localhost/lk1/app
expect_out "Link: two links in one header" \
  "$(lines "$(ep "$D/lk1/localhost/lk1/app-linux-$ARCH")" "PublicKeys: $D/lk1.gpg")"

disc localhost/lk2/app
expect_out "Link: two headers" \
  "$(lines "$(ep "$D/lk2/localhost/lk2/app-linux-$ARCH")" "PublicKeys: $D/lk2.gpg")"

disc localhost/lk3/app
expect_out "Link: prefix before rel, unquoted rel, other rels and prefixes ignored" \
  "$(ep "$D/lk3/localhost/lk3/app")"

disc localhost/lk5/app
expect_out "Link: a comma inside <URI> is part of the URI" \
  "$(lines "$(ep "$D/lk5/a,b/localhost/lk5/app")" "PublicKeys: $D/lk5.gpg")"

disc localhost/lk4/app
expect_out "Link: headers of a JSON response" \
  "$(lines "$(ep "$D/lk4/localhost/lk4/app")" "PublicKeys: $D/lk4.gpg")"

disc localhost/both/app
expect_out_anyorder "HTML and Link headers together: both collected" \
  "$(lines "$(ep "$D/html/localhost/both/app-linux-$ARCH")" "$(ep "$D/link/localhost/both/app-linux-$ARCH")" \
    "PublicKeys: $D/html.gpg,$D/link.gpg")"

L=https://localhost:$NET_PORT
disc localhost/rel/app
expect_out "Link: relative targets resolved against the page's URL, {variables} kept" \
  "$(lines "$(ep "$L/img/localhost/rel/app-linux")" "$(ep "https://cdn.localhost/localhost/rel/app")" \
    "PublicKeys: $L/rel/keys.gpg")"

disc localhost/relr/app:1.0.0
expect_out "Link: a relative target resolved against the URL after the redirect" \
  "ACI: $L/relr-target/localhost/relr/app.aci?v=1.0.0, ASC: $L/relr-target/localhost/relr/app.aci.asc?v=1.0.0"

disc localhost/relmeta/app
expect_out "a relative meta URL is used as it stands (as the reference does)" \
  "$(ep /img/localhost/relmeta/app)"

# --- walking up -------------------------------------------------------------

net_log_reset
disc localhost/walk/a/b/c
expect_out "walk: found at /walk/a past two 404s" \
  "$(lines "$(std localhost/walk/a/b/c latest)" "PublicKeys: $D/walk.gpg")"
expect_count "walk: /walk/a/b/c was asked (404)" "$(net_log_count "\"GET /walk/a/b/c$q 404")" -ge 1
expect_count "walk: /walk/a/b was asked (404)" "$(net_log_count "\"GET /walk/a/b$q 404")" -ge 1
expect_count "walk: /walk/a answered (200)" "$(net_log_count "\"GET /walk/a$q 200")" -ge 1
expect_count "walk: stopped there (/walk and / not asked)" \
  "$(net_log_count_re '"GET /(walk)?\?ac-discovery=1 ')" -eq 0

net_log_reset
act --debug --dir="$(store)" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/walk/a/b/c
expect_out "--debug: the result on stdout is the same" \
  "$(lines "$(std localhost/walk/a/b/c latest)" "PublicKeys: $D/walk.gpg")"
if grep '404' "$TMP/.err" | grep -q 'walk/a/b/c' && grep '404' "$TMP/.err" | grep -Eq 'walk/a/b([^/]|$)'; then
  ok "--debug: the failed attempts (404) at walk/a/b/c and walk/a/b are listed on stderr"
else
  not_ok "--debug: the failed attempts (404) at walk/a/b/c and walk/a/b are listed on stderr"
  _report
fi

net_log_reset
disc localhost/top/x
expect_out "walk: up to the host (https://localhost:PORT?ac-discovery=1)" \
  "$(lines "$(std localhost/top/x latest)" "PublicKeys: $D/top.gpg")"
expect_count "walk: the host's page was asked" "$(net_log_count "\"GET /$q 200")" -ge 1

disc localhost/pk/x/app
expect_out "public keys from a higher prefix than the endpoints" \
  "$(lines "$(std localhost/pk/x/app latest)" "PublicKeys: $D/pk.gpg")"

disc localhost/nokeys/app
expect_out "endpoints but no public keys: exit 0, no PublicKeys line" "$(std localhost/nokeys/app latest)"

disc localhost/nothing/here
expect_fail "nothing found: exit 1, the name in the error" 1 'localhost/nothing/here'

disc localhost/nomatch/app
expect_fail "tags for other names only: exit 1" 1 'localhost/nomatch/app'

# A page with public keys only (its one template uses a label not given):
# the error's list of attempts names it too.
page keysonly "$(meta_ep localhost/keysonly "$D/{name}-{channel}.{ext}")" \
  "$(meta_pk localhost/keysonly "$D/ko.gpg")"
disc localhost/keysonly/app
expect_fail "a page with public keys only: exit 1, and the error lists that page" 1 \
  'localhost/keysonly/app: discovery found no ACI endpoints' 'keysonly/app\?ac-discovery=1: HTTP status 404' \
  "localhost:$NET_PORT/keysonly\\?ac-discovery=1: no ACI endpoints for localhost/keysonly/app \\(public keys only\\)"

# --- no answer at a path ----------------------------------------------------

net_log_reset
disc localhost/drop/app
expect_out "a dropped connection (nginx return 444): the walk goes on to the parent" \
  "$(lines "$(std localhost/drop/app latest)" "PublicKeys: $D/drop.gpg")"
expect_count "... /drop answered" "$(net_log_count "\"GET /drop$q 200")" -ge 1

disc localhost/alldrop/x/y
expect_fail "every path dropped: exit 1, the error lists each attempt" 1 \
  'localhost/alldrop/x/y: discovery found no ACI endpoints' 'alldrop/x/y\?ac-discovery=1: [^;]*;' \
  'alldrop/x\?ac-discovery=1: [^;]*;' 'alldrop\?ac-discovery=1: [^;]*;' \
  "localhost:$NET_PORT/\\?ac-discovery=1: no usable ac-discovery data"

# A stall at a path (no byte for ACTOOL_HTTP_TIMEOUT): the parent is asked.
# A server nginx cannot be: it answers /stall, and never anything below.
cat >"$TMP/stall.py" <<'EOF_PY'
import http.server, socketserver, ssl, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_GET(self):
        path = self.path.split('?')[0]
        if path != '/stall':
            time.sleep(120)
            return
        body = open(sys.argv[1], 'rb').read()
        self.send_response(200)
        self.send_header('Content-Type', 'text/html')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(('127.0.0.1', 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
s.socket = ctx.wrap_socket(s.socket, server_side=True)
open(sys.argv[2] + '.tmp', 'w').write(str(s.server_address[1]))
import os; os.rename(sys.argv[2] + '.tmp', sys.argv[2])
s.serve_forever()
EOF_PY
page stall.html "$(meta_ep localhost/stall "$TSTD")"
python3 "$TMP/stall.py" "$NET_ROOT/stall.html" "$TMP/stall.port" "$NET_SERVER_CERT" "$NET_SERVER_KEY" \
  2>"$TMP/stall.err" &
STALL_PID=$!
for _ in $(seq 100); do [ -s "$TMP/stall.port" ] && break; sleep 0.05; done
SP=$(cat "$TMP/stall.port" 2>/dev/null)
if [ -n "$SP" ]; then
  last_cmd="ACTOOL_HTTP_TIMEOUT=2 actool discover localhost/stall/app"
  run_capture env ACTOOL_HTTP_TIMEOUT=2 timeout 60 "$ACTOOL" --dir="$(store)" --cacert="$NET_CA" \
    --port="$SP" discover localhost/stall/app
  expect_out "a stalled path: the walk goes on to the parent" "$(std localhost/stall/app latest)"
  # Every path below /stall stalls: the walk's pages share one deadline,
  # which ends it (not 2 s for each of the five levels).
  t0=$(date +%s%N)
  last_cmd="ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=5 actool discover localhost/stall/a/b/c/d/e"
  run_capture env ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=5 timeout 60 "$ACTOOL" \
    --dir="$(store)" --cacert="$NET_CA" --port="$SP" discover localhost/stall/a/b/c/d/e
  ms=$((($(date +%s%N) - t0) / 1000000))
  expect_fail "stalls all the way: the walk ends at ACTOOL_HTTP_DEADLINE" 1 \
    'localhost/stall/a/b/c/d/e: discovery' 'within the 5 s deadline'
  expect_count "... after about 5 s, not 2 s for each level (ms)" "$ms" -lt 8000
else
  not_ok "the stalling server started" && note "$(cat "$TMP/stall.err")"
fi

# --- the server's charset ---------------------------------------------------

disc localhost/u16/app
expect_out "a UTF-16 page its Content-Type names (charset=utf-16le): read as such" \
  "$(lines "$(std localhost/u16/app latest)" "PublicKeys: $D/u16.gpg")"
# The same bytes without the charset: nothing to read (and the test's page
# is the one above).
disc localhost/u16/bare
expect_fail "... the same bytes served without it: no meta tags found" 1 \
  'localhost/u16/bare: discovery found no ACI endpoints'

# --- gzip -------------------------------------------------------------------

disc localhost/gz/app
expect_out "a gzip-encoded page (Content-Encoding: gzip) is decoded" \
  "$(lines "$(std localhost/gz/app latest)" "PublicKeys: $D/gz.gpg")"
disc localhost/gzbomb/app
expect_fail "a gzip bomb: refused at 4 MiB of decoded page" 1 'gzbomb/app' 'larger than 4194304 bytes'

# --- redirects --------------------------------------------------------------

disc localhost/redir/app
expect_out "302 followed" "$(lines "$(std localhost/redir/app latest)" "PublicKeys: $D/redir.gpg")"

disc localhost/redirchain/app
expect_out "301 then 302 followed" \
  "$(lines "$(std localhost/redirchain/app latest)" "PublicKeys: $D/redir.gpg")"

net_log_reset
disc localhost/loop/app
expect_fail "redirect loop: exit 1" 1 'localhost/loop/app'
expect_count "redirect loop: at most 10 redirects followed" \
  "$(net_log_count_re '"GET /loop/app2?\?ac-discovery=1 HTTP/1.1" 302')" -le 11

# --- 5xx --------------------------------------------------------------------

net_log_reset
act --debug --dir="$(store)" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/five/app
expect_out "5xx: walking continues past a 503" \
  "$(lines "$(std localhost/five/app latest)" "PublicKeys: $D/five.gpg")"
expect_count "5xx: /five/app answered 503" "$(net_log_count "\"GET /five/app$q 503")" -ge 1
if grep -q '503' "$TMP/.err"; then ok "5xx: --debug lists the 503"; else
  not_ok "5xx: --debug lists the 503"
  _report
fi

# --- authentication ---------------------------------------------------------

basic_ok='{"actoolKind":"auth","actoolVersion":"v1","domains":["localhost"],"type":"basic","credentials":{"user":"alice","password":"s3cret"}}'
basic_bad='{"actoolKind":"auth","actoolVersion":"v1","domains":["localhost"],"type":"basic","credentials":{"user":"alice","password":"wrong"}}'
basic_other='{"actoolKind":"auth","actoolVersion":"v1","domains":["example.com"],"type":"basic","credentials":{"user":"alice","password":"s3cret"}}'
bearer_ok='{"rktKind":"auth","rktVersion":"v1","domains":["localhost"],"type":"oauth","credentials":{"token":"t0ken"}}'
bearer_bad='{"rktKind":"auth","rktVersion":"v1","domains":["localhost"],"type":"oauth","credentials":{"token":"nope"}}'

net_log_reset
act --dir="$(store)" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/basic/app
expect_fail "401 without credentials: exit 1, the error says 401 and no credentials" 1 '401' '[Cc]redential'
expect_count "401 without credentials: the walk goes on up" "$(net_log_count "\"GET /$q")" -ge 1
# Credentials are what a repeated request would add: with none for the
# host, there is nothing to repeat.
expect_count "401 without credentials: not asked again (nothing to add)" \
  "$(net_log_count "\"GET /basic/app$q 401")" -eq 1

net_log_reset
act --dir="$(store "$basic_other")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/basic/app
expect_fail "401 with credentials for another host only: exit 1" 1 '401'
expect_count "credentials for another host are never sent" "$(net_log_count 'auth="Basic')" -eq 0

net_log_reset
act --dir="$(store "$basic_ok")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/basic/app
expect_out "401, then basic credentials from auth.d (actoolKind)" "$(std localhost/basic/app latest)"
expect_count "basic credentials: the authorized request succeeded" \
  "$(net_log_count_re "\"GET /basic/app\\?ac-discovery=1 HTTP/1.1\" 200 .* auth=\"Basic ")" -ge 1

act --dir="$(store "$basic_bad")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/basic/app
expect_fail "wrong basic credentials: still 401, exit 1" 1 '401'

net_log_reset
act --dir="$(store "$bearer_ok")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/bearer/app
expect_out "401, then an OAuth bearer token from auth.d (rktKind)" "$(std localhost/bearer/app latest)"
expect_count "bearer token sent as Authorization: Bearer" \
  "$(net_log_count_re "\"GET /bearer/app\\?ac-discovery=1 HTTP/1.1\" 200 .* auth=\"Bearer t0ken\"")" -ge 1

act --dir="$(store "$bearer_bad")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/bearer/app
expect_fail "wrong bearer token: still 401, exit 1" 1 '401'

# The 401 is named where it came from: after a redirect to another host,
# that host's URL (the credentials asked for are its own).
act --dir="$(store "$basic_ok")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/toother/app
expect_fail "a 401 after a redirect to another host names the URL that answered it" 1 \
  "https://127\.0\.0\.1:$NET_PORT/basic/app\?ac-discovery=1: 401 Unauthorized \(no credentials for its host in auth\.d\)"
err_lacks "... not the URL asked for" "toother/app?ac-discovery=1: 401"
# Over plain http the host's credentials are withheld: the error says
# that, not that there are none.
net_log_reset
act --dir="$(store "$basic_ok")" --port="$NET_HTTP_PORT" --insecure-options=http discover localhost/basic/app
expect_fail "401 over plain http, credentials for the host: the error says they go over https only" 1 \
  "http://localhost:$NET_HTTP_PORT/basic/app\?ac-discovery=1: 401 Unauthorized \(auth\.d's credentials for its host go over https only"
err_lacks "... not that there are none" "no credentials"
expect_count "... and none were sent over http" "$(net_log_count 'auth="Basic')" -eq 0

# --- templates --------------------------------------------------------------

disc localhost/tpl/app
expect_out "templates: no labels: all that render, duplicates removed, leftovers dropped" \
  "$(lines "$(std localhost/tpl/app latest)" "$(ep "$D/localhost/tpl/app")")"

disc localhost/tpl/app,channel=alpha
expect_out "templates: ,channel=alpha adds the {channel} template, the others stay" \
  "$(lines "$(std localhost/tpl/app latest)" "$(ep "$D/localhost/tpl/app")" \
    "$(ep "$D/localhost/tpl/app-alpha-linux-$ARCH")")"

disc localhost/tpl/app,version=1.0.0
expect_out "templates: ,version=1.0.0 renders {version}; the others stay" \
  "$(lines "$(std localhost/tpl/app 1.0.0)" "$(std localhost/tpl/app latest)" "$(ep "$D/localhost/tpl/app")")"

disc localhost/tpl/app:1.0.0
expect_out "templates: NAME:1.0.0 is ,version=1.0.0" \
  "$(lines "$(std localhost/tpl/app 1.0.0)" "$(std localhost/tpl/app latest)" "$(ep "$D/localhost/tpl/app")")"

disc localhost/tpl/app,version=1.0.0,channel=alpha
expect_out "templates: all kept, in document order" \
  "$(lines "$(std localhost/tpl/app 1.0.0)" "$(std localhost/tpl/app latest)" "$(ep "$D/localhost/tpl/app")" \
    "$(ep "$D/localhost/tpl/app-alpha-linux-$ARCH")")"

disc localhost/tpl/app,os=freebsd
expect_out "templates: ,os=freebsd" \
  "$(lines "$(std localhost/tpl/app latest freebsd)" "$(ep "$D/localhost/tpl/app")")"

disc localhost/lbl/app,flavor=debug
expect_out "labels in templates: {flavor} given" \
  "$(lines "$(ep "$D/linux/$ARCH/localhost/lbl/app/debug/latest")" "$(ep "$D/localhost/lbl/app")")"

disc localhost/lbl/app
expect_out "labels in templates: {flavor} missing, the other template" "$(ep "$D/localhost/lbl/app")"

# --- JSON -------------------------------------------------------------------

# json_is DESC WANT: stdout is one JSON document per name equal to WANT (a
# jq -s array of them), whitespace aside.
json_is() {
  local got want
  got=$(jq -cS -s . "$TMP/.out" 2>&1)
  want=$(jq -cS . <<<"$2")
  if [ "$status" -eq 0 ] && ! crashed "$status" "$TMP/.err" && [ "$got" = "$want" ]; then ok "$1"; else
    not_ok "$1"
    _report "got (normalised):  $got" "want (normalised): $want"
  fi
}
a() { printf '{"ACI":"%s.aci","ASC":"%s.aci.asc"}' "$1" "$1"; }

disc --json localhost/plain/app
json_is "--json: endpoints and public keys" \
  "[{\"ACIEndpoints\":[$(a "$D/localhost/plain/app-latest-linux-$ARCH")],\"PublicKeys\":[\"$D/plain.gpg\"]}]"

disc --json localhost/nokeys/app
json_is "--json: no public keys is an empty array" \
  "[{\"ACIEndpoints\":[$(a "$D/localhost/nokeys/app-latest-linux-$ARCH")],\"PublicKeys\":[]}]"

disc --json localhost/tpl/app,version=1.0.0,channel=alpha localhost/lk1/app
json_is "--json: one document per name" \
  "[{\"ACIEndpoints\":[$(a "$D/localhost/tpl/app-1.0.0-linux-$ARCH"),$(a "$D/localhost/tpl/app-latest-linux-$ARCH"),$(a "$D/localhost/tpl/app"),$(a "$D/localhost/tpl/app-alpha-linux-$ARCH")],\"PublicKeys\":[]},
    {\"ACIEndpoints\":[$(a "$D/lk1/localhost/lk1/app-linux-$ARCH")],\"PublicKeys\":[\"$D/lk1.gpg\"]}]"

# --- certificates -----------------------------------------------------------

net_log_reset
act --dir="$(store)" --port="$NET_PORT" discover localhost/walk/a/b/c
expect_fail "unknown CA (no --cacert): refused, the error names the certificate" 1 '[Cc]ertificate'
expect_count "unknown CA: one TLS attempt, no walking up" \
  "$(net_log_sync; grep -ac 'SSL_do_handshake() failed' "$NET_ERROR_LOG")" -eq 1
expect_count "unknown CA: no request got through" "$(net_log_count GET)" -eq 0

act --dir="$(store)" --cacert="$NET_OTHER_CA" --port="$NET_PORT" discover localhost/plain/app
expect_fail "an unrelated CA of the same name (--cacert): refused" 1 '[Cc]ertificate'

act --dir="$(store)" --insecure-options=image --port="$NET_PORT" discover localhost/plain/app
expect_fail "--insecure-options=image does not skip certificate checks" 1 '[Cc]ertificate'

act --dir="$(store)" --insecure-options=tls --port="$NET_PORT" discover localhost/plain/app
expect_out "--insecure-options=tls: accepted without --cacert" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg")"

act --dir="$(store)" --insecure-options=all --port="$NET_PORT" discover localhost/plain/app
expect_out "--insecure-options=all: accepted without --cacert" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg")"

last_cmd="ACTOOL_CACERT=\$NET_CA actool discover"
run_capture env ACTOOL_CACERT="$NET_CA" timeout 60 "$ACTOOL" --dir="$(store)" --port="$NET_PORT" discover localhost/plain/app
expect_out "ACTOOL_CACERT trusts the CA" \
  "$(lines "$(std localhost/plain/app latest)" "PublicKeys: $D/plain.gpg")"

# The certificate is for localhost and 127.0.0.1: at 127.0.0.2 (same server)
# the host name check must refuse it.
conf alias "listen 127.0.0.2:$NET_PORT ssl;"
if net_reload && curl -s -o /dev/null -k "https://127.0.0.2:$NET_PORT/plain/app"; then
  act --dir="$(store)" --cacert="$NET_CA" --port="$NET_PORT" discover 127.0.0.2/plain/app
  expect_fail "a certificate for another host name: refused" 1 '.'
else
  skip "a certificate for another host name: refused" "cannot listen on 127.0.0.2"
fi
rm -f "$NET_CONF_D/alias.conf"

# --- plain HTTP -------------------------------------------------------------

net_log_reset
act --dir="$(store)" --cacert="$NET_CA" --port="$NET_HTTP_PORT" discover localhost/http/app
expect_fail "a plain-HTTP server without --insecure-options=http: exit 1" 1 '.'
expect_count "plain HTTP refused: no http:// request" \
  "$(net_log_count "$NET_HTTP_PORT \"GET ")" -eq 0
expect_count "plain HTTP refused: one (TLS) attempt, no walking up" \
  "$(net_log_count "$NET_HTTP_PORT ")" -eq 1

net_log_reset
act --dir="$(store)" --cacert="$NET_CA" --port="$NET_HTTP_PORT" --insecure-options=http discover localhost/http/app
expect_out "--insecure-options=http: http:// after https:// failed" "$(std localhost/http/app latest)"
act --dir="$(store)" --port="$NET_HTTP_PORT" --insecure-options=tls,http discover localhost/http/app
expect_out "--insecure-options=tls,http (a list)" "$(std localhost/http/app latest)"
act --dir="$(store)" --port="$NET_HTTP_PORT" discover --insecure localhost/http/app
expect_out "discover --insecure (the reference's flag): tls and http" "$(std localhost/http/app latest)"
expect_count "--insecure-options=http: the http:// request" \
  "$(net_log_count "$NET_HTTP_PORT \"GET /http/app$q 200")" -ge 1

# An https page redirecting to http:// must not be followed.  And
# credentials for localhost, once asked for, must not follow a redirect to
# another host (127.0.0.1: the same server, a different name).
conf downgrade "location = /downgrade/app { return 302 http://localhost:$NET_HTTP_PORT/downgrade-target/app\$is_args\$args; }"
conf tofile 'location = /tofile/app { return 302 file:///etc/passwd; }'
conf leak 'location = /leak/app {' \
  '  if ($http_authorization = "") { return 401; }' \
  "  return 302 https://127.0.0.1:$NET_PORT/leak-target/app\$is_args\$args;" \
  '}'
# The same answers at a deeper path than a good page: the walk goes on to
# the parent, as after a 404 (a redirect loop, a redirect to plain http, a
# 404 of 5 MB, over a page's 4 MiB).
conf walkon 'location = /loopp/app { return 302 /loopp/app2$is_args$args; }' \
  'location = /loopp/app2 { return 302 /loopp/app$is_args$args; }' \
  "location = /downp/app { return 302 http://localhost:$NET_HTTP_PORT/downgrade-target/app\$is_args\$args; }" \
  'location = /bigp/app { error_page 404 /big404.html; return 404; }' \
  'location = /badlocp/app { return 302 "https://[::1/x"; }'
# A redirect to what is no URL (a port above 65535): refused, naming it.
conf badloc 'location = /badloc/app { return 302 "https://localhost:99999/x"; }'
head -c 5000000 /dev/zero | tr '\0' x >"$NET_ROOT/big404.html"
for p in loopp downp bigp badlocp; do page "$p" "$(meta_ep "localhost/$p" "$TSTD")"; done
if net_reload; then
  net_log_reset
  for p in loopp:"a redirect loop" downp:"a redirect to plain http" bigp:"a 404 of 5 MB" \
    badlocp:"a redirect to a malformed URL"; do
    disc "localhost/${p%%:*}/app"
    expect_out "${p#*:} at a path: the walk goes on to the parent" "$(std "localhost/${p%%:*}/app" latest)"
  done
  expect_count "... the redirect to plain http not followed all the same" \
    "$(net_log_count "$NET_HTTP_PORT \"GET ")" -eq 0
  act --debug --dir="$(store)" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/downp/app
  cp "$TMP/.err" "$TMP/downp.err"
  check "... but refused, and the parent tried" \
    grep -q 'from https to plain http is not followed; trying the parent' "$TMP/downp.err"
  net_log_reset
  disc localhost/downgrade/app
  expect_fail "a redirect from https:// to http:// is not followed" 1 'localhost/downgrade/app' \
    "redirected to http://localhost:$NET_HTTP_PORT/downgrade-target/app" 'from https to plain http is not followed'
  expect_count "https -> http redirect: the http server got no request" \
    "$(net_log_count "$NET_HTTP_PORT \"GET ")" -eq 0
  disc localhost/tofile/app
  expect_fail "a redirect to file:// is refused, naming the rule (no hint about plain http)" 1 \
    'redirected to file:///etc/passwd, whose scheme is never followed'
  cp "$TMP/.err" "$TMP/tofile.err"
  check "... and the message does not suggest --insecure-options=http" \
    bash -c '! grep -q "insecure-options=http allows" "$1"' _ "$TMP/tofile.err"
  disc localhost/badloc/app
  expect_fail "a redirect to a malformed URL is refused, naming it and what is wrong" 1 \
    "localhost:$NET_PORT/badloc/app\?ac-discovery=1: redirected to https://localhost:99999/x, which is not a valid URL: Port number" \
    "badloc\?ac-discovery=1: HTTP status 404"

  net_log_reset
  act --dir="$(store "$basic_ok")" --cacert="$NET_CA" --port="$NET_PORT" discover localhost/leak/app
  expect_out "credentials, then a redirect to another host name: followed" "$(std localhost/leak/app latest)"
  expect_count "the credentials are not sent to the other host" \
    "$(net_log_count_re '"GET /leak-target/app\?ac-discovery=1 HTTP/1.1" 200 .* auth="-"')" -ge 1
else
  not_ok "nginx reloaded with the https -> http redirect and the redirect to 127.0.0.1"
fi

# --- connection refused -----------------------------------------------------

closed=$(free_port)
t0=$(date +%s%N)
act --debug --dir="$(store)" --cacert="$NET_CA" --port="$closed" discover localhost/cr/a/b
t1=$(date +%s%N)
expect_fail "connection refused: exit 1" 1 '.'
expect_count "connection refused: fails fast (ms)" "$(((t1 - t0) / 1000000))" -lt 25000
if grep -Eq 'localhost(:[0-9]+)?/cr(/a)?([^/]|$)' "$TMP/.err"; then
  not_ok "connection refused: only one attempt, no walking up"
  _report
else
  ok "connection refused: only one attempt, no walking up"
fi

# --- usage errors -----------------------------------------------------------

act --dir="$(store)" discover
expect_fail "no name: usage error (2)" 2 '.'
act --dir="$(store)" discover --json
expect_fail "--json and no name: usage error (2)" 2 '.'
# A malformed name is invalid input (exit 1, naming it), not a usage error:
# the command line itself was well formed (actool-cli.md, exit status).
act --dir="$(store)" --port="$NET_PORT" discover 'localhost/app,=x'
expect_fail "an empty label name: invalid input (1)" 1 'localhost/app,=x'
act --dir="$(store)" --port="$NET_PORT" discover 'localhost/app:1:2'
expect_fail "two colons: invalid input (1)" 1 'colon'

done_testing
