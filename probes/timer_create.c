/*
 * timer_create - timer_create(CLOCK_MONOTONIC, SIGEV_THREAD), then timer_delete.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34 when timer_create
 *              starts its helper thread (once, with pthread_once) for
 *              SIGEV_THREAD timers.
 * Fallback:    clone, on ENOSYS only. If the helper thread cannot be
 *              created, timer_create sets errno to EAGAIN ("No resources to
 *              start the helper thread") whatever the clone3 error was.
 * Source:      sysdeps/unix/sysv/linux/timer_create.c,
 *              sysdeps/unix/sysv/linux/timer_routines.c.
 *
 * glibc < 2.34 keeps timer_create in librt, which the probe build does not
 * link: fbc_sym_in finds it in libc, else in librt.so.1.
 */
#include <signal.h>
#include <time.h>

#include "fbc.h"

typedef __typeof__(timer_create) timer_create_fn;
typedef __typeof__(timer_delete) timer_delete_fn;

static void notify(union sigval sv)
{
	(void)sv;
}

int main(void)
{
	timer_create_fn *create = (timer_create_fn *)fbc_sym_in("librt.so.1", "timer_create");
	timer_delete_fn *delete = (timer_delete_fn *)fbc_sym_in("librt.so.1", "timer_delete");
	struct sigevent sev;
	timer_t timer;

	if (!create || !delete)
		fbc_absent("timer_create");

	memset(&sev, 0, sizeof sev);
	sev.sigev_notify = SIGEV_THREAD;
	sev.sigev_notify_function = notify;
	errno = 0;
	if (create(CLOCK_MONOTONIC, &sev, &timer) != 0)
		fbc_error(errno, "timer_create(CLOCK_MONOTONIC, SIGEV_THREAD) failed");
	if (delete(timer) != 0)
		fbc_error(errno, "timer created (helper thread started), but timer_delete failed");
	fbc_ok("SIGEV_THREAD timer created (its helper thread started) and deleted");
}
