/*
 * timer_gettime - timer_create(CLOCK_MONOTONIC, SIGEV_NONE), timer_gettime.
 *
 * New syscall: i386 only: timer_gettime64 (408), always tried first since
 *              glibc 2.31.
 * Fallback:    on ENOSYS only: the 32-bit timer_gettime. Any other error is
 *              returned (-1/EPERM).
 * Source:      sysdeps/unix/sysv/linux/timer_gettime.c.
 *
 * timer_* lived in librt until 2.34: looked up, loading librt.so.1 if the
 * libc lacks them (the probes are not linked with -lrt).
 */
#include <signal.h>
#include <time.h>

#include "fbc.h"

typedef int (*create_fn)(clockid_t, struct sigevent *, timer_t *);
typedef int (*gettime_fn)(timer_t, struct itimerspec *);

int main(void)
{
	create_fn create = (create_fn)fbc_sym_in("librt.so.1", "timer_create");
	gettime_fn gettime;
	struct sigevent sev;
	struct itimerspec its;
	timer_t timer;

	gettime = (gettime_fn)fbc_sym_in("librt.so.1", "timer_gettime");
	if (!create || !gettime)
		fbc_absent(create ? "timer_gettime" : "timer_create");

	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_NONE;
	if (create(CLOCK_MONOTONIC, &sev, &timer) != 0)
		fbc_broken("timer_create(CLOCK_MONOTONIC, SIGEV_NONE): %s", strerror(errno));

	memset(&its, 0xff, sizeof its);
	if (gettime(timer, &its) != 0)
		fbc_error(errno, "timer_gettime on a fresh timer failed");
	if (its.it_value.tv_sec != 0 || its.it_value.tv_nsec != 0)
		fbc_error(0, "timer_gettime returned 0 but a fresh timer reads as armed");
	fbc_ok("timer_gettime on a fresh timer returned 0, disarmed");
}
