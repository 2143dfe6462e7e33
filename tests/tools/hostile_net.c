/*
 * hostile_net.c - test stand-in for a compromised moat-net. The monitor
 * execs it (NetBinary=...) exactly as it would exec moat-net: viewer socket
 * on fd 3, monitor IPC on fd 4. It reads one command line from the viewer
 * socket (plain text, no RFB) and then misbehaves on the IPC channel in the
 * way named, so tests can check that the monitor ends the connection and
 * logs it. Test code only; it is never installed.
 *
 * Commands: unknown, closing-twice, auth-twice, fd, oversize-log,
 *           bad-log-level, trailing, session-msg, rsa-twice, rsa-short,
 *           rsa-type, well-behaved
 * The rsa-* commands ask the monitor to decrypt an RSA-AES ClientRandom:
 * twice (the second request is refused), with a ciphertext one byte
 * shorter than the identity modulus, and for RA2ne (6), which the default
 * policy does not offer.
 */
#include <sys/socket.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/buf.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"

/* Well-formed messages go through the real encoders; malformed ones below are built by hand. */
static void
send_auth(const char *user, const char *pass)
{
	struct ipc_auth_password ap = { (char *)user, (char *)pass };

	ipc_msg_send_auth_password(4, &ap, -1);
}

static void
send_closing(void)
{
	struct ipc_net_closing cl = { IPC_CLOSE_CLIENT, ipc_view_cstr("bye"),
	    1, 2 };

	ipc_msg_send_net_closing(4, &cl, -1);
}

/* Sends a well-formed info line, with descriptor fd unless it is -1. */
static void
send_log(const char *text, int fd)
{
	struct ipc_net_log lm = { 2, ipc_view_cstr(text) };

	ipc_msg_send_net_log(4, &lm, fd);
}

/* Asks the monitor to decrypt len zero bytes for security type type. */
static void
send_rsa_decrypt(uint8_t type, size_t len)
{
	static const uint8_t zero[IPC_MAX_RSA_CIPHERTEXT];
	struct ipc_rsa_decrypt rq = { type, { zero, len } };

	ipc_msg_send_rsa_decrypt(4, &rq, -1);
}

int
main(void)
{
	struct ipc_net_init init;
	struct ipc_msg m;
	struct buf b;
	char cmd[64];
	size_t modlen = 0;
	ssize_t n;
	int fd;

	if (ipc_recv(4, &m, 0) != 0 || m.type != IPC_MON_NET_INIT)
		return 2;
	/* The identity modulus size, from the public key's bit count. */
	if (ipc_msg_get_net_init(&m.payload, &init) == 0) {
		const uint8_t *k = init.rsa_public.p;

		if (init.rsa_public.len >= 4)
			modlen = (((size_t)k[0] << 24 | (size_t)k[1] << 16 |
			    (size_t)k[2] << 8 | k[3]) + 7) / 8;
		ipc_msg_free_net_init(&init);
	}
	ipc_msg_clear(&m);
	if (modlen == 0 || modlen > IPC_MAX_RSA_CIPHERTEXT)
		return 2;
	n = read(3, cmd, sizeof(cmd) - 1);
	if (n <= 0)
		return 2;
	cmd[n] = '\0';
	cmd[strcspn(cmd, "\r\n")] = '\0';
	buf_init(&b, IPC_MAX_PAYLOAD);
	if (strcmp(cmd, "unknown") == 0) {
		ipc_send_raw(4, 999, "x", 1, -1);
	} else if (strcmp(cmd, "closing-twice") == 0) {
		send_closing();
		send_closing();
	} else if (strcmp(cmd, "auth-twice") == 0) {
		send_auth("nosuchuser", "a");
		if (ipc_recv(4, &m, 0) == 0)
			ipc_msg_clear(&m);
		send_auth("nosuchuser", "b");
	} else if (strcmp(cmd, "fd") == 0) {
		fd = open("/dev/null", O_RDONLY);
		send_log("here is a descriptor", fd);
	} else if (strcmp(cmd, "oversize-log") == 0) {
		char big[5000];

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		buf_put_u8(&b, 2);
		buf_put_cstring(&b, big);
		ipc_send(4, IPC_NET_LOG, &b, -1);
	} else if (strcmp(cmd, "bad-log-level") == 0) {
		buf_put_u8(&b, 9);
		buf_put_cstring(&b, "level nine");
		ipc_send(4, IPC_NET_LOG, &b, -1);
	} else if (strcmp(cmd, "trailing") == 0) {
		buf_put_u8(&b, 2);
		buf_put_cstring(&b, "ok");
		buf_put_u8(&b, 0);
		ipc_send(4, IPC_NET_LOG, &b, -1);
	} else if (strcmp(cmd, "rsa-twice") == 0) {
		send_rsa_decrypt(129, modlen);
		if (ipc_recv(4, &m, 0) == 0) {
			if (m.type == IPC_MON_RSA_RESULT)
				send_log("hostile_net: first decrypt answered", -1);
			ipc_msg_clear(&m);
		}
		send_rsa_decrypt(129, modlen);
	} else if (strcmp(cmd, "rsa-short") == 0) {
		send_rsa_decrypt(129, modlen - 1);
	} else if (strcmp(cmd, "rsa-type") == 0) {
		send_rsa_decrypt(6, modlen);
	} else if (strcmp(cmd, "session-msg") == 0) {
		/* A message only the monitor may send. */
		struct ipc_session_channel sc = { IPC_PERM_ALL, 0 };

		ipc_msg_send_session_channel(4, &sc, -1);
	} else {
		send_log("hostile_net: well-behaved log line", -1);
		send_closing();
		if (write(3, "done\n", 5) != 5)
			return 1;
		return 0;
	}
	buf_free(&b);
	/* Wait for the monitor to end us (it kills us or closes the channel). */
	while (ipc_recv(4, &m, 0) == 0)
		ipc_msg_clear(&m);
	if (write(3, "monitor closed the channel\n", 27) != 27)
		return 1;
	return 0;
}
