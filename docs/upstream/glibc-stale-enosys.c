/*
 * Reproducer for docs/upstream/glibc-stale-enosys.md: a successful ppoll or
 * sigtimedwait with a 64-bit timeout outside the int32 range is reported as
 * -1/EOVERFLOW when errno happens to hold ENOSYS before the call.
 *
 * Needs a 32-bit glibc >= 2.34 built without __ASSUME_TIME64_SYSCALLS
 * (i386, armhf; Debian's). Build and run (no seccomp, no container needed):
 *   gcc -m32 -O2 -o glibc-stale-enosys glibc-stale-enosys.c -ldl
 *   ./glibc-stale-enosys
 *
 * The program calls __ppoll64 and __sigtimedwait64, the symbols that ppoll and
 * sigtimedwait resolve to in a program built with -D_TIME_BITS=64 (poll.h,
 * signal.h), through dlsym, so that it also builds against older headers.
 *
 * It only reports what happened, one line per call:
 *   <call> errno-before=<ENOSYS|0> ret=<n> errno=<name> [pending-after=<0|1>]
 * Exit status 0 when every call could be made, 2 when the symbols are absent
 * (glibc < 2.34) or the set-up failed; the judging is the reader's (or the
 * test's): a correct glibc gives ret=1 / ret=SIGUSR1 in every line.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* struct __timespec64 on a 32-bit ABI: 64-bit seconds, 32-bit nanoseconds, padding. */
struct ts64 {
	int64_t tv_sec;
	int32_t tv_nsec;
	int32_t pad;
};

typedef int (*ppoll64_fn)(struct pollfd *, nfds_t, const struct ts64 *, const sigset_t *);
typedef int (*sigtimedwait64_fn)(const sigset_t *, siginfo_t *, const struct ts64 *);

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case ENOSYS: return "ENOSYS";
	case EOVERFLOW: return "EOVERFLOW";
	case EINVAL: return "EINVAL";
	case EAGAIN: return "EAGAIN";
	default: return strerror(e);
	}
}

static int try_ppoll(ppoll64_fn ppoll64, int before)
{
	struct ts64 t = { INT64_C(1) << 31, 0, 0 };	/* does not fit 32 bits */
	struct pollfd pfd;
	int p[2], ret, saved;

	if (pipe(p) != 0)
		return -1;
	pfd.fd = p[1];		/* the write end of an empty pipe: ready at once */
	pfd.events = POLLOUT;
	pfd.revents = 0;
	errno = before;
	ret = ppoll64(&pfd, 1, &t, NULL);
	saved = errno;
	printf("ppoll errno-before=%s ret=%d errno=%s revents=0x%x\n", errname(before), ret,
	       ret < 0 ? errname(saved) : "-", pfd.revents);
	close(p[0]);
	close(p[1]);
	return 0;
}

static int try_sigtimedwait(sigtimedwait64_fn sigtimedwait64, int before)
{
	struct ts64 t = { INT64_C(1) << 31, 0, 0 };
	sigset_t set, pending;
	siginfo_t info;
	int ret, saved;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 || raise(SIGUSR1) != 0)
		return -1;
	errno = before;
	ret = sigtimedwait64(&set, &info, &t);
	saved = errno;
	sigpending(&pending);
	/* pending-after=0 with ret=-1: the signal was dequeued, and its number never reached us. */
	printf("sigtimedwait errno-before=%s ret=%d errno=%s pending-after=%d\n", errname(before), ret,
	       ret < 0 ? errname(saved) : "-", sigismember(&pending, SIGUSR1));
	if (sigismember(&pending, SIGUSR1)) {	/* leave nothing pending for the next call */
		struct timespec zero = { 0, 0 };
		sigtimedwait(&set, &info, &zero);
	}
	return 0;
}

int main(void)
{
	ppoll64_fn ppoll64 = (ppoll64_fn)dlsym(RTLD_DEFAULT, "__ppoll64");
	sigtimedwait64_fn sigtimedwait64 = (sigtimedwait64_fn)dlsym(RTLD_DEFAULT, "__sigtimedwait64");

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!ppoll64 || !sigtimedwait64) {
		printf("absent: __ppoll64 or __sigtimedwait64 (glibc < 2.34, or not a 32-bit ABI)\n");
		return 2;
	}
	/* errno 0 first (the control), then ENOSYS as an earlier fallback leaves it. */
	if (try_ppoll(ppoll64, 0) || try_ppoll(ppoll64, ENOSYS) ||
	    try_sigtimedwait(sigtimedwait64, 0) || try_sigtimedwait(sigtimedwait64, ENOSYS)) {
		printf("broken: set-up failed: %s\n", strerror(errno));
		return 2;
	}
	return 0;
}
