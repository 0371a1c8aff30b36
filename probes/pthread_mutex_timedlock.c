/*
 * pthread_mutex_timedlock - through the 64-bit time API, on a default mutex
 *                           a helper thread holds for 100 ms, with an
 *                           absolute CLOCK_REALTIME deadline in 2040 (does
 *                           not fit 32 bits). Catalogued as
 *                           pthread_mutex_timedlock.y2038.
 *
 * New syscall: i386 only: futex_time64 (422). 2.33: every futex wait tries
 *              it first. 2.34+: only when the deadline does not fit 32 bits.
 * Fallback:    ENOSYS -> EOVERFLOW (2.34+), which __futex_clocklock64 and so
 *              pthread_mutex_timedlock return. Any other error (EPERM) ->
 *              futex_fatal_error(): __libc_fatal "The futex facility returned
 *              an unexpected error code.", SIGABRT.
 * Source:      nptl/futex-internal.c, sysdeps/nptl/futex-internal.h
 *              (__futex_clocklock64), nptl/pthread_mutex_timedlock.c.
 *
 * __pthread_mutex_timedlock64 (GLIBC_2.34) is looked up: "absent" before.
 * If the main thread were delayed past the 100 ms, it would find the mutex
 * free and never wait: then a denied futex_time64 shows as "ok", which the
 * catalogue judges unexpected - never a silent pass.
 */
#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*timedlock64_fn)(pthread_mutex_t *, const struct ts64 *);

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static int ready[2];

static void *holder(void *arg)
{
	struct timespec hold = { 0, 100000000 };

	(void)arg;
	pthread_mutex_lock(&mutex);
	if (write(ready[1], "L", 1) != 1)
		fbc_broken("write: %s", strerror(errno));
	nanosleep(&hold, NULL);
	pthread_mutex_unlock(&mutex);
	return NULL;
}

int main(void)
{
	timedlock64_fn timedlock64 = (timedlock64_fn)FBC_SYM(__pthread_mutex_timedlock64);
	struct ts64 deadline = { Y2040, 0, 0 };
	pthread_t helper;
	char c;
	int rc;

	if (!timedlock64)
		fbc_absent("__pthread_mutex_timedlock64");
	if (pipe(ready) != 0)
		fbc_broken("pipe: %s", strerror(errno));
	rc = pthread_create(&helper, NULL, holder, NULL);
	if (rc != 0)
		/* An observation, not a broken probe: the helper thread needs clone3,
		 * and a filter that denies it stops us before the futex path. */
		fbc_error(rc, "setup: pthread_create (the holder) failed; the futex_time64 path was not reached");
	if (read(ready[0], &c, 1) != 1)	/* the holder has the mutex now */
		fbc_broken("read: %s", strerror(errno));

	rc = timedlock64(&mutex, &deadline);
	if (rc == 0)
		pthread_mutex_unlock(&mutex);
	pthread_join(helper, NULL);
	if (rc != 0)
		fbc_error(rc, "__pthread_mutex_timedlock64(deadline 2040-01-01) returned %d", rc);
	fbc_ok("__pthread_mutex_timedlock64(deadline 2040-01-01) got the mutex once released");
}
