/*
 * semtimedop - create a SysV semaphore (IPC_PRIVATE, value 0, removed at
 *              exit), then semtimedop(+1) with a 1 s timeout; with "y2038",
 *              __semtimedop64 with a timeout of 2^31 s (does not fit 32 bits).
 *              Incrementing never blocks, so neither waits.
 *
 * New syscall: i386 only: semtimedop_time64 (420), since glibc 2.33.
 * Fallback:    2.34+: only when the timeout does not fit 32 bits
 *              (need_time64); then ENOSYS -> EOVERFLOW, any other error
 *              returned. Otherwise ipc(IPCOP_semtimedop) with a 32-bit timeout.
 * Source:      sysdeps/unix/sysv/linux/semtimedop.c.
 *
 * __semtimedop64 (GLIBC_2.34) is looked up: before 2.34 there is none
 * ("absent").
 */
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*semtimedop64_fn)(int, struct sembuf *, size_t, const struct ts64 *);

static int semid = -1;

static void remove_sem(void)
{
	if (semid >= 0)
		semctl(semid, 0, IPC_RMID);
}

int main(int argc, char **argv)
{
	int y2038 = argc > 1 && strcmp(argv[1], "y2038") == 0;
	semtimedop64_fn op64 = (semtimedop64_fn)FBC_SYM(__semtimedop64);
	const char *what = y2038 ? "__semtimedop64(+1, timeout 2^31 s)" : "semtimedop(+1, timeout 1 s)";
	struct sembuf sb = { 0, 1, 0 };
	int n;

	if (y2038 && !op64)
		fbc_absent("__semtimedop64");
	semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (semid < 0)
		fbc_broken("semget(IPC_PRIVATE): %s", strerror(errno));
	atexit(remove_sem);

	if (y2038) {
		struct ts64 t = { INT64_C(1) << 31, 0, 0 };

		n = op64(semid, &sb, 1, &t);
	} else {
		struct timespec t = { 1, 0 };

		n = semtimedop(semid, &sb, 1, &t);
	}
	if (n != 0)
		fbc_error(errno, "%s on a fresh semaphore failed", what);
	n = semctl(semid, 0, GETVAL);
	if (n != 1)
		fbc_error(0, "%s returned 0 but the semaphore's value is %d, not 1", what, n);
	fbc_ok("%s returned 0: the semaphore is now 1", what);
}
