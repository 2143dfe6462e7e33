/*
 * net_main.c - moat-net's entry point: one process per viewer connection,
 * exec'd by the monitor with the viewer's socket on fd 3 and its IPC
 * channel on fd 4. It receives its configuration from the monitor, loads
 * and warms up every library, enters the sandbox, and only then reads the
 * first network byte. Runs unprivileged after sandbox_enter(); everything
 * from the viewer is hostile. main() is a thin wrapper over net_run(),
 * which moatd-inprocess, the benchmark-only build without privilege
 * separation (MOAT_INPROCESS; net/net_inproc.c), runs in a thread of the
 * monitor instead, with no sandbox.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "enc_pool.h"
#include "net_conn.h"
#include "net_run.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"
#include "privsep/log.h"
#include "privsep/sandbox.h"
#include "privsep/clock.h"

#define NET_MAX_FD	8
#define NET_READ_CHUNK	16384
#define NET_OUT_MAX	(256u * 1024u * 1024u)

#ifdef MOAT_INPROCESS
/* moatd-inprocess enters no sandbox: nothing confines the encoding thread. */
#define NET_CONFINE_THREAD	NULL
#else
#define NET_CONFINE_THREAD	sandbox_enter_thread
static struct net_conn conn;
#endif

/* serve()'s return value when IdleTimeout ended the connection. */
#define NET_IDLE	(MOAT_ERR_EOF - 300)

/*
 * IdleTimeout: milliseconds until the viewer has been idle too long (0:
 * now), or -1 for no limit. Idle means no key, pointer or clipboard
 * message from the viewer, whether or not the grant lets it through.
 */
static int
idle_left_ms(const struct net_conn *c)
{
	int64_t left;

	if (c->idle_timeout == 0)
		return -1;
	left = c->last_input_ms + (int64_t)c->idle_timeout * 1000 -
	    moat_monotonic_ms();
	return left <= 0 ? 0 : left > 3600000 ? 3600000 : (int)left;
}

void
net_report_closing(struct net_conn *c, uint32_t reason, const char *detail)
{
	struct ipc_net_closing cl = { reason, ipc_view_cstr(detail),
	    c->io.bytes_in, c->io.bytes_out };

	(void)ipc_msg_send_net_closing(NET_FD_MONITOR, &cl, -1);
}

static int
read_init(struct net_init *in)
{
	struct ipc_net_init mi;
	struct ipc_msg m;
	int r;

	if ((r = ipc_recv(NET_FD_MONITOR, &m, 0)) != 0)
		return r;
	if (m.type != IPC_MON_NET_INIT) {
		ipc_msg_clear(&m);
		return MOAT_ERR_PROTOCOL;
	}
	if ((r = ipc_msg_get_net_init(&m.payload, &mi)) == 0 &&
	    mi.rsa_public.len > 0) {
		struct buf kb;

		/* Copied out of the payload: only the PUBLIC key, checked. */
		buf_view(&kb, mi.rsa_public.p, mi.rsa_public.len);
		if ((r = rfb_ra2_parse_pubkey(&kb, &in->rsa_key)) != 0 ||
		    (r = buf_expect_end(&kb)) != 0)
			ipc_msg_free_net_init(&mi);
		else
			in->have_ra2 = 1;
	}
	ipc_msg_clear(&m);
	if (r != 0)
		return r;
	/* The strings are moat-net's for its lifetime (net_tls wipes the key). */
	in->flags = mi.flags;
	in->desktop_name = mi.desktop_name;
	in->cert_pem = mi.cert_pem;
	in->key_pem = mi.key_pem;
	in->encryption = mi.encryption;
	in->auth_channels = mi.auth_channels;
	in->max_cut_text = mi.max_cut_text > IPC_MAX_CUT_TEXT ?
	    IPC_MAX_CUT_TEXT : mi.max_cut_text;
	in->grace = mi.login_grace;
	in->peer = mi.peer;
	in->uid = mi.uid;
	in->gid = mi.gid;
	in->empty_root = mi.empty_root;
	return 0;
}

/* Loads everything the sandbox would otherwise forbid loading later. */
static int
warm_up(struct net_conn *c)
{
	uint8_t rnd[32];
	int r;

	/*
	 * The second encoding core: threads cannot be made in the sandbox.
	 * It confines itself (a network namespace: most of a millisecond)
	 * while this thread loads OpenSSL.
	 */
	if ((r = enc_pool_launch(NET_CONFINE_THREAD)) != 0)
		return r;
	if (OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL) != 1)
		return MOAT_ERR_CRYPTO;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return MOAT_ERR_CRYPTO;
	OPENSSL_cleanse(rnd, sizeof(rnd));
	if ((r = net_tls_setup(c)) != 0)
		return r;
	/* RSA-AES: digests, AES-CTR, CMAC and RSA, fetched now. */
	if ((r = rfb_ra2_global_init()) != 0)
		return r;
	if ((r = tight_prepare(&c->tight)) != 0 ||
	    (r = zrle_init(&c->zrle, 6)) != 0)
		return r;
	return enc_pool_wait();
}

static int
wait_for_framebuffer(struct net_conn *c)
{
	int r;

	while (c->fb_map == NULL) {
		if ((r = net_session_dispatch(c)) != 0)
			return r;
	}
	return 0;
}

static int
serve(struct net_conn *c)
{
	struct pollfd pfd[3];
	int r, left;

	c->last_input_ms = moat_monotonic_ms();
	/* A write waiting for a stalled viewer still hears the monitor. */
	c->io.watch_fd = NET_FD_MONITOR;
	for (;;) {
		if ((r = net_session_request(c)) != 0 ||
		    (r = net_update_flush(c)) != 0)
			return r;
		pfd[0].fd = c->io.fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->sess_fd;
		pfd[1].events = POLLIN;
		pfd[2].fd = NET_FD_MONITOR;
		pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		if ((left = idle_left_ms(c)) == 0)
			return NET_IDLE;
		if (!net_io_pending(&c->io) && poll(pfd, 3, left) < 0) {
			if (errno == EINTR)
				continue;
			return MOAT_ERR_SYSTEM;
		}
		if (net_io_pending(&c->io) || (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			if ((r = net_io_read_some(&c->io, &c->in, NET_READ_CHUNK)) < 0)
				return r;
			if ((r = net_client_process(c)) != 0)
				return r;
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			if ((r = net_session_dispatch(c)) != 0) {
				if (r == MOAT_ERR_EOF)
					return MOAT_ERR_EOF - 100;	/* session gone */
				return r;
			}
		}
		if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))
			return NET_ERR_ENDED;	/* the monitor ended us */
	}
}

static uint32_t
close_reason(int r)
{
	switch (r) {
	case MOAT_ERR_EOF:
		return IPC_CLOSE_CLIENT;
	case MOAT_ERR_EOF - 100:
		return IPC_CLOSE_SESSION;
	case NET_IDLE:
		return IPC_CLOSE_IDLE;
	case NET_ERR_STALLED:
		return IPC_CLOSE_STALLED;
	case MOAT_ERR_AUTH:
		return IPC_CLOSE_AUTH_FAILED;
	case MOAT_ERR_PROTOCOL:
	case MOAT_ERR_TOO_LONG:
	case MOAT_ERR_INVALID:
	case MOAT_ERR_CRYPTO:
	case MOAT_ERR_UNSUPPORTED:
		return IPC_CLOSE_PROTOCOL;
	}
	return IPC_CLOSE_ERROR;
}

/* The detail sent with the closing notice for serve()'s or the handshake's r. */
static const char *
close_detail(int r)
{
	switch (r) {
	case MOAT_ERR_EOF - 100:
		return "desktop session ended";
	case NET_ERR_ENDED:
		return "ended by the monitor";
	case NET_IDLE:
		return "no input from the viewer";
	case NET_ERR_STALLED:
		return "the viewer stopped reading";
	}
	return moat_strerror(r);
}

void
net_run(struct net_conn *c)
{
#ifndef MOAT_INPROCESS
	struct sandbox_conf sb;
#endif
	int r;

	c->io.fd = NET_FD_CLIENT;
	c->io.stall_ms = NET_STALL_LIMIT_MS;
	c->io.watch_fd = -1;
	c->sess_fd = -1;
	if ((r = read_init(&c->init)) != 0)
		fatal_fr(r, "reading the monitor's configuration");
	if ((r = warm_up(c)) != 0)
		fatal_fr(r, "initialising libraries");
#ifndef MOAT_INPROCESS
	memset(&sb, 0, sizeof(sb));
	sb.empty_root = c->init.empty_root;
	sb.uid = c->init.uid;
	sb.gid = c->init.gid;
	sb.max_fd = NET_MAX_FD;
	sb.selftest = (c->init.flags & IPC_NETF_SELFTEST) != 0;
	if ((r = sandbox_enter(&sb)) != 0)
		fatal_fr(r, "entering the sandbox");
#endif

	c->limits.max_cut_text = c->init.max_cut_text;
	buf_init(&c->in, rfb_reader_max_msg(&c->limits) + NET_READ_CHUNK);
	buf_init(&c->out, NET_OUT_MAX);
	c->enc_preferred = RFB_ENC_RAW;

	if ((r = net_handshake(c)) != 0) {
		net_report_closing(c, close_reason(r), close_detail(r));
		return;
	}
	if ((r = wait_for_framebuffer(c)) != 0) {
		net_report_closing(c, IPC_CLOSE_SESSION, moat_strerror(r));
		return;
	}
	pixfmt_server_default(&c->pf);
	if (pixconv_init(&c->conv, &c->fb.fmt, &c->pf) != 0) {
		net_report_closing(c, IPC_CLOSE_ERROR, "server pixel format");
		return;
	}
	if ((r = net_send_server_init(c)) != 0) {
		net_report_closing(c, close_reason(r), close_detail(r));
		return;
	}
	r = serve(c);
	if (r == NET_ERR_STALLED)
		info_f("the viewer took no data for %d s; disconnecting it",
		    NET_STALL_LIMIT_MS / 1000);
	net_report_closing(c, close_reason(r), close_detail(r));
	if (c->io.ssl != NULL)
		(void)SSL_shutdown(c->io.ssl);
}

#ifndef MOAT_INPROCESS
int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	if (fcntl(NET_FD_CLIENT, F_GETFD) == -1 ||
	    fcntl(NET_FD_MONITOR, F_GETFD) == -1)
		_exit(2);
	log_set_ipc(NET_FD_MONITOR);
	net_run(&conn);
	_exit(0);
}
#endif
