/*
 * raw.c - fallbackcheck raw-syscall probe.
 *
 * Usage:  raw SYSCALL_NAME     issue that syscall once, print one JSON line
 *         raw --list           print the names this architecture supports
 *
 * Each probe issues ONE syscall through syscall(2) with arguments chosen so
 * that, if a seccomp filter lets the call through, the kernel rejects it
 * (unshare: completes it as a no-op) deterministically, without side effects,
 * and with the same answer for root and for a process without capabilities.
 * The argument check that fails is therefore one the kernel performs before
 * any capability check, and the answer is never EPERM or ENOSYS (those are
 * what filters deliver), except for "unassigned" (ENOSYS by design) and
 * map_shadow_stack on kernels built without user shadow stacks.  The only
 * other syscall issued is prctl(PR_SET_NO_NEW_PRIVS) before
 * landlock_restrict_self (see its helper).
 * Exceptions, where the kernel checks CAP_SYS_ADMIN before any argument
 * (move_mount, fsopen, fsmount, fspick), are marked "CAP-FIRST" below.
 *
 * Output: {"syscall":"clone3","nr":435,"ret":-1,"errno":"EINVAL","errno_num":22}
 * The expected answers live in probes/catalogue/raw.toml.
 *
 * Build:  musl-gcc -static -O2 -Wall -Wextra -o raw raw.c   (x86_64 or i386)
 *         aarch64-linux-gnu-gcc -static ... (arm64: fallbackcheck/artefacts/crossbuild.py)
 *         arm-linux-gnueabihf-gcc -static ... (armhf, the same way)
 *
 * Not probed: uretprobe (x86_64 335, Linux 6.11) and uprobe (x86_64 336,
 * Linux 6.18).  seccomp passes both through without running the filter, so
 * they cannot show what a filter does; uretprobe also raises SIGILL when
 * called from outside a uprobe trampoline.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

/* ------------------------------------------------------------------------
 * Syscall numbers, defined here because libc headers may lack new ones.
 * -1 means "does not exist on this architecture".
 * ------------------------------------------------------------------------ */
/* a) added in Linux 5.1 and later: the same numbers on x86_64 and i386 (the
 *    syscall tables were unified from 424 on), except where an arch lacks one */
#define X_pidfd_send_signal           424
#define X_io_uring_setup              425
#define X_io_uring_enter              426
#define X_io_uring_register           427
#define X_open_tree                   428
#define X_move_mount                  429
#define X_fsopen                      430
#define X_fsconfig                    431
#define X_fsmount                     432
#define X_fspick                      433
#define X_pidfd_open                  434
#define X_clone3                      435
#define X_close_range                 436
#define X_openat2                     437
#define X_pidfd_getfd                 438
#define X_faccessat2                  439
#define X_process_madvise             440
#define X_epoll_pwait2                441
#define X_mount_setattr               442
#define X_quotactl_fd                 443
#define X_landlock_create_ruleset     444
#define X_landlock_add_rule           445
#define X_landlock_restrict_self      446
#define X_memfd_secret                447
#define X_process_mrelease            448
#define X_futex_waitv                 449
#define X_set_mempolicy_home_node     450
#define X_cachestat                   451
#define X_fchmodat2                   452
#define X_futex_wake                  454
#define X_futex_wait                  455
#define X_futex_requeue               456
#define X_statmount                   457
#define X_listmount                   458
#define X_lsm_get_self_attr           459
#define X_lsm_set_self_attr           460
#define X_lsm_list_modules            461
#define X_mseal                       462
#define X_setxattrat                  463
#define X_getxattrat                  464
#define X_listxattrat                 465
#define X_removexattrat               466
#define X_open_tree_attr              467
#define X_file_getattr                468
#define X_file_setattr                469
#define X_listns                      470
#define X_rseq_slice_yield            471

#if defined(__x86_64__)
/* a) per-arch exceptions */
#define X_map_shadow_stack           453
/* b) older syscalls behind glibc fallbacks */
#define X_statx                      332
#define X_getrandom                  318
#define X_rseq                       334
#define X_renameat2                  316
#define X_mlock2                     325
#define X_mlock                      149
#define X_preadv2                    327
#define X_pwritev2                   328
#define X_execveat                   322
#define X_copy_file_range            326
#define X_memfd_create               319
#define X_clone                       56
#define X_faccessat                  269
#define X_fchmodat                   268
#define X_newfstatat                 262
#define X_fstatat64                   -1
/* c) i386 time64 syscalls: not on x86_64 */
#define X_clock_gettime64             -1
#define X_clock_settime64             -1
#define X_clock_adjtime64             -1
#define X_clock_getres_time64         -1
#define X_clock_nanosleep_time64      -1
#define X_timer_gettime64             -1
#define X_timer_settime64             -1
#define X_timerfd_gettime64           -1
#define X_timerfd_settime64           -1
#define X_utimensat_time64            -1
#define X_pselect6_time64             -1
#define X_ppoll_time64                -1
#define X_io_pgetevents_time64        -1
#define X_recvmmsg_time64             -1
#define X_mq_timedsend_time64         -1
#define X_mq_timedreceive_time64      -1
#define X_semtimedop_time64           -1
#define X_rt_sigtimedwait_time64      -1
#define X_futex_time64                -1
#define X_sched_rr_get_interval_time64 -1
/* d), e) and extras */
#define X_unassigned                1000
#define X_setns                      308
#define X_unshare                    272
/* f) older syscalls behind thin glibc wrappers (no fallback) */
#define X_sched_setattr              314
#define X_sched_getattr              315
/* g) old syscalls that a newer glibc uses with new arguments (an ioctl request) */
#define X_ioctl                       16

#elif defined(__i386__)
/* a) per-arch exceptions */
#define X_map_shadow_stack            -1 /* 453 is only reserved on i386 */
/* b) older syscalls behind glibc fallbacks */
#define X_statx                      383
#define X_getrandom                  355
#define X_rseq                       386
#define X_renameat2                  353
#define X_mlock2                     376
#define X_mlock                      150
#define X_preadv2                    378
#define X_pwritev2                   379
#define X_execveat                   358
#define X_copy_file_range            377
#define X_memfd_create               356
#define X_clone                      120
#define X_faccessat                  307
#define X_fchmodat                   306
#define X_newfstatat                  -1
#define X_fstatat64                  300
/* c) time64 syscalls */
#define X_clock_gettime64            403
#define X_clock_settime64            404
#define X_clock_adjtime64            405
#define X_clock_getres_time64        406
#define X_clock_nanosleep_time64     407
#define X_timer_gettime64            408
#define X_timer_settime64            409
#define X_timerfd_gettime64          410
#define X_timerfd_settime64          411
#define X_utimensat_time64           412
#define X_pselect6_time64            413
#define X_ppoll_time64               414
#define X_io_pgetevents_time64       416
#define X_recvmmsg_time64            417
#define X_mq_timedsend_time64        418
#define X_mq_timedreceive_time64     419
#define X_semtimedop_time64          420
#define X_rt_sigtimedwait_time64     421
#define X_futex_time64               422
#define X_sched_rr_get_interval_time64 423
/* d), e) and extras */
#define X_unassigned                1000
#define X_setns                      346
#define X_unshare                    310
/* f) older syscalls behind thin glibc wrappers (no fallback) */
#define X_sched_setattr              351
#define X_sched_getattr              352
/* g) old syscalls that a newer glibc uses with new arguments (an ioctl request) */
#define X_ioctl                       54

#elif defined(__aarch64__)
/* The generic table (include/uapi/asm-generic/unistd.h): no legacy calls. */
/* a) per-arch exceptions */
#define X_map_shadow_stack           453 /* 6.7 in the generic table; ENOSYS without arm64 GCS (6.13) */
/* b) older syscalls behind glibc fallbacks */
#define X_statx                      291
#define X_getrandom                  278
#define X_rseq                       293
#define X_renameat2                  276
#define X_mlock2                     284
#define X_mlock                      228
#define X_preadv2                    286
#define X_pwritev2                   287
#define X_execveat                   281
#define X_copy_file_range            285
#define X_memfd_create               279
#define X_clone                       220
#define X_faccessat                  48
#define X_fchmodat                   53
#define X_newfstatat                 79
#define X_fstatat64                   -1
/* c) i386 time64 syscalls: not on a 64-bit architecture */
#define X_clock_gettime64             -1
#define X_clock_settime64             -1
#define X_clock_adjtime64             -1
#define X_clock_getres_time64         -1
#define X_clock_nanosleep_time64      -1
#define X_timer_gettime64             -1
#define X_timer_settime64             -1
#define X_timerfd_gettime64           -1
#define X_timerfd_settime64           -1
#define X_utimensat_time64            -1
#define X_pselect6_time64             -1
#define X_ppoll_time64                -1
#define X_io_pgetevents_time64        -1
#define X_recvmmsg_time64             -1
#define X_mq_timedsend_time64         -1
#define X_mq_timedreceive_time64      -1
#define X_semtimedop_time64           -1
#define X_rt_sigtimedwait_time64      -1
#define X_futex_time64                -1
#define X_sched_rr_get_interval_time64 -1
/* d), e) and extras */
#define X_unassigned                1000
#define X_setns                      268
#define X_unshare                    97
/* f) older syscalls behind thin glibc wrappers (no fallback) */
#define X_sched_setattr              274
#define X_sched_getattr              275
/* g) old syscalls that a newer glibc uses with new arguments (an ioctl request) */
#define X_ioctl                       29

#elif defined(__arm__) && defined(__ARM_EABI__)
/* 32-bit ARM, EABI (armhf): arch/arm/tools/syscall.tbl, the `arm` column of
 * fallbackcheck/data/syscalls.csv.  Run as a 32-bit task on an arm64 kernel
 * (its compat layer), as i386 runs on x86_64. */
/* a) per-arch exceptions */
#undef X_memfd_secret
#define X_memfd_secret                -1 /* not wired on arm (arch/arm/tools/syscall.tbl skips 447) */
#define X_map_shadow_stack            -1 /* 453 is wired but arm has no user shadow stack: always ENOSYS */
/* b) older syscalls behind glibc fallbacks */
#define X_statx                      397
#define X_getrandom                  384
#define X_rseq                       398
#define X_renameat2                  382
#define X_mlock2                     390
#define X_mlock                      150
#define X_preadv2                    392
#define X_pwritev2                   393
#define X_execveat                   387
#define X_copy_file_range            391
#define X_memfd_create               385
#define X_clone                      120
#define X_faccessat                  334
#define X_fchmodat                   333
#define X_newfstatat                  -1
#define X_fstatat64                  327
/* c) time64 syscalls: the same numbers as i386 (the unified table from 5.1 on) */
#define X_clock_gettime64            403
#define X_clock_settime64            404
#define X_clock_adjtime64            405
#define X_clock_getres_time64        406
#define X_clock_nanosleep_time64     407
#define X_timer_gettime64            408
#define X_timer_settime64            409
#define X_timerfd_gettime64          410
#define X_timerfd_settime64          411
#define X_utimensat_time64           412
#define X_pselect6_time64            413
#define X_ppoll_time64               414
#define X_io_pgetevents_time64       416
#define X_recvmmsg_time64            417
#define X_mq_timedsend_time64        418
#define X_mq_timedreceive_time64     419
#define X_semtimedop_time64          420
#define X_rt_sigtimedwait_time64     421
#define X_futex_time64               422
#define X_sched_rr_get_interval_time64 423
/* d), e) and extras */
#define X_unassigned                1000
#define X_setns                      375
#define X_unshare                    337
/* f) older syscalls behind thin glibc wrappers (no fallback) */
#define X_sched_setattr              380
#define X_sched_getattr              381
/* g) old syscalls that a newer glibc uses with new arguments (an ioctl request) */
#define X_ioctl                       54

#else
#error "raw.c supports only x86_64, i386, aarch64 and 32-bit ARM (EABI)"
#endif

/* Constants used as arguments (same values on x86_64 and i386). */
#define BADFLAGS        0x80000000L  /* a flag bit no syscall here defines */
#define ALLBITS         (-1L)        /* every flag bit, most of them undefined */
#define AT_FDCWD_       (-100L)
#define AT_RECURSIVE_   0x8000L
#define AT_STATX_SYNC_TYPE_ 0x6000L  /* FORCE_SYNC|DONT_SYNC: contradictory */
#define STATX__RESERVED_ 0x80000000L
#define RENAME_NOREPLACE_ 1L
#define RENAME_EXCHANGE_  2L
#define CLONE_SIGHAND_  0x00000800L
#define FUTEX_WAKE_PRIVATE_ 129L     /* FUTEX_WAKE | FUTEX_PRIVATE_FLAG */

/* 64-bit time layout (struct __kernel_timespec) on both architectures. */
struct ts64 { long long sec, nsec; };

static struct ts64 zero_ts;           /* a zero timeout: never blocks */
static struct ts64 zero_its[2];       /* a zero itimerspec */
static unsigned char buf[4096] __attribute__((aligned(64)));

/* All six arguments are passed as long, so varargs never see an int. */
static long sc(long nr, long a, long b, long c, long d, long e, long f)
{
	return syscall(nr, a, b, c, d, e, f);
}
#define P(x) ((long)(x))

/* ---- one helper per call; see the table for the reasoning ---- */
static long p_pidfd_send_signal(long n) { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_io_uring_setup(long n)    { return sc(n, 0, 0, 0, 0, 0, 0); }
static long p_io_uring_enter(long n)    { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_io_uring_register(long n) { return sc(n, -2, 0, 0, 0, 0, 0); }
static long p_open_tree(long n)         { return sc(n, -1, 0, AT_RECURSIVE_, 0, 0, 0); }
static long p_move_mount(long n)        { return sc(n, -1, 0, -1, 0, BADFLAGS, 0); }
static long p_fsopen(long n)            { return sc(n, 0, BADFLAGS, 0, 0, 0, 0); }
static long p_fsconfig(long n)          { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_fsmount(long n)           { return sc(n, -1, BADFLAGS, 0, 0, 0, 0); }
static long p_fspick(long n)            { return sc(n, -1, 0, BADFLAGS, 0, 0, 0); }
static long p_pidfd_open(long n)        { return sc(n, 0, 0, 0, 0, 0, 0); }
static long p_clone3(long n)            { return sc(n, 0, 0, 0, 0, 0, 0); }
static long p_close_range(long n)       { return sc(n, 1, 0, 0, 0, 0, 0); }
static long p_openat2(long n)           { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_pidfd_getfd(long n)       { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_faccessat2(long n)        { return sc(n, -1, 0, 0x80, 0, 0, 0); }
static long p_process_madvise(long n)   { return sc(n, -1, 0, 0, 0, 1, 0); }
static long p_epoll_pwait2(long n)      { return sc(n, -1, P(buf), 1, P(&zero_ts), 0, 0); }
static long p_mount_setattr(long n)     { return sc(n, -1, 0, BADFLAGS, 0, 0, 0); }
static long p_quotactl_fd(long n)       { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_landlock_create_ruleset(long n) { return sc(n, 0, 0, BADFLAGS, 0, 0, 0); }
static long p_landlock_add_rule(long n) { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_landlock_restrict_self(long n)
{
	/* Recent kernels (seen on 6.18) check no_new_privs-or-CAP_SYS_ADMIN
	 * before the flags, so set no_new_privs first (affects only this process). */
	prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L);
	return sc(n, -1, BADFLAGS, 0, 0, 0, 0);
}
static long p_memfd_secret(long n)      { return sc(n, BADFLAGS, 0, 0, 0, 0, 0); }
static long p_process_mrelease(long n)  { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_futex_waitv(long n)       { return sc(n, 0, 0, 0, 0, 0, 0); }
static long p_set_mempolicy_home_node(long n) { return sc(n, 1, 0, 0, 0, 0, 0); }
static long p_cachestat(long n)         { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_fchmodat2(long n)         { return sc(n, -1, 0, 0, BADFLAGS, 0, 0); }
static long p_map_shadow_stack(long n)  { return sc(n, 0, 0, BADFLAGS, 0, 0, 0); }
static long p_futex_wake(long n)        { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_futex_wait(long n)        { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_futex_requeue(long n)     { return sc(n, 0, ALLBITS, 0, 0, 0, 0); }
static long p_statmount(long n)         { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_listmount(long n)         { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_lsm_get_self_attr(long n) { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_lsm_set_self_attr(long n) { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_lsm_list_modules(long n)  { return sc(n, 0, 0, ALLBITS, 0, 0, 0); }
static long p_mseal(long n)             { return sc(n, 0, 0, ALLBITS, 0, 0, 0); }
static long p_setxattrat(long n)        { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_getxattrat(long n)        { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_listxattrat(long n)       { return sc(n, -1, 0, ALLBITS, 0, 0, 0); }
static long p_removexattrat(long n)     { return sc(n, -1, 0, ALLBITS, 0, 0, 0); }
static long p_open_tree_attr(long n)    { return sc(n, -1, 0, AT_RECURSIVE_, 0, 1, 0); }
static long p_file_getattr(long n)      { return sc(n, -1, 0, 0, 0, ALLBITS, 0); }
static long p_file_setattr(long n)      { return sc(n, -1, 0, 0, 0, ALLBITS, 0); }
static long p_listns(long n)            { return sc(n, 0, 0, 0, ALLBITS, 0, 0); }
static long p_rseq_slice_yield(long n)  { return sc(n, 0, 0, 0, 0, 0, 0); }

static long p_statx(long n)
{ return sc(n, AT_FDCWD_, P("/"), AT_STATX_SYNC_TYPE_, STATX__RESERVED_, P(buf), 0); }
static long p_getrandom(long n)         { return sc(n, P(buf), 1, ALLBITS, 0, 0, 0); }
static long p_rseq(long n)              { return sc(n, 0, 0, 0x40000000L, 0, 0, 0); }
static long p_renameat2(long n)
{ return sc(n, -1, P(""), -1, P(""), RENAME_NOREPLACE_ | RENAME_EXCHANGE_, 0); }
static long p_mlock2(long n)            { return sc(n, 0, 0, ALLBITS, 0, 0, 0); }
static long p_mlock(long n)             { return sc(n, 0, 0, 0, 0, 0, 0); }
static long p_preadv2(long n)           { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_pwritev2(long n)          { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_execveat(long n)          { return sc(n, -1, P(""), 0, 0, ALLBITS, 0); }
static long p_copy_file_range(long n)   { return sc(n, -1, 0, -1, 0, 0, 0); }
static long p_memfd_create(long n)      { return sc(n, P("raw"), ALLBITS, 0, 0, 0, 0); }
static long p_clone(long n)             { return sc(n, CLONE_SIGHAND_, 0, 0, 0, 0, 0); }
static long p_faccessat(long n)         { return sc(n, -1, 0, 0x80, 0, 0, 0); }
static long p_fchmodat(long n)          { return sc(n, -1, P("x"), 0, 0, 0, 0); }
static long p_fstatat(long n)           { return sc(n, -1, P("x"), P(buf), 0, 0, 0); }

static long p_clock_gettime64(long n)   { return sc(n, 1000, P(buf), 0, 0, 0, 0); }
static long p_clock_settime64(long n)   { return sc(n, 1000, 0, 0, 0, 0, 0); }
static long p_clock_adjtime64(long n)   { return sc(n, 1000, P(buf), 0, 0, 0, 0); }
static long p_clock_getres_time64(long n) { return sc(n, 1000, P(buf), 0, 0, 0, 0); }
static long p_clock_nanosleep_time64(long n) { return sc(n, 1000, 0, P(&zero_ts), 0, 0, 0); }
static long p_timer_gettime64(long n)   { return sc(n, -1, P(buf), 0, 0, 0, 0); }
static long p_timer_settime64(long n)   { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_timerfd_gettime64(long n) { return sc(n, -1, P(buf), 0, 0, 0, 0); }
static long p_timerfd_settime64(long n) { return sc(n, -1, 0, P(zero_its), 0, 0, 0); }
static long p_utimensat_time64(long n)  { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_pselect6_time64(long n)   { return sc(n, -1, 0, 0, 0, P(&zero_ts), 0); }
static long p_ppoll_time64(long n)      { return sc(n, 0, 0xffffffffL, P(&zero_ts), 0, 0, 0); }
static long p_io_pgetevents_time64(long n) { return sc(n, 0, 0, 0, 0, P(&zero_ts), 0); }
static long p_recvmmsg_time64(long n)   { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_mq_timedsend_time64(long n) { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_mq_timedreceive_time64(long n) { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_semtimedop_time64(long n) { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_rt_sigtimedwait_time64(long n) { return sc(n, P(buf), 0, P(&zero_ts), 0, 0, 0); }
static long p_futex_time64(long n)      { return sc(n, 1, FUTEX_WAKE_PRIVATE_, 0, 0, 0, 0); }
static long p_sched_rr_get_interval_time64(long n) { return sc(n, -1, P(buf), 0, 0, 0, 0); }

static long p_unassigned(long n)        { return sc(n, 0, 0, 0, 0, 0, 0); }
static long p_setns(long n)             { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_unshare(long n)           { return sc(n, 0, 0, 0, 0, 0, 0); }

static long p_sched_setattr(long n)     { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_sched_getattr(long n)     { return sc(n, -1, 0, 0, 0, 0, 0); }
static long p_ioctl(long n)             { return sc(n, -1, 0x541B /* FIONREAD */, 0, 0, 0, 0); }

/* ------------------------------------------------------------------------
 * The table.  Comment: why the call is harmless -> what the kernel answers.
 * "fd -1" lookups fail in fdget() with EBADF before anything else happens.
 * ------------------------------------------------------------------------ */
struct probe { const char *name; long nr; long (*fn)(long nr); };

#define ROW(name) { #name, X_##name, p_##name }
static const struct probe probes[] = {
	/* a) Linux 5.1+ */
	ROW(pidfd_send_signal),      /* pidfd -1, sig 0: fd lookup fails -> EBADF */
	ROW(io_uring_setup),         /* params NULL: copy_from_user fails before any ring exists -> EFAULT (EPERM if sysctl kernel.io_uring_disabled is set) */
	ROW(io_uring_enter),         /* fd -1, flags 0: no ring -> EBADF */
	ROW(io_uring_register),      /* fd -2 (recent kernels treat -1 as "blind": EINVAL), opcode 0: fd lookup fails -> EBADF */
	ROW(open_tree),              /* AT_RECURSIVE without OPEN_TREE_CLONE: flag check, before may_mount() -> EINVAL */
	ROW(move_mount),             /* CAP-FIRST: may_mount() runs first (EPERM without CAP_SYS_ADMIN); with it, bad flag -> EINVAL */
	ROW(fsopen),                 /* CAP-FIRST: CAP_SYS_ADMIN checked first (EPERM); with it, bad flag -> EINVAL */
	ROW(fsconfig),               /* fd -1: "fd < 0" check is the first statement -> EINVAL */
	ROW(fsmount),                /* CAP-FIRST: may_mount() first (EPERM); with it, bad flag -> EINVAL */
	ROW(fspick),                 /* CAP-FIRST: CAP_SYS_ADMIN first (EPERM); with it, bad flag -> EINVAL */
	ROW(pidfd_open),             /* pid 0 is rejected before any lookup -> EINVAL */
	ROW(clone3),                 /* args NULL, size 0: size < CLONE_ARGS_SIZE_VER0 -> EINVAL, nothing is created */
	ROW(close_range),            /* first 1 > last 0: rejected before closing anything -> EINVAL */
	ROW(openat2),                /* how NULL, size 0: size < OPEN_HOW_SIZE_VER0 -> EINVAL, nothing opened */
	ROW(pidfd_getfd),            /* pidfd -1, flags 0 -> EBADF */
	ROW(faccessat2),             /* mode 0200 (not F_OK/R/W/X): first check in do_faccessat -> EINVAL */
	ROW(process_madvise),        /* flags 1: flags must be 0, checked first -> EINVAL */
	ROW(epoll_pwait2),           /* epfd -1, maxevents 1, zero timeout: never waits -> EBADF */
	ROW(mount_setattr),          /* undefined flag bit, checked before may_mount() -> EINVAL */
	ROW(quotactl_fd),            /* fd -1: fd lookup precedes the permission check -> EBADF */
	ROW(landlock_create_ruleset),/* unknown flag, attr NULL, size 0 -> EINVAL (EOPNOTSUPP if Landlock is not enabled at boot) */
	ROW(landlock_add_rule),      /* ruleset fd -1, flags 0 -> EBADF (EOPNOTSUPP if Landlock is off) */
	ROW(landlock_restrict_self), /* no_new_privs set first (helper), then undefined flag -> EINVAL; nothing restricted */
	ROW(memfd_secret),           /* undefined flag -> EINVAL, no fd (kernel answers ENOSYS itself if secretmem is disabled) */
	ROW(process_mrelease),       /* pidfd -1, flags 0 -> EBADF */
	ROW(futex_waitv),            /* waiters NULL, nr 0 -> EINVAL, never waits */
	ROW(set_mempolicy_home_node),/* start 1 is not page aligned, first check -> EINVAL */
	ROW(cachestat),              /* fd -1 -> EBADF */
	ROW(fchmodat2),              /* undefined flag bit: checked before the path (NULL) is read -> EINVAL */
	ROW(map_shadow_stack),       /* undefined flag -> EINVAL; EOPNOTSUPP without CPU support; kernel answers ENOSYS itself without CONFIG_X86_USER_SHADOW_STACK */
	ROW(futex_wake),             /* all flag bits: undefined FUTEX2 flags checked first -> EINVAL */
	ROW(futex_wait),             /* as futex_wake: never waits -> EINVAL */
	ROW(futex_requeue),          /* flags != 0 -> EINVAL, waiters never read */
	ROW(statmount),              /* flags != 0 -> EINVAL */
	ROW(listmount),              /* undefined flags -> EINVAL */
	ROW(lsm_get_self_attr),      /* flags other than LSM_FLAG_SINGLE -> EINVAL */
	ROW(lsm_set_self_attr),      /* flags != 0 -> EINVAL, nothing set */
	ROW(lsm_list_modules),       /* flags != 0 -> EINVAL */
	ROW(mseal),                  /* flags != 0 -> EINVAL, nothing sealed */
	ROW(setxattrat),             /* uargs NULL, usize 0 < XATTR_ARGS_SIZE_VER0 -> EINVAL */
	ROW(getxattrat),             /* same as setxattrat -> EINVAL */
	ROW(listxattrat),            /* undefined at_flags -> EINVAL */
	ROW(removexattrat),          /* undefined at_flags -> EINVAL, nothing removed */
	ROW(open_tree_attr),         /* uattr NULL with usize 1, and AT_RECURSIVE without CLONE -> EINVAL */
	ROW(file_getattr),           /* undefined at_flags (and usize 0) -> EINVAL */
	ROW(file_setattr),           /* undefined at_flags (and usize 0) -> EINVAL, nothing changed */
	ROW(listns),                 /* flags != 0: the first check -> EINVAL, nothing listed */
	ROW(rseq_slice_yield),       /* no slice extension granted: returns 0, no effect (ENOSYS from the kernel without CONFIG_RSEQ_SLICE_EXTENSION) */
	/* b) older syscalls behind glibc fallbacks */
	ROW(statx),                  /* "/", FORCE_SYNC|DONT_SYNC and a reserved mask bit -> EINVAL (read-only anyway) */
	ROW(getrandom),              /* undefined flags -> EINVAL before any wait for entropy */
	ROW(rseq),                   /* unknown flag (not UNREGISTER) -> EINVAL; nothing registered */
	ROW(renameat2),              /* NOREPLACE|EXCHANGE together -> EINVAL before any lookup */
	ROW(mlock2),                 /* undefined flags -> EINVAL before locking */
	ROW(mlock),                  /* length 0: nothing to lock -> 0 (RLIMIT_MEMLOCK > 0 here) */
	ROW(preadv2),                /* fd -1 -> EBADF */
	ROW(pwritev2),               /* fd -1 -> EBADF, nothing written */
	ROW(execveat),               /* fd -1, "", all flag bits: flag check on open -> EINVAL; never executes */
	ROW(copy_file_range),        /* fd_in -1 -> EBADF */
	ROW(memfd_create),           /* undefined flags -> EINVAL, no fd created */
	ROW(clone),                  /* CLONE_SIGHAND without CLONE_VM: first check in copy_process -> EINVAL, no child */
	ROW(faccessat),              /* mode 0200 -> EINVAL (same do_faccessat as faccessat2) */
	ROW(fchmodat),               /* dirfd -1 with relative "x": lookup fails -> EBADF, no mode change */
	{ "newfstatat", X_newfstatat, p_fstatat }, /* dirfd -1, relative "x" -> EBADF */
	{ "fstatat64",  X_fstatat64,  p_fstatat }, /* i386: dirfd -1, relative "x" -> EBADF */
	/* c) i386 time64 (kernel functions shared with the x86_64 syscalls) */
	ROW(clock_gettime64),        /* clock 1000 is no clock -> EINVAL */
	ROW(clock_settime64),        /* clock 1000: clock lookup precedes the CAP_SYS_TIME check -> EINVAL */
	ROW(clock_adjtime64),        /* zeroed timex is copied in first, then clock 1000 -> EINVAL, nothing adjusted */
	ROW(clock_getres_time64),    /* clock 1000 -> EINVAL */
	ROW(clock_nanosleep_time64), /* clock 1000 -> EINVAL, never sleeps */
	ROW(timer_gettime64),        /* timer id -1 does not exist -> EINVAL */
	ROW(timer_settime64),        /* new_setting NULL -> EINVAL */
	ROW(timerfd_gettime64),      /* fd -1 -> EBADF */
	ROW(timerfd_settime64),      /* zero itimerspec, fd -1 -> EBADF */
	ROW(utimensat_time64),       /* dirfd -1, path NULL: acts on fd -1 -> EBADF, no times changed */
	ROW(pselect6_time64),        /* n = -1 -> EINVAL, zero timeout */
	ROW(ppoll_time64),           /* nfds 0xffffffff > any RLIMIT_NOFILE -> EINVAL, zero timeout */
	ROW(io_pgetevents_time64),   /* ctx 0 is no AIO context -> EINVAL */
	ROW(recvmmsg_time64),        /* fd -1 -> EBADF */
	ROW(mq_timedsend_time64),    /* mqd -1 -> EBADF, nothing sent */
	ROW(mq_timedreceive_time64), /* mqd -1 -> EBADF */
	ROW(semtimedop_time64),      /* semid -1, nsops 0 -> EINVAL */
	ROW(rt_sigtimedwait_time64), /* sigsetsize 0 != sizeof(sigset_t), checked first -> EINVAL, never waits */
	ROW(futex_time64),           /* FUTEX_WAKE_PRIVATE on misaligned address 1 -> EINVAL (an unknown op would give ENOSYS) */
	ROW(sched_rr_get_interval_time64), /* pid -1 -> EINVAL */
	/* d) no kernel has this number: the kernel itself answers ENOSYS */
	ROW(unassigned),
	/* e) old syscalls that default profiles deny without CAP_SYS_ADMIN */
	ROW(setns),                  /* fd -1: fd lookup comes before the namespace/capability checks -> EBADF */
	ROW(unshare),                /* flags 0: nothing to unshare, always succeeds -> 0 */
	/* f) older syscalls behind thin glibc wrappers (no fallback) */
	ROW(sched_setattr),          /* pid -1, attr NULL: first statement, before the task lookup and any CAP_SYS_NICE check -> EINVAL, nothing changed */
	ROW(sched_getattr),          /* pid -1, attr NULL, size 0: first statement, before the task lookup -> EINVAL */
	/* g) old syscalls that a newer glibc uses with new arguments */
	ROW(ioctl),                  /* fd -1: the fd lookup is the first step, before the request is looked at -> EBADF */
};
#define NPROBES (sizeof probes / sizeof probes[0])

/* ------------------------------------------------------------------------
 * errno names (Linux generic numbering, identical on x86_64 and i386).
 * ------------------------------------------------------------------------ */
static const char *const errno_names[] = {
	[1] = "EPERM", [2] = "ENOENT", [3] = "ESRCH", [4] = "EINTR",
	[5] = "EIO", [6] = "ENXIO", [7] = "E2BIG", [8] = "ENOEXEC",
	[9] = "EBADF", [10] = "ECHILD", [11] = "EAGAIN", [12] = "ENOMEM",
	[13] = "EACCES", [14] = "EFAULT", [15] = "ENOTBLK", [16] = "EBUSY",
	[17] = "EEXIST", [18] = "EXDEV", [19] = "ENODEV", [20] = "ENOTDIR",
	[21] = "EISDIR", [22] = "EINVAL", [23] = "ENFILE", [24] = "EMFILE",
	[25] = "ENOTTY", [26] = "ETXTBSY", [27] = "EFBIG", [28] = "ENOSPC",
	[29] = "ESPIPE", [30] = "EROFS", [31] = "EMLINK", [32] = "EPIPE",
	[33] = "EDOM", [34] = "ERANGE", [35] = "EDEADLK", [36] = "ENAMETOOLONG",
	[37] = "ENOLCK", [38] = "ENOSYS", [39] = "ENOTEMPTY", [40] = "ELOOP",
	[42] = "ENOMSG", [43] = "EIDRM", [44] = "ECHRNG", [45] = "EL2NSYNC",
	[46] = "EL3HLT", [47] = "EL3RST", [48] = "ELNRNG", [49] = "EUNATCH",
	[50] = "ENOCSI", [51] = "EL2HLT", [52] = "EBADE", [53] = "EBADR",
	[54] = "EXFULL", [55] = "ENOANO", [56] = "EBADRQC", [57] = "EBADSLT",
	[59] = "EBFONT", [60] = "ENOSTR", [61] = "ENODATA", [62] = "ETIME",
	[63] = "ENOSR", [64] = "ENONET", [65] = "ENOPKG", [66] = "EREMOTE",
	[67] = "ENOLINK", [68] = "EADV", [69] = "ESRMNT", [70] = "ECOMM",
	[71] = "EPROTO", [72] = "EMULTIHOP", [73] = "EDOTDOT", [74] = "EBADMSG",
	[75] = "EOVERFLOW", [76] = "ENOTUNIQ", [77] = "EBADFD", [78] = "EREMCHG",
	[79] = "ELIBACC", [80] = "ELIBBAD", [81] = "ELIBSCN", [82] = "ELIBMAX",
	[83] = "ELIBEXEC", [84] = "EILSEQ", [85] = "ERESTART", [86] = "ESTRPIPE",
	[87] = "EUSERS", [88] = "ENOTSOCK", [89] = "EDESTADDRREQ", [90] = "EMSGSIZE",
	[91] = "EPROTOTYPE", [92] = "ENOPROTOOPT", [93] = "EPROTONOSUPPORT",
	[94] = "ESOCKTNOSUPPORT", [95] = "EOPNOTSUPP", [96] = "EPFNOSUPPORT",
	[97] = "EAFNOSUPPORT", [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL",
	[100] = "ENETDOWN", [101] = "ENETUNREACH", [102] = "ENETRESET",
	[103] = "ECONNABORTED", [104] = "ECONNRESET", [105] = "ENOBUFS",
	[106] = "EISCONN", [107] = "ENOTCONN", [108] = "ESHUTDOWN",
	[109] = "ETOOMANYREFS", [110] = "ETIMEDOUT", [111] = "ECONNREFUSED",
	[112] = "EHOSTDOWN", [113] = "EHOSTUNREACH", [114] = "EALREADY",
	[115] = "EINPROGRESS", [116] = "ESTALE", [117] = "EUCLEAN",
	[118] = "ENOTNAM", [119] = "ENAVAIL", [120] = "EISNAM", [121] = "EREMOTEIO",
	[122] = "EDQUOT", [123] = "ENOMEDIUM", [124] = "EMEDIUMTYPE",
	[125] = "ECANCELED", [126] = "ENOKEY", [127] = "EKEYEXPIRED",
	[128] = "EKEYREVOKED", [129] = "EKEYREJECTED", [130] = "EOWNERDEAD",
	[131] = "ENOTRECOVERABLE", [132] = "ERFKILL", [133] = "EHWPOISON",
};

static const char *errno_name(int e)
{
	if (e > 0 && (size_t)e < sizeof errno_names / sizeof errno_names[0] && errno_names[e])
		return errno_names[e];
	return "UNKNOWN";
}

/*
 * Whether this process holds CAP_SYS_ADMIN, read with capget after the probed call.
 * A few syscalls (the mount API) check that capability before their arguments, so
 * without it the kernel itself answers EPERM; the harness needs to know which answer
 * to expect. Prints "true", "false", or "null" when capget itself is refused.
 */
static const char *cap_sys_admin(void)
{
	struct { unsigned int version; int pid; } hdr = { 0x20080522, 0 };	/* _LINUX_CAPABILITY_VERSION_3 */
	struct { unsigned int effective, permitted, inheritable; } data[2];

	if (syscall(SYS_capget, &hdr, data) != 0)
		return "null";
	return (data[0].effective & (1u << 21)) ? "true" : "false";	/* CAP_SYS_ADMIN = 21 */
}

static int usage(void)
{
	fputs("usage: raw SYSCALL_NAME | raw --list\n", stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const struct probe *p = NULL;
	size_t i;
	long ret;
	int err;

	if (argc != 2)
		return usage();
	if (strcmp(argv[1], "--list") == 0) {
		for (i = 0; i < NPROBES; i++)
			if (probes[i].nr >= 0)
				puts(probes[i].name);
		return 0;
	}
	for (i = 0; i < NPROBES; i++)
		if (strcmp(argv[1], probes[i].name) == 0)
			p = &probes[i];
	if (!p) {
		fprintf(stderr, "raw: unknown syscall name '%s' (see raw --list)\n", argv[1]);
		return 2;
	}
	if (p->nr < 0) {
		printf("{\"syscall\":\"%s\",\"nr\":null,\"ret\":null,\"errno\":null,"
		       "\"errno_num\":0,\"unsupported_arch\":true}\n", p->name);
		return 0;
	}

	errno = 0;
	ret = p->fn(p->nr);
	err = errno;
	if (ret >= 0)
		printf("{\"syscall\":\"%s\",\"nr\":%ld,\"ret\":%ld,\"errno\":null,\"errno_num\":0,"
		       "\"cap_sys_admin\":%s}\n", p->name, p->nr, ret, cap_sys_admin());
	else
		printf("{\"syscall\":\"%s\",\"nr\":%ld,\"ret\":%ld,\"errno\":\"%s\",\"errno_num\":%d,"
		       "\"cap_sys_admin\":%s}\n", p->name, p->nr, ret, errno_name(err), err, cap_sys_admin());
	return 0;
}
