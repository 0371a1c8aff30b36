/*
 * timerfd_gettime - on a fresh CLOCK_MONOTONIC timerfd.
 *
 * New syscall: i386 only: timerfd_gettime64 (410), always tried first since
 *              glibc 2.32 (2.31 uses the 32-bit syscall only).
 * Fallback:    on ENOSYS only: the 32-bit timerfd_gettime. Any other error
 *              is returned (-1/EPERM).
 * Source:      sysdeps/unix/sysv/linux/timerfd_gettime.c (glibc 2.32+).
 */
#include <sys/timerfd.h>

#include "fbc.h"

int main(void)
{
	struct itimerspec its;
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);

	if (fd < 0)
		fbc_broken("timerfd_create(CLOCK_MONOTONIC): %s", strerror(errno));
	memset(&its, 0xff, sizeof its);
	if (timerfd_gettime(fd, &its) != 0)
		fbc_error(errno, "timerfd_gettime on a fresh timerfd failed");
	if (its.it_value.tv_sec != 0 || its.it_value.tv_nsec != 0)
		fbc_error(0, "timerfd_gettime returned 0 but a fresh timerfd reads as armed");
	fbc_ok("timerfd_gettime on a fresh timerfd returned 0, disarmed");
}
