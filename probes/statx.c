/*
 * statx - the statx() wrapper on "/".
 *
 * New syscall: statx (332 on x86_64, 383 on i386), used since glibc 2.28
 *              (when the wrapper appeared; "absent" before that).
 * Fallback:    on ENOSYS only: statx_generic, an fstatat-based emulation.
 *              Any other statx error is returned (-1/EPERM).
 *              On i386 since 2.33 stat/fstat/lstat call statx as well (and
 *              ld.so with them); that is seen in every probe's start-up,
 *              not here.
 * Source:      sysdeps/unix/sysv/linux/statx.c.
 *
 * struct statx and STATX_BASIC_STATS come from <sys/stat.h> (_GNU_SOURCE,
 * glibc >= 2.28); the function is looked up so an older libc says "absent".
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "fbc.h"

typedef int (*statx_fn)(int dirfd, const char *path, int flags, unsigned int mask,
			struct statx *buf);

int main(void)
{
	statx_fn fn = (statx_fn)FBC_SYM(statx);
	struct statx buf;

	if (!fn)
		fbc_absent("statx");

	memset(&buf, 0, sizeof buf);
	if (fn(AT_FDCWD, "/", 0, STATX_BASIC_STATS, &buf) != 0)
		fbc_error(errno, "statx(AT_FDCWD, \"/\", 0, STATX_BASIC_STATS) failed");
	fbc_ok("statx(AT_FDCWD, \"/\", 0, STATX_BASIC_STATS) returned 0, mask 0x%x",
	       buf.stx_mask);
}
