#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Replay every fuzz target over its seeds and its regression inputs (one TAP
# result per target), with the main of tests/fuzz/standalone.c: the inputs
# that once broke a property keep being checked in every build.  And
# docs/fuzzing.md's table gives each target's properties: a row per
# target, and no row for a target that is not one.
set -u
: "${top_srcdir:?}" "${top_builddir:?}"

n=0
failed=0
plan=$(grep -cv '^\s*\(#\|$\)' "$top_srcdir/tests/fuzz/targets")
echo "1..$((2 * plan + 1))"
# the targets docs/fuzzing.md's table has rows for
rows=$(sed -n 's/^| `\([a-z-]*\)` |.*/\1/p' "$top_srcdir/docs/fuzzing.md")
while read -r name seeds; do
  case $name in '' | '#'*) continue ;; esac
  n=$((n + 1))
  dirs=()
  for d in "tests/fuzz/corpus/$name" "tests/fuzz/regressions/$name" $seeds; do
    [ -d "$top_srcdir/$d" ] && dirs+=("$top_srcdir/$d")
  done
  prog=$top_builddir/tests/fuzz/fuzz-$name
  if out=$("$prog" "${dirs[@]}" 2>&1) && [[ $out =~ ^([0-9]+)\ inputs$ ]] &&
    [ "${BASH_REMATCH[1]}" -gt 0 ]; then
    echo "ok $n - fuzz-$name: ${BASH_REMATCH[1]} seed and regression inputs"
  else
    failed=$((failed + 1))
    echo "not ok $n - fuzz-$name over ${dirs[*]#"$top_srcdir/"}"
    printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
  fi
  n=$((n + 1))
  if grep -qxF "$name" <<<"$rows"; then
    echo "ok $n - docs/fuzzing.md has a row for fuzz-$name"
  else
    failed=$((failed + 1))
    echo "not ok $n - docs/fuzzing.md has a row for fuzz-$name (its input and properties)"
  fi
done <"$top_srcdir/tests/fuzz/targets"
n=$((n + 1))
stray=$(grep -vxFf <(sed -n 's/^\([a-z][a-z-]*\)\( .*\)\?$/\1/p' "$top_srcdir/tests/fuzz/targets") <<<"$rows")
if [ -z "$stray" ]; then
  echo "ok $n - every row of docs/fuzzing.md's table is a target of tests/fuzz/targets"
else
  failed=$((failed + 1))
  echo "not ok $n - every row of docs/fuzzing.md's table is a target of tests/fuzz/targets"
  printf '# no such target: %s\n' $stray
fi
[ "$failed" -eq 0 ]
