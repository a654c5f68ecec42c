#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# actool build: every compression, image IDs, reproducibility, --overwrite,
# no partial output on failure or interruption, --owner-root, and a rootfs
# with every kind of file extracted back with GNU tar and compared field by
# field with its source.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

# --- helpers ----------------------------------------------------------------

# mk_layout DIR: a small valid image layout.
mk_layout() {
  mkdir -p "$1/rootfs/bin" "$1/rootfs/etc" "$1/rootfs/empty"
  cat >"$1/manifest" <<'JSON'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/build-test","labels":[{"name":"version","value":"1.0.0"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],"app":{"exec":["/bin/hello"],"user":"0","group":"0"}}
JSON
  printf '#!/bin/sh\necho hello\n' >"$1/rootfs/bin/hello"
  chmod 0755 "$1/rootfs/bin/hello"
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/rootfs/etc/passwd"
  ln -s hello "$1/rootfs/bin/hi"
  head -c 200000 /dev/urandom >"$1/rootfs/etc/random.bin"
}

# decompress FILE COMPRESSION: the tar stream inside FILE.
decompress() {
  case $2 in
    gzip) gzip -dc -- "$1" ;;
    bzip2) bzip2 -dc -- "$1" ;;
    xz) xz -dc -- "$1" ;;
    none) cat -- "$1" ;;
  esac
}

# compression_of FILE: gzip, bzip2, xz, none (a tar) or unknown, from magic bytes.
compression_of() {
  local head
  head=$(od -An -tx1 -N6 -- "$1" | tr -d ' \n')
  case $head in
    1f8b*) echo gzip ;;
    425a68*) echo bzip2 ;;
    fd377a585a00) echo xz ;;
    *) if [ "$(dd if="$1" bs=1 skip=257 count=5 2>/dev/null)" = ustar ]; then echo none; else echo unknown; fi ;;
  esac
}

# leftovers DIR EXPECTED...: names in DIR (hidden ones too) other than EXPECTED.
leftovers() {
  local dir=$1
  shift
  (cd "$dir" && ls -A) | grep -vxF -f <(printf '%s\n' "$@" "") || true
}

# tree_manifest DIR: one line per entry of DIR (itself included), sorted by
# path: type, mode (with setuid/setgid/sticky), uid, gid, mtime, then per
# type the size and content hash, link target, device numbers; xattrs; and
# for files with several links the first path of the same inode.
tree_manifest() {
  (
    cd "$1" || exit 1
    declare -A first=()
    find . -print0 | LC_ALL=C sort -z | while IFS= read -r -d '' p; do
      IFS='|' read -r type mode uid gid mtime size major minor ino nlink < <(stat -c '%F|%a|%u|%g|%Y|%s|%t|%T|%i|%h' -- "$p")
      line="$p type=$type mode=$mode uid=$uid gid=$gid"
      case $type in
        symbolic\ link) line+=" target=$(readlink -- "$p")" ;; # GNU tar does not restore symlink mtimes everywhere
        directory) line+=" mtime=$mtime" ;;
        regular*)
          line+=" mtime=$mtime size=$size sha256=$(sha256sum <"$p" | cut -c1-64)"
          if [ "$nlink" -gt 1 ]; then
            [ -n "${first[$ino]:-}" ] || first[$ino]=$p
            line+=" links=$nlink same-as=${first[$ino]}"
          fi
          ;;
        character\ special\ file | block\ special\ file) line+=" mtime=$mtime dev=$((16#$major)),$((16#$minor))" ;;
        *) line+=" mtime=$mtime" ;;
      esac
      x=$(getfattr -h --absolute-names -d -m - -e hex -- "$p" 2>/dev/null | grep -v -e '^#' -e '^$' -e '^security\.selinux' | LC_ALL=C sort | tr '\n' ' ')
      [ -z "$x" ] || line+=" xattrs=$x"
      printf '%s\n' "$line"
    done
  )
}

# --- every compression ------------------------------------------------------

L=$TMP/layout
mk_layout "$L"
mkdir -p "$TMP/out"
for comp in gzip bzip2 xz none no-compression no-compression-none default; do
  case $comp in
    no-compression) args=(--no-compression); want=none ;;
    no-compression-none) args=(--no-compression --compression=none); want=none ;;
    default) args=(); want=gzip ;;
    *) args=(--compression="$comp"); want=$comp ;;
  esac
  out=$TMP/out/img-$comp.aci
  run_capture "$ACTOOL" build "${args[@]}" "$L" "$out"
  if [ "$status" -ne 0 ] || crashed "$status" "$TMP/.err"; then
    not_ok "build ${args[*]}: exit 0"
    note "exit $status" "stderr: $(head -c 2000 "$TMP/.err")"
    continue
  fi
  ok "build ${args[*]}: exit 0"
  id=$(cat "$TMP/.out")
  is "build ${args[*]}: prints one image ID" "$(grep -cE '^sha512-[0-9a-f]{128}$' "$TMP/.out")/$(wc -l <"$TMP/.out")" "1/1"
  is "build ${args[*]}: the output is $want" "$(compression_of "$out")" "$want"
  is "build ${args[*]}: the image ID is the SHA-512 of the tar" "$id" "sha512-$(decompress "$out" "$want" | sha512sum | cut -c1-128)"
  names=$(decompress "$out" "$want" | tar -tf - 2>&1)
  if [ "$(grep -cx manifest <<<"$names")" -eq 1 ] && grep -qx 'rootfs/\?' <<<"$names" &&
    ! grep -Ev '^(manifest|rootfs/?|rootfs/.*)$' <<<"$names" | grep -q .; then
    ok "build ${args[*]}: one manifest, everything else under rootfs/"
  else
    not_ok "build ${args[*]}: one manifest, everything else under rootfs/"
    note "entries: $names"
  fi
  check_clean "build ${args[*]}: validate accepts it" "$ACTOOL" validate "$out"
  check_clean "build ${args[*]}: validate --type=appimage accepts it" "$ACTOOL" validate --type=appimage "$out"
  # From a pipe, which cannot be read twice: its type is told by the bytes
  # read, which the validation then reads again.
  run_capture bash -c 'cat "$2" | "$1" --debug validate /dev/stdin' _ "$ACTOOL" "$out"
  is "build ${args[*]}: validate accepts it from a pipe" "$status $(cat "$TMP/.err")" \
    "0 /dev/stdin: valid app container image"
  run_capture "$ACTOOL" --debug validate "$out"
  if [ "$status" -eq 0 ] && grep -q "img-$comp.aci: valid" "$TMP/.err"; then ok "build ${args[*]}: validate --debug says valid"; else
    not_ok "build ${args[*]}: validate --debug says valid"
    note "exit $status" "stderr: $(head -c 2000 "$TMP/.err")"
  fi
  run_capture "$ACTOOL" cat-manifest "$out"
  is "build ${args[*]}: cat-manifest prints the manifest" "$status:$(jq -cS . <"$TMP/.out" 2>&1)" "0:$(jq -cS . <"$L/manifest")"
  run_capture "$ACTOOL" cat-manifest --pretty-print "$out"
  is "build ${args[*]}: cat-manifest --pretty-print prints the same JSON" "$status:$(jq -cS . <"$TMP/.out" 2>&1)" "0:$(jq -cS . <"$L/manifest")"
  # Reproducible: the same layout gives the same bytes.
  run_capture "$ACTOOL" build "${args[@]}" "$L" "$TMP/out/again-$comp.aci"
  if [ "$status" -eq 0 ] && cmp -s "$out" "$TMP/out/again-$comp.aci" && [ "$(cat "$TMP/.out")" = "$id" ]; then
    ok "build ${args[*]}: reproducible (same bytes, same ID)"
  else
    not_ok "build ${args[*]}: reproducible (same bytes, same ID)"
    note "exit $status; $(cmp "$out" "$TMP/out/again-$comp.aci" 2>&1)"
  fi
done
ids=$(for c in gzip bzip2 xz none; do decompress "$TMP/out/img-$c.aci" "$c" | sha512sum; done | sort -u | wc -l)
is "every compression wraps the same tar" "$ids" 1
# A copy of the layout with later time stamps gives the same image when only
# the layout directory itself differs.
cp -a "$L" "$TMP/layout-copy"
touch "$TMP/layout-copy"
run_capture "$ACTOOL" build "$TMP/layout-copy" "$TMP/out/copy.aci"
is "a copy of the layout gives the same image" "$status:$(cat "$TMP/.out")" "0:$(gzip -dc "$TMP/out/img-gzip.aci" | sha512sum | sed 's/^/sha512-/; s/ .*//')"

# Images GNU tar writes, in each of its formats: pre-POSIX (v7) headers have
# no "ustar" magic and are a tar all the same, uncompressed as inside gzip.
for fmt in v7 ustar gnu posix; do
  (cd "$L" && tar --format=$fmt --owner=0 --group=0 -cf "$TMP/out/tar-$fmt.aci" manifest rootfs)
  gzip -c "$TMP/out/tar-$fmt.aci" >"$TMP/out/tar-$fmt-gz.aci"
  for f in tar-$fmt tar-$fmt-gz; do
    run_capture "$ACTOOL" --debug validate "$TMP/out/$f.aci"
    if [ "$status" -eq 0 ] && grep -q "$f.aci: valid app container image" "$TMP/.err"; then ok "validate: GNU tar --format=$fmt ($f.aci)"; else
      not_ok "validate: GNU tar --format=$fmt ($f.aci)"
      note "exit $status: $(cat "$TMP/.err")"
    fi
  done
  is "cat-manifest of the --format=$fmt tar" "$("$ACTOOL" cat-manifest "$TMP/out/tar-$fmt.aci" 2>&1)" "$(cat "$L/manifest")"
done

# --- an existing output -----------------------------------------------------

before=$(sha256sum <"$TMP/out/img-gzip.aci")
check_rejects "build onto an existing OUT fails without --overwrite" 'img-none\.aci' \
  "$ACTOOL" build --compression=gzip "$L" "$TMP/out/img-none.aci"
is "the existing OUT is left alone" "$(compression_of "$TMP/out/img-none.aci")" none
check_clean "build --overwrite replaces an existing OUT" \
  "$ACTOOL" build --overwrite --compression=gzip "$L" "$TMP/out/img-none.aci"
is "the replaced OUT is the new image" "$(sha256sum <"$TMP/out/img-none.aci")" "$before"
echo "precious" >"$TMP/out/precious.aci"
chmod 0444 "$TMP/out/precious.aci"
check_rejects "build onto a read-only existing OUT fails without --overwrite" 'precious\.aci' \
  "$ACTOOL" build "$L" "$TMP/out/precious.aci"
is "the read-only OUT is untouched" "$(cat "$TMP/out/precious.aci")" precious

# --- failures leave nothing behind ------------------------------------------

mkdir -p "$TMP/bad/rootfs" "$TMP/fail"
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"Not A Valid Name!"}' >"$TMP/bad/manifest"
check_rejects "build with an invalid manifest fails" 'manifest|name' "$ACTOOL" build "$TMP/bad" "$TMP/fail/bad.aci"
is "no OUT and no temporary file after a failed build" "$(leftovers "$TMP/fail")" ""
echo "old" >"$TMP/fail/keep.aci"
check_rejects "build --overwrite with an invalid manifest fails" 'manifest|name' \
  "$ACTOOL" build --overwrite "$TMP/bad" "$TMP/fail/keep.aci"
is "--overwrite: the old OUT survives a failed build" "$(cat "$TMP/fail/keep.aci")" old
is "--overwrite: no temporary file after a failed build" "$(leftovers "$TMP/fail" keep.aci)" ""
rm -f "$TMP/fail/keep.aci"
mkdir -p "$TMP/norootfs"
cp "$L/manifest" "$TMP/norootfs/manifest"
check_rejects "build of a layout without rootfs fails" 'rootfs' "$ACTOOL" build "$TMP/norootfs" "$TMP/fail/x.aci"
check_rejects "build of a missing layout fails" 'no-such-layout' "$ACTOOL" build "$TMP/no-such-layout" "$TMP/fail/x.aci"
check_rejects "build into a missing directory fails" 'no-such-dir' "$ACTOOL" build "$L" "$TMP/no-such-dir/x.aci"
is "no leftovers after the failed builds" "$(leftovers "$TMP/fail")" ""

# Interrupted builds: a tree big enough that xz takes many seconds (24 MB
# of random bytes: about 3 MB/s), interrupted soon after the build has
# opened its temporary output, so the signal lands mid-compression however
# fast the machine is.  (A fixed wait raced the end of the build on fast
# machines: the signal arrived after OUT was in place.)
B=$TMP/big
mkdir -p "$B/rootfs/data"
cp "$L/manifest" "$B/manifest"
for i in $(seq 1 24); do head -c 1000000 /dev/urandom >"$B/rootfs/data/blob$i"; done
# writing_into PID DIR: PID holds a file of DIR open (O_TMPFILE shows as
# "DIR/#N (deleted)"; without O_TMPFILE it is a named temporary file).
writing_into() {
  local fd
  for fd in /proc/"$1"/fd/*; do
    case $(readlink "$fd" 2>/dev/null) in "$2"/*) return 0 ;; esac
  done
  return 1
}
for sig in INT TERM KILL; do
  d=$TMP/interrupt-$sig
  mkdir -p "$d"
  env --default-signal=INT "$ACTOOL" build --compression=xz "$B" "$d/big.aci" >/dev/null 2>"$d.err" &
  pid=$!
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    writing_into "$pid" "$d" && break
    sleep 0.05
  done
  sleep 0.3
  if kill -0 "$pid" 2>/dev/null; then
    kill -s "$sig" "$pid"
    st=0
    wait "$pid" || st=$?
    if [ "$st" -ne 0 ]; then ok "SIG$sig during a build stops it (exit $st)"; else
      not_ok "SIG$sig during a build stops it"
    fi
    is "no OUT and no temporary file after SIG$sig" "$(leftovers "$d")" ""
    if grep -Eq 'Sanitizer|runtime error' "$d.err"; then
      not_ok "no sanitizer report after SIG$sig"
      note "$(head -c 2000 "$d.err")"
    else ok "no sanitizer report after SIG$sig"; fi
  else
    st=0
    wait "$pid" || st=$?
    not_ok "SIG$sig during a build: the build finished (exit $st) before it could be interrupted"
  fi
done
run_capture timeout 300 "$ACTOOL" build --compression=gzip "$B" "$TMP/out/big.aci"
is "the big tree builds when left alone" "$status" 0

# --- --owner-root -------------------------------------------------------------

O=$TMP/owned
cp -a "$L" "$O"
chown -R 1234:5678 "$O/rootfs"
chown -h 4321:8765 "$O/rootfs/bin/hi"
check_clean "build of a tree owned by 1234:5678" "$ACTOOL" build --no-compression "$O" "$TMP/out/owned.aci"
owners=$(tar --numeric-owner -tvf "$TMP/out/owned.aci" | grep ' rootfs/.' | awk '{print $2}' | sort -u | tr '\n' ' ')
is "without --owner-root the owners are kept" "$owners" "1234/5678 4321/8765 "
check_clean "build --owner-root" "$ACTOOL" build --owner-root --no-compression "$O" "$TMP/out/owner-root.aci"
owners=$(tar --numeric-owner -tvf "$TMP/out/owner-root.aci" | awk '{print $2}' | sort -u | tr '\n' ' ')
is "with --owner-root every entry is 0/0" "$owners" "0/0 "
owners=$(tar -tvf "$TMP/out/owner-root.aci" | awk '{print $2}' | sort -u | tr '\n' ' ')
is "... named root/root, as the reference names them" "$owners" "root/root "
check_clean "the --owner-root image validates" "$ACTOOL" validate "$TMP/out/owner-root.aci"

# --- every kind of file, extracted back with GNU tar --------------------------

S=$TMP/special
R=$S/rootfs
mkdir -p "$R/dev" "$R/dir/sub" "$R/emptydir" "$R/setgid-dir" "$R/sticky"
cp "$L/manifest" "$S/manifest"
printf 'plain\n' >"$R/file"
printf '#!/bin/sh\n' >"$R/setuid"
chmod 4755 "$R/setuid"
printf 'sgid\n' >"$R/setgid"
chmod 2711 "$R/setgid"
chmod 2775 "$R/setgid-dir"
chmod 1777 "$R/sticky"
printf 'private\n' >"$R/private"
chmod 0600 "$R/private"
: >"$R/empty-file"
ln -s file "$R/symlink"
ln -s /nonexistent/absolute/target "$R/dangling-symlink"
ln -s "dir/sub/$(printf 'T%.0s' $(seq 1 150))" "$R/long-target-symlink"
printf 'linked\n' >"$R/dir/hard1"
ln "$R/dir/hard1" "$R/dir/hard2"
ln "$R/dir/hard1" "$R/hard3"
printf 'second group\n' >"$R/dir/sub/other"
ln "$R/dir/sub/other" "$R/other-link"
long=$(printf 'n%.0s' $(seq 1 150))
printf 'long name\n' >"$R/$long"
longdir=$(printf 'd%.0s' $(seq 1 200))
mkdir -p "$R/$longdir/$longdir"
printf 'long path\n' >"$R/$longdir/$longdir/$(printf 'f%.0s' $(seq 1 120))"
printf 'unicode\n' >"$R/üñíçødé-名前"
printf 'spaces\n' >"$R/name with spaces and * ? [ ]"
truncate -s 100M "$R/sparse"
printf 'middle' | dd of="$R/sparse" bs=1 seek=52428800 conv=notrunc status=none
mkfifo "$R/fifo"
chown 1000:1000 "$R/file"
chown 1:2 "$R/dir"
chown -h 3:4 "$R/symlink"
chown 65534:65534 "$R/private"
have_dev=true
mknod "$R/dev/null" c 1 3 2>/dev/null && mknod "$R/dev/loop0" b 7 0 2>/dev/null || have_dev=false
have_xattr=true
setfattr -n user.comment -v "hello xattr" "$R/file" 2>/dev/null &&
  setfattr -n user.binary -v 0x00ff10 "$R/file" 2>/dev/null &&
  setfattr -n user.on-dir -v yes "$R/dir" 2>/dev/null || have_xattr=false
# Distinct time stamps, set last (children before their directories).
t=1000000000
find "$R" -depth -print0 | while IFS= read -r -d '' p; do
  t=$((t + 3600))
  touch -h -d "@$t" -- "$p"
done

run_capture timeout 120 "$ACTOOL" build "$S" "$TMP/out/special.aci"
if [ "$status" -eq 0 ]; then ok "build of a rootfs with every kind of file (a fifo nobody writes included) finishes"; else
  not_ok "build of a rootfs with every kind of file (a fifo nobody writes included) finishes"
  note "exit $status$([ "$status" -eq 124 ] && echo ' (timed out: hung?)')" "stderr: $(head -c 2000 "$TMP/.err")"
fi
special_id=$(cat "$TMP/.out")
is "the special image's ID is the SHA-512 of its tar" "$special_id" "sha512-$(gzip -dc "$TMP/out/special.aci" | sha512sum | cut -c1-128)"
check_clean "validate accepts the special image" "$ACTOOL" validate "$TMP/out/special.aci"
run_capture timeout 120 "$ACTOOL" build "$S" "$TMP/out/special-again.aci"
if [ "$status" -eq 0 ] && cmp -s "$TMP/out/special.aci" "$TMP/out/special-again.aci"; then ok "the special image is reproducible"; else
  not_ok "the special image is reproducible"
fi
size=$(stat -c %s "$TMP/out/special.aci")
if [ "$size" -lt 10000000 ]; then ok "the sparse file's holes compress ($size bytes)"; else
  not_ok "the sparse file's holes compress ($size bytes)"
fi

X=$TMP/extracted
mkdir -p "$X"
if tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$TMP/out/special.aci" -C "$X" 2>"$TMP/tar.err"; then
  ok "GNU tar extracts the special image"
else
  not_ok "GNU tar extracts the special image"
  note "$(head -c 2000 "$TMP/tar.err")"
fi
tree_manifest "$R" >"$TMP/source.txt"
tree_manifest "$X/rootfs" >"$TMP/extracted.txt"
if diff -u "$TMP/source.txt" "$TMP/extracted.txt" >"$TMP/tree.diff"; then
  ok "extracted rootfs matches the source field by field ($(wc -l <"$TMP/source.txt") entries)"
else
  not_ok "extracted rootfs matches the source field by field"
  while IFS= read -r l; do note "$l"; done < <(head -n 80 "$TMP/tree.diff")
fi
is "the extracted manifest is the layout's" "$(jq -cS . <"$X/manifest" 2>&1)" "$(jq -cS . <"$S/manifest")"
# Each property on its own, so a failure says which one.
expect_line() { # DESCRIPTION PATH-REGEX FIELD-REGEX
  if grep -E "^$2 " "$TMP/extracted.txt" | grep -Eq -- "$3"; then ok "$1"; else
    not_ok "$1"
    note "source:    $(grep -E "^$2 " "$TMP/source.txt" | head -c 600)" \
      "extracted: $(grep -E "^$2 " "$TMP/extracted.txt" | head -c 600)"
  fi
}
expect_line "setuid bit kept" '\./setuid' 'mode=4755'
expect_line "setgid bit kept" '\./setgid' 'mode=2711'
expect_line "setgid directory kept" '\./setgid-dir' 'type=directory mode=2775'
expect_line "sticky directory kept" '\./sticky' 'type=directory mode=1777'
expect_line "owner kept" '\./file' 'uid=1000 gid=1000'
expect_line "directory owner kept" '\./dir' 'type=directory .*uid=1 gid=2'
expect_line "symlink owner and target kept" '\./symlink' 'uid=3 gid=4 target=file$'
expect_line "dangling symlink kept" '\./dangling-symlink' 'target=/nonexistent/absolute/target'
expect_line "long symlink target kept" '\./long-target-symlink' 'target=dir/sub/T{150}'
expect_line "hardlinks kept" '\./hard3' 'links=3 same-as=\./dir/hard1'
expect_line "second hardlink group kept" '\./other-link' 'links=2 same-as=\./dir/sub/other'
expect_line "a name of 150 bytes kept" "\./n{150}" 'size=10 '
expect_line "a path over 255 bytes kept" "\./d{200}/d{200}/f{120}" 'size=10 '
expect_line "non-ASCII name kept" '\./üñíçødé-名前' 'regular'
expect_line "name with spaces and glob characters kept" '\./name with spaces and \* \? \[ \]' 'regular'
expect_line "empty directory kept" '\./emptydir' 'type=directory'
expect_line "empty file kept" '\./empty-file' 'size=0 '
expect_line "fifo kept" '\./fifo' 'type=fifo'
expect_line "sparse file size and content kept" '\./sparse' "size=104857600 sha256=$(sha256sum <"$R/sparse" | cut -c1-64)"
expect_line "mtime kept" '\./file' "mtime=$(stat -c %Y "$R/file") "
if $have_dev; then
  expect_line "character device kept" '\./dev/null' 'type=character special file .*dev=1,3'
  expect_line "block device kept" '\./dev/loop0' 'type=block special file .*dev=7,0'
else
  skip "character device kept" "mknod not permitted here"
  skip "block device kept" "mknod not permitted here"
fi
if $have_xattr; then
  expect_line "file xattrs kept" '\./file' 'user\.binary=0x00ff10 user\.comment=0x68656c6c6f207861747472'
  expect_line "directory xattr kept" '\./dir' 'user\.on-dir=0x796573'
else
  skip "file xattrs kept" "user xattrs not supported on $TMP"
  skip "directory xattr kept" "user xattrs not supported on $TMP"
fi

# A fifo alone, with a reader-less pipe: build must not open it.
F=$TMP/fifo-only
mkdir -p "$F/rootfs"
cp "$L/manifest" "$F/manifest"
mkfifo "$F/rootfs/pipe"
run_capture timeout 60 "$ACTOOL" build --no-compression "$F" "$TMP/out/fifo.aci"
is "a fifo nobody writes to does not hang the build" "$status" 0
is "the fifo is stored as a fifo" "$(tar -tvf "$TMP/out/fifo.aci" 2>&1 | grep 'rootfs/pipe' | cut -c1)" p
check_clean "validate accepts the fifo image" timeout 60 "$ACTOOL" validate "$TMP/out/fifo.aci"

# --no-compression and a --compression that says otherwise, in either
# order: a usage error, not one of them silently ignored.
for args in "--no-compression --compression=xz" "--compression=gzip --no-compression"; do
  # shellcheck disable=SC2086
  check_fails "build $args: a usage error" 2 "^actool: build: --no-compression and --compression=[a-z]* say different things" \
    "$ACTOOL" build $args "$L" "$TMP/out/conflict.aci"
done
check_fails "patch-manifest too" 2 "^actool: patch-manifest: --no-compression and --compression=bzip2" \
  "$ACTOOL" patch-manifest --no-compression --compression=bzip2 "$TMP/out/img-gzip.aci" "$TMP/out/conflict.aci"

# A name longer than a path can be (PATH_MAX) is refused by validation and
# import: build refuses it too, rather than make an image no one takes.
mkdir -p "$TMP/deepnames/rootfs"
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/deep"}' >"$TMP/deepnames/manifest"
(cd "$TMP/deepnames/rootfs" && n=$(printf 'd%.0s' $(seq 200)) &&
  for _ in $(seq 25); do mkdir "$n" && cd "$n" || exit 1; done)
check_rejects "build: a name longer than PATH_MAX is refused" 'a name of [0-9]+ bytes, longer than a path can be' \
  "$ACTOOL" build "$TMP/deepnames" "$TMP/deepnames.aci"
is "... and leaves no output" "$(ls "$TMP/deepnames.aci" 2>/dev/null)" ""

# A label or mount point without its name passes validation, as the
# reference's does (Go checks no absent field), but neither writes it.
mkdir -p "$TMP/nameless/rootfs"
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/nameless","labels":[{"value":"1.0"}],
  "app":{"exec":["/x"],"user":"0","group":"0","mountPoints":[{"path":"/data"}]}}' >"$TMP/nameless/manifest"
check_clean "validate: a label without a name passes, as the reference's" "$ACTOOL" validate "$TMP/nameless"
check_rejects "build: a label without a name is not written" 'nameless: manifest: labels\[0\]\.name: must be set' \
  "$ACTOOL" build "$TMP/nameless" "$TMP/nameless.aci"
is "... and leaves no output" "$(ls "$TMP/nameless.aci" 2>/dev/null)" ""
(cd "$TMP/nameless" && tar -cf "$TMP/nameless.aci" manifest rootfs)
check_rejects "patch-manifest: nor is it rewritten" 'labels\[0\]\.name: must be set' \
  "$ACTOOL" patch-manifest --user=5 "$TMP/nameless.aci" "$TMP/nameless-patched.aci"
is "... and leaves no output" "$(ls "$TMP/nameless-patched.aci" 2>/dev/null)" ""
check_rejects "cat-manifest --pretty-print: nor printed" 'labels\[0\]\.name: must be set' \
  "$ACTOOL" cat-manifest --pretty-print "$TMP/nameless.aci"
sed -i 's/"labels":\[{"value":"1.0"}\],//' "$TMP/nameless/manifest"
check_rejects "build: a mount point without a name is not written either" 'app\.mountPoints\[0\]\.name: must be set' \
  "$ACTOOL" build "$TMP/nameless" "$TMP/nameless.aci"

# A patch the manifest cannot take names the image it came from.
mkdir -p "$TMP/noapp/rootfs"
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/noapp"}' >"$TMP/noapp/manifest"
"$ACTOOL" build "$TMP/noapp" "$TMP/noapp.aci" >/dev/null 2>&1
check_fails "patch-manifest --user of an image without an app names the image" 1 \
  "^actool: $(regex_quote "$TMP/noapp.aci"): manifest: no app in the supplied manifest" \
  "$ACTOOL" patch-manifest --user=5 "$TMP/noapp.aci" "$TMP/noapp-patched.aci"

# patch-manifest reads IN once, the manifest edited when the copy reaches
# it: IN may be a pipe, with editing options as with --manifest.
check_clean "patch-manifest --name of an image from a pipe" \
  bash -c 'cat "$1" | "$2" patch-manifest --name=example.com/piped /dev/stdin "$3"' _ \
  "$TMP/out/img-gzip.aci" "$ACTOOL" "$TMP/out/piped.aci"
is "... which has the new name" "$("$ACTOOL" cat-manifest "$TMP/out/piped.aci" 2>&1 | jq -r .name)" \
  example.com/piped
is "... and the input's rootfs" "$(tar -tvf "$TMP/out/piped.aci" | grep ' rootfs' | md5sum)" \
  "$(tar -tvf "$TMP/out/img-gzip.aci" | grep ' rootfs' | md5sum)"
check_fails "patch-manifest from a pipe: a patch the manifest cannot take names the image" 1 \
  "^actool: /dev/stdin: manifest: no app in the supplied manifest" \
  bash -c 'cat "$1" | "$2" patch-manifest --user=5 /dev/stdin "$3"' _ \
  "$TMP/noapp.aci" "$ACTOOL" "$TMP/out/piped-noapp.aci"
is "... and leaves no output" "$(ls "$TMP/out/piped-noapp.aci" 2>/dev/null)" ""

done_testing
