/*
 * pwritev2 - pwritev2 of 3 bytes at offset 0 of a fresh file, with flags 0,
 *            or with "dsync": RWF_DSYNC (a synchronous write; any file).
 *
 * New syscall: pwritev2 (328/379), tried first for ANY flags since glibc
 *              2.26; deliberately not __ASSUME-gated (kernel-features.h).
 * Fallback:    on ENOSYS only: flags 0 -> pwritev (writev for offset -1);
 *              flags != 0 -> ENOTSUP (= EOPNOTSUPP). Any other error, also
 *              with flags 0, is returned as is (EPERM).
 * Source:      sysdeps/unix/sysv/linux/pwritev2.c, pwritev64v2.c.
 */
#include <sys/uio.h>
#include <unistd.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	int flags = argc > 1 && strcmp(argv[1], "dsync") == 0 ? RWF_DSYNC : 0;
	char path[64], buf[4] = "";
	struct iovec iov = { "xyz", 3 };
	int fd;
	ssize_t n;

	fd = fbc_scratch_file("pwritev2", path, sizeof path);
	unlink(path);

	errno = 0;
	n = pwritev2(fd, &iov, 1, 0, flags);
	if (n < 0)
		fbc_error(errno, "pwritev2(flags %s) returned %zd", flags ? "RWF_DSYNC" : "0", n);
	if (n != 3 || pread(fd, buf, 3, 0) != 3 || memcmp(buf, "xyz", 3) != 0)
		fbc_error(0, "pwritev2(flags %s) returned %zd, but the file does not hold \"xyz\"",
			  flags ? "RWF_DSYNC" : "0", n);
	fbc_ok("pwritev2(flags %s) wrote 3 bytes at offset 0", flags ? "RWF_DSYNC" : "0");
}
