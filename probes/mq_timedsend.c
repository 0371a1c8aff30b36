/*
 * mq_timedsend - with "y2038": open a fresh POSIX message queue (unlinked at
 *                once), then __mq_timedsend_time64 with an absolute timeout of
 *                2^31 s (does not fit 32 bits); the queue has room, so it does
 *                not wait. With "y2038 receive": mq_send one message, then
 *                __mq_timedreceive_time64 (same timeout); a message is there.
 *
 * New syscall: i386 only: mq_timedsend_time64 (418), mq_timedreceive_time64
 *              (419), since glibc 2.32.
 * Fallback:    2.34+: only when the timeout does not fit 32 bits
 *              (need_time64); then ENOSYS -> EOVERFLOW, any other error
 *              returned. mq_send (no timeout) uses the 32-bit mq_timedsend.
 * Source:      sysdeps/unix/sysv/linux/mq_timedsend.c, mq_timedreceive.c.
 *
 * The _time64 entries are GLIBC_2.34, in libc; the mq_* functions were in
 * librt before 2.34, which the probe build does not link: fbc_sym_in.
 */
#include <fcntl.h>
#include <mqueue.h>
#include <stdint.h>
#include <unistd.h>

#include "fbc.h"
#include "lapi.h"

typedef int (*send64_fn)(mqd_t, const char *, size_t, unsigned, const struct ts64 *);
typedef ssize_t (*recv64_fn)(mqd_t, char *, size_t, unsigned *, const struct ts64 *);
typedef mqd_t (*open_fn)(const char *, int, ...);
typedef int (*unlink_fn)(const char *);
typedef int (*send_fn)(mqd_t, const char *, size_t, unsigned);

#define RT(name) fbc_sym_in("librt.so.1", #name)

int main(int argc, char **argv)
{
	int receive = argc > 2 && strcmp(argv[2], "receive") == 0;
	send64_fn send64 = (send64_fn)RT(__mq_timedsend_time64);
	recv64_fn recv64 = (recv64_fn)RT(__mq_timedreceive_time64);
	open_fn mqopen = (open_fn)RT(mq_open);
	unlink_fn mqunlink = (unlink_fn)RT(mq_unlink);
	send_fn mqsend = (send_fn)RT(mq_send);
	struct ts64 t = { INT64_C(1) << 31, 0, 0 };
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 16 };
	char name[64], buf[16];
	mqd_t q;
	long n;

	if (!receive && !send64)
		fbc_absent("__mq_timedsend_time64");
	if (receive && !recv64)
		fbc_absent("__mq_timedreceive_time64");
	if (!mqopen || !mqunlink || !mqsend)
		fbc_broken("mq_open/mq_unlink/mq_send not found");
	snprintf(name, sizeof name, "/fbc-mq-%ld", (long)getpid());
	q = mqopen(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (q == (mqd_t)-1)
		fbc_broken("mq_open(%s): %s", name, strerror(errno));
	mqunlink(name);

	if (!receive) {
		n = send64(q, "x", 1, 0, &t);
		if (n != 0)
			fbc_error(errno, "__mq_timedsend_time64(timeout 2^31 s) to an empty queue failed");
		fbc_ok("__mq_timedsend_time64(timeout 2^31 s) queued the message");
	}
	if (mqsend(q, "x", 1, 0) != 0)
		fbc_broken("mq_send: %s", strerror(errno));
	errno = 0;	/* success is a length, and glibc then tests errno != ENOSYS */
	n = recv64(q, buf, sizeof buf, NULL, &t);
	if (n < 0)
		fbc_error(errno, "__mq_timedreceive_time64(timeout 2^31 s) with a message queued failed");
	if (n != 1 || buf[0] != 'x')
		fbc_error(0, "__mq_timedreceive_time64 returned %ld, not the 1-byte message", n);
	fbc_ok("__mq_timedreceive_time64(timeout 2^31 s) returned the queued message");
}
