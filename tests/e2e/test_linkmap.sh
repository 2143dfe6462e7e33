#!/bin/bash
# The trust boundary in the link map: moat-net, which parses every network
# byte, must contain no authentication, monitor or policy code and must not
# link PAM, RADIUS, GSSAPI or X11. moatd is the positive control: the same
# checks must find PAM there, so the test can tell the difference.
set -euo pipefail
B=${MOAT_BUILD_DIR:?}
fail=0

symbols() { nm --defined-only "$1" | awk '{print $3}'; }
undefined() { nm --undefined-only "$1" | awk '{print $2}'; }

check_absent() {
	local bin=$1 what=$2 pattern=$3 hits
	hits=$({ symbols "$bin"; undefined "$bin"; } | grep -E "$pattern" | head -5 || true)
	if [ -n "$hits" ]; then
		echo "FAIL: $(basename "$bin") contains $what: $hits"
		fail=1
	else
		echo "ok: $(basename "$bin") has no $what"
	fi
}

check_absent "$B/moat-net" "auth/ code" '^auth_'
check_absent "$B/moat-net" "monitor/ code" '^(mon_|monitor_|listener_)'
check_absent "$B/moat-net" "policy/ code" '^(config_|policy_)'
check_absent "$B/moat-net" "PAM symbols" '^pam_'
check_absent "$B/moat-net" "X11 symbols" '^X[A-Z]'
# Only moatd's listener writes audit records (docs/audit.md).
check_absent "$B/moat-net" "audit or journal code" '^(audit_|sd_journal)'

libs=$(ldd "$B/moat-net")
if echo "$libs" | grep -Eq 'libpam|libradcli|libsasl2|libgssapi|libkrb5|libX11|libXtst|libsystemd'; then
	echo "FAIL: moat-net links a forbidden library:"
	echo "$libs"
	fail=1
else
	echo "ok: moat-net links no PAM/RADIUS/GSSAPI/X11 library"
fi

# Positive control: the checks do see PAM and auth code where they belong.
# grep without -q reads all of its input: with pipefail, nm killed by
# SIGPIPE after an early match would fail the control.
if symbols "$B/moatd" | grep '^auth_pam_password$' >/dev/null &&
    ldd "$B/moatd" | grep libpam >/dev/null; then
	echo "ok: control: moatd contains auth_pam_password and links libpam"
else
	echo "FAIL: control: moatd should contain auth_pam_password and link libpam"
	fail=1
fi
[ $fail -eq 0 ] && echo "1 passed, 0 failed" || echo "0 passed, 1 failed"
exit $fail
