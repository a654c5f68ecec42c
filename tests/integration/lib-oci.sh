# SPDX-License-Identifier: Apache-2.0
# What the OCI tests share (oci.sh, registry.sh): an image made by umoci
# with everything a conversion must carry, and the file-by-file comparison
# of a rendered rootfs with what `umoci unpack` makes.  Source after lib.sh.
#
#   oci_make_image LAYOUT REF   umoci's image (two layers: links, setuid, owners,
#                               xattrs, a FIFO; then deleted files and a replaced
#                               directory) plus a third layer with an opaque
#                               directory (oci-craft.py), and a config with
#                               entrypoint, cmd, env, workdir, ports, volume, user
#   listing DIR                 every entry of DIR: type, mode, owner, size,
#                               link target, content digest, user xattrs
#   same_tree DESC OURS         OURS's listing equals $TMP/theirs.txt
CRAFT="python3 $top_srcdir/tests/integration/oci-craft.py"

# listing DIR: every entry of DIR with its type, mode, owner, size (files),
# link target and content digest, and its user xattrs: what must be equal.
listing() {
  (cd "$1" || exit 1
  find . -mindepth 1 -printf '%y %m %U:%G %l %P' -a \( -type f -printf ' %s' -o -true \) -printf '\n' |
    LC_ALL=C sort
  find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum
  getfattr -R -h -d -m '^user\.' . 2>/dev/null | grep -v '^$')
}

# same_tree DESCRIPTION OURS: OURS's listing equals umoci unpack's ($TMP/theirs.txt)
same_tree() {
  listing "$2" >"$TMP/ours-listing.txt"
  if diff -u "$TMP/theirs.txt" "$TMP/ours-listing.txt" >"$TMP/diff.txt"; then ok "$1"; else
    not_ok "$1"
    diag "$(head -c 3000 "$TMP/diff.txt")"
  fi
}

oci_make_image() {
  local L=$1 ref=$2 B=$TMP/oci-make-image R=$TMP/oci-make-image/rootfs
  umoci init --layout "$L" && umoci new --image "$L:$ref" >/dev/null &&
    umoci unpack --image "$L:$ref" "$B" >/dev/null
  mkdir -p "$R/etc" "$R/dir/sub" "$R/opq/sub" "$R/bin" "$R/home/user"
  echo hello >"$R/etc/greeting"
  echo x >"$R/dir/sub/f"
  echo gone >"$R/gone"
  echo old >"$R/opq/old" && echo old2 >"$R/opq/sub/old2"
  ln -s ../etc/greeting "$R/bin/link"
  ln "$R/etc/greeting" "$R/etc/hard"
  printf '#!/bin/sh\n' >"$R/bin/suid" && chmod 4755 "$R/bin/suid"
  echo mine >"$R/home/user/file" && chown -R 1000:1000 "$R/home/user"
  setfattr -n user.note -v layered "$R/etc/greeting" 2>/dev/null || true
  mkfifo "$R/fifo"
  umoci repack --image "$L:$ref" "$B" >/dev/null && rm -rf "$B"
  umoci unpack --image "$L:$ref" "$B" >/dev/null
  rm "$R/gone" && rm -rf "$R/dir" && mkdir "$R/dir" && echo new >"$R/dir/new"
  echo changed >"$R/etc/greeting"
  umoci repack --image "$L:$ref" "$B" >/dev/null && rm -rf "$B"
  umoci config --image "$L:$ref" --config.entrypoint /bin/sh --config.cmd -c --config.cmd 'echo hi' \
    --config.env FOO=bar --config.env 'EMPTY=' --config.workingdir /dir \
    --config.exposedports 80/tcp --config.exposedports 53/udp --config.volume /data \
    --config.user 1000:100 --config.label org.example=yes >/dev/null
  printf '%s\n' '[{"name": "opq", "type": "dir"},' \
    '{"name": "opq/.wh..wh..opq", "type": "file"},' \
    '{"name": "opq/kept", "type": "file", "data": "kept\n"}]' >"$TMP/opaque.json"
  $CRAFT add-layer "$L" "$ref" "$TMP/opaque.json"
}
