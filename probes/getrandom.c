/*
 * getrandom - getrandom(buf, 16, GRND_NONBLOCK).
 *
 * New syscall: getrandom (318/355); the wrapper exists since glibc 2.25.
 *              2.41+ on x86_64 try the vDSO getrandom first, which issues
 *              the syscall itself to seed its state.
 * Fallback:    none: a thin wrapper, the filter's errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/getrandom.c.
 */
#include <sys/random.h>

#include "fbc.h"

int main(void)
{
	unsigned char buf[16];
	ssize_t n;

	errno = 0;
	n = getrandom(buf, sizeof buf, GRND_NONBLOCK);
	if (n < 0)
		fbc_error(errno, "getrandom returned %zd", n);
	if ((size_t)n != sizeof buf)
		fbc_error(0, "getrandom returned %zd of %zu bytes", n, sizeof buf);
	fbc_ok("getrandom filled %zu bytes", sizeof buf);
}
