/*
 * pidfd_spawn - spawn this probe's own binary with "--child" through
 *               pidfd_spawn and reap it with waitid(P_PIDFD).
 *
 * New syscall: clone3 (435) with CLONE_PIDFD, tried first (pidfd_spawn
 *              appeared in glibc 2.39: "absent" before).
 * Fallback:    clone (with CLONE_PIDFD), on ENOSYS or EINVAL only; any other
 *              clone3 error is pidfd_spawn's return value (EPERM). Before
 *              spawning, __clone_pidfd_supported() probes waitid(P_PIDFD,
 *              INT_MAX) and pidfd_spawn returns ENOSYS when pidfds are
 *              unsupported.
 * Source:      sysdeps/unix/sysv/linux/spawni.c (__spawnix),
 *              sysdeps/unix/sysv/linux/clone-pidfd-support.c.
 */
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbc.h"

#ifndef P_PIDFD
# define P_PIDFD 3	/* Linux 5.4 */
#endif

extern char **environ;

typedef int (*pidfd_spawn_fn)(int *pidfd, const char *path,
			      const posix_spawn_file_actions_t *fa,
			      const posix_spawnattr_t *attr,
			      char *const argv[], char *const envp[]);

int main(int argc, char **argv)
{
	pidfd_spawn_fn fn = (pidfd_spawn_fn)FBC_SYM(pidfd_spawn);
	char *child_argv[] = { argv[0], "--child", NULL };
	siginfo_t info;
	int pidfd = -1, rc;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		_exit(0);
	if (!fn)
		fbc_absent("pidfd_spawn");

	rc = fn(&pidfd, argv[0], NULL, NULL, child_argv, environ);
	if (rc != 0)
		fbc_error(rc, "pidfd_spawn(%s) returned %d", argv[0], rc);

	memset(&info, 0, sizeof info);
	if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &info, WEXITED) != 0)
		fbc_error(errno, "spawned, but waitid(P_PIDFD, %d) failed", pidfd);
	if (info.si_code != CLD_EXITED || info.si_status != 0)
		fbc_error(0, "spawned, but the child ended with si_code %d status %d",
			  info.si_code, info.si_status);
	fbc_ok("pidfd_spawn'ed %s --child, which exited 0", argv[0]);
}
