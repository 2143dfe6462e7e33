#!/bin/bash
# Every client message type, at its bounds, after login.
#  - ClientCutText 0 and 262144 bytes (MaxCutText: accepted, also in pieces),
#    262145, 0xFFFFFFFF and the extended forms (closed); SetEncodings 0 and
#    1024 entries (accepted), 1025 and 0xFFFF (closed); ClientFence 0 and 64
#    bytes (accepted), 65 and 0xFF (closed); SetDesktopSize 0 and 16 screens
#    (answered "prohibited" with an ExtendedDesktopSize rectangle), 17 and
#    0xFF (closed).
#  - Unknown message types (1, 7, 77, 127, 128, 200, 249, 254 and others),
#    EnableContinuousUpdates (not offered), QEMU subtypes other than 0, and
#    invalid pixel formats close the viewer; valid 8, 16 and 32 bpp formats,
#    extreme key, pointer and update-request values, a message sent one byte
#    per record and 2000 pipelined messages are served; a message cut short
#    by EOF ends the connection cleanly.
# "Accepted" means the viewer is still served the right pixels afterwards.
# For each case: closes happen within a bound, the monitor logs the
# disconnect and the reason, no moat-net dies of a signal. Around the suite:
# an established session survives and stays served, a well-behaved login
# works at the end, moatd's and moat-session's memory stays flat.
# shellcheck disable=SC2119 # hostile_start/hostile_finish take optional arguments
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/../e2e/lib.sh"
moat_test_begin "$@"
# shellcheck source=tests/hostile/hostile.sh
. "$(dirname "$0")/hostile.sh"

hostile_start
hostile_suite warmup
hostile_mem_begin
hostile_suite messages
hostile_finish
moat_test_end
