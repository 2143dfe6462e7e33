/*
 * ipc_msg.c - the payload codec of every IPC message (see ipc_msg.h).
 * Runs in every process and trusts none of the bytes it decodes.
 *
 * Each message is described once, as a table of its fields in wire order;
 * one walker reads a payload into the message struct or writes the struct
 * out, so encoder and decoder cannot disagree. The table also carries each
 * field's bound (checked while walking, before anything is buffered or
 * copied) and its value rule (checked once the whole payload has parsed).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "errors.h"
#include "ipc.h"
#include "ipc_msg.h"
#include "log.h"

enum field_kind {
	K_END = 0,
	K_U8,
	K_U16,
	K_COUNT,	/* u16 at most a; multiplies the length of the next array */
	K_U32,
	K_U64,		/* two u32, high first */
	K_TEXT,		/* owned char *, at most a bytes */
	K_VIEW,		/* struct ipc_view, at most a bytes */
	K_RECTS,	/* struct ipc_rect[a], as many as the counts say */
	K_ARGB,		/* uint32_t[a], as many as the counts say */
};

enum field_rule {
	R_NONE = 0,
	R_RANGE,	/* a <= value <= b */
	R_MASK,		/* no bit outside a */
};

struct field {
	uint8_t kind;
	uint8_t rule;
	uint16_t off;		/* offset of the member in the message struct */
	uint32_t a, b;
};

struct codec {
	uint16_t type;			/* IPC_* */
	size_t size;			/* of the message struct */
	const struct field *fields;	/* in wire order, ending with K_END */
	int (*check)(const void *);	/* what the rules cannot say, or NULL */
};

/*
 * Member m of struct s, which must have type t (else _Generic fails to
 * compile): the walker's casts follow from the table.
 */
#define F(s, m, t, kind, rule, a, b) \
	{ kind, rule, _Generic(((struct s *)0)->m, t: offsetof(struct s, m)), a, b }
#define U8(s, m)		F(s, m, uint8_t, K_U8, R_NONE, 0, 0)
#define U8_IN(s, m, lo, hi)	F(s, m, uint8_t, K_U8, R_RANGE, lo, hi)
#define U16(s, m)		F(s, m, uint16_t, K_U16, R_NONE, 0, 0)
#define COUNT(s, m, max)	F(s, m, uint16_t, K_COUNT, R_NONE, max, 0)
#define U32(s, m)		F(s, m, uint32_t, K_U32, R_NONE, 0, 0)
#define U32_IN(s, m, lo, hi)	F(s, m, uint32_t, K_U32, R_RANGE, lo, hi)
#define BITS(s, m, mask)	F(s, m, uint32_t, K_U32, R_MASK, mask, 0)
#define U64(s, m)		F(s, m, uint64_t, K_U64, R_NONE, 0, 0)
#define TEXT(s, m, max)		F(s, m, char *, K_TEXT, R_NONE, max, 0)
#define VIEW(s, m, max)		F(s, m, struct ipc_view, K_VIEW, R_NONE, max, 0)
#define ARRAY(s, m, t, kind) \
	F(s, m, t *, kind, R_NONE, sizeof(((struct s *)0)->m) / sizeof(t), 0)
#define END			{ K_END, R_NONE, 0, 0, 0 }

static int
xfer_u16(struct buf *b, uint16_t *v, int put)
{
	return put ? buf_put_u16(b, *v) : buf_get_u16(b, v);
}

static int
xfer_u32(struct buf *b, uint32_t *v, int put)
{
	return put ? buf_put_u32(b, *v) : buf_get_u32(b, v);
}

static int
xfer_u64(struct buf *b, uint64_t *v, int put)
{
	uint32_t hi = (uint32_t)(*v >> 32), lo = (uint32_t)*v;
	int r;

	if ((r = xfer_u32(b, &hi, put)) != 0 || (r = xfer_u32(b, &lo, put)) != 0)
		return r;
	if (!put)
		*v = ((uint64_t)hi << 32) | lo;
	return 0;
}

static int
xfer_text(struct buf *b, char **s, size_t max, int put)
{
	size_t n;

	if (!put)
		return buf_get_cstring(b, s, NULL, max);
	if (*s == NULL)
		return MOAT_ERR_INVALID;
	if ((n = strnlen(*s, max + 1)) > max)
		return MOAT_ERR_TOO_LONG;
	return buf_put_string(b, *s, n);
}

static int
xfer_view(struct buf *b, struct ipc_view *v, size_t max, int put)
{
	if (!put)
		return buf_get_string_direct(b, &v->p, &v->len, max);
	if (v->len > max)
		return MOAT_ERR_TOO_LONG;
	if (v->p == NULL && v->len > 0)
		return MOAT_ERR_INVALID;
	return buf_put_string(b, v->p, v->len);
}

static int
xfer_rect(struct buf *b, struct ipc_rect *r, int put)
{
	int rv;

	if ((rv = xfer_u16(b, &r->x, put)) != 0 ||
	    (rv = xfer_u16(b, &r->y, put)) != 0 ||
	    (rv = xfer_u16(b, &r->w, put)) != 0)
		return rv;
	return xfer_u16(b, &r->h, put);
}

/*
 * Reads (put == 0) or writes (put == 1) the fields of message m. Lengths
 * and counts are bounded before anything is read for them. With put set,
 * *m is only read.
 */
static int
walk(struct buf *b, const struct field *f, uint8_t *m, int put)
{
	size_t count = 1, i;
	int r = 0;

	for (; r == 0 && f->kind != K_END; f++) {
		uint8_t *p = m + f->off;

		switch (f->kind) {
		case K_U8:
			r = put ? buf_put_u8(b, *p) : buf_get_u8(b, p);
			break;
		case K_U16:
			r = xfer_u16(b, (uint16_t *)p, put);
			break;
		case K_COUNT:
			if ((r = xfer_u16(b, (uint16_t *)p, put)) == 0 &&
			    *(uint16_t *)p > f->a)
				r = MOAT_ERR_TOO_LONG;
			count *= *(uint16_t *)p;
			break;
		case K_U32:
			r = xfer_u32(b, (uint32_t *)p, put);
			break;
		case K_U64:
			r = xfer_u64(b, (uint64_t *)p, put);
			break;
		case K_TEXT:
			r = xfer_text(b, (char **)p, f->a, put);
			break;
		case K_VIEW:
			r = xfer_view(b, (struct ipc_view *)p, f->a, put);
			break;
		case K_RECTS:
			if (count > f->a)
				return MOAT_ERR_TOO_LONG;
			for (i = 0; r == 0 && i < count; i++)
				r = xfer_rect(b, (struct ipc_rect *)p + i, put);
			break;
		case K_ARGB:
			if (count > f->a)
				return MOAT_ERR_TOO_LONG;
			for (i = 0; r == 0 && i < count; i++)
				r = xfer_u32(b, (uint32_t *)p + i, put);
			break;
		default:
			return MOAT_ERR_INVALID;
		}
	}
	return r;
}

/* Applies the value rules of the table, then the codec's own check. */
static int
check(const struct codec *c, const uint8_t *m)
{
	const struct field *f;
	uint32_t v;

	for (f = c->fields; f->kind != K_END; f++) {
		if (f->rule == R_NONE)
			continue;
		if (f->kind == K_U8)
			v = m[f->off];
		else
			memcpy(&v, m + f->off, sizeof(v));
		if (f->rule == R_RANGE ? v < f->a || v > f->b : (v & ~f->a) != 0)
			return MOAT_ERR_INVALID;
	}
	return c->check != NULL ? c->check(m) : 0;
}

/* Wipes and frees every owned string of m and zeroes it. */
static void
release(const struct codec *c, void *m)
{
	const struct field *f;
	char **s;

	for (f = c->fields; f->kind != K_END; f++) {
		if (f->kind != K_TEXT)
			continue;
		s = (char **)((uint8_t *)m + f->off);
		if (*s != NULL) {
			OPENSSL_cleanse(*s, strlen(*s));
			free(*s);
		}
	}
	if (c->size > 0)
		memset(m, 0, c->size);
}

static int
get_msg(const struct codec *c, struct buf *b, void *m)
{
	struct buf t = *b;	/* read on a copy: all or nothing */
	int r;

	if (c->size > 0)
		memset(m, 0, c->size);
	if ((r = walk(&t, c->fields, m, 0)) == 0 &&
	    (r = buf_expect_end(&t)) == 0 && (r = check(c, m)) == 0) {
		*b = t;
		return 0;
	}
	release(c, m);
	return r;
}

static int
put_msg(const struct codec *c, struct buf *b, const void *m)
{
	size_t before = buf_len(b);
	int r;

	/* walk() only reads *m when writing. */
	if ((r = check(c, m)) == 0 &&
	    (r = walk(b, c->fields, (uint8_t *)(uintptr_t)m, 1)) == 0)
		return 0;
	/* Drop the partial message; compaction keeps off + unread constant. */
	if (buf_len(b) > before) {
		OPENSSL_cleanse(b->data + b->off + before, buf_len(b) - before);
		b->len = b->off + before;
	}
	return r;
}

/* ---- what the field rules cannot say ---- */

/* A colour mask is nonzero and one contiguous run of bits. */
static int
mask_ok(uint32_t m)
{
	uint32_t low;

	if (m == 0)
		return 0;
	low = m >> __builtin_ctz(m);
	return (low & (low + 1)) == 0;
}

static int
check_cap_framebuffer(const void *p)
{
	const struct ipc_cap_framebuffer *m = p;

	if (m->bpp != 32 || m->width == 0 || m->height == 0 ||
	    m->stride < (uint32_t)m->width * 4 ||
	    (uint64_t)m->stride * m->height > m->size ||
	    !mask_ok(m->red_mask) || !mask_ok(m->green_mask) ||
	    !mask_ok(m->blue_mask) || (m->red_mask & m->green_mask) ||
	    (m->red_mask & m->blue_mask) || (m->green_mask & m->blue_mask))
		return MOAT_ERR_INVALID;
	return 0;
}

static int
check_rsa_result(const void *p)
{
	const struct ipc_rsa_result *m = p;

	/* The bound is the walker's to report, as for every other field. */
	if (m->random.len > IPC_MAX_RSA_RANDOM)
		return MOAT_ERR_TOO_LONG;
	return m->random.len == 16 || m->random.len == 32 ? 0 : MOAT_ERR_INVALID;
}

static int
check_rsa_decrypt(const void *p)
{
	const struct ipc_rsa_decrypt *m = p;

	switch (m->sec_type) {
	case 5: case 6: case 129: case 130:
		return 0;
	}
	return MOAT_ERR_INVALID;
}

static int
check_cap_cursor(const void *p)
{
	const struct ipc_cap_cursor *m = p;

	if ((m->width > 0 && m->hot_x >= m->width) ||
	    (m->height > 0 && m->hot_y >= m->height))
		return MOAT_ERR_INVALID;
	return 0;
}

/* No SASL data without has-data: SASL tells "none" from "empty". */
static int
check_sasl_start(const void *p)
{
	const struct ipc_sasl_start *m = p;

	return !m->has_data && m->data.len > 0 ? MOAT_ERR_INVALID : 0;
}

static int
check_sasl_step(const void *p)
{
	const struct ipc_sasl_step *m = p;

	return !m->has_data && m->data.len > 0 ? MOAT_ERR_INVALID : 0;
}

/* An id only to disconnect, a key only to clear from the blacklist. */
static int
check_ctl_request(const void *p)
{
	const struct ipc_ctl_request *m = p;

	if (m->id != 0 && m->command != IPC_CTLCMD_DISCONNECT)
		return MOAT_ERR_INVALID;
	if (m->key.len > 0 && m->command != IPC_CTLCMD_BLACKLIST_CLEAR)
		return MOAT_ERR_INVALID;
	return 0;
}

/* moat-session answers a prompt; only the listener finds no desktop. */
static int
check_sess_query_result(const void *p)
{
	const struct ipc_sess_query_result *m = p;

	return m->verdict == IPC_QUERY_NO_DESKTOP ? MOAT_ERR_INVALID : 0;
}

/* An audit record is never empty. */
static int
check_mon_audit(const void *p)
{
	const struct ipc_mon_audit *m = p;

	return m->record.len == 0 ? MOAT_ERR_INVALID : 0;
}

/* ---- the messages, field by field in wire order (ipc_types.h) ---- */

static const struct field f_net_init[] = {
	BITS(ipc_net_init, flags, IPC_NETF_SELFTEST),
	TEXT(ipc_net_init, desktop_name, IPC_MAX_NAME),
	TEXT(ipc_net_init, cert_pem, IPC_MAX_PEM),
	TEXT(ipc_net_init, key_pem, IPC_MAX_PEM),
	U8_IN(ipc_net_init, encryption, IPC_ENC_ALWAYS_ON, IPC_ENC_PREFER_OFF),
	U32(ipc_net_init, max_cut_text),
	U32(ipc_net_init, login_grace),
	TEXT(ipc_net_init, peer, IPC_MAX_PEER),
	U32(ipc_net_init, uid),
	U32(ipc_net_init, gid),
	TEXT(ipc_net_init, empty_root, IPC_MAX_PATH),
	VIEW(ipc_net_init, rsa_public, IPC_MAX_RSA_PUBLIC),
	U32_IN(ipc_net_init, auth_channels, 1, IPC_AUTHCH_ALL),
	END
};

static const struct field f_auth_prompt[] = {
	U8_IN(ipc_auth_prompt, kind, IPC_PROMPT_ECHO, IPC_PROMPT_PROVE),
	TEXT(ipc_auth_prompt, text, IPC_MAX_PROMPT),
	END
};

static const struct field f_auth_converse[] = {
	VIEW(ipc_auth_converse, client_chain, IPC_MAX_CLIENT_CHAIN),
	END
};

static const struct field f_sasl_start[] = {
	VIEW(ipc_sasl_start, mech, IPC_MAX_SASL_MECH),
	U8_IN(ipc_sasl_start, has_data, 0, 1),
	VIEW(ipc_sasl_start, data, IPC_MAX_SASL_DATA),
	END
};

static const struct field f_sasl_step[] = {
	U8_IN(ipc_sasl_step, has_data, 0, 1),
	VIEW(ipc_sasl_step, data, IPC_MAX_SASL_DATA),
	END
};

static const struct field f_sasl_reply[] = {
	U8_IN(ipc_sasl_reply, complete, 0, 1),
	VIEW(ipc_sasl_reply, data, IPC_MAX_SASL_DATA),
	END
};

static const struct field f_auth_answer[] = {
	TEXT(ipc_auth_answer, answer, IPC_MAX_PASSWORD),
	END
};

static const struct field f_auth_result[] = {
	U8_IN(ipc_auth_result, ok, 0, 1),
	TEXT(ipc_auth_result, reason, IPC_MAX_REASON),
	TEXT(ipc_auth_result, user, IPC_MAX_NAME),
	END
};

static const struct field f_session_channel[] = {
	BITS(ipc_session_channel, perms, IPC_PERM_ALL),
	U32(ipc_session_channel, idle_timeout),
	END
};

static const struct field f_rsa_result[] = {
	VIEW(ipc_rsa_result, random, IPC_MAX_RSA_RANDOM),
	END
};

static const struct field f_rsa_decrypt[] = {
	U8(ipc_rsa_decrypt, sec_type),
	VIEW(ipc_rsa_decrypt, ciphertext, IPC_MAX_RSA_CIPHERTEXT),
	END
};

static const struct field f_net_log[] = {
	U8_IN(ipc_net_log, level, LOG_LVL_ERROR, LOG_LVL_DEBUG),
	VIEW(ipc_net_log, text, IPC_MAX_LOG_TEXT),
	END
};

static const struct field f_net_security[] = {
	VIEW(ipc_net_security, type, IPC_MAX_SECURITY_TEXT),
	VIEW(ipc_net_security, tls_version, IPC_MAX_SECURITY_TEXT),
	VIEW(ipc_net_security, cipher, IPC_MAX_SECURITY_TEXT),
	END
};

static const struct field f_auth_password[] = {
	TEXT(ipc_auth_password, user, IPC_MAX_NAME),
	TEXT(ipc_auth_password, password, IPC_MAX_PASSWORD),
	END
};

static const struct field f_net_closing[] = {
	U32_IN(ipc_net_closing, reason, IPC_CLOSE_CLIENT, IPC_CLOSE_STALLED),
	VIEW(ipc_net_closing, detail, IPC_MAX_CLOSE_DETAIL),
	U64(ipc_net_closing, bytes_in),
	U64(ipc_net_closing, bytes_out),
	END
};

static const struct field f_attach_session[] = {
	BITS(ipc_attach_session, perms, IPC_PERM_ALL),
	TEXT(ipc_attach_session, user, IPC_MAX_NAME),
	TEXT(ipc_attach_session, peer, IPC_MAX_PEER),
	END
};

static const struct field f_attach_result[] = {
	U8_IN(ipc_attach_result, ok, 0, 1),
	TEXT(ipc_attach_result, reason, IPC_MAX_REASON),
	END
};

static const struct field f_auth_outcome[] = {
	U8_IN(ipc_auth_outcome, outcome, IPC_OUTCOME_SUCCESS,
	    IPC_OUTCOME_UNAVAILABLE),
	VIEW(ipc_auth_outcome, user, IPC_MAX_NAME),
	END
};

static const struct field f_session_info[] = {
	BITS(ipc_session_info, perms, IPC_PERM_ALL),
	VIEW(ipc_session_info, user, IPC_MAX_NAME),
	VIEW(ipc_session_info, peer, IPC_MAX_PEER),
	VIEW(ipc_session_info, security, IPC_MAX_SECURITY_TEXT),
	VIEW(ipc_session_info, tls_version, IPC_MAX_SECURITY_TEXT),
	VIEW(ipc_session_info, cipher, IPC_MAX_SECURITY_TEXT),
	END
};

static const struct field f_client_init[] = {
	U8_IN(ipc_client_init, shared, 0, 1),
	END
};

static const struct field f_sharing[] = {
	U8_IN(ipc_sharing, shared, 0, 1),
	U8_IN(ipc_sharing, disconnect_clients, 0, 1),
	END
};

static const struct field f_taken_over[] = {
	VIEW(ipc_taken_over, peer, IPC_MAX_PEER),
	END
};

static const struct field f_query[] = {
	U32_IN(ipc_query, timeout, 1, IPC_MAX_QUERY_TIMEOUT),
	U8_IN(ipc_query, dflt, IPC_QUERY_ACCEPTED, IPC_QUERY_REJECTED),
	VIEW(ipc_query, user, IPC_MAX_NAME),
	VIEW(ipc_query, peer, IPC_MAX_PEER),
	END
};

static const struct field f_query_result[] = {
	U8_IN(ipc_query_result, verdict, IPC_QUERY_ACCEPTED, IPC_QUERY_BUSY),
	END
};

static const struct field f_mon_audit[] = {
	U8_IN(ipc_mon_audit, sync, 0, 1),
	VIEW(ipc_mon_audit, record, IPC_MAX_AUDIT_RECORD),
	END
};

static const struct field f_audit_done[] = {
	U8_IN(ipc_audit_done, ok, 0, 1),
	END
};

static const struct field f_lis_disconnect[] = {
	U32(ipc_lis_disconnect, uid),
	END
};

static const struct field f_ctl_request[] = {
	U8_IN(ipc_ctl_request, command, IPC_CTLCMD_SESSIONS,
	    IPC_CTLCMD_AUDIT_ROTATE),
	U32(ipc_ctl_request, id),
	VIEW(ipc_ctl_request, key, IPC_MAX_NAME),
	END
};

static const struct field f_ctl_session[] = {
	U32(ipc_ctl_session, id),
	U32(ipc_ctl_session, pid),
	U64(ipc_ctl_session, since),
	BITS(ipc_ctl_session, perms, IPC_PERM_ALL),
	VIEW(ipc_ctl_session, user, IPC_MAX_NAME),
	VIEW(ipc_ctl_session, peer, IPC_MAX_PEER),
	VIEW(ipc_ctl_session, security, IPC_MAX_SECURITY_TEXT),
	VIEW(ipc_ctl_session, tls_version, IPC_MAX_SECURITY_TEXT),
	VIEW(ipc_ctl_session, cipher, IPC_MAX_SECURITY_TEXT),
	END
};

static const struct field f_ctl_blacklist_entry[] = {
	U8_IN(ipc_ctl_blacklist_entry, kind, IPC_CTLKEY_ADDRESS,
	    IPC_CTLKEY_USER),
	VIEW(ipc_ctl_blacklist_entry, key, IPC_MAX_NAME),
	U32(ipc_ctl_blacklist_entry, failures),
	U8_IN(ipc_ctl_blacklist_entry, probation, 0, 1),
	U64(ipc_ctl_blacklist_entry, blocked_until),
	END
};

static const struct field f_ctl_reply[] = {
	U8_IN(ipc_ctl_reply, ok, 0, 1),
	VIEW(ipc_ctl_reply, text, IPC_MAX_CTL_TEXT),
	END
};

static const struct field f_sess_register[] = {
	VIEW(ipc_sess_register, display, IPC_MAX_DISPLAY_NAME),
	U16(ipc_sess_register, width),
	U16(ipc_sess_register, height),
	END
};

static const struct field f_sess_channel_open[] = {
	U32(ipc_sess_channel_open, id),
	BITS(ipc_sess_channel_open, perms, IPC_PERM_ALL),
	BITS(ipc_sess_channel_open, local, IPC_LOCAL_ALL),
	VIEW(ipc_sess_channel_open, user, IPC_MAX_NAME),
	VIEW(ipc_sess_channel_open, peer, IPC_MAX_PEER),
	END
};

static const struct field f_sess_query[] = {
	U32(ipc_sess_query, id),
	U32_IN(ipc_sess_query, timeout, 1, IPC_MAX_QUERY_TIMEOUT),
	U8_IN(ipc_sess_query, dflt, IPC_QUERY_ACCEPTED, IPC_QUERY_REJECTED),
	VIEW(ipc_sess_query, user, IPC_MAX_NAME),
	VIEW(ipc_sess_query, peer, IPC_MAX_PEER),
	END
};

static const struct field f_sess_query_result[] = {
	U32(ipc_sess_query_result, id),
	U8_IN(ipc_sess_query_result, verdict, IPC_QUERY_ACCEPTED,
	    IPC_QUERY_BUSY),
	END
};

static const struct field f_cap_framebuffer[] = {
	U16(ipc_cap_framebuffer, width),
	U16(ipc_cap_framebuffer, height),
	U32(ipc_cap_framebuffer, stride),
	U32(ipc_cap_framebuffer, size),
	U8(ipc_cap_framebuffer, bpp),
	U8(ipc_cap_framebuffer, depth),
	U32(ipc_cap_framebuffer, red_mask),
	U32(ipc_cap_framebuffer, green_mask),
	U32(ipc_cap_framebuffer, blue_mask),
	END
};

static const struct field f_empty[] = {
	END
};

static const struct field f_cap_damage[] = {
	U32(ipc_cap_damage, generation),
	COUNT(ipc_cap_damage, n, IPC_MAX_DAMAGE_RECTS),
	ARRAY(ipc_cap_damage, rects, struct ipc_rect, K_RECTS),
	END
};

static const struct field f_cap_key[] = {
	U8_IN(ipc_cap_key, down, 0, 1),
	U32(ipc_cap_key, keysym),
	U16(ipc_cap_key, xtcode),
	END
};

static const struct field f_cap_pointer[] = {
	U8(ipc_cap_pointer, mask),
	U16(ipc_cap_pointer, x),
	U16(ipc_cap_pointer, y),
	END
};

static const struct field f_cap_clipboard[] = {
	VIEW(ipc_cap_clipboard, text, IPC_MAX_CUT_TEXT),
	END
};

static const struct field f_cap_cursor[] = {
	U16(ipc_cap_cursor, hot_x),
	U16(ipc_cap_cursor, hot_y),
	COUNT(ipc_cap_cursor, width, IPC_MAX_CURSOR_DIM),
	COUNT(ipc_cap_cursor, height, IPC_MAX_CURSOR_DIM),
	ARRAY(ipc_cap_cursor, argb, uint32_t, K_ARGB),
	END
};

#define CODEC(type, name, chk) \
	static const struct codec c_##name = \
	    { type, sizeof(struct ipc_##name), f_##name, chk }
CODEC(IPC_MON_NET_INIT, net_init, NULL);
CODEC(IPC_MON_AUTH_RESULT, auth_result, NULL);
CODEC(IPC_MON_SESSION_CHANNEL, session_channel, NULL);
CODEC(IPC_MON_RSA_RESULT, rsa_result, check_rsa_result);
CODEC(IPC_NET_RSA_DECRYPT, rsa_decrypt, check_rsa_decrypt);
CODEC(IPC_NET_LOG, net_log, NULL);
CODEC(IPC_NET_SECURITY, net_security, NULL);
CODEC(IPC_NET_AUTH_PASSWORD, auth_password, NULL);
CODEC(IPC_MON_AUTH_PROMPT, auth_prompt, NULL);
CODEC(IPC_NET_AUTH_ANSWER, auth_answer, NULL);
CODEC(IPC_NET_AUTH_CONVERSE, auth_converse, NULL);
CODEC(IPC_NET_CLOSING, net_closing, NULL);
CODEC(IPC_MON_ATTACH_SESSION, attach_session, NULL);
CODEC(IPC_LIS_ATTACH_RESULT, attach_result, NULL);
CODEC(IPC_MON_AUTH_OUTCOME, auth_outcome, NULL);
CODEC(IPC_SESS_REGISTER, sess_register, NULL);
CODEC(IPC_SESS_CHANNEL_OPEN, sess_channel_open, NULL);
CODEC(IPC_CAP_FRAMEBUFFER, cap_framebuffer, check_cap_framebuffer);
CODEC(IPC_CAP_DAMAGE, cap_damage, NULL);
CODEC(IPC_CAP_KEY, cap_key, NULL);
CODEC(IPC_CAP_POINTER, cap_pointer, NULL);
CODEC(IPC_CAP_CLIPBOARD, cap_clipboard, NULL);
CODEC(IPC_CAP_CURSOR, cap_cursor, check_cap_cursor);
CODEC(IPC_NET_SASL_START, sasl_start, check_sasl_start);
CODEC(IPC_NET_SASL_STEP, sasl_step, check_sasl_step);
CODEC(IPC_MON_SASL_REPLY, sasl_reply, NULL);
CODEC(IPC_MON_SESSION_INFO, session_info, NULL);
CODEC(IPC_LIS_DISCONNECT, lis_disconnect, NULL);
CODEC(IPC_NET_CLIENT_INIT, client_init, NULL);
CODEC(IPC_MON_SHARING, sharing, NULL);
CODEC(IPC_LIS_TAKEN_OVER, taken_over, NULL);
CODEC(IPC_MON_QUERY, query, NULL);
CODEC(IPC_LIS_QUERY_RESULT, query_result, NULL);
CODEC(IPC_SESS_QUERY, sess_query, NULL);
CODEC(IPC_SESS_QUERY_RESULT, sess_query_result, check_sess_query_result);
CODEC(IPC_MON_AUDIT, mon_audit, check_mon_audit);
CODEC(IPC_LIS_AUDIT_DONE, audit_done, NULL);
CODEC(IPC_CTL_REQUEST, ctl_request, check_ctl_request);
CODEC(IPC_CTL_SESSION, ctl_session, NULL);
CODEC(IPC_CTL_BLACKLIST_ENTRY, ctl_blacklist_entry, NULL);
CODEC(IPC_CTL_REPLY, ctl_reply, NULL);
static const struct codec c_cap_update_request =
    { IPC_CAP_UPDATE_REQUEST, 0, f_empty, NULL };

static const struct codec *const codecs[] = {
	&c_net_init, &c_auth_result, &c_session_channel, &c_rsa_result,
	&c_net_log, &c_net_security, &c_auth_password, &c_auth_prompt,
	&c_auth_answer, &c_auth_converse, &c_net_closing,
	&c_rsa_decrypt, &c_attach_session,
	&c_attach_result, &c_auth_outcome, &c_sess_register, &c_sess_channel_open,
	&c_cap_framebuffer, &c_cap_update_request, &c_cap_damage, &c_cap_key,
	&c_cap_pointer, &c_cap_clipboard, &c_cap_cursor,
	&c_sasl_start, &c_sasl_step, &c_sasl_reply,
	&c_session_info, &c_lis_disconnect, &c_client_init, &c_sharing,
	&c_taken_over, &c_ctl_request, &c_ctl_session,
	&c_ctl_blacklist_entry, &c_ctl_reply,
	&c_query, &c_query_result, &c_sess_query, &c_sess_query_result,
	&c_mon_audit, &c_audit_done,
};

/* Encodes m into a buffer of its own and sends it with descriptor fd (or -1). */
static int
send_msg(const struct codec *c, int sock, const void *m, int fd)
{
	struct buf b;
	int r;

	buf_init(&b, IPC_MAX_PAYLOAD);
	if ((r = put_msg(c, &b, m)) == 0)
		r = ipc_send(sock, c->type, &b, fd);
	buf_free(&b);	/* wipes: payloads may hold secrets */
	return r;
}

/* ---- the typed entry points: each one is its table through the walker ---- */

#define TYPED(name)							\
int									\
ipc_msg_put_##name(struct buf *b, const struct ipc_##name *m)		\
{									\
	return put_msg(&c_##name, b, m);				\
}									\
int									\
ipc_msg_get_##name(struct buf *b, struct ipc_##name *m)		\
{									\
	return get_msg(&c_##name, b, m);				\
}									\
int									\
ipc_msg_send_##name(int sock, const struct ipc_##name *m, int fd)	\
{									\
	return send_msg(&c_##name, sock, m, fd);			\
}
#define OWNING(name)							\
void									\
ipc_msg_free_##name(struct ipc_##name *m)				\
{									\
	release(&c_##name, m);						\
}

TYPED(net_init)
TYPED(auth_result)
TYPED(session_channel)
TYPED(rsa_result)
TYPED(rsa_decrypt)
TYPED(net_log)
TYPED(net_security)
TYPED(auth_password)
TYPED(auth_prompt)
TYPED(auth_answer)
TYPED(net_closing)
TYPED(attach_session)
TYPED(attach_result)
TYPED(auth_outcome)
TYPED(sess_register)
TYPED(sess_channel_open)
TYPED(cap_framebuffer)
TYPED(cap_damage)
TYPED(cap_key)
TYPED(cap_pointer)
TYPED(cap_clipboard)
TYPED(cap_cursor)
TYPED(sasl_start)
TYPED(sasl_step)
TYPED(sasl_reply)
TYPED(session_info)
TYPED(lis_disconnect)
TYPED(client_init)
TYPED(sharing)
TYPED(taken_over)
TYPED(query)
TYPED(query_result)
TYPED(sess_query)
TYPED(sess_query_result)
TYPED(mon_audit)
TYPED(audit_done)
TYPED(ctl_request)
TYPED(ctl_session)
TYPED(ctl_blacklist_entry)
TYPED(ctl_reply)
OWNING(net_init)
OWNING(auth_result)
OWNING(auth_password)
OWNING(auth_prompt)
OWNING(auth_answer)
OWNING(attach_session)
OWNING(attach_result)

int
ipc_msg_put_cap_update_request(struct buf *b)
{
	return put_msg(&c_cap_update_request, b, NULL);
}

int
ipc_msg_get_cap_update_request(struct buf *b)
{
	return get_msg(&c_cap_update_request, b, NULL);
}

int
ipc_msg_send_cap_update_request(int sock)
{
	return send_msg(&c_cap_update_request, sock, NULL, -1);
}

int
ipc_msg_put_auth_converse(struct buf *b, const struct ipc_auth_converse *m)
{
	return put_msg(&c_auth_converse, b, m);
}

int
ipc_msg_get_auth_converse(struct buf *b, struct ipc_auth_converse *m)
{
	return get_msg(&c_auth_converse, b, m);
}

int
ipc_msg_send_auth_converse(int sock, const struct ipc_auth_converse *m)
{
	return send_msg(&c_auth_converse, sock, m, -1);
}

struct ipc_view
ipc_view_cstr(const char *s)
{
	struct ipc_view v = { (const uint8_t *)s, strlen(s) };

	return v;
}

static const struct codec *
codec_for(uint16_t type)
{
	size_t i;

	for (i = 0; i < sizeof(codecs) / sizeof(codecs[0]); i++)
		if (codecs[i]->type == type)
			return codecs[i];
	return NULL;
}

uint16_t
ipc_msg_type_at(size_t i)
{
	return i < sizeof(codecs) / sizeof(codecs[0]) ? codecs[i]->type : 0;
}

int
ipc_msg_get_any(uint16_t type, struct buf *b, union ipc_msg_any *m)
{
	const struct codec *c = codec_for(type);

	return c != NULL ? get_msg(c, b, m) : MOAT_ERR_UNSUPPORTED;
}

int
ipc_msg_put_any(uint16_t type, struct buf *b, const union ipc_msg_any *m)
{
	const struct codec *c = codec_for(type);

	return c != NULL ? put_msg(c, b, m) : MOAT_ERR_UNSUPPORTED;
}

void
ipc_msg_free_any(uint16_t type, union ipc_msg_any *m)
{
	const struct codec *c = codec_for(type);

	if (c != NULL)
		release(c, m);
}
