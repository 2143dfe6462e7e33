#!/bin/bash
# Hostile input closes only the offending connection.
#  - Viewers: malformed handshakes, oversized lengths, unknown message types
#    and bad pixel formats each close that viewer, while an established
#    session keeps running and new viewers still log in.
#  - IPC: a stand-in for a compromised moat-net (tests/tools/hostile_net.c,
#    exec'd by a second moatd as its NetBinary) sends unknown, out-of-order,
#    repeated, malformed and descriptor-carrying requests; the monitor ends
#    each connection and logs why, and the well-behaved control is not
#    flagged. The identity key's one private operation per connection (the
#    RSA-AES ClientRandom) is answered once: a second request, a ciphertext
#    of the wrong size and a type policy does not offer end the connection.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start

# A session that must survive everything below.
moat_bg keeper python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log keeper holding
keeper_net=$(moat_net_pids | head -1)

for sc in bad-version truncated old-version wrong-subtype long-user; do
	moat_check "viewer '$sc' is closed" moat_probe --scenario "$sc"
done
for sc in unknown-type huge-cut huge-encodings bad-pixfmt; do
	moat_check "logged-in viewer sending '$sc' is closed" \
	    moat_probe --user "$USER_NAME" --password "$USER_PASS" --scenario "$sc"
done
moat_check "the monitor logged the malformed messages" \
    grep -q "closing: malformed message from viewer" "$EVENTS"
moat_check "the established session's moat-net is still running" \
    kill -0 "$keeper_net"
moat_check "the established viewer is still connected" moat_alive keeper
moat_check "a new viewer still logs in" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_stop keeper

# --- a compromised moat-net: the monitor ends the connection ---
PORT2=$(moat_free_port)
moat_write_config "$T/etc2/moatd.conf" \
    ListenAddress=127.0.0.1 "ListenPort=$PORT2" \
    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" \
    "EmptyRoot=$T/empty" "SessionSocket=$T/run2/session.sock" \
    "LogFile=$T/events2.log" "NetBinary=$(moat_bin hostile_net)" \
    "AuditFile=$T/audit2/audit.jsonl" \
    BlacklistThreshold=0	# every case is a penalty (docs/access-control.md)
moat_bg moatd2 "$(moat_bin moatd)" -d -f "$T/etc2/moatd.conf"
moat_wait_port "$PORT2"

hostile()	# COMMAND: prints what the stand-in wrote back before the close
{
	python3 - "$PORT2" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
s.sendall(sys.argv[2].encode() + b"\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
print(data.decode(errors="replace").strip() or "(closed)")
PY
}

expect_ended()	# COMMAND LOG-REGEX
{
	local before
	before=$(grep -c "disconnect:" "$T/events2.log" || true)
	hostile "$1" >/dev/null
	moat_check "IPC '$1': the monitor logged it" \
	    moat_wait_log "$T/events2.log" "$2"
	moat_check "IPC '$1': the connection was ended" \
	    moat_wait sh -c "[ \$(grep -c 'disconnect:' '$T/events2.log') -gt $before ]"
}

expect_ended unknown "unpermitted request UNKNOWN \\(999\\) in phase preauth"
expect_ended closing-twice "unpermitted request NET_CLOSING \\(23\\) in phase closing"
expect_ended auth-twice "unpermitted request NET_AUTH_PASSWORD \\(22\\) in phase preauth"
expect_ended fd "bad IPC message \\(file descriptor error\\)"
expect_ended oversize-log "malformed length exceeds limit"
expect_ended bad-log-level "malformed invalid value"
expect_ended trailing "malformed trailing bytes after message"
expect_ended session-msg "unpermitted request MON_SESSION_CHANNEL"
expect_ended rsa-twice "unpermitted request NET_RSA_DECRYPT \\(24\\) in phase preauth"
moat_check "rsa-twice: the first decrypt request was answered" \
    grep -q "hostile_net: first decrypt answered" "$T/events2.log"
expect_ended rsa-short "RSA ciphertext of [0-9]+ bytes, not the identity modulus size"
expect_ended rsa-type "decrypt for security type 6, which policy does not offer"
moat_check_eq "the well-behaved control completes" done "$(hostile well-behaved)"
moat_check "the control's log line was relayed" \
    grep -q "hostile_net: well-behaved log line" "$T/events2.log"
moat_check_eq "only the eleven hostile connections were flagged" 11 \
    "$(grep -Ec 'unpermitted request|bad IPC message|malformed|which policy does not offer' "$T/events2.log")"

# --- the audit records (docs/audit.md): each moatd's own file ---
AUDIT2=$T/audit2/audit.jsonl
D='"event":"disconnect",.*"user":'
moat_check_eq "audit: the five hostile handshakes ended without a user or a login" "5 0" \
    "$(grep -Ec "$D"'"","kind":"(closed","reason":"protocol violation|viewer")' "$MOAT_AUDIT") $(grep -c '"event":"login",.*"result":"failure"' "$MOAT_AUDIT" || true)"
moat_check_eq "audit: the four logged-in hostile viewers: protocol violations" 4 \
    "$(grep -Ec "$D"'"'"$USER_NAME"'","kind":"closed","reason":"protocol violation - [^"]+"' "$MOAT_AUDIT")"
moat_check "audit: the established session ended when its viewer left" \
    grep -Eq '"event":"disconnect","session":1,.*"user":"'"$USER_NAME"'","kind":"viewer",' "$MOAT_AUDIT"
moat_check_eq "audit: the eleven hostile moat-nets: disconnects of kind ipc" 11 \
    "$(grep -Ec "$D"'"","kind":"ipc","reason":"moat-net broke the IPC protocol"' "$AUDIT2")"
moat_check "audit: the well-behaved control closed normally" \
    grep -Eq "$D"'"","kind":"viewer","reason":"viewer disconnected - bye"' "$AUDIT2"
moat_check_eq "audit: no connection to the second moatd logged in" 0 \
    "$(grep -c '"event":"login",.*"result":"success"' "$AUDIT2" || true)"
moat_audit_verify --live
moat_audit_verify --live "$AUDIT2"

moat_test_end
