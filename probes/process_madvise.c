/*
 * process_madvise - MADV_COLD on one page of this process itself, through
 *                   process_madvise(pidfd_open(getpid()), ...).
 *
 * New syscall: process_madvise (440); the wrapper exists since glibc 2.36
 *              ("absent" before). Setup needs pidfd_open (434): a failed
 *              pidfd_open is reported with its errno and the detail says so.
 *              Own process: no CAP_SYS_NICE needed (kernel >= 6.x).
 * Fallback:    none: thin wrappers (syscalls.list EXTRA), the filter's
 *              errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (process_madvise),
 *              process_madvise@@GLIBC_2.36 in the x86_64 libc.abilist.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fbc.h"

#ifndef SYS_pidfd_open
# define SYS_pidfd_open 434	/* Linux 5.3 */
#endif
#ifndef MADV_COLD
# define MADV_COLD 20	/* Linux 5.4 */
#endif

typedef ssize_t (*process_madvise_fn)(int pidfd, const struct iovec *iov, size_t n,
				      int advice, unsigned int flags);

int main(void)
{
	process_madvise_fn fn = (process_madvise_fn)FBC_SYM(process_madvise);
	long page = sysconf(_SC_PAGESIZE);
	struct iovec iov;
	int pidfd;
	ssize_t n;

	if (!fn)
		fbc_absent("process_madvise");
	/* The raw syscall: the setup must not depend on libc's pidfd_open wrapper. */
	errno = 0;
	pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0)
		fbc_error(errno, "setup: pidfd_open(getpid(), 0) failed, process_madvise not reached");
	iov.iov_base = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	iov.iov_len = page;
	if (iov.iov_base == MAP_FAILED)
		fbc_broken("mmap: %s", strerror(errno));
	memset(iov.iov_base, 1, page);

	errno = 0;
	n = fn(pidfd, &iov, 1, MADV_COLD, 0);
	if (n < 0)
		fbc_error(errno, "process_madvise(own pidfd, one page, MADV_COLD) returned %zd", n);
	fbc_ok("process_madvise(own pidfd, MADV_COLD) advised %zd bytes", n);
}
