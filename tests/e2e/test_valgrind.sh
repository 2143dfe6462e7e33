#!/bin/bash
# One real login under valgrind's memcheck: moatd (listener and the monitor it
# forks per connection) and moat-session run under valgrind, TigerVNC's viewer
# logs in, the served pattern arrives, a key typed into the viewer reaches an
# X client on the served desktop, text copied there reaches the viewer's
# clipboard, and a wrong password is refused. Then everything stops, and
# every valgrind log must end with "ERROR SUMMARY: 0 errors" (invalid reads
# and writes, uninitialised values, bad frees, and definite leaks, which
# --errors-for-leak-kinds=definite makes errors).
#
# moat-net is not under valgrind: valgrind cannot run under moat-net's
# seccomp filter, and --trace-children=no lets the monitor's exec of moat-net
# leave valgrind, so moat-net runs natively in its sandbox. A forked monitor
# stays under valgrind (valgrind follows fork) and writes its own log (%p).
# The test checks both: moat-net's executable is moat-net, its parent's is
# valgrind's memcheck.
#
# Runs as root under ctest (MOAT_BUILD_DIR set); needs valgrind.
# shellcheck disable=SC1091,SC2034 # MOAT_* settings are read by lib.sh, server.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

command -v valgrind >/dev/null || moat_fail "valgrind is not installed (tools/deps.sh)"

# Everything is 10-50 times slower under valgrind; the leak check at exit
# takes seconds.
MOAT_WAIT_TIMEOUT=120
MOAT_STOP_TIMEOUT=120

VG=$T/valgrind
install -d -m 1777 "$VG"
supp=$T/valgrind.supp
install -m 0644 "$MOAT_SOURCE_DIR/tools/valgrind.supp" "$supp"
vg()	# LOG-PREFIX
{
	printf '%s\n' valgrind --tool=memcheck --error-exitcode=99 \
	    --leak-check=full --errors-for-leak-kinds=definite \
	    --show-leak-kinds=definite --trace-children=no \
	    --child-silent-after-fork=no "--suppressions=$supp" \
	    --num-callers=30 "--log-file=$VG/$1.%p.log"
}
mapfile -t MOAT_MOATD_WRAPPER < <(vg moatd)
mapfile -t MOAT_SESSION_WRAPPER < <(vg session)

moat_server_start
moat_start_xvfb VIEWER 1024x768

viewer()	# NAME PASSWORD
{
	moat_bg "$1" --x "$VIEWER" HOME="$T" VNC_USERNAME="$USER_NAME" \
	    VNC_PASSWORD="$2" xtigervncviewer -SecurityTypes X509Plain \
	    -X509CA "$CA" -X509CRL= -ReconnectOnError=0 -AlertOnFatalError=0 \
	    -Log '*:stderr:100' "127.0.0.1::$PORT"
}

# --- login and the served pattern ---
viewer good "$USER_PASS"
moat_wait_log good "Authentication success"
pattern_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer.png" &&
	    [ "$(moat_count_colour "$T/viewer.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}
moat_check "the viewer shows the served pattern (exact pixel count)" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer

# --- who runs under valgrind ---
net=$(moat_net_pids | head -1)
[[ -n "$net" ]] || moat_fail "no moat-net process while a viewer is connected"
moat_check_eq "moat-net runs natively (its executable is moat-net)" \
    "$(readlink -f "$(moat_bin moat-net)")" "$(readlink "/proc/$net/exe")"
mon=$(awk '/^PPid:/ { print $2 }' "/proc/$net/status")
moat_check "its monitor, forked by moatd, runs under valgrind's memcheck" \
    sh -c "readlink /proc/$mon/exe | grep -q memcheck"
moat_check "the monitor writes its own valgrind log" test -s "$VG/moatd.$mon.log"

# --- keyboard and clipboard ---
moat_check_tigervnc_input "$VIEWER"
moat_stop good typer

# --- wrong password: refused ---
viewer bad 'not the password'
moat_wait_exit bad 60 || true
moat_check "the wrong password is refused" \
    grep -q "Authentication failed" "$(moat_logfile bad)"

# --- stop everything; valgrind's verdicts ---
# The monitors are the listener's children (valgrind runs in the process).
moat_wait -m "every monitor exited" sh -c "! pgrep -P $(moat_pid moatd) >/dev/null"
moat_stop session
moat_check_eq "moat-session exited by itself on SIGTERM, not with valgrind's error status" \
    0 "$MOAT_LAST_STATUS"
moat_stop moatd
moat_check_eq "moatd exited by itself on SIGTERM, not with valgrind's error status" \
    0 "$MOAT_LAST_STATUS"

# Every process valgrind started writes a log named after its pid: the
# listener, each monitor, each monitor's child that execs moat-net (its log
# stops at the exec: from there on it is moat-net, running natively), and
# moat-session.
nets=$(grep -oE 'moat-net\[[0-9]+\]' "$EVENTS" | grep -oE '[0-9]+' | sort -u)
logs=("$VG"/*.log)
moat_check "valgrind wrote a log for the listener, 2 monitors, 2 moat-net execs and the session" \
    test "${#logs[@]}" -ge 6
left=0
for log in "${logs[@]}"; do
	name=$(basename "$log")
	pid=${name%.log}
	pid=${pid##*.}
	if ! grep -q 'ERROR SUMMARY:' "$log"; then
		# Only the exec of moat-net may end a log early.
		if grep -qx "$pid" <<<"$nets"; then
			left=$((left + 1))
		else
			sed 's/^/    | /' "$log" >&2
			moat_check "$name: valgrind finished (ERROR SUMMARY present)" false
		fi
		continue
	fi
	if grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
		moat_check "$name: no valgrind error, no definite leak" true
	else
		sed 's/^/    | /' "$log" >&2
		moat_check "$name: no valgrind error, no definite leak" false
	fi
done
moat_check_eq "every moat-net left valgrind at its exec (--trace-children=no)" \
    "$(wc -w <<<"$nets")" "$left"

# --- the audit records (docs/audit.md), written by moatd under memcheck ---
moat_check "audit: the login, closed by the viewer" sh -c \
    "grep -Eq '\"event\":\"login\",.*\"user\":\"$USER_NAME\",\"result\":\"success\",\"permissions\":\"vkpcs\",.*\"security_type\":\"VeNCrypt X509Plain\"' '$MOAT_AUDIT' &&
    grep -Eq '\"event\":\"disconnect\",.*\"user\":\"$USER_NAME\",\"kind\":\"viewer\",' '$MOAT_AUDIT'"
moat_check "audit: the wrong password's SystemAuth failure" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check "audit: moatd's stop closed the file" \
    grep -q '"event":"audit_stop",.*"reason":"moatd stopped"' "$MOAT_AUDIT"
moat_audit_verify

moat_test_end
