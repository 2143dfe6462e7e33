/*
 * test_ipc_msg.c - unit tests for the IPC payload codec (privsep/ipc_msg.c).
 * The seeds in fuzz/corpus/ipc_msg/ were written by hand from ipc_types.h
 * (first byte the type, then the payload), so they pin the wire format:
 * every type must have one, decode it, and encode its typical values to
 * exactly those bytes. Then, for every type: every truncation is
 * MOAT_ERR_SHORT, a trailing byte MOAT_ERR_TRAILING, every single bit flip
 * decodes to something that re-encodes to the same bytes or fails cleanly,
 * each bound holds and bound + 1 is MOAT_ERR_TOO_LONG both ways, each
 * invalid enumeration is MOAT_ERR_INVALID both ways; a failed decode
 * leaves the struct zeroed, the buffer unread and no memory allocated.
 * Test code.
 */
#include <dirent.h>
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"

#include "check.h"

#define PEER	"192.0.2.1 port 5900"
#define CERT	"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
#define KEY	"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
#define V(s)	((struct ipc_view){ (const uint8_t *)(s), sizeof(s) - 1 })

struct seed {
	uint8_t *p;	/* payload (after the type byte) */
	size_t n;
};

static struct seed seeds[256];
static union ipc_msg_any msg, msg2;
static const union ipc_msg_any zero;

/*
 * Heap bytes in use: equal before and after a decode means no leak. main()
 * turns glibc's per-thread cache off, which would count cached free chunks
 * as in use.
 */
static size_t
heap_in_use(void)
{
	return mallinfo2().uordblks;
}

/* The values every seed file was written with. */
static void
typical(uint16_t type, union ipc_msg_any *m)
{
	memset(m, 0, sizeof(*m));
	switch (type) {
	case IPC_MON_NET_INIT:
		m->net_init = (struct ipc_net_init){ IPC_NETF_SELFTEST,
		    "moat-test", CERT, KEY, IPC_ENC_ALWAYS_ON, 262144, 60, PEER,
		    65534, 65533, "/var/empty/moat", V("\0\0\x04\0nnnnee"),
		    IPC_AUTHCH_ALL };
		break;
	case IPC_MON_AUTH_RESULT:
		m->auth_result = (struct ipc_auth_result){ 1, "", "alice" };
		break;
	case IPC_MON_SESSION_CHANNEL:
		m->session_channel.perms = IPC_PERM_ALL;
		m->session_channel.idle_timeout = 3600;
		break;
	case IPC_MON_RSA_RESULT:
		m->rsa_result.random = V("0123456789abcdef");
		break;
	case IPC_NET_RSA_DECRYPT:
		m->rsa_decrypt = (struct ipc_rsa_decrypt){ 129, V("ciphertext") };
		break;
	case IPC_NET_LOG:
		m->net_log = (struct ipc_net_log){ LOG_LVL_INFO,
		    V("moat-net: hello") };
		break;
	case IPC_NET_SECURITY:
		m->net_security = (struct ipc_net_security){
		    V("VeNCrypt X509Plain"), V("TLSv1.3"),
		    V("TLS_AES_128_GCM_SHA256") };
		break;
	case IPC_NET_AUTH_PASSWORD:
		m->auth_password = (struct ipc_auth_password){ "alice",
		    "correct horse" };
		break;
	case IPC_MON_AUTH_PROMPT:
		m->auth_prompt = (struct ipc_auth_prompt){ IPC_PROMPT_SECRET,
		    "Password: " };
		break;
	case IPC_NET_AUTH_ANSWER:
		m->auth_answer = (struct ipc_auth_answer){ "correct horse" };
		break;
	case IPC_NET_AUTH_CONVERSE:
		m->auth_converse.client_chain = V("\0\0\0\x04" "cert");
		break;
	case IPC_NET_CLOSING:
		m->net_closing = (struct ipc_net_closing){ IPC_CLOSE_CLIENT,
		    V("peer closed the connection"), 0x100000002ull, 12345 };
		break;
	case IPC_MON_ATTACH_SESSION:
		m->attach_session = (struct ipc_attach_session){ IPC_PERM_ALL,
		    "alice", PEER };
		break;
	case IPC_LIS_ATTACH_RESULT:
		m->attach_result = (struct ipc_attach_result){ 0,
		    "No desktop session is running for this user" };
		break;
	case IPC_MON_AUTH_OUTCOME:
		m->auth_outcome = (struct ipc_auth_outcome){
		    IPC_OUTCOME_FAILURE, V("alice") };
		break;
	case IPC_SESS_REGISTER:
		m->sess_register = (struct ipc_sess_register){ V(":0"), 1024,
		    768 };
		break;
	case IPC_SESS_CHANNEL_OPEN:
		m->sess_channel_open = (struct ipc_sess_channel_open){ 7, 0x1d,
		    V("alice"), V(PEER), IPC_LOCAL_ALL };
		break;
	case IPC_CAP_FRAMEBUFFER:
		m->cap_framebuffer = (struct ipc_cap_framebuffer){ 320, 240,
		    1280, 307200, 32, 24, 0xff0000, 0xff00, 0xff };
		break;
	case IPC_CAP_DAMAGE:
		m->cap_damage.generation = 42;
		m->cap_damage.n = 2;
		m->cap_damage.rects[0] = (struct ipc_rect){ 0, 0, 320, 240 };
		m->cap_damage.rects[1] = (struct ipc_rect){ 10, 20, 30, 40 };
		break;
	case IPC_CAP_KEY:
		m->cap_key = (struct ipc_cap_key){ 1, 0xff0d, 0x1c };
		break;
	case IPC_CAP_POINTER:
		m->cap_pointer = (struct ipc_cap_pointer){ 0x81, 0x102, 0x304 };
		break;
	case IPC_CAP_CLIPBOARD:
		m->cap_clipboard.text = V("H\xe9llo");
		break;
	case IPC_NET_SASL_START:
		m->sasl_start = (struct ipc_sasl_start){ V("GSSAPI"), 1,
		    V("\x60\x82\x02\x00token") };
		break;
	case IPC_NET_SASL_STEP:
		m->sasl_step = (struct ipc_sasl_step){ 1, V("") };
		break;
	case IPC_MON_SASL_REPLY:
		m->sasl_reply = (struct ipc_sasl_reply){ 0, V("\x60\x5areply") };
		break;
	case IPC_MON_SESSION_INFO:
		m->session_info = (struct ipc_session_info){ IPC_PERM_ALL,
		    V("alice"), V(PEER), V("VeNCrypt X509Plain"), V("TLSv1.3"),
		    V("TLS_AES_128_GCM_SHA256") };
		break;
	case IPC_LIS_DISCONNECT:
		m->lis_disconnect.uid = 0;
		break;
	case IPC_NET_CLIENT_INIT:
		m->client_init.shared = 1;
		break;
	case IPC_MON_SHARING:
		m->sharing = (struct ipc_sharing){ 0, 1 };
		break;
	case IPC_LIS_TAKEN_OVER:
		m->taken_over.peer = V(PEER);
		break;
	case IPC_CTL_REQUEST:
		m->ctl_request = (struct ipc_ctl_request){
		    IPC_CTLCMD_BLACKLIST_CLEAR, 0, V("192.0.2.1") };
		break;
	case IPC_CTL_SESSION:
		m->ctl_session = (struct ipc_ctl_session){ 3, 4242, 1700000000,
		    IPC_PERM_ALL, V("alice"), V(PEER), V("VeNCrypt X509Plain"),
		    V("TLSv1.3"), V("TLS_AES_128_GCM_SHA256") };
		break;
	case IPC_CTL_BLACKLIST_ENTRY:
		m->ctl_blacklist_entry = (struct ipc_ctl_blacklist_entry){
		    IPC_CTLKEY_ADDRESS, V("192.0.2.1"), 2, 0, 1700000010 };
		break;
	case IPC_CTL_REPLY:
		m->ctl_reply = (struct ipc_ctl_reply){ 1,
		    V("configuration reloaded") };
		break;
	case IPC_MON_QUERY:
		m->query = (struct ipc_query){ 10, IPC_QUERY_REJECTED,
		    V("alice"), V(PEER) };
		break;
	case IPC_LIS_QUERY_RESULT:
		m->query_result.verdict = IPC_QUERY_ACCEPTED;
		break;
	case IPC_SESS_QUERY:
		m->sess_query = (struct ipc_sess_query){ 7, 10,
		    IPC_QUERY_REJECTED, V("alice"), V(PEER) };
		break;
	case IPC_SESS_QUERY_RESULT:
		m->sess_query_result = (struct ipc_sess_query_result){ 7,
		    IPC_QUERY_TIMED_OUT };
		break;
	case IPC_MON_AUDIT:
		m->mon_audit = (struct ipc_mon_audit){ 1,
		    V("{\"ts\":\"2026-11-23T01:02:03.456Z\",\"event\":\"login\","
		    "\"session\":3,\"peer_addr\":\"192.0.2.1\",\"peer_port\":"
		    "40000,\"user\":\"alice\"}") };
		break;
	case IPC_LIS_AUDIT_DONE:
		m->audit_done.ok = 1;
		break;
	case IPC_CAP_CURSOR:
		m->cap_cursor.hot_x = 1;
		m->cap_cursor.width = 2;
		m->cap_cursor.height = 2;
		m->cap_cursor.argb[0] = 0xff000000;
		m->cap_cursor.argb[1] = 0xffffffff;
		m->cap_cursor.argb[2] = 0x80ff0000;
		break;
	}
}

static void
load_seeds(void)
{
	const char *src = getenv("MOAT_SOURCE_DIR");
	char dir[4096], path[4096 + 260];
	struct dirent *de;
	DIR *d;
	FILE *f;
	uint8_t tmp[1024];
	size_t n;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/ipc_msg",
	    src != NULL ? src : ".");
	if ((d = opendir(dir)) == NULL) {
		CHECK(0, "cannot open %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((f = fopen(path, "rb")) == NULL)
			continue;
		n = fread(tmp, 1, sizeof(tmp), f);
		fclose(f);
		CHECK(n >= 1 && seeds[tmp[0]].p == NULL, "%s: one seed per type",
		    de->d_name);
		if (n < 1 || seeds[tmp[0]].p != NULL)
			continue;
		if ((seeds[tmp[0]].p = malloc(n)) == NULL)
			abort();
		memcpy(seeds[tmp[0]].p, tmp + 1, n - 1);
		seeds[tmp[0]].n = n - 1;
	}
	closedir(d);
}

/* Returns 1 if m encodes to exactly p[0..n). */
static int
encodes_to(uint16_t type, const union ipc_msg_any *m, const uint8_t *p,
    size_t n)
{
	struct buf b;
	int ok;

	buf_init(&b, IPC_MAX_PAYLOAD);
	ok = ipc_msg_put_any(type, &b, m) == 0 && buf_len(&b) == n &&
	    (n == 0 || memcmp(buf_ptr(&b), p, n) == 0);
	buf_free(&b);
	return ok;
}

/*
 * Decodes p[0..n) as type; a success must re-encode to the same bytes, a
 * failure must read nothing, leave msg zeroed and leak nothing. Returns
 * the decoder's result.
 */
static int
decode(uint16_t type, const uint8_t *p, size_t n)
{
	size_t heap = heap_in_use();
	struct buf b;
	int r;

	memset(&msg, 0, sizeof(msg));
	buf_view(&b, p, n);
	if ((r = ipc_msg_get_any(type, &b, &msg)) == 0) {
		CHECK(buf_len(&b) == 0, "type %u: decoded all", type);
		CHECK(encodes_to(type, &msg, p, n), "type %u: re-encodes",
		    type);
		ipc_msg_free_any(type, &msg);
	} else {
		CHECK(r < 0 && buf_len(&b) == n, "type %u: failure reads nothing",
		    type);
		CHECK(memcmp(&msg, &zero, sizeof(msg)) == 0,
		    "type %u: failure leaves the struct zeroed", type);
	}
	CHECK(heap_in_use() == heap, "type %u: no leak (r=%d)", type, r);
	return r;
}

static void
test_types(void)
{
	struct buf b;
	unsigned t, n = 0;
	size_t i;

	for (i = 0; ipc_msg_type_at(i) != 0; i++)
		CHECK(strcmp(ipc_type_name(ipc_msg_type_at(i)), "UNKNOWN") != 0);
	/*
	 * Every named type has a codec here, but the two resize messages:
	 * theirs is privsep/ipc_resize.c's (test_ipc_resize.c).
	 */
	for (t = 0; t <= UINT16_MAX; t++) {
		if (strcmp(ipc_type_name(t), "UNKNOWN") == 0 ||
		    t == IPC_CAP_RESIZE || t == IPC_CAP_RESIZE_RESULT)
			continue;
		n++;
		buf_view(&b, NULL, 0);
		CHECK(ipc_msg_get_any((uint16_t)t, &b, &msg) !=
		    MOAT_ERR_UNSUPPORTED, "type %u has a decoder", t);
		ipc_msg_free_any((uint16_t)t, &msg);
	}
	CHECK(n == i && n == 42, "%u named types, %zu codecs", n, i);
	buf_view(&b, NULL, 0);
	CHECK(ipc_msg_get_any(999, &b, &msg) == MOAT_ERR_UNSUPPORTED);
	buf_init(&b, 64);
	CHECK(ipc_msg_put_any(999, &b, &msg) == MOAT_ERR_UNSUPPORTED);
	buf_free(&b);
}

/* The seeds pin the wire format: typical values encode to them exactly. */
static void
test_seeds(void)
{
	uint16_t type;
	size_t i;

	load_seeds();
	for (i = 0; (type = ipc_msg_type_at(i)) != 0; i++) {
		CHECK(seeds[type].p != NULL, "a seed for type %u", type);
		if (seeds[type].p == NULL)
			continue;
		typical(type, &msg2);
		CHECK(encodes_to(type, &msg2, seeds[type].p, seeds[type].n),
		    "type %u: typical values encode to the seed", type);
		CHECK(decode(type, seeds[type].p, seeds[type].n) == 0,
		    "type %u: the seed decodes", type);
	}
	/* A few fields read back, beyond byte equality. */
	{
		struct buf b;

		buf_view(&b, seeds[IPC_NET_CLOSING].p, seeds[IPC_NET_CLOSING].n);
		CHECK(ipc_msg_get_net_closing(&b, &msg.net_closing) == 0 &&
		    msg.net_closing.bytes_in == 0x100000002ull &&
		    msg.net_closing.bytes_out == 12345 &&
		    msg.net_closing.detail.len == 26);
		buf_view(&b, seeds[IPC_MON_NET_INIT].p, seeds[IPC_MON_NET_INIT].n);
		CHECK(ipc_msg_get_net_init(&b, &msg.net_init) == 0 &&
		    strcmp(msg.net_init.key_pem, KEY) == 0 &&
		    strcmp(msg.net_init.empty_root, "/var/empty/moat") == 0 &&
		    msg.net_init.uid == 65534);
		ipc_msg_free_net_init(&msg.net_init);
		CHECK(msg.net_init.key_pem == NULL, "free clears the struct");
	}
}

/* Every truncation, a trailing byte and every single bit flip of every seed. */
static void
test_mutations(void)
{
	uint8_t *tmp;
	uint16_t type;
	size_t i, k, n;
	int r;

	for (i = 0; (type = ipc_msg_type_at(i)) != 0; i++) {
		if (seeds[type].p == NULL)
			continue;
		n = seeds[type].n;
		if ((tmp = malloc(n + 1)) == NULL)
			abort();
		memcpy(tmp, seeds[type].p, n);
		for (k = 0; k < n; k++)
			CHECK((r = decode(type, tmp, k)) == MOAT_ERR_SHORT,
			    "type %u cut at %zu: %s", type, k, moat_strerror(r));
		tmp[n] = 0;
		CHECK(decode(type, tmp, n + 1) == MOAT_ERR_TRAILING,
		    "type %u: trailing byte", type);
		for (k = 0; k < n * 8; k++) {
			tmp[k / 8] ^= (uint8_t)(1u << (k % 8));
			(void)decode(type, tmp, n);	/* checks inside */
			tmp[k / 8] ^= (uint8_t)(1u << (k % 8));
		}
		free(tmp);
	}
}

/* Where a string's bound lies: a member of the type's struct. */
#define AT(s, m)	offsetof(struct s, m)
static const struct bound {
	uint16_t type;
	size_t off;		/* of the member in the union */
	int owned;		/* char * (1) or struct ipc_view (0) */
	size_t max;
} bounds[] = {
	{ IPC_MON_NET_INIT, AT(ipc_net_init, desktop_name), 1, IPC_MAX_NAME },
	{ IPC_MON_NET_INIT, AT(ipc_net_init, cert_pem), 1, IPC_MAX_PEM },
	{ IPC_MON_NET_INIT, AT(ipc_net_init, key_pem), 1, IPC_MAX_PEM },
	{ IPC_MON_NET_INIT, AT(ipc_net_init, peer), 1, IPC_MAX_PEER },
	{ IPC_MON_NET_INIT, AT(ipc_net_init, empty_root), 1, IPC_MAX_PATH },
	{ IPC_MON_NET_INIT, AT(ipc_net_init, rsa_public), 0, IPC_MAX_RSA_PUBLIC },
	{ IPC_MON_RSA_RESULT, AT(ipc_rsa_result, random), 0, IPC_MAX_RSA_RANDOM },
	{ IPC_NET_RSA_DECRYPT, AT(ipc_rsa_decrypt, ciphertext), 0,
	    IPC_MAX_RSA_CIPHERTEXT },
	{ IPC_MON_AUTH_RESULT, AT(ipc_auth_result, reason), 1, IPC_MAX_REASON },
	{ IPC_MON_AUTH_RESULT, AT(ipc_auth_result, user), 1, IPC_MAX_NAME },
	{ IPC_NET_LOG, AT(ipc_net_log, text), 0, IPC_MAX_LOG_TEXT },
	{ IPC_NET_SECURITY, AT(ipc_net_security, type), 0, IPC_MAX_SECURITY_TEXT },
	{ IPC_NET_SECURITY, AT(ipc_net_security, tls_version), 0, IPC_MAX_SECURITY_TEXT },
	{ IPC_NET_SECURITY, AT(ipc_net_security, cipher), 0, IPC_MAX_SECURITY_TEXT },
	{ IPC_NET_AUTH_PASSWORD, AT(ipc_auth_password, user), 1, IPC_MAX_NAME },
	{ IPC_NET_AUTH_PASSWORD, AT(ipc_auth_password, password), 1, IPC_MAX_PASSWORD },
	{ IPC_MON_AUTH_PROMPT, AT(ipc_auth_prompt, text), 1, IPC_MAX_PROMPT },
	{ IPC_NET_AUTH_ANSWER, AT(ipc_auth_answer, answer), 1, IPC_MAX_PASSWORD },
	{ IPC_NET_CLOSING, AT(ipc_net_closing, detail), 0, IPC_MAX_CLOSE_DETAIL },
	{ IPC_MON_ATTACH_SESSION, AT(ipc_attach_session, user), 1, IPC_MAX_NAME },
	{ IPC_MON_ATTACH_SESSION, AT(ipc_attach_session, peer), 1, IPC_MAX_PEER },
	{ IPC_LIS_TAKEN_OVER, AT(ipc_taken_over, peer), 0, IPC_MAX_PEER },
	{ IPC_LIS_ATTACH_RESULT, AT(ipc_attach_result, reason), 1, IPC_MAX_REASON },
	{ IPC_MON_AUTH_OUTCOME, AT(ipc_auth_outcome, user), 0, IPC_MAX_NAME },
	{ IPC_SESS_REGISTER, AT(ipc_sess_register, display), 0, IPC_MAX_DISPLAY_NAME },
	{ IPC_SESS_CHANNEL_OPEN, AT(ipc_sess_channel_open, user), 0, IPC_MAX_NAME },
	{ IPC_SESS_CHANNEL_OPEN, AT(ipc_sess_channel_open, peer), 0, IPC_MAX_PEER },
	{ IPC_CAP_CLIPBOARD, AT(ipc_cap_clipboard, text), 0, IPC_MAX_CUT_TEXT },
	{ IPC_NET_SASL_START, AT(ipc_sasl_start, mech), 0, IPC_MAX_SASL_MECH },
	{ IPC_NET_SASL_START, AT(ipc_sasl_start, data), 0, IPC_MAX_SASL_DATA },
	{ IPC_NET_SASL_STEP, AT(ipc_sasl_step, data), 0, IPC_MAX_SASL_DATA },
	{ IPC_MON_SASL_REPLY, AT(ipc_sasl_reply, data), 0, IPC_MAX_SASL_DATA },
	{ IPC_MON_SESSION_INFO, AT(ipc_session_info, user), 0, IPC_MAX_NAME },
	{ IPC_MON_SESSION_INFO, AT(ipc_session_info, peer), 0, IPC_MAX_PEER },
	{ IPC_MON_SESSION_INFO, AT(ipc_session_info, security), 0,
	    IPC_MAX_SECURITY_TEXT },
	{ IPC_MON_SESSION_INFO, AT(ipc_session_info, tls_version), 0,
	    IPC_MAX_SECURITY_TEXT },
	{ IPC_MON_SESSION_INFO, AT(ipc_session_info, cipher), 0,
	    IPC_MAX_SECURITY_TEXT },
	{ IPC_CTL_REQUEST, AT(ipc_ctl_request, key), 0, IPC_MAX_NAME },
	{ IPC_MON_AUDIT, AT(ipc_mon_audit, record), 0, IPC_MAX_AUDIT_RECORD },
	{ IPC_CTL_SESSION, AT(ipc_ctl_session, user), 0, IPC_MAX_NAME },
	{ IPC_CTL_SESSION, AT(ipc_ctl_session, peer), 0, IPC_MAX_PEER },
	{ IPC_CTL_SESSION, AT(ipc_ctl_session, security), 0,
	    IPC_MAX_SECURITY_TEXT },
	{ IPC_CTL_SESSION, AT(ipc_ctl_session, tls_version), 0,
	    IPC_MAX_SECURITY_TEXT },
	{ IPC_CTL_SESSION, AT(ipc_ctl_session, cipher), 0,
	    IPC_MAX_SECURITY_TEXT },
	{ IPC_CTL_BLACKLIST_ENTRY, AT(ipc_ctl_blacklist_entry, key), 0,
	    IPC_MAX_NAME },
	{ IPC_CTL_REPLY, AT(ipc_ctl_reply, text), 0, IPC_MAX_CTL_TEXT },
};

/* Sets the string member of b in m to the first len bytes of s. */
static void
set_string(const struct bound *b, union ipc_msg_any *m, char *s, size_t len)
{
	uint8_t *p = (uint8_t *)m + b->off;

	if (b->owned) {
		s[len] = '\0';
		memcpy(p, &s, sizeof(s));
	} else {
		struct ipc_view v = { (const uint8_t *)s, len };

		memcpy(p, &v, sizeof(v));
	}
}

/*
 * Copies payload p (holding the string of fill bytes of length max) with
 * that string one byte longer; returns the new length, 0 if not found.
 */
static size_t
grow_string(const uint8_t *p, size_t n, size_t max, char fill, uint8_t *out)
{
	uint8_t len[4] = { (uint8_t)(max >> 24), (uint8_t)(max >> 16),
	    (uint8_t)(max >> 8), (uint8_t)max };
	size_t k, j;

	for (k = 0; k + 4 + max <= n; k++) {
		if (memcmp(p + k, len, 4) != 0)
			continue;
		for (j = 0; j < max && p[k + 4 + j] == (uint8_t)fill; j++)
			;
		if (j < max)
			continue;
		memcpy(out, p, k);
		out[k] = (uint8_t)((max + 1) >> 24);
		out[k + 1] = (uint8_t)((max + 1) >> 16);
		out[k + 2] = (uint8_t)((max + 1) >> 8);
		out[k + 3] = (uint8_t)(max + 1);
		memset(out + k + 4, fill, max + 1);
		memcpy(out + k + 5 + max, p + k + 4 + max, n - k - 4 - max);
		return n + 1;
	}
	return 0;
}

/*
 * Encodes m after three bytes already in a buffer: a failure must be want
 * and leave those three alone; a success (want 0) must append a payload
 * that decodes.
 */
static void
expect_put(uint16_t type, const union ipc_msg_any *m, int want)
{
	struct buf b;
	int r;

	buf_init(&b, IPC_MAX_PAYLOAD);
	buf_put_bytes(&b, "abc", 3);
	r = ipc_msg_put_any(type, &b, m);
	CHECK(r == want, "type %u: put gives %s", type, moat_strerror(r));
	CHECK(memcmp(buf_ptr(&b), "abc", 3) == 0 && (want == 0 ?
	    decode(type, buf_ptr(&b) + 3, buf_len(&b) - 3) == 0 :
	    buf_len(&b) == 3), "type %u: buffer after the put", type);
	buf_free(&b);
}

static void
test_string_bounds(void)
{
	const size_t big = IPC_MAX_CUT_TEXT + 2;
	char *s;
	uint8_t *grown;
	struct buf b;
	size_t i, n;

	if ((s = malloc(big)) == NULL || (grown = malloc(IPC_MAX_PAYLOAD + 1)) == NULL)
		abort();
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		const struct bound *bd = &bounds[i];

		memset(s, 'z', big);
		typical(bd->type, &msg2);
		set_string(bd, &msg2, s, bd->max);
		buf_init(&b, IPC_MAX_PAYLOAD);
		CHECK(ipc_msg_put_any(bd->type, &b, &msg2) == 0,
		    "type %u: string of %zu encodes", bd->type, bd->max);
		CHECK(decode(bd->type, buf_ptr(&b), buf_len(&b)) == 0,
		    "type %u: string of %zu decodes", bd->type, bd->max);
		n = grow_string(buf_ptr(&b), buf_len(&b), bd->max, 'z', grown);
		CHECK(n != 0 && decode(bd->type, grown, n) == MOAT_ERR_TOO_LONG,
		    "type %u: string of %zu + 1 is refused", bd->type, bd->max);
		buf_free(&b);
		memset(s, 'z', big);
		set_string(bd, &msg2, s, bd->max + 1);
		expect_put(bd->type, &msg2, MOAT_ERR_TOO_LONG);
	}
	/* Owned strings refuse embedded NULs and NULL; views take any byte. */
	typical(IPC_NET_AUTH_PASSWORD, &msg2);
	msg2.auth_password.password = NULL;
	expect_put(IPC_NET_AUTH_PASSWORD, &msg2, MOAT_ERR_INVALID);
	memcpy(grown, seeds[IPC_NET_AUTH_PASSWORD].p, seeds[IPC_NET_AUTH_PASSWORD].n);
	grown[5] = 0;	/* "a\0ice" */
	CHECK(decode(IPC_NET_AUTH_PASSWORD, grown, seeds[IPC_NET_AUTH_PASSWORD].n) ==
	    MOAT_ERR_INVALID);
	memcpy(grown, seeds[IPC_NET_LOG].p, seeds[IPC_NET_LOG].n);
	grown[6] = 0;
	CHECK(decode(IPC_NET_LOG, grown, seeds[IPC_NET_LOG].n) == 0);
	free(grown);
	free(s);
}

/* Patches a count in an encoded payload and appends the bytes it implies. */
static void
count_plus_one(uint16_t type, size_t off, size_t extra)
{
	struct buf b;
	size_t n;
	uint8_t *p;
	uint16_t v;

	buf_init(&b, IPC_MAX_PAYLOAD);
	CHECK(ipc_msg_put_any(type, &b, &msg2) == 0);
	n = buf_len(&b);
	if ((p = calloc(1, n + extra)) == NULL)
		abort();
	memcpy(p, buf_ptr(&b), n);
	v = (uint16_t)(((p[off] << 8) | p[off + 1]) + 1);
	p[off] = (uint8_t)(v >> 8);
	p[off + 1] = (uint8_t)v;
	CHECK(decode(type, p, n + extra) == MOAT_ERR_TOO_LONG,
	    "type %u: count at %zu raised to %u", type, off, v);
	free(p);
	buf_free(&b);
}

static void
test_count_bounds(void)
{
	struct buf b;
	size_t i;

	typical(IPC_CAP_DAMAGE, &msg2);
	msg2.cap_damage.n = IPC_MAX_DAMAGE_RECTS;
	for (i = 0; i < IPC_MAX_DAMAGE_RECTS; i++)
		msg2.cap_damage.rects[i] = (struct ipc_rect){ (uint16_t)i, 1, 2, 3 };
	buf_init(&b, IPC_MAX_PAYLOAD);
	CHECK(ipc_msg_put_any(IPC_CAP_DAMAGE, &b, &msg2) == 0 &&
	    buf_len(&b) == 6 + 8 * IPC_MAX_DAMAGE_RECTS &&
	    decode(IPC_CAP_DAMAGE, buf_ptr(&b), buf_len(&b)) == 0);
	buf_free(&b);
	count_plus_one(IPC_CAP_DAMAGE, 4, 8);
	msg2.cap_damage.n = IPC_MAX_DAMAGE_RECTS + 1;
	expect_put(IPC_CAP_DAMAGE, &msg2, MOAT_ERR_TOO_LONG);

	typical(IPC_CAP_CURSOR, &msg2);
	msg2.cap_cursor.width = msg2.cap_cursor.height = IPC_MAX_CURSOR_DIM;
	for (i = 0; i < IPC_MAX_CURSOR_DIM * IPC_MAX_CURSOR_DIM; i++)
		msg2.cap_cursor.argb[i] = (uint32_t)i * 2654435761u;
	buf_init(&b, IPC_MAX_PAYLOAD);
	CHECK(ipc_msg_put_any(IPC_CAP_CURSOR, &b, &msg2) == 0 &&
	    buf_len(&b) == 8 + 4 * IPC_MAX_CURSOR_DIM * IPC_MAX_CURSOR_DIM &&
	    decode(IPC_CAP_CURSOR, buf_ptr(&b), buf_len(&b)) == 0);
	buf_free(&b);
	msg2.cap_cursor.height = 1;
	count_plus_one(IPC_CAP_CURSOR, 4, 4);		/* width 129 */
	msg2.cap_cursor.width = 1;
	msg2.cap_cursor.hot_x = 0;
	msg2.cap_cursor.height = IPC_MAX_CURSOR_DIM;
	count_plus_one(IPC_CAP_CURSOR, 6, 4);		/* height 129 */
	msg2.cap_cursor.height = IPC_MAX_CURSOR_DIM + 1;
	expect_put(IPC_CAP_CURSOR, &msg2, MOAT_ERR_TOO_LONG);
	msg2.cap_cursor.width = msg2.cap_cursor.height = 0;	/* empty is fine */
	buf_init(&b, 64);
	CHECK(ipc_msg_put_any(IPC_CAP_CURSOR, &b, &msg2) == 0 &&
	    buf_len(&b) == 8 && decode(IPC_CAP_CURSOR, buf_ptr(&b), 8) == 0);
	buf_free(&b);
}

/*
 * An invalid value for one field: patched into the seed, the decoder must
 * refuse it; set in the typical struct, so must the encoder.
 */
#define IN(s, m)	offsetof(struct s, m), sizeof(((struct s *)0)->m)
static const struct patch {
	uint16_t type;
	size_t off;		/* in the seed; SIZE_MAX: NET_INIT's encryption */
	size_t member, len;	/* the field in the struct, 1, 2 or 4 bytes */
	uint32_t value;
} invalid[] = {
	{ IPC_MON_NET_INIT, 0, IN(ipc_net_init, flags), 0x02 },
	{ IPC_MON_NET_INIT, SIZE_MAX, IN(ipc_net_init, encryption), 0 },
	{ IPC_MON_NET_INIT, SIZE_MAX, IN(ipc_net_init, encryption), 5 },
	{ IPC_NET_RSA_DECRYPT, 0, IN(ipc_rsa_decrypt, sec_type), 0 },
	{ IPC_NET_RSA_DECRYPT, 0, IN(ipc_rsa_decrypt, sec_type), 7 },
	{ IPC_NET_RSA_DECRYPT, 0, IN(ipc_rsa_decrypt, sec_type), 19 },
	{ IPC_NET_RSA_DECRYPT, 0, IN(ipc_rsa_decrypt, sec_type), 128 },
	{ IPC_NET_RSA_DECRYPT, 0, IN(ipc_rsa_decrypt, sec_type), 131 },
	{ IPC_MON_AUTH_RESULT, 0, IN(ipc_auth_result, ok), 2 },
	{ IPC_MON_SESSION_CHANNEL, 0, IN(ipc_session_channel, perms), 0x40 },
	{ IPC_NET_LOG, 0, IN(ipc_net_log, level), LOG_LVL_DEBUG + 1 },
	{ IPC_NET_CLOSING, 0, IN(ipc_net_closing, reason), 0 },
	{ IPC_NET_CLOSING, 0, IN(ipc_net_closing, reason), IPC_CLOSE_STALLED + 1 },
	{ IPC_MON_ATTACH_SESSION, 0, IN(ipc_attach_session, perms), 0x100 },
	{ IPC_LIS_ATTACH_RESULT, 0, IN(ipc_attach_result, ok), 0xff },
	{ IPC_MON_AUTH_OUTCOME, 0, IN(ipc_auth_outcome, outcome), 0 },
	{ IPC_MON_AUTH_OUTCOME, 0, IN(ipc_auth_outcome, outcome), IPC_OUTCOME_UNAVAILABLE + 1 },
	{ IPC_SESS_CHANNEL_OPEN, 4, IN(ipc_sess_channel_open, perms), 0x80000000u },
	{ IPC_SESS_CHANNEL_OPEN, 8, IN(ipc_sess_channel_open, local), 0x04 },
	{ IPC_CAP_FRAMEBUFFER, 12, IN(ipc_cap_framebuffer, bpp), 24 },
	{ IPC_CAP_FRAMEBUFFER, 0, IN(ipc_cap_framebuffer, width), 0 },
	{ IPC_CAP_FRAMEBUFFER, 2, IN(ipc_cap_framebuffer, height), 0 },
	{ IPC_CAP_FRAMEBUFFER, 4, IN(ipc_cap_framebuffer, stride), 1276 },
	{ IPC_CAP_FRAMEBUFFER, 8, IN(ipc_cap_framebuffer, size), 307199 },
	{ IPC_CAP_FRAMEBUFFER, 14, IN(ipc_cap_framebuffer, red_mask), 0 },
	{ IPC_CAP_FRAMEBUFFER, 14, IN(ipc_cap_framebuffer, red_mask), 0xff00ff },
	{ IPC_CAP_FRAMEBUFFER, 18, IN(ipc_cap_framebuffer, green_mask), 0xff0000 },
	{ IPC_CAP_FRAMEBUFFER, 22, IN(ipc_cap_framebuffer, blue_mask), 0x0100 },
	{ IPC_CAP_KEY, 0, IN(ipc_cap_key, down), 2 },
	{ IPC_CAP_CURSOR, 0, IN(ipc_cap_cursor, hot_x), 2 },
	{ IPC_CAP_CURSOR, 2, IN(ipc_cap_cursor, hot_y), 9 },
	{ IPC_NET_SASL_START, 10, IN(ipc_sasl_start, has_data), 2 },
	{ IPC_NET_SASL_STEP, 0, IN(ipc_sasl_step, has_data), 0xff },
	{ IPC_MON_SASL_REPLY, 0, IN(ipc_sasl_reply, complete), 2 },
	{ IPC_NET_CLIENT_INIT, 0, IN(ipc_client_init, shared), 2 },
	{ IPC_MON_SHARING, 0, IN(ipc_sharing, shared), 0xff },
	{ IPC_MON_SHARING, 1, IN(ipc_sharing, disconnect_clients), 2 },
	{ IPC_MON_SESSION_INFO, 0, IN(ipc_session_info, perms), 0x40 },
	{ IPC_CTL_REQUEST, 0, IN(ipc_ctl_request, command), 0 },
	{ IPC_CTL_REQUEST, 0, IN(ipc_ctl_request, command),
	    IPC_CTLCMD_AUDIT_ROTATE + 1 },
	{ IPC_MON_AUDIT, 0, IN(ipc_mon_audit, sync), 2 },
	{ IPC_LIS_AUDIT_DONE, 0, IN(ipc_audit_done, ok), 2 },
	/* a key with another command; an id with a command other than DISCONNECT */
	{ IPC_CTL_REQUEST, 0, IN(ipc_ctl_request, command), IPC_CTLCMD_SESSIONS },
	{ IPC_CTL_REQUEST, 1, IN(ipc_ctl_request, id), 3 },
	{ IPC_CTL_SESSION, 16, IN(ipc_ctl_session, perms), 0x40 },
	{ IPC_CTL_BLACKLIST_ENTRY, 0, IN(ipc_ctl_blacklist_entry, kind), 0 },
	{ IPC_CTL_BLACKLIST_ENTRY, 0, IN(ipc_ctl_blacklist_entry, kind), 3 },
	{ IPC_CTL_BLACKLIST_ENTRY, 18, IN(ipc_ctl_blacklist_entry, probation), 2 },
	{ IPC_CTL_REPLY, 0, IN(ipc_ctl_reply, ok), 2 },
	{ IPC_MON_QUERY, 0, IN(ipc_query, timeout), 0 },
	{ IPC_MON_QUERY, 0, IN(ipc_query, timeout), 601 },
	{ IPC_MON_QUERY, 4, IN(ipc_query, dflt), IPC_QUERY_TIMED_OUT },
	{ IPC_LIS_QUERY_RESULT, 0, IN(ipc_query_result, verdict), 0 },
	{ IPC_LIS_QUERY_RESULT, 0, IN(ipc_query_result, verdict), 6 },
	{ IPC_SESS_QUERY, 4, IN(ipc_sess_query, timeout), 0 },
	{ IPC_SESS_QUERY, 8, IN(ipc_sess_query, dflt), 0 },
	{ IPC_SESS_QUERY_RESULT, 4, IN(ipc_sess_query_result, verdict),
	    IPC_QUERY_NO_DESKTOP },
	{ IPC_SESS_QUERY_RESULT, 4, IN(ipc_sess_query_result, verdict), 6 },
};

/* Stores value in the len-byte member at off of m. */
static void
set_member(union ipc_msg_any *m, size_t off, size_t len, uint32_t value)
{
	uint8_t v8 = (uint8_t)value;
	uint16_t v16 = (uint16_t)value;

	memcpy((uint8_t *)m + off, len == 1 ? (void *)&v8 : len == 2 ?
	    (void *)&v16 : (void *)&value, len);
}

static void
test_values(void)
{
	const struct patch *pt;
	uint8_t tmp[1024];
	struct buf b;
	size_t i, k, off;

	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		pt = &invalid[i];
		off = pt->off;
		if (off == SIZE_MAX)	/* flags, three strings, then encryption */
			off = 4 + 3 * 4 + strlen("moat-test") + strlen(CERT) +
			    strlen(KEY);
		memcpy(tmp, seeds[pt->type].p, seeds[pt->type].n);
		for (k = 0; k < pt->len; k++)
			tmp[off + k] = (uint8_t)(pt->value >> (8 * (pt->len - 1 - k)));
		CHECK(decode(pt->type, tmp, seeds[pt->type].n) == MOAT_ERR_INVALID,
		    "type %u: 0x%x at %zu is invalid", pt->type, pt->value, off);
		typical(pt->type, &msg2);
		set_member(&msg2, pt->member, pt->len, pt->value);
		expect_put(pt->type, &msg2, MOAT_ERR_INVALID);
	}
	/* Values at the edges are fine. */
	typical(IPC_NET_CLOSING, &msg2);
	msg2.net_closing.reason = IPC_CLOSE_ERROR;
	msg2.net_closing.bytes_in = UINT64_MAX;
	expect_put(IPC_NET_CLOSING, &msg2, 0);
	typical(IPC_CAP_KEY, &msg2);
	msg2.cap_key.keysym = 0;	/* the injector's to refuse, not ours */
	expect_put(IPC_CAP_KEY, &msg2, 0);
	/* Any keycode: the injector looks it up; 0 is none. */
	for (k = 0; k <= UINT16_MAX; k += 0x3fff) {
		msg2.cap_key.xtcode = (uint16_t)k;
		expect_put(IPC_CAP_KEY, &msg2, 0);
	}
	{
		/* The keycode is not optional: the old 5-byte form is short. */
		static const uint8_t old[] = { 1, 0, 0, 0xff, 0x0d };
		static const uint8_t left[] = { 0, 0, 0, 0, 0, 0, 0xcb };
		static const uint8_t pause[] = { 1, 0, 0, 0xff, 0x13, 0, 0xc6 };
		static const uint8_t big[] = { 1, 0, 0, 0, 0, 0xff, 0xff };

		CHECK(decode(IPC_CAP_KEY, old, sizeof(old)) == MOAT_ERR_SHORT,
		    "key: a payload without the keycode is short");
		CHECK(decode(IPC_CAP_KEY, left, sizeof(left)) == 0,
		    "key: Left decodes and re-encodes");
		memset(&msg, 0, sizeof(msg));
		buf_view(&b, left, sizeof(left));
		CHECK(ipc_msg_get_cap_key(&b, &msg.cap_key) == 0 &&
		    msg.cap_key.down == 0 && msg.cap_key.keysym == 0 &&
		    msg.cap_key.xtcode == 0xcb,
		    "key: a release of Left by keycode only (keysym 0)");
		buf_view(&b, pause, sizeof(pause));
		CHECK(ipc_msg_get_cap_key(&b, &msg.cap_key) == 0 &&
		    msg.cap_key.down == 1 && msg.cap_key.keysym == 0xff13 &&
		    msg.cap_key.xtcode == 0xc6, "key: Pause, both fields");
		buf_view(&b, big, sizeof(big));
		CHECK(ipc_msg_get_cap_key(&b, &msg.cap_key) == 0 &&
		    msg.cap_key.xtcode == 0xffff,
		    "key: keycode 0xFFFF (what moat-net sends for larger ones)");
	}
	/* Every RSA-AES type is accepted; so is no public key at all. */
	typical(IPC_NET_RSA_DECRYPT, &msg2);
	for (i = 0; i < 4; i++) {
		msg2.rsa_decrypt.sec_type = (uint8_t)(i < 2 ? 5 + i : 127 + i);
		expect_put(IPC_NET_RSA_DECRYPT, &msg2, 0);
	}
	typical(IPC_MON_NET_INIT, &msg2);
	msg2.net_init.rsa_public = (struct ipc_view){ NULL, 0 };
	msg2.net_init.encryption = IPC_ENC_PREFER_OFF;
	expect_put(IPC_MON_NET_INIT, &msg2, 0);
	/* SASL: no data is not empty data; data without has-data is refused. */
	typical(IPC_NET_SASL_STEP, &msg2);
	msg2.sasl_step.has_data = 0;
	expect_put(IPC_NET_SASL_STEP, &msg2, 0);
	msg2.sasl_step.data = V("x");
	expect_put(IPC_NET_SASL_STEP, &msg2, MOAT_ERR_INVALID);
	{
		static const uint8_t nodata[] = { 0, 0, 0, 0, 1, 'x' };
		static const uint8_t start[] = { 0, 0, 0, 6, 'G', 'S', 'S',
		    'A', 'P', 'I', 0, 0, 0, 0, 1, 'x' };
		static const uint8_t none[] = { 0, 0, 0, 6, 'G', 'S', 'S',
		    'A', 'P', 'I', 0, 0, 0, 0, 0 };

		CHECK(decode(IPC_NET_SASL_STEP, nodata, sizeof(nodata)) ==
		    MOAT_ERR_INVALID, "step: data without has-data");
		CHECK(decode(IPC_NET_SASL_START, start, sizeof(start)) ==
		    MOAT_ERR_INVALID, "start: data without has-data");
		CHECK(decode(IPC_NET_SASL_START, none, sizeof(none)) == 0,
		    "start: no data at all");
	}
	typical(IPC_NET_SASL_START, &msg2);
	msg2.sasl_start.has_data = 0;
	expect_put(IPC_NET_SASL_START, &msg2, MOAT_ERR_INVALID);
	typical(IPC_MON_SASL_REPLY, &msg2);
	msg2.sasl_reply.complete = 1;
	msg2.sasl_reply.data = (struct ipc_view){ NULL, 0 };
	expect_put(IPC_MON_SASL_REPLY, &msg2, 0);
	/* The random is exactly 16 or 32 bytes, both ways. */
	typical(IPC_MON_RSA_RESULT, &msg2);
	msg2.rsa_result.random = V("0123456789abcdef0123456789abcdef");
	expect_put(IPC_MON_RSA_RESULT, &msg2, 0);
	for (k = 0; k <= IPC_MAX_RSA_RANDOM; k++) {
		uint8_t p[4 + IPC_MAX_RSA_RANDOM] = { 0, 0, 0, (uint8_t)k };

		if (k == 16 || k == 32)
			continue;
		msg2.rsa_result.random = (struct ipc_view){ p + 4, k };
		expect_put(IPC_MON_RSA_RESULT, &msg2, MOAT_ERR_INVALID);
		CHECK(decode(IPC_MON_RSA_RESULT, p, 4 + k) == MOAT_ERR_INVALID,
		    "a random of %zu bytes is refused", k);
	}
}

/* A put that does not fit leaves the buffer as it was; appends work. */
static void
test_buffers(void)
{
	uint8_t store[16];
	struct buf b;

	typical(IPC_NET_LOG, &msg2);
	buf_init_fixed(&b, store, sizeof(store));
	CHECK(buf_put_u8(&b, 7) == 0);
	CHECK(ipc_msg_put_net_log(&b, &msg2.net_log) == MOAT_ERR_TOO_LONG &&
	    buf_len(&b) == 1 && store[0] == 7 && store[1] == 0,
	    "a failed put is undone and wiped");
	typical(IPC_CAP_KEY, &msg2);
	CHECK(ipc_msg_put_cap_key(&b, &msg2.cap_key) == 0 && buf_len(&b) == 8);
	CHECK(buf_consume(&b, 1) == 0 &&
	    ipc_msg_get_cap_key(&b, &msg.cap_key) == 0 &&
	    msg.cap_key.down == 1 && msg.cap_key.keysym == 0xff0d &&
	    msg.cap_key.xtcode == 0x1c);
	buf_init(&b, 4);
	CHECK(ipc_msg_put_cap_update_request(&b) == 0 && buf_len(&b) == 0 &&
	    ipc_msg_get_cap_update_request(&b) == 0);
	CHECK(buf_put_u8(&b, 0) == 0 &&
	    ipc_msg_get_cap_update_request(&b) == MOAT_ERR_TRAILING);
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	(void)argc;
	if (getenv("MOAT_TEST_NO_TCACHE") == NULL) {
		setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
		setenv("MOAT_TEST_NO_TCACHE", "1", 1);
		execv("/proc/self/exe", argv);
		fprintf(stderr, "re-exec without tcache failed; leak checks "
		    "may misfire\n");
	}
	test_types();
	test_seeds();
	test_mutations();
	test_string_bounds();
	test_count_bounds();
	test_values();
	test_buffers();
	return check_summary();
}
