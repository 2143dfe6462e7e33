# shellcheck shell=bash
# radius.sh - a real FreeRADIUS 3.2.1 for end-to-end tests, from a private
# copy of /etc/freeradius/3.0 under $T: loopback only (127.0.0.1 and, when
# IPv6 is up, ::1), a free UDP port, require_message_authenticator = yes,
# every reply signed with Message-Authenticator (3.2.1 does not sign on its
# own). Users with a TOTP-Secret are asked their password, then a TOTP code
# in an Access-Challenge with State 0x$FR_STATE (rlm_totp; codes from
# oathtool). Sourced after lib.sh and moat_test_begin; lib.sh stops the
# daemon and removes $T on exit. Test code.
#
# After moat_radius_start USERS (lines of mods-config/files/authorize):
#   RADIUS_PORT   the UDP port
#   $T/secret     the shared secret (root-only, one line)

TOTP_KEY=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ	# base32, for TOTP-Secret and oathtool
FR_STATE=00ff0a6d6f61742d6f7470		# the State the site hands out

have_ipv6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then
	have_ipv6=1
fi

# Prints a UDP port free on 127.0.0.1 (and on ::1 when IPv6 is up).
free_udp_port()
{
	python3 - "$have_ipv6" <<'EOF'
import socket, sys
while True:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    if sys.argv[1] == "1":
        try:
            s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s6.bind(("::1", port))
            s6.close()
        except OSError:
            continue
    print(port)
    break
EOF
}

# True when something listens on UDP port $1.
# shellcheck disable=SC2317 # called through moat_wait
udp_listens()
{
	[[ -n "$(ss -Hlun "sport = :$1")" ]]
}

# A TOTP code for TOTP_KEY valid for at least two more seconds (not at a
# step's edge).
moat_totp_now()
{
	# shellcheck disable=SC2016 # expanded by the inner shell
	moat_wait -t 5 -m "a TOTP step with 2 s left" \
	    bash -c '(( $(date +%s) % 30 < 28 ))'
	oathtool --totp -b "$TOTP_KEY"
}

moat_radius_start()
{
	local users=$1 port secret listen6 R=$T/radius rd
	secret=$(head -c 24 /dev/urandom | base64 | tr -d '/+=')
	(umask 077 && printf '%s\n' "$secret" >"$T/secret")
	port=$(free_udp_port)
	moat_log "FreeRADIUS on UDP port $port (IPv6: $have_ipv6)"
	mkdir -p "$R"
	rd=$R/raddb
	cp -a /etc/freeradius/3.0 "$R/raddb"
	mkdir "$R/run" "$R/log"
	sed -i -E "s|^(\s*)raddbdir = .*|\1raddbdir = $rd|;
	    s|^(\s*)logdir = .*|\1logdir = $R/log|;
	    s|^(\s*)run_dir = .*|\1run_dir = $R/run|;
	    s|^(\s*)proxy_requests\s*=.*|\1proxy_requests = no|;
	    s|^(\s*)reject_delay = .*|\1reject_delay = 0|" "$rd/radiusd.conf"
	grep -q "raddbdir = $rd" "$rd/radiusd.conf" || moat_fail "radiusd.conf: raddbdir not replaced"
	grep -q 'proxy_requests = no' "$rd/radiusd.conf" || moat_fail "radiusd.conf: proxy_requests not replaced"
	rm -f "$rd"/sites-enabled/* "$rd/mods-enabled/eap"
	ln -s ../mods-available/totp "$rd/mods-enabled/totp"

	{
		printf 'client moat4 {\n\tipaddr = 127.0.0.1\n\tsecret = "%s"\n' "$secret"
		printf '\trequire_message_authenticator = yes\n}\n'
		if ((have_ipv6)); then
			printf 'client moat6 {\n\tipv6addr = ::1\n\tsecret = "%s"\n' "$secret"
			printf '\trequire_message_authenticator = yes\n}\n'
		fi
	} >"$rd/clients.conf"

	printf '%s\n' "$users" >"$rd/mods-config/files/authorize"

	listen6=""
	if ((have_ipv6)); then
		listen6="listen {
		type = auth
		ipv6addr = ::1
		port = $port
	}"
	fi
	cat >"$rd/sites-available/moattest" <<EOF
# moat's test site: users by password; users with a TOTP-Secret by password,
# then a TOTP code answered with the State of the challenge. Every reply is
# signed.
server moattest {
listen {
	type = auth
	ipaddr = 127.0.0.1
	port = $port
}
$listen6
authorize {
	files
	if (&control:TOTP-Secret) {
		if (!&State) {
			update control {
				&Auth-Type := moat-password-step
			}
		}
		elsif (&State == 0x$FR_STATE) {
			update request {
				&TOTP-Password := &User-Password
			}
			update control {
				&Auth-Type := moat-totp-step
			}
		}
		else {
			reject
		}
	}
	else {
		pap
	}
}
authenticate {
	Auth-Type PAP {
		pap
	}
	Auth-Type moat-password-step {
		pap
		if (ok) {
			update reply {
				&State := 0x$FR_STATE
				&Reply-Message := "Enter the 6-digit code"
				&Reply-Message += "from your authenticator app"
				&Message-Authenticator := 0x00
			}
			update control {
				&Response-Packet-Type := Access-Challenge
			}
			handled
		}
	}
	Auth-Type moat-totp-step {
		totp
	}
}
post-auth {
	update reply {
		&Message-Authenticator := 0x00
	}
	Post-Auth-Type REJECT {
		update reply {
			&Message-Authenticator := 0x00
		}
	}
}
}
EOF
	ln -s ../sites-available/moattest "$rd/sites-enabled/moattest"
	chown -R freerad: "$R"

	moat_check "FreeRADIUS accepts the configuration" \
	    bash -c "freeradius -C -X -d '$rd' 2>&1 | grep -q 'Configuration appears to be OK'"
	moat_bg freeradius freeradius -f -l stdout -d "$rd"
	moat_wait -m "FreeRADIUS on UDP port $port" udp_listens "$port"
	# Loopback only: nothing listens on a wildcard address for this server.
	moat_check_eq "FreeRADIUS listens on loopback only" "" \
	    "$(ss -Hlun | awk '{print $4}' | grep -E '^(0\.0\.0\.0|\*|\[::\]):' |
	    grep -E ":$port\$" || true)"
	# shellcheck disable=SC2034 # read by the tests that source this file
	RADIUS_PORT=$port
}
