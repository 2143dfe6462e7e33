/*
 * fuzz_rfb_conv.c - libFuzzer target for moat's conversation wire format
 * (net/rfb_conv.c). First byte even: the rest is what a server sends a
 * viewer (messages, parsed by moat-viewer); odd: what a viewer sends a
 * server (answers, parsed by moat-net). Each side is parsed from the whole
 * input and again with the input fed in pieces whose sizes come from the
 * first byte; both must agree, every parsed item must re-encode to exactly
 * the bytes it came from, and a failure must consume nothing. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_conv.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS	64

struct item {
	uint8_t kind;
	char *text;
	size_t at, len;		/* where in the input it came from */
};

/* Parses one item from in; 0, MOAT_ERR_AGAIN or an error (nothing consumed). */
static int
parse_one(int viewer_side, struct buf *in, struct item *it)
{
	size_t before = buf_len(in);
	int r;

	it->kind = 0;
	r = viewer_side ? rfb_conv_parse_message(in, &it->kind, &it->text) :
	    rfb_conv_parse_answer(in, &it->text);
	if (r != 0 && (buf_len(in) != before || it->text != NULL))
		abort();
	if (r == 0)
		it->len = before - buf_len(in);
	return r;
}

static void
check_reencodes(int viewer_side, const struct item *it, const uint8_t *src)
{
	uint8_t out[RFB_CONV_MESSAGE_HDR + RFB_CONV_MAX_TEXT];
	struct buf b;
	int r;

	buf_init_fixed(&b, out, sizeof(out));
	r = viewer_side ? rfb_conv_put_message(&b, it->kind, it->text,
	    strlen(it->text)) : rfb_conv_put_answer(&b, it->text,
	    strlen(it->text));
	if (r != 0 || buf_len(&b) != it->len || memcmp(out, src, it->len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct item whole[MAX_ITEMS], piece;
	size_t n = 0, k = 0, fed = 0, step;
	int viewer_side, rw = 0, rp;
	struct buf in;

	if (size < 1)
		return 0;
	viewer_side = (data[0] & 1) == 0;
	step = (size_t)(data[0] >> 1) + 1;
	data++;
	size--;

	/* Whole. */
	buf_view(&in, data, size);
	while (n < MAX_ITEMS) {
		whole[n].at = size - buf_len(&in);
		whole[n].text = NULL;
		if ((rw = parse_one(viewer_side, &in, &whole[n])) != 0)
			break;
		check_reencodes(viewer_side, &whole[n], data + whole[n].at);
		n++;
	}

	/* In pieces of 'step' bytes, into an owned buffer as moat-net reads. */
	buf_init(&in, size + 1);
	for (;;) {
		piece.text = NULL;
		rp = parse_one(viewer_side, &in, &piece);
		if (rp == MOAT_ERR_AGAIN && fed < size) {
			size_t m = size - fed < step ? size - fed : step;

			if (buf_put_bytes(&in, data + fed, m) != 0)
				abort();
			fed += m;
			continue;
		}
		if (rp != 0 || k == n)
			break;
		/* Must match the whole parse, item by item. */
		if (piece.kind != whole[k].kind ||
		    strcmp(piece.text, whole[k].text) != 0 ||
		    piece.len != whole[k].len)
			abort();
		free(piece.text);
		k++;
	}
	free(piece.text);
	/* The same outcome: as many items, and the same final verdict. */
	if (n < MAX_ITEMS && (k != n || rp != rw))
		abort();
	buf_free(&in);
	for (k = 0; k < n; k++)
		free(whole[k].text);
	return 0;
}
