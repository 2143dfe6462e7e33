#!/bin/bash
# gtk-vnc's gvncviewer (Debian gvncviewer) logs in through VeNCrypt
# X509Plain, answering its credentials dialog, and types into an xterm on
# the served display. gtk-vnc lists the QEMU extended key event
# pseudo-encoding (-258); once moat confirms it, every key goes as a QEMU
# key event (keysym and XT keycode; moat uses the keysym): the test checks
# the text arrives and that no plain KeyEvent was used.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

# gvncviewer only takes HOST:DISPLAY, so moatd must listen on 5900 + N.
for n in $(seq 10 99); do
	ss -ltnH "sport = :$((5900 + n))" | grep -q . || break
done
PORT=$((5900 + n))
moat_server_start

# gtk-vnc reads its CA from the home directory in the passwd entry (see
# test_gvnccapture.sh).
mkdir -p "$T/roothome/.pki/CA"
cp "$CA" "$T/roothome/.pki/CA/cacert.pem"
awk -F: -v OFS=: -v h="$T/roothome" '$1 == "root" { $6 = h } { print }' \
    /etc/passwd > "$T/passwd.new"
cat "$T/passwd.new" > /etc/passwd
[ "$(getent passwd root | cut -d: -f6)" = "$T/roothome" ] ||
    moat_fail "could not move root's home inside the test namespace"

moat_start_typer typer
moat_start_xvfb VIEWER 1024x768
# --- the credentials dialog ---
# A GTK dialog may map before it takes keys, and no window manager runs:
# focus it, type, and if the login does not arrive, start over (at most
# three times; each try is a new connection).
dialog=
find_dialog()
{
	dialog=$(moat_x "$VIEWER" xdotool search --onlyvisible \
	    --name '^Authentication required$' | head -1) && [ -n "$dialog" ]
}
dialog_has_focus()
{
	moat_x "$VIEWER" xdotool windowfocus --sync "$dialog" &&
	    [ "$(moat_x "$VIEWER" xdotool getwindowfocus -f)" = "$dialog" ]
}
logged_in()
{
	[ "$(grep -c "authentication succeeded for user \"$USER_NAME\"" "$EVENTS")" -ge 1 ]
}
for try in 1 2 3; do
	moat_bg gvnc --x "$VIEWER" HOME="$T/roothome" gvncviewer "localhost:$n"
	moat_wait -m "gvncviewer's credentials dialog" find_dialog
	find_dialog	# (moat_wait ran it in a subshell)
	moat_wait -m "the dialog focused" dialog_has_focus
	moat_x "$VIEWER" xdotool type --delay 30 "$USER_NAME"
	moat_x "$VIEWER" xdotool key Tab
	moat_x "$VIEWER" xdotool type --delay 30 "$USER_PASS"
	moat_x "$VIEWER" xdotool key Return
	if moat_wait -t 15 -m "login (try $try)" logged_in 2>/dev/null; then
		break
	fi
	moat_stop gvnc
done
moat_check "gvncviewer logged in" logged_in
# The first update carries moat's confirmation of QEMU key events.
moat_check "moat sent gvncviewer its first update" \
    moat_wait_log "$EVENTS" "net_update_flush: update: "

# --- keys as QEMU extended key events ---
viewer=
find_viewer()
{
	viewer=$(moat_x "$VIEWER" xdotool search --onlyvisible \
	    --name ' - GVncViewer$' | head -1) && [ -n "$viewer" ]
}
moat_check "the viewer window is titled with the desktop's name" \
    moat_wait -m "the viewer window" find_viewer
find_viewer || moat_fail "no viewer window"
moat_x "$VIEWER" xdotool windowfocus --sync "$viewer" ||
    moat_fail "cannot focus the viewer window"
moat_x "$VIEWER" xdotool type --delay 50 'gvnc 42'
moat_x "$VIEWER" xdotool key Return
moat_check "keys typed into gvncviewer reached the X client" \
    moat_wait -m "typed text" moat_typed_is typer 'gvnc 42'
moat_check "they came as QEMU extended key events" \
    grep -q "viewer message type 255" "$EVENTS"
moat_check_fails "and none as a plain KeyEvent" \
    grep -q "viewer message type 4\$" "$EVENTS"
moat_stop gvnc

# --- the audit records (docs/audit.md) ---
moat_check "audit: gvncviewer's login over X509Plain" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Plain"' "$MOAT_AUDIT"
moat_check "audit: closing it is a viewer disconnect of that user" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"viewer","reason":"viewer disconnected[^"]*",.*"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_audit_verify --live

moat_test_end
