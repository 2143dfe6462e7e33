#!/bin/bash
# Sessions (docs/permissions.md, "Idle timeout" and "Sharing"):
#  - IdleTimeout=2: a viewer that sends no input is disconnected, logged
#    "idle timeout", while a viewer sending pointer events, connected since
#    before it, stays through two such timeouts;
#  - AlwaysShared=yes (the default): a viewer asking for exclusive access
#    joins, and the others stay;
#  - NeverShared=yes with DisconnectClients=no: while TigerVNC shows the
#    desktop, a second viewer is refused before it sees anything, logged,
#    and TigerVNC stays;
#  - AlwaysShared=no with DisconnectClients=yes: a viewer asking for
#    exclusive access disconnects TigerVNC (shared), logged with who took it.
# Waits on conditions only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start IdleTimeout=2
moat_start_xvfb VIEWER 1024x768

probe_bg()	# NAME SCENARIO [extra]
{
	local name=$1 sc=$2
	shift 2
	moat_bg "$name" python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" \
	    --port "$PORT" --ca "$CA" --user "$USER_NAME" \
	    --password "$USER_PASS" --scenario "$sc" "$@"
}

idle_count()
{
	grep -Ec "disconnect: 127\.0\.0\.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, .*: idle timeout - no input from the viewer" "$EVENTS" || true
}

idle_at_least()	# N
{
	[ "$(idle_count)" -ge "$1" ]
}

pattern_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer.png" &&
	    [ "$(moat_count_colour "$T/viewer.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}

# --- IdleTimeout: idle viewers go, an active one stays ---
probe_bg active hold-active
moat_wait_log active holding
for i in 1 2; do
	probe_bg "idle$i" hold-session
	moat_wait_log "idle$i" holding
	moat_check "idle viewer $i is disconnected" moat_wait_exit "idle$i" 30
	moat_check "idle viewer $i saw the server close" \
	    grep -qx closed "$(moat_logfile "idle$i")"
	moat_check "idle timeout $i logged" moat_wait idle_at_least "$i"
	moat_check_eq "idle timeouts logged after viewer $i" "$i" "$(idle_count)"
	moat_check "the active viewer (connected before viewer $i) stays" \
	    moat_alive active
done
moat_check "an idle disconnect took at least IdleTimeout" \
    grep -Eq "user \"$USER_NAME\" after [2-9]s, .*: idle timeout" "$EVENTS"

# --- AlwaysShared=yes (default): an exclusive request joins ---
probe_bg excl hold-session --exclusive
moat_wait_log excl holding
moat_check "AlwaysShared: the exclusive request is treated as shared and joins" \
    grep -Eq "viewer 127\.0\.0\.1 port [0-9]+ asks for shared access with 1 other viewer of the desktop of uid [0-9]+: it joins" "$EVENTS"
moat_check "AlwaysShared: the other viewer stays" moat_alive active
moat_check "AlwaysShared: the joined viewer is disconnected only when idle" \
    moat_wait_exit excl 30
moat_check "the third idle timeout is logged" moat_wait idle_at_least 3
moat_check_eq "idle timeouts logged" 3 "$(idle_count)"
moat_stop active
moat_check "the active viewer's disconnect is its own" \
    moat_wait_log "$EVENTS" "user \"$USER_NAME\" after [0-9]+s, .*: viewer disconnected"

# --- NeverShared=yes, DisconnectClients=no: the second viewer is refused ---
moat_stop moatd session
printf '%s\n' IdleTimeout=0 NeverShared=yes DisconnectClients=no >> "$CONF"
sed -i '/^IdleTimeout=2$/d' "$CONF"
moat_server_restart refuse SystemAuth
moat_tiger first
moat_check "NeverShared: TigerVNC shows the desktop" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer
set +e
MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS timeout 60 \
    "$(moat_bin moat-viewer)" --headless --ca "$CA" --known-hosts "$T/kh" \
    --png "$T/second.png" "127.0.0.1:$PORT" 2>"$T/second.err"
st=$?
set -e
moat_check_eq "NeverShared: the second viewer (moat-viewer) does not get in" 1 "$st"
moat_check_fails "NeverShared: the second viewer saw no desktop" \
    test -e "$T/second.png"
moat_check "NeverShared: the refusal is logged by the listener" \
    grep -Eq "viewer 127\.0\.0\.1 port [0-9]+ asks for exclusive access with 1 other viewer of the desktop of uid [0-9]+: it is refused" "$EVENTS"
moat_check "NeverShared: the monitor logs why the connection ended" \
    moat_wait_log "$EVENTS" "disconnect: 127\.0\.0\.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, .*: refused by sharing policy - The desktop is in use by another viewer"
moat_check "NeverShared: TigerVNC is still connected" moat_alive first
moat_check "NeverShared: and still shows the desktop" pattern_in_viewer
moat_stop first

# --- AlwaysShared=no, DisconnectClients=yes: exclusive access takes over ---
moat_stop refuse refuse-session
sed -i -e '/^NeverShared=/d' -e '/^DisconnectClients=/d' "$CONF"
printf '%s\n' AlwaysShared=no DisconnectClients=yes >> "$CONF"
moat_server_restart takeover SystemAuth
moat_tiger shared -Shared=1
moat_check "DisconnectClients: TigerVNC (shared) shows the desktop" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer
moat_check "DisconnectClients: TigerVNC asked for a shared session" \
    grep -Eq "asks for shared access with 0 other viewers .*: it joins" "$EVENTS"
probe_bg taker hold-session --exclusive
moat_wait_log taker holding
moat_check "DisconnectClients: the exclusive viewer takes over (listener log)" \
    grep -Eq "asks for exclusive access with 1 other viewer .*: it takes exclusive access" "$EVENTS"
moat_check "DisconnectClients: TigerVNC is disconnected" moat_wait_exit shared 30
moat_check "DisconnectClients: its disconnect names who took exclusive access" \
    moat_wait_log "$EVENTS" "disconnect: 127\.0\.0\.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, .*: exclusive access taken by the viewer at 127\.0\.0\.1 port [0-9]+ \(DisconnectClients\)"
moat_check "DisconnectClients: the exclusive viewer stays" moat_alive taker
moat_stop taker

# The audit records (docs/audit.md; AuditFile's default, private to the test).
AUDIT=/var/log/moat/audit.jsonl
moat_check "audit: the idle disconnect" \
    grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"idle","reason":"idle timeout' "$AUDIT"
moat_check "audit: the refused exclusive request" \
    grep -Eq '"event":"sharing",.*"access":"exclusive","others":1,"verdict":"is refused"' "$AUDIT"
moat_check "audit: the take-over" \
    grep -Eq '"event":"sharing",.*"access":"exclusive","others":1,"verdict":"takes exclusive access"' "$AUDIT"
moat_check "audit: the viewer it disconnected" \
    grep -Eq '"event":"disconnect",.*"kind":"takeover","reason":"exclusive access taken by the viewer at 127.0.0.1 port [0-9]+ \(DisconnectClients\)"' "$AUDIT"
moat_audit_verify --live
moat_test_end
