/*
 * pidfd_getfd - duplicate this process's own stdout through
 *               pidfd_getfd(pidfd_open(getpid()), 1, 0).
 *
 * New syscall: pidfd_getfd (438); the wrapper exists since glibc 2.36
 *              ("absent" before). Setup needs pidfd_open (434): the kernel
 *              takes only a real pidfd here, so a failed pidfd_open is
 *              reported with its errno and the detail says so.
 * Fallback:    none: thin wrappers (syscalls.list EXTRA), the filter's
 *              errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (pidfd_getfd, pidfd_open).
 */
#include <unistd.h>

#include "fbc.h"

typedef int (*pidfd_open_fn)(pid_t pid, unsigned int flags);
typedef int (*pidfd_getfd_fn)(int pidfd, int targetfd, unsigned int flags);

int main(void)
{
	pidfd_open_fn open_fn = (pidfd_open_fn)FBC_SYM(pidfd_open);
	pidfd_getfd_fn fn = (pidfd_getfd_fn)FBC_SYM(pidfd_getfd);
	int pidfd, fd;

	if (!fn || !open_fn)
		fbc_absent("pidfd_getfd");
	errno = 0;
	pidfd = open_fn(getpid(), 0);
	if (pidfd < 0)
		fbc_error(errno, "setup: pidfd_open(getpid(), 0) failed, pidfd_getfd not reached");

	errno = 0;
	fd = fn(pidfd, STDOUT_FILENO, 0);
	if (fd < 0)
		fbc_error(errno, "pidfd_getfd(own pidfd, 1, 0) returned %d", fd);
	fbc_ok("pidfd_getfd duplicated this process's fd 1 as fd %d", fd);
}
