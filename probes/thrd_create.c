/*
 * thrd_create - C11 thrd_create and thrd_join.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34 (thrd_create is
 *              pthread_create underneath).
 * Fallback:    clone, on ENOSYS only. Any other clone3 error makes
 *              pthread_create fail, and thrd_create maps that error number
 *              with thrd_err_map: EPERM is not one it knows, so the result
 *              is thrd_error, and no errno is defined by C11.
 * Source:      sysdeps/pthread/thrd_create.c, sysdeps/pthread/thrd_priv.h (thrd_err_map),
 *              sysdeps/unix/sysv/linux/clone-internal.c.
 */
#include <threads.h>

#include "fbc.h"

static int thread_main(void *arg)
{
	return *(int *)arg;
}

int main(void)
{
	int token = 42, res = -1, rc;
	thrd_t thr;

	errno = 0;
	rc = thrd_create(&thr, thread_main, &token);
	if (rc != thrd_success)
		/* errno is not part of the contract: shown, not reported. */
		fbc_error(0, "thrd_create returned %s (%d); errno after it: %s",
			  rc == thrd_nomem ? "thrd_nomem" : rc == thrd_error ? "thrd_error" : "?",
			  rc, fbc_errno_name(errno));
	rc = thrd_join(thr, &res);
	if (rc != thrd_success)
		fbc_error(0, "thread created, but thrd_join returned %d", rc);
	if (res != token)
		fbc_error(0, "thread joined, but returned %d instead of %d", res, token);
	fbc_ok("thread created and joined");
}
