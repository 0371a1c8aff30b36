/*
 * sched_rr_get_interval - of the calling process (pid 0).
 *
 * New syscall: i386 only: sched_rr_get_interval_time64 (423), always tried
 *              first since glibc 2.32.
 * Fallback:    on ENOSYS only: the 32-bit sched_rr_get_interval. Any other
 *              error is returned (-1/EPERM).
 * Source:      sysdeps/unix/sysv/linux/sched_rr_gi.c (glibc 2.32+).
 */
#include <sched.h>

#include "fbc.h"

int main(void)
{
	struct timespec ts = { -1, -1 };

	if (sched_rr_get_interval(0, &ts) != 0)
		fbc_error(errno, "sched_rr_get_interval(0) failed");
	if (ts.tv_sec < 0 || ts.tv_nsec < 0)
		fbc_error(0, "sched_rr_get_interval(0) returned 0 but left the interval unset");
	fbc_ok("sched_rr_get_interval(0) returned 0");
}
