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

moat_test_end
