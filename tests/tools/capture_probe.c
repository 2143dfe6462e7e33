/*
 * capture_probe.c - test-only stand-in for moatd and moat-net around
 * moat-session (never installed).
 *
 * As moatd it listens on a SOCK_SEQPACKET socket, accepts moat-session's
 * IPC_SESS_REGISTER and opens channels with IPC_SESS_CHANNEL_OPEN. As
 * moat-net it checks everything moat-session sends: the framebuffer memfd
 * must be sealed (shrink, grow, future-write, seal), refuse writable maps,
 * mprotect, write() and ftruncate; damage, cursor and clipboard messages
 * must have exact sizes and lie within bounds.
 *
 * It reads one command per line on stdin and answers exactly one line on
 * stdout beginning with "ok" or "fail" (details on stderr):
 *
 *   accept [T]                  wait for moat-session's registration
 *   open PERMS [T]              new channel (PERMS: number, "all", or names
 *                               view,keyboard,pointer,clip-out,clip-in,resize
 *                               joined by ','); it becomes current
 *   use ID                      make channel ID current
 *   update [T]                  request an update (unless one is outstanding),
 *                               print its damage
 *   request [N]                 send N (default 1) update requests back to
 *                               back, wait for nothing
 *   fb                          print the current framebuffer geometry and how
 *                               many IPC_CAP_FRAMEBUFFER messages arrived
 *   wait-damage [T]             wait for the answer to an outstanding request
 *   expect-rect X Y W H RRGGBB [T]
 *                               request updates until damage received since
 *                               the command started covered the rectangle
 *                               and all its pixels have that colour
 *   check-rect X Y W H RRGGBB   check the pixels now, without any update
 *   pixel X Y                   print the pixel's RRGGBB
 *   dump FILE [X Y W H]         write the framebuffer (or part) as PPM
 *   key DOWN KEYSYM             send IPC_CAP_KEY
 *   type TEXT                   press and release each character; \r and \n
 *                               are Return, \t Tab, \\ a backslash
 *   pointer MASK X Y            send IPC_CAP_POINTER
 *   clip TEXT | clip-hex HEX    send IPC_CAP_CLIPBOARD
 *   wait-clip [T]               wait for the next clipboard text not yet shown
 *   cursor [T]                  print the latest cursor (waits for one)
 *   wait-cursor SERIAL [T]      wait for a cursor newer than SERIAL
 *   raw TYPE HEX|- / raw-fd TYPE HEX|-
 *                               send any message (raw-fd attaches /dev/null)
 *   expect-closed [T]           wait until moat-session closes the channel
 *   close                       close the current channel
 *   reg-raw TYPE HEX|-          send any message on the registration socket
 *   close-reg                   close the registration socket
 *   quit
 *
 * T is a timeout in seconds (default 20).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privsep/buf.h"
#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/ipc_msg.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

#define MAX_CH		16
#define CLIPQ		64
#define DEFAULT_T	20.0

struct pch {
	int fd;			/* our (moat-net's) end, -1 once closed */
	uint32_t id, perms;
	/* framebuffer */
	uint8_t *fb;
	size_t fbsize;
	unsigned w, h, stride, depth;
	uint32_t mask[3];
	unsigned fbcount;
	int fb_bad;
	/* damage */
	int req_out;		/* a request is outstanding */
	unsigned ndamage;	/* answers received */
	uint32_t gen;
	unsigned nrects;
	uint16_t rects[IPC_MAX_DAMAGE_RECTS][4];
	/* cursor */
	unsigned cserial, cw, ch, chx, chy;
	uint32_t cfirst;	/* first pixel, for logs */
	/* clipboard texts not yet shown */
	uint8_t *clip[CLIPQ];
	size_t cliplen[CLIPQ];
	unsigned clip_head, clip_tail;
	int closed;
};

static int listen_fd = -1, reg_fd = -1;
static struct pch chans[MAX_CH];
static unsigned nchans, cur;
static uint32_t next_id = 1;

static void say(const char *, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void
note(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "capture_probe: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until fd is readable or the deadline passes; returns 1, 0 on timeout. */
static int
wait_readable(int fd, double deadline)
{
	struct pollfd p;
	double left;
	int r;

	for (;;) {
		left = deadline - now();
		if (left < 0)
			left = 0;
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		r = poll(&p, 1, (int)(left * 1000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			return 1;
		if (now() >= deadline)
			return 0;
	}
}

static unsigned
mask_shift(uint32_t m)
{
	unsigned s = 0;

	while (s < 32 && !((m >> s) & 1))
		s++;
	return s;
}

static unsigned
mask_bits(uint32_t m)
{
	unsigned b = 0;

	while (m) {
		b += m & 1;
		m >>= 1;
	}
	return b;
}

static unsigned
chan8(uint32_t px, uint32_t m)
{
	unsigned bits = mask_bits(m);
	uint32_t v = (px & m) >> mask_shift(m);

	if (bits >= 8)
		return (unsigned)(v >> (bits - 8));
	return (unsigned)(v << (8 - bits));
}

static uint32_t
rgb_at(struct pch *p, unsigned x, unsigned y)
{
	uint32_t px;

	memcpy(&px, p->fb + (size_t)y * p->stride + (size_t)x * 4, 4);
	return ((uint32_t)chan8(px, p->mask[0]) << 16) |
	    ((uint32_t)chan8(px, p->mask[1]) << 8) | chan8(px, p->mask[2]);
}

/* Checks the memfd the way moat-net relies on it; returns 0 or -1. */
static int
check_memfd(int fd, size_t size)
{
	struct stat st;
	void *m;
	int seals, bad = 0;

	if (fstat(fd, &st) != 0 || (size_t)st.st_size != size) {
		note("memfd size %lld, message says %zu",
		    (long long)st.st_size, size);
		return -1;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || (seals & (F_SEAL_SHRINK | F_SEAL_GROW |
	    F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)) != (F_SEAL_SHRINK |
	    F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL)) {
		note("memfd seals 0x%x lack shrink/grow/future-write/seal", seals);
		return -1;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m != MAP_FAILED) {
		note("memfd can be mapped writable");
		munmap(m, size);
		bad = 1;
	}
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		note("memfd cannot be mapped read-only: %s", strerror(errno));
		return -1;
	}
	if (mprotect(m, size, PROT_READ | PROT_WRITE) == 0) {
		note("read-only memfd mapping can be made writable");
		bad = 1;
	}
	munmap(m, size);
	if (write(fd, "x", 1) >= 0 || pwrite(fd, "x", 1, 0) >= 0) {
		note("memfd accepts write()");
		bad = 1;
	}
	if (ftruncate(fd, (off_t)(size / 2)) == 0 ||
	    ftruncate(fd, (off_t)size + 4096) == 0) {
		note("memfd can be resized");
		bad = 1;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE) == 0) {
		note("memfd accepts new seals");
		bad = 1;
	}
	return bad ? -1 : 0;
}

static int
on_framebuffer(struct pch *p, struct ipc_msg *m)
{
	struct ipc_cap_framebuffer f;
	void *map;
	int fd, r;

	if ((fd = ipc_msg_take_fd(m)) == -1) {
		note("FRAMEBUFFER without a descriptor");
		return -1;
	}
	if ((r = ipc_msg_get_cap_framebuffer(&m->payload, &f)) != 0) {
		note("malformed FRAMEBUFFER: %s", moat_strerror(r));
		close(fd);
		return -1;
	}
	/* Stricter than moat-net: moat-session packs rows exactly. */
	if (f.stride != (uint32_t)f.width * 4 || f.size != f.stride * f.height) {
		note("FRAMEBUFFER geometry %ux%u stride %u size %u bpp %u",
		    f.width, f.height, f.stride, f.size, f.bpp);
		close(fd);
		return -1;
	}
	if (check_memfd(fd, f.size) != 0)
		p->fb_bad = 1;
	map = mmap(NULL, f.size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		note("mmap framebuffer: %s", strerror(errno));
		return -1;
	}
	if (p->fb != NULL)
		munmap(p->fb, p->fbsize);
	p->fb = map;
	p->fbsize = f.size;
	p->w = f.width;
	p->h = f.height;
	p->stride = f.stride;
	p->depth = f.depth;
	p->mask[0] = f.red_mask;
	p->mask[1] = f.green_mask;
	p->mask[2] = f.blue_mask;
	p->fbcount++;
	return 0;
}

static int
on_damage(struct pch *p, struct ipc_msg *m)
{
	struct ipc_cap_damage d;
	const struct ipc_rect *r;
	uint16_t i;

	if (!p->req_out) {
		note("DAMAGE without a request");
		return -1;
	}
	if (ipc_msg_get_cap_damage(&m->payload, &d) != 0 || d.n == 0) {
		note("malformed DAMAGE");
		return -1;
	}
	for (i = 0; i < d.n; i++) {
		r = &d.rects[i];
		if (r->w == 0 || r->h == 0 || (unsigned)r->x + r->w > p->w ||
		    (unsigned)r->y + r->h > p->h) {
			note("damage rect %u,%u %ux%u outside %ux%u", r->x, r->y,
			    r->w, r->h, p->w, p->h);
			return -1;
		}
		p->rects[i][0] = r->x;
		p->rects[i][1] = r->y;
		p->rects[i][2] = r->w;
		p->rects[i][3] = r->h;
	}
	p->nrects = d.n;
	p->gen = d.generation;
	p->req_out = 0;
	p->ndamage++;
	return 0;
}

static int
on_cursor(struct pch *p, struct ipc_msg *m)
{
	static struct ipc_cap_cursor cur;

	/* moat-session never sends an empty cursor. */
	if (ipc_msg_get_cap_cursor(&m->payload, &cur) != 0 ||
	    cur.width == 0 || cur.height == 0) {
		note("malformed CURSOR");
		return -1;
	}
	p->cw = cur.width;
	p->ch = cur.height;
	p->chx = cur.hot_x;
	p->chy = cur.hot_y;
	p->cfirst = cur.argb[0];
	p->cserial++;
	return 0;
}

static int
on_clipboard(struct pch *p, struct ipc_msg *m)
{
	struct ipc_cap_clipboard clip;
	const uint8_t *t;
	size_t n;
	uint8_t *copy;

	if (ipc_msg_get_cap_clipboard(&m->payload, &clip) != 0) {
		note("malformed CLIPBOARD");
		return -1;
	}
	t = clip.text.p;
	n = clip.text.len;
	if (p->clip_tail - p->clip_head == CLIPQ) {
		note("clipboard queue full");
		return -1;
	}
	if ((copy = malloc(n + 1)) == NULL)
		return -1;
	memcpy(copy, t, n);
	p->clip[p->clip_tail % CLIPQ] = copy;
	p->cliplen[p->clip_tail % CLIPQ] = n;
	p->clip_tail++;
	return 0;
}

/*
 * Receives and checks one message on p before the deadline.
 * Returns 1 if one was handled, 0 on timeout, -1 if the channel closed,
 * -2 if moat-session sent something wrong.
 */
static int
pump(struct pch *p, double deadline)
{
	struct ipc_msg m;
	int r, rv;

	if (p->fd == -1)
		return -1;
	if (!wait_readable(p->fd, deadline))
		return 0;
	r = ipc_recv(p->fd, &m, 1);
	if (r == MOAT_ERR_EOF) {
		p->closed = 1;
		return -1;
	}
	if (r != 0) {
		note("receive: %s", moat_strerror(r));
		return -2;
	}
	if (m.fd != -1 && m.type != IPC_CAP_FRAMEBUFFER) {
		note("%s carries a descriptor", ipc_type_name(m.type));
		ipc_msg_clear(&m);
		return -2;
	}
	switch (m.type) {
	case IPC_CAP_FRAMEBUFFER:
		rv = on_framebuffer(p, &m);
		break;
	case IPC_CAP_DAMAGE:
		rv = on_damage(p, &m);
		break;
	case IPC_CAP_CURSOR:
		rv = on_cursor(p, &m);
		break;
	case IPC_CAP_CLIPBOARD:
		rv = on_clipboard(p, &m);
		break;
	default:
		note("unexpected %s from moat-session", ipc_type_name(m.type));
		rv = -1;
	}
	ipc_msg_clear(&m);
	return rv == 0 ? 1 : -2;
}

/* Notes why sending a message of type failed; returns 0 if r is 0, else -1. */
static int
sent(uint16_t type, int r)
{
	if (r == 0)
		return 0;
	note("send %s: %s", ipc_type_name(type), moat_strerror(r));
	return -1;
}

/* Sends raw bytes: for messages without a payload and deliberately malformed ones. */
static int
send_msg(int fd, uint16_t type, const void *p, size_t n, int passfd)
{
	if (fd == -1)
		return -1;
	return sent(type, ipc_send_raw(fd, type, p, n, passfd));
}

static struct pch *
current(void)
{
	if (nchans == 0 || chans[cur].fd == -1)
		return NULL;
	return &chans[cur];
}

/* ---- commands ---- */

static double
timeout_arg(char *s)
{
	double t;

	if (s == NULL)
		return DEFAULT_T;
	t = strtod(s, NULL);
	return t > 0 ? t : DEFAULT_T;
}

static void
cmd_accept(char **av, int ac)
{
	double deadline = now() + timeout_arg(ac > 1 ? av[1] : NULL);
	struct ipc_sess_register reg;
	struct ucred cred;
	socklen_t sl = sizeof(cred);
	struct ipc_msg m;

	if (!wait_readable(listen_fd, deadline)) {
		say("fail no registration connection");
		return;
	}
	if ((reg_fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC)) == -1) {
		say("fail accept: %s", strerror(errno));
		return;
	}
	if (getsockopt(reg_fd, SOL_SOCKET, SO_PEERCRED, &cred, &sl) != 0)
		cred.uid = (uid_t)-1;
	(void)ipc_tune_socket(reg_fd);
	if (!wait_readable(reg_fd, deadline) || ipc_recv(reg_fd, &m, 0) != 0) {
		say("fail no registration message");
		return;
	}
	if (m.type != IPC_SESS_REGISTER ||
	    ipc_msg_get_sess_register(&m.payload, &reg) != 0) {
		say("fail malformed registration (%s)", ipc_type_name(m.type));
		ipc_msg_clear(&m);
		return;
	}
	say("ok registered %.*s %u %u uid %ld", (int)reg.display.len,
	    (const char *)reg.display.p, reg.width, reg.height, (long)cred.uid);
	ipc_msg_clear(&m);
}

static int
parse_perms(const char *s, uint32_t *out)
{
	char tmp[128], *tok, *save;
	uint32_t v = 0;

	if (strcmp(s, "all") == 0) {
		*out = IPC_PERM_ALL;
		return 0;
	}
	if (s[0] >= '0' && s[0] <= '9') {
		*out = (uint32_t)strtoul(s, NULL, 0);
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s", s);
	for (tok = strtok_r(tmp, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "view") == 0)
			v |= IPC_PERM_VIEW;
		else if (strcmp(tok, "keyboard") == 0)
			v |= IPC_PERM_KEYBOARD;
		else if (strcmp(tok, "pointer") == 0)
			v |= IPC_PERM_POINTER;
		else if (strcmp(tok, "clip-out") == 0)
			v |= IPC_PERM_CLIP_TO_CLIENT;
		else if (strcmp(tok, "clip-in") == 0)
			v |= IPC_PERM_CLIP_TO_SERVER;
		else if (strcmp(tok, "resize") == 0)
			v |= IPC_PERM_RESIZE;
		else if (strcmp(tok, "none") != 0)
			return -1;
	}
	*out = v;
	return 0;
}

static void
cmd_open(char **av, int ac)
{
	double deadline = now() + timeout_arg(ac > 2 ? av[2] : NULL);
	struct ipc_sess_channel_open co;
	struct pch *p;
	uint32_t perms;
	int sv[2], r;

	if (ac < 2 || parse_perms(av[1], &perms) != 0) {
		say("fail usage: open PERMS [T]");
		return;
	}
	if (reg_fd == -1 || nchans == MAX_CH) {
		say("fail not registered or too many channels");
		return;
	}
	if (ipc_socketpair(sv) != 0) {
		say("fail socketpair");
		return;
	}
	p = &chans[nchans];
	memset(p, 0, sizeof(*p));
	p->fd = sv[0];
	p->id = next_id++;
	p->perms = perms;
	co = (struct ipc_sess_channel_open){ p->id, perms,
	    ipc_view_cstr("tester"), ipc_view_cstr("192.0.2.7:50123"), 0 };
	if (sent(IPC_SESS_CHANNEL_OPEN,
	    ipc_msg_send_sess_channel_open(reg_fd, &co, sv[1])) != 0) {
		close(sv[0]);
		close(sv[1]);
		say("fail sending channel open");
		return;
	}
	close(sv[1]);
	cur = nchans++;
	if (!(perms & IPC_PERM_VIEW)) {
		say("ok channel %u perms 0x%x (no view)", p->id, perms);
		return;
	}
	while (p->fbcount == 0) {
		if ((r = pump(p, deadline)) <= 0) {
			say("fail channel %u: no framebuffer (%d)", p->id, r);
			return;
		}
	}
	if (p->fb_bad) {
		say("fail channel %u: framebuffer memfd not properly sealed",
		    p->id);
		return;
	}
	say("ok channel %u perms 0x%x fb %ux%u stride %u depth %u masks "
	    "%08x/%08x/%08x sealed", p->id, perms, p->w, p->h, p->stride,
	    p->depth, p->mask[0], p->mask[1], p->mask[2]);
}

static void
cmd_use(char **av, int ac)
{
	unsigned i;

	for (i = 0; ac > 1 && i < nchans; i++) {
		if (chans[i].id == strtoul(av[1], NULL, 0)) {
			cur = i;
			say("ok using %u", chans[i].id);
			return;
		}
	}
	say("fail no such channel");
}

static int
send_request(struct pch *p)
{
	if (send_msg(p->fd, IPC_CAP_UPDATE_REQUEST, NULL, 0, -1) != 0)
		return -1;
	p->req_out = 1;
	return 0;
}

/* Waits for the outstanding request's answer; returns 1, 0 timeout, <0 error. */
static int
wait_damage(struct pch *p, double deadline)
{
	int r;

	while (p->req_out) {
		if ((r = pump(p, deadline)) <= 0)
			return r;
	}
	return 1;
}

static void
print_damage(struct pch *p)
{
	char line[512];
	size_t o = 0;
	unsigned i;

	o += (size_t)snprintf(line, sizeof(line), "ok damage gen %u n %u",
	    p->gen, p->nrects);
	for (i = 0; i < p->nrects && i < 8 && o < sizeof(line) - 40; i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, " %u,%u,%u,%u",
		    p->rects[i][0], p->rects[i][1], p->rects[i][2],
		    p->rects[i][3]);
	say("%s", line);
}

static void
cmd_update(char **av, int ac, int send, int wait)
{
	double deadline = now() + timeout_arg(ac > 1 ? av[1] : NULL);
	struct pch *p = current();
	unsigned i, n;
	int r;

	if (p == NULL) {
		say("fail no channel");
		return;
	}
	if (send && !wait) {
		n = ac > 1 ? (unsigned)strtoul(av[1], NULL, 0) : 1;
		for (i = 0; i < n; i++) {
			if (send_request(p) != 0) {
				say("fail send");
				return;
			}
		}
		say("ok sent %u", n);
		return;
	}
	/* "update" waits for an outstanding request instead of sending a second. */
	if (send && !p->req_out && send_request(p) != 0) {
		say("fail send");
		return;
	}
	if ((r = wait_damage(p, deadline)) <= 0) {
		say("fail no damage (%s)", r == 0 ? "timeout" :
		    r == -1 ? "closed" : "bad message");
		return;
	}
	print_damage(p);
}

/* Returns 1 if every pixel of the rectangle is want, else 0 with *got, *gx, *gy set. */
static int
rect_is(struct pch *p, unsigned x, unsigned y, unsigned w, unsigned h,
    uint32_t want, uint32_t *got, unsigned *gx, unsigned *gy)
{
	unsigned i, j;

	for (j = y; j < y + h; j++) {
		for (i = x; i < x + w; i++) {
			if ((*got = rgb_at(p, i, j)) != want) {
				*gx = i;
				*gy = j;
				return 0;
			}
		}
	}
	return 1;
}

static int
rect_args(struct pch *p, char **av, unsigned *x, unsigned *y, unsigned *w,
    unsigned *h, uint32_t *want)
{
	*x = (unsigned)strtoul(av[1], NULL, 0);
	*y = (unsigned)strtoul(av[2], NULL, 0);
	*w = (unsigned)strtoul(av[3], NULL, 0);
	*h = (unsigned)strtoul(av[4], NULL, 0);
	*want = (uint32_t)strtoul(av[5], NULL, 16);
	return p != NULL && p->fb != NULL && *w > 0 && *h > 0 &&
	    *x + *w <= p->w && *y + *h <= p->h ? 0 : -1;
}

static void
cmd_check_rect(char **av, int ac)
{
	struct pch *p = current();
	unsigned x, y, w, h, gx = 0, gy = 0;
	uint32_t want, got = 0;

	if (ac < 6 || rect_args(p, av, &x, &y, &w, &h, &want) != 0) {
		say("fail usage: check-rect X Y W H RRGGBB (inside the framebuffer)");
		return;
	}
	if (rect_is(p, x, y, w, h, want, &got, &gx, &gy))
		say("ok match");
	else
		say("fail pixel %u,%u is %06x", gx, gy, got);
}

static void
cmd_expect_rect(char **av, int ac)
{
	double deadline;
	struct pch *p = current();
	unsigned x, y, w, h, i, j, k, updates = 0, uncovered, gx = 0, gy = 0;
	uint32_t want, got = 0;
	uint8_t *cov;
	int r, match = 0;

	if (ac < 6 || rect_args(p, av, &x, &y, &w, &h, &want) != 0) {
		say("fail usage: expect-rect X Y W H RRGGBB [T] (inside the "
		    "framebuffer)");
		return;
	}
	deadline = now() + timeout_arg(ac > 6 ? av[6] : NULL);
	if ((cov = calloc((size_t)w * h, 1)) == NULL) {
		say("fail memory");
		return;
	}
	uncovered = w * h;
	for (;;) {
		if (!p->req_out && send_request(p) != 0) {
			say("fail send");
			break;
		}
		if ((r = wait_damage(p, deadline)) <= 0) {
			match = rect_is(p, x, y, w, h, want, &got, &gx, &gy);
			if (match)
				say("fail after %u updates: %u pixels never "
				    "damaged (pixels match)", updates, uncovered);
			else
				say("fail after %u updates: %u pixels never "
				    "damaged, pixel %u,%u is %06x", updates,
				    uncovered, gx, gy, got);
			break;
		}
		updates++;
		for (k = 0; k < p->nrects; k++) {
			unsigned rx = p->rects[k][0], ry = p->rects[k][1];
			unsigned rw = p->rects[k][2], rh = p->rects[k][3];

			for (j = ry; j < ry + rh; j++) {
				if (j < y || j >= y + h)
					continue;
				for (i = rx; i < rx + rw; i++) {
					if (i < x || i >= x + w)
						continue;
					if (!cov[(size_t)(j - y) * w + (i - x)]) {
						cov[(size_t)(j - y) * w + (i - x)] = 1;
						uncovered--;
					}
				}
			}
		}
		match = rect_is(p, x, y, w, h, want, &got, &gx, &gy);
		if (match && uncovered == 0) {
			say("ok covered after %u updates", updates);
			break;
		}
	}
	free(cov);
}

static void
cmd_pixel(char **av, int ac)
{
	struct pch *p = current();
	unsigned x, y;

	if (ac < 3 || p == NULL || p->fb == NULL) {
		say("fail usage: pixel X Y (needs a framebuffer)");
		return;
	}
	x = (unsigned)strtoul(av[1], NULL, 0);
	y = (unsigned)strtoul(av[2], NULL, 0);
	if (x >= p->w || y >= p->h) {
		say("fail outside");
		return;
	}
	say("ok %06x", rgb_at(p, x, y));
}

static void
cmd_dump(char **av, int ac)
{
	struct pch *p = current();
	unsigned x = 0, y = 0, w, h, i, j;
	FILE *f;

	if (ac < 2 || p == NULL || p->fb == NULL) {
		say("fail usage: dump FILE [X Y W H]");
		return;
	}
	w = p->w;
	h = p->h;
	if (ac >= 6) {
		x = (unsigned)strtoul(av[2], NULL, 0);
		y = (unsigned)strtoul(av[3], NULL, 0);
		w = (unsigned)strtoul(av[4], NULL, 0);
		h = (unsigned)strtoul(av[5], NULL, 0);
	}
	if (w == 0 || h == 0 || x + w > p->w || y + h > p->h) {
		say("fail outside");
		return;
	}
	if ((f = fopen(av[1], "wb")) == NULL) {
		say("fail open %s", av[1]);
		return;
	}
	fprintf(f, "P6\n%u %u\n255\n", w, h);
	for (j = y; j < y + h; j++) {
		for (i = x; i < x + w; i++) {
			uint32_t c = rgb_at(p, i, j);

			fputc((int)(c >> 16) & 0xff, f);
			fputc((int)(c >> 8) & 0xff, f);
			fputc((int)c & 0xff, f);
		}
	}
	if (fclose(f) != 0) {
		say("fail write");
		return;
	}
	say("ok dumped %ux%u", w, h);
}

static int
send_key(struct pch *p, int down, uint32_t ks)
{
	struct ipc_cap_key k = { (uint8_t)down, ks, 0 };

	return sent(IPC_CAP_KEY, ipc_msg_send_cap_key(p->fd, &k, -1));
}

static void
cmd_key(char **av, int ac)
{
	struct pch *p = current();

	if (ac < 3 || p == NULL) {
		say("fail usage: key DOWN KEYSYM");
		return;
	}
	if (send_key(p, (int)strtoul(av[1], NULL, 0),
	    (uint32_t)strtoul(av[2], NULL, 0)) != 0) {
		say("fail send");
		return;
	}
	say("ok");
}

static void
cmd_type(const char *text)
{
	struct pch *p = current();
	const unsigned char *s = (const unsigned char *)text;
	uint32_t ks;

	if (p == NULL) {
		say("fail no channel");
		return;
	}
	for (; *s != '\0'; s++) {
		ks = *s;
		if (*s == '\\' && s[1] != '\0') {
			s++;
			if (*s == 'r' || *s == 'n')
				ks = 0xff0d;
			else if (*s == 't')
				ks = 0xff09;
			else
				ks = *s;
		}
		if (send_key(p, 1, ks) != 0 || send_key(p, 0, ks) != 0) {
			say("fail send");
			return;
		}
	}
	say("ok");
}

static void
cmd_pointer(char **av, int ac)
{
	struct pch *p = current();
	struct ipc_cap_pointer m;

	if (ac < 4 || p == NULL) {
		say("fail usage: pointer MASK X Y");
		return;
	}
	m.mask = (uint8_t)strtoul(av[1], NULL, 0);
	m.x = (uint16_t)strtoul(av[2], NULL, 0);
	m.y = (uint16_t)strtoul(av[3], NULL, 0);
	if (sent(IPC_CAP_POINTER, ipc_msg_send_cap_pointer(p->fd, &m, -1)) != 0) {
		say("fail send");
		return;
	}
	say("ok");
}

static int
unhex(const char *s, uint8_t **out, size_t *n)
{
	size_t len = strlen(s), i;
	uint8_t *b;
	unsigned v;

	*n = 0;
	if (strcmp(s, "-") == 0) {
		*out = NULL;
		return 0;
	}
	if (len % 2 != 0 || (b = malloc(len / 2 + 1)) == NULL)
		return -1;
	for (i = 0; i < len / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1) {
			free(b);
			return -1;
		}
		b[i] = (uint8_t)v;
	}
	*out = b;
	*n = len / 2;
	return 0;
}

static void
cmd_clip(const uint8_t *t, size_t n)
{
	struct ipc_cap_clipboard m = { { t, n } };
	struct pch *p = current();

	if (p == NULL) {
		say("fail no channel");
		return;
	}
	say(sent(IPC_CAP_CLIPBOARD, ipc_msg_send_cap_clipboard(p->fd, &m, -1)) ?
	    "fail send" : "ok");
}

static void
cmd_wait_clip(char **av, int ac)
{
	double deadline = now() + timeout_arg(ac > 1 ? av[1] : NULL);
	struct pch *p = current();
	char hex[2 * 64 + 4];
	uint8_t *t;
	size_t n, i, o = 0;
	int r;

	if (p == NULL) {
		say("fail no channel");
		return;
	}
	while (p->clip_head == p->clip_tail) {
		if ((r = pump(p, deadline)) <= 0) {
			say("fail no clipboard text (%s)", r == 0 ? "timeout" :
			    "channel error");
			return;
		}
	}
	t = p->clip[p->clip_head % CLIPQ];
	n = p->cliplen[p->clip_head % CLIPQ];
	p->clip_head++;
	for (i = 0; i < n && i < 64; i++)
		o += (size_t)snprintf(hex + o, sizeof(hex) - o, "%02x", t[i]);
	if (n > 64)
		snprintf(hex + o, sizeof(hex) - o, "...");
	if (n == 0)
		snprintf(hex, sizeof(hex), "-");
	/* Long texts: say whether every byte is the same as the first. */
	for (i = 1; i < n && t[i] == t[0]; i++)
		;
	say("ok clip len=%zu uniform=%d hex=%s", n, n > 0 && i == n, hex);
	free(t);
}

static void
cmd_cursor(char **av, int ac, int wait_newer)
{
	double deadline;
	struct pch *p = current();
	unsigned serial = 0;
	int r;

	if (p == NULL) {
		say("fail no channel");
		return;
	}
	if (wait_newer) {
		if (ac < 2) {
			say("fail usage: wait-cursor SERIAL [T]");
			return;
		}
		serial = (unsigned)strtoul(av[1], NULL, 0);
		deadline = now() + timeout_arg(ac > 2 ? av[2] : NULL);
	} else
		deadline = now() + timeout_arg(ac > 1 ? av[1] : NULL);
	while (p->cserial <= serial) {
		if ((r = pump(p, deadline)) <= 0) {
			say("fail no cursor (%s)", r == 0 ? "timeout" :
			    "channel error");
			return;
		}
	}
	say("ok cursor %u %u hot %u %u serial %u first %08x", p->cw, p->ch,
	    p->chx, p->chy, p->cserial, p->cfirst);
}

static void
cmd_raw(char **av, int ac, int sock, int with_fd)
{
	uint8_t *payload = NULL;
	size_t n;
	int fd = -1, r;

	if (ac < 3 || unhex(av[2], &payload, &n) != 0) {
		say("fail usage: raw TYPE HEX|-");
		return;
	}
	if (with_fd && (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1) {
		free(payload);
		say("fail open /dev/null");
		return;
	}
	r = send_msg(sock, (uint16_t)strtoul(av[1], NULL, 0), payload, n, fd);
	if (fd != -1)
		close(fd);
	free(payload);
	if (r != 0)
		say("fail send");
	else
		say("ok");
}

static void
cmd_expect_closed(char **av, int ac)
{
	double deadline = now() + timeout_arg(ac > 1 ? av[1] : NULL);
	struct pch *p = current();
	int r;

	if (p == NULL) {
		say("fail no channel");
		return;
	}
	while ((r = pump(p, deadline)) == 1)
		;
	if (r == -1) {
		close(p->fd);
		p->fd = -1;
		say("ok closed");
		return;
	}
	say("fail channel still open (%s)", r == 0 ? "timeout" : "bad message");
}

static int
split(char *line, char **av, int max)
{
	int ac = 0;
	char *save, *tok;

	for (tok = strtok_r(line, " \t", &save); tok != NULL && ac < max;
	    tok = strtok_r(NULL, " \t", &save))
		av[ac++] = tok;
	return ac;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -1;
	memcpy(sun.sun_path, path, strlen(path));
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    chmod(path, 0666) != 0 || listen(fd, 4) != 0)
		return -1;
	return fd;
}

int
main(int argc, char **argv)
{
	char line[8192], copy[8192], *av[16], *rest;
	uint8_t *bytes;
	size_t n, len;
	int ac;

	if (argc != 3 || strcmp(argv[1], "--listen") != 0) {
		fprintf(stderr, "usage: capture_probe --listen PATH\n");
		return 2;
	}
	if ((listen_fd = listen_on(argv[2])) == -1) {
		fprintf(stderr, "capture_probe: cannot listen on %s: %s\n",
		    argv[2], strerror(errno));
		return 1;
	}
	say("ok listening");
	while (fgets(line, sizeof(line), stdin) != NULL) {
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		memcpy(copy, line, len + 1);
		if ((ac = split(line, av, 16)) == 0) {
			say("fail empty command");
			continue;
		}
		/* Commands taking the rest of the line as text. */
		rest = strchr(copy, ' ');
		rest = rest != NULL ? rest + 1 : copy + len;
		if (strcmp(av[0], "quit") == 0) {
			say("ok bye");
			break;
		} else if (strcmp(av[0], "accept") == 0)
			cmd_accept(av, ac);
		else if (strcmp(av[0], "open") == 0)
			cmd_open(av, ac);
		else if (strcmp(av[0], "use") == 0)
			cmd_use(av, ac);
		else if (strcmp(av[0], "update") == 0)
			cmd_update(av, ac, 1, 1);
		else if (strcmp(av[0], "request") == 0)
			cmd_update(av, ac, 1, 0);
		else if (strcmp(av[0], "wait-damage") == 0)
			cmd_update(av, ac, 0, 1);
		else if (strcmp(av[0], "check-rect") == 0)
			cmd_check_rect(av, ac);
		else if (strcmp(av[0], "expect-rect") == 0)
			cmd_expect_rect(av, ac);
		else if (strcmp(av[0], "fb") == 0) {
			if (current() == NULL || current()->fb == NULL)
				say("fail no framebuffer");
			else
				say("ok fb %ux%u stride %u count %u", current()->w,
				    current()->h, current()->stride,
				    current()->fbcount);
		} else if (strcmp(av[0], "pixel") == 0)
			cmd_pixel(av, ac);
		else if (strcmp(av[0], "dump") == 0)
			cmd_dump(av, ac);
		else if (strcmp(av[0], "key") == 0)
			cmd_key(av, ac);
		else if (strcmp(av[0], "type") == 0)
			cmd_type(rest);
		else if (strcmp(av[0], "pointer") == 0)
			cmd_pointer(av, ac);
		else if (strcmp(av[0], "clip") == 0)
			cmd_clip((const uint8_t *)rest, strlen(rest));
		else if (strcmp(av[0], "clip-hex") == 0) {
			if (ac < 2 || unhex(av[1], &bytes, &n) != 0)
				say("fail usage: clip-hex HEX");
			else {
				cmd_clip(bytes, n);
				free(bytes);
			}
		} else if (strcmp(av[0], "wait-clip") == 0)
			cmd_wait_clip(av, ac);
		else if (strcmp(av[0], "cursor") == 0)
			cmd_cursor(av, ac, 0);
		else if (strcmp(av[0], "wait-cursor") == 0)
			cmd_cursor(av, ac, 1);
		else if (strcmp(av[0], "raw") == 0)
			cmd_raw(av, ac, current() ? current()->fd : -1, 0);
		else if (strcmp(av[0], "raw-fd") == 0)
			cmd_raw(av, ac, current() ? current()->fd : -1, 1);
		else if (strcmp(av[0], "reg-raw") == 0)
			cmd_raw(av, ac, reg_fd, 0);
		else if (strcmp(av[0], "expect-closed") == 0)
			cmd_expect_closed(av, ac);
		else if (strcmp(av[0], "close") == 0) {
			if (current() == NULL)
				say("fail no channel");
			else {
				close(current()->fd);
				chans[cur].fd = -1;
				say("ok");
			}
		} else if (strcmp(av[0], "close-reg") == 0) {
			if (reg_fd != -1)
				close(reg_fd);
			reg_fd = -1;
			say("ok");
		} else
			say("fail unknown command %s", av[0]);
	}
	return 0;
}
