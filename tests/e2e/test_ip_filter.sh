#!/bin/bash
# IpClientAddresses end to end (docs/access-control.md):
#  - a deny rule for 127.0.0.1 refuses at accept time before any byte: the
#    client reads EOF after 0 bytes, no moat-net starts, and moatd logs
#    "refused connection from PEER: IpClientAddresses rule 1 (-127.0.0.1)";
#    another address (127.0.0.2) matches no rule and is served;
#  - "+127.0.0.1,-": 127.0.0.1 logs in with moat-viewer, 127.0.0.2 is
#    refused by rule 2 ("-");
#  - IPv6 on ListenAddress=::1: "+::1,-" serves ::1, "-::1/128" refuses
#    it, logged with the IPv6 peer;
#  - moatd -t refuses a rule without a sign ('?' asks the desktop user:
#    tests/e2e/test_query_connect.sh) and a prefix with
#    host bits, naming file, line and the allowed forms;
#  - the caps on connections not yet authenticated: with
#    PerSourceMaxStartups=2 and MaxStartups=3, a third idle connection from
#    127.0.0.1 is refused with its RFB reason while 127.0.0.2 still gets in,
#    then a fourth from anywhere is refused by MaxStartups; once the idle
#    ones close, 127.0.0.1 is served again.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

# first_bytes HOST [SOURCE]: connects to moatd and prints how many bytes
# it sent within 5 s before closing or going quiet ("0 eof" when it
# closed without sending a byte), and the first 12 as text.
first_bytes()
{
	python3 - "$1" "$PORT" "${2:-}" <<'PY'
import socket, sys
host, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in host else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
if src:
    s.bind((src, 0))
s.settimeout(5)
s.connect((host, port))
data, end = b"", "quiet"
try:
    while len(data) < 12:
        c = s.recv(12 - len(data))
        if not c:
            end = "eof"
            break
        data += c
except ConnectionResetError:
    end = "eof"
except socket.timeout:
    pass
print(len(data), end if len(data) < 12 else data.decode().strip())
PY
}
accepted_lines()
{
	grep -c "connection from .* accepted" "$EVENTS" || true
}
# serve NAME KEY=VALUE...: restarts moatd (process NAME, with a fresh
# LogFile) with those parameters changed, and its desktop session.
serve()
{
	local name=$1 kv
	shift
	moat_stop "${STARTED[@]}"
	EVENTS=$T/$name-events.log
	sed -i -e "s|^LogFile=.*|LogFile=$EVENTS|" "$CONF"
	for kv in "$@"; do
		sed -i -e "s|^${kv%%=*}=.*|$kv|" "$CONF"
	done
	moat_bg "$name" "$(moat_bin moatd)" -d -f "$CONF"
	moat_wait_log "$EVENTS" "moatd listening on"
	moat_start_session "$name-session"
	STARTED=("$name-session" "$name")
}

# --- deny 127.0.0.1 ---
moat_server_start "IpClientAddresses=-127.0.0.1"
STARTED=(session moatd)
moat_check_eq "127.0.0.1 reads EOF after 0 bytes" "0 eof" "$(first_bytes 127.0.0.1)"
moat_check "moatd names the rule" grep -Eq \
    "refused connection from 127\.0\.0\.1 port [0-9]+: IpClientAddresses rule 1 \(-127\.0\.0\.1\)$" \
    "$EVENTS"
moat_check_eq "no monitor was started for it" 0 "$(accepted_lines)"
moat_check_eq "127.0.0.2 matches no rule: served" "12 RFB 003.008" \
    "$(first_bytes 127.0.0.1 127.0.0.2)"
moat_check "and accepted" grep -q "connection from 127.0.0.2 port [0-9]* accepted" "$EVENTS"

# --- allow 127.0.0.1, deny the rest ---
serve allow "IpClientAddresses=+127.0.0.1,-"
moat_viewer_login allowed 0 "$USER_PASS"
moat_check "the viewer saw the desktop" test -s "$T/allowed.png"
moat_check_eq "127.0.0.2 reads EOF after 0 bytes" "0 eof" \
    "$(first_bytes 127.0.0.1 127.0.0.2)"
moat_check "refused by rule 2 (-)" grep -Eq \
    "refused connection from 127\.0\.0\.2 port [0-9]+: IpClientAddresses rule 2 \(-\)$" \
    "$EVENTS"
moat_check_fails "127.0.0.1 was never refused" grep -q \
    "refused connection from 127.0.0.1 " "$EVENTS"

# --- IPv6 ---
serve v6allow ListenAddress=::1 "IpClientAddresses=+::1,-"
moat_check_eq "::1 is served under +::1,-" "12 RFB 003.008" "$(first_bytes ::1)"
moat_check "and accepted" grep -q "connection from ::1 port [0-9]* accepted" "$EVENTS"
serve v6deny "IpClientAddresses=+127.0.0.0/8,-::1/128,+"
moat_check_eq "::1 reads EOF after 0 bytes under -::1/128" "0 eof" "$(first_bytes ::1)"
moat_check "refused by rule 2, logged with the IPv6 peer" grep -Eq \
    "refused connection from ::1 port [0-9]+: IpClientAddresses rule 2 \(-::1\)$" \
    "$EVENTS"
moat_check_eq "no monitor was started for it" 0 "$(accepted_lines)"

# --- what moatd -t refuses ---
moat_write_config "$T/bad/moatd.conf" ListenAddress=127.0.0.1 \
    "IpClientAddresses=+10.0.0.0/8,192.168.1.0/24"
moat_check_fails "moatd -t refuses a rule without a sign" \
    "$(moat_bin moatd)" -t -f "$T/bad/moatd.conf"
"$(moat_bin moatd)" -t -f "$T/bad/moatd.conf" >"$T/bad.out" 2>&1 || true
moat_check "naming file, line, rule and the allowed forms" grep -qF \
    "$T/bad/moatd.conf:2: IpClientAddresses: rule 2 '192.168.1.0/24' does not start with '+', '-' or '?'; allowed: +ADDRESS[/PREFIX], -ADDRESS[/PREFIX], ?ADDRESS[/PREFIX], +, - or ?" \
    "$T/bad.out"
moat_write_config "$T/bad2/moatd.conf" ListenAddress=127.0.0.1 \
    "IpClientAddresses=-192.168.1.7/24"
"$(moat_bin moatd)" -t -f "$T/bad2/moatd.conf" >"$T/bad2.out" 2>&1 || true
moat_check "a prefix with host bits is refused" grep -qF \
    "IpClientAddresses: rule 1 '-192.168.1.7/24': the address has bits set beyond the /24 prefix (the network is 192.168.1.0/24)" \
    "$T/bad2.out"
# --- caps on connections not yet authenticated ---
serve caps ListenAddress=127.0.0.1 IpClientAddresses= MaxStartups=3 \
    PerSourceMaxStartups=2
python3 - "$PORT" >"$T/caps.out" 2>&1 <<'PY' || true
import socket, struct, sys
port = int(sys.argv[1])
def hello(src):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    v = b""
    while len(v) < 12:
        c = s.recv(12 - len(v))
        if not c:
            return s, "eof"
        v += c
    return s, v
def answer(s):
    s.sendall(b"RFB 003.008\n")
    def recv(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise SystemExit("EOF")
            b += c
        return b
    n = recv(1)[0]
    if n:
        return "open"
    return "refused: " + recv(struct.unpack(">I", recv(4))[0]).decode()
held = [hello("127.0.0.1")[0], hello("127.0.0.1")[0]]
s, _ = hello("127.0.0.1")
print("third from 127.0.0.1:", answer(s))
s2, _ = hello("127.0.0.2")
held.append(s2)
print("first from 127.0.0.2:", answer(s2))
s, _ = hello("127.0.0.3")
print("first from 127.0.0.3:", answer(s))
PY
moat_check_eq "a third idle connection from 127.0.0.1 is refused" \
    "third from 127.0.0.1: refused: Too many connections from your address are waiting to authenticate; try again later" \
    "$(sed -n 's/^third/third/p' "$T/caps.out")"
moat_check_eq "127.0.0.2 still gets in" "first from 127.0.0.2: open" \
    "$(sed -n 's/^first from 127.0.0.2/&/p' "$T/caps.out")"
moat_check_eq "over MaxStartups, 127.0.0.3 is refused" \
    "first from 127.0.0.3: refused: Too many connections are waiting to authenticate; try again later" \
    "$(sed -n 's/^first from 127.0.0.3/&/p' "$T/caps.out")"
moat_check "moatd logs PerSourceMaxStartups" grep -Eq \
    "refused connection from 127\.0\.0\.1 port [0-9]+: 2 connections from 127\.0\.0\.1 are not yet authenticated \(PerSourceMaxStartups=2\)" \
    "$EVENTS"
moat_check "and MaxStartups" grep -Eq \
    "refused connection from 127\.0\.0\.3 port [0-9]+: 3 connections are not yet authenticated \(MaxStartups=3\)" \
    "$EVENTS"
moat_wait -m "the idle connections end" sh -c "! pgrep -x moat-net >/dev/null"
moat_viewer_login after-caps 0 "$USER_PASS"

# --- the audit records (docs/audit.md), every moatd of the test in one chain ---
R='"event":"refuse","session":[1-9][0-9]*,"peer_addr":'
moat_check "audit: the deny rule's refusal names the rule" \
    grep -Eq "$R"'"127\.0\.0\.1","peer_port":[1-9][0-9]*,"reason":"ip_filter","detail":"IpClientAddresses rule 1 \(-127\.0\.0\.1\)"' "$MOAT_AUDIT"
moat_check "audit: 127.0.0.2, matching no rule, was connected" \
    grep -Eq '"event":"connect",.*"peer_addr":"127\.0\.0\.2",.*"probation":0' "$MOAT_AUDIT"
moat_check "audit: \"+127.0.0.1,-\" refused 127.0.0.2 by rule 2" \
    grep -Eq "$R"'"127\.0\.0\.2",.*"reason":"ip_filter","detail":"IpClientAddresses rule 2 \(-\)"' "$MOAT_AUDIT"
moat_check "audit: and logged in 127.0.0.1" \
    grep -Eq '"event":"login",.*"peer_addr":"127\.0\.0\.1",.*"user":"'"$USER_NAME"'","result":"success"' "$MOAT_AUDIT"
moat_check "audit: the IPv6 refusal with its IPv6 peer" \
    grep -Eq "$R"'"::1",.*"reason":"ip_filter","detail":"IpClientAddresses rule 2 \(-::1\)"' "$MOAT_AUDIT"
moat_check "audit: the IPv6 connection served" \
    grep -Eq '"event":"connect",.*"peer_addr":"::1",' "$MOAT_AUDIT"
moat_check "audit: PerSourceMaxStartups refused the third from 127.0.0.1" \
    grep -Eq "$R"'"127\.0\.0\.1",.*"reason":"per_source_max_startups","detail":"PerSourceMaxStartups reached"' "$MOAT_AUDIT"
moat_check "audit: MaxStartups refused 127.0.0.3" \
    grep -Eq "$R"'"127\.0\.0\.3",.*"reason":"max_startups","detail":"MaxStartups reached"' "$MOAT_AUDIT"
moat_check_eq "audit: five refusals in all" 5 "$(grep -c '"event":"refuse"' "$MOAT_AUDIT")"
moat_check_fails "audit: no refused address was connected" \
    grep -Eq '"event":"connect",.*"peer_addr":"127\.0\.0\.3"' "$MOAT_AUDIT"
moat_audit_verify --live
moat_test_end
