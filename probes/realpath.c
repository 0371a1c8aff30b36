/*
 * realpath - realpath("/usr/bin/"), or with "dotdot": realpath("/usr/bin/../lib").
 *
 * New syscall: faccessat2 (439), reached since glibc 2.33: the rewritten
 *              stdlib/canonicalize.c checks a trailing "/" and a ".." after a
 *              non-symlink with file_accessible() = faccessat(AT_FDCWD, dir,
 *              F_OK, AT_EACCESS), and faccessat tries faccessat2 first.
 * Fallback:    in faccessat, on ENOSYS only (the old faccessat syscall for
 *              a process that is not set-uid); any other error makes realpath return NULL
 *              with that errno (EPERM under a deny filter).
 * Source:      stdlib/canonicalize.c (file_accessible, dir_check),
 *              sysdeps/unix/sysv/linux/faccessat.c.
 */
#include <limits.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	const char *path = "/usr/bin/", *want = "/usr/bin";
	char buf[PATH_MAX];

	if (argc > 1 && strcmp(argv[1], "dotdot") == 0) {
		path = "/usr/bin/../lib";
		want = "/usr/lib";
	}

	errno = 0;
	if (realpath(path, buf) == NULL)
		fbc_error(errno, "realpath(\"%s\") returned NULL", path);
	if (strcmp(buf, want) != 0)
		fbc_error(0, "realpath(\"%s\") gave \"%s\", not \"%s\"", path, buf, want);
	fbc_ok("realpath(\"%s\") = \"%s\"", path, buf);
}
