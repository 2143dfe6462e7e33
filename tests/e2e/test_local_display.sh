#!/bin/bash
# BlankScreen and DisableLocalInputs (docs/local-display.md), on a real Xvfb
# and its real input devices ("Xvfb mouse", "Xvfb keyboard": slave devices
# nothing feeds on a virtual server, so what is checked is the state the X
# server keeps for them, as `xinput` reads it):
#  - with both parameters off nothing changes while a viewer is connected;
#  - with both on, while a viewer (rfb_probe) is connected: every non-XTEST
#    slave device is disabled, the XTEST devices (and those of a second
#    master) stay enabled, the screen saver is on with kind "blanked", and
#    viewers still see the desktop (moat-viewer's PNG is the pattern) and
#    still move the pointer (moat-viewer's script, through XTEST);
#  - input through XTEST wakes the saver (checked before any viewer, as the
#    control) and moat-session blanks it again; a device re-enabled by
#    someone meanwhile is disabled again;
#  - when the viewer leaves: exactly the devices moat disabled are enabled
#    again (one the user had disabled stays disabled), the saver is off and
#    its settings (timeout, cycle, blanking) are the user's again;
#  - moat-session stopped with SIGTERM restores; killed with SIGKILL it
#    cannot, and the next moat-session on the display restores from the
#    root window properties it left;
#  - with an external screen saver registered (MIT-SCREEN-SAVER
#    SetAttributes), forcing the saver would map its window into what
#    viewers see: moat-session refuses to blank, logs why, and blanks again
#    for a later viewer once that saver is gone.
# Waits on conditions only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
moat_x "$SERVED" xinput list >"$T/xinput-list.txt" ||
    moat_fail "xinput cannot list the served display's devices"
grep -q 'Xvfb mouse' "$T/xinput-list.txt" ||
    moat_fail "this Xvfb has no 'Xvfb mouse' device"

# The screen saver's state and kind through MIT-SCREEN-SAVER (libXss).
cat >"$T/saver.py" <<'EOF'
import ctypes, ctypes.util, sys
x = ctypes.CDLL(ctypes.util.find_library("X11"))
xss = ctypes.CDLL(ctypes.util.find_library("Xss"))
class Info(ctypes.Structure):
    _fields_ = [("window", ctypes.c_ulong), ("state", ctypes.c_int),
                ("kind", ctypes.c_int), ("til_or_since", ctypes.c_ulong),
                ("idle", ctypes.c_ulong), ("event_mask", ctypes.c_ulong)]
x.XOpenDisplay.restype = ctypes.c_void_p
x.XDefaultRootWindow.restype = ctypes.c_ulong
x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
xss.XScreenSaverQueryInfo.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                      ctypes.POINTER(Info)]
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open the display")
i = Info()
if not xss.XScreenSaverQueryInfo(d, x.XDefaultRootWindow(d), ctypes.byref(i)):
    sys.exit("no MIT-SCREEN-SAVER")
print({0: "off", 1: "on", 2: "cycle", 3: "disabled"}.get(i.state, "?"),
      {0: "blanked", 1: "internal", 2: "external"}.get(i.kind, "?"))
EOF

saver()		# prints "STATE KIND"
{
	moat_x "$SERVED" python3 "$T/saver.py"
}

saver_is()	# STATE [KIND]
{
	local s
	s=$(saver) || return 1
	[[ "$s" == "$1"* ]] && [[ -z "${2:-}" || "$s" == "$1 $2" ]]
}

enabled()	# DEVICE-NAME: prints 1 or 0
{
	moat_x "$SERVED" xinput list-props "$1" |
	    sed -n 's/^[[:space:]]*Device Enabled ([0-9]*):[[:space:]]*\([01]\)$/\1/p'
}

enabled_is()	# DEVICE-NAME 0|1
{
	[[ "$(enabled "$1")" == "$2" ]]
}

probe_bg()	# NAME
{
	moat_bg "$1" python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" \
	    --port "$PORT" --ca "$CA" --user "$USER_NAME" \
	    --password "$USER_PASS" --scenario hold-session
	moat_wait_log "$1" holding
}

# The session log line for channel N (the Nth channel opened) exists.
channels_opened()	# SESSION-NAME N
{
	[[ "$(grep -c 'channel [0-9]* opened for user' "$(moat_logfile "$1")")" \
	    -ge "$2" ]]
}

pointer_at()	# X Y
{
	moat_x "$SERVED" xdotool getmouselocation | grep -q "^x:$1 y:$2 "
}

pattern_png()	# FILE: the viewer's PNG shows the standard pattern
{
	[ "$(moat_count_colour "$1" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}

settings()	# prints the screen saver's timeout, cycle and blanking (xset q)
{
	moat_x "$SERVED" xset q | sed -n \
	    -e 's/^[[:space:]]*prefer blanking:[[:space:]]*\([a-z]*\).*/blank=\1/p' \
	    -e 's/^[[:space:]]*timeout:[[:space:]]*\([0-9]*\)[[:space:]]*cycle:[[:space:]]*\([0-9]*\).*/timeout=\1 cycle=\2/p' |
	    tr '\n' ' '
}

# The user's own screen saver settings, which moat must give back.
moat_x "$SERVED" xset s 123 45
moat_x "$SERVED" xset s noblank
want_settings=$(settings)
moat_check_eq "the user's screen saver settings are set" \
    "blank=no timeout=123 cycle=45 " "$want_settings"

# --- the controls: XTEST input wakes a forced saver; nothing holds it ---
moat_x "$SERVED" xset s activate
moat_check "control: the saver can be forced on" saver_is on
moat_x "$SERVED" xdotool mousemove 10 10
moat_check "control: XTEST input (xdotool) wakes it" moat_wait saver_is off
moat_check "control: nothing forces it on again" saver_is off

# --- both parameters off (the default): nothing changes ---
probe_bg plain
moat_wait channels_opened session 1
moat_check_eq "defaults: Xvfb mouse stays enabled" 1 "$(enabled 'Xvfb mouse')"
moat_check_eq "defaults: Xvfb keyboard stays enabled" 1 \
    "$(enabled 'Xvfb keyboard')"
moat_check "defaults: the screen saver stays off" saver_is off
moat_stop plain

# --- both on ---
all_ended()	# every connection of the chain has its disconnect record
{
	[ "$(grep -c '"event":"connect"' "$MOAT_AUDIT")" -eq \
	    "$(grep -c '"event":"disconnect"' "$MOAT_AUDIT")" ]
}
# Every probe's record is in before moatd is stopped (a stop would record
# any still open as ended by the shutdown instead).
moat_wait -m "the probes' disconnect records" all_ended
moat_stop moatd session
printf '%s\n' BlankScreen=yes DisableLocalInputs=yes >>"$CONF"
moat_server_restart on SystemAuth
# A device the user disabled before must stay disabled afterwards, and the
# XTEST devices of another master are not local hardware.
moat_x "$SERVED" xinput disable 'Xvfb keyboard'
moat_x "$SERVED" xinput create-master moatextra
moat_wait -m "the second master's XTEST pointer" \
    enabled_is 'moatextra XTEST pointer' 1

probe_bg viewer1
moat_check "Xvfb mouse is disabled while a viewer is connected" \
    moat_wait enabled_is 'Xvfb mouse' 0
moat_check "the screen is blanked (saver on, kind blanked)" \
    moat_wait saver_is on blanked
moat_check_eq "the core XTEST pointer stays enabled" 1 \
    "$(enabled 'Virtual core XTEST pointer')"
moat_check_eq "the core XTEST keyboard stays enabled" 1 \
    "$(enabled 'Virtual core XTEST keyboard')"
moat_check_eq "the second master's XTEST pointer stays enabled" 1 \
    "$(enabled 'moatextra XTEST pointer')"
moat_check "the disabled device is logged" grep -q \
    "DisableLocalInputs: disabled local input device 'Xvfb mouse'" \
    "$(moat_logfile on-session)"
moat_check "the user's disabled keyboard was not touched" \
    test "$(grep -c "'Xvfb keyboard'" "$(moat_logfile on-session)")" -eq 0
moat_check "the undo record is on the root window" sh -c \
    "DISPLAY=$SERVED XAUTHORITY=$(moat_xauth "$SERVED") xprop -root _MOAT_DISABLED_DEVICES _MOAT_SCREEN_SAVER | grep -Eq '_MOAT_SCREEN_SAVER\(INTEGER\) = 123, 45, 0, '"

# A second viewer sees the desktop, not black, and moves the pointer.
printf '%s\n' 'move 321 123' >"$T/move.txt"
chmod 0644 "$T/move.txt"
moat_viewer_login blanked 0 "$USER_PASS" --script "$T/move.txt"
moat_check "the viewer sees the desktop while the local screen is blank" \
    pattern_png "$T/blanked.png"
moat_check "the viewer's pointer motion (XTEST) reached the desktop" \
    moat_wait pointer_at 321 123
moat_check "the saver is on again after that input" \
    moat_wait saver_is on blanked
moat_x "$SERVED" xdotool mousemove 50 60
moat_check "XTEST input from a desktop client is blanked again too" \
    moat_wait saver_is on blanked
moat_x "$SERVED" xinput enable 'Xvfb mouse'
moat_check "a device someone re-enables is disabled again" \
    moat_wait enabled_is 'Xvfb mouse' 0
moat_check "that is logged (the mouse disabled twice)" moat_wait sh -c \
    "test \$(grep -c \"disabled local input device 'Xvfb mouse' (id\" \
    '$(moat_logfile on-session)') -eq 2"
moat_check "the first viewer is still connected" moat_alive viewer1

moat_stop viewer1
moat_check "Xvfb mouse is enabled again after the last viewer left" \
    moat_wait enabled_is 'Xvfb mouse' 1
moat_check "the screen saver is off again" moat_wait saver_is off
moat_check_eq "the user's screen saver settings are back" "$want_settings" \
    "$(settings)"
moat_check_eq "the keyboard the user disabled stays disabled" 0 \
    "$(enabled 'Xvfb keyboard')"
moat_check "the undo record is gone" sh -c \
    "DISPLAY=$SERVED XAUTHORITY=$(moat_xauth "$SERVED") xprop -root _MOAT_DISABLED_DEVICES | grep -q 'not found'"
moat_x "$SERVED" xinput enable 'Xvfb keyboard'

# --- SIGTERM: moat-session restores on its way out ---
probe_bg viewer2
moat_check "SIGTERM case: disabled while connected" \
    moat_wait enabled_is 'Xvfb keyboard' 0
moat_wait saver_is on blanked
moat_stop on-session
moat_check "SIGTERM: the keyboard is enabled again" enabled_is 'Xvfb keyboard' 1
moat_check "SIGTERM: the mouse is enabled again" enabled_is 'Xvfb mouse' 1
moat_check "SIGTERM: the saver is off" saver_is off
moat_check_eq "SIGTERM: the settings are back" "$want_settings" "$(settings)"
moat_stop viewer2

# --- SIGKILL: left behind, restored by the next moat-session ---
moat_start_session killed
moat_wait -m "the killed session registered" sh -c \
    "test \$(grep -c 'desktop session $SERVED registered' '$EVENTS') -ge 2"
probe_bg viewer3
moat_wait enabled_is 'Xvfb mouse' 0
moat_wait saver_is on blanked
kill -KILL -- "-$(moat_pid killed)"
moat_wait_exit killed 30 || true
moat_check_eq "SIGKILL: the mouse stays disabled (nothing can run)" 0 \
    "$(enabled 'Xvfb mouse')"
moat_stop viewer3
moat_start_session restorer
moat_check "the next moat-session re-enables the mouse" \
    moat_wait enabled_is 'Xvfb mouse' 1
moat_check "and the keyboard" enabled_is 'Xvfb keyboard' 1
moat_check "and turns the saver off" saver_is off
moat_check_eq "and gives the settings back" "$want_settings" "$(settings)"
moat_check "it logs what it restored" grep -q \
    "an earlier moat-session left 2 local input device(s) disabled; re-enabled 2" \
    "$(moat_logfile restorer)"

# --- an external screen saver: forcing it would show its window to viewers ---
cat >"$T/extsaver.py" <<'EOF'
import ctypes, ctypes.util, sys, time
x = ctypes.CDLL(ctypes.util.find_library("X11"))
xss = ctypes.CDLL(ctypes.util.find_library("Xss"))
class Attrs(ctypes.Structure):
    _fields_ = [("background_pixmap", ctypes.c_ulong),
                ("background_pixel", ctypes.c_ulong),
                ("border_pixmap", ctypes.c_ulong),
                ("border_pixel", ctypes.c_ulong),
                ("bit_gravity", ctypes.c_int), ("win_gravity", ctypes.c_int),
                ("backing_store", ctypes.c_int),
                ("backing_planes", ctypes.c_ulong),
                ("backing_pixel", ctypes.c_ulong), ("save_under", ctypes.c_int),
                ("event_mask", ctypes.c_long),
                ("do_not_propagate_mask", ctypes.c_long),
                ("override_redirect", ctypes.c_int),
                ("colormap", ctypes.c_ulong), ("cursor", ctypes.c_ulong)]
x.XOpenDisplay.restype = ctypes.c_void_p
x.XDefaultRootWindow.restype = ctypes.c_ulong
x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
x.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
xss.XScreenSaverSetAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
    ctypes.c_int, ctypes.c_int, ctypes.c_uint, ctypes.c_uint, ctypes.c_uint,
    ctypes.c_int, ctypes.c_uint, ctypes.c_void_p, ctypes.c_ulong,
    ctypes.POINTER(Attrs)]
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open the display")
a = Attrs()
a.background_pixel = 0x0000ff		# blue, if viewers ever saw it
xss.XScreenSaverSetAttributes(d, x.XDefaultRootWindow(d), 0, 0, 800, 600, 0,
                              0, 1, None, 2, ctypes.byref(a))	# CWBackPixel
x.XSync(d, 0)
print("ready", flush=True)
time.sleep(600)
EOF
moat_bg extsaver --x "$SERVED" python3 "$T/extsaver.py"
moat_wait_log extsaver ready
probe_bg viewer4
moat_check "external saver: local inputs are still disabled" \
    moat_wait enabled_is 'Xvfb mouse' 0
moat_check "external saver: moat-session refuses to blank, and says why" \
    moat_wait_log restorer \
    "BlankScreen: the X server cannot blank its outputs without changing the captured image \(saver state 1, kind external"
moat_check "external saver: the saver is off again" moat_wait saver_is off
moat_viewer_login external 0 "$USER_PASS"
moat_check "external saver: the viewer sees the desktop, not the saver" \
    pattern_png "$T/external.png"
moat_stop viewer4 extsaver
moat_wait enabled_is 'Xvfb mouse' 1
probe_bg viewer5
moat_check "without it, the next viewer's screen is blanked again" \
    moat_wait saver_is on blanked
moat_stop viewer5
moat_check "and restored" moat_wait saver_is off

# --- the audit records (docs/audit.md), both moatd runs in one chain ---
U='"user":"'$USER_NAME'"'
moat_check_eq "audit: the desktop session stopped (SIGTERM, SIGKILL) under two viewers: two disconnects of kind closed" 2 \
    "$(grep -Ec '"event":"disconnect",.*'"$U"',"kind":"closed","reason":"desktop session ended' "$MOAT_AUDIT" || true)"
moat_check "audit: moat-viewer's login beside the blanked viewer joined it" \
    grep -Eq '"event":"sharing",.*"access":"shared","others":1,"verdict":"joins"' "$MOAT_AUDIT"
moat_check "audit: every connection has its disconnect record" moat_wait all_ended
moat_check "audit: the last one is the last viewer's" sh -c \
    "grep '\"event\":\"disconnect\"' '$MOAT_AUDIT' | tail -n 1 | grep -Eq '$U,\"kind\":\"viewer\"'"
moat_check_eq "audit: eight logins over the two runs, none failed" "8 0" \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT") $(grep -c '"event":"login",.*"result":"failure"' "$MOAT_AUDIT" || true)"
moat_audit_verify --live

moat_test_end
