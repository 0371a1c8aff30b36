/*
 * ntp_gettime - read the kernel clock (clock_adjtime with modes 0).
 *
 * New syscall: i386 only: clock_adjtime64 (405), always tried first since
 *              glibc 2.32 (__ntp_gettime64 -> __clock_adjtime64).
 * Fallback:    on ENOSYS only: the 32-bit clock_adjtime. Any other error is
 *              returned (-1/EPERM). 2.31 uses __adjtimex, 32-bit only.
 * Source:      sysdeps/unix/sysv/linux/ntp_gettime.c, clock_adjtime.c.
 */
#include <sys/timex.h>

#include "fbc.h"

int main(void)
{
	struct ntptimeval ntv;
	int state;

	memset(&ntv, 0, sizeof ntv);
	state = ntp_gettime(&ntv);
	if (state < 0)
		fbc_error(errno, "ntp_gettime failed");
	if (ntv.time.tv_sec <= 0)
		fbc_error(0, "ntp_gettime returned %d but no time", state);
	fbc_ok("ntp_gettime returned clock state %d", state);
}
