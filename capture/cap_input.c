/*
 * cap_input.c - moat-session's input injection with XTest: keysyms from a
 * viewer become key presses on a keycode of the current keymap (with Shift
 * pressed or released around the key when its level needs it), keysyms the
 * keymap lacks are bound to a spare keycode for as long as needed, pointer
 * positions are clamped to the screen, buttons 1-7 follow the mask. A QEMU
 * extended key event's XT keycode is typed as that physical key instead
 * (the desktop's layout decides what it types) when the keymap uses evdev
 * keycodes and the key is on it (cap_xtkeys.h); otherwise its keysym is.
 * Every key and button a channel holds is released when it closes.
 *
 * Runs in moat-session. The caller has already checked the channel's
 * permission (granted by moatd); the values themselves come from moat-net
 * and are re-validated here: keysym ranges, keycodes, coordinates, button
 * bits.
 */
#include <stdlib.h>
#include <string.h>

#include <X11/XKBlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>

#include "privsep/errors.h"
#include "privsep/log.h"
#include "cap.h"
#include "cap_xtkeys.h"

#define XK_Shift_L_VALUE	0xffe1

enum level_need {
	NEED_ANY = 0,		/* on both levels, or a modifier key */
	NEED_UNSHIFTED = 1,
	NEED_SHIFTED = 2,
};

static KeySym
km_col(struct cap *c, int kc, int col)
{
	if (c->keymap == NULL || kc < c->min_keycode || kc > c->max_keycode ||
	    col >= c->kpk)
		return NoSymbol;
	return c->keymap[(size_t)(kc - c->min_keycode) * (size_t)c->kpk +
	    (size_t)col];
}

/* The keysyms of levels 1 and 2 of group 1, by the core protocol's rules. */
static void
km_levels(struct cap *c, int kc, KeySym *l0, KeySym *l1)
{
	KeySym lower, upper;

	*l0 = km_col(c, kc, 0);
	*l1 = km_col(c, kc, 1);
	if (*l1 == NoSymbol && *l0 != NoSymbol) {
		XConvertCase(*l0, &lower, &upper);
		if (lower != upper) {
			*l0 = lower;
			*l1 = upper;
		} else
			*l1 = *l0;
	}
}

static int
km_empty(struct cap *c, int kc)
{
	int col;

	for (col = 0; col < c->kpk; col++)
		if (km_col(c, kc, col) != NoSymbol)
			return 0;
	return 1;
}

static int
slot_has_keycode(struct cap *c, int kc)
{
	unsigned i;

	for (i = 0; i < CAP_REMAP_SLOTS; i++)
		if (c->remap[i].keycode == kc)
			return 1;
	return 0;
}

/* Keeps the spare-keycode slots consistent with a (re)loaded keymap. */
static void
remap_refresh(struct cap *c)
{
	unsigned i;
	int kc;

	for (i = 0; i < CAP_REMAP_SLOTS; i++) {
		struct cap_remap *s = &c->remap[i];

		if (s->keycode == 0)
			continue;
		if (s->keysym != 0 && km_col(c, s->keycode, 0) == s->keysym)
			continue;
		if (km_empty(c, s->keycode)) {
			s->keysym = 0;
			continue;
		}
		/* Someone else bound it meanwhile: give it up. */
		if (s->users == 0)
			memset(s, 0, sizeof(*s));
	}
	for (kc = c->max_keycode; kc >= c->min_keycode && kc > 8; kc--) {
		if (!km_empty(c, kc) || slot_has_keycode(c, kc))
			continue;
		for (i = 0; i < CAP_REMAP_SLOTS; i++) {
			if (c->remap[i].keycode == 0) {
				c->remap[i].keycode = (uint8_t)kc;
				c->remap[i].keysym = 0;
				break;
			}
		}
		if (i == CAP_REMAP_SLOTS)
			break;
	}
}

/* The XKB keycodes name of the keymap (XFree it), or NULL. */
static char *
keycodes_name(struct cap *c)
{
	XkbDescPtr xkb;
	char *name = NULL;

	if ((xkb = XkbAllocKeyboard()) == NULL)
		return NULL;
	if (XkbGetNames(c->dpy, XkbKeycodesNameMask, xkb) == Success &&
	    xkb->names != NULL && xkb->names->keycodes != None)
		name = XGetAtomName(c->dpy, xkb->names->keycodes);
	XkbFreeKeyboard(xkb, 0, True);
	return name;
}

/*
 * Decides whether XT keycodes can be typed as evdev keycodes: the keymap's
 * keycodes are named evdev, or keys no layout moves sit where evdev puts
 * them (Escape 9, BackSpace 22, Return 36, Home 110, Left 113). Logs the
 * decision when it changes.
 */
static void
check_evdev(struct cap *c, int initial)
{
	static const struct {
		int kc;
		KeySym ks;
	} probe[] = {
		{ 9, 0xff1b }, { 22, 0xff08 }, { 36, 0xff0d }, { 110, 0xff50 },
		{ 113, 0xff51 },
	};
	char *name = keycodes_name(c);
	unsigned i;
	int evdev;

	if (!(evdev = cap_xt_keycodes_are_evdev(name))) {
		for (i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
			if (km_col(c, probe[i].kc, 0) != probe[i].ks)
				break;
		evdev = i == sizeof(probe) / sizeof(probe[0]);
	}
	if (initial || evdev != c->xt_evdev)
		info_f("keycodes \"%s\": QEMU key events are typed %s",
		    name != NULL ? name : "(no name)", evdev ?
		    "as the physical key (evdev keycodes)" :
		    "by keysym (not evdev keycodes)");
	c->xt_evdev = evdev;
	if (name != NULL)
		XFree(name);
}

static int
load_keymap(struct cap *c, int initial)
{
	XModifierKeymap *mm;
	int i, kc;

	if (c->keymap != NULL)
		XFree(c->keymap);
	c->keymap = NULL;
	XDisplayKeycodes(c->dpy, &c->min_keycode, &c->max_keycode);
	if (c->min_keycode < 8 || c->max_keycode > 255 ||
	    c->min_keycode > c->max_keycode) {
		error_f("odd keycode range %d-%d", c->min_keycode,
		    c->max_keycode);
		return MOAT_ERR_INVALID;
	}
	c->keymap = XGetKeyboardMapping(c->dpy, (KeyCode)c->min_keycode,
	    c->max_keycode - c->min_keycode + 1, &c->kpk);
	if (c->keymap == NULL || c->kpk < 1) {
		error_f("cannot read the keyboard mapping");
		return MOAT_ERR_SYSTEM;
	}
	memset(c->is_modifier, 0, sizeof(c->is_modifier));
	c->nshift = 0;
	if ((mm = XGetModifierMapping(c->dpy)) != NULL) {
		for (i = 0; i < 8 * mm->max_keypermod; i++) {
			kc = mm->modifiermap[i];
			if (kc == 0)
				continue;
			c->is_modifier[kc] = 1;
			if (i / mm->max_keypermod == ShiftMapIndex &&
			    c->nshift < sizeof(c->shift_keycodes))
				c->shift_keycodes[c->nshift++] = (uint8_t)kc;
		}
		XFreeModifiermap(mm);
	}
	if (c->nshift == 0) {
		kc = XKeysymToKeycode(c->dpy, XK_Shift_L_VALUE);
		if (kc != 0)
			c->shift_keycodes[c->nshift++] = (uint8_t)kc;
	}
	remap_refresh(c);
	check_evdev(c, initial);
	return 0;
}

int
cap_input_init(struct cap *c)
{
	unsigned char map[32];
	int ev, err, maj, min;

	if (!XTestQueryExtension(c->dpy, &ev, &err, &maj, &min)) {
		error_f("the X server lacks the XTEST extension");
		return MOAT_ERR_UNSUPPORTED;
	}
	c->xtest_ok = 1;
	/* Our injected events must not be suspended by another client's grab. */
	XTestGrabControl(c->dpy, True);
	c->nbuttons = (unsigned)XGetPointerMapping(c->dpy, map, sizeof(map));
	if (c->nbuttons > 7)
		c->nbuttons = 7;
	return load_keymap(c, 1);
}

void
cap_input_mapping_changed(struct cap *c, XMappingEvent *ev)
{
	XRefreshKeyboardMapping(ev);
	if (ev->request == MappingKeyboard || ev->request == MappingModifier) {
		if (load_keymap(c, 0) != 0)
			warn_f("keymap reload failed; keys may be dropped");
	}
}

/*
 * Finds a keycode producing ks on level 1 or 2; *need says which Shift state
 * it requires. Returns the keycode or 0.
 */
static int
find_keycode(struct cap *c, KeySym ks, enum level_need *need)
{
	int kc, k0 = 0, k1 = 0;
	KeySym l0, l1;

	for (kc = c->min_keycode; kc <= c->max_keycode; kc++) {
		km_levels(c, kc, &l0, &l1);
		if (l0 == ks && l1 == ks) {
			*need = NEED_ANY;
			return kc;
		}
		if (l0 == ks && k0 == 0)
			k0 = kc;
		if (l1 == ks && k1 == 0)
			k1 = kc;
	}
	if (k0 != 0) {
		*need = c->is_modifier[k0] ? NEED_ANY : NEED_UNSHIFTED;
		return k0;
	}
	if (k1 != 0) {
		*need = c->is_modifier[k1] ? NEED_ANY : NEED_SHIFTED;
		return k1;
	}
	return 0;
}

/* Binds ks to a spare keycode; returns the keycode, or 0 if none is free. */
static int
remap_keysym(struct cap *c, KeySym ks, struct cap_remap **slotp)
{
	struct cap_remap *s, *best = NULL;
	KeySym syms[2];
	unsigned i;
	size_t base;
	int col;

	for (i = 0; i < CAP_REMAP_SLOTS; i++) {
		s = &c->remap[i];
		if (s->keycode != 0 && s->keysym == ks) {
			s->stamp = ++c->remap_clock;
			*slotp = s;
			return s->keycode;
		}
	}
	for (i = 0; i < CAP_REMAP_SLOTS; i++) {
		s = &c->remap[i];
		if (s->keycode == 0 || s->users != 0)
			continue;
		if (best == NULL || s->keysym == 0 ||
		    (best->keysym != 0 && s->stamp < best->stamp))
			best = s;
		if (s->keysym == 0)
			break;
	}
	if (best == NULL)
		return 0;
	syms[0] = syms[1] = ks;
	XChangeKeyboardMapping(c->dpy, best->keycode, 2, syms, 1);
	/* Our cache follows at once; the MappingNotify reloads it anyway. */
	base = (size_t)(best->keycode - c->min_keycode) * (size_t)c->kpk;
	for (col = 0; col < c->kpk; col++)
		c->keymap[base + (size_t)col] = col < 2 ? ks : NoSymbol;
	debug_f("keysym 0x%lx bound to spare keycode %u", (unsigned long)ks,
	    best->keycode);
	best->keysym = (uint32_t)ks;
	best->stamp = ++c->remap_clock;
	*slotp = best;
	return best->keycode;
}

static struct cap_remap *
slot_of(struct cap *c, int kc)
{
	unsigned i;

	for (i = 0; i < CAP_REMAP_SLOTS; i++)
		if (c->remap[i].keycode != 0 && c->remap[i].keycode == kc)
			return &c->remap[i];
	return NULL;
}

static int
key_is_down(const char keys[32], int kc)
{
	return (keys[kc / 8] >> (kc % 8)) & 1;
}

/* Presses kc with Shift forced to the state the level needs. */
static void
press_with_level(struct cap *c, KeySym ks, int kc, enum level_need need)
{
	KeySym lower, upper;
	XkbStateRec st;
	char keys[32];
	uint8_t held[8];
	unsigned i, nheld = 0;
	int want_shift, shift_down;

	if (need == NEED_ANY || c->nshift == 0) {
		XTestFakeKeyEvent(c->dpy, (unsigned)kc, True, CurrentTime);
		return;
	}
	XQueryKeymap(c->dpy, keys);
	for (i = 0; i < c->nshift; i++)
		if (key_is_down(keys, c->shift_keycodes[i]))
			held[nheld++] = c->shift_keycodes[i];
	shift_down = nheld > 0;
	want_shift = need == NEED_SHIFTED;
	/* Caps Lock flips the level of alphabetic keys. */
	XConvertCase(ks, &lower, &upper);
	if (lower != upper &&
	    XkbGetState(c->dpy, XkbUseCoreKbd, &st) == Success &&
	    (st.locked_mods & LockMask))
		want_shift = !want_shift;
	if (want_shift && !shift_down) {
		XTestFakeKeyEvent(c->dpy, c->shift_keycodes[0], True,
		    CurrentTime);
		XTestFakeKeyEvent(c->dpy, (unsigned)kc, True, CurrentTime);
		XTestFakeKeyEvent(c->dpy, c->shift_keycodes[0], False,
		    CurrentTime);
	} else if (!want_shift && shift_down) {
		for (i = 0; i < nheld; i++)
			XTestFakeKeyEvent(c->dpy, held[i], False, CurrentTime);
		XTestFakeKeyEvent(c->dpy, (unsigned)kc, True, CurrentTime);
		for (i = 0; i < nheld; i++)
			XTestFakeKeyEvent(c->dpy, held[i], True, CurrentTime);
	} else
		XTestFakeKeyEvent(c->dpy, (unsigned)kc, True, CurrentTime);
}

/*
 * The X keycode of XT keycode xt on the desktop's keymap, or 0 when it must
 * be typed by keysym: no table entry (logged once per channel), a keymap
 * without evdev keycodes, or nothing on that key (a key the keymap lacks,
 * or a spare keycode moat binds keysyms to).
 */
static int
xt_keycode(struct cap *c, struct cap_channel *ch, uint16_t xt)
{
	unsigned evdev;
	int kc;

	if ((evdev = cap_xt_to_evdev(xt)) == 0) {
		if (!ch->xt_unknown_logged) {
			warn_f("channel %u: XT keycode 0x%x is no key moat "
			    "knows; the event's keysym is used (logged once "
			    "per channel)", ch->id, xt);
			ch->xt_unknown_logged = 1;
		} else
			debug_f("channel %u: unknown XT keycode 0x%x", ch->id,
			    xt);
		return 0;
	}
	if (!c->xt_evdev)
		return 0;
	kc = (int)evdev + CAP_XT_EVDEV_OFFSET;
	if (kc < c->min_keycode || kc > c->max_keycode ||
	    km_empty(c, kc) || slot_has_keycode(c, kc)) {
		debug_f("channel %u: XT keycode 0x%x: keycode %d has no key "
		    "on this keymap; typed by its keysym", ch->id, xt, kc);
		return 0;
	}
	return kc;
}

/*
 * Presses or releases keycode kc for ch, remembering the press (with the
 * event's keysym, maybe 0) so that the channel's close releases it.
 * Returns 0 when done (or dropped), -1 for a release of a keycode ch does
 * not hold: the caller tries the keysym.
 */
static int
key_by_keycode(struct cap *c, struct cap_channel *ch, int down,
    uint32_t keysym, int kc)
{
	struct cap_remap *slot;
	unsigned i;

	for (i = 0; i < ch->nkeys; i++)
		if (ch->keys[i].keycode == kc)
			break;
	if (!down) {
		if (i == ch->nkeys)
			return -1;
		XTestFakeKeyEvent(c->dpy, (unsigned)kc, False, CurrentTime);
		if ((slot = slot_of(c, kc)) != NULL && slot->users > 0)
			slot->users--;
		ch->keys[i] = ch->keys[--ch->nkeys];
		return 0;
	}
	/* A key held already is pressed again: auto-repeat. */
	if (i == ch->nkeys) {
		if (ch->nkeys == CAP_MAX_HELD_KEYS) {
			debug_f("channel %u: more than %u keys held; keycode "
			    "%d dropped", ch->id, CAP_MAX_HELD_KEYS, kc);
			return 0;
		}
		ch->keys[ch->nkeys].keysym = keysym;
		ch->keys[ch->nkeys].keycode = (uint8_t)kc;
		ch->nkeys++;
	}
	XTestFakeKeyEvent(c->dpy, (unsigned)kc, True, CurrentTime);
	return 0;
}

void
cap_input_key(struct cap *c, struct cap_channel *ch, int down, uint32_t keysym,
    uint16_t xtcode)
{
	struct cap_remap *slot = NULL;
	enum level_need need = NEED_ANY;
	unsigned i;
	int kc;

	if (xtcode != 0 && (kc = xt_keycode(c, ch, xtcode)) != 0 &&
	    key_by_keycode(c, ch, down, keysym, kc) == 0)
		return;
	if (keysym == 0 && xtcode != 0) {
		/* A QEMU key event's keysym may be 0: nothing else to type. */
		debug_f("channel %u: XT keycode 0x%x %s without a keysym; "
		    "ignored", ch->id, xtcode, down ? "press" : "release");
		return;
	}
	if (!cap_keysym_valid(keysym)) {
		if (c->key_drops++ == 0)
			warn_f("channel %u: invalid keysym 0x%x dropped (logged "
			    "once; later ones at debug level)", ch->id, keysym);
		else
			debug_f("channel %u: invalid keysym 0x%x dropped",
			    ch->id, keysym);
		return;
	}
	for (i = 0; i < ch->nkeys; i++)
		if (ch->keys[i].keysym == keysym)
			break;
	if (!down) {
		if (i == ch->nkeys) {
			/*
			 * Some viewers release a key under another keysym than
			 * they pressed it with ('h' down, Shift down, 'H' up):
			 * release the held key on the same keycode.
			 */
			kc = find_keycode(c, keysym, &need);
			for (i = 0; kc != 0 && i < ch->nkeys; i++)
				if (ch->keys[i].keycode == kc)
					break;
		}
		if (i == ch->nkeys) {
			debug_f("channel %u: release of keysym 0x%x it does "
			    "not hold; ignored", ch->id, keysym);
			return;
		}
		kc = ch->keys[i].keycode;
		XTestFakeKeyEvent(c->dpy, (unsigned)kc, False, CurrentTime);
		if ((slot = slot_of(c, kc)) != NULL && slot->users > 0)
			slot->users--;
		ch->keys[i] = ch->keys[--ch->nkeys];
		return;
	}
	if (i < ch->nkeys) {
		/* Auto-repeat: press the same keycode again. */
		kc = ch->keys[i].keycode;
		(void)find_keycode(c, keysym, &need);
		press_with_level(c, keysym, kc, need);
		return;
	}
	if (ch->nkeys == CAP_MAX_HELD_KEYS) {
		debug_f("channel %u: more than %u keys held; 0x%x dropped",
		    ch->id, CAP_MAX_HELD_KEYS, keysym);
		return;
	}
	if ((kc = find_keycode(c, keysym, &need)) == 0) {
		need = NEED_ANY;
		if ((kc = remap_keysym(c, keysym, &slot)) == 0) {
			debug_f("channel %u: keysym 0x%x has no keycode and no "
			    "spare keycode is free; dropped", ch->id, keysym);
			return;
		}
		slot->users++;
	} else if ((slot = slot_of(c, kc)) != NULL)
		slot->users++;
	press_with_level(c, keysym, kc, need);
	ch->keys[ch->nkeys].keysym = keysym;
	ch->keys[ch->nkeys].keycode = (uint8_t)kc;
	ch->nkeys++;
}

void
cap_input_pointer(struct cap *c, struct cap_channel *ch, uint8_t mask,
    unsigned x, unsigned y)
{
	unsigned bit, changed;

	if (x >= c->width)
		x = c->width - 1;
	if (y >= c->height)
		y = c->height - 1;
	XTestFakeMotionEvent(c->dpy, c->screen, (int)x, (int)y, CurrentTime);
	/* Bits 0-6 are buttons 1-7; bit 7 (button 8, back) is ignored. */
	mask &= 0x7f;
	if (c->nbuttons < 7)
		mask &= (uint8_t)((1u << c->nbuttons) - 1);
	changed = (unsigned)(mask ^ ch->buttons);
	for (bit = 0; bit < 7; bit++) {
		if (!(changed & (1u << bit)))
			continue;
		XTestFakeButtonEvent(c->dpy, bit + 1, (mask >> bit) & 1,
		    CurrentTime);
	}
	ch->buttons = mask;
}

void
cap_input_release_all(struct cap *c, struct cap_channel *ch)
{
	struct cap_remap *slot;
	unsigned i;

	if (c->dpy == NULL || !c->xtest_ok)
		return;
	for (i = ch->nkeys; i > 0; i--) {
		int kc = ch->keys[i - 1].keycode;

		XTestFakeKeyEvent(c->dpy, (unsigned)kc, False, CurrentTime);
		if ((slot = slot_of(c, kc)) != NULL && slot->users > 0)
			slot->users--;
	}
	ch->nkeys = 0;
	for (i = 0; i < 7; i++)
		if (ch->buttons & (1u << i))
			XTestFakeButtonEvent(c->dpy, i + 1, False, CurrentTime);
	ch->buttons = 0;
	XFlush(c->dpy);
}

void
cap_input_close(struct cap *c)
{
	KeySym none[2] = { NoSymbol, NoSymbol };
	unsigned i;

	if (c->dpy != NULL) {
		for (i = 0; i < CAP_REMAP_SLOTS; i++) {
			if (c->remap[i].keycode == 0 || c->remap[i].keysym == 0)
				continue;
			XChangeKeyboardMapping(c->dpy, c->remap[i].keycode, 2,
			    none, 1);
		}
		XSync(c->dpy, False);
	}
	memset(c->remap, 0, sizeof(c->remap));
	if (c->keymap != NULL)
		XFree(c->keymap);
	c->keymap = NULL;
}
