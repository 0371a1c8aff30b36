/*
 * pidfd_send_signal - signal 0 (a permission check that sends nothing) to
 *     this process, through a /proc/self directory fd, which the kernel
 *     accepts as a pidfd here, so that no other new syscall is needed.
 *
 * New syscall: pidfd_send_signal (424); the wrapper exists since glibc 2.36
 *              ("absent" before).
 * Fallback:    none: a thin wrapper (syscalls.list EXTRA), the filter's
 *              errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (pidfd_send_signal).
 */
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "fbc.h"

typedef int (*pidfd_send_signal_fn)(int pidfd, int sig, siginfo_t *info, unsigned int flags);

int main(void)
{
	pidfd_send_signal_fn fn = (pidfd_send_signal_fn)FBC_SYM(pidfd_send_signal);
	int fd;

	if (!fn)
		fbc_absent("pidfd_send_signal");
	fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		fbc_broken("open(/proc/self): %s", strerror(errno));

	errno = 0;
	if (fn(fd, 0, NULL, 0) != 0)
		fbc_error(errno, "pidfd_send_signal(/proc/self fd, 0, NULL, 0) failed");
	fbc_ok("pidfd_send_signal(/proc/self fd, signal 0) succeeded");
}
