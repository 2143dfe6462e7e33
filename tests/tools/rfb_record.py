#!/usr/bin/env python3
"""rfb_record.py - records what a real VNC viewer sends to moat, for fuzz seeds.

Test code, run by hand (never in CI) on loopback. It trusts its command line
and the moat server it is pointed at; it checks the shape of what the viewer
sends only as far as it needs to find message boundaries.

  rfb_record.py mkcert DIR
      Makes a throw-away test CA (DIR/ca.crt, DIR/ca.key) and a leaf
      certificate for localhost, 127.0.0.1 and ::1 signed by it
      (DIR/leaf.crt, DIR/leaf.key) with openssl. Give DIR/ca.crt to the
      viewer as its CA: the viewer then trusts the proxy, not moat.

  rfb_record.py proxy --listen HOST:PORT --connect HOST:PORT --server-ca CRT
                      --cert DIR/leaf.crt --key DIR/leaf.key
                      --handshake FILE --messages FILE [--server-name NAME]
      Accepts one viewer, connects it to moat and relays RFB 3.8 with
      VeNCrypt 0.2 / X509Plain: the plaintext handshake as it is, then TLS
      terminated on both sides (toward the viewer with --cert/--key, toward
      moat verifying moat's identity certificate --server-ca and the name
      --server-name, default the --connect host), then the plaintext inside
      TLS. It writes
        --handshake: the viewer's bytes before TLS (ProtocolVersion, security
            type, VeNCrypt version, subtype) followed by its Plain credentials
            message (U32 ulen, U32 plen, user, password) with the password
            bytes replaced by a fixed dummy of the same length;
        --messages: every byte the viewer sends after ClientInit (the normal
            phase: SetPixelFormat, SetEncodings, FramebufferUpdateRequest,
            KeyEvent, PointerEvent, ClientCutText, ...), flushed as it
            arrives.
      Exits 0 after the viewer or moat closes a session that reached the
      normal phase, 1 if the handshake did not get that far.

  rfb_record.py seeds --handshake FILE --messages FILE --name NAME --corpus DIR
                      [--max-bytes N]
      Turns one recording into seed files in moat's fuzz corpora:
        DIR/rfb_handshake/rec-NAME-version  (0x01 + the 12-byte ProtocolVersion)
        DIR/rfb_handshake/rec-NAME-plain    (0x00 + the credentials message)
        DIR/rfb_reader/rec-NAME-session     (the message stream, cut at the
                                             last message boundary within N
                                             bytes, default 65536)
      (fuzz/fuzz_rfb_handshake.c: an odd first byte selects the version
      parser, an even one the Plain parser.) Prints message statistics.

  rfb_record.py stats FILE
      Prints how many messages of each type a message stream holds.
"""
import argparse
import asyncio
import collections
import os
import ssl
import struct
import subprocess
import sys
import tempfile

RFB_VERSION = b"RFB 003.008\n"
SEC_VENCRYPT = 19
VENCRYPT_X509PLAIN = 262
DUMMY_PASSWORD = b"dummy-password-"	# repeated and cut to the real length
MAX_CRED = 65536			# the proxy's own bound on ulen and plen
MAX_NAME = 1 << 20			# ... and on the ServerInit desktop name

MSG_NAMES = {
    0: "SetPixelFormat",
    2: "SetEncodings",
    3: "FramebufferUpdateRequest",
    4: "KeyEvent",
    5: "PointerEvent",
    6: "ClientCutText",
    150: "EnableContinuousUpdates",
    248: "ClientFence",
    251: "SetDesktopSize",
    255: "QEMUClientMessage",
}


def log(msg):
    print("rfb_record: %s" % msg, file=sys.stderr, flush=True)


def dummy_password(n):
    """A fixed stand-in of exactly n bytes for a recorded password."""
    return (DUMMY_PASSWORD * (n // len(DUMMY_PASSWORD) + 1))[:n]


# ---- mkcert ----------------------------------------------------------------

def openssl(*args):
    subprocess.run(("openssl",) + args, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def cmd_mkcert(a):
    d = a.dir
    os.makedirs(d, mode=0o700, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", os.path.join(d, "ca.key"),
            "-out", os.path.join(d, "ca.crt"), "-days", "2",
            "-subj", "/CN=rfb_record test CA",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    openssl("req", "-new", *ec, "-keyout", os.path.join(d, "leaf.key"),
            "-out", os.path.join(d, "leaf.csr"), "-subj", "/CN=localhost")
    with tempfile.NamedTemporaryFile("w", dir=d, suffix=".cnf") as ext:
        ext.write("basicConstraints=critical,CA:FALSE\n"
                  "keyUsage=critical,digitalSignature\n"
                  "extendedKeyUsage=serverAuth\n"
                  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
        ext.flush()
        openssl("x509", "-req", "-in", os.path.join(d, "leaf.csr"),
                "-CA", os.path.join(d, "ca.crt"),
                "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial",
                "-days", "1", "-extfile", ext.name,
                "-out", os.path.join(d, "leaf.crt"))
    print(os.path.join(d, "ca.crt"))
    return 0


# ---- proxy -----------------------------------------------------------------

def host_port(s):
    host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got %r" % s)
    return host.strip("[]"), int(port)


class Session:
    def __init__(self, a, vr, vw):
        self.a = a
        self.vr, self.vw = vr, vw	# viewer side
        self.sr = self.sw = None	# moat side
        self.handshake = bytearray()
        self.normal = False		# reached the normal phase

    async def from_server(self, n):
        """Relays exactly n bytes moat -> viewer and returns them."""
        d = await self.sr.readexactly(n)
        self.vw.write(d)
        await self.vw.drain()
        return d

    async def from_viewer(self, n, record=True):
        """Relays exactly n bytes viewer -> moat and returns them."""
        d = await self.vr.readexactly(n)
        if record:
            self.handshake += d
        self.sw.write(d)
        await self.sw.drain()
        return d

    async def refusal(self, what):
        """Relays a reason string (U32 length + text) and gives up."""
        ln = struct.unpack(">I", await self.from_server(4))[0]
        reason = await self.from_server(min(ln, 4096))
        raise RuntimeError("%s: %r" % (what, reason))

    async def plaintext(self):
        """Version exchange up to the VeNCrypt X509Plain ack, relayed as is."""
        await self.from_server(12)
        ver = await self.from_viewer(12)
        if ver != RFB_VERSION:
            raise RuntimeError("viewer speaks %r; only RFB 3.8 is recorded" % ver)
        n = (await self.from_server(1))[0]
        if n == 0:
            await self.refusal("server refused the connection")
        types = await self.from_server(n)
        choice = (await self.from_viewer(1))[0]
        if choice != SEC_VENCRYPT or SEC_VENCRYPT not in types:
            raise RuntimeError("viewer chose security type %d of %r" %
                               (choice, list(types)))
        await self.from_server(2)
        if await self.from_viewer(2) != b"\x00\x02":
            raise RuntimeError("viewer does not speak VeNCrypt 0.2")
        if (await self.from_server(1)) != b"\x00":
            raise RuntimeError("server refused the VeNCrypt version")
        count = (await self.from_server(1))[0]
        await self.from_server(4 * count)
        sub = struct.unpack(">I", await self.from_viewer(4))[0]
        if sub != VENCRYPT_X509PLAIN:
            raise RuntimeError("viewer chose subtype %d; only X509Plain (262) "
                               "is recorded" % sub)
        if (await self.from_server(1)) != b"\x01":
            raise RuntimeError("server did not acknowledge X509Plain")
        # TLS ClientHello must not be buffered yet: it belongs to TLS.
        if len(self.vr._buffer) or len(self.sr._buffer):
            raise RuntimeError("unexpected bytes before TLS")

    async def start_tls(self):
        a = self.a
        vctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        vctx.minimum_version = ssl.TLSVersion.TLSv1_3
        vctx.load_cert_chain(a.cert, a.key)
        sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        sctx.minimum_version = ssl.TLSVersion.TLSv1_3
        sctx.load_verify_locations(a.server_ca)
        # The viewer starts its handshake as soon as it has the ack; moat
        # waits for the proxy's. Both run at once.
        await asyncio.gather(
            self.vw.start_tls(vctx),
            self.sw.start_tls(sctx, server_hostname=a.server_name or a.connect[0]))
        log("TLS up: viewer %s, moat %s %s" % (
            self.vw.get_extra_info("ssl_object").version(),
            self.sw.get_extra_info("ssl_object").version(),
            self.sw.get_extra_info("ssl_object").cipher()[0]))

    async def credentials(self):
        """Plain credentials: forwarded as sent, recorded with a dummy password."""
        hdr = await self.vr.readexactly(8)
        ulen, plen = struct.unpack(">II", hdr)
        if ulen > MAX_CRED or plen > MAX_CRED:
            raise RuntimeError("credential lengths %d/%d too long" % (ulen, plen))
        user = await self.vr.readexactly(ulen)
        pw = await self.vr.readexactly(plen)
        self.sw.write(hdr + user + pw)
        await self.sw.drain()
        self.handshake += hdr + user + dummy_password(plen)
        with open(self.a.handshake, "wb") as f:
            f.write(self.handshake)
        log("credentials: user %r, password of %d bytes (recorded as dummy)" %
            (user.decode("utf-8", "replace"), plen))

    async def init(self):
        res = struct.unpack(">I", await self.from_server(4))[0]
        if res != 0:
            await self.refusal("SecurityResult %d" % res)
        await self.from_viewer(1, record=False)	# ClientInit
        si = await self.from_server(24)
        ln = struct.unpack(">I", si[20:24])[0]
        if ln > MAX_NAME:
            raise RuntimeError("desktop name of %d bytes" % ln)
        await self.from_server(ln)
        w, h = struct.unpack(">HH", si[:4])
        log("normal phase: desktop %dx%d" % (w, h))
        self.normal = True

    async def pump(self, r, w, out=None):
        try:
            while True:
                d = await r.read(65536)
                if not d:
                    break
                if out is not None:
                    out.write(d)
                    out.flush()
                w.write(d)
                await w.drain()
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            try:
                w.close()
            except (ConnectionError, ssl.SSLError):
                pass

    async def run(self):
        a = self.a
        self.sr, self.sw = await asyncio.open_connection(*a.connect)
        try:
            await self.plaintext()
            await self.start_tls()
            await self.credentials()
            await self.init()
            with open(a.messages, "wb") as out:
                up = asyncio.ensure_future(self.pump(self.vr, self.sw, out))
                down = asyncio.ensure_future(self.pump(self.sr, self.vw))
                await asyncio.wait([up, down],
                                   return_when=asyncio.FIRST_COMPLETED)
                # One side closed: the other follows.
                for t in (up, down):
                    if not t.done():
                        t.cancel()
                await asyncio.gather(up, down, return_exceptions=True)
            log("session ended; %d bytes of messages recorded" %
                os.path.getsize(a.messages))
        finally:
            for w in (self.vw, self.sw):
                try:
                    w.close()
                except (ConnectionError, ssl.SSLError):
                    pass


async def proxy_main(a):
    done = asyncio.get_running_loop().create_future()

    async def on_viewer(vr, vw):
        if done.done():
            vw.close()
            return
        s = Session(a, vr, vw)
        try:
            await s.run()
        except Exception as e:	# reported, and the exit status says so
            log("session failed: %s: %s" % (type(e).__name__, e))
        if not done.done():
            done.set_result(s.normal)

    server = await asyncio.start_server(on_viewer, *a.listen)
    log("listening on %s:%d, moat at %s:%d" % (a.listen + a.connect))
    try:
        ok = await done
    finally:
        server.close()
    return 0 if ok else 1


def cmd_proxy(a):
    return asyncio.run(proxy_main(a))


# ---- message streams -------------------------------------------------------

def msg_len(d, i):
    """Length of the client message at d[i:], None if incomplete; raises on
    a type this parser does not know."""
    def need(n):
        return n if len(d) - i >= n else None
    t = d[i]
    fixed = {0: 20, 3: 10, 4: 8, 5: 6, 150: 10}
    if t in fixed:
        return need(fixed[t])
    if t == 2:
        if need(4) is None:
            return None
        return need(4 + 4 * struct.unpack(">H", d[i + 2:i + 4])[0])
    if t == 6:
        if need(8) is None:
            return None
        ln = struct.unpack(">I", d[i + 4:i + 8])[0]
        if ln & 0x80000000:
            raise ValueError("extended ClientCutText at offset %d" % i)
        return need(8 + ln)
    if t == 248:
        if need(9) is None:
            return None
        return need(9 + d[i + 8])
    if t == 251:
        if need(8) is None:
            return None
        return need(8 + 16 * d[i + 6])
    if t == 255:
        if need(2) is None:
            return None
        if d[i + 1] != 0:
            raise ValueError("QEMU subtype %d at offset %d" % (d[i + 1], i))
        return need(12)
    raise ValueError("unknown message type %d at offset %d" % (t, i))


def split_messages(d):
    """Returns [(offset, length)] of the complete messages and the offset
    where the complete messages end."""
    out, i = [], 0
    while i < len(d):
        n = msg_len(d, i)
        if n is None:
            break
        out.append((i, n))
        i += n
    return out, i


def describe(d):
    """Counts per message type plus details worth reporting."""
    msgs, end = split_messages(d)
    count = collections.Counter()
    detail = collections.Counter()
    for off, n in msgs:
        t = d[off]
        count[MSG_NAMES.get(t, str(t))] += 1
        if t == 4:
            detail["KeyEvent down" if d[off + 1] else "KeyEvent up"] += 1
        elif t == 5 and d[off + 1]:
            detail["PointerEvent with a button down"] += 1
        elif t == 3:
            detail["FramebufferUpdateRequest incremental" if d[off + 1]
                   else "FramebufferUpdateRequest full"] += 1
        elif t == 6:
            detail["ClientCutText bytes"] += n - 8
    return msgs, end, count, detail


def print_stats(label, d):
    msgs, end, count, detail = describe(d)
    print("%s: %d bytes, %d messages%s" % (
        label, len(d), len(msgs),
        "" if end == len(d) else ", %d trailing bytes of an incomplete one"
        % (len(d) - end)))
    for k, v in sorted(count.items(), key=lambda kv: -kv[1]):
        print("  %-28s %d" % (k, v))
    for k, v in sorted(detail.items()):
        print("    %-34s %d" % (k, v))
    for off, n in msgs:
        if d[off] == 2:
            enc = struct.unpack(">%di" % ((n - 4) // 4), d[off + 4:off + n])
            print("  SetEncodings: %s" % " ".join(str(e) for e in enc))
        elif d[off] == 0:
            bpp, depth, be, tc, rm, gm, bm, rs, gs, bs = struct.unpack(
                ">BBBBHHHBBB", d[off + 4:off + 17])
            print("  SetPixelFormat: bpp %d depth %d %s-endian max %d/%d/%d "
                  "shift %d/%d/%d" % (bpp, depth, "big" if be else "little",
                                      rm, gm, bm, rs, gs, bs))


def cmd_stats(a):
    with open(a.file, "rb") as f:
        print_stats(a.file, f.read())
    return 0


def cmd_seeds(a):
    with open(a.handshake, "rb") as f:
        hs = f.read()
    with open(a.messages, "rb") as f:
        msgs = f.read()
    if len(hs) < 19 + 8 or hs[:12] != RFB_VERSION or hs[12] != SEC_VENCRYPT:
        raise SystemExit("%s is not an RFB 3.8 VeNCrypt handshake" % a.handshake)
    cred = hs[19:]
    ulen, plen = struct.unpack(">II", cred[:8])
    if len(cred) != 8 + ulen + plen:
        raise SystemExit("%s: credentials of %d bytes, header says %d" %
                         (a.handshake, len(cred), 8 + ulen + plen))
    if cred[8 + ulen:] != dummy_password(plen):
        raise SystemExit("%s: the password is not the dummy; refusing to "
                         "store it" % a.handshake)
    parts, end = split_messages(msgs)
    cut = 0
    for off, n in parts:
        if off + n > a.max_bytes:
            break
        cut = off + n
    hdir = os.path.join(a.corpus, "rfb_handshake")
    rdir = os.path.join(a.corpus, "rfb_reader")
    seeds = {
        os.path.join(hdir, "rec-%s-version" % a.name): b"\x01" + hs[:12],
        os.path.join(hdir, "rec-%s-plain" % a.name): b"\x00" + cred,
        os.path.join(rdir, "rec-%s-session" % a.name): msgs[:cut],
    }
    for path, data in seeds.items():
        with open(path, "wb") as f:
            f.write(data)
        print("wrote %s (%d bytes)" % (path, len(data)))
    print_stats("recorded stream", msgs)
    if cut != len(msgs):
        print_stats("seed (cut at %d bytes)" % cut, msgs[:cut])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("mkcert")
    p.add_argument("dir")
    p = sub.add_parser("proxy")
    p.add_argument("--listen", type=host_port, required=True)
    p.add_argument("--connect", type=host_port, required=True)
    p.add_argument("--server-ca", required=True)
    p.add_argument("--server-name")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--handshake", required=True)
    p.add_argument("--messages", required=True)
    p = sub.add_parser("seeds")
    p.add_argument("--handshake", required=True)
    p.add_argument("--messages", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--max-bytes", type=int, default=65536)
    p = sub.add_parser("stats")
    p.add_argument("file")
    a = ap.parse_args()
    return {"mkcert": cmd_mkcert, "proxy": cmd_proxy, "seeds": cmd_seeds,
            "stats": cmd_stats}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
