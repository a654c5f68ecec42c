#!/usr/bin/env bash
# The tree follows its .clang-format: one TAP line per C source file.
. "$top_srcdir/tests/integration/lib.sh"

if ! command -v clang-format >/dev/null 2>&1; then
  echo "1..0 # SKIP clang-format not installed"
  exit 0
fi
cd "$top_srcdir" || exit 1
while IFS= read -r f; do
  if clang-format --dry-run -Werror "$f" >"$TMP/fmt" 2>&1; then
    ok "$f follows .clang-format"
  else
    not_ok "$f follows .clang-format (run clang-format -i $f)"
    diag "$(head -n 6 "$TMP/fmt")"
  fi
done < <(find common schema aci store trust discovery ace actool tests bench -path bench/cache -prune -o -name '*.[ch]' -print |
  LC_ALL=C sort)
done_testing
