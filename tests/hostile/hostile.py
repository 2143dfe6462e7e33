#!/usr/bin/env python3
"""hostile.py - malicious RFB viewers for moat's hostile-input suite.

Test code, run by tests/hostile/test_*.sh as root against a live moatd on
loopback. It trusts nothing the server sends (every read is bounded in size
and time) and reads moatd's LogFile to learn how each connection ended.

Every case opens its own connection(s) and asserts three things:
  1. the server does what the case expects: it answers (an accepted message
     is processed and the connection keeps serving updates) or it closes the
     connection (EOF or reset) within CLOSE_BOUND seconds;
  2. the monitor logged "disconnect: <peer> ..." for every connection of the
     case, i.e. the moat-net that served it exited and was reaped, with the
     expected reason;
  3. that moat-net was not killed by a signal and did not exit with an error
     (the monitor logs "moat-net[PID] for <peer> was killed by signal N" or
     "... exited with status N"); grace-time cases expect exactly SIGKILL,
     which is how the monitor ends them.

Usage (PORT, CA, EVENTS as set by tests/e2e/server.sh):
  hostile.py --port P --ca CA --events LOG --user U --password PW suite NAME [--only RE]
      runs the cases of suite NAME (handshake, abort, messages, slow, warmup,
      selfcheck, rogue); prints "ok - NAME: CASE [secs]" or "FAIL - NAME: CASE: why"
      per case and "# suite NAME: N cases, P passed, F failed" last; exit 0
      when every case passed, 1 otherwise.
  hostile.py ... list NAME       prints the case names of suite NAME
  hostile.py ... keep            logs in, prints "holding port=N", then checks
      the served pattern every 0.3 s and prints "roundtrip N" after each
      check; exits 1 with "keeper failed: ..." when a check fails
  hostile.py ... flood           logs in with a tiny receive buffer, prints
      "flooding port=N", sends non-incremental full update requests and
      never reads a byte
  hostile.py ... netpid CLIENTPORT   prints the pid of the moat-net serving
      the connection from that local port (via /proc/net/tcp inodes)
  hostile.py ... blocked CLIENTPORT  exit 0 when that moat-net is blocked
      sending to its viewer (over 256 KiB in the server socket's send queue
      and the process asleep in the TCP send path), 1 otherwise
"""
import argparse
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time

VERSION_38 = b"RFB 003.008\n"
SEC_VENCRYPT = 19
# What the default policy (Encryption=AlwaysOn) offers, in order: VeNCrypt,
# RA2_256, RA2 (RSA-AES); RA2ne (6) and RA2ne_256 (130) only with PreferOff.
OFFERED = bytes([SEC_VENCRYPT, 129, 5])
X509PLAIN = 262
X509CONVERSATION = 0x4D4F4154	# moat's conversation (docs/authentication.md)
# Every byte a well-behaved viewer sends before TLS starts.
PRE_TLS = VERSION_38 + bytes([SEC_VENCRYPT]) + b"\x00\x02" + struct.pack(">I", X509PLAIN)

CLOSE_BOUND = 10.0	# seconds the server may take to close a refused viewer
IO_BOUND = 15.0		# seconds any expected answer may take
LOG_BOUND = 20.0	# seconds until the monitor logs a disconnect

MAX_USER = 255
MAX_PASS = 1023
MAX_CUT = 262144
MAX_ENCODINGS = 1024
MAX_FENCE = 64
MAX_SCREENS = 16

# The largest clipboard text a viewer may send, every byte value in it.
BIG_CUT = bytes(range(256)) * (MAX_CUT // 256)

# Pattern drawn by tests/e2e/lib.sh (moat_draw_pattern).
PATTERN_BG = "1a2b3c"
PATTERN_FG = "f0c000"


class CaseFailed(Exception):
    """A case's expectation did not hold."""


def check(cond, what):
    """Raises CaseFailed(what) unless cond holds."""
    if not cond:
        raise CaseFailed(what)


class Target:
    """Where the server is and what a well-behaved viewer knows."""

    def __init__(self, host, port, ca, user, password, events):
        self.host = host
        self.port = port
        self.ca = ca
        self.user = user.encode()
        self.password = password.encode()
        self.events = Events(events) if events else None

    def tls_context(self, max_version=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.ca)
        if max_version is None:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        else:
            ctx.maximum_version = max_version
        return ctx


class Events:
    """moatd's LogFile: every line the listener and the monitors write."""

    def __init__(self, path):
        self.path = path

    def mark(self):
        """Returns the current size: lines after it belong to what follows."""
        try:
            return os.path.getsize(self.path)
        except FileNotFoundError:
            return 0

    def lines(self, since=0):
        """The whole lines after since: a read can see a line moatd is still
        writing (reads of a file are not atomic against a write), so a tail
        without its newline waits for the next look."""
        with open(self.path, "rb") as f:
            f.seek(since)
            data = f.read()
        data = data[:data.rfind(b"\n") + 1]
        return data.decode("utf-8", "replace").splitlines()

    def wait(self, pattern, since, timeout=LOG_BOUND):
        """Returns the first line after since matching the regex; CaseFailed on timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines(since):
                if rx.search(line):
                    return line
            if time.monotonic() >= deadline:
                raise CaseFailed("no log line /%s/ within %.0fs" % (pattern, timeout))
            time.sleep(0.05)

    def disconnect(self, peer, since, timeout=LOG_BOUND):
        return self.wait(r"disconnect: %s user " % re.escape(peer), since, timeout)

    def crashes(self, peer, since):
        """Lines saying the moat-net of peer died of a signal or exited non-zero."""
        rx = re.compile(r"moat-net\[\d+\] for %s (was killed by signal|exited with status)"
                        % re.escape(peer))
        return [l for l in self.lines(since) if rx.search(l)]


# ---------------------------------------------------------------------------
# One viewer connection

class Viewer:
    """A viewer connection: raw TCP, then TLS. Every read is bounded."""

    def __init__(self, target, rcvbuf=None):
        self.t = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(IO_BOUND)
        self.sock.connect((target.host, target.port))
        self.port = self.sock.getsockname()[1]
        self.peer = "%s port %d" % (target.host, self.port)
        self.io = self.sock		# the stream in use: TCP or TLS
        self.bpp = 32
        self.width = self.height = 0
        self.closed = False

    # --- bytes ---

    def send(self, data):
        self.io.sendall(data)

    def recv_exact(self, n, timeout=IO_BOUND):
        """Reads exactly n bytes; CaseFailed on EOF, reset or timeout."""
        self.io.settimeout(timeout)
        deadline = time.monotonic() + timeout
        data = bytearray()
        while len(data) < n:
            left = deadline - time.monotonic()
            check(left > 0, "timed out after %d of %d bytes" % (len(data), n))
            self.io.settimeout(left)
            try:
                chunk = self.io.recv(min(n - len(data), 1 << 20))
            except socket.timeout:
                raise CaseFailed("timed out after %d of %d bytes" % (len(data), n))
            except (OSError, ssl.SSLError) as e:
                raise CaseFailed("connection lost after %d of %d bytes: %s" % (len(data), n, e))
            if not chunk:
                raise CaseFailed("server closed after %d of %d bytes" % (len(data), n))
            data += chunk
        return bytes(data)

    def u8(self):
        return self.recv_exact(1)[0]

    def u32(self):
        return struct.unpack(">I", self.recv_exact(4))[0]

    def expect_closed(self, timeout=CLOSE_BOUND, allow_data=False):
        """Waits for the server to close (EOF, reset or TLS alert) within timeout.
        Returns the bytes read before; CaseFailed if it stays open, or if it
        sent anything and allow_data is false."""
        deadline = time.monotonic() + timeout
        data = bytearray()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                self.io.settimeout(left)
                chunk = self.io.recv(65536)
                if not chunk:
                    break
                data += chunk
        except socket.timeout:
            raise CaseFailed("server did not close the connection within %.0fs "
                             "(%d bytes received)" % (timeout, len(data)))
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            pass
        self.closed = True
        if not allow_data:
            check(not data, "server sent %r before closing" % bytes(data[:64]))
        return bytes(data)

    def half_close(self):
        """Says "no more bytes" (TCP FIN, no TLS close_notify) but keeps
        reading. Through a duplicate descriptor: shutting down an SSLSocket
        itself would drop its TLS state."""
        dup = socket.socket(fileno=os.dup(self.io.fileno()))
        try:
            dup.shutdown(socket.SHUT_WR)
        finally:
            dup.close()

    def reset(self):
        """Closes with an RST instead of a FIN."""
        self.io.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self):
        if self.io is not self.sock:
            try:
                self.io.close()
            except OSError:
                pass
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    # --- handshake steps ---

    def read_version(self):
        v = self.recv_exact(12)
        check(v == VERSION_38, "server version %r" % v)

    def security_types(self, version=VERSION_38):
        """Sends version; returns the offered security types (must be OFFERED)."""
        self.send(version)
        n = self.u8()
        if n == 0:
            raise CaseFailed("security types refused: %r" % self.recv_exact(self.u32()))
        types = self.recv_exact(n)
        check(types == OFFERED, "offered security types %r, expected %r" % (types, OFFERED))
        return types

    def vencrypt_version(self, major=0, minor=2):
        """Chooses VeNCrypt and answers the server's version; returns the ack byte."""
        self.send(bytes([SEC_VENCRYPT]))
        check(self.recv_exact(2) == b"\x00\x02", "server VeNCrypt version is not 0.2")
        self.send(bytes([major, minor]))
        return self.u8()

    def vencrypt_subtypes(self):
        n = self.u8()
        subs = struct.unpack(">%dI" % n, self.recv_exact(4 * n))
        check(subs == (X509PLAIN, X509CONVERSATION),
              "offered subtypes %r, expected (262, 1297039700)" % (subs,))
        return subs

    def pre_tls(self, subtype=X509PLAIN):
        """Everything before the TLS handshake, checking each server answer."""
        self.read_version()
        self.security_types()
        check(self.vencrypt_version() == 0, "VeNCrypt 0.2 not acknowledged")
        self.vencrypt_subtypes()
        self.send(struct.pack(">I", subtype))
        check(self.u8() == 1, "subtype %d not acknowledged with 1" % subtype)

    def conv_message(self):
        """One message of moat's conversation: (kind, text)."""
        kind = self.u8()
        n = self.u32()
        check(kind <= 4, "conversation message kind %d" % kind)
        check(n <= 1024, "conversation text of %d bytes" % n)
        return kind, self.recv_exact(n)

    def conv_answer(self, data, length=None):
        self.send(struct.pack(">I", len(data) if length is None else length) + data)

    def start_tls(self, max_version=None):
        ctx = self.t.tls_context(max_version)
        self.sock.settimeout(IO_BOUND)
        self.io = ctx.wrap_socket(self.sock, server_hostname=self.t.host)

    def send_plain(self, user=None, password=None, ulen=None, plen=None):
        u = self.t.user if user is None else user
        p = self.t.password if password is None else password
        self.send(struct.pack(">II", len(u) if ulen is None else ulen,
                              len(p) if plen is None else plen) + u + p)

    def security_result(self):
        """Returns (code, reason); reason only for failures."""
        code = self.u32()
        if code == 0:
            return 0, ""
        n = self.u32()
        check(n <= 4096, "reason length %d" % n)
        return code, self.recv_exact(n).decode("latin-1")

    def server_init(self, shared=1):
        self.send(bytes([shared]))
        hdr = self.recv_exact(24)
        self.width, self.height = struct.unpack(">HH", hdr[:4])
        n = struct.unpack(">I", hdr[20:24])[0]
        check(n <= 4096, "desktop name length %d" % n)
        name = self.recv_exact(n)
        check(self.width > 0 and self.height > 0, "framebuffer %dx%d" % (self.width, self.height))
        return hdr[4:20], name

    def login(self, encodings=(0, -308)):
        """A complete well-behaved login: ServerInit read, 32 bpp pixel
        format (little-endian, red at 16, green at 8, blue at 0) and the
        given encodings set. Returns self."""
        self.pre_tls()
        self.start_tls()
        self.send_plain()
        code, reason = self.security_result()
        check(code == 0, "login refused: %d %s" % (code, reason))
        self.server_init()
        self.set_pixel_format()
        self.set_encodings(encodings)
        return self

    # --- normal-phase messages ---

    def set_pixel_format(self, bpp=32, depth=24, big_endian=0, true_colour=1,
                         maxes=(255, 255, 255), shifts=(16, 8, 0)):
        self.send(pixel_format_msg(bpp, depth, big_endian, true_colour, maxes, shifts))
        self.bpp = bpp

    def set_encodings(self, encodings):
        self.send(struct.pack(">BxH", 2, len(encodings)) +
                  b"".join(struct.pack(">i", e) for e in encodings))

    def update_request(self, x, y, w, h, incremental=0):
        self.send(struct.pack(">BBHHHH", 3, incremental, x, y, w, h))

    def read_message(self, timeout=IO_BOUND):
        """Reads one server message: ("update", rects), ("cut", text), ("bell",),
        ("fence", flags, data) or ("eocu",). A rect is (x, y, w, h, enc, data)."""
        t = self.recv_exact(1, timeout)[0]
        if t == 0:
            self.recv_exact(1)
            n = struct.unpack(">H", self.recv_exact(2))[0]
            rects = []
            for _ in range(n):
                x, y, w, h, enc = struct.unpack(">HHHHi", self.recv_exact(12))
                rects.append((x, y, w, h, enc, self.rect_data(w, h, enc)))
                if enc == -224:	# LastRect
                    break
            return ("update", rects)
        if t == 2:
            return ("bell",)
        if t == 3:
            self.recv_exact(3)
            n = self.u32()
            check(n <= MAX_CUT, "ServerCutText of %d bytes" % n)
            return ("cut", self.recv_exact(n))
        if t == 150:
            return ("eocu",)
        if t == 248:
            self.recv_exact(3)
            flags = self.u32()
            return ("fence", flags, self.recv_exact(self.u8()))
        raise CaseFailed("unexpected server message type %d" % t)

    def rect_data(self, w, h, enc):
        bpp = self.bpp // 8
        if enc == 0:
            return self.recv_exact(w * h * bpp)
        if enc == 1:
            return self.recv_exact(4)
        if enc == 16:
            return self.recv_exact(self.u32())
        if enc == -308:
            hdr = self.recv_exact(4)
            return hdr + self.recv_exact(16 * hdr[0])
        if enc in (-223, -224):
            return b""
        if enc == -239:
            return self.recv_exact(w * h * bpp + (w + 7) // 8 * h)
        if enc == -307:
            return self.recv_exact(self.u32())
        raise CaseFailed("unexpected encoding %d" % enc)

    def read_update(self, timeout=IO_BOUND):
        """Reads messages until a FramebufferUpdate; returns its rects."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "no FramebufferUpdate within %.0fs" % timeout)
            m = self.read_message(left)
            if m[0] == "update":
                return m[1]

    def roundtrip(self, x=100, y=100, w=4, h=4, timeout=IO_BOUND):
        """Requests (x, y, w, h) non-incrementally until an update covers
        (x, y) with Raw pixels; returns all rects seen and that pixel's bytes.
        Proves the connection still serves (every earlier message was
        processed: the server handles them in order)."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "no update covering %d,%d within %.0fs" % (x, y, timeout))
            self.update_request(x, y, w, h)
            rects = self.read_update(left)
            seen += rects
            for rx, ry, rw, rh, enc, data in rects:
                if enc == 0 and rx <= x < rx + rw and ry <= y < ry + rh:
                    bpp = self.bpp // 8
                    off = ((y - ry) * rw + (x - rx)) * bpp
                    return seen, data[off:off + bpp]

    def colour_at(self, x, y):
        """#rrggbb (hex, no '#') of pixel (x, y) in the default 32 bpp format."""
        check(self.bpp == 32, "colour_at needs 32 bpp")
        _, px = self.roundtrip(x, y, 1, 1)
        return px[2::-1].hex()

    def check_pattern(self):
        """The served desktop is still the pattern: background and block."""
        got = (self.colour_at(5, 5), self.colour_at(150, 150))
        check(got == (PATTERN_BG, PATTERN_FG), "pattern pixels %r, expected %r"
              % (got, (PATTERN_BG, PATTERN_FG)))


def pixel_format_msg(bpp, depth, big_endian, true_colour, maxes, shifts):
    return (b"\x00\x00\x00\x00" + bytes([bpp, depth, big_endian, true_colour]) +
            struct.pack(">HHH", *maxes) + bytes(shifts) + b"\x00\x00\x00")


class ManualTLS:
    """The client side of TLS over memory BIOs, so a case can stop at any
    byte of the handshake or of a record."""

    def __init__(self, viewer, max_version=None):
        self.v = viewer
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = viewer.t.tls_context(max_version).wrap_bio(
            self.inc, self.out, server_hostname=viewer.t.host)

    def client_hello(self):
        try:
            self.obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = self.out.read()
        check(len(hello) > 100, "ClientHello of %d bytes" % len(hello))
        return hello

    def finish(self, timeout=IO_BOUND):
        """Reads the server's flight until the handshake completes on our side;
        returns the client's last flight (Finished), not sent yet."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            check(left > 0, "TLS handshake did not complete")
            self.v.sock.settimeout(left)
            try:
                data = self.v.sock.recv(65536)
            except socket.timeout:
                raise CaseFailed("TLS handshake timed out")
            check(data, "server closed during the TLS handshake")
            self.inc.write(data)
            try:
                self.obj.do_handshake()
                return self.out.read()
            except ssl.SSLWantReadError:
                continue

    def record(self, data):
        """Encrypts data as one TLS record; returns the bytes to send."""
        self.obj.write(data)
        return self.out.read()

    def close_notify(self):
        try:
            self.obj.unwrap()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()


# ---------------------------------------------------------------------------
# Cases and the runner

class Case:
    """name; fn(ctx); reason: regex the disconnect line of the case's first
    connection must match; logs: regexes ({peer} is replaced) that must each
    match a log line of the case; grace: the monitor ends the connection
    (one SIGKILL allowed and expected)."""

    def __init__(self, name, fn, reason=None, logs=(), grace=False):
        self.name, self.fn, self.reason = name, fn, reason
        self.logs, self.grace = logs, grace


class Ctx:
    def __init__(self, target):
        self.t = target
        self.viewers = []

    def viewer(self, **kw):
        v = Viewer(self.t, **kw)
        self.viewers.append(v)
        return v

    def login(self, **kw):
        return self.viewer().login(**kw)


def run_case(target, case, since=None):
    """Runs one case; returns None if it passed, else why it failed."""
    ev = target.events
    since = ev.mark() if since is None else since
    ctx = Ctx(target)
    try:
        case.fn(ctx)
    except CaseFailed as e:
        return str(e)
    except Exception as e:	# a reset, a TLS error, a bug: report, go on
        return "%s: %s" % (type(e).__name__, e)
    finally:
        for v in ctx.viewers:
            v.close()
    for i, v in enumerate(ctx.viewers):
        try:
            line = ev.disconnect(v.peer, since)
        except CaseFailed as e:
            return "moat-net for %s: %s" % (v.peer, e)
        crashes = ev.crashes(v.peer, since)
        if case.grace:
            bad = [c for c in crashes if "killed by signal 9 " not in c]
            if bad or len(crashes) > 1:
                return "moat-net crashed: %s" % "; ".join(crashes)
        elif crashes:
            return "moat-net crashed: %s" % "; ".join(crashes)
        if i == 0 and case.reason and not re.search(case.reason, line):
            return "disconnect reason /%s/ expected, got: %s" % (
                case.reason, line.split("disconnect: ", 1)[-1])
    for pattern in case.logs:
        rx = pattern.replace("{peer}", re.escape(ctx.viewers[0].peer))
        if not any(re.search(rx, l) for l in ev.lines(since)):
            return "no log line /%s/" % rx
    return None


def run_suite(target, name, cases, parallel=False, out=sys.stdout):
    lock = threading.Lock()
    results = []

    def one(case):
        t0 = time.monotonic()
        why = run_case(target, case)
        dt = time.monotonic() - t0
        with lock:
            results.append(why is None)
            if why is None:
                print("ok - %s: %s [%.2fs]" % (name, case.name, dt), file=out, flush=True)
            else:
                why = why.replace("\n", " ")
                print("FAIL - %s: %s: %s" % (name, case.name, why), file=out, flush=True)

    if parallel:
        threads = [threading.Thread(target=one, args=(c,)) for c in cases]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    else:
        for c in cases:
            one(c)
    passed = sum(results)
    print("# suite %s: %d cases, %d passed, %d failed" % (
        name, len(cases), passed, len(cases) - passed), file=out, flush=True)
    return passed == len(cases)


# ---------------------------------------------------------------------------
# Suite "handshake": every step before the normal phase

R_PROTO = r"protocol violation"
R_CLIENT = r"viewer disconnected"
R_AUTH = r"authentication failed"
R_ABORT = r"viewer disconnected|protocol violation"


def c_version_refused(version, form):
    """3.3/3.7 (and what maps to them) get a refusal reason, then a close."""
    def fn(ctx):
        v = ctx.viewer()
        v.read_version()
        v.send(version)
        if form == 3:
            check(v.u32() == 0, "3.3 refusal must start with security type 0")
        else:
            check(v.u8() == 0, "3.7 refusal must list no security types")
        reason = v.recv_exact(v.u32()).decode("latin-1")
        check("3.8" in reason, "refusal reason %r does not name 3.8" % reason)
        v.expect_closed()
    return fn


def c_version_garbage(version):
    """An invalid ProtocolVersion: the server closes without another byte."""
    def fn(ctx):
        v = ctx.viewer()
        v.read_version()
        v.send(version)
        v.expect_closed()
    return fn


def c_version_mapped(version):
    """An unpublished 3.x with x >= 8 is served as 3.8 (as TigerVNC does)."""
    def fn(ctx):
        v = ctx.viewer()
        v.read_version()
        v.security_types(version)
    return fn


def c_sectype(t):
    def fn(ctx):
        v = ctx.viewer()
        v.read_version()
        v.security_types()
        v.send(bytes([t]))
        code, reason = v.security_result()
        check(code == 1, "SecurityResult %d, expected 1" % code)
        check(reason == "Security type not offered", "reason %r" % reason)
        v.expect_closed()
    return fn


def c_vencrypt_version(major, minor):
    def fn(ctx):
        v = ctx.viewer()
        v.read_version()
        v.security_types()
        ack = v.vencrypt_version(major, minor)
        check(ack == 0xff, "VeNCrypt %d.%d acknowledged with %d, expected 255" % (major, minor, ack))
        v.expect_closed()
    return fn


def c_subtype(st):
    def fn(ctx):
        v = ctx.viewer()
        v.read_version()
        v.security_types()
        check(v.vencrypt_version() == 0, "VeNCrypt 0.2 refused")
        v.vencrypt_subtypes()
        v.send(struct.pack(">I", st))
        v.expect_closed()	# no ack byte, no TLS
    return fn


def c_tls_max12(ctx):
    """A TLS 1.2-only viewer: the server answers with an alert and closes."""
    v = ctx.viewer()
    v.pre_tls()
    v.send(ManualTLS(v, max_version=ssl.TLSVersion.TLSv1_2).client_hello())
    data = v.expect_closed(allow_data=True)
    check(data[:2] == b"\x15\x03", "answer %r is not a TLS alert" % data[:16])


def c_tls_garbage(data):
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls()
        v.send(data)
        v.expect_closed(allow_data=True)	# possibly a TLS alert
    return fn


def c_plain_in_clear(ctx):
    """Credentials sent in clear where the ClientHello belongs."""
    v = ctx.viewer()
    v.pre_tls()
    v.send_plain()
    v.expect_closed(allow_data=True)


def c_plain_closed(ulen, plen, send_user=b"", send_pass=b""):
    """Credentials with a length over its bound: closed without a SecurityResult."""
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls()
        v.start_tls()
        v.send(struct.pack(">II", ulen, plen) + send_user + send_pass)
        v.expect_closed()
    return fn


def c_plain_answered(user, password, expect_code):
    """Credentials within bounds: the monitor decides and the server answers."""
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls()
        v.start_tls()
        v.send_plain(user, password)
        code, reason = v.security_result()
        check(code == expect_code, "SecurityResult %d (%s), expected %d" % (code, reason, expect_code))
        if code != 0:
            check(reason == "Authentication failed", "reason %r" % reason)
            v.expect_closed()
        else:
            v.server_init()
            v.set_pixel_format()
            v.check_pattern()
    return fn


def c_login(ctx):
    ctx.login().check_pattern()


def c_conv(answers, expect):
    """moat's conversation: each question gets the next of answers (bytes,
    or (length, bytes) for a lying length). expect: "ok", "refused" (a
    SecurityResult 1) or "closed" (no SecurityResult)."""
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls(X509CONVERSATION)
        v.start_tls()
        todo = list(answers)
        while True:
            kind, text = v.conv_message()
            if kind == 0:
                check(text == b"", "end message with text")
                break
            if kind in (3, 4):
                continue
            if not todo:
                check(expect == "closed", "more questions than answers: %r" % text)
                v.expect_closed()
                return
            a = todo.pop(0)
            if isinstance(a, tuple):
                v.conv_answer(a[1], a[0])
            else:
                v.conv_answer(a)
            if expect == "closed" and not todo:
                v.expect_closed()
                return
        code, reason = v.security_result()
        if expect == "ok":
            check(code == 0, "login refused: %s" % reason)
            v.server_init()
            v.set_pixel_format()
            v.check_pattern()
        else:
            check(code == 1 and reason == "Authentication failed",
                  "SecurityResult %d (%r), expected a refusal" % (code, reason))
            v.expect_closed()
    return fn


def c_conv_stall(grace):
    """A viewer that answers the user name question and then never the
    password question: the login grace time ends the conversation."""
    def fn(ctx):
        v = ctx.viewer()
        t0 = time.monotonic()
        v.pre_tls(X509CONVERSATION)
        v.start_tls()
        kind, _ = v.conv_message()
        check(kind == 1, "first message is not the user name question")
        v.conv_answer(v.t.user)
        kind, _ = v.conv_message()
        check(kind == 2, "second message is not the password question")
        v.expect_closed(timeout=grace + CLOSE_BOUND)
        dt = time.monotonic() - t0
        check(dt >= grace - 1.2, "closed after %.1fs, before the %ds grace time" % (dt, grace))
    return fn


def c_pipelined(ctx):
    """Credentials and ClientInit in one write: both are honoured."""
    v = ctx.viewer()
    v.pre_tls()
    v.start_tls()
    v.send(struct.pack(">II", len(v.t.user), len(v.t.password)) + v.t.user + v.t.password
           + b"\x01" + pixel_format_msg(32, 24, 0, 1, (255, 255, 255), (16, 8, 0))
           + struct.pack(">BxHi", 2, 1, 0))
    code, reason = v.security_result()
    check(code == 0, "login refused: %s" % reason)
    hdr = v.recv_exact(24)
    v.recv_exact(struct.unpack(">I", hdr[20:24])[0])
    v.width, v.height = struct.unpack(">HH", hdr[:4])
    v.check_pattern()


def c_second_auth(ctx):
    """After a failed login, a second attempt on the same connection is not read."""
    v = ctx.viewer()
    v.pre_tls()
    v.start_tls()
    v.send_plain(password=b"wrong")
    code, _ = v.security_result()
    check(code == 1, "wrong password accepted")
    try:
        v.send_plain()
    except OSError:
        pass
    v.expect_closed()


def handshake_cases(t):
    cases = [Case("well-behaved login", c_login, R_CLIENT,
                  logs=[r"authentication succeeded for user .* from {peer}$"])]
    for ver, form in ((b"RFB 003.003\n", 3), (b"RFB 003.007\n", 7),
                      (b"RFB 003.005\n", 3), (b"RFB 003.000\n", 3)):
        cases.append(Case("downgrade to %r is refused with a reason" % ver, c_version_refused(ver, form),
                          R_PROTO, logs=[r"{peer}: refusing RFB 3\.%d viewer" % form]))
    for ver in (b"RFB 004.000\n", b"RFB 003.00a\n", b"\0" * 12, b"RFB 005.000\n",
                b"RFB 004.001\n", b"rfb 003.008\n", b"RFB 003.008\r", b"RFB 003,008\n",
                b"RFB 03.008\n\n", b"RFB -03.008\n", b"RFB 003.-08\n", b"\xff" * 12,
                b"GET / HTTP/1.1\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\x00"):
        cases.append(Case("version %r closes" % ver, c_version_garbage(ver), R_PROTO,
                          logs=[r"{peer}: viewer sent an invalid protocol version"]))
    cases.append(Case("version 'RFB 003.889' is served as 3.8", c_version_mapped(b"RFB 003.889\n"),
                      R_CLIENT))
    for st in (0, 1, 2, 6, 13, 16, 18, 30, 130, 133, 255):
        cases.append(Case("security type %d (not offered) is refused" % st, c_sectype(st), R_PROTO,
                          logs=[r"{peer}: viewer chose security type %d, which was not offered" % st]))
    for major, minor in ((0, 0), (0, 1), (0, 3), (1, 2), (2, 0), (255, 255)):
        cases.append(Case("VeNCrypt %d.%d is refused" % (major, minor),
                          c_vencrypt_version(major, minor), R_PROTO,
                          logs=[r"{peer}: viewer offered VeNCrypt %d\.%d" % (major, minor)]))
    for st in (0, 1, 2, 256, 257, 258, 259, 260, 261, 263, 264, 0x7fffffff, 0xffffffff):
        cases.append(Case("VeNCrypt subtype %d (not offered) closes" % st, c_subtype(st), R_PROTO,
                          logs=[r"{peer}: viewer chose VeNCrypt subtype %d, which was not offered" % st]))
    cases += [
        Case("TLS 1.2-only ClientHello fails", c_tls_max12, R_PROTO,
             logs=[r"{peer}: TLS handshake failed"]),
        Case("zeros instead of a ClientHello", c_tls_garbage(b"\0" * 64), R_PROTO),
        Case("HTTP instead of a ClientHello", c_tls_garbage(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"), R_PROTO),
        Case("SSLv2-style hello", c_tls_garbage(bytes([0x80, 0x2e, 1, 3, 1]) + b"\0" * 45), R_PROTO),
        Case("TLS record of length 0xffff", c_tls_garbage(b"\x16\x03\x01\xff\xff" + b"\x01" * 1000), R_PROTO),
        Case("Plain credentials in clear instead of TLS", c_plain_in_clear, R_PROTO),
        # Plain user length: 0, maximum, maximum + 1, 0xFFFFFFFF
        Case("Plain ulen 0 closes", c_plain_closed(0, 4, b"", b"pass"), R_PROTO),
        Case("Plain ulen 255 (maximum) is answered", c_plain_answered(b"u" * MAX_USER, b"pw", 1), R_AUTH,
             logs=[r"authentication failed for user \"u{255}\" from {peer}"]),
        Case("Plain ulen 256 closes", c_plain_closed(MAX_USER + 1, 4, b"u" * 256, b"pass"), R_PROTO),
        Case("Plain ulen 0xFFFFFFFF closes", c_plain_closed(0xffffffff, 4, b"u" * 100), R_PROTO),
        # Plain password length
        Case("Plain plen 0 is answered", c_plain_answered(None, b"", 1), R_AUTH),
        Case("Plain plen 1023 (maximum) is answered", c_plain_answered(None, b"p" * MAX_PASS, 1), R_AUTH),
        Case("Plain plen 1024 closes", c_plain_closed(len(t.user), MAX_PASS + 1, t.user, b"p" * 1024), R_PROTO),
        Case("Plain plen 0xFFFFFFFF closes", c_plain_closed(len(t.user), 0xffffffff, t.user, b"p" * 100),
             R_PROTO),
        Case("Plain ulen and plen both maximum are answered",
             c_plain_answered(b"v" * MAX_USER, b"q" * MAX_PASS, 1), R_AUTH),
        Case("Plain ulen and plen both 0xFFFFFFFF close", c_plain_closed(0xffffffff, 0xffffffff), R_PROTO),
        Case("Plain 0x80000000 lengths close", c_plain_closed(0x80000000, 0x80000000), R_PROTO),
        Case("Plain user with a NUL closes", c_plain_closed(5, 2, b"ab\0cd", b"pw"), R_PROTO),
        Case("Plain password with a NUL closes", c_plain_closed(len(t.user), 3, t.user, b"a\0b"), R_PROTO),
        Case("Plain right password is accepted", c_plain_answered(None, None, 0), R_CLIENT),
        Case("Plain wrong password is answered", c_plain_answered(None, b"wrong", 1), R_AUTH),
        Case("credentials pipelined with ClientInit and messages", c_pipelined, R_CLIENT),
        Case("a second login after a failure is not read", c_second_auth, R_AUTH),
        # moat's conversation: answer lengths 0, maximum, maximum + 1, 0xFFFFFFFF
        Case("conversation: right answers log in", c_conv([t.user, t.password], "ok"), R_CLIENT,
             logs=[r"{peer}: security VeNCrypt X509Conversation"]),
        Case("conversation: wrong password is refused", c_conv([t.user, b"wrong"], "refused"), R_AUTH),
        Case("conversation: empty user name is refused", c_conv([b"", b"pw"], "refused"), R_AUTH),
        Case("conversation: empty password is refused", c_conv([t.user, b""], "refused"), R_AUTH),
        Case("conversation: answer of 1023 bytes (maximum) is answered",
             c_conv([t.user, b"p" * MAX_PASS], "refused"), R_AUTH),
        Case("conversation: answer of 1024 bytes closes",
             c_conv([t.user, (MAX_PASS + 1, b"p" * 1024)], "closed"), R_PROTO),
        Case("conversation: answer length 0xFFFFFFFF closes",
             c_conv([(0xffffffff, b"u" * 100)], "closed"), R_PROTO),
        Case("conversation: answer with a NUL closes", c_conv([b"ab\0cd"], "closed"), R_PROTO),
        Case("conversation: user name of 255 bytes is answered",
             c_conv([b"u" * MAX_USER, b"pw"], "refused"), R_AUTH),
        Case("conversation: user name of 1023 bytes is refused",
             c_conv([b"u" * MAX_PASS, b"pw"], "refused"), R_AUTH),
    ]
    return cases


# ---------------------------------------------------------------------------
# Suite "abort": the viewer goes away at every byte of the handshake

# (client bytes, server bytes that answer them)
PRE_TLS_STEPS = [(b"", 12), (VERSION_38, 2), (bytes([SEC_VENCRYPT]), 2), (b"\x00\x02", 10),
                 (struct.pack(">I", X509PLAIN), 1)]


def drive_pre_tls(v, k):
    """Sends the first k bytes of PRE_TLS, reading each complete answer."""
    sent = 0
    for data, answer in PRE_TLS_STEPS:
        part = data[:max(0, k - sent)]
        if part:
            v.send(part)
            sent += len(part)
        if len(part) < len(data):
            return
        v.recv_exact(answer)


def c_abort_pre_tls(k, how):
    def fn(ctx):
        v = ctx.viewer()
        if how != "rst0":	# rst0: reset before even reading the server's version
            drive_pre_tls(v, k)
        end(v, how)
    return fn


def end(v, how):
    """Ends a viewer: half-close and wait for the server's close (it must
    close on its own), close, or reset."""
    if how == "half":
        v.half_close()
        v.expect_closed(allow_data=True)
    elif how in ("rst", "rst0"):
        v.reset()
    else:
        v.close()


def c_abort_tls(stage, how="half"):
    """Stops inside the TLS handshake: stage names where."""
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls()
        tls = ManualTLS(v)
        hello = tls.client_hello()
        if stage == "hello-1":
            v.send(hello[:1])
        elif stage == "hello-5":
            v.send(hello[:5])
        elif stage == "hello-half":
            v.send(hello[:len(hello) // 2])
        elif stage == "hello-all-but-1":
            v.send(hello[:-1])
        elif stage == "hello":
            v.send(hello)
        elif stage == "server-flight-part":
            v.send(hello)
            v.recv_exact(10)
        elif stage == "no-finished":
            v.send(hello)
            tls.finish()
        elif stage == "finished-half":
            v.send(hello)
            fin = tls.finish()
            v.send(fin[:len(fin) // 2])
        else:
            raise CaseFailed("unknown stage %s" % stage)
        end(v, how)
    return fn


def c_abort_creds(cut, how="half"):
    """Completes TLS, then sends only the first cut bytes of the credentials
    (each byte or piece in its own record) or a close_notify."""
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls()
        tls = ManualTLS(v)
        v.send(tls.client_hello())
        v.send(tls.finish())
        creds = struct.pack(">II", len(v.t.user), len(v.t.password)) + v.t.user + v.t.password
        if cut == "close_notify":
            v.send(tls.record(creds[:6]) + tls.close_notify())
        elif cut == "bytewise":
            for i in range(len(creds) - 1):
                v.send(tls.record(creds[i:i + 1]))
        elif cut == "partial-record":
            rec = tls.record(creds)
            v.send(rec[:len(rec) - 1])
        else:
            if cut > 0:
                v.send(tls.record(creds[:cut]))
        end(v, how)
    return fn


def c_abort_after(stage, how):
    """Goes away after the credentials: before the SecurityResult, before
    ClientInit, before ServerInit."""
    def fn(ctx):
        v = ctx.viewer()
        v.pre_tls()
        v.start_tls()
        v.send_plain()
        if stage != "result":
            check(v.security_result()[0] == 0, "login refused")
            if stage == "server-init":
                v.send(b"\x01")
        end(v, how)	# "half": the server's answer is read, then its close
    return fn


def abort_cases(t):
    cases = []
    ulen = 8 + len(t.user)
    for how in ("half", "close", "rst"):
        for k in range(len(PRE_TLS) + 1):
            cases.append(Case("%s after %d of %d pre-TLS bytes" % (how, k, len(PRE_TLS)),
                              c_abort_pre_tls(k, how), R_ABORT))
    cases.append(Case("reset before reading the server version", c_abort_pre_tls(0, "rst0"), R_ABORT))
    for stage in ("hello-1", "hello-5", "hello-half", "hello-all-but-1", "hello",
                  "server-flight-part", "no-finished", "finished-half"):
        for how in ("half", "rst"):
            cases.append(Case("TLS handshake: %s after %s" % (how, stage), c_abort_tls(stage, how),
                              R_ABORT))
    for cut in (0, 1, 4, 7, 8, 8 + len(t.user) // 2, ulen, ulen + 1, ulen + len(t.password) - 1,
                "bytewise", "partial-record", "close_notify"):
        for how in ("half", "rst"):
            cases.append(Case("credentials: %s after %s bytes" % (how, cut), c_abort_creds(cut, how),
                              R_ABORT))
    for stage in ("result", "client-init", "server-init"):
        for how in ("half", "rst"):
            cases.append(Case("after login: %s before %s" % (how, stage), c_abort_after(stage, how),
                              R_ABORT))
    return cases


# ---------------------------------------------------------------------------
# Suite "messages": every client message type after login

def msg_cut(n, body=None):
    return struct.pack(">BxxxI", 6, n) + (b"" if body is None else body)


def msg_encodings(n, count=None):
    encs = [0] + list(range(1000, 1000 + n - 1)) if n else []
    return struct.pack(">BxH", 2, n if count is None else count) + \
        b"".join(struct.pack(">i", e) for e in encs)


def msg_fence(n, flags=0, count=None):
    return struct.pack(">BxxxIB", 248, flags, n if count is None else count) + b"f" * n


def msg_desktop_size(n, count=None, w=800, h=600):
    screens = b"".join(struct.pack(">IHHHHI", i, 0, 0, w, h, 0) for i in range(n))
    return struct.pack(">BxHHBx", 251, w, h, n if count is None else count) + screens


def msg_qemu_key(sub=0, down=1, keysym=0x61, keycode=30):
    return struct.pack(">BBHII", 255, sub, down, keysym, keycode)


def msg_key(down, keysym):
    return struct.pack(">BBxxI", 4, down, keysym)


def msg_pointer(mask, x, y):
    return struct.pack(">BBHH", 5, mask, x, y)


def c_accepted(data, then=None, split=None):
    """data is accepted: the connection keeps serving, the pattern is intact."""
    def fn(ctx):
        v = ctx.login()
        v.check_pattern()
        msgs = data(v) if callable(data) else data
        if split:
            for i in range(0, len(msgs), split):
                v.send(msgs[i:i + split])
        else:
            v.send(msgs)
        if then:
            then(v)
        v.check_pattern()
    return fn


def c_closed(data):
    """data closes the connection. What the server sent before closing is
    not judged: moat-session may pass the clipboard on at any time."""
    def fn(ctx):
        v = ctx.login()
        v.check_pattern()
        try:
            v.send(data)
        except OSError:
            pass
        v.expect_closed(allow_data=True)
    return fn


def then_desktop_refused(v):
    """The answer to SetDesktopSize: ExtendedDesktopSize, reason 1 (this
    viewer), status 1 (prohibited), the unchanged size."""
    v.update_request(0, 0, 1, 1)
    rects = v.read_update()
    ext = [r for r in rects if r[4] == -308]
    check(ext, "no ExtendedDesktopSize answer (rects %r)" % [r[:5] for r in rects])
    x, y, w, h = ext[0][:4]
    check((x, y, w, h) == (1, 1, v.width, v.height),
          "ExtendedDesktopSize %r, expected (1, 1, %d, %d)" % ((x, y, w, h), v.width, v.height))


def then_pixel_format(bpp, depth, maxes, shifts, be=0):
    """Sets the format, reads an update in it, and goes back to 32 bpp."""
    def fn(v):
        v.set_pixel_format(bpp, depth, be, 1, maxes, shifts)
        seen, px = v.roundtrip(150, 150, 2, 2)
        check(len(px) == bpp // 8, "pixel of %d bytes at %d bpp" % (len(px), bpp))
        v.set_pixel_format()
    return fn


def c_many_pipelined(ctx):
    """2000 messages in one write, all handled in order."""
    v = ctx.login()
    batch = b"".join(msg_pointer(0, i % 800, i % 600) for i in range(1000))
    batch += b"".join(struct.pack(">BBHHHH", 3, 1, 0, 0, 1, 1) for _ in range(1000))
    v.send(batch)
    v.check_pattern()


def c_truncated(data):
    """Half a message, then EOF: the server closes cleanly (viewer gone)."""
    def fn(ctx):
        v = ctx.login()
        v.check_pattern()
        v.send(data)
        v.half_close()
        v.expect_closed(allow_data=True)
    return fn


def pf_msg(bpp=32, depth=24, tc=1, maxes=(255, 255, 255), shifts=(16, 8, 0)):
    return pixel_format_msg(bpp, depth, 0, tc, maxes, shifts)


MALFORMED = r"{peer}: closing: malformed message from viewer"
REFUSED = r"{peer}: closing: viewer message type %d refused"


def message_cases(t):
    big_cut = BIG_CUT
    cases = [
        # ClientCutText length: 0, maximum, maximum + 1, 0xFFFFFFFF, extended form
        Case("ClientCutText of 0 bytes is accepted", c_accepted(msg_cut(0, b"")), R_CLIENT),
        Case("ClientCutText of 262144 bytes (maximum) is accepted",
             c_accepted(msg_cut(MAX_CUT, big_cut)), R_CLIENT),
        Case("ClientCutText of 262144 bytes in 1000-byte writes is accepted",
             c_accepted(msg_cut(MAX_CUT, big_cut), split=1000), R_CLIENT),
        Case("ClientCutText of 262145 bytes closes", c_closed(msg_cut(MAX_CUT + 1, b"x" * 4096)),
             R_PROTO, logs=[MALFORMED]),
        Case("ClientCutText of 0xFFFFFFFF bytes closes", c_closed(msg_cut(0xffffffff, b"x" * 100)),
             R_PROTO, logs=[MALFORMED]),
        Case("ClientCutText 0x80000000 (extended, not negotiated) closes",
             c_closed(msg_cut(0x80000000)), R_PROTO, logs=[MALFORMED]),
        Case("ClientCutText -4 (extended caps, not negotiated) closes",
             c_closed(msg_cut(0xfffffffc, b"\0\0\0\1")), R_PROTO, logs=[MALFORMED]),
        # SetEncodings count: 0, maximum, maximum + 1, 0xFFFF (a U16)
        Case("SetEncodings with 0 entries is accepted", c_accepted(msg_encodings(0)), R_CLIENT),
        Case("SetEncodings with 1024 entries (maximum) is accepted",
             c_accepted(msg_encodings(MAX_ENCODINGS)), R_CLIENT),
        Case("SetEncodings with 1025 entries closes", c_closed(msg_encodings(MAX_ENCODINGS + 1)),
             R_PROTO, logs=[MALFORMED]),
        Case("SetEncodings announcing 0xFFFF entries closes", c_closed(msg_encodings(10, 0xffff)),
             R_PROTO, logs=[MALFORMED]),
        # ClientFence length: 0, maximum, maximum + 1, 0xFF (a U8)
        Case("ClientFence with 0 bytes is accepted", c_accepted(msg_fence(0)), R_CLIENT),
        Case("ClientFence with 64 bytes (maximum) is accepted",
             c_accepted(msg_fence(MAX_FENCE, 0xffffffff)), R_CLIENT),
        Case("ClientFence with 65 bytes closes", c_closed(msg_fence(MAX_FENCE + 1)), R_PROTO,
             logs=[MALFORMED]),
        Case("ClientFence announcing 0xFF bytes closes", c_closed(msg_fence(0, count=0xff)), R_PROTO,
             logs=[MALFORMED]),
        # SetDesktopSize screens: 0, maximum, maximum + 1, 0xFF (a U8)
        Case("SetDesktopSize with 0 screens is answered 'prohibited'",
             c_accepted(msg_desktop_size(0), then_desktop_refused), R_CLIENT),
        Case("SetDesktopSize with 16 screens (maximum) is answered 'prohibited'",
             c_accepted(msg_desktop_size(MAX_SCREENS, w=1024, h=768), then_desktop_refused), R_CLIENT),
        Case("SetDesktopSize with 17 screens closes", c_closed(msg_desktop_size(MAX_SCREENS + 1)),
             R_PROTO, logs=[MALFORMED]),
        Case("SetDesktopSize announcing 0xFF screens closes",
             c_closed(msg_desktop_size(1, count=0xff)), R_PROTO, logs=[MALFORMED]),
        # QEMU client message
        Case("QEMU extended key event (subtype 0) is accepted",
             c_accepted(msg_qemu_key(0, 1) + msg_qemu_key(0, 0)), R_CLIENT),
        # Fixed-size messages with extreme values
        Case("SetPixelFormat 16 bpp (565) is accepted",
             c_accepted(b"", then_pixel_format(16, 16, (31, 63, 31), (11, 5, 0))), R_CLIENT),
        Case("SetPixelFormat 8 bpp (332) is accepted",
             c_accepted(b"", then_pixel_format(8, 8, (7, 7, 3), (0, 3, 6))), R_CLIENT),
        Case("SetPixelFormat 32 bpp big-endian is accepted",
             c_accepted(b"", then_pixel_format(32, 24, (255, 255, 255), (0, 8, 16), be=1)), R_CLIENT),
        Case("FramebufferUpdateRequest outside the screen is accepted",
             c_accepted(struct.pack(">BBHHHH", 3, 0, 65535, 65535, 65535, 65535) +
                        struct.pack(">BBHHHH", 3, 0, 799, 599, 65535, 65535) +
                        struct.pack(">BBHHHH", 3, 1, 0, 0, 0, 0)), R_CLIENT),
        Case("KeyEvent with keysyms 0 and 0xFFFFFFFF is accepted",
             c_accepted(msg_key(1, 0) + msg_key(0, 0) + msg_key(1, 0xffffffff) + msg_key(0, 0xffffffff)
                        + msg_key(7, 0x61) + msg_key(0, 0x61)), R_CLIENT),
        Case("PointerEvent at 65535,65535 with every button is accepted",
             c_accepted(msg_pointer(0xff, 65535, 65535) + msg_pointer(0, 65535, 65535)), R_CLIENT),
        Case("SetPixelFormat sent one byte per record is accepted",
             c_accepted(pf_msg(), split=1), R_CLIENT),
        Case("2000 pipelined messages are handled", c_many_pipelined, R_CLIENT),
        Case("half a ClientCutText then EOF", c_truncated(msg_cut(100, b"x" * 50)), R_CLIENT),
        Case("half a SetEncodings then EOF", c_truncated(msg_encodings(100)[:200]), R_CLIENT),
    ]
    for mt in (1, 7, 77, 127, 128, 200, 249, 254, 250, 252, 253, 149, 151, 247):
        cases.append(Case("unknown message type %d closes" % mt, c_closed(bytes([mt]) + b"\0" * 19),
                          R_PROTO, logs=[MALFORMED]))
    cases.append(Case("EnableContinuousUpdates (not offered) closes",
                      c_closed(struct.pack(">BBHHHH", 150, 1, 0, 0, 800, 600)), R_PROTO,
                      logs=[REFUSED % 150]))
    for sub in (1, 2, 128, 255):
        cases.append(Case("QEMU subtype %d closes" % sub, c_closed(msg_qemu_key(sub)), R_PROTO,
                          logs=[MALFORMED]))
    for what, pf in (("bpp 0", pf_msg(bpp=0)), ("bpp 64", pf_msg(bpp=64)),
                     ("depth 0", pf_msg(depth=0)), ("depth 33", pf_msg(depth=33)),
                     ("colour map", pf_msg(tc=0)), ("red-max 0", pf_msg(maxes=(0, 255, 255))),
                     ("red-max 254", pf_msg(maxes=(254, 255, 255))),
                     ("shift past bpp", pf_msg(shifts=(30, 8, 0))),
                     ("overlapping channels", pf_msg(shifts=(8, 8, 0))),
                     ("8 bpp with 8-bit channels", pf_msg(bpp=8, depth=8))):
        cases.append(Case("SetPixelFormat %s closes" % what, c_closed(pf), R_PROTO,
                          logs=[MALFORMED]))
    return cases


# ---------------------------------------------------------------------------
# Suite "slow": stalled and slow-drip viewers (run in parallel)

def drip(v, data, pace=0.2, deadline=60.0):
    """Sends data one byte every pace seconds until the server closes;
    returns the seconds from the connection's start to the close."""
    v.sock.settimeout(1.0)
    end_at = time.monotonic() + deadline
    for b in data:
        check(time.monotonic() < end_at, "the drip outlived %.0fs" % deadline)
        try:
            v.sock.sendall(bytes([b]))
        except OSError:
            return
        # Drain what the server answered; an EOF means it closed us.
        v.sock.setblocking(False)
        try:
            while True:
                d = v.sock.recv(4096)
                if not d:
                    return
        except BlockingIOError:
            pass
        except OSError:
            return
        finally:
            v.sock.setblocking(True)
        time.sleep(pace)
    raise CaseFailed("the server read every dripped byte without closing")


def c_grace(stage, grace):
    """A viewer that stalls or drips: the monitor ends it when the login
    grace time is over, and not much earlier."""
    def fn(ctx):
        t0 = time.monotonic()
        v = ctx.viewer()
        if stage == "silent":
            pass
        elif stage == "after-version":
            v.read_version()
        elif stage == "after-types":
            v.read_version()
            v.security_types()
        elif stage == "after-tls":
            v.pre_tls()
            v.start_tls()
        elif stage == "in-credentials":
            v.pre_tls()
            v.start_tls()
            v.send(struct.pack(">II", 200, 200) + b"u" * 10)
        elif stage == "drip-pre-tls":
            # A valid stream, so only the grace time can end it.
            drip(v, PRE_TLS + ManualTLS(v).client_hello())
        elif stage == "drip-hello":
            v.pre_tls()
            drip(v, ManualTLS(v).client_hello())
        elif stage == "drip-credentials":
            v.pre_tls()
            tls = ManualTLS(v)
            v.send(tls.client_hello())
            v.send(tls.finish())
            v.sock.settimeout(1.0)
            creds = struct.pack(">II", len(v.t.user), len(v.t.password)) + v.t.user + v.t.password
            recs = b"".join(tls.record(creds[i:i + 1]) for i in range(len(creds) - 1))
            # One record per 0.2 s: split at record boundaries.
            n = len(recs) // (len(creds) - 1)
            for i in range(0, len(recs), n):
                try:
                    v.sock.sendall(recs[i:i + n])
                except OSError:
                    break
                time.sleep(0.2)
                if time.monotonic() - t0 > grace + 10:
                    raise CaseFailed("credential drip not ended")
        if not v.closed:
            v.expect_closed(timeout=grace + 8, allow_data=True)
        dt = time.monotonic() - t0
        check(dt >= grace - 1.2, "closed after %.1fs, before the %ds grace time" % (dt, grace))
        check(dt <= grace + 5, "closed after %.1fs, grace time is %ds" % (dt, grace))
    return fn


def c_drip_after_login(ctx):
    """A logged-in viewer sending one byte every 0.2 s (7.6 s in all, more
    than the grace time) is served: the grace time ends at login."""
    v = ctx.login()
    v.check_pattern()
    req = struct.pack(">BBHHHH", 3, 0, 150, 150, 1, 1) + msg_cut(20, b"d" * 20)
    for b in req:
        v.send(bytes([b]))
        time.sleep(0.2)
    rects = v.read_update()
    check(any(r[4] == 0 for r in rects), "no pixels after a dripped request")
    v.check_pattern()


GRACE_LOG = r"connection from {peer}: login grace time exceeded"


def slow_cases(t, grace):
    cases = [Case("grace: %s" % st, c_grace(st, grace), r"login grace time exceeded",
                  logs=[GRACE_LOG], grace=True)
             for st in ("silent", "after-version", "after-types", "after-tls", "in-credentials",
                        "drip-pre-tls", "drip-hello", "drip-credentials")]
    cases.append(Case("grace: a conversation question never answered", c_conv_stall(grace),
                      r"login grace time exceeded", logs=[GRACE_LOG], grace=True))
    cases.append(Case("logged-in viewer dripping messages for longer than the grace time",
                      c_drip_after_login, R_CLIENT))
    return cases


# ---------------------------------------------------------------------------
# Suite "warmup": ordinary and hostile connections before measuring memory

def warmup_cases(t):
    cases = []
    for i in range(10):
        cases.append(Case("login %d" % i, c_login, R_CLIENT))
        cases.append(Case("bad version %d" % i, c_version_garbage(b"RFB 009.009\n"), R_PROTO))
    # moat-session keeps the last clipboard text (in two encodings). Its
    # heap reaches its high-water mark (about 0.7 MiB over the first maximal
    # text: malloc's mmap threshold moves up after the first large free)
    # only on the second round of the messages suite's sequence, empty,
    # maximal, maximal again (measured; later rounds stay flat): go
    # through that sequence twice.
    for i in range(2):
        cases.append(Case("empty ClientCutText %d" % i, c_accepted(msg_cut(0, b"")), R_CLIENT))
        cases.append(Case("maximum ClientCutText %d" % i,
                          c_accepted(msg_cut(MAX_CUT, BIG_CUT)), R_CLIENT))
        cases.append(Case("maximum ClientCutText in pieces %d" % i,
                          c_accepted(msg_cut(MAX_CUT, BIG_CUT), split=1000), R_CLIENT))
    return cases


# ---------------------------------------------------------------------------
# Suite "selfcheck": wrong expectations that must be reported as failures

def selfcheck_cases(t):
    def expect_close_of_healthy(ctx):
        v = ctx.login()
        v.check_pattern()
        v.expect_closed(timeout=1.0)

    def wrong_pattern(ctx):
        v = ctx.login()
        got = v.colour_at(150, 150)
        check(got == PATTERN_BG, "block pixel is %s, (wrongly) expected %s" % (got, PATTERN_BG))

    def sandbox_kill(ctx):
        # Test builds only: this user name makes moat-net call socket(2),
        # which its seccomp filter answers with SIGSYS (SECURITY.md).
        v = ctx.viewer()
        v.pre_tls()
        v.start_tls()
        v.send_plain(user=b"moat-selftest-sigsys", password=b"x")
        v.expect_closed(allow_data=True)

    cases = []
    if t.events and any("TEST BUILD" in l for l in t.events.lines()):
        cases.append(Case("a moat-net killed by SIGSYS is (wrongly) expected to end cleanly",
                          sandbox_kill, R_ABORT))
    return cases + [
            Case("a healthy session is (wrongly) expected to close", expect_close_of_healthy, R_CLIENT),
            Case("a clean logout is (wrongly) expected to be a protocol violation", c_login, R_PROTO),
            Case("the block is (wrongly) expected in the background colour", wrong_pattern, R_CLIENT),
            Case("a refused version is (wrongly) expected to log a login", c_version_garbage(b"\0" * 12),
                 R_PROTO, logs=[r"authentication succeeded .* from {peer}$"])]


# ---------------------------------------------------------------------------
# Suite "rogue": a moat-net that misbehaves towards its monitor (test builds)
#
# In builds with -DMOAT_SELFTEST=ON a viewer logging in over X509Plain as
# "moat-selftest-HOOK" makes moat-net act as a compromised one would
# (net/net_handshake.c, SECURITY.md "Test-build hooks"); the password field
# carries "USER:PASSWORD", the real credentials the rogue relays wherever it
# asks the monitor anything, so a monitor that let the misbehaviour through
# would log that user in. Each case checks what the viewer saw, moatd's log
# for that connection, and moat-session's log (--session-log).

ROGUE_HOOK = r"moat-net\[\d+\] {peer}: self-test: acting as a compromised moat-net \(%s\)$"
ROGUE_KILLED = r"moat-net\[\d+\] for {peer} was killed by signal 9 \(Killed\)$"
ROGUE_SUCCESS = r": info: authentication succeeded for user .* from {peer}$"
ROGUE_GRANTED = r": info: user .* from {peer} granted permissions "
ROGUE_CHANNEL = r"channel \d+ opened for user .* from {peer};"
ROGUE_FIRST_FAILED = r': info: authentication failed for user "%s" from {peer}: '


def peer_rx(pattern, v):
    return re.compile(pattern.replace("{peer}", re.escape(v.peer)))


def log_index(lines, rx):
    """Index of the first line matching rx, or None."""
    return next((i for i, l in enumerate(lines) if rx.search(l)), None)


def session_lines(t):
    path = getattr(t, "session_log", "")
    check(path, "no --session-log: cannot check moat-session's channels")
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace").splitlines()


def c_rogue_control(ctx):
    """A well-behaved login: the lines every rogue case must lack do appear
    here (so their absence means something), and the desktop is served."""
    ev = ctx.t.events
    since = ev.mark()
    v = ctx.login()
    v.check_pattern()
    for p in (ROGUE_SUCCESS, ROGUE_GRANTED):
        ev.wait(peer_rx(p, v).pattern, since)
    rx = peer_rx(ROGUE_CHANNEL, v)
    deadline = time.monotonic() + LOG_BOUND
    while log_index(session_lines(ctx.t), rx) is None:
        check(time.monotonic() < deadline, "moat-session logged no /%s/" % rx.pattern)
        time.sleep(0.05)


def c_rogue(hook, refusal, before=None, grace=None):
    """hook: what follows "moat-selftest-"; refusal: the monitor's line
    ({peer} replaced) that must come before its kill of that moat-net;
    before: a line that must come before the refusal; grace: the login grace
    time, for the rogue that claims success to the viewer without asking
    and is ended by it."""
    def fn(ctx):
        ev = ctx.t.events
        since = ev.mark()
        t0 = time.monotonic()
        v = ctx.viewer()
        v.pre_tls()
        v.start_tls()
        v.send_plain(user=b"moat-selftest-" + hook.encode(),
                     password=v.t.user + b":" + v.t.password)
        if grace is None:
            # Neither a SecurityResult nor anything after it.
            v.expect_closed()
        else:
            code = v.u32()
            check(code == 0, "the rogue's own SecurityResult was %d, not 0" % code)
            v.send(b"\x01")	# ClientInit
            v.expect_closed(timeout=grace + CLOSE_BOUND)	# no ServerInit
            dt = time.monotonic() - t0
            check(dt >= grace - 1.2, "closed after %.1fs, before the %ds grace time" % (dt, grace))
        line = ev.disconnect(v.peer, since)
        check('user "" after' in line, "the monitor's disconnect line names a user: %s" % line)
        lines = ev.lines(since)
        hooked = log_index(lines, peer_rx(ROGUE_HOOK % re.escape(hook), v))
        check(hooked is not None, "moat-net did not log that the hook %s ran "
              "(a build without MOAT_SELFTEST?)" % hook)
        ref = log_index(lines, peer_rx(refusal, v))
        check(ref is not None, "no refusal /%s/" % peer_rx(refusal, v).pattern)
        kill = log_index(lines, peer_rx(ROGUE_KILLED, v))
        check(kill is not None, "no line /%s/" % peer_rx(ROGUE_KILLED, v).pattern)
        check(hooked < ref < kill, "hook, refusal and kill logged out of order "
              "(lines %d, %d, %d)" % (hooked, ref, kill))
        check(len(ev.crashes(v.peer, since)) == 1,
              "moat-net ended more than once: %s" % ev.crashes(v.peer, since))
        if before is not None:
            b = log_index(lines, peer_rx(before, v))
            check(b is not None and b < ref, "no /%s/ before the refusal"
                  % peer_rx(before, v).pattern)
        for p in (ROGUE_SUCCESS, ROGUE_GRANTED):
            found = log_index(lines, peer_rx(p, v))
            check(found is None, "the monitor logged: %s" % (lines[found] if found is not None else ""))
        check(log_index(session_lines(ctx.t), peer_rx(ROGUE_CHANNEL, v)) is None,
              "moat-session opened a channel for %s" % v.peer)
    return fn


def rogue_cases(t, grace):
    user = t.user.decode()
    unpermitted = r"moat-net\[\d+\] for {peer} sent unpermitted request %s in phase preauth; ending the connection$"
    first = ROGUE_FIRST_FAILED % re.escape(user)
    return [
        Case("control: a well-behaved login gets the desktop and a channel", c_rogue_control, R_CLIENT),
        Case("an answer with no question open", c_rogue("answer-early",
             unpermitted % r"NET_AUTH_ANSWER \(25\)"), r"connection lost$", grace=True),
        Case("a password while a question of the conversation is open", c_rogue("double-auth",
             r"moat-net\[\d+\] for {peer} sent NET_AUTH_PASSWORD \(22\) while a question was open; "
             r"ending the connection$"), r"connection lost$", grace=True),
        Case("the right password again after a refused one", c_rogue("replay-password",
             unpermitted % r"NET_AUTH_PASSWORD \(22\)", before=first), r"connection lost$", grace=True),
        Case("the conversation after a refused password", c_rogue("retry-converse",
             unpermitted % r"NET_AUTH_CONVERSE \(26\)", before=first), r"connection lost$", grace=True),
        Case("a message longer than the IPC limit while a question is open", c_rogue("bad-answer",
             r"moat-net\[\d+\] for {peer}: malformed length exceeds limit; ending the connection$"),
             r"connection lost$", grace=True),
        Case("the monitor's own verdict, sent to the monitor", c_rogue("fake-result",
             unpermitted % r"MON_AUTH_RESULT \(2\)"), r"connection lost$", grace=True),
        Case("the monitor's attach request with a descriptor, sent to the monitor", c_rogue("fake-session",
             r"moat-net\[\d+\] for {peer}: bad IPC message \(file descriptor error\); "
             r"ending the connection$"), r"connection lost$", grace=True),
        Case("SecurityResult OK without asking the monitor", c_rogue("claim-success",
             r": info: connection from {peer}: login grace time exceeded$", grace=grace),
             r"login grace time exceeded$", grace=True),
        Case("control: a well-behaved login after the rogues", c_rogue_control, R_CLIENT),
    ]


SUITES = {
    "handshake": handshake_cases,
    "abort": abort_cases,
    "messages": message_cases,
    "warmup": warmup_cases,
    "selfcheck": selfcheck_cases,
}


# ---------------------------------------------------------------------------
# Helpers for the shell side

def server_socket(server_port, client_port):
    """Returns (inode, tx_queue) of the server's socket of that connection."""
    want_local = ":%04X" % server_port
    want_rem = ":%04X" % client_port
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fl = line.split()
            if fl[1].endswith(want_local) and fl[2].endswith(want_rem):
                tx = int(fl[4].split(":")[0], 16)
                return int(fl[9]), tx
    return None, None


def net_pid(server_port, client_port):
    """The pid of the moat-net holding the server side of that connection."""
    inode, _ = server_socket(server_port, client_port)
    if not inode:
        return None
    target = "socket:[%d]" % inode
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                if f.read().strip() != "moat-net":
                    continue
            for fd in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, fd)) == target:
                    return int(pid)
        except OSError:
            continue
    return None


# System calls that send on a socket, or poll as moat-net's writes do while
# the socket is full (net/net_io.c), by machine (for /proc/PID/syscall).
SEND_SYSCALLS = {"x86_64": {1, 20, 44, 46, 7, 271},
                 "aarch64": {64, 66, 206, 211, 73}}


def blocked(server_port, client_port):
    """True when the moat-net of that connection sleeps sending to its
    viewer: over 256 KiB wait in the server socket's send queue, and the
    process sleeps in the kernel's TCP send path or in poll(2) (wchan) or,
    where wchan says nothing, inside a send or poll system call. Prints
    what it saw."""
    pid = net_pid(server_port, client_port)
    _, tx = server_socket(server_port, client_port)
    if pid is None or tx is None:
        print("no moat-net or socket for port %d" % client_port)
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read().strip()
        with open("/proc/%d/syscall" % pid) as f:
            nr = f.read().split()[0]
    except (OSError, IndexError):
        return False
    print("moat-net %d: state %s, send queue %d bytes, wchan %s, syscall %s"
          % (pid, state, tx, wchan, nr))
    if state != "S" or tx < 256 * 1024:
        return False
    if wchan in ("sk_stream_wait_memory", "wait_woken") or "poll" in wchan:
        return True
    return wchan in ("", "0") and nr.isdigit() and \
        int(nr) in SEND_SYSCALLS.get(os.uname().machine, ())


def keep(t):
    v = Viewer(t).login()
    v.check_pattern()
    print("holding port=%d" % v.port, flush=True)
    n = 0
    while True:
        v.check_pattern()
        n += 1
        print("roundtrip %d" % n, flush=True)
        time.sleep(0.3)	# pacing of the keeper's checks, not a wait


def flood(t):
    v = Viewer(t, rcvbuf=4096).login(encodings=(0,))
    print("flooding port=%d" % v.port, flush=True)
    full = struct.pack(">BBHHHH", 3, 0, 0, 0, v.width, v.height)
    v.send(full * 200)
    while True:
        v.send(full)	# blocks once the server stops reading; never reads
        time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", default="")
    ap.add_argument("--events", default="")
    ap.add_argument("--user", default="")
    ap.add_argument("--password", default="")
    ap.add_argument("--grace", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--session-log", default="")
    ap.add_argument("command")
    ap.add_argument("arg", nargs="?")
    a = ap.parse_args()
    t = Target(a.host, a.port, a.ca, a.user, a.password, a.events)
    if a.command in ("suite", "list"):
        if a.arg == "slow":
            cases = slow_cases(t, a.grace)
        elif a.arg == "rogue":
            t.session_log = a.session_log
            cases = rogue_cases(t, a.grace)
        elif a.arg in SUITES:
            cases = SUITES[a.arg](t)
        else:
            print("unknown suite %r" % a.arg, file=sys.stderr)
            return 2
        if a.only:
            cases = [c for c in cases if re.search(a.only, c.name)]
        if a.command == "list":
            for c in cases:
                print(c.name)
            return 0
        return 0 if run_suite(t, a.arg, cases, parallel=(a.arg == "slow")) else 1
    if a.command == "keep":
        try:
            keep(t)
        except (CaseFailed, OSError, ssl.SSLError) as e:
            print("keeper failed: %s" % e, flush=True)
            return 1
    if a.command == "flood":
        flood(t)
        return 0
    if a.command == "netpid":
        pid = net_pid(a.port, int(a.arg))
        if pid is None:
            return 1
        print(pid)
        return 0
    if a.command == "blocked":
        return 0 if blocked(a.port, int(a.arg)) else 1
    print("unknown command %r" % a.command, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
