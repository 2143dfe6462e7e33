/*
 * fuzz_rfb_reader.c - libFuzzer target for the RFB client-message parser
 * (net/rfb_reader.c). The input is the byte stream a client sends after
 * initialisation. It is parsed twice, in one piece and one byte at a time
 * through a buffer of rfb_reader_max_msg() bytes, and both must agree.
 * Test code; trusts nothing it is fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/pixfmt.h"
#include "net/rfb_reader.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TRACE	4096

static const struct rfb_reader_limits lim = { .max_cut_text = 4096 };

struct trace {
	uint8_t type[MAX_TRACE];
	size_t len[MAX_TRACE];
	size_t n;
	int last;	/* the result that ended parsing */
};

/* Reads every byte a message points at, so ASan sees any stray pointer. */
static unsigned
touch(const struct rfb_client_msg *m)
{
	static const struct fb_format fb = { 0xff0000, 0x00ff00, 0x0000ff };
	struct pixconv pc;
	uint32_t src[3] = { 0x123456, 0xffffff, 0 };
	uint8_t out[12];
	unsigned sum = 0;
	size_t i;

	switch (m->type) {
	case 0:
		/* An accepted format must be one the converter serves. */
		if (rfb_pixfmt_check(&m->u.pixfmt) != 0 ||
		    pixconv_init(&pc, &fb, &m->u.pixfmt) != 0)
			abort();
		pixconv_row(&pc, out, src, 3);
		for (i = 0; i < 3u * pc.bytes; i++)
			sum += out[i];
		break;
	case 6:
		if (m->u.cut.len > lim.max_cut_text)
			abort();
		for (i = 0; i < m->u.cut.len; i++)
			sum += m->u.cut.text[i];
		break;
	case 248:
		if (m->u.fence.len > 64)
			abort();
		for (i = 0; i < m->u.fence.len; i++)
			sum += m->u.fence.payload[i];
		break;
	case 2:
		if (m->u.encodings.kept > 64 ||
		    m->u.encodings.count > 1024)
			abort();
		break;
	}
	return sum;
}

static void
record(struct trace *t, const struct rfb_client_msg *m, size_t len)
{
	if (t->n < MAX_TRACE) {
		t->type[t->n] = m->type;
		t->len[t->n] = len;
	}
	t->n++;
}

static void
parse_whole(const uint8_t *data, size_t size, struct trace *t)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t before;
	int r;

	buf_view(&b, data, size);
	for (;;) {
		before = buf_len(&b);
		if ((r = rfb_read_client_msg(&b, &m, &lim)) != 0) {
			if (buf_len(&b) != before)
				abort();	/* consumed on failure */
			break;
		}
		if (buf_len(&b) >= before ||
		    before - buf_len(&b) > rfb_reader_max_msg(&lim))
			abort();
		(void)touch(&m);
		record(t, &m, before - buf_len(&b));
	}
	t->last = r;
}

static void
parse_bytewise(const uint8_t *data, size_t size, struct trace *t)
{
	struct rfb_client_msg m;
	struct buf b;
	size_t i, before;
	int r = MOAT_ERR_AGAIN;

	buf_init(&b, rfb_reader_max_msg(&lim));
	for (i = 0; i < size; i++) {
		if (buf_put_u8(&b, data[i]) != 0)
			abort();	/* a message outgrew rfb_reader_max_msg() */
		before = buf_len(&b);
		if ((r = rfb_read_client_msg(&b, &m, &lim)) == MOAT_ERR_AGAIN)
			continue;
		if (r != 0)
			break;
		(void)touch(&m);
		record(t, &m, before - buf_len(&b));
		buf_compact(&b);
	}
	/* Input ended on a message boundary: the reader now waits for more. */
	t->last = r == 0 ? MOAT_ERR_AGAIN : r;
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct trace a, b;
	size_t i, n;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	parse_whole(data, size, &a);
	parse_bytewise(data, size, &b);
	if (a.n != b.n || a.last != b.last)
		abort();
	n = a.n < MAX_TRACE ? a.n : MAX_TRACE;
	for (i = 0; i < n; i++)
		if (a.type[i] != b.type[i] || a.len[i] != b.len[i])
			abort();
	return 0;
}
