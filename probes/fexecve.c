/*
 * fexecve - open this probe's own binary and fexecve it with "--exec-ok";
 *           the new image reports ok, so a failed fexecve is all that stays.
 *
 * New syscall: execveat (322/358) with AT_EMPTY_PATH, tried first since
 *              glibc 2.27 (without __ASSUME_EXECVEAT, i.e. kernel < 3.19
 *              minimum, as Debian builds).
 * Fallback:    on ENOSYS only: execve("/proc/self/fd/N") (ENOSYS if /proc
 *              is not mounted). Any other execveat error is returned (EPERM).
 * Source:      sysdeps/unix/sysv/linux/fexecve.c.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fbc.h"

extern char **environ;

int main(int argc, char **argv)
{
	char *exec_argv[] = { argv[0], "--exec-ok", NULL };
	int fd;

	if (argc > 1 && strcmp(argv[1], "--exec-ok") == 0)
		fbc_ok("fexecve ran this probe again");

	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		fbc_broken("open(%s): %s", argv[0], strerror(errno));
	errno = 0;
	fexecve(fd, exec_argv, environ);
	fbc_error(errno, "fexecve(%s) returned", argv[0]);
}
