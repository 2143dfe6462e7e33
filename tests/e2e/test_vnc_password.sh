#!/bin/bash
# The VncPassword scheme end to end, with real PAM beside it:
#  - moatctl password --stdin sets the account's VNC password: the file is
#    root's, mode 0600, one USER:$y$... line, and holds no plaintext;
#  - moatd loads the file at start: a password set while it runs works
#    only after a restart;
#  - Authentication=VncPassword: moat-viewer logs in over the conversation,
#    X509Plain and RA2_256, and TigerVNC over X509Plain; a wrong password,
#    an unknown user and the account's system password are refused; the
#    monitor logs the factor;
#  - Authentication=VncPassword+SystemAuth needs both, in that order
#    (moat-viewer with --answer): either one alone, or both swapped, is
#    refused, and standard credentials are not offered;
#  - moatctl password --delete removes the entry and keeps the others;
#  - moatd refuses to start, naming the file, when it is group- or
#    world-readable (mode 0644) or missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

VNC_PASS='Vnc pa$$ 42!'
PWFILE=$T/etc/vnc-passwords

# An empty file (no passwords yet) is valid: moatd starts and warns.
mkdir -m 0755 "$T/etc"
install -m 0600 -o root -g root /dev/null "$PWFILE"
moat_server_start Authentication=VncPassword "VncPasswordFile=$PWFILE"
moat_screenshot "$SERVED" "$T/served.png"
moat_check "an empty file is logged at start" \
    grep -q "the VNC password file holds no password" "$EVENTS"

# --- moatctl password ---
moatctl()
{
	"$(moat_bin moatctl)" "$@"
}
set_password()	# USER PASSWORD OUT: moatctl password --stdin, its output in OUT
{
	printf '%s\n' "$2" | moatctl password -f "$CONF" --stdin "$1" > "$3" 2>&1
}
moat_check "moatctl password --stdin sets the password" \
    set_password "$USER_NAME" "$VNC_PASS" "$T/set.out"
moat_check "and says so, with the restart" \
    grep -qx "VNC password of $USER_NAME set in $PWFILE\." "$T/set.out"
moat_check_eq "the file is root's, mode 0600" "root 600" "$(stat -c '%U %a' "$PWFILE")"
moat_check "one line: the user and a cost-7 yescrypt hash" \
    grep -Eqx "$USER_NAME"':[$]y[$]jBT[$][./0-9A-Za-z]{22}[$][./0-9A-Za-z]{43}' "$PWFILE"
moat_check_eq "and nothing else" 1 "$(wc -l < "$PWFILE")"
moat_check_fails "the file holds no plaintext" grep -qF "$VNC_PASS" "$PWFILE"
cp -p "$PWFILE" "$T/pw.before"
moat_check_fails "too short a password is refused" \
    set_password "$USER_NAME" abcde "$T/short.out"
moat_check "saying why" grep -q "a VNC password is 6 to 255 bytes" "$T/short.out"
moat_check_fails "an account that does not exist is refused" \
    set_password moatnosuchuser abcdefgh "$T/nosuch.out"
moat_check "saying why" grep -q "there is no account named moatnosuchuser" "$T/nosuch.out"
moat_check "the file is unchanged" cmp "$PWFILE" "$T/pw.before"

# --- loaded at start: the new password needs a restart ---
moat_viewer_login stale 3 "$VNC_PASS"
moat_check "the running moatd has no password for the user" \
    grep -q "VncPassword: user '$USER_NAME': no VNC password set" "$EVENTS"
# serve NAME AUTH: restarts moatd as NAME with Authentication=AUTH and a
# fresh LogFile ($EVENTS), then the desktop session.
serve()
{
	local name=$1 auth=$2
	EVENTS=$T/$name-events.log
	sed -i -e "s|^Authentication=.*|Authentication=$auth|" \
	    -e "s|^LogFile=.*|LogFile=$EVENTS|" "$CONF"
	moat_bg "$name" "$(moat_bin moatd)" -d -f "$CONF"
	moat_wait_port "$PORT"
	moat_start_session "$name-session"
}
moat_stop session moatd
serve moatd2 VncPassword
moat_check "moatd logs how many passwords it loaded" \
    grep -q "$PWFILE: 1 VNC password loaded" "$EVENTS"

# --- Authentication=VncPassword ---
moat_viewer_login conv 0 "$VNC_PASS"
moat_check "over the conversation" \
    grep -q "^moat-viewer: VeNCrypt X509Conversation$" "$T/conv.err"
moat_check "the PNG equals the served display" moat_img diff "$T/conv.png" "$T/served.png"
moat_check "the monitor logged the factor" \
    grep -Eq "factor VncPassword for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: passed" "$EVENTS"
for sec in x509plain ra2_256; do
	moat_viewer_login "std-$sec" 0 "$VNC_PASS" --security "$sec"
done
moat_viewer_login wrong 3 'not the VNC password'
moat_check "a wrong password: the server's reason" \
    grep -q "refused the login: Authentication failed" "$T/wrong.err"
moat_check "and the failed factor is logged" \
    grep -Eq "factor VncPassword for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: failed" "$EVENTS"
moat_viewer_login syspw 3 "$USER_PASS"
moat_viewer_login syspw-plain 3 "$USER_PASS" --security x509plain
USER_NAME=moatnosuchuser moat_viewer_login unknown 3 "$VNC_PASS"
moat_check "an unknown user is refused with the same reason" \
    grep -q "refused the login: Authentication failed" "$T/unknown.err"
moat_check "the log says why" grep -q "VncPassword: user 'moatnosuchuser': no VNC password set" "$EVENTS"

# --- TigerVNC over X509Plain ---
moat_start_xvfb VIEWER 1024x768
tiger()	# NAME PASSWORD
{
	moat_bg "$1" --x "$VIEWER" HOME="$T" VNC_USERNAME="$USER_NAME" \
	    VNC_PASSWORD="$2" xtigervncviewer -SecurityTypes X509Plain \
	    -X509CA "$CA" -X509CRL= -ReconnectOnError=0 -AlertOnFatalError=0 \
	    -Log '*:stderr:100' "127.0.0.1::$PORT"
}
pattern_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer.png" &&
	    [ "$(moat_count_colour "$T/viewer.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}
tiger tiger-good "$VNC_PASS"
moat_check "TigerVNC logs in with the VNC password" \
    moat_wait_log tiger-good "Authentication success"
moat_check "and shows the served pattern" \
    moat_wait -m "pattern in the viewer" pattern_in_viewer
moat_stop tiger-good
tiger tiger-bad "$USER_PASS"
moat_wait_exit tiger-bad 30 || true
moat_check "TigerVNC with the system password is refused" \
    grep -q "Authentication failed" "$(moat_logfile tiger-bad)"
moat_check_fails "and did not log in" \
    grep -q "Authentication success" "$(moat_logfile tiger-bad)"

# --- Authentication=VncPassword+SystemAuth ---
moat_stop moatd2-session moatd2
serve moatd3 VncPassword+SystemAuth
factor_lines()	# SCHEME OUTCOME: the monitor's lines for the test account
{
	grep -E "factor $1 for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: $2" "$EVENTS" || true
}
moat_viewer_login both 0 "$VNC_PASS" --answer "$USER_PASS"
moat_check "the PNG equals the served display" moat_img diff "$T/both.png" "$T/served.png"
moat_check_eq "both factors passed, VncPassword first" "VncPassword SystemAuth" \
    "$(grep -oE 'factor (VncPassword|SystemAuth) for user .*: passed' "$EVENTS" | cut -d' ' -f2 | xargs)"
moat_viewer_login only-vnc 3 "$VNC_PASS" --answer 'not the system password'
moat_viewer_login only-system 3 'not the VNC password' --answer "$USER_PASS"
moat_viewer_login swapped 3 "$USER_PASS" --answer "$VNC_PASS"
moat_check_eq "VncPassword passed for 2 of the 4 logins, failed for 2" "2 2" \
    "$(factor_lines VncPassword passed | wc -l) $(factor_lines VncPassword failed | wc -l)"
moat_check_eq "SystemAuth ran only after a passed VncPassword" "1 1" \
    "$(factor_lines SystemAuth passed | wc -l) $(factor_lines SystemAuth failed | wc -l)"
moat_viewer_login two-plain 1 "$VNC_PASS" --security x509plain
moat_check "standard credentials are not offered with two factors" \
    grep -q "does not offer X509Plain" "$T/two-plain.err"

# --- moatctl password --delete ---
moat_check "a second user's password" set_password moat-net second-password "$T/second.out"
moat_check "--delete removes the entry" moatctl password -f "$CONF" --delete "$USER_NAME"
moat_check_fails "the user is gone" grep -q "^$USER_NAME:" "$PWFILE"
moat_check "the others are kept" grep -q "^moat-net:\\\$y\\\$" "$PWFILE"
moat_check_fails "--delete of a user without a password fails" \
    moatctl password -f "$CONF" --delete "$USER_NAME"

# --- moatd refuses an unsafe or missing file ---
moat_stop moatd3-session moatd3
refused()	# NAME: moatd must exit 1 at start, its message in $T/NAME.err
{
	local st
	set +e
	timeout 30 "$(moat_bin moatd)" -d -f "$CONF" > "$T/$1.err" 2>&1
	st=$?
	set -e
	moat_check_eq "$1: moatd refuses to start" 1 "$st"
}
chmod 0644 "$PWFILE"
refused unsafe
moat_check "naming the file and its mode" \
    grep -q "moatd: $PWFILE: VNC password file has mode 0644" "$T/unsafe.err"
chmod 0600 "$PWFILE"
ln -s "$PWFILE" "$T/etc/vnc-link"
sed -i "s|^VncPasswordFile=.*|VncPasswordFile=$T/etc/vnc-link|" "$CONF"
refused symlink
moat_check "a symbolic link: named" \
    grep -q "moatd: $T/etc/vnc-link: VNC password file is a symbolic link" "$T/symlink.err"
sed -i "s|^VncPasswordFile=.*|VncPasswordFile=$T/etc/missing|" "$CONF"
refused missing
moat_check "a missing file: named" \
    grep -q "moatd: $T/etc/missing: cannot open the VNC password file: No such file or directory" "$T/missing.err"

# --- the audit records (docs/audit.md): three moatd runs in one chain ---
in_run()	# N: the records of moatd's Nth run
{
	awk -v n="$1" '/"event":"audit_start"/ { run++ } run == n' "$MOAT_AUDIT"
}
outcomes()	# N FACTOR: "passed failed" counts of FACTOR in run N, for the test account
{
	local recs
	recs=$(in_run "$1" | grep '"event":"auth_factor",.*"factor":"'"$2"'","user":"'"$USER_NAME"'"' || true)
	printf '%s %s\n' "$(grep -c '"result":"success"' <<<"$recs" || true)" \
	    "$(grep -c '"result":"failure"' <<<"$recs" || true)"
}
moat_check_eq "audit: three moatd runs (the refused starts wrote nothing)" 3 \
    "$(grep -c '"event":"audit_start"' "$MOAT_AUDIT")"
moat_check_eq "audit: the stale password failed the factor in the first run" "0 1" \
    "$(outcomes 1 VncPassword)"
moat_check_eq "audit: the second run's logins, by security type (conversation, X509Plain, RA2_256, TigerVNC)" \
    "VeNCrypt X509Conversation,VeNCrypt X509Plain,RA2_256,VeNCrypt X509Plain" \
    "$(in_run 2 | sed -n 's/.*"event":"login",.*"result":"success",.*"security_type":"\([^"]*\)".*/\1/p' | paste -sd,)"
moat_check_eq "audit: its VncPassword factors: 4 passed; wrong, system password (twice) and TigerVNC's failed" "4 4" \
    "$(outcomes 2 VncPassword)"
moat_check "audit: the unknown user's failed factor" \
    grep -Eq '"event":"auth_factor",.*"factor":"VncPassword","user":"moatnosuchuser","result":"failure"' "$MOAT_AUDIT"
moat_check_eq "audit: VncPassword+SystemAuth: VncPassword passed twice, failed twice" "2 2" \
    "$(outcomes 3 VncPassword)"
moat_check_eq "audit: SystemAuth ran only after a passed VncPassword" "1 1" \
    "$(outcomes 3 SystemAuth)"
moat_check "audit: both factors of the login, VncPassword first" \
    sh -c "grep -A1 '\"factor\":\"VncPassword\",\"user\":\"$USER_NAME\",\"result\":\"success\"' '$MOAT_AUDIT' |
    grep -q '\"factor\":\"SystemAuth\",\"user\":\"$USER_NAME\",\"result\":\"success\"'"
moat_check_eq "audit: one login in the third run" 1 \
    "$(in_run 3 | grep -c '"event":"login",.*"result":"success"')"
moat_audit_verify

moat_test_end
