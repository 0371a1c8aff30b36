/*
 * sem_timedwait - through the 64-bit time API, on a semaphore with no token,
 *                 with an absolute CLOCK_REALTIME deadline in 2040 (does not
 *                 fit 32 bits). Catalogued as sem_timedwait.y2038. A SIGALRM
 *                 after 200 ms interrupts an allowed wait (EINTR), so it
 *                 returns at once; no token is ever posted.
 *
 * New syscall: i386 only: futex_time64 (422). 2.33: every futex wait tries
 *              it first. 2.34+: only when the deadline does not fit 32 bits.
 * Fallback:    ENOSYS -> EOVERFLOW (2.34+). Any other error (EPERM) ->
 *              futex_fatal_error(): __libc_fatal "The futex facility returned
 *              an unexpected error code.", SIGABRT.
 *              Bug: without 64-bit atomics (i386) __new_sem_wait_slow64
 *              leaves only on ETIMEDOUT or EINTR and retries on anything
 *              else, so EOVERFLOW makes it spin until a token appears -
 *              forever here; the runner's time limit ends it ("timeout").
 * Source:      nptl/sem_waitcommon.c, nptl/futex-internal.c.
 *
 * __sem_timedwait64 (GLIBC_2.34) is looked up: "absent" before.
 */
#include <semaphore.h>
#include <signal.h>
#include <stdint.h>
#include <sys/time.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*timedwait64_fn)(sem_t *, const struct ts64 *);

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

int main(void)
{
	timedwait64_fn timedwait64 = (timedwait64_fn)FBC_SYM(__sem_timedwait64);
	struct ts64 deadline = { Y2040, 0, 0 };
	struct itimerval in200ms = { { 0, 0 }, { 0, 200000 } };
	struct sigaction sa;
	sem_t sem;
	int rc, err;

	if (!timedwait64)
		fbc_absent("__sem_timedwait64");
	if (sem_init(&sem, 0, 0) != 0)
		fbc_broken("sem_init: %s", strerror(errno));
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;	/* no SA_RESTART: the wait ends with EINTR */
	if (sigaction(SIGALRM, &sa, NULL) != 0 || setitimer(ITIMER_REAL, &in200ms, NULL) != 0)
		fbc_broken("sigaction/setitimer: %s", strerror(errno));

	rc = timedwait64(&sem, &deadline);
	err = errno;
	if (rc == -1 && err == EINTR && alarms > 0)
		fbc_ok("__sem_timedwait64(deadline 2040-01-01) waited until SIGALRM interrupted it (EINTR)");
	if (rc == -1)
		fbc_error(err, "__sem_timedwait64(deadline 2040-01-01) failed");
	fbc_error(0, "__sem_timedwait64(deadline 2040-01-01) returned %d with no token posted", rc);
}
