/*
 * sched_getattr - sched_getattr(0, &attr, sizeof attr, 0): this thread's own
 *                 scheduling policy and attributes (read only).
 *
 * New syscall: sched_getattr (315 / i386 352, Linux 3.14); the wrapper
 *              exists since glibc 2.41 ("absent" before).
 * Fallback:    none: a thin wrapper (syscalls.list), the filter's errno is
 *              returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (sched_getattr, glibc 2.41).
 */
#include <stdint.h>
#include <sys/types.h>

#include "fbc.h"
#include "lapi.h"


typedef int (*sched_getattr_fn)(pid_t tid, struct fbc_sched_attr *attr, unsigned int size,
				unsigned int flags);

int main(void)
{
	sched_getattr_fn fn = (sched_getattr_fn)FBC_SYM(sched_getattr);
	struct fbc_sched_attr attr;

	if (!fn)
		fbc_absent("sched_getattr");
	memset(&attr, 0, sizeof attr);
	errno = 0;
	if (fn(0, &attr, sizeof attr, 0) != 0)
		fbc_error(errno, "sched_getattr(0, &attr, %zu, 0) failed", sizeof attr);
	fbc_ok("sched_getattr: policy %u, nice %d, priority %u, flags 0x%llx",
	       attr.sched_policy, attr.sched_nice, attr.sched_priority,
	       (unsigned long long)attr.sched_flags);
}
