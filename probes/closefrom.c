/*
 * closefrom - closefrom(3) with fd 50 open, then check fd 50 is closed.
 *
 * New syscall: close_range (436), tried first since glibc 2.34 (when
 *              closefrom itself appeared; "absent" before that).
 * Fallback:    on ANY close_range error: scan /proc/self/fd and close each
 *              fd. If that fails too (no /proc), __fortify_fail aborts with
 *              "closefrom failed to close a file descriptor" (SIGABRT).
 *              From 2.35, with __ASSUME_CLOSE_RANGE (kernel >= 5.9 builds)
 *              there is no fallback, so any error aborts.
 * Source:      sysdeps/unix/sysv/linux/closefrom.c (2.34), io/closefrom.c
 *              (2.35+), sysdeps/unix/sysv/linux/closefrom_fallback.c.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fbc.h"

#define PROBE_FD 50

typedef void (*closefrom_fn)(int lowfd);

int main(void)
{
	closefrom_fn fn = (closefrom_fn)FBC_SYM(closefrom);
	int flags, err;

	if (!fn)
		fbc_absent("closefrom");

	if (dup2(STDOUT_FILENO, PROBE_FD) != PROBE_FD)
		fbc_broken("dup2(1, %d): %s", PROBE_FD, strerror(errno));

	/* closefrom returns nothing: the only observation is what is left open. */
	fn(3);
	flags = fcntl(PROBE_FD, F_GETFD);
	err = errno;

	if (flags == -1 && err == EBADF)
		fbc_ok("closefrom(3) closed fd %d", PROBE_FD);
	if (flags == -1)
		fbc_error(err, "closefrom(3) returned; fcntl(%d, F_GETFD) failed oddly", PROBE_FD);
	fbc_error(0, "closefrom(3) returned, but fd %d is still open", PROBE_FD);
}
