#!/bin/bash
# The Certificate factor end to end, with a smartcard (SoftHSM2 through
# PKCS#11, tests/e2e/smartcard.sh) whose keys were generated on the token:
#  a. Authentication=Certificate: moat-viewer with alice's certificate and
#     key on the token and the right PIN logs in over the conversation as
#     alice (no user name asked), its PNG equals alice's served desktop, and
#     the monitor logs the certificate (subject, issuer, fingerprint), its
#     mapping to "alice" and the factor passed;
#  b. a wrong PIN: moat-viewer says the smartcard refused the PIN and exits
#     1 before connecting: moatd sees no connection from it;
#  c. alice's address certified by another CA (software key): refused, the
#     log names the chain and the reason;
#  d. bob's certificate, on the token but revoked in the CRL: refused, the
#     log says revoked;
#  e. Authentication=Certificate+SystemAuth: the card and the right
#     password log in, both factors passed in that order; the card with a
#     wrong password, and the right password without a certificate, are
#     refused: one factor is never enough;
#  f. a standard viewer path: with Authentication=Certificate the server
#     does not offer X509Plain, and moat-viewer --security x509plain says so;
#  g. Authentication=SystemAuth+Certificate: alice's password and card log
#     in; carol's password with alice's card is refused (the card must be
#     the account's);
#  h. Authentication=Certificate,SystemAuth (alternatives): the card alone
#     logs in, so does the password alone without a card; a revoked card is
#     refused and does not fall back to the password;
#  i. moat-net's word is not a proof (test build): a certificate whose CN
#     makes moat-net answer the proof-of-possession question itself, as a
#     compromised moat-net holding only the public certificate could, is
#     refused although its viewer holds the key; the same viewer with a
#     sibling certificate (same CA, same address, CN alice-software) logs in.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"
. "$MOAT_E2E_DIR/smartcard.sh"

USER_NAME=alice
USER_PASS='Al1ce system pw!'
moat_smartcard_setup "$T/card"

# --- the fixture itself, by openssl's rules (strict, TLS client) ---
moat_check "alice's card certificate verifies against the card CA and CRL" \
    moat_card_verify "$CARD_ALICE_PEM"
# shellcheck disable=SC2317 # called through moat_check
verify_says()	# CERT TEXT: openssl's verdict on CERT includes TEXT
{
	{ moat_card_verify "$1" || true; } | grep -F -- "$2"
}
moat_check "openssl: bob's is revoked" verify_says "$CARD_BOB_PEM" "certificate revoked"
moat_check "openssl: the other CA's has no known issuer" \
    verify_says "$OTHER_ALICE_CERT" "unable to get local issuer certificate"

moat_server_start Authentication=Certificate \
    "CertificateCaFile=$CARD_CA" "CertificateCrlFile=$CARD_CRL" \
    CertificateUserRule=email "CertificateUserDomain=$CARD_USER_DOMAIN"
moat_screenshot "$SERVED" "$T/served.png"

# the event lines after line MARK of $EVENTS
since()
{
	tail -n "+$(($1 + 1))" "$EVENTS"
}
# true once a line after MARK matches the ERE
# shellcheck disable=SC2317 # called through moat_wait
logged_since()
{
	since "$1" | grep -Eq -- "$2"
}
# MARK REGEX DESC: checks that such a line comes (bounded wait)
check_logged()
{
	moat_check "$3" moat_wait -t 15 -m "/$2/ in $EVENTS" logged_since "$1" "$2"
}
mark()
{
	wc -l <"$EVENTS"
}
# card_login NAME WANT PASSWORD CERT KEY [ARGS...]: moat_viewer_login with
# the token's module and the right PIN file (ARGS come later, so a second
# --pin-file there takes precedence only if the viewer allows it: the wrong
# PIN case passes its own options instead).
card_login()
{
	local name=$1 want=$2 pass=$3 cert=$4 key=$5
	shift 5
	moat_viewer_login "$name" "$want" "$pass" --pkcs11-module "$CARD_MODULE" \
	    --pin-file "$CARD_PIN_FILE" --cert "$cert" --key "$key" "$@"
}
PEER='127\.0\.0\.1 port [0-9]+'
ALICE_SHA256=$(openssl x509 -in "$CARD_ALICE_PEM" -outform DER | sha256sum | cut -d' ' -f1)

# --- a. the right PIN ---
m=$(mark)
card_login card 0 '' "$CARD_ALICE_CERT" "$CARD_ALICE_KEY"
moat_check "over the conversation" \
    grep -q "^moat-viewer: VeNCrypt X509Conversation$" "$T/card.err"
moat_check "the PNG equals alice's served desktop" \
    moat_img diff "$T/card.png" "$T/served.png"
moat_check_eq "with the pattern's block in it" $((MOAT_PATTERN_W * MOAT_PATTERN_H)) \
    "$(moat_count_colour "$T/card.png" "$MOAT_PATTERN_FG")"
check_logged "$m" "Certificate from $PEER: subject \"CN=alice\", issuer \"CN=Moat Test Card CA\", serial [0-9A-Fa-f:x]+, sha256 $ALICE_SHA256, maps to \"alice\"" \
    "the monitor logged alice's certificate, its fingerprint and the account"
check_logged "$m" "factor Certificate for user \"alice\" from $PEER: passed" \
    "the factor passed for alice"
check_logged "$m" "authentication succeeded for user \"alice\" from $PEER" \
    "alice is logged in"
moat_check_eq "one connection so far" 1 "$(since "$m" | grep -cE "connection from $PEER accepted")"

# --- b. a wrong PIN: refused by the card, before any connection ---
m=$(mark)
moat_viewer_login badpin 1 '' --pkcs11-module "$CARD_MODULE" \
    --pin-file "$CARD_BAD_PIN_FILE" --cert "$CARD_ALICE_CERT" --key "$CARD_ALICE_KEY"
moat_check "the viewer says the smartcard refused the PIN" \
    grep -q "the smartcard refused the PIN" "$T/badpin.err"
moat_check_fails "and wrote no picture" test -e "$T/badpin.png"

# --- c. alice's address from another CA, with a software key ---
card_login otherca 3 '' "$OTHER_ALICE_CERT" "$OTHER_ALICE_KEY"
moat_check "the viewer is told only that authentication failed" \
    grep -q "refused the login: Authentication failed$" "$T/otherca.err"
check_logged "$m" "Certificate from $PEER refused: chain refused at depth 0 \(CN=alice\): unable to get local issuer certificate \(subject \"CN=alice\", issuer \"CN=Moat Test Other CA\"" \
    "the log names the chain, the reason and the other CA"
check_logged "$m" "factor Certificate for user \"[^\"]*\" from $PEER: failed" \
    "the factor failed"
moat_check_eq "the wrong PIN made no connection: one for both attempts" 1 \
    "$(since "$m" | grep -cE "connection from $PEER accepted")"
moat_check_eq "and nobody logged in" 0 \
    "$(since "$m" | grep -cE "authentication succeeded")"

# --- d. bob's certificate, revoked ---
m=$(mark)
card_login revoked 3 '' "$CARD_BOB_CERT" "$CARD_BOB_KEY"
moat_check "the viewer is told only that authentication failed" \
    grep -q "refused the login: Authentication failed$" "$T/revoked.err"
check_logged "$m" "Certificate from $PEER refused: chain refused at depth 0 \(CN=bob\): certificate revoked \(subject \"CN=bob\", issuer \"CN=Moat Test Card CA\"" \
    "the log says bob's certificate is revoked"
check_logged "$m" "factor Certificate for user \"[^\"]*\" from $PEER: failed" \
    "the factor failed"
moat_check_eq "nobody logged in" 0 "$(since "$m" | grep -cE "authentication succeeded")"

# --- f. standard credentials are not offered with Certificate ---
m=$(mark)
moat_viewer_login plain 1 "$USER_PASS" --security x509plain
moat_check "moat-viewer says the server does not offer X509Plain" \
    grep -q "the server does not offer X509Plain" "$T/plain.err"
moat_check_eq "no factor ran for it" 0 "$(since "$m" | grep -cE "factor |authentication succeeded")"

# --- e. Authentication=Certificate+SystemAuth ---
moat_stop session moatd
moat_server_restart moatd2 Certificate+SystemAuth
factor_lines()	# MARK: the factors and outcomes logged after MARK, in order
{
	since "$1" | grep -oE "factor [A-Za-z]+ for user \"alice\" from $PEER: [a-z]+" |
	    sed -E 's/^factor ([A-Za-z]+) .*: ([a-z]+)$/\1 \2/' | xargs
}
m=$(mark)
card_login both 0 "$USER_PASS" "$CARD_ALICE_CERT" "$CARD_ALICE_KEY"
moat_check "card and password: the PNG equals alice's served desktop" \
    moat_img diff "$T/both.png" "$T/served.png"
check_logged "$m" "authentication succeeded for user \"alice\" from $PEER" \
    "alice is logged in with both factors"
moat_check_eq "Certificate then SystemAuth, both passed" \
    "Certificate passed SystemAuth passed" "$(factor_lines "$m")"

m=$(mark)
card_login card-wrongpw 3 'not alice password' "$CARD_ALICE_CERT" "$CARD_ALICE_KEY"
check_logged "$m" "authentication failed for user \"alice\" from $PEER" \
    "the card with a wrong password: refused"
moat_check_eq "the certificate passed, the password failed" \
    "Certificate passed SystemAuth failed" "$(factor_lines "$m")"
moat_check_fails "no picture" test -e "$T/card-wrongpw.png"

m=$(mark)
moat_viewer_login nocard 3 "$USER_PASS" --answer "$USER_PASS"
moat_check "the right password without a certificate: the reason asks for a card" \
    grep -q "refused the login: This server asks for a client certificate (a smartcard)" "$T/nocard.err"
check_logged "$m" "no alternative of Authentication applies to $PEER: it sent no client certificate" \
    "the monitor logs that no certificate came"
moat_check_eq "no factor ran" "" "$(factor_lines "$m")"
moat_check_eq "nobody logged in" 0 "$(since "$m" | grep -cE "authentication succeeded")"

# --- g. Authentication=SystemAuth+Certificate: the card must be the account's ---
moat_add_user carol 'Car0l system pw!'
moat_stop moatd2-session moatd2
moat_server_restart moatd3 SystemAuth+Certificate
m=$(mark)
card_login pw-card 0 "$USER_PASS" "$CARD_ALICE_CERT" "$CARD_ALICE_KEY"
moat_check "password then card: the PNG equals alice's served desktop" \
    moat_img diff "$T/pw-card.png" "$T/served.png"
moat_check_eq "SystemAuth then Certificate, both passed" \
    "SystemAuth passed Certificate passed" "$(factor_lines "$m")"
m=$(mark)
USER_NAME=carol card_login carol-alicecard 3 'Car0l system pw!' \
    "$CARD_ALICE_CERT" "$CARD_ALICE_KEY"
check_logged "$m" "Certificate from $PEER refused: it is \"alice\"'s, not \"carol\"'s" \
    "carol's password with alice's card: the log says whose card it is"
check_logged "$m" "factor SystemAuth for user \"carol\" from $PEER: passed" \
    "carol's password passed"
check_logged "$m" "factor Certificate for user \"carol\" from $PEER: failed" \
    "and the card failed for carol"
moat_check_eq "nobody logged in" 0 "$(since "$m" | grep -cE "authentication succeeded")"

# --- h. Authentication=Certificate,SystemAuth: two alternatives ---
moat_stop moatd3-session moatd3
moat_server_restart moatd4 Certificate,SystemAuth
m=$(mark)
card_login alt-card 0 '' "$CARD_ALICE_CERT" "$CARD_ALICE_KEY"
moat_check_eq "with the card: the Certificate alternative alone" \
    "Certificate passed" "$(factor_lines "$m")"
m=$(mark)
moat_viewer_login alt-pw 0 "$USER_PASS"
moat_check "without a card: the password alternative; the PNG equals alice's desktop" \
    moat_img diff "$T/alt-pw.png" "$T/served.png"
moat_check_eq "with the password: SystemAuth alone" \
    "SystemAuth passed" "$(factor_lines "$m")"
m=$(mark)
card_login alt-revoked 3 "$USER_PASS" "$CARD_BOB_CERT" "$CARD_BOB_KEY"
check_logged "$m" "chain refused at depth 0 \(CN=bob\): certificate revoked" \
    "a revoked card is refused; it does not fall back to the password"
moat_check_eq "no SystemAuth for it" 0 "$(since "$m" | grep -c "factor SystemAuth")"

# --- i. a proof moat-net made up is refused (test build hook) ---
grep -q 'TEST BUILD' "$EVENTS" ||
    moat_fail "moatd is not a test build: the forged-proof hook exists only with -DMOAT_SELFTEST=ON"
m=$(mark)
card_login soft 0 '' "$SOFT_CERT" "$SOFT_KEY"
moat_check_eq "control: a software key of the card CA logs in" \
    "Certificate passed" "$(factor_lines "$m")"
m=$(mark)
card_login forged 3 '' "$FORGE_CERT" "$FORGE_KEY"
check_logged "$m" "TEST BUILD: answering the proof of possession without the viewer" \
    "moat-net answered the proof question itself"
check_logged "$m" "Certificate from $PEER refused: the proof of possession of its key is not valid" \
    "the monitor refused moat-net's answer"
moat_check_eq "the factor failed, nobody logged in" "Certificate failed" \
    "$(factor_lines "$m")"
moat_check_eq "no session for it" 0 "$(since "$m" | grep -cE "authentication succeeded")"

# --- the audit records (docs/audit.md), every moatd of the test in one chain ---
# sequence A B: some record matching ERE A is followed at once by one matching B
# (the second grep reads everything: no SIGPIPE for the first under pipefail)
sequence() { grep -A1 -E -- "$1" "$MOAT_AUDIT" | grep -E -- "$2" >/dev/null; }
F='"event":"auth_factor",.*"factor":'
moat_check "audit: the card's factor passed for alice" \
    grep -Eq "$F"'"Certificate","user":"alice","result":"success"' "$MOAT_AUDIT"
moat_check "audit: alice's login over the conversation" \
    grep -Eq '"event":"login",.*"user":"alice","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Conversation"' "$MOAT_AUDIT"
moat_check "audit: a refused certificate (other CA, revoked) is a failed factor naming nobody" \
    grep -Eq "$F"'"Certificate","user":"","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check "audit: Certificate+SystemAuth with a wrong password: Certificate passed, then SystemAuth failed" \
    sequence "$F"'"Certificate","user":"alice","result":"success"' "$F"'"SystemAuth","user":"alice","result":"failure","reason":"Authentication failed"'
moat_check "audit: no card: the login's reason asks for one" \
    grep -Eq '"event":"login",.*"user":"","result":"failure","reason":"This server asks for a client certificate \(a smartcard\)' "$MOAT_AUDIT"
moat_check "audit: carol's password passed, then alice's card failed for carol" \
    sequence "$F"'"SystemAuth","user":"carol","result":"success"' "$F"'"Certificate","user":"carol","result":"failure"'
moat_check "audit: the forged proof is a failed Certificate factor" \
    grep -Eq "$F"'"Certificate","user":"alice","result":"failure"' "$MOAT_AUDIT"
moat_check_fails "audit: no login of carol" \
    grep -q '"event":"login",.*"user":"carol","result":"success"' "$MOAT_AUDIT"
moat_check_eq "audit: one audit_start per moatd run (four)" 4 \
    "$(grep -c '"event":"audit_start"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
