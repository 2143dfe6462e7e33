#!/usr/bin/env python3
"""radius_fake.py - a small, independent RADIUS implementation for moat's tests.

Test code, run by tests/e2e/test_radius.sh (as root, on loopback only). It
trusts its arguments and checks everything moat's client sends. It shares no
code with auth/radius_packet.c: hiding, Response Authenticator and
Message-Authenticator are computed here with Python's hashlib and hmac, so a
test that passes against it cross-checks moat's C code.

  radius_fake.py serve --secret-file F --port-file P [--password PW] [--log L]
      A fake server on 127.0.0.1 (port chosen by the kernel, written to P once
      bound). Every Access-Request must carry a valid Message-Authenticator as
      its FIRST attribute, or it is logged and left unanswered. The decoded
      User-Password is compared with PW (default "fake-pw"). What it answers
      depends on the User-Name:
        accept       signed Access-Accept (Reject if the password is wrong)
        reject       signed Access-Reject
        unsigned     Access-Accept without Message-Authenticator
        bad-ma       Access-Accept whose Message-Authenticator is wrong
                     (its Response Authenticator is right)
        bad-rauth    signed Access-Accept with a wrong Response Authenticator
        wrong-id     signed Access-Accept with another identifier
        other-port   signed Access-Accept sent from another UDP port
        noisy        wrong-id, then bad-ma, then a good signed Access-Accept
        drop-first   ignores the first datagram of a request; answers the
                     retransmission (which must be byte-identical)
        challenge    without State: signed Access-Challenge with two
                     Reply-Messages, a random binary State and Prompt = Echo;
                     with that State
                     and the password 123456: signed Access-Accept, else Reject
        control      signed Access-Accept whose Reply-Message holds control
                     characters, a C1 control and invalid UTF-8
      One line per request goes to the log (stdout by default):
        request id=N user=U ma=first-ok password=ok|wrong state=HEX
                nas-id=S calling=S service=N -> ANSWER

  radius_fake.py silent --port-file P
      Binds a UDP port on 127.0.0.1 and never answers (a dead server).

  radius_fake.py record --server HOST:PORT --secret-file F --user U
                        --password PW [--state HEX] --id N --authenticator HEX
                        --out FILE
      Sends one signed Access-Request with the given identifier and Request
      Authenticator, and writes the reply datagram to FILE (with a leading
      selector byte given by --prefix, default none). Used to record the fuzz
      seeds of fuzz/corpus/radius_reply from a real FreeRADIUS.
"""

import argparse
import hashlib
import hmac
import os
import select
import socket
import struct
import sys

ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT, ACCESS_CHALLENGE = 1, 2, 3, 11
USER_NAME, USER_PASSWORD, SERVICE_TYPE, REPLY_MESSAGE = 1, 2, 6, 18
STATE, CALLING_STATION_ID, NAS_IDENTIFIER, MESSAGE_AUTHENTICATOR = 24, 31, 32, 80
PROMPT = 76


def read_secret(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.endswith(b"\n"):
        data = data[:-1]
    return data


def attrs_parse(body):
    """List of (type, value); raises ValueError on bad framing."""
    out, i = [], 0
    while i < len(body):
        if i + 2 > len(body):
            raise ValueError("truncated attribute header")
        t, n = body[i], body[i + 1]
        if n < 2 or i + n > len(body):
            raise ValueError("bad attribute length")
        out.append((t, body[i + 2:i + n]))
        i += n
    return out


def attrs_encode(attrs):
    return b"".join(bytes([t, len(v) + 2]) + v for t, v in attrs)


def hide(password, secret, auth):
    """RFC 2865 section 5.2."""
    p = password + b"\0" * ((16 - len(password) % 16) % 16 if password else 16)
    out, prev = b"", auth
    for i in range(0, len(p), 16):
        b = hashlib.md5(secret + prev).digest()
        c = bytes(x ^ y for x, y in zip(p[i:i + 16], b))
        out += c
        prev = c
    return out


def unhide(hidden, secret, auth):
    out, prev = b"", auth
    for i in range(0, len(hidden), 16):
        b = hashlib.md5(secret + prev).digest()
        out += bytes(x ^ y for x, y in zip(hidden[i:i + 16], b))
        prev = hidden[i:i + 16]
    return out.rstrip(b"\0")


def build_reply(code, ident, req_auth, attrs, secret, sign=True,
                bad_ma=False, bad_rauth=False):
    """A reply; Message-Authenticator last (as FreeRADIUS 3.2.1 puts it)."""
    if sign:
        attrs = attrs + [(MESSAGE_AUTHENTICATOR, b"\0" * 16)]
    body = attrs_encode(attrs)
    length = 20 + len(body)
    if sign:
        mac = hmac.new(secret, struct.pack("!BBH", code, ident, length) +
                       req_auth + body, hashlib.md5).digest()
        if bad_ma:
            mac = bytes([mac[0] ^ 1]) + mac[1:]
        body = body[:-16] + mac
    rauth = hashlib.md5(struct.pack("!BBH", code, ident, length) + req_auth +
                        body + secret).digest()
    if bad_rauth:
        rauth = bytes([rauth[0] ^ 0x80]) + rauth[1:]
    return struct.pack("!BBH", code, ident, length) + rauth + body


def check_request(pkt, secret):
    """(id, auth, attrs, problem); problem is None for a good request."""
    if len(pkt) < 20:
        return None, None, [], "short"
    code, ident, length = struct.unpack("!BBH", pkt[:4])
    auth = pkt[4:20]
    if code != ACCESS_REQUEST or length != len(pkt):
        return ident, auth, [], "bad code or length"
    try:
        attrs = attrs_parse(pkt[20:])
    except ValueError as e:
        return ident, auth, [], str(e)
    if not attrs or attrs[0][0] != MESSAGE_AUTHENTICATOR or len(attrs[0][1]) != 16:
        return ident, auth, attrs, "Message-Authenticator not first"
    if sum(1 for t, _ in attrs if t == MESSAGE_AUTHENTICATOR) != 1:
        return ident, auth, attrs, "Message-Authenticator twice"
    zeroed = pkt[:22] + b"\0" * 16 + pkt[38:]
    want = hmac.new(secret, zeroed, hashlib.md5).digest()
    if not hmac.compare_digest(want, attrs[0][1]):
        return ident, auth, attrs, "wrong Message-Authenticator"
    return ident, auth, attrs, None


def first(attrs, t):
    for at, v in attrs:
        if at == t:
            return v
    return None


def serve(args):
    secret = read_secret(args.secret_file)
    expected = args.password.encode()
    log = open(args.log, "a", buffering=1) if args.log else sys.stdout
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(tmp, args.port_file)
    seen = {}           # request authenticator -> first datagram (drop-first)
    challenges = set()  # States handed out
    while True:
        pkt, peer = sock.recvfrom(65535)
        ident, auth, attrs, problem = check_request(pkt, secret)
        if problem is not None:
            print("request id=%s refused: %s" % (ident, problem), file=log)
            continue
        user = (first(attrs, USER_NAME) or b"").decode("utf-8", "replace")
        hidden = first(attrs, USER_PASSWORD) or b""
        password = unhide(hidden, secret, auth)
        state = first(attrs, STATE)
        service = first(attrs, SERVICE_TYPE)
        desc = "request id=%d user=%s ma=first-ok password=%s state=%s " \
               "nas-id=%s calling=%s service=%s" % (
                   ident, user,
                   "ok" if password in (expected, b"123456") else "wrong",
                   state.hex() if state else "",
                   (first(attrs, NAS_IDENTIFIER) or b"").decode(),
                   (first(attrs, CALLING_STATION_ID) or b"").decode(),
                   struct.unpack("!I", service)[0] if service else "")
        ok = password == expected

        def send(code, extra=(), **kw):
            sock.sendto(build_reply(code, ident, auth, list(extra), secret,
                                    **kw), peer)

        good = ACCESS_ACCEPT if ok else ACCESS_REJECT
        answer = user
        if user == "accept":
            send(good)
        elif user == "reject":
            send(ACCESS_REJECT, [(REPLY_MESSAGE, b"Go away")])
        elif user == "unsigned":
            send(good, sign=False)
        elif user == "bad-ma":
            send(good, bad_ma=True)
        elif user == "bad-rauth":
            send(good, bad_rauth=True)
        elif user == "wrong-id":
            sock.sendto(build_reply(good, (ident + 1) % 256, auth, [], secret),
                        peer)
        elif user == "other-port":
            other.sendto(build_reply(good, ident, auth, [], secret), peer)
        elif user == "noisy":
            sock.sendto(build_reply(good, (ident + 1) % 256, auth, [], secret),
                        peer)
            send(good, bad_ma=True)
            send(good)
        elif user == "drop-first":
            if auth not in seen:
                seen[auth] = pkt
                answer = "nothing (first datagram)"
            elif seen[auth] != pkt:
                answer = "nothing (retransmission differs)"
            else:
                send(good)
        elif user == "challenge":
            if state is None and ok:
                st = b"\0\xff" + os.urandom(14)
                challenges.add(st)
                send(ACCESS_CHALLENGE, [(REPLY_MESSAGE, b"Enter the code"),
                                        (REPLY_MESSAGE, b"from the fake"),
                                        (STATE, st),
                                        (PROMPT, struct.pack("!I", 1))])
                answer = "challenge state=" + st.hex()
            elif state in challenges and password == b"123456":
                challenges.discard(state)
                send(ACCESS_ACCEPT)
            else:
                send(ACCESS_REJECT)
        elif user == "control":
            send(good, [(REPLY_MESSAGE,
                         b"a\x1b[31mb\x07c\rd\te\xc2\x9bf\xff\xfeg\xc3\xa9h\ni")])
        else:
            answer = "nothing (unknown user)"
        print(desc + " -> " + answer, file=log)


def silent(args):
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % sock.getsockname()[1])
    os.rename(tmp, args.port_file)
    while True:
        sock.recvfrom(65535)


def record(args):
    secret = read_secret(args.secret_file)
    auth = bytes.fromhex(args.authenticator)
    if len(auth) != 16:
        sys.exit("record: the authenticator is 16 bytes")
    attrs = [(MESSAGE_AUTHENTICATOR, b"\0" * 16),
             (USER_NAME, args.user.encode()),
             (USER_PASSWORD, hide(args.password.encode(), secret, auth)),
             (NAS_IDENTIFIER, b"moat-record")]
    if args.state:
        attrs.append((STATE, bytes.fromhex(args.state)))
    attrs.append((SERVICE_TYPE, struct.pack("!I", 8)))
    body = attrs_encode(attrs)
    hdr = struct.pack("!BBH", ACCESS_REQUEST, args.id, 20 + len(body)) + auth
    mac = hmac.new(secret, hdr + body, hashlib.md5).digest()
    pkt = hdr + body[:2] + mac + body[18:]
    host, port = args.server.rsplit(":", 1)
    host = host.strip("[]")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(fam, socket.SOCK_DGRAM)
    sock.connect((host, int(port)))
    sock.send(pkt)
    r, _, _ = select.select([sock], [], [], 5)
    if not r:
        sys.exit("record: no reply")
    reply = sock.recv(65535)
    with open(args.out, "wb") as f:
        f.write(bytes.fromhex(args.prefix) + reply)
    print("recorded %d bytes, code %d" % (len(reply), reply[0]))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--secret-file", required=True)
    s.add_argument("--port-file", required=True)
    s.add_argument("--password", default="fake-pw")
    s.add_argument("--log")
    q = sub.add_parser("silent")
    q.add_argument("--port-file", required=True)
    r = sub.add_parser("record")
    r.add_argument("--server", required=True)
    r.add_argument("--secret-file", required=True)
    r.add_argument("--user", required=True)
    r.add_argument("--password", required=True)
    r.add_argument("--state", default="")
    r.add_argument("--id", type=int, required=True)
    r.add_argument("--authenticator", required=True)
    r.add_argument("--prefix", default="")
    r.add_argument("--out", required=True)
    args = ap.parse_args()
    {"serve": serve, "silent": silent, "record": record}[args.cmd](args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
