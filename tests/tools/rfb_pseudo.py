#!/usr/bin/env python3
"""rfb_pseudo.py - checks moat-net's pseudo-encodings on the wire, as a viewer.

Test code: it logs in like rfb_probe.py (VeNCrypt X509Plain), lists Raw,
LastRect, DesktopName, QEMU extended key events, Fence, ContinuousUpdates and
ExtendedClipboard, and checks what rfbproto requires of the server:

  - a ServerFence, an EndOfContinuousUpdates and the ExtendedClipboard Caps
    come in answer to the SetEncodings;
  - the first update has the count 0xFFFF, the DesktopName (equal to the
    ServerInit name), the QEMU confirmation, pixels, and ends with LastRect;
  - a fence request is echoed with the supported flags only; a SyncNext one
    only after the message that follows it;
  - with continuous updates enabled, updates come without requests while
    the QEMU key events typed (--type TEXT, then Return) change the screen,
    each released by the answer to moat's fence; disabling is confirmed;
  - Peek is answered with Notify(text) and Request with the desktop's
    clipboard (--desktop-clip TEXT) as a Provide; a Provide of --clip TEXT
    is sent to the desktop;
  - last, a Provide whose text is larger than --max-cut-text closes the
    connection (a zip bomb: a few KiB of zlib holding MiBs of zeros).

With --keys SPEC instead, it only lists Raw, QEMU extended key events and
Fence, checks the -258 confirmation, sends the key events SPEC lists (space
separated: "q+KEYSYM/XT" and "q-KEYSYM/XT" a QEMU key event's press and
release with keysym and XT keycode, any u32 each; "k+KEYSYM" and "k-KEYSYM"
an RFB KeyEvent's; "x" a malformed QEMU message, submessage type 1), and
returns once moat-net has answered a fence sent after them, so it has
handled every one; keys pressed and not released stay held until the
connection ends. With --expect-close the connection must close instead.

Each check prints "ok - ..." or "FAIL - ..."; exit status 0 when all pass.

  rfb_pseudo.py --port P --ca CA --user U --password PW --type TEXT
      --clip TEXT --desktop-clip TEXT --max-cut-text N
  rfb_pseudo.py --port P --ca CA --user U --password PW --keys SPEC
      [--expect-close]
"""
import argparse
import os
import socket
import ssl
import struct
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rfb_probe import handshake, recv_exact, security_result, server_init  # noqa: E402

ENCODINGS = [0, -224, -307, -258, -312, -313, 0xC0A1E5CE - (1 << 32)]
CAPS, REQUEST, PEEK, NOTIFY, PROVIDE, TEXT = (1 << 24, 1 << 25, 1 << 26,
                                              1 << 27, 1 << 28, 1)
XT = {"q": 0x10, "w": 0x11, "e": 0x12, "r": 0x13, "t": 0x14, "y": 0x15,
      "u": 0x16, "i": 0x17, "o": 0x18, "p": 0x19, "a": 0x1e, "s": 0x1f,
      "d": 0x20, "f": 0x21, "g": 0x22, "h": 0x23, "j": 0x24, "k": 0x25,
      "l": 0x26, "z": 0x2c, "x": 0x2d, "c": 0x2e, "v": 0x2f, "b": 0x30,
      "n": 0x31, "m": 0x32}
failures = 0


def check(cond, what):
    global failures
    print("%s - %s" % ("ok" if cond else "FAIL", what), flush=True)
    if not cond:
        failures += 1


class Conn:
    def __init__(self, tls, w, h):
        self.tls, self.w, self.h = tls, w, h
        self.fences_answered = 0

    def send(self, b):
        self.tls.sendall(b)

    def msg(self, timeout=30):
        """Reads one server message: (kind, fields...)."""
        t = recv_exact(self.tls, 1, timeout)[0]
        if t == 0:
            return ("update",) + self.update()
        if t == 150:
            return ("endcu",)
        if t == 248:
            recv_exact(self.tls, 3)
            flags, ln = struct.unpack(">IB", recv_exact(self.tls, 5))
            return ("fence", flags, recv_exact(self.tls, ln))
        if t == 3:
            recv_exact(self.tls, 3)
            ln = struct.unpack(">i", recv_exact(self.tls, 4))[0]
            if ln >= 0:
                return ("cut", recv_exact(self.tls, ln))
            data = recv_exact(self.tls, -ln)
            return ("extclip", struct.unpack(">I", data[:4])[0], data[4:])
        raise RuntimeError("unexpected server message %d" % t)

    def update(self):
        recv_exact(self.tls, 1)
        n = struct.unpack(">H", recv_exact(self.tls, 2))[0]
        rects, last = [], False
        i = 0
        while n == 0xFFFF or i < n:
            x, y, w, h, enc = struct.unpack(">HHHHi", recv_exact(self.tls, 12))
            i += 1
            if enc == 0:
                data = recv_exact(self.tls, w * h * 4)
            elif enc == -307:
                data = recv_exact(self.tls, struct.unpack(">I", recv_exact(self.tls, 4))[0])
            elif enc == -224:
                rects.append((x, y, w, h, enc, b""))
                last = True
                break
            elif enc in (-258, -223):
                data = b""
            elif enc == -308:
                ns = recv_exact(self.tls, 4)[0]
                data = recv_exact(self.tls, 16 * ns)
            else:
                raise RuntimeError("unexpected encoding %d" % enc)
            rects.append((x, y, w, h, enc, data))
        return n, rects, last

    def answer_fence(self, flags, payload):
        if flags & 0x80000000:
            self.send(struct.pack(">BxxxIB", 248, flags & 3, len(payload)) + payload)
            self.fences_answered += 1

    def until(self, kind, timeout=30, answer_fences=True):
        """Reads messages up to the first of kind; returns it and what came before."""
        seen = []
        while True:
            m = self.msg(timeout)
            if m[0] == kind:
                return m, seen
            if m[0] == "fence" and answer_fences:
                self.answer_fence(m[1], m[2])
            seen.append(m)

    def fence(self, flags, payload):
        self.send(struct.pack(">BxxxIB", 248, flags, len(payload)) + payload)

    def extclip(self, flags, data=b""):
        self.send(struct.pack(">Bxxxi", 6, -(4 + len(data))) + struct.pack(">I", flags) + data)


def key_events(spec):
    """The wire bytes of the key events of a --keys SPEC."""
    out = b""
    for tok in spec.split():
        if tok == "x":
            out += struct.pack(">BBH", 255, 1, 0)
            continue
        kind, down, rest = tok[0], tok[1:2], tok[2:]
        if kind not in ("q", "k") or down not in ("+", "-"):
            raise RuntimeError("bad key event %r" % tok)
        if kind == "q":
            ks, xt = (int(v, 0) for v in rest.split("/"))
            out += struct.pack(">BBHII", 255, 0, down == "+", ks, xt)
        else:
            out += struct.pack(">BBxxI", 4, down == "+", int(rest, 0))
    return out


def keys_main(args, c):
    """--keys: the QEMU confirmation, then the events, then a fence round trip."""
    c.send(struct.pack(">BBH", 2, 0, 3) + struct.pack(">iii", 0, -258, -312))
    m, _ = c.until("fence", answer_fences=False)
    c.answer_fence(m[1], m[2])
    c.send(struct.pack(">BBHHHH", 3, 0, 0, 0, c.w, c.h))
    m, _ = c.until("update")
    check([r[4] for r in m[2]].count(-258) == 1,
          "the update confirms QEMU extended key events")
    events = key_events(args.keys)
    c.send(events)
    if args.expect_close:
        closed = False
        try:
            while True:
                c.msg(30)
        except (EOFError, ConnectionResetError, ssl.SSLError, BrokenPipeError):
            closed = True
        except socket.timeout:
            closed = False
        check(closed, "moat-net closed the connection")
        return 1 if failures else 0
    c.fence(0x80000000 | 1, b"keys")
    while True:
        m, _ = c.until("fence")
        if not m[1] & 0x80000000 and m[2] == b"keys":
            break
        c.answer_fence(m[1], m[2])
    check(True, "moat-net handled %d key events" % len(args.keys.split()))
    return 1 if failures else 0


def provide(text_bytes, declared=None, level=6):
    plain = struct.pack(">I", len(text_bytes) if declared is None else declared) + text_bytes
    return zlib.compress(plain, level)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--keys")
    ap.add_argument("--expect-close", action="store_true")
    ap.add_argument("--type")
    ap.add_argument("--clip")
    ap.add_argument("--desktop-clip")
    ap.add_argument("--max-cut-text", type=int)
    args = ap.parse_args()
    if args.keys is None and None in (args.type, args.clip, args.desktop_clip,
                                      args.max_cut_text):
        ap.error("--type, --clip, --desktop-clip and --max-cut-text are "
                 "required without --keys")
    sock = socket.create_connection((args.host, args.port), timeout=30)
    tls, _ = handshake(args, sock)
    res, reason = security_result(tls)
    if res != 0:
        print("FAIL - login: %s" % reason)
        return 1
    w, h, _, name = server_init(tls)
    c = Conn(tls, w, h)
    c.send(b"\x00\x00\x00\x00" + bytes([32, 24, 0, 1]) + struct.pack(">HHH", 255, 255, 255)
           + bytes([16, 8, 0, 0, 0, 0]))
    if args.keys is not None:
        return keys_main(args, c)
    c.send(struct.pack(">BBH", 2, 0, len(ENCODINGS)) +
           b"".join(struct.pack(">i", e) for e in ENCODINGS))

    # --- what listing them calls for ---
    m, seen = c.until("fence", answer_fences=False)
    check(m[1] & 0x80000000 and len(m[2]) <= 64,
          "a ServerFence request follows SetEncodings (flags 0x%08x)" % m[1])
    c.answer_fence(m[1], m[2])
    m, seen2 = c.until("endcu")
    check(True, "EndOfContinuousUpdates announces continuous updates")
    m, _ = c.until("extclip")
    check(m[1] == CAPS | REQUEST | PEEK | NOTIFY | PROVIDE | TEXT and
          m[2] == struct.pack(">I", args.max_cut_text),
          "ExtendedClipboard Caps: text only, all five actions, MaxCutText (0x%08x)" % m[1])
    # The desktop's clipboard may come first in the legacy form (before SetEncodings).

    # --- the first update ---
    c.send(struct.pack(">BBHHHH", 3, 0, 0, 0, w, h))
    m, _ = c.until("update")
    n, rects, last = m[1], m[2], m[3]
    encs = [r[4] for r in rects]
    check(n == 0xFFFF and last and encs[-1] == -224,
          "the update's count is 0xFFFF and it ends with LastRect")
    names = [r[5] for r in rects if r[4] == -307]
    check(names == [name.encode()], "the update names the desktop as ServerInit did (%r)" % names)
    check(encs.count(-258) == 1, "the update confirms QEMU extended key events")
    check(sum(r[2] * r[3] for r in rects if r[4] == 0) == w * h, "the update covers the desktop")

    # --- fences ---
    c.fence(0x80000000 | 0x40 | 3, b"abc")
    m, _ = c.until("fence")
    check(m[1] == 3 and m[2] == b"abc",
          "a fence request is echoed with BlockBefore|BlockAfter only (0x%08x %r)" % (m[1], m[2]))
    c.fence(0x80000000 | 4, b"sync")
    tls.settimeout(1)
    try:
        early = recv_exact(tls, 1, 1)
    except socket.timeout:
        early = b""
    tls.settimeout(30)
    check(early == b"", "a SyncNext fence is not answered before the next message")
    c.send(b"\x00\x00\x00\x00" + bytes([32, 24, 0, 1]) + struct.pack(">HHH", 255, 255, 255)
           + bytes([16, 8, 0, 0, 0, 0]))
    m, _ = c.until("fence")
    check(m[1] == 4 and m[2] == b"sync", "and is answered with SyncNext after it")

    # --- continuous updates driven by QEMU key events ---
    c.send(struct.pack(">BBHHHH", 150, 1, 0, 0, w, h))
    answered = c.fences_answered
    # Each character echoed by the xterm is a change: one update each, the
    # next one only after moat's fence was answered.
    for ch in args.type:
        c.send(struct.pack(">BBHII", 255, 0, 1, ord(ch), XT[ch]))
        c.send(struct.pack(">BBHII", 255, 0, 0, ord(ch), XT[ch]))
        c.until("update")
    c.send(struct.pack(">BBHII", 255, 0, 1, 0xff0d, 0x1c))
    c.send(struct.pack(">BBHII", 255, 0, 0, 0xff0d, 0x1c))
    check(c.fences_answered >= answered + len(args.type) - 1,
          "%d continuous updates came without requests, released by %d answered fences"
          % (len(args.type), c.fences_answered - answered))
    c.send(struct.pack(">BBHHHH", 150, 0, 0, 0, 0, 0))
    c.until("endcu")
    check(True, "disabling continuous updates is confirmed")

    # --- extended clipboard ---
    # Text size 0: nothing pushed unasked, changes come as Notify.
    c.extclip(CAPS | REQUEST | PEEK | NOTIFY | PROVIDE | TEXT, struct.pack(">I", 0))
    c.fence(0x80000000, b"caps")
    c.until("fence")
    print("waiting for the desktop clipboard", flush=True)
    m, _ = c.until("extclip")
    check(m[1] == NOTIFY | TEXT,
          "a new desktop clipboard is announced with Notify(text) (0x%08x)" % m[1])
    c.extclip(PEEK)
    m, _ = c.until("extclip")
    check(m[1] == NOTIFY | TEXT, "Peek is answered with Notify(text) (0x%08x)" % m[1])
    c.extclip(REQUEST | TEXT)
    m, _ = c.until("extclip")
    plain = zlib.decompress(m[2]) if m[1] == PROVIDE | TEXT else b"\0\0\0\0"
    ln = struct.unpack(">I", plain[:4])[0]
    want = args.desktop_clip.encode() + b"\0"
    check(m[1] == PROVIDE | TEXT and plain[4:4 + ln] == want,
          "Request is answered with the desktop's text, UTF-8 and NUL-terminated (%r)" % plain[4:4 + ln])
    c.extclip(PROVIDE | TEXT, provide(args.clip.encode() + b"\0"))
    c.extclip(NOTIFY | TEXT)
    m, _ = c.until("extclip")
    check(m[1] == REQUEST | TEXT, "a Notify(text) is answered with Request(text)")
    # Round trip through the server: the message after the Provide was handled.
    c.fence(0x80000000 | 1, b"done")
    c.until("fence")
    print("provided", flush=True)

    # --- a zip bomb closes the connection ---
    bomb = provide(b"\0" * (8 << 20), declared=8 << 20, level=9)
    check(len(bomb) < 64 * 1024, "the bomb is %d bytes of zlib for 8 MiB" % len(bomb))
    c.extclip(PROVIDE | TEXT, bomb)
    closed = False
    try:
        while True:
            c.msg(30)
    except (EOFError, ConnectionResetError, ssl.SSLError, BrokenPipeError):
        closed = True
    except socket.timeout:
        closed = False
    check(closed, "a Provide larger than MaxCutText closes the connection")
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (EOFError, RuntimeError, AssertionError, OSError) as e:
        print("FAIL - error: %s" % e)
        sys.exit(1)
