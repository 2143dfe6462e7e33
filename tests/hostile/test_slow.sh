#!/bin/bash
# Slow and stuck viewers cannot hold the server.
#  - Viewers that stall (connect and send nothing; stop after the version,
#    the security types, the TLS handshake or half the credentials) or drip
#    one byte every 0.2 s (before TLS, through the ClientHello, through the
#    credentials) are ended by the monitor when LoginGraceTime (3 s here)
#    is over, not much earlier; each is logged "login grace time exceeded"
#    and the SIGKILL the monitor sends is the only signal anything dies of.
#    A logged-in viewer dripping its messages is not bound by that time.
#  - A logged-in viewer that asks for full updates and never reads: its
#    moat-net waits on the full socket (in poll(2), net/net_io.c), while the
#    established session keeps being served and new viewers log in; killing
#    that viewer ends its moat-net, which exits without a signal. (Within
#    the 30 s stall limit, after which moat-net would end it itself:
#    tests/e2e/test_flow_control.sh.)
# shellcheck disable=SC2119 # hostile_start/hostile_finish take optional arguments
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
moat_test_begin "$@"
# shellcheck source=tests/hostile/hostile.sh
. "$(dirname "$0")/hostile.sh"

GRACE=3
hostile_start "LoginGraceTime=$GRACE"
hostile_suite warmup
hostile_mem_begin

# --- stalled and slow-drip viewers, all at once ---
hostile_suite slow --grace "$GRACE"
grace_kills=$(grep -c 'disconnect: .*: login grace time exceeded$' "$EVENTS" || true)
moat_check_eq "exactly the stalled and dripping viewers were ended for the grace time" \
    "$(hostile_py list slow | grep -c '^grace: ')" "$grace_kills"
moat_check_eq "every signal was the monitor's SIGKILL at the grace time" "" \
    "$(grep 'killed by signal' "$EVENTS" | grep -v 'killed by signal 9 (Killed)$' || true)"

# --- a logged-in viewer that never reads ---
moat_bg flood python3 "$HOSTILE_PY" --port "$PORT" --ca "$CA" \
    --user "$USER_NAME" --password "$USER_PASS" flood
moat_wait_log flood '^flooding port='
flood_port=$(sed -n 's/^flooding port=//p' "$(moat_logfile flood)")
flood_net=$(hostile_py netpid "$flood_port") || moat_fail "no moat-net serves port $flood_port"
moat_check "the never-reading viewer's moat-net ($flood_net) blocks sending to it" \
    moat_wait -t 30 hostile_py blocked "$flood_port"
hostile_py blocked "$flood_port" || true
n=$(hostile_keeper_count)
moat_check "meanwhile the established session is served (after check $n)" \
    moat_wait -t 15 hostile_keeper_past $((n + 3))
moat_check "meanwhile a new viewer logs in and gets the whole screen" \
    timeout 30 python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS"
moat_check "meanwhile a hostile viewer is still refused" \
    hostile_py suite handshake --only '^security type 0 '
moat_check "the never-reading viewer's moat-net is still blocked (the check above meant something)" \
    hostile_py blocked "$flood_port"
moat_stop flood
moat_check "killing that viewer ends its moat-net" \
    moat_wait -t 15 -m "moat-net $flood_net to exit" eval "! moat_pid_alive $flood_net"
moat_check "its monitor logged the disconnect" \
    moat_wait_log "$EVENTS" "disconnect: 127\\.0\\.0\\.1 port $flood_port user \"$USER_NAME\" .*: viewer disconnected"
moat_check_eq "that moat-net exited without a signal or an error status" "" \
    "$(grep -E "for 127\\.0\\.0\\.1 port $flood_port (was killed|exited)" "$EVENTS" || true)"

hostile_finish "$grace_kills"
moat_test_end
