#!/bin/bash
# The blacklist end to end (docs/access-control.md), with
# BlacklistThreshold=3 and BlacklistTimeout=2, real PAM and real attack
# tools from Debian:
#  - nmap -sV --script vnc-info is no failure: no penalty is counted, and
#    the account logs in afterwards;
#  - three wrong passwords from moat-viewer block 127.0.0.1: the next
#    connection is refused at accept time, before any moat-net starts,
#    with the RFB 3.8 failure "Too many authentication failures" (read
#    byte for byte by a small client, and the RFB 3.3 form for a 3.3
#    client), moat-viewer reports the refusal, and moatd logs it;
#  - once the block expires one probation attempt is allowed; it fails,
#    the block doubles (4 s, logged), the right password is refused right
#    after and accepted only once the doubled block is over (log
#    timestamps), and a success clears the address (the next failure is
#    the first again);
#  - hydra's vnc module and nmap's vnc-brute find no credential: moat
#    offers no VncAuth, hydra answers as RFB 3.7 (refused) and vnc-brute
#    sends VeNCrypt Plain credentials without TLS, so no password ever
#    reaches PAM; each attempt is a protocol violation before
#    authentication, a penalty, and the back-off shows (refused
#    connections, doubled blocks) while moatd keeps serving.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

command -v nmap >/dev/null || moat_fail "nmap is not installed (tools/deps.sh)"
command -v hydra >/dev/null || moat_fail "hydra is not installed (tools/deps.sh)"

REASON='Too many authentication failures'
moat_server_start BlacklistThreshold=3 BlacklistTimeout=2 \
    MaxStartups=50 PerSourceMaxStartups=50
# pam_unix would wait ~2 s after each failure; PAM reads the file each time.
moat_pam_service moat "auth required pam_unix.so nodelay" \
    "account required pam_unix.so"

blacklist_lines()
{
	grep -c 'blacklist:' "$EVENTS" || true
}
refusals()
{
	grep -c "refused connection from 127.0.0.1 port [0-9]*: too many authentication failures" \
	    "$EVENTS" || true
}
# The first log timestamp (seconds since the epoch) of a line matching RE.
log_time()
{
	date -d "$(grep -m1 -E -- "$1" "$EVENTS" | cut -d' ' -f1)" +%s
}
# viewer NAME PASSWORD: moat-viewer's exit status (0 in, 3 refused or
# failed), with "+blocked" when moatd refused it for the blacklist.
viewer()
{
	local st=0 before
	before=$(refusals)
	MOAT_USER=$USER_NAME MOAT_PASSWORD=$2 timeout 60 \
	    "$(moat_bin moat-viewer)" --headless --ca "$CA" --known-hosts "$T/kh" \
	    --png "$T/$1.png" "127.0.0.1:$PORT" 2>"$T/$1.err" || st=$?
	if (($(refusals) > before)); then
		st="$st+blocked"
	fi
	printf '%s\n' "$st"
}
# viewer_until NAME PASSWORD: runs moat-viewer every 0.1 s while moatd
# refuses it for the blacklist (at most 60 s); prints the first other
# status, or "timeout", and how many times it was refused.
viewer_until()
{
	local deadline=$((SECONDS + 60)) st blocked=0
	while st=$(viewer "$1" "$2") && [[ "$st" == "3+blocked" ]]; do
		blocked=$((blocked + 1))
		if ((SECONDS >= deadline)); then
			st=timeout
			break
		fi
		sleep 0.1
	done
	printf '%s %s\n' "$st" "$blocked"
}
# rfb_refusal VERSION: connects as an RFB VERSION client ("3.8", "3.3")
# and prints what moatd answered: "refused: REASON" or "open".
rfb_refusal()
{
	python3 - "$PORT" "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def recv(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit("EOF after %d of %d bytes" % (len(b), n))
        b += c
    return b
assert recv(12) == b"RFB 003.008\n"
minor = sys.argv[2].split(".")[1]
s.sendall(b"RFB 003.%03d\n" % int(minor))
if minor == "3":
    n = struct.unpack(">I", recv(4))[0]
else:
    n = recv(1)[0]
if n != 0:
    print("open")
    sys.exit(0)
reason = recv(struct.unpack(">I", recv(4))[0])
rest = s.recv(100)
print("refused: %s%s" % (reason.decode(), "" if rest == b"" else " +junk"))
PY
}

# --- a scan is no failure ---
for i in 1 2 3 4; do
	timeout 120 nmap -sV --script vnc-info -p "$PORT" 127.0.0.1 \
	    >"$T/nmap-info-$i.out" 2>&1 || moat_fail "nmap failed: $(cat "$T/nmap-info-$i.out")"
done
moat_check "nmap identifies VNC" grep -q "vnc .*VNC (protocol 3.8)" "$T/nmap-info-1.out"
moat_check "vnc-info lists VeNCrypt" grep -q "VeNCrypt (19)" "$T/nmap-info-1.out"
moat_wait -m "nmap's connections end" sh -c "! pgrep -x moat-net >/dev/null"
moat_check_eq "four vnc-info scans count nothing" 0 "$(blacklist_lines)"
moat_viewer_login after-scan 0 "$USER_PASS"
moat_check_eq "and the account logs in, with nothing to clear" 0 "$(blacklist_lines)"

# --- three failures block, the fourth connection is refused ---
for i in 1 2 3; do
	moat_viewer_login "wrong-$i" 3 "wrong password $i"
done
moat_check "moatd counts the third failure" \
    grep -q "blacklist: authentication failure from 127.0.0.1 (3 counted)" "$EVENTS"
moat_check "and blocks 127.0.0.1 for 2 seconds" \
    grep -q "blacklist: 127.0.0.1 refused for 2 seconds" "$EVENTS"
moat_check_eq "the next connection is refused" "3+blocked" "$(viewer blocked "$USER_PASS")"
moat_check "moat-viewer reports the refusal" \
    grep -qF "the server refused the connection: $REASON" "$T/blocked.err"
moat_check_eq "an RFB 3.8 client reads the reason, then EOF" \
    "refused: $REASON" "$(rfb_refusal 3.8)"
moat_check_eq "an RFB 3.3 client reads it in the 3.3 form" \
    "refused: $REASON" "$(rfb_refusal 3.3)"
moat_check "moatd logs each refusal" test "$(refusals)" -ge 3
moat_check_fails "no moat-net was started for it" \
    grep -q "connection from 127.0.0.1 port $(sed -n 's/.*port \([0-9]*\): too many auth.*/\1/p' "$EVENTS" | head -1) accepted" "$EVENTS"

# --- probation: wrong passwords until one is not refused ---
read -r st n < <(viewer_until probation wrong-again)
moat_log "refused $n times before the probation attempt"
moat_check_eq "the probation attempt fails (wrong password)" 3 "$st"
moat_check "the viewer was told the password is wrong" \
    grep -q "the server refused the login: Authentication failed" "$T/probation.err"
moat_check "the attempt after the block is the probation attempt" \
    grep -q "blacklist: connection from 127.0.0.1 port [0-9]* is the probation attempt of 127.0.0.1" "$EVENTS"
moat_check "its failure doubles the block to 4 seconds" \
    grep -q "blacklist: 127.0.0.1 refused for 4 seconds" "$EVENTS"
before=$(refusals)
moat_check_eq "the right password is refused right after" "3+blocked" \
    "$(viewer right-1 "$USER_PASS")"
moat_check_eq "one more refusal logged" $((before + 1)) "$(refusals)"
read -r st n < <(viewer_until right "$USER_PASS")
moat_check_eq "the right password gets in once the doubled block is over" 0 "$st"
moat_log "refused $n more times before that"
moat_check "the success clears 127.0.0.1" \
    grep -q "blacklist: 127.0.0.1 cleared by a successful authentication" "$EVENTS"
t_fail=$(log_time "blacklist: 127.0.0.1 refused for 4 seconds")
t_ok=$(log_time "blacklist: 127.0.0.1 cleared")
moat_check "the doubled block lasted about 4 s ($t_fail -> $t_ok)" test $((t_ok - t_fail)) -ge 3
moat_viewer_login wrong-after 3 "wrong once more"
moat_check "after the success, counting starts again" \
    grep -q "blacklist: authentication failure from 127.0.0.1 (1 counted)" "$EVENTS"
moat_viewer_login clear-again 0 "$USER_PASS"

# --- hydra ---
printf '%s\n' 123456 password letmein qwerty "$USER_PASS" abc123 111111 \
    dragon monkey secret vnc admin >"$T/words"
b0=$(refusals)
timeout 300 hydra -t 1 -P "$T/words" -s "$PORT" vnc://127.0.0.1 \
    >"$T/hydra.out" 2>&1 || true
moat_check "hydra finds no password" grep -q "0 valid password found" "$T/hydra.out"
moat_check "each attempt is a protocol violation before authentication" \
    grep -q "blacklist: penalty (protocol violation before login) from 127.0.0.1 (3 counted)" "$EVENTS"
moat_check "hydra is refused once blocked" test "$(refusals)" -gt "$b0"
moat_check_fails "no password reached PAM" grep -q "factor SystemAuth for user \"\" " "$EVENTS"
moat_log "hydra: $(grep -c 'ERROR' "$T/hydra.out" || true) errors, $(($(refusals) - b0)) refusals"

# Wait out the block with the right password (refusals are not counted).
read -r st n < <(viewer_until after-hydra "$USER_PASS")
moat_check_eq "the account logs in after hydra's back-off" 0 "$st"

# --- nmap vnc-brute ---
b0=$(refusals)
p0=$(grep -c "protocol violation before login" "$EVENTS" || true)
timeout 300 nmap -sV -p "$PORT" --script vnc-brute \
    --script-args "passdb=$T/words,brute.firstonly=true" 127.0.0.1 \
    >"$T/brute.out" 2>&1 || true
moat_check "vnc-brute ran" grep -q "vnc-brute" "$T/brute.out"
moat_check "vnc-brute finds no account" grep -q "No valid accounts found" "$T/brute.out"
moat_check "and shows moatd's refusal" grep -q "ERROR: $REASON" "$T/brute.out"
moat_check "its guesses are penalties" \
    test "$(grep -c "protocol violation before login" "$EVENTS")" -ge $((p0 + 3))
moat_check "and it is refused once blocked" test "$(refusals)" -gt "$b0"
moat_log "vnc-brute: $(grep -o 'Performed [0-9]* guesses' "$T/brute.out" || true), $(($(refusals) - b0)) refusals"

moat_check "moatd still runs" kill -0 "$(moat_pid moatd)"
moat_check_fails "no monitor crashed" grep -q "killed by signal" "$EVENTS"
read -r st n < <(viewer_until final "$USER_PASS")
moat_check_eq "and serves the account after the back-off" 0 "$st"
moat_check "with the desktop" test -s "$T/final.png"

# The audit records (docs/audit.md; AuditFile's default, private to the test).
AUDIT=/var/log/moat/audit.jsonl
moat_check "audit: the address's block" \
    grep -Eq '"event":"blacklist",.*"action":"blocked","key_kind":"address","key":"127.0.0.1","blocked_s":[0-9]+' "$AUDIT"
moat_check "audit: the refusals of the blocked address" \
    grep -Eq '"event":"refuse","session":[0-9]+,"peer_addr":"127.0.0.1",.*"reason":"blacklist"' "$AUDIT"
moat_check "audit: failed factors" \
    grep -Eq '"event":"auth_factor",.*"result":"failure"' "$AUDIT"
moat_audit_verify --live
moat_test_end
