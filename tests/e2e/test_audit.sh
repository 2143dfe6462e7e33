#!/bin/bash
# The audit records (docs/audit.md) each scenario must produce, in the
# hash-chained file (AuditFile) and in syslog (LOG_AUTHPRIV, key=value):
#  - a login and its end: connect, security (type, TLS version, cipher, the
#    identity key's SHA-256), auth_factor (success), login (user,
#    permissions), disconnect (duration, bytes each way > 0), one session
#    id throughout, the one moatctl sessions shows;
#  - a wrong password: auth_factor and login with result failure; a user
#    name with a newline is written escaped, never as a second record; a
#    log line of moat-net's shaped like a record (test-build trigger) is
#    logged escaped and tagged, and is no record;
#  - moatctl disconnect: the disconnect record says "admin", a moatctl
#    record names the command, the target and the administrator's uid;
#  - moat-net killed with SIGKILL mid-session, and killed by its seccomp
#    filter (test-build trigger): a disconnect record with the signal and
#    bytes -1 (unknown);
#  - a reload that denies 127.0.0.1 (a reload record naming
#    IpClientAddresses), then refused connections (refuse, reason
#    ip_filter); moatctl debug on/off (debug records);
#  - rotation under load: 60 refused connections in parallel bursts while
#    moatctl audit rotate runs again and again: every session id exactly
#    once across the files, and (moatd stopped) moatctl audit verify
#    accepts the files;
#  - a monitor killed: the listener writes the disconnect record;
#  - syslog: moatd's /dev/log is a socket of this test's (a private /dev in
#    a mount namespace of moatd's own): key=value lines at authpriv.info;
#  - the journal: a second moatd "under systemd": a real systemd-journald
#    of the test's own (private /run and /var/log in its mount namespace)
#    takes the records, and journalctl reads them back: native MOAT_*
#    fields, the event's MESSAGE_ID, authpriv;
#  - the audit file's disk full: the login waiting for its record is
#    refused, new connections are refused (audit_unavailable), and once
#    there is room again logins work and the file says records were missed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

AUD=$T/audit/audit.jsonl
SYSLOG=$T/syslog.txt
MOATCTL=$(moat_bin moatctl)
CTL=$T/run/control.sock

# --- moatd's syslog: a receiver on a private /dev/log ---
cat >"$T/syslog_rx.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        d = s.recv(65536)
        out.write(d.replace(b"\n", b"\\n") + b"\n")
EOF
moat_bg syslog python3 "$T/syslog_rx.py" "$T/syslog.sock" "$SYSLOG"
moat_wait_log syslog '^listening'
cat >"$T/devlog.sh" <<'EOF'
#!/bin/bash
# In moatd's own mount namespace: a /dev with the nodes it uses and
# /dev/log pointing at the test's receiver.
set -e
d=$MOAT_DEVLOG_DIR
mkdir -p "$d"
mount -t tmpfs -o mode=0755,size=1m moat-e2e-dev "$d"
for n in null zero full random urandom; do
	touch "$d/$n"
	mount --bind "/dev/$n" "$d/$n"
done
ln -s "$MOAT_DEVLOG_SOCKET" "$d/log"
mount --rbind "$d" /dev
if [ -n "${MOAT_JOURNAL_SOCKET:-}" ]; then
	# "Under systemd": the journal's socket is the test's receiver.
	mount -t tmpfs -o mode=0755,size=1m moat-e2e-run /run
	mkdir -p /run/systemd/journal
	ln -s "$MOAT_JOURNAL_SOCKET" /run/systemd/journal/socket
fi
exec "$@"
EOF
chmod 0755 "$T/devlog.sh"
MOAT_MOATD_WRAPPER=(env "MOAT_DEVLOG_DIR=$T/dev" "MOAT_DEVLOG_SOCKET=$T/syslog.sock"
    unshare --mount --propagation private -- "$T/devlog.sh")

moat_server_start "AuditFile=$AUD" "AuditKey=$T/etc/audit.key" \
    AuditCheckpointInterval=10 AuditRotateKeep=100

# audit Q FILTER...: prints the records of the audit files (oldest first)
# that match every FILTER, one JSON object a line. FILTER: key=value
# (exact), key~regex, key>number.
cat >"$T/aq.py" <<'EOF'
import glob, json, re, sys
path = sys.argv[1]
files = sorted(glob.glob(path + ".*"), key=lambda f: -int(f.rsplit(".", 1)[1]))
files.append(path)
for f in files:
    for line in open(f, encoding="utf-8"):
        r = json.loads(line)
        ok = True
        for c in sys.argv[2:]:
            m = re.match(r"^([a-z_0-9]+)([=~>])(.*)$", c, re.S)
            k, op, v = m.groups()
            if k not in r:
                ok = False
            elif op == "=":
                ok = ok and str(r[k]) == v
            elif op == "~":
                ok = ok and re.search(v, str(r[k])) is not None
            else:
                ok = ok and isinstance(r[k], int) and r[k] > int(v)
        if ok:
            print(json.dumps(r, ensure_ascii=False))
EOF
audit() { python3 "$T/aq.py" "$AUD" "$@"; }
acount() { audit "$@" | wc -l; }
afield() { audit "${@:2}" | tail -1 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())[sys.argv[1]])' "$1"; }
has() { (( $(acount "$@") >= 1 )); }

moat_check "an audit_start record opens the file" has event=audit_start "file=$AUD"
moat_check_eq "the audit file is root's, mode 0600" "600 root" "$(stat -c '%a %U' "$AUD")"

# --- a login and its disconnect ---
moat_check "a viewer logs in and receives the desktop" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_wait -m "the login's disconnect record" has event=disconnect "user=$USER_NAME"
S=$(afield session event=login result=success "user=$USER_NAME")
fp=$(openssl pkey -in "$T/etc/identity.key" -pubout -outform DER | sha256sum | cut -d' ' -f1)
moat_check "connect record (127.0.0.1, a port)" has event=connect "session=$S" peer_addr=127.0.0.1 'peer_port>0'
moat_check "security record: type, TLS version, cipher" has event=security "session=$S" \
    'security_type~VeNCrypt' 'tls_version~TLS' 'cipher~.'
moat_check "security record: the identity key's SHA-256" has event=security "session=$S" "fingerprint=$fp"
moat_check "auth_factor record: SystemAuth succeeded for the user" has event=auth_factor \
    "session=$S" factor=SystemAuth "user=$USER_NAME" result=success
moat_check "login record: the user and the permissions granted" has event=login "session=$S" \
    "user=$USER_NAME" result=success permissions=vkpcs
moat_check "disconnect record: duration and bytes each way" has event=disconnect "session=$S" \
    "user=$USER_NAME" 'duration_ms>0' 'bytes_in>0' 'bytes_out>0' kind=viewer
moat_check_eq "one disconnect record for the connection" 1 "$(acount event=disconnect "session=$S")"
moat_check "every record has a UTC millisecond timestamp" sh -c \
    "! python3 '$T/aq.py' '$AUD' | grep -Ev '^\\{(\"seq\": [0-9]+, \"prev\": \"[0-9a-f]{64}\", )?\"ts\": \"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z\", \"event\": \"[a-z_]+\", \"session\": [0-9]+, \"peer_addr\": \"[^\"]*\", \"peer_port\": [0-9]+'"

# --- a wrong password, and a hostile user name ---
moat_check_fails "a wrong password is refused" \
    moat_probe --user "$USER_NAME" --password wrong-password
moat_wait -m "the failed factor's record" has event=auth_factor "user=$USER_NAME" result=failure
moat_check "login record with result failure" has event=login "user=$USER_NAME" result=failure
moat_check_fails "a user name with a newline is refused" \
    moat_probe --user $'mallory\nevent=login user=root' --password x
moat_wait -m "its record" has event=login result=failure 'user~^mallory'
moat_check "the name is written escaped, in the one record" has event=login result=failure \
    'user=mallory\x0aevent=login user=root'
moat_check_eq "no record names root" 0 "$(acount user=root)"
moat_check_fails "the newline reached no log line" grep -q '^event=login user=root' "$EVENTS"
# moat-net's own log lines (test-build trigger: a line shaped like a record)
moat_check_fails "moat-selftest-log-forge does not log in" \
    moat_probe --user moat-selftest-log-forge --password x
moat_wait -m "its login record" has event=login result=failure user=moat-selftest-log-forge
moat_check "moat-net's line is logged escaped, tagged as moat-net's" grep -q \
    'moat-net\[[0-9]*\] 127.0.0.1 port [0-9]*: self-test: forged\\x0aevent=login session=1 peer_addr=127.0.0.1 user=root result=success\\x0d\\x0a$' "$EVENTS"
moat_check_fails "no log line starts with it" grep -q '^event=login' "$EVENTS"
moat_check_eq "no audit record names root" 0 "$(acount user=root)"

# --- moatctl disconnect ---
moat_bg held python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log held '^holding'
id=$("$MOATCTL" sessions -s "$CTL" | awk -v u="$USER_NAME" '$2 == u { print $1 }')
moat_check "moatctl sessions shows the audit session id" has event=login "session=$id" result=success
moat_check "moatctl disconnect ends it" "$MOATCTL" disconnect -s "$CTL" "$id"
moat_wait -m "the admin disconnect record" has event=disconnect "session=$id" kind=admin
moat_check "its reason names the administrator" has event=disconnect "session=$id" 'reason~administrator \(uid 0'
moat_check "a moatctl record: command, target, uid" has event=moatctl command=disconnect \
    "target_session=$id" admin_uid=0 result=ok
moat_check "moatctl sessions was recorded too" has event=moatctl command=sessions admin_uid=0
moat_stop held

# --- moat-net killed mid-session ---
moat_bg held2 python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log held2 '^holding'
id=$("$MOATCTL" sessions -s "$CTL" | awk -v u="$USER_NAME" '$2 == u { print $1 }')
pid=$(moat_net_pids | head -1)
[ -n "$pid" ] || moat_fail "no moat-net process"
kill -KILL "$pid"
moat_wait -m "the disconnect record of the killed moat-net" has event=disconnect "session=$id"
moat_check "it names the signal, bytes unknown" has event=disconnect "session=$id" \
    'reason~^moat-net killed by signal 9 ' kind=net_killed bytes_in=-1 bytes_out=-1
moat_stop held2

moat_check_fails "the self-test login (a forbidden system call) does not succeed" \
    moat_probe --user moat-selftest-sigsys --password x
moat_wait -m "the seccomp kill's disconnect record" has event=disconnect \
    'reason~^moat-net killed by signal 31 \(SIGSYS: seccomp'
moat_check "bytes unknown there too" has event=disconnect 'reason~signal 31' bytes_in=-1

# --- a monitor killed: the listener writes its disconnect record ---
moat_bg held3 python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log held3 '^holding'
id=$("$MOATCTL" sessions -s "$CTL" | awk -v u="$USER_NAME" '$2 == u { print $1 }')
mon=$(pgrep -P "$(moat_pid moatd)" -x moatd | head -1)
[ -n "$mon" ] || moat_fail "no monitor process"
kill -KILL "$mon"
moat_wait -m "the listener's disconnect record" has event=disconnect "session=$id"
moat_check "it says the monitor was killed; the listener recorded it" has event=disconnect \
    "session=$id" 'reason~^monitor killed by signal 9' recorded_by=listener "user=$USER_NAME" bytes_in=-1
moat_stop held3

# --- debug off and on at run time (moatd was started with -d: on) ---
# new_net_debug: a moat-net debug line after line $mark of the log
# (every new moat-net logs its sandbox at debug level).
new_net_debug()
{
	tail -n +"$((mark + 1))" "$EVENTS" | grep -q ': debug: moat-net\['
}
moat_check "moatctl debug off" "$MOATCTL" debug off -s "$CTL"
moat_check "a debug record says off" has event=debug state=off previous=on
mark=$(wc -l <"$EVENTS")
moat_check "a connection with debug off" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_check_fails "logs no debug line of its moat-net" new_net_debug
moat_check "moatctl debug on" "$MOATCTL" debug on -s "$CTL"
moat_check "a debug record says on" has event=debug state=on admin_uid=0
mark=$(wc -l <"$EVENTS")
moat_check "a connection with debug on" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_check "logs its moat-net's debug lines" new_net_debug

# --- a reload that denies 127.0.0.1, refused connections ---
echo "IpClientAddresses=-127.0.0.1" >>"$CONF"
moat_check "moatctl reload applies IpClientAddresses" "$MOATCTL" reload -s "$CTL"
moat_check "a reload record names the change" has event=reload result=ok 'changed~IpClientAddresses'
refused() { python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(10)
while s.recv(100): pass' "$PORT"; }
refused
moat_wait -m "a refuse record" has event=refuse reason=ip_filter peer_addr=127.0.0.1
moat_check "it names the rule" has event=refuse 'detail~IpClientAddresses rule 1 \(-127.0.0.1'

# --- rotation under load ---
before=$(acount event=refuse)
for burst in 1 2 3 4 5 6; do
	pids=()
	for i in 1 2 3 4 5 6 7 8 9 10; do
		refused &
		pids+=($!)
	done
	"$MOATCTL" audit rotate -s "$CTL" >/dev/null || moat_fail "audit rotate failed"
	wait "${pids[@]}" || true
done
moat_wait -m "60 more refuse records" sh -c "test \$(python3 '$T/aq.py' '$AUD' event=refuse | wc -l) -ge $((before + 60))"
moat_check_eq "60 refuse records more, none lost or doubled" $((before + 60)) "$(acount event=refuse)"
moat_check_eq "every session id exactly once" "" \
    "$(audit event=refuse | python3 -c 'import json,sys,collections; c=collections.Counter(json.loads(l)["session"] for l in sys.stdin); print(" ".join(str(k) for k,v in c.items() if v != 1))')"
moat_check "files were rotated" test -f "$AUD.6"
moat_check "moatctl audit rotate was recorded" has event=moatctl command=audit_rotate result=ok

# --- syslog ---
moat_check "syslog has key=value records at authpriv.info" \
    grep -q "^<86>.*moatd\[[0-9]*\]: event=login session=$S peer_addr=127.0.0.1 " "$SYSLOG"
moat_check "with the disconnect, bytes and duration" \
    grep -Eq "^<86>.*event=disconnect session=$S .*duration_ms=[0-9]+ bytes_in=[0-9]+ bytes_out=[0-9]+" "$SYSLOG"
moat_check "a hostile name is quoted and escaped in syslog" \
    grep -q 'user="mallory\\x0aevent=login user=root"' "$SYSLOG"

moat_stop moatd
moat_check "moatd's stop is recorded" has event=audit_stop
# Closed (its final checkpoint written), the chain verifies across the files.
mapfile -t files < <(ls "$AUD".* | sort -t. -k3 -rn; echo "$AUD")
moat_check "moatctl audit verify accepts the files, oldest first" \
    "$MOATCTL" audit verify --key "$T/etc/audit.key" "${files[@]}"

# --- the journal: moatd "under systemd" (systemd-journald of the test's) ---
# journald runs in a mount namespace of its own whose /run/systemd and
# /run/log are directories of this test, and whose /var/log is empty (so it
# keeps its journal in /run/log, not in the host's /var/log/journal).
mkdir -m 0755 "$T/jrun" "$T/jlog"
cat >"$T/journald.sh" <<'EOF'
#!/bin/sh
set -e
mount -t tmpfs -o mode=0755,size=1m moat-e2e-jrun /run
mkdir /run/systemd /run/log
mount --bind "$1" /run/systemd
mount --bind "$2" /run/log
mkdir -p /run/systemd/journal
mount -t tmpfs -o mode=0755,size=1m moat-e2e-jvarlog /var/log
exec /lib/systemd/systemd-journald
EOF
moat_bg journald unshare --mount --propagation private -- sh "$T/journald.sh" \
    "$T/jrun" "$T/jlog"
moat_wait -m "systemd-journald's socket" test -S "$T/jrun/journal/socket"
# journal: every entry journald holds, one JSON object a line.
journal()
{
	journalctl -D "$T/jlog/journal" -o json --no-pager 2>/dev/null
}
# journal_has PATTERN...: one entry holds every fixed string PATTERN.
journal_has()
{
	local out p
	out=$(journal)
	for p in "$@"; do
		out=$(grep -F -- "$p" <<<"$out") || return 1
	done
	[[ -n "$out" ]]
}
MOAT_MOATD_WRAPPER=(env "MOAT_DEVLOG_DIR=$T/dev2" "MOAT_DEVLOG_SOCKET=$T/syslog.sock"
    "MOAT_JOURNAL_SOCKET=$T/jrun/journal/socket" unshare --mount --propagation private -- "$T/devlog.sh")
sed -i -e "s|^AuditFile=.*|AuditFile=$T/audit2/audit.jsonl|" \
    -e '/^IpClientAddresses=-127.0.0.1$/d' "$CONF"
# A small file system, to be filled up below.
mkdir -m 0700 "$T/audit2"
mount -t tmpfs -o mode=0700,size=512k moat-e2e-audit2 "$T/audit2"
moat_server_restart moatd2 SystemAuth
moat_check "a login with moatd under the journal" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_wait -m "the login's journal entry" journal_has '"MOAT_EVENT":"login"'
moat_check "the journal entry: MESSAGE_ID of login, native fields, authpriv" \
    journal_has '"MOAT_EVENT":"login"' \
    '"MESSAGE_ID":"7cc0b0ddc7aea0f10d91cfad940f6389"' \
    "\"MOAT_USER\":\"$USER_NAME\"" '"MOAT_PEER_ADDR":"127.0.0.1"' \
    '"MOAT_RESULT":"success"' '"SYSLOG_FACILITY":"10"' \
    '"SYSLOG_IDENTIFIER":"moatd"' '"MESSAGE":"event=login session='
moat_wait -m "the disconnect's journal entry" \
    journal_has '"MESSAGE_ID":"efe08203a211caa45c64c073232bcd85"'
moat_check_fails "under the journal, records are not sent to syslog as well" \
    grep -q "event=audit_start .*file=$T/audit2/" "$SYSLOG"
moat_check "and they are in the file" grep -q '"event":"login"' "$T/audit2/audit.jsonl"

# --- the audit file cannot be written: no unaudited connection ---
dd if=/dev/zero of="$T/audit2/filler" bs=4k >/dev/null 2>&1 || true
moat_check_fails "with the audit file's disk full, a login is refused" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_check_fails "and so is the next connection" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_wait -m "a refusal for audit_unavailable" \
    journal_has '"MOAT_REASON":"audit_unavailable"'
moat_check "moatd logged why" grep -q 'refused connection from 127.0.0.1 port [0-9]*: the audit file cannot be written' "$EVENTS"
moat_check "the login was refused because its record could not be written" grep -q \
    "user \"$USER_NAME\" from 127.0.0.1 port [0-9]* refused: the audit record of the login could not be written" "$EVENTS"
rm -f "$T/audit2/filler"
moat_wait -m "logins work again once the file can be written" \
    moat_probe --user "$USER_NAME" --password "$USER_PASS"
moat_check "the file says records were missed" grep -q \
    '"event":"audit_start",.*"reason":"resumed after a write failure' "$T/audit2/audit.jsonl"
moat_stop moatd2
moat_test_end
