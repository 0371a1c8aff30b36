/*
 * timerfd_settime - arm a timerfd for 60 s; with "y2038", through the
 *                   64-bit time API, at an absolute CLOCK_REALTIME deadline
 *                   in 2040 (arming returns at once; nothing waits).
 *
 * New syscall: i386 only: timerfd_settime64 (411), since glibc 2.32.
 * Fallback:    2.32-2.33: always first, ENOSYS -> 32-bit timerfd_settime.
 *              2.34+: only when a value does not fit 32 bits
 *              (need_time64); then ENOSYS -> EOVERFLOW, any other error is
 *              returned. So a 60 s timer never issues it on 2.34+.
 * Source:      sysdeps/unix/sysv/linux/timerfd_settime.c (2.32+).
 *
 * __timerfd_settime64 (GLIBC_2.34, the _TIME_BITS=64 entry) is looked up:
 * before 2.34 there is none ("absent").
 */
#include <stdint.h>
#include <sys/timerfd.h>

#include "fbc.h"
#include "lapi.h"

struct its64 { struct ts64 it_interval, it_value; };
typedef int (*settime64_fn)(int, int, const struct its64 *, struct its64 *);

int main(int argc, char **argv)
{
	int y2038 = argc > 1 && strcmp(argv[1], "y2038") == 0;
	settime64_fn settime64 = (settime64_fn)FBC_SYM(__timerfd_settime64);
	int fd = timerfd_create(y2038 ? CLOCK_REALTIME : CLOCK_MONOTONIC, 0);

	if (y2038 && !settime64)
		fbc_absent("__timerfd_settime64");
	if (fd < 0)
		fbc_broken("timerfd_create: %s", strerror(errno));

	if (y2038) {
		struct its64 its;

		memset(&its, 0, sizeof its);
		its.it_value.tv_sec = Y2040;
		if (settime64(fd, TFD_TIMER_ABSTIME, &its, NULL) != 0)
			fbc_error(errno, "__timerfd_settime64(ABSTIME, 2040-01-01) failed");
		fbc_ok("__timerfd_settime64(ABSTIME, 2040-01-01) returned 0");
	} else {
		struct itimerspec its;

		memset(&its, 0, sizeof its);
		its.it_value.tv_sec = 60;
		if (timerfd_settime(fd, 0, &its, NULL) != 0)
			fbc_error(errno, "timerfd_settime(60 s) failed");
		fbc_ok("timerfd_settime(60 s) returned 0");
	}
}
