/*
 * memfd_create - memfd_create("fbc", MFD_CLOEXEC).
 *
 * New syscall: memfd_create (319/356); the wrapper exists since glibc 2.27.
 * Fallback:    none: a thin wrapper (syscalls.list EXTRA), the filter's
 *              errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (memfd_create).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fbc.h"

int main(void)
{
	int fd;

	errno = 0;
	fd = memfd_create("fbc", MFD_CLOEXEC);
	if (fd < 0)
		fbc_error(errno, "memfd_create(\"fbc\", MFD_CLOEXEC) returned %d", fd);
	close(fd);
	fbc_ok("memfd_create gave a descriptor");
}
