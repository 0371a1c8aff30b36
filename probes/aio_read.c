/*
 * aio_read - POSIX AIO: aio_read of one byte from a pipe, then aio_suspend
 *            (no timeout: the runner's limit is the timeout) and aio_return.
 *
 * New syscall: clone3 (435), tried first since glibc 2.34 when the request
 *              queue starts a helper thread to do the read.
 * Fallback:    clone, on ENOSYS only. If no helper thread can be created and
 *              none is running, the request is removed and aio_read returns
 *              -1 with errno = pthread_create's result (EPERM).
 * Source:      rt/aio_misc.c (__aio_enqueue_request: "__set_errno (result)"),
 *              sysdeps/nptl/aio_misc.h (__aio_create_helper_thread).
 *
 * A pipe needs no file system; the helper's pread gets ESPIPE and glibc
 * retries with read (rt/aio_misc.c). glibc < 2.34 keeps aio_* in librt,
 * which the probe build does not link: fbc_sym_in finds them in libc, else
 * in librt.so.1.
 */
#include <aio.h>
#include <unistd.h>

#include "fbc.h"

typedef __typeof__(aio_read) aio_read_fn;
typedef __typeof__(aio_suspend) aio_suspend_fn;
typedef __typeof__(aio_return) aio_return_fn;
typedef __typeof__(aio_error) aio_error_fn;

int main(void)
{
	aio_read_fn *rd = (aio_read_fn *)fbc_sym_in("librt.so.1", "aio_read");
	aio_suspend_fn *suspend = (aio_suspend_fn *)fbc_sym_in("librt.so.1", "aio_suspend");
	aio_return_fn *ret = (aio_return_fn *)fbc_sym_in("librt.so.1", "aio_return");
	aio_error_fn *err = (aio_error_fn *)fbc_sym_in("librt.so.1", "aio_error");
	const struct aiocb *list[1];
	struct aiocb cb;
	char byte = 0;
	int fds[2];
	ssize_t n;

	if (!rd || !suspend || !ret || !err)
		fbc_absent("aio_read");
	if (pipe(fds) != 0 || write(fds[1], "x", 1) != 1)
		fbc_broken("pipe/write: %s", strerror(errno));

	memset(&cb, 0, sizeof cb);
	cb.aio_fildes = fds[0];
	cb.aio_buf = &byte;
	cb.aio_nbytes = 1;
	cb.aio_sigevent.sigev_notify = SIGEV_NONE;
	if (rd(&cb) != 0)
		fbc_error(errno, "aio_read returned -1");

	list[0] = &cb;
	while (suspend(list, 1, NULL) != 0)
		if (errno != EINTR)
			fbc_error(errno, "aio_read queued, but aio_suspend failed");
	if (err(&cb) != 0)
		fbc_error(err(&cb), "aio_read queued, but the request failed");
	n = ret(&cb);
	if (n != 1 || byte != 'x')
		fbc_error(0, "aio_read completed with %zd (byte 0x%02x)", n, byte);
	fbc_ok("aio_read of a pipe completed on its helper thread");
}
