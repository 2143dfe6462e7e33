# shellcheck shell=bash
# server.sh - starts a complete moat server for an end-to-end test: a PAM
# account, moatd with its own configuration under $T, a served Xvfb display
# with the standard pattern, and moat-session running as the account on it.
# Sourced after lib.sh and moat_test_begin. Test code; trusts the build.
#
# After moat_server_start these are set:
#   PORT      the TCP port moatd listens on (127.0.0.1)
#   CA        the identity certificate viewers pin (the CA of the leaf certs)
#   CONF      the configuration file
#   SERVED    the served display (":N")
#   USER_NAME / USER_PASS   the account that may log in
#   EVENTS    moatd's LogFile (every log line, as sent to syslog)
#
# MOAT_MOATD_WRAPPER and MOAT_SESSION_WRAPPER (arrays, empty by default) are
# command words put before moatd and moat-session, e.g. valgrind and its
# options (tests/e2e/test_valgrind.sh).

USER_NAME=moattest
USER_PASS='Tr1cky pass!'
MOAT_MOATD_WRAPPER=("${MOAT_MOATD_WRAPPER[@]}")
MOAT_SESSION_WRAPPER=("${MOAT_SESSION_WRAPPER[@]}")

# moat_server_start [Key=Value ...]: extra configuration lines are appended
# (for parameters not set here). PORT, when set before the call, is used as
# the listening port; otherwise a free one is chosen.
moat_server_start()
{
	moat_ensure_net_user
	moat_pam_service moat
	moat_empty_root "$T/empty"
	moat_add_user "$USER_NAME" "$USER_PASS"
	PORT=${PORT:-$(moat_free_port)}
	CONF=$T/etc/moatd.conf
	CA=$T/etc/identity.crt
	EVENTS=$T/events.log
	# The blacklist and the caps on connections not yet authenticated
	# are off unless the test sets them: tests fail logins on purpose and
	# open connections side by side, all from 127.0.0.1.
	local -a access=() a d
	for d in BlacklistThreshold=0 MaxStartups=1000 PerSourceMaxStartups=1000; do
		for a in "$@"; do
			[[ "${a%%=*}" == "${d%%=*}" ]] && continue 2
		done
		access+=("$d")
	done
	moat_write_config "$CONF" \
	    ListenAddress=127.0.0.1 "ListenPort=$PORT" \
	    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" \
	    "EmptyRoot=$T/empty" "SessionSocket=$T/run/session.sock" \
	    "LogFile=$EVENTS" "${access[@]}" "$@"
	moat_start_xvfb SERVED 800x600
	moat_draw_pattern "$SERVED"
	moat_bg moatd "${MOAT_MOATD_WRAPPER[@]}" "$(moat_bin moatd)" -d -f "$CONF"
	moat_wait_port "$PORT"
	moat_start_session
}

# Starts (or restarts) moat-session as the account on the served display.
moat_start_session()
{
	local name=${1:-session}

	moat_bg "$name" --as "$USER_NAME" --x "$SERVED" \
	    "${MOAT_SESSION_WRAPPER[@]}" "$(moat_user_bin moat-session)" \
	    --socket "$T/run/session.sock"
	moat_wait_log "$EVENTS" "desktop session $SERVED registered"
}

# Prints the pids of live moat-net processes, one a line.
moat_net_pids()
{
	pgrep -x moat-net || true
}

# Runs the scriptable test viewer (tests/tools/rfb_probe.py) against moatd.
moat_probe()
{
	python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
	    --ca "$CA" "$@"
}

# moat_viewer_login NAME WANT PASSWORD [ARGS...]: runs moat-viewer headless
# as the account's client (user name from MOAT_USER, PASSWORD from
# MOAT_PASSWORD, known hosts in $T/kh, the identity pinned with --ca),
# writing $T/NAME.png and its stderr to $T/NAME.err, and checks that it
# exits with status WANT (0 logged in, 3 refused, 4 identity refused).
moat_viewer_login()
{
	local name=$1 want=$2 pass=$3 st
	shift 3
	set +e
	MOAT_USER=$USER_NAME MOAT_PASSWORD=$pass timeout 60 \
	    "$(moat_bin moat-viewer)" --headless --ca "$CA" --known-hosts "$T/kh" \
	    --png "$T/$name.png" "$@" "127.0.0.1:$PORT" 2>"$T/$name.err"
	st=$?
	set -e
	moat_check_eq "$name: moat-viewer exits with $want" "$want" "$st"
}

# moat_wrong_totp OATHTOOL-KEY-ARGS...: prints a 6-digit code that is none of
# the TOTP codes from 3 steps (90 s) before now to 3 steps after, so no
# server window accepts it (e.g. moat_wrong_totp -b BASE32KEY).
moat_wrong_totp()
{
	local near c
	near=$(oathtool --totp -w 6 -N "$(date -u -d '-90 seconds' \
	    '+%Y-%m-%d %H:%M:%S UTC')" "$@") || moat_fail "oathtool failed"
	for c in 000000 000001 000002 000003 000004 000005 000006 000007; do
		if ! grep -qx "$c" <<<"$near"; then
			printf '%s\n' "$c"
			return 0
		fi
	done
	moat_fail "no wrong TOTP code found"
}

# moat_start_typer NAME [GEOMETRY]: starts (as process NAME) an xterm on the
# served display that saves the first line typed into it; waits until it is
# mapped and gives it the input focus (no window manager runs).
# moat_typed_is NAME TEXT is true once that line is TEXT.
moat_start_typer()
{
	local name=$1 geometry=${2:-40x5+400+300}

	install -d -o "$USER_NAME" -m 0700 "$T/typer"
	moat_bg "$name" --as "$USER_NAME" --x "$SERVED" xterm -geometry "$geometry" \
	    -title "moat-$name" -e sh -c \
	    "read line; echo \"\$line\" > $T/typer/$name.txt; exec sleep 600"
	moat_wait -m "the xterm $name on the served display, mapped" \
	    moat_x "$SERVED" xdotool search --onlyvisible --name "moat-$name"
	moat_x "$SERVED" xdotool search --onlyvisible --name "moat-$name" \
	    windowfocus --sync || moat_fail "cannot focus the xterm $name"
}

moat_typed_is()
{
	grep -qx -- "$2" "$T/typer/$1.txt" 2>/dev/null
}

# moat_scroll_and_move LINES "X Y"...: an xterm (process "term") on the served
# display scrolls LINES lines, paced so that viewers see many separate scroll
# steps, then is moved to each position in turn: CopyRect's workload.
moat_scroll_and_move()
{
	local lines=$1 w p
	shift
	install -d -o "$USER_NAME" -m 0700 "$T/term"
	cat > "$T/term/scroll.sh" <<'EOS'
i=0
while [ $i -lt "$2" ]; do
	echo "line $i $(head -c 36 /dev/urandom | base64)"
	i=$((i + 1))
	sleep 0.02
done
touch "$1/done"
exec sleep 1000
EOS
	chown "$USER_NAME" "$T/term/scroll.sh"
	moat_bg term --as "$USER_NAME" --x "$SERVED" xterm -geometry 80x30+20+150 \
	    -title moat-scroll -e sh "$T/term/scroll.sh" "$T/term" "$lines"
	moat_wait -t 120 -m "the xterm finished scrolling" test -e "$T/term/done"
	w=$(moat_x "$SERVED" xdotool search --name moat-scroll | head -1)
	for p in "$@"; do
		# shellcheck disable=SC2086 # "X Y"
		moat_x "$SERVED" xdotool windowmove --sync "$w" $p
	done
}

# moat_check_tigervnc_input VIEWER: with TigerVNC's viewer logged in on display
# VIEWER, checks that keys typed into it reach an X client on the served
# display (typer "typer") and that text copied on the served desktop reaches
# the viewer's clipboard.
moat_check_tigervnc_input()
{
	local viewer=$1 vwin

	moat_start_typer typer
	vwin=$(moat_x "$viewer" xdotool search --name "TigerVNC\$" | head -1) ||
	    moat_fail "no viewer window"
	moat_x "$viewer" xdotool windowfocus "$vwin" ||
	    moat_fail "cannot focus the viewer window"
	moat_x "$viewer" xdotool type --delay 50 'Moat 42'
	moat_x "$viewer" xdotool key Return
	moat_check "keys typed into the viewer reached the X client" \
	    moat_wait -m "typed text" moat_typed_is typer 'Moat 42'

	printf 'from-desktop-%s' "$$" | moat_x "$SERVED" xclip -selection clipboard -i
	moat_check "text copied on the served desktop reaches the viewer's clipboard" \
	    moat_wait -m "clipboard in the viewer" sh -c \
	    "DISPLAY=$viewer XAUTHORITY=$(moat_xauth "$viewer") xclip -o -selection clipboard 2>/dev/null | grep -qx 'from-desktop-$$'"
}

# moat_server_restart NAME AUTH: starts moatd again (process NAME, with its
# desktop session NAME-session) with Authentication=AUTH and a fresh LogFile,
# $T/NAME-events.log (EVENTS is set to it); the previous moatd and session
# must have been stopped (moat_stop). The rest of the configuration is kept.
moat_server_restart()
{
	local name=$1 auth=$2
	EVENTS=$T/$name-events.log
	if grep -q '^Authentication=' "$CONF"; then
		sed -i -e "s|^Authentication=.*|Authentication=$auth|" "$CONF"
	else
		printf 'Authentication=%s\n' "$auth" >>"$CONF"
	fi
	sed -i -e "s|^LogFile=.*|LogFile=$EVENTS|" "$CONF"
	moat_bg "$name" "${MOAT_MOATD_WRAPPER[@]}" "$(moat_bin moatd)" -d -f "$CONF"
	moat_wait_port "$PORT"
	moat_start_session "$name-session"
}

# moat_tiger NAME [ARGS...]: TigerVNC's viewer in the background on the
# display $VIEWER, logging in over X509Plain as $USER_NAME with $USER_PASS
# and trusting $CA; ARGS go before the server's address.
moat_tiger()
{
	local name=$1
	shift
	moat_bg "$name" --x "$VIEWER" HOME="$T" VNC_USERNAME="$USER_NAME" \
	    VNC_PASSWORD="$USER_PASS" xtigervncviewer -SecurityTypes X509Plain \
	    -X509CA "$CA" -X509CRL= -ReconnectOnError=0 -AlertOnFatalError=0 \
	    -Log '*:stderr:100' "$@" "127.0.0.1::$PORT"
}
