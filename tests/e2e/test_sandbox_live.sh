#!/bin/bash
# A live moat-net, seen from outside: unprivileged ids in all four fields, no
# groups, no capabilities, no_new_privs, seccomp filter mode, the empty root,
# only the expected descriptors, not dumpable; the identity key's secrets are
# not in its memory (while they are in moatd's, the positive control); a
# forbidden system call (test-build trigger) kills it with SIGSYS, the monitor
# logs it, and the next connection works. The same holds for every thread:
# on two or more CPUs moat-net has an encoding thread (net/enc_pool.c), made
# before the sandbox, and it is checked like the main thread, including a
# forbidden system call made from it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
net_uid=$(id -u moat-net)
net_gid=$(id -g moat-net)

status_field() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$2/status"; }
ncpu=$(nproc)
want_threads=1
[ "$ncpu" -lt 2 ] || want_threads=2

check_thread()	# PID/task/TID PHASE
{
	local p=$1 phase=$2 f
	moat_check_eq "$phase: Uid (real, effective, saved, fs)" \
	    "$net_uid $net_uid $net_uid $net_uid" "$(status_field Uid "$p" | tr -s '\t ' ' ')"
	moat_check_eq "$phase: Gid (real, effective, saved, fs)" \
	    "$net_gid $net_gid $net_gid $net_gid" "$(status_field Gid "$p" | tr -s '\t ' ' ')"
	moat_check_eq "$phase: no supplementary groups" "" "$(status_field Groups "$p")"
	for f in CapInh CapPrm CapEff CapBnd CapAmb; do
		moat_check_eq "$phase: $f is empty" 0000000000000000 "$(status_field $f "$p")"
	done
	moat_check_eq "$phase: NoNewPrivs" 1 "$(status_field NoNewPrivs "$p")"
	moat_check_eq "$phase: Seccomp filter mode" 2 "$(status_field Seccomp "$p")"
	moat_check_eq "$phase: one seccomp filter" 1 "$(status_field Seccomp_filters "$p")"
	moat_check_eq "$phase: root is the empty directory" "$T/empty" "$(readlink "/proc/$p/root")"
}

check_process()	# PID PHASE EXPECTED-FDS
{
	local pid=$1 phase=$2 fds=$3 f t tid
	moat_check_eq "$phase: threads ($ncpu CPUs)" "$want_threads" \
	    "$(ls "/proc/$pid/task" | wc -l)"
	for tid in $(ls "/proc/$pid/task"); do
		check_thread "$pid/task/$tid" "$phase, thread $((tid == pid ? 0 : 1))"
		# The kernel keeps it per thread: the encoding thread makes
		# one, and the main thread joins it (sandbox_enter()).
		moat_check_fails "$phase, thread $((tid == pid ? 0 : 1)): not the host's network namespace" \
		    test "$(readlink "/proc/$pid/task/$tid/ns/net")" = "$(readlink /proc/1/ns/net)"
		moat_check_eq "$phase, thread $((tid == pid ? 0 : 1)): the process's one network namespace" \
		    "$(readlink "/proc/$pid/ns/net")" "$(readlink "/proc/$pid/task/$tid/ns/net")"
	done
	moat_check_eq "$phase: not dumpable (/proc files owned by root)" root "$(stat -c %U "/proc/$pid/status")"
	moat_check_eq "$phase: core file size limit" 0 \
	    "$(awk '/^Max core file size/ { print $5 }' "/proc/$pid/limits")"
	moat_check_eq "$phase: process limit" 0 \
	    "$(awk '/^Max processes/ { print $3 }' "/proc/$pid/limits")"
	t=""
	for f in $(ls "/proc/$pid/fd" | sort -n); do
		t="$t $f:$(readlink "/proc/$pid/fd/$f" | sed 's/:\[[0-9]*\]//')"
	done
	moat_check_eq "$phase: open descriptors" "$fds" "${t# }"
	moat_check_fails "$phase: the identity key's secrets are not in moat-net's memory" \
	    python3 "$MOAT_SOURCE_DIR/tests/tools/memsearch.py" "$pid" "$T/etc/identity.key"
}

# --- before authentication ---
moat_bg pre python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --scenario hold-preauth
moat_wait_log pre holding
pid=$(moat_net_pids | head -1)
[ -n "$pid" ] || moat_fail "no moat-net process"
check_process "$pid" "before login" \
    "0:/dev/null 1:/dev/null 2:/dev/null 3:socket 4:socket"
moat_check "positive control: the key's secrets are found in moatd's memory" \
    python3 "$MOAT_SOURCE_DIR/tests/tools/memsearch.py" "$(moat_pid moatd)" "$T/etc/identity.key"
moat_stop pre

# --- in a session ---
moat_wait -m "the first moat-net to exit" sh -c '! pgrep -x moat-net'
moat_bg sess python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log sess holding
pid=$(moat_net_pids | head -1)
check_process "$pid" "in a session" \
    "0:/dev/null 1:/dev/null 2:/dev/null 3:socket 4:socket 5:socket"
moat_check "in a session: the framebuffer is a read-only shared memfd mapping" \
    grep -Eq '^[0-9a-f-]+ r--s .*/memfd:' "/proc/$pid/maps"
moat_check_fails "in a session: no writable mapping of the framebuffer" \
    grep -Eq '^[0-9a-f-]+ .w.s .*/memfd:' "/proc/$pid/maps"
moat_stop sess

# --- a forbidden system call kills moat-net; the monitor logs it ---
moat_check_fails "the self-test login does not succeed" \
    moat_probe --user moat-selftest-sigsys --password x
moat_check "the monitor logged moat-net's death by SIGSYS" \
    moat_wait_log "$EVENTS" "killed by signal 31 .*sandbox violation"
moat_check "the next connection logs in and receives the desktop" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
if [ "$want_threads" = 2 ]; then
	moat_check_fails "the self-test login from the encoding thread does not succeed" \
	    moat_probe --user moat-selftest-sigsys-worker --password x
	moat_check "the monitor logged the second SIGSYS death" \
	    moat_wait -m "a second SIGSYS" sh -c "[ \$(grep -c 'killed by signal 31 .*sandbox violation' '$EVENTS') -ge 2 ]"
	moat_check "after it, a connection logs in and receives the desktop" \
	    moat_probe --user "$USER_NAME" --password "$USER_PASS"
	sigsys=2 logins=3
else
	moat_log "one CPU: moat-net has no encoding thread to test"
	sigsys=1 logins=2
fi

# --- the audit records (docs/audit.md) ---
moat_check "audit: the connection held before login ended without a user" \
    grep -Eq '"event":"disconnect","session":1,.*"user":"","kind":"viewer",' "$MOAT_AUDIT"
moat_check "audit: the SIGSYS kill is a net_killed disconnect, bytes unknown" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"","kind":"net_killed","reason":"moat-net killed by signal 31 \(SIGSYS: seccomp, a forbidden system call\)","duration_ms":[0-9]+,"bytes_in":-1,"bytes_out":-1,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_check_fails "audit: the self-test user never got a login record" \
    grep -q '"event":"login",.*"user":"moat-selftest' "$MOAT_AUDIT"
moat_check_eq "audit: one net_killed record per SIGSYS" "$sigsys" \
    "$(grep -c '"kind":"net_killed","reason":"moat-net killed by signal 31' "$MOAT_AUDIT")"
moat_check_eq "audit: a login each for the held session and the connections after a kill" "$logins" \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
