/*
 * ppoll - poll the write end of a pipe (ready at once) with a 1 s timeout;
 *         with "y2038", through the 64-bit time API with a timeout of 2^31 s
 *         (does not fit 32 bits). The fd is ready, so neither waits.
 *
 * New syscall: i386 only: ppoll_time64 (414), since glibc 2.31.
 * Fallback:    2.31-2.33: always first; ENOSYS -> 32-bit ppoll (EOVERFLOW
 *              if the timeout does not fit), any other error returned.
 *              2.34+: only when the timeout does not fit 32 bits
 *              (need_time64); then ENOSYS -> EOVERFLOW, any other error
 *              returned.
 * Source:      sysdeps/unix/sysv/linux/ppoll.c.
 *
 * __ppoll64 (GLIBC_2.34, the _TIME_BITS=64 entry) is looked up: before 2.34
 * there is none ("absent").
 *
 * "y2038 stale-enosys": errno is ENOSYS when __ppoll64 is called, as it is
 * after an earlier call that fell back. glibc 2.34+ tests `ret == 0 || errno
 * != ENOSYS` after ppoll_time64, so a call that returns 1 (the ready pipe)
 * with that stale errno would be turned into -1/EOVERFLOW.
 *
 * "y2038 after-faccessat" (id ppoll.y2038.after_faccessat): the same call in an ordinary
 * program's flow: faccessat(AT_FDCWD, "/", F_OK, 0) first (whatever it returns), then
 * __ppoll64 with errno as faccessat left it. Where faccessat2 gets ENOSYS, glibc 2.33+'s
 * faccessat falls back through INLINE_SYSCALL and leaves ENOSYS behind.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <unistd.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*ppoll64_fn)(struct pollfd *, nfds_t, const struct ts64 *, const sigset_t *);

int main(int argc, char **argv)
{
	int y2038 = argc > 1 && strcmp(argv[1], "y2038") == 0;
	int stale = argc > 2 && strcmp(argv[2], "stale-enosys") == 0;
	int chain = argc > 2 && strcmp(argv[2], "after-faccessat") == 0;
	ppoll64_fn ppoll64 = (ppoll64_fn)FBC_SYM(__ppoll64);
	const char *what = !y2038 ? "ppoll(timeout 1 s)" : stale ? "__ppoll64(timeout 2^31 s, errno ENOSYS before)"
			   : chain ? "__ppoll64(timeout 2^31 s) after faccessat(\"/\", F_OK)" : "__ppoll64(timeout 2^31 s)";
	struct pollfd pfd;
	int p[2], n;

	if (y2038 && !ppoll64)
		fbc_absent("__ppoll64");
	if (pipe(p) != 0)
		fbc_broken("pipe: %s", strerror(errno));
	pfd.fd = p[1];
	pfd.events = POLLOUT;
	pfd.revents = 0;

	if (y2038) {
		struct ts64 t = { INT64_C(1) << 31, 0, 0 };

		errno = stale ? ENOSYS : 0;
		if (chain)
			(void)faccessat(AT_FDCWD, "/", F_OK, 0);	/* its errno is left as it is */
		n = ppoll64(&pfd, 1, &t, NULL);
	} else {
		struct timespec t = { 1, 0 };

		n = ppoll(&pfd, 1, &t, NULL);
	}
	if (n < 0)
		fbc_error(errno, "%s on a writable pipe failed", what);
	if (n != 1 || !(pfd.revents & POLLOUT))
		fbc_error(0, "%s returned %d, revents 0x%x: the pipe not ready", what, n, pfd.revents);
	fbc_ok("%s returned 1: the pipe is writable", what);
}
