#!/bin/bash
# Stopping moatd (SIGTERM to its main process) drains its connections
# (monitor/listener.c, SECURITY.md "Stopping moatd"):
#  - with a logged-in viewer and a viewer that has not logged in yet, moatd
#    logs how many connections it ends, exits with status 0, both viewers
#    see their connection close, and each connection's disconnect record is
#    in the audit file, written by its monitor (kind shutdown, reason
#    "moatd shutting down"), before the final audit_stop; the file verifies
#    and no monitor or moat-net process is left;
#  - with the monitor of a logged-in viewer stopped (SIGSTOP): while moatd
#    waits for it, new viewers, desktop sessions and moatctl are refused at
#    once; after the bound (5 s) moatd kills the monitor, writes the
#    disconnect record itself (recorded_by listener, naming the shutdown)
#    and exits 0; the viewer's connection closes and nothing is left;
#  - the same with a second SIGTERM during the wait: moatd kills the
#    monitor at once, and its record says so;
#  - SIGTERM to moatd's whole process group (as systemd stops a service by
#    default): monitors and moat-net ignore it, so the monitor still
#    records the shutdown.
# Waits on conditions only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
MOATCTL=$(moat_bin moatctl)
CTL=$T/run/control.sock

# audit FILTER...: the records of the last moatd's run (from the last
# audit_start on: session ids start again at 1 in each) in $MOAT_AUDIT that
# match every FILTER (key=value exact, key~regex), one JSON object a line,
# with their line number first.
cat >"$T/aq.py" <<'EOF'
import json, re, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
first = max(i for i, r in enumerate(recs) if r["event"] == "audit_start")
for n, r in enumerate(recs[first:], first + 1):
    ok = True
    for c in sys.argv[2:]:
        k, op, v = re.match(r"^([a-z_0-9]+)([=~])(.*)$", c, re.S).groups()
        if k not in r:
            ok = False
        elif op == "=":
            ok = ok and str(r[k]) == v
        else:
            ok = ok and re.search(v, str(r[k])) is not None
    if ok:
        print(n, json.dumps(r, ensure_ascii=False))
EOF
audit() { python3 "$T/aq.py" "$MOAT_AUDIT" "$@"; }
acount() { audit "$@" | wc -l; }
has() { (( $(acount "$@") >= 1 )); }
# line FILTER...: the line number of the last record that matches.
line() { audit "$@" | tail -n 1 | cut -d' ' -f1; }

# hold NAME SCENARIO: a viewer that stays until moatd closes its connection.
hold()
{
	moat_bg "$1" python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" \
	    --port "$PORT" --ca "$CA" --user "$USER_NAME" \
	    --password "$USER_PASS" --scenario "$2"
	moat_wait_log "$1" '^holding'
}
# session_id: the id moatctl lists for the one logged-in viewer.
session_id()
{
	"$MOATCTL" sessions -s "$CTL" | awk -v u="$USER_NAME" '$2 == u { print $1 }'
}
# monitors MOATD: the pids of the monitors of moatd process MOATD.
monitors()
{
	pgrep -P "$(moat_pid "$1")" -x moatd || true
}
# live NAME: the live (not zombie) processes called NAME, one a line.
live()
{
	ps -eo stat=,pid=,comm= | awk -v n="$1" '$3 == n && $1 !~ /^Z/ { print $2 }'
}
nothing_left()
{
	[ -z "$(live moat-net)" ] && [ -z "$(live moatd)" ]
}
# refused_now: a TCP connect to PORT is refused.
refused_now()
{
	python3 -c '
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$PORT"
}
# session_refused: moat-session's registration socket takes no connection.
session_refused()
{
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
try:
    s.connect(sys.argv[1])
except (ConnectionRefusedError, FileNotFoundError):
    sys.exit(0)
sys.exit(1)' "$T/run/session.sock"
}

# --- a logged-in viewer and one before its login: their monitors record ---
hold held hold-session
S=$(session_id)
[ -n "$S" ] || moat_fail "the session is not listed"
hold pre hold-preauth
P=$(audit event=connect | tail -n 1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(" ", 1)[1])["session"])')
[ "$P" != "$S" ] || moat_fail "no connect record for the viewer before its login"
moat_check_eq "two monitors run" 2 "$(monitors moatd | wc -l)"
kill -TERM "$(moat_pid moatd)"
moat_check "moatd exits" moat_wait_exit moatd 20
moat_check_eq "with status 0" 0 "$MOAT_LAST_STATUS"
moat_check "it logged how many connections it ended" \
    grep -q 'received signal 15; stopping: ending 2 connections' "$EVENTS"
moat_check "the logged-in viewer saw its connection close" moat_wait_exit held 10
moat_check "so did the viewer before its login" moat_wait_exit pre 10
moat_check_eq "one disconnect record for the logged-in session" 1 \
    "$(acount event=disconnect "session=$S")"
moat_check "written by its monitor: kind shutdown, reason moatd shutting down" \
    has event=disconnect "session=$S" "user=$USER_NAME" kind=shutdown \
    'reason=moatd shutting down' recorded_by=monitor
moat_check_eq "one disconnect record for the connection before its login" 1 \
    "$(acount event=disconnect "session=$P")"
moat_check "written by its monitor too" has event=disconnect "session=$P" user= \
    kind=shutdown 'reason=moatd shutting down' recorded_by=monitor
moat_check "both before moatd's audit_stop record" test \
    "$(line event=audit_stop)" -gt "$(line event=disconnect "session=$S")" -a \
    "$(line event=audit_stop)" -gt "$(line event=disconnect "session=$P")"
moat_check "the monitor logged the shutdown" grep -Eq \
    "disconnect: 127\.0\.0\.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, .*: moatd shutting down" "$EVENTS"
moat_check "no monitor or moat-net is left" moat_wait -t 10 nothing_left
moat_audit_verify

# --- a monitor that does not answer: killed after the bound ---
moat_stop session
moat_server_restart moatd2 SystemAuth
hold held2 hold-session
S2=$(session_id)
mon=$(monitors moatd2)
[ -n "$mon" ] || moat_fail "no monitor"
kill -STOP "$mon"
kill -TERM "$(moat_pid moatd2)"
moat_wait_log "$EVENTS" 'received signal 15; stopping: ending 1 connection '
moat_check "meanwhile a new viewer is refused at once" refused_now
moat_check "a desktop session cannot register" session_refused
moat_check_fails "moatctl finds no moatd" "$MOATCTL" sessions -s "$CTL"
moat_check "moatd exits" moat_wait_exit moatd2 20
moat_check_eq "with status 0" 0 "$MOAT_LAST_STATUS"
moat_check "it logged the kill after the bound" \
    grep -q 'warning: 1 monitor still running after 5000 ms; killing it' "$EVENTS"
moat_check "the viewer saw its connection close" moat_wait_exit held2 10
moat_check_eq "one disconnect record for the session" 1 \
    "$(acount event=disconnect "session=$S2")"
moat_check "written by the listener, naming the shutdown and the bound" \
    has event=disconnect "session=$S2" "user=$USER_NAME" recorded_by=listener \
    'reason~^monitor killed by signal 9 \(Killed\): moatd shutting down \(signal 15\), the monitor had not ended its connection within 5000 ms$'
moat_check "before moatd's audit_stop record" test \
    "$(line event=audit_stop)" -gt "$(line event=disconnect "session=$S2")"
moat_check "no monitor or moat-net is left" moat_wait -t 10 nothing_left
moat_audit_verify

# --- a second SIGTERM ends the wait ---
moat_stop moatd2-session
moat_server_restart moatd3 SystemAuth
hold held3 hold-session
S3=$(session_id)
mon=$(monitors moatd3)
[ -n "$mon" ] || moat_fail "no monitor"
kill -STOP "$mon"
kill -TERM "$(moat_pid moatd3)"
moat_wait_log "$EVENTS" 'received signal 15; stopping: ending 1 connection '
kill -TERM "$(moat_pid moatd3)"
moat_check "moatd exits" moat_wait_exit moatd3 20
moat_check_eq "with status 0" 0 "$MOAT_LAST_STATUS"
moat_check "it logged the second signal" \
    grep -q 'received signal 15 again; ending the remaining connections now' "$EVENTS"
moat_check "and killed the monitor then" \
    grep -q 'warning: 1 monitor still running at the second signal; killing it' "$EVENTS"
moat_check "the viewer saw its connection close" moat_wait_exit held3 10
moat_check "the listener's disconnect record says so" \
    has event=disconnect "session=$S3" recorded_by=listener \
    'reason~^monitor killed by signal 9 \(Killed\): moatd shutting down \(signal 15\), the monitor had not ended its connection at the second signal$'
moat_check_eq "and is the only one" 1 "$(acount event=disconnect "session=$S3")"
moat_check "no monitor or moat-net is left" moat_wait -t 10 nothing_left
moat_audit_verify

# --- SIGTERM to moatd's whole process group (systemd's default, Ctrl-C) ---
moat_stop moatd3-session
moat_server_restart moatd4 SystemAuth
hold held4 hold-session
S4=$(session_id)
moat_stop moatd4
moat_check_eq "moatd exits with status 0" 0 "$MOAT_LAST_STATUS"
moat_check "the monitor, which ignores the group's signal, still records the shutdown" \
    has event=disconnect "session=$S4" "user=$USER_NAME" kind=shutdown \
    'reason=moatd shutting down' recorded_by=monitor
moat_check_eq "one disconnect record" 1 "$(acount event=disconnect "session=$S4")"
moat_check "the viewer saw its connection close" moat_wait_exit held4 10
moat_check "no monitor or moat-net is left" moat_wait -t 10 nothing_left
moat_audit_verify
moat_test_end
