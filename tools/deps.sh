#!/usr/bin/env bash
#
# deps.sh - the one list of Debian 12 packages that moat's build, tests and
# demo need, and the installer that tools/test.sh, tools/demo.sh and .ci/run
# share.
#
# Runs as root (it installs packages) on the developer's or CI machine; it
# trusts the host's apt configuration. When every package is already
# installed it does not touch apt at all, so re-runs are fast and need no
# network.
#
#   tools/deps.sh [all|build|runtime]   install what is missing (default all)
#   tools/deps.sh --list [SET]          print the package names, one a line
#   tools/deps.sh --missing [SET]       print the missing ones; exit 1 if any
#
# Sourced, it defines moat_deps_install, moat_deps_missing and the arrays.

# Compilers, headers and libraries for the C build (CMakeLists.txt).
# clang with its sanitizer and libFuzzer runtimes (libclang-rt-dev, only
# recommended by clang) and llvm-symbolizer (llvm) for tools/assure.sh.
MOAT_DEPS_BUILD=(
	build-essential cmake pkg-config clang libclang-rt-dev llvm
	libssl-dev libseccomp-dev libcap-ng-dev libpam0g-dev zlib1g-dev
	libx11-dev libxext-dev libxdamage-dev libxfixes-dev libxtst-dev
	libxi-dev libxss-dev
	# moat-session's SetDesktopSize through RandR (capture/cap_randr.c).
	libxrandr-dev
	# moat-session's capture into the framebuffer memfd (capture/cap_shmfd.c).
	libx11-xcb-dev libxcb-shm0-dev
	libsasl2-dev libkrb5-dev
	# The audit journal sink (sd_journal_sendv, monitor/audit.c).
	libsystemd-dev
	# Tight's JPEG (TurboJPEG API); libvncclient decodes every encoder's
	# output in tests/unit/test_enc_roundtrip.c.
	libturbojpeg0-dev libvncserver-dev
)

# What the end-to-end tests and the demo run: an X server and clients, real
# viewers, image checks, PAM, user management, namespaces and process tools;
# valgrind and checksec for tests/e2e/test_valgrind.sh and test_hardening.sh.
MOAT_DEPS_RUNTIME=(
	xvfb xauth x11-utils x11-xserver-utils x11-apps xdotool xclip xterm twm
	xinput
	# moat-session's RandR library; tests/e2e/test_desktop_resize.sh: an X
	# server that can resize (Xorg with the dummy video driver).
	libxrandr2 xserver-xorg-core xserver-xorg-video-dummy
	# systemd-journald and journalctl for tests/e2e/test_audit.sh's journal.
	systemd
	imagemagick tigervnc-viewer gvncviewer
	openssl procps iproute2 util-linux bsdutils bsdextrautils
	libcap-ng-utils python3 passwd login pamtester
	valgrind checksec
	# tests/e2e/test_radius.sh: a real FreeRADIUS (rlm_totp) and TOTP codes.
	freeradius oathtool
	# tests/e2e/test_pam_conversation.sh: a one-time code asked by PAM.
	libpam-oath
	# tests/e2e/test_novnc.sh: noVNC (fetched with npm, which comes with the
	# machine's nodejs) in headless Chromium behind a WebSocket bridge.
	chromium websockify
	# tests/e2e/test_certificate.sh: a smartcard (SoftHSM2 token, pkcs11-tool)
	# and libp11's engine for CSRs signed on the token.
	softhsm2 opensc libengine-pkcs11-openssl libp11-dev
	# tests/e2e/test_viewer_x509none.sh: TigerVNC's Xvnc, a standard X509None server.
	tigervnc-standalone-server
	# The Kerberos factor: Cyrus SASL's GSSAPI mechanism (moatd); and for
	# tests/e2e/test_kerberos.sh a throwaway MIT KDC and kinit.
	libsasl2-modules-gssapi-mit krb5-kdc krb5-admin-server krb5-user
	# tests/e2e/test_blacklist.sh: real attack tools against the blacklist.
	nmap hydra
)

# Prints the package names of SET (all, build or runtime), one a line.
moat_deps_list()
{
	case "${1:-all}" in
	build) printf '%s\n' "${MOAT_DEPS_BUILD[@]}" ;;
	runtime) printf '%s\n' "${MOAT_DEPS_RUNTIME[@]}" ;;
	all) printf '%s\n' "${MOAT_DEPS_BUILD[@]}" "${MOAT_DEPS_RUNTIME[@]}" ;;
	*)
		printf 'deps.sh: unknown set "%s" (all, build, runtime)\n' "$1" >&2
		return 2
		;;
	esac
}

# Prints the packages of SET that are not installed; returns 1 if any.
moat_deps_missing()
{
	local pkg status list missing=0
	list=$(moat_deps_list "${1:-all}") || return 2
	for pkg in $list; do
		status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
		if [[ "$status" != ii* ]]; then
			printf '%s\n' "$pkg"
			missing=1
		fi
	done
	return "$missing"
}

# Installs the missing packages of SET: one apt-get update, then one
# apt-get install --no-install-recommends. Returns apt's failure, if any.
moat_deps_install()
{
	local set=${1:-all} missing
	local -a pkgs apt_opts
	if missing=$(moat_deps_missing "$set"); then
		echo "deps: every package ($set) is installed"
		return 0
	fi
	[[ -n "$missing" ]] || return 2
	mapfile -t pkgs <<<"$missing"
	if ((EUID != 0)); then
		printf 'deps: missing packages: %s\n' "${pkgs[*]}" >&2
		printf 'deps: run as root, or: sudo apt-get install --no-install-recommends %s\n' \
		    "${pkgs[*]}" >&2
		return 1
	fi
	# Wait for another apt or dpkg to finish instead of failing at once.
	apt_opts=(-o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
	printf 'deps: installing %s\n' "${pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" -q update || return 1
	DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" -q -y \
	    --no-install-recommends install "${pkgs[@]}" || return 1
	if missing=$(moat_deps_missing "$set"); then
		echo "deps: done"
		return 0
	fi
	printf 'deps: still missing after apt-get install: %s\n' "$(tr '\n' ' ' <<<"$missing")" >&2
	return 1
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -euo pipefail
	case "${1:-all}" in
	--list) moat_deps_list "${2:-all}" ;;
	--missing) moat_deps_missing "${2:-all}" ;;
	-h | --help) sed -n '3,/^$/s/^# \{0,1\}//p' "$0" ;;
	*) moat_deps_install "${1:-all}" ;;
	esac
fi
