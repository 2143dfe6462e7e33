/*
 * cap_channel.c - moat-session's per-viewer channels: one SOCK_SEQPACKET
 * socket to one moat-net each, handed over by moatd with the permissions
 * the monitor granted. Tracks what each channel is owed (framebuffer,
 * cursor, clipboard, damage, resize answers), answers update requests,
 * routes input and decides SetDesktopSize requests (cap_randr.c resizes).
 *
 * Runs in moat-session. Trusts moatd's permissions; trusts nothing that
 * moat-net sends: every message is decoded with exact sizes, a descriptor
 * on a channel, an unknown type or a second outstanding update or resize
 * request closes that channel (and only that one). Input outside the
 * granted permissions is dropped and logged once; a resize request without
 * the resize right is answered "prohibited", whatever moat-net forwarded.
 */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "privsep/errors.h"
#include "privsep/ipc.h"
#include "privsep/log.h"
#include "cap.h"
#include "cap_prompt.h"

/* Messages read from one channel per loop iteration (fairness). */
#define CAP_MSGS_PER_WAKEUP 64

static const char *
perm_name(unsigned perm)
{
	switch (perm) {
	case IPC_PERM_VIEW: return "screen update request";
	case IPC_PERM_KEYBOARD: return "keyboard input";
	case IPC_PERM_POINTER: return "pointer input";
	case IPC_PERM_CLIP_TO_CLIENT: return "clipboard to the viewer";
	case IPC_PERM_CLIP_TO_SERVER: return "clipboard from the viewer";
	case IPC_PERM_RESIZE: return "desktop resize";
	}
	return "?";
}

/*
 * Sends one message; returns 0 if sent, 1 if the socket is full, -1 if ch
 * was closed.
 */
static int
ch_send(struct cap *c, struct cap_channel *ch, uint16_t type, const void *p,
    size_t n, int fd)
{
	int r;

	if ((r = ipc_send_raw(ch->fd, type, p, n, fd)) == 0)
		return 0;
	if (r == MOAT_ERR_SYSTEM && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		debug_f("channel %u: socket full; resuming when it drains",
		    ch->id);
		ch->blocked = 1;
		return 1;
	}
	cap_channel_close(c, ch, r == MOAT_ERR_EOF ? "moat-net went away" :
	    "sending failed");
	return -1;
}

void
cap_channel_close(struct cap *c, struct cap_channel *ch, const char *why)
{
	if (ch->dead)
		return;
	info_f("channel %u (user %s, peer %s) closed: %s", ch->id, ch->user,
	    ch->peer, why);
	cap_input_release_all(c, ch);
	close(ch->fd);
	ch->fd = -1;
	ch->dead = 1;
}

void
cap_channels_reap(struct cap *c)
{
	unsigned i, o = 0;

	for (i = 0; i < c->nch; i++) {
		if (c->ch[i]->dead) {
			explicit_bzero(c->ch[i], sizeof(*c->ch[i]));
			free(c->ch[i]);
			continue;
		}
		c->ch[o++] = c->ch[i];
	}
	for (i = o; i < c->nch; i++)
		c->ch[i] = NULL;
	c->nch = o;
}

static void
violation(struct cap *c, struct cap_channel *ch, uint16_t type,
    const char *what)
{
	char why[160];

	if (type != 0)
		error_f("channel %u: protocol violation from moat-net: %s "
		    "(%s, type %u)", ch->id, what, ipc_type_name(type),
		    (unsigned)type);
	else
		error_f("channel %u: protocol violation from moat-net: %s",
		    ch->id, what);
	snprintf(why, sizeof(why), "protocol violation: %s", what);
	cap_channel_close(c, ch, why);
}

/* Returns 1 if ch holds perm; else logs the first refusal and returns 0. */
static int
permitted(struct cap_channel *ch, unsigned perm)
{
	if (ch->perms & perm)
		return 1;
	if (!(ch->denied_logged & perm)) {
		warn_f("channel %u (user %s): %s without permission; "
		    "dropped (logged once per channel)", ch->id, ch->user,
		    perm_name(perm));
		ch->denied_logged |= perm;
	}
	return 0;
}

/*
 * A viewer's SetDesktopSize, shape-checked by the decoder: decided from
 * ch's grant, done by cap_randr.c, answered to ch and, when the desktop
 * changed size, announced to every other viewing channel. Each request is
 * logged (the audit trail of resizes is moat-session's log).
 */
static void
on_resize(struct cap *c, struct cap_channel *ch, struct ipc_msg *m)
{
	struct ipc_cap_resize rq;
	const struct ipc_screen *s = &rq.screens[0];
	unsigned old_w = c->width, old_h = c->height, i;
	char why[256];
	uint8_t status;
	int r;

	if ((r = ipc_msg_get_cap_resize(&m->payload, &rq)) != 0) {
		violation(c, ch, m->type, moat_strerror(r));
		return;
	}
	if (ch->owe_resize) {
		violation(c, ch, m->type,
		    "second resize request while one is outstanding");
		return;
	}
	if (!(ch->perms & IPC_PERM_RESIZE)) {
		snprintf(why, sizeof(why), "the grant has no resize right");
		status = IPC_RESIZE_PROHIBITED;
	} else if (rq.n != 1 || s->x != 0 || s->y != 0 ||
	    s->w != rq.width || s->h != rq.height) {
		snprintf(why, sizeof(why), "%u screens; moat serves one screen "
		    "covering the whole desktop", rq.n);
		status = IPC_RESIZE_INVALID;
	} else if ((r = cap_randr_resize(c, rq.width, rq.height, why,
	    sizeof(why))) == 0)
		status = IPC_RESIZE_OK;
	else
		status = r == MOAT_ERR_INVALID ? IPC_RESIZE_INVALID :
		    IPC_RESIZE_NO_RESOURCES;
	log_msg(status == IPC_RESIZE_OK ? LOG_LVL_INFO : LOG_LVL_WARN, __func__,
	    "channel %u (user %s, peer %s): desktop resize from %ux%u to "
	    "%ux%u: %s (%s)", ch->id,
	    ch->user, ch->peer, old_w, old_h, rq.width, rq.height,
	    ipc_resize_status_name(status), why);
	ch->resize_reply = (struct ipc_cap_resize_result){ IPC_RESIZE_BY_THIS,
	    status, status == IPC_RESIZE_OK ? rq.width : (uint16_t)old_w,
	    status == IPC_RESIZE_OK ? rq.height : (uint16_t)old_h };
	ch->owe_resize = 1;
	if (status == IPC_RESIZE_OK &&
	    (rq.width != old_w || rq.height != old_h)) {
		for (i = 0; i < c->nch; i++) {
			struct cap_channel *o = c->ch[i];

			if (o == ch || o->dead || !(o->perms & IPC_PERM_VIEW))
				continue;
			o->resize_notice = (struct ipc_cap_resize_result){
			    IPC_RESIZE_BY_OTHER, IPC_RESIZE_OK, rq.width,
			    rq.height };
			o->owe_resize_notice = 1;
			cap_channel_flush(c, o);
		}
	}
	cap_channel_flush(c, ch);
}

static void
handle_msg(struct cap *c, struct cap_channel *ch, struct ipc_msg *m)
{
	static union ipc_msg_any u;	/* views into m's payload only */
	const struct ipc_cap_pointer *ptr = &u.cap_pointer;
	const struct ipc_view *text = &u.cap_clipboard.text;
	const struct ipc_cap_key *key = &u.cap_key;
	int r;

	switch (m->type) {
	case IPC_CAP_UPDATE_REQUEST:
		if (ipc_msg_get_cap_update_request(&m->payload) != 0) {
			violation(c, ch, m->type,
			    "payload on an update request");
			return;
		}
		if (!permitted(ch, IPC_PERM_VIEW))
			return;
		if (ch->req_pending) {
			violation(c, ch, m->type,
			    "second update request while one is outstanding");
			return;
		}
		ch->req_pending = 1;
		return;
	case IPC_CAP_RESIZE:
		on_resize(c, ch, m);
		return;
	case IPC_CAP_KEY:
	case IPC_CAP_POINTER:
	case IPC_CAP_CLIPBOARD:
		break;
	default:
		violation(c, ch, m->type,
		    "message not allowed on a capture channel");
		return;
	}
	/* Input: malformed closes the channel, unpermitted is dropped. */
	if ((r = ipc_msg_get_any(m->type, &m->payload, &u)) != 0)
		violation(c, ch, m->type, moat_strerror(r));
	else if (m->type == IPC_CAP_KEY) {
		/* An approval prompt is the desktop user's to answer. */
		if (permitted(ch, IPC_PERM_KEYBOARD) &&
		    !(key->down && cap_prompt_holds(ch->id)))
			cap_input_key(c, ch, key->down, key->keysym,
			    key->xtcode);
	} else if (m->type == IPC_CAP_POINTER) {
		/* Likewise: while it is open, buttons may only be released. */
		if (permitted(ch, IPC_PERM_POINTER))
			cap_input_pointer(c, ch, (ptr->mask & ~ch->buttons) != 0 &&
			    cap_prompt_holds(ch->id) ? ptr->mask & ch->buttons :
			    ptr->mask, ptr->x, ptr->y);
	} else if (permitted(ch, IPC_PERM_CLIP_TO_SERVER))
		cap_clip_from_client(c, text->p, text->len);
}

void
cap_channel_input(struct cap *c, struct cap_channel *ch)
{
	struct ipc_msg m;
	unsigned i;
	int r;

	for (i = 0; i < CAP_MSGS_PER_WAKEUP && !ch->dead; i++) {
		/* moat-net never passes us a descriptor: one is a violation. */
		if ((r = ipc_recv(ch->fd, &m, 0)) == MOAT_ERR_AGAIN)
			return;
		if (r == MOAT_ERR_EOF) {
			cap_channel_close(c, ch, "moat-net closed the channel");
			return;
		}
		if (r != 0) {
			violation(c, ch, 0, moat_strerror(r));
			return;
		}
		handle_msg(c, ch, &m);
		ipc_msg_clear(&m);
	}
}

int
cap_channel_owed(const struct cap_channel *ch)
{
	return ch->need_fb || ch->need_cursor || ch->need_clip ||
	    ch->owe_resize || ch->owe_resize_notice;
}

/*
 * Sends one owed resize answer; returns ch_send()'s result (-1 also when
 * the answer cannot be encoded: a desktop beyond 16384 pixels, which
 * moat-net could not serve either, closes the channel).
 */
static int
send_resize_result(struct cap *c, struct cap_channel *ch,
    const struct ipc_cap_resize_result *res)
{
	uint8_t store[16];
	struct buf b;

	buf_init_fixed(&b, store, sizeof(store));
	if (ipc_msg_put_cap_resize_result(&b, res) != 0) {
		cap_channel_close(c, ch, "desktop too large to describe");
		return -1;
	}
	return ch_send(c, ch, IPC_CAP_RESIZE_RESULT, buf_ptr(&b), buf_len(&b),
	    -1);
}

void
cap_channel_flush(struct cap *c, struct cap_channel *ch)
{
	uint8_t store[64];
	struct buf b;

	if (ch->dead)
		return;
	ch->blocked = 0;
	/* Before the framebuffer: moat-net learns why the size changes. */
	if (ch->owe_resize) {
		if (send_resize_result(c, ch, &ch->resize_reply) != 0)
			return;
		ch->owe_resize = 0;
	}
	if (ch->owe_resize_notice) {
		if (send_resize_result(c, ch, &ch->resize_notice) != 0)
			return;
		ch->owe_resize_notice = 0;
	}
	if (ch->need_fb) {
		buf_init_fixed(&b, store, sizeof(store));
		if (cap_x11_fb_payload(c, &b) != 0) {
			cap_channel_close(c, ch,
			    "cannot encode the framebuffer");
			return;
		}
		if (ch_send(c, ch, IPC_CAP_FRAMEBUFFER, buf_ptr(&b),
		    buf_len(&b), c->memfd) != 0)
			return;
		ch->need_fb = 0;
	}
	if (ch->need_cursor) {
		if (c->cursor_msg != NULL && ch_send(c, ch, IPC_CAP_CURSOR,
		    c->cursor_msg, c->cursor_len, -1) != 0)
			return;
		ch->need_cursor = 0;
	}
	if (ch->need_clip) {
		if (c->clip_msg != NULL && ch_send(c, ch, IPC_CAP_CLIPBOARD,
		    c->clip_msg, c->clip_msg_len, -1) != 0)
			return;
		ch->need_clip = 0;
	}
}

static int
answerable(const struct cap_channel *ch)
{
	return !ch->dead && ch->req_pending && !ch->need_fb &&
	    !ch->owe_resize && !ch->owe_resize_notice && !ch->blocked;
}

void
cap_channels_answer(struct cap *c)
{
	static struct cap_rects all;
	static struct ipc_cap_damage dmg;
	static uint8_t msg[6 + 8 * IPC_MAX_DAMAGE_RECTS];
	struct buf b;
	unsigned i, j;
	int want = 0;

	for (i = 0; i < c->nch; i++)
		if (answerable(c->ch[i]))
			want = 1;
	if (!want)
		return;
	if (c->damage_flag && cap_x11_fetch_damage(c) != 0)
		warn_f("fetching damage failed");
	/* Capture the union once, then tell each channel its own part. */
	cap_rects_clear(&all);
	for (i = 0; i < c->nch; i++) {
		struct cap_channel *ch = c->ch[i];

		if (!answerable(ch))
			continue;
		for (j = 0; j < ch->pending.n; j++)
			(void)cap_rects_add(&all, ch->pending.r[j].x,
			    ch->pending.r[j].y, ch->pending.r[j].w,
			    ch->pending.r[j].h, c->width, c->height);
	}
	if (all.n == 0)
		return;
	(void)cap_x11_capture(c, all.r, all.n);
	for (i = 0; i < c->nch; i++) {
		struct cap_channel *ch = c->ch[i];

		if (!answerable(ch) || ch->pending.n == 0)
			continue;
		dmg.generation = c->generation;
		dmg.n = (uint16_t)ch->pending.n;
		for (j = 0; j < ch->pending.n; j++) {
			const struct cap_rect *r = &ch->pending.r[j];

			dmg.rects[j] = (struct ipc_rect){ r->x, r->y, r->w, r->h };
		}
		buf_init_fixed(&b, msg, sizeof(msg));
		if (ipc_msg_put_cap_damage(&b, &dmg) != 0)
			fatal_f("damage encoding");
		if (ch_send(c, ch, IPC_CAP_DAMAGE, buf_ptr(&b), buf_len(&b),
		    -1) != 0)
			continue;
		ch->req_pending = 0;
		cap_rects_clear(&ch->pending);
	}
}

void
cap_channels_new_fb(struct cap *c)
{
	unsigned i;

	for (i = 0; i < c->nch; i++) {
		struct cap_channel *ch = c->ch[i];

		if (ch->dead || !(ch->perms & IPC_PERM_VIEW))
			continue;
		ch->need_fb = 1;
		cap_rects_set_full(&ch->pending, c->width, c->height);
	}
}

void
cap_channels_want_cursor(struct cap *c)
{
	unsigned i;

	for (i = 0; i < c->nch; i++)
		if (!c->ch[i]->dead && (c->ch[i]->perms & IPC_PERM_VIEW))
			c->ch[i]->need_cursor = 1;
}

void
cap_channels_want_clip(struct cap *c)
{
	unsigned i;

	for (i = 0; i < c->nch; i++)
		if (!c->ch[i]->dead &&
		    (c->ch[i]->perms & IPC_PERM_CLIP_TO_CLIENT))
			c->ch[i]->need_clip = 1;
}

int
cap_channel_open(struct cap *c, int fd, uint32_t id, uint32_t perms,
    uint32_t local, const char *user, size_t ulen, const char *peer,
    size_t plen)
{
	struct cap_channel *ch;
	socklen_t sl;
	unsigned i;
	int type = 0, domain = 0, flags;

	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) != 0 ||
	    type != SOCK_SEQPACKET) {
		error_f("channel %u: descriptor is not a SOCK_SEQPACKET "
		    "socket", id);
		close(fd);
		return MOAT_ERR_FD;
	}
	sl = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &sl) != 0 ||
	    domain != AF_UNIX) {
		error_f("channel %u: descriptor is not an AF_UNIX socket", id);
		close(fd);
		return MOAT_ERR_FD;
	}
	for (i = 0; i < c->nch; i++) {
		if (!c->ch[i]->dead && c->ch[i]->id == id) {
			error_f("channel %u is already open", id);
			close(fd);
			return MOAT_ERR_INVALID;
		}
	}
	if (c->nch >= CAP_MAX_CHANNELS) {
		error_f("channel %u refused: %u channels already open", id,
		    CAP_MAX_CHANNELS);
		close(fd);
		return MOAT_ERR_TOO_LONG;
	}
	if ((flags = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, flags | O_NONBLOCK) == -1 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		error_f("channel %u: fcntl: %s", id, strerror(errno));
		close(fd);
		return MOAT_ERR_SYSTEM;
	}
	if (ipc_tune_socket(fd) != 0)
		debug_f("channel %u: cannot resize socket buffers", id);
	if ((ch = calloc(1, sizeof(*ch))) == NULL) {
		close(fd);
		return MOAT_ERR_NOMEM;
	}
	ch->fd = fd;
	ch->id = id;
	ch->perms = perms;
	ch->local = local;
	log_escape(ch->user, sizeof(ch->user), user, ulen);
	log_escape(ch->peer, sizeof(ch->peer), peer, plen);
	if (perms & IPC_PERM_VIEW) {
		ch->need_fb = 1;
		ch->need_cursor = c->cursor_msg != NULL;
		cap_rects_set_full(&ch->pending, c->width, c->height);
	}
	c->ch[c->nch++] = ch;
	info_f("channel %u opened for user %s from %s; permissions%s%s%s%s%s%s",
	    id, ch->user, ch->peer,
	    (perms & IPC_PERM_VIEW) ? " view" : "",
	    (perms & IPC_PERM_KEYBOARD) ? " keyboard" : "",
	    (perms & IPC_PERM_POINTER) ? " pointer" : "",
	    (perms & IPC_PERM_CLIP_TO_CLIENT) ? " clip-to-viewer" : "",
	    (perms & IPC_PERM_CLIP_TO_SERVER) ? " clip-to-desktop" : "",
	    (perms & IPC_PERM_RESIZE) ? " resize" : "");
	cap_channel_flush(c, ch);
	return 0;
}
