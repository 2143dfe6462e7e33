#!/bin/bash
# Flow control in moat-net (docs/encodings.md, "Memory bounds"): a viewer
# (tests/tools/rfb_stall.py) with a tiny receive buffer asks for Raw
# full-screen updates a thousand times and never reads. Its moat-net's
# memory stays under the bound computed from the screen size (the mapped
# framebuffer plus one encoded update, over what it used once logged in),
# requests are coalesced rather than queued, other viewers keep logging in
# and getting frames meanwhile, and after the stall limit (30 s without a
# byte taken) moat-net ends the connection: the monitor logs "viewer
# stalled" and the audit file has a disconnect record of kind "stalled".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
[[ -z "$(moat_net_pids)" ]] || moat_fail "a moat-net runs before any viewer"

moat_bg stall python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_stall.py" \
    --port "$PORT" --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" \
    --go "$T/go" --requests 1000 --max-wait 180
moat_wait_log stall "^logged in" 60
read -r _ W H < <(grep '^size ' "$(moat_logfile stall)")
mapfile -t pids < <(moat_net_pids)
moat_check_eq "one moat-net runs: the stalled viewer's" 1 "${#pids[@]}"
NET=${pids[0]}

# kB of field F (VmRSS, VmHWM) of process $NET; empty once it has gone.
vm()
{
	sed -n "s/^$1:[[:space:]]*\([0-9]*\) kB$/\1/p" "/proc/$NET/status" 2>/dev/null || true
}
rss0=$(vm VmRSS)
hwm0=$(vm VmHWM)
[[ -n "$rss0" && -n "$hwm0" ]] || moat_fail "cannot read moat-net's memory"
# The bound: what it held once logged in, plus the mapped framebuffer and
# one Raw update at 32 bpp (the screen's bytes, 4 + 12 bytes of headers)
# in the output buffer, plus 2 MiB for the encoder's and IPC's buffers.
fb_kb=$(((W * H * 4 + 1023) / 1024))
base=$((rss0 > hwm0 ? rss0 : hwm0))
bound=$((base + 2 * fb_kb + 2048))
moat_log "screen ${W}x${H}: baseline ${base} kB, bound ${bound} kB"

: >"$T/go"
moat_wait_log stall "^stalled" 60
moat_check "moat-net waits in a write to the stalled viewer" \
    moat_wait_log "$EVENTS" "moat-net\[$NET\] .*the viewer's socket is full; waiting to write" 30

# Other viewers are unaffected while that moat-net waits for its viewer.
for i in 1 2 3; do
	moat_viewer_login "other-$i" 0 "$USER_PASS" --encoding raw
	moat_check "other viewer $i got a frame of the served screen" \
	    test -s "$T/other-$i.png"
done
moat_check "the stalled viewer's moat-net still runs meanwhile" \
    moat_pid_alive "$NET"

# Sample its memory until it ends (VmHWM keeps the peak in between).
peak_rss=$rss0
peak_hwm=$hwm0
deadline=$((SECONDS + 120))
while moat_pid_alive "$NET" && ((SECONDS < deadline)); do
	r=$(vm VmRSS)
	h=$(vm VmHWM)
	[[ -n "$r" ]] && ((r > peak_rss)) && peak_rss=$r
	[[ -n "$h" ]] && ((h > peak_hwm)) && peak_hwm=$h
	sleep 0.2
done
moat_log "moat-net peak: VmRSS ${peak_rss} kB, VmHWM ${peak_hwm} kB"
moat_check "moat-net's VmRSS stayed under ${bound} kB (peak ${peak_rss})" \
    test "$peak_rss" -le "$bound"
moat_check "moat-net's VmHWM stayed under ${bound} kB (peak ${peak_hwm})" \
    test "$peak_hwm" -le "$bound"
moat_check "the stalled viewer's moat-net ended" \
    moat_wait -t 5 -m "moat-net $NET to end" bash -c "! kill -0 $NET 2>/dev/null"

moat_wait_exit stall 60
sed 's/^/  rfb_stall: /' "$(moat_logfile stall)"
moat_check_eq "the server closed the stalled connection" 0 "$MOAT_LAST_STATUS"
secs=$(sed -n 's/^closed after \([0-9]*\) s.*/\1/p' "$(moat_logfile stall)")
moat_check "it closed after the stall limit of 30 s, not before (${secs:-?} s)" \
    test "${secs:-0}" -ge 29 -a "${secs:-0}" -le 90
moat_check "moat-net said why" \
    grep -q "the viewer took no data for 30 s; disconnecting it" "$EVENTS"
moat_check "the monitor logged the disconnect as a stall" \
    grep -Eq "disconnect: .*: viewer stalled - the viewer stopped reading" "$EVENTS"
moat_check "the audit file has a disconnect record of kind stalled" \
    grep -Eq '"event":"disconnect",.*"kind":"stalled","reason":"viewer stalled' "$MOAT_AUDIT"
moat_check "the monitor got moat-net's closing notice (no crash, no kill)" \
    bash -c "! grep -Eq 'moat-net killed by signal|without a closing notice' '$EVENTS'"

# --- moatctl disconnect while moat-net waits for a stalled viewer ---
CTL=$T/run/control.sock
moat_bg stall2 python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_stall.py" \
    --port "$PORT" --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" \
    --go "$T/go2" --requests 1000 --max-wait 180
moat_wait_log stall2 "^logged in" 60
listed()
{
	"$(moat_bin moatctl)" sessions -s "$CTL" | grep " $USER_NAME "
}
moat_wait -m "the session listed" listed
id=$(listed | awk '{print $1}')
: >"$T/go2"
moat_wait_log stall2 "^stalled" 60
NET2=$(moat_net_pids)
moat_check "the second one's moat-net waits in a write" \
    moat_wait_log "$EVENTS" "moat-net\[$NET2\] .*the viewer's socket is full; waiting to write" 30
start=$SECONDS
"$(moat_bin moatctl)" disconnect -s "$CTL" "$id" >"$T/disc.out" 2>&1 && st=0 || st=$?
moat_check_eq "moatctl disconnect $id succeeds" 0 "$st"
moat_check "the monitor ends the stalled session at once" \
    moat_wait_log "$EVENTS" "disconnect: .*: disconnected by administrator \(uid 0, moatctl\)" 10
moat_check "well before the stall limit ($((SECONDS - start)) s)" \
    test $((SECONDS - start)) -lt 20
moat_wait_exit stall2 60
sed 's/^/  rfb_stall2: /' "$(moat_logfile stall2)"
moat_check_eq "the second stalled viewer's connection was closed" 0 "$MOAT_LAST_STATUS"
moat_check "its moat-net ended by itself (not killed)" \
    bash -c "! grep -Eq 'moat-net\[[0-9]+\] for .* was killed by signal' '$EVENTS'"
moat_audit_verify --live

moat_test_end
