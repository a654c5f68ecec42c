#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile and broken inputs: actool must refuse each with exit 1 and an error
# naming the file, and never crash (a signal, exit >= 124 from `timeout`, or a
# sanitizer report is a failure), hang, or take more than a few seconds.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

T=timeout
LIMIT=60

# rejects DESCRIPTION FILE [ACTOOL ARGS...]: validate (and cat-manifest for
# images) must refuse FILE, naming it.
rejects() {
  local desc=$1 file=$2 pat
  shift 2
  pat=$(regex_quote "$(basename "$file")")
  check_rejects "validate${*:+ $*}: $desc" "$pat" $T $LIMIT "$ACTOOL" validate "$@" "$file"
}
rejects_cat() {
  local desc=$1 file=$2 pat
  pat=$(regex_quote "$(basename "$file")")
  check_rejects "cat-manifest: $desc" "$pat" $T $LIMIT "$ACTOOL" cat-manifest "$file"
}

MANIFEST='{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/hostile","app":{"exec":["/bin/x"],"user":"0","group":"0"}}'
W=$TMP/work
mkdir -p "$W/rootfs/bin" "$W/rootfs/etc" "$TMP/in"
printf '%s' "$MANIFEST" >"$W/manifest"
printf 'x\n' >"$W/rootfs/bin/x"
head -c 300000 /dev/urandom >"$W/rootfs/etc/blob"
printf 'dup\n' >"$W/rootfs/etc/dup"
mkdir -p "$TMP/outside/etc"
printf 'evil\n' >"$TMP/outside/etc/x"

# mktar OUT MEMBERS...: an uncompressed tar of MEMBERS of $W.
mktar() {
  local out=$1
  shift
  (cd "$W" && tar --format=gnu --owner=0 --group=0 -cf "$out" "$@")
}

# The well-formed image the broken ones are made from.
mktar "$TMP/in/good.tar" manifest rootfs
gzip -n -c "$TMP/in/good.tar" >"$TMP/in/good.aci"
check_clean "the well-formed tar validates" $T $LIMIT "$ACTOOL" validate "$TMP/in/good.tar"
check_clean "the well-formed gzip image validates" $T $LIMIT "$ACTOOL" validate "$TMP/in/good.aci"

# --- damaged streams ----------------------------------------------------------

size=$(stat -c %s "$TMP/in/good.aci")
head -c $((size / 2)) "$TMP/in/good.aci" >"$TMP/in/truncated-gzip.aci"
rejects "truncated gzip image" "$TMP/in/truncated-gzip.aci"
# (cat-manifest reads only as far as the manifest, so it may succeed here.)
head -c $((size - 4)) "$TMP/in/good.aci" >"$TMP/in/truncated-gzip-trailer.aci"
rejects "gzip image missing its trailer (CRC/size)" "$TMP/in/truncated-gzip-trailer.aci"
# patch-manifest reads to the end as validate does: a damaged input is not
# re-emitted with a fresh trailer (as one with a valid CRC).
cp "$TMP/in/good.aci" "$TMP/in/bad-crc.aci"
printf '\377' | dd of="$TMP/in/bad-crc.aci" bs=1 seek=$((size - 8)) conv=notrunc status=none
rejects "gzip image whose CRC-32 does not match" "$TMP/in/bad-crc.aci"
for f in bad-crc truncated-gzip-trailer; do
  check_rejects "patch-manifest of a $f image" 'CRC-32 or length|trailer|truncated|Truncated' \
    $T $LIMIT "$ACTOOL" patch-manifest --name=example.com/p "$TMP/in/$f.aci" "$TMP/patched-$f.aci"
  is "... leaves no output" "$(ls "$TMP/patched-$f.aci" 2>&1 | grep -c 'No such file')" 1
done

head -c 200000 "$TMP/in/good.tar" >"$TMP/in/truncated-tar.aci"
rejects "tar truncated inside a member" "$TMP/in/truncated-tar.aci"
head -c 2304 "$TMP/in/good.tar" >"$TMP/in/truncated-tar-header.aci"
rejects "tar truncated inside a header" "$TMP/in/truncated-tar-header.aci"
head -c 1 "$TMP/in/good.tar" >"$TMP/in/truncated-tar-1.aci"
rejects "tar of one byte" "$TMP/in/truncated-tar-1.aci"

{ printf '\037\213\010\000\000\000\000\000\000\003'; head -c 8192 /dev/urandom; } >"$TMP/in/garbage-gzip.aci"
rejects "garbage after a gzip header" "$TMP/in/garbage-gzip.aci"
rejects_cat "garbage after a gzip header" "$TMP/in/garbage-gzip.aci"
{ printf 'BZh9'; head -c 8192 /dev/urandom; } >"$TMP/in/garbage-bzip2.aci"
rejects "garbage after a bzip2 header" "$TMP/in/garbage-bzip2.aci"
{ printf '\3757zXZ\000'; head -c 8192 /dev/urandom; } >"$TMP/in/garbage-xz.aci"
rejects "garbage after an xz header" "$TMP/in/garbage-xz.aci"
head -c 8192 /dev/urandom >"$TMP/in/random.aci"
rejects "random bytes as an image" "$TMP/in/random.aci" --type=appimage
gzip -n -c "$TMP/in/random.aci" >"$TMP/in/gzip-of-random.aci"
rejects "gzip of random bytes" "$TMP/in/gzip-of-random.aci"

: >"$TMP/in/empty.aci"
rejects "empty file" "$TMP/in/empty.aci"
rejects "empty file as an image" "$TMP/in/empty.aci" --type=appimage
rejects_cat "empty file" "$TMP/in/empty.aci"
gzip -n -c "$TMP/in/empty.aci" >"$TMP/in/gzip-of-empty.aci"
rejects "gzip of nothing" "$TMP/in/gzip-of-empty.aci"

rejects "directory passed as an image" "$W" --type=appimage
rejects "missing file" "$TMP/in/no-such-file.aci"
rejects_cat "missing file" "$TMP/in/no-such-file.aci"

# A bzip2 bomb: 200 MB of zeros in ~200 bytes.  Zeros read as an end of
# archive, so the refusal must come quickly, without inflating it all first.
head -c 200000000 /dev/zero | bzip2 -9 >"$TMP/in/bomb-bzip2.aci"
start=$(date +%s)
rejects "bzip2 bomb of zeros" "$TMP/in/bomb-bzip2.aci"
is "the bzip2 bomb is refused within 20 s" "$(( $(date +%s) - start < 20 ))" 1

# --- wrong archive layout -----------------------------------------------------

mkdir -p "$TMP/w2/rootfs"
cp "$W/manifest" "$TMP/w2/manifest"
printf 'extra\n' >"$TMP/w2/extra"
(cd "$TMP/w2" && tar -cf "$TMP/in/extra-top-level.aci" manifest rootfs extra)
rejects "extra top-level entry" "$TMP/in/extra-top-level.aci"
mkdir -p "$TMP/w2/etc"
(cd "$TMP/w2" && tar -cf "$TMP/in/extra-top-level-dir.aci" manifest rootfs etc)
rejects "extra top-level directory" "$TMP/in/extra-top-level-dir.aci"

mktar "$TMP/in/missing-manifest.aci" rootfs
rejects "no manifest" "$TMP/in/missing-manifest.aci"
rejects_cat "no manifest" "$TMP/in/missing-manifest.aci"
mktar "$TMP/in/missing-rootfs.aci" manifest
rejects "no rootfs" "$TMP/in/missing-rootfs.aci"

mkdir -p "$TMP/w3/manifest" "$TMP/w3/rootfs"
printf '%s' "$MANIFEST" >"$TMP/w3/manifest/inner"
(cd "$TMP/w3" && tar -cf "$TMP/in/manifest-dir.aci" manifest rootfs)
rejects "manifest is a directory" "$TMP/in/manifest-dir.aci"
rejects_cat "manifest is a directory" "$TMP/in/manifest-dir.aci"

mkdir -p "$TMP/w4/rootfs"
printf '%s' "$MANIFEST" >"$TMP/w4/rootfs/real-manifest"
ln -s rootfs/real-manifest "$TMP/w4/manifest"
(cd "$TMP/w4" && tar -cf "$TMP/in/manifest-symlink.aci" manifest rootfs)
rejects "manifest is a symlink" "$TMP/in/manifest-symlink.aci"
rejects_cat "manifest is a symlink" "$TMP/in/manifest-symlink.aci"
ln -s /etc/passwd "$TMP/w4/m2" && rm "$TMP/w4/manifest" && mv "$TMP/w4/m2" "$TMP/w4/manifest"
(cd "$TMP/w4" && tar -cf "$TMP/in/manifest-symlink-abs.aci" manifest rootfs)
rejects "manifest is a symlink to /etc/passwd" "$TMP/in/manifest-symlink-abs.aci"

cp "$TMP/in/good.tar" "$TMP/in/duplicate-file.aci"
(cd "$W" && tar --append -f "$TMP/in/duplicate-file.aci" rootfs/etc/dup)
rejects "a rootfs entry twice" "$TMP/in/duplicate-file.aci"
cp "$TMP/in/good.tar" "$TMP/in/duplicate-manifest.aci"
printf '%s' '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/second"}' >"$TMP/w2/manifest"
(cd "$TMP/w2" && tar --append -f "$TMP/in/duplicate-manifest.aci" manifest)
rejects "the manifest twice" "$TMP/in/duplicate-manifest.aci"
cp "$TMP/in/good.tar" "$TMP/in/duplicate-dir.aci"
(cd "$W" && tar --append --no-recursion -f "$TMP/in/duplicate-dir.aci" rootfs/etc)
rejects "a directory twice" "$TMP/in/duplicate-dir.aci"
cp "$TMP/in/good.tar" "$TMP/in/duplicate-slash.aci"
(cd "$W" && tar --append -P --transform='s,^rootfs/etc/dup$,rootfs/etc//dup,' -f "$TMP/in/duplicate-slash.aci" rootfs/etc/dup)
rejects "the same entry spelt rootfs/etc//dup" "$TMP/in/duplicate-slash.aci"
cp "$TMP/in/good.tar" "$TMP/in/duplicate-dot.aci"
(cd "$W" && tar --append -P --transform='s,^rootfs/etc/dup$,rootfs/./etc/dup,' -f "$TMP/in/duplicate-dot.aci" rootfs/etc/dup)
rejects "the same entry spelt rootfs/./etc/dup" "$TMP/in/duplicate-dot.aci"

(cd "$W" && tar -P --transform='s,^rootfs/etc/dup$,rootfs/../../etc/x,' -cf "$TMP/in/dotdot.aci" manifest rootfs)
is "the dotdot image holds rootfs/../../etc/x" "$(tar -P -tf "$TMP/in/dotdot.aci" | grep -c '^rootfs/\.\./\.\./etc/x$')" 1
rejects "entry rootfs/../../etc/x" "$TMP/in/dotdot.aci"
(cd "$W" && tar -P --transform='s,^rootfs/etc/dup$,rootfs/etc/../../x,' -cf "$TMP/in/dotdot-inner.aci" manifest rootfs)
rejects "entry rootfs/etc/../../x" "$TMP/in/dotdot-inner.aci"
(cd "$W" && tar -P --transform='s,^rootfs/etc/dup$,/etc/x,' -cf "$TMP/in/absolute.aci" manifest rootfs)
is "the absolute image holds /etc/x" "$(tar -P -tf "$TMP/in/absolute.aci" | grep -c '^/etc/x$')" 1
rejects "absolute entry /etc/x" "$TMP/in/absolute.aci"
(cd "$W" && tar -P --transform='s,^rootfs/etc/dup$,/rootfs/etc/dup,' -cf "$TMP/in/absolute-rootfs.aci" manifest rootfs)
rejects "absolute entry /rootfs/etc/dup" "$TMP/in/absolute-rootfs.aci"
# Hard links whose target is outside the image (the transform rewrites only
# hard link targets: flags R, S off; h on).
mkdir -p "$TMP/w7/rootfs/etc"
cp "$W/manifest" "$TMP/w7/manifest"
printf 'a\n' >"$TMP/w7/rootfs/etc/a"
ln "$TMP/w7/rootfs/etc/a" "$TMP/w7/rootfs/etc/b"
hardlink_image() { # OUT TARGET
  (cd "$TMP/w7" && tar -P --transform="s,^rootfs/etc/[ab]\$,$2,RSh" -cf "$1" manifest rootfs)
}
hardlink_image "$TMP/in/hardlink-absolute.aci" /etc/passwd
is "the image holds a hard link to /etc/passwd" "$(tar -P -tvf "$TMP/in/hardlink-absolute.aci" | grep -c 'link to /etc/passwd$')" 1
rejects "hard link to /etc/passwd" "$TMP/in/hardlink-absolute.aci"
hardlink_image "$TMP/in/hardlink-dotdot.aci" rootfs/../../etc/passwd
rejects "hard link to rootfs/../../etc/passwd" "$TMP/in/hardlink-dotdot.aci"
hardlink_image "$TMP/in/hardlink-manifest.aci" manifest
rejects "hard link to the manifest (outside rootfs/)" "$TMP/in/hardlink-manifest.aci"
hardlink_image "$TMP/in/hardlink-missing.aci" rootfs/etc/missing
rejects "hard link to a member the image does not hold" "$TMP/in/hardlink-missing.aci"

# --- hostile manifests --------------------------------------------------------

# put_manifest NAME CONTENT_FILE: an image whose manifest is that file.
put_manifest() {
  mkdir -p "$TMP/m-$1/rootfs"
  cp "$2" "$TMP/m-$1/manifest"
  (cd "$TMP/m-$1" && tar -cf - manifest rootfs) | gzip -n >"$TMP/in/$1.aci"
}

printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/h\377llo"}' >"$TMP/in/bad-utf8-name.json"
rejects "invalid UTF-8 in the name" "$TMP/in/bad-utf8-name.json"
put_manifest bad-utf8-name "$TMP/in/bad-utf8-name.json"
rejects "image whose manifest name is invalid UTF-8" "$TMP/in/bad-utf8-name.aci"
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x","annotations":[{"name":"a","value":"\300\257 \355\240\200 \370\210\200\200\200"}]}' >"$TMP/in/bad-utf8-value.json"
rejects "invalid UTF-8 (overlong, surrogate, 5-byte) in a value" "$TMP/in/bad-utf8-value.json"
put_manifest bad-utf8-value "$TMP/in/bad-utf8-value.json"
rejects "image with invalid UTF-8 in a manifest value" "$TMP/in/bad-utf8-value.aci"
printf '\357\273\277{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x"}\000' >"$TMP/in/nul-byte.json"
rejects "a NUL byte after the JSON" "$TMP/in/nul-byte.json" --type=manifest

head -c 100000 /dev/zero | tr '\0' '[' >"$TMP/in/deep.json"
rejects "100000 nested arrays" "$TMP/in/deep.json" --type=manifest
put_manifest deep "$TMP/in/deep.json"
rejects "image whose manifest nests 100000 arrays" "$TMP/in/deep.aci"
rejects_cat "manifest nesting 100000 arrays" "$TMP/in/deep.aci"
{ printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x","annotations":[{"name":"a","value":"v"}],"x":'
  head -c 100000 /dev/zero | tr '\0' '{' | sed 's/{/{"a":/g'; } >"$TMP/in/deep-objects.json"
rejects "100000 nested objects in an unknown field" "$TMP/in/deep-objects.json" --type=manifest
# Nesting around actool's limit (512 levels, the top-level object counted),
# under a 1 MiB stack: every level recurses, so the limit must fit there in
# the plain and the ASan build alike.  Go's own limit, 10000 levels, once
# crashed both; it is now refused naming the rule and the depth.
nest() { # LEVELS [ISOLATOR]: a manifest nesting LEVELS deep
  local inner=$(($1 - 1)) head tail
  [ -n "${2:-}" ] && inner=$(($1 - 5))
  head=$(printf '%*s' "$inner" '' | tr ' ' '[')
  tail=$(printf '%*s' "$inner" '' | tr ' ' ']')
  if [ -n "${2:-}" ]; then
    printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x","app":{"exec":["/x"],"user":"0","group":"0","isolators":[{"name":"resource/cpu","value":{"limit":"1","x":%s%s}}]}}' "$head" "$tail"
  else
    printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x","x":%s%s}' "$head" "$tail"
  fi
}
for iso in "" isolator; do
  nest 512 $iso >"$TMP/in/nest512$iso.json"
  nest 513 $iso >"$TMP/in/nest513$iso.json"
  nest 10000 $iso >"$TMP/in/nest10000$iso.json"
  check_clean "1 MiB stack: ${iso:-unknown field} nested 512 levels is valid" \
    bash -c 'ulimit -s 1024 && exec "$@"' - "$ACTOOL" validate --type=manifest "$TMP/in/nest512$iso.json"
  for n in 513 10000; do
    check_rejects "1 MiB stack: ${iso:-unknown field} nested $n levels is refused, naming the limit" \
      "nested deeper than 512 levels \(actool's nesting limit" \
      bash -c 'ulimit -s 1024 && exec "$@"' - "$ACTOOL" validate --type=manifest "$TMP/in/nest$n$iso.json"
  done
done
put_manifest nest512isolator "$TMP/in/nest512isolator.json"
check_clean "1 MiB stack: cat-manifest --pretty-print of an isolator value nested 512 levels" \
  bash -c 'ulimit -s 1024 && exec "$@"' - "$ACTOOL" cat-manifest --pretty-print "$TMP/in/nest512isolator.aci"
cp "$TMP/.out" "$TMP/in/nest512pretty.json"
check_clean "1 MiB stack: the pretty-printed manifest nested 512 levels is valid" \
  bash -c 'ulimit -s 1024 && exec "$@"' - "$ACTOOL" validate --type=manifest "$TMP/in/nest512pretty.json"

# Rewriting a valid image keeps it valid: a quantity with U+2028 around it
# (Go trims it) was rewritten as "\u2028", which is invalid, and a key with
# U+0000 in an isolator value made serialising fail with ENOMEM.
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x","app":{"exec":["/x"],"user":"0","group":"0","isolators":[{"name":"resource/cpu","value":{"limit":"1\342\200\250","a\\u0000b":{"\\u0000":"\342\200\251"}}}]}}' >"$TMP/in/roundtrip.json"
put_manifest roundtrip "$TMP/in/roundtrip.json"
check_clean "validate an image with U+2028 in a quantity and U+0000 in a key" \
  "$ACTOOL" validate "$TMP/in/roundtrip.aci"
check_clean "patch-manifest of that image" \
  "$ACTOOL" patch-manifest --user=1 "$TMP/in/roundtrip.aci" "$TMP/in/roundtrip-patched.aci"
check_clean "the patched image is valid" "$ACTOOL" validate "$TMP/in/roundtrip-patched.aci"
check_clean "cat-manifest --pretty-print of that image" \
  "$ACTOOL" cat-manifest --pretty-print "$TMP/in/roundtrip.aci"
cp "$TMP/.out" "$TMP/in/roundtrip-pretty.json"
check_clean "the pretty-printed manifest is valid" \
  "$ACTOOL" validate --type=manifest "$TMP/in/roundtrip-pretty.json"

printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x"' >"$TMP/in/unterminated.json"
rejects "unterminated JSON" "$TMP/in/unterminated.json" --type=manifest
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x"}{}' >"$TMP/in/trailing.json"
rejects "JSON followed by another value" "$TMP/in/trailing.json" --type=manifest

# A manifest of 1 GiB (a sparse file): refused for its size, at once.
truncate -s 1G "$TMP/in/huge-manifest.json"
start=$(date +%s)
check_rejects "validate: 1 GiB manifest file refused for its size" 'huge-manifest\.json.*([Ll]arge|[Ss]ize|[Ll]imit|bytes|big)' \
  $T $LIMIT "$ACTOOL" validate --type=manifest "$TMP/in/huge-manifest.json"
is "the 1 GiB manifest file is refused within 10 s" "$(( $(date +%s) - start < 10 ))" 1

# An uncompressed image whose manifest member says 1 GiB: the header is made
# by hand (size field and checksum), the 1 GiB of data is a hole.
mkdir -p "$TMP/w5/rootfs"
printf 'X' >"$TMP/w5/manifest"
(cd "$TMP/w5" && tar --format=ustar -cf "$TMP/small.tar" manifest rootfs)
head -c 512 "$TMP/small.tar" >"$TMP/hdr"
printf '10000000000\0' | dd of="$TMP/hdr" bs=1 seek=124 conv=notrunc status=none
printf '        ' | dd of="$TMP/hdr" bs=1 seek=148 conv=notrunc status=none
sum=$(od -An -v -tu1 "$TMP/hdr" | tr -s ' ' '\n' | awk '{s += $1} END {print s}')
printf '%06o\0 ' "$sum" | dd of="$TMP/hdr" bs=1 seek=148 conv=notrunc status=none
cp "$TMP/hdr" "$TMP/in/huge-manifest.aci"
truncate -s $((512 + 1073741824)) "$TMP/in/huge-manifest.aci"
tail -c +1025 "$TMP/small.tar" >>"$TMP/in/huge-manifest.aci"
is "GNU tar reads the hand-made 1 GiB member" "$(tar -tvf "$TMP/in/huge-manifest.aci" 2>&1 | head -n1 | awk '{print $3, $6}')" "1073741824 manifest"
start=$(date +%s)
check_rejects "validate: image with a 1 GiB manifest refused for its size" 'huge-manifest\.aci.*([Ll]arge|[Ss]ize|[Ll]imit|bytes|big)' \
  $T $LIMIT "$ACTOOL" validate "$TMP/in/huge-manifest.aci"
is "the 1 GiB manifest image is refused within 10 s" "$(( $(date +%s) - start < 10 ))" 1
start=$(date +%s)
check_rejects "cat-manifest: image with a 1 GiB manifest refused for its size" 'huge-manifest\.aci.*([Ll]arge|[Ss]ize|[Ll]imit|bytes|big)' \
  $T $LIMIT "$ACTOOL" cat-manifest "$TMP/in/huge-manifest.aci"
is "cat-manifest refuses the 1 GiB manifest within 10 s" "$(( $(date +%s) - start < 10 ))" 1

# A layout whose manifest is 1 GiB: build refuses it too.
mkdir -p "$TMP/w6/rootfs" "$TMP/w6out"
truncate -s 1G "$TMP/w6/manifest"
check_rejects "build: layout with a 1 GiB manifest refused" 'manifest' $T $LIMIT "$ACTOOL" build "$TMP/w6" "$TMP/w6out/x.aci"
is "no output left by the refused build" "$(ls -A "$TMP/w6out")" ""

# A FIFO no one writes to, given as an ACI: read as empty, never waited on.
mkfifo "$TMP/fifo.aci"
check_fails "cat-manifest of a FIFO without a writer fails at once (no hang)" 1 'the file is empty' \
  timeout 20 "$ACTOOL" cat-manifest "$TMP/fifo.aci"
check_fails "patch-manifest of it too" 1 'the file is empty' \
  timeout 20 "$ACTOOL" patch-manifest --name=example.com/x "$TMP/fifo.aci" "$TMP/fifo-out.aci"
check_fails "fetch of it too" 1 'the file is empty' \
  timeout 20 "$ACTOOL" --insecure-options=image --dir="$TMP/fifo-store" fetch "$TMP/fifo.aci"
check_fails "validate of it too, whose type it cannot tell" 1 'fifo\.aci: not an ACI' \
  timeout 20 "$ACTOOL" validate "$TMP/fifo.aci"

# Where the reference's archive rules are looser (docs/conformance.md): a
# top-level name that only starts with "rootfs", rootfs twice, an empty name.
python3 - "$TMP/in" "$MANIFEST" <<'PY'
import io, sys, tarfile
d, m = sys.argv[1], sys.argv[2].encode()
def tar(name, extra):
    with tarfile.open(d + "/" + name, "w", format=tarfile.GNU_FORMAT) as t:
        ti = tarfile.TarInfo("manifest"); ti.size = len(m); t.addfile(ti, io.BytesIO(m))
        ti = tarfile.TarInfo("rootfs"); ti.type = tarfile.DIRTYPE; t.addfile(ti)
        for n, typ in extra:
            ti = tarfile.TarInfo(n); ti.type = typ; t.addfile(ti)
tar("rootfs-prefix.aci", [("rootfs-old", tarfile.DIRTYPE), ("rootfs-old/f", tarfile.REGTYPE)])
tar("rootfs-twice.aci", [("rootfs", tarfile.DIRTYPE)])
tar("empty-name.aci", [("", tarfile.REGTYPE)])
PY
check_rejects "validate: a top-level rootfs-old/ is outside rootfs" 'rootfs-old(/f)?: unexpected entry outside rootfs' \
  $T $LIMIT "$ACTOOL" validate "$TMP/in/rootfs-prefix.aci"
check_rejects "validate: rootfs twice" 'rootfs: duplicate entry' $T $LIMIT "$ACTOOL" validate "$TMP/in/rootfs-twice.aci"
check_rejects "validate: a member without a name" 'entry without a name' $T $LIMIT "$ACTOOL" validate "$TMP/in/empty-name.aci"
mkdir -p "$TMP/prefixlayout/rootfs" "$TMP/prefixlayout/rootfsX"
printf '%s' "$MANIFEST" >"$TMP/prefixlayout/manifest"
check_rejects "build: a layout's rootfsX beside rootfs" 'rootfsX' $T $LIMIT "$ACTOOL" build "$TMP/prefixlayout" "$TMP/prefix.aci"

# --- a hostile server -----------------------------------------------------------

# tests/integration/hostile-http.py, plain http on loopback.  Every request
# of a fetch has limits of its own, and the fetch of one image as a whole
# ACTOOL_FETCH_DEADLINE: a discovery page listing endpoints that all stall
# once held a fetch for 16 of them times ACTOOL_HTTP_TIMEOUT (or
# ACTOOL_HTTP_DEADLINE, each), here 32 s; the fetch now ends at its 3 s,
# saying so, and stops the request under way rather than wait it out.
python3 "$top_srcdir/tests/integration/hostile-http.py" "$TMP/in/good.aci" "$TMP/hport" &
HTTP_PID=$!
trap 'kill "$HTTP_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 600); do [ -s "$TMP/hport" ] && break; sleep 0.1; done
HP=$(cat "$TMP/hport" 2>/dev/null)
is "hostile-http.py listens on loopback" "$(printf '%s' "$HP" | grep -c '^[0-9][0-9]*$')" 1
# hfetch SECONDS ENV... -- ARGS...: actool fetch with plain http allowed,
# killed after SECONDS; $ms is how long it took.
hfetch() {
  local limit=$1 envs=()
  shift
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  local t0
  t0=$(date +%s%N)
  run_capture env "${envs[@]}" timeout "$limit" "$ACTOOL" --dir="$TMP/hstore" --port="$HP" \
    --insecure-options=http fetch "$@"
  ms=$((($(date +%s%N) - t0) / 1000000))
}
hfetch 12 ACTOOL_FETCH_DEADLINE=3 ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_RETRIES=0 -- 127.0.0.1/many/app
is "a name whose 16 endpoints stall: refused (exit 1)" "$status" 1
is "... naming the fetch's deadline, the endpoints left and the last request" \
  "$(grep -Ec "127\.0\.0\.1/many/app: the fetch's deadline has passed, 1[0-9] of 16 endpoints not tried \(the last tried: signature: http://127\.0\.0\.1:$HP/stall/127\.0\.0\.1/many/app-[0-9]+\.aci\.asc: .*\(ACTOOL_FETCH_DEADLINE allows more time\)\$" "$TMP/.err")" 1
check "... within ACTOOL_FETCH_DEADLINE, not 16 timeouts ($ms ms)" test "$ms" -ge 2500 -a "$ms" -lt 8000
# A request under way when the deadline passes is cut there: a signature
# that never comes, retried 3 times after a 5 s stall, took 27 s.
hfetch 12 ACTOOL_FETCH_DEADLINE=2 ACTOOL_HTTP_TIMEOUT=5 ACTOOL_HTTP_RETRIES=3 -- "http://127.0.0.1:$HP/stall/x.aci"
is "a signature that never comes: refused (exit 1)" "$status" 1
is "... cut at ACTOOL_FETCH_DEADLINE, naming the request and the fetch" \
  "$(grep -Ec "^actool: signature: http://127\.0\.0\.1:$HP/stall/x\.aci\.asc: .* \(the fetch of http://127\.0\.0\.1:$HP/stall/x\.aci not done within its 2 s deadline\)" "$TMP/.err")" 1
check "... at once, not after its retries ($ms ms)" test "$ms" -ge 1500 -a "$ms" -lt 7000
is "... leaving nothing in the store" "$(ls -A "$TMP/hstore/blobs" "$TMP/hstore/tmp" 2>&1 | grep -vc ':$\|^$')" 0
for bad in 0 x; do
  check_fails "ACTOOL_FETCH_DEADLINE=$bad is a usage error" 2 'ACTOOL_FETCH_DEADLINE: "'"$bad"'" is not a number' \
    env ACTOOL_FETCH_DEADLINE=$bad "$ACTOOL" --dir="$TMP/hstore" fetch 127.0.0.1/many/app
done

done_testing
