#!/bin/bash
# Permissions (docs/permissions.md) through real viewers, where a person would
# see the effect on the served display:
#  - a user nobody lists gets every right (logged "granted permissions
#    vkpcs ... default"): keys typed into TigerVNC reach an xterm on the served
#    display, desktop text reaches the viewer's clipboard; moat-viewer's
#    script types and moves the served pointer (the positive controls);
#  - the same account in a group listed view-only (%moatview:v) sees the
#    desktop, but keys and pointer from TigerVNC and from moat-viewer's
#    --script change nothing: no typed line, the same pixels, the pointer
#    where it was;
#  - clipboard rights each way: c alone lets desktop text reach the viewer
#    and not back, s alone the reverse;
#  - '-' (no rights) is refused at login with a reason;
#  - moat-viewer --view-only sends no input even with full rights;
#  - a test-build moat-net that forwards input whatever the grant
#    (user moat-selftest-forward-input, view-only): moat-session still drops
#    it by the grant (logged), and the served display does not change.
# Waits on conditions only: input is known to be processed once the viewer
# has disconnected and moat-session has logged the channel closed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

groupadd moatview
groupadd moatclipc
groupadd moatclips
groupadd moatnone
moat_server_start \
    "Permissions=%moatview:v,%moatclipc:vc,%moatclips:vs,%moatnone:-,moat-selftest-forward-input:v"
SESSION_LOG=$(moat_logfile session)
moat_start_xvfb VIEWER 1024x768
VIEWER_BIN=$(moat_bin moat-viewer)

closed_count()
{
	grep -Ec 'channel [0-9]+ \(user .*\) closed' "$SESSION_LOG" || true
}

# Waits until moat-session has closed N channels in all: everything the
# viewer of the N-th sent has then been handled.
wait_closed()
{
	moat_wait -m "$1 channels closed in moat-session" \
	    sh -c "[ \$(grep -Ec 'channel [0-9]+ \\(user .*\\) closed' '$SESSION_LOG') -ge $1 ]"
}

tiger_window()
{
	moat_x "$VIEWER" xdotool search --name "TigerVNC\$" | head -1
}

pattern_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer.png" &&
	    [ "$(moat_count_colour "$T/viewer.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}

served_pointer()
{
	moat_x "$SERVED" xdotool getmouselocation | sed 's/ screen.*//'
}

viewer_clip_is()	# TEXT
{
	[ "$(moat_x "$VIEWER" xclip -o -selection clipboard 2>/dev/null)" = "$1" ]
}

served_clip_is()	# TEXT
{
	[ "$(moat_x "$SERVED" xclip -o -selection clipboard 2>/dev/null)" = "$1" ]
}

# --- nobody lists the user: every right (the default) ---
moat_tiger full
moat_check "full: the viewer shows the desktop" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer
moat_check "full: the grant is logged with its letters and its source" \
    grep -Eq "user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+ granted permissions vkpcs \(0x1f, default\)" "$EVENTS"
moat_check_tigervnc_input "$VIEWER"	# keys reach the xterm; desktop -> viewer clipboard
moat_stop full typer
n_closed=1
wait_closed $n_closed

# --- %moatview:v: view-only, through TigerVNC ---
usermod -aG moatview "$USER_NAME"
moat_start_typer typer-v
moat_x "$SERVED" xdotool mousemove 10 10
moat_tiger viewonly
moat_check "view-only: the viewer shows the desktop" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer
moat_check "view-only: the grant is logged (group entry)" \
    grep -Eq "user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+ granted permissions v \(0x01, group\)" "$EVENTS"
moat_check "view-only: moat-session opened the channel with view alone" \
    grep -Eq "channel [0-9]+ opened for user $USER_NAME from .*; permissions view\$" "$SESSION_LOG"
moat_screenshot "$SERVED" "$T/before-v.png"
win=$(tiger_window)
moat_x "$VIEWER" xdotool windowfocus "$win"
moat_x "$VIEWER" xdotool type --delay 30 'Moat 42'
moat_x "$VIEWER" xdotool key Return
moat_x "$VIEWER" xdotool mousemove --window "$win" 600 450 click 1
moat_stop viewonly
n_closed=$((n_closed + 1))
wait_closed $n_closed
moat_screenshot "$SERVED" "$T/after-v.png"
moat_check_fails "view-only: the typed line never reached the xterm" \
    test -e "$T/typer/typer-v.txt"
moat_check_eq "view-only: the served display did not change (pixels)" 0 \
    "$(moat_img diff "$T/before-v.png" "$T/after-v.png")"
moat_check_eq "view-only: the served pointer did not move" "x:10 y:10" \
    "$(served_pointer)"

# --- view-only through moat-viewer's --script ---
cat > "$T/type.txt" <<'SCRIPT'
move 600 450
click 1
type Moat 42
key Return
SCRIPT
moat_check "view-only: moat-viewer replays its script" \
    moat_viewer_login script-v 0 "$USER_PASS" --script "$T/type.txt" \
    --png "$T/script-v.png"
n_closed=$((n_closed + 1))
wait_closed $n_closed
moat_screenshot "$SERVED" "$T/after-script-v.png"
moat_check_fails "view-only: moat-viewer's keys never reached the xterm" \
    test -e "$T/typer/typer-v.txt"
moat_check_eq "view-only: moat-viewer's input changed no pixel" 0 \
    "$(moat_img diff "$T/before-v.png" "$T/after-script-v.png")"
moat_check_eq "view-only: moat-viewer's pointer did not move it" "x:10 y:10" \
    "$(served_pointer)"
moat_stop typer-v
gpasswd -d "$USER_NAME" moatview >/dev/null

# --- moat-viewer --view-only asks for less: with every right, sends nothing ---
moat_start_typer typer-vo
moat_x "$SERVED" xdotool mousemove 10 10
moat_screenshot "$SERVED" "$T/before-vo.png"
moat_check "--view-only: moat-viewer logs in and shows the desktop" \
    moat_viewer_login script-vo 0 "$USER_PASS" --view-only \
    --script "$T/type.txt" --png "$T/script-vo.png"
n_closed=$((n_closed + 1))
wait_closed $n_closed
moat_check "--view-only: the grant was still every right" \
    grep -Eq "granted permissions vkpcs \(0x1f, default\)" "$EVENTS"
moat_check_fails "--view-only: nothing typed" test -e "$T/typer/typer-vo.txt"
moat_screenshot "$SERVED" "$T/after-vo.png"
moat_check_eq "--view-only: no pixel changed" 0 \
    "$(moat_img diff "$T/before-vo.png" "$T/after-vo.png")"
# The positive control: the same script without --view-only types the line.
moat_check "control: the same script without --view-only" \
    moat_viewer_login script-full 0 "$USER_PASS" --script "$T/type.txt" \
    --png "$T/script-full.png"
moat_check "control: its line reached the xterm" \
    moat_wait -m "typed text" moat_typed_is typer-vo 'Moat 42'
moat_check_eq "control: its pointer moved the served pointer" "x:600 y:450" \
    "$(served_pointer)"
n_closed=$((n_closed + 1))
wait_closed $n_closed
moat_stop typer-vo

# --- clipboard rights each way ---
usermod -aG moatclipc "$USER_NAME"
moat_tiger clipc
moat_check "c: granted view and clipboard to the viewer" \
    moat_wait_log "$EVENTS" "granted permissions vc \\(0x09, group\\)"
moat_wait -m "pattern in the viewer" pattern_in_viewer
win=$(tiger_window)
moat_x "$VIEWER" xdotool windowfocus "$win"	# TigerVNC fetches only when focused
printf 'to-viewer-c' | moat_x "$SERVED" xclip -selection clipboard -i
moat_check "c: desktop text reaches the viewer's clipboard" \
    moat_wait -m "clipboard in the viewer" viewer_clip_is to-viewer-c
printf 'from-viewer-c' | moat_x "$VIEWER" xclip -selection clipboard -i
moat_stop clipc
n_closed=$((n_closed + 1))
wait_closed $n_closed
moat_check "c: moat-net did not forward the viewer's text (moat-session saw none)" \
    sh -c "! grep -q 'clipboard from the viewer without permission' '$SESSION_LOG'"
moat_check "c: the viewer's text never reached the desktop's clipboard" \
    served_clip_is to-viewer-c
gpasswd -d "$USER_NAME" moatclipc >/dev/null

usermod -aG moatclips "$USER_NAME"
printf 'desktop-s' | moat_x "$SERVED" xclip -selection clipboard -i
printf 'viewer-before' | moat_x "$VIEWER" xclip -selection clipboard -i
moat_tiger clips
moat_check "s: granted view and clipboard to the desktop" \
    moat_wait_log "$EVENTS" "granted permissions vs \\(0x11, group\\)"
moat_wait -m "pattern in the viewer" pattern_in_viewer
win=$(tiger_window)
moat_x "$VIEWER" xdotool windowfocus "$win"
printf 'to-desktop-s' | moat_x "$VIEWER" xclip -selection clipboard -i
moat_check "s: the viewer's text reaches the desktop's clipboard" \
    moat_wait -m "clipboard on the desktop" served_clip_is to-desktop-s
printf 'desktop-s2' | moat_x "$SERVED" xclip -selection clipboard -i
moat_stop clips
n_closed=$((n_closed + 1))
wait_closed $n_closed
moat_check "s: desktop text never reached the viewer" \
    viewer_clip_is to-desktop-s
gpasswd -d "$USER_NAME" moatclips >/dev/null

# --- '-': no rights, refused at login ---
usermod -aG moatnone "$USER_NAME"
moat_viewer_login none 3 "$USER_PASS"
moat_check "-: the viewer is told why" \
    grep -q "not permitted to view this desktop" "$T/none.err"
moat_check "-: the refusal is logged" \
    grep -Eq "user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+ refused: Permissions grant - \(group\), no right to view the desktop" "$EVENTS"
gpasswd -d "$USER_NAME" moatnone >/dev/null

# --- a moat-net that forwards input whatever the grant (test build) ---
FWD=moat-selftest-forward-input
FWD_PASS='Fwd pass 1!'
moat_add_user "$FWD" "$FWD_PASS"
moat_start_xvfb SERVED2 800x600
moat_draw_pattern "$SERVED2"
moat_bg session2 --as "$FWD" --x "$SERVED2" "$(moat_user_bin moat-session)" \
    --socket "$T/run/session.sock"
moat_wait_log "$EVENTS" "desktop session $SERVED2 registered"
saved_served=$SERVED saved_user=$USER_NAME
SERVED=$SERVED2 USER_NAME=$FWD
moat_start_typer typer-fwd
SERVED=$saved_served USER_NAME=$saved_user
moat_x "$SERVED2" xdotool mousemove 10 10
moat_screenshot "$SERVED2" "$T/before-fwd.png"
set +e
MOAT_USER=$FWD MOAT_PASSWORD=$FWD_PASS timeout 60 "$VIEWER_BIN" --headless \
    --ca "$CA" --known-hosts "$T/kh" --script "$T/type.txt" \
    --png "$T/fwd.png" "127.0.0.1:$PORT" 2>"$T/fwd.err"
st=$?
set -e
moat_check_eq "forwarding moat-net: the viewer logged in and ran its script" 0 "$st"
SESSION2_LOG=$(moat_logfile session2)
moat_check "forwarding moat-net: it said it forwards whatever the grant" \
    moat_wait_log "$EVENTS" "self-test: forwarding input whatever the grant"
moat_check "forwarding moat-net: moat-session dropped the keys by the grant" \
    moat_wait_log "$SESSION2_LOG" "channel [0-9]+ \\(user $FWD\\): keyboard input without permission; dropped"
moat_check "forwarding moat-net: moat-session dropped the pointer by the grant" \
    moat_wait_log "$SESSION2_LOG" "channel [0-9]+ \\(user $FWD\\): pointer input without permission; dropped"
moat_wait -m "the channel closed" sh -c "grep -Eq 'channel [0-9]+ \\(user $FWD, .*\\) closed' '$SESSION2_LOG'"
moat_screenshot "$SERVED2" "$T/after-fwd.png"
moat_check_fails "forwarding moat-net: nothing typed into the xterm" \
    test -e "$T/typer/typer-fwd.txt"
moat_check_eq "forwarding moat-net: no pixel changed" 0 \
    "$(moat_img diff "$T/before-fwd.png" "$T/after-fwd.png")"
moat_check_eq "forwarding moat-net: the pointer did not move" "x:10 y:10" \
    "$(moat_x "$SERVED2" xdotool getmouselocation | sed 's/ screen.*//')"

# --- the audit records (docs/audit.md): each login's grant, in order ---
# The successful logins as "user letters mask entry type", one a line.
grants()
{
	grep '"event":"login",.*"result":"success"' "$MOAT_AUDIT" | sed -E \
	    's/.*"user":"([^"]*)","result":"success","permissions":"([^"]*)","permissions_mask":([0-9]+),"permissions_from":"([^"]*)","security_type":"VeNCrypt ([^"]*)".*/\1 \2 \3 \4 \5/'
}
moat_check_eq "audit: the grants of the logins, in order (full, view-only by group, the scripts, clipboard rights, the forwarding moat-net's user)" \
    "$USER_NAME vkpcs 31 default X509Plain
$USER_NAME v 1 group X509Plain
$USER_NAME v 1 group X509Conversation
$USER_NAME vkpcs 31 default X509Conversation
$USER_NAME vkpcs 31 default X509Conversation
$USER_NAME vc 9 group X509Plain
$USER_NAME vs 17 group X509Plain
$FWD v 1 user X509Conversation" "$(grants)"
moat_check "audit: the grant of no right to view refused the login" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"failure","reason":"You are not permitted to view this desktop"' "$MOAT_AUDIT"
moat_check "audit: every connection ended with its disconnect record" \
    moat_wait sh -c "[ \$(grep -c '\"event\":\"connect\"' '$MOAT_AUDIT') -eq \$(grep -c '\"event\":\"disconnect\"' '$MOAT_AUDIT') ]"
moat_audit_verify --live

moat_test_end
