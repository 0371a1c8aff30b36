/*
 * posix_spawn - spawn this probe's own binary with "--child" and reap it.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34.
 * Fallback:    clone. 2.34-2.37: via __clone_internal, on ENOSYS only.
 *              2.38+: spawni.c calls __clone3 itself and falls back on ENOSYS
 *              or EINVAL. Any other error is posix_spawn's return value
 *              (EPERM; 2.34 and the 2.35 tarball return 1 for any failure).
 * Source:      sysdeps/unix/sysv/linux/spawni.c,
 *              sysdeps/unix/sysv/linux/clone-internal.c.
 *
 * The runner passes the probe's absolute path as argv[0]; the child is the
 * same binary, so no shell or other program has to exist in the image.
 */
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbc.h"

extern char **environ;

int main(int argc, char **argv)
{
	char *child_argv[] = { argv[0], "--child", NULL };
	pid_t pid;
	int rc, status;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		_exit(0);

	rc = posix_spawn(&pid, argv[0], NULL, NULL, child_argv, environ);
	if (rc != 0)
		fbc_error(rc, "posix_spawn(%s) returned %d", argv[0], rc);

	if (waitpid(pid, &status, 0) != pid)
		fbc_error(errno, "spawned pid %d, but waitpid failed", (int)pid);
	if (WIFSIGNALED(status))
		fbc_error(0, "spawned, but the child was killed by signal %d", WTERMSIG(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fbc_error(0, "spawned, but the child exited with status %d", WEXITSTATUS(status));

	fbc_ok("spawned %s --child, which exited 0", argv[0]);
}
