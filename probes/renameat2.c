/*
 * renameat2 - renameat2 a fresh file to a new name with flags 0, or with
 *             "noreplace": RENAME_NOREPLACE (the target does not exist).
 *
 * New syscall: renameat2 (316/353), for flags != 0 only: flags 0 use the
 *              old renameat syscall (glibc 2.28+, without __ASSUME_RENAMEAT2,
 *              i.e. kernel < 3.15 minimum, as Debian builds).
 * Fallback:    none for flags != 0: ENOSYS becomes EINVAL ("all flags are
 *              unknown"); any other error is returned as is (EPERM).
 * Source:      sysdeps/unix/sysv/linux/renameat2.c.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	unsigned int flags = argc > 1 && strcmp(argv[1], "noreplace") == 0 ? RENAME_NOREPLACE : 0;
	char from[64], to[72];
	int fd, rc, err;

	fd = fbc_scratch_file("renameat2", from, sizeof from);
	close(fd);
	snprintf(to, sizeof to, "%s.to", from);

	errno = 0;
	rc = renameat2(AT_FDCWD, from, AT_FDCWD, to, flags);
	err = errno;
	unlink(from);
	unlink(to);
	if (rc != 0)
		fbc_error(err, "renameat2(flags %s) returned %d", flags ? "RENAME_NOREPLACE" : "0", rc);
	fbc_ok("renameat2(flags %s) renamed a file", flags ? "RENAME_NOREPLACE" : "0");
}
