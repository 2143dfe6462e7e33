/*
 * net_conn.h - the state of one moat-net process: one viewer connection.
 * Runs in moat-net (unprivileged, sandboxed). Everything read from the
 * viewer socket is hostile; messages from the monitor are trusted; messages
 * from moat-session are checked for shape (it runs as the desktop user).
 */
#ifndef MOAT_NET_CONN_H
#define MOAT_NET_CONN_H

#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "enc_copyrect.h"
#include "encoder.h"
#include "pixfmt.h"
#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/ipc_types.h"
#include "rfb_dirty.h"
#include "rfb_ra2.h"
#include "rfb_reader.h"
#include "rfb_types.h"

#define NET_FD_CLIENT	3	/* the viewer's TCP socket */
#define NET_FD_MONITOR	4	/* IPC to the monitor */

/*
 * Flow control (docs/encodings.md, "Memory bounds"): a write to the viewer
 * that moves no byte for NET_STALL_LIMIT_MS ends the connection.
 */
#define NET_STALL_LIMIT_MS	30000
/* net_io_write(): the viewer took no byte for the stall limit. */
#define NET_ERR_STALLED		(MOAT_ERR_EOF - 400)
/* net_io_write(): the watched descriptor (the monitor) became readable. */
#define NET_ERR_ENDED		(MOAT_ERR_EOF - 200)

struct net_init {
	uint32_t flags;
	char *desktop_name;
	char *cert_pem;
	char *key_pem;
	uint8_t encryption;
	uint32_t max_cut_text;
	uint32_t grace;
	char *peer;
	uint32_t uid, gid;
	char *empty_root;
	uint32_t auth_channels;		/* IPC_AUTHCH_*: what may be offered */
	int have_ra2;			/* the monitor gave an RSA public key */
	struct rfb_ra2_pubkey rsa_key;	/* the identity key's PUBLIC half */
};

struct net_ra2;

/* Transport: the TCP socket, TLS or the RSA-AES record layer once negotiated. */
struct net_io {
	int fd;
	SSL *ssl;
	struct net_ra2 *ra2;
	uint64_t bytes_in, bytes_out;
	int stall_ms;			/* a write may wait this long for progress; 0: forever */
	int watch_fd;			/* -1, or a descriptor whose input ends a waiting write */
};

struct net_conn {
	struct net_init init;
	struct net_io io;
	SSL_CTX *tls;
	int minor;			/* RFB minor version */
	char user[256];

	/* normal phase */
	struct buf in;			/* bytes from the viewer not yet parsed */
	struct buf out;			/* one framebuffer update being built */
	struct rfb_reader_limits limits;
	struct rfb_pixfmt pf;
	struct pixconv conv;
	struct zrle_state zrle;
	struct zlib_state zlib;		/* Zlib (6): started on first use */
	struct tight_state tight;	/* Tight (7): zeroed is ready */
	struct enc_opts enc_opts;	/* quality / compression pseudo-encodings */
	int enc_preferred;		/* the first encoding moat has in the viewer's list */
	int want_cursor, want_desktop_size, want_ext_desktop_size;
	int send_ext_desktop_size;	/* owe the viewer an ExtendedDesktopSize rect */
	uint16_t ext_ds_reason, ext_ds_status;	/* what that rect says */
	int update_requested;		/* the viewer asked for an update */
	int pending_full;		/* a non-incremental request awaits pixels */
	int want_copyrect;		/* the viewer listed CopyRect */
	int want_last_rect;		/* LastRect: updates end with one, count 0xFFFF */
	int want_desktop_name;		/* DesktopName listed */
	int send_desktop_name;		/* owe the viewer a DesktopName rect */
	int want_qemu_key;		/* QEMU extended key events listed */
	int send_qemu_key;		/* owe the viewer the -258 confirmation rect */
	int want_fence;			/* Fence listed (in the latest SetEncodings) */
	int fence_offered;		/* our first ServerFence went out */
	uint32_t fence_seq;		/* payload of our last flow-control fence */
	int fence_wait;			/* that fence is not answered yet */
	int sync_fence;			/* a SyncNext fence awaits the next message */
	uint32_t sync_flags;		/* its answer */
	uint8_t sync_len, sync_payload[RFB_MAX_FENCE];
	int cu_offered;			/* EndOfContinuousUpdates sent: CU may be enabled */
	int cu_on;			/* continuous updates enabled */
	uint16_t cu_x, cu_y, cu_w, cu_h;	/* their area */
	int want_extclip;		/* ExtendedClipboard listed */
	uint32_t extclip_flags;		/* the viewer's Caps (or the defaults) */
	uint32_t extclip_text_max;	/* its size for unsolicited text */
	uint8_t *clip_text;		/* the desktop's text (Latin-1) for a Request */
	size_t clip_len;
	int copyrect_off;		/* no shadow possible (too large, no memory) */
	struct copyrect_state cr;	/* what the viewer has, for CopyRect */

	/* moat-session channel */
	int sess_fd;
	uint32_t perms;
	uint32_t idle_timeout;		/* IdleTimeout seconds; 0: none */
	int64_t last_input_ms;		/* monotonic time of the viewer's last input */
	int selftest_forward_all;	/* test builds only: forward input the grant forbids */
	const uint8_t *fb_map;
	size_t fb_map_len;
	struct fb_view fb;
	int fb_ready;			/* first damage arrived */
	int fb_resized;			/* size changed; tell the viewer */
	int sess_request_outstanding;
	uint16_t dirty_n;
	struct rfb_rect16 dirty[IPC_MAX_DAMAGE_RECTS];	/* coalesced, rfb_dirty.h */
	int cursor_pending;
	uint16_t cur_hotx, cur_hoty, cur_w, cur_h;
	uint32_t cursor_argb[128 * 128];
};

/* net_tls.c: builds the TLS 1.3 context from the monitor's leaf certificate. Returns 0 or negative. */
int net_tls_setup(struct net_conn *c);
/* Runs the TLS handshake on the client socket. Returns 0 or MOAT_ERR_CRYPTO/EOF. */
int net_tls_accept(struct net_conn *c);
/* Bounds of a client certificate chain: those of auth/x509_client.h. */
#define NET_CLIENT_CHAIN_MAX	8
#define NET_CLIENT_CERT_MAX	16384
/* net_tls.c: appends the viewer's client certificate chain, framed for the
 * monitor (see there); nothing if it sent none. Returns 0 or negative. */
int net_tls_client_chain(struct net_conn *c, struct buf *out);

/*
 * net_io.c: the transport (TLS when established). Reads block; writes wait
 * with poll(2) for the socket to take bytes, at most io->stall_ms without
 * progress, and give up early if io->watch_fd becomes readable.
 */
/* Reads exactly n bytes. Returns 0, MOAT_ERR_EOF or MOAT_ERR_SYSTEM/CRYPTO. */
int net_io_read_exact(struct net_io *io, void *p, size_t n);
/* Reads what is available (at least 1 byte, at most n) into b. Returns bytes read (>0) or negative. */
int net_io_read_some(struct net_io *io, struct buf *b, size_t n);
/* Writes all n bytes. Returns 0, NET_ERR_STALLED, NET_ERR_ENDED or another negative error. */
int net_io_write(struct net_io *io, const void *p, size_t n);
/* Returns nonzero if decrypted bytes are already buffered in the TLS or RSA-AES layer. */
int net_io_pending(struct net_io *io);
/*
 * Puts the RSA-AES EAX record layer under every later read (rx_key) and
 * write (tx_key), counters at 0. Returns 0 or negative.
 */
int net_io_ra2_start(struct net_io *io, const uint8_t *rx_key,
    const uint8_t *tx_key, size_t keylen);
/*
 * Removes the record layer (RA2ne after the login). Returns 0, or
 * MOAT_ERR_PROTOCOL if the viewer had sent plaintext not yet read.
 */
int net_io_ra2_stop(struct net_io *io);

/*
 * net_ra2.c: the RSA-AES handshake for security type type (5, 6, 129,
 * 130) up to and including the viewer's credentials, which it returns as
 * fresh strings (caller wipes and frees). On return the record layer is on
 * for RA2/RA2_256 and off again for RA2ne/RA2ne_256. Returns 0 or
 * negative (the connection then closes).
 */
int net_ra2_handshake(struct net_conn *c, uint8_t type, char **user,
    char **pass);

/* net_handshake.c: version, security negotiation, authentication via the monitor, ClientInit/ServerInit prelude. Returns 0 when authenticated. */
int net_handshake(struct net_conn *c);
/* Sends a failure SecurityResult with reason (3.8) and returns MOAT_ERR_AUTH. */
int net_send_security_failure(struct net_conn *c, const char *reason);
/*
 * moat's conversation (net_conv.c), after TLS: asks the monitor to start
 * it, relays its messages and the viewer's answers, and sends the END
 * message once the monitor decided. Returns 0 (accepted) or MOAT_ERR_AUTH
 * with the reason to show; another negative MOAT_ERR_* if the viewer or
 * the monitor broke off.
 */
int net_conv_run(struct net_conn *c, char *reason, size_t reasonlen);
/*
 * The SASL security type (net_sasl.c, VeNCrypt X509SASL), after TLS:
 * offers GSSAPI, relays the viewer's SASL messages to the monitor and its
 * replies back until the monitor decided. Returns as net_conv_run().
 */
int net_sasl_run(struct net_conn *c, char *reason, size_t reasonlen);
struct ipc_msg;
/* Decodes the monitor's IPC_MON_AUTH_RESULT m: 0, MOAT_ERR_AUTH or an error. */
int net_read_auth_result(struct net_conn *c, struct ipc_msg *m, char *reason,
    size_t reasonlen);

/* net_session.c */
/* Handles one message from moat-session. Returns 0, or negative to close. */
int net_session_dispatch(struct net_conn *c);
/* Asks moat-session for changes if the viewer wants an update and none is outstanding. */
int net_session_request(struct net_conn *c);
/*
 * Sends input to moat-session. A key's xtcode is a QEMU extended key
 * event's XT keycode (0: none; above 0xFFFF sent as 0xFFFF, which has no
 * key). Each returns 0 or negative.
 */
int net_session_key(struct net_conn *c, uint8_t down, uint32_t keysym,
    uint32_t xtcode);
int net_session_pointer(struct net_conn *c, uint8_t mask, uint16_t x, uint16_t y);
int net_session_clipboard(struct net_conn *c, const uint8_t *text, size_t len);

/*
 * net_session.c: sends the desktop's latest clipboard text to the viewer
 * (if the grant lets it) in its form: legacy ServerCutText; with
 * ExtendedClipboard a Provide if requested or small enough to push
 * unasked, else a Notify. Returns 0 or negative.
 */
int net_session_clip_send(struct net_conn *c, int requested);

/* net_client.c: writes a ServerFence (flags, payload of at most 64 bytes). Returns 0 or negative. */
int net_send_fence(struct net_conn *c, uint32_t flags, const uint8_t *p,
    uint8_t len);
/* Writes a ServerFence request (BlockBefore) whose 4-byte payload is seq. Returns 0 or negative. */
int net_send_fence_request(struct net_conn *c, uint32_t seq);

/* net_update.c */
/* Returns 1 if an update may be sent now: requested, or continuous and not held back by flow control. */
int net_update_wanted(const struct net_conn *c);
/* Marks a framebuffer region dirty (clipped and coalesced by rfb_dirty_add(): never more than the framebuffer). */
void net_dirty_add(struct net_conn *c, uint16_t x, uint16_t y, uint16_t w, uint16_t h);
/* Sends a FramebufferUpdate if the viewer asked for one and there is something to send. */
int net_update_flush(struct net_conn *c);
/* Sends ServerInit for the current framebuffer. */
int net_send_server_init(struct net_conn *c);

/* net_client.c: parses and handles buffered viewer messages. Returns 0 or negative to close. */
int net_client_process(struct net_conn *c);

/* net_main.c */
/* Tells the monitor why the connection ends (best effort). */
void net_report_closing(struct net_conn *c, uint32_t reason, const char *detail);

#endif
