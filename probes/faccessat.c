/*
 * faccessat - faccessat(AT_FDCWD, "/", F_OK, flags), one variant per flags.
 *
 * New syscall: faccessat2 (439), tried first since glibc 2.33, for every
 *              flags value, 0 included (musl uses it only for flags != 0).
 * Fallback:    on ENOSYS only: the old faccessat syscall (flags 0, and
 *              AT_EACCESS in a process that is not set-uid/set-gid), or a
 *              userspace check built on fstatat (set-uid callers,
 *              AT_SYMLINK_NOFOLLOW). Any other
 *              faccessat2 error is returned (-1/EPERM under a deny filter).
 *              realpath() reaches the AT_EACCESS variant, bash's test -x too.
 * Source:      sysdeps/unix/sysv/linux/faccessat.c.
 *
 * Variants (argv[1]): none -> id "faccessat"; "eaccess" -> "faccessat.eaccess".
 */
#include <fcntl.h>
#include <unistd.h>

#include "fbc.h"

static const struct variant {
	const char *name;	/* argv[1], NULL for the default */
	int flags;
	const char *flags_text;
} variants[] = {
	{ NULL, 0, "0" },
	{ "eaccess", AT_EACCESS, "AT_EACCESS" },
};

int main(int argc, char **argv)
{
	const struct variant *v = NULL;

	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		const char *name = variants[i].name;

		if ((argc < 2 && !name) || (argc >= 2 && name && strcmp(argv[1], name) == 0))
			v = &variants[i];
	}
	if (!v)
		fbc_broken("unknown variant '%s' (known: eaccess)", argv[1]);

	if (faccessat(AT_FDCWD, "/", F_OK, v->flags) != 0)
		fbc_error(errno, "faccessat(AT_FDCWD, \"/\", F_OK, %s) failed", v->flags_text);
	fbc_ok("faccessat(AT_FDCWD, \"/\", F_OK, %s) returned 0", v->flags_text);
}
