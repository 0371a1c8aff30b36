/*
 * pthread_create - create a thread and join it.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34.
 * Fallback:    clone, on ENOSYS only; any other clone3 error is returned by
 *              pthread_create as its error number (EPERM under a deny filter).
 *              Since 2.38 an ENOSYS answer is cached for the process.
 * Source:      sysdeps/unix/sysv/linux/clone-internal.c (__clone_internal),
 *              nptl/pthread_create.c ("if (ret == -1) return errno;").
 */
#include <pthread.h>

#include "fbc.h"

static int token;	/* the thread hands back its argument: proof it ran */

static void *thread_main(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t thread;
	void *result = NULL;
	int rc;

	rc = pthread_create(&thread, NULL, thread_main, &token);
	if (rc != 0)
		fbc_error(rc, "pthread_create returned %d", rc);

	rc = pthread_join(thread, &result);
	if (rc != 0)
		fbc_error(rc, "thread created, but pthread_join returned %d", rc);
	if (result != &token)
		fbc_error(0, "thread joined, but returned %p instead of %p", result, (void *)&token);

	fbc_ok("thread created and joined");
}
