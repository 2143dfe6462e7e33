#!/bin/bash
# Viewers that go away at every step are cleaned up.
#  - Pre-TLS: the viewer stops after each of the 0..19 bytes it sends before
#    TLS, three ways: half-close (the server must close on its own), close,
#    and reset; and a reset before reading the server's version.
#  - TLS handshake: after 1 and 5 bytes, half and all but one byte of the
#    ClientHello, the whole ClientHello, part of the server's flight, the
#    whole flight without the client Finished, half the Finished.
#  - Credentials: after 0, 1, 4, 7, 8 bytes, half the user name, the user
#    name, one byte more, all but the last byte, byte-per-record, a partial
#    TLS record, and a TLS close_notify in the middle.
#  - After login: before reading the SecurityResult, before ClientInit,
#    before ServerInit.
# For each case: the moat-net that served it exits (the monitor logs the
# disconnect) and dies of no signal. Around the suite: an established
# session survives and stays served, a well-behaved login works at the end,
# moatd's and moat-session's memory stays flat.
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
hostile_suite abort
hostile_finish
moat_test_end
