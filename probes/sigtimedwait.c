/*
 * sigtimedwait - with "y2038": block SIGUSR1, raise it, then
 *                __sigtimedwait64({SIGUSR1}, timeout 2^31 s). The signal is
 *                already pending, so an allowed call returns SIGUSR1 at once.
 *
 * New syscall: i386 only: rt_sigtimedwait_time64 (421), since glibc 2.33.
 * Fallback:    2.34+: only when the timeout does not fit 32 bits
 *              (need_time64); then ENOSYS -> EOVERFLOW, any other error
 *              returned. Otherwise the 32-bit rt_sigtimedwait.
 * Source:      sysdeps/unix/sysv/linux/sigtimedwait.c.
 *
 * glibc tests `result == 0 || errno != ENOSYS` after the time64 call, and a
 * success returns the signal number, so a stale errno would matter: errno is
 * cleared first. __sigtimedwait64 (GLIBC_2.34) is looked up: before 2.34
 * there is none ("absent").
 */
#include <signal.h>
#include <stdint.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*sigtimedwait64_fn)(const sigset_t *, siginfo_t *, const struct ts64 *);

int main(int argc, char **argv)
{
	int y2038 = argc > 1 && strcmp(argv[1], "y2038") == 0;
	/* "y2038 stale-enosys": errno is ENOSYS at the call, as after an earlier fallback;
	 * glibc 2.34+ tests `result == 0 || errno != ENOSYS` after the time64 call. */
	int stale = argc > 2 && strcmp(argv[2], "stale-enosys") == 0;
	sigtimedwait64_fn stw64 = (sigtimedwait64_fn)FBC_SYM(__sigtimedwait64);
	const char *what = !y2038 ? "sigtimedwait(timeout 1 s)"
			   : stale ? "__sigtimedwait64(timeout 2^31 s, errno ENOSYS before)" : "__sigtimedwait64(timeout 2^31 s)";
	siginfo_t info;
	sigset_t set;
	int n;

	if (y2038 && !stw64)
		fbc_absent("__sigtimedwait64");
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		fbc_broken("sigprocmask: %s", strerror(errno));
	if (raise(SIGUSR1) != 0)
		fbc_broken("raise(SIGUSR1): %s", strerror(errno));

	errno = stale ? ENOSYS : 0;
	if (y2038) {
		struct ts64 t = { INT64_C(1) << 31, 0, 0 };

		n = stw64(&set, &info, &t);
	} else {
		struct timespec t = { 1, 0 };

		n = sigtimedwait(&set, &info, &t);
	}
	if (n < 0)
		fbc_error(errno, "%s with SIGUSR1 pending failed", what);
	if (n != SIGUSR1)
		fbc_error(0, "%s returned %d, not SIGUSR1 (%d)", what, n, SIGUSR1);
	fbc_ok("%s returned the pending SIGUSR1", what);
}
