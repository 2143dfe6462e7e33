#!/bin/bash
# QEMU extended key events carry the physical key (docs/encodings.md):
# tests/tools/rfb_pseudo.py --keys plays the viewer, tests/tools/x11_testwin
# is a focused window on the served Xvfb (evdev keycodes, US layout) that
# records what it is typed:
#  - keysym 0 with the XT keycodes of q, and of Shift + 1, types "q" and
#    "!"; a keysym that disagrees with the keycode ('z' on q's key) types
#    what the keycode says; the keysym-only paths still work (a QEMU event
#    with keycode 0, an RFB KeyEvent); a keycode with no entry (0x55) and
#    one above 0xFFFF fall back to their keysyms, with one log line for the
#    channel; keypad Enter (0xE0 0x1C) ends the line;
#  - Shift pressed by keycode and never released is released when the
#    viewer leaves (the next viewer's keycode of a types "a", not "A");
#  - a user without k types nothing: the account in a group granted vpcs
#    (moat-net forwards nothing: moat-session sees no key), and a user
#    with its own desktop whose test-build moat-net forwards input
#    whatever the grant (moat-selftest-forward-input): moat-session drops
#    it (logged), and a key typed there afterwards is the only one;
#  - a malformed QEMU message (submessage 1) closes the viewer.
# Waits on conditions only: a viewer's keys are handled once moat-net has
# answered its fence and moat-session has logged the channel closed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

FWD=moat-selftest-forward-input
FWD_PASS='Fwd pass 9'
groupadd moatnok
moat_server_start "Permissions=%moatnok:vpcs,$FWD:vpcs"
SESSION_LOG=$(moat_logfile session)

moat_check "moat-session types QEMU key events by keycode on Xvfb's evdev keymap" \
    grep -q 'keycodes "evdev[^"]*": QEMU key events are typed as the physical key' \
    "$SESSION_LOG"

install -d -o "$USER_NAME" -m 0700 "$T/typed"
TYPED=$T/typed/typed.txt
moat_bg win --as "$USER_NAME" --x "$SERVED" "$(moat_user_bin x11_testwin)" \
    input 200 150 300 200 "$TYPED"
moat_wait_log win '^ready$' 30

closed_count()
{
	grep -Ec 'channel [0-9]+ \(user .*\) closed' "$SESSION_LOG" || true
}

# viewer NAME USER PASSWORD SPEC [ARGS...]: one rfb_pseudo.py --keys run;
# checks it passed and waits until moat-session (its log: SESSION_LOG)
# closed its channel.
viewer()
{
	local name=$1 user=$2 pass=$3 spec=$4 before
	shift 4
	before=$(closed_count)
	moat_bg "$name" python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_pseudo.py" \
	    --port "$PORT" --ca "$CA" --user "$user" --password "$pass" \
	    --keys "$spec" "$@"
	moat_wait_exit "$name" 60 || moat_fail "$name did not finish"
	sed 's/^/  '"$name"': /' "$(moat_logfile "$name")"
	moat_check_eq "$name: every check of rfb_pseudo.py passed" 0 "$MOAT_LAST_STATUS"
	moat_wait -m "moat-session closed $name's channel" \
	    sh -c "[ \$(grep -Ec 'channel [0-9]+ \\(user .*\\) closed' '$SESSION_LOG') -gt $before ]"
}

typed_is()	# EXPECTED [FILE]: FILE ($TYPED) holds it, lines joined by |
{
	[ "$(tr '\n' '|' <"${2:-$TYPED}" 2>/dev/null)" = "$1" ]
}

KPENTER='q+0/0x9c q-0/0x9c'
# --- a user with k ---
viewer keys "$USER_NAME" "$USER_PASS" "\
q+0/0x10 q-0/0x10 \
q+0/0x2a q+0/0x02 q-0/0x02 q-0/0x2a \
q+0x7a/0x10 q-0x7a/0x10 \
q+0x77/0 q-0x77/0 \
k+0x65 k-0x65 \
q+0x76/0x12345 q-0x76/0x12345 \
q+0x78/0x55 q-0x78/0x55 \
$KPENTER \
q+0/0x2a"
moat_check "keycodes typed q, Shift+1, the keycode over the keysym, then the keysym paths" \
    moat_wait -m "the first line typed" typed_is "q!qwevx|"
moat_check "one log line for the channel's unknown keycodes (0xFFFF for 0x12345, not 0x55)" \
    test "$(grep -c 'XT keycode 0x[0-9a-f]* is no key moat knows' "$SESSION_LOG")" = 1
moat_check "  ... naming the first one, clamped to 0xffff" \
    grep -q 'XT keycode 0xffff is no key moat knows' "$SESSION_LOG"

# --- the account without k (a group granted vpcs) ---
NOKEYS="q+0/0x10 q-0/0x10 q+0x6e/0x31 q-0x6e/0x31 k+0x6f k-0x6f q+0x6b/0 q-0x6b/0 $KPENTER"
usermod -aG moatnok "$USER_NAME"
viewer nok "$USER_NAME" "$USER_PASS" "$NOKEYS"
gpasswd -d "$USER_NAME" moatnok >/dev/null
moat_check "without k: the grant is view, pointer, clipboard only" \
    grep -q "permissions view pointer clip-to-viewer clip-to-desktop\$" "$SESSION_LOG"
moat_check_fails "without k, moat-net forwards no key (moat-session saw none)" \
    grep -q "keyboard input without permission" "$SESSION_LOG"

# --- the Shift the first viewer held was released when it left ---
viewer after "$USER_NAME" "$USER_PASS" "q+0/0x1e q-0/0x1e $KPENTER"
moat_check "Shift held by keycode was released on disconnect; nothing typed without k" \
    moat_wait -m "the second line typed" typed_is "q!qwevx|a|"
moat_check_eq "the window got exactly these lines" "q!qwevx|a|" \
    "$(tr '\n' '|' <"$TYPED")"

# --- a moat-net that forwards input whatever the grant (test build) ---
moat_add_user "$FWD" "$FWD_PASS"
moat_start_xvfb SERVED2 800x600
moat_bg session2 --as "$FWD" --x "$SERVED2" "$(moat_user_bin moat-session)" \
    --socket "$T/run/session.sock"
moat_wait_log "$EVENTS" "desktop session $SERVED2 registered"
install -d -o "$FWD" -m 0700 "$T/typed2"
TYPED2=$T/typed2/typed.txt
moat_bg win2 --as "$FWD" --x "$SERVED2" "$(moat_user_bin x11_testwin)" \
    input 200 150 300 200 "$TYPED2"
moat_wait_log win2 '^ready$' 30
SESSION_LOG=$(moat_logfile session2)
viewer fwd "$FWD" "$FWD_PASS" "$NOKEYS"
moat_check "forwarding moat-net: moat-session dropped the keys by the grant" \
    grep -Eq "channel [0-9]+ \(user $FWD\): keyboard input without permission; dropped" \
    "$SESSION_LOG"
# Typed after the channel closed: what moat-session injected came before.
moat_x "$SERVED2" xdotool key m Return
moat_check "forwarding moat-net: nothing typed but the key typed after it" \
    moat_wait -m "the marker typed" typed_is "m|" "$TYPED2"
SESSION_LOG=$(moat_logfile session)

# --- a malformed QEMU message closes the viewer ---
viewer bad "$USER_NAME" "$USER_PASS" "x" --expect-close
moat_check "the disconnect is logged as a protocol violation" \
    moat_wait grep -Eq "disconnect: .* user \"$USER_NAME\" .*: protocol violation" \
    "$EVENTS"

moat_test_end
