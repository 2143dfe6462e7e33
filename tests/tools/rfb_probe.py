#!/usr/bin/env python3
"""rfb_probe.py - a scriptable RFB 3.8 + VeNCrypt X509Plain client for moat's tests.

Test code: it plays a viewer (well-behaved or hostile) against moatd on loopback.
Exit status: 0 when the scenario behaved as the flags say, 1 otherwise; the
last line printed says what happened.

  rfb_probe.py --port P --ca CA --user U --password PW [--scenario NAME]

Scenarios (all start with a correct handshake unless the name says otherwise):
  login            log in, read ServerInit, request a full update, print its size
  bad-version      send a malformed ProtocolVersion; expect the server to close
  old-version      send RFB 003.003; expect a refusal reason
  truncated        send half a ProtocolVersion and close
  unknown-type     after login send message type 77; expect close
  huge-cut         after login announce a 100 MiB ClientCutText; expect close
  huge-encodings   after login announce 65535 encodings; expect close
  bad-pixfmt       after login send SetPixelFormat with bpp 24; expect close
  wrong-subtype    choose VeNCrypt subtype 256 (Plain, not offered); expect close
  long-user        send a 100000-byte user name length; expect close
  hold-preauth     exchange versions, print "holding", then wait for the server to close
  hold-session     log in, print "holding", then wait for the server to close
  hold-active      as hold-session, sending a PointerEvent every 0.25 s meanwhile

  --exclusive      send ClientInit with the shared flag 0 (exclusive access)
"""
import argparse
import socket
import ssl
import struct
import sys
import time


def recv_exact(s, n, timeout=30):
    s.settimeout(timeout)
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("server closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def expect_closed(s, timeout=30):
    """True if the server closes the connection (EOF or reset) within timeout."""
    s.settimeout(timeout)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            d = s.recv(65536)
            if not d:
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


def handshake(args, sock, subtype=262, user=None, password=None, long_user=False):
    ver = recv_exact(sock, 12)
    assert ver == b"RFB 003.008\n", ver
    sock.sendall(b"RFB 003.008\n")
    n = recv_exact(sock, 1)[0]
    if n == 0:
        ln = struct.unpack(">I", recv_exact(sock, 4))[0]
        raise RuntimeError("refused: %r" % recv_exact(sock, ln))
    types = recv_exact(sock, n)
    if 19 not in types:
        raise RuntimeError("no VeNCrypt offered: %r" % types)
    sock.sendall(bytes([19]))
    assert recv_exact(sock, 2) == b"\x00\x02"
    sock.sendall(b"\x00\x02")
    assert recv_exact(sock, 1) == b"\x00"
    count = recv_exact(sock, 1)[0]
    subs = struct.unpack(">%dI" % count, recv_exact(sock, 4 * count))
    sock.sendall(struct.pack(">I", subtype))
    if subtype != 262:
        return None, subs
    assert recv_exact(sock, 1) == b"\x01"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(args.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    tls = ctx.wrap_socket(sock, server_hostname=args.host)
    u = (user if user is not None else args.user).encode()
    p = (password if password is not None else args.password).encode()
    if long_user:
        tls.sendall(struct.pack(">II", 100000, len(p)))
        return tls, subs
    tls.sendall(struct.pack(">II", len(u), len(p)) + u + p)
    return tls, subs


def security_result(tls):
    res = struct.unpack(">I", recv_exact(tls, 4))[0]
    if res != 0:
        ln = struct.unpack(">I", recv_exact(tls, 4))[0]
        return res, recv_exact(tls, ln).decode("latin-1")
    return 0, ""


def server_init(tls, shared=True):
    tls.sendall(b"\x01" if shared else b"\x00")
    hdr = recv_exact(tls, 24)
    w, h = struct.unpack(">HH", hdr[:4])
    ln = struct.unpack(">I", hdr[20:24])[0]
    name = recv_exact(tls, ln).decode("utf-8", "replace")
    return w, h, hdr[4:20], name


def read_update(tls):
    """Reads one FramebufferUpdate with Raw rects at 32 bpp; returns rect list."""
    t = recv_exact(tls, 1)[0]
    while t != 0:
        if t == 3:  # ServerCutText
            recv_exact(tls, 3)
            ln = struct.unpack(">I", recv_exact(tls, 4))[0]
            recv_exact(tls, ln)
        else:
            raise RuntimeError("unexpected server message %d" % t)
        t = recv_exact(tls, 1)[0]
    recv_exact(tls, 1)
    n = struct.unpack(">H", recv_exact(tls, 2))[0]
    rects = []
    for _ in range(n):
        x, y, w, h, enc = struct.unpack(">HHHHi", recv_exact(tls, 12))
        if enc == 0:
            data = recv_exact(tls, w * h * 4)
        elif enc == -308:
            ns = recv_exact(tls, 4)[0]
            data = recv_exact(tls, 16 * ns)
        elif enc == -223:
            data = b""
        else:
            raise RuntimeError("unexpected encoding %d" % enc)
        rects.append((x, y, w, h, enc, data))
    return rects


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", default="nobody")
    ap.add_argument("--password", default="")
    ap.add_argument("--scenario", default="login")
    ap.add_argument("--exclusive", action="store_true")
    args = ap.parse_args()
    sc = args.scenario
    sock = socket.create_connection((args.host, args.port), timeout=30)

    if sc == "bad-version":
        recv_exact(sock, 12)
        sock.sendall(b"XFB 003.008\n")
        ok = expect_closed(sock)
        print("closed" if ok else "NOT closed")
        return 0 if ok else 1
    if sc == "truncated":
        recv_exact(sock, 12)
        sock.sendall(b"RFB 00")
        sock.shutdown(socket.SHUT_WR)
        ok = expect_closed(sock)
        print("closed" if ok else "NOT closed")
        return 0 if ok else 1
    if sc == "old-version":
        recv_exact(sock, 12)
        sock.sendall(b"RFB 003.003\n")
        zero = struct.unpack(">I", recv_exact(sock, 4))[0]
        ln = struct.unpack(">I", recv_exact(sock, 4))[0]
        reason = recv_exact(sock, ln).decode()
        print("refused: %s" % reason)
        return 0 if zero == 0 and "3.8" in reason else 1
    if sc == "hold-preauth":
        recv_exact(sock, 12)
        sock.sendall(b"RFB 003.008\n")
        recv_exact(sock, 2)
        print("holding", flush=True)
        expect_closed(sock, timeout=600)
        return 0
    if sc == "wrong-subtype":
        handshake(args, sock, subtype=256)
        ok = expect_closed(sock)
        print("closed" if ok else "NOT closed")
        return 0 if ok else 1
    if sc == "long-user":
        tls, _ = handshake(args, sock, long_user=True)
        ok = expect_closed(tls)
        print("closed" if ok else "NOT closed")
        return 0 if ok else 1

    tls, subs = handshake(args, sock)
    res, reason = security_result(tls)
    if res != 0:
        print("auth failed: %s" % reason)
        return 1 if sc == "login" else 2
    w, h, pf, name = server_init(tls, not args.exclusive)
    print("server init %dx%d name=%s cipher=%s" % (w, h, name, tls.cipher()[0]))
    if sc == "hold-session":
        print("holding", flush=True)
        expect_closed(tls, timeout=600)
        print("closed", flush=True)
        return 0
    if sc == "hold-active":
        print("holding", flush=True)
        deadline = time.time() + 600
        x = 0
        try:
            while time.time() < deadline:
                x = (x + 1) % 64
                tls.sendall(struct.pack(">BBHH", 5, 0, 10 + x, 10))
                tls.settimeout(0.25)
                try:
                    if not tls.recv(65536):
                        break
                except socket.timeout:
                    pass
        except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
            pass
        print("closed", flush=True)
        return 0
    # SetPixelFormat 32bpp little-endian R16 G8 B0, SetEncodings Raw + ExtDesktopSize
    tls.sendall(b"\x00\x00\x00\x00" + bytes([32, 24, 0, 1]) + struct.pack(">HHH", 255, 255, 255)
                + bytes([16, 8, 0, 0, 0, 0]))
    tls.sendall(struct.pack(">BBHi", 2, 0, 1, 0))
    if sc == "login":
        tls.sendall(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
        rects = read_update(tls)
        area = sum(r[2] * r[3] for r in rects if r[4] == 0)
        first = next((r for r in rects if r[4] == 0), None)
        px = first[5][:4] if first else b""
        print("update: %d rects, %d pixels, first pixel #%s" % (
            len(rects), area, px[2::-1].hex() if len(px) == 4 else "?"))
        return 0 if area == w * h else 1
    if sc == "unknown-type":
        tls.sendall(bytes([77, 0, 0, 0]))
    elif sc == "huge-cut":
        tls.sendall(struct.pack(">BxxxI", 6, 100 * 1024 * 1024) + b"x" * 1000)
    elif sc == "huge-encodings":
        tls.sendall(struct.pack(">BBH", 2, 0, 65535) + b"\0" * 4000)
    elif sc == "bad-pixfmt":
        tls.sendall(b"\x00\x00\x00\x00" + bytes([24, 24, 0, 1]) + struct.pack(">HHH", 255, 255, 255)
                    + bytes([16, 8, 0, 0, 0, 0]))
    else:
        print("unknown scenario %s" % sc)
        return 1
    ok = expect_closed(tls)
    print("closed" if ok else "NOT closed")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (EOFError, RuntimeError, AssertionError, OSError) as e:
        print("error: %s" % e)
        sys.exit(1)
