/*
 * access - access("/", F_OK), or with "euidaccess": euidaccess("/", F_OK).
 *          Controls for faccessat2: neither reaches it.
 *
 * New syscall: none. access() uses the access syscall where it exists
 *              (x86_64, i386). glibc's euidaccess/eaccess stat the path
 *              first (F_OK ends there), then use access() when uid == euid
 *              and gid == egid: NOT faccessat2.
 * Fallback:    not needed; a deny filter on faccessat2 must not matter.
 * Source:      sysdeps/unix/sysv/linux/access.c, sysdeps/posix/euidaccess.c.
 */
#include <unistd.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	int eu = argc > 1 && strcmp(argv[1], "euidaccess") == 0;

	errno = 0;
	if ((eu ? euidaccess("/", F_OK) : access("/", F_OK)) != 0)
		fbc_error(errno, "%s(\"/\", F_OK) failed", eu ? "euidaccess" : "access");
	fbc_ok("%s(\"/\", F_OK) = 0", eu ? "euidaccess" : "access");
}
