#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# SIGINT in the middle of a long read (docs/store.md, "Interrupted"): import,
# verify, build and a Containerfile's COPY stop at the next block, not at
# the end of the file, and leave no temporary, no output and no damage
# report.  strace shows the signal's arrival and every read after it, so
# the test counts reads rather than timing anything.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

if ! command -v strace >/dev/null 2>&1; then
  not_ok "strace is installed (it shows where the signal arrived)"
  done_testing
  exit 1
fi

# A file of 256 MiB that is not zeros (zeros are skipped as holes).
mkdir -p "$TMP/lay/rootfs" "$TMP/ctx"
yes abcdefghijklmnopqrstuvwxyz | head -c 256M >"$TMP/lay/rootfs/big"
cat >"$TMP/lay/manifest" <<'EOF'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/big",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]}
EOF
ln "$TMP/lay/rootfs/big" "$TMP/ctx/big"
printf 'FROM scratch\nCOPY big /big\n' >"$TMP/ctx/Containerfile"
check "an uncompressed ACI of a 256 MiB file" \
  "$ACTOOL" build --no-compression "$TMP/lay" "$TMP/big.aci"

# interrupt PATTERN CMD...: run CMD under strace; once it has read three
# times from a file whose openat matches PATTERN, send it SIGINT.  Sets
# RC (CMD's exit status), AFTER (its reads of that file once the signal
# had arrived; -1 when it was never interrupted), OUT and ERR.
interrupt() {
  local pat=$1 log=$TMP/strace.log fd='' pid spid i
  shift
  rm -f "$log"
  strace -f -o "$log" -e trace=openat,read,pread64 -e signal=SIGINT \
    "$@" >"$TMP/int.out" 2>"$TMP/int.err" &
  spid=$!
  for ((i = 0; i < 3000; i++)); do
    fd=$(grep -E "openat\\(.*$pat.* = [0-9]+\$" "$log" 2>/dev/null | tail -1 | sed 's/.* = //')
    [ -n "$fd" ] && [ "$(grep -cE "(read|pread64)\\($fd," "$log")" -ge 3 ] && break
    fd=''
    sleep 0.01
  done
  pid=$(grep -E "openat\\(.*$pat" "$log" 2>/dev/null | tail -1 | cut -d' ' -f1)
  AFTER=-1
  [ -n "$fd" ] && kill -INT "$pid" 2>/dev/null
  wait "$spid"
  RC=$?
  if [ -n "$fd" ] && grep -q -- '--- SIGINT' "$log"; then
    AFTER=$(awk -v fd="$fd" '/--- SIGINT/ { seen = 1 }
      seen && $0 ~ ("(read|pread64)\\(" fd ",") { n++ } END { print n + 0 }' "$log")
  fi
  OUT=$(cat "$TMP/int.out") ERR=$(cat "$TMP/int.err")
}

# stopped WHAT: CMD ended by the SIGINT, at most one read of the file after
# it (one may have been under way).
stopped() {
  if [ "$RC" = 130 ] && [ "$AFTER" -ge 0 ] && [ "$AFTER" -le 1 ]; then ok "$1"; else
    not_ok "$1"
    note "exit $RC, reads after the signal: $AFTER (-1: none was sent)" "$ERR"
  fi
}

# --- import ----------------------------------------------------------------------------
S=$TMP/store
interrupt 'big\.aci' "$ACTOOL" --dir="$S" fetch --insecure-options=image "$TMP/big.aci"
stopped "fetch: SIGINT stops the import within a block"
is "fetch: no image, blob or temporary is left" \
  "$(find "$S/images" "$S/blobs" "$S/tmp" -mindepth 1 2>&1)" ""

# --- verify ----------------------------------------------------------------------------
run_capture "$ACTOOL" --dir="$S" fetch --insecure-options=image "$TMP/big.aci"
is "fetch: imported when not interrupted" "$status" 0
# (the blob is opened by its name in blobs/: "sha512-...", to its end)
interrupt '"sha512-[0-9a-f]{128}"' "$ACTOOL" --dir="$S" image verify
stopped "image verify: SIGINT stops the blob's hashing within a block"
is "image verify: an interrupted check reports no damage" "$OUT$(grep -ci damage <<<"$ERR")" "0"
run_capture "$ACTOOL" --dir="$S" image verify
is "image verify: the store is still whole" "$status" 0

# --- build -----------------------------------------------------------------------------
interrupt '"big"' "$ACTOOL" build --no-compression "$TMP/lay" "$TMP/out.aci"
stopped "build: SIGINT stops the copy of a file within a block"
is "build: no output" "$(ls "$TMP/out.aci" 2>/dev/null)" ""

# --- Containerfile COPY ----------------------------------------------------------------
interrupt 'ctx/big' "$ACTOOL" --dir="$S" build --file="$TMP/ctx/Containerfile" \
  --name=example.com/copy "$TMP/ctx" "$TMP/copy.aci"
stopped "build --file: SIGINT stops a COPY's hashing or copy within a block"
is "build --file: no output and no work directory" \
  "$(ls "$TMP/copy.aci" 2>/dev/null)$(find "$S/tmp" -mindepth 1 2>&1)" ""

done_testing
