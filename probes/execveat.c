/*
 * execveat - open this probe's own binary and execveat(fd, "", ...,
 *            AT_EMPTY_PATH) it with "--exec-ok"; the new image reports ok.
 *
 * New syscall: execveat (322/358); the wrapper exists since glibc 2.34
 *              ("absent" before).
 * Fallback:    none: a thin wrapper, the filter's errno is returned as is.
 *              (fexecve, unlike it, falls back to /proc/self/fd: row 13.)
 * Source:      sysdeps/unix/sysv/linux/execveat.c.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fbc.h"

extern char **environ;

typedef int (*execveat_fn)(int dirfd, const char *path, char *const argv[],
			   char *const envp[], int flags);

int main(int argc, char **argv)
{
	execveat_fn fn = (execveat_fn)FBC_SYM(execveat);
	char *exec_argv[] = { argv[0], "--exec-ok", NULL };
	int fd;

	if (argc > 1 && strcmp(argv[1], "--exec-ok") == 0)
		fbc_ok("execveat ran this probe again");
	if (!fn)
		fbc_absent("execveat");

	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		fbc_broken("open(%s): %s", argv[0], strerror(errno));
	errno = 0;
	fn(fd, "", exec_argv, environ, AT_EMPTY_PATH);
	fbc_error(errno, "execveat(fd of %s, \"\", AT_EMPTY_PATH) returned", argv[0]);
}
