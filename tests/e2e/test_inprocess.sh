#!/bin/bash
# moatd-inprocess (CMake MOAT_INPROCESS; bench/'s server moat_inproc), the
# benchmark-only moatd whose monitors run moat-net's code in a thread
# instead of an exec'd, sandboxed process (SECURITY.md, "The in-process
# benchmark build"), kept working:
#  - moatd and moat-net contain none of its code, and moatd knows nothing
#    of its flag; moatd-inprocess does (the positive control);
#  - without --insecure-inprocess it refuses to start; with it, it says at
#    error level that it is an insecure benchmark build;
#  - real logins through it, each ending with a PNG equal to the served
#    display: X509Plain checked by PAM (moat-net's requests are direct
#    calls into the monitor), moat's conversation (its questions go
#    through the monitor's thread) and RA2 (the identity key's
#    decryption); a wrong password is refused;
#  - while a viewer is connected no moat-net process exists but a thread
#    named moat-net in a moatd-inprocess monitor does, and moat-net's log
#    lines still reach the log tagged as moat-net's; moatctl disconnect
#    ends a session (the monitor closes its end of the channel);
#  - the login grace time still ends a viewer that never logs in, and in a
#    test build a moat-net that sends the monitor its own verdict is ended
#    ("unpermitted request") from inside the direct call;
#  - every monitor ends afterwards (nothing waits forever for its thread),
#    and the audit records of all of it are written and verify.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

INPROC=$(moat_bin moatd-inprocess)
AREA=$((MOAT_PATTERN_W * MOAT_PATTERN_H))
GRACE=6		# LoginGraceTime: logins here take well under it

# --- which binary holds the in-process code ---
inproc_symbols()
{
	nm --defined-only "$1" | awk '{print $3}' |
	    grep -E '^(ipc_inproc_|net_inproc_|mon_inproc_|moatd_main$)' || true
}
moat_check_eq "moatd contains no in-process code" "" \
    "$(inproc_symbols "$(moat_bin moatd)")"
moat_check_eq "moat-net contains no in-process code" "" \
    "$(inproc_symbols "$(moat_bin moat-net)")"
moat_check_fails "moatd has no --insecure-inprocess flag in it" \
    grep -aq -e --insecure-inprocess "$(moat_bin moatd)"
moat_check "control: moatd-inprocess holds the in-memory channel and the flag" \
    sh -c "nm --defined-only '$INPROC' | grep -q ' T ipc_inproc_send\$' &&
    grep -aq -e --insecure-inprocess '$INPROC'"

# --- the flag ---
set +e
out=$("$INPROC" -t -f "$T/no-such.conf" 2>&1)
st=$?
set -e
moat_check_eq "without --insecure-inprocess it refuses to start" 2 "$st"
moat_check "and says why" grep -q "refusing to start.*insecure benchmark build" \
    <<<"$out"

# server.sh starts "WRAPPER... moatd ARGS": the wrapper runs moatd-inprocess instead.
# shellcheck disable=SC2016,SC2034 # the inner shell expands; server.sh reads it
MOAT_MOATD_WRAPPER=(bash -c 'shift; exec "$0" --insecure-inprocess "$@"' "$INPROC")
moat_server_start "LoginGraceTime=$GRACE"
moat_check "it says at error level that it is an insecure benchmark build" \
    grep -q "error: INSECURE BENCHMARK BUILD (moatd-inprocess)" \
    "$(moat_logfile moatd)"
moat_screenshot "$SERVED" "$T/served.png"

# --- logins ---
for sec in x509plain conversation ra2; do
	moat_viewer_login "$sec" 0 "$USER_PASS" --security "$sec"
	moat_check_eq "$sec: the pattern is in the viewer's PNG" "$AREA" \
	    "$(moat_count_colour "$T/$sec.png" "$MOAT_PATTERN_FG" 2>/dev/null || echo none)"
	moat_check "$sec: the PNG equals the served display" \
	    moat_img diff "$T/$sec.png" "$T/served.png"
done
moat_viewer_login wrong 3 "not the password" --security x509plain
moat_check "the wrong password is refused with the monitor's reason" \
    grep -q "refused the login: Authentication failed" "$T/wrong.err"

# --- a viewer held connected: moat-net is a thread ---
moat_bg hold python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log hold '^holding' 60
moat_check_eq "no moat-net process while the viewer is connected" "" "$(moat_net_pids)"
net_threads()
{
	local t
	for t in /proc/[0-9]*/task/[0-9]*; do
		[[ "$(cat "$t/comm" 2>/dev/null)" == moat-net &&
		    "$(cat "${t%/task/*}/comm" 2>/dev/null)" == moatd-inprocess ]] &&
		    echo "$t"
	done
	return 0
}
moat_check "a moatd-inprocess monitor runs a thread named moat-net" \
    test -n "$(net_threads)"
moat_stop hold
# The monitor ends a session by itself (moatctl disconnect): moat-net's
# thread, serving the viewer, sees its channel close and ends.
moat_bg hold2 python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log hold2 '^holding' 60
moat_check "moatctl disconnect all ends the session" \
    "$(moat_bin moatctl)" disconnect -f "$CONF" all
moat_check "the viewer sees its connection close" moat_wait_exit hold2 30
moat_check "moat-net's log lines reach the log, tagged as moat-net's" \
    grep -Eq 'moat-net\[[0-9]+\] 127\.0\.0\.1 port [0-9]+: .*update: [0-9]+ rectangles' \
    "$EVENTS"

# --- the monitor ends its moat-net thread ---
moat_bg preauth python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-preauth
moat_wait_log preauth '^holding' 60
moat_check "the login grace time closes a viewer that does not log in" \
    moat_wait_exit preauth $((GRACE + 30))
moat_check_eq "the probe saw the server close" 0 "$MOAT_LAST_STATUS"
moat_check "the monitor logged the grace time" \
    grep -q "login grace time exceeded" "$EVENTS"
selftest=0
grep -q "TEST BUILD: self-test hooks enabled" "$EVENTS" && selftest=1
if ((selftest)); then
	# SECURITY.md, "Test-build hooks": moat-net sends MON_AUTH_RESULT.
	set +e
	MOAT_USER=moat-selftest-fake-result MOAT_PASSWORD="$USER_NAME:$USER_PASS" \
	    timeout 60 "$(moat_bin moat-viewer)" --headless --ca "$CA" \
	    --known-hosts "$T/kh" --security x509plain --png "$T/rogue.png" \
	    "127.0.0.1:$PORT" 2>"$T/rogue.err"
	st=$?
	set -e
	moat_check_fails "a rogue moat-net thread does not log the viewer in" \
	    test "$st" = 0
	moat_check "the monitor refused the rogue's request from inside the direct call" \
	    moat_wait -m "the refusal" grep -q \
	    "sent unpermitted request MON_AUTH_RESULT" "$EVENTS"
fi
# shellcheck disable=SC2016 # for the inner shell
moat_check "every monitor ended: only the listener is left" \
    moat_wait -m "one moatd-inprocess process" \
    sh -c 'test "$(pgrep -xc moatd-inprocess)" = 1'
moat_check_fails "every killed moat-net thread ended in time" \
    grep -q "did not end within" "$EVENTS"
moat_check_fails "no moat-net thread ended in a fatal error" \
    grep -Eq "moat-net\[[0-9]+\] for .* exited with status" "$EVENTS"

# --- the audit records (docs/audit.md) ---
for st in X509Plain X509Conversation; do
	moat_check "audit: the VeNCrypt $st login" \
	    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"[a-z]+",.*"security_type":"VeNCrypt '"$st"'"' \
	    "$MOAT_AUDIT"
done
moat_check "audit: the RA2 login" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success",.*"security_type":"RA2"' \
    "$MOAT_AUDIT"
moat_check "audit: the wrong password" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"failure"' "$MOAT_AUDIT"
moat_check "audit: the held viewer's disconnect, with moat-net's byte counts" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"viewer","reason":"viewer disconnected[^"]*","duration_ms":[1-9][0-9]*,"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' \
    "$MOAT_AUDIT"
moat_check "audit: the administrator's disconnect" \
    grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"admin","reason":"disconnected by administrator' \
    "$MOAT_AUDIT"
moat_check "audit: the grace time's disconnect" \
    grep -Eq '"event":"disconnect",.*"kind":"grace","reason":"login grace time exceeded"' \
    "$MOAT_AUDIT"
if ((selftest)); then
	moat_check "audit: the rogue's disconnect" \
	    grep -Eq '"event":"disconnect",.*"kind":"ipc","reason":"moat-net broke the IPC protocol"' \
	    "$MOAT_AUDIT"
fi
moat_audit_verify --live
moat_test_end
