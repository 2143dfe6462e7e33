/*
 * ipc_msg.h - one typed encoder and one decoder for every IPC message
 * payload of privsep/ipc_types.h, used by both ends of every channel.
 *
 * Runs in every process. A decoder trusts nothing: it reads exactly the
 * payload (trailing bytes are MOAT_ERR_TRAILING), bounds every length before
 * using it (MOAT_ERR_TOO_LONG), and validates every enumeration, boolean and
 * bit set (MOAT_ERR_INVALID) after the payload parsed completely, so a
 * malformed payload yields the same error whichever side looks at it.
 * An encoder applies the same checks first and writes nothing unless the
 * whole message is valid, so what one side sends the other side accepts.
 * Checks that need the receiver's state (a request outstanding, a
 * descriptor present, the memfd's size, a configured limit below the
 * ceiling) stay with the receiver.
 *
 * Strings come in two kinds, chosen per field:
 *  - char * fields are owned copies: NUL-terminated, embedded NULs rejected
 *    (MOAT_ERR_INVALID); free them with the struct's ipc_msg_free_*(), which
 *    wipes each one (the password, the TLS leaf key, ...) before freeing.
 *  - struct ipc_view fields are bounded views into the payload: any bytes,
 *    not NUL-terminated, valid only while the payload buffer is.
 * Structs without char * fields own nothing and need no free.
 *
 * Every ipc_msg_get_*() zeroes *m first; on failure *m is zeroed again,
 * nothing stays allocated and the buffer's read position is unchanged. On
 * success the buffer is empty. Every ipc_msg_put_*() appends the payload to
 * b and returns 0, or returns a negative MOAT_ERR_* and leaves b unchanged.
 * Every ipc_msg_send_*() encodes into a buffer of its own (wiped after use)
 * and sends it on sock with descriptor fd (-1 for none); it returns 0, the
 * encoder's error, or ipc_send()'s. Descriptors are the receiver's to
 * demand or refuse (ipc_recv()); the decoders never see them.
 */
#ifndef MOAT_IPC_MSG_H
#define MOAT_IPC_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipc_types.h"

/* Per-field bounds (in bytes) beside those in ipc_types.h. */
#define IPC_MAX_PEM		65536u	/* NET_INIT certificate chain and leaf key */
#define IPC_MAX_PATH		4096u	/* NET_INIT empty root */
#define IPC_MAX_PEER		255u	/* peer address strings */
#define IPC_MAX_REASON		255u	/* AUTH_RESULT and ATTACH_RESULT reasons */
#define IPC_MAX_LOG_TEXT	1024u	/* NET_LOG text */
#define IPC_MAX_SECURITY_TEXT	64u	/* each NET_SECURITY string */
#define IPC_MAX_CLOSE_DETAIL	120u	/* NET_CLOSING detail */
#define IPC_MAX_DISPLAY_NAME	63u	/* SESS_REGISTER display name */
#define IPC_MAX_RSA_CIPHERTEXT	1024u	/* NET_RSA_DECRYPT: an 8192-bit modulus */
#define IPC_MAX_RSA_PUBLIC	(4u + 2u * IPC_MAX_RSA_CIPHERTEXT) /* NET_INIT */
#define IPC_MAX_RSA_RANDOM	32u	/* MON_RSA_RESULT: 16 or 32 bytes */
/* NET_AUTH_CONVERSE: 8 certificates of 16 KiB, each with its u32 length */
#define IPC_MAX_CLIENT_CHAIN	(8u * (4u + 16384u))
/* SASL (Kerberos): a mechanism name (RFC 4422: at most 20 characters) and
 * one SASL message; 64 KiB holds a Kerberos AP-REQ with a large PAC
 * (Windows' MaxTokenSize is at most 65535) */
#define IPC_MAX_SASL_MECH	20u
#define IPC_MAX_SASL_DATA	65536u
#define IPC_MAX_QUERY_TIMEOUT	600u	/* MON_QUERY, SESS_QUERY: seconds */
#define IPC_MAX_AUDIT_RECORD	16384u	/* MON_AUDIT: one record (AUDIT_RECORD_MAX) */
/* The control socket: a reply's text (a whole "moatd -t" report fits) */
#define IPC_MAX_CTL_TEXT	65536u

/* A bounded, read-only run of bytes inside a payload (see above). */
struct ipc_view {
	const uint8_t *p;
	size_t len;
};

/* IPC_MON_NET_INIT (monitor -> moat-net) */
struct ipc_net_init {
	uint32_t flags;			/* IPC_NETF_* only */
	char *desktop_name;		/* owned, <= IPC_MAX_NAME */
	char *cert_pem;			/* owned, <= IPC_MAX_PEM */
	char *key_pem;			/* owned secret, <= IPC_MAX_PEM */
	uint8_t encryption;		/* IPC_ENC_* */
	uint32_t max_cut_text;		/* any value; moat-net clamps it */
	uint32_t login_grace;		/* seconds */
	char *peer;			/* owned, <= IPC_MAX_PEER */
	uint32_t uid, gid;		/* moat-net's sandbox identity */
	char *empty_root;		/* owned, <= IPC_MAX_PATH */
	struct ipc_view rsa_public;	/* <= IPC_MAX_RSA_PUBLIC; may be empty */
	uint32_t auth_channels;		/* IPC_AUTHCH_* only, not 0 */
};

/* IPC_MON_AUTH_PROMPT (monitor -> moat-net) */
struct ipc_auth_prompt {
	uint8_t kind;			/* IPC_PROMPT_* */
	char *text;			/* owned, <= IPC_MAX_PROMPT */
};

/* IPC_NET_AUTH_CONVERSE (moat-net -> monitor) */
struct ipc_auth_converse {
	struct ipc_view client_chain;	/* <= IPC_MAX_CLIENT_CHAIN; may be empty */
};

/* IPC_NET_AUTH_ANSWER (moat-net -> monitor) */
struct ipc_auth_answer {
	char *answer;			/* owned secret, <= IPC_MAX_PASSWORD */
};

/*
 * IPC_NET_SASL_START (moat-net -> monitor). has_data 0 (no output at all)
 * demands an empty data; SASL tells it apart from has_data 1 with no
 * bytes.
 */
struct ipc_sasl_start {
	struct ipc_view mech;		/* <= IPC_MAX_SASL_MECH */
	uint8_t has_data;		/* 0 or 1 */
	struct ipc_view data;		/* <= IPC_MAX_SASL_DATA */
};

/* IPC_NET_SASL_STEP (moat-net -> monitor): as in ipc_sasl_start */
struct ipc_sasl_step {
	uint8_t has_data;		/* 0 or 1 */
	struct ipc_view data;		/* <= IPC_MAX_SASL_DATA */
};

/* IPC_MON_SASL_REPLY (monitor -> moat-net) */
struct ipc_sasl_reply {
	uint8_t complete;		/* 0 or 1 */
	struct ipc_view data;		/* <= IPC_MAX_SASL_DATA; may be empty */
};

/* IPC_MON_AUTH_RESULT (monitor -> moat-net) */
struct ipc_auth_result {
	uint8_t ok;			/* 0 or 1 */
	char *reason;			/* owned, <= IPC_MAX_REASON */
	char *user;			/* owned, <= IPC_MAX_NAME */
};

/* IPC_MON_SESSION_CHANNEL (monitor -> moat-net, + fd) */
struct ipc_session_channel {
	uint32_t perms;			/* within IPC_PERM_ALL */
	uint32_t idle_timeout;		/* seconds without viewer input; 0: none */
};

/* IPC_MON_RSA_RESULT (monitor -> moat-net) */
struct ipc_rsa_result {
	struct ipc_view random;		/* secret; exactly 16 or 32 bytes */
};

/* IPC_NET_LOG (moat-net -> monitor) */
struct ipc_net_log {
	uint8_t level;			/* LOG_LVL_* */
	struct ipc_view text;		/* <= IPC_MAX_LOG_TEXT */
};

/* IPC_NET_SECURITY (moat-net -> monitor) */
struct ipc_net_security {
	struct ipc_view type;		/* each <= IPC_MAX_SECURITY_TEXT */
	struct ipc_view tls_version;
	struct ipc_view cipher;
};

/* IPC_NET_AUTH_PASSWORD (moat-net -> monitor) */
struct ipc_auth_password {
	char *user;			/* owned, <= IPC_MAX_NAME */
	char *password;			/* owned secret, <= IPC_MAX_PASSWORD */
};

/* IPC_NET_CLOSING (moat-net -> monitor) */
struct ipc_net_closing {
	uint32_t reason;		/* IPC_CLOSE_* */
	struct ipc_view detail;		/* <= IPC_MAX_CLOSE_DETAIL */
	uint64_t bytes_in, bytes_out;	/* each sent as two u32, high first */
};

/*
 * IPC_NET_RSA_DECRYPT (moat-net -> monitor). The monitor demands that the
 * type is one policy offers and that the ciphertext is exactly its
 * modulus size.
 */
struct ipc_rsa_decrypt {
	uint8_t sec_type;		/* 5, 6, 129 or 130 */
	struct ipc_view ciphertext;	/* <= IPC_MAX_RSA_CIPHERTEXT */
};

/* IPC_MON_ATTACH_SESSION (monitor -> listener, + fd) */
struct ipc_attach_session {
	uint32_t perms;			/* within IPC_PERM_ALL */
	char *user;			/* owned, <= IPC_MAX_NAME */
	char *peer;			/* owned, <= IPC_MAX_PEER */
};

/* IPC_LIS_ATTACH_RESULT (listener -> monitor) */
struct ipc_attach_result {
	uint8_t ok;			/* 0 or 1 */
	char *reason;			/* owned, <= IPC_MAX_REASON */
};

/* IPC_MON_AUTH_OUTCOME (monitor -> listener) */
struct ipc_auth_outcome {
	uint8_t outcome;		/* IPC_OUTCOME_* */
	struct ipc_view user;		/* <= IPC_MAX_NAME; may be empty */
};

/* IPC_MON_SESSION_INFO (monitor -> listener) */
struct ipc_session_info {
	uint32_t perms;			/* within IPC_PERM_ALL */
	struct ipc_view user;		/* <= IPC_MAX_NAME */
	struct ipc_view peer;		/* <= IPC_MAX_PEER */
	struct ipc_view security;	/* each <= IPC_MAX_SECURITY_TEXT */
	struct ipc_view tls_version;
	struct ipc_view cipher;
};

/* IPC_NET_CLIENT_INIT (moat-net -> monitor) */
struct ipc_client_init {
	uint8_t shared;			/* 0 or 1 */
};

/* IPC_MON_SHARING (monitor -> listener) */
struct ipc_sharing {
	uint8_t shared;			/* 0 or 1: after AlwaysShared/NeverShared */
	uint8_t disconnect_clients;	/* 0 or 1: DisconnectClients */
};

/* IPC_LIS_TAKEN_OVER (listener -> monitor) */
struct ipc_taken_over {
	struct ipc_view peer;		/* <= IPC_MAX_PEER */
};

/* IPC_MON_QUERY (monitor -> listener) */
struct ipc_query {
	uint32_t timeout;		/* seconds, 1..IPC_MAX_QUERY_TIMEOUT */
	uint8_t dflt;			/* IPC_QUERY_ACCEPTED or _REJECTED */
	struct ipc_view user;		/* <= IPC_MAX_NAME */
	struct ipc_view peer;		/* <= IPC_MAX_PEER */
};

/* IPC_LIS_QUERY_RESULT (listener -> monitor) */
struct ipc_query_result {
	uint8_t verdict;		/* IPC_QUERY_* */
};

/* IPC_MON_AUDIT (monitor -> listener) */
struct ipc_mon_audit {
	uint8_t sync;			/* 0 or 1 */
	struct ipc_view record;		/* <= IPC_MAX_AUDIT_RECORD, not empty */
};

/* IPC_LIS_AUDIT_DONE (listener -> monitor) */
struct ipc_audit_done {
	uint8_t ok;			/* 0 or 1 */
};

/* IPC_LIS_DISCONNECT (listener -> monitor) */
struct ipc_lis_disconnect {
	uint32_t uid;			/* the administrator's */
};

/*
 * IPC_CTL_REQUEST (moatctl -> moatd): id is 0 unless the command is
 * DISCONNECT, key is empty unless it is BLACKLIST_CLEAR.
 */
struct ipc_ctl_request {
	uint8_t command;		/* IPC_CTLCMD_* */
	uint32_t id;
	struct ipc_view key;		/* <= IPC_MAX_NAME */
};

/* IPC_CTL_SESSION (moatd -> moatctl) */
struct ipc_ctl_session {
	uint32_t id;
	uint32_t pid;
	uint64_t since;			/* Unix time */
	uint32_t perms;			/* within IPC_PERM_ALL */
	struct ipc_view user;		/* <= IPC_MAX_NAME */
	struct ipc_view peer;		/* <= IPC_MAX_PEER */
	struct ipc_view security;	/* each <= IPC_MAX_SECURITY_TEXT */
	struct ipc_view tls_version;
	struct ipc_view cipher;
};

/* IPC_CTL_BLACKLIST_ENTRY (moatd -> moatctl) */
struct ipc_ctl_blacklist_entry {
	uint8_t kind;			/* IPC_CTLKEY_* */
	struct ipc_view key;		/* <= IPC_MAX_NAME */
	uint32_t failures;
	uint8_t probation;		/* 0 or 1 */
	uint64_t blocked_until;		/* Unix time; 0: not blocked */
};

/* IPC_CTL_REPLY (moatd -> moatctl) */
struct ipc_ctl_reply {
	uint8_t ok;			/* 0 or 1 */
	struct ipc_view text;		/* <= IPC_MAX_CTL_TEXT */
};

/* IPC_SESS_REGISTER (moat-session -> moatd) */
struct ipc_sess_register {
	struct ipc_view display;	/* <= IPC_MAX_DISPLAY_NAME */
	uint16_t width, height;
};

/* IPC_SESS_CHANNEL_OPEN (moatd -> moat-session, + fd) */
struct ipc_sess_channel_open {
	uint32_t id;
	uint32_t perms;			/* within IPC_PERM_ALL */
	struct ipc_view user;		/* <= IPC_MAX_NAME */
	struct ipc_view peer;		/* <= IPC_MAX_PEER */
	uint32_t local;			/* within IPC_LOCAL_ALL (after perms on the wire) */
};

/* IPC_SESS_QUERY (moatd -> moat-session) */
struct ipc_sess_query {
	uint32_t id;
	uint32_t timeout;		/* seconds, 1..IPC_MAX_QUERY_TIMEOUT */
	uint8_t dflt;			/* IPC_QUERY_ACCEPTED or _REJECTED */
	struct ipc_view user;		/* <= IPC_MAX_NAME */
	struct ipc_view peer;		/* <= IPC_MAX_PEER */
};

/* IPC_SESS_QUERY_RESULT (moat-session -> moatd); never NO_DESKTOP */
struct ipc_sess_query_result {
	uint32_t id;
	uint8_t verdict;		/* IPC_QUERY_* but NO_DESKTOP */
};

/*
 * IPC_CAP_FRAMEBUFFER (moat-session -> moat-net, + fd). Valid: bpp 32,
 * width and height nonzero, stride >= width * 4, stride * height <= size,
 * and three nonzero, contiguous, disjoint masks.
 */
struct ipc_cap_framebuffer {
	uint16_t width, height;
	uint32_t stride, size;
	uint8_t bpp, depth;
	uint32_t red_mask, green_mask, blue_mask;
};

/* IPC_CAP_UPDATE_REQUEST (moat-net -> moat-session) has no payload. */

struct ipc_rect {
	uint16_t x, y, w, h;
};

/* IPC_CAP_DAMAGE (moat-session -> moat-net); n <= IPC_MAX_DAMAGE_RECTS */
struct ipc_cap_damage {
	uint32_t generation;
	uint16_t n;
	struct ipc_rect rects[IPC_MAX_DAMAGE_RECTS];
};

/*
 * IPC_CAP_KEY (moat-net -> moat-session); the injector checks the keysym
 * and looks the keycode up (capture/cap_xtkeys.h)
 */
struct ipc_cap_key {
	uint8_t down;			/* 0 or 1 */
	uint32_t keysym;		/* 0 only with a keycode */
	uint16_t xtcode;		/* a QEMU key event's XT keycode; 0: none */
};

/* IPC_CAP_POINTER (moat-net -> moat-session) */
struct ipc_cap_pointer {
	uint8_t mask;
	uint16_t x, y;
};

/* IPC_CAP_CLIPBOARD (both ways) */
struct ipc_cap_clipboard {
	struct ipc_view text;		/* <= IPC_MAX_CUT_TEXT */
};

/*
 * IPC_CAP_CURSOR (moat-session -> moat-net): width and height at most
 * IPC_MAX_CURSOR_DIM, the hotspot inside a nonempty cursor, width * height
 * pixels of non-premultiplied ARGB in argb[]. 64 KiB: keep it off small
 * stacks.
 */
struct ipc_cap_cursor {
	uint16_t hot_x, hot_y, width, height;
	uint32_t argb[IPC_MAX_CURSOR_DIM * IPC_MAX_CURSOR_DIM];
};

/* Returns a view of the bytes of NUL-terminated s (without the NUL). */
struct ipc_view ipc_view_cstr(const char *s);

int ipc_msg_put_net_init(struct buf *b, const struct ipc_net_init *m);
int ipc_msg_get_net_init(struct buf *b, struct ipc_net_init *m);
int ipc_msg_send_net_init(int sock, const struct ipc_net_init *m, int fd);
void ipc_msg_free_net_init(struct ipc_net_init *m);

int ipc_msg_put_auth_result(struct buf *b, const struct ipc_auth_result *m);
int ipc_msg_get_auth_result(struct buf *b, struct ipc_auth_result *m);
int ipc_msg_send_auth_result(int sock, const struct ipc_auth_result *m, int fd);
void ipc_msg_free_auth_result(struct ipc_auth_result *m);

int ipc_msg_put_session_channel(struct buf *b,
    const struct ipc_session_channel *m);
int ipc_msg_get_session_channel(struct buf *b, struct ipc_session_channel *m);
int ipc_msg_send_session_channel(int sock,
    const struct ipc_session_channel *m, int fd);

int ipc_msg_put_rsa_result(struct buf *b, const struct ipc_rsa_result *m);
int ipc_msg_get_rsa_result(struct buf *b, struct ipc_rsa_result *m);
int ipc_msg_send_rsa_result(int sock, const struct ipc_rsa_result *m, int fd);

int ipc_msg_put_auth_prompt(struct buf *b, const struct ipc_auth_prompt *m);
int ipc_msg_get_auth_prompt(struct buf *b, struct ipc_auth_prompt *m);
int ipc_msg_send_auth_prompt(int sock, const struct ipc_auth_prompt *m, int fd);
void ipc_msg_free_auth_prompt(struct ipc_auth_prompt *m);

int ipc_msg_put_auth_answer(struct buf *b, const struct ipc_auth_answer *m);
int ipc_msg_get_auth_answer(struct buf *b, struct ipc_auth_answer *m);
int ipc_msg_send_auth_answer(int sock, const struct ipc_auth_answer *m, int fd);
void ipc_msg_free_auth_answer(struct ipc_auth_answer *m);

int ipc_msg_put_auth_converse(struct buf *b, const struct ipc_auth_converse *m);
int ipc_msg_get_auth_converse(struct buf *b, struct ipc_auth_converse *m);
int ipc_msg_send_auth_converse(int sock, const struct ipc_auth_converse *m);

int ipc_msg_put_sasl_start(struct buf *b, const struct ipc_sasl_start *m);
int ipc_msg_get_sasl_start(struct buf *b, struct ipc_sasl_start *m);
int ipc_msg_send_sasl_start(int sock, const struct ipc_sasl_start *m, int fd);

int ipc_msg_put_sasl_step(struct buf *b, const struct ipc_sasl_step *m);
int ipc_msg_get_sasl_step(struct buf *b, struct ipc_sasl_step *m);
int ipc_msg_send_sasl_step(int sock, const struct ipc_sasl_step *m, int fd);

int ipc_msg_put_sasl_reply(struct buf *b, const struct ipc_sasl_reply *m);
int ipc_msg_get_sasl_reply(struct buf *b, struct ipc_sasl_reply *m);
int ipc_msg_send_sasl_reply(int sock, const struct ipc_sasl_reply *m, int fd);

int ipc_msg_put_net_log(struct buf *b, const struct ipc_net_log *m);
int ipc_msg_get_net_log(struct buf *b, struct ipc_net_log *m);
int ipc_msg_send_net_log(int sock, const struct ipc_net_log *m, int fd);

int ipc_msg_put_net_security(struct buf *b, const struct ipc_net_security *m);
int ipc_msg_get_net_security(struct buf *b, struct ipc_net_security *m);
int ipc_msg_send_net_security(int sock,
    const struct ipc_net_security *m, int fd);

int ipc_msg_put_auth_password(struct buf *b, const struct ipc_auth_password *m);
int ipc_msg_get_auth_password(struct buf *b, struct ipc_auth_password *m);
int ipc_msg_send_auth_password(int sock,
    const struct ipc_auth_password *m, int fd);
void ipc_msg_free_auth_password(struct ipc_auth_password *m);

int ipc_msg_put_net_closing(struct buf *b, const struct ipc_net_closing *m);
int ipc_msg_get_net_closing(struct buf *b, struct ipc_net_closing *m);
int ipc_msg_send_net_closing(int sock, const struct ipc_net_closing *m, int fd);

int ipc_msg_put_rsa_decrypt(struct buf *b, const struct ipc_rsa_decrypt *m);
int ipc_msg_get_rsa_decrypt(struct buf *b, struct ipc_rsa_decrypt *m);
int ipc_msg_send_rsa_decrypt(int sock, const struct ipc_rsa_decrypt *m,
    int fd);

int ipc_msg_put_attach_session(struct buf *b,
    const struct ipc_attach_session *m);
int ipc_msg_get_attach_session(struct buf *b, struct ipc_attach_session *m);
int ipc_msg_send_attach_session(int sock,
    const struct ipc_attach_session *m, int fd);
void ipc_msg_free_attach_session(struct ipc_attach_session *m);

int ipc_msg_put_attach_result(struct buf *b, const struct ipc_attach_result *m);
int ipc_msg_get_attach_result(struct buf *b, struct ipc_attach_result *m);
int ipc_msg_send_attach_result(int sock,
    const struct ipc_attach_result *m, int fd);
void ipc_msg_free_attach_result(struct ipc_attach_result *m);

int ipc_msg_put_auth_outcome(struct buf *b, const struct ipc_auth_outcome *m);
int ipc_msg_get_auth_outcome(struct buf *b, struct ipc_auth_outcome *m);
int ipc_msg_send_auth_outcome(int sock, const struct ipc_auth_outcome *m,
    int fd);

int ipc_msg_put_session_info(struct buf *b, const struct ipc_session_info *m);
int ipc_msg_get_session_info(struct buf *b, struct ipc_session_info *m);
int ipc_msg_send_session_info(int sock, const struct ipc_session_info *m,
    int fd);

int ipc_msg_put_lis_disconnect(struct buf *b,
    const struct ipc_lis_disconnect *m);
int ipc_msg_get_lis_disconnect(struct buf *b, struct ipc_lis_disconnect *m);
int ipc_msg_send_lis_disconnect(int sock, const struct ipc_lis_disconnect *m,
    int fd);

int ipc_msg_put_client_init(struct buf *b, const struct ipc_client_init *m);
int ipc_msg_get_client_init(struct buf *b, struct ipc_client_init *m);
int ipc_msg_send_client_init(int sock, const struct ipc_client_init *m,
    int fd);

int ipc_msg_put_sharing(struct buf *b, const struct ipc_sharing *m);
int ipc_msg_get_sharing(struct buf *b, struct ipc_sharing *m);
int ipc_msg_send_sharing(int sock, const struct ipc_sharing *m, int fd);

int ipc_msg_put_taken_over(struct buf *b, const struct ipc_taken_over *m);
int ipc_msg_get_taken_over(struct buf *b, struct ipc_taken_over *m);
int ipc_msg_send_taken_over(int sock, const struct ipc_taken_over *m,
    int fd);

int ipc_msg_put_query(struct buf *b, const struct ipc_query *m);
int ipc_msg_get_query(struct buf *b, struct ipc_query *m);
int ipc_msg_send_query(int sock, const struct ipc_query *m, int fd);

int ipc_msg_put_query_result(struct buf *b, const struct ipc_query_result *m);
int ipc_msg_get_query_result(struct buf *b, struct ipc_query_result *m);
int ipc_msg_send_query_result(int sock, const struct ipc_query_result *m,
    int fd);

int ipc_msg_put_mon_audit(struct buf *b, const struct ipc_mon_audit *m);
int ipc_msg_get_mon_audit(struct buf *b, struct ipc_mon_audit *m);
int ipc_msg_send_mon_audit(int sock, const struct ipc_mon_audit *m, int fd);

int ipc_msg_put_audit_done(struct buf *b, const struct ipc_audit_done *m);
int ipc_msg_get_audit_done(struct buf *b, struct ipc_audit_done *m);
int ipc_msg_send_audit_done(int sock, const struct ipc_audit_done *m,
    int fd);

int ipc_msg_put_ctl_request(struct buf *b, const struct ipc_ctl_request *m);
int ipc_msg_get_ctl_request(struct buf *b, struct ipc_ctl_request *m);
int ipc_msg_send_ctl_request(int sock, const struct ipc_ctl_request *m,
    int fd);

int ipc_msg_put_ctl_session(struct buf *b, const struct ipc_ctl_session *m);
int ipc_msg_get_ctl_session(struct buf *b, struct ipc_ctl_session *m);
int ipc_msg_send_ctl_session(int sock, const struct ipc_ctl_session *m,
    int fd);

int ipc_msg_put_ctl_blacklist_entry(struct buf *b,
    const struct ipc_ctl_blacklist_entry *m);
int ipc_msg_get_ctl_blacklist_entry(struct buf *b,
    struct ipc_ctl_blacklist_entry *m);
int ipc_msg_send_ctl_blacklist_entry(int sock,
    const struct ipc_ctl_blacklist_entry *m, int fd);

int ipc_msg_put_ctl_reply(struct buf *b, const struct ipc_ctl_reply *m);
int ipc_msg_get_ctl_reply(struct buf *b, struct ipc_ctl_reply *m);
int ipc_msg_send_ctl_reply(int sock, const struct ipc_ctl_reply *m, int fd);

int ipc_msg_put_sess_register(struct buf *b, const struct ipc_sess_register *m);
int ipc_msg_get_sess_register(struct buf *b, struct ipc_sess_register *m);
int ipc_msg_send_sess_register(int sock,
    const struct ipc_sess_register *m, int fd);

int ipc_msg_put_sess_channel_open(struct buf *b,
    const struct ipc_sess_channel_open *m);
int ipc_msg_get_sess_channel_open(struct buf *b,
    struct ipc_sess_channel_open *m);
int ipc_msg_send_sess_channel_open(int sock,
    const struct ipc_sess_channel_open *m, int fd);

int ipc_msg_put_sess_query(struct buf *b, const struct ipc_sess_query *m);
int ipc_msg_get_sess_query(struct buf *b, struct ipc_sess_query *m);
int ipc_msg_send_sess_query(int sock, const struct ipc_sess_query *m, int fd);

int ipc_msg_put_sess_query_result(struct buf *b,
    const struct ipc_sess_query_result *m);
int ipc_msg_get_sess_query_result(struct buf *b,
    struct ipc_sess_query_result *m);
int ipc_msg_send_sess_query_result(int sock,
    const struct ipc_sess_query_result *m, int fd);

int ipc_msg_put_cap_framebuffer(struct buf *b,
    const struct ipc_cap_framebuffer *m);
int ipc_msg_get_cap_framebuffer(struct buf *b, struct ipc_cap_framebuffer *m);
int ipc_msg_send_cap_framebuffer(int sock,
    const struct ipc_cap_framebuffer *m, int fd);

/* The update request has no payload: put writes nothing, get demands nothing. */
int ipc_msg_put_cap_update_request(struct buf *b);
int ipc_msg_get_cap_update_request(struct buf *b);
int ipc_msg_send_cap_update_request(int sock);

int ipc_msg_put_cap_damage(struct buf *b, const struct ipc_cap_damage *m);
int ipc_msg_get_cap_damage(struct buf *b, struct ipc_cap_damage *m);
int ipc_msg_send_cap_damage(int sock, const struct ipc_cap_damage *m, int fd);

int ipc_msg_put_cap_key(struct buf *b, const struct ipc_cap_key *m);
int ipc_msg_get_cap_key(struct buf *b, struct ipc_cap_key *m);
int ipc_msg_send_cap_key(int sock, const struct ipc_cap_key *m, int fd);

int ipc_msg_put_cap_pointer(struct buf *b, const struct ipc_cap_pointer *m);
int ipc_msg_get_cap_pointer(struct buf *b, struct ipc_cap_pointer *m);
int ipc_msg_send_cap_pointer(int sock, const struct ipc_cap_pointer *m, int fd);

int ipc_msg_put_cap_clipboard(struct buf *b, const struct ipc_cap_clipboard *m);
int ipc_msg_get_cap_clipboard(struct buf *b, struct ipc_cap_clipboard *m);
int ipc_msg_send_cap_clipboard(int sock,
    const struct ipc_cap_clipboard *m, int fd);

int ipc_msg_put_cap_cursor(struct buf *b, const struct ipc_cap_cursor *m);
int ipc_msg_get_cap_cursor(struct buf *b, struct ipc_cap_cursor *m);
int ipc_msg_send_cap_cursor(int sock, const struct ipc_cap_cursor *m, int fd);

/* Any message by type number (generic dispatch, tests, fuzzing). */
union ipc_msg_any {
	struct ipc_net_init net_init;
	struct ipc_auth_result auth_result;
	struct ipc_session_channel session_channel;
	struct ipc_rsa_result rsa_result;
	struct ipc_net_log net_log;
	struct ipc_net_security net_security;
	struct ipc_auth_password auth_password;
	struct ipc_auth_prompt auth_prompt;
	struct ipc_auth_answer auth_answer;
	struct ipc_auth_converse auth_converse;
	struct ipc_net_closing net_closing;
	struct ipc_rsa_decrypt rsa_decrypt;
	struct ipc_attach_session attach_session;
	struct ipc_attach_result attach_result;
	struct ipc_auth_outcome auth_outcome;
	struct ipc_sess_register sess_register;
	struct ipc_sess_channel_open sess_channel_open;
	struct ipc_cap_framebuffer cap_framebuffer;
	struct ipc_cap_damage cap_damage;
	struct ipc_cap_key cap_key;
	struct ipc_cap_pointer cap_pointer;
	struct ipc_cap_clipboard cap_clipboard;
	struct ipc_cap_cursor cap_cursor;
	struct ipc_sasl_start sasl_start;
	struct ipc_sasl_step sasl_step;
	struct ipc_sasl_reply sasl_reply;
	struct ipc_session_info session_info;
	struct ipc_lis_disconnect lis_disconnect;
	struct ipc_client_init client_init;
	struct ipc_sharing sharing;
	struct ipc_taken_over taken_over;
	struct ipc_ctl_request ctl_request;
	struct ipc_ctl_session ctl_session;
	struct ipc_ctl_blacklist_entry ctl_blacklist_entry;
	struct ipc_ctl_reply ctl_reply;
	struct ipc_query query;
	struct ipc_query_result query_result;
	struct ipc_sess_query sess_query;
	struct ipc_sess_query_result sess_query_result;
	struct ipc_mon_audit mon_audit;
	struct ipc_audit_done audit_done;
};

/* Returns the i-th message type (every type has a codec), or 0 past the last. */
uint16_t ipc_msg_type_at(size_t i);
/* Decodes as ipc_msg_get_*(); MOAT_ERR_UNSUPPORTED for an unknown type. */
int ipc_msg_get_any(uint16_t type, struct buf *b, union ipc_msg_any *m);
/* Encodes as ipc_msg_put_*(); MOAT_ERR_UNSUPPORTED for an unknown type. */
int ipc_msg_put_any(uint16_t type, struct buf *b, const union ipc_msg_any *m);
/* Frees what ipc_msg_get_any() decoded (no-op without owned strings). */
void ipc_msg_free_any(uint16_t type, union ipc_msg_any *m);

#endif
