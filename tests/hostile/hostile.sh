# shellcheck shell=bash
# Functions and variables here are used by the tests that source the file:
# shellcheck disable=SC2034
#
# hostile.sh - shared set-up and checks of tests/hostile/test_*.sh: a live
# moat server (tests/e2e/server.sh), a viewer holding an established session
# for the whole test (the keeper), memory measurements of moatd's listener
# and moat-session, and the final "nothing was harmed" checks.
#
# Test code, run as root inside the private namespaces of tests/e2e/lib.sh
# (source lib.sh and call moat_test_begin first). It trusts the build and
# hostile.py; it trusts nothing the server prints beyond matching its log.

HOSTILE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOSTILE_PY=$HOSTILE_DIR/hostile.py
HOSTILE_RSS_SLACK=1024		# kB a process may grow over a whole suite
# shellcheck source=tests/e2e/server.sh
. "$MOAT_E2E_DIR/server.sh"

# Runs hostile.py against the server with the account's credentials.
hostile_py()
{
	python3 "$HOSTILE_PY" --port "$PORT" --ca "$CA" --events "$EVENTS" \
	    --user "$USER_NAME" --password "$USER_PASS" "$@"
}

# hostile_start [Key=Value ...]: starts the server (extra configuration
# lines as for moat_server_start), makes PAM answer failures at once, and
# starts the keeper: a logged-in viewer checking the served pattern every
# 0.3 s for the whole test. Sets KEEPER_PORT and KEEPER_NET (its moat-net).
hostile_start()
{
	moat_server_start "$@"
	# Cases fail logins on purpose; pam_unix would wait ~2 s after each.
	# PAM reads the service file at every pam_start, so this applies now.
	moat_pam_service moat "auth required pam_unix.so nodelay" \
	    "account required pam_unix.so"
	moat_bg keeper python3 "$HOSTILE_PY" --port "$PORT" --ca "$CA" \
	    --user "$USER_NAME" --password "$USER_PASS" keep
	moat_wait_log keeper '^roundtrip 1$'
	KEEPER_PORT=$(sed -n 's/^holding port=//p' "$(moat_logfile keeper)")
	KEEPER_NET=$(hostile_py netpid "$KEEPER_PORT") ||
	    moat_fail "no moat-net serves the keeper (port $KEEPER_PORT)"
	moat_log "keeper on port $KEEPER_PORT, served by moat-net $KEEPER_NET"
}

# Prints how many pattern checks the keeper has completed.
hostile_keeper_count()
{
	grep -c '^roundtrip' "$(moat_logfile keeper)" || true
}

# True once the keeper has completed more than N checks.
hostile_keeper_past()
{
	(($(hostile_keeper_count) > $1))
}

# hostile_suite NAME [ARGS...]: runs suite NAME of hostile.py; every case
# becomes one check of this test (its line, "ok" or why it failed).
hostile_suite()
{
	local name=$1 out="$T/suite-$1.out" err="$T/suite-$1.err" line rc=0
	shift
	moat_log "suite $name"
	hostile_py "$@" suite "$name" >"$out" 2>"$err" || rc=$?
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) moat_check_eq "${line#ok - }" ok ok ;;
		"FAIL - "*) moat_check_eq "${line#FAIL - }" ok failed ;;
		esac
	done <"$out"
	moat_check "suite $name ran every case (exit status $rc)" \
	    _hostile_ran "$name" "$out" "$err" "$rc"
}

_hostile_ran()
{
	local name=$1 out=$2 err=$3 rc=$4
	if ! grep -q "^# suite $name: " "$out" || ((rc > 1)); then
		tail -n 5 "$out"
		tail -n 15 "$err"
		return 1
	fi
	grep "^# suite $name: " "$out"
}

# Runs the "selfcheck" suite, whose cases hold deliberately wrong
# expectations: each must be reported as a failure, or the checks are blind.
# In test builds one of them has the sandbox kill a moat-net (SIGSYS): sets
# HOSTILE_SELFCHECK_KILLS to the number of processes the suite had killed.
hostile_selfcheck()
{
	local out="$T/suite-selfcheck.out" total before
	before=$(grep -c 'killed by signal' "$EVENTS" || true)
	hostile_py suite selfcheck >"$out" 2>&1 || true
	total=$(hostile_py list selfcheck | grep -c '')
	moat_check_eq "every deliberately wrong expectation is reported as a failure" \
	    "$total failed, 0 passed" \
	    "$(grep -c '^FAIL - ' "$out") failed, $(grep -c '^ok - ' "$out") passed"
	HOSTILE_SELFCHECK_KILLS=$(($(grep -c 'killed by signal' "$EVENTS" || true) - before))
	if grep -q 'TEST BUILD' "$EVENTS"; then
		moat_check "the crash check saw the sandbox kill a moat-net" \
		    grep -q '^FAIL - selfcheck: a moat-net killed by SIGSYS .*moat-net crashed: .*killed by signal 31' "$out"
	fi
}

# Prints the resident set size of PID in kB.
hostile_rss()
{
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# Records the memory of moatd's listener and of moat-session.
hostile_mem_begin()
{
	HOSTILE_RSS_MOATD=$(hostile_rss "$(moat_pid moatd)")
	HOSTILE_RSS_SESSION=$(hostile_rss "$(moat_pid session)")
	moat_log "VmRSS after the warm-up: moatd $HOSTILE_RSS_MOATD kB, moat-session $HOSTILE_RSS_SESSION kB"
}

# Checks that neither grew by more than HOSTILE_RSS_SLACK since hostile_mem_begin.
hostile_mem_end()
{
	local moatd session
	moatd=$(hostile_rss "$(moat_pid moatd)")
	session=$(hostile_rss "$(moat_pid session)")
	printf 'VmRSS of moatd (listener): %s kB after the warm-up, %s kB after the suite\n' \
	    "$HOSTILE_RSS_MOATD" "$moatd"
	printf 'VmRSS of moat-session: %s kB after the warm-up, %s kB after the suite\n' \
	    "$HOSTILE_RSS_SESSION" "$session"
	# Under AddressSanitizer (tools/assure.sh) freed memory sits in ASan's
	# quarantine, so RSS grows without a leak; there LeakSanitizer does the
	# leak checking and RSS is only printed.
	if [[ -n "${ASAN_OPTIONS:-}" ]]; then
		moat_log "sanitizer build: RSS is not compared (ASan quarantine)"
		return 0
	fi
	moat_check "moatd's memory stays flat ($HOSTILE_RSS_MOATD -> $moatd kB, slack $HOSTILE_RSS_SLACK kB)" \
	    test "$moatd" -le $((HOSTILE_RSS_MOATD + HOSTILE_RSS_SLACK))
	moat_check "moat-session's memory stays flat ($HOSTILE_RSS_SESSION -> $session kB, slack $HOSTILE_RSS_SLACK kB)" \
	    test "$session" -le $((HOSTILE_RSS_SESSION + HOSTILE_RSS_SLACK))
}

# hostile_finish: what must hold after any suite. The established session
# is intact and still served, every long-lived process runs, the listener
# accepts and a well-behaved viewer logs in, no process died of a signal
# (except moat-nets the monitor killed for the grace time, which the slow
# test checks itself: pass the number it expects), and memory is flat.
hostile_finish()
{
	local kills=${1:-0} n
	n=$(hostile_keeper_count)
	moat_check "the established session is still served (after check $n)" \
	    moat_wait -t 20 hostile_keeper_past $((n + 2))
	moat_check "the established viewer is still connected" moat_alive keeper
	moat_check_eq "its connection is still served by the same moat-net" \
	    "$KEEPER_NET" "$(hostile_py netpid "$KEEPER_PORT" || true)"
	moat_check "moatd's listener still runs" moat_alive moatd
	moat_check "moat-session still runs" moat_alive session
	moat_check "the listener still accepts and a well-behaved login works" \
	    moat_probe --user "$USER_NAME" --password "$USER_PASS"
	moat_check_eq "processes killed by a signal (moat-net or monitor)" "$kills" \
	    "$(grep -c 'killed by signal' "$EVENTS" || true)"
	hostile_mem_end
}
