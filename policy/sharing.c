/*
 * sharing.c - the sharing decision (see sharing.h). Runs in the monitor
 * (sharing_effective) and in moatd's listener (sharing_decide), both root.
 * The viewer's shared flag is the viewer's own request, honoured only as
 * far as policy lets it; the count of other viewers is the listener's
 * own. Pure.
 */
#include "sharing.h"

int
sharing_effective(int always_shared, int never_shared, int viewer_shared)
{
	if (never_shared)
		return 0;
	if (always_shared)
		return 1;
	return viewer_shared != 0;
}

enum sharing_verdict
sharing_decide(int shared, int disconnect_clients, unsigned others)
{
	if (shared || others == 0)
		return SHARING_JOIN;
	return disconnect_clients ? SHARING_TAKE_OVER : SHARING_REFUSE;
}

const char *
sharing_verdict_name(enum sharing_verdict v)
{
	switch (v) {
	case SHARING_JOIN:
		return "joins";
	case SHARING_TAKE_OVER:
		return "takes exclusive access";
	case SHARING_REFUSE:
		return "is refused";
	}
	return "?";
}
