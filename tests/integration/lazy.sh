#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Libraries bound at first use (common/lazy.h): libappc.so links only
# json-c, actool libappc, json-c and libsmartcols (docs/design.md);
# libarchive, libcrypto, libcurl, gpgme, libxml2, libmicrohttpd, libdeflate,
# ISA-L, libyaml, libcap, libseccomp, libmnl and libnftables are opened when
# a command first calls them, and a missing one is a clean error of the
# commands that need it.  docs/design.md names every one of them.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1
: "${top_builddir:?top_builddir must be set (the build directory, for config.h)}"

lazy="ARCHIVE CAP CRYPTO CURL DEFLATE GPGME ISAL MHD SECCOMP XML2 YAML MNL NFTABLES"
# Each as docs/design.md names it.
declare -A DOCNAME=([ARCHIVE]=libarchive [CAP]=libcap [CRYPTO]=libcrypto [CURL]=libcurl
  [DEFLATE]=libdeflate [GPGME]=gpgme [ISAL]=ISA-L [MHD]=libmicrohttpd [SECCOMP]=libseccomp
  [XML2]=libxml2 [YAML]=libyaml [MNL]=libmnl [NFTABLES]=libnftables)
is "this test knows every library of common/lazy.h (APPC_LAZY_...)" \
  "$(sed -n 's/^ *APPC_LAZY_\([A-Z0-9]*\),$/\1/p' "$top_srcdir/common/lazy.h" | grep -vx NLIBS | sort |
    paste -sd' ')" "$(tr ' ' '\n' <<<"$lazy" | sort | paste -sd' ')"
design=$(sed -n '/^## Libraries bound at first use/,/^## /p' "$top_srcdir/docs/design.md")
unnamed=
for l in $lazy; do grep -qwF -- "${DOCNAME[$l]:-APPC_LAZY_$l}" <<<"$design" || unnamed+=" ${DOCNAME[$l]:-APPC_LAZY_$l}"; done
is "docs/design.md names each of them among the libraries bound at first use" "${unnamed:-none}" none
words=(zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen
  sixteen seventeen eighteen nineteen twenty)
n=$(wc -w <<<"$lazy")
is "... and counts them right (\"${words[$n]} libraries\")" \
  "$(grep -oE '\b(zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty) libraries\b' <<<"$design" | sort -u)" \
  "${words[$n]} libraries"
declare -A SONAME
for l in $lazy; do
  SONAME[$l]=$(sed -n "s/^#define APPC_SONAME_$l \"\(.*\)\"$/\1/p" "$top_builddir/config.h")
done
is "config.h names the shared object of each of the thirteen libraries" \
  "$(for l in $lazy; do [ -n "${SONAME[$l]}" ] && echo "$l"; done | wc -l)" 13

LIBAPPC=$top_builddir/libappc.so.0
for obj in "$ACTOOL" "$LIBAPPC"; do
  what=$(basename "$obj")
  needed=$(readelf -d "$obj" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p')
  for l in $lazy; do
    if grep -qxF "${SONAME[$l]}" <<<"$needed"; then
      not_ok "$what does not link ${SONAME[$l]}"
      note "NEEDED: $(tr '\n' ' ' <<<"$needed")"
    else ok "$what does not link ${SONAME[$l]}"; fi
  done
done

# What they do link, as docs/design.md says.  The C library and a
# sanitizer's run-time are not counted.
linked() {
  readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(lib[^.]*\)\.so.*\]$/\1/p' |
    grep -Evx 'libc|libm|libasan|libubsan|libgcc_s|libstdc\+\+' | sort | paste -sd' '
}
is "libappc.so.0 links json-c alone" "$(linked "$LIBAPPC")" libjson-c
is "actool links libappc, json-c and libsmartcols alone" "$(linked "$ACTOOL")" \
  "libappc libjson-c libsmartcols"

# Packaging tools learn of them from the ELF dlopen notes (systemd's
# specification): one FDO note of type 0x407c0c0a per library, valid JSON
# naming its shared object.  The library that opens them carries them.
objcopy -O binary --only-section=.note.dlopen "$LIBAPPC" "$TMP/notes.bin" 2>"$TMP/.err"
declared=$(python3 - "$TMP/notes.bin" <<'PY' 2>&1
import json, struct, sys
data = open(sys.argv[1], "rb").read()
off = 0
while off + 12 <= len(data):
    namesz, descsz, ntype = struct.unpack_from("<III", data, off)
    off += 12
    owner = data[off:off + namesz].rstrip(b"\0").decode()
    off += (namesz + 3) & ~3
    desc = data[off:off + descsz].rstrip(b"\0").decode()
    off += (descsz + 3) & ~3
    assert owner == "FDO" and ntype == 0x407C0C0A, (owner, hex(ntype))
    for dep in json.loads(desc):
        assert dep["priority"] in ("required", "recommended", "suggested") and dep["feature"]
        for so in dep["soname"]:
            print(so)
PY
)
is "the ELF dlopen notes declare exactly the thirteen libraries" "$(sort <<<"$declared" | paste -sd' ')" \
  "$(for l in $lazy; do echo "${SONAME[$l]}"; done | sort | paste -sd' ')"

# sofile LIB: the file the dynamic linker finds for LIB's soname
sofile() {
  local so=${SONAME[$1]} path
  path=$(ldconfig -p | awk -v so="$so" '$1 == so && /x86-64/ {print $NF; exit}')
  [ -n "$path" ] || path=$(ldconfig -p | awk -v so="$so" '$1 == so {print $NF; exit}')
  echo "$path"
}

# Each function of theirs that libappc calls is one of its own entry points
# (common/gen-lazy): none is left for the dynamic linker to look for, which
# would fail at the first call, or at start-up under -z now.
undefined=$(nm -D --undefined-only "$LIBAPPC" | awk '{ sub(/@.*/, "", $NF); print $NF }' | sort -u)
for l in $lazy; do
  left=$(nm -D --defined-only "$(sofile "$l")" | awk '$2 ~ /^[TWi]$/ { sub(/@.*/, "", $3); print $3 }' |
    sort -u | comm -12 - <(echo "$undefined") | head -n 5 | paste -sd' ')
  is "libappc.so.0 leaves no function of ${SONAME[$l]} undefined" "${left:-none}" none
done
entries=$(nm -D --defined-only "$LIBAPPC" | grep -cE ' (curl_|archive_|gpgme_|EVP_|html|xml|yaml_)' || true)
is "libappc.so.0 exports none of their names (the entry points are hidden)" "$entries" 0

# loaded COMMAND...: the shared objects the dynamic linker opened (LD_DEBUG)
loaded() {
  LD_DEBUG=files "$@" 2>&1 >/dev/null | sed -n 's/.*file=\([^ ]*\) .*generating link map.*/\1/p' | sort -u
}
cat >"$TMP/m.json" <<'JSON'
{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/lazy",
 "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}]}
JSON
mkdir -p "$TMP/layout/rootfs" && cp "$TMP/m.json" "$TMP/layout/manifest"
for cmd in "version" "validate --type=manifest $TMP/m.json" "cat-manifest --help"; do
  got=$(loaded "$ACTOOL" $cmd)
  bad=
  for l in $lazy; do grep -qxF "${SONAME[$l]}" <<<"$got" && bad="$bad ${SONAME[$l]}"; done
  is "actool $cmd opens none of them" "${bad:-none}" none
done
# The same probe sees a library that is used: the check above can fail.
got=$(loaded "$ACTOOL" build "$TMP/layout" "$TMP/lazy.aci")
check "actool build opens ${SONAME[ARCHIVE]} and ${SONAME[CRYPTO]}" \
  bash -c 'grep -qxF "$1" <<<"$3" && grep -qxF "$2" <<<"$3"' _ "${SONAME[ARCHIVE]}" "${SONAME[CRYPTO]}" "$got"
check "the built image validates" "$ACTOOL" validate "$TMP/lazy.aci"

# without LIB COMMAND...: runs COMMAND in a mount namespace where the file
# the dynamic linker finds for LIB's soname is empty.
without() {
  local path
  path=$(sofile "$1")
  shift
  run_capture unshare -m bash -c 'mount --bind /dev/null "$1" && shift && exec "$@"' _ "$path" "$@"
}
if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
  not_ok "a mount namespace to hide libraries in (needs root)"
else
  # refused_without LIB DESCRIPTION COMMAND...: COMMAND fails cleanly, naming LIB's soname
  refused_without() {
    local lib=$1 desc=$2
    shift 2
    without "$lib" "$@"
    if [ "$status" = 1 ] && ! crashed "$status" "$TMP/.err" &&
      grep -q "cannot load ${SONAME[$lib]}" "$TMP/.err"; then ok "$desc"; else
      not_ok "$desc"
      note "exit $status" "stderr: $(head -c 1000 "$TMP/.err")"
    fi
  }
  refused_without CURL "libcurl missing: discover fails cleanly, naming it" \
    "$ACTOOL" --insecure-options=http discover example.invalid/app
  without CURL "$ACTOOL" validate --type=manifest "$TMP/m.json"
  is "libcurl missing: validate of a manifest still works" "$status" 0
  refused_without ARCHIVE "libarchive missing: validate of an ACI fails cleanly, naming it" \
    "$ACTOOL" validate "$TMP/lazy.aci"
  refused_without GPGME "gpgme missing: trust fails cleanly, naming it" \
    "$ACTOOL" --dir="$TMP/store" trust --list
  printf 'acKind: ImageManifest\nacVersion: 0.8.11\nname: example.com/lazy\n' >"$TMP/m.yaml"
  refused_without YAML "libyaml missing: validate of a YAML manifest fails cleanly, naming it" \
    "$ACTOOL" validate "$TMP/m.yaml"
  without YAML "$ACTOOL" validate --type=manifest "$TMP/m.json"
  is "libyaml missing: validate of a JSON manifest still works" "$status" 0
  if [ -x /bin/busybox ]; then
    "$ACTOOL" layout --layout="$TMP/bb" init --name=example.com/bb >/dev/null &&
      "$top_srcdir/scripts/mkrootfs-busybox" "$TMP/bb/rootfs" >/dev/null &&
      "$ACTOOL" build "$TMP/bb" "$TMP/bb.aci" >/dev/null
    refused_without NFTABLES "libnftables missing: run --net=default fails cleanly, naming it" \
      "$ACTOOL" --dir="$TMP/store" --insecure-options=image run --net=default "$TMP/bb.aci" \
      --exec=/bin/true
    without MNL "$ACTOOL" --dir="$TMP/store" --insecure-options=image run "$TMP/bb.aci" --exec=/bin/true
    is "libmnl missing: run with its own private network still works" "$status" 0
    # The default capability set is the kernel's numbers; libcap maps the
    # names an isolator gives.
    got=$(loaded "$ACTOOL" --dir="$TMP/store" --insecure-options=image run "$TMP/bb.aci" --exec=/bin/true)
    is "run of an app without a capabilities isolator opens no ${SONAME[CAP]}" \
      "$(grep -cxF "${SONAME[CAP]}" <<<"$got")" 0
    "$ACTOOL" patch-manifest --exec=/bin/true --user=0 --group=0 --capability=CAP_NET_ADMIN \
      "$TMP/bb.aci" "$TMP/bbcap.aci"
    got=$(loaded "$ACTOOL" --dir="$TMP/store" --insecure-options=image run "$TMP/bbcap.aci" --exec=/bin/true)
    is "...an app with one opens it" "$(grep -cxF "${SONAME[CAP]}" <<<"$got")" 1
  fi
fi

done_testing
