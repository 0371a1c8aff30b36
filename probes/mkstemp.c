/*
 * mkstemp - mkstemp in /tmp (the working directory if /tmp is unusable),
 *           then unlink.
 *
 * New syscall: getrandom (318/355), GRND_NONBLOCK, for the name's random
 *              bits. 2.31: never (clock only). 2.33-2.39: only from the
 *              second draw on (a name collision), since "consume less
 *              entropy" (f430293d): the first name uses the clock. 2.40+:
 *              every name draws from getrandom first (gnulib sync 686d5420).
 * Fallback:    ANY getrandom failure is tolerated: clock bits instead.
 * Source:      sysdeps/posix/tempname.c (random_bits, __gen_tempname).
 */
#include <unistd.h>

#include "fbc.h"

static const char *const templates[] = { "/tmp/fbc-mkstemp-XXXXXX", "fbc-mkstemp-XXXXXX" };

int main(void)
{
	char path[64];
	int fd = -1, err = 0;

	for (size_t i = 0; fd < 0 && i < sizeof templates / sizeof templates[0]; i++) {
		snprintf(path, sizeof path, "%s", templates[i]);
		errno = 0;
		fd = mkstemp(path);
		err = errno;
	}
	if (fd < 0)
		fbc_error(err, "mkstemp failed in /tmp and in the working directory");
	unlink(path);
	close(fd);
	fbc_ok("mkstemp created and opened a new file");
}
