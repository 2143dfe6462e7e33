/*
 * test_ipc_resize.c - unit and deterministic mutation tests for the codec
 * of IPC_CAP_RESIZE and IPC_CAP_RESIZE_RESULT (privsep/ipc_resize.c): the
 * wire format, every bound and value rule both ways, every truncation,
 * trailing bytes, every single-bit flip (decodes to what re-encodes to the
 * same bytes, or fails leaving the struct zeroed and the buffer unread),
 * and one message of each over a real socketpair. Test code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_resize.h"

#include "check.h"

static const struct ipc_cap_resize one = { 1024, 768, 1, {
	{ 0, 0, 0, 1024, 768, 0 },
} };
static const struct ipc_cap_resize two = { 1920, 1080, 2, {
	{ 7, 0, 0, 960, 1080, 0 },
	{ 0x80000001u, 960, 0, 960, 1080, 0x12345678u },
} };
static const struct ipc_cap_resize_result ok = { IPC_RESIZE_BY_THIS,
	IPC_RESIZE_OK, 1024, 768 };

/* The bytes of one, as ipc_types.h describes them. */
static const uint8_t one_wire[] = {
	0x04, 0x00, 0x03, 0x00, 1,
	0, 0, 0, 0, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x03, 0x00, 0, 0, 0, 0,
};
static const uint8_t ok_wire[] = { 1, 0, 0x04, 0x00, 0x03, 0x00 };

static int
is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

static int
put_resize(const struct ipc_cap_resize *m, uint8_t *out, size_t *n)
{
	struct buf b;
	int r;

	buf_init_fixed(&b, out, IPC_RESIZE_MAX_PAYLOAD);
	r = ipc_msg_put_cap_resize(&b, m);
	*n = buf_len(&b);
	return r;
}

/* Decodes p[0..n) as IPC_CAP_RESIZE; checks the failure contract. */
static int
get_resize(const uint8_t *p, size_t n, struct ipc_cap_resize *m)
{
	struct buf b;
	int r;

	buf_view(&b, p, n);
	memset(m, 0x5a, sizeof(*m));
	r = ipc_msg_get_cap_resize(&b, m);
	if (r == 0)
		CHECK(buf_len(&b) == 0);
	else
		CHECK(buf_len(&b) == n && is_zero(m, sizeof(*m)),
		    "failed decode (%s) left state behind", moat_strerror(r));
	return r;
}

static int
get_result(const uint8_t *p, size_t n, struct ipc_cap_resize_result *m)
{
	struct buf b;
	int r;

	buf_view(&b, p, n);
	memset(m, 0x5a, sizeof(*m));
	r = ipc_msg_get_cap_resize_result(&b, m);
	if (r == 0)
		CHECK(buf_len(&b) == 0);
	else
		CHECK(buf_len(&b) == n && is_zero(m, sizeof(*m)),
		    "failed decode (%s) left state behind", moat_strerror(r));
	return r;
}

static int
put_result(const struct ipc_cap_resize_result *m)
{
	uint8_t out[16];
	struct buf b;
	int r;

	buf_init_fixed(&b, out, sizeof(out));
	r = ipc_msg_put_cap_resize_result(&b, m);
	if (r != 0)
		CHECK(buf_len(&b) == 0);
	return r;
}

static void
test_wire(void)
{
	uint8_t out[IPC_RESIZE_MAX_PAYLOAD + 1];
	struct ipc_cap_resize m;
	struct ipc_cap_resize_result res;
	struct buf b;
	size_t n;

	CHECK(put_resize(&one, out, &n) == 0 && n == sizeof(one_wire) &&
	    memcmp(out, one_wire, n) == 0);
	CHECK(get_resize(one_wire, sizeof(one_wire), &m) == 0 &&
	    memcmp(&m, &one, sizeof(m)) == 0);
	CHECK(put_resize(&two, out, &n) == 0 && n == 5 + 32);
	CHECK(get_resize(out, n, &m) == 0 && memcmp(&m, &two, sizeof(m)) == 0);
	buf_init_fixed(&b, out, sizeof(out));
	CHECK(ipc_msg_put_cap_resize_result(&b, &ok) == 0 &&
	    buf_len(&b) == sizeof(ok_wire) &&
	    memcmp(buf_ptr(&b), ok_wire, sizeof(ok_wire)) == 0);
	CHECK(get_result(ok_wire, sizeof(ok_wire), &res) == 0 &&
	    memcmp(&res, &ok, sizeof(res)) == 0);
	/* A put appends to what is there. */
	buf_init_fixed(&b, out, sizeof(out));
	CHECK(buf_put_u8(&b, 0xee) == 0 &&
	    ipc_msg_put_cap_resize_result(&b, &ok) == 0 && buf_len(&b) == 7 &&
	    out[0] == 0xee && memcmp(out + 1, ok_wire, 6) == 0);
	/* No room: nothing written. */
	buf_init_fixed(&b, out, 3);
	CHECK(ipc_msg_put_cap_resize_result(&b, &ok) == MOAT_ERR_TOO_LONG &&
	    buf_len(&b) == 0);
	buf_init_fixed(&b, out, 10);
	CHECK(ipc_msg_put_cap_resize(&b, &one) == MOAT_ERR_TOO_LONG &&
	    buf_len(&b) == 0);
}

static void
test_truncation(void)
{
	uint8_t p[IPC_RESIZE_MAX_PAYLOAD + 1];
	struct ipc_cap_resize m;
	struct ipc_cap_resize_result res;
	size_t n, i;

	CHECK(put_resize(&two, p, &n) == 0);
	for (i = 0; i < n; i++)
		CHECK(get_resize(p, i, &m) == MOAT_ERR_SHORT, "at %zu", i);
	p[n] = 0;
	CHECK(get_resize(p, n + 1, &m) == MOAT_ERR_TRAILING);
	memcpy(p, ok_wire, sizeof(ok_wire));
	for (i = 0; i < sizeof(ok_wire); i++)
		CHECK(get_result(p, i, &res) == MOAT_ERR_SHORT, "at %zu", i);
	p[sizeof(ok_wire)] = 0;
	CHECK(get_result(p, sizeof(ok_wire) + 1, &res) == MOAT_ERR_TRAILING);
}

/* m must give want (0: accepted), from the encoder and the decoder. */
static void
expect(const struct ipc_cap_resize *m, int want, const char *what)
{
	uint8_t p[IPC_RESIZE_MAX_PAYLOAD + 32];
	struct ipc_cap_resize back;
	unsigned i;
	size_t n = 0;

	CHECK(put_resize(m, p, &n) == want && (want == 0) == (n != 0),
	    "put %s", what);
	/* The same bytes written by hand reach the decoder's check. */
	n = 0;
	p[n++] = (uint8_t)(m->width >> 8);
	p[n++] = (uint8_t)m->width;
	p[n++] = (uint8_t)(m->height >> 8);
	p[n++] = (uint8_t)m->height;
	p[n++] = m->n;
	for (i = 0; i < m->n && i < IPC_MAX_SCREENS + 1; i++) {
		const struct ipc_screen *s = &m->screens[i < IPC_MAX_SCREENS ?
		    i : 0];
		uint8_t f[16] = { (uint8_t)(s->id >> 24), (uint8_t)(s->id >> 16),
		    (uint8_t)(s->id >> 8), (uint8_t)s->id,
		    (uint8_t)(s->x >> 8), (uint8_t)s->x,
		    (uint8_t)(s->y >> 8), (uint8_t)s->y,
		    (uint8_t)(s->w >> 8), (uint8_t)s->w,
		    (uint8_t)(s->h >> 8), (uint8_t)s->h,
		    (uint8_t)(s->flags >> 24), (uint8_t)(s->flags >> 16),
		    (uint8_t)(s->flags >> 8), (uint8_t)s->flags };

		memcpy(p + n, f, sizeof(f));
		n += sizeof(f);
	}
	CHECK(get_resize(p, n, &back) == want, "get %s", what);
}

static void
test_values(void)
{
	struct ipc_cap_resize m;
	struct ipc_cap_resize_result res;
	unsigned k;

	/* Edges that hold. */
	m = one;
	m.width = m.screens[0].w = 16384;
	m.height = m.screens[0].h = 1;
	CHECK(ipc_resize_layout_check(&m) == 0);
	memset(&m, 0, sizeof(m));
	m.width = m.height = 100;
	m.n = IPC_MAX_SCREENS;
	for (k = 0; k < IPC_MAX_SCREENS; k++)
		m.screens[k] = (struct ipc_screen){ k, (uint16_t)k, 0, 1, 1, 0 };
	CHECK(ipc_resize_layout_check(&m) == 0);
	expect(&m, 0, "16 screens");
	/* Bounds and rules. */
	m.n = IPC_MAX_SCREENS + 1;
	expect(&m, MOAT_ERR_TOO_LONG, "17 screens");
	m = one;
	m.n = 0;
	expect(&m, MOAT_ERR_INVALID, "no screen");
	m = one;
	m.width = 0;
	expect(&m, MOAT_ERR_INVALID, "width 0");
	m = one;
	m.width = 16385;
	m.height = 16385;
	expect(&m, MOAT_ERR_INVALID, "16385");
	m = one;
	m.screens[0].w = 1025;
	expect(&m, MOAT_ERR_INVALID, "screen too wide");
	m = one;
	m.screens[0].y = 1;
	expect(&m, MOAT_ERR_INVALID, "screen too low");
	m = one;
	m.screens[0].x = 0xffff;
	m.screens[0].w = 2;
	expect(&m, MOAT_ERR_INVALID, "x wraps");
	m = one;
	m.screens[0].h = 0;
	expect(&m, MOAT_ERR_INVALID, "empty screen");
	m = two;
	m.screens[1].id = m.screens[0].id;
	expect(&m, MOAT_ERR_INVALID, "one id twice");

	/* Results: reason, status and size. */
	res = ok;
	for (k = 0; k <= IPC_RESIZE_INVALID; k++) {
		res.status = (uint8_t)k;
		CHECK(put_result(&res) == 0, "status %u", k);
	}
	res.status = IPC_RESIZE_INVALID + 1;
	CHECK(put_result(&res) == MOAT_ERR_INVALID);
	res = ok;
	res.reason = IPC_RESIZE_BY_OTHER;
	CHECK(put_result(&res) == 0);
	res.status = IPC_RESIZE_PROHIBITED;
	CHECK(put_result(&res) == MOAT_ERR_INVALID);
	res = ok;
	res.reason = 0;
	CHECK(put_result(&res) == MOAT_ERR_INVALID);
	res.reason = 3;
	CHECK(put_result(&res) == MOAT_ERR_INVALID);
	res = ok;
	res.width = 0;
	CHECK(put_result(&res) == MOAT_ERR_INVALID);
	res = ok;
	res.height = 16385;
	CHECK(put_result(&res) == MOAT_ERR_INVALID);
	{
		static const uint8_t bad[][6] = {
			{ 0, 0, 0x04, 0x00, 0x03, 0x00 },	/* reason 0 */
			{ 2, 1, 0x04, 0x00, 0x03, 0x00 },	/* other, refused */
			{ 1, 4, 0x04, 0x00, 0x03, 0x00 },	/* status 4 */
			{ 1, 0, 0x00, 0x00, 0x03, 0x00 },	/* width 0 */
			{ 1, 0, 0x04, 0x00, 0x40, 0x01 },	/* height 16385 */
		};

		for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
			CHECK(get_result(bad[k], 6, &res) == MOAT_ERR_INVALID,
			    "bad result %u", k);
	}
}

/* Every bit flip of both messages: re-encodes to itself, or fails cleanly. */
static void
test_mutations(void)
{
	uint8_t good[IPC_RESIZE_MAX_PAYLOAD], p[IPC_RESIZE_MAX_PAYLOAD];
	uint8_t re[IPC_RESIZE_MAX_PAYLOAD];
	struct ipc_cap_resize m;
	struct ipc_cap_resize_result res;
	size_t n, rn, bit, decoded = 0;
	struct buf b;
	int r, bad = 0;

	CHECK(put_resize(&two, good, &n) == 0);
	for (bit = 0; bit < n * 8; bit++) {
		memcpy(p, good, n);
		p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if ((r = get_resize(p, n, &m)) == 0) {
			decoded++;
			if (put_resize(&m, re, &rn) != 0 || rn != n ||
			    memcmp(re, p, n) != 0)
				bad++;
		} else if (r != MOAT_ERR_INVALID && r != MOAT_ERR_TOO_LONG &&
		    r != MOAT_ERR_SHORT && r != MOAT_ERR_TRAILING)
			bad++;
	}
	for (bit = 0; bit < sizeof(ok_wire) * 8; bit++) {
		memcpy(p, ok_wire, sizeof(ok_wire));
		p[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		if ((r = get_result(p, sizeof(ok_wire), &res)) == 0) {
			decoded++;
			buf_init_fixed(&b, re, sizeof(re));
			if (ipc_msg_put_cap_resize_result(&b, &res) != 0 ||
			    buf_len(&b) != sizeof(ok_wire) ||
			    memcmp(re, p, sizeof(ok_wire)) != 0)
				bad++;
		} else if (r != MOAT_ERR_INVALID)
			bad++;
	}
	CHECK(bad == 0, "%d bad outcomes", bad);
	/* Some flips still make valid messages (ids, flags, sizes). */
	CHECK(decoded > 40, "%zu decoded", decoded);
}

static void
test_socket(void)
{
	struct ipc_cap_resize m;
	struct ipc_cap_resize_result res;
	struct ipc_msg msg;
	int sv[2];

	if (ipc_socketpair(sv) != 0) {
		CHECK(0, "socketpair");
		return;
	}
	CHECK(ipc_msg_send_cap_resize(sv[0], &two) == 0);
	CHECK(ipc_msg_send_cap_resize_result(sv[1], &ok) == 0);
	m = one;
	m.n = 0;
	CHECK(ipc_msg_send_cap_resize(sv[0], &m) == MOAT_ERR_INVALID);
	CHECK(ipc_recv(sv[1], &msg, 0) == 0 && msg.type == IPC_CAP_RESIZE &&
	    ipc_msg_get_cap_resize(&msg.payload, &m) == 0 &&
	    memcmp(&m, &two, sizeof(m)) == 0);
	ipc_msg_clear(&msg);
	CHECK(ipc_recv(sv[0], &msg, 0) == 0 &&
	    msg.type == IPC_CAP_RESIZE_RESULT &&
	    ipc_msg_get_cap_resize_result(&msg.payload, &res) == 0 &&
	    memcmp(&res, &ok, sizeof(res)) == 0);
	ipc_msg_clear(&msg);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	test_wire();
	test_truncation();
	test_values();
	test_mutations();
	test_socket();
	return check_summary();
}
