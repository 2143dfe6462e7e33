#!/usr/bin/env bash
# tests/e2e/test_capture.sh - moat-session end to end against a real Xvfb.
#
# Runs as root under ctest (MOAT_BUILD_DIR set). Starts Xvfb on a free
# display, runs moat-session as nobody, and drives it with capture_probe
# (which plays moatd and moat-net) plus x11_testwin (patterns, a focused
# window that records keys and buttons), xdotool and xclip. Checks pixels,
# damage, keyboard (with and without permission), pointer, buttons, cursor,
# clipboard both ways (Latin-1/UTF-8, INCR, truncation), channel isolation
# on protocol violations, held-input release, SHM and process hardening,
# resize, and exit when moatd goes away. Every wait is a bounded poll.
set -uo pipefail

BUILD=${MOAT_BUILD_DIR:?MOAT_BUILD_DIR must point at the build directory}

find_bin() {
	local d
	for d in "$BUILD" "$BUILD/tests"; do
		if [ -x "$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	echo "missing binary $1 under $BUILD" >&2
	return 1
}

SESSION_BIN=$(find_bin moat-session) || exit 1
PROBE_BIN=$(find_bin capture_probe) || exit 1
TESTWIN=$(find_bin x11_testwin) || exit 1
for tool in Xvfb xdotool xclip setpriv ipcs od; do
	command -v "$tool" >/dev/null || { echo "missing tool: $tool"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "test_capture.sh must run as root"; exit 1; }

TMP=$(mktemp -d /tmp/moat-capture.XXXXXX) || exit 1
chmod 711 "$TMP"
# nobody must be able to execute the binary wherever the build lives.
install -m 755 "$SESSION_BIN" "$TMP/moat-session"
SESSION_BIN=$TMP/moat-session

PIDS=()
XVFB_PID=
SESSION_PID=
PROBE_CHILD=
PROBE_IN=
PASSED=0
FAILED=0

cleanup() {
	local pid
	if [ -n "$PROBE_CHILD" ]; then
		exec {PROBE_IN}>&- 2>/dev/null || true
		kill "$PROBE_CHILD" 2>/dev/null
	fi
	for pid in "${PIDS[@]}" $SESSION_PID $XVFB_PID; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${PIDS[@]}" $SESSION_PID $PROBE_CHILD $XVFB_PID; do
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

ok() {
	echo "ok - $*"
	PASSED=$((PASSED + 1))
}

not_ok() {
	echo "not ok - $*"
	FAILED=$((FAILED + 1))
}

check() {	# description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

show_logs() {
	local f
	for f in "$TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 40 lines)"
		tail -n 40 "$f"
	done
}

die() {
	echo "FATAL: $*"
	show_logs
	exit 1
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s.
wait_until() {
	local tries=$(($1 * 10))
	shift
	while ((tries-- > 0)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# ---- Xvfb on a free display ----
# Xvfb picks the display itself (-displayfd without :N): it skips numbers
# whose socket or lock file exists and claims one atomically, which a
# check-then-start loop in this script cannot do when other tests start X
# servers at the same time. It writes the number to fd 3 once it is ready.
xvfb_settled() { [ -s "$TMP/displayfd" ] || ! kill -0 "$XVFB_PID" 2>/dev/null; }
start_xvfb() {	# depth, logname; sets XVFB_PID and DISP
	local depth=$1 log=$2 n
	: >"$TMP/displayfd"
	Xvfb -screen 0 "640x480x$depth" -nolisten tcp -ac -noreset \
	    -displayfd 3 3>"$TMP/displayfd" >"$TMP/$log" 2>&1 &
	XVFB_PID=$!
	wait_until 20 xvfb_settled
	n=$(head -n 1 "$TMP/displayfd" 2>/dev/null)
	if [[ $n =~ ^[0-9]+$ ]] && kill -0 "$XVFB_PID" 2>/dev/null; then
		DISP=":$n"
		return 0
	fi
	kill "$XVFB_PID" 2>/dev/null
	wait "$XVFB_PID" 2>/dev/null
	XVFB_PID=
	return 1
}

start_xvfb_noshm() {
	: >"$TMP/displayfd"
	Xvfb -screen 0 640x480x24 -nolisten tcp -ac -noreset -extension MIT-SHM \
	    -displayfd 3 3>"$TMP/displayfd" >"$TMP/xvfb-noshm.log" 2>&1 &
	XVFB_PID=$!
	wait_until 20 xvfb_settled
	DISP=":$(head -n 1 "$TMP/displayfd" 2>/dev/null)"
	[[ $DISP =~ ^:[0-9]+$ ]] && kill -0 "$XVFB_PID" 2>/dev/null
}

stop_xvfb() {
	kill "$XVFB_PID" 2>/dev/null
	wait "$XVFB_PID" 2>/dev/null
	XVFB_PID=
}

# ---- a depth-16 screen is refused with a clear error ----
start_xvfb 16 xvfb16.log || die "cannot start Xvfb at depth 16"
setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$SESSION_BIN" --socket "$TMP/none.sock" --display "$DISP" \
    2>"$TMP/session16.log"
rc=$?
check "16-bit screen refused (exit $rc)" test "$rc" = 1
check "16-bit refusal names the requirement" \
    grep -q "needs depth 24 or 32 with 32 bits per pixel" "$TMP/session16.log"
stop_xvfb

start_xvfb 24 xvfb.log || die "cannot start Xvfb"
export DISPLAY=$DISP
echo "# Xvfb on $DISPLAY"

"$TESTWIN" root 1a2b3c || die "cannot paint the root window"

# ---- the probe (moatd + moat-net) as a coprocess ----
coproc PROBE { exec "$PROBE_BIN" --listen "$TMP/reg.sock" 2>"$TMP/probe.log"; }
PROBE_CHILD=$PROBE_PID
PROBE_IN=${PROBE[1]}
PROBE_OUT=${PROBE[0]}
read -r -t 20 line <&"$PROBE_OUT" || die "probe did not start"
[ "$line" = "ok listening" ] || die "probe: $line"

REPLY_LINE=
probe() {
	printf '%s\n' "$*" >&"$PROBE_IN"
	if ! read -r -t 120 REPLY_LINE <&"$PROBE_OUT"; then
		REPLY_LINE="fail probe did not answer"
	fi
}

# expect DESCRIPTION REGEX COMMAND...: the probe's answer must match REGEX.
expect() {
	local what=$1 re=$2
	shift 2
	probe "$@"
	if [[ $REPLY_LINE =~ $re ]]; then
		ok "$what"
	else
		not_ok "$what (sent '$*', got '$REPLY_LINE')"
	fi
}

start_session() {	# logname
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$SESSION_BIN" --socket "$TMP/reg.sock" --display "$DISPLAY" --debug \
	    2>"$TMP/$1" &
	SESSION_PID=$!
}

start_session session.log
expect "moat-session registers as nobody" \
    "^ok registered $DISPLAY 640 480 uid 65534\$" accept
[[ $REPLY_LINE == ok* ]] || die "no registration"

expect "channel 1 gets a sealed read-only framebuffer" \
    "^ok channel 1 perms 0x3f fb 640x480 stride 2560 depth 24 masks 00ff0000/0000ff00/000000ff sealed\$" \
    open all
expect "first update is the whole screen" "^ok damage gen [0-9]+ n 1 0,0,640,480\$" update
# Xvfb has MIT-SHM 1.2: whole rows go straight into the memfd (cap_shmfd.c).
check "captures go straight into the framebuffer memfd" \
    grep -q "framebuffer memfd attached to the X server (MIT-SHM AttachFd)" "$TMP/session.log"
expect "root colour at (10,10)" "^ok 1a2b3c\$" pixel 10 10
expect "root colour at (639,0)" "^ok 1a2b3c\$" pixel 639 0
expect "top band all root colour" "^ok match" check-rect 0 0 640 200 1a2b3c

# An independent capture of the same screen must match pixel for pixel.
if [ -x /usr/bin/convert ] && command -v xwd >/dev/null; then
	probe dump "$TMP/probe.ppm"
	if xwd -root -silent | /usr/bin/convert xwd:- -depth 8 rgb:"$TMP/xwd.rgb" 2>/dev/null &&
	    /usr/bin/convert "$TMP/probe.ppm" -depth 8 rgb:"$TMP/probe.rgb" 2>/dev/null; then
		check "framebuffer equals xwd's capture" cmp -s "$TMP/probe.rgb" "$TMP/xwd.rgb"
	else
		echo "# skipped the xwd comparison (conversion failed)"
	fi
fi

# ---- damage follows drawing ----
start_win() {	# name, x11_testwin arguments; sets WIN_PID
	local out=$TMP/$1.out
	shift
	"$TESTWIN" "$@" >"$out" 2>&1 &
	WIN_PID=$!
	PIDS+=("$WIN_PID")
	wait_until 20 grep -q '^ready$' "$out"
}

stop_win() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

start_win red rect 100 100 200 150 ff0000 || die "red window did not appear"
RED_PID=$WIN_PID
expect "red window captured with covering damage" "^ok covered" \
    expect-rect 100 100 200 150 ff0000
expect "pixel left of the window unchanged" "^ok 1a2b3c\$" pixel 99 150
expect "pixel below the window unchanged" "^ok 1a2b3c\$" pixel 150 250
stop_win "$RED_PID"
expect "closing the window restores the root colour" "^ok covered" \
    expect-rect 100 100 200 150 1a2b3c

start_win green rect 500 50 10 10 00ff00 || die "green window did not appear"
GREEN_PID=$WIN_PID
expect "small change gives small damage" "^ok damage gen [0-9]+ n [0-9]+ (5[0-9][0-9]|4[0-9][0-9]),[0-9]+,[0-9]+,[0-9]+" update
if [[ $REPLY_LINE =~ 0,0,640,480 ]]; then
	not_ok "small change reported as the whole screen ($REPLY_LINE)"
fi
expect "green square captured" "^ok match" check-rect 500 50 10 10 00ff00
stop_win "$GREEN_PID"

# Half the screen's width or more: captured as whole rows into the memfd.
start_win blue rect 100 300 400 100 0000ff || die "blue window did not appear"
BLUE_PID=$WIN_PID
expect "wide window captured with covering damage" "^ok covered" \
    expect-rect 100 300 400 100 0000ff
expect "pixel left of the wide window unchanged" "^ok 1a2b3c\$" pixel 50 350
expect "pixel right of the wide window unchanged" "^ok 1a2b3c\$" pixel 600 350
stop_win "$BLUE_PID"
expect "closing the wide window restores the root colour" "^ok covered" \
    expect-rect 100 300 400 100 1a2b3c

"$TESTWIN" root 3c2b1a || die "cannot repaint the root window"
expect "root colour change captured" "^ok covered" expect-rect 0 0 640 200 3c2b1a

# ---- keyboard ----
start_win input input 50 300 300 100 "$TMP/keys" || die "input window did not appear"
INPUT_PID=$WIN_PID
file_hex() { od -An -tx1 "$1" 2>/dev/null | tr -d ' \n'; }
keys_hex_is() { [ "$(file_hex "$TMP/keys")" = "$1" ]; }
keys_end_with() { [[ $(file_hex "$TMP/keys") == *"$1" ]]; }

expect "type Hello hi + Return" "^ok\$" type 'Hello hi\r'
# "Hello hi\n"
check "typed text reaches the focused X client with the right case" \
    wait_until 20 keys_hex_is 48656c6c6f2068690a
expect "keysym missing from the keymap (eacute) is sent" "^ok\$" key 1 0xe9
probe key 0 0xe9
check "eacute typed through a spare keycode" wait_until 20 keys_end_with e9
expect "invalid keysym is not fatal" "^ok\$" key 1 0x0
probe key 1 0x7f
probe key 1 0xffffff

# ---- pointer and cursor ----
mouse_at() { [ "$(xdotool getmouselocation 2>/dev/null | cut -d' ' -f1-2)" = "x:$1 y:$2" ]; }
expect "pointer event sent" "^ok\$" pointer 0 123 234
check "pointer moved to 123,234" wait_until 20 mouse_at 123 234
probe pointer 0 65535 65535
check "out-of-range pointer clamped to 639,479" wait_until 20 mouse_at 639 479

expect "cursor shape delivered" "^ok cursor ([1-9][0-9]?|1[01][0-9]|12[0-8]) ([1-9][0-9]?|1[01][0-9]|12[0-8]) hot" cursor
CURSOR1=$REPLY_LINE
serial=$(sed -n 's/.* serial \([0-9]*\) .*/\1/p' <<<"$CURSOR1")
probe pointer 0 200 350
expect "entering a window with another cursor sends it" "^ok cursor" wait-cursor "${serial:-0}"
check "the new cursor differs" test "${REPLY_LINE% serial*}" != "${CURSOR1% serial*}"

probe pointer 1 100 320
probe pointer 0 100 320
probe pointer 8 100 320
probe pointer 0 100 320
ptr_has() { grep -qx "$1" "$TMP/keys.ptr" 2>/dev/null; }
check "button 1 press reaches the window" wait_until 20 ptr_has "press 1 100 320"
check "button 1 release reaches the window" wait_until 20 ptr_has "release 1 100 320"
check "wheel (button 4) reaches the window" wait_until 20 ptr_has "press 4 100 320"

# ---- a channel without the keyboard permission ----
expect "channel 2 without keyboard" "^ok channel 2 perms 0x1d " open view,pointer,clip-out,clip-in
probe type x
probe pointer 0 111 222
# The pointer event follows the keys on the same channel: once it has
# arrived, the keys have been handled (and must have been dropped).
check "channel 2 pointer works" wait_until 20 mouse_at 111 222
probe use 1
probe type z
check "a later key from channel 1 arrives" wait_until 20 keys_end_with 7a
check "keys from channel 2 never arrived" keys_hex_is 48656c6c6f2068690ae97a
check "refused keyboard input is logged" \
    grep -q "channel 2 (user tester): keyboard input without permission" "$TMP/session.log"

# ---- clipboard ----
probe use 1
clip_is() {	# selection, target, expected hex
	[ "$(xclip -o -selection "$1" -t "$2" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "$3" ]
}
expect "viewer sets the clipboard (Latin-1 Hello with e-acute)" "^ok\$" clip-hex 48e96c6c6f
check "CLIPBOARD as UTF8_STRING" wait_until 20 clip_is clipboard UTF8_STRING 48c3a96c6c6f
check "PRIMARY as UTF8_STRING" wait_until 20 clip_is primary UTF8_STRING 48c3a96c6c6f
check "CLIPBOARD as STRING is Latin-1" clip_is clipboard STRING 48e96c6c6f
check "TARGETS lists UTF8_STRING" \
    bash -c "xclip -o -selection clipboard -t TARGETS | grep -qx UTF8_STRING"

printf 'x\xc3\xa9\xe2\x82\xac' | xclip -selection clipboard -quiet >/dev/null 2>&1 &
PIDS+=($!)
expect "desktop clipboard reaches the viewer as Latin-1, not our own echo" \
    "^ok clip len=3 uniform=0 hex=78e93f\$" wait-clip
probe use 2
expect "channel 2 (clip-out) gets it too" "^ok clip len=3 uniform=0 hex=78e93f\$" wait-clip
probe use 1

head -c 2000000 /dev/zero | tr '\0' 'a' | xclip -selection clipboard -quiet >/dev/null 2>&1 &
PIDS+=($!)
expect "2 MB clipboard (INCR) truncated to 256 KiB" "^ok clip len=262144 uniform=1 hex=6161" wait-clip 60
check "truncation logged" grep -q "text truncated to 262144 bytes" "$TMP/session.log"
check "it came in INCR chunks" grep -q "receiving CLIPBOARD in INCR chunks" "$TMP/session.log"

# A channel whose moat-net stops reading must not stall the others, and
# gets the latest text once it reads again. Channel 2 reads nothing now.
last=
for letter in b c d e f g h i j k; do
	head -c 300000 /dev/zero | tr '\0' "$letter" | xclip -selection clipboard -quiet >/dev/null 2>&1 &
	PIDS+=($!)
	hex=$(printf '%s' "$letter" | od -An -tx1 | tr -d ' \n')
	expect "clipboard '$letter' reaches channel 1" "^ok clip len=262144 uniform=1 hex=$hex" wait-clip
	last=$hex
done
check "channel 2's full socket was noticed" grep -q "channel 2: socket full" "$TMP/session.log"
probe use 2
got_last=no
for i in $(seq 1 14); do
	probe wait-clip 5
	[[ $REPLY_LINE == "ok clip len=262144 uniform=1 hex=$last"* ]] && { got_last=yes; break; }
	[[ $REPLY_LINE == ok* ]] || break
done
check "the stalled channel catches up with the latest text" test "$got_last" = yes
probe use 1

# ---- protocol violations close only the offending channel ----
expect "channel 3 opens" "^ok channel 3 " open all
expect "channel 3 first update" "^ok damage" update
probe request 2
expect "two outstanding update requests close the channel" "^ok closed" expect-closed

expect "channel 4 opens" "^ok channel 4 " open all
probe key 1 0xffe1
probe pointer 1 60 310
check "channel 4 holds button 1" wait_until 20 ptr_has "press 1 60 310"
probe raw 83 00
expect "a short KEY message closes the channel" "^ok closed" expect-closed
check "closing releases the held button" wait_until 20 ptr_has "release 1 60 310"
probe use 1
probe pointer 0 200 350
probe type a
# Shift_L was held by channel 4: had it not been released, this is "A".
check "closing released the held Shift" wait_until 20 keys_end_with 61

expect "channel 5 opens" "^ok channel 5 " open all
probe raw-fd 81 -
expect "a descriptor from moat-net closes the channel" "^ok closed" expect-closed
expect "channel 6 opens" "^ok channel 6 " open all
probe raw 99 -
expect "an unknown message type closes the channel" "^ok closed" expect-closed
expect "channel 7 opens" "^ok channel 7 " open all
probe raw 83 020000ff0d
expect "KEY with down=2 closes the channel" "^ok closed" expect-closed
expect "channel 8 opens" "^ok channel 8 " open all
probe raw 81 00
expect "an update request with a payload closes the channel" "^ok closed" expect-closed
expect "channel 9 opens" "^ok channel 9 " open all
probe raw 85 0000000a6869
expect "a clipboard string longer than its message closes the channel" "^ok closed" expect-closed

probe use 1
probe type b
check "channel 1 still works after the others were closed" wait_until 20 keys_end_with 62

# A viewer releasing a key under another keysym ('h' down, Shift down,
# 'H' up) must not leave the key stuck down.
probe key 1 0x68
probe key 1 0xffe1
probe key 0 0x48
probe key 0 0xffe1
probe type c
check "release under a shifted keysym frees the key" wait_until 20 keys_end_with 6863

# A channel without view gets no framebuffer; its update requests are refused.
expect "channel 10 without view" "^ok channel 10 perms 0x2 \(no view\)" open keyboard
probe request
probe type d
check "its keys still work" wait_until 20 keys_end_with 64
check "update request without view refused and logged" \
    grep -q "channel 10 (user tester): screen update request without permission" "$TMP/session.log"
probe use 1
check "session still running" kill -0 "$SESSION_PID"

# ---- hardening seen from outside ----
proc_status() { grep "^$1:" "/proc/$SESSION_PID/status" | awk '{print $2}'; }
check "runs as uid 65534" test "$(proc_status Uid)" = 65534
check "no_new_privs set" test "$(proc_status NoNewPrivs)" = 1
check "not dumpable (/proc/PID/status owned by root)" \
    test "$(stat -c %u "/proc/$SESSION_PID/status")" = 0
check "core limit is 0" \
    bash -c "grep -q '^Max core file size *0 *0 ' /proc/$SESSION_PID/limits"
check "framebuffer is a memfd" \
    bash -c "ls -l /proc/$SESSION_PID/fd | grep -q 'memfd:moat-fb'"
check "capturing with MIT-SHM" grep -q "MIT-SHM" "$TMP/session.log"
# Our SysV segments: /proc/PID/maps names them /SYSV<key> with the shmid as inode.
session_shmids() { awk '$6 ~ /^\/SYSV/ {print $5}' "/proc/$SESSION_PID/maps" | sort -u; }
SHMIDS=$(session_shmids)
shm_ok() {	# each of moat-session's segments is nobody's, mode 600, already removed
	local id n=0 line
	for id in $SHMIDS; do
		line=$(ipcs -m | awk -v id="$id" '$2 == id')
		[ -n "$line" ] || { echo "# segment $id not listed"; return 1; }
		set -- $line
		[ "$3" = nobody ] || [ "$3" = 65534 ] || { echo "# segment $id owned by $3"; return 1; }
		[ "$4" = 600 ] || { echo "# segment $id has perms $4"; return 1; }
		[[ $line == *dest* ]] || { echo "# segment $id not removed"; return 1; }
		n=$((n + 1))
	done
	[ "$n" -ge 1 ]
}
check "SHM segment is nobody's, 0600 and IPC_RMID'd ($(echo $SHMIDS))" shm_ok
shm_gone() {	# none of the given segment ids exists any more
	local id
	for id in "$@"; do
		ipcs -m | awk -v id="$id" '$2 == id' | grep -q . && return 1
	done
	return 0
}

# ---- resize ----
"$TESTWIN" resize 320 240 || die "RandR resize failed"
SHMIDS2=
expect "after a resize the next update is the whole new screen" \
    "^ok damage gen [0-9]+ n 1 0,0,320,240\$" update
expect "a new framebuffer was delivered" "^ok fb 320x240 stride 1280 count 2\$" fb
probe use 2
expect "channel 2 got the whole new screen too" "^ok damage gen [0-9]+ n 1 0,0,320,240\$" update
probe use 1
expect "new framebuffer holds the screen" "^ok match" check-rect 0 0 320 240 3c2b1a
SHMIDS2=$(session_shmids)
check "the old SHM segment is gone after the resize" shm_gone $SHMIDS

# ---- moatd goes away: moat-session exits ----
probe close-reg
session_gone() { ! kill -0 "$SESSION_PID" 2>/dev/null; }
check "moat-session exits when moatd's socket closes" wait_until 20 session_gone
wait "$SESSION_PID"
rc=$?
SESSION_PID=
check "clean exit status ($rc)" test "$rc" = 0
check "no SHM segment left behind" wait_until 20 shm_gone $SHMIDS $SHMIDS2

# ---- a malformed message from moatd is fatal ----
start_session session2.log
expect "second moat-session registers" "^ok registered $DISPLAY 320 240 uid 65534\$" accept
probe reg-raw 61 00
check "moat-session exits on a malformed moatd message" wait_until 20 session_gone
wait "$SESSION_PID"
rc=$?
SESSION_PID=
check "... with status 1 ($rc)" test "$rc" = 1

# ---- without MIT-SHM: XGetImage fallback; SIGTERM ends it cleanly ----
PIDS+=("$XVFB_PID")
if start_xvfb_noshm; then
	export DISPLAY=$DISP
	"$TESTWIN" root 5a6b7c || die "cannot paint the second root window"
	start_session session3.log
	expect "moat-session registers on a display without MIT-SHM" \
	    "^ok registered $DISPLAY 640 480 uid 65534\$" accept
	check "it says it falls back to XGetImage" \
	    grep -q "no MIT-SHM on this display: capturing with XGetImage" "$TMP/session3.log"
	expect "channel opens" "^ok channel [0-9]+ perms 0x3f fb 640x480 " open all
	expect "full first update" "^ok damage gen [0-9]+ n 1 0,0,640,480\$" update
	expect "XGetImage capture is exact" "^ok match" check-rect 0 0 640 480 5a6b7c
	start_win blue rect 10 20 30 40 0000ff || die "blue window did not appear"
	expect "XGetImage capture follows damage" "^ok covered" expect-rect 10 20 30 40 0000ff
	kill -TERM "$SESSION_PID"
	check "SIGTERM ends moat-session" wait_until 20 session_gone
	wait "$SESSION_PID"
	rc=$?
	SESSION_PID=
	check "... with status 0 ($rc)" test "$rc" = 0
	check "... logging why" grep -q "signal 15 received; exiting" "$TMP/session3.log"
else
	not_ok "cannot start Xvfb without MIT-SHM"
fi

probe quit

echo "$PASSED passed, $FAILED failed"
if [ "$FAILED" -ne 0 ]; then
	show_logs
	exit 1
fi
exit 0
