#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Compatibility with the reference actool (Go, appc/spec v0.8.11): each
# tool reads the other's images, cat-manifest prints the same bytes, and
# patch-manifest gives JSON-equal manifests for the same options.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

REF=${REF_ACTOOL:-}
if [ -z "$REF" ] || [ ! -x "$REF" ]; then
  REF=""
  if command -v go >/dev/null && [ -d /usr/share/gocode/src/github.com/appc/spec/actool ]; then
    gocache=()
    if [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; then gocache=(GOCACHE="$TMP/gocache"); fi
    if env GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS='' "${gocache[@]}" \
      go build -o "$TMP/ref-actool" github.com/appc/spec/actool >"$TMP/go-build.log" 2>&1; then
      REF=$TMP/ref-actool
    fi
  fi
fi
[ -n "$REF" ] || skip_all "reference actool unavailable"
note "reference: $REF ($("$REF" version 2>&1 | head -n1))"

# manifest_of ACI: the stored manifest bytes, read with GNU tar.
manifest_of() { tar -xOf "$1" manifest; }

# json_eq DESCRIPTION FILE_A FILE_B: the two files hold equal JSON.
json_eq() {
  local a b
  a=$(jq -S . <"$2" 2>&1) b=$(jq -S . <"$3" 2>&1)
  if [ -s "$2" ] && [ "$a" = "$b" ]; then ok "$1"; else
    not_ok "$1"
    while IFS= read -r l; do note "$l"; done < <(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -n 40)
  fi
}

# both_ok DESCRIPTION: $ours_status and $ref_status are both 0.
both_ok() {
  if [ "$ours_status" -eq 0 ] && [ "$ref_status" -eq 0 ]; then ok "$1"; else
    not_ok "$1"
    note "ours exit $ours_status: $(head -c 1000 "$TMP/ours.err")" "reference exit $ref_status: $(head -c 1000 "$TMP/ref.err")"
  fi
}
run_ours() { ours_status=0; "$ACTOOL" "$@" >"$TMP/ours.out" 2>"$TMP/ours.err" || ours_status=$?; }
run_ref() { ref_status=0; "$REF" "$@" >"$TMP/ref.out" 2>"$TMP/ref.err" || ref_status=$?; }

# --- layouts ------------------------------------------------------------------

RICH='{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/refcompat","labels":[{"name":"version","value":"1.0.0"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],"app":{"exec":["/bin/app","--flag"],"user":"0","group":"0","environment":[{"name":"PATH","value":"/bin"}],"mountPoints":[{"name":"data","path":"/var/data","readOnly":true}],"ports":[{"name":"http","protocol":"tcp","port":8080,"count":1,"socketActivated":false}],"isolators":[{"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_NET_BIND_SERVICE"]}},{"name":"resource/cpu","value":{"request":"250m","limit":"500m"}}]},"annotations":[{"name":"authors","value":"The refcompat test"}]}'
NOAPP='{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/noapp","labels":[{"name":"os","value":"linux"}]}'
HTML='{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/html","annotations":[{"name":"authors","value":"A <a@example.com> & B"}]}'

mk_layout() { # DIR MANIFEST
  mkdir -p "$1/rootfs/bin" "$1/rootfs/etc" "$1/rootfs/var/empty"
  printf '%s' "$2" >"$1/manifest"
  printf '#!/bin/sh\necho app\n' >"$1/rootfs/bin/app"
  chmod 0755 "$1/rootfs/bin/app"
  ln -s app "$1/rootfs/bin/app-link"
  printf 'root:x:0:0::/:/bin/sh\n' >"$1/rootfs/etc/passwd"
  head -c 100000 /dev/urandom >"$1/rootfs/etc/data"
  ln "$1/rootfs/etc/data" "$1/rootfs/etc/data-hardlink"
}
mk_layout "$TMP/rich" "$RICH"
mk_layout "$TMP/noapp" "$NOAPP"
mk_layout "$TMP/html" "$HTML"
mk_layout "$TMP/newline" "$RICH"
printf '\n' >>"$TMP/newline/manifest"
mk_layout "$TMP/pretty" "$(jq . <<<"$RICH")"
mkdir -p "$TMP/aci"

# --- our images, read by the reference ----------------------------------------

for comp in gzip bzip2 xz none; do
  run_ours build --compression="$comp" "$TMP/rich" "$TMP/aci/ours-$comp.aci"
  is "ours builds --compression=$comp" "$ours_status" 0
  run_ref validate "$TMP/aci/ours-$comp.aci"
  if [ "$ref_status" -eq 0 ]; then ok "the reference validates our $comp image"; else
    not_ok "the reference validates our $comp image"
    note "reference exit $ref_status: $(head -c 1000 "$TMP/ref.err")"
  fi
  run_ours cat-manifest "$TMP/aci/ours-$comp.aci"
  run_ref cat-manifest "$TMP/aci/ours-$comp.aci"
  both_ok "cat-manifest of our $comp image: both succeed"
  if cmp -s "$TMP/ours.out" "$TMP/ref.out"; then ok "cat-manifest of our $comp image: same bytes"; else
    not_ok "cat-manifest of our $comp image: same bytes"
    note "ours: $(od -c "$TMP/ours.out" | tail -n 3 | head -c 600)" "reference: $(od -c "$TMP/ref.out" | tail -n 3 | head -c 600)"
  fi
done
run_ref --debug validate "$TMP/aci/ours-gzip.aci" "$TMP/aci/ours-bzip2.aci" "$TMP/aci/ours-xz.aci" "$TMP/aci/ours-none.aci"
is "the reference validates all our images in one run" "$ref_status" 0
for l in noapp html newline pretty; do
  run_ours build "$TMP/$l" "$TMP/aci/ours-$l.aci"
  is "ours builds the $l layout" "$ours_status" 0
  run_ref validate "$TMP/aci/ours-$l.aci"
  is "the reference validates our $l image" "$ref_status" 0
done

# cat-manifest: the same bytes from both tools, plain and pretty-printed.
for img in ours-gzip ours-noapp ours-html ours-newline ours-pretty; do
  for pp in "" --pretty-print; do
    run_ours cat-manifest $pp "$TMP/aci/$img.aci"
    run_ref cat-manifest $pp "$TMP/aci/$img.aci"
    if [ "$ours_status" -eq 0 ] && [ "$ref_status" -eq 0 ] && cmp -s "$TMP/ours.out" "$TMP/ref.out"; then
      ok "cat-manifest $pp $img: same bytes as the reference"
    else
      not_ok "cat-manifest $pp $img: same bytes as the reference"
      note "exit: ours $ours_status, reference $ref_status"
      while IFS= read -r l; do note "$l"; done < <(diff <(cat -A "$TMP/ours.out") <(cat -A "$TMP/ref.out") | head -n 24)
    fi
  done
done

# --- the reference's images, read by ours -------------------------------------

for l in rich noapp html; do
  for nc in "" --no-compression; do
    tag=$l${nc:+-nc}
    run_ref build $nc "$TMP/$l" "$TMP/aci/ref-$tag.aci"
    is "the reference builds $tag" "$ref_status" 0
    run_ours validate "$TMP/aci/ref-$tag.aci"
    if [ "$ours_status" -eq 0 ] && ! crashed "$ours_status" "$TMP/ours.err"; then ok "ours validates the reference's $tag image"; else
      not_ok "ours validates the reference's $tag image"
      note "ours exit $ours_status: $(head -c 1000 "$TMP/ours.err")"
    fi
    run_ours cat-manifest "$TMP/aci/ref-$tag.aci"
    run_ref cat-manifest "$TMP/aci/ref-$tag.aci"
    if [ "$ours_status" -eq 0 ] && cmp -s "$TMP/ours.out" "$TMP/ref.out"; then ok "cat-manifest of the reference's $tag image: same bytes"; else
      not_ok "cat-manifest of the reference's $tag image: same bytes"
      note "ours exit $ours_status: $(head -c 500 "$TMP/ours.err")"
      while IFS= read -r d; do note "$d"; done < <(diff <(cat -A "$TMP/ours.out") <(cat -A "$TMP/ref.out") | head -n 24)
    fi
  done
done

# The image ID ours computes for the reference's images: fetched into a
# scratch store, when fetch is available.
for tag in rich rich-nc; do
  if [ "$tag" = rich ]; then want="sha512-$(gzip -dc "$TMP/aci/ref-$tag.aci" | sha512sum | cut -c1-128)"
  else want="sha512-$(sha512sum <"$TMP/aci/ref-$tag.aci" | cut -c1-128)"; fi
  run_ours --dir="$TMP/store" --insecure-options=image fetch "$TMP/aci/ref-$tag.aci"
  if [ "$ours_status" -eq 1 ] && grep -q 'not available' "$TMP/ours.err"; then
    skip "image ID of the reference's $tag image" "fetch is not available yet"
  else
    is "image ID of the reference's $tag image is the SHA-512 of its tar" "$ours_status:$(tail -n1 "$TMP/ours.out")" "0:$want"
  fi
done

# Rebuilding the reference's image from its own extraction gives the same
# tar content under ours (both write manifest + rootfs).
mkdir -p "$TMP/reextract"
tar -xpf "$TMP/aci/ref-rich.aci" -C "$TMP/reextract"
json_eq "the reference stores the layout's manifest (as JSON)" "$TMP/reextract/manifest" "$TMP/rich/manifest"

# --- patch-manifest -------------------------------------------------------------

# patch_case NAME INPUT_ACI OPTIONS...: run both tools with the same options
# and compare the manifests they write.
patch_case() {
  local name=$1 in=$2
  shift 2
  rm -f "$TMP/aci/p-ours-$name.aci" "$TMP/aci/p-ref-$name.aci"
  run_ours patch-manifest "$@" "$in" "$TMP/aci/p-ours-$name.aci"
  run_ref patch-manifest "$@" "$in" "$TMP/aci/p-ref-$name.aci"
  both_ok "patch-manifest $name: both succeed"
  [ "$ours_status" -eq 0 ] && [ "$ref_status" -eq 0 ] || return 0
  manifest_of "$TMP/aci/p-ours-$name.aci" >"$TMP/m-ours" 2>"$TMP/tar.err"
  manifest_of "$TMP/aci/p-ref-$name.aci" >"$TMP/m-ref"
  json_eq "patch-manifest $name: JSON-equal to the reference's" "$TMP/m-ours" "$TMP/m-ref"
  run_ref validate "$TMP/aci/p-ours-$name.aci"
  is "patch-manifest $name: the reference validates our output" "$ref_status" 0
  run_ours validate "$TMP/aci/p-ours-$name.aci"
  is "patch-manifest $name: ours validates our output" "$ours_status" 0
}

IN=$TMP/aci/ours-gzip.aci
patch_case name "$IN" --name=example.com/patched
patch_case exec "$IN" --exec="/bin/echo hello  world"
patch_case user-group "$IN" --user=1000 --group=1001
patch_case user-name "$IN" --user=nobody --group=nogroup
patch_case supplementary-groups "$IN" --supplementary-groups=10,20,30
patch_case capability "$IN" --capability=CAP_NET_ADMIN,CAP_SYS_ADMIN
patch_case revoke-capability "$IN" --revoke-capability=CAP_SYS_CHROOT,CAP_MKNOD
patch_case mounts "$IN" --mounts=work,path=/opt,readOnly=true:cache,path=/var/cache
patch_case ports "$IN" --ports=dns,protocol=udp,port=53:web,protocol=tcp,port=8443,count=2,socketActivated=true
patch_case isolators "$IN" --isolators=resource/cpu,request=50m,limit=100m:resource/memory,request=1G,limit=2G
patch_case no-new-privileges "$IN" --isolators=os/linux/no-new-privileges,true
patch_case oom-score-adj "$IN" --isolators=os/linux/oom-score-adj,100
patch_case seccomp-remove "$IN" --seccomp-mode=remove --seccomp-set=reboot,swapon
patch_case seccomp-retain-errno "$IN" --seccomp-mode=retain,errno=ENOSYS --seccomp-set=read,write,exit_group
patch_case everything "$IN" --name=example.com/all --exec=/bin/sh --user=1 --group=2 \
  --supplementary-groups=3 --capability=CAP_CHOWN --mounts=m,path=/m --ports=p,protocol=tcp,port=1 \
  --isolators=resource/memory,limit=1G --seccomp-mode=remove --seccomp-set=reboot
patch_case noapp-exec "$TMP/aci/ours-noapp.aci" --exec=/bin/new-app --user=0 --group=0
patch_case noapp-name "$TMP/aci/ours-noapp.aci" --name=example.com/renamed
patch_case reference-input "$TMP/aci/ref-rich.aci" --name=example.com/from-ref --user=7
patch_case reference-input-nc "$TMP/aci/ref-rich-nc.aci" --exec=/bin/x
patch_case bzip2-input "$TMP/aci/ours-bzip2.aci" --group=5
patch_case xz-input "$TMP/aci/ours-xz.aci" --group=6

# Entry times: an entry's mtime to the nanosecond, its atime and ctime
# are copied as they were, as the reference copies them (render applies
# mtime and atime); an entry without them gets none.
python3 - "$TMP/aci/times.aci" "$RICH" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as tf:
    m = sys.argv[2].encode()
    t = tarfile.TarInfo("manifest"); t.size = len(m); tf.addfile(t, io.BytesIO(m))
    t = tarfile.TarInfo("rootfs"); t.type = tarfile.DIRTYPE; t.mode = 0o755; tf.addfile(t)
    t = tarfile.TarInfo("rootfs/f"); t.size = 3
    t.pax_headers = {"mtime": "1234567890.123456789", "atime": "1500000000.5", "ctime": "1600000000.25"}
    tf.addfile(t, io.BytesIO(b"abc"))
    t = tarfile.TarInfo("rootfs/g"); t.size = 3; t.mtime = 1234567890; tf.addfile(t, io.BytesIO(b"def"))
PY
times_of() {
  python3 -c 'import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    print(m.name, sorted((k, v) for k, v in m.pax_headers.items() if k.endswith("time")), int(m.mtime))' "$1"
}
patch_case times "$TMP/aci/times.aci" --name=example.com/times
is "patch-manifest times: the entries' times, as the reference keeps them" \
  "$(times_of "$TMP/aci/p-ours-times.aci" 2>&1)" "$(times_of "$TMP/aci/p-ref-times.aci" 2>&1)"
is "patch-manifest times: as the input had them" \
  "$(times_of "$TMP/aci/p-ours-times.aci" 2>&1 | grep rootfs/)" "$(times_of "$TMP/aci/times.aci" 2>&1 | grep rootfs/)"

printf '%s' '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/replacement","app":{"exec":["/bin/new"],"user":"5","group":"6"}}' >"$TMP/replacement.json"
patch_case manifest-file "$IN" --manifest="$TMP/replacement.json"
if cmp -s "$TMP/m-ours" "$TMP/replacement.json"; then ok "patch-manifest --manifest stores the file's bytes"; else
  not_ok "patch-manifest --manifest stores the file's bytes"
fi

patch_case no-compression "$IN" --no-compression --name=example.com/nc
is "patch-manifest --no-compression: ours writes a plain tar" \
  "$(dd if="$TMP/aci/p-ours-no-compression.aci" bs=1 skip=257 count=5 2>/dev/null)" ustar
is "patch-manifest default: ours writes gzip" "$(od -An -tx1 -N2 "$TMP/aci/p-ours-name.aci" | tr -d ' ')" 1f8b
if [ -f "$TMP/aci/p-ours-name.aci" ]; then
  is "patch-manifest keeps every rootfs entry" \
    "$(tar --numeric-owner -tvf "$TMP/aci/p-ours-name.aci" | grep ' rootfs' | md5sum)" \
    "$(tar --numeric-owner -tvf "$IN" | grep ' rootfs' | md5sum)"
  is "patch-manifest keeps the rootfs content" \
    "$(tar -xOf "$TMP/aci/p-ours-name.aci" rootfs/etc/data | sha256sum)" "$(tar -xOf "$IN" rootfs/etc/data | sha256sum)"
fi

# --replace: the input is rewritten in place.
mkdir -p "$TMP/replace"
cp "$IN" "$TMP/replace/ours.aci"
cp "$IN" "$TMP/replace/ref.aci"
run_ours patch-manifest --replace --name=example.com/replaced "$TMP/replace/ours.aci"
run_ref patch-manifest --replace --name=example.com/replaced "$TMP/replace/ref.aci"
both_ok "patch-manifest --replace: both succeed"
manifest_of "$TMP/replace/ours.aci" >"$TMP/m-ours" 2>/dev/null
manifest_of "$TMP/replace/ref.aci" >"$TMP/m-ref" 2>/dev/null
json_eq "patch-manifest --replace: JSON-equal to the reference's" "$TMP/m-ours" "$TMP/m-ref"
is "patch-manifest --replace leaves no temporary file" "$(ls -A "$TMP/replace" | tr '\n' ' ')" "ours.aci ref.aci "

# --overwrite, and its absence.
cp "$IN" "$TMP/aci/exists-ours.aci"
cp "$IN" "$TMP/aci/exists-ref.aci"
run_ours patch-manifest --name=example.com/ow "$IN" "$TMP/aci/exists-ours.aci"
run_ref patch-manifest --name=example.com/ow "$IN" "$TMP/aci/exists-ref.aci"
if [ "$ours_status" -ne 0 ] && [ "$ref_status" -ne 0 ] && ! crashed "$ours_status" "$TMP/ours.err" &&
  cmp -s "$IN" "$TMP/aci/exists-ours.aci"; then
  ok "patch-manifest onto an existing output fails without --overwrite, as the reference's, and leaves it alone"
else
  not_ok "patch-manifest onto an existing output fails without --overwrite, as the reference's, and leaves it alone"
  note "ours exit $ours_status, reference exit $ref_status"
fi
run_ours patch-manifest --overwrite --name=example.com/ow "$IN" "$TMP/aci/exists-ours.aci"
run_ref patch-manifest --overwrite --name=example.com/ow "$IN" "$TMP/aci/exists-ref.aci"
both_ok "patch-manifest --overwrite: both succeed"
manifest_of "$TMP/aci/exists-ours.aci" >"$TMP/m-ours" 2>/dev/null
manifest_of "$TMP/aci/exists-ref.aci" >"$TMP/m-ref" 2>/dev/null
json_eq "patch-manifest --overwrite: JSON-equal to the reference's" "$TMP/m-ours" "$TMP/m-ref"

# Refusals: both tools refuse, and ours leaves no output.
refuse_case() { # NAME INPUT OPTIONS...
  local name=$1 in=$2
  shift 2
  mkdir -p "$TMP/refuse-$name"
  run_ours patch-manifest "$@" "$in" "$TMP/refuse-$name/ours.aci"
  run_ref patch-manifest "$@" "$in" "$TMP/refuse-$name/ref.aci"
  if [ "$ref_status" -ne 0 ] && { [ "$ours_status" -eq 1 ] || [ "$ours_status" -eq 2 ]; } &&
    ! crashed "$ours_status" "$TMP/ours.err" && [ -s "$TMP/ours.err" ] && [ ! -e "$TMP/refuse-$name/ours.aci" ]; then
    ok "patch-manifest $name: refused like the reference, no output left"
  else
    not_ok "patch-manifest $name: refused like the reference, no output left"
    note "ours exit $ours_status: $(head -c 500 "$TMP/ours.err")" "reference exit $ref_status: $(head -c 500 "$TMP/ref.err")" \
      "left: $(ls -A "$TMP/refuse-$name" | tr '\n' ' ')"
  fi
}
refuse_case cap-and-revoke "$IN" --capability=CAP_CHOWN --revoke-capability=CAP_MKNOD
refuse_case seccomp-set-without-mode "$IN" --seccomp-set=reboot
if grep -qF -- "--seccomp-set specified without --seccomp-mode" "$TMP/ours.err" &&
  grep -qF -- "--seccomp-set specified without --seccomp-mode" "$TMP/ref.err"; then
  ok "patch-manifest seccomp-set-without-mode: the reference's message, naming the flags"
else
  not_ok "patch-manifest seccomp-set-without-mode: the reference's message, naming the flags"
  note "ours: $(head -c 300 "$TMP/ours.err")" "reference: $(head -c 300 "$TMP/ref.err")"
fi
refuse_case seccomp-bad-mode "$IN" --seccomp-mode=sometimes --seccomp-set=reboot
refuse_case manifest-and-name "$IN" --manifest="$TMP/replacement.json" --name=example.com/x
refuse_case bad-name "$IN" --name="Not A Name"
refuse_case bad-supplementary-group "$IN" --supplementary-groups=10,abc
refuse_case bad-port "$IN" --ports=web,protocol=tcp,port=99999
refuse_case bad-mount "$IN" --mounts=Bad_Name,path=/x
refuse_case unsupported-isolator "$IN" --isolators=os/linux/seccomp-remove-set,set=reboot
# %00 in a key, value or isolator name: the reference keeps the NUL and
# refuses it; ours must not read the text before it as the whole.
refuse_case nul-isolator-value "$IN" --isolators=resource/memory,limit=1%00
refuse_case nul-isolator-key "$IN" --isolators=resource/memory,limit=1G,req%00uest=2G
refuse_case nul-isolator-name "$IN" --isolators=resource/memory%00junk,limit=1G
refuse_case nul-mount-key "$IN" --mounts=work,path%00=/x
refuse_case nul-mount-key-junk "$IN" --mounts=work,path=/x,readOnly%00junk=true
refuse_case nul-port-key "$IN" --ports=p,protocol=tcp,port%00=80
refuse_case user-without-app "$TMP/aci/ours-noapp.aci" --user=1
refuse_case missing-input "$TMP/aci/no-such.aci" --name=example.com/x3
run_ours patch-manifest --replace --overwrite --name=example.com/x "$TMP/replace/ours.aci"
run_ref patch-manifest --replace --overwrite --name=example.com/x "$TMP/replace/ref.aci"
if [ "$ours_status" -ne 0 ] && [ "$ref_status" -ne 0 ] && ! crashed "$ours_status" "$TMP/ours.err"; then
  ok "patch-manifest --replace --overwrite: refused like the reference"
else
  not_ok "patch-manifest --replace --overwrite: refused like the reference"
  note "ours exit $ours_status, reference exit $ref_status"
fi

done_testing
