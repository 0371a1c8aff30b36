/*
 * lapi.h - syscall numbers the oldest build headers may lack (LTP's "lapi").
 *
 * Probes are built against Debian 11 (glibc 2.31, linux-libc-dev 5.10) and
 * musl 1.2.3 headers, but must name syscalls from newer kernels. Numbers are
 * from the kernel's syscall tables; each is defined only when the headers
 * have not done so already. The kernel version is where it first appeared.
 */
#ifndef FBC_LAPI_H
#define FBC_LAPI_H

#include <sys/syscall.h>

#if defined(__x86_64__) && defined(__ILP32__)
# error "x32 is not supported: its syscall numbers carry the 0x40000000 bit"
#endif

#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__arm__)
/* Same number on x86_64, i386, arm and the generic table (aarch64) from 5.1 on (the unified table). */
# ifndef __NR_clone3
#  define __NR_clone3 435		/* 5.3 */
# endif
# ifndef __NR_close_range
#  define __NR_close_range 436		/* 5.9 */
# endif
# ifndef __NR_openat2
#  define __NR_openat2 437		/* 5.6 */
# endif
# ifndef __NR_faccessat2
#  define __NR_faccessat2 439		/* 5.8 */
# endif
# ifndef __NR_epoll_pwait2
#  define __NR_epoll_pwait2 441		/* 5.11 */
# endif
# ifndef __NR_fchmodat2
#  define __NR_fchmodat2 452		/* 6.6 */
# endif
# ifndef __NR_mseal
#  define __NR_mseal 462		/* 6.10 */
# endif
#endif

#if defined(__i386__) || defined(__arm__)
/* i386 and 32-bit arm: the 64-bit time_t variants (5.1, the same numbers); 64-bit kABIs never needed them. */
# ifndef __NR_clock_gettime64
#  define __NR_clock_gettime64 403
# endif
# ifndef __NR_clock_settime64
#  define __NR_clock_settime64 404
# endif
# ifndef __NR_clock_getres_time64
#  define __NR_clock_getres_time64 406
# endif
# ifndef __NR_clock_nanosleep_time64
#  define __NR_clock_nanosleep_time64 407
# endif
# ifndef __NR_timer_gettime64
#  define __NR_timer_gettime64 408
# endif
# ifndef __NR_timer_settime64
#  define __NR_timer_settime64 409
# endif
# ifndef __NR_utimensat_time64
#  define __NR_utimensat_time64 412
# endif
# ifndef __NR_pselect6_time64
#  define __NR_pselect6_time64 413
# endif
# ifndef __NR_ppoll_time64
#  define __NR_ppoll_time64 414
# endif
# ifndef __NR_recvmmsg_time64
#  define __NR_recvmmsg_time64 417
# endif
# ifndef __NR_mq_timedsend_time64
#  define __NR_mq_timedsend_time64 418
# endif
# ifndef __NR_mq_timedreceive_time64
#  define __NR_mq_timedreceive_time64 419
# endif
# ifndef __NR_semtimedop_time64
#  define __NR_semtimedop_time64 420
# endif
# ifndef __NR_rt_sigtimedwait_time64
#  define __NR_rt_sigtimedwait_time64 421
# endif
# ifndef __NR_futex_time64
#  define __NR_futex_time64 422
# endif
# ifndef __NR_sched_rr_get_interval_time64
#  define __NR_sched_rr_get_interval_time64 423
# endif
#endif

/* close_range flags for raw calls: UNSHARE is 5.9, CLOEXEC 5.11 (after Debian 11's 5.10 headers). */
#ifndef CLOSE_RANGE_UNSHARE
# define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
# define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include <stdint.h>

/* struct sched_attr of <linux/sched/types.h> up to SCHED_ATTR_SIZE_VER1 (56
 * bytes, Linux 5.3), the layout glibc 2.41 declares; the 2.31 build headers
 * have none, so it is declared here, once for both sched_* probes. */
struct fbc_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};

/* The 64-bit struct timespec that glibc's *64 / *_time64 entry points take on i386
 * (__timespec64: 64-bit seconds, 32-bit nanoseconds, padding); the 2.31 build
 * headers have no public type for it. */
struct ts64 { int64_t tv_sec; int32_t tv_nsec; int32_t pad; };

/* 2040-01-01T00:00:00Z: past 2038, so a 32-bit time_t cannot hold it. */
#define Y2040 2208988800LL

#endif
