/*
 * posix_spawn.closefrom - posix_spawn this probe with a
 *     posix_spawn_file_actions_addclosefrom_np(3) action while fd 50 is open
 *     (not close-on-exec); the child checks that fd 50 is closed.
 *
 * New syscalls: clone3 (435) for the spawn, tried first since glibc 2.34;
 *              close_range (436) in the child for the closefrom action
 *              (the action itself appeared in 2.34: "absent" before).
 * Fallback:    clone3: clone on ENOSYS only (2.34-2.37), ENOSYS or EINVAL
 *              (2.38+); any other error is posix_spawn's result (EPERM).
 *              close_range: on ANY error the child scans /proc/self/fd
 *              (__closefrom_fallback); only if that also fails does the
 *              spawn fail.
 * Source:      sysdeps/unix/sysv/linux/spawni.c (spawn_do_closefrom),
 *              sysdeps/unix/sysv/linux/closefrom_fallback.c.
 */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbc.h"

#define PROBE_FD 50

extern char **environ;

typedef int (*addclosefrom_fn)(posix_spawn_file_actions_t *fa, int from);

int main(int argc, char **argv)
{
	addclosefrom_fn add = (addclosefrom_fn)FBC_SYM(posix_spawn_file_actions_addclosefrom_np);
	char *child_argv[] = { argv[0], "--child", NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int rc, status;

	/* The child: exit 0 if the action closed fd 50, 3 if it is still open. */
	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		_exit(fcntl(PROBE_FD, F_GETFD) == -1 && errno == EBADF ? 0 : 3);
	if (!add)
		fbc_absent("posix_spawn_file_actions_addclosefrom_np");

	if (dup2(STDOUT_FILENO, PROBE_FD) != PROBE_FD)
		fbc_broken("dup2(1, %d): %s", PROBE_FD, strerror(errno));
	if (posix_spawn_file_actions_init(&fa) != 0)
		fbc_broken("posix_spawn_file_actions_init failed");
	rc = add(&fa, 3);
	if (rc != 0)
		fbc_error(rc, "posix_spawn_file_actions_addclosefrom_np(3) returned %d", rc);

	rc = posix_spawn(&pid, argv[0], &fa, NULL, child_argv, environ);
	if (rc != 0)
		fbc_error(rc, "posix_spawn with a closefrom action returned %d", rc);
	if (waitpid(pid, &status, 0) != pid)
		fbc_error(errno, "spawned pid %d, but waitpid failed", (int)pid);
	if (WIFSIGNALED(status))
		fbc_error(0, "spawned, but the child was killed by signal %d", WTERMSIG(status));
	if (WEXITSTATUS(status) == 3)
		fbc_error(0, "spawned, but fd %d was still open in the child", PROBE_FD);
	if (WEXITSTATUS(status) != 0)
		fbc_error(0, "spawned, but the child exited with status %d", WEXITSTATUS(status));
	fbc_ok("spawned with closefrom(3); fd %d was closed in the child", PROBE_FD);
}
