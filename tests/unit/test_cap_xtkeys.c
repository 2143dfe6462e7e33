/*
 * test_cap_xtkeys.c - unit tests for the XT keycode table of QEMU extended
 * key events (capture/cap_xtkeys.c): spot checks of rfbproto's encoding
 * against the Linux KEY_* values, codes with no entry and out of range, the
 * table's shape (evdev codes fit X keycodes, one key per code), and, where
 * xkb-data is installed, each key's X keycode against the evdev keycodes
 * file the X server loads (an independent source: xkeyboard-config).
 *
 * Test-only; includes the source directly because moat-session's objects
 * are not in a library.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/cap_xtkeys.c"

#include "check.h"

#define XKB_EVDEV	"/usr/share/X11/xkb/keycodes/evdev"

static void
test_spots(void)
{
	static const struct {
		uint32_t xt;
		unsigned evdev;
		const char *what;
	} spot[] = {
		{ 0x01, 1, "Escape (KEY_ESC)" },
		{ 0x02, 2, "1 (KEY_1)" },
		{ 0x10, 16, "q (KEY_Q)" },
		{ 0x1e, 30, "a (KEY_A)" },
		{ 0x1c, 28, "Return (KEY_ENTER)" },
		{ 0x2a, 42, "left Shift (KEY_LEFTSHIFT)" },
		{ 0x36, 54, "right Shift (KEY_RIGHTSHIFT)" },
		{ 0x38, 56, "left Alt (KEY_LEFTALT)" },
		{ 0x53, 83, "keypad . (KEY_KPDOT)" },
		{ 0x56, 86, "the 102nd key (KEY_102ND)" },
		{ 0x57, 87, "F11 (KEY_F11)" },
		{ 0x58, 88, "F12 (KEY_F12)" },
		{ 0x54, 99, "Alt+SysRq (KEY_SYSRQ)" },
		{ 0xb7, 99, "Print Screen, E0 37 (KEY_SYSRQ)" },
		{ 0xcb, 105, "Left, E0 4B (KEY_LEFT)" },
		{ 0xcd, 106, "Right, E0 4D (KEY_RIGHT): rfbproto's example" },
		{ 0xc8, 103, "Up, E0 48 (KEY_UP)" },
		{ 0xd0, 108, "Down, E0 50 (KEY_DOWN)" },
		{ 0xb8, 100, "AltGr, E0 38 (KEY_RIGHTALT)" },
		{ 0x9d, 97, "right Ctrl, E0 1D (KEY_RIGHTCTRL)" },
		{ 0x9c, 96, "keypad Enter, E0 1C (KEY_KPENTER)" },
		{ 0xb5, 98, "keypad /, E0 35 (KEY_KPSLASH)" },
		{ 0xc6, 119, "Pause, E0 46 (KEY_PAUSE)" },
		{ 0xd3, 111, "Delete, E0 53 (KEY_DELETE)" },
		{ 0xdb, 125, "left Windows, E0 5B (KEY_LEFTMETA)" },
		{ 0xdd, 127, "Menu, E0 5D (KEY_COMPOSE)" },
		{ 0x73, 89, "Ro (KEY_RO)" },
		{ 0x7d, 124, "Yen (KEY_YEN)" },
		{ 0xf2, 122, "Hangul (KEY_HANGEUL)" },
		{ 0xf1, 123, "Hanja (KEY_HANJA)" },
		{ 0xa0, 113, "Mute, E0 20 (KEY_MUTE)" },
		{ 0xde, 116, "Power, E0 5E (KEY_POWER)" },
	};
	static const uint32_t none[] = {
		0x00,		/* no keycode */
		0x55,		/* not a key of the standard keyboards */
		0x5d,		/* F13 in QEMU's table, not in Microsoft's */
		0x7f,
		0x80,		/* E0 00 */
		0xaa,		/* E0 2A: the fake shift */
		0xb6,		/* E0 36: the other fake shift */
		0xc5,		/* E0 45: no key */
		0xff,
		0x100, 0xe01c, 0xe11d, 0xffff, 0x10000, 0x800000cb,
		0xffffffff,
	};
	size_t i;

	for (i = 0; i < sizeof(spot) / sizeof(spot[0]); i++)
		CHECK(cap_xt_to_evdev(spot[i].xt) == spot[i].evdev,
		    "0x%x is %s: got %u", (unsigned)spot[i].xt, spot[i].what,
		    cap_xt_to_evdev(spot[i].xt));
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++)
		CHECK(cap_xt_to_evdev(none[i]) == 0, "0x%x has no entry",
		    (unsigned)none[i]);
	/* evdev numbered Esc .. keypad '.' after set 1. */
	for (i = 1; i <= 0x53; i++)
		CHECK(cap_xt_to_evdev((uint32_t)i) == i, "0x%zx is itself", i);
}

/* Every evdev code fits an X keycode; no two XT codes name one key. */
static void
test_shape(void)
{
	unsigned seen[256] = { 0 }, e, n = 0;
	uint32_t xt;

	for (xt = 0; xt <= 0x1ff; xt++) {
		if ((e = cap_xt_to_evdev(xt)) == 0)
			continue;
		n++;
		CHECK(xt <= 0xff, "0x%x: codes stop at 0xFF", (unsigned)xt);
		CHECK(e + CAP_XT_EVDEV_OFFSET <= 255,
		    "0x%x: evdev %u fits an X keycode", (unsigned)xt, e);
		/* Print Screen has two codes (Alt+SysRq's and its own). */
		CHECK(seen[e] == 0 || e == 99, "0x%x: evdev %u also 0x%x",
		    (unsigned)xt, e, seen[e]);
		seen[e] = xt;
	}
	CHECK(n >= 83 + 40, "%u keys in the table", n);
}

/*
 * The X keycode of each named key in xkeyboard-config's evdev keycodes:
 * the table's evdev code + 8 must be it.
 */
static void
test_xkb(void)
{
	static const struct {
		const char *name;
		uint32_t xt;
	} key[] = {
		{ "ESC", 0x01 }, { "AE01", 0x02 }, { "AE12", 0x0d },
		{ "BKSP", 0x0e }, { "TAB", 0x0f }, { "AD01", 0x10 },
		{ "RTRN", 0x1c }, { "LCTL", 0x1d }, { "AC01", 0x1e },
		{ "TLDE", 0x29 }, { "LFSH", 0x2a }, { "BKSL", 0x2b },
		{ "AB10", 0x35 }, { "RTSH", 0x36 }, { "KPMU", 0x37 },
		{ "LALT", 0x38 }, { "SPCE", 0x39 }, { "CAPS", 0x3a },
		{ "FK01", 0x3b }, { "FK10", 0x44 }, { "NMLK", 0x45 },
		{ "SCLK", 0x46 }, { "KP7", 0x47 }, { "KPSU", 0x4a },
		{ "KPAD", 0x4e }, { "KP0", 0x52 }, { "KPDL", 0x53 },
		{ "LSGT", 0x56 }, { "FK11", 0x57 }, { "FK12", 0x58 },
		{ "PRSC", 0x54 }, { "PRSC", 0xb7 }, { "KPEQ", 0x59 },
		{ "JPCM", 0x5c }, { "HKTG", 0x70 }, { "AB11", 0x73 },
		{ "HIRA", 0x77 }, { "KATA", 0x78 }, { "HENK", 0x79 },
		{ "MUHE", 0x7b }, { "AE13", 0x7d }, { "I129", 0x7e },
		{ "KPEN", 0x9c }, { "RCTL", 0x9d }, { "KPDV", 0xb5 },
		{ "RALT", 0xb8 }, { "PAUS", 0xc6 }, { "HOME", 0xc7 },
		{ "UP", 0xc8 }, { "PGUP", 0xc9 }, { "LEFT", 0xcb },
		{ "RGHT", 0xcd }, { "END", 0xcf }, { "DOWN", 0xd0 },
		{ "PGDN", 0xd1 }, { "INS", 0xd2 }, { "DELE", 0xd3 },
		{ "LWIN", 0xdb }, { "RWIN", 0xdc }, { "COMP", 0xdd },
		{ "POWR", 0xde }, { "MUTE", 0xa0 }, { "VOL-", 0xae },
		{ "VOL+", 0xb0 }, { "HNGL", 0xf2 }, { "HJCV", 0xf1 },
		{ "I148", 0xa1 },	/* KEY_CALC */
		{ "I163", 0xec },	/* KEY_MAIL */
		{ "I172", 0xa2 },	/* KEY_PLAYPAUSE */
		{ "I150", 0xdf },	/* KEY_SLEEP */
	};
	char line[256], name[16], want[24];
	size_t i, found;
	FILE *f;
	int kc;

	if ((f = fopen(XKB_EVDEV, "r")) == NULL) {
		printf("note: %s missing (xkb-data): X keycodes not compared\n",
		    XKB_EVDEV);
		return;
	}
	for (i = 0; i < sizeof(key) / sizeof(key[0]); i++) {
		snprintf(want, sizeof(want), "<%s>", key[i].name);
		rewind(f);
		found = 0;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, " <%15[^>]> = %d ;", name, &kc) != 2 ||
			    strcmp(name, key[i].name) != 0)
				continue;
			found = 1;
			CHECK(cap_xt_to_evdev(key[i].xt) + CAP_XT_EVDEV_OFFSET ==
			    (unsigned)kc, "0x%x is %s, X keycode %d: table "
			    "says evdev %u", (unsigned)key[i].xt, want, kc,
			    cap_xt_to_evdev(key[i].xt));
			break;
		}
		CHECK(found, "%s is in %s", want, XKB_EVDEV);
	}
	fclose(f);
}

static void
test_names(void)
{
	CHECK(cap_xt_keycodes_are_evdev("evdev+aliases(qwerty)"));
	CHECK(cap_xt_keycodes_are_evdev("evdev"));
	CHECK(!cap_xt_keycodes_are_evdev("xfree86+aliases(qwerty)"));
	CHECK(!cap_xt_keycodes_are_evdev(""));
	CHECK(!cap_xt_keycodes_are_evdev(NULL));
}

int
main(void)
{
	test_spots();
	test_shape();
	test_xkb();
	test_names();
	return check_summary();
}
