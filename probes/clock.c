/*
 * clock - clock(), the process CPU time.
 *
 * New syscall: i386 only: clock_gettime64 (403), since glibc 2.31, through
 *              __clock_gettime64 (CLOCK_PROCESS_CPUTIME_ID).
 * Fallback:    as clock_gettime: 2.31-2.33 retry the 32-bit call after
 *              ENOSYS; 2.34+ return the 64-bit vDSO's result as is, and for
 *              a CPU-time clock that vDSO issues clock_gettime64 itself, so
 *              both EPERM and ENOSYS make clock() return (clock_t) -1.
 * Source:      sysdeps/unix/sysv/linux/clock.c, clock_gettime.c.
 */
#include <time.h>

#include "fbc.h"

int main(void)
{
	clock_t c;

	errno = 0;
	c = clock();
	if (c == (clock_t)-1)
		fbc_error(errno, "clock() returned (clock_t) -1");
	fbc_ok("clock() returned a CPU time");
}
