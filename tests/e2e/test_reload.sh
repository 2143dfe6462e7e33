#!/bin/bash
# Reloading the configuration (docs/configuration.md, "Reload"):
#  - SIGHUP applies a changed IpClientAddresses to new connections: a new
#    login is refused at accept time while a logged-in session stays;
#    moatctl reload undoes it the same way; both log "configuration
#    reloaded" with the parameter that changed;
#  - a broken policy file (a bad value on line 2) is refused on reload,
#    by SIGHUP and by moatctl, naming the file and the line; the running
#    configuration stays entirely: a valid change made in moatd.conf at
#    the same time is not applied either;
#  - a group-writable and a non-root-owned policy file are refused the same
#    way;
#  - a policy.d value wins over moatd.conf after a reload, and removing it
#    gives moatd.conf's value back;
#  - a parameter that needs a restart (ListenPort) is reported and keeps
#    its running value.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
POLICY=$T/etc/policy.d
install -d -o root -g root -m 0755 "$POLICY"
MOATCTL=$(moat_bin moatctl)
# The control socket by default: control.sock beside SessionSocket.
CTL=$T/run/control.sock

# login NAME: 0 if a viewer logs in now, 1 otherwise (output in $T/NAME.out).
login()
{
	moat_probe --user "$USER_NAME" --password "$USER_PASS" >"$T/$1.out" 2>&1
}
# set_param KEY VALUE: KEY=VALUE in moatd.conf (replaced or appended).
set_param()
{
	if grep -q "^$1=" "$CONF"; then
		sed -i -e "s|^$1=.*|$1=$2|" "$CONF"
	else
		printf '%s=%s\n' "$1" "$2" >>"$CONF"
	fi
}
del_param()
{
	sed -i -e "/^$1=/d" "$CONF"
}
count()
{
	grep -c -- "$1" "$EVENTS" || true
}
# sighup_and_wait PATTERN: SIGHUP to moatd, then wait for one more log line
# matching PATTERN.
sighup_and_wait()
{
	local before
	before=$(count "$1")
	kill -HUP "$(moat_pid moatd)"
	moat_wait -m "a new '$1' line" sh -c \
	    "[ \"\$(grep -c -- '$1' '$EVENTS' || true)\" -gt $before ]"
}

moat_check "a viewer logs in before any reload" login first

# A session that stays logged in through every reload below.
moat_bg held python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_probe.py" --port "$PORT" \
    --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" --scenario hold-session
moat_wait_log held '^holding'

# --- SIGHUP applies a change to new connections ---
set_param IpClientAddresses '-127.0.0.1'
sighup_and_wait 'configuration reloaded (SIGHUP): changed IpClientAddresses'
moat_check_fails "after SIGHUP a new connection from 127.0.0.1 is refused" login denied
moat_check "at accept time, by the reloaded rule" \
    grep -q 'refused connection from 127.0.0.1 port [0-9]*: IpClientAddresses rule 1 (-127.0.0.1' "$EVENTS"
moat_check "the logged-in session stays" moat_alive held

# --- moatctl reload applies the next change ---
del_param IpClientAddresses
"$MOATCTL" reload -f "$CONF" >"$T/reload1.out" 2>&1 && st=0 || st=$?
moat_check_eq "moatctl reload succeeds" 0 "$st"
moat_check "and says what changed" \
    grep -q '^configuration reloaded (moatctl, uid 0 pid [0-9]*): changed IpClientAddresses$' "$T/reload1.out"
moat_check "moatd logs it with the caller" \
    grep -q 'configuration reloaded (moatctl, uid 0 pid [0-9]*): changed IpClientAddresses' "$EVENTS"
moat_check "after moatctl reload a viewer logs in again" login again

# --- a broken policy file keeps the running configuration, all of it ---
set_param IpClientAddresses '-127.0.0.1'	# valid, but must not apply
moat_write_config "$POLICY/50-broken.conf" "# locked" "Encryption=Strong"
"$MOATCTL" reload -s "$CTL" >"$T/reload2.out" 2>&1 && st=0 || st=$?
moat_check_eq "moatctl reload of a broken policy file fails" 1 "$st"
moat_check "naming the file and the line" \
    grep -q "configuration not reloaded (moatctl, uid 0 pid [0-9]*): $POLICY/50-broken.conf:2: Encryption: invalid value 'Strong'" "$T/reload2.out"
moat_check "and that the running configuration stays" \
    grep -q 'the running configuration stays in force' "$T/reload2.out"
"$MOATCTL" reload -f "$CONF" >"$T/reload2f.out" 2>&1 && st=0 || st=$?
moat_check_eq "moatctl -f cannot read the broken configuration either" 1 "$st"
moat_check "and says to name the socket with -s" \
    grep -q 'name it with -s to reach the running moatd anyway' "$T/reload2f.out"
sighup_and_wait "configuration not reloaded (SIGHUP): $POLICY/50-broken.conf:2: Encryption"
moat_check "SIGHUP logs the same error" \
    grep -q "configuration not reloaded (SIGHUP): $POLICY/50-broken.conf:2: Encryption: invalid value 'Strong'" "$EVENTS"
moat_check "the valid change beside it is not applied: 127.0.0.1 still logs in" login kept
moat_check_eq "moatd is still running" 0 "$(moat_alive moatd && echo 0 || echo 1)"

# --- unsafe policy files are refused on reload ---
moat_write_config "$POLICY/50-broken.conf" "Encryption=AlwaysMaximum"
chmod 0664 "$POLICY/50-broken.conf"
"$MOATCTL" reload -s "$CTL" >"$T/reload3.out" 2>&1 && st=0 || st=$?
moat_check_eq "a group-writable policy file is refused" 1 "$st"
moat_check "with the reason" \
    grep -q "$POLICY/50-broken.conf: writable by group or others (mode 0664)" "$T/reload3.out"
chmod 0644 "$POLICY/50-broken.conf"
chown "$USER_NAME" "$POLICY/50-broken.conf"
"$MOATCTL" reload -s "$CTL" >"$T/reload4.out" 2>&1 && st=0 || st=$?
moat_check_eq "a policy file not owned by root is refused" 1 "$st"
moat_check "with the reason" \
    grep -q "$POLICY/50-broken.conf: owned by uid $(id -u "$USER_NAME"), not by root" "$T/reload4.out"
moat_check "still the old settings: 127.0.0.1 logs in" login kept2
rm -f "$POLICY/50-broken.conf"

# --- policy.d wins over moatd.conf ---
set_param IpClientAddresses '+127.0.0.1'
moat_write_config "$POLICY/10-lock.conf" "IpClientAddresses=-127.0.0.1,+"
"$MOATCTL" reload -s "$CTL" >"$T/reload5.out" 2>&1 && st=0 || st=$?
moat_check_eq "a reload with a locked IpClientAddresses succeeds" 0 "$st"
"$MOATCTL" check -s "$CTL" >"$T/check5.out" 2>&1 || true
moat_check "the policy value is in force, from the policy file" \
    grep -q "^IpClientAddresses=-127.0.0.1,+  # from $POLICY/10-lock.conf:1\$" "$T/check5.out"
moat_check_fails "the policy value wins: 127.0.0.1 is refused" login locked
rm -f "$POLICY/10-lock.conf"
"$MOATCTL" reload -s "$CTL" >"$T/reload6.out" 2>&1 && st=0 || st=$?
moat_check_eq "without the policy file, the reload succeeds" 0 "$st"
moat_check "and moatd.conf's value is back: 127.0.0.1 logs in" login unlocked

# --- restart-only parameters keep their running value ---
NEWPORT=$(moat_free_port)
set_param ListenPort "$NEWPORT"
"$MOATCTL" reload -s "$CTL" >"$T/reload7.out" 2>&1 && st=0 || st=$?
moat_check_eq "a reload with another ListenPort succeeds" 0 "$st"
moat_check "and reports that it needs a restart" \
    grep -q 'needs a restart, running value kept: ListenPort' "$T/reload7.out"
moat_check "moatd still listens on the old port" moat_port_listens "$PORT"
moat_check_fails "not on the new one" moat_port_listens "$NEWPORT"
moat_check "viewers still log in on the old port" login oldport

moat_check "the session held since before the first reload is still up" moat_alive held
moat_check "and its monitor logged no disconnect" \
    sh -c "! grep -q 'disconnect: 127.0.0.1 port [0-9]* user \"$USER_NAME\".*by administrator' '$EVENTS'"

# The audit records (docs/audit.md; AuditFile's default, private to the test).
AUDIT=/var/log/moat/audit.jsonl
moat_check "audit: SIGHUP's reload and what changed" \
    grep -Eq '"event":"reload",.*"by":"SIGHUP","result":"ok","changed":"[^"]*IpClientAddresses' "$AUDIT"
moat_check "audit: a refused reload, with its reason" \
    grep -Eq '"event":"reload",.*"result":"failed","reason":"[^"]+' "$AUDIT"
moat_check "audit: the restart-only parameter kept" \
    grep -Eq '"event":"reload",.*"result":"ok",.*"kept":"ListenPort' "$AUDIT"
moat_check "audit: connections refused by IpClientAddresses" \
    grep -Eq '"event":"refuse",.*"reason":"ip_filter"' "$AUDIT"
moat_audit_verify --live
moat_test_end
