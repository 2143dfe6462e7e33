/*
 * script.h - moat-viewer's input scripts (--script FILE): one command a
 * line, replayed after the first full framebuffer update:
 *   key NAME        press and release a key (X keysym name or 0xHEX)
 *   type TEXT       type printable ASCII text, key by key
 *   move X Y        move the pointer
 *   click N         press and release pointer button N (1..8)
 *   wait-update [S] wait up to S seconds (default 10) for the next update
 * Blank lines and lines starting with '#' are ignored. Runs in moat-viewer;
 * the file is the user's, still parsed with bounded lines and values.
 */
#ifndef MOAT_VIEWER_SCRIPT_H
#define MOAT_VIEWER_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "viewer/rfb_client.h"

#define VIEWER_SCRIPT_MAX_LINE	1024
#define VIEWER_SCRIPT_MAX_CMDS	4096

enum viewer_cmd_type { CMD_KEY, CMD_TYPE, CMD_MOVE, CMD_CLICK, CMD_WAIT };

struct viewer_cmd {
	enum viewer_cmd_type type;
	uint32_t keysym;		/* CMD_KEY */
	char *text;			/* CMD_TYPE */
	int x, y;			/* CMD_MOVE; x = button or seconds */
	unsigned line;
};

struct viewer_script {
	struct viewer_cmd *cmds;
	size_t n;
};

/*
 * Parses the script at path into *sc. Returns 0, or MOAT_ERR_INVALID /
 * MOAT_ERR_TOO_LONG / MOAT_ERR_SYSTEM after printing file, line and cause.
 */
int viewer_script_load(const char *path, struct viewer_script *sc);
/* Frees what viewer_script_load() allocated. */
void viewer_script_free(struct viewer_script *sc);
/*
 * Replays every command over the session. Returns 0, MOAT_ERR_AGAIN when
 * a wait-update timed out, or the session's error.
 */
int viewer_script_run(const struct viewer_script *sc, struct viewer_rfb *s);

#endif
