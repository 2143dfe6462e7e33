/*
 * test_ipc.c - unit tests for the bounded buffer and the IPC framing:
 * getters never consume partially, limits hold, messages and descriptors
 * cross a real socketpair, a descriptor where none is allowed is refused
 * and closed, and every truncation and bit flip of a framed message is
 * rejected or parsed without reading past it. Test code.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"

#include "check.h"

static void
test_buf(void)
{
	struct buf b, v;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	char *s = NULL;
	const uint8_t *p;
	size_t n;
	uint8_t store[6];

	buf_init(&b, 16);
	CHECK(buf_put_u32(&b, 0x01020304) == 0, "put u32");
	CHECK(buf_put_u16(&b, 0x0506) == 0, "put u16");
	CHECK(buf_put_bytes(&b, "0123456789", 10) == 0, "put 10 bytes to the limit");
	CHECK(buf_put_u8(&b, 1) == MOAT_ERR_TOO_LONG, "put past the limit");
	CHECK(buf_len(&b) == 16, "length 16");
	CHECK(buf_get_u32(&b, &u32) == 0 && u32 == 0x01020304, "get u32 big-endian");
	CHECK(buf_get_u16(&b, &u16) == 0 && u16 == 0x0506, "get u16");
	CHECK(buf_get_bytes(&b, store, 11) == MOAT_ERR_SHORT && buf_len(&b) == 10,
	    "short get consumes nothing");
	CHECK(buf_consume(&b, 10) == 0 && buf_expect_end(&b) == 0, "consume to the end");
	CHECK(buf_get_u8(&b, &u8) == MOAT_ERR_SHORT, "get from empty");
	buf_free(&b);

	/* Strings: length bound, embedded NUL, truncation. */
	buf_init(&b, 64);
	buf_put_cstring(&b, "hello");
	CHECK(buf_get_cstring(&b, &s, &n, 4) == MOAT_ERR_TOO_LONG && buf_len(&b) == 9,
	    "string over its bound is refused, nothing consumed");
	CHECK(buf_get_cstring(&b, &s, &n, 5) == 0 && n == 5 && strcmp(s, "hello") == 0,
	    "string at its bound");
	free(s);
	buf_put_string(&b, "a\0b", 3);
	CHECK(buf_get_cstring(&b, &s, &n, 10) == MOAT_ERR_INVALID && buf_len(&b) == 7,
	    "embedded NUL refused, nothing consumed");
	buf_reset(&b);
	buf_put_u32(&b, 100);
	buf_put_bytes(&b, "abc", 3);
	CHECK(buf_get_string_direct(&b, &p, &n, 1000) == MOAT_ERR_SHORT && buf_len(&b) == 7,
	    "truncated string, nothing consumed");
	buf_free(&b);

	/* Fixed storage never reallocates. */
	buf_init_fixed(&b, store, sizeof(store));
	CHECK(buf_put_u32(&b, 1) == 0 && buf_put_u16(&b, 2) == 0, "fixed: fill");
	CHECK(buf_put_u8(&b, 3) == MOAT_ERR_TOO_LONG && b.data == store, "fixed: full");
	buf_free(&b);

	/* Views are read-only. */
	buf_view(&v, "xyz", 3);
	CHECK(buf_put_u8(&v, 1) != 0, "view: put refused");
	CHECK(buf_get_u8(&v, &u8) == 0 && u8 == 'x', "view: get");
}

static void
test_ipc_roundtrip(void)
{
	struct ipc_msg m;
	struct buf b;
	struct stat a, c;
	int sv[2], fd;
	uint32_t v;
	char *s = NULL;

	CHECK(ipc_socketpair(sv) == 0, "socketpair");
	buf_init(&b, 1024);
	buf_put_u32(&b, 42);
	buf_put_cstring(&b, "payload");
	CHECK(ipc_send(sv[0], IPC_NET_LOG, &b, -1) == 0, "send");
	CHECK(ipc_recv(sv[1], &m, 0) == 0 && m.type == IPC_NET_LOG && m.fd == -1, "recv");
	CHECK(buf_get_u32(&m.payload, &v) == 0 && v == 42 &&
	    buf_get_cstring(&m.payload, &s, NULL, 64) == 0 && strcmp(s, "payload") == 0 &&
	    buf_expect_end(&m.payload) == 0, "payload intact");
	free(s);
	ipc_msg_clear(&m);

	/* A descriptor, where it is allowed. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(ipc_send(sv[0], IPC_MON_SESSION_CHANNEL, &b, fd) == 0, "send with fd");
	CHECK(ipc_recv(sv[1], &m, 1) == 0 && m.fd >= 0, "recv with fd");
	CHECK(fstat(fd, &a) == 0 && fstat(m.fd, &c) == 0 && a.st_ino == c.st_ino &&
	    (fcntl(m.fd, F_GETFD) & FD_CLOEXEC), "same file, close-on-exec");
	ipc_msg_clear(&m);

	/* A descriptor where none is allowed: refused and closed. */
	CHECK(ipc_send(sv[0], IPC_NET_LOG, &b, fd) == 0, "send unexpected fd");
	CHECK(ipc_recv(sv[1], &m, 0) == MOAT_ERR_FD, "unexpected fd refused");
	close(fd);

	/* Oversize payloads are refused by the sender. */
	{
		uint8_t *big = calloc(1, IPC_MAX_PAYLOAD + 1);

		CHECK(ipc_send_raw(sv[0], IPC_NET_LOG, big, IPC_MAX_PAYLOAD + 1, -1) ==
		    MOAT_ERR_TOO_LONG, "oversize send refused");
		CHECK(ipc_send_raw(sv[0], IPC_NET_LOG, big, IPC_MAX_PAYLOAD, -1) == 0,
		    "maximum payload fits the socket");
		CHECK(ipc_recv(sv[1], &m, 0) == 0 && buf_len(&m.payload) == IPC_MAX_PAYLOAD,
		    "maximum payload received whole");
		ipc_msg_clear(&m);
		free(big);
	}

	/* Raw datagrams that break the framing. */
	{
		uint8_t bad[12] = { 0, 0, 0, 9, 0, 20, 0, 0, 'a', 'b', 'c', 'd' };

		CHECK(send(sv[0], bad, sizeof(bad), 0) == (ssize_t)sizeof(bad), "raw send");
		CHECK(ipc_recv(sv[1], &m, 0) == MOAT_ERR_PROTOCOL, "length mismatch refused");
		bad[3] = 4;
		bad[7] = 1;
		send(sv[0], bad, sizeof(bad), 0);
		CHECK(ipc_recv(sv[1], &m, 0) == MOAT_ERR_INVALID, "non-zero flags refused");
		send(sv[0], bad, 5, 0);
		CHECK(ipc_recv(sv[1], &m, 0) == MOAT_ERR_SHORT, "short header refused");
	}
	close(sv[0]);
	CHECK(ipc_recv(sv[1], &m, 0) == MOAT_ERR_EOF, "EOF reported");
	close(sv[1]);
	buf_free(&b);
}

/* Every truncation and single-bit flip of a framed message: parse or refuse, never overread. */
static void
test_ipc_mutation(void)
{
	uint8_t msg[IPC_HDR_LEN + 16], *copy;
	const uint8_t *payload;
	size_t plen, n, bit;
	uint16_t type;
	int r, bad = 0, ok = 0;

	memset(msg, 0, sizeof(msg));
	msg[3] = 16;
	msg[5] = IPC_NET_LOG;
	memcpy(msg + IPC_HDR_LEN, "\x02\x00\x00\x00\x0bhello world", 16);
	for (n = 0; n <= sizeof(msg); n++) {
		copy = malloc(n ? n : 1);
		memcpy(copy, msg, n);
		r = ipc_parse(copy, n, &type, &payload, &plen);
		if (r == 0 && (payload + plen > copy + n))
			bad++;
		ok += r == 0;
		free(copy);
	}
	CHECK(ok == 1 && bad == 0, "only the whole message parses (%d parsed, %d overread)", ok, bad);
	for (bit = 0; bit < sizeof(msg) * 8; bit++) {
		copy = malloc(sizeof(msg));
		memcpy(copy, msg, sizeof(msg));
		copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		r = ipc_parse(copy, sizeof(msg), &type, &payload, &plen);
		if (r == 0 && payload + plen > copy + sizeof(msg))
			bad++;
		if (bit / 8 < 4 && r == 0)
			bad++;	/* a changed length can never match the datagram */
		free(copy);
	}
	CHECK(bad == 0, "bit flips: no overread, no wrong length accepted (%d)", bad);
}

int
main(void)
{
	test_buf();
	test_ipc_roundtrip();
	test_ipc_mutation();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
