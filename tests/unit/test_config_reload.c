/*
 * test_config_reload.c - unit tests for what a configuration reload and
 * the control socket use from policy/: comparing and copying one
 * parameter (config_param_equal(), config_param_copy()), finding one by
 * name (config_param_index()), the control socket's path
 * (config_control_socket()), and changing a blacklist table's threshold
 * and timeout without losing its entries (penalty_configure()). Test code.
 */
#include <stdio.h>
#include <string.h>

#include "policy/config.h"
#include "policy/penalty.h"
#include "privsep/errors.h"

#include "check.h"

static int
parse(struct moat_config *c, const char *text)
{
	char err[512];

	config_defaults(c);
	return config_parse_text(c, NULL, "t.conf", text, strlen(text), 0, err,
	    sizeof(err));
}

static void
test_equal_copy(void)
{
	static struct moat_config a, b;
	int port, auth, ipc, name, sock;
	size_t i;

	port = config_param_index("ListenPort");
	auth = config_param_index("Authentication");
	ipc = config_param_index("IpClientAddresses");
	name = config_param_index("DesktopName");
	sock = config_param_index("ControlSocket");
	CHECK(port >= 0 && auth >= 0 && ipc >= 0 && name >= 0 && sock >= 0);
	CHECK(config_param_index("listenport") == -1, "exact case");
	CHECK(config_param_index("Nope") == -1);
	CHECK(parse(&a, "ListenPort=5901\nDesktopName=one\n") == 0);
	CHECK(parse(&b, "ListenPort=5902\nDesktopName=one\n"
	    "IpClientAddresses=-10.0.0.0/8\nAuthentication=SystemAuth\n") == 0);
	for (i = 0; i < config_param_count(); i++)
		CHECK(config_param_equal(&a, &b, i) == ((int)i != port &&
		    (int)i != ipc), "parameter %zu", i);
	CHECK(!config_param_equal(&a, &b, config_param_count()),
	    "out of range: not equal");
	/* A string compares by its text, not by the bytes after it. */
	b.desktop_name[10] = 'x';
	CHECK(config_param_equal(&a, &b, (size_t)name));
	/* Copying the running value back. */
	CHECK(config_param_copy(&b, &a, (size_t)port) == 0 &&
	    b.listen_port == 5901 && config_param_equal(&a, &b, (size_t)port));
	CHECK(parse(&b, "DesktopName=two\n") == 0);
	CHECK(config_param_copy(&b, &a, (size_t)name) == 0 &&
	    strcmp(b.desktop_name, "one") == 0);
	/* Parameters with a parsed companion are refused, dst unchanged. */
	CHECK(parse(&b, "IpClientAddresses=-10.0.0.0/8\n") == 0);
	CHECK(config_param_copy(&b, &a, (size_t)ipc) == MOAT_ERR_INVALID &&
	    strcmp(b.ip_client_addresses, "-10.0.0.0/8") == 0 &&
	    b.ip_client_filter.n == 1);
	CHECK(config_param_copy(&b, &a, (size_t)auth) == MOAT_ERR_INVALID);
	CHECK(config_param_copy(&b, &a, config_param_count()) == 0,
	    "out of range: a no-op");
}

static void
test_control_socket(void)
{
	static struct moat_config c;
	char path[CONFIG_PATH_MAX];

	config_defaults(&c);
	CHECK(config_control_socket(&c, path, sizeof(path)) == 0 &&
	    strcmp(path, "/run/moat/control.sock") == 0, "%s", path);
	CHECK(parse(&c, "SessionSocket=/tmp/x/s.sock\n") == 0);
	CHECK(config_control_socket(&c, path, sizeof(path)) == 0 &&
	    strcmp(path, "/tmp/x/control.sock") == 0, "%s", path);
	CHECK(parse(&c, "SessionSocket=/s.sock\n") == 0);
	CHECK(config_control_socket(&c, path, sizeof(path)) == 0 &&
	    strcmp(path, "/control.sock") == 0, "%s", path);
	CHECK(parse(&c, "ControlSocket=/var/run/moat-ctl\n") == 0);
	CHECK(config_control_socket(&c, path, sizeof(path)) == 0 &&
	    strcmp(path, "/var/run/moat-ctl") == 0, "%s", path);
	CHECK(config_control_socket(&c, path, 10) == MOAT_ERR_CONFIG,
	    "does not fit");
	/* 107 bytes fit a UNIX socket address; 108 do not. */
	memset(c.control_socket, 'a', 107);
	c.control_socket[0] = '/';
	c.control_socket[107] = '\0';
	CHECK(config_control_socket(&c, path, sizeof(path)) == 0);
	memset(c.control_socket, 'a', 108);
	c.control_socket[0] = '/';
	c.control_socket[108] = '\0';
	CHECK(config_control_socket(&c, path, sizeof(path)) == MOAT_ERR_CONFIG);
	CHECK(parse(&c, "ControlSocket=relative\n") == MOAT_ERR_CONFIG,
	    "an absolute path");
}

static void
test_penalty_configure(void)
{
	static struct penalty_entry slots[8];
	struct penalty_table t;
	struct penalty_key k;
	struct ip_addr a = { 4, { 192, 0, 2, 1 } };
	struct penalty_status st;

	penalty_init(&t, slots, 8, 2, 10);
	penalty_key_addr(&k, &a, NULL);
	CHECK(penalty_fail(&t, &k, 100, &st) == 0 && st.failures == 1);
	penalty_configure(&t, 5, 0);
	CHECK(t.threshold == 5 && t.timeout == 1, "timeout clamped up");
	CHECK(penalty_fail(&t, &k, 101, &st) == 0 && st.failures == 2 &&
	    st.blocked == 0, "the entry was kept; the new threshold counts");
	penalty_configure(&t, 3, 100000);
	CHECK(t.timeout == PENALTY_MAX_TIMEOUT, "timeout clamped down");
	CHECK(penalty_fail(&t, &k, 102, &st) == 0 && st.failures == 3 &&
	    st.blocked == PENALTY_MAX_TIMEOUT);
	penalty_configure(&t, 0, 10);
	CHECK(penalty_blocked(&t, &k, 103) == 0, "threshold 0: off");
	penalty_configure(&t, 3, 10);
	CHECK(penalty_blocked(&t, &k, 103) > 0, "on again: the block is back");
}

int
main(void)
{
	test_equal_copy();
	test_control_socket();
	test_penalty_configure();
	return check_summary();
}
