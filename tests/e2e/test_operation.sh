#!/bin/bash
# Operating moatd: `moatd -t` prints the effective configuration and where each
# value came from; a bad configuration is refused with file, line and allowed
# values; Encryption=AlwaysMaximum negotiates AES-256-GCM while the default is
# AES-128-GCM; and connection, authentication and disconnect records reach
# syslog with facility LOG_AUTHPRIV (a receiver on a private /dev/log).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start

# --- the identity moatd created on first start ---
moat_check_eq "the identity key is private (0600, root)" "600 root" "$(stat -c '%a %U' "$T/etc/identity.key")"
moat_check_eq "the identity certificate is public (0644)" 644 "$(stat -c %a "$CA")"
# (its second line, the catchphrase, is checked by test_identity.sh)
moat_check "moatd --fingerprint prints the certificate's SHA-256 fingerprint" sh -c \
    "[ \"\$('$(moat_bin moatd)' --fingerprint -f '$CONF' | head -n 1)\" = \"SHA256:\$(openssl x509 -in '$CA' -noout -fingerprint -sha256 | cut -d= -f2)\" ]"

# --- moatd -t ---
"$(moat_bin moatd)" -t -f "$CONF" > "$T/effective.txt"
moat_check "moatd -t shows a configured value with its file and line" \
    grep -Eq "^ListenPort=$PORT +# from $CONF:2\$" "$T/effective.txt"
moat_check "moatd -t shows a default as such" \
    grep -Eq '^Encryption=AlwaysOn +# default$' "$T/effective.txt"

# --- a bad configuration names file, line and allowed values ---
moat_write_config "$T/bad/moatd.conf" ListenAddress=127.0.0.1 Encryption=Strong
moat_check_fails "moatd refuses a bad value" \
    "$(moat_bin moatd)" -t -f "$T/bad/moatd.conf"
moat_check "the error names the file, the line and the allowed values" sh -c \
    "'$(moat_bin moatd)' -t -f '$T/bad/moatd.conf' 2>&1 | grep -q '$T/bad/moatd.conf:2: Encryption: invalid value .Strong.; allowed: AlwaysOn, PreferOn, AlwaysMaximum'"
chmod 0666 "$T/bad/moatd.conf"
moat_write_config "$T/bad2/moatd.conf" ListenAddress=127.0.0.1
chmod 0664 "$T/bad2/moatd.conf"
moat_check_fails "moatd refuses a configuration file writable by others" \
    "$(moat_bin moatd)" -t -f "$T/bad2/moatd.conf"

# --- ciphers ---
moat_check "the default negotiates TLS_AES_128_GCM_SHA256" sh -c \
    "python3 '$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py' --port $PORT --ca '$CA' --user '$USER_NAME' --password '$USER_PASS' | grep -q 'cipher=TLS_AES_128_GCM_SHA256'"

# --- a second instance beside the first: AlwaysMaximum, and syslog ---
PORT2=$(moat_free_port)
# One audit writer per directory: the second moatd has its own.
MOAT_AUDIT2=$T/audit2/audit.jsonl
moat_write_config "$T/etc2/moatd.conf" \
    ListenAddress=127.0.0.1 "ListenPort=$PORT2" \
    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" \
    "EmptyRoot=$T/empty" "SessionSocket=$T/run2/session.sock" \
    Encryption=AlwaysMaximum "AuditFile=$MOAT_AUDIT2"
mkdir -p "$T/logdev" "$T/realdev"
moat_bg syslogd python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536) + b"\n")
' "$T/logdev/log" "$T/syslog.txt"
moat_wait_log syslogd listening
# moatd sees a private /dev whose log socket is the receiver above.
moat_bg moatd2 unshare -m --propagation private bash -c '
set -e
mount --bind /dev "$1/realdev"
mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero random urandom; do
	touch "/dev/$n"; mount --bind "$1/realdev/$n" "/dev/$n"
done
touch /dev/log; mount --bind "$1/logdev/log" /dev/log
exec "$2" -d -f "$1/etc2/moatd.conf"' _ "$T" "$(moat_bin moatd)"
moat_wait_port "$PORT2"
moat_bg session2 --as "$USER_NAME" --x "$SERVED" \
    "$(moat_user_bin moat-session)" --socket "$T/run2/session.sock"
moat_wait_log moatd2 "desktop session $SERVED registered"
moat_check "Encryption=AlwaysMaximum negotiates TLS_AES_256_GCM_SHA384" sh -c \
    "python3 '$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py' --port $PORT2 --ca '$CA' --user '$USER_NAME' --password '$USER_PASS' | grep -q 'cipher=TLS_AES_256_GCM_SHA384'"
moat_check_fails "a wrong password is refused" \
    python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT2" --ca "$CA" \
    --user "$USER_NAME" --password nope
# <86> = facility LOG_AUTHPRIV (10) * 8 + severity info (6)
moat_check "syslog (authpriv.info) has the accepted connection with its peer" \
    moat_wait_log "$T/syslog.txt" '^<86>.*moatd\[[0-9]+\]: connection from 127\.0\.0\.1 port [0-9]+ accepted'
moat_check "syslog (authpriv.info) has the successful login with user and peer" \
    moat_wait_log "$T/syslog.txt" "^<86>.*authentication succeeded for user \"$USER_NAME\" from 127\\.0\\.0\\.1 port"
moat_check "syslog (authpriv.info) has the failed login with user and peer" \
    moat_wait_log "$T/syslog.txt" "^<86>.*authentication failed for user \"$USER_NAME\" from 127\\.0\\.0\\.1 port"
moat_check "syslog (authpriv.info) has the disconnect with duration and byte counts" \
    moat_wait_log "$T/syslog.txt" "^<86>.*disconnect: 127\\.0\\.0\\.1 port [0-9]+ user \"$USER_NAME\" after [0-9]+s, [0-9]+ bytes in, [0-9]+ bytes out"

# --- the audit records (docs/audit.md): each moatd's own file ---
# The identity's fingerprint as audit records give it: SHA-256 of its SPKI.
SPKI=$(openssl x509 -in "$CA" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
moat_check "audit: the default's security record (type, TLS 1.3, AES-128-GCM, identity)" \
    grep -Eq '"event":"security",.*"security_type":"VeNCrypt X509Plain","tls_version":"TLSv1.3","cipher":"TLS_AES_128_GCM_SHA256","fingerprint":"'"$SPKI"'"' "$MOAT_AUDIT"
moat_check "audit: the SystemAuth factor passed" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"success"' "$MOAT_AUDIT"
moat_check "audit: the login, with the default permissions" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs","permissions_mask":31,"permissions_from":"default","security_type":"VeNCrypt X509Plain"' "$MOAT_AUDIT"
moat_check "audit: the viewer's disconnect with its byte counts" \
    grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"viewer","reason":"viewer disconnected[^"]*","duration_ms":[0-9]+,"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_check "audit: AlwaysMaximum's security record (AES-256-GCM), in the second file" \
    grep -Eq '"event":"security",.*"security_type":"VeNCrypt X509Plain","tls_version":"TLSv1.3","cipher":"TLS_AES_256_GCM_SHA384","fingerprint":"'"$SPKI"'"' "$MOAT_AUDIT2"
moat_check "audit: the wrong password's failed factor, with its reason" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"failure","reason":"[^"]+"' "$MOAT_AUDIT2"
moat_check "audit: and the failed login" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"failure","reason":"[^"]+"' "$MOAT_AUDIT2"
moat_check_fails "audit: no failed login in the first moatd's file" \
    grep -q '"event":"login",.*"result":"failure"' "$MOAT_AUDIT"
moat_audit_verify --live
moat_audit_verify --live "$MOAT_AUDIT2"

moat_test_end
