#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile archives against the store: fetch must refuse every crafted image
# that could write outside its root (exit 1, an error naming the file) and
# leave nothing behind; render and extract must never write through a
# symlink, whatever the layers hold (docs/store.md, "Import" and "Render").
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

T="timeout 60"
IN=$TMP/in
L=$TMP/layouts
D=$TMP/dest
mkdir -p "$IN" "$L" "$D"
# Host directories an image must never reach, outside $TMP on purpose.
SENT=$(mktemp -d /tmp/actool-sentinel.XXXXXX)
HOST=$(mktemp -d /tmp/actool-hostfiles.XXXXXX)
HUGE=
trap 'rm -rf "$TMP" "$SENT" "$HOST" ${HUGE:+"$HUGE"}' EXIT
echo "host secret" >"$HOST/secret"
# The name of every file a hostile entry tries to write.
P=actool-pwned-$$-$RANDOM

# ac STORE ARGS...: actool on STORE, unsigned images allowed.
ac() {
  local dir=$1
  shift
  $T "$ACTOOL" --dir="$dir" --insecure-options=image "$@"
}

MANIFEST='{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/hostile","labels":[{"name":"version","value":"1"}]}'

# craft OUT MEMBERS_JSON [MANIFEST]: a gzip ACI holding `manifest`, `rootfs/`
# and then MEMBERS_JSON, a list of {name, type (file, dir, symlink,
# hardlink, chr), data, link}, written as given (no name is cleaned up).
# Images are queued and made by craft_now (python starts slowly).
cat >"$TMP/craft.py" <<'PY'
import gzip, io, json, sys, tarfile
for line in open(sys.argv[1]):
    spec = json.loads(line)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        def add(name, kind="file", data=b"", link="", mode=None):
            ti = tarfile.TarInfo(name)
            ti.mtime, ti.uid, ti.gid, ti.uname, ti.gname = 1500000000, 0, 0, "root", "root"
            if kind == "file":
                ti.type, ti.size, ti.mode = tarfile.REGTYPE, len(data), mode or 0o644
                t.addfile(ti, io.BytesIO(data))
                return
            if kind == "dir":
                ti.type, ti.mode = tarfile.DIRTYPE, mode or 0o755
            elif kind == "symlink":
                ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, link, 0o777
            elif kind == "hardlink":
                ti.type, ti.linkname, ti.mode = tarfile.LNKTYPE, link, 0o644
            elif kind == "chr":
                ti.type, ti.devmajor, ti.devminor, ti.mode = tarfile.CHRTYPE, 1, 3, 0o666
            t.addfile(ti)
        add("manifest", data=spec["manifest"].encode())
        add("rootfs", "dir")
        for m in spec["members"]:
            add(m["name"], m.get("type", "file"), m.get("data", "x\n").encode(), m.get("link", ""))
    with open(spec["out"], "wb") as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))
PY
craft() {
  jq -cn --arg out "$1" --argjson members "$2" --arg manifest "${3:-$MANIFEST}" \
    '{out: $out, members: $members, manifest: $manifest}' >>"$TMP/craft.jsonl"
}
craft_now() {
  python3 "$TMP/craft.py" "$TMP/craft.jsonl" || echo "Bail out! python3 could not craft the images"
  : >"$TMP/craft.jsonl"
}

# holds FILE NAME: FILE's archive lists a member named exactly NAME (checks
# that the crafted image really is hostile).
holds() { tar -tPf "$1" 2>/dev/null | grep -qxF -e "$2" -e "$2/"; }

# escaped: every file named like the payload anywhere an entry could reach,
# and anything in the sentinel directory.
escaped() {
  {
    find / /etc /usr /var -maxdepth 1 -name "$P*" 2>/dev/null
    find /tmp -maxdepth 4 -name "$P*" 2>/dev/null
    # Our own layouts, and the rootfs of rendered trees and DESTs, hold
    # such names rightly; anywhere else in $TMP they escaped.
    find "$TMP" \( -path "$L" -o -path "$D/*/rootfs" -o -path "$D/*-rootfs" -o -path "$TMP/store*/trees/*/rootfs" \) \
      -prune -o -name "$P*" -print 2>/dev/null
    find "$SENT" -mindepth 1 2>/dev/null
  } | LC_ALL=C sort -u
}

# state STORE: what a refused import may have left in STORE.
state() {
  echo "images=$(ls -A "$1/images" 2>/dev/null | wc -l) blobs=$(ls -A "$1/blobs" 2>/dev/null | wc -l)" \
    "tmp=$(ls -A "$1/tmp" 2>/dev/null | wc -l) escaped=$(escaped | wc -l)"
}

# layout DIR MANIFEST: an empty image layout.
layout() {
  rm -rf "$1"
  mkdir -p "$1/rootfs"
  printf '%s' "$2" >"$1/manifest"
}
mf() { # NAME [DEPENDENCY NAME...]
  local name=$1 deps
  shift
  deps=$(printf '%s\n' "$@" | jq -Rcs 'split("\n") | map(select(. != "") | {imageName: .})')
  jq -cn --arg n "$name" --argjson d "$deps" \
    '{acKind: "ImageManifest", acVersion: "0.8.11", name: $n, labels: [{name: "version", value: "1"}]}
     + (if ($d | length) > 0 then {dependencies: $d} else {} end)'
}
# Every crafted image, made at once.
craft "$IN/good.aci" '[{"name":"rootfs/etc","type":"dir"},{"name":"rootfs/etc/file"},{"name":"rootfs/link","type":"symlink","link":"/etc"},{"name":"rootfs/hard","type":"hardlink","link":"rootfs/etc/file"}]'
craft "$IN/dotdot.aci" "[{\"name\":\"rootfs/../../$P-dotdot\"}]"
craft "$IN/dotdot-deep.aci" "[{\"name\":\"rootfs/../../../../../../../../../../tmp/$P-deep\"}]"
craft "$IN/dotdot-inner.aci" "[{\"name\":\"rootfs/a\",\"type\":\"dir\"},{\"name\":\"rootfs/a/../../../$P-inner\"}]"
craft "$IN/dotdot-dir.aci" "[{\"name\":\"rootfs/../$P-dir\",\"type\":\"dir\"}]"
craft "$IN/absolute-rootfs.aci" "[{\"name\":\"/rootfs/$P-abs\"}]"
craft "$IN/absolute-etc.aci" "[{\"name\":\"/etc/$P-etc\"}]"
craft "$IN/absolute-tmp.aci" "[{\"name\":\"/tmp/$P-tmp\"}]"
craft "$IN/symlink-abs.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/link/$P-sym\"}]"
craft "$IN/symlink-root.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"/\"},{\"name\":\"rootfs/link/tmp/$P-root\"}]"
craft "$IN/symlink-rel.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"../../../../../../../../../../..$SENT\"},{\"name\":\"rootfs/link/$P-rel\"}]"
craft "$IN/symlink-dotdot.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"../..\"},{\"name\":\"rootfs/link/$P-up\"}]"
craft "$IN/symlink-nested.aci" "[{\"name\":\"rootfs/dir\",\"type\":\"dir\"},{\"name\":\"rootfs/dir/link\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/dir/link/sub/$P-nested\"}]"
craft "$IN/symlink-then-dir.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/link/$P-newdir\",\"type\":\"dir\"}]"
craft "$IN/symlink-then-symlink.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/link/$P-evil\",\"type\":\"symlink\",\"link\":\"/etc/passwd\"}]"
craft "$IN/symlink-then-hardlink.aci" "[{\"name\":\"rootfs/f\"},{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/link/$P-hl\",\"type\":\"hardlink\",\"link\":\"rootfs/f\"}]"
craft "$IN/symlink-then-file.aci" "[{\"name\":\"rootfs/$P-same\",\"type\":\"symlink\",\"link\":\"$SENT/$P-same\"},{\"name\":\"rootfs/$P-same\"}]"
craft "$IN/hardlink-through-symlink.aci" "[{\"name\":\"rootfs/link\",\"type\":\"symlink\",\"link\":\"$HOST\"},{\"name\":\"rootfs/h\",\"type\":\"hardlink\",\"link\":\"rootfs/link/secret\"}]"
craft "$IN/hardlink-dotdot.aci" '[{"name":"rootfs/h","type":"hardlink","link":"../../etc/passwd"}]'
craft "$IN/hardlink-rootfs-dotdot.aci" '[{"name":"rootfs/h","type":"hardlink","link":"rootfs/../../etc/passwd"}]'
craft "$IN/hardlink-absolute.aci" '[{"name":"rootfs/h","type":"hardlink","link":"/etc/passwd"}]'
craft "$IN/hardlink-host.aci" "[{\"name\":\"rootfs/h\",\"type\":\"hardlink\",\"link\":\"$HOST/secret\"}]"
craft "$IN/hardlink-to-symlink.aci" "[{\"name\":\"rootfs/a\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/b\",\"type\":\"hardlink\",\"link\":\"rootfs/a\"},{\"name\":\"rootfs/b/$P-hls\"}]"
craft "$IN/hardlink-to-dir.aci" '[{"name":"rootfs/d","type":"dir"},{"name":"rootfs/h","type":"hardlink","link":"rootfs/d"}]'
deep=rootfs$(printf '/d%.0s' {1..2100})
craft "$IN/too-deep.aci" "[{\"name\":\"$deep\"}]"
craft "$IN/hardlink-later.aci" '[{"name":"rootfs/h","type":"hardlink","link":"rootfs/later"},{"name":"rootfs/later"}]'
craft "$IN/hardlink-missing.aci" '[{"name":"rootfs/h","type":"hardlink","link":"rootfs/missing"}]'
craft "$IN/hardlink-manifest.aci" '[{"name":"rootfs/h","type":"hardlink","link":"manifest"}]'
craft "$IN/big.aci" "[{\"name\":\"rootfs/data\",\"data\":\"$(head -c 60000 /dev/urandom | base64 -w0)\"}]"
craft "$IN/manifest-not-json.aci" '[]' 'this is not JSON'
craft "$IN/manifest-pod.aci" '[]' '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[]}'
craft "$IN/manifest-no-name.aci" '[]' '{"acKind":"ImageManifest","acVersion":"0.8.11"}'
craft "$IN/manifest-bad-name.aci" '[]' '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"../../etc"}'
craft "$IN/no-parents.aci" "[{\"name\":\"rootfs/usr/bin/$P-tool\"}]" "$(mf example.com/no-parents example.com/usr-link)"
craft "$IN/swap.aci" "[{\"name\":\"rootfs/lib\",\"type\":\"symlink\",\"link\":\"$SENT\"},{\"name\":\"rootfs/lib/$P-swap\"},{\"name\":\"rootfs/../../$P-swap-dotdot\"}]" "$(mf example.com/abs-link)"
craft_now

S=$TMP/store
CLEAN="images=0 blobs=0 tmp=0 escaped=0"

# refused DESCRIPTION FILE [MEMBER]: fetch refuses FILE naming it, and leaves
# nothing behind.  MEMBER, when given, must be in the archive as crafted.
refused() {
  local desc=$1 file=$2
  if [ $# -ge 3 ] && ! holds "$file" "$3"; then
    not_ok "$desc: the crafted image holds $3"
    return
  fi
  check_rejects "fetch refuses $desc" "$(regex_quote "$(basename "$file")")" ac "$S" fetch "$file"
  local got
  got=$(state "$S")
  is "$desc: nothing indexed, stored or written outside" "$got" "$CLEAN"
  [ "$got" = "$CLEAN" ] && return
  note "store: $(cd "$S" && find images blobs tmp -mindepth 1 2>&1 | head -n 20)" "escaped: $(escaped | head -n 20)"
  # Clean up so the next case starts afresh.
  rm -rf "${S:?}/images/"* "${S:?}/blobs/"* "${S:?}/blobs/".[!.]* "${S:?}/tmp/"* "${S:?}/tmp/".[!.]* "${SENT:?}/"* "${SENT:?}/".[!.]*
}

# A well-formed crafted image first: the crafting itself is sound.
run_capture ac "$TMP/store-good" fetch "$IN/good.aci"
is "a well-formed crafted image (with a symlink to /etc and a hard link) is accepted" "$status" 0
[ "$status" -eq 0 ] || note "stderr: $(head -c 1000 "$TMP/.err")"
check_clean "and verifies" ac "$TMP/store-good" image verify

# --- names that leave the root ------------------------------------------------

refused "an entry rootfs/../../NAME" "$IN/dotdot.aci" "rootfs/../../$P-dotdot"
refused "an entry rootfs/../../(...)/tmp/NAME" "$IN/dotdot-deep.aci" "rootfs/../../../../../../../../../../tmp/$P-deep"
refused "an entry rootfs/a/../../../NAME" "$IN/dotdot-inner.aci" "rootfs/a/../../../$P-inner"
refused "a directory entry rootfs/../NAME" "$IN/dotdot-dir.aci" "rootfs/../$P-dir"
refused "an absolute entry /rootfs/NAME" "$IN/absolute-rootfs.aci" "/rootfs/$P-abs"
refused "an absolute entry /etc/NAME" "$IN/absolute-etc.aci" "/etc/$P-etc"
refused "an absolute entry /tmp/NAME" "$IN/absolute-tmp.aci" "/tmp/$P-tmp"

# --- writing through a symlink of the same archive ----------------------------

refused "rootfs/link -> a host directory, then rootfs/link/NAME" "$IN/symlink-abs.aci" "rootfs/link/$P-sym"
refused "rootfs/link -> /, then rootfs/link/tmp/NAME" "$IN/symlink-root.aci" "rootfs/link/tmp/$P-root"
refused "rootfs/link -> ../../(...)/host directory, then rootfs/link/NAME" "$IN/symlink-rel.aci" "rootfs/link/$P-rel"
refused "rootfs/link -> ../.., then rootfs/link/NAME" "$IN/symlink-dotdot.aci" "rootfs/link/$P-up"
refused "rootfs/dir/link -> a host directory, then rootfs/dir/link/sub/NAME" "$IN/symlink-nested.aci" "rootfs/dir/link/sub/$P-nested"
refused "a symlink, then a directory entry below it" "$IN/symlink-then-dir.aci" "rootfs/link/$P-newdir"
refused "a symlink, then a symlink below it" "$IN/symlink-then-symlink.aci" "rootfs/link/$P-evil"
refused "a symlink, then a hard link named below it" "$IN/symlink-then-hardlink.aci" "rootfs/link/$P-hl"
refused "a hard link to a symlink, then an entry below the hard link" "$IN/hardlink-to-symlink.aci" \
  "rootfs/b/$P-hls"
refused "a hard link to a directory" "$IN/hardlink-to-dir.aci" rootfs/h
refused "an entry 2,100 directories deep (a name longer than PATH_MAX)" "$IN/too-deep.aci"
refused "a symlink, then a file of the same name" "$IN/symlink-then-file.aci"

# --- hard links to what is not an earlier entry under rootfs/ -----------------

refused "a hard link to rootfs/link/secret through a symlink to a host directory" "$IN/hardlink-through-symlink.aci" rootfs/h
refused "a hard link to ../../etc/passwd" "$IN/hardlink-dotdot.aci" rootfs/h
refused "a hard link to rootfs/../../etc/passwd" "$IN/hardlink-rootfs-dotdot.aci" rootfs/h
refused "a hard link to /etc/passwd" "$IN/hardlink-absolute.aci" rootfs/h
refused "a hard link to a host file" "$IN/hardlink-host.aci" rootfs/h
refused "a hard link to a later entry" "$IN/hardlink-later.aci" rootfs/h
refused "a hard link to an entry the image does not hold" "$IN/hardlink-missing.aci" rootfs/h
refused "a hard link to the manifest" "$IN/hardlink-manifest.aci" rootfs/h
is "the host file still has one link" "$(stat -c %h "$HOST/secret")" 1

# --- a sparse file of 2^62 bytes -----------------------------------------------
# A valid image: the store takes it; rendering fails at once (the file system
# holds no such file) instead of hashing 2^62 bytes of holes first.
python3 - "$IN/sparse-huge.aci" <<'PY'
import io, sys, tarfile
m = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/sparse"}'
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo("manifest"); i.size = len(m); t.addfile(i, io.BytesIO(m))
    i = tarfile.TarInfo("rootfs"); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    # PAX 1.0 sparse: the map (one 1-byte chunk at 0) leads the data
    data = (b"1\n0\n1\n" + bytes(506)) + b"X"
    i = tarfile.TarInfo("rootfs/GNUSparseFile.0/big")
    i.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0",
                     "GNU.sparse.name": "rootfs/big", "GNU.sparse.realsize": str(1 << 62)}
    i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
SP=$TMP/store-sparse
check "a sparse file of 2^62 bytes is a valid image" ac "$SP" fetch "$IN/sparse-huge.aci"
check_rejects "its render fails: the file system cannot hold it" 'big: truncate to 4611686018427387904 bytes' \
  timeout 60 "$ACTOOL" --dir="$SP" image render example.com/sparse "$TMP/sparse-out"
# (an export builds the store's tree of the image, hashing what it writes)
check_rejects "so does the tree an export builds, at once, not after hashing the holes" \
  'big: truncate to 4611686018427387904 bytes' \
  timeout 60 "$ACTOOL" --dir="$SP" image export --format=oci example.com/sparse "oci:$TMP/sparse-oci"

check_rejects "patch-manifest of it is refused at once, not 2^62 bytes of holes walked" \
  'rootfs/big: 4611686018427387904 bytes, more than the 17592186044416 an entry copied may hold' \
  timeout 60 "$ACTOOL" patch-manifest --name=example.com/sparse2 "$IN/sparse-huge.aci" "$TMP/sparse2.aci"

# --- a sparse file that claims data the archive does not hold -------------------
# An old GNU sparse header: one data region of 1 TiB, 512 bytes in the
# archive.  libarchive's reader pads such an entry with zeros; the image is
# corrupt, and a copy of it must not write a terabyte.
python3 "$top_srcdir/tests/integration/oci-craft.py" sparse-claim "$TMP/claim-entry.tar" rootfs/claim
python3 - "$IN/sparse-claim.aci" "$TMP/claim-entry.tar" <<'PY'
import io, sys, tarfile
m = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/claim"}'
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo("manifest"); i.size = len(m); t.addfile(i, io.BytesIO(m))
    i = tarfile.TarInfo("rootfs"); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
data = out.getvalue()
while data.endswith(bytes(512)):
    data = data[:-512]
open(sys.argv[1], "wb").write(data + open(sys.argv[2], "rb").read())
PY
refused "a sparse entry of 512 bytes whose map claims 1 TiB of data" "$IN/sparse-claim.aci" rootfs/claim
check_rejects "actool validate refuses it, naming the entry and where its data stops" \
  'rootfs/claim: the data stops at byte 512, and the header says there is data up to byte 1099511627776' \
  timeout 60 "$ACTOOL" validate "$IN/sparse-claim.aci"
check_rejects "patch-manifest refuses it at once, writing no terabyte of zeros" \
  'rootfs/claim: the data stops at byte 512' \
  timeout 60 "$ACTOOL" patch-manifest --name=example.com/claim2 "$IN/sparse-claim.aci" "$TMP/claim2.aci"
is "... and leaves no output" "$(ls "$TMP/claim2.aci" 2>/dev/null | wc -l)" 0

# --- a pax global header ('g') --------------------------------------------------
# libarchive skips it; Python's tarfile and GNU tar apply its path= to every
# entry after it (here: all three become rootfs/x); the reference refuses it.
python3 - "$IN/pax-global.aci" <<'PY'
import io, sys, tarfile
m = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/global"}'
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT, pax_headers={"path": "rootfs/x"}) as t:
    i = tarfile.TarInfo("manifest"); i.size = len(m); t.addfile(i, io.BytesIO(m))
    i = tarfile.TarInfo("rootfs"); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    i = tarfile.TarInfo("rootfs/y"); i.size = 2; t.addfile(i, io.BytesIO(b"y\n"))
PY
is "Python's tarfile reads every entry of it as rootfs/x" \
  "$(python3 -c 'import sys, tarfile; print(" ".join(tarfile.open(sys.argv[1]).getnames()))' "$IN/pax-global.aci")" \
  "rootfs/x rootfs/x rootfs/x"
check_rejects "actool validate refuses an image with a pax global header, naming where it is" \
  "pax-global\\.aci: invalid tar archive: a pax global header \\('g'\\) at byte 0: other tar readers apply it" \
  timeout 60 "$ACTOOL" validate "$IN/pax-global.aci"
refused "an image with a pax global header ('g')" "$IN/pax-global.aci"
is "... saying why" "$(grep -c "a pax global header ('g') at byte 0" "$TMP/.err")" 1

# --- two headers naming one entry ------------------------------------------------
# A GNU long name ('L') and a pax path= for one entry, two 'L's, a pax
# linkpath= and a GNU long link ('K'), a Solaris pax header ('X'), a path=
# holding a NUL: libarchive reads rootfs/..., another reader (named below)
# the name outside the root.  Refused, naming the entry and both headers.
python3 - "$IN" "$P-stacked" <<'PY'
import gzip, sys
D, EVIL = sys.argv[1], sys.argv[2].encode()
M = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/stacked"}'
def hdr(name, typ=b"0", size=0, mode=0o644, link=b""):
    h = bytearray(512)
    h[0:len(name)] = name; h[100:108] = b"%07o\0" % mode; h[108:116] = h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size; h[136:148] = b"13000000000\0"; h[156:157] = typ
    h[157:157 + len(link)] = link; h[257:265] = b"ustar\x0000"; h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)
pad = lambda d: d + b"\0" * (-len(d) % 512)
def rec(k, v):
    body = b" " + k + b"=" + v + b"\n"; n = len(body) + 1
    while len(str(n)) + len(body) != n: n = len(str(n)) + len(body)
    return str(n).encode() + body
def pax(typ=b"x", **kv):
    d = b"".join(rec(k.encode(), v) for k, v in kv.items())
    return hdr(b"PaxHeader", typ, len(d)) + pad(d)
def long(typ, name): d = name + b"\0"; return hdr(b"././@LongLink", typ, len(d)) + pad(d)
def ent(name, data=b"x"): return hdr(name, b"0", len(data)) + pad(data)
base = ent(b"manifest", M) + hdr(b"rootfs/", b"5", 0, 0o755) + ent(b"rootfs/a")
images = {
    "pax-then-L": pax(path=b"rootfs/b") + long(b"L", EVIL) + ent(b"rootfs/c"),
    "L-then-pax": long(b"L", b"rootfs/b") + pax(path=EVIL) + ent(b"rootfs/c"),
    "L-then-L": long(b"L", EVIL) + long(b"L", b"rootfs/b") + ent(b"rootfs/c"),
    "linkpath-then-K": pax(linkpath=b"rootfs/a") + long(b"K", b"../../../../etc/passwd")
                       + hdr(b"rootfs/h", b"1", 0, 0o644, b"rootfs/a"),
    "solaris-X": pax(b"X", path=b"rootfs/b") + ent(EVIL),
    "path-nul": pax(path=b"rootfs/b\0/../../../../" + EVIL) + ent(b"rootfs/c"),
}
for name, chain in images.items():
    with gzip.open("%s/%s.aci" % (D, name), "wb") as f:
        f.write(base + chain + b"\0" * 1024)
PY
pylast() {
  python3 -c 'import sys, tarfile; print(repr(tarfile.open(sys.argv[1]).getnames()[-1]))' "$1" 2>&1
}
is "GNU tar reads the entry of an 'L' then a pax path by the pax path" \
  "$(tar -tf "$IN/L-then-pax.aci" | tail -n 1)" "$P-stacked"
is "Python's tarfile reads the entry of two 'L's by the first" \
  "$(pylast "$IN/L-then-L.aci")" "'$P-stacked'"
is "Python's tarfile reads a path= holding a NUL whole" \
  "$(pylast "$IN/path-nul.aci")" "'rootfs/b\\x00/../../../../$P-stacked'"
at=$((5 * 512))
check_rejects "actool validate refuses a pax path then an 'L', naming the entry and both" \
  "pax-then-L\\.aci: invalid tar archive: rootfs/b: a pax path record at byte $at and a GNU long name header \\('L'\\) at byte $((at + 1024)) both give its name" \
  timeout 60 "$ACTOOL" validate "$IN/pax-then-L.aci"
check_rejects "... an 'L' then a pax path" \
  "L-then-pax\\.aci: invalid tar archive: rootfs/b: a GNU long name header \\('L'\\) at byte $at and a pax path record at byte $((at + 1024)) both give its name" \
  timeout 60 "$ACTOOL" validate "$IN/L-then-pax.aci"
check_rejects "... two 'L's" \
  "L-then-L\\.aci: invalid tar archive: rootfs/b: a GNU long name header \\('L'\\) at byte $at and a GNU long name header" \
  timeout 60 "$ACTOOL" validate "$IN/L-then-L.aci"
check_rejects "... a pax linkpath then a 'K'" \
  "linkpath-then-K\\.aci: invalid tar archive: rootfs/h: a pax linkpath record at byte $at and a GNU long link header \\('K'\\) at byte $((at + 1024)) both give its link target" \
  timeout 60 "$ACTOOL" validate "$IN/linkpath-then-K.aci"
check_rejects "... a Solaris pax header ('X')" \
  "solaris-X\\.aci: invalid tar archive: a Solaris pax header \\('X'\\) at byte $at" \
  timeout 60 "$ACTOOL" validate "$IN/solaris-X.aci"
check_rejects "... a pax path holding a NUL" \
  "path-nul\\.aci: invalid tar archive: rootfs/b: a pax path record at byte $at holds a NUL byte" \
  timeout 60 "$ACTOOL" validate "$IN/path-nul.aci"
for img in pax-then-L L-then-pax L-then-L linkpath-then-K solaris-X path-nul; do
  refused "an image whose entry is named twice or unclearly ($img)" "$IN/$img.aci"
done
is "... saying why" "$(grep -c "rootfs/b: a pax path record at byte $at holds a NUL byte" "$TMP/.err")" 1
check_rejects "patch-manifest refuses one too" \
  "L-then-pax\\.aci: invalid tar archive: rootfs/b: a GNU long name header" \
  timeout 60 "$ACTOOL" patch-manifest --name=example.com/stacked2 "$IN/L-then-pax.aci" "$TMP/stacked2.aci"
is "... and leaves no output" "$(ls "$TMP/stacked2.aci" 2>/dev/null | wc -l)" 0

# What tar writers make of long names gives each entry one name: GNU tar's
# 'L' and 'K', and its pax path= and linkpath= beside other records, are
# fetched.
long=$(printf 'n%.0s' {1..150})
mkdir -p "$TMP/long-layout/rootfs/$long" &&
  echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/long"}' \
    >"$TMP/long-layout/manifest" &&
  echo x >"$TMP/long-layout/rootfs/$long/$long" &&
  ln -s "../$long/$long" "$TMP/long-layout/rootfs/$long/link-$long" &&
  ln "$TMP/long-layout/rootfs/$long/$long" "$TMP/long-layout/rootfs/hard" &&
  (cd "$TMP/long-layout" && tar --format=gnu -cf "$IN/long-gnu.aci" manifest rootfs &&
    tar --format=posix --pax-option=SCHILY.xattr.user.a:=1 -cf "$IN/long-pax.aci" manifest rootfs)
for img in long-gnu long-pax; do
  check "actool validate takes GNU tar's $img.aci" "$ACTOOL" validate "$IN/$img.aci"
  run_capture ac "$TMP/store-long" fetch "$IN/$img.aci"
  is "... and fetch imports it" "$status" 0
done

# --- a real sparse file (tar --sparse): a copy keeps it sparse ------------------
mkdir -p "$TMP/sparse-layout/rootfs" &&
  echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/holes"}' \
    >"$TMP/sparse-layout/manifest" &&
  truncate -s 1G "$TMP/sparse-layout/rootfs/holes" &&
  printf x | dd of="$TMP/sparse-layout/rootfs/holes" bs=1 seek=700000000 conv=notrunc status=none &&
  (cd "$TMP/sparse-layout" && tar --sparse --format=pax -cf "$IN/holes.aci" manifest rootfs)
check "actool validate takes an image holding a 1 GiB sparse file" "$ACTOOL" validate "$IN/holes.aci"
check "patch-manifest of it" "$ACTOOL" patch-manifest --name=example.com/holes2 "$IN/holes.aci" \
  "$TMP/holes2.aci"
is "... is as small as the original (the holes stay holes)" \
  "$(($(stat -c %s "$TMP/holes2.aci") < 1048576))" 1
mkdir -p "$TMP/holes2" && tar -xf "$TMP/holes2.aci" -C "$TMP/holes2" 2>/dev/null
check "... and its file is the original's, byte for byte" \
  cmp "$TMP/sparse-layout/rootfs/holes" "$TMP/holes2/rootfs/holes"

# The holes' zeros come from a 1 GiB mapping that reserves no memory, or a
# 1 MiB one where the address space is limited (ulimit -v).
check "build of a layout holding a 1 GiB sparse file" \
  "$ACTOOL" build --no-compression "$TMP/sparse-layout" "$TMP/holes-plain.aci"
if sanitized; then
  skip "the same build under ulimit -v 600000" "ASan reserves more address space than that"
else
  check "the same build under ulimit -v 600000 (less than the 1 GiB mapping)" \
    bash -c 'ulimit -v 600000 && exec "$@"' limited \
    "$ACTOOL" build --no-compression "$TMP/sparse-layout" "$TMP/holes-limited.aci"
  check "... gives the same image" cmp "$TMP/holes-plain.aci" "$TMP/holes-limited.aci"
fi
rm -f "$TMP/holes-plain.aci" "$TMP/holes-limited.aci"

# --- a real sparse file of 8 TiB: it costs what its data costs -----------------
# Each step below once read or hashed every byte of the holes (a build 28 s,
# a tree's content hash 79 s and its verify 108 s for 100 GiB); "timeout 60"
# guards against a hang, it measures nothing.
TERA=$TMP/tera
mkdir -p "$TERA/rootfs" &&
  echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/tera"}' >"$TERA/manifest" &&
  truncate -s 8T "$TERA/rootfs/big" &&
  printf end | dd of="$TERA/rootfs/big" bs=1 seek=$(((8 << 40) - 3)) conv=notrunc status=none
check "build of a layout holding an 8 TiB sparse file" \
  timeout 60 "$ACTOOL" build "$TERA" "$IN/tera.aci"
is "... is small (the holes stay holes)" "$(($(stat -c %s "$IN/tera.aci") < 65536))" 1
TS=$TMP/store-tera
check "its import" timeout 60 "$ACTOOL" --dir="$TS" --insecure-options=image fetch "$IN/tera.aci"
check "a render (no tree yet)" timeout 60 "$ACTOOL" --dir="$TS" image render example.com/tera "$TMP/tera-1"
check "a second render, which builds the cached tree and hashes its content" \
  timeout 60 "$ACTOOL" --dir="$TS" image render example.com/tera "$TMP/tera-2"
is "... the file has its size and its data" \
  "$(stat -c %s "$TMP/tera-2/rootfs/big"):$(tail -c 3 "$TMP/tera-2/rootfs/big")" "$(((8 << 40))):end"
check "verify of the tree, which hashes the file again" timeout 60 "$ACTOOL" --dir="$TS" image verify
rm -rf "$TERA" "$TMP/tera-1" "$TMP/tera-2" "$TS"
# More than ext4 holds (16 TiB): a tmpfs holds it, an image may not.
if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ]; then
  HUGE=$(mktemp -d /dev/shm/actool-huge.XXXXXX)
  mkdir -p "$HUGE/rootfs" &&
    echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/huge"}' >"$HUGE/manifest"
  truncate -s 17T "$HUGE/rootfs/big" && printf x >>"$HUGE/rootfs/big"
  check_rejects "build refuses a sparse file of 17 TiB, more than an image may hold" \
    'big: a sparse file of 18691697672193 bytes, more than the 17592186044416' \
    timeout 60 "$ACTOOL" build "$HUGE" "$IN/huge.aci"
  rm -rf "$HUGE"
  HUGE=
else
  note "/dev/shm is no tmpfs: no file of 17 TiB to build"
fi

# --- broken archives and manifests --------------------------------------------

size=$(stat -c %s "$IN/big.aci")
head -c $((size / 2)) "$IN/big.aci" >"$IN/truncated.aci"
refused "a truncated gzip image" "$IN/truncated.aci"
head -c $((size - 4)) "$IN/big.aci" >"$IN/no-trailer.aci"
refused "a gzip image without its size trailer" "$IN/no-trailer.aci"
{ head -c $((size / 2)) "$IN/big.aci"; head -c 1000 /dev/urandom; tail -c +$((size / 2 + 1001)) "$IN/big.aci"; } >"$IN/corrupt.aci"
refused "a gzip image with garbage in the middle" "$IN/corrupt.aci"
refused "an image whose manifest is not JSON" "$IN/manifest-not-json.aci"
refused "an image whose manifest is a pod manifest" "$IN/manifest-pod.aci"
refused "an image whose manifest has no name" "$IN/manifest-no-name.aci"
refused "an image whose name is ../../etc" "$IN/manifest-bad-name.aci"
# A gzip bomb: 512 MiB of zeros in one entry, about 0.5 MiB compressed. It is a
# valid image, so it is accepted; what matters is that the import streams it
# (memory stays small) and refuses nothing else.
bomb=$TMP/bomb-store
python3 - "$IN/bomb.aci" <<'PY'
import gzip, io, sys, tarfile
m = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bomb"}'
with gzip.open(sys.argv[1], "wb", compresslevel=9) as gz:
    with tarfile.open(fileobj=gz, mode="w|", format=tarfile.PAX_FORMAT) as t:
        i = tarfile.TarInfo("manifest"); i.size = len(m); t.addfile(i, io.BytesIO(m))
        i = tarfile.TarInfo("rootfs"); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
        class Zeros(io.RawIOBase):
            def __init__(self, n): self.n = n
            def readinto(self, b):
                k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
        size = 512 << 20
        i = tarfile.TarInfo("rootfs/zeros"); i.size = size
        t.addfile(i, io.BufferedReader(Zeros(size), 1 << 20))
PY
/usr/bin/time -f %M -o "$TMP/bomb.rss" "$ACTOOL" --dir="$bomb" --insecure-options=image fetch "$IN/bomb.aci" >"$TMP/.out" 2>"$TMP/.err"
bomb_status=$?
bomb_rss=$(tail -n1 "$TMP/bomb.rss")
# AddressSanitizer's own shadow memory makes any RSS bound meaningless.
bomb_limit=65536
sanitized && bomb_limit=1048576
if [ "$bomb_status" -eq 0 ] && [ "${bomb_rss:-999999}" -lt "$bomb_limit" ]; then
  ok "a gzip bomb (512 MiB of zeros) is imported in bounded memory (${bomb_rss} KiB peak)"
else
  not_ok "a gzip bomb (512 MiB of zeros) is imported in bounded memory"
  diag "exit $bomb_status, peak RSS ${bomb_rss:-?} KiB" "$(head -c 1000 "$TMP/.err")"
fi
rm -rf "$bomb" "$IN/bomb.aci"

# Deep paths beside a symlink: 12,000 files 2,000 directories deep.  Each
# entry is checked for a symlink among its ancestors; hashing every
# ancestor's path anew made that quadratic in the depth (17 s for 3,000
# files, some 70 s for these).  "timeout 30" guards against that (the
# check takes a second or two), it measures nothing.
python3 - "$IN/deep.aci" <<'PY'
import io, sys, tarfile
m = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/deep"}'
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    i = tarfile.TarInfo("manifest"); i.size = len(m); t.addfile(i, io.BytesIO(m))
    path = "rootfs"
    for _ in range(2001):
        i = tarfile.TarInfo(path); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
        path += "/a"
    path = path[:-2]
    i = tarfile.TarInfo(path + "/link"); i.type = tarfile.SYMTYPE; i.linkname = "../x"; t.addfile(i)
    for k in range(12000):
        i = tarfile.TarInfo("%s/f%d" % (path, k)); t.addfile(i, io.BytesIO(b""))
    i = tarfile.TarInfo(path + "/link/below"); t.addfile(i, io.BytesIO(b""))
PY
check_rejects "12,000 files 2,000 directories deep, the last below a symlink: refused, naming it" \
  'rootfs/(a/){1999}a/link/below: below the symlink rootfs/(a/){1999}a/link' \
  timeout 30 "$ACTOOL" --dir="$TMP/deep-store" --insecure-options=image fetch "$IN/deep.aci"
rm -rf "$TMP/deep-store" "$IN/deep.aci"

run_capture ac "$S" image list --json
is "after every refusal, image list is empty" "$status:$(jq -c . "$TMP/.out" 2>&1)" "0:[]"
check_clean "and the store verifies" ac "$S" image verify

# --- render: symlinks from one layer, paths from another ----------------------

mkaci() { # LAYOUT OUT: build OUT (one TAP line)
  run_capture "$ACTOOL" build "$1" "$2"
  if [ "$status" -eq 0 ]; then ok "build $(basename "$2")"; else
    not_ok "build $(basename "$2")"
    note "stderr: $(head -c 1000 "$TMP/.err")"
  fi
}
R=$TMP/store-render

# B: rootfs/lib -> the sentinel (absolute); A on top: a real directory lib/.
layout "$L/abs-link" "$(mf example.com/abs-link)"
ln -s "$SENT" "$L/abs-link/rootfs/lib"
layout "$L/over-abs" "$(mf example.com/over-abs example.com/abs-link)"
mkdir -p "$L/over-abs/rootfs/lib"
echo top >"$L/over-abs/rootfs/lib/$P-file"
# The same with a relative link climbing out of the rootfs.
layout "$L/rel-link" "$(mf example.com/rel-link)"
ln -s "../../../../../../../../../../..$SENT" "$L/rel-link/rootfs/lib"
layout "$L/over-rel" "$(mf example.com/over-rel example.com/rel-link)"
mkdir -p "$L/over-rel/rootfs/lib"
echo top >"$L/over-rel/rootfs/lib/$P-file"
# The top image's symlink over a dependency's directory full of files.
layout "$L/dir-below" "$(mf example.com/dir-below)"
mkdir -p "$L/dir-below/rootfs/lib/sub"
echo below >"$L/dir-below/rootfs/lib/$P-below"
echo below >"$L/dir-below/rootfs/lib/sub/$P-below-sub"
ln -s "$SENT" "$L/dir-below/rootfs/lib/sub/link"
layout "$L/link-over-dir" "$(mf example.com/link-over-dir example.com/dir-below)"
ln -s "$SENT" "$L/link-over-dir/rootfs/lib"
# A dependency with a hard link under a directory the top image makes a
# symlink to a host directory holding a file of the same name.
layout "$L/hl-below" "$(mf example.com/hl-below)"
mkdir -p "$L/hl-below/rootfs/etc"
echo below >"$L/hl-below/rootfs/etc/secret"
ln "$L/hl-below/rootfs/etc/secret" "$L/hl-below/rootfs/hard"
layout "$L/etc-link" "$(mf example.com/etc-link example.com/hl-below)"
ln -s "$HOST" "$L/etc-link/rootfs/etc"
for n in abs-link over-abs rel-link over-rel dir-below link-over-dir hl-below etc-link; do
  mkaci "$L/$n" "$IN/$n.aci"
done
# A top image without directory entries for its file's parents (crafted),
# over a dependency whose rootfs/usr is a symlink to the sentinel.
layout "$L/usr-link" "$(mf example.com/usr-link)"
ln -s "$SENT" "$L/usr-link/rootfs/usr"
mkaci "$L/usr-link" "$IN/usr-link.aci"
run_capture ac "$R" fetch "$IN"/{abs-link,over-abs,rel-link,over-rel,dir-below,link-over-dir,hl-below,etc-link,usr-link,no-parents}.aci
is "the render images (symlinks to host directories are allowed) are fetched" "$status:$(wc -l <"$TMP/.out")" "0:10"
[ "$status" -eq 0 ] || note "stderr: $(head -c 2000 "$TMP/.err")"

# rendered DESCRIPTION IMAGE DEST [--rootfs]: render succeeds.
check_clean "render a directory over a dependency's absolute symlink to a host directory" ac "$R" image render example.com/over-abs "$D/over-abs"
if [ -d "$D/over-abs/rootfs/lib" ] && [ ! -L "$D/over-abs/rootfs/lib" ] && [ -f "$D/over-abs/rootfs/lib/$P-file" ]; then
  ok "the file is in DEST/rootfs/lib, a real directory"
else
  not_ok "the file is in DEST/rootfs/lib, a real directory"
  note "$(ls -la "$D/over-abs/rootfs" "$D/over-abs/rootfs/lib" 2>&1)"
fi
is "nothing written through the symlink (sentinel empty)" "$(escaped)" ""
check_clean "render it with --rootfs" ac "$R" image render --rootfs example.com/over-abs "$D/over-abs-rootfs"
is "--rootfs: the file is in DEST/lib" "$([ -d "$D/over-abs-rootfs/lib" ] && [ ! -L "$D/over-abs-rootfs/lib" ] && ls "$D/over-abs-rootfs/lib")" "$P-file"
check_clean "extract the image with the symlink" ac "$R" image extract example.com/abs-link "$D/abs-link"
is "the symlink is extracted as a symlink" "$(readlink "$D/abs-link/rootfs/lib")" "$SENT"
check_clean "extract the top image alone" ac "$R" image extract example.com/over-abs "$D/over-abs-alone"
is "the top image's file is in its own directory" "$(ls "$D/over-abs-alone/rootfs/lib" 2>&1)" "$P-file"

check_clean "render a directory over a dependency's relative symlink climbing out" ac "$R" image render example.com/over-rel "$D/over-rel"
if [ -d "$D/over-rel/rootfs/lib" ] && [ ! -L "$D/over-rel/rootfs/lib" ] && [ -f "$D/over-rel/rootfs/lib/$P-file" ]; then
  ok "the file is in DEST/rootfs/lib, a real directory (relative link)"
else
  not_ok "the file is in DEST/rootfs/lib, a real directory (relative link)"
  note "$(ls -la "$D/over-rel/rootfs" "$D/over-rel/rootfs/lib" 2>&1)"
fi
is "nothing written through the relative symlink" "$(escaped)" ""

check_clean "render the top image's symlink over a dependency's directory" ac "$R" image render example.com/link-over-dir "$D/link-over-dir"
is "the top image's symlink wins" "$(readlink "$D/link-over-dir/rootfs/lib")" "$SENT"
is "the dependency's files are not written through it" "$(escaped)" ""

check_clean "render a dependency's hard link below the top image's symlink" ac "$R" image render example.com/etc-link "$D/etc-link"
is "the top image's symlink wins (etc)" "$(readlink "$D/etc-link/rootfs/etc")" "$HOST"
is "the host file gained no link and kept its content" "$(stat -c %h "$HOST/secret"):$(cat "$HOST/secret")" "1:host secret"
if [ -e "$D/etc-link/rootfs/hard" ] && [ "$(stat -c %i "$D/etc-link/rootfs/hard")" = "$(stat -c %i "$HOST/secret")" ]; then
  not_ok "the rendered hard link is not the host file"
else ok "the rendered hard link is not the host file"; fi
is "nothing else appeared in the host directory" "$(ls -A "$HOST")" secret

check_clean "render a file whose parent directory a dependency makes a symlink" ac "$R" image render example.com/no-parents "$D/no-parents"
if [ -d "$D/no-parents/rootfs/usr" ] && [ ! -L "$D/no-parents/rootfs/usr" ] && [ -f "$D/no-parents/rootfs/usr/bin/$P-tool" ]; then
  ok "the file is in DEST/rootfs/usr/bin, usr a real directory"
else
  not_ok "the file is in DEST/rootfs/usr/bin, usr a real directory"
  note "$(ls -la "$D/no-parents/rootfs" 2>&1)"
fi
is "nothing written through the dependency's usr symlink" "$(escaped)" ""

# A blob swapped behind the index for a hostile archive (import would have
# refused it): render and extract still never write outside DEST.
ID_SWAP=$(ac "$R" image list --json | jq -r '.[] | select(.name == "example.com/abs-link") | .id')
cp "$R/blobs/$ID_SWAP" "$TMP/abs-link.blob"
cp "$IN/swap.aci" "$R/blobs/$ID_SWAP"
check_rejects "verify notices the swapped blob" "$(regex_quote "$ID_SWAP")" ac "$R" image verify
for cmd in extract render; do
  run_capture ac "$R" image "$cmd" "$ID_SWAP" "$D/swap-$cmd"
  if ! crashed "$status" "$TMP/.err" && { [ "$status" -eq 0 ] || [ "$status" -eq 1 ]; }; then ok "image $cmd of the swapped blob ends cleanly (exit $status)"; else
    not_ok "image $cmd of the swapped blob ends cleanly"
    note "exit $status" "stderr: $(head -c 1000 "$TMP/.err")"
  fi
  is "image $cmd of the swapped blob wrote nothing outside DEST" "$(escaped)" ""
done
cp "$TMP/abs-link.blob" "$R/blobs/$ID_SWAP"

# --- a cached tree replaced by a symlink out of the store ----------------------
# trees/<key> a symlink to a copy of the tree outside the store, one file
# changed: render never follows it (it refuses the damaged tree rather than
# copy what is outside into DEST), verify names it, gc removes the symlink
# and nothing it points to.
TS=$TMP/store-treelink
layout "$L/treelink" "$(mf example.com/treelink)"
echo inside >"$L/treelink/rootfs/f"
mkaci "$L/treelink" "$IN/treelink.aci"
run_capture ac "$TS" fetch "$IN/treelink.aci"
for i in 1 2; do # the second render makes the cached tree
  rm -rf "$D/treelink"
  ac "$TS" image render example.com/treelink "$D/treelink" >/dev/null 2>&1
done
K_TS=$(ls "$TS/trees" | head -1)
is "the cached tree is made" "$(cat "$TS/trees/$K_TS/rootfs/f" 2>&1)" inside
cp -a "$TS/trees/$K_TS" "$TMP/outside-tree"
echo outside >"$TMP/outside-tree/rootfs/f"
rm -rf "$TS/trees/$K_TS"
ln -s "$TMP/outside-tree" "$TS/trees/$K_TS"
for how in "" --rootfs; do
  rm -rf "$D/treelink"
  check_rejects "render${how:+ $how} with trees/KEY a symlink out of the store: refused as damaged" \
    "$(regex_quote "$TS/trees/$K_TS"): rendered tree that is not a directory \(a symlink\?\), damaged" \
    ac "$TS" image render $how example.com/treelink "$D/treelink"
  is "... and DEST holds nothing from outside the store" "$(cat "$D/treelink/f" "$D/treelink/rootfs/f" 2>/dev/null)" ""
done
check_rejects "layout init --from with trees/KEY a symlink: refused as damaged" \
  "$(regex_quote "$TS/trees/$K_TS"): rendered tree that is not a directory" \
  ac "$TS" layout init --from=example.com/treelink --layout="$D/treelink-layout"
check_rejects "verify names trees/KEY, a symlink" \
  "^actool: $(regex_quote "$TS/trees/$K_TS"): rendered tree that is not a directory \(a symlink\?\)$" \
  ac "$TS" image verify
check_clean "gc (no grace given) removes the symlink" ac "$TS" image gc
is "... trees/ is empty, what it pointed to untouched" \
  "$(ls -A "$TS/trees"):$(cat "$TMP/outside-tree/rootfs/f"):$(ls "$TMP/outside-tree" | paste -sd' ')" \
  ":outside:digest format layers lock manifest rootfs"
rm -rf "$D/treelink"
check_clean "then render builds the tree again" ac "$TS" image render example.com/treelink "$D/treelink"
is "... from the store's layers" "$(cat "$D/treelink/rootfs/f")" inside
check_clean "... and the store verifies" ac "$TS" image verify
rm -rf "$TMP/outside-tree"

# --- device nodes -------------------------------------------------------------

layout "$L/dev" "$(mf example.com/dev)"
mkdir -p "$L/dev/rootfs/dev"
if mknod "$L/dev/rootfs/dev/null" c 1 3 2>/dev/null && mknod "$L/dev/rootfs/dev/loop0" b 7 0 2>/dev/null; then
  mkaci "$L/dev" "$IN/dev.aci"
  run_capture ac "$R" fetch "$IN/dev.aci"
  is "an image with device nodes is fetched" "$status" 0
  check_clean "render the image with device nodes" ac "$R" image render --rootfs example.com/dev "$D/dev"
  is "the character device is recreated" "$(stat -c '%F %t,%T' "$D/dev/dev/null" 2>&1)" "character special file 1,3"
  is "the block device is recreated" "$(stat -c '%F %t,%T' "$D/dev/dev/loop0" 2>&1)" "block special file 7,0"
  check_clean "extract the image with device nodes" ac "$R" image extract --rootfs example.com/dev "$D/dev-extract"
  is "extract recreates the character device" "$(stat -c '%F %t,%T' "$D/dev-extract/dev/null" 2>&1)" "character special file 1,3"
else
  skip "device nodes recreated" "mknod not permitted here"
fi

# --- damaged index records ----------------------------------------------------

# Each kind of damage to one image's info.json: listing names the record and
# still lists the other image, lookup by name still finds the other image,
# and verify names the record; nothing crashes (a non-string "id" once did).
X=$TMP/store-damaged
for v in 1 2; do
  layout "$L/dmg$v" "$(mf example.com/dmg$v)"
  mkaci "$L/dmg$v" "$IN/dmg$v.aci"
  run_capture ac "$X" fetch "$IN/dmg$v.aci"
  is "fetch dmg$v for the damaged-record tests" "$status" 0
done
ID_DMG=$(ac "$X" image list --json | jq -r '.[] | select(.name == "example.com/dmg1") | .id')
info=$X/images/$ID_DMG/info.json
cp "$info" "$TMP/dmg-info.bak"
damage() { jq -c "$1" "$TMP/dmg-info.bak" >"$info"; }
for kind in '.id = null' '.id = 7' '.id = {"a":1}' 'del(.id)' '.name = null' 'del(.labels)' \
  '.labels = [1, 2]' '.labels = [{"name": null, "value": "x"}]' '.size = "big"' '.importTime = null' \
  '[.]' 'null'; do
  damage "$kind"
  check_rejects "image list with info.json damaged ($kind) names the record" \
    "$(regex_quote "$info"): damaged index record" ac "$X" image list --full
  is "image list with info.json damaged ($kind) still lists the other image" \
    "$(grep -c 'example.com/dmg' "$TMP/.out")" 1
  check_clean "lookup by name with info.json damaged ($kind) finds the other image" \
    ac "$X" image cat-manifest example.com/dmg2
  check_rejects "image verify with info.json damaged ($kind) names the record" \
    "$(regex_quote "$info")" ac "$X" image verify
done
cp "$TMP/dmg-info.bak" "$info"
check_clean "the damaged-record store verifies once info.json is back" ac "$X" image verify

# A damaged record is repaired by fetching the image again (as a missing
# blob is), or removed by image rm with the full ID; a damaged blob is never
# passed on, and a blob that is a FIFO or a symlink is damage to everyone.
redamage() { # KIND: damage dmg1's record
  case $1 in
  truncated) truncate -s 20 "$info" ;;
  directory) rm -f "$info" && mkdir -p "$info/x" ;;
  manifest) rm -f "$X/images/$ID_DMG/manifest" && mkdir "$X/images/$ID_DMG/manifest" ;;
  esac
}
for kind in truncated directory manifest; do
  redamage $kind
  check_rejects "image verify finds the record damaged ($kind)" "$ID_DMG" \
    ac "$X" image verify
  check_clean "fetch of the image repairs its damaged record ($kind)" ac "$X" fetch "$IN/dmg1.aci"
  check_clean "the store verifies after the fetch ($kind)" ac "$X" image verify
  redamage $kind
  check_clean "image rm ID removes a damaged record ($kind)" ac "$X" image rm "$ID_DMG"
  is "image rm printed the ID ($kind)" "$(cat "$TMP/.out")" "$ID_DMG"
  is "the record and the blob are gone ($kind)" \
    "$(ls "$X/images" "$X/blobs" | grep -c "$ID_DMG")" 0
  check_clean "the store verifies after image rm ($kind)" ac "$X" image verify
  check_clean "fetch it again after image rm ($kind)" ac "$X" fetch "$IN/dmg1.aci"
done

Y=$TMP/store-blob
layout "$L/blob" "$(mf example.com/blob)"
printf 'marker-%s\n' qqqqqqqq >"$L/blob/rootfs/f"
run_capture "$ACTOOL" build --no-compression "$L/blob" "$IN/blob.aci"
is "build the uncompressed image for the damaged-blob tests" "$status" 0
ID_BLOB=$(ac "$Y" fetch "$IN/blob.aci")
blob=$Y/blobs/$ID_BLOB
cp "$blob" "$TMP/blob.bak"
off=$(grep -abo qqqqqqqq "$blob" | head -1 | cut -d: -f1)
printf 'X' | dd of="$blob" bs=1 seek="$off" conv=notrunc 2>/dev/null
check_rejects "image verify finds the flipped byte" "blob damaged" ac "$Y" image verify
check_rejects "image export of a damaged blob fails" \
  "$(regex_quote "$blob"): blob damaged: .*image verify" ac "$Y" image export "$ID_BLOB" "$D/blob.aci"
# To standard output the bytes go as they are read: the status says what they were.
check_rejects "image export of a damaged blob to stdout fails at its end" \
  "$(regex_quote "$blob"): blob damaged: .*image verify" ac "$Y" image export "$ID_BLOB" -
is "image export left no output" "$(ls -A "$D" | grep -c blob)" 0
for i in 1 2 3; do # straight into DEST, then a tree built, then the tree
  check_rejects "image render of a damaged blob fails ($i)" \
    "$(regex_quote "$blob"): blob damaged: .*image verify" ac "$Y" image render "$ID_BLOB" "$D/blob-r"
done
check_rejects "image extract of a damaged blob fails" "blob damaged" \
  ac "$Y" image extract "$ID_BLOB" "$D/blob-x"
is "render and extract left no DEST" "$(ls -A "$D" | grep -c blob)" 0
is "render left no tree and no temporary" "$(ls -A "$Y/trees" "$Y/tmp" | grep -vc ':$\|^$')" 0
# Fetching the image again repairs the blob damaged in place (same size, a
# byte flipped): the copy just read hashed to the image ID and takes the
# stored blob's place, as git or skopeo fetch a damaged object again.
is "the damaged blob is as large as the intact one" "$(stat -c %s "$blob")" "$(stat -c %s "$TMP/blob.bak")"
check_clean "fetch of the image again with its blob damaged" ac "$Y" fetch "$IN/blob.aci"
is "fetch printed the image ID" "$(cat "$TMP/.out")" "$ID_BLOB"
check_clean "image verify passes after the fetch again" ac "$Y" image verify
is "the blob is the fetched file's bytes again" "$(cmp "$blob" "$IN/blob.aci" && echo same)" same
is "the fetch left no temporary" "$(ls -A "$Y/tmp" "$Y/blobs" | grep -vc "^$ID_BLOB\$\|:\$\|^\$")" 0
check_clean "the intact blob renders" ac "$Y" image render "$ID_BLOB" "$D/blob-r"
is "with its content" "$(cat "$D/blob-r/rootfs/f")" "marker-qqqqqqqq"
check_clean "the intact blob exports" ac "$Y" image export "$ID_BLOB" "$D/blob.aci"
is "the same bytes" "$(cmp "$D/blob.aci" "$IN/blob.aci" && echo same)" same
# A tree rendered before the damage was made of bytes that hashed to the
# image ID: it serves renders still, and outlives the repair (its key is the
# layers' IDs), which leaves it as it is.
for i in 1 2; do
  check_clean "render the intact blob into a cached tree ($i)" \
    ac "$Y" image render --overwrite "$ID_BLOB" "$D/blob-r"
done
tree=$(ls "$Y/trees")
is "one tree is cached" "$(printf '%s\n' "$tree" | grep -c .)" 1
printf 'X' | dd of="$blob" bs=1 seek="$off" conv=notrunc 2>/dev/null
check_clean "the cached tree renders while the blob is damaged" \
  ac "$Y" image render --overwrite "$ID_BLOB" "$D/blob-r"
check_clean "fetch of the image again repairs the blob beside the tree" ac "$Y" fetch "$IN/blob.aci"
is "the tree is kept" "$(ls "$Y/trees")" "$tree"
check_clean "image verify passes, the tree's digest included" ac "$Y" image verify

rm "$blob"
mkfifo "$blob"
check_rejects "image export of a FIFO blob fails at once" \
  "$(regex_quote "$blob"): blob damaged: not a regular file" ac "$Y" image export "$ID_BLOB" "$D/fifo.aci"
check_rejects "image export - of a FIFO blob fails at once" "blob damaged: not a regular file" \
  ac "$Y" image export "$ID_BLOB" -
rm "$blob"
ln -s "$TMP/blob.bak" "$blob"
check_rejects "image verify reports a blob that is a symlink" \
  "$(regex_quote "$blob"): blob damaged: a symbolic link" ac "$Y" image verify
check_rejects "image export refuses it" "blob damaged: a symbolic link" \
  ac "$Y" image export "$ID_BLOB" "$D/link.aci"
rm "$blob"
cp "$TMP/blob.bak" "$blob"

manifest=$Y/images/$ID_BLOB/manifest
cp "$manifest" "$TMP/manifest.bak"
truncate -s 20 "$manifest"
for pp in "" --pretty-print; do
  check_rejects "image cat-manifest $pp of a truncated stored manifest fails naming it" \
    "$(regex_quote "$manifest"): damaged stored manifest" ac "$Y" image cat-manifest $pp "$ID_BLOB"
  is "and prints nothing ($pp)" "$(wc -c <"$TMP/.out")" 0
done
cp "$TMP/manifest.bak" "$manifest"
check_clean "the blob store verifies at the end" ac "$Y" image verify

check_clean "the render store verifies at the end" ac "$R" image verify
is "nothing anywhere outside the store and DESTs" "$(escaped)" ""

done_testing
