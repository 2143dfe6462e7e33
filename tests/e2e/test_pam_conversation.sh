#!/bin/bash
# SystemAuth with the full PAM conversation, end to end, with real PAM:
#  - moat-viewer logs in over moat's conversation (VeNCrypt subtype
#    X509Conversation) with pam_unix alone, and its PNG equals the served
#    display; a wrong password and an unknown user are refused with the
#    same reason;
#  - with a stack that shows a message (pam_echo, naming PAM_RHOST), asks
#    the password (pam_unix) and then a one-time code (pam_oath, TOTP): the
#    viewer shows the message with the viewer's address, answers both
#    questions and logs in; a wrong code or a replayed one is refused;
#  - with that stack, a standard login (X509Plain, RA2) cannot answer the
#    second question: refused with a reason that names the conversation;
#  - an expired account (pam_unix's account check) is refused ("Account
#    expired") even with the right password;
#  - the monitor logs each factor with its outcome.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

OATH_KEY=3132333435363738393031323334353637383930	# RFC 6238's test key
PAM_OATH=$(find /lib /usr/lib -name pam_oath.so -path '*security*' 2>/dev/null | head -n 1)
[[ -n "$PAM_OATH" ]] || moat_fail "pam_oath.so is not installed (libpam-oath)"

moat_server_start
moat_screenshot "$SERVED" "$T/served.png"

# --- pam_unix alone, over the conversation ---
moat_viewer_login conv 0 "$USER_PASS"
moat_check "over the conversation, its choice by default" \
    grep -q "^moat-viewer: VeNCrypt X509Conversation$" "$T/conv.err"
moat_check "the PNG equals the served display" moat_img diff "$T/conv.png" "$T/served.png"
moat_viewer_login wrong 3 'not the password'
USER_NAME=moatnosuchuser moat_viewer_login unknown 3 "$USER_PASS"
moat_check "an unknown user is refused with the same reason" \
    grep -q "refused the login: Authentication failed" "$T/unknown.err"
moat_check "with the server's reason" \
    grep -q "refused the login: Authentication failed" "$T/wrong.err"

# --- the account check ---
chage -E 0 "$USER_NAME"
moat_viewer_login expired 3 "$USER_PASS"
chage -E -1 "$USER_NAME"
moat_check "with the reason" grep -q "refused the login: Account expired" "$T/expired.err"

# --- a message, the password and a one-time code ---
umask 077
printf 'HOTP/T30/6 %s - %s\n' "$USER_NAME" "$OATH_KEY" > "$T/users.oath"
umask 022
moat_pam_service moat \
    "auth optional pam_echo.so Welcome %u, connecting from %H" \
    "auth required pam_unix.so" \
    "auth required $PAM_OATH usersfile=$T/users.oath window=2" \
    "account required pam_unix.so"
code()	# the TOTP code for now
{
	oathtool --totp "$OATH_KEY"
}

c1=$(code)
moat_viewer_login otp 0 "$USER_PASS" --answer "$c1"
moat_check "the PNG equals the served display" moat_img diff "$T/otp.png" "$T/served.png"
moat_check "the viewer showed PAM's message, with PAM_RHOST" \
    grep -q "moat-viewer: server: Welcome $USER_NAME, connecting from 127.0.0.1$" "$T/otp.err"
moat_check "the monitor logged the factor" \
    grep -Eq "factor SystemAuth for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: passed" "$EVENTS"

moat_viewer_login badcode 3 "$USER_PASS" --answer "$(moat_wrong_totp "$OATH_KEY")"
moat_check "the failed factor is logged" \
    grep -Eq "factor SystemAuth for user \"$USER_NAME\" from 127\.0\.0\.1 port [0-9]+: failed" "$EVENTS"
# pam_oath remembers the last code used: the same code cannot log in twice.
moat_viewer_login replay 3 "$USER_PASS" --answer "$c1"

# --- standard logins cannot answer the second question ---
for sec in x509plain ra2; do
	moat_viewer_login "std-$sec" 3 "$USER_PASS" --security "$sec"
	moat_check "$sec: the reason names the conversation" \
	    grep -q "refused the login: This server asks more than a user name and a password" "$T/std-$sec.err"
done

# --- the audit records (docs/audit.md) ---
F='"event":"auth_factor",.*"factor":"SystemAuth","user":'
L='"event":"login",.*"user":'
moat_check "audit: the conversation's login" \
    grep -Eq "$L"'"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Conversation"' "$MOAT_AUDIT"
moat_check_eq "audit: two logins in all (pam_unix alone, then with the one-time code)" 2 \
    "$(grep -c '"event":"login",.*"result":"success"' "$MOAT_AUDIT")"
moat_check "audit: the unknown user's failed factor names the name tried" \
    grep -Eq "$F"'"moatnosuchuser","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check "audit: the expired account's factor failed with PAM's reason" \
    grep -Eq "$F"'"'"$USER_NAME"'","result":"failure","reason":"Account expired"' "$MOAT_AUDIT"
moat_check "audit: and so did its login" \
    grep -Eq "$L"'"'"$USER_NAME"'","result":"failure","reason":"Account expired"' "$MOAT_AUDIT"
moat_check_eq "audit: X509Plain and RA2 logins refused, naming the conversation" 2 \
    "$(grep -c '"event":"login",.*"result":"failure","reason":"This server asks more than a user name and a password' "$MOAT_AUDIT")"
moat_check "audit: the RA2 attempt's security record" \
    grep -Eq '"event":"security",.*"security_type":"RA2",.*AES-128-EAX' "$MOAT_AUDIT"
moat_audit_verify --live

moat_test_end
