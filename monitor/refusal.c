/*
 * refusal.c - viewers refused at accept time, told why (see refusal.h).
 * Runs as root in moatd's listener, on connections it refused before any
 * monitor exists. It trusts nothing the viewer sends: it reads the
 * viewer's 12-byte ProtocolVersion into a fixed buffer and only compares
 * it ("RFB 003." and three digits), then reads and drops what follows
 * until EOF; every step has a deadline and no read blocks (O_NONBLOCK).
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "privsep/buf.h"
#include "privsep/clock.h"
#include "refusal.h"

#define REFUSAL_VERSION_MS	5000	/* for the viewer's ProtocolVersion */
#define REFUSAL_DRAIN_MS	2000	/* reading what it sends after the reason */
#define REFUSAL_REASON_MAX	255	/* longer reasons are not sent (static texts) */

enum refusal_state {
	REFUSAL_FREE = 0,
	REFUSAL_VERSION,	/* sent ours; reading the viewer's 12 bytes */
	REFUSAL_DRAIN,		/* sent the reason and FIN; reading until EOF */
};

/* A viewer refused at accept time, told why without blocking the loop. */
struct refusal {
	int fd;
	enum refusal_state state;
	int64_t deadline_ms;
	size_t got;
	uint8_t version[12];
	const char *reason;	/* static text */
};

static struct refusal refusals[REFUSAL_MAX];

static void
end_refusal(struct refusal *rf)
{
	close(rf->fd);
	memset(rf, 0, sizeof(*rf));
	rf->fd = -1;
}

void
refusal_start(int fd, const char *reason)
{
	static const char version[] = "RFB 003.008\n";
	int i, fl;

	for (i = 0; i < REFUSAL_MAX; i++)
		if (refusals[i].state == REFUSAL_FREE)
			break;
	if (i == REFUSAL_MAX || (fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    write(fd, version, sizeof(version) - 1) !=
	    (ssize_t)(sizeof(version) - 1)) {
		close(fd);
		return;
	}
	refusals[i] = (struct refusal){ fd, REFUSAL_VERSION,
	    moat_monotonic_ms() + REFUSAL_VERSION_MS, 0, { 0 }, reason };
}

/*
 * The viewer's ProtocolVersion is in: RFB 3.7 and later get a security
 * type count of 0 and the reason, 3.3 the security type 0 (failure) and
 * the reason. Then FIN, and what the viewer still sends is read and
 * dropped, so that closing does not reset the connection before the
 * viewer has read the reason.
 */
static void
send_refusal(struct refusal *rf)
{
	uint8_t storage[16 + REFUSAL_REASON_MAX];
	unsigned minor = 0, i;
	struct buf b;
	int r;

	if (memcmp(rf->version, "RFB 003.", 8) != 0 || rf->version[11] != '\n') {
		end_refusal(rf);
		return;
	}
	for (i = 8; i < 11; i++) {
		if (rf->version[i] < '0' || rf->version[i] > '9') {
			end_refusal(rf);
			return;
		}
		minor = minor * 10 + (unsigned)(rf->version[i] - '0');
	}
	buf_init_fixed(&b, storage, sizeof(storage));
	r = minor >= 7 ? buf_put_u8(&b, 0) : buf_put_u32(&b, 0);
	if (r != 0 || buf_put_string(&b, rf->reason, strlen(rf->reason)) != 0 ||
	    write(rf->fd, buf_ptr(&b), buf_len(&b)) != (ssize_t)buf_len(&b) ||
	    shutdown(rf->fd, SHUT_WR) != 0) {
		end_refusal(rf);
		return;
	}
	rf->state = REFUSAL_DRAIN;
	rf->deadline_ms = moat_monotonic_ms() + REFUSAL_DRAIN_MS;
}

static void
on_refusal_io(struct refusal *rf)
{
	uint8_t junk[512];
	ssize_t n;

	if (rf->state == REFUSAL_VERSION)
		n = read(rf->fd, rf->version + rf->got,
		    sizeof(rf->version) - rf->got);
	else
		n = read(rf->fd, junk, sizeof(junk));
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		end_refusal(rf);
		return;
	}
	if (rf->state == REFUSAL_VERSION) {
		rf->got += (size_t)n;
		if (rf->got == sizeof(rf->version))
			send_refusal(rf);
	}
}

int
refusal_expire(void)
{
	int64_t now = moat_monotonic_ms(), next = -1;
	int i;

	for (i = 0; i < REFUSAL_MAX; i++) {
		if (refusals[i].state == REFUSAL_FREE)
			continue;
		if (now >= refusals[i].deadline_ms) {
			end_refusal(&refusals[i]);
			continue;
		}
		if (next == -1 || refusals[i].deadline_ms - now < next)
			next = refusals[i].deadline_ms - now;
	}
	return (int)next;
}

int
refusal_pollfds(struct pollfd *pfd)
{
	int i, n = 0;

	for (i = 0; i < REFUSAL_MAX; i++)
		if (refusals[i].state != REFUSAL_FREE) {
			pfd[n].fd = refusals[i].fd;
			pfd[n].events = POLLIN;
			pfd[n++].revents = 0;
		}
	return n;
}

void
refusal_on_ready(const struct pollfd *p)
{
	int i;

	if (!(p->revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	for (i = 0; i < REFUSAL_MAX; i++)
		if (refusals[i].state != REFUSAL_FREE &&
		    refusals[i].fd == p->fd) {
			on_refusal_io(&refusals[i]);
			return;
		}
}

void
refusal_close_all(void)
{
	int i;

	for (i = 0; i < REFUSAL_MAX; i++)
		if (refusals[i].state != REFUSAL_FREE)
			end_refusal(&refusals[i]);
}
