#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Edit an OCI image layout the way no well-behaved tool would, for
tests/integration/oci.sh: layers with hand-made entries (whiteouts, names
that leave the rootfs), corrupted blobs, nested indexes, several platforms.

  oci-craft.py add-layer LAYOUT REF ENTRIES.json   append a layer (gzip)
  oci-craft.py add-tar-layer LAYOUT REF TAR        append TAR, as it is, as a layer (gzip)
  oci-craft.py add-blob-layer LAYOUT REF BLOB MEDIA-TYPE DIFF-ID  append BLOB, compressed
      already (its tar's digest DIFF-ID), as a layer of MEDIA-TYPE
  oci-craft.py sparse-claim OUT.tar NAME           a tar of one GNU sparse file NAME whose
      map claims 1 TiB of data, of which 512 bytes are there
  oci-craft.py corrupt-layer LAYOUT REF N          change a byte of layer N
  oci-craft.py nest LAYOUT REF DEPTH               wrap REF's manifest in DEPTH indexes
  oci-craft.py platforms LAYOUT REF                an index: arm64 first, then REF's
  oci-craft.py big-manifest LAYOUT REF BYTES       REF's manifest padded to BYTES
  oci-craft.py config-set LAYOUT REF KEY JSON      REF's config.KEY set to the JSON value
      (KEY starting with "/": the config's own top-level member, e.g. /created)
  oci-craft.py archive OUT.tar CASE                 a `docker save` archive gone wrong:
      dotdot (an entry ../x), link-out (manifest.json's layer a symlink out),
      missing (a layer named but absent), tampered (a layer unlike its diff_id)
  oci-craft.py docker25 LAYOUT REF OUT.tar REPO:TAG  REF as `docker save` of Docker 25
      and later writes it: an OCI layout (uncompressed layers, index.json
      naming it by io.containerd.image.name) with manifest.json and
      repositories beside, blobs/ at the top

ENTRIES.json: [{"name": "a/b", "type": "file"|"dir"|"symlink"|"hardlink",
"data": "...", "target": "...", "mode": 420}, ...]
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def blob_path(layout, digest):
    alg, hexd = digest.split(":")
    return os.path.join(layout, "blobs", alg, hexd)


def put_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return {"digest": digest, "size": len(data)}


def read_json(layout, digest):
    with open(blob_path(layout, digest), "rb") as f:
        return json.loads(f.read())


def index(layout):
    with open(os.path.join(layout, "index.json")) as f:
        return json.load(f)


def write_index(layout, idx):
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(idx, f)


def find(idx, ref):
    for i, d in enumerate(idx["manifests"]):
        if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return i, d
    sys.exit("no image named " + ref)


def replace_manifest(layout, ref, manifest, media_type=None):
    idx = index(layout)
    i, d = find(idx, ref)
    data = json.dumps(manifest).encode()
    desc = put_blob(layout, data)
    d["digest"], d["size"] = desc["digest"], desc["size"]
    if media_type:
        d["mediaType"] = media_type
    idx["manifests"][i] = d
    write_index(layout, idx)


def add_layer(layout, ref, entries_file):
    with open(entries_file) as f:
        entries = json.load(f)
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.mode = e.get("mode", 0o644 if e["type"] == "file" else 0o755)
            data = e.get("data", "").encode()
            if e["type"] == "dir":
                info.type = tarfile.DIRTYPE
            elif e["type"] == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e["target"]
            elif e["type"] == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, e["target"]
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    append_layer(layout, ref, raw.getvalue())


def add_tar_layer(layout, ref, tar_file):
    with open(tar_file, "rb") as f:
        append_layer(layout, ref, f.read())


def append_layer(layout, ref, tar_bytes):
    layer = put_blob(layout, gzip.compress(tar_bytes, mtime=0))
    layer["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
    _, d = find(index(layout), ref)
    manifest = read_json(layout, d["digest"])
    config = read_json(layout, manifest["config"]["digest"])
    config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar_bytes).hexdigest())
    cdesc = put_blob(layout, json.dumps(config).encode())
    manifest["config"]["digest"], manifest["config"]["size"] = cdesc["digest"], cdesc["size"]
    manifest["layers"].append(layer)
    replace_manifest(layout, ref, manifest)


def add_blob_layer(layout, ref, blob, media_type, diff_id):
    h = hashlib.sha256()
    size = 0
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    tmp = os.path.join(layout, "blobs", "sha256", "tmp")
    with open(blob, "rb") as f, open(tmp, "wb") as out:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
            out.write(chunk)
    os.rename(tmp, os.path.join(layout, "blobs", "sha256", h.hexdigest()))
    layer = {"mediaType": media_type, "digest": "sha256:" + h.hexdigest(), "size": size}
    _, d = find(index(layout), ref)
    manifest = read_json(layout, d["digest"])
    config = read_json(layout, manifest["config"]["digest"])
    config["rootfs"]["diff_ids"].append(diff_id)
    cdesc = put_blob(layout, json.dumps(config).encode())
    manifest["config"]["digest"], manifest["config"]["size"] = cdesc["digest"], cdesc["size"]
    manifest["layers"].append(layer)
    replace_manifest(layout, ref, manifest)


def gnu_number(n, width):
    digits = oct(n)[2:].encode()
    if len(digits) < width:
        return digits.rjust(width - 1, b"0") + b"\0"
    out = bytearray(width)  # base-256, as GNU tar writes large numbers
    out[0] = 0x80
    for i in range(width - 1, 0, -1):
        out[i], n = n & 0xFF, n >> 8
    return bytes(out)


def sparse_claim(out, name):
    """An old-GNU sparse header ('S'): one data region of 1 TiB at 0, a
    real size of 1 TiB, and 512 bytes of data in the archive."""
    tib = 1 << 40
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = gnu_number(0o644, 8)
    h[108:116] = gnu_number(0, 8)
    h[116:124] = gnu_number(0, 8)
    h[124:136] = gnu_number(512, 12)
    h[136:148] = gnu_number(0, 12)
    h[156:157] = b"S"
    h[257:265] = b"ustar  \0"
    h[386:398], h[398:410] = gnu_number(0, 12), gnu_number(tib, 12)
    h[483:495] = gnu_number(tib, 12)
    h[148:156] = b" " * 8
    h[148:156] = oct(sum(h))[2:].encode().rjust(6, b"0") + b"\0 "
    with open(out, "wb") as f:
        f.write(bytes(h) + b"x" * 512 + b"\0" * 1024)


def corrupt_layer(layout, ref, n):
    _, d = find(index(layout), ref)
    manifest = read_json(layout, d["digest"])
    path = blob_path(layout, manifest["layers"][int(n)]["digest"])
    with open(path, "r+b") as f:
        data = bytearray(f.read())
        data[len(data) // 2] ^= 0x55
        f.seek(0)
        f.write(data)


def nest(layout, ref, depth):
    idx = index(layout)
    i, d = find(idx, ref)
    inner = {k: v for k, v in d.items() if k != "annotations"}
    for level in range(int(depth)):
        doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [inner], "annotations": {"level": str(level)}}
        desc = put_blob(layout, json.dumps(doc).encode())
        inner = {"mediaType": "application/vnd.oci.image.index.v1+json", **desc}
    inner["annotations"] = d.get("annotations", {})
    idx["manifests"][i] = inner
    write_index(layout, idx)


def platforms(layout, ref):
    idx = index(layout)
    i, d = find(idx, ref)
    other = put_blob(layout, b'{"schemaVersion": 2, "not": "an image for this test"}')
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
           "manifests": [
               {"mediaType": "application/vnd.oci.image.manifest.v1+json", **other,
                "platform": {"os": "linux", "architecture": "arm64"}},
               {"mediaType": d["mediaType"], "digest": d["digest"], "size": d["size"],
                "platform": {"os": "linux", "architecture": "amd64"}}]}
    desc = put_blob(layout, json.dumps(doc).encode())
    idx["manifests"][i] = {"mediaType": "application/vnd.oci.image.index.v1+json", **desc,
                           "annotations": d.get("annotations", {})}
    write_index(layout, idx)


def big_manifest(layout, ref, size):
    _, d = find(index(layout), ref)
    manifest = read_json(layout, d["digest"])
    manifest["annotations"] = {"padding": "x" * int(size)}
    replace_manifest(layout, ref, manifest)


def archive(out, case):
    """A one-layer docker save archive, spoilt as CASE says."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        data = b"hello\n"
        info = tarfile.TarInfo("greeting")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    if case == "tampered":
        layer = layer.replace(b"hello", b"HELLO")
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    layer_name = "link/layer.tar" if case == "link-out" else "layer.tar"
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["example.com/bad:1"],
                            "Layers": [layer_name if case != "missing" else "absent.tar"]}]).encode()
    with tarfile.open(out, "w") as tar:
        def add(name, data, kind=tarfile.REGTYPE, target=""):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
        add("layer.tar", layer)
        add("config.json", config)
        if case == "dotdot":
            add("../escape", b"x")
        if case == "link-out":
            add("link/layer.tar", b"", tarfile.SYMTYPE, "../../../../etc/passwd")
        add("manifest.json", manifest)


def docker25(layout, ref, out, repotag):
    """REF of LAYOUT as Docker 25's `docker save` writes it."""
    _, d = find(index(layout), ref)
    manifest = read_json(layout, d["digest"])
    blobs, layers = {}, []
    for l in manifest["layers"]:
        with open(blob_path(layout, l["digest"]), "rb") as f:
            data = f.read()
        if l["mediaType"].endswith("+gzip"):
            data = gzip.decompress(data)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blobs[digest] = data
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest,
                       "size": len(data)})
    with open(blob_path(layout, manifest["config"]["digest"]), "rb") as f:
        config = f.read()
    cfg_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    blobs[cfg_digest] = config
    doc = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                      "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                 "digest": cfg_digest, "size": len(config)},
                      "layers": layers}).encode()
    man_digest = "sha256:" + hashlib.sha256(doc).hexdigest()
    blobs[man_digest] = doc
    repo, tag = repotag.rsplit(":", 1)
    idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                      "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                     "digest": man_digest, "size": len(doc),
                                     "annotations": {"io.containerd.image.name": repotag,
                                                     "org.opencontainers.image.ref.name": tag}}]}).encode()
    path = lambda dg: "blobs/sha256/" + dg.split(":")[1]
    saved = json.dumps([{"Config": path(cfg_digest), "RepoTags": [repotag],
                         "Layers": [path(l["digest"]) for l in layers]}]).encode()
    repos = json.dumps({repo: {tag: layers[-1]["digest"].split(":")[1]}}).encode()
    with tarfile.open(out, "w") as tar:
        def add(name, data=None):
            info = tarfile.TarInfo(name)
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            else:
                info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
        add("blobs")
        add("blobs/sha256")
        for digest, data in sorted(blobs.items()):
            add(path(digest), data)
        add("index.json", idx)
        add("manifest.json", saved)
        add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
        add("repositories", repos)


def config_set(layout, ref, key, value):
    _, d = find(index(layout), ref)
    manifest = read_json(layout, d["digest"])
    config = read_json(layout, manifest["config"]["digest"])
    if key.startswith("/"):
        config[key[1:]] = json.loads(value)
    else:
        config["config"][key] = json.loads(value)
    cdesc = put_blob(layout, json.dumps(config).encode())
    manifest["config"]["digest"], manifest["config"]["size"] = cdesc["digest"], cdesc["size"]
    replace_manifest(layout, ref, manifest)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"add-layer": add_layer, "add-tar-layer": add_tar_layer,
     "add-blob-layer": add_blob_layer, "sparse-claim": sparse_claim,
     "corrupt-layer": corrupt_layer, "nest": nest,
     "platforms": platforms, "big-manifest": big_manifest, "config-set": config_set,
     "archive": archive,
     "docker25": docker25}[cmd](*args)


if __name__ == "__main__":
    main()
