/*
 * close_range - close_range(50, 50, 0) with fd 50 open, then check it is closed.
 *
 * New syscall: close_range (436); the wrapper exists since glibc 2.34
 *              ("absent" before).
 * Fallback:    none: a thin wrapper (syscalls.list), the filter's errno is
 *              returned as is. (closefrom, unlike it, falls back: row 4.)
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (close_range).
 */
#include <fcntl.h>
#include <unistd.h>

#include "fbc.h"

#define PROBE_FD 50

typedef int (*close_range_fn)(unsigned int first, unsigned int last, int flags);

int main(void)
{
	close_range_fn fn = (close_range_fn)FBC_SYM(close_range);

	if (!fn)
		fbc_absent("close_range");
	if (dup2(STDOUT_FILENO, PROBE_FD) != PROBE_FD)
		fbc_broken("dup2(1, %d): %s", PROBE_FD, strerror(errno));

	errno = 0;
	if (fn(PROBE_FD, PROBE_FD, 0) != 0)
		fbc_error(errno, "close_range(%d, %d, 0) failed", PROBE_FD, PROBE_FD);
	if (fcntl(PROBE_FD, F_GETFD) != -1 || errno != EBADF)
		fbc_error(0, "close_range returned 0, but fd %d is still open", PROBE_FD);
	fbc_ok("close_range(%d, %d, 0) closed fd %d", PROBE_FD, PROBE_FD, PROBE_FD);
}
