/*
 * mon_spawn.c - starts moat-net for one connection with fixed descriptors
 * and nothing else inherited. Runs in the monitor (root); the exec'd
 * program sandboxes itself before it reads the network.
 *
 * posix_spawn() (a vfork-style clone in glibc) rather than fork(): the
 * child borrows the monitor's memory until it execs instead of copying
 * its page tables, which took a quarter of a millisecond of every
 * connection's start.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

#include "monitor.h"
#include "privsep/errors.h"

pid_t
mon_spawn_net(const char *binary, int client_fd, int ipc_fd)
{
	char *const argv[] = { "moat-net", NULL };
	char *const envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	pid_t pid = MOAT_ERR_SYSTEM, child;
	int c = -1, i = -1;

	/*
	 * Copies above the fixed numbers first, so that neither descriptor
	 * is overwritten by the other's move into place (3 and 4).
	 */
	if ((c = fcntl(client_fd, F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (i = fcntl(ipc_fd, F_DUPFD_CLOEXEC, 10)) == -1)
		goto out;
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto out;
	}
	sigemptyset(&none);
	if (posix_spawn_file_actions_adddup2(&fa, c, 3) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, i, 4) == 0 &&
	    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR,
	    0) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, 0, 1) == 0 &&
	    posix_spawn_file_actions_adddup2(&fa, 0, 2) == 0 &&
	    posix_spawn_file_actions_addclosefrom_np(&fa, 5) == 0 &&
	    posix_spawnattr_setsigmask(&attr, &none) == 0 &&
	    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK) == 0 &&
	    posix_spawn(&child, binary, &fa, &attr, argv, envp) == 0)
		pid = child;
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
 out:
	if (c != -1)
		close(c);
	if (i != -1)
		close(i);
	return pid;
}
