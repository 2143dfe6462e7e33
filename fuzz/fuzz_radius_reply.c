/*
 * fuzz_radius_reply.c - libFuzzer target for radius_reply_verify()
 * (auth/radius_packet.c), the parser and verifier of every datagram a
 * RADIUS server (or anyone on the path) sends the monitor.
 *
 * Input: one selector byte (fuzz/radius_harness.h: allow_unsigned, which
 * fixed Access-Request the reply answers, and whether the harness re-signs
 * the reply so the fuzzer gets past MD5 and HMAC), then one datagram. The
 * reply is verified from an exact-size heap copy. A reply that verifies
 * must have a known code and a bounded, printable, NUL-terminated message;
 * a refused one must leave the reply zeroed. Any violation aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/radius_packet.h"
#include "fuzz/radius_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct radius_request reqs[4];
static int ready;

/* Aborts unless rep is what radius_reply_verify() promises for a success. */
static void
check_reply(const struct radius_reply *rep, int allow_unsigned)
{
	size_t i;

	if (rep->code != RADIUS_CODE_ACCESS_ACCEPT &&
	    rep->code != RADIUS_CODE_ACCESS_REJECT &&
	    rep->code != RADIUS_CODE_ACCESS_CHALLENGE)
		abort();
	if (!rep->signed_reply && !allow_unsigned)
		abort();
	if (rep->message_len > RADIUS_MESSAGE_MAX ||
	    rep->message[rep->message_len] != '\0' ||
	    strlen(rep->message) != rep->message_len)
		abort();
	for (i = 0; i < rep->message_len; i++) {
		unsigned char c = (unsigned char)rep->message[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			abort();
		/* No C1 control (C2 80..C2 9F) survives. */
		if (c == 0xc2 && i + 1 < rep->message_len &&
		    (unsigned char)rep->message[i + 1] < 0xa0)
			abort();
	}
	if (rep->state_len > RADIUS_STATE_MAX ||
	    (rep->echo != 0 && rep->echo != 1))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct radius_reply zero;
	const uint8_t *secret = (const uint8_t *)RADIUS_HARNESS_SECRET;
	struct radius_reply rep;
	unsigned int v, i;
	const char *why = NULL;
	uint8_t sel, *pkt;
	size_t len;
	int allow, r;

	if (!ready) {
		for (i = 0; i < 4; i++)
			if (radius_harness_request(i, &reqs[i]) != 0)
				abort();
		ready = 1;
	}
	if (size < 1)
		return 0;
	sel = data[0];
	v = RADIUS_HARNESS_VARIANT(sel);
	allow = (sel & RADIUS_HARNESS_ALLOW_UNSIGNED) != 0;
	len = size - 1;
	/* Exact size (malloc(0) may return NULL: keep one byte). */
	if ((pkt = malloc(len > 0 ? len : 1)) == NULL)
		return 0;
	memcpy(pkt, data + 1, len);
	if ((sel & RADIUS_HARNESS_RESIGN) != 0 &&
	    radius_harness_sign(pkt, len, reqs[v].id, reqs[v].authenticator,
	    RADIUS_HARNESS_SECRET) != 0)
		abort();
	r = radius_reply_verify(&reqs[v], pkt, len, secret,
	    strlen(RADIUS_HARNESS_SECRET), allow, &rep, &why);
	if (why == NULL)
		abort();
	if (r == 0)
		check_reply(&rep, allow);
	else if (memcmp(&rep, &zero, sizeof(rep)) != 0)
		abort();
	free(pkt);
	return 0;
}
