#!/bin/bash
# The server identity and `moatctl identity`: generate creates the key (root,
# 0600) and the CA certificate (0644) at the configured paths and refuses to
# overwrite either; show prints exactly what an independent computation with
# openssl and python3 gives (certificate SHA-256, public-key SHA-256, the six
# BIP-39 words, the RealVNC fingerprint); other users may show but not
# generate; root's show checks the key as moatd would; export-ca writes the
# certificate viewers pin, and a viewer trusting only that export verifies
# the chain a running moatd serves (one trusting another identity does not);
# moatd uses the identity moatctl made and prints and logs the same
# catchphrase.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

MOATCTL=$(moat_bin moatctl)
WORDS=$MOAT_SOURCE_DIR/data/bip39-english.txt
KEY=$T/etc/identity.key
CRT=$T/etc/identity.crt
# The same identity paths moat_server_start configures later.
moat_write_config etc/moatd.conf "IdentityKey=$KEY" "IdentityCert=$CRT"

# expected_show CERT: what `moatctl identity show` must print, computed
# without moat's code: openssl for the DER encodings, python3 for the rest.
expected_show()
{
	local crt=$1 spki="$T/spki.der"
	openssl x509 -in "$crt" -noout -pubkey | openssl pkey -pubin -outform DER >"$spki"
	python3 - "$crt" "$spki" "$WORDS" <<'EOF'
import hashlib, re, struct, subprocess, sys
crt, spki, words = sys.argv[1], open(sys.argv[2], "rb").read(), open(sys.argv[3]).read().split()
def colon(d):
    return "SHA256:" + ":".join("%02X" % b for b in d)
der = subprocess.run(["openssl", "x509", "-in", crt, "-outform", "DER"],
                     capture_output=True, check=True).stdout
key_hash = hashlib.sha256(spki).digest()
v = int.from_bytes(key_hash[:9], "big") >> 6          # the first 66 bits
phrase = " ".join(words[(v >> (55 - 11 * i)) & 0x7FF] for i in range(6))
text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-text"],
                      capture_output=True, check=True, text=True).stdout
mod = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-modulus"],
                     capture_output=True, check=True, text=True).stdout
n = int(mod.strip().split("=", 1)[1], 16)
e = int(re.search(r"Exponent: (\d+)", text).group(1))
size = (n.bit_length() + 7) // 8
blob = struct.pack(">I", 8 * size) + n.to_bytes(size, "big") + e.to_bytes(size, "big")
realvnc = "-".join("%02x" % b for b in hashlib.sha1(blob).digest()[:8])
print("Certificate:          %s" % crt)
print("Certificate SHA-256:  %s" % colon(hashlib.sha256(der).digest()))
print("Public key SHA-256:   %s" % colon(key_hash))
print("Catchphrase:          %s" % phrase)
print("RealVNC fingerprint:  %s" % realvnc)
EOF
}

# --- generate ---
moat_check "moatctl identity generate creates the identity" \
    sh -c "'$MOATCTL' identity generate -f '$T/etc/moatd.conf' >'$T/generate.out'"
moat_check_eq "the key is root's alone (0600)" "600 root root" "$(stat -c '%a %U %G' "$KEY")"
moat_check_eq "the certificate is public (0644)" "644 root root" "$(stat -c '%a %U %G' "$CRT")"
moat_check "the key is RSA-2048" sh -c \
    "openssl pkey -in '$KEY' -noout -text | head -n 1 | grep -q '(2048 bit'"
moat_check "the certificate is a CA certificate (CA:TRUE, pathlen 1: room for a rotation's cross certificate)" sh -c \
    "openssl x509 -in '$CRT' -noout -ext basicConstraints | grep -q 'CA:TRUE, pathlen:1'"
moat_check "the certificate verifies as its own CA" \
    openssl verify -CAfile "$CRT" "$CRT"
moat_check "the certificate holds the key's public half" sh -c \
    "[ \"\$(openssl pkey -in '$KEY' -pubout)\" = \"\$(openssl x509 -in '$CRT' -noout -pubkey)\" ]"
expected_show "$CRT" >"$T/expected.txt"
moat_check_eq "generate prints the identity, as computed by openssl and python3" \
    "$(cat "$T/expected.txt")" "$(cat "$T/generate.out")"
moat_check_eq "show prints the same" \
    "$(cat "$T/expected.txt")" "$("$MOATCTL" identity show -f "$T/etc/moatd.conf")"
PHRASE=$(sed -n 's/^Catchphrase: *//p' "$T/expected.txt")
CERT_FP=$(sed -n 's/^Certificate SHA-256: *//p' "$T/expected.txt")
moat_check "the catchphrase is six words of the list" sh -c \
    "[ \$(echo '$PHRASE' | wc -w) -eq 6 ] && for w in $PHRASE; do grep -qx \"\$w\" '$WORDS' || exit 1; done"

# --- refusing to overwrite ---
sums=$(sha256sum "$KEY" "$CRT")
moat_check_fails "a second generate fails" \
    "$MOATCTL" identity generate -f "$T/etc/moatd.conf"
moat_check "and says it refuses to overwrite" sh -c \
    "'$MOATCTL' identity generate -f '$T/etc/moatd.conf' 2>&1 | grep -q 'exists; refusing to overwrite'"
mv "$CRT" "$T/crt.aside"
moat_check_fails "generate refuses while only the key exists" \
    "$MOATCTL" identity generate -f "$T/etc/moatd.conf"
moat_check_eq "and creates no certificate" "" "$(ls "$CRT" 2>/dev/null || true)"
mv "$T/crt.aside" "$CRT"
mv "$KEY" "$T/key.aside"
moat_check_fails "generate refuses while only the certificate exists" \
    "$MOATCTL" identity generate -f "$T/etc/moatd.conf"
moat_check_eq "and creates no key" "" "$(ls "$KEY" 2>/dev/null || true)"
mv "$T/key.aside" "$KEY"
moat_check_eq "the identity is unchanged" "$sums" "$(sha256sum "$KEY" "$CRT")"

# --- who may do what ---
moat_add_user idviewer 'not-used-1'
CTL_USER=$(moat_user_bin moatctl)
moat_check_fails "an ordinary user may not generate" \
    moat_as idviewer "$CTL_USER" identity generate -f "$T/etc/moatd.conf"
moat_check_eq "an ordinary user may show (the public half)" \
    "$(cat "$T/expected.txt")" "$(moat_as idviewer "$CTL_USER" identity show -f "$T/etc/moatd.conf")"
moat_check_fails "an ordinary user cannot read the key" \
    moat_as idviewer cat "$KEY"

# Root's show checks the key as moatd would: a key of another identity, or
# one others can read, is an error.
moat_write_config other/moatd.conf "IdentityKey=$T/other/identity.key" \
    "IdentityCert=$T/other/identity.crt"
"$MOATCTL" identity generate -f "$T/other/moatd.conf" >/dev/null
moat_write_config mixed/moatd.conf "IdentityKey=$T/other/identity.key" "IdentityCert=$CRT"
moat_check_fails "root's show refuses a key that does not match the certificate" \
    "$MOATCTL" identity show -f "$T/mixed/moatd.conf"
chmod 0640 "$T/other/identity.key"
moat_check_fails "root's show refuses a key others can read" \
    "$MOATCTL" identity show -f "$T/other/moatd.conf"
chmod 0600 "$T/other/identity.key"
moat_check "root's show accepts it again at 0600" \
    "$MOATCTL" identity show -f "$T/other/moatd.conf"
moat_check "another identity has another catchphrase" sh -c \
    "! '$MOATCTL' identity show -f '$T/other/moatd.conf' | grep -qx 'Catchphrase: *$PHRASE'"

# --- export-ca ---
moat_check "export-ca writes the certificate to a file" \
    "$MOATCTL" identity export-ca -f "$T/etc/moatd.conf" -o "$T/exported.pem"
moat_check_eq "the export is readable by viewers (0644)" 644 "$(stat -c %a "$T/exported.pem")"
moat_check "the export is the identity certificate" bash -c \
    "openssl x509 -in '$T/exported.pem' -outform DER | cmp -s - <(openssl x509 -in '$CRT' -outform DER)"
moat_check "export-ca to standard output gives the same PEM" sh -c \
    "'$MOATCTL' identity export-ca -f '$T/etc/moatd.conf' | cmp -s - '$T/exported.pem'"
moat_check_fails "export-ca refuses to overwrite a file" \
    "$MOATCTL" identity export-ca -f "$T/etc/moatd.conf" -o "$T/exported.pem"
ln -s "$T/victim" "$T/link.pem"
moat_check_fails "export-ca refuses to follow a symbolic link" \
    "$MOATCTL" identity export-ca -f "$T/etc/moatd.conf" -o "$T/link.pem"
moat_check_eq "and created nothing through it" "" "$(ls "$T/victim" 2>/dev/null || true)"
"$MOATCTL" identity export-ca -f "$T/other/moatd.conf" -o "$T/other-ca.pem"

# --- moatd uses the identity moatctl made ---
moat_check_eq "moatd --fingerprint prints the certificate fingerprint, then the catchphrase" \
    "$(printf '%s\n%s' "$CERT_FP" "$PHRASE")" \
    "$("$(moat_bin moatd)" --fingerprint -f "$T/etc/moatd.conf")"
moat_server_start
moat_check_eq "moatd kept the identity" "$sums" "$(sha256sum "$KEY" "$CRT")"
moat_check "moatd's start line has the fingerprint and the catchphrase" \
    moat_wait_log "$EVENTS" "moatd listening on 127\\.0\\.0\\.1 port $PORT; identity $CERT_FP catchphrase \"$PHRASE\""
moat_check "a viewer trusting only the exported CA verifies moatd's chain and logs in" sh -c \
    "python3 '$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py' --port $PORT --ca '$T/exported.pem' \
    --user '$USER_NAME' --password '$USER_PASS' | grep -q '^server init '"
moat_check "control: a viewer trusting another identity's CA is refused by TLS" sh -c \
    "python3 '$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py' --port $PORT --ca '$T/other-ca.pem' \
    --user '$USER_NAME' --password '$USER_PASS' 2>&1 | grep -q CERTIFICATE_VERIFY_FAILED"

# --- the audit records (docs/audit.md): the identity viewers were shown ---
# moatctl identity show's public-key SHA-256, as audit records write it.
key_fp()	# CONF
{
	"$MOATCTL" identity show -f "$1" | sed -n 's/^Public key SHA-256: *SHA256://p' |
	    tr -d : | tr 'A-F' 'a-f'
}
FP=$(key_fp "$T/etc/moatd.conf")
OTHER_FP=$(key_fp "$T/other/moatd.conf")
moat_check "audit: the security record names moatd's identity (moatctl identity show)" \
    grep -Eq '"event":"security",.*"security_type":"VeNCrypt X509Plain","tls_version":"TLSv1.3","cipher":"[A-Z0-9_]+","fingerprint":"'"$FP"'"' "$MOAT_AUDIT"
moat_check_fails "audit: never the other identity's" grep -q "$OTHER_FP" "$MOAT_AUDIT"
moat_check "audit: the login of the viewer that verified the chain" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success"' "$MOAT_AUDIT"
moat_check "audit: the viewer that refused the chain left without a login" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"","kind":"viewer",' "$MOAT_AUDIT"
moat_check_eq "audit: one login in all" 1 "$(grep -c '"event":"login"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
