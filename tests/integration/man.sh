#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The man pages (man/*.scd) against the tables the parser uses (actool
# __options): a page per command, naming every option of the command's table
# and of its usage line, the global options in actool(1), every command
# listed in actool(1); every page renders without a warning (as lintian
# checks them); help texts point at man pages rather than at docs/ paths.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
: "${top_builddir:?top_builddir must be set}"

MAN=$top_srcdir/man
"$ACTOOL" __options >"$TMP/options"
check "actool __options lists the tables" grep -q "^command	build	" "$TMP/options"

# page COMMAND: its source, man/actool-COMMAND.1.scd ("image list" ->
# actool-image-list).
page() { echo "$MAN/actool-${1// /-}.1.scd"; }
# documented PAGE WORD: PAGE shows WORD in bold, as *--name* or *--name*=...
documented() { grep -qF -- "*$2*" "$1"; }

missing_pages="" undocumented="" unlisted="" n=0
while IFS=$'\t' read -r kind cmd _ _ usage; do
  [ "$kind" = command ] || continue
  p=$(page "$cmd")
  if [ ! -f "$p" ]; then
    missing_pages+=" ${p##*/}"
    continue
  fi
  grep -qF "*actool-${cmd// /-}*(1)" "$MAN/actool.1.scd" || unlisted+=" $cmd"
  # Options of the usage line (run's per-image options are parsed by run).
  for w in $(grep -oE -- '--[a-z][a-z-]*' <<<"${usage//\\n/ }" | sort -u); do
    n=$((n + 1))
    documented "$p" "$w" || undocumented+=" [$cmd usage] $w"
  done
done <"$TMP/options"
while IFS='|' read -r cmd w; do
  n=$((n + 1))
  if [ -z "$cmd" ]; then
    documented "$MAN/actool.1.scd" "$w" || undocumented+=" [global] $w"
  else
    p=$(page "$cmd")
    [ -f "$p" ] && { documented "$p" "$w" || undocumented+=" [$cmd] $w"; }
  fi
done < <(awk -F'\t' '$1 == "option" { print $2 "|" (length($3) == 1 ? "-" : "--") $3 }' "$TMP/options")
check "options were compared ($n)" test "$n" -gt 150
is "every command has its page" "${missing_pages# }" ""
is "every option of every table and usage line is in its command's page" "${undocumented# }" ""
is "actool(1) lists every command's page" "${unlisted# }" ""

# Every page source has a page made from it, listed for installation.
sources=$(cd "$MAN" && ls ./*.scd | sed 's|^\./||; s|\.scd$||' | sort)
check "the pages are listed in man/local.mk" test -n "$sources"
for s in $sources; do
  grep -qE "man/$s( |\$)" "$MAN/local.mk" || not_ok "man/local.mk lists man/$s"
done
for f in actool-store.5 actool-auth.5; do
  check "$f is written" test -f "$MAN/$f.scd"
done

# Pages render without a warning (lintian's check: man --warnings).
bad=""
for s in $sources; do
  built=$top_builddir/man/$s
  [ -f "$built" ] || built=$top_srcdir/man/$s
  if [ ! -f "$built" ]; then
    bad+=" $s(not made)"
    continue
  fi
  out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$built" 2>&1 >/dev/null)
  [ -z "$out" ] || bad+=" $s: $out"
  grep -q '^\.SH "*NAME' "$built" || bad+=" $s(no NAME section)"
done
is "every page is made and renders without a warning" "${bad# }" ""
built=$top_builddir/man/actool-build.1
[ -f "$built" ] || built=$top_srcdir/man/actool-build.1
check "actool-build(1) renders its options" \
  bash -c 'MANWIDTH=80 man -l "$1" 2>/dev/null | grep -q -- "--compression=ALGO"' _ "$built"

# A page's SYNOPSIS has the forms of the usage line: one per line of it
# that starts "actool ", the other lines continuing the form before them
# (not forms of their own, which would lack the image, say).
forms=""
while IFS=$'\t' read -r kind cmd _ _ usage; do
  [ "$kind" = command ] || continue
  p=$(page "$cmd")
  [ -f "$p" ] || continue
  want=$(($(grep -o '\\nactool ' <<<"$usage" | wc -l) + 1))
  got=$(awk '/^# SYNOPSIS/ { on = 1; next } /^# / { on = 0 } on && /^\*actool /' "$p" | wc -l)
  [ "$got" -eq "$want" ] || forms+=" ${p##*/}($got, usage $want)"
done <"$TMP/options"
is "every page's SYNOPSIS has the forms of its usage line" "${forms# }" ""

# Help and pages name man pages, not paths of the source tree.
is "no page points at docs/*.md" "$(grep -l 'docs/[a-z]*\.md' "$MAN"/*.scd)" ""
while IFS=$'\t' read -r kind cmd _; do
  [ "$kind" = command ] || continue
  # shellcheck disable=SC2086 # "image list" is two words
  if "$ACTOOL" help $cmd | grep -q 'docs/[a-z]*\.md'; then
    not_ok "help $cmd points at no docs/ path"
  else
    ok "help $cmd points at no docs/ path"
  fi
done <"$TMP/options"
done_testing
