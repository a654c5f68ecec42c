#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Shell completion: the bash script, sourced in bash after bash-completion,
# answers COMP_LINE/COMP_WORDS as bash would set them, for commands,
# subcommands, every option of every table (`actool __options`), option
# values, images of the store and pods; the zsh script parses and gives the
# same answers.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
: "${top_builddir:?top_builddir must be set}"

BASH_SCRIPT=$top_builddir/completion/actool
ZSH_SCRIPT=$top_builddir/completion/_actool
check "the bash completion is built" test -s "$BASH_SCRIPT"
check "the zsh completion is built" test -s "$ZSH_SCRIPT"

# The actool the scripts run is the one under test, found on PATH.
mkdir -p "$TMP/bin"
ln -s "$ACTOOL" "$TMP/bin/actool"
export PATH="$TMP/bin:$PATH"
"$ACTOOL" __options >"$TMP/options"
check "actool __options lists the tables" grep -q "^command	build	" "$TMP/options"

# comp LINE: what the completion offers for LINE (cursor at its end), one
# reply a line, sorted, in a bash where bash-completion and the script are
# loaded; COMP_WORDS split as readline splits them (at blanks and at the
# COMP_WORDBREAKS characters, each of which is a word of its own).
comp() {
  bash --norc --noprofile -c '
    [ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
    . "$1" || exit 1
    COMP_LINE=$2
    COMP_POINT=${#COMP_LINE}
    COMP_WORDS=()
    w="" line=$COMP_LINE
    while [ -n "$line" ]; do
      c=${line:0:1} line=${line:1}
      case $c in
      [[:blank:]]) [ -n "$w" ] && COMP_WORDS+=("$w"); w="" ;;
      [=:]) [ -n "$w" ] && COMP_WORDS+=("$w"); COMP_WORDS+=("$c"); w="" ;;
      *) case $w in [=:]) COMP_WORDS+=("$w"); w="" ;; esac; w+=$c ;;
      esac
    done
    [[ -n $w || $COMP_LINE == *[[:blank:]] ]] && COMP_WORDS+=("$w")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    complete -p actool >/dev/null || exit 1
    _actool actool "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" || exit 1
    printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$BASH_SCRIPT" "$1"
}
# is_comp DESCRIPTION LINE WANT...: the replies are exactly WANT.
is_comp() {
  local desc=$1 line=$2
  shift 2
  is "$desc" "$(comp "$line" | paste -sd' ')" "$(printf '%s\n' "$@" | sort | paste -sd' ')"
}
# has_comp DESCRIPTION LINE WANT...: the replies include every WANT.
has_comp() {
  local desc=$1 line=$2 got missing=""
  shift 2
  got=$(comp "$line")
  for w in "$@"; do grep -qxF -- "$w" <<<"$got" || missing+=" $w"; done
  is "$desc" "${missing# }" ""
}

# Commands and subcommands, as the table has them.
mapfile -t top < <(awk -F'\t' '$1 == "command" && $2 !~ / / { print $2 }' "$TMP/options")
check "the table has the commands" test "${#top[@]}" -gt 15
is_comp "actool TAB: every command" "actool " "${top[@]}"
is_comp "a command's prefix" "actool im" image
is_comp "after global options" "actool --debug --dir /tmp cat" cat-manifest
mapfile -t subs < <(awk -F'\t' '$1 == "command" && $2 ~ /^image / { sub(/^image /, "", $2); print $2 }' "$TMP/options")
is_comp "actool image TAB: its subcommands" "actool image " "${subs[@]}"
is_comp "help TAB: commands" "actool help ver" version
is_comp "layout label TAB: add and rm" "actool layout label " add rm

# Every option of every table is offered for its command (with a "=" when
# it takes a value), and so are the global options.
awk -F'\t' '$1 == "option" {
  print $2 "|" (length($3) == 1 ? "-" : "--") $3 ($4 == "bool" || $4 == "optional" ? "" : "=") }' "$TMP/options" >"$TMP/words"
bad=""
n=0
while IFS= read -r cmd; do
  got=$(comp "actool $cmd -")
  while IFS='|' read -r c word; do
    [ "$c" = "$cmd" ] || [ -z "$c" ] || continue
    n=$((n + 1))
    grep -qxF -- "$word" <<<"$got" || bad+=" [$cmd] $word"
  done <"$TMP/words"
done < <(awk -F'\t' '$1 == "command" && $3 !~ /subcommands/ { print $2 }' "$TMP/options")
check "the options were checked ($n)" test "$n" -gt 200
is "every option of every command is offered" "${bad# }" ""
is_comp "an option's prefix" "actool build --comp" --compression=
is_comp "a single-letter option" "actool image list -" --json --no-legend --output= --raw --full -q --filter= \
  $(awk -F'\t' '$1 == "option" && $2 == "" { d = length($3) == 1 ? "-" : "--"
    print ($4 == "bool" || $4 == "optional" ? d $3 : d $3 "=") }' "$TMP/options")
has_comp "run's options after the image (parsed by run itself)" "actool run example.com/x --" --exec= --mount= --user=

# Option values: after "=" (bash hands over the part after it), or as the
# next word.
is_comp "--compression=: the kinds" "actool build --compression=" gzip bzip2 xz none
is_comp "--compression=b" "actool build --compression=b" bzip2
is_comp "--compression as its own word" "actool patch-manifest --compression " gzip bzip2 xz none
is_comp "run --net=" "actool run --net=" private default host
is_comp "layout run --net=" "actool layout run --net=" private host
is_comp "validate --type=" "actool validate --type=" appimage layout manifest
is_comp "image export --format=" "actool image export --format=" aci oci
is_comp "--insecure-options=" "actool fetch --insecure-options=" none image tls http seccomp all
is_comp "--insecure-options: a comma list" "actool fetch --insecure-options=image,t" "image,tls"
is_comp "--insecure-options, later in the list" "actool fetch --insecure-options=image,h" "image,http"

# Files and directories.
mkdir -p "$TMP/files/layout-a" "$TMP/files/layout-b"
touch "$TMP/files/Containerfile"
is_comp "build LAYOUT: files" "actool build $TMP/files/lay" "$TMP/files/layout-a" "$TMP/files/layout-b"
is_comp "--file=: files" "actool build --file=$TMP/files/Con" "$TMP/files/Containerfile"
is_comp "--dir=: directories only" "actool --dir=$TMP/files/" "$TMP/files/layout-a" "$TMP/files/layout-b"
is_comp "after --: files" "actool run IMG -- $TMP/files/C" "$TMP/files/Containerfile"

# Images of the store (IDs and names), read from the --dir given on the line.
STORE=$TMP/store
mkdir -p "$TMP/hello/rootfs"
cp "$top_srcdir/fixtures/hello/manifest" "$TMP/hello/manifest"
"$ACTOOL" build "$TMP/hello" "$TMP/hello.aci" >/dev/null
id=$("$ACTOOL" --dir="$STORE" --insecure-options=image fetch "$TMP/hello.aci" 2>"$TMP/.err")
check "an image in the store" test -n "$id"
is_comp "image rm TAB: the store's IDs and names" "actool --dir=$STORE image rm " "$id" example.com/hello
is_comp "an ID's prefix" "actool --dir $STORE image render ${id:0:14}" "$id"
is_comp "a name's prefix (bash hands over the part after ':')" \
  "actool --dir=$STORE image cat-manifest example.com/h" example.com/hello
is_comp "layout init --from=: images" "actool --dir=$STORE layout init --from=exa" example.com/hello
is_comp "another store: none of them" "actool --dir=$TMP/files image rm " ""
has_comp "fetch: images and files" "actool --dir=$STORE fetch $TMP/hel" "$TMP/hello.aci" "$TMP/hello"

# zsh: the script parses, and its engine answers as bash's does.
if command -v zsh >/dev/null; then
  check "zsh parses _actool" zsh -n "$ZSH_SCRIPT"
  zc() {
    zsh -f -c 'autoload -Uz compinit; compinit -u -D; . "$1"
      emulate -L ksh
      shift; cword=$1; shift
      _actool_context "$cword" "$@"
      echo "$_actool_kind|$_actool_pfx|$_actool_cur|$(echo $_actool_cands)"' _ "$ZSH_SCRIPT" "$@" 2>&1
  }
  is "zsh: commands" "$(zc 1 actool ima)" "words||ima|$(awk -F'\t' '$1 == "command" && $2 !~ / / { print $2 }' "$TMP/options" | paste -sd' ')"
  is "zsh: --compression=" "$(zc 2 actool build --compression=x)" "words|--compression=|x|gzip bzip2 xz none"
  is "zsh: --insecure-options list" "$(zc 1 actool --insecure-options=image,t)" "words|--insecure-options=image,|t|none image tls http seccomp all"
  is "zsh: images" "$(zc 4 actool --dir="$STORE" image rm '')" "words|||$id example.com/hello"
  is "zsh: files" "$(zc 2 actool validate x)" "files||x|"
  check "zsh: the function is defined for actool" zsh -f -c '. "$1"; (( $+functions[_actool] ))' _ "$ZSH_SCRIPT"
else
  not_ok "zsh is installed (scripts/deps installs it)"
fi
# Pods: a detached pod's UUID (as root, with the executor).
if [ "$(id -u)" -eq 0 ] && [ -x /bin/busybox ]; then
  mkdir -p "$TMP/sh"
  "$top_srcdir/scripts/mkrootfs-busybox" "$TMP/sh/rootfs" >/dev/null
  cat >"$TMP/sh/manifest" <<'JSON'
{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/sh",
 "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
 "app": {"exec": ["/bin/sh", "-c", "sleep 60"], "user": "0", "group": "0"}}
JSON
  "$ACTOOL" build "$TMP/sh" "$TMP/sh.aci" >/dev/null
  uuid=$(timeout 30 "$ACTOOL" --dir="$STORE" --insecure-options=image run --detach "$TMP/sh.aci" 2>"$TMP/.err")
  if [[ $uuid =~ ^[0-9a-f-]{36}$ ]]; then
    ok "a detached pod runs"
    is_comp "status TAB: the pod's UUID" "actool --dir=$STORE status " "$uuid"
    is_comp "stop: a UUID's prefix" "actool --dir=$STORE stop ${uuid:0:4}" "$uuid"
    "$ACTOOL" --dir="$STORE" stop --force "$uuid" >/dev/null 2>&1
    for _ in $(seq 50); do
      "$ACTOOL" --dir="$STORE" status "$uuid" 2>/dev/null | grep -qx state=exited && break
      sleep 0.1
    done
    "$ACTOOL" --dir="$STORE" gc >/dev/null 2>&1
  else
    not_ok "a detached pod runs"
    diag "$(head -c 2000 "$TMP/.err")"
  fi
else
  skip "status TAB: the pod's UUID" "needs root and busybox-static"
fi
is_comp "no pods: nothing" "actool --dir=$TMP/files status " ""

done_testing
