/*
 * ipc_types.h - every IPC message type moat uses, on every channel.
 *
 * Payloads are big-endian integers and strings (u32 length + bytes) in the
 * field order given in the comment; privsep/ipc_msg.c is the one encoder
 * and decoder of every payload, with each field's bound (the two resize
 * messages, IPC_CAP_RESIZE and IPC_CAP_RESIZE_RESULT: privsep/ipc_resize.c). "+fd"
 * means exactly one descriptor travels with the message; every other
 * message must carry none. Which side may send which message in which
 * state is enforced by the receiver (monitor dispatch tables, moat-net and
 * moat-session state checks) and listed in SECURITY.md.
 */
#ifndef MOAT_IPC_TYPES_H
#define MOAT_IPC_TYPES_H

enum ipc_type {
	/* ---- monitor -> moat-net (fd 4 in moat-net) ---- */
	/* u32 flags (IPC_NETF_*), string desktop-name,
	 * string tls-cert-chain-pem, string tls-leaf-key-pem,
	 * u8 encryption (IPC_ENC_*), u32 max-cut-text, u32 login-grace-seconds,
	 * string peer-address (for logs), u32 sandbox-uid, u32 sandbox-gid,
	 * string empty-root, string rsa-public-key (the identity key's PUBLIC
	 * half in RA2 wire form: u32 bits, N, E; empty: no RSA-AES),
	 * u32 auth-channels (IPC_AUTHCH_*: how viewers may authenticate) */
	IPC_MON_NET_INIT = 1,
	/* u8 ok, string reason (shown to the viewer when !ok), string user */
	IPC_MON_AUTH_RESULT = 2,
	/* +fd: moat-net's end of its moat-session channel. u32 permissions
	 * (IPC_PERM_*), u32 idle-timeout (IdleTimeout: seconds without input
	 * from the viewer before moat-net ends the connection; 0: never) */
	IPC_MON_SESSION_CHANNEL = 3,
	/* string random (16 or 32 bytes): answers IPC_NET_RSA_DECRYPT, once */
	IPC_MON_RSA_RESULT = 4,
	/* u8 kind (IPC_PROMPT_*), string text: during a conversation only.
	 * A question (ECHO, SECRET, PROVE) must be answered with
	 * IPC_NET_AUTH_ANSWER before the next message; INFO and ERROR are
	 * only shown. */
	IPC_MON_AUTH_PROMPT = 5,
	/* u8 complete (0: the viewer must answer with IPC_NET_SASL_STEP;
	 * 1: the SASL server is done, IPC_MON_AUTH_RESULT follows), string
	 * data (the SASL server's output for the viewer, may be empty).
	 * Answers IPC_NET_SASL_START and each IPC_NET_SASL_STEP; a refusal is
	 * IPC_MON_AUTH_RESULT instead. */
	IPC_MON_SASL_REPLY = 6,

	/* ---- moat-net -> monitor ---- */
	/* u8 level (LOG_LVL_*), string text: any state */
	IPC_NET_LOG = 20,
	/* string security-type-name, string tls-version, string cipher: once, before auth */
	IPC_NET_SECURITY = 21,
	/* string user, string password: only in the auth phase, bounded attempts */
	IPC_NET_AUTH_PASSWORD = 22,
	/* u32 reason (IPC_CLOSE_*), string detail, u64-as-2xu32 bytes-in, bytes-out */
	IPC_NET_CLOSING = 23,
	/* u8 security-type (5, 6, 129, 130), string ciphertext (the viewer's
	 * RSA-encrypted ClientRandom, exactly the identity modulus size):
	 * once, before auth; the monitor decrypts with implicit rejection */
	IPC_NET_RSA_DECRYPT = 24,
	/* string answer: the viewer's answer to the one open question */
	IPC_NET_AUTH_ANSWER = 25,
	/* string client-chain (the certificates the viewer sent in the TLS
	 * handshake, DER, leaf first, each as u32 length + bytes; empty: none):
	 * the viewer chose the conversation; the monitor asks
	 * (IPC_MON_AUTH_PROMPT) until it sends IPC_MON_AUTH_RESULT. Once,
	 * instead of IPC_NET_AUTH_PASSWORD. */
	IPC_NET_AUTH_CONVERSE = 26,
	/* string mechanism (the one offered: GSSAPI), u8 has-data, string
	 * data (the viewer's first SASL output; has-data 0 and no bytes:
	 * none, which SASL tells apart from empty): the viewer chose the SASL
	 * security type (Kerberos). Once, instead of IPC_NET_AUTH_PASSWORD
	 * and IPC_NET_AUTH_CONVERSE, only where NET_INIT offered
	 * IPC_AUTHCH_KERBEROS; answered with IPC_MON_SASL_REPLY or
	 * IPC_MON_AUTH_RESULT. */
	IPC_NET_SASL_START = 27,
	/* u8 has-data, string data: the viewer's next SASL output, only
	 * right after an IPC_MON_SASL_REPLY with complete 0 */
	IPC_NET_SASL_STEP = 28,
	/* u8 shared (0 or 1): the viewer's ClientInit shared flag. Once,
	 * after a successful IPC_MON_AUTH_RESULT; the monitor answers with
	 * IPC_MON_SESSION_CHANNEL, or ends the connection when sharing
	 * policy refuses it (docs/permissions.md, "Sharing"). */
	IPC_NET_CLIENT_INIT = 29,

	/* ---- monitor -> moatd listener (socketpair made before fork) ---- */
	/* +fd: the session end of a fresh socketpair. u32 permissions,
	 * string user, string peer-address */
	IPC_MON_ATTACH_SESSION = 40,
	/* ---- moatd listener -> monitor ---- */
	/* u8 ok, string reason */
	IPC_LIS_ATTACH_RESULT = 41,
	/* monitor -> listener: u8 outcome (IPC_OUTCOME_*), string user (the
	 * name tried or authenticated; may be empty). Sent at most once per
	 * connection: when the monitor decides the authentication, or when
	 * moat-net closes for a protocol violation before authentication
	 * started; feeds the blacklist (docs/access-control.md). No reply. */
	IPC_MON_AUTH_OUTCOME = 42,
	/* monitor -> listener: u32 permissions (IPC_PERM_*), string user,
	 * string peer-address, string security-type-name, string
	 * tls-version, string cipher. Once, when the session is attached
	 * (the user authenticated): what moatctl sessions lists. No reply. */
	IPC_MON_SESSION_INFO = 43,
	/* listener -> monitor: u32 uid (the administrator who asked). End
	 * this session now (moatctl disconnect); only after SESSION_INFO.
	 * uid 0xffffffff (LISTENER_SHUTDOWN_UID): moatd is stopping; sent
	 * at any phase, also while the monitor awaits another answer. */
	IPC_LIS_DISCONNECT = 44,
	/* monitor -> listener: u8 shared (the viewer's ClientInit flag after
	 * AlwaysShared and NeverShared), u8 disconnect-clients
	 * (DisconnectClients). Once, after IPC_LIS_ATTACH_RESULT ok;
	 * answered with IPC_LIS_ATTACH_RESULT (ok 0: refused, with the
	 * reason), after the listener told the others to end if this one
	 * takes exclusive access (policy/sharing.h). */
	IPC_MON_SHARING = 45,
	/* listener -> monitor: string peer-address (of the viewer that took
	 * exclusive access). End this session now
	 * (DisconnectClients); only after IPC_MON_SHARING was accepted. */
	IPC_LIS_TAKEN_OVER = 46,
	/* monitor -> listener: u32 timeout (seconds, 1..600), u8 default
	 * (IPC_QUERY_ACCEPTED or IPC_QUERY_REJECTED: what the prompt does
	 * when nobody answers), string user, string peer-address. At most
	 * once, after a successful authentication and before
	 * IPC_MON_ATTACH_SESSION: ask the desktop user of user's session to
	 * approve the connection (QueryConnect). Answered with
	 * IPC_LIS_QUERY_RESULT. */
	IPC_MON_QUERY = 47,
	/* listener -> monitor: u8 verdict (IPC_QUERY_*). Answers
	 * IPC_MON_QUERY; TIMED_OUT also when moat-session did not answer
	 * within the timeout and a margin. */
	IPC_LIS_QUERY_RESULT = 48,
	/* monitor -> listener: u8 sync (0 or 1), string record (one audit
	 * record, monitor/audit.h: a flat JSON object, <= IPC_MAX_AUDIT_RECORD).
	 * Any time after the fork; the listener writes it to every audit sink
	 * (docs/audit.md). With sync 1 it answers IPC_LIS_AUDIT_DONE once the
	 * record is on disk, and the monitor waits for that answer before the
	 * event takes effect; only where no other listener message can come
	 * first (before IPC_MON_SESSION_INFO). */
	IPC_MON_AUDIT = 49,
	/* listener -> monitor: u8 ok (1: the record is in the audit file or
	 * there is none; 0: it could not be written, the event must not take
	 * effect). Answers IPC_MON_AUDIT with sync 1. */
	IPC_LIS_AUDIT_DONE = 50,

	/* ---- moat-session <-> moatd (registration socket) ---- */
	/* session -> moatd: string display-name, u16 width, u16 height */
	IPC_SESS_REGISTER = 60,
	/* moatd -> session: +fd channel to one moat-net. u32 channel-id,
	 * u32 permissions (IPC_PERM_*), u32 local-display (IPC_LOCAL_*:
	 * BlankScreen, DisableLocalInputs while this channel is open),
	 * string user, string peer-address */
	IPC_SESS_CHANNEL_OPEN = 61,
	/* moatd -> session: u32 query-id, u32 timeout (seconds, 1..600),
	 * u8 default (IPC_QUERY_ACCEPTED or IPC_QUERY_REJECTED), string
	 * user, string peer-address: show the approval prompt */
	IPC_SESS_QUERY = 62,
	/* session -> moatd: u32 query-id, u8 verdict (IPC_QUERY_ACCEPTED,
	 * REJECTED, TIMED_OUT or BUSY): the answer to one IPC_SESS_QUERY */
	IPC_SESS_QUERY_RESULT = 63,

	/* ---- moatctl <-> moatd (the control socket, root only) ---- */
	/* moatctl -> moatd, the one request of a connection: u8 command
	 * (IPC_CTLCMD_*), u32 id (DISCONNECT: the session id, 0 for all;
	 * otherwise 0), string key (BLACKLIST_CLEAR: an address or a user
	 * name, empty for all; otherwise empty). */
	IPC_CTL_REQUEST = 100,
	/* moatd -> moatctl, one per session (SESSIONS): u32 id, u32
	 * monitor-pid, u64-as-2xu32 since (Unix time of the login), u32
	 * permissions, string user, string peer-address, string
	 * security-type-name, string tls-version, string cipher */
	IPC_CTL_SESSION = 101,
	/* moatd -> moatctl, one per tracked key (BLACKLIST_SHOW): u8 kind
	 * (IPC_CTLKEY_*), string key (printable), u32 failures, u8 probation,
	 * u64-as-2xu32 blocked-until (Unix time; 0: not blocked) */
	IPC_CTL_BLACKLIST_ENTRY = 102,
	/* moatd -> moatctl, last message of every answer: u8 ok, string
	 * text (what was done, the error, or the CHECK report) */
	IPC_CTL_REPLY = 103,

	/* ---- moat-session <-> moat-net (per-client channel) ---- */
	/* session -> net, +fd (sealed memfd, mapped read-only by net):
	 * u16 width, u16 height, u32 stride, u32 size, u8 bpp (32), u8 depth,
	 * u32 red-mask, u32 green-mask, u32 blue-mask. Sent on open and resize. */
	IPC_CAP_FRAMEBUFFER = 80,
	/* net -> session: no payload. "Send me what changed." One outstanding. */
	IPC_CAP_UPDATE_REQUEST = 81,
	/* session -> net: u32 generation, u16 n, n x (u16 x, u16 y, u16 w, u16 h).
	 * The pixels of these rectangles are in the memfd. Answers one request. */
	IPC_CAP_DAMAGE = 82,
	/* net -> session: u8 down, u32 keysym, u16 xt-keycode (a QEMU
	 * extended key event's, rfbproto's XT encoding, clamped to 0xFFFF;
	 * 0: none, as for every RFB KeyEvent) */
	IPC_CAP_KEY = 83,
	/* net -> session: u8 button-mask, u16 x, u16 y */
	IPC_CAP_POINTER = 84,
	/* both ways: string text (Latin-1 from RFB, UTF-8 from X), bounded */
	IPC_CAP_CLIPBOARD = 85,
	/* session -> net: u16 hot-x, u16 hot-y, u16 w, u16 h, w*h*4 bytes ARGB
	 * (non-premultiplied, big-endian u32 per pixel); w,h <= 128 */
	IPC_CAP_CURSOR = 86,
	/* net -> session: u16 width, u16 height, u8 n, n x (u32 id, u16 x,
	 * u16 y, u16 w, u16 h, u32 flags): the viewer's SetDesktopSize,
	 * shape-checked by moat-net (privsep/ipc_resize.h: sizes
	 * 1..IPC_MAX_DESKTOP_DIM, 1..IPC_MAX_SCREENS nonempty screens inside
	 * the size, distinct ids). At most one outstanding; answered with
	 * IPC_CAP_RESIZE_RESULT reason IPC_RESIZE_BY_THIS. moat-session
	 * decides it from the channel's IPC_PERM_RESIZE, never moat-net. */
	IPC_CAP_RESIZE = 87,
	/* session -> net: u8 reason (IPC_RESIZE_BY_*), u8 status
	 * (IPC_RESIZE_*), u16 width, u16 height (the size the desktop has or
	 * is getting; 1..IPC_MAX_DESKTOP_DIM). BY_THIS answers this channel's
	 * IPC_CAP_RESIZE; BY_OTHER (status OK only) says another viewer
	 * resized the desktop. A new IPC_CAP_FRAMEBUFFER follows a change. */
	IPC_CAP_RESIZE_RESULT = 88,
};

/* IPC_MON_NET_INIT flags */
#define IPC_NETF_SELFTEST	0x01	/* test build hook enabled (see SECURITY.md) */

/* IPC_MON_NET_INIT auth-channels: what moat-net may offer viewers */
#define IPC_AUTHCH_CREDENTIALS	0x01	/* one user name and one password (X509Plain, RA2*) */
#define IPC_AUTHCH_CONVERSATION	0x02	/* moat's conversation (any prompts, docs/authentication.md) */
#define IPC_AUTHCH_CLIENT_CERT	0x04	/* ask for a client certificate in TLS (Certificate) */
#define IPC_AUTHCH_KERBEROS	0x08	/* the SASL GSSAPI exchange (Kerberos) */
#define IPC_AUTHCH_ALL		0x0f

/* IPC_MON_AUTH_PROMPT kinds */
#define IPC_PROMPT_ECHO		1	/* a question whose answer may be shown (a user name) */
#define IPC_PROMPT_SECRET	2	/* a question whose answer is hidden (a password, a code) */
#define IPC_PROMPT_INFO		3	/* a message to show */
#define IPC_PROMPT_ERROR	4	/* an error message to show */
#define IPC_PROMPT_PROVE	5	/* a question: sign this challenge with the client key (auth/cert_proof.h) */

/* Encryption levels (policy "Encryption") */
#define IPC_ENC_ALWAYS_ON	1	/* AES-128-GCM preferred, 256 allowed; RA2, RA2_256 */
#define IPC_ENC_PREFER_ON	2	/* same as ALWAYS_ON: never unencrypted */
#define IPC_ENC_ALWAYS_MAXIMUM	3	/* AES-256-GCM only; RA2_256, not RA2 */
#define IPC_ENC_PREFER_OFF	4	/* also RA2ne: unencrypted after authentication */

/* Permissions granted by the monitor, enforced by moat-session */
#define IPC_PERM_VIEW		0x01
#define IPC_PERM_KEYBOARD	0x02
#define IPC_PERM_POINTER	0x04
#define IPC_PERM_CLIP_TO_CLIENT	0x08
#define IPC_PERM_CLIP_TO_SERVER	0x10
#define IPC_PERM_RESIZE		0x20	/* SetDesktopSize (policy letter r) */
#define IPC_PERM_ALL		0x3f	/* every IPC_PERM_* bit */

/* IPC_CAP_RESIZE_RESULT reasons (rfbproto's ExtendedDesktopSize x) */
#define IPC_RESIZE_BY_THIS	1	/* answers this channel's request */
#define IPC_RESIZE_BY_OTHER	2	/* another viewer resized the desktop */
/* IPC_CAP_RESIZE_RESULT status (rfbproto's ExtendedDesktopSize y) */
#define IPC_RESIZE_OK		0	/* done (or already that size) */
#define IPC_RESIZE_PROHIBITED	1	/* the grant has no IPC_PERM_RESIZE */
#define IPC_RESIZE_NO_RESOURCES	2	/* the X server cannot do it */
#define IPC_RESIZE_INVALID	3	/* a layout moat cannot serve */

/* IPC_SESS_CHANNEL_OPEN local-display bits (docs/local-display.md) */
#define IPC_LOCAL_BLANK_SCREEN	0x01	/* BlankScreen=yes */
#define IPC_LOCAL_NO_INPUTS	0x02	/* DisableLocalInputs=yes */
#define IPC_LOCAL_ALL		0x03

/* IPC_MON_AUTH_OUTCOME outcomes */
#define IPC_OUTCOME_SUCCESS	1	/* authenticated: clears the address and the user */
#define IPC_OUTCOME_FAILURE	2	/* failed: counts for the address and the user */
#define IPC_OUTCOME_REFUSED	3	/* the user was blocked: not tried, not counted */
#define IPC_OUTCOME_PROTOCOL	4	/* the viewer broke RFB before authenticating: a penalty */
#define IPC_OUTCOME_UNAVAILABLE	5	/* a back-end (RADIUS) did not answer: not counted */

/* Approval prompt verdicts (IPC_*_QUERY*) */
#define IPC_QUERY_ACCEPTED	1	/* the desktop user accepted */
#define IPC_QUERY_REJECTED	2	/* the desktop user rejected */
#define IPC_QUERY_TIMED_OUT	3	/* nobody answered in time: the default applies */
#define IPC_QUERY_NO_DESKTOP	4	/* listener: no desktop session to ask */
#define IPC_QUERY_BUSY		5	/* too many prompts open: refused unasked */

/* IPC_CTL_REQUEST commands */
#define IPC_CTLCMD_SESSIONS		1	/* list the authenticated sessions */
#define IPC_CTLCMD_DISCONNECT		2	/* end one session (id) or all (id 0) */
#define IPC_CTLCMD_BLACKLIST_SHOW	3	/* list the blacklist's keys */
#define IPC_CTLCMD_BLACKLIST_CLEAR	4	/* forget one key, or all (key "") */
#define IPC_CTLCMD_RELOAD		5	/* re-read the configuration, apply if valid */
#define IPC_CTLCMD_CHECK		6	/* check the configuration on disk, apply nothing */
#define IPC_CTLCMD_DEBUG_ON		7	/* debug logging on (the listener, new monitors) */
#define IPC_CTLCMD_DEBUG_OFF		8	/* debug logging off */
#define IPC_CTLCMD_AUDIT_ROTATE		9	/* rotate the audit file now */

/* IPC_CTL_BLACKLIST_ENTRY kinds */
#define IPC_CTLKEY_ADDRESS	1	/* an IPv4 address or an IPv6 /64 */
#define IPC_CTLKEY_USER		2	/* a user name */

/* IPC_NET_CLOSING reasons */
#define IPC_CLOSE_CLIENT	1	/* viewer disconnected */
#define IPC_CLOSE_PROTOCOL	2	/* viewer broke the protocol */
#define IPC_CLOSE_AUTH_FAILED	3	/* authentication failed */
#define IPC_CLOSE_GRACE		4	/* login grace time exceeded */
#define IPC_CLOSE_SESSION	5	/* desktop session went away */
#define IPC_CLOSE_ERROR		6	/* internal error */
#define IPC_CLOSE_IDLE		7	/* no input from the viewer for IdleTimeout */
#define IPC_CLOSE_STALLED	8	/* the viewer stopped reading (stall limit) */

/* Sizes */
#define IPC_MAX_PAYLOAD		(320u * 1024u)	/* hard limit for any message */
#define IPC_MAX_CUT_TEXT	(256u * 1024u)	/* hard ceiling for clipboard text */
#define IPC_MAX_NAME		255u		/* user names, desktop names */
#define IPC_MAX_PASSWORD	1023u	/* passwords and every answer to a prompt */
#define IPC_MAX_PROMPT		1024u	/* the text of one prompt */
#define IPC_MAX_DAMAGE_RECTS	512u
#define IPC_MAX_CURSOR_DIM	128u
#define IPC_MAX_SCREENS		16u	/* screens of one IPC_CAP_RESIZE */
#define IPC_MAX_DESKTOP_DIM	16384u	/* width and height of a requested size */

/* Returns a static printable name for an IPC message type. */
const char *ipc_type_name(unsigned type);

#endif
