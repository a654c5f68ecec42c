#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Registry-side parts that no packaged server provides, for
tests/integration/registry.sh.  Every server listens on 127.0.0.1 with TLS
(CERT, KEY), writes its port to PORTFILE once listening, and logs one line
per request to LOG: "METHOD PATH host=HOST range=RANGE auth=SCHEME".

  registry-server.py token CERT KEY PORTFILE LOG USER:PASS SIGNKEY SIGNCERT
      a token server for distribution's `auth: token`: GET /token?service=S&
      scope=repository:NAME:ACTIONS answers {"token", "access_token"} (an
      ES256 JWT carrying SIGNCERT in x5c) to Basic USER:PASS only, 401 else.

  registry-server.py fake CERT KEY PORTFILE LOG LAYOUT MODE [USER:PASS]
      the Distribution API v2 (GET and HEAD of /v2/, manifests by tag or
      digest, blobs with Range) over the OCI image layout LAYOUT, whose
      index.json ref names are the tags, misbehaving as MODE says:
        good           as a registry should (Docker-Content-Digest, Range, ETag)
        wrong-layer    the first layer's bytes altered as they are served
        wrong-digest   Docker-Content-Digest of another manifest
        liar-index     a tag gives an index whose manifest, asked for by
                       digest, is the index again (a digest that lies)
        huge-manifest  a 64 MiB manifest, streamed
        fat-indexes    a tag gives an index of exactly 4 MiB (padded by an
                       annotation) naming another, 4 deep, the last naming
                       the image: each within bounds, 16 MiB in all
        never-answer   headers never come
        schema1        a Docker schema 1 manifest
        cut-blob-once  the first GET of each layer stops halfway
        bearer         a 401 Bearer challenge; its own /token gives a token
                       for Basic USER:PASS
        basic          a 401 Basic challenge; USER:PASS lets through
        redirect-blob  blobs redirected to https://127.0.0.1:PORT/... (the
                       same server under another host name)
        endless-error  the first layer answers 404 with a body without end
        size-lie       a tag gives an index whose descriptor of the manifest
                       has its digest but says it is 7 bytes
        huge-declared  a tag gives a manifest declaring its first layer 1 TiB
                       (the blob itself is served as it is)
        realm=URL      a 401 Bearer challenge naming the realm URL
      With CERT "-", the server speaks plain http.
"""
import base64
import hashlib
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

LOCK = threading.Lock()


def log(path, line):
    with LOCK, open(path, "a") as f:
        f.write(line + "\n")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler, cert, key, portfile):
    srv = Server(("127.0.0.1", 0), handler)
    if cert != "-":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    srv.serve_forever()


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    LOG = None

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self):
        auth = self.headers.get("Authorization", "none").split(" ")[0]
        log(self.LOG, "%s %s host=%s range=%s auth=%s" % (
            self.command, self.path, self.headers.get("Host", ""),
            self.headers.get("Range", "-"), auth))

    def reply(self, code, body=b"", headers=(), head=False):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def basic_ok(self, userpass):
        want = "Basic " + base64.b64encode(userpass.encode()).decode()
        return self.headers.get("Authorization") == want


# ---- the token server ----

def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_jwt(sign_key, sign_cert_der, service, scope):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    access = []
    if scope:
        kind, name, actions = scope.split(":", 2)
        access.append({"type": kind, "name": name, "actions": actions.split(",")})
    now = int(time.time())
    header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(sign_cert_der).decode()]}
    claims = {"iss": "actool-test-issuer", "sub": "tester", "aud": service, "exp": now + 300,
              "nbf": now - 10, "iat": now, "jti": os.urandom(8).hex(), "access": access}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    der = sign_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def token_main(cert, key, portfile, logfile, userpass, signkey, signcert):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    with open(signkey, "rb") as f:
        sign_key = serialization.load_pem_private_key(f.read(), None)
    with open(signcert, "rb") as f:
        der = x509.load_pem_x509_certificate(f.read()).public_bytes(serialization.Encoding.DER)

    class Token(Base):
        LOG = logfile

        def do_GET(self):
            self.log_request_line()
            url = urllib.parse.urlparse(self.path)
            q = urllib.parse.parse_qs(url.query)
            if url.path != "/token" or not self.basic_ok(userpass):
                self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}')
                return
            tok = make_jwt(sign_key, der, q.get("service", [""])[0], q.get("scope", [""])[0])
            body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300}).encode()
            self.reply(200, body, [("Content-Type", "application/json")])

    serve(Token, cert, key, portfile)


# ---- the fake registry ----

def fake_main(cert, key, portfile, logfile, layout, mode, userpass=""):
    def blob(digest):
        alg, hexd = digest.split(":", 1)
        path = os.path.join(layout, "blobs", alg, hexd)
        if "/" in hexd or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    tags = {d.get("annotations", {}).get("org.opencontainers.image.ref.name"): d
            for d in index["manifests"]}
    first_layer, layers = set(), set()
    for d in index["manifests"]:
        m = json.loads(blob(d["digest"]))
        if m.get("layers"):
            first_layer.add(m["layers"][0]["digest"])
            layers.update(x["digest"] for x in m["layers"])
    state = {"cut": set()}
    chain, top = {}, None
    if mode == "fat-indexes":
        index_type = "application/vnd.oci.image.index.v1+json"
        d = dict(next(iter(tags.values())))
        d.pop("annotations", None)
        for _ in range(4):
            doc = {"schemaVersion": 2, "mediaType": index_type, "manifests": [d],
                   "annotations": {"pad": ""}}
            pad = (4 << 20) - len(json.dumps(doc).encode())
            doc["annotations"]["pad"] = "x" * pad
            top = json.dumps(doc).encode()
            digest = "sha256:" + hashlib.sha256(top).hexdigest()
            chain[digest] = top
            d = {"mediaType": index_type, "digest": digest, "size": len(top)}
    token = "tok" + os.urandom(8).hex()

    class Fake(Base):
        LOG = logfile

        def authorized(self):
            if mode.startswith("realm="):
                return False
            if mode == "bearer":
                return self.headers.get("Authorization") == "Bearer " + token
            if mode == "basic":
                return self.basic_ok(userpass)
            return True

        def challenge(self, head):
            port = self.server.server_address[1]
            if mode == "bearer":
                value = ('Bearer realm="https://localhost:%d/token",service="fake",'
                         'scope="repository:%s:pull"' % (port, self.repo or ""))
            elif mode.startswith("realm="):
                value = 'Bearer realm="%s",service="fake"' % mode[len("realm="):]
            else:
                value = 'Basic realm="fake registry"'
            self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                       [("WWW-Authenticate", value), ("Content-Type", "application/json")], head)

        def do_HEAD(self):
            self.handle_any(True)

        def do_GET(self):
            self.handle_any(False)

        def handle_any(self, head):
            self.log_request_line()
            url = urllib.parse.urlparse(self.path)
            parts = url.path.split("/")
            self.repo = None
            if url.path == "/token":
                if mode == "bearer" and self.basic_ok(userpass):
                    self.reply(200, json.dumps({"token": token}).encode(), head=head)
                else:
                    self.reply(401, b"{}", head=head)
                return
            if mode == "never-answer":
                time.sleep(3600)
                return
            if len(parts) >= 5 and parts[1] == "v2" and parts[-2] in ("manifests", "blobs"):
                self.repo = "/".join(parts[2:-2])
            if not self.authorized():
                self.challenge(head)
                return
            if url.path == "/v2/":
                self.reply(200, b"{}", head=head)
            elif self.repo is not None and parts[-2] == "manifests":
                self.manifest(parts[-1], head)
            elif self.repo is not None and parts[-2] == "blobs":
                self.blob(parts[-1], head)
            else:
                self.reply(404, b'{"errors":[{"code":"NAME_UNKNOWN"}]}', head=head)

        def manifest(self, ref, head):
            if mode == "huge-manifest":
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                self.send_header("Content-Length", str(64 << 20))
                self.end_headers()
                if not head:
                    chunk = b" " * (1 << 20)
                    try:
                        for _ in range(64):
                            self.wfile.write(chunk)
                    except OSError:
                        pass
                return
            if mode == "schema1":
                body = json.dumps({"schemaVersion": 1, "name": self.repo, "tag": ref,
                                   "fsLayers": [], "history": []}).encode()
                self.reply(200, body, [("Content-Type",
                                        "application/vnd.docker.distribution.manifest.v1+prettyjws")],
                           head)
                return
            if mode == "fat-indexes" and (ref in chain or ref in tags):
                body = chain.get(ref, top)
            elif ":" in ref:
                body = blob(ref)
                if mode == "liar-index" and body is None:
                    body = self.liar_index()
            elif ref in tags:
                body = blob(tags[ref]["digest"])
                if mode == "liar-index":
                    body = self.liar_index()
                if mode == "size-lie":
                    body = self.size_lie_index(tags[ref])
                if mode == "huge-declared":
                    body = self.huge_declared(body)
            else:
                body = None
            if body is None:
                self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}',
                           head=head)
                return
            media = json.loads(body).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            if mode == "wrong-digest":
                digest = "sha256:" + hashlib.sha256(body + b" ").hexdigest()
            self.reply(200, body, [("Content-Type", media), ("Docker-Content-Digest", digest)], head)

        def liar_index(self):
            # an index naming a manifest by a digest whose content, served, is this index
            fake = "sha256:" + "ab" * 32
            return json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.index.v1+json",
                               "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                                              "digest": fake, "size": 200}]}).encode()

        def huge_declared(self, body):
            # the manifest (self-certified: pulled by tag) says its first layer is 1 TiB
            m = json.loads(body)
            m["layers"][0]["size"] = 1 << 40
            return json.dumps(m).encode()

        def size_lie_index(self, d):
            # the manifest named by its own digest, with a size that is not its own
            d = dict(d)
            d.pop("annotations", None)
            d["size"] = 7
            return json.dumps({"schemaVersion": 2,
                               "mediaType": "application/vnd.oci.image.index.v1+json",
                               "manifests": [d]}).encode()

        def blob(self, digest, head):
            data = blob(digest)
            if mode == "slow-blobs" and not head:
                time.sleep(2)  # each answer in time, the pull as a whole not
            if mode == "endless-error" and digest in first_layer and not head:
                self.send_response(404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                try:
                    for _ in range(1 << 20):  # 64 GiB, unless the client leaves
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                except OSError:
                    pass
                self.close_connection = True
                return
            if data is None:
                self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}', head=head)
                return
            host = self.headers.get("Host", "")
            if mode == "redirect-blob" and host.startswith("localhost"):
                port = self.server.server_address[1]
                self.reply(307, b"", [("Location", "https://127.0.0.1:%d%s" % (port, self.path))], head)
                return
            if mode == "wrong-layer" and digest in first_layer:
                data = bytearray(data)
                data[len(data) // 2] ^= 0x55
                data = bytes(data)
            etag = '"%s"' % digest
            rng = self.headers.get("Range")
            if rng and rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[6:-1])
                if start >= len(data):
                    self.reply(416, b"", [("Content-Range", "bytes */%d" % len(data))], head)
                    return
                part = data[start:]
                self.reply(206, part, [("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data))),
                                       ("ETag", etag)], head)
                return
            if mode == "cut-blob-once" and not head and digest in layers and digest not in state["cut"]:
                state["cut"].add(digest)
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.reply(200, data, [("ETag", etag), ("Content-Type", "application/octet-stream")], head)

    serve(Fake, cert, key, portfile)


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    {"token": token_main, "fake": fake_main}[cmd](*args)


if __name__ == "__main__":
    main()
