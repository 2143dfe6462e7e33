/*
 * rfb_client.h - moat-viewer's RFB session after the security handshake:
 * ClientInit/ServerInit, the pixel format and encodings it asks for, the
 * server messages it accepts (FramebufferUpdate with Raw, CopyRect, ZRLE,
 * DesktopSize and LastRect; Bell; ServerCutText, discarded) and the input
 * messages it sends. Runs in moat-viewer; every length from the server is
 * bounded before it is buffered or used.
 */
#ifndef MOAT_VIEWER_RFB_CLIENT_H
#define MOAT_VIEWER_RFB_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "viewer/viewer.h"

#define VIEWER_MAX_DIM		16384		/* framebuffer width or height */
#define VIEWER_MAX_PIXELS	(1u << 26)	/* width x height */
#define VIEWER_MAX_NAME		4096		/* desktop name bytes */
#define VIEWER_MAX_CUT		(1u << 24)	/* cut text bytes (read, discarded) */
#define VIEWER_MAX_ZRLE		(1u << 26)	/* compressed bytes of one ZRLE rectangle */

/* The encodings the viewer asks for (--encoding). */
enum viewer_enc { VIEWER_ENC_ZRLE, VIEWER_ENC_RAW };

struct viewer_rfb {
	struct viewer_conn *c;
	int view_only;			/* --view-only: send no key or pointer event */
	uint16_t w, h;
	uint32_t *fb;			/* w x h pixels, 0x00RRGGBB */
	uint8_t *painted;		/* 1 per pixel painted at least once */
	size_t unpainted;		/* pixels not painted yet */
	char name[VIEWER_MAX_NAME + 1];	/* desktop name, control bytes replaced */
	z_stream zs;			/* ZRLE: one stream per connection */
	int zinit;
	uint8_t *zin;			/* compressed data of the current rectangle */
	uint8_t zout[16384];		/* inflated bytes not yet parsed */
	size_t zoff, zlen;
	uint8_t buttons;		/* pointer buttons held */
	uint16_t px, py;		/* pointer position */
	unsigned long updates;		/* FramebufferUpdates completed */
	unsigned long rects[3];		/* Raw, CopyRect, ZRLE rectangles seen */
};

/*
 * Sends ClientInit (shared), reads ServerInit (dimensions and name
 * bounded), allocates the framebuffer, sends SetPixelFormat (32 bpp
 * 0x00RRGGBB little-endian), SetEncodings (enc, then CopyRect, Raw,
 * DesktopSize, LastRect) and a full FramebufferUpdateRequest. Returns 0 or
 * a negative MOAT_ERR_* (a message was printed).
 */
int viewer_rfb_start(struct viewer_rfb *s, struct viewer_conn *c,
    enum viewer_enc enc);
/* Frees the framebuffer and the ZRLE stream. */
void viewer_rfb_free(struct viewer_rfb *s);

/*
 * Reads and applies one server message. *update is set to 1 when it was a
 * FramebufferUpdate (all its rectangles applied), and an incremental
 * update request has then been sent. Returns 0, or a negative MOAT_ERR_*
 * for a broken connection or a protocol violation (a message was printed).
 */
int viewer_rfb_read(struct viewer_rfb *s, int *update);
/*
 * Returns 1 if a server message can be read without blocking (buffered
 * or readable within timeout_ms), 0 if none came, negative on error.
 */
int viewer_rfb_wait(struct viewer_rfb *s, int timeout_ms);

/* Sends a FramebufferUpdateRequest for the whole screen. Returns 0 or negative. */
int viewer_rfb_request(struct viewer_rfb *s, int incremental);
/* Sends a KeyEvent. Returns 0 or negative. */
int viewer_rfb_key(struct viewer_rfb *s, uint32_t keysym, int down);
/* Sends a PointerEvent at x, y (clamped to the screen) with buttons mask. Returns 0 or negative. */
int viewer_rfb_pointer(struct viewer_rfb *s, int x, int y, uint8_t mask);

#endif
