/*
 * popen - popen("exit 0", "r"), then pclose, which must report status 0.
 *
 * New syscall: clone3 (435), through posix_spawn (popen spawns /bin/sh with
 *              posix_spawn since glibc 2.29; posix_spawn tries clone3 first
 *              since 2.34).
 * Fallback:    clone, on ENOSYS (2.34+) or EINVAL (2.38+) only. Any other
 *              error: popen returns NULL, with errno ENOMEM on <= 2.37 (the
 *              spawn error was dropped) and the spawn's error (EPERM) on
 *              2.38+ (BZ 29016).
 * Source:      libio/iopopen.c (spawn_process), sysdeps/unix/sysv/linux/spawni.c.
 */
#include <sys/wait.h>

#include "fbc.h"

int main(void)
{
	FILE *fp;
	int status;

	errno = 0;
	fp = popen("exit 0", "r");
	if (fp == NULL)
		fbc_error(errno, "popen(\"exit 0\", \"r\") returned NULL");

	status = pclose(fp);
	if (status == -1)
		fbc_error(errno, "popen succeeded, but pclose returned -1");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fbc_error(0, "popen succeeded, but pclose gave status 0x%x", (unsigned)status);
	fbc_ok("popen(\"exit 0\") and pclose: status 0");
}
