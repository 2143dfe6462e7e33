/*
 * cap_xtkeys.c - rfbproto's XT keycodes (QEMU extended key events) to Linux
 * evdev KEY_* codes, as data.
 *
 * Runs in moat-session (and in its unit test: no X dependency). It trusts
 * nothing it is given: a keycode is an index only after its range check.
 *
 * Sources, read for the facts, nothing copied:
 *  - the community RFB specification (rfbproto), "QEMU Extended Key Event
 *    Message": the keycode is the XT make code, a single byte below 0x80 as
 *    is, 0xE0 followed by a byte below 0x80 as 0x80 | byte (Right,
 *    0xE0 0x4D, is 0xCD);
 *  - Microsoft's "Keyboard Scan Code Specification" (revision 1.3a, 2000),
 *    appendix C, "USB HID to PS/2 Scan Code Translation Table": the set-1
 *    make code of each key;
 *  - Linux, include/uapi/linux/input-event-codes.h: the KEY_* values (and
 *    drivers/hid/hid-input.c for which HID usage each one is);
 *  - cross-checked against QEMU's keycodemapdb (data/keymaps.csv, "AT set1
 *    keycode"), from which gtk-vnc, noVNC and TigerVNC generate the codes
 *    they send. Pause is 0xE0 0x46 there (Ctrl+Break's code: Pause's own
 *    six-byte sequence does not fit the encoding), so 0xC6; Print Screen is
 *    0x54 (its Alt+SysRq code) there and 0xE0 0x37 on the wire of a real
 *    keyboard: both are KEY_SYSRQ, which evdev keymaps name <PRSC>.
 *
 * The table covers the standard keyboards: the 101/102-key PC keyboard
 * with its Windows keys and Menu, the Japanese 106/109-key, Korean and
 * Brazilian extra keys, the keypad equals sign, and the ACPI and
 * multimedia keys Microsoft assigns. F13-F24 are left out (the tables
 * disagree on them), as are the 0xE0 0x2A / 0xE0 0x36 fake shifts: a code
 * without an entry falls back to the event's keysym.
 */
#include <string.h>

#include "cap_xtkeys.h"

/* Linux evdev codes (input-event-codes.h) used below beyond 1..88. */
enum {
	EV_KEY_ZENKAKUHANKAKU = 85,
	EV_KEY_102ND = 86,
	EV_KEY_F11 = 87,
	EV_KEY_F12 = 88,
	EV_KEY_RO = 89,
	EV_KEY_KATAKANA = 90,
	EV_KEY_HIRAGANA = 91,
	EV_KEY_HENKAN = 92,
	EV_KEY_KATAKANAHIRAGANA = 93,
	EV_KEY_MUHENKAN = 94,
	EV_KEY_KPJPCOMMA = 95,
	EV_KEY_KPENTER = 96,
	EV_KEY_RIGHTCTRL = 97,
	EV_KEY_KPSLASH = 98,
	EV_KEY_SYSRQ = 99,
	EV_KEY_RIGHTALT = 100,
	EV_KEY_HOME = 102,
	EV_KEY_UP = 103,
	EV_KEY_PAGEUP = 104,
	EV_KEY_LEFT = 105,
	EV_KEY_RIGHT = 106,
	EV_KEY_END = 107,
	EV_KEY_DOWN = 108,
	EV_KEY_PAGEDOWN = 109,
	EV_KEY_INSERT = 110,
	EV_KEY_DELETE = 111,
	EV_KEY_MUTE = 113,
	EV_KEY_VOLUMEDOWN = 114,
	EV_KEY_VOLUMEUP = 115,
	EV_KEY_POWER = 116,
	EV_KEY_KPEQUAL = 117,
	EV_KEY_PAUSE = 119,
	EV_KEY_KPCOMMA = 121,
	EV_KEY_HANGEUL = 122,
	EV_KEY_HANJA = 123,
	EV_KEY_YEN = 124,
	EV_KEY_LEFTMETA = 125,
	EV_KEY_RIGHTMETA = 126,
	EV_KEY_COMPOSE = 127,
	EV_KEY_STOP = 128,
	EV_KEY_CALC = 140,
	EV_KEY_SLEEP = 142,
	EV_KEY_WAKEUP = 143,
	EV_KEY_MAIL = 155,
	EV_KEY_BOOKMARKS = 156,
	EV_KEY_COMPUTER = 157,
	EV_KEY_BACK = 158,
	EV_KEY_FORWARD = 159,
	EV_KEY_NEXTSONG = 163,
	EV_KEY_PLAYPAUSE = 164,
	EV_KEY_PREVIOUSSONG = 165,
	EV_KEY_STOPCD = 166,
	EV_KEY_HOMEPAGE = 172,
	EV_KEY_REFRESH = 173,
	EV_KEY_SEARCH = 217,
	EV_KEY_MEDIA = 226,
};

/* 0xE0-prefixed code c in rfbproto's encoding. */
#define E0(c)	(0x80 | (c))

static const uint8_t xt_evdev[256] = {
	/*
	 * Single-byte codes 0x01-0x53 (Esc through keypad '.') are the
	 * evdev codes themselves: evdev numbered these keys after set 1.
	 */
	[0x01] = 1,  [0x02] = 2,  [0x03] = 3,  [0x04] = 4,	/* Esc 1 2 3 */
	[0x05] = 5,  [0x06] = 6,  [0x07] = 7,  [0x08] = 8,	/* 4 5 6 7 */
	[0x09] = 9,  [0x0a] = 10, [0x0b] = 11, [0x0c] = 12,	/* 8 9 0 - */
	[0x0d] = 13, [0x0e] = 14, [0x0f] = 15, [0x10] = 16,	/* = BkSp Tab Q */
	[0x11] = 17, [0x12] = 18, [0x13] = 19, [0x14] = 20,	/* W E R T */
	[0x15] = 21, [0x16] = 22, [0x17] = 23, [0x18] = 24,	/* Y U I O */
	[0x19] = 25, [0x1a] = 26, [0x1b] = 27, [0x1c] = 28,	/* P [ ] Enter */
	[0x1d] = 29, [0x1e] = 30, [0x1f] = 31, [0x20] = 32,	/* LCtrl A S D */
	[0x21] = 33, [0x22] = 34, [0x23] = 35, [0x24] = 36,	/* F G H J */
	[0x25] = 37, [0x26] = 38, [0x27] = 39, [0x28] = 40,	/* K L ; ' */
	[0x29] = 41, [0x2a] = 42, [0x2b] = 43, [0x2c] = 44,	/* ` LShift \ Z */
	[0x2d] = 45, [0x2e] = 46, [0x2f] = 47, [0x30] = 48,	/* X C V B */
	[0x31] = 49, [0x32] = 50, [0x33] = 51, [0x34] = 52,	/* N M , . */
	[0x35] = 53, [0x36] = 54, [0x37] = 55, [0x38] = 56,	/* / RShift KP* LAlt */
	[0x39] = 57, [0x3a] = 58, [0x3b] = 59, [0x3c] = 60,	/* Space Caps F1 F2 */
	[0x3d] = 61, [0x3e] = 62, [0x3f] = 63, [0x40] = 64,	/* F3 F4 F5 F6 */
	[0x41] = 65, [0x42] = 66, [0x43] = 67, [0x44] = 68,	/* F7 F8 F9 F10 */
	[0x45] = 69, [0x46] = 70, [0x47] = 71, [0x48] = 72,	/* NumLk ScrLk KP7 KP8 */
	[0x49] = 73, [0x4a] = 74, [0x4b] = 75, [0x4c] = 76,	/* KP9 KP- KP4 KP5 */
	[0x4d] = 77, [0x4e] = 78, [0x4f] = 79, [0x50] = 80,	/* KP6 KP+ KP1 KP2 */
	[0x51] = 81, [0x52] = 82, [0x53] = 83,			/* KP3 KP0 KP. */
	[0x54] = EV_KEY_SYSRQ,		/* Alt+SysRq (Print Screen) */
	[0x56] = EV_KEY_102ND,		/* the ISO key left of Z (<>|) */
	[0x57] = EV_KEY_F11,
	[0x58] = EV_KEY_F12,
	[0x59] = EV_KEY_KPEQUAL,
	[0x5c] = EV_KEY_KPJPCOMMA,	/* International 6 */
	[0x70] = EV_KEY_KATAKANAHIRAGANA,	/* International 2 */
	[0x73] = EV_KEY_RO,		/* International 1 */
	[0x76] = EV_KEY_ZENKAKUHANKAKU,	/* LANG5 */
	[0x77] = EV_KEY_HIRAGANA,	/* LANG4 */
	[0x78] = EV_KEY_KATAKANA,	/* LANG3 */
	[0x79] = EV_KEY_HENKAN,		/* International 4 */
	[0x7b] = EV_KEY_MUHENKAN,	/* International 5 */
	[0x7d] = EV_KEY_YEN,		/* International 3 */
	[0x7e] = EV_KEY_KPCOMMA,	/* Brazilian keypad '.' */

	/* 0xE0-prefixed keys. */
	[E0(0x10)] = EV_KEY_PREVIOUSSONG,
	[E0(0x19)] = EV_KEY_NEXTSONG,
	[E0(0x1c)] = EV_KEY_KPENTER,
	[E0(0x1d)] = EV_KEY_RIGHTCTRL,
	[E0(0x20)] = EV_KEY_MUTE,
	[E0(0x21)] = EV_KEY_CALC,
	[E0(0x22)] = EV_KEY_PLAYPAUSE,
	[E0(0x24)] = EV_KEY_STOPCD,
	[E0(0x2e)] = EV_KEY_VOLUMEDOWN,
	[E0(0x30)] = EV_KEY_VOLUMEUP,
	[E0(0x32)] = EV_KEY_HOMEPAGE,
	[E0(0x35)] = EV_KEY_KPSLASH,
	[E0(0x37)] = EV_KEY_SYSRQ,	/* Print Screen */
	[E0(0x38)] = EV_KEY_RIGHTALT,	/* AltGr */
	[E0(0x46)] = EV_KEY_PAUSE,	/* Pause (Ctrl+Break) */
	[E0(0x47)] = EV_KEY_HOME,
	[E0(0x48)] = EV_KEY_UP,
	[E0(0x49)] = EV_KEY_PAGEUP,
	[E0(0x4b)] = EV_KEY_LEFT,
	[E0(0x4d)] = EV_KEY_RIGHT,
	[E0(0x4f)] = EV_KEY_END,
	[E0(0x50)] = EV_KEY_DOWN,
	[E0(0x51)] = EV_KEY_PAGEDOWN,
	[E0(0x52)] = EV_KEY_INSERT,
	[E0(0x53)] = EV_KEY_DELETE,
	[E0(0x5b)] = EV_KEY_LEFTMETA,	/* left Windows */
	[E0(0x5c)] = EV_KEY_RIGHTMETA,	/* right Windows */
	[E0(0x5d)] = EV_KEY_COMPOSE,	/* Menu (Application) */
	[E0(0x5e)] = EV_KEY_POWER,
	[E0(0x5f)] = EV_KEY_SLEEP,
	[E0(0x63)] = EV_KEY_WAKEUP,
	[E0(0x65)] = EV_KEY_SEARCH,
	[E0(0x66)] = EV_KEY_BOOKMARKS,
	[E0(0x67)] = EV_KEY_REFRESH,
	[E0(0x68)] = EV_KEY_STOP,
	[E0(0x69)] = EV_KEY_FORWARD,
	[E0(0x6a)] = EV_KEY_BACK,
	[E0(0x6b)] = EV_KEY_COMPUTER,
	[E0(0x6c)] = EV_KEY_MAIL,
	[E0(0x6d)] = EV_KEY_MEDIA,

	/*
	 * Korean keys: single bytes above 0x7F that send no break code. In
	 * this encoding they take the places of 0xE0 0x71 and 0xE0 0x72,
	 * keys no standard keyboard has.
	 */
	[0xf1] = EV_KEY_HANJA,		/* LANG2 */
	[0xf2] = EV_KEY_HANGEUL,	/* LANG1 */
};

unsigned
cap_xt_to_evdev(uint32_t xt)
{
	if (xt >= sizeof(xt_evdev) / sizeof(xt_evdev[0]))
		return 0;
	return xt_evdev[xt];
}

int
cap_xt_keycodes_are_evdev(const char *name)
{
	return name != NULL && strstr(name, "evdev") != NULL;
}
