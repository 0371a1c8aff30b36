/*
 * pselect - through the 64-bit time API (__pselect64) on the write end of a
 *           pipe (ready at once) with a timeout of 2^31 s (does not fit 32
 *           bits), so it never waits. Catalogued as pselect.y2038.
 *
 * New syscall: i386 only: pselect6_time64 (413), since glibc 2.33.
 * Fallback:    2.33: always first. 2.34+: only when the timeout does not fit
 *              32 bits (need_time64); then ENOSYS -> EOVERFLOW, any other
 *              error returned.
 * Source:      sysdeps/unix/sysv/linux/pselect.c.
 *
 * __pselect64 (GLIBC_2.34, the _TIME_BITS=64 entry) is looked up: before
 * 2.34 there is none ("absent").
 *
 * "stale-enosys": errno is ENOSYS at the call, as after an earlier call that
 * fell back; glibc 2.34+ tests `r == 0 || errno != ENOSYS` after the time64
 * call, so a result of 1 with that stale errno would become -1/EOVERFLOW.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/select.h>
#include <unistd.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*pselect64_fn)(int, fd_set *, fd_set *, fd_set *, const struct ts64 *,
			    const sigset_t *);

int main(int argc, char **argv)
{
	int stale = argc > 1 && strcmp(argv[1], "stale-enosys") == 0;
	const char *what = stale ? "__pselect64(timeout 2^31 s, errno ENOSYS before)" : "__pselect64(timeout 2^31 s)";
	pselect64_fn pselect64 = (pselect64_fn)FBC_SYM(__pselect64);
	struct ts64 t = { INT64_C(1) << 31, 0, 0 };
	fd_set wr;
	int p[2], n;

	if (!pselect64)
		fbc_absent("__pselect64");
	if (pipe(p) != 0)
		fbc_broken("pipe: %s", strerror(errno));
	FD_ZERO(&wr);
	FD_SET(p[1], &wr);

	errno = stale ? ENOSYS : 0;
	n = pselect64(p[1] + 1, NULL, &wr, NULL, &t, NULL);
	if (n < 0)
		fbc_error(errno, "%s on a writable pipe failed", what);
	if (n != 1 || !FD_ISSET(p[1], &wr))
		fbc_error(0, "%s returned %d: the pipe not ready", what, n);
	fbc_ok("%s returned 1: the pipe is writable", what);
}
