/*
 * ipc.c - framing and fd passing for every moat IPC channel (see ipc.h).
 * Runs in every process; the receiving side trusts nothing it reads here.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "ipc.h"
#ifdef MOAT_INPROCESS
#include "ipc_inproc.h"	/* moatd-inprocess only: its in-memory channel */
#endif

#define IPC_SOCKBUF (1024 * 1024)

int
ipc_tune_socket(int fd)
{
	int sz = IPC_SOCKBUF;

	/* The kernel caps this at wmem_max; a message must fit the result. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) != 0)
		return MOAT_ERR_SYSTEM;
	return 0;
}

int
ipc_socketpair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return MOAT_ERR_SYSTEM;
	if (ipc_tune_socket(sv[0]) != 0 || ipc_tune_socket(sv[1]) != 0) {
		close(sv[0]);
		close(sv[1]);
		return MOAT_ERR_SYSTEM;
	}
	return 0;
}

int
ipc_send_raw(int sock, uint16_t type, const void *p, size_t n, int fd)
{
	uint8_t hdr[IPC_HDR_LEN];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct iovec iov[2];
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t w;

	if (n > IPC_MAX_PAYLOAD)
		return MOAT_ERR_TOO_LONG;
#ifdef MOAT_INPROCESS
	if (ipc_inproc_owns(sock))
		return ipc_inproc_send(sock, type, p, n, fd);
#endif
	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	hdr[4] = (uint8_t)(type >> 8);
	hdr[5] = (uint8_t)type;
	hdr[6] = hdr[7] = 0;
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof(hdr);
	iov[1].iov_base = (void *)p;
	iov[1].iov_len = n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = n > 0 ? 2 : 1;
	if (fd >= 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		w = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (w < 0 && errno == EINTR);
	if (w < 0)
		return (errno == EPIPE || errno == ECONNRESET) ?
		    MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
	if ((size_t)w != sizeof(hdr) + n)
		return MOAT_ERR_SYSTEM;
	return 0;
}

int
ipc_send(int sock, uint16_t type, const struct buf *payload, int fd)
{
	if (payload == NULL)
		return ipc_send_raw(sock, type, NULL, 0, fd);
	return ipc_send_raw(sock, type, buf_ptr(payload), buf_len(payload), fd);
}

int
ipc_parse(const uint8_t *d, size_t n, uint16_t *type, const uint8_t **payload,
    size_t *plen)
{
	uint32_t len;

	if (n < IPC_HDR_LEN)
		return MOAT_ERR_SHORT;
	len = ((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) |
	    ((uint32_t)d[2] << 8) | d[3];
	if (len > IPC_MAX_PAYLOAD)
		return MOAT_ERR_TOO_LONG;
	if ((size_t)len != n - IPC_HDR_LEN)
		return MOAT_ERR_PROTOCOL;
	if (d[6] != 0 || d[7] != 0)
		return MOAT_ERR_INVALID;
	*type = (uint16_t)((d[4] << 8) | d[5]);
	*payload = d + IPC_HDR_LEN;
	*plen = len;
	return 0;
}

static void
close_received_fds(struct msghdr *mh)
{
	struct cmsghdr *c;
	size_t i, nfd;
	int fd;

	for (c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfd; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

int
ipc_recv(int sock, struct ipc_msg *m, int allow_fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *c;
	const uint8_t *payload;
	size_t plen, nfd;
	uint8_t *d;
	ssize_t r;
	int rv, fd = -1;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
#ifdef MOAT_INPROCESS
	if (ipc_inproc_owns(sock))
		return ipc_inproc_recv(sock, m, allow_fd);
#endif
	/* Learn the datagram's size first so the allocation fits it. */
	do {
		r = recv(sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MOAT_ERR_AGAIN;
		return errno == ECONNRESET ? MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
	}
	if ((size_t)r > IPC_HDR_LEN + IPC_MAX_PAYLOAD)
		r = IPC_HDR_LEN + IPC_MAX_PAYLOAD + 1;	/* recvmsg reports MSG_TRUNC */
	if ((d = malloc((size_t)r + 1)) == NULL)
		return MOAT_ERR_NOMEM;
	iov.iov_base = d;
	iov.iov_len = (size_t)r + 1;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cm.buf;
	mh.msg_controllen = sizeof(cm.buf);
	do {
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		free(d);
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MOAT_ERR_AGAIN;
		return errno == ECONNRESET ? MOAT_ERR_EOF : MOAT_ERR_SYSTEM;
	}
	if (r == 0) {
		free(d);
		return MOAT_ERR_EOF;
	}
	if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
		close_received_fds(&mh);
		free(d);
		return (mh.msg_flags & MSG_CTRUNC) ? MOAT_ERR_FD : MOAT_ERR_TOO_LONG;
	}
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    fd != -1) {
			close_received_fds(&mh);
			free(d);
			return MOAT_ERR_FD;
		}
		nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd != 1) {
			close_received_fds(&mh);
			free(d);
			return MOAT_ERR_FD;
		}
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	}
	if (fd != -1 && !allow_fd) {
		close(fd);
		free(d);
		return MOAT_ERR_FD;
	}
	if ((rv = ipc_parse(d, (size_t)r, &m->type, &payload, &plen)) != 0) {
		if (fd != -1)
			close(fd);
		free(d);
		return rv;
	}
	m->raw = d;
	m->fd = fd;
	buf_view(&m->payload, payload, plen);
	return 0;
}

void
ipc_msg_clear(struct ipc_msg *m)
{
	if (m->fd != -1)
		close(m->fd);
	if (m->raw != NULL) {
		explicit_bzero(m->raw, IPC_HDR_LEN + buf_len(&m->payload));
		free(m->raw);
	}
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

int
ipc_msg_take_fd(struct ipc_msg *m)
{
	int fd = m->fd;

	m->fd = -1;
	return fd;
}

const char *
ipc_type_name(unsigned type)
{
	switch (type) {
	case IPC_MON_NET_INIT: return "MON_NET_INIT";
	case IPC_MON_AUTH_RESULT: return "MON_AUTH_RESULT";
	case IPC_MON_SESSION_CHANNEL: return "MON_SESSION_CHANNEL";
	case IPC_MON_RSA_RESULT: return "MON_RSA_RESULT";
	case IPC_MON_AUTH_PROMPT: return "MON_AUTH_PROMPT";
	case IPC_MON_SASL_REPLY: return "MON_SASL_REPLY";
	case IPC_NET_LOG: return "NET_LOG";
	case IPC_NET_SECURITY: return "NET_SECURITY";
	case IPC_NET_AUTH_PASSWORD: return "NET_AUTH_PASSWORD";
	case IPC_NET_AUTH_ANSWER: return "NET_AUTH_ANSWER";
	case IPC_NET_AUTH_CONVERSE: return "NET_AUTH_CONVERSE";
	case IPC_NET_SASL_START: return "NET_SASL_START";
	case IPC_NET_SASL_STEP: return "NET_SASL_STEP";
	case IPC_NET_CLOSING: return "NET_CLOSING";
	case IPC_NET_RSA_DECRYPT: return "NET_RSA_DECRYPT";
	case IPC_MON_ATTACH_SESSION: return "MON_ATTACH_SESSION";
	case IPC_LIS_ATTACH_RESULT: return "LIS_ATTACH_RESULT";
	case IPC_MON_AUTH_OUTCOME: return "MON_AUTH_OUTCOME";
	case IPC_MON_SESSION_INFO: return "MON_SESSION_INFO";
	case IPC_LIS_DISCONNECT: return "LIS_DISCONNECT";
	case IPC_NET_CLIENT_INIT: return "NET_CLIENT_INIT";
	case IPC_MON_SHARING: return "MON_SHARING";
	case IPC_LIS_TAKEN_OVER: return "LIS_TAKEN_OVER";
	case IPC_MON_QUERY: return "MON_QUERY";
	case IPC_LIS_QUERY_RESULT: return "LIS_QUERY_RESULT";
	case IPC_MON_AUDIT: return "MON_AUDIT";
	case IPC_LIS_AUDIT_DONE: return "LIS_AUDIT_DONE";
	case IPC_CTL_REQUEST: return "CTL_REQUEST";
	case IPC_CTL_SESSION: return "CTL_SESSION";
	case IPC_CTL_BLACKLIST_ENTRY: return "CTL_BLACKLIST_ENTRY";
	case IPC_CTL_REPLY: return "CTL_REPLY";
	case IPC_SESS_REGISTER: return "SESS_REGISTER";
	case IPC_SESS_CHANNEL_OPEN: return "SESS_CHANNEL_OPEN";
	case IPC_SESS_QUERY: return "SESS_QUERY";
	case IPC_SESS_QUERY_RESULT: return "SESS_QUERY_RESULT";
	case IPC_CAP_FRAMEBUFFER: return "CAP_FRAMEBUFFER";
	case IPC_CAP_UPDATE_REQUEST: return "CAP_UPDATE_REQUEST";
	case IPC_CAP_DAMAGE: return "CAP_DAMAGE";
	case IPC_CAP_KEY: return "CAP_KEY";
	case IPC_CAP_POINTER: return "CAP_POINTER";
	case IPC_CAP_CLIPBOARD: return "CAP_CLIPBOARD";
	case IPC_CAP_CURSOR: return "CAP_CURSOR";
	case IPC_CAP_RESIZE: return "CAP_RESIZE";
	case IPC_CAP_RESIZE_RESULT: return "CAP_RESIZE_RESULT";
	}
	return "UNKNOWN";
}
