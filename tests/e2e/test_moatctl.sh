#!/bin/bash
# moatctl over moatd's control socket (docs/moatctl.md):
#  - sessions lists a logged-in viewer (tests/tools/rfb_probe.py, VeNCrypt
#    X509Plain) with its id, user, address and port, login time,
#    permissions, security type, TLS version and cipher;
#  - disconnect ID ends that session: the viewer sees its connection
#    close and moatd logs "disconnected by administrator"; an unknown id
#    is an error; disconnect all ends every session;
#  - blacklist show lists the address and the user after two failed logins
#    (BlacklistThreshold=2) with their counts and end of block; clear KEY
#    forgets one key (the address, then the user: the login goes through
#    only once both are gone); clear without a key forgets everything;
#  - a caller that is not root is refused: by the socket's mode, and (test
#    build: the socket left open to everyone) by moatd's peer-credential
#    check, which logs the refusal;
#  - check reports a broken policy file with its file and line and changes
#    nothing; a valid change is shown but not applied;
#  - every request is logged with the caller's uid;
#  - with moatd stopped, moatctl says moatd is not running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start BlacklistThreshold=2 BlacklistTimeout=600
moat_pam_service moat "auth required pam_unix.so nodelay" \
    "account required pam_unix.so"
POLICY=$T/etc/policy.d
install -d -o root -g root -m 0755 "$POLICY"
CTL=$T/run/control.sock
MOATCTL=$(moat_bin moatctl)

ctl()
{
	"$MOATCTL" "$@"
}
# hold NAME: a viewer logged in until moatd ends its connection.
hold()
{
	moat_bg "$1" python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" \
	    --port "$PORT" --ca "$CA" --user "$USER_NAME" \
	    --password "$USER_PASS" --scenario hold-session
	moat_wait_log "$1" '^holding'
}
login()
{
	moat_probe --user "$USER_NAME" --password "$1" >"$T/$2.out" 2>&1
}
listed()
{
	ctl sessions -s "$CTL" | grep -c " $USER_NAME " || true
}

moat_check_eq "the control socket is root's, mode 0600" "600 root" \
    "$(stat -c '%a %U' "$CTL")"
ctl sessions -f "$CONF" >"$T/none.out" 2>&1 && st=0 || st=$?
moat_check_eq "sessions with nobody logged in succeeds (socket found from -f)" 0 "$st"
moat_check_eq "and lists nobody" "0 sessions" "$(cat "$T/none.out")"

# --- sessions and disconnect ID ---
hold held
moat_wait -m "the session listed" sh -c "[ \"\$('$MOATCTL' sessions -s '$CTL' | grep -c ' $USER_NAME ')\" = 1 ]"
ctl sessions -s "$CTL" >"$T/sessions.out"
line=$(grep " $USER_NAME " "$T/sessions.out")
moat_check "a header line" grep -q '^ID *USER *ADDRESS *SINCE *PERMS *SECURITY$' "$T/sessions.out"
moat_check "the session's address and port, login time, permissions" \
    grep -Eq "^[0-9]+ +$USER_NAME +127\.0\.0\.1 port [0-9]+ +$(date +%Y-%m-%d) [0-9:]{8} 0x1f " <<<"$line"
moat_check "its security type, TLS version and cipher" \
    grep -q 'VeNCrypt X509Plain, TLSv1.3, TLS_AES_128_GCM_SHA256$' <<<"$line"
moat_check "the last line counts" grep -qx '1 session' "$T/sessions.out"
id=$(awk '{print $1}' <<<"$line")
ctl disconnect -s "$CTL" "$id" >"$T/disc.out" 2>&1 && st=0 || st=$?
moat_check_eq "disconnect $id succeeds" 0 "$st"
moat_check "and names the session" grep -q "^disconnected session $id (user \"$USER_NAME\" from 127.0.0.1 port [0-9]*)\$" "$T/disc.out"
moat_check "the viewer sees its connection close" moat_wait_exit held 30
moat_check_eq "the viewer exits normally (closed by the server)" 0 "$MOAT_LAST_STATUS"
moat_check "the monitor logs the disconnect by administrator" \
    moat_wait_log "$EVENTS" "disconnect: 127.0.0.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, .*: disconnected by administrator \(uid 0, moatctl\)"
moat_check "moatd logs who asked" \
    grep -q "control: uid 0 (pid [0-9]*): disconnect session $id: user \"$USER_NAME\" from 127.0.0.1 port" "$EVENTS"
moat_check "the session is no longer listed" moat_wait -m "an empty list" sh -c "[ \"\$('$MOATCTL' sessions -s '$CTL' | tail -n 1)\" = '0 sessions' ]"
ctl disconnect -s "$CTL" 9999 >"$T/disc2.out" 2>&1 && st=0 || st=$?
moat_check_eq "disconnect of an unknown id fails" 1 "$st"
moat_check_eq "saying so" "no session 9999" "$(cat "$T/disc2.out")"
ctl disconnect -s "$CTL" 0 >"$T/disc3.out" 2>&1 && st=0 || st=$?
moat_check_eq "an id that is not a session id is a usage error" 2 "$st"

# --- disconnect all ---
hold held2
hold held3
moat_wait -m "two sessions listed" sh -c "[ \"\$('$MOATCTL' sessions -s '$CTL' | grep -c ' $USER_NAME ')\" = 2 ]"
ctl disconnect -s "$CTL" all >"$T/all.out" 2>&1 && st=0 || st=$?
moat_check_eq "disconnect all succeeds" 0 "$st"
moat_check_eq "and counts" "disconnected 2 sessions" "$(cat "$T/all.out")"
moat_check "the first viewer is disconnected" moat_wait_exit held2 30
moat_check "the second viewer is disconnected" moat_wait_exit held3 30
moat_check "moatd logs disconnect all" \
    grep -q 'control: uid 0 (pid [0-9]*): disconnect all: 2 sessions' "$EVENTS"

# --- blacklist show and clear ---
ctl blacklist -s "$CTL" >"$T/bl0.out" 2>&1
moat_check_eq "an empty blacklist" "0 addresses, 0 users" "$(cat "$T/bl0.out")"
moat_check_fails "a wrong password fails" login wrong-1 bad1
moat_check_fails "a second wrong password fails" login wrong-2 bad2
moat_wait_log "$EVENTS" 'blacklist: 127.0.0.1 refused for 600 seconds'
ctl blacklist show -s "$CTL" >"$T/bl1.out" 2>&1 && st=0 || st=$?
moat_check_eq "blacklist show succeeds" 0 "$st"
moat_check "it lists the address with its count and end of block" \
    grep -Eq "^address +127\.0\.0\.1 +2 +$(date +%Y-%m-%d) [0-9:]{8}\$" "$T/bl1.out"
moat_check "and the user" \
    grep -Eq "^user +$USER_NAME +2 +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}\$" "$T/bl1.out"
moat_check "and counts" grep -qx '1 address, 1 user' "$T/bl1.out"
moat_check_fails "the right password is refused while blocked" login "$USER_PASS" blocked
ctl blacklist clear 127.0.0.1 -s "$CTL" >"$T/clr1.out" 2>&1 && st=0 || st=$?
moat_check_eq "clear 127.0.0.1 succeeds" 0 "$st"
moat_check_eq "and says so" "cleared 127.0.0.1" "$(cat "$T/clr1.out")"
moat_check_fails "the user is still blocked" login "$USER_PASS" userblocked
moat_check "by the user half of the blacklist" \
    grep -q "authentication refused for user \"$USER_NAME\" from 127.0.0.1 port [0-9]*: too many authentication failures" "$EVENTS"
ctl blacklist clear "$USER_NAME" -s "$CTL" >"$T/clr2.out" 2>&1 && st=0 || st=$?
moat_check_eq "clear $USER_NAME succeeds" 0 "$st"
moat_check "the login goes through again" login "$USER_PASS" cleared
ctl blacklist clear 192.0.2.7 -s "$CTL" >"$T/clr3.out" 2>&1 && st=0 || st=$?
moat_check_eq "clearing a key that is not there fails" 1 "$st"
moat_check_eq "saying so" "192.0.2.7 is not in the blacklist" "$(cat "$T/clr3.out")"
moat_check_fails "a wrong password fails" login wrong-3 bad3
moat_check_fails "another wrong password fails" login wrong-4 bad4
moat_wait -m "blocked again" sh -c "'$MOATCTL' blacklist -s '$CTL' | grep -q '^address  *127.0.0.1  *2 '"
ctl blacklist clear -s "$CTL" >"$T/clr4.out" 2>&1 && st=0 || st=$?
moat_check_eq "clear everything succeeds" 0 "$st"
moat_check_eq "and counts" "cleared the blacklist (1 address, 1 user)" "$(cat "$T/clr4.out")"
moat_check "the login goes through" login "$USER_PASS" cleared2
moat_check "each blacklist request is logged" \
    grep -q "control: uid 0 (pid [0-9]*): blacklist clear \"127.0.0.1\": cleared" "$EVENTS"

# --- check: reports, changes nothing ---
reloads_before=$(grep -c 'configuration \(not \)\?reloaded' "$EVENTS" || true)
moat_write_config "$POLICY/50-bad.conf" "# locked" "Encryption=Strong"
ctl check -s "$CTL" >"$T/check1.out" 2>&1 && st=0 || st=$?
moat_check_eq "check of a broken policy file fails" 1 "$st"
moat_check "naming the file and the line" \
    grep -q "^$POLICY/50-bad.conf:2: Encryption: invalid value 'Strong'" "$T/check1.out"
moat_check "moatd logs the check" \
    grep -q "control: uid 0 (pid [0-9]*): check: $POLICY/50-bad.conf:2: Encryption" "$EVENTS"
moat_write_config "$POLICY/50-bad.conf" "MaxCutText=1000"
ctl check -s "$CTL" >"$T/check2.out" 2>&1 && st=0 || st=$?
moat_check_eq "check of a valid change succeeds" 0 "$st"
moat_check "and shows the value on disk with its origin" \
    grep -q "^MaxCutText=1000  # from $POLICY/50-bad.conf:1\$" "$T/check2.out"
moat_check "every value" grep -q "^ControlSocket=  # default\$" "$T/check2.out"
moat_check_eq "nothing was reloaded" "$reloads_before" \
    "$(grep -c 'configuration \(not \)\?reloaded' "$EVENTS" || true)"
moat_check "the viewer still logs in" login "$USER_PASS" aftercheck
rm -f "$POLICY/50-bad.conf"

# --- callers that are not root ---
UCTL=$(moat_user_bin moatctl)
moat_as "$USER_NAME" "$UCTL" sessions -s "$CTL" >"$T/user.out" 2>&1 && st=0 || st=$?
moat_check_eq "an unprivileged caller fails" 1 "$st"
moat_check "stopped by the socket's mode" \
    grep -q "permission denied on $CTL: moatd's control socket is root's; run moatctl as root" "$T/user.out"

# A second moatd whose socket is open to everyone (test-build hook): the
# peer-credential check alone must refuse.
PORT2=$(moat_free_port)
moat_write_config "$T/etc2/moatd.conf" ListenAddress=127.0.0.1 "ListenPort=$PORT2" \
    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" "EmptyRoot=$T/empty" \
    "SessionSocket=$T/run2/session.sock" "LogFile=$T/events2.log" \
    "AuditFile=$T/audit2/audit.jsonl"
moat_bg moatd2 env MOAT_TEST_CONTROL_SOCKET_OPEN=1 "$(moat_bin moatd)" -d -f "$T/etc2/moatd.conf"
moat_wait_port "$PORT2"
moat_check_eq "the test hook left the second socket open" 666 "$(stat -c %a "$T/run2/control.sock")"
moat_as "$USER_NAME" "$UCTL" sessions -s "$T/run2/control.sock" >"$T/user2.out" 2>&1 && st=0 || st=$?
moat_check_eq "an unprivileged caller that reaches the socket fails" 1 "$st"
moat_check_eq "refused by moatd" "permission denied: only root may use moatd's control socket" \
    "$(cat "$T/user2.out")"
moat_check "moatd logs the refusal with the caller's uid" \
    grep -q "control: refused a connection from uid $(id -u "$USER_NAME") (pid [0-9]*): only root may use the control socket" "$T/events2.log"
moat_check "root is served on the same socket" \
    sh -c "'$MOATCTL' sessions -s '$T/run2/control.sock' | grep -qx '0 sessions'"
moat_stop moatd2
moat_check "moatd removes its socket when it exits" test ! -e "$T/run2/control.sock"
ctl sessions -s "$T/run2/control.sock" >"$T/down.out" 2>&1 && st=0 || st=$?
moat_check_eq "moatctl fails when moatd is not running" 1 "$st"
moat_check "saying so" grep -q "moatctl: moatd is not running (nothing answers on its control socket $T/run2/control.sock)" "$T/down.out"

moat_check "every request was logged with uid 0" \
    test "$(grep -c 'control: uid 0 (pid [0-9]*): ' "$EVENTS")" -ge 15

# The audit records (docs/audit.md; AuditFile's default, private to the test).
AUDIT=/var/log/moat/audit.jsonl
moat_check "audit: moatctl disconnect, its target and the administrator" \
    grep -Eq '"event":"moatctl",.*"command":"disconnect","admin_uid":0,"admin_pid":[0-9]+,"target_session":[1-9][0-9]*,"result":"ok"' "$AUDIT"
moat_check "audit: the session's disconnect says admin" \
    grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"admin","reason":"disconnected by administrator \(uid 0' "$AUDIT"
moat_check "audit: blacklist clear of the address" \
    grep -Eq '"event":"blacklist",.*"action":"cleared","key_kind":"address","key":"127.0.0.1","admin_uid":0' "$AUDIT"
moat_check "audit: the refused caller, in the second moatd's file" \
    grep -Eq '"event":"moatctl",.*"command":"denied","admin_uid":'"$(id -u "$USER_NAME")" "$T/audit2/audit.jsonl"
moat_check "audit: a failed check" \
    grep -Eq '"event":"moatctl",.*"command":"check",.*"result":"failed"' "$AUDIT"
moat_audit_verify --live
moat_audit_verify "$T/audit2/audit.jsonl"
moat_test_end
