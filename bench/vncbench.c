/*
 * vncbench.c - bench/'s measuring RFB client, on libvncclient.
 *
 * Runs as root in bench/run.sh's private namespaces, beside the server it
 * measures; it trusts that server only to speak RFB (every wait is bounded
 * by the caller's timeout(1)) and reads server CPU time from /proc of the
 * processes whose command names it is given. Not part of moat.
 *
 * Tricks (see /work/shared/reference/benchmarking.md, 2.2):
 *   - it connects the TCP socket itself (timed) and hands it to
 *     libvncclient (listenSpecified), so the TCP connect is measured apart;
 *   - requestedResize stays TRUE, so libvncclient never sends a request of
 *     its own: this program sends every FramebufferUpdateRequest itself;
 *   - it asks for the server-native pixel format (32 bpp, depth 24, xRGB);
 *   - after ServerInit it sends its own SetEncodings, without the desktop
 *     size pseudo-encodings (TigerVNC and libvncserver answer every
 *     non-incremental request with only a desktop size rectangle otherwise)
 *     and with QEMU extended key events (Xvnc drops the connection without);
 *   - bytes are the socket's TCP_INFO tcpi_bytes_received: what the wire
 *     carried, TLS records included.
 * It prints one line of key=value pairs.
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <dlfcn.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/tcp.h>		/* tcp_info with tcpi_bytes_received */
#include <sys/socket.h>

#include <rfb/rfbclient.h>

#define MAXCOMM		8
#define MAXSAMPLES	100000
#define MAXCLIENTS	64

enum enc { ENC_RAW, ENC_ZRLE, ENC_TIGHT };

static struct {
	const char	*host;
	int		 port;
	enum enc	 enc;
	int		 clevel;	/* -1: not sent */
	int		 quality;	/* -1: no JPEG */
	int		 fine;		/* fine quality with quality >= 0 */
	double		 secs;
	int		 count;
	const char	*comm[MAXCOMM];
	int		 ncomm;
	const char	*ca;
	const char	*user;
	const char	*pass;
} opt = { "127.0.0.1", 5900, ENC_RAW, -1, -1, 92, 5.0, 30, { 0 }, 0,
	NULL, NULL, NULL };

/* Per update, set by the callbacks. */
static int	 got_update;
static uint64_t	 upd_pixels;
static double	 t_cred;		/* first user-credential prompt */

static double	 samples[MAXSAMPLES];
static int	 nsamples;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
quiet_log(const char *fmt, ...)
{
	(void)fmt;
}

static void
err_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("vncbench: libvncclient: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static void
die(const char *msg)
{
	fprintf(stderr, "vncbench: %s\n", msg);
	printf("error=\"%s\"\n", msg);
	exit(1);
}

/* Server CPU: utime+stime+cutime+cstime of every process named opt.comm. */
static double
server_cpu_ms(void)
{
	DIR *d;
	struct dirent *de;
	double ticks = 0;
	long hz = sysconf(_SC_CLK_TCK);

	if (opt.ncomm == 0)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[300], buf[1024], *l, *r;
		unsigned long long f[4];
		int fd, i;
		ssize_t n;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		if ((fd = open(path, O_RDONLY)) < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		l = strchr(buf, '(');
		r = strrchr(buf, ')');
		if (l == NULL || r == NULL)
			continue;
		*r = '\0';
		for (i = 0; i < opt.ncomm; i++)
			if (strcmp(l + 1, opt.comm[i]) == 0)
				break;
		if (i == opt.ncomm)
			continue;
		/* After ") ": state ppid pgrp session tty tpgid flags minflt
		 * cminflt majflt cmajflt utime stime cutime cstime. */
		if (sscanf(r + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
		    "%llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3]) != 4)
			continue;
		ticks += (double)(f[0] + f[1] + f[2] + f[3]);
	}
	closedir(d);
	return ticks * 1000.0 / (double)hz;
}

static uint64_t
sock_bytes(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return 0;
	return ti.tcpi_bytes_received;
}

/*
 * libvncclient 0.9.14 sets the GnuTLS priority
 * "NORMAL:+DHE-DSS:+RSA:+DHE-RSA:+SRP" for X509 VeNCrypt; with SRP in it
 * GnuTLS offers TLS 1.2 at most, and moat speaks only TLS 1.3. This
 * definition takes the place of GnuTLS's (the executable's symbol wins over
 * the shared library's) and passes "NORMAL" instead, which offers TLS 1.3.
 * Anonymous-TLS priorities pass through unchanged.
 */
int gnutls_priority_set_direct(void *session, const char *priorities,
    const char **err_pos);

int
gnutls_priority_set_direct(void *session, const char *priorities,
    const char **err_pos)
{
	static int (*real)(void *, const char *, const char **);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "gnutls_priority_set_direct");
	if (real == NULL)
		return -50;	/* GNUTLS_E_INVALID_REQUEST */
	if (priorities != NULL && strstr(priorities, "+SRP") != NULL &&
	    strstr(priorities, "ANON") == NULL)
		priorities = "NORMAL";
	return real(session, priorities, err_pos);
}

static void
cb_got(rfbClient *cl, int x, int y, int w, int h)
{
	upd_pixels += (uint64_t)w * (uint64_t)h;
	/* Never let libvncclient send a request of its own. */
	cl->requestedResize = TRUE;
}

static void
cb_finished(rfbClient *cl)
{
	got_update = 1;
	cl->requestedResize = TRUE;
}

static rfbCredential *
cb_cred(rfbClient *cl, int type)
{
	rfbCredential *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if (type == rfbCredentialTypeX509) {
		if (opt.ca == NULL)
			die("the server asks for TLS with a CA: give -A");
		c->x509Credential.x509CACertFile = strdup(opt.ca);
		return c;
	}
	if (type == rfbCredentialTypeUser) {
		if (t_cred == 0)
			t_cred = now_ms();
		if (opt.user == NULL || opt.pass == NULL)
			die("the server asks for a user name: set BENCH_USER, BENCH_PASS");
		c->userCredential.username = strdup(opt.user);
		c->userCredential.password = strdup(opt.pass);
		return c;
	}
	free(c);
	return NULL;
}

static void
put32(uint8_t *p, int32_t v)
{
	p[0] = (uint8_t)((uint32_t)v >> 24);
	p[1] = (uint8_t)((uint32_t)v >> 16);
	p[2] = (uint8_t)((uint32_t)v >> 8);
	p[3] = (uint8_t)v;
}

/* Sends this program's SetEncodings; returns 0 or -1. */
static int
send_encodings(rfbClient *cl)
{
	uint8_t msg[4 + 4 * 16];
	int32_t e[16];
	int n = 0, i;

	switch (opt.enc) {
	case ENC_RAW: e[n++] = rfbEncodingRaw; break;
	case ENC_ZRLE: e[n++] = rfbEncodingZRLE; break;
	case ENC_TIGHT: e[n++] = rfbEncodingTight; break;
	}
	e[n++] = rfbEncodingCopyRect;
	if (opt.clevel >= 0)
		e[n++] = -256 + opt.clevel;
	if (opt.quality >= 0) {
		e[n++] = -32 + opt.quality;		/* quality level */
		e[n++] = -512 + opt.fine;		/* fine quality */
		e[n++] = -768;				/* subsampling 4:4:4 */
	}
	e[n++] = rfbEncodingLastRect;
	e[n++] = rfbEncodingQemuExtendedKeyEvent;
	msg[0] = rfbSetEncodings;
	msg[1] = 0;
	msg[2] = 0;
	msg[3] = (uint8_t)n;
	for (i = 0; i < n; i++)
		put32(msg + 4 + 4 * i, e[i]);
	return WriteToRFBServer(cl, (char *)msg, 4 + 4 * n) ? 0 : -1;
}

static int
send_request(rfbClient *cl, int incremental)
{
	uint8_t m[10];

	m[0] = rfbFramebufferUpdateRequest;
	m[1] = incremental ? 1 : 0;
	m[2] = m[3] = m[4] = m[5] = 0;
	m[6] = (uint8_t)(cl->width >> 8);
	m[7] = (uint8_t)cl->width;
	m[8] = (uint8_t)(cl->height >> 8);
	m[9] = (uint8_t)cl->height;
	return WriteToRFBServer(cl, (char *)m, 10) ? 0 : -1;
}

/* Handles server messages until one FramebufferUpdate has been read. */
static int
wait_update(rfbClient *cl)
{
	got_update = 0;
	while (!got_update)
		if (!HandleRFBServerMessage(cl))
			return -1;
	return 0;
}

struct conn {
	rfbClient	*cl;
	double		 t0, t_tcp, t_init, t_cred, t_first;
};

/* Connects and logs in; fills the times (ms from t0). Returns 0 or -1. */
static int
bench_connect(struct conn *c)
{
	struct sockaddr_in sa;
	rfbClient *cl;
	int fd, one = 1;

	memset(c, 0, sizeof(*c));
	cl = rfbGetClient(8, 3, 4);
	if (cl == NULL)
		return -1;
	cl->format.redShift = 16;
	cl->format.greenShift = 8;
	cl->format.blueShift = 0;
	cl->format.depth = 24;
	cl->serverHost = strdup(opt.host);
	cl->serverPort = opt.port;
	cl->GetCredential = cb_cred;
	cl->GotFrameBufferUpdate = cb_got;
	cl->FinishedFrameBufferUpdate = cb_finished;
	cl->requestedResize = TRUE;
	cl->canHandleNewFBSize = FALSE;
	cl->appData.useRemoteCursor = FALSE;
	cl->appData.encodingsString = opt.enc == ENC_RAW ? "raw" :
	    opt.enc == ENC_ZRLE ? "zrle" : "tight";
	cl->appData.compressLevel = opt.clevel;
	cl->appData.qualityLevel = opt.quality < 0 ? 0 : opt.quality;
	cl->appData.enableJPEG = opt.quality >= 0;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("-H must be an IPv4 address");
	t_cred = 0;
	c->t0 = now_ms();
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		rfbClientCleanup(cl);
		return -1;
	}
	c->t_tcp = now_ms() - c->t0;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cl->sock = fd;
	cl->listenSpecified = TRUE;
	if (!rfbInitClient(cl, NULL, NULL))
		return -1;	/* rfbInitClient has freed cl */
	c->t_init = now_ms() - c->t0;
	c->t_cred = t_cred > 0 ? t_cred - c->t0 : 0;
	cl->requestedResize = TRUE;
	if (send_encodings(cl) != 0) {
		rfbClientCleanup(cl);
		return -1;
	}
	c->cl = cl;
	return 0;
}

/* Connects, then reads one complete full frame (c->t_first). */
static int
connect_first_frame(struct conn *c)
{
	if (bench_connect(c) != 0)
		return -1;
	upd_pixels = 0;
	while (upd_pixels < (uint64_t)c->cl->width * c->cl->height) {
		if (send_request(c->cl, 0) != 0 || wait_update(c->cl) != 0) {
			rfbClientCleanup(c->cl);
			return -1;
		}
	}
	c->t_first = now_ms() - c->t0;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double p)
{
	size_t i;

	if (nsamples == 0)
		return 0;
	qsort(samples, (size_t)nsamples, sizeof(double), cmp_double);
	i = (size_t)(p * (nsamples - 1) + 0.5);
	return samples[i];
}

static void
add_sample(double v)
{
	if (nsamples < MAXSAMPLES)
		samples[nsamples++] = v;
}

/* full (non-incremental back-to-back) or incr (incremental back-to-back). */
static void
run_stream(int incremental)
{
	struct conn c;
	double t0, t, cpu0, cpu1;
	uint64_t b0, b1, pixels = 0;
	long updates = 0;

	if (connect_first_frame(&c) != 0)
		die("connection failed");
	/* Warm-up: one more of what is measured. */
	if (send_request(c.cl, incremental) != 0 || wait_update(c.cl) != 0)
		die("connection lost");
	b0 = sock_bytes(c.cl->sock);
	cpu0 = server_cpu_ms();
	t0 = now_ms();
	do {
		double tr = now_ms();
		upd_pixels = 0;
		if (send_request(c.cl, incremental) != 0 || wait_update(c.cl) != 0)
			die("connection lost");
		t = now_ms();
		if (upd_pixels == 0)
			continue;
		add_sample(t - tr);
		pixels += upd_pixels;
		updates++;
	} while (t - t0 < opt.secs * 1e3);
	cpu1 = server_cpu_ms();
	b1 = sock_bytes(c.cl->sock);
	{
		double s = (t - t0) / 1e3;
		double fr = (double)c.cl->width * c.cl->height;
		printf("updates=%ld ups=%.2f ffps=%.2f kb_per_update=%.1f "
		    "kb_per_ff=%.1f cpu_ms_per_update=%.2f rtu_med=%.2f "
		    "rtu_p95=%.2f secs=%.2f\n", updates, updates / s,
		    (double)pixels / fr / s,
		    updates ? (double)(b1 - b0) / 1e3 / updates : 0,
		    pixels ? (double)(b1 - b0) / 1e3 / ((double)pixels / fr) : 0,
		    updates ? (cpu1 - cpu0) / updates : 0, pct(0.5), pct(0.95), s);
	}
	rfbClientCleanup(c.cl);
}

static int
is_marker(rfbClient *cl, int x, int y)
{
	uint32_t p;
	int r, g, b;

	if (x >= cl->width || y >= cl->height)
		return 0;
	p = ((uint32_t *)(void *)cl->frameBuffer)[(size_t)y * cl->width + x];
	r = (p >> 16) & 0xff;
	g = (p >> 8) & 0xff;
	b = p & 0xff;
	return r > 210 && g < 50 && b > 210;
}

/*
 * Input-to-display: a PointerEvent to a new position, then updates until
 * the marker's magenta shows at (x+24, y+24); one incremental request is
 * always outstanding. Positions walk a grid over a plain gradient area of
 * content.c's desktop, consecutive ones far apart.
 */
static void
run_latency(void)
{
	struct conn c;
	int i, misses = 0;
	double t0, total0 = now_ms();

	if (connect_first_frame(&c) != 0)
		die("connection failed");
	if (send_request(c.cl, 1) != 0)
		die("connection lost");
	for (i = 0; i < opt.count + 5; i++) {
		int k = (i * 13) % 32;
		int x = 1250 + (k % 8) * 72, y = 790 + (k / 8) * 56;
		struct timespec gap = { 0, 4000000 };
		int polls = 0;

		while (is_marker(c.cl, x + 24, y + 24)) {
			/* Left over from the last visit: let updates drain. */
			if (wait_update(c.cl) != 0 || send_request(c.cl, 1) != 0)
				die("connection lost");
			if (++polls > 50)
				die("the marker never leaves a position");
		}
		t0 = now_ms();
		if (!SendPointerEvent(c.cl, x, y, 0))
			die("connection lost");
		while (!is_marker(c.cl, x + 24, y + 24)) {
			if (wait_update(c.cl) != 0 || send_request(c.cl, 1) != 0)
				die("connection lost");
			if (now_ms() - t0 > 5000) {
				misses++;
				break;
			}
		}
		/* The first samples warm up caches and the server's state. */
		if (i >= 5 && is_marker(c.cl, x + 24, y + 24))
			add_sample(now_ms() - t0);
		nanosleep(&gap, NULL);
	}
	{
		double mn, mx, med, p95;
		int n = nsamples;
		med = pct(0.5);
		p95 = pct(0.95);
		mn = n ? samples[0] : 0;
		mx = n ? samples[n - 1] : 0;
		printf("samples=%d misses=%d lat_min=%.2f lat_med=%.2f "
		    "lat_p95=%.2f lat_max=%.2f secs=%.1f\n", n, misses, mn, med,
		    p95, mx, (now_ms() - total0) / 1e3);
	}
	rfbClientCleanup(c.cl);
}

/* N x (connect, log in, first full frame, close). */
static void
run_connect(void)
{
	double tcp[MAXSAMPLES / 4], hs[MAXSAMPLES / 4], first[MAXSAMPLES / 4];
	double t0, t1, cpu0, cpu1;
	struct timespec settle = { 0, 300000000 };
	int i, n = opt.count, fails = 0;

	if (n > MAXSAMPLES / 4)
		n = MAXSAMPLES / 4;
	cpu0 = server_cpu_ms();
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		struct conn c;
		if (connect_first_frame(&c) != 0) {
			fails++;
			tcp[i] = hs[i] = first[i] = 0;
			continue;
		}
		tcp[i] = c.t_tcp;
		/* The credential prompt if there is one, else ServerInit. */
		hs[i] = c.t_cred > 0 ? c.t_cred : c.t_init;
		first[i] = c.t_first;
		rfbClientCleanup(c.cl);
	}
	t1 = now_ms();
	/* Let the server finish tearing the last connection down. */
	nanosleep(&settle, NULL);
	cpu1 = server_cpu_ms();
	{
		double mtcp, mhs, phs, mfirst;
		nsamples = 0;
		for (i = 0; i < n; i++)
			add_sample(tcp[i]);
		mtcp = pct(0.5);
		nsamples = 0;
		for (i = 0; i < n; i++)
			add_sample(hs[i]);
		mhs = pct(0.5);
		phs = pct(0.95);
		nsamples = 0;
		for (i = 0; i < n; i++)
			add_sample(first[i]);
		mfirst = pct(0.5);
		printf("conns=%d fails=%d tcp_med=%.3f hs_med=%.2f hs_p95=%.2f "
		    "first_med=%.2f cps=%.2f cpu_ms_per_conn=%.2f\n", n, fails,
		    mtcp, mhs, phs, mfirst, n / ((t1 - t0) / 1e3),
		    n ? (cpu1 - cpu0) / n : 0);
	}
}

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* N clients with one full frame each, held until SIGTERM. */
static void
run_hold(void)
{
	struct conn c[MAXCLIENTS];
	int i, n = opt.count > MAXCLIENTS ? MAXCLIENTS : opt.count;

	signal(SIGTERM, on_term);
	for (i = 0; i < n; i++)
		if (connect_first_frame(&c[i]) != 0)
			die("connection failed");
	printf("ready clients=%d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	for (i = 0; i < n; i++)
		rfbClientCleanup(c[i].cl);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: vncbench -m full|incr|latency|connect|hold [-H ip] [-P port]\n"
	    "         [-e raw|zrle|tight|tightq8] [-c level] [-q level] [-Q fine]\n"
	    "         [-t seconds] [-n count] [-C comm,comm...] [-A cafile]\n"
	    "  credentials for X509Plain/Plain: environment BENCH_USER, BENCH_PASS\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *mode = NULL;
	char *s, *tok;
	int ch;

	while ((ch = getopt(argc, argv, "m:H:P:e:c:q:Q:t:n:C:A:")) != -1) {
		switch (ch) {
		case 'm': mode = optarg; break;
		case 'H': opt.host = optarg; break;
		case 'P': opt.port = atoi(optarg); break;
		case 'e':
			if (strcmp(optarg, "raw") == 0)
				opt.enc = ENC_RAW;
			else if (strcmp(optarg, "zrle") == 0)
				opt.enc = ENC_ZRLE;
			else if (strcmp(optarg, "tight") == 0) {
				opt.enc = ENC_TIGHT;
				opt.clevel = 1;
			} else if (strcmp(optarg, "tightq8") == 0) {
				opt.enc = ENC_TIGHT;
				opt.clevel = 1;
				opt.quality = 8;
			} else
				usage();
			break;
		case 'c': opt.clevel = atoi(optarg); break;
		case 'q': opt.quality = atoi(optarg); break;
		case 'Q': opt.fine = atoi(optarg); break;
		case 't': opt.secs = atof(optarg); break;
		case 'n': opt.count = atoi(optarg); break;
		case 'C':
			s = strdup(optarg);
			for (tok = strtok(s, ","); tok != NULL && opt.ncomm < MAXCOMM;
			    tok = strtok(NULL, ","))
				opt.comm[opt.ncomm++] = tok;
			break;
		case 'A': opt.ca = optarg; break;
		default: usage();
		}
	}
	if (mode == NULL || opt.count < 1 || opt.secs <= 0 || opt.quality > 9 ||
	    opt.clevel > 9 || opt.fine < 0 || opt.fine > 100)
		usage();
	opt.user = getenv("BENCH_USER");
	opt.pass = getenv("BENCH_PASS");
	if (getenv("VNCBENCH_VERBOSE") == NULL)
		rfbClientLog = quiet_log;
	rfbClientErr = err_log;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(mode, "full") == 0)
		run_stream(0);
	else if (strcmp(mode, "incr") == 0)
		run_stream(1);
	else if (strcmp(mode, "latency") == 0)
		run_latency();
	else if (strcmp(mode, "connect") == 0)
		run_connect();
	else if (strcmp(mode, "hold") == 0)
		run_hold();
	else
		usage();
	return 0;
}
