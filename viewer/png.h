/*
 * png.h - writes a framebuffer as an 8-bit RGB PNG (zlib-compressed, one
 * IDAT per 1 MiB of compressed data). Runs in moat-viewer; its input is the
 * viewer's own framebuffer.
 */
#ifndef MOAT_VIEWER_PNG_H
#define MOAT_VIEWER_PNG_H

#include <stdint.h>

/*
 * Writes the w x h pixels (0x00RRGGBB) at px to path, through a temporary
 * file renamed into place. Returns 0, MOAT_ERR_SYSTEM (errno set),
 * MOAT_ERR_NOMEM or MOAT_ERR_INVALID for a zero or oversized image.
 */
int viewer_png_write(const char *path, const uint32_t *px, unsigned w,
    unsigned h);

#endif
