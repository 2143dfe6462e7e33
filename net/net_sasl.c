/*
 * net_sasl.c - the SASL security type in moat-net (VeNCrypt subtype
 * X509SASL, docs/kerberos.md): after TLS, offers the one mechanism
 * (GSSAPI), then relays the viewer's SASL messages to the monitor and the
 * monitor's replies to the viewer until the monitor's verdict. Runs in
 * moat-net inside its sandbox. It decides nothing and holds no Kerberos
 * code or key: the monitor runs the SASL server and decides; this file
 * only frames, bounds (rfb_sasl.c) and forwards the bytes.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "net_conn.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "rfb_sasl.h"

#define SASL_MECH	"GSSAPI"	/* the one mechanism offered */

_Static_assert(RFB_SASL_MAX_DATA <= IPC_MAX_SASL_DATA,
    "a viewer's SASL message fits the IPC bound");

/*
 * Reads one message of the viewer into b, asking the parser how much more
 * it needs before each read, so no length is believed before it is
 * bounded. start: the start message (mechanism and data), else a step.
 */
static int
read_viewer(struct net_conn *c, struct buf *b, int start,
    struct rfb_sasl_data *mech, struct rfb_sasl_data *d)
{
	size_t need, more;
	uint8_t *p;
	int r;

	buf_reset(b);
	for (;;) {
		r = start ? rfb_sasl_parse_start(b, mech, d, &need) :
		    rfb_sasl_parse_step(b, d, &need);
		if (r != MOAT_ERR_AGAIN)
			return r;
		more = need - buf_len(b);
		if ((r = buf_reserve(b, more, &p)) != 0 ||
		    (r = net_io_read_exact(&c->io, p, more)) != 0)
			return r;
	}
}

/* Writes the monitor's SASL output and the complete flag to the viewer. */
static int
write_reply(struct net_conn *c, const uint8_t *p, size_t len, uint8_t complete)
{
	struct buf b;
	int r;

	buf_init(&b, RFB_SASL_LEN + RFB_SASL_MAX_DATA + 2);
	if ((r = rfb_sasl_put_reply(&b, p, len, complete)) == 0)
		r = net_io_write(&c->io, buf_ptr(&b), buf_len(&b));
	buf_free(&b);
	return r;
}

/* Offers the mechanism and relays the viewer's start to the monitor. */
static int
start(struct net_conn *c, struct buf *b)
{
	struct rfb_sasl_data mech, d;
	struct ipc_sasl_start st;
	char esc[RFB_SASL_MAX_MECH * 4 + 1];
	int r;

	buf_reset(b);
	if ((r = rfb_sasl_put_mechlist(b, SASL_MECH, strlen(SASL_MECH))) != 0 ||
	    (r = net_io_write(&c->io, buf_ptr(b), buf_len(b))) != 0)
		return r;
	if ((r = read_viewer(c, b, 1, &mech, &d)) != 0) {
		if (r == MOAT_ERR_TOO_LONG || r == MOAT_ERR_PROTOCOL)
			info_f("viewer sent a SASL start beyond moat's bounds "
			    "or with a malformed mechanism name");
		return r;
	}
	if (mech.len != strlen(SASL_MECH) ||
	    memcmp(mech.p, SASL_MECH, mech.len) != 0) {
		log_escape(esc, sizeof(esc), mech.p, mech.len);
		info_f("viewer chose SASL mechanism \"%s\", which was not "
		    "offered", esc);
		return MOAT_ERR_PROTOCOL;
	}
	st.mech = (struct ipc_view){ mech.p, mech.len };
	st.has_data = (uint8_t)d.present;
	st.data = (struct ipc_view){ d.p, d.len };
	return ipc_msg_send_sasl_start(NET_FD_MONITOR, &st, -1);
}

/* Relays one monitor reply; for complete 0, the viewer's next step back. */
static int
relay_reply(struct net_conn *c, struct ipc_msg *m, struct buf *b,
    int *complete)
{
	struct ipc_sasl_reply rp;
	struct ipc_sasl_step sp;
	struct rfb_sasl_data d;
	int r;

	if ((r = ipc_msg_get_sasl_reply(&m->payload, &rp)) != 0)
		return r;
	if (rp.data.len > RFB_SASL_MAX_DATA)
		return MOAT_ERR_TOO_LONG;
	if ((r = write_reply(c, rp.data.p, rp.data.len, rp.complete)) != 0)
		return r;
	if ((*complete = rp.complete) != 0)
		return 0;
	if ((r = read_viewer(c, b, 0, NULL, &d)) != 0) {
		if (r == MOAT_ERR_TOO_LONG)
			info_f("viewer sent a SASL step beyond moat's bound "
			    "(%d bytes)", RFB_SASL_MAX_DATA);
		return r;
	}
	sp.has_data = (uint8_t)d.present;
	sp.data = (struct ipc_view){ d.p, d.len };
	return ipc_msg_send_sasl_step(NET_FD_MONITOR, &sp, -1);
}

int
net_sasl_run(struct net_conn *c, char *reason, size_t reasonlen)
{
	struct ipc_msg m;
	struct buf b;
	int complete = 0, r;

	buf_init(&b, RFB_SASL_MAX_START);
	if ((r = start(c, &b)) != 0)
		goto out;
	for (;;) {
		if ((r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
			goto out;
		if (m.type == IPC_MON_SASL_REPLY && !complete) {
			r = relay_reply(c, &m, &b, &complete);
			ipc_msg_clear(&m);
			if (r != 0)
				goto out;
			continue;
		}
		r = net_read_auth_result(c, &m, reason, reasonlen);
		ipc_msg_clear(&m);
		if (r != 0 && r != MOAT_ERR_AUTH)
			goto out;
		/*
		 * A refusal mid-exchange: end the SASL framing (no output,
		 * complete) so the viewer reads the SecurityResult next.
		 */
		if (!complete && write_reply(c, NULL, 0, 1) != 0)
			r = MOAT_ERR_EOF;
		goto out;
	}
 out:
	buf_free(&b);
	return r;
}
