#!/bin/bash
# gtk-vnc's gvnccapture (Debian gvncviewer) logs in through VeNCrypt
# X509Plain — gtk-vnc checks the certificate chain, validity and host name
# strictly against ~/.pki/CA/cacert.pem — and captures a frame identical to a
# screenshot of the served display. gtk-vnc asks for ZRLE, so this also checks
# moat's ZRLE encoder against a real decoder.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

# gvnccapture only takes HOST:DISPLAY, so moatd must listen on 5900 + N.
for n in $(seq 10 99); do
	ss -ltnH "sport = :$((5900 + n))" | grep -q . || break
done
PORT=$((5900 + n))
moat_server_start

# gtk-vnc reads its CA from the home directory in the passwd entry: give root
# a home under $T (in the namespace's private /etc only).
mkdir -p "$T/roothome/.pki/CA"
cp "$CA" "$T/roothome/.pki/CA/cacert.pem"
# (usermod refuses while root runs processes, so edit the entry directly.)
awk -F: -v OFS=: -v h="$T/roothome" '$1 == "root" { $6 = h } { print }' \
    /etc/passwd > "$T/passwd.new"
cat "$T/passwd.new" > /etc/passwd
[ "$(getent passwd root | cut -d: -f6)" = "$T/roothome" ] ||
    moat_fail "could not move root's home inside the test namespace"

capture()	# PASSWORD OUT
{
	python3 "$MOAT_SOURCE_DIR/tests/tools/pty_answer.py" \
	    'Username:' "$USER_NAME" 'Password:' "$1" -- \
	    gvnccapture "localhost:$n" "$2"
}

moat_check "gvnccapture logs in and saves a frame" capture "$USER_PASS" "$T/capture.png"
moat_screenshot "$SERVED" "$T/served.png"
moat_check "the captured frame equals the served display, pixel for pixel" \
    moat_img diff "$T/capture.png" "$T/served.png"
moat_check_eq "the pattern is in the captured frame" \
    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) \
    "$(moat_count_colour "$T/capture.png" "$MOAT_PATTERN_FG")"
moat_check_fails "gvnccapture with a wrong password saves nothing" \
    capture 'wrong password' "$T/wrong.png"
moat_check_fails "no frame was written for the wrong password" test -e "$T/wrong.png"

# --- the audit records (docs/audit.md) ---
moat_check "audit: gtk-vnc chose X509Plain, TLS 1.3" \
    grep -Eq '"event":"security",.*"security_type":"VeNCrypt X509Plain","tls_version":"TLSv1.3","cipher":"TLS_AES_[0-9]+_GCM_SHA[0-9]+"' "$MOAT_AUDIT"
moat_check "audit: the capture's login" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Plain"' "$MOAT_AUDIT"
moat_check "audit: the wrong password's SystemAuth failure" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check "audit: the refused login's connection closed" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"","kind":"closed","reason":"authentication failed' "$MOAT_AUDIT"
moat_check_eq "audit: one successful login" 1 \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
