/*
 * ipc_resize.h - the payload codec of the two desktop-resize messages of
 * a moat-session channel (ipc_types.h): IPC_CAP_RESIZE (moat-net ->
 * moat-session, a viewer's SetDesktopSize) and IPC_CAP_RESIZE_RESULT
 * (moat-session -> moat-net, its answer or another viewer's change).
 *
 * Runs in moat-net and moat-session; the decoders trust none of the bytes
 * they read. They follow the contract of ipc_msg.h: a get zeroes *m first,
 * reads exactly the payload (trailing bytes: MOAT_ERR_TRAILING), bounds the
 * screen count before reading screens (MOAT_ERR_TOO_LONG), validates every
 * value once the payload parsed (MOAT_ERR_INVALID), and on failure leaves
 * *m zeroed and the buffer's read position unchanged; on success the
 * buffer is empty. A put applies the same checks and appends nothing
 * unless the whole message is valid. A send encodes into storage of its
 * own and sends it without a descriptor.
 */
#ifndef MOAT_IPC_RESIZE_H
#define MOAT_IPC_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ipc_types.h"

/* The longest IPC_CAP_RESIZE payload. */
#define IPC_RESIZE_MAX_PAYLOAD	(5u + 16u * IPC_MAX_SCREENS)

/* One screen of a layout, as rfbproto's SCREEN. */
struct ipc_screen {
	uint32_t id;
	uint16_t x, y, w, h;
	uint32_t flags;
};

/*
 * IPC_CAP_RESIZE (moat-net -> moat-session). Valid: width and height
 * 1..IPC_MAX_DESKTOP_DIM, n 1..IPC_MAX_SCREENS, every screen nonempty and
 * inside width x height, no two screens with the same id.
 */
struct ipc_cap_resize {
	uint16_t width, height;
	uint8_t n;
	struct ipc_screen screens[IPC_MAX_SCREENS];
};

/*
 * IPC_CAP_RESIZE_RESULT (moat-session -> moat-net). Valid: reason
 * IPC_RESIZE_BY_THIS with any IPC_RESIZE_* status, or IPC_RESIZE_BY_OTHER
 * with IPC_RESIZE_OK; width and height 1..IPC_MAX_DESKTOP_DIM.
 */
struct ipc_cap_resize_result {
	uint8_t reason;
	uint8_t status;
	uint16_t width, height;
};

/* Returns 0 if l is a valid layout (see struct ipc_cap_resize), MOAT_ERR_INVALID if not. */
int ipc_resize_layout_check(const struct ipc_cap_resize *l);
/* Returns the name of an IPC_RESIZE_* status for logs ("?" for any other value). */
const char *ipc_resize_status_name(unsigned status);

int ipc_msg_put_cap_resize(struct buf *b, const struct ipc_cap_resize *m);
int ipc_msg_get_cap_resize(struct buf *b, struct ipc_cap_resize *m);
int ipc_msg_send_cap_resize(int sock, const struct ipc_cap_resize *m);

int ipc_msg_put_cap_resize_result(struct buf *b,
    const struct ipc_cap_resize_result *m);
int ipc_msg_get_cap_resize_result(struct buf *b,
    struct ipc_cap_resize_result *m);
int ipc_msg_send_cap_resize_result(int sock,
    const struct ipc_cap_resize_result *m);

#endif
