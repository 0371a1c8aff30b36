/*
 * pthread_cond_timedwait - through the 64-bit time API, with an absolute
 *                          CLOCK_REALTIME deadline in 2040 (does not fit 32
 *                          bits). Catalogued as pthread_cond_timedwait.y2038.
 *                          A helper thread broadcasts every 50 ms, starting
 *                          50 ms after the waiter has released the mutex,
 *                          so an allowed wait returns 0 at once.
 *
 * New syscall: i386 only: futex_time64 (422). 2.33: every futex wait tries
 *              it first. 2.34+: only when the deadline does not fit 32 bits.
 * Fallback:    ENOSYS -> EOVERFLOW (2.34+), which pthread_cond_timedwait
 *              returns. Any other error (EPERM) -> futex_fatal_error():
 *              __libc_fatal "The futex facility returned an unexpected error
 *              code.", SIGABRT.
 * Source:      nptl/futex-internal.c (__futex_abstimed_wait_common),
 *              nptl/pthread_cond_wait.c (ETIMEDOUT || EOVERFLOW -> return).
 *
 * __pthread_cond_timedwait64 (GLIBC_2.34) is looked up: "absent" before.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*timedwait64_fn)(pthread_cond_t *, pthread_mutex_t *, const struct ts64 *);

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int done;

static void *waker(void *arg)
{
	struct timespec pause = { 0, 50000000 };
	int stop = 0;

	(void)arg;
	pthread_mutex_lock(&mutex);	/* only free once the waiter waits */
	pthread_mutex_unlock(&mutex);
	while (!stop) {
		nanosleep(&pause, NULL);
		pthread_mutex_lock(&mutex);
		stop = done;
		if (!stop)
			pthread_cond_broadcast(&cond);
		pthread_mutex_unlock(&mutex);
	}
	return NULL;
}

int main(void)
{
	timedwait64_fn timedwait64 = (timedwait64_fn)FBC_SYM(__pthread_cond_timedwait64);
	struct ts64 deadline = { Y2040, 0, 0 };
	pthread_t helper;
	int rc;

	if (!timedwait64)
		fbc_absent("__pthread_cond_timedwait64");
	pthread_mutex_lock(&mutex);
	rc = pthread_create(&helper, NULL, waker, NULL);
	if (rc != 0)
		/* An observation, not a broken probe: the helper thread needs clone3,
		 * and a filter that denies it stops us before the futex path. */
		fbc_error(rc, "setup: pthread_create (the waker) failed; the futex_time64 path was not reached");
	rc = timedwait64(&cond, &mutex, &deadline);
	done = 1;
	pthread_mutex_unlock(&mutex);
	pthread_join(helper, NULL);

	if (rc != 0)
		fbc_error(rc, "__pthread_cond_timedwait64(deadline 2040-01-01) returned %d", rc);
	fbc_ok("__pthread_cond_timedwait64(deadline 2040-01-01) woken by a broadcast, returned 0");
}
