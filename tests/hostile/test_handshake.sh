#!/bin/bash
# Every step of the handshake refuses what it must and accepts what it may.
#  - ProtocolVersion: RFB 3.3 and 3.7 (and 3.0, 3.5, which map to 3.3) get a
#    refusal reason; garbage versions ("RFB 004.000", "RFB 003.00a", twelve
#    zero bytes, HTTP, a TLS record, ...) are closed without another byte;
#    3.889 is served as 3.8.
#  - Security types not offered by default (0, 1, 2, 6, 13, 16, 18, 30, 130,
#    133, 255) get a failed SecurityResult and a close; VeNCrypt 0.0, 0.1, 0.3, 1.2, 2.0, 255.255
#    get ack 255; subtypes not offered (0, 1, 2, 256-261, 263, 264,
#    0x7FFFFFFF, 0xFFFFFFFF) are closed without an ack.
#  - TLS: a TLS 1.2-only hello gets an alert; garbage, SSLv2 and oversized
#    records and credentials in clear are closed.
#  - Plain: ulen 0, 255 (maximum: answered), 256, 0xFFFFFFFF; plen 0 and 1023
#    (answered), 1024, 0xFFFFFFFF; both maximum (answered); NULs; right and
#    wrong passwords; credentials pipelined with ClientInit and messages.
# For each case: the server closes within a bound, the monitor logs the
# disconnect of the moat-net that served it, which died of no signal.
# Around the suite: an established session survives and stays served, a
# well-behaved login works at the end, moatd's and moat-session's memory
# stays flat, and deliberately wrong expectations are reported as failures.
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
hostile_suite handshake
hostile_selfcheck
hostile_finish "$HOSTILE_SELFCHECK_KILLS"
moat_test_end
