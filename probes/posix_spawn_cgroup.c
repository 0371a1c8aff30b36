/*
 * posix_spawn.cgroup - posix_spawn this probe with POSIX_SPAWN_SETCGROUP
 *     (posix_spawnattr_setcgroup_np, glibc 2.39+), the spawn that has no
 *     fallback from clone3.
 *
 * New syscall: clone3 (435) with CLONE_INTO_CGROUP.
 * Fallback:    none. An ENOSYS or EINVAL from clone3 leads to the clone path
 *              for every other spawn, but with SETCGROUP the spawn fails:
 *              ENOSYS becomes ENOTSUP, any other errno (EPERM, EINVAL) is
 *              posix_spawn's result.
 * Source:      sysdeps/unix/sysv/linux/spawni.c at glibc-2.39 and glibc-2.41
 *              ("No fallback for POSIX_SPAWN_SETCGROUP if clone3 is not
 *              supported"); the attribute: commit ce2bfb8569 (BZ 26371).
 *
 * The cgroup given is a descriptor of "/", which is no cgroup2 directory on
 * purpose: a container seldom has a cgroup2 directory it may spawn into (none
 * on a host with hybrid cgroups), so the probe does not depend on one. Where
 * the filter lets clone3 through, the kernel refuses that descriptor with
 * EBADF (kernel/cgroup/cgroup.c, cgroup_css_set_fork), and that EBADF coming
 * back is this probe's "ok": glibc made the clone3 call and handed the
 * kernel's answer through. A filter's errno comes before the kernel looks at
 * the descriptor, so a denial is seen as itself (EPERM) or, for ENOSYS, as
 * glibc's ENOTSUP (EOPNOTSUPP). A spawn that succeeds did not use the
 * descriptor at all: an error, with no errno.
 */
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fbc.h"

#ifndef POSIX_SPAWN_SETCGROUP
#define POSIX_SPAWN_SETCGROUP 0x100	/* posix/spawn.h at glibc-2.39 */
#endif

extern char **environ;

typedef int (*setcgroup_fn)(posix_spawnattr_t *attr, int cgroup);

int main(int argc, char **argv)
{
	setcgroup_fn setcgroup = (setcgroup_fn)FBC_SYM(posix_spawnattr_setcgroup_np);
	char *child_argv[] = { argv[0], "--child", NULL };
	posix_spawnattr_t attr;
	pid_t pid;
	int fd, rc, status;

	if (argc > 1 && strcmp(argv[1], "--child") == 0)
		_exit(0);
	if (!setcgroup)
		fbc_absent("posix_spawnattr_setcgroup_np");

	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fbc_broken("open(\"/\"): %s", strerror(errno));
	if (posix_spawnattr_init(&attr) != 0)
		fbc_broken("posix_spawnattr_init failed");
	rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETCGROUP);
	if (rc != 0)
		fbc_error(rc, "posix_spawnattr_setflags(POSIX_SPAWN_SETCGROUP) returned %d", rc);
	rc = setcgroup(&attr, fd);
	if (rc != 0)
		fbc_error(rc, "posix_spawnattr_setcgroup_np returned %d", rc);

	rc = posix_spawn(&pid, argv[0], NULL, &attr, child_argv, environ);
	if (rc == EBADF)
		fbc_ok("posix_spawn with POSIX_SPAWN_SETCGROUP reached the kernel through clone3, which refused "
		       "the descriptor of / as a cgroup (EBADF)");
	if (rc != 0)
		fbc_error(rc, "posix_spawn with POSIX_SPAWN_SETCGROUP returned %d", rc);
	waitpid(pid, &status, 0);
	fbc_error(0, "posix_spawn with POSIX_SPAWN_SETCGROUP spawned although / is no cgroup: "
		  "the cgroup descriptor was not used");
}
