/*
 * lchmod - lchmod(path, 0600) on a fresh regular file.
 *
 * New syscall: fchmodat2 (452), tried first since glibc 2.39 (lchmod is
 *              fchmodat(AT_FDCWD, path, mode, AT_SYMLINK_NOFOLLOW)).
 * Fallback:    on ENOSYS only: open with O_PATH and chmod /proc/self/fd/N
 *              (what 2.32-2.38 always did; EOPNOTSUPP for symlinks or
 *              without /proc). Any other fchmodat2 error is returned.
 *              Before 2.32 lchmod is a stub that fails with ENOSYS.
 * Source:      sysdeps/unix/sysv/linux/fchmodat.c, io/lchmod.c.
 *
 * Looked up with FBC_SYM: calling the 2.31 stub directly would draw the
 * linker's "lchmod is not implemented" warning, and a 2.31 build must still
 * reach the real lchmod of a newer libc at run time.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "fbc.h"

typedef int (*lchmod_fn)(const char *path, mode_t mode);

int main(void)
{
	lchmod_fn fn = (lchmod_fn)FBC_SYM(lchmod);
	char path[64];
	const char *where;
	int fd, rc, err;

	if (!fn)
		fbc_absent("lchmod");

	fd = fbc_scratch_file("lchmod", path, sizeof path);
	close(fd);
	/* The detail names the place, never the random file name (rows must compare). */
	where = path[0] == '/' ? "<new file in /tmp>" : "<new file in cwd>";

	rc = fn(path, 0600);
	err = errno;
	unlink(path);

	if (rc != 0)
		fbc_error(err, "lchmod(%s, 0600) failed", where);
	fbc_ok("lchmod(%s, 0600) returned 0", where);
}
