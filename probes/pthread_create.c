/*
 * pthread_create - create a thread and join it.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34.
 * Fallback:    clone, on ENOSYS only; any other clone3 error is returned by
 *              pthread_create as its error number (EPERM under a deny filter).
 *              Since 2.38 an ENOSYS answer is cached for the process.
 * Source:      sysdeps/unix/sysv/linux/clone-internal.c (__clone_internal),
 *              nptl/pthread_create.c ("if (ret == -1) return errno;").
 *
 * "errno-after" (id pthread_create.errno_after): on success, errno as pthread_create left
 * it (0 before the call). __clone_internal saves errno before clone3 and restores it
 * before the clone fallback, so no ENOSYS is left behind.
 */
#include <pthread.h>

#include "fbc.h"

static int token;	/* the thread hands back its argument: proof it ran */

static void *thread_main(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int errno_after = argc > 1 && strcmp(argv[1], "errno-after") == 0;
	pthread_t thread;
	void *result = NULL;
	int rc, left;

	errno = 0;
	rc = pthread_create(&thread, NULL, thread_main, &token);
	left = errno;
	if (rc != 0)
		fbc_error(rc, "pthread_create returned %d", rc);

	rc = pthread_join(thread, &result);
	if (rc != 0)
		fbc_error(rc, "thread created, but pthread_join returned %d", rc);
	if (result != &token)
		fbc_error(0, "thread joined, but returned %p instead of %p", result, (void *)&token);

	if (errno_after)
		fbc_ok_errno_after(left, "thread created and joined, errno %s after pthread_create",
				   left ? fbc_errno_name(left) : "0");
	fbc_ok("thread created and joined");
}
