#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# libappc's ABI: the shared library exports exactly the functions that the
# public headers (include/appc/) declare, each listed in libappc.sym; every
# public header compiles on its own, in C and C++; actool links the library.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
: "${top_builddir:?top_builddir must be set}"

LIBAPPC=$top_builddir/libappc.so.0
INC=$top_srcdir/include

# The functions declared in the public headers, as the compiler sees them
# (-aux-info writes one prototype per declaration, with its file).
printf '#include <appc/appc.h>\n' >"$TMP/all.c"
gcc -I"$INC" -fsyntax-only -aux-info "$TMP/aux.txt" "$TMP/all.c" 2>"$TMP/.err"
is "the public headers compile together" "$(cat "$TMP/.err")" ""
# (static inline helpers such as appc_image_manifest_freep are not exported)
grep -F "/* $INC/appc/" "$TMP/aux.txt" | grep -v ' static ' | sed -n 's/.*[ *]\(appc_[a-z0-9_]*\) (.*/\1/p' | sort -u \
  >"$TMP/declared"
check "the public headers declare functions" test -s "$TMP/declared"

# What libappc.sym lists.
sed -n 's/^  \(appc_[a-z0-9_]*\);$/\1/p' "$top_srcdir/libappc.sym" | sort >"$TMP/listed"
is "libappc.sym lists each public function once" "$(uniq -d "$TMP/listed")" ""
# What the library exports (with its version node).
nm -D --defined-only "$LIBAPPC" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' \
  >"$TMP/exported.raw"
sed 's/@.*//' "$TMP/exported.raw" | sort >"$TMP/exported"
is "every exported symbol is versioned LIBAPPC_0" \
  "$(grep -v '@@LIBAPPC_0$' "$TMP/exported.raw")" ""

is "libappc.sym lists exactly what the headers declare" \
  "$(diff "$TMP/declared" "$TMP/listed" | grep '^[<>]')" ""
is "libappc.so exports exactly what libappc.sym lists" \
  "$(diff "$TMP/listed" "$TMP/exported" | grep '^[<>]')" ""
is "libappc.so's soname" "$(readelf -d "$LIBAPPC" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')" \
  libappc.so.0

# Static thread-local storage is zeroed in every process and thread that
# loads the library, used or not: three 128 KiB TLS buffers once cost every
# actool command some 100 page faults (1.5 ms on a virtual machine).
tls=$(readelf -lW "$LIBAPPC" | awk '$1 == "TLS" {print $6}') # hex
tls=$((${tls:-0}))
check "libappc.so's static TLS is at most 4 KiB ($tls bytes)" test "$tls" -le 4096

# Each header on its own: GNU C, ISO C11 with POSIX, C++.
for h in "$INC"/appc/*.h; do
  name=appc/$(basename "$h")
  printf '#include <%s>\n#include <%s>\n' "$name" "$name" >"$TMP/one.c"
  check "<$name> compiles on its own (gnu99, -pedantic), included twice" \
    gcc -std=gnu99 -pedantic -Wall -Wextra -Werror -I"$INC" -fsyntax-only "$TMP/one.c"
  check "<$name> compiles on its own (c11 + POSIX, clang)" \
    clang -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -I"$INC" -fsyntax-only \
    "$TMP/one.c"
  check "<$name> compiles on its own (C++)" \
    g++ -x c++ -Wall -Wextra -Werror -I"$INC" -fsyntax-only "$TMP/one.c"
  check "<$name> includes only <appc/...> and system headers" \
    bash -c '! grep -E "^#include \"" "$1"' _ "$h"
done

# Structures that can grow within soname 0: options carry `version`,
# results reserved space (<appc/appc.h>).  The manifest structures follow
# the spec's version; the containers below are a pointer and a count, and
# a store tree is only ever handed out by pointer.
exempt="appc_kv_list appc_string_list appc_isolator_list appc_trust_keys appc_trust_listing
  appc_discovery_metas appc_store_tree appc_error_s"
for h in "$INC"/appc/*.h; do
  [ "$(basename "$h")" = manifest.h ] && continue
  for s in $(sed -n 's/^struct \(appc_[a-z0-9_]*\) {$/\1/p' "$h") $(sed -n 's/^typedef struct \(appc_[a-z0-9_]*\) {$/\1/p' "$h"); do
    grep -qw "$s" <<<"$exempt" && continue
    body=$(awk -v s="$s" '$0 ~ "^(typedef )?struct " s " [{]$" {on=1} on {print} on && /^[}]/ {exit}' "$h")
    check "struct $s can grow: a version member or reserved space" \
      bash -c 'grep -qE "^  unsigned version;|reserved\[" <<<"$1"' _ "$body"
  done
done

# Every options member a later version added ("(version N)" in its
# comment) is one the library refuses when the caller's version does not
# cover it (common/abi.h), never one it silently ignores: each is listed as
# APPC_ABI_MEMBER(STRUCT, MEMBER, N) in the library's sources.
# (awk: the members declared after such a comment, up to the next comment.)
added=$(awk '
  /^struct appc_[a-z0-9_]* [{]$/ {s = $2; v = ""; next}
  /^[}];/ {s = ""; next}
  s == "" {next}
  /^ *\/\*/ {v = ""; if (match($0, /\(version [0-9]+/)) v = substr($0, RSTART + 9, RLENGTH - 9)}
  v != "" && /^  [^ \/*].*;/ {
    d = $0; sub(/;.*/, "", d); n = split(d, parts, ",")
    for (i = 1; i <= n; i++) {
      m = parts[i]; sub(/\[.*/, "", m); sub(/.*[ *}]/, "", m)
      if (m != "reserved") print s, m, v
    }
  }' "$INC"/appc/*.h)
check "the headers mark members of later versions" test -n "$added"
while read -r s m v; do
  check "$s.$m (version $v) is refused from older callers" \
    grep -rqF --include='*.c' "APPC_ABI_MEMBER($s, $m, $v)" "$top_srcdir/ace" "$top_srcdir/aci" \
    "$top_srcdir/common" "$top_srcdir/deb" "$top_srcdir/discovery" "$top_srcdir/fetch" \
    "$top_srcdir/layout" "$top_srcdir/oci" "$top_srcdir/schema" "$top_srcdir/store" \
    "$top_srcdir/trust" "$top_srcdir/containerfile"
done <<<"$added"

needed=$(readelf -d "$ACTOOL" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
check "actool links libappc.so.0" grep -qxF libappc.so.0 <<<"$needed"
is "the build tree's actool finds it beside itself" \
  "$(readelf -d "$ACTOOL" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')" '$ORIGIN/..'
is "the library actool loads is the build tree's" \
  "$(ldd "$ACTOOL" | sed -n 's/^[[:space:]]*libappc\.so\.0 => \([^ ]*\) .*/\1/p' | xargs realpath)" \
  "$(realpath "$LIBAPPC")"

done_testing
