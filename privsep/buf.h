/*
 * buf.h - bounded byte buffer used by every parser and every message writer.
 *
 * Runs in every process. A buffer has a hard maximum size fixed at creation;
 * every put fails with MOAT_ERR_TOO_LONG rather than grow past it. Getters
 * read big-endian integers, return 0 or a negative MOAT_ERR_* and never
 * consume partially: on error the read position is unchanged.
 */
#ifndef MOAT_BUF_H
#define MOAT_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	uint8_t *data;		/* storage (owned unless view) */
	size_t off;		/* read position */
	size_t len;		/* end of valid data */
	size_t cap;		/* allocated size */
	size_t max;		/* hard limit on len */
	int view;		/* 1: data is borrowed and read-only */
	int fixed;		/* 1: data is caller storage of size cap; never reallocated */
};

/* Initialises an empty owned buffer that may hold at most max bytes; allocates lazily. */
void buf_init(struct buf *b, size_t max);
/* Initialises an empty buffer writing into caller storage of size n (no allocation). */
void buf_init_fixed(struct buf *b, void *storage, size_t n);
/* Initialises a read-only view of len bytes at p; the caller keeps p alive. */
void buf_view(struct buf *b, const void *p, size_t len);
/* Wipes and frees an owned buffer's storage and leaves it empty (still usable). */
void buf_free(struct buf *b);
/* Discards all content but keeps the storage; wipes consumed bytes. */
void buf_reset(struct buf *b);

/* Returns the number of unread bytes. */
size_t buf_len(const struct buf *b);
/* Returns a pointer to the first unread byte (valid until the next put). */
const uint8_t *buf_ptr(const struct buf *b);
/* Consumes n unread bytes; MOAT_ERR_SHORT if fewer are present. */
int buf_consume(struct buf *b, size_t n);
/* Moves unread bytes to the front of the storage so puts have room again. */
void buf_compact(struct buf *b);
/* Returns 0 if every byte was consumed, MOAT_ERR_TRAILING otherwise. */
int buf_expect_end(const struct buf *b);

int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u16(struct buf *b, uint16_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_s32(struct buf *b, int32_t *v);
/* Copies exactly n bytes into out. */
int buf_get_bytes(struct buf *b, void *out, size_t n);
/* Peeks at n bytes without consuming them; *p points into the buffer. */
int buf_peek(const struct buf *b, size_t n, const uint8_t **p);
/*
 * Reads a u32 length then that many bytes, which may not exceed maxlen.
 * *out is a fresh NUL-terminated copy (caller frees); embedded NULs are
 * rejected with MOAT_ERR_INVALID. *lenp (may be NULL) gets the length.
 */
int buf_get_cstring(struct buf *b, char **out, size_t *lenp, size_t maxlen);
/* Reads a u32 length then that many bytes (at most maxlen) without copying. */
int buf_get_string_direct(struct buf *b, const uint8_t **p, size_t *lenp, size_t maxlen);

int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u16(struct buf *b, uint16_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_s32(struct buf *b, int32_t v);
int buf_put_bytes(struct buf *b, const void *p, size_t n);
/* Writes a u32 length followed by n bytes. */
int buf_put_string(struct buf *b, const void *p, size_t n);
/* Writes a u32 length followed by the bytes of NUL-terminated s. */
int buf_put_cstring(struct buf *b, const char *s);
/* Reserves n writable bytes at the end; *p points at them. */
int buf_reserve(struct buf *b, size_t n, uint8_t **p);

#endif
