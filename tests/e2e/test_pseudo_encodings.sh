#!/bin/bash
# moat-net's pseudo-encodings on the wire (tests/tools/rfb_pseudo.py plays
# the viewer): LastRect, DesktopName, the QEMU extended key event
# confirmation and key events (typed into an xterm on the served display),
# Fence (echo, SyncNext), ContinuousUpdates with fence flow control, and
# ExtendedClipboard both ways (Peek, Notify, Request, Provide) up to a zip
# bomb, which closes the connection. TigerVNC, gtk-vnc and noVNC cover the
# same paths with real decoders (test_tigervnc.sh, test_novnc.sh); this
# test pins the details a real viewer tolerates.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start MaxCutText=100000
moat_start_typer typer
DESKTOP_CLIP="desktop-$$ caf$(printf '\xc3\xa9')"
CLIP="probe-$$ na$(printf '\xc3\xaf')ve"

moat_bg pseudo python3 "$MOAT_SOURCE_DIR/tests/tools/rfb_pseudo.py" \
    --port "$PORT" --ca "$CA" --user "$USER_NAME" --password "$USER_PASS" \
    --type qemu --clip "$CLIP" --desktop-clip "$DESKTOP_CLIP" \
    --max-cut-text 100000
moat_wait_log pseudo "waiting for the desktop clipboard" 60
printf '%s' "$DESKTOP_CLIP" | moat_x "$SERVED" xclip -selection clipboard -i
moat_wait_exit pseudo 60
sed 's/^/  rfb_pseudo: /' "$(moat_logfile pseudo)"
moat_check_eq "every wire check of rfb_pseudo.py passed" 0 "$MOAT_LAST_STATUS"
moat_check "QEMU extended key events typed into the xterm" \
    moat_wait -m "typed text" moat_typed_is typer qemu
served_clip_is()
{
	[ "$(moat_x "$SERVED" xclip -o -selection clipboard 2>/dev/null)" = "$CLIP" ]
}
moat_check "the viewer's Provide reached the served desktop's clipboard" \
    moat_wait -m "clipboard on the served desktop" served_clip_is
moat_check "moat-net logged continuous updates" \
    grep -q "continuous updates on for" "$EVENTS"
moat_check "the zip bomb was refused as too long" \
    grep -q "extended clipboard message refused: " "$EVENTS"

# --- the audit records (docs/audit.md) ---
moat_check "audit: the probe's login" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Plain"' "$MOAT_AUDIT"
moat_check "audit: the zip bomb closed the session as a protocol violation (moat-net's closing notice: bytes known)" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"closed","reason":"protocol violation - length exceeds limit","duration_ms":[0-9]+,"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_audit_verify --live

moat_test_end
