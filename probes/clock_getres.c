/*
 * clock_getres - clock_getres(CLOCK_REALTIME).
 *
 * New syscall: i386 only: clock_getres_time64 (406), always tried first
 *              since glibc 2.31 (i386 has no 64-bit getres vDSO).
 * Fallback:    on ENOSYS only: the 32-bit vDSO/syscall clock_getres. Any
 *              other error is returned (-1/EPERM).
 * Source:      sysdeps/unix/sysv/linux/clock_getres.c.
 */
#include <time.h>

#include "fbc.h"

int main(void)
{
	struct timespec ts = { -1, -1 };

	if (clock_getres(CLOCK_REALTIME, &ts) != 0)
		fbc_error(errno, "clock_getres(CLOCK_REALTIME) failed");
	if (ts.tv_sec < 0 || ts.tv_nsec <= 0)
		fbc_error(0, "clock_getres(CLOCK_REALTIME) returned 0 but no resolution");
	fbc_ok("clock_getres(CLOCK_REALTIME) returned 0, %ld ns", (long)ts.tv_nsec);
}
