#!/bin/bash
# Authentication=SystemAuth+Radius end to end: moatd's monitor runs PAM and
# then RADIUS against a real FreeRADIUS (tests/e2e/radius.sh: replies
# signed with Message-Authenticator, a TOTP code asked in an
# Access-Challenge), and moat-viewer answers every question over moat's
# conversation:
#  - the user name, the system password, the RADIUS password and the TOTP
#    code log in, and the PNG equals the served display; the monitor logs
#    both factors as passed;
#  - a wrong TOTP code, a wrong RADIUS password and a wrong system password
#    are each refused (exit 3), and the failing factor is logged;
#  - two factors cannot be answered by standard viewers, so only VeNCrypt
#    with X509Conversation is offered: X509Plain and RA2 are not;
#  - a RADIUS server that does not answer is a refusal with its own reason,
#    audited as an error and not counted by the blacklist (which counts the
#    wrong answers above: BlacklistThreshold is on, high enough never to
#    block);
#  - moatd -t shows the parameters; Authentication=...Radius without
#    RadiusServers is a configuration error naming the file and line;
#  - RadiusAllowUnsigned=yes is logged as a warning when moatd starts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"
. "$MOAT_E2E_DIR/radius.sh"

RADIUS_PASS=radius-pw-42
moat_radius_start "$USER_NAME	Cleartext-Password := \"$RADIUS_PASS\", TOTP-Secret := \"$TOTP_KEY\""
RADIUS_CONF=("Authentication=SystemAuth+Radius" "RadiusServers=127.0.0.1:$RADIUS_PORT"
    "RadiusSecretFile=$T/secret" "RadiusTimeout=1" "RadiusRetries=1")
moat_server_start "${RADIUS_CONF[@]}" BlacklistThreshold=100
login()		# NAME WANT PASSWORD ANSWERS...: moat-viewer answers each question
{
	local name=$1 want=$2 pass=$3 a
	shift 3
	local -a args=()
	for a in "$@"; do args+=(--answer "$a"); done
	moat_viewer_login "$name" "$want" "$pass" "${args[@]}"
}

moat_screenshot "$SERVED" "$T/served.png"

login good 0 "$USER_PASS" "$RADIUS_PASS" "$(moat_totp_now)"
moat_check "good: the PNG equals the served display" moat_img diff "$T/good.png" "$T/served.png"
moat_check "both factors are logged as passed" \
    grep -Eq "factor Radius for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: passed" "$EVENTS"
moat_check "the RADIUS server accepted (signed)" \
    grep -Eq "Radius: user '$USER_NAME' from 127\.0\.0\.1: accepted by 127\.0\.0\.1:$RADIUS_PORT" "$EVENTS"

login wrong-code 3 "$USER_PASS" "$RADIUS_PASS" "$(moat_wrong_totp -b "$TOTP_KEY")"
moat_check "wrong code: the server's reason" grep -q "refused the login: Authentication failed" "$T/wrong-code.err"
login wrong-radius-pw 3 "$USER_PASS" not-the-radius-pw
moat_check "the failed Radius factor is logged" \
    grep -Eq "factor Radius for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: failed" "$EVENTS"
login wrong-system-pw 3 "not the password" "$RADIUS_PASS" "$(moat_totp_now)"
moat_check "the failed SystemAuth factor is logged" \
    grep -Eq "factor SystemAuth for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: failed" "$EVENTS"

# --- only the conversation is offered ---
for sec in x509plain ra2; do
	moat_viewer_login "std-$sec" 1 "$USER_PASS" --security "$sec"
done
moat_check "X509Plain is not offered" grep -q "does not offer X509Plain" "$T/std-x509plain.err"
moat_check "RA2 is not offered" grep -q "does not offer the security type" "$T/std-ra2.err"

# --- the RADIUS server does not answer: an outage, not a failure ---
counted()	# the blacklist's counted failures so far
{
	grep -c "blacklist: authentication failure from 127\.0\.0\.1 " "$EVENTS" || true
}
before=$(counted)
moat_stop freeradius
login no-radius 3 "$USER_PASS" "$RADIUS_PASS" 123456
moat_check "no answer: its own reason" \
    grep -q "refused the login: The authentication server did not answer" "$T/no-radius.err"
moat_check "and a log line" grep -q "Radius: user '$USER_NAME' from 127.0.0.1: no server answered" "$EVENTS"
moat_check "the blacklist says it does not count it" moat_wait_log "$EVENTS" \
    "blacklist: 127.0.0.1 not counted: an authentication service did not answer"
moat_check_eq "and counted no failure for it" "$before" "$(counted)"

# --- configuration ---
moat_check "moatd -t shows the canonical Authentication" \
    sh -c "'$(moat_bin moatd)' -t -f '$CONF' | grep -q '^Authentication=SystemAuth+Radius  # from '"
moat_write_config "$T/etc2/moatd.conf" "Authentication = radius" "LogFile=$T/x.log"
set +e
"$(moat_bin moatd)" -t -f "$T/etc2/moatd.conf" > "$T/t2.out" 2>&1
st=$?
set -e
moat_check_eq "Radius without RadiusServers is refused" 1 "$st"
moat_check "naming file, line and the missing parameter" \
    grep -q "$T/etc2/moatd.conf:1: Authentication uses Radius, but RadiusServers is not set" "$T/t2.out"

# --- RadiusAllowUnsigned=yes is logged at start ---
PORT2=$(moat_free_port)
moat_write_config "$T/etc3/moatd.conf" ListenAddress=127.0.0.1 "ListenPort=$PORT2" \
    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" "EmptyRoot=$T/empty" \
    "SessionSocket=$T/run/session3.sock" "LogFile=$T/events3.log" \
    "AuditFile=$T/audit3/audit.jsonl" \
    "${RADIUS_CONF[@]}" RadiusAllowUnsigned=yes
moat_bg moatd3 "$(moat_bin moatd)" -d -f "$T/etc3/moatd.conf"
moat_wait_port "$PORT2"
moat_check "the risk is logged" grep -q "RadiusAllowUnsigned=yes: RADIUS replies without a Message-Authenticator are accepted" "$T/events3.log"
# The port opens before the audit file does: stopped earlier, moatd3
# would leave no audit file to verify below.
moat_wait_log "$T/events3.log" "moatd listening on"
moat_stop moatd3

# --- the audit records (docs/audit.md) ---
F='"event":"auth_factor",.*"factor":'
U='"user":"'$USER_NAME'"'
moat_check "audit: the good login: SystemAuth passed, then Radius" sh -c \
    "grep -A1 -E '$F\"SystemAuth\",$U,\"result\":\"success\"' '$MOAT_AUDIT' | grep -Eq '$F\"Radius\",$U,\"result\":\"success\"'"
moat_check "audit: its login over the conversation" \
    grep -Eq '"event":"login",.*'"$U"',"result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Conversation"' "$MOAT_AUDIT"
moat_check_eq "audit: a wrong code and a wrong RADIUS password: two failed Radius factors" 2 \
    "$(grep -Ec "$F"'"Radius",'"$U"',"result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT" || true)"
moat_check "audit: the wrong system password's failed SystemAuth factor" \
    grep -Eq "$F"'"SystemAuth",'"$U"',"result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check "audit: the silent RADIUS server's factor is an error, with its reason" \
    grep -Eq "$F"'"Radius",'"$U"',"result":"error","reason":"The authentication server did not answer"' "$MOAT_AUDIT"
moat_check "audit: and the login refused for it is an error too" \
    grep -Eq '"event":"login",.*'"$U"',"result":"error","reason":"The authentication server did not answer"' "$MOAT_AUDIT"
moat_check_eq "audit: one login in all" 1 \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT")"
moat_audit_verify --live
moat_audit_verify "$T/audit3/audit.jsonl"

moat_test_end
