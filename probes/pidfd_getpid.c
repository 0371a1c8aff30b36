/*
 * pidfd_getpid - the pid behind this process's own pidfd:
 *                pidfd_getpid(pidfd_open(getpid(), 0)) == getpid().
 *
 * New path:    glibc 2.44 asks the kernel first, ioctl(fd, PIDFD_GET_INFO)
 *              (Linux 6.13); glibc 2.39-2.43 only read /proc/self/fdinfo/<fd>.
 *              The wrapper exists since glibc 2.39 ("absent" before).
 * Fallback:    2.44 reads /proc/self/fdinfo only when the ioctl fails with
 *              ENOTTY or EINVAL (what a kernel without PIDFD_GET_INFO says);
 *              any other error, ENOSYS and EPERM included, is pidfd_getpid's.
 * Setup:       pidfd_open (434): without a pidfd the API cannot be called, so
 *              a failed pidfd_open is reported with its errno, and the detail
 *              says so.
 * Source:      sysdeps/unix/sysv/linux/pidfd_getpid.c at glibc-2.44
 *              (commit f8dac91ca3) and at glibc-2.39.
 */
#include <unistd.h>

#include "fbc.h"

typedef int (*pidfd_open_fn)(pid_t pid, unsigned int flags);
typedef pid_t (*pidfd_getpid_fn)(int pidfd);

int main(void)
{
	pidfd_open_fn open_fn = (pidfd_open_fn)FBC_SYM(pidfd_open);
	pidfd_getpid_fn fn = (pidfd_getpid_fn)FBC_SYM(pidfd_getpid);
	pid_t self = getpid(), got;
	int pidfd;

	if (!fn || !open_fn)
		fbc_absent("pidfd_getpid");
	errno = 0;
	pidfd = open_fn(self, 0);
	if (pidfd < 0)
		fbc_error(errno, "setup: pidfd_open(getpid(), 0) failed, pidfd_getpid not reached");

	errno = 0;
	got = fn(pidfd);
	if (got < 0)
		fbc_error(errno, "pidfd_getpid(own pidfd) returned %d", (int)got);
	/* A wrong pid is a failure without an errno: the API answered, but not with us. */
	if (got != self)
		fbc_error(0, "pidfd_getpid(own pidfd) returned %d, getpid() is %d", (int)got, (int)self);
	fbc_ok("pidfd_getpid(own pidfd) returned getpid() = %d", (int)got);
}
