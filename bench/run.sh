#!/bin/bash
# bench/run.sh - moat against x0vncserver, Xvnc and x11vnc, side by side, and
# against moat_inproc, moat built without its privilege separation
# (moatd-inprocess, CMake MOAT_INPROCESS), to show what the separation costs.
#
# Runs as root on the benchmark host. It installs what is missing (apt), builds
# moat (Release; moatd-inprocess in a second tree beside it) and bench/'s two
# tools, then re-executes itself in the private
# namespaces of tests/e2e/lib.sh (private /etc for the PAM test account, private
# X sockets, PID namespace), starts an Xvfb 1920x1080x24 and measures each server
# in turn, interleaved, for BENCH_ROUNDS rounds; only one server runs at a time.
# It trusts the host, the packages and the build; it trusts no number a server
# or tool prints beyond parsing it. See bench/README.md.
#
# Usage: bench/run.sh [--quick|--full] [--rounds N] [--secs S]
#                     [--servers "moat moat_inproc x0vncserver Xvnc x11vnc Xvnc_tls"]
#                     [--tests "static full30 full60 scroll latency connect memory"]
#                     [--no-install] [--no-build] [--out DIR]
# Environment: BENCH_BUILD (default /tmp/moat-bench-build; moat_inproc's tree is
# BENCH_BUILD-inproc), and every option
# above as BENCH_QUICK, BENCH_ROUNDS, BENCH_SECS, BENCH_SERVERS, BENCH_TESTS,
# BENCH_OUT; BENCH_X11VNC_FLAGS (default "-wait 1 -defer 1").

# The start_* functions are called through "start_$s":
# shellcheck disable=SC2317
set -eu -o pipefail

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MOAT_SRC=$(cd "$BENCH_SRC/.." && pwd)

: "${BENCH_BUILD:=/tmp/moat-bench-build}"
: "${BENCH_QUICK:=1}"
: "${BENCH_ROUNDS:=2}"
: "${BENCH_SECS:=}"
: "${BENCH_SERVERS:=moat moat_inproc x0vncserver Xvnc x11vnc Xvnc_tls}"
: "${BENCH_TESTS:=static full30 full60 scroll latency connect memory}"
: "${BENCH_INSTALL:=1}"
: "${BENCH_DOBUILD:=1}"
: "${BENCH_OUT:=}"
: "${BENCH_X11VNC_FLAGS:=-wait 1 -defer 1}"
# Extra moatd.conf lines (an array). By default moat runs as shipped, with
# its audit file (on tests/e2e/lib.sh's private tmpfs /var/log/moat, so its
# fsyncs cost less than on a disk); BENCH_MOAT_CONF=(AuditFile=) turns the
# file off.
if [[ -z "${BENCH_MOAT_CONF+x}" ]]; then BENCH_MOAT_CONF=(); fi

while (($# > 0)); do
	case "$1" in
	--quick) BENCH_QUICK=1; shift ;;
	--full) BENCH_QUICK=0; shift ;;
	--rounds) BENCH_ROUNDS=$2; shift 2 ;;
	--secs) BENCH_SECS=$2; shift 2 ;;
	--servers) BENCH_SERVERS=$2; shift 2 ;;
	--tests) BENCH_TESTS=$2; shift 2 ;;
	--no-install) BENCH_INSTALL=0; shift ;;
	--no-build) BENCH_DOBUILD=0; shift ;;
	--out) BENCH_OUT=$2; shift 2 ;;
	-h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) printf 'run.sh: unknown option %s\n' "$1" >&2; exit 2 ;;
	esac
done
if [[ -z "$BENCH_SECS" ]]; then
	if ((BENCH_QUICK)); then BENCH_SECS=3; else BENCH_SECS=8; fi
fi
if ((BENCH_QUICK)); then
	: "${BENCH_ENCS:=raw zrle tight tightq8}"	# static full frames
	: "${BENCH_MOVE_ENCS:=tightq8}"			# full change and scroll
	: "${BENCH_LAT_ENCS:=raw tightq8}"
	: "${BENCH_LAT_N:=200}"
	: "${BENCH_CONN_N:=30}"
else
	: "${BENCH_ENCS:=raw zrle tight tightq8}"
	: "${BENCH_MOVE_ENCS:=tightq8 zrle raw}"
	: "${BENCH_LAT_ENCS:=raw tightq8}"
	: "${BENCH_LAT_N:=400}"
	: "${BENCH_CONN_N:=100}"
fi
: "${BENCH_HOLD_N:=8}"
: "${BENCH_OUT:=/tmp/moat-bench-results/$(date -u +%Y%m%dT%H%M%SZ)}"
BENCH_INPROC_BUILD=$BENCH_BUILD-inproc
export BENCH_BUILD BENCH_INPROC_BUILD BENCH_QUICK BENCH_ROUNDS BENCH_SECS BENCH_SERVERS BENCH_TESTS
export BENCH_INSTALL BENCH_DOBUILD BENCH_OUT BENCH_X11VNC_FLAGS BENCH_ENCS
export BENCH_MOVE_ENCS BENCH_LAT_ENCS BENCH_LAT_N BENCH_CONN_N BENCH_HOLD_N

blog()
{
	printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2
}

# ---- outside the namespaces: packages and builds ------------------------------

if [[ -z "${MOAT_E2E_INNER:-}" ]]; then
	if ((EUID != 0)); then
		echo "run.sh must run as root (it creates a PAM test account in a private /etc)" >&2
		exit 1
	fi
	if ((BENCH_INSTALL)); then
		# moat's own build dependencies: the project's one list.
		"$MOAT_SRC/tools/deps.sh" build
		want=(xvfb x11vnc tigervnc-standalone-server tigervnc-scraping-server
		    libvncserver-dev libx11-dev libxext-dev xauth x11-utils xfonts-base
		    python3 iproute2 util-linux passwd openssl cmake gcc pkg-config)
		missing=()
		for p in "${want[@]}"; do
			dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			    missing+=("$p")
		done
		if ((${#missing[@]} > 0)); then
			blog "installing ${missing[*]}"
			apt-get update -qq
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    --no-install-recommends "${missing[@]}" >/dev/null
		fi
	fi
	if ((BENCH_DOBUILD)); then
		blog "building moat (Release) in $BENCH_BUILD"
		cmake -S "$MOAT_SRC" -B "$BENCH_BUILD" -DCMAKE_BUILD_TYPE=Release \
		    -DMOAT_SELFTEST=OFF >"$BENCH_BUILD.cmake.log" 2>&1 ||
		    { tail -n 30 "$BENCH_BUILD.cmake.log"; exit 1; }
		cmake --build "$BENCH_BUILD" -j2 --target moatd moat-net moat-session \
		    >"$BENCH_BUILD.build.log" 2>&1 ||
		    { tail -n 30 "$BENCH_BUILD.build.log"; exit 1; }
	fi
	for b in moatd moat-net moat-session; do
		[[ -x "$BENCH_BUILD/$b" ]] || { echo "run.sh: $BENCH_BUILD/$b is not built" >&2; exit 1; }
	done
	# moat_inproc: the same sources, flags and build type, plus
	# MOAT_INPROCESS (moatd-inprocess; its startup check wants moat-net
	# beside it, which it never runs).
	if [[ " $BENCH_SERVERS " == *" moat_inproc "* ]]; then
		if ((BENCH_DOBUILD)); then
			blog "building moatd-inprocess (Release, MOAT_INPROCESS) in $BENCH_INPROC_BUILD"
			cmake -S "$MOAT_SRC" -B "$BENCH_INPROC_BUILD" -DCMAKE_BUILD_TYPE=Release \
			    -DMOAT_SELFTEST=OFF -DMOAT_INPROCESS=ON \
			    >"$BENCH_INPROC_BUILD.cmake.log" 2>&1 ||
			    { tail -n 30 "$BENCH_INPROC_BUILD.cmake.log"; exit 1; }
			cmake --build "$BENCH_INPROC_BUILD" -j2 --target moatd-inprocess moat-net \
			    >"$BENCH_INPROC_BUILD.build.log" 2>&1 ||
			    { tail -n 30 "$BENCH_INPROC_BUILD.build.log"; exit 1; }
		fi
		for b in moatd-inprocess moat-net; do
			[[ -x "$BENCH_INPROC_BUILD/$b" ]] ||
			    { echo "run.sh: $BENCH_INPROC_BUILD/$b is not built" >&2; exit 1; }
		done
	fi
	if ((BENCH_DOBUILD)) || [[ ! -x "$BENCH_BUILD/bench/vncbench" ]]; then
		mkdir -p "$BENCH_BUILD/bench"
		gcc -O2 -Wall -std=gnu11 -o "$BENCH_BUILD/bench/content" \
		    "$BENCH_SRC/content.c" -lX11 -lXext
		# shellcheck disable=SC2046
		gcc -O2 -Wall -std=gnu11 -o "$BENCH_BUILD/bench/vncbench" \
		    "$BENCH_SRC/vncbench.c" $(pkg-config --cflags --libs libvncclient)
	fi
	mkdir -p "$BENCH_OUT"
fi

export MOAT_BUILD_DIR=$BENCH_BUILD MOAT_SOURCE_DIR=$MOAT_SRC
# shellcheck source=../tests/e2e/lib.sh
. "$MOAT_SRC/tests/e2e/lib.sh"
moat_test_begin "$@"
# shellcheck source=../tests/e2e/server.sh
. "$MOAT_SRC/tests/e2e/server.sh"	# moat_start_session

# ---- inside: the measurements ---------------------------------------------------

BIN=$BENCH_BUILD/bench
RES=$BENCH_OUT/results.tsv
USER_NAME=benchuser
USER_PASS='Bench pass 1!'
SEQ=0
CUR=""
XVNC_SEC=(-SecurityTypes None)
: >"$RES"

# Server processes whose CPU and Pss count, per server. The X server is
# included for every server: for Xvnc it cannot be told apart.
# shellcheck disable=SC2054 # the values are comma lists on purpose
declare -A COMMS=(
	[moat]=moatd,moat-net,moat-session,Xvfb
	[moat_inproc]=moatd-inprocess,moat-session,Xvfb
	[x0vncserver]=X0tigervnc,Xvfb
	[Xvnc]=Xtigervnc
	[x11vnc]=x11vnc,Xvfb
	[Xvnc_tls]=Xtigervnc
)
# Tests each server runs (all selected ones when not listed): Xvnc_tls, Xvnc
# logging in as moat does (VeNCrypt X509Plain, PAM), is there for the
# connection metrics.
declare -A ONLY=(
	[Xvnc_tls]="connect memory"
)

# Sum of Pss (kB; or of FIELD of smaps_rollup, e.g. Anonymous) over the
# processes named in the comma list $1.
pss_kb()
{
	local comms=",$1," field=${2:-Pss} d c sum=0 v
	for d in /proc/[0-9]*; do
		c=$(cat "$d/comm" 2>/dev/null) || continue
		[[ "$comms" == *",$c,"* ]] || continue
		v=$(awk -v f="$field:" '$1 == f { print $2 }' "$d/smaps_rollup" 2>/dev/null) || continue
		sum=$((sum + ${v:-0}))
	done
	printf '%s\n' "$sum"
}

# record ROUND SERVER TEST ENC LINE: appends one result line.
record()
{
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RES"
	blog "round $1 $2 $3 $4: $5"
}

# Starts the content generator (MODE RATE) on DISPLAY; waits for "ready".
CONTENT=""
content_start()
{
	local mode=$1 rate=$2 display=$3
	SEQ=$((SEQ + 1))
	CONTENT=content-$SEQ
	moat_bg "$CONTENT" --x "$display" "$BIN/content" -m "$mode" -f "$rate"
	moat_wait_log "$CONTENT" '^ready' 60 || moat_fail "content did not start"
	# Let the server see the new picture before measuring.
	sleep 0.5
}

content_stop()
{
	[[ -z "$CONTENT" ]] || moat_stop "$CONTENT"
	CONTENT=""
}

# vb ROUND SERVER TEST ENC ARGS...: runs vncbench, records its line.
vb()
{
	local round=$1 server=$2 test=$3 enc=$4 out
	shift 4
	out=$(BENCH_USER=$USER_NAME BENCH_PASS=$USER_PASS \
	    timeout $((BENCH_SECS * 4 + 120)) "$BIN/vncbench" -P "$SPORT" \
	    -C "${COMMS[$server]}" -e "$enc" "${VB_EXTRA[@]}" "$@" 2>"$T/vb.err" | tail -n 1) ||
	    out="error=\"exit status $? $(tail -n 1 "$T/vb.err" | tr -d '"')\""
	[[ -n "$out" ]] || out="error=\"no output: $(tail -n 1 "$T/vb.err" | tr -d '"')\""
	if [[ -s "$T/vb.err" ]]; then
		printf '== round %s %s %s %s\n' "$round" "$server" "$test" "$enc" >>"$BENCH_OUT/stderr.log"
		tail -n 50 "$T/vb.err" >>"$BENCH_OUT/stderr.log"
	fi
	record "$round" "$server" "$test" "$enc" "$out"
}

has_test()
{
	[[ " $BENCH_TESTS " == *" $1 "* ]] || return 1
	[[ -z "${ONLY[$CUR]:-}" || " ${ONLY[$CUR]} " == *" $1 "* ]]
}

# Pss (kB) of each process name of the comma list $1: "name=kB ...".
pss_by_comm()
{
	local c out=""
	for c in ${1//,/ }; do
		out+=" pss_${c//-/_}_kb=$(pss_kb "$c") anon_${c//-/_}_kb=$(pss_kb "$c" Anonymous)"
	done
	printf '%s\n' "${out# }"
}

# ---- the servers -------------------------------------------------------------------

moat_setup()
{
	moat_ensure_net_user
	moat_pam_service moat
	moat_empty_root "$T/empty"
	moat_add_user "$USER_NAME" "$USER_PASS"
}

# Starts moatd and moat-session on $XVFB for round $1; sets SPORT, DISP. With
# more arguments, $2 names the processes and $3... is the moatd command.
start_moat()
{
	local r=$1 tag=${2:-moatd}
	local -a moatd=("${@:3}")
	((${#moatd[@]} > 0)) || moatd=("$(moat_bin moatd)")
	SPORT=$(moat_free_port)
	CONF=$T/etc/$tag-$r.conf
	CA=$T/etc/identity.crt
	EVENTS=$T/events-$tag-$r.log
	moat_write_config "$CONF" \
	    ListenAddress=127.0.0.1 "ListenPort=$SPORT" \
	    "IdentityKey=$T/etc/identity.key" "IdentityCert=$CA" \
	    "EmptyRoot=$T/empty" "SessionSocket=$T/run/session.sock" \
	    "LogFile=$EVENTS" BlacklistThreshold=0 MaxStartups=1000 \
	    PerSourceMaxStartups=1000 MaxConnections=200 "${BENCH_MOAT_CONF[@]}"
	moat_bg "$tag-$r" "${moatd[@]}" -d -f "$CONF"
	moat_wait_port "$SPORT"
	SERVED=$XVFB
	moat_start_session "session-$tag-$r"
	VB_EXTRA=(-A "$CA")
	STOP=("$tag-$r" "session-$tag-$r")
	DISP=$XVFB
}

# moat without its privilege separation: moatd-inprocess (SECURITY.md, "The
# in-process benchmark build") runs each connection's moat-net code in a
# thread of its monitor, with no exec and no sandbox, the monitor's answers
# as function calls. The same configuration, moat-session, TLS and PAM login.
start_moat_inproc()
{
	start_moat "$1" moatd-inproc "$BENCH_INPROC_BUILD/moatd-inprocess" \
	    --insecure-inprocess
}

start_x0vncserver()
{
	local r=$1
	SPORT=$(moat_free_port)
	moat_bg "x0-$r" --x "$XVFB" X0tigervnc -display "$XVFB" -rfbport "$SPORT" \
	    -SecurityTypes None -localhost -AlwaysShared \
	    -FrameRate=1000 -PollingCycle=5 -MaxProcessorUsage=100
	moat_wait_port "$SPORT"
	VB_EXTRA=()
	STOP=("x0-$r")
	DISP=$XVFB
}

start_x11vnc()
{
	local r=$1
	SPORT=$(moat_free_port)
	# shellcheck disable=SC2086 # flags are words
	moat_bg "x11vnc-$r" --x "$XVFB" x11vnc -display "$XVFB" -rfbport "$SPORT" \
	    -localhost -nopw -forever -shared $BENCH_X11VNC_FLAGS
	moat_wait_port "$SPORT"
	VB_EXTRA=()
	STOP=("x11vnc-$r")
	DISP=$XVFB
}

# Xvnc is its own X server: the content runs on its display. It takes the
# first free display number (-displayfd), like moat_start_xvfb.
start_Xvnc()
{
	local r=$1 n cookie dfile
	SPORT=$(moat_free_port)
	SEQ=$((SEQ + 1))
	cookie=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	(umask 077 && : >"$T/x/xvnc$SEQ.auth" &&
	    xauth -q -f "$T/x/xvnc$SEQ.auth" add :0 MIT-MAGIC-COOKIE-1 "$cookie")
	dfile=$T/x/xvnc$SEQ.displayfd
	: >"$dfile"
	setsid Xtigervnc -displayfd 3 -geometry 1920x1080 -depth 24 \
	    -rfbport "$SPORT" "${XVNC_SEC[@]}" -localhost -AlwaysShared \
	    -nolisten tcp -FrameRate 1000 -auth "$T/x/xvnc$SEQ.auth" \
	    </dev/null 3>"$dfile" >"$T/xvnc-$SEQ.log" 2>&1 &
	_moat_track "xvnc-$SEQ" "$!"
	moat_wait -m "Xvnc to report its display number" grep -q '^[0-9][0-9]*$' "$dfile" ||
	    moat_fail "Xvnc did not start"
	n=$(<"$dfile")
	printf '%s\n' "$cookie" >"$T/x/$n.cookie"
	printf '1920x1080\n' >"$T/x/$n.geometry"
	rm -f "$T/x/$n.root.auth"	# a display number used before
	moat_wait_port "$SPORT"
	moat_wait -m "Xvnc :$n to accept clients" moat_x ":$n" xdpyinfo ||
	    moat_fail "Xvnc did not start"
	VB_EXTRA=()
	STOP=("xvnc-$SEQ")
	DISP=:$n
}

# Xvnc with moat's login: VeNCrypt X509Plain (TLS with a certificate that
# $CA pins) checked by PAM service "moat" for $USER_NAME.
start_Xvnc_tls()
{
	local r=$1
	if [[ ! -e "$T/etc/xvnc.crt" ]]; then
		mkdir -p "$T/etc"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
		    -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
		    -keyout "$T/etc/xvnc.key" -out "$T/etc/xvnc.crt" 2>/dev/null ||
		    moat_fail "openssl req failed"
		chmod 0600 "$T/etc/xvnc.key"
	fi
	XVNC_SEC=(-SecurityTypes X509Plain -X509Cert "$T/etc/xvnc.crt"
	    -X509Key "$T/etc/xvnc.key" -PAMService moat -PlainUsers "$USER_NAME")
	start_Xvnc "$r"
	XVNC_SEC=(-SecurityTypes None)
	VB_EXTRA=(-A "$T/etc/xvnc.crt")
}

# measure ROUND SERVER: every selected test against the running server.
measure()
{
	local r=$1 s=$2 e pss0 pss1 hold
	if has_test static || has_test connect || has_test memory; then
		content_start static 1 "$DISP"
		if has_test static; then
			for e in $BENCH_ENCS; do
				vb "$r" "$s" static "$e" -m full -t "$BENCH_SECS"
			done
		fi
		if has_test connect; then
			vb "$r" "$s" connect tightq8 -m connect -n "$BENCH_CONN_N"
		fi
		if has_test memory; then
			sleep 0.5
			pss0=$(pss_kb "${COMMS[$s]}")
			record "$r" "$s" memory-idle - "$(pss_by_comm "${COMMS[$s]}")"
			SEQ=$((SEQ + 1))
			hold=hold-$SEQ
			moat_bg "$hold" env BENCH_USER="$USER_NAME" BENCH_PASS="$USER_PASS" \
			    "$BIN/vncbench" -P "$SPORT" -C "${COMMS[$s]}" -e tightq8 \
			    "${VB_EXTRA[@]}" -m hold -n "$BENCH_HOLD_N"
			if moat_wait_log "$hold" '^ready' 60; then
				sleep 1
				pss1=$(pss_kb "${COMMS[$s]}")
				record "$r" "$s" memory tightq8 "clients=$BENCH_HOLD_N pss0_kb=$pss0 pss1_kb=$pss1 pss_kb_per_conn=$(((pss1 - pss0) / BENCH_HOLD_N)) $(pss_by_comm "${COMMS[$s]}")"
			else
				record "$r" "$s" memory tightq8 "error=\"hold failed\""
			fi
			moat_stop "$hold"
		fi
		content_stop
	fi
	if has_test latency; then
		content_start marker 1 "$DISP"
		for e in $BENCH_LAT_ENCS; do
			vb "$r" "$s" latency "$e" -m latency -n "$BENCH_LAT_N"
		done
		content_stop
	fi
	for fps in 30 60; do
		has_test "full$fps" || continue
		content_start full "$fps" "$DISP"
		for e in $BENCH_MOVE_ENCS; do
			vb "$r" "$s" "full$fps" "$e" -m incr -t "$BENCH_SECS"
		done
		content_stop
	done
	if has_test scroll; then
		content_start scroll 60 "$DISP"
		for e in $BENCH_MOVE_ENCS; do
			vb "$r" "$s" scroll "$e" -m incr -t "$BENCH_SECS"
		done
		content_stop
	fi
}

blog "results in $BENCH_OUT; servers: $BENCH_SERVERS; tests: $BENCH_TESTS; ${BENCH_SECS}s; $BENCH_ROUNDS rounds"
{
	printf 'date\t%s\n' "$(date -u +%FT%TZ)"
	printf 'host\t%s, %s cores\n' "$(uname -r)" "$(nproc)"
	printf 'moat\t%s\n' "$MOAT_SRC"
} >"$BENCH_OUT/meta.txt"
moat_setup
moat_start_xvfb XVFB 1920x1080x24
for ((round = 1; round <= BENCH_ROUNDS; round++)); do
	record "$round" - load - "load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
	for s in $BENCH_SERVERS; do
		case "$s" in
		moat|moat_inproc|x0vncserver|Xvnc|x11vnc|Xvnc_tls) ;;
		*) moat_fail "unknown server $s" ;;
		esac
		blog "round $round: $s"
		CUR=$s
		"start_$s" "$round"
		measure "$round" "$s"
		moat_stop "${STOP[@]}"
	done
done
record "$BENCH_ROUNDS" - load-end - "load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
python3 "$BENCH_SRC/summarize.py" "$RES" | tee "$BENCH_OUT/table.md"
_MOAT_ENDED=1
exit 0
