#!/bin/bash
# Binary hardening of the three programs, as Debian's checksec (package
# checksec) reads it from the ELF files: full RELRO, PIE, a stack protector,
# FORTIFY_SOURCE (fortified libc calls present), NX (no executable stack),
# and no RPATH or RUNPATH. The control is a small program built here without
# any of these: checksec must find every one of them missing, so the checks
# can tell the difference.
#
# Runs as root under ctest (MOAT_BUILD_DIR set); needs checksec and cc.
# Trusts the build directory it is given.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
moat_test_begin "$@"

command -v checksec >/dev/null || moat_fail "checksec is not installed (tools/deps.sh)"

# Prints checksec's verdicts for FILE as KEY=VALUE lines, sorted.
verdicts()
{
	checksec --output=json --file="$1" | python3 -c '
import json, sys
for props in json.load(sys.stdin).values():
    for k in sorted(props):
        print("%s=%s" % (k, props[k]))'
}

check_hardened()	# NAME
{
	local bin v
	bin=$(moat_bin "$1")
	v=$(verdicts "$bin") || moat_fail "checksec cannot read $bin"
	moat_check_eq "$1: full RELRO" relro=full "$(grep '^relro=' <<<"$v")"
	moat_check_eq "$1: PIE" pie=yes "$(grep '^pie=' <<<"$v")"
	moat_check_eq "$1: stack protector" canary=yes "$(grep '^canary=' <<<"$v")"
	moat_check_eq "$1: FORTIFY_SOURCE" fortify_source=yes \
	    "$(grep '^fortify_source=' <<<"$v")"
	moat_check_eq "$1: NX" nx=yes "$(grep '^nx=' <<<"$v")"
	moat_check_eq "$1: no RPATH" rpath=no "$(grep '^rpath=' <<<"$v")"
	moat_check_eq "$1: no RUNPATH" runpath=no "$(grep '^runpath=' <<<"$v")"
}

check_hardened moatd
check_hardened moat-net
check_hardened moat-session

# The control: everything switched off. It calls a fortifiable function
# (memcpy to a stack buffer), so only the missing flag can explain a "no".
cat > "$T/weak.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int
main(int argc, char **argv)
{
	char b[16];

	memcpy(b, argv[0], strlen(argv[0]) < sizeof(b) ? strlen(argv[0]) : 0);
	b[argc % sizeof(b)] = '\0';
	puts(b);
	return 0;
}
EOF
cc -O2 -U_FORTIFY_SOURCE -fno-stack-protector -no-pie -fno-pie \
    -Wl,-z,norelro -Wl,-z,lazy -Wl,-z,execstack -Wl,-rpath,/nonexistent \
    -Wl,--disable-new-dtags -o "$T/weak" "$T/weak.c" ||
    moat_fail "cannot build the control program"
v=$(verdicts "$T/weak")
moat_check_eq "control: no RELRO found" relro=no "$(grep '^relro=' <<<"$v")"
moat_check_eq "control: no PIE found" pie=no "$(grep '^pie=' <<<"$v")"
moat_check_eq "control: no stack protector found" canary=no "$(grep '^canary=' <<<"$v")"
moat_check_eq "control: no FORTIFY_SOURCE found" fortify_source=no \
    "$(grep '^fortify_source=' <<<"$v")"
moat_check_eq "control: executable stack found" nx=no "$(grep '^nx=' <<<"$v")"
moat_check_eq "control: RPATH found" rpath=yes "$(grep '^rpath=' <<<"$v")"

moat_test_end
