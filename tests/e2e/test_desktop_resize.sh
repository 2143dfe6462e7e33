#!/bin/bash
# SetDesktopSize on a real X server that can resize: Xorg with the dummy
# video driver (RandR 1.2; its own configuration under $T, no VT switch,
# compiled keymaps on a tmpfs of the test's namespace). Viewers are
# tests/tools/rfb_resize.py, each driven through a FIFO:
#  - a viewer of a user whose Permissions hold r resizes 800x600 to
#    1024x768: status 0, the X screen is 1024x768 (xdpyinfo), and a pattern
#    drawn at the new size arrives exactly; another viewer listing
#    ExtendedDesktopSize gets reason 2 with the new size and the pixels, one
#    listing only DesktopSize gets DesktopSize and never an
#    ExtendedDesktopSize rectangle;
#  - 1000x700, a size the output has no mode for: moat-session adds one;
#  - a screen outside the requested size and a two-screen layout get
#    status 3, a size the X server cannot allocate status 2 (rolled back),
#    and the screen keeps its size each time;
#  - 17 screens (malformed) close that viewer only;
#  - after a reload without r, a new viewer gets status 1 and nothing
#    changes; and with the test-build moat-net that forwards everything
#    (moat-selftest-forward-input, no r) moat-session itself says no;
#  - the audit records of the logins and of the closed viewer, and the
#    audit chain.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

command -v Xorg >/dev/null && [ -e /usr/lib/xorg/modules/drivers/dummy_drv.so ] ||
    moat_fail "Xorg and its dummy driver are needed (tools/deps.sh: xserver-xorg-core xserver-xorg-video-dummy)"

FWD=moat-selftest-forward-input
FWD_PASS='Fwd pass 9'

# start_xorg VAR: Xorg (as root) with the dummy driver, 800x600 of a
# 2560x1600 virtual screen, 64 MiB of video memory; its configuration, log
# and cookie under $T; waits until an authorised client gets in and sets
# VAR to ":N" (moat_xauth and --x work with it as with Xvfb).
start_xorg()
{
	local var=$1 cookie dfile n
	mkdir -p "$T/xorg/conf.d"
	cat >"$T/xorg/xorg.conf" <<'EOF'
Section "ServerFlags"
    Option "AutoAddDevices" "false"
    Option "AutoEnableDevices" "false"
    Option "DontVTSwitch" "true"
    Option "AllowMouseOpenFail" "true"
    Option "PciForceNone" "true"
EndSection
Section "Device"
    Identifier "dummy"
    Driver "dummy"
    VideoRam 65536
EndSection
Section "Monitor"
    Identifier "monitor"
    HorizSync 5.0 - 1000.0
    VertRefresh 5.0 - 200.0
EndSection
Section "Screen"
    Identifier "screen"
    Device "dummy"
    Monitor "monitor"
    DefaultDepth 24
    SubSection "Display"
        Depth 24
        Modes "800x600"
        Virtual 2560 1600
    EndSubSection
EndSection
EOF
	# xkbcomp writes compiled keymaps to /var/lib/xkb: keep them here.
	mount -t tmpfs -o mode=0755,size=8m moat-e2e-xkb /var/lib/xkb ||
	    moat_fail "cannot mount a tmpfs on /var/lib/xkb"
	cookie=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	(umask 077 && : >"$T/x/xorg.auth" &&
	    xauth -q -f "$T/x/xorg.auth" add :0 MIT-MAGIC-COOKIE-1 "$cookie") ||
	    moat_fail "xauth failed"
	dfile=$T/x/xorg.displayfd
	: >"$dfile"
	# -sharevts -novtswitch: it neither takes over nor switches a console.
	moat_bg xorg sh -c 'exec 3>"$1"; shift; exec Xorg -displayfd 3 "$@"' sh \
	    "$dfile" -config "$T/xorg/xorg.conf" -configdir "$T/xorg/conf.d" \
	    -logfile "$T/xorg/Xorg.log" -auth "$T/x/xorg.auth" -noreset \
	    -nolisten tcp -novtswitch -sharevts
	moat_wait -m "Xorg to report its display number" \
	    grep -q '^[0-9][0-9]*$' "$dfile" || moat_fail "Xorg did not start"
	n=$(<"$dfile")
	printf '%s\n' "$cookie" >"$T/x/$n.cookie"
	chmod 0600 "$T/x/$n.cookie"
	moat_wait -m "Xorg :$n to accept an authorised client" \
	    moat_x ":$n" xdpyinfo || moat_fail "Xorg :$n does not accept clients"
	moat_log "Xorg :$n (dummy driver) pid $(moat_pid xorg)"
	printf -v "$var" ':%s' "$n"
}

# What moat_server_start does, with Xorg as the served display.
moat_ensure_net_user
moat_pam_service moat
moat_empty_root "$T/empty"
moat_add_user "$USER_NAME" "$USER_PASS"
moat_add_user "$FWD" "$FWD_PASS"
PORT=$(moat_free_port)
CONF=$T/etc/moatd.conf
CA=$T/etc/identity.crt
EVENTS=$T/events.log
moat_write_config "$CONF" \
    ListenAddress=127.0.0.1 "ListenPort=$PORT" \
    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" \
    "EmptyRoot=$T/empty" "SessionSocket=$T/run/session.sock" \
    "LogFile=$EVENTS" BlacklistThreshold=0 MaxStartups=1000 \
    PerSourceMaxStartups=1000 \
    "Permissions=$USER_NAME:vkpcsr,$FWD:vkpcs"
start_xorg SERVED
moat_check_eq "the dummy Xorg starts at 800x600" "800 600" "$(moat_display_size "$SERVED")"
moat_draw_pattern "$SERVED"
moat_bg moatd "$(moat_bin moatd)" -d -f "$CONF"
moat_wait_port "$PORT"
moat_start_session
SESSION_LOG=$(moat_logfile session)

# --- viewers driven through FIFOs ---
VSEQ=0
declare -A VFD=()
# viewer_start NAME USER PASSWORD [--no-ext]: logs a viewer in.
viewer_start()
{
	local name=$1 user=$2 pass=$3 fd
	shift 3
	mkfifo -m 0600 "$T/$name.fifo"
	exec {fd}<>"$T/$name.fifo"
	VFD[$name]=$fd
	moat_bg "$name" python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_resize.py" \
	    --port "$PORT" --ca "$CA" --user "$user" --password "$pass" \
	    --fifo "$T/$name.fifo" "$@"
	moat_wait_log "$name" '^ready [0-9]+x[0-9]+$' 60
}
# vcmd NAME COMMAND...: runs one command in viewer NAME; true if it says ok.
vcmd()
{
	local name=$1
	shift
	VSEQ=$((VSEQ + 1))
	printf '%s %s\n' "$VSEQ" "$*" >&"${VFD[$name]}"
	moat_wait -t 90 -m "$name: the answer to '$*'" \
	    grep -Eq "^$VSEQ (ok|FAIL) " "$(moat_logfile "$name")" || return 1
	grep -E "^$VSEQ (ok|FAIL) " "$(moat_logfile "$name")"
	grep -Eq "^$VSEQ ok " "$(moat_logfile "$name")"
}
# screen_is WxH [DISPLAY]: the X screen has that size (xdpyinfo).
screen_is()
{
	[ "$(moat_x "${2:-$SERVED}" xdpyinfo | sed -n 's/^ *dimensions: *\([0-9]*x[0-9]*\) .*/\1/p')" = "$1" ]
}
P=('#1a2b3c' '#f0c000' 100 100 200 100)	# moat_draw_pattern's default

viewer_start observer "$USER_NAME" "$USER_PASS"
viewer_start plain "$USER_NAME" "$USER_PASS" --no-ext
viewer_start resizer "$USER_NAME" "$USER_PASS"
moat_check "the observer shows the desktop" vcmd observer wait-pattern "${P[@]}"
moat_check "the resizer shows the desktop" vcmd resizer wait-pattern "${P[@]}"
moat_check "listing ExtendedDesktopSize brings the layout (reason 0, 800x600)" \
    vcmd resizer expect-ext 0 0 800 600
moat_check "  (to the observer too)" vcmd observer expect-ext 0 0 800 600

# --- with r: 1024x768, a mode the output has ---
moat_check "SetDesktopSize 1024x768 is answered: reason 1, status 0, 1024x768" \
    vcmd resizer resize 1024 768
moat_check "  (the answer)" vcmd resizer expect-ext 1 0 1024 768
moat_check "the X screen is 1024x768" moat_wait -m "xdpyinfo 1024x768" screen_is 1024x768
moat_check "the other ExtendedDesktopSize viewer gets reason 2 with 1024x768" \
    vcmd observer expect-ext 2 0 1024 768
moat_check "the DesktopSize-only viewer gets DesktopSize 1024x768" \
    vcmd plain expect-size 1024 768
P2=('#204060' '#c0ff30' 850 600 150 120)	# a block only the new size has
moat_draw_pattern "$SERVED" "${P2[@]}"
moat_check "the resizer's framebuffer is 1024x768 with the new pattern" \
    vcmd resizer wait-pattern "${P2[@]}"
moat_check "the observer's too" vcmd observer wait-pattern "${P2[@]}"
moat_check "and the DesktopSize-only viewer's" vcmd plain wait-pattern "${P2[@]}"
moat_check "moat-session logged the resize" \
    grep -Eq "channel [0-9]+ \(user $USER_NAME, peer 127\.0\.0\.1 port [0-9]+\): desktop resize from 800x600 to 1024x768: done \(output DUMMY0 now 1024x768\)" "$SESSION_LOG"
moat_check "moat-net logged the request" \
    grep -Eq "viewer asks to resize the desktop from 800x600 to 1024x768" "$EVENTS"

# --- 1000x700: no such mode, moat-session adds one ---
moat_check "SetDesktopSize 1000x700 (a new mode) gets status 0" \
    vcmd resizer resize 1000 700
moat_check "  (the answer)" vcmd resizer expect-ext 1 0 1000 700
moat_check "the X screen is 1000x700" moat_wait -m "xdpyinfo 1000x700" screen_is 1000x700
moat_check "the output got a 1000x700 mode from moat" \
    sh -c "DISPLAY=$SERVED XAUTHORITY=$(moat_xauth "$SERVED") xrandr | grep -q '^ *1000x700_moat '"
moat_check "the observer gets reason 2 with 1000x700" vcmd observer expect-ext 2 0 1000 700
moat_check "the DesktopSize-only viewer gets DesktopSize 1000x700" \
    vcmd plain expect-size 1000 700
P3=('#000000' '#ffffff' 0 0 1000 1)	# the top row only
moat_draw_pattern "$SERVED" "${P3[@]}"
moat_check "the resizer's framebuffer shows the 1000x700 pattern" \
    vcmd resizer wait-pattern "${P3[@]}"

# --- refusals that change nothing ---
moat_check "a screen outside the requested size: status 3, size unchanged" \
    vcmd resizer resize 1024 768 0 0 0 1025 768
moat_check "  (the answer)" vcmd resizer expect-ext 1 3 1000 700
moat_check "two screens: status 3 (one screen covering the desktop only)" \
    vcmd resizer resize 1024 768 1 0 0 512 768 2 512 0 512 768
moat_check "  (the answer)" vcmd resizer expect-ext 1 3 1000 700
moat_check "moat-session said why" \
    grep -q "desktop resize from 1000x700 to 1024x768: invalid screen layout (2 screens; moat serves one screen covering the whole desktop)" "$SESSION_LOG"
moat_check "16000x16000, more than the X server can hold: status 2" \
    vcmd resizer resize 16000 16000
moat_check "  (the answer)" vcmd resizer expect-ext 1 2 1000 700
moat_check "moat-session logged the X server's refusal" \
    grep -Eq "desktop resize from 1000x700 to 16000x16000: out of resources \(the X server refused 16000x16000 on output DUMMY0" "$SESSION_LOG"
moat_check "the X screen is still 1000x700" screen_is 1000x700
moat_check "the resizer still shows the 1000x700 pattern" vcmd resizer wait-pattern "${P3[@]}"
moat_check "the observer is still served" vcmd observer refresh
moat_check "  and got no announcement of these" vcmd observer no-new-ext
moat_check "  (its framebuffer is still right)" vcmd observer wait-pattern "${P3[@]}"
moat_check "no ExtendedDesktopSize ever reached the viewer that did not list it" \
    vcmd plain no-ext

# --- malformed: 17 screens closes that viewer, the others stay ---
moat_check "17 screens are sent" \
    vcmd resizer raw "fb0003e802bc1100$(printf '%032d' 0)"
moat_check "the viewer that sent 17 screens is closed" vcmd resizer expect-closed
moat_check "moat-net logged the malformed message" \
    grep -q "closing: malformed message from viewer (length exceeds limit)" "$EVENTS"
moat_check "the observer is still served" vcmd observer refresh
moat_check "  (with the right pixels)" vcmd observer wait-pattern "${P3[@]}"

# --- without r (after a reload): prohibited, nothing changes ---
sed -i -e "s|^Permissions=.*|Permissions=$USER_NAME:vkpcs,$FWD:vkpcs|" "$CONF"
before=$(grep -c 'configuration reloaded (SIGHUP)' "$EVENTS" || true)
kill -HUP "$(moat_pid moatd)"
moat_wait -m "moatd reloaded" sh -c \
    "[ \"\$(grep -c 'configuration reloaded (SIGHUP)' '$EVENTS' || true)\" -gt $before ]"
viewer_start norights "$USER_NAME" "$USER_PASS"
moat_check "a new viewer gets the layout: 1000x700" vcmd norights expect-ext 0 0 1000 700
moat_check "a viewer without r: SetDesktopSize gets status 1 (prohibited)" \
    vcmd norights resize 800 600
moat_check "  (the answer, with the size unchanged)" vcmd norights expect-ext 1 1 1000 700
moat_check "the X screen is still 1000x700" screen_is 1000x700
moat_check "moat-net logged the refusal" \
    grep -q "viewer asked to resize the desktop from 1000x700 to 800x600: prohibited (the grant has no r)" "$EVENTS"

# --- the test-build moat-net that forwards everything: moat-session decides ---
moat_start_xvfb SERVED2 640x480
moat_draw_pattern "$SERVED2"
moat_bg session2 --as "$FWD" --x "$SERVED2" "$(moat_user_bin moat-session)" \
    --socket "$T/run/session.sock"
moat_wait_log "$EVENTS" "desktop session $SERVED2 registered"
viewer_start forwarder "$FWD" "$FWD_PASS"
moat_check "the forwarding viewer gets the layout: 640x480" \
    vcmd forwarder expect-ext 0 0 640 480
moat_check "a forwarding moat-net without r: status 1 from moat-session" \
    vcmd forwarder resize 600 400
moat_check "  (the answer)" vcmd forwarder expect-ext 1 1 640 480
moat_check "moat-net forwarded it (test build)" \
    grep -q "viewer asks to resize the desktop from 640x480 to 600x400" "$EVENTS"
moat_check "moat-session refused it from its own copy of the grant" \
    grep -Eq "channel [0-9]+ \(user $FWD, peer 127\.0\.0\.1 port [0-9]+\): desktop resize from 640x480 to 600x400: prohibited \(the grant has no resize right\)" "$(moat_logfile session2)"
moat_check "the second display is still 640x480" screen_is 640x480 "$SERVED2"

# --- the audit records (docs/audit.md) ---
moat_check "audit: logins with r before the reload (three viewers)" \
    sh -c "[ \$(grep -Ec '\"event\":\"login\",.*\"user\":\"$USER_NAME\",\"result\":\"success\",\"permissions\":\"vkpcsr\",\"permissions_mask\":63,\"permissions_from\":\"user\",\"security_type\":\"VeNCrypt X509Plain\"' '$MOAT_AUDIT') -eq 3 ]"
moat_check "audit: the login without r after it" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs","permissions_mask":31,"permissions_from":"user"' "$MOAT_AUDIT"
moat_check "audit: the forwarding user's login, without r" \
    grep -Eq '"event":"login",.*"user":"'"$FWD"'","result":"success","permissions":"vkpcs","permissions_mask":31,"permissions_from":"user"' "$MOAT_AUDIT"
moat_check "audit: the viewer that sent 17 screens was closed as a protocol violation" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"closed","reason":"protocol violation - length exceeds limit","duration_ms":[0-9]+,"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_audit_verify --live

moat_test_end
