/*
 * rfb_types.h - RFB wire constants and the decoded forms moat-net works
 * with. Pure definitions; used by moat-net's parsers and encoders.
 */
#ifndef MOAT_RFB_TYPES_H
#define MOAT_RFB_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Client -> server message types */
#define RFB_SET_PIXEL_FORMAT		0
#define RFB_SET_ENCODINGS		2
#define RFB_FB_UPDATE_REQUEST		3
#define RFB_KEY_EVENT			4
#define RFB_POINTER_EVENT		5
#define RFB_CLIENT_CUT_TEXT		6
#define RFB_ENABLE_CONTINUOUS_UPDATES	150
#define RFB_CLIENT_FENCE		248
#define RFB_SET_DESKTOP_SIZE		251
#define RFB_QEMU_CLIENT			255

/* Server -> client message types */
#define RFB_FB_UPDATE			0
#define RFB_BELL			2
#define RFB_SERVER_CUT_TEXT		3
#define RFB_END_OF_CU			150	/* EndOfContinuousUpdates */
#define RFB_SERVER_FENCE		248

/* Fence flags (ClientFence / ServerFence) */
#define RFB_FENCE_BLOCK_BEFORE		0x00000001U
#define RFB_FENCE_BLOCK_AFTER		0x00000002U
#define RFB_FENCE_SYNC_NEXT		0x00000004U
#define RFB_FENCE_REQUEST		0x80000000U
#define RFB_FENCE_SUPPORTED		(RFB_FENCE_BLOCK_BEFORE | \
    RFB_FENCE_BLOCK_AFTER | RFB_FENCE_SYNC_NEXT)

/* Encodings and pseudo-encodings */
#define RFB_ENC_RAW			0
#define RFB_ENC_COPYRECT		1
#define RFB_ENC_HEXTILE			5
#define RFB_ENC_ZLIB			6
#define RFB_ENC_TIGHT			7
#define RFB_ENC_TRLE			15
#define RFB_ENC_ZRLE			16
#define RFB_ENC_QUALITY_0		(-32)	/* .. -23: JPEG quality level 0..9 */
#define RFB_ENC_QUALITY_9		(-23)
#define RFB_ENC_COMPRESS_0		(-256)	/* .. -247: compression level 0..9 */
#define RFB_ENC_COMPRESS_9		(-247)
#define RFB_ENC_FINE_QUALITY_0		(-512)	/* .. -412: JPEG quality 0..100 */
#define RFB_ENC_FINE_QUALITY_100	(-412)
#define RFB_ENC_SUBSAMP_1X		(-768)	/* .. -763: JPEG subsampling */
#define RFB_ENC_SUBSAMP_16X		(-763)
#define RFB_ENC_CURSOR			(-239)
#define RFB_ENC_DESKTOP_SIZE		(-223)
#define RFB_ENC_LAST_RECT		(-224)
#define RFB_ENC_DESKTOP_NAME		(-307)
#define RFB_ENC_EXT_DESKTOP_SIZE	(-308)
#define RFB_ENC_QEMU_EXT_KEY		(-258)
#define RFB_ENC_FENCE			(-312)
#define RFB_ENC_CONTINUOUS_UPDATES	(-313)
#define RFB_ENC_EXT_CLIPBOARD		((int32_t)0xC0A1E5CEU)

/* Security types and VeNCrypt subtypes */
#define RFB_SEC_INVALID			0
#define RFB_SEC_VENCRYPT		19
#define RFB_VENCRYPT_X509PLAIN		262

/* Limits moat-net applies before buffering */
#define RFB_MAX_ENCODINGS		1024	/* more in one SetEncodings closes the client */
#define RFB_KEEP_ENCODINGS		64	/* entries kept; the rest are read and ignored */
#define RFB_MAX_SCREENS			16	/* SetDesktopSize screens */
#define RFB_MAX_FENCE			64	/* fence payload, per the specification */

struct rfb_pixfmt {
	uint8_t bpp;		/* 8, 16 or 32 */
	uint8_t depth;
	uint8_t big_endian;
	uint8_t true_colour;
	uint16_t red_max, green_max, blue_max;
	uint8_t red_shift, green_shift, blue_shift;
};

/* One decoded client message (normal phase). Pointers point into the input buffer
 * and are valid until it is next consumed or compacted. */
struct rfb_client_msg {
	uint8_t type;
	union {
		struct rfb_pixfmt pixfmt;
		struct {
			uint16_t count;			/* as sent */
			uint16_t kept;			/* entries stored below */
			int32_t enc[RFB_KEEP_ENCODINGS];
		} encodings;
		struct {
			uint8_t incremental;
			uint16_t x, y, w, h;
		} update;
		struct {
			uint8_t down;
			uint32_t keysym;
		} key;
		struct {
			uint8_t mask;
			uint16_t x, y;
		} pointer;
		struct {
			const uint8_t *text;	/* extended: flags + data */
			size_t len;
			uint8_t extended;	/* ExtendedClipboard form */
		} cut;
		struct {
			uint8_t enable;
			uint16_t x, y, w, h;
		} cu;
		struct {
			uint32_t flags;
			uint8_t len;
			const uint8_t *payload;
		} fence;
		struct {
			uint16_t w, h;
			uint8_t nscreens;
		} desktop_size;
		struct {
			uint8_t subtype;	/* 0: extended key event */
			uint16_t down;
			uint32_t keysym;
			uint32_t keycode;
		} qemu;
	} u;
};

/* The layout of the framebuffer moat-session shares (32 bpp, host byte order). */
struct fb_format {
	uint32_t red_mask, green_mask, blue_mask;
};

struct fb_view {
	const uint8_t *data;	/* read-only mapping of the memfd */
	uint32_t stride;	/* bytes per row */
	uint16_t width, height;
	struct fb_format fmt;
};

#endif
