/*
 * errnames.h - errno number -> name, shared by the API probes (fbc.h) and the
 * runner (exec_errno).
 *
 * Names, not numbers, go into the JSON so that the catalogue reads like the
 * glibc sources ("EPERM", "ENOSYS"). The table is built from the libc's own
 * macros, so it is right for whichever libc compiles it; glibc 2.31 has no
 * strerrorname_np, and musl has none at all.
 *
 * Aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP) share a number with EAGAIN,
 * EDEADLK and EOPNOTSUPP on Linux; the table gives the latter names.
 */
#ifndef FBC_ERRNAMES_H
#define FBC_ERRNAMES_H

#include <errno.h>
#include <stdio.h>

#define FBC_E(name) [name] = #name

static const char *const fbc_errno_names[] = {
	/* asm-generic/errno-base.h */
	FBC_E(EPERM), FBC_E(ENOENT), FBC_E(ESRCH), FBC_E(EINTR), FBC_E(EIO),
	FBC_E(ENXIO), FBC_E(E2BIG), FBC_E(ENOEXEC), FBC_E(EBADF), FBC_E(ECHILD),
	FBC_E(EAGAIN), FBC_E(ENOMEM), FBC_E(EACCES), FBC_E(EFAULT), FBC_E(ENOTBLK),
	FBC_E(EBUSY), FBC_E(EEXIST), FBC_E(EXDEV), FBC_E(ENODEV), FBC_E(ENOTDIR),
	FBC_E(EISDIR), FBC_E(EINVAL), FBC_E(ENFILE), FBC_E(EMFILE), FBC_E(ENOTTY),
	FBC_E(ETXTBSY), FBC_E(EFBIG), FBC_E(ENOSPC), FBC_E(ESPIPE), FBC_E(EROFS),
	FBC_E(EMLINK), FBC_E(EPIPE), FBC_E(EDOM), FBC_E(ERANGE),
	/* asm-generic/errno.h */
	FBC_E(EDEADLK), FBC_E(ENAMETOOLONG), FBC_E(ENOLCK), FBC_E(ENOSYS),
	FBC_E(ENOTEMPTY), FBC_E(ELOOP), FBC_E(ENOMSG), FBC_E(EIDRM), FBC_E(ECHRNG),
	FBC_E(EL2NSYNC), FBC_E(EL3HLT), FBC_E(EL3RST), FBC_E(ELNRNG), FBC_E(EUNATCH),
	FBC_E(ENOCSI), FBC_E(EL2HLT), FBC_E(EBADE), FBC_E(EBADR), FBC_E(EXFULL),
	FBC_E(ENOANO), FBC_E(EBADRQC), FBC_E(EBADSLT), FBC_E(EBFONT), FBC_E(ENOSTR),
	FBC_E(ENODATA), FBC_E(ETIME), FBC_E(ENOSR), FBC_E(ENONET), FBC_E(ENOPKG),
	FBC_E(EREMOTE), FBC_E(ENOLINK), FBC_E(EADV), FBC_E(ESRMNT), FBC_E(ECOMM),
	FBC_E(EPROTO), FBC_E(EMULTIHOP), FBC_E(EDOTDOT), FBC_E(EBADMSG),
	FBC_E(EOVERFLOW), FBC_E(ENOTUNIQ), FBC_E(EBADFD), FBC_E(EREMCHG),
	FBC_E(ELIBACC), FBC_E(ELIBBAD), FBC_E(ELIBSCN), FBC_E(ELIBMAX),
	FBC_E(ELIBEXEC), FBC_E(EILSEQ), FBC_E(ERESTART), FBC_E(ESTRPIPE),
	FBC_E(EUSERS), FBC_E(ENOTSOCK), FBC_E(EDESTADDRREQ), FBC_E(EMSGSIZE),
	FBC_E(EPROTOTYPE), FBC_E(ENOPROTOOPT), FBC_E(EPROTONOSUPPORT),
	FBC_E(ESOCKTNOSUPPORT), FBC_E(EOPNOTSUPP), FBC_E(EPFNOSUPPORT),
	FBC_E(EAFNOSUPPORT), FBC_E(EADDRINUSE), FBC_E(EADDRNOTAVAIL),
	FBC_E(ENETDOWN), FBC_E(ENETUNREACH), FBC_E(ENETRESET), FBC_E(ECONNABORTED),
	FBC_E(ECONNRESET), FBC_E(ENOBUFS), FBC_E(EISCONN), FBC_E(ENOTCONN),
	FBC_E(ESHUTDOWN), FBC_E(ETOOMANYREFS), FBC_E(ETIMEDOUT), FBC_E(ECONNREFUSED),
	FBC_E(EHOSTDOWN), FBC_E(EHOSTUNREACH), FBC_E(EALREADY), FBC_E(EINPROGRESS),
	FBC_E(ESTALE), FBC_E(EUCLEAN), FBC_E(ENOTNAM), FBC_E(ENAVAIL), FBC_E(EISNAM),
	FBC_E(EREMOTEIO), FBC_E(EDQUOT), FBC_E(ENOMEDIUM), FBC_E(EMEDIUMTYPE),
	FBC_E(ECANCELED), FBC_E(ENOKEY), FBC_E(EKEYEXPIRED), FBC_E(EKEYREVOKED),
	FBC_E(EKEYREJECTED), FBC_E(EOWNERDEAD), FBC_E(ENOTRECOVERABLE),
	FBC_E(ERFKILL), FBC_E(EHWPOISON),
};

#undef FBC_E

/* Unknown numbers (and 0) come back as "E<n>", e.g. "E999": never NULL. */
static inline const char *fbc_errno_name(int err)
{
	static char unknown[16];

	if (err > 0 && (size_t)err < sizeof fbc_errno_names / sizeof fbc_errno_names[0] &&
	    fbc_errno_names[err])
		return fbc_errno_names[err];
	snprintf(unknown, sizeof unknown, "E%d", err);
	return unknown;
}

#endif
