#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make install DESTDIR=...` installs the library, its headers, libappc.pc
# and actool; a program outside the tree (each examples/*.c, and the C of
# docs/api.md) builds with nothing but `pkg-config --cflags --libs libappc`
# and works; `make uninstall` takes everything away again.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
: "${top_builddir:?top_builddir must be set}"

# A make of its own, not a job of the make running the tests.
unset MAKEFLAGS MFLAGS MAKELEVEL
DEST=$TMP/dest
check "make install DESTDIR=..." make -s -C "$top_builddir" install DESTDIR="$DEST"

pc=$(find "$DEST" -name libappc.pc)
check "libappc.pc is installed" test -f "$pc"
libdir=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") pkg-config --variable=libdir libappc)
includedir=$(PKG_CONFIG_LIBDIR=$(dirname "$pc") pkg-config --variable=includedir libappc)
bindir=$(dirname "$(find "$DEST" -path '*/bin/actool' -type f)")
LIB=$DEST$libdir

check "the library is installed under its full version" test -f "$LIB/libappc.so.0.0.0"
is "libappc.so.0 (the soname) points at it" "$(readlink "$LIB/libappc.so.0")" libappc.so.0.0.0
is "libappc.so (for linking) points at the soname" "$(readlink "$LIB/libappc.so")" libappc.so.0
is "the public headers are installed, and only those" \
  "$(cd "$DEST$includedir/appc" && ls)" "$(cd "$top_srcdir/include/appc" && ls)"
is "the installed library exports what the built one does" \
  "$(nm -D --defined-only "$LIB/libappc.so.0.0.0" | awk '{print $3}')" \
  "$(nm -D --defined-only "$top_builddir/libappc.so.0" | awk '{print $3}')"

needed=$(readelf -d "$bindir/actool" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
check "the installed actool links libappc.so.0" grep -qxF libappc.so.0 <<<"$needed"
is "the installed actool carries no RUNPATH or RPATH" \
  "$(readelf -d "$bindir/actool" | grep -E '\((RUNPATH|RPATH)\)')" ""
check "the installed actool runs against the installed library" \
  env LD_LIBRARY_PATH="$LIB" "$bindir/actool" version
is "it loads the installed library" \
  "$(LD_LIBRARY_PATH="$LIB" ldd "$bindir/actool" |
    sed -n 's/^[[:space:]]*libappc\.so\.0 => \([^ ]*\) .*/\1/p' | xargs realpath)" \
  "$(realpath "$LIB/libappc.so.0.0.0")"

# Man pages, completions and documents.
ncommands=$("$ACTOOL" __options | grep -c '^command')
is "a man page per command and actool(1)" "$(find "$DEST" -path '*/man1/actool*.1' | wc -l)" "$((ncommands + 1))"
is "actool-store(5) and actool-auth(5)" \
  "$(find "$DEST" -path '*/man5/actool-*.5' -printf '%f\n' | sort | paste -sd' ')" "actool-auth.5 actool-store.5"
check "man finds actool-build(1) there" \
  bash -c 'MANPATH="$1" man -w actool-build | grep -q /man1/actool-build.1' _ "$(dirname "$(find "$DEST" -type d -name man1)")"
check "the bash completion is where bash-completion looks" \
  test -s "$(find "$DEST" -path '*/bash-completion/completions/actool')"
check "the zsh completion is installed" test -s "$(find "$DEST" -path '*/zsh/*/_actool')"
docdir=$(dirname "$(find "$DEST" -name LICENSE -path '*/doc/*')")
check "the licence is installed with the documents" grep -q "Apache License" "$docdir/LICENSE"
check "so are README.md and docs/" test -f "$docdir/README.md" -a -f "$docdir/docs/store.md"

# An image to look at.
mkdir -p "$TMP/layout/rootfs/bin"
cp "$top_srcdir/fixtures/hello/manifest" "$TMP/layout/manifest"
echo hello >"$TMP/layout/rootfs/bin/hello"
id=$("$ACTOOL" build "$TMP/layout" "$TMP/hello.aci")
check "actool builds the image" test -f "$TMP/hello.aci"

# Each example, copied out of the tree and built with the pkg-config line
# (plus the sanitizer flags the library was built with, when it was).
export PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_LIBDIR=$(dirname "$pc")
flags=$(pkg-config --cflags --libs libappc)
sanitize=$(grep -o -- '-fsanitize=[^ ]*' <<<"${BUILD_CFLAGS:-}" | paste -sd' ')
mkdir -p "$TMP/outside"
for src in "$top_srcdir"/examples/*.c; do
  name=$(basename "$src" .c)
  cp "$src" "$TMP/outside/"
  # shellcheck disable=SC2086 # the flags are words
  check "examples/$name.c builds with pkg-config --cflags --libs libappc alone" \
    "${BUILD_CC:-cc}" $sanitize -Wall -Wextra -Werror -o "$TMP/outside/$name" \
    "$TMP/outside/$name.c" $flags
  args=("$TMP/hello.aci")
  [ "$name" = store-import ] && args+=("$TMP/store")
  run_capture env LD_LIBRARY_PATH="$LIB" "$TMP/outside/$name" "${args[@]}"
  cp "$TMP/.out" "$TMP/outside/$name.out"
  is "examples/$name runs" "$status $(cat "$TMP/.err")" "0 "
  check "examples/$name prints the image ID actool gives" \
    grep -qxF "image ID: $id" "$TMP/outside/$name.out"
done
check "the store the example made is one actool reads" \
  bash -c '"$1" --dir="$2" image list -q | grep -qxF "$3"' _ "$ACTOOL" "$TMP/store" "$id"
check "aci-inspect names the image" grep -qxF "name: example.com/hello" "$TMP/outside/aci-inspect.out"
run_capture env LD_LIBRARY_PATH="$LIB" "$TMP/outside/aci-inspect" "$TMP/layout/manifest"
cp "$TMP/.err" "$TMP/bad.err"
is "aci-inspect of a non-ACI fails" "$status" 1
check "it says why" grep -q "not an ACI" "$TMP/bad.err"

# docs/api.md's C: its program, built as the examples are, prints the image
# ID; each fragment, inside a main() declaring what they use, builds too,
# and one that quotes the message it prints ( /* "..." */, ... a prefix's
# end) prints it.
awk -v dir="$TMP/api" 'BEGIN { system("mkdir -p " dir) }
  /^```c$/ { n++; file = dir "/block-" n ".c"; on = 1; next }
  /^```$/ { on = 0 } on { print > file }' "$top_srcdir/docs/api.md"
check "docs/api.md holds C blocks" test -f "$TMP/api/block-1.c"
cat >"$TMP/api/manifest.json" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/api",
 "labels":[{"name":"os","value":"linux"},{"name":"Os","value":"linux"}]}
JSON
for block in "$TMP"/api/block-*.c; do
  name=api.md:$(basename "$block" .c)
  prog=${block%.c}
  if grep -q '^int main' "$block"; then
    src=$block
  else
    src=$prog-main.c
    {
      printf '#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\n#include <appc/appc.h>\n\n'
      printf 'int main(int argc, char **argv)\n{\n  appc_error_t err = NULL;\n'
      printf '  struct appc_aci_info info = {0};\n'
      printf '  /* the bytes of a manifest, which are no image either */\n'
      printf '  const char *json = argv[1];\n  const void *bytes = json;\n  size_t len = strlen(json);\n'
      printf '  (void) argc, (void) bytes, (void) len;\n  {\n'
      cat "$block"
      printf '  }\n  appc_aci_info_clear(&info);\n  appc_error_release(&err);\n  return 0;\n}\n'
    } >"$src"
  fi
  # shellcheck disable=SC2086 # the flags are words
  check "$name builds with pkg-config --cflags --libs libappc" \
    "${BUILD_CC:-cc}" $sanitize -Wall -Wextra -Werror -o "$prog" "$src" $flags
  if grep -q '^int main' "$block"; then
    run_capture env LD_LIBRARY_PATH="$LIB" "$prog" "$TMP/hello.aci"
    is "$name prints the image ID actool gives" "$status $(grep '^image ID: ' "$TMP/.out")" \
      "0 image ID: $id"
    continue
  fi
  quoted=$(sed -n 's|.*/\* "\(.*\)" \*/$|\1|p' "$block" | sed 's/\\"/"/g')
  [ -n "$quoted" ] || continue
  run_capture env LD_LIBRARY_PATH="$LIB" "$prog" "$(cat "$TMP/api/manifest.json")"
  got=$(cat "$TMP/.err")
  if [[ $quoted == *... ]]; then got=${got:0:$((${#quoted} - 3))} quoted=${quoted%...}; fi
  is "$name prints the message it quotes" "$status $got" "0 $quoted"
done

check "make uninstall DESTDIR=..." make -s -C "$top_builddir" uninstall DESTDIR="$DEST"
is "nothing but directories is left" "$(find "$DEST" ! -type d)" ""

done_testing
