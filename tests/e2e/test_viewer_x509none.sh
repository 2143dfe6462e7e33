#!/bin/bash
# moat-viewer against a real standard VeNCrypt server, TigerVNC's Xvnc,
# offering only X509None (TLS with the server's certificate, no
# credentials):
#  - --security x509none: the chain (a leaf for CN=localhost, SAN
#    DNS:localhost and IP:127.0.0.1, signed by a throwaway CA made here) is
#    verified to the CA given with --ca; no credentials are asked or sent
#    (no MOAT_USER / MOAT_PASSWORD, no terminal); the PNG has the Xvnc
#    screen's size and every pixel the colour xsetroot painted;
#  - the default mode (vencrypt) picks X509None when it is all the server
#    offers, and sees a repainted screen (it still gets a user name and
#    password before connecting, from MOAT_USER / MOAT_PASSWORD here, as it
#    cannot know the server needs none; they are not sent);
#  - a CA that did not sign the server's leaf is refused (exit 4, no PNG);
#  - --security x509plain is refused (exit 1): the server does not offer it;
#  - a client certificate needs X509Conversation, which Xvnc does not
#    offer: refused before anything is sent (exit 1).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"

command -v Xvnc >/dev/null || moat_fail "Xvnc is missing (tools/deps.sh: tigervnc-standalone-server)"
VIEWER=$(moat_bin moat-viewer)
W=640
H=480

# --- a throwaway CA and the server's certificate ---
mkdir -p "$T/pki"
cd "$T/pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 \
    -subj "/CN=X509None Test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.crt \
    -days 2 -subj "/CN=X509None Test CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout server.key -subj "/CN=localhost" \
    -out server.csr 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "extendedKeyUsage=serverAuth" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "basicConstraints=CA:FALSE" > server.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.crt 2>/dev/null
# The server presents its chain: moat-viewer trusts the key that signed the leaf.
cat server.crt ca.crt > chain.crt
chmod 0600 server.key
cd - >/dev/null

# --- Xvnc, loopback only, X509None only; its display needs a cookie ---
port=$(moat_free_port)
cookie=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
(umask 077 && : > "$T/xvnc.auth" &&
    xauth -q -f "$T/xvnc.auth" add :0 MIT-MAGIC-COOKIE-1 "$cookie")
: > "$T/xvnc.displayfd"
moat_bg xvnc bash -c "exec Xvnc -displayfd 3 -auth '$T/xvnc.auth' -nolisten tcp \
    -geometry ${W}x$H -depth 24 -rfbport $port -interface 127.0.0.1 -localhost \
    -SecurityTypes X509None -X509Cert '$T/pki/chain.crt' -X509Key '$T/pki/server.key' \
    3>'$T/xvnc.displayfd'"
moat_wait -m "Xvnc to report its display number" grep -q '^[0-9][0-9]*$' "$T/xvnc.displayfd"
XD=:$(<"$T/xvnc.displayfd")
(umask 077 && : > "$T/xd.auth" &&
    xauth -q -f "$T/xd.auth" add "$XD" MIT-MAGIC-COOKIE-1 "$cookie")
moat_wait_port "$port"
xd()	# CMD...: an X client on Xvnc's display
{
	DISPLAY=$XD XAUTHORITY=$T/xd.auth "$@"
}
moat_wait -m "Xvnc's display to accept a client" xd xdpyinfo
moat_check "xsetroot paints Xvnc's screen" xd xsetroot -solid '#3366cc'

viewer()	# OUT ARGS...: moat-viewer with no credentials and no terminal
{
	local out=$1
	shift
	env -u MOAT_USER -u MOAT_PASSWORD timeout 60 setsid -w "$VIEWER" --headless \
	    --png "$out" --known-hosts "$T/kh" "$@" "127.0.0.1:$port" < /dev/null
}

# --- X509None, asked for ---
moat_check "x509none: the viewer connects and writes a PNG" \
    viewer "$T/none.png" --ca "$T/pki/ca.crt" --security x509none
moat_check_eq "x509none: the PNG has Xvnc's screen size" "$W $H" \
    "$(moat_img size "$T/none.png" 2>/dev/null || echo none)"
moat_check_eq "x509none: every pixel has the painted colour" $((W * H)) \
    "$(moat_count_colour "$T/none.png" '#3366cc' 2>/dev/null || echo none)"
set +e
viewer "$T/none2.png" --ca "$T/pki/ca.crt" --security x509none 2> "$T/none2.err"
st=$?
set -e
moat_check_eq "x509none: a second connection works" 0 "$st"
moat_check "x509none: VeNCrypt X509None was negotiated" \
    grep -qx "moat-viewer: VeNCrypt X509None" "$T/none2.err"
moat_check "x509none: over TLS 1.3" grep -q "^moat-viewer: TLSv1.3, " "$T/none2.err"
moat_check_fails "x509none: no credentials were asked" \
    grep -Eqi "user name|password|no terminal" "$T/none2.err"

# --- the default mode picks X509None when it is all that is offered ---
# (It gets credentials before connecting, as for any server; they are not sent.)
moat_check "xsetroot repaints" xd xsetroot -solid '#a0522d'
set +e
MOAT_USER=nobody-$$ MOAT_PASSWORD=unused-$$ timeout 60 setsid -w "$VIEWER" --headless \
    --png "$T/default.png" --known-hosts "$T/kh" --ca "$T/pki/ca.crt" "127.0.0.1:$port" \
    < /dev/null 2> "$T/default.err"
st=$?
set -e
moat_check_eq "vencrypt: the default mode connects" 0 "$st"
moat_check "vencrypt: it chose X509None" \
    grep -qx "moat-viewer: VeNCrypt X509None" "$T/default.err"
moat_check_eq "vencrypt: every pixel has the new colour" $((W * H)) \
    "$(moat_count_colour "$T/default.png" '#a0522d' 2>/dev/null || echo none)"

# --- refusals ---
set +e
viewer "$T/other.png" --known-hosts "$T/kh-other" --ca "$T/pki/other-ca.crt" \
    --security x509none 2> "$T/other.err"
st=$?
set -e
moat_check_eq "a CA that did not sign the leaf is refused as an identity mismatch" 4 "$st"
moat_check "with the warning" grep -q "IS NOT THE EXPECTED ONE" "$T/other.err"
moat_check_fails "and no PNG" test -e "$T/other.png"

set +e
MOAT_USER=nobody-$$ MOAT_PASSWORD=unused-$$ timeout 60 setsid -w "$VIEWER" --headless \
    --png "$T/plain.png" --known-hosts "$T/kh" --ca "$T/pki/ca.crt" --security x509plain \
    "127.0.0.1:$port" < /dev/null 2> "$T/plain.err"
st=$?
set -e
moat_check_eq "x509plain is refused" 1 "$st"
moat_check "saying the server does not offer it" \
    grep -q "the server does not offer X509Plain" "$T/plain.err"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/pki/client.key" -out "$T/pki/client.crt" -days 2 -subj /CN=alice 2>/dev/null
set +e
viewer "$T/cert.png" --ca "$T/pki/ca.crt" --cert "$T/pki/client.crt" \
    --key "$T/pki/client.key" 2> "$T/cert.err"
st=$?
set -e
moat_check_eq "a client certificate without X509Conversation is refused" 1 "$st"
moat_check "saying why" \
    grep -q "does not offer X509Conversation, which a client certificate needs" "$T/cert.err"
moat_check "Xvnc is still serving" moat_alive xvnc

moat_test_end
