#!/bin/bash
# noVNC interop: the browser viewer @novnc/novnc (pinned version, fetched
# from the npm registry into a cache in the build directory, never into the
# repository) runs in Debian's headless Chromium, served with the test page
# tests/novnc/index.html by tests/novnc/serve.py, and connects through
# websockify to moatd with Encryption=PreferOff. The page reports what noVNC
# saw; the test checks that
#  - noVNC negotiates RA2ne (the only RSA-AES type it knows) and the monitor
#    logs RA2ne for that connection. noVNC takes the first top-level type it
#    knows, VeNCrypt (moat lists it first), and never falls back; moat lists
#    RA2ne_256 and RA2ne as VeNCrypt subtypes after X509Plain under
#    PreferOff, and noVNC picks RA2ne there;
#  - the server key noVNC shows for approval is the identity key: its
#    RealVNC fingerprint, computed in the page from the key in the
#    serververification event, equals what `moatctl identity show` prints;
#  - after approval noVNC shows the served desktop: the canvas holds exactly
#    the pattern (the 200x100 block and the background);
#  - a wrong password ends in a securityfailure with moat's reason, and a
#    page that pins another fingerprint never approves nor logs in.
# A registry that cannot be reached fails the test (it is not skipped).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

NOVNC_VERSION=1.7.0
# dist.integrity of @novnc/novnc@1.7.0 in the npm registry.
NOVNC_INTEGRITY='sha512-ucEJOx4T2avIRCleodk7YobZj5O2Ga2AeLfQ69A/yjG9HHba2+PDgwSkN3FttrmG+70ZGx21sElNFouK13RzyA=='
PAGE_TIMEOUT=40		# seconds the page may take for one connection

for tool in chromium websockify npm; do
	command -v "$tool" >/dev/null ||
	    moat_fail "$tool is not installed (tools/deps.sh installs chromium and websockify; npm comes with nodejs)"
done

# ---- the noVNC package ------------------------------------------------------

integrity_ok()	# FILE: true if FILE is the pinned tarball
{
	[[ -f "$1" ]] &&
	    [[ "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)" == "$NOVNC_INTEGRITY" ]]
}

CACHE=$MOAT_BUILD_DIR/novnc-cache
TGZ=$CACHE/novnc-novnc-$NOVNC_VERSION.tgz
if ! integrity_ok "$TGZ"; then
	rm -f "$TGZ"
	mkdir -p "$CACHE"
	moat_log "fetching @novnc/novnc@$NOVNC_VERSION from the npm registry"
	if ! timeout 180 npm pack "@novnc/novnc@$NOVNC_VERSION" \
	    --pack-destination "$CACHE" --cache "$CACHE/npm" \
	    --fetch-retries=1 --fetch-timeout=60000 >"$T/npm.log" 2>&1; then
		moat_fail "cannot fetch @novnc/novnc@$NOVNC_VERSION from the npm registry" \
		    "(is it reachable?):" "$(grep -m 4 '^npm error' "$T/npm.log" || tail -n 4 "$T/npm.log")"
	fi
	integrity_ok "$TGZ" ||
	    moat_fail "$TGZ does not match the pinned integrity $NOVNC_INTEGRITY"
fi
WWW=$T/www
mkdir -p "$WWW/novnc"
tar -xzf "$TGZ" -C "$WWW/novnc" --strip-components=1 --no-same-owner
cp "$MOAT_SOURCE_DIR/tests/novnc/index.html" "$WWW/"
moat_check_eq "the noVNC package is version $NOVNC_VERSION" "$NOVNC_VERSION" \
    "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' \
    "$WWW/novnc/package.json")"
moat_log "versions: $(chromium --version 2>/dev/null)," \
    "websockify $(dpkg-query -W -f='${Version}' websockify)," \
    "noVNC $NOVNC_VERSION, node $(node --version), npm $(npm --version 2>/dev/null)"

# ---- moatd, the WebSocket bridge, the web server -------------------------------

moat_server_start Encryption=PreferOff
FP=$("$(moat_bin moatctl)" identity show -f "$CONF" |
    awk '/^RealVNC fingerprint:/ { print $3 }')
[[ "$FP" =~ ^([0-9a-f]{2}-){7}[0-9a-f]{2}$ ]] ||
    moat_fail "moatctl identity show printed no RealVNC fingerprint ('$FP')"
moat_log "moatctl: RealVNC fingerprint $FP"

# What moat offers under PreferOff, as a raw viewer sees it: the top-level
# types, then VeNCrypt's subtypes; then it chooses SUBTYPE.
offers()	# SUBTYPE
{
	timeout 20 python3 - "$PORT" "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
def rx(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise SystemExit("closed")
        b += c
    return b
rx(12)
s.sendall(b"RFB 003.008\n")
types = list(rx(rx(1)[0]))
s.sendall(bytes([19]))
rx(2)
s.sendall(b"\x00\x02")
ack = rx(1)[0]
n = rx(1)[0]
subs = list(struct.unpack(">%dI" % n, rx(4 * n)))
print("types %s ack %d subtypes %s" % (types, ack, subs))
s.sendall(struct.pack(">I", int(sys.argv[2])))
s.settimeout(10)
print("closed" if s.recv(1) == b"" else "open")
PY
}
out=$(offers 256 || true)
moat_check_eq "PreferOff: top-level types unchanged, VeNCrypt lists X509Plain, X509Conversation, RA2ne_256, RA2ne" \
    "types [19, 129, 5, 130, 6] ack 0 subtypes [262, 1297039700, 130, 6]" "$(head -n 1 <<<"$out")"
moat_check_eq "a VeNCrypt subtype not offered (Plain, 256) is still refused" closed \
    "$(tail -n 1 <<<"$out")"
moat_check "with the reason logged" moat_wait_log "$EVENTS" \
    "viewer chose VeNCrypt subtype 256, which was not offered" 10

WSPORT=$(moat_free_port)
moat_bg websockify websockify "127.0.0.1:$WSPORT" "127.0.0.1:$PORT"
moat_wait_port "$WSPORT"

REPORTS=$T/reports.jsonl
: >"$REPORTS"
moat_bg web python3 "$MOAT_SOURCE_DIR/tests/novnc/serve.py" \
    --root "$WWW" --out "$REPORTS"
moat_wait_log web '^serving on http://127\.0\.0\.1:[0-9]+/'
WEBPORT=$(sed -n 's|^serving on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$T/web.log" | head -n 1)

# novnc RUN USER PASSWORD PIN: loads the page in a fresh headless Chromium
# with these settings and waits until the page says it is done.
novnc()
{
	local run=$1 user=$2 pass=$3 pin=$4 start=$SECONDS
	python3 - "$WWW/$run.json" "ws://127.0.0.1:$WSPORT/" "$user" "$pass" "$pin" \
	    "$MOAT_PATTERN_FG" "$MOAT_PATTERN_BG" "$MOAT_PATTERN_X" "$MOAT_PATTERN_Y" \
	    "$MOAT_PATTERN_W" "$MOAT_PATTERN_H" "$((PAGE_TIMEOUT * 1000))" <<'PY'
import json, sys
out, url, user, pw, pin, fg, bg, x, y, w, h, timeout = sys.argv[1:]
rgb = lambda c: [int(c[i:i + 2], 16) for i in (1, 3, 5)]
json.dump({"url": url, "user": user, "password": pw, "pin": pin,
           "fg": rgb(fg), "bg": rgb(bg), "rect": [int(x), int(y), int(w), int(h)],
           "timeout": int(timeout)}, open(out, "w"))
PY
	# Its scratch files (/tmp/org.chromium.Chromium.*) go with $T.
	mkdir -p -m 0700 "$T/chromium-$run.tmp"
	moat_bg "chromium-$run" TMPDIR="$T/chromium-$run.tmp" chromium \
	    --headless --no-sandbox --disable-gpu \
	    --disable-quic --no-first-run --disable-background-networking \
	    --disable-component-update --disable-sync --log-level=3 \
	    --user-data-dir="$T/chromium-$run.profile" \
	    "http://127.0.0.1:$WEBPORT/index.html?cfg=$run.json"
	moat_wait_log "$REPORTS" "\"ev\": \"done\".*\"run\": \"$run.json\"" \
	    $((PAGE_TIMEOUT + 30))
	moat_stop "chromium-$run"
	moat_log "page $run: $(events "$run") ($((SECONDS - start)) s with Chromium's start)"
}

# rep RUN EV FIELD: prints FIELD of RUN's first EV report (JSON for
# non-strings), nothing if there is none.
rep()
{
	python3 - "$REPORTS" "$1.json" "$2" "$3" <<'PY'
import json, sys
f, run, ev, field = sys.argv[1:]
for line in open(f):
    o = json.loads(line)
    if o.get("run") == run and o.get("ev") == ev:
        v = o.get(field, "")
        print(v if isinstance(v, str) else json.dumps(v))
        break
PY
}

# events RUN: RUN's report names in order, each with the page's time in ms
# (console lines with their text).
events()
{
	python3 - "$REPORTS" "$1.json" <<'PY'
import json, sys
f, run = sys.argv[1:]
seq = []
for line in open(f):
    o = json.loads(line)
    if o.get("run") == run:
        seq.append("%s@%s%s" % (o["ev"], o.get("ms"),
                   "(%s)" % o["msg"] if o["ev"] in ("console", "error") else ""))
print(" ".join(seq))
PY
}

# ---- a login with the right password --------------------------------------------

novnc good "$USER_NAME" "$USER_PASS" "$FP"
AREA=$((MOAT_PATTERN_W * MOAT_PATTERN_H))
read -r SW SH < <(moat_display_size "$SERVED")
moat_check_eq "noVNC asked to verify an RSA server key" RSA "$(rep good verify type)"
moat_check_eq "of 2048 bits" 2048 "$(rep good verify bits)"
moat_check_eq "the fingerprint noVNC reports is moatctl's RealVNC fingerprint" \
    "$FP" "$(rep good verify fingerprint)"
moat_check_eq "no security failure" "" "$(rep good securityfailure status)"
moat_check_eq "noVNC connected after approving the key" connect "$(rep good connect ev)"
moat_check_eq "the canvas has the served display's size" "$SW x $SH" \
    "$(rep good frame width) x $(rep good frame height)"
moat_check_eq "the canvas shows the pattern's block, pixel for pixel" "$AREA" \
    "$(rep good frame fg)"
moat_check_eq "where it is on the served display" \
    "[$MOAT_PATTERN_X, $MOAT_PATTERN_Y, $MOAT_PATTERN_W, $MOAT_PATTERN_H]" \
    "$(rep good frame bbox)"
moat_check_eq "and the background everywhere else" "$((SW * SH - AREA))" \
    "$(rep good frame bg)"
moat_check_eq "the page disconnected cleanly" true "$(rep good disconnect clean)"

# The monitor's lines for noVNC's connection (websockify's side of it,
# found by its successful login).
GOOD_PORT=$(sed -n "s/.*authentication succeeded for user \"$USER_NAME\" from 127\.0\.0\.1 port \([0-9]*\).*/\1/p" "$EVENTS")
moat_check "the monitor logged one successful login" \
    test "$(wc -w <<<"$GOOD_PORT")" -eq 1
moat_check "noVNC chose RA2ne as a VeNCrypt subtype (its first known type is VeNCrypt)" \
    grep -Eq "127\.0\.0\.1 port $GOOD_PORT: .*viewer chose RA2ne as a VeNCrypt subtype" "$EVENTS"
moat_check "the monitor logged RA2ne for that connection" \
    grep -q "connection from 127\.0\.0\.1 port $GOOD_PORT: security RA2ne, AES-128-EAX for the login only, SHA-1, viewer key RSA-2048" "$EVENTS"
moat_check_eq "and no other security type" "" \
    "$(grep -E 'security (VeNCrypt|RA2_256|RA2,|RA2ne_256)' "$EVENTS" || true)"
# noVNC takes moat's pseudo-encodings: fences with continuous updates, and
# the ExtendedClipboard (its Caps answer moat's).
moat_check "noVNC enabled continuous updates (offered with fences)" \
    grep -Eq "127\.0\.0\.1 port $GOOD_PORT: .*continuous updates on for $SW""x$SH at 0,0" "$EVENTS"
moat_check "noVNC answered with its ExtendedClipboard capabilities" \
    grep -Eq "127\.0\.0\.1 port $GOOD_PORT: .*viewer clipboard caps 0x1f000001" "$EVENTS"

# ---- a wrong password -------------------------------------------------------------

novnc wrongpw "$USER_NAME" 'wrong password' "$FP"
moat_check_eq "wrong password: the key was the identity key" "$FP" \
    "$(rep wrongpw verify fingerprint)"
moat_check_eq "wrong password: noVNC reports a security failure" 1 \
    "$(rep wrongpw securityfailure status)"
moat_check_eq "with moat's reason" "Authentication failed" \
    "$(rep wrongpw securityfailure reason)"
moat_check_eq "and never connected" "" "$(rep wrongpw connect ev)"
moat_check "the monitor logged the failed login" \
    grep -Eq "authentication failed for user \"$USER_NAME\" from 127\.0\.0\.1 port" "$EVENTS"

# ---- a page pinning another key ----------------------------------------------------

novnc pinned "$USER_NAME" "$USER_PASS" 00-11-22-33-44-55-66-77
moat_check_eq "another pinned fingerprint: the page refuses the key" "$FP" \
    "$(rep pinned pin-mismatch fingerprint)"
moat_check_eq "and never connects" "" "$(rep pinned connect ev)"
moat_check_eq "RA2ne was logged once per login attempt, never for the refused key" 2 \
    "$(grep -Ec 'security RA2ne, ' "$EVENTS" || true)"

# ---- the audit records (docs/audit.md) ------------------------------------------------

P='"peer_addr":"127\.0\.0\.1","peer_port":'$GOOD_PORT
moat_check "audit: the subtype not offered closed its connection as a protocol violation" \
    grep -Eq '"event":"disconnect",.*"user":"","kind":"closed","reason":"protocol violation' "$MOAT_AUDIT"
moat_check "audit: noVNC's connection chose RA2ne (AES-128-EAX for the login only)" \
    grep -Eq '"event":"security",.*'"$P"',"security_type":"RA2ne",.*AES-128-EAX for the login only' "$MOAT_AUDIT"
moat_check "audit: its login over RA2ne" \
    grep -Eq '"event":"login",.*'"$P"',"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"RA2ne"' "$MOAT_AUDIT"
moat_check "audit: the page's clean disconnect" \
    grep -Eq '"event":"disconnect",.*'"$P"',"user":"'"$USER_NAME"'","kind":"viewer",' "$MOAT_AUDIT"
moat_check "audit: the wrong password's failed factor" \
    grep -Eq '"event":"auth_factor",.*"factor":"SystemAuth","user":"'"$USER_NAME"'","result":"failure","reason":"Authentication failed"' "$MOAT_AUDIT"
moat_check_eq "audit: two security records (the two logins), none for the refused key" "2 2" \
    "$(grep -c '"event":"security"' "$MOAT_AUDIT") $(grep -c '"event":"security",.*"security_type":"RA2ne"' "$MOAT_AUDIT")"
moat_audit_verify --live

moat_test_end
