/*
 * clock_nanosleep - a 1 ms relative sleep on CLOCK_MONOTONIC.
 *
 * New syscall: i386 only: clock_nanosleep_time64 (407), since glibc 2.31.
 * Fallback:    2.31-2.33: always first; ENOSYS -> the 32-bit clock_nanosleep,
 *              any other error returned. 2.34+: only when the time does not
 *              fit 32 bits, so a short sleep never issues it.
 * Source:      sysdeps/unix/sysv/linux/clock_nanosleep.c.
 */
#include <time.h>

#include "fbc.h"

int main(void)
{
	struct timespec req = { 0, 1000000 };
	int rc = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL);

	/* clock_nanosleep returns the error number; errno is untouched. */
	if (rc != 0)
		fbc_error(rc, "clock_nanosleep(CLOCK_MONOTONIC, 1 ms) returned %d", rc);
	fbc_ok("clock_nanosleep(CLOCK_MONOTONIC, 1 ms) returned 0");
}
