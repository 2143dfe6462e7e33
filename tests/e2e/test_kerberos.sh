#!/bin/bash
# The Kerberos factor (docs/kerberos.md): a throwaway MIT KDC on loopback
# serving two realms, TEST.MOAT and OTHER.MOAT (which TEST.MOAT trusts),
# moatd with Authentication=Kerberos,SystemAuth and the service key of
# vnc/localhost@TEST.MOAT in a root-only keytab. gtk-vnc's gvnccapture
# logs in by single sign-on (VeNCrypt X509SASL, SASL GSSAPI) with alice's
# ticket and captures her desktop; without a ticket, with a principal that
# has an instance (alice/admin) or with alice of the other realm it is
# refused, and moatd logs each factor with its outcome and the refusal's
# reason. A password viewer (moat-viewer) still logs in through SystemAuth.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

command -v krb5kdc >/dev/null && command -v kdb5_util >/dev/null ||
    moat_fail "MIT Kerberos KDC not installed (tools/deps.sh: krb5-kdc)"
command -v gvnccapture >/dev/null ||
    moat_fail "gvnccapture not installed (tools/deps.sh: gvncviewer)"

# --- the KDC: everything under $T/krb, found through the environment ---
K=$T/krb
mkdir -p -m 0700 "$K"
KDC_PORT=$(moat_free_port)
export KRB5_CONFIG=$K/krb5.conf KRB5_KDC_PROFILE=$K/kdc.conf
# The replay cache of the service, kept out of the host's /var/tmp.
export KRB5RCACHEDIR=$K
cat > "$KRB5_CONFIG" <<EOF
[libdefaults]
	default_realm = TEST.MOAT
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false
	udp_preference_limit = 1
[realms]
	TEST.MOAT = {
		kdc = 127.0.0.1:$KDC_PORT
	}
	OTHER.MOAT = {
		kdc = 127.0.0.1:$KDC_PORT
	}
[domain_realm]
	localhost = TEST.MOAT
[capaths]
	OTHER.MOAT = {
		TEST.MOAT = .
	}
EOF
cat > "$KRB5_KDC_PROFILE" <<EOF
[kdcdefaults]
	kdc_listen = 127.0.0.1:$KDC_PORT
	kdc_tcp_listen = 127.0.0.1:$KDC_PORT
[realms]
	TEST.MOAT = {
		database_name = $K/test.db
		key_stash_file = $K/test.stash
		acl_file = $K/kadm5.acl
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
	OTHER.MOAT = {
		database_name = $K/other.db
		key_stash_file = $K/other.stash
		acl_file = $K/kadm5.acl
		supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
	}
[logging]
	kdc = FILE:$K/kdc.log
EOF
: > "$K/kadm5.acl"
for realm in TEST.MOAT OTHER.MOAT; do
	kdb5_util create -s -r "$realm" -P "master-$realm" >"$K/create-$realm.log" 2>&1 ||
	    moat_fail "kdb5_util create $realm: $(cat "$K/create-$realm.log")"
done
kadm()	# REALM QUERY
{
	kadmin.local -r "$1" -q "$2" >>"$K/kadmin.log" 2>&1 ||
	    moat_fail "kadmin.local -r $1 -q '$2' failed"
}
kadm TEST.MOAT "addprinc -pw alice-krb-pw alice"
kadm TEST.MOAT "addprinc -pw admin-krb-pw alice/admin"
kadm TEST.MOAT "addprinc -randkey vnc/localhost"
kadm OTHER.MOAT "addprinc -pw other-krb-pw alice"
# The trust of TEST.MOAT in OTHER.MOAT: one key, in both databases.
kadm TEST.MOAT "addprinc -pw cross-realm-pw krbtgt/TEST.MOAT@OTHER.MOAT"
kadm OTHER.MOAT "addprinc -pw cross-realm-pw krbtgt/TEST.MOAT@OTHER.MOAT"
KEYTAB=$T/etc/moat.keytab
mkdir -p -m 0755 "$T/etc"
kadm TEST.MOAT "ktadd -k $KEYTAB vnc/localhost"
chown root:root "$KEYTAB"
chmod 0600 "$KEYTAB"
moat_bg kdc krb5kdc -n -r TEST.MOAT -r OTHER.MOAT -P "$K/kdc.pid"
moat_wait_port "$KDC_PORT"

# --- moatd: alice, Kerberos or her password ---
# gvnccapture only takes HOST:DISPLAY, so moatd must listen on 5900 + N.
for n in $(seq 10 99); do
	ss -ltnH "sport = :$((5900 + n))" | grep -q . || break
done
PORT=$((5900 + n))
USER_NAME=alice
USER_PASS='alice-unix-pw 1'
moat_server_start Authentication=Kerberos,SystemAuth \
    "KerberosKeytab=$KEYTAB" KerberosRealm=TEST.MOAT
moat_check "moatd names the service principal it serves" \
    moat_wait_log "$EVENTS" 'Kerberos: service principal vnc/localhost@TEST\.MOAT'

# gtk-vnc reads its CA from the home directory in the passwd entry: give root
# a home under $T (in the namespace's private /etc only).
mkdir -p "$T/roothome/.pki/CA"
cp "$CA" "$T/roothome/.pki/CA/cacert.pem"
awk -F: -v OFS=: -v h="$T/roothome" '$1 == "root" { $6 = h } { print }' \
    /etc/passwd > "$T/passwd.new"
cat "$T/passwd.new" > /etc/passwd
[ "$(getent passwd root | cut -d: -f6)" = "$T/roothome" ] ||
    moat_fail "could not move root's home inside the test namespace"

# kinit_as CACHE PRINCIPAL PASSWORD: a ticket-granting ticket in CACHE.
kinit_as()
{
	printf '%s\n' "$3" | KRB5CCNAME=FILE:$1 kinit "$2" >>"$K/kinit.log" 2>&1
}

# capture CACHE OUT: gvnccapture with the tickets of CACHE; no terminal,
# so a viewer that asked for a password would fail rather than wait.
capture()
{
	KRB5CCNAME=FILE:$1 timeout 60 gvnccapture "localhost:$n" "$2" \
	    </dev/null >>"$T/gvnccapture.log" 2>&1
}

# logins_logged: the number of "authentication succeeded" lines so far.
logins_logged()
{
	grep -c 'authentication succeeded' "$EVENTS" || true
}

# 1. Single sign-on with alice's ticket.
moat_check "kinit alice@TEST.MOAT" kinit_as "$K/cc-alice" alice alice-krb-pw
moat_check "gvnccapture logs in with alice's ticket and saves a frame" \
    capture "$K/cc-alice" "$T/sso.png"
moat_screenshot "$SERVED" "$T/served.png"
moat_check "the captured frame equals alice's desktop, pixel for pixel" \
    moat_img diff "$T/sso.png" "$T/served.png"
moat_check "the factor is logged as passed for alice" \
    grep -Eq 'factor Kerberos for user "alice" from 127\.0\.0\.1 port [0-9]+: passed' "$EVENTS"
moat_check "the login is alice's" \
    grep -Eq 'authentication succeeded for user "alice" from 127\.0\.0\.1' "$EVENTS"
moat_check "the security type was the SASL subtype over TLS" \
    grep -q 'security VeNCrypt X509SASL, TLSv1.3' "$EVENTS"
moat_check "the KDC issued the service ticket" \
    grep -q 'alice@TEST.MOAT for vnc/localhost@TEST.MOAT' "$K/kdc.log"
ok_logins=$(logins_logged)

# 2. No ticket: an empty cache.
moat_check_fails "gvnccapture without a ticket is refused" \
    capture "$K/cc-empty" "$T/none.png"
moat_check_fails "no frame was written without a ticket" test -e "$T/none.png"

# 3. A principal with an instance: authenticated by the KDC, not mapped.
moat_check "kinit alice/admin@TEST.MOAT" \
    kinit_as "$K/cc-admin" alice/admin admin-krb-pw
moat_check_fails "gvnccapture as alice/admin is refused" \
    capture "$K/cc-admin" "$T/admin.png"
moat_check_fails "no frame was written for alice/admin" test -e "$T/admin.png"
moat_check "the factor is logged as failed for alice/admin" \
    grep -Eq 'factor Kerberos for user "alice/admin@TEST\.MOAT" from 127\.0\.0\.1 port [0-9]+: failed' "$EVENTS"
moat_check "the refusal names the reason: an instance" \
    grep -q 'Kerberos principal "alice/admin@TEST.MOAT" from 127.0.0.1 port [0-9]* refused: the principal has more than one component' "$EVENTS"

# 4. alice of another realm, trusted by the KDC: the name alone is not enough.
moat_check "kinit alice@OTHER.MOAT" \
    kinit_as "$K/cc-other" alice@OTHER.MOAT other-krb-pw
moat_check_fails "gvnccapture as alice@OTHER.MOAT is refused" \
    capture "$K/cc-other" "$T/other.png"
moat_check_fails "no frame was written for alice@OTHER.MOAT" test -e "$T/other.png"
moat_check "the KDC issued a cross-realm service ticket" \
    grep -q 'alice@OTHER.MOAT for vnc/localhost@TEST.MOAT' "$K/kdc.log"
moat_check "the factor is logged as failed for alice@OTHER.MOAT" \
    grep -Eq 'factor Kerberos for user "alice@OTHER\.MOAT" from 127\.0\.0\.1 port [0-9]+: failed' "$EVENTS"
moat_check "the refusal names the reason: another realm" \
    grep -q 'Kerberos principal "alice@OTHER.MOAT" from 127.0.0.1 port [0-9]* refused: the principal is not of the realm KerberosRealm names' "$EVENTS"
moat_check_eq "no refused principal logged in" "$ok_logins" "$(logins_logged)"

# 5. The other alternative: a password viewer logs in through SystemAuth.
moat_viewer_login password 0 "$USER_PASS"
moat_check "the password login is logged as SystemAuth for alice" \
    grep -Eq 'factor SystemAuth for user "alice" from 127\.0\.0\.1 port [0-9]+: passed' "$EVENTS"

# 6. Alice's ticket still works after the refusals (nothing was penalised
#    but the refused connections).
moat_check "gvnccapture logs in again with alice's ticket" \
    capture "$K/cc-alice" "$T/sso2.png"

# 7. moat-net cannot produce "authenticated" on its own (test builds: the
#    rogue hooks of net/net_handshake.c, SECURITY.md "Test-build hooks"):
#    the SASL exchange twice, and a step with no exchange open, end the
#    connection with the monitor's refusal and its kill of moat-net.
grep -q 'TEST BUILD' "$EVENTS" ||
    moat_fail "moatd is not a test build: the rogue hooks need -DMOAT_SELFTEST=ON"
rogue()	# HOOK: logs in over X509Plain as the hook's user
{
	moat_probe --user "moat-selftest-$1" --password "$USER_NAME:$USER_PASS" \
	    --scenario login >>"$T/rogue.log" 2>&1
}
kills_are()	# N: moatd's log shows N moat-nets killed by their monitors
{
	[ "$(grep -Ec 'moat-net\[[0-9]+\] for .* was killed by signal 9 \(Killed\)$' \
	    "$EVENTS" || true)" -eq "$1" ]
}
ok_logins=$(logins_logged)
moat_check_fails "a second SASL exchange gets no desktop" rogue sasl-twice
moat_check "the monitor refuses the second exchange" moat_wait_log "$EVENTS" \
    'moat-net\[[0-9]+\] for 127\.0\.0\.1 port [0-9]+ sent unpermitted request NET_SASL_START \(27\) in phase preauth; ending the connection$'
moat_check "the first exchange was logged as a failed factor" grep -Eq \
    'factor Kerberos for user "" from 127\.0\.0\.1 port [0-9]+: failed' "$EVENTS"
moat_check_fails "a SASL step with no exchange open gets no desktop" \
    rogue sasl-step-early
moat_check "the monitor refuses the step" moat_wait_log "$EVENTS" \
    'moat-net\[[0-9]+\] for 127\.0\.0\.1 port [0-9]+ sent unpermitted request NET_SASL_STEP \(28\) in phase preauth; ending the connection$'
moat_check "both rogue moat-nets were killed by their monitors" \
    moat_wait -m "two kills" kills_are 2
moat_check_eq "no rogue logged in" "$ok_logins" "$(logins_logged)"

# 8. Without Kerberos in Authentication, SASL is neither offered nor taken.
moat_stop moatd session
moat_server_restart plain SystemAuth
moat_check_fails "gvnccapture with alice's ticket finds no SASL to use" \
    capture "$K/cc-alice" "$T/plain.png"
moat_check_fails "no frame was written" test -e "$T/plain.png"
moat_check_fails "a SASL exchange where policy offers none gets no desktop" \
    rogue sasl-unoffered
moat_check "the monitor refuses it" moat_wait_log "$EVENTS" \
    'moat-net\[[0-9]+\] for 127\.0\.0\.1 port [0-9]+ started SASL \(Kerberos\), which policy does not let it offer; ending the connection$'
moat_check "that rogue moat-net was killed by its monitor" \
    moat_wait -m "one kill" kills_are 1
moat_check_fails "nobody logged in" grep -q 'authentication succeeded' "$EVENTS"

# --- the audit records (docs/audit.md), both moatd runs in one chain ---
F='"event":"auth_factor",.*"factor":"Kerberos","user":'
moat_check "audit: alice's ticket passed the Kerberos factor" \
    grep -Eq "$F"'"alice","result":"success"' "$MOAT_AUDIT"
moat_check "audit: her login over the SASL subtype" \
    grep -Eq '"event":"login",.*"user":"alice","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509SASL"' "$MOAT_AUDIT"
moat_check_eq "audit: two Kerberos logins (the ticket, twice)" 2 \
    "$(grep -c '"event":"login",.*"result":"success",.*"security_type":"VeNCrypt X509SASL"' "$MOAT_AUDIT")"
moat_check "audit: alice/admin failed, not mapped" \
    grep -Eq "$F"'"alice/admin@TEST\.MOAT","result":"failure","reason":"Kerberos authentication failed: the principal does not map to an account on this server"' "$MOAT_AUDIT"
moat_check "audit: alice@OTHER.MOAT failed, not mapped" \
    grep -Eq "$F"'"alice@OTHER\.MOAT","result":"failure","reason":"Kerberos authentication failed: the principal does not map to an account on this server"' "$MOAT_AUDIT"
moat_check "audit: and her login was refused" \
    grep -Eq '"event":"login",.*"user":"alice@OTHER\.MOAT","result":"failure"' "$MOAT_AUDIT"
moat_check "audit: the password alternative is a SystemAuth factor" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"alice","result":"success"' "$MOAT_AUDIT"
moat_check "audit: the first rogue exchange is a failed Kerberos factor naming nobody" \
    grep -Eq "$F"'"","result":"failure"' "$MOAT_AUDIT"
moat_check_eq "audit: the three rogue moat-nets: disconnects of kind ipc, bytes unknown" 3 \
    "$(grep -Ec '"event":"disconnect",.*"user":"","kind":"ipc","reason":"moat-net broke the IPC protocol",.*"bytes_in":-1,"bytes_out":-1,"recorded_by":"monitor"' "$MOAT_AUDIT")"
moat_check_eq "audit: no login and no Kerberos factor under Authentication=SystemAuth" 0 \
    "$(tac "$MOAT_AUDIT" | sed '/"event":"audit_start"/q' | grep -Ec '"event":"login"|"factor":"Kerberos"' || true)"
moat_audit_verify --live

moat_test_end
