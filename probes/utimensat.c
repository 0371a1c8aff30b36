/*
 * utimensat - set a fresh file's times to 2001-09-09 (fits 32 bits); with
 *             "y2038", through the 64-bit time API, to 2040-01-01.
 *
 * New syscall: i386 only: utimensat_time64 (412), since glibc 2.31.
 * Fallback:    2.31-2.33: always first; ENOSYS -> 32-bit utimensat
 *              (EOVERFLOW if a time does not fit), other errors returned.
 *              2.34+: only when a time (not UTIME_NOW/OMIT) does not fit
 *              32 bits; then ENOSYS -> EOVERFLOW, other errors returned.
 * Source:      sysdeps/unix/sysv/linux/utimensat.c.
 *
 * __utimensat64 (GLIBC_2.34, the _TIME_BITS=64 entry) is looked up: before
 * 2.34 there is none ("absent").
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fbc.h"
#include "lapi.h"

#define Y2001 1000000000LL	/* 2001-09-09T01:46:40Z */

typedef int (*utimensat64_fn)(int, const char *, const struct ts64 *, int);

int main(int argc, char **argv)
{
	int y2038 = argc > 1 && strcmp(argv[1], "y2038") == 0;
	utimensat64_fn utimensat64 = (utimensat64_fn)FBC_SYM(__utimensat64);
	const char *what = y2038 ? "__utimensat64(2040-01-01)" : "utimensat(2001-09-09)";
	char path[64];
	int fd, rc, err;

	if (y2038 && !utimensat64)
		fbc_absent("__utimensat64");
	fd = fbc_scratch_file("utimensat", path, sizeof path);
	close(fd);

	if (y2038) {
		struct ts64 t[2] = { { Y2040, 0, 0 }, { Y2040, 0, 0 } };

		rc = utimensat64(AT_FDCWD, path, t, 0);
	} else {
		struct timespec t[2] = { { Y2001, 0 }, { Y2001, 0 } };

		rc = utimensat(AT_FDCWD, path, t, 0);
	}
	err = errno;
	unlink(path);
	if (rc != 0)
		fbc_error(err, "%s on a new file failed", what);
	fbc_ok("%s on a new file returned 0", what);
}
