/*
 * getaddrinfo_a - getaddrinfo_a(GAI_WAIT) of "127.0.0.1" with AI_NUMERICHOST
 *                 (no network, no NSS), then gai_error on the request.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34 when the request
 *              queue starts a detached helper thread to run getaddrinfo.
 * Fallback:    clone, on ENOSYS only. If no helper thread can be created and
 *              none is running, the request is dropped and getaddrinfo_a
 *              returns EAI_SYSTEM; errno is what the failed thread creation
 *              left (clone3's errno).
 * Source:      resolv/gai_misc.c (__gai_enqueue_request),
 *              sysdeps/nptl/gai_misc.h (__gai_create_helper_thread),
 *              resolv/getaddrinfo_a.c.
 *
 * glibc < 2.34 keeps getaddrinfo_a in libanl, which the probe build does not
 * link: fbc_sym_in finds it in libc, else in libanl.so.1.
 */
#include <netdb.h>
#include <sys/socket.h>

#include "fbc.h"

typedef __typeof__(getaddrinfo_a) gai_a_fn;
typedef __typeof__(gai_error) gai_error_fn;

int main(void)
{
	gai_a_fn *gai_a = (gai_a_fn *)fbc_sym_in("libanl.so.1", "getaddrinfo_a");
	gai_error_fn *gai_err = (gai_error_fn *)fbc_sym_in("libanl.so.1", "gai_error");
	struct addrinfo hints;
	struct gaicb req, *list[1] = { &req };
	int rc;

	if (!gai_a || !gai_err)
		fbc_absent("getaddrinfo_a");

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_INET;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST;
	memset(&req, 0, sizeof req);
	req.ar_name = "127.0.0.1";
	req.ar_request = &hints;

	errno = 0;
	rc = gai_a(GAI_WAIT, list, 1, NULL);
	if (rc == EAI_SYSTEM)
		fbc_error(errno, "getaddrinfo_a returned EAI_SYSTEM");
	if (rc != 0)
		fbc_error(0, "getaddrinfo_a returned %d (%s)", rc, gai_strerror(rc));
	rc = gai_err(&req);
	if (rc != 0)
		fbc_error(0, "getaddrinfo_a returned 0, but gai_error gave %d (%s)", rc, gai_strerror(rc));
	if (req.ar_result == NULL || req.ar_result->ai_family != AF_INET)
		fbc_error(0, "the request completed without an AF_INET result");
	fbc_ok("getaddrinfo_a resolved 127.0.0.1 on its helper thread");
}
