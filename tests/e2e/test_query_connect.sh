#!/bin/bash
# QueryConnect (docs/access-control.md, "Approval prompt"): moat-session
# asks the desktop user, in a window on the served display, to approve each
# authenticated connection. The prompt is driven with xdotool, the viewer is
# moat-viewer (headless, its framebuffer saved as PNG):
#  - accepted with Return: the viewer gets the desktop (the pattern's pixels);
#  - rejected with Escape, and with a click on Reject: the viewer is refused
#    with "Connection rejected by the desktop user" and sees nothing;
#  - accepted with a click on Accept;
#  - TigerVNC accepted with Return gets the desktop; while it is connected,
#    its click on Accept of the next prompt is dropped by moat-session and
#    the prompt stays open;
#  - not answered (after 7 s, beyond LoginGraceTime=4),
#    QueryConnectDefault=Reject: refused with "did not answer", not as out
#    of grace time; QueryConnectDefault=Accept: the viewer gets in; the
#    window goes away;
#  - a user with the Permissions letter q: no prompt at all, gets in;
#  - QueryConnect=no with IpClientAddresses '?127.0.0.1': the prompt appears
#    (and Return lets the viewer in); '+127.0.0.1' alone asks nothing.
# Each outcome is logged by the monitor. Waits on conditions only.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

TITLE='moat: connection request'
moat_server_start QueryConnect=yes QueryConnectTimeout=60 \
    QueryConnectDefault=Reject

# Accept and Reject buttons: their centres in the window (capture/cap_prompt.c).
ACCEPT_XY=(125 129)
REJECT_XY=(315 129)

# The prompt windows' ids (none: empty). xdotool search fails when a
# window it looks at goes away meanwhile: that is "none yet" too.
prompt_ids()
{
	moat_x "$SERVED" xdotool search --name "^$TITLE\$" 2>/dev/null || true
}

prompt_shown()
{
	[ -n "$(prompt_ids)" ]
}

prompt_gone()
{
	! prompt_shown
}

# viewer_bg NAME: moat-viewer logging in as the account, in the background.
viewer_bg()
{
	local name=$1
	rm -f "$T/$name.png"
	moat_bg "$name" MOAT_USER="$USER_NAME" MOAT_PASSWORD="$USER_PASS" \
	    timeout 90 "$(moat_bin moat-viewer)" --headless --ca "$CA" \
	    --known-hosts "$T/kh" --png "$T/$name.png" "127.0.0.1:$PORT"
}

# sees_desktop NAME: the viewer exited 0 and its PNG shows the pattern.
sees_desktop()
{
	local name=$1
	moat_check "$name: the viewer ends" moat_wait_exit "$name" 90
	moat_check_eq "$name: moat-viewer logged in" 0 "$MOAT_LAST_STATUS"
	moat_check_eq "$name: the viewer got the desktop (pattern pixels)" \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) \
	    "$(moat_count_colour "$T/$name.png" "$MOAT_PATTERN_FG")"
}

# refused NAME REASON: the viewer exited 3 with REASON and saw nothing.
refused()
{
	local name=$1 reason=$2
	moat_check "$name: the viewer ends" moat_wait_exit "$name" 90
	moat_check_eq "$name: moat-viewer was refused" 3 "$MOAT_LAST_STATUS"
	moat_check "$name: the viewer shows the reason" \
	    grep -q "$reason" "$(moat_logfile "$name")"
	moat_check_fails "$name: the viewer saw no desktop" test -e "$T/$name.png"
}

# outcome_logged VERDICT: the monitor logged this verdict for the account.
outcome_logged()
{
	moat_wait_log "$EVENTS" "approval prompt for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: $1"
}

# wait_prompt NAME: waits for the prompt; sets W to its window id.
wait_prompt()
{
	moat_check "$1: the prompt appears on the desktop" \
	    moat_wait -m "the approval prompt" prompt_shown
	W=$(prompt_ids | sed -n 1p)
	moat_check "$1: the prompt has a window id" test -n "$W"
	moat_check "$1: the prompt names the user and the address" \
	    moat_wait_log "$SESSION_LOG" "approval prompt [0-9]+: user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+"
}

# press KEY / click X Y: answer the prompt W. The window is destroyed as
# soon as moat-session reads the press, which may be while xdotool still
# talks to it (BadWindow): xdotool's status says nothing, the checks that
# follow (window gone, viewer's fate, monitor's log) decide. xdotool types
# into the focused window (the prompt) with XTEST and may stop before the
# release: the key is released again (moat-session ignores a key held
# since before its prompt appeared, but Xvfb would keep it down).
press()
{
	moat_x "$SERVED" xdotool key --window "$W" "$1" 2>/dev/null || true
	moat_x "$SERVED" xdotool keyup "$1" 2>/dev/null || true
}

click()
{
	moat_x "$SERVED" xdotool mousemove --window "$W" "$1" "$2" click 1 \
	    2>/dev/null || true
}

SESSION_LOG=$(moat_logfile session)

# --- accepted with Return ---
viewer_bg acc
wait_prompt acc
moat_check "acc: the viewer waits while the prompt is open" moat_alive acc
press Return
moat_check "acc: the prompt goes away once answered" moat_wait prompt_gone
sees_desktop acc
moat_check "acc: the monitor logs the acceptance" outcome_logged accepted

# --- rejected with Escape ---
viewer_bg rej
wait_prompt rej
press Escape
moat_check "rej: the prompt goes away once answered" moat_wait prompt_gone
refused rej "Connection rejected by the desktop user"
moat_check "rej: the monitor logs the rejection" outcome_logged rejected

# --- rejected and accepted with the mouse ---
viewer_bg clickrej
wait_prompt clickrej
click "${REJECT_XY[@]}"
refused clickrej "Connection rejected by the desktop user"
viewer_bg clickacc
wait_prompt clickacc
click "${ACCEPT_XY[@]}"
sees_desktop clickacc
moat_check_eq "the monitor logged two rejections" 2 \
    "$(grep -Ec "approval prompt for user \"$USER_NAME\" .*: rejected$" "$EVENTS")"

# --- TigerVNC, accepted; its clicks cannot answer the next prompt ---
moat_start_xvfb VIEWER 1024x768
pattern_in_tiger()
{
	moat_screenshot "$VIEWER" "$T/tiger.png" &&
	    [ "$(moat_count_colour "$T/tiger.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}
moat_tiger tiger
wait_prompt tiger
press Return
moat_check "tiger: TigerVNC shows the desktop once accepted" \
    moat_wait -m "pattern in TigerVNC" pattern_in_tiger
viewer_bg held
wait_prompt held
# Where Accept is on the desktop TigerVNC shows (the prompt is centred).
vwin=$(moat_x "$VIEWER" xdotool search --name "TigerVNC\$" | sed -n 1p)
moat_x "$VIEWER" xdotool mousemove --window "$vwin" \
    $(((800 - 440) / 2 + ACCEPT_XY[0])) $(((600 - 160) / 2 + ACCEPT_XY[1])) \
    click 1
moat_check "held: moat-session dropped TigerVNC's click on the prompt" \
    moat_wait_log "$SESSION_LOG" "channel [0-9]+: the viewer's key and button presses are dropped while an approval prompt is open"
moat_check "held: the prompt is still open" prompt_shown
moat_check "held: the new viewer still waits" moat_alive held
press Escape
refused held "Connection rejected by the desktop user"
moat_check "tiger: TigerVNC is still connected" moat_alive tiger
moat_stop tiger

# --- no answer: QueryConnectDefault=Reject ---
# The prompt outlasts LoginGraceTime: the grace time bounds the login only.
moat_stop moatd session
sed -i -e 's/^QueryConnectTimeout=.*/QueryConnectTimeout=7/' "$CONF"
printf 'LoginGraceTime=4\n' >>"$CONF"
moat_server_restart srv-timeout-reject SystemAuth
SESSION_LOG=$(moat_logfile srv-timeout-reject-session)
viewer_bg norej
wait_prompt norej
refused norej "Connection rejected: the desktop user did not answer"
moat_check "norej: the prompt goes away at its timeout" moat_wait prompt_gone
moat_check "norej: the monitor logs the default rejection" \
    outcome_logged "no answer, rejected \(QueryConnectDefault\)"
moat_check "norej: the connection ended as refused, not out of grace time" \
    moat_wait_log "$EVENTS" "disconnect: 127\.0\.0\.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, .*authentication failed"
moat_check_fails "norej: no login grace time was exceeded" \
    grep -q "login grace time" "$EVENTS"

# --- no answer: QueryConnectDefault=Accept ---
moat_stop srv-timeout-reject srv-timeout-reject-session
sed -i -e 's/^QueryConnectDefault=.*/QueryConnectDefault=Accept/' "$CONF"
moat_server_restart srv-timeout-accept SystemAuth
SESSION_LOG=$(moat_logfile srv-timeout-accept-session)
viewer_bg noacc
wait_prompt noacc
sees_desktop noacc
moat_check "noacc: the prompt is gone" prompt_gone
moat_check "noacc: the monitor logs the default acceptance" \
    outcome_logged "no answer, accepted \(QueryConnectDefault\)"
moat_check_fails "noacc: no login grace time was exceeded" \
    grep -q "login grace time" "$EVENTS"

# --- a user with the Permissions letter q is not asked ---
moat_stop srv-timeout-accept srv-timeout-accept-session
sed -i -e 's/^QueryConnectTimeout=.*/QueryConnectTimeout=60/' \
    -e 's/^QueryConnectDefault=.*/QueryConnectDefault=Reject/' \
    -e '/^LoginGraceTime=/d' "$CONF"
printf 'Permissions=%s:vkpcsq\n' "$USER_NAME" >>"$CONF"
moat_server_restart srv-bypass SystemAuth
SESSION_LOG=$(moat_logfile srv-bypass-session)
viewer_bg bypass
sees_desktop bypass
moat_check "bypass: the monitor logs that it did not ask" \
    outcome_logged "not asked \(QueryConnect; Permissions q\)"
moat_check_fails "bypass: moat-session never showed a prompt" \
    grep -q "approval prompt" "$SESSION_LOG"
moat_check "bypass: no prompt window is left" prompt_gone

# --- QueryConnect=no: a '?' rule asks, a '+' rule does not ---
moat_stop srv-bypass srv-bypass-session
sed -i -e '/^QueryConnect=/d' -e '/^Permissions=/d' "$CONF"
printf '%s\n' QueryConnect=no 'IpClientAddresses=?127.0.0.1,-' >>"$CONF"
moat_server_restart srv-ask SystemAuth
SESSION_LOG=$(moat_logfile srv-ask-session)
viewer_bg ask
wait_prompt ask
moat_check "ask: the monitor names the '?' rule" \
    grep -Eq "asking the desktop user to approve user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+ \(IpClientAddresses rule 1, 60s\)" "$EVENTS"
press Return
sees_desktop ask
moat_check "ask: the monitor logs the acceptance" outcome_logged accepted
moat_stop srv-ask srv-ask-session
sed -i -e 's/^IpClientAddresses=.*/IpClientAddresses=+127.0.0.1,-/' "$CONF"
moat_server_restart srv-plus SystemAuth
SESSION_LOG=$(moat_logfile srv-plus-session)
viewer_bg plus
sees_desktop plus
moat_check_fails "plus: moat-session never showed a prompt" \
    grep -q "approval prompt" "$SESSION_LOG"
moat_check_fails "plus: the monitor asked nothing" \
    grep -q "approval prompt" "$EVENTS"


# The audit records (docs/audit.md; AuditFile's default, private to the test).
AUDIT=/var/log/moat/audit.jsonl
q='"event":"query",.*"user":"'"$USER_NAME"'","verdict":'
moat_check "audit: a prompt accepted by the desktop user" \
    grep -Eq "$q"'"accepted","how":"desktop user"' "$AUDIT"
moat_check "audit: a prompt rejected by the desktop user" \
    grep -Eq "$q"'"rejected","how":"desktop user"' "$AUDIT"
moat_check "audit: no answer, rejected by QueryConnectDefault" \
    grep -Eq "$q"'"rejected","how":"no answer, QueryConnectDefault"' "$AUDIT"
moat_check "audit: no answer, accepted by QueryConnectDefault" \
    grep -Eq "$q"'"accepted","how":"no answer, QueryConnectDefault"' "$AUDIT"
moat_check "audit: the user with the letter q was not asked" \
    grep -Eq "$q"'"bypassed","how":"Permissions q"' "$AUDIT"
moat_check "audit: the refused login names the prompt" \
    grep -Eq '"event":"login",.*"result":"failure","reason":"Connection rejected by the desktop user"' "$AUDIT"
moat_audit_verify --live

moat_test_end
