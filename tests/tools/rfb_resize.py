#!/usr/bin/env python3
"""rfb_resize.py - a scriptable viewer for SetDesktopSize tests.

Test code: it logs in like rfb_probe.py (VeNCrypt X509Plain), sets a 32 bpp
little-endian pixel format, lists Raw, DesktopSize and (unless --no-ext)
ExtendedDesktopSize, requests a full update and then, like a real viewer,
keeps one incremental update request outstanding. Whenever it waits (for a
command or for a condition) it reads the server and applies every update to
a local framebuffer (resizing it when a DesktopSize or an
ExtendedDesktopSize with status 0 says so) and records every desktop-size
rectangle.

Commands come one per line from the FIFO --fifo, each prefixed by a
sequence number; each is answered with one line "SEQ ok ..." or
"SEQ FAIL ..." on stdout:

  resize W H [ID X Y SW SH]...   send SetDesktopSize (default: one screen,
                                 id 0, covering W x H)
  raw HEX                        send these bytes as they are
  expect-ext R S W H [SECS]      the next ExtendedDesktopSize rectangle not
                                 yet looked at has reason R, status S and
                                 size W x H
  expect-size W H [SECS]         the next DesktopSize rectangle is W x H
  no-ext                         no ExtendedDesktopSize rectangle came so far
  no-new-ext                     none came that expect-ext has not looked at
  wait-pattern BG FG X Y W H [SECS]
                                 wait until the framebuffer is exactly BG
                                 (#rrggbb) with a W x H block of FG at X,Y
  refresh [SECS]                 request a full update and wait for it
  expect-closed [SECS]           the server closes the connection
  quit                           log out

  rfb_resize.py --port P --ca CA --user U --password PW --fifo PATH [--no-ext]
"""
import argparse
import os
import select
import socket
import ssl
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rfb_probe import handshake, recv_exact, security_result, server_init  # noqa: E402

ENC_RAW, ENC_DESKTOP_SIZE, ENC_EXT_DESKTOP_SIZE = 0, -223, -308


class Viewer:
    """One connection, read without threads: pump() takes what the server
    sent and applies every complete message."""

    def __init__(self, tls, w, h):
        self.tls = tls
        self.w, self.h = w, h
        self.fb = bytearray(w * h * 4)
        self.inbuf = bytearray()
        self.ext = []           # (reason, status, w, h) in arrival order
        self.ext_seen = 0
        self.sizes = []         # DesktopSize (w, h)
        self.sizes_seen = 0
        self.updates = 0
        self.closed = None      # why reading stopped

    def send(self, b):
        self.tls.sendall(b)

    def request(self, incremental):
        self.send(struct.pack(">BBHHHH", 3, 1 if incremental else 0, 0, 0,
                              self.w, self.h))

    def resize_fb(self, w, h):
        self.w, self.h = w, h
        self.fb = bytearray(w * h * 4)

    def need(self):
        """Length of the first complete message in inbuf, or 0."""
        b, n = self.inbuf, len(self.inbuf)
        if n < 1:
            return 0
        t = b[0]
        if t == 2:
            return 1
        if t == 3:
            if n < 8:
                return 0
            ln = 8 + struct.unpack(">I", b[4:8])[0]
            return ln if n >= ln else 0
        if t != 0:
            raise RuntimeError("unexpected server message %d" % t)
        if n < 4:
            return 0
        count, off = struct.unpack(">H", b[2:4])[0], 4
        for _ in range(count):
            if n < off + 12:
                return 0
            w, h, enc = struct.unpack(">HHi", b[off + 4:off + 12])
            off += 12
            if enc == ENC_RAW:
                off += w * h * 4
            elif enc == ENC_EXT_DESKTOP_SIZE:
                if n < off + 1:
                    return 0
                off += 4 + 16 * b[off]
            elif enc != ENC_DESKTOP_SIZE:
                raise RuntimeError("unexpected encoding %d" % enc)
        return off if n >= off else 0

    def apply(self, m):
        if m[0] != 0:
            return
        count, off = struct.unpack(">H", m[2:4])[0], 4
        for _ in range(count):
            x, y, w, h, enc = struct.unpack(">HHHHi", m[off:off + 12])
            off += 12
            if enc == ENC_RAW:
                if x + w > self.w or y + h > self.h:
                    raise RuntimeError("rectangle %dx%d+%d+%d outside %dx%d"
                                       % (w, h, x, y, self.w, self.h))
                for row in range(h):
                    o = ((y + row) * self.w + x) * 4
                    self.fb[o:o + w * 4] = m[off + row * w * 4:off + (row + 1) * w * 4]
                off += w * h * 4
            elif enc == ENC_EXT_DESKTOP_SIZE:
                off += 4 + 16 * m[off]
                self.ext.append((x, y, w, h))
                if y == 0 and (w, h) != (self.w, self.h):
                    self.resize_fb(w, h)
            else:
                self.sizes.append((w, h))
                self.resize_fb(w, h)
        self.updates += 1
        # A viewer keeps one incremental request outstanding.
        self.request(True)

    def pump(self, secs):
        """Reads for at most secs (0: what is there) and applies what came."""
        if self.closed:
            return
        try:
            if not self.tls.pending():
                r, _, _ = select.select([self.tls], [], [], secs)
                if not r:
                    return
            self.tls.setblocking(False)
            try:
                while True:
                    d = self.tls.recv(1 << 20)
                    if not d:
                        raise EOFError("server closed the connection")
                    self.inbuf += d
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
            finally:
                self.tls.setblocking(True)
            while True:
                n = self.need()
                if n == 0:
                    break
                m = bytes(self.inbuf[:n])
                del self.inbuf[:n]
                self.apply(m)
        except (OSError, EOFError, RuntimeError, ValueError, struct.error) as e:
            self.closed = "%s: %s" % (type(e).__name__, e)

    def wait(self, pred, secs):
        deadline = time.time() + secs
        while not pred():
            left = deadline - time.time()
            if left <= 0 or self.closed:
                return pred()
            self.pump(min(left, 0.2))
        return True

    def matches(self, bg, fg, x, y, w, h):
        """True if the framebuffer is bg with a w x h block of fg at x, y."""
        def px(c):
            return bytes([c & 0xff, (c >> 8) & 0xff, (c >> 16) & 0xff, 0])
        if x + w > self.w or y + h > self.h:
            return False
        # Compare B, G, R of each pixel: mask the fourth byte out.
        fb = bytearray(self.fb)
        fb[3::4] = bytes(len(fb) // 4)
        bg_row = px(bg) * self.w
        blk_row = px(bg) * x + px(fg) * w + px(bg) * (self.w - x - w)
        stride = self.w * 4
        for row in range(self.h):
            want = blk_row if y <= row < y + h else bg_row
            if fb[row * stride:(row + 1) * stride] != want:
                return False
        return True


def colour(s):
    return int(s.lstrip("#"), 16)


def run(v, words):
    cmd, a = words[0], words[1:]
    if cmd == "resize":
        w, h = int(a[0]), int(a[1])
        rest = [int(s) for s in a[2:]]
        screens = [tuple(rest[i:i + 5]) for i in range(0, len(rest), 5)] or [(0, 0, 0, w, h)]
        msg = struct.pack(">BxHHBx", 251, w, h, len(screens))
        msg += b"".join(struct.pack(">IHHHHI", *s, 0) for s in screens)
        v.send(msg)
        return True, "sent %dx%d with %d screens" % (w, h, len(screens))
    if cmd == "raw":
        v.send(bytes.fromhex(a[0]))
        return True, "sent %d bytes" % (len(a[0]) // 2)
    if cmd == "expect-ext":
        want = tuple(int(s) for s in a[:4])
        secs = float(a[4]) if len(a) > 4 else 30
        if not v.wait(lambda: len(v.ext) > v.ext_seen, secs):
            return False, "no ExtendedDesktopSize came (%s)" % (v.closed or "timeout")
        got = v.ext[v.ext_seen]
        v.ext_seen += 1
        return got == want, "ExtendedDesktopSize reason %d status %d size %dx%d" % got
    if cmd == "expect-size":
        want = (int(a[0]), int(a[1]))
        secs = float(a[2]) if len(a) > 2 else 30
        if not v.wait(lambda: len(v.sizes) > v.sizes_seen, secs):
            return False, "no DesktopSize came (%s)" % (v.closed or "timeout")
        got = v.sizes[v.sizes_seen]
        v.sizes_seen += 1
        return got == want, "DesktopSize %dx%d" % got
    if cmd == "no-ext":
        v.pump(0)
        return not v.ext, "%d ExtendedDesktopSize rectangles" % len(v.ext)
    if cmd == "no-new-ext":
        v.pump(0)
        new = v.ext[v.ext_seen:]
        return not new, "%d new ExtendedDesktopSize rectangles %r" % (len(new), new)
    if cmd == "wait-pattern":
        bg, fg = colour(a[0]), colour(a[1])
        x, y, w, h = (int(s) for s in a[2:6])
        secs = float(a[6]) if len(a) > 6 else 30
        ok = v.wait(lambda: v.matches(bg, fg, x, y, w, h), secs)
        return ok, "framebuffer %dx%d %s the pattern%s" % (
            v.w, v.h, "shows" if ok else "does not show",
            " (%s)" % v.closed if v.closed else "")
    if cmd == "refresh":
        secs = float(a[0]) if a else 30
        n = v.updates
        v.request(False)
        ok = v.wait(lambda: v.updates > n, secs)
        return ok, "an update came" if ok else "no update (%s)" % (v.closed or "timeout")
    if cmd == "expect-closed":
        secs = float(a[0]) if a else 30
        ok = v.wait(lambda: v.closed is not None, secs)
        return ok, "closed: %s" % v.closed if ok else "still open"
    if cmd == "quit":
        return True, "bye"
    return False, "unknown command %s" % cmd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--fifo", required=True)
    ap.add_argument("--no-ext", action="store_true")
    args = ap.parse_args()
    # Read-write: the FIFO never reads as EOF between two writers.
    cmds = os.open(args.fifo, os.O_RDWR)
    sock = socket.create_connection((args.host, args.port), timeout=30)
    tls, _ = handshake(args, sock)
    res, reason = security_result(tls)
    if res != 0:
        print("login refused: %s" % reason, flush=True)
        return 1
    w, h, _, _ = server_init(tls)
    v = Viewer(tls, w, h)
    v.send(b"\x00\x00\x00\x00" + bytes([32, 24, 0, 1]) + struct.pack(">HHH", 255, 255, 255)
           + bytes([16, 8, 0, 0, 0, 0]))
    encs = [ENC_RAW, ENC_DESKTOP_SIZE] + ([] if args.no_ext else [ENC_EXT_DESKTOP_SIZE])
    v.send(struct.pack(">BxH", 2, len(encs)) + b"".join(struct.pack(">i", e) for e in encs))
    v.request(False)
    print("ready %dx%d" % (w, h), flush=True)
    pending = ""
    while True:
        # Read the server while no command is there, as a viewer does.
        r, _, _ = select.select([cmds], [], [], 0 if v.tls.pending() else 0.2)
        if not r:
            v.pump(0)
            continue
        chunk = os.read(cmds, 4096).decode()
        pending += chunk
        while "\n" in pending:
            line, pending = pending.split("\n", 1)
            words = line.split()
            if len(words) < 2:
                continue
            try:
                ok, what = run(v, words[1:])
            except (OSError, ValueError, IndexError, struct.error) as e:
                ok, what = False, "error: %s" % e
            print("%s %s %s: %s" % (words[0], "ok" if ok else "FAIL", words[1], what),
                  flush=True)
            if words[1] == "quit":
                return 0

if __name__ == "__main__":
    sys.exit(main())
