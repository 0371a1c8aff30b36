/*
 * epoll_pwait2 - epoll_pwait2 on an empty epoll set with a zero timeout
 *                (returns 0 at once).
 *
 * New syscall: epoll_pwait2 (441); the wrapper exists since glibc 2.35
 *              ("absent" before). It passes a 64-bit timespec on i386 too.
 * Fallback:    none: a thin wrapper, the filter's errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/epoll_pwait2.c.
 */
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include "fbc.h"

/* The default symbol takes the struct timespec of this build (32-bit time_t on i386). */
typedef int (*epoll_pwait2_fn)(int epfd, struct epoll_event *events, int maxevents,
			       const struct timespec *timeout, const sigset_t *sigmask);

int main(void)
{
	epoll_pwait2_fn fn = (epoll_pwait2_fn)FBC_SYM(epoll_pwait2);
	struct timespec zero = { 0, 0 };
	struct epoll_event ev;
	int epfd, n;

	if (!fn)
		fbc_absent("epoll_pwait2");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		fbc_broken("epoll_create1: %s", strerror(errno));

	errno = 0;
	n = fn(epfd, &ev, 1, &zero, NULL);
	if (n < 0)
		fbc_error(errno, "epoll_pwait2(empty set, timeout 0) returned %d", n);
	if (n != 0)
		fbc_error(0, "epoll_pwait2 on an empty set returned %d events", n);
	fbc_ok("epoll_pwait2(empty set, timeout 0) returned 0");
}
