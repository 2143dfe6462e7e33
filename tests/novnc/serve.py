#!/usr/bin/env python3
"""serve.py - the web server of tests/e2e/test_novnc.sh.

Runs in the test harness (as root, on 127.0.0.1 only). It serves the files
under --root (the test page and the noVNC package the test unpacked there)
and appends the body of every POST /report, one JSON object a line, to
--out: that file is how the page in headless Chromium tells the test what
it saw. It trusts nothing it receives: a body that is not a JSON object or
is longer than 64 KiB is recorded as an error line instead.

    serve.py --root DIR --out FILE
prints "serving on http://127.0.0.1:PORT/" once it listens (PORT is chosen
by the kernel).
"""
import argparse
import http.server
import json
import sys
import threading

MAX_BODY = 64 * 1024


def make_handler(root, out, lock):
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = dict(http.server.SimpleHTTPRequestHandler.extensions_map)
        extensions_map.update({".js": "text/javascript",
                               ".mjs": "text/javascript",
                               ".html": "text/html",
                               ".json": "application/json"})

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=root, **kwargs)

        def end_headers(self):
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def do_POST(self):
            if self.path != "/report":
                self.send_error(404)
                return
            try:
                n = int(self.headers.get("Content-Length", "-1"))
            except ValueError:
                n = -1
            if n < 0 or n > MAX_BODY:
                line = {"ev": "bad-report", "length": n}
            else:
                body = self.rfile.read(n)
                try:
                    line = json.loads(body.decode("utf-8"))
                    if not isinstance(line, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    line = {"ev": "bad-report", "error": str(e)}
            with lock:
                with open(out, "a", encoding="utf-8") as f:
                    f.write(json.dumps(line, sort_keys=True) + "\n")
            self.send_response(204)
            self.end_headers()

        def log_message(self, fmt, *args):
            sys.stderr.write("%s\n" % (fmt % args))
            sys.stderr.flush()

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    handler = make_handler(a.root, a.out, threading.Lock())
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    print("serving on http://127.0.0.1:%d/" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
