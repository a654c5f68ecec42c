#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Write the seed inputs of tests/fuzz/corpus/ (checked in; re-run this to
regenerate them after changing a target's input format).  Seeds are small
and valid or nearly valid, so that mutation starts from inputs that reach
deep into each parser.  The keystore seed's key is made by gpg here."""
import gzip
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
TOKEN = "0123456789abcdef" * 4
UUID = "6733c736-7cd1-4d54-93e9-2b6e3fe5a0e8"


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def manifest(name="example.com/app", **extra):
    m = {"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
         "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}]}
    m.update(extra)
    return json.dumps(m).encode()


def tar(entries):
    """entries: (name, type, data or link target, mode)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.mtime = 1500000000
            if kind == "file":
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                t.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data
                t.addfile(info)
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = data
                t.addfile(info)
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
                t.addfile(info)
    return buf.getvalue()


def aci(extra=(), app=True, **mextra):
    m = manifest(app={"exec": ["/bin/app"], "user": "0", "group": "0"} if app else None,
                 **mextra) if app else manifest(**mextra)
    return tar([("manifest", "file", m, 0o644), ("rootfs", "dir", None, 0o755),
                ("rootfs/bin", "dir", None, 0o755),
                ("rootfs/bin/app", "file", b"#!/bin/sh\necho hi\n", 0o755)] + list(extra))


def seeds_patch():
    put("patch", "name-exec", "example.com/new\n/bin/sh -c true\n")
    put("patch", "user-group", "\n\n1000\n1000\n1,2,3\n")
    put("patch", "caps", "\n\n\n\n\nCAP_NET_ADMIN,CAP_SYS_TIME\n")
    put("patch", "revoke", "\n\n\n\n\n\nCAP_CHOWN\n")
    put("patch", "mounts-ports", "\n\n\n\n\n\n\nwork,path=/work,readOnly=true:tmp,path=/tmp\n"
        "dns,protocol=udp,port=53,count=1,socketActivated=false\n")
    put("patch", "isolators", "\n\n\n\n\n\n\n\n\nresource/cpu,request=50m,limit=100m:"
        "resource/memory,request=1G,limit=2Gi:os/linux/no-new-privileges,true:"
        "os/linux/oom-score-adj,500\n")
    put("patch", "seccomp", "\n\n\n\n\n\n\n\n\n\nretain,errno=EPERM\nread,write,exit_group\n")
    put("patch", "no-app", "!example.com/other\n/bin/true\n")


def seeds_appstring():
    put("appstring", "plain", "example.com/app")
    put("appstring", "version", "example.com/app:1.0.0+git")
    put("appstring", "labels", "example.com/app,version=1.0%2B,os=linux,arch=amd64,channel=beta")
    put("appstring", "template", b"example.com/app:1.0,channel=beta\0"
        b"https://example.com/{name}-{version}-{os}-{arch}-{channel}.{ext}")
    put("appstring", "template-left", b"example.com/app\0https://{name}/{version}.{ext}")
    put("appstring", "escaped-label", "example.com/app,%6Fs=linux,a%2Cb=c")


def seeds_html():
    meta = ('<meta name="ac-discovery" content="example.com https://example.com/{name}-{version}.{ext}">'
            '<meta name="ac-discovery-pubkeys" content="example.com https://example.com/pubkeys.gpg">')
    put("discovery-html", "basic", "<!DOCTYPE html><html><head>%s</head><body></body></html>" % meta)
    put("discovery-html", "no-head", meta)
    put("discovery-html", "title", "<html><head><title>%s</title>%s</head></html>" % (meta, meta))
    put("discovery-html", "textarea", "<html><body><textarea>%s</textarea></body></html>" % meta)
    put("discovery-html", "cdata", "<html><body><![CDATA[%s]]>%s</body></html>" % (meta, meta))
    put("discovery-html", "script", "<script>//<![CDATA[\n</script><![CDATA[%s]]>" % meta)
    put("discovery-html", "plaintext", "<body><plaintext>%s" % meta)
    put("discovery-html", "comment", "<!-- %s -->%s<!--" % (meta, meta))
    put("discovery-html", "cut", meta + '<meta name="ac-discovery" content="x https://x/')
    put("discovery-html", "entities", '<meta name="ac-discovery" content="a.com&#32;https://a.com/'
        '&lbrace;name&rbrace;.aci" >')


def seeds_link():
    put("discovery-link", "basic",
        '<https://example.com/{name}-{version}.{ext}>; rel="ac-discovery"; prefix="example.com"')
    put("discovery-link", "two", '<https://a/{name}.aci>; rel=ac-discovery; prefix=a, '
        '<https://a/keys>; rel="ac-discovery-pubkeys other"; prefix="a"')
    put("discovery-link", "quoted", '<https://a/b>; rel="ac-discovery"; prefix="a\\"b,c"; title*=UTF-8\'\'x')
    put("discovery-link", "odd", '<>; rel=; prefix="", <https://a/b>;;rel=ac-discovery;prefix=a;rel=x')


def seeds_aci():
    good = aci()
    put("aci", "tar", b"\x01" + good)
    put("aci", "tar-big-members", b"\x05" + good)
    put("aci", "gzip", b"\x00" + gzip.compress(good, mtime=0))
    put("aci", "links", b"\x02" + aci([("rootfs/bin/sh", "symlink", "app", 0o777),
                                      ("rootfs/bin/hard", "hardlink", "rootfs/bin/app", 0o755),
                                      ("rootfs/fifo", "fifo", None, 0o644)]))
    put("aci", "whitelist", b"\x03" + aci(pathWhitelist=["/bin/app"]))
    put("aci", "dependencies", b"\x04" + aci(dependencies=[
        {"imageName": "example.com/base", "labels": [{"name": "version", "value": "1"}],
         "size": 10}]))
    put("aci", "climbing", b"\x01" + aci([("rootfs/../../x", "file", b"x", 0o644)]))
    put("aci", "long-names", b"\x01" + aci([("rootfs/" + "n" * 150, "file", b"x", 0o644),
                                           ("rootfs/l", "symlink", "t" * 150, 0o777)]))
    put("aci", "stacked-names", b"\x01" + stacked_names())


def stacked_names():
    """An entry named by a pax header and a GNU long name ('L') both, as no
    writer makes it (refused): the pax header of one long name, then the
    GNU form of another."""
    def info(name):
        i = tarfile.TarInfo(name)
        i.size, i.mtime = 1, 1500000000
        return i
    good = aci()
    last = tarfile.open(fileobj=io.BytesIO(good)).getmembers()[-1]
    end = last.offset_data + (last.size + 511) // 512 * 512
    pax = info("rootfs/" + "p" * 150).tobuf(tarfile.PAX_FORMAT)[:-512]
    gnu = info("rootfs/" + "g" * 150).tobuf(tarfile.GNU_FORMAT)
    return good[:end] + pax + gnu + b"x".ljust(512, b"\0") + bytes(1024)


def seeds_render():
    def render_input(upper, lower=b"", whitelist=(), as_root=1):
        split = len(upper) // 512
        head = bytes([as_root, split, len(whitelist)])
        return head + b"".join(w.encode() + b"\0" for w in whitelist) + upper + lower
    put("render", "one", render_input(aci()))
    put("render", "whitelist", render_input(aci(pathWhitelist=["/bin/app"]), whitelist=["/bin/app"]))
    put("render", "two-layers", render_input(
        aci([("rootfs/etc", "dir", None, 0o755), ("rootfs/etc/x", "file", b"upper", 0o644)]),
        aci([("rootfs/etc", "symlink", "../../beside", 0o777),
             ("rootfs/etc/x", "file", b"lower", 0o644)])))
    put("render", "symlink-escape", render_input(
        aci([("rootfs/up", "symlink", "../..", 0o777), ("rootfs/up/beside/x", "file", b"x", 0o644),
             ("rootfs/abs", "symlink", "/tmp", 0o777), ("rootfs/abs/x", "file", b"x", 0o644)])))


def seeds_store_record():
    rid = "sha512-" + "a" * 128
    good = {"id": rid, "name": "example.com/app",
            "labels": [{"name": "version", "value": "1"}], "size": 1, "importTime": 2}
    put("store-record", "good", json.dumps(good))
    for key, value in (("id", None), ("name", 7), ("labels", {}), ("size", "1"),
                       ("importTime", 1.5)):
        bad = dict(good)
        bad[key] = value
        put("store-record", "bad-" + key, json.dumps(bad))
    put("store-record", "truncated", json.dumps(good)[:40])
    put("store-record", "label-types", json.dumps(dict(good, labels=[{"name": 1}, None, []])))


def seeds_env():
    put("env-file", "basic", "A=1\nB = two words \n# comment\n; other comment\nC='quoted # x'\n"
        "D=\"esc \\\" \\\\ \\$ \\n\"\nE=continued\\\nline\n")
    put("env-file", "skipped", "export X=1\nno equals here\n=empty name\n")
    put("env-file", "crlf", "A=1\r\nB=2\r\n")
    put("env-file", "open-quote", "A=\"never closed\n")


def seeds_auth():
    put("auth", "basic", json.dumps({"actoolKind": "auth", "actoolVersion": "v1",
                                     "domains": ["example.com", "example.org:8443"],
                                     "type": "basic",
                                     "credentials": {"user": "u", "password": "p"}}))
    put("auth", "oauth-rkt", json.dumps({"rktKind": "auth", "rktVersion": "v1",
                                         "domains": ["example.com"], "type": "oauth",
                                         "credentials": {"token": "t"}}))
    put("auth", "bad-type", json.dumps({"actoolKind": "auth", "actoolVersion": "v1",
                                        "domains": [], "type": "digest", "credentials": 1}))


def seeds_keystore():
    put("keystore", "name", b"\x01example.com/app/sub\0example.com")
    put("keystore", "name-dots", b"\x01example.com/../x\0./example.com")
    put("keystore", "garbage-key", b"\x00-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n")
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, GNUPGHOME=home)
        subprocess.run(["gpg", "--batch", "--quiet", "--pinentry-mode", "loopback",
                        "--passphrase", "", "--quick-gen-key", "Fuzz Seed <fuzz@example.com>",
                        "ed25519", "sign", "never"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        key = subprocess.run(["gpg", "--batch", "--armor", "--export"], env=env, check=True,
                             capture_output=True).stdout
        binary = subprocess.run(["gpg", "--batch", "--export"], env=env, check=True,
                                capture_output=True).stdout
    put("keystore", "armored-key", b"\x00" + key)
    put("keystore", "binary-key", b"\x00" + binary)


def seeds_metadata():
    base = "/%s/acMetadata/v1/" % TOKEN

    def get(path):
        return "GET %s%s HTTP/1.1\r\nHost: m\r\n\r\n" % (base, path)
    for p in ("pod/annotations", "pod/manifest", "pod/uuid", "apps/app/annotations",
              "apps/app/image/manifest", "apps/app/image/id", "apps/none/image/id"):
        put("metadata", "get-" + p.replace("/", "-"), get(p))
    body = "content=hello%20world"
    put("metadata", "sign", "POST %spod/hmac/sign HTTP/1.1\r\nHost: m\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s" % (base, len(body), body))
    body = "content=x&uuid=%s&signature=%s" % (UUID, "A" * 86 + "%3D%3D")
    put("metadata", "verify", "POST %spod/hmac/verify HTTP/1.1\r\nHost: m\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s" % (base, len(body), body))
    put("metadata", "multipart", "POST %spod/hmac/sign HTTP/1.1\r\nHost: m\r\nContent-Type: "
        "multipart/form-data; boundary=XX\r\nTransfer-Encoding: chunked\r\n\r\n"
        "2f\r\n--XX\r\nContent-Disposition: form-data; name=\"content\"\r\n\r\nhi\r\n--XX--\r\n"
        "\r\n0\r\n\r\n" % base)
    # over POST_BUFFER (16 KiB): the post processor hands the value in pieces
    body = "content=" + "A%41" * 5000 + "&other=x"
    put("metadata", "sign-large", "POST %spod/hmac/sign HTTP/1.1\r\nHost: m\r\nContent-Type: "
        "application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s" % (base, len(body), body))
    put("metadata", "pipelined", get("pod/uuid") + get("pod/manifest"))
    put("metadata", "wrong-token", "GET /x/acMetadata/v1/pod/uuid HTTP/1.0\r\n\r\n")
    put("metadata", "put", "PUT %spod/uuid HTTP/1.1\r\nHost: m\r\nContent-Length: 1\r\n\r\nx" % base)


def main():
    seeds_patch()
    seeds_appstring()
    seeds_html()
    seeds_link()
    seeds_aci()
    seeds_render()
    seeds_store_record()
    seeds_env()
    seeds_auth()
    seeds_keystore()
    seeds_metadata()
    return 0


if __name__ == "__main__":
    sys.exit(main())
