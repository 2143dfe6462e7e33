#!/bin/bash
# The RSA-AES security types with moat's own test viewer (tests/tools/
# ra2_client.c; no RA2 viewer is packaged in Debian 12):
#  - the default (AlwaysOn) offers VeNCrypt, RA2_256, RA2 in that order;
#    logins over RA2_256 and RA2 show the served pattern in a Raw frame, the
#    server key's RealVNC fingerprint is the identity key's (the viewer pins
#    it), a wrong password is refused with the reason, and the monitor logs
#    the type and cipher;
#  - every misbehaviour (bad hash, tampered, replayed and truncated records,
#    keys of 1023 and 8193 bits, malformed keys, a type not offered) closes
#    only that connection: a session held open meanwhile survives, and
#    moat-net in that RA2 session holds none of the identity key's secrets;
#  - AlwaysMaximum offers no RA2 (5); PreferOff adds RA2ne_256 and RA2ne
#    after the others, and logins over both work (unencrypted after login).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
CLIENT=$(moat_bin ra2_client)
AREA=$((MOAT_PATTERN_W * MOAT_PATTERN_H))

ra2()	# PORT ARGS...: the test viewer; prints what it printed
{
	local port=$1
	shift
	timeout 60 "$CLIENT" --port "$port" "$@"
}

login()	# PORT TYPE OUT [ARGS...]: logs in as the test user, writes OUT
{
	local port=$1 type=$2 out=$3
	shift 3
	ra2 "$port" --type "$type" --user "$USER_NAME" --password "$USER_PASS" \
	    --out "$out" "$@"
}

# The identity key's RealVNC fingerprint, computed from its certificate:
# SHA-1 over U32 bits || N || E (each ceil(bits/8) bytes), first 8 bytes.
openssl x509 -in "$CA" -noout -pubkey > "$T/identity.pub"
FP=$(python3 - "$T/identity.pub" <<'PY'
import hashlib, re, subprocess, sys
t = subprocess.run(["openssl", "rsa", "-pubin", "-in", sys.argv[1], "-noout",
                    "-text"], capture_output=True, text=True, check=True).stdout
m = re.search(r"Modulus:\s*\n((?:\s+[0-9a-f:]+\n)+)", t)
n = int(re.sub(r"[^0-9a-f]", "", m.group(1)), 16)
e = int(re.search(r"Exponent: (\d+)", t).group(1))
k = (n.bit_length() + 7) // 8
blob = n.bit_length().to_bytes(4, "big") + n.to_bytes(k, "big") + e.to_bytes(k, "big")
print("-".join("%02x" % b for b in hashlib.sha1(blob).digest()[:8]))
PY
)
moat_log "identity RealVNC fingerprint $FP"
moat_check_eq "moatctl identity show prints the fingerprint RSA-AES viewers see" \
    "$FP" "$("$(moat_bin moatctl)" identity show -f "$CONF" | awk '/^RealVNC fingerprint:/ { print $3 }')"

# --- logins over RA2_256 and RA2 ---
moat_check "RA2_256: login with the pinned fingerprint" \
    login "$PORT" 129 "$T/ra2_256.ppm" --fingerprint "$FP"
moat_check_eq "RA2_256: the pattern is in the frame" "$AREA" \
    "$(moat_count_colour "$T/ra2_256.ppm" "$MOAT_PATTERN_FG")"
moat_check "RA2: login with the pinned fingerprint" \
    login "$PORT" 5 "$T/ra2.ppm" --fingerprint "$FP"
moat_check_eq "RA2: the pattern is in the frame" "$AREA" \
    "$(moat_count_colour "$T/ra2.ppm" "$MOAT_PATTERN_FG")"
moat_screenshot "$SERVED" "$T/served.ppm"
moat_check "RA2: the frame equals the served display" \
    moat_img diff "$T/ra2.ppm" "$T/served.ppm"
out=$(ra2 "$PORT" --type 129 --user "$USER_NAME" --password "$USER_PASS" || true)
moat_check_eq "AlwaysOn offers VeNCrypt, RA2_256, RA2" "offered: 19 129 5" \
    "$(echo "$out" | grep '^offered:')"
moat_check_eq "the server key is the identity key" \
    "server key: 2048 bits, fingerprint $FP" "$(echo "$out" | grep '^server key:')"
moat_check "the monitor logged RA2_256 and its cipher" \
    grep -Eq "security RA2_256, AES-256-EAX, SHA-256, viewer key RSA-2048" "$EVENTS"
moat_check "the monitor logged RA2 and its cipher" \
    grep -Eq "security RA2, AES-128-EAX, SHA-1, viewer key RSA-2048" "$EVENTS"

set +e
ra2 "$PORT" --type 129 --user "$USER_NAME" --password "$USER_PASS" \
    --fingerprint 00-11-22-33-44-55-66-77 > "$T/pin.txt"
st=$?
set -e
moat_check_eq "a wrong pinned fingerprint stops the viewer" 4 "$st"

set +e
ra2 "$PORT" --type 129 --user "$USER_NAME" --password 'wrong password' > "$T/wrong.txt"
st=$?
set -e
moat_check_eq "a wrong password is refused" 3 "$st"
moat_check "the viewer shows the server's reason" \
    grep -q "security result: failed: Authentication failed" "$T/wrong.txt"
moat_check "the monitor logged the failure" \
    grep -Eq "authentication failed for user \"$USER_NAME\" from 127\.0\.0\.1 port" "$EVENTS"

# --- misbehaviours close only their own connection ---
moat_bg keeper "$CLIENT" --port "$PORT" --type 129 --user "$USER_NAME" \
    --password "$USER_PASS" --hold
moat_wait_log keeper holding
keeper_net=$(moat_net_pids | head -1)
[ -n "$keeper_net" ] || moat_fail "no moat-net for the held session"
moat_check "a moat-net mid-RA2 session holds none of the identity key's secrets" \
    sh -c "! python3 '$MOAT_SOURCE_DIR/tests/tools/memsearch.py' $keeper_net '$T/etc/identity.key'"
moat_check "positive control: moatd holds them" \
    python3 "$MOAT_SOURCE_DIR/tests/tools/memsearch.py" "$(moat_pid moatd)" "$T/etc/identity.key"

for m in bad-hash flip-login flip-record replay-record truncate-record \
    key-1023 key-8193 key-even key-e1; do
	for t in 5 129; do
		moat_check "misbehaviour $m over type $t: the server closes" \
		    ra2 "$PORT" --type "$t" --user "$USER_NAME" \
		    --password "$USER_PASS" --misbehave "$m"
	done
done
moat_check "moat-net said why: the hash" \
    grep -q "key confirmation hash does not match" "$EVENTS"
moat_check "moat-net said why: a record failed authentication" \
    grep -q "record that failed authentication" "$EVENTS"
moat_check "moat-net said why: key sizes" \
    grep -q "RSA key of 8193 bits; 1024 to 8192 are accepted" "$EVENTS"
moat_check "moat-net said why: a malformed key" \
    grep -q "malformed RSA public key" "$EVENTS"
set +e
ra2 "$PORT" --type 6 --force --user "$USER_NAME" --password "$USER_PASS" > "$T/type6.txt"
st=$?
set -e
moat_check_eq "choosing RA2ne when it is not offered is refused" 3 "$st"
moat_check "with the reason" grep -q "Security type not offered" "$T/type6.txt"
moat_check_eq "no connection crashed moat-net or broke IPC" "" \
    "$(grep -E 'killed by signal|unpermitted request|bad IPC message|malformed .*; ending the connection' "$EVENTS" || true)"
moat_check "the held session's moat-net is still running" kill -0 "$keeper_net"
moat_check "the held viewer is still connected" moat_alive keeper
moat_check "a new viewer still logs in over RA2_256" \
    login "$PORT" 129 "$T/after.ppm"
moat_check_eq "and sees the pattern" "$AREA" \
    "$(moat_count_colour "$T/after.ppm" "$MOAT_PATTERN_FG")"
moat_stop keeper

# --- Encryption=AlwaysMaximum: no RA2 (AES-128) ---
start_instance()	# NAME ENCRYPTION: a second moatd and moat-session; sets IPORT
{
	local name=$1 enc=$2
	IPORT=$(moat_free_port)
	moat_write_config "$T/$name/moatd.conf" \
	    ListenAddress=127.0.0.1 "ListenPort=$IPORT" \
	    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" \
	    "EmptyRoot=$T/empty" "SessionSocket=$T/$name/run/session.sock" \
	    "LogFile=$T/$name/events.log" "Encryption=$enc" \
	    "AuditFile=$T/$name/audit/audit.jsonl"
	moat_bg "moatd-$name" "$(moat_bin moatd)" -d -f "$T/$name/moatd.conf"
	moat_wait_port "$IPORT"
	moat_bg "session-$name" --as "$USER_NAME" --x "$SERVED" \
	    "$(moat_user_bin moat-session)" --socket "$T/$name/run/session.sock"
	moat_wait_log "$T/$name/events.log" "desktop session $SERVED registered"
}

start_instance max AlwaysMaximum
out=$(ra2 "$IPORT" --type 129 --user "$USER_NAME" --password "$USER_PASS" \
    --out "$T/max.ppm" || true)
moat_check_eq "AlwaysMaximum offers VeNCrypt and RA2_256 only" "offered: 19 129" \
    "$(echo "$out" | grep '^offered:')"
moat_check_eq "AlwaysMaximum: RA2_256 logs in" "$AREA" \
    "$(moat_count_colour "$T/max.ppm" "$MOAT_PATTERN_FG")"
set +e
ra2 "$IPORT" --type 5 --force --user "$USER_NAME" --password "$USER_PASS" > "$T/max5.txt"
st=$?
set -e
moat_check_eq "AlwaysMaximum refuses RA2" 3 "$st"
moat_stop "session-max" "moatd-max"

# --- Encryption=PreferOff: RA2ne_256 and RA2ne too, after the others ---
start_instance off PreferOff
out=$(ra2 "$IPORT" --type 130 --user "$USER_NAME" --password "$USER_PASS" \
    --out "$T/ra2ne_256.ppm" || true)
moat_check_eq "PreferOff offers RA2ne_256 and RA2ne after the others" \
    "offered: 19 129 5 130 6" "$(echo "$out" | grep '^offered:')"
moat_check_eq "RA2ne_256: the pattern is in the frame" "$AREA" \
    "$(moat_count_colour "$T/ra2ne_256.ppm" "$MOAT_PATTERN_FG")"
moat_check "RA2ne: login" login "$IPORT" 6 "$T/ra2ne.ppm" --fingerprint "$FP"
moat_check_eq "RA2ne: the pattern is in the frame" "$AREA" \
    "$(moat_count_colour "$T/ra2ne.ppm" "$MOAT_PATTERN_FG")"
moat_check "PreferOff: RA2 still works" login "$IPORT" 5 "$T/off5.ppm"
moat_check "the monitor logged RA2ne and that it protects the login only" \
    grep -q "security RA2ne, AES-128-EAX for the login only, SHA-1" "$T/off/events.log"
moat_check "the monitor logged RA2ne_256" \
    grep -q "security RA2ne_256, AES-256-EAX for the login only, SHA-256" "$T/off/events.log"
set +e
ra2 "$IPORT" --type 6 --user "$USER_NAME" --password 'wrong password' > "$T/wrong6.txt"
st=$?
set -e
moat_check_eq "RA2ne: a wrong password is refused" 3 "$st"
moat_check "RA2ne: with the reason, in plaintext" \
    grep -q "security result: failed: Authentication failed" "$T/wrong6.txt"
moat_check "RA2ne: a bad hash closes the connection" \
    ra2 "$IPORT" --type 6 --user "$USER_NAME" --password "$USER_PASS" --misbehave bad-hash
moat_check "RA2ne_256: a tampered login record closes the connection" \
    ra2 "$IPORT" --type 130 --user "$USER_NAME" --password "$USER_PASS" --misbehave flip-login

# --- the audit records (docs/audit.md): each moatd's own file ---
MAX_AUDIT=$T/max/audit/audit.jsonl
OFF_AUDIT=$T/off/audit/audit.jsonl
SPKI=$(openssl pkey -pubin -in "$T/identity.pub" -outform DER | sha256sum | cut -d' ' -f1)
sec()	# TYPE CIPHER: the ERE of a security record of TYPE naming CIPHER and the identity
{
	printf '%s' '"event":"security",.*"security_type":"'"$1"'",.*'"$2"'.*"fingerprint":"'"$SPKI"'"'
}
login()	# TYPE: the ERE of a successful login over TYPE
{
	printf '%s' '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"'"$1"'"'
}
moat_check "audit: RA2_256 with AES-256-EAX and the identity key" \
    grep -Eq "$(sec RA2_256 'AES-256-EAX.*SHA-256')" "$MOAT_AUDIT"
moat_check "audit: RA2 with AES-128-EAX and the identity key" \
    grep -Eq "$(sec RA2 'AES-128-EAX.*SHA-1,')" "$MOAT_AUDIT"
moat_check "audit: the login over RA2_256" grep -Eq "$(login RA2_256)" "$MOAT_AUDIT"
moat_check "audit: the login over RA2" grep -Eq "$(login RA2)" "$MOAT_AUDIT"
moat_check "audit: the wrong password's failed factor" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check_eq "audit: only the wrong password failed a factor (no misbehaving viewer got that far)" 1 \
    "$(grep -c '"event":"auth_factor",.*"result":"failure"' "$MOAT_AUDIT")"
moat_check_fails "audit: RA2ne, not offered, has no security record" \
    grep -q '"security_type":"RA2ne' "$MOAT_AUDIT"
moat_check "audit: AlwaysMaximum's login over RA2_256 (its own file)" \
    grep -Eq "$(login RA2_256)" "$MAX_AUDIT"
moat_check_fails "audit: and no RA2 (AES-128) there" \
    grep -q '"security_type":"RA2"' "$MAX_AUDIT"
moat_check "audit: PreferOff: RA2ne_256 protects the login only" \
    grep -Eq "$(sec RA2ne_256 'AES-256-EAX for the login only')" "$OFF_AUDIT"
moat_check "audit: RA2ne protects the login only" \
    grep -Eq "$(sec RA2ne 'AES-128-EAX for the login only')" "$OFF_AUDIT"
moat_check "audit: the login over RA2ne_256" grep -Eq "$(login RA2ne_256)" "$OFF_AUDIT"
moat_check "audit: the login over RA2ne" grep -Eq "$(login RA2ne)" "$OFF_AUDIT"
moat_check "audit: RA2ne's wrong password" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"failure"' "$OFF_AUDIT"
moat_audit_verify --live
moat_audit_verify "$MAX_AUDIT"
moat_audit_verify --live "$OFF_AUDIT"

moat_test_end
