/*
 * arc4random - arc4random_buf of 32 bytes (a fresh process: the first call
 *              must get entropy from the kernel).
 *
 * New syscall: getrandom (318/355), used since arc4random appeared in glibc
 *              2.36 ("absent" before); 2.41+ on x86_64 go through the vDSO
 *              getrandom, which still issues the syscall to seed its state.
 * Fallback:    /dev/urandom, on ENOSYS only; any other getrandom error is
 *              fatal: __libc_fatal("Fatal glibc error: cannot get entropy
 *              for arc4random") -> SIGABRT. Version traps: the 2.36 tarball
 *              (size_t l) never sees the failure; the 2.39 tarball
 *              (BZ 31612) aborts on ENOSYS too. Fixed on the release
 *              branches (Debian 12 carries the 2.36 fix).
 * Source:      stdlib/arc4random.c (__arc4random_buf, arc4random_getrandom_failure).
 */
#include "fbc.h"

typedef void (*arc4random_buf_fn)(void *buf, size_t n);

int main(void)
{
	arc4random_buf_fn fn = (arc4random_buf_fn)FBC_SYM(arc4random_buf);
	unsigned char buf[32];
	size_t i, zero = 0;

	if (!fn)
		fbc_absent("arc4random_buf");

	memset(buf, 0, sizeof buf);
	fn(buf, sizeof buf);	/* no error return: it works or aborts */
	for (i = 0; i < sizeof buf; i++)
		zero += buf[i] == 0;
	if (zero == sizeof buf)
		fbc_error(0, "arc4random_buf returned, but left all %zu bytes zero", sizeof buf);
	fbc_ok("arc4random_buf filled %zu bytes", sizeof buf);
}
