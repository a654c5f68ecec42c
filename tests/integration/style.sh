#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The tree follows its .clang-format: one TAP line per C source file; every
# source file (C, shell, Python, make) names its licence in its first two
# lines; and modules include no other module's internal headers.
. "$top_srcdir/tests/integration/lib.sh"

cd "$top_srcdir" || exit 1
# The library's modules and actool: every directory whose local.mk
# Makefile.am includes, so that a new module is checked from its first day.
read -r -a modules < <(sed -n 's|^include \([a-z]*\)/local\.mk$|\1|p' Makefile.am | grep -vx tests | paste -sd' ')
check "Makefile.am names the modules (${modules[*]})" test "${#modules[@]}" -gt 10

missing=()
while IFS= read -r f; do
  head -n 2 "$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' || missing+=("$f")
done < <({
  # debian/ is in git, not in the tarball.
  find "${modules[@]}" include examples completion man $([ -d debian ] && echo debian) tests bench scripts .ci \
    -path bench/cache -prune -o -path 'debian/*/*' -prune -o -path tests/fuzz/corpus -prune -o \
    -path tests/fuzz/regressions -prune -o -path tests/fuzz/dict -prune -o \
    -type f \( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' -o -name '*.mk' -o -name '*.awk' -o -name '*.zsh' -o -perm -u+x \) -print
  ls Makefile.am configure.ac autogen.sh
} | LC_ALL=C sort)
check "the licence's full text is LICENSE" grep -q "Apache License" LICENSE
check "it is Apache-2.0, version 2.0" grep -q "Version 2.0, January 2004" LICENSE
if [ ${#missing[@]} -eq 0 ]; then
  ok "every source file starts with an SPDX-License-Identifier line"
else
  not_ok "every source file starts with an SPDX-License-Identifier line"
  diag "missing in: ${missing[*]}"
fi

# Modules use each other only through their declared headers: no module
# includes another's internal.h or private.h (tests may).
crossing=$(grep -rHn '#include "[a-z]*/\(internal\|private\)\.h"' "${modules[@]}" |
  awk -F: '{ split($3, inc, "\""); split(inc[2], p, "/"); split($1, f, "/"); if (f[1] != p[1]) print $1 ": " inc[2] }')
if [ -z "$crossing" ]; then
  ok "no module includes another module's internal.h or private.h"
else
  not_ok "no module includes another module's internal.h or private.h"
  diag "$crossing"
fi

# none_called FUNCTION WHY: no module's C source calls FUNCTION.
none_called() {
  local found
  found=$(grep -rHnE "(^|[^a-z_0-9])$1[[:space:]]*[(]" --include='*.c' "${modules[@]}")
  if [ -z "$found" ]; then
    ok "no module calls $1 ($2)"
  else
    not_ok "no module calls $1 ($2)"
    diag "$found"
  fi
}
# Stores may be used from separate threads at once (docs/api.md): no
# module keeps its place in a static of libc's, as strtok does (strtok_r).
none_called strtok "state shared between threads: strtok_r"

# Nor does it make a descriptor another thread's fork+exec would inherit:
# dup() clears close-on-exec (fcntl F_DUPFD_CLOEXEC keeps it).
none_called dup "no close-on-exec: F_DUPFD_CLOEXEC"

if ! command -v clang-format >/dev/null 2>&1; then
  not_ok "clang-format is installed (scripts/deps installs it)"
  done_testing
  exit
fi
while IFS= read -r f; do
  if clang-format --dry-run -Werror "$f" >"$TMP/fmt" 2>&1; then
    ok "$f follows .clang-format"
  else
    not_ok "$f follows .clang-format (run clang-format -i $f)"
    diag "$(head -n 6 "$TMP/fmt")"
  fi
done < <(find "${modules[@]}" include examples tests bench -path bench/cache -prune -o -name '*.[ch]' -print |
  LC_ALL=C sort)
done_testing
