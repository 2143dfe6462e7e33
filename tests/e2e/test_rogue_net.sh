#!/bin/bash
# moat-net cannot produce "authenticated" on its own. In a test build
# (-DMOAT_SELFTEST=ON, the suite's), a viewer logging in over X509Plain as
# "moat-selftest-HOOK" makes moat-net act as a compromised one towards its
# monitor (SECURITY.md, "Test-build hooks"), relaying the real account's
# credentials wherever it asks anything:
#  - answer-early:    an answer with no question open, then the password;
#  - double-auth:     the conversation, then a password while its question is open;
#  - replay-password: a wrong password, then the right one;
#  - retry-converse:  a wrong password, then the conversation, answered rightly;
#  - bad-answer:      while a question is open, a message whose header
#                     announces more than the IPC limit;
#  - fake-result:     the monitor's own verdict (MON_AUTH_RESULT, ok) sent to the monitor;
#  - fake-session:    the monitor's attach request (MON_ATTACH_SESSION) with the
#                     viewer's socket as descriptor, sent to the monitor;
#  - claim-success:   SecurityResult OK to the viewer without asking the
#                     monitor, then waiting for the channel a verdict would bring.
# For each (hostile.py, suite "rogue"): the viewer never gets a ServerInit
# (nothing at all, or only the rogue's own SecurityResult) and the connection
# closes; moatd's log shows that the hook ran, then the monitor's refusal
# ("unpermitted request ...", "... while a question was open", "bad IPC
# message ...", "malformed ...", or for claim-success the login grace time),
# then "moat-net[PID] for PEER was killed by signal 9 (Killed)" and nothing
# else ending it, and a disconnect naming no user; no "authentication
# succeeded" and no "granted permissions" line for that connection;
# moat-session opened no channel for it. Control logins before and after
# show those lines where a login is real. Around the suite: a session held
# for the whole test is still served by the same moat-net, moatd and
# moat-session run, a normal login works, every moat-net killed died of its
# monitor's SIGKILL, no monitor died, and moat-session opened exactly as
# many channels as the monitors granted. A build without the hooks fails.
# shellcheck disable=SC2119 # hostile_start takes optional arguments
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
# shellcheck source=tests/hostile/hostile.sh
. "$MOAT_SOURCE_DIR/tests/hostile/hostile.sh"

GRACE=5		# LoginGraceTime: ends the rogue that claims success

# True when moat-session logged one channel per grant in moatd's log.
channels_match()
{
	local granted opened
	granted=$(grep -c ': info: user .* granted permissions ' "$EVENTS" || true)
	opened=$(grep -Ec 'channel [0-9]+ opened for user ' "$SESSION_LOG" || true)
	echo "$granted granted, $opened channels opened"
	[ "$granted" -eq "$opened" ]
}

hostile_start "LoginGraceTime=$GRACE"
grep -q 'TEST BUILD' "$EVENTS" ||
    moat_fail "moatd is not a test build: the rogue moat-net hooks exist only with -DMOAT_SELFTEST=ON"
SESSION_LOG=$(moat_logfile session)
rogues=$(hostile_py list rogue | grep -vc '^control:')
moat_check_eq "the rogue suite has its eight misbehaviours" 8 "$rogues"

hostile_suite rogue --grace "$GRACE" --session-log "$SESSION_LOG"

n=$(hostile_keeper_count)
moat_check "the established session is still served (after check $n)" \
    moat_wait -t 20 hostile_keeper_past $((n + 2))
moat_check_eq "its connection is still served by the same moat-net" \
    "$KEEPER_NET" "$(hostile_py netpid "$KEEPER_PORT" || true)"
moat_check "moatd's listener still runs" moat_alive moatd
moat_check "moat-session still runs" moat_alive session
moat_check "the listener still accepts and a well-behaved login works" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_check_eq "moat-nets killed, all by their monitor's SIGKILL" \
    "$rogues killed, $rogues by SIGKILL" \
    "$(grep -c 'was killed by signal' "$EVENTS" || true) killed, $(grep -Ec \
    'moat-net\[[0-9]+\] for .* was killed by signal 9 \(Killed\)$' "$EVENTS" || true) by SIGKILL"
moat_check_fails "no monitor died of a signal" \
    grep -E 'monitor [0-9]+ killed by signal' "$EVENTS"
moat_check "moat-session opened exactly the channels the monitors granted" \
    moat_wait -m "as many channels as grants" channels_match

# The audit records (docs/audit.md): each rogue's connection ends with a
# disconnect naming no user, its bytes unknown (moat-net killed): of kind
# ipc (the monitor's refusal), or grace for the one that claimed success.
D='"event":"disconnect",.*"user":"","kind":'
B='"duration_ms":[0-9]+,"bytes_in":-1,"bytes_out":-1,"recorded_by":"monitor"'
moat_check_eq "audit: one disconnect per rogue, naming no user: ipc, or grace" "$rogues" \
    "$(grep -Ec "$D"'"(ipc","reason":"moat-net broke the IPC protocol|grace","reason":"login grace time exceeded)",'"$B" "$MOAT_AUDIT" || true)"
moat_check_eq "audit: the claim of success ended by the login grace time" 1 \
    "$(grep -Ec "$D"'"grace","reason":"login grace time exceeded",'"$B" "$MOAT_AUDIT" || true)"
moat_check_eq "audit: a login record for each grant, and no other" \
    "$(grep -c ': info: user .* granted permissions ' "$EVENTS")" \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT")"
moat_check_fails "audit: no rogue's disconnect names a user" \
    grep -Eq '"event":"disconnect",.*"user":"[^"]+","kind":"(ipc|grace|net_killed)"' "$MOAT_AUDIT"
moat_audit_verify --live
moat_test_end
