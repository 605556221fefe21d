#!/usr/bin/env python3
"""Serves files from a directory on 127.0.0.1 for the URL tests, on a free port it prints.

/NAME            the file NAME
/truncated/NAME  promises the whole file in Content-Length, sends half, closes
anything else    404
With --tls CERT KEY it speaks HTTPS with that certificate and key (PEM files).
Stops by itself after --lifetime seconds (default 60).
"""
import argparse
import http.server
import os
import ssl
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--lifetime", type=float, default=60)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            truncated = self.path.startswith("/truncated/")
            name = self.path[len("/truncated/"):] if truncated else self.path[1:]
            path = os.path.join(args.root, os.path.basename(name))
            if not name or not os.path.isfile(path):
                self.send_error(404)
                return
            data = open(path, "rb").read()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2] if truncated else data)
            self.wfile.flush()
            self.close_connection = True

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if args.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*args.tls)
        # The handshake in the request's thread: a client that refuses us fails only itself.
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    print(srv.server_address[1], flush=True)
    threading.Timer(args.lifetime, srv.shutdown).start()
    srv.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
