#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `actool layout debian` (docs/authoring.md, "Debian packages") against a
# Debian repository made here: .debs built with dpkg-deb (and hostile ones
# with ar and python's tarfile), indexed by dpkg-scanpackages, Release
# files signed with a gpg key made here, served by nginx over TLS from a
# test CA (tests/integration/lib-net.sh).  No public mirror is used.  Each
# suite of the repository (dists/SUITE) holds one situation: the good
# index, a Release signed by another key, a tampered InRelease, a Packages
# file that does not match Release, a .deb that does not match Packages, a
# .deb that is no ar archive, one whose data.tar climbs out with "../",
# Release + Release.gpg instead of InRelease, no signature at all, an
# expired Release, a mirror that stalls.  Every refusal must exit 1
# naming the rule, and leave the rootfs as it was.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
. "$top_srcdir/tests/integration/lib-net.sh" || exit 1

# actool's temporaries go here: the check at the end looks at this test's
# own, not at what another test running beside it has in /tmp.
export TMPDIR=$TMP/tmp
mkdir -p "$TMPDIR"
G=$TMP/gnupg
REPO=$NET_ROOT/debian
B=$TMP/debs
mkdir -p "$REPO/pool" "$B"
mkdir -m 0700 "$G"
trap 'gpgconf --homedir "$G" --kill gpg-agent >/dev/null 2>&1
  umount "$TMP/small" 2>/dev/null; net_cleanup; rm -rf "$TMP"' EXIT

net_require
for t in gpg gpgconf dpkg-deb dpkg-scanpackages dpkg ar python3 sha256sum; do
  command -v "$t" >/dev/null 2>&1 || net_fail "$t is installed (scripts/deps)"
done
unset ACTOOL_CACERT ACTOOL_DIR ACTOOL_HTTP_TIMEOUT ACTOOL_HTTP_RETRIES ACTOOL_LAYOUT
ARCH=$(dpkg --print-architecture)
T="timeout 120"

# --- the repository -----------------------------------------------------------

newkey KEY repo@example.com
newkey OTHER other@example.com
gpgt --export "$KEY" >"$TMP/keyring.gpg"
gpgt --export "$OTHER" >"$TMP/other.gpg"

# mkdeb NAME VERSION [CONTROL-LINES [FILE...]]: $B/NAME_VERSION.deb holding
# /usr/share/NAME/VERSION and the FILEs ("SRC:DEST" copied in, or
# "@TARGET:DEST" a symlink).
mkdeb() {
  local name=$1 version=$2 extra=${3:-} d=$TMP/build/$1-$2 f t
  rm -rf "$d"
  mkdir -p "$d/DEBIAN" "$d/usr/share/$name"
  echo "$name $version" >"$d/usr/share/$name/$version"
  shift 3 2>/dev/null || shift $#
  for f in "$@"; do
    mkdir -p "$d/$(dirname "${f#*:}")"
    case $f in
      @*) t=${f%%:*} && ln -sfn "${t#@}" "$d/${f#*:}" ;;
      *) cp "${f%%:*}" "$d/${f#*:}" ;;
    esac
  done
  (cd "$d" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0r md5sum) \
    >"$d/DEBIAN/md5sums"
  {
    echo "Package: $name"
    echo "Version: $version"
    echo "Architecture: $ARCH"
    echo "Maintainer: Test <test@example.com>"
    echo "Installed-Size: 10"
    [ -z "$extra" ] || printf '%s\n' "$extra"
    echo "Description: test package $name"
    echo " A package made by layout-debian.sh."
  } >"$d/DEBIAN/control"
  dpkg-deb --root-owner-group -Zgzip --build "$d" "$B/${name}_$version.deb" >/dev/null 2>"$TMP/.deb" ||
    net_fail "dpkg-deb $name" "$(cat "$TMP/.deb")"
}

# release SUITE [VALID-UNTIL]: dists/SUITE/Release listing
# main/binary-ARCH/Packages{,.gz}.
release() {
  local dir=$REPO/dists/$1 f
  {
    echo "Origin: actool tests"
    echo "Suite: $1"
    [ -z "${2:-}" ] || echo "Valid-Until: $2"
    echo "Architectures: $ARCH"
    echo "Components: main"
    echo "SHA256:"
    for f in main/binary-$ARCH/Packages main/binary-$ARCH/Packages.gz; do
      printf ' %s %s %s\n' "$(sha256sum <"$dir/$f" | cut -d' ' -f1)" "$(stat -c %s "$dir/$f")" "$f"
    done
  } >"$dir/Release"
}

# suite SUITE DEB...: dists/SUITE indexing the DEBs (copied into
# pool/SUITE), with an InRelease signed by KEY.  $VALID_UNTIL, when set,
# goes into Release.
suite() {
  local name=$1 dir=$REPO/dists/$1 p
  shift
  mkdir -p "$REPO/pool/$name" "$dir/main/binary-$ARCH"
  for p in "$@"; do cp "$p" "$REPO/pool/$name/"; done
  (cd "$REPO" && dpkg-scanpackages -m "pool/$name" /dev/null 2>/dev/null) \
    >"$dir/main/binary-$ARCH/Packages"
  gzip -9nk "$dir/main/binary-$ARCH/Packages"
  release "$name" "${VALID_UNTIL:-}"
  gpgt --yes --local-user "$KEY!" --output "$dir/InRelease" --clearsign "$dir/Release"
}

cp /bin/busybox "$TMP/busybox"
mkdeb hello 1.0 "Depends: libfoo (>= 1.0) | libbar, virt-x:any, cycle-a" \
  "$TMP/busybox:usr/bin/hello-busybox"
mkdeb libfoo 0.9
mkdeb libfoo 1.2 "Pre-Depends: libc-fake (>= 2.0~rc1)"
mkdeb libc-fake 2.0 "Multi-Arch: same"
mkdeb provider 3 "Provides: virt-x (= 1)"
mkdeb cycle-a 1 "Depends: cycle-b"
mkdeb cycle-b 1 "Depends: cycle-a (>= 1)"
mkdeb broken 1 "Depends: libfoo (>= 1.0), nonexistent (>= 2) | also-missing"
mkdeb needs-foo 1 "Depends: libfoo (>= 1.1)"
mkdeb bb 1.36 "" "$TMP/busybox:bin/busybox" "@busybox:bin/sh"
mkdeb sneaky 1 "" "$TMP/busybox:etc/sneaky/busybox"
mkdeb linkdir 1 "" "$TMP/busybox:etc/linkdir/busybox"
GOOD=("$B/hello_1.0.deb" "$B/libfoo_0.9.deb" "$B/libfoo_1.2.deb" "$B/libc-fake_2.0.deb"
  "$B/provider_3.deb" "$B/cycle-a_1.deb" "$B/cycle-b_1.deb" "$B/broken_1.deb"
  "$B/needs-foo_1.deb" "$B/bb_1.36.deb" "$B/sneaky_1.deb" "$B/linkdir_1.deb")
VALID_UNTIL="$(LC_ALL=C date -u -d '+2 days' '+%a, %d %b %Y %H:%M:%S UTC')" suite good "${GOOD[@]}"
# An empty component's index: an empty Packages (and Packages.gz of nothing).
suite empty

# A package with a postinst (for --configure).
printf '#!/bin/sh\necho "configured $1" >/configured-by-postinst\n' >"$TMP/postinst"
chmod 0755 "$TMP/postinst"
mkdeb scripted 1 "" "$TMP/postinst:DEBIAN/postinst"
suite scripts "$B/scripted_1.deb"

# A Release past its Valid-Until.
VALID_UNTIL="$(LC_ALL=C date -u -d '-1 day' '+%a, %d %b %Y %H:%M:%S UTC')" suite expired \
  "$B/provider_3.deb"

# Release + Release.gpg, no InRelease.
suite detached "${GOOD[@]}"
rm "$REPO/dists/detached/InRelease"
gpgt --yes --local-user "$KEY!" --armor --output "$REPO/dists/detached/Release.gpg" \
  --detach-sign "$REPO/dists/detached/Release"

# Signed by a key that is not in the keyring.
suite otherkey "${GOOD[@]}"
gpgt --yes --local-user "$OTHER!" --output "$REPO/dists/otherkey/InRelease" \
  --clearsign "$REPO/dists/otherkey/Release"

# Another suite's signed index served as dists/replay (a mirror holding
# users on an older suite): Suite says good.
suite replay "${GOOD[@]}"
cp "$REPO/dists/good/InRelease" "$REPO/dists/good/Release" "$REPO/dists/replay/"
cp -r "$REPO/dists/good/main" "$REPO/dists/replay/"

# An InRelease signed two days ahead of now.
suite future "${GOOD[@]}"
gpgt --yes --local-user "$KEY!" --faked-system-time "$(($(date +%s) + 2 * 86400))" \
  --output "$REPO/dists/future/InRelease" --clearsign "$REPO/dists/future/Release"

# Release without InRelease or Release.gpg.
suite unsigned "$B/provider_3.deb"
rm "$REPO/dists/unsigned/InRelease"

# An InRelease changed after it was signed.
suite tampered "${GOOD[@]}"
sed -i 's/^Suite: tampered/Suite: tampered!/' "$REPO/dists/tampered/InRelease"

# A Packages file that is not the one Release lists.
suite badpackages "${GOOD[@]}"
echo "" >>"$REPO/dists/badpackages/main/binary-$ARCH/Packages.gz"
echo "" >>"$REPO/dists/badpackages/main/binary-$ARCH/Packages"

# Release lists Packages.gz and Packages; the mirror lacks Packages.gz (a
# 404): the next one listed is taken, as apt takes it.
suite nogz "$B/provider_3.deb"
rm "$REPO/dists/nogz/main/binary-$ARCH/Packages.gz"
# ... but a Packages.gz that is not the one Release lists (same size, other
# bytes) is an attack, not a missing file: no other is tried.
suite badgz "$B/provider_3.deb"
python3 - "$REPO/dists/badgz/main/binary-$ARCH/Packages.gz" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xFF
open(p, "wb").write(b)
PY

# A .deb that is not the one Packages lists (same size, other bytes).
suite baddeb "${GOOD[@]}"
python3 - "$REPO/pool/baddeb/hello_1.0.deb" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[-100] ^= 0xFF
open(p, "wb").write(b)
PY

# swapdeb SUITE NAME FILE: dists/SUITE of the one package NAME 1, its .deb
# replaced by FILE, which the index then gives (Size, SHA256): a .deb that
# dpkg-deb would never make, served as the signed index says.
swapdeb() {
  local dir=$REPO/dists/$1/main/binary-$ARCH
  mkdeb "$2" 1
  suite "$1" "$B/$2_1.deb"
  cp "$3" "$REPO/pool/$1/$2_1.deb"
  python3 - "$dir/Packages" "$3" <<'PY'
import hashlib, re, sys
p, deb = sys.argv[1], sys.argv[2]
data = open(deb, "rb").read()
t = open(p).read()
t = re.sub(r"(?m)^SHA256: .*$", "SHA256: " + hashlib.sha256(data).hexdigest(), t)
t = re.sub(r"(?m)^Size: .*$", "Size: %d" % len(data), t)
open(p, "w").write(t)
PY
  gzip -9nkf "$dir/Packages"
  release "$1"
  gpgt --yes --local-user "$KEY!" --output "$REPO/dists/$1/InRelease" --clearsign "$REPO/dists/$1/Release"
}

# A .deb that is not an ar archive.
head -c 3000 /dev/urandom >"$TMP/noar.deb"
swapdeb noar noar "$TMP/noar.deb"

# A .deb whose control.tar member claims 9999999999 bytes and holds 10:
# refused saying why (the ar is cut short), not "(null)".
python3 - "$TMP/truncated.deb" <<'PY'
import sys
def member(name, data, size=None):
    h = b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name.encode(), 0, 0, 0, b"100644",
                                           len(data) if size is None else size)
    return h + data + (b"\n" if len(data) % 2 else b"")
open(sys.argv[1], "wb").write(b"!<arch>\n" + member("debian-binary", b"2.0\n") +
                             member("control.tar.gz", b"x" * 10, 9999999999))
PY
swapdeb truncated truncated "$TMP/truncated.deb"

# A .deb whose data.tar holds "./../../escaped".
python3 - "$TMP/evil" <<'PY'
import io, sys, tarfile
d = sys.argv[1]
import os
os.makedirs(d, exist_ok=True)
def tgz(name, members):
    with tarfile.open(os.path.join(d, name), "w:gz", format=tarfile.GNU_FORMAT) as t:
        for n, data in members:
            i = tarfile.TarInfo(n)
            i.size = len(data)
            i.mode = 0o644
            t.addfile(i, io.BytesIO(data))
tgz("control.tar.gz", [("./control", b"Package: evil\nVersion: 1\nArchitecture: all\nDescription: x\n")])
tgz("data.tar.gz", [("./usr/share/evil", b"fine\n"), ("./../../escaped", b"gotcha\n")])
open(os.path.join(d, "debian-binary"), "w").write("2.0\n")
PY
(cd "$TMP/evil" && ar rc "$B/evil_1.deb" debian-binary control.tar.gz data.tar.gz)
suite evil "$B/evil_1.deb"

# rawdeb NAME MEMBER...: $B/NAME_1.deb made as written, its data.tar of
# MEMBERs "PATH=DATA" (a file), "PATH@TARGET" (a symlink), "PATH#TARGET"
# (a hard link) or "PATH%MODE" (a directory, octal mode), in that order:
# what dpkg-deb would never make.
rawdeb() {
  local name=$1 d=$TMP/raw/$1
  shift
  python3 - "$d" "$name" "$@" <<'PY'
import io, os, sys, tarfile
d, name, members = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(d, exist_ok=True)
def tgz(file, entries):
    with tarfile.open(os.path.join(d, file), "w:gz", format=tarfile.GNU_FORMAT) as t:
        for m in entries:
            for sep, kind in (("=", None), ("@", tarfile.SYMTYPE), ("#", tarfile.LNKTYPE),
                              ("%", tarfile.DIRTYPE)):
                if sep in m:
                    path, rest = m.split(sep, 1)
                    break
            i = tarfile.TarInfo(path)
            i.mode = 0o644
            if kind == tarfile.DIRTYPE:
                i.type, i.mode = kind, int(rest, 8)
                t.addfile(i)
            elif kind:
                i.type, i.linkname = kind, rest
                t.addfile(i)
            else:
                data = rest.encode()
                i.size = len(data)
                t.addfile(i, io.BytesIO(data))
tgz("control.tar.gz", ["./control=Package: %s\nVersion: 1\nArchitecture: all\nDescription: x\n" % name])
tgz("data.tar.gz", members)
open(os.path.join(d, "debian-binary"), "w").write("2.0\n")
PY
  (cd "$d" && ar rc "$B/${name}_1.deb" debian-binary control.tar.gz data.tar.gz)
}

# A .deb whose data.tar holds a file, then a hard link to a file it never
# makes: refused before anything is unpacked, not halfway.
rawdeb dangling "./usr/share/dangling/file=first" "./usr/share/dangling/link#./usr/share/dangling/missing"
suite dangling "$B/dangling_1.deb"

# A .deb whose data.tar holds a symlink, then a file below it: refused
# before anything is unpacked (the unpacking would write through the link,
# or stop halfway).
rawdeb throughlink "./usr/share/throughlink/first=first" "./usr/share/throughlink/link@/nowhere" \
  "./usr/share/throughlink/link/f=x"
suite throughlink "$B/throughlink_1.deb"

# Failures the checks cannot foresee, while unpacking (the unpacking is
# staged: every file goes in as PATH.dpkg-new, renamed when all are in).
# stagea: new directories (one where the rootfs of the test has a file),
# a file, a symlink.  stageb: a file, a symlink and a hard link, then a
# file where the rootfs of the test has a directory that is not empty.
head -c 200000 /dev/urandom >"$TMP/200k"
mkdeb stagea 1 "" "$TMP/200k:opt/stagea/deep/file" "@file:opt/stagea/deep/link" \
  "$TMP/200k:opt/aside/file"
rawdeb stageb "./usr/share/stageb/first=one" "./usr/share/stageb/link@first" \
  "./usr/share/stageb/hard#./usr/share/stageb/first" "./etc/stagedir=a file"
# stagebig: 4 MB, for a file system with room for stagea only.
head -c 4000000 /dev/urandom >"$TMP/4m"
mkdeb stagebig 1 "" "$TMP/4m:usr/share/stagebig/big"
# hardok: a hard link and a symlink, installed.
rawdeb hardok "./usr/share/hardok/first=one" "./usr/share/hardok/hard#./usr/share/hardok/first" \
  "./usr/share/hardok/link@first"
# dirlate: a directory entry after a file in it, and one the rootfs of the
# test has.  linkfirst: a symlink; belowlink: a file below it.
rawdeb dirlate "./usr/share/dirlate/f=x" "./usr/share/dirlate%0750" "./usr/share/keepmode%0755"
rawdeb linkfirst "./opt/lnk@target"
rawdeb belowlink "./opt/lnk/f=x"
# overdir: a file where the rootfs of the test has an empty directory;
# intoalias: a file below a symlink of that rootfs to the same directory.
rawdeb overdir "./opt/e=file"
rawdeb intoalias "./opt/alias/g=x"
suite stage "$B/stagea_1.deb" "$B/stageb_1.deb" "$B/stagebig_1.deb" "$B/hardok_1.deb" \
  "$B/dirlate_1.deb" "$B/linkfirst_1.deb" "$B/belowlink_1.deb" "$B/overdir_1.deb" \
  "$B/intoalias_1.deb"

# The dpkg database, which the records are written into after the commit:
# a package may have its directories (dpkg's own has), not as a symlink or
# file, nor anything in them.
rawdeb dpkgdirs "./var%0755" "./var/lib%0755" "./var/lib/dpkg%0755" "./var/lib/dpkg/info%0755" \
  "./var/lib/dpkg/updates%0755" "./var/lib/dpkg/alternatives%0755"
rawdeb dpkglink "./var%0755" "./var/lib%0755" "./var/lib/dpkg@/tmp/elsewhere"
rawdeb varfile "./var=file"
rawdeb dpkginfo "./var/lib/dpkg/info/provider.postinst=exit 1"
rawdeb dpkgstatus "./var/lib/dpkg/status%0755"
suite dpkgdb "$B/dpkgdirs_1.deb" "$B/dpkglink_1.deb" "$B/varfile_1.deb" "$B/dpkginfo_1.deb" \
  "$B/dpkgstatus_1.deb"

# A suite as Debian 12's: usr-is-merged (and usrmerge, which provides it and
# would convert the rootfs), Essential packages, one of them depending on
# "usrmerge | usr-is-merged" as init-system-helpers does, and a package
# with a file in /bin.
mkdeb usr-is-merged 37
mkdeb usrmerge 37 "Provides: usr-is-merged"
mkdeb ess-a 1 "Essential: yes" "$TMP/busybox:bin/ess-a"
mkdeb ess-b 1 "Essential: yes
Depends: usrmerge | usr-is-merged"
mkdeb tool 1 "" "$TMP/busybox:bin/tool"
echo small >"$TMP/small-file"
mkdeb libthing 1 "" "$TMP/small-file:lib/thing/sub/file"
suite merged "$B/usr-is-merged_37.deb" "$B/usrmerge_37.deb" "$B/ess-a_1.deb" "$B/ess-b_1.deb" \
  "$B/tool_1.deb" "$B/stagebig_1.deb" "$B/libthing_1.deb"

# A .deb whose data.tar holds an old GNU sparse entry of 512 bytes claiming
# 1 TiB of data: refused before anything is unpacked.
mkdir -p "$TMP/claim"
python3 "$top_srcdir/tests/integration/oci-craft.py" sparse-claim "$TMP/claim/data.tar" \
  ./usr/share/claim/big
gzip -9n "$TMP/claim/data.tar"
python3 - "$TMP/claim" <<'PY'
import io, os, sys, tarfile
d = sys.argv[1]
# (an Installed-Size of 1 TiB: the size bound is not what refuses it)
control = b"Package: claim\nVersion: 1\nArchitecture: all\nInstalled-Size: 1073741824\nDescription: x\n"
with tarfile.open(os.path.join(d, "control.tar.gz"), "w:gz", format=tarfile.GNU_FORMAT) as t:
    i = tarfile.TarInfo("./control"); i.size = len(control); i.mode = 0o644
    t.addfile(i, io.BytesIO(control))
open(os.path.join(d, "debian-binary"), "w").write("2.0\n")
PY
(cd "$TMP/claim" && ar rc "$B/claim_1.deb" debian-binary control.tar.gz data.tar.gz)
suite claim "$B/claim_1.deb"

# A package that says it installs 10 KiB and makes 20,000 empty files (a
# .deb of 150 KB; one of a megabyte made a million, which no byte count
# sees): past one entry per KiB of its bound (16,404), refused.
python3 - "$B/many_1.deb" <<'PY'
import io, sys, tarfile

def tar(entries):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.GNU_FORMAT) as t:
        for name, data in entries:
            i = tarfile.TarInfo(name)
            i.type = tarfile.DIRTYPE if data is None else tarfile.REGTYPE
            i.mode = 0o755 if data is None else 0o644
            i.size = 0 if data is None else len(data)
            t.addfile(i, None if data is None else io.BytesIO(data))
    return out.getvalue()

control = b"Package: many\nVersion: 1\nArchitecture: all\nInstalled-Size: 10\nDescription: x\n"
members = [("debian-binary", b"2.0\n"), ("control.tar.gz", tar([("./control", control)])),
           ("data.tar.gz", tar([("./", None), ("./usr", None), ("./usr/share", None)] +
                               [("./usr/share/%05d" % i, b"") for i in range(20000)]))]
with open(sys.argv[1], "wb") as f:
    f.write(b"!<arch>\n")
    for name, data in members:
        f.write(b"%-16s%-12d%-6d%-6d%-8s%-10d`\n" % (name.encode(), 0, 0, 0, b"100644", len(data)))
        f.write(data + (b"\n" if len(data) % 2 else b""))
PY
suite many "$B/many_1.deb"

# A package that says it installs 1 KiB and holds 64 MiB (of zeros, a few
# KB compressed): refused before anything is unpacked.
mkdir -p "$TMP/build/bomb/DEBIAN" "$TMP/build/bomb/usr/share/bomb"
truncate -s 64M "$TMP/build/bomb/usr/share/bomb/zeros"
printf 'Package: bomb\nVersion: 1\nArchitecture: all\nInstalled-Size: 1\nMaintainer: T <t@example.com>\nDescription: x\n' \
  >"$TMP/build/bomb/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$TMP/build/bomb" "$B/bomb_1.deb" >/dev/null 2>&1 ||
  net_fail "dpkg-deb bomb"
rm -rf "$TMP/build/bomb"
suite bomb "$B/bomb_1.deb"
# The same where the index gives no Installed-Size: the control file's bounds it.
suite bombctl "$B/bomb_1.deb"
sed -i '/^Installed-Size:/d' "$REPO/dists/bombctl/main/binary-$ARCH/Packages"
rm -f "$REPO/dists/bombctl/main/binary-$ARCH/Packages.gz" &&
  gzip -9nk "$REPO/dists/bombctl/main/binary-$ARCH/Packages"
release bombctl
gpgt --yes --local-user "$KEY!" --output "$REPO/dists/bombctl/InRelease" --clearsign "$REPO/dists/bombctl/Release"

# A package that gives no Installed-Size, in the index or its control file,
# holding 20 MiB: bounded as if it gave 0 (16 MiB), not unbounded.
mkdir -p "$TMP/build/bombnone/DEBIAN" "$TMP/build/bombnone/usr/share/bombnone"
truncate -s 20M "$TMP/build/bombnone/usr/share/bombnone/zeros"
printf 'Package: bombnone\nVersion: 1\nArchitecture: all\nMaintainer: T <t@example.com>\nDescription: x\n' \
  >"$TMP/build/bombnone/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip --build "$TMP/build/bombnone" "$B/bombnone_1.deb" >/dev/null 2>&1 ||
  net_fail "dpkg-deb bombnone"
rm -rf "$TMP/build/bombnone"
suite bombnone "$B/bombnone_1.deb"

# An index whose Size for a package is beyond 64 bits.
suite hugesize "$B/bomb_1.deb"
sed -i 's/^Size: .*/Size: 99999999999999999999/' "$REPO/dists/hugesize/main/binary-$ARCH/Packages"
rm -f "$REPO/dists/hugesize/main/binary-$ARCH/Packages.gz" &&
  gzip -9nk "$REPO/dists/hugesize/main/binary-$ARCH/Packages"
release hugesize
gpgt --yes --local-user "$KEY!" --output "$REPO/dists/hugesize/InRelease" --clearsign "$REPO/dists/hugesize/Release"

# 300,000 packages providing "v" unversioned, then one providing "v (= 1)",
# and one depending on "v (= 1)" 300,000 times: looking at every provider
# for every group took two minutes at this size (Packages of 51 MB).
mkdeb vprov 1 "Provides: v (= 1)"
mkdeb vroot 1 "Depends: $(python3 -c 'print(", ".join(["v (= 1)"] * 300000))')"
suite cpu "$B/vprov_1.deb" "$B/vroot_1.deb"
python3 - "$REPO/dists/cpu/main/binary-$ARCH/Packages" <<'PY'
import sys
path = sys.argv[1]
rest = open(path).read()
with open(path, "w") as f:
    for i in range(300000):
        f.write("Package: u%d\nVersion: 1\nArchitecture: all\nProvides: v\n"
                "Filename: pool/none.deb\nSize: 1\nSHA256: %s\n\n" % (i, "0" * 64))
    f.write(rest)
PY
rm -f "$REPO/dists/cpu/main/binary-$ARCH/Packages.gz" && gzip -9nk "$REPO/dists/cpu/main/binary-$ARCH/Packages"
release cpu
gpgt --yes --local-user "$KEY!" --output "$REPO/dists/cpu/InRelease" --clearsign "$REPO/dists/cpu/Release"

# A mirror that answers nothing for 30 s.
echo "location = /debian/dists/stall/InRelease { echo_sleep 30; echo x; }" >"$NET_CONF_D/stall.conf"
net_start_nginx
M=https://localhost:$NET_PORT/debian

# lay DIR: a new layout.
lay() {
  rm -rf "$1"
  "$ACTOOL" layout init --layout="$1" --name=example.com/deb >/dev/null 2>&1 ||
    net_fail "layout init $1"
}
# inst DIR SUITE ARGS...: layout debian with the test's CA and keyring.
inst() {
  local dir=$1 s=$2
  shift 2
  $T "$ACTOOL" --cacert="$NET_CA" layout debian --layout="$dir" --mirror="$M" --suite="$s" \
    --keyring="$TMP/keyring.gpg" "$@"
}
# tree DIR: a listing of DIR's rootfs (names, types, sizes), to compare.
tree() { (cd "$1/rootfs" && find . -printf '%p %y %s\n' | sort); }

# --- installing ------------------------------------------------------------------

L=$TMP/l1
lay "$L"
run_capture inst "$L" good hello
is "hello and its dependencies are installed" "$status $(cut -d' ' -f1,2 "$TMP/.out" | sort | tr '\n' ' ')" \
  "0 cycle-a 1 cycle-b 1 hello 1.0 libc-fake 2.0 libfoo 1.2 provider 3 "
[ "$status" -eq 0 ] || note "$(cat "$TMP/.err")"
check "the package's files are in the rootfs" cmp "$TMP/busybox" "$L/rootfs/usr/bin/hello-busybox"
check "the highest version satisfying the constraint was chosen" \
  test -f "$L/rootfs/usr/share/libfoo/1.2" -a ! -e "$L/rootfs/usr/share/libfoo/0.9"
dpkg --root="$L/rootfs" -l >"$TMP/dpkg.out" 2>&1
check "dpkg --root lists the packages as installed" \
  grep -Eq "^ii +hello +1\.0 " "$TMP/dpkg.out"
check "dpkg --root lists the multi-arch package" grep -Eq "^ii +libc-fake(:$ARCH)? +2\.0 " "$TMP/dpkg.out"
check "dpkg -L knows the files of a package (info/PKG.list)" \
  sh -c "dpkg --root='$L/rootfs' -L hello | grep -qx /usr/bin/hello-busybox"
dpkg --root="$L/rootfs" -L libc-fake >"$TMP/dpkg.out" 2>"$TMP/dpkg.err"
check "dpkg -L knows a Multi-Arch: same package (info/PKG:ARCH.list, format 1)" \
  sh -c "grep -qx /usr/share/libc-fake/2.0 '$TMP/dpkg.out' && ! test -s '$TMP/dpkg.err'"
check "the md5sums are recorded" test -s "$L/rootfs/var/lib/dpkg/info/hello.md5sums"
check "dpkg --verify agrees with the files" dpkg --root="$L/rootfs" --verify hello
check "the layout still validates" "$ACTOOL" validate "$L"

# A second install: the installed packages satisfy, the status keeps them.
run_capture inst "$L" good needs-foo
is "what is installed already satisfies a dependency" "$status $(cat "$TMP/.out")" \
  "0 needs-foo 1 $ARCH"
dpkg --root="$L/rootfs" -l >"$TMP/dpkg.out" 2>&1
check "the earlier packages stay in the status" grep -Eq "^ii +hello +1\.0 " "$TMP/dpkg.out"
check "the new package is in the status" grep -Eq "^ii +needs-foo +1 " "$TMP/dpkg.out"

# held DIR STATUS: a new layout DIR whose dpkg status has libfoo 1.1 with
# STATUS ("WANT FLAG STATE").
held() {
  lay "$1"
  mkdir -p "$1/rootfs/var/lib/dpkg"
  printf 'Package: libfoo\nStatus: %s\nArchitecture: %s\nVersion: 1.1\nDescription: x\n\n' \
    "$2" "$ARCH" >"$1/rootfs/var/lib/dpkg/status"
}
# A package in the rootfs, whatever its selection (apt-mark hold writes
# "hold"), and one unpacked but not configured: its version meets the
# dependency, its entry stays as it was.
for st in "hold ok installed" "deinstall ok installed" "purge ok installed" \
  "install ok unpacked" "hold ok half-configured" "install ok triggers-pending"; do
  held "$TMP/lh" "$st"
  run_capture inst "$TMP/lh" good needs-foo
  is "libfoo 1.1 \"$st\" in the rootfs meets needs-foo's libfoo (>= 1.1): not replaced" \
    "$status $(cat "$TMP/.out")" "0 needs-foo 1 $ARCH"
  is "... its entry is kept as it was" \
    "$(grep -A3 '^Package: libfoo' "$TMP/lh/rootfs/var/lib/dpkg/status" | sed -n 's/^\(Status\|Version\): //p' | tr '\n' ' ')" \
    "$st 1.1 "
done
held "$TMP/lh" "hold ok installed"
inst "$TMP/lh" good needs-foo >/dev/null 2>&1
check "dpkg --root lists the held package as held, at its version" \
  sh -c "dpkg --root='$TMP/lh/rootfs' -l | grep -Eq '^hi +libfoo +1\.1 '"
# Its files gone (config-files, not-installed): the index's version goes in.
for st in "purge ok config-files" "install ok not-installed"; do
  held "$TMP/lh" "$st"
  run_capture inst "$TMP/lh" good needs-foo
  is "libfoo \"$st\" is not in the rootfs: the index's libfoo installs" \
    "$status $(cut -d' ' -f1,2 "$TMP/.out" | sort | tr '\n' ' ')" "0 libc-fake 2.0 libfoo 1.2 needs-foo 1 "
  is "... its entry replaced" \
    "$(sed -n 's/^Status: //p' "$TMP/lh/rootfs/var/lib/dpkg/status" | sort -u)" "install ok installed"
done
# Half-installed or to reinstall: what the rootfs holds of it is unknown.
for st in "install ok half-installed" "hold reinstreq installed"; do
  held "$TMP/lh" "$st"
  check_rejects "libfoo \"$st\" is refused" \
    "rootfs /var/lib/dpkg/status: package libfoo: status \"$st\": it must be reinstalled first" \
    inst "$TMP/lh" good needs-foo
done
held "$TMP/lh" "install ok installed"
check_rejects "NAME=VERSION of a package installed at another version says so" \
  "package libfoo=1\.2: another version of the package is installed \(1\.1\)" \
  inst "$TMP/lh" good libfoo=1.2
lay "$TMP/lh"
check_rejects "... and of one chosen at another version" \
  "package libfoo=1\.2: another version of the package is chosen \(0\.9\)" \
  inst "$TMP/lh" good libfoo=0.9 libfoo=1.2
held "$TMP/lh" "install fine installed"
check_rejects "a Status that is no dpkg status is refused" \
  "rootfs /var/lib/dpkg/status: package libfoo \(line 1\): \"install fine installed\" is not a dpkg status" \
  inst "$TMP/lh" good needs-foo

L2=$TMP/l2
lay "$L2"
check "Release + Release.gpg (no InRelease) works" inst "$L2" detached cycle-b
cp "$TMP/.out" "$TMP/cycle.out"
check "a dependency cycle ends" grep -q "^cycle-a 1 " "$TMP/cycle.out"
check "--debug shows the requests" sh -c "$(printf '%q ' $T "$ACTOOL") --debug --cacert='$NET_CA' layout debian --layout='$L2' --mirror='$M' --suite=good --keyring='$TMP/keyring.gpg' provider 2>&1 | grep -q 'GET $M/dists/good/InRelease'"

L2b=$TMP/l2b
lay "$L2b"
run_capture inst "$L2b" nogz --debug provider
is "a Packages.gz that Release lists and the mirror lacks: the next one listed, Packages, is taken" \
  "$status $(grep -c 'dists/nogz/main/binary-[^/]*/Packages\(\.gz\)\?: .*404.*; trying the next compression' "$TMP/.err") $(cat "$TMP/.out")" \
  "0 1 provider 3 $ARCH"
# Symlinks of the rootfs that point out of it are resolved inside it.
L5=$TMP/l5
lay "$L5"
mkdir -p "$TMP/outside" "$L5/rootfs/etc"
ln -s "$TMP/outside" "$L5/rootfs/etc/sneaky"
check "a package under a symlink of the rootfs that leads out installs" inst "$L5" good sneaky
check "nothing was written outside the rootfs" test -z "$(ls -A "$TMP/outside")"
check "the file is in the rootfs" cmp "$TMP/busybox" "$L5/rootfs/etc/sneaky/busybox"
# A symlink to a directory that exists both in the rootfs and on the host:
# the package's directory entry changes neither, its file goes in the rootfs.
mkdir -p "$TMP/outside2" "$L5/rootfs$TMP/outside2"
chmod 0700 "$TMP/outside2"
touch -d @1000000000 "$TMP/outside2"
ln -s "$TMP/outside2" "$L5/rootfs/etc/linkdir"
check "a package under a symlink to a directory installs" inst "$L5" good linkdir
check "the host's directory is unchanged" \
  test "$(stat -c '%a %Y' "$TMP/outside2")" = "700 1000000000" -a -z "$(ls -A "$TMP/outside2")"
check "the file went through the symlink, inside the rootfs" \
  cmp "$TMP/busybox" "$L5/rootfs$TMP/outside2/busybox"

# --- a busybox image under 2 MB ----------------------------------------------------

L3=$TMP/l3
lay "$L3"
check "a static busybox installs" inst "$L3" good bb
check "its symlink is made" test "$(readlink "$L3/rootfs/bin/sh")" = busybox
"$ACTOOL" layout set-exec --layout="$L3" -- /bin/sh -c true >/dev/null 2>&1
check "the layout builds" "$ACTOOL" build "$L3" "$TMP/bb.aci"
size=$(stat -c %s "$TMP/bb.aci" 2>/dev/null || echo 0)
check "the busybox image is under 2 MB ($size bytes)" test "$size" -gt 0 -a "$size" -lt 2000000

# --- refusals: exit 1, the rule named, the rootfs untouched ------------------------

L4=$TMP/l4
lay "$L4"
inst "$L4" good provider >/dev/null 2>&1 || net_fail "install provider into $L4"
tree "$L4" >"$TMP/before"

# rejects DESC PATTERN SUITE PKG...: refused, and the rootfs as it was.
rejects() {
  local desc=$1 pattern=$2
  shift 2
  check_rejects "$desc" "$pattern" inst "$L4" "$@"
  tree "$L4" >"$TMP/after"
  check "$desc: the rootfs is untouched" cmp -s "$TMP/before" "$TMP/after"
}
rejects "an unresolvable dependency" \
  "package broken 1: Depends: nonexistent \(>= 2\) \| also-missing: unresolvable dependency" \
  good broken
rejects "an unknown package" "package nosuch: not in the index" good nosuch
rejects "a package of an empty index" "package hello: not in the index" empty hello
rejects "a version the index does not have" "package libfoo=7: the index has no version" \
  good libfoo=7
rejects "a Release signed by a key not in the keyring" \
  "dists/otherkey/InRelease: signed by key $OTHER, which is not in the keyring" otherkey hello
rejects "another suite's signed index" \
  'dists/replay/Release: the index of suite "good" \(codename ""\), not of replay' replay hello
rejects "an InRelease signed two days ahead" \
  "dists/future/InRelease: the signature by key $KEY is dated [0-9-]+T[0-9:]+Z, in the future" \
  future hello
rejects "a Release without a signature" \
  "dists/unsigned/Release: no InRelease, and Release is not signed: .*Release.gpg.*404" \
  unsigned provider
rejects "an expired Release" "dists/expired/Release: expired \(Valid-Until " expired provider
start=$(date +%s)
# Whichever limit the stall hits first, the 2 s without data or the 3 s deadline, the
# message names it.
ACTOOL_HTTP_TIMEOUT=2 ACTOOL_HTTP_DEADLINE=3 ACTOOL_HTTP_RETRIES=0 \
  rejects "a mirror that stalls" \
  "dists/stall/InRelease: .*\((no data for 2 s|not done within the 3 s deadline)\)" stall provider
check "the stalled request ended at its deadline" test $(($(date +%s) - start)) -lt 20
rejects "a tampered InRelease" "dists/tampered/InRelease: bad signature" tampered hello
rejects "a Packages file that does not match Release" \
  "dists/badpackages/main/binary-$ARCH/Packages(\.xz|\.gz)?: (SHA256 .* does not match|[0-9]+ bytes, but|larger than the [0-9]+ bytes the index gives)" \
  badpackages hello
rejects "a Packages.gz that does not match Release: no fallback to Packages" \
  "dists/badgz/main/binary-$ARCH/Packages\.gz: SHA256 [0-9a-f]{64} does not match" badgz provider
rejects "a .deb that does not match the index" \
  "pool/baddeb/hello_1.0.deb: SHA256 [0-9a-f]{64} does not match the index's" baddeb hello
rejects "a .deb that is not an ar archive" "pool/noar/noar_1.deb: not a Debian package" \
  noar noar
rejects "a .deb whose control.tar is cut short: the message says why, not \"(null)\"" \
  "pool/truncated/truncated_1.deb: control.tar: Truncated ar archive" truncated truncated
rejects "a data.tar with ../ paths" \
  "pool/evil/evil_1.deb: data.tar: \"\./\.\./\.\./escaped\" is an absolute path or has a \"\.\.\" component" \
  evil evil
rejects "a .deb with a hard link to a file it does not make" \
  "pool/dangling/dangling_1.deb: data.tar: the hard link \./usr/share/dangling/link leads to \"\./usr/share/dangling/missing\", which is not a file of an entry before it" \
  dangling dangling
rejects "a .deb with a file below a symlink of its own" \
  "pool/throughlink/throughlink_1.deb: data.tar: \./usr/share/throughlink/link/f is below the symlink usr/share/throughlink/link of the same package" \
  throughlink throughlink
rejects "an index's Size beyond 64 bits: out of range, as written" \
  'package bomb 1: Size "99999999999999999999" in the index is out of range' hugesize bomb
rejects "a .deb with a sparse entry claiming 1 TiB it does not hold" \
  "pool/claim/claim_1.deb: data.tar: \./usr/share/claim/big: the data stops at byte 512, and the header says there is data up to byte 1099511627776" \
  claim claim
rejects "a package holding far more than its Installed-Size" \
  "pool/bomb/bomb_1.deb: data.tar: its files hold more than 16779264 bytes, twice and 16 MiB more than the Installed-Size" \
  bomb bomb
rejects "... and where only its control file gives one" \
  "pool/bombctl/bomb_1.deb: data.tar: its files hold more than 16779264 bytes" \
  bombctl bomb
rejects "... and where neither gives one: as if 0" \
  "pool/bombnone/bombnone_1.deb: data.tar: its files hold more than 16777216 bytes, .*\(none: 0\)" \
  bombnone bombnone
rejects "a package of more entries than its Installed-Size allows (1 KiB each, as dpkg counts)" \
  "pool/many/many_1.deb: data.tar: more than 16404 entries, one per KiB of twice and 16 MiB more than the Installed-Size" \
  many many
rejects "a package with a file in dpkg's info/" \
  "pool/dpkgdb/dpkginfo_1.deb: data.tar: \./var/lib/dpkg/info/provider\.postinst is in the dpkg database" \
  dpkgdb dpkginfo
rejects "a package with a directory where dpkg's status is" \
  "pool/dpkgdb/dpkgstatus_1.deb: data.tar: \./var/lib/dpkg/status/? is in the dpkg database" \
  dpkgdb dpkgstatus
# rejects_fresh DESC PATTERN PKG: PKG of dpkgdb refused in an empty rootfs
# (where nothing is in the way of the commit: the records failed after
# it, the package's symlink or file left in the rootfs), which stays empty.
L16=$TMP/l16
rejects_fresh() {
  lay "$L16"
  tree "$L16" >"$TMP/before16"
  check_rejects "$1" "$2" inst "$L16" dpkgdb "$3"
  tree "$L16" >"$TMP/after16"
  check "$1: the rootfs is untouched" cmp -s "$TMP/before16" "$TMP/after16"
}
rejects_fresh "a package making /var/lib/dpkg a symlink" \
  "pool/dpkgdb/dpkglink_1.deb: data.tar: \./var/lib/dpkg is not a directory: /var/lib/dpkg must stay one" \
  dpkglink
rejects_fresh "a package making /var a file" \
  "pool/dpkgdb/varfile_1.deb: data.tar: \./var is not a directory: /var must stay one" varfile
lay "$L16"
check "a package with the dpkg database's directories installs" inst "$L16" dpkgdb dpkgdirs
check "... and is recorded" grep -q '^Package: dpkgdirs$' "$L16/rootfs/var/lib/dpkg/status"
check "nothing escaped the rootfs" test ! -e "$L4/escaped" -a ! -e "$TMP/escaped"
# (timeout 60 guards against the old two minutes; it measures nothing)
L5=$TMP/l5
lay "$L5"
check "300,000 providers and 300,000 groups resolve" timeout 60 \
  "$ACTOOL" --cacert="$NET_CA" layout debian --layout="$L5" --mirror="$M" --suite=cpu \
  --keyring="$TMP/keyring.gpg" vroot
is "... to the package and its provider" "$(cut -d' ' -f1 "$TMP/.out" 2>/dev/null | sort | tr '\n' ' ')" "vprov vroot "
rejects "a keyring that does not exist" "keyring $TMP/nokeys.gpg" good hello \
  --keyring="$TMP/nokeys.gpg"
check_rejects "a mirror without the suite" "dists/nosuite/(In)?Release.*404" inst "$L4" nosuite hello

# --- a failure while unpacking: staged, the rootfs as it was ----------------------

# listing DIR: what a rootfs holds, with sizes and modes, to compare.
listing() { (cd "$1/rootfs" && find . -printf '%p %y %s %m\n' | sort); }
# staged DIR: the staging names left in DIR's rootfs, if any.
staged() { (cd "$1/rootfs" && find . \( -name '*.dpkg-new' -o -name '*.dpkg-tmp' \) -print); }
# unchanged DESC DIR: DIR's rootfs is the one listed in $TMP/before, with no
# staging name left.
unchanged() {
  listing "$2" >"$TMP/after"
  check "$1: the rootfs is as it was" diff "$TMP/before" "$TMP/after"
  is "$1: no .dpkg-new or .dpkg-tmp is left" "$(staged "$2")" ""
}

L7=$TMP/l7
lay "$L7"
inst "$L7" good provider >/dev/null 2>&1 || net_fail "install provider into $L7"
mkdir -p "$L7/rootfs/etc/stagedir" "$L7/rootfs/opt"
echo keep >"$L7/rootfs/etc/stagedir/keep"
echo "in the way" >"$L7/rootfs/opt/aside"
chmod 0600 "$L7/rootfs/opt/aside"
cp "$L7/rootfs/var/lib/dpkg/status" "$TMP/status.before"
listing "$L7" >"$TMP/before"
check_rejects "a package's file where the rootfs has a directory that is not empty, after another package" \
  "stageb: /etc/stagedir: the rootfs has a directory that is not empty there" \
  inst "$L7" stage stagea stageb
unchanged "a failure in the second package" "$L7"
check "... and the status is as it was" cmp "$TMP/status.before" "$L7/rootfs/var/lib/dpkg/status"

# full_disk DESC NAME SUITE PKG...: a new layout NAME on a 1 MiB tmpfs
# ($SMALL, left mounted for more checks), with room for stagea and not for
# stagebig: installing PKG... fails in stagebig and leaves the rootfs as it
# was.  1 (a skip) where no tmpfs can be mounted.
SMALL=$TMP/small
mkdir -p "$SMALL"
full_disk() {
  local desc=$1 dir=$SMALL/$2 suite=$3
  shift 3
  if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$SMALL" 2>/dev/null; then
    skip "$desc" "needs root and a tmpfs mount"
    return 1
  fi
  lay "$dir"
  listing "$dir" >"$TMP/before"
  check_rejects "$desc" "stagebig: /usr/share/stagebig/big: No space left" inst "$dir" "$suite" "$@"
  unchanged "$desc" "$dir"
}
if full_disk "a full disk in the second package" l8 stage stagea stagebig; then
  check "... and the first package alone installs there" inst "$SMALL/l8" stage stagea
  umount "$SMALL"
fi

L9=$TMP/l9
lay "$L9"
check "a package with a hard link and a symlink installs" inst "$L9" stage hardok stagea
check "the hard link is one file with its target" \
  test "$(stat -c %i "$L9/rootfs/usr/share/hardok/first")" = "$(stat -c %i "$L9/rootfs/usr/share/hardok/hard")" \
  -a "$(stat -c %h "$L9/rootfs/usr/share/hardok/first")" = 2
check "the symlinks are made" test "$(readlink "$L9/rootfs/usr/share/hardok/link")" = first \
  -a "$(readlink "$L9/rootfs/opt/stagea/deep/link")" = file
check "the files are in" cmp "$TMP/200k" "$L9/rootfs/opt/stagea/deep/file"
is "no .dpkg-new or .dpkg-tmp is left after an install" "$(staged "$L9"; staged "$L"; staged "$L3"; staged "$L5")" ""
L10=$TMP/l10
lay "$L10"
mkdir -p "$L10/rootfs/opt"
echo "in the way" >"$L10/rootfs/opt/aside"
check "a file of the rootfs where a package has a directory is replaced" inst "$L10" stage stagea
check "... by the directory" cmp "$TMP/200k" "$L10/rootfs/opt/aside/file"
is "... and nothing of it is left" "$(staged "$L10")" ""
mkdir -p -m 0700 "$L10/rootfs/usr/share/keepmode"
check "a directory entry after the files in it installs" inst "$L10" stage dirlate
is "... the directory made takes its mode; one of the rootfs keeps its own, as with dpkg" \
  "$(stat -c %a "$L10/rootfs/usr/share/dirlate" "$L10/rootfs/usr/share/keepmode" | tr '\n' ' ')" "750 700 "
listing "$L10" >"$TMP/before"
check_rejects "a file below a symlink of another package of the same command" \
  "belowlink: /opt/lnk/f is below /opt/lnk, a file or symlink of this install" \
  inst "$L10" stage linkfirst belowlink
unchanged "a file below a staged symlink" "$L10"
# An empty directory of the rootfs that a package's file replaces, into
# which another package of the same install goes through a symlink of the
# rootfs: found before anything is renamed.
mkdir -p "$L10/rootfs/opt/e"
ln -s e "$L10/rootfs/opt/alias"
listing "$L10" >"$TMP/before"
check_rejects "a file over an empty directory that another package fills through a symlink" \
  "/opt/e: a file of the packages replaces the empty directory there.*nothing was renamed" \
  inst "$L10" stage overdir intoalias
unchanged "a directory filled through a symlink" "$L10"
check "... and the file alone replaces the empty directory" inst "$L10" stage overdir
is "... as a file" "$(cat "$L10/rootfs/opt/e")" "file"

# --- a merged /usr, --essential ----------------------------------------------------

# tops DIR: the rootfs's top entries that are symlinks, "NAME->TARGET".
tops() { (cd "$1/rootfs" && for f in *; do [ -L "$f" ] && printf '%s->%s ' "$f" "$(readlink "$f")"; done); }
case $ARCH in
  amd64) MERGED_TOPS="bin->usr/bin lib->usr/lib lib32->usr/lib32 lib64->usr/lib64 libx32->usr/libx32 sbin->usr/sbin " ;;
  *) MERGED_TOPS= ;;
esac
L11=$TMP/l11
lay "$L11"
run_capture inst "$L11" merged tool
is "an empty rootfs from a suite with usr-is-merged: usr-is-merged first, then the package" \
  "$status $(cut -d' ' -f1 "$TMP/.out" | tr '\n' ' ')" "0 usr-is-merged tool "
[ -z "$MERGED_TOPS" ] || is "... on a merged /usr, as debootstrap lays it out" "$(tops "$L11")" "$MERGED_TOPS"
check "... the package's /bin file is in usr/bin" cmp "$TMP/busybox" "$L11/rootfs/usr/bin/tool"
is "... and recorded as /bin/tool, the package's path" \
  "$(grep -c '^/bin/tool$' "$L11/rootfs/var/lib/dpkg/info/tool.list")" 1
L12=$TMP/l12
lay "$L12"
run_capture inst "$L12" merged --essential
is "--essential without PKG: the Essential packages, their dependency met by usr-is-merged, not usrmerge" \
  "$status $(cut -d' ' -f1 "$TMP/.out" | sort | tr '\n' ' ')" "0 ess-a ess-b usr-is-merged "
check "... on a merged /usr" test "$(readlink "$L12/rootfs/bin")" = usr/bin -a -f "$L12/rootfs/usr/bin/ess-a"
L13=$TMP/l13
lay "$L13"
mkdir -p "$L13/rootfs/bin"
run_capture inst "$L13" merged tool
is "a rootfs that has /bin keeps its layout: no merged /usr, no usr-is-merged" \
  "$status $(cut -d' ' -f1 "$TMP/.out" | tr '\n' ' ')$(tops "$L13")" "0 tool "
check "... the file is in /bin" test -f "$L13/rootfs/bin/tool" -a ! -L "$L13/rootfs/bin"
L14=$TMP/l14
lay "$L14"
check "a suite without usr-is-merged: an empty rootfs keeps the packages' layout" inst "$L14" good bb
is "... /bin is a directory" "$(tops "$L14")$(test -d "$L14/rootfs/bin" && echo dir)" dir
# (libthing's directories are made through the lib -> usr/lib link)
full_disk "a full disk on a merged /usr (its links and the directories made through them go)" \
  l15 merged libthing stagebig && umount "$SMALL"

# --- --configure ------------------------------------------------------------------

check_rejects "--configure without dpkg in the rootfs" "no /usr/bin/dpkg" inst "$L4" scripts scripted --configure
is "the package stays unpacked, its postinst kept, not run" \
  "$(grep -A1 '^Package: scripted' "$L4/rootfs/var/lib/dpkg/status" | sed -n 's/^Status: //p'):$(test -x "$L4/rootfs/var/lib/dpkg/info/scripted.postinst" && echo kept):$(test -e "$L4/rootfs/configured-by-postinst" && echo ran)" \
  "install ok unpacked:kept:"
# A rootfs where dpkg runs: busybox (sh, rm, tar, diff, dpkg-deb,
# start-stop-daemon) and the host's dpkg with its libraries and ldconfig.
L6=$TMP/l6
lay "$L6"
"$top_srcdir/scripts/mkrootfs-busybox" "$L6/rootfs" >/dev/null
for f in /usr/bin/dpkg "$(command -v ldconfig)" $(ldd /usr/bin/dpkg | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
  mkdir -p "$L6/rootfs$(dirname "$f")"
  rm -f "$L6/rootfs$f" # a busybox applet's link: never copied through
  cp -L "$f" "$L6/rootfs$f"
done
if [ "$(id -u)" -eq 0 ]; then
  check_clean "--configure runs dpkg --configure --pending in the rootfs" inst "$L6" scripts scripted --configure
  is "the postinst ran, as dpkg runs it" "$(cat "$L6/rootfs/configured-by-postinst" 2>&1)" "configured configure"
  is "and dpkg recorded the package installed" \
    "$(dpkg --root="$L6/rootfs" -s scripted 2>&1 | sed -n 's/^Status: //p')" "install ok installed"
  is "the layout holds nothing of the run" "$(ls -A "$L6" | tr '\n' ' ')" "manifest rootfs "
else
  skip "--configure runs dpkg in the rootfs" "needs root (layout run)"
fi
check_fails "no package named is a usage error" 2 "needs PKG\.\.\. \(or --essential\)" "$ACTOOL" layout debian --layout="$L4"
check "no temporary is left behind" sh -c "! ls -d \"\${TMPDIR:-/tmp}\"/actool-debian-* \"\${TMPDIR:-/tmp}\"/actool-gnupg-* 2>/dev/null | grep -q ."

done_testing
