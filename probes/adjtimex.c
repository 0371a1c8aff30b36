/*
 * adjtimex - read-only: modes = 0 (no privilege needed).
 *
 * New syscall: i386 only: clock_adjtime64 (405), always tried first since
 *              glibc 2.32 (adjtimex is __clock_adjtime64 (CLOCK_REALTIME)).
 * Fallback:    on ENOSYS only: the 32-bit clock_adjtime. Any other error is
 *              returned (-1/EPERM). 2.31 uses the 32-bit call only.
 * Source:      sysdeps/unix/sysv/linux/clock_adjtime.c, adjtimex.c (2.32+).
 */
#include <sys/timex.h>

#include "fbc.h"

int main(void)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof tx);
	tx.modes = 0;
	state = adjtimex(&tx);
	if (state < 0)
		fbc_error(errno, "adjtimex(modes 0) failed");
	fbc_ok("adjtimex(modes 0) returned clock state %d", state);
}
