/*
 * sched_setattr - sched_setattr(0, &attr, 0) with exactly the policy and
 *                 attributes sched_getattr just read for this thread: the
 *                 kernel sees nothing to change, so it needs no privilege
 *                 (no CAP_SYS_NICE) and has no effect.
 *
 * New syscall: sched_setattr (314 / i386 351, Linux 3.14); the wrapper
 *              exists since glibc 2.41 ("absent" before). Setup needs
 *              sched_getattr (315 / i386 352, same glibc): a failed
 *              sched_getattr is reported with its errno and the detail says
 *              so, since without it there is no harmless value to set.
 * Fallback:    none: thin wrappers (syscalls.list), the filter's errno is
 *              returned as is.
 * Source:      sysdeps/unix/sysv/linux/syscalls.list (sched_setattr,
 *              sched_getattr, glibc 2.41).
 */
#include <stdint.h>
#include <sys/types.h>

#include "fbc.h"
#include "lapi.h"


typedef int (*sched_getattr_fn)(pid_t tid, struct fbc_sched_attr *attr, unsigned int size,
				unsigned int flags);
typedef int (*sched_setattr_fn)(pid_t tid, struct fbc_sched_attr *attr, unsigned int flags);

int main(void)
{
	sched_getattr_fn get = (sched_getattr_fn)FBC_SYM(sched_getattr);
	sched_setattr_fn fn = (sched_setattr_fn)FBC_SYM(sched_setattr);
	struct fbc_sched_attr attr;

	if (!fn || !get)
		fbc_absent("sched_setattr");
	memset(&attr, 0, sizeof attr);
	errno = 0;
	if (get(0, &attr, sizeof attr, 0) != 0)
		fbc_error(errno, "setup: sched_getattr(0, &attr, %zu, 0) failed, sched_setattr not reached",
			  sizeof attr);

	/* The kernel reads the size from the struct; the flags read back carry
	 * no SCHED_FLAG_UTIL_CLAMP, so the util fields are not applied. */
	attr.size = sizeof attr;
	errno = 0;
	if (fn(0, &attr, 0) != 0)
		fbc_error(errno, "sched_setattr(0, {policy %u, nice %d, priority %u} as read, 0) failed",
			  attr.sched_policy, attr.sched_nice, attr.sched_priority);
	fbc_ok("sched_setattr set policy %u, nice %d, priority %u (unchanged, as read)",
	       attr.sched_policy, attr.sched_nice, attr.sched_priority);
}
