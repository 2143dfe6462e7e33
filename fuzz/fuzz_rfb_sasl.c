/*
 * fuzz_rfb_sasl.c - libFuzzer target for the SASL security type's wire
 * format (net/rfb_sasl.c). The first byte picks a read size (1 to 256);
 * the rest is what a viewer sends: a start (mechanism and first output),
 * then steps. It is parsed from the whole input and again fed in pieces of
 * that size, growing the buffer only to what the parser says it needs,
 * as net_sasl.c reads; both must give the same items and the same end.
 * MOAT_ERR_AGAIN must ask for more than is there, a failure must consume
 * nothing, and every item must re-encode to exactly its bytes but the
 * dropped terminator; the server's reply built from it must frame it as
 * length + 1 with a 0. abort() on a difference. Test code.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/rfb_sasl.h"
#include "privsep/errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ITEMS	32

struct item {
	size_t at, len;		/* where in the input it came from */
	size_t mechlen, datalen;
	int present;
};

/* Re-encodes one parsed item and compares it with its input bytes. */
static void
check_item(const uint8_t *wire, size_t n, const struct rfb_sasl_data *mech,
    const struct rfb_sasl_data *d)
{
	struct buf b;
	char name[RFB_SASL_MAX_MECH + 1];
	int r;

	buf_init(&b, RFB_SASL_MAX_START);
	if (mech != NULL) {
		memcpy(name, mech->p, mech->len);
		name[mech->len] = '\0';
		r = rfb_sasl_put_start(&b, name, d);
	} else
		r = rfb_sasl_put_step(&b, d);
	/* Equal but the terminator, which a viewer may send as any byte. */
	if (r != 0 || buf_len(&b) != n ||
	    memcmp(buf_ptr(&b), wire, n - (d->present ? 1 : 0)) != 0 ||
	    (d->present && buf_ptr(&b)[n - 1] != 0))
		abort();
	buf_reset(&b);
	if (rfb_sasl_put_reply(&b, d->p, d->len, 1) != 0 ||
	    buf_len(&b) != RFB_SASL_LEN + (d->len > 0 ? d->len + 1 : 0) + 1)
		abort();
	buf_free(&b);
}

/*
 * Parses items from the input, reading step bytes at a time (0: all at
 * once) into a buffer as moat-net does. Returns the number of items and
 * the final result in *end.
 */
static size_t
parse_all(const uint8_t *p, size_t n, size_t step, struct item *items,
    int *end)
{
	struct rfb_sasl_data mech, d;
	struct buf b;
	size_t have = 0, count = 0, need, before, fed, k;
	uint8_t *w;
	int r;

	buf_init(&b, RFB_SASL_MAX_START);
	for (;;) {
		before = buf_len(&b);
		r = count == 0 ? rfb_sasl_parse_start(&b, &mech, &d, &need) :
		    rfb_sasl_parse_step(&b, &d, &need);
		if (r == MOAT_ERR_AGAIN) {
			if (need <= buf_len(&b) || need > RFB_SASL_MAX_START ||
			    buf_len(&b) != before)
				abort();
			if (have == n)
				break;
			/* Read no more than needed, as net_sasl.c does. */
			k = need - buf_len(&b);
			if (step > 0 && k > step)
				k = step;
			if (k > n - have)
				k = n - have;
			if (buf_reserve(&b, k, &w) != 0)
				abort();
			memcpy(w, p + have, k);
			have += k;
			continue;
		}
		if (r != 0) {
			if (r >= 0 || buf_len(&b) != before)
				abort();
			break;
		}
		fed = before - buf_len(&b);
		if (count >= MAX_ITEMS || fed > have)
			abort();
		items[count] = (struct item){ have - before, fed,
		    count == 0 ? mech.len : 0, d.len, d.present };
		check_item(p + items[count].at, fed, count == 0 ? &mech : NULL,
		    &d);
		if (++count == MAX_ITEMS)
			break;
		buf_reset(&b);
	}
	*end = r;
	buf_free(&b);
	return count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct item whole[MAX_ITEMS], pieces[MAX_ITEMS];
	size_t n1, n2, i;
	int end1, end2;

	if (size < 1)
		return 0;
	n1 = parse_all(data + 1, size - 1, 0, whole, &end1);
	n2 = parse_all(data + 1, size - 1, (size_t)data[0] + 1, pieces, &end2);
	if (n1 != n2 || end1 != end2)
		abort();
	for (i = 0; i < n1; i++)
		if (whole[i].at != pieces[i].at || whole[i].len != pieces[i].len ||
		    whole[i].mechlen != pieces[i].mechlen ||
		    whole[i].datalen != pieces[i].datalen ||
		    whole[i].present != pieces[i].present)
			abort();
	return 0;
}
