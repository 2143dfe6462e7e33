#!/usr/bin/env bash
#
# assure.sh - the security-assurance runs that tools/test.sh adds to CI after
# the normal build and ctest:
#
#   sanitize  clang build with AddressSanitizer + UBSan (-DMOAT_SANITIZE=ON,
#             every UBSan finding fatal); every unit test and fuzz-corpus
#             replay, then the end-to-end tests with moatd, moat-session and
#             the test tools from that build and moat-net from the normal
#             build (ASan cannot run inside moat-net's sandbox: see
#             SECURITY.md, "Assurance"). LeakSanitizer is on. Any sanitizer
#             report from any process fails the run.
#   fuzz      libFuzzer build (-DMOAT_FUZZ=ON); each target runs
#             MOAT_FUZZ_SECONDS (default 30) over a copy of its corpus, with
#             its dictionary; any crash, leak, timeout or out-of-memory fails
#             the run. Prints executions per second and coverage per target.
#
# The hardening check and the valgrind run are ordinary ctest tests
# (tests/e2e/test_hardening.sh, test_valgrind.sh) of the normal pass.
#
# Runs as root (the end-to-end tests need it) on a developer's or CI machine,
# after tools/deps.sh. It trusts the source tree it belongs to.
#
#   tools/assure.sh [sanitize] [fuzz]      (default: both)
#
# Environment: MOAT_BUILD_DIR (the normal build, default ./build; its moat-net
# is used), MOAT_ASAN_BUILD_DIR (default $MOAT_BUILD_DIR-asan),
# MOAT_FUZZ_BUILD_DIR (default $MOAT_BUILD_DIR-fuzz), MOAT_FUZZ_SECONDS.
# The last line printed is a one-line summary; the exit status is 0 only if
# every part passed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=${MOAT_BUILD_DIR:-$src/build}
asan=${MOAT_ASAN_BUILD_DIR:-$build-asan}
fuzzb=${MOAT_FUZZ_BUILD_DIR:-$build-fuzz}
secs=${MOAT_FUZZ_SECONDS:-30}
jobs=$(nproc)
parts=("$@")
((${#parts[@]} > 0)) || parts=(sanitize fuzz)
summary=()
failed=0

say() { printf 'assure: %s\n' "$*"; }

# Tests that cannot or need not run in the sanitizer build (SECURITY.md):
# test_sandbox enters moat-net's sandbox in-process, whose 1 GiB RLIMIT_AS
# and seccomp filter (no MAP_FIXED) ASan's runtime cannot live in;
# test_lib_smoke runs no moat program; test_hardening checks the production
# flags; valgrind cannot run ASan programs.
ASAN_SKIP='^unit/test_sandbox$'
E2E_SKIP='^(test_lib_smoke|test_hardening|test_valgrind)$'

# ---- sanitizer suite ---------------------------------------------------------

# Prints every sanitizer report in DIR and sets nreports to their number;
# returns 1 if there is any.
reports_clean()
{
	local dir=$1 f
	nreports=0
	for f in "$dir"/report.*; do
		[[ -e "$f" ]] || continue
		nreports=$((nreports + 1))
		printf '\n---- sanitizer report %s ----\n' "$f"
		cat "$f"
	done
	((nreports == 0))
}

run_sanitize()
{
	local reports mixed t name rc ok=0 bad=0 skipped=0 start log nreports=0
	local -a tests failed_e2e=()

	say "sanitizer build in $asan (clang, ASan + UBSan)"
	cmake -S "$src" -B "$asan" -DCMAKE_C_COMPILER=clang -DMOAT_WERROR=ON \
	    -DMOAT_SELFTEST=ON -DMOAT_SANITIZE=ON >"$asan.configure.log" 2>&1 ||
	    { cat "$asan.configure.log"; return 1; }
	cmake --build "$asan" -j "$jobs" || return 1
	# The normal build's moat-net, current with this tree (a no-op after
	# tools/test.sh's build).
	if [[ ! -f "$build/CMakeCache.txt" ]]; then
		cmake -S "$src" -B "$build" -DMOAT_WERROR=ON -DMOAT_SELFTEST=ON \
		    >"$asan.configure.log" 2>&1 ||
		    { cat "$asan.configure.log"; return 1; }
	fi
	cmake --build "$build" -j "$jobs" --target moat-net || return 1

	# Every sanitized process, whoever it runs as, writes its report to a
	# file here; the end-to-end library passes these variables on to
	# programs run as test users.
	reports=$(mktemp -d /tmp/moat-sanitizer.XXXXXXXX)
	chmod 1777 "$reports"
	install -m 0644 "$src/tools/lsan.supp" "$reports/lsan.supp"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1:log_path=$reports/report"
	export LSAN_OPTIONS="suppressions=$reports/lsan.supp:print_suppressions=0"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/report"

	say "sanitizer suite: unit tests and fuzz-corpus replays"
	rc=0
	(cd "$asan" && ctest --output-on-failure --no-tests=error --timeout 300 \
	    -j "$jobs" -E "^(e2e|hostile)/|$ASAN_SKIP") 2>&1 |
	    tee "$asan/ctest.log" || rc=$?
	local unit
	unit=$(grep -E '^[0-9]+% tests passed' "$asan/ctest.log" | tail -n 1 || true)

	# The end-to-end tests: this build's programs beside the normal
	# build's moat-net, where moatd looks for it.
	mixed=$asan/e2e-bin
	rm -rf "$mixed"
	mkdir -p "$mixed" "$asan/e2e-logs"
	find "$asan" -maxdepth 1 -type f -perm -u+x -exec cp -p {} "$mixed/" \;
	# Test programs some e2e tests run (e.g. test_audit_cli's writer).
	mkdir -p "$mixed/tests"
	find "$asan/tests" -maxdepth 1 -type f -perm -u+x -exec cp -p {} "$mixed/tests/" \;
	cp -p "$build/moat-net" "$mixed/moat-net"
	tests=("$src"/tests/e2e/test_*.sh "$src"/tests/hostile/test_*.sh)
	for t in "${tests[@]}"; do
		[[ -e "$t" ]] || continue
		name=$(basename "$t" .sh)
		if [[ "$name" =~ $E2E_SKIP ]]; then
			skipped=$((skipped + 1))
			continue
		fi
		log=$asan/e2e-logs/$(basename "$(dirname "$t")")-$name.log
		start=$SECONDS
		if MOAT_BUILD_DIR=$mixed MOAT_SOURCE_DIR=$src timeout 600 \
		    bash "$t" >"$log" 2>&1; then
			ok=$((ok + 1))
			say "sanitizer e2e: $name passed ($((SECONDS - start)) s)"
		else
			bad=$((bad + 1))
			failed_e2e+=("$name")
			say "sanitizer e2e: $name FAILED ($((SECONDS - start)) s), last lines of $log:"
			tail -n 40 "$log" | sed 's/^/    | /'
		fi
	done
	unset ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

	if ! reports_clean "$reports"; then
		say "sanitizer reports above (also in $reports)"
		rc=1
	else
		rm -rf "$reports"
	fi
	((bad == 0)) || rc=1
	summary+=("sanitizer: ${unit:-no ctest summary}; e2e $ok passed, $bad failed${failed_e2e[*]:+ (${failed_e2e[*]})}, $skipped not applicable; $nreports sanitizer reports")
	return "$rc"
}

# ---- fuzzing -----------------------------------------------------------------

# Runs one target; writes its verdict to $fuzzb/run/NAME/verdict.
fuzz_one()
{
	local name=$1 bin=$fuzzb/fuzz/fuzz_$1 work=$fuzzb/run/$1 dict="" rc=0
	local -a args
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/artifacts"
	# A copy: the repository's corpus is never written by CI.
	cp -rp "$src/fuzz/corpus/$name/." "$work/corpus/"
	if [[ -f "$src/fuzz/$name.dict" ]]; then
		dict=$src/fuzz/$name.dict
	elif [[ -f "$src/fuzz/${name%%_*}.dict" ]]; then
		dict=$src/fuzz/${name%%_*}.dict
	fi
	args=(-max_total_time="$secs" -timeout=25 -rss_limit_mb=2048
	    -print_final_stats=1 -artifact_prefix="$work/artifacts/")
	[[ -z "$dict" ]] || args+=(-dict="$dict")
	ASAN_OPTIONS=detect_leaks=1 "$bin" "${args[@]}" "$work/corpus" \
	    >"$work/fuzz.log" 2>&1 || rc=$?
	printf '%s %s %s\n' "$rc" "$(find "$work/artifacts" -type f | wc -l)" \
	    "${dict##*/}" >"$work/verdict"
}

run_fuzz()
{
	local name rc arts dict line n runs stats bad=0 total=0
	local -a names=()

	for f in "$src"/fuzz/fuzz_*.c; do
		name=$(basename "$f" .c)
		names+=("${name#fuzz_}")
	done
	say "libFuzzer build in $fuzzb (clang, ASan + UBSan)"
	cmake -S "$src" -B "$fuzzb" -DCMAKE_C_COMPILER=clang -DMOAT_WERROR=ON \
	    -DMOAT_SELFTEST=ON -DMOAT_FUZZ=ON >"$fuzzb.configure.log" 2>&1 ||
	    { cat "$fuzzb.configure.log"; return 1; }
	# Only the fuzz targets: the programs and tests are built and run
	# by the sanitizer suite above.
	cmake --build "$fuzzb" -j "$jobs" --target "${names[@]/#/fuzz_}" ||
	    return 1
	say "fuzzing ${#names[@]} targets for $secs s each, $jobs at a time"
	for name in "${names[@]}"; do
		while (($(jobs -rp | wc -l) >= jobs)); do
			wait -n || true
		done
		fuzz_one "$name" &
	done
	wait

	for name in "${names[@]}"; do
		total=$((total + 1))
		read -r rc arts dict <"$fuzzb/run/$name/verdict" || rc=x
		line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$fuzzb/run/$name/fuzz.log" | tail -n 1 || true)
		n=$(find "$fuzzb/run/$name/corpus" -type f | wc -l)
		runs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$line")
		stats=$(grep -oE '(cov|ft|exec/s): [0-9]+' <<<"$line" | tr '\n' ' ' || true)
		if [[ "$rc" == 0 && "$arts" == 0 && -n "$line" ]]; then
			say "fuzz $name: ok, ${runs:-?} runs, ${stats}corpus $n files${dict:+, dictionary $dict}"
		else
			bad=$((bad + 1))
			say "fuzz $name: FAILED (status $rc, $arts artifacts), last lines of $fuzzb/run/$name/fuzz.log:"
			tail -n 60 "$fuzzb/run/$name/fuzz.log" | sed 's/^/    | /'
			for a in "$fuzzb/run/$name/artifacts"/*; do
				[[ -f "$a" ]] || continue
				say "input $a (reproduce: $fuzzb/fuzz/fuzz_$name $a):"
				od -A x -t x1z -v "$a" | head -n 64 | sed 's/^/    | /'
			done
		fi
	done
	summary+=("fuzz: $((total - bad)) of $total targets clean after $secs s each")
	((bad == 0))
}

for part in "${parts[@]}"; do
	case "$part" in
	sanitize) run_sanitize || failed=1 ;;
	fuzz) run_fuzz || failed=1 ;;
	*)
		printf 'assure.sh: unknown part "%s" (sanitize, fuzz)\n' "$part" >&2
		exit 2
		;;
	esac
done
joined=$(printf ' | %s' "${summary[@]}")
if ((failed)); then
	say "FAILED:${joined# |}"
else
	say "passed:${joined# |}"
fi
exit "$failed"
