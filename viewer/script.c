/*
 * script.c - moat-viewer's input scripts: parsing (bounded lines, a
 * bounded number of commands, values checked) and replay as RFB key and
 * pointer events. Runs in moat-viewer; trusts the user's script file only
 * as far as its bounds; sends nothing the protocol does not allow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <X11/Xlib.h>

#include "privsep/errors.h"
#include "viewer/script.h"
#include "privsep/clock.h"

static int
fail(const char *path, unsigned line, const char *what)
{
	viewer_err("%s:%u: %s", path, line, what);
	return MOAT_ERR_INVALID;
}

static int
parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

static int
parse_line(const char *path, unsigned ln, char *line, struct viewer_cmd *c)
{
	char *arg, *end, *y;
	unsigned long ks;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->line = ln;
	if ((arg = strchr(line, ' ')) != NULL)
		*arg++ = '\0';
	if (strcmp(line, "key") == 0) {
		c->type = CMD_KEY;
		if (arg == NULL || *arg == '\0')
			return fail(path, ln, "key needs a key name");
		if (strncmp(arg, "0x", 2) == 0) {
			errno = 0;
			ks = strtoul(arg + 2, &end, 16);
			if (errno != 0 || *end != '\0' || ks == 0 ||
			    ks > 0x1fffffff)
				return fail(path, ln, "bad keysym number");
		} else if ((ks = XStringToKeysym(arg)) == NoSymbol)
			return fail(path, ln, "unknown key name");
		c->keysym = (uint32_t)ks;
	} else if (strcmp(line, "type") == 0) {
		c->type = CMD_TYPE;
		if (arg == NULL || *arg == '\0')
			return fail(path, ln, "type needs text");
		for (i = 0; arg[i] != '\0'; i++)
			if ((unsigned char)arg[i] < 0x20 ||
			    (unsigned char)arg[i] > 0x7e)
				return fail(path, ln, "type takes printable ASCII only");
		if ((c->text = strdup(arg)) == NULL)
			return MOAT_ERR_NOMEM;
	} else if (strcmp(line, "move") == 0) {
		c->type = CMD_MOVE;
		if (arg == NULL || (y = strchr(arg, ' ')) == NULL)
			return fail(path, ln, "move needs X and Y");
		*y++ = '\0';
		if (parse_int(arg, 0, 65535, &c->x) != 0 ||
		    parse_int(y, 0, 65535, &c->y) != 0)
			return fail(path, ln, "move: X and Y are 0..65535");
	} else if (strcmp(line, "click") == 0) {
		c->type = CMD_CLICK;
		if (arg == NULL || parse_int(arg, 1, 8, &c->x) != 0)
			return fail(path, ln, "click needs a button 1..8");
	} else if (strcmp(line, "wait-update") == 0) {
		c->type = CMD_WAIT;
		c->x = 10;
		if (arg != NULL && parse_int(arg, 1, 3600, &c->x) != 0)
			return fail(path, ln, "wait-update: seconds are 1..3600");
	} else
		return fail(path, ln, "unknown command (key, type, move, "
		    "click, wait-update)");
	return 0;
}

int
viewer_script_load(const char *path, struct viewer_script *sc)
{
	char line[VIEWER_SCRIPT_MAX_LINE + 2];
	unsigned ln = 0;
	size_t len;
	FILE *f;
	int r = 0;

	memset(sc, 0, sizeof(*sc));
	if ((f = fopen(path, "r")) == NULL) {
		viewer_err("%s: %s", path, strerror(errno));
		return MOAT_ERR_SYSTEM;
	}
	sc->cmds = calloc(VIEWER_SCRIPT_MAX_CMDS, sizeof(*sc->cmds));
	if (sc->cmds == NULL) {
		fclose(f);
		return MOAT_ERR_NOMEM;
	}
	while (r == 0 && fgets(line, sizeof(line), f) != NULL) {
		ln++;
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		else if (!feof(f)) {
			r = fail(path, ln, "line too long");
			break;
		}
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		if (sc->n == VIEWER_SCRIPT_MAX_CMDS) {
			r = fail(path, ln, "too many commands");
			break;
		}
		if ((r = parse_line(path, ln, line, &sc->cmds[sc->n])) == 0)
			sc->n++;
	}
	if (r == 0 && ferror(f)) {
		viewer_err("%s: read error", path);
		r = MOAT_ERR_SYSTEM;
	}
	fclose(f);
	if (r != 0)
		viewer_script_free(sc);
	return r;
}

void
viewer_script_free(struct viewer_script *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		free(sc->cmds[i].text);
	free(sc->cmds);
	sc->cmds = NULL;
	sc->n = 0;
}

static int
tap(struct viewer_rfb *s, uint32_t ks)
{
	int r;

	if ((r = viewer_rfb_key(s, ks, 1)) != 0)
		return r;
	return viewer_rfb_key(s, ks, 0);
}

/* Reads server messages until an update arrives or seconds pass. */
static int
wait_update(struct viewer_rfb *s, int seconds)
{
	long end = moat_monotonic_ms() + 1000L * seconds, left;
	int r, got;

	while ((left = end - moat_monotonic_ms()) > 0) {
		if ((r = viewer_rfb_wait(s, (int)left)) < 0)
			return r;
		if (r == 0)
			break;
		if ((r = viewer_rfb_read(s, &got)) != 0)
			return r;
		if (got)
			return 0;
	}
	return MOAT_ERR_AGAIN;
}

int
viewer_script_run(const struct viewer_script *sc, struct viewer_rfb *s)
{
	const struct viewer_cmd *c;
	uint8_t bit;
	size_t i, k;
	int r = 0;

	for (i = 0; i < sc->n && r == 0; i++) {
		c = &sc->cmds[i];
		switch (c->type) {
		case CMD_KEY:
			r = tap(s, c->keysym);
			break;
		case CMD_TYPE:
			for (k = 0; c->text[k] != '\0' && r == 0; k++)
				r = tap(s, (uint8_t)c->text[k]);
			break;
		case CMD_MOVE:
			r = viewer_rfb_pointer(s, c->x, c->y, s->buttons);
			break;
		case CMD_CLICK:
			bit = (uint8_t)(1u << (c->x - 1));
			if ((r = viewer_rfb_pointer(s, s->px, s->py,
			    s->buttons | bit)) == 0)
				r = viewer_rfb_pointer(s, s->px, s->py,
				    s->buttons & (uint8_t)~bit);
			break;
		case CMD_WAIT:
			if ((r = wait_update(s, c->x)) == MOAT_ERR_AGAIN)
				viewer_err("line %u: no update within %d s",
				    c->line, c->x);
			break;
		}
	}
	return r;
}
