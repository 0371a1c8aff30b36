/*
 * stat - stat, fstat, lstat or fstatat (argv[1]; default "stat") on "/".
 *
 * New syscall: i386 only: statx (383), tried first since glibc 2.33
 *              (FSTATAT_USE_STATX on 32-bit kABIs); every stat variant ends
 *              in __fstatat64_time64. x86_64 uses newfstatat/fstat and never
 *              statx, so there the probe must work under any statx filter.
 * Fallback:    on ENOSYS only: the old fstatat64 syscall (2.33 always; 2.34+
 *              unless __ASSUME_STATX, i.e. in every Debian build). Any other
 *              statx error is returned (-1/EPERM).
 *              A dynamically linked i386 probe never gets here under an
 *              EPERM statx: ld.so cannot stat libc.so.6 (loader.toml).
 * Source:      sysdeps/unix/sysv/linux/fstatat64.c, fstat64.c, stat64.c,
 *              lstat64.c (glibc 2.33+).
 *
 * "errno-after" (id stat.errno_after): stat("/"), and on success errno as the call left it
 * (0 before the call). The statx fallback is an INTERNAL_SYSCALL, which never writes errno.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fbc.h"

int main(int argc, char **argv)
{
	const char *variant = argc > 1 ? argv[1] : "stat";
	int errno_after = strcmp(variant, "errno-after") == 0;
	struct stat st;
	int rc, fd = -1, left;

	memset(&st, 0, sizeof st);
	errno = 0;
	if (strcmp(variant, "stat") == 0 || errno_after) {
		rc = stat("/", &st);
	} else if (strcmp(variant, "lstat") == 0) {
		rc = lstat("/", &st);
	} else if (strcmp(variant, "fstatat") == 0) {
		rc = fstatat(AT_FDCWD, "/", &st, 0);
	} else if (strcmp(variant, "fstat") == 0) {
		fd = open("/", O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			fbc_broken("open(\"/\"): %s", strerror(errno));
		rc = fstat(fd, &st);
	} else {
		fbc_broken("unknown variant %s (stat|fstat|lstat|fstatat|errno-after)", variant);
	}
	left = errno;
	if (rc != 0)
		fbc_error(errno, "%s(\"/\") failed", variant);
	if (!S_ISDIR(st.st_mode))
		fbc_error(0, "%s(\"/\") returned 0 but st_mode 0%o is not a directory",
			  variant, (unsigned)st.st_mode);
	if (errno_after)
		fbc_ok_errno_after(left, "stat(\"/\") returned 0, errno %s after it", left ? fbc_errno_name(left) : "0");
	fbc_ok("%s(\"/\") returned 0, a directory", variant);
}
