/*
 * openat2 - openat2(AT_FDCWD, "/", {O_RDONLY|O_DIRECTORY}, sizeof how).
 *
 * New syscall: openat2 (437); the wrapper exists since glibc 2.43
 *              (openat2@@GLIBC_2.43, "absent" before).
 * Fallback:    none: a thin wrapper, the filter's errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/openat2.c (glibc 2.43).
 */
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include "fbc.h"

/* struct open_how of <linux/openat2.h> (Linux 5.6), declared here. */
struct fbc_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};

typedef int (*openat2_fn)(int dirfd, const char *path, struct fbc_open_how *how, size_t size);

int main(void)
{
	openat2_fn fn = (openat2_fn)FBC_SYM(openat2);
	struct fbc_open_how how = { O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, 0 };
	int fd;

	if (!fn)
		fbc_absent("openat2");
	errno = 0;
	fd = fn(AT_FDCWD, "/", &how, sizeof how);
	if (fd < 0)
		fbc_error(errno, "openat2(AT_FDCWD, \"/\", O_RDONLY|O_DIRECTORY) returned %d", fd);
	close(fd);
	fbc_ok("openat2 opened \"/\"");
}
