#!/bin/bash
# Rotating the server identity key with an overlap (docs/identity.md,
# "Rotating the identity key"):
#  - moat-viewer pins the identity on first use; `moatctl identity rotate`
#    (root only) replaces key (0600), certificate and rotation certificate
#    (0644), prints the previous and new catchphrases and the overlap end,
#    names each CA after its key, makes a cross certificate with the
#    documented profile, refuses to rotate again during the overlap (and a
#    bad --overlap) without changing anything; show and moatd --fingerprint
#    print the rotation; moatd's start line names it;
#  - after a restart, moat-viewer with the OLD pin connects, prints the
#    notice with both catchphrases and the overlap end, and its known-hosts
#    file then holds the NEW key; its PNG equals the served display; the
#    next connection is silent; a pin given with --ca learns it too;
#  - over RSA-AES the old pin is refused as a changed key, with the hint
#    that VeNCrypt learns a vouched rotation, and no credentials are sent;
#  - standard viewers verify the chain [leaf, cross, previous CA] with the
#    OLD and with the NEW CA file: TigerVNC (GnuTLS), gtk-vnc's gvnccapture
#    (GnuTLS) and Python's ssl (OpenSSL); another CA is refused;
#  - a forged rotation certificate (signed by an unrelated key, with a fake
#    previous certificate of the same name) is sent by moatd, whose own
#    check cannot tell, but moat-viewer with the old pin refuses before
#    sending credentials; one signed by another key but naming the real
#    previous certificate is not even used by moatd, which says so;
#  - a rotation with a 5 s overlap, once expired: moatd logs that the
#    rotation certificate expired (once), an old-pinned moat-viewer is
#    refused, a restarted moatd says so at start and show says it is not
#    in effect.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

MOATCTL=$(moat_bin moatctl)
VIEWER=$(moat_bin moat-viewer)
AREA=$((MOAT_PATTERN_W * MOAT_PATTERN_H))
ROT=$T/etc/identity-rotation.crt

# gvnccapture only takes HOST:DISPLAY, so moatd must listen on 5900 + N.
for n in $(seq 10 99); do
	ss -ltnH "sport = :$((5900 + n))" | grep -q . || break
done
PORT=$((5900 + n))

# --- the identity, made by moatctl, and moatd serving it ---
moat_write_config etc/moatd.conf "IdentityKey=$T/etc/identity.key" \
    "IdentityCert=$T/etc/identity.crt" "IdentityRotationCert=$ROT"
"$MOATCTL" identity generate -f "$T/etc/moatd.conf" > "$T/generate.out"
moat_server_start "IdentityRotationCert=$ROT"
field()	# FILE LABEL: the value of "LABEL:   value" in FILE
{
	sed -n "s/^$2: *//p" "$1"
}
OLD_FP=$(field "$T/generate.out" 'Public key SHA-256')
OLD_WORDS=$(field "$T/generate.out" Catchphrase)
[ -n "$OLD_FP" ] && [ -n "$OLD_WORDS" ] || moat_fail "no identity from generate"
cp "$CA" "$T/old-ca.pem"
moat_screenshot "$SERVED" "$T/served.png"
moat_check "moatd's start line names the identity" \
    grep -q "moatd listening on .*catchphrase \"$OLD_WORDS\"" "$EVENTS"
moat_check_fails "and no rotation" grep -q "rotated:" "$EVENTS"

KH=$T/home/.config/moat/known_hosts
mv_viewer()	# ARGS...: moat-viewer with the known-hosts file $KH, no terminal
{
	MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS timeout 60 setsid -w \
	    "$VIEWER" --headless --known-hosts "$KH" "$@" "127.0.0.1:$PORT" < /dev/null
}
auth_count()	# authentication records moatd wrote so far
{
	grep -c "authentication" "$EVENTS" || true
}
moat_check "moat-viewer pins the identity on first use" \
    mv_viewer --accept-new --png "$T/pin.png"
moat_check_eq "its known-hosts file holds the old key" "127.0.0.1:$PORT $OLD_FP" \
    "$(grep -v '^#' "$KH" || true)"
cp "$KH" "$T/kh-old"

# --- rotate ---
sums_before=$(sha256sum "$T/etc/identity.key" "$CA")
moat_check_fails "an ordinary user may not rotate" \
    moat_as "$USER_NAME" "$(moat_user_bin moatctl)" identity rotate -f "$CONF"
for bad in 0s 401d 5 5x 1.5d; do
	moat_check_fails "--overlap $bad is refused" \
	    "$MOATCTL" identity rotate -f "$CONF" --overlap "$bad"
done
moat_check_eq "and nothing changed" "$sums_before" \
    "$(sha256sum "$T/etc/identity.key" "$CA")"
moat_check_fails "and no rotation certificate was written" test -e "$ROT"
moat_check "moatctl identity rotate --overlap 2h" \
    sh -c "'$MOATCTL' identity rotate -f '$CONF' --overlap 2h > '$T/rotate.out'"
NEW_FP=$(field "$T/rotate.out" 'Public key SHA-256')
NEW_WORDS=$(field "$T/rotate.out" Catchphrase)
OVERLAP_END=$(field "$T/rotate.out" 'Overlap ends')
[ -n "$NEW_FP" ] && [ "$NEW_FP" != "$OLD_FP" ] || moat_fail "rotate made no new key"
moat_check_eq "rotate prints the previous catchphrase" "$OLD_WORDS" \
    "$(field "$T/rotate.out" 'Previous catchphrase')"
moat_check_eq "and the previous key" "$OLD_FP" "$(field "$T/rotate.out" 'Previous key SHA-256')"
moat_check_eq "and the rotation certificate file" "$ROT" \
    "$(field "$T/rotate.out" 'Rotation certificate')"
end_epoch=$(date -u -d "${OVERLAP_END% UTC}" +%s)
moat_check "the overlap ends in 2 hours" \
    test $((end_epoch - $(date +%s) - 7200)) -ge -60 -a $((end_epoch - $(date +%s) - 7200)) -le 0
moat_check_eq "the new key is root's alone (0600)" "600 root root" \
    "$(stat -c '%a %U %G' "$T/etc/identity.key")"
moat_check_eq "the new certificate is public (0644)" "644 root root" "$(stat -c '%a %U %G' "$CA")"
moat_check_eq "the rotation certificate is public (0644)" "644 root root" \
    "$(stat -c '%a %U %G' "$ROT")"
moat_check_eq "no temporary file is left" \
    "identity-rotation.crt identity.crt identity.key moatd.conf" "$(cd "$T/etc" && echo *)"
moat_check "the key file holds the new key" sh -c \
    "[ \"\$(openssl pkey -in '$T/etc/identity.key' -pubout)\" = \"\$(openssl x509 -in '$CA' -noout -pubkey)\" ]"
openssl x509 -in "$ROT" -out "$T/cross.pem"
awk '/BEGIN CERT/ { n++ } n == 2' "$ROT" > "$T/rot-prev.pem"
moat_check "the rotation file's second certificate is the previous CA" bash -c \
    "cmp -s <(openssl x509 -in '$T/rot-prev.pem' -outform DER) <(openssl x509 -in '$T/old-ca.pem' -outform DER)"
key_hex8()	# CERT: the first 8 hex digits of its key's SHA-256
{
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
	    sha256sum | cut -c1-8 | tr a-f A-F
}
subject()
{
	openssl x509 -in "$1" -noout -subject -nameopt RFC2253
}
for c in "$T/old-ca.pem" "$CA"; do
	moat_check "the CA $(basename "$c") is named after its key" sh -c \
	    "openssl x509 -in '$c' -noout -subject -nameopt RFC2253 | grep -Eq '^subject=CN=moat identity .+ $(key_hex8 "$c")\$'"
done
moat_check "the new CA allows one intermediate (pathlen:1)" sh -c \
    "openssl x509 -in '$CA' -noout -ext basicConstraints | grep -q 'CA:TRUE, pathlen:1'"
moat_check_eq "the cross certificate's subject is the new CA's" "$(subject "$CA")" \
    "$(subject "$T/cross.pem")"
moat_check_eq "its issuer is the old CA's subject" \
    "$(subject "$T/old-ca.pem" | sed 's/^subject=/issuer=/')" \
    "$(openssl x509 -in "$T/cross.pem" -noout -issuer -nameopt RFC2253)"
moat_check "it holds the new key" sh -c \
    "[ \"\$(openssl x509 -in '$T/cross.pem' -noout -pubkey)\" = \"\$(openssl x509 -in '$CA' -noout -pubkey)\" ]"
openssl x509 -in "$T/cross.pem" -noout -text > "$T/cross.txt"
moat_check "it is a critical CA:TRUE, pathlen:0" \
    grep -A1 -q "Basic Constraints: critical" "$T/cross.txt"
moat_check "CA:TRUE, pathlen:0" grep -q "CA:TRUE, pathlen:0" "$T/cross.txt"
moat_check "key usage: critical, certificate signing only" sh -c \
    "grep -A1 'Key Usage: critical' '$T/cross.txt' | tail -1 | grep -qx ' *Certificate Sign'"
moat_check "SHA-256 with RSA" grep -q "Signature Algorithm: sha256WithRSAEncryption" "$T/cross.txt"
moat_check_eq "its SKID is the new key's" \
    "$(openssl x509 -in "$CA" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')" \
    "$(openssl x509 -in "$T/cross.pem" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')"
moat_check_eq "its AKID is the old key's" \
    "$(openssl x509 -in "$T/old-ca.pem" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')" \
    "$(openssl x509 -in "$T/cross.pem" -noout -ext authorityKeyIdentifier | tail -1 | tr -d ' ' | sed 's/^keyid://')"
moat_check "the old key signed it (openssl verify against the old CA)" \
    openssl verify -CAfile "$T/old-ca.pem" "$T/cross.pem"
moat_check_fails "the new key did not" \
    openssl verify -partial_chain -CAfile "$CA" "$T/cross.pem"
moat_check "its notBefore is an hour back" sh -c \
    "nb=\$(date -d \"\$(openssl x509 -in '$T/cross.pem' -noout -startdate | cut -d= -f2)\" +%s); [ \$((\$(date +%s) - nb - 3600)) -ge 0 ] && [ \$((\$(date +%s) - nb - 3600)) -le 60 ]"
moat_check_eq "its notAfter is the overlap end" "$end_epoch" \
    "$(date -d "$(openssl x509 -in "$T/cross.pem" -noout -enddate | cut -d= -f2)" +%s)"
moat_check_eq "show prints the identity and the rotation as rotate did" \
    "$(sed -n '1,9p' "$T/rotate.out")" "$("$MOATCTL" identity show -f "$CONF")"
moat_check_eq "so does an ordinary user's show" \
    "$(sed -n '1,9p' "$T/rotate.out")" \
    "$(moat_as "$USER_NAME" "$(moat_user_bin moatctl)" identity show -f "$CONF")"
moat_check "export-ca exports the new CA" bash -c \
    "cmp -s <('$MOATCTL' identity export-ca -f '$CONF') '$CA'"
sums_rotated=$(sha256sum "$T/etc/identity.key" "$CA" "$ROT")
set +e
"$MOATCTL" identity rotate -f "$CONF" > /dev/null 2> "$T/again.err"
st=$?
set -e
moat_check_eq "rotating again during the overlap is refused" 1 "$st"
moat_check "naming --force" grep -q -- "--force" "$T/again.err"
moat_check_eq "and changes nothing" "$sums_rotated" \
    "$(sha256sum "$T/etc/identity.key" "$CA" "$ROT")"
CERT_FP=$(field "$T/rotate.out" 'Certificate SHA-256')
moat_check_eq "moatd --fingerprint adds the rotation as a third line" \
    "$(printf '%s\n%s\nprevious catchphrase "%s" vouched for until %s' "$CERT_FP" \
    "$NEW_WORDS" "$OLD_WORDS" "$OVERLAP_END")" \
    "$("$(moat_bin moatd)" --fingerprint -f "$CONF")"

# --- moatd restarted with the new identity ---
moat_stop session moatd
moat_bg moatd2 "$(moat_bin moatd)" -d -f "$CONF"
moat_wait_port "$PORT"
moat_start_session session2
moat_check "moatd's start line names the new identity and the rotation" \
    moat_wait_log "$EVENTS" "identity $CERT_FP catchphrase \"$NEW_WORDS\"; rotated: previous catchphrase \"$OLD_WORDS\" vouched for until $OVERLAP_END"

# moat-viewer with the old pin learns the new key.
before=$(auth_count)
set +e
mv_viewer --png "$T/rotated.png" 2> "$T/rotated.err"
st=$?
set -e
moat_check_eq "moat-viewer with the old pin connects" 0 "$st"
moat_check "it prints the rotation notice" grep -q "127.0.0.1:$PORT ROTATED ITS IDENTITY KEY" "$T/rotated.err"
moat_check "naming the previous catchphrase" grep -q "previous catchphrase: \"$OLD_WORDS\"" "$T/rotated.err"
moat_check "and the new one" grep -q "new catchphrase: *\"$NEW_WORDS\"" "$T/rotated.err"
moat_check "and the overlap end" grep -q "the overlap ends $OVERLAP_END" "$T/rotated.err"
moat_check_eq "the known-hosts file now holds the new key" "127.0.0.1:$PORT $NEW_FP" \
    "$(grep -v '^#' "$KH" || true)"
moat_check_eq "still mode 0600" 600 "$(stat -c %a "$KH")"
moat_check_eq "no temporary file beside it" 1 "$(find "$(dirname "$KH")" -mindepth 1 | wc -l)"
moat_check_eq "the PNG shows the pattern" "$AREA" \
    "$(moat_count_colour "$T/rotated.png" "$MOAT_PATTERN_FG" 2>/dev/null || echo none)"
moat_check "and equals the served display" moat_img diff "$T/rotated.png" "$T/served.png"
moat_check "the server logged the login" test "$(auth_count)" -gt "$before"
set +e
mv_viewer --png "$T/rotated2.png" 2> "$T/rotated2.err"
st=$?
set -e
moat_check_eq "the next connection (new pin, same chain) logs in" 0 "$st"
moat_check "quietly" sh -c "! grep -q ROTATED '$T/rotated2.err' && grep -q 'server identity: \"$NEW_WORDS\"' '$T/rotated2.err'"
moat_check "a pin given with --ca (the old CA file) learns the rotation too" \
    sh -c "MOAT_USER=$USER_NAME MOAT_PASSWORD='$USER_PASS' timeout 60 '$VIEWER' --headless \
    --known-hosts '$T/kh-ca' --ca '$T/old-ca.pem' --png '$T/ca.png' 127.0.0.1:$PORT 2>&1 |
    grep -q -- '--fingerprint $NEW_FP'"
moat_check_eq "and records the new key" "127.0.0.1:$PORT $NEW_FP" "$(grep -v '^#' "$T/kh-ca" || true)"

# Over RSA-AES there is no vouching: the old pin sees a changed key.
cp "$T/kh-old" "$T/kh-ra2"
before=$(auth_count)
set +e
MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS timeout 60 "$VIEWER" --headless \
    --known-hosts "$T/kh-ra2" --security ra2 --png "$T/ra2.png" "127.0.0.1:$PORT" \
    < /dev/null 2> "$T/ra2.err"
st=$?
set -e
moat_check_eq "RA2 with the old pin is refused as a changed key" 4 "$st"
moat_check "naming the expected catchphrase" grep -q "expected catchphrase:  \"$OLD_WORDS\"" "$T/ra2.err"
moat_check "and the presented one" grep -q "presented catchphrase: \"$NEW_WORDS\"" "$T/ra2.err"
moat_check "with the hint that VeNCrypt learns a vouched rotation" \
    grep -q "a VeNCrypt connection (moat-viewer's" "$T/ra2.err"
moat_check_eq "no credentials were sent" "$before" "$(auth_count)"
moat_check "the known-hosts file is unchanged" cmp "$T/kh-ra2" "$T/kh-old"

# Standard viewers with the OLD and with the NEW CA file.
moat_start_xvfb VDISP 1024x768
pattern_in_viewer()
{
	moat_screenshot "$VDISP" "$T/tiger.png" &&
	    [ "$(moat_count_colour "$T/tiger.png" "$MOAT_PATTERN_FG")" -eq "$AREA" ]
}
for which in old new; do
	ca=$T/old-ca.pem
	[ "$which" = old ] || ca=$CA
	moat_bg "tiger-$which" --x "$VDISP" HOME="$T" VNC_USERNAME="$USER_NAME" \
	    VNC_PASSWORD="$USER_PASS" xtigervncviewer -SecurityTypes X509Plain \
	    -X509CA "$ca" -X509CRL= -ReconnectOnError=0 -AlertOnFatalError=0 \
	    -Log '*:stderr:100' "127.0.0.1::$PORT"
	moat_check "TigerVNC trusting the $which CA file logs in" \
	    moat_wait_log "tiger-$which" "Authentication success"
	moat_check "and shows the served pattern" \
	    moat_wait -m "pattern in TigerVNC" pattern_in_viewer
	moat_stop "tiger-$which"
	moat_check "Python's ssl (OpenSSL) trusting the $which CA file logs in" sh -c \
	    "python3 '$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py' --port $PORT --ca '$ca' \
	    --user '$USER_NAME' --password '$USER_PASS' | grep -q '^server init '"
done
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" \
    -out "$T/other.crt" -subj /CN=other -days 1 2>/dev/null
moat_check "control: Python's ssl trusting another CA is refused" sh -c \
    "python3 '$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py' --port $PORT --ca '$T/other.crt' \
    --user '$USER_NAME' --password '$USER_PASS' 2>&1 | grep -q CERTIFICATE_VERIFY_FAILED"

# gtk-vnc reads its CA from the home directory in the passwd entry (the
# namespace's private /etc only).
mkdir -p "$T/roothome/.pki/CA"
awk -F: -v OFS=: -v h="$T/roothome" '$1 == "root" { $6 = h } { print }' \
    /etc/passwd > "$T/passwd.new"
cat "$T/passwd.new" > /etc/passwd
[ "$(getent passwd root | cut -d: -f6)" = "$T/roothome" ] ||
    moat_fail "could not move root's home inside the test namespace"
capture()	# CA OUT
{
	cp "$1" "$T/roothome/.pki/CA/cacert.pem"
	python3 "$MOAT_SOURCE_DIR/tests/tools/pty_answer.py" --timeout 60 \
	    'Username:' "$USER_NAME" 'Password:' "$USER_PASS" -- \
	    gvnccapture "localhost:$n" "$2"
}
moat_check "gvnccapture trusting the old CA file captures a frame" \
    capture "$T/old-ca.pem" "$T/gvnc-old.png"
moat_check "gvnccapture trusting the new CA file captures a frame" \
    capture "$CA" "$T/gvnc-new.png"
for which in old new; do
	moat_check "its $which-CA frame equals the served display" \
	    moat_img diff "$T/gvnc-$which.png" "$T/served.png"
done
moat_check_fails "control: gvnccapture trusting another CA does not" \
    capture "$T/other.crt" "$T/gvnc-other.png"
moat_check_fails "and wrote no frame" test -e "$T/gvnc-other.png"
moat_stop session2 moatd2

# --- forged rotation certificates ---
NEW_SUBJ=$(openssl x509 -in "$CA" -noout -subject -nameopt compat | sed 's/^subject=//')
OLD_SUBJ=$(openssl x509 -in "$T/old-ca.pem" -noout -subject -nameopt compat | sed 's/^subject=//')
openssl x509 -in "$CA" -noout -pubkey > "$T/new.pub"
cat > "$T/forge.cnf" <<'EOF'
[cross]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid:always
[ca]
basicConstraints=critical,CA:TRUE,pathlen:1
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
EOF
forge()	# PREVIOUS-CERT OUT: a cross certificate for the new key, signed by $T/evil.key
{
	openssl req -new -key "$T/evil.key" -subj "$NEW_SUBJ" -out "$T/forged.csr" 2>/dev/null
	openssl x509 -req -in "$T/forged.csr" -force_pubkey "$T/new.pub" \
	    -CA "$1" -CAkey "$T/evil.key" -set_serial 77 -days 2 \
	    -extfile "$T/forge.cnf" -extensions cross -out "$2" 2>/dev/null
}
openssl genrsa -out "$T/evil.key" 2048 2>/dev/null
openssl req -new -x509 -key "$T/evil.key" -subj "$OLD_SUBJ" -days 30 \
    -config "$T/forge.cnf" -extensions ca -out "$T/evil-ca.pem" 2>/dev/null ||
    moat_fail "cannot make the fake previous certificate"
forge "$T/evil-ca.pem" "$T/forged-cross.pem"
moat_check "the forged cross certificate verifies against the fake previous one" \
    openssl verify -CAfile "$T/evil-ca.pem" "$T/forged-cross.pem"
cp "$ROT" "$T/rot-good"
cat "$T/forged-cross.pem" "$T/evil-ca.pem" > "$ROT"
moat_bg moatd3 "$(moat_bin moatd)" -d -f "$CONF"
moat_wait_port "$PORT"
moat_check "moatd cannot tell: it sends the forged rotation" \
    moat_wait_log moatd3 "rotated: previous catchphrase"
cp "$T/kh-old" "$KH"
before=$(auth_count)
set +e
mv_viewer --png "$T/forged.png" 2> "$T/forged.err"
st=$?
set -e
moat_check_eq "moat-viewer with the old pin refuses the forged rotation" 4 "$st"
moat_check "as a changed key: the expected catchphrase" \
    grep -q "expected catchphrase:  \"$OLD_WORDS\"" "$T/forged.err"
moat_check "and the presented one" grep -q "presented catchphrase: \"$NEW_WORDS\"" "$T/forged.err"
moat_check_fails "no notice" grep -q ROTATED "$T/forged.err"
moat_check_eq "no credentials were sent" "$before" "$(auth_count)"
moat_check "the known-hosts file still holds the old key" cmp "$KH" "$T/kh-old"
moat_check_fails "no PNG was written" test -e "$T/forged.png"
moat_stop moatd3

# Signed by another key, but naming the real previous certificate.
cat "$T/forged-cross.pem" "$T/old-ca.pem" > "$ROT"
moat_bg moatd4 "$(moat_bin moatd)" -d -f "$CONF"
moat_wait_port "$PORT"
moat_check "moatd does not use a cross certificate the previous key did not sign" \
    moat_wait_log moatd4 "identity rotation certificate not used: $ROT: it is not signed by the previous identity key"
moat_check_fails "and its start line names no rotation" grep -q "rotated:" "$(moat_logfile moatd4)"
set +e
mv_viewer --png "$T/forged2.png" 2> "$T/forged2.err"
st=$?
set -e
moat_check_eq "moat-viewer with the old pin is refused" 4 "$st"
moat_check "as a changed key" grep -q "presented catchphrase: \"$NEW_WORDS\"" "$T/forged2.err"
moat_check_eq "no credentials were sent" "$before" "$(auth_count)"
moat_stop moatd4
cp "$T/rot-good" "$ROT"

# --- a short overlap that runs out ---
cp "$CA" "$T/mid-ca.pem"
moat_check "rotate again with --force --overlap 5s" \
    sh -c "'$MOATCTL' identity rotate -f '$CONF' --force --overlap 5s > '$T/rotate2.out'"
THIRD_WORDS=$(field "$T/rotate2.out" Catchphrase)
moat_check_eq "its previous catchphrase is the second key's" "$NEW_WORDS" \
    "$(field "$T/rotate2.out" 'Previous catchphrase')"
moat_bg moatd5 "$(moat_bin moatd)" -d -f "$CONF"
moat_wait_port "$PORT"
moat_wait_log moatd5 "moatd listening"
end5=$(date -d "$(openssl x509 -in "$ROT" -noout -enddate | cut -d= -f2)" +%s)
past_overlap()
{
	[ "$(date +%s)" -gt "$end5" ]
}
moat_check "the overlap ends" moat_wait -t 30 -m "the end of the 5 s overlap" past_overlap
# $KH now pins the second key (learnt above): the key this rotation left.
cp "$T/kh-old" "$KH"
sed -i "s/ SHA256:.*/ $NEW_FP/" "$KH"
before=$(auth_count)
for i in 1 2; do
	set +e
	mv_viewer --png "$T/expired.png" 2> "$T/expired-$i.err"
	st=$?
	set -e
	moat_check_eq "after the overlap, the previous pin is refused (try $i)" 4 "$st"
	moat_check "as a changed key" grep -q "presented catchphrase: \"$THIRD_WORDS\"" "$T/expired-$i.err"
done
moat_check_eq "no credentials were sent" "$before" "$(auth_count)"
moat_check "moatd logs that the rotation certificate expired" \
    grep -Eq "rotation certificate (not used: .*: it )?expired at" "$(moat_logfile moatd5)"
if grep -q "rotated:" "$(moat_logfile moatd5)"; then
	# It started within the overlap: the expiry was seen at a connection.
	moat_check_eq "once, not per connection" 1 \
	    "$(grep -c "the identity rotation certificate expired at" "$(moat_logfile moatd5)")"
else
	moat_log "moatd started after the 5 s overlap: the expiry was seen at start-up"
fi
moat_stop moatd5
moat_bg moatd6 "$(moat_bin moatd)" -d -f "$CONF"
moat_wait_port "$PORT"
moat_check "a restarted moatd says the rotation certificate expired" \
    moat_wait_log moatd6 "identity rotation certificate not used: $ROT: it expired at"
moat_check "show says it is not in effect" sh -c \
    "'$MOATCTL' identity show -f '$CONF' | grep -q '^Rotation certificate: not in effect: $ROT: it expired at'"
moat_check_eq "moatd --fingerprint prints two lines" 2 \
    "$("$(moat_bin moatd)" --fingerprint -f "$CONF" 2>/dev/null | wc -l)"
moat_check "rotating again is allowed without --force" \
    sh -c "'$MOATCTL' identity rotate -f '$CONF' --overlap 1h > /dev/null"

# --- the audit records (docs/audit.md): the identity each run showed ---
hex_fp()	# SHA256:AB:CD:... as audit records write it
{
	printf '%s\n' "${1#SHA256:}" | tr -d : | tr 'A-F' 'a-f'
}
# "RUN FINGERPRINT" for every security record, RUN counting moatd's starts.
run_fps()
{
	awk '/"event":"audit_start"/ { run++ }
	    /"event":"security"/ && match($0, /"fingerprint":"[0-9a-f]+"/) {
		print run, substr($0, RSTART + 15, RLENGTH - 16)
	    }' "$MOAT_AUDIT" | sort -u
}
OLD_HEX=$(hex_fp "$OLD_FP")
NEW_HEX=$(hex_fp "$NEW_FP")
moat_check_eq "audit: the first moatd showed the generated key, its restart the rotated one" \
    "1 $OLD_HEX
2 $NEW_HEX" "$(run_fps | awk '$1 <= 2')"
moat_check_eq "audit: the old key is in no later security record" "" \
    "$(run_fps | awk -v k="$OLD_HEX" '$1 > 1 && $2 == k')"
# One login record per session; at least 8 in the second run (a fresh
# clone's run once saw a ninth: a viewer may log in again on its own).
moat_check_eq "audit: logins with the old and with the new identity" "1 8+ 0" \
    "$(awk '/"event":"audit_start"/ { run++ }
    /"event":"login",.*"result":"success"/ && match($0, /"session":[0-9]+/) {
	n[run]++
	if (seen[run, substr($0, RSTART, RLENGTH)]++)
		dup++
    }
    END { print n[1] + 0, (n[2] >= 8 ? "8+" : n[2] + 0), dup + 0 }' "$MOAT_AUDIT")"
moat_check_eq "audit: six moatd runs in one chain" 6 "$(grep -c '"event":"audit_start"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
