/*
 * mseal - mseal(page, pagesize, 0) on a fresh anonymous page of its own.
 *
 * New syscall: mseal (462); the wrapper exists since glibc 2.43 ("absent"
 *              before). __ASSUME_MSEAL (6.10) is defined but not used.
 *              The kernel has mseal only when built 64-bit (CONFIG_64BIT).
 * Fallback:    none: a thin wrapper, the filter's errno is returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (mseal, glibc 2.43).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fbc.h"

typedef int (*mseal_fn)(void *addr, size_t len, unsigned long flags);

int main(void)
{
	mseal_fn fn = (mseal_fn)FBC_SYM(mseal);
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	if (!fn)
		fbc_absent("mseal");
	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fbc_broken("mmap: %s", strerror(errno));

	errno = 0;
	if (fn(p, page, 0) != 0)
		fbc_error(errno, "mseal(one page, 0) failed");
	/* Sealed: munmap must now fail with EPERM. */
	if (munmap(p, page) == 0)
		fbc_error(0, "mseal returned 0, but munmap of the sealed page succeeded");
	fbc_ok("mseal sealed one page (munmap refused)");
}
