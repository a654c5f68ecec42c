#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A plain-HTTP server on loopback that misbehaves as nginx cannot.

hostile-http.py FILE PORTFILE: serves FILE and writes the port it listens
on to PORTFILE.  Paths:
  /cut.aci    the first request without Range gets half of FILE (with an
              ETag) and a closed connection; later ones get all of it; a
              Range request gets 206 for another range (bytes 0-, whole).
  /cut-noetag.aci  half of FILE and a closed connection, with neither ETag
              nor Last-Modified: nothing a resume could be checked against.
  /cut-weak.aci, /cut-samesec.aci, /cut-bigetag.aci  half of FILE and a
              closed connection, with a validator If-Range must not carry:
              a weak ETag (and an old Last-Modified), a Last-Modified no
              older than the Date, a 70 KB ETag.
  /cut-lm.aci  half of FILE and a closed connection, with a Last-Modified
              an hour before the Date and no ETag; a Range request gets
              the bytes asked for if its If-Range is that date, else a 500.
  /whole206.aci  FILE whole, but as a 206 (Content-Range bytes 0-), to
              any request, one without Range too.
  /longheader.aci, /longheader/...  a 200 with a header line of 110,000
              bytes, over libcurl's limit of 100 KB.
  /drip.aci   FILE, one byte every half second (a 200, Content-Length set).
  /drip/...   a discovery page, one byte every half second.
  /endless.aci  FILE, then zeros for ever at some 8 KB/s (above any
              minimum rate a test sets), with no Content-Length.
  /many/...   a discovery page for the prefix 127.0.0.1/many listing 20
              ACI endpoints, all below /stall/.
  /stall/...  no answer: the request is read, and nothing is ever sent.
"""
import email.utils
import http.server
import os
import re
import sys
import time

DATA = open(sys.argv[1], "rb").read()
STATE = {"cut": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body, extra=(), etag=True):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        if etag:
            self.send_header("ETag", '"v1"')
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()

    def cut(self, extra):
        """Half of DATA, then the connection closed."""
        self.send(200, DATA, extra, etag=False)
        self.wfile.write(DATA[: len(DATA) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(2)

    def drip(self, body):
        self.send(200, body)
        try:
            for b in body:
                self.wfile.write(bytes([b]))
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/cut.aci":
            if self.headers.get("Range"):
                self.send(206, DATA, [("Content-Range", "bytes 0-%d/%d" % (len(DATA) - 1, len(DATA)))])
                self.wfile.write(DATA)
            elif STATE["cut"] == 0:
                STATE["cut"] = 1
                self.send(200, DATA)
                self.wfile.write(DATA[: len(DATA) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
            else:
                self.send(200, DATA)
                self.wfile.write(DATA)
        elif path == "/cut-noetag.aci":
            self.send(200, DATA, etag=False)
            self.wfile.write(DATA[: len(DATA) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif path in ("/cut-weak.aci", "/cut-samesec.aci", "/cut-bigetag.aci", "/cut-lm.aci"):
            now = time.time()
            hour_ago = email.utils.formatdate(now - 3600, usegmt=True)
            if path == "/cut-weak.aci":
                self.cut([("ETag", 'W/"v1"'), ("Last-Modified", hour_ago)])
            elif path == "/cut-samesec.aci":
                # a second ahead of now: never older than the Date sent
                self.cut([("Last-Modified", email.utils.formatdate(now + 1, usegmt=True))])
            elif path == "/cut-bigetag.aci":
                self.cut([("ETag", '"' + "e" * 70000 + '"')])
            elif not self.headers.get("Range"):
                STATE["lm"] = hour_ago
                self.cut([("Last-Modified", hour_ago)])
            else:
                m = re.match(r"bytes=(\d+)-$", self.headers.get("Range"))
                if not m or self.headers.get("If-Range") != STATE.get("lm"):
                    self.send(500, b"", etag=False)
                    return
                start = int(m.group(1))
                body = DATA[start:]
                self.send(206, body, [("Content-Range", "bytes %d-%d/%d" % (start, len(DATA) - 1, len(DATA))),
                                      ("Last-Modified", STATE["lm"])], etag=False)
                self.wfile.write(body)
        elif path == "/whole206.aci":
            self.send(206, DATA, [("Content-Range", "bytes 0-%d/%d" % (len(DATA) - 1, len(DATA)))])
            self.wfile.write(DATA)
        elif path == "/longheader.aci" or path.startswith("/longheader/"):
            self.send(200, DATA, [("Link", "a" * 110000)])
            self.wfile.write(DATA)
        elif path == "/drip.aci":
            self.drip(DATA)
        elif path == "/endless.aci":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                self.wfile.write(DATA)
                while True:
                    self.wfile.write(bytes(1024))
                    self.wfile.flush()
                    time.sleep(0.125)
            except OSError:
                pass
        elif path.startswith("/many/"):
            port = self.server.server_address[1]
            metas = "".join('<meta name="ac-discovery" content="127.0.0.1/many '
                            'http://127.0.0.1:%d/stall/{name}-%d.{ext}">' % (port, i)
                            for i in range(20))
            body = ("<html><head>%s</head></html>" % metas).encode()
            self.send(200, body, etag=False)
            self.wfile.write(body)
        elif path.startswith("/stall/"):
            time.sleep(3600)
        elif path.startswith("/drip/"):
            self.drip(b"<html><head>" + b" " * 1000 + b"</head></html>")
        else:
            self.send(404, b"")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
