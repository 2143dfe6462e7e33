#!/bin/bash
# moat-viewer, moat's own viewer, headless against moatd:
#  - it logs in over VeNCrypt X509Plain (TLS 1.3, the chain verified to the
#    pinned identity CA), RA2 and RA2_256 (the server key must be the pinned
#    identity key), decodes ZRLE and Raw updates and writes a PNG equal to
#    the served display (pattern counted exactly);
#  - a script typed into the viewer reaches an X client on the served
#    display, and a wait-update sees the change the typing caused;
#  - a wrong password is refused with the server's reason (exit 3);
#  - a server whose identity is not the pinned one is refused (exit 4)
#    before any credentials are sent: the server logs no authentication;
#  - trust on first use: --accept-new (or "yes" on the terminal) records
#    HOST:PORT with the identity key's SHA-256 in the known-hosts file (mode
#    0600), after which the host connects without asking; "no" or no
#    terminal refuses; a second moatd with another identity on the same
#    port is refused over all three types with a warning naming both
#    catchphrases, before credentials (its log has no authentication);
#    --fingerprint pins in advance; a corrupt known-hosts file is refused;
#  - the vault: --remember stores the password (mode 0600, no plaintext,
#    AES-128-GCM or with --vault-aes256 AES-256-GCM) and later logins use
#    it; a wrong master password and a tampered or truncated vault fail
#    closed before connecting; vault forget and forget-all;
#  - a hostile server (a script speaking VeNCrypt over TLS 1.3) that sends
#    out-of-bounds sizes, lengths, rectangles and ZRLE data is cut off with
#    "protocol violation", never a crash;
#  - the window (Xlib, on a second Xvfb): a screenshot of it shows the
#    served pattern, a change on the served display appears in it, a
#    scrolling and moving xterm (CopyRect) ends up exactly as served, and
#    keys typed into it reach an X client on the served display.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
VIEWER=$(moat_bin moat-viewer)
AREA=$((MOAT_PATTERN_W * MOAT_PATTERN_H))

viewer()	# PASSWORD ARGS...: runs the viewer as the test user's client
{
	local pass=$1
	shift
	MOAT_USER=$USER_NAME MOAT_PASSWORD=$pass timeout 60 "$VIEWER" \
	    --headless --ca "$CA" --known-hosts "$T/kh-ca" "$@" "127.0.0.1:$PORT"
}

moat_screenshot "$SERVED" "$T/served.png"

# --- logins over the three security types, two decoders ---
for sec in x509plain ra2 ra2_256; do
	for enc in zrle raw; do
		out=$T/$sec-$enc.png
		moat_check "$sec/$enc: the viewer logs in and writes a PNG" \
		    viewer "$USER_PASS" --security "$sec" --encoding "$enc" \
		    --png "$out"
		moat_check_eq "$sec/$enc: the pattern is in the PNG" "$AREA" \
		    "$(moat_count_colour "$out" "$MOAT_PATTERN_FG" 2>/dev/null || echo none)"
		moat_check "$sec/$enc: the PNG equals the served display" \
		    moat_img diff "$out" "$T/served.png"
	done
done
moat_check "X509Plain negotiated TLS 1.3" \
    sh -c "viewer_log=\$(MOAT_USER=$USER_NAME MOAT_PASSWORD='$USER_PASS' \
    '$VIEWER' --headless --ca '$CA' --known-hosts '$T/kh-ca' --png '$T/tls.png' 127.0.0.1:$PORT 2>&1) &&
    echo \"\$viewer_log\" | grep -q '^moat-viewer: TLSv1.3, TLS_AES_128_GCM_SHA256'"
moat_check "ZRLE rectangles were decoded" \
    sh -c "MOAT_USER=$USER_NAME MOAT_PASSWORD='$USER_PASS' '$VIEWER' --headless \
    --ca '$CA' --known-hosts '$T/kh-ca' --png '$T/z.png' 127.0.0.1:$PORT 2>&1 | grep -Eq ', [1-9][0-9]* ZRLE rectangles'"
moat_check "the monitor logged the RA2_256 login" \
    grep -Eq "security RA2_256, AES-256-EAX" "$EVENTS"
moat_check "the monitor logged the viewer's logins" \
    grep -Eq "authentication succeeded for user \"$USER_NAME\" from 127\.0\.0\.1 port" "$EVENTS"

# --- scripted input reaches an X client on the served display ---
cat > "$T/script.txt" <<'SCRIPT'
# typed into the xterm on the served display
move 10 10
type Moat 42
key Return
wait-update 20
SCRIPT
for sec in x509plain ra2_256; do
	moat_start_typer "typer-$sec"
	moat_check "$sec: the viewer replays the script" \
	    viewer "$USER_PASS" --security "$sec" --script "$T/script.txt" \
	    --png "$T/script-$sec.png"
	moat_check "$sec: the typed text reached the X client" \
	    moat_wait -m "typed text" moat_typed_is "typer-$sec" 'Moat 42'
	moat_stop "typer-$sec"
done
printf 'bogus command\n' > "$T/bad-script.txt"
set +e
viewer "$USER_PASS" --script "$T/bad-script.txt" --png "$T/bad.png" 2> "$T/bad-script.err"
st=$?
set -e
moat_check_eq "a bad script is refused before connecting" 1 "$st"
moat_check "with file and line" grep -q "bad-script.txt:1: unknown command" "$T/bad-script.err"

# --- a wrong password ---
for sec in x509plain ra2; do
	set +e
	viewer 'not the password' --security "$sec" --png "$T/wrong.png" 2> "$T/wrong-$sec.err"
	st=$?
	set -e
	moat_check_eq "$sec: a wrong password is refused" 3 "$st"
	moat_check "$sec: with the server's reason" \
	    grep -q "refused the login: Authentication failed" "$T/wrong-$sec.err"
done

# --- a server that is not the pinned identity: refused before credentials ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" \
    -out "$T/other.crt" -subj /CN=other -days 1 2>/dev/null
before=$(grep -c "authentication" "$EVENTS" || true)
for sec in x509plain ra2 ra2_256; do
	set +e
	MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS timeout 60 "$VIEWER" \
	    --headless --ca "$T/other.crt" --known-hosts "$T/kh-other" \
	    --security "$sec" --png "$T/other.png" \
	    "127.0.0.1:$PORT" 2> "$T/other-$sec.err"
	st=$?
	set -e
	moat_check_eq "$sec: another identity is refused" 4 "$st"
done
for sec in x509plain ra2 ra2_256; do
	moat_check "$sec: the viewer warns that the identity is not the expected one" \
	    grep -q "IDENTITY OF 127.0.0.1:$PORT IS NOT THE EXPECTED ONE" "$T/other-$sec.err"
done
moat_check_eq "the server saw no authentication attempt from them" "$before" \
    "$(grep -c "authentication" "$EVENTS" || true)"
moat_check_fails "no PNG was written" test -e "$T/other.png"

# --- trust on first use ---
ID1_FP=$("$(moat_bin moatctl)" identity show -f "$CONF" | sed -n 's/^Public key SHA-256: *//p')
ID1_WORDS=$("$(moat_bin moatctl)" identity show -f "$CONF" | sed -n 's/^Catchphrase: *//p')
if [ -z "$ID1_FP" ] || [ -z "$ID1_WORDS" ]; then
	moat_fail "no identity from moatctl"
fi
KH=$T/home-kh/.config/moat/known_hosts
tofu()	# ARGS...: the viewer with the TOFU known-hosts file, no --ca, no terminal
{
	MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS timeout 60 setsid -w \
	    "$VIEWER" --headless --known-hosts "$KH" "$@" "127.0.0.1:$PORT" < /dev/null
}
set +e
tofu --png "$T/tofu0.png" 2> "$T/tofu0.err"
st=$?
set -e
moat_check_eq "first use without a terminal or --accept-new is refused" 4 "$st"
moat_check "the catchphrase was shown" grep -q "catchphrase: \"$ID1_WORDS\"" "$T/tofu0.err"
moat_check_fails "nothing was remembered" test -e "$KH"
moat_check "the refused first use sent no credentials" \
    test "$(grep -c "authentication" "$EVENTS" || true)" -eq "$before"
moat_check "--accept-new: first use logs in" tofu --accept-new --png "$T/tofu1.png"
moat_check_eq "and sees the pattern" "$AREA" "$(moat_count_colour "$T/tofu1.png" "$MOAT_PATTERN_FG")"
moat_check_eq "the known-hosts file holds the identity key's SHA-256" \
    "127.0.0.1:$PORT $ID1_FP" "$(grep -v '^#' "$KH" || true)"
moat_check_eq "the known-hosts file is mode 0600" 600 "$(stat -c %a "$KH")"
moat_check_eq "its directory is mode 0700" 700 "$(stat -c %a "$(dirname "$KH")")"
moat_check_eq "no temporary file is left" 1 "$(find "$(dirname "$KH")" -mindepth 1 | wc -l)"
for sec in x509plain ra2 ra2_256; do
	moat_check "$sec: the known host logs in without asking" \
	    tofu --security "$sec" --png "$T/tofu-$sec.png"
done
rm -f "$KH"
PTY=$MOAT_SOURCE_DIR/tests/tools/pty_answer.py
set +e
MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS python3 "$PTY" --timeout 60 \
    'accept and remember' no -- "$VIEWER" --headless --known-hosts "$KH" \
    --security ra2 --png "$T/tofu-no.png" "127.0.0.1:$PORT" > "$T/tofu-no.out" 2>&1
st=$?
set -e
moat_check_eq "answering no on the terminal refuses" 4 "$st"
moat_check_fails "and remembers nothing" test -e "$KH"
moat_check "answering yes on the terminal (and the password prompt) logs in" \
    env MOAT_USER="$USER_NAME" python3 "$PTY" --timeout 60 \
    'Password' "$USER_PASS" 'accept and remember' yes -- "$VIEWER" --headless \
    --known-hosts "$KH" --png "$T/tofu-yes.png" "127.0.0.1:$PORT"
moat_check_eq "and remembers the key" "127.0.0.1:$PORT $ID1_FP" "$(grep -v '^#' "$KH" || true)"

# --- a second moatd with another identity on the same port ---
moat_stop session moatd
moat_write_config "$T/id2/moatd.conf" ListenAddress=127.0.0.1 "ListenPort=$PORT" \
    "IdentityKey=$T/id2/identity.key" "IdentityCert=$T/id2/identity.crt" \
    "EmptyRoot=$T/empty" "SessionSocket=$T/id2/run/session.sock" \
    "LogFile=$T/id2/events.log"
install -d -m 0755 "$T/id2/run"
moat_bg moatd2 "$(moat_bin moatd)" -d -f "$T/id2/moatd.conf"
moat_wait_port "$PORT"
moat_bg session2 --as "$USER_NAME" --x "$SERVED" "$(moat_user_bin moat-session)" \
    --socket "$T/id2/run/session.sock"
moat_wait_log "$T/id2/events.log" "desktop session $SERVED registered"
ID2_FP=$("$(moat_bin moatctl)" identity show -f "$T/id2/moatd.conf" | sed -n 's/^Public key SHA-256: *//p')
ID2_WORDS=$("$(moat_bin moatctl)" identity show -f "$T/id2/moatd.conf" | sed -n 's/^Catchphrase: *//p')
if [ -z "$ID2_FP" ] || [ "$ID2_FP" = "$ID1_FP" ]; then
	moat_fail "the second identity is not new"
fi
cp "$KH" "$T/kh-before"
for sec in x509plain ra2 ra2_256; do
	set +e
	tofu --security "$sec" --accept-new --png "$T/id2-$sec.png" 2> "$T/id2-$sec.err"
	st=$?
	set -e
	moat_check_eq "$sec: the changed identity is refused (even with --accept-new)" 4 "$st"
	moat_check "$sec: the warning names the expected catchphrase" \
	    grep -q "expected catchphrase:  \"$ID1_WORDS\"" "$T/id2-$sec.err"
	moat_check "$sec: and the presented one" \
	    grep -q "presented catchphrase: \"$ID2_WORDS\"" "$T/id2-$sec.err"
done
moat_check_eq "the second server saw no authentication attempt" 0 \
    "$(grep -c "authentication" "$T/id2/events.log" || true)"
moat_check "the known-hosts file is unchanged" cmp "$KH" "$T/kh-before"
moat_check_fails "no PNG was written" test -e "$T/id2-ra2.png"
moat_check "--fingerprint pins the new identity in advance" \
    tofu --known-hosts "$T/kh-fp" --fingerprint "$ID2_FP" --png "$T/fp.png"
moat_check_eq "and records it" "127.0.0.1:$PORT $ID2_FP" "$(grep -v '^#' "$T/kh-fp" || true)"
before2=$(grep -c "authentication" "$T/id2/events.log" || true)
set +e
MOAT_USER=$USER_NAME MOAT_PASSWORD=$USER_PASS timeout 60 "$VIEWER" --headless \
    --known-hosts "$T/kh-fp2" --fingerprint "$ID1_FP" --security ra2_256 \
    --png "$T/fp2.png" "127.0.0.1:$PORT" 2> "$T/fp2.err"
st=$?
set -e
moat_check_eq "a --fingerprint of another key is refused" 4 "$st"
moat_check_eq "and sent no credentials" "$before2" \
    "$(grep -c "authentication" "$T/id2/events.log" || true)"
printf '127.0.0.1:%s SHA256:00\n' "$PORT" > "$T/kh-bad"
set +e
tofu --known-hosts "$T/kh-bad" --png "$T/bad.png" 2> "$T/kh-bad.err"
st=$?
set -e
moat_check_eq "a corrupt known-hosts file is refused" 1 "$st"
moat_check "naming file and line" grep -q "kh-bad:1: malformed" "$T/kh-bad.err"

# --- the vault (against the second server, pinned in $T/kh-fp) ---
VAULT=$T/vault/v
vv()	# ARGS...: the viewer with the vault; MOAT_MASTER etc. come from the caller
{
	timeout 60 setsid -w "$VIEWER" --headless --known-hosts "$T/kh-fp" \
	    --vault "$VAULT" "$@" < /dev/null
}
moat_check "--remember stores the password after the login" \
    env MOAT_USER="$USER_NAME" MOAT_PASSWORD="$USER_PASS" MOAT_MASTER=master-1 \
    bash -c "$(declare -f vv); VIEWER='$VIEWER' T='$T' VAULT='$VAULT' vv --remember --png '$T/v1.png' 127.0.0.1:$PORT"
moat_check_eq "the vault is mode 0600" 600 "$(stat -c %a "$VAULT")"
moat_check_eq "its cipher is AES-128-GCM by default" 1 "$(od -An -tu1 -j9 -N1 "$VAULT" | tr -d ' ')"
moat_check_fails "the vault holds no plaintext password" grep -qF "$USER_PASS" "$VAULT"
moat_check_fails "nor the user name" grep -qF "$USER_NAME" "$VAULT"
vault_login()	# MASTER OUT: a login with no credentials but the vault's
{
	env -u MOAT_USER -u MOAT_PASSWORD MOAT_MASTER="$1" \
	    bash -c "$(declare -f vv); VIEWER='$VIEWER' T='$T' VAULT='$VAULT' vv --png '$2' 127.0.0.1:$PORT"
}
moat_check "a later login uses the remembered password" vault_login master-1 "$T/v2.png"
moat_check_eq "and sees the pattern" "$AREA" "$(moat_count_colour "$T/v2.png" "$MOAT_PATTERN_FG")"
before3=$(grep -c "authentication" "$T/id2/events.log" || true)
set +e
vault_login wrong-master "$T/v3.png" 2> "$T/v3.err"
st=$?
set -e
moat_check_eq "a wrong master password is rejected" 1 "$st"
moat_check "with a clear message" grep -q "wrong master password" "$T/v3.err"
cp "$VAULT" "$T/vault-good"
printf 'X' | dd of="$VAULT" bs=1 seek=$(( $(stat -c %s "$VAULT") - 3 )) conv=notrunc 2>/dev/null
set +e
vault_login master-1 "$T/v4.png" 2> "$T/v4.err"
st=$?
set -e
moat_check_eq "a tampered vault fails closed" 1 "$st"
moat_check "saying so" grep -q "tampered with" "$T/v4.err"
head -c 50 "$T/vault-good" > "$VAULT"
set +e
vault_login master-1 "$T/v5.png" 2> "$T/v5.err"
st=$?
set -e
moat_check_eq "a truncated vault fails closed" 1 "$st"
moat_check "saying so" grep -q "not a valid vault" "$T/v5.err"
moat_check_eq "none of them connected with credentials" "$before3" \
    "$(grep -c "authentication" "$T/id2/events.log" || true)"
cp "$T/vault-good" "$VAULT"
moat_check "vault forget HOST:PORT" env MOAT_MASTER=master-1 "$VIEWER" \
    --vault "$VAULT" vault forget "127.0.0.1:$PORT"
set +e
vault_login master-1 "$T/v6.png" 2> "$T/v6.err"
st=$?
set -e
moat_check_eq "a forgotten password is not used (no terminal to ask)" 1 "$st"
moat_check_fails "forgetting it twice fails" env MOAT_MASTER=master-1 "$VIEWER" \
    --vault "$VAULT" vault forget "127.0.0.1:$PORT"
moat_check "vault forget-all" "$VIEWER" --vault "$VAULT" vault forget-all
moat_check_fails "removes the vault" test -e "$VAULT"
moat_check "--vault-aes256: a new vault with AES-256-GCM" \
    env MOAT_USER="$USER_NAME" MOAT_PASSWORD="$USER_PASS" MOAT_MASTER=master-2 \
    bash -c "$(declare -f vv); VIEWER='$VIEWER' T='$T' VAULT='$VAULT' vv --remember --vault-aes256 --png '$T/v7.png' 127.0.0.1:$PORT"
moat_check_eq "its cipher byte says AES-256-GCM" 2 "$(od -An -tu1 -j9 -N1 "$VAULT" | tr -d ' ')"
moat_check "and it logs in" vault_login master-2 "$T/v8.png"

# --- a hostile server: every bound holds ---
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/hostile.key" -out "$T/hostile.crt" \
    -subj /CN=hostile -days 1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
cat > "$T/hostile.py" <<'PY'
import socket, ssl, struct, sys, zlib
port, cert, key, case = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def recvn(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise SystemExit(0)
        b += d
    return b
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(1)
print("listening", flush=True)
c, _ = ls.accept()
c.sendall(b"RFB 003.008\n"); recvn(c, 12)
c.sendall(bytes([1, 19])); recvn(c, 1)
c.sendall(bytes([0, 2])); recvn(c, 2)
c.sendall(bytes([0, 1]) + struct.pack(">I", 262)); recvn(c, 4)
c.sendall(bytes([1]))
t = ctx.wrap_socket(c, server_side=True)
ul, pl = struct.unpack(">II", recvn(t, 8)); recvn(t, ul + pl)
t.sendall(struct.pack(">I", 0))
recvn(t, 1)
pf = bytes([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0])
w, h = (20000, 20000) if case == "huge-fb" else (64, 64)
if case == "long-name":
    t.sendall(struct.pack(">HH", w, h) + pf + struct.pack(">I", 1 << 30))
else:
    t.sendall(struct.pack(">HH", w, h) + pf + struct.pack(">I", 1) + b"h")
def rect(x, y, rw, rh, enc):
    return struct.pack(">HHHHi", x, y, rw, rh, enc)
upd = lambda n: bytes([0, 0]) + struct.pack(">H", n)
if case == "rect-outside":
    t.sendall(upd(1) + rect(60, 0, 10, 10, 0))
elif case == "copyrect-source":
    t.sendall(upd(1) + rect(0, 0, 10, 10, 1) + struct.pack(">HH", 60, 60))
elif case == "zrle-length":
    t.sendall(upd(1) + rect(0, 0, 64, 64, 16) + struct.pack(">I", 0xffffffff))
elif case == "zrle-run":
    z = zlib.compressobj()
    data = z.compress(bytes([128, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0])) + z.flush(zlib.Z_SYNC_FLUSH)
    t.sendall(upd(1) + rect(0, 0, 64, 64, 16) + struct.pack(">I", len(data)) + data)
elif case == "zrle-palette":
    z = zlib.compressobj()
    data = z.compress(bytes([130, 1, 2, 3, 4, 5, 6, 7])) + z.flush(zlib.Z_SYNC_FLUSH)
    t.sendall(upd(1) + rect(0, 0, 64, 64, 16) + struct.pack(">I", len(data)) + data)
elif case == "zrle-garbage":
    t.sendall(upd(1) + rect(0, 0, 64, 64, 16) + struct.pack(">I", 8) + b"\xde\xad\xbe\xef" * 2)
elif case == "cut-text":
    t.sendall(bytes([3, 0, 0, 0]) + struct.pack(">I", 0xffffffff))
elif case == "encoding":
    t.sendall(upd(1) + rect(0, 0, 8, 8, 7))
elif case == "message":
    t.sendall(bytes([77]))
elif case == "resize":
    t.sendall(upd(1) + rect(0, 0, 65535, 65535, -223))
while t.recv(4096):
    pass
PY
for c in huge-fb:"framebuffer size out of bounds" long-name:"desktop name too long" \
    rect-outside:"rectangle outside the framebuffer" \
    copyrect-source:"CopyRect source outside the framebuffer" \
    zrle-length:"ZRLE rectangle longer than its bound" \
    zrle-run:"ZRLE run longer than its tile" zrle-palette:"ZRLE palette index out of range" \
    zrle-garbage:"ZRLE data does not inflate" cut-text:"cut text longer than its bound" \
    encoding:"encoding 7, which was not asked for" message:"server message type 77" \
    resize:"framebuffer size out of bounds"; do
	case_name=${c%%:*}
	want=${c#*:}
	want=${want//\"/}
	hport=$(moat_free_port)
	moat_bg "hostile-$case_name" python3 "$T/hostile.py" "$hport" "$T/hostile.crt" \
	    "$T/hostile.key" "$case_name"
	moat_wait_log "hostile-$case_name" listening
	set +e
	MOAT_USER=u MOAT_PASSWORD=p timeout 30 "$VIEWER" --headless --accept-new \
	    --known-hosts "$T/kh-hostile" --vault "$T/vault/none" --png "$T/hostile.png" \
	    "127.0.0.1:$hport" 2> "$T/hostile-$case_name.err"
	st=$?
	set -e
	moat_check_eq "hostile $case_name: the viewer stops with an error, not a crash" 1 "$st"
	moat_check "hostile $case_name: $want" grep -q "protocol violation: .*$want" \
	    "$T/hostile-$case_name.err"
	moat_stop "hostile-$case_name"
done
moat_check_fails "no PNG from a hostile server" test -e "$T/hostile.png"

# --- the window ---
moat_start_xvfb VDISP 1024x768
moat_bg window --x "$VDISP" HOME="$T" MOAT_USER="$USER_NAME" MOAT_PASSWORD="$USER_PASS" \
    "$VIEWER" --known-hosts "$T/kh-fp" --vault "$T/vault/none" "127.0.0.1:$PORT"
pattern_in_window()
{
	moat_screenshot "$VDISP" "$T/window.png" &&
	    [ "$(moat_count_colour "$T/window.png" "$MOAT_PATTERN_FG")" -eq "$AREA" ]
}
moat_check "the window shows the served pattern (exact pixel count)" \
    moat_wait -m "pattern in the window" pattern_in_window
moat_check "at the same place as on the served display" \
    moat_img diff --rect 0 0 800 600 "$T/window.png" "$T/served.png"
moat_draw_pattern "$SERVED" '#3c8d2f' '#c02040' 300 200 120 80
changed_in_window()
{
	moat_screenshot "$VDISP" "$T/window2.png" &&
	    [ "$(moat_count_colour "$T/window2.png" '#c02040')" -eq $((120 * 80)) ]
}
moat_check "a change on the served display appears in the window" \
    moat_wait -m "new pattern in the window" changed_in_window
# CopyRect: an xterm scrolls and moves on the served display.
moat_scroll_and_move 150 "60 170" "90 190" "130 210"
window_same()
{
	moat_screenshot "$SERVED" "$T/served3.png" &&
	    moat_screenshot "$VDISP" "$T/window3.png" &&
	    [ "$(moat_img diff --rect 0 0 800 600 "$T/window3.png" "$T/served3.png")" = 0 ]
}
moat_check "after scrolling and moving, the window shows exactly the served screen" \
    moat_wait -m "identical screens" window_same
moat_check "moat-net sent CopyRect rectangles" \
    grep -Eq "update: [1-9][0-9]* CopyRect of" "$(moat_logfile moatd2)"
moat_stop term
moat_start_typer typer-window
wid=$(moat_x "$VDISP" xdotool search --name '^moat-viewer: ' | head -1) ||
    moat_fail "no viewer window"
moat_x "$VDISP" xdotool windowfocus --sync "$wid" || moat_fail "cannot focus the viewer window"
moat_x "$VDISP" xdotool type --delay 50 'Moat 42'
moat_x "$VDISP" xdotool key Return
moat_check "keys typed into the window reached the X client" \
    moat_wait -m "typed text" moat_typed_is typer-window 'Moat 42'
moat_stop typer-window window

# --- the audit records (docs/audit.md), both moatd runs in one chain ---
hex_fp() { printf '%s\n' "${1#SHA256:}" | tr -d : | tr 'A-F' 'a-f'; }
# "RUN FINGERPRINT" for every security record, RUN counting moatd's starts.
run_fps()
{
	awk '/"event":"audit_start"/ { run++ }
	    /"event":"security"/ && match($0, /"fingerprint":"[0-9a-f]+"/) {
		print run, substr($0, RSTART + 15, RLENGTH - 16)
	    }' "$MOAT_AUDIT" | sort -u
}
moat_check_eq "audit: each moatd showed its own identity key" \
    "1 $(hex_fp "$ID1_FP")
2 $(hex_fp "$ID2_FP")" "$(run_fps)"
moat_check_eq "audit: the logins' security types (X509Plain, RA2, RA2_256 and the conversation)" \
    "RA2 RA2_256 VeNCrypt X509Conversation VeNCrypt X509Plain" \
    "$(sed -n 's/.*"event":"login",.*"result":"success",.*"security_type":"\([^"]*\)".*/\1/p' "$MOAT_AUDIT" | sort -u | xargs)"
moat_check_eq "audit: only the two wrong passwords failed a factor: identities refused before credentials" \
    "2 2" "$(grep -c '"event":"auth_factor",.*"result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT") $(grep -c '"event":"auth_factor",.*"result":"failure"' "$MOAT_AUDIT")"
moat_check "audit: the window's session ended when it closed" \
    moat_wait sh -c "grep '\"event\":\"disconnect\"' '$MOAT_AUDIT' | tail -n 1 | grep -Eq '\"user\":\"$USER_NAME\",\"kind\":\"viewer\",.*\"bytes_out\":[1-9][0-9]{4,}'"
moat_audit_verify --live

moat_test_end
