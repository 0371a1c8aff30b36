/*
 * pidfd_open - pidfd_open(getpid(), 0): a pidfd for this process itself.
 *
 * New syscall: pidfd_open (434); the wrapper exists since glibc 2.36
 *              ("absent" before).
 * Fallback:    none: a thin wrapper (syscalls.list EXTRA), the filter's
 *              errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (pidfd_open).
 */
#include <unistd.h>

#include "fbc.h"

typedef int (*pidfd_open_fn)(pid_t pid, unsigned int flags);

int main(void)
{
	pidfd_open_fn fn = (pidfd_open_fn)FBC_SYM(pidfd_open);
	int fd;

	if (!fn)
		fbc_absent("pidfd_open");
	errno = 0;
	fd = fn(getpid(), 0);
	if (fd < 0)
		fbc_error(errno, "pidfd_open(getpid(), 0) returned %d", fd);
	close(fd);
	fbc_ok("pidfd_open(getpid(), 0) gave a descriptor");
}
