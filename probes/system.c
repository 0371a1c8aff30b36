/*
 * system - run system("exit 0").
 *
 * New syscall: clone3 (435), via posix_spawn (system uses posix_spawn since
 *              glibc 2.29; posix_spawn tries clone3 first since 2.34).
 * Fallback:    clone, on ENOSYS (2.38+: also EINVAL), as in posix_spawn.c.
 *              Under EPERM glibc does not return -1: the spawn failure becomes
 *              status 32512 (W_EXITCODE(127, 0), "the shell could not run")
 *              with errno set to the spawn error.
 * Source:      sysdeps/posix/system.c (do_system), sysdeps/unix/sysv/linux/spawni.c.
 *
 * Reporting: status 0 -> ok. Anything else -> error, with the errno left by
 * system() (errno is cleared first). The detail is always "system returned
 * <status>", so 32512 with EPERM can be told from a shell that really ran
 * and exited 127. If errno stayed 0 (e.g. the shell ran but failed), the
 * line has "errno":null,"errno_num":0.
 */
#include "fbc.h"

int main(void)
{
	int status, err;

	errno = 0;
	status = system("exit 0");
	err = errno;

	if (status == 0)
		fbc_ok("system returned 0");
	fbc_error(err, "system returned %d", status);
}
