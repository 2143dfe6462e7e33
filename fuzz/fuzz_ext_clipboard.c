/*
 * fuzz_ext_clipboard.c - libFuzzer target for the ExtendedClipboard
 * payload parser (net/rfb_extclip.c), above all the bounded inflate of a
 * Provide: the input is one payload (flags and data, as the reader hands
 * it over). A parsed text never exceeds the bound; a refusal is one of
 * the two the contract names; text that parsed survives a round trip
 * through moat's own Provide (CRLF folded to LF). Test code; trusts
 * nothing it is fed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_extclip.h"
#include "privsep/buf.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TEXT	4096

static void
round_trip(const struct rfb_extclip *x)
{
	struct rfb_extclip y;
	struct buf b;
	size_t i, k;

	buf_init(&b, 1 << 20);
	if (rfb_extclip_put_provide(&b, x->text, x->text_len) != 0 ||
	    buf_len(&b) < 8 ||
	    rfb_extclip_parse(buf_ptr(&b) + 8, buf_len(&b) - 8, 2 * MAX_TEXT + 1,
	    &y) != 0 || !y.has_text)
		abort();
	/* y is x with every CRLF as LF (moat adds a CR before a bare LF). */
	for (i = 0, k = 0; i < x->text_len; i++) {
		if (x->text[i] == '\r' && i + 1 < x->text_len &&
		    x->text[i + 1] == '\n')
			continue;
		if (k >= y.text_len || y.text[k++] != x->text[i])
			abort();
	}
	if (k != y.text_len)
		abort();
	rfb_extclip_clear(&y);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfb_extclip x;
	unsigned sum = 0;
	size_t i;
	int r;

	r = rfb_extclip_parse(data, size, MAX_TEXT, &x);
	if (r != 0) {
		if ((r != MOAT_ERR_PROTOCOL && r != MOAT_ERR_TOO_LONG) ||
		    x.text != NULL)
			abort();
		return 0;
	}
	if (x.has_text) {
		if (x.text == NULL || x.text_len > MAX_TEXT)
			abort();
		for (i = 0; i < x.text_len; i++)
			sum += x.text[i];
		round_trip(&x);
	}
	rfb_extclip_clear(&x);
	return (int)(sum & 0);
}
