/*
 * ipc.h - moat's one IPC framing: u32 length | u16 type | u16 flags | payload,
 * over SOCK_SEQPACKET socketpairs (one message per datagram), with at most
 * one descriptor per message passed by SCM_RIGHTS.
 *
 * Runs in every process. The receiver trusts nothing: the length must match
 * the datagram, flags must be zero, the payload must be at most
 * IPC_MAX_PAYLOAD, and a descriptor arriving where none was allowed, or
 * truncated control data, is an error (MOAT_ERR_FD) and the fd is closed.
 */
#ifndef MOAT_IPC_H
#define MOAT_IPC_H

#include <stdint.h>

#include "buf.h"
#include "ipc_types.h"

#define IPC_HDR_LEN 8

struct ipc_msg {
	uint16_t type;
	struct buf payload;	/* read-only parse position over the payload */
	int fd;			/* received descriptor or -1 */
	uint8_t *raw;		/* owned datagram storage */
};

/* Creates a SOCK_SEQPACKET|SOCK_CLOEXEC socketpair sized for IPC_MAX_PAYLOAD. */
int ipc_socketpair(int sv[2]);
/* Sets the socket buffer sizes of an existing IPC socket; returns 0 or MOAT_ERR_SYSTEM. */
int ipc_tune_socket(int fd);

/* Sends one message; fd is -1 for none. Returns 0 or a negative MOAT_ERR_*. */
int ipc_send(int sock, uint16_t type, const struct buf *payload, int fd);
/* Same with a raw payload pointer. */
int ipc_send_raw(int sock, uint16_t type, const void *p, size_t n, int fd);
/*
 * Receives one message (blocking unless the socket is non-blocking, then
 * MOAT_ERR_AGAIN). If allow_fd is 0 any received descriptor is closed and
 * MOAT_ERR_FD returned. Returns MOAT_ERR_EOF when the peer closed.
 */
int ipc_recv(int sock, struct ipc_msg *m, int allow_fd);
/* Parses one datagram already read into memory (used by ipc_recv and the fuzzer). */
int ipc_parse(const uint8_t *dgram, size_t n, uint16_t *type, const uint8_t **payload, size_t *plen);
/* Frees the message storage and closes an fd still owned by it. */
void ipc_msg_clear(struct ipc_msg *m);
/* Takes ownership of the message's fd (returns it, leaves -1 behind). */
int ipc_msg_take_fd(struct ipc_msg *m);

#endif
