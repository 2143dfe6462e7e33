#!/usr/bin/env python3
"""rfb_stall.py - a viewer that asks for full updates and never reads them.

Test code (tests/e2e/test_flow_control.sh): with a small receive buffer it
logs in like rfb_probe.py (VeNCrypt X509Plain), prints "size W H" and
"logged in", waits until the file --go exists, lists Raw only, then sends
--requests non-incremental full-screen FramebufferUpdateRequests at once
and one more every second, never reading a byte. It prints "stalled" after
the burst and "closed after S s" once sending fails because the server
ended the connection (or "still open" if --max-wait seconds pass first).
Exit status 0 when the server closed the connection, 1 otherwise.

  rfb_stall.py --port P --ca CA --user U --password PW --go FILE
      [--requests N] [--max-wait S]
"""
import argparse
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rfb_probe import handshake, security_result, server_init  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--go", required=True)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--max-wait", type=float, default=180)
    args = ap.parse_args()

    sock = socket.socket()
    # Before connect, so the window the server sees stays small.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((args.host, args.port))
    tls, _ = handshake(args, sock)
    res, why = security_result(tls)
    if res != 0:
        print("refused: %s" % why, flush=True)
        return 1
    w, h, _, _ = server_init(tls)
    print("size %d %d" % (w, h), flush=True)
    print("logged in", flush=True)
    deadline = time.monotonic() + 120
    while not os.path.exists(args.go):
        if time.monotonic() > deadline:
            print("no go", flush=True)
            return 1
        time.sleep(0.1)
    req = struct.pack(">BBHHHH", 3, 0, 0, 0, w, h)
    try:
        tls.sendall(struct.pack(">BBHi", 2, 0, 1, 0) + req * args.requests)
    except OSError as e:
        print("closed while sending the burst: %s" % e, flush=True)
        return 1
    print("stalled", flush=True)
    start = time.monotonic()
    tls.settimeout(1)
    while time.monotonic() - start < args.max_wait:
        try:
            tls.send(req)
        except socket.timeout:
            pass		# our send buffer is full: moat-net reads nothing
        except OSError as e:
            print("closed after %.0f s (%s)" % (time.monotonic() - start,
                  type(e).__name__), flush=True)
            return 0
        time.sleep(1)
    print("still open", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
