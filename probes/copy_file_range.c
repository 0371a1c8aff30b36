/*
 * copy_file_range - copy 3 bytes from one fresh file to another.
 *
 * New syscall: copy_file_range (326/377).
 * Fallback:    none since glibc 2.30 (5a659ccc, BZ 24744 removed the 2.27-2.29
 *              user-space emulation on ENOSYS): a thin wrapper, the
 *              filter's errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/copy_file_range.c.
 */
#include <fcntl.h>	/* loff_t on musl (glibc has it from <sys/types.h>) */
#include <unistd.h>

#include "fbc.h"

static int tmpfile_fd(const char *name)
{
	char path[64];
	int fd = -1;

	for (int i = 0; fd < 0 && i < 2; i++) {
		snprintf(path, sizeof path, "%sfbc-%s-XXXXXX", i ? "" : "/tmp/", name);
		fd = mkstemp(path);
	}
	if (fd < 0)
		fbc_broken("mkstemp: %s", strerror(errno));
	unlink(path);
	return fd;
}

int main(void)
{
	int in = tmpfile_fd("cfr-in"), out = tmpfile_fd("cfr-out");
	loff_t off_in = 0, off_out = 0;
	char buf[4] = "";
	ssize_t n;

	if (write(in, "xyz", 3) != 3)
		fbc_broken("write: %s", strerror(errno));
	errno = 0;
	n = copy_file_range(in, &off_in, out, &off_out, 3, 0);
	if (n < 0)
		fbc_error(errno, "copy_file_range returned %zd", n);
	if (n != 3 || pread(out, buf, 3, 0) != 3 || memcmp(buf, "xyz", 3) != 0)
		fbc_error(0, "copy_file_range returned %zd, but the copy does not hold \"xyz\"", n);
	fbc_ok("copy_file_range copied 3 bytes");
}
