# shellcheck shell=bash
# Functions and variables here are used by the tests that source the file:
# shellcheck disable=SC2034,SC2119,SC2120
#
# lib.sh - shared library of moat's end-to-end tests (tests/e2e/test_*.sh).
#
# Runs in the test harness as root, outside every moat process. It trusts the
# host it runs on and the binaries in $MOAT_BUILD_DIR; it trusts nothing a moat
# process prints (every wait is bounded and every check is exact).
#
# A test sources this file and calls `moat_test_begin "$@"` first. That
# re-executes the test inside private mount and PID namespaces (unshare), where
#   - /etc is an overlayfs whose upper layer is a tmpfs: users, groups and PAM
#     services the test creates never reach the host's /etc;
#   - /tmp/.X11-unix is a private tmpfs, so X sockets are private;
#   - the test script is PID 1, so every process it leaves behind is killed by
#     the kernel when it exits, even if its own cleanup could not run.
# $T is the test's scratch directory (root-owned, 0755); it is removed on exit.
# Every process started through the library is tracked by process group and
# stopped on exit (TERM, then KILL after a bounded wait).
#
# See tests/e2e/README.md for the function reference and an example.

if [[ -n "${_MOAT_E2E_LIB_LOADED:-}" ]]; then
	return 0
fi
_MOAT_E2E_LIB_LOADED=1

MOAT_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${MOAT_SOURCE_DIR:=$(cd "$MOAT_E2E_DIR/../.." && pwd)}"
: "${MOAT_BUILD_DIR:=$MOAT_SOURCE_DIR/build}"
: "${MOAT_WAIT_TIMEOUT:=30}"		# default bound of every moat_wait*, seconds
: "${MOAT_STOP_TIMEOUT:=5}"		# TERM -> KILL grace period, seconds
export MOAT_SOURCE_DIR MOAT_BUILD_DIR

MOAT_IMGCHECK="$MOAT_SOURCE_DIR/tests/tools/imgcheck.py"

# The pattern moat_draw_pattern draws by default.
MOAT_PATTERN_BG='#1a2b3c'
MOAT_PATTERN_FG='#f0c000'
MOAT_PATTERN_X=100
MOAT_PATTERN_Y=100
MOAT_PATTERN_W=200
MOAT_PATTERN_H=100

case ":$PATH:" in
*:/usr/sbin:*) ;;
*) PATH="/usr/local/sbin:/usr/sbin:/sbin:$PATH" ;;
esac

T=""				# scratch directory, set by moat_test_begin
declare -A _MOAT_PID=()		# name -> pid (== its process group id)
declare -A _MOAT_REAPED=()	# name -> "status=N" once its exit status is collected
_MOAT_ORDER=()			# names in start order
_MOAT_EXIT_HOOKS=()		# code strings run first on exit
_MOAT_PASSED=0
_MOAT_FAILED=0
_MOAT_ENDED=0
_MOAT_ETC_PRIVATE=0		# 1 once /etc is the namespace's overlay
MOAT_LAST_STATUS=""		# exit status of the last moat_stop/moat_wait_exit

# ---- messages --------------------------------------------------------------

# Prints a progress line on stderr; always returns 0.
moat_log()
{
	printf '[e2e %s] %s\n' "$(date +%T)" "$*" >&2
}

# Prints the last lines of every log of a process started by the library.
moat_dump_logs()
{
	local name f
	[[ -n "$T" ]] || return 0
	for name in "${_MOAT_ORDER[@]}"; do
		f="$T/$name.log"
		[[ -s "$f" ]] || continue
		printf -- '---- %s (last 40 lines) ----\n' "$f" >&2
		tail -n 40 "$f" >&2 || true
	done
	return 0
}

# Prints "FAIL: MSG" and the logs, then exits 1 (the EXIT trap cleans up).
moat_fail()
{
	printf 'FAIL: %s\n' "$*" >&2
	moat_dump_logs
	exit 1
}

# ---- checks and summary ----------------------------------------------------

# Runs CMD (its output kept aside, the end shown only when the check fails); prints
# "ok - DESC" or "FAIL - DESC" and counts the result. Returns 0 either way,
# so a test goes on and reports every check.
moat_check()
{
	local desc=$1 rc=0 out
	shift
	# Not in a subshell: CMD may set variables or wait for children.
	"$@" >"$T/.check.out" 2>&1 || rc=$?
	out=$(tail -n 20 "$T/.check.out")
	if ((rc == 0)); then
		_MOAT_PASSED=$((_MOAT_PASSED + 1))
		printf 'ok - %s\n' "$desc"
	else
		_MOAT_FAILED=$((_MOAT_FAILED + 1))
		printf 'FAIL - %s (exit status %d of: %s)\n' "$desc" "$rc" "$*"
		[[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/    | /'
	fi
	return 0
}

# Like moat_check, but CMD must fail (exit status non-zero).
moat_check_fails()
{
	local desc=$1 rc=0 out
	shift
	# Not in a subshell: CMD may set variables or wait for children.
	"$@" >"$T/.check.out" 2>&1 || rc=$?
	out=$(tail -n 20 "$T/.check.out")
	if ((rc != 0)); then
		_MOAT_PASSED=$((_MOAT_PASSED + 1))
		printf 'ok - %s\n' "$desc"
	else
		_MOAT_FAILED=$((_MOAT_FAILED + 1))
		printf 'FAIL - %s (succeeded, expected a failure: %s)\n' "$desc" "$*"
		[[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/    | /'
	fi
	return 0
}

# Checks that ACTUAL equals EXPECTED (strings).
moat_check_eq()
{
	local desc=$1 expected=$2 actual=$3
	if [[ "$expected" == "$actual" ]]; then
		_MOAT_PASSED=$((_MOAT_PASSED + 1))
		printf 'ok - %s\n' "$desc"
	else
		_MOAT_FAILED=$((_MOAT_FAILED + 1))
		printf 'FAIL - %s (expected "%s", got "%s")\n' "$desc" "$expected" "$actual"
	fi
	return 0
}

# Prints "N passed, M failed" and exits: 0 when nothing failed, else 1.
moat_test_end()
{
	_MOAT_ENDED=1
	printf '%d passed, %d failed\n' "$_MOAT_PASSED" "$_MOAT_FAILED"
	if ((_MOAT_FAILED > 0)); then
		moat_dump_logs
		exit 1
	fi
	exit 0
}

# ---- set-up: namespaces, scratch directory, cleanup ------------------------

_moat_in_ns()
{
	[[ "${MOAT_E2E_INNER:-}" == "$$" && -n "$T" && "$_MOAT_ETC_PRIVATE" == 1 ]]
}

_moat_require_ns()
{
	_moat_in_ns || moat_fail "$1 needs the private namespace: call moat_test_begin first"
}

# Starts the test: must be called as `moat_test_begin "$@"` before anything
# else. The first call re-executes the test script inside new namespaces and
# never returns; inside, it sets up $T, /etc and /tmp/.X11-unix and the EXIT
# trap. MOAT_E2E_PIDNS=0 leaves out the PID namespace (the library's own
# process-group cleanup then has no backstop).
moat_test_begin()
{
	local script

	if ((EUID != 0)); then
		printf 'FAIL: moat e2e tests must run as root (they create users, PAM services and\n' >&2
		printf '      mount namespaces); run them through ctest as root, as CI does.\n' >&2
		exit 1
	fi
	if [[ "${MOAT_E2E_INNER:-}" != "$$" ]]; then
		script=$(realpath -- "${BASH_SOURCE[-1]}")
		# Re-executed as PID 1 (or, without a PID namespace, as the
		# same process): the marker names the inner shell's own pid.
		if [[ "${MOAT_E2E_PIDNS:-1}" == 0 ]]; then
			MOAT_E2E_INNER=$$ exec unshare --mount --propagation private -- \
			    "$BASH" "$script" "$@"
		fi
		# --kill-child: if ctest kills unshare, PID 1 and with it every
		# process of the namespace is killed too.
		MOAT_E2E_INNER=1 exec unshare --mount --propagation private \
		    --pid --fork --kill-child --mount-proc -- "$BASH" "$script" "$@"
	fi

	umask 022
	T=$(mktemp -d /tmp/moat-e2e.XXXXXXXX)
	chmod 0755 "$T"
	export T MOAT_TMP="$T"
	trap '_moat_on_exit' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	# A read-only view of the host's /etc, for checks that nothing leaked.
	mkdir "$T/host-etc" "$T/ovl"
	{ mount --bind /etc "$T/host-etc" && mount -o remount,bind,ro "$T/host-etc"; } ||
	    moat_fail "cannot bind-mount /etc read-only"
	MOAT_HOST_ETC="$T/host-etc"
	export MOAT_HOST_ETC

	# /etc: overlay with its upper layer on a tmpfs of the namespace.
	mount -t tmpfs -o mode=0700,size=64m moat-e2e-ovl "$T/ovl" ||
	    moat_fail "cannot mount a tmpfs on $T/ovl"
	mkdir "$T/ovl/up" "$T/ovl/work"
	mount -t overlay moat-e2e-etc \
	    -o "lowerdir=/etc,upperdir=$T/ovl/up,workdir=$T/ovl/work" /etc ||
	    moat_fail "cannot mount an overlay on /etc (overlayfs missing?)"
	_MOAT_ETC_PRIVATE=1

	# Private X socket directory (the mount point itself is the standard,
	# root-owned sticky directory X creates on any host).
	[[ -d /tmp/.X11-unix ]] || mkdir -m 1777 /tmp/.X11-unix
	mount -t tmpfs -o mode=1777,size=1m moat-e2e-x11 /tmp/.X11-unix ||
	    moat_fail "cannot mount a tmpfs on /tmp/.X11-unix"

	# moatd's default audit file (AuditFile=/var/log/moat/audit.jsonl;
	# its key, /etc/moat/audit.key, is in the private /etc): a private
	# tmpfs, so that no test writes the host's audit log.
	[[ -d /var/log/moat ]] || mkdir -m 0700 /var/log/moat
	mount -t tmpfs -o mode=0700,size=64m moat-e2e-audit /var/log/moat ||
	    moat_fail "cannot mount a tmpfs on /var/log/moat"

	mkdir -m 0755 "$T/x" "$T/home"
	moat_log "scratch $T, source $MOAT_SOURCE_DIR, build $MOAT_BUILD_DIR"
}

# Registers shell code to run first on exit (before processes are stopped).
moat_on_exit()
{
	_MOAT_EXIT_HOOKS+=("$1")
}

# Prints the pids (one a line) of the live (not zombie) members of process
# group PGID, leaving out this shell.
_moat_group_members()
{
	local pgid=$1 d stat rest
	local -a f
	for d in /proc/[0-9]*; do
		[[ "${d#/proc/}" == "$BASHPID" ]] && continue
		read -r stat 2>/dev/null <"$d/stat" || continue
		rest=${stat##*) }
		read -r -a f <<<"$rest"
		# f[0] state, f[1] ppid, f[2] pgrp
		[[ "${f[0]}" == Z || "${f[2]}" != "$pgid" ]] && continue
		printf '%s\n' "${d#/proc/}"
	done
	return 0
}

# True when process PID exists and is not a zombie.
moat_pid_alive()
{
	local stat rest
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	[[ "${rest%% *}" != Z ]]
}

# Sends SIG to the groups of the named processes, then waits up to SECS for
# them to be empty; returns 1 if some member is still alive.
_moat_signal_groups()
{
	local sig=$1 secs=$2 name pid deadline left
	shift 2
	# A group outlives its leader while a member lives, and the kernel
	# does not hand out its number as a new pid meanwhile (and pids are
	# allocated cyclically), so signalling a reaped leader's group only
	# reaches what it left behind.
	for name in "$@"; do
		pid=${_MOAT_PID[$name]}
		kill "-$sig" -- "-$pid" 2>/dev/null || true
	done
	deadline=$((SECONDS + secs))
	while :; do
		left=""
		for name in "$@"; do
			pid=${_MOAT_PID[$name]}
			if [[ -n "$(_moat_group_members "$pid")" ]]; then
				left+=" $name"
			fi
		done
		[[ -z "$left" ]] && return 0
		((SECONDS >= deadline)) && return 1
		sleep 0.05
	done
}

# Stops the named processes (all tracked ones when none is named): TERM to
# each process group, KILL to what is left after MOAT_STOP_TIMEOUT seconds.
# Sets MOAT_LAST_STATUS to the exit status of the last one named. Returns 0.
moat_stop()
{
	local name pid rc
	local -a names=("$@")
	if ((${#names[@]} == 0)); then
		names=("${_MOAT_ORDER[@]}")
	fi
	for name in "${names[@]}"; do
		[[ -n "${_MOAT_PID[$name]:-}" ]] || moat_fail "moat_stop: no process named '$name'"
	done
	((${#names[@]} > 0)) || return 0
	if ! _moat_signal_groups TERM "$MOAT_STOP_TIMEOUT" "${names[@]}"; then
		moat_log "still running ${MOAT_STOP_TIMEOUT}s after SIGTERM, sending SIGKILL: ${names[*]}"
		_moat_signal_groups KILL 5 "${names[@]}" ||
		    moat_log "WARNING: processes survived SIGKILL: ${names[*]}"
	fi
	for name in "${names[@]}"; do
		pid=${_MOAT_PID[$name]}
		rc=0
		if [[ -n "${_MOAT_REAPED[$name]:-}" ]]; then
			rc=${_MOAT_REAPED[$name]#status=}
		elif moat_pid_alive "$pid"; then
			# Never block in wait(): report instead.
			moat_log "WARNING: $name (pid $pid) is still alive"
			rc=255
		else
			wait "$pid" 2>/dev/null || rc=$?
			_MOAT_REAPED[$name]="status=$rc"
		fi
		MOAT_LAST_STATUS=$rc
	done
	return 0
}

# Waits up to TIMEOUT seconds for process NAME to exit by itself; sets
# MOAT_LAST_STATUS to its exit status. Returns 1 on timeout.
moat_wait_exit()
{
	local name=$1 timeout=${2:-$MOAT_WAIT_TIMEOUT} pid deadline rc=0
	pid=${_MOAT_PID[$name]:-}
	[[ -n "$pid" ]] || moat_fail "moat_wait_exit: no process named '$name'"
	deadline=$((SECONDS + timeout))
	while moat_pid_alive "$pid"; do
		if ((SECONDS >= deadline)); then
			printf 'TIMEOUT: %s (pid %s) still running after %ss\n' "$name" "$pid" "$timeout" >&2
			moat_dump_logs
			return 1
		fi
		sleep 0.05
	done
	if [[ -n "${_MOAT_REAPED[$name]:-}" ]]; then
		rc=${_MOAT_REAPED[$name]#status=}
	else
		wait "$pid" 2>/dev/null || rc=$?
		_MOAT_REAPED[$name]="status=$rc"
	fi
	MOAT_LAST_STATUS=$rc
	return 0
}

# Prints the mount points of this mount namespace at or below directory DIR,
# deepest first (mountinfo's octal escapes decoded).
_moat_mounts_below()
{
	local dir=$1 mp
	while read -r _ _ _ _ mp _; do
		mp=$(printf '%b' "${mp//\\/\\0}")
		[[ "$mp" == "$dir" || "$mp" == "$dir"/* ]] || continue
		printf '%d %s\n' "${#mp}" "$mp"
	done </proc/self/mountinfo | sort -rn -k1,1 | cut -d' ' -f2-
}

# Removes the scratch directory DIR: every mount point below it (a tmpfs a
# test mounted, the library's own) is unmounted lazily first, deepest first,
# since rm --one-file-system leaves them, and the directories under them,
# behind. Returns 1 (with a message) if DIR is still there.
_moat_remove_scratch()
{
	local dir=$1 mp round
	for round in 1 2 3; do
		while IFS= read -r mp; do
			umount -l -- "$mp" 2>/dev/null
		done < <(_moat_mounts_below "$dir")
		rm -rf --one-file-system -- "$dir"
		[[ -e "$dir" ]] || return 0
	done
	printf 'FAIL: the scratch directory %s could not be removed; still mounted below it:\n%s\n' \
	    "$dir" "$(_moat_mounts_below "$dir")" >&2
	return 1
}

_moat_on_exit()
{
	local rc=$? hook d left name
	set +e
	trap - INT TERM HUP
	for hook in "${_MOAT_EXIT_HOOKS[@]}"; do
		eval "$hook"
	done
	if ((rc != 0 && _MOAT_ENDED == 0)); then
		printf 'test aborted with exit status %d (%d passed, %d failed so far)\n' \
		    "$rc" "$_MOAT_PASSED" "$_MOAT_FAILED" >&2
		moat_dump_logs
	fi
	if ((${#_MOAT_ORDER[@]} > 0)); then
		moat_stop >/dev/null
	fi
	# Backstop in a PID namespace: this shell is init, kill everything else.
	if [[ "$$" == 1 ]]; then
		left=""
		for d in /proc/[0-9]*; do
			[[ "${d#/proc/}" == 1 ]] && continue
			moat_pid_alive "${d#/proc/}" && left+=" ${d#/proc/}:$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null)"
		done
		if [[ -n "$left" ]]; then
			moat_log "killing processes the test did not track:$left"
			kill -KILL -- -1 2>/dev/null
			for d in 1 2 3 4 5 6 7 8 9 10; do
				left=""
				for name in /proc/[0-9]*; do
					[[ "${name#/proc/}" == 1 ]] && continue
					moat_pid_alive "${name#/proc/}" && left=1
				done
				[[ -z "$left" ]] && break
				sleep 0.1
			done
		fi
	fi
	if [[ -n "$T" && -d "$T" ]]; then
		umount -l /etc 2>/dev/null
		umount -l /tmp/.X11-unix 2>/dev/null
		umount -l "$T/ovl" 2>/dev/null
		umount -l "$T/host-etc" 2>/dev/null
		if [[ -n "${MOAT_KEEP_TMP:-}" ]]; then
			# The audit tmpfs goes with the namespace: keep a copy.
			cp -a /var/log/moat "$T/audit-files" 2>/dev/null
			moat_log "keeping $T (MOAT_KEEP_TMP is set)"
		elif ! _moat_remove_scratch "$T" && ((rc == 0)); then
			rc=1
		fi
	fi
	exit "$rc"
}

# ---- processes ---------------------------------------------------------------

# Fills _MOAT_ARGV with the command prefix for [--as USER] [--x DISPLAY] and
# sets _MOAT_NOPTS to the number of option words used.
_moat_prefix()
{
	local user="" display="" home uid gid xauth v
	local -a envs=()
	_MOAT_NOPTS=0
	while (($# > 0)); do
		case "$1" in
		--as) user=$2; shift 2; _MOAT_NOPTS=$((_MOAT_NOPTS + 2)) ;;
		--x) display=$2; shift 2; _MOAT_NOPTS=$((_MOAT_NOPTS + 2)) ;;
		*) break ;;
		esac
	done
	if [[ -n "$display" ]]; then
		xauth=$(moat_xauth "$display" "${user:-root}") || return 1
		envs+=("DISPLAY=$display" "XAUTHORITY=$xauth")
	fi
	if [[ -n "$user" ]]; then
		uid=$(id -u -- "$user") || moat_fail "no user $user"
		gid=$(id -g -- "$user")
		home=$(getent passwd "$user" | cut -d: -f6)
		[[ -d "$home" ]] || home=/
		# Sanitizer builds (tools/assure.sh): the runtime options reach
		# programs run as users too.
		for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
			[[ -z "${!v:-}" ]] || envs+=("$v=${!v}")
		done
		_MOAT_ARGV=(setpriv "--reuid=$uid" "--regid=$gid" --init-groups
		    env -i -C "$home" "PATH=/usr/local/bin:/usr/bin:/bin"
		    "HOME=$home" "USER=$user" "LOGNAME=$user" "SHELL=/bin/sh"
		    "LANG=C.UTF-8" "${envs[@]}")
	else
		_MOAT_ARGV=(env "${envs[@]}")
	fi
}

# Runs CMD in the foreground, as root or (--as USER) as USER with a clean
# environment, and (--x DISPLAY) with DISPLAY and XAUTHORITY for that display.
# Extra VAR=value words may precede CMD. Returns CMD's exit status.
moat_run()
{
	_moat_prefix "$@" || return 1
	shift "$_MOAT_NOPTS"
	"${_MOAT_ARGV[@]}" "$@"
}

# moat_as USER CMD... is moat_run --as USER CMD...
moat_as()
{
	local user=$1
	shift
	moat_run --as "$user" "$@"
}

# moat_x DISPLAY CMD... is moat_run --x DISPLAY CMD... (as root)
moat_x()
{
	local display=$1
	shift
	moat_run --x "$display" "$@"
}

# True once process PID leads its own process group (or is gone).
_moat_own_group()
{
	local stat rest
	local -a f
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
	rest=${stat##*) }
	read -r -a f <<<"$rest"
	[[ "${f[2]}" == "$1" ]]
}

# Records process NAME=PID, after waiting until setsid(1) has made it a group
# leader: before that a signal to its group would miss it.
_moat_track()
{
	local deadline=$((SECONDS + 10))
	_MOAT_PID[$1]=$2
	_MOAT_ORDER+=("$1")
	until _moat_own_group "$2"; do
		((SECONDS < deadline)) || moat_fail "$1 (pid $2) did not get its own process group"
		sleep 0.01
	done
}

# Starts CMD in the background in its own process group, output in
# $T/NAME.log, options as for moat_run. NAME must be unique in the test.
# Never call it inside $( ): the process would not be tracked.
moat_bg()
{
	local name=$1
	shift
	_moat_require_ns moat_bg
	[[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || moat_fail "moat_bg: bad name '$name'"
	[[ -z "${_MOAT_PID[$name]:-}" ]] || moat_fail "moat_bg: '$name' already started"
	[[ $- != *m* ]] || moat_fail "moat_bg: job control must be off"
	_moat_prefix "$@" || return 1
	shift "$_MOAT_NOPTS"
	# Not a group leader, so setsid(1) calls setsid() itself: pid == pgid.
	setsid "${_MOAT_ARGV[@]}" "$@" </dev/null >"$T/$name.log" 2>&1 &
	_moat_track "$name" "$!"
	return 0
}

# Prints the pid of process NAME started with moat_bg.
moat_pid()
{
	[[ -n "${_MOAT_PID[$1]:-}" ]] || moat_fail "moat_pid: no process named '$1'"
	printf '%s\n' "${_MOAT_PID[$1]}"
}

# True while process NAME runs.
moat_alive()
{
	[[ -n "${_MOAT_PID[$1]:-}" ]] || moat_fail "moat_alive: no process named '$1'"
	moat_pid_alive "${_MOAT_PID[$1]}"
}

# Prints the path of process NAME's log.
moat_logfile()
{
	printf '%s/%s.log\n' "$T" "$1"
}

# Prints the path of built binary NAME; fails the test if it is missing.
moat_bin()
{
	local p="$MOAT_BUILD_DIR/$1"
	[[ -x "$p" ]] || moat_fail "$p is not built (MOAT_BUILD_DIR=$MOAT_BUILD_DIR)"
	printf '%s\n' "$p"
}

# Prints the path of a copy of built binary NAME in $T/bin (root-owned 0755),
# which any user can execute even when the build tree is private (CI may
# clone under /root). Use it for what runs --as a test user.
moat_user_bin()
{
	local src dst="$T/bin/$1"
	src=$(moat_bin "$1") || exit 1
	if [[ ! -x "$dst" ]]; then
		[[ -d "$T/bin" ]] || mkdir -m 0755 "$T/bin"
		install -m 0755 -o root -g root -- "$src" "$dst" || moat_fail "cannot copy $src"
	fi
	printf '%s\n' "$dst"
}

# ---- waiting -------------------------------------------------------------------

# moat_wait [-t SECS] [-m WHAT] CMD...: runs CMD every 0.1 s until it succeeds,
# at most SECS (default MOAT_WAIT_TIMEOUT). On timeout prints what was awaited,
# CMD's last output and the logs, and returns 1.
moat_wait()
{
	local timeout=$MOAT_WAIT_TIMEOUT what="" deadline out
	while (($# > 0)); do
		case "$1" in
		-t) timeout=$2; shift 2 ;;
		-m) what=$2; shift 2 ;;
		*) break ;;
		esac
	done
	(($# > 0)) || moat_fail "moat_wait: no command"
	[[ -n "$what" ]] || what="$*"
	deadline=$((SECONDS + timeout))
	while :; do
		if out=$("$@" 2>&1); then
			return 0
		fi
		if ((SECONDS >= deadline)); then
			printf 'TIMEOUT after %ss waiting for: %s\n' "$timeout" "$what" >&2
			[[ -n "$out" ]] && printf 'last output of "%s":\n%s\n' "$*" "$(tail -n 20 <<<"$out")" >&2
			moat_dump_logs
			return 1
		fi
		sleep 0.1
	done
}

# True when something listens on TCP port PORT now.
moat_port_listens()
{
	[[ -n "$(ss -Hltn "sport = :$1")" ]]
}

# Waits until something listens on TCP port PORT.
moat_wait_port()
{
	local port=$1 timeout=${2:-$MOAT_WAIT_TIMEOUT}
	moat_wait -t "$timeout" -m "TCP port $port to listen" moat_port_listens "$port"
}

# Waits until FILE (or the log of process FILE) has a line matching REGEX (ERE).
moat_wait_log()
{
	local file=$1 regex=$2 timeout=${3:-$MOAT_WAIT_TIMEOUT}
	if [[ "$file" != */* ]]; then
		file="$T/$file.log"
	fi
	moat_wait -t "$timeout" -m "/$regex/ in $file" grep -Eq -- "$regex" "$file"
}

# Prints a TCP port on 127.0.0.1 that nothing uses now.
moat_free_port()
{
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ---- the audit file ------------------------------------------------------------

MOAT_AUDIT=/var/log/moat/audit.jsonl	# moatd's default AuditFile (private tmpfs)

# moat_audit_verify [--live] [FILE]: one check that `moatctl audit verify`
# accepts audit file FILE (default moatd's default AuditFile, $MOAT_AUDIT)
# with its rotated files (oldest first) as one intact chain signed by the
# default AuditKey; --live while its moatd still runs (an unsigned tail is
# accepted), without it once that moatd has stopped.
moat_audit_verify()
{
	local file=$MOAT_AUDIT f n
	local -a live=() rotated=() files=()
	[[ "${1:-}" != --live ]] || { live=(--live); shift; }
	[[ -z "${1:-}" ]] || file=$1
	for f in "$file".[1-9]*; do
		n=${f##*.}
		[[ ! -e "$f" || ! "$n" =~ ^[0-9]+$ ]] || rotated[n]=$f
	done
	for n in $(printf '%s\n' "${!rotated[@]}" | sort -rn); do
		files+=("${rotated[n]}")
	done
	moat_check "audit: moatctl audit verify ${live[*]:+--live }accepts $file" \
	    "$(moat_bin moatctl)" audit verify --key /etc/moat/audit.key "${live[@]}" \
	    "${files[@]}" "$file"
}

# ---- users, PAM, files ---------------------------------------------------------

# Creates user NAME (home under $T) with PASSWORD, inside the namespace's /etc.
moat_add_user()
{
	local name=$1 password=$2
	_moat_require_ns moat_add_user
	if getent passwd "$name" >/dev/null; then
		moat_fail "moat_add_user: user $name already exists"
	fi
	useradd --no-log-init --create-home --home-dir "$T/home/$name" \
	    --shell /bin/bash --user-group "$name" ||
	    moat_fail "useradd $name failed"
	printf '%s:%s\n' "$name" "$password" | chpasswd ||
	    moat_fail "chpasswd for $name failed"
}

# Makes sure the system user moat-net (moatd's NetUser) exists.
moat_ensure_net_user()
{
	_moat_require_ns moat_ensure_net_user
	getent passwd moat-net >/dev/null && return 0
	useradd --system --no-log-init --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group moat-net ||
	    moat_fail "useradd moat-net failed"
}

# Writes /etc/pam.d/NAME: the given lines, or pam_unix auth + account.
moat_pam_service()
{
	local name=$1
	shift
	_moat_require_ns moat_pam_service
	if (($# == 0)); then
		set -- "auth required pam_unix.so" "account required pam_unix.so"
	fi
	printf '%s\n' "$@" >"/etc/pam.d/$name"
	chmod 0644 "/etc/pam.d/$name"
}

# Creates DIR as an empty root-owned 0755 directory (moatd's EmptyRoot).
moat_empty_root()
{
	local dir=$1
	mkdir -p -- "$dir"
	if [[ -n "$(ls -A -- "$dir")" ]]; then
		moat_fail "moat_empty_root: $dir is not empty"
	fi
	chown root:root -- "$dir"
	chmod 0755 -- "$dir"
}

# Writes FILE (relative paths are under $T) with one line per argument,
# normally Key=Value; the file is root-owned 0644 and every directory created
# for it root-owned 0755. Prints nothing.
moat_write_config()
{
	local file=$1 dir
	shift
	[[ "$file" == /* ]] || file="$T/$file"
	dir=$(dirname -- "$file")
	if [[ ! -d "$dir" ]]; then
		(umask 022 && mkdir -p -- "$dir")
		chmod 0755 -- "$dir"
	fi
	if (($# > 0)); then
		printf '%s\n' "$@" >"$file"
	else
		: >"$file"
	fi
	chown root:root -- "$file"
	chmod 0644 -- "$file"
}

# ---- X displays ------------------------------------------------------------------

_moat_display_number()
{
	local d=${1#:}
	d=${d%%.*}
	[[ "$d" =~ ^[0-9]+$ ]] || moat_fail "bad display '$1'"
	printf '%s\n' "$d"
}

# Prints the path of an XAUTHORITY file for DISPLAY (started by
# moat_start_xvfb) usable by USER (default root), creating it if needed.
moat_xauth()
{
	local display=$1 user=${2:-root} n file
	n=$(_moat_display_number "$display")
	[[ -r "$T/x/$n.cookie" ]] || moat_fail "display :$n was not started by moat_start_xvfb"
	file="$T/x/$n.$user.auth"
	if [[ ! -e "$file" ]]; then
		(umask 077 && : >"$file.tmp" &&
		    xauth -q -f "$file.tmp" add ":$n" MIT-MAGIC-COOKIE-1 "$(<"$T/x/$n.cookie")") ||
		    moat_fail "xauth failed for :$n"
		chown "$user:" -- "$file.tmp"
		mv -f -- "$file.tmp" "$file"
	fi
	printf '%s\n' "$file"
}

# moat_start_xvfb VAR GEOMETRY: starts Xvfb (as root, -nolisten tcp, MIT
# cookie required, no reset) on the first free display, with screen GEOMETRY
# (WxH or WxHxDEPTH, depth 24 by default); waits until it serves and sets VAR
# to ":N". Clients get access through moat_xauth/--x. Process name: xvfb-N.
moat_start_xvfb()
{
	local var=$1 geometry=$2 seq n cookie dfile
	_moat_require_ns moat_start_xvfb
	[[ "$geometry" =~ ^[0-9]+x[0-9]+(x[0-9]+)?$ ]] || moat_fail "bad geometry '$geometry'"
	[[ "$geometry" =~ x[0-9]+x ]] || geometry+=x24
	seq=${#_MOAT_ORDER[@]}
	cookie=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	# The server takes every cookie in its -auth file, whatever display
	# number the entry names, so :0 stands in for the number not known yet.
	(umask 077 && : >"$T/x/server$seq.auth" &&
	    xauth -q -f "$T/x/server$seq.auth" add :0 MIT-MAGIC-COOKIE-1 "$cookie") ||
	    moat_fail "xauth failed"
	dfile="$T/x/server$seq.displayfd"
	: >"$dfile"
	setsid Xvfb -displayfd 3 -screen 0 "$geometry" -nolisten tcp \
	    -auth "$T/x/server$seq.auth" -noreset </dev/null 3>"$dfile" \
	    >"$T/xvfb-start$seq.log" 2>&1 &
	_moat_track "xvfb-start$seq" "$!"
	moat_wait -m "Xvfb to report its display number" grep -q '^[0-9][0-9]*$' "$dfile" ||
	    moat_fail "Xvfb did not start"
	n=$(<"$dfile")
	printf '%s\n' "$cookie" >"$T/x/$n.cookie"
	chmod 0600 "$T/x/$n.cookie"
	printf '%s\n' "${geometry%x*}" >"$T/x/$n.geometry"
	# Rename the tracked entry and its log to xvfb-N.
	mv -f -- "$T/xvfb-start$seq.log" "$T/xvfb-$n.log"
	_MOAT_PID[xvfb-$n]=${_MOAT_PID[xvfb-start$seq]}
	unset "_MOAT_PID[xvfb-start$seq]"
	_MOAT_ORDER[-1]="xvfb-$n"
	moat_wait -m "display :$n to accept an authorised client" \
	    moat_x ":$n" xdpyinfo ||
	    moat_fail "Xvfb :$n does not accept clients"
	moat_log "Xvfb :$n ($geometry) pid ${_MOAT_PID[xvfb-$n]}"
	printf -v "$var" ':%s' "$n"
}

# Prints "W H" of DISPLAY's screen.
moat_display_size()
{
	local n dims
	n=$(_moat_display_number "$1")
	if [[ -r "$T/x/$n.geometry" ]]; then
		dims=$(<"$T/x/$n.geometry")
	else
		dims=$(moat_x "$1" xdpyinfo | sed -n 's/^ *dimensions: *\([0-9]*x[0-9]*\) .*/\1/p')
	fi
	printf '%s %s\n' "${dims%x*}" "${dims#*x}"
}

# Saves a screenshot of DISPLAY's root window to FILE (.png as 8-bit RGB,
# .ppm as binary PPM).
moat_screenshot()
{
	local display=$1 file=$2 fmt=PNG24
	[[ "$file" == *.ppm ]] && fmt=ppm
	moat_x "$display" import -silent -window root "$fmt:$file"
}

# Runs tests/tools/imgcheck.py with the given arguments.
moat_img()
{
	python3 "$MOAT_IMGCHECK" "$@"
}

# Prints how many pixels of FILE are exactly COLOUR (#rrggbb), optionally
# only inside the rectangle X Y W H.
moat_count_colour()
{
	local file=$1 colour=$2
	shift 2
	if (($# == 4)); then
		moat_img count "$file" "$colour" --rect "$@"
	else
		moat_img count "$file" "$colour"
	fi
}

# Prints "X Y W H", the bounding box of COLOUR in FILE; fails if absent.
moat_find_rect()
{
	moat_img bbox "$1" "$2"
}

# Sets DISPLAY's root window background to FILE (an image of the screen's
# size). The caller checks the result (moat_draw_pattern does).
moat_set_root_image()
{
	# display(1) may exit 1 after setting a root image; success is what
	# a screenshot shows.
	moat_x "$1" display -window root "$2" >/dev/null 2>&1 || true
}

_moat_pattern_drawn()
{
	local display=$1 shot=$2 colour=$3 x=$4 y=$5 w=$6 h=$7
	moat_screenshot "$display" "$shot" || return 1
	[[ "$(moat_img bbox "$shot" "$colour")" == "$x $y $w $h" ]] || return 1
	[[ "$(moat_img count "$shot" "$colour")" == $((w * h)) ]]
}

# moat_draw_pattern DISPLAY [BG [FG X Y W H]]: paints DISPLAY's root window
# BG with a WxH block of FG at X,Y (default MOAT_PATTERN_*: #1a2b3c, with
# 200x100 of #f0c000 at 100,100) and waits until a screenshot shows exactly
# that block (windows must not cover it).
moat_draw_pattern()
{
	local display=$1 bg=${2:-$MOAT_PATTERN_BG} fg=${3:-$MOAT_PATTERN_FG}
	local x=${4:-$MOAT_PATTERN_X} y=${5:-$MOAT_PATTERN_Y}
	local w=${6:-$MOAT_PATTERN_W} h=${7:-$MOAT_PATTERN_H}
	local size n img shot
	size=$(moat_display_size "$display")
	n=$(_moat_display_number "$display")
	img="$T/x/$n.pattern.ppm"
	shot="$T/x/$n.pattern-check.png"
	# shellcheck disable=SC2086 # size is "W H"
	moat_img make $size "$bg" --rect "$x" "$y" "$w" "$h" "$fg" -o "$img" ||
	    moat_fail "cannot make the pattern image"
	moat_set_root_image "$display" "$img"
	moat_wait -m "the pattern ($fg ${w}x$h at $x,$y on $bg) on $display" \
	    _moat_pattern_drawn "$display" "$shot" "$fg" "$x" "$y" "$w" "$h"
}
