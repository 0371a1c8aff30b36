/*
 * mlock2 - mlock2 one page with flags 0, or with "onfault": MLOCK_ONFAULT;
 *          then munlock.
 *
 * New syscall: mlock2 (325/376), for flags != 0 only: flags 0 use the old
 *              mlock syscall (glibc 2.27+, without __ASSUME_MLOCK2, i.e.
 *              kernel < 4.4 minimum, as Debian builds).
 * Fallback:    none for flags != 0: ENOSYS becomes EINVAL; any other error
 *              is returned as is (EPERM).
 * Source:      sysdeps/unix/sysv/linux/mlock2.c.
 *
 * mlock needs RLIMIT_MEMLOCK >= one page without CAP_IPC_LOCK: a smaller
 * limit would make the kernel itself answer EPERM, so that is "broken".
 */
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fbc.h"

#ifndef MLOCK_ONFAULT
# define MLOCK_ONFAULT 0x01	/* Linux 4.4 */
#endif

int main(int argc, char **argv)
{
	unsigned int flags = argc > 1 && strcmp(argv[1], "onfault") == 0 ? MLOCK_ONFAULT : 0;
	long page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	void *p;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)page)
		fbc_broken("RLIMIT_MEMLOCK is %llu, less than one page", (unsigned long long)rl.rlim_cur);
	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fbc_broken("mmap: %s", strerror(errno));

	errno = 0;
	if (mlock2(p, page, flags) != 0)
		fbc_error(errno, "mlock2(one page, %s) failed", flags ? "MLOCK_ONFAULT" : "0");
	munlock(p, page);
	fbc_ok("mlock2(one page, %s) locked it", flags ? "MLOCK_ONFAULT" : "0");
}
