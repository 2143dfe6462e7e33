#!/bin/bash
# TigerVNC's viewer (Debian tigervnc-viewer) against moat over VeNCrypt
# X509Plain: it pins the identity certificate, logs in with a real PAM
# account, shows the served desktop (the pattern appears in a screenshot of
# the viewer's display), a key typed into the viewer reaches an X client on
# the served display, the clipboard crosses both ways, and a wrong password is
# refused with the reason shown by the viewer. TigerVNC takes every
# pseudo-encoding moat offers it: the session must run on continuous updates
# released by fences, end each update with LastRect and move the clipboard
# in the ExtendedClipboard form (moat-net's debug lines in the LogFile say
# which were used).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
moat_start_xvfb VIEWER 1024x768

viewer()	# NAME PASSWORD [extra args]
{
	local name=$1 pass=$2
	shift 2
	moat_bg "$name" --x "$VIEWER" HOME="$T" VNC_USERNAME="$USER_NAME" \
	    VNC_PASSWORD="$pass" xtigervncviewer -SecurityTypes X509Plain \
	    -X509CA "$CA" -X509CRL= -ReconnectOnError=0 -AlertOnFatalError=0 \
	    -Log '*:stderr:100' "$@" "127.0.0.1::$PORT"
}

# --- login and the served pattern ---
viewer good "$USER_PASS"
moat_wait_log good "Authentication success"
moat_check "the viewer negotiated TLS 1.3 with AES-128-GCM" \
    moat_wait_log good "TLS1.3.*AES-128-GCM"
pattern_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer.png" &&
	    [ "$(moat_count_colour "$T/viewer.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}
moat_check "the viewer shows the served pattern (exact pixel count)" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer
moat_check "the monitor logged the login with user and peer" \
    grep -Eq "authentication succeeded for user \"$USER_NAME\" from 127\.0\.0\.1 port" "$EVENTS"

# --- a change on the served display reaches the viewer ---
moat_x "$SERVED" xsetroot -solid '#3c8d2f' || true
moat_draw_pattern "$SERVED" '#3c8d2f' '#c02040' 300 200 120 80
changed_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer2.png" &&
	    [ "$(moat_count_colour "$T/viewer2.png" '#c02040')" -eq $((120 * 80)) ]
}
moat_check "a change on the served display appears in the viewer" \
    moat_wait -m "new pattern in the viewer" changed_in_viewer
moat_check "the viewer enabled continuous updates over the whole desktop" \
    grep -q "continuous updates on for 800x600 at 0,0" "$EVENTS"
moat_check "that change came as a continuous update, closed by LastRect" \
    grep -Eq "update: [0-9]+ rectangles and LastRect \(continuous\)" "$EVENTS"
moat_check "the viewer sent its ExtendedClipboard capabilities" \
    grep -q "viewer clipboard caps 0x1f000001" "$EVENTS"

# --- keyboard and clipboard ---
moat_check_tigervnc_input "$VIEWER"
continuous_updates()
{
	[ "$(grep -Ec 'rectangles and LastRect \(continuous\)' "$EVENTS")" -ge 2 ]
}
moat_check "the viewer answers moat's flow-control fences (typing sent more continuous updates)" \
    moat_wait -m "a second continuous update" continuous_updates
# The other way: the viewer announces (Notify), moat asks (Request), the
# viewer provides the text deflated (Provide), moat-session sets it.
vtext="from-viewer-$$ caf\u00e9"
printf "$vtext" | moat_x "$VIEWER" xclip -selection clipboard -i
served_clip_is()
{
	[ "$(moat_x "$SERVED" xclip -o -selection clipboard 2>/dev/null)" = "$(printf "$vtext")" ]
}
moat_check "text copied in the viewer reaches the served desktop's clipboard (extended form)" \
    moat_wait -m "clipboard on the served desktop" served_clip_is
moat_stop good

# --- wrong password: refused, reason shown ---
viewer bad 'not the password'
moat_wait_exit bad 30 || true
moat_check "the viewer shows the server's reason for refusing the login" \
    grep -q "Authentication failed" "$(moat_logfile bad)"
moat_check "the monitor logged the failure with user and peer" \
    grep -Eq "authentication failed for user \"$USER_NAME\" from 127\.0\.0\.1 port" "$EVENTS"
moat_check_fails "the wrong password did not log in" \
    grep -q "Authentication success" "$(moat_logfile bad)"

# --- the audit records (docs/audit.md) ---
moat_check "audit: X509Plain over TLS 1.3 with AES-128-GCM" \
    grep -Eq '"event":"security",.*"security_type":"VeNCrypt X509Plain","tls_version":"TLSv1.3","cipher":"TLS_AES_128_GCM_SHA256","fingerprint":"[0-9a-f]{64}"' "$MOAT_AUDIT"
moat_check "audit: the login with the default permissions" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs","permissions_mask":31,"permissions_from":"default","security_type":"VeNCrypt X509Plain"' "$MOAT_AUDIT"
moat_check "audit: the viewer closed, after bytes both ways" \
    grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"viewer",.*"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_check "audit: the wrong password's SystemAuth failure" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check "audit: and its failed login" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check_eq "audit: one successful login" 1 \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
