/*
 * clock_gettime - CLOCK_REALTIME, or CLOCK_PROCESS_CPUTIME_ID with "cputime".
 *
 * New syscall: i386 only: clock_gettime64 (403), since glibc 2.31.
 * Fallback:    2.31-2.33: the vDSO (__vdso_clock_gettime64), and on ENOSYS
 *              the syscall, then the 32-bit vDSO/syscall (INLINE_VSYSCALL).
 *              2.34+: with __vdso_clock_gettime64 present its result is
 *              returned as is, no fallback at all. REALTIME is served by the
 *              vDSO without a syscall; CPU-time clocks make the vDSO issue
 *              clock_gettime64 itself, so on 2.34+ both EPERM and ENOSYS fail.
 * Source:      sysdeps/unix/sysv/linux/clock_gettime.c,
 *              sysdeps/unix/sysv/linux/sysdep-vdso.h (2.31).
 */
#include <time.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	int cpu = argc > 1 && strcmp(argv[1], "cputime") == 0;
	clockid_t id = cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_REALTIME;
	const char *name = cpu ? "CLOCK_PROCESS_CPUTIME_ID" : "CLOCK_REALTIME";
	struct timespec ts = { -1, -1 };

	if (clock_gettime(id, &ts) != 0)
		fbc_error(errno, "clock_gettime(%s) failed", name);
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		fbc_error(0, "clock_gettime(%s) returned 0 but an invalid time", name);
	fbc_ok("clock_gettime(%s) returned 0", name);
}
