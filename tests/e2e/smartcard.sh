# shellcheck shell=bash
# Variables here are read by the tests that source the file:
# shellcheck disable=SC2034
#
# smartcard.sh - a smartcard for end-to-end tests of the Certificate factor:
# a SoftHSM2 token whose RSA keys were generated on the token and never left
# it, a test CA (OpenSSL's "ca" with its database) that certified them from
# CSRs signed on the token, its CRL revoking one of them, and a second CA
# that certifies the same e-mail address with a software key. Everything
# lives under the directory given to moat_smartcard_setup (normally under
# $T, which lib.sh removes on exit). Sourced after lib.sh and
# moat_test_begin. Test code; trusts the host's openssl, softhsm2-util and
# pkcs11-tool.
#
# After moat_smartcard_setup DIR:
#   SOFTHSM2_CONF        (exported) DIR/softhsm2.conf, tokens in DIR/tokens
#   CARD_MODULE          the PKCS#11 module (SoftHSM2's)
#   CARD_LABEL           the token's label, moat-card
#   CARD_PIN, CARD_SO_PIN            the user and security officer PINs
#   CARD_PIN_FILE, CARD_BAD_PIN_FILE files holding the right PIN and a
#                        wrong one on their first line (root-only)
#   CARD_ALICE_KEY, CARD_ALICE_CERT  PKCS#11 URIs of alice's private key and
#                        certificate on the token (no PIN in them)
#   CARD_ALICE_PEM       the same certificate as a PEM file
#   CARD_BOB_KEY, CARD_BOB_CERT, CARD_BOB_PEM   the same for bob, whose
#                        certificate is revoked in the CRL
#   CARD_CA              the card CA's certificate (PEM), for
#                        CertificateCaFile: root-owned 0644 in a root-owned
#                        0755 directory
#   CARD_CRL             its CRL (PEM, with a nextUpdate), for
#                        CertificateCrlFile, listing bob's serial
#   CARD_BOB_SERIAL      bob's serial number (hex, upper case, as OpenSSL
#                        prints it)
#   OTHER_CA             another CA, in no moat configuration
#   OTHER_ALICE_CERT, OTHER_ALICE_KEY   alice's certificate from OTHER_CA
#   FORGE_CERT, FORGE_KEY   card-CA certificate for alice's address with the
#                           subject CN moat-selftest-forge-proof (software key)
#   SOFT_CERT, SOFT_KEY     the same with CN alice-software: its control
#                        (same subject and e-mail address) and its software
#                        key (PEM files)
#   CARD_OPENSSL_CONF    an OPENSSL_CONF loading libp11's engine with the
#                        module, for openssl commands that use the token
#   CARD_USER_DOMAIN     example.test, the domain of the e-mail addresses
#
# Certificates follow docs/certificates.md: RSA-2048, SHA-256, CAs with a
# critical basicConstraints, keyCertSign/cRLSign and a subjectKeyIdentifier;
# the users' certificates with an authorityKeyIdentifier, extendedKeyUsage
# clientAuth, keyUsage digitalSignature and exactly one rfc822Name.

CARD_MODULE=/usr/lib/softhsm/libsofthsm2.so
CARD_LABEL=moat-card
CARD_PIN=123456
CARD_SO_PIN=87654321
CARD_USER_DOMAIN=example.test

# The openssl configuration of a CA under directory $1 named $2.
_card_ca_config()
{
	cat <<EOF
[ca]
default_ca = moat_test_ca

[moat_test_ca]
dir = $1
database = \$dir/index.txt
new_certs_dir = \$dir/issued
certificate = \$dir/$2.pem
private_key = \$dir/private/$2.key
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 2
default_crl_days = 1
unique_subject = no
copy_extensions = none
policy = moat_test_policy
x509_extensions = moat_client_ext
crl_extensions = moat_crl_ext
preserve = yes
email_in_dn = no

[moat_test_policy]
commonName = supplied

[req]
distinguished_name = moat_dn
prompt = no
x509_extensions = moat_ca_ext

[moat_dn]
CN = unused

[moat_ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[moat_client_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = email:\${ENV::CARD_SAN_EMAIL}

[moat_crl_ext]
authorityKeyIdentifier = keyid:always
EOF
}

# _card_new_ca DIR NAME CN: a self-signed RSA-2048 CA in DIR (root-owned
# 0755; the key root-only) with an empty database.
_card_new_ca()
{
	local dir=$1 name=$2 cn=$3
	install -d -o root -g root -m 0755 "$dir" "$dir/issued"
	install -d -o root -g root -m 0700 "$dir/private"
	: >"$dir/index.txt"
	printf '1000\n' >"$dir/serial"
	printf '01\n' >"$dir/crlnumber"
	CARD_SAN_EMAIL=unused _card_ca_config "$dir" "$name" >"$dir/openssl.cnf"
	(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out "$dir/private/$name.key" 2>"$dir/genpkey.err") ||
	    moat_fail "cannot make the key of $cn: $(cat "$dir/genpkey.err")"
	CARD_SAN_EMAIL=unused openssl req -config "$dir/openssl.cnf" -new -x509 \
	    -key "$dir/private/$name.key" -subj "/CN=$cn" -days 3 -sha256 \
	    -out "$dir/$name.pem" >"$dir/req.err" 2>&1 ||
	    moat_fail "cannot make the certificate of $cn: $(cat "$dir/req.err")"
	chmod 0644 "$dir/$name.pem"
}

# _card_sign DIR NAME CSR EMAIL OUT: the CA in DIR certifies CSR as a TLS
# client with EMAIL as its one subjectAltName; OUT is PEM, 0644.
_card_sign()
{
	local dir=$1 name=$2 csr=$3 email=$4 out=$5
	CARD_SAN_EMAIL=$email openssl ca -batch -config "$dir/openssl.cnf" \
	    -notext -in "$csr" -out "$out" >"$dir/ca.err" 2>&1 ||
	    moat_fail "the CA $name cannot sign $csr: $(cat "$dir/ca.err")"
	chmod 0644 "$out"
}

# _card_soft_user DIR CN VAR: a software RSA key (VAR_KEY) and a card-CA
# certificate (VAR_CERT) for CN with alice's address as its subjectAltName.
_card_soft_user()
{
	local dir=$1 cn=$2 var=$3 key cert
	key=$dir/$cn.key
	cert=$dir/$cn.pem
	(umask 077 && CARD_SAN_EMAIL=unused openssl req -new -newkey rsa:2048 -nodes \
	    -keyout "$key" -config "$dir/ca/openssl.cnf" -subj "/CN=$cn" -sha256 \
	    -out "$dir/$cn.csr" >"$dir/ca/soft.err" 2>&1) ||
	    moat_fail "cannot make the CSR of $cn: $(cat "$dir/ca/soft.err")"
	_card_sign "$dir/ca" card-ca "$dir/$cn.csr" "alice@$CARD_USER_DOMAIN" "$cert"
	printf -v "${var}_KEY" '%s' "$key"
	printf -v "${var}_CERT" '%s' "$cert"
}

# _card_p11 ARGS...: pkcs11-tool on the token, logged in as the user.
_card_p11()
{
	pkcs11-tool --module "$CARD_MODULE" --token-label "$CARD_LABEL" \
	    --login --pin "$CARD_PIN" "$@"
}

# _card_user NAME ID DIR: a key pair NAME-key generated on the token with
# CKA_ID ID, a CSR for CN=NAME signed on the token, its certificate from
# the card CA (DIR/NAME.pem) written to the token as NAME-cert.
_card_user()
{
	local name=$1 id=$2 dir=$3 uri
	_card_p11 --keypairgen --key-type rsa:2048 --id "$id" --label "$name-key" \
	    >"$dir/$name-keygen.log" 2>&1 ||
	    moat_fail "key generation on the token failed: $(cat "$dir/$name-keygen.log")"
	uri="pkcs11:token=$CARD_LABEL;object=$name-key;type=private;pin-value=$CARD_PIN"
	OPENSSL_CONF=$CARD_OPENSSL_CONF openssl req -new -engine pkcs11 -keyform engine \
	    -key "$uri" -subj "/CN=$name" -sha256 -out "$dir/$name.csr" \
	    >"$dir/$name-csr.log" 2>&1 ||
	    moat_fail "the CSR signed on the token failed: $(cat "$dir/$name-csr.log")"
	openssl req -in "$dir/$name.csr" -noout -verify >/dev/null 2>&1 ||
	    moat_fail "the CSR of $name does not verify"
	_card_sign "$dir/ca" card-ca "$dir/$name.csr" "$name@$CARD_USER_DOMAIN" "$dir/$name.pem"
	openssl x509 -in "$dir/$name.pem" -outform DER -out "$dir/$name.der" ||
	    moat_fail "cannot convert $name.pem"
	_card_p11 --write-object "$dir/$name.der" --type cert --id "$id" \
	    --label "$name-cert" >"$dir/$name-write.log" 2>&1 ||
	    moat_fail "cannot write $name's certificate to the token: $(cat "$dir/$name-write.log")"
}

# moat_smartcard_setup DIR: builds the token, the CAs, the certificates and
# the CRL under DIR (created root-owned 0755; it must not exist) and sets
# the variables listed at the top of this file.
moat_smartcard_setup()
{
	local dir=$1 enginedir other serial_alice

	[[ ! -e "$dir" ]] || moat_fail "moat_smartcard_setup: $dir exists"
	[[ -r "$CARD_MODULE" ]] || moat_fail "$CARD_MODULE is missing (softhsm2)"
	command -v pkcs11-tool >/dev/null || moat_fail "pkcs11-tool is missing (opensc)"
	enginedir=$(openssl version -e | sed -n 's/^ENGINESDIR: "\(.*\)"$/\1/p')
	[[ -r "$enginedir/pkcs11.so" ]] ||
	    moat_fail "$enginedir/pkcs11.so is missing (libengine-pkcs11-openssl)"
	install -d -o root -g root -m 0755 "$dir"

	# --- the token ---
	install -d -o root -g root -m 0700 "$dir/tokens"
	printf '%s\n' "directories.tokendir = $dir/tokens" "objectstore.backend = file" \
	    "log.level = ERROR" "slots.removable = false" >"$dir/softhsm2.conf"
	export SOFTHSM2_CONF=$dir/softhsm2.conf
	softhsm2-util --init-token --free --label "$CARD_LABEL" --so-pin "$CARD_SO_PIN" \
	    --pin "$CARD_PIN" >"$dir/init-token.log" 2>&1 ||
	    moat_fail "softhsm2-util --init-token failed: $(cat "$dir/init-token.log")"
	(umask 077 &&
	    printf '%s\n' "$CARD_PIN" >"$dir/pin" &&
	    printf '%s\n' 654321 >"$dir/bad-pin")
	CARD_PIN_FILE=$dir/pin
	CARD_BAD_PIN_FILE=$dir/bad-pin

	# libp11's engine, for the CSRs signed on the token (openssl req only).
	CARD_OPENSSL_CONF=$dir/openssl-pkcs11.cnf
	cat >"$CARD_OPENSSL_CONF" <<EOF
openssl_conf = openssl_init

[openssl_init]
engines = engine_section

[engine_section]
pkcs11 = pkcs11_section

[pkcs11_section]
engine_id = pkcs11
dynamic_path = $enginedir/pkcs11.so
MODULE_PATH = $CARD_MODULE
init = 0

[req]
distinguished_name = moat_dn
prompt = no

[moat_dn]
CN = unused
EOF

	# --- the card CA; alice and bob on the token; bob revoked ---
	_card_new_ca "$dir/ca" card-ca "Moat Test Card CA"
	CARD_CA=$dir/ca/card-ca.pem
	_card_user alice 01 "$dir"
	_card_user bob 02 "$dir"
	CARD_BOB_SERIAL=$(openssl x509 -in "$dir/bob.pem" -noout -serial | sed 's/^serial=//')
	serial_alice=$(openssl x509 -in "$dir/alice.pem" -noout -serial | sed 's/^serial=//')
	[[ -n "$CARD_BOB_SERIAL" && "$CARD_BOB_SERIAL" != "$serial_alice" ]] ||
	    moat_fail "alice and bob got no distinct serial numbers"
	CARD_SAN_EMAIL=unused openssl ca -batch -config "$dir/ca/openssl.cnf" \
	    -revoke "$dir/bob.pem" -crl_reason keyCompromise >"$dir/ca/revoke.err" 2>&1 ||
	    moat_fail "cannot revoke bob: $(cat "$dir/ca/revoke.err")"
	CARD_CRL=$dir/ca/ca-crl.pem
	CARD_SAN_EMAIL=unused openssl ca -batch -config "$dir/ca/openssl.cnf" -gencrl \
	    -crldays 1 -out "$CARD_CRL" >"$dir/ca/gencrl.err" 2>&1 ||
	    moat_fail "cannot make the CRL: $(cat "$dir/ca/gencrl.err")"
	chmod 0644 "$CARD_CRL"
	openssl crl -in "$CARD_CRL" -noout -nextupdate | grep -q '^nextUpdate=' ||
	    moat_fail "the CRL has no nextUpdate"
	openssl crl -in "$CARD_CRL" -noout -text | grep -q "Serial Number: $CARD_BOB_SERIAL\$" ||
	    moat_fail "the CRL does not list bob's serial $CARD_BOB_SERIAL"

	CARD_ALICE_KEY="pkcs11:token=$CARD_LABEL;object=alice-key;type=private"
	CARD_ALICE_CERT="pkcs11:token=$CARD_LABEL;object=alice-cert;type=cert"
	CARD_ALICE_PEM=$dir/alice.pem
	CARD_BOB_KEY="pkcs11:token=$CARD_LABEL;object=bob-key;type=private"
	CARD_BOB_CERT="pkcs11:token=$CARD_LABEL;object=bob-cert;type=cert"
	CARD_BOB_PEM=$dir/bob.pem

	# --- the card CA, software keys: the rogue moat-net case and its control ---
	_card_soft_user "$dir" moat-selftest-forge-proof FORGE
	_card_soft_user "$dir" alice-software SOFT

	# --- another CA: alice's address with a software key ---
	other=$dir/other-ca
	_card_new_ca "$other" other-ca "Moat Test Other CA"
	OTHER_CA=$other/other-ca.pem
	OTHER_ALICE_KEY=$dir/other-alice.key
	(umask 077 && CARD_SAN_EMAIL=unused openssl req -new -newkey rsa:2048 -nodes -keyout "$OTHER_ALICE_KEY" \
	    -config "$other/openssl.cnf" -subj /CN=alice -sha256 \
	    -out "$dir/other-alice.csr" >"$other/csr.err" 2>&1) ||
	    moat_fail "cannot make the other CA's CSR: $(cat "$other/csr.err")"
	OTHER_ALICE_CERT=$dir/other-alice.pem
	_card_sign "$other" other-ca "$dir/other-alice.csr" "alice@$CARD_USER_DOMAIN" \
	    "$OTHER_ALICE_CERT"
	moat_log "smartcard: token $CARD_LABEL in $dir/tokens (alice, bob revoked" \
	    "serial $CARD_BOB_SERIAL), CA $CARD_CA, CRL $CARD_CRL"
}

# moat_card_verify CERT: openssl's verdict on CERT against the card CA and
# its CRL, with the rules moat applies (strict, TLS client, level 2); prints
# openssl's output and returns its status.
moat_card_verify()
{
	openssl verify -x509_strict -purpose sslclient -auth_level 2 -crl_check_all \
	    -CAfile "$CARD_CA" -CRLfile "$CARD_CRL" "$1" 2>&1
}
