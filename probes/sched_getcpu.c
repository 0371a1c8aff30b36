/*
 * sched_getcpu - the CPU this thread runs on (>= 0).
 *
 * New syscall: rseq (334/386), registered by glibc >= 2.35 at start-up;
 *              sched_getcpu reads rseq's cpu_id when registered.
 * Fallback:    registration failure (any errno) is silent (__rseq_size = 0)
 *              and sched_getcpu uses the vDSO getcpu (x86_64) or the getcpu
 *              syscall (i386). So it works under every rseq filter.
 * Source:      sysdeps/unix/sysv/linux/rseq-internal.h,
 *              sysdeps/nptl/dl-tls_init_tp.c, sysdeps/unix/sysv/linux/sched_getcpu.c.
 */
#include <sched.h>

#include "fbc.h"

int main(void)
{
	int cpu;

	errno = 0;
	cpu = sched_getcpu();
	if (cpu < 0)
		fbc_error(errno, "sched_getcpu returned %d", cpu);
	fbc_ok("sched_getcpu returned a CPU number");
}
