/*
 * libc_version - which glibc is this? Not a probe of an API: the harness runs it once
 * per image, unconfined, to learn the libc the image's loader gives every dynamic probe.
 *
 * It needs nothing in the image but glibc itself (no shell, no getconf): images with
 * only libc6, "distroless" style, are identified too. In an image without glibc the
 * loader named in this binary is missing and execve fails with ENOENT, which the harness
 * reads as "no glibc here".
 *
 * Output: {"libc":"glibc 2.36"}; exit 0.
 * Source: confstr(_CS_GNU_LIBC_VERSION), posix/confstr.c (glibc), "glibc " VERSION.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	char buf[64];
	size_t n = confstr(_CS_GNU_LIBC_VERSION, buf, sizeof buf);

	if (n == 0 || n > sizeof buf) {
		printf("{\"libc\":null}\n");
		return 1;
	}
	printf("{\"libc\":\"%s\"}\n", buf);
	return 0;
}
