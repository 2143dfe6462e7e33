/*
 * mon_spawn.c - starts moat-net for one connection with fixed descriptors
 * and nothing else inherited. Runs in the monitor (root); the exec'd
 * program sandboxes itself before it reads the network.
 */
#include <sys/types.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "monitor.h"
#include "privsep/errors.h"

pid_t
mon_spawn_net(const char *binary, int client_fd, int ipc_fd)
{
	char *const argv[] = { "moat-net", NULL };
	char *const envp[] = { NULL };
	int c, i, nul;
	pid_t pid;

	if ((pid = fork()) == -1)
		return MOAT_ERR_SYSTEM;
	if (pid != 0)
		return pid;
	/* Child: move the two descriptors out of the way, then into place. */
	if ((c = fcntl(client_fd, F_DUPFD, 10)) == -1 ||
	    (i = fcntl(ipc_fd, F_DUPFD, 10)) == -1)
		_exit(127);
	if (dup2(c, 3) == -1 || dup2(i, 4) == -1)
		_exit(127);
	if ((nul = open("/dev/null", O_RDWR)) == -1 ||
	    dup2(nul, 0) == -1 || dup2(nul, 1) == -1 || dup2(nul, 2) == -1)
		_exit(127);
	closefrom(5);
	execve(binary, argv, envp);
	_exit(127);
}
