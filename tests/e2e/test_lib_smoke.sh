#!/usr/bin/env bash
#
# test_lib_smoke.sh - proves that tests/e2e/lib.sh does what the other
# end-to-end tests rely on: the private namespaces, users and PAM services that
# never reach the host, Xvfb with cookie access, the screen pattern and its
# exact pixel counts, the bounded waits, and a cleanup that leaves no process
# and no scratch directory behind, whatever way a test ends.
#
# Runs as root in the test harness; needs no moat binary.
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moat_test_begin "$@"

USER1=moatsmoke
PASS1='Smoke-pw-7f3a'

# ---- namespaces --------------------------------------------------------------
moat_check "the test is PID 1 of its own PID namespace" test "$$" = 1
moat_check "/etc is an overlay" findmnt -n -t overlay /etc
moat_check "/tmp/.X11-unix is a private tmpfs" findmnt -n -t tmpfs /tmp/.X11-unix
moat_check "\$T is a root-owned 0755 directory" \
    test "$(stat -c '%U %a' "$T")" = "root 755"

# ---- users and PAM -------------------------------------------------------------
moat_add_user "$USER1" "$PASS1"
moat_check "the new user exists inside the namespace" getent passwd "$USER1"
moat_check "its home is under \$T and belongs to it" \
    test "$(stat -c %U "$T/home/$USER1")" = "$USER1"
moat_check_fails "the user is not in the host's /etc/passwd" \
    grep -q "^$USER1:" "$MOAT_HOST_ETC/passwd"
moat_check_fails "the user is not in the host's /etc/shadow" \
    grep -q "^$USER1:" "$MOAT_HOST_ETC/shadow"
moat_check_fails "the host's /etc view is read-only" touch "$MOAT_HOST_ETC/moat-e2e-probe"

moat_ensure_net_user
moat_check "moat-net exists" getent passwd moat-net
moat_check "moat-net has no login shell" \
    test "$(getent passwd moat-net | cut -d: -f7)" = /usr/sbin/nologin

moat_pam_service moat-smoke
moat_check_fails "the PAM service is not in the host's /etc/pam.d" \
    test -e "$MOAT_HOST_ETC/pam.d/moat-smoke"

# shellcheck disable=SC2317 # called through moat_check
pam_try()
{
	printf '%s\n' "$2" | pamtester moat-smoke "$1" authenticate acct_mgmt
}
moat_check "PAM accepts the right password" pam_try "$USER1" "$PASS1"
moat_check_fails "PAM refuses a wrong password" pam_try "$USER1" "wrong-$PASS1"
moat_check_fails "PAM refuses an unknown user" pam_try nosuchuser-smoke "$PASS1"

# ---- files ---------------------------------------------------------------------
moat_write_config etc/moat/moatd.conf ListenAddress=127.0.0.1 ListenPort=5999
moat_check "config file is root-owned 0644" \
    test "$(stat -c '%U %a' "$T/etc/moat/moatd.conf")" = "root 644"
moat_check "config directories are root-owned 0755" \
    test "$(stat -c '%U %a' "$T/etc/moat") $(stat -c '%U %a' "$T/etc")" = "root 755 root 755"
moat_check_eq "config file content" $'ListenAddress=127.0.0.1\nListenPort=5999' \
    "$(cat "$T/etc/moat/moatd.conf")"
moat_empty_root "$T/empty"
moat_check "empty root is root-owned 0755 and empty" \
    test "$(stat -c '%U %G %a' "$T/empty")$(ls -A "$T/empty")" = "root root 755"

# ---- processes, ports and waits ------------------------------------------------
port=$(moat_free_port)
moat_check "moat_free_port gives a port number" test "$port" -gt 1023
moat_check_fails "moat_wait_port times out on a port nobody listens on" \
    moat_wait_port "$port" 1
moat_bg listener python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening on", sys.argv[1], flush=True)
time.sleep(600)' "$port"
moat_check "moat_wait_port sees the listener" moat_wait_port "$port"
moat_check "moat_wait_log sees its log line" moat_wait_log listener "^listening on $port\$"
moat_check "moat_alive while it runs" moat_alive listener
listener_pid=$(moat_pid listener)
moat_stop listener
moat_check_eq "moat_stop reports death by SIGTERM" 143 "$MOAT_LAST_STATUS"
moat_check_fails "the stopped listener is gone" moat_pid_alive "$listener_pid"
moat_check_fails "its port is closed" moat_port_listens "$port"
moat_stop listener
moat_check_eq "stopping it again reports the same status" 143 "$MOAT_LAST_STATUS"

moat_bg quick sleep 600
moat_stop quick
moat_check_eq "a process stopped right after its start dies of SIGTERM" 143 "$MOAT_LAST_STATUS"

# shellcheck disable=SC2016 # expanded by the user's shell
moat_bg whoami --as "$USER1" sh -c 'id -un; pwd; printf "%s\n" "$HOME"'
moat_check "a process started --as USER ends by itself" moat_wait_exit whoami
moat_check_eq "it ran as the user, in its home" "$USER1 $T/home/$USER1 $T/home/$USER1" \
    "$(tr '\n' ' ' <"$(moat_logfile whoami)" | sed 's/ $//')"
moat_check_eq "its exit status is reported" 0 "$MOAT_LAST_STATUS"
moat_stop whoami
moat_check_eq "moat_stop after it ended keeps that status" 0 "$MOAT_LAST_STATUS"

# A binary in a build tree the user cannot reach, and the copy it can run.
mkdir -m 0700 "$T/private-build"
# shellcheck disable=SC2016 # expanded by the script
printf '#!/bin/sh\necho "hello from $(id -un)"\n' >"$T/private-build/hello"
chmod 0700 "$T/private-build/hello"
moat_check_fails "the user cannot run the build tree's binary" \
    moat_as "$USER1" "$T/private-build/hello"
hello=$(MOAT_BUILD_DIR="$T/private-build" moat_user_bin hello)
moat_check_eq "the user runs moat_user_bin's copy" "hello from $USER1" "$(moat_as "$USER1" "$hello")"

moat_check_fails "moat_wait gives up after its bound" moat_wait -t 1 -m "something false" false

# ---- X display, access and the pattern -------------------------------------------
moat_start_xvfb D 1280x800
moat_check "moat_start_xvfb sets a display name" test -n "$D"
moat_check "root's client reaches the display" moat_x "$D" xdpyinfo
moat_check "the user's client reaches it with the user's cookie" \
    moat_run --as "$USER1" --x "$D" xdpyinfo
moat_check_fails "a client without the cookie is refused" \
    moat_as "$USER1" DISPLAY="$D" xdpyinfo
moat_check_eq "the user's cookie file is the user's alone" "$USER1 600" \
    "$(stat -c '%U %a' "$(moat_xauth "$D" "$USER1")")"
moat_check_eq "moat_display_size" "1280 800" "$(moat_display_size "$D")"

moat_check "moat_draw_pattern draws the default pattern" moat_draw_pattern "$D"
moat_screenshot "$D" "$T/shot.png"
moat_check_eq "the screenshot is 1280x800" "1280 800" "$(moat_img size "$T/shot.png")"
moat_check_eq "the block has exactly 20000 pixels of #f0c000" 20000 \
    "$(moat_count_colour "$T/shot.png" '#f0c000')"
moat_check_eq "every other pixel is #1a2b3c" $((1280 * 800 - 20000)) \
    "$(moat_count_colour "$T/shot.png" '#1a2b3c')"
moat_check_eq "the block is where it was drawn" "100 100 200 100" \
    "$(moat_find_rect "$T/shot.png" '#f0c000')"
moat_check_eq "counting inside a rectangle" 5000 \
    "$(moat_count_colour "$T/shot.png" '#f0c000' 150 150 100 100)"
moat_check_eq "a colour that is absent counts 0" 0 \
    "$(moat_count_colour "$T/shot.png" '#1a2b3d')"
moat_check_eq "moat_img pixel" "#f0c000" "$(moat_img pixel "$T/shot.png" 100 100)"
moat_check_eq "moat_img pixel just outside the block" "#1a2b3c" \
    "$(moat_img pixel "$T/shot.png" 99 100)"
moat_screenshot "$D" "$T/shot.ppm"
moat_check_eq "PNG and PPM screenshots agree" 0 "$(moat_img diff "$T/shot.png" "$T/shot.ppm")"

moat_check "a second pattern replaces the first" \
    moat_draw_pattern "$D" "$MOAT_PATTERN_BG" '#ff0000' 10 20 30 40
moat_screenshot "$D" "$T/shot2.png"
moat_check_eq "the new block has 1200 pixels" 1200 "$(moat_count_colour "$T/shot2.png" '#ff0000')"
moat_check_eq "the old block is gone" 0 "$(moat_count_colour "$T/shot2.png" '#f0c000')"
moat_check_eq "the two screenshots differ in the two blocks' pixels" 21200 \
    "$(moat_img diff "$T/shot.png" "$T/shot2.png")"
# A window over the block: the pattern cannot be seen, and the wait says so.
moat_bg xterm --x "$D" xterm -geometry 20x5+150+120
moat_check "an xterm maps on the display" \
    moat_wait moat_x "$D" xdotool search --onlyvisible --class xterm
MOAT_WAIT_TIMEOUT=2 moat_check_fails "moat_draw_pattern fails when a window hides the block" \
    moat_draw_pattern "$D"
moat_stop xterm
moat_check_fails "a pattern outside the screen is refused" \
    moat_img make 1280 800 '#000000' --rect 1200 700 200 200 '#ffffff' -o "$T/bad.ppm"

# ---- cleanup: a nested test that dies leaves nothing behind --------------------
# The child runs without a PID namespace, so its processes are visible here
# and only the library's own cleanup can stop them.
cat >"$T/child.sh" <<EOF
set -euo pipefail
source "$MOAT_E2E_DIR/lib.sh"
moat_test_begin "\$@"
out=\$1
moat_add_user moatchild child-pw-1
moat_start_xvfb CD 640x480
moat_bg stubborn bash -c 'trap "" TERM; echo ready; while :; do sleep 1; done'
moat_bg family sh -c 'sleep 600 & echo \$! >"\$0"; wait' "\$T/grandchild.pid"
moat_wait_log stubborn '^ready\$'
moat_wait test -s "\$T/grandchild.pid"
moat_bg late sleep 600
printf '%s\n' "\$T" "\$(moat_pid xvfb-\${CD#:})" "\$(moat_pid stubborn)" \
    "\$(moat_pid family)" "\$(cat "\$T/grandchild.pid")" "\$(moat_pid late)" >"\$out"
exit 3
EOF
child_rc=0
env -u MOAT_E2E_INNER MOAT_E2E_PIDNS=0 MOAT_STOP_TIMEOUT=1 \
    bash "$T/child.sh" "$T/child.out" >"$T/child.log" 2>&1 || child_rc=$?
moat_check_eq "the child's exit status survives its cleanup" 3 "$child_rc"
mapfile -t child <"$T/child.out"
moat_check_eq "the child reported its scratch dir and 5 pids" 6 "${#child[@]}"
moat_check_fails "the child's scratch directory is removed" test -e "${child[0]}"
for i in 1 2 3 4 5; do
	moat_check_fails "child process ${child[$i]:-?} is gone" moat_pid_alive "${child[$i]:-0}"
done
moat_check_fails "the child's user never reached this /etc" getent passwd moatchild
moat_check "the child's SIGTERM-proof process was killed" \
    grep -q 'sending SIGKILL: .*stubborn' "$T/child.log"

# A non-root caller gets a clear failure, not a skip.
mkdir -m 0755 "$T/nonroot"
cp "$MOAT_E2E_DIR/lib.sh" "$T/nonroot/lib.sh"
printf 'source "%s/lib.sh"\nmoat_test_begin\necho should-not-run\n' "$T/nonroot" >"$T/nonroot/t.sh"
chmod 0644 "$T/nonroot/lib.sh" "$T/nonroot/t.sh"
nonroot_rc=0
nonroot_out=$(env -u MOAT_E2E_INNER setpriv --reuid=65534 --regid=65534 --clear-groups \
    bash "$T/nonroot/t.sh" 2>&1) || nonroot_rc=$?
moat_check_eq "a non-root run fails with exit status 1" 1 "$nonroot_rc"
moat_check "and says it needs root" grep -q 'must run as root' <<<"$nonroot_out"

moat_test_end
