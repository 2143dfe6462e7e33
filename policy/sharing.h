/*
 * sharing.h - what happens when a viewer's session starts while others
 * are connected to the same desktop: the RFB ClientInit shared flag under
 * AlwaysShared, NeverShared and DisconnectClients (docs/permissions.md,
 * "Sharing"). The monitor applies the first two to the viewer's flag; the
 * listener, which knows every viewer of every desktop, decides. Pure.
 */
#ifndef MOAT_SHARING_H
#define MOAT_SHARING_H

enum sharing_verdict {
	SHARING_JOIN = 1,	/* the viewer joins; the others stay */
	SHARING_TAKE_OVER,	/* the viewer joins; every other is disconnected */
	SHARING_REFUSE,		/* the viewer is refused; the others stay */
};

/*
 * Whether a session is shared: never with NeverShared, else always with
 * AlwaysShared, else as the viewer asked (viewer_shared nonzero). Returns
 * 1 (shared) or 0 (exclusive).
 */
int sharing_effective(int always_shared, int never_shared, int viewer_shared);

/*
 * A session that is shared (1) or exclusive (0) starts while `others`
 * other viewers (may be 0) are connected to the same desktop: an exclusive
 * one with others connected takes over with DisconnectClients and is
 * refused without; anything else joins. Returns the verdict.
 */
enum sharing_verdict sharing_decide(int shared, int disconnect_clients,
    unsigned others);

/* Returns a static phrase for a verdict, for logs. */
const char *sharing_verdict_name(enum sharing_verdict v);

#endif
