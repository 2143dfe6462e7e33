#!/usr/bin/env bash
#
# demo.sh - builds moat and runs a local demo in the foreground until Ctrl-C:
# a virtual X desktop (Xvfb, twm, xterm) owned by a throw-away account, moatd
# on 127.0.0.1:5900 and moat-session serving that desktop. It prints the
# account's password, the server's identity fingerprint and the viewer command.
#
# Runs as root on a developer's machine. It trusts the source tree it belongs
# to. It installs (once, and leaves in place) what a real installation has:
# the system user moat-net, /var/empty/moat, /etc/pam.d/moat and
# /etc/moat/moatd.conf (the last two only when missing). The demo account
# `moatdemo` is created on every run and deleted on exit.
#
#   tools/demo.sh [--no-build]
#
# Environment: MOAT_DEMO_BUILD_DIR (default ./build-demo in the source tree).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
build=${MOAT_DEMO_BUILD_DIR:-$src/build-demo}
demo_user=moatdemo
demo_gecos="moat demo account (tools/demo.sh)"
conf_dir=/etc/moat
conf=$conf_dir/moatd.conf
geometry=1280x800x24
build_it=1

die()
{
	printf 'demo: %s\n' "$*" >&2
	exit 1
}

say()
{
	printf 'demo: %s\n' "$*"
}

for arg in "$@"; do
	case "$arg" in
	--no-build) build_it=0 ;;
	-h | --help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) die "unknown argument '$arg' (try --help)" ;;
	esac
done
((EUID == 0)) || die "run as root: it creates users and starts moatd (sudo $0)"

# ---- build ---------------------------------------------------------------------
# shellcheck source=tools/deps.sh
source "$here/deps.sh"
moat_deps_install all
if ((build_it)); then
	cmake -S "$src" -B "$build" -DMOAT_SELFTEST=OFF
	cmake --build "$build" --target moatd moat-net moat-session -j "$(nproc)"
fi
for b in moatd moat-net moat-session; do
	[[ -x "$build/$b" ]] || die "$build/$b is not built"
done

# ---- state and cleanup -------------------------------------------------------------
declare -A pids=()	# name -> pid (each its own process group)
order=()
run_dir=""
stopping=0
started=0	# 1 once the demo account exists: from then on, clean up

# Stops every process this script started (TERM, then KILL after 5 s),
# newest first, then deletes the demo account and the scratch directory.
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup()
{
	local rc=$? i name pid n
	set +e
	trap - INT TERM HUP
	((stopping)) && return
	stopping=1
	((started)) || exit "$rc"
	echo
	say "stopping"
	for ((i = ${#order[@]} - 1; i >= 0; i--)); do
		kill -TERM -- "-${pids[${order[$i]}]}" 2>/dev/null
	done
	for name in "${order[@]}"; do
		pid=${pids[$name]}
		for ((n = 0; n < 50; n++)); do
			kill -0 -- "-$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 -- "-$pid" 2>/dev/null; then
			say "$name did not stop on SIGTERM, killing it"
			kill -KILL -- "-$pid" 2>/dev/null
		fi
	done
	wait 2>/dev/null
	remove_demo_user
	[[ -n "$run_dir" ]] && rm -rf -- "$run_dir"
	say "stopped; $demo_user deleted"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Deletes the demo account if it exists and is ours (by its GECOS field).
remove_demo_user()
{
	local entry
	entry=$(getent passwd "$demo_user") || return 0
	if [[ "$(cut -d: -f5 <<<"$entry")" != "$demo_gecos" ]]; then
		say "WARNING: user $demo_user exists but was not made by this script; left alone"
		return 1
	fi
	userdel --remove "$demo_user" 2>/dev/null || userdel --force --remove "$demo_user" 2>/dev/null ||
	    say "WARNING: could not delete $demo_user"
}

# start NAME [--log] [--as USER] CMD...: runs CMD in the background in its
# own process group, output to the terminal (or, --log, to a file).
start()
{
	local name=$1 out=""
	shift
	if [[ "$1" == --log ]]; then
		out="$run_dir/$name.log"
		shift
	fi
	if [[ "$1" == --as ]]; then
		local user=$2 home
		shift 2
		home=$(getent passwd "$user" | cut -d: -f6)
		set -- setpriv --reuid="$user" --regid="$user" --init-groups \
		    env -i -C "$home" PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" \
		    USER="$user" LOGNAME="$user" SHELL=/bin/bash LANG=C.UTF-8 "$@"
	fi
	if [[ -n "$out" ]]; then
		setsid "$@" </dev/null >"$out" 2>&1 &
	else
		setsid "$@" </dev/null &
	fi
	pids[$name]=$!
	order+=("$name")
	# Until setsid(1) has run, a signal to the group would miss the child.
	local n stat
	for ((n = 0; n < 500; n++)); do
		read -r stat 2>/dev/null <"/proc/$!/stat" || break
		stat=${stat##*) }
		read -r _ _ stat _ <<<"$stat"
		[[ "$stat" == "$!" ]] && break
		sleep 0.01
	done
}

# wait_for WHAT SECONDS CMD...: polls CMD every 0.1 s; dies on timeout or
# when a process this script started has exited.
wait_for()
{
	local what=$1 secs=$2 deadline name
	shift 2
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		for name in "${order[@]}"; do
			kill -0 "${pids[$name]}" 2>/dev/null || die "$name exited while waiting for $what"
		done
		((SECONDS < deadline)) || die "timed out after ${secs}s waiting for $what"
		sleep 0.1
	done
}

port_listens()
{
	[[ -n "$(ss -Hltn "sport = :$1")" ]]
}

# conf_value KEY DEFAULT: the value of KEY in moatd.conf, or DEFAULT.
conf_value()
{
	local v
	v=$(sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\\(.*[^[:space:]]\\)[[:space:]]*\$/\\1/p" "$conf" | tail -n 1)
	printf '%s\n' "${v:-$2}"
}

# ---- system set-up (idempotent) ----------------------------------------------------
if ! getent passwd moat-net >/dev/null; then
	say "creating system user moat-net"
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin --user-group moat-net
fi

for d in /var/empty /var/empty/moat; do
	[[ -d "$d" ]] || install -d -m 0755 -o root -g root "$d"
	[[ "$(stat -c %u "$d")" == 0 && $((8#$(stat -c %a "$d") & 8#022)) == 0 ]] ||
	    die "$d must be owned by root and writable only by root"
done
[[ -z "$(ls -A /var/empty/moat)" ]] || die "/var/empty/moat is not empty; moat-net's root must be"

if [[ ! -e /etc/pam.d/moat ]]; then
	say "writing /etc/pam.d/moat (Debian's common-auth and common-account)"
	printf '# PAM service of moatd (written by tools/demo.sh)\n@include common-auth\n@include common-account\n' \
	    >/etc/pam.d/moat
	chmod 0644 /etc/pam.d/moat
fi

install -d -m 0755 -o root -g root "$conf_dir"
if [[ ! -e "$conf" ]]; then
	say "writing $conf"
	cat >"$conf" <<'EOF'
# moatd configuration (written by tools/demo.sh)
ListenAddress=127.0.0.1
ListenPort=5900
IdentityKey=/etc/moat/identity.key
IdentityCert=/etc/moat/identity.crt
EmptyRoot=/var/empty/moat
NetUser=moat-net
SessionSocket=/run/moat/session.sock
PamService=moat
EOF
	chmod 0644 "$conf"
fi
listen_addr=$(conf_value ListenAddress 127.0.0.1)
listen_port=$(conf_value ListenPort 5900)
identity_cert=$(conf_value IdentityCert /etc/moat/identity.crt)
session_socket=$(conf_value SessionSocket /run/moat/session.sock)
install -d -m 0755 -o root -g root "$(dirname "$session_socket")"

if port_listens "$listen_port"; then
	die "TCP port $listen_port is in use (another moatd or VNC server?)"
fi

# ---- the demo account and its desktop ------------------------------------------------
remove_demo_user || die "pick another machine or delete $demo_user yourself"
started=1
password=$(openssl rand -hex 12)
useradd --create-home --comment "$demo_gecos" --shell /bin/bash --user-group "$demo_user"
printf '%s:%s\n' "$demo_user" "$password" | chpasswd
home=$(getent passwd "$demo_user" | cut -d: -f6)

run_dir=$(mktemp -d /tmp/moat-demo.XXXXXXXX)
chmod 0755 "$run_dir"
# moat-session runs as the demo user, which may not reach the build tree.
install -m 0755 "$build/moat-session" "$run_dir/moat-session"

# The display belongs to the demo user: its Xvfb, its cookie.
[[ -d /tmp/.X11-unix ]] || install -d -m 1777 /tmp/.X11-unix
cookie=$(openssl rand -hex 16)
xauthority="$home/.Xauthority"
# shellcheck disable=SC2016 # expanded by the inner shell
setpriv --reuid="$demo_user" --regid="$demo_user" --init-groups \
    sh -c 'umask 077 && : >"$1" && xauth -q -f "$1" add :0 MIT-MAGIC-COOKIE-1 "$2"' \
    sh "$xauthority" "$cookie"
: >"$run_dir/displayfd"
start Xvfb --log --as "$demo_user" Xvfb -displayfd 3 -screen 0 "$geometry" -nolisten tcp \
    -auth "$xauthority" 3>"$run_dir/displayfd"
wait_for "Xvfb to start" 30 grep -q '^[0-9][0-9]*$' "$run_dir/displayfd"
display=":$(<"$run_dir/displayfd")"
# The server took the cookie under a placeholder number; clients need it
# under the real one.
setpriv --reuid="$demo_user" --regid="$demo_user" --init-groups \
    xauth -q -f "$xauthority" add "$display" MIT-MAGIC-COOKIE-1 "$cookie"
xenv=(DISPLAY="$display" XAUTHORITY="$xauthority")
wait_for "display $display" 30 \
    setpriv --reuid="$demo_user" --regid="$demo_user" --init-groups env "${xenv[@]}" xdpyinfo
start twm --log --as "$demo_user" "${xenv[@]}" twm
start xterm --log --as "$demo_user" "${xenv[@]}" xterm -geometry 100x30+40+40 -title "moat demo"

# ---- moat ------------------------------------------------------------------------
say "starting moatd (its log follows)"
start moatd "$build/moatd" -d -f "$conf"
wait_for "moatd to listen on $listen_addr:$listen_port" 60 port_listens "$listen_port"
wait_for "$identity_cert" 30 test -s "$identity_cert"
start moat-session --as "$demo_user" "${xenv[@]}" \
    "$run_dir/moat-session" --socket "$session_socket" --display "$display"

# Line 1: the certificate's SHA-256 fingerprint; line 2: the catchphrase.
{ read -r fingerprint; read -r catchphrase; } < <("$build/moatd" --fingerprint -f "$conf")
note=""
if [[ "$(stat -c %a "$identity_cert")" != *[4-7] ]]; then
	note=" (the certificate is readable by root only: run the viewer as root, or
   copy $identity_cert somewhere readable and point -X509CA at the copy)"
fi
viewer_host=$listen_addr
[[ "$viewer_host" == *:* ]] && viewer_host="[$viewer_host]"
cat <<EOF

=====================================================================
 moat demo is running.  Press Ctrl-C to stop it.

 Desktop:   Xvfb $display ($geometry) with twm and an xterm, owned by $demo_user
 Account:   $demo_user
 Password:  $password
 Identity:  $fingerprint
 Catchphrase: $catchphrase

 Connect with TigerVNC, which checks the server against the identity$note:
   VNC_USERNAME=$demo_user VNC_PASSWORD=$password xtigervncviewer -SecurityTypes X509Plain -X509CA $identity_cert $viewer_host::$listen_port
=====================================================================

EOF

# Until Ctrl-C, or until one of the processes exits.
exited=""
wait -n -p exited "${pids[@]}" || true
for name in "${order[@]}"; do
	if [[ "${pids[$name]}" == "$exited" ]]; then
		say "$name exited; stopping the demo"
		exit 1
	fi
done
exit 0
