/*
 * preadv2 - preadv2 of 3 bytes at offset 0 of a fresh file, with flags 0,
 *           or with "hipri": RWF_HIPRI (accepted, and ignored, for a
 *           buffered read).
 *
 * New syscall: preadv2 (327/378), tried first for ANY flags since glibc 2.26;
 *              deliberately not __ASSUME-gated (kernel-features.h).
 * Fallback:    on ENOSYS only: flags 0 -> preadv (readv for offset -1);
 *              flags != 0 -> ENOTSUP (= EOPNOTSUPP). Any other error, also
 *              with flags 0, is returned as is (EPERM).
 * Source:      sysdeps/unix/sysv/linux/preadv2.c, preadv64v2.c.
 */
#include <sys/uio.h>
#include <unistd.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	int flags = argc > 1 && strcmp(argv[1], "hipri") == 0 ? RWF_HIPRI : 0;
	char path[64], buf[3] = "";
	struct iovec iov = { buf, sizeof buf };
	int fd;
	ssize_t n;

	fd = fbc_scratch_file("preadv2", path, sizeof path);
	unlink(path);
	if (write(fd, "xyz", 3) != 3)
		fbc_broken("write: %s", strerror(errno));

	errno = 0;
	n = preadv2(fd, &iov, 1, 0, flags);
	if (n < 0)
		fbc_error(errno, "preadv2(flags %s) returned %zd", flags ? "RWF_HIPRI" : "0", n);
	if (n != 3 || memcmp(buf, "xyz", 3) != 0)
		fbc_error(0, "preadv2(flags %s) read %zd bytes, not \"xyz\"", flags ? "RWF_HIPRI" : "0", n);
	fbc_ok("preadv2(flags %s) read 3 bytes at offset 0", flags ? "RWF_HIPRI" : "0");
}
