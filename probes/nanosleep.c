/*
 * nanosleep - a 1 ms sleep.
 *
 * New syscall: i386 only: clock_nanosleep_time64 (407), since glibc 2.31
 *              (nanosleep is __clock_nanosleep (CLOCK_REALTIME, 0, ...)).
 * Fallback:    2.31-2.33: always first; ENOSYS -> 32-bit clock_nanosleep,
 *              any other error -> -1/errno. 2.34+: only for times that do
 *              not fit 32 bits, so a short sleep never issues it.
 * Source:      posix/nanosleep.c (2.31), sysdeps/unix/sysv/linux/nanosleep.c
 *              and clock_nanosleep.c (2.34+).
 */
#include <time.h>

#include "fbc.h"

int main(void)
{
	struct timespec req = { 0, 1000000 };

	if (nanosleep(&req, NULL) != 0)
		fbc_error(errno, "nanosleep(1 ms) failed");
	fbc_ok("nanosleep(1 ms) returned 0");
}
