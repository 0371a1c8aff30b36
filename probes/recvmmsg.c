/*
 * recvmmsg - receive one queued datagram from an AF_UNIX socketpair,
 *            MSG_DONTWAIT (so it can never block).
 *
 * New syscall: i386 only: recvmmsg_time64 (417), always tried first since
 *              glibc 2.33 (with or without a timeout).
 * Fallback:    on ENOSYS only: recvmmsg via socketcall (or the recvmmsg
 *              syscall with __ASSUME_RECVMMSG_SYSCALL). Any other error is
 *              returned (-1/EPERM).
 * Source:      sysdeps/unix/sysv/linux/recvmmsg.c (glibc 2.33+).
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fbc.h"

int main(void)
{
	char buf[8];
	struct iovec iov = { buf, sizeof buf };
	struct mmsghdr msg;
	int sv[2], n;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != 0)
		fbc_broken("socketpair(AF_UNIX, SOCK_DGRAM): %s", strerror(errno));
	if (send(sv[1], "fbc", 3, 0) != 3)
		fbc_broken("send: %s", strerror(errno));

	memset(&msg, 0, sizeof msg);
	msg.msg_hdr.msg_iov = &iov;
	msg.msg_hdr.msg_iovlen = 1;
	n = recvmmsg(sv[0], &msg, 1, MSG_DONTWAIT, NULL);
	if (n < 0)
		fbc_error(errno, "recvmmsg(MSG_DONTWAIT) with one datagram queued failed");
	if (n != 1 || msg.msg_len != 3 || memcmp(buf, "fbc", 3) != 0)
		fbc_error(0, "recvmmsg returned %d (len %u), not the queued datagram",
			  n, msg.msg_len);
	fbc_ok("recvmmsg(MSG_DONTWAIT) received the queued datagram");
}
