#!/bin/bash
# CopyRect with a real viewer: while an xterm scrolls and is moved on the
# served display, moat-net sends CopyRect rectangles for the shifted pixels,
# and TigerVNC's viewer ends up showing exactly the served screen.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"
. "$MOAT_E2E_DIR/server.sh"

moat_server_start
moat_start_xvfb VIEWER 1024x768
moat_bg viewer --x "$VIEWER" HOME="$T" VNC_USERNAME="$USER_NAME" \
    VNC_PASSWORD="$USER_PASS" xtigervncviewer -SecurityTypes X509Plain \
    -X509CA "$CA" -X509CRL= -ReconnectOnError=0 -AlertOnFatalError=0 \
    -Log '*:stderr:30' "127.0.0.1::$PORT"
pattern_in_viewer()
{
	moat_screenshot "$VIEWER" "$T/viewer.png" &&
	    [ "$(moat_count_colour "$T/viewer.png" "$MOAT_PATTERN_FG")" -eq \
	    $((MOAT_PATTERN_W * MOAT_PATTERN_H)) ]
}
moat_wait -m "pattern in the viewer" pattern_in_viewer
read -r px py _ _ < <(moat_find_rect "$T/viewer.png" "$MOAT_PATTERN_FG")
ox=$((px - MOAT_PATTERN_X))
oy=$((py - MOAT_PATTERN_Y))

moat_scroll_and_move 300 "60 170" "90 190" "130 210" "170 200" "200 180"

same()
{
	moat_screenshot "$SERVED" "$T/served.png" &&
	moat_screenshot "$VIEWER" "$T/viewer2.png" &&
	convert "$T/viewer2.png" -crop "800x600+$ox+$oy" +repage "PNG24:$T/viewer2c.png" &&
	[ "$(moat_img diff "$T/served.png" "$T/viewer2c.png")" = 0 ]
}
moat_check "the viewer shows exactly the served screen after scrolling and moving" \
    moat_wait -m "identical screens" same
moat_check "moat-net sent CopyRect rectangles" \
    grep -Eq "update: [1-9][0-9]* CopyRect of" "$(moat_logfile moatd)"

# --- the audit records (docs/audit.md) ---
moat_check "audit: TigerVNC's login over X509Plain" \
    grep -Eq '"event":"login",.*"user":"'"$USER_NAME"'","result":"success","permissions":"vkpcs",.*"security_type":"VeNCrypt X509Plain"' "$MOAT_AUDIT"
moat_stop viewer
moat_check "audit: closing the viewer is a viewer disconnect with its byte counts" \
    moat_wait grep -Eq '"event":"disconnect",.*"user":"'"$USER_NAME"'","kind":"viewer","reason":"viewer disconnected[^"]*","duration_ms":[1-9][0-9]*,"bytes_in":[1-9][0-9]*,"bytes_out":[1-9][0-9]*,"recorded_by":"monitor"' "$MOAT_AUDIT"
moat_audit_verify --live
moat_test_end
