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
 * Variants (argv[1]): none -> id "faccessat"; "eaccess" -> "faccessat.eaccess";
 * "errno-after" -> "faccessat.errno_after": flags 0, and on success errno as the call left
 * it (0 before the call): the fallback goes through INLINE_SYSCALL, which sets errno to
 * ENOSYS and leaves it there when the old faccessat then succeeds.
 */
#include <fcntl.h>
#include <unistd.h>

#include "fbc.h"

static const struct variant {
	const char *name;	/* argv[1], NULL for the default */
	int flags;
	const char *flags_text;
	int errno_after;	/* report errno after a successful call */
} variants[] = {
	{ NULL, 0, "0", 0 },
	{ "eaccess", AT_EACCESS, "AT_EACCESS", 0 },
	{ "errno-after", 0, "0", 1 },
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
		fbc_broken("unknown variant '%s' (known: eaccess, errno-after)", argv[1]);

	errno = 0;
	if (faccessat(AT_FDCWD, "/", F_OK, v->flags) != 0)
		fbc_error(errno, "faccessat(AT_FDCWD, \"/\", F_OK, %s) failed", v->flags_text);
	if (v->errno_after)
		fbc_ok_errno_after(errno, "faccessat(AT_FDCWD, \"/\", F_OK, 0) returned 0, errno %s after it",
				   errno ? fbc_errno_name(errno) : "0");
	fbc_ok("faccessat(AT_FDCWD, \"/\", F_OK, %s) returned 0", v->flags_text);
}
