#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The store under concurrency and SIGKILL (docs/store.md, "Concurrency and
# crashes"): concurrent fetches and renders, fetches and renders killed at
# random moments, gc afterwards.
. "${top_srcdir:?top_srcdir must be set}/tests/integration/lib.sh" || exit 1

T="timeout 120"
IN=$TMP/in
L=$TMP/layouts
D=$TMP/dest
mkdir -p "$IN" "$L" "$D"

# ac STORE ARGS...: actool on STORE, unsigned images allowed.
ac() {
  local dir=$1
  shift
  $T "$ACTOOL" --dir="$dir" --insecure-options=image "$@"
}

mf() { # NAME VERSION
  printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"%s","labels":[{"name":"version","value":"%s"}]}' "$1" "$2"
}
layout() { # DIR MANIFEST
  rm -rf "$1"
  mkdir -p "$1/rootfs"
  printf '%s' "$2" >"$1/manifest"
}
# mkaci VAR LAYOUT OUT: build OUT, set VAR to its image ID (one TAP line).
mkaci() {
  run_capture "$ACTOOL" build "$2" "$3"
  printf -v "$1" '%s' "$(cat "$TMP/.out")"
  if [ "$status" -eq 0 ]; then ok "build $(basename "$3")"; else
    not_ok "build $(basename "$3")"
    note "stderr: $(head -c 1000 "$TMP/.err")"
  fi
}

# listing DIR: every entry below DIR with type, mode, owner, size, mtime (not
# of symlinks), link target, and each file's content hash.  One find, one
# md5sum: fast enough for thousands of files.
listing() {
  (
    cd "$1" 2>/dev/null || { echo "<no $1>"; exit 0; }
    find . \( -type l -printf '%p %y %m %U:%G -> %l\n' \) -o \( ! -type l -printf '%p %y %m %U:%G %s %T@\n' \)
    find . -type f -print0 | xargs -0r md5sum
  ) | LC_ALL=C sort
}

# orphans STORE: records without a blob, then blobs without a record.
orphans() {
  local p
  for p in "$1"/images/* "$1"/images/.[!.]*; do
    [ -e "$p" ] || continue
    [ -e "$1/blobs/${p##*/}" ] || echo "record without blob: ${p##*/}"
  done
  for p in "$1"/blobs/* "$1"/blobs/.[!.]*; do
    [ -e "$p" ] || continue
    [ -d "$1/images/${p##*/}" ] || echo "blob without record: ${p##*/}"
  done
}

# wait_statuses PID...: set $statuses to the exit statuses of PIDs, in order,
# each followed by a space.  (Not a $(...): a subshell cannot wait for them.)
wait_statuses() {
  local p st
  statuses=""
  for p in "$@"; do
    st=0
    wait "$p" || st=$?
    statuses+="$st "
  done
}

# --- concurrent fetches of one image ------------------------------------------

layout "$L/one" "$(mf example.com/one 1)"
head -c 2000000 /dev/urandom >"$L/one/rootfs/data"
mkaci ID_ONE "$L/one" "$IN/one.aci"
S=$TMP/store-same
pids=()
for i in 1 2 3 4 5 6 7 8; do
  ac "$S" fetch "$IN/one.aci" >"$TMP/same.$i.out" 2>"$TMP/same.$i.err" &
  pids+=($!)
done
wait_statuses "${pids[@]}"
is "8 concurrent fetches of one image all exit 0" "$statuses" "0 0 0 0 0 0 0 0 "
[ "$statuses" = "0 0 0 0 0 0 0 0 " ] || note "$(cat "$TMP"/same.*.err | head -c 2000)"
is "all 8 print the same ID" "$(cat "$TMP"/same.*.out | sort | uniq -c | awk '{print $1, $2}')" "8 $ID_ONE"
is "exactly one record and one blob" "$(ls -A "$S/images" | tr '\n' ' ')/$(ls -A "$S/blobs" | tr '\n' ' ')" "$ID_ONE /$ID_ONE "
is "nothing left in tmp/" "$(ls -A "$S/tmp")" ""
check_clean "image verify passes" ac "$S" image verify

# --- concurrent fetches of different images ---------------------------------------

S=$TMP/store-many
want=""
for i in 1 2 3 4 5 6 7 8; do
  layout "$L/many$i" "$(mf example.com/many "$i")"
  head -c 500000 /dev/urandom >"$L/many$i/rootfs/data"
  mkaci "ID_MANY$i" "$L/many$i" "$IN/many$i.aci"
  v=ID_MANY$i
  want+="${!v} "
done
pids=()
for i in 1 2 3 4 5 6 7 8; do
  ac "$S" fetch "$IN/many$i.aci" >"$TMP/many.$i.out" 2>"$TMP/many.$i.err" &
  pids+=($!)
done
wait_statuses "${pids[@]}"
is "8 concurrent fetches of 8 images all exit 0" "$statuses" "0 0 0 0 0 0 0 0 "
got=""
for i in 1 2 3 4 5 6 7 8; do got+="$(cat "$TMP/many.$i.out") "; done
is "each prints its own image's ID" "$got" "$want"
run_capture ac "$S" image list --json
is "all 8 images are listed" "$(jq -r '[.[].id] | sort | join(" ")' "$TMP/.out" 2>&1)" "$(tr ' ' '\n' <<<"$want" | grep . | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
is "every record has its blob and every blob its record" "$(orphans "$S")" ""
is "nothing left in tmp/ (many)" "$(ls -A "$S/tmp")" ""
check_clean "image verify passes (many)" ac "$S" image verify

# --- concurrent renders -------------------------------------------------------

# A rootfs with busybox and its applet links, a thousand small files and a
# few MB, so that a render takes a measurable time.
R=$L/render
layout "$R" "$(mf example.com/render 1)"
mkdir -p "$R/rootfs/bin" "$R/rootfs/files" "$R/rootfs/data"
if [ -x /bin/busybox ]; then
  cp /bin/busybox "$R/rootfs/bin/busybox"
  /bin/busybox --install -s "$R/rootfs/bin" 2>/dev/null
fi
for d in $(seq 1 20); do
  mkdir -p "$R/rootfs/files/d$d"
  for f in $(seq 1 50); do echo "file $d/$f" >"$R/rootfs/files/d$d/f$f"; done
done
for i in 1 2 3 4; do head -c 1000000 /dev/urandom >"$R/rootfs/data/blob$i"; done
ln "$R/rootfs/data/blob1" "$R/rootfs/data/blob1-link"
mkaci ID_RENDER "$R" "$IN/render.aci"
S=$TMP/store-render
run_capture ac "$S" fetch "$IN/render.aci"
is "render store: image fetched" "$status:$(cat "$TMP/.out")" "0:$ID_RENDER"

# A first render goes straight to its DEST; the next ones share a cached
# tree, which the 4 concurrent renders below race to build.
check_clean "a first render (no cached tree)" ac "$S" image render example.com/render "$D/conc0"
is "no cached tree after the first render" "$(ls -A "$S/trees" | wc -l)" 0
pids=()
for i in 1 2 3 4; do
  ac "$S" image render example.com/render "$D/conc$i" >"$TMP/conc.$i.out" 2>"$TMP/conc.$i.err" &
  pids+=($!)
done
wait_statuses "${pids[@]}"
is "4 concurrent renders of one image all exit 0" "$statuses" "0 0 0 0 "
[ "$statuses" = "0 0 0 0 " ] || note "$(cat "$TMP"/conc.*.err | head -c 2000)"
# (DEST itself and DEST/manifest are made at render time: their mtimes differ.)
listing "$D/conc1/rootfs" >"$TMP/conc1.list"
same=0
for i in 0 2 3 4; do
  listing "$D/conc$i/rootfs" | cmp -s - "$TMP/conc1.list" && cmp -s "$D/conc1/manifest" "$D/conc$i/manifest" && same=$((same + 1))
done
if [ "$same" -eq 4 ] && grep -q '^\./files/d20/f50 ' "$TMP/conc1.list"; then ok "the 5 DESTs are identical, and complete"; else
  not_ok "the 5 DESTs are identical, and complete"
  note "$same of 4 identical to the first concurrent one; $(wc -l <"$TMP/conc1.list") entries in it"
fi
is "one cached tree" "$(ls -A "$S/trees" | wc -l)" 1
is "nothing left in the store's tmp/" "$(ls -A "$S/tmp")" ""
is "no temporary beside the DESTs" "$(ls -A "$D" | grep -c actool-tmp)" 0
check_clean "image verify passes after the concurrent renders" ac "$S" image verify

# Renders while gc --grace=0s runs over and over: a tree in use is never
# taken away from a render.
(
  end=$((SECONDS + 60))
  while [ ! -e "$TMP/stop-gc" ] && [ "$SECONDS" -lt "$end" ]; do
    ac "$S" image gc --grace=0s >/dev/null 2>>"$TMP/gc-loop.err" || echo "gc failed" >>"$TMP/gc-loop.err"
  done
) &
gcloop=$!
pids=()
for i in 1 2 3 4; do
  (
    for j in 1 2; do
      ac "$S" image render --rootfs example.com/render "$D/gc$i-$j" >/dev/null 2>>"$TMP/gcr.$i.err" || echo "render $i-$j failed" >>"$TMP/gcr.$i.err"
    done
  ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
: >"$TMP/stop-gc"
wait "$gcloop"
# (each may say it waits for the store's lock, which the others hold:
# that notice is no failure)
not_waits() { grep -hv "^actool: waiting for the store's lock ($S/lock), held by " "$@" 2>/dev/null; }
is "8 renders while gc --grace=0s loops: none fails" "$(not_waits "$TMP"/gcr.*.err)" ""
is "gc never fails meanwhile" "$(not_waits "$TMP/gc-loop.err")" ""
bad=0
(cd "$D/conc1/rootfs" 2>/dev/null && find . -printf '%p %y %s\n' | LC_ALL=C sort) >"$TMP/ref.names"
grep -q '^\./files/d20/f50 f ' "$TMP/ref.names" || bad=$((bad + 100)) # no reference: no comparison
for i in 1 2 3 4; do
  for j in 1 2; do
    (cd "$D/gc$i-$j" 2>/dev/null && find . -printf '%p %y %s\n' | LC_ALL=C sort) | cmp -s - "$TMP/ref.names" || bad=$((bad + 1))
  done
done
is "every one of them is complete" "$bad" 0
check_clean "image verify passes after renders and gc" ac "$S" image verify

# --- fetch killed at random moments ---------------------------------------------

layout "$L/big" "$(mf example.com/big 1)"
for i in $(seq 1 12); do head -c 1000000 /dev/urandom >"$L/big/rootfs/blob$i"; done
mkaci ID_BIG "$L/big" "$IN/big.aci"
K=$TMP/store-kill
# How long one import takes, to spread the kills over it.
start=$(date +%s%N)
ac "$K" fetch "$IN/big.aci" >/dev/null 2>&1
span_ms=$((($(date +%s%N) - start) * 12 / 10000000 + 10))
[ "$span_ms" -le 300 ] || span_ms=300
diag "an import takes about $((span_ms * 10 / 12)) ms; kills land within $span_ms ms"

killed=0 finished=0 verify_bad=0 list_bad=0 orphan_bad=0 fetch_bad=0
# 30 rounds, and more (100 at most) until 5 kills have landed: the one timed
# import above may have run beside a busy test and the later ones not.
for iter in $(seq 1 100); do
  # Start each round without the image, so that the kill hits a real import.
  if [ -d "$K/images/$ID_BIG" ]; then ac "$K" image rm "$ID_BIG" >/dev/null 2>&1; fi
  "$ACTOOL" --dir="$K" --insecure-options=image fetch "$IN/big.aci" >/dev/null 2>&1 &
  pid=$!
  sleep "$(printf '0.%03d' $((RANDOM % span_ms)))"
  kill -KILL "$pid" 2>/dev/null
  st=0
  wait "$pid" 2>/dev/null || st=$?
  case $st in
    0) finished=$((finished + 1)) ;;
    137) killed=$((killed + 1)) ;;
    *) fetch_bad=$((fetch_bad + 1)); note "round $iter: fetch exit $st" ;;
  esac
  run_capture ac "$K" image verify
  if [ "$status" -ne 0 ]; then
    verify_bad=$((verify_bad + 1))
    note "round $iter (fetch exit $st): verify exit $status: $(head -c 500 "$TMP/.err")"
  fi
  run_capture ac "$K" image list --json
  if [ "$status" -ne 0 ] || ! jq -e 'type == "array"' "$TMP/.out" >/dev/null 2>&1; then
    list_bad=$((list_bad + 1))
    note "round $iter: image list exit $status: $(head -c 300 "$TMP/.out") $(head -c 300 "$TMP/.err")"
  fi
  o=$(orphans "$K" | grep 'record without blob')
  if [ -n "$o" ]; then
    orphan_bad=$((orphan_bad + 1))
    note "round $iter: $o"
  fi
  [ "$iter" -ge 30 ] && [ "$killed" -ge 5 ] && break
done
rounds=$iter
diag "$rounds fetches: $killed killed, $finished finished first"
if [ "$killed" -ge 5 ]; then ok "the kills hit running imports ($killed of $rounds)"; else
  not_ok "the kills hit running imports (only $killed of $rounds: imports too fast to interrupt?)"
fi
is "no fetch ended otherwise than by finishing or by the kill" "$fetch_bad" 0
is "image verify exits 0 after every killed fetch" "$verify_bad" 0
is "image list parses after every killed fetch" "$list_bad" 0
is "never a record without its blob" "$orphan_bad" 0
run_capture ac "$K" image gc
is "gc after the killed fetches exits 0" "$status" 0
[ "$status" -eq 0 ] || note "stderr: $(head -c 1000 "$TMP/.err")"
is "gc empties tmp/" "$(ls -A "$K/tmp" | tr '\n' ' ')" ""
is "gc leaves every blob with its record (no stray or hidden blob)" "$(orphans "$K")" ""
fetch_ok=$(ac "$K" fetch "$IN/big.aci" 2>&1)
is "a fetch after all that imports the image" "$fetch_ok" "$ID_BIG"
check_clean "and the store verifies" ac "$K" image verify

# --- render killed at random moments --------------------------------------------

S=$TMP/store-render
KD=$TMP/kill-dest
mkdir -p "$KD"
ac "$S" image gc --grace=0s >/dev/null 2>&1
start=$(date +%s%N)
check_clean "a render from scratch (timed)" ac "$S" image render example.com/render "$KD/timing"
span_ms=$((($(date +%s%N) - start) * 12 / 10000000 + 10))
[ "$span_ms" -le 999 ] || span_ms=999
rm -rf "$KD/timing"
# A render from the cached tree is much faster: its rounds get their own span,
# or most of their kills would land after the render ended.
start=$(date +%s%N)
check_clean "a render from the cached tree (timed)" ac "$S" image render example.com/render "$KD/timing"
cached_ms=$((($(date +%s%N) - start) * 12 / 10000000 + 5))
[ "$cached_ms" -le "$span_ms" ] || cached_ms=$span_ms
rm -rf "$KD/timing"
listing "$D/conc1/rootfs" >"$TMP/ref.list"
diag "renders take about $((span_ms * 10 / 12)) ms from scratch and $((cached_ms * 10 / 12)) ms cached; kills land within that"

killed=0 finished=0 dest_bad=0 tree_bad=0 verify_bad=0 render_bad=0 in_store=0 beside=0
# 12 rounds, and more (40 at most) until 3 kills have landed and one of them
# mid-render (a temporary left in tmp/), for the same reason as above.
for iter in $(seq 1 40); do
  # Every other round without the cached tree, so the kill may hit its build.
  if [ $((iter % 2)) -eq 1 ]; then ac "$S" image gc --grace=0s >/dev/null 2>&1; fi
  dest=$KD/r$iter
  "$ACTOOL" --dir="$S" --insecure-options=image image render example.com/render "$dest" >/dev/null 2>&1 &
  pid=$!
  if [ $((iter % 2)) -eq 1 ]; then r=$((RANDOM % span_ms)); else r=$((RANDOM % cached_ms)); fi
  sleep "$(printf '%d.%03d' $((r / 1000)) $((r % 1000)))"
  kill -KILL "$pid" 2>/dev/null
  st=0
  wait "$pid" 2>/dev/null || st=$?
  case $st in
    0)
      finished=$((finished + 1))
      if ! listing "$dest/rootfs" | cmp -s - "$TMP/ref.list"; then
        dest_bad=$((dest_bad + 1))
        note "round $iter: the render finished but DEST differs"
      fi
      ;;
    137)
      killed=$((killed + 1))
      # The kill may land after DEST was renamed into place (while actool
      # exits): then DEST must be complete; it must never be partial.
      if [ -e "$dest" ] && ! listing "$dest/rootfs" | cmp -s - "$TMP/ref.list"; then
        dest_bad=$((dest_bad + 1))
        note "round $iter: killed, and DEST exists but is not complete"
      fi
      ;;
    *) render_bad=$((render_bad + 1)); note "round $iter: render exit $st" ;;
  esac
  n=$(find "$KD" -maxdepth 1 -name "*actool-tmp*" | wc -l)
  beside=$((beside + n))
  # Only complete trees under trees/.
  for tr in "$S"/trees/*; do
    [ -e "$tr" ] || continue
    if [ ! -d "$tr/rootfs" ] || [ ! -f "$tr/digest" ] || [ ! -f "$tr/layers" ] || [ ! -f "$tr/manifest" ] || [ ! -f "$tr/lock" ] ||
      ! [[ $(basename "$tr") =~ ^[0-9a-f]{64}$ ]]; then
      tree_bad=$((tree_bad + 1))
      note "round $iter: incomplete or misnamed tree $(basename "$tr"): $(ls -A "$tr" | tr '\n' ' ')"
    fi
  done
  run_capture ac "$S" image verify
  if [ "$status" -ne 0 ]; then
    verify_bad=$((verify_bad + 1))
    note "round $iter (render exit $st): verify exit $status: $(head -c 500 "$TMP/.err")"
  fi
  in_store=$((in_store + $(find "$S/tmp" -maxdepth 1 -name '*actool-tmp*' | wc -l)))
  [ "$iter" -ge 12 ] && [ "$killed" -ge 3 ] && [ "$in_store" -gt 0 ] && break
done
rounds=$iter
diag "$rounds renders: $killed killed, $finished finished first"
if [ "$killed" -ge 3 ]; then ok "the kills hit running renders ($killed of $rounds)"; else
  not_ok "the kills hit running renders (only $killed of $rounds: renders too fast to interrupt?)"
fi
is "no render ended otherwise than by finishing or by the kill" "$render_bad" 0
is "DEST is never partial: absent or complete after a kill, complete after a finish" "$dest_bad" 0
is "only complete trees under trees/ after every kill" "$tree_bad" 0
is "image verify exits 0 after every killed render" "$verify_bad" 0
# DEST and the store share a mount here, so DEST is built in the store's
# tmp/ (docs/store.md): a kill leaves its debris there, for gc, and never
# beside DEST.
is "no temporary is ever left beside DEST" "$beside" 0
diag "temporaries left in the store's tmp/ by the killed renders: $in_store"
if [ "$killed" -ge 3 ] && [ "$in_store" -eq 0 ]; then
  not_ok "killed renders leave their temporary DEST in the store's tmp/"
else
  ok "killed renders leave their temporary DEST in the store's tmp/ ($in_store)"
fi
run_capture ac "$S" image gc
is "gc after the killed renders exits 0" "$status" 0
is "gc removes the leftovers in tmp/" "$(ls -A "$S/tmp" | tr '\n' ' ')" ""
check_clean "the render store verifies at the end" ac "$S" image verify
check_clean "a render after all that works" ac "$S" image render example.com/render "$KD/final"
if listing "$KD/final/rootfs" | cmp -s - "$TMP/ref.list"; then ok "and gives the same tree"; else not_ok "and gives the same tree"; fi

done_testing
