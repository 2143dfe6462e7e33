#!/usr/bin/env bash
#
# test.sh - installs what is missing, builds moat with warnings as errors and
# the self-test hooks, and runs every test (unit tests, fuzz corpus replays,
# end-to-end tests, the hardening check and the valgrind run) with ctest.
# Then, unless CTEST-ARGS select tests or MOAT_ASSURE=0, it runs
# tools/assure.sh: the sanitizer suite and short fuzzing runs, in their own
# build directories (SECURITY.md, "Assurance"). Exits 0 only if everything
# passed. The last lines printed are ctest's summary and then, when it ran,
# the assurance summary ("assure: passed: ..." or "assure: FAILED: ...").
#
# Runs as root on a developer's or CI machine (the end-to-end tests create
# users and namespaces). It trusts the source tree it belongs to.
#
#   tools/test.sh [CTEST-ARGS...]      e.g. tools/test.sh -R e2e/
#
# Environment: MOAT_BUILD_DIR (default ./build in the source tree; the
# assurance builds go beside it, in $MOAT_BUILD_DIR-asan and -fuzz),
# MOAT_CMAKE_ARGS (extra configure arguments, split on blanks), MOAT_ASSURE
# (0 skips tools/assure.sh), MOAT_FUZZ_SECONDS (per fuzz target, default 30).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=${MOAT_BUILD_DIR:-$src/build}
jobs=$(nproc)

# shellcheck source=tools/deps.sh
source "$here/deps.sh"
moat_deps_install all

# shellcheck disable=SC2086 # MOAT_CMAKE_ARGS is a list of words
cmake -S "$src" -B "$build" -DMOAT_WERROR=ON -DMOAT_SELFTEST=ON ${MOAT_CMAKE_ARGS:-}
cmake --build "$build" -j "$jobs"

# Tests without their own TIMEOUT get 300 s; the e2e tests set 600 s and
# RUN_SERIAL, so -j only runs unit tests and replays side by side.
log="$build/ctest.log"
rc=0
(cd "$build" && ctest --output-on-failure --no-tests=error --timeout 300 -j "$jobs" "$@") \
    2>&1 | tee "$log" || rc=$?
# ctest prints the failed tests and "Errors while running CTest" after its
# summary; the summary is repeated at the end.
summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1 || true)

# The assurance runs (a few minutes): only for a full run.
assured=""
if (($# == 0)) && [[ "${MOAT_ASSURE:-1}" != 0 ]]; then
	alog="$build/assure.log"
	arc=0
	MOAT_BUILD_DIR=$build bash "$here/assure.sh" 2>&1 | tee "$alog" || arc=$?
	assured=$(tail -n 1 "$alog")
	((arc == 0)) || rc=1
fi

if [[ -n "$summary" && ( -n "$assured" || "$(tail -n 1 "$log")" != "$summary" ) ]]; then
	printf '%s\n' "$summary"
fi
[[ -z "$assured" ]] || printf '%s\n' "$assured"
exit "$rc"
