#!/usr/bin/env bash
#
# test_radius.sh - moat's RADIUS client (auth/radius_client.c, through
# tests/tools/radius_probe) against a real FreeRADIUS 3.2.1 and against a
# hostile fake server (tests/tools/radius_fake.py).
#
# Runs as root in the e2e namespaces (lib.sh). FreeRADIUS runs from a private
# copy of /etc/freeradius/3.0 under $T, on loopback only, on a free UDP port,
# with require_message_authenticator = yes and replies signed with
# Message-Authenticator (3.2.1 does not sign on its own). Users: alice
# (password) and bob (password, then a TOTP challenge via rlm_totp; codes
# from oathtool). lib.sh stops every daemon and removes $T on exit.
#
# Checks: right/wrong passwords, the challenge round trip with its binary
# State, right/wrong TOTP, a tampered State, a wrong shared secret (no reply:
# TIMEOUT); against the fake: unsigned replies (refused; accepted and logged
# only with --allow-unsigned), a bad Message-Authenticator, a bad Response
# Authenticator, another identifier, another source port (ignored: TIMEOUT),
# a noisy server (bad replies dropped, the good one taken), retransmission,
# a valid signed Challenge, Reply-Message sanitising, failover past a dead
# and a silent server; and that no log line holds the secret or a password.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
moat_test_begin "$@"

source "$MOAT_E2E_DIR/radius.sh"
PROBE=$(moat_bin radius_probe)
FAKE=$MOAT_SOURCE_DIR/tests/tools/radius_fake.py
FAKE_PW="fake-pw-$(printf 'x%.0s' {1..90})"	# 98 bytes: 7 chained blocks
PROBE_LOG=$T/probe-stderr.log

for tool in freeradius oathtool ss python3; do
	command -v "$tool" >/dev/null || moat_fail "$tool is missing (tools/deps.sh installs it)"
done
[[ -d /etc/freeradius/3.0 ]] || moat_fail "/etc/freeradius/3.0 is missing (package freeradius)"

# ---- helpers -------------------------------------------------------------

# probe SERVER... -- ARGS: runs radius_probe; its stdout is in $out, and its
# stderr (the library's log lines) is appended to $PROBE_LOG and kept in $err.
probe()
{
	local -a servers=()
	while (($# > 0)) && [[ "$1" != -- ]]; do
		servers+=(--server "$1")
		shift
	done
	shift
	err=$(mktemp "$T/probe.XXXXXX")
	if ! out=$("$PROBE" "${servers[@]}" --secret-file "$T/secret" \
	    --calling-station 192.0.2.7 "$@" 2>"$err"); then
		out="ERROR"
	fi
	cat "$err" >>"$PROBE_LOG"
	err=$(<"$err")
}

field()
{
	sed -n "s/^$1=//p" <<<"$out"
}

result()
{
	head -n 1 <<<"$out"
}


# ---- FreeRADIUS --------------------------------------------------------------

printf 'definitely-not-the-secret-%s\n' "$RANDOM" >"$T/secret.wrong"
chmod 0600 "$T/secret.wrong"
moat_radius_start "alice	Cleartext-Password := \"alice-pw\"
bob	Cleartext-Password := \"bob-pw\", TOTP-Secret := \"$TOTP_KEY\""
secret=$(<"$T/secret")
port=$RADIUS_PORT

# ---- FreeRADIUS: the checks --------------------------------------------

S4=127.0.0.1:$port

probe "$S4" -- --user alice --password alice-pw
moat_check_eq "alice, right password" ACCEPT "$(result)"
moat_check_eq "alice: reply signed" 1 "$(field signed)"
moat_check_eq "alice: answered by" "$S4" "$(field server)"

if ((have_ipv6)); then
	probe "[::1]:$port" -- --user alice --password alice-pw
	moat_check_eq "alice over IPv6" ACCEPT "$(result)"
	moat_check_eq "alice over IPv6: answered by" "[::1]:$port" "$(field server)"
fi

probe "$S4" -- --user alice --password wrong-pw
moat_check_eq "alice, wrong password" REJECT "$(result)"
moat_check_eq "alice, wrong password: reply signed" 1 "$(field signed)"

probe "$S4" -- --user nobody --password whatever
moat_check_eq "unknown user" REJECT "$(result)"

probe "$S4" -- --user bob --password bob-pw
moat_check_eq "bob, password step" CHALLENGE "$(result)"
moat_check_eq "bob: the Reply-Messages, joined by a newline" \
    'Enter the 6-digit code\x0afrom your authenticator app' "$(field message)"
moat_check_eq "bob: the binary State" "$FR_STATE" "$(field state)"
moat_check_eq "bob: challenge signed" 1 "$(field signed)"
moat_check_eq "bob: no Prompt attribute, answer hidden" 0 "$(field echo)"
state=$(field state)

probe "$S4" -- --user bob --password "$(moat_totp_now)" --state-hex "$state"
moat_check_eq "bob, right TOTP with the State" ACCEPT "$(result)"

code=$(moat_totp_now)
probe "$S4" -- --user bob --password "$(printf '%06d' $(((10#$code + 1) % 1000000)))" \
    --state-hex "$state"
moat_check_eq "bob, wrong TOTP" REJECT "$(result)"

probe "$S4" -- --user bob --password "$(moat_totp_now)" --state-hex "${state%??}ff"
moat_check_eq "bob, right TOTP with a tampered State" REJECT "$(result)"

probe "$S4" -- --user bob --password bob-wrong
moat_check_eq "bob, wrong password: no challenge" REJECT "$(result)"

"$PROBE" --server "$S4" --secret-file "$T/secret.wrong" --user alice \
    --password alice-pw --timeout-ms 400 --retries 1 >"$T/wrong-secret.out" 2>>"$PROBE_LOG" ||
    true
out=$(<"$T/wrong-secret.out")
moat_check_eq "wrong shared secret: no reply" TIMEOUT "$(result)"
moat_check_eq "wrong shared secret: sent twice" "sent=2 dropped=0" "$(tail -n 1 <<<"$out")"
moat_wait_log freeradius 'invalid Message-Authenticator'

# ---- the fake server ---------------------------------------------------------

moat_bg fake python3 "$FAKE" serve --secret-file "$T/secret" --port-file "$T/fake.port" \
    --password "$FAKE_PW" --log "$T/fake-requests.log"
moat_wait -m "the fake server's port file" test -s "$T/fake.port"
fport=$(<"$T/fake.port")
F=127.0.0.1:$fport
fast=(--timeout-ms 300 --retries 1)

probe "$F" -- --user accept --password "$FAKE_PW"
moat_check_eq "fake: signed Accept" ACCEPT "$(result)"
moat_check "fake: the request had Message-Authenticator first, the password decoded, the attributes" \
    grep -q "user=accept ma=first-ok password=ok state= nas-id=moat calling=192.0.2.7 service=8 " \
    "$T/fake-requests.log"
probe "$F" -- --user accept --password "${FAKE_PW}y"
moat_check_eq "fake: wrong password" REJECT "$(result)"

probe "$F" -- --user unsigned --password "$FAKE_PW" "${fast[@]}"
moat_check_eq "fake: unsigned Accept refused" TIMEOUT "$(result)"
moat_check_eq "fake: unsigned Accept: both replies dropped" "sent=2 dropped=2" \
    "$(tail -n 1 <<<"$out")"
moat_check "fake: unsigned Accept: the drop is logged" \
    grep -q "RADIUS server $F: dropped a reply (no Message-Authenticator)" <<<"$err"

probe "$F" -- --user unsigned --password "$FAKE_PW" --allow-unsigned
moat_check_eq "fake: unsigned Accept with --allow-unsigned" ACCEPT "$(result)"
moat_check_eq "fake: unsigned Accept: signed=0" 0 "$(field signed)"
moat_check "fake: the unsigned Accept is logged as a warning naming the server" \
    grep -q "warning: RADIUS server $F: accepted an unsigned Access-Accept" <<<"$err"

probe "$F" -- --user bad-ma --password "$FAKE_PW" "${fast[@]}" --allow-unsigned
moat_check_eq "fake: bad Message-Authenticator refused (even with --allow-unsigned)" \
    TIMEOUT "$(result)"
moat_check "fake: bad Message-Authenticator logged" \
    grep -q "dropped a reply (wrong Message-Authenticator)" <<<"$err"

probe "$F" -- --user bad-rauth --password "$FAKE_PW" "${fast[@]}"
moat_check_eq "fake: bad Response Authenticator refused" TIMEOUT "$(result)"
moat_check "fake: bad Response Authenticator logged" \
    grep -q "dropped a reply (wrong Response Authenticator)" <<<"$err"

probe "$F" -- --user wrong-id --password "$FAKE_PW" "${fast[@]}"
moat_check_eq "fake: another identifier ignored" TIMEOUT "$(result)"
moat_check "fake: another identifier logged" \
    grep -q "dropped a reply (identifier of another request)" <<<"$err"

probe "$F" -- --user other-port --password "$FAKE_PW" "${fast[@]}"
moat_check_eq "fake: a reply from another port ignored" TIMEOUT "$(result)"
moat_check_eq "fake: another port: the kernel never delivers it" "sent=2 dropped=0" \
    "$(tail -n 1 <<<"$out")"

probe "$F" -- --user noisy --password "$FAKE_PW"
moat_check_eq "fake: two bad replies, then a good one" ACCEPT "$(result)"
moat_check_eq "fake: noisy: two dropped" "sent=1 dropped=2" "$(tail -n 1 <<<"$out")"

probe "$F" -- --user drop-first --password "$FAKE_PW" --timeout-ms 300 --retries 2
moat_check_eq "fake: the retransmission is answered" ACCEPT "$(result)"
moat_check_eq "fake: retransmitted once" "sent=2 dropped=0" "$(tail -n 1 <<<"$out")"

probe "$F" -- --user challenge --password "$FAKE_PW"
moat_check_eq "fake: signed Challenge" CHALLENGE "$(result)"
moat_check_eq "fake: Challenge message" 'Enter the code\x0afrom the fake' "$(field message)"
moat_check_eq "fake: Prompt = Echo" 1 "$(field echo)"
fstate=$(field state)
moat_check_eq "fake: binary State, 16 bytes from 00 ff" "00ff/32" "${fstate:0:4}/${#fstate}"
probe "$F" -- --user challenge --password 123456 --state-hex "$fstate"
moat_check_eq "fake: the answer with the State" ACCEPT "$(result)"
probe "$F" -- --user challenge --password 123456 --state-hex "$fstate"
moat_check_eq "fake: the same State again" REJECT "$(result)"

probe "$F" -- --user control --password "$FAKE_PW"
moat_check_eq "fake: control characters in Reply-Message" ACCEPT "$(result)"
moat_check_eq "fake: Reply-Message made printable" \
    'a?[31mb?c?d?e?f??g\xc3\xa9h\x0ai' "$(field message)"

# Failover: a closed port (ICMP unreachable), a silent server, then the fake.
moat_bg silent python3 "$FAKE" silent --port-file "$T/silent.port"
moat_wait -m "the silent server's port file" test -s "$T/silent.port"
dead=$(free_udp_port)
probe "127.0.0.1:$dead" "127.0.0.1:$(<"$T/silent.port")" "$F" -- \
    --user accept --password "$FAKE_PW" "${fast[@]}"
moat_check_eq "failover past a dead and a silent server" ACCEPT "$(result)"
moat_check_eq "failover: answered by the third" "$F" "$(field server)"
moat_check_eq "failover: 1 + 2 + 1 datagrams" "sent=4 dropped=0" "$(tail -n 1 <<<"$out")"

# ---- nothing secret in any log -------------------------------------------

for word in "$secret" alice-pw bob-pw "$FAKE_PW"; do
	# shellcheck disable=SC2016 # expanded by the inner shell
	moat_check "no log line holds a secret or password (${word:0:4}...)" \
	    bash -c '! grep -qF -- "$1" "$2"' _ "$word" "$PROBE_LOG"
done
moat_check "the probe's log is not empty" test -s "$PROBE_LOG"

moat_test_end
