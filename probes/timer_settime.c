/*
 * timer_settime - arm a SIGEV_NONE CLOCK_MONOTONIC timer for 60 s.
 *
 * New syscall: i386 only: timer_settime64 (409), always tried first since
 *              glibc 2.31 (whatever the value).
 * Fallback:    on ENOSYS only: the 32-bit timer_settime (EOVERFLOW if the
 *              value does not fit). Any other error is returned (-1/EPERM).
 * Source:      sysdeps/unix/sysv/linux/timer_settime.c.
 *
 * timer_* lived in librt until 2.34: looked up, loading librt.so.1 if the
 * libc lacks them (the probes are not linked with -lrt).
 */
#include <signal.h>
#include <time.h>

#include "fbc.h"

typedef int (*create_fn)(clockid_t, struct sigevent *, timer_t *);
typedef int (*settime_fn)(timer_t, int, const struct itimerspec *, struct itimerspec *);

int main(void)
{
	create_fn create = (create_fn)fbc_sym_in("librt.so.1", "timer_create");
	settime_fn settime;
	struct sigevent sev;
	struct itimerspec its;
	timer_t timer;

	settime = (settime_fn)fbc_sym_in("librt.so.1", "timer_settime");
	if (!create || !settime)
		fbc_absent(create ? "timer_settime" : "timer_create");

	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_NONE;
	if (create(CLOCK_MONOTONIC, &sev, &timer) != 0)
		fbc_broken("timer_create(CLOCK_MONOTONIC, SIGEV_NONE): %s", strerror(errno));

	memset(&its, 0, sizeof its);
	its.it_value.tv_sec = 60;
	if (settime(timer, 0, &its, NULL) != 0)
		fbc_error(errno, "timer_settime(60 s) failed");
	fbc_ok("timer_settime(60 s) returned 0");
}
